"""The keyword store: tokens of each chunk in an SQLite FTS5 table, searched with BM25.

The FTS table lives in the same SQLite file as the catalog, so an article's keyword entries and
its manifest row are committed in one transaction. Tokens come from `assistant.vi.tokens`.
"""
from __future__ import annotations

import sqlite3
from typing import Iterable

from assistant.vi.tokens import lexical_tokens, query_tokens

LEXICAL_VERSION = "2"
FTS_TABLE = "chunk_fts"


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the FTS5 table (idempotent); its rowid equals the chunk's rowid in the catalog."""
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
        "tokens, tokenize=\"unicode61 remove_diacritics 0 tokenchars '.,/%_'\")")


def add(conn: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (rowid, text) pairs; call inside the caller's transaction."""
    conn.executemany(f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (?, ?)",
                     ((rowid, " ".join(lexical_tokens(text))) for rowid, text in rows))


def delete(conn: sqlite3.Connection, rowids: Iterable[int]) -> None:
    """Remove rows from the keyword index; call inside the caller's transaction."""
    conn.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = ?", ((r,) for r in rowids))


def search(conn: sqlite3.Connection, question: str, k: int = 20) -> list[tuple[int, float]]:
    """(rowid, score) of the k best BM25 matches, best first; score is positive, higher is better."""
    toks = query_tokens(question)
    if not toks:
        return []
    expr = " OR ".join('"' + t.replace('"', '""') + '"' for t in toks)
    rows = conn.execute(
        f"SELECT rowid, bm25({FTS_TABLE}) AS s FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? ORDER BY s LIMIT ?",
        (expr, k)).fetchall()
    return [(rowid, -score) for rowid, score in rows]
