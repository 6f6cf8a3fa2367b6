"""dlADMM (Wang, Yu, Chen, Zhao, KDD 2019; journal version arXiv 2112.11619) as an instrumented solver.

The method and every choice below are documented in docs/methods/dladmm.md; this module is
our own numpy implementation, written after reading the authors' public PyTorch code
(repository ``xianggebenben/dlADMM``, ``MLP/pytorch_version``) to follow its iteration
order, update formulas and backtracking semantics.

Problem (features x samples; ``a_0 = X``; ``L`` layers, ``L - 1`` hidden)::

    min  R(z_L; Y) + nu/2 sum_{l<L} (||z_l - W_l a_{l-1} - b_l||^2 + ||a_l - f(z_l)||^2)
    s.t. z_L = W_L a_{L-1} + b_L                                    (multiplier u)

with the augmented Lagrangian ``L_rho = R(z_L) + nu/2 (...) + <u, r_L> + rho/2 ||r_L||^2``,
``r_L = z_L - W_L a_{L-1} - b_L``.  ``R`` is the squared loss ``1/2 ||z_L - Y||^2`` (our
regression tasks, H = 1) or the softmax cross-entropy summed over samples (the authors'
code, H = 1/2).  In the authors' code ``nu`` is ``rho`` (``nu=None`` here, the default).

One iteration (:meth:`DLADMMEngine.iterate`): a backward sweep ``l = L..1``: ``z_l, b_l,
W_l, a_{l-1}``; a forward sweep ``l = 1..L``: ``W_l, b_l, z_l, a_l``; then
``u += rho r_L``.  ``b_l`` is exact; ``W_l`` and ``a_l`` take one gradient step whose
constant starts at ``theta`` (``tau``) and doubles until the quadratic upper bound holds;
since the block objectives are quadratics the accepted constant has a closed form
(:func:`accepted_constant`), which replaces the authors' loop of objective evaluations
(:func:`backtracking_reference` keeps that loop as the reference).  Hidden ReLU ``z_l`` is
exact per entry; ``z_L`` is FISTA as in the authors' code (``zl_mode="authors"``), a
convergent accelerated method to a relative gradient tolerance (``zl_mode="exact"``), or
closed form for the squared loss.  The adaptive rule: when the network's train cost rose
three times in a row, ``rho <- min(10 rho, rho_max)`` and, if every hidden layer is at least
``adapt_width`` wide, ``tau, theta <- 10 tau, 10 theta``.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .params import integer, keyword_init, options, real
from ._dladmm_steps import cross_entropy, relu_z_step, softmax, zl_fista_authors
from ._validation import check_Xy, check_array, check_positive_int_tuple
from .base import EARLY_STOPPING_DEFAULTS, LOOP_CONSTRAINTS, LiftedRegressor
from .elementwise import NUMPY_KERNELS, kernels_for
from .trace import Field, Schema, register_schema

__all__ = ["DLADMM", "DLADMMClassifier", "DLADMMEngine", "DLADMMState", "DLADMM_SCHEMA",
           "accepted_constant", "backtracking_reference", "gemm_shapes", "gemms_per_iter",
           "DLADMM_GEMMS_PER_ITER", "LOSS_H", "relu_z_step", "smooth_z_step", "cross_entropy",
           "softmax", "zl_fista_authors"]

#: Lipschitz constant H of grad R for each loss (per sample; the claim needs rho > 2H)
LOSS_H = {"squared": 1.0, "cross_entropy": 0.5}


# ---------------------------------------------------------------------------- schema
def _f(name, shape, doc, guard=False):
    return Field(name, shape, doc, guard)


DLADMM_SCHEMA = register_schema(Schema("dladmm", (
    _f("lagrangian", "run", "L_rho at the end of iteration k (after u^k), with the rho, nu of iteration k", True),
    _f("loss", "run", "R(z_L^k; Y) (summed over samples)"),
    _f("dual", "run", "<u^k, r_L^k>"),
    _f("penalty_out", "run", "rho/2 ||r_L^k||^2"),
    _f("penalty_hidden", "run", "nu/2 sum_{l<L} (||z_l - W_l a_{l-1} - b_l||^2 + ||a_l - f(z_l)||^2)"),
    _f("lagrangian_bwd", "run", "L_rho after the backward sweep of iteration k"),
    _f("loss_bwd", "run", "R(z_L) after the backward sweep"),
    _f("dual_bwd", "run", "<u^{k-1}, r_L> after the backward sweep"),
    _f("penalty_out_bwd", "run", "rho/2 ||r_L||^2 after the backward sweep"),
    _f("penalty_hidden_bwd", "run", "hidden penalty after the backward sweep"),
    _f("lagrangian_fwd", "run", "L_rho after the forward sweep, before the dual step"),
    _f("dW2_bwd", "layer", "||W_l^+ - W_l||_F^2 of the backward sweep's W_l step"),
    _f("dW2_fwd", "layer", "||W_l^+ - W_l||_F^2 of the forward sweep's W_l step"),
    _f("db2_bwd", "layer", "||b_l^+ - b_l||^2, backward sweep"),
    _f("db2_fwd", "layer", "||b_l^+ - b_l||^2, forward sweep"),
    _f("dz2_bwd", "layer", "||z_l^+ - z_l||_F^2, backward sweep (column L: z_L)"),
    _f("dz2_fwd", "layer", "||z_l^+ - z_l||_F^2, forward sweep (column L: z_L)"),
    _f("da2_bwd", "layer", "||a_l^+ - a_l||_F^2, backward sweep (column l is a_l; column L nan)"),
    _f("da2_fwd", "layer", "||a_l^+ - a_l||_F^2, forward sweep (column L nan)"),
    _f("step_sum", "run", "sum of every squared half-step above (both sweeps, all blocks)"),
    _f("du2", "run", "||u^k - u^{k-1}||_F^2 (the dual step; = rho^2 ||r_L^k||^2)"),
    _f("res_out", "run", "||r_L^k||_F = ||z_L - W_L a_{L-1} - b_L||_F", True),
    _f("res_lin", "layer", "||z_l - W_l a_{l-1} - b_l||_F (column L: ||r_L||)"),
    _f("res_act", "layer", "||a_l - f(z_l)||_F (column L nan)"),
    _f("normu", "run", "||u^k||_F"),
    _f("dual_opt", "run", "||u^k + grad R(z_L^k)|| / ||u^k|| (0 when the z_L step is exact; nan if u = 0)"),
    _f("zl_iters_bwd", "run", "inner iterations of the backward z_L step (0: closed form)"),
    _f("zl_iters_fwd", "run", "inner iterations of the forward z_L step (0: closed form)"),
    _f("zl_grad", "run", "||grad of the z_L subproblem|| / max(1, ||grad R||) at the forward step's return"),
    _f("theta_bwd", "layer", "accepted step constant of the backward W_l step"),
    _f("theta_fwd", "layer", "accepted step constant of the forward W_l step"),
    _f("tau_bwd", "layer", "accepted step constant of the backward a_l step (column L nan)"),
    _f("tau_fwd", "layer", "accepted step constant of the forward a_l step (column L nan)"),
    _f("rho", "run", "rho in force during iteration k"),
    _f("nu", "run", "nu in force during iteration k"),
    _f("theta", "run", "starting constant theta of the W steps during iteration k"),
    _f("tau", "run", "starting constant tau of the a steps during iteration k"),
    _f("adapt", "run", "1 when the adaptive rule changed rho (tau, theta) after iteration k, else 0"),
    _f("kkt_W", "layer", "||d/dW_l of the relaxed problem's Lagrangian|| (track only)"),
    _f("kkt_b", "layer", "||d/db_l|| (track only)"),
    _f("kkt_z", "layer", "||d/dz_l|| (ReLU: the least-norm limiting subgradient; track only)"),
    _f("kkt_a", "layer", "||d/da_l|| (column L nan; track only)"),
    _f("kkt_total", "run", "sqrt(sum of the squared KKT blocks + ||r_L||^2) (track only)"),
    _f("net_loss", "run", "R(plain forward output; Y) / n_samples: the authors' 'training cost'"),
    _f("net_acc", "run", "accuracy of the plain forward pass (argmax; nan for the squared loss)"),
    _f("test_loss", "run", "R / n on the test data given to fit (nan without)"),
    _f("test_acc", "run", "accuracy on the test data (nan without, or for the squared loss)"),
)))


# ------------------------------------------------------------------------------ losses
def _loss(kind, Z, Y):
    if kind == "squared":
        D = Z - Y
        return 0.5 * float(np.vdot(D, D))
    return cross_entropy(Z, Y)


def _loss_grad(kind, Z, Y):
    if kind == "squared":
        return Z - Y
    return softmax(Z) * Y.sum(axis=0, keepdims=True) - Y


# ------------------------------------------------------------------ step constants
def accepted_constant(t0, c):
    """Smallest ``t = t0 * 2^j`` (``j >= 0``) with ``t >= c``: the constant the doubling loop accepts.

    For a quadratic block objective ``phi`` with gradient ``g`` at the current point, the
    step ``x - g / t`` satisfies the quadratic upper bound
    ``phi(x - g/t) <= phi(x) - ||g||^2 / t + t/2 ||g/t||^2`` iff ``t >= c``, with
    ``c = <g, Hess g> / ||g||^2`` (``c = 0`` when ``g = 0``); the authors' loop starts at
    ``t0`` and doubles while the bound fails, so it stops at the value returned here
    (docs/methods/dladmm.md, "Step constants").
    """
    t0 = float(t0)
    if not c > t0:                 # also c = nan from g = 0 (0/0): the bound holds at t0
        return t0
    j = max(0, math.ceil(math.log2(c / t0)))
    while t0 * 2.0 ** j < c:       # guard the log's rounding
        j += 1
    while j > 0 and t0 * 2.0 ** (j - 1) >= c:
        j -= 1
    return t0 * 2.0 ** j


def backtracking_reference(phi, grad, x, t0, factor=2.0, max_doublings=2000):
    """The doubling loop that :func:`accepted_constant` replaces (reference; evaluates ``phi``).

    Starting from ``t = t0``: while ``phi(x - g/t) > phi(x) + <g, -g/t> + t/2 ||g/t||^2``,
    ``t *= factor``.  Returns ``(x - g/t, t)``.
    """
    g = grad
    fx, gg = phi(x), float(np.vdot(g, g))
    t = float(t0)
    for _ in range(max_doublings):
        x_new = x - g / t
        if not phi(x_new) > fx - gg / t + 0.5 * t * gg / (t * t):
            return x_new, t
        t *= factor
    raise RuntimeError("backtracking_reference: no acceptable constant")


# ---------------------------------------------------------------------- z steps
_GOLD = (math.sqrt(5.0) - 1.0) / 2.0


def smooth_z_step(m, a, act, z_old=None, kappa=0.0, n_grid=65, n_golden=50):
    """Per-entry minimiser of ``q(z) = (z - m)^2 + (a - f(z))^2 + kappa (z - z_old)^2`` for a
    smooth bounded ``f`` (sigmoid, tanh): our extension (the authors' code is ReLU only).

    Every stationary point lies within ``B = (|a| + sup|f|) sup|f'| / (1 + kappa)`` of
    ``mt = (m + kappa z_old)/(1 + kappa)``; a grid of ``n_grid`` points on that bracket picks
    the basin, golden-section search refines it.  With ``z_old`` given the result never has a
    larger ``q`` than ``z_old`` (safeguard; the descent the claim needs).
    """
    zo = z_old if z_old is not None else m
    mt = (m + kappa * zo) / (1.0 + kappa) if kappa else m
    act = kernels_for(act)
    B = (np.abs(a) + act.fmax) * act.d1max / (1.0 + kappa)

    def q(z):
        r = a - act.f(z)
        out = (1.0 + kappa) * (z - mt) ** 2 + r * r
        return out

    s = np.linspace(-1.0, 1.0, n_grid)
    best_v = np.full(m.shape, np.inf)
    best_j = np.zeros(m.shape, dtype=np.intp)
    for j, sj in enumerate(s):
        v = q(mt + sj * B)
        better = v < best_v
        best_v = np.where(better, v, best_v)
        best_j = np.where(better, j, best_j)
    h = 2.0 / (n_grid - 1)
    lo = mt + (s[best_j] - h) * B
    hi = mt + (s[best_j] + h) * B
    x1 = hi - _GOLD * (hi - lo)
    x2 = lo + _GOLD * (hi - lo)
    f1, f2 = q(x1), q(x2)
    for _ in range(n_golden):
        left = f1 <= f2                    # minimum in [lo, x2]
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        nx1 = np.where(left, hi - _GOLD * (hi - lo), x2)
        nx2 = np.where(left, x1, lo + _GOLD * (hi - lo))
        nf1 = np.where(left, q(nx1), f2)
        nf2 = np.where(left, f1, q(nx2))
        x1, x2, f1, f2 = nx1, nx2, nf1, nf2
    z = np.where(f1 <= f2, x1, x2)
    zq = np.minimum(f1, f2)
    gq = mt + s[best_j] * B               # the grid point itself may be better than the cell's search
    z = np.where(best_v < zq, gq, z)
    if z_old is not None:
        z = np.where(q(z) <= q(z_old), z, z_old)
    return z


# ------------------------------------------------------------------------ z_L steps
def zl_exact(m, u, Y, rho, z0, H=0.5, rtol=1e-12, max_iter=20000):
    """``argmin_z CE(z) + <u, z - m> + rho/2 ||z - m||^2`` to a relative gradient tolerance.

    Accelerated proximal gradient for a ``rho``-strongly convex composite (step ``1/H`` on
    the cross-entropy, exact prox of the quadratic, constant momentum
    ``(1 - sqrt(q)) / (1 + sqrt(q))``, ``q = rho / (H + rho)``); stops when
    ``||grad|| <= rtol * max(1, ||grad CE||)``.  Returns ``(z, iterations, relative residual)``.
    """
    c = m - u / rho
    q = rho / (H + rho)
    beta = (1.0 - math.sqrt(q)) / (1.0 + math.sqrt(q))
    z = z_prev = z0
    rel = np.inf
    for i in range(max_iter):
        G = softmax(z) - Y
        grad = G + rho * (z - c)
        rel = float(np.linalg.norm(grad)) / max(1.0, float(np.linalg.norm(G)))
        if rel <= rtol:
            return z, i, rel
        yv = z + beta * (z - z_prev)
        Gy = softmax(yv) - Y
        z_prev, z = z, (H * yv - Gy + rho * c) / (H + rho)
    return z, max_iter, rel


# ----------------------------------------------------------------------------- state
class DLADMMState:
    """dlADMM iterate: weights ``Wm``, biases ``b`` (columns), ``z`` (L), ``a`` (hidden), ``u``,
    the adaptive constants ``hyper = [rho, nu, tau, theta]``, the last train costs, and the
    products ``P_l = W_l a_{l-1}`` (kept up to date by every step, so that no iteration
    recomputes them; part of the state so that a resumed run is bit-for-bit the same)."""

    def __init__(self, Wm, b, z, a, u, hyper, costs=(), k=0, P=None):
        self.Wm, self.b, self.z, self.a = list(Wm), list(b), list(z), list(a)
        self.P = list(P) if P is not None else None
        self.u = u
        self.hyper = np.asarray(hyper, dtype=float).copy()
        self.costs = deque((float(c) for c in costs if np.isfinite(c)), maxlen=4)
        self.k = int(k)

    def _costs_array(self):
        c = np.full(4, np.nan)                 # fixed shape (checkpoints compare shapes)
        if self.costs:
            c[4 - len(self.costs):] = list(self.costs)
        return c

    @property
    def W(self):
        """Weights with the bias in the last column (what the shared loop reads)."""
        return [np.hstack([w, bb]) for w, bb in zip(self.Wm, self.b)]

    def arrays(self, prefix=""):
        out = {f"{prefix}k": np.asarray(self.k), f"{prefix}u": self.u,
               f"{prefix}hyper": self.hyper.copy(),
               f"{prefix}costs": self._costs_array()}
        for j, w in enumerate(self.W):
            out[f"{prefix}W{j}"] = w
            out[f"{prefix}z{j}"] = self.z[j]
            out[f"{prefix}P{j}"] = self.P[j]
        for j, a in enumerate(self.a):
            out[f"{prefix}a{j}"] = a
        return out


class _Step:
    """Per-layer record of one half-sweep."""

    def __init__(self, L):
        self.dW2, self.db2, self.dz2, self.da2 = (np.full(L, np.nan) for _ in range(4))
        self.theta, self.tau = np.full(L, np.nan), np.full(L, np.nan)
        self.zl_iters = 0
        self.zl_grad = np.nan


# ---------------------------------------------------------------------------- engine
class DLADMMEngine:
    """One dlADMM iteration (see the module docstring); one method per step.

    ``X`` (d_0 x n) and ``Y`` (d_L x n) in the features x samples layout.  The products
    ``P_l = W_l a_{l-1}`` (``state.P``) are computed at the start and then updated in place
    by each W and a step from the products the step already needs (no re-evaluation), see
    :func:`gemm_shapes`.
    """

    name = "dladmm"

    def __init__(self, X, Y, act, *, loss="squared", rho=1e-6, nu=None, tau=1.0, theta=1.0,
                 adapt=True, adapt_width=100, adapt_factor=10.0, rho_max=0.1,
                 output_init="forward", zl_mode="authors", zl_max_iter=500, zl_tol=1e-3,
                 zl_step=4.0, zl_rtol=1e-12, prox_z=0.0, step_rule="closed_form",
                 X_test=None, Y_test=None, kernels="numba"):
        self.X, self.Y = np.ascontiguousarray(X, dtype=float), np.ascontiguousarray(Y, dtype=float)
        self.act, self.loss = kernels_for(act), loss
        self.rho0, self.nu0 = float(rho), (None if nu is None else float(nu))
        self.tau0, self.theta0 = float(tau), float(theta)
        self.adapt, self.adapt_width, self.adapt_factor, self.rho_max = (
            bool(adapt), int(adapt_width), float(adapt_factor), float(rho_max))
        self.output_init, self.zl_mode = output_init, zl_mode
        self.zl_max_iter, self.zl_tol, self.zl_step, self.zl_rtol = (
            int(zl_max_iter), float(zl_tol), float(zl_step), float(zl_rtol))
        self.prox_z, self.step_rule = float(prox_z), step_rule
        self.X_test, self.Y_test = X_test, Y_test
        self.H = LOSS_H[loss]
        from .dladmm_kernels import KERNEL_SETS  # noqa: PLC0415 - numba's load, paid at fit

        if kernels not in KERNEL_SETS:
            raise ValueError(f"kernels: expected one of {sorted(KERNEL_SETS)}, got {kernels!r}")
        self.K = KERNEL_SETS[kernels]
        self._relu = self.act.name == "relu"

    # -------------------------------------------------------------- initial point
    def initial_state(self, weights):
        """Weights and biases given; hidden ``z, a`` by a forward pass; ``z_L`` by the forward
        pass or ``2Y - 1`` (``output_init="authors"``); ``u = 0``."""
        Wm = [np.ascontiguousarray(w, dtype=float) for w, _ in weights]
        b = [np.asarray(bb, dtype=float).reshape(-1, 1).copy() for _, bb in weights]
        z, a, H = [], [], self.X
        for j in range(len(Wm)):
            Z = Wm[j] @ H + b[j]
            z.append(Z)
            if j < len(Wm) - 1:
                H = self.act.f(Z)
                a.append(H)
        if self.output_init == "authors":
            z[-1] = np.where(self.Y == 0, -1.0, 1.0)
        nu = self.rho0 if self.nu0 is None else self.nu0
        st = DLADMMState(Wm, b, z, a, np.zeros_like(z[-1]), [self.rho0, nu, self.tau0, self.theta0])
        st.P = [Wm[j] @ self._A(st, j) for j in range(len(Wm))]
        return st

    def state_from_arrays(self, z, prefix):
        N = sum(1 for key in z.keys() if key.startswith(f"{prefix}W"))
        Wb = [np.array(z[f"{prefix}W{j}"], dtype=float) for j in range(N)]
        return DLADMMState([w[:, :-1].copy() for w in Wb], [w[:, -1:].copy() for w in Wb],
                           [np.array(z[f"{prefix}z{j}"], dtype=float) for j in range(N)],
                           [np.array(z[f"{prefix}a{j}"], dtype=float) for j in range(N - 1)],
                           np.array(z[f"{prefix}u"], dtype=float), np.array(z[f"{prefix}hyper"]),
                           np.array(z[f"{prefix}costs"], dtype=float).tolist(), int(z[f"{prefix}k"]),
                           [np.array(z[f"{prefix}P{j}"], dtype=float) for j in range(N)])

    # ------------------------------------------------------------------- helpers
    def _A(self, st, j):
        """Input ``a_{j}`` of layer ``j + 1`` (0-based layer j reads ``A(j)``: X for j = 0)."""
        return self.X if j == 0 else st.a[j - 1]

    def _pen(self, st, j):
        """Weight of layer j's linear equation: ``rho`` for the output, ``nu`` for hidden layers."""
        return st.hyper[0] if j == len(st.Wm) - 1 else st.hyper[1]

    def _shift(self, st, j):
        """``u / rho`` for the output layer, 0 for hidden layers."""
        return st.u / st.hyper[0] if j == len(st.Wm) - 1 else 0.0

    def _accept(self, t0, c, phi=None, x=None, g=None):
        if self.step_rule == "closed_form":
            return accepted_constant(t0, c)
        _, t = backtracking_reference(phi, g, x, t0)
        return t

    # --------------------------------------------------------------------- steps
    def _residual(self, st, j, P):
        """``R_l = P_l + b_l - z_l - shift`` (the W and a steps' residual)."""
        R = np.empty_like(P[j])
        j_out = j == len(st.Wm) - 1
        self.K["residual"](P[j], st.b[j], st.z[j], st.u / st.hyper[0] if j_out else R, j_out, R)
        return R

    def bias_step(self, st, j, P, rec):
        """``b_l`` exactly: ``argmin_b pen/2 ||z_l - P_l - b 1^T + shift||^2 = mean(z_l + shift - P_l)``."""
        b_new = np.mean(st.z[j] + self._shift(st, j) - P[j], axis=1, keepdims=True)
        d = b_new - st.b[j]
        rec.db2[j] = float(np.vdot(d, d))
        st.b[j] = b_new

    def weight_step(self, st, j, P, rec):
        """``W_l`` by one gradient step ``W - G/t`` on ``phi(W) = pen/2 ||z_l - W a_{l-1} - b_l + shift||^2``.

        ``G = pen R a^T`` with ``R = W a + b - z - shift``; the accepted ``t`` is
        :func:`accepted_constant` of ``theta`` and ``c = pen ||G a||^2 / ||G||^2``.
        ``P_l`` is updated as ``P_l - (G a) / t`` (no new product).
        """
        A, pen = self._A(st, j), self._pen(st, j)
        R = self._residual(st, j, P)
        G = pen * (R @ A.T)
        GA = G @ A
        gg = float(np.vdot(G, G))
        c = pen * float(np.vdot(GA, GA)) / gg if gg > 0 else 0.0
        phi = None
        if self.step_rule != "closed_form":
            shift = self._shift(st, j)

            def phi(W):
                D = st.z[j] - W @ A - st.b[j] + shift
                return 0.5 * pen * float(np.vdot(D, D))
        t = self._accept(st.hyper[3], c, phi, st.Wm[j], G)
        st.Wm[j] = st.Wm[j] - G / t
        self.K["sub_scaled"](P[j], GA, t)
        rec.dW2[j] = gg / (t * t)
        rec.theta[j] = t

    def activation_step(self, st, j, P, rec):
        """``a_l`` (0-based hidden j, read by layer j+1) by one gradient step on
        ``pen'/2 ||z_{l+1} - W_{l+1} a - b_{l+1} + shift||^2 + nu/2 ||a - f(z_l)||^2``.

        ``g = pen' W^T R + nu (a - f(z_l))``; accepted ``t`` from ``tau`` and
        ``c = (pen' ||W g||^2 + nu ||g||^2) / ||g||^2``; ``P_{l+1} -= (W g) / t``.
        """
        W, pen, nu = st.Wm[j + 1], self._pen(st, j + 1), st.hyper[1]
        R = self._residual(st, j + 1, P)
        if self._relu:
            g = np.empty_like(st.a[j])
            gg = self.K["a_grad"](pen, nu, W.T @ R, st.a[j], st.z[j], g)
            fz = None
        else:
            fz = self.act.f(st.z[j])
            g = pen * (W.T @ R) + nu * (st.a[j] - fz)
            gg = float(np.vdot(g, g))
        Wg = W @ g
        c = (pen * float(np.vdot(Wg, Wg)) + nu * gg) / gg if gg > 0 else 0.0
        phi = None
        if self.step_rule != "closed_form":
            shift, zn, bn = self._shift(st, j + 1), st.z[j + 1], st.b[j + 1]
            fz = self.act.f(st.z[j]) if fz is None else fz

            def phi(a):
                D = zn - W @ a - bn + shift
                E = a - fz
                return 0.5 * pen * float(np.vdot(D, D)) + 0.5 * nu * float(np.vdot(E, E))
        t = self._accept(st.hyper[2], c, phi, st.a[j], g)
        st.a[j] = st.a[j] - g / t
        self.K["sub_scaled"](P[j + 1], Wg, t)
        rec.da2[j] = gg / (t * t)
        rec.tau[j] = t

    def hidden_z_step(self, st, j, P, rec):
        """Hidden ``z_l`` exactly per entry: ``argmin nu/2 (||z - P_l - b_l||^2 + ||a_l - f(z)||^2)
        + prox_z/2 ||z - z_l||^2`` (:func:`relu_z_step`, :func:`smooth_z_step`)."""
        kappa = self.prox_z / st.hyper[1] if self.prox_z else 0.0
        zo = st.z[j]
        if self._relu and not kappa:
            z = np.empty_like(zo)
            rec.dz2[j] = self.K["relu_z"](P[j], st.b[j], st.a[j], zo, z)
            st.z[j] = z
            return
        m = P[j] + st.b[j]
        if self._relu:
            z = relu_z_step(m, st.a[j], zo, kappa)
        else:
            z = smooth_z_step(m, st.a[j], self.act, zo, kappa)
        d = z - zo
        rec.dz2[j] = float(np.vdot(d, d))
        st.z[j] = z

    def output_z_step(self, st, P, rec):
        """``z_L = argmin R(z) + <u, z - m> + rho/2 ||z - m||^2``, ``m = W_L a_{L-1} + b_L``.

        Squared loss: ``(Y - u + rho m) / (1 + rho)``.  Cross-entropy: the authors' FISTA
        (``zl_mode="authors"``) or :func:`zl_exact` (``zl_mode="exact"``).
        """
        j = len(st.Wm) - 1
        rho = st.hyper[0]
        m = P[j] + st.b[j]
        zo = st.z[j]
        if self.loss == "squared":
            z, it = (self.Y - st.u + rho * m) / (1.0 + rho), 0
            rel = 0.0
        elif self.zl_mode == "exact":
            z, it, rel = zl_exact(m, st.u, self.Y, rho, zo, self.H, self.zl_rtol)
        elif self.zl_mode == "newton":
            z, it = self.K["zl_newton"](m, st.u, self.Y, rho, zo, self.zl_rtol, 100)
            rel = np.nan
        else:
            z, it = self.K["zl_fista"](m, st.u, self.Y, rho, zo, self.zl_max_iter, self.zl_tol, self.zl_step)
            rel = np.nan
        if not np.isfinite(rel):
            G = _loss_grad(self.loss, z, self.Y)
            gr = G + st.u + rho * (z - m)
            rel = float(np.linalg.norm(gr)) / max(1.0, float(np.linalg.norm(G)))
        d = z - zo
        rec.dz2[j] = float(np.vdot(d, d))
        rec.zl_iters, rec.zl_grad = it, rel
        st.z[j] = z

    def multiplier_step(self, st, P):
        """``u += rho (z_L - W_L a_{L-1} - b_L)``; returns ``||du||^2``."""
        j = len(st.Wm) - 1
        r = st.z[j] - P[j] - st.b[j]
        du = st.hyper[0] * r
        st.u = st.u + du
        return float(np.vdot(du, du))

    # --------------------------------------------------------------- Lagrangian
    def lagrangian_parts(self, st, P):
        """``(L_rho, R(z_L), <u, r_L>, rho/2 ||r_L||^2, hidden penalty, res_lin, res_act)``."""
        N = len(st.Wm)
        rho, nu = st.hyper[0], st.hyper[1]
        res_lin, res_act = np.full(N, np.nan), np.full(N, np.nan)
        hid = 0.0
        for j in range(N - 1):
            D = st.z[j] - P[j] - st.b[j]
            E = st.a[j] - self.act.f(st.z[j])
            dd, ee = float(np.vdot(D, D)), float(np.vdot(E, E))
            res_lin[j], res_act[j] = math.sqrt(dd), math.sqrt(ee)
            hid += dd + ee
        r = st.z[-1] - P[-1] - st.b[-1]
        rr = float(np.vdot(r, r))
        res_lin[-1] = math.sqrt(rr)
        loss = _loss(self.loss, st.z[-1], self.Y)
        dual = float(np.vdot(st.u, r))
        pen_out, pen_hid = 0.5 * rho * rr, 0.5 * nu * hid
        return loss + dual + pen_out + pen_hid, loss, dual, pen_out, pen_hid, res_lin, res_act

    def kkt_blocks(self, st, P):
        """Norms of the gradient blocks of the relaxed problem's Lagrangian
        ``R(z_L) + nu/2 (hidden penalties) + <u, r_L>`` at the current point."""
        N = len(st.Wm)
        nu = st.hyper[1]
        kW, kb, kz, ka = (np.full(N, np.nan) for _ in range(4))
        # S_l: d/d(W_l a + b_l) of the Lagrangian
        S = []
        for j in range(N - 1):
            S.append(-nu * (st.z[j] - P[j] - st.b[j]))
        S.append(-st.u)
        for j in range(N):
            A = self._A(st, j)
            kW[j] = np.linalg.norm(S[j] @ A.T)
            kb[j] = np.linalg.norm(S[j].sum(axis=1))
        for j in range(N - 1):
            z, a = st.z[j], st.a[j]
            m = P[j] + st.b[j]
            fz = self.act.f(z)
            if self.act.name == "relu":
                base = z - m
                gpos = base + (fz - a)             # z > 0: f' = 1
                at0 = np.minimum(np.abs(base), np.abs(base - a))   # z = 0: s in [0, 1]
                inside = (base * (base - a)) <= 0                    # 0 in the segment
                at0 = np.where(inside, 0.0, at0)
                gz = np.where(z > 0, np.abs(gpos), np.where(z < 0, np.abs(base), at0))
                kz[j] = nu * np.linalg.norm(gz)
            else:
                kz[j] = nu * np.linalg.norm(z - m + (fz - a) * self.act.d1(z))
            ga = nu * (a - fz) + st.Wm[j + 1].T @ S[j + 1]
            ka[j] = np.linalg.norm(ga)
        G = _loss_grad(self.loss, st.z[-1], self.Y)
        kz[-1] = np.linalg.norm(G + st.u)
        return kW, kb, kz, ka, G

    # ---------------------------------------------------------------- iteration
    def iterate(self, st, row, *, track=True, train=True):
        N = len(st.Wm)
        rho, nu, tau, theta = (float(v) for v in st.hyper)
        P = st.P                                       # W_l a_{l-1}, updated in place by the steps
        bwd, fwd = _Step(N), _Step(N)
        for j in range(N - 1, -1, -1):                 # backward: z_l, b_l, W_l, a_{l-1}
            if j == N - 1:
                self.output_z_step(st, P, bwd)
            else:
                self.hidden_z_step(st, j, P, bwd)
            self.bias_step(st, j, P, bwd)
            self.weight_step(st, j, P, bwd)
            if j > 0:
                self.activation_step(st, j - 1, P, bwd)
        Lb = self.lagrangian_parts(st, P)
        for j in range(N):                              # forward: W_l, b_l, z_l, a_l
            self.weight_step(st, j, P, fwd)
            self.bias_step(st, j, P, fwd)
            if j == N - 1:
                self.output_z_step(st, P, fwd)
            else:
                self.hidden_z_step(st, j, P, fwd)
                self.activation_step(st, j, P, fwd)
        Lf = self.lagrangian_parts(st, P)
        du2 = self.multiplier_step(st, P)
        # only the dual term changes with u: <u + rho r, r> = <u, r> + rho ||r||^2
        dual_e = Lf[2] + rho * Lf[5][-1] ** 2
        Le = (Lf[1] + dual_e + Lf[3] + Lf[4], Lf[1], dual_e) + Lf[3:]

        row["lagrangian"], row["loss"], row["dual"], row["penalty_out"], row["penalty_hidden"] = Le[:5]
        row["res_lin"], row["res_act"], row["res_out"] = Le[5], Le[6], Le[5][-1]
        (row["lagrangian_bwd"], row["loss_bwd"], row["dual_bwd"], row["penalty_out_bwd"],
         row["penalty_hidden_bwd"]) = Lb[:5]
        row["lagrangian_fwd"] = Lf[0]
        for name, rec in (("bwd", bwd), ("fwd", fwd)):
            row[f"dW2_{name}"], row[f"db2_{name}"] = rec.dW2, rec.db2
            row[f"dz2_{name}"], row[f"da2_{name}"] = rec.dz2, rec.da2
            row[f"theta_{name}"], row[f"tau_{name}"] = rec.theta, rec.tau
            row[f"zl_iters_{name}"] = rec.zl_iters
        row["zl_grad"] = fwd.zl_grad
        row["step_sum"] = float(sum(np.nansum(x) for rec in (bwd, fwd)
                                    for x in (rec.dW2, rec.db2, rec.dz2, rec.da2)))
        row["du2"] = du2
        nu_ = float(np.linalg.norm(st.u))
        row["normu"] = nu_
        row["rho"], row["nu"], row["tau"], row["theta"] = rho, nu, tau, theta
        if track:
            kW, kb, kz, ka, G = self.kkt_blocks(st, P)
            row["kkt_W"], row["kkt_b"], row["kkt_z"], row["kkt_a"] = kW, kb, kz, ka
            row["kkt_total"] = float(math.sqrt(np.nansum(kW ** 2) + np.nansum(kb ** 2) + np.nansum(kz ** 2)
                                               + np.nansum(ka ** 2) + Le[5][-1] ** 2))
        else:
            G = _loss_grad(self.loss, st.z[-1], self.Y)
        row["dual_opt"] = float(np.linalg.norm(st.u + G)) / nu_ if nu_ > 0 else np.nan

        # the network (plain forward pass): cost, accuracy, train error; then the adaptive rule
        out = self.logits(st.W, self.X, Z1=P[0] + st.b[0])
        n = self.X.shape[1]
        cost = _loss(self.loss, out, self.Y) / n
        row["net_loss"] = cost
        row["net_acc"] = self._accuracy(out, self.Y)
        if self.X_test is not None:
            ot = self.logits(st.W, self.X_test)
            row["test_loss"] = _loss(self.loss, ot, self.Y_test) / self.X_test.shape[1]
            row["test_acc"] = self._accuracy(ot, self.Y_test)
        if train:
            pred = softmax(out) if self.loss == "cross_entropy" else out
            row["train_mse"] = float(np.mean((pred - self.Y) ** 2))
        row["adapt"] = float(self.adaptive_rule(st, cost))
        st.k += 1

    def adaptive_rule(self, st, cost):
        """The authors' rule: after the train cost rose three times in a row,
        ``rho <- min(factor rho, rho_max)`` (``nu`` follows when tied to ``rho``) and, when every
        hidden layer is at least ``adapt_width`` wide, ``tau, theta *= factor``.  Returns whether it fired."""
        st.costs.append(float(cost))
        c = list(st.costs)
        if not (self.adapt and len(c) == 4 and c[3] > c[2] > c[1] > c[0]):
            return False
        st.hyper[0] = min(self.adapt_factor * st.hyper[0], self.rho_max)
        if self.nu0 is None:
            st.hyper[1] = st.hyper[0]
        if min(w.shape[0] for w in st.Wm[:-1]) >= self.adapt_width:
            st.hyper[2] *= self.adapt_factor
            st.hyper[3] *= self.adapt_factor
        return True

    def _accuracy(self, out, Y):
        if self.loss != "cross_entropy":
            return np.nan
        return float(np.mean(np.argmax(out, axis=0) == np.argmax(Y, axis=0)))

    # ------------------------------------------------------------- the network
    def logits(self, W, X, Z1=None):
        """Plain forward pass ``W_L [f(... f(W_1 [X; 1]) ...); 1]`` (weights with bias column);
        ``Z1``: the first layer's pre-activation when already known (``P_1 + b_1`` on the train data)."""
        H = X
        for j, w in enumerate(W):
            Z = Z1 if (j == 0 and Z1 is not None) else w[:, :-1] @ H + w[:, -1:]
            H = self.act.f(Z) if j < len(W) - 1 else Z
        return H

    def forward(self, W, X):
        """What the loop's ``train_mse``/``test_mse`` compare with ``Y``: the output for the
        squared loss, the softmax probabilities for the cross-entropy."""
        out = self.logits(W, X)
        return softmax(out) if self.loss == "cross_entropy" else out

    @staticmethod
    def criterion(row, track):
        """``kkt_total`` when tracked, else ``||r_L||`` plus the square root of the step sum."""
        if track:
            return row["kkt_total"]
        return row["res_out"] + math.sqrt(row["step_sum"])


# --------------------------------------------------------------------- cost model
def gemm_shapes(widths, n_samples, *, track=True, test_samples=0):
    """The matrix products ``(m, k, n)`` of one iteration (``m x k`` times ``k x n``).

    Per sweep each ``W_l`` step forms ``G = R a^T`` and ``G a`` (2L) and each ``a_l`` step
    ``W^T R`` and ``W g`` (2(L-1)); the products ``P_l = W_l a_{l-1}`` are updated from these
    (never recomputed); the network's forward pass reuses ``P_1`` (L - 1, plus L on test
    data); with ``track`` the KKT blocks (``S a^T`` per layer, ``W^T S`` per hidden layer).
    FISTA, the z steps and the Lagrangian are elementwise.
    """
    d, n, L = list(widths), int(n_samples), len(widths) - 1
    out = []
    for _ in range(2):
        for j in range(L):
            out += [(d[j + 1], n, d[j]), (d[j + 1], d[j], n)]          # G = R A^T, G A
        for j in range(L - 1):
            out += [(d[j + 1], d[j + 2], n), (d[j + 2], d[j + 1], n)]  # W^T R, W g
    out += [(d[j + 1], d[j], n) for j in range(1, L)]                 # network forward
    if test_samples:
        out += [(d[j + 1], d[j], int(test_samples)) for j in range(L)]
    if track:
        out += [(d[j + 1], n, d[j]) for j in range(L)]
        out += [(d[j + 1], d[j + 2], n) for j in range(L - 1)]
    return out


def gemms_per_iter(n_layers, *, track=True, test=False):
    """Number of matrix products per iteration: ``9L - 5`` (+ ``L`` forward pass on test data,
    + ``2L - 1`` with ``track``)."""
    L = int(n_layers)
    return 9 * L - 5 + (L if test else 0) + ((2 * L - 1) if track else 0)


#: matrix products per iteration for the authors' three-layer net (L = 3), track off, no test data
DLADMM_GEMMS_PER_ITER = gemms_per_iter(3, track=False)


# ------------------------------------------------------------------------ estimator
#: the parameters of :class:`DLADMM` and :class:`DLADMMClassifier` (the classifier without
#: ``loss``), with their defaults: written once, the two ``__init__`` are made from it
DLADMM_DEFAULTS = {
    "hidden_layer_sizes": (100, 100), "activation": "relu", "loss": "squared", "rho": 1e-6, "nu": None,
    "tau": 1.0, "theta": 1.0, "adapt": True, "adapt_width": 100, "adapt_factor": 10.0, "rho_max": 0.1,
    "output_init": "forward", "zl_mode": "authors", "zl_max_iter": 500, "zl_tol": 1e-3, "zl_step": 4.0,
    "zl_rtol": 1e-12, "prox_z": 0.0, "step_rule": "closed_form", "kernels": "numba", "init": None, "init_scale": 0.1,
    "max_iter": 100, "tol": 0.0, "track": True, "random_state": None, "keep_best": False, "callback": None,
    "verbose": 0, "checkpoint": None, "checkpoint_every": 50, **EARLY_STOPPING_DEFAULTS,
}

_POS = real(0, None, closed="neither")
#: their declared constraints
DLADMM_CONSTRAINTS = {
    **LOOP_CONSTRAINTS,
    "hidden_layer_sizes": ["array-like", integer(1, None)],
    "activation": [options(NUMPY_KERNELS)],
    "loss": [options(LOSS_H)],
    **{name: [_POS] for name in ("rho", "tau", "theta", "zl_tol", "zl_step", "zl_rtol", "rho_max",
                                 "adapt_factor")},
    "nu": [_POS, None],
    "prox_z": [real(0, None)],
    "adapt": ["boolean"], "track": ["boolean"],
    "adapt_width": [integer(0, None)],
    "zl_max_iter": [integer(1, None)],
    "output_init": [options({"forward", "authors"})],
    "zl_mode": [options({"authors", "exact", "newton"})],
    "kernels": [options({"numba", "numpy"})],
    "step_rule": [options({"closed_form", "backtracking"})],
}


class DLADMM(LiftedRegressor):
    """dlADMM (Wang, Yu, Chen, Zhao, KDD 2019) as a scikit-learn regressor (docs/methods/dladmm.md).

    Every parameter is keyword-only.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
    activation : {"relu", "sigmoid", "tanh"}
        Hidden activation ``f``; ReLU is the authors' (its z step is exact per entry).
    loss : {"squared", "cross_entropy"}
        ``1/2 ||z_L - Y||^2`` or the softmax cross-entropy summed over samples (one-hot ``y``).
    rho, nu : float
        Penalties; ``nu=None`` ties ``nu`` to ``rho`` as in the authors' code.  Defaults 1e-6.
    tau, theta : float
        Starting constants of the a and W steps (default 1).
    adapt : bool
        The authors' adaptive rule (see :meth:`DLADMMEngine.adaptive_rule`); ``adapt_width``
        (default 100), ``adapt_factor`` (10), ``rho_max`` (0.1) its constants.
    output_init : {"forward", "authors"}
        ``z_L`` at the start: the forward pass, or ``2Y - 1`` as in the authors' code.
    zl_mode : {"authors", "exact", "newton"}
        Cross-entropy ``z_L`` step: the authors' FISTA (``zl_max_iter`` 500, ``zl_tol`` 1e-3
        absolute on the summed objective, step ``zl_step`` 4), or solved to ``zl_rtol`` by
        accelerated proximal gradient (``"exact"``) or by Newton's method per sample
        (``"newton"``: a few steps from the previous ``z_L``; the trace's ``zl_iters_*`` count
        the most steps any sample took).
    kernels : {"numba", "numpy"}
        The elementwise kernels (:mod:`solver.dladmm_kernels`): compiled, or their numpy twins.
    prox_z : float
        Weight ``c`` of a proximal term ``c/2 ||z - z_l||^2`` in the hidden z step (0: the
        authors' form).
    step_rule : {"closed_form", "backtracking"}
        The accepted step constant in closed form, or the doubling loop on objective values.
    init, init_scale
        ``init=None``: ``N(0, init_scale^2)`` weights and biases (the authors' N(0, 0.1^2));
        a name from :data:`solver.INITS`: that rule (zero biases) times ``init_scale``.
    track : bool
        Record the KKT blocks (2L - 1 extra products per iteration).
    early_stopping, validation_fraction, n_iter_no_change, validation_tol :
        As in :class:`solver.ADMM` (early stopping on held-out rows; the classifier scores
        them by accuracy, split stratified by class).

    ``fit(X, y, init_weights=[(W_l, b_l)], X_test=, y_test=)``: explicit initial weights as
    for every lifted method.  Fitted attributes as :class:`solver.LiftedRegressor`.
    ``predict`` is the network's output layer (the logits with ``loss="cross_entropy"``, whose
    one-hot targets :class:`DLADMMClassifier` handles with labels, probabilities and accuracy).
    """

    _schema = DLADMM_SCHEMA

    _parameter_constraints = DLADMM_CONSTRAINTS
    _not_settings = LiftedRegressor._not_settings + ("keep_best",)

    __init__ = keyword_init(DLADMM_DEFAULTS)

    # ------------------------------------------------------------------ hooks
    def _validate_method_params(self, n_outputs):
        hs = check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        if self.loss == "cross_entropy" and n_outputs < 2:
            raise ValueError(f"y: the cross-entropy loss expects one-hot targets with >= 2 columns, "
                             f"got {n_outputs} column(s)")
        return {"hidden_layer_sizes": hs, "activation": kernels_for(self.activation)}

    def _initial_weights(self, widths, params):
        if self.init is not None:
            return super()._initial_weights(widths, params)
        rng = np.random.default_rng(self.random_state)
        s = float(self.init_scale)
        return [(rng.normal(0.0, s, size=(widths[j + 1], widths[j])), rng.normal(0.0, s, size=widths[j + 1]))
                for j in range(len(widths) - 1)]

    def _extra_settings(self, p):
        return {"method": "dladmm", "loss": self.loss, "H": LOSS_H[self.loss]}

    def _make_engine(self, X, Y, p):
        Xt, Yt = getattr(self, "_fit_test", (None, None))
        if self.loss == "cross_entropy":
            for name, T in (("y", Y), ("y_test", None if Yt is None else Yt.T)):
                if T is not None and not (np.all(T >= 0) and np.allclose(T.sum(axis=1), 1.0)):
                    raise ValueError(f"{name}: the cross-entropy loss expects one-hot (probability) rows, "
                                     f"non-negative and summing to 1 (DLADMMClassifier takes labels)")
        return DLADMMEngine(
            X.T, Y.T, p["activation"], loss=self.loss, rho=self.rho, nu=self.nu, tau=self.tau,
            theta=self.theta, adapt=bool(self.adapt), adapt_width=self.adapt_width,
            adapt_factor=self.adapt_factor, rho_max=self.rho_max, output_init=self.output_init,
            zl_mode=self.zl_mode, zl_max_iter=self.zl_max_iter, zl_tol=self.zl_tol,
            zl_step=self.zl_step, zl_rtol=self.zl_rtol, prox_z=self.prox_z, kernels=self.kernels,
            step_rule=self.step_rule, X_test=Xt, Y_test=Yt)

    def fit(self, X, y, *, X_test=None, y_test=None, init_weights=None, resume=False):
        """As :meth:`solver.LiftedRegressor.fit`; the test data also give ``test_loss``/``test_acc``."""
        self._fit_test = (None, None)
        if X_test is not None and y_test is not None:
            Xt, Yt, _ = check_Xy(X_test, y_test, "X_test", "y_test")
            self._fit_test = (np.ascontiguousarray(Xt.T), np.ascontiguousarray(Yt.T))
        try:
            return super().fit(X, y, X_test=X_test, y_test=y_test, init_weights=init_weights, resume=resume)
        finally:
            del self._fit_test

    def _network_activation(self):
        return kernels_for(self.activation)

    def network_output(self, X):
        """The output layer for rows of ``X`` (the logits for the cross-entropy; ``predict``'s
        values, 2-D, for the squared loss)."""
        check_is_fitted(self, "weights_")
        X = check_array(X, "X", ndim=(2,))
        validate_data(self, X, reset=False)
        H = X.T
        act = kernels_for(self.activation)
        for j, (w, b) in enumerate(self.weights_):
            H = w @ H + b[:, None]
            if j < len(self.weights_) - 1:
                H = act.f(H)
        return H.T



class DLADMMClassifier(ClassifierMixin, DLADMM):
    """dlADMM with the softmax cross-entropy as a scikit-learn classifier (the authors' setting).

    The labels ``y`` (any hashable values) become one-hot targets; the loss is the
    cross-entropy summed over samples.  Parameters as :class:`DLADMM` without ``loss``.
    ``predict_proba`` is the softmax of the output layer, ``predict`` its argmax, ``score`` the
    accuracy.  ``fit(X, y, init_weights=..., X_test=, y_test=)`` with label vectors.
    """

    loss = "cross_entropy"          # fixed: not a parameter of the classifier

    _parameter_constraints = {k: v for k, v in DLADMM_CONSTRAINTS.items() if k != "loss"}

    __init__ = keyword_init({k: v for k, v in DLADMM_DEFAULTS.items() if k != "loss"})

    def _one_hot(self, y, name):
        y = column_or_1d(y, warn=True)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        if not np.all(self.classes_[idx] == y):
            raise ValueError(f"{name}: labels {sorted(set(np.asarray(y)[self.classes_[idx] != y].tolist()))[:5]} "
                             f"were not seen in y (classes {self.classes_.tolist()[:10]})")
        return np.eye(len(self.classes_))[idx]

    def fit(self, X, y, *, X_test=None, y_test=None, init_weights=None, resume=False):
        """Train on labels ``y`` (see :class:`DLADMM`); sets ``classes_``."""
        if y is None:
            raise ValueError("y: this estimator requires y to be passed, but the target y is None")
        y = column_or_1d(np.asarray(y), warn=True)
        if y.shape[0] == 0:
            raise ValueError("y: expected at least one sample, got an empty array (0 samples)")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y: expected at least 2 classes, got 1 class ({self.classes_[0]!r})")
        Y = self._one_hot(y, "y")
        Yt = None if y_test is None else self._one_hot(y_test, "y_test")
        return super().fit(X, Y, X_test=X_test, y_test=Yt, init_weights=init_weights, resume=resume)

    def predict_proba(self, X):
        """Softmax of the output layer, one row per sample, columns in the order of ``classes_``."""
        return softmax(self.network_output(X).T).T

    def predict(self, X):
        """The class of largest output (argmax of the logits)."""
        out = self.network_output(X)
        return self.classes_[np.argmax(out, axis=1)]

    def _validation_score(self, out, Y):
        """Early stopping's score: the accuracy of the argmax of the logits ``out`` against the
        one-hot ``Y`` (outputs x samples), as ``MLPClassifier``."""
        return float(np.mean(out.argmax(axis=0) == Y.argmax(axis=0)))

    def score(self, X, y, sample_weight=None):
        """Accuracy (``ClassifierMixin.score``)."""
        return ClassifierMixin.score(self, X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.regressor_tags = None
        tags.target_tags.multi_output = False
        tags.target_tags.single_output = True
        tags.target_tags.required = True
        tags.classifier_tags = ClassifierTags(poor_score=not bool(getattr(self, "keep_best", False)))
        return tags
