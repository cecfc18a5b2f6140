"""Split a cleaned article into paragraphs, sentences and overlapping chunks with exact offsets.

Vietnamese news writes "8.619", "8,59%", "12/63", "TT-TT", "TP. Hồ Chí Minh", "25/01/2023",
URLs and e-mail addresses; none of them may be cut. Every chunk is a contiguous span of the
article text, so `article.text[chunk.start:chunk.end] == chunk.text` and quotes can be located.

>>> spans = split_sentences("Tỉnh đạt 8,59% GRDP. TP. Hồ Chí Minh xếp thứ 1/63.")
>>> [s for s, _ in spans]
[0, 21]
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable, Iterable

from assistant.types import Passage

CHUNKER_VERSION = "3"
TARGET_TOKENS = 220
MAX_TOKENS = 350
HARD_LIMIT_TOKENS = 500  # e5 reads 512 tokens including the prefix and special tokens
OVERLAP_SENTENCES = 1

# Abbreviations that end with '.' but do not end a sentence.
_ABBREVIATIONS = {
    "tp", "q", "p", "tx", "tt", "h", "x", "ths", "ts", "pgs", "gs", "bs", "ks", "ls", "ncs", "th.s",
    "mr", "mrs", "ms", "dr", "st", "no", "vs", "v.v", "tr", "đ", "nxb", "ubnd", "co", "ltd", "inc",
    "jsc", "cty", "c.ty", "t.ư", "tw", "ct", "pct", "bt", "pbt",
}
# A sentence ends at . ! ? … (possibly repeated, possibly closed by a quote or bracket) followed
# by whitespace; the next sentence starts with an upper-case letter, digit, quote, bracket or dash.
_BOUNDARY = re.compile(r"(?P<end>[.!?…]+[\"”’)\]]*)(?P<space>\s+)(?=[\"“‘(\[\-–•]?\w)")
_WORD_BEFORE = re.compile(r"(\S+)$")


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line, trimmed of surrounding whitespace."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
    return spans


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end] (one paragraph), offsets into `text`."""
    end = len(text) if end is None else end
    spans = []
    cur = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end("end")
        if not _is_sentence_end(text, m.start("end"), stop, m.end()):
            continue
        if stop > cur:
            spans.append((cur, stop))
        cur = m.end()
    if cur < end:
        spans.append((cur, end))
    return [(s, e) for s, e in (_trim(text, s, e) for s, e in spans) if s < e]


def _is_sentence_end(text: str, punct_start: int, punct_end: int, next_start: int) -> bool:
    punct = text[punct_start:punct_end]
    if punct[0] in "!?…" or punct.startswith(".."):
        return _next_is_upper(text, next_start) or punct[0] in "!?"
    word_m = _WORD_BEFORE.search(text, max(0, punct_start - 30), punct_start)
    word = word_m.group(1) if word_m else ""
    bare = word.lstrip("(\"“‘[").lower()
    if bare in _ABBREVIATIONS:
        return False
    if len(bare) == 1 and bare.isalpha() and bare != word.lstrip("(\"“‘["):
        return False  # an initial: "A. Nguyễn" (but "chú ý." / "đồng ý." end a sentence)
    if re.fullmatch(r"[A-ZĐ]\.[A-ZĐ]", word):  # "A.P"
        return False
    return _next_is_upper(text, next_start)


def _next_is_upper(text: str, pos: int) -> bool:
    while pos < len(text) and text[pos] in "\"“‘([-–• ":
        pos += 1
    return pos < len(text) and (text[pos].isupper() or text[pos].isdigit())


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def estimate_tokens(text: str) -> int:
    """Cheap upper-bound-ish estimate of XLM-R tokens when no tokenizer is at hand."""
    return int(len(text.split()) * 1.6) + 4


class Chunker:
    """Groups sentences into ~TARGET_TOKENS chunks with one sentence of overlap.

    >>> Chunker().run("a1", "Câu một. Câu hai.")[0].text
    'Câu một. Câu hai.'
    """

    def __init__(self, count_tokens: Callable[[str], int] | None = None, *, target_tokens: int = TARGET_TOKENS,
                 max_tokens: int = MAX_TOKENS, overlap: int = OVERLAP_SENTENCES):
        if not 0 < target_tokens <= max_tokens <= HARD_LIMIT_TOKENS:
            raise ValueError("need 0 < target_tokens <= max_tokens <= HARD_LIMIT_TOKENS")
        if overlap < 0:
            raise ValueError("overlap must be >= 0")
        self.count_tokens = count_tokens or estimate_tokens
        self.target_tokens = target_tokens
        self.max_tokens = max_tokens
        self.overlap = overlap

    def sentences(self, text: str) -> list[tuple[int, int]]:
        """All sentence spans of an article, paragraph by paragraph, over-long ones cut."""
        spans: list[tuple[int, int]] = []
        for ps, pe in split_paragraphs(text):
            for s, e in split_sentences(text, ps, pe):
                spans.extend(self._cut_long(text, s, e))
        return spans

    def run(self, article_id: str, text: str) -> list[Passage]:
        """Chunks covering the whole article text, in order."""
        # The id changes with the text, so new vectors never overwrite the ones still being served.
        version = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
        sents = self.sentences(text)
        sizes = [self.count_tokens(text[s:e]) for s, e in sents]
        chunks: list[Passage] = []
        i = done = 0  # done: sentences already in a chunk
        while i < len(sents):
            j, total = i, 0
            while j < len(sents) and (j == i or total + sizes[j] <= self.max_tokens):
                total += sizes[j]
                j += 1
                if total >= self.target_tokens and j > done:
                    break
            if j <= done:
                # The overlap alone fills the budget: a chunk of it would repeat the previous one.
                i = done
                continue
            start, end = sents[i][0], sents[j - 1][1]
            chunks.append(Passage(f"{article_id}:{version}:{len(chunks)}", article_id, len(chunks), start, end, text[start:end]))
            if j >= len(sents):
                break
            done = j
            # Overlap: the next chunk repeats the last sentence(s), unless that would not advance.
            i = max(j - self.overlap, i + 1)
        return chunks

    def _cut_long(self, text: str, s: int, e: int) -> Iterable[tuple[int, int]]:
        if self.count_tokens(text[s:e]) <= self.max_tokens:
            yield s, e
            return
        # An over-long "sentence" (a list or a run-on): cut at clause marks, else at spaces.
        pieces = [m.end() for m in re.finditer(r"[;:,]\s", text[s:e])] or [m.end() for m in re.finditer(r"\s", text[s:e])]
        cur = s
        last_ok = None
        for off in pieces + [e - s]:
            cand = s + off
            if self.count_tokens(text[cur:cand]) > self.max_tokens and last_ok is not None and last_ok > cur:
                yield _trim(text, cur, last_ok)
                cur = last_ok
            last_ok = cand
        if cur < e:
            tail = _trim(text, cur, e)
            if self.count_tokens(text[tail[0]:tail[1]]) <= self.max_tokens or " " not in text[tail[0]:tail[1]]:
                yield tail
            else:
                yield from self._cut_by_words(text, *tail)

    def _cut_by_words(self, text: str, s: int, e: int) -> Iterable[tuple[int, int]]:
        cur = s
        # A "word" longer than the budget (a pasted blob) is cut every 200 characters.
        words = [(s + m.start() + k, s + min(m.end(), m.start() + k + 200))
                 for m in re.finditer(r"\S+", text[s:e]) for k in range(0, m.end() - m.start(), 200)]
        for ws, we in words:
            if self.count_tokens(text[cur:we]) > self.max_tokens and ws > cur:
                yield _trim(text, cur, ws)
                cur = ws
        if cur < e:
            yield _trim(text, cur, e)
