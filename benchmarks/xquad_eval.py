"""XQuAD-vi retrieval benchmark: recall@1/5/10 of our hybrid retriever, and answer-string hit rate.

    .venv/bin/python -m benchmarks.xquad_eval [--limit N] [--json OUT]

Each of the 240 paragraphs becomes one article of a temporary corpus; a question counts as
found at k when its gold paragraph is among the top-k retrieved articles.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from .common import DATA as SHARED_DATA
from .common import pct

DATA = SHARED_DATA / "xquad_vi" / "retrieval"
DEPTHS = (1, 5, 10)  # recall@k reported; ../shared/data/README.md gives BM25 at the same three depths
ANSWER_K = 5  # chunks behind each extractive answer: our default (Settings.k)


def load(limit: int | None = None) -> tuple[list[dict], list[dict]]:
    """(paragraphs, queries) of XQuAD-vi; exits with a clear message when the data is absent."""
    if not DATA.is_dir():
        sys.exit(f"XQuAD-vi data not found at {DATA}; this benchmark needs ../shared/data/")
    docs = [json.loads(line) for line in open(DATA / "corpus.jsonl", encoding="utf-8")]
    queries = [json.loads(line) for line in open(DATA / "queries.jsonl", encoding="utf-8")]
    return docs, queries[:limit] if limit else queries


def write_corpus(docs: list[dict], folder: Path) -> None:
    """One article file per paragraph, the paragraph title as front matter."""
    folder.mkdir(parents=True, exist_ok=True)
    for d in docs:
        title = d["title"].replace("_", " ").replace('"', "'")
        (folder / f"{d['doc_id']}.md").write_text(f'---\ntitle: "{title}"\n---\n{d["text"]}\n', encoding="utf-8")


def gold_rank(ranked: list[str], query: dict) -> int | None:
    """0-based rank of the first gold paragraph in a list of distinct paragraph ids, None when absent."""
    gold = set(query["gold_doc_ids"])
    return next((i for i, a in enumerate(ranked) if a in gold), None)


def rank_metrics(ranks: list[int | None]) -> dict:
    """recall@1/5/10 and MRR from the gold ranks of every question."""
    n = len(ranks)
    out = {f"recall@{k}": round(sum(r is not None and r < k for r in ranks) / n, 4) for k in DEPTHS}
    out["mrr"] = round(sum(1 / (r + 1) for r in ranks if r is not None) / n, 4)
    return out


def run(limit: int | None = None, workdir: Path | None = None, answers: bool = True) -> dict:
    """Build the index and score retrieval (and the extractive answer) on every question."""
    from assistant.config import Settings
    from assistant.indexing.indexer import Indexer
    from assistant.app.pipeline import Assistant
    from assistant.vi.textnorm import fold

    docs, queries = load(limit)
    work = Path(workdir or tempfile.mkdtemp(prefix="xquad-"))
    write_corpus(docs, work / "corpus")
    settings = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "index", k=max(DEPTHS),
                                 max_chunks_per_article=1)
    t0 = time.perf_counter()
    summary = Indexer(settings, show_progress=False).run()
    build_s = time.perf_counter() - t0
    bot = Assistant(settings)
    ranks: list[int | None] = []
    answer_hit = 0
    lat = []
    for q in queries:
        t = time.perf_counter()
        hits = bot.retriever.search(q["question"], k=max(DEPTHS))
        lat.append((time.perf_counter() - t) * 1000)
        ranks.append(gold_rank([h.chunk.article_id for h in hits], q))
        if answers:
            a = bot.ask(q["question"], k=ANSWER_K)
            answer_hit += any(fold(ans) in fold(a.answer) for ans in q["answers"])
    n = len(queries)
    return {"questions": n, "paragraphs": len(docs), "build_seconds": round(build_s, 1), "chunks": summary.chunks,
            **rank_metrics(ranks), "answer_in_extractive": round(answer_hit / n, 4) if answers else None,
            "retrieve_p50_ms": round(pct(lat, 50), 1), "retrieve_p95_ms": round(pct(lat, 95), 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--no-answers", action="store_true", help="retrieval only")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args()
    res = run(args.limit, answers=not args.no_answers)
    print(json.dumps(res, indent=1))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
