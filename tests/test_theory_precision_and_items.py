"""Issue 13: precision that follows eps (automatic, raised when it stalls, inconclusive with the
knob), and the smaller items (numpy scalars, kinked targets, shared to_sympy, exact
high-precision evaluation, input rescaling, parameter counts)."""

import time

import mpmath
import numpy as np
import pytest
import sympy as sp

import theory
from theory import certify, relu_net, square_gate


# ------------------------------------------------------------------ precision
def test_tiny_eps_certify_with_the_automatic_precision():
    """Both failed at the old fixed 30 digits."""
    for net in (square_gate(1e-20, 1), relu_net(1e-15, 1)):
        cert = certify(net)
        assert cert.status == "certified", cert.message
        assert cert.prec_bits > 116          # more than the old 30 digits


def test_precision_is_raised_automatically_and_inconclusive_names_the_knob():
    net = relu_net(1e-12, 1)
    raised = certify(net, dps=15)
    assert raised.status == "certified" and raised.extra["retries"] >= 1
    stuck = certify(net, dps=15, max_retries=0)
    assert stuck.status == "inconclusive" and not stuck.holds
    assert "dps" in stuck.reason and "INCONCLUSIVE" in stuck.message
    assert "can reach" not in stuck.message and "NOT certified" not in stuck.message


def test_budget_exhaustion_is_inconclusive_never_a_false_refutation():
    cert = certify(relu_net(1e-6, 1), max_boxes=5)
    assert cert.status == "inconclusive" and "max_boxes" in cert.reason
    assert "can reach" not in cert.message


def test_refutation_is_a_verified_point():
    net = relu_net(1e-5, 1).with_output_scaled(1.001)
    cert = certify(net)
    assert cert.status == "refuted"
    ref = cert.refutation
    x = sp.Rational(ref["x"][0])
    err = abs(sp.N((net.target - net.to_sympy()).subs(net.symbols[0], x), 40))
    assert err > 1e-5 and ref["error_lower"] <= err <= ref["error_upper"]


# ------------------------------------------------------------------ numpy scalars
def test_numpy_scalars_are_accepted():
    net = square_gate(np.float64(1e-3), np.float64(1))
    assert net.eps == sp.Rational(*(1e-3).as_integer_ratio())   # the float's exact value (issue 24)
    assert square_gate(np.float32(1e-3), np.int64(2)).M == 2
    assert certify(net, max_boxes=np.int64(10_000)).holds
    assert theory.relu_lower_bound(1, np.int64(1), np.int64(4)).pieces == 5
    assert net.with_output_scaled(np.float64(2)).layers_exact[-1][0][0, 0] == \
        2 * net.layers_exact[-1][0][0, 0]


# ------------------------------------------------------------------ kinked targets
def test_irrational_kinks_are_certified_or_refuted_soundly():
    net = relu_net(1e-4, 1)
    x = net.symbols[0]
    shifted = certify(net, target=sp.Max(0, x - sp.sqrt(2) / 10 ** 5))
    assert shifted.status == "certified"
    far = certify(net, target=sp.Abs(x - sp.sqrt(2) / 2))
    assert far.status == "refuted"
    assert far.refutation["error_lower"] > 1e-4
    with pytest.raises(ValueError, match="target"):
        certify(net, target=sp.Max(0, sp.cos(x) - x))


# ------------------------------------------------------------------ sympy / high precision
def test_to_sympy_shared_subexpressions_yarotsky_depth_10():
    net = theory.yarotsky_square(1e-6, 1)
    assert net.depth == 10
    t0 = time.perf_counter()
    defs, out = net.to_sympy(shared=True)
    assert time.perf_counter() - t0 < 5
    assert len(defs) == net.n_neurons
    vals = {net.symbols[0]: sp.Rational(1, 3)}
    for s, e in defs:
        vals[s] = sp.sympify(e.xreplace(vals))
    y = out.xreplace(vals)
    assert y.is_Rational and 0 <= y - sp.Rational(1, 9) <= net.proven_bound
    with mpmath.workdps(30):
        assert abs(net.evaluate(["1/3"], dps=30)[0] - mpmath.mpf(sp.N(y, 40))) < 1e-25


def test_evaluate_never_passes_through_float64():
    net = square_gate(1e-3, 1)
    x = net.symbols[0]
    with mpmath.workdps(50):
        exact = mpmath.mpf(str(sp.N(net.to_sympy().subs(x, sp.Rational(1, 10)), 60)))
        from_string = net.evaluate(["0.1"], dps=50)[0]
        from_float = net.evaluate([0.1], dps=50)[0]
        assert abs(from_string - exact) < mpmath.mpf(10) ** -40
        assert abs(from_float - exact) > mpmath.mpf(10) ** -25   # 0.1 as a float is not 1/10
    with pytest.raises(ValueError, match="x"):
        net.evaluate(["nan"])


# ------------------------------------------------------------------ input rescaling, counts
def test_input_rescaling_variant_keeps_weights_small():
    direct = relu_net(1e-6, 10)
    scaled = relu_net(1e-6, 10, input_scaling=True)
    assert scaled.max_abs_weight < direct.max_abs_weight / 5
    assert scaled.n_free_params == direct.n_free_params
    assert float(scaled.proven_bound) <= 1e-6
    assert certify(scaled).status == "certified"
    assert relu_net(1e-6, 10).name == "relu_net[polarization]"   # the paper's stays the default


def test_both_parameter_counts():
    paper = relu_net(1e-3, 1, variant="paper")
    pol = relu_net(1e-3, 1)
    assert (paper.n_free_params, paper.n_nonzero_weights) == (13, 28)
    assert (pol.n_free_params, pol.n_nonzero_weights) == (7, 23)
    assert theory.yarotsky_square(1e-3, 1).n_nonzero_weights == \
        theory.yarotsky_square(1e-3, 1).n_free_params
