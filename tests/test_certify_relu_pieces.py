"""A deep ReLU net can have more linear pieces than the box budget (Yarotsky's square with m
levels has 2^m): ``certify`` must answer within the budget instead of enumerating them all
(issue 27's thorough run hung 20+ minutes on ``certify --table --eps 1e-300 --max-boxes 50``),
and what it answers must stay rigorous: the returned [lower, upper] contains the exact sup error.
"""
from fractions import Fraction

import mpmath
import pytest
from hypothesis import example, given, settings, strategies as st

import theory
from theory.relu_side import yarotsky_square


def _q(x):
    """An mpmath bound as an exact Fraction (+inf stays a float inf)."""
    if mpmath.isinf(x):
        return float(x)
    sign, man, exp, _ = mpmath.mpf(x)._mpf_
    v = Fraction(man) * (Fraction(2) ** exp)
    return -v if sign else v


def _exact_sup_error(net, M):
    """Lemma 1: sup |f_m - x^2| on [-M, M] is M^2 4^-(m+1), m = depth - 1 (exactly)."""
    m = net.depth - 1
    return Fraction(M) ** 2 / Fraction(4) ** (m + 1)


@settings(max_examples=10, deadline=None)
@given(k=st.integers(min_value=2, max_value=9), M=st.sampled_from([1, 2, Fraction(7, 2)]),
       budget=st.integers(min_value=1, max_value=6))
@example(k=6, M=1, budget=1)
def test_too_many_pieces_still_gives_a_rigorous_enclosure(k, M, budget):
    """If certify stops on the piece count, then lower <= exact sup error <= upper, it used no
    more boxes than allowed, and it says why (status inconclusive, reason names the pieces)."""
    net = yarotsky_square(Fraction(1, 4 ** k), M)
    cert = theory.certify(net, eps=Fraction(1, 4 ** k), max_boxes=budget)
    true = _exact_sup_error(net, M)
    assert _q(cert.rigorous_lower) <= true
    assert _q(cert.rigorous_sup_error) >= true
    assert cert.n_boxes <= budget
    if 2 ** (net.depth - 1) > budget and cert.status != "certified":
        assert cert.status == "inconclusive"
        assert "linear pieces" in cert.reason and f"max_boxes = {budget}" in cert.reason


def test_an_exponential_piece_count_answers_within_the_budget():
    """eps = 1e-60 needs m = 99 levels (2^99 pieces): enumerating them never ends; with a budget
    of 50 boxes the answer is an inconclusive certificate that names the piece count."""
    net = yarotsky_square(Fraction(1, 10 ** 60), 1)
    assert net.depth >= 90
    cert = theory.certify(net, eps=Fraction(1, 10 ** 60), max_boxes=50)
    assert cert.status == "inconclusive"
    assert "linear pieces" in cert.reason
    assert cert.n_boxes <= 50
    assert _q(cert.rigorous_lower) <= _exact_sup_error(net, 1)


def test_within_the_budget_nothing_changes():
    """A net whose pieces fit the budget is certified exactly as before (its error is exact)."""
    net = yarotsky_square(Fraction(1, 4 ** 4), 1)
    cert = theory.certify(net, eps=Fraction(1, 4 ** 4))
    assert cert.status == "certified"
    assert _q(cert.rigorous_sup_error) >= _exact_sup_error(net, 1)


@pytest.mark.parametrize("budget", [0, -1])
def test_a_bad_budget_is_refused_naming_it(budget):
    with pytest.raises(ValueError, match="max_boxes"):
        theory.certify(yarotsky_square(Fraction(1, 16), 1), max_boxes=budget)
