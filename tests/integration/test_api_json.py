"""The JSON API (`POST /api/ask`, `/api/factcheck`) of the real app (`python app.py`) on the seed index, with a login.

One app process for the module: ASSISTANT_AUTH set, so every request also shows that the API takes the
app's login as HTTP Basic, and that Gradio's `/ask` (gradio_client) still answers beside it.
"""
from __future__ import annotations

import base64
import json
import shutil
import urllib.error
import urllib.request

import pytest

from tests.support.processes import AppServer
from tests.support.paths import SEED_IDS

pytestmark = pytest.mark.timeout(900)  # the module's first test also pays for the app's start

USER, PASSWORD = "bientap", "mật-khẩu-ngắn"
A003 = SEED_IDS[3]  # Đồng Tháp
QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
TOP_KEYS = {"question", "answer", "abstained", "citations", "figures", "retrieved", "timings_ms"}
CITATION_KEYS = {"n", "article_id", "chunk_id", "title", "province", "date", "url", "quote", "text"}
FIGURE_KEYS = {"text", "value", "unit", "verified", "citation"}
RETRIEVED_KEYS = {"chunk_id", "article_id", "score", "text"}


@pytest.fixture(scope="module")
def app(tmp_path_factory, built_index, subprocess_env):
    base = tmp_path_factory.mktemp("api-json")
    shutil.copytree(built_index / "corpus", base / "corpus")
    shutil.copytree(built_index / "index", base / "index")
    env = {**subprocess_env, "ASSISTANT_AUTH": f"{USER}:{PASSWORD}"}
    with AppServer(base / "corpus", base / "index", env, base) as server:
        yield server


def post(app, path: str, body, *, auth=(USER, PASSWORD), raw: bytes | None = None) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of a POST to the app."""
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(app.url.rstrip("/") + path, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


def assert_contract(d: dict) -> None:
    assert TOP_KEYS <= d.keys()
    numbers = {c["n"] for c in d["citations"]}
    for c in d["citations"]:
        assert CITATION_KEYS <= c.keys() and c["quote"] and c["quote"] in c["text"]
        assert f"[{c['n']}]" in d["answer"]
    for f in d["figures"]:
        assert FIGURE_KEYS <= f.keys() and isinstance(f["verified"], bool)
        assert f["citation"] is None or f["citation"] in numbers
    for r in d["retrieved"]:
        assert RETRIEVED_KEYS <= r.keys() and isinstance(r["score"], (int, float)) and r["text"]
    assert {"retrieve", "answer", "total"} <= d["timings_ms"].keys()


def test_ask_returns_the_ask_json_object(app):
    status, d, headers = post(app, "/api/ask", {"question": QUESTION})
    assert status == 200, d
    assert headers["content-type"].startswith("application/json")
    assert_contract(d)
    assert d["question"] == QUESTION and d["abstained"] is False
    assert d["citations"][0]["article_id"] == A003 and d["citations"][0]["province"] == "Đồng Tháp"
    assert any("214" in c["quote"] for c in d["citations"]), d["citations"]


def test_province_and_k_are_honoured(app):
    status, d, _ = post(app, "/api/ask", {"question": "Kinh tế số chiếm bao nhiêu phần trăm GRDP?",
                                          "province": "Bến Tre", "k": 2})
    assert status == 200, d
    assert 0 < len(d["retrieved"]) <= 2
    assert {r["article_id"] for r in d["retrieved"]} == {SEED_IDS[4]}  # Bến Tre's article only


def test_factcheck_returns_the_same_object_with_a_verdict(app):
    status, d, _ = post(app, "/api/factcheck", {"claim": "Đồng Tháp có 763 dịch vụ công trực tuyến một phần"})
    assert status == 200, d
    assert_contract(d)
    assert d["kind"] == "factcheck" and d["claims"], d
    assert any(c["article_id"] == A003 for c in d["citations"])


def test_errors_have_their_status_and_a_vietnamese_message(app):
    status, d, _ = post(app, "/api/ask", {"question": "   "})
    assert status == 400 and "trống" in d["detail"]
    status, d, _ = post(app, "/api/factcheck", {"claim": ""})
    assert status == 400 and "trống" in d["detail"]
    status, d, _ = post(app, "/api/ask", {"question": "Đồng Tháp " * 300})  # 3,000 characters > 2,000
    assert status == 413 and "quá dài" in d["detail"] and "2.000" in d["detail"]
    status, d, _ = post(app, "/api/ask", None, raw=json.dumps({"question": "ă" * 50_000}).encode())
    assert status == 413 and "quá lớn" in d["detail"]  # refused before the body is read whole
    for body, word in (({"question": "x", "k": 0}, "'k'"), ({"question": "x", "k": 101}, "'k'"),
                       ({}, "thiếu trường 'question'"), ({"question": 42}, "văn bản"),
                       ({"question": "x", "colour": "blue"}, "'colour'")):
        status, d, _ = post(app, "/api/ask", body)
        assert status == 422 and word in d["detail"] and d["detail"].startswith("Yêu cầu không hợp lệ"), (body, d)
    status, d, _ = post(app, "/api/ask", None, raw=b"{not json")
    assert status == 422 and "JSON" in d["detail"]


def test_the_api_needs_the_apps_login(app):
    for auth in (None, (USER, "sai"), ("khach", PASSWORD)):
        status, d, headers = post(app, "/api/ask", {"question": QUESTION}, auth=auth)
        assert status == 401 and "đăng nhập" in d["detail"], (auth, d)
        assert headers.get("www-authenticate", headers.get("WWW-Authenticate", "")).startswith("Basic")


def test_openapi_page_and_schema(app):
    with urllib.request.urlopen(app.url + "api/docs", timeout=60) as r:
        assert r.status == 200 and "swagger" in r.read().decode().lower()
    with urllib.request.urlopen(app.url + "api/openapi.json", timeout=60) as r:
        schema = json.loads(r.read())
    assert {"/api/ask", "/api/factcheck"} <= schema["paths"].keys()
    ask = schema["paths"]["/api/ask"]["post"]
    assert {"200", "400", "401", "413", "422"} <= ask["responses"].keys()


def test_gradio_ask_still_answers_for_gradio_client(app):
    from gradio_client import Client

    d = Client(app.url, auth=(USER, PASSWORD), verbose=False).predict(QUESTION, api_name="/ask")
    assert isinstance(d, dict) and d["question"] == QUESTION
    assert_contract(d)
