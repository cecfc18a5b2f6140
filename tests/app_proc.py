"""Helpers for the reliability, bad-input and security tests: the index command killed at exact points,
a Chroma server that can be stopped and restarted on the same path and port, and index invariants.

Not a conftest: the test modules import what they need from here.

>>> proc = run_index_killed_at(corpus, index, env, "commit:2")     # doctest: +SKIP
>>> proc.returncode == -signal.SIGKILL                             # doctest: +SKIP
True
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.common import stop_process

ROOT = Path(__file__).resolve().parent.parent

# The real `python -m assistant` entry point, with a SIGKILL (kill -9) planted at one exact point of a build.
# TEST_KILL_AT = "<point>[:<n>]" kills at the n-th time the point is reached:
#   embed   inside the model call (the parent kills from outside once TEST_MARKER exists; the child waits there)
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

if point == "embed":  # either encoder: small builds run on the traced model, large ones on sentence-transformers
    from assistant.indexing.embed.embeddings import SentenceEmbeddings
    from assistant.indexing.embed.traced_encoder import TracedEmbeddings
    def hold(real_encode):
        def encode_passages(self, texts):
            hit = reached()
            if hit:
                open(os.environ["TEST_MARKER"], "w").close()
            out = real_encode(self, texts)
            while hit:  # still inside the model call when the kill arrives
                time.sleep(1)
            return out
        return encode_passages
    for cls in (SentenceEmbeddings, TracedEmbeddings):
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


def index_command(corpus: Path, index: Path) -> list[str]:
    """argv of the killable `python -m assistant index` (quiet, JSON summary)."""
    return [sys.executable, "-c", KILLABLE_MAIN, "index", "--corpus", str(corpus), "--index", str(index), "--quiet",
            "--json"]


def run_index_killed_at(corpus: Path, index: Path, env: dict[str, str], point: str, *, step: int = 4,
                        timeout: float = 400) -> subprocess.CompletedProcess:
    """Run the index command until it kills itself at `point` ("commit:2", "delete", ...); fails if it finishes."""
    proc = subprocess.run(index_command(corpus, index), cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**env, "TEST_KILL_AT": point, "TEST_EMBED_STEP": str(step)})
    assert proc.returncode == -signal.SIGKILL, \
        f"expected a kill -9 at {point}, got rc={proc.returncode}:\n{proc.stdout[-1000:]}\n{proc.stderr[-3000:]}"
    return proc


def kill_index_while_embedding(corpus: Path, index: Path, env: dict[str, str], marker: Path,
                               timeout: float = 400) -> float:
    """Start the index command, kill -9 it from outside while it is inside the model call; returns seconds it ran."""
    marker.unlink(missing_ok=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(index_command(corpus, index), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**env, "TEST_KILL_AT": "embed", "TEST_MARKER": str(marker)})
    try:
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"the build ended before embedding (rc={proc.returncode}): "
                                     f"{proc.stderr.read()[-3000:]!r}")
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"the build did not start embedding within {timeout} s")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return time.monotonic() - t0


# --- a Chroma server that can go away and come back -------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """`chroma run --path P --host 127.0.0.1 --port N`; stop() and start() again keep the same path and port."""

    def __init__(self, data: Path, log: Path):
        self.data, self.log = Path(data), Path(log)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "ChromaServer":
        exe = Path(sys.executable).parent / "chroma"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(exe), "run", "--path", str(self.data), "--host", "127.0.0.1", "--port",
                                          str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"chroma did not answer its heartbeat in {timeout} s")
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)
        self.proc = None


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
