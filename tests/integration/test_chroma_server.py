"""Chroma server mode: the same index command and queries against a real `chroma run` on 127.0.0.1."""
from __future__ import annotations

import json
import shutil

import pytest

from assistant.indexing.catalog import Catalog
from assistant.indexing.embed.embeddings import fingerprint_for
from assistant.indexing.vectorstore import VectorStore
from tests.support.paths import CORPUS, SEED_IDS, settings_for
from tests.support.processes import ChromaServer, free_port

A000, A001, A002, A003, A004 = SEED_IDS


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server with its data under tmp_path; yields (url, data folder), always stopped afterwards."""
    with ChromaServer(tmp_path / "chroma-server-data", tmp_path / "chroma.log") as server:
        yield server.url, server.data


def test_index_and_query_through_a_chroma_server(chroma_server, tmp_path, run_cli, embeddings):
    url, data = chroma_server
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for aid in (A001, A003):
        shutil.copy2(CORPUS / f"{aid}.txt", corpus)
    env = {"ASSISTANT_CHROMA_URL": url}

    proc = run_cli("index", "--corpus", corpus, "--index", index, "--json", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["added"] == 2 and summary["errors"] == []
    assert not (index / "chroma").exists()  # nothing went to the embedded store
    assert any(data.iterdir())  # the server persisted the vectors

    settings = settings_for(corpus, index, {"ASSISTANT_CHROMA_URL": url})
    store = VectorStore.open(settings, fingerprint_for(settings))
    cat = Catalog(index, create=False)
    chunk_ids = cat.chunk_ids()
    assert chunk_ids and store.ids() == chunk_ids

    hits = store.query(embeddings.embed_query("Thanh Hóa có bao nhiêu doanh nghiệp đăng ký hoạt động về CNTT?"),
                       len(chunk_ids))
    assert {i for i, _ in hits} == chunk_ids
    top = cat.chunks_by_id([hits[0][0]])[hits[0][0]]
    assert top.article_id == A001 and "2.000" in top.text
    filtered = store.query(embeddings.embed_query("tổng đài 1022"), 3, where={"article_id": A003})
    assert filtered and all(i.startswith(A003 + ":") for i, _ in filtered)
    cat.close()

    # Deleting an article through the same command removes its vectors from the server.
    (corpus / f"{A003}.txt").unlink()
    proc = run_cli("index", "--corpus", corpus, "--index", index, "--json", env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["removed"] == 1, proc.stderr[-2000:]
    cat = Catalog(index, create=False)
    assert VectorStore.open(settings, fingerprint_for(settings)).ids() == cat.chunk_ids()
    assert all(i.startswith(A001 + ":") for i in cat.chunk_ids())
    cat.close()


def test_unreachable_server_is_a_clear_error(tmp_path, run_cli):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(CORPUS / f"{A003}.txt", corpus)
    port = free_port()  # nothing listens here
    proc = run_cli("index", "--corpus", corpus, "--index", tmp_path / "index",
                   env={"ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{port}"}, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert str(port) in proc.stderr and "Traceback" not in proc.stderr
