"""Two app replicas on one real `chroma run` server (issue 13): each keeps its own catalog and keyword index, the
vectors are shared, so a replica's build embeds nothing another replica already embedded."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.support.paths import CORPUS, ROOT, SEED_IDS
from tests.support.processes import AppServer, ChromaServer, imported_packages, post_json

pytestmark = pytest.mark.timeout(900)

NEW_ARTICLE = """---
title: Trà Vinh phát triển kinh tế số nông nghiệp
province: Trà Vinh
date: 2024-06-10
---
Năm 2023, tỉnh Trà Vinh có 4.321 hộ nông dân bán nông sản trên sàn thương mại điện tử, tăng 37% so với năm 2022.
Tỉnh đặt mục tiêu đến năm 2025 có 10.000 hộ tham gia.
"""
HEAVY = {"torch", "sentence_transformers", "transformers"}


def cli(env, *args: str) -> tuple[dict, set[str]]:
    """Run the CLI; its JSON summary and the top-level packages it imported."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), imported_packages(proc.stderr)


def ask(url: str, question: str) -> dict:
    status, answer = post_json(url, "/api/ask", {"question": question})
    assert status == 200, answer
    return answer


def test_a_second_replica_builds_from_the_shared_vectors_and_answers_what_the_first_added(tmp_path, subprocess_env):
    corpus = tmp_path / "corpus"  # the corpus both replicas read (synced between machines in a deployment)
    corpus.mkdir()
    for aid in SEED_IDS:
        shutil.copy2(CORPUS / f"{aid}.txt", corpus)
    with ChromaServer(tmp_path / "chroma-data", tmp_path / "chroma.log") as chroma:
        # Lazy sentence vectors: the answer stage's per-replica cache is filled by the first answers, so a
        # replica's build embeds nothing at all when the server has the chunk vectors.
        base = {**subprocess_env, "ASSISTANT_CHROMA_URL": chroma.url, "ASSISTANT_SENTENCE_VECTORS": "lazy",
                "ASSISTANT_CORPUS_DIR": str(corpus)}
        env_a = {**base, "ASSISTANT_INDEX_DIR": str(tmp_path / "replica-a")}
        env_b = {**base, "ASSISTANT_INDEX_DIR": str(tmp_path / "replica-b")}
        first, _ = cli(env_a, "index", "--json")
        assert first["added"] == 5 and first["reused"] == 0
        second, mods = cli(env_b, "index", "--json")
        assert second["added"] == 5 and second["reused"] == second["chunks"] == first["chunks"]
        assert not mods & HEAVY  # no model was even loaded

        with AppServer(corpus, tmp_path / "replica-a", env_a, tmp_path / "app-a.log") as app_a, \
                AppServer(corpus, tmp_path / "replica-b", env_b, tmp_path / "app-b.log") as app_b:
            (corpus / "tra_vinh_nong_nghiep.md").write_text(NEW_ARTICLE, encoding="utf-8")
            via_a, _ = cli(env_a, "index", "--json")  # handed to replica A, which embeds the new article
            assert via_a["added"] == 1 and via_a["reused"] == 0
            via_b, mods = cli(env_b, "index", "--json")  # replica B's incremental build: nothing to embed
            assert via_b["added"] == 1 and via_b["reused"] == via_b["chunks"] == via_a["chunks"] > 0
            assert not mods & HEAVY
            q = "Trà Vinh có bao nhiêu hộ nông dân bán nông sản trên sàn thương mại điện tử năm 2023?"
            for app in (app_b, app_a):
                answer = ask(app.url, q)
                assert not answer["abstained"] and "4.321" in answer["answer"], app.log_tail()
                assert answer["citations"][0]["article_id"] == "tra_vinh_nong_nghiep"
            # A seed article is still answered by both: B's first build swept nothing of A's.
            seed_q = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
            assert all("214" in ask(app.url, seed_q)["answer"] for app in (app_a, app_b))
