"""The test method's trace: one field per quantity its run reports."""

from solver import Field, Schema

GD_SCHEMA = Schema("lifted_gd", (
    Field("objective", "run", "f(W^k, V^k), the penalised lifted objective", guard=True),
    Field("grad_norm", "run", "||grad f(W^{k-1}, V^{k-1})||, the step's gradient norm"),
    Field("feas", "layer", "||F_i(W^k, V^k)||_F", guard=True),
))
