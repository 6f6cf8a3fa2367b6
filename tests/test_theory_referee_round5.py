"""Issue 24, the referee's fifth round (held-out classes, fixed as classes).

* ``with_output_scaled`` reads its factor exactly: a decimal string, ``Decimal`` or ``Fraction``
  is the rational it spells, a float its exact binary value (``"1.00002"`` was a 15-digit sympy
  Float, a float its shortest repr);
"""

from decimal import Decimal
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import relu_net, square_gate


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
