"""The light command line, measured side by side: `index` (add one article, delete it) and a cold `ask`, handed to
the running app (the default when one serves the index) against `--local` (this process does the job).

    .venv/bin/python -m benchmarks.cli_light --corpus DIR --index DIR [--rounds 5] [--out docs/cli_light.json]

The corpus and index are used as they are (the 20,000-article point of benchmarks.scale_point, for example:
`--corpus /work/bench-20k/corpus --index /work/bench-20k/index`); a spare baomoi article is added and removed
again, so the index ends as it began. One app runs throughout (benchmarks.processes.App, real HTTP); each round
runs both ways, interleaved, and medians are reported with the app's RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, article_text, baomoi_file_name, log, machine_info, spare_baomoi
from .processes import App, child_env

QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
DEFAULT_ROUNDS = 5
TARGET_ADD_S, TARGET_ASK_S = 2.0, 3.0  # issue 13: add one article ≤ 2 s, a cold `ask` ≤ 3 s


def timed(env: dict, *args: str) -> tuple[float, str]:
    """Wall seconds of one CLI run, and its stdout (raises on a failed run)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - t
    if proc.returncode not in (0,):
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return wall, proc.stdout


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "cli_light.json")
    args = p.parse_args(argv)
    env = child_env(ASSISTANT_CORPUS_DIR=str(args.corpus), ASSISTANT_INDEX_DIR=str(args.index),
                    ASSISTANT_SENTENCE_VECTORS=os.environ.get("ASSISTANT_SENTENCE_VECTORS", "lazy"))
    spare = spare_baomoi(1)[0]
    path = args.corpus / baomoi_file_name(spare)
    times: dict[str, list[float]] = {k: [] for k in ("add_app", "delete_app", "add_local", "delete_local",
                                                     "ask_app", "ask_local")}
    n_articles = sum(1 for q in args.corpus.iterdir() if q.suffix in (".md", ".txt"))
    log_path = Path(tempfile.gettempdir()) / "cli_light-app.log"
    with App(args.corpus, args.index, env, log_path) as app:
        timed(env, "ask", QUESTION)  # the app's first answer (warm-up) stays out of the figures
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds}")
            for how, extra in (("app", []), ("local", ["--local"])):
                path.write_text(article_text(spare), encoding="utf-8")
                wall, out = timed(env, "index", "--json", *extra)
                assert json.loads(out.splitlines()[-1])["added"] == 1, out
                times[f"add_{how}"].append(wall)
                path.unlink()
                wall, out = timed(env, "index", "--json", *extra)
                assert json.loads(out.splitlines()[-1])["removed"] == 1, out
                times[f"delete_{how}"].append(wall)
                wall, out = timed(env, "ask", "--json", QUESTION, *extra)
                assert json.loads(out.splitlines()[-1])["citations"], out
                times[f"ask_{how}"].append(wall)
        rss = {"app_rss_mb": app.rss_mb(), "app_peak_rss_mb": app.peak_rss_mb()}
    med = {k: round(statistics.median(v), 2) for k, v in times.items()}
    report = {
        "command": ".venv/bin/python -m benchmarks.cli_light " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_info(), "articles": n_articles, "rounds": args.rounds, "seconds": times, "median_s": med,
        "ratio_local_to_app": {op: round(med[f"{op}_local"] / med[f"{op}_app"], 2) for op in ("add", "delete", "ask")},
        "targets": {"add_one_s": TARGET_ADD_S, "ask_cold_s": TARGET_ASK_S,
                    "add_ok": med["add_app"] <= TARGET_ADD_S, "ask_ok": med["ask_app"] <= TARGET_ASK_S},
        **rss, "finished": time.strftime("%Y-%m-%d %H:%M")}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    log(f"medians: {med}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
