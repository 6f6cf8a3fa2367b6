"""A new method is an engine + a schema + a few-line estimator (tests/lifted_gd/), and gets
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


# ------------------------------------------------------------------ the registry
def test_the_method_is_one_registration():
    """The last line of tests/lifted_gd/__init__.py registers it: the estimator, schema and engine are found
    from the entry, and the layers above derive their lists from it."""
    import solver
    from sigadmm import peers
    from solver.registry import METHODS, get_method
    from tests.lifted_gd import GD_SCHEMA, LiftedGDEngine

    m = get_method("lifted_gd")
    assert METHODS["lifted_gd"] is m and "lifted_gd" in solver.METHODS
    assert m.estimator_class() is LiftedGD and m.trace_schema() is GD_SCHEMA
    assert m.engine_class() is LiftedGDEngine
    import verify

    assert verify.claims_table("lifted_gd") is None          # no claims module: no checks
    assert peers.get_method("lifted_gd").title == "lifted GD (test method)"


def test_a_registered_method_trace_loads_without_its_schema_registered(tmp_path, data, monkeypatch):
    """Trace.load finds the schema from the method registry, not from a schema the module
    registered on import (the schema table is emptied of it first)."""
    from solver import trace as T

    path = LiftedGD(**{**KW, "max_iter": 3}).fit(*data[:2]).trace_.save(tmp_path / "gd.npz")
    monkeypatch.delitem(T.SCHEMAS, "lifted_gd", raising=False)
    tr = Trace.load(path)
    assert tr.schema.name == "lifted_gd" and len(tr) == 3


def test_registry_refuses_a_second_method_under_a_name_and_names_the_known_ones():
    from solver.registry import Method, get_method, register_method

    with pytest.raises(ValueError, match="already registered"):
        register_method(Method("admm", "tests.lifted_gd", ("LiftedGD",), "GD_SCHEMA", "LiftedGDEngine"))
    with pytest.raises(ValueError, match="admm") as exc:
        get_method("nope")
    assert "dladmm" in str(exc.value)
    with pytest.raises(ValueError, match="name"):
        Method("not a name", "m", ("E",), "S", "G")
    with pytest.raises(ValueError, match="estimators"):
        Method("x", "m", "E", "S", "G")


@pytest.mark.parametrize("name", ["admm", "dladmm", "lifted_bcd", "inexact_alm"])
def test_each_builtin_registration_is_consistent(name):
    """Its estimator carries the registered schema under the method's name, solver exports
    what it lists, and verify has a non-empty claims table for it."""
    import solver
    import verify
    from solver.registry import get_method

    m = get_method(name)
    est = m.estimator_class()
    assert est._schema is m.trace_schema() and m.trace_schema().name == name
    assert m.engine_class().__name__ == m.engine
    for export in m.exports:
        assert export in solver.__all__ and getattr(solver, export) is getattr(m.load(), export)
    table = verify.claims_table(name)
    assert table and all(callable(f) for f in table.values())
