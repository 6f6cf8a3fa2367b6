"""The checks of verify.checks on synthetic traces whose properties are known by construction.

Each synthetic trace is built from the definitions (not from the code under test):
a Lagrangian sequence whose decrease is a known multiple of the primal steps, a KKT
residual with a known power law, etc.  Both directions are tested: traces that must
pass, and traces that must fail (with the failing iteration named).
"""


import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from solver.trace import Trace
from verify import (CheckResult, ConvergenceError, Verdict, assert_converges, bounded_iterates,
                    descent_diagnostic, dual_bounded_by_primal, feasibility_to_zero, kkt_rate,
                    run_checks, sufficient_descent)
from verify.doctored import with_initial_point, consistent_trace, reconcile, synthetic_run
from verify.integrity import TraceIntegrityError


def make_trace(K=60, N=2, q=0.9, a=0.5, xi_true=0.0, seed=0, kkt_power=None, L_edit=None,
               dV2_edit=None, **kw):
    """A run with geometric primal steps and ``Lhat_{xi_true}`` dropping by ``a * P^k``.

    P^k = sum_i dW2 + dV2 = q^(2k); D^k = sum_i dV2; L^k = Lhat^k - xi_true D^k with
    Lhat^k - Lhat^{k-1} = -a P^k exactly; every other field consistent with these
    (verify.doctored.consistent_trace: the trace passes verify.validate_trace).
    """
    rng = np.random.default_rng(seed)
    k = np.arange(1, K + 1)
    P = q ** (2 * k)
    split = rng.dirichlet(np.ones(2 * N), size=K)          # P split into 2N positive parts
    dW2 = split[:, :N] * P[:, None]
    dV2 = split[:, N:] * P[:, None]
    Lhat = 10.0 - a * np.cumsum(P)
    if dV2_edit is not None:
        dV2_edit(dV2)
    L = Lhat - dV2 @ np.broadcast_to(np.asarray(xi_true, float), (N,))
    if L_edit is not None:                                 # a doctoring of L_beta carried into
        L_edit(L)                                          # its parts (a consistent trace)
    kt = np.sqrt(P) if kkt_power is None else k ** (-float(kkt_power))
    kw.setdefault("norm0", (2.6, 2.0, 1.0))
    kw.setdefault("drift", 0.03)
    return consistent_trace(dW2, dV2, L, kt, meta={"synthetic": True}, **kw)


# ----------------------------------------------------------------- sufficient descent
@given(q=st.floats(0.5, 0.99), a=st.floats(0.01, 10), K=st.integers(5, 80), seed=st.integers(0, 99))
def test_descent_margin_is_the_constructed_constant(q, a, K, seed):
    tr = make_trace(K=K, q=q, a=a, seed=seed)
    r = sufficient_descent(tr, xi=0.0, a=0.5 * a)
    assume(r.n_decided >= 3)
    assert r.verdict == Verdict.PASS, r.message
    P = (tr.dW2 + tr.dV2).sum(axis=1)[1:]
    err = np.abs(r.margin - a)
    assert np.all(err <= a * 1e-9 + 8 * np.finfo(float).eps * 10.0 / P)
    assert r.a == 0.5 * a and r.a > 0


def test_no_free_constant_gives_inconclusive_with_a_diagnostic():
    tr = make_trace(K=40, q=0.9, a=1e-3, xi_true=5.0)
    r = sufficient_descent(tr)                          # no xi, a: synthetic meta, no certificate
    assert r.verdict == Verdict.INCONCLUSIVE and "constants unknown" in r.reason
    assert r.diagnostic_xi is not None                   # the LP's figure, reported only
    d = descent_diagnostic(tr)
    assert d.verdict != Verdict.PASS and d.xi is not None
    r = sufficient_descent(tr, xi=5.0)                   # xi without a: not a PASS
    assert r.verdict == Verdict.INCONCLUSIVE and "descent constant" in r.reason


def test_mutation_xi_zero_where_the_run_needs_xi_positive_fails():
    """Check-level mutation: dropping xi (xi = 0) on a run whose L_beta alone rises must FAIL."""
    tr = make_trace(K=40, q=0.9, a=1e-4, xi_true=5.0)
    assert sufficient_descent(tr, xi=5.0, a=5e-5).verdict == Verdict.PASS
    r = sufficient_descent(tr, xi=0.0, a=5e-5)
    assert r.verdict == Verdict.FAIL and r.violations


def test_mutation_a_must_be_positive_not_only_below_the_margin(patch_conditions):
    """``min_margin >= a`` with ``a <= 0`` certifies nothing: a user a <= 0 is refused, a
    derived or a-posteriori a <= 0 is INCONCLUSIVE, never PASS."""
    tr = make_trace(K=40, q=0.9, a=0.5)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="a:"):
            sufficient_descent(tr, xi=0.0, a=bad)

    class Cond:
        xi_layers, margin, b = [0.0, 0.0], 0.0, None
    r = sufficient_descent(tr, conditions=Cond())
    assert r.verdict == Verdict.INCONCLUSIVE and "not positive" in r.reason
    patch_conditions("a_posteriori", lambda t: {"holds": True, "xi": [0.0, 0.0],
                                                "margin": -1e-3, "reason": "mutated"})
    assert sufficient_descent(tr).verdict == Verdict.INCONCLUSIVE
    patch_conditions("a_posteriori", lambda t: {"holds": True, "xi": [0.0, 0.0],
                                                "margin": 0.25, "reason": "ok"})
    r = sufficient_descent(tr)
    assert r.verdict == Verdict.PASS and r.source["a"] == "a-posteriori"
    patch_conditions("a_posteriori", lambda t: {"holds": False, "xi": 1.0, "margin": 0.3,
                                                "reason": "D1 fails"})
    r = sufficient_descent(tr)
    assert r.verdict == Verdict.INCONCLUSIVE and "D1 fails" in r.reason


def test_a_posteriori_xi_zero_on_a_run_needing_xi_fails(patch_conditions):
    tr = make_trace(K=40, q=0.9, a=1e-4, xi_true=5.0)
    patch_conditions("a_posteriori", lambda t: {"holds": True, "xi": [0.0, 0.0],
                                                "margin": 5e-5, "reason": "mutated"})
    assert sufficient_descent(tr).verdict == Verdict.FAIL


def test_descent_detects_a_rise_and_names_it():
    tr = make_trace(K=30)
    tr.lagrangian[17] += 1.0                              # L_beta alone: its parts disagree
    with pytest.raises(TraceIntegrityError) as ei:
        sufficient_descent(tr, xi=0.0, a=0.25)
    assert ei.value.field == "lagrangian" and ei.value.row == 18 and ei.value.violation == pytest.approx(1.0)
    reconcile(tr)                                         # the same rise carried into the parts
    r = sufficient_descent(tr, xi=0.0, a=0.25)
    assert r.verdict == Verdict.FAIL and r.violations[0] == 18
    r2 = sufficient_descent(tr, xi=1.0)                  # a unknown: a rise still fails
    assert r2.verdict == Verdict.FAIL and 18 in r2.violations


def test_descent_floor_is_rounding_only():
    tr = make_trace(K=30, q=0.3)           # steps ~1e-30 at the end: below the floor
    tr.lagrangian[25] += 1e-15             # a rounding-size wobble on |L| ~ 30
    r = sufficient_descent(tr, xi=0.0, a=0.25)
    assert r.verdict == Verdict.PASS and r.n_decided < r.n_steps
    tr.lagrangian[25] += 1e-9              # not rounding
    reconcile(tr)
    assert sufficient_descent(tr, xi=0.0, a=0.25).verdict == Verdict.FAIL


def test_descent_too_short_or_below_floor_is_inconclusive():
    tr = make_trace(K=3)
    assert sufficient_descent(tr, xi=0.0, a=0.25).verdict == Verdict.INCONCLUSIVE
    tr = make_trace(K=30, q=1e-9)          # every step below the floor
    r = sufficient_descent(tr, xi=0.0, a=0.25)
    assert r.verdict == Verdict.INCONCLUSIVE and "floor" in r.reason


def test_free_xi_absorbs_a_rise_so_the_diagnostic_never_passes():
    tr = make_trace(K=60, q=0.9)
    k = np.arange(1, 61)
    tr.dV2[:, 1] = 0.9 ** (2 * k)               # D falls at every step
    tr.lagrangian[30:] += tr.lagrangian[29] - tr.lagrangian[30] + 1e-3     # one rise at k = 31
    reconcile(tr)
    d = descent_diagnostic(tr)
    assert d.unbounded and d.verdict == Verdict.INCONCLUSIVE       # a free xi hides the rise
    assert sufficient_descent(tr, xi=0.0, a=0.1).verdict == Verdict.FAIL


def test_descent_diagnostic_capped_and_per_layer():
    tr = make_trace(K=40, N=2, q=0.9, a=1e-3, xi_true=[0.0, 4.0])
    d = descent_diagnostic(tr, xi_cap=[0.0, 10.0])
    assert d.verdict == Verdict.INCONCLUSIVE and d.max_margin > 0 and not d.unbounded
    d = descent_diagnostic(tr, xi_cap=[10.0, 0.0])      # the wrong layer cannot fix it
    assert d.verdict == Verdict.FAIL


# ----------------------------------------------------------------- KKT rate
@given(p=st.floats(1.2, 3.0), K=st.integers(80, 300))
def test_consistent_power_law_faster_than_one_over_k_passes(p, K):
    tr, _ = synthetic_run(K=K, r_law=np.arange(1, K + 1) ** -p)
    r = kkt_rate(tr)
    assert r.verdict == Verdict.PASS, r.message
    assert r.regime == "power law" and abs(r.slope + p) < 1e-6 and r.heuristic


@given(p=st.floats(0.1, 0.8), K=st.integers(80, 300))
def test_power_law_slower_than_one_over_k_never_passes(p, K):
    tr, c = synthetic_run(K=K, r_law=np.arange(1, K + 1) ** -p)
    for kw in ({}, {"xi": c["xi"], "a": c["a"], "b": 1.0}):
        r = kkt_rate(tr, **kw)
        assert r.verdict != Verdict.PASS, r.message


def test_kkt_rate_geometric_and_floor():
    tr, c = synthetic_run(K=200)
    r = kkt_rate(tr)
    assert r.verdict == Verdict.PASS and r.regime == "geometric" and r.basis == "out-of-sample"
    r = kkt_rate(tr, xi=c["xi"], a=c["a"], b=2.0)
    assert r.verdict == Verdict.PASS and r.basis == "user"  # issue 19: not "derived"
    assert r.heuristic                                   # user constants carry no derivation
    r = kkt_rate(tr, xi=c["xi"], a=c["a"], b=0.1)       # b below the measured ratio: chain breaks
    assert r.verdict == Verdict.FAIL and "chain" in r.reason
    tr, _ = synthetic_run(K=200, q=0.7)                  # reaches the rounding floor
    assert kkt_rate(tr).regime == "floor"


def test_kkt_rate_refuses_divergence_staircases_and_noise():
    K = 300
    k = np.arange(1, K + 1)
    tr, _ = synthetic_run(K=K)
    tr.kkt_total[:] = 1e-3 * 10 ** (k / 20)
    reconcile(tr)
    assert kkt_rate(tr).verdict == Verdict.FAIL
    for seed in range(10):
        noise = 1 + 0.3 * np.abs(np.random.default_rng(seed).standard_normal(K))
        tr, _ = synthetic_run(K=K, r_law=noise)
        assert kkt_rate(tr).verdict != Verdict.PASS
    with pytest.warns(DeprecationWarning):
        kkt_rate(make_trace(K=60, q=0.8), squared=True)


def test_kkt_rate_short_run_is_inconclusive():
    tr, _ = synthetic_run(K=20, r_law=np.arange(1, 21) ** -2.0)
    r = kkt_rate(tr)
    assert r.verdict == Verdict.INCONCLUSIVE


# ----------------------------------------------------------------- feasibility, boundedness, duals
def test_feasibility_geometric_passes_plateau_fails():
    tr = make_trace(K=80, q=0.8)
    assert feasibility_to_zero(tr).verdict == Verdict.PASS
    tr.feas[10:] = tr.feas[9]                  # stalls
    reconcile(tr)
    r = feasibility_to_zero(tr)
    assert r.verdict == Verdict.FAIL and "plateau" in r.reason


def test_feasibility_is_relative_to_the_size_of_v_not_to_the_first_iterate():
    tr = make_trace(K=80, q=0.97)
    # feas falls by 0.97 every row, ends at 0.97^80 ~ 0.09 of ||V|| scale (a law, not the steps'
    # Dirichlet split: over the last half-window, 2 rows against 3, that noise rises 1.1x, which
    # feasibility_to_zero rightly cannot tell from a plateau; issue 19)
    tr.feas[:] = np.max(tr.feas, axis=0) * 0.97 ** np.arange(1, 81)[:, None]
    reconcile(tr)
    r = feasibility_to_zero(tr)
    assert r.verdict == Verdict.INCONCLUSIVE and "too short" in r.reason
    tr.normV[:] *= 1e6                         # the same violation on a million-times larger V
    reconcile(tr)
    assert feasibility_to_zero(tr).verdict == Verdict.PASS


def test_bounded_iterates_saturating_passes_growth_fails():
    tr = make_trace(K=300)
    assert bounded_iterates(tr).verdict == Verdict.PASS
    k = np.arange(1, 301)
    for law in (np.sqrt(k), np.log(k) + 1, 1.0 + k):
        tr.normV[:, 1] = law
        reconcile(tr)
        r = bounded_iterates(tr)
        assert r.verdict == Verdict.FAIL and r.worst == "normV[layer 2]"
    tr.normV[:, 1] = 3.0 - k ** -0.3            # bounded but slow: not a PASS on 300 iterations
    reconcile(tr)
    assert bounded_iterates(tr).verdict != Verdict.FAIL


def test_bounded_iterates_explicit_and_derived_box():
    tr = make_trace(K=50)
    assert bounded_iterates(tr, bound={"W": 3.0}).verdict == Verdict.PASS
    r = bounded_iterates(tr, bound={"W": 2.5})
    assert r.verdict == Verdict.FAIL and "bound" in r.reason

    from verify.conditions import IterateBox

    class Cond:                                       # any object with the box() accessor
        def box(self):
            return IterateBox(W=(None, None), V=(None, None), Lam=(None, 0.5))
    r = bounded_iterates(tr, conditions=Cond())       # ||Lam_2|| ~ 1 > a* = 0.5
    assert r.verdict == Verdict.FAIL and "derived box" in r.reason
    with pytest.raises(TypeError, match="box"):
        bounded_iterates(tr, conditions=object())


def test_conditions_box_is_the_documented_accessor_at_depth_1_and_2():
    """Conditions.box() names the derived box (no reading of bounds' private keys)."""
    from verify import conditions as C
    c1 = C.derive(1, "sigmoid", lam=1.0, E0=0.05, y_norm=0.5)
    b1 = c1.box()
    # Lemma 8 (V_1 exact): ||Lam_1|| <= w (1 + 2 beta_2) a*; Lemma 8 (output): ||V_2|| <=
    # y_norm + a* (round 4: the box bounds every multiplier and the output V)
    a_s, w = c1.bounds["a_star"], c1.bounds["w"]
    assert b1.Lam == (None, a_s) and b1.W == (None, w) and b1.V == (None, None)
    b8 = c1.box(lemma8=True)
    assert b8.Lam == (pytest.approx(w * (1 + 2 * c1.beta[1]) * a_s), a_s) and b8.W == (None, w)
    assert b8.V == (None, pytest.approx(0.5 + a_s))
    assert b1.k_from == 2 and set(b1.fields()) == {"normW", "normV", "normLam"}
    bx = {"l1": 1.0, "l2": 2.0, "l3": 3.0, "om2": 4.0, "d1": 0.1, "d2": 0.2}   # as two_hidden_box
    c2 = C.Conditions(depth=2, activation="sigmoid", beta=[1e8, 1e4, 2.0], lam=1.0,
                      bounds={"box": bx, "w2": 5.0})
    b2 = c2.box()
    assert b2.Lam == (1.0, 2.0, 3.0) and b2.W == (None, 4.0, None) and b2.V == (None,) * 3
    assert C.derive(3, "sigmoid", lam=1.0).box() is None
    tr = make_trace(K=50, a=1e-3, beta=c1.beta, lam=c1.lam)   # a run the conditions cover
    tr.meta.update(activation="sigmoid", activation_expr="1/(1 + exp(-t))", y_norm=0.5,   # (the rule and data they were
                   curvature=c1.curvature, curvature_factor=c1.curvature_factor)   # derived for);
    tr.normV[:, -1] = 0.5       # ||V_N|| = ||Y||: within sqrt(2 loss) of y_norm (validate_trace)
    # L_beta (so ||Lam_2|| = sqrt(2 loss)) ~ flat
    tr.normLam[:, 0] = 0.5 * c1.bounds["a_star"]
    tr.normLam[0, 0] = 0.01 * c1.bounds["a_star"]    # row 1 within the iterate-1 lemma (covers)
    tr.normW[:] = 0.5 * c1.bounds["w"]
    reconcile(tr)                                     # reg, and a loss with ||Lam_2|| < a*
    tr.lagrangian[:] = (tr.reg + tr.penalty + tr.dual
                        + 1e-3 * c1.bounds["a_star"] ** 2 * (1 + 0.9 ** np.arange(1, 51)))
    reconcile(tr, min_loss=0.0)
    tr.dW2[0], tr.dV2[0] = 0.0, 0.0                   # a first step that moves only the multipliers
    with_initial_point(tr)                            # started at eq. (7), as E0 assumes
    assert c1.covers(tr) is None, c1.covers(tr)
    assert bounded_iterates(tr, conditions=c1).verdict == Verdict.PASS
    tr.normW[10:, 1] = 1.01 * c1.bounds["w"]          # ||W_2|| leaves the derived w
    reconcile(tr)
    tr.lagrangian[:] = (tr.reg + tr.penalty + tr.dual     # the same small, flat loss again
                        + 1e-3 * c1.bounds["a_star"] ** 2 * (1 + 0.9 ** np.arange(1, 51)))
    reconcile(tr, min_loss=0.0)
    tr.dW2[0], tr.dV2[0] = 0.0, 0.0
    with_initial_point(tr)
    assert c1.covers(tr) is None, c1.covers(tr)       # still covered: only the box is left
    r = bounded_iterates(tr, conditions=c1)
    assert r.verdict == Verdict.FAIL and "normW[layer 2]" in r.reason


def test_dual_within_lemma18_passes_and_growth_fails():
    tr, _ = synthetic_run(K=200)
    assert dual_bounded_by_primal(tr).verdict == Verdict.PASS
    k = np.arange(1, 201)[:, None]
    tr.dLam2[:] *= k ** 0.9                            # dLam2 alone: != beta feas^2
    with pytest.raises(TraceIntegrityError, match="dLam2"):
        dual_bounded_by_primal(tr)
    tr, _ = synthetic_run(K=200)
    tr.feas[:, 0] *= k[:, 0] ** 0.9                    # dLam2 = beta feas^2 grows like k^1.8
    reconcile(tr)
    r = dual_bounded_by_primal(tr)
    assert r.verdict == Verdict.FAIL and r.violations
    tr, _ = synthetic_run(K=200)
    r0 = dual_bounded_by_primal(tr)
    tr.feas[:, 0] *= 1.1 / np.nanmax(r0.lhs[:, 0] / r0.rhs[:, 0])   # ||DLam_1|| at 1.1x its bound
    reconcile(tr)
    assert dual_bounded_by_primal(tr).verdict == Verdict.FAIL
    tr = make_trace(K=60)                              # no beta in meta: no constants
    assert dual_bounded_by_primal(tr).verdict == Verdict.INCONCLUSIVE


def test_relative_error_without_b_is_inconclusive():
    from verify import relative_error
    tr, _ = synthetic_run(K=60)
    assert relative_error(tr).verdict == Verdict.INCONCLUSIVE
    assert relative_error(tr, b=2.0).verdict == Verdict.PASS


def test_rate_certificate_reports_link_content():
    from verify import rate_certificate
    tr, c = synthetic_run(K=60)
    r = rate_certificate(tr, a=c["a"], b=2.0, xi=c["xi"])
    assert r.verdict == Verdict.PASS
    assert r.content == {"min<=mean": False, "lemma21": True, "reindex": False, "lemma14": True}
    tr.kkt_total[:] = 0.0
    tr.dW2[:] = 0.0
    tr.dV2[:] = 0.0
    tr.lagrangian[:] = 1.0
    tr.normW[:], tr.normV[:], tr.normLam[:, 0] = tr.normW[0], tr.normV[0], tr.normLam[0, 0]
    tr.feas[:] = 0.0
    reconcile(tr)
    r = rate_certificate(tr, a=c["a"], b=2.0, xi=c["xi"])
    assert r.verdict == Verdict.INCONCLUSIVE and "content" in r.reason


def test_numerical_validity_guard_makes_flagged_blocks_inconclusive(patch_conditions):
    # K = 240: at 200 rows layer 1's violation is still 1.03e-4 of its own ||V_1|| (the
    # feasibility check judges each layer against its own scale since issue 19)
    tr, c = synthetic_run(K=240)
    checks = {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}, "bounded_iterates": {},
              "dual_bounded_by_primal": {}, "feasibility_to_zero": {}, "kkt_rate": {}}
    res = run_checks(tr, **checks)
    assert all(r.verdict == Verdict.PASS for r in res.values())
    patch_conditions("numerical_validity", lambda t: {"flagged": [0], "ratio": [50.0, 0.1],
                                                      "reason": "mutated"})
    res = run_checks(tr, **checks)
    assert all(r.verdict == Verdict.INCONCLUSIVE and "numerical validity" in r.reason
               for r in res.values())


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
    r = kkt_rate(make_trace(K=60, q=0.8))
    assert isinstance(r, CheckResult) and r.passed is True and isinstance(r.message, str)
    with pytest.raises(TypeError):
        bool(r)


# ----------------------------------------------------------------- assert_converges
def test_assert_converges_passes_good_trace_and_reports_bad(tmp_path):
    good, c = synthetic_run(K=300)
    opts = {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}}
    res = assert_converges(good, **opts)
    assert set(res) == {"sufficient_descent", "bounded_iterates", "dual_bounded_by_primal",
                        "feasibility_to_zero", "kkt_rate"}
    path = good.save(tmp_path / "good.npz")
    assert_converges(path, **opts)                    # a saved trace works too
    with pytest.raises(ConvergenceError, match="inconclusive"):
        assert_converges(good)                        # no constants: INCONCLUSIVE fails by default
    assert_converges(good, allow_inconclusive=True)
    bad, _ = synthetic_run(K=300)
    bad.kkt_total[:] = 1e-3 * 10 ** (np.arange(1, 301) / 20)       # diverging residual
    reconcile(bad)
    with pytest.raises(ConvergenceError) as ei:
        assert_converges(bad, allow_inconclusive=True)
    assert "kkt_rate" in str(ei.value) and "FAIL" in str(ei.value)
    assert ei.value.results["kkt_rate"].verdict == Verdict.FAIL
    with pytest.raises(ValueError, match="unknown check"):
        assert_converges(good, checks=["nope"])


# ----------------------------------------------------------------- verdicts
def test_checkresult_is_optimizeresult_with_verdict():
    from scipy.optimize import OptimizeResult

    from verify import Verdict
    r = kkt_rate(make_trace(K=60, q=0.8))
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


# ------------------------------------------------ one Lemma-18 implementation (verify.conditions)
@pytest.mark.parametrize("N", [2, 3])
def test_dual_check_uses_the_forms_of_verify_conditions(patch_conditions, N):
    """dual_bounded_by_primal evaluates conditions.lemma18_steps (the maths lives there once):
    shrinking the coefficients of conditions' Lemma-18 forms turns the check's PASS into FAIL."""
    import verify.checks as VK
    from verify import conditions as C
    tr, _ = synthetic_run(K=120, N=N)
    r = dual_bounded_by_primal(tr)
    assert r.verdict == Verdict.PASS, r.message
    assert np.allclose(r.rhs[1:], C.lemma18_steps(tr)["rhs"][1:])
    assert not hasattr(VK, "_lemma18_bounds")
    o1, o2 = C._lemma18_forms_1, C._lemma18_forms
    patch_conditions("_lemma18_forms_1", lambda *a: {k: 0.1 * v for k, v in o1(*a).items()})
    patch_conditions("_lemma18_forms", lambda *a: tuple({k: 0.0 * v for k, v in c.items()}
                                                        for c in o2(*a)))
    r = dual_bounded_by_primal(tr)
    assert r.verdict == Verdict.FAIL and "Lemma-18" in r.reason, r.message


def test_dual_check_at_depth_2_takes_a_user_activation_from_the_trace(patch_conditions):
    """A user activation (not a built-in name) is found through conditions.trace_activation:
    registered by name, or rebuilt from meta['activation_expr']."""
    from verify import conditions as C
    from verify import strategies as vst
    act = vst.algebraic_sigmoid()
    tr, _ = synthetic_run(K=120, N=3)
    tr.meta = {**tr.meta, "activation": "algebraic", "activation_expr": "1/2 + t/(2*sqrt(1 + t**2))"}
    r = dual_bounded_by_primal(tr)
    assert r.verdict == Verdict.PASS, r.message
    patch_conditions("_ACTIVATIONS", {})             # not registered: from the expression
    assert C.trace_activation(tr).name == "algebraic"
    assert dual_bounded_by_primal(tr).verdict == Verdict.PASS
    tr.meta = {k: v for k, v in tr.meta.items() if k != "activation_expr"}
    r = dual_bounded_by_primal(tr)                         # unknown activation: no constants
    assert r.verdict == Verdict.INCONCLUSIVE and "activation" in r.reason
    assert act.name == "algebraic"


# ------------------------------------------------ bounded_iterates: a dip and a recovery
def test_bounded_iterates_dip_and_geometric_recovery_passes_growth_laws_still_fail():
    """A shape like ||W_2|| on the hypothesis example of the observed-region test (depth 1,
    width 1, beta = 100, lambda = 1: it falls from 0.030 to 0.0006 at k = 58, then recovers
    geometrically, 0.9895 per iteration, to 0.03445 > its start).  The running sup is flat over
    [K/4, K/2] and grows after: the old rule read that as accelerating growth (ratio inf, FAIL)."""
    K = 300
    k = np.arange(1, K + 1)
    dip = np.where(k < 77, 0.03 - 0.024 * k / 77, 0.03445 - 0.02845 * 0.9895 ** (k - 77))
    tr = make_trace(K=K)
    tr.normW[:, 1] = dip
    reconcile(tr)
    r = bounded_iterates(tr)
    assert r.verdict == Verdict.PASS, r.message
    assert r.trend["normW[layer 2]"]["how"] == "geometric approach"
    assert abs(r.trend["normW[layer 2]"]["limit"] - 0.03445) < 0.002
    for KK in (64, 300, 1000):                 # growth laws FAIL at every run length
        kk = np.arange(1, KK + 1)
        for law in (np.sqrt(kk), np.log(kk) + 1.0, 1.0 + kk, kk ** 0.1):
            t2 = make_trace(K=KK)
            t2.normW[:, 1] = law
            reconcile(t2)
            assert bounded_iterates(t2).verdict == Verdict.FAIL, (KK, law[:3])
    late = np.where(k < 150, 1.0 - 0.5 * k / 150, 0.5 + 0.004 * (k - 150))   # dip, then linear
    tr.normW[:, 1] = late
    reconcile(tr)
    r = bounded_iterates(tr)
    assert r.verdict == Verdict.FAIL and "after a flat stretch" in r.reason, r.message


# ------------------------------------------------ Lemma 21's b a posteriori: the certified chain
@pytest.fixture(scope="module")
def sharp_depth1_run():
    """A run under the sharp derived depth-1 conditions (square, n = 40, width 4, lambda = 1)."""
    import warnings

    from solver import ADMM, init_weights, tasks
    from verify import conditions as C
    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((1, 4, 1), "lecun_normal", 1.0, 0)
    c = C.derive_from_data(1, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    m = ADMM(hidden_layer_sizes=(4,), max_iter=150, verbose=0, engine="numpy", **c.kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    return m, t, c


def test_a_posteriori_b_gives_kkt_rate_the_certified_chain(sharp_depth1_run):
    from verify import conditions as C
    from verify import relative_error
    m, t, c = sharp_depth1_run
    ap = C.a_posteriori(m.trace_, X=t.X)
    assert ap["holds"] and ap["b"] is not None
    assert ap["b"] <= c.b                          # measured bounds: no looser than a priori
    assert relative_error(m, X=t.X).verdict == Verdict.PASS    # r_k <= b sqrt(Pi_k), every k
    r = kkt_rate(m, X=t.X)
    assert r.basis == "a-posteriori" and r.certified and not r.heuristic
    assert r.constants["source"] == {"xi": "a-posteriori", "a": "a-posteriori", "b": "a-posteriori"}
    assert r.chain_slack >= 1 and r.verdict != Verdict.FAIL, r.message
    # the fit records the data constant (meta['a0'] = ||[X, 1]||_2): the same b without X=
    rec = kkt_rate(m)
    assert rec.basis == "a-posteriori" and rec.constants["b"] == pytest.approx(r.constants["b"], rel=1e-9)
    bare = Trace.from_dict(m.trace_.to_dict())
    bare.meta.pop("a0")
    with pytest.raises(TraceIntegrityError, match="a0"):   # the solver always records it
        kkt_rate(bare)
    for key in ("fingerprint", "engine_used", "instance"):  # a hand-built trace may lack it
        bare.meta.pop(key)
    assert kkt_rate(bare).basis == "out-of-sample"  # without the data constant: heuristic only
    assert C.a_posteriori(bare)["b"] is None


def test_certified_chain_breaks_when_the_a_posteriori_b_is_too_small(patch_conditions, sharp_depth1_run):
    """Mutation: b / 1e6 (below the measured r_k / sqrt(P_k + P_(k-1))) makes the certified chain FAIL."""
    from verify import conditions as C
    m, t, _ = sharp_depth1_run
    orig = C._a_posteriori_b
    patch_conditions("_a_posteriori_b", lambda *a: (orig(*a)[0] / 1e6, {}))
    r = kkt_rate(m, X=t.X)
    assert r.verdict == Verdict.FAIL and r.certified and "chain" in r.reason, r.message


# ----------------------------------------------------------------- issue 19: cheapest cheats
def test_bounded_iterates_judges_increments_not_the_level():
    """c + sqrt(k), c + log k, c + k never PASS at any offset c (FAIL up to c ~ 100: growth
    over 1 % of the level), a geometric saturation PASSes."""
    k = np.arange(1, 301)
    for c in (0.0, 35.0, 1e3, 1e6):
        for law in (np.sqrt(k), np.log(k), 0.05 * k):
            tr, _ = synthetic_run()
            tr.normW[:, 0] = c + law
            reconcile(tr)
            v = bounded_iterates(tr).verdict
            assert v != Verdict.PASS and (c > 100 or v == Verdict.FAIL), (c, law[:3], v)
    tr, _ = synthetic_run()
    tr.normW[:, 0] = 5.0 - 3.0 * 0.98 ** k
    reconcile(tr)
    assert bounded_iterates(tr).verdict == Verdict.PASS


def test_feasibility_is_judged_on_a_tail_window_not_the_last_row():
    k = np.arange(1, 301)
    for last in (0.0, 1e-14):
        tr, _ = synthetic_run()
        tr.feas[100:] = 1e-2 * tr.normV[100:] / np.sqrt(2)   # plateau at 1e-2 ||V||
        tr.feas[-1] = last                                     # ... whose last row is tiny
        reconcile(tr)
        assert feasibility_to_zero(tr).verdict != Verdict.PASS
    tr, _ = synthetic_run()
    tr.feas[100:] = np.where(k[100:, None] % 2 == 0, 1e-2, 1e-20)   # alternating, ends low
    reconcile(tr)
    assert feasibility_to_zero(tr).verdict != Verdict.PASS
    tr, _ = synthetic_run(K=2)                                 # a 2-row trace
    assert feasibility_to_zero(tr).verdict != Verdict.PASS


def test_kkt_rate_slow_and_positive_limit_laws_never_pass():
    k = np.arange(1, 301)
    for law in (1 / k, 0.999 ** k, 1e-3 + 0.98 ** k, 0.05 + 0.99 ** k, k ** -0.4):
        tr, c = synthetic_run(r_law=law)
        for kw in ({}, {"xi": c["xi"], "a": c["a"], "b": 2.0}):
            r = kkt_rate(tr, **kw)
            assert r.verdict != Verdict.PASS, (law[:3], kw, r.message)
            if kw:
                assert r.heuristic


def test_sub_floor_rises_cannot_accumulate():
    """Rises of half the per-step floor at every step of a flat stretch: each step is within
    its floor, the sum over the stretch is not."""
    tr = make_trace(K=200, q=0.5)                            # steps vanish after ~k = 30
    from verify.checks import _lagrangian_size
    fl = 1024 * np.finfo(float).eps * _lagrangian_size(tr, 200)
    tr.lagrangian[60:] += np.cumsum(0.5 * fl[60:])
    reconcile(tr)
    r = sufficient_descent(tr, xi=0.0, a=0.25)
    assert r.verdict == Verdict.FAIL and "summed" in r.reason


def test_a_diverged_run_passes_no_check():
    tr, c = synthetic_run()
    tr.meta = {**tr.meta, "status": "non_finite", "message": "non-finite iterate at 301"}
    res = run_checks(tr, sufficient_descent={"xi": c["xi"], "a": c["a"]})
    assert all(r.verdict == Verdict.FAIL and "non-finite" in r.reason for r in res.values())


def test_foreign_conditions_are_not_credited():
    from verify import conditions as C
    cond = C.derive(1, "sigmoid", lam=1.0, E0=0.05, y_norm=0.5)
    tr, _ = synthetic_run(beta=(0.5 * cond.beta[0], cond.beta[-1]), lam=1.0)   # beta_1 too small
    r = sufficient_descent(tr, conditions=cond)
    assert r.verdict == Verdict.INCONCLUSIVE and "conditions do not cover this run: beta_1" in r.reason
    assert kkt_rate(tr, conditions=cond).verdict == Verdict.INCONCLUSIVE
    assert cond.covers(tr) is not None
    tr, _ = synthetic_run(beta=(cond.beta[0], 2.0), lam=1.0)      # another output penalty
    assert "beta_2" in sufficient_descent(tr, conditions=cond).reason
    tr, _ = synthetic_run(beta=tuple(cond.beta), lam=0.05)          # another lambda
    assert "lambda" in sufficient_descent(tr, conditions=cond).reason
