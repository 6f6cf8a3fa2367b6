"""A catalogue of doctored traces: runs that must not PASS, beside good ones that must.

Every check of :mod:`verify.checks` can be tested against this catalogue (as pytest
fixtures, or in a user's own suite): each :class:`Doctored` entry is a trace that breaks one
claim of Theorem 4 in a known way, the check it targets, and the constants that are known by
construction (so that the check is decided on the doctoring, not on missing constants).  The
good traces (:func:`synthetic_run`, :func:`real_run`) must PASS.

Most doctored kinds edit one field and so break an identity of the trace: they are now
refused by :func:`verify.validate_trace` before any check (outcome ``"REFUSED"``);
:func:`reconcile` carries a doctoring into the dependent fields so that the checks' own rules
decide (:func:`catalogue` with ``consistent=True``).

The doctored kinds are those an audit of ``verify`` used against it (issue 10): single rises
of ``L_beta`` of several sizes at many positions, 1 % multiplicative noise, a 2-cycle with
constant ``L``, descent of only 1e-9 of the step, KKT laws slower than the proof allows
(``k^-0.5``, ``k^-0.55``), a diverging residual, flat-then-drop, stationary noise,
``sqrt(k)`` and ``log k`` growth of the iterates, a dual/primal ratio growing like
``k^0.9`` and feasibility plateaus.

The synthetic good trace is built from the definitions, not from the code under test:
primal steps ``P_k = P_0 q^{2k}`` split over the layers, ``Lhat^k`` falling by exactly
``a_true P_k`` (so ``a = a_true / 2`` is a valid descent constant), ``L_beta = Lhat - sum_i
xi_i ||dV_i||^2``, ``r_k = sqrt(P_k + P_{k-1})`` (relative-error constant 1), dual steps at
half their Lemma-18 bound, feasibility ``0.1 sqrt(P_k)``, saturating norms.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from solver import ADMM, tasks
from solver.trace import Trace

from . import checks as _checks
from .integrity import TraceIntegrityError

__all__ = ["Doctored", "synthetic_run", "consistent_trace", "reconcile", "catalogue", "rise_positions", "real_run",
           "GOOD_CONSTANTS"]

#: the constants a synthetic good run is built with (``a`` is half the true margin)
GOOD_CONSTANTS = {"a_true": 1.0, "a": 0.5, "b": 1.0}


@dataclass
class Doctored:
    """One doctored trace: ``kind`` (a label), ``family``, the ``trace``, the ``check`` it
    targets, the keyword arguments that give that check the constants known by construction,
    and the verdicts it may get (never PASS)."""

    kind: str
    family: str
    trace: Trace
    check: str
    kwargs: dict = field(default_factory=dict)
    allowed: tuple = ("FAIL", "INCONCLUSIVE", "REFUSED")

    def run(self, checks_module=None):
        """Run the targeted check (from ``checks_module``, default :mod:`verify.checks`); a
        trace whose fields contradict each other raises :class:`verify.TraceIntegrityError`."""
        if checks_module is None:
            checks_module = _checks
        return getattr(checks_module, self.check)(self.trace, **self.kwargs)

    def outcome(self, checks_module=None):
        """``(verdict or "REFUSED", reason)``: the targeted check's verdict, or ``"REFUSED"``
        when :func:`verify.validate_trace` refuses the trace (the doctoring broke an identity)."""
        try:
            r = self.run(checks_module)
        except TraceIntegrityError as exc:
            return "REFUSED", str(exc)
        return str(r.verdict), r.reason


def _lemma18_rhs_depth1(tr, beta):
    """The depth-1 Lemma-18 bound on ||DLam_1^k|| from the trace's norms (row 0: nan)."""
    b2 = beta[1]
    d2 = np.sqrt(tr.dV2[:, 1])
    e2 = np.sqrt(tr.dW2[:, 1])
    w = tr.normW[:, 1]
    r_prev = np.concatenate([[np.nan], (tr.normLam[:, 1] + b2 * d2)[:-1]])
    d2p = np.concatenate([[np.nan], d2[:-1]])
    return w * ((1 + b2) * d2 + b2 * d2p) + r_prev * e2


def reconcile(tr, iters=8, min_loss=1.0):
    """Make a (doctored) ADMM trace satisfy every identity of :func:`verify.validate_trace`,
    in place, keeping what a doctoring edits: ``lagrangian`` (up to a constant shift that keeps
    the loss >= ``min_loss``), the steps ``dW2, dV2``, ``feas``, ``kkt_total``, the norms ``normW, normV``
    and the hidden ``normLam``.  The dependent fields follow the definitions: steps grow to
    cover the recorded norm changes; ``dLam2 = beta feas^2`` (``feas`` grows to cover the
    multiplier norms' changes); ``reg = lam/2 sum ||W_i||^2``; ``penalty = sum beta_i/2
    ||F_i||^2``; ``dual`` clipped to Cauchy-Schwarz; ``loss = L - reg - dual - penalty``;
    ``||Lam_N|| = sqrt(2 loss)`` (``Lam_N = V_N - Y``); ``kkt`` blocks split ``kkt_total^2 -
    sum ||F_i||^2``.  Returns ``tr``.  (How a doctoring that keeps the trace consistent is
    made: the checks' rules are then what decides.)"""
    n, N = len(tr), tr.n_layers
    beta = (tr.meta or {}).get("beta")
    b = None if beta is None else np.broadcast_to(np.asarray(beta, float), (N,)).copy()
    lam = (tr.meta or {}).get("lam")
    sl = slice(0, n)

    def cover(norm, d2, scale=None):
        dn = np.abs(np.diff(norm[sl], axis=0)) * (1 + 1e-9)
        need = dn ** 2 if scale is None else dn / scale
        d2[1:n] = np.maximum(d2[1:n], need)

    cover(tr.normW, tr.dW2)
    cover(tr.normV, tr.dV2)
    if lam is not None:
        tr.reg[sl] = 0.5 * float(lam) * (tr.normW[sl] ** 2).sum(axis=1)
    L = np.array(tr.lagrangian[sl], float)
    shift = 0.0
    for _ in range(iters):
        if b is not None:
            fh = tr.feas[sl, :N - 1]
            dn = np.abs(np.diff(tr.normLam[sl, :N - 1], axis=0)) * (1 + 1e-9)
            fh[1:] = np.maximum(fh[1:], dn / b[:N - 1])
            tr.feas[sl, :N - 1] = fh
            tr.penalty[sl] = 0.5 * (b * tr.feas[sl] ** 2).sum(axis=1)
        cs = (tr.normLam[sl] * tr.feas[sl]).sum(axis=1)
        tr.dual[sl] = np.clip(tr.dual[sl], -cs, cs)
        base = L - tr.reg[sl] - tr.dual[sl] - tr.penalty[sl]
        shift = max(shift, min_loss - float(base.min()))
        tr.loss[sl] = base + shift
        tr.normLam[sl, N - 1] = np.sqrt(2.0 * tr.loss[sl])
        if b is None:
            break
        dn = np.abs(np.diff(tr.normLam[sl, N - 1])) * 1.25
        tr.feas[1:n, N - 1] = np.maximum(tr.feas[1:n, N - 1], dn / b[N - 1])
    if b is not None:
        tr.penalty[sl] = 0.5 * (b * tr.feas[sl] ** 2).sum(axis=1)
        tr.dLam2[sl] = b * tr.feas[sl] ** 2
        cs = (tr.normLam[sl] * tr.feas[sl]).sum(axis=1)
        tr.dual[sl] = np.clip(tr.dual[sl], -cs, cs)
    tr.lagrangian[sl] = L + shift
    tr.loss[sl] = tr.lagrangian[sl] - tr.reg[sl] - tr.dual[sl] - tr.penalty[sl]
    tr.normLam[sl, N - 1] = np.sqrt(2.0 * np.maximum(tr.loss[sl], 0.0))
    F2 = (tr.feas[sl] ** 2).sum(axis=1)
    kt = np.sqrt(np.maximum(np.asarray(tr.kkt_total[sl], float) ** 2, F2))
    rem = np.maximum(kt ** 2 - F2, 0.0)
    tr.kkt[sl] = np.sqrt(rem / (2 * N - 1))[:, None]
    tr.kkt[sl, 2 * N - 1] = 0.0
    tr.kkt_total[sl] = np.sqrt((tr.kkt[sl] ** 2).sum(axis=1) + F2)
    return tr


def with_initial_point(tr, rounds=4):
    """Give a (synthetic) ADMM trace the initial record of a run started at paper eq. (7), in
    place: ``Lam^0 = 0``, no penalty, no dual term, the norms of ``W^0, V^0`` and the loss those
    of row 1 (a first step that moves only the multipliers), so every tie of
    :func:`verify.validate_trace` to the initial point holds: row 1's multiplier steps cover
    ``||Lam^1||`` (``||Lam_i^1 - 0|| = beta_i ||F_i^1||``), then :func:`reconcile`.  Returns ``tr``."""
    N = tr.n_layers
    b = np.broadcast_to(np.asarray((tr.meta or {})["beta"], float), (N,))
    for _ in range(rounds):
        tr.feas[0] = np.maximum(tr.feas[0], tr.normLam[0] / b * (1 + 1e-9))
        reconcile(tr, min_loss=0.0)
    L0 = float(tr.loss[0] + tr.reg[0])
    tr.meta["initial"] = {"loss": float(tr.loss[0]), "reg": float(tr.reg[0]), "dual": 0.0,
                          "penalty": 0.0, "lagrangian": L0,
                          "normW": [float(v) for v in tr.normW[0]],
                          "normV": [float(v) for v in tr.normV[0]], "normLam": [0.0] * N}
    return tr


def consistent_trace(dW2, dV2, L_shape, kkt_total, *, beta=None, lam=None, dLam2_hidden=None,
                     feas=None, meta=None, norm0=(1.0, 2.0, 1.0), drift=0.1, min_loss=20.0):
    """A trace that satisfies every identity of :func:`verify.validate_trace`, built around
    the given primal steps ``dW2, dV2 (K, N)``, a Lagrangian shape ``L_shape (K,)`` (shifted by a
    constant so that the loss stays >= ``min_loss``) and KKT residual ``kkt_total (K,)``.

    The dependent fields follow the definitions: norms move by ``drift`` times the recorded
    steps; ``Lam_N = V_N - Y`` (so ``||Lam_N|| = sqrt(2 loss)``, ``||DLam_N|| >= |D sqrt(2 loss)|``);
    with ``beta``, ``dLam2_i = beta_i ||F_i||^2`` (hidden ``dLam2`` given, output
    ``dLam2_N = max(dV2_N, (D||Lam_N||)^2) / beta_N``); ``reg = lam/2 sum ||W_i||^2``
    (``lam`` 1 when not given), ``penalty = sum beta_i/2 ||F_i||^2``, ``dual = 0``, ``loss = L -
    reg - penalty``, ``kkt`` blocks splitting ``kkt_total^2 - sum ||F_i||^2``.
    """
    dW2, dV2 = np.asarray(dW2, float), np.asarray(dV2, float)
    K, N = dW2.shape
    meta = dict(meta or {})
    if beta is not None:
        meta["beta"] = [float(b) for b in beta]
    if lam is not None:
        meta["lam"] = float(lam)
    tr = Trace.empty(N, K, meta=meta)
    tr.dW2[:], tr.dV2[:] = dW2, dV2
    lam_e = 1.0 if lam is None else float(lam)
    tr.normW[:] = norm0[0] + drift * np.cumsum(np.sqrt(dW2), axis=0)
    tr.normV[:] = norm0[1] + drift * np.cumsum(np.sqrt(dV2), axis=0)
    reg = 0.5 * lam_e * (tr.normW ** 2).sum(axis=1)
    F = np.zeros((K, N))
    dl = np.zeros((K, N))
    if beta is not None:
        b = np.asarray(beta, float)
        if dLam2_hidden is not None:
            dl[:, :N - 1] = np.asarray(dLam2_hidden, float)[:, :N - 1]
        else:
            dl[:, :N - 1] = 1e-3 * dV2[:, :N - 1] / b[:N - 1]
        dl[:, N - 1] = dV2[:, N - 1] / b[N - 1]
    else:
        b = np.ones(N)
        dl[:] = 0.3 * (dW2 + dV2)
    L = np.asarray(L_shape, float)
    shift = 0.0
    for _ in range(8):                               # fixed point: loss <-> ||Lam_N|| <-> F_N
        F = np.sqrt(dl / b) if beta is not None else (
            np.sqrt(np.asarray(feas, float)) ** 2 if feas is not None else np.sqrt(dl) / N)
        pen = 0.5 * (b * F ** 2).sum(axis=1) if beta is not None else 0.5 * (F ** 2).sum(axis=1)
        base = L - reg - pen
        shift = max(shift, min_loss - float(base.min()))
        loss = base + shift
        lamN = np.sqrt(2.0 * loss)
        if beta is None:
            break
        d = np.abs(np.diff(lamN, prepend=lamN[0]))
        need = 1.25 * d ** 2 / b[N - 1]
        dl[:, N - 1] = np.maximum(dV2[:, N - 1] / b[N - 1], need)
    F = np.sqrt(dl / b) if beta is not None else F
    pen = 0.5 * (b * F ** 2).sum(axis=1) if beta is not None else 0.5 * (F ** 2).sum(axis=1)
    loss = L - reg - pen + shift
    lamN = np.sqrt(2.0 * loss)
    tr.feas[:] = F
    tr.dLam2[:] = dl if beta is not None else dl
    tr.normLam[:, :N - 1] = norm0[2] + drift * np.cumsum(b[:N - 1] * F[:, :N - 1], axis=0)
    tr.normLam[:, N - 1] = lamN
    tr.reg[:], tr.penalty[:], tr.dual[:], tr.loss[:] = reg, pen, 0.0, loss
    tr.lagrangian[:] = L + shift
    kt = np.asarray(kkt_total, float)
    rem = kt ** 2 - (F ** 2).sum(axis=1)
    if np.any(rem < 0):
        kt = np.sqrt(np.maximum(kt ** 2, (F ** 2).sum(axis=1)))
        rem = np.maximum(kt ** 2 - (F ** 2).sum(axis=1), 0.0)
    tr.kkt[:] = np.sqrt(rem / (2 * N - 1))[:, None]
    tr.kkt[:, 2 * N - 1] = 0.0                        # ||V_N - Y - Lam_N|| = 0
    tr.kkt_total[:] = np.sqrt((tr.kkt ** 2).sum(axis=1) + (F ** 2).sum(axis=1))
    tr.train_mse[:] = 0.1
    tr.time[:] = np.arange(1, K + 1) * 1e-3
    tr.curvature[:] = 1.0
    tr.curvature_V[:] = 1.0
    tr.set_length(K)
    return tr


def synthetic_run(K=300, N=2, q=0.97, P0=1.0, xi=None, seed=0, beta=(100.0, 10.0), lam=1.0,
                  r_law=None, b=1.0):
    """A good trace with known constants (module docstring); returns ``(trace, constants)``.

    ``xi``: the per-layer Lyapunov weights the run needs (default 0.3 on the output layer,
    so that ``L_beta`` alone need not fall).  ``r_law``: an array of ``K`` KKT residuals to
    impose; the primal steps are then made consistent with it, ``P_k = (r_k / b)^2 / 2``,
    and ``Lhat`` falls by ``a_true P_k`` (so only the rate logic can tell the law).
    ``constants``: ``{"xi", "a", "b"}`` valid for the trace (descent constant half the true one).
    Every identity of :func:`verify.validate_trace` holds (:func:`consistent_trace`).
    """
    rng = np.random.default_rng(seed)
    beta = tuple(float(v) for v in (beta if len(beta) == N else (beta[0],) * (N - 1) + (beta[-1],)))
    meta = {"synthetic": True, "activation": "sigmoid", "activation_expr": "1/(1 + exp(-t))", "n_samples": 50,
            "widths": [1] + [4] * (N - 1) + [1]}
    k = np.arange(1, K + 1)
    if r_law is None:
        P = P0 * q ** (2 * k)
    else:
        r_law = np.asarray(r_law, float)
        P = (r_law / b) ** 2 / 2.0
    # the output layer's V step takes 30 % of P (Lam_N = V_N - Y moves with it), the rest is split
    split = 0.7 * rng.dirichlet(np.ones(2 * N - 1), size=K)
    dW2 = split[:, :N] * P[:, None]
    dV2 = np.zeros((K, N))
    dV2[:, :N - 1] = split[:, N:] * P[:, None]
    dV2[:, N - 1] = 0.3 * P
    xi_v = np.zeros(N) if xi is None else np.broadcast_to(np.asarray(xi, float), (N,)).copy()
    if xi is None:
        xi_v[-1] = 0.3
    a_true = GOOD_CONSTANTS["a_true"]
    Lhat = 10.0 - a_true * np.cumsum(P)
    L = Lhat - dV2 @ xi_v
    Pprev = np.concatenate([[P[0]], P[:-1]])
    kt = np.sqrt(P + Pprev) if r_law is None else r_law
    # dual steps: output layer ||DLam_N|| >= ||DV_N||, hidden layers at half their Lemma-18 bound
    probe = Trace.empty(N, K, meta={"beta": list(beta)})
    probe.dV2[:], probe.dW2[:] = dV2, dW2
    sat = 1.0 - q ** k
    probe.normW[:] = 1.0 + 0.2 * sat[:, None]
    probe.normLam[:] = 1.0 + 0.1 * sat[:, None]
    dl = np.zeros((K, N))
    if N == 2:
        rhs = _lemma18_rhs_depth1(probe, beta)
        rhs[0] = rhs[1]
        dl[:, 0] = (0.5 * rhs) ** 2 / beta[0]
    else:
        for i in range(N - 1):
            dl[:, i] = 1e-3 * dV2[:, i] / beta[i]
    tr = consistent_trace(dW2, dV2, L, kt, beta=beta, lam=lam, dLam2_hidden=dl, meta=meta)
    return tr, {"xi": xi_v.tolist(), "a": GOOD_CONSTANTS["a"], "b": b * 1.0}


def _copy(tr):
    return Trace.from_dict(tr.to_dict())


def rise_positions(K=300, every=10, start=2):
    """Positions k for the single-rise sweep (every ``every``-th; ``every=1``: all)."""
    return list(range(start, K + 1, every))


def _descent_kwargs(c):
    return {"xi": c["xi"], "a": c["a"]}


def catalogue(K=300, every=10, sizes=(("1e-6", 1e-6, False), ("1e-3", 1e-3, False),
                                      ("10%|L|", 0.1, True)), seed=0, consistent=False):
    """Every doctored kind (a list of :class:`Doctored`); ``every``: the step of the
    position sweep of single rises (1 = every position).  ``consistent=True``: every doctoring
    carried into the dependent fields (:func:`reconcile`), so that the trace passes
    :func:`verify.validate_trace` and the targeted check's rule decides."""
    good, c = synthetic_run(K=K, seed=seed)
    out = []
    kd = _descent_kwargs(c)
    for label, size, relative in sizes:
        for pos in rise_positions(K, every):
            tr = _copy(good)
            delta = size * abs(tr.lagrangian[pos - 2]) if relative else size
            # L_beta^pos = L_beta^(pos-1) + delta; the later steps keep their descent
            tr.lagrangian[pos - 1:] += tr.lagrangian[pos - 2] - tr.lagrangian[pos - 1] + delta
            out.append(Doctored(f"rise {label} at k={pos}", "rise " + label, tr,
                                "sufficient_descent", kd))
    rng = np.random.default_rng(seed + 1)
    tr = _copy(good)
    tr.lagrangian[:] *= 1 + 0.01 * rng.standard_normal(K)
    out.append(Doctored("multiplicative noise 1%", "noise", tr, "sufficient_descent", kd))
    tr = _copy(good)
    tr.lagrangian[:] = tr.lagrangian[0]
    tr.dW2[:] = tr.dW2[0]
    tr.dV2[:] = tr.dV2[0]                                      # the iterates cycle: equal steps
    out.append(Doctored("2-cycle, constant L", "2-cycle", tr, "sufficient_descent", kd))
    tr = _copy(good)
    P = tr.dW2.sum(axis=1) + tr.dV2.sum(axis=1)
    xi = np.asarray(c["xi"])
    Lhat = 10.0 - 1e-9 * np.cumsum(P)
    tr.lagrangian[:] = Lhat - tr.dV2 @ xi
    out.append(Doctored("descent of 1e-9 of the step", "weak descent", tr, "sufficient_descent", kd))
    k = np.arange(1, K + 1)
    for p in (0.5, 0.55):
        tr, _ = synthetic_run(K=K, seed=seed, r_law=k ** -p)
        out.append(Doctored(f"KKT r_k = k^-{p}", "slow KKT law", tr, "kkt_rate", {}))
        tr, cc = synthetic_run(K=K, seed=seed, r_law=k ** -p)
        out.append(Doctored(f"KKT r_k = k^-{p} (constants given)", "slow KKT law", tr, "kkt_rate",
                            {"xi": cc["xi"], "a": cc["a"], "b": 1.0}))
    tr = _copy(good)
    tr.kkt_total[:] = 1e-3 * 10 ** (k / 20)
    out.append(Doctored("diverging r_k = 1e-3 10^(k/20)", "divergence", tr, "kkt_rate", {}))
    flat = np.ones(K)
    k0 = int(0.85 * K)
    flat[k0:] = 10 ** (-np.arange(1, K - k0 + 1) / (K - k0))   # a 10x drop over the last 15 %
    tr, _ = synthetic_run(K=K, seed=seed, r_law=flat)
    out.append(Doctored("flat 85% then 10x drop", "flat-then-drop", tr, "kkt_rate", {}))
    for j in range(3):
        noise = 1.0 + 0.3 * np.abs(np.random.default_rng(seed + 10 + j).standard_normal(K))
        tr, _ = synthetic_run(K=K, seed=seed, r_law=noise)
        out.append(Doctored(f"stationary noise #{j}", "stationary noise", tr, "kkt_rate", {}))
    for label, law in (("sqrt(k)", np.sqrt(k)), ("log k", np.log(k) + 1.0)):
        for f in ("normW", "normV", "normLam"):
            tr = _copy(good)
            getattr(tr, f)[:, 0 if f == "normLam" else -1] = law   # ||Lam_N|| is sqrt(2 loss)
            out.append(Doctored(f"{label} growth of {f}", f"{label} growth", tr, "bounded_iterates"))
    tr = _copy(good)
    tr.dLam2[:] *= (k ** 0.9)[:, None]
    tr.feas[:, :-1] *= (k ** 0.45)[:, None]        # the same growth through dLam2 = beta feas^2
    out.append(Doctored("dual/primal ratio ~ k^0.9", "growing dual/primal", tr,
                        "dual_bounded_by_primal"))
    for lvl in (1e-2, 1e-6):
        tr = _copy(good)
        f0 = lvl * np.sqrt((tr.normV ** 2).sum(axis=1))
        tr.feas[K // 3:] = (f0[:, None] / np.sqrt(tr.n_layers))[K // 3:]   # flat from k = K/3
        out.append(Doctored(f"feasibility plateau at {lvl:g} ||V||", "feasibility plateau", tr,
                            "feasibility_to_zero"))
    if consistent:
        for d in out:
            reconcile(d.trace)
    return out


@lru_cache(maxsize=64)
def real_run(activation="sigmoid", depth=1, beta=100.0, lam=1.0, width=4, n=60, iters=200, seed=0,
             task="square", engine="numpy"):
    """A small real ADMM run (cached): ``ADMM(hidden_layer_sizes=(width,)*depth, beta, lam)``.

    ``beta``: a number or a tuple per layer.  Returns the fitted estimator.
    """
    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    b = list(beta) if isinstance(beta, tuple) else float(beta)
    m = ADMM(hidden_layer_sizes=(int(width),) * int(depth), beta=b, lam=float(lam),
             activation=activation, max_iter=int(iters), random_state=seed, verbose=0,
             engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y)
    return m
