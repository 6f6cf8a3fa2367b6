"""Training methods for deep nets on lifted variables, each with its proof's quantities traced.

``solver`` imports activations from ``theory`` and nothing of its proof machinery.

* :class:`ADMM`: the paper's sigmoid-ADMM (Algorithm 1), a scikit-learn regressor;
* :func:`solve` (:mod:`solver.core`): the one run loop every method's estimator calls;
  :class:`Engine`/:class:`State` its interface, :class:`SolverResult` its result;
* :class:`LiftedRegressor` (:mod:`solver.base`): the estimator base a method subclasses;
* :class:`Trace`, :class:`Schema`: the per-iteration record (the solver <-> verify contract);
* :mod:`solver.tasks`: the paper's toy problems;
* :mod:`solver.steps`: the plain numpy reference, one function per algorithm step, run by
  :class:`solver.reference.ReferenceEngine`; :mod:`solver.engine` / :mod:`solver.kernels`:
  the compiled iteration.
"""

from . import steps, tasks
from .admm import ADMM, ADMMResult, ENGINES
from .base import LiftedRegressor
from .core import Engine, NonFiniteWarning, SolverResult, State, Status, network_forward, network_layers, solve
from .init import INITS, init_weights
from .problem import ADMMState
from .trace import ADMM_SCHEMA, Field, Row, Schema, Trace, register_schema

__all__ = ["ADMM", "ADMMResult", "ADMMState", "ENGINES", "Engine", "State", "Status", "SolverResult",
           "NonFiniteWarning", "LiftedRegressor", "solve", "network_forward", "network_layers", "Trace", "Schema",
           "Field", "Row", "ADMM_SCHEMA", "register_schema", "tasks", "steps", "INITS", "init_weights"]
