"""Data-set loaders of the applications: the paper's toy tasks and scikit-learn's bundled sets.

* :func:`task_data` — one trial's data of a toy task (:mod:`solver.tasks`, the one task
  table), drawn from its own random stream, apart from the stream of the initial weights;
* :func:`load_breast_cancer_pm1` / :func:`breast_cancer_split` — scikit-learn's bundled
  Wisconsin breast cancer set (569 samples, 30 features, works offline), labels +-1, the
  stand-in for the paper's real data sets (docs/experiments.md#real-data-experiments).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DATA_STREAM_TAG", "task_data", "load_breast_cancer_pm1", "breast_cancer_split",
           "REAL_DATA_TEST_SIZE"]

#: Second entry of the data stream's seed ``default_rng([seed, DATA_STREAM_TAG])``: trial
#: ``seed``'s data come from a stream apart from ``default_rng(seed)``, which draws the
#: initial weights of the same trial.  Changing it changes every reproduced number.
DATA_STREAM_TAG = 7919

#: Fraction of the real data set held out for testing (a fresh stratified split per trial).
REAL_DATA_TEST_SIZE = 0.3


def task_data(task: str, n: int, n_test: int, seed: int, noise: float = 0.0):
    """The toy task's :class:`solver.tasks.Task` for trial ``seed``.

    ``n`` training inputs uniform on ``[-1, 1]^d`` with targets plus Gaussian noise of
    standard deviation ``noise``, ``n_test`` clean test points; the random stream is
    ``default_rng([seed, DATA_STREAM_TAG])``.
    """
    from solver.tasks import make_task

    return make_task(task, n=n, noise=noise, seed=np.random.default_rng([int(seed), DATA_STREAM_TAG]),
                     n_test=n_test)


def load_breast_cancer_pm1():
    """scikit-learn's Wisconsin breast cancer set: ``X`` (569, 30), labels ``y`` in {-1, +1}.

    The paper trains classifiers with the squared loss on +-1 labels and predicts by the sign.
    """
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return X, np.where(y == 1, 1.0, -1.0)


def breast_cancer_split(trial: int, test_size: float = REAL_DATA_TEST_SIZE):
    """Trial ``trial``'s stratified split of :func:`load_breast_cancer_pm1`, standardised.

    Returns ``X_train, X_test, y_train, y_test``; the scaler is fitted on the training part.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer_pm1()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, stratify=y, random_state=trial)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte
