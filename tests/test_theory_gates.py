"""theory.gates + theory.certify: the constructions meet their accuracy, certified.

Properties (hypothesis searches eps in [1e-8, 1e-1], M in [0.1, 10] and the activations):
the rigorous sup error is <= eps, it encloses the true error at every point, and the
structure counts are Lemma 2: 1 hidden layer / 3 parameters, Lemma 6: 1 / 9, Theorem 3: 2 / <= 27.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import theory
from theory import certify, product_gate, relu_net, square_gate

SMOOTH = [theory.sigmoid, theory.tanh, theory.gauss_cdf, theory.arctan_sigmoid]

# ------------------------------------------------------------------ strategies
eps_st = st.floats(-8, -1).map(lambda e: float(f"{10 ** e:.3g}"))  # log-uniform in [1e-8, 1e-1]
M_st = st.floats(0.1, 10).map(lambda m: float(f"{m:.3g}"))
act_st = st.sampled_from(SMOOTH)


def _exact_error_at(net, x):
    """|target(x) - net(x)| at 40 digits from the sympy form of the net (independent of the
    ball-arithmetic code); ``x`` is a tuple of exact rationals inside the domain."""
    subs = dict(zip(net.symbols, x))
    with mpmath.workdps(40):
        diff = sp.N((net.target - net.to_sympy()).subs(subs), 40)
        return abs(mpmath.mpf(str(diff)))


def _inside(net, *coords):
    """Exact rational points, clamped into [-M, M]."""
    M = sp.Rational(net.M)
    return tuple(max(-M, min(M, sp.nsimplify(c, rational=True))) for c in coords)


def _check_sound(net, cert, points):
    for x in points:
        err = _exact_error_at(net, x)
        assert err <= cert.rigorous_sup_error, (x, err, cert.rigorous_sup_error)
    assert cert.rigorous_lower <= cert.rigorous_sup_error
    assert cert.sampled_sup_error <= float(cert.rigorous_sup_error) * (1 + 1e-12)


# ------------------------------------------------------------------ Lemma 2
@given(eps=eps_st, M=M_st, act=act_st)
def test_square_gate_certified_within_eps(eps, M, act):
    net = square_gate(eps, M, act)
    assert (net.depth, net.n_free_params, net.widths) == (1, 3, [2])
    assert float(sp.N(net.proven_bound)) <= eps
    cert = certify(net)
    assert cert.holds and cert.converged
    assert cert.rigorous_sup_error <= eps
    # the Taylor bound of Lemma 2 is a true upper bound of the exact error
    assert cert.rigorous_lower <= cert.proven_bound
    M_ = net.M
    _check_sound(net, cert, [(M_,), (-M_,), _inside(net, 0.37 * M), _inside(net, *cert.argmax)])


# ------------------------------------------------------------------ Lemma 6
@settings(max_examples=8)
@given(eps=eps_st, M=M_st, act=act_st, variant=st.sampled_from(["paper", "polarization"]))
def test_product_gate_certified_within_eps(eps, M, act, variant):
    net = product_gate(eps, M, act, variant)
    assert net.depth == 1 and net.input_dim == 2
    assert net.n_free_params == (9 if variant == "paper" else 3)
    assert net.widths == [6 if variant == "paper" else 4]
    cert = certify(net, grid=40_401)
    assert cert.holds and cert.converged
    assert cert.rigorous_sup_error <= eps
    M_ = net.M
    _check_sound(net, cert, [(M_, M_), (-M_, M_), _inside(net, 0.3 * M, -0.8 * M),
                             _inside(net, *cert.argmax)])


# ------------------------------------------------------------------ Theorem 3
@settings(max_examples=8)
@given(eps=eps_st, M=M_st, act=act_st, variant=st.sampled_from(["polarization", "paper"]))
def test_relu_net_certified_within_eps(eps, M, act, variant):
    net = relu_net(eps, M, act, variant)
    assert net.depth == 2
    assert net.n_free_params <= 27
    cert = certify(net, grid=20_001)
    assert cert.holds and cert.converged
    assert cert.rigorous_sup_error <= eps
    M_ = net.M
    _check_sound(net, cert, [(M_,), (-M_,), (sp.Integer(0),), _inside(net, 1 / net.info["K"]),
                             _inside(net, *cert.argmax)])


def test_free_parameter_counts_follow_the_symbolic_form():
    """n_free_params counts the symbols of the symbolic layers; substituting them gives the weights."""
    for net, expected in ((square_gate(1e-4, 1), 3), (product_gate(1e-4, 1), 9),
                          (relu_net(1e-4, 1, variant="polarization"), 7),
                          (relu_net(1e-4, 1, variant="paper"), 13)):
        assert net.n_free_params == expected == len(net.params)
        subs = {s: v for s, v in net.params.values()}
        for (Ws, bs), (W, b) in zip(net.symbolic_layers, net.layers_exact):
            assert sp.simplify(Ws.subs(subs) - W) == sp.zeros(*W.shape)
            assert sp.simplify(bs.subs(subs) - b) == sp.zeros(*b.shape)


# ------------------------------------------------------------------ mutation
@settings(max_examples=6)
@given(eps=st.floats(-8, -5).map(lambda e: float(f"{10 ** e:.3g}")),
       M=st.floats(0.5, 10).map(lambda m: float(f"{m:.3g}")),
       kind=st.sampled_from(["square", "product", "relu"]), act=act_st)
def test_scaling_the_output_by_1e_3_breaks_the_certificate(eps, M, kind, act):
    build = {"square": square_gate, "product": product_gate, "relu": relu_net}[kind]
    net = build(eps, M, act)
    assert certify(net, grid=10_001).holds
    bad = net.with_output_scaled(1 + 1e-3)
    cert = certify(bad, grid=10_001)
    assert not cert.holds
    assert cert.rigorous_lower > eps  # a point with error > eps was found, not just a loose bound
    assert "NOT certified" in cert.message


def test_weights_only_mutation_also_fails():
    net = square_gate(1e-6, 1)
    assert not certify(net.with_output_scaled(1 + 1e-3, include_bias=False)).holds


# ------------------------------------------------------------------ reference points (docs/theory.md, "Checks against the hand-derived values")
def test_hand_derived_reference_points():
    net = square_gate(1e-6, 1)
    assert abs(float(net.info["d"]) - 3.0e-3) < 1e-4
    assert abs(float(sp.N(net.info["c"])) / 1.15e6 - 1) < 0.01
    assert sp.simplify(net.info["t0"] + sp.log(2 + sp.sqrt(3))) == 0
    cert = certify(net)
    assert 7.4e-7 < cert.rigorous_lower <= cert.rigorous_sup_error < 7.6e-7
    r = certify(relu_net(1e-3, 1))
    assert 4.5e-4 < r.rigorous_sup_error < 4.7e-4


# ------------------------------------------------------------------ float64 vs exact
def test_float64_floor_is_reported_in_plain_words():
    net = square_gate(1e-9, 1)
    cert = certify(net)
    assert cert.holds  # the exact net meets eps ...
    assert not cert.float64_holds  # ... its float64 evaluation does not
    assert cert.float64_sup_error > 1e-9
    assert "float64 cannot realise" in cert.message
    # the realised float64 error is of the order of the rounding floor u / (d^2 |sigma''|)
    assert cert.float64_sup_error < 10 * cert.float64_floor


def test_identity_gate_and_step_gate():
    idg = theory.identity_gate(1e-6, 2)
    assert idg.n_free_params == 3
    cert = certify(idg)
    assert cert.holds and cert.rigorous_sup_error <= float(sp.N(idg.proven_bound))
    st_ = theory.step_gate(1e-3, 1)
    x = np.linspace(-1, 1, 200001)
    weighted = np.max(np.abs(x) * np.abs(st_(x) - (x > 0)))
    assert weighted <= 1e-3 and st_.n_free_params == 1


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [0, 1, -1e-3, 1.5, math.nan, math.inf, "x"])
@pytest.mark.parametrize("build", [square_gate, product_gate, relu_net, theory.identity_gate])
def test_bad_eps(build, bad):
    with pytest.raises(ValueError, match="eps"):
        build(bad, 1)


@pytest.mark.parametrize("bad", [0, -2, math.inf, math.nan])
def test_bad_M(bad):
    with pytest.raises(ValueError, match="M"):
        square_gate(1e-3, bad)


def test_activations_a_lemma_cannot_use():
    t = sp.Symbol("t")
    linear = theory.Activation.from_expr(2 * t + 1, t, "affine")
    for build in (square_gate, product_gate, relu_net):
        with pytest.raises(ValueError, match="activation.*linear"):
            build(1e-3, 1, linear)
        with pytest.raises(ValueError, match="activation.*not smooth"):
            build(1e-3, 1, theory.relu)
    with pytest.raises(ValueError, match="activation"):
        square_gate(1e-3, 1, "softsign-ish")
    with pytest.raises(ValueError, match="variant"):
        product_gate(1e-3, 1, variant="cubic")


def test_relu_net_derives_a_certified_step_constant_for_custom_activations():
    t = sp.Symbol("t")
    act = theory.Activation.from_expr((1 + t / sp.sqrt(1 + t ** 2)) / 2, t, "algebraic")
    net = relu_net(1e-3, 1, act)           # no hand-given constant needed any more
    C = net.info["C_sigma"]
    assert 0.15014 <= C <= 0.1502          # sup_v v (1 - b(v)) = 0.150141... (certified, rounded up)
    assert certify(net).holds
    # a hand-given constant is still accepted
    assert certify(relu_net(1e-3, 1, act, step_const=sp.Rational(1, 2))).holds
