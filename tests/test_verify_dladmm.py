"""verify.dladmm: dlADMM's claim (sufficient descent, o(1/k) running minimum of the step sum)
on real runs: PASS where the hypotheses hold (rho > 2H, exact z_L, proximal z step),
INCONCLUSIVE "not applicable" at the authors' defaults, and no PASS on doctored traces."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from solver.dladmm import DLADMM
from verify import Verdict
from verify.dladmm import (applicability, descent_constant, doctored_traces, run_dladmm_checks,
                           step_sum_rate, sufficient_descent)


def _regression(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]


@pytest.fixture(scope="module")
def good():
    X, y = _regression()
    return DLADMM(hidden_layer_sizes=(12, 8), rho=3.0, prox_z=1.0, adapt=False, max_iter=60,
                  random_state=0).fit(X, y).trace_


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, np.eye(10)[y[:300]]


def test_good_regression_run_passes_both_checks(good):
    res = run_dladmm_checks(good)
    assert res["sufficient_descent"].verdict is Verdict.PASS, res["sufficient_descent"].reason
    assert res["step_sum_rate"].verdict is Verdict.PASS, res["step_sum_rate"].reason
    assert res["step_sum_rate"].heuristic is True


def test_cross_entropy_exact_zl_run_passes(digits):
    X, Y = digits
    tr = DLADMM(hidden_layer_sizes=(20,), loss="cross_entropy", zl_mode="exact", rho=1.5, prox_z=1.0,
                adapt=False, max_iter=40, random_state=0).fit(X, Y).trace_
    assert sufficient_descent(tr).verdict is Verdict.PASS
    assert np.nanmax(tr.zl_grad) <= 1e-8 and np.nanmax(tr.dual_opt[1:]) < 1e-8


def test_authors_defaults_are_not_applicable_and_the_message_says_what_happened(digits):
    """rho = 1e-6 <= 2H: INCONCLUSIVE with the reason, never PASS; the Lagrangian rises and
    the hidden layers barely move (the behaviour measured with the authors' code on MNIST)."""
    X, Y = digits
    tr = DLADMM(hidden_layer_sizes=(20, 20), loss="cross_entropy", output_init="authors", max_iter=20,
                random_state=0).fit(X, Y).trace_
    for check in (sufficient_descent, step_sum_rate):
        r = check(tr)
        assert r.verdict is Verdict.INCONCLUSIVE and r.reason.startswith("not applicable")
        assert "rho <= 2H = 1" in r.reason and "z_L step not exact" in r.reason
    r = sufficient_descent(tr)
    assert r.rises >= 0.8 * r.n_steps and r.hidden_share < 1e-6


def test_rho_just_below_2H_is_not_applicable_even_with_descent():
    X, y = _regression()
    tr = DLADMM(hidden_layer_sizes=(8,), rho=1.9, prox_z=1.0, adapt=False, max_iter=30,
                random_state=0).fit(X, y).trace_
    assert np.all(np.isnan(descent_constant(tr)))
    r = sufficient_descent(tr)
    assert r.verdict is Verdict.INCONCLUSIVE and "rho <= 2H" in r.reason


def test_adaptive_changes_are_excluded_steps(good):
    from solver.trace import Trace

    t = Trace.from_dict(good.to_dict())
    t.theta[30:] = 10.0                       # the rule fired after iteration 30
    app = applicability(t)
    assert not app["mask"][29] and app["mask"][28] and app["mask"][30]
    assert sufficient_descent(t).n_applicable == app["mask"].sum()


def _outcome(check, t):
    """The verdict, or "REFUSED" when verify.validate_trace refuses the doctored trace."""
    from verify import TraceIntegrityError
    try:
        return check(t).verdict
    except TraceIntegrityError:
        return "REFUSED"


def test_doctored_traces_never_pass(good):
    from verify import TraceIntegrityError
    for name, (t, checks) in doctored_traces(good).items():
        try:
            res = run_dladmm_checks(t)
        except TraceIntegrityError:
            continue                                     # refused before any check: not a PASS
        for c in checks:
            assert res[c].verdict is not Verdict.PASS, (name, c, res[c].message)


def test_doctored_failures_are_failures_not_inconclusive(good):
    d = doctored_traces(good)
    assert _outcome(sufficient_descent, d["rise"][0]) in (Verdict.FAIL, "REFUSED")
    assert _outcome(sufficient_descent, d["shallow"][0]) in (Verdict.FAIL, "REFUSED")
    assert _outcome(step_sum_rate, d["steps_stall"][0]) in (Verdict.FAIL, "REFUSED")


def test_given_constant_too_large_fails(good):
    """The measured margin is finite: a constant above it must FAIL (the check can fail)."""
    r = sufficient_descent(good)
    assert sufficient_descent(good, a=10 * float(np.nanmax(r.margin))).verdict is Verdict.FAIL


def test_bad_inputs_raise(good):
    from solver.trace import Trace

    with pytest.raises(ValueError, match="start"):
        sufficient_descent(good, start=1)
    with pytest.raises(ValueError, match="a:"):
        sufficient_descent(good, a=-1.0)
    with pytest.raises(ValueError, match="dladmm"):
        sufficient_descent(Trace.empty(2, 3))
    t = Trace.from_dict(good.to_dict())
    t.lagrangian[5] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        sufficient_descent(t)
    with pytest.raises(ValueError, match="unknown check"):
        run_dladmm_checks(good, checks=["kkt_rate"])


def test_saved_trace_round_trip(tmp_path, good):
    p = good.save(tmp_path / "dl.npz")
    assert sufficient_descent(str(p)).verdict is Verdict.PASS


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_smooth_activations_with_prox_pass_sufficient_descent(act):
    X, y = _regression(n=40)
    tr = DLADMM(hidden_layer_sizes=(6, 4), activation=act, rho=3.0, prox_z=1.0, adapt=False,
                max_iter=12, random_state=1).fit(X, y).trace_
    r = sufficient_descent(tr)
    assert r.verdict is Verdict.PASS, r.reason
