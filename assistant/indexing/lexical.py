"""The keyword store: tokens of each chunk in a contentless SQLite FTS5 table, searched with BM25.

The FTS table lives in the same SQLite file as the catalog, so an article's keyword entries and
its manifest row are committed in one transaction. Tokens come from `assistant.vi.tokens`. The table
is contentless (`content=''`): it keeps the inverted index only, not a second copy of the tokens, so
a row is deleted by handing FTS5 the tokens it was indexed with, recomputed from the chunk's text
(the same text and LEXICAL_VERSION give the same tokens).
"""
from __future__ import annotations

import sqlite3
from typing import Iterable, Sequence

from assistant.vi.tokens import lexical_tokens, query_tokens

LEXICAL_VERSION = "3"
FTS_TABLE = "chunk_fts"


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the FTS5 table (idempotent); its rowid equals the chunk's rowid in the catalog."""
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
        "tokens, content='', tokenize=\"unicode61 remove_diacritics 0 tokenchars '.,/%_'\")")


def add(conn: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (rowid, text) pairs; call inside the caller's transaction."""
    conn.executemany(f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (?, ?)",
                     ((rowid, " ".join(lexical_tokens(text))) for rowid, text in rows))


def delete(conn: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Remove (rowid, text) pairs, the text they were added with, from the keyword index; inside the
    caller's transaction."""
    conn.executemany(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, tokens) VALUES ('delete', ?, ?)",
                     ((rowid, " ".join(lexical_tokens(text))) for rowid, text in rows))


# The BM25 query: one constant statement, so sqlite3's statement cache prepares it once per connection.
# The catalog embeds the same query in its one-read candidate fetch (`Catalog.candidates`).
SEARCH_SQL = (f"SELECT rowid, bm25({FTS_TABLE}) AS s FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match "
              "ORDER BY s LIMIT :k")


# Query tokens found in more than this share of the chunks are left out of the MATCH: their posting lists are
# most of what BM25 reads ("nam", "so", "tinh") and their idf is near 0. Chosen by benchmarks/lexical_prune.py
# (docs/lexical_prune.json): at 20,000 articles the keyword stage takes 15.6 ms instead of 93 ms (0.2: 38 ms),
# dev_qa recall@1 is unchanged there and on the seeds; pruning forced on XQuAD-vi's small index costs its
# recall@1 0.0025 (3 of 1,190 questions), so small indexes are not pruned (MIN_CHUNKS_TO_PRUNE).
MAX_DF_SHARE = 0.1
# Below this many chunks nothing is left out: the whole query takes ~1 ms there (298 chunks of XQuAD-vi, the same
# file), so pruning would cost small indexes their few recall points for no time saved.
MIN_CHUNKS_TO_PRUNE = 5000
VOCAB_TABLE = "chunk_fts_vocab"


class DocFrequencies:
    """How many chunks hold each token, read from FTS5's own vocabulary and kept per connection and generation
    (frequent tokens recur in most questions; a build's commit changes the generation and empties the cache)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._generation: object = None
        self._df: dict[str, int] = {}
        self.chunks = 0
        # A temp table: it works on read-only connections and needs no change to the index file.
        conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{VOCAB_TABLE} USING fts5vocab(main, {FTS_TABLE}, 'row')")

    def frequent(self, tokens: Sequence[str], generation: object, share: float | None = None,
                 min_chunks: int | None = None) -> set[str]:
        """Those of `tokens` found in more than `share` (default MAX_DF_SHARE) of the chunks; none in an index
        of fewer than `min_chunks` (default MIN_CHUNKS_TO_PRUNE) chunks."""
        share = MAX_DF_SHARE if share is None else share
        min_chunks = MIN_CHUNKS_TO_PRUNE if min_chunks is None else min_chunks
        if generation != self._generation:
            self._df.clear()
            self._generation = generation
            self.chunks = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if self.chunks < min_chunks:
            return set()
        missing = [t for t in dict.fromkeys(tokens) if t not in self._df]
        for t in missing:
            row = self.conn.execute(f"SELECT doc FROM temp.{VOCAB_TABLE} WHERE term = ?", (t,)).fetchone()
            self._df[t] = row[0] if row else 0
        return {t for t in tokens if self._df[t] > share * self.chunks}


def match_expression(question: str, drop: Iterable[str] = ()) -> str | None:
    """The FTS5 MATCH expression of a question: its tokens, quoted, OR-ed; None when it has none.

    >>> match_expression("Tiền Giang 8,59%?")
    '"tien" OR "giang" OR "8,59" OR "%" OR "tien_giang" OR "giang_8,59" OR "8,59_%"'
    >>> match_expression("là gì?") is None
    True
    """
    toks = query_tokens(question)
    skip = set(drop)
    kept = [t for t in toks if t not in skip] or toks  # a question of frequent words only keeps them all
    if not kept:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in kept)


def search(conn: sqlite3.Connection, question: str, k: int = 20, freqs: DocFrequencies | None = None,
           generation: object = None) -> list[tuple[int, float]]:
    """(rowid, score) of the k best BM25 matches, best first; score is positive, higher is better.

    With `freqs`, tokens in more than MAX_DF_SHARE of the chunks are left out of the query.
    """
    drop = freqs.frequent(query_tokens(question), generation) if freqs is not None else ()
    expr = match_expression(question, drop)
    if expr is None:
        return []
    rows = conn.execute(SEARCH_SQL, {"match": expr, "k": k}).fetchall()
    return [(rowid, -score) for rowid, score in rows]
