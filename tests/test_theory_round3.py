"""Issue 24 (theory, round 3): exact tolerances stay exact, shifted and scaled activations
certify, derivative bounds in seconds, clear answers for non-sigmoid inputs; issue 25 item 3
(certify's automatic precision for extreme float inputs).

Every reference value here is computed independently (mpmath at 30-50 digits from the sympy
expression, or a certificate at a much higher precision), never copied from the code under test.
"""

import math
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from flint import arb, arb_series

import theory
from theory import Activation, certify, product_gate, relu_net, square_gate, yarotsky_square
from theory._arb import StableForm, exact_fraction, working_prec
from theory.activations import BUILTINS

t = sp.Symbol("t", real=True)
HALF = sp.Rational(1, 2)

# the two shifted activations, and held-out shifts / scalings / families
TANH_SHIFT = Activation.from_expr((1 + sp.tanh(t - HALF)) / 2, t, "tanh_shift")
LOGISTIC_SHIFT = Activation.from_expr(1 / (1 + sp.exp(-(t + 1))), t, "logistic_shift")
HELD_OUT = [
    Activation.from_expr(1 / (1 + sp.exp(-(2 * t - 1))), t, "logistic_2t_minus_1"),
    Activation.from_expr((1 + sp.tanh(t + sp.Float("0.3"))) / 2, t, "tanh_t_plus_0.3"),
    Activation.from_expr((1 + sp.erf(t - 1)) / 2, t, "erf_t_minus_1"),
    Activation.from_expr(HALF + sp.atan(2 * t + 1) / sp.pi, t, "atan_2t_plus_1"),
    Activation.from_expr(1 / (1 + sp.exp(-sp.sqrt(2) * t + 1)), t, "logistic_sqrt2"),
]
SHIFTED = [TANH_SHIFT, LOGISTIC_SHIFT] + HELD_OUT


def _mp_coeffs(act, x, n):
    """Taylor coefficients sigma^(k)(x)/k!, k < n, at 70 digits (mpmath, independent of Arb); a
    float constant in the expression (0.3) is its binary value, as the ball arithmetic reads it."""
    expr = act.expr.xreplace({f: sp.Rational(f) for f in act.expr.atoms(sp.Float)})
    f = sp.lambdify(t, expr, "mpmath")
    with mpmath.workdps(70):
        return [c for c in mpmath.taylor(f, mpmath.mpf(x), n - 1)]


def _encloses(c, v):
    """The ball ``c`` contains the reference ``v`` (70 digits), up to the reference's own
    rounding (1e-60 relative): a ball whose upper end is exactly 1 may meet a reference that
    rounds to 1."""
    with mpmath.workdps(70):
        lo = mpmath.mpf(c.lower().str(70, radius=False))
        hi = mpmath.mpf(c.upper().str(70, radius=False))
        tol = mpmath.mpf(10) ** -55 * (1 + abs(v))
        return lo - tol <= v <= hi + tol


# ---------------------------------------------------------------- 1. exact eps and M
def test_gate_eps_and_M_are_stored_exactly():
    """Decimal, Fraction, sympy Rational and int stay exact; a float is its exact binary value
    (the Decimal used to become 0.12345678901234568, rounded upward)."""
    d = Decimal("0.1234567890123456789012345")
    exact = sp.Rational(1234567890123456789012345, 10 ** 25)
    assert square_gate(d, 1).eps == exact
    assert square_gate(Fraction(1, 3) / 10 ** 6, 1).eps == sp.Rational(1, 3 * 10 ** 6)
    assert square_gate(1e-3, d).M == exact
    assert product_gate(1e-3, sp.Rational(7, 3)).M == sp.Rational(7, 3)
    assert square_gate(0.1, 1).eps == sp.Rational(*(0.1).as_integer_ratio())
    assert yarotsky_square(d, 1).eps == exact
    assert square_gate("1e-6", 1).eps == sp.Rational(1, 10 ** 6)
    for bad in (float("nan"), Decimal("inf"), "abc", True, sp.I):
        with pytest.raises(ValueError, match="eps"):
            square_gate(bad, 1)
        with pytest.raises(ValueError, match="M"):
            square_gate(1e-3, bad)


def test_exact_eps_decides_against_the_exact_number_fraction_and_decimal():
    """An eps 1e-25 (relative) below the net's true sup error refutes, one 1e-25 above
    certifies, as a Fraction and as a Decimal: float64 (1e-16) cannot tell them apart, and at
    least one of them rounds to the wrong side of the error (checked here), so a certifier that
    rounds eps through float decides one of them wrongly."""
    net = square_gate(1e-9, 1)
    ref = certify(net, rtol=0, atol=1e-40, dps=60)        # the sup error to ~17 digits
    lo, hi = exact_fraction(ref.rigorous_lower), exact_fraction(ref.rigorous_sup_error)
    assert 0 < hi - lo < lo * Fraction(1, 10 ** 16)      # finer than float64's spacing
    below = lo * (1 - Fraction(1, 10 ** 25))
    above = hi * (1 + Fraction(1, 10 ** 25))
    # float rounding puts one of them on the wrong side of the true error
    assert Fraction(float(below)) > hi or Fraction(float(above)) < lo
    dec_below = Decimal(below.numerator) / Decimal(below.denominator)     # 28 digits, < lo
    assert Fraction(dec_below) < lo
    for eps in (below, dec_below):
        cert = certify(net, eps=eps)
        assert cert.status == "refuted", cert.message
        assert cert.eps_exact == sp.Rational(Fraction(eps).numerator, Fraction(eps).denominator)
    cert = certify(net, eps=above)
    assert cert.status == "certified", cert.message
    assert certify(net, eps=sp.Rational(above.numerator, above.denominator)).status == "certified"


# ---------------------------------------------------------------- 2. shifted / scaled activations
@pytest.mark.parametrize("act", SHIFTED, ids=lambda a: a.name)
@pytest.mark.parametrize("center", [-700, -40, -3, -0.5, 0.5, 3, 40, 900])
def test_ball_form_is_tight_on_narrow_balls_at_any_distance(act, center):
    """A ball of radius 1e-12 anywhere: every Taylor coefficient contains the 50-digit mpmath
    value (70 digits) and is at most 1e-10 of the largest coefficient (plus 1e-300) wide -- it does not
    widen with |z| (sigma(t + 1) at z = 500 +- 1 used to be [+- 7.39])."""
    form = StableForm(act.expr, act.symbol)
    n = 6
    ref = _mp_coeffs(act, center, n)
    with working_prec(160, cap=n):
        co = form(arb_series([arb(center, 1e-12), 1])).coeffs()
        co += [arb(0)] * (n - len(co))
        top = max(abs(v) for v in ref)
        for c, v in zip(co, ref):
            assert c.is_finite()
            assert _encloses(c, v), (c, v)
            assert float(c.rad()) <= 1e-10 * float(top) + 1e-300
        # at the exact point: the value itself to about 45 digits (a shift rounded to 15 digits,
        # e.g. a float 0.3 read as 3/10, would be off by 1e-17)
        v0 = form(arb(center))
        assert _encloses(v0, ref[0]) and float(v0.rad()) <= 1e-40 * max(float(abs(ref[0])), 1e-300)


@pytest.mark.parametrize("act", SHIFTED, ids=lambda a: a.name)
@pytest.mark.parametrize("lo,hi", [(-50, -10), (10, 50), (-100, 100), (450, 550), (-3, 3)])
def test_ball_form_encloses_on_wide_balls_and_stays_finite(act, lo, hi):
    """Wide balls (also straddling the centre -c/a of sigma(a t + c)): finite coefficients that
    contain sigma^(k)(xi)/k! at sample points xi of the ball, and far from the centre within a
    factor 8 of the largest such value (or below 1e-100) (they used to be NaN or [+- 1e21])."""
    form = StableForm(act.expr, act.symbol)
    n = 5
    pts = [lo + (hi - lo) * i / 16 for i in range(17)]
    refs = [_mp_coeffs(act, x, n) for x in pts]
    with working_prec(128, cap=n):
        co = form(arb_series([arb(lo).union(arb(hi)), 1])).coeffs()
        co += [arb(0)] * (n - len(co))
    for k, c in enumerate(co):
        assert c.is_finite(), (k, c)
        for r in refs:
            assert _encloses(c, r[k]), (k, c, r[k])
        top = max(abs(r[k]) for r in refs)
        if k >= 1 and min(abs(lo), abs(hi)) >= 10 and lo * hi > 0:
            assert float(abs(c).upper().mid()) <= 8 * float(top) + 1e-100


@pytest.mark.parametrize("act", SHIFTED, ids=lambda a: a.name)
def test_step_constant_of_shifted_activations_is_a_tight_certified_upper_bound(act):
    """C >= sup_v v max(1 - b(v), b(-v)) (b the normalised activation; 20-digit grid maximum,
    refined by a local maximiser) and within 1e-4 of it (the build used to stop with "no
    certified step constant")."""
    C = theory.step_constant(act)
    lo, hi = act.limits
    b = sp.lambdify(t, (act.expr - lo) / (hi - lo), "mpmath")
    with mpmath.workdps(30):
        g = lambda v: max(v * (1 - b(v)), v * b(-v))  # noqa: E731
        vs = [mpmath.mpf(i) / 200 for i in range(1, 4000)]
        v0 = max(vs, key=g)
        true = max(g(v0 + mpmath.mpf(j) / 20000) for j in range(-100, 101))
        assert true <= C
        assert C <= true * (1 + mpmath.mpf(10) ** -4) + mpmath.mpf(10) ** -6


@pytest.mark.parametrize("act", [HELD_OUT[0], HELD_OUT[3]], ids=lambda a: a.name)
def test_relu_net_of_a_shifted_activation_certifies(act):
    net = relu_net(1e-3, 1, act)
    cert = certify(net)
    assert cert.status == "certified", cert.message


@pytest.mark.slow
@pytest.mark.parametrize("act", [TANH_SHIFT, LOGISTIC_SHIFT] + HELD_OUT, ids=lambda a: a.name)
def test_relu_net_of_shifted_activations_certifies_at_1e_6_within_60_s(act):
    t0 = time.perf_counter()
    net = relu_net(1e-6, 1, act)
    cert = certify(net)
    assert cert.status == "certified", cert.message
    assert time.perf_counter() - t0 < 60 * max(1.0, _load_factor())


def _load_factor():
    try:
        import os

        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # pragma: no cover
        return 1.0


def test_nonzero_count_of_a_shifted_activation_has_two_more_biases():
    """The identity gate sits at t1 = argmax |sigma'| (0 for the sigmoid, -1 for sigma(t + 1)):
    a shifted activation has two more non-zero first-layer biases (25 / 30 instead of 23 / 28)."""
    for act, extra in ((theory.sigmoid, 0), (LOGISTIC_SHIFT, 2)):
        assert relu_net(1e-3, 1, act).n_nonzero_weights == 23 + extra
        assert relu_net(1e-3, 1, act, variant="paper").n_nonzero_weights == 28 + extra


# ---------------------------------------------------------------- 3. derivative bounds
def _mp_sup_abs_derivative(act, k, lo=-12, hi=12, n=1200):
    f = sp.lambdify(t, sp.diff(act.expr, t, k), "mpmath")
    with mpmath.workdps(30):
        return max(abs(f(mpmath.mpf(lo) + (hi - lo) * mpmath.mpf(i) / n)) for i in range(n + 1))


@pytest.mark.parametrize("act", [BUILTINS[n] for n in ("sigmoid", "tanh", "gauss_cdf", "arctan")]
                         + [TANH_SHIFT, LOGISTIC_SHIFT], ids=lambda a: a.name)
@pytest.mark.parametrize("k", [6, pytest.param(12, marks=pytest.mark.slow)])
def test_high_order_bounds_in_seconds_and_contain_the_reference(act, k):
    """bound(k), nothing cached: at most 10 s of CPU time (it took 21-35 s of
    wall time, mostly sympy), and the enclosure contains the 30-digit grid maximum up to the
    grid's resolution (gauss_cdf's L_6 used to raise; the value is 2.30710592963...)."""
    if act.builtin:
        act._bounds.pop(k, None)       # nothing cached (a user copy would reuse the built-in's)
        fresh = act
    else:
        fresh = Activation.from_expr(act.expr, t, act.name + "_fresh")
    c0 = time.process_time()
    b = fresh.bound(k)
    assert time.process_time() - c0 < 10
    ref = _mp_sup_abs_derivative(act, k)
    assert ref <= b.enclosure[1] * (1 + mpmath.mpf(10) ** -12)
    assert ref >= b.enclosure[0] * (1 - mpmath.mpf(10) ** -2)


def test_gauss_cdf_L6_value():
    """sigma^(6) = -He_5(t) phi(t); its sup over R, maximised independently with mpmath."""
    with mpmath.workdps(30):
        f = lambda x: abs((x ** 5 - 10 * x ** 3 + 15 * x) * mpmath.npdf(x))  # noqa: E731
        df = lambda x: mpmath.diff(f, x)  # noqa: E731
        cands = [mpmath.findroot(df, x0) for x0 in (0.6, 2.0, 3.3)]
        ref = max(f(x) for x in cands)
    b = theory.gauss_cdf.bound(6)
    assert b.enclosure[0] <= ref <= b.enclosure[1]
    assert abs(ref - mpmath.mpf("2.30710592963")) < 1e-10


def test_no_stray_messages_on_stderr():
    """The closed-form attempts of the shifted activations' L_1..L_3 are cut short without
    'Exception ignored ... BudgetExpired' on stderr."""
    code = ("import sympy as sp; from theory import Activation; t = sp.Symbol('t', real=True);"
            "a = Activation.from_expr((1 + sp.tanh(t - sp.Rational(1, 2)))/2, t, 'x');"
            "[a.bound(k) for k in (1, 2, 3, 4, 5)]; print('done')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "done" in out.stdout, out.stderr[-2000:]
    assert "BudgetExpired" not in out.stderr and "Exception ignored" not in out.stderr, out.stderr


# ---------------------------------------------------------------- 4. non-sigmoid inputs
def test_polynomial_activations_get_exact_bounds_or_a_named_error():
    """t**2 used to raise AttributeError ('coeffs') in the enclosure engine."""
    sq = Activation.from_expr(t ** 2, t, "square")
    assert [sq.bound(k).exact for k in range(5)] == [sp.oo, sp.oo, 2, 0, 0]
    cert = certify(square_gate(1e-3, 1, sq))        # exact for every d: error 0
    assert cert.status == "certified" and cert.rigorous_sup_error <= 1e-6   # atol = 1e-3 eps
    for expr in (t ** 3, sp.exp(t), t ** 4 - t):
        act = Activation.from_expr(expr, t, "unbounded")
        with pytest.raises(ValueError, match="activation: .*bounded derivative"):
            square_gate(1e-3, 1, act)
    with pytest.raises(ValueError, match="activation"):
        relu_net(1e-3, 1, sq)       # no finite limits: Theorem 3's step cannot be built


# ---------------------------------------------------------------- issue 25 item 3: extreme floats
@pytest.mark.parametrize("kw", [dict(eps=1e-300), dict(eps=5e-324), dict(M=1e300),
                                dict(eps=1e300)], ids=str)
def test_auto_precision_handles_extreme_floats(kw):
    net = square_gate(1e-6, 1)
    cert = certify(net, max_boxes=300, time_limit=60, **kw)
    assert cert.status in ("certified", "refuted", "inconclusive")
    if "eps" in kw and kw["eps"] < 1e-100:
        # the precision resolves eps itself (log2(1/5e-324) = 1074 bits), not a 1e-300 floor
        assert cert.prec_bits >= -math.log2(kw["eps"])
        assert cert.status == "refuted"


def test_auto_precision_handles_an_output_scaled_by_1e308():
    cert = certify(square_gate(1e-6, 1).with_output_scaled(1e308), max_boxes=300, time_limit=60)
    assert cert.status == "refuted", cert.message


# ---------------------------------------------------------------- 5. relu_net(1e-30, 1)
def test_relu_net_at_eps_1e_30_certifies():
    """Inconclusive at 120 s before (order 12: 41064 boxes); the automatic order grows with
    log10(1/eps) (24 here: about 1300 boxes)."""
    net = relu_net(1e-30, 1)
    c0 = time.process_time()
    cert = certify(net)
    assert cert.status == "certified", cert.message
    assert time.process_time() - c0 < 60
    assert cert.n_boxes < 10_000
