"""What `benchmarks.compare` measures: each section runs ours and the baseline on the same files, in one process.

Quality is scored by `assistant.app.evaluate` (`score`, `summarize`) for both pipelines: the baseline's
output is wrapped in an `Answer` (`benchmarks.baseline.as_answer`). The few figures evaluate does not
give (citation precision, passages cited, answer length, the first-chunk variant) are added on top of
its per-question rows.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.app import evaluate

from .. import xquad_eval
from ..baseline import CONTEXT, Baseline, as_answer
from ..common import ROOT, Stopwatch, copy_seeds, dir_bytes, load_baomoi, log, pct, timed_calls, write_baomoi
from ..processes import App, child_env

APP_QUESTIONS = 5  # hand-set: dev questions asked through the app for its peak memory (the first loads the model)
WARM_UP_QUESTION = "Chuyển đổi số ở Tiền Giang"  # any seed-topic question; asked once, not measured
XQUAD_K = 10  # recall@10 is the deepest XQuAD figure reported (and the reference BM25 row's depth)
XQUAD_BASE_FETCH = 20  # baseline chunks fetched per XQuAD question: 352 chunks / 240 paragraphs, 2x covers 10 paragraphs
PROBE_TIMEOUT_S = 900  # hand-set: a memory probe loads the model (~10 s) and answers 5 questions; 15 min is a hang
APP_MEMORY_STARTUP_S = 600  # hand-set: app.py on a 5,000-article index was ready in 5 s; generous for a loaded machine
SCALE_SEEDS = 5  # the five seed articles mixed into every scale corpus (corpus/)

# evaluate.summarize's names -> the names benchmarks.json (and the report) have used since the first run.
SUMMARY_KEYS = {"questions": "questions", "answerable": "answerable", "unanswerable": "unanswerable",
                "evidence_top1": "recall@1", "evidence_top5": "recall@5", "mrr": "mrr",
                "figures_in_answer": "figure_accuracy", "terms_in_answer": "terms_accuracy",
                "unanswerable_abstained": "abstained_on_unanswerable", "answerable_abstained": "abstained_on_answerable"}


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


# --- ours --------------------------------------------------------------------------------------
def our_settings(folder: Path, **kw):
    """Our settings on a benchmark folder: its corpus/ and index/, extractive answers, embedded Chroma."""
    from assistant.config import Settings

    return Settings.from_env(corpus_dir=folder / "corpus", index_dir=folder / "index", backend="extractive",
                             chroma_url="", **kw)


def build_ours(folder: Path, emb) -> dict:
    """A fresh full build with the model already loaded; time spent encoding is reported apart."""
    from assistant.indexing.indexer import Indexer

    if (folder / "index").exists():
        shutil.rmtree(folder / "index")
    with timed_calls([(emb, "encode_passages")]) as parts, Stopwatch() as sw:
        summary = Indexer(our_settings(folder), embeddings=emb, show_progress=False).run(full=True)
    return {"seconds": round(sw.seconds, 3), "cpu_s": round(sw.cpu, 3), "chunks": summary.chunks,
            "articles": summary.added, "errors": len(summary.errors), "error_examples": summary.errors[:3],
            "encode_s_inside": round(sum(parts.values()), 3)}


def our_chunk_texts(folder: Path) -> list[str]:
    """What our build embedded: `embedding_text(title, chunk)` of every chunk in the catalog."""
    from assistant.indexing.catalog import Catalog
    from assistant.indexing.indexer import embedding_text

    cat = Catalog(folder / "index", create=False)
    try:
        return [embedding_text(c.title, c.text) for c in cat.iter_chunks()]
    finally:
        cat.close()


# --- scoring (assistant.app.evaluate for both pipelines) ----------------------------------------
def score(row: dict, answer) -> dict:
    """evaluate.score, plus what the report needs beyond it: passages cited (and holding evidence), answer length."""
    out = evaluate.score(row, answer) | {"answer_chars": len(answer.answer)}
    if row.get("kind") != "unanswerable":
        ev = row.get("evidence") or []
        holds = lambda text: any(evaluate._contains(text, e) for e in ev)  # noqa: E731 — evaluate's own rule
        out["cited"] = len(answer.citations)
        out["cited_with_evidence"] = sum(holds(c.text) for c in answer.citations)
        out["quotes_with_evidence"] = sum(holds(c.quote) for c in answer.citations)
    return out


def summarize(rows: list[dict], latencies_ms: list[float], quotes: bool) -> dict:
    """evaluate.summarize under the report's names, with citation precision and latency over every round."""
    m = evaluate.summarize(rows)
    out = {new: m[old] for old, new in SUMMARY_KEYS.items()}
    ans = [r for r in rows if r["kind"] != "unanswerable"]
    cited = sum(r.get("cited", 0) for r in ans)
    out |= {"citation_precision": round(sum(r["cited_with_evidence"] for r in ans) / cited, 4) if cited else None,
            "cited_per_answer": round(cited / len(ans), 2) if ans else None,
            "correct": sum(bool(r["correct"]) for r in rows),
            "answer_chars_p50": statistics.median(r["answer_chars"] for r in rows) if rows else None,
            "latency_p50_ms": _r(pct(latencies_ms, 50)), "latency_p95_ms": _r(pct(latencies_ms, 95)),
            "latency_samples": len(latencies_ms)}
    if quotes:  # ours quotes sentences; the baseline's quote is its whole chunk (= citation precision)
        out["quote_precision"] = round(sum(r["quotes_with_evidence"] for r in ans) / cited, 4) if cited else None
    return out


def eval_dev(qa: list[dict], bot, base: Baseline, rounds: int) -> dict:
    """Every dev question through both pipelines, interleaved (so machine load hits both alike)."""
    bot.ask(WARM_UP_QUESTION)
    base.answer(WARM_UP_QUESTION)
    per = {"ours": [], "baseline": []}
    lat = {"ours": [], "baseline": []}
    parts = {"retrieve": [], "answer": []}  # ours: Answer.timings_ms
    first_chunk = []
    for rnd in range(max(rounds, 1)):
        for row in qa:
            t = time.perf_counter()
            a = bot.ask(row["question"])
            lat["ours"].append((time.perf_counter() - t) * 1000)
            for k in parts:
                parts[k].append(a.timings_ms.get(k, 0.0))
            t = time.perf_counter()
            b = base.answer(row["question"])
            lat["baseline"].append((time.perf_counter() - t) * 1000)
            if rnd == 0:
                per["ours"].append(score(row, a) | {"answer": a.answer[:300], "latency_ms": _r(lat["ours"][-1])})
                b_ans = as_answer(row["question"], b["docs"], latency_ms=lat["baseline"][-1])
                first = evaluate.score(row, as_answer(row["question"], b["docs"], n_context=1))
                per["baseline"].append(score(row, b_ans) | {"latency_ms": _r(lat["baseline"][-1]),
                                                            "figures_ok_first_chunk": first.get("figures_ok"),
                                                            "correct_first_chunk": first["correct"]})
                first_chunk.append(first)
    ours = summarize(per["ours"], lat["ours"], quotes=True) | {f"{k}_p50_ms": _r(pct(v, 50)) for k, v in parts.items()}
    base_sum = summarize(per["baseline"], lat["baseline"], quotes=False)
    base_sum["figure_accuracy_first_chunk"] = evaluate.summarize(first_chunk)["figures_in_answer"]
    base_sum["correct_first_chunk"] = sum(bool(r["correct"]) for r in first_chunk)
    return {"ours": ours, "baseline": base_sum, "rows": per}


# --- sections ----------------------------------------------------------------------------------
def section_seeds(work: Path, emb, qa: list[dict], rounds: int) -> dict:
    """dev_qa on the five seed articles (the corpus the questions were written for)."""
    from assistant.app.pipeline import Assistant

    d = work / "seeds"
    copy_seeds(d / "corpus")
    log("seeds: building ours and the baseline on the five seed articles")
    ours_build = build_ours(d, emb)
    shutil.rmtree(d / "baseline", ignore_errors=True)
    base = Baseline(emb, d / "baseline")
    base_build = base.build(d / "corpus")
    base_build.pop("texts")
    log(f"seeds: {len(qa)} dev questions x {rounds} round(s)")
    res = eval_dev(qa, Assistant(our_settings(d)), base, rounds)
    res["build"] = {"ours": ours_build, "baseline": base_build}
    res["index_bytes"] = {"ours": dir_bytes(d / "index"), "baseline": dir_bytes(d / "baseline")}
    return res


def section_xquad(work: Path, emb, limit: int | None) -> dict:
    """XQuAD-vi: ours through benchmarks.xquad_eval, the baseline on the very files it wrote, same scoring."""
    from assistant.app.pipeline import Assistant
    from assistant.vi.textnorm import fold

    d = work / "xquad"
    shutil.rmtree(d / "index", ignore_errors=True)
    log(f"xquad: ours (benchmarks.xquad_eval, {limit or 'all'} questions)")
    ours = xquad_eval.run(limit, workdir=d)
    _docs, queries = xquad_eval.load(limit)
    log("xquad: baseline")
    shutil.rmtree(d / "baseline", ignore_errors=True)
    base = Baseline(emb, d / "baseline")
    build = base.build(d / "corpus")
    base.answer(WARM_UP_QUESTION)
    ranks, lat = [], []
    in_ctx = in_first = 0
    for q in queries:
        t = time.perf_counter()
        docs = base.retrieve(q["question"], k=XQUAD_BASE_FETCH)
        ctx = "\n\n".join(x.page_content for x in docs[:CONTEXT])
        lat.append((time.perf_counter() - t) * 1000)
        ranked = list(dict.fromkeys(Path(x.metadata["source"]).stem for x in docs))  # distinct paragraphs in order
        ranks.append(xquad_eval.gold_rank(ranked, q))
        in_ctx += any(fold(a) in fold(ctx) for a in q["answers"])
        in_first += bool(docs) and any(fold(a) in fold(docs[0].page_content) for a in q["answers"])
    n = len(queries)
    # Retrieval latency of both, interleaved question by question (the loops above ran at different moments).
    bot = Assistant(our_settings(d, k=XQUAD_K, max_chunks_per_article=1))
    bot.retriever.search(WARM_UP_QUESTION, k=XQUAD_K)
    lat_o, lat_b = [], []
    for q in queries:
        t = time.perf_counter()
        bot.retriever.search(q["question"], k=XQUAD_K)
        lat_o.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        base.retrieve(q["question"], k=XQUAD_BASE_FETCH)
        lat_b.append((time.perf_counter() - t) * 1000)
    interleaved = {"ours_p50_ms": _r(pct(lat_o, 50)), "ours_p95_ms": _r(pct(lat_o, 95)),
                   "baseline_p50_ms": _r(pct(lat_b, 50)), "baseline_p95_ms": _r(pct(lat_b, 95))}
    baseline = {"questions": n, "paragraphs": build["documents"], "build_seconds": round(build["seconds"], 1),
                "chunks": build["chunks"], **xquad_eval.rank_metrics(ranks),
                "answer_in_extractive": round(in_ctx / n, 4), "answer_in_first_chunk": round(in_first / n, 4),
                "retrieve_p50_ms": _r(pct(lat, 50)), "retrieve_p95_ms": _r(pct(lat, 95))}
    return {"ours": ours, "baseline": baseline, "retrieve_latency_interleaved": interleaved}


def _throughput(who: dict, build: dict, texts: list[str], emb) -> dict:
    """Raw encode of exactly the texts a build embedded, against that build's time."""
    log(f"raw encode of {len(texts)} chunk texts")
    with Stopwatch() as sw:
        emb.encode_passages(texts)
    v = {"chunks": len(texts), "build_s": build["seconds"], "encode_s": round(sw.seconds, 3),
         "build_cpu_s": build["cpu_s"], "encode_cpu_s": round(sw.cpu, 3), "encode_s_inside": build["encode_s_inside"],
         "tokens": sum(emb.token_count(t) for t in texts)} | who
    v["encode_share_of_build"] = round(v["encode_s_inside"] / v["build_s"], 3)
    v["build_chunks_per_s"] = round(v["chunks"] / v["build_s"], 2)
    v["encode_chunks_per_s"] = round(v["chunks"] / v["encode_s"], 2)
    v["ratio"] = round(v["build_chunks_per_s"] / v["encode_chunks_per_s"], 3)
    v["ratio_cpu"] = round(v["encode_cpu_s"] / v["build_cpu_s"], 3)
    return v


def _measure_size(d: Path, size: int, emb, qa: list[dict], rounds: int, first: bool) -> tuple[dict, dict | None]:
    """One scale size: both builds, index sizes, the dev questions; the raw-encode throughput on the first size."""
    from assistant.app.pipeline import Assistant

    corpus = d / "corpus"
    copy_seeds(corpus)
    write_baomoi(load_baomoi(size), corpus)
    n_articles = sum(1 for p in corpus.iterdir() if p.suffix in (".md", ".txt"))
    log(f"scale {size}: ours, full build of {n_articles} articles")
    ours_build = build_ours(d, emb)
    tp = {"ours": _throughput({}, ours_build, our_chunk_texts(d), emb)} if first else None
    log(f"scale {size}: baseline build")
    shutil.rmtree(d / "baseline", ignore_errors=True)
    base = Baseline(emb, d / "baseline")
    base_build = base.build(corpus)
    texts = base_build.pop("texts")
    if tp is not None:
        tp["baseline"] = _throughput({}, base_build, texts, emb)
        tp["articles"] = n_articles
    res: dict = {"articles": n_articles, "build": {"ours": ours_build, "baseline": base_build},
                 "index_bytes": {"ours": dir_bytes(d / "index"), "baseline": dir_bytes(d / "baseline")}}
    chroma_b = dir_bytes(d / "index" / "chroma")
    res["index_bytes_ours_split"] = {"chroma": chroma_b, "catalog_fts5": res["index_bytes"]["ours"] - chroma_b}
    log(f"scale {size}: dev questions x {rounds} round(s)")
    dev = eval_dev(qa, Assistant(our_settings(d)), base, rounds)
    res["dev"] = {k: dev[k] for k in ("ours", "baseline")}
    res["dev_rows"] = dev["rows"]
    return res, tp


def section_scale(work: Path, emb, qa: list[dict], sizes: list[int], rounds: int, budget_s: float | None,
                  t_start: float, reuse: bool) -> dict:
    """Seeds mixed into N baomoi articles: build time, size, query latency, dev answers still right.

    A size that would not fit in the time budget (at the seconds per article measured so far) is
    estimated instead of built.
    """
    out: dict = {"sizes": {}, "throughput": None}
    rate: dict[str, float] | None = None  # seconds per article of each build, from the last size measured
    for i, size in enumerate(sizes):
        d = work / f"scale-{size}"
        cached = d / "result.json"
        if reuse and cached.is_file():
            res = json.loads(cached.read_text()) | {"reused": True}
            tp = res.pop("throughput", None)
            if tp is not None and i == 0:
                out["throughput"] = tp
            log(f"scale {size}: reusing {cached}")
        else:
            if budget_s is not None and rate is not None:
                est = sum(rate.values()) * (size + SCALE_SEEDS)
                left = budget_s - (time.perf_counter() - t_start)
                if est > left:
                    log(f"scale {size}: skipped (estimated {est / 60:.0f} min for both builds, {left / 60:.0f} min left)")
                    out["sizes"][str(size)] = {"articles": size + SCALE_SEEDS, "estimated_only": True}
                    continue
            res, tp = _measure_size(d, size, emb, qa, rounds, first=i == 0)
            if tp is not None:
                out["throughput"] = tp
            if reuse or budget_s is not None:
                cached.write_text(json.dumps(res | ({"throughput": tp} if tp else {}), ensure_ascii=False))
        out["sizes"][str(size)] = res
        rate = {k: res["build"][k]["seconds"] / res["articles"] for k in ("ours", "baseline")}
    for res in out["sizes"].values():  # estimates for the sizes not built, at the last measured rate
        if res.get("estimated_only") and rate:
            res["estimated_build_s"] = {k: round(v * res["articles"], 1) for k, v in rate.items()}
    return out


def app_memory(folder: Path, questions: list[str], logdir: Path) -> dict:
    """Start app.py on a free port with a built index, ask via gradio_client, read its peak RSS (VmHWM)."""
    from gradio_client import Client

    from ..load import child_env as app_env

    env = app_env() | {"ASSISTANT_BACKEND": "extractive"}
    try:
        with App(folder / "corpus", folder / "index", env, logdir / f"app-{folder.name}.log",
                 startup_timeout=APP_MEMORY_STARTUP_S) as app:
            client = Client(app.url, verbose=False)
            lat = []
            for q in questions:
                t = time.perf_counter()
                client.predict(q, api_name="/ask")
                lat.append((time.perf_counter() - t) * 1000)
            rss = {"peak_rss_mb": _r(app.peak_rss_mb()), "ready_s": round(app.started_s, 1), "questions": len(lat),
                   "api_latency_p50_ms": _r(pct(lat, 50)), "first_api_call_ms": _r(lat[0]) if lat else None}
            try:
                import psutil

                from ..processes import peak_rss_mb

                kids = psutil.Process(app.proc.pid).children(recursive=True)
                rss["children"] = len(kids)
                rss["children_peak_rss_mb"] = _r(sum(peak_rss_mb(k.pid) or 0 for k in kids))
            except Exception:  # the children left: the main process is what counts
                pass
            return rss
    except (RuntimeError, TimeoutError) as exc:
        return {"error": str(exc).splitlines()[0]}


def probe_memory(kind: str, folder: Path, qfile: Path) -> dict:
    """Peak RSS of a fresh process running one pipeline without UI (benchmarks.rss_probe)."""
    cmd = [sys.executable, "-m", "benchmarks.rss_probe", kind, "--questions", str(qfile)]
    cmd += ["--index", str(folder / "index")] if kind == "ours" else ["--persist", str(folder / "baseline")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
                          env=child_env(ASSISTANT_BACKEND="extractive", ASSISTANT_CHROMA_URL=""))
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": proc.stderr[-800:]}


def section_memory(work: Path, folders: list[Path], qa: list[dict]) -> dict:
    """Peak memory of the app, of our pipeline without UI and of the baseline, each in a fresh process."""
    questions = [r["question"] for r in qa[:APP_QUESTIONS]]
    qfile = work / "rss_questions.txt"
    qfile.write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = {}
    for folder in folders:
        log(f"memory: app.py, our core and the baseline in fresh processes on {folder.name}")
        out[folder.name] = {"app": app_memory(folder, questions, work),
                            "ours_core": probe_memory("ours", folder, qfile),
                            "baseline": probe_memory("baseline", folder, qfile)}
    return out


def section_setup(given: Path | None, skip: bool) -> dict:
    """Time scripts/setup.sh in fresh clones: cold (empty uv and pip caches), warm (caches filled), no-op."""
    if given:
        return json.loads(given.read_text()) | {"source": str(given)}
    if skip:
        return {"skipped": True}
    root = Path(tempfile.mkdtemp(prefix="setup-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_CACHE_DIR")}
    env |= {"UV_CACHE_DIR": str(root / "cache" / "uv"), "PIP_CACHE_DIR": str(root / "cache" / "pip"), "CI": "true"}
    out: dict = {}
    try:
        for label in ("cold", "warm"):
            clone = root / label
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            log(f"setup: {label} scripts/setup.sh in {clone}")
            with Stopwatch() as sw:
                p = subprocess.run(["bash", "scripts/setup.sh"], cwd=clone, env=env, capture_output=True, text=True)
            out[f"{label}_s"] = round(sw.seconds, 1)
            if p.returncode:
                out[f"{label}_error"] = p.stderr[-800:]
        with Stopwatch() as sw:
            subprocess.run(["bash", "scripts/setup.sh"], cwd=root / "warm", env=env, capture_output=True)
        out["noop_s"] = round(sw.seconds, 1)
        out["cache_mb"] = round(dir_bytes(root / "cache") / 1e6)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out
