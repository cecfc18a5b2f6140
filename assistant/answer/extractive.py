"""The default, offline answer backend: quote the sentences that answer, with [n].

It never writes a figure of its own: every number in its answer is inside a quote taken
verbatim from a retrieved chunk. Which sentence answers, and whether any does, is decided by the
learned `SentenceSelector` over the signals of `features.py`; when no sentence reaches its
threshold, it abstains.

>>> from langchain_core.embeddings import DeterministicFakeEmbedding
>>> from assistant.types import Passage
>>> from assistant.vi.question import analyze
>>> text = "Năm 2021, kinh tế số Tiền Giang chiếm 8,59% GRDP. Tỉnh có 12 huyện."
>>> hits = [Hit(Passage("a:0", "a", 0, 0, len(text), text, province="Tiền Giang"), 1.0)]
>>> bot = ExtractiveAnswerer(DeterministicFakeEmbedding(size=8))
>>> bot.run(analyze("Kinh tế số Tiền Giang chiếm bao nhiêu phần trăm GRDP năm 2021?"), hits).citations[0].quote
'Năm 2021, kinh tế số Tiền Giang chiếm 8,59% GRDP.'
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, Sequence

import numpy as np

from assistant.answer.features import Span, candidate_spans, featurize
from assistant.answer.selector import SentenceSelector
from assistant.types import ABSTAIN_PREFIX, Answer, Citation, Hit
from assistant.vi.question import QuestionInfo

# Sentence vectors kept per process: ~1.5 kB each, so 20,000 cost ~30 MB and cover every sentence of the
# chunks that a busy day's questions retrieve.
SENTENCE_CACHE_SIZE = 20_000


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
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def rank(self, info: QuestionInfo, hits: Sequence[Hit]) -> list[Span]:
        """Every candidate span of the hits with `score` = P(it answers), in reading order."""
        spans = candidate_spans(hits)
        if not spans:
            return spans
        qvec, svecs = self._vectors(info.text, [s.text for s in spans])
        probs = self.selector.predict(featurize(info, hits, spans, qvec, svecs))
        for s, p in zip(spans, probs):
            s.score = float(p)
        return spans

    def run(self, info: QuestionInfo, hits: list[Hit]) -> Answer:
        """Answer `info` from `hits` (already retrieved, best first)."""
        if not hits:
            return abstention(info, hits, "")
        if info.provinces and not _covers_provinces(info, hits):
            missing = ", ".join(p for p in info.provinces if not any(p in h.chunk.provinces for h in hits))
            return abstention(info, hits, missing)
        spans = self.rank(info, hits)
        groups = [[p] for p in info.provinces] if len(info.provinces) > 1 else [info.provinces]
        chosen: list[Span] = []
        for group in groups:
            pool = [s for s in spans if not group or set(group) & set(s.hit.chunk.provinces)]
            picked = self.select(pool, single=len(groups) == 1)
            chosen.extend(s for s in picked if s not in chosen)
        if not chosen:
            return abstention(info, hits, "")
        return compose(info, hits, chosen, by_province=len(groups) > 1)

    def select(self, pool: Sequence[Span], *, single: bool = True) -> list[Span]:
        """The best span if it reaches the threshold, and a second one close to it (single-topic answers)."""
        if not pool:
            return []
        best = max(pool, key=lambda s: s.score)
        if best.score < self.selector.threshold:
            return []
        out = [best]
        if single:
            rest = [s for s in pool if s is not best and _disjoint(s, best)
                    and " ".join(s.text.split()) != " ".join(best.text.split())]
            second = max(rest, key=lambda s: s.score, default=None)
            if second is not None and second.score >= max(self.selector.threshold,
                                                          self.selector.second_ratio * best.score):
                out.append(second)
        return out

    def _vectors(self, question: str, texts: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.encoder is None:
            return None, None
        qvec = _unit(np.asarray(self.encoder.embed_query(question), np.float32))
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for t, v in zip(missing, self.encoder.embed_documents(missing)):
                self._cache[t] = _unit(np.asarray(v, np.float32))
        vecs = []
        for t in texts:
            self._cache.move_to_end(t)
            vecs.append(self._cache[t])
        while len(self._cache) > SENTENCE_CACHE_SIZE:
            self._cache.popitem(last=False)
        return qvec, np.stack(vecs)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


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
