"""Fused elementwise kernels of the dlADMM iteration (numba, ``cache=True``), with numpy twins.

:class:`solver.dladmm.DLADMMEngine` takes its elementwise work from one of the two sets in
:data:`KERNEL_SETS` (``kernels="numba"``, the default, or ``"numpy"``):

* ``relu_z``: the hidden ReLU ``z_l`` step, exact per entry (:func:`solver.dladmm.relu_z_step`
  with ``kappa = 0``), ``m = P_l + b_l`` formed in the same pass; returns ``||z_new - z_old||^2``;
* ``residual``: ``R = P + b - z - shift`` (the W and a steps' residual; ``shift = u / rho`` at
  the output, none for hidden layers);
* ``a_grad``: ``g = pen W^T R + nu (a - relu(z))`` from ``W^T R``, and ``||g||^2``;
* ``sub_scaled``: ``X <- X - D / t`` in place (the cached-product updates);
* ``scaled_step``: ``out = X - D / t`` (the W and a steps' new iterate, one pass);
* ``bias_mean``: the exact ``b_l`` step ``mean(z_l + shift - P_l)`` per row, summed in numpy's
  pairwise order (bit for bit ``np.mean``), and ``||b_new - b_old||^2``;
* ``relu_bias``: ``out = max(P + b, 0)`` (the network's hidden layers, one pass; ``out`` may be ``P``);
* ``hidden_penalty``: ``(||z_l - P_l - b_l||^2, ||a_l - relu(z_l)||^2)`` in one pass (the
  Lagrangian's hidden terms);
* ``zl_fista``: the authors' FISTA for the softmax ``z_L`` step (:func:`solver.dladmm.zl_fista_authors`:
  same iterates, same stopping rule; one pass over ``z_L`` per FISTA step, where numpy
  makes some twenty);
* ``zl_newton``: Newton's method on each sample's ``z_L`` problem (strongly convex, ``d_L``
  unknowns: the Hessian ``rho I + s (diag p - p p^T)`` is solved by Sherman-Morrison), with
  a backtracking line search, to a relative gradient tolerance: the exact ``z_L`` step in a
  handful of steps.

The numpy twins are the method's formulas (the reference the compiled kernels are tested
against, tests/test_solver_dladmm.py), taken from :mod:`solver.dladmm.steps`, which the engine
imports too (the kernels never import the engine).
"""

from __future__ import annotations

import math

from .. import _numba_cache  # noqa: F401 - first: a writable folder for cache=True (read-only installs)
import numba
import numpy as np

from ..elementwise import relu_f
from .steps import relu_z_step, zl_fista_authors

__all__ = ["NUMBA_KERNELS", "NUMPY_KERNELS", "KERNEL_SETS"]

_JIT = dict(cache=True, nogil=True, error_model="numpy")


# ------------------------------------------------------------------ compiled kernels
@numba.njit(**_JIT)
def _relu_z(P, b, a, z_old, z_out):
    """Per entry ``m = P + b``: ``z = max((m + a)/2, 0)`` if its value ``(a - z)^2 + (z - m)^2``
    is below ``max(m, 0)^2 + a^2`` (the value of ``min(m, 0)``), else ``min(m, 0)``; returns
    ``||z - z_old||^2``."""
    d, n = P.shape
    s = 0.0
    for i in range(d):
        bi = b[i, 0]
        for k in range(n):
            m = P[i, k] + bi
            ak = a[i, k]
            v1 = max(m, 0.0)
            v1 = v1 * v1 + ak * ak
            z2 = max((m + ak) / 2.0, 0.0)
            t = z2 - m
            v2 = ak - z2
            v2 = v2 * v2 + t * t
            z = z2 if v1 > v2 else min(m, 0.0)
            z_out[i, k] = z
            dz = z - z_old[i, k]
            s += dz * dz
    return s


@numba.njit(**_JIT)
def _residual(P, b, z, shift, has_shift, out):
    d, n = P.shape
    for i in range(d):
        bi = b[i, 0]
        for k in range(n):
            r = P[i, k] + bi - z[i, k]
            if has_shift:
                r = r - shift[i, k]
            out[i, k] = r


@numba.njit(**_JIT)
def _a_grad(pen, nu, WtR, a, z, out):
    d, n = a.shape
    s = 0.0
    for i in range(d):
        for k in range(n):
            g = pen * WtR[i, k] + nu * (a[i, k] - max(z[i, k], 0.0))
            out[i, k] = g
            s += g * g
    return s


@numba.njit(**_JIT)
def _sub_scaled(X, D, t):
    d, n = X.shape
    for i in range(d):
        for k in range(n):
            X[i, k] = X[i, k] - D[i, k] / t


@numba.njit(**_JIT)
def _scaled_step(X, D, t, out):
    d, n = X.shape
    for i in range(d):
        for k in range(n):
            out[i, k] = X[i, k] - D[i, k] / t


@numba.njit(**_JIT)
def _block_sum(x, lo, n):
    """numpy's sum of a block of at most 128 (``pairwise_sum``'s leaf): eight interleaved
    partial sums, combined as ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then
    the tail; below 8 entries a plain loop."""
    if n < 8:
        r = 0.0
        for i in range(lo, lo + n):
            r += x[i]
        return r
    r0, r1, r2, r3 = x[lo], x[lo + 1], x[lo + 2], x[lo + 3]
    r4, r5, r6, r7 = x[lo + 4], x[lo + 5], x[lo + 6], x[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        j = lo + i
        r0 += x[j]
        r1 += x[j + 1]
        r2 += x[j + 2]
        r3 += x[j + 3]
        r4 += x[j + 4]
        r5 += x[j + 5]
        r6 += x[j + 6]
        r7 += x[j + 7]
        i += 8
    r = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        r += x[lo + i]
        i += 1
    return r


@numba.njit(**_JIT)
def _pairwise_sum(x, stack, vals):
    """``x.sum()`` in numpy's order (its add loop's ``pairwise_sum``: blocks of up to 128 by
    :func:`_block_sum`, a longer run halved at a multiple of 8 and the halves' sums added), so
    that a row mean is bit for bit ``np.mean(..., axis=1)``.  The recursion is unrolled on
    ``stack`` (rows ``lo, n, state``) and ``vals`` (64 levels cover any length): numba's
    cache does not keep self-recursive functions."""
    sp = 1
    stack[0, 0], stack[0, 1], stack[0, 2] = 0, x.shape[0], 0
    vp = 0
    while sp > 0:
        lo, n, state = stack[sp - 1, 0], stack[sp - 1, 1], stack[sp - 1, 2]
        if n <= 128:
            sp -= 1
            vals[vp] = _block_sum(x, lo, n)
            vp += 1
            continue
        n2 = n // 2
        n2 -= n2 % 8
        if state == 0:                     # the first half
            stack[sp - 1, 2] = 1
            stack[sp, 0], stack[sp, 1], stack[sp, 2] = lo, n2, 0
            sp += 1
        elif state == 1:                   # the second half
            stack[sp - 1, 2] = 2
            stack[sp, 0], stack[sp, 1], stack[sp, 2] = lo + n2, n - n2, 0
            sp += 1
        else:                              # both done: first + second
            sp -= 1
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
    return vals[0]


@numba.njit(**_JIT)
def _bias_mean(z, P, shift, has_shift, b_old, b_out):
    """``b_out[i] = mean_k (z[i, k] + shift[i, k] - P[i, k])`` (no shift for hidden layers);
    returns ``||b_out - b_old||^2``."""
    d, n = z.shape
    row = np.empty(n)
    stack = np.empty((64, 3), dtype=np.int64)
    vals = np.empty(64)
    s = 0.0
    for i in range(d):
        if has_shift:
            for k in range(n):
                row[k] = (z[i, k] + shift[i, k]) - P[i, k]
        else:
            for k in range(n):
                row[k] = z[i, k] - P[i, k]
        bi = _pairwise_sum(row, stack, vals) / n
        b_out[i, 0] = bi
        db = bi - b_old[i, 0]
        s += db * db
    return s


@numba.njit(**_JIT)
def _relu_bias(P, b, out):
    d, n = P.shape
    for i in range(d):
        bi = b[i, 0]
        for k in range(n):
            v = P[i, k] + bi
            out[i, k] = 0.0 if v < 0.0 else v          # np.maximum(v, 0): nan and -0.0 kept


@numba.njit(**_JIT)
def _hidden_penalty(z, P, b, a):
    d, n = z.shape
    dd = 0.0
    ee = 0.0
    for i in range(d):
        bi = b[i, 0]
        for k in range(n):
            zk = z[i, k]
            D = (zk - P[i, k]) - bi
            E = a[i, k] - max(zk, 0.0)
            dd += D * D
            ee += E * E
    return dd, ee


@numba.njit(**_JIT)
def _zl_fista(m, u, Y, rho, z0, max_iter, tol, eta):
    """The authors' FISTA (:func:`solver.dladmm.zl_fista_authors`), one pass per step: the
    objective at ``z`` and the next ``(zeta, z)`` are computed together, the new pair kept
    only when the stopping rule did not fire.  Returns ``(z, iterations)``."""
    d, n = z0.shape
    c = rho * (m - u / rho)
    z = z0.copy()
    zeta = z0.copy()
    z_new = np.empty_like(z0)
    zeta_new = np.empty_like(z0)
    e = np.empty(d)
    F = 10e10
    lam = 1.0
    denom = rho + 1.0 / eta
    for it in range(max_iter):
        F_old = F
        lam_old = lam
        lam = (1.0 + math.sqrt(1.0 + 4.0 * lam * lam)) / 2.0
        gamma = (1.0 - lam_old) / lam
        ce = 0.0
        dd = 0.0
        for k in range(n):
            M = z[0, k]
            for i in range(1, d):
                if z[i, k] > M:
                    M = z[i, k]
            se = 0.0
            for i in range(d):
                e[i] = math.exp(z[i, k] - M)
                se += e[i]
            lse = M + math.log(se)
            ys = 0.0
            yz = 0.0
            for i in range(d):
                ys += Y[i, k]
                yz += Y[i, k] * z[i, k]
                D = z[i, k] - m[i, k] + u[i, k] / rho
                dd += D * D
                G = e[i] / se - Y[i, k]
                zn = (c[i, k] + (z[i, k] - eta * G) / eta) / denom
                zeta_new[i, k] = zn
                z_new[i, k] = (1.0 - gamma) * zn + gamma * zeta[i, k]
            ce += ys * lse - yz
        F = ce + 0.5 * rho * dd
        if abs(F - F_old) < tol:
            return z, it
        z, z_new = z_new, z
        zeta, zeta_new = zeta_new, zeta
    return z, max_iter


@numba.njit(**_JIT)
def _zl_col_phi(z, Y, u, m, rho, k, zc):
    """``s lse(zc) - <y, zc> + <u, zc - m> + rho/2 ||zc - m||^2`` of column ``k``."""
    d = zc.shape[0]
    M = zc[0]
    for i in range(1, d):
        if zc[i] > M:
            M = zc[i]
    se = 0.0
    for i in range(d):
        se += math.exp(zc[i] - M)
    s = 0.0
    out = 0.0
    for i in range(d):
        s += Y[i, k]
        dz = zc[i] - m[i, k]
        out += -Y[i, k] * zc[i] + u[i, k] * dz + 0.5 * rho * dz * dz
    return out + s * (M + math.log(se))


@numba.njit(**_JIT)
def _zl_newton(m, u, Y, rho, z0, rtol, max_iter):
    """Per column: Newton steps ``d = -H^{-1} g`` (``H = rho I + s (diag p - p p^T)``, Sherman-
    Morrison), step halved until the column's objective does not rise, until
    ``||g|| <= rtol max(1, ||s p - y||)`` or no step decreases it.  Returns ``(z, most steps
    of a column)``."""
    d, n = z0.shape
    z = z0.copy()
    p = np.empty(d)
    g = np.empty(d)
    step = np.empty(d)
    zc = np.empty(d)
    trial = np.empty(d)
    most = 0
    for k in range(n):
        for i in range(d):
            zc[i] = z[i, k]
        s = 0.0
        for i in range(d):
            s += Y[i, k]
        f = _zl_col_phi(z, Y, u, m, rho, k, zc)
        it = 0
        while it < max_iter:
            M = zc[0]
            for i in range(1, d):
                if zc[i] > M:
                    M = zc[i]
            se = 0.0
            for i in range(d):
                p[i] = math.exp(zc[i] - M)
                se += p[i]
            gn = 0.0
            Gn = 0.0
            for i in range(d):
                p[i] /= se
                G = s * p[i] - Y[i, k]
                g[i] = G + u[i, k] + rho * (zc[i] - m[i, k])
                gn += g[i] * g[i]
                Gn += G * G
            if math.sqrt(gn) <= rtol * max(1.0, math.sqrt(Gn)):
                break
            # H^{-1} g with H = D - s p p^T, D = diag(rho + s p)
            pDg = 0.0
            pDp = 0.0
            for i in range(d):
                Di = rho + s * p[i]
                pDg += p[i] * g[i] / Di
                pDp += p[i] * p[i] / Di
            coef = s * pDg / (1.0 - s * pDp)
            dec = 0.0
            for i in range(d):
                Di = rho + s * p[i]
                step[i] = -(g[i] + coef * p[i]) / Di
                dec -= 0.5 * g[i] * step[i]
            it += 1
            if dec <= 1e-15 * max(1.0, abs(f)):
                # the model's decrease is below the objective's rounding: the line search could
                # not tell better from worse, and the quadratic model is exact here: full step, done
                for i in range(d):
                    zc[i] += step[i]
                break
            tstep = 1.0
            ok = False
            for _ in range(60):
                for i in range(d):
                    trial[i] = zc[i] + tstep * step[i]
                ft = _zl_col_phi(z, Y, u, m, rho, k, trial)
                if ft <= f:
                    ok = True
                    break
                tstep *= 0.5
            if not ok:
                break
            for i in range(d):
                zc[i] = trial[i]
            if ft == f:
                break
            f = ft
        for i in range(d):
            z[i, k] = zc[i]
        if it > most:
            most = it
    return z, most


NUMBA_KERNELS = {"relu_z": _relu_z, "residual": _residual, "a_grad": _a_grad, "sub_scaled": _sub_scaled,
                 "scaled_step": _scaled_step, "bias_mean": _bias_mean, "relu_bias": _relu_bias,
                 "hidden_penalty": _hidden_penalty, "zl_fista": _zl_fista, "zl_newton": _zl_newton}


# ------------------------------------------------------------------ numpy twins
def _np_relu_z(P, b, a, z_old, z_out):
    z_out[...] = relu_z_step(P + b, a)
    d = z_out - z_old
    return float(np.vdot(d, d))


def _np_residual(P, b, z, shift, has_shift, out):
    out[...] = P + b - z - shift if has_shift else P + b - z


def _np_a_grad(pen, nu, WtR, a, z, out):
    out[...] = pen * WtR + nu * (a - np.maximum(z, 0.0))
    return float(np.vdot(out, out))


def _np_sub_scaled(X, D, t):
    X -= D / t


def _np_scaled_step(X, D, t, out):
    out[...] = X - D / t


def _np_bias_mean(z, P, shift, has_shift, b_old, b_out):
    b_out[...] = np.mean(z + shift - P if has_shift else z - P, axis=1, keepdims=True)
    d = b_out - b_old
    return float(np.vdot(d, d))


def _np_relu_bias(P, b, out):
    out[...] = relu_f(P + b)


def _np_hidden_penalty(z, P, b, a):
    D = z - P - b
    E = a - relu_f(z)
    return float(np.vdot(D, D)), float(np.vdot(E, E))


def _np_zl_fista(m, u, Y, rho, z0, max_iter, tol, eta):
    return zl_fista_authors(m, u, Y, rho, z0, max_iter, tol, eta)


def _np_zl_newton(m, u, Y, rho, z0, rtol, max_iter):
    """The same per-sample Newton method, all columns at once in numpy (the reference)."""
    z = z0.copy()
    s = Y.sum(axis=0, keepdims=True)

    def phi(Z):
        M = Z.max(axis=0, keepdims=True)
        lse = M + np.log(np.exp(Z - M).sum(axis=0, keepdims=True))
        D = Z - m
        return (s * lse - (Y * Z).sum(axis=0, keepdims=True) + (u * D).sum(axis=0, keepdims=True)
                + 0.5 * rho * (D * D).sum(axis=0, keepdims=True))

    active = np.ones(z.shape[1], bool)
    f = phi(z)
    most = 0
    for it in range(max_iter):
        E = np.exp(z - z.max(axis=0, keepdims=True))
        p = E / E.sum(axis=0, keepdims=True)
        G = s * p - Y
        g = G + u + rho * (z - m)
        done = np.sqrt((g * g).sum(axis=0)) <= rtol * np.maximum(1.0, np.sqrt((G * G).sum(axis=0)))
        active &= ~done
        if not active.any():
            break
        Dg = rho + s * p
        coef = s * (p * g / Dg).sum(axis=0, keepdims=True) / (1.0 - s * (p * p / Dg).sum(axis=0, keepdims=True))
        step = -(g + coef * p) / Dg
        most = it + 1
        tiny = (-0.5 * (g * step).sum(axis=0) <= 1e-15 * np.maximum(1.0, np.abs(f[0]))) & active
        z = np.where(tiny[None, :], z + step, z)        # below the rounding of phi: full step, done
        active &= ~tiny
        if not active.any():
            break
        t = np.ones((1, z.shape[1]))
        ft = phi(z + t * step)
        for _ in range(60):
            bad = (ft > f) & active[None, :]
            if not bad.any():
                break
            t = np.where(bad, 0.5 * t, t)
            ft = np.where(bad, phi(z + t * step), ft)
        ok = (ft <= f) & active[None, :]
        z = np.where(ok, z + t * step, z)
        stalled = ~ok[0] | (ft[0] == f[0])
        f = np.where(ok, ft, f)
        active &= ~stalled
        if not active.any():
            break
    return z, most


NUMPY_KERNELS = {"relu_z": _np_relu_z, "residual": _np_residual, "a_grad": _np_a_grad,
                 "sub_scaled": _np_sub_scaled, "scaled_step": _np_scaled_step, "bias_mean": _np_bias_mean,
                 "relu_bias": _np_relu_bias, "hidden_penalty": _np_hidden_penalty,
                 "zl_fista": _np_zl_fista, "zl_newton": _np_zl_newton}

#: the kernel sets by name (the engine's ``kernels`` argument)
KERNEL_SETS = {"numba": NUMBA_KERNELS, "numpy": NUMPY_KERNELS}
