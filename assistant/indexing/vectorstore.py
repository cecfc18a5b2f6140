"""The Chroma collection of chunk vectors: embedded under `index/chroma` or a `chroma run` server.

Embeddings are always passed explicitly (Chroma's default embedding function would download
a model). The collection name carries the model fingerprint, so vectors of two models never mix.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    store = VectorStore.open(settings, "e5-small|...")
    store.query([0.1] * 384, k=5)
    # -> [('000_c8ab...:3', 0.87)]
"""
from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import urlparse

import numpy as np

from assistant.config import Settings
from assistant.errors import AssistantError

CHROMA_DIR = "chroma"


class VectorStoreError(AssistantError, RuntimeError):
    """Chroma cannot be reached or read."""


def embedded_store_missing(settings: Settings) -> bool:
    """True when the embedded vector store's files are gone (index/chroma deleted)."""
    return not settings.chroma_url and not (Path(settings.index_dir) / CHROMA_DIR / "chroma.sqlite3").is_file()


def collection_name(settings: Settings, fingerprint: str) -> str:
    """Collection for a model: '<collection>-<8 hex of the model fingerprint>'."""
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:8]
    return f"{settings.collection}-{digest}"


def make_client(settings: Settings):
    """A Chroma client: HTTP when ASSISTANT_CHROMA_URL is set, else persistent under index/chroma."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        u = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        if not u.hostname:
            raise VectorStoreError(f"ASSISTANT_CHROMA_URL không hợp lệ: {settings.chroma_url!r}")
        try:
            return chromadb.HttpClient(host=u.hostname, port=u.port or (443 if u.scheme == "https" else 8000),
                                       ssl=u.scheme == "https", settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise VectorStoreError(f"không kết nối được máy chủ Chroma {settings.chroma_url}: {exc}") from None
    path = Path(settings.index_dir) / CHROMA_DIR
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise VectorStoreError(f"không mở được kho vector {path}: {exc}") from None


def _forget_cached_system(path: str):
    """Drop Chroma's cached engine of a folder (without stopping it); returns it, or None.

    Chroma caches one engine per folder per process; that engine does not see vectors written by
    another process, so a reader reopening takes a fresh one and stops the old one once idle.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_refcount.pop(path, None)
    return SharedSystemClient._identifier_to_system.pop(path, None)


def _release_freed_memory() -> None:
    """Hand memory freed by a closed engine back to the OS (glibc keeps it in its arenas otherwise).

    Measured with benchmarks.api_latency reopen at 8,444 chunks: without it RSS settles ~100 MB higher after
    a few dozen reopens. A no-op where glibc's malloc_trim does not exist.
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None
_ENGINE_CACHE_LOCK = threading.Lock()  # guards Chroma's process-wide engine cache (SharedSystemClient)


class _Handle:
    """One connection (client, collection, the engine it started) and the calls running on it."""

    def __init__(self, client, collection, system=None):
        self.client, self.collection, self.system = client, collection, system
        self.users = 0
        self.retired = False

    def close(self) -> None:
        """Release the connection: stop the embedded engine it started, close an HTTP client."""
        try:
            if self.system is not None:
                self.system.stop()  # frees the engine's HNSW segments and SQLite connections
            else:
                self.client.close()
        except Exception:  # a connection that cannot close cleanly is dropped all the same
            pass


class VectorStore:
    """Add, delete and query chunk vectors in one Chroma collection.

    `reopen()` swaps in a new connection; the old one is closed as soon as the calls running on it
    return, so a reader reopening after every build holds one connection, not one per build.
    """

    def __init__(self, settings: Settings, name: str):
        self.settings = settings
        self.name = name
        self._lock = threading.Lock()  # guards the handle swap and the use counts (held for microseconds)
        self._reopen_lock = threading.Lock()  # one reopen at a time (it talks to Chroma)
        self._handle: _Handle | None = None
        self.closed_connections = 0  # connections closed so far (the soak benchmark and tests read it)

    @classmethod
    def open(cls, settings: Settings, fingerprint: str) -> "VectorStore":
        """Open (creating if needed) the collection for this model fingerprint."""
        store = cls(settings, collection_name(settings, fingerprint))
        store.reopen()
        return store

    def reopen(self) -> None:
        """(Re)connect; an embedded reader calls this to see vectors another process wrote."""
        with self._reopen_lock:
            system = None
            if self.settings.chroma_url:
                client = make_client(self.settings)
            else:
                path = str(Path(self.settings.index_dir) / CHROMA_DIR)
                # Chroma's engine cache is per process: two stores opening the same folder at once (the app's
                # warm-up and its first build) would take each other's engine out of it.
                with _ENGINE_CACHE_LOCK:
                    _forget_cached_system(path)
                    client = make_client(self.settings)
                    system = _forget_cached_system(path)  # ours alone: no other store can pick it up and lose it
            try:
                collection = client.get_or_create_collection(
                    self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
            except Exception as exc:
                _Handle(client, None, system).close()
                where = f" trên máy chủ {self.settings.chroma_url}" if self.settings.chroma_url else ""
                raise VectorStoreError(f"không mở được bộ sưu tập Chroma {self.name!r}{where}: {exc}") from None
            self._swap(_Handle(client, collection, system))

    def close(self) -> None:
        """Close the connection (once the calls running on it return); later calls raise VectorStoreError."""
        with self._reopen_lock:
            self._swap(None)

    def _swap(self, new: _Handle | None) -> None:
        with self._lock:
            old, self._handle = self._handle, new
            if old is None:
                return
            old.retired = True
            idle = old.users == 0
        if idle:
            self._close(old)

    def _close(self, handle: _Handle) -> None:
        handle.close()
        self.closed_connections += 1
        _release_freed_memory()

    @contextmanager
    def _using(self) -> Iterator[_Handle]:
        with self._lock:
            handle = self._handle
            if handle is None:
                raise VectorStoreError(f"{self._where()} đã đóng")
            handle.users += 1
        try:
            yield handle
        finally:
            with self._lock:
                handle.users -= 1
                done = handle.retired and handle.users == 0
            if done:
                self._close(handle)

    @property
    def _client(self):
        return self._handle.client if self._handle else None

    @property
    def collection(self):
        """The underlying chromadb Collection (of the current connection)."""
        return self._handle.collection if self._handle else None

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        """Write vectors (idempotent for the same ids); no text: retrieval reads it from the catalog."""
        if not ids:
            return
        try:
            with self._using() as h:
                h.collection.upsert(ids=list(ids), embeddings=np.asarray(vectors, np.float32),
                                    metadatas=list(metadatas))
        except VectorStoreError:
            raise
        except Exception as exc:
            raise VectorStoreError(f"ghi vector vào {self._where()} thất bại: {exc}") from None

    def delete(self, ids: Sequence[str]) -> None:
        """Delete vectors by id (missing ids are ignored)."""
        for i in range(0, len(ids), 5000):
            try:
                with self._using() as h:
                    h.collection.delete(ids=list(ids[i:i + 5000]))
            except VectorStoreError:
                raise
            except Exception as exc:
                raise VectorStoreError(f"xóa vector trong {self._where()} thất bại: {exc}") from None

    def metadata_of(self, ids: Sequence[str]) -> dict[str, dict]:
        """id -> stored metadata, for those of `ids` that already have a vector (written by a replica, by a
        build before a crash, or before a catalog migration)."""
        out: dict[str, dict] = {}
        for i in range(0, len(ids), 5000):
            try:
                with self._using() as h:
                    got = h.collection.get(ids=list(ids[i:i + 5000]), include=["metadatas"])
                out.update(zip(got["ids"], (m or {} for m in got["metadatas"])))
            except VectorStoreError:
                raise
            except Exception as exc:
                raise VectorStoreError(f"không đọc được {self._where()}: {exc}") from None
        return out

    def ids(self) -> set[str]:
        """Every id stored in the collection."""
        out: set[str] = set()
        offset, page = 0, 10000
        while True:
            try:
                with self._using() as h:
                    got = h.collection.get(include=[], limit=page, offset=offset)["ids"]
            except VectorStoreError:
                raise
            except Exception as exc:
                raise VectorStoreError(f"không đọc được {self._where()}: {exc}") from None
            out.update(got)
            if len(got) < page:
                return out
            offset += page

    def _where(self) -> str:
        return f"máy chủ Chroma {self.settings.chroma_url}" if self.settings.chroma_url else "kho vector Chroma"

    def count(self) -> int:
        """Number of stored vectors."""
        try:
            with self._using() as h:
                return h.collection.count()
        except VectorStoreError:
            raise
        except Exception as exc:  # chromadb/httpx raise many types; all mean "store unusable"
            raise VectorStoreError(f"không đọc được {self._where()}: {exc}") from None

    def query(self, vector: Sequence[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest vectors, best first (fewer when fewer match).

        One round trip: no `count()` first. Chroma 1.x answers a k larger than the collection with
        what it has; a server that refuses it (older versions did) is asked again with its count.
        """
        if k < 1:
            return []
        try:
            with self._using() as h:
                res = h.collection.query(query_embeddings=np.asarray([vector], np.float32), n_results=k,
                                         where=where, include=["distances"])
        except VectorStoreError:
            raise
        except Exception as exc:  # chromadb/httpx raise many types; all mean "store unusable"
            n = self.count()
            if 0 < n < k:
                return self.query(vector, n, where)
            if n == 0:
                return []
            raise VectorStoreError(f"truy vấn {self._where()} thất bại: {exc}") from None
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    def drop_other_collections(self) -> list[str]:
        """Delete collections of other models (after a model change); returns their names."""
        dropped = []
        prefix = f"{self.settings.collection}-"
        with self._using() as h:
            for col in h.client.list_collections():
                name = getattr(col, "name", col)
                if name.startswith(prefix) and name != self.name:
                    h.client.delete_collection(name)
                    dropped.append(name)
        return dropped
