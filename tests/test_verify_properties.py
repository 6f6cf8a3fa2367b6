"""End-to-end property tests of Theorem 4 on real solver runs (hypothesis over verify.strategies).

* Inside the derived conditions (depth 1, lambda drawn down to 1e-4, init scales up to the
  paper's 8, every smooth activation the strategies draw including a user-defined one and
  a smooth non-analytic one): sufficient descent with the *derived* xi and a > 0 (PASS),
  the measured descent constant at least the derived one, Lemma 18 step by step with the
  run's measured norms, the derived (xi, a) certified by the measured norms, iterates in
  the derived box.  The mutation tests (tests/test_verify_mutation.py) show that these
  properties fail when the derivation is broken.  A failure shrinks to a minimal RunSpec.
* Near-boundary negative controls (beta_1 at a tenth of the observed boundary 10/lambda,
  beta_N < 1, curvature factor < 1/2): the derived conditions never hold, and the descent
  check never PASSes unless the run's own a-posteriori certificate holds.
* In the empirically observed region (beta = 100, lambda = 1: see docs/verify.md's phase
  diagram), depth 1-2: descent, boundedness, dual-by-primal, feasibility (the rate is not
  universal there within 300 iterations: see the test's comment).
* Negative controls: outside the conditions (tiny beta, the authors' reference
  curvature) descent breaks; a ReLU run (recorded with the reference steps, since
  the estimator rightly rejects ReLU) breaks it too.
"""

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis.control import currently_in_test_context

from solver import ADMM
from solver.admm import steps
from solver.trace import Trace
from theory import get_activation
from hypothesis import strategies as st

from verify import (Verdict, assert_converges, conditions, feasibility_to_zero, kkt_rate, run_checks, sufficient_descent)
from verify import strategies as vst


@settings(max_examples=8, deadline=None)
@given(vst.runs(inside=True, max_depth=1, max_iter=100, max_n=50))
def test_derived_conditions_give_sufficient_descent(spec):
    c = spec.conditions
    assert c.a > 0
    m = spec.fit()
    sd = sufficient_descent(m, conditions=c)
    if conditions.numerical_validity(m.trace_)["flagged"]:
        # lambda = 1e-4 with the paper's init scale 8 can put beta_1 ~ 1e9-1e10, beyond
        # what float64 resolves: the verdict must then be INCONCLUSIVE, never PASS
        assert sd.verdict == Verdict.INCONCLUSIVE, sd.message
        return
    assert sd.verdict == Verdict.PASS, sd.message
    # the measured descent constant is at least the derived one (Lemma 14 with our constants)
    assert sd.min_margin >= c.margin * (1 - 1e-6), (sd.min_margin, c.margin)
    assert conditions.lemma18_steps(m.trace_)["holds"]
    assert conditions.certifies(m.trace_, c.xi_layers, c.a)["holds"]
    assert np.max(m.trace_.normLam[:, 1]) <= c.bounds["a_star"] * (1 + 1e-9)
    assert np.max(m.trace_.normW[:, 1]) <= c.bounds["w"] * (1 + 1e-9)
    f = feasibility_to_zero(m)
    assert f.verdict != Verdict.FAIL, f.message


@settings(max_examples=4, deadline=None)
@given(vst.problems(max_depth=1, max_n=40, max_width=4), st.sampled_from([1e-4, 1e-2, 1.0]))
def test_nonanalytic_activation_inside_the_derived_conditions(prob, lam):
    """Assumption 1's analyticity is only needed for the KL argument; descent holds without it."""
    from solver import init_weights

    act = vst.bump_sigmoid()
    w0 = init_weights(prob.widths, "msra", 8.0, prob.seed)
    c = conditions.derive_from_data(1, act, X=prob.X, y=prob.y, init_weights=w0, lam=lam)
    spec = vst.RunSpec(problem=prob, activation=act, init_weights=w0,
                       kwargs={k: v for k, v in c.kwargs.items() if k != "activation"},
                       conditions=c, max_iter=80)
    m = spec.fit()
    flagged = conditions.numerical_validity(m.trace_)["flagged"]
    expected = Verdict.INCONCLUSIVE if flagged else Verdict.PASS
    assert sufficient_descent(m, conditions=c).verdict == expected
    assert conditions.certifies(m.trace_, c.xi_layers, c.a)["holds"]


@settings(max_examples=8, deadline=None)
@given(st.data())
def test_near_boundary_negative_controls(data):
    prob = data.draw(vst.problems(min_depth=1, max_depth=2, max_width=4, max_n=40))
    act = data.draw(vst.activations(include_nonanalytic=True))
    w0 = data.draw(vst.initialisations(prob))
    kind, kw = data.draw(vst.near_boundary(prob, act))
    kw = dict(kw)
    kw.pop("activation")
    spec = vst.RunSpec(problem=prob, activation=act.name if act.builtin else act,
                       init_weights=w0, kwargs=kw, max_iter=150)
    E0, yn = conditions.initial_energy(prob.X, prob.y, w0, act, kw["lam"])
    g = conditions.guaranteed(prob.depth, act, kw["beta"], kw["lam"], E0=E0, y_norm=yn,
                              n=prob.X.shape[0], widths=prob.hidden_layer_sizes,
                              curvature_factor=max(kw["curvature_factor"], 0.5))
    if kind != "curvature_below_half":      # below 1/2 the derivation does not apply at all
        assert g is False
    m = spec.fit()
    sd = sufficient_descent(m)               # xi, a from the run's a-posteriori certificate only
    ap = conditions.a_posteriori(m.trace_)
    if kind == "curvature_below_half":
        # the certificate assumes a majorising LLA step (factor >= 1/2); it cannot vouch here
        assert sd.verdict != Verdict.PASS or ap["holds"]
    else:
        assert sd.verdict != Verdict.PASS or ap["holds"], (kind, sd.message)


OBSERVED = dict(beta=100.0, lam=1.0, curvature="theory", curvature_factor=2.0)


def assert_observed_region_promises(m):
    """What the theory promises on ANY run in the observed region (uniform beta = 100, lam = 1):

    * Lemma 18 (the dual step bounded by the primal steps, from the update rules alone);
    * Lemma 14 with the constants of the run's a-posteriori certificate, when that certificate
      holds on the run (the derivation applied to the run's measured box).

    Not promised, and not asserted: descent of ``L_beta`` itself with user constants
    ``xi = 0, a = lam/2``.  The thorough profile found runs where it fails (issue 27: a depth-1
    tanh run, n = 10, width 2, at k = 4; the depth-2 run of
    :func:`test_observed_region_regression_depth2` at k = 383, drop -0.00139 against
    a P_k = 7.15e-05), and there no certificate holds: a uniform beta is outside every
    derivation, so no fixed ``(xi, a)`` is owed.
    """
    assert_converges(m, checks=["dual_bounded_by_primal"])
    ap = conditions.a_posteriori(m.trace_)
    if currently_in_test_context():
        event(f"a-posteriori certificate holds: {ap['holds']}")
    if ap["holds"]:
        assert_converges(m, checks=["sufficient_descent"])     # xi, a from the certificate


# issue 27's depth-2 counter-example to the old assertion (xi = 0, a = lam/2), found by the thorough
# profile: the square task y = x^2/10 on 34 points, widths (6, 5), tanh (values as hypothesis printed them)
_X27 = np.array([0.24338155, -0.03146124, -0.80584185, -0.57279371, -0.21281891, 0.07761367, -0.64103276,
                 0.26568359, -0.82598104, -0.35527698, -0.90985671, 0.32616749, 0.02753299, 0.89570897,
                 0.61488102, 0.37396249, -0.47913757, 0.87004313, 0.08971041, -0.09055034, 0.85224707,
                 -0.92690077, 0.79851277, -0.73231957, 0.85445937, 0.54511444, -0.05518109, -0.77232856,
                 0.61038065, 0.6341118, -0.62821535, 0.50184158, 0.92043012, -0.5534554])[:, None]
_W27 = [(np.array([[-3.6571416], [-5.56636818], [-2.13074006], [-2.30701201], [5.66032188], [4.95334103]]),
         np.zeros(6)),
        (np.array([[0.42937717, -0.99227152, -3.10678225, 1.87276721, -3.05061521, -5.48934604],
                   [3.29697744, -1.06676519, -4.60753562, -5.759414, 1.10889231, -4.31544787],
                   [3.28087184, 2.39009225, -0.6259677, -0.57505638, 2.53942709, -1.19905116],
                   [5.79932533, -4.01631959, -4.81177072, -3.50052736, 2.4559878, -4.00049011],
                   [-3.00969845, -4.74182391, -0.96968677, 3.70587575, 3.5663106, 1.2876991]]), np.zeros(5)),
        (np.array([[6.94569673, 4.77179754, 1.06312014, 2.44610407, -4.63631196]]), np.zeros(1))]


def test_observed_region_regression_depth2():
    """Issue 27, failure 3 (default profile): the run where L_beta rises at k = 383.

    The old test asserted descent with xi = 0, a = lam/2 and failed here; the theory does not
    promise that (no certificate holds on this run), so the corrected property holds."""
    m = ADMM(hidden_layer_sizes=(6, 5), activation="tanh", max_iter=400, verbose=0, random_state=0,
             engine="numpy", **OBSERVED).fit(_X27, _X27[:, 0] ** 2 / 10, init_weights=_W27)
    old = sufficient_descent(m, xi=0.0, a=0.5)
    assert old.verdict == Verdict.FAIL, old.message     # the counter-example is still one
    assert not conditions.a_posteriori(m.trace_)["holds"]
    assert_observed_region_promises(m)


@pytest.mark.slow   # minutes on 2 cores (300 iterations x 8 examples, depth 1-2; 3000 where needed)
@settings(max_examples=8, deadline=None)
@given(vst.runs(inside=True, max_depth=2, max_width=6, max_iter=300, max_n=60))
def test_observed_region_shows_descent_boundedness_feasibility(spec):
    m = spec.fit(**OBSERVED)
    # The O(1/k) rate is NOT asserted here: hypothesis found problems in this region where,
    # within 300 iterations, min r_k decays like k^-0.89 and even min r_k^2 like k^-0.48
    # (docs/verify.md).  The rate is asserted on the fixed problems of test_verify_cli.py.
    # Descent: only what the theory promises (assert_observed_region_promises; issue 27 found
    # runs where L_beta rises with xi = 0, a = lam/2, which no derivation promises for a uniform beta).
    # Boundedness and feasibility are what this region shows empirically (docs/verify.md).
    # Some problems need more than 300 iterations (hypothesis examples, docs/verify.md): at
    # depth 1, width 1, product task, ||W_1|| grows 0.062 -> 0.083 at k = 300 -> 0.149 at 1000
    # -> 0.1989 by 8000 (bounded_iterates rightly FAILs at 300); at depth 2, widths (1, 4),
    # ||F|| / ||V|| is still 1.06e-4 > rtol at k = 300, falling (feasibility INCONCLUSIVE).
    # A run whose boundedness or feasibility is not yet PASS is continued to 3000 iterations
    # (and to 10000 where boundedness is still INCONCLUSIVE), where boundedness must PASS and
    # the violation must be PASS or below tolerance (issue 27's
    # thorough run: depth 1, sigmoid, width 5, seed 103 ends at ||F|| = 2.3e-7 of ||V|| with a
    # 1.3x rise in a late window, "below tolerance but not falling in every window",
    # INCONCLUSIVE by the rule; a uniform beta promises no monotone fall, so the test asks for
    # what the region shows, not for a PASS no derivation gives).
    assert_observed_region_promises(m)
    two = ["feasibility_to_zero", "bounded_iterates"]
    res = run_checks(m, checks=two)
    if any(r.verdict != Verdict.PASS for r in res.values()):
        long = spec.fit(**OBSERVED, max_iter=3000)
        assert_observed_region_promises(long)
        res = run_checks(long, checks=two)
        b = res["bounded_iterates"]
        if b.verdict != Verdict.PASS:
            # issue 19 round 4: a tail still moving at 3000 (a recovery below an earlier peak,
            # a slow approach whose window ratios rise 0.42 -> 0.64) is "not yet shown bounded";
            # the hypothesis examples that read so at 3000 PASS at 10000 (7 s).  One FAILs at
            # 3000 (depth 2, widths (3, 1), 'algebraic', square task n = 10: ||V_3|| grows over
            # k = 375..3000 with doubling ratios 1.67, 1.41, a growth law to the trend rule) and
            # PASSes at 10000 and 30000 (a late transient): a known false FAIL of the trend rule
            # (docs/verify.md, "What a PASS implies"), kept visible here
            long = spec.fit(**OBSERVED, max_iter=10000)
            assert_observed_region_promises(long)
            res = run_checks(long, checks=two)
            b = res["bounded_iterates"]
        assert b.verdict == Verdict.PASS, b.message
        f = res["feasibility_to_zero"]
        assert f.verdict == Verdict.PASS or (f.verdict == Verdict.INCONCLUSIVE
                                             and f.relative <= 1e-4), f.message


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
    """Record a trace with solver.admm.steps (bypasses the estimator's Assumption-1 check)."""
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
        # every column the admm schema requires (verify.integrity.REQUIRED_COLUMNS): a trace
        # missing one is refused, so the negative control records them like the engines do
        tr.feas[k] = [np.linalg.norm(f) for f in steps.constraint_residuals(W, V, Xm, act)]
        tr.normW[k] = [np.linalg.norm(w) for w in W]
        tr.normV[k] = [np.linalg.norm(v) for v in V]
        tr.normLam[k] = [np.linalg.norm(v) for v in Lam]
        tr.kkt[k] = [np.linalg.norm(r) for r in steps.kkt_residuals(W, V, Lam, Xm, Y, lam, act)]
        tr.kkt_total[k] = np.sqrt(np.sum(tr.kkt[k] ** 2) + np.sum(tr.feas[k] ** 2))
        tr.set_length(k + 1)
    return tr


def test_negative_control_relu_breaks_descent():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (40, 1))
    y = X[:, 0] ** 2
    tr = _reference_trace(get_activation("relu"), X, y, (1, 6, 6, 1), beta=1.0, lam=1e-6,
                          iters=150, rule="reference")
    r = sufficient_descent(tr)
    assert r.verdict != Verdict.PASS, r.message


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
    assert r.verdict != Verdict.PASS, r.message     # the 1/k constant is not observable here
