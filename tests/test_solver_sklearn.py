"""ADMM is a scikit-learn estimator: check_estimator, clone, Pipeline, GridSearchCV, cross_val_score."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from solver import ADMM, tasks


@pytest.mark.parametrize("keep_best", [False, True])
def test_check_estimator_passes_every_check(keep_best):
    """Every scikit-learn check runs and passes.  ``poor_score`` is tagged only for the last
    iterate (keep_best=False; see ``LiftedRegressor.__sklearn_tags__``); with keep_best=True
    the score check (R^2 > 0.5) is asserted too."""
    est = ADMM(hidden_layer_sizes=(8,), max_iter=50, verbose=0, keep_best=keep_best)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert not failed, failed
    ran = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_regressors_train", "check_fit_idempotent", "check_estimators_pickle",
            "check_n_features_in_after_fitting", "check_complex_data"} <= ran
    tags = est.__sklearn_tags__()
    assert tags.regressor_tags.poor_score is (not keep_best)


@pytest.fixture(scope="module")
def data():
    t = tasks.square(n=120, seed=0, n_test=0)
    return t.X, t.y


SMALL = dict(hidden_layer_sizes=(15, 15), max_iter=6, init_scale=8.0, keep_best=True, random_state=0)


def test_clone_gives_an_unfitted_equal_estimator(data):
    m = ADMM(**SMALL).fit(*data)
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "weights_")
    np.testing.assert_array_equal(c.fit(*data).predict(data[0]), m.predict(data[0]))


def test_constructor_is_keyword_only_and_misspelt_params_raise():
    with pytest.raises(TypeError):
        ADMM((8,))
    with pytest.raises(TypeError):
        ADMM(hiden_layer_sizes=(8,))
    with pytest.raises(ValueError, match="hiden"):
        ADMM().set_params(hiden_layer_sizes=(8,))


def test_pipeline_with_scaler(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), ADMM(**SMALL)).fit(X * 50 + 3, y)
    p = pipe.predict(X * 50 + 3)
    direct = ADMM(**SMALL).fit(StandardScaler().fit_transform(X * 50 + 3), y)
    np.testing.assert_allclose(p, direct.predict(StandardScaler().fit_transform(X * 50 + 3)), rtol=1e-12)
    assert pipe.score(X * 50 + 3, y) > 0.9


def test_grid_search_over_lam(data):
    X, y = data
    gs = GridSearchCV(ADMM(**SMALL), {"lam": [1e-6, 1e-2, 10.0]}, cv=KFold(3, shuffle=True, random_state=0))
    gs.fit(X, y)
    assert gs.best_params_["lam"] in (1e-6, 1e-2)       # lambda = 10 shrinks the net to a constant
    scores = gs.cv_results_["mean_test_score"]
    assert scores[2] < min(scores[:2]) and np.all(np.isfinite(scores))


def test_cross_val_score_matches_manual_folds(data):
    X, y = data
    cv = KFold(4, shuffle=True, random_state=1)
    s = cross_val_score(ADMM(**SMALL), X, y, cv=cv)
    manual = [ADMM(**SMALL).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in cv.split(X)]
    np.testing.assert_allclose(s, manual, rtol=0, atol=0)
    assert np.all(s > 0.9)
