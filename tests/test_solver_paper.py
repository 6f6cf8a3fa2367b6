"""The paper's approximation results with its settings (docs/experiments.md, Tables 3-4).

Square task: n = 1000 uniform on [-1, 1], two hidden layers of width 100, lambda = 1e-6,
beta = 1, MSRA initialisation scaled by 8; product gate likewise with width 300 and d = 2.
The paper's measure is the best train MSE over the run (the authors' code returns
``min(trainerr)``): <= 1e-8 within the first 50 iterations, on every seed.
``keep_best=True`` returns that iterate.  The final iterate drifts above its early minimum
at beta = 1; that drift is pinned by a measurement test below.
"""

import numpy as np
import pytest

from solver import ADMM, tasks

PAPER = dict(lam=1e-6, beta=1.0, init="msra", init_scale=8.0, max_iter=50, verbose=0,
             track=False, keep_best=True, curvature="theory")
_CACHE = {}


def run(task, width, seed):
    key = (task, width, seed)
    if key not in _CACHE:
        t = tasks.make_task(task, n=1000, seed=seed)
        m = ADMM(hidden_layer_sizes=(width, width), random_state=seed, **PAPER).fit(t.X, t.y)
        _CACHE[key] = (m, t)
    return _CACHE[key]


CASES = [("square", 100, s) for s in range(5)] + [("product", 300, s) for s in range(5)]


@pytest.mark.parametrize("task, width, seed", CASES)
def test_best_train_mse_within_50_iterations(task, width, seed):
    m, t = run(task, width, seed)
    mse = m.trace_.train_mse
    assert len(mse) == 50 and np.all(np.isfinite(mse))
    assert mse.min() <= 1e-8
    # keep_best returns that iterate: predict reproduces the best recorded error
    assert m.mse(t.X, t.y) == pytest.approx(mse.min(), rel=1e-6)
    # ADMM reaches a tiny error from a heavily saturated start (MSRA x 8)
    assert m.init_train_mse_ > 1.0


def test_square_drift_after_the_early_minimum_is_the_measured_one():
    """The paper's measure is the best iterate (the authors' code returns ``min(trainerr)``).

    At beta = 1 the square task's train error reaches its minimum within the first few
    iterations and then drifts upward; every engine and both curvature rules agree on this
    (docs/solver.md, "Drift after the early minimum").  Measured at k = 50: 1.16e-7
    (seed 0) and 5.73e-8 (seed 4) against minima of about 4e-9 and 7e-9.  This test pins
    that behaviour, so a change of the algorithm that removes (or worsens) the drift shows.
    """
    for seed, final in ((0, 1.16e-7), (4, 5.73e-8)):
        m, _ = run("square", 100, seed)
        mse = m.trace_.train_mse
        assert int(np.argmin(mse)) + 1 <= 10                  # the minimum comes early
        assert mse[-1] == pytest.approx(final, rel=0.05)      # the measured final level
        assert mse[-1] > 5 * mse.min()                        # and it is a drift, not noise
