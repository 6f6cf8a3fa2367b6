"""Checks of the paper's convergence claims on recorded runs; what users import in their tests.

``verify`` reads :class:`solver.Trace` records and drives the solver:

* :mod:`verify.integrity`: :func:`validate_trace` checks the identities a trace's fields
  satisfy before any check believes them (:class:`TraceIntegrityError` otherwise);
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
  traces (kept as modules: their check names repeat the generic ones); one module per
  method of :data:`solver.registry.METHODS`, found by :func:`claims_table`;
* :func:`phase_diagram`: where descent and the O(1/k) rate are observed in the
  (lambda, beta) plane, beside where the derived conditions guarantee them.
"""

import importlib

from solver.registry import METHODS, get_method

from .checks import (CHECKS, CheckResult, ConvergenceError, assert_converges, bounded_iterates,
                     descent_diagnostic, resolve_constants,
                     dual_bounded_by_primal, feasibility_to_zero, format_table, kkt_rate,
                     rate_certificate, relative_error, run_checks, sufficient_descent, Verdict)
from .integrity import TraceIntegrityError, integrity_report, validate_trace

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
    "TraceIntegrityError",
    "validate_trace",
    "integrity_report",
    "conditions",
    "strategies",
    "claims_table",
    "phase_diagram",
    "PhaseDiagram",
]


def __getattr__(name):
    # lazy: conditions/strategies/phase import hypothesis, sympy constants and the solver
    if name in ("conditions", "strategies") or (name in METHODS and name != "admm"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("phase_diagram", "PhaseDiagram"):
        mod = importlib.import_module(".phase", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def claims_table(method) -> dict | None:
    """The checks of ``method``'s convergence claims: ``{check name: function(trace, **kw)}``.

    ``method``: a name of :data:`solver.registry.METHODS` (``ValueError`` otherwise).  The
    paper's ``admm``: :data:`CHECKS` (Theorem 4); another method ``m``: the table
    ``M_CHECKS`` (or ``CHECKS``) of the module ``verify.m`` (``verify.dladmm.DLADMM_CHECKS``,
    ``verify.inexact_alm.CHECKS``, ...); None
    when the method has no claims module here (a method registered outside the solver).
    """
    spec = get_method(method)
    if spec.name == "admm":
        return dict(CHECKS)
    try:
        mod = importlib.import_module(f".{spec.name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{spec.name}":
            raise
        return None
    table = getattr(mod, f"{spec.name.upper()}_CHECKS", None)
    return dict(table if table is not None else mod.CHECKS)
