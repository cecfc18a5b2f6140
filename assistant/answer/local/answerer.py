"""The opt-in local backend: Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M) answering in-process.

The model file comes from `gguf` (`python -m assistant.answer.local.gguf --prepare`), the loaded
model from `engine`; this module writes the prompt and turns the reply into an Answer.

The model is loaded lazily, at the first answer, and once per process; every answer it gives is
verified by the pipeline exactly like the openai backend's (it invents figures when the sources
lack them, so unverified figures get flagged and the extractive answer shown alongside).

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    LocalAnswerer(settings).run(info, hits)
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from assistant.answer.guard import ReplyGuard
from assistant.answer.llm import MAX_SOURCE_CHARS, LLMError, build_messages, to_answer
from assistant.answer.local.engine import _Engine, get_engine
from assistant.answer.local.gguf import resolve_model_path
from assistant.config import Settings
from assistant.types import ABSTAIN_PREFIX, Answer, Hit
from assistant.vi.question import QuestionInfo
from assistant.vi.tokens import lexical_tokens

# Prompt reading is the slow part (~15-30 tokens/s on 2 shared cores; 1 token is ~3 characters of
# Vietnamese), and this 1.5B model answers better from fewer sources (with 3+ chunks it tends to
# restate the question), so it sees the best-ranked chunks up to this many characters (at least one).
MAX_PROMPT_SOURCE_CHARS = 2400

# Asked once when the model's reply only restates the question (this model does that now and then).
RETRY_PROMPT = ("Trả lời thẳng vào câu hỏi bằng câu khẳng định, chép đúng số liệu từ nguồn và ghi [n] của nguồn "
                "đó ngay sau câu; không nhắc lại câu hỏi. Nếu các nguồn không có thông tin, chỉ trả lời: "
                f"\"{ABSTAIN_PREFIX} trong các bài viết hiện có.\"")

# Hand-set, not measured (to be learned in the answers issue): a reply that is a question, with at
# least this share of its words taken from the asked question, restates it instead of answering.
RESTATE_MIN_OVERLAP = 0.6

_CITATION_MARK = re.compile(r"\[\d+\]")


def prompt_hits(hits: list[Hit], budget: int = MAX_PROMPT_SOURCE_CHARS) -> list[Hit]:
    """The best-ranked hits whose text fits the prompt budget (at least one).

    A prefix of `hits`, so the [n] the model writes keep the numbering of the full list.
    """
    kept, used = [], 0
    for h in hits:
        size = min(len(h.chunk.text), MAX_SOURCE_CHARS)
        if kept and used + size > budget:
            break
        kept.append(h)
        used += size
    return kept


class LocalAnswerer:
    """Answer with the local GGUF model (same interface as llm.OpenAIAnswerer).

    Construction is instant; the model file is prepared and loaded at the first answer, once per
    process. Every failure is an LLMError, so the pipeline falls back to the extractive answer.
    """

    backend = "local"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.timeout = float(settings.llm_timeout)
        self._engine: _Engine | None = None
        self._last_reply: tuple[tuple, str] | None = None

    @property
    def engine(self) -> _Engine:
        if self._engine is None:
            self._engine = get_engine(resolve_model_path(self.settings))
        return self._engine

    @property
    def last_timings(self) -> dict[str, Any]:
        """llama.cpp's timings of the latest reply (prompt_n, prompt_per_second, predicted_per_second…)."""
        return dict(self._engine.last_timings) if self._engine else {}

    def stream(self, info: QuestionInfo, hits: list[Hit]) -> Iterator[str]:
        """Yield the reply text as it is generated."""
        engine = self.engine
        used = prompt_hits(hits)
        text = ""
        for piece in ReplyGuard(self.timeout, "mô hình cục bộ").run(engine.chat_stream(_messages(info, used), self.timeout)):
            text += piece
            yield piece
        # Decoding is greedy: a caller that streams and then calls run() gets this same reply.
        self._last_reply = (_reply_key(info, used), text)

    def finish(self, info: QuestionInfo, hits: list[Hit], text: str) -> Answer:
        """A streamed reply as an (unverified) Answer; a reply that only restates the question is retried once."""
        self._last_reply = None
        used = prompt_hits(hits)
        if restates_question(text, info.text):
            # One more turn; the prompt is in the KV cache, so this costs seconds, not a re-read.
            retry = _messages(info, used) + [{"role": "assistant", "content": text},
                                             {"role": "user", "content": RETRY_PROMPT}]
            text = "".join(self.engine.chat_stream(retry, self.timeout))
            if restates_question(text, info.text):
                raise LLMError("mô hình cục bộ chỉ nhắc lại câu hỏi mà không trả lời")
        return to_answer(info, used, text, "local")

    def run(self, info: QuestionInfo, hits: list[Hit]) -> Answer:
        """The full reply as an (unverified) Answer (the one just streamed for the same sources, if any)."""
        last = self._last_reply
        text = last[1] if last and last[0] == _reply_key(info, prompt_hits(hits)) else "".join(self.stream(info, hits))
        return self.finish(info, hits, text)


def _messages(info: QuestionInfo, hits: list[Hit]) -> list[dict[str, str]]:
    """llm.build_messages as OpenAI-style dicts for the chat template."""
    return [{"role": "user" if role == "human" else role, "content": content}
            for role, content in build_messages(info.text, hits)]


def _reply_key(info: QuestionInfo, hits: list[Hit]) -> tuple:
    return info.text, tuple(h.chunk.chunk_id for h in hits)


def restates_question(reply: str, question: str) -> bool:
    """A reply that is itself a question made of the question's words (small models do this).

    >>> restates_question("Đồng Tháp có bao nhiêu dịch vụ công? [1]", "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến?")
    True
    >>> restates_question("Đồng Tháp có 1.200 dịch vụ công trực tuyến [1].", "Đồng Tháp có bao nhiêu dịch vụ công?")
    False
    """
    body = _CITATION_MARK.sub(" ", reply).strip().rstrip(".").strip()
    if not body.endswith("?"):
        return False
    words = set(lexical_tokens(body, pairs=False))
    return bool(words) and len(words & set(lexical_tokens(question, pairs=False))) >= RESTATE_MIN_OVERLAP * len(words)
