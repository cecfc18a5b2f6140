"""The numpy tree reader gives scikit-learn's probabilities, and answering with the committed selector never
imports scikit-learn (it cost about 1.6 s of every cold `ask`)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier

from assistant.answer.selector import DEFAULT_ARTIFACT, SelectorError, SentenceSelector
from assistant.answer.trees import TreeEnsemble
from tests.support.paths import ROOT


def _fitted(seed: int, nan_share: float, depth: int | None) -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    X[:, 2] = rng.integers(0, 3, 400)  # a few distinct values: thresholds fall between them
    y = (X[:, 0] + 0.5 * X[:, 2] - X[:, 3] * X[:, 1] + rng.normal(scale=0.5, size=400) > 0.3).astype(int)
    X[rng.random(X.shape) < nan_share] = np.nan  # missing values must go where training sent them
    model = HistGradientBoostingClassifier(max_iter=25, max_depth=depth, random_state=seed).fit(X, y)
    return model, X


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), nan_share=st.sampled_from([0.0, 0.1, 0.3]), depth=st.sampled_from([None, 2, 5]))
def test_exported_trees_predict_what_scikit_learn_predicts(seed, nan_share, depth):
    model, X = _fitted(seed, nan_share, depth)
    rng = np.random.default_rng(seed + 1)
    fresh = rng.normal(size=(200, 6)).astype(np.float32)
    fresh[rng.random(fresh.shape) < nan_share] = np.nan
    rows = np.concatenate([X, fresh])
    trees = TreeEnsemble.from_sklearn(model)
    np.testing.assert_allclose(trees.predict(rows), model.predict_proba(rows)[:, 1], rtol=0, atol=1e-9)


def test_saved_trees_load_back_identical_and_without_pickle(tmp_path):
    model, X = _fitted(7, 0.1, None)
    trees = TreeEnsemble.from_sklearn(model)
    trees.save(tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:  # plain arrays: no object loads code
        assert all(z[k].dtype != object for k in z.files)
    np.testing.assert_array_equal(TreeEnsemble.load(tmp_path / "t.npz").predict(X), trees.predict(X))


def test_a_multiclass_model_is_refused():
    rng = np.random.default_rng(0)
    model = HistGradientBoostingClassifier(max_iter=3).fit(rng.normal(size=(60, 2)), np.arange(60) % 3)
    with pytest.raises(ValueError, match="binary"):
        TreeEnsemble.from_sklearn(model)


def test_a_selector_whose_trees_file_is_missing_gives_a_vietnamese_error(tmp_path):
    art = json.loads(DEFAULT_ARTIFACT.read_text(encoding="utf-8"))
    art.update(kind="trees", trees="absent-trees.npz")
    (tmp_path / "selector.json").write_text(json.dumps(art), encoding="utf-8")
    with pytest.raises(SelectorError, match="không đọc được cây"):
        SentenceSelector.load(tmp_path / "selector.json")


def test_answering_with_the_committed_selector_does_not_import_scikit_learn():
    code = ("import sys, numpy as np\n"
            "from assistant.answer.selector import SentenceSelector\n"
            "sel = SentenceSelector.load()\n"
            "p = sel.predict(np.zeros((3, len(sel.features)), np.float32))\n"
            "assert p.shape == (3,) and ((p >= 0) & (p <= 1)).all()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
