"""One lifted BCD iteration (:class:`LiftedBCDEngine`) and its state.
"""

from __future__ import annotations

import math

import numpy as np

from .._blas_threads import numpy_blas_threads, scipy_blas_one_thread
from ..elementwise import relu_f
from .steps import (DENSE_HESSIAN_MAX, _Counter, _grad_size, _gram, _weights_c, grad_U, grad_W,
                    natural_residual, objective_parts, projected_gradient, relax, relu_forward, residuals,
                    theta_schedule, u_step, w_step)

__all__ = ["LiftedBCDEngine", "LiftedBCDState"]

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
    """One iteration of the lifted-ReLU BCD, one method per step (:mod:`solver.lifted_bcd` docstring).

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
