"""The manifest of the index: articles, chunks, keyword index and build facts in one SQLite file.

SQLite transactions make it the source of truth for what is served: a chunk exists for
retrieval only once its article's row is committed here, so a build killed at any moment
leaves every article either in its previous or in its new state.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    cat = Catalog(Path("index"))
    cat.article_hashes()
    # -> {'000_c8abe304363df3f5': 'ab12...'}
"""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from assistant.vi import gazetteer

from assistant.indexing import lexical
from assistant.ingest.articles import Article
from assistant.types import Passage
from assistant.errors import AssistantError

log = logging.getLogger("assistant")
CATALOG_FILE = "catalog.sqlite"
# 3: chunk text is no longer stored (it is read from the article's text by offset) and the keyword table is
# contentless; an index of schema 2 gets a new catalog, and its vectors, which do not change, are reused.
SCHEMA_VERSION = "3"


class IndexCorruptError(AssistantError, RuntimeError):
    """The index folder exists but cannot be read; rebuilding it fixes this."""


@dataclass(frozen=True)
class ArticleRow:
    """An indexed article as the catalog knows it."""

    id: str
    title: str
    province: str
    date: str
    source: str
    url: str
    text: str
    n_chunks: int
    content_hash: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles(
  id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,
  title TEXT, province TEXT, date TEXT, source TEXT, url TEXT, inferred TEXT, text TEXT NOT NULL,
  indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
  idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  mentions TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
"""
# A chunk's text is its span of the article's text (SQLite's substr counts characters from 1, as Python
# slices count them from 0), so the text is stored once, in `articles`.
_CHUNK_COLUMNS = """c.rowid, c.chunk_id, c.article_id, c.idx, c.start, c.end,
  substr(a.text, c.start + 1, c.end - c.start), c.mentions, a.title, a.province, a.date, a.source, a.url"""
_CHUNK_SELECT = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN articles a ON a.id = c.article_id"
# The chunks of retrieval's candidates in one read: the dense ids and the keyword rowids, each a JSON array, so
# the text is constant and each connection prepares it once. (One statement with the BM25 search inside a CTE
# measured slower: FTS5 ranks the matches more slowly there than as its own statement.)
_CANDIDATE_ROWS_SQL = f"""SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN articles a ON a.id = c.article_id
  WHERE c.chunk_id IN (SELECT value FROM json_each(:ids)) OR c.rowid IN (SELECT value FROM json_each(:rowids))"""


def _passage(row: tuple) -> Passage:
    rowid, chunk_id, article_id, idx, start, end, text, mentions, title, province, date, source, url = row
    return Passage(chunk_id, article_id, idx, start, end, text, title, province, date, source, url, mentions, rowid)


class Catalog:
    """Read and write the manifest; one instance per thread (SQLite connections are not shared)."""

    def __init__(self, index_dir: Path, *, create: bool = True):
        self.path = Path(index_dir) / CATALOG_FILE
        self._doc_freqs: lexical.DocFrequencies | None = None
        if not create and not self.path.is_file():
            raise IndexCorruptError(f"chưa có chỉ mục tại {index_dir}; hãy chạy `python -m assistant index`")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            if create:
                self._create_schema()
            self.conn.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chỉ mục bị hỏng ({self.path.name}: {exc}); hãy chạy "
                                    "`python -m assistant index` để xây dựng lại") from None

    def _create_schema(self) -> None:
        has_meta = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        found = self.get_meta("schema_version") if has_meta else SCHEMA_VERSION
        if found != SCHEMA_VERSION:
            # An index written by another version of this program: a new catalog, filled by the next build.
            log.warning("the index catalog has schema %s, this program writes %s: it is rebuilt from the corpus "
                        "(vectors already in Chroma are reused, not embedded again)", found or "?", SCHEMA_VERSION)
            with self.conn:
                for (name,) in self.conn.execute(
                        "SELECT name FROM sqlite_master WHERE type IN ('table') AND name NOT LIKE 'sqlite_%' "
                        "AND name NOT LIKE '%fts_%'").fetchall():
                    self.conn.execute(f"DROP TABLE IF EXISTS {name}")
        self.conn.executescript(_SCHEMA)
        lexical.create_schema(self.conn)
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            yield self.conn

    # --- build facts -------------------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        """A build fact (model fingerprint, chunker version, generation...)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, conn: sqlite3.Connection, **values: object) -> None:
        """Set build facts inside a transaction."""
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                         [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()])

    def generation(self) -> int:
        """Counter bumped by every committed change; readers reload when it moves."""
        return int(self.get_meta("generation", "0"))

    def bump_generation(self, conn: sqlite3.Connection) -> None:
        """Mark a committed change (inside the same transaction)."""
        conn.execute("INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
                     "DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    # --- articles ----------------------------------------------------------------------------
    def article_state(self) -> dict[str, tuple[str, int, int]]:
        """article id -> (content hash, size, mtime_ns) of every indexed article."""
        return {r[0]: (r[1], r[2], r[3]) for r in
                self.conn.execute("SELECT id, content_hash, size, mtime_ns FROM articles")}

    def article_hashes(self) -> dict[str, str]:
        """article id -> content hash of every indexed article."""
        return {k: v[0] for k, v in self.article_state().items()}

    def mark_all_stale(self, conn: sqlite3.Connection) -> None:
        """Force every article to be re-done by the next pass (chunks keep serving meanwhile)."""
        conn.execute("UPDATE articles SET content_hash = '', size = -1")

    def replace_article(self, conn: sqlite3.Connection, article: Article, chunks: Sequence[Passage],
                        size: int, mtime_ns: int) -> list[str]:
        """Store an article and its chunks (keyword index included); returns the replaced chunk ids."""
        old = self._delete_chunks(conn, article.id)
        conn.execute(
            "INSERT OR REPLACE INTO articles(id, content_hash, path, size, mtime_ns, title, province, date, source,"
            " url, inferred, text, indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (article.id, article.content_hash, str(article.path), size, mtime_ns, article.title, article.province,
             article.date, article.source, article.url, ",".join(article.inferred), article.text, time.time()))
        rows = []
        for c in chunks:
            if article.text[c.start:c.end] != c.text:  # the catalog serves a chunk's text from these offsets
                raise ValueError(f"đoạn {c.chunk_id} không khớp vị trí {c.start}:{c.end} trong bài {article.id}")
            cur = conn.execute(
                "INSERT INTO chunks(chunk_id, article_id, idx, start, end, mentions) VALUES (?,?,?,?,?,?)",
                (c.chunk_id, c.article_id, c.index, c.start, c.end, ",".join(gazetteer.provinces_in(c.text))))
            rows.append((cur.lastrowid, c.text))
        lexical.add(conn, rows)
        return [cid for cid in old if cid not in {c.chunk_id for c in chunks}]

    def touch_article(self, conn: sqlite3.Connection, article_id: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for an article whose content did not change."""
        conn.execute("UPDATE articles SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, article_id))

    def remove_article(self, conn: sqlite3.Connection, article_id: str) -> list[str]:
        """Delete an article, its chunks and keyword entries; returns the removed chunk ids."""
        old = self._delete_chunks(conn, article_id)
        conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return old

    def _delete_chunks(self, conn: sqlite3.Connection, article_id: str) -> list[str]:
        rows = conn.execute(f"{_CHUNK_SELECT} WHERE c.article_id = ?", (article_id,)).fetchall()
        lexical.delete(conn, [(r[0], r[6]) for r in rows])  # the text each row was indexed with
        conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        return [r[1] for r in rows]

    def articles(self) -> list[ArticleRow]:
        """Every indexed article with its chunk count, by title."""
        rows = self.conn.execute(
            "SELECT a.id, a.title, a.province, a.date, a.source, a.url, a.text, count(c.rowid), a.content_hash "
            "FROM articles a LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id ORDER BY a.title").fetchall()
        return [ArticleRow(*r) for r in rows]

    def article(self, article_id: str) -> ArticleRow | None:
        """One indexed article, or None."""
        return next((a for a in self.articles() if a.id == article_id), None)

    def provinces(self) -> list[str]:
        """Distinct provinces of the indexed articles."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT province FROM articles WHERE province != '' ORDER BY province")]

    # --- chunks ------------------------------------------------------------------------------
    def chunk_ids(self) -> set[str]:
        """Ids of every committed chunk."""
        return {r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks")}

    def count_chunks(self) -> int:
        """Number of committed chunks."""
        return self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, Passage]:
        """Committed chunks among `chunk_ids` (vectors of uncommitted chunks are ignored)."""
        out: dict[str, Passage] = {}
        for i in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[i:i + 500])
            q = f"{_CHUNK_SELECT} WHERE c.chunk_id IN ({','.join('?' * len(part))})"
            out.update({r[1]: _passage(r) for r in self.conn.execute(q, part)})
        return out

    def chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, Passage]:
        """Committed chunks by rowid."""
        if not rowids:
            return {}
        q = f"{_CHUNK_SELECT} WHERE c.rowid IN ({','.join('?' * len(rowids))})"
        return {r[0]: _passage(r) for r in self.conn.execute(q, list(rowids))}

    def chunks_of(self, article_id: str) -> list[Passage]:
        """All chunks of one article, in order."""
        return [_passage(r) for r in self.conn.execute(f"{_CHUNK_SELECT} WHERE c.article_id = ? ORDER BY c.idx",
                                                           (article_id,))]

    def iter_chunks(self) -> Iterator[Passage]:
        """Every committed chunk."""
        for r in self.conn.execute(f"{_CHUNK_SELECT} ORDER BY c.article_id, c.idx"):
            yield _passage(r)

    def candidates(self, question: str, dense_ids: Sequence[str], k: int
                   ) -> tuple[dict[str, Passage], list[tuple[Passage, float]]]:
        """Retrieval's candidates: (committed chunks among `dense_ids` by id, the k best BM25 matches of
        `question` as (chunk, score), best first).

        The same results as `chunks_by_id(dense_ids)` and `keyword_search(question, k)`: the BM25
        search (a prepared statement), then one read of the chunks of both, instead of two.
        """
        hits = lexical.search(self.conn, question, k, self._freqs(), self.generation())
        rows = self.conn.execute(_CANDIDATE_ROWS_SQL, {"ids": json.dumps(list(dense_ids)),
                                                       "rowids": json.dumps([r for r, _ in hits])}).fetchall()
        wanted = set(dense_ids)
        by_rowid = {r[0]: _passage(r) for r in rows}
        by_id = {p.chunk_id: p for p in by_rowid.values() if p.chunk_id in wanted}
        return by_id, [(by_rowid[r], s) for r, s in hits if r in by_rowid]

    def _freqs(self) -> lexical.DocFrequencies:
        if self._doc_freqs is None:
            self._doc_freqs = lexical.DocFrequencies(self.conn)
        return self._doc_freqs

    def keyword_search(self, question: str, k: int) -> list[tuple[Passage, float]]:
        """BM25 matches as (chunk, score), best first (the same query as `candidates`)."""
        hits = lexical.search(self.conn, question, k, self._freqs(), self.generation())
        recs = self.chunks_by_rowid([h[0] for h in hits])
        return [(recs[r], s) for r, s in hits if r in recs]
