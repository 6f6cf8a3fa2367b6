"""Step replay (verify.replay): the recorded run is Algorithm 1 and its rows say what they are.

The five checks of ``sigadmm verify`` test the claims of Theorem 4 on a record; a solver bug that
takes another step which still descends, or records another residual which still falls, passes
them (the mutation score's survivors, benchmarks/results/mutation_report.md).  The replay must
(1) hold on the unmutated solver (every engine, depth 1-2, sigmoid and tanh, uniform and derived
penalties) and (2) fail on every class of such bug: an iterate that is not one step of
Algorithm 1 from the previous one (any block, any layer, any relative change above the
tolerance), a recorded field that is not its definition at the iterates, a curvature rule other
than the run's, a wrong initial state.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver.admm.steps as S
from solver import ADMM, init_weights, tasks
from theory import get_activation
from verify import conditions as COND
from verify.replay import (REPLAY_RECORD_RTOL, REPLAY_RTOL, keep_iterates, replay_fit, replay_step,
                           replay_trace)


def _problem(depth, act, engine="numpy", iters=30, beta=100.0, derived=False):
    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", 1.0, 0)
    if derived:
        c = COND.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=1.0)
        kw = {k: v for k, v in c.kwargs.items() if k != "activation"}
    else:
        kw = {"beta": beta, "lam": 1.0}
    m = ADMM(hidden_layer_sizes=(4,) * depth, max_iter=iters, verbose=0, engine=engine,
             activation=act, random_state=0, **kw)
    return m, t, w0


def _fit(depth, act, engine="numpy", iters=30, **kw):
    m, t, w0 = _problem(depth, act, engine, iters, **kw)
    snaps = {}
    m.set_params(callback=keep_iterates(snaps))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    return m, t, w0, snaps


@pytest.fixture(scope="module")
def d2_run():
    return _fit(2, "tanh", "numpy")


@pytest.mark.parametrize("depth, act, engine, derived", [
    (1, "sigmoid", "numpy", False), (2, "tanh", "numpy", False), (2, "sigmoid", "reference", False),
    (1, "tanh", "reference", False), (1, "sigmoid", "numpy", True), (2, "sigmoid", "numpy", True)])
def test_replay_holds_on_the_unmutated_solver(depth, act, engine, derived):
    m, t, w0 = _problem(depth, act, engine, derived=derived)
    r = replay_fit(m, t.X, t.y, init_weights=w0, at=(1, 2, -1))
    assert r["holds"], r["worst"]
    assert set(r["per_k"]) == {1, 2, 30}
    assert r["max_step"] < 1e-3 * REPLAY_RTOL            # calibration: <= 4.2e-12
    assert r["max_record"] < 0.1 * REPLAY_RECORD_RTOL     # calibration: a few eps


BLOCKS = ("W", "V", "Lam")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.sampled_from(BLOCKS), layer=st.integers(0, 2), k=st.sampled_from([1, 2, 15, 30]),
       rel=st.floats(1e-6, 1.0), direction=st.integers(0, 2 ** 31))
def test_an_iterate_that_is_not_one_step_of_algorithm_1_is_seen(d2_run, block, layer, k, rel,
                                                                 direction):
    """Any change of one block of iterate ``k`` by ``rel`` of its norm (``>= 100 rtol``), in a
    random direction, makes the replay of step ``k`` fail (a step that is another map)."""
    m, t, w0, snaps = d2_run
    bad = {f: [np.array(a, copy=True) for a in snaps[k][f]] for f in BLOCKS}
    x = bad[block][layer]
    d = np.random.default_rng(direction).standard_normal(x.shape)
    x += rel * np.linalg.norm(x) * d / np.linalg.norm(d)
    r = replay_trace({**snaps, k: bad}, m.trace_, t.X, t.y, init_weights=w0,
                     activation="tanh", at=(k,))
    assert not r["holds"], (block, layer, k, rel, r["max"])


RECORDED = ("lagrangian", "loss", "reg", "dual", "penalty", "kkt_total", "train_mse", "dW2", "dV2",
            "dLam2", "feas", "kkt", "normW", "normV", "normLam")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(RECORDED), k=st.sampled_from([1, 2, 15, 30]), col=st.integers(0, 5),
       rel=st.floats(1e-5, 1.0), sign=st.sampled_from([-1.0, 1.0]))
def test_a_recorded_field_that_is_not_its_definition_is_seen(d2_run, field, k, col, rel, sign):
    """A recorded value moved by ``rel`` of itself (any field, layer or block, any row that is
    replayed) makes the replay fail: the row is not what it says about the iterates."""
    m, t, w0, snaps = d2_run
    row = dict(m.trace_.row(k - 1))
    v = np.array(np.atleast_1d(row[field]), float)
    j = col % v.size
    if v[j] == 0 or abs(v[j]) < 1e-6 * np.max(np.abs(v)):
        v[j] = sign * rel * max(np.max(np.abs(v)), 1e-3)     # a zero (or noise) block made large
    else:
        v[j] *= 1 + sign * rel
    row[field] = v if np.ndim(row[field]) else v[0]
    r = replay_step(snaps[k - 1] if k > 1 else _initial(m, t, w0), snaps[k], row, t.X, t.y,
                    beta=m.trace_.meta["beta"], lam=1.0, activation="tanh")
    assert r["max_record"] > REPLAY_RECORD_RTOL, (field, k, j, rel)


def _initial(m, t, w0):
    """The initial point of eq. (7) (forward pass, zero multipliers)."""
    W = [np.hstack([w, b[:, None]]) for w, b in w0]
    V, Lam = S.initial_point(W, t.X.T, get_activation("tanh"))
    return {"W": W, "V": V, "Lam": Lam}


# ---- planted solver bugs of the survivors' classes (reference engine, monkeypatched steps)
def _planted(monkeypatch, name, wrap, depth=1, act="sigmoid"):
    orig = getattr(S, name)
    monkeypatch.setattr(S, name, wrap(orig))
    m, t, w0 = _problem(depth, act, "reference", iters=20)
    return replay_fit(m, t.X, t.y, init_weights=w0, at=(1, 2, -1))


@pytest.mark.parametrize("scale", [0.1, 0.5, 3.0])
def test_another_curvature_rule_is_seen(monkeypatch, scale):
    r = _planted(monkeypatch, "curvature_from_bmax",
                 lambda f: lambda *a, **k: scale * f(*a, **k))
    assert not r["holds"] and "step" in r["worst"][1]


@pytest.mark.parametrize("t_relax", [-0.3, 0.2])
def test_a_weight_step_that_is_not_the_lla_minimiser_is_seen(monkeypatch, t_relax):
    """An over- or under-relaxed LLA step (a different map that may still descend)."""
    def wrap(f):
        def step(W_old, *a, **k):
            Wn, c = f(W_old, *a, **k)
            return Wn + t_relax * (Wn - W_old), c
        return step
    r = _planted(monkeypatch, "lla_weight_step", wrap)
    assert not r["holds"] and r["worst"][1].startswith("step")


@pytest.mark.parametrize("block, factor", [(0, 0.9), (1, 1.5), (-1, 0.0)])
def test_a_kkt_residual_that_is_not_eq_24_is_seen(monkeypatch, block, factor):
    def wrap(f):
        def kkt(*a, **k):
            r = list(f(*a, **k))
            r[block] = factor * r[block] + (1e-3 if factor == 0.0 else 0.0)
            return r
        return kkt
    r = _planted(monkeypatch, "kkt_residuals", wrap)
    assert not r["holds"] and r["worst"][1] in ("record kkt", "record kkt_total")


def test_a_wrong_reported_train_mse_is_seen(monkeypatch):
    r = _planted(monkeypatch, "forward", lambda f: lambda W, X, act: 1.01 * f(W, X, act))
    assert not r["holds"] and r["worst"][1] == "record train_mse"


def test_a_wrong_initial_state_is_seen(monkeypatch):
    import solver.admm.problem as P

    orig = P.ADMMProblem.initial_state

    def init(self, weights):
        st = orig(self, weights)
        st.Lam = [v + 1e-3 for v in st.Lam]
        return st
    monkeypatch.setattr(P.ADMMProblem, "initial_state", init)
    m, t, w0 = _problem(1, "sigmoid", "numpy", iters=10)
    r = replay_fit(m, t.X, t.y, init_weights=w0, at=(1,))
    assert not r["holds"] and r["worst"][0] == 1


def test_input_errors():
    m, t, w0 = _problem(1, "sigmoid", "numpy", iters=3)
    m.set_params(callback=lambda r: None)
    with pytest.raises(ValueError, match="model"):
        replay_fit(m, t.X, t.y, init_weights=w0)
    m, t, w0, snaps = _fit(1, "sigmoid", iters=3)
    short = {"W": snaps[2]["W"][:1], "V": snaps[2]["V"], "Lam": snaps[2]["Lam"]}
    with pytest.raises(ValueError, match="prev, nxt"):
        replay_step(snaps[1], short, m.trace_.row(1), t.X, t.y, beta=100.0, lam=1.0,
                    activation="sigmoid")


def test_nothing_replayed_is_not_a_pass():
    m, t, w0, snaps = _fit(1, "sigmoid", iters=3)
    r = replay_trace({}, m.trace_, t.X, t.y, init_weights=w0, activation="sigmoid", at=(2, 3))
    assert not r["holds"] and r["per_k"] == {}
