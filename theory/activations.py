"""Activation functions as exact (sympy) objects with certified derivative bounds.

An :class:`Activation` is built from a sympy expression in one real variable.  It
offers, from that one expression,

* symbolic derivatives ``derivative(k)``;
* ``bound(k)``: ``L_k = sup_t |sigma^(k)(t)|`` (the constants of the paper's
  Assumption 1 and Lemma 2; docs/theory.md), in closed form where the critical points
  of ``sigma^(k)`` can be solved symbolically (small problems only: a size threshold),
  otherwise as a certified enclosure (ball arithmetic over a compact interval plus a
  certified tail bound, :func:`theory.enclosure.certified_sup_abs`); interruptible, with an
  optional ``time_limit``;
* ``limits``: ``sigma(-inf)`` and ``sigma(+inf)``;
* vectorised float64 callables ``__call__``, ``d1``, ``d2`` (numpy).

The built-ins are flagged ``builtin`` and carry a ``ball_form``, the name of a numerically
stable ball-arithmetic form in :data:`theory._arb.BALL_FORMS` used by the certifier.  Which
float64 kernels run an activation is the solver's business (its own registry, keyed by the
activation's name and expression): this module knows nothing of kernels.

Built-ins: :data:`sigmoid` (logistic), :data:`tanh`, :data:`gauss_cdf` (the
Gaussian CDF, ``(1 + erf(t/sqrt 2))/2``), :data:`arctan_sigmoid`
(``1/2 + arctan(t)/pi``) and, outside Assumption 1 (not C^2: :attr:`Activation.assumption_1`
is False and the lemmas that need ``sigma''`` reject them), :data:`relu` and the family
:func:`leaky_relu` (``max(t, alpha t)``) of the related methods.

Importing this module loads neither python-flint nor the certifier: the enclosure
engine is imported on first use of a bound without closed form.
"""

from __future__ import annotations

import ast
import functools
import io
import math
import re
import tokenize
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import mpmath
import numpy as np
import sympy as sp
from sympy.calculus.util import continuous_domain
from sympy.series.gruntz import gruntz

from . import _budget

__all__ = [
    "Activation",
    "Bound",
    "sigmoid",
    "tanh",
    "gauss_cdf",
    "arctan_sigmoid",
    "relu",
    "leaky_relu",
    "BUILTINS",
    "get_activation",
    "activation_from_record",
    "check_record",
]

_t = sp.Symbol("t", real=True)

# Closed-form bounds: candidates are compared at _EXACT_DPS digits; values within
# 10^-_TIE_DIGITS (relative) of the largest are ties (all are argmaxes); the enclosure of
# an exact bound is its value +- 10^-_RADIUS_DIGITS (relative).
_EXACT_DPS = 40
_TIE_DIGITS = 30
_RADIUS_DIGITS = 35

# Closed forms are tried only for small problems: sympy's solveset/simplify grow steeply with
# the size of sigma^(k+1) (the sigmoid's L_5 took 22 s, L_12 over 300 s, mostly to find no
# closed form; gauss_cdf's L_6 over 300 s in solveset).  Above _EXACT_MAX_OPS operations in the
# unsimplified sigma^(k+1) (sigmoid: k <= 3) or above _EXACT_MAX_ORDER, bound(k) returns the
# certified enclosure only.  The enclosure runs first (well under a second); the closed form then
# gets _EXACT_CPU_SECONDS of CPU time (load-independent: the same call finds the same form on a
# busy machine), _EXACT_MAX_SECONDS when it is the built-ins' tested form or no enclosure exists.
_EXACT_MAX_OPS = 32
_EXACT_MAX_ORDER = 5
_EXACT_MAX_SECONDS = 20.0   # CPU seconds: built-ins k <= 3, or when no enclosure exists
_EXACT_CPU_SECONDS = 1.0    # CPU seconds: the short attempt after the enclosure (issue 24)
# Closed forms of the built-ins up to this order are checked by the test suite against an
# independent 30-digit computation (tests/test_activations.py) and skip the run-time
# cross-check: the solver's L_0..L_2 then need no ball arithmetic (no python-flint import).
_TESTED_BUILTIN_ORDER = 3

_x = sp.Symbol("x", real=True)
# Built-ins solving sigma' = P(sigma) (a polynomial P): name -> (P(x), x -> sigma^{-1}(x)).  The
# logistic: sigma' = sigma (1 - sigma), sigma^{-1}(x) = log(x / (1 - x)); tanh: sigma' = 1 - sigma^2,
# sigma^{-1}(x) = log((1 + x) / (1 - x)) / 2 (tests/test_activations.py checks both identities).
# Their closed-form L_k come from polynomial roots (Activation._riccati_candidates).
_RICCATI = {
    "sigmoid": (_x * (1 - _x), lambda r: sp.log(sp.expand(sp.radsimp(r / (1 - r))))),
    "tanh": (1 - _x ** 2, lambda r: sp.log(sp.expand(sp.radsimp((1 + r) / (1 - r)))) / 2),
}

_NONSMOOTH_ATOMS = (sp.Heaviside, sp.DiracDelta, sp.Piecewise, sp.Abs, sp.sign, sp.Max, sp.Min)


def _builtin_named(name) -> Activation | None:
    """The built-in that ``name`` (a name or alias, any case) resolves to, else None (also
    while the built-ins are being made)."""
    builtins = globals().get("BUILTINS")
    if builtins is None or not isinstance(name, str):
        return None
    key = globals().get("_ALIASES", {}).get(name.lower(), name.lower())
    return builtins.get(key)


#: an activation's name: ASCII letters, digits and ``_ . + - ( ) [ ] , * / ^ =``, starting with a
#: letter.  Names are stored in traces, shown in tables and typed on the command line; outside
#: ASCII, combining marks (U+034F, U+FE0F), fillers (U+3164, U+115F, U+2800) and confusable letters
#: (Cyrillic 'а' for Latin 'a') make a name that reads as another one
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.+\-()\[\],*/^=]*")
#: digit and letter pairs that read alike in a table (the skeleton of a name maps them together;
#: after case folding, so 'I' is 'i': i, l, 1 and | all read alike)
_CONFUSABLE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("|", "l"), ("5", "s"))
#: names that mean a built-in elsewhere (scipy's ``expit`` is the logistic, ``ndtr`` and ``Phi``
#: the normal CDF): reserved like the built-ins' names, though they do not resolve to them
_RESERVED_ELSEWHERE = {"expit": "sigmoid", "ndtr": "gauss_cdf", "phi": "gauss_cdf",
                       "normcdf": "gauss_cdf", "normalcdf": "gauss_cdf", "stdnormalcdf": "gauss_cdf"}


def _skeleton(name: str) -> str:
    """What ``name`` reads as: case-folded, only letters and digits, confusable pairs merged."""
    k = re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKC", name).casefold())
    for a, b in _CONFUSABLE:
        k = k.replace(a, b)
    return k


def _check_name(name) -> None:
    """``ValueError`` naming ``name`` unless it is an ASCII name of the form :data:`_NAME`."""
    if not isinstance(name, str) or not name:
        raise ValueError("name: expected a non-empty string")
    if not _NAME.fullmatch(name):
        raise ValueError(f"name: {name!r} is not a plain name; expected ASCII letters, digits and "
                         "'_.+-()[],*/^=' starting with a letter (names are stored in traces, shown "
                         "in tables and typed on the command line, where other characters can make "
                         "one name read as another)")


def _builtin_lookalike(name) -> "Activation | None":
    """The built-in whose name or alias ``name`` reads as (:func:`_skeleton`), else None."""
    builtins = globals().get("BUILTINS")
    if builtins is None or not isinstance(name, str):
        return None
    hit = _builtin_named(name)
    if hit is not None:
        return hit
    # the whole name, and its leading word ('sigmoid(t)', 'tanh*1', 'sigmoid[t]' read as the
    # built-in applied or decorated)
    keys = {_skeleton(name), _skeleton(re.split(r"[^A-Za-z0-9_|]", name, maxsplit=1)[0])}
    pairs = list(globals().get("_ALIASES", {}).items()) + [(b, b) for b in builtins] \
        + list(_RESERVED_ELSEWHERE.items())
    for alias, target in pairs:
        if _skeleton(alias) in keys:
            return builtins[target]
    return None


def _is_leaky_relu(name: str, expr: sp.Expr, t: sp.Symbol) -> bool:
    """Whether ``(name, expr)`` is :func:`leaky_relu`'s own pair ``("leaky_relu(a)", Max(t, a t))``."""
    m = re.fullmatch(r"leaky_relu\((.+)\)", name)
    if m is None:
        return False
    try:
        a = float(m.group(1))
    except ValueError:
        return False
    return 0 < a < 1 and expr == sp.Max(t, sp.Rational(repr(a)) * t)    # the factory's range


def _reserved_name_message(name, builtin, expr) -> str:
    what = "the name of" if name.lower() == builtin.name else (
        "an alias of" if _builtin_named(name) is builtin else "a name that reads as")
    return (f"name: {name!r} is {what} the built-in activation {builtin.name!r} = {builtin.expr}; "
            f"a user activation ({expr}) needs a name of its own: names travel alone (conditions, "
            "traces, checkpoints, the CLI) and resolve to the built-in")


@dataclass(frozen=True)
class Bound:
    """``sup_t |sigma^(k)(t)|`` over the real line.

    Attributes
    ----------
    k : int
        Derivative order.
    exact : sympy.Expr or None
        Closed form of the supremum when one was found.
    enclosure : (mpmath.mpf, mpmath.mpf)
        Certified lower/upper bounds of the supremum (tight when ``exact`` is set).
    argmax : tuple of sympy.Expr
        Points where the supremum is attained; ``(-oo,)`` / ``(oo,)`` when it is
        only approached in a limit (then ``attained`` is False).
    attained : bool
    """

    k: int
    exact: sp.Expr | None
    enclosure: tuple
    argmax: tuple
    attained: bool

    @property
    def value(self) -> float:
        """Upper end of the enclosure as a float (safe to use as a Lipschitz bound)."""
        return float(self.enclosure[1])

    def __float__(self) -> float:  # pragma: no cover - convenience
        return self.value


@dataclass(eq=False, frozen=True)
class Activation:
    """A scalar activation ``sigma(t)`` given by a sympy expression.

    Parameters
    ----------
    name : str
    expr : sympy.Expr
        Expression in ``symbol``.
    symbol : sympy.Symbol
    builtin : bool
        One of this module's built-ins (their closed-form bounds are checked by the test
        suite; the solver has compiled kernels for them).
    ball_form : str or None
        Name of a hand-written stable ball-arithmetic form in
        :data:`theory._arb.BALL_FORMS` (built-ins only); None: the compiled expression.
    """

    name: str
    expr: sp.Expr
    symbol: sp.Symbol = field(default=_t)
    builtin: bool = False
    ball_form: str | None = None
    _numpy_impl: tuple | None = field(default=None, repr=False)
    _bounds: dict = field(default_factory=dict, repr=False)

    def __init_subclass__(cls, **kwargs):
        # the solver, the trace and the conditions trust an Activation to compute its own
        # expression: a subclass could override __call__/d1/d2 (train tanh while recording
        # the logistic) or skip __post_init__'s checks of its name
        raise TypeError(f"{cls.__name__}: theory.Activation cannot be subclassed; build a user "
                        "activation with Activation.from_expr(expr, symbol, name)")

    def __post_init__(self):
        # A name travels alone (Conditions, traces, checkpoints, the CLI) and resolves to the
        # built-in it names: only the built-in's own expression may carry a built-in's name or
        # a name that reads as one; a user activation (built directly, or by from_expr) gets the
        # same checks of its name and of its continuity as from_expr's.
        if self.builtin is not False:
            # built-ins are this module's own objects, made while it loads: a user cannot flag
            # an activation built-in (it would get a built-in's closed-form bounds and kernels)
            if self.builtin is not True or globals().get("BUILTINS") is not None:
                raise ValueError(f"builtin: only theory.activations' own activations are built-ins "
                                 f"({sorted(globals().get('BUILTINS') or [])}); got builtin="
                                 f"{self.builtin!r} for {self.name!r}")
            return
        _check_name(self.name)
        builtin = _builtin_lookalike(self.name)
        if builtin is not None:     # the built-in itself is the only activation with its name
            raise ValueError(_reserved_name_message(self.name, builtin, self.expr)
                             + (f" (use theory.{builtin.name}, or Activation.from_expr, which returns it)"
                                if sp.sympify(self.expr) == builtin.expr else ""))
        # the caches are the module's: a user-given float64 implementation, bound or ball form
        # would be used in place of the expression's (a tanh kernel under sigmoid's formula)
        if self.ball_form is not None or self._bounds:
            raise ValueError(f"ball_form, _bounds: set by theory.activations for its built-ins only; "
                             f"got ball_form={self.ball_form!r}, _bounds={self._bounds!r} for {self.name!r}")
        if self._numpy_impl is not None:     # leaky_relu() sets its own after construction
            raise ValueError(f"_numpy_impl: set by theory.activations only (its built-ins and "
                             f"leaky_relu); {self.name!r} is evaluated from its expression")
        if not isinstance(self.symbol, sp.Symbol):
            raise ValueError(f"symbol: expected a sympy Symbol, got {self.symbol!r}")
        expr = sp.sympify(self.expr)
        if expr.free_symbols - {self.symbol}:
            raise ValueError(f"expr: expected an expression in {self.symbol!r} (the real symbol "
                             f"theory.activations uses), found other symbols {sorted(map(repr, expr.free_symbols - {self.symbol}))} "
                             f"(Symbol('t') without real=True is another symbol); "
                             "build user activations with Activation.from_expr(expr, symbol, name)")
        if _skeleton(self.name).startswith("leakyrelu") and not _is_leaky_relu(self.name, expr, self.symbol):
            raise ValueError(f"name: {self.name!r} reads as theory.leaky_relu's; a user activation "
                             f"({expr}) needs a name of its own")
        found: list = []
        _require_continuous(expr, self.symbol, found)
        # removable points of sigma: sigma evaluates there in float64 (checked), sigma' and
        # sigma'' are continuous there but their float64 forms may not be (exp(-1/t**2): sigma'
        # = 2 exp(-1/t**2)/t**3 is 0/0 at 0); _numpy puts their limits there
        self.__dict__["_removable_points"] = tuple(found)
        # real-valued on R, as the solver evaluates it: sympy reads cbrt(t) = t**(1/3) as the
        # principal (complex) root for t < 0, which its continuity test does not see, and numpy
        # gives nan there; a probe on a grid avoiding the usual special points (0, integers)
        grid = np.linspace(-40.0, 40.0, 401) + 0.0137
        with np.errstate(all="ignore"):
            try:
                vals = np.asarray(self(grid), dtype=float)
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                vals = np.array([np.nan])
        if vals.shape != grid.shape or np.any(np.isnan(vals)):   # inf: float64 overflow, not this
            bad = grid[np.isnan(vals)][0] if vals.shape == grid.shape else float("nan")
            raise ValueError(f"expr: {expr} is not a real number everywhere on R (float64 evaluation "
                             f"gives nan or an error at t = {bad:.4g}); an activation maps R to R "
                             "(Assumption 1)")

    # ------------------------------------------------------------------ build
    @classmethod
    def from_expr(cls, expr: sp.Expr | str, symbol: sp.Symbol, name: str) -> "Activation":
        """Build an activation from a sympy expression ``expr`` in ``symbol``.

        ``name`` must be the activation's own: a built-in's name or alias (``"sigmoid"``,
        ``"logistic"``, ``"tanh"``, ``"erf"``, ... any case) is refused unless ``expr`` is that
        built-in's very expression (then the built-in itself is returned), because names travel
        alone and resolve to the built-in (:func:`activation_from_record`)."""
        _check_name(name)
        expr = sp.sympify(expr)
        if not isinstance(symbol, sp.Symbol):
            raise ValueError(f"symbol: expected a sympy Symbol, got {symbol!r}")
        free = expr.free_symbols
        if free - {symbol}:
            raise ValueError(
                f"expr: expected an expression in the single variable {symbol}, "
                f"found free symbols {sorted(map(str, free))}"
            )
        t = _t
        expr = _readable(expr.subs(symbol, t))
        # a lookalike of a built-in's name ('Gauss-CDF', 'sigm0id', 'tan_h') reads as that name in
        # every table: refused like the name itself
        builtin = _builtin_lookalike(name)
        if builtin is not None:
            if expr == builtin.expr:
                return builtin
            raise ValueError(_reserved_name_message(name, builtin, expr))
        return cls(name=name, expr=expr, symbol=t)     # __post_init__: continuity

    # --------------------------------------------------------------- symbolic
    def derivative(self, k: int = 1) -> sp.Expr:
        """``sigma^(k)`` as a sympy expression (simplified)."""
        if not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"k: expected a non-negative integer, got {k!r}")
        return self._derivs(int(k))

    def _derivs(self, k: int) -> sp.Expr:
        cache = self.__dict__.setdefault("_deriv_cache", {0: self.expr})
        if k not in cache:
            prev = self._derivs(k - 1)
            cache[k] = sp.simplify(sp.diff(prev, self.symbol))
        return cache[k]

    @cached_property
    def is_smooth(self) -> bool:
        """True when ``sigma''`` is an ordinary (non-distributional, atom-free) expression.

        The unsimplified derivatives are looked at first (``simplify`` removes such atoms at
        most, it does not bring them in; it cost the shifted tanh 1.4 s); only when they show one
        are the simplified ones asked (``Abs`` can cancel: ``sqrt(t**2 + Abs(t)**2)``)."""
        raw = [sp.diff(self.expr, self.symbol, k) for k in (0, 1, 2)]
        if not any(d.has(*_NONSMOOTH_ATOMS) for d in raw):
            return True
        for k in (0, 1, 2):
            if self.derivative(k).has(*_NONSMOOTH_ATOMS):
                return False
        return True

    @cached_property
    def is_linear(self) -> bool:
        """True when ``sigma''`` vanishes identically."""
        if not self.is_smooth:
            return False
        return sp.simplify(self.derivative(2)) == 0

    @property
    def assumption_1(self) -> bool:
        """Whether sigma has the form Assumption 1 asks for: twice continuously
        differentiable and nonlinear (False for :data:`relu` and :func:`leaky_relu`); the
        boundedness of sigma, sigma', sigma'' is for the user of the constants to check
        (:meth:`bound`)."""
        return self.is_smooth and not self.is_linear

    @cached_property
    def limits(self) -> tuple:
        """``(sigma(-oo), sigma(+oo))`` as sympy numbers (possibly infinite)."""
        return (_limit_at(self.expr, self.symbol, -sp.oo), _limit_at(self.expr, self.symbol, sp.oo))

    def require_smooth(self, argname: str = "activation", order: int = 2) -> None:
        """Raise ``ValueError`` unless sigma is C^order and nonlinear (Assumption 1 / lemmas)."""
        if not self.is_smooth:
            raise ValueError(
                f"{argname}: expected a twice continuously differentiable activation "
                f"(Assumption 1), got {self.name!r}, which is not smooth"
            )
        if self.is_linear:
            raise ValueError(
                f"{argname}: expected a nonlinear activation (sigma'' not identically zero), "
                f"got {self.name!r}, which is linear"
            )

    # ----------------------------------------------------------------- bounds
    def bound(self, k: int, time_limit: float | None = None) -> Bound:
        """``L_k = sup_t |sigma^(k)(t)|`` (paper Assumption 1, Lemma 2), exact where possible.

        The certified enclosure comes first (:func:`theory.enclosure.certified_sup_abs`:
        ``sigma^(k)`` from one Taylor series of ``sigma``'s stable ball form on ``[-T, T]``,
        the tails from ``sigma``'s tail form; a fraction of a second even for ``k = 12``).
        Then, for small problems only (at most ``_EXACT_MAX_OPS`` operations in
        ``sigma^(k+1)`` and ``k <= _EXACT_MAX_ORDER``), a short closed-form attempt
        (``_EXACT_CPU_SECONDS`` of CPU time: the real critical points of ``sigma^(k)`` from
        ``sympy.solveset``, the largest of ``|sigma^(k)|`` there and at the two limits), kept
        only when the enclosure contains it (``solveset`` missed ``t = 0`` for the sigmoid's
        ``L_5``).  The built-ins' closed forms up to ``k = 3`` are tried first and not
        cross-checked (checked by the test suite: the solver's ``L_0..L_2`` load no ball
        arithmetic).  When no enclosure exists (a supremum approached only at infinity,
        ``L_0``; tails no substitution bounds) the closed form gets ``_EXACT_MAX_SECONDS``.

        ``time_limit`` (seconds, or None): the work stops there with a ``TimeoutError``
        naming ``time_limit``.  Ctrl-C interrupts at any point (``KeyboardInterrupt``).
        Results are cached per ``k``; an interrupted or timed-out call caches nothing.
        """
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise ValueError(f"k: expected a non-negative integer, got {k!r}")
        k = int(k)
        time_limit = _budget.check_time_limit(time_limit)
        if k in self._bounds:
            return self._bounds[k]
        deadline = _budget.deadline_after(time_limit)
        if k >= 1 and not self.is_smooth:
            raise ValueError(
                f"k: the derivative of order {k} of {self.name!r} is not a function "
                "(the activation is not smooth)"
            )
        poly = self._polynomial_bound(k)
        if poly is not None:
            self._bounds[k] = poly
            return poly
        twin = self._builtin_twin()
        if twin is not None:     # the same expression: the built-in's (tested) constants
            tb = twin.bound(k, time_limit)
            self._bounds[k] = tb
            return tb
        how = "the certified enclosure ran out of time"
        try:
            b: Bound | None = None
            feasible = self._closed_form_feasible(k)
            if feasible and (k == 0 or self.builtin and k <= _TESTED_BUILTIN_ORDER):
                # L_0 is usually a limit at infinity (no enclosure: the sup is not attained)
                b = self._try_exact(k, deadline, _EXACT_MAX_SECONDS)
            if b is None:
                try:
                    encl = self._enclosed_bound(k, deadline)
                    no_encl = None
                except ValueError as exc:      # no certified tail bound / sup not attained
                    encl, no_encl = None, exc
                how = "the closed form ran out of time"
                if feasible:
                    b = self._try_exact(k, deadline, _EXACT_CPU_SECONDS if encl is not None
                                        else _EXACT_MAX_SECONDS)
                if b is not None and encl is not None and b.exact is not sp.oo:
                    lo, hi = encl.enclosure
                    if not (lo <= b.enclosure[1] and b.enclosure[0] <= hi):
                        b = None               # a closed form that missed a critical point
                if b is None:
                    if encl is None:
                        raise no_encl or ValueError(f"k: no bound of order {k}")  # no_encl is set here
                    b = encl
        except _budget.BudgetExpired:
            raise _budget.timeout_error(f"{self.name}.bound({k})", time_limit, how) from None
        self._bounds[k] = b
        return b

    def _builtin_twin(self) -> "Activation | None":
        """The built-in whose expression is structurally identical to this one (a user copy of
        the sigmoid), or None; compared without simplification (cheap, deterministic)."""
        if self.builtin:
            return None
        for act in BUILTINS.values():
            if act.symbol == self.symbol and act.expr == self.expr:
                return act
        return None

    def _polynomial_bound(self, k: int) -> Bound | None:
        """``L_k`` of a polynomial ``sigma`` exactly (issue 24: ``t**2`` is no sigmoid, but gets a
        clear answer): ``sigma^(k)`` of degree >= 1 is unbounded (``oo``, approached at
        infinity), a constant ``c`` gives ``|c|`` attained everywhere (argmax ``0``); None when
        ``sigma`` is not a polynomial."""
        t = self.symbol
        if not self.expr.is_polynomial(t):
            return None
        fk = sp.expand(sp.diff(self.expr, t, k))
        if fk.has(t):
            return Bound(k, sp.oo, (mpmath.inf, mpmath.inf), (-sp.oo, sp.oo), False)
        v = sp.Abs(fk)
        with mpmath.workdps(_EXACT_DPS):
            ev = mpmath.mpf(sp.N(v, _EXACT_DPS))
        return Bound(k, v, (ev, ev) if v.is_Rational else
                     (ev * (1 - mpmath.mpf(10) ** -_RADIUS_DIGITS),
                      ev * (1 + mpmath.mpf(10) ** -_RADIUS_DIGITS)), (sp.Integer(0),), True)

    def _try_exact(self, k: int, deadline, cpu_seconds: float) -> Bound | None:
        """The closed form of ``L_k`` within ``cpu_seconds`` of CPU time (and ``deadline``), or
        None.  A wall-clock deadline passing raises :class:`theory._budget.BudgetExpired`."""
        cpu_deadline = _budget.cpu_deadline_after(cpu_seconds)
        try:
            with _budget.guard(deadline, cpu_deadline):
                return self._exact_bound(k)
        except _budget.BudgetExpired:
            if _budget.expired(deadline):
                raise
            return None

    def _closed_form_feasible(self, k: int) -> bool:
        """Whether the closed form of ``L_k`` is worth trying (the size threshold above)."""
        if k > _EXACT_MAX_ORDER:
            return False
        raw = sp.diff(self.expr, self.symbol, k + 1)
        return sp.count_ops(raw) <= _EXACT_MAX_OPS

    def L(self, k: int, time_limit: float | None = None) -> float:
        """Float upper bound of ``L_k`` (for use in step-size/curvature rules)."""
        return self.bound(k, time_limit).value

    def _exact_bound(self, k: int) -> Bound | None:
        cands = self._riccati_candidates(k)
        if cands is None:
            cands = self._solveset_candidates(k)
        if cands is None:
            return None
        return _bound_from_candidates(k, cands)

    def _solveset_candidates(self, k: int) -> list | None:
        """``(|sigma^(k)(c)|, c, attained)`` at the real critical points ``c`` of ``sigma^(k)``
        (``sympy.solveset`` on ``sigma^(k+1)``) and the limits at ``-oo``, ``+oo``; None when
        solveset gives no finite set."""
        t = self.symbol
        fk = self.derivative(k)
        try:
            crit = sp.solveset(sp.diff(fk, t), t, domain=sp.S.Reals)
        except Exception:  # pragma: no cover - sympy internals
            return None
        if not isinstance(crit, sp.FiniteSet):
            if crit == sp.S.EmptySet:
                crit = sp.FiniteSet()
            else:
                return None
        cands = []
        for c in crit:
            v = sp.simplify(sp.Abs(fk.subs(t, c)))
            cands.append((v, c, True))
        for inf in (-sp.oo, sp.oo):
            cands.append((_abs_limit(fk, t, inf), inf, False))
        return cands

    def _riccati_candidates(self, k: int) -> list | None:
        """The candidates of :meth:`_solveset_candidates` by polynomial algebra, for a built-in
        with ``sigma' = P(sigma)`` (:data:`_RICCATI`; the logistic and tanh), up to
        ``_TESTED_BUILTIN_ORDER``; else None.

        ``sigma^(k) = P_k(sigma)`` with ``P_0 = x``, ``P_{k+1} = P_k' P`` (chain rule).  ``P > 0``
        on the open range ``(a, b)`` of ``sigma`` (its limits at ``-oo``, ``+oo``), so ``sigma``
        is an increasing bijection of the real line onto ``(a, b)`` and
        ``sup_t |sigma^(k)(t)| = sup_{a<x<b} |P_k(x)|``: the largest of ``|P_k|`` at the real roots
        of ``P_k'`` in ``(a, b)`` (attained at ``t = sigma^{-1}(x)``) and at ``a``, ``b`` (limits,
        not attained).  Same set of values as solveset's route, in milliseconds instead of
        seconds (sympy's ``solveset``/``limit``/``simplify`` on ``sigma^(k)``)."""
        form = _RICCATI.get(self.name) if self.builtin else None
        if form is None or k > _TESTED_BUILTIN_ORDER:
            return None
        P, inverse = form
        x = _x
        Pk = x
        for _ in range(k):
            Pk = sp.expand(sp.diff(Pk, x) * P)
        a, b = self.limits
        dP = sp.Poly(sp.diff(Pk, x), x)
        roots = sp.real_roots(dP) if dP.degree() > 0 else []
        crit = sorted({r for r in roots if bool(r > a) and bool(r < b)}, key=lambda r: float(r))
        cands = [(sp.Abs(sp.radsimp(Pk.subs(x, r))), inverse(r), True) for r in crit]
        cands += [(sp.Abs(Pk.subs(x, a)), -sp.oo, False), (sp.Abs(Pk.subs(x, b)), sp.oo, False)]
        return cands

    def _enclosed_bound(self, k: int, deadline: float | None = None) -> Bound:
        # Downward lazy import (enclosure does not import activations): keeps python-flint
        # and the enclosure engine out of ``import theory.activations``.
        from ._arb import activation_arb, tail_derivative_bound  # noqa: PLC0415 - import time (see above; tests/test_theory_imports.py)
        from .enclosure import certified_sup_abs, derivative_series  # noqa: PLC0415 - import time (see above; tests/test_theory_imports.py)

        # the unsimplified derivative (for the tails): cheap, and defined wherever sigma is
        # (sympy's simplified forms of the sigmoid's sigma^(6+) divide by sinh(t/2), a removable
        # singularity at 0); on the compact part sigma^(k) comes from sigma's Taylor series in
        # its stable ball form (one series evaluation instead of the large expression)
        # and on the tails from sigma's tail form (_arb.tail_derivative_bound); the symbolic
        # sigma^(k) is built only when that form does not apply (Gaussian tails)
        def fk():
            with _budget.guard(deadline):
                return sp.diff(self.expr, self.symbol, k)

        def tail(T, side):
            with _budget.guard(deadline):
                return tail_derivative_bound(self.expr, self.symbol, k, T, side)

        ev = derivative_series(activation_arb(self), k)
        lo, hi, arg = certified_sup_abs(fk, self.symbol, deadline=deadline, evaluator=ev,
                                        tail=tail)
        return Bound(k, None, (lo, hi), (arg,), bool(hi > 0))

    # ---------------------------------------------------------------- float64
    def _numpy(self) -> tuple:
        if self._numpy_impl is None:
            fs = tuple(
                sp.lambdify(self.symbol, self.derivative(j), modules=["scipy", "numpy"])
                for j in (0, 1, 2)
            )
            fs = tuple(_patched(f, [(p, lims[j]) for p, lims in self.__dict__.get("_removable_points", ())])
                       for j, f in enumerate(fs))
            object.__setattr__(self, "_numpy_impl", fs)   # a cache of a frozen object
            return fs
        return self._numpy_impl

    def __call__(self, x):
        """``sigma(x)`` elementwise in float64."""
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(self._numpy()[0](x), x.shape).astype(np.float64, copy=False)

    def d1(self, x):
        """``sigma'(x)`` elementwise in float64."""
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(self._numpy()[1](x), x.shape).astype(np.float64, copy=False)

    def d2(self, x):
        """``sigma''(x)`` elementwise in float64."""
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(self._numpy()[2](x), x.shape).astype(np.float64, copy=False)

    def mp(self, k: int = 0) -> Callable:
        """``sigma^(k)`` as an mpmath callable (for high-precision evaluation)."""
        return sp.lambdify(self.symbol, self.derivative(k), modules="mpmath")

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, {self.expr})"

    def __hash__(self) -> int:
        return hash((self.name, sp.srepr(self.expr)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Activation) and self.name == other.name and self.expr == other.expr


def _bound_from_candidates(k: int, cands: list) -> Bound | None:
    """The bound from ``(value, point, attained)`` candidates: the largest value (ties within
    ``10^-_TIE_DIGITS`` are all argmaxes), in closed form with an enclosure of
    ``10^-_RADIUS_DIGITS`` relative radius."""
    if any(not v.is_real and v not in (sp.oo,) for v, _, _ in cands):
        return None
    if any(v == sp.oo for v, _, _ in cands):
        return Bound(k, sp.oo, (mpmath.inf, mpmath.inf), (), False)
    with mpmath.workdps(_EXACT_DPS):
        vals = [mpmath.mpf(sp.N(v, _EXACT_DPS)) for v, _, _ in cands]
    top = max(vals)
    tol = mpmath.mpf(10) ** -_TIE_DIGITS * max(1, abs(top))
    winners = [(v, c, att) for (v, c, att), fv in zip(cands, vals) if abs(fv - top) <= tol]
    attained = any(att for _, _, att in winners)
    exact = _closed_form(winners[0][0])
    argmax = tuple(
        sorted({_closed_form_point(c) for _, c, att in winners if att or not attained},
               key=lambda z: float(z))
    )
    with mpmath.workdps(_EXACT_DPS):
        ev = mpmath.mpf(sp.N(exact, _EXACT_DPS))
        eps = mpmath.mpf(10) ** -_RADIUS_DIGITS * max(1, abs(ev))
        encl = (ev - eps, ev + eps)
    return Bound(k, exact, encl, argmax, attained)


def _require_continuous(expr: sp.Expr, t: sp.Symbol, found: list | None = None) -> None:
    """``ValueError`` naming ``expr`` unless ``expr`` is shown continuous on the whole real line.

    A pole (``csch(t)``, ``coth(t)``), a branch jump (``1/2 - acot(t)/pi``, ``atan(1/t)``) or a
    step (``sign``, ``Heaviside``, a ``Piecewise`` whose pieces do not meet, ``floor``) is no
    activation (Assumption 1 needs bounded derivatives on all of R), and the closed-form bounds,
    which look only at critical points and the limits at +-oo, would miss it (``csch``: "L_0 =
    0").  Shown by :func:`_continuity`: sympy's ``continuous_domain`` where it decides, with each
    point it leaves out accepted only as a removable singularity in the strict sense of
    :func:`_removable` (``exp(-1/t**2)`` at 0; not ``(1/2)**(1/t)``, whose left limit sympy gets
    wrong, nor ``sin(t)/t``, which numpy evaluates as nan at 0), else structurally (sums,
    products, integer powers and compositions of functions continuous on R, ``erf(2 t + 1)``),
    else for a piecewise form (``sign``, ``Heaviside``, ``Min``/``Max`` rewritten) by checking
    each piece on the intervals where it holds and comparing both one-sided limits with the value
    at every breakpoint.  What none of these decides is refused too, with that said: a
    continuity the toolkit cannot establish is not assumed.

    If it returns, ``expr`` is continuous on R and its float64 evaluation is finite and equal to
    the continuous function at every point sympy's ``continuous_domain`` left out of the whole
    expression; those points go to ``found`` as ``(p, (L_0, L_1, L_2))``, the limits of
    ``sigma^(k)`` there (``sigma`` and ``sigma''`` continuous at ``p``)."""
    verdict, why = _continuity(expr, t, found)
    if verdict == "yes":
        return
    if verdict == "no":
        raise ValueError(f"expr: {expr} is not continuous on the real line ({why}); an activation must "
                         "be defined and smooth on all of R (Assumption 1)")
    raise ValueError(f"expr: cannot establish that {expr} is continuous on the real line ({why}); an "
                     "activation must be defined and smooth on all of R (Assumption 1): rewrite it "
                     "with functions continuous on R (exp, tanh, atan, erf, sqrt of a positive "
                     "argument, ...)")


#: functions continuous on the whole real line (as functions of a real argument): a composition
#: ``f(g)`` with ``g`` continuous on R is continuous on R
_CONTINUOUS_ON_R = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.tanh, sp.sech, sp.atan, sp.asinh,
                    sp.erf, sp.erfc, sp.erfi, sp.Abs, sp.Min, sp.Max, sp.sinc)
#: atoms that may jump: handled through their piecewise form
_STEP_ATOMS = (sp.Heaviside, sp.sign, sp.Piecewise, sp.floor, sp.ceiling, sp.frac, sp.DiracDelta)


def _continuity(e: sp.Expr, t: sp.Symbol, found: list | None = None) -> tuple[str, str]:
    """``("yes" | "no" | "unknown", why)``: whether ``e`` is continuous on all of R.  The
    removable points of ``e`` itself (not of its parts) are appended to ``found``."""
    if t not in e.free_symbols:
        return ("yes", "") if e.is_finite else ("no", f"the constant {e} is not finite")
    try:
        dom = continuous_domain(e, t, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        dom = None
    if dom is not None:
        if dom == sp.S.Reals:
            return "yes", ""
        gaps = sp.S.Reals - dom
        if isinstance(gaps, sp.FiniteSet):
            for p in sorted(gaps, key=lambda q: float(q)):
                lims, why = _removable(e, t, p)
                if lims is None:
                    return "no", why
                if found is not None:
                    found.append((p, lims))
            return "yes", ""                # exp(-1/t**2) at 0
        return "no", f"sympy: continuous on {dom} only"
    parts: list[sp.Expr] | None = None
    if isinstance(e, (sp.Add, sp.Mul)):
        parts = list(e.args)
    elif isinstance(e, sp.Pow):
        base, ex = e.args
        if ex.is_Integer and ex >= 0:
            parts = [base]
        elif t not in ex.free_symbols and base.is_positive:
            parts = [base]
        elif t not in base.free_symbols and base.is_positive:
            parts = [ex]                    # c**g = exp(g log c)
    elif isinstance(e, _CONTINUOUS_ON_R):
        parts = list(e.args)
    if parts is not None:
        verdicts = [_continuity(a, t) for a in parts]
        if all(v == "yes" for v, _ in verdicts):
            return "yes", ""
    if e.has(*_STEP_ATOMS):
        return _piecewise_continuity(e, t)
    if parts is not None:
        bad = [w for v, w in verdicts if v != "yes"]
        return "unknown", bad[0] if bad else "sympy cannot decide"
    return "unknown", f"sympy cannot decide the continuity of {e}"


@functools.lru_cache(maxsize=256)
def _continuity_memo(e: sp.Expr, t: sp.Symbol) -> tuple[str, str]:
    """:func:`_continuity` of a piece, asked once per piece (intervals and breakpoints)."""
    return _continuity(e, t)


def _continuity_on(piece: sp.Expr, t: sp.Symbol, lo, hi) -> tuple[str, str]:
    """Whether ``piece`` is continuous on the open interval ``(lo, hi)`` (ends may be +-oo):
    sympy's ``continuous_domain`` there (points it leaves out must be removable,
    :func:`_removable`), else :func:`_continuity` on all of R.  A piece of a ``Piecewise`` needs
    no more than this: ``1/t`` where ``t > 1``, ``sqrt(t)`` where ``t > 0``."""
    if t not in piece.free_symbols:
        return ("yes", "") if piece.is_finite else ("no", f"the constant {piece} is not finite")
    on_r = _continuity_memo(piece, t)             # most pieces: continuous on all of R (fast)
    if on_r[0] == "yes":
        return on_r
    interval = sp.Interval.open(lo, hi)
    try:
        dom = continuous_domain(piece, t, interval)
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        return on_r
    if dom == interval:
        return "yes", ""
    gaps = interval - dom
    if isinstance(gaps, sp.FiniteSet):
        for p in gaps:
            lims, why = _removable(piece, t, p)
            if lims is None:
                return "no", why
        return "yes", ""
    return "no", f"sympy: continuous on {dom} only, within {interval}"


def _piecewise_continuity(e: sp.Expr, t: sp.Symbol) -> tuple[str, str]:
    """Continuity of an expression with steps (``sign``, ``Heaviside``, ``Piecewise``, ``Min``,
    ``Max``): every piece continuous on the open intervals between breakpoints (real roots of a
    condition's ``lhs - rhs``) where it is the piece that holds, and at every breakpoint both
    one-sided limits (each of the piece holding on that side: :func:`_one_sided_limit`) equal the
    value there, which the float64 evaluation reproduces."""
    try:
        pw = sp.piecewise_fold(e.rewrite(sp.Piecewise))
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        return "unknown", f"cannot rewrite {e} piecewise"
    if pw.has(sp.floor, sp.ceiling, sp.frac, sp.DiracDelta):
        return "unknown", "floor, ceiling, frac or DiracDelta of a variable argument"
    if not isinstance(pw, sp.Piecewise):
        return ("unknown", f"sympy cannot decide the continuity of {e}") if pw.has(*_STEP_ATOMS) \
            else _continuity(pw, t)
    points: set = set()
    for piece, cond in pw.args:
        for rel in cond.atoms(sp.core.relational.Relational):
            g = rel.lhs - rel.rhs
            if _continuity(g, t)[0] != "yes":   # a condition changes only where g crosses 0
                return "unknown", f"the breakpoint condition {rel} is not continuous in t"
            try:
                roots = sp.solveset(g, t, sp.S.Reals)
            except (NotImplementedError, ValueError, TypeError):
                return "unknown", f"cannot solve the breakpoint condition {rel}"
            if roots is sp.S.EmptySet:
                continue
            if not isinstance(roots, sp.FiniteSet):
                return "unknown", f"the breakpoints of {rel} are {roots}"
            points |= set(roots)
    pts = sorted(points, key=lambda q: float(q))

    def active(q):
        """The piece that holds at ``q`` (Piecewise: the first true condition), or None."""
        for piece, cond in pw.args:
            c = cond.subs(t, q)
            if c is sp.true or c is True:
                return piece
            if not (c is sp.false or c is False):
                return None
        return None

    # the conditions change only at the breakpoints, so one piece holds on each open interval
    # between them; sympy.limit of the Piecewise itself is unreliable there (it gave 0 for both
    # one-sided limits of sign at 0), so each side's limit is taken of the piece holding there
    ends = [-sp.oo] + pts + [sp.oo]
    tests = [pts[0] - 1] + [(a + b) / 2 for a, b in zip(pts, pts[1:])] + [pts[-1] + 1] if pts \
        else [sp.S.Zero]
    held = [active(q) for q in tests]
    if any(h is None for h in held):
        return "unknown", f"cannot decide which piece of {pw} holds between its breakpoints {pts}"
    for k, piece in enumerate(held):
        v, why = _continuity_on(piece, t, ends[k], ends[k + 1])
        if v != "yes":
            return v, f"the piece {piece} on ({ends[k]}, {ends[k + 1]}): {why}"
    f64 = None
    for k, p in enumerate(pts):
        at = active(p)
        if at is None:
            return "unknown", f"cannot decide which piece of {pw} holds at t = {p}"
        at = at.subs(t, p)
        if not at.is_finite:
            return "no", f"the value at t = {p} is {at}"
        lo, why_lo = _side_value(held[k], t, p, "-")
        hi, why_hi = _side_value(held[k + 1], t, p, "+")
        if lo is None or hi is None:
            return "no", why_lo or why_hi
        if sp.simplify(lo - hi) != 0 or sp.simplify(lo - at) != 0:
            return "no", f"a jump at t = {p}: left limit {lo}, value {at}, right limit {hi}"
        if f64 is None:
            f64 = _float64_function(pw, t)
        why = _float64_mismatch(f64, p, at)
        if why:
            return "no", f"at the breakpoint t = {p}, {why}"
    return "yes", ""


#: the numeric probe of a one-sided limit: mpmath at _PROBE_DPS digits at p -+ 10^-2j,
#: j = 1.._PROBE_STEPS; the distance to the limit must shrink over the last _PROBE_SHRINK_STEPS
#: (h = 10^-6 .. 10^-12; farther out two terms can cancel by chance) by _PROBE_SHRINK at least
#: each step, or lie below the working precision, and end within _PROBE_TOL (relative to
#: max(1, |limit|)): a wrong limit keeps a constant or growing distance, a true one shrinks (by
#: 10^-2 a step for a Lipschitz function, 10^-1 for sqrt(t) at 0, whose last distance is 1e-6).  The float64 value at a removable point must match the limit
#: within _F64_RTOL (relative to max(1, |limit|)).
_PROBE_DPS = 60
_PROBE_STEPS = 6
_PROBE_TOL = 1e-3
_PROBE_SHRINK = 0.9
_PROBE_SHRINK_STEPS = 4
_F64_RTOL = 1e-12


def _one_sided_limit(f: sp.Expr, t: sp.Symbol, p, side: str):
    """``(L, "")`` with ``L = lim f(t)`` as ``t -> p`` from ``side`` (``"-"`` or ``"+"``), finite and
    confirmed by evaluation, or ``(None, why)``.  sympy's one-sided limits alone are not trusted:
    it gave 0 for both sides of ``(1/2)**(1/t)`` at 0, whose left limit is +oo (1.27e30 at
    ``t = -0.01``).  Confirmed means: ``f`` at ``p -+ h``, ``h = 10^-2, 10^-4, ..., 10^-12``, in
    mpmath at 60 digits, is real, its distance to ``L`` shrinks at each step from ``h = 10^-6`` on
    (by 0.9 at least, or is below the working precision), and the last is within ``1e-3 max(1, |L|)``."""
    where = "left" if side == "-" else "right"
    if t not in f.free_symbols:
        return (f, "") if f.is_finite else (None, f"the constant {f} is not finite")
    try:
        # terms of a sum continuous on R contribute their value at p (sympy's limit of the whole
        # sum took a minute for sigma'' of tanh(t) + exp(-1/(t - sqrt(2))**2)/10)
        terms = sp.Add.make_args(f)
        smooth = [a for a in terms if _continuous_on_reals(a, t)] if len(terms) > 1 else []
        rest = sp.Add(*[a for a in terms if a not in smooth])
        lim = sp.Add(*[a.subs(t, p) for a in smooth]) + sp.limit(rest, t, p, side)
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        return None, f"sympy cannot take the {where} limit of {f} at t = {p}"
    if not (lim.is_finite and lim.is_real):
        return None, f"the {where} limit of {f} at t = {p} is {lim}"
    try:
        with mpmath.workdps(_PROBE_DPS):
            fm = sp.lambdify(t, f, modules="mpmath")
            pm = mpmath.mpf(str(sp.N(p, _PROBE_DPS + 10)))
            target = mpmath.mpf(str(sp.N(lim, _PROBE_DPS + 10)))
            tol = _PROBE_TOL * max(1, abs(target))
            sign = -1 if side == "-" else 1
            dist = []
            for j in range(1, _PROBE_STEPS + 1):
                h = mpmath.mpf(10) ** (-2 * j)
                v = fm(pm + sign * h)
                if isinstance(v, mpmath.mpc):
                    if abs(v.imag) > mpmath.mpf(10) ** (-_PROBE_DPS // 2) * max(1, abs(v)):
                        return None, f"{f} is not real {where} of t = {p} (at {mpmath.nstr(pm + sign * h, 8)}: {mpmath.nstr(v, 8)})"
                    v = v.real
                if not mpmath.isfinite(v):
                    return None, f"{f} is {v} at t = {mpmath.nstr(pm + sign * h, 15)}"
                dist.append(abs(v - target))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, NameError) as err:
        return None, f"{f} cannot be evaluated {where} of t = {p} ({type(err).__name__}: {err})"
    slack = mpmath.mpf(10) ** (-_PROBE_DPS // 2) * max(1, abs(target))
    tail = dist[-_PROBE_SHRINK_STEPS:]
    grows = any(b > max(_PROBE_SHRINK * a, slack) for a, b in zip(tail, tail[1:]))
    if grows or dist[-1] > tol:
        return None, (f"sympy gives {lim} as the {where} limit of {f} at t = {p}, but the values "
                      f"there do not approach it: |f - {lim}| = "
                      + ", ".join(mpmath.nstr(d, 3) for d in dist)
                      + f" at t = {p} {side} 10^-2, ..., 10^-{2 * _PROBE_STEPS}")
    return lim, ""


def _continuous_on_reals(e: sp.Expr, t: sp.Symbol) -> bool:
    """sympy's ``continuous_domain`` of ``e`` is all of R (no removable-point search)."""
    if t not in e.free_symbols:
        return bool(e.is_finite)
    try:
        return continuous_domain(e, t, sp.S.Reals) == sp.S.Reals
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        return False


def _side_value(piece: sp.Expr, t: sp.Symbol, p, side: str):
    """The limit of ``piece`` at ``p`` from ``side``: its value there when ``piece`` is continuous
    on all of R (:func:`_continuity`), else :func:`_one_sided_limit` (``1/t`` where ``t > 1``)."""
    if _continuity_memo(piece, t)[0] == "yes":
        v = piece.subs(t, p)
        return (v, "") if v.is_finite else (None, f"{piece} is {v} at t = {p}")
    return _one_sided_limit(piece, t, p, side)


def _float64_function(f: sp.Expr, t: sp.Symbol):
    """The float64 evaluation of ``f``, built as :meth:`Activation._numpy` builds it."""
    return sp.lambdify(t, f, modules=["scipy", "numpy"])


def _float64_mismatch(fn, p, lim) -> str:
    """``""`` when the float64 evaluation ``fn`` at ``float(p)`` is finite and within
    ``1e-12 max(1, |lim|)`` of ``lim``, else what it gives."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = complex(np.asarray(fn(np.float64(float(p))), dtype=np.complex128))
    except Exception as err:  # noqa: BLE001 - any failure of the float64 path is a refusal
        return f"the float64 evaluation (numpy) fails there ({type(err).__name__}: {err})"
    want = float(lim)
    if not (np.isfinite(v.real) and np.isfinite(v.imag)) or v.imag != 0 \
            or abs(v.real - want) > _F64_RTOL * max(1.0, abs(want)):
        return f"the float64 evaluation (numpy) gives {v.real if v.imag == 0 else v} there, not the limit {lim}"
    return ""


def _patched(f: Callable, points: list) -> Callable:
    """``f`` with the value ``L`` at each ``(p, L)`` of ``points`` where ``f(float(p))`` is not
    within ``1e-12 max(1, |L|)`` of ``L`` (a removable point of sigma where the float64 form of
    ``sigma'`` or ``sigma''`` is 0/0); ``f`` itself when there is none."""
    fix = [(float(p), float(L)) for p, L in points if _float64_mismatch(f, p, L)]
    if not fix:
        return f

    def g(x):
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.array(np.broadcast_to(f(x), x.shape), dtype=np.float64)
        for p, L in fix:
            v[x == p] = L
        return v
    return g


def _removable(expr: sp.Expr, t: sp.Symbol, p) -> tuple:
    """``((L_0, L_1, L_2), "")`` when ``expr`` has a removable singularity at ``p`` in the strict
    sense below, else ``(None, why)``.

    If this returns limits, then (a) sympy's one-sided limits of ``sigma = expr`` at ``p`` agree
    and are finite (``L_0``); (b) ``sigma`` evaluated at 60 digits at ``p -+ 10^-2j``, ``j = 1..6``
    approaches ``L_0`` from both sides (:func:`_one_sided_limit`); (c) the float64 evaluation
    numpy builds from ``expr`` is finite at ``float(p)`` and within ``1e-12 max(1, |L_0|)`` of
    ``L_0``; and (a), (b) hold for ``sigma'`` and ``sigma''`` too (limits ``L_1``, ``L_2``), so
    ``sigma`` extends twice continuously differentiably over ``p`` (Assumption 1).  ``sin(t)/t``
    fails (c) (numpy: nan at 0; ``sinc(t)`` is the same function without the hole);
    ``t sin(1/t)`` fails (c) and, rewritten, would fail (b) for ``sigma'``."""
    lims = []
    f = expr
    for k in range(3):
        if k:
            f = sp.diff(f, t)
        name = "sigma" + "'" * k
        lo, why_lo = _one_sided_limit(f, t, p, "-")
        hi, why_hi = _one_sided_limit(f, t, p, "+")
        if lo is None or hi is None:
            return None, f"{name} = {f} is not continuous at t = {p}: {why_lo or why_hi}"
        if sp.simplify(lo - hi) != 0:
            return None, f"{name} jumps at t = {p}: left limit {lo}, right limit {hi}"
        if k == 0:
            why = _float64_mismatch(_float64_function(f, t), p, lo)
            if why:
                return None, (f"{expr} has a removable singularity at t = {p} (limit {lo}) but {why}"
                              f" (numpy evaluates it as written, e.g. 0/0 = nan): rewrite it so that "
                              f"it is defined at t = {p}, e.g. sinc(t) for sin(t)/t, or Piecewise((q, t < {p}), ({lo}, t <= {p}), "
                              f"(q, True)) for the quotient q")
        lims.append(lo)
    return tuple(lims), ""


def _limit_at(f: sp.Expr, t: sp.Symbol, inf) -> sp.Expr:
    """``lim f(t)`` as ``t -> inf`` (``+-oo``), checked against ``f`` far out.

    Probe first: ``sympy.limit``'s answer ``a`` is taken when it is finite and matches ``f`` at
    ``t = +-10^6`` (30 digits) within ``1e-6 (1 + |f|)``.  Otherwise (an infinite limit, or a
    mismatch: ``sympy.limit``'s heuristics gave 1 for ``(1 + erf(t/2 + 7/10))/2`` at ``-oo``,
    the true limit 0) the bare Gruntz algorithm is run: when the two agree that is the limit;
    when they differ, the one that matches the probe is taken; if neither or both do,
    ``ValueError`` naming ``expr``.  (The Gruntz cross-check on every limit cost the shifted
    tanh's ``L_0`` 2.2 s; the probe costs milliseconds.)  Hyperbolic functions are rewritten in
    exponentials for ``sympy.limit`` (an identity; 0.1 s instead of 1.3 s for the shifted tanh)."""
    # hyperbolic functions in exponentials: the same function, and sympy's limit of the shifted
    # tanh's exp form takes 0.1 s instead of 1.3 s (the probe below checks the answer either way)
    hyper = f.has(sp.tanh, sp.sinh, sp.cosh, sp.sech, sp.csch, sp.coth)
    a = sp.limit(f.rewrite(sp.exp) if hyper else f, t, inf)
    far = sp.sign(inf) * 10 ** 6
    try:
        probe = sp.N(f.subs(t, far), 30)
    except (TypeError, ValueError, ZeroDivisionError):  # pragma: no cover - sympy internals
        probe = sp.nan

    def matches(c):
        """``c`` a finite real number within 1e-6 (1 + |probe|) of the probe (an AccumBounds,
        ``sin``'s "limit", never matches)."""
        if c.has(sp.AccumBounds) or not (c.is_finite and c.is_real and probe.is_finite and probe.is_real):
            return False
        try:
            return bool(abs(sp.N(c, 30) - probe) <= sp.Float("1e-6", 30) * (1 + abs(probe)))
        except TypeError:            # an undecidable comparison: no match
            return False

    if matches(a):
        return a
    try:
        b = gruntz(f, t, inf)
    except (NotImplementedError, ValueError, TypeError, RecursionError):
        return a
    if a == b or (a.is_finite and b.is_finite and abs(sp.N(a - b, 30)) <= 1e-25 * (1 + abs(sp.N(a, 30)))):
        return a                           # the same limit (an exact 1 and a Float 1.0 too)
    close = [c for c in (a, b) if matches(c)]
    if len(close) == 1:
        return close[0]
    raise ValueError(f"expr: sympy's limits of {f} at {inf} disagree ({a} and {b}) and the value at "
                     f"t = {far} ({sp.N(probe, 8)}) does not decide; rewrite the expression")


def _abs_limit(f: sp.Expr, t: sp.Symbol, inf) -> sp.Expr:
    """``lim |f(t)|`` as ``t -> inf``: ``|lim f|`` when ``lim f`` exists in the extended reals
    (``|.|`` is continuous there; gruntz on ``f`` alone is 3-10x faster than on ``Abs(f)``, the
    shifted tanh's ``L_0`` took 4.5 s), else the limit of ``|f|`` itself."""
    lim = _limit_at(f, t, inf)
    if lim.is_extended_real and not lim.has(sp.AccumBounds):
        return sp.Abs(lim)
    return sp.limit(sp.Abs(f), t, inf)


def _closed_form(v: sp.Expr) -> sp.Expr:
    """Canonical closed form of a constant: hyperbolic/log forms rewritten and denested."""
    if v.is_Rational or v.is_infinite:
        return v
    try:
        w = sp.radsimp(sp.sqrtdenest(sp.simplify(v.rewrite(sp.exp))))
    except Exception:  # pragma: no cover - sympy internals
        return v
    return w if sp.count_ops(w) <= sp.count_ops(v) else v


def _closed_form_point(c: sp.Expr) -> sp.Expr:
    if c.is_infinite:
        return c
    return sp.simplify(sp.expand_log(c, force=True))


# --------------------------------------------------------------------- builtins
def _builtin(name, expr, numpy_fs, ball_form=None) -> Activation:
    return Activation(name=name, expr=expr, symbol=_t, builtin=True, ball_form=ball_form,
                      _numpy_impl=numpy_fs)


# scipy.special is imported inside the float64 functions that use it (a downward lazy
# import: it is slow to import and ``import theory.activations`` should stay light).
def _np_sigmoid():
    def f(x):
        from scipy.special import expit  # noqa: PLC0415 - import time of scipy.special (see above; tests/test_theory_imports.py)

        return expit(x)

    def d1(x):
        from scipy.special import expit  # noqa: PLC0415 - import time of scipy.special (see above; tests/test_theory_imports.py)

        s = expit(x)
        return s * (1.0 - s)

    def d2(x):
        from scipy.special import expit  # noqa: PLC0415 - import time of scipy.special (see above; tests/test_theory_imports.py)

        s = expit(x)
        return -s * (1.0 - s) * np.tanh(0.5 * np.asarray(x))  # 1 - 2s = -tanh(x/2)

    return (f, d1, d2)


def _np_tanh():
    def d1(x):
        th = np.tanh(x)
        return 1.0 - th * th

    def d2(x):
        th = np.tanh(x)
        return -2.0 * th * (1.0 - th * th)

    return (np.tanh, d1, d2)


def _np_gauss_cdf():
    c = 1.0 / math.sqrt(2.0 * math.pi)

    def f(x):
        from scipy.special import ndtr  # noqa: PLC0415 - import time of scipy.special (see above; tests/test_theory_imports.py)

        return ndtr(x)

    def d1(x):
        return c * np.exp(-0.5 * np.square(x))

    def d2(x):
        return -x * c * np.exp(-0.5 * np.square(x))

    return (f, d1, d2)


def _np_arctan():
    def f(x):
        return 0.5 + np.arctan(x) / np.pi

    def d1(x):
        return 1.0 / (np.pi * (1.0 + np.square(x)))

    def d2(x):
        return -2.0 * x / (np.pi * np.square(1.0 + np.square(x)))

    return (f, d1, d2)


def _np_relu():
    def f(x):
        return np.maximum(x, 0.0)

    def d1(x):
        return (np.asarray(x) > 0).astype(np.float64)

    def d2(x):
        return np.zeros_like(np.asarray(x, dtype=np.float64))

    return (f, d1, d2)


sigmoid = _builtin("sigmoid", 1 / (1 + sp.exp(-_t)), _np_sigmoid(), "logistic")
tanh = _builtin("tanh", sp.tanh(_t), _np_tanh(), "tanh")
gauss_cdf = _builtin("gauss_cdf", (1 + sp.erf(_t / sp.sqrt(2))) / 2, _np_gauss_cdf())
arctan_sigmoid = _builtin("arctan", sp.Rational(1, 2) + sp.atan(_t) / sp.pi, _np_arctan())
relu = _builtin("relu", sp.Max(0, _t), _np_relu(), "relu")


def _np_leaky_relu(alpha):
    def f(x):
        return np.maximum(x, alpha * x)

    def d1(x):
        # the right derivative at 0 is 1; alpha there is one element of the Clarke
        # subdifferential [alpha, 1] (the inexact ALM's choice)
        return np.where(x > 0, 1.0, alpha)

    def d2(x):
        return np.zeros_like(np.asarray(x, dtype=np.float64))

    return (f, d1, d2)


def leaky_relu(alpha: float | sp.Basic) -> Activation:
    """``sigma(t) = max(t, alpha t)``, ``0 < alpha < 1`` (the inexact ALM's activation).

    Outside Assumption 1 (not differentiable at 0).  ``alpha`` is kept exact as the decimal
    it is written as (``0.1`` is 1/10); the name is ``leaky_relu(<repr(alpha)>)`` (exact: the name says the expression); ``d1`` takes
    ``alpha`` at ``t = 0``.  Raises ``ValueError`` naming ``alpha`` outside ``(0, 1)``.
    """
    if (not isinstance(alpha, (int, float, np.integer, np.floating)) or isinstance(alpha, bool)
            or not 0 < float(alpha) < 1):
        raise ValueError(f"alpha: expected a number in the open interval (0, 1), got {alpha!r}")
    a = float(alpha)
    act = Activation(name=f"leaky_relu({a!r})", expr=sp.Max(_t, sp.Rational(repr(a)) * _t), symbol=_t)
    # its float64 kernels (d1 takes alpha at 0): set here, never by a caller (__post_init__
    # refuses a user-given _numpy_impl, which would replace the expression's values)
    object.__setattr__(act, "_numpy_impl", _np_leaky_relu(a))
    return act

BUILTINS: dict[str, Activation] = {
    a.name: a for a in (sigmoid, tanh, gauss_cdf, arctan_sigmoid, relu)
}
_ALIASES = {"logistic": "sigmoid", "erf": "gauss_cdf", "gauss": "gauss_cdf", "atan": "arctan",
            "arctan_sigmoid": "arctan"}


#: the names a stored expression may use (what ``str`` of an activation's expression prints):
#: the symbol ``t``; real constants; sympy's real elementary and special functions of a real
#: argument.  ``I`` (complex values), ``zoo``/``nan`` and every other name are refused;
#: :meth:`Activation.from_expr` refuses an expression whose printed form uses anything else.
_STORED_CONSTANTS = {"pi": math.pi, "E": math.e, "GoldenRatio": (1 + math.sqrt(5)) / 2,
                     "EulerGamma": 0.5772156649015329, "Catalan": 0.915965594177219,
                     "TribonacciConstant": 1.8392867552141612, "True": 1.0, "False": 0.0}
_STORED_FUNCTIONS = frozenset({
    "exp", "log", "sqrt", "cbrt", "root", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos",
    "atan", "acot", "asec", "acsc", "atan2", "sinh", "cosh", "tanh", "coth", "sech", "csch",
    "asinh", "acosh", "atanh", "acoth", "asech", "acsch", "erf", "erfc", "erfi", "erf2", "erfinv",
    "erfcinv", "Abs", "sign", "Max", "Min", "Heaviside", "Piecewise", "besselj", "gamma",
    "loggamma", "sinc", "Rational", "Integer", "Float"})
_STORED_NAMES = frozenset({"t", "oo"} | set(_STORED_CONSTANTS) | _STORED_FUNCTIONS)
_STORED_OPS = frozenset({"+", "-", "*", "/", "**", "(", ")", ",", "<", ">", "<=", ">=", "==", "!="})
#: limits on a stored expression, checked before anything is evaluated: evaluating an expression
#: can explode (``9**9**9`` is a 369-million-digit integer, ``gamma(10**8)`` a factorial, a
#: 100000-deep ``-(-(...))`` exhausts the stack); an activation's printed form is far inside them
_MAX_EXPR_CHARS = 4000     # characters of the string
_MAX_EXPR_NODES = 1000     # nodes of its syntax tree
_MAX_EXPR_DEPTH = 100      # nesting depth of that tree
_MAX_INT_DIGITS = 30       # digits of an integer literal (floats: any finite decimal)
_INT_LIMIT = 10 ** _MAX_INT_DIGITS   # the least integer with more digits
_MAX_EXPONENT = 100        # |p| of a numeric exponent in b**p
_MAX_SPECIAL_ARG = 170     # |x| of a numeric argument of gamma / loggamma / besselj (order)
_SPECIAL = frozenset({"gamma", "loggamma", "besselj"})
_NUMBER_LITERAL = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FLOAT_OF = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos,
             "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
             "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "asinh": math.asinh,
             "acosh": math.acosh, "atanh": math.atanh, "erf": math.erf, "erfc": math.erfc,
             "gamma": math.gamma, "loggamma": math.lgamma, "Abs": abs, "Integer": float,
             "Float": float, "Rational": lambda p, q=1.0: p / q, "Max": max, "Min": min,
             "atan2": math.atan2, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x)}


def _check_stored_tokens(text: str) -> None:
    """Refuse a stored expression with anything but decimal numbers, the names of
    ``_STORED_NAMES`` and arithmetic: ``sympify`` evaluates its input with Python's ``eval``, so a
    trace or checkpoint file (untrusted data) must not reach it with attribute access, strings,
    subscripts or other names (``__import__('os').system(...)``), nor with complex, hex or
    underscored literals."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise ValueError(f"expression: cannot tokenize {text!r} ({exc})") from None
    for tok in toks:
        if tok.type == tokenize.NUMBER and _NUMBER_LITERAL.fullmatch(tok.string):
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.NAME and tok.string in _STORED_NAMES:
            continue
        if tok.type == tokenize.OP and tok.string in _STORED_OPS:
            continue
        raise ValueError(f"expression: {tok.string!r} is not allowed in a stored activation expression "
                         f"(decimal numbers, arithmetic, the constants {sorted(_STORED_CONSTANTS)} and "
                         f"the functions {sorted(_STORED_FUNCTIONS)} only)")


def _parse_stored_tree(text: str) -> ast.Expression:
    """The syntax tree of a stored expression (nothing runs), refused when the string has more
    than ``_MAX_EXPR_CHARS`` characters or does not parse."""
    if len(text) > _MAX_EXPR_CHARS:
        raise ValueError(f"expression: {len(text)} characters, more than the {_MAX_EXPR_CHARS} "
                         "a stored activation expression may have")
    try:
        return ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        raise ValueError(f"expression: cannot parse {text[:80]!r} ({type(exc).__name__}: "
                         f"{str(exc)[:80]})") from None


def _check_tree_size(tree: ast.Expression) -> None:
    """At most ``_MAX_EXPR_NODES`` syntax nodes and depth ``_MAX_EXPR_DEPTH`` (measured without
    recursion)."""
    nodes = list(ast.walk(tree))
    if len(nodes) > _MAX_EXPR_NODES:
        raise ValueError(f"expression: {len(nodes)} syntax nodes, more than the {_MAX_EXPR_NODES} "
                         "a stored activation expression may have")
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:                                   # depth without recursion
        node, d = stack.pop()
        if d > _MAX_EXPR_DEPTH:
            raise ValueError(f"expression: nested deeper than {_MAX_EXPR_DEPTH} levels")
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))


def _has_t(node) -> bool:
    """Whether the sub-tree mentions ``t`` (or ``oo``): its value is not a float64 constant."""
    return any(isinstance(n, ast.Name) and n.id in ("t", "oo") for n in ast.walk(node))


_NOT_CONST = object()   # the "value" of a sub-expression that depends on t


class _ConstantFolder:
    """The float64 value of each ``t``-free sub-expression of a stored expression (``_NOT_CONST``
    for one that depends on ``t``), memoised per node, refusing with a ``ValueError`` that
    names the part: a disallowed node, a long integer, a non-finite constant, a too large
    exponent or special-function argument, a division by zero."""

    def __init__(self, text: str):
        self.text = text.strip()
        self.values: dict = {}

    def seg(self, node) -> str:
        """The source of ``node`` (at most 60 characters) for messages."""
        s = ast.get_source_segment(self.text, node) or ast.dump(node)
        return s if len(s) <= 60 else s[:57] + "..."

    def value(self, node):
        memo = self.values.get(id(node))
        if memo is not None:
            return memo
        v = self._value(node)
        self.values[id(node)] = v
        return v

    def _value(self, node):
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand)
            return v if v is _NOT_CONST else (-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            return self._binop(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ValueError(f"expression: {self.seg(node)} ({type(node).__name__}) is not allowed in a "
                         "stored activation expression")

    def _constant(self, node):
        """A literal: a bool, an integer of at most ``_MAX_INT_DIGITS`` digits, a finite float."""
        v = node.value
        if isinstance(v, bool):
            return float(v)
        if isinstance(v, int):
            if len(str(v)) > _MAX_INT_DIGITS:
                raise ValueError(f"expression: the integer {self.seg(node)} has more than "
                                 f"{_MAX_INT_DIGITS} digits")
            return float(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(f"expression: the number {self.seg(node)} is not finite in float64")
            return v
        raise ValueError(f"expression: the literal {self.seg(node)} is not a real number")

    def _name(self, node):
        """``t`` and ``oo`` are not constants; the names of ``_STORED_CONSTANTS`` are."""
        if node.id == "t" or node.id == "oo":
            return _NOT_CONST
        if node.id in _STORED_CONSTANTS:
            return _STORED_CONSTANTS[node.id]
        raise ValueError(f"expression: the name {node.id!r} is not a value")

    def _binop(self, node):
        """``a op b`` for ``+ - * / **``; a numeric exponent ``|p| <= _MAX_EXPONENT``, a
        ``t``-free exponent finite; a constant result finite in float64."""
        a, b = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Pow) and b is not _NOT_CONST and abs(b) > _MAX_EXPONENT:
            raise ValueError(f"expression: the exponent {self.seg(node.right)} in {self.seg(node)} exceeds "
                             f"{_MAX_EXPONENT} in absolute value")
        if isinstance(node.op, ast.Pow) and b is _NOT_CONST and not _has_t(node.right):
            raise ValueError(f"expression: the exponent {self.seg(node.right)} in {self.seg(node)} has no "
                             "finite numeric value")
        if a is _NOT_CONST or b is _NOT_CONST:
            return _NOT_CONST
        try:
            if isinstance(node.op, ast.Pow):
                v = float(a) ** float(b)
                v = v.real if isinstance(v, complex) else v
            else:
                v = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op))
                v = a / b if v is None else v
        except ZeroDivisionError:
            raise ValueError(f"expression: {self.seg(node)} divides by zero") from None
        except OverflowError:
            v = math.inf
        return self._finite(node, v)

    def _compare(self, node):
        """A comparison chain of ``< > <= >= == !=`` (its operands checked; never a constant)."""
        if not all(isinstance(o, (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq, ast.NotEq))
                   for o in node.ops):
            raise ValueError(f"expression: the comparison {self.seg(node)} is not allowed")
        for c in [node.left] + node.comparators:
            self.value(c)
        return _NOT_CONST

    def _call(self, node):
        """A call of ``_STORED_FUNCTIONS`` without keywords (tuples only inside ``Piecewise``);
        a numeric argument of ``gamma``/``loggamma``/``besselj`` ``|x| <= _MAX_SPECIAL_ARG``;
        a constant result finite in float64."""
        fn = node.func.id if isinstance(node.func, ast.Name) else None
        if fn not in _STORED_FUNCTIONS or node.keywords:
            raise ValueError(f"expression: the call {self.seg(node)} is not allowed")
        args = []
        for a in node.args:
            if isinstance(a, ast.Tuple) and fn == "Piecewise":
                for e in a.elts:
                    self.value(e)
                args.append(_NOT_CONST)
            else:
                args.append(self.value(a))
        if fn in _SPECIAL:
            for a, v in zip(node.args, args):
                if v is not _NOT_CONST and abs(v) > _MAX_SPECIAL_ARG:
                    raise ValueError(f"expression: the argument {self.seg(a)} of {fn} exceeds "
                                     f"{_MAX_SPECIAL_ARG} in absolute value")
        if any(v is _NOT_CONST for v in args) or fn not in _FLOAT_OF:
            return _NOT_CONST
        try:
            v = float(_FLOAT_OF[fn](*args))
        except OverflowError:
            v = math.inf
        except (ValueError, TypeError, ZeroDivisionError):
            return _NOT_CONST       # outside the real domain: sympy's value is not read back
        return self._finite(node, v)

    def _finite(self, node, v):
        if not math.isfinite(v):
            raise ValueError(f"expression: the constant {self.seg(node)} is too large "
                             "(not finite in float64)")
        return v


def _check_stored_tree(text: str) -> None:
    """Refuse, before anything is evaluated, a stored expression whose evaluation can explode.

    The string is parsed to a Python syntax tree (nothing runs) and walked: at most
    ``_MAX_EXPR_NODES`` nodes and depth ``_MAX_EXPR_DEPTH``; operators ``+ - * / **``, unary
    ``-``/``+``, comparisons, calls of ``_STORED_FUNCTIONS`` (tuples only inside ``Piecewise``);
    integer literals of at most ``_MAX_INT_DIGITS`` digits, floats finite.  Every sub-expression
    free of ``t`` is valued in float64 and must stay finite (``9**9**9``, ``gamma(10**8)``,
    ``Rational(10**10**8, 3)`` do not); a numeric exponent satisfies ``|p| <= _MAX_EXPONENT``
    (sympy raises exact rationals to it) and a numeric argument of ``gamma``/``loggamma``/
    ``besselj`` ``|x| <= _MAX_SPECIAL_ARG``.  ``ValueError`` names the offending part."""
    tree = _parse_stored_tree(text)
    _check_tree_size(tree)
    folder = _ConstantFolder(text)
    # post-order so that the memo fills bottom-up and no recursion is deeper than one level
    order: list[ast.AST] = []
    todo: list[ast.AST] = [tree.body]
    while todo:
        n = todo.pop()
        order.append(n)
        todo.extend(ast.iter_child_nodes(n))
    callees = {id(n.func) for n in order if isinstance(n, ast.Call)}
    for n in reversed(order):
        if isinstance(n, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.Tuple)):
            continue
        if id(n) not in callees:
            folder.value(n)


def _parse_expr(expr):
    """A stored expression (sympy or its ``str``, in ``t``) as a sympy expression in real ``t``.

    A string comes from a file: it is checked token by token (:func:`_check_stored_tokens`) and as
    a syntax tree (:func:`_check_stored_tree`: size, depth, literal and exponent limits) before
    sympy evaluates it; ``RecursionError``/``MemoryError`` become ``ValueError``."""
    if isinstance(expr, sp.Basic):
        e = expr
    else:
        text = str(expr)
        if len(text) > _MAX_EXPR_CHARS:
            raise ValueError(f"expression: {len(text)} characters, more than the {_MAX_EXPR_CHARS} "
                             "a stored activation expression may have")
        _check_stored_tokens(text)
        _check_stored_tree(text)
        try:
            e = sp.sympify(text.strip(), locals={"t": _t})
        except (RecursionError, MemoryError) as exc:
            raise ValueError(f"expression: too large to evaluate ({type(exc).__name__})") from None
    if not isinstance(e, sp.Expr):
        raise ValueError(f"expected an expression in t, got {e!r} ({type(e).__name__})")
    free = {str(x) for x in e.free_symbols}
    if free - {"t"}:
        raise ValueError(f"expected an expression in t, found free symbols {sorted(free)}")
    return e.subs({x: _t for x in e.free_symbols})


def _readable(expr: sp.Expr) -> sp.Expr:
    """``expr`` (in real ``t``) when its printed form reads back as ``expr`` itself, else
    ``ValueError``: an activation travels as ``str(expr)`` (traces, checkpoints, the CLI) and is
    rebuilt by :func:`_parse_expr`, so :meth:`Activation.from_expr` accepts only what survives
    that trip (no ``I``/complex values, only the names of ``_STORED_NAMES``, within the size
    limits of :func:`_check_stored_tree`).  Floats are kept as the decimals they print as
    (``str`` shows 15 significant digits of a float64)."""
    # An integer or rational of more than _MAX_INT_DIGITS digits would be refused on reading
    # back (_check_stored_tree), and beyond 4300 digits Python cannot even print it (a bare
    # "Exceeds the limit ... for integer string conversion" ValueError naming no argument):
    # sympy evaluates gamma(2000), 7**9000, (3/7)**9000 to such numbers.  Refuse by magnitude,
    # before printing anything.
    for r in expr.atoms(sp.Rational):
        if abs(int(r.p)) >= _INT_LIMIT or int(r.q) >= _INT_LIMIT:
            part = "numerator" if abs(int(r.p)) >= _INT_LIMIT else "denominator"
            digits = int(max(abs(int(r.p)), int(r.q)).bit_length() * math.log10(2)) + 1
            raise ValueError(f"expr: it evaluates to a number whose {part} has about {digits} digits, "
                             f"more than the {_MAX_INT_DIGITS} a stored activation expression may have; "
                             "write the constant as a float or an unevaluated function of small numbers")
    floats = expr.atoms(sp.Float)
    if floats:
        expr = expr.xreplace({f: sp.Float(str(f)) for f in floats})
    text = str(expr)
    try:
        back = _parse_expr(text)
    except (sp.SympifyError, ValueError, TypeError, SyntaxError) as exc:
        raise ValueError(f"expr: its printed form {text[:120]!r} would not be read back from a trace "
                         f"or checkpoint ({exc}); use real constants and the functions listed") from None
    if back != expr:
        raise ValueError(f"expr: its printed form {text[:120]!r} reads back as {str(back)[:120]!r}, "
                         "another expression; write it so that it prints as itself")
    return expr


def _same_expr(a: sp.Expr, b: sp.Expr) -> bool:
    """True when ``a`` and ``b`` are the same function of ``t``: equal as trees, or (after a
    numeric test at a few points that catches most differences cheaply) ``simplify(a - b) == 0``."""
    if a == b:
        return True
    fa, fb = (sp.lambdify(_t, e, modules="mpmath") for e in (a, b))
    with mpmath.workdps(30):
        for x in ("-3.7", "-1.1", "-0.3", "0.2", "0.9", "2.6"):
            try:
                va, vb = mpmath.mpmathify(fa(mpmath.mpf(x))), mpmath.mpmathify(fb(mpmath.mpf(x)))
            except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
                continue
            if abs(va - vb) > mpmath.mpf(10) ** -20 * max(1, abs(va)):
                return False
    try:
        return sp.simplify((a - b).rewrite(sp.erf)) == 0
    except Exception:  # pragma: no cover - sympy internals
        return False


def check_record(act: Activation, name: str, expr: str | None = None, argname: str = "activation") -> Activation:
    """``act`` when the stored pair ``(name, expr)`` describes it, else ``ValueError``.

    The name must be ``act``'s (a built-in's alias counts as its name); the stored expression,
    when there is one, must be the same function as ``act.expr`` (:func:`_same_expr`)."""
    same_name = (name == act.name or (_builtin_named(name) is not None
                                      and _builtin_named(name) is _builtin_named(act.name)))
    if not same_name:
        raise ValueError(f"{argname}: the stored activation is named {name!r}"
                         + (f" = {expr}" if expr is not None else "")
                         + f", not {act.name!r} = {act.expr}; refusing the mismatch")
    if expr is not None:
        try:
            stored = _parse_expr(expr)
        except (sp.SympifyError, ValueError, TypeError, SyntaxError) as exc:
            raise ValueError(f"{argname}: the stored expression {str(expr)[:80]!r} of {name!r} cannot be "
                             f"read ({exc})") from None
        if not _same_expr(stored, act.expr):
            raise ValueError(f"{argname}: the stored expression of {name!r} is {stored}, but "
                             f"{name!r} resolves to {act.name!r} = {act.expr}; refusing the "
                             "mismatch (was the activation given a built-in's name?)")
    return act


def activation_from_record(name: str, expr: str | None = None, *, argname: str = "activation",
                           known: dict | None = None) -> Activation:
    """The activation of a stored ``(name, expression)`` pair, the two checked against each other.

    ``name`` resolves to a built-in (name or alias), else to ``known[name]`` (user activations
    registered by name), else the activation is rebuilt from ``expr`` under ``name``.  A
    resolved activation whose expression differs from the stored one is refused
    (:func:`check_record`): a name never swaps in another function silently."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{argname}: expected a stored activation name, got {name!r}")
    act = _builtin_named(name)
    if act is None and known is not None:
        act = known.get(name)
    if act is not None:
        return check_record(act, name, expr, argname)
    if expr is None:
        raise ValueError(f"{argname}: the activation {name!r} is not a built-in and no "
                         f"expression is stored with it (built-ins: {sorted(BUILTINS)})")
    try:
        e = _parse_expr(expr)
    except (sp.SympifyError, ValueError, TypeError, SyntaxError) as exc:
        raise ValueError(f"{argname}: the stored expression {str(expr)[:80]!r} of {name!r} cannot be "
                         f"read ({exc})") from None
    return Activation.from_expr(e, _t, name)


def get_activation(act: Activation | str, argname: str = "activation") -> Activation:
    """Resolve an activation given as an :class:`Activation` or a built-in name."""
    if isinstance(act, Activation):
        return act
    if isinstance(act, str):
        key = _ALIASES.get(act.lower(), act.lower())
        if key in BUILTINS:
            return BUILTINS[key]
    raise ValueError(
        f"{argname}: expected an Activation or one of {sorted(BUILTINS)} "
        f"(aliases {sorted(_ALIASES)}), got {act!r}"
    )
