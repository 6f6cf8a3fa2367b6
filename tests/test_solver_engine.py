"""The compiled iteration against the plain numpy reference (agreement to 1e-10 relative).

* every numba kernel against its numpy twin (property test over shapes, activations and
  magnitudes, including saturated pre-activations);
* one full tracked iteration of :class:`solver.engine.FastEngine` (numba kernels and
  numpy kernels) against :func:`solver.steps.admm_iteration` plus the reference trace row,
  for depths 1-3, every built-in smooth activation, both curvature rules, narrow outputs
  (Woodbury branch) and wide ones (Cholesky branch).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver import kernels as K
from solver.engine import FastEngine, ReferenceEngine
from theory import arctan_sigmoid, gauss_cdf, sigmoid, tanh

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


@given(blk=blocks(), act=st.sampled_from(ACTS), c=st.floats(1e-3, 10.0), c_on_bias=st.booleans())
def test_kernels_match_numpy_reference(blk, act, c, c_on_bias):
    rng, d, n, mag = blk
    kid = act.kernel_id
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
    L1, L2 = Lam.copy(), Lam.copy()
    Q1, Q2 = np.empty((d, n)), np.empty((d, n))
    s1 = K.multiplier_update(kid, Z1, V, L1, 1.3, True, Q1)
    s2 = NK["multiplier_update"](act, Z2, V, L2, 1.3, True, Q2)
    # sigma' itself is only known to ~eps absolutely (e.g. 1 - tanh^2 cancels), hence the atol
    assert np.allclose(L1, L2, rtol=1e-13, atol=1e-13)
    assert np.allclose(Q1, Q2, rtol=1e-12, atol=1e-14 * np.abs(L2).max())
    assert all(close(x, y, 1e-12) for x, y in zip(s1, s2))
    K.activate(kid, P, b, o1)
    NK["activate"](act, P, b, o2)
    assert np.allclose(o1, o2, rtol=1e-12, atol=1e-300)
    assert close(K.sq_diff(P, R), NK["sq_diff"](P, R), 1e-12)


def test_sigmoid_derivative_kernel_keeps_relative_accuracy_in_the_tails():
    """sigma'(t) = e^{-t} s^2 is accurate where s (1 - s) cancels (t >> 1)."""
    t = np.array([[-745.0, -700.0, -50.0, 0.0, 30.0, 50.0, 700.0]])
    Lam = np.ones_like(t)
    Q = np.empty_like(t)
    K.multiplier_update(0, t.copy(), np.zeros_like(t), Lam, 0.0, True, Q)
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
        r1 = ref.iterate(s_ref)
        r2 = fast.iterate(s_fast)
        for name in ("W", "V", "Lam", "Z"):
            for a, b in zip(getattr(s_fast, name), getattr(s_ref, name)):
                assert close(a, b), (name, np.max(np.abs(a - b)), np.max(np.abs(b)))
        for key, val in r1.items():
            v2 = r2[key]
            if np.all(np.isnan(val)):
                assert np.all(np.isnan(v2)), key
                continue
            assert close(v2, val, 1e-9), (key, v2, val)


def test_engine_never_forms_temporaries_per_iteration_in_steady_state():
    """The buffer pool is reused: after the first iteration no new d x n buffer is created."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 2))
    Y = rng.normal(size=(50, 1))
    eng = FastEngine(sigmoid, X, Y, 1e-6, np.ones(3), "theory", 2.0)
    s = eng.initial_state([(rng.normal(size=(6, 2)), np.zeros(6)), (rng.normal(size=(6, 6)), np.zeros(6)),
                           (rng.normal(size=(1, 6)), np.zeros(1))])
    eng.iterate(s)
    def buffers():
        return ({id(a) for lst in eng.pool.free.values() for a in lst}
                | {id(v) for v in s.V[:-1]} | {id(v) for v in s.Lam[:-1]} | {id(z) for z in s.Z})

    ids = buffers()
    for _ in range(2):
        eng.iterate(s)
        assert buffers() == ids
