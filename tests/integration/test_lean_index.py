"""Lean serving (issue 13): one Chroma query and one catalog read per question, connections closed on reopen,
the model loaded in its serving precision, a bounded number of set-aside broken indexes."""
from __future__ import annotations

import logging
import threading

import pytest

from assistant.indexing.catalog import Catalog
from assistant.indexing.embed.embeddings import fingerprint_for, serving_dtype
from assistant.indexing.quarantine import KEEP_BROKEN, quarantine
from assistant.indexing.reader import IndexReader
from assistant.indexing.vectorstore import VectorStore, VectorStoreError
from assistant.retrieve import retriever as R
from assistant.retrieve.retriever import HybridRetriever

QUESTIONS = ["Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số năm 2021?",
             "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
             "hau giang 17/63", "4.321 ý kiến", "là gì?", "So sánh Bến Tre và Hậu Giang về kinh tế số"]


@pytest.fixture
def reader(index_copy, embeddings):
    settings, _, _ = index_copy
    r = IndexReader(settings, embeddings)
    yield r
    r.close()


class Spy:
    """Counts the calls of one method of an object (the real method runs)."""

    def __init__(self, obj, name: str):
        self.calls: list[tuple] = []
        real = getattr(obj, name)

        def wrapper(*args, **kwargs):
            self.calls.append((args, kwargs))
            return real(*args, **kwargs)

        setattr(obj, name, wrapper)


def test_candidates_are_the_dense_chunks_and_the_keyword_matches_in_one_read(reader):
    cat: Catalog = reader.catalog
    some_ids = sorted(cat.chunk_ids())[::3] + ["not-a-chunk:0"]
    for q in QUESTIONS:
        by_id, keyword = cat.candidates(q, some_ids, 10)
        assert by_id == cat.chunks_by_id(some_ids)
        old = cat.keyword_search(q, 10)
        assert [(p.chunk_id, round(s, 9)) for p, s in keyword] == [(p.chunk_id, round(s, 9)) for p, s in old], q
    assert cat.candidates("là gì?", [], 10) == ({}, [])  # no searchable token, no dense id: nothing, no error


def test_one_chroma_query_and_one_catalog_read_per_question(reader):
    retriever = HybridRetriever.from_settings(reader.settings, reader)
    queries = Spy(reader.store, "query")
    counts = Spy(reader.store, "count")
    cat = reader.catalog
    reads = [Spy(cat, name) for name in ("candidates", "chunks_by_id", "chunks_by_rowid", "keyword_search")]
    for q in QUESTIONS:
        retriever.search(q, k=5)
    assert len(queries.calls) == len(QUESTIONS) and not counts.calls  # the seed index is smaller than the wide list
    assert [len(s.calls) for s in reads] == [len(QUESTIONS), 0, 0, 0]


def test_each_named_province_gets_its_nearest_chunks_as_with_one_filtered_query_each(reader):
    """The wide list is cut per province when it holds enough of it; otherwise that province is queried alone."""
    q = "So sánh Bến Tre và Hậu Giang về kinh tế số"
    asked = ["Bến Tre", "Hậu Giang"]
    qvec = reader.embeddings.encode_queries([q])[0]
    store = reader.store
    for n, m in ((2, 3), (4, 2), (40, 10)):
        dense, keyword = R._candidates(reader, q, qvec, n, m, asked)
        want = {cid for cid, _ in store.query(qvec, n)}
        for p in asked:
            want |= {cid for cid, _ in store.query(qvec, m, where={"province": p})}
        assert {rec.chunk_id for rec, _ in dense} == want, (n, m)
        assert len(keyword) <= n


def test_vector_queries_send_no_count_and_a_k_beyond_the_collection_returns_all(reader):
    store = reader.store
    counts = Spy(store, "count")
    total = len(store.ids())
    vec = reader.embeddings.encode_queries(["kinh tế số"])[0]
    assert len(store.query(vec, 10_000)) == total
    assert store.query(vec, 0) == []
    assert not counts.calls


def test_reopen_closes_the_old_connection_once_its_calls_return(index_copy):
    settings, _, _ = index_copy
    store = VectorStore.open(settings, fingerprint_for(settings))
    vec = [0.05] * 384
    for _ in range(5):
        store.reopen()
        assert store.query(vec, 3)
    assert store.closed_connections == 5

    entered, release = threading.Event(), threading.Event()
    got = []

    def slow_reader():  # a query that started on the old connection and is still running during the reopen
        with store._using() as handle:
            entered.set()
            release.wait(30)
            got.append(handle.collection.query(query_embeddings=[vec], n_results=2)["ids"][0])

    th = threading.Thread(target=slow_reader)
    th.start()
    entered.wait(30)
    store.reopen()
    assert store.closed_connections == 5  # not closed under the running call
    release.set()
    th.join(30)
    assert len(got[0]) == 2 and store.closed_connections == 6
    store.close()
    with pytest.raises(VectorStoreError):
        store.query(vec, 1)
    assert store.closed_connections == 7


def test_the_model_is_loaded_in_its_serving_precision(torch_embeddings):
    import torch

    dtypes = {p.dtype for p in torch_embeddings.model.parameters()}
    assert dtypes == {serving_dtype("auto")}
    assert serving_dtype("fp32") == torch.float32 and serving_dtype("bf16") == torch.bfloat16


def test_quarantine_keeps_the_newest_two_broken_indexes_and_says_so(tmp_path, caplog):
    index = tmp_path / "index"
    moved = []
    for i in range(4):
        index.mkdir()
        (index / "catalog.sqlite").write_bytes(b"broken %d" % i)
        with caplog.at_level(logging.WARNING, logger="assistant"):
            moved.append(quarantine(index))
    kept = sorted(tmp_path.glob("index.broken-*"))
    assert KEEP_BROKEN == 2 and kept == sorted(moved[-2:])
    assert [(p / "catalog.sqlite").read_bytes() for p in kept] == [b"broken 2", b"broken 3"]
    deleted = [r.getMessage() for r in caplog.records if "kept the newest 2" in r.getMessage()]
    assert len(deleted) == 2 and moved[0].name in deleted[0] and moved[1].name in deleted[1]
    assert quarantine(index) is None  # nothing to move: no folder
