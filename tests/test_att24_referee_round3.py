"""Issue 24, the referee's third round: an INCONCLUSIVE certificate names the knob that decides it.

With eps 1e-22 relative above the sup error (the referee's 110-digit evaluation of relu_net's
paper variant at eps = 3e-6, M = 5/4), the default refinement reached its tolerance with eps
between its bounds and said only "the refinement stopped before deciding".  The reason now names
rtol and atol, and following it decides: certified (eps is above the true error).
"""
from fractions import Fraction

import pytest

from theory import certify, relu_net

#: the referee's sup error (mpmath at 110 digits, its own evaluator; 46 digits kept)
E = Fraction("0.0000007564066454833917859560893038399133036645")


@pytest.fixture(scope="module")
def net():
    return relu_net(3e-6, Fraction(5, 4), variant="paper")


def test_an_undecided_tolerance_names_rtol_and_following_it_certifies(net):
    eps = E * (1 + Fraction(1, 10**22))
    c = certify(net, eps=eps, time_limit=120)
    if c.status == "inconclusive":
        assert "rtol" in c.reason and "atol" in c.reason, c.reason
    else:
        assert c.status == "certified", (c.status, c.reason)      # never refuted: eps > E
    c2 = certify(net, eps=eps, time_limit=120, rtol=1e-30, atol=1e-40)
    assert c2.status == "certified", (c2.status, c2.reason)


def test_just_below_the_error_is_never_certified(net):
    eps = E * (1 - Fraction(1, 10**22))
    c = certify(net, eps=eps, time_limit=120, rtol=1e-30, atol=1e-40)
    assert c.status in ("refuted", "inconclusive"), c.status
