"""Reliability of the real app (subprocess, 127.0.0.1) under concurrent `gradio_client` clients, and while the
index command is killed -9 and rerun beside it (a short version of `python -m benchmarks.load`).

Faults under a running `Service`, kills at exact write points and a Chroma server that goes away are in
tests/integration/test_reliability.py.
"""
from __future__ import annotations

import shutil

import pytest

from tests.support.index_kill import kill_index_while_embedding
from tests.support.load import rebuild_while_serving, run_clients, warm_up
from tests.support.processes import AppServer


@pytest.fixture(scope="module")
def app(tmp_path_factory, built_index, subprocess_env):
    """The real app (subprocess, 127.0.0.1) over a private copy of the seed index, warmed up."""
    base = tmp_path_factory.mktemp("reliability-app")
    shutil.copytree(built_index / "corpus", base / "corpus")
    shutil.copytree(built_index / "index", base / "index")
    with AppServer(base / "corpus", base / "index", subprocess_env, base / "app.log") as server:
        warm_up(server.url)
        yield server


def test_five_concurrent_clients_each_get_their_own_answers(app):
    res = run_clients(app.url, 5, duration=300, max_requests=20, timeout=120)
    assert res["requests"] == 20 and len({r["client"] for r in res["records"]}) == 5
    assert res["errors"] == 0, res["error_samples"]
    assert res["mixups"] == 0, res["mixup_samples"]  # own question back, cited from the right article
    assert res["latency_ms"]["p95"] is not None


def test_rebuild_while_serving_survives_a_killed_indexer(app, tmp_path):
    """3 clients ask while an article is added; the first `index` run is killed -9 inside the model call,
    the second completes; no request fails, the app answers from the new article without a restart, and it
    never takes the live index for broken (regression: a read racing the build used to make it move the
    index aside and rebuild it while the command was writing)."""
    killed_after: list[float] = []

    def kill_first_build(_cycle: int) -> None:
        killed_after.append(kill_index_while_embedding(app.corpus, app.index, app.env, tmp_path / "embedding"))

    res = rebuild_while_serving(app.url, app.corpus, app.index, app.env, clients=3, cycles=1, probe_every=3,
                                pause=0.3, on_cycle=kill_first_build)
    assert killed_after, "the killed build did not run"
    load = res["load"]
    assert load["requests"] > 0 and load["errors"] == 0, load["error_samples"]
    assert load["mixups"] == 0, load["mixup_samples"]
    cycle = res["cycles"][0]
    assert cycle["index_returncode"] == 0, cycle.get("index_stderr")
    assert cycle["summary"]["added"] == 1  # the killed run committed nothing; the restart did the work
    assert cycle["new_article_problems"] == []  # answered from the new article, no restart of the app
    assert not list(app.index.parent.glob("index.broken-*")), app.log_text()[-3000:]
    assert "Traceback" not in app.log_text()
