"""Checks of the lifted-ReLU BCD's claims (Zhang and Brand 2017) on one recorded run.

The abstract claims (docs/methods/lifted_bcd.md, "Claims"): the BCD iterates decrease the
objective ``f`` monotonically, converge globally to a stationary point, at an R-linear rate
("of order one").  Each check reads a ``lifted_bcd`` :class:`solver.Trace` (made by
:class:`solver.lifted_bcd.LiftedBCD`) and returns a :class:`verify.CheckResult` with a
three-valued :class:`verify.Verdict`; nothing passes for lack of evidence.

=====================  ==============================================================
check                  finite-run statement
=====================  ==============================================================
monotone_decrease      ``f`` never rises above its rounding floor along the half-steps
                       ``f(U^{t-1},W^{t-1}) -> f(U^t,W^{t-1}) -> f(U^t,W^t)`` (and the start of
                       each iteration is the end of the previous one)
stationarity_to_zero   the stationarity residual at the last iterate is below ``rtol`` times
                       the run's largest (or at its rounding floor); a plateau is detected and
                       reported, and is never a PASS
r_linear_rate          the residual and the step lengths fall geometrically over the tail
                       (heuristic regime fit, :func:`verify.checks._regime`)
=====================  ==============================================================

With a summable ``theta_t`` (``1/t^2``, the default before issue 23, or geometric) the
iterates converge whatever happens, because ``sum_t theta_t ||U* - U||`` is finite:
convergence of the iterates says nothing, and the stationarity residual is the test.
:func:`stationarity_to_zero` tells **converged** (PASS: the residual at the last iterate is
at the threshold) from **frozen by the schedule** (FAIL: a plateau, and the rest of the
schedule, ``prod_{t > K} (1 - theta_t)`` (:func:`solver.lifted_bcd.theta_tail_product`),
cannot bring the residual to the threshold even in infinitely many iterations), and from a
plateau with steps left (INCONCLUSIVE, e.g. at the inner solver's accuracy).

:func:`doctored_traces` builds traces that contradict each claim (no check may pass them);
:func:`synthetic_run` a trace with every claim built in.
"""

from __future__ import annotations

import math

import numpy as np

from solver.lifted_bcd import LIFTED_BCD_SCHEMA  # registers the "lifted_bcd" schema for Trace.load
from solver.lifted_bcd import THETA_RULES, theta_schedule, theta_tail_product
from solver.trace import Trace

from .checks import (FLOOR_MULT, MIN_STEPS, CheckResult, Verdict, _as_trace, _iters_list, _need,
                     run_check_table, _regime)

__all__ = ["monotone_decrease", "stationarity_to_zero", "r_linear_rate", "LIFTED_BCD_CHECKS",
           "run_lifted_bcd_checks", "doctored_traces", "synthetic_run"]

_EPS = float(np.finfo(float).eps)
SCHEMA = "lifted_bcd"


def _bcd_trace(trace):
    # the schema first: an other method's trace is named as such, before its own identities
    tr = trace if getattr(getattr(trace, "schema", None), "name", SCHEMA) != SCHEMA else _as_trace(trace)
    if tr.schema.name != SCHEMA:
        raise ValueError(f"trace: expected a {SCHEMA!r} trace (solver.lifted_bcd.LiftedBCD), got a "
                         f"{tr.schema.name!r} trace")
    return tr


# ------------------------------------------------------------------ monotone decrease
def monotone_decrease(trace, *, floor_mult=FLOOR_MULT, min_steps=MIN_STEPS):
    """``f`` does not increase along the half-steps (Zhang and Brand's monotone decrease).

    The sequence ``f(U^0,W^0), f(U^1,W^0), f(U^1,W^1), f(U^2,W^1), ...`` is read from the
    fields ``objective_start``, ``objective_u`` and ``objective``; in addition
    ``objective_start`` at ``t`` must equal ``objective`` at ``t - 1`` (the record is one
    chain).  A change counts when it exceeds the rounding floor ``floor_mult * eps * f``
    (``f >= 0`` is a sum of squares, so its size is itself).  FAIL: a rise above the floor
    (or a break in the chain); INCONCLUSIVE: fewer than ``min_steps`` decreases above the
    floor; PASS otherwise.
    """
    tr = _bcd_trace(trace)
    n = _need(tr, ("objective_start", "objective_u", "objective"), "monotone_decrease", min_len=2)
    fs = np.asarray(tr.objective_start[:n], float)
    fu = np.asarray(tr.objective_u[:n], float)
    fw = np.asarray(tr.objective[:n], float)
    # interleave: start_1, u_1, w_1, [w_1 -> start_2 is continuity], u_2, w_2, ...
    steps = []                                   # (kind, f before, f after, t)
    for j in range(n):
        if j > 0:
            steps.append(("chain", fw[j - 1], fs[j], j + 1))
        steps.append(("U", fs[j], fu[j], j + 1))
        steps.append(("W", fu[j], fw[j], j + 1))
    kinds = np.asarray([s_[0] for s_ in steps])
    prev, nxt = np.asarray([s_[1] for s_ in steps]), np.asarray([s_[2] for s_ in steps])
    ts = np.asarray([s_[3] for s_ in steps])
    floor = floor_mult * _EPS * np.maximum(np.abs(prev), np.abs(nxt))
    drop = prev - nxt
    chain = kinds == "chain"
    rise = (drop < -floor) & ~chain
    broken = chain & (np.abs(drop) > floor)
    decided = (drop > floor) & ~chain
    nd = int(decided.sum())
    if rise.any() or broken.any():
        verdict = Verdict.FAIL
        parts = []
        if rise.any():
            i = int(np.flatnonzero(rise)[0])
            parts.append(f"f rises above its rounding floor at {int(rise.sum())} half-steps (first: the "
                         f"{kinds[i]}-step of t = {int(ts[i])}, by {-drop[i]:.3g} > floor {floor[i]:.3g})")
        if broken.any():
            i = int(np.flatnonzero(broken)[0])
            parts.append(f"the record is not one chain at {int(broken.sum())} iterations (first t = "
                         f"{int(ts[i])}: f at the start {nxt[i]:.17g} != f at the end of t-1 {prev[i]:.17g})")
        reason = "; ".join(parts)
    elif nd < min_steps:
        verdict = Verdict.INCONCLUSIVE
        reason = (f"below the rounding floor: only {nd} of {int((~chain).sum())} half-steps decrease f "
                  f"by more than the floor (need {min_steps})")
    else:
        verdict, reason = Verdict.PASS, None
    msg = (f"f is non-increasing along all {int((~chain).sum())} half-steps of {n} iterations "
           f"({nd} decreases above the rounding floor), from {fs[0]:.6g} to {fw[-1]:.6g}."
           if verdict is Verdict.PASS else reason + ".")
    worst = float(np.max(np.where(chain, -np.inf, -drop / np.maximum(floor, 1e-300))))
    return CheckResult(name="monotone_decrease", verdict=verdict, reason=reason, message=msg,
                       n_half_steps=int((~chain).sum()), n_decided=nd, n_rises=int(rise.sum()),
                       rises=[(int(t), str(k)) for t, k in zip(ts[rise][:50], kinds[rise][:50])],
                       chain_breaks=_iters_list(broken[chain], 2), worst_rise_over_floor=worst,
                       f_first=float(fs[0]), f_last=float(fw[-1]))


# ------------------------------------------------------------------ stationarity
def _moves(tr, n):
    mu = np.asarray(tr.move_U[:n], float)
    mw = np.asarray(tr.move_W[:n], float)
    return np.sqrt(np.nansum(mu ** 2, axis=1) + np.nansum(mw ** 2, axis=1))


def _plateau(r, floor, thr, tail, stall_ratio):
    """Plateau of the running minimum of ``r`` over the last ``tail`` fraction (>= 8 iterations).

    Returns ``(plateau, ratio, j0, level, t_from)``: ``ratio`` is the tail's running-minimum
    drop ``s_K / s_{j0}``, ``level`` the final running minimum, ``t_from`` the first ``t`` from
    which the running minimum stays within ``level / stall_ratio``.
    """
    n = r.size
    s = np.minimum.accumulate(r)
    w = max(8, int(math.ceil(tail * n)))
    j0 = max(0, n - w - 1)
    ratio = float(s[-1] / s[j0]) if s[j0] > 0 else 0.0
    level = float(s[-1])
    above = level > max(thr, float(floor[-1]))
    plateau = bool(above and ratio > stall_ratio)
    t_from = int(np.argmax(s <= level / stall_ratio)) + 1 if plateau else None
    return plateau, ratio, j0, level, t_from


def stationarity_to_zero(trace, *, rtol=1e-6, tail=0.25, stall_ratio=0.9, theta_small=1e-2, min_len=16,
                         floor_mult=FLOOR_MULT):
    """Convergence to a stationary point: the stationarity residual goes to zero.

    ``r_t`` = ``stationarity`` (projected gradient in ``U`` and gradient in ``W`` at
    ``(U^t, W^t)``; docs/methods/lifted_bcd.md, "Trace").  Finite-run criterion:

    * PASS: ``r_K <= max(rtol * max_t r_t, floor_K)`` with ``floor = floor_mult eps grad_size``
      (the last iterate is stationary to ``rtol`` relative, or to rounding);
    * plateau (never PASS): over the last ``tail`` of the run (>= 8 iterations) the running
      minimum fell by less than a factor ``stall_ratio`` while above that threshold;
      FAIL "frozen by the schedule" when the trace's schedule is known (``meta['theta']``,
      ``meta['theta_rate']``, matching the recorded ``theta``) and ``P r_K > threshold``
      with ``P = prod_{t > K} (1 - theta_t)``: if the BCD target stayed fixed, every step
      left in the whole infinite schedule would shrink the distance to it by the factor
      ``P`` only, so a residual proportional to that distance stays above the threshold
      (``frozen_by_schedule``, ``schedule_tail`` in the result).  Without a known schedule:
      FAIL when ``theta_K <= theta_small`` and the unrelaxed moves
      ``sqrt(sum ||U*-U||^2 + ||W*-W||^2)`` did not fall either (the relaxed steps vanish,
      so the iterates freeze at a point the BCD map still moves: not stationary).
      INCONCLUSIVE otherwise (reason: at the inner solver's accuracy, or slow progress with
      steps left);
    * INCONCLUSIVE: still falling but not yet below the threshold, a run shorter than
      ``min_len``, or ``track=False`` (the W part of the residual not recorded).
    """
    tr = _bcd_trace(trace)
    fields = ("stationarity", "grad_size", "theta", "move_U", "move_W", "inner_res", "inner_tol")
    n = _need(tr, ("stationarity", "grad_size", "theta"), "stationarity_to_zero", min_len=1)
    for f in fields:
        if getattr(tr, f, None) is None:
            raise ValueError(f"trace: stationarity_to_zero needs the field {f!r}, which this trace lacks")
    r = np.asarray(tr.stationarity[:n], float)
    floor = floor_mult * _EPS * np.asarray(tr.grad_size[:n], float)
    theta = np.asarray(tr.theta[:n], float)
    r_max = float(np.max(r))
    thr = max(rtol * r_max, float(floor[-1]))
    gw = getattr(tr, "grad_W", None)
    tracked = gw is not None and np.all(np.isfinite(np.asarray(gw[:n], float)))
    out = dict(name="stationarity_to_zero", r_first=float(r[0]), r_max=r_max, r_last=float(r[-1]),
               r_min=float(np.min(r)), threshold=thr, floor_last=float(floor[-1]), n_iter=n,
               plateau=False, plateau_level=None, plateau_from=None, tail_ratio=None,
               theta_last=float(theta[-1]))
    P = _schedule_tail(tr, theta)
    frozen = P is not None and P * r[-1] > thr    # acted on only on a plateau
    out.update(schedule_tail=P, frozen_by_schedule=bool(frozen))
    if not tracked:
        return CheckResult(verdict=Verdict.INCONCLUSIVE,
                           reason="the W part of the residual was not recorded (track=False)",
                           message="Cannot decide: the trace lacks grad_W (fit with track=True).", **out)
    if r[-1] <= thr:
        at_floor = r[-1] <= floor[-1]
        return CheckResult(verdict=Verdict.PASS, reason=None, message=(
            f"The stationarity residual fell from {r_max:.3g} to {r[-1]:.3g} at t = {n} "
            + ("(at its rounding floor)." if at_floor else f"(below rtol = {rtol:g} relative)."))
            , **out)
    if n < min_len:
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=f"run too short: {n} iterations (need {min_len})",
                           message=f"Run too short to decide ({n} < {min_len} iterations); r_K = {r[-1]:.3g}.",
                           **out)
    plateau, ratio, j0, level, t_from = _plateau(r, floor, thr, tail, stall_ratio)
    out.update(tail_ratio=ratio)
    mv = _moves(tr, n)
    inner_res = np.asarray(tr.inner_res[:n], float)
    inner_miss = int(np.sum(inner_res > np.asarray(tr.inner_tol[:n], float)))
    out.update(inner_not_converged=inner_miss, move_last=float(mv[-1]), step_last=float(theta[-1] * mv[-1]))
    if plateau:
        mv_ratio = float(np.min(mv[j0:]) / mv[j0]) if mv[j0] > 0 else 0.0
        out.update(plateau=True, plateau_level=level, plateau_from=t_from, move_tail_ratio=mv_ratio)
        where = (f"the stationarity residual plateaus at {level:.3g} ({level / r_max:.2g} of its largest) "
                 f"from t = {t_from} on (the last {n - j0 - 1} iterations lowered its minimum by a factor "
                 f"{ratio:.3g} only)")
        inner_level = float(np.max(inner_res[j0:]))
        if frozen:
            reason = (f"{where}: frozen by the schedule, not converged: the rest of the schedule "
                      f"{tr.meta['theta']!r} can shrink the distance to the BCD target by the factor "
                      f"prod_(t>{n}) (1 - theta_t) = {P:.3g} only, which leaves the residual near "
                      f"{P * r[-1]:.3g} > {thr:.3g} (the threshold) however long the run; the unrelaxed "
                      f"moves ||U*-U||, ||W*-W|| are {mv[-1]:.3g}; plain BCD (theta='constant') has no such cap")
            verdict = Verdict.FAIL
        elif P is None and theta[-1] <= theta_small and mv_ratio > stall_ratio:
            reason = (f"{where}, while theta_t fell to {theta[-1]:.3g}: the relaxed steps theta_t ||move|| "
                      f"vanish ({theta[-1] * mv[-1]:.3g}) but the unrelaxed moves ||U*-U||, ||W*-W|| stay at "
                      f"{mv[-1]:.3g}; with a summable theta the iterates converge to a point that the BCD "
                      f"map still moves, which is not stationary")
            verdict = Verdict.FAIL
        elif level <= 100.0 * inner_level or inner_miss > 0:
            reason = (f"{where}, at the inner solver's accuracy (largest inner residual {inner_level:.3g}; "
                      f"{inner_miss} U-steps missed their tolerance): tighten inner_tol / inner_max_iter")
            verdict = Verdict.INCONCLUSIVE
        else:
            reason = (f"{where}, with theta_t = {theta[-1]:.3g} not vanishing and the unrelaxed moves "
                      f"{'still falling' if mv_ratio <= stall_ratio else 'not falling'}: slow progress "
                      f"or a run too short; not a PASS")
            verdict = Verdict.INCONCLUSIVE
        return CheckResult(verdict=verdict, reason=reason, message=reason[0].upper() + reason[1:] + ".", **out)
    reason = (f"still falling: the residual is {r[-1]:.3g} ({r[-1] / r_max:.2g} of its largest; need "
              f"<= {thr:.3g}) and fell by a factor {ratio:.3g} over the last {n - j0 - 1} iterations")
    return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=reason, message=reason[0].upper() + reason[1:] + ".",
                       **out)


# ------------------------------------------------------------------ R-linear rate
def _schedule_tail(tr, theta):
    """``prod_{t > K} (1 - theta_t)`` of the trace's schedule, or ``None`` when ``meta`` does
    not name a rule whose values are the recorded ``theta`` (a doctored or foreign trace)."""
    rule, rate = tr.meta.get("theta"), tr.meta.get("theta_rate", 0.5)
    if rule not in THETA_RULES:
        return None
    try:
        want = np.array([theta_schedule(rule, t, rate) for t in range(1, theta.size + 1)])
    except (TypeError, ValueError):
        return None
    if not np.allclose(want, theta, rtol=1e-12, atol=0.0):
        return None
    return float(theta_tail_product(rule, theta.size, rate))


def r_linear_rate(trace, *, q_max=0.999, max_tail_drop=0.1, min_len=16, floor_mult=FLOOR_MULT, **plateau_kw):
    """R-linear convergence: ``r_t <= C q^t`` and ``||x^t - x^{t-1}|| <= C q^t`` with ``q < 1``.

    Finite-run criterion (heuristic, ``heuristic=True``): on the part of the run above the
    rounding floor, the regime of the running minimum of the stationarity residual and of
    the step lengths ``theta_t sqrt(sum ||U*-U||^2 + ||W*-W||^2)`` over the second half
    (:func:`verify.checks._regime`) is ``"geometric"`` with rate ``<= q_max`` and a drop of
    at least ``1/max_tail_drop`` over that half, or the residual reached the floor after a
    geometric stretch; the last ``max(8, m/4)`` iterations must keep at least half the fitted
    log-rate, and :func:`stationarity_to_zero` must not see a plateau.  FAIL when :func:`stationarity_to_zero` finds a plateau and FAILs (no
    convergence to a stationary point at any rate); INCONCLUSIVE otherwise (power law,
    irregular, stalled, too short), with the reason.
    """
    tr = _bcd_trace(trace)
    n = _need(tr, ("stationarity", "grad_size", "theta"), "r_linear_rate", min_len=1)
    st = stationarity_to_zero(tr, min_len=min_len, floor_mult=floor_mult, **plateau_kw)
    r = np.asarray(tr.stationarity[:n], float)
    floor = floor_mult * _EPS * np.asarray(tr.grad_size[:n], float)
    theta = np.asarray(tr.theta[:n], float)
    steps = theta * _moves(tr, n)
    base = dict(name="r_linear_rate", heuristic=True, stationarity_verdict=str(st.verdict))
    if st.failed:
        reason = f"no convergence to a stationary point: {st.reason}"
        return CheckResult(verdict=Verdict.FAIL, reason=reason, message=reason[0].upper() + reason[1:] + ".",
                           regime=None, rate=None, step_regime=None, step_rate=None, **base)
    hit = np.flatnonzero(r <= floor)
    m = int(hit[0]) if hit.size else n             # analyse the part above the floor
    k = np.arange(1, n + 1)
    if m < min_len:
        reason = (f"run too short above the rounding floor: {m} iterations before r reached it (need {min_len})"
                  if hit.size else f"run too short: {n} iterations (need {min_len})")
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=reason, message=reason[0].upper() + reason[1:] + ".",
                           regime=None, rate=None, step_regime=None, step_rate=None, **base)
    s = np.minimum.accumulate(r[:m])
    reg = _regime(s, k[:m], 0.0)                   # the floor is cut off above
    sp = steps[:m]
    if np.all(sp > 0):
        regs = _regime(np.minimum.accumulate(sp), k[:m], 0.0)
    else:
        regs = {"regime": "floor", "rate": float("nan"), "tail_drop": 0.0}
    base.update(regime=reg["regime"], rate=reg["rate"], tail_drop=reg["tail_drop"],
                step_regime=regs["regime"], step_rate=regs["rate"], n_fitted=m,
                reached_floor=bool(hit.size))
    geo_r = reg["regime"] == "geometric" and reg["rate"] <= q_max and reg["tail_drop"] <= max_tail_drop
    geo_s = regs["regime"] in ("geometric", "floor") and (regs["regime"] == "floor" or regs["rate"] <= q_max)
    # the last window keeps at least half the fitted log-rate (a late stall is not geometric)
    w = max(8, int(math.ceil(m / 4)))
    last = float(s[-1] / s[m - 1 - w]) if m - 1 - w >= 0 and s[m - 1 - w] > 0 else 0.0
    keeps = not hit.size and geo_r and last <= reg["rate"] ** (w / 2)
    keeps = keeps or bool(hit.size)
    base.update(last_window_ratio=last)
    if geo_r and geo_s and keeps and not st.get("plateau"):
        msg = (f"Geometric decay over the second half of {m} iterations: residual factor {reg['rate']:.4g} "
               f"per iteration (fell by {1 / reg['tail_drop']:.3g}), steps factor "
               f"{regs['rate']:.4g} (heuristic regime fit).")
        return CheckResult(verdict=Verdict.PASS, reason=None, message=msg, **base)
    why = []
    if not geo_r:
        why.append(f"the residual's regime is {reg['regime']!r} (rate {reg['rate']:.4g}, tail drop "
                   f"{reg['tail_drop']:.3g})")
    if not geo_s:
        why.append(f"the steps' regime is {regs['regime']!r} (rate {regs['rate']:.4g})")
    if geo_r and not keeps:
        why.append(f"the last {w} iterations lowered the residual by a factor {last:.3g} only, less than "
                   f"half the fitted rate gives ({reg['rate'] ** (w / 2):.3g})")
    if st.get("plateau"):
        why.append(f"stationarity plateaus ({st.reason})")
    reason = "no geometric decay established: " + "; ".join(why)
    return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=reason, message=reason[0].upper() + reason[1:] + ".",
                       **base)


LIFTED_BCD_CHECKS = {
    "monotone_decrease": monotone_decrease,
    "stationarity_to_zero": stationarity_to_zero,
    "r_linear_rate": r_linear_rate,
}


def run_lifted_bcd_checks(trace, checks=None, **options):
    """Run the lifted-BCD checks; returns ``{name: CheckResult}`` (``options``: per-check kwargs)."""
    return run_check_table(LIFTED_BCD_CHECKS, _bcd_trace(trace), checks, **options)


# ------------------------------------------------------------------ synthetic and doctored traces
def synthetic_run(K=200, q=0.93, n_layers=2, f_inf=1.0, seed=0):
    """A ``lifted_bcd`` trace with every claim built in: ``f`` falls geometrically to ``f_inf``
    (half of each drop in each half-step), the residual and the moves fall as ``q^t``
    (with +-10% noise), ``theta_t = 1``."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, K + 1)
    noise = 1 + 0.1 * rng.uniform(-1, 1, K)
    gap = q ** np.arange(0, K + 1)
    f = f_inf + gap
    tr = Trace.empty(n_layers, K, {"synthetic": True, "q": q}, schema=LIFTED_BCD_SCHEMA)
    L = n_layers
    for j in range(K):
        row = tr.new_row()
        row["objective_start"] = f[j]
        row["objective_u"] = f_inf + 0.5 * (gap[j] + gap[j + 1])
        row["objective"] = f[j + 1]
        row["loss"], row["coupling"], row["reg"] = f[j + 1] * 0.5, f[j + 1] * 0.3, f[j + 1] * 0.2
        row["theta"] = 1.0
        r = q ** t[j] * noise[j]
        row["stationarity"] = r
        row["natural_residual"] = r
        row["grad_size"] = 10.0
        row["inner_iter"], row["inner_grads"], row["inner_restarts"] = 20, 21, 1
        row["inner_res"], row["inner_res0"], row["inner_tol"] = 1e-9 * r, r, 1e-6 * r
        row["inner_L"], row["inner_mu"] = 10.0, 1.0
        mv = np.full(L, q ** t[j] * noise[j] / math.sqrt(2 * L))
        row["move_U"] = np.append(mv[:-1], np.nan)
        row["move_W"] = mv
        row["pg_U"] = np.append(np.full(L - 1, r / math.sqrt(2 * L - 1)), np.nan)
        row["comp_U"] = row["pg_U"]
        row["grad_W"] = np.full(L, r / math.sqrt(2 * L - 1))
        row["lift_gap"] = np.full(L, 0.1)
        row["relu_gap"] = np.append(np.full(L - 1, 0.01), np.nan)
        row["norm_U"] = np.append(np.ones(L - 1), np.nan)
        row["norm_W"] = np.ones(L)
        row["train_mse"], row["test_mse"], row["time"] = 0.1, np.nan, 0.01 * (j + 1)
        tr.set_row(j, row)
    return tr


def _copy(tr):
    return Trace.from_dict(tr.to_dict())


def doctored_traces(trace):
    """Doctored copies of a good ``lifted_bcd`` trace, each contradicting one claim.

    Returns ``{name: (trace, checks)}``: ``checks`` are the names of the checks that must not
    PASS on it.  ``rise_u``/``rise_w``: ``f`` rises in one U/W half-step; ``chain``: an
    iteration starts above where the previous one ended; ``plateau``: the residual freezes at
    a tenth of its largest from the middle on while ``theta -> 0`` and the moves stay
    (a summable run that stops short of stationarity); ``power_law``: the residual and the
    steps fall as ``1/t`` (convergent, not R-linear); ``plateau_theta1``: a plateau with
    ``theta = 1`` and moves that stay.
    """
    tr = _bcd_trace(trace)
    n = len(tr)
    if n < 20:
        raise ValueError(f"trace: doctored_traces needs at least 20 iterations, got {n}")
    out = {}
    j = n // 2
    a = _copy(tr)
    bump = 1e-3 * max(abs(a.objective_start[j]), 1.0)
    a.objective_u[j] = a.objective_start[j] + bump
    out["rise_u"] = (a, ("monotone_decrease",))
    a = _copy(tr)
    a.objective[j] = a.objective_u[j] + bump
    a.objective_start[j + 1] = a.objective[j]
    out["rise_w"] = (a, ("monotone_decrease",))
    a = _copy(tr)
    a.objective_start[j] = a.objective[j - 1] + bump
    out["chain"] = (a, ("monotone_decrease",))
    a = _copy(tr)
    r_max = float(np.max(a.stationarity))
    lvl = 0.1 * r_max
    a.stationarity[j:] = lvl * (1 + 1e-3 * np.cos(np.arange(n - j)))
    a.theta[:] = 1.0 / np.arange(1, n + 1) ** 2
    a.move_U[j:] = a.move_U[j]
    a.move_W[j:] = a.move_W[j]
    a.inner_res[:] = 1e-12 * r_max
    out["plateau"] = (a, ("stationarity_to_zero", "r_linear_rate"))
    a = _copy(tr)
    a.stationarity[:] = r_max / np.arange(1, n + 1)
    a.theta[:] = 1.0
    a.move_U[:] = (np.nan_to_num(a.move_U[0], nan=0.0)[None, :] / np.arange(1, n + 1)[:, None])
    a.move_U[:, -1] = np.nan
    a.move_W[:] = a.move_W[0][None, :] / np.arange(1, n + 1)[:, None]
    out["power_law"] = (a, ("stationarity_to_zero", "r_linear_rate"))
    a = _copy(tr)
    a.stationarity[j:] = lvl
    a.theta[:] = 1.0
    a.move_U[j:] = a.move_U[j]
    a.move_W[j:] = a.move_W[j]
    a.inner_res[:] = 1e-12 * r_max
    out["plateau_theta1"] = (a, ("stationarity_to_zero", "r_linear_rate"))
    return out
