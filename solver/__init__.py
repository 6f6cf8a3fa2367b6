"""Sigmoid-ADMM (paper Algorithm 1) with every quantity of the convergence proof tracked.

``solver`` imports activations from ``theory`` but no proof machinery.

* :class:`ADMM`: the scikit-learn style estimator (``fit``/``predict``/``score``);
* :class:`Trace`: the per-iteration record (the solver <-> verify contract);
* :mod:`solver.tasks`: the paper's toy problems;
* :mod:`solver.steps`: the plain numpy reference, one function per algorithm step;
* :mod:`solver.engine` / :mod:`solver.kernels`: the compiled iteration.
"""

from . import steps, tasks
from .admm import ADMM, ADMMResult, NonFiniteWarning
from .engine import ADMMState
from .init import INITS, init_weights
from .trace import Trace

__all__ = ["ADMM", "ADMMResult", "ADMMState", "NonFiniteWarning", "Trace", "tasks", "steps",
           "INITS", "init_weights"]
