"""The inexact ALM trace: its schema (the quantities of docs/methods/inexact_alm.md's claim).
"""

from __future__ import annotations

from ..trace import Field, Schema, register_schema

__all__ = ["INEXACT_ALM_SCHEMA"]

# ------------------------------------------------------------------ schema
INEXACT_ALM_SCHEMA = register_schema(Schema("inexact_alm", (
    Field("objective", "run", "f(x^k) = loss + group + comp_pen, the model's objective", guard=True),
    Field("loss", "run", "1/2 ||U_N^k - Y||_F^2"),
    Field("group", "run", "sum_l lam_l ||Wbar_l^k||_{2,1} (column groups, bias excluded)"),
    Field("comp_pen", "run", "beta sum_{l<N} c(U_l^k, V_l^k), the complementarity penalty"),
    Field("L_rho", "run", "L_rho(x^k; Mubar^{k-1}, Lambar^{k-1}) at the end of the inner solve", guard=True),
    Field("rho", "run", "rho_k, the penalty of this outer iteration's subproblem"),
    Field("eps", "run", "eps_k, the inner tolerance on dist(0, d L_rho)"),
    Field("inner_iter", "run", "inner block proximal-gradient sweeps done"),
    Field("inner_restarts", "run", "momentum restarts in the inner solve (each one redoes a sweep)"),
    Field("inner_res", "run", "dist(0, d_x L_rho(x^k)) at the end of the inner solve"),
    Field("infeas", "run", "max(||h||_inf, ||min(-g, Lambar^{k-1}/rho_k)||_inf): the rho-update measure"),
    Field("norm_mult", "run", "||(Mu^k, Lam^k)||_F of the multiplier estimates (unclipped)"),
    Field("norm_mult_safe", "run", "||(Mubar^k, Lambar^k)||_F of the safeguarded multipliers"),
    Field("clipped", "run", "number of multiplier entries the safeguard clipped"),
    Field("kkt_stat", "run", "dist(0, d_x l(x^k, Mu^k, Lam^k)), Lagrangian stationarity"),
    Field("kkt_viol", "run", "sqrt(||h||^2 + ||max(0, g)||^2), constraint violation"),
    Field("kkt_comp", "run", "||min(Lam^k, -g)||_F, complementarity of the multipliers"),
    Field("kkt_total", "run", "sqrt(kkt_stat^2 + kkt_viol^2 + kkt_comp^2), the KKT residual"),
    Field("n_matmul", "run", "matrix products with n columns done in this outer iteration"),
    Field("viol_eq", "layer", "||U_l - W_l A_{l-1}||_F"),
    Field("viol_ineq", "layer", "||max(0, g1_l)||^2 + ||max(0, g2_l)||^2, square-rooted (nan at the output)"),
    Field("comp", "layer", "||min(Lam_l, -g_l)||_F over both inequalities (nan at the output)"),
    Field("comp_gap", "layer", "c(U_l, V_l), the model's complementarity (nan at the output)"),
    Field("lift_gap", "layer", "||V_l - sigma(U_l)||_F (nan at the output)"),
    Field("net_gap", "layer", "||V_l - H_l(W)||_F / ||H_l(W)||_F, H the real forward pass (U_N at the output)"),
    Field("sparsity", "layer", "fraction of zero columns of Wbar_l"),
    Field("normW", "layer", "||W_l||_F", guard=True),
    Field("norm_mult_layer", "layer", "||(Mu_l, Lam1_l, Lam2_l)||_F of the estimates"),
)))
