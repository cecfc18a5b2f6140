"""The default, offline answer backend: quote the sentences that answer, with [n].

It never writes a figure of its own: every number in its answer is inside a quote taken
verbatim from a retrieved chunk. Which sentence answers, and whether any does, is decided by the
learned `SentenceSelector` over the signals of `features.py`; when no sentence reaches its
threshold, it abstains.

>>> from assistant.types import Passage
>>> from assistant.vi.question import analyze
>>> text = "Năm 2021, kinh tế số Tiền Giang chiếm 8,59% GRDP. Tỉnh có 12 huyện."
>>> hits = [Hit(Passage("a:0", "a", 0, 0, len(text), text, province="Tiền Giang"), 1.0)]
>>> spans = ExtractiveAnswerer().rank(analyze("Kinh tế số Tiền Giang chiếm bao nhiêu phần trăm GRDP năm 2021?"), hits)
>>> max(spans, key=lambda s: s.score).text
'Năm 2021, kinh tế số Tiền Giang chiếm 8,59% GRDP.'
"""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from assistant.answer.compose import (abstention, asks_superlative, asks_which_place, compose, coverage_note,
                                      missing_note, year_note)
from assistant.answer.features import (FEATURES, Span, candidate_spans, eligible, featurize, question_years,
                                       sentence_cues)
from assistant.answer.selector import SentenceSelector
from assistant.types import Answer, Hit
from assistant.vi.question import QuestionInfo, about_one_province, analyze

UNIT_EPS = 1e-12  # guards the division of an all-zero vector
# Hand-set: the result (or target) that completes a figure answer may be half as likely as a second sentence,
# since the question named no year and both belong to the answer (DESIGN.md, "What a good answer is").
BOTH_STATUSES_RATIO = 0.5


class Encoder(Protocol):
    """What the answerer needs of an embedding model (LangChain's `Embeddings` interface)."""

    def embed_query(self, text: str) -> list[float]: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


class ExtractiveAnswerer:
    """Pick and quote the sentences that answer; abstain when none does.

    `encoder` embeds the question and the candidate sentences (the index's e5 model in the app);
    without one the semantic signals are 0 and the selector leans on the others.
    """

    def __init__(self, encoder: Encoder | None = None, selector: SentenceSelector | None = None):
        self.encoder = encoder
        self.selector = selector or SentenceSelector.load()
        self._active = self.selector.for_inputs(encoder is not None)

    def rank(self, info: QuestionInfo, hits: Sequence[Hit]) -> list[Span]:
        """Every candidate span of the hits with `score` = P(it answers), in reading order."""
        spans = candidate_spans(hits)
        if not spans:
            return spans
        qvec, svecs = self._vectors(info.text, [s.text for s in spans])
        rows = featurize(info, hits, spans, qvec, svecs)
        probs = self._active.predict(rows) * eligible(rows)
        for s, p, r in zip(spans, probs, rows):
            s.score, s.row = float(p), r
        return spans

    def run(self, info: QuestionInfo, hits: list[Hit]) -> Answer:
        """Answer `info` from `hits` (already retrieved, best first)."""
        if not hits:
            return abstention(info, hits, "")
        if info.provinces and not _covers_provinces(info, hits):
            missing = ", ".join(p for p in info.provinces if not any(p in h.chunk.provinces for h in hits))
            return abstention(info, hits, missing)
        ranking = asks_superlative(info) and not info.provinces
        by_place = len(info.provinces) > 1 or ranking or (asks_which_place(info) and not info.provinces)
        if len(info.provinces) > 1:
            chosen = self._compare(info, hits)
        else:
            chosen = self._pick(info, hits, by_place)
        if not chosen:
            return abstention(info, hits, "")
        if ranking:
            covered = list(dict.fromkeys(s.hit.chunk.province for s in chosen if s.hit.chunk.province))
            note = coverage_note(covered)
        else:
            note = year_note(info, chosen)
        # A comparison says which named province it found nothing for, instead of leaving it out unsaid.
        unanswered = [p for p in info.provinces if not any(p in s.hit.chunk.provinces for s in chosen)]
        if len(info.provinces) > 1 and unanswered:
            note = "\n".join(x for x in (note, missing_note(unanswered)) if x)
        return compose(info, hits, chosen, by_province=by_place, note=note)

    def _compare(self, info: QuestionInfo, hits: Sequence[Hit]) -> list[Span]:
        """The spans of a comparison: one question per named province, asked of that province's passages
        (the selector and the answer decision were fitted on questions about one place)."""
        chosen: list[Span] = []
        for p in info.provinces:
            one = analyze(about_one_province(info.text, p), normalized=True)
            pool = self.rank(one, [h for h in hits if p in h.chunk.provinces])
            chosen.extend(s for s in self.select(pool, single=False, info=one) if s not in chosen)
        return chosen

    def _pick(self, info: QuestionInfo, hits: Sequence[Hit], by_place: bool) -> list[Span]:
        """The spans of a one-topic question, or one per province of the articles for 'tỉnh nào …'."""
        spans = self.rank(info, hits)
        if by_place:  # "tỉnh nào …": each province the retrieved articles are about gets its line
            groups = [[p] for p in dict.fromkeys(h.chunk.province for h in hits if h.chunk.province)]
        else:
            groups = [info.provinces]
        chosen: list[Span] = []
        for group in groups:
            pool = [s for s in spans if not group or (set(group) & set(s.hit.chunk.provinces) if not by_place
                                                     else s.hit.chunk.province in group)]
            # One topic: whether to answer is decided over every candidate, as the answer model was fitted.
            picked = self.select(pool, single=len(groups) == 1, info=info, decide_on=spans if len(groups) == 1 else None)
            if not picked and by_place:
                picked = _holding_asked_number(pool)
            chosen.extend(s for s in picked if s not in chosen)
        return chosen

    def select(self, pool: Sequence[Span], *, single: bool = True, info: QuestionInfo | None = None,
               decide_on: Sequence[Span] | None = None) -> list[Span]:
        """The best span if the answer model says to answer, and a second one close to it (single-topic answers).

        `decide_on`: the spans the decision to answer looks at (default: the pool). A figure question that
        names no year gets both the result and the target when the sources have both.
        """
        if not pool or max(s.score for s in pool) <= 0:
            return []
        best = max(pool, key=lambda s: s.score)
        basis = decide_on or pool
        if not self._active.should_answer(np.array([s.score for s in basis]), np.stack([s.row for s in basis]), info,
                                          [s.text for s in basis], [s.tokens for s in basis]):
            return []
        out = [best]
        if not single:
            return out
        # The second quote completes the best one from the same article; a figure from another article beside
        # it would read as a second answer (an injected "1.000.000 dịch vụ" next to the real 214).
        rest = [s for s in pool if s is not best and _disjoint(s, best)
                and s.hit.chunk.article_id == best.hit.chunk.article_id
                and " ".join(s.text.split()) != " ".join(best.text.split())]
        second = max(rest, key=lambda s: s.score, default=None)
        if second is not None and second.score > 0 and second.score >= self._active.second_ratio * best.score:
            out.append(second)
        elif info is not None and info.expects and not question_years(info):
            best_target = sentence_cues(best.text)[0]
            other = [s for s in rest if sentence_cues(s.text)[0] != best_target
                     and s.score >= BOTH_STATUSES_RATIO * self._active.second_ratio * best.score]
            if other:
                out.append(max(other, key=lambda s: s.score))
        return out

    def _vectors(self, question: str, texts: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.encoder is None:
            return None, None
        qvec = _unit(np.asarray(self.encoder.embed_query(question), np.float32))
        svecs = np.asarray(self.encoder.embed_documents(texts), np.float32)
        return qvec, svecs / np.maximum(np.linalg.norm(svecs, axis=1, keepdims=True), UNIT_EPS)


def _holding_asked_number(pool: Sequence[Span]) -> list[Span]:
    """The best eligible span holding a number the question names ("Tỉnh nào … 6,42%, tỉnh nào 8,59%?"): that
    figure names its province, though the decision over the province's passages, missing the other figure, says no."""
    col = FEATURES.index("q_number_hit")
    holding = [s for s in pool if s.score > 0 and s.row is not None and s.row[col] > 0]
    return [max(holding, key=lambda s: (s.row[col], s.score))] if holding else []


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), UNIT_EPS)


def _disjoint(a: Span, b: Span) -> bool:
    return a.hit.chunk.article_id != b.hit.chunk.article_id or a.hit.chunk.start + a.end <= b.hit.chunk.start + b.start \
        or b.hit.chunk.start + b.end <= a.hit.chunk.start + a.start


def _covers_provinces(info: QuestionInfo, hits: list[Hit]) -> bool:
    return any(set(info.provinces) & set(h.chunk.provinces) for h in hits)
