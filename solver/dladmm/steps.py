"""The dlADMM step formulas, used by the engine (:mod:`solver.dladmm.engine`) and by the numpy
twins of the compiled kernels (:mod:`solver.dladmm.kernels`).

The softmax and cross-entropy of the output layer, the losses and their gradients, the exact
hidden ReLU ``z_l`` step, the authors' FISTA and the exact solver of the ``z_L`` step, the
smooth-activation ``z_l`` step, and the closed-form accepted constant of the backtracking
(:func:`accepted_constant`; the authors' loop kept as :func:`backtracking_reference`).  They
live below the engine and the kernels, so that neither imports the other (issue 20: no
import circle).
"""

from __future__ import annotations

import math

import numpy as np

from ..elementwise import kernels_for

__all__ = ["softmax", "cross_entropy", "relu_z_step", "zl_fista_authors", "accepted_constant",
           "backtracking_reference", "LOSS_H", "smooth_z_step", "zl_exact"]

def softmax(Z):
    """Column-wise softmax (max-shifted)."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def cross_entropy(Z, Y):
    """``-sum Y log softmax(Z)`` over every column (the authors' summed loss), stably."""
    M = Z.max(axis=0, keepdims=True)
    lse = (M + np.log(np.exp(Z - M).sum(axis=0, keepdims=True)))
    return float(np.sum(Y.sum(axis=0, keepdims=True) * lse) - np.sum(Y * Z))


def relu_z_step(m, a, z_old=None, kappa=0.0):
    """Exact per-entry minimiser of ``(z - m)^2 + (a - relu(z))^2 + kappa (z - z_old)^2``.

    Two branches: ``z <= 0`` (minimiser ``min((m + kappa z_old)/(1 + kappa), 0)``) and
    ``z >= 0`` (``max((m + a + kappa z_old)/(2 + kappa), 0)``); the branch of smaller value
    wins, ties to ``z <= 0`` (the authors' ``update_z``; ``kappa = 0``).
    """
    if kappa:
        z1 = np.minimum((m + kappa * z_old) / (1.0 + kappa), 0.0)
        z2 = np.maximum((m + a + kappa * z_old) / (2.0 + kappa), 0.0)
        v1 = (z1 - m) ** 2 + (a - z1.clip(min=0)) ** 2 + kappa * (z1 - z_old) ** 2
        v2 = (z2 - m) ** 2 + (a - z2) ** 2 + kappa * (z2 - z_old) ** 2
        return np.where(v1 > v2, z2, z1)
    # kappa = 0: v1 = (z1 - m)^2 + a^2 = max(m, 0)^2 + a^2 bit for bit (z1 - m is 0 or -m exactly)
    v1 = np.maximum(m, 0.0)
    v1 *= v1
    v1 += a * a
    z2 = m + a
    z2 /= 2.0
    np.maximum(z2, 0.0, out=z2)
    t = z2 - m
    t *= t
    v2 = a - z2
    v2 *= v2
    v2 += t
    return np.where(v1 > v2, z2, np.minimum(m, 0.0))


def zl_fista_authors(m, u, Y, rho, z0, max_iter=500, tol=1e-3, eta=4.0):
    """The authors' FISTA for ``min_z CE(z) + rho/2 ||z - m + u/rho||^2`` (their semantics).

    ``F`` is evaluated at the current iterate before each step; the loop stops when it changed
    by less than ``tol`` (absolute, on the summed objective) or after ``max_iter`` steps.  Each
    step is a proximal-gradient step of size ``eta`` on the cross-entropy with the exact prox
    of the quadratic, then the momentum combination of the two latest prox points with
    ``gamma = (1 - lambda_{j-1}) / lambda_j``.  Returns ``(z, iterations)``.
    """
    c = rho * (m - u / rho)
    F = 10e10
    z, zeta, lam = z0, z0, 1.0
    denom = rho + 1.0 / eta
    for i in range(max_iter):
        F_old = F
        D = z - m + u / rho
        F = cross_entropy(z, Y) + 0.5 * rho * float(np.vdot(D, D))
        if abs(F - F_old) < tol:
            return z, i
        lam_old = lam
        lam = (1.0 + math.sqrt(1.0 + 4.0 * lam * lam)) / 2.0
        gamma = (1.0 - lam_old) / lam
        G = softmax(z) - Y
        zeta_old = zeta
        zeta = (c + (z - eta * G) / eta) / denom
        z = (1.0 - gamma) * zeta + gamma * zeta_old
    return z, max_iter


#: Lipschitz constant H of grad R for each loss (per sample; the claim needs rho > 2H)
LOSS_H = {"squared": 1.0, "cross_entropy": 0.5}


# ------------------------------------------------------------------------------ losses
def _loss(kind, Z, Y):
    if kind == "squared":
        D = Z - Y
        return 0.5 * float(np.vdot(D, D))
    return cross_entropy(Z, Y)


def _loss_grad(kind, Z, Y):
    if kind == "squared":
        return Z - Y
    return softmax(Z) * Y.sum(axis=0, keepdims=True) - Y


# ------------------------------------------------------------------ step constants
def accepted_constant(t0, c):
    """Smallest ``t = t0 * 2^j`` (``j >= 0``) with ``t >= c``: the constant the doubling loop accepts.

    For a quadratic block objective ``phi`` with gradient ``g`` at the current point, the
    step ``x - g / t`` satisfies the quadratic upper bound
    ``phi(x - g/t) <= phi(x) - ||g||^2 / t + t/2 ||g/t||^2`` iff ``t >= c``, with
    ``c = <g, Hess g> / ||g||^2`` (``c = 0`` when ``g = 0``); the authors' loop starts at
    ``t0`` and doubles while the bound fails, so it stops at the value returned here
    (docs/methods/dladmm.md, "Step constants").
    """
    t0 = float(t0)
    if not c > t0:                 # also c = nan from g = 0 (0/0): the bound holds at t0
        return t0
    j = max(0, math.ceil(math.log2(c / t0)))
    while t0 * 2.0 ** j < c:       # guard the log's rounding
        j += 1
    while j > 0 and t0 * 2.0 ** (j - 1) >= c:
        j -= 1
    return t0 * 2.0 ** j


def backtracking_reference(phi, grad, x, t0, factor=2.0, max_doublings=2000):
    """The doubling loop that :func:`accepted_constant` replaces (reference; evaluates ``phi``).

    Starting from ``t = t0``: while ``phi(x - g/t) > phi(x) + <g, -g/t> + t/2 ||g/t||^2``,
    ``t *= factor``.  Returns ``(x - g/t, t)``.
    """
    g = grad
    fx, gg = phi(x), float(np.vdot(g, g))
    t = float(t0)
    for _ in range(max_doublings):
        x_new = x - g / t
        if not phi(x_new) > fx - gg / t + 0.5 * t * gg / (t * t):
            return x_new, t
        t *= factor
    raise RuntimeError("backtracking_reference: no acceptable constant")


# ---------------------------------------------------------------------- z steps
_GOLD = (math.sqrt(5.0) - 1.0) / 2.0


def smooth_z_step(m, a, act, z_old=None, kappa=0.0, n_grid=65, n_golden=50):
    """Per-entry minimiser of ``q(z) = (z - m)^2 + (a - f(z))^2 + kappa (z - z_old)^2`` for a
    smooth bounded ``f`` (sigmoid, tanh): our extension (the authors' code is ReLU only).

    Every stationary point lies within ``B = (|a| + sup|f|) sup|f'| / (1 + kappa)`` of
    ``mt = (m + kappa z_old)/(1 + kappa)``; a grid of ``n_grid`` points on that bracket picks
    the basin, golden-section search refines it.  With ``z_old`` given the result never has a
    larger ``q`` than ``z_old`` (safeguard; the descent the claim needs).
    """
    zo = z_old if z_old is not None else m
    mt = (m + kappa * zo) / (1.0 + kappa) if kappa else m
    act = kernels_for(act)
    B = (np.abs(a) + act.fmax) * act.d1max / (1.0 + kappa)

    def q(z):
        r = a - act.f(z)
        out = (1.0 + kappa) * (z - mt) ** 2 + r * r
        return out

    s = np.linspace(-1.0, 1.0, n_grid)
    best_v = np.full(m.shape, np.inf)
    best_j = np.zeros(m.shape, dtype=np.intp)
    for j, sj in enumerate(s):
        v = q(mt + sj * B)
        better = v < best_v
        best_v = np.where(better, v, best_v)
        best_j = np.where(better, j, best_j)
    h = 2.0 / (n_grid - 1)
    lo = mt + (s[best_j] - h) * B
    hi = mt + (s[best_j] + h) * B
    x1 = hi - _GOLD * (hi - lo)
    x2 = lo + _GOLD * (hi - lo)
    f1, f2 = q(x1), q(x2)
    for _ in range(n_golden):
        left = f1 <= f2                    # minimum in [lo, x2]
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        nx1 = np.where(left, hi - _GOLD * (hi - lo), x2)
        nx2 = np.where(left, x1, lo + _GOLD * (hi - lo))
        nf1 = np.where(left, q(nx1), f2)
        nf2 = np.where(left, f1, q(nx2))
        x1, x2, f1, f2 = nx1, nx2, nf1, nf2
    z = np.where(f1 <= f2, x1, x2)
    zq = np.minimum(f1, f2)
    gq = mt + s[best_j] * B               # the grid point itself may be better than the cell's search
    z = np.where(best_v < zq, gq, z)
    if z_old is not None:
        z = np.where(q(z) <= q(z_old), z, z_old)
    return z


# ------------------------------------------------------------------------ z_L steps
def zl_exact(m, u, Y, rho, z0, H=0.5, rtol=1e-12, max_iter=20000):
    """``argmin_z CE(z) + <u, z - m> + rho/2 ||z - m||^2`` to a relative gradient tolerance.

    Accelerated proximal gradient for a ``rho``-strongly convex composite (step ``1/H`` on
    the cross-entropy, exact prox of the quadratic, constant momentum
    ``(1 - sqrt(q)) / (1 + sqrt(q))``, ``q = rho / (H + rho)``); stops when
    ``||grad|| <= rtol * max(1, ||grad CE||)``.  Returns ``(z, iterations, relative residual)``.
    """
    c = m - u / rho
    q = rho / (H + rho)
    beta = (1.0 - math.sqrt(q)) / (1.0 + math.sqrt(q))
    z = z_prev = z0
    rel = np.inf
    for i in range(max_iter):
        G = softmax(z) - Y
        grad = G + rho * (z - c)
        rel = float(np.linalg.norm(grad)) / max(1.0, float(np.linalg.norm(G)))
        if rel <= rtol:
            return z, i, rel
        yv = z + beta * (z - z_prev)
        Gy = softmax(yv) - Y
        z_prev, z = z, (H * yv - Gy + rho * c) / (H + rho)
    return z, max_iter, rel
