"""The sigmoid ADMM's trace: its schema and its standard plot.

The schema :data:`ADMM_SCHEMA` (docs/algorithm.md, "Tracked quantities")
-------------------------------------------------------------------------------------
lagrangian      (K,)   L_beta(W^k, V^k, Lam^k), paper eq. (6)
loss            (K,)   1/2 ||V_N^k - Y||_F^2
reg             (K,)   lambda/2 sum_i ||W_i^k||_F^2
dual            (K,)   sum_i <Lam_i^k, F_i(W^k, V^k)>
penalty         (K,)   sum_i beta_i/2 ||F_i(W^k, V^k)||_F^2
                       (lagrangian = loss + reg + dual + penalty)
dW2             (K, N) ||W_i^k - W_i^{k-1}||_F^2
dV2             (K, N) ||V_i^k - V_i^{k-1}||_F^2
dLam2           (K, N) ||Lam_i^k - Lam_i^{k-1}||_F^2 / beta_i
feas            (K, N) ||F_i(W^k, V^k)||_F
kkt             (K, 2N) Frobenius norms of the KKT residual blocks of paper eq. (24),
                       columns [W_1..W_N, V_1..V_N]
kkt_total       (K,)   sqrt(sum kkt^2 + sum feas^2): the full KKT residual
normW, normV, normLam (K, N) Frobenius norms of the iterates (boundedness)
curvature       (K, N) curvature c of the LLA step of each W_i (nan for exact steps)
curvature_V     (K, N) curvature c of the LLA step of each V_i (nan for exact steps)
train_mse       (K,)   mean((net(X; W^k) - Y)^2) of the forward pass with W^k
test_mse        (K,)   same on the test set (nan when no test data were given)
time            (K,)   wall-clock seconds since the start of fit
val_score       (K,)   early stopping: the score on the held-out rows (R^2, or accuracy for
                       a classifier; nan without ``early_stopping``)

The Lyapunov function of the proof (paper eq. 29) is computed by :meth:`solver.Trace.lyapunov`.
"""

from __future__ import annotations

import numpy as np

from ..trace import Field, Schema, register_schema

__all__ = ["ADMM_SCHEMA", "plot_trace"]


def plot_trace(trace, path=None, xi=0.0, fig=None):
    """The standard panels of an ADMM trace (matplotlib, Agg-safe); saves a PNG if ``path``.

    Panels: (a) augmented Lagrangian, and the Lyapunov function ``Lhat`` (paper eq. 29)
    when a non-zero ``xi`` is given; (b) KKT residual (``kkt_total`` and its running
    minimum) against k with a ``C/k`` reference line (Theorem 4(c)); (c) feasibility
    ``||F_i||`` per layer; (d) train (and test) mean squared error, and with early
    stopping the validation score (right axis) and its best iteration.  Returns the figure.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415 - import time; no pyplot: headless, never changes the backend

    trace.validate(need=("lagrangian", "feas", "train_mse"))
    n, k = len(trace), trace.k
    if fig is None:
        fig = Figure(figsize=(11, 7.5), layout="constrained")
    ax = fig.subplots(2, 2)
    a = ax[0, 0]
    lag = trace.lagrangian[:n]
    a.plot(k, lag, label=r"$L_\beta$")
    xi_arr = np.broadcast_to(np.asarray(xi, dtype=float), (trace.n_layers,))
    if np.any(xi_arr != 0):
        a.plot(k, trace.lyapunov(xi_arr), "--", label=r"$\hat L$ ($\xi$=" + f"{np.asarray(xi).tolist()})")
    a.set_yscale("symlog", linthresh=max(1e-12, float(np.nanmin(np.abs(lag))) or 1e-12))
    a.set_xlabel("iteration k")
    a.set_ylabel(r"$L_\beta$ (paper eq. 6)")
    a.set_title("augmented Lagrangian")
    a.legend()
    a = ax[0, 1]
    if trace.kkt_total is not None and np.any(np.isfinite(trace.kkt_total[:n])):
        kt = trace.kkt_total[:n]
        a.loglog(k, kt, lw=0.8, label="KKT residual")
        a.loglog(k, np.fmin.accumulate(kt), label="min over first k")
        a.loglog(k, kt[0] / k, "k:", label="1/k reference")
        a.legend()
    else:
        a.text(0.5, 0.5, "not tracked (track=False)", ha="center", transform=a.transAxes)
    a.set_xlabel("iteration k")
    a.set_ylabel("residual norm")
    a.set_title("KKT residual (paper eq. 24)")
    a = ax[1, 0]
    for i in range(trace.n_layers):
        a.semilogy(k, trace.feas[:n, i], label=f"layer {i + 1}")
    a.set_xlabel("iteration k")
    a.set_ylabel(r"$\|F_i\|_F$")
    a.set_title(r"feasibility $\|F_i\|$")
    a.legend(fontsize="small")
    a = ax[1, 1]
    a.semilogy(k, trace.train_mse[:n], label="train")
    if trace.test_mse is not None and np.any(np.isfinite(trace.test_mse[:n])):
        a.semilogy(k, trace.test_mse[:n], label="test")
    a.set_xlabel("iteration k")
    a.set_ylabel("MSE")
    a.set_title("mean squared error")
    a.legend(loc="upper left")
    val = trace.val_score
    if val is not None and np.any(np.isfinite(val[:n])):   # early stopping: its curve and choice
        b = a.twinx()
        b.plot(k, val[:n], color="tab:green", label="validation score")
        if "best_validation_iter" in trace.meta:
            b.axvline(trace.meta["best_validation_iter"], color="tab:green", ls=":", label="best (returned)")
        b.set_ylabel("validation score")
        b.legend(loc="upper right", fontsize="small")
    title = ", ".join(f"{key}={trace.meta[key]}" for key in ("activation", "hidden_layer_sizes",
                                                              "curvature") if key in trace.meta)
    fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


ADMM_SCHEMA = register_schema(Schema("admm", (
    Field("lagrangian", "run", "L_beta(W^k, V^k, Lam^k), paper eq. (6)", guard=True),
    Field("loss", "run", "1/2 ||V_N^k - Y||_F^2"),
    Field("reg", "run", "lambda/2 sum_i ||W_i^k||_F^2"),
    Field("dual", "run", "sum_i <Lam_i^k, F_i(W^k, V^k)>"),
    Field("penalty", "run", "sum_i beta_i/2 ||F_i(W^k, V^k)||_F^2"),
    Field("kkt_total", "run", "sqrt(sum kkt^2 + sum feas^2), the full KKT residual"),
    Field("dW2", "layer", "||W_i^k - W_i^{k-1}||_F^2"),
    Field("dV2", "layer", "||V_i^k - V_i^{k-1}||_F^2", guard=True),
    Field("dLam2", "layer", "||Lam_i^k - Lam_i^{k-1}||_F^2 / beta_i"),
    Field("feas", "layer", "||F_i(W^k, V^k)||_F", guard=True),
    Field("normW", "layer", "||W_i^k||_F", guard=True),
    Field("normV", "layer", "||V_i^k||_F", guard=True),
    Field("normLam", "layer", "||Lam_i^k||_F", guard=True),
    Field("curvature", "layer", "curvature c of the LLA step of W_i (nan for exact steps)"),
    Field("curvature_V", "layer", "curvature c of the LLA step of V_i (nan for exact steps)"),
    Field("kkt", "block", "KKT residual blocks of paper eq. (24), [W_1..W_N, V_1..V_N]"),
), plot=plot_trace))
