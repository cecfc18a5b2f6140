"""Answer quality asserted on the VALIDATION splits only (never on the questions the selector was fitted on),
with the real model and real indexes; dev_qa stays a regression set; the training script reproduces a usable
artifact from a few minutes of data."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.paths import ROOT, settings_for

# Floors sit a few points below what this test itself measured with the committed selector (2026-12-04, 2 cores):
# on the first 150 ViNewsQA validation questions gold 0.767, false abstention 0.093, left out abstained 0.707 (half
# of these articles left out, the other half indexed); the selector of 2026-12-03 gave 0.713, 0.127 and 0.787.
# XQuAD and paraphrase: the harness measured 0.826 in the quote and 0.978 on the same questions (0.791 and 0.848
# before). They catch a broken answer stage, not a point of quality; the targets and the full validation
# figures are in docs/answer_quality.md.
XQUAD_VAL_GOLD_IN_QUOTE = 0.80
VINEWSQA_VAL_GOLD_IN_ANSWER = 0.72
VINEWSQA_VAL_FALSE_ABSTENTION = 0.14
LEFTOUT_ABSTAINED = 0.64
PARAPHRASE_HOLDOUT_CORRECT = 0.88
VINEWSQA_VAL_QUESTIONS = 150  # the first 150 of 560 validation questions keep the run to a minute


def _norm(text: str) -> str:
    from assistant.vi.textnorm import fold

    return fold(" ".join(text.split()))


def _index_of(articles, tmp_path, embeddings):
    from assistant.indexing.indexer import Indexer
    from assistant.learn.datasets import write_corpus

    write_corpus(articles, tmp_path / "corpus")
    settings = settings_for(tmp_path / "corpus", tmp_path / "index")
    assert Indexer(settings, embeddings=embeddings, show_progress=False).run().ok
    return settings


def _ask_all(settings, items, embeddings):
    from assistant.app.pipeline import Assistant
    from assistant.indexing.reader import IndexReader

    bot = Assistant(settings, IndexReader(settings, embeddings))
    return [(q, bot.ask(q.question)) for q in items]


def test_xquad_validation_gold_answer_is_in_the_quote(tmp_path, embeddings):
    from assistant.learn.datasets import load

    items, arts = load("xquad")
    val_ids = {q.article_id for q in items if q.split == "val"}
    settings = _index_of([a for a in arts if a.article_id in val_ids], tmp_path, embeddings)
    results = _ask_all(settings, [q for q in items if q.split == "val"], embeddings)
    in_quote = [any(_norm(g) in _norm(" ".join(c.quote for c in a.citations)) for g in q.answers) for q, a in results]
    assert sum(in_quote) / len(in_quote) >= XQUAD_VAL_GOLD_IN_QUOTE, f"{sum(in_quote)}/{len(in_quote)}"


def test_vinewsqa_validation_answers_and_abstains_when_the_article_is_left_out(tmp_path, embeddings):
    from assistant.learn.datasets import load

    items, arts = load("vinewsqa")
    val = [q for q in items if q.split == "val"][:VINEWSQA_VAL_QUESTIONS]
    val_ids = {q.article_id for q in val}
    settings = _index_of([a for a in arts if a.article_id in val_ids], tmp_path / "with", embeddings)
    results = _ask_all(settings, val, embeddings)
    gold = [any(_norm(g) in _norm(a.answer) for g in q.answers) for q, a in results]
    abstained = [a.abstained for _, a in results]
    measured = {"gold_in_answer": sum(gold) / len(gold), "false_abstention": sum(abstained) / len(abstained)}
    # Left out: the same questions over the other validation articles only (their own article is not indexed).
    by_article: dict[str, list] = {}
    for q in val:
        by_article.setdefault(q.article_id, []).append(q)
    half = sorted(by_article)[: len(by_article) // 2]
    other = _index_of([a for a in arts if a.article_id in val_ids and a.article_id not in half], tmp_path / "without",
                      embeddings)
    left = _ask_all(other, [q for aid in half for q in by_article[aid]], embeddings)
    measured["leftout_abstained"] = sum(a.abstained for _, a in left) / len(left)
    assert measured["gold_in_answer"] >= VINEWSQA_VAL_GOLD_IN_ANSWER, measured
    assert measured["false_abstention"] <= VINEWSQA_VAL_FALSE_ABSTENTION, measured
    assert measured["leftout_abstained"] >= LEFTOUT_ABSTAINED, measured


def test_paraphrase_holdout_questions_are_answered(index_copy, embeddings):
    from assistant.app.evaluate import score
    from assistant.learn.datasets import load

    settings, _, _ = index_copy
    items, _ = load("paraphrase")
    holdout = [q for q in items if q.split == "holdout"]
    results = _ask_all(settings, holdout, embeddings)
    correct = [score(q.row, a)["correct"] for q, a in results]
    assert sum(correct) / len(correct) >= PARAPHRASE_HOLDOUT_CORRECT


def test_the_training_script_reproduces_a_usable_selector(tmp_path, subprocess_env):
    out = tmp_path / "selector.json"
    proc = subprocess.run([sys.executable, "-m", "assistant.learn.train_selector", "--limit", "12",
                           "--workdir", str(tmp_path / "work"), "--out", str(out)],
                          cwd=ROOT, env=subprocess_env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from assistant.answer.selector import SentenceSelector

    sel = SentenceSelector.load(out)
    record = json.loads(out.read_text(encoding="utf-8"))["trained"]
    assert record["limit"] == 12 and record["data_sha256"]
    # A few minutes of data: the best-scored sentence is the gold one for most validation questions.
    assert record["validation"]["top1"] >= 0.5, record["validation"]
    assert 0.0 < sel.threshold < 1.0 and sel.without_semantic is not None
