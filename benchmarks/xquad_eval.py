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

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "xquad_vi" / "retrieval"


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


def run(limit: int | None = None, workdir: Path | None = None, answers: bool = True) -> dict:
    """Build the index and score retrieval (and the extractive answer) on every question."""
    from assistant.config import Settings
    from assistant.indexing.indexer import Indexer
    from assistant.app.pipeline import Assistant
    from assistant.vi.textnorm import fold

    docs, queries = load(limit)
    work = Path(workdir or tempfile.mkdtemp(prefix="xquad-"))
    write_corpus(docs, work / "corpus")
    settings = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "index", k=10,
                                 max_chunks_per_article=1)
    t0 = time.perf_counter()
    summary = Indexer(settings, show_progress=False).run()
    build_s = time.perf_counter() - t0
    bot = Assistant(settings)
    hits_at = {1: 0, 5: 0, 10: 0}
    answer_hit = 0
    rr = 0.0
    lat = []
    for q in queries:
        t = time.perf_counter()
        hits = bot.retriever.search(q["question"], k=10)
        lat.append((time.perf_counter() - t) * 1000)
        ranked = [h.chunk.article_id for h in hits]
        gold = set(q["gold_doc_ids"])
        rank = next((i for i, a in enumerate(ranked) if a in gold), None)
        for k in hits_at:
            hits_at[k] += rank is not None and rank < k
        rr += 1 / (rank + 1) if rank is not None else 0
        if answers:
            a = bot.ask(q["question"], k=5)
            answer_hit += any(fold(ans) in fold(a.answer) for ans in q["answers"])
    n = len(queries)
    lat.sort()
    return {"questions": n, "paragraphs": len(docs), "build_seconds": round(build_s, 1), "chunks": summary.chunks,
            "recall@1": round(hits_at[1] / n, 4), "recall@5": round(hits_at[5] / n, 4),
            "recall@10": round(hits_at[10] / n, 4), "mrr": round(rr / n, 4),
            "answer_in_extractive": round(answer_hit / n, 4) if answers else None,
            "retrieve_p50_ms": round(lat[n // 2], 1), "retrieve_p95_ms": round(lat[int(n * 0.95) - 1], 1)}


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
