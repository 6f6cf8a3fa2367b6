"""Lifted-ReLU block coordinate descent (Zhang and Brand, NeurIPS 2017, arXiv 1711.07354).

The ReLU is lifted into a nonnegative variable with a Tikhonov coupling
(docs/methods/lifted_bcd.md, "The problem"): with ``A_0 = X``, ``A_n = [U_n; 1]`` and
``N`` hidden layers,

    f(U, W) = 1/2 ||W_{N+1} [U_N; 1] - Y||^2
              + sum_{n=1}^N gamma_n/2 ||U_n - W_n [U_{n-1}; 1]||^2
              + sum_{n=1}^{N+1} lambda_n/2 ||W_n||^2,        U_n >= 0.

It is convex in ``U`` for fixed ``W`` (a nonnegative QP whose columns, one per sample, are
independent and share one Hessian) and convex in ``W`` for fixed ``U`` (one ridge problem
per layer).  One iteration ``t`` (docs/methods/lifted_bcd.md, "The iteration"):

1. ``U* = argmin_{U >= 0} f(U, W)``: :func:`u_step` (accelerated projected gradient with
   adaptive restart on all hidden layers at once, vectorised over samples, stopped on the
   natural residual ``||min(U, grad_U f)||``);
2. ``U <- (1 - theta_t) U + theta_t U*`` (:func:`relax`);
3. ``W* = argmin_W f(U, W)``: :func:`w_step` (closed form, one Cholesky per layer);
4. ``W <- (1 - theta_t) W + theta_t W*``.

``theta_t`` (:func:`theta_schedule`): ``1`` (plain BCD, the default), ``1/t^2`` (a summable
tail with ``theta_1 = 1``; it caps all movement after ``t = 1``: :func:`theta_tail_product`)
or ``q^(t-1)`` (geometric).

No public code of the method exists and our copy of the paper is only its abstract: every
choice below that the abstract does not fix is a **reconstruction**, marked as such here and
in docs/methods/lifted_bcd.md ("Reconstructed choices"): the squared loss (classification:
squared loss on one-hot targets), the bias row in every ``A_n`` and its inclusion in the
weight decay, the initial point ``U_n = relu(W_n A_{n-1})``, the order U-step then W-step,
the relaxation of both blocks with the same ``theta_t``, the inner solver and its tolerance.

Every matrix product of the iteration goes through one counter (``engine.n_matmul``), and
:func:`matmul_count` states how many an iteration performs (for the benchmarks).

The package (``solver.lifted_bcd``, one registration in :data:`solver.registry.BUILTIN`):

* :mod:`~solver.lifted_bcd.estimator`: :class:`LiftedBCD`;
* :mod:`~solver.lifted_bcd.engine`: :class:`LiftedBCDEngine` (one iteration) and its state;
* :mod:`~solver.lifted_bcd.steps`: the block steps (:func:`u_step`, :func:`w_step`, :func:`relax`),
  the objective's pieces and the product count;
* :mod:`~solver.lifted_bcd.schema`: the trace schema :data:`LIFTED_BCD_SCHEMA`.

Its public names load on first access (:mod:`solver._lazy`): importing one of its modules does
not import the others.
"""

from .._lazy import lazy_namespace

#: public name -> the module of this package that defines it
_EXPORTS = {
    "LiftedBCD": "estimator",
    "LIFTED_BCD_SCHEMA": "schema",
    "LiftedBCDEngine": "engine",
    "LiftedBCDState": "engine",
    "THETA_RULES": "steps",
    "theta_schedule": "steps",
    "theta_tail_product": "steps",
    "u_step": "steps",
    "w_step": "steps",
    "relax": "steps",
    "residuals": "steps",
    "objective_parts": "steps",
    "grad_U": "steps",
    "grad_W": "steps",
    "hessian_U": "steps",
    "lipschitz_U": "steps",
    "natural_residual": "steps",
    "projected_gradient": "steps",
    "relu_forward": "steps",
    "matmul_count": "steps",
    "UStepInfo": "steps",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
