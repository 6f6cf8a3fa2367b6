"""Issue 24, the referee's fifth round (held-out classes, fixed as classes).

* an exact eps below the true sup by a relative 1e-18 .. 1e-30 is refuted with a witness whose
  exact error exceeds eps (the branch and bound's lower bound used box midpoints only, never
  the ends of the domain or a critical point, and stopped 1e-17 relative below the sup:
  inconclusive);
* ``with_output_scaled`` reads its factor exactly: a decimal string, ``Decimal`` or ``Fraction``
  is the rational it spells, a float its exact binary value (``"1.00002"`` was a 15-digit sympy
  Float, a float its shortest repr);
* certify at the extreme eps of float64 (5e-324 and the subnormals, the smallest normal) lets
  no numpy RuntimeWarning reach the user (its float64 pass overflowed in ``matmul``), and a
  certified bound with a huge binary exponent (``2^-(10^9)``) is printed from its exponent, not
  turned into a Fraction of 10^9 bits (``step_gate(5e-324)`` hung for minutes in ``str_down``);
* ``bound(n)`` of a shifted / scaled arctan ``1/2 + atan(a t + c)/pi`` for n >= 6 ("cannot
  certify the tails": after ``t = 1/w`` the reduced ``atan(1/(a/w + c))`` was NaN at ``w = 0``);
  limits at +-oo are taken from ``sympy.limit`` when the function far out agrees (the Gruntz
  cross-check ran on every limit: 2.2 s of the shifted tanh's ``L_0``);
* mpmath's unsigned mantissa: a negative mpf kept its sign nowhere (``float_down(mpf(-0.5))``
  was 0.5, ``as_rational(mpf(-0.5))`` 1/2).
"""

from decimal import Decimal
from fractions import Fraction

import math
import time
import warnings

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import theory.activations as acts
from functools import lru_cache

from theory import Activation, certify, product_gate, relu_net, square_gate, step_gate
from theory._arb import exact_fraction, float_down, float_up, str_down, str_up
from theory.net import as_rational


# ------------------------------------------------------------------ item 3: exact output scaling
def _decimal_strings():
    """Decimal strings with up to 40 significant digits, near 1 and far from it."""
    return st.builds(lambda i, k, s: f"{s}{i}e-{k}", st.integers(1, 10 ** 40), st.integers(0, 45),
                     st.sampled_from(["", "-"]))


@pytest.fixture(scope="module")
def base_net():
    return square_gate(sp.Rational(1, 1000), 1)


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["str", "Decimal", "Fraction", "float"]), s=_decimal_strings(),
       q=st.fractions(min_value=-10, max_value=10, max_denominator=10 ** 30),
       f=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
       include_bias=st.booleans())
def test_output_scaling_is_exact(base_net, kind, s, q, f, include_bias):
    """The scaled output layer is exactly ``factor * (W_N, b_N)``, ``factor`` the exact number the
    argument denotes (a float's binary value ``p/2^k``, not its decimal repr)."""
    arg, exact = {"str": (s, sp.Rational(Fraction(Decimal(s)))),
                  "Decimal": (Decimal(s), sp.Rational(Fraction(Decimal(s)))),
                  "Fraction": (q, sp.Rational(q.numerator, q.denominator)),
                  "float": (f, sp.Rational(*f.as_integer_ratio()))}[kind]
    scaled = base_net.with_output_scaled(arg, include_bias=include_bias)
    (W0, b0), (W1, b1) = base_net.layers_exact[-1], scaled.layers_exact[-1]
    for a, b in zip(W0, W1):
        assert sp.simplify(b - exact * a) == 0 and not b.has(sp.Float)
    for a, b in zip(b0, b1):
        assert sp.simplify(b - (exact if include_bias else 1) * a) == 0 and not b.has(sp.Float)


def test_a_decimal_factor_keeps_its_digits_past_fifteen():
    """``"1.000...01"`` (``1 + 10^-k``, k past float64's and a default sympy Float's 15 digits) is
    ``1 + 10^-k`` exactly in the scaled Theorem 3 net (sympify made it a Float near 1)."""
    net = relu_net(sp.Rational(1, 10), 1)
    for k in (16, 20, 25):
        scaled = net.with_output_scaled("1." + "0" * (k - 1) + "1")
        (W1, _), (W0, _) = scaled.layers_exact[-1], net.layers_exact[-1]
        ratio = sp.simplify(W1[0, 0] / W0[0, 0])
        assert ratio == 1 + sp.Rational(1, 10 ** k)


# ------------------------------------------------------------------ item 2: extreme eps, no warnings
_BUILD = {"square": lambda e: square_gate(e, 1), "relu": lambda e: relu_net(e, 1),
          "step": lambda e: step_gate(e, 1), "product": lambda e: product_gate(e, 1)}


@settings(max_examples=8, deadline=None)
@given(kind=st.sampled_from(sorted(_BUILD)),
       eps=st.one_of(st.sampled_from([5e-324, 1e-320, 2.2250738585072014e-308]),
                     st.floats(min_value=5e-324, max_value=1e-290)))
def test_extreme_eps_reaches_the_user_without_warnings(kind, eps):
    """Every warning is an error here: construction, certify, the certificate's text and dict."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = _BUILD[kind](eps)
        t0 = time.process_time()
        cert = certify(net, max_boxes=30, time_limit=30)
        str(cert), cert.as_dict()
        assert time.process_time() - t0 < 60
    assert cert.status in ("certified", "inconclusive", "refuted")
    assert cert.float64_sup_error >= 0 and not math.isnan(cert.float64_sup_error)


@pytest.mark.parametrize("exp2", [-10 ** 9, -5000, 5000, 10 ** 7])
@pytest.mark.parametrize("man", [3, -5, 2 ** 60 + 1])
def test_far_ends_are_rounded_outward_from_their_exponent(exp2, man):
    """float_up/down and str_up/down of ``man 2^exp2`` far beyond float64: outward, fast, signed."""
    with mpmath.workprec(128):
        v = mpmath.ldexp(mpmath.mpf(man), exp2)
        t0 = time.process_time()
        lo_s, hi_s = str_down(v, 5), str_up(v, 5)
        lo_f, hi_f = float_down(v), float_up(v)
        assert time.process_time() - t0 < 5
        assert mpmath.mpf(lo_s) <= v <= mpmath.mpf(hi_s)
        assert mpmath.mpf(hi_s) - mpmath.mpf(lo_s) <= abs(v) * mpmath.mpf(10) ** -3
        assert lo_f <= v <= hi_f
        assert hi_f > 0 if man > 0 else lo_f < 0


@given(x=st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_negative_mpf_keeps_its_sign(x):
    v = mpmath.mpf(x)
    assert exact_fraction(v) == Fraction(x)
    assert as_rational(v, "x") == sp.Rational(*x.as_integer_ratio())
    assert float_down(v) == x == float_up(v)


# ------------------------------------------------------------------ item 4: derivative bounds
t = sp.Symbol("t", real=True)


def _atan_reference(a, n):
    """``sup_t |d^n/dt^n atan(a t + c)/pi| = a^n (n-1)! / pi * max_theta |sin^n(theta) sin(n theta)|``
    (``u = cot theta``), the max from a grid refined by golden section, 40 digits."""
    with mpmath.workdps(40):
        g = lambda th: abs(mpmath.sin(th) ** n * mpmath.sin(n * th))  # noqa: E731
        grid = [mpmath.pi * i / 4000 for i in range(1, 4000)]
        i = max(range(len(grid)), key=lambda j: g(grid[j]))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        for _ in range(120):
            m1, m2 = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
            lo, hi = (lo, m2) if g(m1) > g(m2) else (m1, hi)
        best = g((lo + hi) / 2)
        return mpmath.mpf(a) ** n * mpmath.factorial(n - 1) / mpmath.pi * best


@settings(max_examples=6, deadline=None)
@given(a=st.sampled_from([sp.Rational(1, 2), 2, 3, 5]), c=st.fractions(-3, 3, max_denominator=7),
       n=st.sampled_from([6, 7, 8, 12]))
def test_shifted_scaled_arctan_has_certified_high_derivative_bounds(a, c, n):
    act = Activation.from_expr(sp.Rational(1, 2) + sp.atan(a * t + sp.Rational(c.numerator, c.denominator)) / sp.pi,
                               t, "atan_shift")
    t0 = time.process_time()
    lo, hi = act.bound(n, time_limit=120).enclosure
    cpu = time.process_time() - t0
    ref = _atan_reference(a, n)
    assert lo <= ref * (1 + mpmath.mpf(10) ** -20) and hi >= ref * (1 - mpmath.mpf(10) ** -20)
    assert hi <= ref * (1 + mpmath.mpf(10) ** -6)
    assert cpu < 20, cpu          # the target is 2 s (docs/theory.md); 20 s guards against a hang


@pytest.mark.parametrize("expr", [(1 + sp.tanh(t - sp.Rational(1, 2))) / 2, 1 / (1 + sp.exp(-(t + 1))),
                                  sp.Rational(1, 2) + sp.atan(3 * t - 2) / sp.pi,
                                  (1 + sp.tanh(2 * t + sp.Rational(3, 7))) / 2])
def test_limits_agreeing_with_the_far_probe_skip_gruntz(expr, monkeypatch):
    """sympy.limit's finite answer that matches f(+-10^6) is taken without the Gruntz cross-check."""
    calls = []
    monkeypatch.setattr(acts, "gruntz", lambda *a: calls.append(a) or sp.nan)
    lims = (acts._limit_at(expr, t, -sp.oo), acts._limit_at(expr, t, sp.oo))
    assert lims == (0, 1) and calls == []


def test_a_wrong_sympy_limit_still_goes_to_gruntz():
    """(1 + erf(t/2 + 7/10))/2: sympy.limit says 1 at -oo, the probe 0: Gruntz decides (0)."""
    assert acts._limit_at((1 + sp.erf(t / 2 + sp.Rational(7, 10))) / 2, t, -sp.oo) == 0


# ------------------------------------------------------------------ item 1: eps just below the sup
_x = sp.Symbol("x_1", real=True)


def _nets():
    shifted = Activation.from_expr(1 / (1 + sp.exp(-(t + 1))), t, "logistic_shift")
    return {
        "square_sigmoid": (lambda: square_gate(sp.Rational(1, 1000), 1), None),
        "square_tanh_M2": (lambda: square_gate(sp.Rational(1, 100), 2, "tanh"), None),
        "square_shifted": (lambda: square_gate(sp.Rational(1, 100), sp.Rational(3, 2), shifted), None),
        "relu_net": (lambda: relu_net(sp.Rational(1, 100), 1), None),
        "product_gate": (lambda: product_gate(sp.Rational(1, 100), 1), None),
        # an interior maximum at a non-dyadic point (a bump on the target)
        "square_bump": (lambda: square_gate(sp.Rational(1, 1000), 1),
                        lambda x: x ** 2 + sp.exp(-10 * (x - sp.Rational(1, 3)) ** 2) / 100),
    }


_NETS = _nets()


@lru_cache(maxsize=None)
def _net_and_sup(name):
    """The net, its target and the sup of its error from an independent mpmath evaluation at 60
    digits: the largest |error| on a grid, refined by golden section (1-D); a value at a point,
    so never above the true sup."""
    build, tmake = _NETS[name]
    net = build()
    syms = net.symbols
    target = net.target if tmake is None else tmake(syms[0])
    f = sp.lambdify(syms, target, "mpmath")
    M = mpmath.mpf(sp.Rational(net.M))
    with mpmath.workdps(60):
        if len(syms) == 1:
            g = lambda v: abs(f(v) - net.evaluate([v], 60)[0])  # noqa: E731
            grid = [-M + 2 * M * i / 200 for i in range(201)]
            x0 = max(grid, key=g)
            lo, hi = max(-M, x0 - M / 100), min(M, x0 + M / 100)
            for _ in range(250):
                m1, m2 = lo + (hi - lo) * mpmath.mpf("0.381966"), lo + (hi - lo) * mpmath.mpf("0.618034")
                lo, hi = (lo, m2) if g(m1) > g(m2) else (m1, hi)
            sup = max(g(x0), g((lo + hi) / 2))
        else:
            g = lambda v: abs(f(*v) - net.evaluate([list(v)], 60)[0])  # noqa: E731
            sup = max(g((-M + 2 * M * i / 20, -M + 2 * M * j / 20)) for i in range(21) for j in range(21))
        sup_q = Fraction(int(mpmath.floor(sup * mpmath.mpf(10) ** 70)), 10 ** 70)
    return net, target, f, sup_q


def _exact_error(net, f, point, dps=90):
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(p.numerator) / p.denominator for p in point]
        return abs(f(*xs) - net.evaluate([xs if len(xs) > 1 else xs[0]], dps)[0])


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(sorted(_NETS)), j=st.integers(18, 30))
def test_eps_just_below_the_sup_is_refuted_with_an_exact_witness(name, j):
    net, target, f, sup_q = _net_and_sup(name)
    eps = sup_q * (1 - Fraction(1, 10 ** j))
    cert = certify(net, target=target, eps=eps, time_limit=120)
    assert cert.status == "refuted", (name, j, cert.message)
    point = [Fraction(p) for p in cert.refutation["x"]]
    err = _exact_error(net, f, point)
    with mpmath.workdps(90):
        assert err > mpmath.mpf(eps.numerator) / eps.denominator
        assert mpmath.mpf(cert.refutation["error_interval"][0]) <= err <= mpmath.mpf(cert.refutation["error_interval"][1])


@pytest.mark.parametrize("name", ["square_sigmoid", "relu_net", "product_gate"])
def test_eps_just_above_an_end_point_sup_is_never_refuted(name):
    """These sups sit at the ends of the domain (the reference is exact there): eps a relative
    1e-25 above cannot be refuted (it may be certified or left inconclusive)."""
    net, target, f, sup_q = _net_and_sup(name)
    cert = certify(net, target=target, eps=sup_q * (1 + Fraction(1, 10 ** 25)) + Fraction(1, 10 ** 69),
                   time_limit=60)
    assert cert.status != "refuted", cert.message
