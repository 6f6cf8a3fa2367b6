"""Algorithm 1 in extended precision (python-flint ``arb``): runs that float64 cannot resolve.

The derived conditions of Theorem 4 put ``beta_1`` at ``1e8 .. 1e23`` at depth 2-3
(docs/conditions_derivation.md, sections G, K); float64 then loses every digit of the
input layer's multiplier (``verify.conditions.numerical_validity``).  This engine runs the
steps of :mod:`solver.admm.steps` -- one function per step, the same order, the same curvature
rule -- with every number an ``arb`` at ``prec`` bits (default 256: unit round-off
``2^-256 ~ 1e-77``), matrices as ``arb_mat`` (products and solves in C, FLINT):

* ``ball=False`` (default): plain extended-precision floating point: after each iteration
  the iterate is replaced by its midpoint and linear systems are solved by FLINT's approximate
  LU (``algorithm="approx"``), so no enclosure is carried;
* ``ball=True``: ball arithmetic throughout (rigorous LU enclosures, no midpoint reset):
  each recorded quantity is an enclosure of the exact value of Algorithm 1 from the
  float64 data; :func:`run` then also returns lower / upper bounds of the quantities that
  Lemma 14 needs (``meta["enclosures"]``).  The balls widen every iteration (about 18 bits
  per iteration at depth 2); when a system matrix's enclosure contains a singular matrix the
  run stops there with ``meta["status"] = "enclosure_lost"`` (the trace keeps the iterations
  that were enclosed).

:func:`run` returns a :class:`solver.Trace` with the fields of the solver's trace, computed
at ``prec`` bits and rounded to float64 only when stored; ``meta`` records the precision
(``precision_bits``, ``eps = 2^(1 - prec)``, the unit of the numerical-validity guard),
the settings (``beta``, ``lam``, ``activation``, ``n_samples``, ``a0``) and the engine.
The activation is any :class:`theory.Activation` whose expression uses ``exp``, ``cosh``,
``tanh``, ``erf``, ``atan``, ``sqrt``, ``pi`` (the built-ins and most user ones).
"""

from __future__ import annotations

import math
import time

import numpy as np
import sympy as sp
from flint import arb, arb_mat, ctx

from theory import get_activation

from .._validation import as_design
from .problem import data_meta
from .steps import curvature_from_bmax
from ..trace import Trace

__all__ = ["run", "run_state", "ArbActivation", "FIELDS", "DEFAULT_PREC"]

#: default working precision in bits
DEFAULT_PREC = 256

#: trace fields recorded by :func:`run`
FIELDS = ("lagrangian", "loss", "reg", "dual", "penalty", "dW2", "dV2", "dLam2", "feas", "kkt",
          "kkt_total", "normW", "normV", "normLam", "curvature", "curvature_V", "train_mse")


class _Prec:
    """Set ``flint.ctx.prec`` for a block and restore it."""

    def __init__(self, prec):
        self.prec = int(prec)

    def __enter__(self):
        self.old = ctx.prec
        ctx.prec = self.prec

    def __exit__(self, *exc):
        ctx.prec = self.old


# ------------------------------------------------------------------ elementwise helpers
def _from_numpy(a):
    a = np.asarray(a, dtype=float)
    return arb_mat(a.shape[0], a.shape[1], [arb(float(v)) for v in a.ravel()])


def _map(f, M):
    return arb_mat(M.nrows(), M.ncols(), [f(v) for v in M.entries()])


def _had(A, B):
    return arb_mat(A.nrows(), A.ncols(), [x * y for x, y in zip(A.entries(), B.entries())])


def _eye(n):
    return arb_mat(n, n, [arb(1) if i == j else arb(0) for i in range(n) for j in range(n)])


def _augment(V):
    n = V.ncols()
    return arb_mat(V.nrows() + 1, n, V.entries() + [arb(1)] * n)


def _wbar(W):
    """``W`` without its bias column."""
    r, c = W.nrows(), W.ncols()
    e = W.entries()
    return arb_mat(r, c - 1, [e[i * c + j] for i in range(r) for j in range(c - 1)])


def _bias(W):
    r, c = W.nrows(), W.ncols()
    e = W.entries()
    return [e[i * c + c - 1] for i in range(r)]


def _sq(M):
    return sum((v * v for v in M.entries()), arb(0))


def _norm(M):
    # a sum of squares is >= 0: clip the ball's negative part before the square root (an
    # exactly-zero block, e.g. the V_N KKT block, is a ball around 0 after rounding)
    return _sq(M).nonnegative_part().sqrt()


def _absmax(M):
    best = arb(0)
    for v in M.entries():
        best = best.max(abs(v))
    return best


def _mid(M):
    return M.mid()


class ArbActivation:
    """``sigma`` and ``sigma'`` of a :class:`theory.Activation` evaluated on ``arb`` entries.

    The sympy expression is compiled with ``arb`` implementations of its functions; an
    expression using anything else raises ``ValueError`` naming it.
    """

    _FUNCS = {"exp": lambda v: arb(v).exp(), "cosh": lambda v: arb(v).cosh(),
              "sinh": lambda v: arb(v).sinh(), "tanh": lambda v: arb(v).tanh(),
              "erf": lambda v: arb(v).erf(), "atan": lambda v: arb(v).atan(),
              "sqrt": lambda v: arb(v).sqrt(), "log": lambda v: arb(v).log()}

    def __init__(self, act):
        self.act = act
        allowed = set(self._FUNCS) | {"pi"}
        used = {type(f).__name__ for f in sp.preorder_traversal(act.derivative(1))
                if isinstance(f, sp.Function)}
        used |= {type(f).__name__ for f in sp.preorder_traversal(act.expr)
                 if isinstance(f, sp.Function)}
        bad = sorted(u for u in used if u not in allowed)
        if bad:
            raise ValueError(f"activation: {act.name!r} uses {bad}, which the arb engine does not "
                             f"implement (supported: {sorted(allowed)})")
        self._exprs = (act.expr, act.derivative(1))
        self._cache = {}

    def _fns(self):
        p = ctx.prec
        if p not in self._cache:
            mod = dict(self._FUNCS, pi=arb.pi())
            self._cache[p] = tuple(sp.lambdify(self.act.symbol, e, modules=[mod]) for e in self._exprs)
        return self._cache[p]

    def __call__(self, U):
        f = self._fns()[0]
        return _map(lambda v: arb(f(v)), U)

    def d1(self, U):
        f = self._fns()[1]
        return _map(lambda v: arb(f(v)), U)


# ------------------------------------------------------------------ the steps (mirror steps.py)
class _Steps:
    """The steps of :mod:`solver.admm.steps` on ``arb_mat`` (``approx``: approximate LU solves)."""

    def __init__(self, approx):
        self.alg = "approx" if approx else None

    def solve(self, M, R):
        return M.solve(R, algorithm=self.alg or "precond")

    def solve_right(self, R, M):
        return self.solve(M, R.transpose()).transpose()

    @staticmethod
    def curvature(B, L, rule, factor):
        return curvature_from_bmax(_absmax(B), L, rule, factor)

    def output_weight_step(self, V_prev, V_N, Lam_N, beta_N, lam):
        A = _augment(V_prev)
        M = _eye(A.nrows()) * lam + (A * A.transpose()) * beta_N
        return self.solve_right((V_N * beta_N - Lam_N) * A.transpose(), M)

    def lla_weight_step(self, W_old, V_prev, V_i, Lam_i, beta_i, lam, act, L, rule, factor):
        A = _augment(V_prev)
        B = V_i - Lam_i * (1 / beta_i)
        U0 = W_old * A
        G = _had(act(U0) - B, act.d1(U0))
        c = self.curvature(B, L, rule, factor)
        M = _eye(A.nrows()) * lam + (A * A.transpose()) * (beta_i * c)
        return self.solve_right((U0 * c - G) * A.transpose() * beta_i, M), c

    def lla_activation_step(self, V_old, V_prev_new, W_i, W_next, V_next_old, Lam_i, Lam_next,
                            beta_i, beta_next, act, L, rule, factor):
        C = act(W_i * _augment(V_prev_new)) + Lam_i * (1 / beta_i)
        Bp = V_next_old - Lam_next * (1 / beta_next)
        U0 = W_next * _augment(V_old)
        G = _had(act(U0) - Bp, act.d1(U0))
        c = self.curvature(Bp, L, rule, factor)
        Wbar = _wbar(W_next)
        M = _eye(Wbar.ncols()) * beta_i + (Wbar.transpose() * Wbar) * (beta_next * c)
        rhs = C * beta_i + (Wbar.transpose() * ((Wbar * V_old) * c - G)) * beta_next
        return self.solve(M, rhs), c

    def last_hidden_activation_step(self, V_prev_new, W_i, W_N, V_N_old, Lam_i, Lam_N, beta_i,
                                    beta_N, act):
        Wbar, bvec = _wbar(W_N), _bias(W_N)
        n = V_N_old.ncols()
        Bcol = arb_mat(len(bvec), n, [bvec[i] for i in range(len(bvec)) for _ in range(n)])
        M = _eye(Wbar.ncols()) * beta_i + (Wbar.transpose() * Wbar) * beta_N
        rhs = (Lam_i + act(W_i * _augment(V_prev_new)) * beta_i
               - Wbar.transpose() * (Lam_N - (V_N_old - Bcol) * beta_N))
        return self.solve(M, rhs)

    @staticmethod
    def output_activation_step(V_prev_new, W_N, Y, Lam_N, beta_N):
        return (Y + Lam_N + (W_N * _augment(V_prev_new)) * beta_N) * (1 / (1 + beta_N))

    @staticmethod
    def constraint_residuals(W, V, X, act):
        N = len(W)
        F, prev = [], X
        for j in range(N):
            Z = W[j] * _augment(prev)
            F.append((act(Z) if j < N - 1 else Z) - V[j])
            prev = V[j]
        return F

    def admm_iteration(self, W, V, Lam, X, Y, lam, beta, act, L, rule, factor):
        """One iteration of Algorithm 1 (:func:`solver.admm.steps.admm_iteration`)."""
        N = len(W)
        W, V, Lam = list(W), list(V), list(Lam)
        Vold = list(V)
        cW, cV = [None] * N, [None] * N
        Vin = [X] + Vold[:-1]
        W[N - 1] = self.output_weight_step(Vin[N - 1], Vold[N - 1], Lam[N - 1], beta[N - 1], lam)
        for j in range(N - 2, -1, -1):
            W[j], cW[j] = self.lla_weight_step(W[j], Vin[j], Vold[j], Lam[j], beta[j], lam, act, L,
                                               rule, factor)
        for j in range(0, N - 2):
            prev = X if j == 0 else V[j - 1]
            V[j], cV[j] = self.lla_activation_step(Vold[j], prev, W[j], W[j + 1], Vold[j + 1], Lam[j],
                                                   Lam[j + 1], beta[j], beta[j + 1], act, L, rule,
                                                   factor)
        prev = X if N == 2 else V[N - 3]
        V[N - 2] = self.last_hidden_activation_step(prev, W[N - 2], W[N - 1], Vold[N - 1], Lam[N - 2],
                                                    Lam[N - 1], beta[N - 2], beta[N - 1], act)
        V[N - 1] = self.output_activation_step(V[N - 2], W[N - 1], Y, Lam[N - 1], beta[N - 1])
        F = self.constraint_residuals(W, V, X, act)
        Lam = [Lm + f * b for Lm, f, b in zip(Lam, F, beta)]
        return W, V, Lam, cW, cV, F


def _kkt(W, V, Lam, X, Y, lam, act):
    """Blocks of eq. (24) (:func:`solver.admm.steps.kkt_residuals`)."""
    N = len(W)
    A = [_augment(X)] + [_augment(v) for v in V[:-1]]
    P = [_had(Lam[j], act.d1(W[j] * A[j])) if j < N - 1 else Lam[j] for j in range(N)]
    rW = [W[j] * lam + P[j] * A[j].transpose() for j in range(N)]
    rV = [_wbar(W[j + 1]).transpose() * P[j + 1] - Lam[j] for j in range(N - 1)]
    rV.append(V[-1] - Y - Lam[-1])
    return rW + rV


def _forward(W, X, act):
    H = X
    for j, w in enumerate(W):
        Z = w * _augment(H)
        H = act(Z) if j < len(W) - 1 else Z
    return H


# ------------------------------------------------------------------ runs
def _setup(X, y, init_weights, beta, activation):
    act = get_activation(activation)
    X, Y = as_design(X, y)
    W = [np.hstack([np.asarray(Wi, float), np.asarray(bi, float).reshape(-1, 1)])
         for Wi, bi in init_weights]
    N = len(W)
    beta = [float(b) for b in np.broadcast_to(np.asarray(beta, float), (N,))]
    if min(beta) <= 0 or not all(math.isfinite(b) for b in beta):
        raise ValueError(f"beta: expected positive finite penalties, got {beta!r}")
    return act, X.T, Y.T, W, beta


def run(X, y, init_weights, *, beta, lam, activation="sigmoid", iters=300, curvature="theory",
        curvature_factor=2.0, prec=DEFAULT_PREC, ball=False, callback=None):
    """``iters`` iterations of Algorithm 1 at ``prec`` bits; returns a :class:`solver.Trace`.

    ``X`` (n, d), ``y`` (n,) or (n, m), ``init_weights`` ``[(W_i, b_i)]`` (solver orientation,
    ``W_i`` of shape ``(d_i, d_{i-1})``), ``beta`` scalar or per layer.  The data and the
    initial weights enter exactly (a float64 is an ``arb`` with a 53-bit midpoint).  See the
    module docstring for ``ball``.  ``callback(k, trace)`` is called after each iteration.
    """
    return run_state(X, y, init_weights, beta=beta, lam=lam, activation=activation, iters=iters,
                     curvature=curvature, curvature_factor=curvature_factor, prec=prec, ball=ball,
                     callback=callback)[0]


def run_state(X, y, init_weights, *, beta, lam, activation="sigmoid", iters=300,
              curvature="theory", curvature_factor=2.0, prec=DEFAULT_PREC, ball=False,
              callback=None):
    """:func:`run` and the final iterate ``(W, V, Lam)`` as lists of ``arb_mat``."""
    if not isinstance(prec, (int, np.integer)) or isinstance(prec, bool) or prec < 53:
        raise ValueError(f"prec: expected an integer number of bits >= 53, got {prec!r}")
    if not isinstance(iters, (int, np.integer)) or iters < 1:
        raise ValueError(f"iters: expected a positive integer, got {iters!r}")
    lam = float(lam)
    if not (lam > 0 and math.isfinite(lam)):
        raise ValueError(f"lam: expected a positive finite number, got {lam!r}")
    act, Xf, Yf, Wf, beta = _setup(X, y, init_weights, beta, activation)
    N = len(Wf)
    widths = [Xf.shape[0]] + [w.shape[0] for w in Wf]
    meta = {"activation": act.name, "activation_expr": str(act.expr), "beta": list(beta),
            "lam": lam, "curvature": curvature, "curvature_factor": float(curvature_factor),
            "n_samples": int(Xf.shape[1]), "widths": list(widths), "n_layers": N,
            "engine_used": f"extprec (python-flint arb, {int(prec)} bits, "
                           f"{'ball' if ball else 'midpoint'})",
            "precision_bits": int(prec), "eps": 2.0 ** (1 - int(prec)), "ball": bool(ball)}
    meta.update(data_meta(act, Xf.T, Yf.T, init_weights, lam, beta))   # a0, y_norm, initial
    tr = Trace.empty(N, int(iters), meta=meta)
    enc = ({"lagrangian_lo": [], "lagrangian_hi": [], "lagrangian_rad": [], "P_lo": [],
            "P_hi": [], "dV2_lo": [], "dV2_hi": [], "max_rel_rad": []} if ball else None)
    steps = _Steps(approx=not ball)
    t0 = time.perf_counter()
    with _Prec(prec):
        ma = ArbActivation(act)
        L = tuple(arb(float(v)) for v in (act.L(0), act.L(1), act.L(2)))
        Xm, Ym = _from_numpy(Xf), _from_numpy(Yf)
        W = [_from_numpy(w) for w in Wf]
        bm = [arb(b) for b in beta]
        lm, fac = arb(lam), arb(float(curvature_factor))
        V, H = [], Xm
        for j in range(N):
            Z = W[j] * _augment(H)
            H = ma(Z) if j < N - 1 else Z
            V.append(H)
        Lam = [arb_mat(v.nrows(), v.ncols()) for v in V]
        for k in range(int(iters)):
            try:
                Wn, Vn, Ln, cW, cV, F = steps.admm_iteration(W, V, Lam, Xm, Ym, lm, bm, ma, L,
                                                             curvature, fac)
            except ZeroDivisionError:
                if not ball:
                    raise
                # the balls grew until a system matrix's enclosure contains a singular one:
                # the precision is spent; the trace keeps the k iterations that were enclosed
                tr.meta["status"] = "enclosure_lost"
                tr.meta["enclosure_lost_at"] = k + 1
                break
            if not ball:
                Wn, Vn, Ln = [_mid(a) for a in Wn], [_mid(a) for a in Vn], [_mid(a) for a in Ln]
                F = steps.constraint_residuals(Wn, Vn, Xm, ma)
            loss = _sq(Vn[-1] - Ym) / 2
            reg = lm / 2 * sum((_sq(w) for w in Wn), arb(0))
            dual = sum((sum((x * y_ for x, y_ in zip(Lm.entries(), f.entries())), arb(0))
                        for Lm, f in zip(Ln, F)), arb(0))
            pen = sum((b / 2 * _sq(f) for f, b in zip(F, bm)), arb(0))
            lag = loss + reg + dual + pen
            kk = [_norm(r) for r in _kkt(Wn, Vn, Ln, Xm, Ym, lm, ma)]
            fe = [_norm(f) for f in F]
            dW = [_sq(a - b) for a, b in zip(Wn, W)]
            dV = [_sq(a - b) for a, b in zip(Vn, V)]
            out = _forward(Wn, Xm, ma)
            mse = _sq(out - Ym) / (Ym.nrows() * Ym.ncols())
            row = {"lagrangian": lag, "loss": loss, "reg": reg, "dual": dual, "penalty": pen,
                   "dW2": dW, "dV2": dV, "dLam2": [_sq(a - b) / bb for a, b, bb in zip(Ln, Lam, bm)],
                   "feas": fe, "kkt": kk,
                   "kkt_total": sum((v * v for v in kk + fe), arb(0)).nonnegative_part().sqrt(),
                   "normW": [_norm(w) for w in Wn], "normV": [_norm(v) for v in Vn],
                   "normLam": [_norm(v) for v in Ln], "train_mse": mse,
                   "curvature": [None if c is None else c for c in cW],
                   "curvature_V": [None if c is None else c for c in cV]}
            if ball:
                P = sum(dW + dV, arb(0))
                enc["lagrangian_lo"].append(_down(lag.lower()))
                enc["lagrangian_hi"].append(_up(lag.upper()))
                enc["lagrangian_rad"].append(float(lag.rad()))
                enc["P_lo"].append(_down(P.lower()))
                enc["P_hi"].append(_up(P.upper()))
                enc["dV2_lo"].append([_down(v.lower()) for v in dV])
                enc["dV2_hi"].append([_up(v.upper()) for v in dV])
                enc["max_rel_rad"].append(max(float(v.rad()) / max(abs(float(v.mid())), 1e-300)
                                              for M in Wn + Vn + Ln for v in M.entries()))
            _store(tr, k, row)
            W, V, Lam = Wn, Vn, Ln
            if callback is not None:
                callback(k + 1, tr)
    tr.meta["wall_s"] = time.perf_counter() - t0
    if ball:
        tr.meta["enclosures"] = enc
    return tr, (W, V, Lam)


def _down(x):
    """A float64 <= the arb endpoint ``x`` (rounded toward minus infinity)."""
    f = float(x)
    return f if arb(f) <= x else float(np.nextafter(f, -np.inf))


def _up(x):
    """A float64 >= the arb endpoint ``x``."""
    f = float(x)
    return f if arb(f) >= x else float(np.nextafter(f, np.inf))


def _f(v):
    if v is None:
        return float("nan")
    return float(v.mid()) if isinstance(v, arb) else float(v)


def _store(tr, k, row):
    for key, v in row.items():
        arr = getattr(tr, key)
        if isinstance(v, list):
            arr[k] = [_f(x) for x in v]
        else:
            arr[k] = _f(v)
    tr.set_length(k + 1)
