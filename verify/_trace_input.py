"""The trace input shared by the checks and the certificates (private).

:func:`_as_trace` accepts what a user passes for a trace and validates it; :func:`_need` checks
the fields a check reads.  Both :mod:`verify.checks` and :mod:`verify.conditions` import them from
here (they lived in ``checks``, which ``conditions`` then imported back inside functions: an
import circle, issue 20).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from solver.trace import Trace

from .integrity import validate_trace


def _as_trace(obj, argname="trace"):
    """Accept a Trace, a fitted estimator with ``trace_``, or a path to a saved trace; the
    trace is checked first (:func:`verify.integrity.validate_trace`: a trace whose fields
    contradict each other raises :class:`TraceIntegrityError`)."""
    if isinstance(obj, Trace):
        return validate_trace(obj)
    tr = getattr(obj, "trace_", None)
    if isinstance(tr, Trace):
        return validate_trace(tr)
    if isinstance(obj, (str, bytes)) or hasattr(obj, "__fspath__"):
        return validate_trace(Trace.load(obj))
    raise ValueError(
        f"{argname}: expected a solver.Trace, a fitted solver.ADMM (with trace_) or a path "
        f"to a saved .npz trace, got {type(obj).__name__}"
    )


def _need(trace, fields: Iterable[str], check: str, min_len: int = 1) -> int:
    """Validate presence, length and finiteness of the fields a check reads."""
    n = len(trace)
    if n == 0:
        raise ValueError(f"trace: {check} needs at least {min_len} recorded iterations, "
                         "got an empty trace")
    missing = [f for f in fields if getattr(trace, f, None) is None]
    if missing:
        raise ValueError(f"trace: {check} needs the fields {missing}, which this trace lacks")
    if n < min_len:
        raise ValueError(f"trace: {check} needs at least {min_len} recorded iterations, got {n}")
    for f in fields:
        a = np.asarray(getattr(trace, f))[:n]
        if a.shape[0] < n:
            raise ValueError(f"trace: field {f!r} has {a.shape[0]} rows, expected {n}")
        bad = ~np.isfinite(a)
        if bad.any():
            k = int(np.argwhere(bad)[0][0]) + 1
            raise ValueError(
                f"trace: field {f!r} is not finite (first at iteration k={k}); {check} "
                "cannot be decided on a non-finite run (the solver stops at the last finite "
                "iterate: truncate the trace there)"
            )
    return n
