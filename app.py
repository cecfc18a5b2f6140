"""Start the app: `python app.py [--host H] [--port P]` (defaults from ASSISTANT_HOST/PORT).

One server (assistant/app/server.py): the Gradio chat UI at `/` (and its `/ask` endpoint for
gradio_client), the JSON API at `/api/ask` and `/api/factcheck`, its documentation at `/api/docs`.
"""
from __future__ import annotations

import argparse
import sys

from assistant.config import ConfigError, Settings


def main(argv: list[str] | None = None) -> int:
    """Parse flags, then serve until interrupted."""
    p = argparse.ArgumentParser(description="Trợ lý chuyển đổi số — giao diện trò chuyện (Gradio) và API JSON.")
    p.add_argument("--host", help="address to listen on (ASSISTANT_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (ASSISTANT_PORT, default 7860)")
    p.add_argument("--index", help="index folder (ASSISTANT_INDEX_DIR)")
    p.add_argument("--corpus", help="article folder (ASSISTANT_CORPUS_DIR)")
    args = p.parse_args(argv)
    try:
        settings = Settings.from_env(host=args.host, port=args.port, index_dir=args.index, corpus_dir=args.corpus)
    except ConfigError as exc:
        print(f"lỗi cấu hình: {exc}", file=sys.stderr)
        return 2
    from assistant.app.server import run
    from assistant.app.service import Service

    run(Service(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
