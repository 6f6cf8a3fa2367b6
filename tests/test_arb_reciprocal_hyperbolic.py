"""``sech``, ``csch``, ``coth`` in ball arithmetic (theory._arb): the stored-expression whitelist of
``Activation.from_expr`` accepts them, so the certifier must evaluate them, not refuse an
activation that the toolkit accepted (issue 28's attack).  Each is checked against the same
function written with ``cosh``/``sinh``/``tanh`` (the certified enclosures must overlap) and the
certified sup-derivative constants of an activation written both ways must agree."""

import pytest
import sympy as sp
from flint import arb

from theory import Activation
from theory._arb import compile_arb

t = sp.Symbol("t", real=True)


@pytest.mark.parametrize("expr, twin", [
    (sp.sech(t), 1 / sp.cosh(t)),
    (sp.csch(1 + t ** 2), 1 / sp.sinh(1 + t ** 2)),
    (sp.coth(2 + t ** 2), sp.cosh(2 + t ** 2) / sp.sinh(2 + t ** 2)),
])
@pytest.mark.parametrize("x", ["-3.25", "0", "0.5", "7"])
def test_reciprocal_hyperbolic_encloses_its_twin(expr, twin, x):
    v, w = compile_arb(expr, t)(arb(x)), compile_arb(twin, t)(arb(x))
    assert v.overlaps(w) and v.rad() < 1e-10, (expr, x, v, w)
    ref = float(sp.N(twin.subs(t, sp.Rational(x)), 30))
    assert abs(float(v.mid()) - ref) <= 1e-12 * max(1.0, abs(ref)), (expr, x, v, ref)


def test_activation_with_sech_has_the_constants_of_its_cosh_form():
    a = Activation.from_expr(1 / (1 + sp.sech(t / 2) ** 2), t, "sech_user")
    b = Activation.from_expr(1 / (1 + 1 / sp.cosh(t / 2) ** 2), t, "cosh_user")
    for k in range(3):
        assert a.L(k) == pytest.approx(b.L(k), rel=1e-12), k
