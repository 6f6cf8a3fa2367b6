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
import functools
import math
import sys
from fractions import Fraction
from typing import Callable

import flint
import mpmath
import sympy as sp
from flint import arb, arb_series

__all__ = ["compile_arb", "working_prec", "is_series", "activation_arb", "BALL_FORMS",
           "float_up", "float_down", "str_up", "str_down", "exact_fraction"]

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


# ---------------------------------------------------------------- outward rounding
def exact_fraction(x):
    """The exact value of a finite number as a Fraction: an ``mpmath.mpf``, an exact ``arb``
    (radius 0, e.g. ``b.upper()``), a float, an int, a Fraction or a sympy Rational.

    Returns None for NaN and ``+-inf`` (as ``float('inf')`` / ``-inf``).
    """
    if isinstance(x, arb):
        if x.is_nan():
            return None
        if not x.is_finite():
            return math.inf if x > 0 else -math.inf
        if x.rad() != 0:
            raise ValueError("x: expected an exact arb (take .upper() or .lower() first)")
        x = _arb_mid_mpf(x)
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return Fraction(x)
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return x
        return Fraction(x)
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    if not isinstance(x, mpmath.mpf):  # an mpf keeps its own precision (no re-rounding)
        x = mpmath.mpf(x)
    if mpmath.isnan(x):
        return None
    if mpmath.isinf(x):
        return math.inf if x > 0 else -math.inf
    man, exp = x.man_exp                   # mpmath's mantissa is unsigned: the sign apart
    man, exp = (-int(man) if x < 0 else int(man)), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** (-exp))


def _arb_mid_mpf(x):
    m, e = x.mid().man_exp()
    with mpmath.workprec(max(53, int(m).bit_length() + 8)):
        return mpmath.ldexp(mpmath.mpf(int(m)), int(e))


# ends whose binary exponent exceeds this in size are not turned into Fractions: a lower bound
# 2^-(10^9) (an exp(-K x) with K ~ 1e324, eps = 5e-324) made one Fraction of 10^9 bits and then
# powers of 10 of that size; such ends are rounded to float64 / decimal strings from their exponent
_FAR_EXP_BITS = 4096


def _end_man_exp(x, which: str):
    """``(man, exp)`` (ints, value ``man 2^exp``) of the ``which`` end of an arb / the value of an
    mpf when it is finite and non-zero, else None (other types: None, read exactly)."""
    if isinstance(x, arb):
        if x.is_nan() or not x.is_finite():
            return None
        end = x.upper() if which == "upper" else x.lower()
        m, e = end.mid().man_exp()
        m, e = int(m), int(e)
    elif isinstance(x, mpmath.mpf):
        if not mpmath.isfinite(x) or x == 0:
            return None
        m, e = (int(v) for v in x.man_exp)
        m = -m if x < 0 else m              # mpmath's mantissa is unsigned
    else:
        return None
    return None if m == 0 else (m, e)


def _far(x, which: str):
    """``(sign, log2 |end|)`` when the end is beyond ``2^+-_FAR_EXP_BITS``, else None."""
    me = _end_man_exp(x, which)
    if me is None:
        return None
    m, e = me
    top = e + abs(m).bit_length()
    if -_FAR_EXP_BITS < top < _FAR_EXP_BITS:
        return None
    return (1 if m > 0 else -1), top


def _far_float(sign: int, top: int, up: bool) -> float:
    """The float64 bound of a far end: huge -> +-inf / +-max, tiny -> the subnormal or 0."""
    if top > 0:
        if sign > 0:
            return math.inf if up else sys.float_info.max
        return -sys.float_info.max if up else -math.inf
    tiny = 5e-324
    if sign > 0:
        return tiny if up else 0.0
    return -0.0 if up else -tiny


def _far_decimal(x, which: str, digits: int) -> str:
    """A far end as a decimal string, rounded outward: ``mpmath`` (unbounded exponents) at a
    precision covering the exponent, the mantissa widened by one unit in the last place."""
    m, e = _end_man_exp(x, which)
    up = which == "upper"
    bits = abs(e).bit_length() + abs(m).bit_length() + 64
    with mpmath.workprec(bits):
        v = mpmath.ldexp(mpmath.mpf(abs(m)), e)
        ex = int(mpmath.floor(mpmath.log10(v)))
        mant = v / mpmath.mpf(10) ** ex * mpmath.mpf(10) ** (digits - 1)
        away = up != (m < 0)
        n = int(mpmath.ceil(mant)) + 1 if away else max(int(mpmath.floor(mant)) - 1, 10 ** (digits - 1))
    if n >= 10 ** digits:
        n //= 10
        ex += 1
    s = str(n)
    body = s[0] + ("." + s[1:] if digits > 1 else "")
    return f"{'-' if m < 0 else ''}{body}e{ex:+03d}"


def _upper_end(x):
    """The upper end of a ball / the value of a number, exactly (Fraction, +-inf or None=NaN)."""
    if isinstance(x, arb):
        return exact_fraction(x.upper()) if not x.is_nan() else None
    if isinstance(x, sp.Basic) and not x.is_Rational:
        with working_prec(256):
            return _upper_end(compile_arb(x, None)(None))
    return exact_fraction(x)


def _lower_end(x):
    if isinstance(x, arb):
        return exact_fraction(x.lower()) if not x.is_nan() else None
    if isinstance(x, sp.Basic) and not x.is_Rational:
        with working_prec(256):
            return _lower_end(compile_arb(x, None)(None))
    return exact_fraction(x)


def float_up(x) -> float:
    """The smallest float64 ``>= x`` (an upper bound stays one in float64); ``inf`` for NaN.

    ``x``: arb (its upper end), mpmath.mpf, sympy constant (enclosed in Arb), Fraction, float.
    """
    far = _far(x, "upper")
    if far is not None:
        return _far_float(*far, up=True)
    q = _upper_end(x)
    if q is None:
        return math.inf
    if isinstance(q, float):
        return q
    f = _float_or_inf(q)
    if math.isfinite(f) and _fraction_of(f) < q:
        f = math.nextafter(f, math.inf)
    elif f == -math.inf:         # beyond float64's range: the smallest float above q
        f = -sys.float_info.max
    return f


def float_down(x) -> float:
    """The largest float64 ``<= x`` (a lower bound stays one); ``-inf`` for NaN."""
    far = _far(x, "lower")
    if far is not None:
        return _far_float(*far, up=False)
    q = _lower_end(x)
    if q is None:
        return -math.inf
    if isinstance(q, float):
        return q
    f = _float_or_inf(q)
    if math.isfinite(f) and _fraction_of(f) > q:
        f = math.nextafter(f, -math.inf)
    elif not math.isfinite(f):   # beyond float64's range: the largest float below q
        f = math.copysign(sys.float_info.max, f) if f > 0 else -math.inf
    return f


def _float_or_inf(q) -> float:
    """``float(q)`` for a Fraction, ``+-inf`` beyond float64's range (no OverflowError)."""
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def _fraction_of(f: float):
    return Fraction(f)


def _decimal(q, digits: int, up: bool) -> str:
    """``q`` (Fraction) as a decimal with ``digits`` significant digits, rounded up / down."""
    if q == 0:
        return "0"
    neg = q < 0
    a = -q if neg else q
    e = len(str(a.numerator // a.denominator)) - 1 if a >= 1 else -len(str(a.denominator // a.numerator))
    # adjust e so that 10^e <= a < 10^(e+1)
    while Fraction(10) ** e > a:
        e -= 1
    while Fraction(10) ** (e + 1) <= a:
        e += 1
    scale = Fraction(10) ** (digits - 1 - e)
    v = a * scale
    away = up != neg  # round the magnitude up for an upper bound of a positive number
    n = -((-v.numerator) // v.denominator) if away else v.numerator // v.denominator
    if n >= 10 ** digits:
        n //= 10
        e += 1
    s = str(n)
    mant = s[0] + ("." + s[1:] if digits > 1 else "")
    return f"{'-' if neg else ''}{mant}e{e:+03d}"


def str_up(x, digits: int = 7) -> str:
    """Decimal string ``>= x`` with ``digits`` significant digits (``inf`` for NaN/inf)."""
    if _far(x, "upper") is not None:
        return _far_decimal(x, "upper", digits)
    q = _upper_end(x)
    if q is None or q == math.inf:
        return "inf"
    if q == -math.inf:
        return "-inf"
    return _decimal(q, digits, up=True)


def str_down(x, digits: int = 7) -> str:
    """Decimal string ``<= x`` with ``digits`` significant digits (``-inf`` for NaN)."""
    if _far(x, "lower") is not None:
        return _far_decimal(x, "lower", digits)
    q = _lower_end(x)
    if q is None or q == -math.inf:
        return "-inf"
    if q == math.inf:
        return "inf"
    return _decimal(q, digits, up=False)


def is_series(x) -> bool:
    return isinstance(x, arb_series)


# ---------------------------------------------------------------- series on wide balls
# python-flint's series functions lose the constant term's ball on wide balls (atan gives NaN
# on [1, 27], sqrt a ball containing 0 on [1, 2]).  On a series whose constant term is wide,
# the elementary functions below use the scalar function for the constant term (tight: Arb's
# scalar functions are) and the derivative recurrences for the others.
_WIDE_RAD = 2.0 ** -20       # constant-term radius above which the recurrences are used


def _is_wide(x) -> bool:
    if not is_series(x):
        return False
    co = x.coeffs()
    return bool(co) and co[0].rad() > _WIDE_RAD


def _len(x) -> int:
    """Length of the truncated series ``x`` (flint's ``ctx.cap``; trailing zeros are implicit)."""
    return max(len(x.coeffs()), int(flint.ctx.cap))


def _pow_ball(a0, n: int):
    """``a0^n`` from the ends of the ball (monotone pieces): no mid-radius dependency, so a
    wide ball gives the true range (``(10 +- 9)^2`` is ``[1, 361]``, not ``[-165, 361]``)."""
    if not a0.is_finite():
        return a0 ** n
    lo, hi = a0.lower(), a0.upper()
    out = (lo ** n).union(hi ** n)
    if n % 2 == 0 and a0.contains(0):
        out = out.union(arb(0))
    return out


def _sqr_const(a0):
    return _pow_ball(a0, 2)


def _co(x, n):
    c = x.coeffs()
    return c + [arb(0)] * (n - len(c))


def _ser_mul(a, b, n):
    return [sum((a[j] * b[k - j] for j in range(k + 1)), arb(0)) for k in range(n)]


def _ser_recip(a, n):
    q = [1 / a[0]]
    for k in range(1, n):
        q.append(-q[0] * sum((a[j] * q[k - j] for j in range(1, k + 1)), arb(0)))
    return q


def _ser_exp(a, n, e0=None):
    e = [a[0].exp() if e0 is None else e0]
    for k in range(1, n):
        e.append(sum((j * a[j] * e[k - j] for j in range(1, k + 1)), arb(0)) / k)
    return e


def _ser_integrate(c0, dcoef, n):
    """Coefficients of f with f(0-th) = c0 and f' having coefficients ``dcoef``."""
    return [c0] + [dcoef[k - 1] / k for k in range(1, n)]


def s_recip(x):
    if not _is_wide(x):
        return 1 / x
    n = _len(x)
    return arb_series(_ser_recip(_co(x, n), n))


def s_sqrt(x):
    if not _is_wide(x):
        return x.sqrt()
    n = _len(x)
    a = _co(x, n)
    r = [a[0].sqrt()]
    for k in range(1, n):
        r.append((a[k] - sum((r[j] * r[k - j] for j in range(1, k)), arb(0))) / (2 * r[0]))
    return arb_series(r)


def s_exp(x):
    if not _is_wide(x):
        return x.exp()
    n = _len(x)
    return arb_series(_ser_exp(_co(x, n), n))


def s_log(x):
    if not _is_wide(x):
        return x.log()
    n = _len(x)
    a = _co(x, n)
    da = [(k + 1) * a[k + 1] for k in range(n - 1)]
    d = _ser_mul(da, _ser_recip(a, n), n - 1) if n > 1 else []
    return arb_series(_ser_integrate(a[0].log(), d, n))


def s_atan(x):
    if not _is_wide(x):
        return x.atan()
    n = _len(x)
    a = _co(x, n)
    one_a2 = _ser_mul(a, a, n)
    one_a2[0] = _sqr_const(a[0]) + 1
    da = [(k + 1) * a[k + 1] for k in range(n - 1)]
    d = _ser_mul(da, _ser_recip(one_a2, n), n - 1) if n > 1 else []
    return arb_series(_ser_integrate(a[0].atan(), d, n))


def _erf_deriv(a, n):
    sq = _ser_mul(a, a, n)
    sq[0] = _sqr_const(a[0])
    m = [-v for v in sq]
    g = _ser_exp(m, n)
    da = [(k + 1) * a[k + 1] for k in range(n - 1)]
    c = 2 / arb.pi().sqrt()
    return [c * v for v in _ser_mul(da, g, n - 1)] if n > 1 else []


def s_erf(x):
    if not _is_wide(x):
        return x.erf()
    n = _len(x)
    a = _co(x, n)
    return arb_series(_ser_integrate(a[0].erf(), _erf_deriv(a, n), n))


def s_erfc(x):
    if not _is_wide(x):
        return x.erfc()
    n = _len(x)
    a = _co(x, n)
    return arb_series(_ser_integrate(a[0].erfc(), [-v for v in _erf_deriv(a, n)], n))


def _exp(x):
    return s_exp(x) if is_series(x) else x.exp()


def _sinh(x):
    if is_series(x):
        e = s_exp(x)
        return (e - s_recip(e)) / 2
    return x.sinh()


def _cosh(x):
    if is_series(x):
        e = s_exp(x)
        return (e + s_recip(e)) / 2
    return x.cosh()


def _tanh(x):
    if is_series(x):
        # tanh x = 1 - 2/(exp(2x)+1): no overflow for large positive x
        return 1 - 2 * s_recip(s_exp(2 * x) + 1)
    return x.tanh()


_UNARY = {
    sp.exp: _exp,
    sp.log: lambda x: s_log(x) if is_series(x) else x.log(),
    sp.sinh: _sinh,
    sp.cosh: _cosh,
    sp.tanh: _tanh,
    sp.erf: lambda x: s_erf(x) if is_series(x) else x.erf(),
    sp.erfc: lambda x: s_erfc(x) if is_series(x) else x.erfc(),
    sp.atan: lambda x: s_atan(x) if is_series(x) else x.atan(),
}


#: functions evaluated as the reciprocal of one in :data:`_UNARY`
_RECIPROCAL_HYPERBOLIC = {sp.sech: sp.cosh, sp.csch: sp.sinh, sp.coth: sp.tanh}


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
                return lambda v: _ipow(fb(v), n)
            return lambda v: _recip(_ipow(fb(v), -n))
        if ex == sp.Rational(1, 2):
            return lambda v: _sqrt(fb(v))
        if ex == sp.Rational(-1, 2):
            return lambda v: _recip(_sqrt(fb(v)))
        if ex.is_Rational:
            fe = _compile(ex, None)
            return lambda v: _exp(fe(None) * _log(fb(v)))
        fe = _compile(ex, x)
        return lambda v: _exp(fe(v) * _log(fb(v)))
    if isinstance(e, sp.Function) and e.func in _UNARY and len(e.args) == 1:
        g = _UNARY[e.func]
        fa = _compile(e.args[0], x)
        return lambda v: g(fa(v))
    if isinstance(e, sp.Function) and e.func in _RECIPROCAL_HYPERBOLIC and len(e.args) == 1:
        # sech, csch, coth (accepted by theory.Activation.from_expr): 1/cosh, 1/sinh, 1/tanh
        inner = _UNARY[_RECIPROCAL_HYPERBOLIC[e.func]]
        fa = _compile(e.args[0], x)
        return lambda v: _recip(inner(fa(v)))
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
        "+ - * / powers exp log sqrt sinh cosh tanh sech csch coth erf erfc atan pi E"
    )


def _recip(x):
    return s_recip(x) if is_series(x) else 1 / x


def _sqrt(x):
    return s_sqrt(x) if is_series(x) else x.sqrt()


def _log(x):
    return s_log(x) if is_series(x) else x.log()


def _ipow(x, n: int):
    """``x ** n`` by repeated multiplication: a series power in python-flint goes through
    ``exp(n log x)``, which fails (or is NaN) when the constant term's ball contains 0."""
    if not is_series(x):
        return x ** n
    if _is_wide(x):
        m = _len(x)
        a = _co(x, m)
        out = [arb(1)] + [arb(0)] * (m - 1)
        for _ in range(n):
            out = _ser_mul(out, a, m)
        out[0] = _pow_ball(a[0], n)
        return arb_series(out)
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else result * base
        n >>= 1
        if n:
            base = base * base
    return result if result is not None else x * 0 + 1


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
    containing 0; relu: no Taylor series across its kink); without one, a :class:`StableForm`
    of the sympy expression (symmetric / range-reduced tail forms, cached per expression).
    """
    form = getattr(act, "ball_form", None)
    if form is not None:
        try:
            return BALL_FORMS[form]
        except KeyError:
            raise ValueError(f"act: unknown ball form {form!r}; expected one of "
                             f"{sorted(BALL_FORMS)} or None") from None
    return _stable_form(act.expr, act.symbol)


@functools.lru_cache(maxsize=64)
def _stable_form(expr, symbol):
    return StableForm(expr, symbol)


# ---------------------------------------------------------------- stable forms of user activations
STABLE_CENTER_T = 1          # algebraic tails: |t| >= this uses the form in w = 1/|t|
STABLE_CENTER_PIECE = 1      # a wide ball is split into pieces of this width in the centre ...
STABLE_MAX_PIECES = 16       # ... at most this many (beyond: one piece, a looser enclosure)


def _linear_coeffs(a, t):
    """``(c, b)`` with ``a = c t + b`` (exact numbers), or None when ``a`` is not linear in ``t``."""
    a = sp.expand(a)
    c = a.coeff(t, 1)
    b = sp.expand(a - c * t)
    if c == 0 or b.has(t) or not c.is_number or not b.is_number:
        return None
    return c, b


def _range_reduce(expr, t, side: int):
    """Identities valid for ``side * t >= T`` that remove the large-argument cancellations:
    ``atan(a) = sgn pi/2 - atan(1/a)``, ``erf(a) = sgn (1 - erfc(sgn a))`` (``sgn`` the sign of
    ``a`` on that side; ``a`` linear in ``t``), ``tanh`` in exponentials.  Returns
    ``(expr, T)``, ``T`` the threshold beyond which the signs hold (0 when nothing applied)."""
    T = [sp.Integer(0)]

    def sign_of(a):
        lin = _linear_coeffs(a, t)
        if lin is None:
            return None
        c, b = lin
        T.append(abs(b / c) + 1)
        return 1 if (c * side) > 0 else -1

    def red_atan(a):
        s = sign_of(a)
        return sp.atan(a) if s is None else s * sp.pi / 2 - sp.atan(1 / a)

    def red_erf(a):
        s = sign_of(a)
        return sp.erf(a) if s is None else s * (1 - sp.erfc(s * a))

    def red_erfc(a):
        s = sign_of(a)
        return sp.erfc(a) if s is None or s > 0 else 2 - sp.erfc(-a)

    e = expr.rewrite(sp.exp) if expr.has(sp.tanh, sp.sinh, sp.cosh) else expr
    e = e.replace(sp.atan, red_atan).replace(sp.erf, red_erf).replace(sp.erfc, red_erfc)
    return sp.expand(e), max(T, key=lambda v: float(v))


def _exp_rate(e, t):
    """``(alpha, q)`` when every exponential of ``e`` that depends on ``t`` is ``exp(c t + b)``
    with ``c`` a rational multiple of one real ``alpha > 0`` (``c = n alpha / q``, ``n`` an
    integer): then ``w = exp(-side alpha t / q)`` turns them into powers of ``w``.  The offsets
    ``b`` (a shifted argument, ``exp(-(t + 1))``) become constant factors ``exp(b)``.  None when
    some exponent is not of that form; ``(None, None)`` when no exponential depends on ``t``."""
    alpha, ratios = None, []
    for ex in e.atoms(sp.exp):
        if not ex.has(t):  # a constant such as exp(-1)
            continue
        lin = _linear_coeffs(ex.args[0], t)
        if lin is None:
            return None
        c = lin[0]
        if c.has(sp.Float):
            return None          # callers pass expressions with exact constants (_exact_floats)
        if alpha is None:
            alpha = abs(c)
        r = sp.simplify(c / alpha)
        if not r.is_Rational:
            return None
        ratios.append(r)
    if alpha is None:
        return (None, None)
    return alpha, math.lcm(*(int(r.q) for r in ratios))


def _exp_atoms_to_powers(e, t, w, side: int, alpha, q: int):
    """``e`` with every ``exp(c t + b)`` replaced by ``exp(b) w^n``, ``n = -side q c / alpha``
    (the substitution ``t = -side q log(w) / alpha``, atom by atom), or None."""
    reps = {}
    for ex in e.atoms(sp.exp):
        if not ex.has(t):
            continue
        c, b = _linear_coeffs(ex.args[0], t)
        n = sp.simplify(-side * q * c / alpha)
        if not n.is_Integer:
            return None
        reps[ex] = sp.exp(b) * w ** int(n)
    g = e.xreplace(reps)
    return None if g.has(t) else g


# Tail forms: how the argument z maps to the small variable w, and how a wide tail ball is cut.
_TAIL_EXP, _TAIL_RECIP, _TAIL_REDUCED = "exp", "recip", "reduced"


def _tail_form(expr, t, side: int, allow_reduced: bool = True):
    """``(G, w_of_z, T, kind, step)``: ``expr`` on ``side * t >= T`` as ``G(w)``, ``w = w_of_z(z)``
    small there.

    Exponentials ``exp(c t + b)`` with the rates ``c`` rational multiples of one ``alpha``
    (:func:`_exp_rate`): ``t = -side q log(w) / alpha`` (``w = exp(-side alpha t / q) <= 1``),
    shifts ``b`` becoming constant factors; otherwise ``t = side / w``.  This is the symmetric
    form of logistic-type expressions (``1/(1+exp(-3t))`` becomes ``1/(1+w^3)`` and
    ``w^3/(1+w^3)``; ``1/(1+exp(-(t+1)))`` becomes ``e/(e+w)``), and the range reduction of
    algebraic ones (``t/sqrt(1+t^2)`` becomes ``1/sqrt(1+w^2)``).  ``kind`` and ``step`` say
    how :class:`StableForm` cuts a wide tail ball (exponential: pieces ``step = q/alpha`` wide,
    over which ``w`` changes by a factor ``e``; otherwise geometric pieces ``[a, 2a]``).
    None when no substitution compiles.
    """
    e, T = _range_reduce(_exact_floats(expr), t, side)
    w = sp.Symbol("w", positive=True)
    rate = _exp_rate(e, t)
    cands = []
    if rate is not None and rate[0] is not None:
        alpha, q = rate
        g = _exp_atoms_to_powers(e, t, w, side, alpha, q)
        if g is not None:
            k = alpha / q
            cands.append((g, lambda z, k=k: _exp_tail_w(z, -side * k), T, _TAIL_EXP,
                          float(sp.N(1 / k, 17)) * (1 + 2 ** -40), -side * k))
    if allow_reduced and e != sp.expand(expr):
        # range reduction applied (atan, erf): the reduced expression itself, no substitution
        # (a substitution w = 1/t would bring back the dependency of 1/w on wide balls)
        cands.append((None, lambda z: z, max(T, sp.Integer(STABLE_CENTER_T)), _TAIL_REDUCED, None,
                      None))
    cands.append((sp.Integer(side) / w, lambda z: side * _recip(z),
                  max(T, sp.Integer(STABLE_CENTER_T)), _TAIL_RECIP, None, None))
    for sub, wfun, TT, kind, step, kappa in cands:
        try:
            if kind == _TAIL_REDUCED:
                g, var = e, t
            else:
                if kind == _TAIL_RECIP:
                    g = sp.expand(e.subs(t, sub))
                    g = sp.powsimp(g, force=True)
                else:
                    g = sub
                g = _cancel_args(sp.cancel(sp.together(g)))
                var = w
                if g.has(sp.log) or g.has(t):
                    continue
            f = compile_arb(g, var)
            with working_prec(64):
                probe = f(arb("0.25"))
            if probe.is_finite():
                return f, wfun, TT, kind, step, kappa
        except (ValueError, ZeroDivisionError, TypeError, sp.PolynomialError):
            continue
    return None


def _cancel_args(g):
    """``g`` with the arguments of its functions brought over one denominator: after ``t = 1/w``
    a shifted or scaled ``atan(1/(3t - 2))`` is ``atan(1/(3/w - 2))``, NaN on a ball containing
    ``w = 0``; ``atan(w/(3 - 2w))`` is finite there (``cancel`` does not enter function
    arguments; issue 24: ``1/2 + atan(3t - 2)/pi`` had no tail bound for ``k >= 6``)."""
    return g.replace(lambda a: isinstance(a, sp.Function) and a.args,
                     lambda a: a.func(*[sp.cancel(sp.together(x)) for x in a.args]))


def _exp_tail_w(z, k):
    """``exp(k z)`` (``k`` a sympy constant) with the constant term's ball from its two ends on a
    wide ball (Arb's ``exp`` of a mid-radius ball ``[25 +- 25]`` is ``[+- 1.01]``, not
    ``[e^-50, 1]``)."""
    kz = compile_arb(k, None)(None) * z
    if not is_series(kz):
        return _mono_exp(kz)
    if not _is_wide(kz):
        return kz.exp()
    n = _len(kz)
    a = _co(kz, n)
    return arb_series(_ser_exp(a, n, _mono_exp(a[0])))


def _mono_exp(x):
    """``exp`` of a ball from its ends (exp is increasing): the true range, up to rounding."""
    if not x.is_finite() or x.rad() <= _WIDE_RAD:
        return x.exp()
    return x.lower().exp().union(x.upper().exp())


def _with_const(z, c0):
    """``z`` (arb or series) with its constant term replaced by the ball ``c0``."""
    if is_series(z):
        co = z.coeffs()
        return arb_series([c0] + list(co[1:]))
    return c0


def _const(z):
    if is_series(z):
        co = z.coeffs()
        return co[0] if co else arb(0)
    return z


def _union(a, b):
    if a is None:
        return b
    if is_series(a):
        ca, cb = a.coeffs(), b.coeffs()
        n = max(len(ca), len(cb))
        ca += [arb(0)] * (n - len(ca))
        cb += [arb(0)] * (n - len(cb))
        return arb_series([x.union(y) for x, y in zip(ca, cb)])
    return a.union(b)


_PIVOT_ATOMS = (sp.exp, sp.tanh, sp.sinh, sp.cosh, sp.erf, sp.erfc, sp.atan)


def _exact_floats(expr):
    """``expr`` with every sympy Float replaced by its exact binary value (a Rational): what
    :func:`compile_arb` computes with anyway; the identities below (shifts, substitutions) must
    hold exactly, and sympy's Float arithmetic (15 digits) would break them by 1e-17."""
    fl = expr.atoms(sp.Float)
    return expr.xreplace({f: sp.Rational(f) for f in fl}) if fl else expr


def _pivot(expr, t):
    """The common root ``-c/a`` of the linear arguments ``a t + c`` of the transcendental atoms
    of ``expr`` (``exp tanh sinh cosh erf erfc atan``), or 0 when they are not all linear with
    one root (``1/(1+exp(-(t+1)))``: -1; ``(1 + tanh(t - 1/2))/2``: 1/2; ``tanh(t)``: 0)."""
    roots = set()
    for atom in expr.atoms(*_PIVOT_ATOMS):
        if not atom.has(t):
            continue
        lin = _linear_coeffs(atom.args[0], t)
        if lin is None:
            return sp.Integer(0)
        c, b = lin
        roots.add(sp.simplify(-b / c))
        if len(roots) > 1:
            return sp.Integer(0)
    return roots.pop() if roots else sp.Integer(0)


STABLE_TAIL_PIECES = 16      # a wide tail ball: at most this many near pieces, then one far piece
_REDUCED_TAIL_STEP = 0.25    # range-reduced tails (erfc: Gaussian decay) use pieces this wide


def _tail_cuts(a, b, kind, step):
    """Cut points ``a = p_0 < p_1 < ... < p_m = b`` (arb, the inner ones exact floats) of a tail
    ball ``[a, b]`` in ``|z|`` (``a >= T``): pieces ``step`` wide for exponential tails,
    ``_REDUCED_TAIL_STEP`` wide for range-reduced ones (erfc decays like a Gaussian), ``[p, 2p]``
    otherwise, at most ``STABLE_TAIL_PIECES`` of them before one far piece."""
    fa, fb = float(a.mid()), float(b.mid())
    cuts = [a]
    p = fa
    for _ in range(STABLE_TAIL_PIECES):
        p = (p + step if kind == _TAIL_EXP else
             p + _REDUCED_TAIL_STEP if kind == _TAIL_REDUCED else max(2 * p, p + 1))
        if not p < fb or not math.isfinite(p):
            break
        if arb(p) > cuts[-1] and arb(p) < b:
            cuts.append(arb(p))
    cuts.append(b)
    return cuts


class StableForm:
    """Ball / series evaluator of a user activation without catastrophic blow-up on far-out or
    wide balls: the naive compiled expression in the centre ``|t| <= T``, the tail forms of
    :func:`_tail_form` beyond (each an identity there); a ball straddling regions (or wide in
    the centre) is cut into pieces whose results are united, coefficient by coefficient, which
    encloses ``sigma^(k)(xi)`` for every ``xi`` of the ball (the union of enclosures over a
    cover)."""

    def __init__(self, expr, t):
        expr = _exact_floats(expr)
        # sigma(a t + c): centre the forms at the common root t = -c/a of the transcendental
        # atoms' arguments, so that the split between the centre and the tails (and the tail
        # pieces) sits where sigma changes, whatever the shift (issue 24)
        self.pivot = _pivot(expr, t)
        if self.pivot != 0:
            expr = expr.subs(t, t + self.pivot)
            self._pivot_arb = compile_arb(self.pivot, None)
        self.center = compile_arb(expr, t)
        self.tails = {s: _tail_form(expr, t, s) for s in (1, -1)}
        Ts = [float(v[2]) for v in self.tails.values() if v is not None]
        self.T = max(Ts) if Ts else math.inf

    def _eval_region(self, z, region):
        if region == 0:
            return self.center(z)
        f, wfun = self.tails[region][:2]
        return f(wfun(z))

    def _tail_pieces(self, region, a, b):
        """A tail ball ``[a, b]`` (``side * z >= T``) cut so that ``w`` changes by a bounded
        factor on each piece: the enclosure does not widen with ``|z|`` (or the ball's width)."""
        kind, step = self.tails[region][3:5]
        if region == 1:
            cuts = _tail_cuts(a, b, kind, step)
            return [(1, p, q) for p, q in zip(cuts[:-1], cuts[1:])]
        cuts = _tail_cuts(-b, -a, kind, step)
        return [(-1, -q, -p) for p, q in zip(cuts[:-1], cuts[1:])]

    def __call__(self, z):
        if self.pivot != 0:
            z = z - self._pivot_arb(None)
        c0 = _const(z)
        if not c0.is_finite():
            return self.center(z)
        lo, hi = c0.lower(), c0.upper()
        T = self.T
        if math.isinf(T):
            return self.center(z)
        Ta = arb(T)
        pieces = []
        if hi >= Ta and self.tails[1] is not None:
            pieces += self._tail_pieces(1, (lo if lo > Ta else Ta), hi)
        if lo <= -Ta and self.tails[-1] is not None:
            pieces += self._tail_pieces(-1, lo, (hi if hi < -Ta else -Ta))
        clo, chi = (lo if lo > -Ta else -Ta), (hi if hi < Ta else Ta)
        if self.tails[1] is None:
            chi = hi
        if self.tails[-1] is None:
            clo = lo
        if chi >= clo and not (T == 0 and self.tails[1] is not None and self.tails[-1] is not None):
            width = float((chi - clo).upper().mid())
            k = min(STABLE_MAX_PIECES, max(1, math.ceil(width / STABLE_CENTER_PIECE)))
            for i in range(k):
                a = clo + (chi - clo) * i / k
                b = clo + (chi - clo) * (i + 1) / k
                pieces.append((0, a, b))
        if len(pieces) == 1 and pieces[0][1] == lo and pieces[0][2] == hi:
            return self._eval_region(z, pieces[0][0])
        out = None
        for region, a, b in pieces:
            ball = a.union(b)
            out = _union(out, self._eval_region(_with_const(z, ball), region))
        return out


# ---------------------------------------------------------------- tails of sigma^(k) from sigma's series
def tail_derivative_bound(expr, t, k: int, T, side: int):
    """Certified upper bound (an arb) of ``sup_{side * t >= T} |sigma^(k)(t)|`` from the tail form
    of ``sigma = expr`` (:func:`_tail_form`: ``sigma = G(w)`` there), or None.

    On the tail, ``w`` ranges over a ball ``W0`` (``[0, e^{-alpha T/q}]`` for exponential forms,
    ``[0, 1/T]`` for ``w = 1/|t|``); the Taylor series of ``w`` about any tail point ``xi`` has
    coefficients ``w(xi) kappa^j / j!`` (``kappa = -side alpha/q``), resp. ``(-1)^j side w^(j+1)``,
    each a function of ``w(xi)`` only.  Evaluating ``G`` on that series with ``w(xi)`` replaced
    by the ball ``W0`` encloses ``sigma^(k)(xi)/k!`` for every ``xi`` of the tail at once: no
    symbolic derivative (sympy's 12th derivative of tanh took 30 s).  Uses the current
    precision; needs ``flint.ctx.cap >= k + 1``.
    """
    form = _tail_form(expr, t, side, allow_reduced=False)
    if form is None or form[3] == _TAIL_REDUCED or float(T) < float(form[2]):
        return None
    f, kind = form[0], form[3]
    n = k + 1
    Tb = arb(sp.Rational(T).p) / int(sp.Rational(T).q) if not isinstance(T, arb) else T
    if kind == _TAIL_EXP:
        kappa = compile_arb(form[5], None)(None)          # -side alpha / q
        w_end = (kappa * side * Tb).exp()                  # w(T) = exp(-alpha T / q)
        W0 = arb(0).union(w_end)
        co = [W0]
        for j in range(1, n):
            co.append(co[-1] * kappa / j)
    else:
        # w = side/z: w(xi + s) = sum_j (-1)^j side^j w^(j+1) s^j
        W0 = arb(0).union(1 / Tb)
        co, p = [], W0
        for j in range(n):
            co.append(p if (side == -1 or j % 2 == 0) else -p)
            p = _pow_ball(W0, j + 2)
    old = flint.ctx.cap
    flint.ctx.cap = n
    try:
        val = f(arb_series(co))
        val = val.coeffs() if is_series(val) else [val]
    except (ValueError, ZeroDivisionError):
        return None
    finally:
        flint.ctx.cap = old
    c = val[k] if len(val) > k else arb(0)
    out = abs(c) * math.factorial(k)
    return out.upper() if out.is_finite() else None
