"""Lifted-ReLU block coordinate descent (Zhang and Brand, NeurIPS 2017, arXiv 1711.07354).

The ReLU is lifted into a nonnegative variable with a Tikhonov coupling
(docs/methods/lifted_bcd.md, "The problem"): with ``A_0 = X``, ``A_n = [U_n; 1]`` and
``N`` hidden layers,

    f(U, W) = 1/2 ||W_{N+1} [U_N; 1] - Y||^2
              + sum_{n=1}^N gamma_n/2 ||U_n - W_n [U_{n-1}; 1]||^2
              + sum_{n=1}^{N+1} lambda_n/2 ||W_n||^2,        U_n >= 0.

It is convex in ``U`` for fixed ``W`` (a nonnegative QP whose columns, one per sample, are
independent and share one Hessian) and convex in ``W`` for fixed ``U`` (one ridge problem
per layer).  One iteration ``t`` (docs/methods/lifted_bcd.md, "The iteration"):

1. ``U* = argmin_{U >= 0} f(U, W)``: :func:`u_step` (accelerated projected gradient with
   adaptive restart on all hidden layers at once, vectorised over samples, stopped on the
   natural residual ``||min(U, grad_U f)||``);
2. ``U <- (1 - theta_t) U + theta_t U*`` (:func:`relax`);
3. ``W* = argmin_W f(U, W)``: :func:`w_step` (closed form, one Cholesky per layer);
4. ``W <- (1 - theta_t) W + theta_t W*``.

``theta_t`` (:func:`theta_schedule`): ``1`` (plain BCD, the default), ``1/t^2`` (a summable
tail with ``theta_1 = 1``; it caps all movement after ``t = 1``: :func:`theta_tail_product`)
or ``q^(t-1)`` (geometric).

No public code of the method exists and our copy of the paper is only its abstract: every
choice below that the abstract does not fix is a **reconstruction**, marked as such here and
in docs/methods/lifted_bcd.md ("Reconstructed choices"): the squared loss (classification:
squared loss on one-hot targets), the bias row in every ``A_n`` and its inclusion in the
weight decay, the initial point ``U_n = relu(W_n A_{n-1})``, the order U-step then W-step,
the relaxation of both blocks with the same ``theta_t``, the inner solver and its tolerance.

Every matrix product of the iteration goes through one counter (``engine.n_matmul``), and
:func:`matmul_count` states how many an iteration performs (for the benchmarks).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from . import _validation as _v
from ._blas_threads import numpy_blas_threads, scipy_blas_one_thread
from .params import ParameterError, integer, options, real
from .base import LOOP_CONSTRAINTS, LiftedRegressor
from .core import network_layers
from .elementwise import relu_f
from .trace import Field, Schema, register_schema

__all__ = ["LiftedBCD", "LiftedBCDEngine", "LiftedBCDState", "LIFTED_BCD_SCHEMA", "THETA_RULES",
           "theta_schedule", "theta_tail_product", "u_step", "w_step", "relax", "residuals", "objective_parts",
           "grad_U", "grad_W", "hessian_U", "lipschitz_U", "natural_residual",
           "projected_gradient", "relu_forward", "matmul_count", "UStepInfo"]

#: the relaxation schedules of ``theta_t`` (docs/methods/lifted_bcd.md, "Relaxation")
THETA_RULES = ("inverse_square", "constant", "geometric")
#: the inner solver uses the exact eigenvalues of the U-Hessian up to this many hidden units,
#: above it the bound ``sum_n c_n ||M_n||^2`` (see :func:`lipschitz_U`)
DENSE_HESSIAN_MAX = 1500
_EPS = float(np.finfo(float).eps)
#: rounding floor multiplier of the inner residual (absolute: times the gradient's size)
INNER_FLOOR_MULT = 64.0

LIFTED_BCD_SCHEMA = register_schema(Schema("lifted_bcd", (
    Field("objective", "run", "f(U^t, W^t) after the W half-step", guard=True),
    Field("objective_start", "run", "f(U^{t-1}, W^{t-1}) at the start of the iteration"),
    Field("objective_u", "run", "f(U^t, W^{t-1}) after the U half-step"),
    Field("loss", "run", "1/2 ||W_{N+1} A_N^t - Y||^2 at (U^t, W^t)"),
    Field("coupling", "run", "sum_n gamma_n/2 ||U_n^t - W_n^t A_{n-1}^t||^2"),
    Field("reg", "run", "sum_n lambda_n/2 ||W_n^t||^2 (objective = loss + coupling + reg)"),
    Field("theta", "run", "theta_t, the relaxation weight of iteration t"),
    Field("stationarity", "run", "sqrt(sum pg_U^2 + sum grad_W^2) at (U^t, W^t)", guard=True),
    Field("natural_residual", "run", "sqrt(sum comp_U^2 + sum grad_W^2) at (U^t, W^t)"),
    Field("grad_size", "run", "size of the terms of grad f (rounding floor = c eps grad_size)"),
    Field("inner_iter", "run", "iterations of the U-step's inner solver"),
    Field("inner_res", "run", "||min(U*, grad_U f(U*, W^{t-1}))||, the U-step's final natural residual"),
    Field("inner_res0", "run", "the same residual at the U-step's warm start U^{t-1}"),
    Field("inner_tol", "run", "the absolute residual the U-step aimed at"),
    Field("inner_grads", "run", "gradient evaluations of the U-step (2N products each; matmul_count)"),
    Field("inner_restarts", "run", "adaptive restarts of the inner solver's momentum"),
    Field("inner_L", "run", "step constant L (1/step) of the inner solver: lambda_max of the U-Hessian or a bound"),
    Field("inner_mu", "run", "lambda_min of the U-Hessian (nan when only a bound was computed)"),
    Field("move_U", "layer", "||U_n* - U_n^{t-1}||_F, the unrelaxed U move (nan at the output)"),
    Field("move_W", "layer", "||W_n* - W_n^{t-1}||_F, the unrelaxed W move"),
    Field("pg_U", "layer", "||projected grad_{U_n} f(U^t, W^t)||_F (nan at the output)"),
    Field("comp_U", "layer", "||min(U_n^t, grad_{U_n} f(U^t, W^t))||_F (nan at the output)"),
    Field("grad_W", "layer", "||grad_{W_n} f(U^t, W^t)||_F"),
    Field("lift_gap", "layer", "||U_n^t - H_n^t||_F, H the ReLU forward pass with W^t "
                               "(output column: ||W_{N+1} A_N^t - net(X)||_F)"),
    Field("relu_gap", "layer", "||U_n^t - relu(W_n^t A_{n-1}^t)||_F (nan at the output)"),
    Field("norm_U", "layer", "||U_n^t||_F (nan at the output)"),
    Field("norm_W", "layer", "||W_n^t||_F", guard=True),
)))


# ----------------------------------------------------------------- small pieces
def theta_schedule(rule, t, rate=0.5):
    """``theta_t`` for iteration ``t >= 1`` (docs/methods/lifted_bcd.md, "Relaxation").

    ``"constant"``: 1 (plain BCD, the default); ``"inverse_square"``: ``1/t^2``
    (``theta_1 = 1``, summable); ``"geometric"``: ``rate^(t-1)`` (summable).  Our copy of the
    paper (its abstract) does not state a schedule; ``1/t^2`` is a reconstruction.
    """
    if rule not in THETA_RULES:
        raise ValueError(f"theta: expected one of {THETA_RULES}, got {rule!r}")
    t = int(t)
    if t < 1:
        raise ValueError(f"t: expected an iteration number >= 1, got {t}")
    if rule == "inverse_square":
        return 1.0 / (t * t)
    if rule == "constant":
        return 1.0
    return float(rate) ** (t - 1)


def theta_tail_product(rule, K, rate=0.5):
    """``prod_{t > K} (1 - theta_t)``: what the whole rest of the schedule can do.

    If the BCD target ``U*`` stayed where it is, the relaxed steps after iteration ``K``
    shrink the distance to it by exactly this factor, however long the run: ``0`` for plain
    BCD (``theta = 1``), ``K / (K + 1)`` for ``1/t^2`` (the telescoping product
    ``prod_{t>K} (t-1)(t+1)/t^2``; ``1/2`` after ``t = 1``), ``prod_{j >= K} (1 - rate^j)``
    for the geometric rule.  A summable schedule leaves it positive: the schedule alone
    caps all later movement (used by :func:`verify.lifted_bcd.stationarity_to_zero`).
    """
    if rule not in THETA_RULES:
        raise ValueError(f"theta: expected one of {THETA_RULES}, got {rule!r}")
    K = int(K)
    if K < 0:
        raise ValueError(f"K: expected an iteration count >= 0, got {K}")
    if rule == "constant":
        return 0.0
    if rule == "inverse_square":
        return K / (K + 1.0)
    q, out, j = float(rate), 1.0, max(K, 1)
    if K == 0:
        return 0.0           # theta_1 = rate^0 = 1
    while q ** j > 1e-18:
        out *= 1.0 - q ** j
        j += 1
    return out


class _Counter:
    """Counts the matrix products of an engine (every ``@`` of the iteration goes through it)."""

    def __init__(self):
        self.n = 0

    def __call__(self, a, b):
        self.n += 1
        return a @ b


def _mm_free(a, b):
    return a @ b


def relu_forward(W, X):
    """The real network's layers ``[(Z_n, H_n)]`` with ReLU hidden layers (:func:`solver.core.network_layers`)."""
    return network_layers(W, X, relu_f)


def _weights_c(gamma):
    """Coupling weights ``c_n``: ``gamma_n`` on hidden layers, 1 on the loss."""
    return np.concatenate([np.asarray(gamma, float), [1.0]])


def residuals(W, U, X, Y, Z0=None, mm=_mm_free):
    """``E_n = W_n A_{n-1} - T_n`` for every layer (``T_n = U_n`` hidden, ``Y`` output).

    ``W_n`` carries the bias in its last column; ``A_0 = X`` and ``A_n = [U_n; 1]``.
    ``Z0 = W_1 [X; 1]`` may be passed (it does not depend on ``U``).
    """
    L = len(W)
    E = []
    for i in range(L):
        if i == 0:
            Z = (mm(W[0][:, :-1], X) + W[0][:, -1:]) if Z0 is None else Z0.copy()
        else:
            Z = mm(W[i][:, :-1], U[i - 1])
            Z += W[i][:, -1:]
        Z -= U[i] if i < L - 1 else Y
        E.append(Z)
    return E


def objective_parts(E, W, c, lam):
    """``(loss, coupling, reg)`` of ``f`` from the residuals ``E`` (their sum is ``f``)."""
    loss = 0.5 * c[-1] * float(np.vdot(E[-1], E[-1]))
    coupling = sum(0.5 * c[i] * float(np.vdot(E[i], E[i])) for i in range(len(E) - 1))
    reg = sum(0.5 * lam[i] * float(np.vdot(w, w)) for i, w in enumerate(W))
    return loss, coupling, reg


def grad_U(E, W, c, mm=_mm_free):
    """``grad_{U_n} f = -c_n E_n + c_{n+1} Wbar_{n+1}^T E_{n+1}`` for the hidden layers."""
    return [-c[i] * E[i] + c[i + 1] * mm(W[i + 1][:, :-1].T, E[i + 1]) for i in range(len(W) - 1)]


def grad_W(E, W, U, X, c, lam, mm=_mm_free):
    """``grad_{W_n} f = c_n E_n A_{n-1}^T + lambda_n W_n`` (bias column: ``c_n E_n 1``)."""
    out = []
    for i in range(len(W)):
        A = X if i == 0 else U[i - 1]
        g = np.empty_like(W[i])
        g[:, :-1] = mm(E[i], A.T)
        g[:, -1] = E[i].sum(axis=1)
        g *= c[i]
        g += lam[i] * W[i]
        out.append(g)
    return out


def natural_residual(U, G):
    """``min(U, G)`` entrywise: zero exactly at the KKT points of ``min_{U >= 0}`` (the
    projected-gradient *natural* residual ``U - max(U - G, 0)``)."""
    return np.minimum(U, G)


def projected_gradient(U, G):
    """The projected gradient on ``U >= 0``: ``G`` where ``U > 0``, ``min(G, 0)`` where ``U = 0``."""
    return np.where(U > 0, G, np.minimum(G, 0.0))


def hessian_U(W, c, mm=_mm_free):
    """The U-Hessian (shared by every sample), block tridiagonal over the hidden layers.

    Diagonal blocks ``c_n I + c_{n+1} Wbar_{n+1}^T Wbar_{n+1}``, off-diagonal
    ``-c_{n+1} Wbar_{n+1}^T`` (``n, n+1``) and its transpose.
    """
    d = [w.shape[0] for w in W[:-1]]
    off = np.concatenate([[0], np.cumsum(d)])
    H = np.zeros((off[-1], off[-1]))
    for i in range(len(d)):
        s = slice(off[i], off[i + 1])
        Wn = W[i + 1][:, :-1]
        H[s, s] = c[i] * np.eye(d[i]) + c[i + 1] * mm(Wn.T, Wn)
        if i + 1 < len(d):
            t = slice(off[i + 1], off[i + 2])
            H[s, t] = -c[i + 1] * Wn.T
            H[t, s] = -c[i + 1] * Wn
    return H


def lipschitz_U(W, c, dense_max=DENSE_HESSIAN_MAX, mm=_mm_free):
    """``(L, mu)``: the U-Hessian's largest and smallest eigenvalues (exact, ``eigvalsh``)
    when it has at most ``dense_max`` rows; above, the bound ``L = sum_n c_n ||M_n||_2^2``
    (``H = sum_n c_n M_n^T M_n``, ``M_n U = Wbar_n U_{n-1} - U_n``) and ``mu = nan``.
    ``L`` is enlarged by ``1e-12`` relative so that ``1/L`` is a safe step."""
    D = sum(w.shape[0] for w in W[:-1])
    if D <= dense_max:
        ev = sla.eigvalsh(hessian_U(W, c, mm), check_finite=False)
        return float(ev[-1]) * (1 + 1e-12), float(ev[0])
    norms = [np.linalg.norm(w[:, :-1], 2) for w in W]
    L = c[0] + sum(c[i] * (norms[i] + 1.0) ** 2 for i in range(1, len(W) - 1)) + c[-1] * norms[-1] ** 2
    return float(L) * (1 + 1e-12), float("nan")


def _grad_size(E, W, U, X, Y, c, lam):
    """The size of the terms that enter ``grad f`` (what its rounding is relative to)."""
    nW = [np.linalg.norm(w) for w in W]
    nA = [np.linalg.norm(X) + math.sqrt(X.shape[1])] + [np.linalg.norm(u) + math.sqrt(X.shape[1]) for u in U]
    nT = [np.linalg.norm(u) for u in U] + [np.linalg.norm(Y)]
    s = 0.0
    for i in range(len(W)):
        term = c[i] * (nW[i] * nA[i] + nT[i])
        s += term * (1.0 + nA[i] + (nW[i + 1] if i + 1 < len(W) else 0.0)) + lam[i] * nW[i]
    return float(s)


def relax(old, new, theta):
    """``(1 - theta) old + theta new`` blockwise (the relaxed update of both blocks)."""
    if theta == 1.0:
        return [np.array(b, copy=True) for b in new]
    return [(1.0 - theta) * a + theta * b for a, b in zip(old, new)]


# ----------------------------------------------------------------- the two block steps
class UStepInfo(dict):
    """What :func:`u_step` reports: ``n_iter``, ``n_grad`` (gradient evaluations, 2N
    products each), ``res``, ``res0``, ``tol``, ``restarts``,
    ``L``, ``mu``, ``converged``, ``f0``, ``f``, ``E`` and ``E0`` (residuals at ``U*`` and
    ``U0``), ``G`` (the
    gradient at ``U*``), ``fallback`` (``U*`` was no better than the start, which is returned)."""

    __getattr__ = dict.__getitem__


def _stack(U):
    return np.vstack(U) if U else np.zeros((0, 0))


def _split(u, d):
    off = np.concatenate([[0], np.cumsum(d)]).astype(int)
    return [u[off[i]:off[i + 1]] for i in range(len(d))]


def u_step(W, U0, X, Y, c, *, tol=1e-6, max_iter=500, Z0=None, G0=None, E0=None, mm=_mm_free,
           dense_max=DENSE_HESSIAN_MAX):
    """``U* ~ argmin_{U >= 0} f(U, W)`` by accelerated projected gradient (reconstruction).

    FISTA with step ``1/L`` (``L`` from :func:`lipschitz_U`) on all hidden layers at once,
    vectorised over the samples (columns), warm-started at ``U0``, with the gradient
    restart of O'Donoghue and Candes (momentum reset when ``<grad f(y), x_new - x> > 0``).
    The gradient at ``x`` is carried by the affine identity
    ``grad f(x_new) = (grad f(y) + beta grad f(x)) / (1 + beta)`` (no extra products) and
    recomputed exactly before stopping.  Stops when the natural residual
    ``||min(U, grad_U f)||_F <= max(tol * r0, 64 eps grad_size)`` (``r0`` that residual at
    ``U0``) or after ``max_iter`` iterations.  If ``f(U*) > f(U0)`` (possible only at
    rounding level), ``U0`` is returned (``fallback``), so that ``f(U*) <= f(U0)`` always.

    Returns ``(U*, info)`` (:class:`UStepInfo`).
    """
    d = [w.shape[0] for w in W[:-1]]
    Lcst, mu = lipschitz_U(W, c, dense_max, mm)
    if Z0 is None:
        Z0 = mm(W[0][:, :-1], X) + W[0][:, -1:]
    n_grad = [0]

    def grad(u):
        n_grad[0] += 1
        Us = _split(u, d)
        E = residuals(W, Us, X, Y, Z0=Z0, mm=mm)
        return np.vstack(grad_U(E, W, c, mm=mm)), E

    x = _stack(U0)
    if G0 is None or E0 is None:
        gx, E0 = grad(x)
    else:
        gx = _stack(G0)
    g0 = gx
    lam0 = np.zeros(len(W))
    f0 = sum(objective_parts(E0, W, c, lam0))
    size = _grad_size(E0, W, U0, X, Y, c, lam0)
    res0 = float(np.linalg.norm(natural_residual(x, gx)))
    tol_abs = max(float(tol) * res0, INNER_FLOOR_MULT * _EPS * size)
    res, it, restarts = res0, 0, 0
    y, gy, t = x, gx, 1.0
    E = E0
    exact = True
    while it < max_iter and (res > tol_abs or not exact):
        if res <= tol_abs:                       # the carried gradient says done: check exactly
            gx, E = grad(x)
            exact = True
            res = float(np.linalg.norm(natural_residual(x, gx)))
            y, gy, t = x, gx, 1.0
            continue
        x_new = np.maximum(y - gy / Lcst, 0.0)
        step = x_new - x
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_new
        if float(np.vdot(gy, step)) > 0.0:        # adaptive restart
            beta, t_new = 0.0, 1.0
            restarts += 1
        y_new = x_new + beta * step if beta > 0.0 else x_new
        gy_new, E_y = grad(y_new)
        gx = gy_new if beta == 0.0 else (gy_new + beta * gx) / (1.0 + beta)
        exact = beta == 0.0
        if exact:
            E = E_y
        x, y, gy, t = x_new, y_new, gy_new, t_new
        res = float(np.linalg.norm(natural_residual(x, gx)))
        it += 1
    if not exact:
        gx, E = grad(x)
        res = float(np.linalg.norm(natural_residual(x, gx)))
    f = sum(objective_parts(E, W, c, lam0))
    fallback = f > f0
    Ustar = _split(x, d)
    if fallback:
        Ustar, gx, E, f, res = [np.array(u) for u in U0], g0, E0, f0, res0
    info = UStepInfo(n_iter=it, n_grad=n_grad[0], res=res, res0=res0, tol=tol_abs, restarts=restarts, L=Lcst, mu=mu,
                     converged=res <= tol_abs, f0=f0, f=f, E=E, E0=E0, G=_split(gx, d),
                     fallback=fallback)
    return [np.ascontiguousarray(u) for u in Ustar], info


def w_step(U, X, Y, c, lam, *, gram0=None, mm=_mm_free):
    """``W* = argmin_W f(U, W)``: per layer the ridge solution of
    ``W (A A^T + (lambda_n / c_n) I) = T A^T`` with ``A = [A_{n-1}; 1]`` (bias included in
    the weight decay: a reconstruction), by one Cholesky factorisation per layer.

    ``gram0``: the Gram matrix ``[X; 1][X; 1]^T`` (fixed across iterations) if cached.
    """
    L = len(U) + 1
    out = []
    for i in range(L):
        A = X if i == 0 else U[i - 1]
        T = U[i] if i < L - 1 else Y
        if i == 0 and gram0 is not None:
            G = gram0.copy()
        else:
            G = _gram(A, mm)
        G[np.diag_indices_from(G)] += lam[i] / c[i]
        R = np.empty((T.shape[0], A.shape[0] + 1))
        R[:, :-1] = mm(T, A.T)
        R[:, -1] = T.sum(axis=1)
        cf = sla.cho_factor(G, lower=False, check_finite=False)
        out.append(np.ascontiguousarray(sla.cho_solve(cf, R.T, check_finite=False).T))
    return out


def _gram(A, mm=_mm_free):
    """``[A; 1][A; 1]^T``."""
    d, m = A.shape
    G = np.empty((d + 1, d + 1))
    G[:d, :d] = mm(A, A.T)
    s = A.sum(axis=1)
    G[:d, d] = s
    G[d, :d] = s
    G[d, d] = m
    return G


def matmul_count(n_hidden, inner_grads, *, track=True, train=True, test=False, warm=True,
                 dense=True):
    """Matrix products of one iteration of :class:`LiftedBCDEngine` (``N = n_hidden``).

    ``inner_grads`` is the U-step's number of gradient evaluations (the trace's
    ``inner_grads``: about ``inner_iter + 1``; the warm start's gradient is not among them
    when ``warm``).  Each gradient is ``2N`` products (``N`` residuals, ``W_1 [X; 1]`` being
    fixed during the U-step, and ``N`` back-products).  The iteration:

    * U-step: ``N`` products ``Wbar_{n+1}^T Wbar_{n+1}`` for the Hessian (``dense``: its
      exact eigenvalues; 0 with the norm bound), ``2N`` per gradient, and, when not
      ``warm`` (first iteration, or after a resume), ``1 + 2N`` for ``W_1 [X; 1]`` and the
      gradient at the start;
    * W-step: ``N`` Gram matrices (the input's is cached) and ``N + 1`` right-hand sides;
    * at ``(U^t, W^t)``: ``N + 1`` residuals and ``N`` U-gradients (the next U-step's warm
      start), and ``N + 1`` W-gradients when ``track``;
    * ``N + 1`` for the train forward pass when ``train`` (or ``track``), ``N + 1`` for the
      loop's test forward pass when ``test``.

    A product is one ``@`` of two matrices whatever its size; the engine counts its own
    (``LiftedBCDEngine.n_matmul``) and the tests hold the two to each other.
    """
    N = int(n_hidden)
    n = (N if dense else 0) + 2 * N * int(inner_grads) + (0 if warm else 1 + 2 * N)
    n += N + (N + 1)
    n += (N + 1) + N
    if track:
        n += N + 1
    if train or track:
        n += N + 1
    if test:
        n += N + 1
    return n


# ----------------------------------------------------------------- engine
class LiftedBCDState:
    """Iterate ``(U, W)`` of the lifted BCD; ``k`` iterations done (``W_n`` bias in the last column)."""

    def __init__(self, W, U, k=0):
        self.W = [np.ascontiguousarray(w, dtype=float) for w in W]
        self.U = [np.ascontiguousarray(u, dtype=float) for u in U]
        self.k = int(k)
        self._cache = None                       # (Z0, E, G) at (U, W): not checkpointed

    def arrays(self, prefix=""):
        out = {f"{prefix}k": np.asarray(self.k)}
        out.update({f"{prefix}W{j}": w for j, w in enumerate(self.W)})
        out.update({f"{prefix}U{j}": u for j, u in enumerate(self.U)})
        return out


class LiftedBCDEngine:
    """One iteration of the lifted-ReLU BCD, one method per step (module docstring).

    ``X``, ``Y`` are stored features x samples.  ``gamma`` (``N``), ``lam`` (``N + 1``).
    """

    name = "lifted_bcd"

    def __init__(self, X, Y, gamma, lam, *, theta="constant", theta_rate=0.5, inner_tol=1e-6,
                 inner_max_iter=500, dense_max=DENSE_HESSIAN_MAX, threads=None):
        self.threads = threads
        self.X = np.ascontiguousarray(np.asarray(X, float).T)
        self.Y = np.ascontiguousarray(np.asarray(Y, float).T)
        self.gamma = np.asarray(gamma, float)
        self.lam = np.asarray(lam, float)
        self.c = _weights_c(self.gamma)
        self.theta_rule, self.theta_rate = theta, float(theta_rate)
        self.inner_tol, self.inner_max_iter = float(inner_tol), int(inner_max_iter)
        self.dense_max = int(dense_max)
        self.mm = _Counter()
        self.gram0 = _gram(self.X)               # constant: not counted per iteration

    @property
    def n_matmul(self):
        """Matrix products performed so far (every product of the iteration is counted)."""
        return self.mm.n

    # --------------------------------------------------------------- the steps
    def initial_state(self, weights):
        """``W`` given, ``U_n = relu(W_n A_{n-1})`` (the real forward pass; a reconstruction)."""
        W = [np.hstack([w, b[:, None]]) for w, b in weights]
        layers = relu_forward(W, self.X)
        return LiftedBCDState(W, [h for _, h in layers[:-1]])

    def theta(self, t):
        return theta_schedule(self.theta_rule, t, self.theta_rate)

    def gradients(self, W, U, *, with_W=True):
        """``(Z0, E, G_U, G_W)`` at ``(U, W)`` (``G_W`` None unless ``with_W``)."""
        mm = self.mm
        Z0 = mm(W[0][:, :-1], self.X) + W[0][:, -1:]
        E = residuals(W, U, self.X, self.Y, Z0=Z0, mm=mm)
        G = grad_U(E, W, self.c, mm=mm)
        GW = grad_W(E, W, U, self.X, self.c, self.lam, mm=mm) if with_W else None
        return Z0, E, G, GW

    def u_half_step(self, st):
        """Steps 1-2: ``U* = argmin_{U>=0} f(U, W)``, then ``U <- (1-theta) U + theta U*``."""
        if st._cache is None:
            Z0, E, G, _ = self.gradients(st.W, st.U, with_W=False)
        else:
            Z0, E, G = st._cache
        Ustar, info = u_step(st.W, st.U, self.X, self.Y, self.c, tol=self.inner_tol,
                             max_iter=self.inner_max_iter, Z0=Z0, G0=G, E0=E, mm=self.mm,
                             dense_max=self.dense_max)
        return Ustar, info

    def w_half_step(self, U):
        """Step 3: ``W* = argmin_W f(U, W)`` (ridge, closed form)."""
        return w_step(U, self.X, self.Y, self.c, self.lam, gram0=self.gram0, mm=self.mm)

    def objective(self, E, W):
        return sum(objective_parts(E, W, self.c, self.lam))

    # --------------------------------------------------------------- the iteration
    def iterate(self, st, row, *, track=True, train=True):
        """One iteration (steps 1-4) on ``st`` in place, filling ``row``; scipy's BLAS on one
        thread and numpy's on ``threads`` (None: as it is) meanwhile."""
        with scipy_blas_one_thread(), numpy_blas_threads(self.threads):
            self._iterate(st, row, track=track, train=train)

    def _iterate(self, st, row, *, track=True, train=True):
        t = st.k + 1
        theta = self.theta(t)
        W0, U0 = st.W, st.U
        Ustar, info = self.u_half_step(st)
        U1 = relax(U0, Ustar, theta)
        # the residuals are affine in U: at the relaxed U they are the same combination
        E_u = relax(info.E0, info.E, theta)
        f_start = self.objective(info.E0, W0)
        f_u = self.objective(E_u, W0)
        Wstar = self.w_half_step(U1)
        W1 = relax(W0, Wstar, theta)
        Z0, E, G, GW = self.gradients(W1, U1, with_W=bool(track))
        st._cache = (Z0, E, G)
        loss, coupling, reg = objective_parts(E, W1, self.c, self.lam)
        L = len(W1)
        nanL = np.full(L, np.nan)
        pg, comp, gw = nanL.copy(), nanL.copy(), nanL.copy()
        for i in range(L - 1):
            pg[i] = np.linalg.norm(projected_gradient(U1[i], G[i]))
            comp[i] = np.linalg.norm(natural_residual(U1[i], G[i]))
        if GW is not None:
            gw[:] = [np.linalg.norm(g) for g in GW]
        row["objective"] = loss + coupling + reg
        row["objective_start"] = f_start
        row["objective_u"] = f_u
        row["loss"], row["coupling"], row["reg"] = loss, coupling, reg
        row["theta"] = theta
        gw_sq = float(np.sum(gw ** 2)) if GW is not None else np.nan
        row["stationarity"] = math.sqrt(float(np.sum(pg[:-1] ** 2)) + (0.0 if GW is None else gw_sq))
        row["natural_residual"] = (math.sqrt(float(np.sum(comp[:-1] ** 2)) + gw_sq)
                                   if GW is not None else np.nan)
        row["grad_size"] = _grad_size(E, W1, U1, self.X, self.Y, self.c, self.lam)
        row["inner_iter"], row["inner_res"], row["inner_res0"] = info.n_iter, info.res, info.res0
        row["inner_tol"], row["inner_restarts"] = info.tol, info.restarts
        row["inner_grads"] = info.n_grad
        row["inner_L"], row["inner_mu"] = info.L, info.mu
        row["move_U"] = np.append([np.linalg.norm(a - b) for a, b in zip(Ustar, U0)], np.nan)
        row["move_W"] = [np.linalg.norm(a - b) for a, b in zip(Wstar, W0)]
        row["pg_U"], row["comp_U"], row["grad_W"] = pg, comp, gw
        row["norm_U"] = np.append([np.linalg.norm(u) for u in U1], np.nan)
        row["norm_W"] = [np.linalg.norm(w) for w in W1]
        row["relu_gap"] = np.append([np.linalg.norm(U1[i] - relu_f(E[i] + U1[i])) for i in range(L - 1)],
                                    np.nan)
        if train or track:
            layers = [(None, None)] * L
            H = self.X
            out = None
            for i in range(L):   # the real ReLU forward pass, through the counter
                Z = self.mm(W1[i][:, :-1], H)
                Z += W1[i][:, -1:]
                H = relu_f(Z) if i < L - 1 else Z
                layers[i] = (Z, H)
            out = layers[-1][1]
            gap = [np.linalg.norm(U1[i] - layers[i][1]) for i in range(L - 1)]
            gap.append(np.linalg.norm(E[-1] + self.Y - out))
            row["lift_gap"] = gap
            row["train_mse"] = float(np.mean((out - self.Y) ** 2))
        st.W, st.U = W1, U1
        st.k = t

    def forward(self, W, X):
        return relu_forward(W, X)[-1][1]

    @staticmethod
    def criterion(row, track):
        """The stationarity residual at ``(U^t, W^t)`` (with ``track=False``: its U part only)."""
        return row["stationarity"]

    @staticmethod
    def state_from_arrays(z, prefix):
        N = sum(1 for key in z.keys() if key.startswith(f"{prefix}W"))
        return LiftedBCDState([np.array(z[f"{prefix}W{j}"]) for j in range(N)],
                              [np.array(z[f"{prefix}U{j}"]) for j in range(N - 1)], int(z[f"{prefix}k"]))


# ----------------------------------------------------------------- estimator
def _per_layer(value, n, name, what):
    """A positive scalar or ``n`` positive values, as a float array of length ``n``."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise ParameterError(name, f"{name}: expected a positive number or {n} positive numbers ({what}), got {value!r}")
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(name, f"{name}: expected a positive number or {n} positive numbers ({what}), "
                         f"got {value!r}") from None
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ParameterError(name, f"{name}: expected a scalar or {n} values ({what}), got {a.size} values")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError(name, f"{name}: expected positive finite values, got {a.tolist()}")
    return a


class LiftedBCD(LiftedRegressor):
    """ReLU nets trained by lifted block coordinate descent (Zhang and Brand 2017), traced.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the ReLU hidden layers; the output layer is linear.
    gamma : float or sequence of float
        Coupling weights ``gamma_n > 0``, one value or one per hidden layer.
    lam : float or sequence of float
        Weight decay ``lambda_n > 0`` (Tikhonov), one value or one per layer (hidden then
        output); positive so that every W-step is a well-posed ridge problem.
    theta : {"constant", "inverse_square", "geometric"}
        Relaxation ``theta_t``: 1 (plain BCD, the default), ``1/t^2`` or ``theta_rate^(t-1)``
        (both summable: they cap all later movement, ``1/t^2`` to a factor 1/2 after
        ``t = 1``, and froze the iterates in our runs; docs/methods/lifted_bcd.md).
    theta_rate : float
        Ratio ``q`` in ``(0, 1)`` of the geometric schedule.
    inner_tol : float
        The U-step stops when its natural residual ``||min(U, grad_U f)||`` falls to
        ``inner_tol`` times its value at the warm start (or to its rounding floor).
    inner_max_iter : int
        Most iterations of the U-step's inner solver.
    init, init_scale : the initial weights (:data:`solver.init.INITS`), when ``fit`` gets none.
    max_iter, tol : iterations; stop when the stationarity residual is ``<= tol`` (0: never).
    random_state, track, keep_best, callback, verbose, checkpoint, checkpoint_every :
        As in :class:`solver.ADMM`.  ``track=False`` skips the W-gradients (the
        stationarity residual then has only its U part).
    early_stopping, validation_fraction, n_iter_no_change, validation_tol :
        As in :class:`solver.ADMM` (early stopping on held-out rows).
    n_threads : int or None
        None: numpy's BLAS keeps its own thread count; k: held to k threads during an
        iteration.  The inner solver makes many small products: on a loaded 2-core machine
        two OpenBLAS threads made a 50 x 500 product ~80x slower than one
        (docs/methods/lifted_bcd.md, "Cost"), so ``n_threads=1`` is the steady choice there.

    Classification: fit one-hot targets (squared loss on one-hot targets, a
    reconstruction) and take the arg-max of :meth:`predict`.
    """

    _schema = LIFTED_BCD_SCHEMA

    _parameter_constraints = {
        **LOOP_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", integer(1, None)],
        "gamma": [real(0, None, closed="neither"), "array-like"],
        "lam": [real(0, None, closed="neither"), "array-like"],
        "theta": [options(THETA_RULES)],
        "theta_rate": [real(0, 1, closed="neither")],
        "inner_tol": [real(0, 1, closed="left")],
        "inner_max_iter": [integer(1, None)],
        "track": ["boolean"],
        "n_threads": [integer(1, None), None],
    }

    def __init__(self, *, hidden_layer_sizes=(100,), gamma=1.0, lam=1e-3, theta="constant",
                 theta_rate=0.5, inner_tol=1e-6, inner_max_iter=500, init="msra", init_scale=1.0,
                 max_iter=100, tol=0.0, random_state=None, track=True, keep_best=False, callback=None,
                 verbose=0, checkpoint=None, checkpoint_every=10, n_threads=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, validation_tol=1e-4):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.gamma = gamma
        self.lam = lam
        self.theta = theta
        self.theta_rate = theta_rate
        self.inner_tol = inner_tol
        self.inner_max_iter = inner_max_iter
        self.init = init
        self.init_scale = init_scale
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.track = track
        self.keep_best = keep_best
        self.callback = callback
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.n_iter_no_change, self.validation_tol = n_iter_no_change, validation_tol
        self.n_threads = n_threads

    def _validate_method_params(self, n_outputs):
        from theory.activations import relu  # noqa: PLC0415 - theory's sympy load paid at fit, not at import

        hidden = _v.check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        N = len(hidden)
        gamma = _per_layer(self.gamma, N, "gamma", "one per hidden layer")
        lam = _per_layer(self.lam, N + 1, "lam", "one per layer: hidden layers then output")
        return {"hidden_layer_sizes": hidden, "activation": relu, "gamma": gamma, "lam": lam}

    def _extra_settings(self, p):
        return {"method": "lifted_bcd", "activation": "relu", "n_layers": len(p["hidden_layer_sizes"]) + 1}

    def _make_engine(self, X, Y, p):
        return LiftedBCDEngine(X, Y, p["gamma"], p["lam"], theta=self.theta, theta_rate=self.theta_rate,
                               inner_tol=self.inner_tol, inner_max_iter=self.inner_max_iter,
                               threads=self.n_threads)

    def _network_activation(self):
        return relu_f
