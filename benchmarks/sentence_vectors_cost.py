"""What the answer stage's sentence vectors cost at build time and on disk.

Builds an index of N ViNewsQA articles (real news text) from scratch and times the phases the
indexer reports (`embed` = chunk vectors, `sentences` = the sentence vectors of `index/sentences.sqlite`),
then measures the index folder. Writes docs/sentence_vectors.md and .json.

    .venv/bin/python -m benchmarks.sentence_vectors_cost [--articles 200]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import PROJECT_ROOT, Settings
from assistant.indexing.embed.embeddings import load_embeddings
from assistant.indexing.indexer import Indexer
from assistant.learn import datasets as ds

DOCS = PROJECT_ROOT / "docs"


def folder_bytes(path: Path) -> int:
    """Total size of the files under path."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(n_articles: int, work: Path) -> dict:
    """Build the index once, timing each reported phase; sizes of its parts."""
    _, articles = ds.load("vinewsqa")
    articles = sorted(articles, key=lambda a: a.article_id)[:n_articles]
    ds.write_corpus(articles, work / "corpus")
    settings = Settings.from_env({}, corpus_dir=work / "corpus", index_dir=work / "index")
    embeddings = load_embeddings(settings)
    embeddings.encode_passages(["khởi động"])  # model load stays out of the phases
    reports: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    summary = Indexer(settings, embeddings=embeddings, show_progress=False).run(
        progress=lambda phase, done, total: reports.append((phase, time.perf_counter())))
    total = time.perf_counter() - t0
    if not summary.ok:
        raise RuntimeError(f"build failed: {summary}")
    # A phase runs from the last report of the phase before it (or the start) to its own last report.
    phases: dict[str, float] = {}
    prev_end = t0
    for i, (phase, t) in enumerate(reports):
        if i + 1 == len(reports) or reports[i + 1][0] != phase:
            phases[phase] = round(phases.get(phase, 0.0) + t - prev_end, 2)
            prev_end = t
    sentences = phases.get("sentences", 0.0)
    index = work / "index"
    sizes = {p.name: folder_bytes(p) if p.is_dir() else p.stat().st_size for p in index.iterdir()}
    per_1000 = {k: round(v / n_articles * 1000 / 2**20, 1) for k, v in sizes.items()}
    return {"articles": n_articles, "chunks": summary.chunks, "build_seconds": round(total, 1), "phases_seconds": phases,
            "build_ratio_with_vs_without_sentence_vectors": round(total / max(total - sentences, 1e-9), 3),
            "mb_per_1000_articles": per_1000,
            "sentence_vectors_share_of_index": round(sizes.get("sentences.sqlite", 0) / max(sum(sizes.values()), 1), 3),
            "loadavg_1min_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    """Command line: measure and write the report."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sentence_vectors_cost", description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=200)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        res = measure(args.articles, Path(tmp))
    res["command"] = "python -m benchmarks.sentence_vectors_cost " + " ".join(argv or sys.argv[1:])
    res["when"] = time.strftime("%Y-%m-%d %H:%M")
    (DOCS / "sentence_vectors.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = ["# Sentence vectors: build cost and storage", "",
             f"Command: `{res['command'].strip()}` ({res['when']}, load average {res['loadavg_1min_at_end']} on "
             f"{res['cpus']} CPUs). {res['articles']} ViNewsQA articles, {res['chunks']} chunks, built from scratch.", "",
             f"- build: {res['build_seconds']} s; phases (s): {res['phases_seconds']}",
             f"- build time with the sentence vectors / without them: **{res['build_ratio_with_vs_without_sentence_vectors']}x**",
             f"- storage, MB per 1,000 articles: {res['mb_per_1000_articles']}",
             f"- sentence vectors' share of the index on disk: {res['sentence_vectors_share_of_index']:.1%}", ""]
    (DOCS / "sentence_vectors.md").write_text("\n".join(lines), encoding="utf-8")
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
