"""The inexact augmented Lagrangian method for sparse leaky-ReLU nets (solver/inexact_alm/estimator.py,
docs/methods/inexact_alm.md): each block map is tested by the optimality condition of its
subproblem at the returned point, the outer updates by their formulas recomputed from the
definitions, and the estimator by scikit-learn's checks."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.utils.estimator_checks import check_estimator

from solver import tasks
from solver.init import init_weights
from solver.inexact_alm import (InexactALM, group_soft_threshold, joint_piecewise_min,
                                matmuls_per_iteration, scalar_piecewise_min)

FAST = dict(hidden_layer_sizes=(3,), max_iter=4, inner_max_iter=60, random_state=0)
floats = st.floats(-5, 5, allow_nan=False)


@pytest.fixture(scope="module")
def data():
    t = tasks.product(n=16, seed=1, n_test=8)
    return t.X, t.y, t.X_test, t.y_test


@pytest.fixture(scope="module")
def fitted(data):
    return InexactALM(**FAST).fit(*data[:2], X_test=data[2], y_test=data[3])


def _engine(X, y, widths, seed=0, **kw):
    m = InexactALM(hidden_layer_sizes=widths[1:-1], random_state=seed, **kw)
    e = m._make_engine(X, y.reshape(len(y), -1), m._validate_method_params(1))
    return e, e.initial_state(init_weights(widths, "msra", 1.0, seed))


# ------------------------------------------------------------------ the block maps
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.floats(0.0, 3.0), st.integers(0, 2 ** 31 - 1))
def test_group_soft_threshold_is_the_prox(d, m, t, seed):
    """W = prox_{t ||.||_{2,1}}(Z) iff Z - W in t d||W||: Z_j - W_j = t W_j/||W_j|| where W_j != 0,
    ||Z_j|| <= t where W_j = 0 (the subdifferential of the column norm)."""
    Z = np.random.default_rng(seed).normal(size=(d, m)) * 2
    W = group_soft_threshold(Z, t)
    for j in range(m):
        nw = np.linalg.norm(W[:, j])
        if nw > 0:
            np.testing.assert_allclose(Z[:, j] - W[:, j], t * W[:, j] / nw, atol=1e-12)
        else:
            assert np.linalg.norm(Z[:, j]) <= t + 1e-12


@settings(max_examples=100, deadline=None)
@given(st.floats(0.05, 5), floats, st.floats(0.1, 100), st.sampled_from([(1.0, 0.1), (-1.0, -1.0), (1.0, 0.5)]),
       floats, floats)
def test_scalar_piecewise_min_has_zero_derivative(q, c, rho, p, r1, r2):
    """The returned u zeroes f'(u) = q u - c + rho sum_i p_i max(0, p_i u + r_i) (f strongly convex)."""
    p1, p2 = p
    u = scalar_piecewise_min(q, np.array([c]), rho, p1, np.array([r1]), p2, np.array([r2]))[0]
    d = q * u - c + rho * (p1 * max(0, p1 * u + r1) + p2 * max(0, p2 * u + r2))
    assert abs(d) <= 1e-9 * (1 + abs(c) + rho * (abs(r1) + abs(r2)))


@settings(max_examples=100, deadline=None)
@given(st.floats(0.1, 100), st.floats(0.01, 0.9), floats, floats, st.floats(1e-3, 50), floats, floats, floats, floats)
def test_joint_piecewise_min_has_zero_gradient(rho, alpha, a, cu, Lc, v0, cv, l1, l2):
    """Both partial derivatives of the joint (U, V) objective vanish at the returned point."""
    u, v = (x[0] for x in joint_piecewise_min(rho, alpha, np.array([a]), cu, Lc, np.array([v0]), cv,
                                              np.array([l1]), np.array([l2])))
    P1, P2 = max(0, u - v + l1), max(0, alpha * u - v + l2)
    gu = rho * (u - a) - cu + rho * P1 + rho * alpha * P2
    gv = Lc * (v - v0) + cv - rho * P1 - rho * P2
    scale = 1 + rho * (abs(a) + abs(l1) + abs(l2)) + abs(cu) + abs(cv) + Lc * abs(v0)
    assert abs(gu) <= 1e-9 * scale and abs(gv) <= 1e-9 * scale


@pytest.mark.parametrize("comp", ["l1", "product"])
def test_sweeps_never_increase_the_augmented_lagrangian(data, comp):
    """Every block map minimises a majorant of L_rho in its block, so a sweep cannot raise L_rho
    (with multipliers and rho fixed; nonzero multipliers set so the PHR shifts matter)."""
    X, y = data[:2]
    e, s = _engine(X, y, (2, 5, 4, 1), lam=0.05, complementarity=comp)
    rng = np.random.default_rng(0)
    s.Mu = [rng.normal(size=u.shape) * 0.1 for u in s.U]
    s.La = [np.abs(rng.normal(size=v.shape)) * 0.1 for v in s.V]
    s.Lb = [np.abs(rng.normal(size=v.shape)) * 0.1 for v in s.V]
    L = [e.augmented_lagrangian(s, 10.0)]
    for _ in range(25):
        e.inner_sweep(s, 10.0)
        L.append(e.augmented_lagrangian(s, 10.0))
    assert np.all(np.diff(L) <= 1e-10 * (1 + np.abs(L[1:])))
    assert L[-1] < L[0]


def test_inner_solve_meets_eps_and_momentum_keeps_descent(data):
    X, y = data[:2]
    e, s = _engine(X, y, (2, 4, 1), lam=0.01)
    L0 = e.augmented_lagrangian(s, 10.0)
    res, WA, it, restarts = e.inner_solve(s, 10.0, 1e-3)
    assert res <= 1e-3 and 0 < it < e.inner_max_iter
    assert e.augmented_lagrangian(s, 10.0) <= L0
    # the residual it reports is dist(0, d L_rho) recomputed from scratch
    assert e.inner_residual(s, 10.0)[0] == pytest.approx(res, rel=1e-12)


def test_inner_residual_is_the_distance_to_the_subdifferential(data):
    """Finite differences of L_rho agree with the smooth gradient blocks the residual uses (lam = 0,
    so L_rho is C^1 and the residual is the gradient norm)."""
    X, y = data[:2]
    e, s = _engine(X, y, (2, 3, 1), lam=0.0, complementarity="product")
    rng = np.random.default_rng(1)
    s.U = [u + 0.1 * rng.normal(size=u.shape) for u in s.U]
    s.V = [v + 0.1 * rng.normal(size=v.shape) for v in s.V]
    rho, h, g2 = 3.0, 1e-6, 0.0
    for blk in ("W", "U", "V"):
        for j, arr in enumerate(getattr(s, blk)):
            G = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + h
                fp = e.augmented_lagrangian(s, rho)
                arr[idx] = old - h
                fm = e.augmented_lagrangian(s, rho)
                arr[idx] = old
                G[idx] = (fp - fm) / (2 * h)
            g2 += np.sum(G * G)
    assert e.inner_residual(s, rho)[0] == pytest.approx(np.sqrt(g2), rel=1e-5)


# ------------------------------------------------------------------ the outer updates
def test_initial_point_is_feasible_and_complementary(data):
    X, y = data[:2]
    e, s = _engine(X, y, (2, 4, 3, 1))
    for j in range(len(s.W)):
        A = np.vstack([X.T if j == 0 else s.V[j - 1], np.ones((1, X.shape[0]))])
        np.testing.assert_allclose(s.U[j], s.W[j] @ A, atol=1e-12)
    for U, V in zip(s.U, s.V):
        assert np.all(U - V <= 0) and np.all(0.1 * U - V <= 0)
        assert e.comp_value(U, V) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("mult_max", [1e6, 1e-3])
def test_multiplier_update_and_safeguard(data, mult_max):
    """Mubar = clip(Mubar + rho h, -M, M), Lambar = clip(Lambar + rho g, 0, M) with h, g recomputed
    from the returned point; ``clipped`` counts the entries the safeguard changed."""
    X, y = data[:2]
    m = InexactALM(**{**FAST, "max_iter": 1}, mult_max=mult_max)
    e = m._make_engine(X, y[:, None], m._validate_method_params(1))
    s = e.initial_state(init_weights((2, 3, 1), "msra", 1.0, 0))
    rng = np.random.default_rng(2)
    s.Mu = [rng.normal(size=u.shape) * 1e-3 for u in s.U]
    s.La = [np.abs(rng.normal(size=v.shape)) * 1e-3 for v in s.V]
    s.Lb = [np.zeros_like(v) for v in s.V]
    old = ([a.copy() for a in s.Mu], [a.copy() for a in s.La], [a.copy() for a in s.Lb], s.rho)
    from solver.trace import Trace
    row = Trace.empty(2, 1, schema=InexactALM._schema).new_row()
    e.iterate(s, row)
    Mu0, La0, Lb0, rho = old
    M = mult_max
    raw_clipped = 0
    for j in range(2):
        A = np.vstack([X.T if j == 0 else s.V[0], np.ones((1, X.shape[0]))])
        est = Mu0[j] + rho * (s.U[j] - s.W[j] @ A)
        np.testing.assert_allclose(s.Mu[j], np.clip(est, -M, M), rtol=1e-12, atol=1e-15)
        raw_clipped += np.count_nonzero(np.abs(est) > M)
    for L0, Ln, g in ((La0[0], s.La[0], s.U[0] - s.V[0]), (Lb0[0], s.Lb[0], 0.1 * s.U[0] - s.V[0])):
        est = np.maximum(L0 + rho * g, 0)
        np.testing.assert_allclose(Ln, np.clip(est, 0, M), rtol=1e-12, atol=1e-15)
        raw_clipped += np.count_nonzero(est > M)
    assert row["clipped"] == raw_clipped
    assert (raw_clipped > 0) == (mult_max < 1)


def test_trace_rules_rho_eps_kkt_and_product_count(fitted):
    """From the trace alone: rho_{k+1} = min(2 rho_k, rho_max) exactly when infeas_k > 0.9
    infeas_{k-1}; eps_{k+1} = max(eps_min, eps_k / 2); kkt_total^2 = stat^2 + viol^2 + comp^2;
    where the inner cap did not bind, inner_res <= eps; the stationarity computed from f and
    the constraint Jacobians with the unclipped estimates equals the inner residual; the
    engine's product count matches :func:`matmuls_per_iteration`."""
    tr = fitted.trace_
    K = len(tr)
    for k in range(1, K):
        grew = tr.infeas[k - 1] > 0.9 * tr.infeas[k - 2] if k >= 2 else False
        assert tr.rho[k] == (min(2 * tr.rho[k - 1], 1e8) if grew else tr.rho[k - 1])
        assert tr.eps[k] == pytest.approx(max(1e-7, tr.eps[k - 1] / 2))
    np.testing.assert_allclose(tr.kkt_total ** 2, tr.kkt_stat ** 2 + tr.kkt_viol ** 2 + tr.kkt_comp ** 2, rtol=1e-12)
    free = tr.inner_iter < 60
    assert np.all(tr.inner_res[free] <= tr.eps[free])
    np.testing.assert_allclose(tr.kkt_stat, tr.inner_res, rtol=1e-7, atol=1e-12)
    for k in range(K):
        assert tr.n_matmul[k] == matmuls_per_iteration(2, int(tr.inner_iter[k]), int(tr.inner_restarts[k]))


def test_trace_is_consistent_with_the_network(fitted, data):
    X, y = data[:2]
    tr = fitted.trace_
    assert tr.schema.name == "inexact_alm" and len(tr) == 4
    assert tr.train_mse[-1] == pytest.approx(fitted.mse(X, y), rel=1e-12)
    # predict is the leaky-ReLU forward pass of weights_
    (W1, b1), (W2, b2) = fitted.weights_
    H = np.maximum(X @ W1.T + b1, 0.1 * (X @ W1.T + b1))
    np.testing.assert_allclose(fitted.predict(X), (H @ W2.T + b2)[:, 0], rtol=1e-12)
    np.testing.assert_allclose(tr.objective, tr.loss + tr.group + tr.comp_pen, rtol=1e-12)
    assert np.all(np.isnan(tr.viol_ineq[:, -1])) and np.all(np.isfinite(tr.viol_ineq[:, 0]))


def test_group_sparsity_zero_columns_cut_the_inputs(data):
    """A large group weight zeroes whole columns of W_1, and the net then ignores those inputs."""
    X, y = data[:2]
    m = InexactALM(**{**FAST, "max_iter": 3}, lam=[20.0, 0.0]).fit(X, y)
    W1 = m.weights_[0][0]
    zero = ~np.any(W1 != 0, axis=0)
    assert zero.any() and m.trace_.sparsity[-1, 0] == pytest.approx(zero.mean())
    X2 = X.copy()
    X2[:, zero] = np.random.default_rng(0).normal(size=(X.shape[0], int(zero.sum())))
    np.testing.assert_array_equal(m.predict(X2), m.predict(X))


def test_product_form_augmented_lagrangian_is_unbounded_below(data):
    """Why l1 is the default: along (U, V) = t (1, s), 1 - s = beta (1 - alpha) / rho, with the
    equality kept (b_1 = t), the product form adds t^2 (1 - s) [rho/2 (1 - s) - beta (s - alpha)]
    < 0 per entry, so its L_rho tends to -inf, for every rho; the l1 form's grows."""
    X, y = data[:2]
    vals = {}
    for comp in ("product", "l1"):
        e, s = _engine(X, y, (2, 1, 1), complementarity=comp)
        s.W[0][:] = 0.0
        s.W[1][:] = 0.0
        out = []
        for t in (1e1, 1e2, 1e3):
            s.W[0][:, -1] = t
            s.U[0][:] = t
            s.V[0][:] = (1 - 0.1 * 0.9 / 1e4) * t
            s.W[1][:] = 0.0
            s.U[1][:] = 0.0
            out.append(e.augmented_lagrangian(s, 1e4))
        vals[comp] = out
    const = 0.5 * float(np.sum(y ** 2))              # the loss with the output at 0
    drop = [v - const for v in vals["product"]]
    assert drop[2] < drop[1] < drop[0] < 0
    assert drop[2] == pytest.approx(1e4 * drop[0], rel=1e-6)   # quadratic in t
    assert vals["l1"][2] > 0


# ------------------------------------------------------------------ estimator
def test_same_seed_same_result_other_seed_differs(data):
    X, y = data[:2]
    a = InexactALM(**{**FAST, "max_iter": 2}).fit(X, y)
    b = InexactALM(**{**FAST, "max_iter": 2}).fit(X, y)
    c = InexactALM(**{**FAST, "max_iter": 2, "random_state": 1}).fit(X, y)
    for name in a.trace_.schema.names:
        if name != "time":
            np.testing.assert_array_equal(getattr(a.trace_, name), getattr(b.trace_, name))
    assert not np.array_equal(a.predict(X), c.predict(X))


@pytest.mark.parametrize("kw, match", [
    (dict(alpha=1.0), "alpha"), (dict(alpha=0.0), "alpha"), (dict(lam=-1.0), "lam"),
    (dict(lam=[1.0, 2.0, 3.0]), "lam"), (dict(lam="big"), "lam"), (dict(beta=0.0), "beta"),
    (dict(complementarity="square"), "complementarity"), (dict(rho=0), "rho"),
    (dict(rho_factor=1.0), "rho_factor"), (dict(rho_max=1.0), "rho_max"), (dict(progress=1.0), "progress"),
    (dict(mult_max=-1.0), "mult_max"), (dict(eps0=0.0), "eps0"), (dict(eps_decay=1.5), "eps_decay"),
    (dict(eps_min=1.0), "eps_min"), (dict(inner_max_iter=0), "inner_max_iter"), (dict(w_steps=1.5), "w_steps"),
    (dict(momentum="yes"), "momentum"), (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
    (dict(max_iter=0), "max_iter"),
])
def test_bad_parameters_raise_naming_the_argument(data, kw, match):
    with pytest.raises(ValueError, match=match):
        InexactALM(**{**FAST, **kw}).fit(*data[:2])


def test_bad_data_and_keyword_only():
    with pytest.raises(TypeError):
        InexactALM((3,))
    with pytest.raises(ValueError, match="X"):
        InexactALM(**FAST).fit(np.array([[np.nan, 1.0]]), [1.0])
    with pytest.raises(ValueError, match="init_weights"):
        InexactALM(**FAST).fit(np.ones((4, 2)), np.ones(4), init_weights=[(np.ones((3, 2)), np.ones(3))])


def test_checkpoint_resume_is_bit_for_bit(tmp_path, data):
    X, y = data[:2]
    full = InexactALM(**FAST).fit(X, y)
    ck = tmp_path / "ialm.npz"

    def crash(intermediate_result):
        if intermediate_result.nit == 3:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        InexactALM(**FAST, checkpoint=ck, checkpoint_every=2, callback=crash).fit(X, y)
    res = InexactALM(**FAST, checkpoint=ck, checkpoint_every=2).fit(X, y, resume=True)
    for name in full.trace_.schema.names:
        if name != "time":
            np.testing.assert_array_equal(getattr(full.trace_, name), getattr(res.trace_, name), err_msg=name)


def test_check_estimator_passes():
    est = InexactALM(hidden_layer_sizes=(3,), max_iter=2, inner_max_iter=15, keep_best=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:300] for r in results if r["status"] == "failed"}
    assert not failed, failed


def test_leaky_relu():
    """The inexact ALM's activation is theory's leaky ReLU, outside Assumption 1."""
    from theory import leaky_relu

    s = leaky_relu(0.2)
    assert s.name == "leaky_relu(0.2)" and not s.assumption_1
    assert InexactALM(alpha=0.2)._network_activation() == s
    np.testing.assert_array_equal(s(np.array([-2.0, 0.0, 3.0])), [-0.4, 0.0, 3.0])
    np.testing.assert_array_equal(s.d1(np.array([-2.0, 0.0, 3.0])), [0.2, 0.2, 1.0])


def test_track_false_skips_the_kkt_and_counts_fewer_products(data, tmp_path):
    X, y = data[:2]
    m = InexactALM(**{**FAST, "max_iter": 2}, track=False).fit(X, y)
    tr = m.trace_
    assert np.all(np.isnan(tr.kkt_total)) and np.all(np.isnan(tr.train_mse))
    assert np.all(np.isfinite(tr.inner_res)) and np.all(np.isfinite(tr.kkt_viol))
    for k in range(2):
        assert tr.n_matmul[k] == matmuls_per_iteration(2, int(tr.inner_iter[k]), int(tr.inner_restarts[k]),
                                                       track=False, train=False)
    from solver.trace import Trace
    back = Trace.load(tr.save(tmp_path / "t.npz"))
    assert back.schema.name == "inexact_alm"
    np.testing.assert_array_equal(back.inner_res, tr.inner_res)


# ------------------------------------------------------------------ issue 23: the faster inner solve
def test_compiled_kernels_match_the_numpy_reference():
    """The fused numba kernels of the (U, V) step and of the hidden gradient norms agree with
    their numpy twins (written from :func:`joint_piecewise_min` and the gradient formulas),
    on entries of both signs, exact zeros (the kink of sigma) and multipliers of every size."""
    from solver.inexact_alm.kernels import NUMBA_KERNELS as NB, NUMPY_KERNELS as NP

    rng = np.random.default_rng(5)
    d, n = 7, 41
    U, V, T, D, R, WtR = (rng.normal(size=(d, n)) for _ in range(6))
    U[:, :5] = 0.0
    V[:, 3:8] = U[:, 3:8]                        # g1 = 0 exactly at some entries
    La, Lb = np.abs(rng.normal(size=(d, n))), np.abs(rng.normal(size=(d, n))) * 10
    La[0] = 0.0
    for rho, alpha, beta, Lc in ((10.0, 0.1, 0.1, 3.0), (0.5, 0.7, 2.0, 1e-3)):
        out = [np.empty((d, n)) for _ in range(4)]
        NB["joint_uv"](rho, alpha, beta, Lc, T, U, V, D, La, Lb, out[0], out[1])
        NP["joint_uv"](rho, alpha, beta, Lc, T, U, V, D, La, Lb, out[2], out[3])
        np.testing.assert_allclose(out[0], out[2], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out[1], out[3], rtol=1e-12, atol=1e-12)
        a = NB["hidden_grads_sq"](rho, alpha, beta, U, V, R, WtR, La, Lb)
        b = NP["hidden_grads_sq"](rho, alpha, beta, U, V, R, WtR, La, Lb)
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_numba_and_numpy_kernels_give_the_same_fit(data):
    X, y = data[:2]
    a = InexactALM(**FAST).fit(X, y)
    b = InexactALM(**FAST)
    b._make_engine_orig = b._make_engine
    e = b._make_engine(X, y.reshape(len(y), -1), b._validate_method_params(1))
    from solver.inexact_alm.kernels import NUMPY_KERNELS
    b._make_engine = lambda *args: (setattr(e, "K", NUMPY_KERNELS) or e)
    b.fit(X, y)
    np.testing.assert_allclose(a.trace_.kkt_total, b.trace_.kkt_total, rtol=1e-9)
    np.testing.assert_array_equal(a.trace_.inner_iter, b.trace_.inner_iter)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mm_weight_block_descends_to_the_group_lasso_minimiser(seed):
    """On an ill-conditioned Gram (column scales over 4 decades) the MM steps never raise
    phi(W) = rho/2 tr(W G W^T) - rho <W, C> + lam ||Wbar||_{2,1} and reach its minimiser:
    dist(0, d phi) is tiny, where as many MFISTA steps leave it large."""
    rng = np.random.default_rng(seed)
    d_out, d_in, n = 6, 9, 200
    A = np.vstack([rng.normal(size=(d_in, n)) * np.logspace(-2, 2, d_in)[:, None], np.ones((1, n))])
    G = A @ A.T
    C = rng.normal(size=(d_out, n)) @ A.T
    C[:, 0] *= 1e-4                               # a group whose gradient is below lam at 0
    rho, lam = 2.0, 5.0
    Lw = rho * float(np.linalg.eigvalsh(G)[-1])
    e, _ = _engine(np.zeros((4, 2)), np.zeros(4), (2, 3, 1), w_steps=100)

    def dist(W):
        g = rho * (W @ G - C)
        return np.sqrt(g[:, -1] @ g[:, -1] + e._group_dist(g[:, :-1], W[:, :-1], lam))

    W0 = rng.normal(size=(d_out, d_in + 1))
    phi0 = e._phi(W0, G, C, rho, lam)
    Wm = e.weight_block_mm(W0, G, C, rho, Lw, lam)
    Wf = e.weight_block_mfista(W0, G, C, rho, Lw, lam)
    assert e._phi(Wm, G, C, rho, lam) <= phi0
    scale = np.linalg.norm(rho * C)
    assert dist(Wm) <= 1e-6 * scale
    assert dist(Wf) > 1e3 * dist(Wm)
    assert np.all(Wm[:, 0] == 0.0)                # the group below lam is exactly zero


def test_eliminated_output_block_is_jointly_optimal(data):
    """With ``eliminate_output`` the sweep minimises (W_N, U_N) jointly, so after it the W_N
    block of dist(0, d L_rho) is (up to the W solver's accuracy) zero; the plain
    Gauss-Seidel order (W_N, then U_N) leaves it well above that."""
    X, y = data[:2]

    def wn_block(elim):
        e, s = _engine(X, y, (2, 5, 1), lam=0.0, eliminate_output=elim, w_steps=5)
        e.inner_sweep(s, 10.0)
        A = e._A(s.V, 2)
        R = s.U[1] - s.W[1] @ A + s.Mu[1] / 10.0
        full = e.inner_residual(s, 10.0)[0]
        return np.linalg.norm(10.0 * R @ A.T), full

    joint, full = wn_block(True)
    plain, _ = wn_block(False)
    assert joint <= 1e-8 * max(1.0, full)
    assert plain >= 1e3 * joint + 1e-6


def test_eps_per_sample_scales_the_inner_tolerance(data):
    X, y = data[:2]
    n = len(X)
    a = InexactALM(**{**FAST, "max_iter": 2}).fit(X, y)
    b = InexactALM(**{**FAST, "max_iter": 2}, eps_per_sample=False).fit(X, y)
    assert a.trace_.eps[0] == pytest.approx(0.1 * n) and b.trace_.eps[0] == pytest.approx(0.1)
    assert a.trace_.eps[1] == pytest.approx(0.05 * n)
