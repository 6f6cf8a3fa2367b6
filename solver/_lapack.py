"""Cholesky solves in numpy's own BLAS/LAPACK (ctypes), for the compiled iteration.

numpy and scipy wheels each bundle an OpenBLAS.  The iteration's matrix products run in
numpy's (multithreaded); scipy's copy, which ``scipy.linalg`` uses for Cholesky solves,
must be held to one thread inside an iteration or the two thread pools fight
(:func:`solver.admm.engine._scipy_blas_one_thread`).  On this machine that single thread
solved the product-gate weight system (301 x 301, 300 right-hand sides) in 3.9 ms, while
numpy's dgemm runs a 300 x 300 x 1000 product in 1.8 ms.  numpy's OpenBLAS exports its
LAPACK too (``dpotrf``, ``dpotrs``, ``dpotri``; the ``scipy_*_64_`` ILP64 names of the
scipy-openblas wheels numpy ships), so this module calls those directly: one thread pool,
numpy's threads, no copies (the routines work on the arrays' buffers in place).

:data:`AVAILABLE` is False where numpy links another BLAS (MKL, Accelerate, a system
OpenBLAS without these names); the engine then uses ``scipy.linalg`` as before.  Tested
against ``scipy.linalg`` in ``tests/test_solver_engine.py``.
"""

from __future__ import annotations

import ctypes

import numpy as np
from threadpoolctl import threadpool_info

__all__ = ["AVAILABLE", "LIBRARY", "potrf_lower", "potrs_right", "spd_inverse"]

_FN = {}
LIBRARY = None
AVAILABLE = False

_NAMINGS = (("scipy_", "_64_", ctypes.c_int64), ("", "64_", ctypes.c_int64),
            ("", "_64", ctypes.c_int64), ("scipy_", "_", ctypes.c_int32), ("", "_", ctypes.c_int32))


def _numpy_blas_paths():
    return [i["filepath"] for i in threadpool_info()
            if i.get("user_api") == "blas" and "numpy" in i.get("filepath", "")]


def _load():
    global LIBRARY, AVAILABLE, _INT
    for path in _numpy_blas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover
            continue
        for prefix, suffix, int_t in _NAMINGS:
            names = {k: f"{prefix}{k}{suffix}" for k in ("dpotrf", "dpotrs", "dpotri")}
            if all(hasattr(lib, v) for v in names.values()):
                for k, v in names.items():
                    f = getattr(lib, v)
                    f.restype = None
                    _FN[k] = f
                _INT = int_t
                LIBRARY, AVAILABLE = f"{path}:{names['dpotrf']}", True
                return


_INT = ctypes.c_int64
_L = ctypes.c_char(b"L")
_ONE = ctypes.c_size_t(1)  # hidden Fortran string length (ignored by OpenBLAS's C LAPACK)

_load()


def _ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def _call(name, *args):
    info = _INT(0)
    _FN[name](*args, ctypes.byref(info), _ONE)
    return info.value


def potrf_lower(M):
    """Cholesky factor of an SPD ``M`` (C-ordered, square) in place; raises LinAlgError."""
    d = M.shape[0]
    info = _call("dpotrf", ctypes.byref(_L), ctypes.byref(_INT(d)), _ptr(M), ctypes.byref(_INT(d)))
    if info != 0:
        raise np.linalg.LinAlgError(f"{info}-th leading minor not positive definite")
    return M


def potrs_right(F, R):
    """``R <- R M^{-1}`` in place from the factor ``F = potrf_lower(M)``.

    ``R`` is C-ordered ``p x d``: its buffer is ``R^T`` in Fortran order, so LAPACK's
    ``M X = R^T`` with ``p`` right-hand sides solves it in place.
    """
    d, p = F.shape[0], R.shape[0]
    if p == 0:
        return R
    info = _call("dpotrs", ctypes.byref(_L), ctypes.byref(_INT(d)), ctypes.byref(_INT(p)), _ptr(F),
                 ctypes.byref(_INT(d)), _ptr(R), ctypes.byref(_INT(d)))
    if info != 0:  # pragma: no cover - only on an illegal argument
        raise ValueError(f"dpotrs: illegal argument {-info}")
    return R


def spd_inverse(M):
    """``M^{-1}`` of an SPD ``M`` (C-ordered) in place (``potrf``, ``potri``); one triangle.

    The symmetric inverse is left in the triangle that LAPACK's "L" addresses, which
    for a C-ordered buffer is the upper one; the caller completes the other.
    """
    potrf_lower(M)
    d = M.shape[0]
    info = _call("dpotri", ctypes.byref(_L), ctypes.byref(_INT(d)), _ptr(M), ctypes.byref(_INT(d)))
    if info != 0:  # pragma: no cover - a zero diagonal of a successful factor
        raise np.linalg.LinAlgError("singular Cholesky factor")
    return M
