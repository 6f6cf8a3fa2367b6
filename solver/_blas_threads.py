"""Thread control of the BLAS libraries the iteration calls.

* :func:`scipy_blas_one_thread`: scipy's bundled OpenBLAS held to one thread (it must not
  fight numpy's for the cores);
* :func:`numpy_blas_threads`: numpy's own OpenBLAS held to ``n`` threads for a block of
  code, through its ``openblas_set_num_threads`` (a few hundred nanoseconds: cheap enough
  around a single LAPACK call), threadpoolctl where numpy links another BLAS.
"""

from __future__ import annotations

import contextlib
import ctypes

from threadpoolctl import ThreadpoolController, threadpool_info

__all__ = ["scipy_blas_one_thread", "numpy_blas_threads", "numpy_blas_info"]

_SCIPY_BLAS = []  # lazily: threadpoolctl controller of scipy's own BLAS, or None
_NUMPY_BLAS = []  # lazily: (get, set) of numpy's OpenBLAS thread count, or a threadpoolctl controller


def numpy_blas_info():
    """threadpoolctl's record of numpy's BLAS (``internal_api``, ``architecture`` = the
    OpenBLAS kernel, ``num_threads``, ``version``, ``filepath``), or ``{}``."""
    for i in threadpool_info():
        if i.get("user_api") == "blas" and "numpy" in i.get("filepath", ""):
            return i
    return {}


def _numpy_blas():
    if not _NUMPY_BLAS:
        ctl = None
        info = numpy_blas_info()
        if info.get("internal_api") == "openblas":
            try:
                lib = ctypes.CDLL(info["filepath"])
                pre = info.get("prefix", "libopenblas")[3:]  # "scipy_openblas" / "openblas"
                names = [(f"{pre}_get_num_threads{s}", f"{pre}_set_num_threads{s}") for s in ("64_", "_64", "")]
                names += [("openblas_get_num_threads", "openblas_set_num_threads")]
                for g, s in names:
                    if hasattr(lib, g) and hasattr(lib, s):
                        get, set_ = getattr(lib, g), getattr(lib, s)
                        get.restype, get.argtypes = ctypes.c_int, []
                        set_.restype, set_.argtypes = None, [ctypes.c_int]
                        ctl = (get, set_)
                        break
            except OSError:  # pragma: no cover
                ctl = None
        if ctl is None and info:
            try:
                ctl = ThreadpoolController().select(filepath=info["filepath"])
            except Exception:  # pragma: no cover
                ctl = None
        _NUMPY_BLAS.append(ctl)
    return _NUMPY_BLAS[0]


@contextlib.contextmanager
def numpy_blas_threads(n):
    """numpy's BLAS held to ``n`` threads inside the block (``None``: left as it is)."""
    ctl = None if n is None else _numpy_blas()
    if ctl is None:
        yield
        return
    if isinstance(ctl, tuple):
        get, set_ = ctl
        old = get()
        if old == n:
            yield
            return
        set_(int(n))
        try:
            yield
        finally:
            set_(old)
    else:  # pragma: no cover - another BLAS than OpenBLAS
        with ctl.limit(limits=int(n)):
            yield


def scipy_blas_one_thread():
    """Context limiting scipy's bundled BLAS to one thread (a no-op where it is numpy's).

    numpy and scipy wheels each ship their own OpenBLAS, each with a thread per core.
    The iteration alternates numpy products with scipy's Cholesky solves, so the threads
    of one library spin while the other's work; on 2 cores that made an iteration several
    times slower and erratic (measured in docs/solver.md, "Two BLAS pools").
    """
    if not _SCIPY_BLAS:
        ctl = None
        try:
            c = ThreadpoolController()
            libs = [i["filepath"] for i in c.info() if i["user_api"] == "blas"]
            sc = [f for f in libs if "scipy" in f.rsplit("site-packages", 1)[-1].split("/")[1]]
            if sc and len(set(libs)) > 1:
                ctl = c.select(filepath=sc[0])
        except Exception:  # pragma: no cover - threadpoolctl missing or unknown layout
            ctl = None
        _SCIPY_BLAS.append(ctl)
    ctl = _SCIPY_BLAS[0]
    return ctl.limit(limits=1) if ctl is not None else contextlib.nullcontext()
