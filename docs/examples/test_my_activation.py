"""Checking my own activation with sigadmm's `verify` (docs/checking_your_own.md).

Run it from any folder with ``pytest test_my_activation.py``: the fixture ``assert_converges``
comes from the plugin that ``pip install sigadmm`` registers with pytest.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

from solver import ADMM, Trace, init_weights, tasks
from theory import Activation
from verify import conditions, rate_certificate, sufficient_descent
from verify import strategies as vst
from verify.doctored import reconcile

t = sp.Symbol("t")
# 1. my activation: an algebraic sigmoid, given by its formula and a name of its own
#    (a built-in's name such as "sigmoid" or "logistic" would be refused)
MY_ACT = Activation.from_expr((1 + t / sp.sqrt(1 + t**2)) / 2, t, "my_algebraic")


@pytest.fixture(scope="module")
def setup():
    """A small square-like task, initial weights, and the derived depth-1 conditions."""
    task = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((task.X.shape[1], 5, 1), "lecun_normal", 1.0, 0)
    # 2. derived conditions: beta, lambda and the constants xi, a, b of the proof
    c = conditions.derive_from_data(1, MY_ACT, X=task.X, y=task.y, init_weights=w0, lam=1.0)
    model = ADMM(hidden_layer_sizes=(5,), max_iter=150, random_state=0, **c.kwargs)
    model.fit(task.X, task.y, init_weights=w0)
    return task, c, model


def test_the_conditions_carry_my_activation(setup):
    _, c, model = setup
    assert c.kwargs["activation"] is MY_ACT               # the object, not a name
    assert model.trace_.meta["activation_expr"] == str(MY_ACT.expr)


def test_my_run_converges(assert_converges, setup):
    _, c, model = setup
    # 3. one conditions= for every check that takes it; INCONCLUSIVE (e.g. a stalled
    #    residual: the run is too short to show the rate) is let through, FAIL is not
    results = assert_converges(model, conditions=c, allow_inconclusive=True)
    assert results["sufficient_descent"].passed          # Lemma 14 with the derived xi, a
    cert = rate_certificate(model, conditions=c)
    assert cert.passed
    # a certificate that holds can still say little: read its slack
    print(cert.message)
    assert cert.final_slack >= 1


# 4. a property over drawn runs inside the derived conditions, with my activation
@settings(max_examples=3, deadline=None)
@given(vst.runs(inside=True, activation=MY_ACT, max_depth=1, max_n=40, max_iter=60))
def test_descent_holds_inside_the_conditions(spec):
    model = spec.fit()
    res = sufficient_descent(model, conditions=spec.conditions)
    # inside the derived conditions Lemma 14 must never FAIL; INCONCLUSIVE is allowed (a small
    # lambda needs beta_1 near 1e8, which float64 cannot resolve: the validity guard says so)
    assert not res.failed, res.message


# 5. a regression test: a trace doctored to break Lemma 14 must be caught
def test_a_doctored_trace_is_caught(setup, tmp_path):
    _, c, model = setup
    tr = Trace.from_dict(model.trace_.to_dict())
    tr.lagrangian[99:] += 1e-2 * np.arange(1, len(tr) - 98)      # L_beta rises from k = 100 on
    with pytest.raises(ValueError, match="integrity"):            # its parts no longer add up:
        sufficient_descent(tr, conditions=c)                      # refused before any check
    reconcile(tr)                      # carry the rise into the loss and ||Lam_N||: consistent
    saved = tr.save(tmp_path / "doctored.npz")
    res = sufficient_descent(Trace.load(saved), conditions=c)
    assert res.failed and res.violations[0] == 100
