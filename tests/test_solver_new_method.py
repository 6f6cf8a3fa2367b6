"""A new method is an engine + a schema + a few-line estimator (tests/lifted_gd.py), and gets
checkpoint/resume, Ctrl-C, progress, callback, keep_best and the non-finite stop from the core."""

import os
import signal
import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from solver import NonFiniteWarning, Status, Trace, tasks
from tests.lifted_gd import LiftedGD

KW = dict(hidden_layer_sizes=(6, 4), lam=1e-3, rho=1.0, lr=0.005, init_scale=1.0, max_iter=20, random_state=3)


@pytest.fixture(scope="module")
def data():
    t = tasks.product(n=60, seed=2, n_test=20)
    return t.X, t.y, t.X_test, t.y_test


def _same_trace(a, b):
    for name in a.schema.names:
        x, y = getattr(a, name), getattr(b, name)
        if name == "time":
            continue
        assert np.array_equal(x, y, equal_nan=True), name


def test_gradient_descent_decreases_its_objective(data):
    """Small steps on a smooth objective: f(W^k, V^k) is non-increasing (a property of GD, not
    of the loop; it shows the engine's row reaches the trace)."""
    m = LiftedGD(**KW).fit(*data[:2])
    f = m.trace_.objective
    assert m.trace_.schema.name == "lifted_gd" and len(f) == 20
    assert np.all(np.diff(f) <= 1e-12 * np.abs(f[1:]))


def test_checkpoint_resume_is_bit_for_bit(tmp_path, data):
    X, y, Xt, yt = data
    full = LiftedGD(**KW).fit(X, y, X_test=Xt, y_test=yt)
    ck = tmp_path / "gd.npz"

    def crash(intermediate_result):
        if intermediate_result.nit == 13:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        LiftedGD(**KW, checkpoint=ck, checkpoint_every=5, callback=crash).fit(X, y, X_test=Xt, y_test=yt)
    assert Trace.from_dict({k[6:]: v for k, v in np.load(ck).items() if k.startswith("trace_")}).__len__() == 10
    resumed = LiftedGD(**KW, checkpoint=ck, checkpoint_every=5).fit(X, y, X_test=Xt, y_test=yt, resume=True)
    assert resumed.n_iter_ == 20
    _same_trace(full.trace_, resumed.trace_)
    for (w1, b1), (w2, b2) in zip(full.weights_, resumed.weights_):
        assert np.array_equal(w1, w2) and np.array_equal(b1, b2)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_ctrl_c_finishes_the_iteration_and_stops(data, tmp_path):
    def sigint(intermediate_result):
        if intermediate_result.nit == 4:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.warns(RuntimeWarning, match="Ctrl-C"):
        m = LiftedGD(**KW, callback=sigint, checkpoint=tmp_path / "c.npz").fit(*data[:2])
    assert m.n_iter_ == 4 and m.result_.status == Status.INTERRUPTED
    assert (tmp_path / "c.npz").exists()  # the interrupted run's state is saved
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_progress_bar(data, capsys):
    LiftedGD(**{**KW, "max_iter": 3}, verbose=1).fit(*data[:2])
    err = capsys.readouterr().err
    assert "LiftedGD" in err and "3/3" in err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_keep_best_returns_the_best_iterate(data):
    X, y = data[:2]
    big = {**KW, "lr": 0.03, "max_iter": 40}
    best = LiftedGD(**big, keep_best=True).fit(X, y)
    last = LiftedGD(**big).fit(X, y)
    k = int(np.argmin(best.trace_.train_mse)) + 1
    assert best.best_iter_ == k and k < 40          # lr = 0.03 overshoots: the best is early
    assert last.mse(X, y) > 10 * best.mse(X, y)
    assert best.mse(X, y) == pytest.approx(best.trace_.train_mse[k - 1], rel=1e-10)
    assert last.mse(X, y) == pytest.approx(last.trace_.train_mse[-1], rel=1e-10)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_non_finite_iterate_stops_with_the_finite_prefix(data):
    with pytest.warns(NonFiniteWarning, match="non-finite"):
        m = LiftedGD(**{**KW, "lr": 50.0, "max_iter": 200}).fit(*data[:2])
    assert m.result_.status == Status.NON_FINITE and 0 < m.n_iter_ < 200
    assert np.all(np.isfinite(m.trace_.objective))


def test_unknown_trace_field_raises():
    tr = Trace.empty(2, 3, schema=LiftedGD._schema)
    row = tr.new_row()
    with pytest.raises(KeyError, match="lagrangian"):
        row["lagrangian"] = 1.0
    with pytest.raises(KeyError, match="objectiv"):
        tr.set_row(0, {"objectiv": 1.0})


def test_the_new_method_passes_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(LiftedGD(hidden_layer_sizes=(4,), max_iter=20, keep_best=True), on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert not failed, failed


def test_each_method_trace_loads_in_a_fresh_process(tmp_path):
    """A saved trace of dlADMM, lifted BCD or the inexact ALM loads in a process that did
    not import the method (solver.trace imports the module that registers the schema)."""
    import subprocess
    import sys

    import numpy as np

    from solver.dladmm import DLADMM

    X = np.random.default_rng(0).normal(size=(30, 2))
    DLADMM(hidden_layer_sizes=(4,), max_iter=2).fit(X, X[:, 0]).trace_.save(tmp_path / "t.npz")
    code = ("import sys; from solver.trace import Trace; t = Trace.load(sys.argv[1]); "
            "assert 'solver.dladmm' in sys.modules; print(t.schema.name, len(t))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "t.npz")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["dladmm", "2"]
