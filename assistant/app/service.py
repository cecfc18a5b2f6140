"""The long-lived assistant behind the UI and API: lazy loading, rebuilds, recovery from a broken index.

One `Service` per process. Questions keep being answered while a rebuild runs (the index is
committed article by article and readers reload when a build commits).

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    svc = Service(Settings.from_env())
    svc.ask("Tiền Giang xếp hạng DTI thứ mấy?").answer
"""
from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from filelock import FileLock, Timeout

from assistant.types import Answer
from assistant.indexing.catalog import CATALOG_FILE, Catalog, IndexCorruptError
from assistant.indexing.quarantine import quarantine
from assistant.config import Settings
from assistant.app import handoff
from assistant.indexing.indexer import LOCK_FILE, BuildSummary, IndexBusyError, Indexer, ProgressFn
from assistant.indexing.vectorstore import VectorStoreError
from assistant.ingest import corpus_admin
from assistant.ingest.articles import ArticleError, load_article

log = logging.getLogger("assistant")
# Failures a rebuild from the corpus repairs.
BROKEN_INDEX = (IndexCorruptError, VectorStoreError, sqlite3.DatabaseError)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
RECOVERY_WAIT_S = 600
# The warm-up question goes through the whole chain (model, vectors, catalog, lexical index, answerer),
# so the first user question finds everything loaded.
WARM_UP_QUESTION = "Tiền Giang đặt mục tiêu kinh tế số chiếm bao nhiêu phần trăm GRDP?"
# Articles whose sentences the warm-up embeds (their titles asked once): the seed corpus and a little more; a big
# corpus still starts in about a minute on this 2-core CPU, and its other articles pay ~5 s on their first question.
WARM_UP_ARTICLES = 10
# Uploads: a PDF or a saved web page is larger than its text; the converted text keeps `max_article_bytes`.
UPLOAD_MAX_BYTES = corpus_admin.converters.MAX_SOURCE_BYTES



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
        self.warm_state = "idle"  # idle | warming | ready | error (shown by the UI while it warms)
        self.warm_error = ""
        self.audit = corpus_admin.AuditLog(settings.corpus_dir)
        self.handoff_token = handoff.new_token()  # the CLI's proof that it can read the index folder (handoff.py)

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
            factcheck: bool | None = None, k: int | None = None) -> Answer:
        """Answer a question; a missing or broken index is rebuilt once, then the question retried.

        `k` is the number of passages retrieved (default: the ASSISTANT_K setting).
        """
        kwargs = {"province": province, "history": history, "factcheck": factcheck, "k": k}
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

    def start_warm_up(self) -> threading.Thread:
        """Warm up in a background thread: load everything, then answer one question through the whole chain.

        `warm_state` says where it is; a failure is kept in `warm_error` (the first question reports it too).
        """
        def run() -> None:
            self.warm_state = "warming"
            try:
                self.warm_up()
                if self.settings.backend == "extractive":  # a generative backend would spend a model call
                    self.ask(WARM_UP_QUESTION)
                    # The answer stage embeds an article's sentences the first time a question reaches them
                    # (~5 s per article here); asking each article's title once does that before the first user.
                    for article in self.articles()[:WARM_UP_ARTICLES]:
                        self.ask(article.title, province=article.province or None)
                self.warm_state = "ready"
            except Exception as exc:  # noqa: BLE001 - reported to the user, the app keeps running
                self.warm_error = self.error_text(exc)
                self.warm_state = "error"
                log.warning("warm-up failed: %s", exc)

        self.warm_state = "warming"
        thread = threading.Thread(target=run, daemon=True, name="warm-up")
        thread.start()
        return thread

    @staticmethod
    def user_message(exc: BaseException) -> str | None:
        """The Vietnamese message of an error the user can act on; None for a bug."""
        from assistant.errors import user_message

        return user_message(exc)

    @staticmethod
    def error_text(exc: BaseException) -> str:
        """A Vietnamese message for an error the user can act on, else a generic one naming its type."""
        return Service.user_message(exc) or f"Đã xảy ra lỗi không mong muốn ({type(exc).__name__}). Vui lòng thử lại."

    @staticmethod
    def known_provinces() -> list[str]:
        """Every province name of the gazetteer, sorted (for choosing an article's province)."""
        from assistant.vi import gazetteer

        return sorted(p.name for p in gazetteer.PROVINCES)

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


    @staticmethod
    def answering_figures(answer: Answer) -> list[int]:
        """Indices into `answer.figures` of the figures that answer the question (not every number quoted).

        A figure answers when it is of the kind asked ('%', a rank, a count of the asked noun) and the words
        around it in its sentence (up to the neighbouring figures) share the most words with the question;
        one best figure per cited source. A question that asks for no figure gets none.
        """
        from assistant.vi.question import analyze
        from assistant.vi.textnorm import fold

        if not answer.figures or answer.abstained or answer.claims:
            return []
        marked = [i for i, f in enumerate(answer.figures) if getattr(f, "answers", False)]
        if marked:  # the answer stage knows which figures answer
            return marked
        info = analyze(answer.resolved_question or answer.question)
        if info.expects in (None, "doc"):
            return []
        words = lambda t: set(re.findall(r"\w+", fold(t)))  # noqa: E731
        asked = words(info.text) | set(info.focus)
        quotes = {c.n: c.quote for c in answer.citations}
        best: dict[int | None, tuple[int, list[int]]] = {}
        for i, f in enumerate(answer.figures):
            if info.expects == "%" and f.unit != "%":
                continue
            if info.expects == "rank" and f.unit != "rank":
                continue
            if info.expects == "number" and f.unit in ("%", "rank"):
                continue
            needle = f.source_text or f.text
            text = quotes.get(f.citation or 0, "")
            if needle not in text:
                text = answer.answer
            left, found, right = text.partition(needle)
            if not found:
                continue
            # This figure's own clause: what follows it up to the next clause ("214 dịch vụ công … một phần"),
            # weighted double, and what precedes it back to the previous comma ("kinh tế số chiếm 8,59%").
            right = re.split(r"[;,(]|\d", right, maxsplit=1)[0]
            left = re.split(r"[;,)]|\d", left)[-1]
            score = 2 * len(asked & words(right)) + len(asked & words(left))
            top = best.get(f.citation)
            if top is None or score > top[0]:
                best[f.citation] = (score, [i])
            elif score == top[0]:
                top[1].append(i)
        return sorted(i for _, ids in best.values() for i in ids)

    # -- the corpus, seen and changed from the UI ---------------------------------------------------------
    def index_status(self) -> dict:
        """Articles, chunks, provinces and the time of the last build ({} fields empty without an index)."""
        cat = self.catalog()
        if cat is None:
            return {"articles": 0, "chunks": 0, "provinces": [], "built": "", "exists": False}
        try:
            last = json.loads(cat.get_meta("last_build", "{}") or "{}")
            built = time.strftime("%H:%M %d/%m/%Y", time.localtime(last["finished_at"])) if "finished_at" in last else ""
            return {"articles": len(cat.articles()), "chunks": cat.count_chunks(), "provinces": cat.provinces(),
                    "built": built, "exists": True}
        finally:
            cat.close()

    def articles(self):
        """The indexed articles (catalog rows), sorted by province, then date (newest first), then title."""
        cat = self.catalog()
        if cat is None:
            return []
        try:
            rows = cat.articles()
        finally:
            cat.close()
        rows.sort(key=lambda a: a.title.casefold())
        rows.sort(key=lambda a: a.date or "", reverse=True)
        return sorted(rows, key=lambda a: (a.province or "~").casefold())

    def article_title(self, article_id: str) -> str:
        """The title of an indexed article ('' when unknown)."""
        return next((a.title for a in self.articles() if a.id == article_id), "")

    def trash_entries(self):
        """Deleted articles that can be restored, newest first."""
        return corpus_admin.trash_entries(self.settings.corpus_dir)

    def audit_entries(self, limit: int = 200) -> list[dict]:
        """The latest audit-log entries, newest first."""
        return self.audit.entries(limit)

    def add_upload(self, name: str, data: bytes, *, user: str = "") -> tuple[str, str]:
        """Store one uploaded file (name checked, size and content validated); (file name, title) or ArticleError."""
        corpus_admin.check_upload_name(name)
        if len(data) > UPLOAD_MAX_BYTES:
            raise ArticleError(Path(name), f"tệp quá lớn ({len(data) / 1e6:.1f} MB, giới hạn "
                                           f"{UPLOAD_MAX_BYTES / 1e6:.0f} MB)".replace(".", ","))
        target, art = corpus_admin.save_article_bytes(self.settings.corpus_dir, name, data,
                                                      self.settings.max_article_bytes)
        self.audit.record("them", user, article=art.id, file=target.name, title=art.title, from_file=name)
        return target.name, art.title

    def add_pasted(self, *, user: str = "", **fields: str) -> tuple[str, str]:
        """Store pasted text as an article; (file name, title) or ArticleError."""
        target, art = corpus_admin.save_pasted(self.settings.corpus_dir, max_bytes=self.settings.max_article_bytes,
                                               **fields)
        self.audit.record("them", user, article=art.id, file=target.name, title=art.title)
        return target.name, art.title

    def trash_article(self, article_id: str, *, user: str = "") -> corpus_admin.TrashEntry:
        """Move an article to the trash (restorable) and log it; FileNotFoundError if there is none."""
        title = self.article_title(article_id)
        entry = corpus_admin.trash_article(self.settings.corpus_dir, article_id)
        self.audit.record("xoa", user, article=article_id, file=entry.original_name, title=title,
                          trash=entry.trash_name)
        return entry

    def restore_article(self, trash_name: str, *, user: str = "") -> Path:
        """Move a trashed article back; ArticleError when its name is taken now (nothing changes then)."""
        path = corpus_admin.restore_article(self.settings.corpus_dir, trash_name)
        try:
            title = load_article(path, self.settings.max_article_bytes).title
        except ArticleError:
            title = ""
        self.audit.record("khoi-phuc", user, article=path.stem, file=path.name, title=title, trash=trash_name)
        return path

    def rebuild_logged(self, full: bool = False, progress: ProgressFn | None = None, *, user: str = "",
                       reason: str = "") -> BuildSummary:
        """`rebuild`, recorded in the audit log with its summary."""
        summary = self.rebuild(full=full, progress=progress)
        self.audit.record("xay-dung-lai", user, full=bool(full), reason=reason, added=summary.added,
                          updated=summary.updated, removed=summary.removed, errors=len(summary.errors),
                          seconds=round(summary.seconds, 1))
        return summary


def warn_if_exposed(settings: Settings, echo: Callable[[str], None] = print) -> str:
    """Print and return a warning when the app is reachable from other machines without login."""
    if settings.host in LOCAL_HOSTS or settings.auth:
        return ""
    msg = (f"CẢNH BÁO: ứng dụng đang mở trên {settings.host}:{settings.port} cho máy khác truy cập mà KHÔNG có "
           "đăng nhập. Đặt ASSISTANT_AUTH=user:mật_khẩu để bật đăng nhập; quản lý bài viết đã bị tắt.")
    echo(msg)
    return msg
