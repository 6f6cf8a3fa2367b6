"""theory.relu_side and theory.compare: Lemma 1 (deep ReLU square) and the converse of Theorem 3."""


import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import theory
from theory import certify, relu_lower_bound, yarotsky_square


@settings(max_examples=8)
@given(e=st.floats(-8, -1), M=st.floats(0.1, 10).map(lambda m: float(f"{m:.3g}")))
@example(e=-4.5, M=8.62)
def test_yarotsky_depth_grows_like_log_inverse_eps(e, M):
    eps = float(f"{10 ** e:.3g}")
    net = yarotsky_square(eps, M)
    m = net.info["m"]
    # m is the least integer with M^2 4^-(m+1) <= eps
    assert M ** 2 * 4.0 ** -(m + 1) <= eps * (1 + 1e-12)
    assert m == 1 or M ** 2 * 4.0 ** -m > eps * (1 - 1e-12)
    assert net.depth == m + 1 and net.activation is theory.relu
    x = np.linspace(-M, M, 4097)
    # float64 evaluation of a depth-L net whose values reach M^2: a few ulps of M^2 per layer
    # (M = 8.62, depth 11: the float64 maximum exceeded the exact bound by 2e-14, issue 24)
    fp = 8 * net.depth * M ** 2 * np.finfo(float).eps
    assert np.max(np.abs(net(x) - x ** 2)) <= float(net.proven_bound) * (1 + 1e-9) + fp


def test_yarotsky_certificate_matches_the_exact_error():
    net = yarotsky_square(1e-5, 1)
    cert = certify(net)
    assert cert.holds
    assert abs(float(cert.rigorous_sup_error) / float(net.proven_bound) - 1) < 2e-3


def _interpolant_error(act, M, pieces):
    """Sup error of the piecewise-linear interpolant of sigma with `pieces` equal pieces, which a
    depth-1 ReLU net of width `pieces` realises exactly (relu(x + M) for the first slope, one
    unit per interior knot)."""
    knots = np.linspace(-M, M, pieces + 1)
    x = np.linspace(-M, M, 200_001)
    return np.max(np.abs(act(x) - np.interp(x, knots, act(knots))))


@settings(max_examples=10)
@given(width=st.integers(2, 60), M=st.floats(0.5, 8), act=st.sampled_from(
    [theory.sigmoid, theory.tanh, theory.gauss_cdf, theory.arctan_sigmoid]))
def test_lower_bound_is_below_an_actual_relu_net(width, M, act):
    """Soundness: no bound may exceed the error of a concrete ReLU net of that size."""
    lb = relu_lower_bound(M, 1, width, act, n_candidates=8)
    actual = _interpolant_error(act, M, width)
    assert float(lb.value) <= actual
    assert lb.pieces == width + 1  # exact at depth 1 (it was (2W)^1 = 2W)


def test_max_linear_pieces():
    from theory.relu_side import max_linear_pieces

    assert [max_linear_pieces(1, w) for w in (1, 2, 17)] == [2, 3, 18]
    assert max_linear_pieces(2, 3) == 36 and max_linear_pieces(3, 2) == 64


def test_lower_bound_shrinks_with_size_and_scales_like_pieces_squared():
    a = relu_lower_bound(1, 2, 4)
    b = relu_lower_bound(1, 2, 8)
    c = relu_lower_bound(1, 3, 4)
    assert a.value > b.value and a.value > c.value
    assert abs(float(a.value / b.value) - 16) < 1e-9  # pieces x4 -> bound / 16
    assert float(a.curvature) > 0


def test_size_needed_is_consistent_with_the_bound():
    W = theory.relu_size_needed(1e-6, 1, 1)
    assert float(relu_lower_bound(1, 1, W - 1, n_candidates=8).value) > 1e-6
    assert float(relu_lower_bound(1, 1, W, n_candidates=8).value) <= 1e-6


@pytest.mark.parametrize("kw,match", [({"depth": 0}, "depth"), ({"width": 1.5}, "width"),
                                      ({"activation": theory.relu}, "activation")])
def test_lower_bound_bad_input(kw, match):
    args = {"M": 1, "depth": 2, "width": 3}
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        relu_lower_bound(**args)


def test_compare_table_shows_fixed_sigmoid_size_against_growing_relu_depth():
    rows_a = theory.compare_table(1e-2, 1, relu_depths=(1,))
    rows_b = theory.compare_table(1e-5, 1, relu_depths=(1,))
    by = lambda rows: {r.construction: r for r in rows}  # noqa: E731
    a, b = by(rows_a), by(rows_b)
    for name in ("square_gate", "product_gate[paper]", "relu_net[polarization]"):
        assert a[name].depth == b[name].depth and a[name].free_params == b[name].free_params
        assert a[name].holds and b[name].holds
        assert b[name].max_abs_param > a[name].max_abs_param  # parameters grow instead
    assert b["yarotsky_square"].depth > a["yarotsky_square"].depth
    assert a["square_gate"].free_params == 3 and a["product_gate[paper]"].free_params == 9
    assert a["relu_net[polarization]"].depth == 2 and a["relu_net[paper]"].free_params <= 27
    text = theory.format_table(rows_b)
    assert "yarotsky_square" in text and "any ReLU net" in text
