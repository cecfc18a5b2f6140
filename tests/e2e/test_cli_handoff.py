"""`python -m assistant index` and `ask` hand their job to the running app of the same index (issue 13, light CLI):
the real app, the real CLI, no model loaded by the CLI; and its own build once the app is gone."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.app.handoff import HANDOFF_FILE, TOKEN_HEADER
from assistant.ingest.corpus_admin import AUDIT_FILE
from tests.support.paths import ROOT
from tests.support.processes import AppServer, imported_packages, post_json, private_copy

pytestmark = pytest.mark.timeout(900)

NEW_ARTICLE = """---
title: Vĩnh Long số hóa hồ sơ đất đai
province: Vĩnh Long
date: 2024-05-02
---
Năm 2023, tỉnh Vĩnh Long đã số hóa 1.234.567 hồ sơ đất đai, đạt 91% kế hoạch, theo Sở Tài nguyên và Môi trường.
Tỉnh phấn đấu đến năm 2025 hoàn thành số hóa toàn bộ hồ sơ đất đai.
"""
HEAVY = ("torch", "sentence_transformers", "chromadb", "transformers")


def cli(env, *args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + ["-m", "assistant", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def app(tmp_path_factory, subprocess_env):
    corpus, index = private_copy(tmp_path_factory, subprocess_env, "handoff")
    env = {**subprocess_env, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index)}
    with AppServer(corpus, index, env, tmp_path_factory.mktemp("handoff-logs")) as server:
        server.cli_env = env
        yield server


def test_the_app_publishes_where_it_listens_readable_by_its_owner_only(app):
    rec = json.loads((app.index / HANDOFF_FILE).read_text())
    assert rec["url"].rstrip("/") == app.url.rstrip("/") and rec["pid"] == app.proc.pid
    assert (app.index / HANDOFF_FILE).stat().st_mode & 0o077 == 0
    assert len(rec["token"]) >= 32


def test_a_build_needs_the_token_of_the_index_folder(app):
    status, body = post_json(app.url, "/api/index", {"full": False})
    assert status == 403 and "python -m assistant index" in body["detail"]
    status, _ = post_json(app.url, "/api/index", {"full": False}, {TOKEN_HEADER: "x" * 43})
    assert status == 403


def test_index_and_ask_run_in_the_app_without_loading_a_model(app):
    (app.corpus / "vinh_long_dat_dai.md").write_text(NEW_ARTICLE, encoding="utf-8")
    run = cli(app.cli_env, "index", "--json", importtime=True)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["added"] == 1 and summary["unchanged"] == 5 and summary["errors"] == []
    assert app.url.rstrip("/") in run.stderr  # it says who did the work
    assert not imported_packages(run.stderr) & set(HEAVY), [ln for ln in run.stderr.splitlines() if "import time" not in ln]
    audit = [json.loads(line) for line in (app.corpus / AUDIT_FILE).read_text(encoding="utf-8").splitlines()]
    assert audit[-1]["action"] == "xay-dung-lai" and audit[-1]["reason"] == "python -m assistant index"

    ask = cli(app.cli_env, "ask", "--json", "Vĩnh Long đã số hóa bao nhiêu hồ sơ đất đai năm 2023?", importtime=True)
    assert ask.returncode == 0, ask.stderr[-2000:]
    answer = json.loads(ask.stdout.strip().splitlines()[-1])
    assert not answer["abstained"] and "1.234.567" in answer["answer"]
    assert answer["citations"][0]["article_id"] == "vinh_long_dat_dai"
    assert not imported_packages(ask.stderr) & set(HEAVY)
    text = cli(app.cli_env, "ask", "Vĩnh Long đã số hóa bao nhiêu hồ sơ đất đai năm 2023?")
    assert "1.234.567" in text.stdout and "Nguồn:" in text.stdout and "[1] Vĩnh Long số hóa hồ sơ đất đai" in text.stdout


def test_errors_of_the_app_reach_the_terminal_in_vietnamese(app):
    run = cli(app.cli_env, "ask", "   ")
    assert run.returncode == 2 and run.stderr.startswith("lỗi: ")


def test_local_flag_and_a_stopped_app_build_in_the_cli_itself(tmp_path_factory, subprocess_env):
    corpus, index = private_copy(tmp_path_factory, subprocess_env, "handoff-stopped")
    env = {**subprocess_env, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index)}
    with AppServer(corpus, index, env, tmp_path_factory.mktemp("handoff-stopped-logs")):
        assert (index / HANDOFF_FILE).is_file()
        (corpus / "vinh_long_dat_dai.md").write_text(NEW_ARTICLE, encoding="utf-8")
        local = cli(env, "index", "--json", "--local")
        assert local.returncode == 0 and json.loads(local.stdout.splitlines()[-1])["added"] == 1
        assert "ứng dụng" not in local.stderr
    assert not (index / HANDOFF_FILE).exists()  # withdrawn when the app stopped
    (corpus / "vinh_long_dat_dai.md").unlink()
    alone = cli(env, "index", "--json")
    assert alone.returncode == 0 and json.loads(alone.stdout.splitlines()[-1])["removed"] == 1
