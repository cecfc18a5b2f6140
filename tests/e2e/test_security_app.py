"""Secure defaults of the real app: loopback only, login, upload limits, no share link, no secret in its output.

One app process for the module (127.0.0.1, login on, openai backend on the local server of
tests/support/llm_server.py with an API key from the environment). The exposed-host case (0.0.0.0) is
checked in-process (tests/unit/test_security_inprocess.py), so nothing here ever listens beyond 127.0.0.1.
"""
from __future__ import annotations

import errno
import re
import shutil
import socket

import httpx
import psutil
import pytest

from tests.support import llm_server
from tests.support.llm_server import FakeLLMServer
from tests.support.processes import AppServer

SECRET = "sk-secret-xyz"
USER, PASSWORD = "canbo", "mat-khau-dai-9173"
MAX_BYTES = 20_000
DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"


class _RecordingHandler(llm_server._Handler):
    """The scripted LLM server, also recording the Authorization header it receives."""

    def do_POST(self):  # noqa: N802 (http.server API)
        self.server.auth_headers.append(self.headers.get("Authorization", ""))  # type: ignore[attr-defined]
        super().do_POST()


@pytest.fixture(scope="module")
def llm():
    srv = FakeLLMServer()
    srv.httpd.RequestHandlerClass = _RecordingHandler
    srv.httpd.auth_headers = []  # type: ignore[attr-defined]
    with srv:
        yield srv


@pytest.fixture(scope="module")
def app(tmp_path_factory, built_index, subprocess_env, llm):
    base = tmp_path_factory.mktemp("security-app")
    shutil.copytree(built_index / "corpus", base / "corpus")
    shutil.copytree(built_index / "index", base / "index")
    env = {**subprocess_env, "ASSISTANT_AUTH": f"{USER}:{PASSWORD}", "ASSISTANT_BACKEND": "openai",
           "ASSISTANT_LLM_BASE_URL": llm.url, "ASSISTANT_LLM_MODEL": "quote", "ASSISTANT_LLM_API_KEY": SECRET,
           "ASSISTANT_MAX_ARTICLE_BYTES": str(MAX_BYTES), "GRADIO_TEMP_DIR": str(base / "gradio-tmp")}
    # No --host: the default must be 127.0.0.1.
    with AppServer(base / "corpus", base / "index", env, base / "app.log", host=None) as server:
        yield server


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    c = Client(app.url, auth=(USER, PASSWORD), verbose=False)
    yield c
    c.close()


def _other_addresses() -> list[str]:
    """IPv4 addresses of this machine that are not loopback."""
    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


def test_app_listens_on_loopback_only_by_default(app):
    listening = [c for c in psutil.Process(app.proc.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert any(c.laddr.port == app.port for c in listening), listening
    assert all(c.laddr.ip in ("127.0.0.1", "::1") for c in listening), listening
    for addr in _other_addresses():  # reachable on 127.0.0.1, refused on the machine's other addresses
        with socket.socket() as s:
            s.settimeout(3)
            assert s.connect_ex((addr, app.port)) in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ETIMEDOUT,
                                                       errno.EAGAIN), addr
    with socket.create_connection(("127.0.0.1", app.port), timeout=5):
        pass


def test_login_is_required_for_the_page_the_api_and_uploads(app, client):
    from gradio_client import Client

    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(app.url, verbose=False)
    with pytest.raises(ValueError, match=re.escape(f"Could not login to {app.url}")):  # Gradio answers 400 here,
        Client(app.url, auth=(USER, "sai-mat-khau"), verbose=False)  # so gradio_client's plain ValueError
    for method, path in (("GET", "config"), ("GET", "gradio_api/info"), ("POST", "gradio_api/call/ask"),
                         ("POST", "gradio_api/upload")):
        r = httpx.request(method, app.url + path, json={"data": [DT_QUESTION]} if path.endswith("ask") else None,
                          timeout=30)
        assert r.status_code == 401, (path, r.status_code, r.text[:200])
    d = client.predict(DT_QUESTION, api_name="/ask")
    assert d["question"] == DT_QUESTION and "214" in d["answer"]


def test_upload_size_limit_is_enforced_by_the_server(app, tmp_path):
    """Gradio's upload endpoint refuses above GRADIO_MAX_FILE_BYTES (413). Below it a file over the article limit
    still reaches the handler, which refuses it in Vietnamese with its name (tests/e2e/test_ui_articles.py)."""
    from assistant.app.ui.layout import GRADIO_MAX_FILE_BYTES

    huge = tmp_path / "qua-lon.md"
    with huge.open("wb") as f:  # sparse: no disk or memory spent, httpx streams it
        f.truncate(GRADIO_MAX_FILE_BYTES + 1)
    with httpx.Client(base_url=app.url, timeout=120) as h:
        assert h.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        small = h.post("gradio_api/upload", files={"files": ("bai.md", b"x" * (MAX_BYTES // 4))})
        assert small.status_code == 200, small.text[:300]
        over_article = h.post("gradio_api/upload", files={"files": ("bai.md", b"x" * (MAX_BYTES + 1))})
        assert over_article.status_code == 200, over_article.text[:300]  # the handler's to refuse, in Vietnamese
        with huge.open("rb") as f:
            try:
                big = h.post("gradio_api/upload", files={"files": ("qua-lon.md", f)})
            except httpx.TransportError as exc:  # the server may close the connection before the body is sent
                pytest.fail(f"no 413 answer: {exc!r}")
        assert big.status_code == 413 and str(GRADIO_MAX_FILE_BYTES) in big.text, (big.status_code, big.text[:300])


def test_no_share_link_and_no_secret_in_the_app_output(app, client, llm):
    d = client.predict(DT_QUESTION, api_name="/ask")  # the openai backend answers with the key sent...
    assert d["backend"] == "openai" and SECRET not in str(d)
    assert f"Bearer {SECRET}" in llm.httpd.auth_headers  # ...taken from the environment
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Câu hỏi trống"):
        client.predict("", api_name="/ask")  # an error path too (the app's own Vietnamese message)
    log = app.log_text()
    assert "Running on local URL:  http://127.0.0.1:" in log
    assert "gradio.live" not in log and "public URL" not in log
    assert SECRET not in log
