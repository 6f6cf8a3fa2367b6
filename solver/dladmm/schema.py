"""The dlADMM trace: its schema (the quantities of docs/methods/dladmm.md's claim).
"""

from __future__ import annotations

from ..trace import Field, Schema, register_schema

__all__ = ["DLADMM_SCHEMA"]

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
