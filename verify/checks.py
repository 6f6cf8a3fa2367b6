"""Checks of the convergence claims of Theorem 4 / 7 on one recorded run.

Each check reads a :class:`solver.Trace` (only the fields it needs; see
``solver/trace.py`` for their meaning), and returns a :class:`CheckResult`: a
dict with attribute access in the style of ``scipy.optimize.OptimizeResult``,
holding ``name``, ``passed``, the measured figures and ``message`` (one plain
sentence).  Nothing here trains; :func:`assert_converges` trains only when it
is given an unfitted estimator.

Which claim each check measures (MATH.md section 2, "The convergence claims"):

=========================  ====================================================
check                      statement on the run
=========================  ====================================================
sufficient_descent         Lemma 14: ``Lhat^k = L_beta^k + xi sum_i ||V_i^k - V_i^{k-1}||^2``
                           is non-increasing, for the smallest common ``xi >= 0``
bounded_iterates           Lemma 19: ``||W_i^k||, ||V_i^k||, ||Lam_i^k||`` stay bounded
dual_bounded_by_primal     Lemma 18: dual steps <= C * primal steps (this and the
                           previous iteration)
feasibility_to_zero        Theorem 4(b): ``||F_i(W^k, V^k)|| -> 0``
kkt_rate                   Theorem 4(c): ``k * min_{j<=k} r_j`` bounded
=========================  ====================================================

A finite run cannot prove a limit; every check states the finite-sample
criterion it uses in its docstring and reports the figure it was decided on,
so a user can apply a stricter one.
"""

from __future__ import annotations

import enum
import math
from typing import Iterable

import numpy as np
from scipy.optimize import OptimizeResult

__all__ = [
    "Verdict",
    "CheckResult",
    "sufficient_descent",
    "bounded_iterates",
    "dual_bounded_by_primal",
    "feasibility_to_zero",
    "kkt_rate",
    "relative_error",
    "rate_certificate",
    "run_checks",
    "assert_converges",
    "ConvergenceError",
    "CHECKS",
]


class ConvergenceError(AssertionError):
    """Raised by :func:`assert_converges`; ``.results`` holds every check's result."""

    def __init__(self, message, results):
        super().__init__(message)
        self.results = results


class Verdict(enum.StrEnum):
    """The outcome of one check.

    ``PASS``: the run shows the claim with the stated finite-run criterion.  ``FAIL``: the
    run contradicts it.  ``INCONCLUSIVE``: the run cannot decide it (too short, below the
    rounding floor, constants unknown, a block that float64 cannot resolve); ``reason``
    says which.  Nothing passes for lack of evidence.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"

    @classmethod
    def of(cls, ok: bool) -> "Verdict":
        return cls.PASS if ok else cls.FAIL


_META_KEYS = ("name", "verdict", "reason", "message", "heuristic")


class CheckResult(OptimizeResult):
    """Outcome of one check (a ``scipy.optimize.OptimizeResult``: a dict with attribute access).

    Keys (also attributes): ``name``, ``verdict`` (:class:`Verdict`), ``reason`` (why the
    verdict is FAIL or INCONCLUSIVE; ``None`` on PASS), ``message`` (one sentence) and
    check-specific figures.  ``passed`` is a read-only property, ``verdict == PASS``.  A
    misspelt key raises ``AttributeError``; ``bool(result)`` raises ``TypeError`` on purpose
    so that ``assert result`` cannot pass by accident (use ``result.passed`` or
    ``result.verdict``).
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if "passed" in self:
            raise TypeError("CheckResult: 'passed' is derived from 'verdict'; give verdict=")
        v = self.get("verdict")
        if not isinstance(v, Verdict):
            try:
                dict.__setitem__(self, "verdict", Verdict(v))
            except ValueError:
                raise ValueError(f"verdict: expected one of {[x.value for x in Verdict]}, "
                                 f"got {v!r}") from None
        self.setdefault("reason", None)

    @property
    def passed(self) -> bool:
        """``verdict == PASS`` (read-only)."""
        return self["verdict"] is Verdict.PASS

    @property
    def inconclusive(self) -> bool:
        return self["verdict"] is Verdict.INCONCLUSIVE

    @property
    def failed(self) -> bool:
        return self["verdict"] is Verdict.FAIL

    def __setattr__(self, name, value):
        if name in ("passed", "inconclusive", "failed"):
            raise AttributeError(f"CheckResult.{name} is read-only (derived from verdict)")
        self[name] = value

    def __setitem__(self, key, value):
        if key in ("passed", "inconclusive", "failed"):
            raise KeyError(f"CheckResult: {key!r} is derived from 'verdict'")
        if key == "verdict":
            value = Verdict(value)
        dict.__setitem__(self, key, value)

    def __bool__(self):
        raise TypeError("CheckResult: use `.passed` or `.verdict` (truth value is ambiguous "
                        "on purpose)")

    def __repr__(self):
        keys = [k for k in self if k not in _META_KEYS]
        body = ", ".join(f"{k}={_short(self[k])}" for k in keys)
        return (f"CheckResult({self.get('name')!r}, verdict={str(self.get('verdict'))}"
                + (f", reason={self.get('reason')!r}" if self.get("reason") else "")
                + (f", {body}" if body else "") + ")")

    def figures(self) -> dict:
        """Scalar figures only (for tables)."""
        return {k: v for k, v in self.items()
                if k not in _META_KEYS and np.ndim(v) == 0 and v is not None}


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array(shape={v.shape})"
    if isinstance(v, float):
        return f"{v:.4g}"
    return repr(v)


# --------------------------------------------------------------------- input
def _as_trace(obj, argname="trace"):
    """Accept a Trace, a fitted estimator with ``trace_``, or a path to a saved trace."""
    from solver.trace import Trace

    if isinstance(obj, Trace):
        return obj
    tr = getattr(obj, "trace_", None)
    if isinstance(tr, Trace):
        return tr
    if isinstance(obj, (str, bytes)) or hasattr(obj, "__fspath__"):
        return Trace.load(obj)
    raise ValueError(
        f"{argname}: expected a solver.Trace, a fitted solver.ADMM (with trace_) or a path "
        f"to a saved .npz trace, got {type(obj).__name__}"
    )


def _need(trace, fields: Iterable[str], check: str, min_len: int = 1) -> int:
    """Validate presence, length and finiteness of the fields a check reads."""
    n = len(trace)
    if n == 0:
        raise ValueError(f"trace: {check} needs at least {min_len} recorded iterations, "
                         "got an empty trace")
    missing = [f for f in fields if getattr(trace, f, None) is None]
    if missing:
        raise ValueError(f"trace: {check} needs the fields {missing}, which this trace lacks")
    if n < min_len:
        raise ValueError(f"trace: {check} needs at least {min_len} recorded iterations, got {n}")
    for f in fields:
        a = np.asarray(getattr(trace, f))[:n]
        if a.shape[0] < n:
            raise ValueError(f"trace: field {f!r} has {a.shape[0]} rows, expected {n}")
        bad = ~np.isfinite(a)
        if bad.any():
            k = int(np.argwhere(bad)[0][0]) + 1
            raise ValueError(
                f"trace: field {f!r} is not finite (first at iteration k={k}); {check} "
                "cannot be decided on a non-finite run (the solver stops at the last finite "
                "iterate: truncate the trace there)"
            )
    return n


def _tail_slope(k, y):
    """Least-squares slope of log y on log k with its standard error."""
    x = np.log(np.asarray(k, float))
    z = np.log(np.asarray(y, float))
    if len(x) < 3 or np.ptp(x) == 0:
        return float("nan"), float("nan")
    A = np.vstack([x, np.ones_like(x)]).T
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    resid = z - A @ coef
    dof = len(x) - 2
    s2 = float(resid @ resid) / dof if dof > 0 else float("nan")
    sxx = float(((x - x.mean()) ** 2).sum())
    return float(coef[0]), float(math.sqrt(s2 / sxx)) if sxx > 0 else float("nan")


def _iters_list(mask, offset=1, limit=50):
    idx = np.flatnonzero(mask) + offset
    return [int(i) for i in idx[:limit]]


# ------------------------------------------------------------ Lemma 14
def sufficient_descent(trace, xi=None, rtol=1e-9, atol=0.0, start=2, eps_step=1e-14):
    """Lemma 14 on a run: smallest common ``xi >= 0`` making ``Lhat^k`` non-increasing.

    ``Lhat^k = L_beta^k + xi * D^k`` with ``D^k = sum_i ||V_i^k - V_i^{k-1}||^2``
    (paper eq. 29).  For every ``k >= start`` the requirement
    ``Lhat^k - Lhat^{k-1} <= tol_k`` is linear in ``xi``:
    ``dL_k + xi dD_k <= tol_k``, so the feasible set is an interval
    ``[xi_lo, xi_hi]`` computed in closed form; ``xi = max(0, xi_lo)`` when it
    is non-empty.  ``tol_k = rtol * s_k + atol`` with ``s_k`` the magnitude of
    the Lagrangian's parts (``|loss| + |reg| + |dual| + |penalty|``) at ``k``
    and ``k-1``: the rounding level of the recorded values.

    ``start = 2``: the first comparison is ``Lhat^2`` vs ``Lhat^1``.  The proof's
    descent starts there because the identity ``Lam_N^k = V_N^k - Y`` behind
    Lemma 18 (paper Lemma 8) holds only from ``k = 1`` on (``Lam^0 = 0``).

    Parameters
    ----------
    trace : Trace or fitted ADMM
    xi : float, sequence or None
        ``None``: find the smallest feasible common ``xi``.  A number: check with that
        ``xi`` on every layer.  A sequence of one value per layer: check the Lyapunov
        function with those weights ``xi_i`` (the depth-2 derivation's ``Conditions.xi``).
    rtol, atol : float
        Floating-point tolerance (see above).

    Returns
    -------
    CheckResult with ``passed``, ``xi`` (the xi used; ``None`` if no xi works),
    ``xi_interval``, ``violations`` (iterations k where ``Lhat`` rises),
    ``max_rise``, ``margin`` (array: ``(Lhat^{k-1} - Lhat^k) /
    sum_i (||dW_i^k||^2 + ||dV_i^k||^2)``, the descent constant of Lemma 14 as
    measured), ``min_margin`` and ``median_margin`` (over steps whose primal
    step exceeds ``eps_step`` times the largest one).
    """
    tr = _as_trace(trace)
    fields = ("lagrangian", "dV2", "dW2", "loss", "reg", "dual", "penalty")
    n = _need(tr, fields, "sufficient_descent", min_len=start)
    start = int(start)
    if start < 2:
        raise ValueError(f"start: expected an integer >= 2 (first k compared with k-1), got {start}")
    L = np.asarray(tr.lagrangian[:n], float)
    dV = np.asarray(tr.dV2[:n], float)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + dV.sum(axis=1)
    xi_vec = None
    if xi is not None and np.ndim(xi) > 0:
        xi_vec = np.asarray(xi, float).reshape(-1)
        if xi_vec.shape[0] != dV.shape[1] or not np.all(np.isfinite(xi_vec)) or np.any(xi_vec < 0):
            raise ValueError(f"xi: expected a number >= 0 or {dV.shape[1]} finite values >= 0 "
                             f"(one per layer), got {xi!r}")
        D = dV @ (xi_vec / max(float(xi_vec.max()), 1e-300))
        xi = float(xi_vec.max())
    else:
        D = dV.sum(axis=1)
    scale = (np.abs(tr.loss[:n]) + np.abs(tr.reg[:n]) + np.abs(tr.dual[:n]) + np.abs(tr.penalty[:n]))
    scale = np.maximum(scale, np.abs(L))
    sl = slice(start - 1, n)
    dL = L[sl] - L[start - 2:n - 1]
    dD = D[sl] - D[start - 2:n - 1]
    tol = rtol * np.maximum(scale[sl], scale[start - 2:n - 1]) + atol

    lo, hi = 0.0, math.inf
    neg, pos, zero = dD < 0, dD > 0, dD == 0
    if neg.any():
        lo = max(lo, float(np.max((dL[neg] - tol[neg]) / (-dD[neg]))))
    if pos.any():
        hi = min(hi, float(np.min((tol[pos] - dL[pos]) / dD[pos])))
    zero_ok = bool(np.all(dL[zero] <= tol[zero]))
    feasible = zero_ok and lo <= hi

    if xi is None:
        xi_used = lo if feasible else _least_violating_xi(dL, dD, tol, lo)
    else:
        xi_used = float(xi)
        if not math.isfinite(xi_used) or xi_used < 0:
            raise ValueError(f"xi: expected a finite number >= 0 or None, got {xi!r}")
    rise = dL + xi_used * dD
    # slack for the rounding of rise itself (xi_lo is computed from the same numbers)
    viol = rise > tol + 4 * np.finfo(float).eps * (np.abs(dL) + xi_used * np.abs(dD))
    Lhat = L + xi_used * D
    drop = Lhat[start - 2:n - 1] - Lhat[sl]
    Pk = P[sl]
    big = Pk > eps_step * max(float(Pk.max(initial=0.0)), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(Pk > 0, drop / Pk, np.nan)
    mm = margin[big]
    passed = bool(not viol.any()) and (xi is not None or feasible)
    n_cmp = int(dL.size)
    if passed:
        msg = (f"Lhat is non-increasing over all {n_cmp} steps with xi = {xi_used:.3g}; "
               f"descent per unit primal step >= {np.min(mm) if mm.size else float('nan'):.3g}.")
    elif xi is None:
        msg = (f"No xi >= 0 makes Lhat non-increasing: with the least-violating xi = "
               f"{xi_used:.3g} it rises at {int(viol.sum())} of {n_cmp} steps "
               f"(first k = {_iters_list(viol, start)[:1]}).")
    else:
        msg = (f"With xi = {xi_used:.3g}, Lhat rises at {int(viol.sum())} of {n_cmp} steps "
               f"(first k = {_iters_list(viol, start)[:1]}, largest rise {float(rise.max()):.3g}).")
    return CheckResult(
        name="sufficient_descent", verdict=Verdict.of(passed), message=msg,
        xi=(xi_vec.tolist() if xi_vec is not None else
            xi_used if (feasible or xi is not None) else None),
        xi_interval=(lo, hi) if feasible else None,
        n_steps=n_cmp, n_violations=int(viol.sum()),
        violations=_iters_list(viol, start),
        max_rise=float(np.max(rise - tol)) if n_cmp else float("nan"),
        margin=margin,
        min_margin=float(np.min(mm)) if mm.size else float("nan"),
        median_margin=float(np.median(mm)) if mm.size else float("nan"),
    )


def _least_violating_xi(dL, dD, tol, lo):
    """When no xi works: the candidate breakpoint with fewest violations (then smallest xi)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cands = np.concatenate([[0.0, max(lo, 0.0)], (tol - dL)[dD != 0] / dD[dD != 0]])
    cands = np.unique(cands[np.isfinite(cands) & (cands >= 0)])
    if cands.size > 2000:
        cands = np.quantile(cands, np.linspace(0, 1, 2000))
    best, best_v = 0.0, None
    for c in cands:
        v = int(np.count_nonzero(dL + c * dD > tol))
        if best_v is None or v < best_v:
            best, best_v = float(c), v
    return best


# ------------------------------------------------------------ Lemma 19
def bounded_iterates(trace, bound=None, growth_tol=0.5, head=0.5):
    """Lemma 19 on a run: the iterates' norms stay bounded.

    Criterion (finite run): for every layer and each of ``normW``, ``normV``,
    ``normLam``, the largest value in the last ``1 - head`` of the run is at
    most ``(1 + growth_tol)`` times the largest value in the first ``head``
    of it (a bounded sequence cannot keep growing), and, when ``bound`` is
    given (a number, or a dict ``{"W": .., "V": .., "Lam": ..}``), every value
    is at most that bound (for instance the a-priori bound of
    :func:`verify.conditions.iterate_bounds`).

    Returns ``sup`` (dict of per-layer maxima), ``growth`` (largest tail/head
    ratio), ``worst`` (the field and layer where it occurred), ``slope``
    (log-log slope of the worst norm over the tail).
    """
    tr = _as_trace(trace)
    fields = ("normW", "normV", "normLam")
    n = _need(tr, fields, "bounded_iterates", min_len=4)
    if not (0 < head < 1):
        raise ValueError(f"head: expected a fraction in (0, 1), got {head!r}")
    h = max(1, int(round(head * n)))
    sup, growth, worst, exceed = {}, 0.0, None, []
    bounds = _bound_dict(bound)
    for f, key in zip(fields, ("W", "V", "Lam")):
        a = np.asarray(getattr(tr, f)[:n], float)
        sup[key] = a.max(axis=0)
        for i in range(a.shape[1]):
            hm, tm = float(a[:h, i].max()), float(a[h:, i].max())
            g = tm / hm if hm > 0 else (math.inf if tm > 0 else 1.0)
            if g > growth or worst is None:
                growth, worst = g, (f, i + 1)
            if bounds.get(key) is not None and float(a[:, i].max()) > bounds[key]:
                exceed.append(f"{f}[layer {i + 1}] = {float(a[:, i].max()):.3g} > {bounds[key]:.3g}")
    wf, wi = worst
    col = np.asarray(getattr(tr, wf)[:n, wi - 1], float)
    kk = np.arange(h + 1, n + 1)
    pos = col[h:] > 0
    slope, se = _tail_slope(kk[pos], col[h:][pos]) if pos.sum() >= 3 else (float("nan"),) * 2
    passed = growth <= 1 + growth_tol and not exceed
    if passed:
        msg = (f"Iterate norms stay bounded: the largest tail/head growth is {growth:.3g} "
               f"({wf}, layer {wi}) and sup ||W||, ||V||, ||Lam|| = "
               f"{sup['W'].max():.3g}, {sup['V'].max():.3g}, {sup['Lam'].max():.3g}.")
    elif exceed:
        msg = f"Iterates exceed the given bound: {exceed[0]}."
    else:
        msg = (f"Iterate norms keep growing: {wf} of layer {wi} is {growth:.3g}x larger in the "
               f"tail than in the head (log-log slope {slope:.3g}).")
    return CheckResult(name="bounded_iterates", verdict=Verdict.of(bool(passed)), message=msg, sup=sup,
                       growth=float(growth), worst=f"{wf}[layer {wi}]", slope=slope,
                       exceeded=exceed)


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


# ------------------------------------------------------------ Lemma 18
def dual_bounded_by_primal(trace, bound=None, growth_tol=1.0, head=0.5, floor=1e-24):
    """Lemma 18 on a run: dual steps bounded by primal steps.

    ``ratio_k = sum_i ||Lam_i^k - Lam_i^{k-1}||^2 / beta_i
    / (P^k + P^{k-1})`` with ``P^k = sum_i (||dW_i^k||^2 + ||dV_i^k||^2)``
    (Lemma 18 bounds the dual step by primal steps of this and the previous
    iteration).  Steps where both numerator and denominator are below
    ``floor`` (rounding noise after convergence) are skipped.

    Criterion: every ratio is finite, and the largest ratio in the tail (last
    ``1 - head``) is at most ``(1 + growth_tol)`` times the largest in the head
    (a bounded ratio cannot keep growing); when ``bound`` is given, every ratio
    is at most ``bound`` (the constant a derivation provides).

    Returns ``ratio`` (array, nan where skipped), ``sup_ratio``, ``tail_sup``,
    ``head_sup``, ``growth``.
    """
    tr = _as_trace(trace)
    n = _need(tr, ("dLam2", "dW2", "dV2"), "dual_bounded_by_primal", min_len=4)
    dual = np.asarray(tr.dLam2[:n], float).sum(axis=1)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + np.asarray(tr.dV2[:n], float).sum(axis=1)
    Pprev = np.concatenate([[0.0], P[:-1]])
    den = P + Pprev
    # row 0 (k = 1) compares with the initial point, where Lam^0 = 0 breaks Lemma 8; skip it
    valid = (np.arange(n) >= 1) & ~((dual <= floor) & (den <= floor))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, dual / den, np.nan)
    v = ratio[valid]
    if v.size < 2:
        raise ValueError("trace: dual_bounded_by_primal needs at least 2 steps above the "
                         f"rounding floor {floor:g}, got {v.size}")
    h = max(1, int(round(head * n)))
    hv, tv = ratio[:h][valid[:h]], ratio[h:][valid[h:]]
    head_sup = float(np.max(hv)) if hv.size else float(np.max(v))
    tail_sup = float(np.max(tv)) if tv.size else head_sup
    growth = tail_sup / head_sup if head_sup > 0 else (math.inf if tail_sup > 0 else 1.0)
    finite = bool(np.all(np.isfinite(v)))
    passed = finite and growth <= 1 + growth_tol and (bound is None or float(np.max(v)) <= bound)
    sup = float(np.max(v))
    if passed:
        msg = (f"Dual steps stay within {sup:.3g} times the primal steps of the current and "
               f"previous iteration (tail/head growth {growth:.3g}).")
    elif not finite:
        kbad = _iters_list(~np.isfinite(ratio) & valid)[:1]
        msg = f"A dual step occurs with no primal step (k = {kbad}): no constant bounds it."
    elif bound is not None and sup > bound:
        msg = f"The dual/primal ratio reaches {sup:.3g}, above the bound {bound:.3g}."
    else:
        msg = (f"The dual/primal ratio keeps growing: tail sup {tail_sup:.3g} vs head sup "
               f"{head_sup:.3g}.")
    return CheckResult(name="dual_bounded_by_primal", verdict=Verdict.of(bool(passed)), message=msg,
                       ratio=ratio, sup_ratio=sup, head_sup=head_sup, tail_sup=tail_sup,
                       growth=float(growth))


# ------------------------------------------------------------ Theorem 4(b)
def feasibility_to_zero(trace, rtol=1e-3, atol=1e-10):
    """Theorem 4(b) on a run: the constraint violation ``||F(W^k, V^k)||`` tends to 0.

    ``f_k = sqrt(sum_i feas_i^2)``.  Criterion: the final value is at most
    ``max(atol, rtol * max_k f_k)`` (the violation has fallen by the factor
    ``rtol`` from its peak), and the log-log slope over the second half is
    reported.  Returns ``final``, ``peak``, ``reduction`` (final / peak),
    ``slope``, ``slope_se``, per-layer ``final_per_layer``.
    """
    tr = _as_trace(trace)
    n = _need(tr, ("feas",), "feasibility_to_zero", min_len=2)
    F = np.asarray(tr.feas[:n], float)
    f = np.sqrt((F ** 2).sum(axis=1))
    peak, final = float(f.max()), float(f[-1])
    thr = max(atol, rtol * peak)
    h = n // 2
    kk = np.arange(1, n + 1)
    pos = f[h:] > 0
    slope, se = _tail_slope(kk[h:][pos], f[h:][pos]) if pos.sum() >= 3 else (float("nan"),) * 2
    passed = final <= thr
    red = final / peak if peak > 0 else 0.0
    msg = (f"Constraint violation fell from a peak of {peak:.3g} to {final:.3g} "
           f"({'within' if passed else 'above'} the threshold {thr:.3g}; tail slope {slope:.3g}).")
    return CheckResult(name="feasibility_to_zero", verdict=Verdict.of(bool(passed)), message=msg,
                       final=final, peak=peak, reduction=red, threshold=thr,
                       slope=slope, slope_se=se, final_per_layer=F[-1].copy())


# ------------------------------------------------------------ Theorem 4(c)
def kkt_rate(trace, squared=False, slope_tol=0.1, floor_rtol=1e-11, floor_atol=1e-13,
             tail=0.5, min_points=8, mode="fit", **proof):
    """Theorem 4(c) on a run: ``k * min_{j<=k} r_j`` stays bounded (O(1/k) rate).

    ``r_k`` is ``trace.kkt_total`` (the full KKT residual of paper eq. 24);
    with ``squared=True`` the check uses ``r_k^2`` instead: this weaker form,
    ``min_{j<=k} r_j^2 = O(1/k)``, is what the KL/descent argument of the
    proof yields in general, while ``squared=False`` is the statement of the
    issue (and what linearly converging runs show).

    Method: ``s_k = min_{j<=k} r_j`` (or its square).  Once ``s_k`` reaches the
    rounding floor ``floor_rtol * max(r) + floor_atol`` the rate is moot (the
    run has converged to machine precision); the fit uses the iterations before
    that.  Over the last ``tail`` of those, a least-squares line through
    ``(log k, log s_k)`` gives the slope ``p`` and its standard error.  Passed
    when ``p <= -1 + slope_tol`` or the floor was reached; reported as well:
    ``bound`` = ``max_k k s_k`` and ``growth`` = tail max / head max of
    ``k s_k``.
    """
    if mode == "proof":
        return rate_certificate(trace, **proof)
    if mode != "fit":
        raise ValueError(f"mode: expected 'fit' (log-log slope) or 'proof' (rate_certificate), "
                         f"got {mode!r}")
    if proof:
        raise ValueError(f"{sorted(proof)}: only accepted with mode='proof'")
    tr = _as_trace(trace)
    n = _need(tr, ("kkt_total",), "kkt_rate", min_len=min_points)
    r = np.asarray(tr.kkt_total[:n], float)
    if squared:
        r = r * r
    s = np.minimum.accumulate(r)
    k = np.arange(1, n + 1)
    floor = floor_rtol * float(r.max()) + (floor_atol ** 2 if squared else floor_atol)
    at_floor = s <= floor
    k_floor = int(np.argmax(at_floor)) + 1 if at_floor.any() else None
    m = (k_floor - 1) if k_floor else n
    ks = k * s
    if m >= min_points:
        lo = int(m * (1 - tail))
        slope, se = _tail_slope(k[lo:m], np.maximum(s[lo:m], 1e-300))
        hm, tm = float(ks[:lo].max()) if lo > 0 else float(ks[0]), float(ks[lo:m].max())
        growth = tm / hm if hm > 0 else math.inf
    else:
        slope, se, growth = float("nan"), float("nan"), float("nan")
    passed = (k_floor is not None) or (math.isfinite(slope) and slope <= -1 + slope_tol)
    what = "min r^2" if squared else "min r"
    if k_floor is not None:
        msg = (f"The KKT residual reached the rounding floor {floor:.2g} at k = {k_floor}"
               + (f" (slope {slope:.3g} +- {se:.2g} before it)." if math.isfinite(slope) else "."))
    elif passed:
        msg = (f"{what} over the first k iterations decays like k^({slope:.3g} +- {se:.2g}), "
               f"at least as fast as 1/k; max k*{what} = {float(ks.max()):.3g}.")
    else:
        msg = (f"{what} over the first k iterations decays like k^({slope:.3g} +- {se:.2g}), "
               f"slower than 1/k (k*{what} is not bounded on this run).")
    return CheckResult(name="kkt_rate", verdict=Verdict.of(bool(passed)), message=msg, slope=slope,
                       slope_se=se, bound=float(ks[:m].max()) if m else float(ks.max()),
                       growth=growth, k_floor=k_floor, final=float(r[-1]), squared=bool(squared))


# ------------------------------------------------------------ Lemma 21
def _primal_steps(tr, n):
    return np.asarray(tr.dW2[:n], float).sum(axis=1) + np.asarray(tr.dV2[:n], float).sum(axis=1)


def relative_error(trace, b=None, window=2, start=3, floor=1e-24):
    """Lemma 21 on a run: ``b_k = r_k / sqrt(Pi_k)``, KKT residual relative to the primal steps.

    ``r_k`` = ``trace.kkt_total`` (paper eq. 24 with feasibility), ``P_k = sum_i
    (||dW_i^k||^2 + ||dV_i^k||^2)`` and ``Pi_k = P_k`` (``window=1``, the form in the issue) or
    ``Pi_k = P_k + P_{k-1}`` (``window=2``, the default: what Lemma 21 actually bounds, since
    the dual steps inside ``r_k`` involve the previous iteration, Lemma 18).  Compared from
    ``k = start`` (the derived constants hold for ``k >= 3``).  Steps with ``Pi_k <= floor``
    and ``r_k <= sqrt(floor)`` (converged) are skipped.

    ``b``: the derived constant (:attr:`verify.conditions.Conditions.b`); passed when every
    ``b_k <= b``.  Without ``b`` the check only reports the figures and passes when every
    ``b_k`` is finite (a residual with no primal step has no relative-error constant).

    Returns ``ratio`` (array ``b_k``, nan where skipped), ``sup_ratio``, ``b``, ``slack``
    (``b / sup_ratio``), ``first_violation``.
    """
    tr = _as_trace(trace)
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
    return CheckResult(name="relative_error", verdict=verdict, reason=reason, message=msg, ratio=ratio,
                       sup_ratio=sup, median_ratio=float(np.median(v)), b=b,
                       slack=(b / sup if b is not None and sup > 0 else None),
                       first_violation=first, window=int(window))


# ------------------------------------------------------------ Theorem 4(c), the proof's chain
def rate_certificate(trace, a=None, b=None, xi=None, conditions=None, window=2, start=3,
                     rtol=1e-9):
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

    Returns ``links`` (dict: link -> min slack ``rhs / lhs`` over K, >= 1 when it holds),
    ``broken`` (first broken link or None), ``k_broken``, ``bound`` (array of the final
    bound on ``min r_j^2``), ``measured`` (array ``min_{j<=K} r_j^2``), ``final_slack``.
    """
    tr = _as_trace(trace)
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
    scale = np.maximum.accumulate(np.abs(tr.loss[:n]) + np.abs(tr.reg[:n]) + np.abs(tr.dual[:n])
                                  + np.abs(tr.penalty[:n]))
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
    if passed:
        msg = (f"The proof's chain holds at every K in [{start}, {n}]: min r_j^2 <= "
               f"{window} b^2 (Lhat^{start - 2} - Lhat^K) / (a m_K), final bound "
               f"{float(bound[-1]):.3g} vs measured {float(min_r2[-1]):.3g} (slack factor "
               f"{float(fs[-1]):.3g}); link slacks " +
               ", ".join(f"{k_}={v:.3g}" for k_, v in slack.items()) + ".")
    else:
        msg = (f"The proof's chain breaks at link '{broken}' (first at K = {k_broken}); link "
               "slacks " + ", ".join(f"{k_}={v:.3g}" for k_, v in slack.items()) + ".")
    return CheckResult(name="rate_certificate", verdict=Verdict.of(bool(passed)), message=msg, links=slack,
                       broken=broken, k_broken=k_broken, bound=bound, measured=min_r2,
                       final_bound=float(bound[-1]), final_measured=float(min_r2[-1]),
                       final_slack=float(fs[-1]), a=a, b=b, xi=xi_arr.tolist())


# ------------------------------------------------------------ all together
CHECKS = {
    "sufficient_descent": sufficient_descent,
    "bounded_iterates": bounded_iterates,
    "dual_bounded_by_primal": dual_bounded_by_primal,
    "feasibility_to_zero": feasibility_to_zero,
    "kkt_rate": kkt_rate,
}


def run_checks(trace, checks=None, **options):
    """Run several checks; returns ``{name: CheckResult}``.

    ``options`` maps a check name to a dict of its keyword arguments, e.g.
    ``run_checks(tr, sufficient_descent={"xi": 0.5})``.
    """
    tr = _as_trace(trace)
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [c for c in names if c not in CHECKS] + [o for o in options if o not in CHECKS]
    if unknown:
        raise ValueError(f"checks: unknown check names {unknown}; expected among {list(CHECKS)}")
    out = {}
    for nm in names:
        kw = options.get(nm) or {}
        if not isinstance(kw, dict):
            raise ValueError(f"{nm}: expected a dict of keyword arguments, got {kw!r}")
        out[nm] = CHECKS[nm](tr, **kw)
    return out


def format_table(results) -> str:
    """Plain-text table of check results (one line each)."""
    rows = []
    for nm, r in results.items():
        figs = r.figures()
        keep = {k: v for k, v in figs.items() if k in _TABLE_KEYS.get(nm, ())}
        fig = ", ".join(f"{k}={_fmt(v)}" for k, v in keep.items())
        msg = r.message
        if r.get("reason") and r.verdict is not Verdict.PASS and r.reason not in msg:
            msg = f"{msg} [{r.verdict}: {r.reason}]"
        rows.append((nm, str(r.verdict), fig, msg))
    w0 = max(len(r[0]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = [f"{'check':<{w0}}  {'verdict':<12}  {'figures':<{w2}}", "-" * (w0 + w2 + 16)]
    for nm, res, fig, _ in rows:
        lines.append(f"{nm:<{w0}}  {res:<12}  {fig:<{w2}}")
    counts = {v: sum(1 for r in rows if r[1] == v) for v in Verdict}
    lines.append(", ".join(f"{c} {v}" for v, c in counts.items()))
    lines.append("")
    lines += [f"{nm}: {msg}" for nm, _, _, msg in rows]
    return "\n".join(lines)


_TABLE_KEYS = {
    "sufficient_descent": ("xi", "n_violations", "min_margin", "median_margin"),
    "bounded_iterates": ("growth", "slope"),
    "dual_bounded_by_primal": ("sup_ratio", "growth"),
    "feasibility_to_zero": ("final", "reduction"),
    "kkt_rate": ("slope", "slope_se", "bound", "k_floor"),
    "relative_error": ("sup_ratio", "b", "slack"),
    "rate_certificate": ("final_bound", "final_measured", "final_slack", "broken"),
}


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.3g}"
    return str(v)


def assert_converges(model_or_trace, X=None, y=None, checks=None, allow_inconclusive=False,
                     **options):
    """Assert that a run satisfies the convergence claims (for users' pytest suites).

    Parameters
    ----------
    model_or_trace : Trace, fitted ADMM, unfitted ADMM (then ``X, y`` are
        required and it is fitted here) or a path to a saved trace.
    checks : iterable of check names (default: all of :data:`CHECKS`).
    allow_inconclusive : bool
        ``False`` (default): an INCONCLUSIVE check fails the assertion like a FAIL (nothing
        passes for lack of evidence).  ``True``: only FAIL verdicts raise.
    **options : per-check keyword arguments, e.g. ``sufficient_descent={"xi": [0, 0.5]}``.

    Returns the dict of :class:`CheckResult` when no check fails; otherwise raises
    :class:`ConvergenceError` (an ``AssertionError``) whose message is the table
    of every check with its verdict and reason, so pytest shows what failed and why.
    """
    obj = model_or_trace
    if X is not None or y is not None:
        if X is None or y is None:
            raise ValueError("X, y: expected both training arrays or neither")
        if not hasattr(obj, "fit"):
            raise ValueError("model_or_trace: X and y were given, so expected an estimator with fit()")
        obj.fit(X, y)
    elif hasattr(obj, "fit") and getattr(obj, "trace_", None) is None:
        raise ValueError("model_or_trace: the estimator is not fitted; pass X and y to fit it here")
    results = run_checks(obj, checks=checks, **options)
    failed = [nm for nm, r in results.items() if r.verdict is Verdict.FAIL]
    undecided = [nm for nm, r in results.items() if r.verdict is Verdict.INCONCLUSIVE]
    if failed or (undecided and not allow_inconclusive):
        head = []
        if failed:
            head.append(f"convergence checks failed: {failed}")
        if undecided and not allow_inconclusive:
            head.append(f"inconclusive (allow_inconclusive=False): {undecided}")
        raise ConvergenceError("; ".join(head) + "\n" + format_table(results), results)
    return results
