"""A second training method built on the solver core, for the tests: plain gradient descent
on the lifted variables.

It minimises the quadratic-penalty form of the lifted problem,
``f(W, V) = 1/2 ||V_N - Y||^2 + lam/2 sum_i ||W_i||^2 + rho/2 sum_i ||F_i(W, V)||^2``
(``F_i`` the constraint residuals of docs/algorithm.md#notation), by simultaneous gradient
steps of size ``lr`` on every block.  It is the smallest honest method, laid out as the
solver's own methods (``solver/admm/``, ``solver/dladmm/``, ...): a schema (``schema.py``),
an engine (``engine.py``), an estimator class that only lists its parameters
(``estimator.py``), and one registration (the last line of this file).  Everything else
(checkpoint/resume, Ctrl-C, progress bar, callback, keep_best, non-finite stop, sklearn
compatibility) comes from :func:`solver.core.solve` and :class:`solver.LiftedRegressor`.
"""

from solver.registry import Method, register_method

from .engine import GDState, LiftedGDEngine
from .estimator import LiftedGD
from .schema import GD_SCHEMA

__all__ = ["GD_SCHEMA", "GDState", "LiftedGD", "LiftedGDEngine"]

#: the one registration: ``solver.METHODS``, trace loading, ``sigadmm compare`` and
#: ``verify.claims_table`` know the method from it
register_method(Method("lifted_gd", __name__, ("LiftedGD",), "GD_SCHEMA", "LiftedGDEngine",
                       title="lifted GD (test method)"))
