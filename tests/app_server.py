"""Helpers for the end-to-end tests: a seed index built once by the CLI, and the real app in a subprocess.

Not a conftest: the browser and API test modules import what they need from here.

>>> base = seed_index(tmp_path_factory, env)            # doctest: +SKIP
>>> with AppServer(corpus, index, env, log_dir) as app:  # doctest: +SKIP
...     app.url
'http://127.0.0.1:40123/'
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from benchmarks.common import stop_process

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "test-artifacts"

_seed_cache: dict[str, Path] = {}


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_index(corpus: Path, index: Path, env: dict[str, str], timeout: float = 400) -> str:
    """`python -m assistant index --corpus C --index I`; returns its summary line, fails loudly."""
    proc = subprocess.run([sys.executable, "-m", "assistant", "index", "--corpus", str(corpus), "--index", str(index),
                           "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"index failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def seed_index(tmp_path_factory, env: dict[str, str]) -> Path:
    """The seed corpus indexed once per test process (folder with corpus/ and index/); copy it, never write to it."""
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


class AppServer:
    """`python app.py --port P --corpus C --index I` from the project root, stopped on exit."""

    def __init__(self, corpus: Path, index: Path, env: dict[str, str], log_dir: Path, startup_timeout: float = 180):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.corpus, self.index = Path(corpus), Path(index)
        self.env = {**env, "GRADIO_ANALYTICS_ENABLED": "False"}
        self.log_path = Path(log_dir) / f"app-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "AppServer":
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "app.py", "--port", str(self.port), "--corpus", str(self.corpus),
                                      "--index", str(self.index)], cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"app did not answer on {self.url} within {self.startup_timeout} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 60) -> str:
        """The last lines the app printed (for failure messages)."""
        try:
            self._log.flush()
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def __exit__(self, *exc) -> None:
        stop_process(self.proc, timeout=15)
        self._log.close()
