"""The paper's sigmoid ADMM (Algorithm 1; docs/algorithm.md): everything of the method in one place.

The package (``solver.admm``, one registration in :data:`solver.registry.BUILTIN`):

* :mod:`~solver.admm.estimator`: :class:`ADMM`, the scikit-learn regressor;
* :mod:`~solver.admm.defaults`: its defaults, read by the command line before any import;
* :mod:`~solver.admm.problem`: :class:`ADMMProblem` (data, constants, initial point of eq. (7),
  stopping criterion) and :class:`ADMMState`, shared by the two engines;
* :mod:`~solver.admm.steps`: the plain numpy steps, one function per step of Algorithm 1, run by
  :class:`ReferenceEngine` (:mod:`~solver.admm.reference`);
* :mod:`~solver.admm.engine`: :class:`FastEngine`, the compiled iteration, with the fused
  elementwise kernels of :mod:`~solver.admm.kernels` (numba, ``cache=True``);
* :mod:`~solver.admm.extprec`: Algorithm 1 in extended precision (python-flint ``arb``);
* :mod:`~solver.admm.schema`: the trace schema :data:`ADMM_SCHEMA` and the standard plot
  (:meth:`solver.Trace.plot`).

Its public names load on first access (:mod:`solver._lazy`): importing one of its modules does
not import the others.
"""

from .._lazy import lazy_namespace

#: public name -> the module of this package that defines it
_EXPORTS = {
    "ADMM": "estimator",
    "ADMMResult": "estimator",
    "ENGINES": "estimator",
    "NonFiniteWarning": "estimator",
    "ADMM_SCHEMA": "schema",
    "plot_trace": "schema",
    "FastEngine": "engine",
    "ReferenceEngine": "reference",
    "ADMMState": "problem",
    "ADMMProblem": "problem",
    "ADMM_DEFAULTS": "defaults",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS)
