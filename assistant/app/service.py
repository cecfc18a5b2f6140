"""The long-lived assistant behind the UI and API: lazy loading, rebuilds, recovery from a broken index.

One `Service` per process. Questions keep being answered while a rebuild runs (the index is
committed article by article and readers reload when a build commits).

>>> svc = Service(Settings.from_env())        # doctest: +SKIP
>>> svc.ask("Tiền Giang xếp hạng DTI thứ mấy?").answer   # doctest: +SKIP
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Sequence

from filelock import FileLock, Timeout

from assistant.types import Answer
from assistant.indexing.catalog import CATALOG_FILE, Catalog, IndexCorruptError, quarantine
from assistant.config import Settings
from assistant.indexing.indexer import LOCK_FILE, BuildSummary, IndexBusyError, Indexer, ProgressFn
from assistant.indexing.vectorstore import VectorStoreError

log = logging.getLogger("assistant")
# Failures a rebuild from the corpus repairs.
BROKEN_INDEX = (IndexCorruptError, VectorStoreError, sqlite3.DatabaseError)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
RECOVERY_WAIT_S = 600


class Service:
    """Owns the Assistant (created on first use) and serializes rebuilds."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._assistant = None
        self._lock = threading.Lock()
        self._recover_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._ready = threading.Event()  # cleared while recover() rebuilds a broken index
        self._ready.set()
        self.last_summary: BuildSummary | None = None

    @property
    def public_without_login(self) -> bool:
        """True when the app listens beyond this machine and nobody has to log in."""
        return self.settings.host not in LOCAL_HOSTS and not self.settings.auth

    @property
    def admin_allowed(self) -> bool:
        """Article management is only offered on a local app or behind a login."""
        return not self.public_without_login

    def assistant(self):
        """The Assistant, loaded once (raises IndexCorruptError/VectorStoreError when unusable)."""
        # A question arriving during an automatic rebuild waits for it instead of reading a half-built index.
        if not self._ready.wait(timeout=RECOVERY_WAIT_S):
            raise IndexCorruptError("chỉ mục đang được xây dựng lại; vui lòng thử lại sau ít phút")
        if self._assistant is None:
            with self._lock:
                if self._assistant is None:
                    from assistant.app.pipeline import Assistant

                    self._assistant = Assistant(self.settings)
        return self._assistant

    def ask(self, question: str, *, province: str | None = None, history: Sequence[str] = (),
            factcheck: bool | None = None) -> Answer:
        """Answer a question; a missing or broken index is rebuilt once, then the question retried."""
        kwargs = {"province": province, "history": history, "factcheck": factcheck}
        try:
            return self.assistant().ask(question, **kwargs)
        except BROKEN_INDEX as exc:
            notice = self._retry_or_recover(exc)
        answer = self.assistant().ask(question, **kwargs)
        answer.notice = " ".join(x for x in (notice, answer.notice) if x)
        return answer

    def warm_up(self) -> None:
        """Load the model and the index now, so the first question is as fast as the next."""
        self.assistant().warm_up()

    def stream(self, question: str, **kwargs):
        """Stream an answer (see Assistant.stream); recovers from a broken index like `ask`."""
        try:
            yield from self.assistant().stream(question, **kwargs)
            return
        except BROKEN_INDEX as exc:
            notice = self._retry_or_recover(exc)
        for text, answer in self.assistant().stream(question, **kwargs):
            if answer is not None:
                answer.notice = " ".join(x for x in (notice, answer.notice) if x)
            yield text, answer

    def _retry_or_recover(self, exc: Exception) -> str:
        """'' after a transient failure healed by reopening; else rebuild and return a notice, or raise."""
        if self.settings.chroma_url and isinstance(exc, VectorStoreError):
            raise exc  # a remote server being down is not fixed by rebuilding locally
        if isinstance(exc, VectorStoreError) and self._assistant is not None \
                and Path(self.settings.index_dir, CATALOG_FILE).is_file():
            # A read racing another process's write ("Error finding id") heals once the store is reopened.
            try:
                self._assistant.heal()
                return ""
            except BROKEN_INDEX:
                pass
        if self._build_running_elsewhere():
            # Never move an index away from under its builder; the build will leave it whole.
            raise IndexBusyError("chỉ mục đang được cập nhật; vui lòng thử lại sau giây lát") from exc
        log.warning("index unusable (%s); rebuilding", exc)
        summary = self.recover()
        return (f"Chỉ mục bị thiếu hoặc hỏng nên đã được xây dựng lại từ {summary.added + summary.updated} bài viết "
                f"({summary.seconds:.0f} giây).")

    def _build_running_elsewhere(self) -> bool:
        if self._build_lock.locked():
            return True
        lock_path = Path(self.settings.index_dir) / LOCK_FILE
        if not lock_path.exists():
            return False
        lock = FileLock(str(lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        lock.release()
        return False

    def catalog(self) -> Catalog | None:
        """A fresh catalog connection, or None when there is no index yet."""
        try:
            return Catalog(self.settings.index_dir, create=False)
        except IndexCorruptError:
            return None

    def rebuild(self, full: bool = False, progress: ProgressFn | None = None) -> BuildSummary:
        """Run the incremental build in this process (the chat keeps answering meanwhile)."""
        with self._build_lock:
            kwargs = {}
            if self._assistant is not None:  # share the loaded model and vector store
                kwargs = {"embeddings": self._assistant.reader.embeddings, "store": self._assistant.reader.store}
            summary = Indexer(self.settings, show_progress=False, **kwargs).run(full=full, progress=progress)
            self.last_summary = summary
            if self._assistant is not None:
                self._assistant.reader.refresh()
            return summary

    def recover(self) -> BuildSummary:
        """Move a broken index aside and build a new one from the corpus (questions wait meanwhile)."""
        with self._recover_lock:
            if not self._ready.is_set():
                self._ready.wait(timeout=RECOVERY_WAIT_S)
                return self.last_summary or BuildSummary()
            self._ready.clear()
        try:
            with self._lock:
                old, self._assistant = self._assistant, None
                if old is not None:
                    old.reader.close()
                moved = quarantine(Path(self.settings.index_dir))
                if moved:
                    log.warning("moved the broken index to %s", moved)
            return self.rebuild(full=True)
        finally:
            self._ready.set()


def warn_if_exposed(settings: Settings, echo: Callable[[str], None] = print) -> str:
    """Print and return a warning when the app is reachable from other machines without login."""
    if settings.host in LOCAL_HOSTS or settings.auth:
        return ""
    msg = (f"CẢNH BÁO: ứng dụng đang mở trên {settings.host}:{settings.port} cho máy khác truy cập mà KHÔNG có "
           "đăng nhập. Đặt ASSISTANT_AUTH=user:mật_khẩu để bật đăng nhập; quản lý bài viết đã bị tắt.")
    echo(msg)
    return msg
