"""Read access to a built index (catalog + vectors) for serving, reloading when a build commits.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    reader = IndexReader(Settings.from_env())
    reader.refresh()
    # -> False
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from assistant.config import Settings
from assistant.indexing.catalog import CATALOG_FILE, Catalog, IndexCorruptError
from assistant.indexing.embed.embeddings import PrefixedEmbeddings, fingerprint_for, load_embeddings
from assistant.indexing.vectorstore import VectorStore, embedded_store_missing


class IndexReader:
    """Thread-safe read access to the catalog and vectors, reloading when a build commits."""

    def __init__(self, settings: Settings, embeddings: PrefixedEmbeddings | None = None):
        self.settings = settings
        self._path = Path(settings.index_dir) / CATALOG_FILE
        Catalog(settings.index_dir, create=False).close()  # fail early and clearly without an index
        self.embeddings = embeddings or load_embeddings(settings)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._file_id = self._stat()
        self.store = VectorStore.open(settings, fingerprint_for(settings))
        self._generation = self.catalog.generation()

    def _stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            raise IndexCorruptError(f"chỉ mục tại {self.settings.index_dir} đã bị xóa; cần xây dựng lại") from None
        if embedded_store_missing(self.settings):
            raise IndexCorruptError(f"kho vector trong {self.settings.index_dir} đã bị xóa; cần xây dựng lại")
        return st.st_dev, st.st_ino

    @property
    def catalog(self) -> Catalog:
        """This thread's catalog connection (reopened when the catalog file was replaced)."""
        cat, file_id = getattr(self._local, "catalog", None), getattr(self._local, "file_id", None)
        if cat is None or file_id != self._file_id:
            if cat is not None:
                cat.close()
            cat = self._local.catalog = Catalog(self.settings.index_dir, create=False)
            self._local.file_id = self._file_id
        return cat

    def close(self) -> None:
        """Close the vector store and this thread's catalog connection (other threads' close with their thread).

        The store's connection closes once the queries running on it return; the reader is not used after.
        """
        self.store.close()
        cat = getattr(self._local, "catalog", None)
        if cat is not None:
            cat.close()
            self._local.catalog = None

    def refresh(self) -> bool:
        """Reload after another process committed a build; raises IndexCorruptError if the index is gone."""
        file_id = self._stat()
        if file_id != self._file_id:  # the index was deleted and built anew: every connection is stale
            with self._lock:
                self._file_id = file_id
                self.store.reopen()
                self._generation = -1
        try:
            gen = self.catalog.generation()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chỉ mục bị hỏng ({exc}); cần xây dựng lại") from None
        if gen == self._generation:
            return False
        with self._lock:
            if gen != self._generation:
                if not self.settings.chroma_url:
                    self.store.reopen()
                self._generation = gen
        return True
