"""Numba scalar kernels of the built-in activations (sigma, sigma', sigma'').

Kept apart from the Python API (pynndescent style) and compiled with
``cache=True``.  The forms are overflow-safe in float64: the logistic function is
evaluated through ``exp(-|t|)`` and the Gaussian CDF through ``erfc``.
``dispatch(kernel_id, t)`` selects a kernel by id so that solver kernels can be
compiled once for every built-in activation.
"""

import math

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


BUILTIN_SCALARS = {
    0: (sigmoid_f, sigmoid_d1, sigmoid_d2),
    1: (tanh_f, tanh_d1, tanh_d2),
    2: (gauss_cdf_f, gauss_cdf_d1, gauss_cdf_d2),
    3: (arctan_f, arctan_d1, arctan_d2),
    4: (relu_f, relu_d1, relu_d2),
}


@numba.njit(cache=True, inline="always")
def dispatch_f(kid, t):
    if kid == 0:
        return sigmoid_f(t)
    elif kid == 1:
        return tanh_f(t)
    elif kid == 2:
        return gauss_cdf_f(t)
    elif kid == 3:
        return arctan_f(t)
    return relu_f(t)


@numba.njit(cache=True, inline="always")
def dispatch_d1(kid, t):
    if kid == 0:
        return sigmoid_d1(t)
    elif kid == 1:
        return tanh_d1(t)
    elif kid == 2:
        return gauss_cdf_d1(t)
    elif kid == 3:
        return arctan_d1(t)
    return relu_d1(t)


@numba.njit(cache=True, inline="always")
def dispatch_d2(kid, t):
    if kid == 0:
        return sigmoid_d2(t)
    elif kid == 1:
        return tanh_d2(t)
    elif kid == 2:
        return gauss_cdf_d2(t)
    elif kid == 3:
        return arctan_d2(t)
    return relu_d2(t)
