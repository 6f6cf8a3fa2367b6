"""The dlADMM step formulas shared by :mod:`solver.dladmm` and the numpy twins of
:mod:`solver.dladmm_kernels` (private; :mod:`solver.dladmm` exports them).

The softmax and cross-entropy of the output layer, the exact hidden ReLU ``z_l`` step and the
authors' FISTA for the softmax ``z_L`` step.  They live here, below both modules, so that the
kernels module does not import the method module (issue 20: no import circle).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["softmax", "cross_entropy", "relu_z_step", "zl_fista_authors"]


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
