"""The lifted BCD trace: its schema (the quantities of docs/methods/lifted_bcd.md's claim).
"""

from __future__ import annotations

from ..trace import Field, Schema, register_schema

__all__ = ["LIFTED_BCD_SCHEMA"]

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
