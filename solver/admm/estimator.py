"""The sigmoid-ADMM estimator (paper Algorithm 1; docs/algorithm.md), scikit-learn style.

>>> from solver import ADMM, tasks
>>> X, y, Xt, yt = tasks.square(n=1000, seed=0)
>>> model = ADMM(hidden_layer_sizes=(100, 100), init_scale=8, max_iter=50,
...              random_state=0).fit(X, y, X_test=Xt, y_test=yt)
>>> model.trace_.train_mse.min() < 1e-7
True
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import HasMethods

from .. import _validation as _v
from ..params import ParameterError, integer, options, real
from ..base import LOOP_CONSTRAINTS, LiftedRegressor
from ..core import NonFiniteWarning, SolverResult
from .defaults import ADMM_DEFAULTS as _D
from .engine import FastEngine
from .problem import ADMMState
from .reference import ReferenceEngine
from .steps import CURVATURE_RULES
from .schema import ADMM_SCHEMA

__all__ = ["ADMM", "ADMMResult", "ADMMState", "NonFiniteWarning", "ENGINES"]

#: the implementations of the iteration: compiled kernels, their numpy twins, the transcription
ENGINES = ("numba", "numpy", "reference")


def _activation(spec):
    """The :class:`theory.Activation` named or given by ``spec``.

    ``theory.activations`` is imported here, on first use, not when ``solver`` is imported:
    it builds the activations' exact constants in sympy, and sympy loads python-flint as its
    ground types when that is installed; ``import solver`` stays free of both (a downward,
    start-up-time deferral: ``theory`` never imports ``solver``).
    """
    from theory.activations import get_activation  # noqa: PLC0415 - import time, see the docstring

    return get_activation(spec, "activation")


def _check_assumption_1(act):
    """Refuse, before any work, an activation outside the solver's Assumption 1.

    The LLA steps need sigma twice continuously differentiable, nonlinear, and sigma,
    sigma', sigma'' bounded (the constants ``L_0, L_1, L_2`` of the curvature rule,
    docs/algorithm.md#activation-constants).  Each failure names the assumption.
    """
    try:
        act.require_smooth("activation")
    except ValueError as exc:
        raise ParameterError("activation", str(exc)) from None
    lo, hi = act.limits
    if not (lo.is_finite and hi.is_finite):
        raise ParameterError("activation", f"activation: Assumption 1 needs a bounded activation (finite limits at "
                         f"-oo and +oo), got {act.name!r} = {act.expr} with limits ({lo}, {hi})")
    for k in (0, 1, 2):
        try:
            L = float(act.L(k))
        except (ArithmeticError, ValueError, TypeError, AttributeError) as exc:
            raise ParameterError("activation", f"activation: could not bound sup |sigma^({k})| of {act.name!r} = "
                             f"{act.expr} (Assumption 1 needs it finite): {exc}") from None
        if not np.isfinite(L):
            raise ParameterError("activation", f"activation: Assumption 1 needs sup |sigma^({k})| finite, got {L} "
                             f"for {act.name!r} = {act.expr}")


class ADMMResult(SolverResult):
    """Outcome of :meth:`ADMM.fit` (:class:`solver.core.SolverResult`, with ``kkt_total``)."""


class ADMM(LiftedRegressor):
    """Deep sigmoid nets trained by the paper's ADMM, every quantity of its proof tracked.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers (depth = its length >= 1); the output layer is linear.
    activation : str or theory.Activation
        Any smooth activation (Assumption 1): "sigmoid", "tanh", "gauss_cdf", "arctan", or
        an :class:`theory.Activation` (compiled kernels for the built-ins).
    lam : float
        Weight decay ``lambda >= 0`` (paper eq. 6).
    beta : float or sequence of float
        Penalty ``beta_i > 0``, one value or one per layer (hidden layers then output).
    curvature : {"theory", "reference"}
        LLA curvature rule (:func:`solver.admm.steps.curvature_from_bmax`):
        ``curvature_factor * (L_1^2 + L_2 (L_0 + ||B||_max))`` (a majoriser; the paper's
        eq. 18 uses factor 2) or the authors' demo ``||B||_max / 2``.
    curvature_factor : float
        Factor of the theory rule (>= 1 keeps the majorisation).
    init : str
        One of the paper's six schemes (:data:`solver.init.INITS`); ignored when
        ``init_weights`` is passed to :meth:`fit`.
    init_scale : float
        Multiplies the initial weights (the authors use 8 for inputs in [-1, 1]).
    max_iter : int
    tol : float
        Stop when ``kkt_total <= tol`` (with ``track=False``: when
        ``sqrt(sum ||F_i||^2 + sum ||V_i^k - V_i^{k-1}||^2) <= tol``); 0 runs all iterations.
    random_state : int or None
        Seed of the random initialisation (the same seed gives the same trace, bit for bit).
    track : bool
        Compute the KKT residuals (paper eq. 24) every iteration.  The Lagrangian parts,
        steps, feasibility and norms are always recorded.
    keep_best : bool
        Set ``weights_`` to the iterate with the smallest train MSE (the train error is not
        monotone along ADMM iterations; the authors' code reports the best) instead of the
        last one.
    early_stopping, validation_fraction, n_iter_no_change, validation_tol :
        Early stopping on held-out rows, scikit-learn's MLP rule (defaults False, 0.1, 10,
        1e-4; ``validation_tol`` is MLP's ``tol``, ours being taken): the returned weights
        are those of the best validation score (:meth:`solver.base.LiftedRegressor.fit`).
    callback : callable or None
        ``callback(intermediate_result)`` after every iteration (SciPy's convention, see
        :func:`solver.core.solve`); returning True or raising ``StopIteration`` stops.
    verbose : int
        0: silent; >= 1: a progress bar (iteration, train error, stopping criterion).
    checkpoint : str, Path or None
        File (``.npz``) where the state and trace are saved every ``checkpoint_every``
        iterations and at the end; ``fit(..., resume=True)`` continues from it, giving the
        same iterates bit for bit as an uninterrupted run.
    checkpoint_every : int
    engine : {"numba", "numpy", "reference"}
        "numba": compiled kernels (numpy kernels for an activation outside the registry of
        :mod:`solver.activation_kernels`); "numpy": the same algorithm with numpy
        elementwise kernels; "reference": the plain transcription in :mod:`solver.admm.steps`.
    n_threads : int or None
        None (default): the kernels run on one thread and numpy's BLAS keeps its own thread
        count; 1: numpy's BLAS is also held to one thread during an iteration (the steady
        choice on a shared machine); k > 1: BLAS on k threads and the ``parallel=True``
        kernel twins on k numba threads (compiled on first use).  docs/solver.md, "Both
        cores", has the measurements.

    Attributes
    ----------
    weights_ : list of (W_i, b_i)
        ``W_i`` of shape ``(d_i, d_{i-1})`` (output x input), ``b_i`` of shape ``(d_i,)``.
    state_ : ADMMState
        Final ``W, V, Lam`` blocks (and cached pre-activations).
    trace_ : Trace
    result_ : ADMMResult
    n_iter_, converged_, best_iter_, best_train_mse_, init_train_mse_ :
        See :class:`solver.base.LiftedRegressor`.
    """

    _schema = ADMM_SCHEMA

    _parameter_constraints = {
        **LOOP_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", integer(1, None)],
        "activation": [str, HasMethods(["derivative", "bound"])],
        "lam": [real(0, None)],
        "beta": [real(0, None, closed="neither"), "array-like"],
        "curvature": [options(CURVATURE_RULES)],
        "curvature_factor": [real(0, None, closed="neither")],
        "track": ["boolean"],
        "engine": [options(ENGINES)],
        "n_threads": [integer(1, None), None],
    }

    def __init__(self, *, hidden_layer_sizes=(100, 100), activation="sigmoid", lam=_D["lam"],
                 beta=_D["beta"], curvature=_D["curvature"], curvature_factor=_D["curvature_factor"],
                 init=_D["init"], init_scale=1.0, max_iter=500, tol=0.0, random_state=None, track=True,
                 keep_best=False, callback=None, verbose=0, checkpoint=None, checkpoint_every=50,
                 engine="numba", n_threads=None, early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, validation_tol=1e-4):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.lam = lam
        self.beta = beta
        self.curvature = curvature
        self.curvature_factor = curvature_factor
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
        self.engine = engine
        self.n_threads = n_threads
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.n_iter_no_change, self.validation_tol = n_iter_no_change, validation_tol

    def _validate_method_params(self, n_outputs):
        hidden = _v.check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        try:
            act = _activation(self.activation)
        except ValueError as exc:
            raise ParameterError("activation", str(exc)) from None
        _check_assumption_1(act)
        beta = _v.check_beta(self.beta, len(hidden) + 1)
        return {"hidden_layer_sizes": hidden, "activation": act, "lam": float(self.lam), "beta": beta}

    def _extra_settings(self, p):
        # the keys (and "seed") are those of the checkpoints' identity since the first release
        return {"activation_expr": str(p["activation"].expr), "n_layers": len(p["hidden_layer_sizes"]) + 1}

    def _make_engine(self, X, Y, p):
        args = (p["activation"], X, Y, p["lam"], p["beta"], self.curvature, self.curvature_factor)
        if self.engine == "reference":
            return ReferenceEngine(*args)
        return FastEngine(*args, use_numba=self.engine == "numba", threads=self.n_threads)

    def fit(self, X, y, *, X_test=None, y_test=None, init_weights=None, resume=False):
        super().fit(X, y, X_test=X_test, y_test=y_test, init_weights=init_weights, resume=resume)
        self.result_ = ADMMResult(self.result_)
        return self

    fit.__doc__ = LiftedRegressor.fit.__doc__
