"""Helpers shared by the benchmarks: data location, baomoi corpora, timing, sizes, process memory.

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
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
BAOMOI = DATA / "baomoi" / "baomoi_vn_news.jsonl.gz"
DEV_QA = SHARED / "eval" / "dev_qa.jsonl"
SEED_CORPUS = ROOT / "corpus"
SAMPLE_SEED = 20170101  # fixed: every run and every size draws the same articles (sizes are nested)


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


SPARE_POOL = 200  # the last articles of the fixed order are never put in a corpus: "add one" probes


def load_baomoi(n: int) -> list[dict]:
    """The first `n` baomoi articles of the fixed order, so `load_baomoi(1000)` is a prefix of `load_baomoi(5000)`."""
    rows = shuffled_baomoi()
    if n > len(rows) - SPARE_POOL:
        sys.exit(f"asked for {n} baomoi articles; the data set has {len(rows) - SPARE_POOL} usable ones")
    return list(rows[:n])


def spare_baomoi(k: int = 8) -> list[dict]:
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


def load_jsonl(path: Path) -> list[dict]:
    """Read a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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


def pct(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (linear interpolation), None for no values."""
    vals = sorted(values)
    if not vals:
        return None
    if len(vals) == 1:
        return vals[0]
    pos = (len(vals) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


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


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident memory (VmHWM) of a process in MB; this process when pid is None."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child Python process: the project importable, the caller's PYTHONPATH kept."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def rss_now_mb(pid: int | None = None) -> float | None:
    """Current resident memory (VmRSS) of a process in MB."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    under test.
    """
    totals: dict[str, float] = {}
    saved = []
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

        own = vars(owner).get(name) if hasattr(owner, "__dict__") else None
        saved.append((owner, name, own))
        setattr(owner, name, wrapper)
    try:
        yield totals
    finally:
        for owner, name, own in reversed(saved):
            if own is None:
                delattr(owner, name)  # it was inherited (or bound from the class): drop the patch
            else:
                setattr(owner, name, own)


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


def run_quiet(fn: Callable, *args, **kwargs):
    """Call fn; return (result, seconds)."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def stop_process(proc: "subprocess.Popen | None", timeout: float = 20) -> None:
    """Terminate a child process, killing it if it does not exit within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
