"""verify.conditions: the derived N = 2 conditions, their structure, bad input, a-posteriori use."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from verify import conditions


@given(lam=st.floats(1e-4, 10), E0=st.floats(1e-3, 1e3), yn=st.floats(0, 30))
def test_derived_beta1_meets_every_requirement_and_gives_positive_margin(lam, E0, yn):
    c = conditions.derive(1, "sigmoid", lam=lam, E0=E0, y_norm=yn, sharp=False)
    b1, b2 = c.beta
    assert b2 > 1                                   # (D2)
    assert all(b1 >= v for v in c.requirements.values())
    assert c.margin > 0 and c.xi > 0
    # recompute the four descent coefficients from the docstring's formulas
    w, r = c.bounds["w"], c.bounds["r"]
    coefs = (lam / 2, lam / 2 - 3 * r ** 2 / b1, b1 / 2,
             (1 + b2) / 2 - 1 / b2 - 3 * w ** 2 * ((1 + b2) ** 2 + b2 ** 2) / b1)
    assert c.margin == pytest.approx(min(coefs))
    assert c.derived


@given(lam=st.floats(1e-3, 1.0), E0=st.floats(0.1, 10.0))
@example(lam=0.04327507640650667, E0=1.0)     # issue 27: the bisection stopped at a hole's edge
def test_structure_beta1_grows_like_one_over_lambda(lam, E0):
    """The least beta_1 is exactly C(E0, y_norm, beta_2) / lam: halving lam doubles it.

    Measured over lam in [1e-3, 1], E0 in [0.1, 10], tanh/sigmoid/arctan, beta_2 given or
    searched: the ratio is 2 to 1e-12.  Before issue 27 the sharp search returned 0.1 % too
    much at some lam (lam = 0.0433: 4347.41 -> 8684.49): the feasible set of beta_1 has small
    holes just above the least value and bisection stopped at a hole's upper edge
    (``verify.conditions._least_below`` now scans below it).
    """
    for sharp in (False, True):
        a = conditions.derive(1, "tanh", lam=lam, E0=E0, y_norm=1.0, beta_out=2.0, sharp=sharp)
        b = conditions.derive(1, "tanh", lam=lam / 2, E0=E0, y_norm=1.0, beta_out=2.0, sharp=sharp)
        assert b.beta[0] == pytest.approx(2 * a.beta[0], rel=1e-9)
        assert a.beta[0] > a.beta[1]               # input layer's penalty exceeds the output's


def _a_of_t(b1, b2, lam, w, r, t):
    """The weighted descent constant at share ``t`` written out from the docstring's forms."""
    gap2 = (1 + b2) / 2 - 1 / b2
    cd, cp, ce = w * (1 + b2), w * b2, r
    td, tp = (1 - t) * cd / (cd + cp), (1 - t) * cp / (cd + cp)
    return min(lam / 2, b1 / 2, lam / 2 - ce ** 2 / (t * b1),
               gap2 - cd ** 2 / (td * b1) - cp ** 2 / (tp * b1))


def _exact_shares(b1, b2, lam, w, r):
    """The exact crossing ``t*`` of ``f_e`` and ``f_d`` and first-order rounding bounds for the
    float64 ``t`` and ``u = 1 - t``, in 60-digit arithmetic from the float inputs.

    The root of ``f(t) = D t^2 - B t + e2`` moves by ``-(dD t^2 - dB t + de2) / f'(t*)`` when the
    coefficients move; ``|f'(t*)| = sqrt(B^2 - 4 D e2)``.  float64 builds ``D = (lam/2 - gap2) b1``
    with two cancellations (``gap2`` itself, then ``lam/2 - gap2``), ``B`` with one more, so
    ``|dD| <= 8 eps (lam/2 + (1 + b2)/2 + 1/b2) b1``, ``|dB| <= |dD| + 8 eps (|D| + e2 + S^2)`` (``B`` holds ``D``), ``|de2| <= 8 eps e2``;
    the same for ``u``'s quadratic ``D u^2 + (e2 + S^2 - D) u - S^2``.
    """
    import mpmath
    with mpmath.workdps(60):
        b1, b2, lam, w, r = (mpmath.mpf(x) for x in (b1, b2, lam, w, r))
        gap2 = (1 + b2) / 2 - 1 / b2
        S, e2 = w * (1 + b2) + w * b2, r ** 2
        D = (lam / 2 - gap2) * b1
        B = D + e2 + S ** 2
        disc = mpmath.sqrt(B * B - 4 * D * e2)
        if D == 0:                              # f is linear: t = e2 / (e2 + S^2)
            t, disc = e2 / (e2 + S ** 2), B
        else:
            t = next(x for x in ((B - disc) / (2 * D), (B + disc) / (2 * D)) if 0 < x < 1)
        u = 1 - t
        eps, dD = 2.0 ** -52, (lam / 2 + (1 + b2) / 2 + 1 / b2) * b1
        dt = 8 * eps * (dD * t ** 2 + (dD + abs(D) + e2 + S ** 2) * t + e2) / disc
        du = 8 * eps * (dD * u ** 2 + (dD + abs(D) + e2 + S ** 2) * u + S ** 2) / disc
        return float(t), float(u), float(dt), float(du)


@given(b1=st.floats(1.0, 1e8), b2=st.floats(1.01, 100.0), lam=st.floats(1e-6, 10.0),
       w=st.floats(1e-3, 1e3), r=st.floats(1e-3, 1e3))
@example(b1=7225574.0, b2=3.0, lam=1.0, w=0.125, r=1.0)   # t = 1 - 9.1e-8: 1 - t from its own quadratic
@example(b1=83107132.0, b2=80.0, lam=1.5, w=347.0, r=2.0)  # D + S^2 cancels: t + u - 1 = 20 eps
@example(b1=1.0, b2=76.0, lam=1.0, w=878.0, r=0.001)      # t* = 5.5e-17: u = 1 - t* is 1.0 in float64
def test_weighted_share_is_the_exact_maximiser(b1, b2, lam, w, r):
    """``t`` of :func:`_one_hidden_weighted` maximises ``a(t)`` over (0, 1): it is the exact
    crossing ``t*`` (60 digits) to its first-order rounding bound, ``u = 1 - t*`` likewise, and
    no grid point of a fine grid does better (issue 27: the former 400-point grid made the box
    non-monotone).  ``u`` may be 1.0 exactly where ``t*`` is a few eps."""
    xi, a, t, cV2 = conditions._one_hidden_weighted(b1, b2, lam, w, r)
    gap2, cp, S = (1 + b2) / 2 - 1 / b2, w * b2, w * (1 + 2 * b2)
    u = cp * S / (xi * b1)                  # the d-shares' total, recovered from xi = cp S / (u b1)
    t_star, u_star, dt, du = _exact_shares(b1, b2, lam, w, r)
    eps = 2.0 ** -52
    assert 0 < t < 1 and 0 < u <= 1 + 8 * eps   # u is recovered through xi: a few roundings
    assert u < 1 or t_star <= 8 * eps       # u = 1.0 only where 1 - t* is 1 to the recovery's rounding
    assert abs(t - t_star) <= dt + 2 * eps * t_star
    assert abs(u - u_star) <= du + 8 * eps * u_star      # + the recovery through xi (6 roundings)
    assert cV2 == pytest.approx(gap2 - S ** 2 / (u * b1), rel=1e-12, abs=1e-13 * gap2)   # cancellation
    assert a == pytest.approx(min(lam / 2, b1 / 2, lam / 2 - r ** 2 / (t * b1), cV2), rel=1e-12,
                              abs=1e-13 * max(lam, gap2))
    grid = np.linspace(0, 1, 20002)[1:-1]
    best = max(_a_of_t(b1, b2, lam, w, r, float(g)) for g in grid[:: 20])
    assert a >= best - 1e-12 * max(1.0, abs(best))


def test_deeper_schedules_are_empirical_and_geometric():
    """Depth >= 3 only: depth 1 and 2 are derived (tests/test_verify_derivation.py)."""
    c = conditions.derive(3, "sigmoid", lam=None)
    assert not c.derived and "empirical" in c.status["beta ratio"]
    ratios = np.array(c.beta[:-1]) / np.array(c.beta[1:])
    np.testing.assert_allclose(ratios, conditions.EMPIRICAL["ratio"])
    assert conditions.derive(4, "sigmoid", lam=None).lam > conditions.derive(3, "sigmoid", lam=None).lam
    assert conditions.derive(3, "sigmoid", lam=5.0).lam == 5.0          # a larger lam is kept


def test_deeper_schedules_never_replace_the_users_lambda():
    with pytest.raises(ValueError, match=r"needs lam >= 1 .*pass lam=1 or larger"):
        conditions.schedule(3, "sigmoid", lam=1e-3)
    assert conditions.guaranteed(2, "sigmoid", 1.0, 1e-6) is None


def test_guaranteed_depth1():
    c = conditions.derive(1, "sigmoid", lam=1.0, E0=1.0, y_norm=1.0)
    assert conditions.guaranteed(1, "sigmoid", c.beta, 1.0, E0=1.0, y_norm=1.0) is True
    assert conditions.guaranteed(1, "sigmoid", 1.0, 1e-6, E0=1.0, y_norm=1.0) is False   # the paper's
    assert conditions.guaranteed(1, "sigmoid", [c.beta[0] / 10, c.beta[1]], 1.0, E0=1.0,
                                 y_norm=1.0) is False
    old = conditions.derive(1, "sigmoid", lam=1.0, E0=1.0, y_norm=1.0, sharp=False)
    assert conditions.guaranteed(1, "sigmoid", old.beta, 1.0, E0=1.0, y_norm=1.0, sharp=False)
    assert old.beta[0] > 50 * c.beta[0]                # the sharpening gains ~2 decades


def test_initial_energy_matches_a_direct_forward_pass():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 2)), rng.normal(size=7)
    W1, b1, W2, b2 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(1, 3)), rng.normal(size=1)
    E0, yn = conditions.initial_energy(X, y, [(W1, b1), (W2, b2)], "tanh", 0.5)
    out = (np.tanh(X @ W1.T + b1) @ W2.T + b2)[:, 0]
    reg = sum(float((a ** 2).sum()) for a in (W1, b1, W2, b2))
    assert E0 == pytest.approx(0.5 * ((out - y) ** 2).sum() + 0.25 * reg)
    assert yn == pytest.approx(np.linalg.norm(y))


@pytest.mark.parametrize("kw,match", [
    ({"depth": 0}, "depth"), ({"depth": 1, "lam": -1, "E0": 1, "y_norm": 1}, "lam"),
    ({"depth": 1}, "E0, y_norm"), ({"depth": 1, "E0": 1, "y_norm": 1, "beta_out": 0.5}, "beta_out"),
    ({"depth": 1, "E0": 1, "y_norm": 1, "curvature_factor": 0.1}, "curvature_factor"),
    ({"depth": 1, "E0": 1, "y_norm": 1, "activation": "relu"}, "Assumption 1"),
])
def test_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        conditions.derive(**kw)


def test_schedule_kwargs_work_with_the_solver_and_a_posteriori_certifies_the_run():
    from solver import ADMM, init_weights, tasks

    t = tasks.make_task("square", n=30, seed=1, n_test=0)
    w0 = init_weights((1, 3, 1), "xavier", 1.0, 1)
    c = conditions.derive_from_data(1, "gauss_cdf", X=t.X, y=t.y, init_weights=w0, lam=0.5)
    m = ADMM(hidden_layer_sizes=(3,), max_iter=60, verbose=0, engine="numpy", **c.kwargs)
    m.fit(t.X, t.y, init_weights=w0)
    ap = conditions.a_posteriori(m.trace_)
    assert ap["holds"] and ap["margin"] >= c.margin      # measured bounds are tighter
    assert ap["w"] <= c.bounds["w"] and ap["r"] <= c.bounds["r"]
    from verify import sufficient_descent
    assert sufficient_descent(m, xi=ap["xi"], a=ap["margin"]).passed
    assert len(ap["xi"]) == 2


def test_a_posteriori_depth2_and_refuses_small_penalties_at_depth3():
    from solver import ADMM, init_weights, tasks
    from verify import sufficient_descent

    t = tasks.make_task("square", n=30, seed=1, n_test=0)
    w0 = init_weights((1, 3, 3, 1), "xavier", 1.0, 1)
    c = conditions.derive_from_data(2, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    m = ADMM(hidden_layer_sizes=(3, 3), max_iter=40, verbose=0, engine="numpy", **c.kwargs)
    m.fit(t.X, t.y, init_weights=w0)
    ap = conditions.a_posteriori(m.trace_)
    assert ap["holds"] and len(ap["xi"]) == 3 and ap["margin"] > 0
    assert sufficient_descent(m, xi=ap["xi"], a=ap["margin"]).passed
    m3 = ADMM(hidden_layer_sizes=(3, 3, 3), max_iter=3, verbose=0, engine="numpy", beta=10.0,
              lam=1.0).fit(t.X, t.y)
    ap3 = conditions.a_posteriori(m3.trace_)      # depth >= 3: section K.6' (issue 22)
    assert not ap3["holds"] and len(ap3["xi"]) == 4   # beta = 10 everywhere: no certificate


def test_verify_cites_docs_algorithm_not_math_md():
    """The repository does not cite MATH.md (kept outside it): the notation and the curvature
    rule are cited from docs/algorithm.md, whose anchors must exist."""
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[1]
    files = sorted((root / "verify").glob("*.py")) + [root / "docs" / "verify.md",
                                                      root / "docs" / "conditions_derivation.md"]
    for f in files:
        assert "MATH.md" not in f.read_text(), f
    heads = {re.sub(r"[^a-z0-9 -]", "", h.strip("# ").lower()).replace(" ", "-")
             for h in (root / "docs" / "algorithm.md").read_text().splitlines() if h.startswith("#")}
    assert {"notation", "curvature-of-the-lla-steps"} <= heads
    src = (root / "verify" / "conditions.py").read_text()
    assert "docs/algorithm.md#notation" in src and "docs/algorithm.md#curvature-of-the-lla-steps" in src
