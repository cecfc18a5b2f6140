"""Hybrid retrieval: dense (Chroma, e5) and keyword (FTS5 BM25) candidates, fused, province-aware.

It is a LangChain `BaseRetriever`: `invoke(question, k=..., province=..., provinces=...)` honours
the number of passages and the province filter, and returns Documents that `Hit.from_document`
turns back into hits.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    r = HybridRetriever.from_settings(Settings.from_env())
    [d.id for d in r.invoke("Tiền Giang xếp hạng DTI?", k=3, province="Tiền Giang")]
"""
from __future__ import annotations

from typing import Any, Sequence

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.config import Settings
from assistant.indexing.reader import IndexReader
from assistant.retrieve.fusion import ScoreFusion
from assistant.types import Hit, Passage
from assistant.vi import gazetteer
from assistant.vi.textnorm import fold, normalize_question

# Candidates per retriever before fusion: recall@40 is 1.0 on XQuAD-vi and dev_qa, and more costs query time.
CANDIDATES = 40
# Dense candidates fetched per named province (at least this many, or 2k), so a comparison covers each side.
PER_PROVINCE_CANDIDATES = 8


class HybridRetriever(BaseRetriever):
    """Dense + keyword retrieval with fused scores; at most a few chunks per article; province-aware.

    Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

        docs = retriever.invoke("Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?", k=3)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    reader: Any
    k: int = 5
    max_per_article: int = 3  # the default of ASSISTANT_MAX_CHUNKS_PER_ARTICLE; from_settings passes the setting
    fusion: ScoreFusion = ScoreFusion()
    query_encoder: Any = None  # shares question vectors with the answer stage; default: the reader's embedder

    @classmethod
    def from_settings(cls, settings: Settings, reader: IndexReader | None = None) -> "HybridRetriever":
        """Build a retriever over the configured index."""
        return cls(reader=reader or IndexReader(settings), k=settings.k,
                   max_per_article=settings.max_chunks_per_article)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None, province: str | None = None,
                                provinces: Sequence[str] | None = None) -> list[Document]:
        return [h.to_document() for h in self.search(query, k=k, province=province, provinces=provinces)]

    def search(self, question: str, k: int | None = None, province: str | None = None,
               provinces: Sequence[str] | None = None) -> list[Hit]:
        """The best chunks for a (normalized) question, best first; `provinces` = those it names, if known."""
        k = k or self.k
        if k < 1:
            raise ValueError(f"k phải là số dương, không phải {k}")
        reader: IndexReader = self.reader
        reader.refresh()
        q = normalize_question(question) if provinces is None else question
        if not q:
            return []
        asked = list(gazetteer.provinces_in(q) if provinces is None else provinces)
        if province:
            canon = gazetteer.canonical(province) or province
            asked = [canon] + [p for p in asked if p != canon]
        n = max(CANDIDATES, 4 * k)
        qvec = (self.query_encoder or reader.embeddings).encode_queries([q])[0]
        dense, keyword = _candidates(reader, q, qvec, n, max(PER_PROVINCE_CANDIDATES, 2 * k), asked)
        ranked = self.fusion.run(dense, keyword, asked)
        if province:
            ranked = [h for h in ranked if _matches_province(h, province)]
        return _diversify(ranked, k, self.max_per_article, asked)


def _candidates(reader: IndexReader, q: str, qvec, n: int, m: int, asked: Sequence[str]
                ) -> tuple[list[tuple[Passage, float]], list[tuple[Passage, float]]]:
    """Dense candidates (the n nearest chunks, plus the m nearest of each asked province) and the n best
    keyword matches, as (chunk, score) lists.

    One Chroma query and one catalog read in the common case: the n + m * len(asked) nearest chunks
    hold each province's m nearest whenever they hold m of that province (any nearer one would be
    among them), so the per-province lists are cut from it. A province with fewer than m there, in a
    collection larger than that list, gets its own filtered query, so the candidates are always those
    of one filtered query per province.
    """
    wide = n + m * len(asked)
    found = reader.store.query(qvec, wide)
    recs, keyword = reader.catalog.candidates(q, [cid for cid, _ in found], n)
    committed = [(recs[cid], s) for cid, s in found if cid in recs]
    dense = committed[:n]
    for p in asked:
        of_p = [(rec, s) for rec, s in committed if rec.province == p][:m]
        if len(of_p) < m and len(found) == wide:  # its nearest may lie beyond the wide list
            exact = reader.store.query(qvec, m, where={"province": p})
            more = reader.catalog.chunks_by_id([cid for cid, _ in exact])
            of_p = [(more[cid], s) for cid, s in exact if cid in more]
        dense += of_p
    return dense, keyword


def _matches_province(hit: Hit, province: str) -> bool:
    want = fold(gazetteer.canonical(province) or province)
    return any(fold(p) == want for p in hit.chunk.provinces)


def _diversify(ranked: list[Hit], k: int, max_per_article: int, asked: list[str]) -> list[Hit]:
    """Top k with at most `max_per_article` chunks per article; with several provinces, each gets a turn."""
    per_article: dict[str, int] = {}
    chosen: list[Hit] = []

    def take(h: Hit) -> None:
        per_article[h.chunk.article_id] = per_article.get(h.chunk.article_id, 0) + 1
        chosen.append(h)

    if len(asked) > 1:
        for p in asked:  # the best chunk about each named province first
            best = next((h for h in ranked if h.chunk.province == p and h not in chosen), None)
            if best is not None and len(chosen) < k:
                take(best)
    for h in ranked:
        if len(chosen) >= k:
            break
        if h in chosen or per_article.get(h.chunk.article_id, 0) >= max_per_article:
            continue
        take(h)
    return sorted(chosen, key=lambda h: -h.score)
