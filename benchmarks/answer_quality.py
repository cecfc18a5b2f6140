"""Answer-quality harness: gold answer in the answer and in the quote, citation precision, abstentions, length, latency.

    .venv/bin/python -m benchmarks.answer_quality [--datasets xquad vinewsqa vinewsqa_plain dev_qa paraphrase] [--split val]
        [--limit N] [--leftout 60] [--workdir DIR] [--out docs/answer_quality] [--quick]

Per data set (see `assistant.learn.datasets`): its articles are written to a corpus in the workdir
and indexed with the real CLI (`python -m assistant index`; reused when the stamp of the article
hashes matches); every question of the split is asked in-process of one `Assistant` and scored.
Left-out cases: for a fixed sample of the questions, the gold article is removed from a copy of
the index and the question asked again; the right outcome is an abstention. Per-question results
are cached as JSON Lines in the workdir (keyed by the index, the assistant's code and settings),
so an interrupted run resumes. Writes `<out>.json` and `<out>.md`, merging with the data sets an
earlier run measured. Splits: XQuAD/ViNewsQA `val` | `train` (by article; the whole data set's
articles are indexed, open-domain); dev_qa 'regression'; paraphrase 'tune' and 'holdout', both
reported, never tune on 'holdout'.

>>> res = run_dataset("xquad", "val", Settings.from_env(), limit=20)   # doctest: +SKIP
>>> res["summary"]["all"]["gold_in_quote"]                             # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable

from assistant.answer.compose import says_what_the_corpus_has
from assistant.config import PROJECT_ROOT, Settings
from assistant.learn import datasets as ds
from assistant.learn.datasets import QAItem, SourceArticle

try:  # the layout after the move; the flat one before it
    from assistant.app import evaluate
    from assistant.app.pipeline import Assistant
    from assistant.vi.textnorm import fold
except ImportError:  # pragma: no cover - only before the layout commit
    from assistant import evaluate  # type: ignore[no-redef]
    from assistant.pipeline import Assistant  # type: ignore[no-redef]
    from assistant.textnorm import fold  # type: ignore[no-redef]

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "answer_quality"
DEFAULT_OUT = PROJECT_ROOT / "docs" / "answer_quality"
LEFTOUT_SAMPLE = 60  # questions per data set asked again without their gold article
QUICK_QUESTIONS = 12
CACHE_VERSION = 2  # bump when the cached line format changes
SMALL_CORPUS = 20  # at most this many articles: leave each gold article out on its own index
QA_FORMAT = ("dev_qa", "paraphrase")  # rows in the dev_qa.jsonl format, scored with evaluate.score too

# (label, data set, split, metric, comparison, target); measured on the main run unless noted
TARGETS = [
    ("XQuAD-vi: gold answer inside the quoted sentence(s)", "xquad", "val", "gold_in_quote", ">=", 0.90),
    ("ViNewsQA validation: gold answer inside the answer", "vinewsqa", "val", "gold_in_answer", ">=", 0.80),
    ("ViNewsQA validation: false abstentions", "vinewsqa", "val", "false_abstention", "<=", 0.05),
    ("left-out cases: abstained or said what the corpus has (pooled over the data sets in this report)", "*", "*", "leftout_abstained", ">=", 0.90),
    ("dev_qa: correct", "dev_qa", "regression", "correct_count", "==", 22),
    ("answer length p50 (characters, pooled over the data sets in this report)", "*", "*", "answer_len_p50", "<=", 400),
    ("ask in-process, seed index: latency p50 (ms)", "seeds", "*", "latency_p50_ms", "<=", 80),
]


def _norm(text: str) -> str:
    return fold(" ".join(text.split()))


def contains(haystack: str, needle: str) -> bool:
    """Case-, diacritic- and whitespace-insensitive substring test."""
    n = _norm(needle)
    return bool(n) and n in _norm(haystack)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the assistant package (code and artifacts): cached answers are only reused for the same code."""
    h = hashlib.sha256()
    root = PROJECT_ROOT / "assistant"
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def data_hashes(name: str, settings: Settings) -> dict[str, str]:
    """sha256 of every source file a data set is read from (relative to the shared dir or project)."""
    base = ds.shared_dir(settings)
    files = {
        "xquad": [base / "data/xquad_vi/retrieval/corpus.jsonl", base / "data/xquad_vi/retrieval/queries.jsonl"],
        "vinewsqa": [base / "data/vinewsqa_dev/vinewsqa_dev.json"],
        "vinewsqa_plain": [base / "data/vinewsqa_dev/vinewsqa_dev.json"],
        "dev_qa": [base / "eval/dev_qa.jsonl", *sorted((base / "seeds").glob("*.txt"))],
        "paraphrase": [ds.PARAPHRASE_FILE, *sorted((base / "seeds").glob("*.txt"))],
    }[name]
    out = {}
    for f in files:
        try:
            key = str(f.relative_to(base))
        except ValueError:
            key = str(f.relative_to(PROJECT_ROOT))
        out[key] = _sha(f.read_bytes())
    return out


def _order(items: Iterable[QAItem]) -> list[QAItem]:
    """A fixed pseudo-random order (by sha256 of the question id): `--limit N` takes the first N."""
    return sorted(items, key=lambda q: _sha(q.id.encode()))


def select(items: list[QAItem], name: str, split: str) -> list[QAItem]:
    """The questions asked for a data set and split (dev_qa: all; paraphrase: all, reported per split)."""
    if name in QA_FORMAT:
        return list(items)
    return [q for q in items if q.split == split]


def leftout_sample(items: list[QAItem], n: int) -> list[QAItem]:
    """Up to `n` answerable questions with one gold article, spread over articles (one per article first)."""
    pool = [q for q in _order(items) if q.article_id and q.kind != "unanswerable"]
    seen: dict[str, int] = defaultdict(int)
    ranked = []
    for q in pool:
        ranked.append((seen[q.article_id], len(ranked), q))
        seen[q.article_id] += 1
    return [q for _, _, q in sorted(ranked)[:n]]


# ---- corpora and indexes ----------------------------------------------------------------------------------

def ensure_index(articles: list[SourceArticle], workdir: Path, exclude: Iterable[str] = (),
                 base: Path | None = None) -> tuple[Path, Path, str, float]:
    """(corpus dir, index dir, stamp, build seconds) for the articles minus `exclude`, built once and reused.

    With `base` (an index of a superset) the index is copied and updated incrementally by the CLI.
    """
    exclude = sorted(set(exclude))
    stamp = ds.articles_hash(articles, exclude)
    home = workdir / "indexes" / stamp[:16]
    corpus, index, stamp_file = home / "corpus", home / "index", home / "STAMP"
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp and index.is_dir():
        return corpus, index, stamp, 0.0
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    ds.write_corpus(articles, corpus, exclude=exclude)
    if base is not None and base.is_dir():
        shutil.copytree(base, index)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "assistant", "index", "--corpus", str(corpus), "--index", str(index), "--quiet", "--json"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"index build failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
    seconds = time.perf_counter() - t0
    (home / "build.json").write_text(json.dumps({"command": cmd, "seconds": round(seconds, 1),
                                                  "summary": proc.stdout.strip().splitlines()[-1:]}))
    stamp_file.write_text(stamp)
    return corpus, index, stamp, seconds


# ---- asking and scoring -----------------------------------------------------------------------------------

def score_item(item: QAItem, answer: Any) -> dict:
    """Per-question record: gold in answer / quote, citation precision, abstention, length, latency."""
    quotes = " ".join(c.quote for c in answer.citations)
    cited = [c.article_id for c in answer.citations]
    rec: dict[str, Any] = {
        "id": item.id, "kind": item.kind, "split": item.split, "article_id": item.article_id,
        "question": item.question, "abstained": bool(answer.abstained), "answer": answer.answer,
        "declined": bool(answer.abstained or says_what_the_corpus_has(answer.answer)),
        "answer_len": len(answer.answer), "latency_ms": round(float(answer.timings_ms.get("total", 0.0)), 1),
        "cited": cited, "retrieved_top": [r.article_id for r in answer.retrieved[:5]],
    }
    answerable = item.kind != "unanswerable"
    rec["answerable"] = answerable
    if item.row:  # dev_qa format: reuse the project's own scoring
        ev = evaluate.score(item.row, answer)
        rec["eval"] = ev
        if answerable:
            rec["gold_in_answer"] = bool(ev["figures_ok"] is not False and ev["terms_ok"] is not False
                                         and not answer.abstained)
            rec["gold_in_quote"] = ev["quote_has_evidence"] if ev["quote_has_evidence"] is not None else None
            rec["correct"] = bool(ev["correct"])
            if item.kind == "factcheck" and "claim_true" in item.row:  # the verdict itself, not only the figures
                verdicts = [c.verdict for c in answer.claims]
                said_true = bool(verdicts) and all(v == "khớp" for v in verdicts)
                rec["verdict_ok"] = bool(verdicts) and said_true == bool(item.row["claim_true"])
                if rec["verdict_ok"] and not said_true and item.row.get("figures"):  # 'wrong' against the right figure
                    rec["verdict_ok"] = any(evaluate.figure_in(c.source_text, g) for c in answer.claims
                                            for g in item.row["figures"])
                rec["correct"] = rec["correct"] and rec["verdict_ok"]
        else:
            rec["correct"] = rec["declined"]
    else:
        rec["gold_in_answer"] = any(contains(answer.answer, g) for g in item.answers) and not answer.abstained
        rec["gold_in_quote"] = any(contains(quotes, g) for g in item.answers)
        rec["correct"] = rec["gold_in_answer"]
    if answerable and item.article_id and cited:
        rec["citations_gold"] = sum(a == item.article_id for a in cited)
    return rec


def _cache_path(workdir: Path, name: str, tag: str) -> Path:
    return workdir / f"answers-v{CACHE_VERSION}" / f"{name}-{tag}.jsonl"


def _cached(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line cut by an interrupted run
            continue
        out[rec["id"]] = rec
    return out


def answer_view(d: dict) -> SimpleNamespace:
    """An `Answer.to_dict()` read back with attribute access (what `score_item` and `evaluate.score` read)."""
    ns = SimpleNamespace(**d)
    for key in ("citations", "figures", "retrieved", "claims"):
        setattr(ns, key, [SimpleNamespace(**x) for x in d.get(key) or []])
    return ns


def ask_all(items: list[QAItem], settings: Settings, cache: Path, log_every: int = 50) -> list[dict]:
    """Scored records for the questions; answers not yet in the cache of this index are asked and appended to it.

    The cache holds the raw answers (`Answer.to_dict()`), so a change of scoring never needs a re-run.
    """
    done = _cached(cache)
    todo = [q for q in items if q.id not in done]
    if todo:
        cache.parent.mkdir(parents=True, exist_ok=True)
        bot = Assistant(settings)
        bot.ask("chuyển đổi số là gì?")  # warm-up: model load and first-query costs stay out of the latency
        with cache.open("a", encoding="utf-8") as fh:
            for i, q in enumerate(todo, 1):
                done[q.id] = {"id": q.id, "answer": bot.ask(q.question).to_dict()}
                fh.write(json.dumps(done[q.id], ensure_ascii=False) + "\n")
                fh.flush()
                if i % log_every == 0:
                    print(f"  {cache.stem}: {i}/{len(todo)}", file=sys.stderr)
    return [score_item(q, answer_view(done[q.id]["answer"])) for q in items]


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(sorted(values), n=100, method="inclusive")[int(p) - 1], 1)


def _rate(recs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in recs if r.get(key) is not None]
    return round(sum(map(bool, vals)) / len(vals), 4) if vals else None


def summarize(recs: list[dict], leftout: list[dict] | None = None) -> dict:
    """Aggregate records: rates over answerable questions, abstention on unanswerable and left-out ones."""
    ans = [r for r in recs if r["answerable"]]
    una = [r for r in recs if not r["answerable"]]
    cits = [(r["citations_gold"], len(r["cited"])) for r in ans if "citations_gold" in r]
    lens = [float(r["answer_len"]) for r in recs if not r["abstained"]]
    out = {
        "questions": len(recs), "answerable": len(ans), "unanswerable": len(una),
        "gold_in_answer": _rate(ans, "gold_in_answer"), "gold_in_quote": _rate(ans, "gold_in_quote"),
        "citation_precision": round(sum(g for g, _ in cits) / sum(n for _, n in cits), 4) if cits else None,
        "false_abstention": round(sum(r["abstained"] for r in ans) / len(ans), 4) if ans else None,
        "false_abstentions": sum(r["abstained"] for r in ans),
        "unanswerable_abstained": round(sum(r["declined"] for r in una) / len(una), 4) if una else None,
        "verdict_ok": _rate(recs, "verdict_ok"), "correct": _rate(recs, "correct"), "correct_count": sum(bool(r.get("correct")) for r in recs),
        "answer_len_p50": _pct(lens, 50), "answer_len_p90": _pct(lens, 90),
        "latency_p50_ms": _pct([r["latency_ms"] for r in recs], 50),
        "latency_p95_ms": _pct([r["latency_ms"] for r in recs], 95),
    }
    if leftout is not None:
        out["leftout_questions"] = len(leftout)
        out["leftout_abstained"] = round(sum(r["declined"] for r in leftout) / len(leftout), 4) if leftout else None
    return out


def failure_kinds(recs: list[dict], leftout: list[dict]) -> dict[str, int]:
    """Counts of the ways answers went wrong, by where: retrieval, the decision to answer, or the sentence chosen."""
    out: dict[str, int] = defaultdict(int)
    for r in recs:
        if r.get("correct"):
            continue
        if not r["answerable"]:
            out["unanswerable, answered"] += 1
            continue
        gold = r.get("article_id")
        retrieved = gold in r["retrieved_top"] if gold else None
        where = "" if retrieved is None else " (gold article retrieved)" if retrieved else " (gold article not in the top 5)"
        if r["abstained"]:
            out["abstained on an answerable question" + where] += 1
        elif gold and r["cited"] and gold not in r["cited"]:
            out["answered from another article" + where] += 1
        elif r.get("kind") == "factcheck" and r.get("verdict_ok") is False:
            out["fact-check: wrong verdict"] += 1
        else:
            out["answered from the gold article, without the gold answer" if gold else "answered without the gold answer"] += 1
    for r in leftout:
        if not r.get("declined", r["abstained"]):
            out["left out, answered from another article"] += 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _groups(recs: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        out[str(r[key])].append(r)
    return dict(sorted(out.items()))


def run_dataset(name: str, split: str = "val", settings: Settings | None = None, limit: int | None = None,
                workdir: Path = DEFAULT_WORKDIR, leftout: int = LEFTOUT_SAMPLE) -> dict:
    """Index, ask and score one data set; returns {'summary': {...}, 'records': [...], ...} (see module doc)."""
    settings = settings or Settings.from_env()
    workdir = Path(workdir)
    items, articles = ds.load(name, settings)
    if name == "paraphrase":
        check_paraphrase(items, articles)
    asked = select(items, name, split)
    asked = _order(asked)[:limit] if limit else asked
    t0 = time.perf_counter()
    corpus, index, stamp, build_s = ensure_index(articles, workdir)
    run_settings = settings.replace(corpus_dir=corpus, index_dir=index)
    tag = _sha(f"{stamp}|{code_fingerprint()}|{settings.k}|{settings.backend}".encode())[:16]
    records = ask_all(asked, run_settings, _cache_path(workdir, name, tag))

    # left-out cases: the gold article removed from (a copy of) the index
    sample = leftout_sample(asked, leftout)
    lo_records: list[dict] = []
    lo_builds = []
    if sample:
        if len(articles) <= SMALL_CORPUS:
            plans = [([aid], [q for q in sample if q.article_id == aid]) for aid in sorted({q.article_id for q in sample})]
        else:
            plans = [(sorted({q.article_id for q in sample}), sample)]
        for excl, qs in plans:
            _, lo_index, lo_stamp, secs = ensure_index(articles, workdir, exclude=excl, base=index)
            lo_builds.append(round(secs, 1))
            lo_tag = _sha(f"{lo_stamp}|{code_fingerprint()}|{settings.k}|{settings.backend}".encode())[:16]
            lo_settings = settings.replace(corpus_dir=lo_index.parent / "corpus", index_dir=lo_index)
            lo_records += ask_all(qs, lo_settings, _cache_path(workdir, f"{name}-leftout", lo_tag))
    leaked = [r["id"] for r in lo_records if r["article_id"] in r["retrieved_top"] + r["cited"]]
    if leaked:
        raise RuntimeError(f"{name}: left-out index still returns the gold article for {leaked[:5]}")
    summary = {"all": summarize(records, lo_records), "failures": failure_kinds(records, lo_records)}
    by_split = _groups(records, "split")
    if len(by_split) > 1:
        summary["by_split"] = {s: summarize(rs, [r for r in lo_records if r["split"] == s]) for s, rs in by_split.items()}
    if name in QA_FORMAT:
        summary["by_kind"] = {k: summarize(rs) for k, rs in _groups(records, "kind").items()}
        if name == "paraphrase":
            summary["by_split_kind"] = {s: {k: summarize(x) for k, x in _groups(rs, "kind").items()}
                                        for s, rs in by_split.items()}
        summary["evaluate"] = evaluate.summarize([r["eval"] for r in records])
    return {
        "dataset": name, "split": split if name not in QA_FORMAT else ",".join(sorted(by_split)),
        "limit": limit, "articles_indexed": len(articles), "questions_asked": len(asked),
        "index_stamp": stamp, "index_build_seconds": round(build_s, 1), "leftout_build_seconds": lo_builds,
        "code_fingerprint": code_fingerprint()[:16], "data_sha256": data_hashes(name, settings),
        "settings": {"k": settings.k, "backend": settings.backend, "embedding_model": Path(settings.embedding_model).name},
        "seconds": round(time.perf_counter() - t0, 1), "loadavg_1min_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(), "summary": summary, "records": records,
        "leftout_records": lo_records,
    }


# ---- the paraphrase file's own check ------------------------------------------------------------------------

def check_paraphrase(items: list[QAItem] | None = None, articles: list[SourceArticle] | None = None) -> int:
    """Assert every evidence string, gold figure and answer term of the paraphrase file is in its article(s)."""
    if items is None or articles is None:
        items, articles = ds.load("paraphrase")
    by_id = {a.article_id: a for a in articles}
    rule = ds.paraphrase_splits([q.row for q in items])
    problems = [f"{q.id}: split {q.split!r} is not the fixed rule's {rule[q.id]!r}" for q in items if q.split != rule[q.id]]
    for q in items:
        row = q.row
        if q.split not in ("tune", "holdout") or row.get("kind") not in ("figure", "fact", "compare", "factcheck", "unanswerable"):
            problems.append(f"{q.id}: bad split or kind")
        if q.kind == "unanswerable":
            if row.get("evidence") or row.get("figures"):
                problems.append(f"{q.id}: unanswerable with evidence or figures")
            continue
        texts = [by_id[q.article_id].text] if q.article_id else [a.text for a in articles]
        for ev in row.get("evidence") or []:
            if not any(contains(t, ev) for t in texts):
                problems.append(f"{q.id}: evidence not found: {ev!r}")
        for fig in row.get("figures") or []:
            if not any(evaluate.figure_in(t, fig) or contains(t, fig) for t in texts):
                problems.append(f"{q.id}: figure not found: {fig!r}")
        for term in row.get("answer_terms") or []:
            if not any(contains(t, term) for t in texts):
                problems.append(f"{q.id}: answer term not found: {term!r}")
        if q.kind == "factcheck" and not isinstance(row.get("claim_true"), bool):
            problems.append(f"{q.id}: fact-check without claim_true")
        if not row.get("evidence"):
            problems.append(f"{q.id}: answerable without evidence")
    if problems:
        raise AssertionError("paraphrase_qa.jsonl:\n  " + "\n  ".join(problems))
    return len(items)


# ---- the report ---------------------------------------------------------------------------------------------

def _pooled(results: dict[str, dict], metric: str, which: str) -> float | None:
    chosen = [r for n, r in results.items() if which == "*" or (which == "seeds" and n in QA_FORMAT)]
    if metric == "leftout_abstained":
        recs = [x for r in chosen for x in r["leftout_records"]]
        return round(sum(x.get("declined", x["abstained"]) for x in recs) / len(recs), 4) if recs else None
    recs = [x for r in chosen for x in r["records"]]
    if metric == "answer_len_p50":
        return _pct([float(x["answer_len"]) for x in recs if not x["abstained"]], 50)
    return _pct([x["latency_ms"] for x in recs], 50)


def targets(results: dict[str, dict]) -> list[dict]:
    """The targets of issue 12 with the measured value and pass/fail (None: that data set was not run)."""
    rows = []
    for label, name, split, metric, op, goal in TARGETS:
        if name in ("*", "seeds"):
            value = _pooled(results, metric, name)
        else:
            r = results.get(name)
            value = r["summary"]["all"].get(metric) if r and (split == "*" or r["split"] == split) else None
        ok = None if value is None else {">=": value >= goal, "<=": value <= goal, "==": value == goal}[op]
        rows.append({"measure": label, "target": f"{op} {goal}", "value": value, "pass": ok})
    rows.append({"measure": "ask at 5,000 articles: latency p50 (ms)", "target": "<= 150", "value": None, "pass": None,
                 "note": "not measured by this harness: benchmarks.index_bench / benchmarks.compare"})
    return rows


_COLS = [("questions", "n"), ("correct", "correct"), ("gold_in_answer", "gold in answer"), ("gold_in_quote", "gold in quote"),
         ("citation_precision", "citation precision"), ("false_abstention", "false abstention"),
         ("unanswerable_abstained", "unanswerable abstained"), ("verdict_ok", "fact-check verdict"), ("leftout_abstained", "left-out abstained"),
         ("answer_len_p50", "len p50"), ("answer_len_p90", "len p90"),
         ("latency_p50_ms", "ms p50"), ("latency_p95_ms", "ms p95")]


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float) and v <= 1.0:
        return f"{v:.3f}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _table(rows: dict[str, dict], first: str) -> list[str]:
    out = [f"| {first} | " + " | ".join(h for _, h in _COLS) + " |", "|---" * (len(_COLS) + 1) + "|"]
    for label, s in rows.items():
        out.append(f"| {label} | " + " | ".join(_fmt(s.get(k)) for k, _ in _COLS) + " |")
    return out


def render_markdown(report: dict) -> str:
    """docs/answer_quality.md from the report JSON."""
    lines = ["# Answer quality", "",
             "Written by `benchmarks/answer_quality.py`; do not edit by hand. Matching: the gold answer string is a",
             "case-, diacritic- and whitespace-insensitive substring of the answer text (\"gold in answer\") or of the",
             "cited quotes joined (\"gold in quote\"); for dev_qa-format files (dev_qa, paraphrase) `assistant.app.evaluate.score`",
             "decides (all gold figures/terms in the answer; all evidence strings in the quotes). Citation precision: share of",
             "citations whose article is the gold article (questions with one gold article). False abstention: abstained on an",
             "answerable question. Left-out: a fixed sample of questions asked again on an index without their gold article;",
             "right = `Answer.abstained`, or an answer that opens by saying the asked year is not in the sources and which years",
             "are (`compose.says_what_the_corpus_has`); other ways of saying what the corpus has are not detected, so this is a",
             "lower bound. The same holds for unanswerable questions.",
             "Answer length over answered questions, in characters; latency is `timings_ms.total`, in-process, after a warm-up.",
             "A run merges into this report: each data set's section names the commit and assistant code it measured, and",
             "pooled targets pool the sections as they stand.",
             "", "## Targets (issue 12)", "", "| measure | target | measured | pass |", "|---|---|---|---|"]
    for t in report["targets"]:
        mark = "–" if t["pass"] is None else ("pass" if t["pass"] else "**FAIL**")
        lines.append(f"| {t['measure']} | {t['target']} | {_fmt(t['value']) if t['value'] is not None else t.get('note', 'not run')} | {mark} |")
    for name, r in report["datasets"].items():
        lines += ["", f"## {name} ({r['split']}; {r['questions_asked']} questions, {r['articles_indexed']} articles indexed)", "",
                  f"Command: `{r['command']}`  ", f"Run: {r['date']}, git {r['git']}, assistant code {r['code_fingerprint']}, "
                  f"index {r['index_stamp'][:16]} (built in {r['index_build_seconds']} s; 0 = reused), k={r['settings']['k']}, "
                  f"backend {r['settings']['backend']}, {r['seconds']} s in all, load average {r.get('loadavg_1min_at_end')} "
                  f"on {r.get('cpus')} CPUs at the end (latency is noisy when other jobs run).  ",
                  "Data sha256: " + ", ".join(f"`{k}` {v[:16]}" for k, v in r["data_sha256"].items()), ""]
        s = r["summary"]
        rows = {"all": s["all"], **{f"split {k}": v for k, v in s.get("by_split", {}).items()}}
        lines += _table(rows, "part")
        if "by_kind" in s:
            lines += ["", "Per kind (all splits):", ""] + _table(s["by_kind"], "kind")
        for sp, kinds in s.get("by_split_kind", {}).items():
            lines += ["", f"Per kind, split {sp}:", ""] + _table(kinds, "kind")
        if s.get("failures"):
            lines += ["", "Failure kinds (counts, all splits): " + "; ".join(f"{k}: {v}" for k, v in s["failures"].items())]
        if "evaluate" in s:
            ev = s["evaluate"]
            lines += ["", "`evaluate.summarize`: " + ", ".join(f"{k} {_fmt(v)}" for k, v in ev.items())]
    return "\n".join(lines) + "\n"


def _git() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout.strip() or "?"
    except OSError:
        return "?"


LLM_BEGIN, LLM_END = "<!-- llm-backends:begin -->", "<!-- llm-backends:end -->"


def write_report(results: dict[str, dict], out: Path, command: str, workdir: Path | None = None) -> dict:
    """Merge these results into `<out>.json` (keeping data sets not run now) and render `<out>.md`."""
    out = Path(out)
    path_json = out.with_suffix(".json")
    old = json.loads(path_json.read_text(encoding="utf-8")) if path_json.exists() else {}
    datasets = old.get("datasets", {})
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "git": _git(), "command": command}
    for name, r in results.items():
        datasets[name] = {**{k: v for k, v in r.items() if k not in ("records", "leftout_records")}, **stamp}
    full = {name: {**datasets[name], "records": r["records"], "leftout_records": r["leftout_records"]}
            for name, r in results.items()}
    for name, d in datasets.items():  # pooled targets need records; older data sets keep their pooled inputs
        full.setdefault(name, {**d, "records": d.get("_pool", []), "leftout_records": d.get("_pool_leftout", [])})
    for name, r in results.items():
        datasets[name]["_pool"] = [{k: x[k] for k in ("answer_len", "abstained", "latency_ms")} for x in r["records"]]
        datasets[name]["_pool_leftout"] = [{k: x[k] for k in ("abstained", "declined")} for x in r["leftout_records"]]
    report = {"targets": targets(full), "datasets": dict(sorted(datasets.items()))}
    out.parent.mkdir(parents=True, exist_ok=True)
    path_json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md = out.with_suffix(".md")
    kept = ""  # the generative backends' section (benchmarks/llm_backends.py) outlives a re-run of this harness
    if md.exists() and LLM_BEGIN in (text := md.read_text(encoding="utf-8")) and LLM_END in text:
        kept = "\n" + text[text.index(LLM_BEGIN):text.index(LLM_END) + len(LLM_END)] + "\n"
    md.write_text(render_markdown(report) + kept, encoding="utf-8")
    for name, r in results.items() if workdir else ():  # per-question records for failure analysis, outside the repo
        (Path(workdir) / f"records-{name}.json").write_text(
            json.dumps({"records": r["records"], "leftout": r["leftout_records"]}, ensure_ascii=False, indent=1),
            encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["dev_qa", "paraphrase", "xquad", "vinewsqa", "vinewsqa_plain"],
                   choices=ds.DATASETS)
    p.add_argument("--split", default="val", choices=("val", "train"), help="XQuAD/ViNewsQA questions asked")
    p.add_argument("--limit", type=int, help="at most N questions per data set (a fixed sample)")
    p.add_argument("--leftout", type=int, default=LEFTOUT_SAMPLE, help="left-out questions per data set")
    p.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="corpora, indexes and cached answers")
    p.add_argument("--out", type=Path, help="report path without suffix (default docs/answer_quality; "
                                            "--quick: <workdir>/answer_quality_quick)")
    p.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_QUESTIONS} questions, 6 left-out")
    p.add_argument("--check", action="store_true", help="only check the paraphrase file against the articles")
    args = p.parse_args(argv)
    if args.check:
        print(f"paraphrase_qa.jsonl: {check_paraphrase()} questions, evidence, figures and terms found")
        return 0
    limit, leftout = (args.limit or QUICK_QUESTIONS, min(args.leftout, 6)) if args.quick else (args.limit, args.leftout)
    out = args.out or (args.workdir / "answer_quality_quick" if args.quick else DEFAULT_OUT)
    settings = Settings.from_env()
    results = {}
    for name in args.datasets:
        print(f"{name}: ...", file=sys.stderr)
        try:
            res = run_dataset(name, args.split, settings, limit, args.workdir, leftout)
        except ds.DataMissingError as exc:
            print(f"{name}: skipped: {exc}", file=sys.stderr)
            continue
        results[name] = res
        print(f"{name}: {json.dumps(res['summary']['all'], ensure_ascii=False)}", file=sys.stderr)
    command = ".venv/bin/python -m benchmarks.answer_quality " + " ".join(argv if argv is not None else sys.argv[1:])
    report = write_report(results, out, command.strip(), args.workdir)
    for t in report["targets"]:
        print(f"{t['measure']:60s} {t['target']:>8s}  {t['value']!s:>8s}  {t['pass']}")
    print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
