"""The paper's toy regression problems (docs/experiments.md#toy-tasks), with seeds and clean test sets.

Every generator returns a :class:`Task`: training inputs uniform on ``[-1, 1]^d``
(``n`` of them), targets ``f(x)`` plus Gaussian noise of standard deviation ``noise``,
and a clean test set (``n_test`` fresh inputs, noiseless targets).  Arrays follow the
scikit-learn layout ``(n_samples, n_features)`` / ``(n_samples,)``.

* ``square``: ``x^2``, d = 1 (paper Table 3);
* ``product``: the product gate ``x_1 x_2``, d = 2 (Table 4);
* ``radial``: a piecewise-linear radial function in the style of Safran and Shamir
  (2017), d = 2 (Table 5).  The paper's exact form is not recoverable; ours is the ring
  ``phi(r) = max(0, 1 - 4 |r - 1/2|)``, ``r = ||x||`` (kinks at r = 1/4, 1/2, 3/4);
* ``smooth_radial``: the Wendland function ``phi(r) = (1 - r)_+^4 (4 r + 1)``, d = 2
  (Table 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Task", "square", "product", "radial", "smooth_radial", "make_task", "TASKS"]


@dataclass
class Task:
    """A regression problem: training data, clean test data and the target function."""

    name: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    f: Callable = field(repr=False)
    noise: float = 0.0
    seed: int | None = None

    def __iter__(self):  # X, y, X_test, y_test = task
        return iter((self.X, self.y, self.X_test, self.y_test))


def _square(X):
    return X[:, 0] ** 2


def _product(X):
    return X[:, 0] * X[:, 1]


def _ring(X):
    r = np.linalg.norm(X, axis=1)
    return np.maximum(0.0, 1.0 - 4.0 * np.abs(r - 0.5))


def _wendland(X):
    r = np.linalg.norm(X, axis=1)
    return np.maximum(1.0 - r, 0.0) ** 4 * (4.0 * r + 1.0)


_DEFS = {"square": (_square, 1), "product": (_product, 2), "radial": (_ring, 2),
         "smooth_radial": (_wendland, 2)}


def make_task(name, n=1000, noise=0.0, seed=None, n_test=1000):
    """Sample the named task (one of :data:`TASKS`); see the module docstring."""
    if name not in _DEFS:
        raise ValueError(f"name: expected one of {sorted(_DEFS)}, got {name!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    if int(n_test) != n_test or n_test < 0:
        raise ValueError(f"n_test: expected a non-negative integer, got {n_test!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise: expected a finite standard deviation >= 0, got {noise!r}")
    f, d = _DEFS[name]
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(int(n), d))
    y = f(X) + (noise * rng.normal(size=int(n)) if noise > 0 else 0.0)
    Xt = rng.uniform(-1.0, 1.0, size=(int(n_test), d))
    return Task(name, X, np.asarray(y, dtype=float), Xt, f(Xt), f, float(noise), seed)


def square(n=1000, noise=0.0, seed=None, n_test=1000):
    """``y = x^2`` on [-1, 1] (paper Table 3)."""
    return make_task("square", n, noise, seed, n_test)


def product(n=1000, noise=0.0, seed=None, n_test=1000):
    """``y = x_1 x_2`` on [-1, 1]^2 (paper Table 4)."""
    return make_task("product", n, noise, seed, n_test)


def radial(n=1000, noise=0.0, seed=None, n_test=1000):
    """Piecewise-linear ring ``max(0, 1 - 4|r - 1/2|)`` on [-1, 1]^2 (Table 5, our form)."""
    return make_task("radial", n, noise, seed, n_test)


def smooth_radial(n=1000, noise=0.0, seed=None, n_test=1000):
    """Wendland ``(1 - r)_+^4 (4r + 1)`` on [-1, 1]^2 (Table 6)."""
    return make_task("smooth_radial", n, noise, seed, n_test)


TASKS = tuple(_DEFS)
