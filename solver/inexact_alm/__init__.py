"""Inexact augmented Lagrangian method for sparse leaky-ReLU nets (docs/methods/inexact_alm.md).

The method of Liu, Liu and Chen, "An inexact augmented Lagrangian algorithm for training
leaky ReLU neural network with group sparsity", JMLR 24(212), 2023 (arXiv 2205.05428).
No public code exists and our copy of the paper is its abstract only, so the model and the
algorithm below are a **reconstruction**; every reconstructed choice is marked "[R]" here
and in docs/methods/inexact_alm.md#reconstructed-choices.

Model (docs/methods/inexact_alm.md#model), features x samples, ``A_{l-1} = [V_{l-1}; 1]``,
``V_0 = X``, ``W_l = [Wbar_l, b_l]``, ``l = 1..N`` (``N - 1`` hidden layers, linear output)::

    min  f = 1/2 ||U_N - Y||^2 + sum_l lam_l ||Wbar_l||_{2,1} + beta sum_{l<N} c(U_l, V_l)
    s.t. h_l  = U_l - W_l A_{l-1} = 0                (l = 1..N)        [R: U_l lifted]
         g1_l = U_l - V_l <= 0,  g2_l = alpha U_l - V_l <= 0  (l < N)

``c(U, V) = sum(V - sigma(U))`` (``complementarity="l1"``, the default) or
``<V - U, V - alpha U>`` (``"product"``; its ``L_rho`` is unbounded below, see
:class:`InexactALM`); on the feasible set both are ``>= 0`` and vanish exactly
when ``V = sigma(U) = max(U, alpha U)``, the leaky ReLU.  The group norm is over the columns
of ``Wbar_l`` (one group per input unit; the bias is not penalised).

Algorithm (safeguarded inexact ALM, Birgin-Martinez form [R]): the outer iteration ``k``
minimises the PHR augmented Lagrangian ``L_rho(x; Mubar, Lambar)`` (:func:`augmented_lagrangian`)
by block proximal-gradient sweeps (:func:`inner_sweep`) until ``dist(0, d L_rho) <= eps_k``
(:func:`inner_residual`), then ``Mu = Mubar + rho h``, ``Lam = max(0, Lambar + rho g)`` (the
multiplier estimates, with which the KKT residual is measured), ``Mubar = clip(Mu, -M, M)``,
``Lambar = clip(Lam, 0, M)`` (the safeguard), ``rho <- gamma rho`` when the infeasibility
measure ``max(||h||_inf, ||min(-g, Lambar/rho)||_inf)`` did not fall below ``tau`` times its
previous value, and ``eps <- max(eps_min, eps_decay eps)``.

The package (``solver.inexact_alm``, one registration in :data:`solver.registry.BUILTIN`):

* :mod:`~solver.inexact_alm.estimator`: :class:`InexactALM`;
* :mod:`~solver.inexact_alm.engine`: :class:`InexactALMEngine` (one outer iteration), its state and
  product counts;
* :mod:`~solver.inexact_alm.steps`: the exact block maps (group soft threshold, piecewise minimisers);
* :mod:`~solver.inexact_alm.kernels`: the compiled elementwise kernels (numba) and their numpy twins;
* :mod:`~solver.inexact_alm.schema`: the trace schema :data:`INEXACT_ALM_SCHEMA`.

Its public names load on first access (:mod:`solver._lazy`): importing one of its modules does
not import the others.
"""

from .._lazy import lazy_namespace

#: public name -> the module of this package that defines it
_EXPORTS = {
    "InexactALM": "estimator",
    "INEXACT_ALM_SCHEMA": "schema",
    "InexactALMEngine": "engine",
    "InexactALMState": "engine",
    "matmuls_per_iteration": "engine",
    "matmuls_per_sweep": "engine",
    "COMPLEMENTARITY": "engine",
    "group_soft_threshold": "steps",
    "scalar_piecewise_min": "steps",
    "joint_piecewise_min": "steps",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
