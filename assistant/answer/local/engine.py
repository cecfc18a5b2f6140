"""The local model, loaded once per process: xllamacpp's in-process llama.cpp server.

`get_engine(path)` loads the GGUF at the first call (a few seconds) and keeps it; `chat_stream`
sends one OpenAI-style chat request and yields the reply's text as it is generated. Decoding is
greedy, so the same prompt gives the same reply. Every failure is an LLMError (LocalModelError
when the model cannot be loaded), which the pipeline turns into the extractive answer.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    engine = get_engine(prepare_model())
    "".join(engine.chat_stream([{"role": "user", "content": "Xin chào"}], 60.0))
"""
from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from assistant.answer.llm import LLMError
from assistant.answer.local.gguf import MISSING_PARTS_MESSAGE, LocalModelError

# This machine has 2 CPU cores; llama.cpp is fastest with one thread per physical core.
N_THREADS = 2
# Room for the prompt (instructions + at most answerer.MAX_PROMPT_SOURCE_CHARS of sources, ~1,000
# tokens), a retry turn and MAX_TOKENS; the model allows 32k, but the KV cache grows with it.
N_CTX = 4096
# Short answers: a figure with its sentence and [n] is well under 150 tokens, and at ~10 tok/s on
# 2 shared cores this caps generation at ~25 s.
MAX_TOKENS = 256
# Greedy decoding (temperature 0, top-k 1): one reply per prompt, so a streamed reply can be reused.
TEMPERATURE = 0.0
TOP_K = 1
# Unused by greedy decoding; fixed so that a sampling experiment is repeatable.
SEED = 42


class _Engine:
    """One loaded model: xllamacpp's in-process llama.cpp server (OpenAI-style chat requests)."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int):
        try:
            import xllamacpp as xlc
        except ImportError:
            raise LocalModelError(f"{MISSING_PARTS_MESSAGE} (thiếu gói xllamacpp)") from None
        import secrets

        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx
        params.n_predict = MAX_TOKENS
        params.n_parallel = 1
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.sampling.temp = TEMPERATURE
        params.sampling.top_k = TOP_K
        params.sampling.seed = SEED
        params.warmup = False      # the first answer warms up; keeps loading short
        params.verbosity = 0       # llama.cpp logs only errors
        params.ui = False
        params.endpoint_slots = False
        # The embedded server also listens on a loopback port; nothing here uses it, so lock it.
        params.api_keys = [secrets.token_urlsafe(24)]
        t = time.perf_counter()
        try:
            self.server = xlc.Server(params)
        except Exception as exc:
            raise LocalModelError(f"không nạp được mô hình cục bộ {path} ({type(exc).__name__}: {exc})") from None
        self.load_seconds = time.perf_counter() - t
        self.path = path
        self.last_timings: dict[str, Any] = {}

    def chat_stream(self, messages: list[dict[str, str]], timeout: float) -> Iterator[str]:
        """Yield the reply's text pieces; LLMError on a server error or after `timeout` seconds.

        The request runs in a worker thread (xllamacpp calls back per token in the calling thread);
        returning True from the callback stops generation when the consumer is gone or time is up.
        """
        deadline = time.monotonic() + timeout
        pieces: queue.Queue = queue.Queue()
        stop = threading.Event()

        def callback(chunk: Any) -> bool:
            pieces.put(("chunk", chunk))
            return stop.is_set() or time.monotonic() > deadline

        def work() -> None:
            try:
                result = self.server.handle_chat_completions(
                    {"messages": messages, "max_tokens": MAX_TOKENS, "temperature": TEMPERATURE, "stream": True,
                     "cache_prompt": True}, callback)
                pieces.put(("done", result))
            except BaseException as exc:  # reported to the consumer, never lost in the thread
                pieces.put(("error", exc))

        threading.Thread(target=work, name="local-llm", daemon=True).start()
        try:
            while True:
                try:
                    kind, value = pieces.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    raise LLMError(_timeout_message(timeout)) from None
                if kind == "error":
                    raise LLMError(f"mô hình cục bộ gặp lỗi ({type(value).__name__}: {value})")
                if kind == "done":
                    if isinstance(value, dict) and value.get("error"):
                        raise LLMError(_server_error(value))
                    return
                if not isinstance(value, dict):
                    value = json.loads(value)
                if value.get("error"):
                    raise LLMError(_server_error(value))
                if value.get("timings"):
                    self.last_timings = dict(value["timings"])
                for choice in value.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text
                if time.monotonic() > deadline:
                    raise LLMError(_timeout_message(timeout))
        finally:
            stop.set()


def _timeout_message(timeout: float) -> str:
    return f"mô hình cục bộ không trả lời kịp (quá {timeout:g} giây; có thể tăng ASSISTANT_LLM_TIMEOUT)"


def _server_error(reply: dict) -> str:
    err = reply.get("error")
    msg = err.get("message", "") if isinstance(err, dict) else str(err)
    if isinstance(err, dict) and err.get("type") == "exceed_context_size_error":
        return f"câu hỏi và nguồn vượt quá ngữ cảnh của mô hình cục bộ ({msg})"
    return f"mô hình cục bộ trả lời lỗi ({msg[:200]})"


_ENGINES: dict[tuple[str, int, int], _Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(path: Path, n_ctx: int = N_CTX, n_threads: int = N_THREADS) -> _Engine:
    """The loaded model for `path`, loading it on first use (once per process, thread-safe)."""
    key = (str(Path(path).resolve()), n_ctx, n_threads)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _Engine(Path(path), n_ctx, n_threads)
        return engine
