"""Add articles to `corpus/` from the UI: uploads and pasted text, validated before they land.

A file is written atomically under a sanitized name and only after it parses as an article,
so a bad upload never reaches the corpus.

>>> save_pasted(Path("corpus"), title="Tin mới", province="Bến Tre", text="...")   # doctest: +SKIP
PosixPath('corpus/tin-moi.md')
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml

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
