"""Derived two-hidden-layer conditions, Lemma 21 (relative error) and the proof's O(1/k) chain.

* Property: on hypothesis-drawn two-hidden-layer problems (every smooth activation of the
  strategies), runs under the DERIVED conditions show sufficient descent of the Lyapunov
  function with the DERIVED per-layer xi, a measured descent constant >= the derived a,
  r_k <= b sqrt(P_k + P_{k-1}) with the derived b, and the proof's rate chain.
* Negative controls: each new check fails, naming where, on input that violates it.
"""

import numpy as np

from verify.doctored import reconcile
import pytest
from hypothesis import given, settings

from verify import (Verdict, bounded_iterates, conditions, rate_certificate, relative_error,
                    sufficient_descent)
from verify import strategies as vst

from test_verify_checks import make_trace


@settings(max_examples=4, deadline=None)
@given(vst.runs(inside=True, min_depth=2, max_depth=2, max_width=4, max_iter=60, max_n=40))
def test_derived_two_hidden_conditions_give_descent_relative_error_and_rate_chain(spec):
    """PASS where float64 resolves every block; where the validity guard flags a layer the
    verdict must be INCONCLUSIVE (never PASS), and the constants are still certified by the
    run's measured norms (conditions.certifies)."""
    c = spec.conditions
    assert c.depth == 2 and c.derived and len(c.xi_layers) == 3 and c.a > 0
    assert c.beta[0] > c.beta[1] > c.beta[2] > 1          # the theorem's geometric structure
    m = spec.fit()
    nv = conditions.numerical_validity(m.trace_)
    sd = sufficient_descent(m, conditions=c)
    if nv["flagged"]:
        assert sd.verdict == Verdict.INCONCLUSIVE, sd.message
    else:
        assert sd.verdict == Verdict.PASS, sd.message
        assert sd.min_margin >= c.margin * (1 - 1e-6), (sd.min_margin, c.margin)
        assert conditions.lemma18_steps(m.trace_)["holds"]
        re = relative_error(m, b=c.b)
        assert re.passed, re.message
        bi = bounded_iterates(m, conditions=c)            # inside the derived box (Conditions.box)
        assert bi.verdict == Verdict.PASS, bi.message
    box = c.box()
    assert box.Lam == tuple(c.bounds["box"][k] for k in ("l1", "l2", "l3"))
    assert box.W[1] == c.bounds["box"]["om2"]
    assert conditions.certifies(m.trace_, c.xi_layers, c.a)["holds"]


def _run(depth=2, act="sigmoid", iters=40, lam=10.0):
    from solver import ADMM, init_weights, tasks
    import warnings

    t = tasks.make_task("square", n=30, seed=0, n_test=0)
    w0 = init_weights((1,) + (3,) * depth + (1,), "lecun_normal", 1.0, 0)
    c = conditions.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=lam)
    m = ADMM(hidden_layer_sizes=(3,) * depth, max_iter=iters, verbose=0, engine="numpy",
             **c.kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    return m, c


@pytest.fixture(scope="module")
def run2():
    # lam = 10: the derived beta_1 (4e7) is resolved in float64; at lam = 1 it is 4e10, which
    # the validity guard flags (every check on it is then INCONCLUSIVE)
    return _run(2, "sigmoid")


def test_relative_error_fails_below_the_measured_ratio(run2):
    m, c = run2
    ok = relative_error(m, b=c.b)
    assert ok.passed and ok.slack >= 1
    bad = relative_error(m, b=0.5 * ok.sup_ratio)
    assert not bad.passed and bad.first_violation is not None and "first at k" in bad.message


def test_relative_error_fails_when_residual_has_no_primal_step():
    tr = make_trace(K=30)
    tr.dW2[10:] = 0.0
    tr.dV2[10:] = 0.0                   # no step, but the KKT residual stays positive
    tr.kkt_total[:] = 1.0
    for f in ("normW", "normV", "normLam"):  # no step: the norms stay put (validate_trace)
        getattr(tr, f)[10:] = getattr(tr, f)[9]
    reconcile(tr)
    r = relative_error(tr, window=1)
    assert not r.passed and "no primal step" in r.message


def test_rate_certificate_names_the_broken_link(run2):
    m, c = run2
    assert rate_certificate(m, conditions=c).passed
    r = rate_certificate(m, a=1e6 * c.margin, b=c.b, xi=c.xi_layers)       # a too optimistic
    assert not r.passed and r.broken == "lemma14"
    r = rate_certificate(m, a=c.margin, b=1e-3, xi=c.xi_layers)            # b too small
    assert not r.passed and r.broken == "lemma21" and "lemma21" in r.message


def test_rate_certificate_fails_on_a_rising_lyapunov_function():
    tr = make_trace(K=40, a=0.5)
    tr.lagrangian[:] = tr.lagrangian[::-1].copy()          # Lhat now increases
    reconcile(tr)                                           # carried into the loss
    r = rate_certificate(tr, a=0.1, b=1e6, xi=0.0)
    assert not r.passed and r.broken == "lemma14"


def test_rate_certificate_refuses_missing_constants(run2):
    m, _ = run2
    with pytest.raises(ValueError, match="a, b, xi"):
        rate_certificate(m)
    with pytest.raises(ValueError, match="start"):
        rate_certificate(m, a=1, b=1, xi=0, start=2)


def test_vector_xi_matches_the_lyapunov_definition():
    tr = make_trace(K=40, N=3, a=1e-3, xi_true=2.0)
    same = sufficient_descent(tr, xi=[2.0, 2.0, 2.0], a=5e-4)
    assert same.passed and list(same.xi) == [2.0, 2.0, 2.0]
    assert not sufficient_descent(tr, xi=[0.0, 0.0, 0.0], a=5e-4).passed
    with pytest.raises(ValueError, match="one per layer"):
        sufficient_descent(tr, xi=[1.0, 1.0])


def test_two_hidden_box_rejects_the_papers_setting_and_tiny_beta():
    L = (1.0, 0.25, float(np.sqrt(3) / 18))
    for beta in ([1.0, 1.0, 1.0], [1e3, 1e2, 2.0], [1e8, 1e4, 0.5]):
        assert not conditions.two_hidden_box(beta, 1.0, 3.0, 3.0, 30, (3, 3), L)["holds"]
    assert conditions.guaranteed(2, "sigmoid", [1.0, 1.0, 1.0], 1e-6, E0=3.0, y_norm=3.0, n=30,
                                 widths=(3, 3)) is False


def test_depth2_needs_data_scale():
    with pytest.raises(ValueError, match="n, widths"):
        conditions.derive(2, "sigmoid", lam=1.0, E0=1.0, y_norm=1.0)
    with pytest.raises(ValueError, match="widths"):
        conditions.derive(2, "sigmoid", lam=1.0, E0=1.0, y_norm=1.0, n=10, widths=(3,), a0=2.0)
