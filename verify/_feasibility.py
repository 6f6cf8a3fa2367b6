"""Feasibility on a run: Theorem 4(b), ``||V_i - sigma(W_i V_{i-1})|| -> 0``.

:func:`feasibility_to_zero`: ``||F|| / ||V||`` small and still falling in the run's tail.
Private module: the names are exported by :mod:`verify.checks` and :mod:`verify`.
"""

from __future__ import annotations

import math

import numpy as np

from ._constants import _guard, _validity
from ._descent import sufficient_descent
from ._floors import _EPS, FLOOR_MULT
from ._results import CheckResult, Verdict
from ._trace_input import _as_trace, _need


# ------------------------------------------------------------ Theorem 4(b)
def _window_maxima(x, n_win):
    """Maxima of ``x`` over ``n_win`` equal consecutive windows of its last half."""
    h = x[len(x) // 2:]
    edges = np.linspace(0, h.size, n_win + 1).round().astype(int)
    return np.array([float(h[a:b].max()) for a, b in zip(edges[:-1], edges[1:]) if b > a])


def _end_fall(f, s, wlen, fl):
    """How much the series falls over the run's last half-window ``E`` (``h = max(2,
    ceil(wlen/2))`` rows, cut into ``E_1`` (the first ``h - floor(h/2)`` rows) and ``E_2``
    (the last ``floor(h/2)``)): ``max(max_E2 f / max_E1 f, max_E2 (f/s) / max_E1 (f/s))``, the
    larger of the absolute and the relative (to ``||V_i||``) ratio; 0 when ``E_2`` lies at the
    floor ``fl`` (``max_E2 f <= fl``).  A tail that is flat or rising over ``h`` rows or more at
    the end of the run, at any level above the floor, gives ``>= 1`` in both senses."""
    h = max(2, -(-int(wlen) // 2))
    h = min(h, f.size)
    q = h // 2
    if q < 1:
        return math.inf
    ef, es = f[-h:], s[-h:]
    if float(ef[h - q:].max()) <= fl:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(es > 0, ef / np.where(es > 0, es, 1.0), np.where(ef > 0, np.inf, 0.0))

    def ratio(x):
        a, b = float(x[:h - q].max()), float(x[h - q:].max())
        return b / a if a > 0 else (0.0 if b == 0 else math.inf)
    return max(ratio(ef), ratio(r))


def _feasibility_series(f, s, rtol, decay, floor_mult, n_win, flat, layer=False):
    """The tail-window judgement of :func:`feasibility_to_zero` on one violation series ``f``
    against its scale ``s`` (both ``(K,)``).  Returns a dict: ``state`` (``"floor"``, ``"falling"``
    (PASS), ``"plateau"`` (FAIL), ``"flat below"``, ``"above"`` (INCONCLUSIVE)), ``final``
    (``f_T``), ``scale`` (``s_T``), ``relative``, ``tail`` (largest window ratio), ``m`` (window
    maxima), ``wlen``."""
    n = f.size
    m = _window_maxima(f, n_win) if n >= 2 * n_win else np.array([float(f[n // 2:].max())])
    wlen = max(2, (n - n // 2) // n_win)
    final, scale = float(f[-wlen:].max()), float(s[-wlen:].min())
    rel = final / scale if scale > 0 else (0.0 if final == 0 else math.inf)
    fl = floor_mult * _EPS * max(scale, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(m[:-1] > 0, m[1:] / np.where(m[:-1] > 0, m[:-1], 1.0),
                          np.where(m[1:] > 0, np.inf, 0.0))
    last = f[-wlen:]
    h1, h2 = float(last[: wlen // 2].max()), float(last[wlen // 2:].max())
    half = h2 / h1 if h1 > 0 else (0.0 if h2 == 0 else math.inf)  # the last window's own halves
    tail = float(max(ratios.max(), half ** 2)) if ratios.size else float("nan")
    # the last half-window must fall too (issue 19: a layer flat at 1e-9 ||V_i|| over the last
    # 30 of 300 rows passed the window maxima, which the earlier, higher rows of the last window
    # set): at the whole run's rate for "falling", at the slow rate of "receding" (a fall of
    # ``1 - flat`` per two windows) for it; never a ratio >= 1 (flat or rising)
    end = _end_fall(f, s, wlen, fl)
    falling = (ratios.size >= n_win - 1 and bool(np.all(ratios <= math.sqrt(decay)))
               and half <= decay ** 0.25 and end <= decay ** 0.125)
    # a plateau (FAIL): no net fall over the last half (the last window's maximum at least the
    # first window's: flat, rising or fluctuating).  A violation that falls, however slowly, is no
    # plateau: derived-condition runs whose output-layer violation fell 1-5 % over the last
    # quarter of 100 iterations fell 100x by iteration 4000 (Theorem 4(b) is a limit); they read
    # "above" (INCONCLUSIVE), never FAIL.
    plateau = bool(m.size >= 4 and m[-1] >= m[0])
    # not rising in any window and fallen over the last quarter (a layer whose violation falls
    # slower than the whole run's, under the tolerance)
    receding = (ratios.size >= n_win - 1 and bool(np.all(ratios <= 1.0)) and half <= 1.0
                and m.size >= 4 and m[-1] < flat * m[m.size // 2 - 1] and end <= flat ** 0.125)
    if final <= fl:
        state = "floor"
    elif plateau and rel > rtol:
        state = "plateau"
    elif not falling and rel <= rtol:
        state = "receding" if receding else "flat below"
    elif rel > rtol:
        state = "above"
    else:
        state = "falling"
    return {"state": state, "final": final, "scale": scale, "relative": rel, "tail": tail, "m": m,
            "wlen": wlen, "end": end}


def feasibility_to_zero(trace, rtol=1e-4, *, decay=0.7, floor_mult=FLOOR_MULT, min_len=16,
                        atol=None, n_win=4, flat=0.95):
    """Theorem 4(b) on a run: the constraint violation ``||F(W^k, V^k)||`` tends to 0.

    Judged layer by layer: ``f_i = ||F_i^k||`` against the size of what that constraint
    equates, ``s_i = ||V_i^k||`` (``sigma(W_i A) ~ V_i``; ``W_N V_{N-1} ~ V_N``), never against
    another layer, the first iterate or the peak: the rounding of ``F_i`` is relative to layer
    ``i``'s own terms, so a large ``||V_N||`` cannot set the floor of a hidden layer (issue 19:
    ``||V_N|| ~ 1e18`` hid hidden-layer plateaus).  Each series is judged on a tail window, never
    on one row: the last half of the run is cut into ``n_win`` equal windows with maxima
    ``m_1..m_n``; the last window ``T`` (at least 2 rows) has ``f_T = max_T f`` and ``s_T =
    min_T s`` (one row can neither lower ``f_T`` nor raise ``s_T``).  A series is

    * *at its floor* when ``f_T <= floor_mult eps s_T`` (the whole last window at the rounding
      floor of that layer's terms);
    * *falling* when ``f_T <= rtol s_T``, the maxima fall in every window, ``m_{j+1} <=
      sqrt(decay) m_j`` for ``j = 1..n_win-1``, within ``T`` the maximum of its second half
      is ``<= decay^(1/4)`` times that of its first half, and the run's last half-window ``E``
      (``h = max(2, ceil(|T|/2))`` rows: ``E_1`` its first ``h - floor(h/2)``, ``E_2`` its
      last ``floor(h/2)``) falls at the same rate: ``max_E2 g <= decay^(1/8) max_E1 g`` for
      both ``g = f`` and ``g = f/s``, unless ``max_E2 f <= floor_mult eps s_T``;
    * *receding* when ``f_T <= rtol s_T``, no window maximum rises (``m_{j+1} <= m_j``, the
      halves of ``T`` too), ``m_n < flat m_{n/2}`` (fallen over the last quarter) and ``E``
      falls at that slow rate: ``max_E2 g <= flat^(1/8) max_E1 g`` (both ``g``; or ``E_2`` at
      the floor);
    * on a *plateau* when ``f_T > rtol s_T`` and there is no net fall over the last half:
      ``m_n >= m_1`` (a violation that falls, however slowly, is "above": INCONCLUSIVE).

    PASS when every layer is at its floor, falling or receding, and the violation of the layers
    not at their floor taken together, ``sqrt(sum_i f_i^2)`` against ``sqrt(sum_i s_i^2)``, is
    falling; FAIL when a layer (or that sum) is on a plateau; INCONCLUSIVE otherwise (run too
    short, ``K < min_len``; still above ``rtol``; below ``rtol`` but not falling: a plateau
    proves no limit).

    *If FAIL then* some layer (or the layers not at their floor together) ends the run with a
    violation above ``rtol`` of its scale that did not decrease over the last half of the run
    (the maximum over its last window is at least that over the first), **and** Lemma 14 does
    not hold on the run with the constants :func:`sufficient_descent` finds (meta or
    a-posteriori): the run shows no approach to feasibility and nothing on its record implies
    one.  A plateau on a run whose every step descends sufficiently is INCONCLUSIVE, since
    Theorem 4(b) follows from Lemma 14 there (a finite run cannot refute a limit it implies).

    *If PASS then* for every layer ``i`` and every ``k`` in the last window ``T``:
    ``||F_i^k|| <= max(rtol, floor_mult eps) min_T ||V_i||``; for every layer not at its floor
    the windowed maxima of ``||F_i||`` never rose over the last half and fell over its last
    quarter, and their sum fell geometrically (by ``sqrt(decay)`` per window) over the whole
    last half; and for every layer ``i`` (and that sum) either ``||F_i^k|| <= floor_mult eps
    min_T ||V_i||`` for every ``k`` of ``E_2`` or ``max_E2 g < max_E1 g`` by the factor
    ``flat^(1/8) < 1`` for both ``g = ||F_i||`` and ``g = ||F_i|| / ||V_i||``.  Hence no
    stretch of ``h`` rows or more that ends the run is flat or rising (absolutely or relative
    to ``||V_i||``) in any layer at any level above its floor: no plateau of half a window or
    more ends the run in any layer (issue 19: a layer flat at ``1e-9 ||V_1||`` over the last
    30 of 300 rows had passed on window maxima set by the earlier rows of the last window).  The scales are validated (``verify.integrity``: hidden ``V_i = sigma(W_i A) -
    F_i`` bounds ``||V_i||`` by ``sup|sigma| sqrt(n d_i) + ||F_i||``; ``||V_N|| <= ||Y|| +
    ||Lam_N||``), so no scale is set by a row that contradicts the others.

    Returns ``final`` (``max_T ||F||``, all layers), ``scale`` (``min_T ||V||``), ``relative``
    (largest ``f_T / s_T`` over the layers), ``tail_decay`` (largest window ratio over the
    layers not at their floor), ``window_max`` (of ``||F||``), ``final_per_layer``,
    ``per_layer`` (each layer's state and figures).
    """
    tr = _as_trace(trace)
    n = _need(tr, ("feas", "normV"), "feasibility_to_zero", min_len=2)
    F = np.asarray(tr.feas[:n], float)
    Vn = np.asarray(tr.normV[:n], float)
    f = np.sqrt((F ** 2).sum(axis=1))
    sV = np.sqrt((Vn ** 2).sum(axis=1))
    n_win = int(n_win)
    if n_win < 2:
        raise ValueError(f"n_win: expected an integer >= 2, got {n_win!r}")
    layers = [_feasibility_series(F[:, i], Vn[:, i], rtol, decay, floor_mult, n_win, flat,
                                  layer=True) for i in range(F.shape[1])]
    states = [L["state"] for L in layers]
    # the whole violation over the layers not at their own floor must fall in every window
    mov = np.array([st_ != "floor" for st_ in states])
    # (never "at the floor" itself: each layer's floor is its own, and a large ||V_N|| must not
    # lend the sum a floor that the hidden layers' violations sit under)
    whole = _feasibility_series(np.sqrt((F[:, mov] ** 2).sum(axis=1)) if mov.any() else f,
                                np.sqrt((Vn[:, mov] ** 2).sum(axis=1)) if mov.any() else sV,
                                rtol, decay, 0.0, n_win, flat)
    if not mov.any():
        whole["state"] = "floor"
    if whole["state"] == "receding":          # the sum must fall in every window, not recede
        whole["state"] = "flat below"
    if whole["state"] in ("plateau", "flat below", "above"):   # judged as one more series
        layers.append({**whole, "name": "the layers not at their floor together"})
        states.append(whole["state"])
    wlen = whole["wlen"]
    rel = max(L["relative"] for L in layers)
    moving = [L["tail"] for L in layers if L["state"] != "floor" and math.isfinite(L["tail"])]
    tail = max(moving) if moving else float("nan")

    def first(state):
        i = states.index(state)
        return (layers[i].get("name") or f"layer {i + 1}"), layers[i]

    if n < min_len:
        verdict, reason = Verdict.INCONCLUSIVE, f"run too short: {n} iterations (need {min_len})"
    elif "plateau" in states:
        i, L = first("plateau")
        m = L["m"]
        verdict, reason = (Verdict.FAIL, f"plateau ({i}): max ||F|| over the last window = "
                           f"{L['final']:.3g} ({L['relative']:.3g} of ||V||) does not fall over "
                           f"the last quarter (window maxima {m[m.size // 2 - 1]:.3g} -> {m[-1]:.3g})")
        # Theorem 4(b) follows from Lemma 14 (the Lyapunov sum bounds sum_k ||Lam^k - Lam^(k-1)||^2
        # and so the output layer's violation): on a run whose every step descends sufficiently,
        # a plateau is the violation not yet following its steps down (derived-condition runs:
        # ||F_N|| rising 7e-6 -> 8e-6 while the steps fell by half), not evidence against the claim
        sd = sufficient_descent(tr)
        if sd.verdict is Verdict.PASS:
            verdict, reason = (Verdict.INCONCLUSIVE, f"{reason}; but Lemma 14 holds at every step "
                               f"of this run (constants: {(sd.get('source') or {}).get('a')}), from which "
                               "Theorem 4(b) follows: the run is too short to show the limit")
    elif "flat below" in states:
        i, L = first("flat below")
        verdict, reason = (Verdict.INCONCLUSIVE, f"below tolerance ({i}: {L['relative']:.3g} of "
                           f"||V||) but ||F|| is not falling in every window of the last half "
                           f"(largest window ratio {L['tail']:.3g}, limit {math.sqrt(decay):.3g}; "
                           f"over the last half-window {L['end']:.3g}, limit {decay ** 0.125:.3g}): "
                           "a plateau shows no limit")
    elif "above" in states:
        i, L = first("above")
        verdict, reason = (Verdict.INCONCLUSIVE, f"run too short ({i}): max ||F|| over the last "
                           f"window is still {L['relative']:.3g} of ||V|| > rtol = {rtol:g} "
                           f"(largest window ratio {L['tail']:.3g})")
    else:
        verdict, reason = Verdict.PASS, None
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    msg = (f"Constraint violation <= {whole['final']:.3g} (every layer <= {rel:.3g} x its min "
           f"||V_i||) over the last {wlen} iterations; every layer at its rounding floor or "
           f"falling in every window of the last half (largest ratio {tail:.3g})."
           if verdict is Verdict.PASS else f"feasibility_to_zero {verdict}: {reason}.")
    return CheckResult(name="feasibility_to_zero", verdict=verdict, reason=reason, message=msg,
                       final=whole["final"], scale=whole["scale"], relative=rel,
                       threshold=rtol * whole["scale"], tail_decay=tail, window_max=whole["m"],
                       final_per_layer=F[-1].copy(), flagged_layers=flagged,
                       per_layer=[{"state": L["state"], "final": L["final"], "scale": L["scale"],
                                   "relative": L["relative"], "tail": L["tail"]}
                                  for L in layers[:F.shape[1]]])
