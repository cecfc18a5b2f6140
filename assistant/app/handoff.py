"""Handing a command-line job to the running app that serves the same index, so the CLI stays light.

A running app has the model loaded: it adds an article in under a second, where a fresh process pays
~4 s of imports and model load first. While it serves, the app publishes `<index>/app.json` (its URL,
process id, corpus and index folders, and a random token; readable by its owner only). `python -m
assistant index` and `ask` read it with the standard library alone; when an app of the same corpus and
index answers, the job runs there (`POST /api/index` with the token and the app's login, or `POST
/api/ask`), else the CLI does it itself. The token proves the caller can read the index folder, so a
build cannot be started from elsewhere on the network; the app's login (ASSISTANT_AUTH) is asked too.

Usage (needs a running app, so not run as a doctest)::

    app = find(settings)
    app and app.index(full=False)
    # -> {'added': 1, 'updated': 0, ..., 'seconds': 0.8}
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import AssistantError

HANDOFF_FILE = "app.json"
TOKEN_HEADER = "X-Assistant-Token"
CONNECT_TIMEOUT_S = 2.0  # hand-set: a local app answers /api/health in milliseconds; longer means it is stuck
JOB_TIMEOUT_S = 3600.0  # hand-set: a build handed over may embed many articles; an hour covers 20,000 here


class HandoffError(AssistantError, RuntimeError):
    """The running app refused or failed the job (its Vietnamese message is the text)."""


def _same(a: str | Path, b: str | Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def publish(settings: Settings, url: str, token: str) -> Path:
    """Write `<index>/app.json` atomically, readable by this user only; returns its path."""
    index = Path(settings.index_dir)
    index.mkdir(parents=True, exist_ok=True)
    path = index / HANDOFF_FILE
    tmp = path.with_name(f".{HANDOFF_FILE}.{os.getpid()}.tmp")
    record = {"url": url, "pid": os.getpid(), "token": token, "corpus_dir": os.path.realpath(settings.corpus_dir),
              "index_dir": os.path.realpath(settings.index_dir)}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    os.replace(tmp, path)
    return path


def withdraw(settings: Settings) -> None:
    """Remove `app.json` if this process wrote it (another app may have taken over the index since)."""
    path = Path(settings.index_dir) / HANDOFF_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def new_token() -> str:
    """A random token for one app run."""
    return secrets.token_urlsafe(32)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, but not ours to use
        return False
    return True


@dataclass(frozen=True)
class RunningApp:
    """A running app of the same corpus and index, reachable on this machine."""

    url: str
    token: str
    auth: tuple[str, str] | None

    def _post(self, path: str, payload: dict, timeout: float) -> dict:
        req = urllib.request.Request(self.url.rstrip("/") + path, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", TOKEN_HEADER: self.token})
        if self.auth:
            cred = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            req.add_header("Authorization", f"Basic {cred}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail")
            except ValueError:
                detail = None
            raise HandoffError(detail or f"ứng dụng trả lỗi HTTP {exc.code}") from None

    def index(self, full: bool = False) -> dict:
        """Run the incremental build in the app; returns its summary (`BuildSummary.to_dict()`)."""
        return self._post("/api/index", {"full": full}, JOB_TIMEOUT_S)

    def ask(self, question: str, province: str | None = None, k: int | None = None) -> dict:
        """Ask the app; returns the `ask --json` object."""
        return self._post("/api/ask", {"question": question, "province": province, "k": k}, JOB_TIMEOUT_S)


def find(settings: Settings) -> RunningApp | None:
    """The running app serving this corpus and index, if one answers its health check; else None."""
    path = Path(settings.index_dir) / HANDOFF_FILE
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        url, token, pid = str(rec["url"]), str(rec["token"]), int(rec["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (_alive(pid) and _same(rec.get("corpus_dir", ""), settings.corpus_dir)
            and _same(rec.get("index_dir", ""), settings.index_dir)):
        return None
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/api/health", timeout=CONNECT_TIMEOUT_S) as resp:
            if resp.status != 200:
                return None
    except (OSError, ValueError):
        return None
    return RunningApp(url, token, settings.auth_pairs[0] if settings.auth_pairs else None)
