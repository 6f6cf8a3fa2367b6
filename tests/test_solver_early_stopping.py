"""Early stopping on held-out data (issue 23, item 1): scikit-learn's MLP rule in the shared
loop (:func:`solver.core.solve`) for every estimator.

The claims: the returned weights are those of the best validation score; the run stops at
the first iteration where the score has not exceeded the best so far by ``validation_tol``
for more than ``n_iter_no_change`` iterations; early stopping changes no iterate before it
stops; the classifier's split is stratified; with ``early_stopping=False`` the run is the
one it was before (identity and iterates)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import r2_score
from sklearn.utils.estimator_checks import check_estimator

from solver import ADMM, DLADMMClassifier, ParameterError
from solver.base import EARLY_STOPPING_DEFAULTS
from solver.registry import BUILTIN

ESTIMATORS = [m.estimator_class(e) for m in BUILTIN for e in m.estimators]

#: cheap settings per estimator (small nets, few iterations)
SMALL = {
    "ADMM": dict(hidden_layer_sizes=(8,), max_iter=20),
    "DLADMM": dict(hidden_layer_sizes=(8,), max_iter=10),
    "DLADMMClassifier": dict(hidden_layer_sizes=(8,), max_iter=10),
    "LiftedBCD": dict(hidden_layer_sizes=(8,), max_iter=5),
    "InexactALM": dict(hidden_layer_sizes=(8,), max_iter=3, inner_max_iter=20),
}


def _quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kw)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16.0, y[:200]


def _rule_stop(curve, n_iter_no_change, tol):
    """The 1-based iteration at which scikit-learn's MLP rule stops on ``curve`` (None: never)."""
    best, stale = -np.inf, 0
    for k, s in enumerate(curve, start=1):
        stale = stale + 1 if s < best + tol else 0
        best = max(best, s)
        if stale > n_iter_no_change:
            return k
    return None


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_parameters_are_declared_with_scikit_learns_defaults(cls):
    params = cls().get_params()
    assert {k: params[k] for k in EARLY_STOPPING_DEFAULTS} == EARLY_STOPPING_DEFAULTS
    assert set(EARLY_STOPPING_DEFAULTS) <= set(cls._parameter_constraints)


@pytest.mark.slow
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_check_estimator_passes_with_early_stopping(cls):
    est = cls(**SMALL[cls.__name__], early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert not failed, failed


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_returned_weights_score_the_best_recorded_validation_score(cls, digits):
    """Recompute the score of the returned model on the held-out rows: it is the largest
    value of the recorded curve, at ``best_validation_iter_``."""
    X, y = digits
    clf = cls.__name__.endswith("Classifier")
    Y = np.eye(10)[y]
    est = _quiet_fit(cls(**SMALL[cls.__name__], early_stopping=True, random_state=1), X, y if clf else Y)
    va = est.validation_indices_
    curve = est.trace_.val_score
    assert len(curve) == est.n_iter_ and np.all(np.isfinite(curve))
    assert np.array_equal(est.validation_scores_, curve)
    got = (np.mean(est.predict(X[va]) == y[va]) if clf
           else r2_score(Y[va], est.predict(X[va])))
    assert got == pytest.approx(curve.max(), rel=1e-12, abs=1e-12)
    assert est.best_validation_score_ == curve.max()
    assert curve[est.best_validation_iter_ - 1] == curve.max()
    # the held-out rows were not trained on
    assert est.trace_.meta["n_samples"] + len(va) == X.shape[0] == est.trace_.meta["n_samples"] + est.trace_.meta["n_validation"]


def test_a_run_that_peaks_early_and_degrades_returns_the_peak(digits):
    """ADMM on digits: the validation R^2 rises to a peak in a few iterations and then falls
    (the drift of docs/solver.md); run past the peak, the returned net is the peak's."""
    X, y = digits
    Y = np.eye(10)[y]
    kw = dict(hidden_layer_sizes=(20,), random_state=0, early_stopping=True)
    long = _quiet_fit(ADMM(**kw, max_iter=14, n_iter_no_change=100), X, Y)
    curve = long.trace_.val_score
    assert long.n_iter_ == 14 and long.result_.status == "max_iter"
    k_best = long.best_validation_iter_
    assert k_best < 14 and curve[-1] < curve.max() - 0.05     # it did degrade
    va = long.validation_indices_
    assert r2_score(Y[va], long.predict(X[va])) == pytest.approx(curve.max(), rel=1e-12)
    last_W = long.state_.W[0]
    assert not np.allclose(long.weights_[0][0], last_W[:, :-1])  # not the last iterate
    # the stopping rule, recomputed from the long run's curve: the short run stops there,
    # on the same iterates (early stopping changes no iterate)
    short = _quiet_fit(ADMM(**kw, max_iter=14, n_iter_no_change=2), X, Y)
    stop = _rule_stop(curve, 2, EARLY_STOPPING_DEFAULTS["validation_tol"])
    assert stop is not None and short.n_iter_ == stop and short.result_.status == "early_stopped"
    assert np.array_equal(short.trace_.val_score, curve[:stop])
    assert short.best_validation_iter_ == k_best
    for (w1, b1), (w2, b2) in zip(short.weights_, long.weights_):
        assert np.array_equal(w1, w2) and np.array_equal(b1, b2)


def test_a_large_validation_tol_counts_small_rises_as_no_improvement(digits):
    """The rule's ``tol``: with ``validation_tol`` above every rise the run stops after
    ``n_iter_no_change + 1`` iterations past the first, whatever the curve does."""
    X, y = digits
    est = _quiet_fit(ADMM(hidden_layer_sizes=(10,), max_iter=30, random_state=0, early_stopping=True,
                          n_iter_no_change=3, validation_tol=1e6), X, np.eye(10)[y])
    assert est.n_iter_ == 5 and est.best_validation_iter_ == int(np.argmax(est.trace_.val_score)) + 1


def test_the_classifier_split_is_stratified_and_scored_by_accuracy(digits):
    X, y = digits
    est = _quiet_fit(DLADMMClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0, early_stopping=True,
                                      validation_fraction=0.25), X, y)
    va = est.validation_indices_
    assert len(va) == int(np.ceil(0.25 * len(y)))
    share = np.bincount(y[va], minlength=10) / len(va)
    assert np.all(np.abs(share - np.bincount(y, minlength=10) / len(y)) <= 1.0 / len(va) + 1e-12)
    assert set(np.unique(est.trace_.val_score * len(va)).round(9)) <= set(np.arange(len(va) + 1.0))


def test_without_early_stopping_the_run_is_unchanged(digits):
    """Off: no split, the curve is nan, no validation attributes, and the checkpoint
    identity ignores the (inactive) early-stopping settings."""
    X, y = digits
    Y = np.eye(10)[y]
    a = _quiet_fit(ADMM(hidden_layer_sizes=(6,), max_iter=3, random_state=0), X, Y)
    b = _quiet_fit(ADMM(hidden_layer_sizes=(6,), max_iter=3, random_state=0, validation_fraction=0.3,
                        n_iter_no_change=2), X, Y)
    assert np.all(np.isnan(a.trace_.val_score)) and a.validation_scores_ is None
    assert a.best_validation_score_ is None and a.validation_indices_ is None
    assert a.trace_.meta["n_samples"] == X.shape[0]
    assert a.trace_.meta["fingerprint"] == b.trace_.meta["fingerprint"]
    assert np.array_equal(a.trace_.train_mse, b.trace_.train_mse)


def test_bad_early_stopping_input_is_refused_naming_it(digits, tmp_path):
    X, y = digits
    with pytest.raises(ParameterError) as exc:
        _quiet_fit(ADMM(max_iter=1, early_stopping=True, validation_fraction=1.0), X, y)
    assert exc.value.param == "validation_fraction"
    with pytest.raises(ParameterError) as exc:   # 3 rows: no room for training and validation of each class
        _quiet_fit(DLADMMClassifier(max_iter=1, early_stopping=True, validation_fraction=0.9),
                   X[:6], np.array([0, 0, 1, 1, 2, 2]))
    assert exc.value.param == "validation_fraction"
    with pytest.raises(ValueError, match="resume"):
        ADMM(max_iter=1, early_stopping=True, checkpoint=str(tmp_path / "c.npz")).fit(X, y, resume=True)


def test_the_plots_draw_the_validation_curve(digits):
    """Trace.plot and sigadmm's plot_trace add the validation score (a twin axis) only when
    the run recorded one."""
    from sigadmm.peers import plot_trace

    X, y = digits
    Y = np.eye(10)[y]
    on = _quiet_fit(ADMM(hidden_layer_sizes=(6,), max_iter=3, random_state=0, early_stopping=True), X, Y)
    off = _quiet_fit(ADMM(hidden_layer_sizes=(6,), max_iter=3, random_state=0), X, Y)
    for draw in (lambda t: t.plot(), lambda t: plot_trace("admm", t)):
        f_on, f_off = draw(on.trace_), draw(off.trace_)
        assert len(f_on.axes) == len(f_off.axes) + 1
        line = f_on.axes[-1].lines[0]
        assert np.array_equal(line.get_ydata(), on.trace_.val_score)
