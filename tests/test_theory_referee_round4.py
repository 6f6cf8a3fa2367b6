"""Issue 24, the referee's fourth round (held-out classes of wrong answers, fixed as classes).

* a discontinuous expression is no activation: ``from_expr`` refuses it naming ``expr`` (a pole
  or a branch jump made the closed-form bounds report ``L_0 = 0`` for ``csch(t)`` and ``1/2`` for
  ``1/2 - acot(t)/pi``, whose sup is 1);
* ``sympy.limit`` is cross-checked with Gruntz (``(1 + erf(t/2 + 7/10))/2`` had ``sigma(-oo) = 1``
  and ``relu_net`` refused the activation);
* a user ``step_const`` must be an exact positive real (NaN crashed, a negative one built a net
  whose ``proven_bound`` did not hold).
"""

import mpmath
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theory import Activation, relu_net, step_gate

t = sp.Symbol("t", real=True)


@settings(max_examples=10, deadline=None)
@given(c=st.fractions(-3, 3, max_denominator=10), kind=st.sampled_from(["pole", "jump", "csch", "coth"]))
def test_discontinuous_expressions_are_refused(c, kind):
    # tanh(t) coth(t - 0) is 1 with a removable singularity (accepted by design:
    # test_removable_singularities_are_accepted), not a discontinuity
    assume(not (kind == "coth" and c == 0))
    c = sp.Rational(c.numerator, c.denominator)
    expr = {"pole": 1 / (1 + sp.exp(-t)) + 1 / (100 * (t - c)),
            "jump": sp.Rational(1, 2) - sp.acot(t - c) / sp.pi,
            "csch": sp.csch(t - c) / 10 + 1 / (1 + sp.exp(-t)),
            "coth": sp.tanh(t) * sp.coth(t - c)}[kind]
    with pytest.raises(ValueError, match="expr: .* not continuous"):
        Activation.from_expr(expr, t, "discontinuous")


@pytest.mark.parametrize("expr", [sp.Rational(1, 2) - sp.atan(1 / t) / sp.pi, sp.coth(t), 1 / sp.sinh(t)])
def test_more_discontinuous_expressions_are_refused(expr):
    with pytest.raises(ValueError, match="expr"):
        Activation.from_expr(expr, t, "discontinuous")


@pytest.mark.parametrize("a", [sp.Rational(1, 2), 1, 3])
@pytest.mark.parametrize("c", [sp.Rational(7, 10), sp.Rational(-3, 10), 2])
def test_limits_of_shifted_erf_sigmoids_are_right(a, c):
    """sigma(+-oo) against the function's value far out (30 digits), never sympy alone."""
    act = Activation.from_expr((1 + sp.erf(a * t + c)) / 2, t, "erf_shift")
    lo, hi = act.limits
    with mpmath.workdps(30):
        f = sp.lambdify(t, act.expr, "mpmath")
        assert abs(float(lo) - float(f(-10 ** 4))) < 1e-12 and abs(float(hi) - float(f(10 ** 4))) < 1e-12
    assert (lo, hi) == (0, 1)


def test_shifted_erf_builds_a_relu_net():
    act = Activation.from_expr((1 + sp.erf(t / 2 + sp.Rational(7, 10))) / 2, t, "erf_shift")
    net = relu_net(sp.Rational(1, 100), 1, act)
    assert net.proven_bound <= sp.Rational(1, 100)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", 0, -1, sp.Rational(-1, 3)])
@pytest.mark.parametrize("build", [relu_net, step_gate])
def test_a_user_step_constant_must_be_positive_and_finite(bad, build):
    with pytest.raises(ValueError, match="step_const"):
        build(sp.Rational(1, 1000), 1, step_const=bad)


@pytest.mark.parametrize("expr", [sp.exp(-1 / t ** 2) / 4 + 1 / (1 + sp.exp(-t)),
                                  (1 + sp.tanh(t)) / 2 + sp.exp(-1 / (t - 1) ** 2) / 10])
def test_removable_singularities_are_accepted(expr):
    """A removable singularity (both one-sided limits finite and equal: exp(-1/t^2) at 0, the
    smooth non-analytic bump) is no discontinuity: the function extends smoothly."""
    act = Activation.from_expr(expr, t, "bump_user")
    assert act.limits[1] > act.limits[0]


def test_step_constant_lookup_never_asks_sympy_to_prove_different_functions_equal(monkeypatch):
    """sigma(10^6 t) against the logistic function sent ``simplify`` into a degree-10^6
    factorisation (relu_net hung for minutes); functions that differ at a probe point are told
    apart by evaluation, and the proof itself runs under a CPU budget."""
    from theory import gates
    from theory.activations import sigmoid

    def boom(*a, **k):
        raise AssertionError("simplify called on functions that differ")

    monkeypatch.setattr(gates.sp, "simplify", boom)
    s = sigmoid.symbol
    for e in (1 / (1 + sp.exp(-10 ** 6 * s)), 1 / (1 + sp.exp(-2 * s)), (1 + sp.tanh(s)) / 2):
        assert not gates._same_function(e, sigmoid.expr, s)
    monkeypatch.undo()
    monkeypatch.setattr(gates, "_SAME_FUNCTION_CPU_SECONDS", 0.0)   # no time: not proven, False
    assert not gates._same_function((1 + sp.tanh(s / 2)) / 2, sigmoid.expr, s)
