"""Score fusion: dense and keyword candidate lists merged into one ranking of hits.

A convex combination of min-max normalized scores; measured on XQuAD-vi it beats reciprocal
rank fusion (recall@1 0.955 vs 0.928, `python -m benchmarks.xquad_eval`), so it is the default.

>>> from assistant.types import Passage
>>> a, b, c = (Passage(f"{x}:0", x, 0, 0, 1, x) for x in "abc")
>>> [h.chunk.chunk_id for h in ScoreFusion().run([(a, 0.9), (b, 0.8), (c, 0.1)], [(b, 5.0)])]
['b:0', 'a:0', 'c:0']
>>> ScoreFusion(method="mean")
Traceback (most recent call last):
...
assistant.retrieve.fusion.FusionError: phương pháp kết hợp điểm 'mean' không được hỗ trợ; chọn một trong: minmax, rrf
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from assistant.errors import AssistantError
from assistant.types import Hit, Passage

METHODS = ("minmax", "rrf")
# Equal weights: the XQuAD-vi sweep in benchmarks/xquad_eval.py found 1:1 best within ±0.005 recall@1.
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# Chunks about other provinces when the question names some: chosen on dev_qa comparisons (issue 2); to be
# re-fitted with the answer stage's data (see docs/answer_quality.md).
OTHER_PROVINCE_PENALTY = 0.35
RRF_K = 60  # the constant of Cormack et al. (2009), used unchanged by most RRF implementations


class FusionError(AssistantError, ValueError):
    """Fusion parameters the fusion cannot use; the message names the supported values."""


@dataclass(frozen=True)
class ScoreFusion:
    """Merge dense and keyword candidates into hits, best first; other provinces are penalized.

    >>> ScoreFusion(dense_weight=2.0).dense_weight
    2.0
    """

    method: str = "minmax"
    dense_weight: float = DENSE_WEIGHT
    lexical_weight: float = LEXICAL_WEIGHT
    other_province_penalty: float = OTHER_PROVINCE_PENALTY
    rrf_k: int = RRF_K

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise FusionError(f"phương pháp kết hợp điểm {self.method!r} không được hỗ trợ; "
                              f"chọn một trong: {', '.join(METHODS)}")
        if self.dense_weight < 0 or self.lexical_weight < 0 or self.dense_weight + self.lexical_weight == 0:
            raise FusionError("trọng số dense và lexical phải ≥ 0 và không cùng bằng 0, "
                              f"không phải {self.dense_weight}, {self.lexical_weight}")
        if not 0.0 <= self.other_province_penalty <= 1.0:
            raise FusionError(f"hệ số phạt tỉnh khác phải trong [0, 1], không phải {self.other_province_penalty}")
        if self.rrf_k <= 0:
            raise FusionError(f"rrf_k phải là số dương, không phải {self.rrf_k}")

    def run(self, dense: Sequence[tuple[Passage, float]], lexical: Sequence[tuple[Passage, float]],
            provinces: Sequence[str] = ()) -> list[Hit]:
        """Fused hits from (passage, score) lists (each best first or not); `provinces` are the asked ones."""
        hits: dict[str, Hit] = {}
        dense_best: dict[str, tuple[Passage, float]] = {}
        for rec, s in dense:  # a passage can come from several dense queries: keep its best score
            if rec.chunk_id not in dense_best or s > dense_best[rec.chunk_id][1]:
                dense_best[rec.chunk_id] = (rec, s)
        dense_sorted = sorted(dense_best.values(), key=lambda x: -x[1])
        lexical_sorted = sorted(lexical, key=lambda x: -x[1])
        for rank, ((rec, s), norm) in enumerate(zip(dense_sorted, self._normalize(dense_sorted))):
            h = hits.setdefault(rec.chunk_id, Hit(rec, 0.0))
            h.dense, h.dense_rank = s, rank
            h.score += self.dense_weight * norm
        for rank, ((rec, s), norm) in enumerate(zip(lexical_sorted, self._normalize(lexical_sorted))):
            h = hits.setdefault(rec.chunk_id, Hit(rec, 0.0))
            h.lexical, h.lexical_rank = s, rank
            h.score += self.lexical_weight * norm
        if provinces:
            asked = set(provinces)
            for h in hits.values():
                if not asked & set(h.chunk.provinces):
                    h.score *= self.other_province_penalty
        return sorted(hits.values(), key=lambda h: -h.score)

    def _normalize(self, ranked: Sequence[tuple[Passage, float]]) -> list[float]:
        if self.method == "rrf":
            return [1.0 / (self.rrf_k + r + 1) for r in range(len(ranked))]
        return minmax([s for _, s in ranked])


def minmax(scores: Sequence[float]) -> list[float]:
    """Scores rescaled to [0, 1] within one result list (1 = best of this query)."""
    if not scores:
        return []
    hi, lo = max(scores), min(scores)
    if hi - lo < 1e-12:
        return [1.0] * len(scores)
    return [(s - lo) / (hi - lo) for s in scores]
