"""Remove web-page debris from a news article body, keeping every sentence of the article.

>>> clean_body("Tin chính.\\nViết bình luận mới\\nXem thêm >>")
'Tin chính.'
"""
from __future__ import annotations

import re

from assistant.vi.textnorm import clean_chars

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
_TRAILING_PIPE = re.compile(r"(?:\s*\|)+\s*$")  # a run of stray pipes: "0||" -> "0" in one pass
_LEADING_PIPE = re.compile(r"^\s*(?:\|\s*)+")


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
        if is_source_line(line):
            continue
        in_header = in_header and len(out) < 1
        out.append(line)
    return "\n".join(out).strip()


def is_source_line(line: str) -> bool:
    """True for a credit line ("Nguồn: Theo: https://...", "Nguồn NLĐ: ...", "Nguồn: Báo Ấp Bắc").

    A sentence that merely starts with the word ("Nguồn vốn đầu tư: 8.619 tỷ đồng") is article text.
    """
    s = line.strip()
    m = SOURCE_LINE.match(s)
    return bool(m) and _looks_like_source(s, s[5:m.start("rest")].strip(" :"))


_SOURCE_LABELS = {"tin", "ảnh", "bài", "bài viết", "tham khảo", "dẫn"}


def _looks_like_source(line: str, label: str) -> bool:
    # The words between "Nguồn" and ":" must be empty, a publisher name ("NLĐ", "Báo Ấp Bắc") or
    # a credit word ("Nguồn tin:"); "Nguồn vốn:", "Nguồn nhân lực:" start ordinary sentences.
    if label and label.lower() not in _SOURCE_LABELS and not all(w[0].isupper() for w in label.split()):
        return False
    if len(line) >= 300:
        return False
    # Without a link, only a short credit without figures (figures are never dropped).
    return "http" in line or "www." in line or (len(line.split()) <= 8 and not any(c.isdigit() for c in line))
