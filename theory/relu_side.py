"""The deep-ReLU side of the comparison (paper Lemma 1 and eq. (3); MATH.md s.1).

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

from .activations import get_activation, relu, sigmoid
from .gates import check_eps, check_M
from .net import Net, input_symbols

__all__ = ["yarotsky_square", "relu_lower_bound", "LowerBound", "relu_size_needed"]


def yarotsky_square(eps, M) -> Net:
    """Lemma 1 (Yarotsky 2017, Prop. 2): a deep ReLU net approximating ``x^2`` on ``[-M, M]``.

    With the tooth ``g(y) = 2 relu(y) - 4 relu(y - 1/2) + 2 relu(y - 1)`` on ``[0, 1]``,
    ``g_s`` its ``s``-fold composition and ``f_m(y) = y - sum_{s<=m} g_s(y)/4^s``,
    ``sup_{[0,1]} |f_m(y) - y^2| = 4^-(m+1)`` (MATH.md s.1).  Here ``x^2 = M^2 y^2`` with
    ``y = |x|/M = relu(x/M) + relu(-x/M)``; ``m`` is the least integer with
    ``M^2 4^-(m+1) <= eps``.  Layers: ``|x|`` (width 2), then ``m`` layers of width 4
    ``[relu(z), relu(z - 1/2), relu(z - 1), relu(acc)]`` carrying the tooth input ``z`` and
    the partial sum ``acc = f_{s-1}(y) >= 0``; depth ``m + 1``.
    """
    eps = check_eps(eps)
    M = check_M(M)
    m = max(1, math.ceil(float(sp.N(sp.log(M ** 2 / eps, 4) - 1, 30))))
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
        ``(2 width)^depth``, the most linear pieces of a 1-D ReLU net (Telgarsky 2015).
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


def relu_lower_bound(M, depth: int, width: int, activation=sigmoid, n_candidates: int = 16) -> LowerBound:
    """Certified lower bound on the sup error of any ReLU net (``depth`` hidden layers of
    ``width`` units, 1-D input) approximating ``activation`` on ``[-M, M]``.

    A 1-D ReLU net of depth L and width W is piecewise linear with at most ``P = (2W)^L``
    pieces.  On a sub-interval ``J`` where ``|sigma''| >= c``, some piece covers a part of
    ``J`` of length ``h >= |J|/P``; a linear function ``l`` on an interval of length ``h``
    has ``sup |sigma - l| >= c h^2/16`` (the second difference over the half-intervals is
    ``>= c h^2/4``).  ``c`` is certified by interval arithmetic; ``J`` is chosen among
    ``n_candidates`` intervals ``[a, M]`` and the best bound returned (MATH.md s.1, converse
    of Theorem 3; the paper's eq. (3)).
    """
    from .certify import certified_inf_abs

    M = check_M(M)
    for name, val in (("depth", depth), ("width", width)):
        if not isinstance(val, int) or isinstance(val, bool) or val < 1:
            raise ValueError(f"{name}: expected a positive integer, got {val!r}")
    act = get_activation(activation)
    act.require_smooth("activation")
    d2 = act.derivative(2)
    P = (2 * width) ** depth
    best = None
    for i in range(n_candidates):
        a = M * sp.Rational(i, n_candidates)
        for lo, hi in ((a, M), (-M, -a)):
            c = certified_inf_abs(d2, act.symbol, lo, hi, pieces=32)
            if c <= 0:
                continue
            with mpmath.workdps(30):
                h = mpmath.mpf(sp.N(hi - lo, 30)) / P
                val = c * h * h / 16
            if best is None or val > best.value:
                best = LowerBound(val, P, (float(lo), float(hi)), c, depth, width, float(M))
    if best is None:
        raise ValueError(f"activation: sigma'' of {act.name!r} vanishes on every candidate interval")
    return best


def relu_size_needed(eps, M, depth: int, activation=sigmoid) -> int:
    """Smallest width ``W`` for which :func:`relu_lower_bound` no longer exceeds ``eps``
    (a ReLU net of this depth and a smaller width cannot reach ``eps``)."""
    eps = check_eps(eps)
    lo, hi = 1, 1
    while float(relu_lower_bound(M, depth, hi, activation, n_candidates=8).value) > eps:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if float(relu_lower_bound(M, depth, mid, activation, n_candidates=8).value) > eps:
            lo = mid + 1
        else:
            hi = mid
    return lo
