"""The Gradio API `/ask` of DESIGN.md against the real app, and its agreement with `python -m assistant ask --json`."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.paths import ROOT
from tests.support.processes import AppServer, private_copy

pytestmark = pytest.mark.timeout(900)  # the first test also pays for the index build and the app start

QUESTIONS = ["Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
             "Giá trị tăng thêm của kinh tế số Tiền Giang năm 2021 chiếm bao nhiêu phần trăm GRDP?"]
TOP_KEYS = {"question", "answer", "abstained", "citations", "figures", "retrieved", "timings_ms"}
CITATION_KEYS = {"n", "article_id", "chunk_id", "title", "province", "date", "url", "quote", "text"}
FIGURE_KEYS = {"text", "value", "unit", "verified", "citation"}
RETRIEVED_KEYS = {"chunk_id", "article_id", "score", "text"}


@pytest.fixture(scope="module")
def api(tmp_path_factory, subprocess_env):
    """The app on a private index copy; the CLI answers the same questions meanwhile (both load the model)."""
    corpus, index = private_copy(tmp_path_factory, subprocess_env, "api")
    questions = tmp_path_factory.mktemp("api-cli") / "questions.txt"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    with open(questions, encoding="utf-8") as stdin:  # one question per line, answered as JSON Lines
        cli = subprocess.Popen([sys.executable, "-m", "assistant", "ask", "--json", "--index", str(index)], cwd=ROOT,
                               env=subprocess_env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        with AppServer(corpus, index, subprocess_env, tmp_path_factory.mktemp("api-logs")) as server:
            server.cli = cli
            yield server
    finally:
        if cli.poll() is None:
            cli.kill()
        cli.wait(timeout=30)


@pytest.fixture(scope="module")
def client(api):
    from gradio_client import Client

    return Client(api.url, verbose=False)


@pytest.fixture(scope="module")
def api_answers(client):
    return [client.predict(q, api_name="/ask") for q in QUESTIONS]


def test_ask_returns_the_design_contract(api_answers):
    d = api_answers[0]
    assert isinstance(d, dict)
    assert TOP_KEYS <= d.keys()
    assert d["question"] == QUESTIONS[0]
    assert d["abstained"] is False
    assert "214" in d["answer"] and "[1]" in d["answer"]
    assert d["citations"], d
    for c in d["citations"]:
        assert CITATION_KEYS <= c.keys()
        assert c["quote"] and c["quote"] in c["text"]
        assert f"[{c['n']}]" in d["answer"]
    first = d["citations"][0]
    assert first["title"] == "Đồng Tháp: Tạo giá trị mới từ chuyển đổi số" and first["province"] == "Đồng Tháp"
    assert "214 dịch vụ công trực tuyến một phần" in first["quote"]
    numbers = {c["n"] for c in d["citations"]}
    assert d["figures"]
    for f in d["figures"]:
        assert FIGURE_KEYS <= f.keys()
        assert isinstance(f["verified"], bool) and isinstance(f["value"], (int, float))
        assert f["citation"] in numbers
    assert any(f["value"] == 214 and f["verified"] for f in d["figures"]), d["figures"]
    assert d["retrieved"]
    for r in d["retrieved"]:
        assert RETRIEVED_KEYS <= r.keys() and isinstance(r["score"], (int, float)) and r["text"]
    assert {"retrieve", "answer", "total"} <= d["timings_ms"].keys()
    assert all(v >= 0 for v in d["timings_ms"].values())
    json.dumps(d, ensure_ascii=False)  # plain JSON all the way down


def test_ask_percentage_figure_is_verified(api_answers):
    d = api_answers[1]
    assert "8,59%" in d["answer"]
    assert any(f["text"].startswith("8,59%") and f["unit"] == "%" and f["verified"] for f in d["figures"]), d["figures"]
    assert d["citations"][0]["province"] == "Tiền Giang"


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question_is_an_error_in_vietnamese(client, question):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Câu hỏi trống"):
        client.predict(question, api_name="/ask")


def test_too_long_question_is_an_error_in_vietnamese(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Câu hỏi quá dài"):
        client.predict("chuyển đổi số " * 400, api_name="/ask")


def test_cli_gives_the_same_answers_as_the_api(api, api_answers):
    try:
        out, err = api.cli.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        api.cli.kill()
        pytest.fail("the CLI did not answer within 300 s")
    assert api.cli.returncode == 0, err
    cli_answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(cli_answers) == len(QUESTIONS), out
    for cli, via_api in zip(cli_answers, api_answers):
        assert cli["question"] == via_api["question"]
        assert cli["answer"] == via_api["answer"]
        assert cli["abstained"] == via_api["abstained"]
        assert cli["citations"] == via_api["citations"]
        assert cli["figures"] == via_api["figures"]
        assert [r["chunk_id"] for r in cli["retrieved"]] == [r["chunk_id"] for r in via_api["retrieved"]]
