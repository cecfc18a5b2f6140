"""The report's findings, computed from the measured values of one run: where ours loses, to the baseline or a target.

Each rule compares two measured numbers (or one with a target) and, when it fires, states both and
their ratio; nothing here is written in advance of the numbers. A finding is a dict
{"topic", "text", "values"} so benchmarks.json keeps the numbers each sentence rests on.
"""
from __future__ import annotations

from ..baseline import CONTEXT
from ..common import fmt
from ..index_bench import TARGET_RATIO

LATENCY_RATIO = 1.5  # hand-set: slower than 1.5x the baseline's p50/p95 is a finding; XQuAD's interleaved 1.1x is not
LATENCY_SLACK_MS = 5  # hand-set: a few ms of timer and scheduler jitter on this shared 2-core machine never count
BUILD_RATIO = 1.1  # hand-set: run-to-run wall-time spread is several % here (build/encode 0.916 vs index_bench 0.94)
SIZE_RATIO = 1.2  # hand-set: an index a fifth larger than the baseline's is worth a line
MEMORY_RATIO = 1.2  # hand-set: likewise for peak memory (both load the same ~1.1 GB model process)
TRANSIENT_MB = 250  # hand-set: ~half the fp32 weights of e5-small (118 M params x 4 B = 470 MB): a load-time peak
COLD_SETUP_S = 600  # hand-set: a set-up longer than 10 minutes is worth a line

# (key, label) of the dev_qa metrics compared; higher is better for every one of them.
DEV_METRICS = (("recall@1", "dev evidence recall@1"), ("recall@5", "dev evidence recall@5"), ("mrr", "dev MRR"),
               ("figure_accuracy", "dev figure accuracy"), ("terms_accuracy", "dev answer terms present"),
               ("citation_precision", "dev citation precision"),
               ("abstained_on_unanswerable", "abstained on unanswerable"))
XQUAD_METRICS = ("recall@1", "recall@5", "recall@10", "mrr")


def _finding(topic: str, text: str, **values) -> dict:
    return {"topic": topic, "text": text, "values": values}


def times(a: float, b: float) -> str:
    """'1.75×' — a as a multiple of b (the ratio the sentence states)."""
    return f"{a / b:.2f}×" if b else "–"


def _mb(b: int | None) -> float | None:
    return None if b is None else round(b / 1e6, 1)


def _built(scale: dict) -> list[tuple[str, dict]]:
    return sorted(((s, v) for s, v in scale.items() if not v.get("estimated_only")), key=lambda x: int(x[0]))


def leads(seeds: dict, xq: dict | None) -> list[dict]:
    """The measures on which ours is ahead of the baseline, in one line."""
    o, b = seeds["ours"], seeds["baseline"]
    items = [f"dev correct {o['correct']} vs {b['correct']} of {o['questions']}"] if o["correct"] > b["correct"] else []
    items += [f"{label.removeprefix('dev ')} {fmt(o[k], 3)} vs {fmt(b[k], 3)}" for k, label in DEV_METRICS
              if o.get(k) is not None and b.get(k) is not None and o[k] > b[k]]
    if xq:
        items += [f"XQuAD-vi {k} {xq['ours'][k]:.3f} vs {xq['baseline'][k]:.3f}" for k in XQUAD_METRICS
                  if xq["ours"][k] > xq["baseline"][k]]
    if not items:
        return []
    return [_finding("lead", "**Where ours is ahead of the baseline:** " + "; ".join(items) + ".",
                     count=len(items))]


def dev_quality(seeds: dict) -> list[dict]:
    """dev_qa metrics where ours is below the baseline, and abstentions on answerable questions."""
    o, b = seeds["ours"], seeds["baseline"]
    out = [_finding("quality", f"**{label}: ours {fmt(o[k], 3)} < baseline {fmt(b[k], 3)}** "
                               f"({fmt(o[k] - b[k], 3)}).", metric=k, ours=o[k], baseline=b[k])
           for k, label in DEV_METRICS if o.get(k) is not None and b.get(k) is not None and o[k] < b[k]]
    if o.get("abstained_on_answerable"):
        out.append(_finding("quality", f"**Ours abstained on {o['abstained_on_answerable']} of {o['answerable']} "
                                       "answerable dev questions** (benchmarks.json → seeds → rows).",
                            ours=o["abstained_on_answerable"]))
    return out


def xquad_quality(xq: dict) -> list[dict]:
    """XQuAD-vi recall below the baseline; the gold answer string found less often in our answer."""
    o, b = xq["ours"], xq["baseline"]
    out = [_finding("quality", f"**XQuAD-vi {k}: ours {o[k]:.3f} < baseline {b[k]:.3f}.**", metric=k, ours=o[k],
                    baseline=b[k]) for k in XQUAD_METRICS if o[k] < b[k]]
    a_o, a_b = o.get("answer_in_extractive"), b.get("answer_in_extractive")
    if a_o is not None and a_b is not None and a_o < a_b:
        missed = o["recall@5"] - a_o
        out.append(_finding(
            "quality", f"**XQuAD-vi gold answer string in the answer: ours {a_o:.3f}, baseline {a_b:.3f}** (its first "
            f"chunk alone {b['answer_in_first_chunk']:.3f}). Our top 5 held the gold paragraph for {o['recall@5']:.3f} "
            f"of the questions, so for at least {missed:.3f} of them the paragraph was retrieved and the quoted "
            f"sentence(s) lack the answer string; the baseline's answer is {CONTEXT} whole chunks.",
            ours=a_o, baseline=a_b, retrieved_not_quoted=round(missed, 4)))
    return out


def scale_quality(res: dict) -> list[dict]:
    """Dev questions lost when the seeds are mixed into N articles, and sizes where the baseline answers more."""
    out = []
    on_seeds = (res.get("seeds") or {}).get("ours", {}).get("correct")
    for size, v in _built((res.get("scale") or {}).get("sizes", {})):
        o, b = v["dev"]["ours"], v["dev"]["baseline"]
        if on_seeds is not None and o["correct"] < on_seeds:
            lost = [f"{r['id']} ({r['kind']}{', answered' if r['kind'] == 'unanswerable' else ''}: "
                    f"“{r['answer'][:90]}…”)" for r in v["dev_rows"]["ours"] if not r["correct"]]
            out.append(_finding("scale", f"**Dev questions answered correctly at {v['articles']:,} articles: ours "
                                         f"{o['correct']} of {o['questions']} ({on_seeds} on the seeds alone)** — lost: "
                                + "; ".join(lost) + " (benchmarks.json → scale → sizes → dev_rows).",
                                size=int(size), ours=o["correct"], on_seeds=on_seeds))
        if o["correct"] < b["correct"]:
            out.append(_finding("scale", f"**At {v['articles']:,} articles ours answers {o['correct']} dev questions "
                                         f"correctly, the baseline {b['correct']}.**", size=int(size),
                                ours=o["correct"], baseline=b["correct"]))
    return out


def build_speed(tp: dict) -> list[dict]:
    """Build/encode ratio below the target; a full build slower than the baseline's, with both token counts."""
    o, b = tp["ours"], tp["baseline"]
    out = []
    if min(o["ratio"], o["ratio_cpu"]) < TARGET_RATIO:
        out.append(_finding("speed", f"**Build throughput is {o['ratio']:.2f} of the raw encode throughput in wall "
                                     f"time, {o['ratio_cpu']:.2f} in CPU time (target {TARGET_RATIO})**; "
                                     f"{o['encode_share_of_build']:.0%} of the build was spent inside encode calls.",
                            ratio=o["ratio"], ratio_cpu=o["ratio_cpu"], share=o["encode_share_of_build"]))
    if o["build_s"] > BUILD_RATIO * b["build_s"]:
        tok_o, tok_b = o.get("tokens", 0), b.get("tokens", 0)
        more = f"{tok_o / tok_b - 1:+.1%} tokens" if tok_b else "tokens not counted"
        out.append(_finding(
            "speed", f"**Full build at {tp['articles']:,} articles: ours {o['build_s']:.0f} s, baseline "
            f"{b['build_s']:.0f} s — ours takes {times(o['build_s'], b['build_s'])} the baseline's time.** Ours embeds "
            f"{o['chunks']:,} chunks / {tok_o:,} tokens, the baseline {b['chunks']:,} / {tok_b:,} ({more} for ours); "
            f"raw encode runs at {o['encode_chunks_per_s']:.1f} vs {b['encode_chunks_per_s']:.1f} chunks/s on the "
            "same texts.", ours_s=o["build_s"], baseline_s=b["build_s"], ours_tokens=tok_o, baseline_tokens=tok_b))
    return out


def memory(mem: dict) -> list[dict]:
    """App peak memory above the baseline's; a load-time peak far above what serving holds."""
    out = []
    for name, m in mem.items():
        app, base, core = m.get("app", {}), m.get("baseline", {}), m.get("ours_core", {})
        if app.get("peak_rss_mb") and base.get("peak_rss_mb") and app["peak_rss_mb"] > MEMORY_RATIO * base["peak_rss_mb"]:
            out.append(_finding("memory", f"**Peak memory ({name}): app {fmt(app['peak_rss_mb'], 0)} MB, baseline script "
                                          f"{fmt(base['peak_rss_mb'], 0)} MB ({times(app['peak_rss_mb'], base['peak_rss_mb'])})"
                                          f"**; our pipeline without the UI: {fmt(core.get('peak_rss_mb'), 0)} MB.",
                                index=name, app=app["peak_rss_mb"], baseline=base["peak_rss_mb"]))
    core_name, m = next(((n, m) for n, m in mem.items() if (m.get("ours_core") or {}).get("rss_now_mb")), (None, None))
    if m:
        core, base = m["ours_core"], m.get("baseline", {})
        drop = core["peak_rss_mb"] - core["rss_now_mb"]
        if drop > TRANSIENT_MB:
            b_txt = (f"; the baseline, with the same model loader: {fmt(base['peak_rss_mb'], 0)} → {fmt(base['rss_now_mb'], 0)} MB"
                     if base.get("rss_now_mb") else "")
            out.append(_finding("memory", f"**Peak memory is set while loading, not while serving ({core_name}):** our "
                                          f"pipeline peaks at {fmt(core['peak_rss_mb'], 0)} MB and holds "
                                          f"{fmt(core['rss_now_mb'], 0)} MB after the questions, {fmt(drop, 0)} MB "
                                          f"({drop / core['peak_rss_mb']:.0%} of the peak) less{b_txt}.",
                                peak=core["peak_rss_mb"], now=core["rss_now_mb"]))
    return out


def scale_cost(scale: dict) -> list[dict]:
    """Sizes not built (with their estimate) and the index size at the largest size built."""
    out = []
    for size, v in sorted(scale.items(), key=lambda x: int(x[0])):
        if v.get("estimated_only") and v.get("estimated_build_s"):
            e = v["estimated_build_s"]
            out.append(_finding("scale", f"**{int(size):,} baomoi articles were not built** in the time budget: "
                                         f"estimated full builds ours {e['ours'] / 60:.0f} min, baseline "
                                         f"{e['baseline'] / 60:.0f} min at the measured rate.", size=int(size), **e))
    built = _built(scale)
    if built:
        size, v = built[-1]
        o, b = v["index_bytes"]["ours"], v["index_bytes"]["baseline"]
        if o > SIZE_RATIO * b:
            sp = v.get("index_bytes_ours_split") or {}
            split = (f" (Chroma {_mb(sp['chroma'])} MB, catalog + FTS5 {_mb(sp['catalog_fts5'])} MB; our Chroma part "
                     f"alone is {times(sp['chroma'], b)} the baseline's index)" if sp else "")
            out.append(_finding("scale", f"**Index size at {v['articles']:,} articles: ours {_mb(o)} MB, baseline "
                                         f"{_mb(b)} MB — {times(o, b)} the baseline's size**{split}.", size=int(size), ours=o,
                                baseline=b))
    return out


def latency(res: dict) -> list[dict]:
    """Where our p50 or p95 exceeds LATENCY_RATIO x the baseline's (+ slack), and how each grows with the corpus."""
    seeds, xq = res.get("seeds"), res.get("xquad")
    scale = (res.get("scale") or {}).get("sizes", {})
    cases = []  # (where, ours, baseline), each with latency_p50_ms / latency_p95_ms
    if seeds and seeds["ours"].get("latency_p50_ms"):
        cases.append(("ask, seed index", seeds["ours"], seeds["baseline"]))
    cases += [(f"ask, {v['articles']:,} articles", v["dev"]["ours"], v["dev"]["baseline"]) for _, v in _built(scale)]
    if xq and xq.get("retrieve_latency_interleaved"):
        il = xq["retrieve_latency_interleaved"]
        cases.append(("retrieval, XQuAD-vi", {"latency_p50_ms": il["ours_p50_ms"], "latency_p95_ms": il["ours_p95_ms"]},
                      {"latency_p50_ms": il["baseline_p50_ms"], "latency_p95_ms": il["baseline_p95_ms"]}))

    def slower(o: dict, b: dict, key: str) -> bool:
        return (o[key] or 0) > LATENCY_RATIO * (b[key] or 0) + LATENCY_SLACK_MS

    worse = [(w, o, b) for w, o, b in cases if slower(o, b, "latency_p50_ms") or slower(o, b, "latency_p95_ms")]
    if not worse:
        return []
    listed = "; ".join(f"{w}: ours {fmt(o['latency_p50_ms'], 0)} / {fmt(o['latency_p95_ms'], 0)} ms, baseline "
                       f"{fmt(b['latency_p50_ms'], 0)} / {fmt(b['latency_p95_ms'], 0)} ms "
                       f"({times(o['latency_p50_ms'], b['latency_p50_ms'])} at p50)" for w, o, b in worse)
    text = f"**Latency p50 / p95 — {listed}.**"
    asks = [(w, o, b) for w, o, b in cases if w.startswith("ask")]
    if len(asks) > 1:
        (w0, o0, b0), (w1, o1, b1) = asks[0], asks[-1]
        text += (f" From the {w0.split(', ')[1]} to {w1.split(', ')[1]} our p50 grows "
                 f"{times(o1['latency_p50_ms'], o0['latency_p50_ms'])}, the baseline's "
                 f"{times(b1['latency_p50_ms'], b0['latency_p50_ms'])}.")
    if seeds and seeds["ours"].get("retrieve_p50_ms") is not None:
        text += (f" Our p50 on the seed index splits into retrieve {seeds['ours']['retrieve_p50_ms']:.0f} ms and "
                 f"answer {seeds['ours']['answer_p50_ms']:.0f} ms; the baseline retrieves and joins only.")
    return [_finding("latency", text, cases=[{"where": w, "ours_p50": o["latency_p50_ms"], "baseline_p50":
                                              b["latency_p50_ms"]} for w, o, b in worse])]


def index_targets(ib: dict) -> list[dict]:
    """benchmarks.index_bench targets not met."""
    missed = [c for c in ib.get("checks", []) if not c["ok"]]
    if not missed:
        return []
    return [_finding("index", "**Index target missed — " + "; ".join(f"{c['what']}: {fmt(c['value'])} (target "
                                                                      f"{c['target']})" for c in missed)
                     + "** (docs/index_bench.json: add_cli_s vs add_cli_summary.seconds vs add_inprocess_s).",
                     missed=[c["what"] for c in missed])]


def setup(s: dict) -> list[dict]:
    """A cold set-up longer than COLD_SETUP_S."""
    if s.get("cold_s") and s["cold_s"] > COLD_SETUP_S:
        return [_finding("setup", f"**Cold set-up takes {s['cold_s'] / 60:.0f} min.**", cold_s=s["cold_s"])]
    return []


def findings(res: dict) -> list[dict]:
    """Every finding of one run, in report order."""
    f: list[dict] = []
    if res.get("seeds"):
        f += leads(res["seeds"], res.get("xquad"))
        f += dev_quality(res["seeds"])
    if res.get("xquad"):
        f += xquad_quality(res["xquad"])
    f += scale_quality(res)
    if (res.get("scale") or {}).get("throughput"):
        f += build_speed(res["scale"]["throughput"])
    f += memory(res.get("memory") or {})
    f += scale_cost((res.get("scale") or {}).get("sizes", {}))
    f += latency(res)
    if res.get("index_bench"):
        f += index_targets(res["index_bench"])
    f += setup(res.get("setup") or {})
    if all(x["topic"] == "lead" for x in f):
        f.append(_finding("none", "No loss to the baseline or to a target was measured in this run."))
    return f
