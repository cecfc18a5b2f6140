"""Score the assistant on a question file (the JSON Lines format of `shared/eval/dev_qa.jsonl`).

Each line: {"id", "kind", "question", "figures": [...], "evidence": [...], "answer_terms"?: [...]}.
kind "unanswerable" expects an abstention (or an answer that says which years the sources have); the others expect the evidence retrieved and quoted
and the gold figures (or answer terms) in the answer.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    report = evaluate_file(Path("../shared/eval/dev_qa.jsonl"), Settings.from_env())
    report["metrics"]["evidence_top5"]
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from assistant.answer.compose import says_what_the_corpus_has
from assistant.vi import figures as figs
from assistant.types import Answer
from assistant.config import Settings
from assistant.vi.textnorm import fold


def load_qa(path: Path) -> list[dict]:
    """Read a question file; raises ValueError naming the bad line."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{i}: không phải JSON ({exc.msg})") from None
        if "question" not in row:
            raise ValueError(f"{path}:{i}: thiếu trường 'question'")
        rows.append(row)
    return rows


def _contains(haystack: str, needle: str) -> bool:
    return fold(" ".join(needle.split())) in fold(" ".join(haystack.split()))


def figure_in(answer_text: str, gold: str) -> bool:
    """True when the gold figure (e.g. '8,59%') is stated in the answer text."""
    gold_figs = figs.extract_figures(gold)
    stated = figs.extract_figures(answer_text)
    if gold_figs:
        return all(any(figs.same_figure(g, s) or (g.value == s.value and not g.unit) for s in stated)
                   for g in gold_figs)
    return _contains(answer_text, gold)


def score(row: dict, answer: Answer) -> dict:
    """Per-question scores (None where a metric does not apply)."""
    unanswerable = row.get("kind") == "unanswerable"
    evidence = row.get("evidence") or []
    out = {"id": row.get("id"), "kind": row.get("kind"), "abstained": answer.abstained,
           "latency_ms": answer.timings_ms.get("total", 0.0)}
    if unanswerable:  # abstaining, or saying which years the sources do have, is right
        out["correct"] = answer.abstained or says_what_the_corpus_has(answer.answer)
        return out
    ranks = [next((i for i, t in enumerate(r.text for r in answer.retrieved) if _contains(t, e)), None)
             for e in evidence]
    out["evidence_top5"] = all(r is not None and r < 5 for r in ranks) if evidence else None
    out["evidence_top1"] = bool(evidence) and ranks[0] == 0
    out["evidence_rank"] = ranks[0] if evidence else None
    quotes = " ".join(c.quote for c in answer.citations)
    out["quote_has_evidence"] = all(_contains(quotes, e) for e in evidence) if evidence else None
    gold_figs = row.get("figures") or []
    terms = row.get("answer_terms") or []
    out["figures_ok"] = all(figure_in(answer.answer, g) for g in gold_figs) if gold_figs else None
    out["terms_ok"] = all(_contains(answer.answer, t) for t in terms) if terms else None
    out["citations_valid"] = all(c.quote and c.quote in c.text for c in answer.citations)
    out["figures_verified"] = all(f.verified for f in answer.figures)
    out["correct"] = (not answer.abstained and out["figures_ok"] is not False and out["terms_ok"] is not False)
    return out


def summarize(rows: list[dict]) -> dict:
    """Aggregate metrics over per-question scores."""
    def rate(key: str, subset: list[dict]) -> float | None:
        vals = [r[key] for r in subset if r.get(key) is not None]
        return round(sum(map(bool, vals)) / len(vals), 4) if vals else None

    ans = [r for r in rows if r["kind"] != "unanswerable"]
    una = [r for r in rows if r["kind"] == "unanswerable"]
    lat = sorted(r["latency_ms"] for r in rows)
    ranks = [r.get("evidence_rank") for r in ans]
    mrr = round(statistics.fmean(1 / (r + 1) if r is not None else 0.0 for r in ranks), 4) if ranks else None
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "evidence_top1": rate("evidence_top1", ans), "evidence_top5": rate("evidence_top5", ans), "mrr": mrr,
        "figures_in_answer": rate("figures_ok", ans), "terms_in_answer": rate("terms_ok", ans),
        "quote_has_evidence": rate("quote_has_evidence", ans),
        "citations_valid": rate("citations_valid", ans), "figures_verified": rate("figures_verified", ans),
        "unanswerable_abstained": rate("correct", una),
        "answerable_abstained": sum(1 for r in ans if r["abstained"]),
        "correct": rate("correct", rows),
        "latency_p50_ms": round(_pct(lat, 50), 1) if lat else None,
        "latency_p95_ms": round(_pct(lat, 95), 1) if lat else None,
    }


def _pct(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def evaluate_file(path: Path, settings: Settings, assistant=None) -> dict:
    """Run every question of the file through the assistant and score it."""
    from assistant.app.pipeline import Assistant

    bot = assistant or Assistant(settings)
    rows = []
    for row in load_qa(path):
        answer = bot.ask(row["question"], province=None)
        rows.append({**score(row, answer), "answer": answer.answer})
    metrics = summarize(rows)
    lines = [f"{k:24s} {v}" for k, v in metrics.items()]
    failed = [r for r in rows if not r["correct"] or r.get("evidence_top5") is False
              or r.get("quote_has_evidence") is False]
    if failed:
        lines.append("")
        lines.append("Câu chưa đạt:")
        lines += [f"  {r['id']} ({r['kind']}): {r['answer'][:160]!r}" for r in failed]
    return {"metrics": metrics, "rows": rows, "text": "\n".join(lines)}
