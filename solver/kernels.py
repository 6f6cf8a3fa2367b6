"""Fused elementwise kernels of the compiled ADMM iteration (numba, ``cache=True``).

Every kernel makes one pass over a ``d x n`` block (features x samples), evaluating the
activation and its derivative once per entry and writing straight into a preallocated
buffer, so the elementwise work of an iteration (sigma, sigma', the LLA gradient ``G``,
residual norms, the KKT factor and the train error's last layers) costs a few memory
sweeps and no temporaries.  Matrix products and Cholesky solves stay in BLAS/LAPACK
(:mod:`solver.engine`).

The kernels in :data:`NUMBA_KERNELS` are compiled serial (their row loop is a ``prange``,
which is ``range`` there); :func:`parallel_kernels` compiles ``parallel=True`` twins,
rows split across numba threads, only when a run asks for more than one kernel thread.

Activations are selected through the registry of :mod:`solver.activation_kernels`
(keyed by name; :func:`~solver.activation_kernels.kernel_id`); the logistic sigmoid gets a
branch-free form (``1/(1+e^{-t})`` and ``e s^2`` with the exponent clamped), the others use
the registry's scalar kernels.

Each kernel has a plain numpy twin in :data:`NUMPY_KERNELS` (same signature, an
``Activation`` in place of the id): the reference the compiled kernels are tested
against, and the path used for user-defined activations (no registry entry).
"""

from __future__ import annotations

import math
import types as _pytypes

from . import _numba_cache  # noqa: F401 - first: a writable folder for cache=True (read-only installs)
import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from .activation_kernels import SIGMOID
from . import activation_kernels as _ak

__all__ = [
    "exp_vec", "act_f", "act_fd", "bmax", "lla_rhs", "activation_rhs", "multiplier_update",
    "multiplier_update_q", "kkt_w_sq", "sq_diff_lowrank", "output_sq_err", "activate", "sq_diff",
    "symmetrize_from_lower", "parallel_kernels", "NUMBA_KERNELS", "NUMPY_KERNELS",
]

#: ``error_model="numpy"``: a division by zero gives inf/nan instead of raising; the default
#: ("python") checks every division, and that branch alone kept the sigmoid loops scalar
#: (docs/solver.md, "Second performance pass")
_JIT = dict(cache=True, nogil=True, error_model="numpy")
_PJIT = dict(_JIT, parallel=True)

_PY = {}        # the kernels' Python sources, by name
_PARALLEL = {}  # their parallel twins, compiled on first use (parallel_kernels)


def _kernel(fn=None, twin=True, **extra):
    """Compile ``fn`` as a serial kernel (the default path) and register it for a twin.

    The kernels loop over rows with ``prange``, which is ``range`` here.  Their
    ``parallel=True`` twins (:func:`parallel_kernels`) are compiled only when a run asks
    for more than one kernel thread: parfor lowering more than doubles the compile time,
    and on two cores the parallel launch loses to the serial loop between BLAS calls
    (both measured in docs/solver.md).
    """
    def deco(f):
        if twin:
            _PY[f.__name__] = (f, extra)
        return numba.njit(**_JIT, **extra)(f)

    return deco(fn) if fn is not None else deco


def parallel_kernels():
    """The kernels of :data:`NUMBA_KERNELS` compiled with ``parallel=True`` (rows split over
    numba threads), built on first use and cached on disk like the serial ones."""
    if not _PARALLEL:
        for name, (f, extra) in _PY.items():
            twin = _pytypes.FunctionType(f.__code__, f.__globals__, name + "_parallel",
                                         f.__defaults__, f.__closure__)
            twin.__qualname__ = f.__qualname__ + "_parallel"  # its own cache file
            twin.__doc__ = f.__doc__
            _PARALLEL[name] = numba.njit(**_PJIT, **extra)(twin)
    return {name: _PARALLEL.get(name, k) for name, k in NUMBA_KERNELS.items()}


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
@numba.njit(**_JIT)
def _generic_f(kid, t):
    """sigma(t) of a built-in non-sigmoid activation (one compiled copy, called, not inlined)."""
    return _ak.dispatch_f(kid, t)


@numba.njit(**_JIT)
def _generic_fd(kid, t):
    """``(sigma(t), sigma'(t))`` of a built-in non-sigmoid activation (called, not inlined)."""
    return _ak.dispatch_f(kid, t), _ak.dispatch_d1(kid, t)


@numba.njit(inline="always", **_JIT)
def act_f(kid, t):
    """sigma(t) for the built-in ``kid`` (sigmoid branch-free: vectorisable)."""
    if kid == SIGMOID:
        return 1.0 / (1.0 + exp_vec(-t))
    return _generic_f(kid, t)


@numba.njit(inline="always", **_JIT)
def act_fd(kid, t):
    """``(sigma(t), sigma'(t))`` sharing one exponential for the sigmoid."""
    if kid == SIGMOID:
        # one exponential: e = e^{-t} (clamped finite); s' = e s^2 keeps full relative
        # accuracy in the right tail where s (1 - s) cancels; below t = -700 both are < 1e-304
        e = exp_vec(-max(t, -700.0))
        s = 1.0 / (1.0 + e)
        return s, e * s * s
    return _generic_fd(kid, t)


# ------------------------------------------------------------------------ kernels
@_kernel
def bmax(V, Lam, inv_beta):
    """``||V - Lam / beta||_max`` (the ``B`` of an LLA step, docs/algorithm.md#step-2-hidden-weights-by-lla)."""
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


# Each kernel's inner loop over a row is an ``inline="always"`` function, called with the
# compile-time constant ``SIGMOID`` for the sigmoid: its loop is then straight-line arithmetic (:func:`exp_vec`,
# compiled as its own function and inlined by LLVM), which LLVM vectorises.  Passing the
# variable ``kid`` leaves a branch to the other activations' libm calls in the loop, which
# LLVM does not unswitch here (several times slower, docs/solver.md); those activations go through one
# shared, called (not inlined) ``_generic_*`` function, which keeps the compile time down.
# Where the output may alias an input, the aliased case passes the *same* array for both:
# LLVM's runtime overlap check would otherwise send an exactly aliased call to the scalar
# loop (several times slower).

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


@_kernel
def lla_rhs(kid, P, b, V, Lam, inv_beta, c, c_on_bias, out):
    """``out = c * (P + [c_on_bias] b) - G``, ``G = (sigma(u) - B) sigma'(u)``, ``u = P + b``.

    ``B = V - Lam/beta``.  Step 2 (``P = U0`` with bias, ``b = 0``) and step 3
    (``P = Wbar V^{k-1}``, ``b`` the bias, ``c_on_bias = False``: ``c Wbar V - G``).
    ``out`` may alias ``P``.
    """
    d, n = P.shape
    inplace = _same(P, out)
    for r in prange(d):
        if kid == SIGMOID:
            if inplace:
                _lla_row(SIGMOID, out, b, V, Lam, inv_beta, c, c_on_bias, out, r, n)
            else:
                _lla_row(SIGMOID, P, b, V, Lam, inv_beta, c, c_on_bias, out, r, n)
        elif inplace:
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


@_kernel
def activation_rhs(kid, Z, b, Lam, alpha, R, gamma, out):
    """``Z <- Z + b`` (in place) and ``out = alpha sigma(Z) + Lam + gamma R``.

    Right-hand sides of steps 3 (``alpha = beta_i``, ``gamma = beta_{i+1}``) and 4
    (``gamma = -1``).  ``out`` may alias ``R``.
    """
    d, n = Z.shape
    inplace = _same(R, out)
    for r in prange(d):
        if kid == SIGMOID:
            if inplace:
                _activation_row(SIGMOID, Z, b, Lam, alpha, out, gamma, out, r, n)
            else:
                _activation_row(SIGMOID, Z, b, Lam, alpha, R, gamma, out, r, n)
        elif inplace:
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
        f, m, v = F[k], L[k], V[k]
        f2 += f * f
        lf += m * f
        l2 += m * m
        v2 += v * v
    return f2, lf, l2, v2


@numba.njit(fastmath={"reassoc"}, **_JIT)
def _row_sum(x):
    """``sum x`` of a 1-d row, reassociated (vectorised)."""
    s = 0.0
    for k in range(x.shape[0]):
        s += x[k]
    return s


# elementwise pass (vectorised for the sigmoid), then the sums over the row: a reduction
# in the elementwise loop would keep it scalar (no reassociation allowed there: exp_vec's
# reduction depends on the exact order)
@numba.njit(inline="always", **_JIT)
def _multiplier_row(kid, Z, V, Lam, beta, F, r, n):
    for k in range(n):
        f = act_f(kid, Z[r, k]) - V[r, k]
        Lam[r, k] = Lam[r, k] + beta * f
        F[k] = f


@numba.njit(inline="always", **_JIT)
def _multiplier_row_q(kid, Z, V, Lam, beta, Q, F, r, n):
    for k in range(n):
        s, ds = act_fd(kid, Z[r, k])
        f = s - V[r, k]
        lam_new = Lam[r, k] + beta * f
        Lam[r, k] = lam_new
        Q[r, k] = lam_new * ds
        F[k] = f


@_kernel
def multiplier_update(kid, Z, V, Lam, beta):
    """Step 6 for a hidden layer, fused with the sums the trace needs.

    ``F = sigma(Z) - V``; ``Lam <- Lam + beta F`` (in place).  Returns
    ``(||F||^2, <Lam_new, F>, ||Lam_new||^2, ||V||^2)``.
    """
    d, n = Z.shape
    acc = np.zeros((d, 4))
    for r in prange(d):
        F = np.empty(n)
        if kid == SIGMOID:
            _multiplier_row(SIGMOID, Z, V, Lam, beta, F, r, n)
        else:
            _multiplier_row(kid, Z, V, Lam, beta, F, r, n)
        acc[r, 0], acc[r, 1], acc[r, 2], acc[r, 3] = _row_sums(F, Lam[r], V[r])
    tot = acc.sum(axis=0)
    return tot[0], tot[1], tot[2], tot[3]


@_kernel
def multiplier_update_q(kid, Z, V, Lam, beta, Q, qsum):
    """:func:`multiplier_update` plus the KKT factor of paper eq. (24).

    Also writes ``Q = Lam_new * sigma'(Z)`` and its row sums ``qsum`` (the bias column
    of ``Q [V_{i-1}; 1]^T``, the KKT residual of ``W_i``).
    """
    d, n = Z.shape
    acc = np.zeros((d, 4))
    for r in prange(d):
        F = np.empty(n)
        if kid == SIGMOID:
            _multiplier_row_q(SIGMOID, Z, V, Lam, beta, Q, F, r, n)
        else:
            _multiplier_row_q(kid, Z, V, Lam, beta, Q, F, r, n)
        acc[r, 0], acc[r, 1], acc[r, 2], acc[r, 3] = _row_sums(F, Lam[r], V[r])
        qsum[r] = _row_sum(Q[r])
    tot = acc.sum(axis=0)
    return tot[0], tot[1], tot[2], tot[3]


@_kernel(fastmath={"reassoc"})
def kkt_w_sq(lam, W, P, qsum):
    """``||lam W + [P, qsum]||_F^2``: the KKT residual of a weight block (paper eq. 24),
    ``P = Q Vbar^T`` its product part and ``qsum`` the bias column."""
    d, m = P.shape
    acc = np.zeros(d)
    for r in prange(d):
        s = 0.0
        for k in range(m):
            t = lam * W[r, k] + P[r, k]
            s += t * t
        t = lam * W[r, m] + qsum[r]
        acc[r] = s + t * t
    return acc.sum()


@_kernel(fastmath={"reassoc"})
def sq_diff_lowrank(A, B, C):
    """``||A^T B - C||_F^2`` for a short ``A`` (``m x d``, ``m`` small), without the product.

    The KKT residual of ``V_{N-1}``, ``-Lam_{N-1} + Wbar_N^T Lam_N``, for a narrow output
    layer: ``m`` multiply-adds per entry, one pass over ``C``.
    """
    m, d = A.shape
    n = B.shape[1]
    acc = np.zeros(d)
    for r in prange(d):
        t = np.empty(n)
        for k in range(n):
            t[k] = -C[r, k]
        for o in range(m):
            a = A[o, r]
            for k in range(n):
                t[k] += a * B[o, k]
        s = 0.0
        for k in range(n):
            s += t[k] * t[k]
        acc[r] = s
    return acc.sum()


@numba.njit(inline="always", **_JIT)
def _activate_row(kid, z, br, o):
    """``o = sigma(z + br)`` on 1-d rows (views: ``Z[r, col + k]`` would test ``col + k < 0``
    on every entry, which keeps the loop scalar); ``o`` may be ``z`` itself."""
    for k in range(o.shape[0]):
        o[k] = act_f(kid, z[k] + br)


@_kernel(twin=False)  # a reduction across rows: no prange, no parallel twin
def output_sq_err(kid, H, hcol, m, b, Wo, bo, Y, col):
    """``||Wo sigma(H[:, hcol:hcol+m] + b) + bo - Y[:, col:col+m]||_F^2`` in one pass over ``H``.

    The last two layers of the train-error forward pass for a narrow output (``Wo`` is
    ``p x d`` with ``p`` small): no ``sigma(H)`` array and no product call per column block.
    """
    d = H.shape[0]
    p = Wo.shape[0]
    out = np.empty((p, m))
    for o in range(p):
        y = Y[o, col:col + m]
        for k in range(m):
            out[o, k] = bo[o] - y[k]
    s = np.empty(m)
    for r in range(d):
        h = H[r, hcol:hcol + m]
        if kid == SIGMOID:
            _activate_row(SIGMOID, h, b[r], s)
        else:
            _activate_row(kid, h, b[r], s)
        for o in range(p):
            w = Wo[o, r]
            for k in range(m):
                out[o, k] += w * s[k]
    tot = 0.0
    for o in range(p):
        for k in range(m):
            tot += out[o, k] * out[o, k]
    return tot




@_kernel
def activate(kid, Z, col, b, out):
    """``out = sigma(Z[:, col:col + m] + b)``, ``m`` the width of ``out`` (forward pass).

    ``col`` addresses a column block of a contiguous ``Z`` without a non-contiguous view
    (one compiled specialisation); ``out`` may alias ``Z`` (with ``col = 0``).
    """
    d, n = out.shape
    inplace = _same(Z, out)
    for r in prange(d):
        o = out[r]
        if kid == SIGMOID:
            if inplace:
                _activate_row(SIGMOID, o, b[r], o)
            else:
                _activate_row(SIGMOID, Z[r, col:col + n], b[r], o)
        elif inplace:
            _activate_row(kid, o, b[r], o)
        else:
            _activate_row(kid, Z[r, col:col + n], b[r], o)


@_kernel(fastmath={"reassoc"})
def sq_diff(A, B, col):
    """``||A - B[:, col:col + m]||_F^2``, ``m`` the width of ``A`` (reassociated, vectorised)."""
    d, n = A.shape
    acc = np.zeros(d)
    for r in prange(d):
        s = 0.0
        b = B[r, col:col + n]
        for k in range(n):
            t = A[r, k] - b[k]
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
    "multiplier_update": multiplier_update, "multiplier_update_q": multiplier_update_q,
    "activate": activate, "sq_diff": sq_diff, "kkt_w_sq": kkt_w_sq,
    "sq_diff_lowrank": sq_diff_lowrank, "output_sq_err": output_sq_err,
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


def _np_multiplier_update(act, Z, V, Lam, beta):
    F = act(Z) - V
    Lam += beta * F
    return (float(np.sum(F * F)), float(np.sum(Lam * F)), float(np.sum(Lam * Lam)),
            float(np.sum(V * V)))


def _np_multiplier_update_q(act, Z, V, Lam, beta, Q, qsum):
    out = _np_multiplier_update(act, Z, V, Lam, beta)
    Q[...] = Lam * act.d1(Z)
    qsum[...] = Q.sum(axis=1)
    return out


def _np_kkt_w_sq(lam, W, P, qsum):
    return float(np.sum((lam * W[:, :-1] + P) ** 2) + np.sum((lam * W[:, -1] + qsum) ** 2))


def _np_sq_diff_lowrank(A, B, C):
    return float(np.sum((A.T @ B - C) ** 2))


def _np_output_sq_err(act, H, hcol, m, b, Wo, bo, Y, col):
    out = Wo @ act(H[:, hcol:hcol + m] + b[:, None]) + bo[:, None] - Y[:, col:col + m]
    return float(np.sum(out * out))


def _np_activate(act, Z, col, b, out):
    out[...] = act(Z[:, col:col + out.shape[1]] + b[:, None])


def _np_sq_diff(A, B, col):
    return float(np.sum((A - B[:, col:col + A.shape[1]]) ** 2))


NUMPY_KERNELS = {
    "bmax": _np_bmax, "lla_rhs": _np_lla_rhs, "activation_rhs": _np_activation_rhs,
    "multiplier_update": _np_multiplier_update, "multiplier_update_q": _np_multiplier_update_q,
    "activate": _np_activate, "sq_diff": _np_sq_diff, "kkt_w_sq": _np_kkt_w_sq,
    "sq_diff_lowrank": _np_sq_diff_lowrank, "output_sq_err": _np_output_sq_err,
}
