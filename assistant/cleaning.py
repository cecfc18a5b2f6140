"""Remove web-page debris from a news article body, keeping every sentence of the article.

>>> clean_body("Tin chính.\\nViết bình luận mới\\nXem thêm >>")
'Tin chính.'
"""
from __future__ import annotations

import re

from .textnorm import clean_chars

# Whole lines that are page furniture, never article text (compared case-insensitively, stripped).
_DEBRIS_LINES = {
    "viết bình luận mới",
    "tin cùng chuyên mục",
    "các tin khác",
    "xem thêm >>",
    "xem thêm",
    "có thể bạn quan tâm",
    "tin liên quan",
    "bài liên quan",
    "nghe podcast:",
    "nghe podcast",
    "nghe đọc bài",
    "(còn tiếp)",
    "chia sẻ",
    "in bài",
    "|",
}
_MEDIA_LINE = re.compile(
    r"^\S*\.(?:mp3|mp4|m4a|wav|ogg|jpe?g|png|gif|webp|svg)\s*$", re.IGNORECASE
)
_MEDIA_PATH_LINE = re.compile(r"^/?(?:uploads|images?|media|audio)/.*\.(?:mp3|mp4|m4a|wav|ogg|jpe?g|png|gif|webp)$", re.I)
# A dateline such as "25/01/2023 | 06:06 GMT+7": metadata, picked up as the date.
DATELINE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s*(?:\|\s*)?(?:\d{1,2}:\d{2})?\s*(?:GMT\s*[+-]\s*\d+)?$")
# Series navigation at the top of a multi-part report: "BÀI 3: ...", "Kỳ 2: ...".
SERIES_HEADER = re.compile(r"^(?:BÀI|Bài|bài|KỲ|Kỳ|kỳ|PHẦN|Phần)\s+\d+\s*[:.\-–]\s*\S")
SOURCE_LINE = re.compile(r"^(?:Nguồn|NGUỒN)\b[^:\n]{0,40}:\s*(?P<rest>.*)$")
_TRAILING_PIPE = re.compile(r"\s*\|\s*$")
_LEADING_PIPE = re.compile(r"^\s*\|\s*")


def is_debris_line(line: str) -> bool:
    """True when a stripped line is page furniture (links, media file names, share widgets)."""
    s = line.strip()
    if not s:
        return False
    return s.lower() in _DEBRIS_LINES or bool(_MEDIA_LINE.match(s) or _MEDIA_PATH_LINE.match(s))


def clean_body(text: str, *, drop_series_headers: bool = True) -> str:
    """NFC, strip debris lines, stray '|' and blank runs; returns the article text."""
    lines = clean_chars(text).split("\n")
    out: list[str] = []
    in_header = True  # series headers and datelines only count near the top
    for raw in lines:
        line = _LEADING_PIPE.sub("", _TRAILING_PIPE.sub("", raw.strip()))
        if not line:
            continue
        if is_debris_line(line) or (in_header and DATELINE.match(line)):
            continue
        if in_header and drop_series_headers and SERIES_HEADER.match(line):
            continue
        if SOURCE_LINE.match(line) and _looks_like_source(line):
            continue
        in_header = in_header and len(out) < 1
        out.append(line)
    return "\n".join(out).strip()


def _looks_like_source(line: str) -> bool:
    # "Nguồn: Theo: https://..." or "Nguồn NLĐ: https://..." – a credit line, not a sentence.
    return len(line) < 300 and ("http" in line or "www." in line or len(line.split()) <= 8)
