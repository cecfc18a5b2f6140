"""A small learned head over the question and sentence vectors: does this sentence answer this question?

Cosine similarity of e5 vectors says "about the same thing"; whether a sentence *answers* is a
different relation, which a head over the element-wise product and difference of the two unit
vectors learns from the train splits (a cross-encoder is out of reach on this CPU; this costs one
small matrix product per candidate). Its probability, its gap to the best and its rank are three
of the selector's signals (`features.HEAD_SIGNALS`). Fitted by `python -m assistant.learn.train_selector`.

>>> rng = np.random.default_rng(0)
>>> head = PairHead(rng.normal(size=(768, 4)).astype(np.float32), np.zeros(4, np.float32),
...                 rng.normal(size=4).astype(np.float32), 0.0)
>>> q, s = np.eye(384, dtype=np.float32)[0], np.eye(384, dtype=np.float32)[:3]
>>> p = head.score(q, s)
>>> p.shape, bool(((p > 0) & (p < 1)).all())
((3,), True)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def pair_features(qvec: np.ndarray, svecs: np.ndarray) -> np.ndarray:
    """[q ⊙ s, |q − s|] per sentence row (unit vectors in, float32 out)."""
    q = np.asarray(qvec, np.float32)[None, :]
    s = np.asarray(svecs, np.float32)
    return np.hstack([s * q, np.abs(s - q)])


@dataclass
class PairHead:
    """One hidden ReLU layer (or none, when `w1` is None: a logistic model on the pair features)."""

    w1: np.ndarray | None
    b1: np.ndarray | None
    w2: np.ndarray
    b2: float

    def score(self, qvec: np.ndarray, svecs: np.ndarray) -> np.ndarray:
        """P(answers) per sentence."""
        if len(svecs) == 0:
            return np.zeros(0, np.float32)
        x = pair_features(qvec, svecs)
        if self.w1 is not None:
            x = np.maximum(x @ self.w1 + self.b1, 0.0)
        z = x @ self.w2 + self.b2
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready weights."""
        return {"w1": None if self.w1 is None else self.w1.tolist(), "b1": None if self.b1 is None else self.b1.tolist(),
                "w2": self.w2.tolist(), "b2": float(self.b2)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PairHead":
        """Weights read back from `to_dict`."""
        arr = lambda v: None if v is None else np.asarray(v, np.float32)  # noqa: E731
        return cls(arr(d["w1"]), arr(d["b1"]), np.asarray(d["w2"], np.float32), float(d["b2"]))

    @classmethod
    def from_sklearn(cls, model: Any) -> "PairHead":
        """From a fitted sklearn MLPClassifier (one hidden ReLU layer) or LogisticRegression."""
        if hasattr(model, "coefs_"):
            (w1, w2), (b1, b2) = model.coefs_, model.intercepts_
            return cls(w1.astype(np.float32), b1.astype(np.float32), w2[:, 0].astype(np.float32), float(b2[0]))
        return cls(None, None, model.coef_[0].astype(np.float32), float(model.intercept_[0]))
