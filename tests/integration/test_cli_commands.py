"""The CLI flags that had no test, driven as real `python -m assistant` subprocesses: `articles`,
`ask --province/--k/--backend`, and `index --full`."""
from __future__ import annotations

import json

import pytest

from tests.support.llm_server import FakeLLMServer
from tests.support.paths import SEED_IDS

A000, A001, A002, A003, A004 = SEED_IDS
DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
PHONE_QUESTION = "Tỷ lệ người dùng điện thoại thông minh là bao nhiêu?"


def _catalog(index):
    from assistant.indexing.catalog import Catalog

    cat = Catalog(index, create=False)
    try:
        return {a.id: a for a in cat.articles()}
    finally:
        cat.close()


def _ask_json(run_cli, index, *args, env=None) -> dict:
    proc = run_cli("ask", *args, "--json", "--index", index, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


# --- articles -----------------------------------------------------------------------------------------------
def test_articles_lists_every_indexed_article_with_its_metadata(run_cli, built_index):
    proc = run_cli("articles", "--index", built_index / "index")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    catalog = _catalog(built_index / "index")
    assert [r[0] for r in rows] == list(catalog), proc.stdout  # one line per article, in the catalog's order
    assert sorted(catalog) == SEED_IDS and all(len(r) == 5 for r in rows), proc.stdout
    for aid, province, date, chunks, title in rows:
        a = catalog[aid]
        assert (province, date, title) == (a.province or "-", a.date or "-", a.title)
        assert chunks == f"{a.n_chunks} đoạn" and a.n_chunks >= 3
    assert dict((r[0], r[1]) for r in rows)[A003] == "Đồng Tháp"


def test_articles_follows_an_update_and_reads_the_index_folder_from_the_environment(run_cli, index_copy):
    _, corpus, index = index_copy
    (corpus / f"{A002}.txt").unlink()  # a removal: no model is loaded for it
    assert run_cli("index", "--corpus", corpus, "--index", index, "--quiet").returncode == 0
    proc = run_cli("articles", env={"ASSISTANT_INDEX_DIR": str(index)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(line.split("\t")[0] for line in proc.stdout.splitlines()) == [A000, A001, A003, A004]


def test_articles_without_an_index_is_a_clear_error(run_cli, tmp_path):
    proc = run_cli("articles", "--index", tmp_path / "nothing")
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert "nothing" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


# --- ask --province / --k / --backend ---------------------------------------------------------------------
@pytest.mark.parametrize("province, article", [("Đồng Tháp", A003), ("Bến Tre", A004)])
def test_ask_province_restricts_the_sources(run_cli, built_index, province, article):
    obj = _ask_json(run_cli, built_index / "index", PHONE_QUESTION, "--province", province)
    assert obj["retrieved"], obj
    assert {r["article_id"] for r in obj["retrieved"]} == {article}
    assert all(c["article_id"] == article and c["province"] == province for c in obj["citations"])


def test_ask_k_sets_the_number_of_retrieved_passages(run_cli, built_index):
    index = built_index / "index"
    two = _ask_json(run_cli, index, DT_QUESTION, "--k", "2")
    assert len(two["retrieved"]) == 2
    assert two["citations"][0]["article_id"] == A003 and "214" in two["answer"]
    eight = _ask_json(run_cli, index, DT_QUESTION, "--k", "8", env={"ASSISTANT_K": "2"})  # the flag wins
    assert len(eight["retrieved"]) > 2
    assert [r["chunk_id"] for r in eight["retrieved"][:2]] == [r["chunk_id"] for r in two["retrieved"]]


def test_ask_k_out_of_range_is_a_usage_error(run_cli, built_index):
    proc = run_cli("ask", DT_QUESTION, "--k", "0", "--index", built_index / "index")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "k" in proc.stderr.lower()


def test_ask_backend_flag_selects_the_backend_and_beats_the_variable(run_cli, built_index):
    index = built_index / "index"
    with FakeLLMServer() as llm:
        env = {"ASSISTANT_LLM_BASE_URL": llm.url, "ASSISTANT_LLM_MODEL": "quote"}
        via_flag = _ask_json(run_cli, index, DT_QUESTION, "--backend", "openai", env=env)
        assert via_flag["backend"] == "openai" and len(llm.requests) == 1
        assert "214" in via_flag["answer"] and not via_flag["flagged"]
        assert all(f["verified"] for f in via_flag["figures"])
        overridden = _ask_json(run_cli, index, DT_QUESTION, "--backend", "extractive",
                               env={**env, "ASSISTANT_BACKEND": "openai"})
        assert overridden["backend"] == "extractive" and len(llm.requests) == 1  # the LLM was not asked
        assert "214" in overridden["answer"]


def test_ask_unknown_backend_is_a_usage_error(run_cli, built_index):
    proc = run_cli("ask", DT_QUESTION, "--backend", "gpt", "--index", built_index / "index")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "'gpt'" in proc.stderr


# --- index --full -------------------------------------------------------------------------------------------
def test_index_full_reembeds_every_article_with_the_same_chunks(run_cli, index_copy):
    settings, corpus, index = index_copy
    for aid in (A000, A001, A002):  # keep the re-embedding small
        (corpus / f"{aid}.txt").unlink()
    first = run_cli("index", "--corpus", corpus, "--index", index, "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["removed"] == 3, first.stderr[-2000:]
    before = {aid: a.n_chunks for aid, a in _catalog(index).items()}

    proc = run_cli("index", "--full", "--corpus", corpus, "--index", index, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["full"] is True
    assert (summary["updated"], summary["unchanged"], summary["added"], summary["removed"]) == (2, 0, 0, 0)
    assert summary["chunks"] == sum(before.values())
    assert {aid: a.n_chunks for aid, a in _catalog(index).items()} == before

    from assistant.indexing.catalog import Catalog
    from assistant.indexing.embed.embeddings import fingerprint_for
    from assistant.indexing.vectorstore import VectorStore

    cat = Catalog(index, create=False)
    try:
        assert VectorStore.open(settings, fingerprint_for(settings)).ids() == cat.chunk_ids()
    finally:
        cat.close()
    again = run_cli("index", "--corpus", corpus, "--index", index, "--json")  # --full does not stick
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == 2


def test_index_without_full_after_no_change_reembeds_nothing(run_cli, index_copy):
    """The counterpart of --full: the same command without the flag leaves every article unchanged."""
    _, corpus, index = index_copy
    proc = run_cli("index", "--corpus", corpus, "--index", index, "--json")
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0 and summary["full"] is False and summary["unchanged"] == 5 and summary["chunks"] == 0
