"""Issue 24, the referee's fifth round (held-out classes, fixed as classes).

* ``with_output_scaled`` reads its factor exactly: a decimal string, ``Decimal`` or ``Fraction``
  is the rational it spells, a float its exact binary value (``"1.00002"`` was a 15-digit sympy
  Float, a float its shortest repr);
* certify at the extreme eps of float64 (5e-324 and the subnormals, the smallest normal) lets
  no numpy RuntimeWarning reach the user (its float64 pass overflowed in ``matmul``), and a
  certified bound with a huge binary exponent (``2^-(10^9)``) is printed from its exponent, not
  turned into a Fraction of 10^9 bits (``step_gate(5e-324)`` hung for minutes in ``str_down``);
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

from theory import certify, product_gate, relu_net, square_gate, step_gate
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
