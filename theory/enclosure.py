"""Generic certified enclosures: Taylor boxes, branch and bound, ``sup |f|`` and ``inf |f|``.

This is the engine under :func:`theory.certify` and under
:meth:`theory.activations.Activation.bound` (when sympy finds no closed form).  It knows
nothing of activations or nets: it works on ball-arithmetic evaluators (``arb`` /
``arb_series`` callables, see :mod:`theory._arb`) and sympy expressions.

Taylor boxes
------------
A square gate is a second difference divided by ``d^2 ~ eps``: evaluating it naively
on an interval of width ``h`` gives an enclosure of width ``~ h/d``, useless.  We use
a Taylor form on each box ``c + [-r, r]``:

``e(c + s) = sum_{k<n} e_k(c) s^k + e_n(xi) s^n``,  ``e_k = e^(k)/k!``

The coefficients ``e_k(c)`` at the point ``c`` come from one ``arb_series``
evaluation (the cancellation in the second difference happens at the working
precision, 2^-prec relative, not at the box width); the Lagrange remainder
``e_n(xi)`` from one ``arb_series`` evaluation on the whole box.  The range of the
quadratic part is computed exactly (ends and vertex), the rest bounded termwise
(:func:`eval_box_1d`).

Branch and bound
----------------
:func:`branch_and_bound` refines boxes best-first (largest upper bound first) until the
largest upper bound is within ``rtol`` (relative) / ``atol`` of the best certified lower
bound, or the budget (boxes, deadline) runs out; the bound returned is rigorous either
way.  :func:`branch_and_bound_1d` (bisection of 1-D pieces, each with its own evaluator)
and :func:`branch_and_bound_nd` (a box of R^d split into its ``2^d`` orthants, one box
evaluator) are the two instances.
"""

from __future__ import annotations

import heapq
import math
import time
from fractions import Fraction
from collections.abc import Callable
from itertools import product as _iproduct
from typing import TypeAlias

import flint
import mpmath
import sympy as sp
from flint import arb, arb_series

from . import _budget
from ._arb import _exact_floats, _exp_atoms_to_powers, _exp_rate, _range_reduce, compile_arb, working_prec

__all__ = ["RealLike", 
    "certified_sup_abs",
    "derivative_series",
    "certified_inf_abs",
    "certified_sup_half_line",
    "half_line_tail_bound",
    "branch_and_bound",
    "branch_and_bound_1d",
    "branch_and_bound_nd",
    "BBResult",
    "finite_upper",
    "finite_lower",
    "safe_max",
    "eval_box_1d",
    "tail_bound",
    "to_fraction",
    "arb_of_fraction",
    "arb_of_expr",
    "arb_to_mpf",
]

# certified_sup_abs: sup |f| over R = branch and bound on [-T, T] plus certified tails.
SUP_ABS_T0 = 8.0            # first half-width T of the compact part
SUP_ABS_T_MAX = 1024        # T doubles up to this; beyond it the sup is declared not attained
SUP_ABS_PIECES = 64         # initial pieces of [-T, T] (the loop refines them)
SUP_ABS_ORDER = 5           # Taylor order of the boxes (series length SUP_ABS_ORDER + 1)
SUP_ABS_MAX_BOXES = 20_000  # box budget of one branch and bound on [-T, T]
SUP_ABS_RTOL = 1e-14        # relative gap upper/lower at which the refinement stops
SUP_ABS_PREC = 160          # working precision, bits
SUP_ABS_ATOL = 1e-40        # absolute gap at which it stops too (a function that vanishes)

# certified_inf_abs: plain interval evaluation on a uniform subdivision.
INF_ABS_PIECES = 64         # sub-intervals of [a, b]
INF_ABS_PREC = 128          # working precision, bits


# ====================================================================== conversions
#: a real number as the public functions take it (read exactly: a float at its binary value)
RealLike: TypeAlias = int | float | Fraction | str | sp.Basic


def to_fraction(x: RealLike) -> Fraction:
    """An exact rational (sympy number, int, float or sympy Float at its exact binary value, as
    the ball arithmetic reads it: issue 24) as a Fraction."""
    x = sp.Rational(x)
    return Fraction(int(x.p), int(x.q))


def arb_of_fraction(q: Fraction) -> arb:
    """``q`` as a ball at the current precision (exact when ``q`` is dyadic)."""
    return arb(q.numerator) / q.denominator


def arb_of_expr(e) -> arb:
    """A constant sympy expression as a ball at the current precision."""
    return compile_arb(sp.sympify(e), None)(None)


def arb_to_mpf(x: arb, which: str) -> mpmath.mpf:
    """Rigorous mpf rounding of an arb's lower/upper end (outward)."""
    a = x.lower() if which == "lower" else x.upper()
    if not a.is_finite():
        return mpmath.inf if which == "upper" else mpmath.mpf(0)
    m, e = a.mid().man_exp()
    with mpmath.workprec(max(53, int(m).bit_length() + 8)):
        return mpmath.ldexp(mpmath.mpf(int(m)), int(e))


# ====================================================================== 1-D Taylor boxes
def finite_upper(x) -> arb:
    """``x.upper()`` as an exact arb, or ``+inf`` when ``x`` is NaN or not finite.

    Every upper bound leaving the ball arithmetic goes through this (or :func:`safe_max`):
    a NaN must never be read as a number, and Python's ``max`` silently drops a NaN that is
    not its first argument (``max([arb(1), arb('nan')]) == 1``).
    """
    if not isinstance(x, arb):
        x = arb(x)
    if x.is_nan() or not x.is_finite():
        return arb(math.inf)
    u = x.upper()
    return u if u.is_finite() else arb(math.inf)


def finite_lower(x) -> arb:
    """A certified lower bound ``>= 0`` of a non-negative quantity ``x``: 0 when ``x`` is NaN
    or not finite (a lower bound can always fall back to 0)."""
    if not isinstance(x, arb):
        x = arb(x)
    if x.is_nan() or not x.is_finite():
        return arb(0)
    lo = x.lower()
    return lo if lo > 0 else arb(0)


def safe_max(values) -> arb:
    """Maximum of upper bounds: ``+inf`` as soon as one is NaN or not finite; ``0`` when empty."""
    best = arb(0)
    for v in values:
        u = finite_upper(v)
        if not u.is_finite():
            return u
        if u > best:
            best = u
    return best


def _quad_range_upper(p0, p1, p2, r):
    """Upper bound of ``max_{|s|<=r} |p0 + p1 s + p2 s^2|`` (ends and vertex, in arb)."""
    cands = [abs(p0 + p1 * r + p2 * r * r), abs(p0 - p1 * r + p2 * r * r)]
    if p2.contains(0) or not p2.is_finite():
        cands.append(abs(p0) + abs(p1) * r + abs(p2) * r * r)
    else:
        sv = -p1 / (2 * p2)
        if not sv.is_finite() or sv.overlaps((-r).union(r)):
            cands.append(abs(p0 - p1 * p1 / (4 * p2)))
    return safe_max(cands)


def _as_series(v):
    """An evaluator's result as a series: a constant error function (``2`` for the second
    derivative of ``t**2``) compiles to a plain ball whatever its argument."""
    return v if isinstance(v, arb_series) else arb_series([v])


def eval_box_1d(err, lo: Fraction, hi: Fraction, order: int):
    """``(upper bound of |err| on [lo, hi], certified lower bound of |err| at the midpoint,
    width of the midpoint's ball)``; NaN or non-finite bounds become ``+inf`` (upper) / 0 (lower).

    ``err`` evaluates on ``arb_series``; the series length (``flint.ctx.cap``) must be at
    least ``order + 1``.  Taylor form of order ``order`` about the midpoint (module docstring).
    """
    c = arb_of_fraction((lo + hi) / 2)
    half = arb_of_fraction((hi - lo) / 2)
    r = (half + c.rad()).upper() if c.rad() != 0 else half
    pt = _as_series(err(arb_series([c, 1])))
    co = pt.coeffs()
    co += [arb(0)] * (order - len(co))
    box = arb_of_fraction(lo).union(arb_of_fraction(hi))
    try:
        ball = _as_series(err(arb_series([box, 1])))
        bc = ball.coeffs()
        Rn = bc[order] if len(bc) > order else arb(0)
    except (ValueError, ZeroDivisionError):  # e.g. a denominator ball containing 0: refine
        Rn = arb(0, math.inf)
    up = _quad_range_upper(co[0], co[1] if order > 1 else arb(0), co[2] if order > 2 else arb(0), r)
    if order <= 2:
        up = abs(co[0]).upper() + (abs(co[1]) * r).upper() if order == 2 else abs(co[0]).upper()
    tail = arb(0)
    rk = r ** 3
    for k in range(3, order):
        tail = tail + abs(co[k]) * rk
        rk = rk * r
    tail = tail + abs(Rn) * (r ** order)
    upper = finite_upper(up + tail)
    lower = finite_lower(abs(co[0]))
    return upper, lower, finite_upper(2 * co[0].rad())


# ====================================================================== branch and bound
class _Box:
    __slots__ = ("lo", "hi", "upper", "lower", "noise", "data")

    def __init__(self, lo, hi, upper, lower, noise, data):
        self.lo, self.hi, self.upper, self.lower, self.noise, self.data = lo, hi, upper, lower, noise, data


class BBResult(tuple):
    """``(upper, lower, argmax, n_boxes, converged)`` with two more attributes:

    ``reason``: why the refinement stopped: ``"tight"`` (upper within ``rtol``/``atol`` of the
    lower bound, and decided against ``decide`` when given), ``"boxes"`` / ``"time"`` (budget),
    ``"precision"`` (the largest box bound is dominated by the rounding of its midpoint value:
    bisecting cannot help, more working precision can), ``"pieces"`` (a ReLU net with more
    linear pieces than the box budget: nothing refined, see ``theory.certify``); ``noise``:
    that rounding width; ``pieces`` (``"pieces"`` only, else None): ``(count, layer, n_layers)``
    of the enumeration that stopped.
    """

    pieces: tuple | None = None

    def __new__(cls, upper, lower, argmax, n, converged, reason, noise):
        self = super().__new__(cls, (upper, lower, argmax, n, converged))
        self.reason, self.noise = reason, noise
        return self


def _key(u: arb) -> float:
    """Heap key of an upper bound (``-inf`` for an infinite one: refined first)."""
    f = float(u.mid())
    return -f if math.isfinite(f) else -math.inf


def branch_and_bound(boxes, evaluate, split, center, rtol, atol, max_boxes, deadline=None,
                     decide=None):
    """Best-first refinement of ``sup |e|`` over a union of boxes.

    Parameters
    ----------
    boxes : iterable of (lo, hi, data)
        Initial boxes; ``data`` is handed to ``evaluate`` and inherited by the children.
    evaluate : callable
        ``evaluate(lo, hi, data) -> (upper, lower[, noise])``: an arb upper bound of ``|e|`` on
        the box, a certified lower bound of ``|e|`` at ``center(lo, hi)`` and, optionally, the
        width of the ball of ``e`` at that point (rounding noise).  NaN or non-finite bounds are
        read as ``+inf`` (upper) and 0 (lower), whatever their position.
    split : callable
        ``split(lo, hi) -> [(lo_i, hi_i), ...]``, the children of a box.
    center : callable
        ``center(lo, hi)``, the point the lower bound refers to (reported as the argmax).
    rtol, atol : float
        Stop when the largest upper bound is ``<= best_lower (1 + rtol) + atol`` ...
    decide : float, optional
        ... and, when given, the comparison with ``decide`` is settled (largest upper bound
        ``<= decide`` or best lower bound ``> decide``).
    max_boxes : int
        Budget of box evaluations; ``deadline`` a ``time.perf_counter()`` value.

    Returns
    -------
    BBResult
        ``(upper, lower, argmax, n_boxes, converged)``, plus ``reason`` and ``noise``;
        ``argmax`` is None when no box had a positive lower bound.  ``upper`` is ``+inf``
        whenever any remaining box bound is NaN or infinite.
    """
    heap = []
    best_lower, argmax = arb(0), None
    n = 0
    dec = None if decide is None else arb(decide)

    def push(lo, hi, data):
        nonlocal best_lower, argmax, n
        res = evaluate(lo, hi, data)
        u, lb = finite_upper(res[0]), finite_lower(res[1])
        noise = finite_upper(res[2]) if len(res) > 2 else arb(0)
        n += 1
        if lb > best_lower:
            best_lower, argmax = lb, center(lo, hi)
        heapq.heappush(heap, (_key(u), n, _Box(lo, hi, u, lb, noise, data)))

    for lo, hi, data in boxes:
        push(lo, hi, data)
    converged, reason = True, "tight"
    while heap:
        top = heap[0][2]
        need = best_lower * (1 + arb(rtol)) + arb(atol)
        tight = top.upper <= need
        decided = dec is None or top.upper <= dec or best_lower > dec
        if tight and decided:
            break
        if not tight:
            gap = need - best_lower
        else:
            gap = dec - best_lower
        if (top.upper.is_finite() and top.upper - top.lower <= 2 * top.noise * (1 + arb(1) / 8)
                and 4 * top.noise > gap):
            converged, reason = False, "precision"
            break
        if n >= max_boxes:
            converged, reason = False, "boxes"
            break
        if deadline is not None and time.perf_counter() > deadline:
            converged, reason = False, "time"
            break
        heapq.heappop(heap)
        for lo, hi in split(top.lo, top.hi):
            push(lo, hi, top.data)
    upper = safe_max([b.upper for _, _, b in heap] + [best_lower])
    noise = heap[0][2].noise if heap else arb(0)
    return BBResult(upper, best_lower, argmax, n, converged, reason, noise)


def _bisect(lo, hi):
    mid = (lo + hi) / 2
    return ((lo, mid), (mid, hi))


def _midpoint(lo, hi):
    return (lo + hi) / 2


def _orthants(lo, hi):
    mids = [(a + b) / 2 for a, b in zip(lo, hi)]
    out = []
    for choice in _iproduct((0, 1), repeat=len(lo)):
        clo = tuple(a if ch == 0 else m for a, m, ch in zip(lo, mids, choice))
        chi = tuple(m if ch == 0 else b for b, m, ch in zip(hi, mids, choice))
        out.append((clo, chi))
    return out


def _box_center(lo, hi):
    return tuple((a + b) / 2 for a, b in zip(lo, hi))


def branch_and_bound_1d(parts, order, rtol, atol, max_boxes, deadline=None, decide=None):
    """:func:`branch_and_bound` over 1-D pieces ``(lo, hi, err_fn)`` with :func:`eval_box_1d`.

    Returns a :class:`BBResult` ``(upper, lower, argmax, n_boxes, converged)``.
    """
    def evaluate(lo, hi, fn):
        up, lower, noise = eval_box_1d(fn, lo, hi, order)
        if getattr(fn, "upper_only", False):  # its point values are no certified lower bound
            lower = arb(0)
        return up, lower, noise

    return branch_and_bound(parts, evaluate, _bisect, _midpoint, rtol, atol, max_boxes, deadline,
                            decide)


def branch_and_bound_nd(box, lo0, hi0, rtol, atol, max_boxes, deadline=None, decide=None):
    """:func:`branch_and_bound` on the box ``[lo0, hi0]`` of R^d (tuples of Fractions).

    ``box(lo, hi) -> (upper, lower[, noise])`` evaluates one box (e.g. a Taylor form); NaN
    bounds are ``+inf`` as in 1-D.  The argmax is the centre of the initial box when no box
    had a positive lower bound.
    """
    res = branch_and_bound([(lo0, hi0, None)], lambda lo, hi, _: box(lo, hi), _orthants,
                           _box_center, rtol, atol, max_boxes, deadline, decide)
    if res[2] is None:
        res = BBResult(res[0], res[1], _box_center(lo0, hi0), res[3], res[4], res.reason,
                       res.noise)
    return res


# ====================================================================== sup |f| on the real line
def _exp_to_powers(e, t, w, side: int, q: int):
    """``e`` with every ``exp(a t + b)`` replaced by ``exp(b) w^(-side q a)`` (the substitution
    ``t = -side q log w``, done atom by atom: no expansion of the whole expression), or None
    when some exponent is not linear in ``t`` with ``q a`` an integer, or ``t`` remains."""
    reps = {}
    for ex in e.atoms(sp.exp):
        arg = sp.expand(ex.args[0])
        a = arg.coeff(t)
        b = arg - a * t
        n = -side * q * a
        if b.has(t) or not n.is_Integer:
            return None
        reps[ex] = sp.exp(b) * w ** n
    g = e.xreplace(reps)
    return None if g.has(t) else g


def _gaussian_poly_tail(expr, t, T, side: int, prec: int):
    """Certified bound of ``|expr|`` on ``side t >= T`` for ``expr`` a sum of terms
    ``A t^i exp(a t^2 + b t + c)`` with ``a < 0`` (the derivatives of the Gaussian CDF), or None.

    With ``u = side t``, each term's logarithmic derivative ``i/u + 2 a u + side b`` is negative
    on ``u >= T`` when ``2|a| T^2 - side b T - i > 0`` and ``T >= side b / (4|a|)``; then the term
    is decreasing there and at most its value at ``u = T``.
    """
    e = sp.expand(sp.powsimp(sp.expand(expr), combine="exp"))
    terms = e.args if e.is_Add else (e,)
    Tq = sp.Rational(repr(float(T)))
    total = sp.Integer(0)
    for term in terms:
        const, dep = term.as_independent(t, as_Add=False)
        dep = sp.powsimp(dep, combine="exp")
        i, ex = 0, None
        for f in (dep.args if dep.is_Mul else (dep,)):
            if f == t:
                i += 1
            elif f.is_Pow and f.base == t and f.exp.is_Integer and f.exp > 0:
                i += int(f.exp)
            elif isinstance(f, sp.exp) and ex is None:
                ex = f
            else:
                return None
        if ex is None:
            return None
        try:
            poly = sp.Poly(ex.args[0], t)
        except sp.PolynomialError:
            return None
        if poly.degree() != 2:
            return None
        a, b, c = poly.all_coeffs()
        if not (a.is_number and b.is_number and c.is_number and a.is_negative):
            return None
        bs = side * b
        if not (2 * (-a) * Tq ** 2 - bs * Tq - i > 0 and Tq >= bs / (4 * (-a))):
            return None
        total += abs(const) * Tq ** i * sp.exp(a * Tq ** 2 + bs * Tq + c)
    with working_prec(prec):
        val = arb_of_expr(total)
    return abs(val).upper() if val.is_finite() else None


def tail_bound(expr, t, T: float, side: int, prec: int):
    """Certified bound of ``|expr|`` on ``[T, oo)`` (side=+1) or ``(-oo, -T]`` (side=-1).

    Substitutes ``t = -side q log w`` (exponential activations) or ``t = side / w``
    (algebraic ones) and evaluates the resulting function of ``w`` on the ball
    ``[0, w(T)]`` in Arb; returns None when neither gives a finite enclosure.  The
    exponential substitution is first tried atom by atom (:func:`_exp_to_powers`, then one
    ``cancel`` of a rational function of ``w``: fast for high derivatives), then on the whole
    expression.
    """
    gauss = _gaussian_poly_tail(expr, t, T, side, prec) if expr.has(sp.exp) else None
    if gauss is not None:
        return gauss
    w = sp.Symbol("w", positive=True)
    e = expr.rewrite(sp.exp)
    qs = set()
    for ex in e.atoms(sp.exp):
        coeff = sp.expand(ex.args[0]).coeff(t)
        if coeff != 0 and coeff.is_Rational:
            qs.add(coeff.q)
    cands = []
    if qs:
        q = math.lcm(*qs)
        wmax = sp.exp(-sp.Rational(repr(float(T))) / q)
        fast = _exp_to_powers(e, t, w, side, q)
        if fast is not None:
            cands.append((lambda fast=fast: sp.cancel(sp.together(fast)), wmax))
        sub = -side * q * sp.log(w)
        cands.append((lambda sub=sub: sp.cancel(sp.together(sp.powsimp(sp.expand(e.subs(t, sub)),
                                                                       force=True))), wmax))
    sub = sp.Integer(side) / w
    cands.append((lambda sub=sub: sp.cancel(sp.together(sp.powsimp(sp.expand(e.subs(t, sub)),
                                                                   force=True))),
                  1 / sp.Rational(repr(float(T)))))
    for make, wmax in cands:
        try:
            g = make()
            f = compile_arb(g, w)
            with working_prec(prec):
                wm = arb_of_expr(wmax)
                ball = arb(0).union(wm)
                val = f(ball)
                if val.is_finite():
                    return abs(val).upper()
        except (ValueError, ZeroDivisionError, TypeError):
            continue
    return None


def derivative_series(ball_form, k: int, order: int = SUP_ABS_ORDER):
    """A box evaluator of ``f = sigma^(k)`` from a ball/series form of ``sigma`` (for
    :func:`certified_sup_abs`): one evaluation of ``sigma`` on a series of length
    ``k + order + 1`` gives ``f^(j)(c)/j! = sigma^(k+j)(c)/(k+j)! (k+j)!/j!``, instead of
    evaluating the (large) expression of ``sigma^(k)``; ``ball_form`` is the stable form of
    :func:`theory._arb.activation_arb`, so far-out and wide boxes stay tight."""
    scale = [math.factorial(k + j) // math.factorial(j) for j in range(order + 1)]

    def fn(X):
        co = X.coeffs() if isinstance(X, arb_series) else [X]
        if len(co) > 2 or (len(co) == 2 and co[1] != 1):
            raise ValueError("X: expected the series c + s of a Taylor box")
        old = flint.ctx.cap
        flint.ctx.cap = k + order + 1
        try:
            g = _as_series(ball_form(arb_series([co[0], 1]))).coeffs()
        finally:
            flint.ctx.cap = old
        g += [arb(0)] * (k + order + 1 - len(g))
        return arb_series([g[k + j] * scale[j] for j in range(order + 1)])

    return fn


def certified_sup_abs(expr: sp.Expr | str, symbol: sp.Symbol, T: float = SUP_ABS_T0, rtol: float = SUP_ABS_RTOL,
                      prec: int = SUP_ABS_PREC, deadline: float | None = None, evaluator: Callable | None = None,
                      tail: Callable | None = None) -> tuple:
    """Certified enclosure of ``sup_{t in R} |expr(t)|``: ``(lo, hi, argmax)``.

    Branch and bound with Taylor forms (module docstring) on ``[-T, T]``, and a
    certified bound on the tails ``|t| >= T`` (substitution ``w = e^{-t/q}`` or
    ``w = 1/t``, evaluated in Arb on ``[0, w(T)]``); ``T`` doubles until the tails are
    below the compact part.  Used by :meth:`theory.Activation.bound` when sympy finds no
    closed form (e.g. the sigmoid's ``L_4 ~ 0.1276827``).  ``prec`` is in bits.

    ``deadline`` (a ``time.perf_counter()`` value): the work stops there and raises
    :class:`theory._budget.BudgetExpired` (the caller turns it into a ``TimeoutError`` naming
    its ``time_limit``); the branch and bound checks it between boxes, the symbolic tail
    substitutions through :func:`theory._budget.guard`.  The work returns to Python between
    short Arb calls, so Ctrl-C is delivered promptly.

    ``evaluator`` (optional): a box evaluator of ``expr`` used on the compact part instead of
    the compiled expression (:func:`derivative_series`: ``sigma^(k)`` from ``sigma``'s series);
    ``tail`` (optional): ``tail(T, side)``, an arb bound of ``|expr|`` on ``side t >= T`` or None
    (then :func:`tail_bound` on ``expr``).  ``expr`` may be a callable returning the expression
    (built only when needed: a symbolic 12th derivative can take half a minute).
    """
    if callable(expr) and not isinstance(expr, sp.Basic):
        make, cache = expr, {}

        def get_expr():
            if "e" not in cache:
                cache["e"] = sp.sympify(make())
            return cache["e"]
    else:
        expr = sp.sympify(expr)

        def get_expr():
            return expr
    while T <= SUP_ABS_T_MAX:
        _budget.check(deadline)
        with working_prec(prec, cap=SUP_ABS_ORDER + 1):
            f = compile_arb(get_expr(), symbol) if evaluator is None else evaluator
            Tq = to_fraction(sp.Rational(repr(float(T))))
            cuts = [-Tq + 2 * Tq * i / SUP_ABS_PIECES for i in range(SUP_ABS_PIECES + 1)]
            res = branch_and_bound_1d(
                [(a, b, f) for a, b in zip(cuts[:-1], cuts[1:])], SUP_ABS_ORDER, rtol,
                SUP_ABS_ATOL, SUP_ABS_MAX_BOXES, deadline)
            if res.reason == "time":
                raise _budget.BudgetExpired
            upper, lower, arg, _, _ = res
            tails = [None if tail is None else tail(T, s) for s in (1, -1)]
            with _budget.guard(deadline):
                tails = [tb if tb is not None else tail_bound(get_expr(), symbol, T, s, prec)
                         for tb, s in zip(tails, (1, -1))]
        if any(tb is None for tb in tails):
            raise ValueError(f"expr: cannot certify a bound on the tails of {get_expr()}; "
                             "no closed form and no substitution gave a finite enclosure")
        # tails <= the compact part's certified lower bound: the sup is the compact part's
        # (<=, not <: a constant sigma^(k), e.g. of a polynomial, has equal tails)
        if all(tb <= lower for tb in tails):
            return (arb_to_mpf(lower, "lower"), arb_to_mpf(upper, "upper"),
                    mpmath.mpf(float(arg)) if arg is not None else mpmath.mpf(0))
        T *= 2
    raise ValueError(f"expr: the supremum of |{get_expr()}| is not attained on a bounded interval")


def certified_inf_abs(expr: sp.Expr | str, symbol: sp.Symbol, a: RealLike, b: RealLike, pieces: int = INF_ABS_PIECES,
                      prec: int = INF_ABS_PREC) -> mpmath.mpf:
    """Certified lower bound of ``min_{t in [a, b]} |expr(t)|`` (interval evaluation, subdivided).

    ``prec`` is in bits.
    """
    a, b = to_fraction(a), to_fraction(b)
    with working_prec(prec):
        f = compile_arb(sp.sympify(expr), symbol)
        best = None
        for i in range(pieces):
            lo = a + (b - a) * i / pieces
            hi = a + (b - a) * (i + 1) / pieces
            v = f(arb_of_fraction(lo).union(arb_of_fraction(hi)))
            lb = v.abs_lower()
            best = lb if best is None or lb < best else best
        if best is None:
            raise ValueError(f"pieces: expected at least one piece, got {pieces!r}")
        return arb_to_mpf(best, "lower")


# ====================================================================== sup |f| on a half-line
HALF_LINE_T0 = 16            # first cut T between the compact part [0, T] and the tail
HALF_LINE_T_MAX = 1024       # T doubles up to this while the tail bound dominates
HALF_LINE_PIECES = 32        # initial pieces of [0, T]
HALF_LINE_RTOL = 1e-6        # relative gap of the compact branch and bound
HALF_LINE_MAX_BOXES = 20_000
HALF_LINE_PREC = 128


def _mean_value_tail(G, w, wT, prec):
    """``sup_{0 < w <= wT} |G(w)| / w`` bounded by ``sup |G'([0, wT])|`` (mean value theorem,
    needs ``G(0) = 0``); None when that cannot be shown or the ball is not finite."""
    num, den = sp.fraction(sp.together(G))
    d0 = den.subs(w, 0)
    if d0.is_number and d0 != 0 and num.subs(w, 0).is_number:
        g0 = sp.simplify(num.subs(w, 0) / d0)     # G rational in w, defined at 0
    else:
        try:
            g0 = sp.limit(G, w, 0, "+")
        except Exception:  # pragma: no cover - sympy internals
            return None
    if g0 != 0:
        return None
    # the plain derivative first; simplify (it removes 1/(1 + 2/w) inside atan) only when that
    # is not finite, and for at most MEAN_VALUE_SIMPLIFY_CPU s (with exact binary constants, a
    # float shift 0.3, it ran for minutes and GBs)
    dG = sp.diff(G, w)
    val = _ball_on(dG, w, wT, prec)
    if val is None:
        try:
            with _budget.guard(None, _budget.cpu_deadline_after(MEAN_VALUE_SIMPLIFY_CPU)):
                dG = sp.simplify(dG)
        except _budget.BudgetExpired:
            return None
        val = _ball_on(dG, w, wT, prec)
    return None if val is None else finite_upper(abs(val))


MEAN_VALUE_SIMPLIFY_CPU = 5.0


def _ball_on(e, w, wT, prec):
    """``e`` on the ball ``[0, wT]`` in Arb, or None (not compilable / not finite)."""
    try:
        f = compile_arb(e, w)
        with working_prec(prec):
            val = f(arb(0).union(arb_of_expr(wT)))
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    return val if val.is_finite() else None


def _gaussian_tail(e, v, T, prec):
    """``e = A erfc(c v + b)`` with constants ``A > 0``, ``c > 0``: Mills' ratio
    ``erfc(x) <= exp(-x^2) / (x sqrt(pi))`` (x > 0) gives
    ``v |e| <= A v exp(-(cv+b)^2) / ((cv+b) sqrt(pi))``, decreasing on ``[T, oo)`` (checked), so
    at most its value at ``T``.  None for other forms."""
    A, rest = e.as_coeff_Mul() if e.is_Mul else (sp.Integer(1), e)
    if not isinstance(rest, sp.erfc) or not A.is_number or not A.is_positive:
        return None
    arg = sp.expand(rest.args[0])
    c = arg.coeff(v)
    b = sp.expand(arg - c * v)          # a shift: erfc(c v + b) (issue 24)
    if c == 0 or b.has(v) or not c.is_number or not c.is_positive or not b.is_number:
        return None
    x = c * T + b
    # v e^{-(cv+b)^2} / ((cv+b) sqrt(pi)) decreases on v >= T when cT + b > 0 and
    # 2 c (cT + b) T > 1 (its log-derivative 1/v - 2c(cv+b) - c/(cv+b) is then negative)
    if not (bool(x > 0) and bool(2 * c * x * T > 1)):
        return None
    with working_prec(prec):
        val = arb_of_expr(A * T * sp.exp(-x ** 2) / (x * sp.sqrt(sp.pi)))
    return finite_upper(val) if val.is_finite() else None


def half_line_tail_bound(g, v, T, prec: int = HALF_LINE_PREC):
    """Certified bound of ``sup_{v >= T} |v g(v)|`` for a ``g`` decaying at infinity, or None.

    Gaussian tails ``A erfc(c v)``: Mills' ratio (:func:`_gaussian_tail`).  Otherwise two
    substitutions, each with the mean value theorem ``|G(w)| <= w sup|G'|`` (``G(0) = 0``):
    exponential forms ``v = -q log w``: ``|v g| = q |log w| |G(w)| <= T e^{-T/q} sup |G'|`` on
    ``(0, e^{-T/q}]`` (``w |log w|`` increases up to ``1/e``, so ``T >= q``);
    algebraic forms ``v = 1/w``: ``|v g| = |G(w)|/w <= sup |G'|`` on ``(0, 1/T]``.
    """
    g = _exact_floats(sp.sympify(g))
    w = sp.Symbol("w", positive=True)
    e, Tmin = _range_reduce(g, v, 1)
    if float(T) < float(Tmin):
        return None
    rate = _exp_rate(e, v)
    Tq = sp.Rational(repr(float(T)))
    best = _gaussian_tail(e, v, Tq, prec)
    if best is None and rate is not None and rate[0] is not None:
        # w = exp(-alpha v / q): exp(c v + b) -> e^b w^n (shifts: constant factors; rates:
        # rational multiples of one alpha, e.g. sqrt(2)); w |log w| increases up to 1/e
        alpha, q = rate
        G = _exp_atoms_to_powers(e, v, w, 1, alpha, q)
        if G is not None and bool(alpha * Tq >= q):
            G = sp.cancel(sp.together(G))
            if not G.has(sp.log):
                wT = sp.exp(-alpha * Tq / q)
                s = _mean_value_tail(G, w, wT, prec)
                if s is not None:
                    with working_prec(prec):
                        best = finite_upper(arb_of_expr(Tq * wT) * s)
    if best is None:
        G = sp.cancel(sp.together(sp.expand(e.subs(v, 1 / w))))
        s = _mean_value_tail(G, w, 1 / Tq, prec)
        if s is not None:
            best = s
    return best


def certified_sup_half_line(g, v, T: float = HALF_LINE_T0, rtol: float = HALF_LINE_RTOL,
                            prec: int = HALF_LINE_PREC):
    """Certified upper bound (an mpf) of ``sup_{v >= 0} |v g(v)|``, attained or not.

    Branch and bound with Taylor boxes on ``[0, T]`` and :func:`half_line_tail_bound` beyond;
    ``T`` doubles while the tail bound exceeds the compact part (up to ``HALF_LINE_T_MAX``).
    Used for Theorem 3's step constant ``C = sup_v v |b(v) - H(v)|`` of any activation
    (:func:`theory.gates.step_constant`).  Raises ValueError when no tail bound is found.
    """
    g = sp.sympify(g)
    h = v * g
    best = None
    while T <= HALF_LINE_T_MAX:
        tail = half_line_tail_bound(g, v, T, prec)
        if tail is None:
            T *= 2
            continue
        with working_prec(prec, cap=SUP_ABS_ORDER + 1):
            f = compile_arb(h, v)
            Tq = to_fraction(sp.Rational(repr(float(T))))
            cuts = [Tq * i / HALF_LINE_PIECES for i in range(HALF_LINE_PIECES + 1)]
            res = branch_and_bound_1d([(a, b, f) for a, b in zip(cuts[:-1], cuts[1:])],
                                      SUP_ABS_ORDER, rtol, 0.0, HALF_LINE_MAX_BOXES)
            upper = safe_max([res[0], tail])
        if not upper.is_finite():
            T *= 2
            continue
        cand = arb_to_mpf(upper, "upper")
        best = cand if best is None or cand < best else best
        if tail <= res[0]:
            return best
        T *= 2
    if best is None:
        raise ValueError(f"expr: cannot certify a bound of sup_(v >= 0) |v ({g})|: no tail "
                         "substitution (v = -q log w, v = 1/w) gave a finite enclosure")
    return best
