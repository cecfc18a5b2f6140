"""Serving-path latency and memory (issue 13, points 3, 5 and 7), each part side by side in one run.

    .venv/bin/python -m benchmarks.api_latency queries --index DIR [--rounds 5] [--json OUT]
    .venv/bin/python -m benchmarks.api_latency reopen  --index DIR [--reopens 50] [--json OUT]
    .venv/bin/python -m benchmarks.api_latency model   [--repeats 2] [--json OUT]
    .venv/bin/python -m benchmarks.api_latency api     --index DIR --corpus DIR [--rounds 30] [--clients 16] [--json OUT]

queries: retrieval candidates fetched the old way (commit 5141bc3: a `count()` before each Chroma
  query, one query for the question plus one per named province, three catalog reads) against
  today's `HybridRetriever.search` (one wide Chroma query, one catalog read) and the `$in`
  alternative (the question's query plus one `where province $in [...]` query), interleaved per
  question, on dev_qa's questions and province questions written from the index's own articles.
  Reports p50/p95 of the whole search (query encoding included) and of the candidate fetch alone
  (wall and CPU time: CPU time moves less when other processes take the cores), the Chroma calls per
  question, whether the top-k hits equal the old ones (ids in order; and with equal fused scores: a
  filtered HNSW query and an unfiltered one can return different near-ties), and dev_qa's
  evidence_top1/top5/MRR for each.
reopen: RSS of one process while its vector store reopens N times (each followed by a query): the old
  connection left open (the old behaviour), closed, and closed with glibc's freed memory handed back
  (today), each in a fresh process.
model: peak RSS and load time of the embedder loaded straight in bf16 (today) and loaded in fp32 then
  cast (the old path), each in a fresh process; the vectors of both are compared.
api: the real app (`python app.py`, FastAPI + Gradio) on the given index: `POST /api/ask` p50 against
  an in-process `Service.ask` p50 and Gradio's `/ask` p50 (interleaved), then `--clients` concurrent
  clients on `/api/ask`: errors and throughput against one client.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import Stopwatch, log, machine_info, pct, table
from .processes import ROOT, child_env, free_port, peak_rss_mb, post_json, rss_now_mb, stop_process, wait_http

DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
# Province questions written from the index's articles: templates a reader of provincial news asks.
TEMPLATES = ("{p} có bao nhiêu doanh nghiệp công nghệ số?", "Kinh tế số của {p} chiếm bao nhiêu phần trăm GRDP?",
             "Chuyển đổi số ở {p} đạt kết quả gì?")
COMPARE = "So sánh chính quyền số của {p} và {q}."


def _settings(index: Path, corpus: Path | None = None):
    from assistant.config import Settings

    return Settings.from_env(index_dir=index, **({"corpus_dir": corpus} if corpus else {}))


def _ms(values: list[float]) -> dict:
    return {"p50_ms": round(pct(values, 50), 2), "p95_ms": round(pct(values, 95), 2), "n": len(values)}


# --- queries ----------------------------------------------------------------------------------------------
def _legacy_query(store, vector, k: int, where: dict | None = None) -> list[tuple[str, float]]:
    """VectorStore.query of commit 5141bc3: a count() round trip, then the query."""
    col = store.collection
    n = min(k, max(col.count(), 0))
    if n == 0:
        return []
    res = col.query(query_embeddings=[list(map(float, vector))], n_results=n, where=where, include=["distances"])
    return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]


def _fetch_legacy(reader, q, qvec, n, m, asked):
    """The candidate fetch of commit 5141bc3 (1 + len(asked) queries, each after a count; three catalog reads)."""
    cat = reader.catalog
    dense_ids = _legacy_query(reader.store, qvec, n)
    for p in asked:
        dense_ids += _legacy_query(reader.store, qvec, m, where={"province": p})
    recs = cat.chunks_by_id(list(dict.fromkeys(cid for cid, _ in dense_ids)))
    dense = [(recs[cid], s) for cid, s in dense_ids if cid in recs]
    return dense, cat.keyword_search(q, n), 2 * (1 + len(asked))


def _fetch_in(reader, q, qvec, n, m, asked):
    """The `$in` alternative: the question's query, plus one query filtered on every named province at once."""
    found = reader.store.query(qvec, n)
    calls = 1
    if asked:
        where = {"province": asked[0]} if len(asked) == 1 else {"province": {"$in": list(asked)}}
        found += reader.store.query(qvec, m * len(asked), where=where)
        calls += 1
    recs, keyword = reader.catalog.candidates(q, list(dict.fromkeys(cid for cid, _ in found)), n)
    return [(recs[cid], s) for cid, s in found if cid in recs], keyword, calls


def _fetch_lean(reader, q, qvec, n, m, asked):
    """Today's fetch (assistant.retrieve.retriever._candidates), counting its Chroma calls."""
    from assistant.retrieve import retriever as R

    calls = [0]
    real = reader.store.query

    def counted(*a, **kw):
        calls[0] += 1
        return real(*a, **kw)

    reader.store.query = counted
    try:
        dense, keyword = R._candidates(reader, q, qvec, n, m, asked)
    finally:
        del reader.store.query
    return dense, keyword, calls[0]


FETCHES = {"old (count + 1 query per province)": _fetch_legacy, "$in (2 queries)": _fetch_in,
           "today (1 wide query)": _fetch_lean}


def _search(retriever, fetch, q: str, asked: list[str], k: int, qvec=None):
    """HybridRetriever.search with a given candidate fetch; returns (hits, Chroma calls, fetch seconds)."""
    from assistant.retrieve import retriever as R

    reader = retriever.reader
    reader.refresh()
    n = max(R.CANDIDATES, 4 * k)
    qvec = reader.embeddings.encode_queries([q])[0] if qvec is None else qvec
    t, c = time.perf_counter(), time.process_time()
    dense, keyword, calls = fetch(reader, q, qvec, n, max(R.PER_PROVINCE_CANDIDATES, 2 * k), asked)
    fetch_s, fetch_cpu = time.perf_counter() - t, time.process_time() - c
    ranked = retriever.fusion.run(dense, keyword, asked)
    return R._diversify(ranked, k, retriever.max_per_article, asked), calls, (fetch_s, fetch_cpu)


def _questions(reader) -> list[dict]:
    from assistant.vi.question import analyze
    from assistant.vi.textnorm import normalize_question

    rows = [json.loads(line) for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = [{"q": r["question"], "dev": r} for r in rows]
    provinces = [p for p in reader.catalog.provinces()]
    counts = {p: n for p, n in reader.catalog.conn.execute(
        "SELECT province, count(*) FROM articles WHERE province != '' GROUP BY province")}
    common = sorted(provinces, key=lambda p: (-counts.get(p, 0), p))
    picked = common[:6] + common[len(common) // 2:len(common) // 2 + 3] + common[-3:]  # many, some, few articles
    for i, p in enumerate(picked):
        out.append({"q": TEMPLATES[i % len(TEMPLATES)].format(p=p)})
    for p, q2 in zip(picked[0::2], picked[1::2]):
        out.append({"q": COMPARE.format(p=p, q=q2)})
    for r in out:
        r["q"] = normalize_question(r["q"])
        r["asked"] = list(analyze(r["q"], normalized=True).provinces)
    return out


def run_queries(args) -> dict:
    from assistant.app.evaluate import _contains
    from assistant.retrieve.retriever import HybridRetriever

    settings = _settings(args.index)
    retriever = HybridRetriever.from_settings(settings)
    reader = retriever.reader
    k = settings.k
    qs = _questions(reader)
    chunks = reader.catalog.count_chunks()
    log(f"queries: {len(qs)} questions on {args.index} ({chunks} chunks), {args.rounds} rounds")
    for r in qs:  # warm-up: the model, the store and the catalog pages
        _search(retriever, _fetch_lean, r["q"], r["asked"], k)
    total = {name: [] for name in FETCHES}
    fetch = {name: [] for name in FETCHES}
    fetch_cpu = {name: [] for name in FETCHES}
    calls = {name: [] for name in FETCHES}
    hits = {name: [] for name in FETCHES}
    names = list(FETCHES)
    for rnd in range(args.rounds):
        for i, r in enumerate(qs):
            order = names[(i + rnd) % len(names):] + names[:(i + rnd) % len(names)]  # rotate who goes first
            for name in order:
                t = time.perf_counter()
                got, c, f = _search(retriever, FETCHES[name], r["q"], r["asked"], k)
                total[name].append((time.perf_counter() - t) * 1000)
                fetch[name].append(f[0] * 1000)
                fetch_cpu[name].append(f[1] * 1000)
                if rnd == 0:
                    calls[name].append(c)
                    hits[name].append(got)
    old = names[0]
    result = {"index": str(args.index), "chunks": chunks, "questions": len(qs),
              "with_provinces": sum(1 for r in qs if r["asked"]), "rounds": args.rounds, "variants": {}}
    for name in names:
        same = [[h.chunk.chunk_id for h in a] == [h.chunk.chunk_id for h in b] for a, b in zip(hits[name], hits[old])]
        exact = [[(h.chunk.chunk_id, round(h.score, 9)) for h in a] == [(h.chunk.chunk_id, round(h.score, 9)) for h in b]
                 for a, b in zip(hits[name], hits[old])]
        dev = [(r["dev"], h) for r, h in zip(qs, hits[name]) if "dev" in r and r["dev"].get("kind") != "unanswerable"]
        ranks = []
        for row, hs in dev:
            ev = (row.get("evidence") or [None])[0]
            if ev is None:
                continue
            ranks.append(next((i for i, h in enumerate(hs) if _contains(h.chunk.text, ev)), None))
        top5 = []
        for row, hs in dev:
            evs = row.get("evidence") or []
            if evs:
                top5.append(all(any(_contains(h.chunk.text, e) for h in hs[:5]) for e in evs))
        result["variants"][name] = {
            "search": _ms(total[name]), "fetch": _ms(fetch[name]), "fetch_cpu": _ms(fetch_cpu[name]),
            "chroma_calls_mean": round(statistics.fmean(calls[name]), 2), "chroma_calls_max": max(calls[name]),
            "same_hits_as_old": f"{sum(same)}/{len(same)}", "same_scores_as_old": f"{sum(exact)}/{len(exact)}",
            "dev_evidence_top1": round(sum(1 for x in ranks if x == 0) / len(ranks), 4),
            "dev_evidence_top5": round(sum(top5) / len(top5), 4),
            "dev_mrr": round(statistics.fmean(1 / (x + 1) if x is not None else 0.0 for x in ranks), 4)}
    base = result["variants"][old]
    for v in result["variants"].values():
        v["search_p50_vs_old"] = round(v["search"]["p50_ms"] / base["search"]["p50_ms"], 3)
        v["fetch_p50_vs_old"] = round(v["fetch"]["p50_ms"] / base["fetch"]["p50_ms"], 3)
        v["fetch_cpu_p50_vs_old"] = round(v["fetch_cpu"]["p50_ms"] / base["fetch_cpu"]["p50_ms"], 3)
    reader.close()
    return result


def report_queries(r: dict) -> str:
    rows = [[name, v["search"]["p50_ms"], v["search"]["p95_ms"], v["search_p50_vs_old"], v["fetch"]["p50_ms"],
             v["fetch_p50_vs_old"], v["fetch_cpu"]["p50_ms"], v["fetch_cpu_p50_vs_old"], v["chroma_calls_mean"], v["same_hits_as_old"], v["same_scores_as_old"], v["dev_evidence_top1"],
             v["dev_evidence_top5"], v["dev_mrr"]] for name, v in r["variants"].items()]
    return (f"{r['questions']} questions ({r['with_provinces']} name provinces) x {r['rounds']} rounds on "
            f"{r['chunks']} chunks\n" + table(rows, ["candidate fetch", "search p50 ms", "p95 ms", "p50 vs old",
                                                  "fetch p50 ms", "fetch vs old", "fetch CPU p50 ms",
                                                  "CPU vs old", "Chroma calls", "same top-k ids",
                                                  "same scores",
                                                  "dev top1", "dev top5", "dev MRR"]))


# --- reopen ------------------------------------------------------------------------------------------------
REOPEN_MODES = {"old": "left open, no trim (the old behaviour)", "close": "closed, no malloc_trim",
                "today": "closed + malloc_trim (today)"}


def reopen_child(index: Path, reopens: int, mode: str) -> dict:
    """In this (fresh) process: open the store, query, then `reopens` x (reopen + query); RSS before/after."""
    import numpy as np

    from assistant.indexing import vectorstore
    from assistant.indexing.embed.embeddings import fingerprint_for

    if mode == "old":  # a reopen dropped the old engine from Chroma's cache but never stopped it
        vectorstore._Handle.close = lambda self: None
    if mode in ("old", "close"):
        vectorstore._release_freed_memory = lambda: None
    settings = _settings(index)
    store = vectorstore.VectorStore.open(settings, fingerprint_for(settings))
    vec = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    for _ in range(3):
        store.query(vec, 40)
    start = rss_now_mb()
    samples = []
    with Stopwatch() as sw:
        for i in range(reopens):
            store.reopen()
            store.query(vec, 40)
            samples.append(rss_now_mb())
    return {"mode": mode, "reopens": reopens, "rss_start_mb": round(start, 1),
            "rss_end_mb": round(samples[-1], 1), "growth_mb": round(samples[-1] - start, 1),
            "growth_pct": round(100 * (samples[-1] - start) / start, 1),
            "mb_per_reopen": round((samples[-1] - start) / reopens, 2), "seconds": round(sw.seconds, 2),
            "connections_closed": store.closed_connections}


def run_reopen(args) -> dict:
    out = {"index": str(args.index), "runs": []}
    for mode in REOPEN_MODES:
        log(f"reopen: {args.reopens} reopens, old connection {REOPEN_MODES[mode]}")
        proc = subprocess.run([sys.executable, "-m", "benchmarks.api_latency", "_reopen_child", "--index",
                               str(args.index), "--reopens", str(args.reopens), "--mode", mode],
                              cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=1800)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        out["runs"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def report_reopen(r: dict) -> str:
    rows = [[REOPEN_MODES[x["mode"]], x["reopens"], x["rss_start_mb"],
             x["rss_end_mb"], x["growth_mb"], x["growth_pct"], x["mb_per_reopen"]] for x in r["runs"]]
    return table(rows, ["old connection", "reopens", "RSS start MB", "RSS end MB", "growth MB", "growth %",
                        "MB per reopen"])


# --- model -------------------------------------------------------------------------------------------------
def model_child(mode: str, out: Path) -> dict:
    import numpy as np
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from assistant.indexing.embed import embeddings as E

    transformers.logging.set_verbosity_error()
    before = peak_rss_mb()
    t = time.perf_counter()
    settings = _settings(Path("/nonexistent"))
    if mode == "direct":
        model = E._load_model(settings.embedding_model, "bf16")
    else:  # the old path: fp32 load, then a cast (both copies alive at the peak)
        model = SentenceTransformer(settings.embedding_model, device="cpu", local_files_only=True).to(torch.bfloat16)
        model.eval()
    load_s = time.perf_counter() - t
    loaded = peak_rss_mb()
    vecs = model.encode(["query: Tiền Giang xếp hạng DTI thứ mấy?", "passage: Năm 2021, kinh tế số chiếm 8,59% "
                         "GRDP của tỉnh Tiền Giang."] * 16, normalize_embeddings=True)
    np.save(out, np.asarray(vecs, np.float32))
    return {"mode": mode, "dtype": str(next(model.parameters()).dtype), "load_s": round(load_s, 2),
            "peak_before_load_mb": round(before, 1), "peak_after_load_mb": round(loaded, 1),
            "rss_after_encode_mb": round(rss_now_mb(), 1)}


def run_model(args) -> dict:
    import tempfile

    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="api-latency-model-"))
    runs = []
    for rep in range(args.repeats):
        for mode in ("cast", "direct"):
            log(f"model: {mode} load, round {rep + 1}")
            proc = subprocess.run([sys.executable, "-m", "benchmarks.api_latency", "_model_child", mode, str(tmp / mode)],
                                  cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=900)
            if proc.returncode:
                raise SystemExit(proc.stderr[-3000:])
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    a, b = np.load(tmp / "cast.npy"), np.load(tmp / "direct.npy")
    return {"runs": runs, "vectors_max_abs_diff": float(np.abs(a - b).max())}


def report_model(r: dict) -> str:
    rows = [[x["mode"], x["dtype"], x["load_s"], x["peak_before_load_mb"], x["peak_after_load_mb"],
             x["rss_after_encode_mb"]] for x in r["runs"]]
    return (table(rows, ["load", "dtype", "load s", "peak before MB", "peak after load MB", "RSS after encode MB"])
            + f"\nvectors: max |cast - direct| = {r['vectors_max_abs_diff']}")


# --- api ---------------------------------------------------------------------------------------------------
API_QUESTIONS = ["Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
                 "Giá trị tăng thêm của kinh tế số Tiền Giang năm 2021 chiếm bao nhiêu phần trăm GRDP?",
                 "Bến Tre đặt mục tiêu kinh tế số chiếm bao nhiêu phần trăm GRDP năm 2025?",
                 "Năng suất lao động của Tiền Giang và Bến Tre được đặt mục tiêu tăng bao nhiêu mỗi năm?"]


def run_api(args) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    from assistant.app.service import Service

    settings = _settings(args.index, args.corpus)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(args.log or (Path(args.index).parent / "api-latency-app.log"))
    log(f"api: starting app.py on {url} (log {log_path})")
    with open(log_path, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--index",
                                 str(args.index), "--corpus", str(args.corpus)], cwd=ROOT, env=child_env(),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        if not wait_http(f"{url}/api/health", proc):
            raise SystemExit(f"the app did not start:\n{log_path.read_text()[-3000:]}")
        svc = Service(settings)
        gradio = Client(url + "/", verbose=False)
        for q in API_QUESTIONS:  # warm-up of both processes (model, store, catalog pages, Gradio's queue)
            svc.ask(q)
            post_json(f"{url}/api/ask", {"question": q})
            gradio.predict(q, api_name="/ask")
        times = {"in-process Service.ask": [], "POST /api/ask": [], "Gradio /ask": []}
        server_ms = []
        errors = 0
        for rnd in range(args.rounds):
            for i, q in enumerate(API_QUESTIONS):
                order = list(times)
                order = order[(rnd + i) % 3:] + order[:(rnd + i) % 3]
                for name in order:
                    t = time.perf_counter()
                    if name.startswith("in-process"):
                        svc.ask(q)
                    elif name.startswith("POST"):
                        status, body = post_json(f"{url}/api/ask", {"question": q})
                        errors += status != 200
                        server_ms.append(body.get("timings_ms", {}).get("total", 0.0))
                    else:
                        gradio.predict(q, api_name="/ask")
                    times[name].append((time.perf_counter() - t) * 1000)
        result = {"index": str(args.index), "rounds": args.rounds, "questions": len(API_QUESTIONS),
                  "sequential": {name: _ms(v) for name, v in times.items()}, "sequential_errors": errors,
                  "server_total_ms_p50": round(pct(server_ms, 50), 2)}
        base = result["sequential"]["in-process Service.ask"]["p50_ms"]
        for v in result["sequential"].values():
            v["p50_minus_in_process_ms"] = round(v["p50_ms"] - base, 2)

        def burst(clients: int, per_client: int) -> dict:
            outcomes: list[tuple[int, float]] = []

            def one(c: int) -> None:
                for j in range(per_client):
                    q = API_QUESTIONS[(c + j) % len(API_QUESTIONS)]
                    t = time.perf_counter()
                    try:
                        status, body = post_json(f"{url}/api/ask", {"question": q})
                        ok = status == 200 and body.get("question") == q
                    except Exception:
                        ok = False
                    outcomes.append((0 if ok else 1, (time.perf_counter() - t) * 1000))

            with Stopwatch() as sw, ThreadPoolExecutor(clients) as pool:
                list(pool.map(one, range(clients)))
            lat = [x[1] for x in outcomes]
            return {"clients": clients, "requests": len(outcomes), "errors": sum(x[0] for x in outcomes),
                    "seconds": round(sw.seconds, 2), "throughput_rps": round(len(outcomes) / sw.seconds, 2),
                    **_ms(lat)}

        total_requests = args.clients * args.per_client
        log(f"api: 1 client x {total_requests} requests, then {args.clients} clients x {args.per_client}")
        one_client = burst(1, total_requests)
        many = burst(args.clients, args.per_client)
        many["throughput_vs_one_client"] = round(many["throughput_rps"] / one_client["throughput_rps"], 2)
        result["concurrency"] = [one_client, many]
        result["app_rss_mb"] = rss_now_mb(proc.pid)
        result["app_peak_rss_mb"] = peak_rss_mb(proc.pid)
        return result
    finally:
        stop_process(proc)


def report_api(r: dict) -> str:
    rows = [[name, v["p50_ms"], v["p95_ms"], v["p50_minus_in_process_ms"], v["n"]] for name, v in r["sequential"].items()]
    conc = [[c["clients"], c["requests"], c["errors"], c["throughput_rps"], c.get("throughput_vs_one_client", 1.0),
             c["p50_ms"], c["p95_ms"]] for c in r["concurrency"]]
    return (table(rows, ["path", "p50 ms", "p95 ms", "p50 - in-process ms", "requests"])
            + f"\n(server-side total of /api/ask p50: {r['server_total_ms_p50']} ms; errors {r['sequential_errors']})\n\n"
            + table(conc, ["clients", "requests", "errors", "req/s", "vs 1 client", "p50 ms", "p95 ms"])
            + f"\napp RSS {r['app_rss_mb']:.0f} MB, peak {r['app_peak_rss_mb']:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_reopen_child"]:
        p = argparse.ArgumentParser()
        p.add_argument("--index", type=Path)
        p.add_argument("--reopens", type=int)
        p.add_argument("--mode", choices=list(REOPEN_MODES), default="today")
        a = p.parse_args(argv[1:])
        print(json.dumps(reopen_child(a.index, a.reopens, a.mode)))
        return 0
    if argv[:1] == ["_model_child"]:
        print(json.dumps(model_child(argv[1], Path(argv[2]))))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.api_latency", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("part", choices=("queries", "reopen", "model", "api"))
    p.add_argument("--index", type=Path, help="a built index folder")
    p.add_argument("--corpus", type=Path, help="its corpus (api)")
    p.add_argument("--rounds", type=int, default=5, help="rounds over the questions (queries: 5, api: 30)")
    p.add_argument("--reopens", type=int, default=50)
    p.add_argument("--repeats", type=int, default=2, help="model: load rounds per way")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--per-client", type=int, default=8, help="api: requests per concurrent client")
    p.add_argument("--log", type=Path, help="api: the app's log file")
    p.add_argument("--json", type=Path, help="write every number here")
    args = p.parse_args(argv)
    if args.part in ("queries", "reopen", "api") and not args.index:
        p.error(f"{args.part} needs --index")
    if args.part == "api" and not args.corpus:
        p.error("api needs --corpus")
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    run, report = {"queries": (run_queries, report_queries), "reopen": (run_reopen, report_reopen),
                   "model": (run_model, report_model), "api": (run_api, report_api)}[args.part]
    result = run(args)
    result.update(part=args.part, started=started, finished=time.strftime("%Y-%m-%d %H:%M:%S"),
                  machine=machine_info(), command=" ".join(["python", "-m", "benchmarks.api_latency", *argv]))
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
