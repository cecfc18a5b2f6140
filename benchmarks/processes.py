"""Child processes of the benchmarks: free ports, waiting for HTTP, stopping, and the real app (`app.py`).

One copy for every benchmark (compare's memory section and the load benchmark both start the app
through `App`). The test suite has its own helpers in tests/support.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STOP_TIMEOUT_S = 20  # hand-set: the app shuts down Gradio and closes Chroma in ~2 s; 10x that before a kill
POLL_S = 0.3  # hand-set: how often to re-try an HTTP probe; small beside the 5-60 s start-ups measured
PROBE_TIMEOUT_S = 5  # hand-set: one HTTP probe of a local server; a healthy one answers in milliseconds
APP_STARTUP_TIMEOUT_S = 240  # hand-set: app.py ready in 5 s here (docs/benchmarks.md), first start compiles byte code


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: "subprocess.Popen | None" = None, timeout: float = APP_STARTUP_TIMEOUT_S) -> bool:
    """Poll `url` until it answers 200; False when `proc` exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)


def stop_process(proc: "subprocess.Popen | None", timeout: float = STOP_TIMEOUT_S) -> None:
    """Terminate a child process, killing it if it does not exit within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child Python process: the project importable, the caller's PYTHONPATH kept."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def proc_status_mb(field: str, pid: int | None = None) -> float | None:
    """A memory line of /proc/PID/status in MB (VmHWM = peak resident, VmRSS = resident now); this process for None.

    psutil (in the lock) reads VmRSS but not the peak VmHWM, which is what the memory rows report.
    """
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident memory (VmHWM) of a process in MB."""
    return proc_status_mb("VmHWM", pid)


def rss_now_mb(pid: int | None = None) -> float | None:
    """Current resident memory (VmRSS) of a process in MB."""
    return proc_status_mb("VmRSS", pid)


def post_json(url: str, body: dict, auth: tuple[str, str] | None = None, timeout: float = 120) -> tuple[int, dict]:
    """POST a JSON body (optionally with HTTP basic auth); (status, parsed JSON reply), HTTP errors included."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class App:
    """`python app.py --host 127.0.0.1 --port P --corpus C --index I` from the project root; stopped on exit."""

    def __init__(self, corpus: Path, index: Path, env: dict[str, str], log_path: Path, *,
                 host: str | None = "127.0.0.1", port: int | None = None,
                 startup_timeout: float = APP_STARTUP_TIMEOUT_S):
        self.corpus, self.index, self.env, self.log_path = Path(corpus), Path(index), env, Path(log_path)
        self.host = host
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.started_s = 0.0

    def __enter__(self) -> "App":
        args = [sys.executable, "app.py", "--port", str(self.port), "--corpus", str(self.corpus), "--index",
                str(self.index)]
        if self.host:
            args += ["--host", self.host]
        self._log = open(self.log_path, "w", encoding="utf-8")
        t = time.perf_counter()
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            if not wait_http(self.url, self.proc, self.startup_timeout):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log_tail()}")
                raise TimeoutError(f"app did not answer on {self.url} in {self.startup_timeout} s:\n{self.log_tail()}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.started_s = time.perf_counter() - t
        return self

    def log_text(self) -> str:
        """Everything the app printed so far."""
        try:
            self._log.flush()
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return ""

    def log_tail(self, n: int = 60) -> str:
        """The last `n` lines of the app's output."""
        return "\n".join(self.log_text().splitlines()[-n:])

    def log_events(self, limit: int = 60) -> list[str]:
        """The app's own warnings and the last line of each traceback (recoveries, errors), in order."""
        lines = self.log_text().splitlines()
        out = []
        for i, ln in enumerate(lines):
            own = ln.startswith(("index unusable", "moved the broken index", "Chưa nạp", "CẢNH BÁO"))
            exc = bool(ln) and not ln.startswith((" ", "Traceback", "*")) and i > 0 and lines[i - 1].startswith("  ")
            if own or exc:
                out.append(ln[:400])
        return out[:limit]

    def rss_mb(self) -> float | None:
        """Resident memory of the app process now, in MB."""
        return rss_now_mb(self.proc.pid) if self.proc is not None else None

    def peak_rss_mb(self) -> float | None:
        """Peak resident memory of the app process so far, in MB."""
        return peak_rss_mb(self.proc.pid) if self.proc is not None else None

    def __exit__(self, *exc) -> None:
        stop_process(self.proc)
        self._log.close()
