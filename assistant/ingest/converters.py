"""Saved web pages, PDF and Word files → article text (front matter + body) the article reader parses.

Well-kept parsers do the reading: trafilatura finds the main text and metadata of a web page,
pypdf reads a PDF's text layer, python-docx reads a Word document. The result is the same
`---` front matter + body an `.md` article has, so cleaning, province inference and errors work
the same for every format. A file with no usable text raises `ConversionError` with a Vietnamese
reason (the article reader turns it into an ArticleError naming the file).

>>> SUFFIXES
('.html', '.htm', '.pdf', '.docx')
>>> nav_only = b"<html><body><nav><a href='/'>Trang chu</a></nav></body></html>"
>>> try:
...     to_article_text(Path("trang.html"), nav_only)
... except ConversionError as exc:
...     print(exc)
trang web không có nội dung bài viết (chỉ có menu, liên kết hoặc quảng cáo)
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import yaml

HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = HTML_SUFFIXES + (".pdf", ".docx")
# A report PDF or a web page saved with its images inline is larger than its text; 20 MB holds a long report
# (the seeds' PDFs would be ~1 MB) while a 50 MB upload is refused before any parser touches it.
MAX_SOURCE_BYTES = 20_000_000
# Fewer letters than this after extraction is no article (the reader's own floor is 20 characters of text).
MIN_TEXT_CHARS = 80
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEB_URL = re.compile(r"https?://\S+")


class ConversionError(ValueError):
    """A file whose format is right but which holds no usable article text; the message is Vietnamese."""


def is_converted(path: Path) -> bool:
    """True for the formats this module reads (web page, PDF, Word)."""
    return Path(path).suffix.lower() in SUFFIXES


def source_limit(path: Path, text_limit: int) -> int:
    """The largest file accepted for `path`: text articles keep their limit, converted formats get more room."""
    return max(text_limit, MAX_SOURCE_BYTES) if is_converted(path) else text_limit


def to_article_text(path: Path, data: bytes) -> str:
    """The article (front matter with title/date/url/source where the file has them, then the body)."""
    suffix = Path(path).suffix.lower()
    if suffix in HTML_SUFFIXES:
        meta, body = _from_html(data)
    elif suffix == ".pdf":
        meta, body = _from_pdf(data)
    elif suffix == ".docx":
        meta, body = _from_docx(data)
    else:
        raise ConversionError(f"định dạng {suffix or '(không có đuôi)'} không được hỗ trợ")
    body = _tidy(body)
    if sum(ch.isalpha() for ch in body) < MIN_TEXT_CHARS:
        raise ConversionError({
            ".pdf": "tệp PDF không có lớp chữ (có thể là bản quét ảnh); hãy nhận dạng chữ (OCR) rồi tải lại",
            ".docx": "tài liệu Word không có nội dung chữ",
        }.get(suffix, "trang web không có nội dung bài viết (chỉ có menu, liên kết hoặc quảng cáo)"))
    meta = {k: v for k, v in meta.items() if v}
    if meta.get("date") and not _ISO_DATE.fullmatch(meta["date"]):
        meta.pop("date")
    if meta.get("url") and not _WEB_URL.fullmatch(meta["url"]):
        meta.pop("url")
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) if meta else ""
    return f"---\n{head}---\n{body}\n" if head else body + "\n"


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in (text or "").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _one_line(value: object, limit: int = 300) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()[:limit]


def _from_html(data: bytes) -> tuple[dict[str, str], str]:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False, include_tables=True,
                                          favor_precision=True)
    except Exception as exc:  # lxml raises several types on broken markup
        raise ConversionError(f"không đọc được trang web ({type(exc).__name__})") from None
    if doc is None:
        return {}, ""
    get = (lambda k: doc.get(k)) if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    meta = {"title": _one_line(get("title")), "date": _one_line(get("date"), 10),
            "source": _one_line(get("sitename")), "url": _one_line(get("url"))}
    return meta, get("text") or ""


def _from_pdf(data: bytes) -> tuple[dict[str, str], str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ConversionError("tệp PDF có mật khẩu; hãy mở khóa rồi tải lại")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except ConversionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ConversionError(f"không đọc được tệp PDF (tệp hỏng hoặc không phải PDF: {type(exc).__name__})") from None
    meta: dict[str, str] = {}
    if info is not None:
        meta["title"] = _one_line(info.title)
        try:
            created = info.creation_date
        except (ValueError, TypeError):
            created = None
        if isinstance(created, dt.datetime):
            meta["date"] = created.date().isoformat()
    return meta, "\n\n".join(_join_wrapped_lines(p) for p in pages)


def _join_wrapped_lines(page: str) -> str:
    """A PDF's text layer breaks lines where the page did; a line continued in lower case is one sentence."""
    out: list[str] = []
    for line in page.split("\n"):
        line = line.strip()
        if out and out[-1] and line and line[0].islower() and not out[-1].endswith((".", "!", "?", ":", ";")):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def _from_docx(data: bytes) -> tuple[dict[str, str], str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ConversionError("tệp .docx không phải tài liệu Word hợp lệ "
                              f"(có thể là tệp khác đổi đuôi: {type(exc).__name__})") from None
    except Exception as exc:  # a zip holding something else fails deep inside the XML parser
        raise ConversionError(f"tệp .docx không phải tài liệu Word hợp lệ ({type(exc).__name__})") from None
    paragraphs = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            paragraphs.append(" | ".join(c.text.strip() for c in row.cells))
    props = document.core_properties
    meta = {"title": _one_line(props.title)}
    if isinstance(props.created, dt.datetime) and props.created.year > 1980:  # Word's empty date is 1900/1970
        meta["date"] = props.created.date().isoformat()
    return meta, "\n".join(paragraphs)
