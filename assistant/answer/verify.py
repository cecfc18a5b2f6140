"""Check an answer against its sources: every [n] must exist, every figure must be in its cited source.

>>> checks, bad_refs = verify_figures("Đạt 8,59% GRDP [1].", {1: "chiếm 8,59% GRDP của tỉnh"})
>>> [(c.text, c.verified) for c in checks], bad_refs
([('8,59%', True)], [])
"""
from __future__ import annotations

import re

from assistant.vi import figures as figs
from assistant.types import Answer, Citation, FigureCheck

CITATION_MARK = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(text: str) -> list[int]:
    """The citation numbers used in a text, in order of first use."""
    return list(dict.fromkeys(int(m.group(1)) for m in CITATION_MARK.finditer(text)))


def _segments(text: str) -> list[tuple[int, int, list[int]]]:
    """Split at citation marks: (start, end, [n, ...]) where the marks end the segment."""
    out: list[tuple[int, int, list[int]]] = []
    pos = 0
    for m in re.finditer(r"(?:\s*\[\d{1,3}\])+", text):
        out.append((pos, m.start(), [int(x) for x in CITATION_MARK.findall(m.group(0))]))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text), []))
    return out


def verify_figures(answer_text: str, sources: dict[int, str]) -> tuple[list[FigureCheck], list[int]]:
    """Check each figure of the answer against the source(s) cited right after it.

    Returns the checks and the citation numbers that point at no given source.
    """
    bad_refs = [n for n in cited_numbers(answer_text) if n not in sources]
    checks: list[FigureCheck] = []
    segs = _segments(answer_text)
    for i, (s, e, refs) in enumerate(segs):
        # An uncited tail sentence borrows the previous citation only if it has none of its own.
        refs = refs or (segs[i - 1][2] if i and not refs and e == len(answer_text) else [])
        for f in figs.extract_figures(CITATION_MARK.sub(lambda m: " " * len(m.group(0)), answer_text[s:e])):
            if not f.is_quantity:
                continue
            found, where = None, None
            for n in refs:
                if n in sources:
                    found = figs.find_in(f, sources[n])
                    if found is not None:
                        where = n
                        break
            checks.append(FigureCheck(text=f.text, value=f.value, unit=f.unit, verified=found is not None,
                                      citation=where if where is not None else (refs[0] if refs else None),
                                      source_text=found.text if found is not None else ""))
    return checks, bad_refs


def verify_answer(answer: Answer) -> Answer:
    """Fill `answer.figures` and set `flagged` when a figure or a citation does not check out."""
    sources = {c.n: c.text for c in answer.citations}
    quotes = {c.n: c.quote for c in answer.citations}
    checks, bad_refs = verify_figures(answer.answer, sources)
    key = {" ".join(k.split()) for k in answer.key_figures}
    for c in checks:
        c.answers = " ".join(c.text.split()) in key
        c.in_quote = c.citation in quotes and figs.find_in(
            figs.Figure(c.text, 0, len(c.text), c.value, c.unit, ""), quotes[c.citation]) is not None
    answer.figures = checks
    answer.flagged = bool(bad_refs) or any(not c.verified for c in checks)
    if bad_refs:
        answer.notice = (answer.notice + " " if answer.notice else "") + \
            f"Trích dẫn không tồn tại: {', '.join(f'[{n}]' for n in bad_refs)}."
    return answer


def keep_cited(citations: list[Citation], answer_text: str) -> list[Citation]:
    """Only the citations the answer actually uses."""
    used = set(cited_numbers(answer_text))
    return [c for c in citations if c.n in used]
