"""Unicode hygiene for Vietnamese text: NFC, invisible characters, accent folding.

>>> fold("Tiền Giang ĐỒNG THÁP")
'tien giang dong thap'
"""
from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi controls that break matching but carry no meaning in news text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
# C0/C1 controls except tab and newline.
_CONTROL = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f]")
_SPACES = re.compile("[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC form (Vietnamese may arrive decomposed)."""
    return unicodedata.normalize("NFC", text)


def clean_chars(text: str) -> str:
    """NFC-normalize, drop invisible/control characters and turn exotic spaces into ' '."""
    text = nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text)


def normalize_question(text: str) -> str:
    """Normalize a user question: clean characters and collapse all whitespace."""
    return " ".join(clean_chars(text).split())


_SCRIPT_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def strip_markup(text: str) -> str:
    """A question pasted from a web page, without its tags and scripts ("<b>Đồng Tháp</b> …" → "Đồng Tháp …").

    >>> strip_markup("<b>Đồng Tháp</b> có bao nhiêu? <script>alert(1)</script> tỷ lệ <5%")
    'Đồng Tháp có bao nhiêu? tỷ lệ <5%'
    """
    return " ".join(_TAG.sub(" ", _SCRIPT_BLOCK.sub(" ", text)).split())


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics ('Đồng Tháp' -> 'dong thap'), length-preserving."""
    out = []
    for ch in text:
        low = ch.lower()
        ch = low if len(low) == 1 else ch  # keep length: 'İ'.lower() is two code points
        if ch == "đ":
            out.append("d")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base if len(base) == 1 else ch)
    return "".join(out)
