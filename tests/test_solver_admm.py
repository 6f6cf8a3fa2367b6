"""The ADMM estimator: validation, fit/predict/score, trace, reproducibility, checkpoints,
interruption and non-finite handling (issue 3, "Reliability")."""

import os
import signal
import warnings

import numpy as np
import pytest

import solver
from solver import ADMM, NonFiniteWarning, Status, Trace, tasks
from solver.init import INITS, init_weights
from theory import Activation, relu

SMALL = dict(hidden_layer_sizes=(8, 6), max_iter=6, random_state=0, verbose=0)


@pytest.fixture(scope="module")
def data():
    t = tasks.product(n=120, seed=1, n_test=50)
    return t.X, t.y, t.X_test, t.y_test


def fields_equal(a: Trace, b: Trace, skip=("time",)):
    for name in ("lagrangian", "loss", "reg", "dual", "penalty", "kkt_total", "train_mse", "test_mse",
                 "dW2", "dV2", "dLam2", "feas", "normW", "normV", "normLam", "curvature", "curvature_V", "kkt"):
        if name in skip:
            continue
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        assert np.array_equal(x, y, equal_nan=True), name


def test_public_names_importable():
    from solver import ADMM, Trace, tasks  # noqa: F401
    assert {"ADMM", "Trace", "tasks"} <= set(solver.__all__)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("kwargs, fit_kw, argname", [
    (dict(beta=0.0), {}, "beta"),
    (dict(beta=-1.0), {}, "beta"),
    (dict(beta=[1.0, 1.0]), {}, "beta"),
    (dict(lam=-1e-3), {}, "lam"),
    (dict(lam=float("nan")), {}, "lam"),
    (dict(activation="softsign-ish"), {}, "activation"),
    (dict(activation=relu), {}, "activation"),
    (dict(init="he_magic"), {}, "init"),
    (dict(curvature="newton"), {}, "curvature"),
    (dict(curvature_factor=0), {}, "curvature_factor"),
    (dict(hidden_layer_sizes=()), {}, "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(4, 0)), {}, "hidden_layer_sizes"),
    (dict(max_iter=0), {}, "max_iter"),
    (dict(init_scale=-2), {}, "init_scale"),
    (dict(engine="gpu"), {}, "engine"),
    (dict(callback=3), {}, "callback"),
    ({}, dict(X="nan"), "X"),
    ({}, dict(y="inf"), "y"),
    ({}, dict(y="short"), "y"),
    ({}, dict(X="1d"), "X"),
    ({}, dict(X_test="only"), "X_test"),
    ({}, dict(X_test="wrongdim"), "X_test"),
    ({}, dict(init_weights="wrongshape"), "init_weights"),
    ({}, dict(init_weights="wronglen"), "init_weights"),
    (dict(checkpoint=None), dict(resume=True), "resume"),
])
def test_bad_input_raises_value_error_naming_the_argument(data, kwargs, fit_kw, argname):
    X, y, Xt, yt = data
    args = dict(X=X, y=y)
    if fit_kw.get("X") == "nan":
        args["X"] = X.copy()
        args["X"][3, 1] = np.nan
    if fit_kw.get("y") == "inf":
        args["y"] = y.copy()
        args["y"][0] = np.inf
    if fit_kw.get("y") == "short":
        args["y"] = y[:-1]
    if fit_kw.get("X") == "1d":
        args["X"] = X[:, 0]
    if fit_kw.get("X_test") == "only":
        args["X_test"] = Xt
    if fit_kw.get("X_test") == "wrongdim":
        args["X_test"], args["y_test"] = Xt[:, :1], yt
    if fit_kw.get("init_weights") == "wrongshape":
        args["init_weights"] = [(np.zeros((8, 3)), np.zeros(8)), (np.zeros((6, 8)), np.zeros(6)),
                                (np.zeros((1, 6)), np.zeros(1))]
    if fit_kw.get("init_weights") == "wronglen":
        args["init_weights"] = [(np.zeros((8, 2)), np.zeros(8))]
    if fit_kw.get("resume"):
        args["resume"] = True
    model = ADMM(**{**SMALL, **kwargs})
    with pytest.raises(ValueError, match=argname):
        model.fit(**args)
    assert not hasattr(model, "trace_")  # nothing was computed


def test_predict_before_fit_and_wrong_features(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="not fitted"):
        ADMM(**SMALL).predict(X)
    m = ADMM(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="X"):
        m.predict(X[:, :1])


# ------------------------------------------------------------ fit / predict
def test_fit_predict_shapes_and_forward_pass(data):
    X, y, Xt, yt = data
    m = ADMM(**SMALL).fit(X, y, X_test=Xt, y_test=yt)
    p = m.predict(Xt)
    assert p.shape == yt.shape
    # predict is the forward pass of weights_ (output x input orientation), computed here by hand
    (W1, b1), (W2, b2), (W3, b3) = m.weights_
    assert W1.shape == (8, 2) and W2.shape == (6, 8) and W3.shape == (1, 6) and b2.shape == (6,)
    s = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    h = s(s(Xt @ W1.T + b1) @ W2.T + b2) @ W3.T + b3
    np.testing.assert_allclose(p, h[:, 0], rtol=1e-12, atol=1e-12 * np.abs(p).max())
    assert m.trace_.test_mse[-1] == pytest.approx(np.mean((p - yt) ** 2), rel=1e-10)
    assert m.trace_.train_mse[-1] == pytest.approx(m.mse(X, y), rel=1e-10)
    assert m.score(Xt, yt) == pytest.approx(1 - np.sum((p - yt) ** 2) / np.sum((yt - yt.mean()) ** 2))
    assert m.n_iter_ == 6 and len(m.trace_) == 6 and not m.converged_
    assert m.result_.status == Status.MAX_ITER


def test_multi_output_and_depth_one():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(80, 3))
    Y = np.stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])], axis=1)
    m = ADMM(hidden_layer_sizes=(20,), max_iter=30, random_state=1, verbose=0, init_scale=2).fit(X, Y)
    assert m.predict(X).shape == (80, 2)
    assert m.trace_.kkt.shape == (30, 4)
    assert m.trace_.train_mse[-1] < 0.5 * m.init_train_mse_


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "gauss_cdf", "arctan"])
def test_every_builtin_activation_trains(act):
    t = tasks.square(n=100, seed=0)
    m = ADMM(hidden_layer_sizes=(15, 15), activation=act, max_iter=20, random_state=0, verbose=0,
             init_scale=2).fit(t.X, t.y)
    assert np.all(np.isfinite(m.trace_.kkt_total))
    assert m.trace_.train_mse.min() < 0.1 * m.init_train_mse_


def test_user_activation_uses_numpy_kernels_and_matches_builtin():
    import sympy as sp
    t = sp.Symbol("x")
    logistic = Activation.from_expr(1 / (1 + sp.exp(-t)), t, "my_logistic")
    d = tasks.square(n=60, seed=3)
    kw = dict(hidden_layer_sizes=(7, 5), max_iter=3, random_state=0, verbose=0, init_scale=2)
    a = ADMM(activation=logistic, **kw).fit(d.X, d.y)
    b = ADMM(activation="sigmoid", **kw).fit(d.X, d.y)
    assert a.trace_.meta["engine_used"] == "numpy" and b.trace_.meta["engine_used"] == "numba"
    # same algorithm, different float64 formulas of sigma: agreement up to rounding growth
    np.testing.assert_allclose(a.trace_.lagrangian, b.trace_.lagrangian, rtol=1e-7)


def test_per_layer_beta_and_meta(data):
    X, y, _, _ = data
    m = ADMM(**{**SMALL, "beta": [2.0, 1.0, 0.5], "curvature": "reference"}).fit(X, y)
    meta = m.trace_.meta
    for key in ("activation", "widths", "beta", "lam", "curvature", "curvature_factor", "init",
                "init_scale", "seed", "n_samples", "max_iter"):
        assert key in meta
    assert meta["beta"] == [2.0, 1.0, 0.5] and meta["curvature"] == "reference"
    # the reference rule's curvature is ||B||_max / 2 > 0; exact steps are NaN
    assert np.all(m.trace_.curvature[:, :2] > 0) and np.all(np.isnan(m.trace_.curvature[:, 2]))
    assert np.all(m.trace_.curvature_V[:, 0] > 0) and np.all(np.isnan(m.trace_.curvature_V[:, 1:]))


def test_trace_is_internally_consistent(data):
    X, y, _, _ = data
    tr = ADMM(**SMALL).fit(X, y).trace_
    np.testing.assert_allclose(tr.lagrangian, tr.loss + tr.reg + tr.dual + tr.penalty, rtol=1e-12)
    np.testing.assert_allclose(tr.kkt_total, np.sqrt((tr.kkt ** 2).sum(1) + (tr.feas ** 2).sum(1)), rtol=1e-12)
    # dual ascent: ||Lam^k - Lam^{k-1}||^2 / beta = beta ||F^k||^2
    np.testing.assert_allclose(tr.dLam2, tr.feas ** 2, rtol=1e-10)
    # the output block V_N - Y - Lam_N vanishes after step 5 + step 6
    assert np.all(tr.kkt[:, -1] <= 1e-10 * (1 + tr.normLam[:, -1]))
    assert np.all(np.diff(tr.time) >= 0)


def test_keep_best_returns_the_best_iterate():
    t = tasks.square(n=200, seed=0)
    m = ADMM(hidden_layer_sizes=(20, 20), max_iter=25, random_state=0, init_scale=8, keep_best=True,
             verbose=0).fit(t.X, t.y)
    k = int(np.argmin(m.trace_.train_mse))
    assert m.best_iter_ == k + 1
    assert m.mse(t.X, t.y) == pytest.approx(m.trace_.train_mse[k], rel=1e-8)


def test_tol_stops_and_sets_converged(data):
    X, y, _, _ = data
    m = ADMM(**{**SMALL, "tol": 1e6}).fit(X, y)
    assert m.converged_ and m.n_iter_ == 1 and m.result_.success


def test_callback_can_stop(data):
    X, y, _, _ = data
    seen = []

    def cb(intermediate_result):
        r = intermediate_result
        seen.append((r.nit, r.state.k, len(r.trace)))
        assert r.fun == r.row["lagrangian"]
        return r.nit == 3

    with pytest.warns(RuntimeWarning, match="callback"):
        m = ADMM(**{**SMALL, "callback": cb}).fit(X, y)
    assert seen == [(1, 1, 1), (2, 2, 2), (3, 3, 3)] and m.n_iter_ == 3
    assert m.result_.status == Status.CALLBACK and not m.result_.success


def test_callback_raising_stop_iteration_stops(data):
    X, y, _, _ = data

    def cb(intermediate_result):
        if intermediate_result.nit == 2:
            raise StopIteration

    with pytest.warns(RuntimeWarning, match="callback"):
        m = ADMM(**{**SMALL, "callback": cb}).fit(X, y)
    assert m.n_iter_ == 2 and m.result_.status == Status.CALLBACK


def test_legacy_three_argument_callback_still_works_with_a_deprecation_warning(data):
    X, y, _, _ = data
    with pytest.warns(DeprecationWarning, match="intermediate_result"):
        m = ADMM(**{**SMALL, "callback": lambda k, state, trace: k == 2}).fit(X, y)
    assert m.n_iter_ == 2


# ----------------------------------------------------------- reproducibility
def test_same_seed_same_trace_and_different_seed_differs(data):
    X, y, Xt, yt = data
    a = ADMM(**SMALL).fit(X, y, X_test=Xt, y_test=yt)
    b = ADMM(**SMALL).fit(X, y, X_test=Xt, y_test=yt)
    fields_equal(a.trace_, b.trace_)
    c = ADMM(**{**SMALL, "random_state": 1}).fit(X, y, X_test=Xt, y_test=yt)
    assert not np.array_equal(a.trace_.lagrangian, c.trace_.lagrangian)


def test_checkpoint_resume_is_bit_for_bit(tmp_path, data):
    X, y, Xt, yt = data
    kw = {**SMALL, "max_iter": 12}
    full = ADMM(**kw).fit(X, y, X_test=Xt, y_test=yt)
    ck = tmp_path / "run.npz"

    def crash(intermediate_result):
        if intermediate_result.nit == 7:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        ADMM(**kw, checkpoint=ck, checkpoint_every=4, callback=crash).fit(X, y, X_test=Xt, y_test=yt)
    assert ck.exists()  # written at k = 4
    resumed = ADMM(**kw, checkpoint=ck, checkpoint_every=4).fit(X, y, X_test=Xt, y_test=yt, resume=True)
    assert resumed.n_iter_ == 12
    fields_equal(full.trace_, resumed.trace_)
    for name in ("W", "V", "Lam"):
        for a, b in zip(getattr(full.state_, name), getattr(resumed.state_, name)):
            assert np.array_equal(a, b)
    # a checkpoint written for other data is refused
    with pytest.raises(ValueError, match="checkpoint"):
        ADMM(**kw, checkpoint=ck).fit(X, y + 1.0, resume=True)


def test_keyboard_interrupt_returns_partial_result(tmp_path, data):
    X, y, _, _ = data

    def interrupt(intermediate_result):
        if intermediate_result.nit == 3:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted"):
        m = ADMM(**{**SMALL, "callback": interrupt, "checkpoint": tmp_path / "c.npz"}).fit(X, y)
    assert m.n_iter_ == 3 and m.result_.status == Status.INTERRUPTED and len(m.trace_) == 3
    assert np.all(np.isfinite(m.trace_.lagrangian))
    assert m.predict(X).shape == y.shape
    # the interrupted run's checkpoint continues to the same iterates as an uninterrupted run
    r = ADMM(**SMALL, checkpoint=tmp_path / "c.npz").fit(X, y, resume=True)
    fields_equal(r.trace_, ADMM(**SMALL).fit(X, y).trace_)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_ctrl_c_finishes_the_iteration_and_stops(data):
    X, y, _, _ = data

    def sigint(intermediate_result):
        if intermediate_result.nit == 2:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.warns(RuntimeWarning, match="Ctrl-C"):
        m = ADMM(**{**SMALL, "callback": sigint}).fit(X, y)
    assert m.n_iter_ == 2 and m.result_.status == Status.INTERRUPTED
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_non_finite_iterates_stop_with_message_and_keep_finite_trace():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 1)) * 1e160  # X X^T overflows in the first W_1 step
    y = rng.normal(size=50)
    with pytest.warns(NonFiniteWarning, match="non-finite"):
        m = ADMM(hidden_layer_sizes=(5,), max_iter=5, random_state=0, verbose=0).fit(X, y)
    assert m.result_.status == Status.NON_FINITE and "non-finite" in m.result_.message
    assert len(m.trace_) == m.n_iter_
    for name in ("lagrangian", "feas", "normV"):
        assert np.all(np.isfinite(getattr(m.trace_, name)))
    assert all(np.all(np.isfinite(w)) for w, b in m.weights_)


def test_non_finite_after_some_iterations_keeps_the_finite_prefix():
    t = tasks.square(n=60, seed=0)
    calls = []

    def poison(k, state, trace):  # corrupt the state after iteration 3: iteration 4 is non-finite
        calls.append(k)
        if k == 3:
            state.Lam[0][0, 0] = np.inf

    with pytest.warns(NonFiniteWarning):
        m = ADMM(hidden_layer_sizes=(5, 5), max_iter=8, random_state=0, verbose=0,
                 callback=poison).fit(t.X, t.y)
    assert m.n_iter_ == 3 and len(m.trace_) == 3 and np.all(np.isfinite(m.trace_.kkt_total))


# ---------------------------------------------------------------- trace I/O
def test_trace_save_load_roundtrip_and_plot(tmp_path, data):
    X, y, Xt, yt = data
    tr = ADMM(**SMALL).fit(X, y, X_test=Xt, y_test=yt).trace_
    path = tr.save(tmp_path / "t.npz")
    back = Trace.load(path)
    fields_equal(tr, back, skip=())
    assert back.meta == tr.meta
    fig = back.plot(tmp_path / "t.png", xi=1.0)
    assert (tmp_path / "t.png").stat().st_size > 10_000 and len(fig.axes) == 4


def test_trace_set_row_grows_beyond_capacity():
    tr = Trace.empty(2, 1)
    tr.set_row(0, {"lagrangian": 1.0, "kkt": np.arange(4.0)})
    tr.set_row(3, {"lagrangian": 4.0})
    assert len(tr) == 4 and tr.lagrangian[3] == 4.0 and np.isnan(tr.lagrangian[1])
    assert np.array_equal(tr.row(0)["kkt"], np.arange(4.0))


# ---------------------------------------------------------------- init, tasks
@pytest.mark.parametrize("scheme", sorted(INITS))
def test_init_schemes(scheme):
    w = init_weights((3, 200, 150, 2), scheme, scale=2.0, seed=0)
    assert [a.shape for a, _ in w] == [(200, 3), (150, 200), (2, 150)]
    assert all(np.all(b == 0) for _, b in w)
    W = w[1][0] / 2.0
    if scheme.startswith("orth"):
        np.testing.assert_allclose(W @ W.T, np.eye(150), atol=1e-10)
    expected_var = {"lecun_uniform": 1 / 200, "lecun_normal": 1 / 200, "xavier": 2 / 350,
                    "msra": 2 / 150}.get(scheme)
    if expected_var is not None:
        assert W.var() == pytest.approx(expected_var, rel=0.05)
    assert np.array_equal(w[0][0], init_weights((3, 200, 150, 2), scheme, 2.0, seed=0)[0][0])


def test_explicit_init_weights_are_used(data):
    X, y, _, _ = data
    w0 = init_weights((2, 8, 6, 1), "xavier", 1.0, seed=5)
    m = ADMM(**SMALL).fit(X, y, init_weights=w0)
    s = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    out = s(s(X @ w0[0][0].T) @ w0[1][0].T) @ w0[2][0].T
    assert m.init_train_mse_ == pytest.approx(np.mean((out[:, 0] - y) ** 2), rel=1e-12)
    assert m.trace_.meta["init"] == "explicit"


@pytest.mark.parametrize("name", tasks.TASKS)
def test_tasks(name):
    t = tasks.make_task(name, n=300, noise=0.1, seed=4, n_test=100)
    d = 1 if name == "square" else 2
    assert t.X.shape == (300, d) and t.y.shape == (300,) and t.X_test.shape == (100, d)
    assert np.all(np.abs(t.X) <= 1)
    np.testing.assert_allclose(t.y_test, t.f(t.X_test))          # clean test set
    resid = t.y - t.f(t.X)
    assert 0.07 < resid.std() < 0.13                              # noise of the requested level
    t2 = tasks.make_task(name, n=300, noise=0.1, seed=4, n_test=100)
    assert np.array_equal(t.X, t2.X) and np.array_equal(t.y, t2.y)
    with pytest.raises(ValueError, match="noise"):
        tasks.make_task(name, noise=-1)


def test_task_formulas():
    x = np.array([[0.5, -0.4], [0.0, 0.0], [0.6, 0.8]])
    assert np.allclose(tasks.make_task("product", n=2).f(x), [-0.2, 0.0, 0.48])
    r = np.linalg.norm(x, axis=1)
    assert np.allclose(tasks.make_task("smooth_radial", n=2).f(x), np.maximum(1 - r, 0) ** 4 * (4 * r + 1))
    assert np.allclose(tasks.make_task("radial", n=2).f(x)[1:], [0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tasks.make_task("radial", n=2).f(np.array([[0.5, 0.0]]))[0] == pytest.approx(1.0)


_DETERMINISM_SNIPPET = r"""
import sys, hashlib
import numpy as np
from solver import ADMM, tasks
junk = np.empty(int(sys.argv[1]))  # shifts where the solver's arrays land (alignment)
t = tasks.make_task("square", n=300, seed=0, n_test=0)
m = ADMM(hidden_layer_sizes=(30, 30), beta=1.0, lam=1e-6, max_iter=60, random_state=0,
         verbose=0).fit(t.X, t.y)
print(hashlib.sha256(np.ascontiguousarray(m.trace_.lagrangian).tobytes()).hexdigest())
"""


def test_same_seed_same_trace_across_processes_and_allocations():
    """Bit-identical traces in separate processes whose arrays sit at different addresses.

    The kernels' reassociated sums are vectorised; if their order depended on alignment,
    a chaotic beta = 1 run (docs/verify.md) would drift apart between processes."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digests = {subprocess.run([sys.executable, "-c", _DETERMINISM_SNIPPET, str(shift)], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
               for shift in (1, 17, 50_001)}
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_keep_best_includes_the_starting_point():
    """Seeded with Theorem 3's ReLU net (train error ~1.7e-14), ADMM's iterates are worse
    (~0.04 at beta = 1): keep_best must return the seed, as iteration 0."""
    from theory import relu_net

    layers = relu_net(1e-6, 1).layers()
    X = np.linspace(-1, 1, 101)[:, None]
    y = np.maximum(X[:, 0], 0.0)
    hidden = tuple(np.shape(w)[0] for w, _ in layers[:-1])
    m = ADMM(hidden_layer_sizes=hidden, max_iter=5, keep_best=True).fit(X, y, init_weights=layers)
    assert m.init_train_mse_ < 1e-12 and m.trace_.train_mse.min() > 1e-3
    assert m.best_iter_ == 0 and m.mse(X, y) == pytest.approx(m.init_train_mse_, rel=1e-9)


def test_resume_with_max_iter_below_the_checkpoint_is_an_error(tmp_path, data):
    X, y, _, _ = data
    ck = tmp_path / "ck.npz"
    ADMM(**{**SMALL, "max_iter": 6}, checkpoint=ck).fit(X, y)
    with pytest.raises(ValueError, match="max_iter.*6"):
        ADMM(**{**SMALL, "max_iter": 4}, checkpoint=ck).fit(X, y, resume=True)


@pytest.mark.parametrize("expr, match", [("t**2", "bounded"), ("Abs(t)", "differentiable"), ("t", "nonlinear")])
def test_activation_outside_assumption_1_is_refused_before_any_work(expr, match, data):
    import sympy as sp

    from theory.activations import Activation

    t = sp.Symbol("t")
    act = Activation.from_expr(sp.sympify(expr, locals={"t": t}), t, "user")
    X, y, _, _ = data
    with pytest.raises(ValueError, match=f"activation: .*{match}"):
        ADMM(hidden_layer_sizes=(3,), activation=act, max_iter=2).fit(X, y)
