"""The float64 numpy kernels that evaluate an activation in the numpy-based methods.

:class:`theory.Activation` is the one activation object of the project; which float64 code
evaluates it is the solver's choice, made here from the solver's own registry
(:data:`NUMPY_KERNELS`, keyed by the activation's name, used only when the activation *is*
that built-in: same name and same expression).  Any other activation runs on its own
numpy callables (``act``, ``act.d1``: the lambdified expression, or the exact forms given
by :func:`theory.leaky_relu`).  The compiled kernels of the sigmoid ADMM are chosen the
same way by :func:`solver.activation_kernels.kernel_id`.

The forms below are those dlADMM and the lifted BCD ran before the activations were
unified (issue 20), kept bit for bit: the logistic function through ``exp(-|x|)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Kernels", "NUMPY_KERNELS", "kernels_for", "relu_f"]


def relu_f(x):
    """``max(x, 0)``."""
    return np.maximum(x, 0.0)


def _relu_d(x):
    return (x > 0).astype(float)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_d(x):
    s = _sigmoid(x)
    return s * (1.0 - s)


def _tanh_d(x):
    return 1.0 - np.tanh(x) ** 2


@dataclass(frozen=True)
class Kernels:
    """The float64 kernels of one activation: ``f``, ``f'`` and, for bounded smooth ones,
    ``fmax = sup |f|`` and ``d1max = sup |f'|`` (``L_0``, ``L_1``; None where infinite or
    not needed).  Calling it applies ``f``."""

    name: str
    f: Callable
    d1: Callable
    fmax: float | None = None
    d1max: float | None = None

    def __call__(self, x):
        return self.f(x)

    def __repr__(self):
        return f"activation {self.name!r}"


#: the solver's numpy kernels of the built-in activations, by name; ``fmax``/``d1max`` are
#: the built-ins' ``L_0``, ``L_1`` (tests/test_activations.py checks them against
#: ``theory``'s certified bounds)
NUMPY_KERNELS = {
    "relu": Kernels("relu", relu_f, _relu_d),
    "sigmoid": Kernels("sigmoid", _sigmoid, _sigmoid_d, 1.0, 0.25),
    "tanh": Kernels("tanh", np.tanh, _tanh_d, 1.0, 1.0),
}


def kernels_for(act) -> Kernels:
    """The :class:`Kernels` that evaluate ``act`` (a :class:`theory.Activation`, a built-in's
    name, or already a :class:`Kernels`).

    A built-in with kernels here gets them; any other activation its own numpy callables,
    with ``fmax``/``d1max`` from its certified bounds ``L_0``, ``L_1`` when it is smooth and
    they are finite (computed on first use).
    """
    if isinstance(act, Kernels):
        return act
    if isinstance(act, str) and act in NUMPY_KERNELS:      # a built-in by name: no theory import
        return NUMPY_KERNELS[act]
    from theory.activations import BUILTINS, get_activation  # noqa: PLC0415 - theory's sympy load, paid at fit, not at import solver

    act = get_activation(act, "activation")
    builtin = BUILTINS.get(act.name)
    if act.name in NUMPY_KERNELS and builtin is not None and builtin.expr == act.expr:
        return NUMPY_KERNELS[act.name]
    fmax = d1max = None
    if act.is_smooth:
        fmax, d1max = (float(act.L(k)) for k in (0, 1))
        if not (np.isfinite(fmax) and np.isfinite(d1max)):
            fmax = d1max = None
    return Kernels(act.name, act, act.d1, fmax, d1max)
