"""The deep-ReLU side of the comparison (paper Lemma 1 and eq. (3); docs/theory.md).

* :func:`yarotsky_square` -- Yarotsky's deep ReLU square gate (Lemma 1): depth grows like
  ``log(1/eps)``, in contrast with the one hidden layer of Lemma 2;
* :func:`relu_lower_bound` -- a certified lower bound on the sup error of *any* ReLU net of
  given depth and width approximating a smooth activation on ``[-M, M]`` (the converse of
  Theorem 3, Petersen-Voigtlaender Thm 4.5 in elementary form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from ._args import ActivationLike, RealLike, check_eps, check_M, check_positive_int
from .activations import get_activation, relu, sigmoid
from .enclosure import certified_inf_abs
from .net import Net, input_symbols

__all__ = ["yarotsky_square", "relu_lower_bound", "LowerBound", "relu_size_needed",
           "max_linear_pieces"]

# relu_lower_bound: candidate sub-intervals J = [a, M] (and mirrored) tried, the pieces
# of J on which |sigma''| is bounded below by interval arithmetic, and the digits of the
# final mpmath arithmetic.
LOWER_BOUND_CANDIDATES = 16
CURVATURE_PIECES = 32
LOWER_BOUND_DPS = 30
# relu_size_needed: candidates per width tried (the search evaluates many widths).
SIZE_SEARCH_CANDIDATES = 8
# yarotsky_square: digits of the first guess of m = log_4(M^2 / eps) - 1 (then checked exactly).
_DEPTH_GUESS_DPS = 30


def yarotsky_square(eps: RealLike, M: RealLike) -> Net:
    """Lemma 1 (Yarotsky 2017, Prop. 2): a deep ReLU net approximating ``x^2`` on ``[-M, M]``.

    With the tooth ``g(y) = 2 relu(y) - 4 relu(y - 1/2) + 2 relu(y - 1)`` on ``[0, 1]``,
    ``g_s`` its ``s``-fold composition and ``f_m(y) = y - sum_{s<=m} g_s(y)/4^s``,
    ``sup_{[0,1]} |f_m(y) - y^2| = 4^-(m+1)`` (paper Lemma 1).  Here ``x^2 = M^2 y^2`` with
    ``y = |x|/M = relu(x/M) + relu(-x/M)``; ``m`` is the least integer with
    ``M^2 4^-(m+1) <= eps``.  Layers: ``|x|`` (width 2), then ``m`` layers of width 4
    ``[relu(z), relu(z - 1/2), relu(z - 1), relu(acc)]`` carrying the tooth input ``z`` and
    the partial sum ``acc = f_{s-1}(y) >= 0``; depth ``m + 1``.
    """
    eps = check_eps(eps)
    M = check_M(M)
    m = max(1, math.ceil(float(sp.N(sp.log(M ** 2 / eps, 4) - 1, _DEPTH_GUESS_DPS))))
    while M ** 2 * sp.Rational(1, 4 ** (m + 1)) > eps:
        m += 1
    half = sp.Rational(1, 2)
    layers = [(sp.Matrix([[1 / M], [-1 / M]]), sp.Matrix([0, 0]))]
    # layer 2: z = y = h1 + h2, acc = y
    layers.append((sp.Matrix([[1, 1], [1, 1], [1, 1], [1, 1]]), sp.Matrix([0, -half, -1, 0])))
    g_row = [2, -4, 2, 0]  # g_s as a combination of the previous width-4 layer
    for s in range(1, m):
        acc_row = [-sp.Rational(2, 4 ** s), sp.Rational(4, 4 ** s), -sp.Rational(2, 4 ** s), 1]
        W = sp.Matrix([g_row, g_row, g_row, acc_row])
        b = sp.Matrix([0, -half, -1, 0])
        layers.append((W, b))
    out = [M ** 2 * v for v in (-sp.Rational(2, 4 ** m), sp.Rational(4, 4 ** m), -sp.Rational(2, 4 ** m), 1)]
    layers.append((sp.Matrix([out]), sp.Matrix([0])))
    (x,) = input_symbols(1)
    return Net(layers_exact=layers, activation=relu, name="yarotsky_square",
               proven_bound=M ** 2 * sp.Rational(1, 4 ** (m + 1)), eps=eps, M=M, target=x ** 2,
               reference="Lemma 1 (Yarotsky 2017, Prop. 2)", info={"m": m})


@dataclass(frozen=True)
class LowerBound:
    """Certified lower bound on ``inf_{ReLU nets} sup_{[-M,M]} |sigma - net|``.

    Attributes
    ----------
    value : mpmath.mpf
        ``c h^2 / 16`` with ``h = |J| / pieces``.
    pieces : int
        The most linear pieces of a 1-D ReLU net (:func:`max_linear_pieces`).
    interval : (float, float)
        The sub-interval ``J`` of ``[-M, M]`` used.
    curvature : mpmath.mpf
        Certified ``min_J |sigma''|``.
    """

    value: mpmath.mpf
    pieces: int
    interval: tuple
    curvature: mpmath.mpf
    depth: int
    width: int
    M: float

    def __float__(self) -> float:
        return float(self.value)


def max_linear_pieces(depth: int, width: int) -> int:
    """Most linear pieces of a 1-D ReLU net with ``depth`` hidden layers of ``width`` units.

    Depth 1: ``width + 1``, exact (each unit ``relu(w x + b)`` adds at most one breakpoint,
    and ``width`` distinct breakpoints are attained).  Deeper: ``(2 width)^depth``
    (Telgarsky 2015), an upper bound.
    """
    if depth == 1:
        return width + 1
    return (2 * width) ** depth


def relu_lower_bound(M: RealLike, depth: int, width: int, activation: ActivationLike = sigmoid,
                     n_candidates: int = LOWER_BOUND_CANDIDATES) -> LowerBound:
    """Certified lower bound on the sup error of any ReLU net (``depth`` hidden layers of
    ``width`` units, 1-D input) approximating ``activation`` on ``[-M, M]``.

    A 1-D ReLU net of depth L and width W is piecewise linear with at most ``P`` pieces
    (:func:`max_linear_pieces`: ``W + 1`` at depth 1, exact; ``(2W)^L`` beyond)
    pieces.  On a sub-interval ``J`` where ``|sigma''| >= c``, some piece covers a part of
    ``J`` of length ``h >= |J|/P``; a linear function ``l`` on an interval of length ``h``
    has ``sup |sigma - l| >= c h^2/16`` (the second difference over the half-intervals is
    ``>= c h^2/4``).  ``c`` is certified by interval arithmetic; ``J`` is chosen among
    ``2 n_candidates`` intervals ``[a, M]`` and ``[-M, -a]`` (``a = i M / n_candidates``) and
    the best bound returned (converse of the paper's Theorem 3; eq. (3)).
    """
    M = check_M(M)
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    act = get_activation(activation)
    act.require_smooth("activation")
    d2 = act.derivative(2)
    P = max_linear_pieces(depth, width)
    best = None
    for i in range(n_candidates):
        a = M * sp.Rational(i, n_candidates)
        for lo, hi in ((a, M), (-M, -a)):
            c = certified_inf_abs(d2, act.symbol, lo, hi, pieces=CURVATURE_PIECES)
            if c <= 0:
                continue
            with mpmath.workdps(LOWER_BOUND_DPS):
                h = mpmath.mpf(sp.N(hi - lo, LOWER_BOUND_DPS)) / P
                val = c * h * h / 16
            if best is None or val > best.value:
                best = LowerBound(val, P, (float(lo), float(hi)), c, depth, width, float(M))
    if best is None:
        raise ValueError(f"activation: sigma'' of {act.name!r} vanishes on every candidate interval")
    return best


def relu_size_needed(eps: RealLike, M: RealLike, depth: int, activation: ActivationLike = sigmoid) -> int:
    """Smallest width ``W`` for which :func:`relu_lower_bound` no longer exceeds ``eps``
    (a ReLU net of this depth and a smaller width cannot reach ``eps``)."""
    eps = check_eps(eps)
    lo, hi = 1, 1
    while float(relu_lower_bound(M, depth, hi, activation,
                                 n_candidates=SIZE_SEARCH_CANDIDATES).value) > eps:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if float(relu_lower_bound(M, depth, mid, activation,
                                  n_candidates=SIZE_SEARCH_CANDIDATES).value) > eps:
            lo = mid + 1
        else:
            hi = mid
    return lo
