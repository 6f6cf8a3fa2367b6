"""Argument validators shared by the constructions and the certifier.

Every validator returns the value in the form the caller computes with (exact sympy
rationals for accuracies and domains) or raises ``ValueError`` whose message starts with
the argument's name.  :mod:`theory.gates` re-exports :func:`check_eps` and :func:`check_M`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .activations import Activation, get_activation
from .enclosure import RealLike
from .net import as_rational

#: an activation as the public functions take it: the object or a built-in name
ActivationLike = Activation | str

__all__ = ["RealLike", "ActivationLike", "as_rational", "check_eps", "check_M", "check_positive_int", "gate_args", "VARIANTS",
           "NO_VARIANT"]

# Lemma 6 / Theorem 3: the two ways to build a product from square gates.
VARIANTS = ("paper", "polarization")

NO_VARIANT = object()  # gate_args: the construction takes no ``variant``


def check_eps(eps, argname: str = "eps") -> sp.Rational:
    """``eps`` as an exact rational, or ``ValueError`` unless ``0 < eps < 1`` and finite."""
    e = as_rational(eps, argname)
    if not (0 < e < 1):
        raise ValueError(f"{argname}: expected an accuracy in the open interval (0, 1), got {eps!r}")
    return e


def check_M(M, argname: str = "M") -> sp.Rational:
    """``M`` as an exact rational, or ``ValueError`` unless ``M > 0`` and finite."""
    m = as_rational(M, argname)
    if not m > 0:
        raise ValueError(f"{argname}: expected a positive half-width of the domain [-M, M], got {M!r}")
    return m


def check_step_const(value, argname: str = "step_const") -> sp.Expr:
    """A user-given step constant ``C_sigma`` (paper eq. 31): an exact positive real (the
    bound ``C/K <= eps`` it enters is only as good as ``C``; 0, negative, NaN, inf or a
    non-number raise ``ValueError`` naming ``argname``)."""
    C = as_rational(value, argname)
    if not C > 0:
        raise ValueError(f"{argname}: expected a positive step constant C >= sup_(v>0) v max(1 - b(v), "
                         f"b(-v)) (paper eq. 31), got {value!r}")
    return C


def check_positive_int(value, argname: str) -> int:
    """``value`` as an ``int`` unless it is not a positive integer (``bool`` rejected; numpy
    integers accepted)."""
    if isinstance(value, np.integer):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{argname}: expected a positive integer, got {value!r}")
    return value


def gate_args(eps, M, activation, variant=NO_VARIANT):
    """Validate a construction's arguments: ``eps`` in (0, 1), ``M > 0``, a smooth nonlinear
    activation (the lemmas need ``sigma''``), and, for Lemma 6 / Theorem 3, the variant.

    Returns ``(eps, M, activation)`` (exact rationals and an :class:`Activation`).
    """
    eps = check_eps(eps)
    M = check_M(M)
    act = get_activation(activation)
    act.require_smooth("activation")
    if variant is not NO_VARIANT and variant not in VARIANTS:
        raise ValueError(f"variant: expected 'paper' or 'polarization', got {variant!r}")
    return eps, M, act
