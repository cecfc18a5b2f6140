"""The keyword store: tokens of each chunk in a contentless SQLite FTS5 table, searched with BM25.

The FTS table lives in the same SQLite file as the catalog, so an article's keyword entries and
its manifest row are committed in one transaction. Tokens come from `assistant.vi.tokens`. The table
is contentless (`content=''`): it keeps the inverted index only, not a second copy of the tokens, so
a row is deleted by handing FTS5 the tokens it was indexed with, recomputed from the chunk's text
(the same text and LEXICAL_VERSION give the same tokens).
"""
from __future__ import annotations

import sqlite3
from typing import Iterable

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


def match_expression(question: str) -> str | None:
    """The FTS5 MATCH expression of a question: its tokens, quoted, OR-ed; None when it has none.

    >>> match_expression("Tiền Giang 8,59%?")
    '"tien" OR "giang" OR "8,59" OR "%" OR "tien_giang" OR "giang_8,59" OR "8,59_%"'
    >>> match_expression("là gì?") is None
    True
    """
    toks = query_tokens(question)
    if not toks:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in toks)


def search(conn: sqlite3.Connection, question: str, k: int = 20) -> list[tuple[int, float]]:
    """(rowid, score) of the k best BM25 matches, best first; score is positive, higher is better."""
    expr = match_expression(question)
    if expr is None:
        return []
    rows = conn.execute(SEARCH_SQL, {"match": expr, "k": k}).fetchall()
    return [(rowid, -score) for rowid, score in rows]
