"""Declared estimator parameters, validated in one place (scikit-learn's mechanism).

Each estimator declares ``_parameter_constraints``: parameter name -> list of constraints in
scikit-learn's vocabulary (``sklearn.utils._param_validation``: :class:`Interval`,
:class:`StrOptions`, ``"boolean"``, ``None``, a type, ...).  :func:`validate_params` checks
every parameter against its list before ``fit`` does any work and raises a
:class:`ParameterError` whose ``param`` names the parameter (the CLI maps it to its option
without reading the message).  What a declaration cannot say (one value per layer, a bound
that depends on another parameter, Assumption 1) stays in the method's
``_validate_method_params`` and raises :class:`ParameterError` too.

Numbers are declared with :func:`real` and :func:`integer`: scikit-learn's ``Interval``
without ``bool`` (``True`` is an ``Integral`` in Python, never a valid width or tolerance)
and, for reals, without infinities.  :func:`settings_value` turns a parameter's value into
the JSON value of the run's settings by the type its declaration says (``int``, ``float``,
``bool``).
"""

from __future__ import annotations

import inspect
import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, make_constraint

__all__ = ["ParameterError", "validate_params", "real", "integer", "options", "settings_value",
           "keyword_init"]


class ParameterError(ValueError):
    """A bad estimator parameter: ``param`` names it (the CLI maps it to its option), the
    message says ``"param: expected ..., got ..."``."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def _is_finite(val: Real) -> bool:
    """Whether a real number is finite, for any size: a Python int beyond int64 or a Fraction
    beyond float's range is finite (``np.isfinite`` raises TypeError on the first and
    ``math.isfinite`` OverflowError on the second; issue 27's thorough run drew -2^63 - 1)."""
    if isinstance(val, Integral):
        return True
    try:
        return math.isfinite(val)
    except OverflowError:
        return True


class _Number(Interval):
    """``Interval`` that refuses ``bool`` (and, with ``finite``, the infinities)."""

    def __init__(self, type, left, right, *, closed, finite=True):
        super().__init__(type, left, right, closed=closed)
        self.finite = finite

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)):
            return False
        if self.finite and isinstance(val, Real) and not _is_finite(val):
            return False
        try:
            return super().is_satisfied_by(val)
        except (TypeError, OverflowError):  # e.g. a Fraction beyond float's range: not a float
            return False

    def __str__(self):
        return super().__str__() + (" (finite)" if self.finite and self.type is Real else "")


def _closed(left, right, closed):
    if closed is not None:
        return closed
    return {(False, False): "both", (False, True): "left", (True, False): "right"}.get(
        (left is None, right is None), "neither")


def real(left=None, right=None, closed=None) -> Interval:
    """A finite real number in the interval (``None``: unbounded on that side; ``closed``
    defaults to the finite ends included)."""
    return _Number(Real, left, right, closed=_closed(left, right, closed))


def integer(left=None, right=None, closed=None) -> Interval:
    """An integer (not ``bool``) in the interval (``closed`` as for :func:`real`)."""
    return _Number(Integral, left, right, closed=_closed(left, right, closed))


class _Options(StrOptions):
    def __str__(self):
        return f"one of {sorted(self.options)}"


def options(values) -> StrOptions:
    """One of the strings ``values``."""
    return _Options(set(values))


def _describe(constraints):
    shown = [str(c) for c in constraints if not getattr(c, "hidden", False)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def validate_params(estimator) -> None:
    """Check every parameter of ``estimator`` against its ``_parameter_constraints``.

    A parameter without a declaration is a ``TypeError`` (the estimator's author forgot
    it); a value that satisfies none of its constraints a :class:`ParameterError` naming it.
    ``"no_validation"`` skips a parameter.
    """
    declared = type(estimator)._parameter_constraints
    params = estimator.get_params(deep=False)
    missing = sorted(set(params) - set(declared))
    if missing:
        raise TypeError(f"{type(estimator).__name__}._parameter_constraints: no declaration for "
                        f"{missing}")
    for name, value in params.items():
        spec = declared[name]
        if spec == "no_validation":
            continue
        constraints = [make_constraint(c) for c in spec]
        if not any(c.is_satisfied_by(value) for c in constraints):
            raise ParameterError(name, f"{name}: expected {_describe(constraints)}, got {value!r}")


def settings_value(value, constraints=()):
    """``value`` as a JSON value of the run's settings: arrays and tuples as lists, numbers
    as the type their declaration says (an ``int`` given for a real parameter is a float)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [settings_value(v, constraints) for v in value]
    if isinstance(value, Real):
        types = [c.type for c in constraints if isinstance(c, Interval)]
        if Real in types and not (Integral in types and isinstance(value, Integral)):
            return float(value)
        return int(value) if isinstance(value, Integral) else float(value)
    return value


def keyword_init(defaults: dict, doc: str | None = None):
    """An ``__init__`` storing each keyword-only parameter under its own name (scikit-learn's
    rule), with the signature ``(self, *, name=default, ...)`` that ``get_params`` reads.

    For estimators that share a parameter list (``DLADMM`` and ``DLADMMClassifier``): the
    list is written once, as a dict.
    """
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d) for n, d in defaults.items()]

    def __init__(self, **kw):
        unknown = sorted(set(kw) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected keyword argument(s) {unknown}")
        for name, default in defaults.items():
            setattr(self, name, kw.get(name, default))

    setattr(__init__, "__signature__", inspect.Signature(params))  # read by inspect.signature
    __init__.__doc__ = doc
    return __init__
