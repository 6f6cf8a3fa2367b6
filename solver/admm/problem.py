"""The sigmoid-ADMM problem shared by its two engines: data, constants, state, initial point.

:class:`ADMMProblem` holds what both :class:`solver.admm.reference.ReferenceEngine` and
:class:`solver.admm.engine.FastEngine` need (docs/algorithm.md): the training data in the
features x samples layout, ``lambda``, ``beta_i``, the curvature rule of the LLA steps,
the initial point of paper eq. (7), the forward pass and the stopping criterion.
"""

from __future__ import annotations

import numpy as np

from . import steps as _S
from ..core import network_forward, network_layers
from ..instance import data_scale, instance_digest

__all__ = ["ADMMState", "ADMMProblem", "data_meta"]


class ADMMState:
    """Iterates ``(W, V, Lam)`` of Algorithm 1 plus the cached pre-activations ``Z``.

    Attributes
    ----------
    W : list of ndarray
        ``W_i`` of shape ``(d_i, d_{i-1} + 1)``, bias in the last column.
    V, Lam : list of ndarray
        ``V_i`` and ``Lam_i`` of shape ``(d_i, n)`` (features x samples), i = 1..N.
    Z : list of ndarray
        ``Z_i = W_i [V_{i-1}; 1]`` for the hidden layers (a function of W and V, cached).
    k : int
        Iterations completed.
    """

    def __init__(self, W, V, Lam, Z, k=0):
        self.W, self.V, self.Lam, self.Z, self.k = list(W), list(V), list(Lam), list(Z), int(k)

    @property
    def n_layers(self):
        return len(self.W)

    def weights(self):
        """``[(W_i, b_i)]`` with ``W_i`` of shape ``(d_i, d_{i-1})`` (the public orientation)."""
        return [(w[:, :-1].copy(), w[:, -1].copy()) for w in self.W]

    def copy(self):
        c = lambda L: [np.array(a, copy=True) for a in L]  # noqa: E731
        return ADMMState(c(self.W), c(self.V), c(self.Lam), c(self.Z), self.k)

    def arrays(self, prefix=""):
        out = {f"{prefix}k": np.asarray(self.k)}
        for name in ("W", "V", "Lam", "Z"):
            for j, a in enumerate(getattr(self, name)):
                out[f"{prefix}{name}{j}"] = a
        return out

    @classmethod
    def from_arrays(cls, z, prefix=""):
        """Inverse of :meth:`arrays` (the number of layers is read from the keys)."""
        keys = set(z.keys()) if hasattr(z, "keys") else set(z)
        n_layers = sum(1 for key in keys if key.startswith(f"{prefix}W") and key[len(prefix) + 1:].isdigit())
        g = lambda name, m: [np.ascontiguousarray(z[f"{prefix}{name}{j}"]) for j in range(m)]  # noqa: E731
        return cls(g("W", n_layers), g("V", n_layers), g("Lam", n_layers), g("Z", n_layers - 1),
                   int(z[f"{prefix}k"]))

    def __repr__(self):
        shapes = [w.shape for w in self.W]
        return f"ADMMState(k={self.k}, W shapes={shapes}, n={self.V[0].shape[1]})"


class ADMMProblem:
    """Data and constants of one sigmoid-ADMM run (the engines' common base).

    ``X (n, d)``, ``Y (n, m)`` in the scikit-learn layout; stored transposed.
    """

    name = "admm"

    def __init__(self, act, X, Y, lam, beta, rule, factor):
        self.act = act
        self.X = np.ascontiguousarray(X.T)  # d0 x n
        self.Y = np.ascontiguousarray(Y.T)  # dN x n
        self.n = self.X.shape[1]
        self.lam = float(lam)
        self.beta = np.asarray(beta, dtype=float)
        self.rule = rule
        self.factor = float(factor)
        self.constants = _S.curvature_constants(act) if rule == "theory" else None

    def curvature(self, bmax):
        """LLA curvature from ``||B||_max`` (:func:`solver.admm.steps.curvature_from_bmax`)."""
        return _S.curvature_from_bmax(bmax, self.constants, self.rule, self.factor)

    def initial_state(self, weights):
        """Paper eq. (7): forward pass from ``[(W_i, b_i)]``; zero multipliers."""
        W = [np.ascontiguousarray(np.hstack([w, b[:, None]])) for w, b in weights]
        layers = network_layers(W, self.X, self.act)
        V = [np.array(H, dtype=np.float64, order="C", copy=True) for _, H in layers]
        Z = [np.array(z, dtype=np.float64, order="C", copy=True) for z, _ in layers[:-1]]
        return ADMMState(W, V, [np.zeros_like(v) for v in V], Z, 0)

    def initial_record(self, st):
        """The initial point's norms and ``L_beta`` parts (``trace.meta['initial']``): what the
        first step is checked from (``verify.integrity``: ``| ||X^1|| - ||X^0|| | <= ||DX^1||``)."""
        X, Y = self.X, self.Y
        out = {"normW": [float(np.linalg.norm(w)) for w in st.W],
               "normV": [float(np.linalg.norm(v)) for v in st.V],
               "normLam": [float(np.linalg.norm(m)) for m in st.Lam]}
        out.update(_S.augmented_lagrangian(st.W, st.V, st.Lam, X, Y, self.lam, self.beta, self.act))
        return out

    def refresh(self, st):
        """Recompute the cached ``Z_i = W_i [V_{i-1}; 1]`` after editing ``st.W`` / ``st.V`` by hand."""
        prev = self.X
        for j in range(st.n_layers - 1):
            st.Z[j] = np.ascontiguousarray(st.W[j][:, :-1] @ prev + st.W[j][:, -1:])
            prev = st.V[j]
        return st

    def forward(self, W, X):
        """Network output for inputs ``X`` (features x samples): :func:`solver.core.network_forward`."""
        return network_forward(W, X, self.act)

    @staticmethod
    def criterion(row, track):
        """``kkt_total`` when tracked, else ``sqrt(sum ||F_i||^2 + sum ||V_i^k - V_i^{k-1}||^2)``."""
        if track:
            return row["kkt_total"]
        return float(np.sqrt(np.sum(row["feas"] ** 2) + np.sum(row["dV2"])))

    @staticmethod
    def state_from_arrays(z, prefix):
        return ADMMState.from_arrays(z, prefix)


def data_meta(act, X, Y, weights, lam, beta):
    """The data quantities a run's conditions are derived from, as ``trace.meta`` records them.

    ``a0 = ||[X, 1]||_2`` (the data norm in Lemma 21's ``b``), ``y_norm = ||Y||_F`` and
    ``initial``: the initial point's norms and ``L_beta`` parts (paper eqs. 6-7, see
    :meth:`ADMMProblem.initial_record`), computed in float64 from ``X (n, d)``, ``Y (n, m)`` or
    ``(n,)`` and the initial ``[(W_i, b_i)]``.  Every engine records them (the float64 ones, the
    extended-precision :mod:`solver.admm.extprec` and ``verify.highprec``), so that
    ``verify.Conditions.covers`` can compare a run with the data its conditions were derived for.
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    Y = Y[:, None] if Y.ndim == 1 else Y
    p = ADMMProblem(act, X, Y, lam, np.broadcast_to(np.asarray(beta, float), (len(weights),)), None, 2.0)
    w0 = [(np.asarray(w, float), np.asarray(b, float).reshape(-1)) for w, b in weights]
    return {**data_scale(X, Y), "instance": instance_digest(X, Y, w0),
            "initial": p.initial_record(p.initial_state(w0))}
