"""High-precision cross-check: the reference steps of :mod:`solver.admm.steps` in mpmath.

float64 cannot resolve the input-layer blocks of the derived depth-2 schedules
(``beta_1 ~ 1e16``: :func:`verify.conditions.numerical_validity`).  This module runs the
same formulas as :mod:`solver.admm.steps` -- one function per step, the same order, the same
curvature rule -- with every number an ``mpmath.mpf`` at ``dps`` decimal digits (default
50), on numpy object arrays, so that a few iterations of a small problem (n ~ 40, widths
~ 4) can be recorded exactly enough to decide the checks that float64 leaves to noise.

* :func:`run` returns a :class:`solver.Trace` with the fields of the solver's trace
  (``lagrangian`` and its four parts, ``dW2``, ``dV2``, ``dLam2``, ``feas``, ``kkt``,
  ``kkt_total``, ``normW``, ``normV``, ``normLam``, ``curvature``, ``curvature_V``)
  computed in high precision and rounded to float64 only when stored; every check of
  :mod:`verify` reads it like a solver trace.
* :func:`run_float64` records the same fields with :mod:`solver.admm.steps` itself (float64),
  from the same initial point.
* :func:`compare` gives, per field and layer, the largest relative difference of two
  traces, i.e. which float64 quantities are noise.

This is the slow, independent transcription (a few iterations); long runs at a chosen
precision use :mod:`solver.admm.extprec` (python-flint ``arb_mat``; 14x faster per iteration at the same
precision, depth 2, n = 40, widths 4, measured at load 12), which the
tests cross-check against this module.

Linear systems are solved by an LU factorisation at the working precision
(``mpmath.lu_solve``); at 50 digits a system with condition number ``1e20`` still keeps
about 30 correct digits, far beyond what float64 stores.  The initial weights and the
data are converted exactly (a float64 is an ``mpf`` with a 53-bit mantissa).
"""

from __future__ import annotations

import mpmath
import numpy as np

from solver import init_weights, tasks
from solver.admm import steps as S
from solver.admm.problem import data_meta
from solver.trace import Trace
from theory import get_activation

from .conditions import numerical_validity

__all__ = ["run", "run_float64", "compare", "FIELDS"]

#: trace fields recorded by :func:`run` and :func:`run_float64`
FIELDS = ("lagrangian", "loss", "reg", "dual", "penalty", "dW2", "dV2", "dLam2", "feas", "kkt",
          "kkt_total", "normW", "normV", "normLam", "curvature", "curvature_V")


# ------------------------------------------------------------------ object-array helpers
def _mp(a):
    """A float array as an object array of exact ``mpf`` values."""
    a = np.asarray(a, dtype=float)
    out = np.empty(a.shape, dtype=object)
    for idx, v in np.ndenumerate(a):
        out[idx] = mpmath.mpf(v)
    return out


def _eye(n):
    out = np.empty((n, n), dtype=object)
    out[...] = mpmath.mpf(0)
    for i in range(n):
        out[i, i] = mpmath.mpf(1)
    return out


def _ones(shape):
    out = np.empty(shape, dtype=object)
    out[...] = mpmath.mpf(1)
    return out


def _augment(V):
    return np.vstack([V, _ones((1, V.shape[1]))])


def _solve(M, R):
    """``M^{-1} R`` for a square ``M`` (LU at the working precision), column by column."""
    Mm = mpmath.matrix(M.tolist())
    out = np.empty(R.shape, dtype=object)
    for j in range(R.shape[1]):
        x = mpmath.lu_solve(Mm, mpmath.matrix([[v] for v in R[:, j]]))
        for i in range(R.shape[0]):
            out[i, j] = x[i]
    return out


def _solve_right(R, M):
    """``R M^{-1}`` for symmetric ``M``."""
    return _solve(M, R.T).T


def _sq(a):
    return mpmath.fsum(v * v for v in a.ravel())


def _norm(a):
    return mpmath.sqrt(_sq(a))


def _absmax(a):
    return max((abs(v) for v in a.ravel()), default=mpmath.mpf(0))


class _MpAct:
    """Elementwise ``sigma``, ``sigma'`` of a :class:`theory.Activation` in mpmath."""

    def __init__(self, act):
        self.act = act
        self._f = [act.mp(0), act.mp(1)]

    def __call__(self, U):
        f = self._f[0]
        return np.vectorize(lambda v: mpmath.mpf(f(v)), otypes=[object])(U)

    def d1(self, U):
        f = self._f[1]
        return np.vectorize(lambda v: mpmath.mpf(f(v)), otypes=[object])(U)


# ------------------------------------------------------------------ the steps (mirror steps.py)
def _curvature(B, L, rule, factor):
    """The LLA curvature rule, transcribed here on purpose, not imported from the solver: the
    replay is an independent transcription of Algorithm 1, so that a wrong rule in
    ``solver.admm.steps.curvature_from_bmax`` is seen (tests/test_verify_replay.py plants one)."""
    bmax = _absmax(B)
    if rule == "theory":
        L0, L1, L2 = L
        return factor * (L1 ** 2 + L2 * (L0 + bmax))
    if rule == "reference":
        return bmax / 2
    raise ValueError(f"rule: expected 'theory' or 'reference', got {rule!r}")


def output_weight_step(V_prev, V_N, Lam_N, beta_N, lam):
    A = _augment(V_prev)
    M = lam * _eye(A.shape[0]) + beta_N * (A @ A.T)
    return _solve_right((beta_N * V_N - Lam_N) @ A.T, M)


def lla_weight_step(W_old, V_prev, V_i, Lam_i, beta_i, lam, act, L, rule, factor):
    A = _augment(V_prev)
    B = V_i - Lam_i / beta_i
    U0 = W_old @ A
    G = (act(U0) - B) * act.d1(U0)
    c = _curvature(B, L, rule, factor)
    M = lam * _eye(A.shape[0]) + beta_i * c * (A @ A.T)
    return _solve_right(beta_i * (c * U0 - G) @ A.T, M), c


def lla_activation_step(V_old, V_prev_new, W_i, W_next, V_next_old, Lam_i, Lam_next, beta_i,
                        beta_next, act, L, rule, factor):
    C = act(W_i @ _augment(V_prev_new)) + Lam_i / beta_i
    Bp = V_next_old - Lam_next / beta_next
    U0 = W_next @ _augment(V_old)
    G = (act(U0) - Bp) * act.d1(U0)
    c = _curvature(Bp, L, rule, factor)
    Wbar = W_next[:, :-1]
    M = beta_i * _eye(Wbar.shape[1]) + beta_next * c * (Wbar.T @ Wbar)
    rhs = beta_i * C + beta_next * (Wbar.T @ (c * (Wbar @ V_old) - G))
    return _solve(M, rhs), c


def last_hidden_activation_step(V_prev_new, W_i, W_N, V_N_old, Lam_i, Lam_N, beta_i, beta_N, act):
    Wbar, b = W_N[:, :-1], W_N[:, -1:]
    M = beta_i * _eye(Wbar.shape[1]) + beta_N * (Wbar.T @ Wbar)
    rhs = Lam_i + beta_i * act(W_i @ _augment(V_prev_new)) - Wbar.T @ (Lam_N - beta_N * (V_N_old - b))
    return _solve(M, rhs)


def output_activation_step(V_prev_new, W_N, Y, Lam_N, beta_N):
    return (Y + Lam_N + beta_N * (W_N @ _augment(V_prev_new))) / (1 + beta_N)


def constraint_residuals(W, V, X, act):
    N = len(W)
    F, prev = [], X
    for j in range(N):
        Z = W[j] @ _augment(prev)
        F.append((act(Z) if j < N - 1 else Z) - V[j])
        prev = V[j]
    return F


def augmented_lagrangian(W, V, Lam, X, Y, lam, beta, act):
    F = constraint_residuals(W, V, X, act)
    loss = _sq(V[-1] - Y) / 2
    reg = lam / 2 * mpmath.fsum(_sq(w) for w in W)
    dual = mpmath.fsum(mpmath.fsum((Lm * f).ravel()) for Lm, f in zip(Lam, F))
    pen = mpmath.fsum(b / 2 * _sq(f) for f, b in zip(F, beta))
    return {"loss": loss, "reg": reg, "dual": dual, "penalty": pen,
            "lagrangian": loss + reg + dual + pen}, F


def kkt_residuals(W, V, Lam, X, Y, lam, act):
    N = len(W)
    A = [_augment(X)] + [_augment(v) for v in V[:-1]]
    P = [Lam[j] * act.d1(W[j] @ A[j]) if j < N - 1 else Lam[j] for j in range(N)]
    rW = [lam * W[j] + P[j] @ A[j].T for j in range(N)]
    rV = [-Lam[j] + W[j + 1][:, :-1].T @ P[j + 1] for j in range(N - 1)]
    rV.append(V[-1] - Y - Lam[-1])
    return rW + rV


def initial_point(W, X, act):
    N = len(W)
    V, H = [], X
    for j in range(N):
        Z = W[j] @ _augment(H)
        H = act(Z) if j < N - 1 else Z
        V.append(H)
    zero = [np.vectorize(lambda v: mpmath.mpf(0), otypes=[object])(v) for v in V]
    return V, zero


def admm_iteration(W, V, Lam, X, Y, lam, beta, act, L, rule="theory", factor=2):
    """One iteration of Algorithm 1 (:func:`solver.admm.steps.admm_iteration`, in mpmath)."""
    N = len(W)
    W, V, Lam = list(W), list(V), list(Lam)
    Vold = list(V)
    cW = [None] * N
    cV = [None] * N
    Vin = [X] + Vold[:-1]
    W[N - 1] = output_weight_step(Vin[N - 1], Vold[N - 1], Lam[N - 1], beta[N - 1], lam)
    for j in range(N - 2, -1, -1):
        W[j], cW[j] = lla_weight_step(W[j], Vin[j], Vold[j], Lam[j], beta[j], lam, act, L, rule,
                                      factor)
    for j in range(0, N - 2):
        prev = X if j == 0 else V[j - 1]
        V[j], cV[j] = lla_activation_step(Vold[j], prev, W[j], W[j + 1], Vold[j + 1], Lam[j],
                                          Lam[j + 1], beta[j], beta[j + 1], act, L, rule, factor)
    prev = X if N == 2 else V[N - 3]
    V[N - 2] = last_hidden_activation_step(prev, W[N - 2], W[N - 1], Vold[N - 1], Lam[N - 2],
                                           Lam[N - 1], beta[N - 2], beta[N - 1], act)
    V[N - 1] = output_activation_step(V[N - 2], W[N - 1], Y, Lam[N - 1], beta[N - 1])
    F = constraint_residuals(W, V, X, act)
    Lam = [Lm + b * f for Lm, f, b in zip(Lam, F, beta)]
    return W, V, Lam, cW, cV


# ------------------------------------------------------------------ runs
def _setup(X, y, init_weights, beta, activation):
    act = get_activation(activation)
    X = np.asarray(X, float)
    Y = np.asarray(y, float)
    if Y.ndim == 1:
        Y = Y[:, None]
    W = [np.hstack([np.asarray(Wi, float), np.asarray(bi, float).reshape(-1, 1)])
         for Wi, bi in init_weights]
    N = len(W)
    beta = [float(b) for b in np.broadcast_to(np.asarray(beta, float), (N,))]
    return act, X.T, Y.T, W, beta


def _meta(act, X, beta, lam, rule, factor, widths, dps):
    return {"activation": act.name, "activation_expr": str(act.expr), "beta": list(beta),
            "lam": float(lam), "curvature": rule, "curvature_factor": float(factor),
            "n_samples": int(X.shape[1]), "widths": list(widths), "n_layers": len(widths) - 1,
            "engine_used": "mpmath" if dps else "float64 steps", "dps": dps}


def run(X, y, init_weights, *, beta, lam, activation="sigmoid", iters=5, curvature="theory",
        curvature_factor=2.0, dps=50):
    """``iters`` iterations of Algorithm 1 at ``dps`` decimal digits; returns a :class:`solver.Trace`.

    ``X`` (n, d), ``y`` (n,) or (n, m), ``init_weights`` ``[(W_i, b_i)]`` (solver
    orientation), ``beta`` scalar or per layer.  The trace's ``meta`` carries the settings
    (``beta``, ``lam``, ``activation``, ``n_samples``, ``dps``) so that
    :func:`verify.conditions.a_posteriori` and the checks read it like a solver trace;
    ``meta["state"]`` is absent (the high-precision iterate is returned by :func:`run_state`).
    """
    tr, _ = run_state(X, y, init_weights, beta=beta, lam=lam, activation=activation, iters=iters,
                      curvature=curvature, curvature_factor=curvature_factor, dps=dps)
    return tr


def run_state(X, y, init_weights, *, beta, lam, activation="sigmoid", iters=5, curvature="theory",
              curvature_factor=2.0, dps=50):
    """:func:`run` and the final high-precision iterate ``(W, V, Lam)`` (object arrays)."""
    act, Xf, Yf, Wf, beta = _setup(X, y, init_weights, beta, activation)
    widths = [Xf.shape[0]] + [w.shape[0] for w in Wf]
    N = len(Wf)
    tr = Trace.empty(N, iters, meta=_meta(act, Xf, beta, lam, curvature, curvature_factor,
                                          widths, dps))
    tr.meta.update(data_meta(act, Xf.T, Yf.T, init_weights, lam, beta))
    with mpmath.workdps(int(dps)):
        ma = _MpAct(act)
        L = tuple(mpmath.mpf(v) for v in (act.L(0), act.L(1), act.L(2)))
        Xm, Ym = _mp(Xf), _mp(Yf)
        W = [_mp(w) for w in Wf]
        bm = [mpmath.mpf(b) for b in beta]
        lm = mpmath.mpf(float(lam))
        fac = mpmath.mpf(float(curvature_factor))
        V, Lam = initial_point(W, Xm, ma)
        for k in range(iters):
            Wn, Vn, Ln, cW, cV = admm_iteration(W, V, Lam, Xm, Ym, lm, bm, ma, L, curvature, fac)
            parts, F = augmented_lagrangian(Wn, Vn, Ln, Xm, Ym, lm, bm, ma)
            kk = [_norm(r) for r in kkt_residuals(Wn, Vn, Ln, Xm, Ym, lm, ma)]
            fe = [_norm(f) for f in F]
            row = {key: float(v) for key, v in parts.items()}
            row.update(
                dW2=[float(_sq(a - b)) for a, b in zip(Wn, W)],
                dV2=[float(_sq(a - b)) for a, b in zip(Vn, V)],
                dLam2=[float(_sq(a - b) / bb) for a, b, bb in zip(Ln, Lam, bm)],
                feas=[float(v) for v in fe], kkt=[float(v) for v in kk],
                kkt_total=float(mpmath.sqrt(mpmath.fsum(v * v for v in kk + fe))),
                normW=[float(_norm(w)) for w in Wn], normV=[float(_norm(v)) for v in Vn],
                normLam=[float(_norm(v)) for v in Ln],
                curvature=[np.nan if c is None else float(c) for c in cW],
                curvature_V=[np.nan if c is None else float(c) for c in cV])
            _store(tr, k, row)
            W, V, Lam = Wn, Vn, Ln
    return tr, (W, V, Lam)


def _store(tr, k, row):
    for key, v in row.items():
        getattr(tr, key)[k] = v
    tr.set_length(k + 1)


def run_float64(X, y, init_weights, *, beta, lam, activation="sigmoid", iters=5,
                curvature="theory", curvature_factor=2.0):
    """The same record in float64 with :mod:`solver.admm.steps` (the numpy reference)."""
    act, Xf, Yf, W, beta = _setup(X, y, init_weights, beta, activation)
    widths = [Xf.shape[0]] + [w.shape[0] for w in W]
    N = len(W)
    tr = Trace.empty(N, iters, meta=_meta(act, Xf, beta, lam, curvature, curvature_factor,
                                          widths, 0))
    tr.meta.update(data_meta(act, Xf.T, Yf.T, init_weights, lam, beta))
    V, Lam = S.initial_point(W, Xf, act)
    for k in range(iters):
        Wn, Vn, Ln, cW, cV = S.admm_iteration(W, V, Lam, Xf, Yf, lam, beta, act, curvature,
                                              curvature_factor)
        parts = S.augmented_lagrangian(Wn, Vn, Ln, Xf, Yf, lam, beta, act)
        F = S.constraint_residuals(Wn, Vn, Xf, act)
        kk = [np.linalg.norm(r) for r in S.kkt_residuals(Wn, Vn, Ln, Xf, Yf, lam, act)]
        fe = [np.linalg.norm(f) for f in F]
        row = dict(parts)
        row.update(dW2=[np.sum((a - b) ** 2) for a, b in zip(Wn, W)],
                   dV2=[np.sum((a - b) ** 2) for a, b in zip(Vn, V)],
                   dLam2=[np.sum((a - b) ** 2) / bb for a, b, bb in zip(Ln, Lam, beta)],
                   feas=fe, kkt=kk, kkt_total=float(np.sqrt(np.sum(np.square(kk + fe)))),
                   normW=[np.linalg.norm(w) for w in Wn], normV=[np.linalg.norm(v) for v in Vn],
                   normLam=[np.linalg.norm(v) for v in Ln], curvature=cW, curvature_V=cV)
        _store(tr, k, row)
        W, V, Lam = Wn, Vn, Ln
    return tr


def compare(trace_a, trace_b, fields=FIELDS, atol=1e-300):
    """Largest relative difference ``|a - b| / max(|a|, |b|, atol)`` per field (and per column).

    ``trace_b`` is the reference (the high-precision run).  A value near 1 means ``a`` has
    no correct digit (e.g. the ``V_N`` KKT block, which is exactly 0 from ``k = 1`` on and
    which float64 records as rounding noise).  Returns a dict ``field ->`` float (scalar
    fields) or array (one value per layer / KKT block).
    """
    n = min(len(trace_a), len(trace_b))
    out = {}
    for f in fields:
        a = getattr(trace_a, f, None)
        b = getattr(trace_b, f, None)
        if a is None or b is None:
            continue
        a = np.asarray(a[:n], float)
        b = np.asarray(b[:n], float)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), atol)
            rel = np.abs(a - b) / scale
        rel = np.where(np.isnan(a) & np.isnan(b), 0.0, rel)
        out[f] = np.max(rel, axis=0) if rel.ndim > 1 else float(np.max(rel))
    return out


def main():
    """``python -m verify.highprec``: the calibration table of docs/conditions_derivation.md, H."""
    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((1, 4, 4, 1), "lecun_normal", 1.0, 0)
    print("activation beta_1  ratio     normLam_1 dLam2_1  dW2_1    L_beta")
    for act in ("sigmoid", "tanh"):
        for lb1 in (4, 8, 10, 12, 14, 16):
            kw = dict(beta=[10.0 ** lb1, 1e3, 1.5], lam=1.0, activation=act, iters=5)
            hp = run(t.X, t.y, w0, **kw)
            d = compare(run_float64(t.X, t.y, w0, **kw), hp)
            r = numerical_validity(hp)["ratio"][0]
            print(f"{act:<10} 1e{lb1:<5} {r:<9.2g} {d['normLam'][0]:<9.2g} {d['dLam2'][0]:<8.2g} "
                  f"{d['dW2'][0]:<8.2g} {d['lagrangian']:.1g}")


if __name__ == "__main__":
    main()
