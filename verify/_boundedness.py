"""Bounded iterates on a run: Lemma 19.

:func:`bounded_iterates`: inside the derived or given box of iterate bounds, or, without one,
no growth trend of the running sup (:func:`_growth_trend`).  Private module: the names are
exported by :mod:`verify.checks` and :mod:`verify`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._constants import _guard, _not_covered, _validity
from ._floors import _EPS, FLOOR_MULT
from ._results import CheckResult, Verdict
from ._trace_input import _as_trace, _need
from .integrity import _SUP_ACT


# ------------------------------------------------------------ Lemma 19
def _box_from_conditions(conditions, N):
    """Per-field, per-layer upper bounds from ``conditions.box()`` (None where none), and the
    first iteration they hold from."""
    get = getattr(conditions, "box", None)
    if not callable(get):
        raise TypeError("conditions: expected a verify.conditions.Conditions (an object with a "
                        f"box() method), got {type(conditions).__name__}")
    bx = get()
    if bx is None:
        return None, 2
    box = {f: [None if v is None else float(v) for v in vals] for f, vals in bx.fields().items()}
    for f, vals in box.items():
        if len(vals) != N:
            raise ValueError(f"conditions: the derived box has {len(vals)} layers, the trace {N}")
    return box, int(bx.k_from)


def _growth_trend(x, rel_growth, ratio_fail, ratio_pass, rho_geo, n_win=4, share_fail=0.05,
                  decel=0.8):
    """Trend of one iterate-norm series ``x`` (length ``K >= 4``) for :func:`bounded_iterates`.

    Returns ``(severity, info)``: severity 0 PASS, 1 INCONCLUSIVE, 2 FAIL; ``info`` has
    ``rel`` (``g_2 / M_K``), ``ratio`` (``g_2 / g_1``), ``tail_ratio`` (largest successive
    ratio of the tail envelope's window increments), ``limit`` (extrapolated bound of a
    geometric approach, else None) and ``how`` (which rule decided).
    """
    K = x.size
    M = np.maximum.accumulate(x)
    q1, q2 = max(1, K // 4), max(2, K // 2)
    mk = float(M[-1])
    g1 = float(M[q2 - 1] - M[q1 - 1])
    g2 = float(M[-1] - M[q2 - 1])
    rel = g2 / mk if mk > 0 else 0.0
    ratio = g2 / g1 if g1 > 0 else (math.inf if g2 > 0 else 0.0)
    info = {"rel": rel, "ratio": ratio, "tail_ratio": float("nan"), "limit": None, "how": "no growth"}
    # no growth: the running sup rose by no more than rounding over the last doubling of k
    # (judged on the increment itself, never relative to the level: c + log k grows for every c)
    if not g2 > rel_growth * _EPS * max(mk, 1e-300):
        return 0, info
    # geometric approach in the tail: the envelope of the last half, E_k = max_{K/2 <= j <= k} x_j,
    # over n_win equal windows; increments shrinking by <= rho_geo per window (log k: 0.82-0.87,
    # sqrt k: 0.91-0.93, any k^p, p > 0, more; 0.99^k over 300 iterations: 0.69)
    E = np.maximum.accumulate(x[q2 - 1:])
    edges = np.linspace(0, E.size - 1, n_win + 1).round().astype(int)
    d = np.diff(E[edges])
    if edges.size == n_win + 1 and np.unique(edges).size == n_win + 1 and d[-1] > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = np.where(d[:-1] > 0, d[1:] / np.where(d[:-1] > 0, d[:-1], 1.0),
                          np.where(d[1:] > 0, np.inf, 0.0))
        rho = float(np.max(rr))
        info["tail_ratio"] = rho
        if rho <= rho_geo:
            info["limit"] = float(max(mk, E[-1] + d[-1] * rho / (1 - rho)))
            info["how"] = "geometric approach"
            return 0, info
    if g1 > 0:
        info["how"] = "doubling"
        q0 = max(1, K // 8)
        g0 = float(M[q1 - 1] - M[q0 - 1])
        ratio0 = g1 / g0 if g0 > 0 else math.inf
        info["ratio_before"] = ratio0
        # the growth of the last doubling against the series' whole movement over the run
        # (max - min: offset-free and scale-free): a growth law from any offset has g_2 >= 11 %
        # of it at K <= 400 (log k 0.12, k^p more), real runs drift 1.6e-5 to 2e-3 of it
        span = float(np.max(x) - np.min(x))
        info["share"] = share = g2 / span if span > 0 else 0.0
        # a growth law k^p or log k has equal ratios over successive doublings (2^p, 1); a
        # saturation c - C rho^k has falling ones (rho^(K/4)(1 + rho^(K/4)) after
        # rho^(K/8)(1 + rho^(K/8))); a sup flat over [K/8, K/4] is a late transient, not a law
        steady = math.isfinite(ratio0) and ratio >= decel * ratio0
        info["steady"] = steady
        if ratio >= ratio_fail and ratio0 >= ratio_fail and share >= share_fail and steady:
            return 2, info                                 # a growth law over three doublings
        if ratio >= ratio_fail:                            # growing, but not yet steadily
            return 1, info
        return (1, info) if ratio > ratio_pass else (0, info)
    # the running sup was flat over [K/4, K/2] (e.g. a dip and a recovery to a new maximum):
    # compare the tail envelope's growth over the two halves of the last doubling instead
    h = max(1, min(E.size - 1, (3 * K) // 4 - q2))
    h1, h2 = float(E[h] - E[0]), float(E[-1] - E[h])
    info["how"] = "late new maximum"
    info["ratio"] = ratio = h2 / h1 if h1 > 0 else (math.inf if h2 > 0 else 0.0)
    if h1 > 0 and ratio >= ratio_fail:
        return 2, info
    return 1, info


def bounded_iterates(trace, bound=None, conditions=None, *, ratio_fail=0.9, ratio_pass=0.75,
                     rel_growth=FLOOR_MULT, rho_geo=0.75, min_len=16, head=None, growth_tol=None):
    """Lemma 19 on a run: ``||W_i^k||, ||V_i^k||, ||Lam_i^k||`` stay bounded.

    With a known box (``bound=``: a number or ``{"W": .., "V": .., "Lam": ..}``; or
    ``conditions=``: the derived a-priori box :meth:`verify.conditions.Conditions.box`, ``a*``
    on ``||Lam_2||`` and ``w`` on ``||W_2||`` at depth 1, ``l_i`` on ``||Lam_i||`` and ``om2`` on
    ``||W_2||`` at depth 2), every value must lie in it (from ``k = box.k_from = 2`` for the
    derived box): PASS or FAIL.

    Without a box, a trend test on every series ``x_k`` (:func:`_growth_trend`), with the
    running sup ``M_k = max_{j<=k} x_j``, ``g_1 = M_{K/2} - M_{K/4}`` and ``g_2 = M_K - M_{K/2}``
    (the growth over the last two doublings of k):

    1. no growth beyond rounding over the last doubling (``g_2 <= rel_growth eps M_K``,
       ``rel_growth = FLOOR_MULT``): PASS.  Growth is judged on the increments ``g_1, g_2``
       and on the tail envelope's window increments, never relative to the level, so ``c +
       sqrt k``, ``c + log k`` and ``c + k`` are judged alike for every offset ``c``;
    2. a geometric approach in the tail: the envelope of the last half, ``E_k = max_{K/2<=j<=k}
       x_j``, cut into 4 equal windows, has increments shrinking by at most ``rho_geo = 0.75``
       per window: PASS, with the extrapolated bound ``E_K + d_4 rho/(1 - rho)`` reported
       (``limit``).  Growth laws give more: ``log k`` 0.82-0.87, ``sqrt k`` 0.91-0.93, any
       ``k^p`` more; an approach ``c - C 0.99^k`` over 300 iterations gives 0.69;
    3. otherwise, the doubling ratio ``g_2 / g_1``: FAIL when ``g_2/g_1 >= ratio_fail`` and
       ``g_1/g_0 >= ratio_fail`` (``g_0 = M_{K/4} - M_{K/8} > 0``: growth over three
       doublings), steady (``g_2/g_1 >= 0.8 g_1/g_0``: a law ``k^p`` or ``log k`` has equal
       ratios ``2^p`` or 1, a saturation ``c - C rho^k`` falling ones) and ``g_2 >= 5 %`` of
       the series' range ``max x - min x`` over the run (offset- and scale-free: ``log k`` gives
       12-16 % at ``K = 80..400``, ``k^p`` more; the late drifts of real runs' sups 1.6e-5 to 2e-3).
       So ``c + sqrt k``, ``c + log k``, ``c + k`` and ``c + k^p`` FAIL for every ``c``, and
       so does a saturation too slow to show in the run (``rho^(K/4) > 0.6``: indistinguishable
       from ``c + k`` over it).  ``>= ratio_fail`` on the last doubling only, or decelerating,
       or a small share: INCONCLUSIVE (still growing); ``ratio_pass .. ratio_fail``
       INCONCLUSIVE (decelerating, not yet shown bounded: ``c - k^-0.3`` gives 0.81), below
       ``ratio_pass`` PASS (``c - k^-0.5``: 0.71);
    4. ``g_1 = 0`` (the running sup flat over ``[K/4, K/2]``, then a new maximum: a dip and a
       recovery): the growth of ``E`` over the two halves of the last doubling, FAIL when the
       later half grows at least ``ratio_fail`` times the earlier (steady late growth), else
       INCONCLUSIVE.

    A hidden ``||V_i||`` (``i < N``) of a built-in bounded activation is bounded by Lemma 19's
    own argument: ``||V_i^k|| <= ||F_i^k|| + sup|sigma| sqrt(n d_i)`` at every ``k``
    (``V_i = sigma(W_i A) - F_i``, an identity :func:`verify.validate_trace` checks), so the
    trend test runs on ``||F_i^k||`` for it (``trend[...]['act_box']``).

    A finite run cannot prove boundedness; this criterion refuses the growth laws a bounded
    sequence cannot have over the run.  *If PASS then* (with a box) for every ``k >= k_from``
    every norm lies in the box; (without one) for every series either its running sup rose by
    at most rounding over ``[K/2, K]``, or its tail envelope's increments shrank by at least
    ``rho_geo`` per window over ``[K/2, K]`` (so the sup stays below the reported
    geometric extrapolation ``limit`` if the shrinking continues), or the last doubling's
    increment was below ``ratio_pass`` times the one before; a hidden ``||V_i||`` stays below
    ``sup|sigma| sqrt(n d_i) + ||F_i^k||`` at every ``k`` and ``||F_i||`` passed the same test.

    Returns ``sup`` (per-field per-layer maxima), ``worst`` (series), ``growth_ratio``
    (``g_2/g_1`` of the worst series), ``rel_growth_last`` (``g_2 / M_K``), ``tail_ratio``,
    ``limit`` (extrapolated bound where a geometric approach decided), ``trend`` (per series),
    ``exceeded``.
    """
    tr = _as_trace(trace)
    n = _need(tr, _ITERATE_FIELDS, "bounded_iterates", min_len=4)
    N = tr.n_layers
    _check_trend_options(head, growth_tol, rho_geo)
    bounds = _bound_dict(bound)
    foreign = _not_covered(conditions, tr)
    box, k_from = (_box_from_conditions(conditions, N) if conditions is not None and foreign is None
                   else (None, 2))
    sup, exceed, box_slack = _box_test(tr, n, bounds, box, k_from)
    have_box = bool(bounds) or (box is not None and any(v is not None for b in box.values() for v in b))
    trend, worst, sev = _trend_tests(tr, n, rel_growth, ratio_fail, ratio_pass, rho_geo)
    wt = trend.get(worst, {"rel": 0.0, "ratio": 0.0, "tail_ratio": float("nan"), "limit": None,
                           "how": "no growth"})
    if foreign is not None and not bounds:
        verdict, reason = Verdict.INCONCLUSIVE, foreign
    elif exceed:
        verdict, reason = Verdict.FAIL, f"iterates leave the given/derived bound: {exceed[0]}"
    elif n < min_len and not have_box:
        verdict, reason = Verdict.INCONCLUSIVE, f"run too short: {n} iterations (need {min_len})"
    elif have_box:
        verdict, reason = Verdict.PASS, None
    else:
        verdict, reason = _trend_verdict(worst, wt, sev, ratio_fail)
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    msg = _bounded_message(verdict, reason, have_box, worst, wt, sup, box_slack)
    return CheckResult(name="bounded_iterates", verdict=verdict, reason=reason, message=msg,
                       sup=sup, worst=worst, growth_ratio=float(wt["ratio"]),
                       rel_growth_last=float(wt["rel"]), tail_ratio=float(wt["tail_ratio"]),
                       limit=wt["limit"], trend=trend, exceeded=exceed, box=box,
                       flagged_layers=flagged, slack=min(box_slack) if box_slack else None)


_ITERATE_FIELDS = ("normW", "normV", "normLam")


def _check_trend_options(head, growth_tol, rho_geo):
    """Refuse what the trend test of Lemma 19 no longer reads (a warning) or cannot use."""
    if head is not None or growth_tol is not None:
        warnings.warn("bounded_iterates: head= and growth_tol= are gone (the tail/head max ratio "
                      "passed sqrt(k) growth); the trend test uses ratio_fail/ratio_pass/rel_growth",
                      DeprecationWarning, stacklevel=3)
    if not 0 < rho_geo < 1:
        raise ValueError(f"rho_geo: expected a ratio in (0, 1), got {rho_geo!r}")


def _box_test(tr, n, bounds, box, k_from):
    """Lemma 19 with a known box: per-field sups, the norms outside it and the box's slack."""
    sup, exceed, box_slack = {}, [], []
    for f, key in zip(_ITERATE_FIELDS, ("W", "V", "Lam")):
        arr = np.asarray(getattr(tr, f)[:n], float)
        sup[key] = arr.max(axis=0)
        for i in range(tr.n_layers):
            if bounds.get(key) is not None and float(arr[:, i].max()) > bounds[key]:
                exceed.append(f"{f}[layer {i + 1}] = {float(arr[:, i].max()):.3g} > {bounds[key]:.3g}")
            if box is not None and box[f][i] is not None and n >= k_from:
                top = float(arr[k_from - 1:, i].max())
                box_slack.append(box[f][i] / top if top > 0 else math.inf)
                if top > box[f][i]:
                    exceed.append(f"{f}[layer {i + 1}] = {top:.3g} > derived box {box[f][i]:.3g}")
    return sup, exceed, box_slack


def _trend_tests(tr, n, rel_growth, ratio_fail, ratio_pass, rho_geo):
    """Lemma 19 without a box: :func:`_growth_trend` per series; the worst and its severity."""
    act_box = _activation_box(tr, n)
    N = tr.n_layers
    worst, worst_key = None, (-1, -math.inf)
    trend = {}
    for f in _ITERATE_FIELDS:
        arr = np.asarray(getattr(tr, f)[:n], float)
        for i in range(N):
            series, via_f = arr[:, i], f == "normV" and act_box is not None and i < N - 1
            if via_f:
                # Lemma 19 for a hidden V_i: ||V_i|| <= ||F_i|| + sup|sigma| sqrt(n d_i) at every
                # k (validated by verify.integrity), so only ||F_i|| can grow: judge its trend
                series = np.asarray(tr.feas[:n, i], float)
            sev, info = _growth_trend(series, rel_growth, ratio_fail, ratio_pass, rho_geo)
            name = f"{f}[layer {i + 1}]"
            if via_f:
                info = {**info, "how": f"activation box {act_box[i]:.3g} + ||F_{i + 1}||, whose "
                        f"trend: {info['how']}", "act_box": float(act_box[i])}
            trend[name] = {"verdict": ("PASS", "INCONCLUSIVE", "FAIL")[sev], **info}
            key = (sev, info["rel"])
            if key > worst_key:
                worst, worst_key = name, key
    return trend, worst, worst_key[0]


def _trend_verdict(worst, wt, sev, ratio_fail):
    """Rules 1-4 of :func:`bounded_iterates` on the worst series: FAIL, INCONCLUSIVE or PASS."""
    rel, ratio = wt["rel"], wt["ratio"]
    if sev == 2 and wt["how"] == "doubling":
        return (Verdict.FAIL, f"{worst} keeps growing: its running sup grew by {rel:.3g} of its "
                f"size over the last doubling of k, with increments not shrinking (ratio "
                f"{ratio:.3g} >= {ratio_fail})")
    if sev == 2:
        return (Verdict.FAIL, f"{worst} keeps growing: after a flat stretch its running sup grew "
                f"by {rel:.3g} of its size over the last doubling of k, as much in its last "
                f"quarter as in the one before (ratio {ratio:.3g})")
    if sev == 1:
        return (Verdict.INCONCLUSIVE, f"run too short: {worst} still grows ({rel:.3g} of its size "
                f"over the last doubling, increment ratio {ratio:.3g}, tail window ratio "
                f"{wt['tail_ratio']:.3g}): not yet shown bounded")
    return Verdict.PASS, None


def _bounded_message(verdict, reason, have_box, worst, wt, sup, box_slack):
    """One sentence: the sups, how they were shown bounded (box or trend), the largest growth."""
    if verdict is not Verdict.PASS:
        return f"bounded_iterates {verdict}: {reason}."
    how = ("within the given/derived box" if have_box else "trend test on the running sup")
    late = (f"; {worst} approaches its bound geometrically (tail window ratio "
            f"{wt['tail_ratio']:.3g}, extrapolated sup {wt['limit']:.3g})"
            if not have_box and wt["how"] == "geometric approach" else
            f"; largest late growth {wt['rel']:.3g} ({worst})")
    return (f"Iterate norms stay bounded ({how}): sup ||W||, ||V||, ||Lam|| = "
            f"{sup['W'].max():.3g}, {sup['V'].max():.3g}, {sup['Lam'].max():.3g}{late}"
            + (f"; slack factor of the derived box over the measured sup {min(box_slack):.3g}"
               if box_slack else "") + ".")


def _activation_box(tr, n):
    """``sup|sigma| sqrt(n d_i)`` for the hidden layers ``i < N`` of a built-in bounded
    activation (the meta records the activation, ``widths`` and ``n_samples``), else None."""
    meta = tr.meta or {}
    sup = _SUP_ACT.get(str(meta.get("activation")))
    widths, n_s = meta.get("widths"), meta.get("n_samples")
    N = tr.n_layers
    if sup is None or widths is None or n_s is None or len(widths) != N + 1 or N < 2 \
            or tr.feas is None:
        return None
    return sup * np.sqrt(float(n_s) * np.asarray(widths[1:N], float))


def _bound_dict(bound):
    if bound is None:
        return {}
    if isinstance(bound, dict):
        bad = set(bound) - {"W", "V", "Lam"}
        if bad:
            raise ValueError(f"bound: expected keys among 'W', 'V', 'Lam', got {sorted(bad)}")
        return {k: float(v) for k, v in bound.items()}
    b = float(bound)
    if not (b > 0):
        raise ValueError(f"bound: expected a positive number or a dict, got {bound!r}")
    return {"W": b, "V": b, "Lam": b}
