"""dlADMM (Wang, Yu, Chen, Zhao, KDD 2019; journal version arXiv 2112.11619) as an instrumented solver.

The method and every choice below are documented in docs/methods/dladmm.md; this package is
our own numpy implementation, written after reading the authors' public PyTorch code
(repository ``xianggebenben/dlADMM``, ``MLP/pytorch_version``) to follow its iteration
order, update formulas and backtracking semantics.

Problem (features x samples; ``a_0 = X``; ``L`` layers, ``L - 1`` hidden)::

    min  R(z_L; Y) + nu/2 sum_{l<L} (||z_l - W_l a_{l-1} - b_l||^2 + ||a_l - f(z_l)||^2)
    s.t. z_L = W_L a_{L-1} + b_L                                    (multiplier u)

with the augmented Lagrangian ``L_rho = R(z_L) + nu/2 (...) + <u, r_L> + rho/2 ||r_L||^2``,
``r_L = z_L - W_L a_{L-1} - b_L``.  ``R`` is the squared loss ``1/2 ||z_L - Y||^2`` (our
regression tasks, H = 1) or the softmax cross-entropy summed over samples (the authors'
code, H = 1/2).  In the authors' code ``nu`` is ``rho`` (``nu=None`` here, the default).

One iteration (:meth:`DLADMMEngine.iterate`): a backward sweep ``l = L..1``: ``z_l, b_l,
W_l, a_{l-1}``; a forward sweep ``l = 1..L``: ``W_l, b_l, z_l, a_l``; then
``u += rho r_L``.  ``b_l`` is exact; ``W_l`` and ``a_l`` take one gradient step whose
constant starts at ``theta`` (``tau``) and doubles until the quadratic upper bound holds;
since the block objectives are quadratics the accepted constant has a closed form
(:func:`accepted_constant`), which replaces the authors' loop of objective evaluations
(:func:`backtracking_reference` keeps that loop as the reference).  Hidden ReLU ``z_l`` is
exact per entry; ``z_L`` is FISTA as in the authors' code (``zl_mode="authors"``), a
convergent accelerated method to a relative gradient tolerance (``zl_mode="exact"``), or
closed form for the squared loss.  The adaptive rule: when the network's train cost rose
three times in a row, ``rho <- min(10 rho, rho_max)`` and, if every hidden layer is at least
``adapt_width`` wide, ``tau, theta <- 10 tau, 10 theta``.

The package (``solver.dladmm``, one registration in :data:`solver.registry.BUILTIN`):

* :mod:`~solver.dladmm.estimator`: :class:`DLADMM`, :class:`DLADMMClassifier`;
* :mod:`~solver.dladmm.engine`: :class:`DLADMMEngine` (one iteration), its state and cost model;
* :mod:`~solver.dladmm.steps`: the losses and the step formulas (closed-form constants, z steps);
* :mod:`~solver.dladmm.kernels`: the compiled elementwise kernels (numba) and their numpy twins;
* :mod:`~solver.dladmm.schema`: the trace schema :data:`DLADMM_SCHEMA`.

Its public names load on first access (:mod:`solver._lazy`): importing one of its modules does
not import the others.
"""

from .._lazy import lazy_namespace

#: public name -> the module of this package that defines it
_EXPORTS = {
    "DLADMM": "estimator",
    "DLADMMClassifier": "estimator",
    "DLADMM_SCHEMA": "schema",
    "DLADMMEngine": "engine",
    "DLADMMState": "engine",
    "gemm_shapes": "engine",
    "gemms_per_iter": "engine",
    "DLADMM_GEMMS_PER_ITER": "engine",
    "softmax": "steps",
    "cross_entropy": "steps",
    "relu_z_step": "steps",
    "zl_fista_authors": "steps",
    "accepted_constant": "steps",
    "backtracking_reference": "steps",
    "LOSS_H": "steps",
    "smooth_z_step": "steps",
    "zl_exact": "steps",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
