"""Limits on a generative reply while it streams: a wall-clock deadline and a repetition guard.

A small model at temperature 0 can loop ("… [1]. … [1]. … [1]." until its context is full); a slow
server can trickle bytes forever, which a per-read timeout never stops. `ReplyGuard` stops both,
raising `LLMError` so the pipeline gives the extractive answer instead of the partial text.

>>> pieces = iter(["Đồng Tháp có 214 dịch vụ [1]. "] * 5)
>>> list(ReplyGuard(deadline_s=10).run(pieces))  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
LLMError: mô hình ngôn ngữ lặp lại câu trả lời ...
"""
from __future__ import annotations

import queue
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

from assistant.errors import AssistantError

# A loop repeats a span of words; in a short cited answer a run of this many words occurring this often is
# never legitimate (a three-province comparison repeats "dịch vụ công trực tuyến một phần", 7 syllables,
# three times), so the guard sits above that.
LOOP_NGRAM_WORDS = 10
LOOP_REPEATS = 3
_WORD = re.compile(r"\w+|\[\d+\]")


class LLMError(AssistantError, RuntimeError):
    """The language model could not be reached or gave an unusable reply."""


def looping(text: str, n: int = LOOP_NGRAM_WORDS, repeats: int = LOOP_REPEATS) -> bool:
    """Whether some run of `n` words occurs `repeats` times in the text."""
    words = _WORD.findall(text.lower())
    if len(words) < n * repeats:
        return False
    counts = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return max(counts.values()) >= repeats


@dataclass
class ReplyGuard:
    """Consume a reply stream under a wall-clock deadline (seconds for the whole reply), stopping loops.

    The stream is read in a worker thread, so a server that sends nothing (or a byte now and then) is
    abandoned at the deadline however its connection behaves.
    """

    deadline_s: float
    what: str = "mô hình ngôn ngữ"

    def __post_init__(self) -> None:
        if not self.deadline_s > 0:
            raise ValueError(f"deadline_s must be > 0, got {self.deadline_s!r}")

    def run(self, pieces: Iterable[str]) -> Iterator[str]:
        """Yield the pieces as they arrive; LLMError at the deadline or when the reply loops."""
        box: queue.Queue = queue.Queue()
        stop = threading.Event()

        def pump() -> None:
            try:
                for p in pieces:
                    if stop.is_set():
                        return
                    box.put(("piece", p))
                box.put(("end", None))
            except BaseException as exc:  # handed to the reading side, which raises it there
                box.put(("error", exc))

        threading.Thread(target=pump, daemon=True, name="llm-reply").start()
        end = time.monotonic() + self.deadline_s
        text = ""
        try:
            while True:
                try:
                    kind, value = box.get(timeout=max(0.0, end - time.monotonic()))
                except queue.Empty:
                    raise LLMError(f"{self.what} không trả lời xong trong {self.deadline_s:g} giây (quá thời gian "
                                   "cho phép, ASSISTANT_LLM_TIMEOUT)") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                text += value
                if looping(text):
                    raise LLMError(f"{self.what} lặp lại câu trả lời và đã bị dừng")
                yield value
        finally:
            stop.set()
