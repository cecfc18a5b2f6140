"""`python -m assistant ask` and `eval` driven as real subprocesses on a copy of the seed index."""
from __future__ import annotations

import json

from tests.support.paths import DEV_QA, ROOT

KEYS = {"question", "answer", "abstained", "citations", "figures", "retrieved", "timings_ms"}
CITATION_KEYS = {"n", "article_id", "chunk_id", "title", "province", "date", "url", "quote", "text"}
FIGURE_KEYS = {"text", "value", "unit", "verified", "citation"}
RETRIEVED_KEYS = {"chunk_id", "article_id", "score", "text"}


def test_ask_json_follows_the_contract(run_cli, built_index):
    r = run_cli("ask", "Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số?", "--json", "--index",
                built_index / "index")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert KEYS <= obj.keys()
    assert obj["citations"] and all(CITATION_KEYS <= c.keys() and c["quote"] in c["text"] for c in obj["citations"])
    assert obj["figures"] and all(FIGURE_KEYS <= f.keys() for f in obj["figures"])
    assert obj["retrieved"] and all(RETRIEVED_KEYS <= x.keys() for x in obj["retrieved"])
    assert set(obj["timings_ms"]) == {"retrieve", "answer", "total"}
    assert "12/63" in obj["answer"] and any(f["text"].endswith("12/63") and f["verified"] for f in obj["figures"])


def test_ask_reads_questions_from_stdin_as_json_lines(run_cli, built_index, subprocess_env):
    import subprocess
    import sys

    questions = ["Thanh Hóa đã cung cấp bao nhiêu tem truy xuất nguồn gốc?", "", "Đà Nẵng xếp hạng bao nhiêu về DTI?",
                 "Hậu Giang đã đưa bao nhiêu sản phẩm OCOP lên sàn thương mại điện tử?"]
    r = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "--index", str(built_index / "index")],
                       input="\n".join(questions) + "\n", capture_output=True, text=True, env=subprocess_env,
                       cwd=ROOT, timeout=240)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["question"] for x in lines] == [q for q in questions if q]
    assert "105.800" in lines[0]["answer"] and lines[1]["abstained"] and "105" in lines[2]["answer"]


def test_ask_plain_text_lists_sources(run_cli, built_index):
    r = run_cli("ask", "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?", "--index", built_index / "index")
    assert r.returncode == 0, r.stderr
    assert "214" in r.stdout and "Nguồn:" in r.stdout and "[1] Đồng Tháp: Tạo giá trị mới" in r.stdout


def test_ask_without_an_index_says_so(run_cli, tmp_path):
    r = run_cli("ask", "Tiền Giang?", "--index", tmp_path / "nothing")
    assert r.returncode == 2
    assert "chưa có chỉ mục" in r.stderr and "Traceback" not in r.stderr


def test_eval_reports_the_metrics(run_cli, built_index):
    qa = DEV_QA
    r = run_cli("eval", "--qa", qa, "--index", built_index / "index", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    m = report["metrics"]
    assert m["questions"] == len(qa.read_text(encoding="utf-8").splitlines())
    assert m["evidence_top5"] >= 0.95 and m["unanswerable_abstained"] == 1.0
    assert len(report["rows"]) == m["questions"]
