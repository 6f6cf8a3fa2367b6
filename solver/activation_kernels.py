"""Float64 scalar kernels of the built-in activations, keyed by activation name.

Kept apart from the Python API (pynndescent style) and compiled with ``cache=True``.
The forms are overflow-safe in float64: the logistic function through ``exp(-|t|)``, the
Gaussian CDF through ``erfc``.

:data:`REGISTRY` maps a built-in activation's name to its ``(f, f', f'')`` kernels, and
:func:`kernel_id` gives the small integer that the fused kernels of
:mod:`solver.admm.kernels` branch on inside compiled code (numba cannot dispatch on a string
there).  The ids are assigned from the registry's order (:data:`KERNEL_IDS`); code refers
to them by name (:data:`SIGMOID`, ...), never by value.
"""

import math

from . import _numba_cache  # noqa: F401 - first: a writable folder for cache=True (read-only installs)
import numba

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_PI = 1.0 / math.pi


@numba.njit(cache=True, inline="always")
def sigmoid_f(t):
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


@numba.njit(cache=True, inline="always")
def sigmoid_d1(t):
    s = sigmoid_f(t)
    return s * (1.0 - s)


@numba.njit(cache=True, inline="always")
def sigmoid_d2(t):
    # s'' = s (1 - s)(1 - 2 s) with 1 - 2 s = -tanh(t/2): no cancellation near t = 0
    s = sigmoid_f(t)
    return -s * (1.0 - s) * math.tanh(0.5 * t)


@numba.njit(cache=True, inline="always")
def tanh_f(t):
    return math.tanh(t)


@numba.njit(cache=True, inline="always")
def tanh_d1(t):
    h = math.tanh(t)
    return 1.0 - h * h


@numba.njit(cache=True, inline="always")
def tanh_d2(t):
    h = math.tanh(t)
    return -2.0 * h * (1.0 - h * h)


@numba.njit(cache=True, inline="always")
def gauss_cdf_f(t):
    return 0.5 * math.erfc(-t * _SQRT1_2)


@numba.njit(cache=True, inline="always")
def gauss_cdf_d1(t):
    return _INV_SQRT_2PI * math.exp(-0.5 * t * t)


@numba.njit(cache=True, inline="always")
def gauss_cdf_d2(t):
    return -t * _INV_SQRT_2PI * math.exp(-0.5 * t * t)


@numba.njit(cache=True, inline="always")
def arctan_f(t):
    return 0.5 + math.atan(t) * _INV_PI


@numba.njit(cache=True, inline="always")
def arctan_d1(t):
    return _INV_PI / (1.0 + t * t)


@numba.njit(cache=True, inline="always")
def arctan_d2(t):
    q = 1.0 + t * t
    return -2.0 * t * _INV_PI / (q * q)


@numba.njit(cache=True, inline="always")
def relu_f(t):
    return t if t > 0.0 else 0.0


@numba.njit(cache=True, inline="always")
def relu_d1(t):
    return 1.0 if t > 0.0 else 0.0


@numba.njit(cache=True, inline="always")
def relu_d2(t):
    return 0.0


REGISTRY = {
    "sigmoid": (sigmoid_f, sigmoid_d1, sigmoid_d2),
    "tanh": (tanh_f, tanh_d1, tanh_d2),
    "gauss_cdf": (gauss_cdf_f, gauss_cdf_d1, gauss_cdf_d2),
    "arctan": (arctan_f, arctan_d1, arctan_d2),
    "relu": (relu_f, relu_d1, relu_d2),
}
#: the compiled kernels' activation selector, by name (assigned from the registry order)
KERNEL_IDS = {name: i for i, name in enumerate(REGISTRY)}
SIGMOID = KERNEL_IDS["sigmoid"]
TANH = KERNEL_IDS["tanh"]
GAUSS_CDF = KERNEL_IDS["gauss_cdf"]
ARCTAN = KERNEL_IDS["arctan"]


def kernel_id(act):
    """The compiled-kernel selector of ``act`` (a :class:`theory.Activation`), or ``None``.

    Only a built-in activation gets one: its name must be in :data:`REGISTRY` and its
    expression equal to the built-in's (a user activation that reuses a built-in name
    with another formula runs on the numpy kernels).
    """
    from theory.activations import BUILTINS  # noqa: PLC0415 - theory loads sympy: paid at fit, not at import solver

    builtin = BUILTINS.get(act.name)
    if act.name not in KERNEL_IDS or builtin is None or builtin.expr != act.expr:
        return None
    return KERNEL_IDS[act.name]


@numba.njit(cache=True, inline="always")
def dispatch_f(kid, t):
    """``sigma(t)`` of the built-in activation ``kid``."""
    if kid == SIGMOID:
        return sigmoid_f(t)
    elif kid == TANH:
        return tanh_f(t)
    elif kid == GAUSS_CDF:
        return gauss_cdf_f(t)
    elif kid == ARCTAN:
        return arctan_f(t)
    return relu_f(t)


@numba.njit(cache=True, inline="always")
def dispatch_d1(kid, t):
    """``sigma'(t)`` of the built-in activation ``kid``."""
    if kid == SIGMOID:
        return sigmoid_d1(t)
    elif kid == TANH:
        return tanh_d1(t)
    elif kid == GAUSS_CDF:
        return gauss_cdf_d1(t)
    elif kid == ARCTAN:
        return arctan_d1(t)
    return relu_d1(t)
