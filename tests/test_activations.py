"""theory.activations: exact constants against an independent high-precision computation."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory import Activation, get_activation, relu, sigmoid, tanh

SMOOTH = [theory.sigmoid, theory.tanh, theory.gauss_cdf, theory.arctan_sigmoid]


def _mp_sup_abs(act, k, lo=-12, hi=12, n=241):
    """Independent estimate: mpmath derivative by numerical differentiation + local refinement."""
    f = lambda t: act.mp(0)(t)  # noqa: E731
    grid = [mpmath.mpf(lo) + (hi - lo) * mpmath.mpf(j) / (n - 1) for j in range(n)]
    vals = [abs(mpmath.diff(f, t, k)) for t in grid]
    j = max(range(n), key=lambda i: vals[i])
    t0 = grid[j]
    # refine with findroot on the (k+1)-th derivative
    try:
        r = mpmath.findroot(lambda t: mpmath.diff(f, t, k + 1), t0)
        return max(vals[j], abs(mpmath.diff(f, r, k)))
    except (ValueError, ZeroDivisionError):
        return vals[j]


@pytest.mark.parametrize(
    "act,k,expected",
    [
        (sigmoid, 1, sp.Rational(1, 4)),
        (sigmoid, 2, sp.sqrt(3) / 18),
        (sigmoid, 3, sp.Rational(1, 8)),
        (tanh, 1, sp.Integer(1)),
        (tanh, 2, 4 / (3 * sp.sqrt(3))),
        (tanh, 3, sp.Integer(2)),
    ],
)
def test_paper_constants_are_exact(act, k, expected):
    b = act.bound(k)
    assert b.exact is not None
    assert sp.simplify(b.exact - expected) == 0
    assert b.attained


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_bounds_match_independent_high_precision(act, k):
    with mpmath.workdps(30):
        ref = _mp_sup_abs(act, k)
        b = act.bound(k)
        assert b.enclosure[0] - mpmath.mpf(1e-20) <= ref <= b.enclosure[1] + mpmath.mpf(1e-12)
        assert abs(ref - b.enclosure[1]) < 1e-10


def test_sigmoid_L0_is_a_supremum_not_attained():
    b = sigmoid.bound(0)
    assert b.exact == 1 and not b.attained
    assert sigmoid.limits == (0, 1)
    assert tanh.limits == (-1, 1)


def test_sigmoid_L2_argmax_is_log_2_pm_sqrt3():
    pts = sigmoid.bound(2).argmax
    assert {sp.simplify(p - sp.log(2 + sp.sqrt(3))) == 0 or sp.simplify(p + sp.log(2 + sp.sqrt(3))) == 0
            for p in pts} == {True}
    assert len(pts) == 2


@pytest.mark.parametrize("act", SMOOTH, ids=lambda a: a.name)
@given(x=st.floats(-30, 30))
def test_float64_matches_mpmath(act, x):
    with mpmath.workdps(40):
        for k, fn in enumerate((act, act.d1, act.d2)):
            ref = float(act.mp(k)(mpmath.mpf(x)))
            assert math.isclose(float(fn(x)), ref, rel_tol=1e-9, abs_tol=1e-15)


def test_user_activation_from_expr():
    x = sp.Symbol("x")
    alg = Activation.from_expr((1 + x / sp.sqrt(1 + x**2)) / 2, x, "algebraic")
    assert alg.is_smooth and not alg.is_linear
    assert sp.simplify(alg.bound(1).exact - sp.Rational(1, 2)) == 0
    with mpmath.workdps(30):
        assert math.isclose(float(alg.d2(0.7)), float(alg.mp(2)(mpmath.mpf("0.7"))), rel_tol=1e-12)


def test_bad_inputs_are_named():
    x, y = sp.symbols("x y")
    with pytest.raises(ValueError, match="expr"):
        Activation.from_expr(x + y, x, "two")
    with pytest.raises(ValueError, match="symbol"):
        Activation.from_expr(x, "x", "lin")
    with pytest.raises(ValueError, match="activation"):
        get_activation("softsign")
    with pytest.raises(ValueError, match="k"):
        sigmoid.bound(-1)
    lin = Activation.from_expr(2 * x + 1, x, "affine")
    assert lin.is_linear
    with pytest.raises(ValueError, match="linear"):
        lin.require_smooth()
    with pytest.raises(ValueError, match="smooth"):
        relu.require_smooth()


# --- issue 24: the built-ins' closed forms by polynomial algebra (theory.activations._RICCATI) ---
from theory import activations as _A  # noqa: E402


@pytest.mark.parametrize("act", [sigmoid, tanh], ids=lambda a: a.name)
def test_riccati_form_is_the_activations_ode_and_inverse(act):
    """The route's premises: sigma' = P(sigma), P > 0 strictly inside the range (a, b) of sigma
    (so sigma is an increasing bijection of R onto (a, b)), and inverse(sigma(t)) = t."""
    P, inverse = _A._RICCATI[act.name]
    t, x = act.symbol, _A._x
    assert sp.simplify(sp.diff(act.expr, t) - P.subs(x, act.expr)) == 0
    a, b = act.limits
    assert [r for r in sp.real_roots(sp.Poly(P, x)) if a < r < b] == []
    assert P.subs(x, (a + b) / 2) > 0
    for r in (sp.Rational(1, 3) * a + sp.Rational(2, 3) * b, (a + b) / 2 + sp.sqrt(2) / 10):
        e = act.expr.subs(t, inverse(r)).rewrite(sp.exp)
        assert sp.simplify(sp.radsimp(sp.simplify(e)) - r) == 0


# The values and maximisers before the polynomial route (solveset on sigma^(k+1), sympy 1.x;
# test_paper_constants_are_exact checks the values against the paper's independently).
_BEFORE = {
    ("sigmoid", 0): (1, (sp.oo,), False), ("sigmoid", 1): (sp.Rational(1, 4), (0,), True),
    ("sigmoid", 2): (sp.sqrt(3) / 18, (sp.log(2 - sp.sqrt(3)), sp.log(2 + sp.sqrt(3))), True),
    ("sigmoid", 3): (sp.Rational(1, 8), (0,), True),
    ("tanh", 0): (1, (-sp.oo, sp.oo), False), ("tanh", 1): (1, (0,), True),
    ("tanh", 2): (4 * sp.sqrt(3) / 9, (sp.log(2 - sp.sqrt(3)) / 2, sp.log(2 + sp.sqrt(3)) / 2), True),
    ("tanh", 3): (2, (0,), True),
}


@pytest.mark.parametrize("name,k", sorted(_BEFORE))
def test_riccati_route_keeps_the_values_and_maximisers(name, k):
    act = get_activation(name)
    b = _A._bound_from_candidates(k, act._riccati_candidates(k))
    value, argmax, attained = _BEFORE[(name, k)]
    assert sp.simplify(b.exact - value) == 0 and b.attained == attained
    assert len(b.argmax) == len(argmax)
    assert all(p == q or sp.simplify(p - q) == 0 for p, q in zip(b.argmax, argmax))
    with mpmath.workdps(40):
        assert b.enclosure[0] < mpmath.mpf(sp.N(value, 40)) < b.enclosure[1]
    assert act.bound(k).exact == b.exact


@pytest.mark.slow
@pytest.mark.parametrize("name,k", [(n, k) for n in ("sigmoid", "tanh") for k in (1, 2, 3)])
def test_riccati_route_equals_the_solveset_route(name, k):
    """The same candidate values as the general route (seconds of sympy per case)."""
    act = get_activation(name)
    fast = sorted(float(v) for v, _, _ in act._riccati_candidates(k))
    slow = sorted(float(v) for v, _, _ in act._solveset_candidates(k))
    assert len(fast) == len(slow) and all(math.isclose(p, q, rel_tol=1e-14, abs_tol=1e-300)
                                          for p, q in zip(fast, slow))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gauss_cdf", "arctan"])
def test_builtin_closed_form_bounds_take_under_2_cpu_seconds(name):
    """Issue 24: bound(2) and bound(3) of a fresh built-in (no cached derivative or bound) within
    2 s of CPU time each (the solveset route took 2.6-5.5 s for the logistic and tanh)."""
    import copy
    import time

    act = copy.copy(get_activation(name))
    object.__setattr__(act, "_bounds", {})        # a fresh cache (Activation is frozen)
    act.__dict__.pop("_deriv_cache", None)
    for k in (2, 3):
        c0 = time.process_time()
        b = act.bound(k)
        assert b.exact is not None
        assert time.process_time() - c0 <= 2.0, (name, k)


_T = sp.Symbol("t", real=True)


@pytest.mark.parametrize("expr", [
    -(1 + sp.tanh(_T - sp.Rational(1, 2))) / 2,       # negative limit: |lim f| = 1
    sp.exp(-_T ** 2) - 3,                            # -3 at both ends
    sp.atan(_T) / sp.pi - 1,                         # -1/2 and -3/2
    _T * sp.exp(-_T),                                # 0 at +oo, -oo at -oo: |.| = oo
    sp.sin(_T),                                      # no limit: the fallback on |f|
])
def test_abs_limit_is_the_limit_of_the_absolute_value(expr):
    """L_0's candidates at +-oo (issue 24: |lim f| is taken where lim f exists, 3-10x faster)
    equal sympy's limit of |f| itself, including negative limits, infinite ones and none."""
    from theory.activations import _abs_limit
    for inf in (-sp.oo, sp.oo):
        mine, ref = _abs_limit(expr, _T, inf), sp.limit(sp.Abs(expr), _T, inf)
        assert mine == ref or sp.simplify(mine - ref) == 0, (expr, inf, mine, ref)
