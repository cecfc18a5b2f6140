"""No secret in any command-line output, and no flag that takes one (the real CLI, subprocesses).

The running app's secure defaults are in tests/e2e/test_security_app.py, the in-process ones in
tests/unit/test_security_inprocess.py. Not repeated here: secrets kept out of `repr(Settings)` and config
errors (tests/unit/test_config.py), sanitized upload names and the byte limit of `save_article_bytes` for
every kind of bad upload (tests/unit/test_corpus_admin.py).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.support.llm_server import FakeLLMServer
from tests.support.paths import ROOT

SECRET = "sk-secret-xyz"
DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"


@pytest.fixture(scope="module")
def llm():
    with FakeLLMServer() as srv:
        yield srv


def test_no_secret_in_cli_output_even_when_the_llm_fails(run_cli, built_index, llm, tmp_path):
    env = {"ASSISTANT_LLM_API_KEY": SECRET, "ASSISTANT_BACKEND": "openai", "ASSISTANT_LLM_BASE_URL": llm.url,
           "ASSISTANT_LLM_MODEL": "error"}
    ask = run_cli("ask", DT_QUESTION, "--json", "--index", built_index / "index", env=env)
    assert ask.returncode == 0, ask.stderr[-2000:]
    assert "trả lời lỗi" in ask.stdout  # the LLM failed: the extractive answer with a notice
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built_index / "corpus", corpus)
    shutil.copytree(built_index / "index", index)
    build = run_cli("index", "--corpus", corpus, "--index", index, env=env)
    bad_config = run_cli("ask", DT_QUESTION, env={**env, "ASSISTANT_LLM_TIMEOUT": "soon"})
    assert build.returncode == 0 and bad_config.returncode == 2
    for proc in (ask, build, bad_config):
        assert SECRET not in proc.stdout + proc.stderr


def test_the_api_key_can_only_come_from_the_environment(run_cli, subprocess_env):
    helps = [run_cli(cmd, "--help").stdout for cmd in ("ask", "index", "eval")]
    helps.append(subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, env=subprocess_env,
                                capture_output=True, text=True, timeout=120).stdout)
    for text in helps:  # no flag takes a key (it would land in shell history and `ps` output)
        assert text and not re.search(r"--[\w-]*(key|token|secret)", text, re.I) and "API_KEY" not in text
