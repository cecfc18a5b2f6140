"""The embedding runtimes side by side: encode rate, agreement, XQuAD-vi dense recall, cold start and memory.

    .venv/bin/python -m benchmarks.encoders [--rounds 4] [--n 256] [--out docs/encoders.json]

Runtimes: sentence-transformers on torch (the fallback, bf16 where the CPU has it, else fp32) and the
OpenVINO copy with int8 weights made at set-up (the default). In one process, interleaved rounds over the
same 256 baomoi passages (~1,000 characters, batch 32), median passages/s and the ratio to torch. Agreement is
cosine to torch fp32. Recall: XQuAD-vi's 1,190 questions against its 240 paragraphs, dense only, title
prefixed as the index embeds them. Cold start and peak RSS come from a fresh process per runtime that loads
the encoder and embeds one query (what `ask` from a cold process pays).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from assistant.config import PROJECT_ROOT, Settings
from assistant.indexing.embed.embeddings import encoder_tag, load_embeddings, resolved_dtype
from assistant.indexing.indexer import embedding_text
from assistant.learn.datasets import load_xquad
from benchmarks.common import article_text, load_baomoi, machine_info, median, table

PASSAGE_CHARS = 1000  # hand-set: about one chunk of ours (~220-350 tokens of news Vietnamese)
DEFAULT_N = 256  # hand-set: 8 batches of 32, as in issue 13's comparison
DEFAULT_ROUNDS = 4  # hand-set: rounds swing ±15% on these shared machines; the median of 4 settles it

COLD = r"""
import json, sys, time
t = time.perf_counter()
from assistant.config import Settings
from assistant.indexing.embed.embeddings import load_embeddings
emb = load_embeddings(Settings.from_env(embedding_runtime=sys.argv[1]))
emb.encode_queries(["Tiền Giang có bao nhiêu doanh nghiệp số?"])
# VmHWM, not ru_maxrss: Linux carries the parent's maxrss over into a forked child.
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print(json.dumps({"seconds": time.perf_counter() - t, "peak_rss_mb": int(hwm) / 1024,
                  "torch_imported": "torch" in sys.modules, "encoder": emb.encoder}))
"""


def passages(n: int) -> list[str]:
    """n baomoi article openings of PASSAGE_CHARS characters."""
    rows = [r for r in load_baomoi(4 * n) if len(article_text(r)) > PASSAGE_CHARS]
    return [article_text(r)[:PASSAGE_CHARS] for r in rows[:n]]


def xquad_recall(emb) -> dict:
    """Dense recall@1/@5 of XQuAD-vi's questions over its paragraphs (title prefixed, as the index embeds)."""
    items, arts = load_xquad()
    docs = emb.encode_passages([embedding_text(a.title, a.text) for a in arts])
    qs = emb.encode_queries([q.question for q in items])
    ids = np.array([a.article_id for a in arts])
    top = np.argsort(-(qs @ docs.T), axis=1)[:, :5]
    gold = np.array([q.article_id for q in items])
    return {"r@1": round(float(np.mean(ids[top[:, 0]] == gold)), 4),
            "r@5": round(float(np.mean((ids[top] == gold[:, None]).any(axis=1))), 4)}


def cold_start(runtime: str) -> dict:
    """Load + first query in a fresh process, and its peak RSS."""
    out = subprocess.run([sys.executable, "-c", COLD, runtime], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Measure, print a table, write the JSON report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=DEFAULT_N)
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "encoders.json")
    args = p.parse_args(argv)

    base = Settings.from_env()
    encoders = {"torch": load_embeddings(base.replace(embedding_runtime="torch")),
                "openvino": load_embeddings(base.replace(embedding_runtime="openvino"))}
    texts = passages(args.n)
    for emb in encoders.values():
        emb.encode_passages(texts[:32])  # warm-up: first-call allocations and graph set-up
    rates: dict[str, list[float]] = {k: [] for k in encoders}
    vectors = {}
    for _ in range(args.rounds):
        for name, emb in encoders.items():
            t = time.perf_counter()
            vectors[name] = emb.encode_passages(texts)
            rates[name].append(len(texts) / (time.perf_counter() - t))
    ref_vecs = vectors["torch"] if resolved_dtype(base) == "fp32" else \
        load_embeddings(base.replace(embedding_runtime="torch", embedding_dtype="fp32")).encode_passages(texts)
    rows = {}
    for name, emb in encoders.items():
        cos = (vectors[name] * ref_vecs).sum(axis=1)
        rows[name] = {"encoder": emb.encoder, "passages_per_s": round(median(rates[name]), 2),
                      "rounds": [round(r, 2) for r in rates[name]],
                      "ratio_to_torch": round(median(rates[name]) / median(rates["torch"]), 3),
                      "cosine_vs_torch_fp32": {"mean": round(float(cos.mean()), 6), "min": round(float(cos.min()), 6)},
                      "xquad_dense": xquad_recall(emb), "cold": cold_start(name)}
    report = {"command": "python -m benchmarks.encoders " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": machine_info(), "default_encoder": encoder_tag(base), "passages": len(texts),
              "passage_chars": PASSAGE_CHARS, "batch": base.embedding_batch_size, "runtimes": rows}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(table([[n, r["encoder"], f'{r["passages_per_s"]:.2f}', f'{r["ratio_to_torch"]:.3f}',
                  f'{r["cosine_vs_torch_fp32"]["mean"]:.6f}', f'{r["cosine_vs_torch_fp32"]["min"]:.6f}',
                  f'{r["xquad_dense"]["r@1"]:.4f}', f'{r["xquad_dense"]["r@5"]:.4f}',
                  f'{r["cold"]["seconds"]:.2f}', f'{r["cold"]["peak_rss_mb"]:.0f}'] for n, r in rows.items()],
                ["runtime", "encoder", "passages/s", "vs torch", "cos mean", "cos min", "XQuAD r@1", "r@5",
                 "cold load+query s", "cold peak RSS MB"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
