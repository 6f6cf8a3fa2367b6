"""What a check returns (private; the public names are exported by :mod:`verify.checks`).

:class:`Verdict` (PASS, FAIL, INCONCLUSIVE), :class:`CheckResult` (a
``scipy.optimize.OptimizeResult`` with a verdict and its reason), :class:`ConvergenceError`
(what :func:`verify.checks.assert_converges` raises) and the helper that lists iterations in
messages.  Every method's checks (:mod:`verify.checks`, :mod:`verify.dladmm`,
:mod:`verify.lifted_bcd`, :mod:`verify.inexact_alm`) return these.
"""

from __future__ import annotations

import enum

import numpy as np
from scipy.optimize import OptimizeResult


class ConvergenceError(AssertionError):
    """Raised by :func:`assert_converges`; ``.results`` holds every check's result."""

    def __init__(self, message, results):
        super().__init__(message)
        self.results = results


class Verdict(enum.StrEnum):
    """The outcome of one check.

    ``PASS``: the run shows the claim with the stated finite-run criterion.  ``FAIL``: the
    run contradicts it.  ``INCONCLUSIVE``: the run cannot decide it (too short, below the
    rounding floor, constants unknown, a block that float64 cannot resolve); ``reason``
    says which.  Nothing passes for lack of evidence.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"

    @classmethod
    def of(cls, ok: bool) -> "Verdict":
        return cls.PASS if ok else cls.FAIL


_META_KEYS = ("name", "verdict", "reason", "message")


class CheckResult(OptimizeResult):
    """Outcome of one check (a ``scipy.optimize.OptimizeResult``: a dict with attribute access).

    Keys (also attributes): ``name``, ``verdict`` (:class:`Verdict`), ``reason`` (why the
    verdict is FAIL or INCONCLUSIVE; ``None`` on PASS), ``message`` (one sentence) and
    check-specific figures.  ``passed`` is a read-only property, ``verdict == PASS``.  A
    misspelt key raises ``AttributeError``; ``bool(result)`` raises ``TypeError`` on purpose
    so that ``assert result`` cannot pass by accident (use ``result.passed`` or
    ``result.verdict``).
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if "passed" in self:
            raise TypeError("CheckResult: 'passed' is derived from 'verdict'; give verdict=")
        v = self.get("verdict")
        if not isinstance(v, Verdict):
            try:
                dict.__setitem__(self, "verdict", Verdict(v))
            except ValueError:
                raise ValueError(f"verdict: expected one of {[x.value for x in Verdict]}, "
                                 f"got {v!r}") from None
        self.setdefault("reason", None)

    @property
    def passed(self) -> bool:
        """``verdict == PASS`` (read-only)."""
        return self["verdict"] is Verdict.PASS

    @property
    def inconclusive(self) -> bool:
        return self["verdict"] is Verdict.INCONCLUSIVE

    @property
    def failed(self) -> bool:
        return self["verdict"] is Verdict.FAIL

    def __setattr__(self, name, value):
        if name in ("passed", "inconclusive", "failed"):
            raise AttributeError(f"CheckResult.{name} is read-only (derived from verdict)")
        self[name] = value

    def __setitem__(self, key, value):
        if key in ("passed", "inconclusive", "failed"):
            raise KeyError(f"CheckResult: {key!r} is derived from 'verdict'")
        if key == "verdict":
            value = Verdict(value)
        dict.__setitem__(self, key, value)

    def __bool__(self):
        raise TypeError("CheckResult: use `.passed` or `.verdict` (truth value is ambiguous "
                        "on purpose)")

    def __repr__(self):
        keys = [k for k in self if k not in _META_KEYS]
        body = ", ".join(f"{k}={_short(self[k])}" for k in keys)
        return (f"CheckResult({self.get('name')!r}, verdict={str(self.get('verdict'))}"
                + (f", reason={self.get('reason')!r}" if self.get("reason") else "")
                + (f", {body}" if body else "") + ")")

    def figures(self) -> dict:
        """Scalar figures only (for tables)."""
        return {k: v for k, v in self.items()
                if k not in _META_KEYS and np.ndim(v) == 0 and v is not None}


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array(shape={v.shape})"
    if isinstance(v, float):
        return f"{v:.4g}"
    return repr(v)


# --------------------------------------------------------------------- input
def _iters_list(mask, offset=1, limit=50):
    idx = np.flatnonzero(mask) + offset
    return [int(i) for i in idx[:limit]]
