"""Peak memory of a process that loads one pipeline with its index and answers a few questions.

    .venv/bin/python -m benchmarks.rss_probe ours --index DIR --questions FILE
    .venv/bin/python -m benchmarks.rss_probe baseline --persist DIR --questions FILE

Prints one JSON object: peak RSS (VmHWM) after loading and after the questions, in MB. Used by
`benchmarks.compare` to put the baseline's memory beside the app's (a fresh process for each,
so neither counts the other's memory).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .processes import peak_rss_mb, rss_now_mb


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.rss_probe", description=__doc__.splitlines()[0])
    p.add_argument("pipeline", choices=("ours", "baseline"))
    p.add_argument("--index", type=Path, help="our index folder")
    p.add_argument("--persist", type=Path, help="the baseline's Chroma folder")
    p.add_argument("--questions", type=Path, required=True, help="one question per line")
    args = p.parse_args(argv)
    questions = [q for q in args.questions.read_text(encoding="utf-8").splitlines() if q.strip()]
    t = time.perf_counter()
    if args.pipeline == "ours":
        from assistant.config import Settings
        from assistant.app.pipeline import Assistant

        bot = Assistant(Settings.from_env(index_dir=args.index))
        bot.retriever.search("chuyển đổi số", k=1)  # open everything, as the app's warm-up does
        ask = bot.ask
    else:
        from assistant.config import Settings
        from assistant.indexing.embed.embeddings import load_embeddings

        from .baseline import Baseline

        base = Baseline(load_embeddings(Settings.from_env()), args.persist)
        ask = base.answer
    loaded = peak_rss_mb()
    load_s = time.perf_counter() - t
    for q in questions:
        ask(q)
    print(json.dumps({"pipeline": args.pipeline, "load_s": round(load_s, 2), "peak_rss_loaded_mb": loaded,
                      "peak_rss_mb": peak_rss_mb(), "rss_now_mb": rss_now_mb(), "questions": len(questions)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
