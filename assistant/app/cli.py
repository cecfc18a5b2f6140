"""Command line: `python -m assistant index|ask|eval|articles` (see --help of each)."""
from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Sequence

from assistant.config import ConfigError, Settings

EXIT_OK, EXIT_ARTICLE_ERRORS, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (flags override ASSISTANT_* variables)."""
    p = argparse.ArgumentParser(
        prog="python -m assistant",
        description="Trợ lý hỏi đáp có trích dẫn về chuyển đổi số của các tỉnh (Vietnamese cited-answer assistant).",
        epilog="Settings come from ASSISTANT_* environment variables; flags override them (see README).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ix = sub.add_parser("index", help="build or update the index from the corpus folder")
    ix.add_argument("--corpus", type=Path, help="article folder (ASSISTANT_CORPUS_DIR, default corpus/)")
    ix.add_argument("--index", type=Path, help="index folder (ASSISTANT_INDEX_DIR, default index/)")
    ix.add_argument("--full", action="store_true", help="re-embed every article")
    ix.add_argument("--quiet", action="store_true", help="no progress bar")
    ix.add_argument("--json", action="store_true", help="print the summary as JSON")
    ix.add_argument("--local", action="store_true",
                    help="build in this process even when an app serving this index runs (it is used by default)")

    ask = sub.add_parser("ask", help="answer a question (or one question per line from stdin)")
    ask.add_argument("question", nargs="?", help="the question; omit to read questions from stdin")
    ask.add_argument("--json", action="store_true", help="print the answer object (JSON Lines for stdin)")
    ask.add_argument("--province", help="only use articles about this province")
    ask.add_argument("--k", type=int, help="number of passages to retrieve (ASSISTANT_K, default 5)")
    ask.add_argument("--index", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    ask.add_argument("--backend", choices=("extractive", "openai", "local"), help="answer backend (ASSISTANT_BACKEND)")
    ask.add_argument("--local", action="store_true",
                     help="answer in this process even when an app serving this index runs (it is used by default)")

    ev = sub.add_parser("eval", help="score the assistant on a question file (JSON Lines)")
    ev.add_argument("--qa", type=Path, required=True, help="questions with gold figures and evidence")
    ev.add_argument("--index", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    ev.add_argument("--k", type=int, help="passages to retrieve")
    ev.add_argument("--json", action="store_true", help="print the full report as JSON")

    ls = sub.add_parser("articles", help="list the indexed articles")
    ls.add_argument("--index", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None),
            k=getattr(args, "k", None), backend=getattr(args, "backend", None))
    except ConfigError as exc:
        print(f"lỗi cấu hình: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = {"index": _index, "ask": _ask, "eval": _eval, "articles": _articles}[args.command]
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line message beats a traceback for known failures
        from assistant.errors import user_message

        msg = user_message(exc)
        if msg is None:
            raise
        print(f"lỗi: {msg}", file=sys.stderr)
        return EXIT_USAGE


def _running_app(args: argparse.Namespace, settings: Settings):
    """The app serving this corpus and index, unless --local (the job then costs no model load here)."""
    if args.local:
        return None
    from assistant.app import handoff

    return handoff.find(settings)


def _index(args: argparse.Namespace, settings: Settings) -> int:
    summary = None
    app = _running_app(args, settings)
    if app is not None:
        from assistant.app.handoff import HandoffError
        from assistant.indexing.summary import BuildSummary

        try:
            summary = BuildSummary.from_dict(app.index(full=args.full))
            if not args.quiet:
                print(f"(chỉ mục được cập nhật bởi ứng dụng đang chạy tại {app.url})", file=sys.stderr)
        except (HandoffError, OSError) as exc:
            print(f"ứng dụng tại {app.url} không nhận việc ({exc}); tự xây dựng chỉ mục", file=sys.stderr)
    if summary is None:
        from assistant.indexing.indexer import Indexer

        summary = Indexer(settings, show_progress=not args.quiet and sys.stderr.isatty()).run(full=args.full)
    for err in summary.errors:
        print(f"lỗi bài viết: {err}", file=sys.stderr)
    print(json.dumps(summary.to_dict(), ensure_ascii=False) if args.json else summary.line())
    return EXIT_OK if summary.ok else EXIT_ARTICLE_ERRORS


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    # Another backend than the app's is asked for with --backend: then this process answers.
    app = None if args.backend else _running_app(args, settings)
    if app is not None:
        from assistant.types import Answer

        def ask(q: str):
            return Answer.from_dict(app.ask(q, province=args.province, k=args.k))
    else:
        from assistant.app.pipeline import Assistant

        ask = functools.partial(Assistant(settings).ask, province=args.province)
    questions = [args.question] if args.question is not None else (line for line in sys.stdin)
    for q in questions:
        if args.question is None and not q.strip():
            continue
        answer = ask(q)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(answer.to_text(), flush=True)
    return EXIT_OK


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.app.evaluate import evaluate_file

    report = evaluate_file(args.qa, settings)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else report["text"])
    return EXIT_OK


def _articles(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.indexing.catalog import Catalog

    cat = Catalog(settings.index_dir, create=False)
    for a in cat.articles():
        print(f"{a.id}\t{a.province or '-'}\t{a.date or '-'}\t{a.n_chunks} đoạn\t{a.title}")
    return EXIT_OK
