"""Issue 28, third independent attack: held-out classes of wrong credit, each fixed as a class.

* an ``X=`` contradicting the run's recorded ``meta['a0'] = ||[X; 1]||_2`` is refused by name
  (every check that takes X, and ``relative_error``, which read it without validation);
* impossible metadata is never agreement: ``a0 < sqrt(n)`` (``||[X; 1]||_2 >= ||1||``),
  a negative ``y_norm``, widths that are not N + 1 positive integers;
* ``meta['initial']`` must satisfy paper eq. (6) (``L = loss + reg + dual + penalty``): an edited
  initial ``L_beta`` made covers credit conditions and sufficient_descent FAIL;
* ``sigadmm verify --trace`` refuses the training options it would ignore (``--schedule``, ...);
* a lookalike of a built-in's name (spaces, invisible or compatibility characters) is refused.
"""

import warnings

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import ADMM, Trace, init_weights, tasks
from theory import Activation
from verify import conditions, relative_error, run_checks
from verify.checks import kkt_rate
from verify.integrity import TraceIntegrityError, validate_trace


@pytest.fixture(scope="module")
def fitted():
    task = tasks.make_task("square", n=36, seed=4, n_test=0)
    w0 = init_weights((1, 5, 1), "lecun_normal", 1.0, 4)
    c = conditions.derive_from_data(1, "tanh", X=task.X, y=task.y, init_weights=w0, lam=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ADMM(hidden_layer_sizes=(5,), max_iter=25, random_state=0, **c.kwargs).fit(
            task.X, task.y, init_weights=w0)
    return task, c, m.trace_


def _copy(tr):
    return Trace.from_dict(tr.to_dict())


@settings(max_examples=8, deadline=None)
@given(scale=st.floats(0.2, 5.0).filter(lambda s: abs(s - 1) > 1e-6),
       shift=st.floats(-2.0, 2.0))
def test_an_X_that_is_not_the_runs_data_is_refused(fitted, scale, shift):
    task, c, tr = fitted
    X = scale * task.X + shift
    if np.isclose(np.linalg.norm(np.hstack([X, np.ones((len(X), 1))]), 2), tr.meta["a0"], rtol=1e-9):
        return
    for call in (lambda: run_checks(tr, conditions=c, X=X), lambda: kkt_rate(tr, X=X),
                 lambda: relative_error(tr, X=X)):
        with pytest.raises(ValueError, match="X"):
            call()


@pytest.mark.parametrize("a0", [-1.0, float("nan"), 0.0])
def test_relative_error_validates_a0(fitted, a0):
    _, _, tr = fitted
    with pytest.raises(ValueError, match="a0"):
        relative_error(tr, a0=a0)


def test_relative_error_refuses_an_a0_other_than_the_recorded_one(fitted):
    _, _, tr = fitted
    for f in (1e-3, 1e3):
        with pytest.raises(ValueError, match="a0"):
            relative_error(tr, a0=f * tr.meta["a0"])


@pytest.mark.parametrize("key, value", [
    ("a0", -1.0), ("a0", 0.0), ("a0", 1e-300), ("a0", 0.5),            # below sqrt(n) = 6
    ("y_norm", -3.0), ("widths", [5]), ("widths", [1, 5.9, 1]), ("widths", [1, "5", 1]),
    ("widths", [1, 5, 1, 1]), ("widths", [1, True, 1]),
])
def test_impossible_metadata_is_never_agreement(fitted, key, value):
    _, c, tr = fitted
    assert c.covers(tr) is None
    t2 = _copy(tr)
    t2.meta[key] = value
    why = c.covers(t2)
    assert why is not None and key in why, (key, value, why)


@pytest.mark.parametrize("edit", ["zero", "E0", "half"])
def test_an_initial_record_that_contradicts_eq6_is_refused(fitted, edit):
    _, c, tr = fitted
    t2 = _copy(tr)
    L0 = t2.meta["initial"]["lagrangian"]
    t2.meta["initial"]["lagrangian"] = {"zero": 0.0, "E0": float(c.data["E0"]) * 0.999, "half": 0.5 * L0}[edit]
    with pytest.raises(TraceIntegrityError, match="initial"):
        validate_trace(t2)
    with pytest.raises(ValueError, match="initial"):      # run_checks validates before judging
        run_checks(t2, conditions=c)


def test_the_honest_initial_record_passes(fitted):
    _, _, tr = fitted
    validate_trace(tr)


@pytest.mark.parametrize("opt", [["--schedule"], ["--lam", "0.5"], ["--width", "9"], ["--iters", "50"],
                                 ["--task", "product"], ["--seed", "3"]])
def test_cli_refuses_training_options_with_a_trace(fitted, tmp_path, opt):
    from sigadmm.cli import main

    _, _, tr = fitted
    path = tmp_path / "run.npz"
    tr.save(path)
    r = CliRunner().invoke(main, ["verify", "--trace", str(path), *opt])
    assert r.exit_code == 2 and "--trace" in r.output, r.output
    ok = CliRunner().invoke(main, ["verify", "--trace", str(path)])
    assert ok.exit_code in (0, 3), ok.output


@pytest.mark.parametrize("name", [" sigmoid", "sigmoid\n", "relu ", "tanh\u200b", "\u017figmoid",
                                  "\uff33\uff29\uff27\uff2d\uff2f\uff29\uff24", "gauss-cdf", "ARCTAN"])
def test_lookalikes_of_builtin_names_are_refused(name):
    t = sp.Symbol("t", real=True)
    with pytest.raises(ValueError, match="name"):
        Activation.from_expr(1 / (1 + sp.exp(-3 * t)), t, name)


# ------------------------------------------------------------ the re-attack of the fixes (round 4)
@pytest.mark.parametrize("a0", ["6.3", [6.3], 0.01, -3.0, float("nan"), True])
def test_an_impossible_recorded_a0_is_refused_before_any_check(fitted, a0):
    """meta['a0'] is ||[X; 1]||_2 >= sqrt(n): a string, a list, a value below sqrt(n) or NaN is
    refused by validate_trace (kkt_rate had built a FAIL on a0 = 0.01; an X= check was skipped
    for a string a0)."""
    task, _, tr = fitted
    t2 = _copy(tr)
    t2.meta["a0"] = a0
    with pytest.raises(TraceIntegrityError, match="a0"):
        validate_trace(t2)
    with pytest.raises(ValueError, match="a0"):
        kkt_rate(t2, X=10 * task.X)


def test_covers_never_crashes_on_a_garbled_n_samples(fitted):
    _, c, tr = fitted
    t2 = _copy(tr)
    t2.meta["n_samples"] = "forty"
    assert c.covers(t2) is not None


def test_relative_error_validates_X_even_with_b(fitted):
    task, _, tr = fitted
    with pytest.raises(ValueError, match="X"):
        relative_error(tr, b=1.0, X=2 * task.X)
