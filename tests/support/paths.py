"""Where things are: the project, its corpus and model, and the shared data beside it (one setting)."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "corpus"
MODEL_DIR = ROOT / "models" / "multilingual-e5-small"
ARTIFACTS = ROOT / "test-artifacts"
# The raw seeds and the shared data live next to the project (../shared), never inside it.
SHARED = Path(os.environ.get("ASSISTANT_SHARED_DIR", ROOT.parent / "shared"))
SEEDS = SHARED / "seeds"
DEV_QA = SHARED / "eval" / "dev_qa.jsonl"
SEED_IDS = sorted(p.stem for p in CORPUS.glob("*.txt"))


def settings_for(corpus_dir: Path, index_dir: Path, env: dict[str, str] | None = None, **overrides):
    """Settings read from an explicit environment (never the developer's ASSISTANT_* variables)."""
    from assistant.config import Settings

    return Settings.from_env(env or {}, corpus_dir=corpus_dir, index_dir=index_dir, **overrides)


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def raw_body(path: Path) -> str:
    """A corpus file's text without its front matter, exactly as stored (the article as received).

    >>> raw_body(CORPUS / f"{SEED_IDS[0]}.txt").startswith("---")
    False
    """
    text = path.read_text(encoding="utf-8")
    m = _FRONT_MATTER.match(text)
    return text[m.end():] if m else text
