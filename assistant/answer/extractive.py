"""The default, offline answer backend: quote the sentences that answer, with [n].

It never writes a figure of its own: every number in its answer is inside a quote taken
verbatim from a retrieved chunk. When no sentence answers, it abstains.

>>> ExtractiveAnswerer().run(analyze("Tiền Giang xếp hạng mấy về kinh tế số?"), hits)   # doctest: +SKIP
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assistant.vi import figures as figs
from assistant.vi import gazetteer
from assistant.types import ABSTAIN_PREFIX, Answer, Citation
from assistant.ingest.chunking import split_sentences
from assistant.vi.tokens import ABBREVIATIONS, lexical_tokens
from assistant.vi.names import person_names
from assistant.vi.question import NAMED_INDICES, QuestionInfo
from assistant.types import Hit
from assistant.vi.textnorm import fold

MAX_QUOTE_CHARS = 320
MIN_COVERAGE = 0.34
SECOND_SENTENCE_RATIO = 0.85


@dataclass(eq=False)
class Span:
    """A candidate quote: a sentence (or the best clause of a long one) inside a retrieved chunk."""

    hit: Hit
    hit_rank: int
    start: int  # offsets inside the chunk text
    end: int
    score: float = 0.0
    coverage: float = 0.0
    word_coverage: float = 0.0  # share of the question's topical words (not pairs) in the span
    pair_hits: int = 0

    @property
    def text(self) -> str:
        """The quoted text."""
        return self.hit.chunk.text[self.start:self.end]


def candidate_spans(hits: list[Hit]) -> list[Span]:
    """Every sentence of the retrieved chunks; over-long sentences are cut into clause windows."""
    spans: list[Span] = []
    for rank, h in enumerate(hits):
        text = h.chunk.text
        for ps, pe in _paragraphs(text):
            for s, e in split_sentences(text, ps, pe):
                if e - s <= MAX_QUOTE_CHARS:
                    spans.append(Span(h, rank, s, e))
                else:
                    spans.extend(Span(h, rank, a, b) for a, b in _clause_windows(text, s, e))
    return spans


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]


def _clause_windows(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Windows of consecutive clauses (split at ';' then ',') no longer than MAX_QUOTE_CHARS."""
    cuts = [s] + [s + m.end() for m in re.finditer(r";\s+|,\s+(?=\D)", text[s:e])] + [e]
    out = []
    for i in range(len(cuts) - 1):
        j = i + 1
        while j + 1 < len(cuts) and cuts[j + 1] - cuts[i] <= MAX_QUOTE_CHARS:
            j += 1
        a, b = cuts[i], cuts[j]
        b = _rstrip_clause(text, a, b)
        if b > a:
            out.append((a, b))
    return out


def _rstrip_clause(text: str, a: int, b: int) -> int:
    while b > a and text[b - 1] in " ,;":
        b -= 1
    return b


class ExtractiveAnswerer:
    """Pick and quote the sentences that answer; abstain when none does.

    >>> answer = ExtractiveAnswerer().run(info, hits)     # doctest: +SKIP
    >>> answer.citations[0].quote                         # doctest: +SKIP
    """

    def run(self, info: QuestionInfo, hits: list[Hit]) -> Answer:
        """Answer `info` from `hits` (already retrieved, best first)."""
        if not hits:
            return abstention(info, hits, "")
        if info.provinces and not _covers_provinces(info, hits):
            missing = ", ".join(p for p in info.provinces if not any(p in h.chunk.provinces for h in hits))
            return abstention(info, hits, missing)
        spans = score_spans(info, hits)
        groups = [[p] for p in info.provinces] if len(info.provinces) > 1 else [info.provinces]
        chosen: list[Span] = []
        for group in groups:
            pool = [s for s in spans if not group or set(group) & set(s.hit.chunk.provinces)]
            best = _best(info, pool)
            if best is None:
                continue
            chosen.append(best)
            second = _best(info, [s for s in pool if s is not best and _disjoint(s, best)
                                  and " ".join(s.text.split()) != " ".join(best.text.split())])
            if second is not None and second.score >= SECOND_SENTENCE_RATIO * best.score and len(groups) == 1:
                chosen.append(second)
        if not chosen:
            return abstention(info, hits, "")
        return compose(info, hits, chosen, by_province=len(groups) > 1)


def score_spans(info: QuestionInfo, hits: list[Hit]) -> list[Span]:
    """Score every candidate span by weighted overlap with the question's focus terms."""
    spans = candidate_spans(hits)
    token_sets = [set(lexical_tokens(s.text)) for s in spans]
    n = len(spans)
    weights: dict[str, float] = {}
    for t in info.focus + info.focus_pairs:
        df = sum(1 for ts in token_sets if t in ts)
        # Local IDF: a term every candidate shares ('kinh te so') says little about which one answers.
        weights[t] = math.log(1 + (n + 1) / (df + 0.5)) * (1.6 if "_" in t else 1.0)
    total = sum(weights.values()) or 1.0
    for s, ts in zip(spans, token_sets):
        matched = sum(w for t, w in weights.items() if t in ts)
        s.pair_hits = sum(1 for t in info.focus_pairs if t in ts)
        words = sum(weights[t] for t in info.focus)
        s.word_coverage = sum(weights[t] for t in info.focus if t in ts) / words if words else 0.0
        s.coverage = matched / total
        score = s.coverage + 0.08 / (1 + s.hit_rank)
        if info.expects:
            if _has_expected(info, figs.extract_figures(s.text)):
                score += 0.12
            else:
                score *= 0.45
        s.score = score
    return spans


def _has_expected(info: QuestionInfo, found: list[figs.Figure]) -> bool:
    """Whether the figures of a sentence include the kind the question asks for."""
    kinds = {f.kind for f in found}
    if info.expects == "number":
        return bool(kinds & figs.QUANTITY_KINDS)
    return info.expects in kinds or (info.expects == "rank" and "number" in kinds)


def _best(info: QuestionInfo, spans: list[Span]) -> Span | None:
    ok = [s for s in spans if _answers(info, s)]
    return max(ok, key=lambda s: s.score) if ok else None


def _answers(info: QuestionInfo, s: Span) -> bool:
    """Whether a span can stand as the answer: on topic, about the asked place and index, with a figure
    when one is asked."""
    if _about_something_else(info, s.text):
        return False
    if info.asks_person and not person_names(s.text):
        return False
    if info.focus_pairs and s.pair_hits == 0 and not (s.word_coverage >= 0.6 and len(info.focus) >= 3):
        return False  # no topical word pair and little else of the question: it is about something else
    if s.coverage < MIN_COVERAGE and info.focus:
        return False
    if info.expects:
        found = figs.extract_figures(s.text)
        if info.expects == "number" and info.count_noun:  # "bao nhiêu người": a figure counting people
            return any(_counts(s.text, f, info.count_noun) for f in found if f.is_quantity)
        return _has_expected(info, found)
    return True


def _about_something_else(info: QuestionInfo, text: str) -> bool:
    """True when the sentence names only other provinces than the asked ones, or only another named index
    (a multi-province article quoted for "Đà Nẵng … DTI" must not answer with Thái Nguyên's PCI rank)."""
    if info.provinces:
        named = gazetteer.provinces_in(text)
        if named and not set(named) & set(info.provinces):
            return True
    if info.indices:
        named_idx = NAMED_INDICES.intersection(lexical_tokens(text, pairs=False))
        if named_idx and not named_idx & info.indices:
            return True
    return False


def _counts(text: str, f: figs.Figure, noun: str) -> bool:
    """True when the figure is followed (within a few words) by the counted noun or its abbreviation."""
    head = noun.split()[0]
    if fold(f.unit).split()[:1] == [head]:
        return True
    after = lexical_tokens(text[f.end:f.end + 40], pairs=False)
    return head in after[:4] + [w for t in after[:2] if t in ABBREVIATIONS for w in ABBREVIATIONS[t].split()[:1]]


def _disjoint(a: Span, b: Span) -> bool:
    return a.hit.chunk.article_id != b.hit.chunk.article_id or a.hit.chunk.start + a.end <= b.hit.chunk.start + b.start \
        or b.hit.chunk.start + b.end <= a.hit.chunk.start + a.start


def _covers_provinces(info: QuestionInfo, hits: list[Hit]) -> bool:
    return any(set(info.provinces) & set(h.chunk.provinces) for h in hits)


def compose(info: QuestionInfo, hits: list[Hit], spans: list[Span], *, by_province: bool) -> Answer:
    """Answer text with [n] after each quote, and one citation per chunk used."""
    citations: dict[str, Citation] = {}
    lines = []
    for s in spans:
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
        lead = f"{c.province}: " if by_province and c.province else ""
        lines.append(f"{lead}{quote} [{cit.n}]")
    return Answer(question=info.text, answer="\n".join(lines), abstained=False,
                  citations=sorted(citations.values(), key=lambda x: x.n), kind="answer")


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t")
    return not before or before[-1] in ".!?…\n:”\""


def abstention(info: QuestionInfo, hits: list[Hit], missing_provinces: str) -> Answer:
    """A plain 'not found' answer; the nearest sources are still listed in `retrieved`."""
    about = f" về {missing_provinces}" if missing_provinces else ""
    if not missing_provinces and info.provinces:
        about = f" về câu hỏi này cho {', '.join(info.provinces)}"
    text = (f"{ABSTAIN_PREFIX}{about} trong các bài viết hiện có. "
            "Các đoạn gần nhất được liệt kê bên dưới để bạn tự đối chiếu.")
    return Answer(question=info.text, answer=text, abstained=True, kind="abstain")
