"""The lifted BCD's block steps: the nonnegative ``U`` step, the ridge ``W`` step, the relaxation
and the objective's pieces (docs/methods/lifted_bcd.md, "The iteration").
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from ..core import network_layers
from ..elementwise import relu_f

__all__ = ["THETA_RULES", "theta_schedule", "theta_tail_product", "u_step", "w_step", "relax",
           "residuals", "objective_parts", "grad_U", "grad_W", "hessian_U", "lipschitz_U",
           "natural_residual", "projected_gradient", "relu_forward", "matmul_count", "UStepInfo"]

#: the relaxation schedules of ``theta_t`` (docs/methods/lifted_bcd.md, "Relaxation")
THETA_RULES = ("inverse_square", "constant", "geometric")
#: the inner solver uses the exact eigenvalues of the U-Hessian up to this many hidden units,
#: above it the bound ``sum_n c_n ||M_n||^2`` (see :func:`lipschitz_U`)
DENSE_HESSIAN_MAX = 1500
_EPS = float(np.finfo(float).eps)
#: rounding floor multiplier of the inner residual (absolute: times the gradient's size)
INNER_FLOOR_MULT = 64.0


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
