"""The generative backend against a real llama.cpp server, beside the extractive one, on our paraphrase questions.

Starts llama.cpp's own HTTP server in-process with `xllamacpp.Server` on 127.0.0.1 (the 1.5B
Qwen2.5-Coder GGUF of `./scripts/setup_local_llm.sh`, 2 threads, temperature 0), then asks the first
N questions (fact-checks aside, which never reach the model) of a split of our paraphrase file through
`extractive` and through `openai` with each prompt, and writes the comparison into
`docs/answer_quality.md` (the section between the LLM markers) and `docs/llm_backends.json`.
Prompts are chosen on the `tune` split and reported on `holdout` (never tuned on).

    .venv/bin/python -m benchmarks.llm_backends --split tune --limit 20 --sentences 2 4 8 --styles sentences chunks
    .venv/bin/python -m benchmarks.llm_backends --split holdout --sentences 2 --styles sentences chunks

Answers are cached per backend/style in --workdir (a stopped run resumes). Needs the local extra:
`./scripts/setup_local_llm.sh`.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from assistant.app.pipeline import Assistant
from assistant.config import PROJECT_ROOT, Settings
from assistant.learn import datasets as ds
from benchmarks.answer_quality import LLM_BEGIN as BEGIN, LLM_END as END, answer_view, ensure_index, score_item
from tests.support.llm_server import LlamaCppServer

DOCS = PROJECT_ROOT / "docs"
SPLIT_NOTE = {"tune": " (prompts are chosen on it)", "holdout": " (never tuned on)"}


def ask(items, settings: Settings, cache: Path) -> list[dict]:
    """Raw answers (cached) for the items with this backend (and prompt style)."""
    done = {}
    if cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                done[rec["id"]] = rec
            except json.JSONDecodeError:
                pass
    todo = [q for q in items if q.id not in done]
    if todo:
        bot = Assistant(settings)
        with cache.open("a", encoding="utf-8") as fh:
            for i, q in enumerate(todo, 1):
                t = time.perf_counter()
                a = bot.ask(q.question)
                done[q.id] = {"id": q.id, "seconds": round(time.perf_counter() - t, 2), "answer": a.to_dict()}
                fh.write(json.dumps(done[q.id], ensure_ascii=False) + "\n")
                fh.flush()
                print(f"  {cache.stem} {i}/{len(todo)} {done[q.id]['seconds']} s", file=sys.stderr)
    return [done[q.id] for q in items]


def summarize(items, raw: list[dict]) -> dict:
    """Right answers, flags, deadlines, latency, and unflagged answers with an unverified figure."""
    n = len(raw)
    right_shown, right_model, flagged, deadline, unflagged_bad, reached, lat = 0, 0, 0, 0, 0, 0, []
    for item, r in zip(items, raw):
        a = r["answer"]
        lat.append(r["seconds"])
        generated = a["backend"] != "extractive"
        reached += generated
        deadline += "quá thời gian" in (a.get("notice") or "") or "lặp lại" in (a.get("notice") or "")
        flagged += bool(a.get("flagged"))
        if generated and not a.get("flagged") and any(not f["verified"] for f in a.get("figures") or []):
            unflagged_bad += 1
        own = score_item(item, answer_view(a))
        right_model += bool(own["correct"]) and not a.get("flagged")
        shown = a["fallback"] if a.get("fallback") else a  # a flagged or empty model answer is shown after it
        right_shown += bool(score_item(item, answer_view(shown))["correct"])
    return {"questions": n, "reached_model": reached, "right_shown_first": right_shown,
            "right_model_unflagged": right_model, "flagged": flagged, "stopped_deadline_or_loop": deadline,
            "unflagged_with_unverified_figure": unflagged_bad,
            "latency_s_p50": round(statistics.median(lat), 1) if lat else None,
            "latency_s_max": round(max(lat), 1) if lat else None}


def render(results: dict, runs: dict) -> str:
    """The markdown section written into docs/answer_quality.md: every model run so far, one table."""
    cols = ["questions", "reached_model", "right_shown_first", "right_model_unflagged", "flagged",
            "stopped_deadline_or_loop", "unflagged_with_unverified_figure", "latency_s_p50", "latency_s_max"]
    lines = [BEGIN, "## Generative backends against a real llama.cpp server", ""]
    for meta in runs.values():
        lines += [f"Command: `{meta['command'].strip()}`  ",
                  f"Run: {meta['when']}, model `{meta['model']}`, {LlamaCppServer.N_THREADS} threads, temperature 0, "
                  f"deadline {meta['timeout']} s, max_tokens {meta['max_tokens']}, "
                  f"{meta['asked']} questions of the paraphrase {meta['split']} split{SPLIT_NOTE[meta['split']]}; "
                  f"load average {meta['load']} on {os.cpu_count()} CPUs.", ""]
    lines += ["`right_shown_first`: the answer the user sees first is right (a flagged or empty model answer is "
              "shown after the extractive one). `right_model_unflagged`: the model's own answer, unflagged, is right.",
              "", "| backend | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, s in results.items():
        lines.append(f"| {name} | " + " | ".join(str(s[c]) for c in cols) + " |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(section: str, path: Path = DOCS / "answer_quality.md") -> None:
    """Replace (or append) the LLM section of the report, atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Command line: start the server, ask, write the report."""
    from assistant.answer.local.gguf import MODELS, prepare_model

    ap = argparse.ArgumentParser(prog="python -m benchmarks.llm_backends", description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="holdout", choices=["tune", "holdout"])
    ap.add_argument("--limit", type=int, default=None, help="the first N questions of the split (default: all)")
    ap.add_argument("--sentences", type=int, nargs="+", default=[Settings().llm_prompt_sentences],
                    help="best sentences the sentence prompt shows (each value is one run)")
    ap.add_argument("--styles", nargs="+", default=["sentences", "chunks"], choices=["sentences", "chunks"])
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/llm-backends"))
    ap.add_argument("--model", default="1.5b", choices=["1.5b", "0.5b"],
                    help="which prepared Qwen2.5-Coder GGUF the server runs (./scripts/setup_local_llm.sh [0.5b])")
    args = ap.parse_args(argv)
    base = Settings.from_env()
    model = prepare_model(model=MODELS[args.model])
    items, articles = ds.load("paraphrase", base)
    # by the item's own split: the harness's select() asks every paraphrase and reports per split
    asked = [q for q in items if q.split == args.split and q.kind != "factcheck"][:args.limit]
    corpus, index, _, _ = ensure_index(articles, args.workdir)
    settings = base.replace(corpus_dir=corpus, index_dir=index, llm_timeout=args.timeout)
    tag = f"{args.split}/{len(asked)}"
    results = {f"{tag} extractive": summarize(asked, ask(asked, settings.replace(backend="extractive"),
                                                         args.workdir / f"{args.split}-extractive.jsonl"))}
    with LlamaCppServer(model) as server:
        llm = settings.replace(backend="openai", llm_base_url=server.url, llm_model="local")
        runs_of = [("chunks", None) if st == "chunks" else (st, n) for st in args.styles
                   for n in (args.sentences if st == "sentences" else [None])]
        for style, n in runs_of:
            name = style if n is None else f"{style}-{n}"
            raw = ask(asked, llm.replace(llm_prompt=style, llm_prompt_sentences=n),
                      args.workdir / f"{args.split}-openai-{args.model}-{name}.jsonl")
            label = "whole passages" if n is None else f"{n} best sentences"
            results[f"{tag} openai {args.model} ({label})"] = summarize(asked, raw)
    meta = {"command": "python -m benchmarks.llm_backends " + " ".join(argv or sys.argv[1:]),
            "when": time.strftime("%Y-%m-%d %H:%M"), "model": model.name, "timeout": args.timeout,
            "max_tokens": settings.llm_max_tokens, "split": args.split, "asked": len(asked),
            "load": round(os.getloadavg()[0], 2)}
    path = DOCS / "llm_backends.json"  # other runs are kept (other models, splits): one table for all of them
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    runs = {**old.get("runs", {}), f"{args.model} {args.split}": meta}
    merged = {**old.get("results", {}), **results}
    path.write_text(json.dumps({"runs": runs, "results": merged}, ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    write_section(render(merged, runs))
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
