"""A user activation's name and continuity, by class (issue 28, attacks G and H).

G: an expression with a step (``sign``, ``Heaviside``, a ``Piecewise`` whose pieces do not meet,
``Min``/``Max`` of a step) was accepted because sympy's ``continuous_domain`` raises on it and
"cannot decide" read as continuous.  Property: every continuous activation plus a non-zero jump at
a rational point is refused ("not continuous", naming the point); the same construction whose
pieces meet is accepted; what sympy cannot decide (``floor``, ``gamma``) is refused as
undecided, never assumed continuous.

H: a name that reads as a built-in's (combining marks, fillers, confusable letters, spaces or
separators, digit lookalikes) travelled as that built-in.  Property: every such variant of every
built-in name and alias is refused, by ``from_expr`` and by the dataclass constructor alike; plain
ASCII names of their own are accepted.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings, strategies as st

from theory import Activation
from theory.activations import _ALIASES, BUILTINS, _t

t = _t
_BASES = [1 / (1 + sp.exp(-t)), sp.tanh(t), sp.Rational(1, 2) + sp.atan(t) / sp.pi,
          (1 + sp.erf(t / 2)) / 2, sp.Rational(1, 2) + t / (2 * sp.sqrt(1 + t ** 2))]
_rational = st.fractions(min_value=-3, max_value=3, max_denominator=8).map(sp.Rational)
_jump = _rational.filter(lambda c: c != 0)


def _steps(p, c):
    """Expressions that jump by a non-zero amount at ``t = p`` (or, for sign, by 2c)."""
    return [c * sp.sign(t - p), c * sp.Heaviside(t - p),
            sp.Piecewise((0, t < p), (c, True)), sp.Piecewise((c, t <= p), (0, True)),
            sp.Min(c * sp.sign(t - p), 10), sp.Max(c * sp.Heaviside(t - p), -10)]


@settings(max_examples=30, deadline=None)
@given(base=st.sampled_from(_BASES), p=_rational, c=_jump, which=st.integers(0, 5))
def test_a_jump_anywhere_is_refused(base, p, c, which):
    expr = base + _steps(p, c)[which]
    with pytest.raises(ValueError, match="not continuous"):
        Activation.from_expr(expr, t, "jumpy")
    with pytest.raises(ValueError, match="not continuous"):
        Activation(name="jumpy", expr=expr)          # the dataclass path checks it too


@settings(max_examples=20, deadline=None)
@given(base=st.sampled_from(_BASES), p=_rational, c=_jump)
def test_pieces_that_do_not_meet_are_refused_and_pieces_that_meet_are_accepted(base, p, c):
    joined = sp.Piecewise((base, t < p), (base + c * (t - p) ** 2, True))
    assert Activation.from_expr(joined, t, "joined").expr is not None
    split = sp.Piecewise((base, t < p), (base + c, True))
    with pytest.raises(ValueError, match="not continuous"):
        Activation.from_expr(split, t, "split")


@pytest.mark.parametrize("expr", [sp.floor(t) / (1 + t ** 2), sp.gamma(t), sp.frac(t) + sp.tanh(t),
                                  sp.besselj(0, t) + sp.tanh(t)])
def test_what_sympy_cannot_decide_is_refused_not_assumed(expr):
    # floor and frac are refused earlier still: a stored expression may not use them
    with pytest.raises(ValueError, match="continuous|not allowed in a stored"):
        Activation.from_expr(expr, t, "undecided")


@pytest.mark.parametrize("expr", [sp.erf(2 * t + 1), sp.Abs(t) / (1 + sp.Abs(t)), sp.Min(sp.tanh(t), sp.Rational(1, 2)),
                                  t * sp.Heaviside(t) / (1 + t ** 2), sp.tanh(t) * sp.sign(t),
                                  sp.exp(-1 / t ** 2)])
def test_continuous_forms_sympy_cannot_decide_alone_are_accepted(expr):
    Activation.from_expr(expr, t, "fine")


_MARKS = ["\u034f", "\ufe0f", "\u200b", "\u200d", "\u0301", "\u3164", "\u115f", "\u2800", "\u00a0"]
_CONFUSE = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "i": "\u0456", "s": "\u0455",
            "n": "\u0578", "h": "\u04bb", "g": "\u0261", "d": "\u0501", "u": "\u03c5", "t": "\u03c4"}
_DIGITS = {"o": "0", "l": "1", "s": "5", "m": "rn"}
_NAMES = sorted(set(BUILTINS) | set(_ALIASES))


@st.composite
def lookalikes(draw):
    """A variant of a built-in's name or alias that reads as it."""
    name = list(draw(st.sampled_from(_NAMES)))
    kind = draw(st.sampled_from(["mark", "confuse", "digit", "case_sep"]))
    if kind == "mark":
        i = draw(st.integers(0, len(name)))
        name.insert(i, draw(st.sampled_from(_MARKS)))
    elif kind == "confuse":
        idx = [i for i, ch in enumerate(name) if ch in _CONFUSE]
        if not idx:
            name.insert(0, "\u200b")
        else:
            i = draw(st.sampled_from(idx))
            name[i] = _CONFUSE[name[i]]
    elif kind == "digit":
        idx = [i for i, ch in enumerate(name) if ch in _DIGITS]
        if not idx:
            name.append(" ")
        else:
            i = draw(st.sampled_from(idx))
            name[i] = _DIGITS[name[i]]
    else:
        name = [ch.upper() if draw(st.booleans()) else ch for ch in name]
        i = draw(st.integers(1, len(name) - 1))
        name.insert(i, draw(st.sampled_from([" ", "-", "_", ".", "__", "()"])))
    return "".join(name)


@settings(max_examples=60, deadline=None)
@given(name=lookalikes())
def test_a_name_that_reads_as_a_builtin_is_refused(name):
    steep = 1 / (1 + sp.exp(-4 * t))
    with pytest.raises(ValueError, match="name"):
        Activation.from_expr(steep, t, name)
    with pytest.raises(ValueError, match="name"):
        Activation(name=name, expr=steep)


@settings(max_examples=30, deadline=None)
@given(name=st.from_regex(r"[a-z][a-z0-9_]{2,12}", fullmatch=True))
def test_plain_names_of_their_own_are_accepted(name):
    from theory.activations import _builtin_lookalike, _skeleton
    steep = 1 / (1 + sp.exp(-4 * t))
    if _builtin_lookalike(name) is not None or _skeleton(name).startswith("leakyrelu"):
        return                                       # a name that does read as a built-in's
    assert Activation.from_expr(steep, t, name).name == name


def test_the_leaky_relu_family_keeps_its_names():
    from theory import leaky_relu
    a = leaky_relu(0.1640625)
    assert a.name == "leaky_relu(0.1640625)"         # exact: the name says the expression
    with pytest.raises(ValueError, match="leaky_relu"):
        Activation.from_expr(1 / (1 + sp.exp(-4 * t)), t, "leaky_relu(0.1)")


# --------------------------------------------------------------------------------------------
# Removable singularities and piecewise forms, by class (issue 28, continuity attack round 2).
#
# I: sympy's one-sided limits of c**(+-1/(t - p)**k) are wrong (0 from both sides of
#    (1/2)**(1/t) at 0, whose left limit is +oo), so "both limits finite and equal" accepted a
#    pole.  Property: c**(s/(t - p)**k) is continuous at p exactly when k is even and c**s < 1
#    (then it tends to 0 from both sides); every other one is refused, at rational and
#    irrational p.
# J: g(t)/(t - p) with g(p) = 0 has a removable singularity that numpy evaluates as 0/0 = nan:
#    refused (the activation would return nan there), while the same function with its value at
#    p given is accepted.  (t - p)**m atan(1/(t - p)) is C^(m-1) and no more at p (m = 1, 2, 3,
#    numpy finite there): accepted exactly when m >= 3 (Assumption 1 needs C^2).
# K: a Piecewise whose pieces are singular only where they do not hold (1/(t - q), log(t - q),
#    sqrt(t - q), c**(1/(t - q)) outside their region) is continuous when the pieces meet and is
#    accepted; the same with a non-zero jump at the breakpoint is refused.

_points = st.one_of(_rational, st.sampled_from([sp.pi, sp.sqrt(2), sp.E / 3, -sp.sqrt(3) / 2]))
_bases_c = st.one_of(st.fractions(min_value=sp.Rational(1, 20), max_value=sp.Rational(19, 20),
                                  max_denominator=20).map(sp.Rational),
                     st.fractions(min_value=sp.Rational(21, 20), max_value=10, max_denominator=20)
                     .map(sp.Rational), st.sampled_from([sp.E, sp.pi / 4]))


@settings(max_examples=8, deadline=None)
@given(base=st.sampled_from(_BASES), c=_bases_c, s=st.sampled_from([1, -1]), k=st.integers(1, 3),
       p=_points)
def test_a_constant_to_a_pole_is_accepted_only_where_it_tends_to_the_same_finite_value(base, c, s, k, p):
    g = c ** (s / (t - p) ** k)
    expr = base + g / 10
    continuous = k % 2 == 0 and bool(c ** s < 1)     # even k: one sign on both sides; c**s < 1: -> 0
    if continuous:
        act = Activation.from_expr(expr, t, "bump")
        # the float64 function is the continuous one at p: the limit there, and close by
        x = float(p)
        assert abs(float(act(x)) - float(base.subs(t, p))) < 1e-12
        assert abs(float(act(x + 1e-3)) - float(act(x - 1e-3))) < 1e-2
    else:
        with pytest.raises(ValueError, match="not continuous"):
            Activation.from_expr(expr, t, "pole")


_smooth_h = [sp.sin(t), sp.tanh(t), sp.exp(t), sp.atan(t), t ** 2 + t, 1 / (1 + sp.exp(-t))]  # erf: continuous_domain cannot decide erf(t)/(t - p) at all (refused as undecided)


@pytest.mark.slow   # about 290 s for 6 examples on 2 cores (sympy limits and 60-digit probes): thorough profile
@settings(max_examples=6, deadline=None)
@given(h=st.sampled_from(_smooth_h), p=_points, scale=st.sampled_from([1, sp.Rational(1, 3), -2]))
def test_a_difference_quotient_numpy_cannot_evaluate_is_refused_and_its_completion_accepted(h, p, scale):
    g = scale * (h - h.subs(t, p))                   # g(p) = 0: g(t)/(t - p) -> g'(p)
    quotient = g / (t - p)
    # refused: not continuous, or (sin(t)/(3*(t - pi))) already because its printed form reads back
    # as another expression (a stored expression must print as itself)
    with pytest.raises(ValueError, match="expr: .*(continuous|reads back)") as err:
        Activation.from_expr(quotient, t, "quotient")
    assume("reads back" not in str(err.value))      # the completion would be refused the same way
    # where sympy finds the hole (sin, tanh, exp, atan, polynomials) the message says what numpy does
    if "removable singularity" in str(err.value):
        assert "numpy" in str(err.value) and "nan" in str(err.value)
    value = sp.diff(g, t).subs(t, p)
    completed = sp.Piecewise((quotient, t < p), (value, t <= p), (quotient, True))
    act = Activation.from_expr(completed, t, "completed")
    assert np.isfinite(act(float(p)))
    assert abs(float(act(float(p))) - float(value)) < 1e-9 * max(1, abs(float(value)))


@settings(max_examples=6, deadline=None)
@given(m=st.integers(1, 3), p=_points, base=st.sampled_from(_BASES))
def test_a_removable_point_counts_for_assumption_1_only_if_sigma_is_c2_there(m, p, base):
    u = t - p
    expr = base + u ** m * sp.atan(1 / u)            # C^(m-1) at p, not C^m: sigma^(m) jumps by pi
    if m >= 3:
        act = Activation.from_expr(expr, t, "c2_at_p")
        assert act.assumption_1
        x = float(p)
        for f in (act, act.d1, act.d2):              # the float64 forms are finite at p
            assert np.isfinite(f(x))
    else:
        with pytest.raises(ValueError, match="sigma'"):
            Activation.from_expr(expr, t, "not_c2")


@pytest.mark.parametrize("expr", [t * sp.sin(1 / t), t ** 2 * sp.sin(1 / t), sp.sin(t) / t,
                                  (t ** 2 - 1) / (t - 1), 1 / (sp.exp(t) - 1) - 1 / t])
def test_no_removable_point_of_a_non_c2_or_nan_form_is_accepted(expr):
    with pytest.raises(ValueError, match="expr"):
        Activation.from_expr(expr, t, "not_c2")


def _outside_singular(draw, p, side):
    """A piece singular only on the far side of the breakpoint p (side '+': holds for t > p)."""
    d = draw(st.fractions(min_value=0, max_value=2, max_denominator=4).map(sp.Rational))
    q = p - d if side == "+" else p + d            # the singular point, outside the piece's region
    u = (t - q) if side == "+" else (q - t)          # > 0 where the piece holds
    kind = draw(st.sampled_from(["pole", "log", "sqrt", "power"]))
    if kind == "sqrt":
        return sp.sqrt(u)
    if d == 0:
        d = sp.Rational(1, 2)
        q = p - d if side == "+" else p + d
        u = (t - q) if side == "+" else (q - t)
    return {"pole": 1 / u, "log": sp.log(u), "power": sp.Rational(1, 2) ** (1 / u)}[kind]


@st.composite
def outside_singular_piecewise(draw):
    p = draw(_rational)
    base = draw(st.sampled_from(_BASES))
    side = draw(st.sampled_from(["+", "-"]))
    g = _outside_singular(draw, p, side)
    meet = base.subs(t, p) + g - g.subs(t, p)        # equals base at p
    return p, base, meet, side


@settings(max_examples=8, deadline=None)
@given(case=outside_singular_piecewise(), c=_jump)
def test_pieces_singular_only_outside_their_region_are_accepted_when_they_meet(case, c):
    p, base, other, side = case
    if side == "+":
        joined = sp.Piecewise((base, t <= p), (other, True))
        split = sp.Piecewise((base, t <= p), (other + c, True))
    else:
        joined = sp.Piecewise((other, t < p), (base, True))
        split = sp.Piecewise((other + c, t < p), (base, True))
    act = Activation.from_expr(joined, t, "joined")
    x = float(p)
    assert abs(float(act(x)) - float(base.subs(t, p))) < 1e-12
    with pytest.raises(ValueError, match="not continuous"):
        Activation.from_expr(split, t, "split")


_q = sp.Rational(1, 2)


@pytest.mark.parametrize("expr", [
    t * (1 + sp.erf(t / sp.sqrt(2))) / 2, t / (1 + sp.exp(-t)), t * sp.tanh(sp.log(1 + sp.exp(t))),
    sp.Piecewise((t, t > 0), (sp.exp(t) - 1, True)),
    sp.Rational(105, 100) * sp.Piecewise((t, t > 0), (sp.Rational(167, 100) * (sp.exp(t) - 1), True)),
    sp.Piecewise((0, t < -3), (1, t > 3), (t / 6 + _q, True)),
    sp.Piecewise((0, t < 0), (1, t > 1), (3 * t ** 2 - 2 * t ** 3, True)),
    t / (1 + sp.Abs(t)),
    sp.Piecewise((1 - 1 / (4 * t), t > _q), (t, t > -_q), (-1 - 1 / (4 * t), True)),
    sp.Piecewise((1 / t, t > 1), (1, True)), sp.Piecewise((sp.sqrt(t), t > 0), (0, True)),
    sp.Piecewise((sp.log(t) + 1, t > 1), (t, True)), sp.exp(-1 / t ** 2)])
def test_reasonable_activations_stay_accepted(expr):
    act = Activation.from_expr(expr, t, "mine")
    assert np.all(np.isfinite(act(np.linspace(-5, 5, 1001))))


@pytest.mark.parametrize("expr", [
    sp.sign(t - sp.pi) + sp.tanh(t), sp.Heaviside(t - sp.sqrt(2)) / 10 + sp.tanh(t),
    sp.tanh(t) + sp.Float("1e-30") * sp.Heaviside(t), sp.Min(sp.Max(sp.sign(t), -sp.Abs(t)), 1),
    sp.tanh(1 / t), 1 / t, sp.log(t), sp.sqrt(t), sp.atan(1 / t), sp.Rational(1, 2) ** (1 / t),
    3 ** (-1 / t), sp.Rational(1, 10) ** (t ** -3), sp.Rational(1, 2) ** (1 / (t - sp.pi)),
    sp.Piecewise((1 / t, t > -1), (0, True)), sp.Piecewise((sp.Rational(1, 2) ** (1 / t), t < 1), (0, True))])
def test_discontinuous_forms_stay_refused(expr):
    with pytest.raises(ValueError, match="expr"):
        Activation.from_expr(expr, t, "broken")
