"""run_measures: the final and best-over-the-run errors of one recorded run (docs/reproduce.md,
"Like with like"), and the table trial that records them."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sigadmm.reproduce import FULL, experiment_settings, experiment_trial, run_measures

finite = st.floats(min_value=1e-12, max_value=1e3, allow_nan=False)
maybe_nan = st.one_of(finite, st.just(math.nan), st.just(math.inf))


@given(st.lists(st.tuples(maybe_nan, maybe_nan), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_best_is_the_smallest_finite_value_and_final_is_the_last(pairs):
    tr = np.array([p[0] for p in pairs])
    te = np.array([p[1] for p in pairs])
    it = np.arange(1, len(pairs) + 1) * 10
    m = run_measures({"iteration": it, "train_mse": tr, "test_mse": te})
    # the final values are the last recorded point, whatever it is
    assert (m["train_mse"] == tr[-1]) or (math.isnan(m["train_mse"]) and math.isnan(tr[-1]))
    fin = np.isfinite(tr)
    if fin.any():
        assert m["best_train_mse"] == tr[fin].min()
        k = int(m["best_iteration"] // 10) - 1
        assert tr[k] == m["best_train_mse"]
        assert m["test_at_best_train"] == te[k] or (math.isnan(te[k]) and math.isnan(m["test_at_best_train"]))
        # the first minimiser: no earlier finite point is as small
        assert not (tr[:k] <= tr[k]).any()
    else:
        assert math.isnan(m["best_train_mse"]) and math.isnan(m["best_iteration"])
    if np.isfinite(te).any():
        assert m["best_test_mse"] == te[np.isfinite(te)].min()
        assert m["best_test_mse"] <= m["test_at_best_train"] or math.isnan(m["test_at_best_train"])


def test_empty_history_and_shape_errors():
    m = run_measures({"iteration": [], "train_mse": [], "test_mse": []})
    assert all(math.isnan(v) for v in m.values())
    with pytest.raises(ValueError, match="history"):
        run_measures({"iteration": [1, 2], "train_mse": [1.0], "test_mse": [1.0, 2.0]})


def test_admm_trial_best_is_min_over_its_iterations():
    s = experiment_settings(FULL, "square", "admm_sigmoid", width=10)
    s["iters"] = 15
    r = experiment_trial(s, 0)
    assert r["iterations"] == 15 and r["run_status"] == "max_iter"
    assert r["best_train_mse"] <= r["train_mse"]
    assert 1 <= r["best_iteration"] <= 15
    assert r["best_test_mse"] <= r["test_mse"]


def test_diverged_baseline_is_a_row_not_an_error():
    # ReLU depth 20 width 300 at the paper's SGD rate diverges at once (product, Table 4)
    s = experiment_settings(FULL, "product", "sgd_relu")
    s["epochs"] = 2
    r = experiment_trial(s, 0)
    if r["run_status"] != "diverged":
        pytest.skip(f"this torch build did not diverge ({r['run_status']})")
    assert math.isnan(r["best_train_mse"]) and math.isnan(r["train_mse"])
