"""One dlADMM iteration (:class:`DLADMMEngine`, paper Algorithm 1 of Wang et al.), its state and cost model.
"""

from __future__ import annotations

from collections import deque
import math

import numpy as np

from ..elementwise import kernels_for
from .steps import (LOSS_H, _loss, _loss_grad, accepted_constant, backtracking_reference, relu_z_step,
                    smooth_z_step, softmax, zl_exact)

__all__ = ["DLADMMEngine", "DLADMMState", "gemm_shapes", "gemms_per_iter", "DLADMM_GEMMS_PER_ITER"]

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
    """One dlADMM iteration (see the :mod:`solver.dladmm` docstring); one method per step.

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
        # X^T in row order for the first layer's G = R X^T: a plain product, where the
        # transposed view makes BLAS gather X's columns (~20 % slower at width 100; same bits)
        self._XT = np.ascontiguousarray(self.X.T)
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
        from .kernels import KERNEL_SETS  # noqa: PLC0415 - numba's load, paid at fit

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
        b_new = np.empty_like(st.b[j])
        j_out = j == len(st.Wm) - 1
        shift = st.u / st.hyper[0] if j_out else st.z[j]      # (not read for hidden layers)
        rec.db2[j] = self.K["bias_mean"](st.z[j], P[j], shift, j_out, st.b[j], b_new)
        st.b[j] = b_new

    def weight_step(self, st, j, P, rec):
        """``W_l`` by one gradient step ``W - G/t`` on ``phi(W) = pen/2 ||z_l - W a_{l-1} - b_l + shift||^2``.

        ``G = pen R a^T`` with ``R = W a + b - z - shift``; the accepted ``t`` is
        :func:`accepted_constant` of ``theta`` and ``c = pen ||G a||^2 / ||G||^2``.
        ``P_l`` is updated as ``P_l - (G a) / t`` (no new product).
        """
        A, pen = self._A(st, j), self._pen(st, j)
        R = self._residual(st, j, P)
        G = R @ (self._XT if j == 0 else A.T)
        G *= pen
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
        W_new = np.empty_like(G)
        self.K["scaled_step"](st.Wm[j], G, t, W_new)
        st.Wm[j] = W_new
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
        a_new = np.empty_like(g)
        self.K["scaled_step"](st.a[j], g, t, a_new)
        st.a[j] = a_new
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

    def output_z_step(self, st, P, rec, grad=True):
        """``z_L = argmin R(z) + <u, z - m> + rho/2 ||z - m||^2``, ``m = W_L a_{L-1} + b_L``.

        Squared loss: ``(Y - u + rho m) / (1 + rho)``.  Cross-entropy: the authors' FISTA
        (``zl_mode="authors"``) or :func:`zl_exact` (``zl_mode="exact"``).  ``grad=False``:
        the relative gradient ``rec.zl_grad`` is left unmeasured where the solver does not
        return it (the trace records the forward sweep's only).
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
        if grad and not np.isfinite(rel):
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
            if self._relu:
                dd, ee = self.K["hidden_penalty"](st.z[j], P[j], st.b[j], st.a[j])
            else:
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
                self.output_z_step(st, P, bwd, grad=False)     # (the trace keeps the forward one)
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
        out = self._train_logits(st, P)
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

    def _train_logits(self, st, P):
        """:meth:`logits` on the train data from the state's ``W_l, b_l``, the first layer's
        product being ``P_1``: each hidden layer one product and one fused pass ``f(. + b)``."""
        N = len(st.Wm)
        if not self._relu or N == 1:
            return self.logits(st.W, self.X, Z1=P[0] + st.b[0])
        H = np.empty_like(P[0])
        self.K["relu_bias"](P[0], st.b[0], H)
        for j in range(1, N - 1):
            Z = st.Wm[j] @ H
            self.K["relu_bias"](Z, st.b[j], Z)
            H = Z
        return st.Wm[-1] @ H + st.b[-1]

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
