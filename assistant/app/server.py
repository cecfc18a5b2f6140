"""The app's web server: FastAPI with the JSON API (`api.py`) and the Gradio UI mounted at `/`, run by uvicorn.

One process, one port (ASSISTANT_HOST / ASSISTANT_PORT), one `Service`:
- `/` the Gradio UI, and its `/ask` endpoint for `gradio_client` (`Client(url).predict(q, api_name="/ask")`);
- `/api/ask`, `/api/factcheck` the JSON API, its OpenAPI page at `/api/docs`;
- `/api/index` the CLI's build, handed over with the token the server publishes in `<index>/app.json`
  once it listens (`handoff.py`), and withdraws when it stops.
The same login (ASSISTANT_AUTH) guards both: Gradio's login page for the UI, HTTP Basic for the API.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    run(Service(Settings.from_env()))
    # -> * Running on local URL:  http://127.0.0.1:7860
"""
from __future__ import annotations

import logging
import os
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no request leaves the machine

import gradio as gr  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from assistant.app import handoff  # noqa: E402
from assistant.app.api import build_api  # noqa: E402
from assistant.app.service import Service, warn_if_exposed  # noqa: E402

log = logging.getLogger("assistant")
GRADIO_CONCURRENCY = 8  # events Gradio runs at once (its queue), as `launch` had it
STARTUP_TIMEOUT_S = 60  # hand-set: uvicorn binds in well under a second; the model loads later, in the background
SHUTDOWN_GRACE_S = 5  # hand-set: answers take < 1 s (extractive); a streaming LLM answer is cut after this


def build_server(service: Service) -> FastAPI:
    """The FastAPI app: the JSON API first, then the Gradio UI mounted at `/` (same login, same page options)."""
    from assistant.app.ui.layout import GRADIO_MAX_FILE_BYTES, build_app, page_options

    settings = service.settings
    app = build_api(service)
    demo = build_app(service)
    demo.queue(default_concurrency_limit=GRADIO_CONCURRENCY)
    return gr.mount_gradio_app(app, demo, path="/", auth=settings.auth_pairs or None,
                               auth_message="Đăng nhập để dùng trợ lý." if settings.auth else None,
                               max_file_size=GRADIO_MAX_FILE_BYTES, show_error=False, **page_options())


def serve(service: Service, *, prevent_thread_lock: bool = False) -> uvicorn.Server:
    """Serve on the configured host/port until interrupted (Ctrl+C, SIGTERM).

    With `prevent_thread_lock`, uvicorn runs in a background thread and the started server is returned
    (`server.should_exit = True` stops it). Warming up and the exposure warning are the caller's (`run`).
    """
    settings = service.settings
    config = uvicorn.Config(build_server(service), host=settings.host, port=settings.port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
    server = _Server(config, on_shutdown=lambda: handoff.withdraw(settings))
    threading.Thread(target=_publish_when_started, args=(server, service), daemon=True, name="handoff").start()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    banner = (f"* Running on local URL:  http://{host}:{settings.port}\n"
              f"* JSON API: http://{host}:{settings.port}/api/docs")
    if not prevent_thread_lock:
        print(banner, flush=True)
        server.run()
        return server
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"máy chủ không khởi động được trên {settings.host}:{settings.port}")
        time.sleep(0.05)
    print(banner, flush=True)
    return server


class _Server(uvicorn.Server):
    """uvicorn's server, running a callback when it shuts down (uvicorn re-raises SIGTERM after its own shutdown,
    so code after `run()` never runs on a stop)."""

    def __init__(self, config: uvicorn.Config, on_shutdown):
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets=None) -> None:
        try:
            await super().shutdown(sockets=sockets)
        finally:
            self._on_shutdown()


def _publish_when_started(server: uvicorn.Server, service: Service) -> None:
    """Publish `<index>/app.json` once the port is bound, with the port really bound (ASSISTANT_PORT may be 0)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if server.should_exit or time.monotonic() > deadline:
            return
        time.sleep(0.05)
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
    except (AttributeError, IndexError, OSError):
        port = service.settings.port
    host = service.settings.host
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else (f"[{host}]" if ":" in host else host)
    try:
        handoff.publish(service.settings, f"http://{host}:{port}", service.handoff_token)
    except OSError as exc:  # a read-only index folder: the CLI then builds on its own
        log.warning("could not publish %s for the command line: %s", handoff.HANDOFF_FILE, exc)


def run(service: Service, *, prevent_thread_lock: bool = False) -> uvicorn.Server:
    """What `python app.py` does: warn when exposed without login, start loading the model, serve."""
    warn_if_exposed(service.settings)
    service.start_warm_up()
    return serve(service, prevent_thread_lock=prevent_thread_lock)
