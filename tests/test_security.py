"""Secure defaults of the real app: loopback only, login, upload limits, no share link, no secret in any output.

One app process for the module (127.0.0.1, login on, openai backend on the local server of
tests/llm_server.py with an API key from the environment). The exposed-host case (0.0.0.0) is checked
in-process, so nothing here ever listens beyond 127.0.0.1. Not repeated here: secrets kept out of
`repr(Settings)` and config errors (tests/test_config.py), sanitized upload names and the byte limit of
`save_article_bytes` for every kind of bad upload (tests/test_corpus_admin.py).
"""
from __future__ import annotations

import errno
import re
import shutil
import socket
import subprocess
import sys

import httpx
import psutil
import pytest

import llm_server
from benchmarks.load import App, child_env
from conftest import ROOT, settings_for
from llm_server import FakeLLMServer

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
    env = {**child_env(subprocess_env), "ASSISTANT_AUTH": f"{USER}:{PASSWORD}", "ASSISTANT_BACKEND": "openai",
           "ASSISTANT_LLM_BASE_URL": llm.url, "ASSISTANT_LLM_MODEL": "quote", "ASSISTANT_LLM_API_KEY": SECRET,
           "ASSISTANT_MAX_ARTICLE_BYTES": str(MAX_BYTES), "GRADIO_TEMP_DIR": str(base / "gradio-tmp")}
    # No --host: the default must be 127.0.0.1.
    with App(base / "corpus", base / "index", env, base / "app.log", host=None) as server:
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

    with pytest.raises(Exception, match="(?i)login|credentials"):
        Client(app.url, verbose=False)
    with pytest.raises(Exception, match="(?i)login"):
        Client(app.url, auth=(USER, "sai-mat-khau"), verbose=False)
    for method, path in (("GET", "config"), ("GET", "gradio_api/info"), ("POST", "gradio_api/call/ask"),
                         ("POST", "gradio_api/upload")):
        r = httpx.request(method, app.url + path, json={"data": [DT_QUESTION]} if path.endswith("ask") else None,
                          timeout=30)
        assert r.status_code == 401, (path, r.status_code, r.text[:200])
    d = client.predict(DT_QUESTION, api_name="/ask")
    assert d["question"] == DT_QUESTION and "214" in d["answer"]


def test_upload_size_limit_is_enforced_by_the_server(app):
    with httpx.Client(base_url=app.url, timeout=60) as h:
        assert h.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        small = h.post("gradio_api/upload", files={"files": ("bai.md", b"x" * (MAX_BYTES // 4))})
        assert small.status_code == 200, small.text[:300]
        big = h.post("gradio_api/upload", files={"files": ("bai.md", b"x" * (MAX_BYTES + 1))})
        assert big.status_code == 413 and str(MAX_BYTES) in big.text, (big.status_code, big.text[:300])


def test_upload_size_limit_is_enforced_by_corpus_admin(tmp_path):
    from assistant.ingest.articles import ArticleError
    from assistant.config import Settings
    from assistant.ingest.corpus_admin import save_article_bytes

    limit = Settings.from_env({}).max_article_bytes
    body = "Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n".encode()
    with pytest.raises(ArticleError, match="quá lớn"):
        save_article_bytes(tmp_path, "lon.md", body * (limit // len(body) + 1), limit)
    assert list(tmp_path.iterdir()) == []


def test_no_share_link_and_no_secret_in_the_app_output(app, client, llm):
    d = client.predict(DT_QUESTION, api_name="/ask")  # the openai backend answers with the key sent...
    assert d["backend"] == "openai" and SECRET not in str(d)
    assert f"Bearer {SECRET}" in llm.httpd.auth_headers  # ...taken from the environment
    with pytest.raises(Exception):
        client.predict("", api_name="/ask")  # an error path too
    log = app.log_text()
    assert "Running on local URL:  http://127.0.0.1:" in log
    assert "gradio.live" not in log and "public URL" not in log
    assert SECRET not in log


def test_no_secret_in_cli_output_even_when_the_llm_fails(run_cli, built_index, llm, tmp_path):
    env = {"ASSISTANT_LLM_API_KEY": SECRET, "ASSISTANT_BACKEND": "openai", "ASSISTANT_LLM_BASE_URL": llm.url,
           "ASSISTANT_LLM_MODEL": "error"}
    ask = run_cli("ask", DT_QUESTION, "--json", "--index", built_index / "index", env=env)
    assert ask.returncode == 0, ask.stderr[-2000:]
    assert "trả lời lỗi" in ask.stdout  # the LLM failed: the extractive answer with a notice
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built_index / "corpus", corpus)
    shutil.copytree(built_index / "index", index)
    build = run_cli("index", "--corpus", corpus, "--index", index, env=env)
    bad_config = run_cli("ask", DT_QUESTION, env={**env, "ASSISTANT_LLM_TIMEOUT": "soon"})
    assert build.returncode == 0 and bad_config.returncode == 2
    for proc in (ask, build, bad_config):
        assert SECRET not in proc.stdout + proc.stderr


def test_the_api_key_can_only_come_from_the_environment(run_cli, subprocess_env):
    helps = [run_cli(cmd, "--help").stdout for cmd in ("ask", "index", "eval")]
    helps.append(subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, env=subprocess_env,
                                capture_output=True, text=True, timeout=120).stdout)
    for text in helps:  # no flag takes a key (it would land in shell history and `ps` output)
        assert text and not re.search(r"--[\w-]*(key|token|secret)", text, re.I) and "API_KEY" not in text


# --- an exposed host, in-process (nothing listens) ----------------------------------------------------------
def _handler(demo, name):
    return next(f.fn for f in demo.fns.values() if f.name == name)


def test_exposed_host_without_login_warns_and_turns_article_management_off(tmp_path, capsys, monkeypatch):
    import gradio as gr

    from assistant.app.service import Service, warn_if_exposed
    from assistant.app.ui.layout import build_app, launch

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = settings_for(corpus, tmp_path / "index", {"ASSISTANT_HOST": "0.0.0.0"})
    service = Service(settings)
    assert service.public_without_login and not service.admin_allowed
    msg = warn_if_exposed(settings, echo=lambda m: None)
    assert msg.startswith("CẢNH BÁO") and "0.0.0.0" in msg and "ASSISTANT_AUTH" in msg and "đã bị tắt" in msg

    demo = build_app(service)
    groups = [b for b in demo.blocks.values() if isinstance(b, gr.Group)]
    assert groups and all(g.visible is False for g in groups)  # the upload/paste/rebuild/remove panel
    note = "Quản lý bài viết bị tắt"
    upload = tmp_path / "bai.md"
    upload.write_text("Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n", encoding="utf-8")
    results = [_handler(demo, "add_uploaded")([str(upload)]),
               _handler(demo, "add_pasted")("Tin", "Cà Mau", "", "", "", "Nội dung bài viết về chuyển đổi số."),
               _handler(demo, "do_rebuild")(True), _handler(demo, "do_remove")("bai")]
    for r in results:  # even a crafted call to a hidden handler does nothing
        assert note in (r[0] if isinstance(r, tuple) else r)
    assert list(corpus.iterdir()) == [] and not (tmp_path / "index").exists()

    launched = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: launched.update(kw))
    launch(service)
    out = capsys.readouterr().out
    assert msg in out
    assert launched["server_name"] == "0.0.0.0" and launched["share"] is False and launched["auth"] is None
    assert launched["max_file_size"] == settings.max_article_bytes


def test_exposed_host_with_login_keeps_article_management(tmp_path, monkeypatch):
    import gradio as gr

    from assistant.app.service import Service, warn_if_exposed
    from assistant.app.ui.layout import launch

    settings = settings_for(tmp_path / "corpus", tmp_path / "index",
                            {"ASSISTANT_HOST": "0.0.0.0", "ASSISTANT_AUTH": f"{USER}:{PASSWORD}"})
    service = Service(settings)
    assert service.admin_allowed and warn_if_exposed(settings, echo=lambda m: None) == ""
    launched = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: launched.update(kw))
    launch(service)
    assert launched["auth"] == [(USER, PASSWORD)] and launched["share"] is False
