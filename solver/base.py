"""The scikit-learn estimator that every lifted training method shares.

:class:`LiftedRegressor` is a ``BaseEstimator`` + ``RegressorMixin``; a method subclasses
it with its own keyword-only ``__init__`` (its parameters, scikit-learn style: stored
under their own names, validated in ``fit``), a trace :class:`~solver.trace.Schema`, and
its declared parameters (``_parameter_constraints``, scikit-learn's mechanism, checked by
:meth:`_validate_params` before any work) and two hooks: :meth:`_validate_method_params` and
:meth:`_make_engine`; the run's settings are derived from ``get_params()``.  ``fit`` validates, builds the engine and calls the shared loop
:func:`solver.core.solve`, which gives every method checkpoint/resume, Ctrl-C, the
progress bar, the callback, the non-finite stop and ``keep_best``.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, is_classifier
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _validation as _v
from .params import ParameterError, integer, options, real, settings_value, validate_params
from .instance import data_scale, instance_digest
from .core import Validation, fingerprint, network_forward, solve
from .init import INITS, init_weights as _init_weights
from .trace import Schema, Trace

__all__ = ["LiftedRegressor", "LOOP_CONSTRAINTS", "EARLY_STOPPING_DEFAULTS"]

#: the declared parameters every method has (the loop's); a method's
#: ``_parameter_constraints`` is ``{**LOOP_CONSTRAINTS, ...its own}``
LOOP_CONSTRAINTS = {
    "max_iter": [integer(1, None)],
    "tol": [real(0, None)],
    "random_state": [integer(0, None), None],
    "keep_best": ["boolean"],
    "callback": [callable, None],
    "verbose": ["verbose"],
    "checkpoint": [str, os.PathLike, None],
    "checkpoint_every": [integer(1, None)],
    "init": [options(INITS), None],
    "init_scale": [real(0, None, closed="neither")],
    # early stopping on held-out data (scikit-learn's MLP meanings; ``tol`` is taken: see
    # :meth:`LiftedRegressor.fit`, the improvement threshold is ``validation_tol``)
    "early_stopping": ["boolean"],
    "validation_fraction": [real(0, 1, closed="neither")],
    "n_iter_no_change": [integer(1, None)],
    "validation_tol": [real(0, None)],
}
#: the early-stopping parameters (:data:`LOOP_CONSTRAINTS`), with scikit-learn's defaults
#: (``validation_tol`` is ``MLPRegressor``'s ``tol``)
EARLY_STOPPING_DEFAULTS = {"early_stopping": False, "validation_fraction": 0.1, "n_iter_no_change": 10,
                           "validation_tol": 1e-4}
#: the loop's parameters (every method has them)
LOOP_PARAMS = ("max_iter", "tol", "random_state", "keep_best", "callback", "verbose",
               "checkpoint", "checkpoint_every") + tuple(EARLY_STOPPING_DEFAULTS)


class LiftedRegressor(RegressorMixin, BaseEstimator):
    """Base of the lifted-variable regressors (see the module docstring).

    Fitted attributes (set by :meth:`fit`): ``weights_`` (``[(W_i, b_i)]``, ``W_i`` of
    shape ``(d_i, d_{i-1})``), ``state_``, ``trace_``, ``result_``
    (:class:`solver.core.SolverResult`), ``n_iter_``, ``converged_``, ``best_iter_``,
    ``best_train_mse_``, ``init_train_mse_``, ``n_features_in_``, ``n_outputs_``; early
    stopping's ``validation_scores_``, ``best_validation_score_``, ``best_validation_iter_``
    and ``validation_indices_`` (rows of ``X`` held out), all ``None`` without it.
    """

    #: the trace schema of the method (a :class:`solver.trace.Schema`)
    _schema: Schema | None = None

    #: parameter name -> constraints (scikit-learn's vocabulary; :mod:`solver.params`)
    _parameter_constraints: dict = {}

    #: parameters that are not settings of the run: how it is watched, saved or threaded,
    #: not what it computes (they stay out of the trace meta and the checkpoint identity)
    _not_settings: tuple[str, ...] = ("callback", "verbose", "checkpoint", "checkpoint_every", "n_threads")

    #: settings named otherwise than their parameter (the checkpoints' names since the first release)
    _setting_names = {"random_state": "seed"}

    # ------------------------------------------------------------- hooks
    def _validate_method_params(self, n_outputs):
        """What the declared constraints cannot say (one value per layer, a bound that
        depends on another parameter, the activation); returns a dict the other hooks
        receive, with ``hidden_layer_sizes`` (tuple of int) and ``activation``."""
        raise NotImplementedError

    def _make_engine(self, X, Y, params):
        """The method's :class:`solver.core.Engine` on data ``X (n, d)``, ``Y (n, m)``."""
        raise NotImplementedError

    def _extra_settings(self, params):
        """Settings beyond the parameters (derived values such as ``n_layers``)."""
        return {}

    def _settings(self, params):
        """The JSON-serialisable settings of the run (trace ``meta`` and checkpoint identity):
        every parameter of ``get_params()`` not in ``_not_settings``, its validated value
        from ``params`` where there is one (an activation by its name), typed as declared
        (:func:`solver.params.settings_value`), plus :meth:`_extra_settings`."""
        out = {}
        for name, value in self.get_params(deep=False).items():
            if name in self._not_settings:
                continue
            value = params.get(name, value)
            if name == "activation":
                value = value.name
            out[self._setting_names.get(name, name)] = settings_value(
                value, self._parameter_constraints.get(name, ()))
        out.update(self._extra_settings(params))
        return out

    def _initial_weights(self, widths, params):
        """The initial ``[(W_i, b_i)]`` when ``fit`` is given none (default: ``init``/``init_scale``)."""
        return _init_weights(widths, self.init, self.init_scale, self.random_state)

    # ------------------------------------------------------------ validation
    def _validate_params(self):
        """Every parameter against ``_parameter_constraints`` (a
        :class:`solver.ParameterError` naming the first bad one)."""
        validate_params(self)

    def check_params(self, n_features: int, n_outputs: int) -> dict:
        """Every check :meth:`fit` makes on the parameters before it touches data or files:
        the declared constraints, the method's own (:meth:`_validate_method_params`) and the
        initialisation (the scheme's name, by drawing the initial weights of the widths
        ``(n_features, *hidden_layer_sizes, n_outputs)``).  Raises what ``fit`` would raise;
        returns the validated parameters.  For a caller that must refuse bad input before it
        creates anything (the command line's output folders)."""
        self._validate_params()
        params = self._validate_method_params(int(n_outputs))
        widths = (int(n_features),) + tuple(params["hidden_layer_sizes"]) + (int(n_outputs),)
        self._initial_weights(widths, params)
        return params

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, X_test=None, y_test=None, init_weights=None, resume=False):
        """Train from the initial point (or resume from ``checkpoint``).

        Parameters
        ----------
        X : array (n_samples, n_features)
        y : array (n_samples,) or (n_samples, n_outputs)
        X_test, y_test : optional test data; its MSE is recorded every iteration.
        init_weights : list of (W_i, b_i), optional
            Explicit initial weights, ``W_i`` of shape ``(d_i, d_{i-1})``, ``b_i`` ``(d_i,)``.
        resume : bool
            Continue from ``checkpoint`` (which must exist and match the data and settings).

        Returns
        -------
        self

        Notes
        -----
        Early stopping (``early_stopping=True``) is scikit-learn's ``MLPRegressor`` /
        ``MLPClassifier`` one: ``validation_fraction`` of the rows (stratified by class for a
        classifier, drawn with ``random_state``) are held out of training; after every
        iteration the network's score on them (R^2 for a regressor, accuracy for a
        classifier: :meth:`_validation_score`) is recorded in the trace field ``val_score``;
        the run stops once the score has not risen by at least ``validation_tol`` for more
        than ``n_iter_no_change`` iterations in a row, and ``weights_`` are those of the
        iteration of the best score (``best_validation_iter_``).  The improvement threshold
        is ``validation_tol``, not ``tol``: ``tol`` already is the threshold of each method's
        own stopping criterion (stop when it is ``<= tol``).  ``keep_best`` (smallest
        training error) still sets ``best_iter_``; the returned weights follow the
        validation score when both are on.
        """
        self._validate_params()
        X, Y, y1d = _v.check_Xy(X, y, "X", "y")       # errors that name the argument
        validate_data(self, X, Y[:, 0] if y1d else Y, multi_output=True, y_numeric=True)  # n_features_in_
        params = self._validate_method_params(Y.shape[1])
        early = bool(getattr(self, "early_stopping", False))
        validation, self.validation_indices_ = None, None
        if early:
            if resume:
                raise ValueError("resume: a run with early_stopping=True keeps its best validated "
                                 "weights in memory only and cannot be resumed; expected resume=False")
            train_rows, val_rows = self._validation_split(Y)
            Xv, Yv = np.ascontiguousarray(X[val_rows].T), np.ascontiguousarray(Y[val_rows].T)
            X, Y = X[train_rows], Y[train_rows]
            self.validation_indices_ = val_rows
            validation = Validation(Xv, Yv, self._validation_score, int(self.n_iter_no_change),
                                    float(self.validation_tol))
        Xt_T = Yt_T = None
        if (X_test is None) != (y_test is None):
            raise ValueError("X_test, y_test: expected both or neither")
        if X_test is not None:
            Xt, Yt, _ = _v.check_Xy(X_test, y_test, "X_test", "y_test", X.shape[1], Y.shape[1])
            Xt_T, Yt_T = np.ascontiguousarray(Xt.T), np.ascontiguousarray(Yt.T)
        widths = (X.shape[1],) + params["hidden_layer_sizes"] + (Y.shape[1],)
        explicit = init_weights is not None
        w0 = (_v.check_init_weights(init_weights, widths) if explicit
              else self._initial_weights(widths, params))
        if resume and self.checkpoint is None:
            raise ValueError(f"resume: expected a checkpoint path to be set "
                             f"({type(self).__name__}(checkpoint=...))")

        meta = self._settings(params)
        meta.update({"widths": list(widths), "n_samples": int(X.shape[0]),
                     "n_test": 0 if Xt_T is None else int(Xt_T.shape[1])})
        if early:
            meta["n_validation"] = int(validation.X.shape[1])
        if explicit:
            meta["init"] = "explicit"
        # the early-stopping settings change nothing when it is off: they stay out of the
        # identity then (checkpoints written before they existed still resume)
        ignored = ("max_iter", "tol") + (() if early else tuple(EARLY_STOPPING_DEFAULTS))
        identity = {k: v for k, v in meta.items() if k not in ignored}
        fp = fingerprint([X, Y] + [a for pair in w0 for a in pair], identity)
        meta["fingerprint"] = fp
        engine = self._make_engine(X, Y, params)
        meta["engine_used"] = engine.name
        # the data quantities conditions are derived from (verify.Conditions.covers compares them):
        # a0 = ||[X; 1]||_2 (Lemma 21's b) and ||Y||_F; outside the fingerprint and the arrays
        meta.update(data_scale(X, Y))
        meta["instance"] = instance_digest(X, Y, w0)     # the data and initial weights (covers)
        # meta['initial'] is recorded by solver.core.solve (engine.initial_record)
        trace = Trace.empty(len(widths) - 1, int(self.max_iter), meta, schema=self._schema)
        res = solve(engine, w0, trace, max_iter=int(self.max_iter), tol=float(self.tol),
                    track=bool(getattr(self, "track", True)), keep_best=bool(self.keep_best),
                    callback=self.callback, verbose=int(self.verbose), checkpoint=self.checkpoint,
                    checkpoint_every=int(self.checkpoint_every), resume=bool(resume), fingerprint=fp,
                    X_test=Xt_T, Y_test=Yt_T, desc=type(self).__name__, validation=validation)

        self._y1d = y1d
        self.n_outputs_ = Y.shape[1]
        self.init_train_mse_ = res.init_train_mse
        self.trace_ = res.trace
        self.state_ = res.state
        self.result_ = res
        self.n_iter_ = res.nit
        self.converged_ = bool(res.success)
        self.best_iter_, self.best_train_mse_ = res.best_iter, res.best_train_mse
        self.weights_ = [(np.ascontiguousarray(w[:, :-1]), w[:, -1].copy()) for w in res.x]
        self.validation_scores_ = (np.array(res.trace.val_score, dtype=float) if early else None)
        self.best_validation_score_ = res.best_validation_score if early else None
        self.best_validation_iter_ = res.best_validation_iter if early else None
        return self

    def _validation_split(self, Y):
        """Row indices ``(train, validation)`` of the early-stopping split (each sorted):
        ``ceil(validation_fraction * n)`` rows drawn with ``random_state``, as in
        scikit-learn's MLP; for a classifier stratified by the class (the argmax of the
        one-hot ``Y``) and at least one row per class, when every class has two rows (else
        a plain split: scikit-learn would refuse the data)."""
        rows, frac = np.arange(Y.shape[0]), float(self.validation_fraction)
        strat, size = None, frac
        if is_classifier(self):
            labels = Y.argmax(axis=1)
            _, counts = np.unique(labels, return_counts=True)
            if counts.min() >= 2:   # a stratified split needs two rows of every class and
                strat = labels      # at least one validation row per class
                size = max(int(np.ceil(frac * rows.size)), counts.size)
        try:
            tr, va = train_test_split(rows, test_size=size, random_state=self.random_state, stratify=strat)
        except ValueError as exc:
            raise ParameterError("validation_fraction", f"validation_fraction: expected a fraction that "
                                 f"leaves training and validation rows{' of every class' if strat is not None else ''} "
                                 f"among the {Y.shape[0]} samples, got {self.validation_fraction!r} ({exc})") from None
        return np.sort(tr), np.sort(va)

    def _validation_score(self, out, Y):
        """The early-stopping score of network outputs ``out`` against ``Y`` (both outputs x
        samples; larger is better): R^2 (scikit-learn's ``r2_score``, outputs averaged) as
        ``MLPRegressor``; a classifier overrides it with the accuracy."""
        return float(r2_score(Y.T, out.T))

    # -------------------------------------------------------------- predict
    def _network_activation(self):
        """The hidden layers' activation as an elementwise callable (for :meth:`predict`);
        deferred import as in :func:`solver.admm._activation`."""
        from theory.activations import get_activation  # noqa: PLC0415 - as solver.admm._activation

        return get_activation(self.activation, "activation")

    def predict(self, X):
        """Network output ``W_N [sigma(... sigma(W_1 x + b_1) ...); 1]`` for rows of ``X``."""
        check_is_fitted(self, "weights_")
        X = _v.check_array(X, "X", ndim=(2,))
        validate_data(self, X, reset=False)  # "X has d features, but ... is expecting d'"
        W = [np.hstack([w, b[:, None]]) for w, b in self.weights_]
        out = network_forward(W, np.ascontiguousarray(X.T), self._network_activation()).T
        return out[:, 0] if self._y1d else out

    def mse(self, X, y):
        """Mean squared error of :meth:`predict` (the paper's measure)."""
        check_is_fitted(self, "weights_")
        X, Y, _ = _v.check_Xy(X, y, "X", "y", self.n_features_in_, self.n_outputs_)
        return float(np.mean((self.predict(X).reshape(Y.shape) - Y) ** 2))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True       # one output unit per column of y
        tags.target_tags.single_output = True
        tags.non_deterministic = False             # the same random_state gives the same fit
        # At the paper's default penalty (beta = 1) a lifted method's *last* iterate need not
        # fit well: the train error reaches its minimum early and then drifts (docs/solver.md,
        # "Drift after the early minimum"); the paper reports the best iterate.  With
        # keep_best=True the estimator returns that iterate and meets scikit-learn's score
        # check; without it the check's R^2 > 0.5 is not a property of the method.
        tags.regressor_tags.poor_score = not bool(getattr(self, "keep_best", False))
        return tags
