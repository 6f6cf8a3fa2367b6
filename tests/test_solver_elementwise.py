"""One activation object (issue 20): every method takes a :class:`theory.Activation`; the
solver chooses the float64 kernels that evaluate it from its own registry
(:mod:`solver.elementwise`, :mod:`solver.activation_kernels`)."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from solver.elementwise import NUMPY_KERNELS, Kernels, kernels_for
from theory import Activation, leaky_relu
from theory.activations import BUILTINS

finite = st.floats(-40.0, 40.0, allow_nan=False)


@pytest.mark.parametrize("name", sorted(NUMPY_KERNELS))
def test_registry_constants_are_theory_certified_bounds(name):
    """``fmax``/``d1max`` of a kernel are ``L_0``/``L_1`` of theory's built-in: inside the
    certified enclosure (None only where the activation is not smooth)."""
    k, act = NUMPY_KERNELS[name], BUILTINS[name]
    if not act.is_smooth:
        assert k.fmax is None and k.d1max is None
        return
    for value, j in ((k.fmax, 0), (k.d1max, 1)):
        lo, hi = act.bound(j).enclosure
        assert float(lo) <= value <= float(hi), (name, j)


@pytest.mark.parametrize("name", sorted(NUMPY_KERNELS))
@given(x=st.lists(finite, min_size=1, max_size=20))
def test_registry_kernels_evaluate_the_theory_activation(name, x):
    """The solver's kernels and theory's float64 callables agree to rounding (two codes, one
    function) and the kernels are what ``kernels_for`` picks for the built-in."""
    x = np.asarray(x)
    k, act = kernels_for(BUILTINS[name]), BUILTINS[name]
    assert k is NUMPY_KERNELS[name] and kernels_for(name) is k
    np.testing.assert_allclose(k.f(x), act(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(k.d1(x), act.d1(x), rtol=1e-13, atol=1e-300)


def test_a_user_activation_runs_on_its_own_callables_with_certified_brackets():
    t = sp.Symbol("t", real=True)
    act = Activation.from_expr(t / sp.sqrt(1 + t * t), t, "isru")
    k = kernels_for(act)
    assert isinstance(k, Kernels) and k.name == "isru" and k.f is act
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(k.d1(x), (1 + x * x) ** -1.5, rtol=1e-12)
    assert k.fmax == pytest.approx(1.0, rel=1e-12) and k.d1max == pytest.approx(1.0, rel=1e-12)


@given(alpha=st.floats(1e-6, 1 - 1e-6), x=st.lists(finite, min_size=1, max_size=20))
def test_leaky_relu_is_max_t_alpha_t_outside_assumption_1(alpha, x):
    a, x = leaky_relu(alpha), np.asarray(x + [0.0])
    np.testing.assert_array_equal(a(x), np.maximum(x, alpha * x))
    np.testing.assert_array_equal(a.d1(x), np.where(x > 0, 1.0, alpha))   # alpha at 0 (Clarke)
    assert a.name == f"leaky_relu({float(alpha)!r})" and not a.is_smooth and not a.assumption_1
    assert float(a.expr.subs(a.symbol, -1)) == pytest.approx(-alpha, rel=1e-15)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.5, 1.5, True, "0.1", float("nan")])
def test_leaky_relu_refuses_a_slope_outside_0_1(bad):
    with pytest.raises(ValueError, match="alpha"):
        leaky_relu(bad)


@pytest.mark.parametrize("name, smooth", [("sigmoid", True), ("tanh", True), ("gauss_cdf", True),
                                          ("arctan", True), ("relu", False)])
def test_assumption_1_flag(name, smooth):
    assert BUILTINS[name].assumption_1 is smooth and BUILTINS[name].builtin
