"""The index command killed (SIGKILL) at exact points of a build, and what an index must satisfy afterwards.

Not a conftest: the test modules import what they need from here.

>>> proc = run_index_killed_at(corpus, index, env, "commit:2")     # doctest: +SKIP
>>> proc.returncode == -signal.SIGKILL                             # doctest: +SKIP
True
>>> index_command(Path("c"), Path("i"), json=False)[-7:]
['index', '--corpus', 'c', '--index', 'i', '--quiet', '--local']
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.paths import ROOT

# The real `python -m assistant` entry point, with a SIGKILL (kill -9) planted at one exact point of a build.
# TEST_KILL_AT = "<point>[:<n>]" kills at the n-th time the point is reached:
#   embed   inside the n-th model call, after the model ran on the batch (the child writes TEST_MARKER, then waits
#           there until the parent kills it from outside)
#   upsert  right after vectors were written to Chroma, before their catalog rows are committed
#   commit  inside the SQLite transaction that commits articles (rows written, COMMIT not reached)
#   delete  after the catalog committed a change, before the replaced/removed vectors are deleted
# TEST_EMBED_STEP makes the indexer commit every few chunks, so a small build passes many commit points.
KILLABLE_MAIN = r"""
import os, signal, sys, time
import assistant.indexing.indexer as ix
if os.environ.get("TEST_EMBED_STEP"):
    ix.EMBED_STEP = int(os.environ["TEST_EMBED_STEP"])
    ix.EMBED_WINDOW = 2 * ix.EMBED_STEP
point, _, nth = os.environ.get("TEST_KILL_AT", "").partition(":")
nth, seen = int(nth or 1), [0]

def reached():
    seen[0] += 1
    return seen[0] >= nth

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point == "embed":  # either encoder: OpenVINO by default, sentence-transformers with ASSISTANT_EMBEDDING_RUNTIME=torch
    from assistant.indexing.embed.embeddings import SentenceEmbeddings
    from assistant.indexing.embed.openvino_encoder import OpenVINOEmbeddings
    def hold(real_encode):
        def encode_passages(self, texts):
            hit = reached()
            out = real_encode(self, texts)  # the model is loaded and has run on this batch
            if hit:
                with open(os.environ["TEST_MARKER"], "w") as f:
                    f.write(str(len(texts)))
            while hit:  # still inside the embed step (vectors not returned) when the kill arrives
                time.sleep(1)
            return out
        return encode_passages
    for cls in (SentenceEmbeddings, OpenVINOEmbeddings):
        cls.encode_passages = hold(cls.encode_passages)
elif point == "upsert":
    from assistant.indexing.vectorstore import VectorStore
    real_upsert = VectorStore.upsert
    def upsert(self, *args, **kwargs):
        real_upsert(self, *args, **kwargs)
        if reached():
            die()
    VectorStore.upsert = upsert
elif point == "commit":
    from assistant.indexing.catalog import Catalog
    real_bump = Catalog.bump_generation
    def bump_generation(self, conn):
        real_bump(self, conn)
        if reached():
            die()
    Catalog.bump_generation = bump_generation
elif point == "delete":
    from assistant.indexing.vectorstore import VectorStore
    real_delete = VectorStore.delete
    def delete(self, ids):
        if ids and reached():
            die()
        return real_delete(self, ids)
    VectorStore.delete = delete
elif point:
    raise SystemExit(f"unknown kill point {point!r}")

from assistant.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def index_command(corpus: Path, index: Path, *, json: bool = True) -> list[str]:
    """argv of the killable `python -m assistant index` (quiet, built in its own process even while an app serves
    the index; JSON summary unless json=False)."""
    return [sys.executable, "-c", KILLABLE_MAIN, "index", "--corpus", str(corpus), "--index", str(index), "--quiet",
            "--local", *(["--json"] if json else [])]


def start_killable_index(corpus: Path, index: Path, env: dict[str, str], point: str = "", *,
                         step: int | None = None, marker: Path | None = None) -> subprocess.Popen:
    """Start the killable index command (stdout/stderr piped); `point` as TEST_KILL_AT, `step` as TEST_EMBED_STEP."""
    extra = {"TEST_KILL_AT": point}
    if step:
        extra["TEST_EMBED_STEP"] = str(step)
    if marker is not None:
        extra["TEST_MARKER"] = str(marker)
    return subprocess.Popen(index_command(corpus, index), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**env, **extra})


def run_index_killed_at(corpus: Path, index: Path, env: dict[str, str], point: str, *, step: int = 4,
                        timeout: float = 400) -> subprocess.CompletedProcess:
    """Run the index command until it kills itself at `point` ("commit:2", "delete", ...); fails if it finishes."""
    proc = subprocess.run(index_command(corpus, index), cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**env, "TEST_KILL_AT": point, "TEST_EMBED_STEP": str(step)})
    assert proc.returncode == -signal.SIGKILL, \
        f"expected a kill -9 at {point}, got rc={proc.returncode}:\n{proc.stdout[-1000:]}\n{proc.stderr[-3000:]}"
    return proc


def kill_index_while_embedding(corpus: Path, index: Path, env: dict[str, str], marker: Path, *, nth: int = 1,
                               step: int | None = None, timeout: float = 400) -> float:
    """Start the index command, kill -9 it from outside inside its `nth` model call; returns seconds it ran.

    The child writes `marker` only after the model has loaded and encoded that batch, so the kill lands in the
    embed step of a running build, never during start-up.
    """
    marker.unlink(missing_ok=True)
    t0 = time.monotonic()
    proc = start_killable_index(corpus, index, env, f"embed:{nth}", step=step, marker=marker)
    try:
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"the build ended before its model call {nth} (rc={proc.returncode}): "
                                     f"{proc.stderr.read()[-3000:]!r}")
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"the build did not reach model call {nth} within {timeout} s")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"not killed inside the model call (rc={proc.returncode})"
    return time.monotonic() - t0


# --- what an index must satisfy ------------------------------------------------------------------------------
def index_facts(settings) -> dict:
    """Catalog articles and chunk ids, Chroma ids, SQLite integrity of an index (opened the way the app opens it)."""
    from assistant.indexing.catalog import Catalog
    from assistant.indexing.embed.embeddings import fingerprint_for
    from assistant.indexing.vectorstore import VectorStore

    cat = Catalog(settings.index_dir, create=False)
    try:
        store = VectorStore.open(settings, fingerprint_for(settings))
        return {"integrity": cat.conn.execute("PRAGMA integrity_check").fetchone()[0],
                "articles": {a.id: a for a in cat.articles()},
                "chunk_ids": cat.chunk_ids(), "store_ids": store.ids(),
                "title_hits": {a.id: [r.article_id for r, _ in cat.keyword_search(a.title, 3)]
                               for a in cat.articles()}}
    finally:
        cat.close()
