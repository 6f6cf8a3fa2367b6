"""Sympy expressions compiled to python-flint ball arithmetic (``arb`` / ``arb_series``).

The certified enclosures of :mod:`theory.enclosure` and :mod:`theory.certify` evaluate
nets and targets in ball arithmetic (Arb, via python-flint): every result is a ball guaranteed to contain
the exact value.  Evaluating on an ``arb_series`` ``c + s`` gives the Taylor
coefficients ``f^(k)(c)/k!`` as balls; evaluating on ``arb_series(B + s)`` with a
ball ``B`` encloses ``f^(k)(xi)/k!`` for every ``xi`` in ``B`` (Lagrange remainder).

Only what the activations and targets of this package need is supported:
``+ - * /``, integer and rational powers, ``exp log sqrt sinh cosh tanh erf erfc
atan`` and the constants ``pi``, ``E``.  Unsupported atoms raise ``ValueError``.

This module imports nothing from :mod:`theory`: activations hand their stable ball form
over by name (``Activation.ball_form``, a key of :data:`BALL_FORMS`).
"""

from __future__ import annotations

import contextlib
from typing import Callable

import flint
import sympy as sp
from flint import arb, arb_series

__all__ = ["compile_arb", "working_prec", "is_series", "activation_arb", "BALL_FORMS"]

# Other sympy constants (e.g. LambertW of a number) fall back to mpmath:
_BITS_TO_DIGITS = 0.30103     # log10(2): decimal digits per bit of flint.ctx.prec
_MPMATH_GUARD_DIGITS = 20     # extra digits of the mpmath evaluation
_MPMATH_TRUSTED_LOSS = 10     # the ball is widened to 10^-(dps - this) relative


@contextlib.contextmanager
def working_prec(bits: int, cap: int | None = None):
    """Temporarily set flint's precision (bits) and power-series length ``cap``."""
    old_prec, old_cap = flint.ctx.prec, flint.ctx.cap
    flint.ctx.prec = int(bits)
    if cap is not None:
        flint.ctx.cap = int(cap)
    try:
        yield
    finally:
        flint.ctx.prec, flint.ctx.cap = old_prec, old_cap


def is_series(x) -> bool:
    return isinstance(x, arb_series)


def _exp(x):
    return x.exp()


def _sinh(x):
    if is_series(x):
        e = x.exp()
        return (e - 1 / e) / 2
    return x.sinh()


def _cosh(x):
    if is_series(x):
        e = x.exp()
        return (e + 1 / e) / 2
    return x.cosh()


def _tanh(x):
    if is_series(x):
        # tanh x = 1 - 2/(exp(2x)+1): no overflow for large positive x
        return 1 - 2 / ((2 * x).exp() + 1)
    return x.tanh()


_UNARY = {
    sp.exp: _exp,
    sp.log: lambda x: x.log(),
    sp.sinh: _sinh,
    sp.cosh: _cosh,
    sp.tanh: _tanh,
    sp.erf: lambda x: x.erf(),
    sp.erfc: lambda x: x.erfc(),
    sp.atan: lambda x: x.atan(),
}


def compile_arb(expr: sp.Expr, symbol) -> Callable:
    """Compile ``expr`` to ``f(x)`` working on ``arb`` or ``arb_series``.

    ``symbol`` is one sympy Symbol (then ``f(x)``) or a tuple of them (then ``f((x1, x2, ...))``,
    one argument: the tuple).  Constants are evaluated at call time, so they follow
    ``flint.ctx.prec``.
    """
    expr = sp.sympify(expr)
    return _compile(expr, symbol)


def _compile(e: sp.Expr, x) -> Callable:
    if isinstance(x, tuple):
        if e in x:
            i = x.index(e)
            return lambda v: v[i]
    elif x is not None and e == x:
        return lambda v: v
    if e.is_Integer:
        n = int(e)
        return lambda v: arb(n)
    if e.is_Rational:
        p, q = int(e.p), int(e.q)
        return lambda v: arb(p) / q
    if e.is_Float:
        s = sp.Rational(e)  # a float literal is the exact binary number it denotes
        p, q = int(s.p), int(s.q)
        return lambda v: arb(p) / q
    if e is sp.pi:
        return lambda v: arb.pi()
    if e is sp.E:
        return lambda v: arb(1).exp()
    if e.is_Add:
        fs = [_compile(a, x) for a in e.args]

        def add(v):
            acc = fs[0](v)
            for f in fs[1:]:
                acc = acc + f(v)
            return acc

        return add
    if e.is_Mul:
        fs = [_compile(a, x) for a in e.args]

        def mul(v):
            acc = fs[0](v)
            for f in fs[1:]:
                acc = acc * f(v)
            return acc

        return mul
    if e.is_Pow:
        base, ex = e.args
        fb = _compile(base, x)
        if ex.is_Integer:
            n = int(ex)
            if n >= 0:
                return lambda v: fb(v) ** n
            return lambda v: 1 / (fb(v) ** (-n))
        if ex == sp.Rational(1, 2):
            return lambda v: fb(v).sqrt()
        if ex == sp.Rational(-1, 2):
            return lambda v: 1 / fb(v).sqrt()
        if ex.is_Rational:
            fe = _compile(ex, None)
            return lambda v: (fe(None) * fb(v).log()).exp()
        fe = _compile(ex, x)
        return lambda v: (fe(v) * fb(v).log()).exp()
    if isinstance(e, sp.Function) and e.func in _UNARY and len(e.args) == 1:
        g = _UNARY[e.func]
        fa = _compile(e.args[0], x)
        return lambda v: g(fa(v))
    if e.func is sp.atan2 or not e.free_symbols:
        # other constants (e.g. LambertW of a number): fall back to mpmath at high precision
        if not e.free_symbols:
            def const(v, e=e):
                dps = int(flint.ctx.prec * _BITS_TO_DIGITS) + _MPMATH_GUARD_DIGITS
                val = sp.N(e, dps)
                r = sp.Rational(str(val))
                # widen by the mpmath precision (trusted to dps - _MPMATH_TRUSTED_LOSS digits only)
                rad = float(10.0 ** (-(dps - _MPMATH_TRUSTED_LOSS)) * (1 + abs(float(val))))
                return arb(int(r.p)) / int(r.q) + arb(0, rad)
            return const
    raise ValueError(
        f"expr: cannot evaluate {e.func.__name__} in ball arithmetic; supported: "
        "+ - * / powers exp log sqrt sinh cosh tanh erf erfc atan pi E"
    )


def _const_mid(x) -> float:
    c = x.coeffs()[0] if is_series(x) else x
    return float(c.mid())


def _logistic_ball(z):
    """``1/(1+e^-z)`` with the exponential of ``-|z|`` only: tight on wide / far-out balls."""
    if _const_mid(z) >= 0:
        return 1 / (1 + (-z).exp())
    e = z.exp()
    return e / (1 + e)


def _relu_ball(z):
    if is_series(z):
        raise ValueError("z: relu has no Taylor series across its kink; split the domain first")
    return z.nonnegative_part()


def _tanh_ball(z):
    if _const_mid(z) >= 0:
        e = (-2 * z).exp()
        return (1 - e) / (1 + e)
    e = (2 * z).exp()
    return (e - 1) / (e + 1)


# Hand-written ball forms of the built-in activations, keyed by ``Activation.ball_form``.
BALL_FORMS: dict[str, Callable] = {
    "logistic": _logistic_ball,
    "tanh": _tanh_ball,
    "relu": _relu_ball,
}


def activation_arb(act) -> Callable:
    """Ball/series evaluator of an activation ``act`` (anything with ``expr``, ``symbol`` and,
    optionally, ``ball_form``).

    ``act.ball_form`` names a stable hand-written form of :data:`BALL_FORMS` (the logistic
    function and tanh: a naive ``1/(1+exp(-z))`` on a far-negative ball divides by a ball
    containing 0; relu: no Taylor series across its kink); without one, the compiled sympy
    expression is used.
    """
    form = getattr(act, "ball_form", None)
    if form is not None:
        try:
            return BALL_FORMS[form]
        except KeyError:
            raise ValueError(f"act: unknown ball form {form!r}; expected one of "
                             f"{sorted(BALL_FORMS)} or None") from None
    return compile_arb(act.expr, act.symbol)
