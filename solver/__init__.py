"""Training methods for deep nets on lifted variables, each with its proof's quantities traced.

``solver`` imports activations from ``theory`` and nothing of its proof machinery.

* :class:`ADMM`: the paper's sigmoid-ADMM (Algorithm 1), a scikit-learn regressor;
* the related methods, each with its own claim's quantities traced (docs/peers.md):
  :class:`DLADMM` / :class:`DLADMMClassifier` (dlADMM, :mod:`solver.dladmm`),
  :class:`LiftedBCD` (lifted-ReLU block coordinate descent, :mod:`solver.lifted_bcd`),
  :class:`InexactALM` (inexact augmented Lagrangian, sparse leaky-ReLU nets,
  :mod:`solver.inexact_alm`);
* :func:`solve` (:mod:`solver.core`): the one run loop every method's estimator calls;
  :class:`Engine`/:class:`State` its interface, :class:`SolverResult` its result;
* :class:`LiftedRegressor` (:mod:`solver.base`): the estimator base a method subclasses;
* :class:`Trace`, :class:`Schema`: the per-iteration record (the solver <-> verify contract);
* :data:`METHODS` (:mod:`solver.registry`): the methods, one registration each (name ->
  estimator, trace schema, engine), from which the exports below, trace loading and the
  CLI's method choices are derived; :class:`ParameterError`: a bad estimator parameter;
* :mod:`solver.tasks`: the paper's toy problems.

Each method lives in its own package, built the same way (estimator, engine, steps, kernels,
schema): :mod:`solver.admm` (with the plain numpy steps :mod:`solver.admm.steps`, the
compiled iteration :mod:`solver.admm.engine` / :mod:`solver.admm.kernels` and the
extended-precision run :mod:`solver.admm.extprec`), :mod:`solver.dladmm`,
:mod:`solver.lifted_bcd`, :mod:`solver.inexact_alm`.  The shared core: the run loop
(:mod:`solver.core`), the estimator base (:mod:`solver.base`), the trace record
(:mod:`solver.trace`), checked ``.npz`` files (:mod:`solver.npz`), checkpoints
(:mod:`solver.checkpoint`), the registry, parameter declarations (:mod:`solver.params`),
initialisation (:mod:`solver.init`), the problem instance's digest (:mod:`solver.instance`)
and the activations' kernels (:mod:`solver.activation_kernels` compiled,
:mod:`solver.elementwise` numpy).
"""

from . import registry
from ._lazy import lazy_namespace
from .registry import METHODS, register_method

#: public name -> the submodule that defines it; loaded on first access (PEP 562), so that
#: ``import solver`` stays cheap and the estimators' scikit-learn import is paid by the
#: first use of an estimator, not by every ``import solver.tasks`` or ``solver.trace``.
#: The methods' names come from their registration (:mod:`solver.registry`).
_EXPORTS = {
    "LiftedRegressor": "base",
    "Engine": "core", "NonFiniteWarning": "core", "SolverResult": "core", "State": "core",
    "Status": "core", "network_forward": "core", "network_layers": "core", "solve": "core",
    "interrupts_raise": "core",
    "INITS": "init", "init_weights": "init",
    "Field": "trace", "Row": "trace", "Schema": "trace", "Trace": "trace",
    "register_schema": "trace",
    "ParameterError": "params",
}
for _m in registry.BUILTIN:
    _EXPORTS.update(dict.fromkeys(_m.exports, _m.module.rpartition(".")[2]))
del _m
_SUBMODULES = ("tasks",)

__all__ = sorted(_EXPORTS) + ["METHODS", "register_method"] + list(_SUBMODULES)


__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS, _SUBMODULES)
