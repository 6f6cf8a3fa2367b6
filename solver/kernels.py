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
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from theory import _kernels as _tk

__all__ = [
    "exp_vec", "act_f", "act_d1", "bmax", "lla_rhs", "activation_rhs", "multiplier_update",
    "activate", "sq_diff", "symmetrize_from_lower", "NUMBA_KERNELS", "NUMPY_KERNELS",
]

_JIT = dict(cache=True, nogil=True)
_PJIT = dict(cache=True, nogil=True, parallel=True)


# ------------------------------------------------------------- vectorisable exp
@intrinsic
def _bits_as_f64(typingctx, x):
    """Reinterpret the bits of an int64 as a float64 (an LLVM ``bitcast``: vectorisable)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of log 2: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10


@numba.njit(**_JIT)
def exp_vec(x):
    """``e^x`` for ``x`` clamped to ``[-708, 709]`` (normal range), within 1 ulp of libm.

    Cody-Waite reduction ``x = k log 2 + r``, ``|r| <= log(2)/2``, degree-13 Taylor
    polynomial of ``e^r`` (truncation ``< 0.35^14/14! ~ 4e-18``), and ``2^k`` built from its
    bits.  Unlike ``math.exp`` (a libm call per entry) this is straight-line arithmetic,
    so LLVM vectorises the kernels' inner loops (about 3.5x faster per entry; numba's SVML
    path is not available with the PyPI llvmlite).  Below ``x = -708`` it returns
    ``e^-708 ~ 3e-308`` instead of a subnormal or 0: only used as ``1 / (1 + e)`` and
    ``e s^2`` of the sigmoid, where that is invisible at any tolerance.
    """
    x = min(max(x, -708.0), 709.0)
    k = math.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (
        1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (
            1 / 39916800 + r * (1 / 479001600 + r * (1 / 6227020800)))))))))))))
    return p * _bits_as_f64((np.int64(k) + 1023) << 52)


# ----------------------------------------------------------------- scalar activation
@numba.njit(inline="always", **_JIT)
def act_f(kid, t):
    """sigma(t) for the built-in ``kid`` (sigmoid branch-free: vectorisable)."""
    if kid == 0:
        return 1.0 / (1.0 + exp_vec(-t))
    return _tk.dispatch_f(kid, t)


@numba.njit(inline="always", **_JIT)
def act_fd(kid, t):
    """``(sigma(t), sigma'(t))`` sharing one exponential for the sigmoid."""
    if kid == 0:
        # one exponential: e = e^{-t} (clamped finite); s' = e s^2 keeps full relative
        # accuracy in the right tail where s (1 - s) cancels; below t = -700 both are < 1e-304
        e = exp_vec(-max(t, -700.0))
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


# Each kernel's inner loop over a row is an ``inline="always"`` function.  For the
# sigmoid the loop is straight-line arithmetic (:func:`exp_vec`, compiled as its own
# function and inlined by LLVM, which also unswitches the ``kid`` branch), so LLVM
# vectorises it.  Where the output may alias an input, the aliased case passes the
# *same* array for both: LLVM's runtime overlap check would otherwise send an exactly
# aliased call to the scalar loop (measured 7x slower).

@numba.njit(inline="always", **_JIT)
def _same(A, B):
    """Whether two arrays of the same shape start at the same address (full aliasing)."""
    return A.ctypes.data == B.ctypes.data and A.strides == B.strides

@numba.njit(inline="always", **_JIT)
def _lla_row(kid, P, b, V, Lam, inv_beta, c, c_on_bias, out, r, n):
    br = b[r]
    cb = c * br if c_on_bias else 0.0
    for k in range(n):
        p = P[r, k]
        s, ds = act_fd(kid, p + br)
        out[r, k] = c * p + cb - (s - (V[r, k] - Lam[r, k] * inv_beta)) * ds


@numba.njit(**_PJIT)
def lla_rhs(kid, P, b, V, Lam, inv_beta, c, c_on_bias, out):
    """``out = c * (P + [c_on_bias] b) - G``, ``G = (sigma(u) - B) sigma'(u)``, ``u = P + b``.

    ``B = V - Lam/beta``.  Step 2 (``P = U0`` with bias, ``b = 0``) and step 3
    (``P = Wbar V^{k-1}``, ``b`` the bias, ``c_on_bias = False``: ``c Wbar V - G``).
    ``out`` may alias ``P``.
    """
    d, n = P.shape
    inplace = _same(P, out)
    for r in prange(d):
        if inplace:
            _lla_row(kid, out, b, V, Lam, inv_beta, c, c_on_bias, out, r, n)
        else:
            _lla_row(kid, P, b, V, Lam, inv_beta, c, c_on_bias, out, r, n)


@numba.njit(inline="always", **_JIT)
def _activation_row(kid, Z, b, Lam, alpha, R, gamma, out, r, n):
    br = b[r]
    for k in range(n):
        z = Z[r, k] + br
        Z[r, k] = z
        out[r, k] = alpha * act_f(kid, z) + Lam[r, k] + gamma * R[r, k]


@numba.njit(**_PJIT)
def activation_rhs(kid, Z, b, Lam, alpha, R, gamma, out):
    """``Z <- Z + b`` (in place) and ``out = alpha sigma(Z) + Lam + gamma R``.

    Right-hand sides of steps 3 (``alpha = beta_i``, ``gamma = beta_{i+1}``) and 4
    (``gamma = -1``).  ``out`` may alias ``R``.
    """
    d, n = Z.shape
    inplace = _same(R, out)
    for r in prange(d):
        if inplace:
            _activation_row(kid, Z, b, Lam, alpha, out, gamma, out, r, n)
        else:
            _activation_row(kid, Z, b, Lam, alpha, R, gamma, out, r, n)


@numba.njit(fastmath={"reassoc"}, **_JIT)
def _row_sums(F, L, V):
    """``(sum F^2, sum L F, sum L^2, sum V^2)`` of 1-d rows, reassociated (vectorised)."""
    f2 = 0.0
    lf = 0.0
    l2 = 0.0
    v2 = 0.0
    for k in range(F.shape[0]):
        f, lam, v = F[k], L[k], V[k]
        f2 += f * f
        lf += lam * f
        l2 += lam * lam
        v2 += v * v
    return f2, lf, l2, v2


@numba.njit(inline="always", **_JIT)
def _multiplier_row(kid, Z, V, Lam, beta, want_q, Q, r, n):
    # elementwise pass (vectorised for the sigmoid), then the four sums over the row: a
    # reduction in the elementwise loop would keep it scalar (no reassociation allowed there:
    # exp_vec's reduction depends on the exact order)
    F = np.empty(n)
    if want_q:
        for k in range(n):
            s, ds = act_fd(kid, Z[r, k])
            f = s - V[r, k]
            lam = Lam[r, k] + beta * f
            Lam[r, k] = lam
            Q[r, k] = lam * ds
            F[k] = f
    else:
        for k in range(n):
            f = act_f(kid, Z[r, k]) - V[r, k]
            Lam[r, k] = Lam[r, k] + beta * f
            F[k] = f
    return _row_sums(F, Lam[r], V[r])


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
        if kid == 0:  # literal: the untracked sigmoid loop is vectorised only this way
            f2, lf, l2, v2 = _multiplier_row(0, Z, V, Lam, beta, want_q, Q, r, n)
        else:
            f2, lf, l2, v2 = _multiplier_row(kid, Z, V, Lam, beta, want_q, Q, r, n)
        acc[r, 0] = f2
        acc[r, 1] = lf
        acc[r, 2] = l2
        acc[r, 3] = v2
    tot = acc.sum(axis=0)
    return tot[0], tot[1], tot[2], tot[3]


@numba.njit(inline="always", **_JIT)
def _activate_row(kid, Z, b, out, r, n):
    br = b[r]
    for k in range(n):
        out[r, k] = act_f(kid, Z[r, k] + br)


@numba.njit(**_PJIT)
def activate(kid, Z, b, out):
    """``out = sigma(Z + b)`` (forward pass; ``out`` may alias ``Z``)."""
    d, n = Z.shape
    inplace = _same(Z, out)
    for r in prange(d):
        if inplace:
            _activate_row(kid, out, b, out, r, n)
        else:
            _activate_row(kid, Z, b, out, r, n)


@numba.njit(fastmath={"reassoc"}, **_PJIT)
def sq_diff(A, B):
    """``||A - B||_F^2`` (summed in a reassociated, vectorised order)."""
    d, n = A.shape
    acc = np.zeros(d)
    for r in prange(d):
        s = 0.0
        for k in range(n):
            t = A[r, k] - B[r, k]
            s += t * t
        acc[r] = s
    return acc.sum()


@numba.njit(**_JIT)
def symmetrize_from_lower(A):
    """``A[i, j] <- A[j, i]`` for ``i < j`` (complete a lower triangle from LAPACK, in place)."""
    d = A.shape[0]
    for j in range(d):
        for i in range(j + 1, d):
            A[j, i] = A[i, j]


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
