"""The openai backend against a real llama.cpp server (xllamacpp.Server on 127.0.0.1), opt-in like the local backend.

Deselected by default (pytest.ini: -m "not local_llm"). Set up with ./scripts/setup_local_llm.sh, then
    .venv/bin/python -m pytest -m local_llm tests/integration/test_llm_real_server.py
Whatever the small model writes, what the user gets must hold: a verified answer, or the extractive one first.
"""
from __future__ import annotations

import time

import pytest

from tests.support.llm_server import LlamaCppServer
from tests.support.paths import settings_for

pytestmark = [pytest.mark.local_llm, pytest.mark.timeout(1800)]

QUESTIONS = [
    "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
    "Kinh tế số của Tiền Giang chiếm bao nhiêu phần trăm GRDP năm 2021?",
    "Dân số Đà Nẵng là bao nhiêu?",
]
DEADLINE_S = 90.0  # generous for 2 shared cores; the point is that it holds, not the model's speed


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("xllamacpp", reason="the local extra is not installed: ./scripts/setup_local_llm.sh")
    from assistant.answer.local.gguf import prepare_model

    with LlamaCppServer(prepare_model()) as srv:
        yield srv


@pytest.mark.parametrize("question", QUESTIONS)
def test_what_the_user_gets_from_a_real_model_is_verified_or_the_extractive_answer_comes_first(server, built_index,
                                                                                              embeddings, question):
    from assistant.app.pipeline import Assistant
    from assistant.indexing.reader import IndexReader

    base = settings_for(built_index / "corpus", built_index / "index")
    s = base.replace(backend="openai", llm_base_url=server.url, llm_model="local", llm_timeout=DEADLINE_S)
    t = time.perf_counter()
    a = Assistant(s, IndexReader(s, embeddings)).ask(question)
    assert time.perf_counter() - t < DEADLINE_S + 15  # the wall-clock deadline holds
    shown = a.fallback if a.fallback is not None else a
    if a.backend == "openai" and a.fallback is None:  # shown as the model wrote it: then it passed every check
        assert not a.flagged and all(f.verified for f in a.figures)
        assert a.abstained or a.citations
    assert not shown.flagged and all(f.verified for f in shown.figures)
