"""Vectors of the quotable sentences of every chunk, kept beside the index so answers need no model pass.

The answer stage compares the question with each candidate sentence (e5, "passage: " prefix). Embedding
~30 sentences per question costs more than the whole rest of an answer, so the vectors are made once,
after a build, and read back by text hash. A sentence missing from the store is embedded on the spot and
stored. The store is a cache: deleting it, or a crash while it is written, never breaks the index; a
different model fingerprint empties it.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    store = SentenceVectors(Path("index"), "fingerprint")
    encoder = CachedSentenceEncoder(embeddings, store)
    encoder.embed_documents(["Tiền Giang đạt 8,59% GRDP."])
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from assistant.ingest.sentences import quote_windows

SENTENCES_FILE = "sentences.sqlite"
# Question vectors kept per process: the retriever and the answerer ask for the same one.
QUERY_CACHE_SIZE = 256
WARM_BATCH = 256  # sentences per encode call while warming: progress moves, memory stays small


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class SentenceVectors:
    """A persistent map: sentence text → unit vector (float16), for one embedding model."""

    def __init__(self, index_dir: Path, fingerprint: str):
        self.path = Path(index_dir) / SENTENCES_FILE
        self._lock = threading.Lock()
        self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        with self._lock, self.conn:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS vec(key BLOB PRIMARY KEY, v BLOB NOT NULL)")
            row = self.conn.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
            if row is None or row[0] != fingerprint:  # another model: its vectors are not comparable
                self.conn.execute("DELETE FROM vec")
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those texts that have one."""
        keys = {_key(t): t for t in texts}
        out: dict[str, np.ndarray] = {}
        items = list(keys)
        with self._lock:
            for i in range(0, len(items), 500):  # SQLite's bound-parameter limit
                part = items[i:i + 500]
                q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})"
                for k, v in self.conn.execute(q, part):
                    out[keys[bytes(k)]] = np.frombuffer(v, np.float16).astype(np.float32)
        return out

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors (one transaction)."""
        rows = [(_key(t), np.asarray(v, np.float16).tobytes()) for t, v in zip(texts, vectors)]
        with self._lock, self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)

    def count(self) -> int:
        """How many sentence vectors are stored."""
        with self._lock:
            return self.conn.execute("SELECT COUNT(*) FROM vec").fetchone()[0]

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class CachedSentenceEncoder:
    """LangChain-style `embed_query` / `embed_documents` over the index's embedder, reading sentence vectors
    from the store first and remembering recent questions."""

    def __init__(self, embeddings, store: SentenceVectors | None):
        self.embeddings = embeddings
        self.store = store
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_query(self, text: str) -> np.ndarray:
        """The question's vector (cached for the last few questions)."""
        with self._lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                return hit
        vec = self.embeddings.encode_queries([text])[0]
        with self._lock:
            self._queries[text] = vec
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vec

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries as rows (the retriever's interface), through the same cache."""
        return np.stack([self.embed_query(t) for t in texts]) if texts else self.embeddings.encode_queries([])

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors: stored ones read back, the others embedded now and stored."""
        found = self.store.get_many(texts) if self.store is not None else {}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vecs = self.embeddings.encode_passages(missing)
            found.update(zip(missing, vecs))
            if self.store is not None:
                self.store.put_many(missing, vecs)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def __getattr__(self, name: str):
        return getattr(self.embeddings, name)  # everything else (passages, token counts, fingerprint)


def chunk_sentences(texts: Iterable[str]) -> list[str]:
    """The distinct quotable sentences of these chunk texts."""
    return list(dict.fromkeys(t[s:e] for t in texts for s, e, _ in quote_windows(t)))


def warm(store: SentenceVectors, embeddings, chunk_texts: Iterable[str],
         progress: Callable[[int, int], None] | None = None) -> int:
    """Embed and store the sentences of the chunks that the store lacks; returns how many were embedded."""
    sentences = chunk_sentences(chunk_texts)
    have = store.get_many(sentences)
    todo = [s for s in sentences if s not in have]
    for i in range(0, len(todo), WARM_BATCH):
        part = todo[i:i + WARM_BATCH]
        store.put_many(part, embeddings.encode_passages(part))
        if progress:
            progress(min(i + WARM_BATCH, len(todo)), len(todo))
    return len(todo)
