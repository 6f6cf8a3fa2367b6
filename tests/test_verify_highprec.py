"""verify.highprec (mpmath transcription of solver.admm.steps) and the numerical-validity guard.

* At a moderate schedule the 50-digit run and the float64 reference agree to ~1e-10.
* At the depth-2 schedule derived before the sharpening (beta_1 ~ 3e16) the guard flags
  layer 1, and the high-precision run shows that float64's Lam_1, dW2_1, dV2_1 are noise
  while L_beta agrees to ~1e-13.
"""

import numpy as np
import pytest

from solver import init_weights, tasks
from verify import conditions, highprec


@pytest.fixture(scope="module")
def data():
    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    return t.X, t.y


def test_highprec_agrees_with_float64_at_a_moderate_schedule(data):
    X, y = data
    w0 = init_weights((1, 4, 4, 1), "lecun_normal", 1.0, 0)
    kw = dict(beta=[100.0, 100.0, 100.0], lam=1.0, activation="sigmoid", iters=4)
    hp = highprec.run(X, y, w0, **kw)
    fl = highprec.run_float64(X, y, w0, **kw)
    d = highprec.compare(fl, hp)
    for f in ("lagrangian", "loss", "reg", "normW", "normV", "normLam", "dW2", "dV2", "dLam2",
              "feas"):
        assert np.max(d[f]) < 1e-10, (f, d[f])
    assert np.max(d["kkt"][:-1]) < 1e-10             # the V_N block is exactly 0 (noise in float64)
    assert conditions.numerical_validity(fl)["flagged"] == []
    # the a-posteriori certificate reads the high-precision trace like a solver trace
    ap = conditions.a_posteriori(hp)
    assert ap["xi"] is not None and len(ap["xi"]) == 3


def test_guard_flags_the_old_derived_depth2_schedule_and_highprec_shows_the_noise(data):
    X, y = data
    w0 = init_weights((1, 4, 4, 1), "lecun_normal", 1.0, 0)
    c = conditions.derive_from_data(2, "sigmoid", X=X, y=y, init_weights=w0, lam=1.0, sharp=False)
    assert c.beta[0] > 1e15
    pre = conditions.numerical_validity(conditions=c)
    assert pre["flagged"] == [0] and pre["ratio"][0] > 1
    kw = dict(beta=c.beta, lam=1.0, activation="sigmoid", iters=4)
    hp = highprec.run(X, y, w0, **kw)
    fl = highprec.run_float64(X, y, w0, **kw)
    assert conditions.numerical_validity(fl)["flagged"] == [0]
    d = highprec.compare(fl, hp)
    assert d["lagrangian"] < 1e-12                        # L_beta cannot reveal it ...
    assert d["normLam"][0] > 0.5 and d["dW2"][0] > 0.5    # ... but layer 1 has no correct digit
    assert d["normLam"][2] < 1e-12 and d["dW2"][2] < 1e-10


@pytest.mark.parametrize("lb1", [6, 10, 14])
def test_guard_ratio_predicts_the_relative_error_of_lam1(data, lb1):
    """The measured float64 error of ||Lam_1|| stays within a factor 10 of the guard's ratio."""
    X, y = data
    w0 = init_weights((1, 4, 4, 1), "lecun_normal", 1.0, 0)
    kw = dict(beta=[10.0 ** lb1, 1e3, 1.5], lam=1.0, activation="sigmoid", iters=3)
    hp = highprec.run(X, y, w0, **kw)
    fl = highprec.run_float64(X, y, w0, **kw)
    ratio = conditions.numerical_validity(hp)["ratio"][0]
    err = highprec.compare(fl, hp)["normLam"][0]
    assert err < 10 * ratio + 1e-13
    assert (ratio > conditions.VALIDITY_THRESHOLD) == (lb1 >= 10)


def test_numerical_validity_input_errors(data):
    with pytest.raises(ValueError, match="exactly one"):
        conditions.numerical_validity()
    c = conditions.derive(1, "sigmoid", lam=1.0, E0=1.0, y_norm=1.0)
    with pytest.raises(ValueError, match="data scale"):
        conditions.numerical_validity(conditions=c)
