"""Child processes for the tests: free ports, waiting for HTTP, stopping, the index command, the app, `chroma run`.

Everything listens on 127.0.0.1 only. Not a conftest: test modules import what they need from here.

>>> port = free_port()
>>> 1024 < port < 65536
True
>>> stop_process(None)  # nothing to stop is fine
>>> with AppServer(corpus, index, env, log_dir) as app:  # doctest: +SKIP
...     app.url
'http://127.0.0.1:40123/'
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tests.support.paths import CORPUS, ROOT

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, *, proc: subprocess.Popen | None = None, log: Path | None = None,
              interval: float = 0.2) -> None:
    """Wait until `url` answers 200; fail early (RuntimeError) if `proc` exits, TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0] if isinstance(proc.args, list) else proc.args} exited with "
                               f"{proc.returncode} before {url} answered:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s:\n{log_tail(log)}")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    """Terminate a child process, killing it if it does not exit within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def log_tail(log: Path | None, n: int = 60) -> str:
    """The last `n` lines of a log file ('' when there is none)."""
    if log is None:
        return ""
    try:
        return "\n".join(Path(log).read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def start_process(args: Sequence[str], log: Path, env: dict[str, str] | None = None,
                  cwd: Path = ROOT) -> subprocess.Popen:
    """Start `args` from the project root with stdout and stderr appended to `log`."""
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(list(map(str, args)), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


# --- the index command ---------------------------------------------------------------------------------------
@dataclass
class IndexRun:
    """One `python -m assistant index` run."""

    returncode: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict:
        """The JSON summary the command printed with --json ({} if none)."""
        for line in reversed(self.stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
        return {}


def run_index(corpus: Path, index: Path, env: dict[str, str], timeout: float = 600,
              extra: Sequence[str] = ()) -> IndexRun:
    """`python -m assistant index --corpus C --index I --quiet --json --local` from the project root.

    `--local`: this process builds even while an app serves the index (a second process writing the index
    under a serving reader is what the reliability tests exercise; tests/e2e/test_cli_handoff.py tests the
    job handed to the app)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant", "index", "--corpus", str(corpus), "--index", str(index),
                           "--quiet", "--json", "--local", *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return IndexRun(proc.returncode, time.perf_counter() - t, proc.stdout, proc.stderr)


def build_index(corpus: Path, index: Path, env: dict[str, str], timeout: float = 400) -> IndexRun:
    """`run_index` that fails loudly."""
    run = run_index(corpus, index, env, timeout=timeout)
    assert run.returncode == 0, f"index failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    return run


_seed_cache: dict[str, Path] = {}


def seed_index(tmp_path_factory, env: dict[str, str]) -> Path:
    """The seed corpus indexed once per test process by the CLI (folder with corpus/ and index/); copy it."""
    if "base" not in _seed_cache:
        base = tmp_path_factory.mktemp("seed-index")
        shutil.copytree(CORPUS, base / "corpus")
        build_index(base / "corpus", base / "index", env)
        _seed_cache["base"] = base
    return _seed_cache["base"]


def private_copy(tmp_path_factory, env: dict[str, str], name: str) -> tuple[Path, Path]:
    """A private (corpus, index) pair copied from the seed index."""
    base = seed_index(tmp_path_factory, env)
    dest = tmp_path_factory.mktemp(name)
    shutil.copytree(base / "corpus", dest / "corpus")
    shutil.copytree(base / "index", dest / "index")
    return dest / "corpus", dest / "index"


# --- the app -------------------------------------------------------------------------------------------------
class AppServer:
    """`python app.py [--host H] --port P --corpus C --index I` from the project root, stopped on exit.

    `log` is a file, or a folder to hold `app-PORT.log`. `host=None` passes no --host (the app's default).
    """

    def __init__(self, corpus: Path, index: Path, env: dict[str, str], log: Path, *,
                 host: str | None = LOOPBACK, port: int | None = None, startup_timeout: float = 240):
        self.corpus, self.index = Path(corpus), Path(index)
        self.env = {**env, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}/"
        log = Path(log)
        self.log_path = log / f"app-{self.port}.log" if log.is_dir() else log
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.started_s = 0.0

    def __enter__(self) -> "AppServer":
        args = [sys.executable, "app.py", "--port", str(self.port), "--corpus", str(self.corpus), "--index",
                str(self.index)]
        if self.host:
            args += ["--host", self.host]
        self.log_path.write_bytes(b"")
        t = time.perf_counter()
        self.proc = start_process(args, self.log_path, self.env)
        try:
            wait_http(self.url, self.startup_timeout, proc=self.proc, log=self.log_path, interval=0.3)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.started_s = time.perf_counter() - t
        return self

    def log_text(self) -> str:
        """Everything the app printed so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 60) -> str:
        """The last lines the app printed (for failure messages)."""
        return log_tail(self.log_path, n)

    def __exit__(self, *exc) -> None:
        stop_process(self.proc, timeout=20)


# --- a Chroma server that can go away and come back -----------------------------------------------------------
def chroma_executable() -> str:
    exe = Path(sys.executable).parent / "chroma"
    return str(exe) if exe.exists() else (shutil.which("chroma") or "chroma")


class ChromaServer:
    """`chroma run --path P --host 127.0.0.1 --port N`; stop() and start() again keep the same path and port.

    Also a context manager: `with ChromaServer(data, log) as server: server.url`.
    """

    def __init__(self, data: Path, log: Path):
        self.data, self.log = Path(data), Path(log)
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "ChromaServer":
        self.proc = start_process([chroma_executable(), "run", "--path", self.data, "--host", LOOPBACK, "--port",
                                   self.port], self.log)
        try:
            wait_http(f"{self.url}/api/v2/heartbeat", timeout, proc=self.proc, log=self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)
        self.proc = None

    def __enter__(self) -> "ChromaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- what a child process did ----------------------------------------------------------------------------------
def post_json(url: str, path: str, body: dict, headers: dict | None = None, timeout: float = 120) -> tuple[int, dict]:
    """POST a JSON body to the app; (HTTP status, JSON reply), error statuses included."""
    req = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def imported_packages(stderr: str) -> set[str]:
    """Top-level packages a `python -X importtime` run imported (read from its stderr)."""
    return {line.split("|")[-1].strip().split(".")[0] for line in stderr.splitlines() if line.startswith("import time:")}
