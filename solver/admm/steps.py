"""Plain numpy reference implementation of one sigmoid-ADMM iteration (paper Algorithm 1;
docs/algorithm.md#update-order-of-algorithm-1).

One function per step of the paper's Algorithm 1, written as a direct transcription of
the closed forms of docs/algorithm.md (features x samples, biases absorbed: ``W_i`` is
``d_i x (d_{i-1}+1)`` and acts on ``A = [V_{i-1}; 1]``).  Nothing here is optimised: the
compiled engine (:mod:`solver.admm.engine`, :mod:`solver.admm.kernels`) is tested against
:func:`admm_iteration` to 1e-10 relative.

Indexing: python lists ``W[j], V[j], Lam[j]`` hold layer ``i = j + 1`` (so ``V[-1]`` is
``V_N``); ``X`` is ``V_0``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..core import network_forward, network_layers

__all__ = [
    "augment",
    "CURVATURE_RULES",
    "curvature_constants",
    "curvature_from_bmax",
    "lla_curvature",
    "output_weight_step",
    "lla_weight_step",
    "lla_activation_step",
    "last_hidden_activation_step",
    "output_activation_step",
    "constraint_residuals",
    "multiplier_step",
    "augmented_lagrangian",
    "kkt_residuals",
    "forward",
    "admm_iteration",
    "initial_point",
]


def augment(V):
    """``[V; 1]``: append the row of ones that carries the bias (docs/algorithm.md#notation)."""
    return np.vstack([V, np.ones((1, V.shape[1]))])


def _spd_solve_right(R, M):
    """``R M^{-1}`` for symmetric positive definite ``M`` (one Cholesky factorisation)."""
    cf = sla.cho_factor(M, lower=True)
    return sla.cho_solve(cf, R.T).T


#: the two curvature rules of the LLA steps (docs/algorithm.md, "Curvature of the LLA steps")
CURVATURE_RULES = ("theory", "reference")


def curvature_constants(act):
    """``(L_0, L_1, L_2)`` of the activation (float upper bounds of ``sup |sigma^(k)|``,
    Assumption 1); the ``"theory"`` curvature rule needs them finite."""
    L0, L1, L2 = act.L(0), act.L(1), act.L(2)
    if not all(np.isfinite([L0, L1, L2])):
        raise ValueError(f"activation: curvature='theory' needs finite L_0, L_1, L_2 "
                         f"(Assumption 1), got {L0}, {L1}, {L2} for {act.name!r}")
    return L0, L1, L2


def curvature_from_bmax(bmax, constants, rule="theory", factor=2.0):
    """Curvature ``c`` of an LLA step from ``||B||_max`` (the one formula of both engines).

    ``rule="theory"``: ``factor * (L_1^2 + L_2 (L_0 + ||B||_max))`` with
    ``constants = (L_0, L_1, L_2)``: a majoriser of the entrywise Hessian
    ``sigma'^2 + (sigma - b) sigma''`` for ``factor >= 1`` (paper eq. 18 takes twice it).
    ``rule="reference"``: the authors' demo heuristic ``||B||_max / 2`` (no guarantee).
    Any number type with ``+``, ``*``, ``**`` and ``/`` serves (float64 here, ``mpmath.mpf``
    in :mod:`verify.highprec`, ``flint.arb`` in :mod:`solver.admm.extprec`); ``bmax / 2``, not
    ``0.5 * bmax``: equal in float64 and mpf, and the tighter ball radius in arb.
    """
    if rule == "theory":
        L0, L1, L2 = constants
        return factor * (L1 ** 2 + L2 * (L0 + bmax))
    if rule == "reference":
        return bmax / 2
    raise ValueError(f"curvature: expected one of {CURVATURE_RULES}, got {rule!r}")


def lla_curvature(B, act, rule="theory", factor=2.0):
    """Curvature ``c`` of an LLA step for the matrix ``B`` (:func:`curvature_from_bmax`)."""
    bmax = float(np.max(np.abs(B))) if B.size else 0.0
    return curvature_from_bmax(bmax, curvature_constants(act) if rule == "theory" else None, rule, factor)


def output_weight_step(V_prev, V_N, Lam_N, beta_N, lam):
    """Step 1: exact ``W_N = (beta_N V_N - Lam_N) A^T (lambda I + beta_N A A^T)^{-1}``, ``A = [V_{N-1}; 1]``."""
    A = augment(V_prev)
    M = lam * np.eye(A.shape[0]) + beta_N * (A @ A.T)
    return _spd_solve_right((beta_N * V_N - Lam_N) @ A.T, M)


def lla_weight_step(W_old, V_prev, V_i, Lam_i, beta_i, lam, act, rule="theory", factor=2.0):
    """Step 2: prox-linear (LLA) update of a hidden ``W_i``.

    ``A = [V_{i-1}; 1]``, ``B = V_i - Lam_i / beta_i``, ``U0 = W_i^{k-1} A``,
    ``G = (sigma(U0) - B) * sigma'(U0)``;
    ``W = beta_i (c U0 - G) A^T (lambda I + beta_i c A A^T)^{-1}``.

    Returns ``(W, c)``.
    """
    A = augment(V_prev)
    B = V_i - Lam_i / beta_i
    U0 = W_old @ A
    G = (act(U0) - B) * act.d1(U0)
    c = lla_curvature(B, act, rule, factor)
    M = lam * np.eye(A.shape[0]) + beta_i * c * (A @ A.T)
    return _spd_solve_right(beta_i * (c * U0 - G) @ A.T, M), c


def lla_activation_step(V_old, V_prev_new, W_i, W_next, V_next_old, Lam_i, Lam_next,
                        beta_i, beta_next, act, rule="theory", factor=2.0):
    """Step 3: LLA update of a hidden ``V_i`` (i <= N-2) around ``V_i^{k-1}``.

    ``C = sigma(W_i^k [V_{i-1}^k; 1]) + Lam_i / beta_i``, ``B' = V_{i+1}^{k-1} - Lam_{i+1}/beta_{i+1}``,
    ``U0 = W_{i+1}^k [V_i^{k-1}; 1]``, ``G = (sigma(U0) - B') * sigma'(U0)``;
    ``V = (beta_i I + beta_{i+1} c Wbar^T Wbar)^{-1} (beta_i C + beta_{i+1} Wbar^T (c Wbar V_i^{k-1} - G))``.

    Returns ``(V, c)``.
    """
    C = act(W_i @ augment(V_prev_new)) + Lam_i / beta_i
    Bp = V_next_old - Lam_next / beta_next
    U0 = W_next @ augment(V_old)
    G = (act(U0) - Bp) * act.d1(U0)
    c = lla_curvature(Bp, act, rule, factor)
    Wbar = W_next[:, :-1]
    M = beta_i * np.eye(Wbar.shape[1]) + beta_next * c * (Wbar.T @ Wbar)
    rhs = beta_i * C + beta_next * Wbar.T @ (c * Wbar @ V_old - G)
    return sla.cho_solve(sla.cho_factor(M, lower=True), rhs), c


def last_hidden_activation_step(V_prev_new, W_i, W_N, V_N_old, Lam_i, Lam_N, beta_i, beta_N, act):
    """Step 4: exact ``V_{N-1}`` (its next constraint is linear).

    ``V = (beta_{N-1} I + beta_N Wbar_N^T Wbar_N)^{-1} (Lam_{N-1} + beta_{N-1} sigma(W_{N-1}^k [V_{N-2}^k; 1])
    - Wbar_N^T (Lam_N - beta_N (V_N^{k-1} - b_N)))``.
    """
    Wbar, b = W_N[:, :-1], W_N[:, -1:]
    M = beta_i * np.eye(Wbar.shape[1]) + beta_N * (Wbar.T @ Wbar)
    rhs = Lam_i + beta_i * act(W_i @ augment(V_prev_new)) - Wbar.T @ (Lam_N - beta_N * (V_N_old - b))
    return sla.cho_solve(sla.cho_factor(M, lower=True), rhs)


def output_activation_step(V_prev_new, W_N, Y, Lam_N, beta_N):
    """Step 5: ``V_N = (Y + Lam_N + beta_N W_N^k [V_{N-1}^k; 1]) / (1 + beta_N)``."""
    return (Y + Lam_N + beta_N * (W_N @ augment(V_prev_new))) / (1.0 + beta_N)


def constraint_residuals(W, V, X, act):
    """``F_i = sigma(W_i [V_{i-1}; 1]) - V_i`` (i < N), ``F_N = W_N [V_{N-1}; 1] - V_N``."""
    N = len(W)
    F = []
    prev = X
    for j in range(N):
        Z = W[j] @ augment(prev)
        F.append((act(Z) if j < N - 1 else Z) - V[j])
        prev = V[j]
    return F


def multiplier_step(Lam, F, beta):
    """Step 6: ``Lam_i <- Lam_i + beta_i F_i(W^k, V^k)`` for every layer (in parallel)."""
    return [L + b * f for L, f, b in zip(Lam, F, beta)]


def augmented_lagrangian(W, V, Lam, X, Y, lam, beta, act):
    """``L_beta`` (paper eq. 6) and its parts: dict with loss, reg, dual, penalty, lagrangian."""
    F = constraint_residuals(W, V, X, act)
    loss = 0.5 * float(np.sum((V[-1] - Y) ** 2))
    reg = 0.5 * lam * sum(float(np.sum(w * w)) for w in W)
    dual = sum(float(np.sum(L * f)) for L, f in zip(Lam, F))
    pen = sum(0.5 * b * float(np.sum(f * f)) for f, b in zip(F, beta))
    return {"loss": loss, "reg": reg, "dual": dual, "penalty": pen,
            "lagrangian": loss + reg + dual + pen}


def kkt_residuals(W, V, Lam, X, Y, lam, act):
    """Blocks of the KKT residual of paper eq. (24), ordered ``[W_1..W_N, V_1..V_N]``.

    ``lambda W_N + Lam_N A_{N-1}^T``; ``lambda W_i + (Lam_i * sigma'(W_i A_{i-1})) A_{i-1}^T``;
    ``-Lam_i + Wbar_{i+1}^T (Lam_{i+1} * sigma'(W_{i+1} A_i))`` (i <= N-2);
    ``-Lam_{N-1} + Wbar_N^T Lam_N``; ``V_N - Y - Lam_N``.
    """
    N = len(W)
    A = [augment(X)] + [augment(v) for v in V[:-1]]
    P = []  # Lam_i * sigma'(W_i A_{i-1}) for hidden i; Lam_N for the output
    for j in range(N):
        P.append(Lam[j] * act.d1(W[j] @ A[j]) if j < N - 1 else Lam[j])
    rW = [lam * W[j] + P[j] @ A[j].T for j in range(N)]
    rV = [-Lam[j] + W[j + 1][:, :-1].T @ P[j + 1] for j in range(N - 1)]
    rV.append(V[-1] - Y - Lam[-1])
    return rW + rV


def forward(W, X, act):
    """Network output ``W_N [sigma(... sigma(W_1 [X; 1]) ...); 1]`` (features x samples):
    the solver's one forward pass, :func:`solver.core.network_forward`."""
    return network_forward(W, X, act)


def initial_point(W, X, act):
    """Paper eq. (7): forward pass for ``V^0`` (:func:`solver.core.network_layers`), zero multipliers."""
    V = [H for _, H in network_layers(W, X, act)]
    return V, [np.zeros_like(v) for v in V]


def admm_iteration(W, V, Lam, X, Y, lam, beta, act, rule="theory", factor=2.0):
    """One full iteration of Algorithm 1 in the paper's backward-forward order.

    Returns ``(W, V, Lam, curv_W, curv_V)`` with the curvatures used by the LLA steps
    (``nan`` for blocks updated exactly).  Inputs are not modified.
    """
    N = len(W)
    W, V, Lam = list(W), list(V), list(Lam)
    Vold = list(V)
    cW = np.full(N, np.nan)
    cV = np.full(N, np.nan)
    Vin = [X] + Vold[:-1]  # V_{i-1}^{k-1}
    # 1. output weights, exact
    W[N - 1] = output_weight_step(Vin[N - 1], Vold[N - 1], Lam[N - 1], beta[N - 1], lam)
    # 2. hidden weights, LLA, i = N-1 .. 1
    for j in range(N - 2, -1, -1):
        W[j], cW[j] = lla_weight_step(W[j], Vin[j], Vold[j], Lam[j], beta[j], lam, act, rule, factor)
    # 3. hidden activations V_1..V_{N-2}, LLA, forward
    for j in range(0, N - 2):
        prev = X if j == 0 else V[j - 1]
        V[j], cV[j] = lla_activation_step(Vold[j], prev, W[j], W[j + 1], Vold[j + 1], Lam[j],
                                          Lam[j + 1], beta[j], beta[j + 1], act, rule, factor)
    # 4. last hidden activation, exact
    prev = X if N == 2 else V[N - 3]
    V[N - 2] = last_hidden_activation_step(prev, W[N - 2], W[N - 1], Vold[N - 1], Lam[N - 2],
                                           Lam[N - 1], beta[N - 2], beta[N - 1], act)
    # 5. output
    V[N - 1] = output_activation_step(V[N - 2], W[N - 1], Y, Lam[N - 1], beta[N - 1])
    # 6. multipliers
    Lam = multiplier_step(Lam, constraint_residuals(W, V, X, act), beta)
    return W, V, Lam, cW, cV

