"""Per-check and direct ``X=`` / ``a0=`` get the top level's validation (issue 28, second review):
a bad value, rows or features other than the run's, ``X`` and ``a0`` that contradict each other,
or an ``a0`` other than the run's recorded ``meta['a0']`` are refused by name."""

import numpy as np
import pytest

from solver import ADMM, init_weights, tasks
from verify import run_checks
from verify.checks import kkt_rate


@pytest.fixture(scope="module")
def run():
    task = tasks.make_task("square", n=30, seed=0, n_test=0)
    m = ADMM(hidden_layer_sizes=(4,), max_iter=20, random_state=0, engine="numpy", beta=50.0, lam=1.0)
    m.fit(task.X, task.y, init_weights=init_weights((1, 4, 1), "lecun_normal", 1.0, 0))
    return task.X, m.trace_


@pytest.mark.parametrize("kw, names", [
    (lambda X, a0: {"a0": -1.0}, "a0"), (lambda X, a0: {"a0": float("nan")}, "a0"),
    (lambda X, a0: {"a0": a0 * 1e-6}, "a0"), (lambda X, a0: {"a0": a0 * 1.5}, "a0"),
    (lambda X, a0: {"X": X[:5]}, "X"), (lambda X, a0: {"X": np.hstack([X, X])}, "X"),
    (lambda X, a0: {"X": X, "a0": a0 * 0.5}, "a0")])
def test_bad_per_check_and_direct_data_are_refused(run, kw, names):
    X, tr = run
    bad = kw(X, tr.meta["a0"])
    with pytest.raises(ValueError, match=names):
        kkt_rate(tr, **bad)
    with pytest.raises(ValueError, match=names):
        run_checks(tr, kkt_rate=bad)


def test_the_right_data_is_accepted(run):
    X, tr = run
    assert kkt_rate(tr, X=X, a0=tr.meta["a0"]).verdict is not None
