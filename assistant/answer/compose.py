"""Write the answer for the reader: the figure first (its year, achieved or target), then the quotes with [n].

Only figures copied from the quoted sentences appear in the text, so the answer can never state a
number that is not in a source.

>>> from assistant.answer.features import candidate_spans
>>> from assistant.types import Hit, Passage
>>> from assistant.vi.question import analyze
>>> text = "Năm 2021, kinh tế số Tiền Giang đạt 8,59% GRDP."
>>> hits = [Hit(Passage("a:0", "a", 0, 0, len(text), text, province="Tiền Giang"), 1.0)]
>>> print(compose(analyze("Kinh tế số Tiền Giang chiếm bao nhiêu % GRDP?"), hits, candidate_spans(hits)).answer)
8,59% (năm 2021, đã đạt) [1]
“Năm 2021, kinh tế số Tiền Giang đạt 8,59% GRDP.” [1]
"""
from __future__ import annotations

import re
from typing import Sequence

from assistant.answer.features import (Span, counts_noun, figure_context, figure_index, has_expected, nearest_cue,
                                       question_years)
from assistant.types import ABSTAIN_PREFIX, Answer, Citation, Hit
from assistant.vi import figures as figs
from assistant.vi.question import QuestionInfo
from assistant.vi.textnorm import fold

_YEAR = re.compile(r"\b(?:19[5-9]\d|20\d\d)\b")
# "Tỉnh nào …?": the reader needs the place named on each line.
_WHICH_PLACE = re.compile(r"\b(?:tinh nao|dia phuong nao|noi nao|tinh thanh nao|thanh pho nao|o dau)\b")
# "… cao nhất?": a ranking the corpus can only give among the articles it holds.
_SUPERLATIVE = re.compile(r"\b(?:cao nhat|thap nhat|nhieu nhat|it nhat|dan dau|dung dau|tot nhat|lon nhat"
                          r"|nho nhat|kem nhat|manh nhat|nhanh nhat)\b")


def asks_which_place(info: QuestionInfo) -> bool:
    """'Tỉnh nào …?' or 'ở đâu?'."""
    return bool(_WHICH_PLACE.search(info.folded))


def asks_superlative(info: QuestionInfo) -> bool:
    """'… cao nhất?', 'dẫn đầu', …: a ranking question."""
    return bool(_SUPERLATIVE.search(info.folded))


def key_figure(info: QuestionInfo, text: str) -> figs.Figure | None:
    """The figure of the asked kind in a sentence, the one whose neighbouring words match the question best."""
    if not info.expects or info.expects == "doc":
        return None
    found = [f for f in figs.extract_figures(text) if f.is_quantity and has_expected(info, [f])]
    if not found:
        return None
    return max(found, key=lambda f: figure_fit(info, text, f))


def figure_fit(info: QuestionInfo, text: str, f: figs.Figure) -> tuple:
    """How well a figure of a sentence answers: it belongs to the index asked, is of the year asked, counts the
    thing asked, is of the kind asked ("bao nhiêu dịch vụ" wants a count, not the share beside it), and its clause
    has the question's words."""
    before, after = figure_context(text, f)  # the words of its own clause: what this figure measures
    counted = bool(info.count_noun) and counts_noun(text, f, info.count_noun)
    asked = question_years(info)
    of_year = bool(asked) and figure_status(text, f)[0] in asked  # "năm 2030 … bao nhiêu?": 25%, not 2025's 15%
    # "DTI … (xếp thứ 39/63), … ICT Index … (xếp thứ 7/63)": a DTI question wants the 39/63.
    of_index = not info.indices or figure_index(text, f) in info.indices | {""}
    return of_index, of_year, counted, f.kind == info.expects, len(set(info.focus) & (before | after)), -f.start


def figure_status(text: str, f: figs.Figure, article_date: str = "") -> tuple[str, str]:
    """(year, 'đã đạt' | 'mục tiêu' | '') of a figure: the year of its clause, and the cue words before it.

    Without a cue, a year after the article's own year is a target and an earlier one a result.
    """
    # "đến năm 2025 … chiếm 15% (đến năm 2030 đạt 25%)": the year before a figure, in its clause, is its year.
    clause_start = max(text.rfind(c, 0, f.start) for c in ";(")
    before = [m.group() for m in _YEAR.finditer(text, max(clause_start, 0), f.start)]
    # "9/63, tăng 8 bậc so với năm 2021": the year a figure is compared with is not its year; and in "10% GRDP và
    # 30% vào năm 2030" the year after the next figure is that figure's.
    end = _clause_end(text, f.end)
    stop = min([end] + [f.end + g.start for g in figs.extract_figures(text[f.end:end]) if g.is_quantity])
    after = [m.group() for m in _YEAR.finditer(text, f.end) if m.start() < stop
             and not _COMPARED.search(fold(text[max(f.end, m.start() - COMPARED_WINDOW):m.start()]))]
    # "… 30% vào năm 2030": a year right after the figure is its own, whatever year came before it.
    attached = _ATTACHED_YEAR.match(fold(text[f.end:f.end + ATTACHED_WINDOW]))
    year = attached.group(1) if attached and not _COMPARED.search(attached.group()[:attached.start(1)]) \
        else before[-1] if before else after[0] if after else ""
    # Cue words after a figure belong to the figures after them ("chiếm 8,59%, mục tiêu năm 2025 là 15%").
    # The figure's own words count too: the extractor keeps "tối thiểu 10%", "hạng 9/63" whole.
    cue = nearest_cue(text[max(clause_start, 0):f.end]) or nearest_cue(text[:f.end])
    if cue is None and year and article_date[:4].isdigit():
        cue = "target" if year > article_date[:4] else "achieved" if year < article_date[:4] else None
    return year, {"target": "mục tiêu", "achieved": "đã đạt"}.get(cue or "", "")


_COMPARED = re.compile(r"\b(?:so voi|hon|gap)(?:\s+(?:cung ky|nam|thang|quy))?\s*$")
# At most two words, then "(vào|đến|trong) (cuối) năm YYYY", right after a figure ("30% vào năm 2030",
# "15% GRDP năm 2025"); the window is the longest such lead-in in characters.
_ATTACHED_YEAR = re.compile(r"\s*(?:[^\W\d_]+\s+){0,2}?(?:(?:vao|den|toi|trong)\s+)?(?:cuoi\s+)?nam\s+((?:19|20)\d\d)\b")
ATTACHED_WINDOW = 40
COMPARED_WINDOW = 20  # characters before a year: "so với cùng kỳ năm " is the longest lead-in


def _clause_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find(c, pos) for c in ";()") if i >= 0]
    return min(ends) if ends else len(text)


# A later quote's figure is stated first (and badged) only when its clause shares this many of the question's
# words: one shared word is often a folded homograph ("đạt"/"đặt") beside an unrelated figure.
MIN_SHARED_FOCUS = 2


def _key_figure_of(info: QuestionInfo, s: Span) -> tuple[figs.Figure | None, str, str]:
    """(the span's key figure, its year, its status), or (None, "", "")."""
    f = key_figure(info, s.text)
    return (f, *figure_status(s.text, f, s.hit.chunk.date)) if f is not None else (None, "", "")


def compose(info: QuestionInfo, hits: Sequence[Hit], spans: Sequence[Span], *, by_province: bool = False,
            note: str = "") -> Answer:
    """Answer text: a figure-first line when a figure is asked, then each quote with [n]; one citation per chunk.

    When the question names a year, the quote whose figure is of that year comes first, and then only
    figures of that year lead; a later quote's figure leads only when its clause names what was asked.
    """
    asked = question_years(info)
    figured = [(s, _key_figure_of(info, s)) for s in spans]
    if asked and not by_province:  # stable: the selector's order otherwise
        figured.sort(key=lambda pair: pair[1][1] not in asked)
    first_in_year = bool(asked) and bool(figured) and figured[0][1][1] in asked
    focus = set(info.focus)
    citations: dict[str, Citation] = {}
    lines: list[str] = []
    leads: list[str] = []
    keys: list[str] = []
    first: figs.Figure | None = None  # the figure that answers, from the best quote
    for s, (f, year, status) in figured:
        c = s.hit.chunk
        cit = citations.get(c.chunk_id)
        if cit is None:
            cit = citations[c.chunk_id] = Citation(
                n=len(citations) + 1, article_id=c.article_id, chunk_id=c.chunk_id, title=c.title,
                province=c.province, date=c.date, url=c.url, quote=s.text, text=c.text, source=c.source,
                quote_start=s.start, quote_end=s.end)
        else:  # a second quote from the same chunk: widen the cited span to cover both
            lo, hi = min(cit.quote_start, s.start), max(cit.quote_end, s.end)
            cit.quote_start, cit.quote_end, cit.quote = lo, hi, c.text[lo:hi]
        quote = s.text
        if s.start > 0 and not _starts_sentence(c.text, s.start):
            quote = "…" + quote
        if s.end < len(c.text) and c.text[s.end - 1] not in ".!?…”\"":
            quote = quote + "…"
        place = f"{c.province}: " if by_province and c.province else ""
        if f is not None and not by_province and first is not None:
            before, after = figure_context(s.text, f)
            if ((f.kind, f.unit) != (first.kind, first.unit)  # another unit: another quantity, not a second answer
                    or len(focus & (before | after)) < MIN_SHARED_FOCUS
                    or (first_in_year and year not in asked)):
                f = None
        first = first or f
        lead = ""
        if f is not None:
            detail = ", ".join(x for x in (f"năm {year}" if year else "", status) if x)
            lead = f"{f.text}" + (f" ({detail})" if detail else "") + f" [{cit.n}]"
            keys.append(f.text)
        if by_province:  # one block per province: its figure, then its quote
            lines.append(f"{place}{lead}\n“{quote}” [{cit.n}]" if lead else f"{place}“{quote}” [{cit.n}]")
        else:
            leads += [lead] if lead else []
            lines.append(f"“{quote}” [{cit.n}]")
    head = [note] if note else []
    if leads:
        head.append("; ".join(leads))
    return Answer(question=info.text, answer="\n".join(head + lines), abstained=False,
                  citations=sorted(citations.values(), key=lambda x: x.n), kind="answer", key_figures=keys)


NO_FIGURE_FOR_YEAR = "Bài viết không nêu số liệu cho năm"


def year_note(info: QuestionInfo, spans: Sequence[Span]) -> str:
    """'Bài viết chỉ có số liệu năm 2021 …' when the asked year is in none of the quotes but other years are."""
    asked = question_years(info)
    if not asked or not info.expects:
        return ""
    stated = {y for s in spans for y in _YEAR.findall(s.text)}
    if not stated or stated & asked:
        return ""
    return (f"{NO_FIGURE_FOR_YEAR} {', '.join(sorted(asked))}; số liệu có trong nguồn là của năm "
            f"{', '.join(sorted(stated))}:")


def says_what_the_corpus_has(answer_text: str) -> bool:
    """True for an answer that opens by saying the asked year is not in the sources and gives the years that are:
    the right outcome, like an abstention, for a question the corpus cannot answer (DESIGN.md)."""
    return answer_text.startswith(NO_FIGURE_FOR_YEAR)


def coverage_note(provinces: Sequence[str]) -> str:
    """The caveat of a ranking question: only the provinces of the articles held are compared."""
    return (f"Lưu ý: chỉ so sánh trong các bài viết hiện có (về {', '.join(provinces)}), "
            "không phải bảng xếp hạng toàn quốc.")


def missing_note(provinces: Sequence[str]) -> str:
    """The line of a comparison for the named provinces none of whose retrieved sentences answers
    (asked on its own, a province gets passages of its own: the line says so)."""
    names = ", ".join(provinces)
    return f"Chưa tìm thấy câu trả lời cho {names} trong các đoạn tìm được; hãy hỏi riêng về {names}."


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t")
    return not before or before[-1] in ".!?…\n:”\""


def abstention(info: QuestionInfo, hits: Sequence[Hit], missing_provinces: str) -> Answer:
    """A plain 'not found' answer; the nearest sources are still listed in `retrieved`."""
    about = f" về {missing_provinces}" if missing_provinces else ""
    if not missing_provinces and info.provinces:
        about = f" về câu hỏi này cho {', '.join(info.provinces)}"
    text = (f"{ABSTAIN_PREFIX}{about} trong các bài viết hiện có. "
            "Các đoạn gần nhất được liệt kê bên dưới để bạn tự đối chiếu.")
    return Answer(question=info.text, answer=text, abstained=True, kind="abstain")
