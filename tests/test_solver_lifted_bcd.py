"""solver.lifted_bcd: each block step is optimal for its subproblem (KKT of the nonnegative QP,
the ridge normal equations), f does not increase, the trace says what the docs say it does.

The objective and its gradients are written again here, independently of the module (dense
loops over layers with explicit bias rows), so that the tests do not read the code's own
formulas back.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import minimize
from sklearn.utils.estimator_checks import check_estimator

from solver import Trace, tasks
from solver.init import init_weights
from solver.lifted_bcd import (LIFTED_BCD_SCHEMA, LiftedBCD, LiftedBCDEngine, hessian_U, lipschitz_U, matmul_count,
                               theta_schedule, theta_tail_product, u_step, w_step)


# ------------------------------------------------------------------ independent formulas
def aug(A):
    return np.vstack([A, np.ones((1, A.shape[1]))])


def f_ref(U, W, X, Y, gamma, lam):
    """f(U, W) written out: 1/2||W_{N+1}[U_N;1] - Y||^2 + sum gamma/2 ||U_n - W_n[U_{n-1};1]||^2
    + sum lam/2 ||W_n||^2 (features x samples)."""
    A = [X] + list(U)
    val = 0.5 * np.sum((W[-1] @ aug(A[-1]) - Y) ** 2)
    for n in range(len(U)):
        val += 0.5 * gamma[n] * np.sum((U[n] - W[n] @ aug(A[n])) ** 2)
    return val + sum(0.5 * l * np.sum(w * w) for l, w in zip(lam, W))


def grad_U_ref(U, W, X, Y, gamma):
    """d f / d U_n by the chain rule on the two terms that contain U_n."""
    A = [X] + list(U)
    N = len(U)
    out = []
    for n in range(N):
        own = gamma[n] * (U[n] - W[n] @ aug(A[n]))
        nxt_res = (W[n + 1] @ aug(U[n]) - (Y if n + 1 == N else U[n + 1]))
        nxt_w = 1.0 if n + 1 == N else gamma[n + 1]
        out.append(own + nxt_w * W[n + 1][:, :-1].T @ nxt_res)
    return out


def problem(seed, widths=(3, 5, 4, 2), m=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(widths[0], m))
    Y = rng.normal(size=(widths[-1], m))
    W = [rng.normal(size=(widths[i + 1], widths[i] + 1)) / np.sqrt(widths[i]) for i in range(len(widths) - 1)]
    U = [np.maximum(rng.normal(size=(d, m)), 0.0) for d in widths[1:-1]]
    return X, Y, W, U


# ------------------------------------------------------------------ U-step
@pytest.mark.parametrize("seed, dense_max", [(0, 1500), (1, 1500), (2, 1500), (3, 0)])
def test_u_step_meets_the_kkt_conditions_and_matches_lbfgsb(seed, dense_max):
    """At U* = u_step(...): U* >= 0, grad >= 0 where U* = 0, grad = 0 where U* > 0 (to the
    stated tolerance), and U* is the minimiser that scipy's bounded L-BFGS-B finds.
    ``dense_max=0``: the step from the norm bound instead of the exact eigenvalue."""
    X, Y, W, U0 = problem(seed)
    gamma = np.array([1.0, 2.5])
    c = np.append(gamma, 1.0)
    Ustar, info = u_step(W, U0, X, Y, c, tol=1e-12, max_iter=5000, dense_max=dense_max)
    assert info.converged
    assert np.isnan(info.mu) == (dense_max == 0)
    assert all(np.all(u >= 0) for u in Ustar)
    G = grad_U_ref(Ustar, W, X, Y, gamma)
    scale = max(np.abs(g).max() for g in grad_U_ref(U0, W, X, Y, gamma))
    for u, g in zip(Ustar, G):
        assert np.all(g[u == 0] >= -1e-9 * scale)
        assert np.all(np.abs(g[u > 0]) <= 1e-9 * scale)
    assert info.res <= 1e-9 * scale
    # the oracle: the same strictly convex problem by L-BFGS-B with bounds
    shapes = [u.shape for u in U0]
    sizes = [u.size for u in U0]

    def unpack(z):
        return [b.reshape(s) for b, s in zip(np.split(z, np.cumsum(sizes)[:-1]), shapes)]

    def fun(z):
        Us = unpack(z)
        return f_ref(Us, W, X, Y, gamma, [0, 0, 0]), np.concatenate([g.ravel() for g in grad_U_ref(Us, W, X, Y, gamma)])

    z0 = np.concatenate([u.ravel() for u in U0])
    res = minimize(fun, z0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * z0.size,
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000})
    Uo = unpack(res.x)
    f_star = f_ref(Ustar, W, X, Y, gamma, [0, 0, 0])
    assert f_star <= res.fun + 1e-10 * abs(res.fun)
    assert max(np.abs(a - b).max() for a, b in zip(Ustar, Uo)) < 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_u_hessian_and_its_step_bound(seed):
    """The U-Hessian is the Jacobian of the (affine) gradient written here, column by column
    (one sample), and the norm bound used above 1500 hidden units is >= its largest eigenvalue."""
    X, Y, W, U0 = problem(seed, m=1)
    gamma = np.array([0.5, 3.0])
    d = [u.shape[0] for u in U0]

    def g(z):
        Us = np.split(z, np.cumsum(d)[:-1])
        return np.concatenate([x.ravel() for x in grad_U_ref([u[:, None] for u in Us], W, X, Y, gamma)])

    z0 = np.zeros(sum(d))
    J = np.column_stack([g(np.eye(sum(d))[i]) - g(z0) for i in range(sum(d))])
    c = np.append(gamma, 1.0)
    np.testing.assert_allclose(hessian_U(W, c), J, atol=1e-12)
    L, mu = lipschitz_U(W, c)
    ev = np.linalg.eigvalsh(J)
    assert ev[-1] <= L <= ev[-1] * (1 + 1e-9) and mu == pytest.approx(ev[0], rel=1e-9) and mu > 0
    assert lipschitz_U(W, c, dense_max=0)[0] >= ev[-1]


def test_u_step_never_returns_a_worse_point_than_its_start():
    X, Y, W, U0 = problem(5)
    c = np.array([1.0, 1.0, 1.0])
    Ustar, _ = u_step(W, U0, X, Y, c, tol=1e-12, max_iter=5000)      # the minimiser
    again, info = u_step(W, Ustar, X, Y, c, tol=0.5, max_iter=3)      # started at it
    g = [1.0, 1.0]
    assert f_ref(again, W, X, Y, g, [0, 0, 0]) <= f_ref(Ustar, W, X, Y, g, [0, 0, 0])
    assert info.f <= info.f0


def test_u_step_tolerance_is_relative_to_the_warm_start_residual():
    X, Y, W, U0 = problem(3)
    c = np.array([1.0, 1.0, 1.0])
    _, loose = u_step(W, U0, X, Y, c, tol=1e-2, max_iter=5000)
    _, tight = u_step(W, U0, X, Y, c, tol=1e-8, max_iter=5000)
    assert loose.res <= 1e-2 * loose.res0 and tight.res <= 1e-8 * tight.res0
    assert loose.n_iter < tight.n_iter


# ------------------------------------------------------------------ W-step
@pytest.mark.parametrize("seed", [0, 1])
def test_w_step_solves_the_ridge_normal_equations(seed):
    """c_n (W_n* A - T_n) A^T + lam_n W_n* = 0 with A = [A_{n-1}; 1] for every layer."""
    X, Y, _, U = problem(seed)
    gamma, lam = np.array([0.7, 3.0]), np.array([1e-3, 0.2, 5.0])
    c = np.append(gamma, 1.0)
    Ws = w_step(U, X, Y, c, lam)
    A = [X] + U
    T = U + [Y]
    for n, Wn in enumerate(Ws):
        r = c[n] * (Wn @ aug(A[n]) - T[n]) @ aug(A[n]).T + lam[n] * Wn
        assert np.abs(r).max() <= 1e-10 * (1 + np.abs(c[n] * T[n] @ aug(A[n]).T).max())


# ------------------------------------------------------------------ the iteration
@pytest.fixture(scope="module")
def data():
    t = tasks.square(n=40, seed=1, n_test=15)
    return t.X, t.y, t.X_test, t.y_test


@pytest.mark.parametrize("rule", ["inverse_square", "constant", "geometric"])
@pytest.mark.parametrize("K", [0, 1, 3, 40])
def test_theta_tail_product_is_the_product_of_the_rest_of_the_schedule(rule, K):
    """prod_{t>K} (1 - theta_t) against a long direct product (the tail past 10^5 changes
    1/t^2's by < 1e-5 relative), and the recursion P(K) = (1 - theta_{K+1}) P(K+1)."""
    direct = np.prod([1.0 - theta_schedule(rule, t, 0.7) for t in range(K + 1, 100_000)])
    assert theta_tail_product(rule, K, 0.7) == pytest.approx(direct, rel=2e-5, abs=1e-300)
    assert theta_tail_product(rule, K, 0.7) == pytest.approx(
        (1 - theta_schedule(rule, K + 1, 0.7)) * theta_tail_product(rule, K + 1, 0.7), rel=1e-12, abs=1e-300)


def test_the_default_schedule_is_plain_bcd_and_does_not_freeze():
    assert LiftedBCD().theta == "constant" and theta_tail_product(LiftedBCD().theta, 1) == 0.0
    assert theta_tail_product("inverse_square", 1) == 0.5   # the old default capped all moves after t = 1


def test_theta_schedules():
    assert [theta_schedule("inverse_square", t) for t in (1, 2, 3)] == [1.0, 0.25, 1 / 9]
    assert theta_schedule("constant", 17) == 1.0
    assert theta_schedule("geometric", 4, 0.5) == 0.125
    with pytest.raises(ValueError, match="theta"):
        theta_schedule("harmonic", 2)


def test_initial_lifted_point_is_the_relu_forward_pass(data):
    X, y = data[:2]
    w0 = init_weights((1, 6, 4, 1), seed=2)
    eng = LiftedBCDEngine(X, y[:, None], [1.0, 1.0], [1e-3] * 3)
    s = eng.initial_state(w0)
    H = X.T
    for (W, b), U in zip(w0[:-1], s.U):
        H = np.maximum(W @ H + b[:, None], 0)
        np.testing.assert_allclose(U, H, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("theta", ["inverse_square", "constant", "geometric"])
def test_iterates_are_the_relaxed_block_minimisers(data, theta):
    """U^t = (1-theta_t) U^{t-1} + theta_t U*, W^t likewise, with the trace's theta_t and moves."""
    X, y = data[:2]
    states = []

    def keep(intermediate_result):
        s = intermediate_result.state
        states.append(([u.copy() for u in s.U], [w.copy() for w in s.W]))

    m = LiftedBCD(hidden_layer_sizes=(5,), theta=theta, max_iter=4, random_state=0, callback=keep).fit(X, y)
    tr = m.trace_
    for t in range(2, 5):
        (U0, W0), (U1, W1) = states[t - 2], states[t - 1]
        th = tr.theta[t - 1]
        assert th == theta_schedule(theta, t, 0.5)
        step_U = np.linalg.norm(U1[0] - U0[0])
        step_W = [np.linalg.norm(a - b) for a, b in zip(W1, W0)]
        np.testing.assert_allclose(step_U, th * tr.move_U[t - 1, 0], rtol=1e-9)
        np.testing.assert_allclose(step_W, th * tr.move_W[t - 1], rtol=1e-9)
        # the recorded half-step values are f evaluated here at (U^{t-1}, W^{t-1}) and (U^t, W^{t-1})
        g, lam = [1.0], [1e-3, 1e-3]
        np.testing.assert_allclose(tr.objective_start[t - 1], f_ref(U0, W0, X.T, y[None, :], g, lam), rtol=1e-10)
        np.testing.assert_allclose(tr.objective_u[t - 1], f_ref(U1, W0, X.T, y[None, :], g, lam), rtol=1e-10)
        # the unrelaxed W* is the ridge solution at the relaxed U^t
        Ws = [W0[i] + (W1[i] - W0[i]) / th for i in range(2)]
        ref = w_step(U1, X.T, y[None, :], np.array([1.0, 1.0]), np.array([1e-3, 1e-3]))
        for a, b in zip(Ws, ref):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_trace_fields_match_an_independent_evaluation(data):
    X, y = data[:2]
    gamma, lam = [2.0, 0.5], [1e-2, 1e-3, 0.1]
    m = LiftedBCD(hidden_layer_sizes=(4, 3), gamma=gamma, lam=lam, theta="inverse_square", max_iter=3,
                  random_state=1).fit(X, y)   # theta < 1: grad_W is not rounding noise
    s, tr = m.state_, m.trace_
    Xt, Yt = X.T, y[None, :]
    f = f_ref(s.U, s.W, Xt, Yt, gamma, lam)
    np.testing.assert_allclose(tr.objective[-1], f, rtol=1e-12)
    np.testing.assert_allclose(tr.loss[-1] + tr.coupling[-1] + tr.reg[-1], f, rtol=1e-12)
    G = grad_U_ref(s.U, s.W, Xt, Yt, gamma)
    for n in range(2):
        pg = np.where(s.U[n] > 0, G[n], np.minimum(G[n], 0))
        np.testing.assert_allclose(tr.pg_U[-1, n], np.linalg.norm(pg), rtol=1e-9)
        np.testing.assert_allclose(tr.comp_U[-1, n], np.linalg.norm(np.minimum(s.U[n], G[n])), rtol=1e-9)
    # grad_W by central differences (exact up to rounding for a quadratic)
    A = [Xt] + s.U
    T = s.U + [Yt]
    cw = gamma + [1.0]
    for n in range(3):
        gW = cw[n] * (s.W[n] @ aug(A[n]) - T[n]) @ aug(A[n]).T + lam[n] * s.W[n]
        np.testing.assert_allclose(tr.grad_W[-1, n], np.linalg.norm(gW), rtol=1e-9)
    assert np.isnan(tr.pg_U[-1, 2]) and np.isnan(tr.move_U[-1, 2])
    # the lift gap against the real ReLU net, and the network-level error
    H = Xt
    for n in range(2):
        H = np.maximum(s.W[n] @ aug(H), 0)
        np.testing.assert_allclose(tr.lift_gap[-1, n], np.linalg.norm(s.U[n] - H), rtol=1e-9, atol=1e-12)
    out = s.W[2] @ aug(H)
    np.testing.assert_allclose(tr.train_mse[-1], np.mean((out - Yt) ** 2), rtol=1e-12)
    np.testing.assert_allclose(m.predict(X), out[0], rtol=1e-12)


def test_plain_bcd_leaves_no_w_gradient(data):
    """theta = 1: W^t is the exact ridge minimiser at U^t, so grad_W f(U^t, W^t) = 0."""
    X, y = data[:2]
    tr = LiftedBCD(hidden_layer_sizes=(5,), theta="constant", max_iter=5, random_state=0).fit(X, y).trace_
    assert np.all(tr.grad_W <= 1e-9 * tr.grad_size[:, None])
    assert np.all(tr.grad_W[1:] < 1e-3 * tr.pg_U[1:, :1])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2 ** 16), widths=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       gamma=st.floats(0.05, 20.0), lam=st.floats(1e-4, 10.0),
       theta=st.sampled_from(["inverse_square", "constant", "geometric"]), inner_tol=st.sampled_from([1e-2, 1e-8]))
def test_f_never_increases_along_the_half_steps(seed, widths, gamma, lam, theta, inner_tol):
    """Property (convexity of each block + exact/monotone block solvers): for any data, widths,
    weights and schedule, f(U^{t-1},W^{t-1}) >= f(U^t,W^{t-1}) >= f(U^t,W^t), and each
    iteration starts where the previous ended; checked against f recomputed here."""
    rng = np.random.default_rng(seed)
    n = 12
    X = rng.normal(size=(n, 2))
    y = rng.normal(size=n)
    m = LiftedBCD(hidden_layer_sizes=tuple(widths), gamma=gamma, lam=lam, theta=theta, inner_tol=inner_tol,
                  max_iter=6, random_state=seed, init_scale=2.0).fit(X, y)
    tr = m.trace_
    seq = np.column_stack([tr.objective_start, tr.objective_u, tr.objective]).ravel()
    tol = 1e-12 * np.maximum(np.abs(seq[:-1]), 1.0)
    assert np.all(np.diff(seq)[np.arange(seq.size - 1) % 3 != 2] <= tol[np.arange(seq.size - 1) % 3 != 2])
    np.testing.assert_array_equal(tr.objective_start[1:], tr.objective[:-1])
    N = len(widths)
    np.testing.assert_allclose(tr.objective[-1], f_ref(m.state_.U, m.state_.W, X.T, y[None, :], [gamma] * N,
                                                       [lam] * (N + 1)), rtol=1e-10)


# ------------------------------------------------------------------ counting, seeds, resume
@pytest.mark.parametrize("track", [True, False])
def test_matmul_count_is_the_engines_own_count(data, track):
    X, y = data[:2]
    eng = LiftedBCDEngine(X, y[:, None], [1.0, 2.0], [1e-3] * 3, theta="constant")
    st_ = eng.initial_state(init_weights((1, 6, 4, 1), seed=0))
    tr = Trace.empty(3, 4, schema=LIFTED_BCD_SCHEMA)
    for k in range(4):
        row = tr.new_row()
        before = eng.n_matmul
        eng.iterate(st_, row, track=track, train=track)
        assert eng.n_matmul - before == matmul_count(2, row["inner_grads"], track=track, train=track, warm=k > 0)
        assert row["inner_iter"] <= row["inner_grads"] <= 2 * row["inner_iter"] + 1


def test_same_seed_same_trace_and_other_seed_differs(data):
    X, y = data[:2]
    kw = dict(hidden_layer_sizes=(5, 3), max_iter=5)
    a = LiftedBCD(**kw, random_state=4).fit(X, y)
    b = LiftedBCD(**kw, random_state=4).fit(X, y)
    c = LiftedBCD(**kw, random_state=5).fit(X, y)
    for name in a.trace_.schema.names:
        if name != "time":
            np.testing.assert_array_equal(getattr(a.trace_, name), getattr(b.trace_, name), err_msg=name)
    assert not np.array_equal(a.trace_.objective, c.trace_.objective)


def test_checkpoint_resume_is_bit_for_bit(tmp_path, data):
    X, y, Xt, yt = data
    kw = dict(hidden_layer_sizes=(5,), theta="constant", max_iter=8, random_state=3)
    full = LiftedBCD(**kw).fit(X, y, X_test=Xt, y_test=yt)
    ck = tmp_path / "bcd.npz"

    def crash(intermediate_result):
        if intermediate_result.nit == 5:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        LiftedBCD(**kw, checkpoint=ck, checkpoint_every=3, callback=crash).fit(X, y, X_test=Xt, y_test=yt)
    resumed = LiftedBCD(**kw, checkpoint=ck, checkpoint_every=3).fit(X, y, X_test=Xt, y_test=yt, resume=True)
    for name in full.trace_.schema.names:
        if name != "time":
            np.testing.assert_array_equal(getattr(full.trace_, name), getattr(resumed.trace_, name), err_msg=name)
    saved = Trace.load(full.trace_.save(tmp_path / "t.npz"))
    assert saved.schema.name == "lifted_bcd"


# ------------------------------------------------------------------ estimator
@pytest.mark.parametrize("kw, match", [
    (dict(gamma=-1.0), "gamma"), (dict(gamma=[1.0, 2.0]), "gamma: expected a scalar or 1"),
    (dict(gamma="big"), "gamma"), (dict(lam=0.0), "lam"), (dict(lam=[1.0]), "lam: expected a scalar or 2"),
    (dict(theta="harmonic"), "theta: expected one of"), (dict(theta_rate=1.0), "theta_rate"),
    (dict(inner_tol=-1e-3), "inner_tol"), (dict(inner_max_iter=0), "inner_max_iter"),
    (dict(track="yes"), "track"), (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
    (dict(max_iter=0), "max_iter"), (dict(n_threads=0), "n_threads"),
])
def test_bad_parameters_raise_naming_the_argument(data, kw, match):
    with pytest.raises(ValueError, match=match):
        LiftedBCD(**{"hidden_layer_sizes": (3,), "max_iter": 2, **kw}).fit(*data[:2])


def test_bad_data_raise_naming_the_argument(data):
    X, y = data[:2]
    with pytest.raises(ValueError, match="X"):
        LiftedBCD(max_iter=1).fit(np.full_like(X, np.nan), y)
    with pytest.raises(ValueError, match="y"):
        LiftedBCD(max_iter=1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="init_weights"):
        LiftedBCD(hidden_layer_sizes=(3,), max_iter=1).fit(X, y, init_weights=[(np.ones((3, 1)), np.zeros(3))])
    with pytest.raises(TypeError):
        LiftedBCD((3,))


def test_one_hot_classification_separates_two_blobs():
    """Classification as squared loss on one-hot targets (docs/methods/lifted_bcd.md)."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 0.5, (30, 2)), rng.normal(2, 0.5, (30, 2))])
    lab = np.repeat([0, 1], 30)
    m = LiftedBCD(hidden_layer_sizes=(8,), gamma=10.0, theta="constant", max_iter=15, random_state=0)
    m.fit(X, np.eye(2)[lab])
    assert np.mean(m.predict(X).argmax(axis=1) == lab) == 1.0


def test_passes_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(LiftedBCD(hidden_layer_sizes=(4,), max_iter=10, keep_best=True), on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert not failed, failed
