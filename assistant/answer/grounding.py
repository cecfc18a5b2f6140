"""Hold a generative answer to the extractive standard: cited statements, figures attributed, something said.

`verify.verify_answer` checks that each figure is in the source it cites. That lets through an answer
that cites nothing, one that repeats the question with "[1]", and one that gives Tiền Giang a figure
its cited source states for Đồng Tháp. `GroundingCheck` catches those:

- every sentence that states a fact carries [n] (else the answer is flagged);
- a cited figure must sit, in its source, in a sentence about the same province, year and indicator
  as the answer's clause (the fact-checker's context matcher, `features.figure_context`);
- an answer that only restates the question, or says nothing its sources support, is an abstention.

>>> from assistant.answer.verify import verify_answer
>>> from assistant.types import Answer, Citation
>>> src = "Năm 2021, kinh tế số của Đồng Tháp chiếm 6,42% GRDP."
>>> a = Answer("q", "Kinh tế số của Tiền Giang chiếm 6,42% GRDP [1].", False,
...            citations=[Citation(1, "a", "a:0", "t", "Đồng Tháp", "", "", src, src)])
>>> checked = GroundingCheck().run(verify_answer(a), "Kinh tế số Tiền Giang chiếm bao nhiêu phần trăm GRDP?")
>>> checked.flagged, "Đồng Tháp" in checked.notice
(True, True)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.features import figure_context
from assistant.answer.verify import CITATION_MARK
from assistant.ingest.chunking import split_sentences
from assistant.types import ABSTAIN_PREFIX, Answer, Citation
from assistant.vi import figures as figs
from assistant.vi.gazetteer import provinces_in
from assistant.vi.textnorm import fold
from assistant.vi.tokens import QUERY_STOPWORDS, lexical_tokens

# Hand-set, not measured: a reply with at least this share of its words taken from the question restates it
# (the local backend's rule since issue 9; too few restated replies exist to fit it).
RESTATE_MIN_OVERLAP = 0.6
# A sentence with fewer content words than this and no figure is a connective ("Cụ thể:"), not a statement.
MIN_STATEMENT_WORDS = 4
# A sentence is supported by its source when this share of its content words is in the cited text (half,
# the fact-checker's MIN_TOPIC_COVERAGE).
MIN_SUPPORT = 0.5
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"\b(?:19[5-9]\d|20\d\d)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_LEADING_MARKS = re.compile(r"^(?:\[\d{1,3}\]\s*)+")


def sentences(text: str) -> list[str]:
    """The answer's sentences, each with the [n] marks that close it (also when written after the full stop)."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(text.strip()):
        marks = _LEADING_MARKS.match(piece)
        if marks and out:
            out[-1] += " " + marks.group(0).strip()
            piece = piece[marks.end():]
        if piece.strip():
            out.append(piece.strip())
    return out


# Words about the answer itself, not its subject ("Trong các nguồn [1] có thông tin liên quan …"), folded.
META_WORDS = frozenset("nguon thong tin bai viet cau hoi tra loi lien quan de cap neu ro cu the".split())


def _content_words(text: str) -> set[str]:
    return {t for t in lexical_tokens(CITATION_MARK.sub(" ", text), pairs=False)
            if t not in QUERY_STOPWORDS and t not in META_WORDS and not t[:1].isdigit() and t != "%"}


def _quantities(text: str) -> list[figs.Figure]:
    return [f for f in figs.extract_figures(CITATION_MARK.sub(lambda m: " " * len(m.group(0)), text)) if f.is_quantity]


def states_fact(sentence: str) -> bool:
    """A sentence that asserts something checkable: a figure, or enough content words (not an abstention)."""
    body = CITATION_MARK.sub("", sentence).rstrip()
    if fold(sentence).startswith(fold(ABSTAIN_PREFIX)) or body.endswith((":", "?")):
        return False  # a connective, or the question echoed back: nothing asserted
    return bool(_quantities(sentence)) or len(_content_words(sentence)) >= MIN_STATEMENT_WORDS


def restates(reply: str, question: str) -> bool:
    """The reply is made of the question's words: it asks back instead of answering."""
    words = _content_words(reply)
    # Any number the question lacks is new ("nghị quyết số 08" answers "số mấy", though 08 counts nothing).
    new_figures = set(_NUMBER.findall(CITATION_MARK.sub(" ", reply))) - set(_NUMBER.findall(question))
    asked = _content_words(question)
    return not new_figures and (not words or len(words & asked) >= RESTATE_MIN_OVERLAP * len(words))


def _clause(sentence: str, f: figs.Figure) -> str:
    """The clause of the sentence around a figure (between , ; : and sentence ends)."""
    start = max(sentence.rfind(p, 0, f.start) for p in ",;:") + 1
    ends = [i for i in (sentence.find(p, f.end) for p in ",;") if i >= 0]
    return sentence[start:min(ends) if ends else len(sentence)]


def _same_place(clause: str, sentence: str, source_sentence: str, source_province: str) -> str | None:
    """The province the source sentence is about, when the answer's clause gives the figure to another."""
    said = provinces_in(clause) or provinces_in(sentence)
    src = provinces_in(source_sentence) or ([source_province] if source_province else [])
    # Exact names, not today's merged units: the articles predate 2025 (Tiền Giang is now part of Đồng Tháp).
    if not said or not src or set(said) & set(src):
        return None
    return ", ".join(src)


def attribution_problem(sentence: str, f: figs.Figure, cited: Citation) -> str:
    """Why figure `f` of an answer sentence is not what its cited source says ("" when it is)."""
    clause = _clause(sentence, f)
    years = set(_YEAR.findall(clause)) or set(_YEAR.findall(sentence))
    cb, ca = figure_context(sentence, f)
    # What is counted follows a Vietnamese number ("6,42% GRDP"); without it, the words before it, less place names.
    place_words = {t for p in provinces_in(sentence) for t in lexical_tokens(p, pairs=False)}
    measure = ca or (cb - place_words)
    problems = []
    for s, e in split_sentences(cited.text):
        src = cited.text[s:e]
        g = figs.find_in(f, src)
        if g is None:
            continue
        other = _same_place(clause, sentence, src, cited.province)
        src_years = set(_YEAR.findall(src))
        src_words = _content_words(src)
        if other:
            problems.append(f"nguồn [{cited.n}] nêu {f.text} cho {other}")
        elif years and src_years and not years & src_years:
            problems.append(f"nguồn [{cited.n}] nêu {f.text} cho năm {', '.join(sorted(src_years))}")
        elif measure and not measure & src_words:
            problems.append(f"câu chứa {f.text} trong nguồn [{cited.n}] nói về chỉ tiêu khác")
        else:
            return ""
    return problems[0] if problems else ""


@dataclass
class GroundingCheck:
    """Flag uncited statements and misattributed figures; turn a reply that says nothing into an abstention."""

    def run(self, answer: Answer, question: str) -> Answer:
        """Check a verified generative answer (its `figures` filled by `verify_answer`) in place; returns it."""
        if answer.abstained or fold(answer.answer.strip()).startswith(fold(ABSTAIN_PREFIX)):
            answer.abstained, answer.kind = True, "abstain"
            return answer
        by_n = {c.n: c for c in answer.citations}
        notes: list[str] = []
        uncited = [s for s in sentences(answer.answer) if states_fact(s) and not CITATION_MARK.search(s)]
        if uncited:
            notes.append("Câu không có trích dẫn nguồn: «" + uncited[0][:120] + "»")
        wrong: dict[str, str] = {}
        supported = False
        for s in sentences(answer.answer):
            refs = [by_n[int(n)] for n in CITATION_MARK.findall(s) if int(n) in by_n]
            if refs and len(_content_words(s) & set().union(*(_content_words(c.text) for c in refs))) \
                    >= MIN_SUPPORT * max(1, len(_content_words(s))):
                supported = True
            for f in _quantities(s):
                reasons = [attribution_problem(s, f, c) for c in refs]
                if refs and all(reasons):
                    wrong[" ".join(f.text.split())] = reasons[0]
        for c in answer.figures:
            key = " ".join(c.text.split())
            if c.verified and key in wrong:
                c.verified = False
                notes.append(f"{c.text}: {wrong[key]}")
        if restates(answer.answer, question) or not (notes or supported or answer.figures):
            answer.abstained, answer.kind = True, "abstain"
            notes = ["Mô hình không trả lời vào câu hỏi (chỉ nhắc lại câu hỏi hoặc không nêu điều gì nguồn xác nhận)"]
        if notes:
            answer.flagged = answer.flagged or not answer.abstained
            answer.notice = " ".join(x for x in (answer.notice, "; ".join(notes) + ".") if x)
        return answer
