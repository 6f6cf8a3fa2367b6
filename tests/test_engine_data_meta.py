"""Every engine records the data quantities that ``verify.Conditions.covers`` compares.

``meta['a0'] = ||[X, 1]||_2`` (Lemma 21's data norm), ``meta['y_norm'] = ||Y||_F`` and
``meta['initial']`` (the initial point's ``L_beta`` and norms, paper eqs. 6-7).  A trace
without them cannot be matched with derived conditions (covers answers "cannot check ...",
never agreement), so an engine that forgot them would turn every derived-condition verdict on
its runs into INCONCLUSIVE.  The expected values are computed here from the data directly.
"""

import numpy as np
import pytest

from solver import ADMM, init_weights, tasks
from solver.admm import extprec
from verify import conditions as C
from verify import highprec


def _expected(X, y, w0, lam, beta):
    X = np.asarray(X, float)
    Y = np.asarray(y, float).reshape(len(X), -1)
    a0 = np.linalg.svd(np.hstack([X, np.ones((len(X), 1))]), compute_uv=False)[0]
    # initial point of eq. (7): forward pass, zero multipliers; L_beta = loss + reg there
    H = X.T
    for j, (W, b) in enumerate(w0):
        Z = W @ H + b[:, None]
        H = Z if j == len(w0) - 1 else 1 / (1 + np.exp(-Z))
    loss = 0.5 * np.sum((H - Y.T) ** 2)
    reg = 0.5 * lam * sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in w0)
    return a0, float(np.linalg.norm(Y)), loss + reg


def _check(meta, X, y, w0, lam, beta):
    a0, yn, L0 = _expected(X, y, w0, lam, beta)
    assert meta["a0"] == pytest.approx(a0, rel=1e-12)
    assert meta["y_norm"] == pytest.approx(yn, rel=1e-12)
    assert meta["initial"]["lagrangian"] == pytest.approx(L0, rel=1e-10)
    assert meta["initial"]["dual"] == 0.0 and meta["initial"]["normLam"] == [0.0] * len(w0)


@pytest.fixture(scope="module")
def prob():
    t = tasks.make_task("square", n=18, seed=3, n_test=0)
    w0 = init_weights((t.X.shape[1], 3, 1), "lecun_normal", 1.0, 3)
    return t, w0


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_fit_records_the_data_meta(prob, engine):
    t, w0 = prob
    m = ADMM(hidden_layer_sizes=(3,), max_iter=4, beta=5.0, lam=0.1, engine=engine, verbose=0)
    m.fit(t.X, t.y, init_weights=w0)
    _check(m.trace_.meta, t.X, t.y, w0, 0.1, 5.0)


def test_resumed_fit_records_the_same_initial_record(prob, tmp_path):
    t, w0 = prob
    kw = dict(hidden_layer_sizes=(3,), beta=5.0, lam=0.1, engine="numpy", verbose=0,
              checkpoint=tmp_path / "ck.npz")
    first = ADMM(max_iter=3, **kw).fit(t.X, t.y, init_weights=w0).trace_.meta
    resumed = ADMM(max_iter=6, **kw).fit(t.X, t.y, init_weights=w0, resume=True).trace_.meta
    _check(resumed, t.X, t.y, w0, 0.1, 5.0)
    assert resumed["initial"] == first["initial"]


@pytest.mark.parametrize("run", [
    lambda t, w0: extprec.run(t.X, t.y, w0, beta=5.0, lam=0.1, iters=2, prec=80),
    lambda t, w0: highprec.run(t.X, t.y, w0, beta=5.0, lam=0.1, iters=1, dps=20),
    lambda t, w0: highprec.run_float64(t.X, t.y, w0, beta=5.0, lam=0.1, iters=1),
], ids=["extprec", "highprec", "highprec-float64"])
def test_extended_precision_engines_record_the_data_meta(prob, run):
    t, w0 = prob
    _check(run(t, w0).meta, t.X, t.y, w0, 0.1, 5.0)


def test_derived_conditions_cover_an_extprec_run_and_refuse_other_data(prob):
    """The conditions derived from (X, y, w0) cover the extended-precision run on the same data
    (so its checks can credit them) and not a run on 3x the targets (larger ||Y||, larger E0)."""
    t, w0 = prob
    c = C.derive_from_data(1, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    assert c.covers(extprec.run(t.X, t.y, w0, iters=2, prec=80, **c.kwargs)) is None
    why = c.covers(extprec.run(t.X, 3 * t.y, w0, iters=2, prec=80, **c.kwargs))
    assert why is not None and ("y_norm" in why or "E0" in why), why
