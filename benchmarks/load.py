"""Load on the real app (issue 7): concurrent `gradio_client` clients on `/ask`, and rebuilds while serving.

    .venv/bin/python -m benchmarks.load [--levels 1,5,20] [--duration 30] [--max-requests 400]
                                        [--rebuild-while-serving [--rebuild-clients 5] [--cycles 3]]
                                        [--workdir DIR] [--index-from DIR] [--json OUT]

It copies the seed corpus (corpus/) into a work folder outside the repository, builds its index
with `python -m assistant index` (or copies a built one given by `--index-from`), and starts the
real app — `app.py --host 127.0.0.1 --port FREE --index I --corpus C` — as a subprocess. Everything
stays on 127.0.0.1.

Load levels: for each number of concurrent clients N, N threads each open their own
`gradio_client.Client` and ask a mix of seed questions (the dev set's single-article questions) until
`--duration` seconds or `--max-requests` requests have passed. Reported: throughput (completed
requests per second), p50/p95/p99 latency, errors, and mix-ups: every reply must carry the question
that was sent, must not abstain, and must cite only the article the question is about.

`--rebuild-while-serving`: `--rebuild-clients` clients keep asking the same mix while the script,
`--cycles` times, adds a new article to the corpus, removes the one it added in the previous cycle,
and runs `python -m assistant index` (a separate process). Every request must get an answer (from
the old or the new index) and none may fail; after each rebuild the new article's question must be
answered from the new article and the removed one's never be cited again — without restarting the app;
and the app must not have moved the live index aside as broken (`index.broken-*`, its own recovery).
`--levels ''` skips the load levels (rebuild scenario only).

Results are printed as tables; `--json OUT` writes every number. The test suite runs a short version
of both (tests/test_reliability.py).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from .common import copy_seeds, log, machine_info, table
from tests.support.load import (  # noqa: F401 (the one copy: tests/support starts, asks and checks)
    BEN_TRE, DEFAULT_CYCLES, DEFAULT_REBUILD_CLIENTS, DONG_THAP, HAU_GIANG, INDEX_TIMEOUT_S, LOOPBACK, PROBES,
    REQUEST_TIMEOUT_S, SEED_QUESTIONS, THANH_HOA, TIEN_GIANG, WARM_UP_TIMEOUT_S, Probe, Question, ask_once,
    check_reply, make_client, rebuild_while_serving, run_clients, summarize, warm_up)
from tests.support.processes import IndexRun, run_index  # noqa: F401
from .processes import App  # noqa: F401 (tests/test_security.py and test_reliability.py import it from here)

DEFAULT_LEVELS = "1,5,20"  # issue 7: throughput and latency at 1, 5 and 20 concurrent clients
DEFAULT_DURATION_S = 30.0  # hand-set: ~220-320 requests per level at the 7-11 req/s measured, enough for a p99
DEFAULT_MAX_REQUESTS = 400  # hand-set: above the ~320 a 30 s level makes at 10.7 req/s; caps a faster machine
MAX_CLIENTS = 200  # hand-set: sanity bound on --levels (each client is a thread with its own connection)
# Settings that would move the benchmark off its private folders or off 127.0.0.1.
STRIPPED_ENV = ("ASSISTANT_HOST", "ASSISTANT_PORT", "ASSISTANT_AUTH", "ASSISTANT_CORPUS_DIR", "ASSISTANT_INDEX_DIR",
                "ASSISTANT_CHROMA_URL")


# The dev set's questions about one article (../shared/eval/dev_qa.jsonl d01-d17, d22).


# Made-up articles on provinces absent from the seeds, each with a figure only it states (data: load_probes.json).


# --- processes ---------------------------------------------------------------------------------
def child_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the app and the index command: private folders, 127.0.0.1, a shared byte-code cache."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in STRIPPED_ENV}
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None and "PYTHONPYCACHEPREFIX" not in env:
        # Without byte code every child re-compiles torch & co. (~15 s); keep it outside the repository.
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "assistant-pycache")
    env["PYTHONUNBUFFERED"] = "1"
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    return env


def prepare(workdir: Path, env: dict[str, str], index_from: Path | None = None) -> tuple[Path, Path, float]:
    """A private (corpus, index) in `workdir`: the seed corpus, its index copied or built; returns build seconds."""
    corpus, index = workdir / "corpus", workdir / "index"
    if index_from is not None:
        shutil.copytree(Path(index_from) / "corpus", corpus)
        shutil.copytree(Path(index_from) / "index", index)
        return corpus, index, 0.0
    copy_seeds(corpus)
    run = run_index(corpus, index, env)
    if run.returncode != 0:
        raise RuntimeError(f"building the seed index failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return corpus, index, run.seconds


# --- clients -----------------------------------------------------------------------------------


# --- rebuild while serving ------------------------------------------------------------------------


# --- command line ------------------------------------------------------------------------------
def _levels(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split(",") if x]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Everything runs on 127.0.0.1 against an app this script starts and stops.")
    p.add_argument("--levels", default=DEFAULT_LEVELS, type=_levels,
                   help=f"concurrent clients per level, comma-separated (default {DEFAULT_LEVELS}; '' = none)")
    p.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help=f"seconds per level (default {DEFAULT_DURATION_S:g})")
    p.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS,
                   help=f"at most this many requests per level (default {DEFAULT_MAX_REQUESTS})")
    p.add_argument("--timeout", type=float, default=REQUEST_TIMEOUT_S, help="seconds before one request counts as failed")
    p.add_argument("--rebuild-while-serving", action="store_true",
                   help="also run the rebuild scenario: clients keep asking while articles change and `index` runs")
    p.add_argument("--rebuild-clients", type=int, default=DEFAULT_REBUILD_CLIENTS,
                   help=f"clients during the rebuild scenario (default {DEFAULT_REBUILD_CLIENTS})")
    p.add_argument("--cycles", type=int, default=DEFAULT_CYCLES,
                   help=f"add/remove + index cycles (default {DEFAULT_CYCLES}, max {len(PROBES)})")
    p.add_argument("--workdir", type=Path, help="work folder (default: a temporary folder, removed afterwards)")
    p.add_argument("--index-from", type=Path, help="copy this built seed index (folder with index/ and corpus/) "
                                                   "instead of building one")
    p.add_argument("--json", type=Path, help="write every number (and every request) to this JSON file")
    args = p.parse_args(argv)
    if not 1 <= args.cycles <= len(PROBES):
        p.error(f"--cycles must be 1..{len(PROBES)}")
    if any(n < 1 or n > MAX_CLIENTS for n in args.levels) or args.duration <= 0 or args.max_requests < 1:
        p.error(f"levels must be 1..{MAX_CLIENTS} clients; duration and max-requests positive")

    own_tmp = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="assistant-load-")) if own_tmp else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env()
    out: dict = {"machine": machine_info(), "args": {k: str(v) for k, v in vars(args).items()}, "levels": []}
    try:
        log(f"preparing the seed corpus and index in {workdir}")
        corpus, index, build_s = prepare(workdir, env, args.index_from)
        out["seed_index_build_s"] = round(build_s, 2)
        with App(corpus, index, env, workdir / "app.log") as app:
            out["app"] = {"url": app.url, "startup_s": round(app.started_s, 2)}
            log(f"app up on {app.url} in {app.started_s:.1f} s; warming up")
            out["app"]["first_answer_s"] = round(warm_up(app.url), 2)
            out["app"]["rss_mb_after_warm_up"] = app.rss_mb()
            for n in args.levels:
                log(f"level: {n} clients, {args.duration:.0f} s or {args.max_requests} requests")
                res = run_clients(app.url, n, duration=args.duration, max_requests=args.max_requests,
                                  timeout=args.timeout)
                res["load_avg"] = [round(x, 2) for x in os.getloadavg()]
                out["levels"].append(res)
                log(f"  {res['requests']} requests, {res['throughput_rps']} req/s, p50 {res['latency_ms']['p50']} ms,"
                    f" p95 {res['latency_ms']['p95']} ms, errors {res['errors']}, mix-ups {res['mixups']}")
            out["app"]["rss_mb_after_levels"] = app.rss_mb()
            if args.rebuild_while_serving:
                log(f"rebuild while serving: {args.rebuild_clients} clients, {args.cycles} cycles")
                rb = rebuild_while_serving(app.url, corpus, index, env, clients=args.rebuild_clients,
                                           cycles=args.cycles, timeout=args.timeout)
                rb["rss_mb_after"] = app.rss_mb()
                out["rebuild"] = rb
            out["app"]["log_events"] = app.log_events()
        out["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        if own_tmp:
            shutil.rmtree(workdir, ignore_errors=True)

    if out["levels"]:
        rows = [[r["clients"], r["requests"], r["throughput_rps"], r["latency_ms"]["p50"], r["latency_ms"]["p95"],
                 r["latency_ms"]["p99"], r["errors"], r["mixups"]] for r in out["levels"]]
        print(table(rows, ["clients", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "mix-ups"]))
    ok = all(r["errors"] == 0 and r["mixups"] == 0 for r in out["levels"])
    if "rebuild" in out:
        rb = out["rebuild"]
        print()
        print(table([[c["cycle"], c["added"], c["removed"] or "–", c["index_returncode"], c["index_seconds"],
                      "yes" if not c["new_article_problems"] else "NO",
                      "yes" if c.get("removed_article_cited") else "no"] for c in rb["cycles"]],
                    ["cycle", "added", "removed", "index rc", "index s", "new answered", "removed cited"]))
        ld = rb["load"]
        print(f"\nwhile rebuilding: {ld.get('requests')} requests from {rb['clients']} clients, "
              f"{ld.get('errors')} errors, {ld.get('mixups')} mix-ups, p50 {ld.get('latency_ms', {}).get('p50')} ms, "
              f"p95 {ld.get('latency_ms', {}).get('p95')} ms; probe questions answered {rb['probe_replies']} times, "
              f"{rb['probe_replies_citing_probe']} from a new article")
        if rb["quarantined"]:
            print(f"the app moved the live index aside {len(rb['quarantined'])} time(s) (see app.log_events): "
                  + ", ".join(rb["quarantined"]))
        ok = ok and rb["ok"]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"wrote {args.json}")
    print("OK" if ok else "FAILED: see errors / mix-ups above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
