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


@pytest.mark.parametrize("digits", [6, 8, 12])
@pytest.mark.parametrize("shift", [-0.49, 0.49])
def test_a0_as_printed_is_the_recorded_value_and_a_larger_rounding_is_not_used(run, digits, shift):
    """``a0`` printed to six or more significant digits (rounded either way) is accepted, and
    the check uses the larger of it and the recorded ``meta['a0']`` (Lemma 21's ``b`` grows with
    ``a0``: a value rounded down is no upper bound), so the result equals the recorded value's;
    a value off by more than six digits' rounding is refused naming ``a0``."""
    from verify import kkt_rate
    _, m = run
    rec = float(m.trace_.meta["a0"])
    e = 10.0 ** (np.floor(np.log10(rec)) - digits + 1)
    printed = float(f"{rec:.{digits}g}") + shift * e
    ref = kkt_rate(m, a0=rec)
    got = kkt_rate(m, a0=printed)
    if printed <= rec:
        assert got.message == ref.message and got.verdict == ref.verdict
    for off in (-2e-5, 2e-5):
        with pytest.raises(ValueError, match="^a0:"):
            run_checks(m, a0=rec * (1 + off))
