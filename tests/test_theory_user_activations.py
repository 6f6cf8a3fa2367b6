"""User activations end to end (issue 13): stable ball forms, the automatic certified step
constant, relu_net certified without a hand-given constant."""

import math

import mpmath
import pytest
import sympy as sp
from flint import arb, arb_series

import theory
from theory import Activation, certify, relu_net
from theory._arb import StableForm, working_prec

t = sp.Symbol("t", real=True)

GAUSS = Activation.from_expr((1 + sp.erf(t / sp.sqrt(2))) / 2, t, "gauss_user")
ARCTAN = Activation.from_expr(sp.Rational(1, 2) + sp.atan(t) / sp.pi, t, "arctan_user")
ALGEBRAIC = Activation.from_expr(sp.Rational(1, 2) + t / (2 * sp.sqrt(1 + t ** 2)), t, "algebraic")
LOGISTIC3 = Activation.from_expr(1 / (1 + sp.exp(-3 * t)), t, "logistic3")
AUDIT = [GAUSS, ARCTAN, ALGEBRAIC, LOGISTIC3]


@pytest.mark.parametrize("act", [LOGISTIC3, ALGEBRAIC, ARCTAN, GAUSS], ids=lambda a: a.name)
@pytest.mark.parametrize("center", [-700, -3, 0.5, 40, 900])
def test_stable_form_encloses_and_is_tight_on_wide_far_out_balls(act, center):
    """On a wide ball (width 30) the stable form's Taylor coefficients enclose
    sigma^(k)(xi)/k! for every xi of the ball, and far out (|t| >= 40) they are within a
    factor 4 of the true largest value (the naive forms were NaN or astronomically wide there)."""
    form = StableForm(act.expr, act.symbol)
    mp_d = [sp.lambdify(t, act.derivative(k), "mpmath") for k in range(4)]
    with working_prec(128, cap=4):
        ball = arb(center).union(arb(center + 30))
        co = form(arb_series([ball, 1])).coeffs()
        co += [arb(0)] * (4 - len(co))
        for k, c in enumerate(co):
            assert c.is_finite()
            with mpmath.workdps(40):
                vals = [mp_d[k](mpmath.mpf(x)) / math.factorial(k)
                        for x in (center, center + 7.5, center + 15, center + 30)]
            for val in vals:
                assert c.contains(arb(mpmath.nstr(val, 35, min_fixed=-1, max_fixed=1))) or \
                    abs(val) < mpmath.mpf(10) ** -30
            if k >= 1 and abs(center) >= 40:
                top = max(abs(vv) for vv in vals)
                assert float(abs(c).upper().mid()) <= 4 * float(top) + 1e-300


def test_step_constants_of_user_activations_are_certified_upper_bounds():
    assert theory.step_constant(ARCTAN) == 1 / sp.pi            # identical to the built-in
    assert theory.step_constant(GAUSS) == 1 / sp.sqrt(2 * sp.pi)
    for act, f in ((ALGEBRAIC, lambda v: v * (0.5 - v / (2 * mpmath.sqrt(1 + v * v)))),
                   (LOGISTIC3, lambda v: v / (1 + mpmath.exp(3 * v)))):
        C = theory.step_constant(act)
        assert C.is_Rational
        with mpmath.workdps(30):
            true = max(f(mpmath.mpf(i) / 1000) for i in range(1, 5000))
            assert true <= C <= true * (1 + 1e-4) + 1e-6


def test_relu_net_of_a_user_activation_certifies_without_a_hand_given_constant():
    net = relu_net(1e-6, 1, ARCTAN)
    cert = certify(net)
    assert cert.status == "certified" and cert.seconds < 30


@pytest.mark.slow
@pytest.mark.parametrize("eps", [1e-6, 1e-9])
@pytest.mark.parametrize("act", AUDIT, ids=lambda a: a.name)
def test_audit_user_activation_relu_nets_certify(act, eps):
    """The audit's eight cases (about 1-25 s each on 2 shared cores)."""
    cert = certify(relu_net(eps, 1, act))
    assert cert.status == "certified", cert.message


def test_gaussian_tail_step_constant_via_mills_ratio():
    """(1 + erf(t))/2 is not a built-in: its tail v erfc(v)/2 is bounded with Mills' ratio."""
    act = Activation.from_expr((1 + sp.erf(t)) / 2, t, "gauss_fast")
    C = theory.step_constant(act)
    with mpmath.workdps(30):
        true = max(mpmath.mpf(i) / 1000 * mpmath.erfc(mpmath.mpf(i) / 1000) / 2 for i in range(1, 5000))
    assert true <= C <= true * (1 + 1e-4) + 1e-6
