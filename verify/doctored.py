"""A catalogue of doctored traces: runs that must not PASS, beside good ones that must.

Every check of :mod:`verify.checks` can be tested against this catalogue (as pytest
fixtures, or in a user's own suite): each :class:`Doctored` entry is a trace that breaks one
claim of Theorem 4 in a known way, the check it targets, and the constants that are known by
construction (so that the check is decided on the doctoring, not on missing constants).  The
good traces (:func:`synthetic_run`, :func:`real_run`) must PASS.

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

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from solver.trace import Trace

__all__ = ["Doctored", "synthetic_run", "catalogue", "rise_positions", "real_run",
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
    allowed: tuple = ("FAIL", "INCONCLUSIVE")

    def run(self, checks_module=None):
        """Run the targeted check (from ``checks_module``, default :mod:`verify.checks`)."""
        if checks_module is None:
            from verify import checks as checks_module
        return getattr(checks_module, self.check)(self.trace, **self.kwargs)


def _lemma18_rhs_depth1(tr, beta):
    """The depth-1 Lemma-18 bound on ||DLam_1^k|| from the trace's norms (row 0: nan)."""
    b2 = beta[1]
    d2 = np.sqrt(tr.dV2[:, 1])
    e2 = np.sqrt(tr.dW2[:, 1])
    w = tr.normW[:, 1]
    r_prev = np.concatenate([[np.nan], (tr.normLam[:, 1] + b2 * d2)[:-1]])
    d2p = np.concatenate([[np.nan], d2[:-1]])
    return w * ((1 + b2) * d2 + b2 * d2p) + r_prev * e2


def synthetic_run(K=300, N=2, q=0.97, P0=1.0, xi=None, seed=0, beta=(100.0, 10.0), lam=1.0,
                  r_law=None, b=1.0):
    """A good trace with known constants (module docstring); returns ``(trace, constants)``.

    ``xi``: the per-layer Lyapunov weights the run needs (default 0.3 on the output layer,
    so that ``L_beta`` alone need not fall).  ``r_law``: an array of ``K`` KKT residuals to
    impose; the primal steps are then made consistent with it, ``P_k = (r_k / b)^2 / 2``,
    and ``Lhat`` falls by ``a_true P_k`` (so only the rate logic can tell the law).
    ``constants``: ``{"xi", "a", "b"}`` valid for the trace (descent constant half the true one).
    """
    rng = np.random.default_rng(seed)
    beta = tuple(float(v) for v in (beta if len(beta) == N else (beta[0],) * (N - 1) + (beta[-1],)))
    meta = {"synthetic": True, "beta": list(beta), "lam": float(lam), "activation": "sigmoid",
            "n_samples": 50, "widths": [1] + [4] * (N - 1) + [1]}
    tr = Trace.empty(N, K, meta=meta)
    k = np.arange(1, K + 1)
    if r_law is None:
        P = P0 * q ** (2 * k)
    else:
        r_law = np.asarray(r_law, float)
        P = (r_law / b) ** 2 / 2.0
    split = rng.dirichlet(np.ones(2 * N), size=K)
    tr.dW2[:] = split[:, :N] * P[:, None]
    tr.dV2[:] = split[:, N:] * P[:, None]
    xi_v = np.zeros(N) if xi is None else np.broadcast_to(np.asarray(xi, float), (N,)).copy()
    if xi is None:
        xi_v[-1] = 0.3
    a_true = GOOD_CONSTANTS["a_true"]
    Lhat = 10.0 - a_true * np.cumsum(P)
    L = Lhat - tr.dV2 @ xi_v
    tr.lagrangian[:] = L
    tr.loss[:] = 0.5 * L
    tr.reg[:] = 0.3 * L
    tr.dual[:] = 0.0
    tr.penalty[:] = 0.2 * L
    sat = 1.0 - q ** k
    tr.normW[:] = 1.0 + 0.2 * sat[:, None]
    tr.normV[:] = 2.0 + 0.1 * sat[:, None]
    tr.normLam[:] = 1.0 + 0.1 * sat[:, None]
    tr.feas[:] = 0.1 * np.sqrt(P)[:, None] / N
    Pprev = np.concatenate([[P[0]], P[:-1]])
    tr.kkt_total[:] = np.sqrt(P + Pprev) if r_law is None else r_law
    tr.kkt[:] = tr.kkt_total[:, None] / (2 * N)
    # dual steps: output layer ||DLam_N|| = ||DV_N||, hidden layers at half their bound
    dl = np.zeros((K, N))
    dl[:, N - 1] = tr.dV2[:, N - 1] / beta[N - 1]
    if N == 2:
        rhs = _lemma18_rhs_depth1(tr, beta)
        rhs[0] = rhs[1]
        dl[:, 0] = (0.5 * rhs) ** 2 / beta[0]
    else:
        for i in range(N - 1):
            dl[:, i] = 1e-3 * tr.dV2[:, i] / beta[i]
    tr.dLam2[:] = dl
    tr.train_mse[:] = 0.1
    tr.time[:] = k * 1e-3
    tr.curvature[:] = 1.0
    tr.curvature_V[:] = 1.0
    tr.set_length(K)
    return tr, {"xi": xi_v.tolist(), "a": GOOD_CONSTANTS["a"], "b": b * 1.0}


def _copy(tr):
    return Trace.from_dict(tr.to_dict())


def rise_positions(K=300, every=10, start=2):
    """Positions k for the single-rise sweep (every ``every``-th; ``every=1``: all)."""
    return list(range(start, K + 1, every))


def _descent_kwargs(c):
    return {"xi": c["xi"], "a": c["a"]}


def catalogue(K=300, every=10, sizes=(("1e-6", 1e-6, False), ("1e-3", 1e-3, False),
                                      ("10%|L|", 0.1, True)), seed=0):
    """Every doctored kind (a list of :class:`Doctored`); ``every``: the step of the
    position sweep of single rises (1 = every position)."""
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
            getattr(tr, f)[:, -1] = law
            out.append(Doctored(f"{label} growth of {f}", f"{label} growth", tr, "bounded_iterates"))
    tr = _copy(good)
    tr.dLam2[:] *= (k ** 0.9)[:, None]
    out.append(Doctored("dual/primal ratio ~ k^0.9", "growing dual/primal", tr,
                        "dual_bounded_by_primal"))
    for lvl in (1e-2, 1e-6):
        tr = _copy(good)
        f0 = lvl * np.sqrt((tr.normV ** 2).sum(axis=1))
        tr.feas[K // 3:] = (f0[:, None] / np.sqrt(tr.n_layers))[K // 3:]   # flat from k = K/3
        out.append(Doctored(f"feasibility plateau at {lvl:g} ||V||", "feasibility plateau", tr,
                            "feasibility_to_zero"))
    return out


@lru_cache(maxsize=64)
def real_run(activation="sigmoid", depth=1, beta=100.0, lam=1.0, width=4, n=60, iters=200, seed=0,
             task="square", engine="numpy"):
    """A small real ADMM run (cached): ``ADMM(hidden_layer_sizes=(width,)*depth, beta, lam)``.

    ``beta``: a number or a tuple per layer.  Returns the fitted estimator.
    """
    import warnings

    from solver import ADMM, tasks

    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    b = list(beta) if isinstance(beta, tuple) else float(beta)
    m = ADMM(hidden_layer_sizes=(int(width),) * int(depth), beta=b, lam=float(lam),
             activation=activation, max_iter=int(iters), random_state=seed, verbose=0,
             engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y)
    return m
