"""`python -m assistant index` as a maintainer runs it: help, exit codes, no-op runs, lock, kill -9."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

from assistant.ingest.articles import load_article
from assistant.indexing.catalog import Catalog
from assistant.ingest.chunking import Chunker
from assistant.indexing.embed.embeddings import fingerprint_for
from assistant.indexing.vectorstore import VectorStore
from tests.support.index_kill import kill_index_while_embedding, start_killable_index
from tests.support.paths import CORPUS, ROOT, SEED_IDS, settings_for

A000, A001, A002, A003, A004 = SEED_IDS

# Runs the real CLI entry point and reports whether the embedding stack was imported.
WATCHED_MAIN = r"""
import json, sys
from assistant.app.cli import main
code = main(sys.argv[1:])
print(json.dumps({"exit": code, "sentence_transformers": "sentence_transformers" in sys.modules,
                  "transformers": "transformers" in sys.modules}))
"""


def run_watched(subprocess_env, *args, env=None, timeout=240):
    proc = subprocess.run([sys.executable, "-c", WATCHED_MAIN, *map(str, args)], cwd=ROOT,
                          env={**subprocess_env, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    return proc, json.loads(lines[-1]), lines[:-1]


# --- help ----------------------------------------------------------------------------------------

def test_help_lists_the_subcommands(run_cli):
    proc = run_cli("--help")
    assert proc.returncode == 0
    for word in ("index", "ask", "eval", "ASSISTANT_"):
        assert word in proc.stdout


def test_index_help_lists_the_flags(run_cli):
    proc = run_cli("index", "--help")
    assert proc.returncode == 0
    for flag in ("--corpus", "--index", "--full"):
        assert flag in proc.stdout


def test_unknown_subcommand_is_a_usage_error(run_cli):
    proc = run_cli("reindex")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


# --- exit codes and no-op runs ---------------------------------------------------------------------

def test_nothing_to_do_does_not_load_the_model(index_copy, subprocess_env):
    _, corpus, index = index_copy
    proc, info, out = run_watched(subprocess_env, "index", "--corpus", corpus, "--index", index, "--json")
    assert info["exit"] == 0, proc.stderr[-2000:]
    summary = json.loads(out[-1])
    assert (summary["unchanged"], summary["added"], summary["updated"], summary["removed"]) == (5, 0, 0, 0)
    assert summary["errors"] == [] and summary["seconds"] < 5
    assert not info["sentence_transformers"] and not info["transformers"]


def test_deleting_an_article_does_not_load_the_model(index_copy, subprocess_env):
    settings, corpus, index = index_copy
    (corpus / f"{A002}.txt").unlink()
    proc, info, out = run_watched(subprocess_env, "index", "--corpus", corpus, "--index", index)
    assert info["exit"] == 0, proc.stderr[-2000:]
    assert "removed=1" in out[-1] and "unchanged=4" in out[-1]
    assert not info["sentence_transformers"]
    cat = Catalog(index, create=False)
    assert A002 not in {a.id for a in cat.articles()}
    assert VectorStore.open(settings, fingerprint_for(settings)).ids() == cat.chunk_ids()
    cat.close()


def test_bad_article_gives_exit_code_1_and_names_the_file(index_copy, run_cli):
    _, corpus, index = index_copy
    (corpus / "999_latin1.txt").write_bytes("Bài viết về Bến Tre, lưu nhầm mã hóa.".encode("latin-1", "replace"))
    (corpus / "998_empty.md").write_bytes(b"")
    proc = run_cli("index", "--corpus", corpus, "--index", index)
    assert proc.returncode == 1
    assert "999_latin1.txt" in proc.stderr and "UTF-8" in proc.stderr
    assert "998_empty.md" in proc.stderr
    assert "errors=2" in proc.stdout and "unchanged=5" in proc.stdout
    assert "Traceback" not in proc.stderr
    cat = Catalog(index, create=False)
    assert sorted(a.id for a in cat.articles()) == SEED_IDS  # the good ones are still indexed
    cat.close()


def test_second_builder_exits_2_with_a_clear_message(index_copy, run_cli):
    _, corpus, index = index_copy
    with FileLock(str(index / "build.lock")).acquire(timeout=5):
        proc = run_cli("index", "--corpus", corpus, "--index", index)
    assert proc.returncode == 2
    assert "build.lock" in proc.stderr and str(index) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_corpus_exits_2(tmp_path, run_cli):
    proc = run_cli("index", "--corpus", tmp_path / "nowhere", "--index", tmp_path / "idx")
    assert proc.returncode == 2 and "nowhere" in proc.stderr and "Traceback" not in proc.stderr


def test_environment_variables_select_the_folders(index_copy, run_cli):
    _, corpus, index = index_copy
    proc = run_cli("index", "--json", env={"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["unchanged"] == 5
    # A flag beats the variable: an empty corpus folder given by flag removes everything.
    empty = index.parent / "empty"
    empty.mkdir()
    proc = run_cli("index", "--corpus", empty, "--json", env={"ASSISTANT_CORPUS_DIR": str(corpus),
                                                             "ASSISTANT_INDEX_DIR": str(index)})
    assert proc.returncode == 0 and json.loads(proc.stdout)["removed"] == 5


def test_index_recovers_from_a_corrupt_catalog(tmp_path, run_cli):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index = tmp_path / "index"
    index.mkdir()
    (index / "catalog.sqlite").write_bytes(os.urandom(4096))
    (corpus / "a.txt").write_text("Tiền Giang có 1.255 sản phẩm nông nghiệp trên sàn thương mại điện tử.\n",
                                  encoding="utf-8")
    proc = run_cli("index", "--corpus", corpus, "--index", index)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == 1 if proc.stdout.startswith("{") else "added=1" in proc.stdout
    assert list(tmp_path.glob("index.broken-*")), "the broken index is kept aside for inspection"


# --- kill -9 at several moments of a build ------------------------------------------------------

# The real CLI with kill points planted (tests/support/index_kill.py); it commits every 8 chunks (windows of 16),
# so a short build passes many commit points.
STEP = 8


def _extra_articles(corpus: Path, n: int) -> None:
    """Short real-text articles (1-2 chunks each) made from the seeds' paragraphs, each with its own id."""
    texts = [load_article(CORPUS / f"{aid}.txt") for aid in SEED_IDS]
    for i in range(n):
        art = texts[i % len(texts)]
        paras = [p for p in art.text.split("\n") if len(p) > 200]
        k = (i // len(texts)) % (len(paras) - 1)
        body = f"Tin bổ sung số {i}: {art.province}\n{paras[k]}\n{paras[k + 1]}\nMã tin {i:03d}.\n"
        (corpus / f"1{i:02d}_extra.txt").write_text(body, encoding="utf-8")


def _articles_in_catalog(index: Path) -> int:
    try:
        conn = sqlite3.connect(index / "catalog.sqlite", timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def _new_ids(index: Path) -> set[str]:
    """Ids of committed articles that are not seeds (the extras of the build under test)."""
    cat = Catalog(index, create=False)
    try:
        return {a.id for a in cat.articles()} - set(SEED_IDS)
    finally:
        cat.close()


def _kill_after_the_next_commit(corpus, index, env, limit=400.0) -> int:
    """Start `index`, kill -9 it as soon as it has committed one more article; returns the count it reached."""
    before = _articles_in_catalog(index)
    proc = start_killable_index(corpus, index, env, step=STEP)
    t0 = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - t0 < limit:
            now = _articles_in_catalog(index)
            if now > before:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"build ended before the kill: rc={proc.returncode} {err[-2000:]!r}"
    return now


def _check_servable(settings, token_count, base_ids, old_texts):
    """What the app relies on after a crash."""
    cat = Catalog(settings.index_dir, create=False)
    store = VectorStore.open(settings, fingerprint_for(settings))
    try:
        assert cat.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        chunker = Chunker(token_count)
        articles = {a.id: a for a in cat.articles()}
        # Articles unchanged in the corpus were indexed before the kill: all of them survive, intact.
        for aid in (A000, A002, A004):
            assert {r.chunk_id for r in cat.chunks_of(aid)} == base_ids[aid], aid
        # The modified article is either wholly old or wholly new; the deleted one wholly there or gone.
        assert articles[A003].text in (old_texts[A003], old_texts[A003].replace("3.024", "3.042"))
        if A001 in articles:
            assert {r.chunk_id for r in cat.chunks_of(A001)} == base_ids[A001]
        # Every committed article has all its chunks, and every committed chunk has its vector.
        for aid, a in articles.items():
            expected = [(c.chunk_id, c.start, c.end) for c in chunker.run(aid, a.text)]
            assert [(r.chunk_id, r.start, r.end) for r in cat.chunks_of(aid)] == expected, aid
        committed = sorted(cat.chunk_ids())
        assert set(store.collection.get(ids=committed)["ids"]) == set(committed)
        # Old articles are still found, by keywords and by vector.
        for aid in (A000, A002, A004):
            first = cat.chunks_of(aid)[0]
            assert any(r.article_id == aid for r, _ in cat.keyword_search(first.text[:120], 5)), aid
            vec = store.collection.get(ids=[first.chunk_id], include=["embeddings"])["embeddings"][0]
            assert first.chunk_id in [i for i, _ in store.query(list(vec), 3)], aid
        return len(articles)
    finally:
        cat.close()


def test_kill_9_at_any_moment_keeps_the_index_servable(tmp_path, built_index, subprocess_env, token_count):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built_index / "corpus", corpus)
    shutil.copytree(built_index / "index", index)
    settings = settings_for(corpus, index)
    cat = Catalog(index)
    base_ids = {aid: {r.chunk_id for r in cat.chunks_of(aid)} for aid in SEED_IDS}
    old_texts = {a.id: a.text for a in cat.articles()}
    cat.close()

    # The next build: 36 new articles, one changed figure, one deleted article.
    _extra_articles(corpus, 36)
    p3 = corpus / f"{A003}.txt"
    p3.write_text(p3.read_text(encoding="utf-8").replace("3.024", "3.042"), encoding="utf-8")
    (corpus / f"{A001}.txt").unlink()
    n_files = len(list(corpus.glob("*.txt")))

    # Killed at points the build really reaches, each after the embedding model has loaded: (1) inside its first
    # model call, nothing of the new articles committed; (2) inside its third model call, after this run committed
    # its first window; (3) right after the first commit of the next run.
    ran_s = kill_index_while_embedding(corpus, index, subprocess_env, tmp_path / "embedding-1", nth=1, step=STEP)
    assert (tmp_path / "embedding-1").read_text() != "0", "the model ran on a batch before the kill"
    n = _check_servable(settings, token_count, base_ids, old_texts)
    assert not _new_ids(index), f"killed inside the first model call after {ran_s:.1f} s, yet new articles committed"
    kill_index_while_embedding(corpus, index, subprocess_env, tmp_path / "embedding-3", nth=3, step=STEP)
    n = _check_servable(settings, token_count, base_ids, old_texts)
    assert _new_ids(index), "the third model call comes after the first commit of new articles"
    reached = _kill_after_the_next_commit(corpus, index, subprocess_env)
    n = _check_servable(settings, token_count, base_ids, old_texts)
    assert n >= reached > 4
    assert n < n_files  # the last kill really interrupted the build

    # The next normal run of the command finishes the work: catalog == corpus, Chroma == catalog.
    proc, info, out = run_watched(subprocess_env, "index", "--corpus", corpus, "--index", index, "--json")
    assert info["exit"] == 0, proc.stderr[-3000:]
    summary = json.loads(out[-1])
    assert summary["errors"] == [] and summary["added"] + summary["updated"] > 0
    cat = Catalog(index, create=False)
    assert {a.id for a in cat.articles()} == {p.stem for p in corpus.glob("*.txt")}
    assert VectorStore.open(settings, fingerprint_for(settings)).ids() == cat.chunk_ids()  # strays collected
    assert "3.042" in cat.article(A003).text
    cat.close()
    _check_servable(settings, token_count, base_ids, old_texts)
    # And the run after that has nothing to do: it does not even load the embedding model.
    proc, info, out = run_watched(subprocess_env, "index", "--corpus", corpus, "--index", index, "--json")
    assert info["exit"] == 0 and json.loads(out[-1])["unchanged"] == n_files
    assert not info["sentence_transformers"]
