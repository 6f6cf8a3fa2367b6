"""The rate on a run: Theorem 4(c), Lemma 21 and the proof's chain to ``min_j r_j^2 = O(1/K)``.

:func:`kkt_rate` checks Theorem 4(c) on ``sum_j r_j^2`` (the proof's chain with derived or
out-of-sample constants) and reports the regime of ``min_j r_j``; :func:`relative_error`
checks Lemma 21 (``r_k <= b sqrt(P_k)``) with a derived ``b``; :func:`rate_certificate`
follows the chain link by link (Lemma 14's descent summed, Lemma 21, the lower bound of
``L_beta``) with derived ``a, b, xi``.  Private module: the names are exported by
:mod:`verify.checks` and :mod:`verify`.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import nnls

from ._constants import (
    _a_posteriori,
    _guard,
    _not_covered,
    _validity,
    resolve_constants,
)
from ._descent import descent_diagnostic
from ._floors import _EPS, FLOOR_MULT, _lagrangian_size, _residual_floor
from ._results import CheckResult, Verdict
from ._table import _check_shared
from ._trace_input import _as_trace, _need


# ------------------------------------------------------------ Theorem 4(c)
#: half-width ``w`` of the row windows (``2 w + 1 = 9`` rows) whose medians the regime and the
#: floor of :func:`kkt_rate` are judged on: no row, nor any ``w`` rows, sets a law or a floor
WINDOW_HALF = 4
#: a window's rounding floor more than this factor above the run's robust scale before it is a
#: jump of the iterates' sizes, not rounding (real runs: at most 5.4, issue 19); reaching such a
#: floor is undecidable
FLOOR_JUMP = 100.0


#: a level of the residual counts for the shape only when ``DIP_ROWS + 1`` consecutive rows are at
#: or below it: a dip (a run of low rows) of at most ``DIP_ROWS`` adjacent rows, at any spacing,
#: never lowers the series the law is judged on (issue 19, round 4: 2- and 3-row dips every 4..7
#: rows of a stalled residual read as "power law k^-2")
DIP_ROWS = 4
#: a positive limit ``c`` of a power-law approach ``c + A k^-p`` is detected when ``c`` is at least
#: this fraction of the running minimum's last value (the tests draw ``c >= 0.15 s_K``)
LIMIT_FRACTION = 0.1
#: :func:`_positive_limit_cm` (round 5, att21 H3), its constants measured with
#: ``PYTHONPATH=. python benchmarks/kkt_limit_scan.py --series`` (the window-centre tail of ``c +
#: f``, 31 completely monotone decays x c = 0.15-0.5 s_K x K = 120-3000, 597 cases whose tail
#: falls by at least 1/2, against 424 pure laws k^-p (p 1-12) and rho^k, K = 40-3000), and
#: docs/verify.md "Round 5 (kkt_rate)":
#: CM_GAIN separates the relative RMS error without a constant from the error with one: the
#: 15 real runs of att21's good_runs.py/good_runs2.py that PASS have a ratio of 1.0-2.2 (a
#: constant helps a real, not exactly monotone tail by at most 2.2x), the class's detected
#: cases 50.6 or more (noise-free), the pure laws 1.0
CM_GAIN = 10.0
#: the least limit c^ / s~_K called a positive limit (as LIMIT_FRACTION): pure laws fit with
#: c^ <= 0.0095 s_K; a real good run (tests/test_verify_doctored.py, the run that dips and
#: recovers, K = 300; its residual has a slow mode 0.9976^k that the run leaves at k ~ 1000)
#: fits with c^ = 0.051 s_K and a ratio 11, and kept its PASS only with 0.1 (0.02 made it
#: stalled); the class's c^ is 0.03-0.097 s_K in 15 of 597 cases (f barely faster than 1/k,
#: k^-1 e^(-k/(3K)), k^-0.5 e^(-k/K), or (1 + 20 k/K)^-2), which the detector misses
CM_FRACTION = 0.1
#: both fits at float64 rounding say nothing: the error without a constant must exceed this
#: (pure laws fit to 2e-16 .. 5e-5, the class's cases to 1e-9 and more without a constant)
CM_NOISE = 1e-12
#: each decay of the fit falls by at least this factor over the tail, the 1/2 of 1/k that
#: the second-half rule asks of a PASS (a slower decay is INCONCLUSIVE anyway); kkt_rate scan
#: (K = 300, 1000; c = 0.15-0.3 r_K, 208 class cases) with the first version (unrefined grid,
#: CM_FRACTION 0.02, CM_GAIN 4): 0.5 missed 0, 0.55 missed 4, 0.6 missed 10, 0.7 missed 28
#: (decays slower than 1/2 imitate c); 0.5 cost a pure exp(-(3k/K)^0.7) its PASS there, which
#: CM_FRACTION 0.1 gave back
CM_FALL = 0.5
#: the starting grid: CM_RATES log-spaced rates, CM_POWERS exponents, at most CM_ROWS rows,
#: refined CM_REFINE times around the fit's own rates (a pure exponential between two grid
#: rates was fitted to 2e-4 only, c + e^(-k/5) at K = 80 undetected; refined: 1.5e-12)
CM_RATES = 150
CM_POWERS = 60
CM_ROWS = 400
CM_REFINE = 2


def _supported_min(r, m=DIP_ROWS):
    """``e_k = min_{j <= k} max(r_j, .., r_{j+m})``: the smallest level that ``m + 1``
    consecutive rows starting at or before row ``k`` all reached (rows ``k > n - 1 - m`` keep
    the value of ``n - 1 - m``).  At least ``min_{j<=k} r_j`` and equal to it on a
    non-increasing ``r``; a run of at most ``m`` low rows (with rows at the surrounding level on
    each side) cannot lower it, whatever the spacing of such runs, and a row raised by any
    factor only holds it for at most ``m + 1`` rows (a running minimum is never raised above
    its earlier value)."""
    r = np.asarray(r, float)
    out = np.full(r.size, math.inf)
    if r.size > m:
        e = np.minimum.accumulate(np.max(sliding_window_view(r, m + 1), axis=1))
        out[:e.size] = e
        out[e.size:] = e[-1]
    return out


def _window_medians(x, w=WINDOW_HALF):
    """Median of ``x`` over every complete window of rows ``c-w .. c+w`` (``c = w .. n-1-w``; no
    end padding, so the last rows fill only their own share of a window): changing one row
    moves a window's median at most to the next order statistic of the other rows."""
    x = np.asarray(x, float)
    if x.size < 2 * w + 1:
        return x[:0]
    return np.median(sliding_window_view(x, 2 * w + 1), axis=1)


def _despiked(r):
    """``r`` with every row outside the range of its two neighbours on each side (an isolated
    row: on a monotone or smooth law no row is) replaced by the geometric mean of its adjacent
    rows: one row changed by any factor cannot move it, except the first and last two rows."""
    r = np.asarray(r, float)
    x = r.copy()
    n = r.size
    if n < 5:
        return x
    nb = np.stack([r[:n - 4], r[1:n - 3], r[3:n - 1], r[4:]])
    mid = r[2:n - 2]
    out = (mid < nb.min(axis=0)) | (mid > nb.max(axis=0))
    with np.errstate(invalid="ignore"):
        x[2:n - 2] = np.where(out, np.sqrt(np.abs(r[1:n - 3] * r[3:n - 1])), mid)
    return x


def _floor_scale(rfl, fm, w=WINDOW_HALF):
    """The run's robust floor scale before each window ``fm[i]`` (rows ``i .. i + 2w``): the
    smallest window floor wholly before it, never above the median per-row floor of the run.
    No rows after a window raise its scale, and rows before it raise it only if they are more
    than half the run, so a jump of the iterates' sizes over any number of end rows, or over
    the first window, shows as ``fm > FLOOR_JUMP * scale``."""
    med = float(np.median(rfl)) if np.size(rfl) else math.inf
    ref = np.full(fm.size, med)
    if fm.size > 2 * w + 1:
        ref[2 * w + 1:] = np.minimum(np.minimum.accumulate(fm)[: fm.size - 2 * w - 1], med)
    return ref


def _block_means(s, h, n_blocks=5):
    """Means of ``s[h:]`` over ``n_blocks`` equal consecutive blocks (the remainder rows at the
    end left out), or None when a block would have fewer than 2 rows."""
    L = (len(s) - h) // n_blocks
    if L < 2:
        return None
    return s[h:h + L * n_blocks].reshape(n_blocks, L).mean(axis=1)


def _regime(s, k, r_floor, scale=None, s_floor=None, n_int=20, flat_frac=0.25, stall_ratio=0.9,
            s_lim=None, s_end=None):
    """Heuristic regime of the running minimum ``s`` over the second half of ``k``.

    ``s`` is the running minimum of the despiked residual (:func:`_despiked`) at the windows'
    centre rows ``k``; ``r_floor`` the 9-row window medians of the per-row floor, ``scale`` the
    run's robust floor scale before each window (:func:`_floor_scale`) and ``s_floor`` the
    running minimum of the 9-row window medians of ``r``, the series said to reach the floor
    (``s`` when None).  "Reached the floor" needs ``s_floor`` at a window's floor that is not a
    jump (``r_floor <= FLOOR_JUMP * scale``); a first such window that is a jump gives ``"floor
    undecidable"``.  The tail ``[m/2, m]`` is cut into ``n_int`` equal intervals; each gives a
    local exponent ``dlog s / dlog k`` and a local rate ``dlog s / dk``.  Intervals where ``s``
    falls by less than a fifth of the average share are *flat*.  Every interval counts, so a
    trace that is flat for most of the tail and then drops is "irregular", not a steep power
    law.  The positive-limit tests (:func:`_positive_limit`: five block means of ``s``, not
    rows; :func:`_positive_limit_power`: a power-law approach ``c + A k^-p``) run on ``s`` and
    on every series in ``s_lim``, with the floor capped at ``FLOOR_JUMP`` times the scale.  Returns a dict
    ``regime`` (``"floor"``, ``"floor undecidable"``, ``"stalled"``, ``"irregular"``,
    ``"geometric"``, ``"power law"``, ``"too short"``), ``exponent`` and ``exponent_se`` (mean
    and standard error of the local exponents), ``rate`` (per-iteration factor) and ``rate_se``,
    ``flat_fraction``, ``tail_drop``, ``k_floor``.
    """
    m = len(s)
    out = {"regime": None, "exponent": float("nan"), "exponent_se": float("nan"),
           "rate": float("nan"), "rate_se": float("nan"), "flat_fraction": float("nan"),
           "tail_drop": float("nan"), "k_floor": None}
    r_floor = np.broadcast_to(np.asarray(r_floor, float), (m,))
    scale = np.full(m, math.inf) if scale is None else np.asarray(scale, float)
    cap = np.minimum(r_floor, FLOOR_JUMP * scale)       # the floor a jump cannot raise
    at = (s if s_floor is None else s_floor) <= r_floor
    if at.any():
        i = int(np.argmax(at))
        out["k_floor"] = int(k[i])
        if r_floor[i] > cap[i]:
            out["regime"] = "floor undecidable"
            out["floor_jump"] = float(r_floor[i] / scale[i])
        else:
            out["regime"] = "floor"
        return out
    h = m // 2
    edges = np.unique(np.linspace(h, m - 1, n_int + 1).round().astype(int)) if m else np.array([])
    if edges.size < 4:
        out["regime"] = "too short"
        return out
    ls, lk = np.log(s[edges]), np.log(k[edges].astype(float))
    dls, dlk, dk = np.diff(ls), np.diff(lk), np.diff(k[edges].astype(float))
    total = float(ls[-1] - ls[0])
    out["tail_drop"] = float(math.exp(total))
    if math.exp(total) > stall_ratio:
        out["regime"] = "stalled"
        return out
    share = total / dls.size
    flat = dls > 0.2 * share                    # share < 0: a flat interval falls by less
    out["flat_fraction"] = float(flat.mean())
    pe, ge = dls / dlk, dls / dk
    out["exponent"] = float(pe.mean())
    out["exponent_se"] = float(pe.std(ddof=1) / math.sqrt(pe.size))
    out["rate"] = float(math.exp(ge.mean()))
    out["rate_se"] = float(ge.std(ddof=1) / math.sqrt(ge.size))
    if flat.mean() > flat_frac:
        out["regime"] = "irregular"
        return out
    cv_p = float(pe.std(ddof=1) / abs(pe.mean())) if pe.mean() != 0 else math.inf
    cv_g = float(ge.std(ddof=1) / abs(ge.mean())) if ge.mean() != 0 else math.inf
    out["shape"] = "geometric" if cv_g <= cv_p else "power law"    # the regime without a limit
    fl_end = float(cap[-1])
    if any(_positive_limit(x, h, fl_end, out) or _positive_limit_power(x, k, h, fl_end, out)
           or _positive_limit_cm(x, k, h, fl_end, out)
           for x in ((s,) if s_lim is None else (s, np.asarray(s_lim, float)))) or (
            s_end is not None and _positive_limit_cm(
                s_end[0], s_end[1], int(np.searchsorted(s_end[1], k[h])), fl_end, out)):
        out["regime"] = "stalled"
        out["stall"] = "positive limit"
        return out
    out["regime"] = out["shape"]
    return out


def _positive_limit(s, h, fl_end, out, ratio_tol=1.05, limit_tol=0.1):
    """Whether the tail of ``s`` tends to a positive limit above the floor ``fl_end``: the
    decrements of five block means of ``s[h:]`` shrink geometrically (equal ratios within
    ``ratio_tol``, a power law's ratios creep towards 1; log-decrements shrinking) and
    extrapolate, from the earlier and from the later blocks alike (within ``limit_tol``), to a
    limit above 10 % of ``s``'s last value and above ``fl_end`` (1e-3 + 0.98^k, 0.05 + 0.99^k;
    only a limit under the floor is what rounding explains, issue 19: 1.6e-10 + 0.9062^k).
    Block means, not rows: a row the despiking leaves (inside its neighbours' range) moves
    ``s`` at one row by at most two rows' fall, a block mean by a fraction of that."""
    sb = _block_means(s, h)
    if sb is None:
        return False
    dec = -np.diff(sb)
    if not np.all(dec > 0):
        return False
    rr = dec[1:] / dec[:-1]
    ld = -np.diff(np.log(sb))
    if not (np.max(rr) < 1 and float(np.max(rr) / np.min(rr)) < ratio_tol and ld[-1] < ld[0]):
        return False
    r1, r2 = float(rr[0]), float(rr[-1])
    lim_a = float(sb[3] - dec[2] * r1 / (1 - r1))
    limit = float(sb[4] - dec[3] * r2 / (1 - r2))
    out["limit"] = limit
    return bool(limit > max(0.1 * float(s[-1]), fl_end) and abs(lim_a - limit) <= limit_tol * limit)


def _positive_limit_power(s, k, h, fl_end, out, frac=LIMIT_FRACTION, gain=4.0, n_grid=400):
    """Whether the tail ``s[h:]`` approaches a positive limit along a power law, ``c + A k^-p``
    with ``c >= frac s_K`` above the floor ``fl_end``, for any ``p > 0``: the share of the
    variance of ``log(s - c)`` that a line in ``log k`` leaves unexplained (``1 - R^2``), over a grid of ``c`` in ``[0, (1 - 1e-6) s_K]``
    (refined around its best point) is least
    at ``c^ >= frac s_K`` and ``gain`` times smaller there than at ``c = 0`` (a pure power law
    is a straight line at ``c = 0``: its best ``c`` is 0; a geometric decay is concave in
    ``log k`` and a positive ``c`` only bends it more; an approach to a positive limit is
    convex: its local exponent ``-p (1 - c/s)`` shrinks as ``s`` nears ``c``).  A decelerating
    sum of power laws (``k^-1 + B k^-3``) reads the same over a finite tail and is called
    stalled too: INCONCLUSIVE, the safe side."""
    st = np.asarray(s[h:], float)
    kt = np.asarray(k[h:], float)
    if st.size < 8 or not np.all(np.isfinite(st)) or not np.all(st > 0) or st[-1] >= st[0]:
        return False
    x = np.log(kt) - np.log(kt).mean()

    def fit(grid):
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log(st[None, :] - grid[:, None])
        y = y - y.mean(axis=1, keepdims=True)
        sl = (y @ x) / float(x @ x)
        with np.errstate(invalid="ignore", divide="ignore"):   # the share left unexplained
            rs = np.sum((y - sl[:, None] * x[None, :]) ** 2, axis=1) / np.sum(y * y, axis=1)
        return sl, np.where(np.isfinite(rs), rs, np.inf)

    # c / s_K on [0, 0.99] evenly and on to 1 - 1e-6 geometrically, then refined around the best
    u = np.concatenate([np.linspace(0.0, 0.99, n_grid), 1.0 - np.geomspace(1e-2, 1e-6, 80)[1:]])
    slope, rss = fit(st[-1] * u)
    i = int(np.argmin(rss))
    fine = np.linspace(u[max(i - 1, 0)], u[min(i + 1, u.size - 1)], 101)
    sl_f, rs_f = fit(st[-1] * fine)
    j = int(np.argmin(rs_f))
    if rs_f[j] < rss[i]:
        slope, rss, u = np.append(slope, sl_f[j]), np.append(rss, rs_f[j]), np.append(u, fine[j])
        i = u.size - 1
    c_hat = float(st[-1] * u[i])
    out["limit_power"] = c_hat
    hit = bool(c_hat >= frac * float(st[-1]) and c_hat > fl_end and slope[i] < 0
               and rss[0] > gain * rss[i])
    if hit:
        out["limit"] = c_hat
    return hit


def _cm_grid(kt, st, phi, n_t=CM_RATES, n_p=CM_POWERS):
    """The starting grid of :func:`_positive_limit_cm`: ``n_t`` rates ``t`` of ``exp(-t (k -
    k_h))`` from ``log(1/phi) / (K - k_h)`` (a component that falls by the factor ``phi`` over
    the tail) to 2 per row or twice the steepest per-row log-fall of ``st``, whichever is
    larger, log-spaced, and ``n_p`` exponents ``p`` of ``(k / k_h)^-p`` from ``log(1/phi) /
    log(K / k_h)`` (the same fall) to 12: completely monotone decays, each falling over the
    tail by at least ``phi``."""
    k0, K = float(kt[0]), float(kt[-1])
    steep = float(np.max(-np.diff(np.log(st)) / np.diff(kt))) if st.size > 1 else 0.0
    return (np.geomspace(math.log(1 / phi) / (K - k0), max(2.0, 2.0 * steep), n_t),
            np.linspace(math.log(1 / phi) / math.log(K / k0), 12.0, n_p))


def _cm_fit(st, kt, t, p, const, refine=CM_REFINE):
    """Non-negative least squares of ``st`` on ``exp(-t (k - k_h))``, ``(k / k_h)^-p`` (and a
    constant when ``const``), each row weighted by ``1 / st`` (relative error); ``refine``
    times the grid is refined, 20 points between the neighbours of every rate and exponent
    the fit uses (the grid only grows: each refit is at least as good).  Returns the relative
    RMS error and the constant (0 without)."""
    k0 = float(kt[0])
    w = 1.0 / st
    one = np.ones(st.size)
    for it in range(refine + 1):
        A = np.column_stack([np.exp(-np.outer(kt - k0, t)), (kt[:, None] / k0) ** -p[None, :]]
                            + ([np.ones(st.size)] if const else [])) * w[:, None]
        nrm = np.linalg.norm(A, axis=0)
        nrm[nrm == 0] = 1.0
        x, res = nnls(A / nrm, one, maxiter=50 * A.shape[1])
        x = x / nrm
        if it == refine:
            break
        grids = []
        for g, xs in ((t, x[:t.size]), (p, x[t.size:t.size + p.size])):
            extra = [np.linspace(g[max(j - 1, 0)], g[min(j + 1, g.size - 1)], 21)
                     for j in np.flatnonzero(xs > 0)]
            grids.append(np.unique(np.concatenate([g, *extra])))
        t, p = grids
    return float(res / math.sqrt(st.size)), (float(x[-1]) if const else 0.0)


def _positive_limit_cm(s, k, h, fl_end, out, frac=CM_FRACTION, gain=CM_GAIN, phi=CM_FALL,
                       noise=CM_NOISE, n_rows=CM_ROWS):
    """Whether the tail ``s[h:]`` is better explained by a positive constant plus a completely
    monotone decay than by such a decay alone (round 5, H3: ``c + exp(-sqrt(k/s))``, ``c +
    k^-2 e^(-k/s)``, ``c + e^(-k/s)/log k`` with ``c`` 15-40 % of ``s_K`` PASSed as power laws
    or geometric: the other two detectors fit only ``c + A k^-p`` and equal block ratios).

    Two non-negative least-squares fits of ``s`` on (at most ``n_rows`` evenly spaced rows of)
    ``[h, K]``, in relative error (each row weighted by ``1/s_k``), over the decays of
    :func:`_cm_grid` (``exp(-t k)`` and ``k^-p``, each falling by at least ``phi`` over the
    tail; the grid refined around the fit's own rates, :func:`_cm_fit`): without a constant
    (relative RMS error ``e0``) and with a constant ``c >= 0`` (``e_c``, best ``c^``).  A
    positive limit when ``c^ >= frac s_K``, ``c^`` above the floor ``fl_end`` and ``e0 > gain
    max(e_c, noise)``: the constant is needed, no mixture of decays that vanish fits as
    well.  Non-negative least squares is convex: each fit is the best over its grid.

    What it cannot see: a constant the decays imitate to within the data's own roughness (a
    tail whose limit is below its noise: real runs' tails fit to 1e-4..4e-3 relative, so a
    constant of a few % is hidden there), or a decay falling by less than ``phi`` over the
    tail, which a finite run cannot tell from a constant.  A pure ``k^-p`` or ``rho^k`` falling
    by at least ``phi`` over the tail is a column of the grid, or between two: ``c^ = 0``
    there, or a constant that does not fit better."""
    st = np.asarray(s[h:], float)
    kt = np.asarray(k[h:], float)
    if (st.size < 8 or not np.all(np.isfinite(st)) or not np.all(st > 0) or st[-1] >= st[0]
            or kt[0] <= 0):
        return False
    idx = np.unique(np.linspace(0, st.size - 1, min(n_rows, st.size)).round().astype(int))
    st, kt = st[idx], kt[idx]
    t, p = _cm_grid(kt, st, phi)
    try:
        e0, _ = _cm_fit(st, kt, t, p, const=False)
        ec, c_hat = _cm_fit(st, kt, t, p, const=True)
    except RuntimeError:                # the solver did not converge: no limit found
        out["limit_cm_error"] = "nnls did not converge"
        return False
    out["limit_cm"] = c_hat
    out["limit_cm_fit"] = (e0, ec)
    hit = bool(c_hat >= frac * float(st[-1]) and c_hat > fl_end and e0 > gain * max(ec, noise))
    if hit:
        out["limit"] = c_hat
    return hit


def _regime_of_run(r, rfl, k, w=WINDOW_HALF):
    """:func:`_regime` of ``r`` on statistics no single row sets, at the 9-row windows' centre
    rows: the shape on the running minimum of the despiked ``r``, the floor on the running
    minimum of the window medians of ``r`` against the window medians of the per-row floor and
    the scale before them (no end padding: end rows fill only their share of a window)."""
    rm, fm = _window_medians(r, w), _window_medians(rfl, w)
    s_rob = np.minimum.accumulate(rm) if rm.size else rm
    # the shape on the running minimum of r with isolated rows put back between their
    # neighbours (rows 2 .. k; the centre rows of the windows)
    s_dsp = np.minimum.accumulate(_despiked(r)[2:])[w - 2:len(r) - w - 2] if rm.size else rm
    # ... and never below the level DIP_ROWS + 1 consecutive rows reached (short dips ignored)
    s_sh = np.maximum(s_dsp, _supported_min(r)[w:len(r) - w]) if rm.size else rm
    # ... and, for the completely monotone limit test only, the despiked running minimum on to
    # the last row (round 5: the windows end 4 rows early, where a fast decay is still up to
    # 1.6 times its last value and a limit of 0.15 r_K is under 0.1 of the window's): more
    # rows can only add a positive limit, never remove one
    s_end = ((np.minimum.accumulate(_despiked(r)[2:])[w - 2:], k[w:].astype(float))
             if rm.size else None)
    return _regime(s_sh, k[w:k.size - w], fm, _floor_scale(rfl, fm, w), s_floor=s_rob, s_lim=s_dsp,
                   s_end=s_end)


def _kl_exponent(r, Lhat, floor_L, k_stop):
    """Heuristic KL exponent: slope of ``log r_k`` on ``log(Lhat^k - Lhat^K)`` (KL:
    ``(Lhat - Lhat*)^theta <= c ||grad||``), over the iterations where the gap is well above
    the rounding floor.  ``theta = 1/2`` is linear convergence."""
    n = min(len(r), k_stop)
    gap = Lhat[:n] - Lhat[n - 1]
    ok = (gap > 100 * floor_L[:n]) & (r[:n] > 0)
    ok[: max(1, n // 10)] = False
    idx = np.flatnonzero(ok)
    if idx.size < 8:
        return float("nan")
    idx = idx[idx < idx[0] + int(0.8 * (idx[-1] - idx[0] + 1))]
    if idx.size < 8:
        return float("nan")
    x, y = np.log(gap[idx]), np.log(r[idx])
    sl = np.polyfit(y, x, 1)[0]                  # log gap = (1/theta) log r + c
    return float(1.0 / sl) if sl != 0 else float("nan")


def kkt_rate(trace, conditions=None, a=None, b=None, xi=None, *, a0=None, X=None, window=2,
             start=3, split=0.5, oos_slack=4.0, floor_mult=FLOOR_MULT, min_len=40, squared=None,
             mode=None, **deprecated):
    """Theorem 4(c) on a run, on the proof's own object ``sum_{j<=K} r_j^2``.

    What the proof shows (docs/algorithm.md, "The rate chain"): Lemma 14 summed, Lemma 21 and
    the re-indexing give ``S_K = sum_{j in J_K} r_j^2 <= window b^2 (Lhat^{start-2} - Lhat^K)/a``,
    hence ``min_{j<=K} r_j^2 <= C/K``; with the Kurdyka-Lojasiewicz finite-length property the
    steps, hence ``r_j``, are summable, hence ``min_{j<=K} r_j = O(1/K)``.

    What a finite run can show: an inequality with explicit constants, true or false at every
    K of the run; it cannot show a limit or the constant of ``O(1/K)``.  This check therefore

    1. tests the chain with the constants ``a, b, xi`` from the user, ``conditions=`` or the
       a-posteriori certificate (basis ``"derived"``, or ``"a-posteriori"`` when a constant
       comes from :func:`verify.conditions.a_posteriori`: its ``xi, a`` when the descent
       certificate holds, its ``b`` when the data constant ``a0 = ||[X; 1]||_2`` is given as
       ``a0=`` or ``X=``; ``certified=True`` when no constant is the user's; a failure is a
       FAIL of the theorem's instance); constants that are not known are **estimated on the first part** of the run
       (``split``: ``b`` = max of ``r_j/sqrt(Pi_j)``, ``xi`` from :func:`descent_diagnostic`,
       ``a`` = least margin with that ``xi``) and the chain is tested **out of sample** on the
       rest, with the slack ``oos_slack`` on ``b`` (basis ``"out-of-sample"``: heuristic);
    2. classifies the regime of ``s_K = min_{j<=K} r_j`` (heuristic, :func:`_regime`):
       ``floor`` (reached the rounding floor), ``geometric``, ``power law`` (exponent with a
       standard error), ``stalled``, ``irregular``, and reports a KL exponent where it
       converged.

    Floors are absolute and scale-based: ``r`` against ``floor_mult eps`` times the iterates'
    sizes (squared in the sum), ``Lhat`` against ``floor_mult eps`` times the Lagrangian's
    parts; never relative to ``max r``.

    Verdict: FAIL when the chain fails (either basis) or when ``r`` diverges.  A running minimum
    that follows a power law confidently slower than ``1/K`` (exponent minus two standard
    errors above -1) is INCONCLUSIVE with a heuristic reason: without explicit constants a
    finite run cannot refute an asymptotic rate (its tail may be pre-asymptotic).  PASS when the chain
    holds and the regime is ``floor``, ``geometric`` or a power law confidently at least as
    fast as ``1/K``.  INCONCLUSIVE otherwise (stalled or irregular: the run is too short to
    show the rate; too short; constants not estimable; a flagged block).  ``heuristic`` is
    True when the verdict rests on estimated constants or on the regime fit.

    No row decides a law or a floor (issue 19, round 3).  The shape (second-half fall,
    exponents, flat intervals, the positive-limit test on five block means) is judged on
    ``s~_k``, the larger of the running minimum of the despiked residual (a row outside the
    range of its two neighbours on each side is put back at their geometric mean,
    :func:`_despiked`) and the supported minimum ``min_{j<=k} max(r_j, .., r_{j+4})`` (the
    smallest level ``DIP_ROWS + 1 = 5`` consecutive rows all reached, :func:`_supported_min`;
    round 4: dips of 2-3 adjacent rows every 4-7 rows of a stalled residual read as "power law
    k^-2").  A positive limit is looked for on ``s~`` and on the despiked running minimum,
    geometric approaches on five block means (:func:`_positive_limit`) and power-law
    approaches ``c + A k^-p``, any ``p``, by the profile fit of ``log(s - c)`` on ``log k``
    (:func:`_positive_limit_power`: a best ``c >= LIMIT_FRACTION = 0.1`` of the last value that
    fits 4 times better than ``c = 0``; round 4: ``c + A k^-p`` with ``c`` 50-70 % of ``r_K``
    PASSed as a power law), and approaches ``c + f`` with ``f`` any completely monotone decay
    by two non-negative least-squares fits of the tail in relative error
    (:func:`_positive_limit_cm`: ``c`` plus a mixture of ``exp(-t k)`` and ``k^-p``, each
    falling by at least ``CM_FALL = 1/2`` over the tail like ``1/k``, against the same mixture
    without ``c``; a best ``c >= CM_FRACTION = 0.1`` of the last value with an error
    ``CM_GAIN = 10`` times smaller; round 5: ``c + exp(-sqrt(k/s))``, ``c + k^-2 e^(-k/s)``,
    ``c + e^(-k/s)/log k`` with ``c`` 15-40 % of ``r_K`` PASSed as power laws or geometric).
    A positive limit is the reason of an INCONCLUSIVE only where the shape alone would PASS:
    a fall slower than ``1/k`` is reported as such; "reached
    the rounding floor" on the running minimum of the 9-row window medians of ``r`` against the
    9-row window medians of the per-row floor, complete windows only (no end padding), and only
    at a window whose floor is at most ``FLOOR_JUMP = 100`` times the run's robust scale before
    it (the smallest earlier window floor, at most the run's median floor; real runs: at most
    5.4).  A first window at the floor whose floor is a jump is ``floor undecidable``
    (INCONCLUSIVE: the floor rose with the multipliers), whatever the number of end rows that
    jumped; the positive-limit test's floor is capped the same way.  A positive limit
    extrapolated from the block means is ``stalled`` (INCONCLUSIVE) unless it is below that
    floor at the end (issue 19: ``1.6e-10 + 0.9062^k``).  The basis of user-given ``xi, a, b``
    is ``"user"`` (heuristic, no derivation).

    *If PASS then* for every ``K`` from ``j0 + 1`` to the run's end: ``sum_{j0 < j <= K} (r_j^2
    - floor_j^2)_+ <= window b^2 (Lhat^{j0-2} - Lhat^K + floors) / a`` with the reported
    constants (``heuristic=True`` when any is estimated or the user's), and over the run's
    second half either at least 5 of the 9 rows of some window had ``r`` at or below that
    window's median floor, a floor no more than 100 times the run's scale before it, or
    ``s~_k`` fell by at least the factor 1/2 of ``1/k``, geometrically or as a power law
    confidently at least as fast as ``1/k``, where ``s~_k >= min_{j<=k+1} r_j`` and, for every
    ``k``, some ``DIP_ROWS + 1 = 5`` consecutive rows starting at or before ``k`` all have ``r
    <= s~_k``: the level is one the residual held for 5 rows, not one reached by a dip of at
    most 4 adjacent rows (at any spacing); and no positive limit above the floor was found,
    neither a geometric approach extrapolated from block means nor a power-law approach ``c +
    A k^-p`` with ``c >= 0.1 s~_K`` (guaranteed for ``c >= 0.15 s~_K``, the tests' bound;
    any ``p``), nor a completely monotone one: on ``s~``, on the despiked running minimum and
    on it to the last row, the best non-negative least-squares fit over ``[h, K]`` (at most
    400 rows, relative error) by ``c >= 0`` plus a mixture of ``exp(-t k)`` and ``k^-p`` each
    falling by at least 1/2 over the tail (the grid of :func:`_cm_grid`, refined twice around
    the fit's own rates and exponents) either has ``c < 0.1 s_K``, or ``c`` at or below the
    floor, or an RMS relative error not 10 times smaller than the best such mixture without
    ``c`` (nor than 1e-12).  What this means, honestly: over a finite run a constant cannot
    be told from a decay slow enough, so PASS says that the tail is fitted as well by decays
    each at least as fast as ``1/k`` over the run's second half as by a positive constant (at
    least 10 % of its last value) plus such decays; it says nothing of a limit that such
    decays imitate within the tail's own roughness (real runs fit them to 1e-4..4e-3
    relative), nor of a component falling slower than ``1/k`` over the tail that is under
    10 % of the last value (a run whose residual has a slow mode that small PASSes).  att21
    H3's class, measured: ``c + f`` with ``f`` decaying barely faster than ``1/k`` (tail fall
    0.42-0.47, ``k^-1 e^(-k/(3K))``, ``k^-0.5 e^(-k/K)``) fits with ``c`` only 3-9 % of
    ``s~_K`` although ``c = 0.15-0.2 r_K``, and PASSes (6 of 312 scan cases, docs/verify.md,
    Round 5).  Changing one row of ``r`` by any factor, runs of at most 4 rows of ``r``
    lowered by any factor, or the iterates' sizes of any number of end rows, cannot make a
    stalled law meet this: the despiking undoes the row, the supported minimum ignores the
    runs, and end rows either fill less than half a window or make a floor that is a jump.
    (The floor branch still reads 9-row window medians: 5 of 9 rows at the floor.)

    Returns ``regime``, ``slope`` (= ``exponent``), ``exponent_se``, ``rate``, ``kl_theta``,
    ``basis``, ``constants`` (a, b, xi used), ``chain_slack`` (min rhs/lhs of the tested
    chain), ``final_bound`` (what the chain gives for ``min_{j<=K} r_j^2`` at the end:
    ``rhs_K / m_K`` plus the squared floor), ``final_slack`` (``final_bound`` / measured),
    ``informative`` (whether ``final_bound`` is below
    ``r_start^2``, see :func:`rate_certificate`, whoever gave the constants; None without a bound), ``k_floor``,
    ``final``, ``sum_r2``.
    """
    if mode == "proof":
        warnings.warn("kkt_rate(mode='proof') is deprecated: call rate_certificate", DeprecationWarning,
                      stacklevel=2)
        return rate_certificate(trace, conditions=conditions, a=a, b=b, xi=xi, **deprecated)
    tr, n = _rate_input(trace, mode, squared, deprecated, window, split, start)
    run = _rate_series(tr, n, window, floor_mult)
    reg = _regime_of_run(run.r, run.rfl, run.k)   # no row, nor the end rows, sets law or floor
    diverging = n >= 8 and float(run.r[-(n // 4):].min()) > 2.0 * float(run.r[: max(1, n // 4)].max())
    cst = resolve_constants(tr, xi=xi, a=a, b=b, conditions=conditions, a0=a0, X=X)
    con = _chain_constants(tr, n, run, cst, start, split, min_len, oos_slack, floor_mult)
    chain = _chain_test(tr, n, run, con, window)
    heuristic, certified = _chain_basis(con.basis, cst)
    verdict, reason, heuristic = _rate_verdict(cst, chain, diverging, reg, con.basis, run.r, n,
                                               min_len, heuristic)
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    theta = _kl_theta(tr, n, run, reg, con.xi)
    msg = _rate_message(verdict, reason, reg, con, chain, certified, heuristic, theta, run.r)
    return CheckResult(name="kkt_rate", verdict=verdict, reason=reason, message=msg,
                       heuristic=bool(heuristic), regime=reg["regime"], slope=reg["exponent"],
                       exponent=reg["exponent"], exponent_se=reg["exponent_se"], rate=reg["rate"],
                       flat_fraction=reg["flat_fraction"], kl_theta=theta, basis=con.basis,
                       certified=bool(certified), chain_slack=chain.slack,
                       final_bound=chain.final_bound, final_slack=chain.final_slack,
                       informative=chain.informative,
                       constants={"a": con.a, "b": con.b,
                                  "xi": None if con.xi is None else np.asarray(con.xi).tolist(),
                                  "source": cst["source"], "estimated": con.est},
                       k_floor=reg["k_floor"], final=float(run.r[-1]), min_r=float(run.s[-1]),
                       sum_r2=float(np.sum(run.r ** 2)), flagged_layers=flagged)


class _RateSeries(NamedTuple):
    """The series of Theorem 4(c): ``r_k``, ``k``, ``P_k``, ``Pi_k``, their floors, ``min r``."""

    r: np.ndarray          # r_k = kkt_total
    k: np.ndarray          # 1..n
    P: np.ndarray          # P_k = sum_i ||dW_i^k||^2 + ||dV_i^k||^2
    Pi: np.ndarray         # Pi_k = P_k (+ P_(k-1) with window 2): Lemma 21's right side
    rfl: np.ndarray        # the residual's rounding floor per row
    Lfl: np.ndarray        # Lhat's rounding floor per row (floor_mult eps x the Lagrangian's size)
    s: np.ndarray          # running minimum min_(j<=k) r_j


class _ChainConstants(NamedTuple):
    """The chain's constants ``xi, a, b``, their ``basis`` and first row ``j0`` (``None``: none)."""

    basis: str | None      # "derived", "a-posteriori", "out-of-sample" or None (chain not tested)
    j0: int | None         # row of the chain's first k (start - 1, or h out of sample)
    xi: np.ndarray | None
    a: float | None
    b: float | None
    est: dict              # constant -> how it was estimated on the first part


class _Chain(NamedTuple):
    """The outcome of the summed chain (all None/nan when no chain was tested)."""

    slack: float           # min rhs/lhs of the chain over K
    fail: int | None       # first K (or k, Lemma 21's link) where it breaks
    why: str | None        # the FAIL reason
    oos_rel: str | None    # out of sample: Lemma 21's link broken by the estimated b (heuristic)
    final_bound: float | None
    final_slack: float | None
    r2_start: float | None
    informative: bool | None


def _rate_input(trace, mode, squared, deprecated, window, split, start):
    """The arguments of :func:`kkt_rate` (the old slope-fit options warn) and the rows it reads."""
    if mode not in (None, "fit"):
        raise ValueError(f"mode: expected None, got {mode!r}")
    old = set(deprecated) - set(_KKT_RATE_DEPRECATED)
    if old:
        raise TypeError(f"kkt_rate: unexpected keyword arguments {sorted(old)}")
    if squared or deprecated or mode == "fit":
        warnings.warn("kkt_rate: squared=, mode= and the slope-fit options are gone (the log-log "
                      "slope of min r passed diverging residuals); the check now tests the proof's "
                      "sum of r_k^2 and classifies the regime", DeprecationWarning, stacklevel=3)
    tr = _as_trace(trace)
    if window not in (1, 2):
        raise ValueError(f"window: expected 1 or 2, got {window!r}")
    if not 0.2 <= split <= 0.8:
        raise ValueError(f"split: expected a fraction in [0.2, 0.8], got {split!r}")
    fields = ("kkt_total", "dW2", "dV2", "lagrangian", "loss", "reg", "dual", "penalty")
    return tr, _need(tr, fields, "kkt_rate", min_len=max(int(start) + 1, 2))


def _rate_series(tr, n, window, floor_mult):
    """``r_k``, ``P_k``, Lemma 21's ``Pi_k``, the absolute floors and ``min_{j<=k} r_j``."""
    r = np.asarray(tr.kkt_total[:n], float)
    P = _primal_steps(tr, n)
    Pi = P + (np.concatenate([[0.0], P[:-1]]) if window == 2 else 0.0)
    rfl = _residual_floor(tr, n, floor_mult)
    Lfl = floor_mult * _EPS * _lagrangian_size(tr, n)
    return _RateSeries(r=r, k=np.arange(1, n + 1), P=P, Pi=Pi, rfl=rfl, Lfl=Lfl,
                       s=np.minimum.accumulate(r))


def _chain_basis(basis, cst):
    """``heuristic`` unless every constant is derived or a-posteriori; ``certified``: none the user's."""
    # user-supplied constants carry no derivation
    heuristic = basis not in ("derived", "a-posteriori") or any(
        cst["source"][c] == "user" for c in ("xi", "a", "b"))
    certified = (not heuristic and basis is not None
                 and all(cst["source"][c] in ("conditions", "a-posteriori") for c in ("xi", "a", "b")))
    return heuristic, certified


def _chain_constants(tr, n, run, cst, start, split, min_len, oos_slack, floor_mult):
    """Step 1 of :func:`kkt_rate`: derived/a-posteriori ``xi, a, b``, else first-part estimates."""
    h = max(int(start) + 2, int(round(split * n)))
    basis, j0, est = None, None, {}
    xi_v, a_v, b_v = cst["xi"], cst["a"], cst["b"]
    if xi_v is not None and a_v is not None and b_v is not None and a_v > 0:
        src = [cst["source"][c] for c in ("xi", "a", "b")]
        basis = ("user" if "user" in src else "a-posteriori" if "a-posteriori" in src
                 else "derived")
        j0 = int(start) - 1
    elif n >= min_len and h < n - 2:
        basis, j0 = "out-of-sample", h
        if xi_v is None or a_v is None:
            xi_v, a_v = _first_part_descent(tr, n, run, h, floor_mult, xi_v, a_v, est)
        if b_v is None:
            sel = (run.k >= start) & (run.k <= h) & (run.Pi > 0) & (run.r > run.rfl)
            if sel.any():
                b_v = float(np.max(run.r[sel] / np.sqrt(run.Pi[sel]))) * oos_slack
                est["b"] = f"first part x {oos_slack:g}"
        if xi_v is None or a_v is None or b_v is None or a_v <= 0:
            basis = None
    return _ChainConstants(basis=basis, j0=j0, xi=xi_v, a=a_v, b=b_v, est=est)


def _first_part_descent(tr, n, run, h, floor_mult, xi_v, a_v, est):
    """Lemma 14 on rows ``2..h``: ``xi`` from :func:`descent_diagnostic`, ``a`` its least margin."""
    Pk = run.P[: h]
    try:
        d = descent_diagnostic(tr, start=2, floor_mult=floor_mult, k_range=(2, h))
        if d.get("xi") is not None and d["max_margin"] > 0:
            xi_v = np.asarray(d["xi"], float)
            Lh = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_v
            drop = Lh[:h - 1] - Lh[1:h]
            big = Pk[1:] > run.Lfl[1:h]
            a_v = float(np.min(drop[big] / Pk[1:][big])) if big.any() else None
            est["xi"], est["a"] = "first part", "first part"
    except (ValueError, RuntimeError):
        pass
    return xi_v, a_v


def _chain_test(tr, n, run, con, window):
    """The proof's chain ``S_K <= window b^2 (Lhat^{j0-2} - Lhat^K + floors) / a`` at each ``K``."""
    if con.basis is None:
        return _Chain(float("nan"), None, None, None, None, None, None, None)
    j0, a_v, b_v = con.j0, con.a, con.b
    Lhat = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ con.xi
    Ks = np.arange(j0 + 1, n + 1)
    r2 = run.r[j0:] ** 2
    S = np.cumsum(np.maximum(r2 - run.rfl[j0:] ** 2, 0.0))
    drop = Lhat[j0 - 2] - Lhat[j0:]
    rhs = window * b_v ** 2 * (drop + run.Lfl[j0:] + run.Lfl[j0 - 2]) / a_v
    ok = S <= rhs
    with np.errstate(divide="ignore", invalid="ignore"):
        sl_ = np.where(S > 0, rhs / S, np.inf)
    # what the chain says about min_{j<=K} r_j^2 at the end: S_K / m_K + floor^2
    final_bound = float(rhs[-1] / Ks.size + np.max(run.rfl[j0:]) ** 2)
    r2_start = float(r2[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        final_slack = float(final_bound / np.min(r2)) if np.min(r2) > 0 else math.inf
    fail, why, oos_rel = _lemma21_link(run, con, Ks, ok)
    if not ok.all():
        fail = int(Ks[~ok][0])
        why = (f"the proof's chain sum r_j^2 <= {window} b^2 (Lhat^{j0 - 1} - Lhat^K)/a "
               f"breaks first at K = {fail} ({con.basis} constants a = {a_v:.3g}, b = {b_v:.3g})")
    return _Chain(float(np.min(sl_)), fail, why, oos_rel, final_bound, final_slack, r2_start,
                  bool(final_bound < r2_start))


def _lemma21_link(run, con, Ks, ok):
    """Lemma 21's link per step, ``r_j <= b sqrt(Pi_j)`` above the floor, where the sum holds."""
    rel_bad = (run.r[con.j0:] > con.b * np.sqrt(run.Pi[con.j0:]) + run.rfl[con.j0:])
    if not (rel_bad.any() and ok.all()):
        return None, None, None
    jb = int(Ks[rel_bad][0])
    if con.basis == "out-of-sample":
        return None, None, (f"heuristic: the relative-error constant estimated on the first part "
                            f"(b = {con.b:.3g}) is exceeded first at k = {jb}; the summed chain holds")
    return jb, (f"the Lemma-21 link r_j <= b sqrt(P_j + P_(j-1)) of the chain breaks first "
                f"at k = {jb} ({con.basis} b = {con.b:.3g}; r/sqrt(Pi) = "
                f"{float(run.r[jb - 1] / math.sqrt(run.Pi[jb - 1])):.3g})"), None


def _rate_verdict(cst, chain, diverging, reg, basis, r, n, min_len, heuristic):
    """The verdict of :func:`kkt_rate`: coverage, the chain, divergence, then the regime's rules."""
    if cst.get("not_covered") is not None:
        return Verdict.INCONCLUSIVE, cst["not_covered"], heuristic
    if chain.fail is not None:
        return Verdict.FAIL, chain.why, heuristic
    if diverging:
        return (Verdict.FAIL, f"the KKT residual diverges (last-quarter min {r[-(n // 4):].min():.3g} "
                f"> 2 x first-quarter max {r[: max(1, n // 4)].max():.3g})", False)
    if chain.oos_rel is not None:
        return Verdict.INCONCLUSIVE, chain.oos_rel, True
    return _regime_verdict(reg, basis, n, min_len, cst, heuristic)


def _regime_verdict(reg, basis, n, min_len, cst, heuristic):
    """Step 2 of :func:`kkt_rate`: PASS for ``floor``, ``geometric`` or a power law ``<= 1/K``."""
    if reg["regime"] == "stalled" and reg.get("stall") == "positive limit" and reg.get("shape"):
        # a positive limit is the reason only where the shape alone would PASS: a fall slower
        # than 1/k is reported as such (the fact the run shows, not the extrapolation; round 5:
        # 10 of 60 good real runs falling by 0.52-0.88 read "tends to a positive limit")
        shape = _regime_verdict({**reg, "regime": reg["shape"], "stall": None}, basis, n,
                                min_len, cst, heuristic)
        if shape[0] is not Verdict.PASS:
            return shape
    p, pse = reg["exponent"], reg["exponent_se"]
    slow = (reg["regime"] in ("geometric", "power law") and math.isfinite(reg["tail_drop"])
            and reg["tail_drop"] > 0.5 * (1 + 1e-9))
    if reg["regime"] == "floor undecidable":
        return (Verdict.INCONCLUSIVE, f"the floor rose with the iterates' sizes (the multipliers): "
                f"r reaches the window floor first at k = {reg['k_floor']}, where the floor is "
                f"{reg['floor_jump']:.3g} times the run's robust scale before it (a jump, more "
                f"than {FLOOR_JUMP:g}x): whether r reached the rounding floor is undecidable",
                heuristic)
    if reg["regime"] == "power law" and math.isfinite(p) and p - 2 * pse > -1:
        return (Verdict.INCONCLUSIVE, f"heuristic: min_(j<=k) r_j follows k^({p:.3g} +- "
                f"{pse:.2g}) over this run, slower than the 1/k that finite length (KL) "
                "gives; without explicit constants a finite run cannot refute an "
                "asymptotic rate, so this is not a PASS and not a FAIL", True)
    if basis is None and reg["regime"] != "floor":
        return (Verdict.INCONCLUSIVE,
                f"run too short: {n} iterations (need {min_len}) to estimate the chain's constants "
                "out of sample" if n < min_len else
                "constants unknown and not estimable on the first part of the run "
                f"({cst['unknown_reason']})", heuristic)
    if slow:
        return (Verdict.INCONCLUSIVE, f"the running minimum of r fell by a factor "
                f"{reg['tail_drop']:.3g} over the second half, less than the 1/2 of 1/k: slower "
                "than the O(1/k) claim over this run", True)
    if reg["regime"] in ("stalled", "irregular", "too short"):
        return (Verdict.INCONCLUSIVE,
                f"stalled: the running minimum of r tends to a positive limit (about "
                f"{reg.get('limit', float('nan')):.3g}; it fell by {reg['tail_drop']:.3g} over the "
                "second half)" if reg.get("stall") == "positive limit" else
                f"run too short: the running minimum of r is {reg['regime']} over the second half "
                f"(fell by a factor {reg['tail_drop']:.3g}; flat fraction {reg['flat_fraction']:.2g}): "
                "the O(1/k) constant is not observable", heuristic)
    if reg["regime"] == "power law" and not (p + 2 * pse <= -1):
        return (Verdict.INCONCLUSIVE, f"power law k^({p:.3g} +- {pse:.2g}) not confidently at "
                "least 1/k", heuristic)
    return Verdict.PASS, None, heuristic


def _kl_theta(tr, n, run, reg, xi_v):
    """Where ``r`` converged (``floor``, ``geometric``): the heuristic KL exponent, else nan."""
    if reg["regime"] in ("geometric", "floor") and xi_v is not None:
        Lhat = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_v
        return _kl_exponent(run.r, Lhat, run.Lfl, reg["k_floor"] or n)
    if reg["regime"] in ("geometric", "floor"):
        return _kl_exponent(run.r, np.asarray(tr.lagrangian[:n], float), run.Lfl, reg["k_floor"] or n)
    return float("nan")


def _rate_message(verdict, reason, reg, con, chain, certified, heuristic, theta, r):
    """One sentence: the chain's basis and slack, the regime, the certified bound on ``min r^2``."""
    p, pse = reg["exponent"], reg["exponent_se"]
    desc = {"floor": f"reached the rounding floor at k = {reg['k_floor']}",
            "geometric": f"geometric, factor {reg['rate']:.5g} per iteration",
            "power law": f"power law k^({p:.3g} +- {pse:.2g})"}.get(reg["regime"], reg["regime"])
    if verdict is Verdict.PASS:
        msg = (f"sum r_j^2 stays within the proof's chain ({_BASIS_WORDS.get(con.basis, con.basis)} constants"
               + (", certified" if certified else "") + f"; slack {chain.slack:.3g})"
               f" and min r_j is {desc}" + (" [heuristic]" if heuristic else "")
               + (f"; KL exponent ~ {theta:.2f}" if math.isfinite(theta) else "") + ".")
    else:
        msg = f"kkt_rate {verdict}: {reason} (regime: {desc})."
    if chain.informative is not None and chain.fail is None:
        msg += " " + _certified_bound_note(chain.final_bound, float(np.min(r[con.j0:] ** 2)),
                                           chain.r2_start, con.j0 + 1)
    return msg


# ------------------------------------------------------------ Lemma 21
def _primal_steps(tr, n):
    return np.asarray(tr.dW2[:n], float).sum(axis=1) + np.asarray(tr.dV2[:n], float).sum(axis=1)
def relative_error(trace, b=None, window=2, start=3, floor=1e-24, conditions=None, *, a0=None,
                   X=None):
    """Lemma 21 on a run: ``b_k = r_k / sqrt(Pi_k)``, KKT residual relative to the primal steps.

    ``r_k`` = ``trace.kkt_total`` (paper eq. 24 with feasibility), ``P_k = sum_i
    (||dW_i^k||^2 + ||dV_i^k||^2)`` and ``Pi_k = P_k`` (``window=1``, the form in the issue) or
    ``Pi_k = P_k + P_{k-1}`` (``window=2``, the default: what Lemma 21 actually bounds, since
    the dual steps inside ``r_k`` involve the previous iteration, Lemma 18).  Compared from
    ``k = start`` (the derived constants hold for ``k >= 3``).  Steps with ``Pi_k <= floor``
    and ``r_k <= sqrt(floor)`` (converged) are skipped.

    ``b``: the derived constant (:attr:`verify.conditions.Conditions.b`), or, with ``a0=`` /
    ``X=`` (the data constant ``||[X; 1]||_2``), the a-posteriori one
    (:func:`verify.conditions.a_posteriori`: Lemma 21's forms with the run's measured norms);
    passed when every ``b_k <= b``.  Without ``b`` the check only reports the figures and passes when every
    ``b_k`` is finite (a residual with no primal step has no relative-error constant).

    *If PASS then* (``b`` given or derived) for every ``k >= start`` not skipped as converged:
    ``r_k <= b sqrt(Pi_k)``.

    Returns ``ratio`` (array ``b_k``, nan where skipped), ``sup_ratio``, ``b``, ``slack``
    (``b / sup_ratio``), ``first_violation``.
    """
    tr = _as_trace(trace)
    if _not_covered(conditions, tr) is not None:
        conditions = None                          # not credited (the verdict says why)
    if b is None and conditions is not None:
        b = getattr(conditions, "b", None)
    if a0 is not None or X is not None:      # validated even when b is given (never ignored silently)
        sh = {k: v for k, v in (("a0", a0), ("X", X)) if v is not None}
        _check_shared(sh, _as_trace(trace))
        a0 = sh.get("a0", a0)
    if b is None and (a0 is not None or X is not None):
        ap, _ = _a_posteriori(_as_trace(trace), raw=True, a0=a0, X=X)
        b = None if ap is None else ap.get("b")
    n = _need(tr, ("kkt_total", "dW2", "dV2"), "relative_error", min_len=max(int(start), 2))
    if window not in (1, 2):
        raise ValueError(f"window: expected 1 (P_k) or 2 (P_k + P_(k-1)), got {window!r}")
    r = np.asarray(tr.kkt_total[:n], float)
    P = _primal_steps(tr, n)
    Pi = P + (np.concatenate([[0.0], P[:-1]]) if window == 2 else 0.0)
    k = np.arange(1, n + 1)
    valid = (k >= start) & ~((Pi <= floor) & (r * r <= floor))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, r / np.sqrt(Pi), np.nan)
    v = ratio[valid]
    if v.size == 0:
        raise ValueError(f"trace: relative_error needs iterations k >= {start} above the rounding "
                         f"floor, got none of {n}")
    sup = float(np.max(v))
    finite = bool(np.all(np.isfinite(v)))
    if b is not None:
        b = float(b)
        if not (b > 0 and math.isfinite(b)):
            raise ValueError(f"b: expected a positive finite constant, got {b!r}")
        bad = valid & ~(ratio <= b)
        passed = finite and not bad.any()
        first = int(k[bad][0]) if bad.any() else None
        msg = (f"r_k <= b sqrt(Pi_k) holds at all {v.size} iterations with b = {b:.3g} "
               f"(largest measured ratio {sup:.3g}, slack factor {b / sup:.3g})." if passed else
               f"r_k / sqrt(Pi_k) exceeds b = {b:.3g} first at k = {first} (sup {sup:.3g}).")
    else:
        first = None
        bad = valid & ~np.isfinite(ratio)
        passed = finite
        msg = (f"Measured relative-error ratio r_k / sqrt(Pi_k) <= {sup:.3g} over {v.size} "
               "iterations (no derived b given)." if passed else
               "A KKT residual occurs with no primal step: no relative-error constant exists.")
    verdict = Verdict.of(bool(passed))
    reason = None if passed else msg
    if b is None and passed:
        verdict, reason = Verdict.INCONCLUSIVE, "constants unknown: no relative-error constant b given"
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    return CheckResult(name="relative_error", verdict=verdict, reason=reason, message=msg, ratio=ratio,
                       sup_ratio=sup, median_ratio=float(np.median(v)), b=b,
                       slack=(b / sup if b is not None and sup > 0 else None),
                       first_violation=first, window=int(window))


# ------------------------------------------------------------ Theorem 4(c), the proof's chain
def rate_certificate(trace, a=None, b=None, xi=None, conditions=None, window=2, start=3,
                     rtol=FLOOR_MULT * _EPS):
    """Theorem 4(c) in the proof's own form, with DERIVED constants ``a, b, xi``.

    For ``K >= start`` and ``J_K = {start..K}`` (``m_K = |J_K|``) the proof chains

    (1) ``min_{j in J_K} r_j^2 <= (1/m_K) sum_{j in J_K} r_j^2``                  (min <= mean)
    (2) ``sum_{J_K} r_j^2 <= b^2 sum_{J_K} Pi_j``                                  (Lemma 21)
    (3) ``sum_{J_K} Pi_j <= window * sum_{j=start-1}^{K} P_j``                     (re-indexing)
    (4) ``a sum_{j=start-1}^{K} P_j <= Lhat^{start-2} - Lhat^K``                  (Lemma 14, summed)

    so ``min_{j<=K} r_j^2 <= window b^2 (Lhat^{start-2} - Lhat^K) / (a m_K)``: O(1/K) because
    ``Lhat`` is bounded below.  Each link is checked at every ``K`` on the recorded run
    (``Lhat`` with the per-layer ``xi``); the result names the first link and ``K`` that
    break.  ``a, b, xi`` must come from a derivation (``conditions=`` a
    :class:`verify.conditions.Conditions`, or explicit values), never from the same run.

    *If PASS then* for every ``K`` of the run every link holds, so ``min_{j<=K} r_j^2 <= bound_K`` with
    the derived constants; it says *how much* through ``final_slack = bound_K / measured`` and
    ``informative``: False when ``bound_K >= r_start^2`` (the residual where the certificate
    starts), a bound every run meets trivially (``min_{j<=K} r_j^2 <= r_start^2``): true, and
    empty.  The message and :func:`format_table` show both (``PASS (uninformative)``).

    Returns ``links`` (dict: link -> min slack ``rhs / lhs`` over K, >= 1 when it holds),
    ``broken`` (first broken link or None), ``k_broken``, ``bound`` (array of the final
    bound on ``min r_j^2``), ``measured`` (array ``min_{j<=K} r_j^2``), ``final_slack``,
    ``informative``, ``start_measured`` (``r_start^2``).
    """
    tr = _as_trace(trace)
    foreign = _not_covered(conditions, tr)
    if foreign is not None:
        raise ValueError(f"conditions: {foreign}")
    if conditions is not None:
        a = conditions.margin if a is None else a
        b = conditions.b if b is None else b
        xi = (conditions.xi_layers if conditions.xi_layers is not None else conditions.xi) \
            if xi is None else xi
    if a is None or b is None or xi is None:
        raise ValueError("a, b, xi: rate_certificate needs the derived descent constant a, "
                         "relative-error constant b and Lyapunov weights xi (pass conditions= "
                         "a verify.conditions.Conditions with b computed)")
    a, b = float(a), float(b)
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"a, b: expected positive finite constants, got a={a!r}, b={b!r}")
    if window not in (1, 2):
        raise ValueError(f"window: expected 1 or 2, got {window!r}")
    start = int(start)
    if start < 3:
        raise ValueError(f"start: expected an integer >= 3, got {start}")
    fields = ("kkt_total", "dW2", "dV2", "lagrangian", "loss", "reg", "dual", "penalty")
    n = _need(tr, fields, "rate_certificate", min_len=start + 1)
    xi_arr = np.broadcast_to(np.asarray(xi, float), (tr.n_layers,))
    if np.any(~np.isfinite(xi_arr)) or np.any(xi_arr < 0):
        raise ValueError(f"xi: expected finite values >= 0, got {xi!r}")
    r2 = np.asarray(tr.kkt_total[:n], float) ** 2
    P = _primal_steps(tr, n)
    Lhat = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_arr
    scale = _lagrangian_size(tr, n)
    j0 = start - 1                                        # row of k = start
    K = np.arange(start, n + 1)
    m = K - start + 1
    Pi = P + (np.concatenate([[0.0], P[:-1]]) if window == 2 else 0.0)
    sum_r2 = np.cumsum(r2[j0:])
    sum_Pi = np.cumsum(Pi[j0:])
    sum_P = np.cumsum(P[j0 - 1:])[1:]                     # sum_{j=start-1}^{K} P_j
    drop = Lhat[j0 - 2] - Lhat[j0:]                       # Lhat^{start-2} - Lhat^K
    tol = rtol * scale[j0:]
    min_r2 = np.minimum.accumulate(r2[j0:])
    links = [
        ("min<=mean", min_r2 * m, sum_r2, 0.0),
        ("lemma21", sum_r2, b * b * sum_Pi, 0.0),
        ("reindex", sum_Pi, window * sum_P * (1 + 1e-12), 0.0),
        ("lemma14", a * sum_P, drop, tol),
    ]
    # a link carries content when it is not an identity of the algebra (min <= mean and the
    # re-indexing hold for every trace) and its left side rose above the rounding floor
    structural = {"min<=mean": True, "lemma21": False, "reindex": True, "lemma14": False}
    r2_floor = float(np.max(_residual_floor(tr, n, FLOOR_MULT)) ** 2)
    content = {}
    for name, lhs, rhs, t in links:
        above = bool(np.any(lhs > (np.maximum(t, r2_floor * m) if name == "lemma21" else t + 0.0)))
        content[name] = (not structural[name]) and above
    slack, broken, k_broken = {}, None, None
    for name, lhs, rhs, t in links:
        ok = lhs <= rhs + t
        with np.errstate(divide="ignore", invalid="ignore"):
            sl = np.where(lhs > 0, (rhs + t) / lhs, np.inf)
        slack[name] = float(np.min(sl))
        if not ok.all() and broken is None:
            broken, k_broken = name, int(K[~ok][0])
    bound = window * b * b * np.maximum(drop, 0.0) / (a * m)
    with np.errstate(divide="ignore", invalid="ignore"):
        fs = np.where(min_r2 > 0, bound / min_r2, np.inf)
    passed = broken is None
    r2_start = float(r2[j0])                              # r_start^2: where the run started
    informative = bool(bound[-1] < r2_start)
    if broken is not None:
        verdict, reason = Verdict.FAIL, f"link {broken!r} breaks first at K = {k_broken}"
    elif not any(content.values()):
        verdict, reason = (Verdict.INCONCLUSIVE, "no link carries content: the Lemma-21 and "
                           "Lemma-14 links were never above the rounding floor")
    else:
        verdict, reason = Verdict.PASS, None
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    if passed:
        msg = (_certified_bound_note(float(bound[-1]), float(min_r2[-1]), r2_start, start)
               + f" The proof's chain holds at every K in [{start}, {n}]: min r_j^2 <= "
               f"{window} b^2 (Lhat^{start - 2} - Lhat^K) / (a m_K); link slacks " +
               ", ".join(f"{k_}={v:.3g}" for k_, v in slack.items()) + ".")
    else:
        msg = (f"The proof's chain breaks at link '{broken}' (first at K = {k_broken}); link "
               "slacks " + ", ".join(f"{k_}={v:.3g}" for k_, v in slack.items()) + ".")
    msg += (" Links with content: " + ", ".join(k_ for k_, v in content.items() if v)
            + "; identities: " + ", ".join(k_ for k_, v in content.items() if not v) + ".")
    return CheckResult(name="rate_certificate", verdict=verdict, reason=reason, message=msg,
                       links=slack, content=content, flagged_layers=flagged,
                       broken=broken, k_broken=k_broken, bound=bound, measured=min_r2,
                       final_bound=float(bound[-1]), final_measured=float(min_r2[-1]),
                       final_slack=float(fs[-1]), informative=informative, start_measured=r2_start,
                       a=a, b=b, xi=xi_arr.tolist())


#: how a message names the basis of the chain's constants
_BASIS_WORDS = {"user": "user-supplied (no derivation: heuristic)", "derived": "derived",
                "a-posteriori": "a-posteriori", "out-of-sample": "out-of-sample"}

#: the slope-fit options kkt_rate still accepts through ``**deprecated`` (with a warning); the
#: check table reads them from the function (``deprecated_keywords``) to name a misspelt keyword
_KKT_RATE_DEPRECATED = ("slope_tol", "floor_rtol", "floor_atol", "tail", "min_points")
setattr(kkt_rate, "deprecated_keywords", _KKT_RATE_DEPRECATED)


def _certified_bound_note(bound, measured, start_value, k_start):
    """One sentence: a certified bound on ``min_{j<=K} r_j^2`` beside what it bounds.

    ``slack = bound / measured``.  The bound is *uninformative* when it is not below
    ``r_{k_start}^2``, the residual the run started the certificate from: ``min_{j<=K} r_j^2
    <= r_{k_start}^2`` holds for every run, so such a bound, though true, says nothing the
    run's first residual did not."""
    sl = bound / measured if measured > 0 else math.inf
    txt = (f"Certified min r_j^2 <= {bound:.3g}, measured {measured:.3g}: slack factor {sl:.3g}")
    if bound < start_value:
        return txt + f" (informative: below r_{k_start}^2 = {start_value:.3g})."
    return (txt + f"; holds but uninformative: the bound is not below r_{k_start}^2 = "
            f"{start_value:.3g}, where the run started, and min r_j^2 <= r_{k_start}^2 holds for "
            "every run.")
