"""theory.net (Net API, solver convention) and theory.certify (rigour of the enclosures)."""


import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import theory
from theory import Net, certified_sup_abs, certify, product_gate, relu_net, square_gate


# ------------------------------------------------------------------ Net
def test_layers_follow_the_solver_convention():
    net = relu_net(1e-3, 1)
    layers = net.layers()
    assert [W.shape for W, _ in layers] == [(3, 1), (4, 3), (1, 4)]
    assert [b.shape for _, b in layers] == [(3,), (4,), (1,)]
    assert all(W.dtype == np.float64 and b.dtype == np.float64 for W, b in layers)
    # a plain forward pass with these arrays is the net
    x = np.linspace(-1, 1, 101)
    h = x[:, None]
    for W, b in layers[:-1]:
        h = theory.sigmoid(h @ W.T + b)
    out = (h @ layers[-1][0].T + layers[-1][1])[:, 0]
    np.testing.assert_array_equal(out, net(x))
    # layers() hands out copies
    layers[0][0][:] = 0
    assert np.any(net.layers()[0][0] != 0)


def test_call_shapes_and_bad_x():
    sq = square_gate(1e-3, 1)
    assert sq(np.zeros(5)).shape == (5,)
    assert sq(np.zeros((5, 1))).shape == (5,)
    assert sq(0.5).shape == (1,)
    pg = product_gate(1e-3, 1)
    assert pg(np.zeros((7, 2))).shape == (7,)
    with pytest.raises(ValueError, match=r"x: expected an array of shape \(n,\) or \(n, 2\)"):
        pg(np.zeros((7, 3)))
    with pytest.raises(ValueError, match="x"):
        sq(np.zeros((2, 2)))


@settings(max_examples=10)
@given(x=st.floats(-2, 2), kind=st.sampled_from(["square", "relu"]))
def test_float64_mpmath_and_sympy_evaluations_agree(x, kind):
    net = square_gate(1e-3, 2) if kind == "square" else relu_net(1e-3, 2)
    with mpmath.workdps(40):
        mp = net.evaluate([x], dps=40)[0]
        sym = sp.N(net.to_sympy().subs(net.symbols[0], sp.Rational(x)), 40)
        assert abs(mp - mpmath.mpf(str(sym))) < 1e-30
    assert abs(float(mp) - net(np.array([x]))[0]) < 1e-9  # float64 cancellation, eps = 1e-3


def test_net_validates_its_layers():
    with pytest.raises(ValueError, match="layers_exact"):
        Net([(sp.Matrix([[1, 2]]), sp.Matrix([0])), (sp.Matrix([[1, 1, 1]]), sp.Matrix([0]))], "sigmoid")
    with pytest.raises(ValueError, match="layers_exact"):
        Net([], "sigmoid")
    generic = Net([(sp.Matrix([[2], [0]]), sp.Matrix([1, 0])), (sp.Matrix([[3, 0]]), sp.Matrix([0]))],
                  "tanh")
    assert generic.n_free_params == 3  # non-zero entries when there is no symbolic form
    assert generic.max_abs_param == 3.0


def test_max_abs_param_grows_like_one_over_eps():
    """Lemma 2: the outer coefficient is 1/(d^2 sigma''(t0)) = O(1/eps)."""
    a, b = square_gate(1e-4, 1), square_gate(1e-6, 1)
    ratio = b.max_abs_param / a.max_abs_param
    assert 90 < ratio < 110


# ------------------------------------------------------------------ certify: rigour
def test_rigorous_enclosure_contains_the_known_sup_of_yarotsky():
    """Yarotsky's error is exactly M^2 4^-(m+1) (attained at the grid midpoints)."""
    for eps, M in ((1e-3, 1), (1e-4, sp.Rational(3, 2))):
        net = theory.yarotsky_square(eps, M)
        exact = net.proven_bound
        cert = certify(net)
        with mpmath.workdps(30):
            ex = mpmath.mpf(sp.N(exact, 30))
            assert cert.rigorous_lower <= ex <= cert.rigorous_sup_error
            assert cert.rigorous_sup_error <= ex * (1 + 2e-3)
        assert cert.holds


def test_certify_finds_a_planted_defect():
    """A net equal to x^2 except for one narrow extra neuron: the certificate must see it."""
    sq = square_gate(1e-6, 1)
    (W1, b1), (W2, b2) = sq.layers_exact
    K = 2000
    W1b = W1.col_join(sp.Matrix([[K]]))
    b1b = b1.col_join(sp.Matrix([-K * sp.Rational(3, 10)]))  # sigmoid(K (x - 0.3))
    # + 3e-6 * (sigmoid(K(x-.3)) - sigmoid(K(x-.3))^0...) : a bump-free step of height 3e-6
    W2b = W2.row_join(sp.Matrix([[sp.Rational(3, 1000000)]]))
    net = Net([(W1b, b1b), (W2b, b2)], "sigmoid", name="planted", eps=sq.eps, M=sq.M, target=sq.target)
    cert = certify(net)
    assert not cert.holds
    assert cert.rigorous_lower > 1e-6
    assert cert.argmax[0] > 0.29


def test_certificate_is_reproducible_and_budget_keeps_bound_rigorous():
    net = relu_net(1e-5, 1)
    a, b = certify(net), certify(net)
    assert a.rigorous_sup_error == b.rigorous_sup_error and a.n_boxes == b.n_boxes
    tiny = certify(net, max_boxes=20)
    assert not tiny.converged
    assert tiny.rigorous_sup_error >= a.rigorous_lower  # still an upper bound, just looser
    assert "budget" in tiny.message


def test_certify_bad_arguments():
    net = square_gate(1e-3, 1)
    with pytest.raises(ValueError, match="net"):
        certify("square")
    with pytest.raises(ValueError, match="dps"):
        certify(net, dps=5)
    with pytest.raises(ValueError, match="M"):
        certify(net, M=-1)
    with pytest.raises(ValueError, match="target"):
        certify(net, target=sp.Symbol("y") ** 2)
    with pytest.raises(ValueError, match="order"):
        certify(net, order=1)


def test_certify_with_explicit_target_and_domain():
    net = square_gate(1e-4, 2)
    x = net.symbols[0]
    smaller = certify(net, target=x ** 2, M=1)
    full = certify(net)
    assert smaller.rigorous_sup_error < full.rigorous_sup_error  # error grows like x^4
    wrong = certify(net, target=x ** 2 + sp.Rational(1, 1000))
    assert not wrong.holds and wrong.rigorous_lower > 9e-4


# ------------------------------------------------------------------ certified_sup_abs
def _independent_sup(f, lo=-12, hi=12):
    """Independent estimate: mpmath dense scan + findroot on the derivative."""
    with mpmath.workdps(30):
        g = sp.lambdify(t, f, "mpmath")
        dg = sp.lambdify(t, sp.diff(f, t), "mpmath")
        grid = [mpmath.mpf(lo) + (hi - lo) * mpmath.mpf(j) / 600 for j in range(601)]
        j = max(range(601), key=lambda i: abs(g(grid[i])))
        r = mpmath.findroot(dg, grid[j])
        return abs(g(r)), r


t = sp.Symbol("t", real=True)


@pytest.mark.parametrize("act", [theory.sigmoid, theory.tanh], ids=lambda a: a.name)
def test_L4_enclosure_against_independent_high_precision(act):
    b = act.bound(4)
    ref, where = _independent_sup(act.derivative(4).subs(act.symbol, t))
    assert b.enclosure[0] <= ref <= b.enclosure[1]
    assert b.enclosure[1] - b.enclosure[0] < 1e-12
    assert abs(abs(where) - abs(b.argmax[0])) < 1e-6
    if act is theory.sigmoid:
        assert abs(b.value - 0.12768392) < 1e-8  # the hand-derived 0.1276827 (docs/theory.md) is off in the 6th digit


@pytest.mark.parametrize("expr,exact", [
    (1 / (1 + sp.exp(-t)) * (1 - 1 / (1 + sp.exp(-t))), sp.Rational(1, 4)),
    (t ** 2 / (1 + t ** 4), sp.Rational(1, 2)),
    (t / (1 + t ** 2), sp.Rational(1, 2)),
    (sp.tanh(t) / sp.cosh(t), sp.Rational(1, 2)),
])
def test_certified_sup_abs_encloses_known_suprema(expr, exact):
    lo, hi, _ = certified_sup_abs(expr, t)
    with mpmath.workdps(30):
        ex = mpmath.mpf(sp.N(exact, 30))
    assert lo <= ex <= hi and hi - lo < 1e-10


def test_certified_sup_abs_rejects_unbounded():
    with pytest.raises(ValueError, match="expr"):
        certified_sup_abs(t ** 2, t)
