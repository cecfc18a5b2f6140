"""Helpers shared by the benchmarks: data location, baomoi corpora, timing, sizes, tables (processes: processes.py).

Benchmark data lives in `../shared/data/` beside the project and is never copied into the
repository: corpora are written to temporary (or `--workdir`) folders outside it.
"""
from __future__ import annotations

import functools
import gzip
import json
import os
import platform
import random
import statistics
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence
from unittest import mock

from .processes import child_env, free_port, peak_rss_mb, rss_now_mb, stop_process  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
BAOMOI = DATA / "baomoi" / "baomoi_vn_news.jsonl.gz"
DEV_QA = SHARED / "eval" / "dev_qa.jsonl"
SEED_CORPUS = ROOT / "corpus"
SAMPLE_SEED = 20170101  # arbitrary fixed seed (the data's year): every run and size draws the same, nested articles


def need(path: Path, what: str) -> Path:
    """Exit with a clear message when benchmark data is missing."""
    if not path.exists():
        sys.exit(f"{what} not found at {path}: this benchmark reads ../shared/data/ and ../shared/eval/ "
                 "beside the project (they are never copied into the repository)")
    return path


@functools.lru_cache(maxsize=1)
def shuffled_baomoi() -> tuple[dict, ...]:
    """Every usable baomoi article (title and body present) in a fixed random order."""
    need(BAOMOI, "baomoi data")
    with gzip.open(BAOMOI, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    rows = [r for r in rows if (r.get("body") or "").strip() and (r.get("title") or "").strip()]
    random.Random(SAMPLE_SEED).shuffle(rows)
    return tuple(rows)


SPARE_POOL = 200  # hand-set: the last 200 of the fixed order never enter a corpus (add-one probes); 34,749 - 200 > 20,000 sizes


def load_baomoi(n: int) -> list[dict]:
    """The first `n` baomoi articles of the fixed order, so `load_baomoi(1000)` is a prefix of `load_baomoi(5000)`."""
    rows = shuffled_baomoi()
    if n > len(rows) - SPARE_POOL:
        sys.exit(f"asked for {n} baomoi articles; the data set has {len(rows) - SPARE_POOL} usable ones")
    return list(rows[:n])


SPARES = 8  # hand-set: index_bench uses 3 (add, add in-process, the 1-article index); 8 leaves room


def spare_baomoi(k: int = SPARES) -> list[dict]:
    """`k` articles of typical (median) length kept out of every benchmark corpus, for add/delete probes."""
    pool = list(shuffled_baomoi()[-SPARE_POOL:])
    lengths = sorted(len(article_text(r)) for r in pool)
    mid = lengths[len(lengths) // 2]
    return sorted(pool, key=lambda r: (abs(len(article_text(r)) - mid), r["id"]))[:k]


def article_text(row: dict) -> str:
    """A baomoi row as an article file: title line, sapo, body."""
    parts = [row["title"].strip(), (row.get("sapo") or "").strip(), row["body"].strip()]
    return "\n".join(p for p in parts if p) + "\n"


def baomoi_file_name(row: dict) -> str:
    """File name of a baomoi article inside a benchmark corpus."""
    return f"{row['id']}.txt"


def write_baomoi(rows: Sequence[dict], folder: Path) -> int:
    """Write articles as `.txt` files (existing identical files are left alone, keeping their mtime)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for r in rows:
        path = folder / baomoi_file_name(r)
        data = article_text(r).encode("utf-8")
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            continue
        path.write_bytes(data)
        written += 1
    return written


def copy_seeds(folder: Path) -> list[Path]:
    """Copy the project's seed articles (corpus/) into a benchmark corpus, keeping their mtimes."""
    import shutil

    need(SEED_CORPUS, "the seed corpus")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in sorted(SEED_CORPUS.iterdir()):
        if p.is_file() and p.suffix in (".md", ".txt"):
            dest = folder / p.name
            if not dest.is_file() or dest.read_bytes() != p.read_bytes():
                shutil.copy2(p, dest)
            out.append(dest)
    return out


# --- measuring ---------------------------------------------------------------------------------
class Stopwatch:
    """`with Stopwatch() as sw: ...; sw.seconds, sw.cpu` — wall time and this process's CPU time (all threads).

    CPU time barely moves when other processes take the cores, so ratios of CPU times stay meaningful
    on a shared machine where wall-time ratios swing by tens of percent.
    """

    def __enter__(self) -> "Stopwatch":
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.seconds = self.cpu = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0


def pct(values: Sequence[float], p: int) -> float | None:
    """The p-th percentile (p in 1..99; linear interpolation, numpy's default), None for no values."""
    vals = list(values)
    if len(vals) < 2:
        return vals[0] if vals else None
    return statistics.quantiles(vals, n=100, method="inclusive")[p - 1]


def median(values: Sequence[float]) -> float | None:
    """Median, None for no values."""
    return statistics.median(values) if values else None


def dir_bytes(path: Path) -> int:
    """Bytes on disk of a folder (allocated blocks, so sparse files count as they really cost)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            total += st.st_blocks * 512
    return total


def machine_info() -> dict:
    """What the numbers were measured on."""
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("model name")), "")
        info["bf16"] = "avx512_bf16" in cpu or "amx_bf16" in cpu
    except OSError:
        pass
    try:
        info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


@contextmanager
def timed_calls(targets: Sequence[tuple[object, str]]) -> Iterator[dict[str, float]]:
    """Accumulate the wall time spent in some methods (patched for the duration), by 'Owner.method'.

    Used to split a build into embedding, vector-store and catalog time without touching the code
    under test; `unittest.mock.patch.object` puts every original back, inherited or not.
    """
    totals: dict[str, float] = {}
    with ExitStack() as stack:
        for owner, name in targets:
            original = getattr(owner, name)
            label = f"{getattr(owner, '__name__', type(owner).__name__)}.{name}"
            totals[label] = 0.0

            def wrapper(*args, __orig=original, __label=label, **kwargs):
                t = time.perf_counter()
                try:
                    return __orig(*args, **kwargs)
                finally:
                    totals[__label] += time.perf_counter() - t

            stack.enter_context(mock.patch.object(owner, name, wrapper))
        yield totals


def fmt(v: object, nd: int = 2) -> str:
    """A table cell."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table (also readable in a terminal)."""
    cells = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(header)]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in cells])


def log(msg: str) -> None:
    """Progress on stderr, time-stamped."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
