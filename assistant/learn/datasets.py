"""Answer-quality data (XQuAD-vi, UIT-ViNewsQA, dev_qa, paraphrase) as typed items, split by article.

Read from the shared data folder (`Settings.shared_dir`, env `ASSISTANT_SHARED_DIR`), never copied
into the repository. Splits are fixed by a hash of the article id, so every question of one
article lands on the same side.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    items, articles = load("xquad")
    val = [q for q in items if q.split == "val"]
    write_corpus(articles, Path("/tmp/xq/corpus"))
    split_of("xquad", "xquadvi-d00000")
    # -> 'train'
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from ..config import PROJECT_ROOT
from ..errors import AssistantError
from ..vi.textnorm import fold

DATASETS = ("xquad", "vinewsqa", "vinewsqa_plain", "dev_qa", "paraphrase")
VAL_BUCKET = 5  # one article in five is validation (sha256 of "dataset:article_id" mod 5 == 0)
PARAPHRASE_FILE = PROJECT_ROOT / "benchmarks" / "data" / "paraphrase_qa.jsonl"


@dataclass(frozen=True)
class QAItem:
    """One question with its gold answer strings and the article that answers it (None: several or none)."""

    id: str
    dataset: str
    article_id: str | None
    question: str
    answers: list[str]
    kind: str
    split: str
    row: dict = field(default_factory=dict, compare=False, repr=False)  # the dev_qa-format line, if any


@dataclass(frozen=True)
class SourceArticle:
    """One article of a data set: id (the corpus file name), title, body and optional front matter."""

    article_id: str
    title: str
    text: str
    meta: dict = field(default_factory=dict, compare=False)


class DataMissingError(AssistantError, FileNotFoundError):
    """The shared data folder (or one of its files) is absent."""


def shared_dir(settings=None) -> Path:
    """The shared folder from the settings (`shared_dir`), else `PROJECT_ROOT/../shared`."""
    return Path(getattr(settings, "shared_dir", None) or PROJECT_ROOT.parent / "shared")


def split_of(dataset: str, article_id: str) -> str:
    """'val' or 'train' for an article of XQuAD/ViNewsQA (fixed by hash); 'regression' for dev_qa."""
    if dataset == "dev_qa":
        return "regression"
    h = int.from_bytes(hashlib.sha256(f"{dataset}:{article_id}".encode()).digest()[:8], "big")
    return "val" if h % VAL_BUCKET == 0 else "train"


# Questions p96 and later were written after the answer stage was tuned (2026-12-03): all of them are held out,
# and the first batch keeps its split (re-sorting it with them would move tuned questions into the holdout).
HOLDOUT_BATCH_FROM = 96


def paraphrase_splits(rows: Iterable[dict]) -> dict[str, str]:
    """The fixed 'tune' | 'holdout' split of the paraphrase file: in the first batch, per kind, ids ordered by
    sha256, positions 1, 3 mod 5 hold out; every later question is held out."""
    by_kind: dict[str, list[str]] = {}
    out: dict[str, str] = {}
    for r in rows:
        if int(r["id"].lstrip("p") or 0) >= HOLDOUT_BATCH_FROM:
            out[r["id"]] = "holdout"
            continue
        by_kind.setdefault(r.get("kind", "fact"), []).append(r["id"])
    for ids in by_kind.values():
        for pos, qid in enumerate(sorted(ids, key=lambda i: hashlib.sha256(i.encode()).hexdigest())):
            out[qid] = "holdout" if pos % 5 in (1, 3) else "tune"
    return out


def load(name: str, settings=None) -> tuple[list[QAItem], list[SourceArticle]]:
    """(questions, articles) of one data set by name (see DATASETS)."""
    loaders = {"xquad": load_xquad, "vinewsqa": load_vinewsqa, "vinewsqa_plain": load_vinewsqa_plain,
               "dev_qa": load_dev_qa, "paraphrase": load_paraphrase}
    if name not in loaders:
        raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    return loaders[name](settings)


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataMissingError(f"answer-quality data not found: {path} (set ASSISTANT_SHARED_DIR to the folder "
                               "holding data/ and eval/; it is never copied into the repository)")
    return path


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in _need(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def load_xquad(settings=None) -> tuple[list[QAItem], list[SourceArticle]]:
    """XQuAD-vi: 240 paragraphs (one article each) and 1,190 questions, from `data/xquad_vi/retrieval/`."""
    base = shared_dir(settings) / "data" / "xquad_vi" / "retrieval"
    arts = [SourceArticle(d["doc_id"], d["title"].replace("_", " "), d["text"]) for d in _jsonl(base / "corpus.jsonl")]
    items = [QAItem(q["qid"], "xquad", q["gold_doc_ids"][0], q["question"], list(q["answers"]), "span",
                    split_of("xquad", q["gold_doc_ids"][0])) for q in _jsonl(base / "queries.jsonl")]
    return items, arts


def load_vinewsqa(settings=None) -> tuple[list[QAItem], list[SourceArticle]]:
    """UIT-ViNewsQA dev: 500 articles (id = the question-id prefix, e.g. 'uit_01__01000'), 2,497 questions."""
    path = _need(shared_dir(settings) / "data" / "vinewsqa_dev" / "vinewsqa_dev.json")
    items, arts = [], []
    for doc in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for para in doc["paragraphs"]:
            aid = para["qas"][0]["id"].rsplit("_", 2)[0]
            arts.append(SourceArticle(aid, doc["title"], para["context"]))
            for q in para["qas"]:
                golds = list(dict.fromkeys(a["text"] for a in q["answers"] if a["text"].strip()))
                items.append(QAItem(q["id"], "vinewsqa", aid, q["question"], golds, "span", split_of("vinewsqa", aid)))
    return items, arts


def load_vinewsqa_plain(settings=None) -> tuple[list[QAItem], list[SourceArticle]]:
    """UIT-ViNewsQA's questions typed without diacritics, as users often type them (same articles and splits)."""
    items, arts = load_vinewsqa(settings)
    return [replace(q, id=f"{q.id}-plain", dataset="vinewsqa_plain", question=fold(q.question)) for q in items], arts


def load_seeds(settings=None) -> list[SourceArticle]:
    """The five seed articles from `seeds/`, with the front matter the project's `corpus/` gives them."""
    folder = _need(shared_dir(settings) / "seeds")
    arts = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        own = PROJECT_ROOT / "corpus" / path.name
        meta = _front_matter(own.read_text(encoding="utf-8")) if own.exists() else {}
        title = meta.pop("title", None) or text.strip().splitlines()[0]
        arts.append(SourceArticle(path.stem, title, text, meta))
    return arts


def _front_matter(raw: str) -> dict[str, str]:
    """The YAML front matter of a corpus file as strings ({} when there is none)."""
    import yaml

    if not raw.startswith("---"):
        return {}
    head = raw.split("\n---", 1)[0].removeprefix("---")
    return {str(k): str(v) for k, v in (yaml.safe_load(head) or {}).items() if v is not None}


def _qa_file_items(dataset: str, rows: list[dict], arts: list[SourceArticle]) -> list[QAItem]:
    by_province = {a.meta.get("province"): a.article_id for a in arts if a.meta.get("province")}
    out = []
    for r in rows:
        aid = r.get("article_id") or (by_province.get(r.get("province")) if r.get("kind") not in ("compare", "unanswerable") else None)
        gold = list(r.get("figures") or []) + list(r.get("answer_terms") or [])
        split = r.get("split") or ("tune" if dataset == "paraphrase" else "regression")
        out.append(QAItem(r["id"], dataset, aid, r["question"], gold, r.get("kind", "fact"), split, r))
    return out


def load_dev_qa(settings=None) -> tuple[list[QAItem], list[SourceArticle]]:
    """`eval/dev_qa.jsonl` (22 questions on the five seeds), split 'regression'."""
    arts = load_seeds(settings)
    return _qa_file_items("dev_qa", _jsonl(shared_dir(settings) / "eval" / "dev_qa.jsonl"), arts), arts


def load_paraphrase(settings=None, path: Path = PARAPHRASE_FILE) -> tuple[list[QAItem], list[SourceArticle]]:
    """`benchmarks/data/paraphrase_qa.jsonl`: our own questions on the five seeds, split 'tune' | 'holdout'."""
    arts = load_seeds(settings)
    return _qa_file_items("paraphrase", _jsonl(path), arts), arts


def _yaml_str(value: str) -> str:
    return json.dumps(" ".join(str(value).split()), ensure_ascii=False)  # a JSON string is a valid YAML scalar


def write_corpus(articles: Iterable[SourceArticle], folder: Path, exclude: Iterable[str] = ()) -> list[Path]:
    """Write each article (except the ids in `exclude`) as `folder/<id>.md` with front matter; removes stale files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    skip = set(exclude)
    written = []
    for a in articles:
        if a.article_id in skip:
            continue
        head = {"title": a.title, **{k: v for k, v in a.meta.items() if k != "title" and v}}
        front = "".join(f"{k}: {_yaml_str(v)}\n" for k, v in head.items())
        path = folder / f"{a.article_id}.md"
        content = f"---\n{front}---\n{a.text.rstrip()}\n"
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    keep = {p.name for p in written}
    for stale in folder.glob("*.md"):
        if stale.name not in keep:
            stale.unlink()
    return written


def articles_hash(articles: Iterable[SourceArticle], exclude: Iterable[str] = ()) -> str:
    """sha256 over the (id, title, text, meta) of the articles kept: the stamp of a built corpus."""
    skip = set(exclude)
    h = hashlib.sha256()
    for a in sorted(articles, key=lambda a: a.article_id):
        if a.article_id not in skip:
            h.update(json.dumps([a.article_id, a.title, a.text, a.meta], ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()
