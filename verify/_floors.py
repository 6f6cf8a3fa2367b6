"""Rounding floors shared by the checks (private; :mod:`verify.checks` exports the public names).

A recorded quantity below ``FLOOR_MULT * eps`` times its size cannot decide a claim:
:func:`_lagrangian_size` is what rounding of ``L_beta`` is relative to (Lemma 14's steps),
:func:`_residual_floor` the floor of the KKT residual ``r_k`` (Theorem 4(c)), and
:func:`_robust_rows` a running median that no few rows can inflate.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: The rounding floor of a recorded quantity is ``FLOOR_MULT * eps`` times its size (absolute
#: and scale-based: never relative to the largest value of the run).
FLOOR_MULT = 1024.0
_EPS = float(np.finfo(float).eps)
#: fewest decided steps a check needs before it can PASS
MIN_STEPS = 3


def _lagrangian_size(tr, n):
    """Size of the Lagrangian's parts at each k: what rounding of ``L_beta`` is relative to.

    ``|loss| + |reg| + |dual| + |penalty|`` plus ``sum_i ||Lam_i|| ||V_i||`` (the rounding of
    ``<Lam_i, F_i>`` when ``F_i`` is computed from ``sigma(W_i A)`` and ``V_i`` of that size).
    """
    size = (np.abs(tr.loss[:n]) + np.abs(tr.reg[:n]) + np.abs(tr.dual[:n])
            + np.abs(tr.penalty[:n]))
    size = np.maximum(size, np.abs(tr.lagrangian[:n]))
    if tr.normLam is not None and tr.normV is not None:
        lv = np.asarray(tr.normLam[:n], float) * np.asarray(tr.normV[:n], float)
        size = size + np.where(np.isfinite(lv), lv, 0.0).sum(axis=1)
    return size


def _residual_floor(tr, n, floor_mult):
    """Rounding floor of the KKT residual ``r_k`` (absolute, from the iterates' sizes)."""
    parts = np.zeros(n)
    for f in ("normW", "normV", "normLam"):
        a = getattr(tr, f, None)
        if a is not None:
            a = np.asarray(a[:n], float)
            parts = parts + np.where(np.isfinite(a), a, 0.0).sum(axis=1)
    lam_v = 0.0
    if tr.normLam is not None and tr.normV is not None:
        lam_v = (np.asarray(tr.normLam[:n], float)
                 * (1.0 + np.asarray(tr.normV[:n], float).max(axis=1, keepdims=True)
                    + np.asarray(tr.normW[:n], float).max(axis=1, keepdims=True)
                    if tr.normW is not None else 1.0)).sum(axis=1)
    return floor_mult * _EPS * (parts + lam_v + 1e-300)


def _robust_rows(x, w=4):
    """Running median of ``x`` over the rows ``k-w .. k+w`` (mirrored at the ends, the end row
    itself not repeated): a scale that no ``w`` rows can inflate (issue 19, item 2)."""
    x = np.asarray(x, float)
    if x.size <= 2 * w + 1:
        return np.full(x.size, float(np.median(x))) if x.size else x

    return np.median(sliding_window_view(np.pad(x, w, mode="reflect"), 2 * w + 1), axis=1)


#: rows before a row whose (lower) median is that row's robust scale (issue 19, class 1): an
#: excursion of at most ``ROBUST_ROWS // 2`` rows cannot move it
ROBUST_ROWS = 65
#: a row's own scale sets its rounding floor only up to ``SCALE_JUMP`` times its robust scale
SCALE_JUMP = 2.0


def _scale_before(x, w=ROBUST_ROWS):
    """The lower median of ``x`` over the ``w`` rows before each row (rows ``k-w .. k-1``; a
    row among the first ``w``: the other rows of the first ``w + 1``; a run of ``w`` rows or
    fewer: its other rows).  Row ``k`` itself never counts, so neither one row nor an excursion
    of at most ``w // 2`` rows (``len(x) > w``) can raise it above the largest value of the
    rows it leaves alone (issue 19, class 1: a multiplier excursion that sets its own floor)."""
    x = np.asarray(x, float)
    n = x.size
    if n <= 1:
        return x.copy()
    out = np.empty(n)
    head = min(w, n)
    first = x[:min(w + 1, n)]
    for r in range(head):
        others = np.delete(first, r) if r < first.size else first
        out[r] = np.partition(others, (others.size - 1) // 2)[(others.size - 1) // 2]
    if n > w:
        view = sliding_window_view(x[:-1], w)               # row r: x[r-w .. r-1], r >= w
        out[w:] = np.partition(view, (w - 1) // 2, axis=1)[:, (w - 1) // 2]
    return out
