"""Reliability without a served app: kill -9 at exact write points, broken indexes and faults under a running
`Service`, a Chroma server that goes away.

Not repeated here (covered elsewhere): kill -9 inside the model calls / after the first commit of an
incremental build (tests/integration/test_cli_index.py), the build lock, an LLM endpoint that is down, slow or
returns garbage (tests/integration/test_llm_backend.py), and the real app under concurrent clients while the
index command is killed beside it (tests/e2e/test_reliability_app.py).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

from tests.support.index_kill import index_facts, run_index_killed_at
from tests.support.processes import ChromaServer
from tests.support.paths import CORPUS, SEED_IDS, settings_for

A000, A001, A002, A003, A004 = SEED_IDS
DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"


def cites(answer, article_id: str) -> bool:
    return bool(answer.citations) and all(c.article_id == article_id for c in answer.citations)


# --- the real app under load -------------------------------------------------------------------------------
# --- kill -9 at exact write points, then restart ------------------------------------------------------------
EXTRA = [("Cái Nước", "số hóa hồ sơ đất đai", 1201), ("Đầm Dơi", "lắp camera an ninh", 1302),
         ("Năm Căn", "cấp chữ ký số", 1403), ("Ngọc Hiển", "phủ sóng wifi công cộng", 1504),
         ("Thới Bình", "thanh toán học phí không dùng tiền mặt", 1605), ("U Minh", "chuyển đổi số hợp tác xã", 1706),
         ("Trần Văn Thời", "đăng ký khai sinh trực tuyến", 1807), ("Phú Tân", "bán nông sản trên sàn", 1908)]


def _write_extras(corpus) -> list[str]:
    ids = []
    for i, (district, topic, n) in enumerate(EXTRA):
        aid = f"1{i:02d}_huyen"
        title = f"Huyện {district} {topic}"
        (corpus / f"{aid}.md").write_text(
            f'---\ntitle: "{title}"\nprovince: "Cà Mau"\n---\n{title}\nNăm 2023, huyện {district} tỉnh Cà Mau đã '
            f"{topic} với {n:,} lượt người dân tham gia.\nKết quả này góp phần đưa huyện {district} vào nhóm dẫn đầu "
            "về chuyển đổi số của tỉnh.\n".replace(",", "."), encoding="utf-8")
        ids.append(aid)
    return ids


def _assert_servable(facts: dict) -> None:
    assert facts["integrity"] == "ok"
    assert facts["chunk_ids"] <= facts["store_ids"]  # every committed chunk has its vector
    for aid, top in facts["title_hits"].items():
        assert aid in top, f"{aid} is not found by a keyword search on its title: {top}"


def test_kill_9_at_exact_write_points_then_restart_agrees_with_the_corpus(index_copy, run_cli, subprocess_env,
                                                                          embeddings):
    """Killed (1) after the catalog committed a removal, before its vectors are deleted, (2) inside the SQLite
    transaction of an article commit, its vectors already in Chroma; then (3) the next normal run: catalog ==
    corpus minus the bad file, Chroma == catalog, every article found by its title."""
    from assistant.retrieve.retriever import HybridRetriever, IndexReader

    settings, corpus, index = index_copy
    extras = _write_extras(corpus)
    p3 = corpus / f"{A003}.txt"
    p3.write_text(p3.read_text(encoding="utf-8").replace("3.024", "3.042"), encoding="utf-8")
    (corpus / f"{A001}.txt").unlink()
    (corpus / "zz_hong.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))  # bad: never indexed
    expected = {A000, A002, A003, A004, *extras}
    old_a003 = index_facts(settings)["articles"][A003].text

    # 1. The removal of 001 is committed, its vectors not yet deleted (no model is loaded for this).
    run_index_killed_at(corpus, index, subprocess_env, "delete")
    facts = index_facts(settings)
    _assert_servable(facts)
    assert set(facts["articles"]) == {A000, A002, A003, A004}
    strays = facts["store_ids"] - facts["chunk_ids"]
    assert strays and all(i.startswith(A001) for i in strays)  # left behind, never served

    # 2. Killed inside the SQLite transaction of the second commit (its vectors already written to Chroma).
    run_index_killed_at(corpus, index, subprocess_env, "commit:2")
    facts = index_facts(settings)
    _assert_servable(facts)
    assert {A000, A002, A004} <= set(facts["articles"]) < expected
    assert facts["articles"][A003].text in (old_a003, old_a003.replace("3.024", "3.042"))

    # 3. The next normal run finishes the work and reports the bad file.
    proc = run_cli("index", "--corpus", corpus, "--index", index, "--json")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "zz_hong.txt" in proc.stderr and "nhị phân" in proc.stderr and "Traceback" not in proc.stderr
    facts = index_facts(settings)
    _assert_servable(facts)
    assert set(facts["articles"]) == expected == {p.stem for p in corpus.iterdir()} - {"zz_hong"}
    assert facts["store_ids"] == facts["chunk_ids"]  # strays collected
    assert "3.042" in facts["articles"][A003].text
    reader = IndexReader(settings, embeddings)  # and by the hybrid retriever (dense + keyword) on its title
    try:
        retriever = HybridRetriever.from_settings(settings, reader)
        for aid, art in facts["articles"].items():
            assert aid in [h.chunk.article_id for h in retriever.search(art.title, k=5)], aid
    finally:
        reader.close()


# --- faults under a running Service -------------------------------------------------------------------------
@pytest.fixture
def small_service(index_copy):
    """A Service over the seed index whose corpus now holds only 003 and 004 (recoveries re-embed two articles)."""
    from assistant.app.service import Service

    settings, corpus, index = index_copy
    for aid in (A000, A001, A002):
        (corpus / f"{aid}.txt").unlink()
    svc = Service(settings)
    first = svc.ask(DT_QUESTION)
    assert cites(first, A003) and not first.notice
    return svc, index


def test_deleted_then_corrupted_index_under_a_running_service_is_rebuilt_with_a_notice(small_service):
    svc, index = small_service
    shutil.rmtree(index)
    a = svc.ask(DT_QUESTION)
    assert "xây dựng lại" in a.notice and cites(a, A003) and "214" in a.answer

    catalog = index / "catalog.sqlite"  # replaced by garbage (a new file)
    catalog.unlink()
    catalog.write_bytes(os.urandom(16384))
    a = svc.ask(DT_QUESTION)
    assert "xây dựng lại" in a.notice and cites(a, A003) and "214" in a.answer

    with open(catalog, "r+b") as f:  # overwritten in place: the next connection (a new worker thread) notices
        f.write(os.urandom(8192))
    got = []
    th = threading.Thread(target=lambda: got.append(svc.ask(DT_QUESTION)))
    th.start()
    th.join(300)
    assert got and "xây dựng lại" in got[0].notice and cites(got[0], A003)
    assert svc.ask(DT_QUESTION).notice == ""  # once rebuilt, no more notices
    assert len(list(index.parent.glob("index.broken-*"))) == 2  # the broken ones are kept aside, not deleted


def test_questions_during_an_automatic_rebuild_are_not_answered_from_the_half_built_index(small_service,
                                                                                         monkeypatch):
    """Regression (found by this file): they used to get a silent 'Không tìm thấy thông tin', or crash the rebuild."""
    import assistant.indexing.indexer

    svc, index = small_service
    real_load = assistant.indexing.indexer.load_embeddings

    def slow_embeddings(settings):  # a slower machine: embedding takes 2 s longer
        emb = real_load(settings)

        class Slow:
            fingerprint = emb.fingerprint
            encode_queries = staticmethod(emb.encode_queries)

            @staticmethod
            def encode_passages(texts):
                time.sleep(2.0)
                return emb.encode_passages(texts)
        return Slow()

    monkeypatch.setattr(assistant.indexing.indexer, "load_embeddings", slow_embeddings)
    shutil.rmtree(index)
    outcomes = []

    def ask() -> None:
        try:
            a = svc.ask(DT_QUESTION)
            outcomes.append("ok" if cites(a, A003) else f"notice: {a.notice}" if a.notice else
                            f"silent non-answer: {a.answer[:60]}")
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")

    first = threading.Thread(target=ask)
    first.start()
    deadline = time.monotonic() + 60
    while not (index / "catalog.sqlite").exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # the recovery has started building
    others = [threading.Thread(target=ask) for _ in range(3)]
    for th in others:
        th.start()
    for th in [first, *others]:
        th.join(300)
    assert len(outcomes) == 4 and all(o == "ok" or o.startswith("notice") for o in outcomes), outcomes


def test_a_transient_vector_error_during_an_external_build_does_not_quarantine_the_index(small_service, monkeypatch,
                                                                                       subprocess_env):
    """Regression (found by benchmarks.load --rebuild-while-serving): one failed read while another process held
    build.lock made the app move the live index aside; that build then died with 'readonly database'."""
    from assistant.indexing.vectorstore import VectorStore, VectorStoreError

    svc, index = small_service
    real_query, failed = VectorStore.query, []

    def flaky_query(self, *args, **kwargs):  # what the app logged under load: one bad read, then fine again
        if not failed:
            failed.append(1)
            raise VectorStoreError("truy vấn kho vector Chroma thất bại: Error executing plan: Internal error: "
                                   "Error finding id")
        return real_query(self, *args, **kwargs)

    monkeypatch.setattr(VectorStore, "query", flaky_query)
    holder = subprocess.Popen(  # another process is building: it holds the lock
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; FileLock(sys.argv[1]).acquire(); "
         "print('locked', flush=True); time.sleep(120)", str(index / "build.lock")],
        env=subprocess_env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        outcome = svc.ask(DT_QUESTION)
    finally:
        holder.kill()
        holder.wait(30)
        holder.stdout.close()
    assert not list(index.parent.glob("index.broken-*")), "the live index was moved away from its builder"
    assert cites(outcome, A003)


def test_deleted_vector_store_under_a_running_service_is_rebuilt_with_a_notice(small_service):
    """Regression: with index/chroma gone the app used to answer from keywords only, saying nothing."""
    svc, index = small_service
    shutil.rmtree(index / "chroma")
    a = svc.ask(DT_QUESTION)
    assert "xây dựng lại" in a.notice and cites(a, A003) and "214" in a.answer


def test_deleted_vector_store_is_restored_by_the_next_build(index_copy, embeddings):
    """Regression: `index` used to report every article unchanged and leave the vectors missing for good."""
    from assistant.indexing.indexer import Indexer

    settings, corpus, index = index_copy
    for aid in (A000, A001, A002):  # keep the re-embedding small
        (corpus / f"{aid}.txt").unlink()
    shutil.rmtree(index / "chroma")
    summary = Indexer(settings, embeddings=embeddings, show_progress=False).run()
    facts = index_facts(settings)
    assert set(facts["articles"]) == {A003, A004}
    assert facts["chunk_ids"] and facts["store_ids"] == facts["chunk_ids"], summary.line()


# --- Chroma server mode: the server goes away and comes back -----------------------------------------------
@pytest.fixture(scope="module")
def remote(tmp_path_factory, embeddings):
    """A real `chroma run` on 127.0.0.1 and an index of 003 + 004 built through it: (server, settings)."""
    from assistant.indexing.indexer import Indexer

    base = tmp_path_factory.mktemp("chroma-remote")
    (base / "corpus").mkdir()
    for aid in (A003, A004):
        shutil.copy2(CORPUS / f"{aid}.txt", base / "corpus")
    server = ChromaServer(base / "data", base / "chroma.log").start()
    try:
        settings = settings_for(base / "corpus", base / "index", {"ASSISTANT_CHROMA_URL": server.url})
        summary = Indexer(settings, embeddings=embeddings, show_progress=False).run()
        assert summary.added == 2 and summary.ok
        assert not (base / "index" / "chroma").exists()
        yield server, settings
    finally:
        server.stop()


def test_chroma_server_outage_fails_the_question_and_recovery_needs_no_restart(remote):
    from assistant.app.service import Service
    from assistant.indexing.vectorstore import VectorStoreError

    server, settings = remote
    svc = Service(settings)
    assert cites(svc.ask(DT_QUESTION), A003)
    server.stop()
    try:
        with pytest.raises(VectorStoreError, match=re.escape(f"máy chủ Chroma {server.url}")):
            svc.ask(DT_QUESTION)  # the store's own error naming the server, not a raw connection error
        assert not list(settings.index_dir.parent.glob("index.broken-*"))  # no local rebuild was attempted
    finally:
        server.start()
    a = svc.ask(DT_QUESTION)
    assert cites(a, A003) and "214" in a.answer and not a.notice


def test_chroma_server_outage_is_a_clear_vietnamese_error_naming_the_server(remote):
    """Regression: the question used to fail with a raw httpx.ConnectError ('lỗi không mong muốn' in the UI)."""
    from assistant.errors import user_message
    from assistant.app.service import Service
    from assistant.indexing.vectorstore import VectorStoreError

    server, settings = remote
    svc = Service(settings)
    svc.ask(DT_QUESTION)
    server.stop()
    try:
        with pytest.raises(VectorStoreError) as info:
            svc.ask(DT_QUESTION)
        assert str(server.port) in str(info.value) and user_message(info.value)
    finally:
        server.start()
