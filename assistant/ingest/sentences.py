"""The quotable units of a chunk: its sentences, with over-long ones cut into clause windows.

The answer stage scores these units and the index keeps a vector for each, so both use this one definition.

>>> text = "Tiền Giang đạt 8,59%. Mục tiêu năm 2025 là 15%."
>>> [text[s:e] for s, e, _ in quote_windows(text)]
['Tiền Giang đạt 8,59%.', 'Mục tiêu năm 2025 là 15%.']
"""
from __future__ import annotations

import re

from assistant.ingest.chunking import split_sentences

# Longest quote: a news sentence is ~150-250 characters; longer ones are cut into clause windows that fit
# the answer-length target (p50 ≤ 400 characters for up to two quotes).
MAX_QUOTE_CHARS = 320


def quote_windows(text: str) -> list[tuple[int, int, int]]:
    """(start, end, sentence index) of each quotable unit of a chunk's text, in reading order."""
    out: list[tuple[int, int, int]] = []
    pos = 0
    for m in re.finditer(r"[^\n]+", text):
        for s, e in split_sentences(text, m.start(), m.end()):
            windows = [(s, e)] if e - s <= MAX_QUOTE_CHARS else _clause_windows(text, s, e)
            out.extend((a, b, pos) for a, b in windows)
            pos += 1
    return out


def _clause_windows(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Windows of consecutive clauses (split at ';' then ',') no longer than MAX_QUOTE_CHARS."""
    cuts = [s] + [s + m.end() for m in re.finditer(r";\s+|,\s+(?=\D)", text[s:e])] + [e]
    out = []
    for i in range(len(cuts) - 1):
        j = i + 1
        while j + 1 < len(cuts) and cuts[j + 1] - cuts[i] <= MAX_QUOTE_CHARS:
            j += 1
        a, b = cuts[i], cuts[j]
        while b > a and text[b - 1] in " ,;":
            b -= 1
        if b > a:
            out.append((a, b))
    return out
