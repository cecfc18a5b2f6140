"""Load articles from `corpus/`: front matter, inferred metadata, cleaned text, clear errors.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    result = load_corpus(Path("corpus"))
    [a.title for a in result.articles], [str(e) for e in result.errors]
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.vi import gazetteer
from assistant.ingest.cleaning import DATELINE, SERIES_HEADER, SOURCE_LINE, clean_body, is_source_line
from assistant.vi.textnorm import clean_chars
from assistant.errors import AssistantError
from assistant.ingest import converters

# Plain articles, plus saved web pages, PDF and Word files read through `converters`.
ARTICLE_SUFFIXES = (".md", ".txt") + converters.SUFFIXES
DEFAULT_MAX_BYTES = 2_000_000
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)
_URL = re.compile(r"https?://[^\s)>\]\"']+|www\.[^\s)>\]\"']+")
_URL_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})\d{6,}")
_FIELDS = ("title", "province", "date", "source", "url")
UNKNOWN = "không rõ"


class ArticleError(AssistantError):
    """An article file that cannot be used; `str()` names the file and the reason (Vietnamese)."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{Path(path).name}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class Article:
    """One cleaned article; `text` is what chunks and citations refer to by character offset."""

    id: str
    path: Path
    title: str
    text: str
    content_hash: str
    province: str = ""
    date: str = ""
    source: str = ""
    url: str = ""
    inferred: tuple[str, ...] = field(default=())

    def meta(self) -> dict[str, str]:
        """Metadata for display and storage; missing fields are empty strings."""
        return {"article_id": self.id, "title": self.title, "province": self.province,
                "date": self.date, "source": self.source, "url": self.url}


@dataclass
class CorpusLoad:
    """Result of loading a folder: the good articles and one error per bad file."""

    articles: list[Article]
    errors: list[ArticleError]


def article_id(path: Path) -> str:
    """Stable id of an article: its file name without suffix."""
    return path.stem


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Article files of a corpus folder (non-recursive, sorted, hidden files skipped)."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"thư mục bài viết không tồn tại: {corpus_dir}")
    return sorted(p for p in corpus_dir.iterdir()
                  if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith("."))


def read_article_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file, refusing empty or over-size ones with an ArticleError."""
    max_bytes = converters.source_limit(path, max_bytes)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(path, f"tệp quá lớn ({size / 1e6:.1f} MB, giới hạn {max_bytes / 1e6:.1f} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(path, f"không đọc được tệp ({exc.strerror or exc})") from None
    if not data.strip():
        raise ArticleError(path, "tệp rỗng")
    return data


def parse_article(path: Path, data: bytes) -> Article:
    """Parse file bytes into an Article, or raise ArticleError saying why not."""
    original = data
    if converters.is_converted(path):
        try:
            data = converters.to_article_text(path, data).encode("utf-8")
        except converters.ConversionError as exc:
            raise ArticleError(path, str(exc)) from None
    if b"\x00" in data[:8192]:
        raise ArticleError(path, "tệp nhị phân, không phải văn bản")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(path, f"không phải văn bản UTF-8 (byte lỗi ở vị trí {exc.start}); hãy lưu lại tệp với mã hóa UTF-8") from None
    raw = clean_chars(raw)
    meta, body = _split_front_matter(path, raw)
    text = clean_body(body)
    if len(text) < 20:
        raise ArticleError(path, "không có nội dung bài viết (sau khi làm sạch còn quá ít chữ)")
    first_lines = [ln.strip() for ln in body.split("\n") if ln.strip()][:6]
    inferred: list[str] = []
    title = meta.get("title") or ""
    if not title:
        title, inferred = _infer_title(first_lines) or text.split("\n", 1)[0][:200], inferred + ["title"]
    province = meta.get("province") or ""
    if province:
        province = gazetteer.canonical(province) or province
    else:
        province = gazetteer.main_province(text, title) or ""
        if province:
            inferred.append("province")
    url = meta.get("url") or ""
    source = meta.get("source") or ""
    if not url:
        url, source_guess = _infer_source(body)
        source = source or source_guess
        if url:
            inferred.append("url")
    date = meta.get("date") or _infer_date(first_lines, url)
    if date and not meta.get("date"):
        inferred.append("date")
    return Article(id=article_id(path), path=path, title=title.strip(), text=text,
                   content_hash=hashlib.sha256(original).hexdigest(), province=province, date=date,
                   source=source, url=url, inferred=tuple(inferred))


def load_article(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Load one article file; raises ArticleError with a clear Vietnamese reason."""
    return parse_article(path, read_article_bytes(path, max_bytes))


def load_corpus(corpus_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusLoad:
    """Load every article of a folder; a bad file becomes an error and never stops the others."""
    articles: list[Article] = []
    errors: list[ArticleError] = []
    for path in corpus_files(corpus_dir):
        try:
            articles.append(load_article(path, max_bytes))
        except ArticleError as exc:
            errors.append(exc)
    return CorpusLoad(articles, errors)


def _split_front_matter(path: Path, raw: str) -> tuple[dict[str, str], str]:
    m = _FRONT_MATTER.match(raw)
    if not m:
        if raw.startswith("---\n"):
            raise ArticleError(path, "front matter không đóng: thiếu dòng '---' kết thúc")
        return {}, raw
    try:
        loaded = yaml.safe_load(m.group(1) or "") or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (dòng {where.line + 2})" if where is not None else ""
        raise ArticleError(path, f"front matter YAML không đọc được{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(loaded, dict):
        raise ArticleError(path, "front matter phải là các cặp 'khóa: giá trị'")
    meta: dict[str, str] = {}
    for key in _FIELDS:
        value = loaded.get(key, loaded.get("publisher") if key == "source" else None)
        if value is None or value == "":
            continue
        if key == "date":
            meta[key] = _check_date(path, value)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            meta[key] = str(value).strip()
        else:
            raise ArticleError(path, f"trường '{key}' trong front matter phải là chuỗi, không phải {type(value).__name__}")
    if "url" in meta and not _URL.fullmatch(meta["url"]):
        raise ArticleError(path, f"trường 'url' không phải địa chỉ web: {meta['url'][:80]!r}")
    return meta, raw[m.end():]


def _check_date(path: Path, value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ArticleError(path, f"trường 'date' phải là ngày dạng YYYY-MM-DD, không phải {value!r}")


def _infer_title(first_lines: list[str]) -> str | None:
    for line in first_lines:
        if SERIES_HEADER.match(line) and ":" in line:
            # The first series header names this part: "BÀI 3: Bắt nhịp kinh tế số".
            return line.split(":", 1)[1].strip()
        if line and not DATELINE.match(line):
            return line[:200]
    return None


def _infer_source(body: str) -> tuple[str, str]:
    for line in reversed([ln.strip() for ln in body.split("\n") if ln.strip()][-5:]):
        m = SOURCE_LINE.match(line)
        if not m or not is_source_line(line):
            continue
        url_m = _URL.search(line)
        url = url_m.group(0).rstrip(".,;") if url_m else ""
        label = line[: m.start("rest")].rstrip(": ").removeprefix("Nguồn").removeprefix("NGUỒN").strip(" :")
        if not label and url:
            label = re.sub(r"^(https?://)?(www\.)?", "", url).split("/")[0]
        return url, label
    return "", ""


def _infer_date(first_lines: list[str], url: str) -> str:
    for line in first_lines:
        m = DATELINE.match(line)
        if m:
            try:
                return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
            except ValueError:
                continue
    m = _URL_DATE.search(url)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    return ""
