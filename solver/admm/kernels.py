"""Fused elementwise kernels of the compiled ADMM iteration (numba, ``cache=True``).

Every kernel makes one pass over a ``d x n`` block (features x samples), evaluating the
activation and its derivative once per entry and writing straight into a preallocated
buffer, so the elementwise work of an iteration (sigma, sigma', the LLA gradient ``G``,
residual norms, the KKT factor and the train error's last layers) costs a few memory
sweeps and no temporaries.  Matrix products and Cholesky solves stay in BLAS/LAPACK
(:mod:`solver.admm.engine`).

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

import ctypes
import math
import os
import types as _pytypes

from .. import _numba_cache  # noqa: F401 - first: a writable folder for cache=True (read-only installs)
import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from ..activation_kernels import SIGMOID
from .. import activation_kernels as _ak

__all__ = [
    "exp_vec", "exp_fma", "act_key", "EXP", "EXP_LEGACY", "EXP_FMA", "EXP_NAME", "NUMPY_EXP_LOOP", "act_f", "act_fd", "bmax", "lla_rhs", "activation_rhs", "multiplier_update",
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


def _prefer_workqueue():
    """Ask numba for its ``workqueue`` threading layer, unless the user chose one or the
    threads already run.

    The kernels' parallel twins run between OpenBLAS calls.  Under the default ``omp``
    layer (GNU OpenMP here) the idle numba workers spin after every parallel region and
    take the core OpenBLAS's second thread needs for the next product (and vice versa):
    ``n_threads=2`` ran 3-5x *slower* than one thread.  The ``workqueue`` workers sleep
    between launches (docs/solver.md, "Both cores").
    """
    from numba.np.ufunc import parallel as _par  # noqa: PLC0415 - numba internal, read only when parallel kernels are asked for

    if _par._is_initialized or os.environ.get("NUMBA_THREADING_LAYER"):
        return
    if str(numba.config.THREADING_LAYER).lower() == "default":
        numba.config.THREADING_LAYER = "workqueue"


def parallel_kernels():
    """The kernels of :data:`NUMBA_KERNELS` compiled with ``parallel=True`` (rows split over
    numba threads), built on first use and cached on disk like the serial ones.  The first
    call picks numba's ``workqueue`` threading layer where it still can
    (:func:`_prefer_workqueue`)."""
    _prefer_workqueue()
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


@numba.njit(fastmath={"contract"}, **_JIT)
def exp_fma(x):
    """:func:`exp_vec` with its multiply-adds contracted (FMA where the CPU has it).

    The same reduction and polynomial: half the instructions of :func:`exp_vec` on an FMA
    CPU (its results differ from :func:`exp_vec`'s in the last bit; deterministic per
    machine).
    """
    x = min(max(x, -708.0), 709.0)
    k = math.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (
        1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (
            1 / 39916800 + r * (1 / 479001600 + r * (1 / 6227020800)))))))))))))
    return p * _bits_as_f64((np.int64(k) + 1023) << 52)


@intrinsic
def _ufunc_loop_dd(typingctx, fn, buf, n):
    """Call a numpy ``d->d`` ufunc inner loop (the C function at address ``fn``) in place on
    the first ``n`` entries of the contiguous ``buf``: ``loop(args, &n, steps, NULL)``."""
    sig = types.void(types.int64, types.float64[::1], types.intp)

    def codegen(context, builder, signature, args):
        fnaddr, arr, n = args
        i8p, i64, i32 = ir.IntType(8).as_pointer(), ir.IntType(64), ir.IntType(32)
        data = builder.bitcast(context.make_array(signature.args[1])(context, builder, arr).data, i8p)
        argv = builder.alloca(ir.ArrayType(i8p, 2))
        steps = builder.alloca(ir.ArrayType(i64, 2))
        for i in range(2):
            idx = [ir.Constant(i32, 0), ir.Constant(i32, i)]
            builder.store(data, builder.gep(argv, idx))
            builder.store(ir.Constant(i64, 8), builder.gep(steps, idx))
        dims = builder.alloca(i64)
        builder.store(n, dims)
        fty = ir.FunctionType(ir.VoidType(), [i8p.as_pointer(), i64.as_pointer(), i64.as_pointer(), i8p])
        builder.call(builder.inttoptr(fnaddr, fty.as_pointer()),
                     [builder.bitcast(argv, i8p.as_pointer()), dims, builder.bitcast(steps, i64.as_pointer()),
                      ir.Constant(i8p, None)])
        return context.get_dummy_value()

    return sig, codegen


#: exponential providers of the sigmoid kernels (the ``ex`` of an activation key)
EXP_LEGACY = 0  #: :func:`exp_vec`: the traces of commit 4a644f7, bit for bit
EXP_FMA = 1     #: :func:`exp_fma`
# any other value: the address of numpy's own float64 ``exp`` loop (SIMD-dispatched)


@numba.njit(**_JIT)
def _exp_inplace(ex, buf, n):
    """``buf[:n] <- e^buf[:n]`` with the provider ``ex`` (one shared, called function)."""
    if ex == EXP_LEGACY:
        for k in range(n):
            buf[k] = exp_vec(buf[k])
    elif ex == EXP_FMA:
        for k in range(n):
            buf[k] = exp_fma(buf[k])
    else:
        _ufunc_loop_dd(ex, buf, n)


def _numpy_exp_loop():
    """``(address, dispatch target)`` of the float64 loop ``np.exp`` runs, or ``(0, None)``.

    Read from the ufunc object (``PyUFuncObject.functions``, numpy's public C layout): the
    first ``d->d`` entry, the one numpy's type resolution picks, is the SIMD-dispatched
    ``DOUBLE_exp`` (its ``data`` is NULL; the generic ``PyUFunc_d_d`` wrapper has the libm
    function there).
    """
    try:
        from numpy.lib.introspect import opt_func_info  # noqa: PLC0415 - numpy >= 2 only (the except below)

        target = opt_func_info(func_name="^exp$", signature="float64")["exp"]["dd"]["current"]
        u = np.exp
        base = id(u)
        nin, nout, nargs, _ = (ctypes.c_int * 4).from_address(base + 16)
        fns = ctypes.c_void_p.from_address(base + 32).value
        data = ctypes.c_void_p.from_address(base + 40).value
        ntypes = ctypes.c_int.from_address(base + 48).value
        tcodes = ctypes.c_void_p.from_address(base + 64).value
        if (nin, nout, nargs, ntypes) != (1, 1, 2, len(u.types)) or not fns or not tcodes:
            return 0, None
        codes = (ctypes.c_char * (2 * ntypes)).from_address(tcodes).raw
        dcode = np.dtype(np.float64).num
        for i in range(ntypes):
            if codes[2 * i] == dcode and codes[2 * i + 1] == dcode:
                fn = (ctypes.c_void_p * ntypes).from_address(fns)[i]
                dt = (ctypes.c_void_p * ntypes).from_address(data)[i] if data else None
                return (fn, target) if fn and not dt else (0, None)
    except Exception:  # pragma: no cover - another numpy layout: the polynomial
        pass
    return 0, None


def _check_numpy_exp(addr):
    """The loop at ``addr`` reproduces ``np.exp`` bit for bit on a test vector (else 0)."""
    t = np.linspace(-750.0, 750.0, 1001)
    t[::7] *= 1e-3
    buf = t.copy()
    _exp_inplace(addr, buf, buf.shape[0])
    with np.errstate(all="ignore"):
        return addr if np.array_equal(buf, np.exp(t)) else 0


NUMPY_EXP_LOOP, NUMPY_EXP_TARGET = _numpy_exp_loop()


def _select_exp():
    """The exponential of the sigmoid kernels on this machine, by a fixed rule (never by
    timing, so that every process on a machine computes the same bits).

    ``SOLVER_EXP`` = ``numpy`` / ``fma`` / ``legacy`` chooses; by default numpy's own loop
    where numpy dispatches it to AVX-512 (``X86_V4``, ``AVX512*``: a SIMD exp, faster than
    the polynomial in ``benchmarks/bench_kernels.py``), else :func:`exp_fma` (numpy's
    float64 exp below AVX-512 is a scalar libm call per entry).
    """
    want = os.environ.get("SOLVER_EXP", "").strip().lower()
    if want == "legacy":
        return EXP_LEGACY
    if want == "fma":
        return EXP_FMA
    tgt = NUMPY_EXP_TARGET or ""
    if NUMPY_EXP_LOOP and (want == "numpy" or "AVX512" in tgt or "X86_V4" in tgt):
        return _check_numpy_exp(NUMPY_EXP_LOOP) or EXP_FMA
    return EXP_FMA


#: the exponential provider used by :func:`act_key` (module attribute: tests may set it)
EXP = _select_exp()
EXP_NAME = {EXP_LEGACY: "legacy exp_vec", EXP_FMA: "exp_fma (FMA polynomial)"}.get(
    EXP, f"numpy's exp loop ({NUMPY_EXP_TARGET})")


def act_key(kid, ex=None):
    """The numba kernels' activation argument: ``(kid, ex)``, ``ex`` the exponential
    provider of the sigmoid (:data:`EXP` by default; ignored by the other activations)."""
    return (int(kid), int(EXP if ex is None else ex))


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
_RB = 8  # rows per block (one scratch buffer per block; the parallel twins split blocks)


@numba.njit(inline="always", **_JIT)
def _gt_max(a, m):
    """``a if a > m else m``: a NaN ``a`` is skipped, as in a plain running maximum."""
    return a if a > m else m


@_kernel
def bmax(V, Lam, inv_beta):
    """``||V - Lam / beta||_max`` (the ``B`` of an LLA step, docs/algorithm.md#step-2-hidden-weights-by-lla).

    Eight running maxima per row: one chain of compare-and-select was latency-bound
    (0.41 against 0.19 ms per 300 x 1000 block); the maximum does not depend on the order.
    """
    d, n = V.shape
    rowmax = np.zeros(d)
    for blk in prange((d + _RB - 1) // _RB):
        acc = np.empty(8)
        for r in range(blk * _RB, min(blk * _RB + _RB, d)):
            v, lam = V[r], Lam[r]
            acc[:] = 0.0
            k = 0
            while k + 8 <= n:
                for j in range(8):
                    acc[j] = _gt_max(abs(v[k + j] - lam[k + j] * inv_beta), acc[j])
                k += 8
            m = 0.0
            for j in range(8):
                m = _gt_max(acc[j], m)
            for k2 in range(k, n):
                m = _gt_max(abs(v[k2] - lam[k2] * inv_beta), m)
            rowmax[r] = m
    return rowmax.max() if d else 0.0


# The sigmoid rows run in three passes over a row held in a small buffer ``e`` (L1-sized):
# the exponent ``-t`` (clamped), ``e <- e^e`` by the provider ``ex`` (:func:`_exp_inplace`:
# numpy's SIMD loop, :func:`exp_fma` or the legacy :func:`exp_vec`), then the rest of the
# kernel.  With ``ex = EXP_LEGACY`` every entry is computed by the same operations as at
# commit 4a644f7 (``act_f`` / ``act_fd``), so the old traces are reproduced bit for bit.
# The loops are called with the compile-time constant ``SIGMOID`` or go through the other
# activations' shared, called (not inlined) ``_generic_*`` functions: a variable ``kid`` in
# the loop would keep it scalar (LLVM does not unswitch it here, docs/solver.md).
# Where the output may alias an input, the aliased case passes the *same* array for both:
# LLVM's runtime overlap check would otherwise send an exactly aliased call to the scalar
# loop (several times slower).  Rows go in blocks of ``_RB`` (one buffer per block; in the
# parallel twins the blocks are split over the threads).


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


@numba.njit(inline="always", **_JIT)
def _sig_lla_row(ex, P, b, V, Lam, inv_beta, c, c_on_bias, out, r, n, e):
    br = b[r]
    cb = c * br if c_on_bias else 0.0
    for k in range(n):
        e[k] = -max(P[r, k] + br, -700.0)  # act_fd's clamp
    _exp_inplace(ex, e, n)
    for k in range(n):
        p = P[r, k]
        ek = e[k]
        s = 1.0 / (1.0 + ek)
        out[r, k] = c * p + cb - (s - (V[r, k] - Lam[r, k] * inv_beta)) * (ek * s * s)


@_kernel
def lla_rhs(act, P, b, V, Lam, inv_beta, c, c_on_bias, out):
    """``out = c * (P + [c_on_bias] b) - G``, ``G = (sigma(u) - B) sigma'(u)``, ``u = P + b``.

    ``B = V - Lam/beta``.  Step 2 (``P = U0`` with bias, ``b = 0``) and step 3
    (``P = Wbar V^{k-1}``, ``b`` the bias, ``c_on_bias = False``: ``c Wbar V - G``).
    ``out`` may alias ``P``.  ``act = (kid, ex)`` (:func:`act_key`).
    """
    kid, ex = act
    d, n = P.shape
    inplace = _same(P, out)
    for blk in prange((d + _RB - 1) // _RB):
        r0, r1 = blk * _RB, min(blk * _RB + _RB, d)
        if kid == SIGMOID:
            e = np.empty(n)
            for r in range(r0, r1):
                if inplace:
                    _sig_lla_row(ex, out, b, V, Lam, inv_beta, c, c_on_bias, out, r, n, e)
                else:
                    _sig_lla_row(ex, P, b, V, Lam, inv_beta, c, c_on_bias, out, r, n, e)
        else:
            for r in range(r0, r1):
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


@numba.njit(inline="always", **_JIT)
def _sig_activation_row(ex, Z, b, Lam, alpha, R, gamma, out, r, n, e):
    br = b[r]
    for k in range(n):
        z = Z[r, k] + br
        Z[r, k] = z
        e[k] = min(-z, 709.0)  # what exp_vec(-z) clamps to anyway
    _exp_inplace(ex, e, n)
    for k in range(n):
        out[r, k] = alpha * (1.0 / (1.0 + e[k])) + Lam[r, k] + gamma * R[r, k]


@_kernel
def activation_rhs(act, Z, b, Lam, alpha, R, gamma, out):
    """``Z <- Z + b`` (in place) and ``out = alpha sigma(Z) + Lam + gamma R``.

    Right-hand sides of steps 3 (``alpha = beta_i``, ``gamma = beta_{i+1}``) and 4
    (``gamma = -1``).  ``out`` may alias ``R``.
    """
    kid, ex = act
    d, n = Z.shape
    inplace = _same(R, out)
    for blk in prange((d + _RB - 1) // _RB):
        r0, r1 = blk * _RB, min(blk * _RB + _RB, d)
        if kid == SIGMOID:
            e = np.empty(n)
            for r in range(r0, r1):
                if inplace:
                    _sig_activation_row(ex, Z, b, Lam, alpha, out, gamma, out, r, n, e)
                else:
                    _sig_activation_row(ex, Z, b, Lam, alpha, R, gamma, out, r, n, e)
        else:
            for r in range(r0, r1):
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


# elementwise passes (vectorised for the sigmoid), then the sums over the row: a reduction
# in the elementwise loop would keep it scalar (no reassociation allowed there: exp_vec's
# reduction depends on the exact order)
@numba.njit(inline="always", **_JIT)
def _multiplier_row(kid, Z, V, Lam, beta, F, r, n):
    for k in range(n):
        f = act_f(kid, Z[r, k]) - V[r, k]
        Lam[r, k] = Lam[r, k] + beta * f
        F[k] = f


@numba.njit(inline="always", **_JIT)
def _sig_multiplier_row(ex, Z, V, Lam, beta, F, r, n):
    """The sigmoid row; ``F`` is also the exponential's buffer."""
    for k in range(n):
        F[k] = min(-Z[r, k], 709.0)
    _exp_inplace(ex, F, n)
    for k in range(n):
        f = 1.0 / (1.0 + F[k]) - V[r, k]
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


@numba.njit(inline="always", **_JIT)
def _sig_multiplier_row_q(ex, Z, V, Lam, beta, Q, F, r, n):
    for k in range(n):
        F[k] = -max(Z[r, k], -700.0)
    _exp_inplace(ex, F, n)
    for k in range(n):
        ek = F[k]
        s = 1.0 / (1.0 + ek)
        f = s - V[r, k]
        lam_new = Lam[r, k] + beta * f
        Lam[r, k] = lam_new
        Q[r, k] = lam_new * (ek * s * s)
        F[k] = f


@_kernel
def multiplier_update(act, Z, V, Lam, beta):
    """Step 6 for a hidden layer, fused with the sums the trace needs.

    ``F = sigma(Z) - V``; ``Lam <- Lam + beta F`` (in place).  Returns
    ``(||F||^2, <Lam_new, F>, ||Lam_new||^2, ||V||^2)``.
    """
    kid, ex = act
    d, n = Z.shape
    acc = np.zeros((d, 4))
    for blk in prange((d + _RB - 1) // _RB):
        F = np.empty(n)
        for r in range(blk * _RB, min(blk * _RB + _RB, d)):
            if kid == SIGMOID:
                _sig_multiplier_row(ex, Z, V, Lam, beta, F, r, n)
            else:
                _multiplier_row(kid, Z, V, Lam, beta, F, r, n)
            acc[r, 0], acc[r, 1], acc[r, 2], acc[r, 3] = _row_sums(F, Lam[r], V[r])
    tot = acc.sum(axis=0)
    return tot[0], tot[1], tot[2], tot[3]


@_kernel
def multiplier_update_q(act, Z, V, Lam, beta, Q, qsum):
    """:func:`multiplier_update` plus the KKT factor of paper eq. (24).

    Also writes ``Q = Lam_new * sigma'(Z)`` and its row sums ``qsum`` (the bias column
    of ``Q [V_{i-1}; 1]^T``, the KKT residual of ``W_i``).
    """
    kid, ex = act
    d, n = Z.shape
    acc = np.zeros((d, 4))
    for blk in prange((d + _RB - 1) // _RB):
        F = np.empty(n)
        for r in range(blk * _RB, min(blk * _RB + _RB, d)):
            if kid == SIGMOID:
                _sig_multiplier_row_q(ex, Z, V, Lam, beta, Q, F, r, n)
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


@numba.njit(inline="always", **_JIT)
def _sig_activate_row(ex, z, br, o, e):
    """``o = sigma(z + br)`` for the sigmoid, ``e`` the exponential's buffer (may be ``o``)."""
    n = o.shape[0]
    for k in range(n):
        e[k] = min(-(z[k] + br), 709.0)
    _exp_inplace(ex, e, n)
    for k in range(n):
        o[k] = 1.0 / (1.0 + e[k])


@_kernel(twin=False)  # a reduction across rows: no prange, no parallel twin
def output_sq_err(act, H, hcol, m, b, Wo, bo, Y, col):
    """``||Wo sigma(H[:, hcol:hcol+m] + b) + bo - Y[:, col:col+m]||_F^2`` in one pass over ``H``.

    The last two layers of the train-error forward pass for a narrow output (``Wo`` is
    ``p x d`` with ``p`` small): no ``sigma(H)`` array and no product call per column block.
    """
    kid, ex = act
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
            _sig_activate_row(ex, h, b[r], s, s)
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
def activate(act, Z, col, b, out):
    """``out = sigma(Z[:, col:col + m] + b)``, ``m`` the width of ``out`` (forward pass).

    ``col`` addresses a column block of a contiguous ``Z`` without a non-contiguous view
    (one compiled specialisation); ``out`` may alias ``Z`` (with ``col = 0``).
    """
    kid, ex = act
    d, n = out.shape
    inplace = _same(Z, out)
    for blk in prange((d + _RB - 1) // _RB):
        r0, r1 = blk * _RB, min(blk * _RB + _RB, d)
        if kid == SIGMOID:
            e = np.empty(n)
            for r in range(r0, r1):
                o = out[r]
                if inplace:
                    _sig_activate_row(ex, o, b[r], o, e)
                else:
                    _sig_activate_row(ex, Z[r, col:col + n], b[r], o, e)
        else:
            for r in range(r0, r1):
                o = out[r]
                if inplace:
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
