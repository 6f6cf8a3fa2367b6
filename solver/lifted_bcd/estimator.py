"""The lifted BCD estimator :class:`LiftedBCD` (scikit-learn style).
"""

from __future__ import annotations

import numpy as np

from .. import _validation as _v
from ..base import LOOP_CONSTRAINTS, LiftedRegressor
from ..elementwise import relu_f
from ..params import ParameterError, integer, options, real
from .engine import LiftedBCDEngine
from .schema import LIFTED_BCD_SCHEMA
from .steps import THETA_RULES

__all__ = ["LiftedBCD"]

# ----------------------------------------------------------------- estimator
def _per_layer(value, n, name, what):
    """A positive scalar or ``n`` positive values, as a float array of length ``n``."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise ParameterError(name, f"{name}: expected a positive number or {n} positive numbers ({what}), got {value!r}")
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(name, f"{name}: expected a positive number or {n} positive numbers ({what}), "
                         f"got {value!r}") from None
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ParameterError(name, f"{name}: expected a scalar or {n} values ({what}), got {a.size} values")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError(name, f"{name}: expected positive finite values, got {a.tolist()}")
    return a


class LiftedBCD(LiftedRegressor):
    """ReLU nets trained by lifted block coordinate descent (Zhang and Brand 2017), traced.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the ReLU hidden layers; the output layer is linear.
    gamma : float or sequence of float
        Coupling weights ``gamma_n > 0``, one value or one per hidden layer.
    lam : float or sequence of float
        Weight decay ``lambda_n > 0`` (Tikhonov), one value or one per layer (hidden then
        output); positive so that every W-step is a well-posed ridge problem.
    theta : {"constant", "inverse_square", "geometric"}
        Relaxation ``theta_t``: 1 (plain BCD, the default), ``1/t^2`` or ``theta_rate^(t-1)``
        (both summable: they cap all later movement, ``1/t^2`` to a factor 1/2 after
        ``t = 1``, and froze the iterates in our runs; docs/methods/lifted_bcd.md).
    theta_rate : float
        Ratio ``q`` in ``(0, 1)`` of the geometric schedule.
    inner_tol : float
        The U-step stops when its natural residual ``||min(U, grad_U f)||`` falls to
        ``inner_tol`` times its value at the warm start (or to its rounding floor).
    inner_max_iter : int
        Most iterations of the U-step's inner solver.
    init, init_scale : the initial weights (:data:`solver.init.INITS`), when ``fit`` gets none.
    max_iter, tol : iterations; stop when the stationarity residual is ``<= tol`` (0: never).
    random_state, track, keep_best, callback, verbose, checkpoint, checkpoint_every :
        As in :class:`solver.ADMM`.  ``track=False`` skips the W-gradients (the
        stationarity residual then has only its U part).
    early_stopping, validation_fraction, n_iter_no_change, validation_tol :
        As in :class:`solver.ADMM` (early stopping on held-out rows).
    n_threads : int or None
        None: numpy's BLAS keeps its own thread count; k: held to k threads during an
        iteration.  The inner solver makes many small products: on a loaded 2-core machine
        two OpenBLAS threads made a 50 x 500 product ~80x slower than one
        (docs/methods/lifted_bcd.md, "Cost"), so ``n_threads=1`` is the steady choice there.

    Classification: fit one-hot targets (squared loss on one-hot targets, a
    reconstruction) and take the arg-max of :meth:`predict`.
    """

    _schema = LIFTED_BCD_SCHEMA

    _parameter_constraints = {
        **LOOP_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", integer(1, None)],
        "gamma": [real(0, None, closed="neither"), "array-like"],
        "lam": [real(0, None, closed="neither"), "array-like"],
        "theta": [options(THETA_RULES)],
        "theta_rate": [real(0, 1, closed="neither")],
        "inner_tol": [real(0, 1, closed="left")],
        "inner_max_iter": [integer(1, None)],
        "track": ["boolean"],
        "n_threads": [integer(1, None), None],
    }

    def __init__(self, *, hidden_layer_sizes=(100,), gamma=1.0, lam=1e-3, theta="constant",
                 theta_rate=0.5, inner_tol=1e-6, inner_max_iter=500, init="msra", init_scale=1.0,
                 max_iter=100, tol=0.0, random_state=None, track=True, keep_best=False, callback=None,
                 verbose=0, checkpoint=None, checkpoint_every=10, n_threads=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, validation_tol=1e-4):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.gamma = gamma
        self.lam = lam
        self.theta = theta
        self.theta_rate = theta_rate
        self.inner_tol = inner_tol
        self.inner_max_iter = inner_max_iter
        self.init = init
        self.init_scale = init_scale
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.track = track
        self.keep_best = keep_best
        self.callback = callback
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.n_iter_no_change, self.validation_tol = n_iter_no_change, validation_tol
        self.n_threads = n_threads

    def _validate_method_params(self, n_outputs):
        from theory.activations import relu  # noqa: PLC0415 - theory's sympy load paid at fit, not at import

        hidden = _v.check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        N = len(hidden)
        gamma = _per_layer(self.gamma, N, "gamma", "one per hidden layer")
        lam = _per_layer(self.lam, N + 1, "lam", "one per layer: hidden layers then output")
        return {"hidden_layer_sizes": hidden, "activation": relu, "gamma": gamma, "lam": lam}

    def _extra_settings(self, p):
        return {"method": "lifted_bcd", "activation": "relu", "n_layers": len(p["hidden_layer_sizes"]) + 1}

    def _make_engine(self, X, Y, p):
        return LiftedBCDEngine(X, Y, p["gamma"], p["lam"], theta=self.theta, theta_rate=self.theta_rate,
                               inner_tol=self.inner_tol, inner_max_iter=self.inner_max_iter,
                               threads=self.n_threads)

    def _network_activation(self):
        return relu_f
