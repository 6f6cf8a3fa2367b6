"""Fused elementwise kernels of the inexact ALM's inner sweep (numba, ``cache=True``).

One kernel per elementwise step of :meth:`solver.inexact_alm.InexactALMEngine.inner_sweep`
and :meth:`~solver.inexact_alm.InexactALMEngine.inner_residual` (l1 complementarity):

* ``joint_uv``: the joint exact ``(U_l, V_l)`` step (:func:`solver.inexact_alm.joint_piecewise_min`
  on the MM majorant), its inputs formed in the same pass (``beta sigma'(U)``,
  ``rho D + beta``, ``Lambar / rho``), so the step costs one memory sweep instead of
  some sixty numpy temporaries;
* ``hidden_grads_sq``: the squared norms of the U and V gradients of ``L_rho`` at a hidden
  layer, given ``R_l`` and ``Wbar_{l+1}^T R_{l+1}``.

Each kernel has a plain numpy twin in :data:`NUMPY_KERNELS` (same signature): the reference
the compiled kernels are tested against (tests/test_solver_inexact_alm.py), written from the
formulas of the method (its block maps, in :mod:`solver.inexact_alm.steps`, which the engine
imports too), not from the kernels.  The engine picks the set by name (``kernels="numba"`` or ``"numpy"``).
"""

from __future__ import annotations

from .. import _numba_cache  # noqa: F401 - first: a writable folder for cache=True (read-only installs)
import numba
import numpy as np

from .steps import joint_piecewise_min

__all__ = ["NUMBA_KERNELS", "NUMPY_KERNELS", "KERNEL_SETS"]

_JIT = dict(cache=True, nogil=True, error_model="numpy")


# ------------------------------------------------------------------ compiled kernels
@numba.njit(**_JIT)
def _joint_uv(rho, alpha, beta, Lc, target, U, V, D, La, Lb, U_out, V_out):
    """For every entry: ``cu = beta sigma'(U)``, ``cv = rho D + beta`` (``D = K V - E``, the
    coupling's gradient over ``rho``), ``l1 = La/rho``,
    ``l2 = Lb/rho``, then the least inconsistent of the four active-set stationary points of
    :func:`solver.inexact_alm.joint_piecewise_min` (first one on ties), written to the outputs."""
    d, n = U.shape
    for i in range(d):
        for k in range(n):
            a = target[i, k]
            u0 = U[i, k]
            cu = beta * (1.0 if u0 > 0.0 else alpha)
            cv = rho * D[i, k] + beta
            v0 = V[i, k]
            l1 = La[i, k] / rho
            l2 = Lb[i, k] / rho
            best_u = 0.0
            best_v = 0.0
            best_bad = np.inf
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
                    g1 = u - v + l1
                    g2 = alpha * u - v + l2
                    bad = (max(-g1, 0.0) if s1 else max(g1, 0.0)) + (max(-g2, 0.0) if s2 else max(g2, 0.0))
                    if bad < best_bad:
                        best_u, best_v, best_bad = u, v, bad
            U_out[i, k] = best_u
            V_out[i, k] = best_v


@numba.njit(**_JIT)
def _hidden_grads_sq(rho, alpha, beta, U, V, R, WtR, La, Lb):
    """``(||G_U||^2, ||G_V||^2)`` of ``L_rho`` at a hidden layer (l1 complementarity):
    ``G_U = rho (R + P1 + alpha P2) - beta sigma'(U)``, ``G_V = -rho WtR - rho (P1 + P2) + beta``,
    ``P1 = max(0, U - V + La/rho)``, ``P2 = max(0, alpha U - V + Lb/rho)``."""
    d, n = U.shape
    su = 0.0
    sv = 0.0
    for i in range(d):
        for k in range(n):
            u = U[i, k]
            v = V[i, k]
            p1 = max(0.0, u - v + La[i, k] / rho)
            p2 = max(0.0, alpha * u - v + Lb[i, k] / rho)
            gu = rho * (R[i, k] + p1 + alpha * p2) - beta * (1.0 if u > 0.0 else alpha)
            gv = -rho * WtR[i, k] - rho * (p1 + p2) + beta
            su += gu * gu
            sv += gv * gv
    return su, sv


NUMBA_KERNELS = {"joint_uv": _joint_uv, "hidden_grads_sq": _hidden_grads_sq}


# ------------------------------------------------------------------ numpy reference twins
def _np_joint_uv(rho, alpha, beta, Lc, target, U, V, D, La, Lb, U_out, V_out):
    cu = beta * np.where(U > 0, 1.0, alpha)
    cv = rho * D + beta
    u, v = joint_piecewise_min(rho, alpha, target, cu, Lc, V, cv, La / rho, Lb / rho)
    U_out[...] = u
    V_out[...] = v


def _np_hidden_grads_sq(rho, alpha, beta, U, V, R, WtR, La, Lb):
    P1 = np.maximum(0.0, U - V + La / rho)
    P2 = np.maximum(0.0, alpha * U - V + Lb / rho)
    GU = rho * (R + P1 + alpha * P2) - beta * np.where(U > 0, 1.0, alpha)
    GV = -rho * WtR - rho * (P1 + P2) + beta
    return float(np.sum(GU * GU)), float(np.sum(GV * GV))


NUMPY_KERNELS = {"joint_uv": _np_joint_uv, "hidden_grads_sq": _np_hidden_grads_sq}

#: the kernel sets by name (the engine's ``kernels`` argument)
KERNEL_SETS = {"numba": NUMBA_KERNELS, "numpy": NUMPY_KERNELS}
