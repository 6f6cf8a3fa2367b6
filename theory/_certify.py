"""Certified sup errors of explicit nets: ball arithmetic, Taylor forms, branch and bound.

:func:`certify` bounds ``sup_{x in [-M, M]^d} |target(x) - net(x)|`` from above with
python-flint's Arb ball arithmetic -- never by sampling -- and reports next to it
what a dense high-precision grid and what a float64 evaluation achieve.

The generic engine (Taylor boxes, branch and bound, ``certified_sup_abs``) is
:mod:`theory.enclosure`; this module compiles a :class:`theory.Net` and its target into
the error functions that engine refines.  In the square gate's error the large output
coefficient ``1/(d^2 sigma'')`` meets ``d^n sigma^(n)`` in the Lagrange remainder of
order ``n``, so the Taylor form's enclosure is small (the dependency problem of the
second difference is removed; docs/theory.md, "Certification").

Targets with kinks (``relu``) are split at their breakpoints; deep-ReLU nets are
split into their exact linear pieces first.  In 2-D (the product gate: one hidden
layer) the Taylor form is assembled neuron by neuron: each neuron is a ridge
function ``sigma(w . x + b)``, whose univariate Taylor series gives its bivariate one.

``certified_sup_abs`` and ``certified_inf_abs`` are re-exported from
:mod:`theory.enclosure`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any  # certify's target, M, eps: a sympy expression or string / a real (RealLike), re-read inside
from itertools import product as _iproduct

import mpmath
import numpy as np
import sympy as sp
from flint import arb, arb_series

from ._arb import activation_arb, compile_arb, float_down, float_up, str_down, str_up, working_prec
from ._args import as_rational, check_M
from .activations import Activation, get_activation
from .enclosure import (
    BBResult,
    arb_of_expr,
    arb_of_fraction,
    arb_to_mpf,
    branch_and_bound_1d,
    branch_and_bound_nd,
    certified_inf_abs,
    certified_sup_abs,
    finite_lower,
    finite_upper,
    safe_max,
    to_fraction,
)
from .net import Net
from .verdicts import BOUNDED, CERTIFIED, INCONCLUSIVE, REFUTED, Verdict, status_verdict

__all__ = ["certify", "Certificate", "certified_sup_abs", "certified_inf_abs", "CERTIFIED", "REFUTED",
           "INCONCLUSIVE", "BOUNDED"]

_U64 = 2.0 ** -53  # unit roundoff of float64

# certify's defaults and budgets.
DEFAULT_DPS = None          # working precision: None = automatic (_auto_bits), else decimal digits
MIN_DPS = 15                # smallest accepted dps (about float64's precision)
MIN_AUTO_BITS = 80          # automatic precision: at least this many bits ...
MAX_AUTO_BITS = 8192        # ... and at most this many
AUTO_GUARD_BITS = 40        # rounding noise kept 2^-40 below the accuracy the refinement needs
MAX_PREC_RETRIES = 3        # the precision is doubled at most this many times when it stalls
DEFAULT_RTOL = 1e-3         # stop when upper <= lower (1 + rtol) + atol ...
DEFAULT_ATOL_FACTOR = 1e-3  # ... with atol = this * eps by default
ATOL_WITHOUT_EPS = 1e-30    # atol when the net has no eps
DEFAULT_ORDER = None        # Taylor order of the boxes: None = ORDER_1D / ORDER_ND
ORDER_1D = 12               # 1-D: high order pays (relu_net(1e-12): 65124 boxes at order 4, 510 at 12)
ORDER_1D_PER_DIGIT = 0.8    # ... and for eps below 1e-15 the order grows with log10(1/eps):
ORDER_1D_MAX = 32           # relu_net(1e-30): 41064 boxes at order 12, 1330 at 24 (issue 24)
ORDER_ND = 4                # 2-D: the number of monomials grows like order^2
MIN_ORDER = 3               # smallest accepted Taylor order
DEFAULT_MAX_BOXES = 200_000  # box budget of the branch and bound
DEFAULT_GRID = 200_001      # float64 grid points (sqrt(grid) per axis in 2-D)
SAMPLED_GRID_1D = 2001      # high-precision sampled points, 1-D (at most grid)
SAMPLED_GRID_AXIS_2D = 61   # high-precision sampled points per axis, 2-D
_BITS_PER_DIGIT = 3.33      # bits = dps * _BITS_PER_DIGIT + _GUARD_BITS
_GUARD_BITS = 16


# ====================================================================== nets in arb
class _ArbNet:
    """A :class:`Net` compiled for ball arithmetic (weights as arb at the working precision)."""

    def __init__(self, net):
        self.net = net
        self.act = net.activation
        self.sigma = activation_arb(self.act)
        self.layers = []
        for W, b in net.layers_exact:
            rows = []
            for i in range(W.shape[0]):
                rows.append([(j, arb_of_expr(W[i, j])) for j in range(W.shape[1]) if W[i, j] != 0])
            self.layers.append((rows, [arb_of_expr(v) for v in b]))

    def __call__(self, x):
        h = list(x) if isinstance(x, (list, tuple)) else [x]
        last = len(self.layers) - 1
        for li, (rows, b) in enumerate(self.layers):
            z = []
            for row, bi in zip(rows, b):
                acc = bi
                for j, w in row:
                    acc = acc + w * h[j]
                z.append(acc)
            h = z if li == last else [self.sigma(zi) for zi in z]
        return h[0]


# ====================================================================== targets
def _resolve_target(target, net):
    syms = net.symbols
    if target is None:
        target = net.target
    if target is None:
        raise ValueError("target: the net has no target; pass a sympy expression in "
                         f"{[str(s) for s in syms]} or an Activation")
    if isinstance(target, str):
        target = get_activation(target, "target")
    if isinstance(target, Activation):
        if len(syms) != 1:
            raise ValueError("target: an Activation target needs a net with 1-D input")
        target = target.expr.subs(target.symbol, syms[0])
    target = sp.sympify(target)
    extra = target.free_symbols - set(syms)
    if extra:
        raise ValueError(f"target: expected an expression in {[str(s) for s in syms]}, "
                         f"found {sorted(map(str, extra))}")
    return target


_KINK_BRACKET_BITS = 80     # an irrational kink is bracketed by rationals 2^-80 (relative) apart


class _UpperOnly:
    """An error function on a bracket around an irrational kink, evaluated with one of the two
    neighbouring formulas: it bounds the error from above (the target is one of the two at
    every point of the bracket) but its point values are no certified lower bound."""

    upper_only = True

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, X):
        return self.fn(X)


def _kink_points(t, x, a: Fraction, b: Fraction):
    """Exact kinks of a Piecewise ``t`` inside ``(a, b)``: rational ones as Fractions, irrational
    ones as sympy numbers; ValueError when a condition's boundary cannot be solved exactly."""
    out = set()
    for _, cond in t.args:
        for rel in cond.atoms(sp.core.relational.Relational):
            try:
                sol = sp.solve(sp.Eq(rel.lhs - rel.rhs, 0), x)
            except (NotImplementedError, TypeError, ValueError):
                sol = None
            if sol is None or any(not s.is_number for s in sol):
                raise ValueError(f"target: cannot locate the kinks of {t} exactly (condition {rel}); "
                                 "certify supports kinks at points sympy solves in closed form")
            for s in sol:
                if not s.is_real:
                    continue
                s = sp.nsimplify(s) if s.is_Float else s
                if s.is_Rational:
                    q = Fraction(int(s.p), int(s.q))
                    if a < q < b:
                        out.add(q)
                else:
                    with mpmath.workdps(40):
                        v = mpmath.mpf(sp.N(s, 40))
                    if float(a) - 1 < v < float(b) + 1:
                        out.add(s)
    return out


def _bracket(s, a: Fraction, b: Fraction):
    """Rationals ``lo < s < hi`` about 2^-_KINK_BRACKET_BITS apart (relative), checked exactly."""
    digits = int(_KINK_BRACKET_BITS * 0.30103) + 20
    v = sp.N(s, digits)
    scale = 2 ** _KINK_BRACKET_BITS
    mag = max(1, abs(float(v)))
    n = int(sp.floor(v * scale / sp.Integer(math.ceil(mag))))
    den = scale // math.ceil(mag) if scale >= math.ceil(mag) else 1
    lo, hi = Fraction(n - 1, den), Fraction(n + 2, den)
    while not bool(sp.Rational(lo.numerator, lo.denominator) < s):
        lo -= Fraction(1, den)
    while not bool(sp.Rational(hi.numerator, hi.denominator) > s):
        hi += Fraction(1, den)
    return max(lo, a), min(hi, b)


def _pieces_1d(target, x, a: Fraction, b: Fraction):
    """Split ``[a, b]`` where the target changes formula; list of ``(lo, hi, smooth expr)``.

    A kink at an irrational point ``s`` (``Abs(x - sqrt(2)/2)``) gets a tiny rational bracket
    ``[lo, hi]`` around it, listed as ``(lo, hi, (left expr, right expr))``: both formulas are
    bounded there (upper bounds only, :class:`_UpperOnly`)."""
    t = target
    if t.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign):
        t = t.rewrite(sp.Piecewise)
    t = sp.piecewise_fold(t)
    if not isinstance(t, sp.Piecewise):
        return [(a, b, t)]
    kinks = _kink_points(t, x, a, b)
    brackets = []
    cuts = set()
    for k in kinks:
        if isinstance(k, Fraction):
            cuts.add(k)
        else:
            lo, hi = _bracket(k, a, b)
            if lo < hi and hi > a and lo < b:
                brackets.append((lo, hi))
                cuts |= {lo, hi}
    pts = [a] + sorted(c for c in cuts if a < c < b) + [b]

    def formula(lo, hi):
        mid = sp.Rational((lo + hi).numerator, (lo + hi).denominator * 2)
        for expr, cond in t.args:
            if bool(cond.subs(x, mid)):
                return expr
        raise ValueError(f"target: {target} is not defined at x = {mid}")

    out = []
    for i, (lo, hi) in enumerate(zip(pts[:-1], pts[1:])):
        if (lo, hi) in brackets:
            left = formula(pts[i - 1], lo) if i > 0 else formula(lo, hi)
            right = formula(hi, pts[i + 2]) if i + 2 < len(pts) else formula(lo, hi)
            out.append((lo, hi, (left, right)))
        else:
            out.append((lo, hi, formula(lo, hi)))
    return out


class _TooManyPieces(Exception):
    """Raised by :func:`_affine_pieces` when the net has more linear pieces than its ``limit``."""

    def __init__(self, count: int, layer: int, n_layers: int):
        super().__init__(count, layer, n_layers)
        self.count, self.layer, self.n_layers = count, layer, n_layers


def _affine_pieces(net, a: Fraction, b: Fraction, limit: int | None = None):
    """Exact linear pieces ``(lo, hi, slope, intercept)`` of a 1-D ReLU net on ``[a, b]``.

    A ReLU net of depth L can have exponentially many pieces (Yarotsky's square with m levels
    has 2^m), so the enumeration stops with :class:`_TooManyPieces` as soon as one layer's
    pieces exceed ``limit`` (each piece costs at least one box of the branch and bound, so
    ``limit = max_boxes`` loses nothing the budget could have certified).
    """
    layers = [([[to_fraction(W[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])],
               [to_fraction(v) for v in b_]) for W, b_ in net.layers_exact]
    # each piece: (lo, hi, [(slope, intercept) per unit of the current layer])
    pieces: list[tuple[Fraction, Fraction, list]] = [(a, b, [(Fraction(1), Fraction(0))])]
    last = len(layers) - 1
    for li, (W, bias) in enumerate(layers):
        new = []
        for lo, hi, h in pieces:
            z = [(sum(w * s for w, (s, _) in zip(row, h)), sum(w * c for w, (_, c) in zip(row, h)) + bb)
                 for row, bb in zip(W, bias)]
            if li == last:
                new.append((lo, hi, z))
                continue
            cuts = {lo, hi}
            for s, c in z:
                if s != 0:
                    r = -c / s
                    if lo < r < hi:
                        cuts.add(r)
            pts = sorted(cuts)
            for p, q in zip(pts[:-1], pts[1:]):
                m = (p + q) / 2
                hz = [(s, c) if s * m + c > 0 else (Fraction(0), Fraction(0)) for s, c in z]
                new.append((p, q, hz))
            if limit is not None and len(new) > limit:
                raise _TooManyPieces(len(new), li + 1, len(layers))
        pieces = new
    return [(lo, hi, h[0][0], h[0][1]) for lo, hi, h in pieces]


# ====================================================================== 2-D ridge Taylor boxes
class _Ridge2D:
    """Error ``target(x) - net(x)`` of a one-hidden-layer net on boxes of R^d, as a Taylor form.

    :meth:`box` is the box evaluator of :func:`theory.enclosure.branch_and_bound_nd`.
    """

    def __init__(self, net, target, order):
        (W1, b1), (W2, b2) = net.layers_exact
        self.dim = W1.shape[1]
        self.order = order
        self.sigma = activation_arb(net.activation)
        self.w = [[arb_of_expr(W1[j, i]) for i in range(self.dim)] for j in range(W1.shape[0])]
        self.b = [arb_of_expr(v) for v in b1]
        self.v = [arb_of_expr(W2[0, j]) for j in range(W2.shape[1])]
        self.v0 = arb_of_expr(b2[0])
        syms = net.symbols
        self.monos = [m for m in _iproduct(range(order + 1), repeat=self.dim) if sum(m) <= order]
        self.tcoef = {}
        for m in self.monos:
            e = target
            for s, k in zip(syms, m):
                e = sp.diff(e, s, k)
            e = sp.simplify(e / sp.prod([sp.factorial(k) for k in m]))
            self.tcoef[m] = None if e == 0 else compile_arb(e, tuple(syms))
        self.target_fn = compile_arb(target, tuple(syms))
        self.binom = {(k, m): math.factorial(k) // math.prod(math.factorial(i) for i in m)
                      for k in range(order + 1) for m in self.monos if sum(m) == k}

    def value(self, pt):
        """Ball of ``target - net`` at a point (tuple of arb)."""
        out = self.v0
        for wj, bj, vj in zip(self.w, self.b, self.v):
            out = out + vj * self.sigma(sum((wi * xi for wi, xi in zip(wj, pt)), bj))
        return self.target_fn(tuple(pt)) - out

    def box(self, lo, hi):
        n, d = self.order, self.dim
        c = [arb_of_fraction((a + b) / 2) for a, b in zip(lo, hi)]
        r = [(arb_of_fraction((b - a) / 2) + ci.rad()).upper() for a, b, ci in zip(lo, hi, c)]
        B = [arb_of_fraction(a).union(arb_of_fraction(b)) for a, b in zip(lo, hi)]
        coef = {m: arb(0) for m in self.monos if sum(m) < n}
        rem = arb(0)
        for wj, bj, vj in zip(self.w, self.b, self.v):
            zc = sum((wi * ci for wi, ci in zip(wj, c)), bj)
            zB = sum((wi * Bi for wi, Bi in zip(wj, B)), bj)
            sc = self.sigma(arb_series([zc, 1])).coeffs()
            sc += [arb(0)] * (n - len(sc))
            sB = self.sigma(arb_series([zB, 1])).coeffs()
            sn = sB[n] if len(sB) > n else arb(0)
            for m in coef:
                k = sum(m)
                term = vj * sc[k] * self.binom[(k, m)]
                for wi, mi in zip(wj, m):
                    if mi:
                        term = term * wi ** mi
                coef[m] = coef[m] - term
            rad = sum((abs(wi) * ri for wi, ri in zip(wj, r)), arb(0))
            rem = rem + abs(vj * sn) * rad ** n
        coef[(0,) * d] = coef[(0,) * d] - self.v0
        for m in coef:
            f = self.tcoef[m]
            if f is not None:
                coef[m] = coef[m] + f(tuple(c))
        for m in self.monos:
            if sum(m) == n and self.tcoef[m] is not None:
                rem = rem + abs(self.tcoef[m](tuple(B))) * math.prod(ri ** mi for ri, mi in zip(r, m))
        up = abs(coef[(0,) * d])
        for m, a in coef.items():
            if sum(m):
                up = up + abs(a) * math.prod(ri ** mi for ri, mi in zip(r, m))
        c0 = coef[(0,) * d]
        # NaN / infinite bounds (a ball form failing on a far-out box) become +inf here and
        # again in the branch and bound, whatever their position.
        return finite_upper(up + rem), finite_lower(abs(c0)), finite_upper(2 * c0.rad())


# ====================================================================== certificate
# the status words and their verdicts: theory.verdicts (one vocabulary for theory, verify, reports)


@dataclass
class Certificate:
    """Result of :func:`certify` (scipy.optimize-style result object).

    Attributes
    ----------
    status : str
        ``"certified"`` (``rigorous_sup_error <= eps``), ``"refuted"`` (a point where the
        error exceeds ``eps`` was found and verified in ball arithmetic), ``"inconclusive"``
        (neither, within the budget and precision: ``reason`` says why and which knob to
        turn) or ``"bounded"`` (no ``eps`` to decide against).
    rigorous_sup_error : mpmath.mpf
        Upper bound of ``sup |target - net|`` over the domain, from ball arithmetic
        (exact-arithmetic net; never sampled); ``+inf`` when no finite bound was reached.
    rigorous_lower : mpmath.mpf
        Certified lower bound of the same supremum (the value at a point).
    sampled_sup_error : float
        Largest error on a dense grid, evaluated at high precision (an estimate).
    float64_sup_error : float
        Largest error of the float64 evaluation ``net(x)`` on a dense grid (target in
        extended precision; an estimate).
    proven_bound : float or None
        The construction's a-priori bound (``net.proven_bound``), rounded up.
    eps : float or None
        The accuracy the certificate is checked against, rounded to float64 for display;
        ``eps_exact`` is the exact number the decision used (a sympy number: a Fraction,
        Decimal, sympy or integer eps exactly, a float at its exact binary value).
    holds : bool
        ``status == "certified"``.
    float64_holds : bool
        ``float64_sup_error <= eps``.
    reason : str
        Why an inconclusive run stopped and what to change (empty otherwise).
    prec_bits : int
        Working precision of the last attempt (bits); ``dps`` the same in decimal digits.
    refutation : dict or None
        For a refuted certificate: the exact point (``x``, decimal strings of rationals) and
        the verified enclosure of the error there (``error_lower``, ``error_upper``).
    message : str
        Plain-words summary, including why float64 misses eps when it does.
    """

    net_name: str
    M: float
    dim: int
    rigorous_sup_error: mpmath.mpf
    rigorous_lower: mpmath.mpf
    argmax: tuple
    sampled_sup_error: float
    float64_sup_error: float
    proven_bound: float | None
    eps: float | None
    holds: bool
    float64_holds: bool
    converged: bool
    n_boxes: int
    seconds: float
    dps: int
    float64_floor: float
    message: str = ""
    extra: dict = field(default_factory=dict)
    status: str = BOUNDED
    reason: str = ""
    prec_bits: int = 0
    refutation: dict | None = None
    eps_exact: sp.Expr | None = None

    @property
    def success(self) -> bool:
        return self.holds

    @property
    def verdict(self) -> Verdict | None:
        """:attr:`status` as a :class:`theory.verdicts.Verdict` (None for ``"bounded"``: no eps asked)."""
        return status_verdict(self.status)

    @property
    def upper_float(self) -> float:
        """``rigorous_sup_error`` as the smallest float64 above it (still an upper bound)."""
        return float_up(self.rigorous_sup_error)

    @property
    def lower_float(self) -> float:
        """``rigorous_lower`` as the largest float64 below it (still a lower bound)."""
        return max(0.0, float_down(self.rigorous_lower))

    def as_dict(self) -> dict:
        """JSON-ready summary.  Bounds leave Arb rounded outward: ``rigorous_sup_error`` is the
        float64 just above the certified upper bound (None when infinite), ``rigorous_lower`` the
        float64 below the lower bound; ``rigorous_interval`` keeps both ends as 17-digit decimal
        strings, rounded outward."""
        up = self.upper_float
        return {
            "net": self.net_name, "M": self.M, "eps": self.eps,
            "eps_exact": None if self.eps_exact is None else str(self.eps_exact),
            "status": self.status, "reason": self.reason,
            "proven_bound": self.proven_bound,
            "rigorous_sup_error": up if math.isfinite(up) else None,
            "rigorous_lower": self.lower_float,
            "rigorous_interval": [str_down(self.rigorous_lower, 17), str_up(self.rigorous_sup_error, 17)],
            "sampled_sup_error": self.sampled_sup_error,
            "float64_sup_error": self.float64_sup_error,
            "holds": self.holds, "float64_holds": self.float64_holds,
            "converged": self.converged, "n_boxes": self.n_boxes, "seconds": self.seconds,
            "prec_bits": self.prec_bits, "refutation": self.refutation,
        }

    def __str__(self) -> str:
        rows = [
            ("construction", self.net_name),
            ("domain", f"[-{self.M:g}, {self.M:g}]" + ("^2" if self.dim == 2 else "")),
            ("eps", f"{self.eps:.3e}" if self.eps is not None else "-"),
            ("proven bound", str_up(self.proven_bound, 7) if self.proven_bound is not None else "-"),
            ("rigorous sup error", f"{str_up(self.rigorous_sup_error, 7)}  "
                                   f"(>= {str_down(self.rigorous_lower, 7)})"),
            ("sampled sup error", f"{self.sampled_sup_error:.6e}"),
            ("float64 sup error", f"{self.float64_sup_error:.6e}"),
            ("status", self.status),
            ("holds", str(self.holds)),
            ("boxes / seconds", f"{self.n_boxes} / {self.seconds:.2f}  ({self.prec_bits} bits)"),
        ]
        w = max(len(k) for k, _ in rows)
        lines = [f"{k:<{w}}  {v}" for k, v in rows]
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)


def _net_float64(net, x):
    """``net(x)`` in float64 without the Float64PrecisionWarning: the certificate measures and
    reports the float64 error itself (``float64_sup_error``, ``float64_floor``)."""
    return net._forward_float64(net._check_x(x)[0])


def _float64_and_sampled(net, target, M: Fraction, dim, ev, pieces_1d, grid):
    """``(float64 sup error on the grid, high-precision sampled sup error)``.

    The float64 pass is what float64 does: with extreme weights (eps = 5e-324 gives step
    neurons of slope ~1e324) it overflows to inf / NaN; that is its result (reported as an
    infinite float64 error), not a warning for the user: numpy's RuntimeWarnings are silenced
    here and a non-finite error is returned as ``inf`` (issue 24).
    """
    with np.errstate(all="ignore"):
        f64, samp = _float64_and_sampled_raw(net, target, M, dim, ev, pieces_1d, grid)
    return (f64 if math.isfinite(f64) else math.inf), samp


def _grid(Mf: float, n: int) -> np.ndarray:
    """``n`` equispaced float64 points on ``[-Mf, Mf]``; for ``Mf`` near the largest float
    (``2 Mf`` overflows: ``np.linspace(-Mf, Mf)`` gives inf and nan) the scaled unit grid."""
    if math.isfinite(2.0 * Mf):
        return np.linspace(-Mf, Mf, n)
    return Mf * np.linspace(-1.0, 1.0, n)


def _float64_and_sampled_raw(net, target, M: Fraction, dim, ev, pieces_1d, grid):
    syms = net.symbols
    f_ld = sp.lambdify(syms, target, modules="numpy")
    Mf = float(M)
    if dim == 1:
        xs = _grid(Mf, grid)
        cuts = sorted({float(p[0]) for p in pieces_1d} | {float(p[1]) for p in pieces_1d})
        xs = np.unique(np.concatenate([xs, cuts]))
        y64 = _net_float64(net, xs).astype(np.longdouble)
        tl = np.asarray(f_ld(xs.astype(np.longdouble)), dtype=np.longdouble)
        f64 = float(np.max(np.abs(tl - y64)))
        xs_s = _grid(Mf, min(grid, SAMPLED_GRID_1D))
        xs_s = np.unique(np.concatenate([xs_s, cuts]))
        samp = 0.0
        for xv in xs_s:
            q = Fraction(xv)
            samp = max(samp, abs(float(ev(arb_of_fraction(q)).mid())))
        return f64, samp
    g = int(round(math.sqrt(grid)))
    t = _grid(Mf, g)
    U, V = np.meshgrid(t, t)
    P = np.column_stack([U.ravel(), V.ravel()])
    y64 = _net_float64(net, P).astype(np.longdouble)
    tl = np.asarray(f_ld(*[P[:, i].astype(np.longdouble) for i in range(dim)]), dtype=np.longdouble)
    f64 = float(np.max(np.abs(tl - y64)))
    ts = _grid(Mf, min(g, SAMPLED_GRID_AXIS_2D))
    samp = 0.0
    for a in ts:
        for b in ts:
            pt = (arb_of_fraction(Fraction(a)), arb_of_fraction(Fraction(b)))
            samp = max(samp, abs(float(ev(pt).mid())))
    return f64, samp


def _float64_floor(net) -> float:
    """Rough float64 noise floor: rounding of the output layer's sum (u * sum |v_j| * L0)."""
    layers = net.layers()
    W, _ = layers[-1]
    L0 = 1.0
    if net.activation.name != "relu":
        # a rough size of |sigma| (a message, not a bound): no symbolic limit needed
        with np.errstate(all="ignore"):
            vals = np.abs(net.activation(np.linspace(-50.0, 50.0, 1001)))
        vals = vals[np.isfinite(vals)]
        L0 = max(1.0, float(vals.max())) if vals.size else 1.0
    else:
        L0 = float(net.M or 1)
    return _U64 * float(np.sum(np.abs(W))) * L0


def _mpf(x) -> mpmath.mpf:
    """A number (sympy, Fraction, float) as an mpf at the current mpmath precision: the exponent
    is unbounded, so 1e-400 or 10**400 neither underflow nor overflow (float would)."""
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    if isinstance(x, sp.Basic):
        if x.is_Rational:
            return mpmath.mpf(int(x.p)) / int(x.q)
        return mpmath.mpf(sp.N(x, 20))
    return mpmath.mpf(x)


def _accuracy_needed(eps_q, atol: float, rtol: float, atol_given: bool) -> mpmath.mpf:
    """The absolute accuracy the refinement needs, ``min(atol, rtol eps)``, as an mpf computed
    from the exact eps (no float underflow: eps = 5e-324 needs about 1e-327).  The default atol
    is ``DEFAULT_ATOL_FACTOR eps`` (exactly); without eps, ``ATOL_WITHOUT_EPS``."""
    with mpmath.workprec(64):
        cands = []
        if atol_given and atol > 0:
            cands.append(mpmath.mpf(atol))
        if eps_q is not None:
            e = _mpf(eps_q)
            if not atol_given:
                cands.append(e * DEFAULT_ATOL_FACTOR)
            if rtol > 0:
                cands.append(e * rtol)
        need = min(cands) if cands else mpmath.mpf(ATOL_WITHOUT_EPS)
        return need if need > 0 else mpmath.mpf(ATOL_WITHOUT_EPS)


def _auto_bits(net, M, need) -> int:
    """Working precision (bits) from the net's weights, the domain and the accuracy needed.

    The rounding noise of a point evaluation is propagated layer by layer as a multiple of
    the unit roundoff ``u``: ``A_z = max_i (sum_j |W_ij| m_j + |b_i|) + S A_h`` (``S`` the
    largest row sum of ``|W|``, ``m`` the magnitudes of the previous layer), ``A_h = L_1 A_z``.
    The precision keeps ``u A`` at ``2^-AUTO_GUARD_BITS need``: ``log2(A / need) + guard``,
    clamped to ``[MIN_AUTO_BITS, MAX_AUTO_BITS]``.  Computed in mpmath (unbounded exponents):
    any finite eps, M and weights (eps 5e-324, M 1e300, an output scaled by 1e308) give a
    precision, never a float OverflowError (issue 25).
    """
    try:
        L1 = 1.0 if not net.activation.is_smooth else max(1.0, net.activation.L(1))
    except Exception:  # pragma: no cover - activation without a bound
        L1 = 1.0
    if not math.isfinite(L1):   # an activation with unbounded sigma' (t**2): no estimate
        L1 = 1.0
    with mpmath.workprec(64):
        one = mpmath.mpf(1)
        mag = max(one, _mpf(M))
        acc = mag
        last = len(net.layers_exact) - 1
        for li, (W, b) in enumerate(net.layers_exact):
            rows = [sum((abs(_mpf(w)) for w in W.row(i)), mpmath.mpf(0)) for i in range(W.shape[0])]
            bf = [abs(_mpf(v)) for v in b]
            S = max(rows) if rows else mpmath.mpf(0)
            zmag = max((r * mag + bi for r, bi in zip(rows, bf)), default=mpmath.mpf(0))
            acc = zmag + S * acc
            if li != last:
                acc *= L1
                mag = max(one, zmag) if net.activation.name == "relu" else one
        need = _mpf(need)
        if not need > 0:
            need = mpmath.mpf(ATOL_WITHOUT_EPS)
        bits = mpmath.log(max(acc, one) / need, 2) + AUTO_GUARD_BITS
        if not mpmath.isfinite(bits):
            return MAX_AUTO_BITS
        return int(min(MAX_AUTO_BITS, max(MIN_AUTO_BITS, int(mpmath.ceil(bits)))))


def _auto_order(net, eps) -> int:
    """Taylor order of the boxes: ``ORDER_ND`` in 2-D; in 1-D ``ORDER_1D``, raised to
    ``ORDER_1D_PER_DIGIT log10(1/eps)`` (at most ``ORDER_1D_MAX``) for small eps.  Near a step
    neuron ``sigma(K x)``, ``K ~ 1/eps``, a box of width ``h`` needs ``(K h)^n`` small, so the
    number of boxes grows like ``eps^(-1/n)``: order 12 needs 41064 boxes for
    ``relu_net(1e-30, 1)``, order 24 1330 (2.8 s of CPU)."""
    if net.input_dim != 1:
        return ORDER_ND
    try:
        q = as_rational(eps, "eps") if eps is not None else None
    except ValueError:
        q = None
    if q is None or not q > 0 or not q < 1:
        return ORDER_1D
    with mpmath.workprec(64):
        digits = -mpmath.log10(_mpf(q))
    return int(min(ORDER_1D_MAX, max(ORDER_1D, math.ceil(ORDER_1D_PER_DIGIT * float(digits)))))


def _float_of(q) -> float:
    """An exact positive number as the nearest float64 (for display and tolerances only), with
    no OverflowError: a huge value becomes ``inf``, a tiny one ``0.0``."""
    try:
        return float(q)
    except (OverflowError, TypeError):
        return math.inf if q > 1 else 0.0


def _check_budget(value, argname, integer=False, allow_none=False, allow_zero=False):
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.integer, np.floating))
    if ok and not isinstance(value, bool):
        v = float(value)
        if math.isfinite(v) and (v > 0 or (allow_zero and v == 0)):
            return int(value) if integer else v
    kind = "integer" if integer else "number"
    raise ValueError(f"{argname}: expected a {'non-negative' if allow_zero else 'positive'} finite "
                     f"{kind}, got {value!r}")


def _check_certify_options(net, dps, eps, order, max_boxes, time_limit, rtol, grid, max_retries):
    """``(order, max_boxes, time_limit, rtol, grid)`` checked, with the automatic Taylor order
    (:func:`_auto_order`) filled in; refuses a non-Net, a too small ``dps`` or a bad budget."""
    if not isinstance(net, Net):
        raise ValueError(f"net: expected a theory.Net, got {type(net).__name__}")
    if dps is not None and (not isinstance(dps, (int, np.integer)) or isinstance(dps, bool)
                            or dps < MIN_DPS):
        raise ValueError(f"dps: expected an integer >= {MIN_DPS} (or None: automatic), got {dps!r}")
    if order is None:
        order = _auto_order(net, eps if eps is not None else net.eps)
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < MIN_ORDER:
        raise ValueError(f"order: expected an integer >= {MIN_ORDER}, got {order!r}")
    order = int(order)
    max_boxes = _check_budget(max_boxes, "max_boxes", integer=True)
    time_limit = _check_budget(time_limit, "time_limit", allow_none=True)
    rtol = _check_budget(rtol, "rtol", allow_zero=True)
    grid = _check_budget(grid, "grid", integer=True)
    if not isinstance(max_retries, (int, np.integer)) or max_retries < 0:
        raise ValueError(f"max_retries: expected a non-negative integer, got {max_retries!r}")
    return order, max_boxes, time_limit, rtol, grid


def _exact_half_width(net, M) -> Fraction:
    """The domain's half-width ``M`` (default ``net.M``) as an exact Fraction: the boxes of
    the branch and bound are exact rationals inside ``[-M, M]^d``."""
    M = net.M if M is None else M
    if M is None:
        raise ValueError("M: the net has no domain; pass M > 0")
    M = check_M(M)
    if not M.is_Rational:
        raise ValueError(f"M: certify needs a rational half-width of the domain (the boxes are "
                         f"exact rationals), got {M}")
    return Fraction(int(M.p), int(M.q))


def _exact_eps(eps_v):
    """``(eps_f, eps_q)``: the accuracy as the exact number the decision uses (``eps_q``) and
    as a float64 for display (``eps_f``); both None without an eps.  Exact (issue 24): a
    Fraction / Decimal / sympy / int eps is compared as the number it is, a float at its exact
    binary value; never rounded through float64."""
    if eps_v is None:
        return None, None
    eps_q = as_rational(eps_v, "eps")
    if not eps_q > 0:
        raise ValueError(f"eps: expected a positive finite accuracy, got {eps_v!r}")
    return _float_of(eps_q), eps_q


def _certify_pieces(net, target, M):
    """``(dim, pieces)``: in 1-D the target's smooth pieces on ``[-M, M]``
    (:func:`_pieces_1d`); in 2-D no pieces, and a refusal of what the ridge boxes do not
    cover (more than one hidden layer, a vector output, a non-smooth activation or target)."""
    dim = net.input_dim
    if dim == 1:
        (x,) = net.symbols
        return dim, _pieces_1d(target, x, -M, M)
    if net.depth != 1 or net.output_dim != 1:
        raise ValueError("net: multi-dimensional certification supports one hidden layer "
                         "and scalar output (the product gate)")
    if not net.activation.is_smooth:
        raise ValueError("net: multi-dimensional certification needs a smooth activation")
    if target.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.Piecewise):
        raise ValueError("target: a kinked target is certified in 1-D only; pass a smooth "
                         "target for a multi-dimensional net")
    return dim, []


@dataclass
class _Bounds:
    """The branch and bound's outcome after its precision raises: the last ``BBResult``
    (``res``), its point evaluator and exact argmax, the boxes over all attempts, the raises
    made, the last precision (bits) and a sharpened refutation ``(refutation, point, lower)``
    or None."""

    res: Any
    ev: Any
    arg_exact: Any
    total_boxes: int
    retries: int
    prec: int
    sharp: Any


def _bound_at_rising_precision(net, target, M, dim, pieces, order, rtol, atol, max_boxes,
                               deadline, eps_q, prec, max_retries) -> _Bounds:
    """Branch and bound (:func:`_run_bb`) until ``sup |target - net|`` is decided against eps
    (``upper <= eps`` or ``lower > eps``), doubling the precision (at most ``max_retries``
    times) while the refinement stalls on rounding noise.  An undecided run is sharpened at
    exact points first (:func:`_sharpen_lower`; issue 24)."""
    total_boxes = 0
    retries = 0
    sharp = None
    while True:
        with working_prec(prec, cap=order + 1):
            # the decision threshold: eps as an exact ball (Fraction, Decimal, float's binary value)
            decide = None if eps_q is None else arb_of_expr(eps_q)
            res, ev, arg_exact = _run_bb(net, target, M, dim, pieces, order, rtol, atol,
                                         max_boxes - total_boxes, deadline, decide)
        total_boxes += res[3]
        upper, lower = res[0], res[1]
        decided = eps_q is None or (upper <= decide) or (lower > decide)
        if not decided:
            # eps between the lower bound (box midpoints) and the upper one: the sup may sit at an
            # end or a kink (no midpoint reaches it) or be closer to eps than the working
            # precision resolves; evaluate there exactly, at rising precision (issue 24)
            sharp = _sharpen_lower(net, target, pieces, dim, M, eps_q, prec, order, arg_exact,
                                   deadline)
            if sharp is not None:
                break
        if decided or res.reason != "precision" or retries >= max_retries:
            break
        if total_boxes >= max_boxes or (deadline is not None and time.perf_counter() > deadline):
            break
        retries += 1
        prec = min(MAX_AUTO_BITS * 4, prec * 2)
    return _Bounds(res, ev, arg_exact, total_boxes, retries, prec, sharp)


def _verdict(b: _Bounds, eps_q, dim):
    """``(status, refutation, rig_up, rig_lo, arg_exact)``, at the working precision.

    CERTIFIED iff the rigorous upper bound is ``<= eps``: then ``|target(x) - net(x)| <= eps``
    for every ``x`` in ``[-M, M]^d`` (the exact-arithmetic net; not its float64 evaluation).
    REFUTED only with a point where ``|target - net| > eps`` is verified in ball arithmetic
    (sharpened, or the branch and bound's argmax re-checked by :func:`_verify_refutation`):
    then the construction misses eps at that point.  INCONCLUSIVE otherwise (neither claim);
    BOUNDED without an eps."""
    upper, lower = b.res[0], b.res[1]
    arg_exact = b.arg_exact
    rig_up = arb_to_mpf(upper, "upper") if upper.is_finite() else mpmath.inf
    rig_lo = arb_to_mpf(lower, "lower")
    status, refutation = BOUNDED, None
    if eps_q is not None:
        decide = arb_of_expr(eps_q)
        if upper.is_finite() and upper <= decide:
            status = CERTIFIED
        elif b.sharp is not None:
            refutation, arg_exact, lower = b.sharp
            rig_lo = arb_to_mpf(lower, "lower")
            status = REFUTED
        elif lower > decide and arg_exact is not None:
            refutation = _verify_refutation(b.ev, arg_exact, decide, dim)
            status = REFUTED if refutation is not None else INCONCLUSIVE
        else:
            status = INCONCLUSIVE
    return status, refutation, rig_up, rig_lo, arg_exact


def _inconclusive_reason(b: _Bounds, digits, time_limit, max_boxes, rtol, atol) -> str:
    """Why an undecided run stopped and which knob to turn: the precision (dps), the time
    limit, a ReLU net with more linear pieces than boxes, the box budget, or the tolerance."""
    res = b.res
    if res.reason == "precision":
        return (f"the working precision ({b.prec} bits, about {digits} digits, after {b.retries} "
                f"automatic raises) cannot separate the error from eps: raise dps "
                f"(--dps {max(2 * digits, MIN_DPS)})")
    if res.reason == "time":
        return f"the time limit ({time_limit:g} s) ran out: raise time_limit"
    if res.reason == "pieces":
        count, layer, n_layers = res.pieces
        return (f"the ReLU net has more linear pieces than max_boxes = {max_boxes} (already "
                f"{count} after layer {layer} of {n_layers}; each piece needs a box): only "
                "interval bounds over whole pieces were computed; raise max_boxes if the "
                "count allows it")
    if res.reason == "boxes" or b.total_boxes >= max_boxes:
        return (f"the box budget (max_boxes = {max_boxes}) ran out: raise max_boxes "
                f"(--max-boxes {4 * max_boxes})")
    # "tight": upper <= lower (1 + rtol) + atol with eps between them
    return (f"the refinement reached its tolerance (upper <= lower (1 + rtol) + atol with "
            f"rtol = {float(rtol):.3g}, atol = {float(atol):.3g}) with eps between the "
            f"bounds: lower rtol and atol below the relative gap between eps and the "
            f"error (e.g. rtol=1e-30, atol=0)")


def _certificate_message(status, refutation, rig_up, rig_lo, eps_f, reason, total_boxes,
                         holds, f64_holds, f64, floor, conv) -> str:
    """The certificate's plain-words summary: the verdict with its bounds, then why float64
    misses eps when it does, then a note when the refinement budget ran out."""
    msgs = []
    if status == CERTIFIED:
        msgs.append(f"Certified: the exact net's error is at most {str_up(rig_up, 4)} "
                    f"<= eps = {eps_f:.3g} on the whole domain (ball arithmetic, {total_boxes} boxes).")
    elif status == REFUTED and refutation is not None:  # REFUTED only with a verified point
        msgs.append(f"NOT certified (refuted): at x = {tuple(refutation['x_float'])} the exact net's "
                    f"error is >= {str_down(refutation['error_lower'], 4)} > eps = {eps_f:.3g} "
                    f"(verified in ball arithmetic at that exact point); the sup error lies in "
                    f"[{str_down(rig_lo, 4)}, {str_up(rig_up, 4)}].")
    elif status == INCONCLUSIVE:
        where = (f"in [{str_down(rig_lo, 4)}, {str_up(rig_up, 4)}]" if math.isfinite(float_up(rig_up))
                 else f">= {str_down(rig_lo, 4)}, no finite upper bound reached yet")
        msgs.append(f"INCONCLUSIVE: the sup error is {where}, eps = {eps_f:.3g}; {reason}. "
                    "Neither a certificate nor a refutation: the net may well meet eps.")
    if eps_f is not None:
        if holds and not f64_holds:
            msgs.append(
                f"float64 cannot realise this accuracy: its evaluation errs by up to {f64:.3g} > eps. "
                f"The output layer adds terms of size up to {floor / _U64:.3g} whose rounding "
                f"(unit roundoff 1.1e-16) leaves an error floor of about {floor:.2g}; the "
                "certificate above is about the exact-arithmetic net.")
        elif status == REFUTED:
            msgs.append(f"The float64 evaluation errs by up to {f64:.3g}.")
    if not conv and status != INCONCLUSIVE:
        msgs.append("The refinement budget ran out: the rigorous bound is valid but not tight.")
    return " ".join(msgs)


def certify(net: Net, target: Any = None, M: Any = None,
            dps: int | None = DEFAULT_DPS, eps: Any = None,
            rtol: float = DEFAULT_RTOL, atol: float | None = None, order: int | None = DEFAULT_ORDER,
            max_boxes: int = DEFAULT_MAX_BOXES, grid: int = DEFAULT_GRID,
            time_limit: float | None = None, max_retries: int = MAX_PREC_RETRIES) -> Certificate:
    """Certify ``sup_{x in [-M, M]^d} |target(x) - net(x)|`` (the error the paper's Lemmas 2
    and 6 and Theorem 3 bound; docs/theory.md).

    Parameters
    ----------
    net : Net
    target : sympy.Expr, Activation or name, optional
        Function approximated (default ``net.target``), in ``net.symbols``.
    M : float, optional
        Half-width of the domain (default ``net.M``).
    dps : int, optional
        Working precision of the ball arithmetic, in decimal digits.  Default: automatic,
        from the weights, the domain and the accuracy (:func:`_auto_bits`).  Either way the
        precision is doubled (at most ``max_retries`` times) when the refinement stalls on
        rounding noise.
    eps : float, optional
        Accuracy to check (default ``net.eps``).
    rtol, atol : float
        Refine until the largest certified upper bound is at most
        ``lower (1 + rtol) + atol``, ``lower`` the best certified lower bound
        (``atol`` default: ``1e-3 eps``, or ``1e-30`` without ``eps``), and, with an ``eps``,
        until the comparison with ``eps`` is decided.
    order : int, optional
        Taylor order of the boxes (remainder of order ``order``; >= 3).  Default 12 in 1-D
        (rising to ``0.8 log10(1/eps)``, at most 32, below eps = 1e-15), 4 in 2-D.
    max_boxes, time_limit
        Budget; when exhausted the returned bound is still rigorous, only looser
        (``converged`` is False) and, if undecided, ``status`` is ``"inconclusive"``.
    grid : int
        Points of the float64 grid (``sqrt(grid)`` per axis in 2-D).

    Returns
    -------
    Certificate
        ``status``: certified / refuted (verified point) / inconclusive (reason and knob) /
        bounded (no eps).
    """
    order, max_boxes, time_limit, rtol, grid = _check_certify_options(
        net, dps, eps, order, max_boxes, time_limit, rtol, grid, max_retries)
    M = _exact_half_width(net, M)
    eps_f, eps_q = _exact_eps(net.eps if eps is None else eps)
    atol_given = atol is not None
    if atol is None:
        atol = DEFAULT_ATOL_FACTOR * eps_f if eps_f else ATOL_WITHOUT_EPS
    atol = _check_budget(atol, "atol", allow_zero=True)
    target = _resolve_target(target, net)
    dim, pieces = _certify_pieces(net, target, M)
    t_start = time.perf_counter()
    deadline = None if time_limit is None else t_start + time_limit
    need = _accuracy_needed(eps_q, atol, rtol, atol_given)
    prec = (int(dps * _BITS_PER_DIGIT) + _GUARD_BITS) if dps is not None else _auto_bits(net, M, need)
    b = _bound_at_rising_precision(net, target, M, dim, pieces, order, rtol, atol, max_boxes,
                                   deadline, eps_q, prec, max_retries)
    with working_prec(b.prec, cap=order + 1):
        status, refutation, rig_up, rig_lo, arg_exact = _verdict(b, eps_q, dim)
        arg = tuple(float(a) for a in arg_exact) if arg_exact is not None else ()
        f64, samp = _float64_and_sampled(net, target, M, dim, b.ev, pieces, grid)
    seconds = time.perf_counter() - t_start
    holds = status == CERTIFIED
    f64_holds = bool(eps_f is not None and f64 <= eps_f)
    floor = _float64_floor(net)
    digits = int(b.prec / _BITS_PER_DIGIT)
    reason = (_inconclusive_reason(b, digits, time_limit, max_boxes, rtol, atol)
              if status == INCONCLUSIVE else "")
    conv = b.res[4]
    message = _certificate_message(status, refutation, rig_up, rig_lo, eps_f, reason,
                                   b.total_boxes, holds, f64_holds, f64, floor, conv)
    pb = None if net.proven_bound is None else float_up(net.proven_bound)
    return Certificate(
        net_name=net.name, M=float(M), dim=dim, rigorous_sup_error=rig_up, rigorous_lower=rig_lo,
        argmax=arg, sampled_sup_error=samp, float64_sup_error=f64, proven_bound=pb, eps=eps_f,
        holds=holds, float64_holds=f64_holds, converged=conv, n_boxes=b.total_boxes,
        seconds=seconds, dps=digits, float64_floor=floor, message=message, status=status,
        reason=reason, prec_bits=b.prec, refutation=refutation, eps_exact=eps_q,
        extra={"retries": b.retries, "stop": b.res.reason},
    )


def _too_many_pieces(too_many, anet, pieces, x, max_boxes) -> BBResult:
    """The branch and bound's result when a ReLU net has more linear pieces than ``max_boxes``.

    No piece is refined; the bounds are still rigorous: the upper bound is plain interval
    arithmetic over each target piece (``|target(I) - net(I)|`` with ``I`` the whole piece as
    one ball: valid for any net, usually infinite or useless for a deep one), the lower bound
    ``|target(c) - net(c)|`` at each piece's midpoint ``c``.  ``reason`` is ``"pieces"`` and the
    result carries the count for the certificate's message.
    """
    upper, lower, argmax = arb(0), arb(0), None
    for lo, hi, texpr in pieces:
        ball = arb_of_fraction(lo).union(arb_of_fraction(hi))
        c = (lo + hi) / 2
        for te in (texpr if isinstance(texpr, tuple) else (texpr,)):
            tf = compile_arb(te, x)
            try:
                up = abs(tf(ball) - anet(ball)).upper()
            except (ValueError, ZeroDivisionError):
                up = arb(math.inf)
            upper = safe_max([upper, up])
            if not isinstance(texpr, tuple):
                lo_c = finite_lower(abs(tf(arb_of_fraction(c)) - anet(arb_of_fraction(c))))
                if lo_c > lower:
                    lower, argmax = lo_c, c
    res = BBResult(finite_upper(upper), lower, argmax, max_boxes, False, "pieces", arb(0))
    res.pieces = (too_many.count, too_many.layer, too_many.n_layers)
    return res


def _run_bb(net, target, M, dim, pieces, order, rtol, atol, max_boxes, deadline, decide):
    """One branch and bound at the current precision: ``(BBResult, point evaluator, argmax)``
    (the argmax as exact Fractions, or None)."""
    anet = _ArbNet(net)
    max_boxes = max(1, max_boxes)
    if dim == 1:
        (x,) = net.symbols
        try:
            parts = []
            for lo, hi, texpr in pieces:
                for te in (texpr if isinstance(texpr, tuple) else (texpr,)):
                    tf = compile_arb(te, x)
                    wrap = _UpperOnly if isinstance(texpr, tuple) else (lambda f: f)
                    if net.activation.name == "relu" and not net.activation.is_smooth:
                        for plo, phi, s_, c_ in _affine_pieces(net, lo, hi, limit=max_boxes):
                            sa, ca = arb_of_fraction(s_), arb_of_fraction(c_)
                            parts.append((plo, phi, wrap(lambda X, tf=tf, sa=sa, ca=ca: tf(X) - (sa * X + ca))))
                    else:
                        parts.append((lo, hi, wrap(lambda X, tf=tf: tf(X) - anet(X))))
        except _TooManyPieces as too_many:
            res = _too_many_pieces(too_many, anet, pieces, x, max_boxes)
        else:
            res = branch_and_bound_1d(parts, order, rtol, atol, max_boxes, deadline, decide)
        # point evaluation: never inside a bracket (the target's formula there is not known)
        piece_fns = [(arb_of_fraction(hi), compile_arb(texpr, x)) for lo, hi, texpr in pieces
                     if not isinstance(texpr, tuple)]

        def ev(X):
            """Ball of target - net at a point (the piece containing it, or the last one)."""
            for hi_a, tf in piece_fns:
                if X <= hi_a:
                    return tf(X) - anet(X)
            return piece_fns[-1][1](X) - anet(X)

        arg = (res[2],) if res[2] is not None else None
        return res, ev, arg
    ridge = _Ridge2D(net, target, order)
    lo0 = tuple([-M] * dim)
    hi0 = tuple([M] * dim)
    res = branch_and_bound_nd(ridge.box, lo0, hi0, rtol, atol, max_boxes, deadline, decide)
    return res, ridge.value, tuple(res[2])


# ====================================================================== exact lower bounds at points
SHARPEN_GUARD_BITS = 64      # the sharpening precision goes up to the bits of eps (numerator and
SHARPEN_MAX_BITS = 4 * MAX_AUTO_BITS   # denominator) plus this beyond the branch and bound's
NEWTON_STEPS = 60            # Newton steps towards an interior maximum, per precision


class _PointError:
    """``target - net`` at exact points (tuples of Fractions) at the current working precision.

    Built afresh at each precision (the compiled net holds its weights as balls of the precision
    it was built at).  1-D: the target's piece containing the point (None inside the bracket of
    an irrational kink, whose formula is not known there)."""

    def __init__(self, net, target, pieces, dim):
        self.dim, self.anet = dim, _ArbNet(net)
        self.smooth = net.activation.is_smooth
        if dim == 1:
            (x,) = net.symbols
            self.pieces = [(lo, hi, compile_arb(te, x)) for lo, hi, te in pieces
                           if not isinstance(te, tuple)]
        else:
            self.tf = compile_arb(target, tuple(net.symbols))

    def _piece(self, q):
        for lo, hi, tf in self.pieces:
            if lo <= q <= hi:
                return lo, hi, tf
        return None

    def __call__(self, point):
        if self.dim != 1:
            X = [arb_of_fraction(p) for p in point]
            return self.tf(tuple(X)) - self.anet(X)
        pc = self._piece(point[0])
        if pc is None:
            return None
        X = arb_of_fraction(point[0])
        return pc[2](X) - self.anet(X)

    def newton(self, q, bits: int):
        """A critical point of the error near ``q`` (1-D, smooth activation): Newton on
        ``e'(x) = 0`` from the Taylor coefficients ``e(x + s) = e0 + e1 s + e2 s^2 + ...``, the
        iterates rounded to ``2^-bits``; None when it leaves the piece or ``e2`` contains 0."""
        pc = self._piece(q) if self.dim == 1 and self.smooth else None
        if pc is None:
            return None
        lo, hi, tf = pc
        D = 2 ** bits
        x = q
        for _ in range(NEWTON_STEPS):
            X = arb_series([arb_of_fraction(x), 1])
            v = tf(X) - self.anet(X)
            co = v.coeffs() if isinstance(v, arb_series) else [v]
            co += [arb(0)] * (3 - len(co))
            e1, e2 = co[1], co[2]
            if not (e1.is_finite() and e2.is_finite()) or e2.contains(0):
                return None
            if e1.contains(0):
                return x
            step = Fraction(round(_fraction_of_mid(-e1 / (2 * e2)) * D), D)
            if step == 0:
                return x
            x = x + step
            if not lo <= x <= hi:
                return None
        return x


def _fraction_of_mid(a) -> Fraction:
    """The midpoint of a finite ball as an exact Fraction."""
    m, e = a.mid().man_exp()
    m, e = int(m), int(e)
    return Fraction(m * 2 ** e) if e >= 0 else Fraction(m, 2 ** -e)


def _sharpen_lower(net, target, pieces, dim, M, eps_q, prec, order, argmax, deadline):
    """A refutation from exact points when the branch and bound leaves eps undecided.

    The branch and bound's lower bound is ``|error|`` at box midpoints: it never reaches a sup
    at an end of the domain, a kink of the target or (within the working precision) an interior
    maximum, so an eps just below the sup (1e-18 relative and less) stayed inconclusive.  Here
    the error is evaluated at the candidate points -- the ends of every piece of the target
    (``-M``, ``M``, the kinks), the corners of ``[-M, M]^d``, the branch and bound's best point
    and, in 1-D with a smooth activation, the critical point Newton reaches from it -- in ball
    arithmetic at ``prec`` bits, doubled while a point's ball still contains eps, up to the bits
    of eps's numerator and denominator plus ``SHARPEN_GUARD_BITS`` more than ``prec`` (at least
    ``4 prec``; at most ``SHARPEN_MAX_BITS``).

    Returns ``(refutation dict, point, lower arb)`` when some point's exact error provably
    exceeds eps (its ball's lower end ``> eps``, eps itself an exact ball), else None.
    """
    if dim == 1:
        cands = sorted({p for lo, hi, te in pieces if not isinstance(te, tuple) for p in (lo, hi)})
        cands = [(p,) for p in cands]
    else:
        cands = [tuple(c) for c in _iproduct((-M, M), repeat=dim)]
    if argmax is not None and tuple(argmax) not in cands:
        cands.append(tuple(argmax))
    start = argmax[0] if (dim == 1 and argmax is not None) else None
    q = sp.Rational(eps_q)
    eps_bits = (int(q.p).bit_length() + int(q.q).bit_length()) if q.is_Rational else 2 * prec
    cap = min(SHARPEN_MAX_BITS, max(4 * prec, prec + eps_bits + SHARPEN_GUARD_BITS))
    bits = prec
    while cands or start is not None:
        with working_prec(bits, cap=max(3, order + 1)):
            pe = _PointError(net, target, pieces, dim)
            eps_ball = arb_of_expr(eps_q)
            pts = list(cands)
            newton_pt = None
            if start is not None:
                newton_pt = pe.newton(start, bits)
                if newton_pt is not None:
                    pts.append((newton_pt,))
            keep = []
            for pt in pts:
                v = pe(pt)
                if v is None:
                    continue
                err = abs(v)
                if err.is_finite() and err.lower() > eps_ball:
                    return ({"x": [f"{p.numerator}/{p.denominator}" for p in pt],
                             "x_float": [float(p) for p in pt],
                             "error_lower": float_down(err), "error_upper": float_up(err),
                             "error_interval": [str_down(err, 40), str_up(err, 40)],
                             "prec_bits": bits},
                            pt, err.lower())
                if not err.is_finite() or err.upper() >= eps_ball:
                    keep.append(pt)          # its ball still contains eps: more precision
            cands = [pt for pt in keep if newton_pt is None or pt != (newton_pt,)]
            start = newton_pt if (newton_pt is not None and (newton_pt,) in keep) else None
        if bits >= cap or (deadline is not None and time.perf_counter() > deadline):
            return None
        bits = min(cap, 2 * bits)
    return None


def _verify_refutation(ev, point, eps_ball, dim):
    """Re-evaluate the error at the exact point ``point`` (Fractions) in plain ball arithmetic;
    a dict describing the verified refutation, or None when the ball does not exceed eps."""
    X = [arb_of_fraction(p) for p in point]
    val = ev(X[0] if dim == 1 else tuple(X))
    err = abs(val)
    if not err.is_finite() or not err.lower() > eps_ball:
        return None
    return {"x": [f"{p.numerator}/{p.denominator}" for p in point],
            "x_float": [float(p) for p in point],
            "error_lower": float_down(err), "error_upper": float_up(err)}
