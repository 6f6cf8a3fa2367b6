"""The checks of verify.checks on synthetic traces whose properties are known by construction.

Each synthetic trace is built from the definitions (not from the code under test):
a Lagrangian sequence whose decrease is a known multiple of the primal steps, a KKT
residual with a known power law, etc.  Both directions are tested: traces that must
pass, and traces that must fail (with the failing iteration named).
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from solver.trace import Trace
from verify import (CheckResult, ConvergenceError, assert_converges, bounded_iterates,
                    dual_bounded_by_primal, feasibility_to_zero, kkt_rate, sufficient_descent)


def make_trace(K=60, N=2, q=0.9, a=0.5, xi_true=0.0, seed=0, kkt_power=None):
    """A run with geometric primal steps and ``Lhat_{xi_true}`` dropping by ``a * P^k``.

    P^k = sum_i dW2 + dV2 = q^(2k); D^k = sum_i dV2; L^k = Lhat^k - xi_true D^k with
    Lhat^k - Lhat^{k-1} = -a P^k exactly.
    """
    rng = np.random.default_rng(seed)
    tr = Trace.empty(N, K, meta={"synthetic": True})
    k = np.arange(1, K + 1)
    P = q ** (2 * k)
    split = rng.dirichlet(np.ones(2 * N), size=K)          # P split into 2N positive parts
    tr.dW2[:] = split[:, :N] * P[:, None]
    tr.dV2[:] = split[:, N:] * P[:, None]
    D = tr.dV2.sum(axis=1)
    Lhat = 10.0 - a * np.cumsum(P)
    tr.lagrangian[:] = Lhat - xi_true * D
    tr.loss[:] = 0.5 * tr.lagrangian
    tr.reg[:] = 0.25 * tr.lagrangian
    tr.dual[:] = 0.0
    tr.penalty[:] = 0.25 * tr.lagrangian
    tr.dLam2[:] = 0.3 * (tr.dW2 + tr.dV2)
    tr.feas[:] = np.sqrt(P)[:, None] / N
    tr.normW[:] = 3.0 - q ** k[:, None]
    tr.normV[:] = 2.0 - q ** k[:, None]
    tr.normLam[:] = 1.0 - 0.5 * q ** k[:, None]
    tr.kkt_total[:] = np.sqrt(P) if kkt_power is None else k ** (-float(kkt_power))
    tr.kkt[:] = tr.kkt_total[:, None] / (2 * N)
    tr.train_mse[:] = 0.1
    tr.time[:] = k * 1e-3
    tr.curvature[:] = 1.0
    tr.set_length(K)
    return tr


# ----------------------------------------------------------------- sufficient descent
@given(q=st.floats(0.5, 0.99), a=st.floats(0.01, 10), K=st.integers(5, 80), seed=st.integers(0, 99))
def test_descent_margin_is_the_constructed_constant(q, a, K, seed):
    tr = make_trace(K=K, q=q, a=a, seed=seed)
    r = sufficient_descent(tr, xi=0.0)
    assert r.passed, r.message
    # the margin is a difference of O(10) numbers divided by P^k: exact up to rounding
    P = (tr.dW2 + tr.dV2).sum(axis=1)[1:]
    err = np.abs(r.margin - a)
    assert np.all(err <= a * 1e-9 + 8 * np.finfo(float).eps * 10.0 / P)


@given(xi_true=st.floats(0.05, 20), q=st.floats(0.6, 0.98), seed=st.integers(0, 99))
def test_smallest_xi_is_feasible_and_minimal(xi_true, q, seed):
    """The returned xi makes Lhat monotone, and any clearly smaller xi does not."""
    tr = make_trace(K=40, q=q, a=1e-3, xi_true=xi_true, seed=seed)
    r = sufficient_descent(tr)
    assert r.passed, r.message
    assert r.xi <= xi_true * (1 + 1e-9) + 1e-12
    L, D = tr.lagrangian, tr.dV2.sum(axis=1)
    tol = 1e-9 * np.abs(L).max() * 2
    assert np.all(np.diff(L + r.xi * D) <= tol)
    if r.xi > 1e-6:
        smaller = 0.9 * r.xi
        assert np.any(np.diff(L + smaller * D) > 1e-9 * np.abs(L).max() * 2)


def test_descent_detects_a_rise_and_names_it():
    tr = make_trace(K=30)
    tr.lagrangian[17] += 1.0   # iteration k = 18 rises, and no xi can fix a jump that size
    tr.dV2[:] = 0.0            # with D constant, xi has no effect
    r = sufficient_descent(tr)
    assert not r.passed
    assert r.violations == [18]
    assert r.xi is None
    assert "rises" in r.message
    r2 = sufficient_descent(tr, xi=1.0)
    assert not r2.passed and r2.violations == [18]


def test_descent_with_given_xi_too_small_fails():
    tr = make_trace(K=40, q=0.9, a=1e-4, xi_true=5.0)
    assert sufficient_descent(tr, xi=5.0).passed
    assert not sufficient_descent(tr, xi=0.0).passed


def test_descent_tolerance_absorbs_rounding_only():
    tr = make_trace(K=30, q=0.3)           # steps become ~1e-30: flat Lagrangian at the end
    tr.lagrangian[25] += 1e-13             # a rounding-size wobble on |L| ~ 10
    assert sufficient_descent(tr).passed
    tr.lagrangian[25] += 1e-6              # not rounding
    assert not sufficient_descent(tr).passed


# ----------------------------------------------------------------- KKT rate
@given(p=st.floats(1.05, 3.0), K=st.integers(50, 400))
def test_power_law_at_least_one_over_k_passes(p, K):
    r = kkt_rate(make_trace(K=K, kkt_power=p))
    assert r.passed, r.message
    assert abs(r.slope + p) < 1e-6


@given(p=st.floats(0.1, 0.85), K=st.integers(50, 400))
def test_power_law_slower_than_one_over_k_fails(p, K):
    r = kkt_rate(make_trace(K=K, kkt_power=p))
    assert not r.passed
    assert abs(r.slope + p) < 1e-6
    assert "slower than 1/k" in r.message


def test_squared_residual_halves_the_needed_power():
    tr = make_trace(K=200, kkt_power=0.6)
    assert not kkt_rate(tr).passed
    assert kkt_rate(tr, squared=True).passed     # r^2 ~ k^-1.2


def test_geometric_residual_reaching_rounding_floor_passes():
    tr = make_trace(K=200, q=0.7)               # r_k = 0.7^k, reaches 1e-11 * r_max by k ~ 70
    tr.kkt_total[80:] = tr.kkt_total[79]        # stagnates at the floor, as float64 runs do
    r = kkt_rate(tr)
    assert r.passed and r.k_floor is not None and r.k_floor < 80


def test_min_over_first_k_is_used_not_the_last_value():
    tr = make_trace(K=200, kkt_power=1.5)
    tr.kkt_total[1::2] *= 50.0                   # oscillating residual: the min-sequence still decays
    assert kkt_rate(tr).passed


# ----------------------------------------------------------------- feasibility, boundedness, duals
def test_feasibility_geometric_passes_plateau_fails():
    tr = make_trace(K=80, q=0.8)
    assert feasibility_to_zero(tr).passed
    tr.feas[10:] = tr.feas[9]                  # stalls at 0.8^10 ~ 0.1 of the peak
    r = feasibility_to_zero(tr)
    assert not r.passed and r.final > r.threshold


def test_bounded_iterates_pass_and_linear_growth_fails():
    tr = make_trace(K=100)
    r = bounded_iterates(tr)
    assert r.passed, r.message
    tr.normV[:, 1] = 1.0 + np.arange(100)       # layer 2's V grows without bound
    r = bounded_iterates(tr)
    assert not r.passed and r.worst == "normV[layer 2]"
    assert r.slope > 0.5


def test_bounded_iterates_explicit_bound():
    tr = make_trace(K=50)
    assert bounded_iterates(tr, bound={"W": 3.0}).passed
    r = bounded_iterates(tr, bound={"W": 2.5})
    assert not r.passed and "exceed" in r.message


@given(C=st.floats(1e-3, 1e3), seed=st.integers(0, 50))
def test_dual_proportional_to_primal_passes_with_that_constant(C, seed):
    tr = make_trace(K=60, seed=seed)
    tr.dLam2[:] = C * (tr.dW2 + tr.dV2)
    r = dual_bounded_by_primal(tr)
    assert r.passed, r.message
    assert r.sup_ratio <= C * (1 + 1e-9)
    assert dual_bounded_by_primal(tr, bound=C * 1.01).passed


def test_dual_outgrowing_primal_fails():
    tr = make_trace(K=60)
    k = np.arange(1, 61)[:, None]
    tr.dLam2[:] = (tr.dW2 + tr.dV2) * k ** 2      # ratio grows like k^2
    assert not dual_bounded_by_primal(tr).passed
    tr.dLam2[:] = 0.1
    tr.dW2[30:] = 0.0
    tr.dV2[30:] = 0.0                              # dual steps without primal steps
    r = dual_bounded_by_primal(tr)
    assert not r.passed


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("check", [sufficient_descent, bounded_iterates, dual_bounded_by_primal,
                                   feasibility_to_zero, kkt_rate])
def test_empty_trace_is_an_error(check):
    tr = Trace.empty(2, 10)
    with pytest.raises(ValueError, match="empty trace"):
        check(tr)


@pytest.mark.parametrize("check,field", [(sufficient_descent, "dV2"), (bounded_iterates, "normLam"),
                                         (dual_bounded_by_primal, "dLam2"),
                                         (feasibility_to_zero, "feas"), (kkt_rate, "kkt_total")])
def test_missing_field_is_named(check, field):
    tr = make_trace(K=40)
    setattr(tr, field, None)
    with pytest.raises(ValueError, match=field):
        check(tr)


@pytest.mark.parametrize("check,field", [(sufficient_descent, "lagrangian"), (bounded_iterates, "normW"),
                                         (dual_bounded_by_primal, "dW2"),
                                         (feasibility_to_zero, "feas"), (kkt_rate, "kkt_total")])
def test_non_finite_trace_is_an_error_naming_field_and_iteration(check, field):
    tr = make_trace(K=40)
    arr = getattr(tr, field)
    arr[12] = np.nan
    with pytest.raises(ValueError, match=rf"{field}.*k=13"):
        check(tr)


def test_not_a_trace_is_an_error():
    with pytest.raises(ValueError, match="expected a solver.Trace"):
        kkt_rate([1.0, 0.5])


def test_result_refuses_truthiness_and_has_attributes():
    r = kkt_rate(make_trace(K=50, kkt_power=2))
    assert isinstance(r, CheckResult) and r.passed is True and isinstance(r.message, str)
    with pytest.raises(TypeError):
        bool(r)


# ----------------------------------------------------------------- assert_converges
def test_assert_converges_passes_good_trace_and_reports_bad(tmp_path):
    good = make_trace(K=80, q=0.8)
    res = assert_converges(good)
    assert set(res) == {"sufficient_descent", "bounded_iterates", "dual_bounded_by_primal",
                        "feasibility_to_zero", "kkt_rate"}
    path = good.save(tmp_path / "good.npz")
    assert_converges(path)                            # a saved trace works too
    bad = make_trace(K=80, q=0.8, kkt_power=0.5)
    with pytest.raises(ConvergenceError) as ei:
        assert_converges(bad)
    assert "kkt_rate" in str(ei.value) and "FAIL" in str(ei.value)
    assert not ei.value.results["kkt_rate"].passed
    with pytest.raises(ValueError, match="unknown check"):
        assert_converges(good, checks=["nope"])


# ----------------------------------------------------------------- verdicts
def test_checkresult_is_optimizeresult_with_verdict():
    from scipy.optimize import OptimizeResult

    from verify import Verdict
    r = kkt_rate(make_trace(K=50, kkt_power=2))
    assert isinstance(r, OptimizeResult) and r.verdict in set(Verdict)
    assert r.passed is (r.verdict is Verdict.PASS)
    with pytest.raises(AttributeError):
        r.passed = True                     # read-only
    with pytest.raises(AttributeError):
        r.verdikt                           # a misspelt key
    with pytest.raises(TypeError):
        CheckResult(name="x", verdict="PASS", passed=True)
    x = CheckResult(name="x", verdict="INCONCLUSIVE", reason="run too short", message="m")
    assert x.verdict is Verdict.INCONCLUSIVE and not x.passed and "INCONCLUSIVE" in repr(x)
    with pytest.raises(ValueError):
        CheckResult(name="x", verdict="MAYBE", message="m")


def test_assert_converges_fails_on_inconclusive_by_default():
    from verify import Verdict, run_checks
    from verify.checks import format_table
    good = make_trace(K=80, q=0.8)
    res = run_checks(good)
    res["sufficient_descent"] = CheckResult(name="sufficient_descent", verdict="INCONCLUSIVE",
                                            reason="constants unknown", message="m")
    txt = format_table(res)
    assert "INCONCLUSIVE" in txt and "constants unknown" in txt
    assert Verdict.INCONCLUSIVE == "INCONCLUSIVE"
