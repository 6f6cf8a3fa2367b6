"""The paper's six weight initialisations (docs/experiments.md#initialisations).

Weights are ``d_out x d_in`` (output x input, the paper's orientation), biases are
zero, and every weight matrix is multiplied by ``scale`` (the authors' demos use 8
for inputs in [-1, 1], which saturates the sigmoids on purpose).
"""

from __future__ import annotations

import numpy as np

__all__ = ["INITS", "init_weights"]


def _lecun_uniform(rng, d_out, d_in, last):
    a = np.sqrt(3.0 / d_in)
    return rng.uniform(-a, a, size=(d_out, d_in))


def _lecun_normal(rng, d_out, d_in, last):
    return rng.normal(0.0, np.sqrt(1.0 / d_in), size=(d_out, d_in))


def _orth(M):
    """Orthonormal rows or columns from the QR factorisation of ``M`` (sign-fixed)."""
    d_out, d_in = M.shape
    T = M if d_out >= d_in else M.T
    Q, R = np.linalg.qr(T)
    Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
    return Q if d_out >= d_in else Q.T


def _orth_uniform(rng, d_out, d_in, last):
    return _orth(rng.uniform(-1.0, 1.0, size=(d_out, d_in)))


def _orth_normal(rng, d_out, d_in, last):
    return _orth(rng.normal(size=(d_out, d_in)))


def _xavier(rng, d_out, d_in, last):
    a = np.sqrt(6.0 / (d_in + d_out))
    return rng.uniform(-a, a, size=(d_out, d_in))


def _msra(rng, d_out, d_in, last):
    # the authors' convention: N(0, 2/d_out) on hidden layers, N(0, 1/d_out) on the output
    return rng.normal(0.0, np.sqrt((1.0 if last else 2.0) / d_out), size=(d_out, d_in))


INITS = {
    "lecun_uniform": _lecun_uniform,
    "lecun_normal": _lecun_normal,
    "orth_uniform": _orth_uniform,
    "orth_normal": _orth_normal,
    "xavier": _xavier,
    "msra": _msra,
}


def init_weights(widths, scheme="msra", scale=1.0, seed=None):
    """Random ``[(W_i, b_i)]`` for layer widths ``(d_0, d_1, ..., d_N)``.

    Parameters
    ----------
    widths : sequence of int
        Input dimension, hidden widths, output dimension.
    scheme : str
        One of :data:`INITS`.
    scale : float
        Multiplies every weight matrix (not the zero biases).
    seed : int, numpy Generator or None
    """
    if scheme not in INITS:
        raise ValueError(f"init: expected one of {sorted(INITS)}, got {scheme!r}")
    rng = np.random.default_rng(seed)
    fn = INITS[scheme]
    out = []
    N = len(widths) - 1
    for i in range(N):
        W = float(scale) * fn(rng, int(widths[i + 1]), int(widths[i]), i == N - 1)
        out.append((np.ascontiguousarray(W, dtype=np.float64), np.zeros(int(widths[i + 1]))))
    return out
