"""One outer iteration of the inexact ALM (:class:`InexactALMEngine`), its state and its product counts.
"""

from __future__ import annotations

import numpy as np

from ..core import network_layers
from .steps import group_soft_threshold, scalar_piecewise_min

__all__ = ["InexactALMEngine", "InexactALMState", "matmuls_per_iteration", "matmuls_per_sweep",
           "COMPLEMENTARITY"]

#: the two complementarity penalties ``c(U, V)`` (:mod:`solver.inexact_alm` docstring)
COMPLEMENTARITY = ("product", "l1")
#: the W-block solvers of the inner sweep (:meth:`InexactALMEngine.weight_block`)
W_SOLVERS = ("mm", "mfista")


def _leaky_relu(alpha):
    """:func:`theory.leaky_relu` (``max(t, alpha t)``; ``d1`` takes ``alpha`` at 0, one element
    of the Clarke subdifferential ``[alpha, 1]``), imported on first use (theory's sympy load
    is paid by a fit, not by ``import solver``)."""
    from theory.activations import leaky_relu  # noqa: PLC0415 - import time, see the docstring

    return leaky_relu(alpha)


# ------------------------------------------------------------------ kernels
# (the exact block maps, group_soft_threshold and the piecewise minimisers: .steps)
def _kernel_set(name):
    """The elementwise kernels by name (:data:`solver.inexact_alm.kernels.KERNEL_SETS`)."""
    from .kernels import KERNEL_SETS  # noqa: PLC0415 - numba's load, paid at fit

    if name not in KERNEL_SETS:
        raise ValueError(f"kernels: expected one of {sorted(KERNEL_SETS)}, got {name!r}")
    return KERNEL_SETS[name]


# ------------------------------------------------------------------ counting products
def matmuls_per_sweep(N, v_steps=1):
    """Matrix products with ``n`` columns in one inner sweep of an ``N``-layer net.

    W step: the Gram ``A_{l-1} A_{l-1}^T`` (``l >= 2``; the first layer's is computed once per
    fit), ``B_l A_{l-1}^T`` and ``W_l A_{l-1}`` (kept for the residual); V step (``l < N``):
    ``v_steps`` times ``Wbar_{l+1} V_l`` and ``Wbar_{l+1}^T (...)`` (the coupling's gradient
    through the thin ``Wbar_{l+1}``, never the ``d_l x d_l`` Gram).  Total
    ``3N - 1 + 2 (N - 1) v_steps``.
    """
    return 3 * N - 1 + 2 * (N - 1) * v_steps


def matmuls_per_iteration(N, inner_iter, restarts=0, *, v_steps=1, track=True, train=True):
    """Matrix products with ``n`` columns of one outer iteration (the trace's ``n_matmul``).

    The residual at the start (``3N - 1``: ``W_l A``, ``R_l A^T``, ``Wbar_{l+1}^T R_{l+1}``),
    ``inner_iter + restarts`` sweeps (:func:`matmuls_per_sweep`) each followed by a residual
    that reuses the sweep's ``W_l A`` (``2N - 1``; ``L_rho`` reuses them too), the KKT
    stationarity with the estimates when ``track`` (``Mu_l A^T``, ``Wbar_{l+1}^T Mu_{l+1}``:
    ``2N - 1``) and the forward pass when ``track`` or ``train`` (``N``).  Products of two
    small (``d x d``) matrices are not counted.  For the benchmark of issue 11 (tested
    against the count the engine keeps).
    """
    sweeps = inner_iter + restarts
    out = (3 * N - 1) + ((2 * N - 1) + matmuls_per_sweep(N, v_steps)) * sweeps
    if track:
        out += 2 * N - 1
    if track or train:
        out += N
    return out


# ------------------------------------------------------------------ state
class InexactALMState:
    """Iterate of the inexact ALM: ``W`` (bias last column), lifted ``U`` (N), ``V`` (N - 1),
    safeguarded multipliers ``Mu`` (N), ``La``/``Lb`` (N - 1, of ``g1``/``g2``), ``rho``,
    ``eps``, ``infeas_prev`` (the last infeasibility measure) and ``k``."""

    def __init__(self, W, U, V, Mu, La, Lb, rho, eps, infeas_prev=np.inf, k=0):
        self.W, self.U, self.V = list(W), list(U), list(V)
        self.Mu, self.La, self.Lb = list(Mu), list(La), list(Lb)
        self.rho, self.eps, self.infeas_prev, self.k = float(rho), float(eps), float(infeas_prev), int(k)

    def arrays(self, prefix=""):
        out = {f"{prefix}k": np.asarray(self.k), f"{prefix}rho": np.asarray(self.rho),
               f"{prefix}eps": np.asarray(self.eps), f"{prefix}infeas_prev": np.asarray(self.infeas_prev)}
        for name in ("W", "U", "V", "Mu", "La", "Lb"):
            out.update({f"{prefix}{name}{j}": a for j, a in enumerate(getattr(self, name))})
        return out


# ------------------------------------------------------------------ engine
class InexactALMEngine:
    """One outer iteration of the safeguarded inexact ALM (:mod:`solver.inexact_alm` docstring)."""

    name = "inexact_alm"

    def __init__(self, X, Y, *, alpha, lam, beta, complementarity, rho0, rho_factor, rho_max,
                 progress, mult_max, eps0, eps_decay, eps_min, inner_max_iter, w_steps=1, v_steps=1,
                 momentum=True, kernels="numba", w_solver="mm", eliminate_output=True, eps_per_sample=False):
        self.X, self.Y = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
        self.act = _leaky_relu(alpha)
        self.alpha, self.lam, self.beta = float(alpha), np.asarray(lam, float), float(beta)
        self.comp_kind = complementarity
        self.rho0, self.rho_factor, self.rho_max, self.progress = rho0, rho_factor, rho_max, progress
        self.mult_max = mult_max
        self.eps0, self.eps_decay, self.eps_min, self.inner_max_iter = eps0, eps_decay, eps_min, inner_max_iter
        if eps_per_sample:   # the loss is summed over the n samples, and so is the residual's scale
            n = self.X.shape[1]
            self.eps0, self.eps_min = eps0 * n, eps_min * n
        self.w_steps, self.v_steps, self.momentum = int(w_steps), int(v_steps), bool(momentum)
        self.K = _kernel_set(kernels)
        if w_solver not in W_SOLVERS:
            raise ValueError(f"w_solver: expected one of {W_SOLVERS}, got {w_solver!r}")
        self.w_solver, self.eliminate_output = w_solver, bool(eliminate_output)
        self.n_mm = 0
        self._WA = None          # (id of the arrays, W_l A_{l-1}) left by the last sweep, for the residual
        self.A0 = np.vstack([self.X, np.ones((1, self.X.shape[1]))])
        self.G0 = self.A0 @ self.A0.T                           # Gram of the constant first layer
        self.L0 = float(np.linalg.eigvalsh(self.G0)[-1])

    # ---------------------------------------------------------- helpers
    def _mm(self, a, b):
        """A matrix product with ``n`` columns (counted for :func:`matmuls_per_iteration`)."""
        self.n_mm += 1
        return a @ b

    def _A(self, V, l):
        """``A_{l-1} = [V_{l-1}; 1]`` for layer ``l`` (1-based), ``V_0 = X``."""
        return self.A0 if l == 1 else np.vstack([V[l - 2], np.ones((1, V[l - 2].shape[1]))])

    def forward(self, W, X):
        return network_layers(W, X, self.act)[-1][1]

    def initial_state(self, weights):
        """The forward pass of the initial weights (a feasible point: ``h = 0``, ``g <= 0``,
        ``c = 0``), zero multipliers, ``rho_0``, ``eps_0`` [R]."""
        W = [np.hstack([w, b[:, None]]) for w, b in weights]
        layers = network_layers(W, self.X, self.act)
        U = [z.copy() for z, _ in layers]
        V = [h.copy() for _, h in layers[:-1]]
        return InexactALMState(W, U, V, [np.zeros_like(u) for u in U], [np.zeros_like(v) for v in V],
                               [np.zeros_like(v) for v in V], self.rho0, self.eps0)

    @staticmethod
    def state_from_arrays(z, prefix):
        N = sum(1 for key in z.keys() if key.startswith(f"{prefix}W"))
        get = lambda name, m: [np.array(z[f"{prefix}{name}{j}"], dtype=float) for j in range(m)]  # noqa: E731
        return InexactALMState(get("W", N), get("U", N), get("V", N - 1), get("Mu", N), get("La", N - 1),
                               get("Lb", N - 1), float(z[f"{prefix}rho"]), float(z[f"{prefix}eps"]),
                               float(z[f"{prefix}infeas_prev"]), int(z[f"{prefix}k"]))

    def criterion(self, row, track):
        return row["kkt_total"] if track else float(np.hypot(row["inner_res"], row["infeas"]))

    # ---------------------------------------------------------- model pieces
    def comp_value(self, U, V):
        """``c(U, V)`` of one layer (:mod:`solver.inexact_alm` docstring)."""
        if self.comp_kind == "product":
            return float(np.sum((V - U) * (V - self.alpha * U)))
        return float(np.sum(V - self.act(U)))

    def comp_grads(self, U, V):
        """Gradients of ``c`` in ``U`` and ``V`` (``l1``: ``-sigma'(U)`` with ``sigma'(0) = alpha``)."""
        a = self.alpha
        if self.comp_kind == "product":
            return 2 * a * U - (1 + a) * V, 2 * V - (1 + a) * U
        return -self.act.d1(U), np.ones_like(V)

    def constraints(self, st, WA):
        """``h_l`` (N) and ``(g1_l, g2_l)`` (N - 1) at ``st``; ``WA[l] = W_l A_{l-1}``."""
        h = [u - wa for u, wa in zip(st.U, WA)]
        g = [(st.U[j] - st.V[j], self.alpha * st.U[j] - st.V[j]) for j in range(len(st.V))]
        return h, g

    def objective_parts(self, st):
        loss = 0.5 * float(np.sum((st.U[-1] - self.Y) ** 2))
        group = float(sum(lam * np.sum(np.sqrt(np.einsum("ij,ij->j", w[:, :-1], w[:, :-1])))
                          for lam, w in zip(self.lam, st.W)))
        comp = self.beta * sum(self.comp_value(st.U[j], st.V[j]) for j in range(len(st.V)))
        return loss, group, comp

    def augmented_lagrangian(self, st, rho, WA=None):
        """PHR ``L_rho(x; Mubar, Lambar) = f + <Mubar, h> + rho/2 ||h||^2
        + rho/2 ||max(0, g + Lambar/rho)||^2 - ||Lambar||^2/(2 rho)`` at ``st``."""
        if WA is None:
            WA = [w @ self._A(st.V, l + 1) for l, w in enumerate(st.W)]
        h, g = self.constraints(st, WA)
        val = sum(self.objective_parts(st))
        for j, hj in enumerate(h):
            val += float(np.sum(st.Mu[j] * hj)) + 0.5 * rho * float(np.sum(hj * hj))
        for j, (g1, g2) in enumerate(g):
            for gg, L in ((g1, st.La[j]), (g2, st.Lb[j])):
                val += 0.5 * rho * float(np.sum(np.maximum(0.0, gg + L / rho) ** 2)) - float(np.sum(L * L)) / (2 * rho)
        return val

    # ---------------------------------------------------------- gradients and residuals
    def _group_dist(self, Gbar, Wbar, lam):
        """Per-column ``dist(0, G_j + lam d||W_j||)`` squared, summed (the group norm's subdifferential)."""
        nw = np.sqrt(np.einsum("ij,ij->j", Wbar, Wbar))
        nz = nw > 0
        r2 = 0.0
        if nz.any():
            R = Gbar[:, nz] + lam * Wbar[:, nz] / nw[nz]
            r2 += float(np.sum(R * R))
        if (~nz).any():
            ng = np.sqrt(np.einsum("ij,ij->j", Gbar[:, ~nz], Gbar[:, ~nz]))
            r2 += float(np.sum(np.maximum(ng - lam, 0.0) ** 2))
        return r2

    def inner_residual(self, st, rho, WA=None):
        """``dist(0, d_x L_rho(x; Mubar, Lambar))`` at ``st`` (the inner stopping measure), and
        ``W_l A_{l-1}`` for reuse (``WA``: those products at ``st`` when the caller has them,
        as :meth:`inner_sweep` does).  Smooth gradients: ``-rho R_l A^T`` (W), ``rho R_l + rho P1
        + rho alpha P2 + beta dc/dU`` (U; ``U_N - Y + rho R_N`` at the output),
        ``-rho Wbar_{l+1}^T R_{l+1} - rho P1 - rho P2 + beta dc/dV`` (V), with
        ``R_l = U_l - W_l A_{l-1} + Mubar_l / rho``, ``P = max(0, g + Lambar/rho)``."""
        N = len(st.W)
        if WA is None:
            WA = [self._mm(st.W[l - 1], self._A(st.V, l)) for l in range(1, N + 1)]
        R = []
        r2 = 0.0
        for l in range(1, N + 1):
            A = self._A(st.V, l)
            wa = WA[l - 1]
            Rl = st.U[l - 1] - wa + st.Mu[l - 1] / rho
            R.append(Rl)
            GW = -rho * self._mm(Rl, A.T)
            r2 += float(np.sum(GW[:, -1] ** 2)) + self._group_dist(GW[:, :-1], st.W[l - 1][:, :-1], self.lam[l - 1])
        for j in range(N):
            if j == N - 1:
                GU = st.U[j] - self.Y + rho * R[j]
                r2 += float(np.sum(GU * GU))
                continue
            WtR = self._mm(st.W[j + 1][:, :-1].T, R[j + 1])
            if self.comp_kind == "l1":
                su, sv = self.K["hidden_grads_sq"](rho, self.alpha, self.beta, st.U[j], st.V[j], R[j], WtR,
                                                   st.La[j], st.Lb[j])
                r2 += su + sv
                continue
            P1 = np.maximum(0.0, st.U[j] - st.V[j] + st.La[j] / rho)
            P2 = np.maximum(0.0, self.alpha * st.U[j] - st.V[j] + st.Lb[j] / rho)
            cU, cV = self.comp_grads(st.U[j], st.V[j])
            GU = rho * (R[j] + P1 + self.alpha * P2) + self.beta * cU
            GV = -rho * WtR - rho * (P1 + P2) + self.beta * cV
            r2 += float(np.sum(GU * GU)) + float(np.sum(GV * GV))
        return float(np.sqrt(r2)), WA

    # ---------------------------------------------------------- the inner sweep
    def inner_sweep(self, st, rho):
        """One Gauss-Seidel sweep ``l = 1..N``: ``W_l`` (proximal gradient, group soft-threshold,
        step ``1/(rho ||A_{l-1}||_2^2)``), ``U_l`` (exact block minimiser), ``V_l`` (proximal
        linearised step: the coupling with layer ``l+1`` linearised with constant
        ``rho ||Wbar_{l+1}||_2^2``, the separable convex part exact) [R].  Each block map does
        not increase ``L_rho`` (a majorise-minimise step; tested).  Returns ``W_l A_{l-1}`` at the
        new point (each is formed after its last operand moved, so :meth:`inner_residual` reuses them)."""
        N, a, beta = len(st.W), self.alpha, self.beta
        WA = []
        for l in range(1, N + 1):
            j = l - 1
            A = self._A(st.V, l)
            G = self.G0 if l == 1 else self._mm(A, A.T)
            Lw = rho * (self.L0 if l == 1 else float(np.linalg.eigvalsh(G)[-1]))
            rw = rho
            if l == N and self.eliminate_output:
                # (W_N, U_N) jointly: U_N's exact minimiser eliminated, W_N minimises
                # rho/(1+rho)/2 ||Y + Mubar_N/rho - W A||^2 + group term [R]
                rw = rho / (1.0 + rho)
                B = self.Y + st.Mu[j] / rho
            else:
                B = st.U[j] + st.Mu[j] / rho
            C = self._mm(B, A.T)
            Wn = st.W[j] = self.weight_block(st.W[j], G, C, rw, Lw * (rw / rho), self.lam[j])
            wa = self._mm(Wn, A)
            WA.append(wa)
            target = wa - st.Mu[j] / rho                 # U_l minimises rho/2 ||U - target||^2 + ...
            if l == N:
                st.U[j] = (self.Y + rho * target) / (1.0 + rho)
                continue
            V = st.V[j]
            Wn1 = st.W[l][:, :-1]
            # the coupling with layer l + 1, rho/2 ||Wbar_{l+1} V - Bn||^2, and its gradient
            # rho Wbar^T (Wbar V - Bn): two products with the thin Wbar_{l+1}, never the d x d Gram
            rc = rho
            if l == N - 1 and self.eliminate_output:
                # U_N at its minimiser given V (it is, after the joint (W_N, U_N) step that
                # follows): the coupling is rho/(1+rho)/2 ||Y + Mubar_N/rho - W_N [V; 1]||^2 [R]
                rc = rho / (1.0 + rho)
                Bn = self.Y + st.Mu[l] / rho - st.W[l][:, -1:]
            else:
                Bn = st.U[l] + st.Mu[l] / rho - st.W[l][:, -1:]
            Ks = Wn1 @ Wn1.T if Wn1.shape[0] <= Wn1.shape[1] else Wn1.T @ Wn1
            Lc = max(rc * (float(np.linalg.eigvalsh(Ks)[-1]) if Ks.size else 0.0), 1e-8 * rho)
            l1, l2 = st.La[j] / rho, st.Lb[j] / rho
            if self.comp_kind == "l1":
                # joint exact (U_l, V_l) step on the convex majorant: -beta sigma(U) linearised at
                # U (MM), the coupling with layer l + 1 linearised at V (constant Lc) [R]
                U = st.U[j]
                for _ in range(self.v_steps):
                    D = self._mm(Wn1.T, self._mm(Wn1, V) - Bn)    # K V - E, K = Wbar^T Wbar
                    if rc != rho:
                        D *= rc / rho
                    Un, Vn = np.empty_like(U), np.empty_like(V)
                    self.K["joint_uv"](rho, a, beta, Lc, target, U, V, D, st.La[j], st.Lb[j], Un, Vn)
                    U, V = Un, Vn
                st.U[j], st.V[j] = U, V
                continue
            st.U[j] = U = scalar_piecewise_min(rho + 2 * beta * a, rho * target + beta * (1 + a) * V,
                                               rho, 1.0, l1 - V, a, l2 - V)
            r1, r2 = U + l1, a * U + l2
            for _ in range(self.v_steps):
                gc = rc * self._mm(Wn1.T, self._mm(Wn1, V) - Bn)    # gradient of the coupling with layer l + 1
                V = scalar_piecewise_min(2 * beta + Lc, beta * (1 + a) * U + Lc * V - gc, rho, -1.0, r1, -1.0, r2)
            st.V[j] = V
        return WA

    def weight_block(self, W, G, C, rho, Lw, lam):
        """The W block's group lasso ``phi(W) = rho/2 tr(W G W^T) - rho <W, C> + lam ||Wbar||_{2,1}``
        in Gram form (``G = A A^T``, ``C = B A^T``: no product with ``n`` columns), by
        ``w_steps`` steps of ``w_solver`` (:meth:`weight_block_mm`, :meth:`weight_block_mfista`).
        ``phi`` (hence ``L_rho``) never increases [R]."""
        if self.w_solver == "mm":
            return self.weight_block_mm(W, G, C, rho, Lw, lam)
        return self.weight_block_mfista(W, G, C, rho, Lw, lam)

    def _phi(self, Z, G, C, rho, lam):
        return (0.5 * rho * float(np.sum((Z @ G) * Z)) - rho * float(np.sum(Z * C))
                + lam * float(np.sum(np.sqrt(np.einsum("ij,ij->j", Z[:, :-1], Z[:, :-1])))))

    def _zero_groups(self, x, fx, G, C, rho, lam):
        """Exact group steps on the columns that the MM steps are shrinking (``lam / c_j``
        above the curvature ``rho G_jj``): ``w_j = argmin phi`` in column ``j`` alone, a group
        soft-threshold of ``-(partial gradient) / (rho G_jj)`` with threshold
        ``lam / (rho G_jj)``, which is exactly 0 when the gradient is below ``lam`` (MM alone only
        tends to 0 there).  Kept when ``phi`` does not rise."""
        c = np.sqrt(np.einsum("ij,ij->j", x[:, :-1], x[:, :-1]))
        gdiag = np.diag(G)[:-1]
        cols = np.flatnonzero((c > 0) & (lam > rho * gdiag * c))
        if cols.size == 0:
            return x, fx
        z = x.copy()
        g = z @ G - C
        for j in cols:
            q = rho * G[j, j]
            if not q > 0:
                continue
            gj = rho * (g[:, j] - z[:, j] * G[j, j])
            ng = float(np.sqrt(gj @ gj))
            w = -gj / q * max(0.0, 1.0 - lam / ng) if ng > 0 else np.zeros_like(gj)
            g += np.outer(w - z[:, j], G[j, :])
            z[:, j] = w
        fz = self._phi(z, G, C, rho, lam)
        return (z, fz) if fz <= fx else (x, fx)

    def weight_block_mm(self, W, G, C, rho, Lw, lam):
        """``w_steps`` majorise-minimise steps on ``phi``, then one proximal-gradient step.

        MM step: ``||w_j|| <= ||w_j||^2 / (2 c_j) + c_j / 2`` with ``c_j = ||W_j||`` turns
        ``phi`` into the quadratic ``rho/2 tr(W G W^T) - rho <W, C> + sum_j lam/(2 c_j) ||w_j||^2``
        (+ const) on the columns with ``c_j > 0`` (zero columns held at 0), minimised exactly by
        one Cholesky solve of ``rho G_SS + diag(lam / c_S)`` (the bias column has no weight):
        ``phi`` does not increase, and the ill-conditioning of ``G`` costs nothing (the Gram
        system is solved, not iterated on).  The closing proximal-gradient step (step ``1/Lw``,
        group soft-threshold), kept only when ``phi`` does not rise, sets to exactly zero the
        columns whose gradient is below ``lam`` and lets a zero column become nonzero.
        """
        from scipy.linalg import cho_factor, cho_solve  # noqa: PLC0415 - scipy is loaded with sklearn

        x, fx = W, self._phi(W, G, C, rho, lam)
        for _ in range(self.w_steps):
            c = np.sqrt(np.einsum("ij,ij->j", x[:, :-1], x[:, :-1]))
            S = np.append(c > 1e-300, True)              # the bias column always
            if lam > 0:
                wgt = np.append(lam / np.where(c > 1e-300, c, 1.0), 0.0)[S]
            else:
                wgt = np.zeros(int(S.sum()))
            M = rho * G[np.ix_(S, S)] + np.diag(wgt)
            try:
                sol = cho_solve(cho_factor(M, lower=True, check_finite=False),
                                rho * C[:, S].T, check_finite=False)
            except np.linalg.LinAlgError:              # a singular G_SS (constant inputs): stop the MM
                break
            z = np.zeros_like(x)
            z[:, S] = sol.T
            fz = self._phi(z, G, C, rho, lam)
            if not fz <= fx:
                break
            x, fx = z, fz
        if lam > 0:
            x, fx = self._zero_groups(x, fx, G, C, rho, lam)
        S = x - (rho / Lw) * (x @ G - C)
        z = np.empty_like(S)
        z[:, :-1] = group_soft_threshold(S[:, :-1], lam / Lw)
        z[:, -1] = S[:, -1]
        return z if self._phi(z, G, C, rho, lam) <= fx else x

    def weight_block_mfista(self, W, G, C, rho, Lw, lam):
        """``w_steps`` monotone FISTA steps (Beck-Teboulle MFISTA) on the W block's group lasso
        ``phi(W) = rho/2 tr(W G W^T) - rho <W, C> + lam ||Wbar||_{2,1}`` in Gram form
        (``G = A A^T``, ``C = (U + Mubar/rho) A^T``: no product with ``n`` columns), step
        ``1/Lw``, ``Lw = rho ||G||_2`` [R].  The first step is a plain proximal-gradient step
        from ``W``, and a step is kept only when ``phi`` does not rise, so ``phi`` (hence
        ``L_rho``) never increases."""
        def prox_step(Z):
            S = Z - (rho / Lw) * (Z @ G - C)
            out = np.empty_like(S)
            out[:, :-1] = group_soft_threshold(S[:, :-1], lam / Lw)
            out[:, -1] = S[:, -1]
            return out

        def phi(Z):
            return (0.5 * rho * float(np.sum((Z @ G) * Z)) - rho * float(np.sum(Z * C))
                    + lam * float(np.sum(np.sqrt(np.einsum("ij,ij->j", Z[:, :-1], Z[:, :-1])))))

        x, y, t, fx = W, W, 1.0, phi(W)
        for _ in range(self.w_steps):
            z = prox_step(y)
            fz = phi(z)
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            x_new, f_new = (z, fz) if fz <= fx else (x, fx)
            y = x_new + (t / t_next) * (z - x_new) + ((t - 1.0) / t_next) * (x_new - x)
            x, fx, t = x_new, f_new, t_next
        return x

    def inner_solve(self, st, rho, eps):
        """Sweeps until ``dist(0, d L_rho) <= eps`` or ``inner_max_iter`` sweeps; returns the
        residual, ``W_l A_{l-1}`` at the last point, the sweeps and the restarts.

        With ``momentum`` each sweep starts from the extrapolated point
        ``x + (t_{j-1} - 1)/t_j (x - x_prev)`` (Nesterov weights) and is kept only when
        ``L_rho`` does not rise; otherwise the sweep is redone from ``x`` and the momentum
        restarts (function-value restart, O'Donoghue-Candes) [R].  Either way ``L_rho``
        never increases (tested).
        """
        res, WA = self.inner_residual(st, rho)
        if res <= eps:
            return res, WA, 0, 0
        L_x = self.augmented_lagrangian(st, rho, WA)
        prev = None
        t = 1.0
        it = restarts = 0
        blocks = ("W", "U", "V")
        while res > eps and it < self.inner_max_iter:
            x = {b: [a.copy() for a in getattr(st, b)] for b in blocks}
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            if self.momentum and prev is not None and t > 1.0:
                w = (t - 1.0) / t_next
                for b in blocks:
                    setattr(st, b, [xa + w * (xa - pa) for xa, pa in zip(x[b], prev[b])])
            WA = self.inner_sweep(st, rho)
            it += 1
            res, WA = self.inner_residual(st, rho, WA)
            L_new = self.augmented_lagrangian(st, rho, WA)
            if L_new > L_x and self.momentum and prev is not None and t > 1.0:
                restarts += 1
                for b in blocks:
                    setattr(st, b, [a.copy() for a in x[b]])
                WA = self.inner_sweep(st, rho)
                res, WA = self.inner_residual(st, rho, WA)
                L_new = self.augmented_lagrangian(st, rho, WA)
                t_next = 1.0
            prev, t, L_x = x, t_next, L_new
        return res, WA, it, restarts

    # ---------------------------------------------------------- one outer iteration
    def iterate(self, st, row, *, track=True, train=True):
        self.n_mm = 0
        rho, eps, N = st.rho, st.eps, len(st.W)
        res, WA, it, restarts = self.inner_solve(st, rho, eps)
        Lrho = self.augmented_lagrangian(st, rho, WA)
        h, g = self.constraints(st, WA)
        # multiplier estimates and the safeguard
        Mu = [m + rho * hj for m, hj in zip(st.Mu, h)]
        La = [np.maximum(0.0, L + rho * g1) for L, (g1, _) in zip(st.La, g)]
        Lb = [np.maximum(0.0, L + rho * g2) for L, (_, g2) in zip(st.Lb, g)]
        M = self.mult_max
        infeas = max([float(np.max(np.abs(hj))) for hj in h]
                     + [float(np.max(np.abs(np.minimum(-gg, L / rho)))) for (g1, g2), La_, Lb_ in
                        zip(g, st.La, st.Lb) for gg, L in ((g1, La_), (g2, Lb_))])
        loss, group, comp_pen = self.objective_parts(st)
        row["objective"] = loss + group + comp_pen
        row["loss"], row["group"], row["comp_pen"] = loss, group, comp_pen
        row["L_rho"], row["rho"], row["eps"] = Lrho, rho, eps
        row["inner_iter"], row["inner_res"], row["infeas"] = it, res, infeas
        row["inner_restarts"] = restarts
        viol_eq = np.array([np.linalg.norm(hj) for hj in h])
        viol_ineq = np.full(N, np.nan)
        comp = np.full(N, np.nan)
        comp_gap = np.full(N, np.nan)
        lift_gap = np.full(N, np.nan)
        nml = np.array([np.linalg.norm(m) for m in Mu], float) ** 2
        for j, (g1, g2) in enumerate(g):
            viol_ineq[j] = np.sqrt(np.sum(np.maximum(g1, 0) ** 2) + np.sum(np.maximum(g2, 0) ** 2))
            comp[j] = np.sqrt(np.sum(np.minimum(La[j], -g1) ** 2) + np.sum(np.minimum(Lb[j], -g2) ** 2))
            comp_gap[j] = self.comp_value(st.U[j], st.V[j])
            lift_gap[j] = np.linalg.norm(st.V[j] - self.act(st.U[j]))
            nml[j] += np.sum(La[j] ** 2) + np.sum(Lb[j] ** 2)
        row["viol_eq"], row["viol_ineq"], row["comp"] = viol_eq, viol_ineq, comp
        row["comp_gap"], row["lift_gap"] = comp_gap, lift_gap
        row["norm_mult_layer"] = np.sqrt(nml)
        row["norm_mult"] = float(np.sqrt(nml.sum()))
        row["sparsity"] = np.array([float(np.mean(~np.any(w[:, :-1] != 0, axis=0))) for w in st.W])
        row["normW"] = np.array([np.linalg.norm(w) for w in st.W])
        kviol = float(np.sqrt(np.sum(viol_eq ** 2) + np.nansum(viol_ineq ** 2)))
        kcomp = float(np.sqrt(np.nansum(comp ** 2)))
        row["kkt_viol"], row["kkt_comp"] = kviol, kcomp
        if track:
            stat = self.lagrangian_stationarity(st, Mu, La, Lb)
            row["kkt_stat"] = stat
            row["kkt_total"] = float(np.sqrt(stat ** 2 + kviol ** 2 + kcomp ** 2))
        if track or train:
            layers = self._forward_counted(st.W)
            net_gap = np.empty(N)
            for j, (z, hh) in enumerate(layers):
                lifted = st.V[j] if j < N - 1 else st.U[j]
                net_gap[j] = np.linalg.norm(lifted - hh) / max(np.linalg.norm(hh), np.finfo(float).tiny)
            row["net_gap"] = net_gap
            row["train_mse"] = float(np.mean((layers[-1][1] - self.Y) ** 2))
        # safeguard, penalty and tolerance updates (for the next outer iteration)
        clipped = sum(int(np.count_nonzero(np.abs(m) > M)) for m in Mu) + \
            sum(int(np.count_nonzero(L > M)) for L in La + Lb)
        st.Mu = [np.clip(m, -M, M) for m in Mu]
        st.La = [np.minimum(L, M) for L in La]
        st.Lb = [np.minimum(L, M) for L in Lb]
        row["clipped"] = clipped
        row["norm_mult_safe"] = float(np.sqrt(sum(np.sum(m * m) for m in st.Mu + st.La + st.Lb)))
        if st.k > 0 and infeas > self.progress * st.infeas_prev:
            st.rho = min(self.rho_factor * rho, self.rho_max)
        st.infeas_prev = infeas
        st.eps = max(self.eps_min, self.eps_decay * eps)
        row["n_matmul"] = self.n_mm
        st.k += 1

    def _forward_counted(self, W):
        """:func:`solver.core.network_layers` on the training data, its products counted."""
        out, H, N = [], self.X, len(W)
        for j in range(N):
            Z = self._mm(W[j][:, :-1], H) + W[j][:, -1:]
            H = self.act(Z) if j < N - 1 else Z
            out.append((Z, H))
        return out

    def lagrangian_stationarity(self, st, Mu, La, Lb):
        """``dist(0, d_x l(x, Mu, Lam))`` of the Lagrangian ``l = f + <Mu, h> + <Lam, g>`` with the
        multiplier estimates: ``-Mu_l A^T`` (+ group subdifferential) for W,
        ``Mu_l + La_l + alpha Lb_l + beta dc/dU`` for U (``U_N - Y + Mu_N`` at the output),
        ``-Wbar_{l+1}^T Mu_{l+1} - La_l - Lb_l + beta dc/dV`` for V.  Computed from ``f`` and the
        constraint Jacobians, not from ``L_rho``: it equals the inner residual only because
        the estimates are the unclipped first-order updates (tested)."""
        N = len(st.W)
        r2 = 0.0
        for l in range(1, N + 1):
            A = self._A(st.V, l)
            GW = -self._mm(Mu[l - 1], A.T)
            r2 += float(np.sum(GW[:, -1] ** 2)) + self._group_dist(GW[:, :-1], st.W[l - 1][:, :-1], self.lam[l - 1])
        for j in range(N):
            if j == N - 1:
                GU = st.U[j] - self.Y + Mu[j]
                r2 += float(np.sum(GU * GU))
                continue
            cU, cV = self.comp_grads(st.U[j], st.V[j])
            GU = Mu[j] + La[j] + self.alpha * Lb[j] + self.beta * cU
            GV = -self._mm(st.W[j + 1][:, :-1].T, Mu[j + 1]) - La[j] - Lb[j] + self.beta * cV
            r2 += float(np.sum(GU * GU)) + float(np.sum(GV * GV))
        return float(np.sqrt(r2))
