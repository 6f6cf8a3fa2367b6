"""The inexact ALM estimator :class:`InexactALM` (scikit-learn style).
"""

from __future__ import annotations

import numpy as np

from .. import _validation as _v
from ..base import LOOP_CONSTRAINTS, LiftedRegressor
from ..params import ParameterError, integer, options, real
from .engine import COMPLEMENTARITY, InexactALMEngine, W_SOLVERS, _leaky_relu
from .schema import INEXACT_ALM_SCHEMA

__all__ = ["InexactALM"]

# ------------------------------------------------------------------ estimator
class InexactALM(LiftedRegressor):
    """Sparse leaky-ReLU nets trained by a safeguarded inexact augmented Lagrangian method.

    A reconstruction of Liu, Liu, Chen (JMLR 2023) from its abstract; see the package
    docstring and docs/methods/inexact_alm.md (every reconstructed choice marked there).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers; the output layer is linear.
    alpha : float in (0, 1)
        Leaky-ReLU slope, ``sigma(t) = max(t, alpha t)``.
    lam : float >= 0 or one per layer (N values)
        Group-lasso weights ``lam_l`` of ``||Wbar_l||_{2,1}`` (columns; bias excluded), against
        the summed loss ``1/2 ||U_N - Y||^2``.
    beta : float > 0
        Weight of the complementarity penalty ``c(U_l, V_l)``.
    complementarity : {"l1", "product"}
        ``sum(V - sigma(U))`` (default) or ``<V - U, V - alpha U>``.  With the inequalities
        only penalised, ``L_rho`` of the product form is unbounded below for every ``rho``
        (along ``(U, V) = t (1, s)``, ``s -> 1^-``: docs/methods/inexact_alm.md#product-form;
        tested), so its inner problems have no minimiser; it is kept to show this.
    rho : float > 0
        Initial penalty ``rho_0``.
    rho_factor : float > 1, rho_max : float
        ``rho <- min(rho_factor rho, rho_max)`` when ``infeas`` did not fall below
        ``progress`` times its previous value (``0 < progress < 1``).
    mult_max : float > 0
        Safeguard: ``Mubar = clip(Mu, -mult_max, mult_max)``, ``Lambar = clip(Lam, 0, mult_max)``.
    eps0, eps_decay, eps_min : float
        Inner tolerance ``eps_k = max(eps_min, eps0 eps_decay^(k-1))`` on ``dist(0, d L_rho)``
        (times ``n_samples`` with ``eps_per_sample``).
    eps_per_sample : bool
        Scale ``eps0`` and ``eps_min`` by the number of training rows (the loss, hence the
        residual, is a sum over samples): the same tolerance per sample whatever ``n``; the
        trace's ``eps`` holds the scaled value [R].
    w_steps, v_steps : int
        Steps per sweep on each W block (``w_solver``, in Gram form: no product with ``n``
        columns) and on each V block (proximal linearised, two products with ``Wbar_{l+1}``) [R].
    w_solver : {"mm", "mfista"}
        The W block's group-lasso steps: majorise-minimise steps, each one Cholesky solve of
        the Gram system, then a proximal-gradient step (default; :meth:`InexactALMEngine.weight_block_mm`),
        or monotone FISTA (the solver before issue 23, slow on an ill-conditioned Gram).
    eliminate_output : bool
        Minimise ``(W_N, U_N)`` jointly (``U_N``'s closed form eliminated from the W_N step;
        default) instead of ``W_N`` then ``U_N`` [R].
    momentum : bool
        Nesterov extrapolation between sweeps with function-value restart (:meth:`InexactALMEngine.inner_solve`) [R].
    inner_max_iter : int
        Cap on the inner sweeps per outer iteration (``inner_res > eps`` in the trace shows it bound).
    track : bool
        Record the KKT stationarity (``2N - 1`` extra products) and the forward-pass gaps.
    init, init_scale, max_iter, tol, random_state, keep_best, callback, verbose, checkpoint,
    checkpoint_every
        As for :class:`solver.ADMM` (``tol``: stop when ``kkt_total <= tol``; with
        ``track=False`` when ``sqrt(inner_res^2 + infeas^2) <= tol``).
    early_stopping, validation_fraction, n_iter_no_change, validation_tol
        As in :class:`solver.ADMM` (early stopping on held-out rows).

    Fitted attributes as for every :class:`solver.base.LiftedRegressor`; ``state_`` is an
    :class:`InexactALMState` (lifted ``U``, ``V``, safeguarded multipliers, ``rho``, ``eps``)
    and ``trace_`` follows :data:`INEXACT_ALM_SCHEMA` (docs/methods/inexact_alm.md#trace-fields).
    """

    _schema = INEXACT_ALM_SCHEMA

    _parameter_constraints = {
        **LOOP_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", integer(1, None)],
        "alpha": [real(0, 1, closed="neither")],
        "lam": [real(0, None), "array-like"],
        "beta": [real(0, None, closed="neither")],
        "complementarity": [options(COMPLEMENTARITY)],
        "rho": [real(0, None, closed="neither")],
        "rho_factor": [real(1, None, closed="neither")],
        "rho_max": [real(0, None, closed="neither")],
        "progress": [real(0, 1, closed="neither")],
        "mult_max": [real(0, None, closed="neither")],
        "eps0": [real(0, None, closed="neither")],
        "eps_decay": [real(0, 1, closed="right")],
        "eps_min": [real(0, None, closed="neither")],
        "eps_per_sample": ["boolean"],
        "inner_max_iter": [integer(1, None)],
        "w_steps": [integer(1, None)],
        "w_solver": [options(W_SOLVERS)],
        "eliminate_output": ["boolean"],
        "v_steps": [integer(1, None)],
        "momentum": ["boolean"],
        "track": ["boolean"],
    }
    _not_settings = LiftedRegressor._not_settings + ("keep_best", "track")

    def __init__(self, *, hidden_layer_sizes=(16,), alpha=0.1, lam=1e-2, beta=0.1,
                 complementarity="l1", rho=10.0, rho_factor=2.0, rho_max=1e8, progress=0.9,
                 mult_max=1e6, eps0=1e-1, eps_decay=0.5, eps_min=1e-7, eps_per_sample=True, inner_max_iter=500,
                 w_steps=3, w_solver="mm", eliminate_output=True, v_steps=1, momentum=True, track=True, init="msra", init_scale=1.0,
                 max_iter=30, tol=0.0, random_state=None,
                 keep_best=False, callback=None, verbose=0, checkpoint=None, checkpoint_every=10,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, validation_tol=1e-4):
        self.hidden_layer_sizes, self.alpha, self.lam, self.beta = hidden_layer_sizes, alpha, lam, beta
        self.complementarity, self.rho, self.rho_factor, self.rho_max = complementarity, rho, rho_factor, rho_max
        self.progress, self.mult_max, self.eps0, self.eps_decay = progress, mult_max, eps0, eps_decay
        self.eps_min, self.inner_max_iter, self.track = eps_min, inner_max_iter, track
        self.eps_per_sample = eps_per_sample
        self.w_steps, self.v_steps, self.momentum = w_steps, v_steps, momentum
        self.w_solver, self.eliminate_output = w_solver, eliminate_output
        self.init, self.init_scale, self.max_iter, self.tol = init, init_scale, max_iter, tol
        self.random_state, self.keep_best, self.callback, self.verbose = random_state, keep_best, callback, verbose
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.n_iter_no_change, self.validation_tol = n_iter_no_change, validation_tol

    def _lam_vector(self, N):
        lam = self.lam
        msg = f"lam: expected a number >= 0 or {N} numbers >= 0 (one per layer: hidden layers then output), got {lam!r}"
        try:
            arr = np.asarray(lam, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("lam", msg) from None
        if arr.ndim == 0:
            arr = np.full(N, float(arr))
        if arr.shape != (N,) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ParameterError("lam", msg)
        return arr

    def _validate_method_params(self, n_outputs):
        hidden = _v.check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        # the bounds that depend on another parameter (the declared constraints hold the rest)
        if self.rho_max < self.rho:
            raise ParameterError("rho_max", f"rho_max: expected a finite number >= rho ({self.rho:g}), "
                                            f"got {self.rho_max!r}")
        if self.eps_min > self.eps0:
            raise ParameterError("eps_min", f"eps_min: expected a number in (0, eps0 = {self.eps0!r}], "
                                            f"got {self.eps_min!r}")
        return {"hidden_layer_sizes": hidden, "activation": _leaky_relu(float(self.alpha)),
                "lam": self._lam_vector(len(hidden) + 1)}

    def _extra_settings(self, p):
        return {"method": "inexact_alm", "activation": p["activation"].name}

    def _make_engine(self, X, Y, p):
        return InexactALMEngine(X, Y, alpha=float(self.alpha), lam=p["lam"], beta=float(self.beta),
                                complementarity=self.complementarity, rho0=float(self.rho),
                                rho_factor=float(self.rho_factor), rho_max=float(self.rho_max),
                                progress=float(self.progress), mult_max=float(self.mult_max),
                                eps0=float(self.eps0), eps_decay=float(self.eps_decay),
                                eps_min=float(self.eps_min), inner_max_iter=int(self.inner_max_iter),
                                eps_per_sample=bool(self.eps_per_sample),
                                w_steps=int(self.w_steps), v_steps=int(self.v_steps),
                                w_solver=self.w_solver, eliminate_output=bool(self.eliminate_output),
                                momentum=bool(self.momentum))

    def _network_activation(self):
        return _leaky_relu(self.alpha)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's score check (R^2 > 0.5 on its 200 x 10 regression set) is not a property
        # of a few outer iterations of this first-order method: measured R^2 0.28 (max_iter=3,
        # inner_max_iter=30) and 0.13 (5, 50) on that set, keep_best included
        tags.regressor_tags.poor_score = True
        return tags
