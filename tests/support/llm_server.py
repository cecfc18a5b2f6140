"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, with scripted behaviours.

The model name picks the behaviour: "quote" copies the first sentence with a figure from
source [1] and cites it; "invent" states a figure no source has; "badref" cites a source that
was not given; "abstain" says nothing was found; "slow" answers after `SLOW_SECONDS`; "garbage"
returns a body that is not an OpenAI response; "error" returns HTTP 500.
What small models do on a real server: "runaway" repeats one cited sentence until stopped; "trickle"
sends a few characters every TRICKLE_SECONDS, forever (each read is quick, the answer never ends);
"uncited" states a fact with no [n]; "restate" repeats the question with [1]; "misattribute" gives
Tiền Giang the figure of the source that states 6,42% for Đồng Tháp, citing that source; "length"
stops at max_tokens (finish_reason "length").
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 5.0
TRICKLE_SECONDS = 0.3
LOOP_SENTENCE = "Đồng Tháp có 214 dịch vụ công trực tuyến một phần [1]. "


def _reply(model: str, prompt: str) -> str:
    if model == "uncited":
        return "Đồng Tháp đang đẩy mạnh chuyển đổi số trong các cơ quan nhà nước và doanh nghiệp."
    if model == "restate":
        question = re.search(r"CÂU HỎI: (.*?)\n", prompt)
        return (question.group(1) if question else "") + " [1]"
    if model == "misattribute":
        n = re.search(r"\[(\d+)\][^\n]*\n[^\[]*6,42%", prompt)
        return f"Kinh tế số của Tiền Giang chiếm 6,42% GRDP [{n.group(1) if n else 1}]."
    if model == "invent":
        return "Theo nguồn, tỉnh có 9.876 dịch vụ công trực tuyến một phần [1]."
    if model == "badref":
        return "Thông tin này nằm ở nguồn [7]."
    if model == "abstain":
        return "Không tìm thấy thông tin trong các bài viết hiện có."
    # "quote" (and "slow"): the first sentence of source [1] that states a figure.
    m = re.search(r"\[1\][^\n]*\n(.*?)(?:\n\n\[2\]|\n\nCÂU HỎI)", prompt, re.S)
    source = m.group(1) if m else ""
    for sentence in re.split(r"(?<=[.!?])\s+", source):
        if re.search(r"\d", sentence):
            return sentence.strip() + " [1]"
    return "Không tìm thấy thông tin trong các bài viết hiện có."


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802 (http.server API)
        try:
            self._post()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _post(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(body)  # type: ignore[attr-defined]
        model = body.get("model", "quote")
        messages = body.get("messages") or [{}]
        prompt = messages[-1].get("content", "") if isinstance(messages[-1].get("content"), str) else ""
        if model == "slow":
            time.sleep(SLOW_SECONDS)
        if model == "error":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        if model == "garbage":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"<html>not json at all")
            return
        text = _reply(model, prompt)
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()

            def send(piece: str) -> None:
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()

            if model in ("runaway", "trickle"):  # until the client hangs up (or 10 minutes)
                for _ in range(2000):
                    send(LOOP_SENTENCE if model == "runaway" else "Đồng Tháp ")
                    time.sleep(TRICKLE_SECONDS if model == "trickle" else 0.01)
                return
            for i in range(0, len(text), 12):
                send(text[i:i + 12])
            end = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "length" if model == "length" else "stop"}]}
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            return
        resp = {"id": "c1", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(resp, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeLLMServer:
    """Start with `with FakeLLMServer() as srv:`; `srv.url` is the base URL (…/v1)."""

    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.requests = []  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list[dict]:
        return self.httpd.requests  # type: ignore[attr-defined]

    def __enter__(self) -> "FakeLLMServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LlamaCppServer:
    """llama.cpp's own HTTP server, started in-process with `xllamacpp.Server` on 127.0.0.1 (opt-in: the local extra).

    `with LlamaCppServer(model_path) as srv:` → `srv.url` (…/v1) serves the GGUF as model "local", greedy, 2 threads.
    """

    N_THREADS = 2  # the set-up: 2 threads on this 2-core machine
    N_CTX = 4096  # the prompt (~1,000-2,500 tokens) and a short answer fit
    START_TIMEOUT_S = 120  # hand-set: the 1.5B model loads in ~5 s here; 2 minutes means it failed

    def __init__(self, model_path, port: int | None = None):
        import socket

        self.model_path = model_path
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "LlamaCppServer":
        import socket

        import xllamacpp as xlc

        params = xlc.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.N_CTX
        params.n_parallel = 1
        params.cpuparams.n_threads = self.N_THREADS
        params.cpuparams_batch.n_threads = self.N_THREADS
        params.sampling.temp = 0.0
        params.sampling.top_k = 1
        params.hostnames = ["127.0.0.1"]
        params.port = self.port
        params.warmup = False
        params.verbosity = 0
        self.server = xlc.Server(params)
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while time.monotonic() < deadline:  # the HTTP listener comes up after the model loads
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"llama.cpp server did not listen on 127.0.0.1:{self.port}")

    def __exit__(self, *exc) -> None:
        self.server = None  # xllamacpp stops the server when the object is freed
