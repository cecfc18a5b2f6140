"""A boosted-tree classifier read with numpy alone, so answering never imports scikit-learn.

Training fits scikit-learn's `HistGradientBoostingClassifier`; `TreeEnsemble.from_sklearn` copies its trees
into flat arrays (saved as a plain `.npz`, no pickle) and `predict` walks them the way scikit-learn does:
a value at or below the node's threshold goes left, a missing one goes where training sent missing values.
Loading scikit-learn and scipy cost about 1.6 s of every cold `ask`; this file loads in milliseconds.

>>> import numpy as np
>>> t = TreeEnsemble(feature=np.array([0, 0, 0]), threshold=np.array([0.5, 0, 0]),
...                  left=np.array([1, 0, 0]), right=np.array([2, 0, 0]), missing_left=np.array([True, False, False]),
...                  is_leaf=np.array([False, True, True]), value=np.array([0.0, -2.0, 2.0]), roots=np.array([0]),
...                  baseline=0.0)
>>> [round(float(p), 3) for p in t.predict(np.array([[0.0], [1.0], [np.nan]]))]
[0.119, 0.881, 0.119]
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class TreeEnsemble:
    """All trees of a binary boosted model in one node table; tree t starts at node `roots[t]`."""

    feature: np.ndarray  # per node: the column it splits on
    threshold: np.ndarray  # per node: go left when the value is <= this
    left: np.ndarray  # per node: index of its left child in this table
    right: np.ndarray
    missing_left: np.ndarray  # per node: where a NaN goes
    is_leaf: np.ndarray
    value: np.ndarray  # per leaf: its contribution to the raw score
    roots: np.ndarray
    baseline: float  # raw score before any tree

    @classmethod
    def from_sklearn(cls, model: Any) -> "TreeEnsemble":
        """The trees of a fitted binary `HistGradientBoostingClassifier` (numeric features only)."""
        if getattr(model, "n_trees_per_iteration_", 1) != 1 or len(getattr(model, "classes_", [0, 1])) != 2:
            raise ValueError("only a binary classifier can be exported")
        parts, roots, offset = [], [], 0
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not exported")
            parts.append(nodes)
            roots.append(offset)
            offset += len(nodes)
        nodes = np.concatenate(parts)
        shift = np.repeat(roots, [len(p) for p in parts])
        return cls(feature=nodes["feature_idx"].astype(np.int32), threshold=nodes["num_threshold"].astype(np.float64),
                   left=(nodes["left"].astype(np.int64) + shift).astype(np.int32),
                   right=(nodes["right"].astype(np.int64) + shift).astype(np.int32),
                   missing_left=nodes["missing_go_to_left"].astype(bool), is_leaf=nodes["is_leaf"].astype(bool),
                   value=nodes["value"].astype(np.float64), roots=np.asarray(roots, np.int32),
                   baseline=float(np.ravel(model._baseline_prediction)[0]))

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """The raw score (log-odds) per row."""
        x = np.asarray(rows, np.float64)
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        r = np.arange(len(x))[:, None]
        while True:
            leaf = self.is_leaf[node]
            if leaf.all():
                break
            v = x[r, self.feature[node]]
            go_left = np.where(np.isnan(v), self.missing_left[node], v <= self.threshold[node])
            node = np.where(leaf, node, np.where(go_left, self.left[node], self.right[node]))
        return self.baseline + self.value[node].sum(axis=1)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """P(class 1) per row, as `predict_proba(rows)[:, 1]` of the model it came from."""
        return 1.0 / (1.0 + np.exp(-self.raw(rows)))

    def save(self, path: Path) -> None:
        """Write the arrays to `path` (a .npz), atomically."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **{f.name: np.asarray(getattr(self, f.name)) for f in fields(self)})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TreeEnsemble":
        """Read arrays written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            arrays = {f.name: z[f.name] for f in fields(cls)}
        arrays["baseline"] = float(arrays["baseline"])
        return cls(**arrays)
