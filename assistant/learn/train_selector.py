"""Fit the answer selector (which sentence answers, whether to answer) on the train splits; choose on validation.

Data: XQuAD-vi and UIT-ViNewsQA (fixed train/val split by article, `datasets.split_of`) and the
'tune' part of our own paraphrase questions on the five seed articles. Each question is retrieved
for real over an index of its data set; every candidate sentence of the top-k chunks is one row of
`answer.features.FEATURES`, labelled 1 when it contains a gold answer. Unanswerable cases are made
by leaving each question's own article out of its retrieved passages (as if it were not indexed),
so the threshold learns when to abstain.

Models tried: logistic regression (several C) and gradient-boosted trees, each with its own answer decision;
the one with the best validation value (right answers and right abstentions weighed by `answerable_prior`)
is kept, its top-1 selection accuracy reported beside it (ties go to the linear model: simpler and faster; trees
are exported to numpy arrays, `answer.trees`, so neither needs scikit-learn at run time). Whether to answer is a question-level logistic model of "answering would be right"
(answerable, and a gold sentence among the two quoted), with a threshold weighing right answers
against right abstentions by the share of answerable questions among the questions users ask
(`answerable_prior`); it and the second-sentence ratio are fitted on train and reported on val.

    .venv/bin/python -m assistant.learn.train_selector [--workdir /tmp/selector-work] [--limit N]

writes `assistant/answer/models/selector.json` with the command, the data hashes and the scores.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.answer.features import (COVERAGE_INPUTS, FEATURES, QUESTION_FEATURES, SCORE_INPUTS, candidate_spans,
                                       eligible, featurize, question_row)
from assistant.answer.selector import DEFAULT_ARTIFACT, SentenceSelector
from assistant.answer.trees import TreeEnsemble
from assistant.config import Settings
from assistant.indexing.sentence_vectors import chunk_sentences
from assistant.learn.datasets import QAItem, SourceArticle, articles_hash, load, write_corpus
from assistant.vi.question import QuestionInfo, analyze
from assistant.vi.tokens import lexical_tokens
from assistant.vi.textnorm import fold

K = 5  # passages per question, as the app retrieves by default (ASSISTANT_K)
LEFTOUT_PER_SPLIT = 150  # unanswerable questions per data set and split: enough for a threshold, cheap to ask
# Train questions per data set: ViNewsQA's ~1,900 would double the run for little (the linear model's
# validation accuracy is flat past ~800 questions in the quick runs); XQuAD's ~960 are all used.
MAX_TRAIN_QUESTIONS = 900
# Train questions per data set asked again without diacritics, as users often type them (hand-set: a fifth of the
# sample, enough rows for the trees to learn that regime at ~+20% run time).
PLAIN_PER_SET = 200
SECOND_RATIOS = (0.0, 0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)  # 0 = always two sentences, 1.01 = never
C_GRID = (0.1, 1.0, 10.0)


@dataclass
class Examples:
    """Feature rows of many questions: row i belongs to question `group[i]`."""

    X: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    length: list[np.ndarray] = field(default_factory=list)
    answerable: list[bool] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    T: list[np.ndarray] = field(default_factory=list)  # its candidates' texts, one per row of X
    question: list[str] = field(default_factory=list)
    article: list[str] = field(default_factory=list)  # the question's gold article (folds are cut by article)
    _questions: list = field(default_factory=list, repr=False)

    def add(self, X: np.ndarray, y: np.ndarray, length: np.ndarray, answerable: bool, source: str,
            T: np.ndarray, question: str, article: str) -> None:
        self.X.append(X), self.y.append(y), self.length.append(length)
        self.answerable.append(answerable), self.source.append(source)
        self.T.append(T), self.question.append(question)
        self.article.append(article)

    def questions(self) -> list[tuple[QuestionInfo, list[str], list[frozenset[str]]]]:
        """Per question: its analysis, candidate texts and their token sets (computed once: the answer model's
        inputs are read for every variant fitted)."""
        if len(self._questions) != len(self.question):
            self._questions = [(analyze(q), list(t), [frozenset(lexical_tokens(x)) for x in t])
                               for q, t in zip(self.question, self.T)]
        return self._questions

    def extend(self, other: "Examples") -> None:
        for name in ("X", "y", "length", "answerable", "source", "T", "question", "article"):
            getattr(self, name).extend(getattr(other, name))

    def stacked(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, labels) of the answerable questions (the unanswerable ones only shape the threshold)."""
        xs = [x for x, a in zip(self.X, self.answerable) if a and len(x)]
        ys = [y for y, a, x in zip(self.y, self.answerable, self.X) if a and len(x)]
        return np.concatenate(xs), np.concatenate(ys)


class Precomputed:
    """Question vectors encoded in one batch, served to the retriever by text."""

    def __init__(self, embeddings, texts: Sequence[str]):
        self.embeddings = embeddings
        uniq = list(dict.fromkeys(texts))
        self.vectors = dict(zip(uniq, embeddings.encode_queries(uniq))) if uniq else {}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for the texts (encoded now if not seen)."""
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embeddings.encode_queries(missing)))
        return np.stack([self.vectors[t] for t in texts])


def _norm(text: str) -> str:
    return fold(" ".join(text.split()))


def ensure_index(articles: Sequence[SourceArticle], workdir: Path, embeddings, exclude: Sequence[str] = ()) -> Settings:
    """An index of the articles (minus `exclude`) under workdir, rebuilt only when their hash changes."""
    from assistant.indexing.indexer import Indexer

    workdir.mkdir(parents=True, exist_ok=True)
    stamp = workdir / "articles.sha256"
    want = articles_hash(articles, exclude)
    settings = Settings.from_env({}, corpus_dir=workdir / "corpus", index_dir=workdir / "index")
    if stamp.exists() and stamp.read_text() == want:
        return settings
    write_corpus(articles, workdir / "corpus", exclude)
    summary = Indexer(settings, embeddings=embeddings, show_progress=False).run()
    if not summary.ok:
        raise RuntimeError(f"index build failed in {workdir}: {summary}")
    stamp.write_text(want)
    return settings


def collect(items: Sequence[QAItem], settings: Settings, embeddings, answerable: bool, source: str,
            cache: dict[str, np.ndarray]) -> Examples:
    """Retrieve each question for real and featurize every candidate sentence of its top-k chunks.

    With `answerable=False` the question's own article is dropped from the hits (a left-out case).
    """
    from assistant.indexing.reader import IndexReader
    from assistant.retrieve.retriever import HybridRetriever

    retriever = HybridRetriever.from_settings(settings, IndexReader(settings, embeddings))
    infos = [analyze(item.question) for item in items]
    # One batched pass over the questions and the index's sentences: ~20x faster than one call per question.
    queries = Precomputed(embeddings, [i.text for i in infos])
    retriever.query_encoder = queries
    sentences = chunk_sentences(c.text for c in retriever.reader.catalog.iter_chunks())
    todo = [s for s in sentences if s not in cache]
    if todo:
        cache.update(zip(todo, embeddings.encode_passages(todo)))
    out = Examples()
    for item, info in zip(items, infos):
        if answerable or not item.article_id:
            hits = retriever.search(info.text, k=K, provinces=info.provinces)
        else:  # as if the article were not indexed: retrieve more, drop its chunks
            hits = [h for h in retriever.search(info.text, k=3 * K, provinces=info.provinces)
                    if h.chunk.article_id != item.article_id][:K]
        spans = candidate_spans(hits)
        texts = [s.text for s in spans]
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            for t, v in zip(missing, embeddings.encode_passages(missing)):
                cache[t] = v
        qvec = queries.encode_queries([info.text])[0]
        svecs = np.stack([cache[t] for t in texts]) if texts else None
        X = featurize(info, hits, spans, qvec, svecs)
        golds = [_norm(g) for g in (item.row.get("evidence") or item.answers) if g.strip()]
        y = np.array([float(any(g in _norm(t) for g in golds)) if answerable else 0.0 for t in texts], np.float32)
        out.add(X, y, np.array([len(t) for t in texts], np.float32), answerable, source,
                np.array(texts, dtype=str), info.text, item.article_id or "")
    return out


MODEL_NAMES = tuple(f"logistic C={c}" for c in C_GRID) + ("boosted trees",)
# Folds for the out-of-fold probabilities the answer decision is fitted on (hand-set: 5, the usual choice; each
# fold's model sees 4/5 of the train articles).
FOLDS = 5


def _fit_model(name: str, X: np.ndarray, y: np.ndarray):
    """One candidate sentence model, by name (MODEL_NAMES), fitted on rows X with labels y."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "boosted trees":
        return HistGradientBoostingClassifier(max_iter=300, learning_rate=0.08, max_leaf_nodes=31,
                                              random_state=0).fit(X, y)
    c = float(name.split("=")[1])
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000)).fit(X, y)


def _fit_candidates(X: np.ndarray, y: np.ndarray) -> dict[str, object]:
    return {name: _fit_model(name, X, y) for name in MODEL_NAMES}


def out_of_fold_probs(name: str, ex: Examples, folds: int = FOLDS) -> list[np.ndarray]:
    """Each train question's candidate probabilities from a model fitted without its article's fold.

    The answer decision and its threshold are fitted on these: a model's scores of the questions it was fitted
    on are surer than its scores of new ones (trees: train gold-in-quote 0.85 vs validation 0.76), so an answer
    decision fitted on them answers too readily."""
    fold = [int(hashlib.sha256(a.encode()).hexdigest(), 16) % folds for a in ex.article]
    out: list[np.ndarray] = [np.zeros(0)] * len(ex.X)
    for k in range(folds):
        rows = [i for i, f in enumerate(fold) if f != k and ex.answerable[i] and len(ex.X[i])]
        model = _fit_model(name, np.concatenate([ex.X[i] for i in rows]), np.concatenate([ex.y[i] for i in rows]))
        for i, f in enumerate(fold):
            if f == k and len(ex.X[i]):
                out[i] = model.predict_proba(ex.X[i])[:, 1] * eligible(ex.X[i])
    return out


def _probs(model, ex: Examples, cols: Sequence[int] | None = None) -> list[np.ndarray]:
    """P(answers) per candidate, zero where a gate forbids the sentence (as the answerer does)."""
    return [model.predict_proba(x if cols is None else x[:, cols])[:, 1] * eligible(x) if len(x) else np.zeros(0)
            for x in ex.X]


def top1_accuracy(probs: list[np.ndarray], ex: Examples) -> float:
    """Share of answerable questions (with a gold sentence among the candidates) whose best-scored one is gold."""
    hits = [float(y[int(np.argmax(p))] > 0) for p, y, a in zip(probs, ex.y, ex.answerable) if a and y.sum() > 0]
    return float(np.mean(hits)) if hits else 0.0


def outcomes(probs: list[np.ndarray], ex: Examples, answered: Sequence[bool], ratio: float) -> dict[str, float]:
    """Answer-level rates given which questions are answered and the second-sentence ratio."""
    in_quote, false_abst, leftout_abst, lengths, precision = [], [], [], [], []
    for p, y, a, ln, ans in zip(probs, ex.y, ex.answerable, ex.length, answered):
        if not a:
            leftout_abst.append(float(not ans))
            continue
        false_abst.append(float(not ans))
        if not ans:
            in_quote.append(0.0)
            continue
        order = np.argsort(-p)
        chosen = [int(order[0])]
        if len(order) > 1 and p[order[1]] > 0 and p[order[1]] >= ratio * p[order[0]]:
            chosen.append(int(order[1]))
        in_quote.append(float(any(y[i] > 0 for i in chosen)))
        precision.append(float(np.mean([y[i] > 0 for i in chosen])))
        lengths.append(float(sum(ln[i] for i in chosen)))
    mean = lambda v: float(np.mean(v)) if v else 0.0  # noqa: E731
    return {"gold_in_quote": mean(in_quote), "quote_precision": mean(precision), "false_abstention": mean(false_abst),
            "leftout_abstained": mean(leftout_abst), "quote_chars_p50": float(np.median(lengths)) if lengths else 0.0}


def right_if_answered(probs: list[np.ndarray], ex: Examples) -> np.ndarray:
    """Per question: answering it would be right (answerable, and a gold sentence among the best two)."""
    return np.array([bool(a and len(p) and y[np.argsort(-p, kind="stable")[:2]].sum() > 0)
                     for p, y, a in zip(probs, ex.y, ex.answerable)])


def _weighted_threshold(scores: np.ndarray, answerable: np.ndarray, right: np.ndarray, prior: float) -> float:
    """The threshold with the most right outcomes when a question is answerable with probability `prior`:
    prior * P(answered and right | answerable) + (1 - prior) * P(abstained | not answerable).
    A wrong answer and a refusal of an answerable question count alike (DESIGN.md, "What a good answer is")."""
    grid = np.unique(np.quantile(scores, np.linspace(0, 1, 401)))
    value = [prior * (((scores >= t) & right)[answerable].mean() if answerable.any() else 0)
             + (1 - prior) * ((scores[~answerable] < t).mean() if (~answerable).any() else 0) for t in grid]
    return float(grid[int(np.argmax(value))])


def question_rows(probs: list[np.ndarray], ex: Examples, features: Sequence[str] = QUESTION_FEATURES) -> np.ndarray:
    """QUESTION_FEATURES (or the named ones) of every question, computed as the answerer computes them."""
    cols = [QUESTION_FEATURES.index(f) for f in features]
    return np.stack([question_row(p, x, info, t, tokens)[cols]
                     for p, x, (info, t, tokens) in zip(probs, ex.X, ex.questions())])


def fit_answer_model(probs: list[np.ndarray], ex: Examples, prior: float, target: str = "right",
                     features: Sequence[str] = QUESTION_FEATURES) -> dict:
    """The question-level model of whether answering is right (`target="answerable"`: of whether the question is
    answerable) over `features` of QUESTION_FEATURES, with its threshold weighted by `prior`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    Q = question_rows(probs, ex, features)
    ans, right = np.array(ex.answerable), right_if_answered(probs, ex)
    scaler = StandardScaler().fit(Q)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(Q), right if target == "right" else ans)
    scores = lr.predict_proba(scaler.transform(Q))[:, 1]
    return {"features": list(features), "mean": scaler.mean_.tolist(),
            "scale": np.where(scaler.scale_ > 0, scaler.scale_, 1.0).tolist(), "coef": lr.coef_[0].tolist(),
            "intercept": float(lr.intercept_[0]), "threshold": _weighted_threshold(scores, ans, right, prior),
            "target": {"right": "answering is right (answerable, gold among the two best)",
                       "answerable": "answerable"}[target], "answerable_prior": prior}


def answered_by(sel: SentenceSelector, probs: list[np.ndarray], ex: Examples) -> list[bool]:
    """Which questions the selector answers (as the answerer decides)."""
    return [sel.should_answer(p, x, info, t, tokens) if len(p) else False
            for p, x, (info, t, tokens) in zip(probs, ex.X, ex.questions())]


def fit_threshold(probs: list[np.ndarray], ex: Examples, prior: float) -> float:
    """The best-probability threshold (used when no question-level model is given)."""
    best_p = np.array([p.max() if len(p) else 0.0 for p in probs])
    return _weighted_threshold(best_p, np.array(ex.answerable), right_if_answered(probs, ex), prior)


def fit_ratio(probs: list[np.ndarray], ex: Examples, answered: Sequence[bool]) -> float:
    """The second-sentence ratio with the most gold in the quote while quotes stay short (p50 ≤ 400 chars).

    Gold in the quote plus quote precision was tried as the objective: it chose 0.6 and cost 0.04 of validation
    gold-in-quote (0.634 vs 0.676), the issue's measure, so the precision is reported, not optimized."""
    best, best_key = SECOND_RATIOS[-1], (-1.0, 0.0)
    for r in SECOND_RATIOS:
        o = outcomes(probs, ex, answered, r)
        key = (o["gold_in_quote"] if o["quote_chars_p50"] <= 400 else -1.0, r)
        if key > best_key:
            best, best_key = r, key
    return best


def _selector(model, threshold: float, ratio: float, trained: dict) -> SentenceSelector:
    if hasattr(model, "steps"):  # scaler + logistic regression
        scaler, lr = model.steps[0][1], model.steps[1][1]
        return SentenceSelector(list(FEATURES), "linear", threshold, ratio, mean=scaler.mean_.astype(np.float32),
                                scale=np.where(scaler.scale_ > 0, scaler.scale_, 1.0).astype(np.float32),
                                coef=lr.coef_[0].astype(np.float32), intercept=float(lr.intercept_[0]),
                                trained=trained)
    return SentenceSelector(list(FEATURES), "trees", threshold, ratio, model=TreeEnsemble.from_sklearn(model),
                            trained=trained)


def ablation(X: np.ndarray, y: np.ndarray, val: Examples, groups: dict[str, Sequence[str]]) -> dict[str, float]:
    """Validation top-1 accuracy of the linear model without each group of signals (what each adds)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {}
    for label, names in groups.items():
        keep = [i for i, f in enumerate(FEATURES) if f not in names]
        m = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(X[:, keep], y)
        probs = _probs(m, val, keep)
        out[label] = round(top1_accuracy(probs, val), 4)
    return out


# What the answer decision may read: the candidates' scores only, or also how much of the question the retrieved
# sentences contain at all, and what the best one gets wrong (count noun, year, target); validation (value under
# the prior) picks one.
ANSWER_INPUTS = {"scores": SCORE_INPUTS, "scores + question coverage": SCORE_INPUTS + COVERAGE_INPUTS,
                 "scores + coverage + the best sentence's mismatches": QUESTION_FEATURES}

SIGNAL_GROUPS = {
    "none (all signals)": (),
    "semantic": ("sem", "sem_gap", "sem_rank_inv", "prev_sem", "next_sem"),
    "lexical": ("lex_cov", "word_cov", "pair_hit", "lex_rank_inv", "prev_lex_cov"),
    "figure kind": ("expects", "has_expected", "expects_missing", "count_ok"),
    "year": ("year_asked", "year_match", "year_mismatch"),
    "target/achieved": ("q_target", "s_target", "s_achieved", "target_agree", "target_clash"),
    "province": ("prov_asked", "other_place", "chunk_prov_match", "index_clash"),
    "retrieval": ("hit_rank_inv", "hit_score_rel", "dense_rank_inv", "top_article"),
    "neighbours": ("prev_sem", "next_sem", "prev_lex_cov"),
}


def cached_collect(path: Path, items: Sequence[QAItem], settings: Settings, embeddings, answerable: bool, source: str,
                   cache: dict[str, np.ndarray]) -> Examples:
    """`collect`, kept in `path` (a .npz) so a stopped run resumes where it was."""
    ids = hashlib.sha256("|".join(q.id for q in items).encode()).hexdigest()[:16]
    if path.exists():
        z = np.load(path, allow_pickle=False)
        stored = str(z["features"]).split("|")
        if str(z["ids"]) == ids and set(FEATURES) <= set(stored) and "articles" in z:
            ex = Examples()
            # Each z[key] reads the whole array again: read once, then slice views of it.
            bounds, X, y, length, T, qs, arts = (z[k] for k in ("bounds", "X", "y", "length", "T", "questions",
                                                                "articles"))
            if stored != list(FEATURES):  # written when more signals were computed: keep today's, in order
                X = X[:, [stored.index(f) for f in FEATURES]]
            for i in range(len(bounds) - 1):
                a, b = bounds[i], bounds[i + 1]
                ex.add(X[a:b], y[a:b], length[a:b], answerable, source, T[a:b], str(qs[i]), str(arts[i]))
            return ex
    ex = collect(items, settings, embeddings, answerable, source, cache)
    bounds = np.cumsum([0] + [len(x) for x in ex.X])
    np.savez(path, ids=ids, features="|".join(FEATURES), bounds=bounds,
             X=np.concatenate(ex.X) if ex.X else np.zeros((0, len(FEATURES)), np.float32),
             y=np.concatenate(ex.y) if ex.y else np.zeros(0, np.float32),
             length=np.concatenate(ex.length) if ex.length else np.zeros(0, np.float32),
             T=np.concatenate(ex.T) if ex.T else np.zeros(0, str), questions=np.array(ex.question, dtype=str),
             articles=np.array(ex.article, dtype=str))
    return ex


def _size_tag(split: str, n: int) -> str:
    """Cache-file suffix: train example files of another sample size are other files."""
    return f"-{n}" if split == "train" else ""


def _sample(items: list[QAItem], n: int) -> list[QAItem]:
    return sorted(items, key=lambda q: hashlib.sha256(q.id.encode()).hexdigest())[:n]


def build_examples(workdir: Path, limit: int | None, embeddings,
                   max_train: int = MAX_TRAIN_QUESTIONS) -> dict[str, Examples]:
    """Train and val examples of every data set (answerable and left-out)."""
    sets = {"train": Examples(), "val": Examples()}
    cache: dict[str, np.ndarray] = {}
    for name in ("xquad", "vinewsqa"):
        items, arts = load(name)
        if limit:
            keep_articles = sorted({q.article_id for q in items})[: max(10, limit // 3)]
            arts = [a for a in arts if a.article_id in keep_articles]
            items = [q for q in items if q.article_id in set(keep_articles)]
        full = ensure_index(arts, workdir / name / "full", embeddings)
        for split in ("train", "val"):
            qs = [q for q in items if q.split == split and q.answers]
            qs = qs[:limit] if limit else _sample(qs, max_train) if split == "train" else qs
            t = time.perf_counter()
            sets[split].extend(cached_collect(workdir / f"{name}-{split}{_size_tag(split, len(qs))}.npz", qs, full, embeddings, True, name, cache))
            if split == "train":
                plain = [replace(q, id=f"{q.id}-plain", question=fold(q.question))
                         for q in _sample(qs, min(PLAIN_PER_SET, len(qs)) if not limit else max(3, limit // 3))]
                sets[split].extend(cached_collect(workdir / f"{name}-{split}-plain-{len(plain)}.npz", plain, full,
                                                  embeddings, True, name + "-plain", cache))
            left = _sample(qs, min(LEFTOUT_PER_SPLIT, len(qs)) if not limit else max(3, limit // 3))
            sets[split].extend(cached_collect(workdir / f"{name}-{split}-leftout.npz", left, full, embeddings, False,
                                              name + "-leftout", cache))
            print(f"  {name} {split}: {len(qs)} questions + {len(left)} left out, {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
    items, arts = load("paraphrase")
    seeds = ensure_index(arts, workdir / "seeds", embeddings)
    tune = [q for q in items if q.split == "tune" and q.kind != "factcheck"]
    sets["train"].extend(cached_collect(workdir / "paraphrase-tune.npz", [q for q in tune if q.kind != "unanswerable"],
                                        seeds, embeddings, True, "paraphrase", cache))
    sets["train"].extend(cached_collect(workdir / "paraphrase-tune-unanswerable.npz",
                                        [q for q in tune if q.kind == "unanswerable"], seeds, embeddings, False,
                                        "paraphrase-unanswerable", cache))
    return sets


def data_hashes() -> dict[str, str]:
    """sha256 of every data file the selector is trained or chosen on."""
    from assistant.learn.datasets import PARAPHRASE_FILE, shared_dir

    base = shared_dir()
    files = [base / "data/xquad_vi/retrieval/corpus.jsonl", base / "data/xquad_vi/retrieval/queries.jsonl",
             base / "data/vinewsqa_dev/vinewsqa_dev.json", PARAPHRASE_FILE]
    return {str(p.relative_to(base) if p.is_relative_to(base) else p.name): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}


def _without(ex: Examples, names: Sequence[str]) -> Examples:
    """The same examples with some signals at 0 (as the answerer computes them when it lacks their source)."""
    cols = [FEATURES.index(f) for f in names]
    out = Examples()
    out.extend(ex)
    out._questions = ex.questions()  # the texts are the same: analyse them once
    out.X = [x.copy() for x in ex.X]
    for x in out.X:
        x[:, cols] = 0.0
    return out


def answerable_prior() -> tuple[float, dict[str, str]]:
    """Share of answerable questions among the questions written as users ask them (dev_qa and the tune part of
    our paraphrase file; the holdout part stays unseen): how often a question has its answer in the corpus,
    which weighs a false abstention against a missed left-out case in the answer threshold."""
    rows = []
    for name in ("dev_qa", "paraphrase"):
        items, _ = load(name)
        rows += [q.kind != "unanswerable" for q in items if q.kind != "factcheck" and q.split != "holdout"]
    return float(np.mean(rows)), {"answerable": str(sum(rows)), "questions": str(len(rows))}


def train(workdir: Path, out: Path, limit: int | None = None, command: str = "",
          max_train: int = MAX_TRAIN_QUESTIONS) -> dict:
    """Build the examples, fit and choose a selector, write it to `out`; returns the training record."""
    from assistant.indexing.embed.embeddings import load_embeddings

    t0 = time.perf_counter()
    embeddings = load_embeddings(Settings.from_env({}))
    sets = build_examples(workdir, limit, embeddings, max_train)
    prior, prior_counts = answerable_prior()
    train_ex, val_ex = sets["train"], sets["val"]
    X, y = train_ex.stacked()
    models = _fit_candidates(X, y)
    val_top1 = {n: round(top1_accuracy(_probs(m, val_ex), val_ex), 4) for n, m in models.items()}
    # Each model with each set of answer inputs, judged on validation by what the product is for: right answers
    # and right abstentions weighed by the prior (top-1 alone never sees the abstentions a model's scores allow).
    fitted: dict[str, dict[str, tuple[SentenceSelector, dict]]] = {}
    oof = {name: out_of_fold_probs(name, train_ex) for name in models}
    for name, m in models.items():
        probs = _probs(m, val_ex)
        fitted[name] = {}
        for label, qf in ANSWER_INPUTS.items():
            c = _fitted_selector(m, list(FEATURES), train_ex, prior, question_features=qf, probs=oof[name])
            o = outcomes(probs, val_ex, answered_by(c, probs, val_ex), c.second_ratio)
            fitted[name][label] = c, {**o, "value_under_prior": prior * o["gold_in_quote"]
                                      + (1 - prior) * o["leftout_abstained"]}
    val_value = {n: round(max(v["value_under_prior"] for _, v in f.values()), 4) for n, f in fitted.items()}
    # Ties (within 0.005, about one question in 200) go to a linear model: simpler and faster to evaluate.
    best = max(val_value.values())
    simple = [n for n in val_value if n.startswith("logistic") and val_value[n] >= best - 0.005]
    chosen = min(simple, key=lambda n: (-val_value[n], n)) if simple else max(val_value, key=val_value.get)
    val_probs = _probs(models[chosen], val_ex)
    answer_inputs = {label: o for label, (_, o) in fitted[chosen].items()}
    answer_inputs["chosen"] = max(fitted[chosen], key=lambda k: fitted[chosen][k][1]["value_under_prior"])
    sel = fitted[chosen][answer_inputs["chosen"]][0]
    record = {
        "command": command, "model": chosen, "seconds": round(time.perf_counter() - t0, 1),
        "data_sha256": data_hashes(), "limit": limit, "max_train_questions": max_train,
        "answerable_prior": {"value": round(prior, 4), **prior_counts},
        "train": {"questions": len(train_ex.X), "rows": int(len(y)), "positives": int(y.sum()),
                  **sel.trained.pop("train_outcomes")},
        "validation": {"questions": len(val_ex.X), "top1_by_model": val_top1, "value_under_prior_by_model": val_value,
                       "top1": top1_accuracy(val_probs, val_ex),
                       **outcomes(val_probs, val_ex, answered_by(sel, val_probs, val_ex), sel.second_ratio),
                       "answerable_vs_leftout_balanced": _balanced_variant(models[chosen], train_ex, val_ex),
                       "answer_inputs_compared": answer_inputs},
        "signal_ablation_val_top1": ablation(X, y, val_ex, SIGNAL_GROUPS),
    }
    sel.trained = record
    sel.without_semantic = fit_without_semantic(X, y, train_ex, val_ex, record, prior)
    sel.save(out)
    return record


def _balanced_variant(model, train_ex: Examples, val_ex: Examples) -> dict:
    """Validation outcomes of the previous kind of answer decision, for comparison: a model of "answerable",
    its threshold fitted as if answerable and left-out questions were equally common."""
    sel = _fitted_selector(model, list(FEATURES), train_ex, 0.5, target="answerable")
    probs = _probs(model, val_ex)
    return outcomes(probs, val_ex, answered_by(sel, probs, val_ex), sel.second_ratio)


def _fitted_selector(model, features: list[str], train_ex: Examples, prior: float,
                     target: str = "right", question_features: Sequence[str] = QUESTION_FEATURES,
                     probs: list[np.ndarray] | None = None) -> SentenceSelector:
    """A selector around a fitted model: its answer model and second-sentence ratio fitted on train (on `probs`,
    the out-of-fold ones, when given; else on the model's own scores of train)."""
    cols = [FEATURES.index(f) for f in features]
    probs = probs if probs is not None else _probs(model, train_ex, cols)
    sel = _selector(model, fit_threshold(probs, train_ex, prior), SECOND_RATIOS[-1], {})
    sel.features = features
    sel.answer_model = fit_answer_model(probs, train_ex, prior, target, question_features)
    answered = answered_by(sel, probs, train_ex)
    sel.second_ratio = fit_ratio(probs, train_ex, answered)
    sel.trained = {"train_outcomes": outcomes(probs, train_ex, answered, sel.second_ratio)}
    return sel


def _validation(sel: SentenceSelector, model, val_ex: Examples, cols: Sequence[int]) -> dict:
    probs = _probs(model, val_ex, cols)
    return {"top1": top1_accuracy(probs, val_ex), **outcomes(probs, val_ex, answered_by(sel, probs, val_ex),
                                                             sel.second_ratio)}


def fit_without_semantic(X: np.ndarray, y: np.ndarray, train_ex: Examples, val_ex: Examples,
                         record: dict, prior: float) -> SentenceSelector:
    """The linear selector over every signal but the semantic ones (for an answerer without an embedder)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    dropped = SIGNAL_GROUPS["semantic"]
    names = [f for f in FEATURES if f not in dropped]
    cols = [FEATURES.index(f) for f in names]
    blank_train, blank_val = _without(train_ex, dropped), _without(val_ex, dropped)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(X[:, cols], y)
    sel = _fitted_selector(model, names, blank_train, prior)
    sel.trained = {"validation": _validation(sel, model, blank_val, cols)}
    record["without_semantic"] = sel.trained["validation"]
    return sel


def main(argv: list[str] | None = None) -> int:
    """Command line: train and write the artifact."""
    ap = argparse.ArgumentParser(prog="python -m assistant.learn.train_selector", description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/selector-work"))
    ap.add_argument("--out", type=Path, default=DEFAULT_ARTIFACT)
    ap.add_argument("--limit", type=int, default=None, help="questions per data set and split (a quick run)")
    ap.add_argument("--max-train", type=int, default=MAX_TRAIN_QUESTIONS,
                    help=f"train questions per data set (default {MAX_TRAIN_QUESTIONS})")
    args = ap.parse_args(argv)
    cmd = "python -m assistant.learn.train_selector" + (f" --limit {args.limit}" if args.limit else "") + \
        (f" --max-train {args.max_train}" if args.max_train != MAX_TRAIN_QUESTIONS else "")
    record = train(args.workdir, args.out, args.limit, cmd, args.max_train)
    print(json.dumps({k: record[k] for k in ("model", "seconds", "train", "validation", "signal_ablation_val_top1")},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
