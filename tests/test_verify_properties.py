"""End-to-end property tests of Theorem 4 on real solver runs (hypothesis over verify.strategies).

* Inside the derived conditions (depth 1, every smooth activation the strategies draw,
  including a user-defined one): sufficient descent with the *derived* xi and at least
  the *derived* descent constant, iterates within the derived a-priori bound, dual steps
  bounded by primal steps, feasibility to zero.  A failure shrinks to a minimal
  RunSpec that hypothesis prints.
* In the empirically observed region (beta = 100, lambda = 1: see docs/verify.md's phase
  diagram), depth 1-2: descent, boundedness, dual-by-primal, feasibility (the rate is not
  universal there within 300 iterations: see the test's comment).
* Negative controls: outside the conditions (tiny beta, the authors' reference
  curvature) descent breaks; a ReLU run (recorded with the reference steps, since
  the estimator rightly rejects ReLU) breaks it too.
"""

import numpy as np
import pytest
from hypothesis import given, settings

from solver import ADMM, steps
from solver.trace import Trace
from theory import get_activation
from verify import (assert_converges, bounded_iterates, dual_bounded_by_primal, feasibility_to_zero,
                    kkt_rate, sufficient_descent)
from verify import strategies as vst


@settings(max_examples=10)
@given(vst.runs(inside=True, max_depth=1, max_iter=120, max_n=60))
def test_derived_conditions_give_sufficient_descent(spec):
    c = spec.conditions
    m = spec.fit()
    sd = sufficient_descent(m, xi=c.xi)
    assert sd.passed, sd.message
    # the measured descent constant is at least the derived one (Lemma 14 with our constants)
    assert sd.min_margin >= c.margin * (1 - 1e-6), (sd.min_margin, c.margin)
    b = bounded_iterates(m, bound={"Lam": c.bounds["a_star"]})
    assert b.passed, b.message
    assert dual_bounded_by_primal(m).passed
    f = feasibility_to_zero(m)
    assert f.passed, f.message


@settings(max_examples=8)
@given(vst.runs(inside=True, max_depth=2, max_width=6, max_iter=300, max_n=60))
def test_observed_region_shows_descent_boundedness_feasibility(spec):
    m = spec.fit(beta=100.0, lam=1.0, curvature="theory", curvature_factor=2.0)
    # The O(1/k) rate is NOT asserted here: hypothesis found problems in this region where,
    # within 300 iterations, min r_k decays like k^-0.89 and even min r_k^2 like k^-0.48
    # (docs/verify.md).  The rate is asserted on the fixed problems of test_verify_cli.py.
    assert_converges(m, checks=["sufficient_descent", "bounded_iterates",
                                "dual_bounded_by_primal", "feasibility_to_zero"])


@settings(max_examples=6)
@given(vst.runs(inside=False, min_depth=2, max_depth=3, max_iter=200, max_n=60))
def test_negative_control_tiny_beta_reference_curvature_breaks_descent(spec):
    m = spec.fit()
    assert not sufficient_descent(m).passed


def test_estimator_rejects_relu():
    with pytest.raises(ValueError, match="Assumption 1"):
        ADMM(activation="relu", hidden_layer_sizes=(3,), verbose=0).fit(
            np.zeros((5, 1)), np.zeros(5))


def _reference_trace(act, X, y, widths, beta, lam, iters, rule, seed=0):
    """Record a trace with solver.steps (bypasses the estimator's Assumption-1 check)."""
    rng = np.random.default_rng(seed)
    W = [np.hstack([rng.normal(0, 1 / np.sqrt(a), (b, a)), np.zeros((b, 1))])
         for a, b in zip(widths[:-1], widths[1:])]
    Xm, Y = X.T, y[None, :]
    V, Lam = steps.initial_point(W, Xm, act)
    N = len(W)
    beta = [beta] * N
    tr = Trace.empty(N, iters, meta={"activation": act.name, "beta": beta, "lam": lam})
    for k in range(iters):
        Wn, Vn, Lamn, _, _ = steps.admm_iteration(W, V, Lam, Xm, Y, lam, beta, act, rule, 1.0)
        tr.dW2[k] = [np.sum((a - b) ** 2) for a, b in zip(Wn, W)]
        tr.dV2[k] = [np.sum((a - b) ** 2) for a, b in zip(Vn, V)]
        tr.dLam2[k] = [np.sum((a - b) ** 2) / bb for a, b, bb in zip(Lamn, Lam, beta)]
        W, V, Lam = Wn, Vn, Lamn
        parts = steps.augmented_lagrangian(W, V, Lam, Xm, Y, lam, beta, act)
        for key in ("lagrangian", "loss", "reg", "dual", "penalty"):
            getattr(tr, key)[k] = parts[key]
        tr.set_length(k + 1)
    return tr


def test_negative_control_relu_breaks_descent():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (40, 1))
    y = X[:, 0] ** 2
    tr = _reference_trace(get_activation("relu"), X, y, (1, 6, 6, 1), beta=1.0, lam=1e-6,
                          iters=150, rule="reference")
    r = sufficient_descent(tr)
    assert not r.passed and r.n_violations > 0


def test_kkt_rate_not_reached_under_derived_conditions_is_reported():
    """Under the derived (very large) beta_1 the ADMM is a gradient method with step ~ 1/beta_1:
    the O(1/k) rate is not visible within 150 iterations, and the check says so."""
    from verify import conditions
    from solver import init_weights, tasks

    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((1, 4, 1), "lecun_normal", 1.0, 0)
    kw = conditions.schedule(1, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    m = ADMM(hidden_layer_sizes=(4,), max_iter=150, verbose=0, engine="numpy", **kw)
    m.fit(t.X, t.y, init_weights=w0)
    assert sufficient_descent(m).passed
    r = kkt_rate(m)
    assert not r.passed and "slower than 1/k" in r.message
