"""Soundness guards of the certifier (issue 13): NaN / non-finite box bounds, bounds rounded
outward when they leave Arb, proven bounds that do not survive a transformation."""

import json
import math
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from flint import arb

import theory
from theory import certify, product_gate, relu_net, square_gate
from theory._arb import exact_fraction, float_down, float_up, str_down, str_up
from theory.enclosure import (
    _quad_range_upper,
    branch_and_bound,
    branch_and_bound_1d,
    branch_and_bound_nd,
    eval_box_1d,
    safe_max,
)

NAN = arb("nan")


# ------------------------------------------------------------------ NaN guard
def test_python_max_drops_a_nan_that_is_not_first():
    """The trap the guard exists for."""
    assert max([arb(1), NAN]) == 1


@pytest.mark.parametrize("pos", range(4))
def test_safe_max_reads_nan_and_inf_as_infinite_in_every_position(pos):
    vals = [arb(1), arb(2), arb(3), arb(4)]
    for bad in (NAN, arb("inf"), arb(0, math.inf)):
        v = list(vals)
        v[pos] = bad
        assert not safe_max(v).is_finite()


@pytest.mark.parametrize("which", range(3))
def test_quadratic_range_with_a_nan_coefficient_is_infinite(which):
    p = [arb(1), arb(2), arb(3)]
    p[which] = NAN
    assert not _quad_range_upper(*p, arb("0.5")).is_finite()


def test_taylor_box_of_a_nan_function_is_infinite():
    up, lo, _ = eval_box_1d(lambda x: x * NAN, Fraction(0), Fraction(1), 4)
    assert not up.is_finite() and lo == 0


@pytest.mark.parametrize("pos", range(4))
@pytest.mark.parametrize("what", ["nan", "inf"])
def test_branch_and_bound_1d_nan_box_in_every_position(pos, what):
    """Four pieces, one of which evaluates to NaN (upper or lower, at any depth): the bound
    returned must be +inf and the run not converged, whatever the position."""
    bad = NAN if what == "nan" else arb("inf")

    def make(k):
        def f(x):
            return (x * bad) if k == pos else (x * 0 + arb("0.5"))
        return f

    parts = [(Fraction(k, 4), Fraction(k + 1, 4), make(k)) for k in range(4)]
    up, lo, _, n, conv = branch_and_bound_1d(parts, 4, 1e-3, 0.0, 60)
    assert not up.is_finite() and not conv
    assert lo == arb("0.5")


@pytest.mark.parametrize("pos", range(4))
def test_branch_and_bound_nd_nan_box_in_every_position(pos):
    """2-D: the quadrant ``pos`` of the square evaluates to NaN at every depth (upper bound,
    lower bound or noise): the bound must be +inf, never the max of the other quadrants."""
    cx, cy = (pos % 2), (pos // 2)

    def box(lo, hi):
        overlaps = lo[0] < cx and hi[0] > cx - 1 and lo[1] < cy and hi[1] > cy - 1
        if overlaps:
            return NAN, NAN, NAN
        return arb(1), arb(1), arb(0)

    lo0, hi0 = (Fraction(-1), Fraction(-1)), (Fraction(1), Fraction(1))
    up, lo, _, n, conv = branch_and_bound_nd(box, lo0, hi0, 1e-3, 0.0, 50)
    assert not up.is_finite() and not conv


@pytest.mark.parametrize("pos", range(3))
def test_branch_and_bound_generic_nan_lower_bound_is_not_a_number(pos):
    """A NaN lower bound never becomes the best lower bound (nor a refutation)."""
    boxes = [(k, k + 1, None) for k in range(3)]

    def evaluate(lo, hi, _):
        return (arb(2), NAN if lo == pos else arb(1))

    res = branch_and_bound(boxes, evaluate, lambda a, b: [(a, b)], lambda a, b: a, 0.0, 10.0, 10)
    assert res[1] == 1 and res[0] == 2


def test_certify_2d_with_a_singular_target_never_certifies():
    """Product gate against u v + sqrt(u + 1): the Taylor remainder is infinite (NaN) at u = -1.
    Before the guard the 2-D branch and bound dropped those boxes and could claim convergence."""
    net = product_gate(1e-3, 1)
    u, v = net.symbols
    cert = certify(net, target=u * v + sp.sqrt(u + 1), max_boxes=300)
    assert cert.status != "certified"
    assert not cert.holds
    assert "can reach" not in cert.message


# ------------------------------------------------------------------ outward rounding
def test_float_and_string_rounding_is_outward():
    with mpmath.workprec(200):
        third = mpmath.mpf(1) / 3
    assert float(third) < third                       # round to nearest falls below
    assert float_up(third) >= third and float_down(third) <= third
    assert math.nextafter(float_down(third), math.inf) == float_up(third)
    assert Fraction(str_up(third, 4)) >= exact_fraction(third)
    assert Fraction(str_down(third, 4)) <= exact_fraction(third)
    assert str_up(arb("nan")) == "inf" and float_up(arb("nan")) == math.inf
    # sympy constants are enclosed in Arb first
    assert Fraction(float_up(sp.sqrt(2))) ** 2 >= 2 and Fraction(float_down(sp.sqrt(2))) ** 2 <= 2


def test_exports_round_the_certified_bounds_outward():
    cert = certify(square_gate(1e-6, 1))
    d = cert.as_dict()
    assert mpmath.mpf(d["rigorous_sup_error"]) >= cert.rigorous_sup_error
    assert mpmath.mpf(d["rigorous_lower"]) <= cert.rigorous_lower
    lo_s, up_s = d["rigorous_interval"]
    # decimal strings compared exactly (mpmath.mpf(str) would round to 53 bits)
    assert Fraction(up_s) >= exact_fraction(cert.rigorous_sup_error)
    assert Fraction(lo_s) <= exact_fraction(cert.rigorous_lower)
    json.dumps(d, allow_nan=False)                     # strict JSON
    # a bound that float64 rounds down: the export must still be above it
    with mpmath.workprec(200):
        cert.rigorous_sup_error = mpmath.mpf(1) / 3 * cert.rigorous_sup_error
    assert mpmath.mpf(cert.as_dict()["rigorous_sup_error"]) >= cert.rigorous_sup_error
    printed = str(cert).split("rigorous sup error")[1].split()[0]
    assert Fraction(printed) >= exact_fraction(cert.rigorous_sup_error)
    # the proven bound too (sqrt(3) in it)
    net = square_gate(1e-6, 1)
    assert Fraction(d["proven_bound"]) >= Fraction(str(sp.N(net.proven_bound, 40)))


def test_compare_rows_round_up():
    rows = theory.compare_table(1e-3, 1, relu_depths=())
    for r in rows[:6]:
        assert r.certified_error is not None and r.proven_bound is not None
        assert r.status == "certified"
    table = theory.format_table(rows)
    assert "nonzero" in table


# ------------------------------------------------------------------ transformations
def test_with_output_scaled_drops_the_proven_bound():
    net = relu_net(1e-4, 1)
    assert net.proven_bound is not None
    mutated = net.with_output_scaled(1.001)
    assert mutated.proven_bound is None
    assert mutated.info["proven_bound_before"] == net.proven_bound
    cert = certify(mutated)
    assert cert.proven_bound is None and cert.status == "refuted"
    with pytest.raises(ValueError, match="factor"):
        net.with_output_scaled(float("nan"))


def test_layers_cannot_be_mutated_in_place():
    net = square_gate(1e-3, 1)
    W, _ = net.layers_exact[0]
    with pytest.raises(TypeError):
        W[0, 0] = 5
    with pytest.raises(TypeError):
        net.layers_exact[0] = net.layers_exact[1]
