"""The whole article behind a citation, with where its quote stands in it (for "Xem toàn bài" in the chat).

A citation carries the chunk it quotes and the quote's offsets inside that chunk; the catalog has the article's
text and the chunk's offset in it, so the quote's place in the article is their sum, checked against the text.

>>> c = Citation(1, "a", "a:1:0", "T", "", "", "", "câu hai.", "Câu một. câu hai.", quote_start=9, quote_end=17)
>>> locate_quote("Tiêu đề\\n\\nCâu một. câu hai. Câu ba.", 9, c)
(18, 26)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from assistant.indexing.catalog import Catalog
from assistant.types import Citation


@dataclass(frozen=True)
class ArticleText:
    """A cited article's whole text and the quote's place in it (-1, -1 when it cannot be found)."""

    article_id: str
    text: str
    start: int
    end: int


def citation_key(c: Citation) -> tuple[str, str]:
    """What identifies a citation's quote across an answer and its fallback: the chunk and the quoted text."""
    return c.chunk_id, c.quote


def locate_quote(article: str, chunk_start: int | None, c: Citation) -> tuple[int, int]:
    """The quote's offsets in the article: chunk offset + offset in the chunk when the text agrees, else the
    occurrence of the quote nearest the chunk, else (-1, -1)."""
    if not c.quote:
        return -1, -1
    if chunk_start is not None and 0 <= c.quote_start < c.quote_end:
        s = chunk_start + c.quote_start
        if article[s:s + len(c.quote)] == c.quote:
            return s, s + len(c.quote)
    # The index may have been rebuilt since the answer (offsets moved): take the quote's nearest occurrence.
    hits, pos = [], article.find(c.quote)
    while pos >= 0:
        hits.append(pos)
        pos = article.find(c.quote, pos + 1)
    if not hits:
        return -1, -1
    s = min(hits, key=lambda h: abs(h - (chunk_start or 0)))
    return s, s + len(c.quote)


def article_texts(catalog: Catalog, citations: Sequence[Citation]) -> dict[tuple[str, str], ArticleText]:
    """For each citation whose article is still indexed: its whole text and the quote's place in it."""
    if not citations:
        return {}
    chunks = catalog.chunks_by_id(sorted({c.chunk_id for c in citations}))
    articles = {a.id: a for a in catalog.articles() if a.id in {c.article_id for c in citations}}
    out: dict[tuple[str, str], ArticleText] = {}
    for c in citations:
        a = articles.get(c.article_id)
        if a is None:  # deleted since: the card still shows its passage
            continue
        chunk = chunks.get(c.chunk_id)
        s, e = locate_quote(a.text, chunk.start if chunk else None, c)
        out[citation_key(c)] = ArticleText(a.id, a.text, s, e)
    return out
