"""The shared ``X=`` / ``a0=`` of ``run_checks`` are checked by name before any check reads them
(independent review of issue 28: ``X`` with 5 of 30 rows and ``a0 = -1`` were accepted silently)."""

import warnings

import numpy as np
import pytest

from solver import ADMM, tasks
from verify import run_checks


@pytest.fixture(scope="module")
def run():
    task = tasks.make_task("square", n=30, seed=1, n_test=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ADMM(hidden_layer_sizes=(3,), max_iter=20, verbose=0, random_state=0, engine="numpy",
                 activation="tanh", beta=100.0, lam=1.0).fit(task.X, task.y)
    return task, m


@pytest.mark.parametrize("kw,name", [({"a0": -1.0}, "a0"), ({"a0": float("nan")}, "a0"), ({"a0": "big"}, "a0"),
                                     ({"X": "rows"}, "X"), ({"X": np.full((30, 1), np.nan)}, "X")])
def test_bad_shared_inputs_are_refused_by_name(run, kw, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        run_checks(run[1], **kw)


def test_X_of_another_size_is_refused_and_the_right_one_accepted(run):
    task, m = run
    with pytest.raises(ValueError, match="X: the run was trained on 30 samples, X has 5 rows"):
        run_checks(m, X=task.X[:5])
    assert set(run_checks(m, X=task.X)) >= {"sufficient_descent", "kkt_rate"}
