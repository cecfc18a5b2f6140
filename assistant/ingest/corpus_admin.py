"""Manage `corpus/` from the UI: uploads and pasted text validated before they land, a trash folder, an audit log.

A file is written atomically under a sanitized name and only after it parses as an article,
so a bad upload never reaches the corpus.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    save_pasted(Path("corpus"), title="Tin mới", province="Bến Tre", text="...")
    # -> PosixPath('corpus/tin-moi.md')
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.ingest import converters
from assistant.ingest.articles import ARTICLE_SUFFIXES, Article, ArticleError, parse_article
from assistant.vi.textnorm import fold

MAX_NAME = 80


def safe_filename(name: str, default_suffix: str = ".md") -> str:
    """A harmless file name: no folders, no '..', ASCII letters, digits, '-', '_' and one suffix."""
    base = os.path.basename(name.replace("\\", "/"))
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower() if suffix.lower() in ARTICLE_SUFFIXES else default_suffix
    stem = re.sub(r"[^a-z0-9_-]+", "-", fold(stem)).strip("-_.")[:MAX_NAME] or "bai-viet"
    return stem + suffix


def _unique(corpus_dir: Path, filename: str) -> Path:
    path = corpus_dir / filename
    stem, suffix = os.path.splitext(filename)
    n = 2
    taken = {p.stem for p in corpus_dir.iterdir()} if corpus_dir.is_dir() else set()
    while path.exists() or path.stem in taken:
        path = corpus_dir / f"{stem}-{n}{suffix}"
        n += 1
    return path


def save_article_bytes(corpus_dir: Path, filename: str, data: bytes, max_bytes: int) -> tuple[Path, Article]:
    """Validate and store an uploaded article; raises ArticleError (Vietnamese reason) if unusable."""
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = _unique(corpus_dir, safe_filename(filename))
    max_bytes = converters.source_limit(target, max_bytes)
    if len(data) > max_bytes:
        raise ArticleError(target, f"tệp quá lớn ({len(data) / 1e6:.1f} MB, giới hạn {max_bytes / 1e6:.1f} MB)")
    if not data.strip():
        raise ArticleError(target, "tệp rỗng")
    article = parse_article(target, data)  # raises before anything is written
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=corpus_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, article


def pasted_article(title: str, text: str, province: str = "", date: str = "", source: str = "", url: str = "") -> bytes:
    """An article file (front matter + body) for pasted text."""
    meta = {k: v.strip() for k, v in (("title", title), ("province", province), ("date", date),
                                       ("source", source), ("url", url)) if v and v.strip()}
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{head}---\n{text.strip()}\n".encode("utf-8")


def save_pasted(corpus_dir: Path, *, title: str, text: str, province: str = "", date: str = "", source: str = "",
                url: str = "", max_bytes: int = 2_000_000) -> tuple[Path, Article]:
    """Store pasted text as a new article named after its title."""
    if not title.strip():
        raise ArticleError(Path("(bài dán)"), "cần nhập tiêu đề")
    if not text.strip():
        raise ArticleError(Path("(bài dán)"), "nội dung bài viết trống")
    name = re.sub(r"[/\\]+", "-", title) + ".md"  # a title is not a path: keep "Kế hoạch 12/2023" whole
    return save_article_bytes(corpus_dir, name, pasted_article(title, text, province, date, source, url),
                              max_bytes)


def delete_article(corpus_dir: Path, article_id: str) -> Path:
    """Remove an article file from the corpus (the next build drops it from the index)."""
    for suffix in ARTICLE_SUFFIXES:
        path = Path(corpus_dir) / f"{article_id}{suffix}"
        if path.is_file() and path.parent.resolve() == Path(corpus_dir).resolve():
            path.unlink()
            return path
    raise FileNotFoundError(f"không có bài viết '{article_id}' trong {corpus_dir}")


# --- uploads from the browser, the trash folder and the audit log ------------------------------------------------
TRASH_DIR = ".trash"  # inside the corpus: hidden, so neither the reader nor the indexer sees it
AUDIT_FILE = ".audit.jsonl"  # one JSON object per line: when, who, what, which article
_STAMP = "%Y%m%d-%H%M%S"
_TRASH_NAME = re.compile(r"^(?P<stamp>\d{8}-\d{6})(?:-\d+)?--(?P<name>[^/\\]+)$")


def check_upload_name(name: str) -> str:
    """The name as given if it is a plain file name; a name with folders or '..' is refused (ArticleError)."""
    raw = name or ""
    parts = raw.replace("\\", "/").split("/")
    if len(parts) > 1 or raw in (".", "..") or raw.startswith(".."):
        raise ArticleError(Path(parts[-1] or "tệp"), f"tên tệp '{raw[:80]}' chứa thư mục hoặc '..'; "
                                                     "hãy đổi thành một tên tệp bình thường rồi tải lại")
    suffix = os.path.splitext(raw)[1].lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise ArticleError(Path(raw or "tệp"), f"định dạng '{suffix or '(không có đuôi)'}' không được hỗ trợ; "
                                               f"chỉ nhận {', '.join(ARTICLE_SUFFIXES)}")
    return raw


def article_path(corpus_dir: Path, article_id: str) -> Path | None:
    """The file of an article id directly inside the corpus folder, or None."""
    corpus_dir = Path(corpus_dir)
    for suffix in ARTICLE_SUFFIXES:
        path = corpus_dir / f"{article_id}{suffix}"
        if path.is_file() and path.parent.resolve() == corpus_dir.resolve():
            return path
    return None


@dataclass(frozen=True)
class TrashEntry:
    """A deleted article waiting in the trash: its trash file, its original name and when it was deleted."""

    trash_name: str
    original_name: str
    deleted_at: str  # "YYYY-MM-DD HH:MM:SS"


def trash_article(corpus_dir: Path, article_id: str) -> TrashEntry:
    """Move an article file into the corpus's trash folder (restorable); FileNotFoundError if there is none."""
    path = article_path(corpus_dir, article_id)
    if path is None:
        raise FileNotFoundError(f"không có bài viết '{article_id}' trong thư mục bài viết")
    trash = Path(corpus_dir) / TRASH_DIR
    trash.mkdir(exist_ok=True)
    stamp = time.strftime(_STAMP)
    target, n = trash / f"{stamp}--{path.name}", 2
    while target.exists():
        target, n = trash / f"{stamp}-{n}--{path.name}", n + 1
    os.replace(path, target)
    return _entry(target.name)


def trash_entries(corpus_dir: Path) -> list[TrashEntry]:
    """Articles in the trash, the most recently deleted first."""
    trash = Path(corpus_dir) / TRASH_DIR
    if not trash.is_dir():
        return []
    entries = [_entry(p.name) for p in trash.iterdir() if p.is_file() and _TRASH_NAME.match(p.name)]
    return sorted(entries, key=lambda e: e.trash_name, reverse=True)


def trashed_file(corpus_dir: Path, trash_name: str) -> Path:
    """The trash file of an entry (only names the trash listing produces are accepted)."""
    if not _TRASH_NAME.match(trash_name or ""):
        raise FileNotFoundError(f"không có '{trash_name}' trong thùng rác")
    path = Path(corpus_dir) / TRASH_DIR / trash_name
    if not path.is_file():
        raise FileNotFoundError(f"không có '{trash_name}' trong thùng rác")
    return path


def restore_article(corpus_dir: Path, trash_name: str) -> Path:
    """Move a trashed article back under its original name; ArticleError if that name (or id) is taken now."""
    source = trashed_file(corpus_dir, trash_name)
    entry = _entry(trash_name)
    target = Path(corpus_dir) / entry.original_name
    taken = article_path(corpus_dir, target.stem)
    if target.exists() or taken is not None:
        raise ArticleError(target, f"không khôi phục được: thư mục bài viết đã có tệp '{(taken or target).name}' "
                                   "cùng tên; hãy đổi tên hoặc xóa bài đó trước")
    os.replace(source, target)
    return target


def _entry(trash_name: str) -> TrashEntry:
    m = _TRASH_NAME.match(trash_name)
    assert m is not None, trash_name
    s = m.group("stamp")
    return TrashEntry(trash_name, m.group("name"), f"{s[:4]}-{s[4:6]}-{s[6:8]} {s[9:11]}:{s[11:13]}:{s[13:15]}")


class AuditLog:
    """Who added, deleted, restored or rebuilt what, and when: a JSON Lines file kept beside the articles."""

    def __init__(self, corpus_dir: Path):
        self.path = Path(corpus_dir) / AUDIT_FILE
        self._lock = threading.Lock()

    def record(self, action: str, user: str = "", **details: object) -> dict:
        """Append one entry (`action`: them | xoa | khoi-phuc | xay-dung-lai) and return it."""
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "user": user or "", "action": action, **details}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
        return entry

    def entries(self, limit: int = 200) -> list[dict]:
        """The latest `limit` entries, newest first (a damaged line is skipped)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in reversed(lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
            if len(out) >= limit:
                break
        return out
