"""Shared fixtures: project paths, the embedding model (loaded once), a built index to copy, CLI runner."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# One place for every path the tests use; ../shared comes from ASSISTANT_SHARED_DIR (default: beside the project).
from tests.support.paths import (ARTIFACTS, CORPUS, DEV_QA, MODEL_DIR, ROOT, SEED_IDS, SEEDS, SHARED, raw_body,
                                 settings_for)

__all__ = ["ARTIFACTS", "CORPUS", "DEV_QA", "MODEL_DIR", "ROOT", "SEED_IDS", "SEEDS", "SHARED", "raw_body",
           "settings_for", "RecordingEmbeddings"]

@pytest.fixture(scope="session")
def pycache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture(scope="session")
def subprocess_env(pycache_dir):
    """Environment for child processes: no inherited ASSISTANT_* settings.

    The sandbox sets PYTHONDONTWRITEBYTECODE=1 and the venv ships no .pyc files, so every child
    would re-compile torch & co. (~15 s). Children share a byte-code cache under the session's
    tmp folder instead; the code that runs is the same.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def run_cli(subprocess_env):
    """Run `python -m assistant ARGS` from the project root; returns the CompletedProcess."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "assistant", *map(str, args)], cwd=ROOT,
                              env={**subprocess_env, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)

    return run


@pytest.fixture(scope="session")
def embeddings():
    """The real embedder with the default settings (OpenVINO; bf16 where the CPU has it), loaded once."""
    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings

    return load_embeddings(Settings.from_env({}))


@pytest.fixture(scope="session")
def torch_embeddings():
    """The sentence-transformers (torch) fallback encoder, as ASSISTANT_EMBEDDING_RUNTIME=torch loads it."""
    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings

    return load_embeddings(Settings.from_env({}, embedding_runtime="torch"))


@pytest.fixture(scope="session")
def token_count(embeddings):
    """Tokens e5 sees for a chunk, counted with the model's own tokenizer (as the indexer does)."""
    return lambda text: embeddings.count_tokens(text) + 2


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embeddings):
    """The five seed articles indexed once (real model, embedded Chroma); copy it, never write to it."""
    from assistant.indexing.indexer import Indexer

    base = tmp_path_factory.mktemp("built")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = settings_for(corpus, base / "index")
    summary = Indexer(settings, embeddings=embeddings, show_progress=False).run()
    assert summary.added == len(SEED_IDS) and summary.ok, summary
    _release_chroma(base / "index")
    return base


def _release_chroma(index_dir: Path) -> None:
    from assistant.indexing.vectorstore import CHROMA_DIR, _forget_cached_system

    _forget_cached_system(str(index_dir / CHROMA_DIR))


@pytest.fixture
def index_copy(tmp_path, built_index):
    """A private copy of the built index and its corpus: (settings, corpus_dir, index_dir)."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built_index / "corpus", corpus)
    shutil.copytree(built_index / "index", index)
    return settings_for(corpus, index), corpus, index


class RecordingEmbeddings:
    """The real embedder, recording which passages were embedded (a spy, not a mock)."""

    def __init__(self, inner):
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.passages: list[str] = []

    def encode_passages(self, texts):
        self.passages.extend(texts)
        return self.inner.encode_passages(texts)

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)


@pytest.fixture
def recording(embeddings):
    return RecordingEmbeddings(embeddings)
