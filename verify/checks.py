"""Checks of the convergence claims of Theorem 4 / 7 on one recorded run.

Each check reads a :class:`solver.Trace` (only the fields it needs; see ``solver/trace.py``)
and returns a :class:`CheckResult` (a ``scipy.optimize.OptimizeResult``) with ``name``,
``verdict`` (:class:`Verdict`: PASS, FAIL or INCONCLUSIVE), ``reason`` (why it is not a
PASS), ``message`` and the measured figures.  Nothing passes for lack of evidence: a run too
short, a quantity below its rounding floor, constants that are not known, or a block that
float64 cannot resolve (``verify.conditions.numerical_validity``) give INCONCLUSIVE.
Nothing here trains; :func:`assert_converges` trains only when given an unfitted estimator.

=========================  ====================================================
check                      statement on the run (docs/algorithm.md, docs/verify.md)
=========================  ====================================================
sufficient_descent         Lemma 14 with FIXED ``xi`` and ``a`` (user, ``conditions=``, or the
                           a-posteriori certificate): ``(Lhat^{k-1} - Lhat^k)/P_k >= a > 0``
descent_diagnostic         (diagnostic, never PASS) the per-layer ``xi`` a linear program finds
bounded_iterates           Lemma 19: inside the derived/given box, or no growth trend of the sup
dual_bounded_by_primal     Lemma 18's per-step linear forms with the measured norms
feasibility_to_zero        Theorem 4(b): ``||F|| / ||V||`` small and still falling
kkt_rate                   Theorem 4(c) on ``sum_j r_j^2`` (the proof's chain, derived or
                           out-of-sample constants) plus the regime of ``min_j r_j``
relative_error             Lemma 21 with a derived ``b`` (INCONCLUSIVE without one)
rate_certificate           the proof's chain link by link, with derived ``a, b, xi``
=========================  ====================================================

A finite run cannot prove a limit: each check states its finite-run criterion in its
docstring, and verdicts that rest on a fitted regime or on constants estimated from the run
itself carry ``heuristic=True``.

The checks live one module per step of the proof: :mod:`verify._descent` (Lemmas 18 and 14),
:mod:`verify._boundedness` (Lemma 19), :mod:`verify._feasibility` (Theorem 4(b)) and
:mod:`verify._rate` (Lemma 21 and Theorem 4(c)); what they share in :mod:`verify._results`
(verdicts), :mod:`verify._floors` (rounding floors), :mod:`verify._constants` (the proof's
constants, the float64 guard) and :mod:`verify._table` (running a table of checks).  This
module is the table of the paper's claims, :data:`CHECKS`, and what runs it; every name it
exported before the split, and the private names other modules import, are still
importable from here.
"""

from __future__ import annotations

import numpy as np

# The checks, one module per step of the proof.  The private names imported here are
# re-exported as before the split: verify.dladmm, verify.lifted_bcd, verify.strategies, tests,
# benchmarks and docs/verify.md import them from here.
from ._boundedness import _activation_box, _growth_trend, bounded_iterates  # noqa: F401
from ._constants import _conditions, resolve_constants  # noqa: F401
from ._descent import descent_diagnostic, dual_bounded_by_primal, sufficient_descent
from ._feasibility import feasibility_to_zero
from ._floors import (  # noqa: F401
    FLOOR_MULT,
    MIN_STEPS,
    _lagrangian_size,
    _residual_floor,
    _robust_rows,
)
from ._rate import _regime, kkt_rate, rate_certificate, relative_error  # noqa: F401
from ._results import CheckResult, ConvergenceError, Verdict, _iters_list  # noqa: F401
from ._table import (
    SHARED_OPTIONS,
    check_selection,
    _takes,
    _unknown_names,
    format_table,
    run_check_table,
)
from ._trace_input import _as_trace, _need  # noqa: F401
from .integrity import TraceIntegrityError, validate_trace

__all__ = [
    "Verdict",
    "CheckResult",
    "sufficient_descent",
    "descent_diagnostic",
    "resolve_constants",
    "FLOOR_MULT",
    "bounded_iterates",
    "dual_bounded_by_primal",
    "feasibility_to_zero",
    "kkt_rate",
    "relative_error",
    "rate_certificate",
    "run_checks",
    "assert_converges",
    "ConvergenceError",
    "CHECKS",
    "TraceIntegrityError",
    "validate_trace",
]


# ------------------------------------------------------------ all together
CHECKS = {
    "sufficient_descent": sufficient_descent,
    "bounded_iterates": bounded_iterates,
    "dual_bounded_by_primal": dual_bounded_by_primal,
    "feasibility_to_zero": feasibility_to_zero,
    "kkt_rate": kkt_rate,
}



def run_checks(trace, checks=None, **options):
    """Run several checks; returns ``{name: CheckResult}``.

    ``options``: a check name mapped to a dict of its keyword arguments, e.g.
    ``run_checks(tr, sufficient_descent={"xi": 0.5})``, and the :data:`SHARED_OPTIONS`
    (``conditions=``, ``X=``, ``a0=``) given once for every check that takes them, e.g.
    ``run_checks(tr, conditions=c, kkt_rate={"conditions": None})`` (kkt_rate without them).
    """
    return run_check_table(CHECKS, _as_trace(trace), checks, **options)



def assert_converges(model_or_trace, X=None, y=None, checks=None, allow_inconclusive=False, *,
                     conditions=None, a0=None, **options):
    """Assert that a run satisfies the convergence claims (for users' pytest suites).

    Parameters
    ----------
    model_or_trace : Trace, fitted ADMM, unfitted ADMM (then ``X, y`` are
        required and it is fitted here) or a path to a saved trace.
    X, y : training data.  With both, an unfitted estimator is fitted here.  ``X`` (with or
        without ``y``) also goes to every check that takes it: the data constant of Lemma 21's
        a-posteriori ``b`` (``a0=`` gives that constant directly).
    checks : iterable of check names (default: all of :data:`CHECKS`).
    allow_inconclusive : bool
        ``False`` (default): an INCONCLUSIVE check fails the assertion like a FAIL (nothing
        passes for lack of evidence).  ``True``: only FAIL verdicts raise.
    conditions : :class:`verify.conditions.Conditions` or None
        Given once, it goes to every check that takes it (sufficient_descent,
        bounded_iterates, kkt_rate); a per-check dict overrides it.  Conditions that do not
        cover the run (:meth:`Conditions.covers`) raise :class:`ConvergenceError` naming why,
        even with ``allow_inconclusive=True``: they are the caller's mistake, not a lack of
        evidence.
    **options : per-check keyword arguments, e.g. ``sufficient_descent={"xi": [0, 0.5]}``.
        A misspelt keyword is refused by name (``unknown keyword 'conditons'; did you mean
        'conditions'?``).

    Returns the dict of :class:`CheckResult` when no check fails; otherwise raises
    :class:`ConvergenceError` (an ``AssertionError``) whose message is the table
    of every check with its verdict and reason, so pytest shows what failed and why.
    """
    own = ("X", "y", "checks", "allow_inconclusive", "conditions", "a0")
    names_known = list(CHECKS) + list(SHARED_OPTIONS) + list(own)
    stray = [k for k in options if k not in CHECKS and k not in SHARED_OPTIONS]
    if stray:                                  # 'allow_inconclusve' suggests its own argument
        raise ValueError(f"{_unknown_names('keyword', stray, names_known)} (assert_converges takes "
                         f"{list(own)}, a check name with a dict of its arguments, or one of "
                         f"{list(SHARED_OPTIONS)})")
    return _assert_converges(model_or_trace, X, y, checks, allow_inconclusive,
                             conditions=conditions, a0=a0, **options)


def _assert_converges(model_or_trace, X=None, y=None, checks=None, allow_inconclusive=False, *,
                      conditions=None, a0=None, **options):
    """:func:`assert_converges` after its keywords are checked."""
    obj = model_or_trace
    if y is not None:
        if X is None:
            raise ValueError("X, y: expected both training arrays (y was given without X)")
        if not hasattr(obj, "fit"):
            raise ValueError("model_or_trace: X and y were given, so expected an estimator with fit()")
        obj.fit(X, y)
    elif hasattr(obj, "fit") and getattr(obj, "trace_", None) is None:
        raise ValueError("model_or_trace: the estimator is not fitted; pass X and y to fit it here")
    if not isinstance(allow_inconclusive, (bool, np.bool_)):
        raise ValueError(f"allow_inconclusive: expected True or False, got {allow_inconclusive!r}")
    names = check_selection(checks, CHECKS)     # once: run_checks gets the list, not the iterator
    if X is not None and not any(_takes(CHECKS[nm], "X") for nm in names if nm in CHECKS):
        X = None        # the training data only: no selected check uses the data constant
    results = run_checks(obj, checks=names, conditions=conditions, X=X, a0=a0, **options)
    # conditions that do not cover the run are the caller's mistake, not a lack of evidence:
    # allow_inconclusive must not let them pass unnoticed, whether given once or per check
    given, top_used = [], False
    for nm in names:
        kw = options.get(nm)
        if isinstance(kw, dict) and "conditions" in kw:
            if kw["conditions"] is not None:
                given.append((f"{nm}={{'conditions': ...}}", kw["conditions"]))
        elif _takes(CHECKS[nm], "conditions"):
            top_used = True               # this check receives the top-level conditions
    if conditions is not None and top_used:
        given.insert(0, ("conditions", conditions))
    tr = _as_trace(obj)
    for where, c in given:
        why = c.covers(tr) if callable(getattr(c, "covers", None)) else None
        if why is not None:
            raise ConvergenceError(f"conditions: they do not cover this run ({why}; given as "
                                   f"{where})\n" + format_table(results), results)
    failed = [nm for nm, r in results.items() if r.verdict is Verdict.FAIL]
    undecided = [nm for nm, r in results.items() if r.verdict is Verdict.INCONCLUSIVE]
    if failed or (undecided and not allow_inconclusive):
        head = []
        if failed:
            head.append(f"convergence checks failed: {failed}")
        if undecided and not allow_inconclusive:
            head.append(f"inconclusive (allow_inconclusive=False): {undecided}")
        raise ConvergenceError("; ".join(head) + "\n" + format_table(results), results)
    return results
