"""Checks of dlADMM's convergence claim (Wang, Yu, Chen, Zhao, KDD 2019) on one recorded run.

The claim as recalled for the paper (docs/methods/dladmm.md, "The claim and what we could
confirm"): with ``rho`` large against the Lipschitz constant ``H`` of ``grad R``
(``rho > 2H``), the augmented Lagrangian descends sufficiently,
``L^{k-1} - L^k >= a P_k`` with ``P_k`` the sum of the squared half-steps of every block,
and hence ``min_{j <= k} P_j = o(1/k)``.  Our copy of the paper is its abstract only, so the
constant ``a`` is the one we derive ourselves from the update rules (docstring of
:func:`descent_constant`), and the hypotheses are the ones that derivation needs:

* ``rho > 2H`` (``H = 1`` squared loss, ``1/2`` softmax cross-entropy summed over samples);
* ``rho, nu, tau, theta`` unchanged between the two iterations compared (the adaptive rule
  changes the Lagrangian itself);
* an exact ``z_L`` step (squared loss, or ``zl_mode="exact"``; measured: ``zl_grad``), so
  that ``u^k = -grad R(z_L^k)`` and ``||u^k - u^{k-1}|| <= H ||z_L^k - z_L^{k-1}||``;
* the proximal hidden ``z`` step (``prox_z > 0``): the exact non-convex ReLU step of the
  authors' code decreases ``L`` but by no multiple of ``||dz||^2``.

A step where a hypothesis fails is *not applicable*; a run with fewer than ``min_steps``
applicable steps is INCONCLUSIVE with the reason "not applicable: ..." and a description of
what the run did (how often ``L`` rose, how much the hidden layers moved), never PASS.

=====================  ==============================================================
check                  finite-run statement
=====================  ==============================================================
sufficient_descent     ``L^{k-1} - L^k >= a P_k - floor_k`` at every applicable step
                       ``k >= start`` (``a`` derived or given)
step_sum_rate          the chain ``sum_{j<=k} P_j <= (L^{start-1} - L^k + sum floor)/a``
                       at every ``k`` (O(1/k) of the running minimum with this constant),
                       and the tail sums ``sum_{j=k/2}^{k} P_j`` fall over the run
                       (the o(1/k) part; heuristic)
=====================  ==============================================================
"""

from __future__ import annotations


import math

import numpy as np

from solver.trace import Trace

from .checks import (FLOOR_MULT, MIN_STEPS, CheckResult, Verdict, _as_trace, _iters_list, _need,
                     run_check_table)

__all__ = ["sufficient_descent", "step_sum_rate", "descent_constant", "applicability",
           "DLADMM_CHECKS", "run_dladmm_checks", "doctored_traces"]

_EPS = float(np.finfo(float).eps)
SCHEMA = "dladmm"
#: loss -> H (the Lipschitz constant of grad R), as solver.dladmm.LOSS_H (not imported: verify
#: must read saved traces without the solver's estimator module)
_H = {"squared": 1.0, "cross_entropy": 0.5}
_STEP_FIELDS = ("dW2_bwd", "dW2_fwd", "db2_bwd", "db2_fwd", "dz2_bwd", "dz2_fwd", "da2_bwd", "da2_fwd")


def _dl_trace(trace):
    # the schema first: an other method's trace is named as such, before its own identities
    tr = trace if getattr(getattr(trace, "schema", None), "name", SCHEMA) != SCHEMA else _as_trace(trace)
    if tr.schema.name != SCHEMA:
        raise ValueError(f"trace: expected a {SCHEMA!r} trace (solver.dladmm.DLADMM), got a "
                         f"{tr.schema.name!r} trace")
    return tr


def _H_of(tr):
    if "H" in tr.meta:
        return float(tr.meta["H"])
    loss = tr.meta.get("loss")
    if loss not in _H:
        raise ValueError("trace: meta has neither 'H' nor a known 'loss'; cannot tell rho > 2H")
    return _H[loss]


def _size(tr, n):
    return (np.abs(tr.loss[:n]) + np.abs(tr.dual[:n]) + np.abs(tr.penalty_out[:n])
            + np.abs(tr.penalty_hidden[:n]) + np.abs(tr.lagrangian[:n]))


# --------------------------------------------------------------------- constants
def descent_constant(trace):
    """Per-iteration descent constant ``a_k`` derived from the update rules (``nan`` where
    the derivation does not apply), for the comparison ``L^{k-1} -> L^k``.

    Each block step decreases ``L_rho`` with the others fixed: the W (a) step by
    ``t/2 ||dW||^2`` with its accepted ``t >= theta`` (``tau``): the quadratic upper bound the
    step constant satisfies; ``b_l`` by ``pen n/2 ||db||^2`` (exact minimiser of a quadratic
    with Hessian ``pen n I``, ``pen = nu`` or ``rho``); the proximal hidden z step by
    ``prox_z/2 ||dz||^2``; each ``z_L`` step by ``rho/2 ||dz_L||^2`` (``rho``-strongly convex
    subproblem solved exactly).  The dual step raises ``L`` by ``||du||^2 / rho`` and, with
    ``u^k = -grad R(z_L^k)`` (exact ``z_L``, from the second iteration on),
    ``||du||^2 <= H^2 ||z_L^k - z_L^{k-1}||^2 <= 2 H^2 (||dz_L^bwd||^2 + ||dz_L^fwd||^2)``.
    Hence ``a = min(theta/2, tau/2, nu n/2, rho n/2, prox_z/2, rho/2 - 2 H^2/rho)``, positive
    iff ``rho > 2H``.  (Our derivation, not the paper's text: docs/methods/dladmm.md.)
    """
    tr = _dl_trace(trace)
    n = len(tr)
    H = _H_of(tr)
    ns = float(tr.meta.get("n_samples", np.nan))
    prox = float(tr.meta.get("prox_z", 0.0) or 0.0)
    rho, nu = np.asarray(tr.rho[:n], float), np.asarray(tr.nu[:n], float)
    tau, theta = np.asarray(tr.tau[:n], float), np.asarray(tr.theta[:n], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = np.vstack([theta / 2, tau / 2, nu * ns / 2, rho * ns / 2, np.full(n, prox / 2),
                           rho / 2 - 2 * H * H / rho])
    a = parts.min(axis=0)
    return np.where(a > 0, a, np.nan)


def applicability(trace, *, start=2, exact_tol=1e-8):
    """Which steps ``k = start..n`` satisfy the derivation's hypotheses.

    Returns ``{"mask": bool array over k, "k": k values, "reasons": {hypothesis: [k...]},
    "summary": str}``.
    """
    tr = _dl_trace(trace)
    n = len(tr)
    H = _H_of(tr)
    ks = np.arange(start, n + 1)
    cur, prev = slice(start - 1, n), slice(start - 2, n - 1)
    rho = np.asarray(tr.rho[:n], float)
    hyper = np.vstack([np.asarray(getattr(tr, f)[:n], float) for f in ("rho", "nu", "tau", "theta")])
    reasons = {}
    bad_rho = ~(rho[cur] > 2 * H)
    reasons[f"rho <= 2H = {2 * H:g}"] = bad_rho
    reasons["rho, nu, tau or theta changed (adaptive rule)"] = np.any(hyper[:, cur] != hyper[:, prev], axis=0)
    loss, mode = tr.meta.get("loss"), tr.meta.get("zl_mode")
    zg = np.asarray(tr.zl_grad[:n], float)
    exact_setting = loss == "squared" or mode == "exact"
    inexact = ~(np.nan_to_num(np.maximum(zg[cur], zg[prev]), nan=np.inf) <= exact_tol) | (not exact_setting)
    reasons[f"z_L step not exact (zl_mode={mode!r}, relative gradient > {exact_tol:g})"] = inexact
    prox = float(tr.meta.get("prox_z", 0.0) or 0.0)
    reasons["no proximal term in the hidden z step (prox_z = 0)"] = np.full(ks.size, not prox > 0)
    mask = np.ones(ks.size, bool)
    for v in reasons.values():
        mask &= ~v
    hit = {r: _iters_list(v, start) for r, v in reasons.items() if v.any()}
    summary = ("; ".join(f"{r} at {int(np.sum(reasons[r]))} of {ks.size} steps" for r in hit)
               if hit else "every hypothesis holds at every step")
    return {"mask": mask, "k": ks, "reasons": hit, "summary": summary}


def _behaviour(tr, n, start, floor_mult):
    """What the run did (for the 'not applicable' message): rises of L, hidden-layer movement."""
    L = np.asarray(tr.lagrangian[:n], float)
    size = _size(tr, n)
    d = L[start - 1:] - L[start - 2:-1] if n >= start else np.zeros(0)
    floor = floor_mult * _EPS * np.maximum(size[start - 1:], size[start - 2:-1]) if n >= start else d
    rises = int(np.sum(d > floor))
    dW = np.asarray(tr.dW2_bwd[:n], float) + np.asarray(tr.dW2_fwd[:n], float)
    share = (float(np.median(dW[:, :-1].sum(axis=1) / np.maximum(dW.sum(axis=1), 1e-300)))
             if dW.shape[1] > 1 else float("nan"))
    return rises, int(d.size), share


# ----------------------------------------------------------------- sufficient descent
def sufficient_descent(trace, a=None, *, start=2, exact_tol=1e-8, floor_mult=FLOOR_MULT,
                       min_steps=MIN_STEPS):
    """``L^{k-1} - L^k >= a P_k`` at every applicable step (dlADMM's sufficient descent).

    ``P_k`` is ``step_sum`` (every squared half-step of iteration ``k``); ``a`` is given or
    :func:`descent_constant`.  ``floor_k = floor_mult * eps * size_k`` (the size of the
    Lagrangian's parts at ``k-1`` and ``k``).  A step is decided when ``a P_k > floor_k``.

    Verdicts: INCONCLUSIVE "not applicable: ..." when fewer than ``min_steps`` steps satisfy
    the hypotheses (:func:`applicability`; the message says what the run did); FAIL when an
    applicable step has ``drop < a P_k - floor_k``; INCONCLUSIVE when fewer than ``min_steps``
    applicable steps are decided; PASS otherwise.
    """
    tr = _dl_trace(trace)
    start = int(start)
    if start < 2:
        raise ValueError(f"start: expected an integer >= 2 (the dual bound holds from the second "
                         f"iteration on), got {start}")
    n = _need(tr, ("lagrangian", "loss", "dual", "penalty_out", "penalty_hidden", "step_sum",
                   "rho", "nu", "tau", "theta"), "sufficient_descent", min_len=start)
    app = applicability(tr, start=start, exact_tol=exact_tol)
    mask, ks = app["mask"], app["k"]
    L = np.asarray(tr.lagrangian[:n], float)
    P = np.asarray(tr.step_sum[:n], float)[start - 1:]
    size = _size(tr, n)
    floor = floor_mult * _EPS * np.maximum(size[start - 1:], size[start - 2:-1])
    drop = L[start - 2:-1] - L[start - 1:]
    if a is not None:
        if not (isinstance(a, (int, float)) and np.isfinite(a) and a > 0):
            raise ValueError(f"a: expected a positive finite number or None, got {a!r}")
        a_k, src = np.full(ks.size, float(a)), "given"
    else:
        a_k, src = descent_constant(tr)[start - 1:], "derived (docs/methods/dladmm.md)"
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(P > 0, drop / P, np.nan)
    common = dict(name="sufficient_descent", n_steps=int(ks.size), n_applicable=int(mask.sum()),
                  applicability=app["reasons"], a=a_k, source=src, margin=margin, heuristic=False)
    if mask.sum() < min_steps:
        rises, nsteps, share = _behaviour(tr, n, start, floor_mult)
        reason = f"not applicable: {app['summary']}"
        msg = (f"The claim's hypotheses do not hold on this run ({app['summary']}). What happened: "
               f"the Lagrangian rose above its rounding floor at {rises} of {nsteps} steps; the hidden "
               f"layers' share of the weight movement has median {share:.3g}.")
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=reason, message=msg, n_decided=0,
                           n_violations=None, violations=[], rises=rises, hidden_share=share, **common)
    am = np.where(mask, a_k, np.nan)
    decided = mask & (am * P > floor)
    viol = mask & (drop < am * P - floor)
    nd = int(decided.sum())
    if viol.any():
        k0 = int(ks[viol][0])
        i0 = int(np.flatnonzero(viol)[0])
        verdict = Verdict.FAIL
        reason = (f"L^(k-1) - L^k < a P_k at {int(viol.sum())} of {int(mask.sum())} applicable steps "
                  f"(first k = {k0}: drop {drop[i0]:.3g}, a P_k = {am[i0] * P[i0]:.3g})")
    elif nd < min_steps:
        verdict = Verdict.INCONCLUSIVE
        reason = (f"below the rounding floor: only {nd} applicable steps have a P_k above the floor "
                  f"(need {min_steps})")
    else:
        verdict, reason = Verdict.PASS, None
    mm = margin[decided]
    msg = (f"Sufficient descent holds at all {nd} decided applicable steps (a from {src}; measured "
           f"margin >= {float(np.min(mm)):.3g}, a <= {float(np.nanmax(am)):.3g})."
           if verdict is Verdict.PASS else f"{reason}.")
    if int(mask.sum()) < ks.size:
        msg += f" Not applicable at {ks.size - int(mask.sum())} steps: {app['summary']}."
    return CheckResult(verdict=verdict, reason=reason, message=msg, n_decided=nd,
                       n_violations=int(viol.sum()), violations=_iters_list(viol, start),
                       min_margin=float(np.min(mm)) if mm.size else float("nan"), **common)


# --------------------------------------------------------------------- o(1/k) rate
def step_sum_rate(trace, a=None, *, start=2, exact_tol=1e-8, decay=0.5, min_len=16,
                  floor_mult=FLOOR_MULT):
    """The running minimum ``m_k = min_{start<=j<=k} P_j`` is o(1/k) (dlADMM's rate claim).

    Two finite-run statements, on a run whose every step ``k >= start`` is applicable:
    (1) the chain ``(k - start + 1) m_k <= S_k = sum_{j=start}^k P_j <= (L^{start-1} - L^k
    + F_k)/a`` for every ``k`` (``F_k`` the summed rounding floors): the O(1/k) bound with the
    derived constant; a break is a FAIL.  (2) the o(1/k) part: the tail sums
    ``T_k = sum_{j=ceil(k/2)}^{k} P_j`` (an upper bound of ``(k/2) m_k``) fall: ``T_n <= decay *
    max_{k <= n/2} T_k`` over the steps above the rounding floor (heuristic: a finite run shows
    a trend, not a limit).  INCONCLUSIVE when not applicable, when fewer than ``min_len``
    steps lie above the floor, or when the tail sums do not fall enough.
    """
    tr = _dl_trace(trace)
    start = int(start)
    if start < 2:
        raise ValueError(f"start: expected an integer >= 2, got {start}")
    n = _need(tr, ("lagrangian", "loss", "dual", "penalty_out", "penalty_hidden", "step_sum",
                   "rho", "nu", "tau", "theta"), "step_sum_rate", min_len=start)
    app = applicability(tr, start=start, exact_tol=exact_tol)
    ks = app["k"]
    common = dict(name="step_sum_rate", n_steps=int(ks.size), applicability=app["reasons"], heuristic=True)
    if not app["mask"].all() or ks.size < 1:
        rises, nsteps, share = _behaviour(tr, n, start, floor_mult)
        return CheckResult(
            verdict=Verdict.INCONCLUSIVE, reason=f"not applicable: {app['summary']}",
            message=(f"The rate claim needs its hypotheses at every step ({app['summary']}). What "
                     f"happened: the Lagrangian rose above its rounding floor at {rises} of {nsteps} "
                     f"steps; hidden layers' median share of the weight movement {share:.3g}."),
            **common)
    L = np.asarray(tr.lagrangian[:n], float)
    P = np.asarray(tr.step_sum[:n], float)[start - 1:]
    size = _size(tr, n)
    floor = floor_mult * _EPS * np.maximum(size[start - 1:], size[start - 2:-1])
    a_v = float(a) if a is not None else float(np.nanmin(descent_constant(tr)[start - 1:]))
    S = np.cumsum(P)
    bound = (L[start - 2] - L[start - 1:] + np.cumsum(floor)) / a_v
    broken = S > bound * (1 + 1e-12)
    m = np.minimum.accumulate(P)
    km = np.arange(1, ks.size + 1) * m
    T = np.array([P[(i + 1) // 2:i + 1].sum() for i in range(ks.size)])
    # what the chain certifies for the running minimum at the end, beside the measured one: its
    # slack, and whether it is below P_start (m_k <= P_start holds for every run: a bound that
    # is not below it is true and uninformative)
    final_bound = float(bound[-1]) / ks.size
    final_slack = final_bound / float(m[-1]) if m[-1] > 0 else math.inf
    informative = bool(final_bound < float(P[0]))
    figures = dict(a=a_v, running_min=m, k_running_min=km, tail_sum=T, chain_slack=bound - S,
                   final_bound=final_bound, final_slack=final_slack, informative=informative)
    note = (f" Certified min P_j <= {final_bound:.3g}, measured {float(m[-1]):.3g}: slack factor "
            f"{final_slack:.3g}" + (f" (informative: below P_{start} = {float(P[0]):.3g})." if informative
                                   else f"; holds but uninformative: not below P_{start} = "
                                        f"{float(P[0]):.3g}, where the run started."))
    if broken.any():
        k0 = int(ks[broken][0])
        reason = (f"the chain sum P_j <= (L^{start - 1} - L^k)/a breaks at {int(broken.sum())} steps "
                  f"(first k = {k0}): the O(1/k) bound with a = {a_v:.3g} does not hold")
        return CheckResult(verdict=Verdict.FAIL, reason=reason, message=reason + ".", **common, **figures)
    above = P > floor / a_v
    n_above = int(above.sum())
    if n_above < min_len:
        reason = (f"below the rounding floor or too short: {n_above} steps with P_k above the floor "
                  f"(need {min_len})")
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=reason, message=reason + ".",
                           **common, **figures)
    last = int(np.flatnonzero(above)[-1])
    Tn, Tmax = float(T[last]), float(np.max(T[:max(1, (last + 1) // 2)]))
    if Tn <= decay * Tmax:
        return CheckResult(verdict=Verdict.PASS, reason=None, **common, **figures,
                           message=(f"The chain holds at every k (O(1/k) with a = {a_v:.3g}) and the "
                                    f"tail sums fell from {Tmax:.3g} to {Tn:.3g} (o(1/k), heuristic)."
                                    + note))
    reason = (f"the tail sums did not fall enough: {Tn:.3g} at k = {int(ks[last])} against "
              f"{Tmax:.3g} in the first half (need a factor {decay:g})")
    return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=reason, message=reason + "." + note,
                       **common, **figures)


DLADMM_CHECKS = {
    "sufficient_descent": sufficient_descent,
    "step_sum_rate": step_sum_rate,
}


def run_dladmm_checks(trace, checks=None, **options):
    """Run the dlADMM checks; returns ``{name: CheckResult}`` (``options``: per-check kwargs)."""
    return run_check_table(DLADMM_CHECKS, _dl_trace(trace), checks, **options)


# -------------------------------------------------------------------- doctored traces
def _copy(tr):
    return Trace.from_dict(tr.to_dict())


def doctored_traces(trace):
    """Doctored copies of a good ``dladmm`` trace (one on which both checks PASS).

    Returns ``{name: (trace, checks)}``, ``checks`` the checks that must not PASS on it:
    ``rise`` (L rises at one step), ``shallow`` (one drop is a tenth of ``a P_k``; neither
    contradicts the rate, whose chain may keep its slack),
    ``steps_stall`` (the step sums stop falling from the middle on: the chain breaks),
    ``small_rho`` (``rho`` set to ``H``: not applicable), ``inexact_zl`` (the ``z_L`` step
    reported inexact: not applicable), ``no_prox`` (``prox_z = 0`` in the settings).
    """
    tr = _dl_trace(trace)
    n = len(tr)
    if n < 20:
        raise ValueError(f"trace: doctored_traces needs at least 20 iterations, got {n}")
    out = {}
    j = n // 2
    a_k = descent_constant(tr)
    t = _copy(tr)
    t.lagrangian[j:] = t.lagrangian[j:] + (t.lagrangian[j - 1] - t.lagrangian[j]) + 1e-3 * max(
        1.0, abs(float(t.lagrangian[j])))
    out["rise"] = (t, ("sufficient_descent",))
    t = _copy(tr)
    drop = 0.1 * a_k[j] * t.step_sum[j]
    t.lagrangian[j:] = t.lagrangian[j:] + (t.lagrangian[j - 1] - t.lagrangian[j] - drop)
    out["shallow"] = (t, ("sufficient_descent",))
    t = _copy(tr)
    t.step_sum[j:] = t.step_sum[j] * 1e3
    out["steps_stall"] = (t, ("sufficient_descent", "step_sum_rate"))
    t = _copy(tr)
    t.rho[:] = _H_of(tr)
    out["small_rho"] = (t, ("sufficient_descent", "step_sum_rate"))
    t = _copy(tr)
    t.zl_grad[:] = 1e-3
    out["inexact_zl"] = (t, ("sufficient_descent", "step_sum_rate"))
    t = _copy(tr)
    t.meta["prox_z"] = 0.0
    out["no_prox"] = (t, ("sufficient_descent", "step_sum_rate"))
    return out
