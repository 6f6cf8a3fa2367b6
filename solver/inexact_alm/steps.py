"""The exact block maps of the inexact ALM's inner sweep, used by the engine
(:mod:`solver.inexact_alm.engine`) and by the numpy twins of the compiled kernels
(:mod:`solver.inexact_alm.kernels`).

The prox of the group norm and the entrywise minimisers of the piecewise quadratics of the
``U`` / ``(U, V)`` steps.  They live here, below both, so that the kernels module does not
import the engine (issue 20: no import circle).
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_soft_threshold", "scalar_piecewise_min", "joint_piecewise_min"]


def group_soft_threshold(Z, t):
    """Prox of ``t ||.||_{2,1}`` (column groups): ``Z_j max(0, 1 - t_j / ||Z_j||)``.

    The minimiser of ``1/2 ||W - Z||^2 + t sum_j ||W_j||``; ``t`` a scalar or one per column.
    Optimality (tested): ``Z_j - W_j = t W_j / ||W_j||`` where ``W_j != 0``, ``||Z_j|| <= t``
    where ``W_j = 0``.
    """
    nrm = np.sqrt(np.einsum("ij,ij->j", Z, Z))
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(nrm > t, 1.0 - t / nrm, 0.0)
    return Z * shrink


def scalar_piecewise_min(q, c, rho, p1, r1, p2, r2):
    """Entrywise minimiser of ``q/2 u^2 - c u + rho/2 (max(0, p1 u + r1)^2 + max(0, p2 u + r2)^2)``.

    ``q > 0`` (array or scalar), ``p1, p2`` nonzero scalars, ``c, r1, r2`` arrays.  The
    function is strongly convex and C^1 with a piecewise linear derivative, so its minimiser
    is the stationary point of one of the four active sets ``S``:
    ``u_S = (c - rho sum_{i in S} p_i r_i) / (q + rho sum_{i in S} p_i^2)``, and a ``u_S``
    consistent with ``S`` (``p_i u + r_i >= 0`` exactly for ``i in S``) has zero derivative,
    hence is the minimiser.  The candidate with the smallest inconsistency is returned (all
    four are tried, so rounding at a breakpoint cannot leave an entry without one).
    """
    best = None
    best_bad = None
    for s1 in (0.0, 1.0):
        for s2 in (0.0, 1.0):
            u = (c - rho * (s1 * p1 * r1 + s2 * p2 * r2)) / (q + rho * (s1 * p1 * p1 + s2 * p2 * p2))
            a1, a2 = p1 * u + r1, p2 * u + r2
            bad = (np.maximum(-a1, 0.0) if s1 else np.maximum(a1, 0.0)) + \
                  (np.maximum(-a2, 0.0) if s2 else np.maximum(a2, 0.0))
            if best is None:
                best, best_bad = u, bad
            else:
                take = bad < best_bad
                best = np.where(take, u, best)
                best_bad = np.where(take, bad, best_bad)
    return best


def joint_piecewise_min(rho, alpha, a, cu, Lc, v0, cv, l1, l2):
    """Entrywise minimiser over ``(u, v)`` of the strongly convex piecewise quadratic
    ``rho/2 (u - a)^2 - cu u + Lc/2 (v - v0)^2 + cv v
    + rho/2 max(0, u - v + l1)^2 + rho/2 max(0, alpha u - v + l2)^2`` (``rho, Lc > 0``).

    As in :func:`scalar_piecewise_min`: for each active set ``(S1, S2)`` the stationary point
    solves a 2 x 2 linear system (Cramer's rule); a solution consistent with its active set
    has zero gradient, hence is the minimiser; the least inconsistent candidate is returned.
    """
    best = best_bad = None
    for s1 in (0.0, 1.0):
        for s2 in (0.0, 1.0):
            h11 = rho * (1.0 + s1 + alpha * alpha * s2)
            h12 = -rho * (s1 + alpha * s2)
            h22 = Lc + rho * (s1 + s2)
            bu = rho * a + cu - rho * (s1 * l1 + alpha * s2 * l2)
            bv = Lc * v0 - cv + rho * (s1 * l1 + s2 * l2)
            det = h11 * h22 - h12 * h12
            u = (h22 * bu - h12 * bv) / det
            v = (h11 * bv - h12 * bu) / det
            g1, g2 = u - v + l1, alpha * u - v + l2
            bad = (np.maximum(-g1, 0.0) if s1 else np.maximum(g1, 0.0)) + \
                  (np.maximum(-g2, 0.0) if s2 else np.maximum(g2, 0.0))
            if best is None:
                best, best_bad = (u, v), bad
            else:
                take = bad < best_bad
                best = (np.where(take, u, best[0]), np.where(take, v, best[1]))
                best_bad = np.where(take, bad, best_bad)
    return best
