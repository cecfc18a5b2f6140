"""The learned answer selector: how likely each candidate sentence answers, and whether to answer at all.

Its weights are fitted by `python -m assistant.learn.train_selector` on the train splits and chosen
on validation (see the artifact's `trained` record and docs/answer_quality.md); nothing in it is set
by hand. Both kinds of model, linear and boosted trees (`answer.trees`), are read with numpy alone.

>>> sel = SentenceSelector.load()
>>> probs = sel.predict(np.zeros((2, len(sel.features)), np.float32))
>>> probs.shape, bool(((probs >= 0) & (probs <= 1)).all())
((2,), True)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from assistant.answer.features import FEATURES, QUESTION_FEATURES, question_row
from assistant.answer.trees import TreeEnsemble
from assistant.vi.question import QuestionInfo
from assistant.errors import AssistantError

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_ARTIFACT = MODEL_DIR / "selector.json"


class SelectorError(AssistantError, RuntimeError):
    """The selector artifact is missing or does not fit the features this code computes."""


@dataclass
class SentenceSelector:
    """P(sentence answers the question) from a feature row; `threshold` decides whether to answer."""

    features: list[str]
    kind: str  # "linear" | "trees"
    threshold: float  # answer only when the best sentence's probability reaches it (fitted on train)
    second_ratio: float  # quote a second sentence whose probability is at least this share of the best
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    coef: np.ndarray | None = None
    intercept: float = 0.0
    model: TreeEnsemble | None = None
    trained: dict = field(default_factory=dict)
    # The same decision without the semantic signals, for an answerer that has no embedding model.
    without_semantic: "SentenceSelector | None" = None
    # Whether to answer at all, from QUESTION_FEATURES (a linear model; its own threshold replaces `threshold`).
    answer_model: dict | None = None

    def should_answer(self, probs: np.ndarray, rows: np.ndarray, info: QuestionInfo | None = None,
                      texts: Sequence[str] = (), tokens: Sequence[frozenset[str]] | None = None) -> bool:
        """Answer when the question-level model (or, without one, the best probability) reaches its threshold."""
        if len(probs) == 0 or probs.max() <= 0:
            return False
        if not self.answer_model:
            return float(probs.max()) >= self.threshold
        m = self.answer_model
        q = question_row(probs, rows, info, texts, tokens)[[QUESTION_FEATURES.index(f) for f in m["features"]]]
        q = (q - np.asarray(m["mean"], np.float32)) / np.asarray(m["scale"], np.float32)
        p = 1.0 / (1.0 + np.exp(-(q @ np.asarray(m["coef"], np.float32) + m["intercept"])))
        return float(p) >= m["threshold"]

    def for_inputs(self, has_vectors: bool) -> "SentenceSelector":
        """The selector to use: the full one, or the one fitted without semantic signals when there are no vectors."""
        return self if has_vectors or self.without_semantic is None else self.without_semantic

    @classmethod
    def load(cls, path: Path = DEFAULT_ARTIFACT) -> "SentenceSelector":
        """Read an artifact written by the training script."""
        try:
            art = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SelectorError(f"không đọc được mô hình chọn câu {path}: {exc}") from None
        if art["features"] != list(FEATURES) and not set(art["features"]) <= set(FEATURES):
            raise SelectorError(f"mô hình chọn câu {path} được huấn luyện với bộ đặc trưng khác; "
                                "chạy lại `python -m assistant.learn.train_selector`")
        sel = cls._from_dict(art, Path(path))
        if art.get("without_semantic"):
            sel.without_semantic = cls._from_dict(art["without_semantic"], Path(path))
        return sel

    @classmethod
    def _from_dict(cls, art: dict, path: Path) -> "SentenceSelector":
        sel = cls(art["features"], art["kind"], float(art["threshold"]), float(art["second_ratio"]),
                  trained=art.get("trained", {}), answer_model=art.get("answer_model"))
        if sel.kind == "linear":
            sel.mean, sel.scale = np.asarray(art["mean"], np.float32), np.asarray(art["scale"], np.float32)
            sel.coef, sel.intercept = np.asarray(art["coef"], np.float32), float(art["intercept"])
        elif sel.kind == "trees":
            try:
                sel.model = TreeEnsemble.load(path.with_name(art["trees"]))
            except (OSError, KeyError, ValueError) as exc:
                raise SelectorError(f"không đọc được cây của mô hình chọn câu {path}: {exc}") from None
        else:
            raise SelectorError(f"mô hình chọn câu {path} có kiểu lạ {sel.kind!r}; "
                                "chạy lại `python -m assistant.learn.train_selector`")
        return sel

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Probability per row (a row of all FEATURES) that the sentence answers."""
        if len(rows) == 0:
            return np.zeros(0, np.float32)
        if self.features != list(FEATURES):
            rows = rows[:, [FEATURES.index(f) for f in self.features]]
        if self.kind == "linear":
            z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
            return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return self.model.predict(rows).astype(np.float32)

    def to_dict(self, tree_files: dict[int, str] | None = None) -> dict[str, Any]:
        """The JSON form (a tree model is named by its file in `tree_files`, keyed by the selector's id)."""
        art: dict[str, Any] = {"features": self.features, "kind": self.kind, "threshold": self.threshold,
                               "second_ratio": self.second_ratio, "trained": self.trained}
        if self.kind == "linear":
            art.update(mean=self.mean.tolist(), scale=self.scale.tolist(), coef=self.coef.tolist(),
                       intercept=self.intercept)
        else:
            art["trees"] = (tree_files or {}).get(id(self), "")
        if self.answer_model is not None:
            art["answer_model"] = self.answer_model
        if self.without_semantic is not None:
            art["without_semantic"] = self.without_semantic.to_dict(tree_files)
        return art

    def save(self, path: Path = DEFAULT_ARTIFACT) -> None:
        """Write the artifact (JSON, plus an .npz of trees beside it per tree model), atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tree_files: dict[int, str] = {}
        for suffix, sel in (("", self), ("-no-semantic", self.without_semantic)):
            if sel is not None and sel.kind == "trees":
                trees = path.with_name(f"{path.stem}{suffix}-trees.npz")
                sel.model.save(trees)
                tree_files[id(sel)] = trees.name
        art = self.to_dict(tree_files)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(art, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
