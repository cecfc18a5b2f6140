"""Soak: many rebuilds while the real app serves, and what the app's memory does meanwhile (issue 13, part 5).

    .venv/bin/python -m benchmarks.soak [--rebuilds 50] [--workdir DIR] [--out docs/soak.json]

The seed articles are copied to a work folder and indexed; `app.py` serves them. Each round edits one
article (a sentence appended, so the build has real work), runs `python -m assistant index` (handed to
the running app, which rebuilds and reopens its index), then asks one question over the JSON API. The
app's resident memory (VmRSS) is read after every round. Growth is the median of the last 10 rounds against
the median of rounds 5-14 (first-use costs paid); the target is at most 10%.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .processes import ROOT, App, child_env, post_json

WARM_ROUNDS = 5  # hand-set: the first rounds pay one-off costs (byte code, caches, allocator arenas)
WINDOW = 10  # hand-set: rounds per median, enough to smooth the round-to-round swing seen in a 50-round run
GROWTH_TARGET = 0.10  # issue 13: RSS growth over the soak at most 10%
QUESTION = "Kinh tế số Tiền Giang chiếm bao nhiêu phần trăm GRDP?"


def _ask(url: str) -> dict:
    status, body = post_json(url + "api/ask", {"question": QUESTION})
    if status != 200:
        raise RuntimeError(f"/api/ask answered {status}: {body}")
    return body


def _index(corpus: Path, index: Path, *extra: str) -> tuple[str, float]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant", "index", "--corpus", str(corpus), "--index", str(index),
                           *extra], cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"index failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1], time.perf_counter() - t


def run(rebuilds: int, workdir: Path) -> dict:
    """The soak's figures: RSS per round, growth, rebuild times, every answer checked."""
    if workdir.exists():
        shutil.rmtree(workdir)
    corpus, index = workdir / "corpus", workdir / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    _index(corpus, index, "--local", "--quiet")
    articles = sorted(corpus.glob("*.txt"))
    rounds = []
    with App(corpus, index, child_env(), workdir / "app.log") as app:
        _ask(app.url)
        for i in range(1, rebuilds + 1):
            path = articles[i % len(articles)]
            path.write_text(path.read_text(encoding="utf-8").rstrip("\n")
                            + f"\nĐây là câu cập nhật thứ {i} của bài để kiểm tra việc xây dựng lại chỉ mục.\n",
                            encoding="utf-8")
            summary, seconds = _index(corpus, index)
            answer = _ask(app.url)
            rounds.append({"round": i, "index": summary, "index_s": round(seconds, 2),
                           "answered": not answer["abstained"] and "8,59%" in answer["answer"],
                           "rss_mb": round(app.rss_mb() or 0.0, 1)})
            print(f"  round {i}: {summary} rss {rounds[-1]['rss_mb']} MB", file=sys.stderr)
        peak = app.peak_rss_mb()
    # RSS swings by ~6% between rounds (allocator arenas freed or not): compare medians of windows, not two points.
    rss = [r["rss_mb"] for r in rounds]
    base = statistics.median(rss[WARM_ROUNDS - 1:WARM_ROUNDS - 1 + WINDOW] or rss)
    last = statistics.median(rss[-WINDOW:])
    return {
        "command": f"python -m benchmarks.soak --rebuilds {rebuilds}", "date": time.strftime("%Y-%m-%d %H:%M"),
        "rebuilds": rebuilds, "rss_median_after_warm_up_mb": base, "rss_median_last_rounds_mb": last,
        "rss_max_mb": max(rss),
        "rss_growth": round(last / base - 1, 4), "growth_target": GROWTH_TARGET,
        "pass": last / base - 1 <= GROWTH_TARGET, "peak_rss_mb": round(peak or 0.0, 1),
        "index_s_p50": round(statistics.median(r["index_s"] for r in rounds), 2),
        "all_answered": all(r["answered"] for r in rounds), "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: run the soak, write the JSON report, print its summary."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    p.add_argument("--rebuilds", type=int, default=50)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/soak-work"))
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "soak.json")
    args = p.parse_args(argv)
    report = run(args.rebuilds, args.workdir)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "rounds"}, ensure_ascii=False, indent=1))
    return 0 if report["pass"] and report["all_answered"] else 1


if __name__ == "__main__":
    sys.exit(main())
