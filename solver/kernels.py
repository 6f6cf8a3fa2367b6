"""Fused elementwise kernels of the compiled ADMM iteration (numba, ``cache=True``).

Every kernel makes one pass over a ``d x n`` block (features x samples, rows split
across threads with ``prange``), evaluating the activation and its derivative once per
entry and writing straight into a preallocated buffer, so the elementwise work of an
iteration (sigma, sigma', the LLA gradient ``G``, residual norms) costs a few memory
sweeps and no temporaries.  Matrix products and triangular solves stay in BLAS/LAPACK
(:mod:`solver.admm`).

Activations are selected by the built-in ``kernel_id`` of :mod:`theory.activations`;
the logistic sigmoid (id 0) gets a branch-free form (``1/(1+e^{-t})`` and
``e s^2`` with the exponent clamped), the others use :mod:`theory._kernels`.

Each kernel has a plain numpy twin in :data:`NUMPY_KERNELS` (same signature, an
``Activation`` in place of the id): the reference the compiled kernels are tested
against, and the path used for user-defined activations without a ``kernel_id``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from theory import _kernels as _tk

__all__ = [
    "act_f", "act_d1", "bmax", "lla_rhs", "activation_rhs", "multiplier_update",
    "activate", "sq_diff", "NUMBA_KERNELS", "NUMPY_KERNELS",
]

_JIT = dict(cache=True, nogil=True)
_PJIT = dict(cache=True, nogil=True, parallel=True)


# ----------------------------------------------------------------- scalar activation
@numba.njit(inline="always", **_JIT)
def act_f(kid, t):
    """sigma(t) for the built-in ``kid`` (sigmoid branch-free: vectorisable)."""
    if kid == 0:
        return 1.0 / (1.0 + math.exp(-t))
    return _tk.dispatch_f(kid, t)


@numba.njit(inline="always", **_JIT)
def act_fd(kid, t):
    """``(sigma(t), sigma'(t))`` sharing one exponential for the sigmoid."""
    if kid == 0:
        # one exponential: e = e^{-t} (clamped finite); s' = e s^2 keeps full relative
        # accuracy in the right tail where s (1 - s) cancels; below t = -700 both are < 1e-304
        e = math.exp(-max(t, -700.0))
        s = 1.0 / (1.0 + e)
        return s, e * s * s
    return _tk.dispatch_f(kid, t), _tk.dispatch_d1(kid, t)


@numba.njit(inline="always", **_JIT)
def act_d1(kid, t):
    return act_fd(kid, t)[1]


# ------------------------------------------------------------------------ kernels
@numba.njit(**_PJIT)
def bmax(V, Lam, inv_beta):
    """``||V - Lam / beta||_max`` (the ``B`` of an LLA step, MATH.md step 2)."""
    d, n = V.shape
    rowmax = np.zeros(d)
    for r in prange(d):
        m = 0.0
        for k in range(n):
            a = abs(V[r, k] - Lam[r, k] * inv_beta)
            if a > m:
                m = a
        rowmax[r] = m
    return rowmax.max() if d else 0.0


@numba.njit(**_PJIT)
def lla_rhs(kid, P, b, V, Lam, inv_beta, c, c_on_bias, out):
    """``out = c * (P + [c_on_bias] b) - G``, ``G = (sigma(u) - B) sigma'(u)``, ``u = P + b``.

    ``B = V - Lam/beta``.  Step 2 (``P = U0`` with bias, ``b = 0``) and step 3
    (``P = Wbar V^{k-1}``, ``b`` the bias, ``c_on_bias = False``: ``c Wbar V - G``).
    ``out`` may alias ``P``.
    """
    d, n = P.shape
    for r in prange(d):
        br = b[r]
        cb = c * br if c_on_bias else 0.0
        for k in range(n):
            p = P[r, k]
            s, ds = act_fd(kid, p + br)
            out[r, k] = c * p + cb - (s - (V[r, k] - Lam[r, k] * inv_beta)) * ds


@numba.njit(**_PJIT)
def activation_rhs(kid, Z, b, Lam, alpha, R, gamma, out):
    """``Z <- Z + b`` (in place) and ``out = alpha sigma(Z) + Lam + gamma R``.

    Right-hand sides of steps 3 (``alpha = beta_i``, ``gamma = beta_{i+1}``) and 4
    (``gamma = -1``).  ``out`` may alias ``R``.
    """
    d, n = Z.shape
    for r in prange(d):
        br = b[r]
        for k in range(n):
            z = Z[r, k] + br
            Z[r, k] = z
            out[r, k] = alpha * act_f(kid, z) + Lam[r, k] + gamma * R[r, k]


@numba.njit(**_PJIT)
def multiplier_update(kid, Z, V, Lam, beta, want_q, Q):
    """Step 6 for a hidden layer, fused with the sums the trace needs.

    ``F = sigma(Z) - V``; ``Lam <- Lam + beta F`` (in place); if ``want_q``,
    ``Q = Lam * sigma'(Z)`` (the KKT factor of paper eq. 24).  Returns
    ``(||F||^2, <Lam_new, F>, ||Lam_new||^2, ||V||^2)``.
    """
    d, n = Z.shape
    acc = np.zeros((d, 4))
    for r in prange(d):
        f2 = 0.0
        lf = 0.0
        l2 = 0.0
        v2 = 0.0
        for k in range(n):
            v = V[r, k]
            if want_q:
                s, ds = act_fd(kid, Z[r, k])
            else:
                s = act_f(kid, Z[r, k])
                ds = 0.0
            f = s - v
            lam = Lam[r, k] + beta * f
            Lam[r, k] = lam
            if want_q:
                Q[r, k] = lam * ds
            f2 += f * f
            lf += lam * f
            l2 += lam * lam
            v2 += v * v
        acc[r, 0] = f2
        acc[r, 1] = lf
        acc[r, 2] = l2
        acc[r, 3] = v2
    tot = acc.sum(axis=0)
    return tot[0], tot[1], tot[2], tot[3]


@numba.njit(**_PJIT)
def activate(kid, Z, b, out):
    """``out = sigma(Z + b)`` (forward pass; ``out`` may alias ``Z``)."""
    d, n = Z.shape
    for r in prange(d):
        br = b[r]
        for k in range(n):
            out[r, k] = act_f(kid, Z[r, k] + br)


@numba.njit(**_PJIT)
def sq_diff(A, B):
    """``||A - B||_F^2``."""
    d, n = A.shape
    acc = np.zeros(d)
    for r in prange(d):
        s = 0.0
        for k in range(n):
            t = A[r, k] - B[r, k]
            s += t * t
        acc[r] = s
    return acc.sum()


NUMBA_KERNELS = {
    "bmax": bmax, "lla_rhs": lla_rhs, "activation_rhs": activation_rhs,
    "multiplier_update": multiplier_update, "activate": activate, "sq_diff": sq_diff,
}


# ------------------------------------------------------- numpy reference kernels
def _np_bmax(V, Lam, inv_beta):
    return float(np.max(np.abs(V - Lam * inv_beta))) if V.size else 0.0


def _np_lla_rhs(act, P, b, V, Lam, inv_beta, c, c_on_bias, out):
    u = P + b[:, None]
    G = (act(u) - (V - Lam * inv_beta)) * act.d1(u)
    out[...] = c * (u if c_on_bias else P) - G


def _np_activation_rhs(act, Z, b, Lam, alpha, R, gamma, out):
    Z += b[:, None]
    out[...] = alpha * act(Z) + Lam + gamma * R


def _np_multiplier_update(act, Z, V, Lam, beta, want_q, Q):
    F = act(Z) - V
    Lam += beta * F
    if want_q:
        Q[...] = Lam * act.d1(Z)
    return (float(np.sum(F * F)), float(np.sum(Lam * F)), float(np.sum(Lam * Lam)),
            float(np.sum(V * V)))


def _np_activate(act, Z, b, out):
    out[...] = act(Z + b[:, None])


def _np_sq_diff(A, B):
    return float(np.sum((A - B) ** 2))


NUMPY_KERNELS = {
    "bmax": _np_bmax, "lla_rhs": _np_lla_rhs, "activation_rhs": _np_activation_rhs,
    "multiplier_update": _np_multiplier_update, "activate": _np_activate, "sq_diff": _np_sq_diff,
}
