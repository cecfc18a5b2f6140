"""The CLI's handoff file and the answer record it brings back, without a running app."""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from assistant.app import handoff
from assistant.indexing.summary import BuildSummary
from assistant.types import Answer, Citation, ClaimCheck, FigureCheck, Retrieved
from tests.support.paths import settings_for


def test_published_file_is_private_and_found_only_for_the_same_corpus_and_index(tmp_path):
    s = settings_for(tmp_path / "corpus", tmp_path / "index")
    (tmp_path / "corpus").mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        path = handoff.publish(s, url, "t" * 43)
        assert path.stat().st_mode & 0o777 == 0o600
        found = handoff.find(s)
        assert found is not None and found.url == url and found.token == "t" * 43
        other = settings_for(tmp_path / "other-corpus", tmp_path / "index")
        assert handoff.find(other) is None  # an app of another corpus is not ours to use
    finally:
        server.shutdown()
    assert handoff.find(s) is None  # the app no longer answers its health check
    handoff.withdraw(s)
    assert not path.exists()


def test_a_dead_app_or_a_garbled_file_means_build_locally(tmp_path):
    s = settings_for(tmp_path / "corpus", tmp_path / "index")
    path = handoff.publish(s, "http://127.0.0.1:9", "x")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    rec = json.loads(path.read_text()) | {"pid": int(dead.stdout)}
    path.write_text(json.dumps(rec))
    assert handoff.find(s) is None
    for garbage in ("", "{", "[]", json.dumps({"url": 1})):
        path.write_text(garbage)
        assert handoff.find(s) is None
    path.write_text(json.dumps(rec | {"pid": os.getpid() + 10_000_000}))
    handoff.withdraw(s)  # not written by this process: left alone
    assert path.exists()


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


text = st.text(max_size=30)


@hsettings(max_examples=50, deadline=None)
@given(st.builds(
    Answer, question=text, answer=text, abstained=st.booleans(),
    citations=st.lists(st.builds(Citation, n=st.integers(1, 9), article_id=text, chunk_id=text, title=text,
                                 province=text, date=text, url=text, quote=text, text=text), max_size=3),
    figures=st.lists(st.builds(FigureCheck, text=text, value=st.floats(allow_nan=False, allow_infinity=False),
                               unit=text, verified=st.booleans(), citation=st.none() | st.integers(1, 9)), max_size=3),
    retrieved=st.lists(st.builds(Retrieved, chunk_id=text, article_id=text, score=st.floats(0, 2), text=text),
                       max_size=3),
    claims=st.lists(st.builds(ClaimCheck, claim_text=text, verdict=st.sampled_from(["khớp", "khác"])), max_size=2),
    kind=st.sampled_from(["answer", "factcheck", "abstain"]), flagged=st.booleans(), notice=text))
def test_an_answer_survives_the_json_of_the_api(answer):
    """What `/api/ask` sends back is the answer the terminal prints (to_dict → JSON → from_dict)."""
    back = Answer.from_dict(json.loads(json.dumps(answer.to_dict())))
    assert back.to_dict() == answer.to_dict()
    assert back.to_text() == Answer.from_dict(answer.to_dict()).to_text()


def test_an_answer_with_its_fallback_and_unknown_fields_round_trips():
    fallback = Answer("q", "“214 dịch vụ” [1]", False, citations=[Citation(1, "a", "a:0", "T", "Đồng Tháp", "", "",
                                                                             "214 dịch vụ", "…214 dịch vụ…")])
    flagged = Answer("q", "Mô hình nói 215 [1]", False, flagged=True, fallback=fallback, backend="openai")
    d = flagged.to_dict() | {"a_field_of_a_newer_app": 1}
    back = Answer.from_dict(d)
    assert back.fallback.citations[0].quote == "214 dịch vụ" and back.to_text() == flagged.to_text()


def test_a_build_summary_from_a_newer_app_keeps_what_this_version_knows():
    s = BuildSummary.from_dict({"added": 1, "chunks": 4, "reused": 2, "seconds": 0.8, "errors": ["x"], "new": 5})
    assert s.line() == "added=1 updated=0 removed=0 unchanged=0 errors=1 chunks=4 reused=2 seconds=0.80"
    assert not s.ok
