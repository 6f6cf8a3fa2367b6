"""The reference engine: Algorithm 1 through the plain numpy steps of :mod:`solver.admm.steps`.

Slow and obviously correct: each iteration is :func:`solver.admm.steps.admm_iteration`, and
every trace field is computed from scratch from the new iterate.  The compiled engine
(:class:`solver.admm.engine.FastEngine`) is tested against it.
"""

from __future__ import annotations

import numpy as np

from . import steps as _S
from .._blas_threads import scipy_blas_one_thread
from .problem import ADMMProblem

__all__ = ["ReferenceEngine"]


class ReferenceEngine(ADMMProblem):
    """Plain numpy transcription (:mod:`solver.admm.steps`); slow, obviously correct."""

    name = "reference"

    def iterate(self, st, row, *, track=True, train=True):
        """One iteration of Algorithm 1 on ``st`` (replaced in place), filling ``row``."""
        with scipy_blas_one_thread():  # steps.py solves in scipy's BLAS, products in numpy's
            self._iterate(st, row, track, train)

    def _iterate(self, st, row, track, train):
        X, Y, act, N = self.X, self.Y, self.act, st.n_layers
        W, V, Lam, cW, cV = _S.admm_iteration(st.W, st.V, st.Lam, X, Y, self.lam, self.beta, act,
                                              self.rule, self.factor)
        row["curvature"], row["curvature_V"] = cW, cV
        for j in range(N):
            row["dW2"][j] = np.sum((W[j] - st.W[j]) ** 2)
            row["dV2"][j] = np.sum((V[j] - st.V[j]) ** 2)
            row["dLam2"][j] = np.sum((Lam[j] - st.Lam[j]) ** 2) / self.beta[j]
        F = _S.constraint_residuals(W, V, X, act)
        row["feas"][:] = [np.linalg.norm(f) for f in F]
        row["normW"][:] = [np.linalg.norm(w) for w in W]
        row["normV"][:] = [np.linalg.norm(v) for v in V]
        row["normLam"][:] = [np.linalg.norm(v) for v in Lam]
        row.update(_S.augmented_lagrangian(W, V, Lam, X, Y, self.lam, self.beta, act))
        if track:
            row["kkt"][:] = [np.linalg.norm(r) for r in _S.kkt_residuals(W, V, Lam, X, Y, self.lam, act)]
            row["kkt_total"] = float(np.sqrt(np.sum(row["kkt"] ** 2) + np.sum(row["feas"] ** 2)))
        if train:
            row["train_mse"] = float(np.mean((_S.forward(W, X, act) - Y) ** 2))
        Z, prev = [], X
        for j in range(N - 1):
            Z.append(W[j] @ _S.augment(prev))
            prev = V[j]
        st.W, st.V, st.Lam, st.Z = W, V, Lam, Z
        st.k += 1
