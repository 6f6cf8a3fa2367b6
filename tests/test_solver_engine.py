"""The compiled iteration against the plain numpy reference (agreement to 1e-10 relative).

* every numba kernel against its numpy twin (property test over shapes, activations and
  magnitudes, including saturated pre-activations);
* one full tracked iteration of :class:`solver.admm.engine.FastEngine` (numba kernels and
  numpy kernels) against :func:`solver.admm.steps.admm_iteration` plus the reference trace row,
  for depths 1-3, every built-in smooth activation, both curvature rules, narrow outputs
  (Woodbury branch) and wide ones (Cholesky branch).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver import activation_kernels as AK
from solver.admm import kernels as K
from solver.admm.engine import FastEngine, ReferenceEngine
from theory import arctan_sigmoid, gauss_cdf, sigmoid, tanh
from solver.admm.schema import ADMM_SCHEMA
from solver.trace import Trace


def step(engine, st, **kw):
    """One iteration filling a fresh trace row of the ADMM schema; returns the row."""
    row = Trace.empty(st.n_layers, 0, schema=ADMM_SCHEMA).new_row()
    engine.iterate(st, row, **kw)
    return row

ACTS = [sigmoid, tanh, gauss_cdf, arctan_sigmoid]
RTOL = 1e-10


def close(a, b, rtol=RTOL):
    """max |a - b| <= rtol * max |b|, with NaN required at the same places."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    a, b = a[~np.isnan(b)], b[~np.isnan(b)]
    scale = max(np.max(np.abs(b)) if b.size else 0.0, 1e-300)
    return np.max(np.abs(a - b)) <= rtol * scale


@st.composite
def blocks(draw, min_d=1, max_d=6, max_n=40):
    d = draw(st.integers(min_d, max_d))
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2 ** 20))
    mag = draw(st.sampled_from([0.1, 1.0, 10.0, 800.0]))
    rng = np.random.default_rng(seed)
    return rng, d, n, mag


#: every exponential provider of the sigmoid kernels this machine has (solver.admm.kernels.EXP_*)
EXPS = [K.EXP_LEGACY, K.EXP_FMA] + ([K.NUMPY_EXP_LOOP] if K.NUMPY_EXP_LOOP else [])


@given(blk=blocks(), act=st.sampled_from(ACTS), c=st.floats(1e-3, 10.0), c_on_bias=st.booleans(),
       ex=st.sampled_from(EXPS))
def test_kernels_match_numpy_reference(blk, act, c, c_on_bias, ex):
    rng, d, n, mag = blk
    kid = K.act_key(AK.kernel_id(act), ex)
    P = mag * rng.normal(size=(d, n))
    b = rng.normal(size=d)
    V = rng.uniform(-1, 1, size=(d, n))
    Lam = rng.normal(size=(d, n))
    R = rng.normal(size=(d, n))
    ib = 1.0 / rng.uniform(0.1, 3)
    NK = K.NUMPY_KERNELS
    assert close(K.bmax(V, Lam, ib), NK["bmax"](V, Lam, ib))
    o1, o2 = np.empty((d, n)), np.empty((d, n))
    K.lla_rhs(kid, P, b, V, Lam, ib, c, c_on_bias, o1)
    NK["lla_rhs"](act, P, b, V, Lam, ib, c, c_on_bias, o2)
    terms = c * (np.abs(P).max() + np.abs(b).max()) + (1 + np.abs(V).max() + ib * np.abs(Lam).max())
    assert np.allclose(o1, o2, rtol=1e-12, atol=1e-14 * terms)
    Z1, Z2 = P.copy(), P.copy()
    K.activation_rhs(kid, Z1, b, Lam, 1.7, R, -0.3, o1)
    NK["activation_rhs"](act, Z2, b, Lam, 1.7, R, -0.3, o2)
    terms = 1.7 + np.abs(Lam).max() + 0.3 * np.abs(R).max()  # scale of the summands (cancellation)
    assert np.array_equal(Z1, Z2) and np.allclose(o1, o2, rtol=1e-13, atol=1e-14 * terms)
    L1, L2, L3 = Lam.copy(), Lam.copy(), Lam.copy()
    Q1, Q2 = np.empty((d, n)), np.empty((d, n))
    q1, q2 = np.empty(d), np.empty(d)
    s1 = K.multiplier_update_q(kid, Z1, V, L1, 1.3, Q1, q1)
    s2 = NK["multiplier_update_q"](act, Z2, V, L2, 1.3, Q2, q2)
    s3 = K.multiplier_update(kid, Z1, V, L3, 1.3)
    # sigma' itself is only known to ~eps absolutely (e.g. 1 - tanh^2 cancels), hence the atol
    assert np.allclose(L1, L2, rtol=1e-13, atol=1e-13)
    assert np.array_equal(L1, L3) and s1 == s3  # the same update with or without Q
    assert np.allclose(Q1, Q2, rtol=1e-12, atol=1e-14 * np.abs(L2).max())
    assert np.allclose(q1, q2, rtol=1e-12, atol=1e-13 * n * np.abs(L2).max())
    assert all(close(x, y, 1e-12) for x, y in zip(s1, s2))
    col = int(rng.integers(0, n))
    o1, o2 = np.empty((d, n - col)), np.empty((d, n - col))
    K.activate(kid, P, col, b, o1)
    NK["activate"](act, P, col, b, o2)
    assert np.allclose(o1, o2, rtol=1e-12, atol=1e-300)
    assert close(K.sq_diff(o1, R, col), NK["sq_diff"](o1, R, col), 1e-12)
    Pc = P.copy()
    K.activate(kid, Pc, 0, b, Pc)  # in place
    np.testing.assert_allclose(Pc, act(P + b[:, None]), rtol=1e-12, atol=1e-300)
    m = int(rng.integers(1, 4))
    A = rng.normal(size=(m, d))
    Bm = rng.normal(size=(m, n))
    assert close(K.sq_diff_lowrank(A, Bm, R), np.sum((A.T @ Bm - R) ** 2), 1e-12)
    Wo, bo = rng.normal(size=(m, d)), rng.normal(size=m)
    Yo = rng.normal(size=(m, n + 3))
    w = n - col
    assert close(K.output_sq_err(kid, P, col, w, b, Wo, bo, Yo, 3),
                 np.sum((Wo @ act(P[:, col:] + b[:, None]) + bo[:, None] - Yo[:, 3:3 + w]) ** 2), 1e-11)
    assert close(K.output_sq_err(kid, P, col, w, b, Wo, bo, Yo, 3),
                 NK["output_sq_err"](act, P, col, w, b, Wo, bo, Yo, 3), 1e-11)
    Wb = rng.normal(size=(d, m + 1))
    Pm = rng.normal(size=(d, m))
    assert close(K.kkt_w_sq(1e-3, Wb, Pm, q1), NK["kkt_w_sq"](1e-3, Wb, Pm, q1), 1e-12)


@pytest.mark.parametrize("ex", EXPS, ids=["legacy", "fma", "numpy-loop"][:len(EXPS)])
def test_sigmoid_derivative_kernel_keeps_relative_accuracy_in_the_tails(ex):
    """sigma'(t) = e^{-t} s^2 is accurate where s (1 - s) cancels (t >> 1)."""
    t = np.array([[-745.0, -700.0, -50.0, 0.0, 30.0, 50.0, 700.0]])
    Lam = np.ones_like(t)
    Q = np.empty_like(t)
    K.multiplier_update_q(K.act_key(0, ex), t.copy(), np.zeros_like(t), Lam, 0.0, Q, np.empty(1))
    exact = np.exp(-np.abs(t)) / (1 + np.exp(-np.abs(t))) ** 2
    mask = np.abs(t[0]) <= 700
    np.testing.assert_allclose(Q[0, mask], exact[0, mask], rtol=1e-13)
    assert np.all(np.isfinite(Q)) and np.all(Q >= 0)


def random_state(engine, rng, widths, n):
    """A generic iterate: start from eq. (7), then perturb V and set nonzero multipliers."""
    w = [(rng.normal(size=(widths[i + 1], widths[i])) * 2.0, rng.normal(size=widths[i + 1]))
         for i in range(len(widths) - 1)]
    st_ = engine.initial_state(w)
    for j in range(len(st_.V)):
        st_.V[j] += 0.05 * rng.normal(size=st_.V[j].shape)
        st_.Lam[j] += 0.2 * rng.normal(size=st_.V[j].shape)
    return engine.refresh(st_)


@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.name)
@pytest.mark.parametrize("widths", [(2, 7, 1), (3, 8, 6, 1), (2, 5, 6, 4, 3), (1, 4, 3, 5)],
                         ids=["depth1", "depth2-narrow", "depth3-wide", "depth2-wideout"])
@pytest.mark.parametrize("rule", ["theory", "reference"])
@pytest.mark.parametrize("kernels", ["numba", "numpy"])
def test_one_iteration_matches_reference(act, widths, rule, kernels):
    rng = np.random.default_rng(sum(widths) + 31 * ACTS.index(act))
    n = 37
    X = rng.uniform(-1, 1, size=(n, widths[0]))
    Y = rng.normal(size=(n, widths[-1]))
    N = len(widths) - 1
    beta = rng.uniform(0.5, 2.0, size=N)
    ref = ReferenceEngine(act, X, Y, 1e-3, beta, rule, 2.0)
    fast = FastEngine(act, X, Y, 1e-3, beta, rule, 2.0, use_numba=kernels == "numba")
    s_ref = random_state(ref, np.random.default_rng(1), widths, n)
    s_fast = s_ref.copy()
    for _ in range(2):  # two iterations: the second uses the cached Z of the first
        r1 = step(ref, s_ref)
        r2 = step(fast, s_fast)
        for name in ("W", "V", "Lam", "Z"):
            for a, b in zip(getattr(s_fast, name), getattr(s_ref, name)):
                assert close(a, b), (name, np.max(np.abs(a - b)), np.max(np.abs(b)))
        for key, val in r1.items():
            v2 = r2[key]
            if np.all(np.isnan(val)):
                assert np.all(np.isnan(v2)), key
                continue
            assert close(v2, val, 1e-9), (key, v2, val)


@pytest.mark.parametrize("act", [sigmoid, tanh], ids=lambda a: a.name)
@pytest.mark.parametrize("widths", [(2, 7, 1), (3, 8, 6, 1), (2, 5, 6, 4, 3)],
                         ids=["depth1", "depth2-narrow", "depth3-wide"])
@pytest.mark.parametrize("threads", [None, 1, 2], ids=["serial", "one-thread", "parallel-twins"])
def test_blocked_and_parallel_paths_match_reference(act, widths, threads):
    """n = 531: three column blocks of unequal width (CHUNK = 256) in the products that feed
    norms, the train error and the M^{-1} R solves; threads=2: the parallel kernel twins."""
    rng = np.random.default_rng(7 + len(widths))
    n = 531
    assert n > 2 * FastEngine.CHUNK
    X = rng.uniform(-1, 1, size=(n, widths[0]))
    Y = rng.normal(size=(n, widths[-1]))
    N = len(widths) - 1
    beta = rng.uniform(0.5, 2.0, size=N)
    ref = ReferenceEngine(act, X, Y, 1e-3, beta, "theory", 2.0)
    fast = FastEngine(act, X, Y, 1e-3, beta, "theory", 2.0, threads=threads)
    fast.PARALLEL_MIN_ENTRIES = 0  # small blocks still take the parallel path
    s_ref = random_state(ref, np.random.default_rng(3), widths, n)
    s_fast = s_ref.copy()
    for _ in range(2):
        r1, r2 = step(ref, s_ref), step(fast, s_fast)
        for name in ("W", "V", "Lam", "Z"):
            for a, b in zip(getattr(s_fast, name), getattr(s_ref, name)):
                assert close(a, b), name
        for key in ("kkt", "kkt_total", "train_mse", "lagrangian", "dV2", "feas"):
            assert close(r2[key], r1[key], 1e-9), (key, r2[key], r1[key])


def test_numpy_blas_threads_is_restored_and_one_thread_iterations_match():
    """``threads=1`` holds numpy's BLAS to one thread inside the iteration only."""
    from solver._blas_threads import _numpy_blas, numpy_blas_threads

    ctl = _numpy_blas()
    if not isinstance(ctl, tuple):
        pytest.skip("numpy's BLAS is not OpenBLAS")
    get = ctl[0]
    before = get()
    with numpy_blas_threads(1):
        assert get() == 1
    assert get() == before
    rng = np.random.default_rng(5)
    X, Y = rng.uniform(-1, 1, size=(40, 2)), rng.normal(size=(40, 1))
    eng = FastEngine(sigmoid, X, Y, 1e-3, np.ones(2), "theory", 2.0, threads=1)
    s = eng.initial_state([(rng.normal(size=(5, 2)), np.zeros(5)), (rng.normal(size=(1, 5)), np.zeros(1))])
    step(eng, s)
    assert get() == before


def test_engine_never_forms_temporaries_per_iteration_in_steady_state():
    """The buffer pool is reused: after the first iteration no new d x n buffer is created."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 2))
    Y = rng.normal(size=(50, 1))
    eng = FastEngine(sigmoid, X, Y, 1e-6, np.ones(3), "theory", 2.0)
    s = eng.initial_state([(rng.normal(size=(6, 2)), np.zeros(6)), (rng.normal(size=(6, 6)), np.zeros(6)),
                           (rng.normal(size=(1, 6)), np.zeros(1))])
    step(eng, s)
    def buffers():
        return ({id(a) for lst in eng.pool.free.values() for a in lst}
                | {id(v) for v in s.V[:-1]} | {id(v) for v in s.Lam[:-1]} | {id(z) for z in s.Z})

    ids = buffers()
    for _ in range(2):
        step(eng, s)
        assert buffers() == ids


@given(d=st.integers(1, 40), p=st.integers(0, 12), seed=st.integers(0, 2 ** 20),
       log_shift=st.sampled_from([-6.0, -3.0, 0.0, 2.0]))
def test_numpy_lapack_solves_match_scipy(d, p, seed, log_shift):
    """solver._lapack (numpy's own LAPACK through ctypes) against scipy.linalg: the weight
    systems ``lambda I + c A A^T`` (lambda down to 1e-6: ill-conditioned) and the inverse of
    the activation systems."""
    import scipy.linalg as sla

    from solver import _lapack

    if not _lapack.AVAILABLE:
        pytest.skip("numpy links a BLAS without the scipy-openblas LAPACK names")
    rng = np.random.default_rng(seed)
    A = rng.uniform(-1, 1, size=(d, 3 * d + 1))
    M = A @ A.T + 10.0 ** log_shift * np.eye(d)
    R = rng.normal(size=(p, d))
    want = sla.cho_solve(sla.cho_factor(M, lower=True), R.T).T
    got = _lapack.potrs_right(_lapack.potrf_lower(M.copy()), R.copy())
    cond = np.linalg.cond(M)
    assert np.allclose(got, want, rtol=0, atol=50 * cond * 2.2e-16 * max(np.abs(want).max(initial=0), 1e-300))
    inv = M.copy()
    _lapack.spd_inverse(inv)
    K.symmetrize_from_lower(inv.T)
    np.testing.assert_allclose(inv, np.linalg.inv(M), rtol=0, atol=50 * cond * 2.2e-16 * np.abs(np.linalg.inv(M)).max())
    assert np.array_equal(inv, inv.T)


def test_numpy_lapack_rejects_an_indefinite_matrix():
    from solver import _lapack

    if not _lapack.AVAILABLE:
        pytest.skip("numpy links a BLAS without the scipy-openblas LAPACK names")
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        _lapack.potrf_lower(np.array([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize("widths", [(2, 7, 1), (3, 8, 6, 1), (2, 5, 6, 4, 3)],
                         ids=["depth1", "depth2-narrow", "depth3-wide"])
@pytest.mark.parametrize("numpy_lapack", [True, False], ids=["numpy-lapack", "scipy-fallback"])
def test_solve_paths_match_reference_at_paper_lambda(monkeypatch, widths, numpy_lapack):
    """lambda = 1e-6 (the paper's: ill-conditioned weight systems), for both solve paths: numpy's
    own LAPACK, and scipy.linalg where numpy's BLAS exports no LAPACK names (MKL, Accelerate)."""
    from solver import _lapack

    if numpy_lapack and not _lapack.AVAILABLE:
        pytest.skip("numpy links a BLAS without the scipy-openblas LAPACK names")
    monkeypatch.setattr(_lapack, "AVAILABLE", numpy_lapack)
    rng = np.random.default_rng(11)
    n = 300
    X = rng.uniform(-1, 1, size=(n, widths[0]))
    Y = rng.normal(size=(n, widths[-1]))
    beta = rng.uniform(0.5, 2.0, size=len(widths) - 1)
    ref = ReferenceEngine(sigmoid, X, Y, 1e-6, beta, "theory", 2.0)
    fast = FastEngine(sigmoid, X, Y, 1e-6, beta, "theory", 2.0)
    s_ref = random_state(ref, np.random.default_rng(5), widths, n)
    s_fast = s_ref.copy()
    for _ in range(2):
        r1, r2 = step(ref, s_ref), step(fast, s_fast)
        for name in ("W", "V", "Lam"):
            for a, b in zip(getattr(s_fast, name), getattr(s_ref, name)):
                assert close(a, b), name
        assert close(r2["kkt"], r1["kkt"], 1e-9) and close(r2["train_mse"], r1["train_mse"], 1e-9)
