"""Keep scipy's bundled OpenBLAS from fighting numpy's for the cores (threadpoolctl)."""

from __future__ import annotations

import contextlib

__all__ = ["scipy_blas_one_thread"]

_SCIPY_BLAS = []  # lazily: threadpoolctl controller of scipy's own BLAS, or None


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
            from threadpoolctl import ThreadpoolController

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
