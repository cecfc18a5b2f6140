"""Chunk size, sentence overlap and the title prefix against dense recall and embedding cost, side by side.

    .venv/bin/python -m benchmarks.chunking_recall [--configs default small large no-overlap no-title]
        [--dataset vinewsqa|xquad] [--out FILE]

Corpus: the 500 UIT-ViNewsQA articles (or XQuAD-vi's 240 paragraphs with `--dataset xquad`); questions: the
validation split (by article, as the answer harness splits it). Each configuration chunks every article with `assistant.ingest.chunking.Chunker` (the model's
token counts), embeds the chunks as the indexer does (title line first, or not) and ranks them by cosine for
each question: recall@1/@5 of the gold article (distinct articles), the gold answer inside the best chunk, and
the tokens embedded (the build's cost). Dense only: the keyword side does not depend on the chunking's
embedding cost, and this isolates what the configuration changes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .common import ROOT, log, machine_info

# name: (target tokens, max tokens, overlap sentences, title prefix); "default" is what the indexer ships.
CONFIGS = {
    "default": (220, 350, 1, True),
    "small": (150, 250, 1, True),
    "large": (320, 450, 1, True),
    "no-overlap": (220, 350, 0, True),
    "no-title": (220, 350, 1, False),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--dataset", choices=("vinewsqa", "xquad"), default="vinewsqa")
    p.add_argument("--out", type=Path, help="default docs/chunking_recall.json (vinewsqa), "
                                           "docs/chunking_recall_xquad.json (xquad)")
    args = p.parse_args(argv)
    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings
    from assistant.indexing.indexer import embedding_text
    from assistant.ingest.chunking import Chunker
    from assistant.learn import datasets as ds
    from assistant.vi.textnorm import fold

    settings = Settings.from_env()
    emb = load_embeddings(settings)
    items, articles = ds.load(args.dataset, settings)
    out = args.out or ROOT / "docs" / ("chunking_recall.json" if args.dataset == "vinewsqa"
                                       else f"chunking_recall_{args.dataset}.json")
    questions = [q for q in items if q.split == "val"]
    qvecs = emb.encode_queries([q.question for q in questions])
    results = {}
    for name in args.configs:
        target, most, overlap, title = CONFIGS[name]
        chunker = Chunker(lambda t: emb.count_tokens(t) + 2, target_tokens=target, max_tokens=most, overlap=overlap)
        owners, texts, embedded = [], [], []
        for a in articles:
            for c in chunker.run(a.article_id, a.text):
                owners.append(a.article_id)
                texts.append(c.text)
                embedded.append(embedding_text(a.title, c.text) if title else c.text)
        t = time.perf_counter()
        vecs = emb.encode_passages(embedded)
        secs = time.perf_counter() - t
        tokens = sum(emb.count_tokens(x) + 2 for x in embedded)
        sims = qvecs @ vecs.T
        r1 = r5 = in_chunk = 0
        for qi, q in enumerate(questions):
            order = np.argsort(-sims[qi])
            arts = list(dict.fromkeys(owners[i] for i in order[:60]))
            r1 += arts[:1] == [q.article_id]
            r5 += q.article_id in arts[:5]
            best = texts[order[0]]
            in_chunk += any(fold(ans) in fold(best) for ans in q.answers)
        n = len(questions)
        results[name] = {"target_tokens": target, "max_tokens": most, "overlap": overlap, "title": title,
                         "chunks": len(texts), "tokens_embedded": tokens, "encode_s": round(secs, 1),
                         "recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4),
                         "answer_in_best_chunk": round(in_chunk / n, 4)}
        log(f"{name}: {results[name]}")
    base = results.get("default")
    if base:
        for r in results.values():
            r["tokens_vs_default"] = round(r["tokens_embedded"] / base["tokens_embedded"], 3)
    report = {"command": ".venv/bin/python -m benchmarks.chunking_recall " + " ".join(argv or sys.argv[1:]),
              "machine": machine_info(), "dataset": args.dataset, "articles": len(articles), "questions": len(questions),
              "configs": results, "finished": time.strftime("%Y-%m-%d %H:%M")}
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
