"""The dlADMM estimators :class:`DLADMM` and :class:`DLADMMClassifier` (scikit-learn style).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._validation import check_Xy, check_array, check_positive_int_tuple
from ..base import EARLY_STOPPING_DEFAULTS, LOOP_CONSTRAINTS, LiftedRegressor
from ..elementwise import NUMPY_KERNELS, kernels_for
from ..params import integer, keyword_init, options, real
from .engine import DLADMMEngine
from .schema import DLADMM_SCHEMA
from .steps import LOSS_H, softmax

__all__ = ["DLADMM", "DLADMMClassifier"]

# ------------------------------------------------------------------------ estimator
#: the parameters of :class:`DLADMM` and :class:`DLADMMClassifier` (the classifier without
#: ``loss``), with their defaults: written once, the two ``__init__`` are made from it
DLADMM_DEFAULTS = {
    "hidden_layer_sizes": (100, 100), "activation": "relu", "loss": "squared", "rho": 1e-6, "nu": None,
    "tau": 1.0, "theta": 1.0, "adapt": True, "adapt_width": 100, "adapt_factor": 10.0, "rho_max": 0.1,
    "output_init": "forward", "zl_mode": "authors", "zl_max_iter": 500, "zl_tol": 1e-3, "zl_step": 4.0,
    "zl_rtol": 1e-12, "prox_z": 0.0, "step_rule": "closed_form", "kernels": "numba", "init": None, "init_scale": 0.1,
    "max_iter": 100, "tol": 0.0, "track": True, "random_state": None, "keep_best": False, "callback": None,
    "verbose": 0, "checkpoint": None, "checkpoint_every": 50, **EARLY_STOPPING_DEFAULTS,
}

_POS = real(0, None, closed="neither")
#: their declared constraints
DLADMM_CONSTRAINTS = {
    **LOOP_CONSTRAINTS,
    "hidden_layer_sizes": ["array-like", integer(1, None)],
    "activation": [options(NUMPY_KERNELS)],
    "loss": [options(LOSS_H)],
    **{name: [_POS] for name in ("rho", "tau", "theta", "zl_tol", "zl_step", "zl_rtol", "rho_max",
                                 "adapt_factor")},
    "nu": [_POS, None],
    "prox_z": [real(0, None)],
    "adapt": ["boolean"], "track": ["boolean"],
    "adapt_width": [integer(0, None)],
    "zl_max_iter": [integer(1, None)],
    "output_init": [options({"forward", "authors"})],
    "zl_mode": [options({"authors", "exact", "newton"})],
    "kernels": [options({"numba", "numpy"})],
    "step_rule": [options({"closed_form", "backtracking"})],
}


class DLADMM(LiftedRegressor):
    """dlADMM (Wang, Yu, Chen, Zhao, KDD 2019) as a scikit-learn regressor (docs/methods/dladmm.md).

    Every parameter is keyword-only.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
    activation : {"relu", "sigmoid", "tanh"}
        Hidden activation ``f``; ReLU is the authors' (its z step is exact per entry).
    loss : {"squared", "cross_entropy"}
        ``1/2 ||z_L - Y||^2`` or the softmax cross-entropy summed over samples (one-hot ``y``).
    rho, nu : float
        Penalties; ``nu=None`` ties ``nu`` to ``rho`` as in the authors' code.  Defaults 1e-6.
    tau, theta : float
        Starting constants of the a and W steps (default 1).
    adapt : bool
        The authors' adaptive rule (see :meth:`DLADMMEngine.adaptive_rule`); ``adapt_width``
        (default 100), ``adapt_factor`` (10), ``rho_max`` (0.1) its constants.
    output_init : {"forward", "authors"}
        ``z_L`` at the start: the forward pass, or ``2Y - 1`` as in the authors' code.
    zl_mode : {"authors", "exact", "newton"}
        Cross-entropy ``z_L`` step: the authors' FISTA (``zl_max_iter`` 500, ``zl_tol`` 1e-3
        absolute on the summed objective, step ``zl_step`` 4), or solved to ``zl_rtol`` by
        accelerated proximal gradient (``"exact"``) or by Newton's method per sample
        (``"newton"``: a few steps from the previous ``z_L``; the trace's ``zl_iters_*`` count
        the most steps any sample took).
    kernels : {"numba", "numpy"}
        The elementwise kernels (:mod:`solver.dladmm.kernels`): compiled, or their numpy twins.
    prox_z : float
        Weight ``c`` of a proximal term ``c/2 ||z - z_l||^2`` in the hidden z step (0: the
        authors' form).
    step_rule : {"closed_form", "backtracking"}
        The accepted step constant in closed form, or the doubling loop on objective values.
    init, init_scale
        ``init=None``: ``N(0, init_scale^2)`` weights and biases (the authors' N(0, 0.1^2));
        a name from :data:`solver.INITS`: that rule (zero biases) times ``init_scale``.
    track : bool
        Record the KKT blocks (2L - 1 extra products per iteration).
    early_stopping, validation_fraction, n_iter_no_change, validation_tol :
        As in :class:`solver.ADMM` (early stopping on held-out rows; the classifier scores
        them by accuracy, split stratified by class).

    ``fit(X, y, init_weights=[(W_l, b_l)], X_test=, y_test=)``: explicit initial weights as
    for every lifted method.  Fitted attributes as :class:`solver.LiftedRegressor`.
    ``predict`` is the network's output layer (the logits with ``loss="cross_entropy"``, whose
    one-hot targets :class:`DLADMMClassifier` handles with labels, probabilities and accuracy).
    """

    _schema = DLADMM_SCHEMA

    _parameter_constraints = DLADMM_CONSTRAINTS
    _not_settings = LiftedRegressor._not_settings + ("keep_best",)

    __init__ = keyword_init(DLADMM_DEFAULTS)

    # ------------------------------------------------------------------ hooks
    def _validate_method_params(self, n_outputs):
        hs = check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        if self.loss == "cross_entropy" and n_outputs < 2:
            raise ValueError(f"y: the cross-entropy loss expects one-hot targets with >= 2 columns, "
                             f"got {n_outputs} column(s)")
        return {"hidden_layer_sizes": hs, "activation": kernels_for(self.activation)}

    def _initial_weights(self, widths, params):
        if self.init is not None:
            return super()._initial_weights(widths, params)
        rng = np.random.default_rng(self.random_state)
        s = float(self.init_scale)
        return [(rng.normal(0.0, s, size=(widths[j + 1], widths[j])), rng.normal(0.0, s, size=widths[j + 1]))
                for j in range(len(widths) - 1)]

    def _extra_settings(self, p):
        return {"method": "dladmm", "loss": self.loss, "H": LOSS_H[self.loss]}

    def _make_engine(self, X, Y, p):
        Xt, Yt = getattr(self, "_fit_test", (None, None))
        if self.loss == "cross_entropy":
            for name, T in (("y", Y), ("y_test", None if Yt is None else Yt.T)):
                if T is not None and not (np.all(T >= 0) and np.allclose(T.sum(axis=1), 1.0)):
                    raise ValueError(f"{name}: the cross-entropy loss expects one-hot (probability) rows, "
                                     f"non-negative and summing to 1 (DLADMMClassifier takes labels)")
        return DLADMMEngine(
            X.T, Y.T, p["activation"], loss=self.loss, rho=self.rho, nu=self.nu, tau=self.tau,
            theta=self.theta, adapt=bool(self.adapt), adapt_width=self.adapt_width,
            adapt_factor=self.adapt_factor, rho_max=self.rho_max, output_init=self.output_init,
            zl_mode=self.zl_mode, zl_max_iter=self.zl_max_iter, zl_tol=self.zl_tol,
            zl_step=self.zl_step, zl_rtol=self.zl_rtol, prox_z=self.prox_z, kernels=self.kernels,
            step_rule=self.step_rule, X_test=Xt, Y_test=Yt)

    def fit(self, X, y, *, X_test=None, y_test=None, init_weights=None, resume=False):
        """As :meth:`solver.LiftedRegressor.fit`; the test data also give ``test_loss``/``test_acc``."""
        self._fit_test = (None, None)
        if X_test is not None and y_test is not None:
            Xt, Yt, _ = check_Xy(X_test, y_test, "X_test", "y_test")
            self._fit_test = (np.ascontiguousarray(Xt.T), np.ascontiguousarray(Yt.T))
        try:
            return super().fit(X, y, X_test=X_test, y_test=y_test, init_weights=init_weights, resume=resume)
        finally:
            del self._fit_test

    def _network_activation(self):
        return kernels_for(self.activation)

    def network_output(self, X):
        """The output layer for rows of ``X`` (the logits for the cross-entropy; ``predict``'s
        values, 2-D, for the squared loss)."""
        check_is_fitted(self, "weights_")
        X = check_array(X, "X", ndim=(2,))
        validate_data(self, X, reset=False)
        H = X.T
        act = kernels_for(self.activation)
        for j, (w, b) in enumerate(self.weights_):
            H = w @ H + b[:, None]
            if j < len(self.weights_) - 1:
                H = act.f(H)
        return H.T


class DLADMMClassifier(ClassifierMixin, DLADMM):
    """dlADMM with the softmax cross-entropy as a scikit-learn classifier (the authors' setting).

    The labels ``y`` (any hashable values) become one-hot targets; the loss is the
    cross-entropy summed over samples.  Parameters as :class:`DLADMM` without ``loss``.
    ``predict_proba`` is the softmax of the output layer, ``predict`` its argmax, ``score`` the
    accuracy.  ``fit(X, y, init_weights=..., X_test=, y_test=)`` with label vectors.
    """

    loss = "cross_entropy"          # fixed: not a parameter of the classifier

    _parameter_constraints = {k: v for k, v in DLADMM_CONSTRAINTS.items() if k != "loss"}

    __init__ = keyword_init({k: v for k, v in DLADMM_DEFAULTS.items() if k != "loss"})

    def _one_hot(self, y, name):
        y = column_or_1d(y, warn=True)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        if not np.all(self.classes_[idx] == y):
            raise ValueError(f"{name}: labels {sorted(set(np.asarray(y)[self.classes_[idx] != y].tolist()))[:5]} "
                             f"were not seen in y (classes {self.classes_.tolist()[:10]})")
        return np.eye(len(self.classes_))[idx]

    def fit(self, X, y, *, X_test=None, y_test=None, init_weights=None, resume=False):
        """Train on labels ``y`` (see :class:`DLADMM`); sets ``classes_``."""
        if y is None:
            raise ValueError("y: this estimator requires y to be passed, but the target y is None")
        y = column_or_1d(np.asarray(y), warn=True)
        if y.shape[0] == 0:
            raise ValueError("y: expected at least one sample, got an empty array (0 samples)")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y: expected at least 2 classes, got 1 class ({self.classes_[0]!r})")
        Y = self._one_hot(y, "y")
        Yt = None if y_test is None else self._one_hot(y_test, "y_test")
        return super().fit(X, Y, X_test=X_test, y_test=Yt, init_weights=init_weights, resume=resume)

    def predict_proba(self, X):
        """Softmax of the output layer, one row per sample, columns in the order of ``classes_``."""
        return softmax(self.network_output(X).T).T

    def predict(self, X):
        """The class of largest output (argmax of the logits)."""
        out = self.network_output(X)
        return self.classes_[np.argmax(out, axis=1)]

    def _validation_score(self, out, Y):
        """Early stopping's score: the accuracy of the argmax of the logits ``out`` against the
        one-hot ``Y`` (outputs x samples), as ``MLPClassifier``."""
        return float(np.mean(out.argmax(axis=0) == Y.argmax(axis=0)))

    def score(self, X, y, sample_weight=None):
        """Accuracy (``ClassifierMixin.score``)."""
        return ClassifierMixin.score(self, X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.regressor_tags = None
        tags.target_tags.multi_output = False
        tags.target_tags.single_output = True
        tags.target_tags.required = True
        tags.classifier_tags = ClassifierTags(poor_score=not bool(getattr(self, "keep_best", False)))
        return tags
