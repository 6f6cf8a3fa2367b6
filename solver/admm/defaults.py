"""The sigmoid ADMM's defaults, in the one place both its signature and the command line read.

``sigadmm train`` and ``sigadmm verify`` show these defaults in ``--help`` before any
estimator is imported (this module imports nothing); :class:`solver.ADMM`'s signature uses
them.  ``lam = 1e-6`` and ``beta = 1`` are the paper's settings (docs/experiments.md).
"""

__all__ = ["ADMM_DEFAULTS"]

#: parameter -> default of :class:`solver.ADMM` (the others are in its signature only)
ADMM_DEFAULTS = {"lam": 1e-6, "beta": 1.0, "curvature": "theory", "curvature_factor": 2.0, "init": "msra"}
