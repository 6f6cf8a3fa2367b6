"""Sufficient descent on a run: Lemma 18 (the dual bounded by the primal steps) and Lemma 14.

:func:`dual_bounded_by_primal` checks Lemma 18's per-step linear forms with the measured
norms; :func:`sufficient_descent` checks Lemma 14 with fixed ``xi`` and ``a > 0`` (from the
user, the derived conditions or the a-posteriori certificate); :func:`descent_diagnostic`
reports the per-layer ``xi`` a linear program finds (a diagnostic: never PASS).  Private
module: the names are exported by :mod:`verify.checks` and :mod:`verify`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import linprog

from ._constants import (
    _a_posteriori,
    _conditions,
    _guard,
    _validity,
    _xi_vector,
    resolve_constants,
)
from ._floors import _EPS, FLOOR_MULT, MIN_STEPS, SCALE_JUMP, _lagrangian_size, _scale_before
from ._results import CheckResult, Verdict, _iters_list
from ._trace_input import _as_trace, _need


# ------------------------------------------------------------ Lemma 14
def sufficient_descent(trace, xi=None, a=None, conditions=None, *, start=2,
                       floor_mult=FLOOR_MULT, min_steps=MIN_STEPS):
    """Lemma 14 on a run, as the lemma states it: fixed ``xi``, a descent constant ``a > 0``.

    ``Lhat^k = L_beta^k + sum_i xi_i ||V_i^k - V_i^{k-1}||^2`` (paper eq. 29) and, for every
    ``k >= start``,

        ``margin_k = (Lhat^{k-1} - Lhat^k) / P_k >= a > 0``,  ``P_k = sum_i (||dW_i^k||^2 + ||dV_i^k||^2)``.

    ``xi`` and ``a`` come from (in order) the user, ``conditions=`` (a
    :class:`verify.conditions.Conditions`: ``xi_layers``/``xi`` and ``margin``), or the
    a-posteriori certificate :func:`verify.conditions.a_posteriori` (the run's measured norms
    in the derived inequalities).  There is no free constant: with no source the verdict is
    INCONCLUSIVE ("constants unknown"), and :func:`descent_diagnostic` (a linear program over
    per-layer ``xi``) reports what the run would allow, without ever passing.

    Rounding floor: ``floor_k = floor_mult * eps * size_k``, ``size_k`` the size of the
    Lagrangian's parts at ``k`` and ``k-1`` (:func:`_lagrangian_size`).  A step is *decided*
    when ``a P_k > floor_k``; a step violates Lemma 14 when
    ``Lhat^{k-1} - Lhat^k < a P_k - floor_k`` (on an undecided step that is a rise of
    ``Lhat`` above the floor).  ``start = 2``: the identity ``Lam_N^k = V_N^k - Y`` behind
    Lemma 18 holds from ``k = 1`` on only (``Lam^0 = 0``).

    Also (issue 19): the inequality summed over every window ``k0 < K``, ``Lhat^{k0} - Lhat^K
    >= a sum_{k0<k<=K} P_k - floor_{k0} - floor_K`` (rises under the per-step floor cannot
    add up); ``L_beta^k >= reg^k - sum_{i<N} sup_j ||Lam_i^j||^2 / (2 beta_i)`` (the proof's
    lower bound, ``beta_N >= 1``); the first step from the recorded initial point
    (``meta['initial']``, theory curvature): ``L^1 - sum_i dLam2_i^1 <= L^0``.

    Floors no row can set (issue 19, class 1): each row's floor is also taken as ``floor_mult
    eps min(size_k, SCALE_JUMP m_k)``, ``m_k`` the lower median of ``size`` over the
    ``ROBUST_ROWS = 65`` rows before ``k`` (:func:`verify._floors._scale_before`; row ``k``
    itself never counts), a step's floor the larger of its two rows'.  A rise within the row's
    own floor but beyond that one is a step whose floor a jump of the row's scale set (a
    multiplier excursion, a last-row jump of ``||Lam||``): INCONCLUSIVE, never PASS; beyond the
    row's own floor it is FAIL as before (per step, summed, first step).  The lower bound the
    run cannot move (class 8, :func:`_multiplier_reference`): a hidden ``||Lam_i||`` above
    ``LAM_GROWTH = 2`` times its sup ``M_i`` over the run's first half, or growing at the end
    (rising over the run's last eighth by more than ``LAM_RISE = 1e-2`` of its value and at
    least ``LAM_ACCEL = 1.25`` times as much as over the eighth before: a run stopped while its
    multiplier grows geometrically, wherever it stands against ``M_i``; or rising through the
    four equal windows of ``[K/2, K]`` with window rates growing by ``LAM_TAIL = 1.05``), or
    ``L_beta`` below ``reg - sum_{i<N} M_i^2 / (2 beta_i)``, is INCONCLUSIVE.  Growth is read
    on ``||Lam_i||`` and on its trailing running median, upper quartile and max over ``w = 2
    max(4, floor(K / 64)) + 1`` rows (round 5: dips on fewer than half of any ``w`` rows, of any
    depth, or noise, cannot hide a growth from them; :func:`_accelerating_multiplier`).

    *If PASS then* for every ``k0 < K`` in ``[start-1, K]``: ``Lhat^{k0} - Lhat^K >= a
    sum_{k0<k<=K} P_k - (floor_{k0} + floor_K)`` and for every ``k >= start``
    ``Lhat^{k-1} - Lhat^k >= a P_k - floor_k`` with ``a > 0`` from a derivation, the
    a-posteriori certificate or the user, at least ``min_steps`` steps decided above the floor,
    where ``floor_k <= 2 floor_mult eps max(m_{k-1}, m_k)``: a scale that neither one row nor an
    excursion of at most 32 rows (the last rows included) can inflate; and for every ``k``
    ``L_beta^k >= reg^k - sum_{i<N} M_i^2 / (2 beta_i) - floor_k`` and ``||Lam_i^k|| <= 2 M_i``
    (up to rounding) with ``M_i = max_{j <= ceil(K/2)} ||Lam_i^j||``; and (runs of 32 rows or
    more) for every hidden ``i`` and each series ``y`` of ``||Lam_i||`` (lag 1) and its running
    median, upper quartile and max over ``w`` rows (lag ``w``; window rates least-squares
    slopes) whose ``y^2 / (2 beta_i)`` rose over the last eighth by more than
    ``L_beta``'s rounding floor at ``K`` and whose last-eighth rise exceeds ``LAM_RISE = 1e-2``
    of ``y_K``: that rise is below ``LAM_ACCEL = 1.25`` times the eighth before's rise where that
    one is positive, or it is below ``LAM_JUMP = 4`` times the larger of the two eighths before
    and either the eighth before rose by less than ``LAM_ACCEL`` times the one before it, which
    rose, or fewer than ``LAM_ROWS = 90 %`` of the last eighth's rows lie above the row
    ``lag`` before; and ``y`` does not have 90 % of the rows of ``[K/2, K]`` (after its first
    ``lag``) above the row ``lag`` before with the rates of the four windows of ``[K/2, K]``
    all positive and each at least ``LAM_TAIL = 1.05`` times the one before.  So a multiplier
    growing geometrically by ``g^(K/8) >= 1.25`` over the last two eighths (or by ``>= 1.05``
    per window through ``[K/2, K]``) is not PASSed, and under dips (on fewer than half of any
    ``w`` rows, any depth) or noise not where a smoothing keeps that reading (docs/verify.md,
    round 5: 1-2 % noise can move a ratio within ~10 % of ``LAM_ACCEL`` below it); growth
    below those rates, or rising by at most 1 % of its value over the last eighth, can PASS
    while it stays within ``2 M_i``.

    Verdicts: PASS when ``a > 0`` is known, at least ``min_steps`` steps are decided and none
    violates; FAIL on a violation (with ``xi`` known and ``a`` unknown: on a rise of ``Lhat``
    above the floor); INCONCLUSIVE otherwise (constants unknown, too few decided steps, or a
    layer the numerical-validity guard flags).

    Returns ``xi`` (list), ``a``, ``source``, ``n_steps``, ``n_decided``, ``n_violations``,
    ``violations`` (k), ``max_shortfall`` (largest ``a P_k - floor_k - drop_k``), ``margin``
    (array), ``min_margin``, ``median_margin`` (over decided steps).
    """
    tr = _as_trace(trace)
    start = int(start)
    if start < 2:
        raise ValueError(f"start: expected an integer >= 2 (first k compared with k-1), got {start}")
    n = _need(tr, _DESCENT_FIELDS, "sufficient_descent", min_len=start)
    cst = resolve_constants(tr, xi=xi, a=a, conditions=conditions)
    xi_v, a_v = cst["xi"], cst["a"]
    L, dV, P, size = _descent_series(tr, n)
    sl, pr = slice(start - 1, n), slice(start - 2, n - 1)          # rows of k and of k - 1
    floor = floor_mult * _EPS * np.maximum(size[sl], size[pr])      # floor_k
    Pk, ks = P[sl], np.arange(start, n + 1)
    if xi_v is None:
        return _constants_unknown(tr, cst, start, floor_mult, Pk.size)
    Lhat = L + dV @ xi_v                                            # paper eq. 29
    drop = Lhat[pr] - Lhat[sl]
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(Pk > 0, drop / Pk, np.nan)
    a_eff = a_v if a_v is not None else 0.0
    fl_row = floor_mult * _EPS * size
    summed = _summed_failure(Lhat, P, fl_row, a_eff, start)
    low = _lower_bound_failure(tr, L, n, fl_row)
    first = _first_step_failure(tr, L, size, floor_mult)
    decided, viol = _per_step_test(drop, Pk, floor, a_v)
    failures = (first, low, _per_step_failure(viol, drop, Pk, ks, a_v), summed)
    # floors no row can set (class 1) and the lower bound the run cannot move (class 8)
    size_rob = np.minimum(size, SCALE_JUMP * _scale_before(size))
    undecided = (_jump_undecided(tr, L, Lhat, P, drop, Pk, ks, viol, size, size_rob, a_v,
                                 start, floor_mult),
                 _multiplier_reference(tr, n, L, floor_mult * _EPS * size_rob))
    verdict, reason = _descent_verdict(cst, a_v, failures, decided, Pk.size, min_steps, undecided)
    mm = margin[decided] if decided.any() else margin[np.isfinite(margin) & (Pk > 0)]
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    msg = _descent_message(verdict, reason, xi_v, a_v, cst["source"], decided, mm)
    short = a_eff * Pk - floor - drop
    return CheckResult(
        name="sufficient_descent", verdict=verdict, reason=reason, message=msg,
        xi=xi_v.tolist(), a=a_v, source=cst["source"], n_steps=int(Pk.size),
        n_decided=int(decided.sum()), n_violations=int(viol.sum()),
        violations=_iters_list(viol, start),
        max_shortfall=float(np.max(short)) if short.size else float("nan"),
        margin=margin, min_margin=float(np.min(mm)) if mm.size else float("nan"),
        median_margin=float(np.median(mm)) if mm.size else float("nan"),
        flagged_layers=flagged,
        # how far the measured descent is from the certified one (>= 1 when it holds)
        slack=float(np.min(mm)) / a_v if mm.size and a_v is not None and a_v > 0 else None,
    )


_DESCENT_FIELDS = ("lagrangian", "dV2", "dW2", "loss", "reg", "dual", "penalty")


def _descent_series(tr, n):
    """``L_beta^k``, ``||dV_i^k||^2``, Lemma 14's ``P_k`` and the Lagrangian's size (its floor)."""
    L = np.asarray(tr.lagrangian[:n], float)
    dV = np.asarray(tr.dV2[:n], float)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + dV.sum(axis=1)
    return L, dV, P, _lagrangian_size(tr, n)


def _constants_unknown(tr, cst, start, floor_mult, n_steps):
    """No ``xi`` from any source: INCONCLUSIVE, with the linear program's ``xi`` as a diagnostic."""
    diag = descent_diagnostic(tr, start=start, floor_mult=floor_mult)
    reason = f"constants unknown: {cst['unknown_reason']}"
    msg = (f"No fixed xi and descent constant a for this run ({cst['unknown_reason']}); "
           f"diagnostic only: {diag.message}")
    return CheckResult(name="sufficient_descent", verdict=Verdict.INCONCLUSIVE, reason=reason,
                       message=msg, xi=None, a=None, source=cst["source"], n_steps=int(n_steps),
                       n_decided=0, n_violations=None, violations=[],
                       diagnostic_xi=diag.get("xi"), diagnostic_margin=diag.get("max_margin"),
                       margin=np.full(n_steps, np.nan), min_margin=float("nan"),
                       median_margin=float("nan"))


def _summed_failure(Lhat, P, fl_row, a_eff, start):
    """Lemma 14 summed over every window ``k0 < K`` (issue 19): why it fails, or None."""
    # Lhat^{k0} - Lhat^K >= a sum_{k0<k<=K} P_k - floor_{k0} - floor_K: the rounding of the two
    # end values only, so rises under the per-step floor cannot accumulate
    cumP = np.concatenate([[0.0], np.cumsum(P[start - 1:])])          # rows start-2 .. n-1
    D = Lhat[start - 2:] + a_eff * cumP
    hi = np.minimum.accumulate(D + fl_row[start - 2:])
    sum_viol = (D[1:] - fl_row[start - 1:]) > hi[:-1]
    if not sum_viol.any():
        return None
    K0 = int(np.argmax(sum_viol)) + start
    return (f"Lemma 14 summed fails: rises below the per-step floor add up; "
            f"Lhat^k0 - Lhat^K < a sum P_k - floor for K = {K0} and some k0 < K")


def _lower_bound_failure(tr, L, n, fl_row):
    """The lower bound of ``L_beta`` in Lemma 14's proof: why it fails, or None."""
    # L_beta^k >= reg^k - sum_{i<N} sup_j ||Lam_i^j||^2 / (2 beta_i)   (Lam_N = V_N - Y)
    low_viol = np.zeros(n, bool)
    beta_m = (tr.meta or {}).get("beta")
    if beta_m is not None and tr.normLam is not None:
        bb = np.broadcast_to(np.asarray(beta_m, float).reshape(-1), (tr.n_layers,))
        if bb[-1] >= 1:
            lsup = np.asarray(tr.normLam[:n], float).max(axis=0)
            lowb = np.asarray(tr.reg[:n], float) - float(np.sum(lsup[:-1] ** 2 / (2 * bb[:-1])))
            low_viol = L < lowb - fl_row
    if not low_viol.any():
        return None
    k0 = int(np.argmax(low_viol)) + 1
    return (f"L_beta falls below the proof's lower bound reg - sum_(i<N) sup||Lam_i||^2 "
            f"/ (2 beta_i) at k = {k0}")


def _first_step_failure(tr, L, size, floor_mult):
    """The first step from ``meta['initial']``, ``L^1 - sum_i dLam2_i^1 <= L^0``: why not, or None."""
    # LLA steps majorise with the theory curvature, so steps 1-5 do not raise L_beta; step 6
    # adds sum_i dLam2_i exactly
    init = ((tr.meta or {}).get("initial") or {}).get("lagrangian")
    if init is None or (tr.meta or {}).get("curvature", "theory") != "theory":
        return None
    L0 = float(init)
    if not bool(L[0] - float(np.sum(tr.dLam2[0])) > L0 + floor_mult * _EPS * (abs(L0) + size[0])):
        return None
    return (f"the first step raises L_beta: L^1 - sum_i dLam2_i^1 = "
            f"{L[0] - float(np.sum(tr.dLam2[0])):.6g} > L^0 = {float(init):.6g} (the "
            "primal steps from the recorded initial point must not raise it)")


def _per_step_test(drop, Pk, floor, a_v):
    """Lemma 14 per step: decided (``a P_k > floor_k``) and violated (``drop_k < a P_k - floor_k``)."""
    # with a <= 0 nothing is decided and a violation is a rise of Lhat above the floor
    if a_v is not None and a_v <= 0:
        return np.zeros(Pk.size, bool), drop < -floor
    a_eff = a_v if a_v is not None else 0.0
    decided = a_eff * Pk > floor if a_v is not None else Pk * 0 > 1
    return decided, drop < a_eff * Pk - floor


def _per_step_failure(viol, drop, Pk, ks, a_v):
    """Lemma 14 per step: the reason it fails (first violating ``k``), or None."""
    if not viol.any():
        return None
    k0 = int(ks[viol][0])
    a_eff = a_v if a_v is not None else 0.0
    return (f"Lhat^(k-1) - Lhat^k < a P_k at {int(viol.sum())} of {Pk.size} steps "
            f"(first k = {k0}: drop {drop[viol][0]:.3g}, a P_k = {a_eff * Pk[viol][0]:.3g})"
            if a_v is not None else
            f"Lhat rises above the rounding floor at {int(viol.sum())} of {Pk.size} steps "
            f"(first k = {k0}, rise {-drop[viol][0]:.3g})")


def _descent_verdict(cst, a_v, failures, decided, n_steps, min_steps, undecided=()):
    """The verdict of :func:`sufficient_descent` (a <= 0; failures in order; steps that cannot
    be decided, ``undecided``, in order; a unknown; floor)."""
    if a_v is not None and a_v <= 0:
        return Verdict.INCONCLUSIVE, (f"the {cst['source']['a']} descent constant a = {a_v:.3g} "
                                      "is not positive: the constants certify nothing")
    fail = next((f for f in failures if f is not None), None)
    if fail is not None:
        return Verdict.FAIL, fail
    why = next((u for u in undecided if u is not None), None)
    if why is not None:
        return Verdict.INCONCLUSIVE, why
    if a_v is None:
        return Verdict.INCONCLUSIVE, (f"constants unknown: xi given ({cst['source']['xi']}) but no "
                                      "descent constant a (pass a= or conditions=); a positive "
                                      "measured margin alone proves nothing")
    nd = int(decided.sum())
    if nd < min_steps:
        return Verdict.INCONCLUSIVE, (
            f"below the rounding floor: only {nd} of {n_steps} steps have a P_k above the floor "
            f"(need {min_steps})" if n_steps >= min_steps else
            f"run too short: {n_steps} steps (need {min_steps})")
    return Verdict.PASS, None


def _jump_undecided(tr, L, Lhat, P, drop, Pk, ks, viol, size, size_rob, a_v, start,
                    floor_mult):
    """A step within its row's own floor but not within the floor of the robust scale
    ``size_rob`` (per step, summed, first step): the row's scale jumped (a multiplier excursion
    sets its own floor), so the step cannot be decided.  The reason (first such k), or None."""
    if a_v is not None and a_v <= 0:
        return None
    a_eff = a_v if a_v is not None else 0.0
    fl_rob = floor_mult * _EPS * size_rob
    sl, pr = slice(start - 1, len(L)), slice(start - 2, len(L) - 1)
    step = (drop < a_eff * Pk - np.maximum(fl_rob[sl], fl_rob[pr])) & ~viol
    k0 = None
    if _first_step_failure(tr, L, size_rob, floor_mult) is not None:
        k0 = 1
    elif step.any():
        k0 = int(ks[step][0])
    elif _summed_failure(Lhat, P, fl_rob, a_eff, start) is not None:
        k0 = start + int(np.argmax(size[start - 1:] / size_rob[start - 1:]))
    if k0 is None:
        return None
    return (f"the rounding floor at k = {k0} is set by a jump of ||Lam|| ||V|| (the row's scale "
            f"{size[k0 - 1]:.3g} against {size_rob[k0 - 1] / SCALE_JUMP:.3g}, the median of the "
            f"rows before it): the step cannot be decided")


#: ``||Lam_i||`` may exceed its sup over the run's first half by this factor before the lower
#: bound of Lemma 14's convergence counts as moved by the run (class 8)
LAM_GROWTH = 2.0


#: a hidden multiplier whose last eighth of the run rises at least this many times as much as
#: the eighth before grows geometrically: ``g`` per step gives ``g^(K/8)`` (``g = 1.01``, ``K = 300``: 1.44); a
#: converging multiplier's increments shrink
LAM_ACCEL = 1.25
#: ... and rises over the last eighth by more than this share of its final value (1.01 per
#: step over K/8 = 37 rows: 44 %).  Round 5: 1e-2 (was 1e-3).  Real good runs turn up from a
#: minimum at the end (overshoot and settle): the three the old rule read as accelerating
#: growth (att21 good_runs2.out: d1 arctan, d1 gauss_cdf, d2 gauss_cdf; beta = 100, lambda = 1,
#: seed 2, K = 1000) rise by 0.65 %, 0.16 %, 0.17 % of the value over the last eighth and PASS
#: now; all 32 runs of ``benchmarks/multiplier_growth_scan.py --good`` are silent.  Geometric
#: growth the rules flag rises by 4.8 % of its value per eighth at least (LAM_TAIL's 1.05 per
#: window), so no geometric growth is freed; a late rise from a minimum (or a power law) of
#: under 1 % of the value per eighth is
LAM_RISE = 1e-2
#: ... at this share of its rows at least (growth with a few one-row dips is still growth): on
#: the series itself row by row, and on its smoothings (:data:`LAM_SMOOTH`) at the lag
#: ``w`` rows, so that dips or noise cannot lower the share (round 5)
LAM_ROWS = 0.9
#: ... or, through [K/2, K], window rates each at least this times the one before (x1.01 per
#: step over windows of 10 rows: 1.105; a converging series' rates shrink)
LAM_TAIL = 1.05
#: ... or a last eighth rising this many times as much as either eighth before (growth that
#: starts within the last eighth or two: x1.062 per row from k = 268 of 300 gives 20+)
LAM_JUMP = 4.0
#: round 5 (H2 of att21): the rules above are read on the series and on three trailing
#: smoothings over ``w = 2 max(4, floor(K / LAM_SMOOTH)) + 1`` rows (K < 320: 9, K = 1000: 31,
#: K = 3000: 93): the running median (noise of either sign, dips or spikes on fewer than half
#: of any w rows), the upper quartile (dips on up to 3/4 of the rows, under noise) and the
#: running max (downward dips of any depth, length and spacing that leave one undipped row in
#: any w).  On a growing series a dip does not lower a smoothing below its value w rows
#: before, so the share of rows rising at the lag w stays above LAM_ROWS where the
#: row-by-row share fell to 84-88 % (att21 d1_lam.out: x1.003-x1.02 per row with a 1-5 % dip
#: every 6-8 rows or 1 % Gaussian noise, 5 PASSes; all 5 INCONCLUSIVE now).  K / 64 and not
#: wider: a smoothing lags a turn from a minimum by (w - 1) / 2 rows, which raises the eighths'
#: ratio of a real run's recovery (d1 gauss_cdf seed 3, K = 300, beta = 100: 1.07 on the
#: series, on the running median 1.12-1.14 with w = 9, 1.22-1.24 with w = 19 against
#: LAM_ACCEL = 1.25).  With w = 9 (K = 300) and 31 (K = 1000), geometric growth of g^(K/8) =
#: 1.3-1.5 from K/2 under 1-2 % noise of four kinds is found in 100 of 100 draws; from 0.7 K
#: (the last two eighths' rule alone) 1.4-1.5 in 99-100, 1.3 (4 % above LAM_ACCEL) in 91-100
#: (``benchmarks/multiplier_growth_scan.py --series``)
LAM_SMOOTH = 64


def _smoothings(x, w):
    """The trailing running median, upper quartile and max of ``x`` (rows ``k - w + 1 .. k``;
    the first ``w - 1`` rows over the rows up to ``k``)."""
    pad = np.concatenate([np.full(w - 1, np.nan), x])
    win = sliding_window_view(pad, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (np.nanmedian(win, axis=-1), np.nanpercentile(win, 75, axis=-1),
                np.nanmax(win, axis=-1))


def _ls_rises(y, edges):
    """Least-squares slopes of ``y`` over the windows ``edges[j] .. edges[j + 1]`` times their
    lengths (a smoothing's staircase moves its edge values by up to a dip's length; its slope
    over a window does not)."""
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        t = np.arange(a, b + 1, dtype=float)
        t -= t.mean()
        out.append(float(np.dot(t, y[a:b + 1]) / np.dot(t, t)) * (b - a))
    return np.asarray(out)


def _accelerating_series(y, e, edges, lag):
    """The ratio of growth :func:`_accelerating_multiplier` reads on one series ``y`` (rows
    rising at ``lag``; ``lag > 1``: a smoothing, whose window rates are least-squares slopes),
    or None."""
    K = y.size
    d0 = float(y[-1 - 2 * e] - y[-1 - 3 * e])
    d1 = float(y[-1 - e] - y[-1 - 2 * e])
    d2 = float(y[-1] - y[-1 - e])
    if lag == 1:
        d = np.diff(y[edges]) / np.diff(edges)      # rates: the windows differ by a row
    else:
        d = _ls_rises(y, edges) / np.diff(edges)
    if not d2 > LAM_RISE * float(y[-1]):
        return None
    # growth, not noise: LAM_ROWS of the last eighth's rows rise (a geometric growth's all
    # do, a noisy converging series' about half), or the rise dwarfs both eighths before
    sustained = d0 <= 0 or d1 >= LAM_ACCEL * d0             # two eighths accelerating
    sudden = d2 >= LAM_JUMP * max(d0, d1, 0.0)              # or a growth that starts late
    rows = np.mean(y[-e:] > y[-e - lag:K - lag]) >= LAM_ROWS
    if d2 >= LAM_ACCEL * max(d1, 0.0) and ((sustained and rows) or sudden):
        return d2 / d1 if d1 > 0 else math.inf
    # rising at LAM_ROWS of the rows through the whole tail with window rates growing by
    # LAM_TAIL (four equal windows of [K/2, K]): faster than linear growth, however slow per
    # step (x1.016 over 80 rows)
    a = edges[0]
    if np.mean(y[a + lag:] > y[a:K - lag]) >= LAM_ROWS and np.all(d > 0) \
            and np.all(d[1:] >= LAM_TAIL * d[:-1]):
        return float(d[-1] / d[-2])
    return None


def _accelerating_multiplier(lam, beta, fl_last):
    """``(layer, ratio)`` of a hidden ``||Lam_i||`` that rose at ``LAM_ROWS`` of the rows of the
    last eighth of the run, by more than ``LAM_RISE`` of its final value, and at least
    ``LAM_ACCEL`` times its rise over the eighth before, which rose ``LAM_ACCEL`` times the one
    before it (or after a fall or a flat stretch), or ``LAM_JUMP`` times either eighth before,
    or that rose at ``LAM_ROWS`` of the rows of ``[K/2, K]`` with window rates growing by
    ``LAM_TAIL``; read on ``||Lam_i||`` (rows rising row by row) and on its running median,
    upper quartile and max over ``w = 2 max(4, floor(K / LAM_SMOOTH)) + 1`` rows (rows rising at
    the lag ``w``; the four windows' rates from least-squares slopes: dips and noise cannot
    hide the trend); with the last eighth's rise moving
    ``||Lam_i||^2 / (2 beta_i)`` above ``L_beta``'s rounding floor ``fl_last`` (``beta`` None:
    ``||Lam_i||`` above its own rounding), else None.  Wherever it stands against the first
    half's sup: growth that starts late is still growth."""
    K = lam.shape[0]
    e = K // 8
    if K < 32:                  # a window of at least 4 rows
        return None
    if beta is not None:        # the last eighth's rise moves ||Lam_i||^2 / (2 beta_i) past the floor
        rise_moved = (lam[-1] ** 2 - lam[-1 - e] ** 2) / (2 * beta) > fl_last
    else:
        rise_moved = lam[-1] - lam[-1 - e] > _EPS * FLOOR_MULT * lam[-1]
    # a smoothing's rise also moves the floor: its largest value against the row e before it
    w = 2 * max(4, K // LAM_SMOOTH) + 1
    edges = np.linspace(K // 2, K - 1, 5).round().astype(int)
    for i in range(lam.shape[1]):
        x = np.asarray(lam[:, i], float)
        lag = w
        for y, lg in ((x, 1),) + tuple((sm, lag) for sm in _smoothings(x, w)):
            if y is not x:
                if beta is not None:
                    moved = (y[-1] ** 2 - y[-1 - e] ** 2) / (2 * beta[i]) > fl_last
                else:
                    moved = y[-1] - y[-1 - e] > _EPS * FLOOR_MULT * y[-1]
            else:
                moved = rise_moved[i]
            if not moved:
                continue
            r = _accelerating_series(y, e, edges, lg)
            if r is not None:
                return i, r
    return None


def _multiplier_reference(tr, n, L, fl_row):
    """Why the lower bound ``L_beta^k >= reg^k - sum_{i<N} M_i^2 / (2 beta_i)`` with ``M_i`` the
    sup of ``||Lam_i||`` over the run's first half (rows ``1 .. ceil(K/2)``: a bound the later
    rows cannot move) is not established, or None.  Not established: a hidden ``||Lam_i||``
    exceeds ``LAM_GROWTH M_i`` (and moves ``||Lam_i||^2 / (2 beta_i)`` above the rounding
    floor ``fl_row``), or ``L_beta`` falls below the bound by more than the floor.  Lemma 14's
    descent gives convergence only with ``L_beta`` bounded below independently of the run
    (Lemma 19 bounds the multipliers); a multiplier growing geometrically while ``L_beta``
    falls meets the descent inequality at every step and still diverges."""
    N = tr.n_layers
    if tr.normLam is None or N < 2 or n < 2:
        return None
    lam = np.asarray(tr.normLam[:n, :N - 1], float)
    h = (n + 1) // 2
    M = lam[:h].max(axis=0)
    beta_m = (tr.meta or {}).get("beta")
    bb = None if beta_m is None else np.broadcast_to(np.asarray(beta_m, float).reshape(-1), (N,))
    if bb is not None:
        moved = (lam ** 2 - M ** 2) / (2 * bb[:N - 1]) > fl_row[:, None]
    else:
        moved = lam - M > _EPS * FLOOR_MULT * (lam + M)
    grow = (lam > LAM_GROWTH * M) & moved
    if grow.any():
        k, i = (int(v) for v in np.argwhere(grow)[0])
        return (f"the multiplier grows past the first half of the run: ||Lam_{i + 1}^{k + 1}|| = "
                f"{lam[k, i]:.3g} > {LAM_GROWTH:g} x its sup {M[i]:.3g} over rows 1..{h} (max "
                f"{lam[:, i].max() / max(M[i], 1e-300):.3g} x); the lower bound of L_beta that "
                f"Lemma 14's convergence needs is not fixed by this run")
    acc = _accelerating_multiplier(lam, None if bb is None else bb[:N - 1], fl_row[-1])
    if acc is not None:
        i, r = acc
        return (f"the multiplier ||Lam_{i + 1}|| grows at the end of the run with accelerating "
                f"growth ({lam[-1, i]:.3g} at K = {n}; its last eighth rose {r:.3g} x as much as "
                f"the eighth before): a run stopped while its multiplier grows (the lower bound "
                f"of L_beta is not fixed by this run)")
    if bb is not None and bb[-1] >= 1:
        lowb = np.asarray(tr.reg[:n], float) - float(np.sum(M ** 2 / (2 * bb[:N - 1])))
        below = L < lowb - fl_row
        if below.any():
            k = int(np.argmax(below))
            return (f"L_beta falls below the lower bound fixed by the first half of the run at "
                    f"k = {k + 1}: {L[k]:.6g} < reg - sum_(i<N) sup_(j<={h}) ||Lam_i^j||^2 / "
                    f"(2 beta_i) = {lowb[k]:.6g} (the multipliers grew after row {h})")
    return None


def _descent_message(verdict, reason, xi_v, a_v, src, decided, mm):
    """One sentence: the decided steps, ``xi``, ``a`` and their sources, and the least margin."""
    xi_txt = "[" + ", ".join(f"{v:.3g}" for v in xi_v) + "]"
    if verdict is not Verdict.PASS:
        return f"With xi = {xi_txt} ({src['xi']}): {reason}."
    return (f"Lemma 14 holds at all {int(decided.sum())} decided steps of {decided.size} with xi = "
            f"{xi_txt} ({src['xi']}) and a = {a_v:.3g} ({src['a']}): measured margin >= "
            f"{float(np.min(mm)):.3g} (slack factor {float(np.min(mm)) / a_v:.3g}).")


def descent_diagnostic(trace, start=2, xi_cap=None, floor_mult=FLOOR_MULT, k_range=None):
    """Diagnostic (never PASS): the per-layer ``xi >= 0`` that maximises the descent margin.

    A linear program (``scipy.optimize.linprog``, HiGHS) over ``xi_1..xi_N >= 0`` and ``t``:
    maximise ``t`` subject to ``(Lhat_xi^{k-1} - Lhat_xi^k) + floor_k >= t P_k`` on every step
    with ``P_k`` above the floor, and ``Lhat_xi^{k-1} - Lhat_xi^k + floor_k >= 0`` on the
    others.  ``xi`` is capped by ``xi_cap`` (a number or one per layer), by default the
    a-posteriori certificate's ``xi`` when it holds.  Without a cap the program is often
    unbounded (when every ``||dV_i||^2`` falls, any rise of ``L_beta`` is absorbed by a large
    enough ``xi``): that is reported (``unbounded=True``) and solved with a cap of 1e12, which
    is why a free ``xi`` certifies nothing.

    Verdict: FAIL when even the best ``xi`` within the cap leaves a negative margin (no such
    ``xi`` makes ``Lhat`` non-increasing), otherwise INCONCLUSIVE with the ``xi`` and
    ``max_margin`` found.  ``k_range``: ``(k_first, k_last)`` to restrict the steps.
    """
    tr = _as_trace(trace)
    fields = ("lagrangian", "dV2", "dW2", "loss", "reg", "dual", "penalty")
    n = _need(tr, fields, "descent_diagnostic", min_len=max(int(start), 2))
    N = tr.n_layers
    L = np.asarray(tr.lagrangian[:n], float)
    dV = np.asarray(tr.dV2[:n], float)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + dV.sum(axis=1)
    size = _lagrangian_size(tr, n)
    ks = np.arange(start, n + 1)
    sl, pr = slice(start - 1, n), slice(start - 2, n - 1)
    dL = L[pr] - L[sl]
    dD = dV[pr] - dV[sl]                        # (steps, N): D_i^{k-1} - D_i^k
    floor = floor_mult * _EPS * np.maximum(size[sl], size[pr])
    Pk = P[sl]
    if k_range is not None:
        sel = (ks >= k_range[0]) & (ks <= k_range[1])
        ks, dL, dD, floor, Pk = ks[sel], dL[sel], dD[sel], floor[sel], Pk[sel]
    cap_src = "user"
    if xi_cap is None:
        ap, _ = _a_posteriori(tr)
        if ap is not None and ap.get("xi") is not None:
            xi_cap, cap_src = _xi_vector(ap["xi"], N, "a-posteriori"), "a-posteriori"
    cap = None if xi_cap is None else np.broadcast_to(np.asarray(xi_cap, float), (N,))
    big = Pk > floor
    # variables: xi_1..xi_N, t ; minimise -t
    c = np.zeros(N + 1)
    c[-1] = -1.0
    rows, rhs = [], []
    for j in range(dL.size):
        sc = Pk[j] if big[j] else max(floor[j], 1e-300)
        row = np.concatenate([-dD[j] / sc, [1.0 if big[j] else 0.0]])
        rows.append(row)
        rhs.append((dL[j] + floor[j]) / sc)
    if not rows:
        raise ValueError(f"trace: descent_diagnostic needs steps k >= {start}, got none")
    A, bvec = np.asarray(rows), np.asarray(rhs)
    t_bound = (None, None) if big.any() else (0.0, 0.0)

    def solve(cp):
        bounds = [(0.0, None if cp is None else float(cp[i])) for i in range(N)] + [t_bound]
        return linprog(c, A_ub=A, b_ub=bvec, bounds=bounds, method="highs")

    unbounded = False
    res = solve(cap)
    if res.status == 3:                          # unbounded: xi free absorbs everything
        unbounded = True
        cap, cap_src = np.full(N, 1e12), "none (1e12 used, the program is unbounded)"
        res = solve(cap)
    if res.status not in (0, 2, 3):              # HiGHS gave up (status unknown): interior point
        bounds = [(0.0, None if cap is None else float(cap[i])) for i in range(N)] + [t_bound]
        res = linprog(c, A_ub=A, b_ub=bvec, bounds=bounds, method="highs-ipm")
    if res.status == 2:                          # infeasible: some step rises for every xi
        xi_found, t = None, -math.inf
    elif res.status != 0:
        msg = f"the linear program could not be solved ({res.message})"
        return CheckResult(name="descent_diagnostic", verdict=Verdict.INCONCLUSIVE,
                           reason=f"diagnostic only: {msg}", message=msg + ".", xi=None,
                           max_margin=float("nan"), cap=None if cap is None else cap.tolist(),
                           cap_source=cap_src, unbounded=unbounded, n_steps=int(dL.size),
                           n_decided=int(big.sum()))
    else:
        xi_found, t = res.x[:N], float(res.x[-1]) if big.any() else 0.0
    verdict = Verdict.FAIL if (xi_found is None or t < 0) else Verdict.INCONCLUSIVE
    if xi_found is None:
        msg = (f"no xi >= 0 within the cap ({cap_src}) keeps Lhat from rising on every step "
               "(the linear program is infeasible)")
    else:
        msg = (f"the best per-layer xi within the cap ({cap_src}) is "
               f"[{', '.join(f'{v:.3g}' for v in xi_found)}] with descent margin {t:.3g}"
               + ("; unbounded without a cap (a free xi absorbs any rise)" if unbounded else "")
               + (" (a diagnostic: it never passes on its own)"))
    return CheckResult(name="descent_diagnostic", verdict=verdict,
                       reason=("diagnostic only: xi chosen after the run certifies nothing"
                               if verdict is Verdict.INCONCLUSIVE else msg),
                       message=msg + ".", xi=None if xi_found is None else xi_found.tolist(),
                       max_margin=t, cap=None if cap is None else cap.tolist(), cap_source=cap_src,
                       unbounded=unbounded, n_steps=int(dL.size), n_decided=int(big.sum()))


# ------------------------------------------------------------ Lemma 18
def dual_bounded_by_primal(trace, bound=None, *, start=2, floor_mult=FLOOR_MULT,
                           min_steps=MIN_STEPS, head=None, growth_tol=None, floor=None):
    """Lemma 18 on a run: each dual step is bounded by a linear form in the primal steps.

    The per-step forms of :func:`verify.conditions.lemma18_steps` (depth 1 and 2; the one
    implementation of the maths) with their constants taken from the measured norms of the
    same step (``||W_i^k||``, ``||Lam_i^{k-1}||``, ``||V_i^{k-1}||``, the recorded curvature;
    the activation's ``L_0, L_1, L_2`` from :func:`verify.conditions.trace_activation`, so user
    activations work): ``||Lam_i^k - Lam_i^{k-1}|| <= sum_j c_j s_j`` with ``s`` the primal step
    norms of iterations ``k`` and ``k-1``, for ``k >= start`` (Lemma 8's identities hold from
    ``k = 1``; the first difference is at ``k = 2``).  These are inequalities of the
    algorithm, not estimates: a step that breaks one by more than its rounding floor is a
    FAIL.  Deeper nets (no derived form), a trace without ``meta['beta']`` (or, at depth 2,
    ``n_samples``) are INCONCLUSIVE ("constants unknown"); the aggregate ratio ``sum_i dLam2 /
    (P_k + P_{k-1})`` is reported as a figure (``sup_ratio``), and with ``bound=`` it is also
    required to stay below that constant.

    *If PASS then* for every ``k >= start`` and every layer ``i``: ``||Lam_i^k - Lam_i^{k-1}||
    <= sum_j c_j s_j + floor_k`` with Lemma 18's constants from the validated norms of that
    step, and at least ``min_steps`` steps were decided above their rounding floor.

    Returns ``lhs``/``rhs`` arrays ``(K, N)``, ``worst_excess`` (largest ``lhs / rhs``
    over decided steps), ``violations`` (k), ``ratio``, ``sup_ratio``.
    """
    tr = _as_trace(trace)
    n = _need(tr, ("dLam2", "dW2", "dV2", "normW", "normV", "normLam"), "dual_bounded_by_primal",
              min_len=max(int(start), 2))
    dual = np.asarray(tr.dLam2[:n], float).sum(axis=1)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + np.asarray(tr.dV2[:n], float).sum(axis=1)
    den = P + np.concatenate([[0.0], P[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.arange(n) >= 1, dual / den, np.nan)
    fin = ratio[np.isfinite(ratio)]
    sup = float(np.max(fin)) if fin.size else float("nan")
    forms, why_not = None, None
    try:
        forms = _conditions().lemma18_steps(tr, floor_mult=floor_mult)
    except (ValueError, TypeError, KeyError) as exc:
        why_not = str(exc)
    viol_k, excess = [], float("nan")
    lhs = rhs = None
    if forms is None:
        verdict = Verdict.INCONCLUSIVE
        reason = f"constants unknown: no Lemma-18 form for this run ({why_not})"
    else:
        lhs, rhs, tol = forms["lhs"], forms["rhs"], np.nan_to_num(forms["floor"], nan=np.inf)
        rows = np.arange(n) >= int(start) - 1
        dec = rows[:, None] & (np.nan_to_num(rhs) > tol)
        bad = rows[:, None] & (lhs > np.nan_to_num(rhs, nan=np.inf) + tol)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(dec, lhs / rhs, np.nan)
        excess = float(np.nanmax(q)) if np.any(dec) else float("nan")
        viol_k = _iters_list(bad.any(axis=1))
        if bad.any():
            i0 = int(np.argwhere(bad)[0][1])
            verdict = Verdict.FAIL
            reason = (f"||DLam_{i0 + 1}^k|| exceeds its Lemma-18 bound at {int(bad.any(axis=1).sum())} "
                      f"steps (first k = {viol_k[0]}; largest ratio {excess:.3g})")
        elif int(dec.any(axis=1).sum()) < min_steps:
            verdict = Verdict.INCONCLUSIVE
            reason = "below the rounding floor: too few steps with dual and primal steps above it"
        else:
            verdict, reason = Verdict.PASS, None
    if bound is not None and fin.size and sup > float(bound):
        verdict, reason = Verdict.FAIL, f"the dual/primal ratio reaches {sup:.3g} > bound {float(bound):.3g}"
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    msg = (f"Every dual step is within its Lemma-18 bound from the measured norms (largest "
           f"lhs/rhs {excess:.3g}; aggregate dual/primal ratio <= {sup:.3g})."
           if verdict is Verdict.PASS else f"dual_bounded_by_primal {verdict}: {reason}.")
    return CheckResult(name="dual_bounded_by_primal", verdict=verdict, reason=reason, message=msg,
                       lhs=lhs, rhs=rhs, worst_excess=excess, violations=viol_k, ratio=ratio,
                       sup_ratio=sup, flagged_layers=flagged)
