"""Leaving frequent tokens out of the keyword query (lexical.MAX_DF_SHARE): retrieval recall and query time, side
by side for each share, on XQuAD-vi (240 paragraphs), dev_qa over the seeds and, optionally, a large index.

    .venv/bin/python -m benchmarks.lexical_prune [--workdir DIR] [--big-index /work/bench-20k]
        [--shares 1.01 0.2 0.1 0.05] [--out docs/lexical_prune.json]

A share of 1.01 leaves every token in (the query before pruning). Recall@1/@5 are of the hybrid retriever
(dense + keyword, fused), as the app runs it; the keyword time is `Catalog.candidates` (BM25 and the
candidate rows), median over the questions after one warm round.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from .common import ROOT, copy_seeds, log, machine_info

DEFAULT_SHARES = (1.01, 0.2, 0.1, 0.05)


def _questions_xquad() -> list[tuple[str, str]]:
    from . import xquad_eval

    _, queries = xquad_eval.load()
    return [(q["question"], q["gold_doc_ids"][0]) for q in queries]


def _questions_dev() -> list[tuple[str, str]]:
    """dev_qa questions answered by one article (the harness's article ids)."""
    from assistant.config import Settings
    from assistant.learn import datasets as ds

    items, _ = ds.load("dev_qa", Settings.from_env())
    return [(q.question, q.article_id) for q in items if q.article_id]


def _index(folder: Path, write) -> Path:
    from assistant.config import Settings
    from assistant.indexing.indexer import Indexer

    if not (folder / "index" / "catalog.sqlite").is_file():
        write(folder / "corpus")
        Indexer(Settings.from_env(corpus_dir=folder / "corpus", index_dir=folder / "index"), show_progress=False).run()
    return folder


def measure(folder: Path, questions: list[tuple[str, str]], shares, emb) -> dict:
    """Per share: recall@1/@5 (gold article among the top distinct articles) and keyword-stage time."""
    from assistant.config import Settings
    from assistant.indexing import lexical
    from assistant.indexing.reader import IndexReader
    from assistant.retrieve.retriever import HybridRetriever
    from assistant.vi.textnorm import normalize_question

    settings = Settings.from_env(corpus_dir=folder / "corpus", index_dir=folder / "index")
    reader = IndexReader(settings, emb)
    retriever = HybridRetriever.from_settings(settings, reader)
    qvecs = {q: emb.encode_queries([normalize_question(q)])[0] for q, _ in questions}
    out = {}
    for share in shares:
        lexical.MAX_DF_SHARE = share
        lexical.MIN_CHUNKS_TO_PRUNE = 0  # every index pruned, to see what the share costs at each size
        r1 = r5 = 0
        for q, gold in questions:
            arts = list(dict.fromkeys(h.chunk.article_id for h in retriever.search(q, k=10)))
            r1 += arts[:1] == [gold]
            r5 += gold in arts[:5]
        lat = []
        for rnd in range(2):
            for q, _ in questions:
                t = time.perf_counter()
                reader.catalog.candidates(normalize_question(q), [], 40)
                if rnd:
                    lat.append((time.perf_counter() - t) * 1000)
        out[str(share)] = {"recall@1": round(r1 / len(questions), 4), "recall@5": round(r5 / len(questions), 4),
                           "keyword_ms_p50": round(statistics.median(lat), 2)}
        log(f"{folder.name} share {share}: {out[str(share)]}")
    lexical.MAX_DF_SHARE, lexical.MIN_CHUNKS_TO_PRUNE = DEFAULT_MAX, DEFAULT_MIN
    reader.close()
    return {"questions": len(questions), "by_share": out}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workdir", type=Path, default=Path("/tmp/lexical-prune"))
    p.add_argument("--big-index", type=Path, help="a folder with corpus/ and index/ (benchmarks.scale_point's)")
    p.add_argument("--shares", type=float, nargs="+", default=list(DEFAULT_SHARES))
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "lexical_prune.json")
    args = p.parse_args(argv)
    os.environ.setdefault("ASSISTANT_SENTENCE_VECTORS", "lazy")  # retrieval only: no sentence vectors needed
    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings

    from . import xquad_eval

    emb = load_embeddings(Settings.from_env())
    docs, _ = xquad_eval.load()
    sets = {"xquad": (_index(args.workdir / "xquad", lambda c: xquad_eval.write_corpus(docs, c)), _questions_xquad()),
            "dev_qa_seeds": (_index(args.workdir / "seeds", copy_seeds), _questions_dev())}
    if args.big_index:
        sets["dev_qa_big"] = (args.big_index, _questions_dev())
    report = {"command": ".venv/bin/python -m benchmarks.lexical_prune " + " ".join(argv or sys.argv[1:]),
              "machine": machine_info(), "default_share": DEFAULT_MAX,
              "sets": {name: measure(folder, qs, args.shares, emb) for name, (folder, qs) in sets.items()},
              "finished": time.strftime("%Y-%m-%d %H:%M")}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    log(f"wrote {args.out}")
    return 0


from assistant.indexing.lexical import MAX_DF_SHARE as DEFAULT_MAX  # noqa: E402  (the shipped values, restored)
from assistant.indexing.lexical import MIN_CHUNKS_TO_PRUNE as DEFAULT_MIN  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
