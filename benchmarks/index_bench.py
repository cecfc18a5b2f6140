"""Index build benchmark (issue 3): full build, raw encode, no-change re-run, add/delete one, growth to 10,000.

    .venv/bin/python -m benchmarks.index_bench [--n 2000] [--scale 10000 [--estimate-only]] [--workdir DIR]
                                               [--json OUT] [--quick] [--ops-only]

On `--n` articles of ../shared/data/baomoi/ written as .txt files (title line, sapo, body) into a
corpus outside the repository, it measures in one process with one loaded model:
  (a) a full build (fresh index folder): seconds and chunks/s, split into encode / Chroma /
      catalog / chunking time;
  (b) the model's raw encode throughput on the SAME chunk texts (`embedding_text` of the
      catalog's chunks, `encode_passages`, same batch size) — once as a single call and once fed
      as the indexer feeds it (length-sorted windows, steps) — and the ratio build/encode (target >= 0.85);
  (c) a re-run with nothing to do (target < 2 s): the CLI `python -m assistant index --quiet` as
      a subprocess (wall time, Python start-up included) and `Indexer.run` in-process;
  (d) adding one article (target < 5 s) and deleting one, via the CLI (a fresh process)
      and in-process with the model already loaded (as the app's rebuild does);
  (e) with `--scale S`: (c) and (d) on an index of S articles (its own corpus under the work
      folder; reuse a built one with `--workdir`), or with `--estimate-only` a linear estimate
      from a 1-article index and the N-article index.
  With `--ops-only` (and the same --workdir/--json) (a)(b) are kept from the earlier run and only
  (c)(d)(e) are measured again, e.g. after a change to the CLI's start-up.
Targets are checked and printed as a table; `--json OUT` writes every number.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import (ROOT, Stopwatch, article_text, baomoi_file_name, child_env, fmt, load_baomoi, log, machine_info, median,
                     spare_baomoi, table, timed_calls, write_baomoi)

TARGET_RATIO = 0.85  # issue 3: full-build throughput at least 85% of the model's own encode throughput
TARGET_NOCHANGE_S = 2.0  # issue 3: a re-run with no change under 2 s at 2,000 articles
TARGET_ADD_S = 5.0  # issue 3: adding one article under 5 s at 2,000 articles
ESTIMATE_AT = 10_000  # issue 3: "say how both grow at 10,000"
DEFAULT_N, QUICK_N = 2000, 200  # issue 3's 2,000 articles; --quick: a tenth, a check that runs in minutes
DEFAULT_REPEATS = 3  # hand-set: no-change runs repeated, the median reported (one slow start-up does not count)
WARM_UP_TEXTS = ["khởi động mô hình"] * 8  # one small batch so the first timed encode is not the model's first call


def _settings(folder: Path):
    from assistant.config import Settings

    return Settings.from_env(corpus_dir=folder / "corpus", index_dir=folder / "index")


def _parse_summary(text: str) -> dict:
    """The `key=value` summary line the CLI prints."""
    for line in reversed(text.strip().splitlines()):
        pairs = dict(re.findall(r"(\w+)=([\d.]+)", line))
        if "added" in pairs:
            return {k: float(v) if "." in v else int(v) for k, v in pairs.items()}
    return {}


def cli_index(folder: Path) -> dict:
    """`python -m assistant index --corpus C --index I --quiet` as a subprocess: wall seconds and summary."""
    cmd = [sys.executable, "-m", "assistant", "index", "--corpus", str(folder / "corpus"),
           "--index", str(folder / "index"), "--quiet"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=child_env())
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return {"wall_s": round(wall, 3), "summary": _parse_summary(proc.stdout), "exit": proc.returncode}


def nochange_loads_model(folder: Path) -> dict:
    """Run a no-change build in a fresh interpreter and report which heavy modules it imported."""
    code = ("import sys, json; from assistant.config import Settings; from assistant.indexing.indexer import Indexer; "
            f"s = Settings.from_env(corpus_dir={str(folder / 'corpus')!r}, index_dir={str(folder / 'index')!r}); "
            "r = Indexer(s, show_progress=False).run(); "
            "print(json.dumps({'torch': 'torch' in sys.modules, 'sentence_transformers': "
            "'sentence_transformers' in sys.modules, 'chromadb': 'chromadb' in sys.modules, 'added': r.added}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env=child_env())
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": proc.stderr[-500:]}


def _breakdown_targets(emb):
    from assistant.indexing.catalog import Catalog
    from assistant.ingest.chunking import Chunker
    from assistant.indexing.vectorstore import VectorStore

    return ([(emb, "encode_passages")] if emb is not None else []) + [(VectorStore, "upsert"), (VectorStore, "delete"), (VectorStore, "ids"),
            (VectorStore, "open"), (Catalog, "replace_article"), (Catalog, "remove_article"), (Catalog, "chunk_ids"),
            (Catalog, "article_state"), (Chunker, "run")]


_PART_NAMES = {"SentenceEmbeddings.encode_passages": "encode", "VectorStore.upsert": "chroma_upsert",
               "VectorStore.delete": "chroma_delete", "VectorStore.ids": "chroma_list_ids (gc sweep)",
               "VectorStore.open": "chroma_open", "Catalog.replace_article": "catalog_write (+FTS5)",
               "Catalog.remove_article": "catalog_remove", "Catalog.chunk_ids": "catalog_chunk_ids (gc sweep)",
               "Catalog.article_state": "catalog_article_state", "Chunker.run": "chunking (tokenizer)"}


def _named(parts: dict[str, float], total: float) -> dict[str, float]:
    out = {_PART_NAMES.get(k, k): round(v, 3) for k, v in parts.items() if v > 0}
    out["other"] = round(max(total - sum(parts.values()), 0.0), 3)
    return out


def inprocess_index(folder: Path, emb=None, *, full: bool = False) -> dict:
    """`Indexer.run` in this process (model shared when `emb` is given), with a time breakdown."""
    from assistant.indexing.indexer import Indexer

    with timed_calls(_breakdown_targets(emb)) as parts, Stopwatch() as sw:
        summary = Indexer(_settings(folder), embeddings=emb, show_progress=False).run(full=full)
    if summary.errors:
        log(f"{len(summary.errors)} article errors, e.g. {summary.errors[0]}")
    return {"seconds": round(sw.seconds, 3), "cpu_s": round(sw.cpu, 3),
            "summary": summary.to_dict() | {"errors": len(summary.errors)},
            "breakdown_s": _named(parts, sw.seconds)}


def measure_ops(folder: Path, emb, spares: list[dict], repeats: int) -> dict:
    """No-change (CLI and in-process), add one and delete one (CLI, then in-process) on a built index."""
    corpus = folder / "corpus"
    if any((corpus / baomoi_file_name(r)).exists() for r in spares[:2]):
        for r in spares[:2]:  # left by an interrupted earlier run in the same --workdir
            (corpus / baomoi_file_name(r)).unlink(missing_ok=True)
        inprocess_index(folder, emb)
    out: dict = {"articles": sum(1 for p in corpus.iterdir() if p.suffix in (".txt", ".md"))}
    log(f"  no-change re-runs on {out['articles']} articles")
    cli = [cli_index(folder) for _ in range(repeats)]
    inproc = [inprocess_index(folder) for _ in range(repeats)]
    out["nochange_cli_s"] = [r["wall_s"] for r in cli]
    out["nochange_cli_summary"] = cli[-1]["summary"]
    out["nochange_inprocess_s"] = [r["seconds"] for r in inproc]
    out["nochange_inprocess_breakdown_s"] = inproc[-1]["breakdown_s"]
    out["nochange_imports"] = nochange_loads_model(folder)

    a, b = (corpus / baomoi_file_name(spares[0])), (corpus / baomoi_file_name(spares[1]))
    log("  add one article (CLI, then in-process)")
    a.write_text(article_text(spares[0]), encoding="utf-8")
    r = cli_index(folder)
    out["add_cli_s"], out["add_cli_summary"] = r["wall_s"], r["summary"]
    b.write_text(article_text(spares[1]), encoding="utf-8")
    r = inprocess_index(folder, emb)
    out["add_inprocess_s"], out["add_inprocess_summary"] = r["seconds"], r["summary"]
    out["add_inprocess_breakdown_s"] = r["breakdown_s"]
    log("  delete one article (CLI, then in-process)")
    a.unlink()
    r = cli_index(folder)
    out["delete_cli_s"], out["delete_cli_summary"] = r["wall_s"], r["summary"]
    b.unlink()
    r = inprocess_index(folder, emb)
    out["delete_inprocess_s"], out["delete_inprocess_summary"] = r["seconds"], r["summary"]
    out["delete_inprocess_breakdown_s"] = r["breakdown_s"]
    return out


OP_KEYS = ("nochange_cli_s", "nochange_inprocess_s", "add_cli_s", "add_inprocess_s", "delete_cli_s",
           "delete_inprocess_s")


def _op_value(ops: dict, key: str) -> float:
    v = ops[key]
    return float(median(v)) if isinstance(v, list) else float(v)


def _gc_s(ops: dict, op: str) -> float:
    b = ops[f"{op}_inprocess_breakdown_s"]
    return sum(v for k, v in b.items() if "gc sweep" in k)


def extrapolate(small: dict, big: dict, size: int) -> dict:
    """Estimate each operation at `size` articles from the 1-article and the N-article measurements.

    Only the parts that grow with the index are scaled: the corpus scan of a no-change run
    (in-process no-change time, 1 -> N) and, for add/delete, any garbage-collection sweep over
    every vector and chunk id (timed; zero when the indexer skips it). Chroma's own per-insert
    cost (HNSW, log n) is not scaled. est(size) = measured(N) + growth per article x (size - N).
    The fixed parts (Python start-up, model load, encoding the one article) stay as measured at N.
    """
    n0, n1 = small["articles"], big["articles"]
    dn = max(n1 - n0, 1)
    scan = max((_op_value(big, "nochange_inprocess_s") - _op_value(small, "nochange_inprocess_s")) / dn, 0.0)
    growth = {"nochange": scan,
              "add": scan + max((_gc_s(big, "add") - _gc_s(small, "add")) / dn, 0.0),
              "delete": scan + max((_gc_s(big, "delete") - _gc_s(small, "delete")) / dn, 0.0)}
    est: dict = {"growth_ms_per_1000_articles": {k: round(v * 1e6, 1) for k, v in growth.items()}}
    for key in OP_KEYS:
        g = growth[key.split("_")[0]]
        est[key] = round(_op_value(big, key) + g * (size - n1), 3)
    return est


def build_and_encode(folder: Path, rows: list[dict], emb, batch_steps: bool = True) -> dict:
    """(a) a fresh full build, then (b) raw encode of the same chunk texts."""
    from assistant.indexing.catalog import Catalog
    from assistant.indexing.indexer import EMBED_STEP, EMBED_WINDOW, embedding_text

    index = folder / "index"
    if index.exists():
        shutil.rmtree(index)  # a fresh build, not an update (the folder is ours: under the work folder)
    write_baomoi(rows, folder / "corpus")
    log(f"(a) full build of {len(rows)} articles")
    build = inprocess_index(folder, emb, full=True)
    chunks = build["summary"]["chunks"]
    out = {"articles": len(rows), "chunks": chunks, "chunks_per_article": round(chunks / max(len(rows), 1), 3),
           "build_s": build["seconds"], "build_cpu_s": build["cpu_s"],
           "build_chunks_per_s": round(chunks / build["seconds"], 2),
           "build_breakdown_s": build["breakdown_s"], "build_summary": build["summary"]}
    cat = Catalog(index, create=False)
    try:
        texts = [embedding_text(c.title, c.text) for c in cat.iter_chunks()]
    finally:
        cat.close()
    out["catalog_chunks"] = len(texts)
    log(f"(b) raw encode of the same {len(texts)} chunk texts (one call, batch {emb.batch_size})")
    with Stopwatch() as sw:
        emb.encode_passages(texts)
    out["encode_s"] = round(sw.seconds, 3)
    out["encode_cpu_s"] = round(sw.cpu, 3)
    out["encode_chunks_per_s"] = round(len(texts) / sw.seconds, 2)
    out["ratio_build_vs_encode"] = round(out["build_chunks_per_s"] / out["encode_chunks_per_s"], 3)
    out["ratio_build_vs_encode_cpu"] = round(out["encode_cpu_s"] / out["build_cpu_s"], 3)
    if batch_steps:
        log(f"    ... and as the indexer feeds it: windows of {EMBED_WINDOW} sorted by length, steps of {EMBED_STEP}")
        with Stopwatch() as sw:
            for w in range(0, len(texts), EMBED_WINDOW):
                window = sorted(texts[w:w + EMBED_WINDOW], key=len)
                for i in range(0, len(window), EMBED_STEP):
                    emb.encode_passages(window[i:i + EMBED_STEP])
        out["encode_steps_s"] = round(sw.seconds, 3)
        out["encode_steps_cpu_s"] = round(sw.cpu, 3)
        out["encode_steps_chunks_per_s"] = round(len(texts) / sw.seconds, 2)
        out["ratio_build_vs_encode_steps"] = round(out["build_chunks_per_s"] / out["encode_steps_chunks_per_s"], 3)
    enc = build["breakdown_s"].get("encode", 0.0)
    out["build_share_in_encode"] = round(enc / build["seconds"], 3) if build["seconds"] else None
    tok = sum(emb.token_count(t) for t in texts)
    out["mean_tokens_per_chunk"] = round(tok / max(len(texts), 1), 1)
    return out


def run(args: argparse.Namespace) -> dict:
    from assistant.indexing.embed.embeddings import load_embeddings

    n = args.n or (QUICK_N if args.quick else DEFAULT_N)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="index-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    spares = spare_baomoi()
    result: dict = {"benchmark": "index_bench", "mode": "quick" if args.quick else ("full" if n == DEFAULT_N else "custom"),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine_info(), "n": n,
                    "workdir": str(work), "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.index_bench"]
                                                               + sys.argv[1:])}
    log(f"loading the embedding model (work folder {work})")
    with Stopwatch() as sw:
        emb = load_embeddings(_settings(work / "tmp"))
        emb.encode_passages(WARM_UP_TEXTS)  # warm-up, not measured
    result["model_load_s"] = round(sw.seconds, 2)
    result["batch_size"] = emb.batch_size
    result["dtype"] = emb.encoder

    main_dir = work / f"n{n}"
    if args.ops_only:
        # Keep (a)(b) from the earlier run's JSON; re-measure the operations on its kept index.
        previous = json.loads(args.json.read_text(encoding="utf-8"))
        if not (main_dir / "index").is_dir() or previous.get("n") != n:
            raise SystemExit(f"--ops-only needs the index of an earlier run in {main_dir} and its --json")
        result["build"] = previous["build"]
        result["build_measured"] = previous.get("started")
        result["build_command"] = previous.get("build_command") or previous.get("command")
    else:
        result["build"] = build_and_encode(main_dir, load_baomoi(n), emb, batch_steps=not args.no_step_encode)
    log(f"(c)(d) operations at {n} articles")
    result["ops"] = {str(n): measure_ops(main_dir, emb, spares, args.repeats)}

    # The fixed cost of each operation: the same measurements on an index of one article.
    one_dir = work / "n1"
    if (one_dir / "index").exists():
        shutil.rmtree(one_dir / "index")
    write_baomoi([spares[2]], one_dir / "corpus")
    inprocess_index(one_dir, emb, full=True)
    log("operations at 1 article (the fixed cost, for the estimates)")
    result["ops"]["1"] = measure_ops(one_dir, emb, spares, args.repeats)

    sizes = sorted({ESTIMATE_AT, *( [args.scale] if args.scale else [])})
    result["estimates"] = {}
    for size in sizes:
        est = extrapolate(result["ops"]["1"], result["ops"][str(n)], size)
        b = result["build"]
        est["full_build_s"] = round(size * b["chunks_per_article"] / b["build_chunks_per_s"], 1)
        result["estimates"][str(size)] = est

    if args.scale and not args.estimate_only:
        scale_dir = work / f"n{args.scale}"
        rows = load_baomoi(args.scale)
        reused = (scale_dir / "index").exists()
        write_baomoi(rows, scale_dir / "corpus")
        log(f"(e) {'completing the reused' if reused else 'building the'} index of {args.scale} articles "
            f"(estimate {result['estimates'][str(args.scale)]['full_build_s'] / 60:.0f} min for a full build)")
        r = inprocess_index(scale_dir, emb)
        result["scale_build"] = {"articles": args.scale, "reused_index": reused, "seconds": r["seconds"],
                                 "summary": r["summary"], "breakdown_s": r["breakdown_s"]}
        if not reused:
            result["scale_build"]["chunks_per_s"] = round(r["summary"]["chunks"] / r["seconds"], 2)
        log(f"(e) operations at {args.scale} articles")
        result["ops"][str(args.scale)] = measure_ops(scale_dir, emb, spares, args.repeats)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["checks"] = checks(result)
    if not args.workdir and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        result["workdir"] = None
    return result


def checks(r: dict) -> list[dict]:
    """Each target with its measured value and whether it is met."""
    n = str(r["n"])
    ops = r["ops"][n]
    share = r["build"]["build_share_in_encode"]
    out = [
        {"what": f"full build / raw encode throughput ({n} articles)", "value": r["build"]["ratio_build_vs_encode"],
         "target": f">= {TARGET_RATIO}", "ok": r["build"]["ratio_build_vs_encode"] >= TARGET_RATIO},
        {"what": f"full build / raw encode, in CPU seconds ({n}; robust to other load)",
         "value": r["build"]["ratio_build_vs_encode_cpu"], "target": f">= {TARGET_RATIO}",
         "ok": r["build"]["ratio_build_vs_encode_cpu"] >= TARGET_RATIO},
        {"what": f"share of the build spent inside encode calls ({n}; same window, immune to load drift)",
         "value": share, "target": f">= {TARGET_RATIO}", "ok": share is not None and share >= TARGET_RATIO},
        {"what": f"no-change re-run, CLI wall ({n})", "value": median(ops["nochange_cli_s"]),
         "target": f"< {TARGET_NOCHANGE_S} s", "ok": median(ops["nochange_cli_s"]) < TARGET_NOCHANGE_S},
        {"what": f"no-change re-run, in-process ({n})", "value": median(ops["nochange_inprocess_s"]),
         "target": f"< {TARGET_NOCHANGE_S} s", "ok": median(ops["nochange_inprocess_s"]) < TARGET_NOCHANGE_S},
        {"what": "no-change run imports no model (torch)", "value": not ops["nochange_imports"].get("torch", True),
         "target": "yes", "ok": ops["nochange_imports"].get("torch") is False},
        {"what": f"add one article, CLI wall ({n})", "value": ops["add_cli_s"], "target": f"< {TARGET_ADD_S} s",
         "ok": ops["add_cli_s"] < TARGET_ADD_S},
        {"what": f"add one article, in-process ({n})", "value": ops["add_inprocess_s"],
         "target": f"< {TARGET_ADD_S} s", "ok": ops["add_inprocess_s"] < TARGET_ADD_S},
    ]
    for size, est in r.get("estimates", {}).items():
        measured = r["ops"].get(size)
        src = "measured" if measured else "estimated"
        nc = median(measured["nochange_cli_s"]) if measured else est["nochange_cli_s"]
        add = measured["add_cli_s"] if measured else est["add_cli_s"]
        out.append({"what": f"no-change re-run, CLI wall ({size}, {src})", "value": nc,
                    "target": f"< {TARGET_NOCHANGE_S} s", "ok": nc < TARGET_NOCHANGE_S})
        out.append({"what": f"add one article, CLI wall ({size}, {src})", "value": add,
                    "target": f"< {TARGET_ADD_S} s", "ok": add < TARGET_ADD_S})
    return out


def report(r: dict) -> str:
    """The printed tables."""
    b = r["build"]
    lines = [f"index_bench ({r['mode']}): {r['n']} baomoi articles, {b['chunks']} chunks "
             f"({b['chunks_per_article']} per article, {b['mean_tokens_per_chunk']} tokens each); model {r['dtype']}, "
             f"batch {r['batch_size']}, loaded in {r['model_load_s']} s; {r['machine'].get('cpus')} CPUs, load "
             f"{r['machine'].get('load_avg_at_start')}", ""]
    rows = [["full build (in-process, model loaded)", f"{b['build_s']:.1f} s", f"{b['build_chunks_per_s']:.1f} chunks/s"],
            ["raw encode, one call, same texts", f"{b['encode_s']:.1f} s", f"{b['encode_chunks_per_s']:.1f} chunks/s"]]
    if "encode_steps_s" in b:
        rows.append(["raw encode in indexer steps", f"{b['encode_steps_s']:.1f} s",
                     f"{b['encode_steps_chunks_per_s']:.1f} chunks/s"])
    rows.append(["ratio build / raw encode (wall)", fmt(b["ratio_build_vs_encode"], 3),
                 f"vs steps: {fmt(b.get('ratio_build_vs_encode_steps'), 3)}"])
    rows.append(["ratio build / raw encode (CPU s)", fmt(b["ratio_build_vs_encode_cpu"], 3),
                 f"CPU s: build {b['build_cpu_s']:.0f}, encode {b['encode_cpu_s']:.0f}"
                 + (f", steps {b['encode_steps_cpu_s']:.0f}" if "encode_steps_cpu_s" in b else "")])
    lines += [table(rows, ["(a)(b) build", "time", "throughput"]), ""]
    lines += [table([[k, f"{v:.2f}"] for k, v in b["build_breakdown_s"].items()], ["build time by part", "s"]), ""]
    sizes = sorted(r["ops"], key=int)
    est_sizes = [s for s in r.get("estimates", {}) if s not in r["ops"]]
    header = ["operation (s)"] + [f"{s} art." for s in sizes] + [f"{s} art. (est.)" for s in est_sizes]
    op_rows = []
    for key, label in [("nochange_cli_s", "no change, CLI wall"), ("nochange_inprocess_s", "no change, in-process"),
                       ("add_cli_s", "add one, CLI wall"), ("add_inprocess_s", "add one, in-process"),
                       ("delete_cli_s", "delete one, CLI wall"), ("delete_inprocess_s", "delete one, in-process")]:
        op_rows.append([label] + [f"{_op_value(r['ops'][s], key):.2f}" for s in sizes]
                       + [f"{r['estimates'][s][key]:.2f}" for s in est_sizes])
    lines += [table(op_rows, header), ""]
    cli_rows = []
    for s in sizes:
        o = r["ops"][s]
        for op in ("nochange", "add", "delete"):
            wall = _op_value(o, f"{op}_cli_s")
            inside = o[f"{op}_cli_summary"].get("seconds")
            if inside is not None:
                cli_rows.append([f"{s} art., {op}", f"{wall:.2f}", f"{inside:.2f}", f"{wall - inside:.2f}"])
    if cli_rows:
        lines += [table(cli_rows, ["CLI run", "wall s", "inside Indexer.run s (model load incl.)",
                                   "start-up + imports s"]), ""]
    if est_sizes:
        g = r["estimates"][est_sizes[0]]["growth_ms_per_1000_articles"]
        lines.append("Estimates: the value measured at N plus the parts that grow with the index (corpus scan; "
                     "for add/delete also any gc sweep over every id), scaled from the 1-article and N-article runs: "
                     f"+{g['nochange']:.0f} ms (no change), +{g['add']:.0f} ms (add), +{g['delete']:.0f} ms (delete) "
                     "per 1,000 articles. Full build at "
                     + ", ".join(f"{s}: {r['estimates'][s]['full_build_s'] / 60:.1f} min" for s in est_sizes)
                     + " at the measured build rate.")
        lines.append("")
    lines.append(table([[c["what"], c["value"], c["target"], "PASS" if c["ok"] else "FAIL"] for c in r["checks"]],
                       ["target", "value", "target", "result"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.index_bench", description=__doc__.splitlines()[0],
                                epilog="Reads ../shared/data/baomoi/; writes corpora outside the repository.")
    p.add_argument("--n", type=int, help=f"articles for the main measurements (default {DEFAULT_N}; {QUICK_N} with --quick)")
    p.add_argument("--scale", type=int, help="also measure no-change/add/delete at this many articles (e.g. 10000)")
    p.add_argument("--estimate-only", action="store_true",
                   help="with --scale: do not build it, estimate from the measured rates")
    p.add_argument("--workdir", type=Path, help="keep corpora and indexes here and reuse them (the --scale index is "
                   "completed incrementally instead of rebuilt)")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="repetitions of the no-change re-run (median reported)")
    p.add_argument("--no-step-encode", action="store_true", help="skip the second raw encode in indexer steps")
    p.add_argument("--json", type=Path, help="write every number here")
    p.add_argument("--ops-only", action="store_true",
                   help="with --workdir and --json of an earlier run: keep its build numbers, re-measure (c)(d)(e)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_N} articles: a check that finishes in a few minutes")
    args = p.parse_args(argv)
    if args.estimate_only and not args.scale:
        args.scale = ESTIMATE_AT
    result = run(args)
    text = report(result)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
