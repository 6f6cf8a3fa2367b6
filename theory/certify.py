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
from itertools import product as _iproduct

import mpmath
import numpy as np
import sympy as sp
from flint import arb, arb_series

from ._arb import activation_arb, compile_arb, working_prec
from ._args import check_M
from .activations import Activation, get_activation
from .enclosure import (
    arb_of_expr,
    arb_of_fraction,
    arb_to_mpf,
    branch_and_bound_1d,
    branch_and_bound_nd,
    certified_inf_abs,
    certified_sup_abs,
    to_fraction,
)
from .net import Net

__all__ = ["certify", "Certificate", "certified_sup_abs", "certified_inf_abs"]

_U64 = 2.0 ** -53  # unit roundoff of float64

# certify's defaults and budgets.
DEFAULT_DPS = 30            # working precision of the ball arithmetic, decimal digits
MIN_DPS = 15                # smallest accepted dps (about float64's precision)
DEFAULT_RTOL = 1e-3         # stop when upper <= lower (1 + rtol) + atol ...
DEFAULT_ATOL_FACTOR = 1e-3  # ... with atol = this * eps by default
ATOL_WITHOUT_EPS = 1e-30    # atol when the net has no eps
DEFAULT_ORDER = 4           # Taylor order of the boxes (remainder of this order)
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


def _pieces_1d(target, x, a: Fraction, b: Fraction):
    """Split ``[a, b]`` where the target changes formula; list of (lo, hi, smooth expr)."""
    t = target
    if t.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign):
        t = t.rewrite(sp.Piecewise)
    t = sp.piecewise_fold(t)
    if not isinstance(t, sp.Piecewise):
        return [(a, b, t)]
    cuts = set()
    for _, cond in t.args:
        for rel in cond.atoms(sp.core.relational.Relational):
            sol = sp.solve(sp.Eq(rel.lhs - rel.rhs, 0), x)
            for s in sol:
                if s.is_real:
                    q = to_fraction(sp.nsimplify(s))
                    if a < q < b:
                        cuts.add(q)
    pts = [a] + sorted(cuts) + [b]
    out = []
    for lo, hi in zip(pts[:-1], pts[1:]):
        mid = sp.Rational((lo + hi).numerator, (lo + hi).denominator * 2)
        for expr, cond in t.args:
            if bool(cond.subs(x, mid)):
                out.append((lo, hi, expr))
                break
    return out


def _affine_pieces(net, a: Fraction, b: Fraction):
    """Exact linear pieces ``(lo, hi, slope, intercept)`` of a 1-D ReLU net on ``[a, b]``."""
    layers = [([[to_fraction(W[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])],
               [to_fraction(v) for v in b_]) for W, b_ in net.layers_exact]
    # each piece: (lo, hi, [(slope, intercept) per unit of the current layer])
    pieces = [(a, b, [(Fraction(1), Fraction(0))])]
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
        upper = (up + rem).upper()
        lower = abs(coef[(0,) * d]).lower()
        if lower < 0:
            lower = arb(0)
        return upper, lower


# ====================================================================== certificate
@dataclass
class Certificate:
    """Result of :func:`certify` (scipy.optimize-style result object).

    Attributes
    ----------
    rigorous_sup_error : mpmath.mpf
        Upper bound of ``sup |target - net|`` over the domain, from ball arithmetic
        (exact-arithmetic net; never sampled).
    rigorous_lower : mpmath.mpf
        Certified lower bound of the same supremum (the value at a point).
    sampled_sup_error : float
        Largest error on a dense grid, evaluated at high precision.
    float64_sup_error : float
        Largest error of the float64 evaluation ``net(x)`` on a dense grid (target in
        extended precision).
    proven_bound : float or None
        The construction's a-priori bound (``net.proven_bound``).
    eps : float or None
        The accuracy the certificate is checked against.
    holds : bool
        ``rigorous_sup_error <= eps``.
    float64_holds : bool
        ``float64_sup_error <= eps``.
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

    @property
    def success(self) -> bool:
        return self.holds

    def as_dict(self) -> dict:
        return {
            "net": self.net_name, "M": self.M, "eps": self.eps,
            "proven_bound": self.proven_bound,
            "rigorous_sup_error": float(self.rigorous_sup_error),
            "rigorous_lower": float(self.rigorous_lower),
            "sampled_sup_error": self.sampled_sup_error,
            "float64_sup_error": self.float64_sup_error,
            "holds": self.holds, "float64_holds": self.float64_holds,
            "converged": self.converged, "n_boxes": self.n_boxes, "seconds": self.seconds,
        }

    def __str__(self) -> str:
        rows = [
            ("construction", self.net_name),
            ("domain", f"[-{self.M:g}, {self.M:g}]" + ("^2" if self.dim == 2 else "")),
            ("eps", f"{self.eps:.3e}" if self.eps is not None else "-"),
            ("proven bound", f"{self.proven_bound:.6e}" if self.proven_bound is not None else "-"),
            ("rigorous sup error", f"{mpmath.nstr(self.rigorous_sup_error, 7)}  "
                                   f"(>= {mpmath.nstr(self.rigorous_lower, 7)})"),
            ("sampled sup error", f"{self.sampled_sup_error:.6e}"),
            ("float64 sup error", f"{self.float64_sup_error:.6e}"),
            ("holds", str(self.holds)),
            ("boxes / seconds", f"{self.n_boxes} / {self.seconds:.2f}"),
        ]
        w = max(len(k) for k, _ in rows)
        lines = [f"{k:<{w}}  {v}" for k, v in rows]
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)


def _float64_and_sampled(net, target, M: Fraction, dim, ev, pieces_1d, grid):
    """``(float64 sup error on the grid, high-precision sampled sup error)``."""
    syms = net.symbols
    f_ld = sp.lambdify(syms, target, modules="numpy")
    Mf = float(M)
    if dim == 1:
        xs = np.linspace(-Mf, Mf, grid)
        cuts = sorted({float(p[0]) for p in pieces_1d} | {float(p[1]) for p in pieces_1d})
        xs = np.unique(np.concatenate([xs, cuts]))
        y64 = net(xs).astype(np.longdouble)
        tl = np.asarray(f_ld(xs.astype(np.longdouble)), dtype=np.longdouble)
        f64 = float(np.max(np.abs(tl - y64)))
        xs_s = np.linspace(-Mf, Mf, min(grid, SAMPLED_GRID_1D))
        xs_s = np.unique(np.concatenate([xs_s, cuts]))
        samp = 0.0
        for xv in xs_s:
            q = Fraction(xv)
            samp = max(samp, abs(float(ev(arb_of_fraction(q)).mid())))
        return f64, samp
    g = int(round(math.sqrt(grid)))
    t = np.linspace(-Mf, Mf, g)
    U, V = np.meshgrid(t, t)
    P = np.column_stack([U.ravel(), V.ravel()])
    y64 = net(P).astype(np.longdouble)
    tl = np.asarray(f_ld(*[P[:, i].astype(np.longdouble) for i in range(dim)]), dtype=np.longdouble)
    f64 = float(np.max(np.abs(tl - y64)))
    ts = np.linspace(-Mf, Mf, min(g, SAMPLED_GRID_AXIS_2D))
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
        try:
            L0 = max(1.0, net.activation.L(0))
        except Exception:  # pragma: no cover
            L0 = 1.0
    else:
        L0 = float(net.M or 1)
    return _U64 * float(np.sum(np.abs(W))) * L0


def certify(net, target=None, M=None, dps: int = DEFAULT_DPS, eps=None, rtol: float = DEFAULT_RTOL,
            atol: float | None = None, order: int = DEFAULT_ORDER, max_boxes: int = DEFAULT_MAX_BOXES,
            grid: int = DEFAULT_GRID, time_limit: float | None = None) -> Certificate:
    """Certify ``sup_{x in [-M, M]^d} |target(x) - net(x)|`` (the error the paper's Lemmas 2
    and 6 and Theorem 3 bound; docs/theory.md).

    Parameters
    ----------
    net : Net
    target : sympy.Expr, Activation or name, optional
        Function approximated (default ``net.target``), in ``net.symbols``.
    M : float, optional
        Half-width of the domain (default ``net.M``).
    dps : int
        Working precision of the ball arithmetic, in decimal digits.
    eps : float, optional
        Accuracy to check (default ``net.eps``).
    rtol, atol : float
        Refine until the largest certified upper bound is at most
        ``lower (1 + rtol) + atol``, ``lower`` the best certified lower bound
        (``atol`` default: ``1e-3 eps``, or ``1e-30`` without ``eps``).
    order : int
        Taylor order of the boxes (remainder of order ``order``; >= 3).
    max_boxes, time_limit
        Budget; when exhausted the returned bound is still rigorous, only looser
        (``converged`` is False).
    grid : int
        Points of the float64 grid (``sqrt(grid)`` per axis in 2-D).

    Returns
    -------
    Certificate
    """
    if not isinstance(net, Net):
        raise ValueError(f"net: expected a theory.Net, got {type(net).__name__}")
    if not isinstance(dps, (int, np.integer)) or dps < MIN_DPS:
        raise ValueError(f"dps: expected an integer >= {MIN_DPS}, got {dps!r}")
    if not isinstance(order, (int, np.integer)) or order < MIN_ORDER:
        raise ValueError(f"order: expected an integer >= {MIN_ORDER}, got {order!r}")
    M = net.M if M is None else M
    if M is None:
        raise ValueError("M: the net has no domain; pass M > 0")
    M = to_fraction(check_M(M))
    eps_v = net.eps if eps is None else eps
    eps_f = None if eps_v is None else float(eps_v)
    if eps_f is not None and not (eps_f > 0 and math.isfinite(eps_f)):
        raise ValueError(f"eps: expected a positive finite accuracy, got {eps_v!r}")
    if atol is None:
        atol = DEFAULT_ATOL_FACTOR * eps_f if eps_f else ATOL_WITHOUT_EPS
    target = _resolve_target(target, net)
    dim = net.input_dim
    t_start = time.perf_counter()
    deadline = None if time_limit is None else t_start + time_limit
    prec = int(dps * _BITS_PER_DIGIT) + _GUARD_BITS
    with working_prec(prec, cap=order + 1):
        anet = _ArbNet(net)
        pieces = []
        if dim == 1:
            (x,) = net.symbols
            pieces = _pieces_1d(target, x, -M, M)
            parts = []
            for lo, hi, texpr in pieces:
                tf = compile_arb(texpr, x)
                if net.activation.name == "relu" and not net.activation.is_smooth:
                    for plo, phi, s, c in _affine_pieces(net, lo, hi):
                        sa, ca = arb_of_fraction(s), arb_of_fraction(c)
                        parts.append((plo, phi, (lambda X, tf=tf, sa=sa, ca=ca: tf(X) - (sa * X + ca))))
                else:
                    parts.append((lo, hi, (lambda X, tf=tf: tf(X) - anet(X))))
            upper, lower, arg, nbox, conv = branch_and_bound_1d(parts, order, rtol, atol, max_boxes,
                                                                deadline)
            piece_fns = [(arb_of_fraction(hi), compile_arb(texpr, x)) for lo, hi, texpr in pieces]

            def ev(X):
                """Ball of target - net at a point (the piece containing it, or the last one)."""
                for hi_a, tf in piece_fns:
                    if X <= hi_a:
                        return tf(X) - anet(X)
                return piece_fns[-1][1](X) - anet(X)

            arg = (float(arg),) if arg is not None else ()
        else:
            if net.depth != 1 or net.output_dim != 1:
                raise ValueError("net: multi-dimensional certification supports one hidden layer "
                                 "and scalar output (the product gate)")
            if not net.activation.is_smooth:
                raise ValueError("net: multi-dimensional certification needs a smooth activation")
            ridge = _Ridge2D(net, target, order)
            lo0 = tuple([-M] * dim)
            hi0 = tuple([M] * dim)
            upper, lower, arg, nbox, conv = branch_and_bound_nd(ridge.box, lo0, hi0, rtol, atol,
                                                                max_boxes, deadline)
            ev = ridge.value
            arg = tuple(float(a) for a in arg)
        rig_up = arb_to_mpf(upper, "upper")
        rig_lo = arb_to_mpf(lower, "lower")
        f64, samp = _float64_and_sampled(net, target, M, dim, ev, pieces, grid)
    seconds = time.perf_counter() - t_start
    holds = bool(eps_f is not None and rig_up <= eps_f)
    f64_holds = bool(eps_f is not None and f64 <= eps_f)
    floor = _float64_floor(net)
    msgs = []
    if eps_f is not None:
        if holds:
            msgs.append(f"Certified: the exact net's error is at most {mpmath.nstr(rig_up, 4)} "
                        f"<= eps = {eps_f:.3g} on the whole domain (ball arithmetic, {nbox} boxes).")
        else:
            msgs.append(f"NOT certified: the exact net's error can reach {mpmath.nstr(rig_up, 4)} "
                        f"> eps = {eps_f:.3g} (a point with error >= {mpmath.nstr(rig_lo, 4)} "
                        f"exists near x = {arg}).")
        if holds and not f64_holds:
            msgs.append(
                f"float64 cannot realise this accuracy: its evaluation errs by up to {f64:.3g} > eps. "
                f"The output layer adds terms of size up to {floor / _U64:.3g} whose rounding "
                f"(unit roundoff 1.1e-16) leaves an error floor of about {floor:.2g}; the "
                "certificate above is about the exact-arithmetic net.")
        elif not holds:
            msgs.append(f"The float64 evaluation errs by up to {f64:.3g}.")
    if not conv:
        msgs.append("The refinement budget ran out: the rigorous bound is valid but not tight.")
    pb = None if net.proven_bound is None else float(sp.N(net.proven_bound, 30))
    return Certificate(
        net_name=net.name, M=float(M), dim=dim, rigorous_sup_error=rig_up, rigorous_lower=rig_lo,
        argmax=arg, sampled_sup_error=samp, float64_sup_error=f64, proven_bound=pb, eps=eps_f,
        holds=holds, float64_holds=f64_holds, converged=conv, n_boxes=nbox, seconds=seconds,
        dps=dps, float64_floor=floor, message=" ".join(msgs),
    )
