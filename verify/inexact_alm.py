"""Checks of the inexact ALM's claims (docs/methods/inexact_alm.md#claims) on recorded runs.

Two claims of Liu, Liu, Chen (JMLR 2023), as reconstructed:

* :func:`kkt_to_zero`: along the outer iterations the KKT residual (stationarity of the
  Lagrangian with the multiplier estimates, constraint violation, complementarity) tends to
  0 while the multiplier estimates stay bounded.  Three-valued (PASS / FAIL / INCONCLUSIVE),
  with a finite-run criterion stated in its docstring.
* :func:`mfcq`: the Mangasarian-Fromovitz constraint qualification at a point of the lifted
  model: a direction :func:`mfcq_direction` that keeps the equality constraints to first
  order and strictly decreases every (active) inequality, and linearly independent equality
  gradients (smallest singular value of the equality Jacobian, :func:`equality_jacobian`).

:func:`synthetic_trace` builds good and doctored ``inexact_alm`` traces from the definitions
(not from the solver), :data:`DOCTORED` lists the doctored kinds that must not PASS.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from solver.inexact_alm import INEXACT_ALM_SCHEMA
from solver.trace import Trace

from .checks import CheckResult, Verdict

__all__ = ["kkt_to_zero", "mfcq", "mfcq_direction", "direction_margins", "equality_jacobian",
           "synthetic_trace", "DOCTORED", "CHECKS"]

_EPS = np.finfo(float).eps
_NEED = ("kkt_total", "kkt_stat", "kkt_viol", "kkt_comp", "inner_res", "eps", "inner_iter",
         "norm_mult", "clipped", "rho", "objective")


# ------------------------------------------------------------------ claim 1: KKT -> 0
def kkt_to_zero(trace, *, rtol=1e-3, decay=0.7, min_len=8, mult_growth=1.5, consistency_rtol=1e-6,
                floor_mult=1e3):
    """KKT residual -> 0 with bounded multiplier estimates, on one run.

    ``r_k = kkt_total``; ``scale = max(1, |objective_K|)``.  In this order:

    * INCONCLUSIVE: fewer than ``min_len`` iterations, or KKT not tracked (``track=False``);
    * FAIL: the trace contradicts its own definitions: ``kkt_total^2 != stat^2 + viol^2 +
      comp^2``, or ``kkt_stat`` differs from ``inner_res`` (with the unclipped first-order
      estimates the two are the same quantity; relative ``consistency_rtol``);
    * INCONCLUSIVE: over the second half an inner solve stopped above its ``eps_k`` (the
      inner cap bound: the run is not the analysed algorithm), or the safeguard clipped
      multipliers over the last quarter (the estimates are not the ones the bound speaks of);
    * FAIL: the multiplier estimates grow: ``max ||(Mu, Lam)||`` over the last half exceeds
      ``mult_growth`` times its maximum over the first half and still rises over the last
      quarter (a finite-run sign of unbounded estimates: a bounded sequence has this ratio
      -> <= 1, growth like ``k^p`` gives ``2^p``; ``heuristic``);
    * PASS: ``r_K <= floor_mult eps scale`` (rounding floor), or ``r_K <= rtol scale`` and the
      tail still falls: ``min r`` over the last quarter ``<= decay x`` its minimum over the
      third quarter;
    * FAIL: a plateau above ``rtol scale`` (the tail does not fall);
    * INCONCLUSIVE: falling but still above ``rtol scale`` (run too short), or below it but
      flat (a plateau below tolerance proves no limit).
    """
    tr = trace
    n = len(tr)
    out = dict(name="kkt_to_zero", heuristic=True)
    missing = [f for f in _NEED if f not in tr.schema or getattr(tr, f) is None]
    if missing:
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=f"trace lacks fields {missing}",
                           message="kkt_to_zero INCONCLUSIVE: not an inexact_alm trace.", **out)
    if n < min_len:
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason=f"run too short: {n} iterations (need {min_len})",
                           message=f"kkt_to_zero INCONCLUSIVE: {n} iterations.", **out)
    g = {f: np.asarray(getattr(tr, f)[:n], float) for f in _NEED}
    r = g["kkt_total"]
    if not np.all(np.isfinite(r)):
        return CheckResult(verdict=Verdict.INCONCLUSIVE, reason="kkt_total not recorded (track=False)",
                           message="kkt_to_zero INCONCLUSIVE: KKT not tracked.", **out)
    scale = max(1.0, abs(float(g["objective"][-1])))
    thr = rtol * scale
    parts = np.sqrt(g["kkt_stat"] ** 2 + g["kkt_viol"] ** 2 + g["kkt_comp"] ** 2)
    bad_total = np.abs(parts - r) > consistency_rtol * np.maximum(r, 1e-300) + 1e-300
    tiny = 1e3 * _EPS * (1.0 + g["kkt_stat"] + g["inner_res"]) * max(1.0, float(g["rho"].max()))
    bad_stat = np.abs(g["kkt_stat"] - g["inner_res"]) > consistency_rtol * np.maximum(g["inner_res"], 0) + tiny
    h, q3 = n // 2, (3 * n) // 4
    unmet = np.flatnonzero(g["inner_res"][h:] > g["eps"][h:] * (1 + 1e-12)) + h + 1
    clipped_tail = float(g["clipped"][q3:].sum())
    M = g["norm_mult"]
    m_first, m_last = float(M[:h].max()), float(M[h:].max())
    growth = m_last / m_first if m_first > 0 else (math.inf if m_last > 0 else 1.0)
    rising = float(M[q3:].max()) > float(M[h:q3].max()) if q3 > h else False
    m3, m4 = float(r[h:q3].min()) if q3 > h else float("nan"), float(r[q3:].min())
    tail = m4 / m3 if m3 and m3 > 0 else (0.0 if m4 == 0 else math.inf)
    falling = math.isfinite(tail) and tail <= decay
    final = float(r[-1])
    out.update(final=final, threshold=thr, scale=scale, tail_ratio=tail, mult_sup=float(M.max()),
               mult_growth=growth, inner_unmet=unmet.tolist(), clipped_tail=clipped_tail)
    if bad_total.any():
        v, why = Verdict.FAIL, (f"trace inconsistent: kkt_total != sqrt(stat^2 + viol^2 + comp^2) at "
                                f"iterations {(np.flatnonzero(bad_total) + 1)[:10].tolist()}")
    elif bad_stat.any():
        v, why = Verdict.FAIL, (f"trace inconsistent: kkt_stat differs from inner_res at iterations "
                                f"{(np.flatnonzero(bad_stat) + 1)[:10].tolist()} (with the first-order "
                                f"estimates they are one quantity)")
    elif unmet.size:
        v, why = Verdict.INCONCLUSIVE, (f"inner solves stopped above eps_k at iterations {unmet[:10].tolist()} "
                                        f"of the second half (inner cap bound): not the analysed algorithm")
    elif clipped_tail > 0:
        v, why = Verdict.INCONCLUSIVE, (f"the safeguard clipped {clipped_tail:.0f} multiplier entries over "
                                        f"the last quarter: bounded estimates cannot be decided")
    elif growth > mult_growth and rising:
        v, why = Verdict.FAIL, (f"multiplier estimates grow: max over the last half is {growth:.3g} x that "
                                f"of the first half and still rising")
    elif final <= floor_mult * _EPS * scale:
        v, why = Verdict.PASS, None
    elif final <= thr and falling:
        v, why = Verdict.PASS, None
    elif not falling and final > thr:
        v, why = Verdict.FAIL, (f"plateau: KKT residual {final:.3g} > {thr:.3g} and the tail does not "
                                f"fall (last/third quarter min ratio {tail:.3g})")
    elif not falling:
        v, why = Verdict.INCONCLUSIVE, (f"below tolerance ({final:.3g} <= {thr:.3g}) but flat over the tail "
                                        f"(ratio {tail:.3g}): a plateau shows no limit")
    else:
        v, why = Verdict.INCONCLUSIVE, (f"run too short: the KKT residual falls (tail ratio {tail:.3g}) but "
                                        f"is still {final:.3g} > {thr:.3g}")
    msg = (f"KKT residual {final:.3g} <= {thr:.3g} and falling (tail ratio {tail:.3g}); multiplier "
           f"estimates bounded by {M.max():.3g}." if v is Verdict.PASS else f"kkt_to_zero {v}: {why}.")
    return CheckResult(verdict=v, reason=why, message=msg, **out)


# ------------------------------------------------------------------ claim 2: MFCQ
def _A(V, X, l):
    prev = X if l == 0 else V[l - 1]
    return np.vstack([prev, np.ones((1, prev.shape[1]))])


def mfcq_direction(W, U, V, X, alpha):
    """A direction ``d = (dW, dU, dV)`` with ``Dh[d] = 0`` and ``Dg[d] <= -1`` for every inequality.

    ``dW = 0``, ``dU_l = Wbar_l dV_{l-1}`` (``dV_0 = 0``: the data do not move), so the
    linearised equalities hold, and ``dV_l = |dU_l| + 1`` entrywise, so that
    ``dU_l - dV_l <= -1`` and ``alpha dU_l - dV_l <= -1`` for ``0 < alpha <= 1``.  The
    construction does not use the point's ``U``, ``V`` values except through ``Wbar``: MFCQ
    holds at every point, feasible or not (the extended MFCQ of the ALM theory).
    """
    N = len(W)
    dW = [np.zeros_like(w) for w in W]
    dU, dV = [], []
    prev = np.zeros_like(X)
    for l in range(N):
        du = W[l][:, :-1] @ prev
        dU.append(du)
        if l < N - 1:
            prev = np.abs(du) + 1.0
            dV.append(prev)
    return dW, dU, dV


def direction_margins(W, U, V, X, alpha, d, active_tol=None):
    """``(eq, ineq_active, ineq_all)`` for direction ``d``: ``max |Dh[d]|`` relative to the size of
    its terms, and ``max Dg[d]`` over the active inequalities (``|g| <= active_tol``; default
    ``1e-8 max(1, |U|, |V|)``) and over all.  An MFCQ direction has ``eq ~ 0`` and
    ``ineq_active < 0``."""
    dW, dU, dV = d
    N = len(W)
    eq = 0.0
    act, allv = -math.inf, -math.inf
    big = max([1.0] + [float(np.max(np.abs(u))) for u in U] + [float(np.max(np.abs(v))) for v in V])
    tol = 1e-8 * big if active_tol is None else active_tol
    for l in range(N):
        dprev = np.zeros_like(X) if l == 0 else dV[l - 1]
        terms = (dU[l], dW[l] @ _A(V, X, l), W[l][:, :-1] @ dprev)
        Dh = terms[0] - terms[1] - terms[2]
        size = max(1.0, *(float(np.max(np.abs(t))) for t in terms))
        eq = max(eq, float(np.max(np.abs(Dh))) / size)
        if l < N - 1:
            for coef in (1.0, alpha):
                g = coef * U[l] - V[l]
                Dg = coef * dU[l] - dV[l]
                allv = max(allv, float(Dg.max()))
                mask = np.abs(g) <= tol
                if mask.any():
                    act = max(act, float(Dg[mask].max()))
    return eq, act, allv


def equality_jacobian(W, U, V, X):
    """The dense Jacobian of ``h = (U_l - W_l A_{l-1})_l`` in ``x = (W, U, V)`` (rows: entries of
    ``h``, row-major per layer; columns: ``W_1..W_N, U_1..U_N, V_1..V_{N-1}``, row-major),
    built entry by entry from the definition (for small problems)."""
    N, n = len(W), X.shape[1]
    sizes = [w.size for w in W] + [u.size for u in U] + [v.size for v in V]
    offs = np.concatenate([[0], np.cumsum(sizes)])
    rows = sum(u.size for u in U)
    J = np.zeros((rows, int(offs[-1])))
    r0 = 0
    for l in range(N):
        d, m = W[l].shape
        A = _A(V, X, l)
        for i in range(d):
            for s in range(n):
                row = r0 + i * n + s
                J[row, offs[N + l] + i * n + s] = 1.0                         # dh/dU_l
                J[row, offs[l] + i * m: offs[l] + (i + 1) * m] = -A[:, s]       # dh/dW_l[i, :]
                if l > 0:                                                       # dh/dV_{l-1}[:, s]
                    cols = offs[2 * N + l - 1] + np.arange(m - 1) * n + s
                    J[row, cols] = -W[l][i, :-1]
        r0 += d * n
    return J


def _sigma_min_operator(W, U, V, X):
    """Smallest singular value of ``J_h`` from the operator ``y -> J_h J_h^T y`` (Lanczos, scipy's
    ``eigsh``), without forming ``J_h``: ``J_h^T y`` has blocks ``dU_l = y_l``,
    ``dW_l = -y_l A_{l-1}^T``, ``dV_{l-1} = -Wbar_l^T y_l``, and ``J_h d = Dh[d]``."""
    N = len(W)
    shapes = [u.shape for u in U]
    sizes = [u.size for u in U]
    offs = np.concatenate([[0], np.cumsum(sizes)])

    def JJt(y):
        y = np.asarray(y, float).ravel()
        Y = [y[offs[l]:offs[l + 1]].reshape(shapes[l]) for l in range(N)]
        dW = [-Y[l] @ _A(V, X, l).T for l in range(N)]
        dV = [-W[l][:, :-1].T @ Y[l] for l in range(1, N)]
        out = []
        for l in range(N):
            r = Y[l] - dW[l] @ _A(V, X, l)
            if l > 0:
                r = r - W[l][:, :-1] @ dV[l - 1]
            out.append(r.ravel())
        return np.concatenate(out)

    n = int(offs[-1])
    op = LinearOperator((n, n), matvec=JJt, dtype=float)
    lam = eigsh(op, k=1, which="SA", tol=1e-6, return_eigenvectors=False,
                v0=np.random.default_rng(0).normal(size=n))[0]
    return float(math.sqrt(max(lam, 0.0)))


def mfcq(W, U, V, X, alpha, *, direction=None, max_rows=2000, eq_tol=1e-10):
    """MFCQ at the point ``(W, U, V)`` (features x samples; ``X`` the data, ``V_0``).

    PASS: the direction (``direction`` or :func:`mfcq_direction`) keeps the linearised
    equalities (relative ``eq_tol``) and strictly decreases every active inequality, and the
    equality Jacobian has full row rank (smallest singular value: dense when it has at most
    ``max_rows`` rows, else Lanczos on the operator ``J_h J_h^T``; it is ``>= 1`` by structure
    since ``dh/dU = I``).  FAIL: the Jacobian is rank deficient.  INCONCLUSIVE: the direction
    fails (another might not), or Lanczos did not converge.
    """
    d = mfcq_direction(W, U, V, X, alpha) if direction is None else direction
    eq, act, allv = direction_margins(W, U, V, X, alpha, d)
    rows = sum(u.size for u in U)
    if rows <= max_rows:
        J = equality_jacobian(W, U, V, X)
        smin = float(np.sqrt(max(np.linalg.eigvalsh(J @ J.T)[0], 0.0)))
    else:
        try:
            smin = _sigma_min_operator(W, U, V, X)
        except ArpackNoConvergence:  # undecided, not failed; any other error is a bug and surfaces
            smin = float("nan")
    out = dict(name="mfcq", eq_residual=eq, active_margin=act, all_margin=allv, sigma_min=smin, rows=rows)
    if math.isfinite(smin) and smin <= 1e-8:
        v, why = Verdict.FAIL, f"equality Jacobian rank deficient (sigma_min = {smin:.3g})"
    elif eq > eq_tol:
        v, why = Verdict.INCONCLUSIVE, f"the direction breaks the linearised equalities (|Dh d| = {eq:.3g})"
    elif act >= 0:
        v, why = Verdict.INCONCLUSIVE, f"the direction does not decrease every active inequality (max {act:.3g})"
    elif not math.isfinite(smin):
        v, why = Verdict.INCONCLUSIVE, f"Lanczos on J_h J_h^T ({rows} rows) did not converge"
    else:
        v, why = Verdict.PASS, None
    active = (f"max active Dg d = {act:.3g}" if math.isfinite(act)
              else "no inequality active within tolerance")
    msg = (f"MFCQ: direction with |Dh d| = {eq:.2g}, {active}, max Dg d over all = {allv:.3g}, "
           f"sigma_min(J_h) = {smin:.3g}." if v is Verdict.PASS else f"mfcq {v}: {why}.")
    return CheckResult(verdict=v, reason=why, message=msg, **out)


# ------------------------------------------------------------------ synthetic traces
#: doctored kinds (none may PASS) and the verdict each must get
DOCTORED = {"plateau": "FAIL", "growing_multipliers": "FAIL", "inner_unmet": "INCONCLUSIVE",
            "total_inconsistent": "FAIL", "stat_inconsistent": "FAIL", "too_short": "INCONCLUSIVE",
            "still_falling_high": "INCONCLUSIVE", "flat_below_tol": "INCONCLUSIVE", "clipped": "INCONCLUSIVE"}


def synthetic_trace(kind="good", K=24, N=2, q=0.6):
    """An ``inexact_alm`` trace built from the definitions: residual parts ``stat = eps_k / 2``
    (the inner solve met ``eps_k = 0.1 q^(k-1)``), ``viol = comp = 0.1 q^k``,
    ``kkt_total`` their root-sum-square, bounded multipliers ``1 + 1/k``, no clipping;
    ``kind`` doctors one claim (:data:`DOCTORED`)."""
    K = 5 if kind == "too_short" else K
    k = np.arange(1, K + 1, dtype=float)
    eps = 0.1 * q ** (k - 1)
    stat = eps / 2
    viol = 0.1 * q ** k
    comp = 0.1 * q ** k
    mult = 1.0 + 1.0 / k
    clipped = np.zeros(K)
    if kind == "plateau":
        stat = np.maximum(stat, 0.05)
        eps = np.maximum(eps, 0.1)
        viol = np.maximum(viol, 0.01)
    elif kind == "growing_multipliers":
        mult = 1.0 + k ** 1.5
    elif kind == "inner_unmet":
        stat = stat.copy()
        stat[K // 2:] = 3 * eps[K // 2:]
    elif kind == "still_falling_high":
        stat, viol, comp = 10 * 0.9 ** k, 10 * 0.9 ** k, 10 * 0.9 ** k
        eps = 2 * stat
    elif kind == "flat_below_tol":
        stat = np.full(K, 1e-5)
        viol = comp = np.full(K, 1e-5)
        eps = np.full(K, 1e-4)
    elif kind == "clipped":
        clipped[-3:] = 5
    total = np.sqrt(stat ** 2 + viol ** 2 + comp ** 2)
    inner = stat.copy()
    if kind == "total_inconsistent":
        total = total * np.where(k > K / 2, 1e-3, 1.0)
    if kind == "stat_inconsistent":
        inner = stat * 10
        eps = np.maximum(eps, inner)
    rho = 10.0 * 2.0 ** np.floor((k - 1) / 2)
    arrays = dict(kkt_total=total, kkt_stat=stat, kkt_viol=viol, kkt_comp=comp, inner_res=inner, eps=eps,
                  inner_iter=np.full(K, 50.0), norm_mult=mult, clipped=clipped, rho=rho,
                  objective=np.full(K, 0.5))
    tr = Trace(N, {"method": "inexact_alm", "synthetic": kind}, schema=INEXACT_ALM_SCHEMA)
    for name, arr in arrays.items():
        setattr(tr, name, np.asarray(arr, float))
    return tr


#: the checks of this method by name
CHECKS = {"kkt_to_zero": kkt_to_zero}
