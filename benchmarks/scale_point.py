"""One large scale point, built for real and resumable: the seeds and the ViNewsQA validation articles mixed into
baomoi articles up to N (default 20,000).

    .venv/bin/python -m benchmarks.scale_point --workdir /work/bench-20k [--articles 20000] [--rounds 3]
        [--compare-size 300] [--out docs/scale]

A session may stop while the build runs: run the same command again. The build is the real CLI
(`python -m assistant index`), which commits article by article and reuses the vectors a killed run
already wrote, so it continues where it stopped; every attempt's wall time is kept in `<workdir>/state.json`
and the build time reported is their sum. Then, in-process on the built index:

- raw encode of a fixed sample of the index's chunk texts, for build chunks/s against encode chunks/s;
- the index on disk (Chroma, catalog with keyword index, sentence vectors);
- ask latency p50/p95 over the dev_qa questions, first round (sentence vectors not yet made, with
  ASSISTANT_SENTENCE_VECTORS=lazy) and later rounds apart;
- answer quality at this size: dev_qa (regression), the paraphrase holdout and ViNewsQA validation, scored by
  `benchmarks.answer_quality`.

`--compare-size M` also builds ours and the plain LangChain pipeline (benchmarks.baseline) on the seeds plus M
baomoi articles side by side, for the size ratio of the lean index. Writes `<out>.json`, `<out>.md` and
`<out>_cost.png` (cost against size, with the 1k and 5k points of docs/benchmarks.json).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import (DEV_QA, ROOT, Stopwatch, baomoi_file_name, copy_seeds, dir_bytes, load_baomoi, log,
                     machine_info, pct, write_baomoi)

DEFAULT_ARTICLES = 20_000
ENCODE_SAMPLE = 1024  # chunk texts re-encoded for the raw rate: ~1 min, within ±5% of the full-set rate at 2,000
SAMPLE_SEED = 7  # arbitrary fixed seed: the same encode sample on every run
DEFAULT_ROUNDS = 3


def _env(sentence_vectors: str) -> dict:
    return os.environ | {"ASSISTANT_SENTENCE_VECTORS": sentence_vectors, "PYTHONUNBUFFERED": "1"}


def write_corpus(corpus: Path, n: int) -> dict:
    """Seeds + ViNewsQA validation articles + baomoi up to n articles in all (files left alone when unchanged)."""
    from assistant.config import Settings
    from assistant.learn import datasets as ds

    seeds = copy_seeds(corpus)
    _, vin = ds.load("vinewsqa", Settings.from_env())
    val = [a for a in vin if ds.split_of("vinewsqa", a.article_id) == "val"]
    keep = {p.name for p in seeds}
    keep |= {p.name for p in _write_articles(val, corpus)}
    rows = load_baomoi(max(0, n - len(keep)))
    write_baomoi(rows, corpus)
    keep |= {baomoi_file_name(r) for r in rows}
    for p in corpus.iterdir():
        if p.name not in keep:
            p.unlink()
    return {"articles": len(keep), "seeds": len(seeds), "vinewsqa_val": len(val), "baomoi": len(rows)}


def _write_articles(articles, folder: Path) -> list[Path]:
    from assistant.learn import datasets as ds

    # ds.write_corpus removes other .md files of the folder: write to a side folder, then move in.
    side = folder.parent / "vinewsqa-val"
    paths = ds.write_corpus(articles, side)
    out = []
    for p in paths:
        dest = folder / p.name
        if not dest.is_file() or dest.read_bytes() != p.read_bytes():
            shutil.copy2(p, dest)
        out.append(dest)
    return out


def build(work: Path, state: dict, sentence_vectors: str) -> dict:
    """Run (or continue) the CLI build; each attempt's wall time is saved before and after it runs."""
    corpus, index = work / "corpus", work / "index"
    attempts = state.setdefault("attempts", [])
    if state.get("built"):
        return state
    cmd = [sys.executable, "-m", "assistant", "index", "--corpus", str(corpus), "--index", str(index), "--json"]
    attempt = {"started": time.time(), "seconds": None, "command": " ".join(cmd[1:])}
    attempts.append(attempt)
    _save(work, state)
    log(f"build: {' '.join(cmd[1:])} (attempt {len(attempts)})")
    with Stopwatch() as sw, open(work / "build.log", "a", encoding="utf-8") as err:
        proc = subprocess.run(cmd, cwd=ROOT, env=_env(sentence_vectors), stdout=subprocess.PIPE, stderr=err, text=True)
    attempt["seconds"] = round(sw.seconds, 1)
    if proc.returncode != 0:
        _save(work, state)
        raise SystemExit(f"build failed (exit {proc.returncode}); see {work / 'build.log'}")
    attempt["summary"] = json.loads(proc.stdout.strip().splitlines()[-1])
    state["built"] = True
    _save(work, state)
    return state


def _save(work: Path, state: dict) -> None:
    tmp = work / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1))
    tmp.replace(work / "state.json")


def _load(work: Path) -> dict:
    p = work / "state.json"
    return json.loads(p.read_text()) if p.is_file() else {}


def index_sizes(index: Path) -> dict:
    """Bytes on disk of the index and its parts."""
    parts = {"chroma": dir_bytes(index / "chroma")}
    for name in ("catalog.sqlite", "sentences.sqlite"):
        parts[name.split(".")[0]] = sum(dir_bytes(p) if p.is_dir() else p.stat().st_blocks * 512
                                        for p in index.glob(name + "*"))
    return {"total": dir_bytes(index), **parts}


def raw_encode(settings, emb) -> dict:
    """Encode a fixed sample of the index's chunk texts (title + text, as the build does)."""
    from assistant.indexing.catalog import Catalog
    from assistant.indexing.indexer import embedding_text

    cat = Catalog(settings.index_dir, create=False)
    texts = [embedding_text(c.title, c.text) for c in cat.iter_chunks()]
    n_chunks = len(texts)
    cat.close()
    sample = random.Random(SAMPLE_SEED).sample(texts, min(ENCODE_SAMPLE, len(texts)))
    with Stopwatch() as sw:
        emb.encode_passages(sample)
    return {"chunks_in_index": n_chunks, "sample": len(sample), "seconds": round(sw.seconds, 1),
            "chunks_per_s": round(len(sample) / sw.seconds, 2)}


def ask_latency(settings, rounds: int) -> dict:
    """Ask every dev_qa question `rounds` times in one process; first round apart (sentence vectors made then)."""
    from assistant.app.pipeline import Assistant

    qs = [json.loads(line)["question"] for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    bot = Assistant(settings)
    with Stopwatch() as sw:
        bot.ask("chuyển đổi số là gì?")
    first_call = sw.seconds
    per_round = []
    for _ in range(rounds):
        lat = []
        for q in qs:
            t = time.perf_counter()
            bot.ask(q)
            lat.append((time.perf_counter() - t) * 1000)
        per_round.append(lat)
    later = [x for r in per_round[1:] for x in r]
    return {"questions": len(qs), "rounds": rounds, "first_call_s": round(first_call, 2),
            "first_round_p50_ms": _r(pct(per_round[0], 50)), "first_round_p95_ms": _r(pct(per_round[0], 95)),
            "p50_ms": _r(pct(later, 50)), "p95_ms": _r(pct(later, 95)), "samples": len(later)}


def quality(settings, work: Path) -> dict:
    """dev_qa, paraphrase holdout and ViNewsQA validation asked of this index, scored by the harness."""
    from assistant.learn import datasets as ds

    from . import answer_quality as aq

    out = {}
    for name, split in (("dev_qa", None), ("paraphrase", "holdout"), ("vinewsqa", "val")):
        items, _ = ds.load(name, settings)
        asked = [q for q in items if split is None or q.split == split]
        tag = aq._sha(f"{name}|{split}|{aq.code_fingerprint()}|{settings.k}".encode())[:16]
        recs = aq.ask_all(asked, settings, work / "answers" / f"{name}-{tag}.jsonl")
        s = aq.summarize(recs)
        out[f"{name}" + (f"_{split}" if split else "")] = {
            k: s[k] for k in ("questions", "correct", "correct_count", "gold_in_answer", "gold_in_quote",
                              "false_abstention", "unanswerable_abstained", "answer_len_p50", "latency_p50_ms")}
    return out


def compare_size(work: Path, m: int, emb) -> dict:
    """Ours (lean, lazy sentence vectors; and with them) and the plain pipeline on seeds + m baomoi: bytes."""
    from .baseline import Baseline

    d = work / f"compare-{m}"
    corpus = d / "corpus"
    copy_seeds(corpus)
    write_baomoi(load_baomoi(m), corpus)
    res: dict = {"articles": sum(1 for _ in corpus.iterdir())}
    for mode in ("lazy", "build"):
        index = d / f"index-{mode}"
        shutil.rmtree(index, ignore_errors=True)
        cmd = [sys.executable, "-m", "assistant", "index", "--corpus", str(corpus), "--index", str(index), "--quiet"]
        with Stopwatch() as sw:
            subprocess.run(cmd, cwd=ROOT, env=_env(mode), check=True, capture_output=True)
        res[f"ours_{mode}"] = index_sizes(index) | {"build_s": round(sw.seconds, 1)}
    base_dir = d / "baseline"
    shutil.rmtree(base_dir, ignore_errors=True)
    with Stopwatch() as sw:
        Baseline(emb, base_dir).build(corpus)
    res["baseline"] = {"total": dir_bytes(base_dir), "build_s": round(sw.seconds, 1)}
    for mode in ("lazy", "build"):
        res[f"ratio_ours_{mode}_to_baseline"] = round(res[f"ours_{mode}"]["total"] / res["baseline"]["total"], 3)
    return res


def baseline_point(work: Path, emb, settings, rounds: int) -> dict:
    """The plain LangChain pipeline built on the same corpus (not resumable: a stopped build starts over), and
    the dev_qa questions through both pipelines, interleaved."""
    from assistant.app.evaluate import load_qa
    from assistant.app.pipeline import Assistant

    from .baseline import Baseline
    from .compare.runners import eval_dev

    folder = work / "baseline"
    shutil.rmtree(folder, ignore_errors=True)
    base = Baseline(emb, folder)
    built = base.build(work / "corpus")
    built.pop("texts")
    dev = eval_dev(load_qa(DEV_QA), Assistant(settings), base, rounds)
    keep = ("correct", "recall@1", "citation_precision", "answer_chars_p50", "latency_p50_ms", "latency_p95_ms")
    return {"build": built, "bytes": dir_bytes(folder),
            "dev": {who: {k: dev[who].get(k) for k in keep} for who in ("ours", "baseline")}}


def _r(v, nd: int = 1):
    return None if v is None else round(v, nd)


def plot(report: dict, out: Path) -> str | None:
    """Build time, index size and ask p50 against size: ours and the plain pipeline (1k, 5k measured earlier)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    earlier = report.get("earlier_sizes", {})
    n = report["corpus"]["articles"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    b = report.get("baseline")
    base_now = None if not b else {"build time (min)": b["build"]["seconds"] / 60, "index on disk (MB)": b["bytes"] / 1e6,
                                   "ask p50 (ms)": b["dev"]["baseline"]["latency_p50_ms"]}
    series = [("build time (min)", lambda s, who: s["build"][who]["seconds"] / 60, report["build"]["seconds"] / 60),
              ("index on disk (MB)", lambda s, who: s["index_bytes"][who] / 1e6, report["index_bytes"]["total"] / 1e6),
              ("ask p50 (ms)", lambda s, who: s["dev"][who]["latency_p50_ms"], report["latency"]["p50_ms"])]
    for ax, (label, get, ours_now) in zip(axes, series):
        for who, color in (("ours", "tab:blue"), ("baseline", "tab:gray")):
            xs = [int(k) + 5 for k in earlier]
            ys = [get(s, who) for s in earlier.values()]
            ax.plot(xs, ys, "o-", color=color, label=f"{who} (earlier run, older index format)")
        ax.plot([n], [ours_now], "s", color="tab:red", markersize=9, label="ours, this run")
        if base_now is not None:
            ax.plot([n], [base_now[label]], "s", color="black", markersize=8, label="baseline, this run")
        ax.set_xscale("log")
        ax.set_xlabel("articles")
        ax.set_title(label)
        ax.grid(alpha=.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = out.with_name(out.name + "_cost.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def render(r: dict) -> str:
    """The Markdown report."""
    b, sz, lat, q = r["build"], r["index_bytes"], r["latency"], r["quality"]
    mb = lambda x: f"{x / 1e6:,.1f} MB"  # noqa: E731
    lines = [f"# Scale point: {r['corpus']['articles']:,} articles", "",
             f"Generated by `{r['command']}` on {r['machine'].get('cpu', '?')}, {r['machine'].get('cpus', '?')} CPUs "
             f"({r['finished']}). Corpus: {r['corpus']['seeds']} seeds, {r['corpus']['vinewsqa_val']} ViNewsQA "
             f"validation articles, {r['corpus']['baomoi']:,} baomoi articles. Sentence vectors: "
             f"`ASSISTANT_SENTENCE_VECTORS={r['sentence_vectors']}`.", "",
             "## Build", "", "| measure | value |", "|---|---|",
             f"| build time (sum of {len(b['attempts'])} attempt(s): {', '.join(str(a) for a in b['attempts'])} s) "
             f"| {b['seconds'] / 60:.1f} min |",
             f"| chunks | {b['chunks']:,} |", f"| build chunks/s | {b['chunks_per_s']} |",
             f"| raw encode chunks/s ({r['encode']['sample']} chunk texts of the index, same process) | "
             f"{r['encode']['chunks_per_s']} |",
             f"| build / raw encode | {b['ratio_to_encode']} |", "",
             "## Index on disk", "", "| part | size |", "|---|---|"]
    lines += [f"| {k} | {mb(v)} |" for k, v in sz.items()]
    if r.get("compare"):
        c = r["compare"]
        lines += ["", f"Side by side on {c['articles']} articles (seeds + baomoi), one run: ours "
                  f"{mb(c['ours_lazy']['total'])} with lazy sentence vectors, {mb(c['ours_build']['total'])} with them "
                  f"made at build; plain LangChain pipeline {mb(c['baseline']['total'])}. Ratios: "
                  f"**{c['ratio_ours_lazy_to_baseline']}** (lazy) and {c['ratio_ours_build_to_baseline']} (build)."]
    lines += ["", "## Ask latency (in-process, dev_qa questions)", "", "| measure | value |", "|---|---|",
              f"| first call (model load, first query) | {lat['first_call_s']} s |",
              f"| first round p50 / p95 | {lat['first_round_p50_ms']} / {lat['first_round_p95_ms']} ms |",
              f"| first round of the first run on this index (sentence vectors made on the way when lazy; "
              f"{r['cold_latency'].get('note', r['cold_latency'].get('measured', ''))}) | "
              f"{r['cold_latency']['first_round_p50_ms']} / {r['cold_latency']['first_round_p95_ms']} ms |",
              f"| later rounds p50 / p95 ({lat['samples']} asks) | **{lat['p50_ms']}** / {lat['p95_ms']} ms |",
              "", "## Answer quality at this size", "",
              "| set | questions | correct | gold in answer | gold in quote | false abstentions | p50 length |",
              "|---|---|---|---|---|---|---|"]
    for name, s in q.items():
        lines.append(f"| {name} | {s['questions']} | {s['correct_count'] if s['correct'] is not None else '–'} | "
                     f"{s['gold_in_answer']} | {s['gold_in_quote']} | {s['false_abstention']} | {s['answer_len_p50']} |")
    if r.get("baseline"):
        b = r["baseline"]
        o, p = b["dev"]["ours"], b["dev"]["baseline"]
        lines += ["", "## Beside the plain LangChain pipeline, same corpus, same run", "",
                  "| measure | ours | plain pipeline |", "|---|---|---|",
                  f"| build | {r['build']['seconds'] / 60:.1f} min | {b['build']['seconds'] / 60:.1f} min |",
                  f"| chunks | {r['build']['chunks']:,} | {b['build']['chunks']:,} |",
                  f"| on disk | {mb(sz['total'])} | {mb(b['bytes'])} |",
                  f"| dev_qa correct (evaluate.score) | {o['correct']} | {p['correct']} |",
                  f"| dev_qa evidence recall@1 | {o['recall@1']} | {p['recall@1']} |",
                  f"| ask p50 / p95, interleaved | {o['latency_p50_ms']} / {o['latency_p95_ms']} ms | "
                  f"{p['latency_p50_ms']} / {p['latency_p95_ms']} ms |"]
    if r.get("plot"):
        lines += ["", f"![cost against size]({r['plot']})", "",
                  "The 1k and 5k points come from docs/benchmarks.json (an earlier run, older index format: chunk text "
                  "stored three times, no sentence vectors)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workdir", type=Path, required=True, help="kept between runs: corpus, index, state, answers")
    p.add_argument("--articles", type=int, default=DEFAULT_ARTICLES)
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="rounds over the dev_qa questions for latency")
    p.add_argument("--sentence-vectors", choices=("lazy", "build"), default="lazy",
                   help="ASSISTANT_SENTENCE_VECTORS for the build and the questions")
    p.add_argument("--compare-size", type=int, default=0, help="also compare index sizes with the plain pipeline here")
    p.add_argument("--build-only", action="store_true", help="stop after the build (the rest on a later run)")
    p.add_argument("--baseline", action="store_true",
                   help="also build the plain LangChain pipeline on the same corpus and ask both the dev_qa questions")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "scale")
    args = p.parse_args(argv)
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    state = _load(work)
    if state.get("articles") not in (None, args.articles) or state.get("sentence_vectors") not in (
            None, args.sentence_vectors):
        raise SystemExit(f"{work} holds a run with other settings ({state.get('articles')} articles, "
                         f"{state.get('sentence_vectors')}); use another --workdir")
    state |= {"articles": args.articles, "sentence_vectors": args.sentence_vectors}
    if "corpus" not in state:
        log(f"writing the corpus ({args.articles:,} articles)")
        state["corpus"] = write_corpus(work / "corpus", args.articles)
        _save(work, state)
    build(work, state, args.sentence_vectors)
    if args.build_only:
        return 0
    os.environ["ASSISTANT_SENTENCE_VECTORS"] = args.sentence_vectors
    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings

    settings = Settings.from_env().replace(corpus_dir=work / "corpus", index_dir=work / "index")
    emb = load_embeddings(settings)
    summary = state["attempts"][-1]["summary"]
    secs = sum(a["seconds"] or 0 for a in state["attempts"])
    if "encode" not in state:
        log("raw encode of a sample of the chunk texts")
        state["encode"] = raw_encode(settings, emb)
        _save(work, state)
    chunks = state["encode"]["chunks_in_index"]
    report: dict = {
        "command": ".venv/bin/python -m benchmarks.scale_point " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_info(), "corpus": state["corpus"], "sentence_vectors": args.sentence_vectors,
        "build": {"seconds": round(secs, 1), "attempts": [a["seconds"] for a in state["attempts"]], "chunks": chunks,
                  "last_summary": summary, "chunks_per_s": round(chunks / secs, 2),
                  "ratio_to_encode": round(chunks / secs / state["encode"]["chunks_per_s"], 3)},
        "encode": state["encode"], "index_bytes": index_sizes(work / "index")}
    log("ask latency")
    report["latency"] = ask_latency(settings, args.rounds)
    if "cold_latency" not in state:  # the first questions of this index: no sentence vector made yet when lazy
        state["cold_latency"] = report["latency"] | {"measured": time.strftime("%Y-%m-%d %H:%M")}
        _save(work, state)
    report["cold_latency"] = state["cold_latency"]
    log("answer quality")
    report["quality"] = quality(settings, work)
    report["index_bytes_after_questions"] = index_sizes(work / "index")
    if args.compare_size:
        if state.get("compare", {}).get("articles_asked") != args.compare_size:
            log(f"index sizes beside the plain pipeline at {args.compare_size} articles")
            state["compare"] = compare_size(work, args.compare_size, emb) | {"articles_asked": args.compare_size}
            _save(work, state)
        report["compare"] = state["compare"]
    if args.baseline:
        if "baseline" not in state:
            log("the plain LangChain pipeline on the same corpus (~ as long as our build)")
            state["baseline"] = baseline_point(work, emb, settings, args.rounds)
            _save(work, state)
        report["baseline"] = state["baseline"]
    try:
        earlier = json.loads((ROOT / "docs" / "benchmarks.json").read_text())["scale"]["sizes"]
        report["earlier_sizes"] = {k: {kk: vv for kk, vv in v.items() if kk != "dev_rows"}
                                   for k, v in earlier.items() if not v.get("estimated_only")}
    except (OSError, KeyError, ValueError):
        report["earlier_sizes"] = {}
    report["finished"] = time.strftime("%Y-%m-%d %H:%M")
    report["plot"] = plot(report, args.out)
    args.out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    args.out.with_suffix(".md").write_text(render(report), encoding="utf-8")
    log(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
