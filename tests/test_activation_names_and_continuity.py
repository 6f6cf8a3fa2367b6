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
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

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
