"""Step replay: is the recorded run an instance of Algorithm 1, and is its row what it says?

The five checks of ``sigadmm verify`` read a trace and test the claims of Theorem 4 on it
(descent, bounded iterates, feasibility, the KKT rate).  A solver that takes *another* step
which still descends, or that records another residual which still falls, satisfies those
claims on its record: the checks are right to PASS it, and they cannot see that the run is not
Algorithm 1.  The mutation score (``benchmarks/mutation_score.py``) found such solver bugs:
the LLA step not the model's minimiser (a sign or a term dropped in ``c U0 - G``), the
curvature from a wrong ``||B||_max``, the KKT residual of eq. (24) with a term dropped, a part
of ``L_beta`` computed from a wrong ``F_i``.

This module closes that gap with an independent transcription: :mod:`verify.highprec` (the
steps of Algorithm 1 in mpmath, written apart from ``solver/``).  Given the solver's iterate
``(W, V, Lam)`` at ``k - 1`` and at ``k`` and the row it recorded at ``k``:

* **step**: one iteration of Algorithm 1 from the solver's ``k - 1`` iterate, in mpmath,
  against the solver's ``k`` iterate: ``||X_hp - X_solver|| / ||X_solver||`` for every block
  ``X`` of ``W`` and ``V`` (the solutions of the step's linear systems), and for
  ``Lam_i^k = Lam_i^(k-1) + beta_i F_i^k`` against the size of its terms,
  ``||Lam_i^(k-1)|| + beta_i (||sigma(Z_i)|| + ||V_i||)``; the two recorded curvatures
  against the replay's;
* **record**: every field of the row (``lagrangian`` and its parts, ``dW2``, ``dV2``,
  ``dLam2``, ``feas``, ``kkt``, ``kkt_total``, ``normW``, ``normV``, ``normLam``,
  ``train_mse``) recomputed in mpmath from the solver's own iterates at ``k - 1`` and ``k``,
  with the definitions of ``solver/trace.py`` (eq. (6), eq. (24)).  A difference is measured
  against the *size of the terms* the field is computed from (``|rec - exact| /
  max(|exact|, size)``), because float64 computes a small residual as a difference of large
  terms (the ``V_N`` block of eq. (24) is exactly 0 for ``k >= 1`` and recorded as noise).

:func:`replay_step` returns the largest differences; :func:`replay_fit` fits a model with a
callback that keeps the iterates, replays the steps ``k`` in ``at`` (``k = 1`` from the
initial point of eq. (7), computed here from the initial weights), and answers ``holds``.

**What ``holds`` implies.**  If ``replay_fit(...)["holds"]``, then for every replayed ``k``:
each block of the solver's iterate ``k`` equals one step of Algorithm 1 (LLA curvature rule of
the run) from its iterate ``k - 1`` to ``rtol`` relative, and every recorded field of row ``k``
equals its definition at the solver's iterates to ``record_rtol`` times the size of its terms.  It
says nothing about the iterations not replayed, and a float64 run whose steps the guard of
:func:`verify.conditions.numerical_validity` flags (the derived depth-2 schedules, ``beta_1``
about ``1e16``) cannot agree with the exact step: replay those in :mod:`solver.admm.extprec`.

Calibration (``benchmarks/mutation_score.py``'s seven problems, depth 1-2, sigmoid and tanh,
three engines, ``k = 1, K/2, K``; docs/verify.md): the step differs from the exact one by at
most 4.2e-12 (the derived depth-2 run), the record from its definitions by at most
4.4e-16; :data:`REPLAY_RTOL` is ``1e-8`` and :data:`REPLAY_RECORD_RTOL` ``1e-11``.  A
square such as ``penalty = sum beta_i/2 ||F_i||^2`` is sized ``beta_i ||F_i||`` times the size of
``F_i``'s terms (the rounding of ``||D||^2`` is ``2 ||D||`` times that of ``D``).
"""

from __future__ import annotations

import mpmath
import numpy as np

from theory import get_activation
from verify import highprec as H

__all__ = ["replay_step", "replay_trace", "replay_fit", "keep_iterates", "REPLAY_RTOL",
           "REPLAY_RECORD_RTOL"]

#: tolerance of the replayed step (relative to the iterate; real runs: <= 4.2e-12)
REPLAY_RTOL = 1e-8
#: tolerance of the record against its definitions (relative to the size of the terms)
REPLAY_RECORD_RTOL = 1e-11

_STATE = ("W", "V", "Lam")


def _f(x):
    return float(x)


def _rel(rec, exact, size):
    """``|rec - exact| / max(|exact|, size)`` (inf when ``rec`` is not finite)."""
    rec = float(rec)
    if not np.isfinite(rec):
        return float("inf")
    den = max(abs(float(exact)), float(size), 1e-300)
    return abs(rec - float(exact)) / den


def _blocks(st):
    if isinstance(st, dict):
        return [list(st[f]) for f in _STATE]
    return [list(getattr(st, f)) for f in _STATE]


def _row_get(row, field):
    try:
        v = row[field]
    except (KeyError, IndexError, ValueError):
        return None
    return None if v is None else np.atleast_1d(np.asarray(v, float))


def replay_step(prev, nxt, row, X, y, *, beta, lam, activation, curvature="theory",
                curvature_factor=2.0, dps=30):
    """Replay the solver's iteration ``k - 1 -> k`` and its record (module docstring).

    ``prev``, ``nxt``: the solver's iterates (objects or dicts with ``W, V, Lam``; ``W_i``
    with the bias in the last column, ``V_i``, ``Lam_i`` features x samples).  ``row``: the
    recorded row ``k`` (a mapping field -> value, e.g. ``trace.row(k - 1)``).  ``X (n, d)``,
    ``y``: the training data.  Returns ``{"step": {name: diff}, "record": {name: diff},
    "max": largest diff, "worst": its name}``.
    """
    act = get_activation(activation)
    Wp, Vp, Lp = _blocks(prev)
    Wk, Vk, Lk = _blocks(nxt)
    N = len(Wp)
    if not (len(Vp) == len(Lp) == len(Wk) == len(Vk) == len(Lk) == N):
        raise ValueError(f"prev, nxt: expected {N} blocks of W, V, Lam each")
    beta = [float(b) for b in np.broadcast_to(np.asarray(beta, float), (N,))]
    Y = np.asarray(y, float)
    Y = (Y[:, None] if Y.ndim == 1 else Y).T
    Xf = np.asarray(X, float).T
    step, rec = {}, {}
    with mpmath.workdps(int(dps)):
        ma = H._MpAct(act)
        L = tuple(mpmath.mpf(v) for v in (act.L(0), act.L(1), act.L(2)))
        Xm, Ym = H._mp(Xf), H._mp(Y)
        bm = [mpmath.mpf(b) for b in beta]
        lm = mpmath.mpf(float(lam))
        P = [[H._mp(a) for a in blk] for blk in (Wp, Vp, Lp)]
        K = [[H._mp(a) for a in blk] for blk in (Wk, Vk, Lk)]
        # ---- step: Algorithm 1 from the solver's k-1 iterate against its k iterate
        Wn, Vn, Ln, cW, cV = H.admm_iteration(*P, Xm, Ym, lm, bm, ma, L, curvature,
                                              mpmath.mpf(float(curvature_factor)))
        # the sizes of the terms of each block: ||X^k|| for the W and V solves; for
        # Lam^k = Lam^(k-1) + beta_i F_i^k, ||Lam^(k-1)|| + beta_i (||sigma(Z_i)|| + ||V_i||)
        # (float64 forms F_i as a difference of those two terms)
        Fs = []
        prev_in = Xm
        for j in range(N):
            Z = K[0][j] @ H._augment(prev_in)
            Fs.append(H._norm(ma(Z) if j < N - 1 else Z) + H._norm(K[1][j]))
            prev_in = K[1][j]
        sizes = ([H._norm(b) for b in K[0]], [H._norm(b) for b in K[1]],
                 [H._norm(a) + bm[j] * Fs[j] for j, a in enumerate(P[2])])
        for name, hp, sv, sz in zip(_STATE, (Wn, Vn, Ln), K, sizes):
            step[name] = max(_rel(H._norm(a - b), 0, s_) if np.all(np.isfinite(
                np.asarray(b, float))) else float("inf") for a, b, s_ in zip(hp, sv, sz))
        for name, cs in (("curvature", cW), ("curvature_V", cV)):
            r = _row_get(row, name)
            if r is None:
                continue
            for j, c in enumerate(cs):
                if c is not None and j < r.size:
                    step[name] = max(step.get(name, 0.0), _rel(r[j], c, 0))
        # ---- record: row k against its definitions at the solver's iterates
        Wm, Vm, Lm_ = K
        F = H.constraint_residuals(Wm, Vm, Xm, ma)
        prev_in = Xm
        actZ = []
        for j in range(N):
            Z = Wm[j] @ H._augment(prev_in)
            actZ.append(ma(Z) if j < N - 1 else Z)
            prev_in = Vm[j]
        nF = [H._norm(f) for f in F]
        sF = [H._norm(a) + H._norm(v) for a, v in zip(actZ, Vm)]        # sizes of F_i's terms
        nW, nV, nL = ([H._norm(a) for a in blk] for blk in K)
        loss = H._sq(Vm[-1] - Ym) / 2
        reg = lm / 2 * mpmath.fsum(w * w for w in nW)
        dual = mpmath.fsum(mpmath.fsum((a * f).ravel()) for a, f in zip(Lm_, F))
        pen = mpmath.fsum(b / 2 * f * f for b, f in zip(bm, nF))
        # a square ||D||^2 of a difference D formed in float64 carries 2 ||D|| (size of D's
        # terms) eps: the size of a square is ||D|| times the size of D's terms
        s_loss = H._norm(Vm[-1] - Ym) * (nV[-1] + H._norm(Ym))
        s_dual = mpmath.fsum(a * s for a, s in zip(nL, sF))
        s_pen = mpmath.fsum(b * f * s for b, f, s in zip(bm, nF, sF))
        exact = {"loss": (loss, s_loss), "reg": (reg, reg), "dual": (dual, s_dual),
                 "penalty": (pen, s_pen),
                 "lagrangian": (loss + reg + dual + pen, s_loss + reg + s_dual + s_pen)}
        # eq. (24) blocks and the sizes of their terms
        A = [H._augment(Xm)] + [H._augment(v) for v in Vm[:-1]]
        Pm = [Lm_[j] * ma.d1(Wm[j] @ A[j]) if j < N - 1 else Lm_[j] for j in range(N)]
        kk = H.kkt_residuals(Wm, Vm, Lm_, Xm, Ym, lm, ma)
        sk = [lm * nW[j] + H._norm(Pm[j]) * H._norm(A[j]) for j in range(N)]
        sk += [nL[j] + H._norm(Wm[j + 1]) * H._norm(Pm[j + 1]) for j in range(N - 1)]
        sk.append(nV[-1] + H._norm(Ym) + nL[-1])
        nk = [H._norm(r) for r in kk]
        layer = {"feas": (nF, sF), "kkt": (nk, sk), "normW": (nW, nW), "normV": (nV, nV),
                 "normLam": (nL, nL)}
        for name, (Kb, Pb, b_) in {"dW2": (Wm, P[0], None), "dV2": (Vm, P[1], None),
                                   "dLam2": (Lm_, P[2], bm)}.items():
            d = [H._norm(a - b) for a, b in zip(Kb, Pb)]
            s = [H._norm(a) + H._norm(b) for a, b in zip(Kb, Pb)]
            val = [x * x / (1 if b_ is None else b_[j]) for j, x in enumerate(d)]
            size = [x * (x + si) / (1 if b_ is None else b_[j]) for j, (x, si) in
                    enumerate(zip(d, s))]
            layer[name] = (val, size)
        kt = mpmath.sqrt(mpmath.fsum(v * v for v in nk + nF))
        exact["kkt_total"] = (kt, mpmath.sqrt(mpmath.fsum(v * v for v in sk + sF)))
        # train_mse: the network's output at W^k (eq. (7)'s forward pass), against Y
        Vf, _ = H.initial_point(Wm, Xm, ma)
        out = Vf[-1]
        mse = H._sq(out - Ym) / Ym.size
        exact["train_mse"] = (mse, H._norm(out - Ym) * (H._norm(out) + H._norm(Ym)) / Ym.size)
        for name, (v, s) in exact.items():
            r = _row_get(row, name)
            if r is not None and r.size and not np.isnan(r[0]):
                rec[name] = _rel(r[0], v, s)
        for name, (vals, sizes) in layer.items():
            r = _row_get(row, name)
            if r is None:
                continue
            if r.size != len(vals):
                rec[name] = float("inf")
                continue
            rec[name] = max(_rel(r[j], vals[j], sizes[j]) for j in range(len(vals)))
    allv = {**{"step " + k: v for k, v in step.items()}, **{"record " + k: v for k, v in rec.items()}}
    worst = max(allv, key=lambda k: allv[k]) if allv else None
    return {"step": step, "record": rec, "max": allv[worst] if worst else 0.0, "worst": worst,
            "max_step": max(step.values(), default=0.0), "max_record": max(rec.values(), default=0.0)}


def replay_trace(iterates, trace, X, y, *, init_weights, activation, curvature="theory",
                 curvature_factor=2.0, at=(1, 2, -1), rtol=REPLAY_RTOL,
                 record_rtol=REPLAY_RECORD_RTOL, dps=30):
    """Replay the iterations ``at`` of a recorded run (``k >= 1``; negative counts from the
    last one) from its iterates ``{k: {"W": [...], "V": [...], "Lam": [...]}}``.

    ``k = 1`` is replayed from the initial point of eq. (7) computed here from
    ``init_weights`` (forward pass, zero multipliers), so a wrong initial state is seen too;
    an iteration whose iterates ``k - 1`` and ``k`` are not both given is skipped.  Returns
    ``{"holds": bool, "max": float, "worst": (k, name), "per_k": {k: replay_step(...)},
    "status": the run's stop status}``: ``holds`` needs at least one replayed iteration, every
    step difference ``<= rtol``, every record difference ``<= record_rtol`` and a run not stopped on a non-finite iterate (module docstring:
    what it implies).
    """
    act = get_activation(activation) if isinstance(activation, str) else activation
    K = len(trace)
    snaps = dict(iterates)
    W0 = [np.hstack([np.asarray(w, float), np.asarray(b, float).reshape(-1, 1)])
          for w, b in init_weights]
    with mpmath.workdps(int(dps)):
        V0, _ = H.initial_point([H._mp(w) for w in W0], H._mp(np.asarray(X, float).T),
                                H._MpAct(act))
    snaps[0] = {"W": W0, "V": [np.asarray(v, float) for v in V0],
                "Lam": [np.zeros(np.shape(v)) for v in V0]}
    per_k, worst, ratio = {}, None, -1.0
    mx = {"step": 0.0, "record": 0.0}
    for k in sorted({K + 1 + k if k < 0 else k for k in at}):
        if not 1 <= k <= K or k not in snaps or k - 1 not in snaps:
            continue
        r = replay_step(snaps[k - 1], snaps[k], trace.row(k - 1), X, y, beta=trace.meta["beta"],
                        lam=trace.meta["lam"], activation=act, curvature=curvature,
                        curvature_factor=curvature_factor, dps=dps)
        per_k[k] = r
        for part, tol in (("step", rtol), ("record", record_rtol)):
            for name, v in r[part].items():
                mx[part] = max(mx[part], v)
                if v / tol > ratio:
                    ratio, worst = v / tol, (k, f"{part} {name}")
    status = str((trace.meta or {}).get("status"))
    return {"holds": bool(per_k) and 0 <= ratio <= 1 and status != "non_finite",
            "max": max(mx.values()), "max_step": mx["step"], "max_record": mx["record"],
            "ratio": ratio, "worst": worst, "per_k": per_k, "status": status}


def keep_iterates(store):
    """A ``callback`` for :class:`solver.ADMM` that copies every iterate into ``store``
    (``{k: {"W", "V", "Lam"}}``), for :func:`replay_trace`."""
    def keep(res):
        st = res.state
        store[st.k] = {f: [np.array(a, copy=True) for a in getattr(st, f)] for f in _STATE}
    return keep


def replay_fit(model, X, y, *, init_weights, at=(1, 2, -1), rtol=REPLAY_RTOL,
               record_rtol=REPLAY_RECORD_RTOL, dps=30):
    """Fit ``model`` (an unfitted :class:`solver.ADMM` without a callback) from ``init_weights``
    keeping its iterates, and :func:`replay_trace` the iterations ``at``."""
    if getattr(model, "callback", None) is not None:
        raise ValueError("model: expected no callback (replay_fit installs its own)")
    snaps = {}
    model.set_params(callback=keep_iterates(snaps))
    try:
        model.fit(X, y, init_weights=init_weights)
    finally:
        model.set_params(callback=None)
    return replay_trace(snaps, model.trace_, X, y, init_weights=init_weights,
                        activation=model.get_params()["activation"], curvature=model.curvature,
                        curvature_factor=model.curvature_factor, at=at, rtol=rtol,
                        record_rtol=record_rtol, dps=dps)
