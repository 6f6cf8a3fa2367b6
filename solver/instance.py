"""The problem instance a run records, whatever the method: its data scale and its digest.

``trace.meta`` holds both from fit time (:meth:`solver.LiftedRegressor.fit`), so that
``verify.Conditions.covers`` can tell whether conditions derived for one instance cover a run.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["data_norm", "data_scale", "instance_digest"]


def data_norm(X) -> float:
    """``a0 = ||[X, 1]||_2`` of ``X (n, d)`` (samples in rows): the data constant of Lemma 21's ``b``."""
    X = np.asarray(X, dtype=float)
    return float(np.linalg.norm(np.hstack([X, np.ones((X.shape[0], 1))]), 2))


def data_scale(X, Y) -> dict:
    """``{"a0": ||[X, 1]||_2, "y_norm": ||Y||_F}``: the data scale ``trace.meta`` records at fit
    time (``verify.Conditions.covers`` compares it with the conditions' data)."""
    return {"a0": data_norm(X), "y_norm": float(np.linalg.norm(np.asarray(Y, dtype=float)))}


def instance_digest(X, Y, weights) -> str:
    """sha256 of the problem instance: the training data ``X (n, d)``, ``Y (n, m)`` (or ``(n,)``)
    and the initial weights ``[(W_i, b_i)]``, each as float64 with its shape.  ``trace.meta``
    records it at fit time (``meta['instance']``) and ``verify.conditions.derive_from_data``
    computes it from its ``X, y, init_weights``: conditions derived for one instance cover runs
    on that instance only (``verify.Conditions.covers``)."""
    h = hashlib.sha256(b"sigadmm-instance-v1")
    Y = np.asarray(Y, dtype=float)
    arrays = [np.asarray(X, dtype=float), Y[:, None] if Y.ndim == 1 else Y]
    for w, b in weights:
        arrays += [np.asarray(w, dtype=float), np.asarray(b, dtype=float).reshape(-1)]
    for a in arrays:
        a = np.ascontiguousarray(a, dtype="<f8")
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
