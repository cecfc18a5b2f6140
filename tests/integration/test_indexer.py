"""Incremental index builds with the real model, a real embedded Chroma and the SQLite catalog."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from filelock import FileLock

from assistant.indexing.catalog import Catalog
from assistant.ingest.chunking import CHUNKER_VERSION
from assistant.indexing.embed.embeddings import fingerprint_for
from assistant.indexing.indexer import LOCK_FILE, IndexBusyError, Indexer, embedding_text
from assistant.indexing.lexical import FTS_TABLE
from assistant.indexing.sentence_vectors import chunk_sentences
from assistant.indexing.vectorstore import VectorStore, collection_name
from tests.support.paths import SEED_IDS, settings_for

A000, A001, A002, A003, A004 = SEED_IDS


def open_all(settings):
    """(catalog, vector store) of an index, opened the way the app opens them."""
    return Catalog(settings.index_dir, create=False), VectorStore.open(settings, fingerprint_for(settings))


def ids_by_article(cat: Catalog) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rec in cat.iter_chunks():
        out.setdefault(rec.article_id, set()).add(rec.chunk_id)
    return out


def assert_consistent(settings):
    """Catalog, keyword index and Chroma describe exactly the same chunks."""
    cat, store = open_all(settings)
    try:
        chunk_ids = cat.chunk_ids()
        assert store.ids() == chunk_ids
        fts = {r[0] for r in cat.conn.execute(f"SELECT rowid FROM {FTS_TABLE}")}
        assert fts == {r[0] for r in cat.conn.execute("SELECT rowid FROM chunks")}
        for a in cat.articles():
            recs = cat.chunks_of(a.id)
            assert [r.index for r in recs] == list(range(len(recs))) and recs, a.id
            assert all(a.text[r.start:r.end] == r.text for r in recs)
        return chunk_ids
    finally:
        cat.close()


def fts_rows(cat: Catalog, token: str) -> list[int]:
    return [r[0] for r in cat.conn.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?",
                                           (f'"{token}"',))]


def chunk_passages(recording, chunk_texts) -> list[str]:
    """The chunk texts among what was embedded; the rest must be sentences of those chunks (the answer stage's
    sentence vectors), so nothing outside the changed articles was embedded."""
    sentences = set(chunk_sentences(chunk_texts))
    chunks = [p for p in recording.passages if p not in sentences]
    assert all(p in sentences for p in recording.passages if p not in chunks)
    return chunks


def run(settings, recording, **kw):
    return Indexer(settings, embeddings=recording, show_progress=False).run(**kw)


# --- the full build ----------------------------------------------------------------------------

def test_full_build_indexes_every_article(index_copy, embeddings):
    settings, corpus, index = index_copy
    cat, store = open_all(settings)
    assert sorted(a.id for a in cat.articles()) == SEED_IDS
    assert cat.get_meta("model_fingerprint") == fingerprint_for(settings) == embeddings.fingerprint
    assert f"chunker={CHUNKER_VERSION}" in cat.get_meta("versions")
    assert store.collection.metadata.get("hnsw:space") == "cosine"
    assert store.name == collection_name(settings, embeddings.fingerprint)
    cat.close()
    assert len(assert_consistent(settings)) >= 5 * 3


def test_vectors_metadata_and_documents_are_ours(index_copy, embeddings):
    settings, _, _ = index_copy
    cat, store = open_all(settings)
    recs = cat.chunks_of(A000)
    got = store.collection.get(ids=[r.chunk_id for r in recs], include=["embeddings", "metadatas", "documents"])
    by_id = {i: (np.asarray(e), m, d) for i, e, m, d in zip(got["ids"], got["embeddings"], got["metadatas"],
                                                           got["documents"])}
    expected = embeddings.encode_passages([embedding_text(r.title, r.text) for r in recs])
    for rec, vec in zip(recs, expected):
        stored, meta, doc = by_id[rec.chunk_id]
        assert float(stored @ vec) > 0.999  # the e5 passage vector of title + chunk, not a default embedder
        assert doc is None  # lean index: the text lives once, in the catalog (articles.text)
        assert rec.text  # served from the article's text by offset
        assert meta["article_id"] == A000 and meta["chunk_index"] == rec.index
        assert (meta["start"], meta["end"]) == (rec.start, rec.end)
        assert meta["title"] == "Bắt nhịp kinh tế số" and meta["province"] == "Tiền Giang"
        assert "date" in meta and "url" in meta
    cat.close()


def test_dense_and_keyword_search_find_the_right_article(index_copy, embeddings):
    settings, _, _ = index_copy
    cat, store = open_all(settings)
    hits = store.query(embeddings.embed_query("Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số năm 2021?"), 3)
    recs = cat.chunks_by_id([h[0] for h in hits])
    assert recs[hits[0][0]].article_id == A000 and "12/63" in recs[hits[0][0]].text
    assert hits[0][1] >= hits[-1][1]
    where = store.query(embeddings.embed_query("kinh tế số"), 5, where={"province": "Bến Tre"})
    assert where and all(cat.chunks_by_id([i])[i].article_id == A004 for i, _ in where)
    (rec, _), *_ = cat.keyword_search("hau giang 17/63", 3)
    assert rec.article_id == A002
    cat.close()


# --- incremental updates -----------------------------------------------------------------------

def test_rerun_with_no_change_does_nothing(index_copy, recording):
    settings, corpus, _ = index_copy
    before = assert_consistent(settings)
    summary = run(settings, recording)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 0, 0, 5)
    assert summary.ok and not summary.full and recording.passages == []
    # A touched file (new mtime, same bytes) is re-read but not re-embedded.
    st = (corpus / f"{A001}.txt").stat()
    os.utime(corpus / f"{A001}.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    summary = run(settings, recording)
    assert summary.unchanged == 5 and summary.updated == 0 and recording.passages == []
    assert assert_consistent(settings) == before


def test_add_one_article_embeds_only_its_chunks(index_copy, recording):
    settings, corpus, _ = index_copy
    cat = Catalog(settings.index_dir)
    before, gen = ids_by_article(cat), cat.generation()
    cat.close()
    text = (corpus / f"{A003}.txt").read_text(encoding="utf-8").replace("Đồng Tháp", "Vĩnh Long")
    (corpus / "005_vinh_long.txt").write_text(text.replace('title: "Vĩnh Long', 'title: "Bài mới: Vĩnh Long'),
                                              encoding="utf-8")
    calls = []
    summary = Indexer(settings, embeddings=recording, show_progress=False).run(progress=lambda *a: calls.append(a))
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (1, 0, 0, 5)
    cat = Catalog(settings.index_dir)
    new = cat.chunks_of("005_vinh_long")
    assert new and summary.chunks == len(new)
    assert sorted(chunk_passages(recording, [r.text for r in new])) == sorted(embedding_text(r.title, r.text)
                                                                              for r in new)
    assert set(recording.passages) - set(chunk_passages(recording, [r.text for r in new]))  # its sentences too
    assert new[0].province == "Vĩnh Long" and new[0].title.startswith("Bài mới: Vĩnh Long")
    after = ids_by_article(cat)
    assert {k: v for k, v in after.items() if k != "005_vinh_long"} == before  # others untouched
    assert cat.generation() > gen  # readers can see that something changed
    cat.close()
    embed = [c for c in calls if c[0] == "embed"]
    assert embed and embed[-1][1] == embed[-1][2] == len(new)
    assert_consistent(settings)


def test_modified_article_replaces_its_chunks_everywhere(index_copy, recording):
    settings, corpus, _ = index_copy
    cat = Catalog(settings.index_dir)
    before = ids_by_article(cat)
    assert fts_rows(cat, "3.024")
    cat.close()
    path = corpus / f"{A003}.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("3.024 ý kiến", "4.321 ý kiến"), encoding="utf-8")
    summary = run(settings, recording)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 1, 0, 4)
    cat, store = open_all(settings)
    after = ids_by_article(cat)
    old_ids = before[A003]
    assert not old_ids & after[A003]
    assert store.collection.get(ids=sorted(old_ids))["ids"] == []  # old vectors gone from Chroma
    assert not old_ids & cat.chunk_ids()
    assert fts_rows(cat, "3.024") == []  # and from the keyword index
    (rec, _), *_ = cat.keyword_search("4.321 ý kiến", 3)
    assert rec.article_id == A003 and "4.321" in rec.text
    stored = set(store.collection.get(where={"article_id": A003}, include=[])["ids"])
    assert stored == after[A003]  # Chroma holds the new version's vectors and no other of this article
    texts = [r.text for r in cat.chunks_of(A003)]
    assert any("4.321" in t for t in texts) and not any("3.024" in t for t in texts)
    assert {k: v for k, v in after.items() if k != A003} == {k: v for k, v in before.items() if k != A003}
    new_texts = [r.text for r in cat.chunks_of(A003)]
    assert len(chunk_passages(recording, new_texts)) == len(after[A003])
    assert any("4.321" in p for p in set(recording.passages) - set(chunk_passages(recording, new_texts)))
    cat.close()
    assert_consistent(settings)


def test_deleted_article_leaves_no_trace(index_copy, recording):
    settings, corpus, _ = index_copy
    cat = Catalog(settings.index_dir)
    gone = ids_by_article(cat)[A001]
    assert fts_rows(cat, "thanh_hoa")
    cat.close()
    (corpus / f"{A001}.txt").unlink()
    summary = run(settings, recording)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 0, 1, 4)
    assert recording.passages == []
    cat, store = open_all(settings)
    assert A001 not in {a.id for a in cat.articles()}
    assert store.collection.get(ids=sorted(gone))["ids"] == []
    assert not gone & cat.chunk_ids()
    assert fts_rows(cat, "thanh_hoa") == []  # only 001 is about Thanh Hóa
    cat.close()
    assert_consistent(settings)


def test_bad_article_is_reported_and_the_others_indexed(index_copy, recording):
    settings, corpus, _ = index_copy
    (corpus / "006_latin1.txt").write_bytes("Thông tin về tỉnh Bến Tre năm 2023, rất nhiều chữ.".encode("latin-1", "replace"))
    (corpus / "007_good.txt").write_text("Bến Tre số hóa\nNăm 2023, Bến Tre có 1.234 doanh nghiệp số.\n",
                                         encoding="utf-8")
    # An indexed article that turns bad keeps serving its last good version.
    (corpus / f"{A004}.txt").write_bytes(b"\x00\x01binary garbage")
    summary = run(settings, recording)
    assert summary.added == 1 and summary.unchanged == 5 and summary.updated == 0
    assert not summary.ok and len(summary.errors) == 2
    assert any(e.startswith("006_latin1.txt: ") and "UTF-8" in e for e in summary.errors)
    assert any(e.startswith(f"{A004}.txt: ") for e in summary.errors)
    cat = Catalog(settings.index_dir)
    assert {a.id for a in cat.articles()} == {*SEED_IDS, "007_good"}
    assert cat.chunks_of(A004)  # still served
    cat.close()
    assert_consistent(settings)


def test_model_fingerprint_change_rebuilds_everything(index_copy, recording):
    settings, corpus, _ = index_copy
    for aid in (A000, A001, A002):  # keep the rebuild small
        (corpus / f"{aid}.txt").unlink()
    assert run(settings, recording).removed == 3
    cat = Catalog(settings.index_dir)
    ids_before = cat.chunk_ids()
    cat.close()

    changed = settings_for(corpus, settings.index_dir, {"ASSISTANT_QUERY_PREFIX": "question: "})
    assert fingerprint_for(changed) != fingerprint_for(settings)
    summary = run(changed, recording)
    assert summary.full and summary.updated == 2 and summary.added == 0 and summary.unchanged == 0
    cat, store = open_all(changed)
    texts = [r.text for aid in (A003, A004) for r in cat.chunks_of(aid)]
    assert len(chunk_passages(recording, texts)) == len(ids_before)  # every chunk re-embedded
    assert cat.get_meta("model_fingerprint") == fingerprint_for(changed)
    assert cat.chunk_ids() == ids_before == store.ids()
    names = {getattr(c, "name", c) for c in store._client.list_collections()}
    assert names == {collection_name(changed, fingerprint_for(changed))}  # the old model's vectors are dropped
    cat.close()
    again = run(changed, recording)
    assert not again.full and again.unchanged == 2 and again.updated == 0


def test_full_flag_and_chunker_change_force_a_rebuild(index_copy, recording):
    settings, corpus, _ = index_copy
    for aid in (A000, A001, A002, A004):
        (corpus / f"{aid}.txt").unlink()
    run(settings, recording)
    cat = Catalog(settings.index_dir)
    ids = cat.chunk_ids()
    cat.close()
    recording.passages.clear()
    summary = run(settings, recording, full=True)
    assert summary.full and summary.updated == 1 and summary.unchanged == 0
    assert len(recording.passages) == len(ids)
    assert assert_consistent(settings) == ids  # deterministic ids: same chunks, same ids

    cat = Catalog(settings.index_dir)
    with cat.transaction() as conn:
        cat.set_meta(conn, versions="chunker=0;lexical=0")  # an index made by an older chunker
    cat.close()
    recording.passages.clear()
    summary = run(settings, recording)
    # Every article is re-chunked; chunks whose id and metadata (title, span) are unchanged keep their vectors.
    assert summary.full and summary.updated == 1 and summary.reused == len(ids) and recording.passages == []
    assert assert_consistent(settings) == ids


def test_a_new_catalog_over_existing_vectors_embeds_nothing(index_copy, recording):
    """A catalog rebuilt over a store that holds the vectors (a schema migration, a second replica on the same
    Chroma server, a build resumed after a crash) reuses them: same chunks, same answers, nothing embedded."""
    settings, _, index = index_copy
    cat = Catalog(settings.index_dir)
    ids = cat.chunk_ids()
    kept = cat.conn.execute("SELECT chunk_id, start, end FROM chunks ORDER BY chunk_id").fetchall()
    with cat.transaction() as conn:
        cat.set_meta(conn, schema_version="2")  # as an older program wrote it
    cat.close()
    cat = Catalog(settings.index_dir)  # the schema check starts a new, empty catalog
    assert cat.chunk_ids() == set() and cat.get_meta("schema_version") != "2"
    cat.close()
    recording.passages.clear()
    summary = run(settings, recording)
    assert summary.added == 5 and summary.reused == len(ids) and summary.chunks == len(ids)
    assert recording.passages == []  # neither chunks nor (kept) sentence vectors were embedded
    assert assert_consistent(settings) == ids
    cat = Catalog(settings.index_dir)
    assert cat.conn.execute("SELECT chunk_id, start, end FROM chunks ORDER BY chunk_id").fetchall() == kept
    cat.close()


def test_a_changed_title_is_embedded_again(index_copy, recording):
    """The title is embedded with each chunk, so a vector made under the old title is not reused."""
    settings, corpus, _ = index_copy
    path = corpus / f"{A003}.txt"
    text = path.read_text(encoding="utf-8")
    cat = Catalog(settings.index_dir)
    title = cat.article(A003).title
    n = len(cat.chunks_of(A003))
    cat.close()
    path.write_text(text.replace(title, title + " (cập nhật)", 1), encoding="utf-8")
    recording.passages.clear()
    summary = run(settings, recording)
    assert summary.updated == 1 and summary.reused == 0
    assert sum(p.startswith(title + " (cập nhật)") for p in recording.passages) == n
    assert_consistent(settings)


def test_second_builder_is_refused_while_the_lock_is_held(index_copy, recording):
    settings, _, index = index_copy
    lock = FileLock(str(index / LOCK_FILE))
    with lock.acquire(timeout=5):
        with pytest.raises(IndexBusyError) as info:
            run(settings, recording)
        assert LOCK_FILE in str(info.value) and str(index) in str(info.value)
    assert run(settings, recording).unchanged == 5  # free again once released


def test_duplicate_article_ids_are_reported(index_copy, recording):
    settings, corpus, _ = index_copy
    shutil.copy(corpus / f"{A003}.txt", corpus / f"{A003}.md")
    summary = run(settings, recording)
    assert summary.unchanged == 5 and summary.added == 0
    assert len(summary.errors) == 1 and A003 in summary.errors[0]


def test_full_build_feeds_the_model_length_sorted_windows(index_copy, recording, monkeypatch):
    """Chunks reach the model sorted by length within each window, so batches carry little padding."""
    import assistant.indexing.indexer as ix

    settings, _, _ = index_copy
    monkeypatch.setattr(ix, "EMBED_WINDOW", 20)
    monkeypatch.setattr(ix, "EMBED_STEP", 7)
    summary = run(settings, recording, full=True)
    assert summary.ok and summary.updated == 5 and len(recording.passages) == summary.chunks
    lengths = [len(p.split("\n", 1)[1]) for p in recording.passages]
    # Windows hold whole articles (>= 20 chunks each except the last): each is one sorted run.
    runs = [[lengths[0]]]
    for a in lengths[1:]:
        if a < runs[-1][-1]:
            runs.append([])
        runs[-1].append(a)
    assert 1 < len(runs) <= -(-summary.chunks // 20)
    assert sorted(lengths) != lengths, "several windows, not one global sort"
    assert_consistent(settings)
