"""Checks of the paper's convergence claims on recorded runs; what users import in their tests.

``verify`` reads :class:`solver.Trace` records and drives the solver:

* :mod:`verify.checks`: one function per claim of Theorem 4 / 7 (Lemmas 14, 18, 19, 21,
  Theorem 4(b), 4(c)), each returning a :class:`CheckResult` with a :class:`Verdict`
  (PASS, FAIL, INCONCLUSIVE); :func:`assert_converges` for users' pytest suites (also a
  pytest fixture, :mod:`verify.pytest_plugin`); :func:`descent_diagnostic` (never PASS);
* :mod:`verify.doctored`: a catalogue of doctored traces that no check may pass, and good
  synthetic and real runs that must;
* :mod:`verify.conditions`: parameter schedules with the theorem's structure and
  explicit sufficient constants derived from the proof (derived vs empirical marked);
* :mod:`verify.strategies`: hypothesis strategies (activations, problems, settings);
* :mod:`verify.dladmm`, :mod:`verify.lifted_bcd`, :mod:`verify.inexact_alm`: the claims of
  the related methods (docs/peers.md), each module with its checks table and doctored
  traces (kept as modules: their check names repeat the generic ones);
* :func:`phase_diagram`: where descent and the O(1/k) rate are observed in the
  (lambda, beta) plane, beside where the derived conditions guarantee them.
"""

from .checks import (CHECKS, CheckResult, ConvergenceError, assert_converges, bounded_iterates,
                     descent_diagnostic, resolve_constants,
                     dual_bounded_by_primal, feasibility_to_zero, format_table, kkt_rate,
                     rate_certificate, relative_error, run_checks, sufficient_descent, Verdict)

__all__ = [
    "CHECKS",
    "CheckResult",
    "ConvergenceError",
    "assert_converges",
    "bounded_iterates",
    "descent_diagnostic",
    "resolve_constants",
    "dual_bounded_by_primal",
    "feasibility_to_zero",
    "format_table",
    "kkt_rate",
    "rate_certificate",
    "relative_error",
    "run_checks",
    "sufficient_descent",
    "Verdict",
    "conditions",
    "strategies",
    "dladmm",
    "lifted_bcd",
    "inexact_alm",
    "phase_diagram",
    "PhaseDiagram",
]


def __getattr__(name):
    # lazy: conditions/strategies/phase import hypothesis, sympy constants and the solver
    import importlib

    if name in ("conditions", "strategies", "dladmm", "lifted_bcd", "inexact_alm"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("phase_diagram", "PhaseDiagram"):
        mod = importlib.import_module(".phase", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
