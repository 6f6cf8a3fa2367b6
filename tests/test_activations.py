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
