"""`python -m benchmarks.compare`: run the sections, save benchmarks.json, render the report."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from assistant.app.evaluate import load_qa

from .. import xquad_eval
from ..baseline import describe, splitter_class
from ..common import DEV_QA, ROOT, SEED_CORPUS, Stopwatch, log, machine_info, need
from . import __doc__ as DOC
from .report import write_report
from .runners import section_memory, section_scale, section_seeds, section_setup, section_xquad

DEFAULT_SIZES = (1000, 5000, 20000)  # issue 6: the seeds mixed into 1,000, 5,000 and 20,000 baomoi articles
QUICK_SIZES = (200,)  # hand-set: one small size that builds in ~1 min here (~4 articles/s)
QUICK_XQUAD = 100  # hand-set: a twelfth of the 1,190 XQuAD-vi questions, enough to see the script work
DEFAULT_ROUNDS = 3  # hand-set: 3 x 22 dev questions = 66 latency samples, enough for a p95
WARM_UP_TEXTS = ["khởi động mô hình"] * 8  # one small batch so the first timed encode is not the first call


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=DOC.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Full run: .venv/bin/python -m benchmarks.compare --setup-times setup.json "
                                       "--index-bench docs/index_bench.json   (see docs/benchmarks.md)")
    p.add_argument("--sizes", help="baomoi sizes for the scale runs, comma-separated (default "
                   f"{','.join(map(str, DEFAULT_SIZES))}; {QUICK_SIZES[0]} with --quick)")
    p.add_argument("--xquad-limit", type=int, help=f"XQuAD-vi questions (default all 1,190; {QUICK_XQUAD} with --quick)")
    p.add_argument("--rounds", type=int, help=f"rounds over the dev questions for latency (default {DEFAULT_ROUNDS}; "
                   "1 with --quick)")
    p.add_argument("--skip-setup", action="store_true", help="do not time scripts/setup.sh (the cold run downloads ~1 GB)")
    p.add_argument("--setup-times", type=Path, help="JSON with cold_s/warm_s/noop_s measured earlier")
    p.add_argument("--skip-xquad", action="store_true", help="leave XQuAD-vi out")
    p.add_argument("--skip-memory", action="store_true", help="do not start app.py / probes for peak memory")
    p.add_argument("--index-bench", type=Path, help="JSON from benchmarks.index_bench --json, included in the report")
    p.add_argument("--time-budget", type=float, help="minutes: skip (and estimate) scale sizes that would not fit")
    p.add_argument("--workdir", type=Path, help="work folder (kept; with --reuse, finished scale sizes are reused)")
    p.add_argument("--reuse", action="store_true", help="reuse scale results saved in --workdir by an earlier run")
    p.add_argument("--out", type=Path, default=ROOT / "docs", help="report folder (default docs/)")
    p.add_argument("--render-from", type=Path, metavar="JSON",
                   help="only rewrite the report, findings and plots from an earlier benchmarks.json")
    p.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES[0]}, {QUICK_XQUAD} XQuAD questions, one "
                   "round, no set-up timing: checks the script in a few minutes on a quiet machine")
    args = p.parse_args(argv)
    if args.reuse and not args.workdir:
        p.error("--reuse needs --workdir")
    return args


def measure(args: argparse.Namespace, argv: list[str] | None) -> dict:
    """Every section of one run, in one process with one loaded model; a failed section is recorded, not fatal."""
    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    xlimit = args.xquad_limit or (QUICK_XQUAD if args.quick else None)
    rounds = args.rounds or (1 if args.quick else DEFAULT_ROUNDS)
    skip_setup = args.skip_setup or (args.quick and not args.setup_times)
    need(DEV_QA, "dev_qa.jsonl")
    need(SEED_CORPUS, "the seed corpus")
    if not args.skip_xquad:
        need(xquad_eval.DATA, "XQuAD-vi data")
    splitter_class()  # fail now, not after an hour
    t_start = time.perf_counter()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="compare-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"benchmark": "compare", "mode": "quick" if args.quick else "full",
                 "command": " ".join([".venv/bin/python", "-m", "benchmarks.compare"] + (argv or sys.argv[1:])),
                 "started": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(), "baseline": describe()}
    qa = load_qa(DEV_QA)
    res["qa_ids"] = [r["id"] for r in qa]
    log(f"work folder {work}; loading the embedding model")
    with Stopwatch() as sw:
        emb = load_embeddings(Settings.from_env())
        emb.encode_passages(WARM_UP_TEXTS)
    res["model"] = {"load_s": round(sw.seconds, 1), "dtype": emb.encoder,
                    "batch_size": emb.batch_size, "fingerprint": emb.fingerprint}
    res["errors"] = {}

    def guarded(name: str, fn, *a):
        try:
            res[name] = fn(*a)
        except Exception as exc:  # noqa: BLE001 — an hour-long run should still write what it measured
            log(f"{name}: FAILED: {exc!r}")
            res["errors"][name] = "".join(traceback.format_exception(exc))[-3000:]

    try:
        guarded("seeds", section_seeds, work, emb, qa, rounds)
        if not args.skip_xquad:
            guarded("xquad", section_xquad, work, emb, xlimit)
        budget = args.time_budget * 60 if args.time_budget else None
        guarded("scale", section_scale, work, emb, qa, sizes, rounds, budget, t_start, args.reuse)
        if not args.skip_memory:
            built = [int(s) for s, v in (res.get("scale") or {}).get("sizes", {}).items()
                     if not v.get("estimated_only") and (work / f"scale-{s}" / "baseline").exists()]
            folders = [work / "seeds"] + ([work / f"scale-{max(built)}"] if built else [])
            guarded("memory", section_memory, work, folders, qa)
        guarded("setup", section_setup, args.setup_times, skip_setup)
        if args.index_bench:
            res["index_bench"] = json.loads(args.index_bench.read_text(encoding="utf-8"))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    res["finished"] = time.strftime("%Y-%m-%d %H:%M")
    res["elapsed_min"] = round((time.perf_counter() - t_start) / 60, 1)
    res["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_from:
        res = json.loads(args.render_from.read_text(encoding="utf-8"))
        if args.index_bench:
            res["index_bench"] = json.loads(args.index_bench.read_text(encoding="utf-8"))
        return write_report(res, args.out)
    return write_report(measure(args, argv), args.out)


if __name__ == "__main__":
    sys.exit(main())
