"""Each step of Algorithm 1 (docs/algorithm.md) against independent torch autodiff.

The subproblem objectives are written here from the problem statement (augmented
Lagrangian, paper eq. 6, and the LLA model of docs/algorithm.md, steps 2-3), differentiated by torch,
and the closed-form updates of :mod:`solver.admm.steps` must be their stationary points.
The KKT blocks of paper eq. (24) must equal the gradient of the (unaugmented)
Lagrangian.  The LLA model with curvature="theory" must majorise the true subproblem.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from solver.admm import steps as S
from theory import arctan_sigmoid, gauss_cdf, sigmoid, tanh

torch.set_default_dtype(torch.float64)

ACTS = {"sigmoid": (sigmoid, torch.sigmoid), "tanh": (tanh, torch.tanh),
        "gauss_cdf": (gauss_cdf, lambda t: 0.5 * torch.special.erfc(-t / np.sqrt(2.0))),
        "arctan": (arctan_sigmoid, lambda t: 0.5 + torch.atan(t) / np.pi)}


def random_problem(rng, widths, n, scale=1.0):
    """Random (X, Y, W, V, Lam) with V off the constraint set and nonzero multipliers."""
    X = rng.uniform(-1, 1, size=(widths[0], n))
    Y = rng.normal(size=(widths[-1], n))
    W = [scale * rng.normal(size=(widths[i + 1], widths[i] + 1)) / np.sqrt(widths[i] + 1)
         for i in range(len(widths) - 1)]
    N = len(W)
    V = [rng.uniform(0.05, 0.95, size=(widths[i + 1], n)) if i < N - 1 else rng.normal(size=(widths[-1], n))
         for i in range(N)]
    Lam = [0.3 * rng.normal(size=v.shape) for v in V]
    return X, Y, W, V, Lam


def torch_lagrangian(tact, X, Y, W, V, Lam, lam, beta):
    """``L_beta`` (paper eq. 6) written directly from its definition."""
    N = len(W)
    val = 0.5 * ((V[-1] - Y) ** 2).sum() + 0.5 * lam * sum((w ** 2).sum() for w in W)
    prev = X
    for i in range(N):
        A = torch.cat([prev, torch.ones(1, prev.shape[1])], 0)
        F = (tact(W[i] @ A) if i < N - 1 else W[i] @ A) - V[i]
        val = val + (Lam[i] * F).sum() + 0.5 * beta[i] * (F ** 2).sum()
        prev = V[i]
    return val


def T(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def rel(g, ref_scale):
    return float(np.linalg.norm(g)) / max(1.0, ref_scale)


@pytest.mark.parametrize("act_name", list(ACTS))
@pytest.mark.parametrize("widths", [(2, 5, 1), (3, 6, 4, 2), (1, 4, 5, 3, 1)])
def test_exact_steps_are_stationary_points_of_L_beta(act_name, widths):
    """Steps 1, 4, 5: the exact updates zero the gradient of L_beta in their block."""
    act, tact = ACTS[act_name]
    rng = np.random.default_rng(len(widths) * 7 + len(act_name))
    X, Y, W, V, Lam = random_problem(rng, widths, n=40)
    N, lam = len(W), 1e-3
    beta = rng.uniform(0.5, 2.0, size=N)

    def grad_wrt(kind, j, Wl, Vl):
        Wt = [T(w, kind == "W" and i == j) for i, w in enumerate(Wl)]
        Vt = [T(v, kind == "V" and i == j) for i, v in enumerate(Vl)]
        Lt = torch_lagrangian(tact, T(X), T(Y), Wt, Vt, [T(x) for x in Lam], lam, beta)
        Lt.backward()
        return (Wt if kind == "W" else Vt)[j].grad.numpy()

    # step 1: W_N
    WN = S.output_weight_step(V[N - 2], V[N - 1], Lam[N - 1], beta[N - 1], lam)
    W1 = W[:-1] + [WN]
    g = grad_wrt("W", N - 1, W1, V)
    assert rel(g, np.linalg.norm(WN)) < 1e-9
    # step 4: V_{N-1}
    prev = X if N == 2 else V[N - 3]
    Vn = S.last_hidden_activation_step(prev, W[N - 2], W[N - 1], V[N - 1], Lam[N - 2], Lam[N - 1],
                                       beta[N - 2], beta[N - 1], act)
    V4 = V[:N - 2] + [Vn, V[N - 1]]
    assert rel(grad_wrt("V", N - 2, W, V4), np.linalg.norm(Vn)) < 1e-9
    # step 5: V_N
    VN = S.output_activation_step(V[N - 2], W[N - 1], Y, Lam[N - 1], beta[N - 1])
    V5 = V[:N - 1] + [VN]
    assert rel(grad_wrt("V", N - 1, W, V5), np.linalg.norm(VN)) < 1e-9
    # and a perturbation increases L_beta (strict convexity in the block)
    Lfun = lambda Vs: float(torch_lagrangian(tact, T(X), T(Y), [T(w) for w in W], [T(v) for v in Vs],  # noqa
                                             [T(x) for x in Lam], lam, beta))
    base = Lfun(V5)
    for _ in range(3):
        D = rng.normal(size=VN.shape) * 1e-3
        assert Lfun(V[:N - 1] + [VN + D]) > base


def _lla_model_W(tact, W0, A, B, beta, lam, c):
    """LLA model of step 2 (docs/algorithm.md#step-2-hidden-weights-by-lla), from the torch gradient of the true term."""
    W0t = T(W0, True)
    true = 0.5 * beta * ((tact(W0t @ A) - B) ** 2).sum()
    (gW,) = torch.autograd.grad(true, W0t)

    def model(W):
        D = W - T(W0)
        return 0.5 * lam * (W ** 2).sum() + true.detach() + (gW * D).sum() + 0.5 * beta * c * ((D @ A) ** 2).sum()

    def true_obj(W):
        return 0.5 * lam * (W ** 2).sum() + 0.5 * beta * ((tact(W @ A) - B) ** 2).sum()

    return model, true_obj


@pytest.mark.parametrize("act_name", list(ACTS))
@pytest.mark.parametrize("rule", ["theory", "reference"])
def test_lla_weight_step_minimises_its_model(act_name, rule):
    act, tact = ACTS[act_name]
    rng = np.random.default_rng(11 + len(act_name))
    X, Y, W, V, Lam = random_problem(rng, (3, 7, 5, 1), n=50, scale=2.0)
    beta, lam = 1.3, 1e-2
    for j, prev in ((1, V[0]), (0, X)):
        Wn, c = S.lla_weight_step(W[j], prev, V[j], Lam[j], beta, lam, act, rule, 2.0)
        A = T(S.augment(prev))
        B = T(V[j] - Lam[j] / beta)
        model, _ = _lla_model_W(tact, W[j], A, B, beta, lam, c)
        Wt = T(Wn, True)
        (g,) = torch.autograd.grad(model(Wt), Wt)
        assert rel(g.numpy(), np.linalg.norm(Wn)) < 1e-8


@pytest.mark.parametrize("act_name", list(ACTS))
def test_lla_activation_step_minimises_its_model(act_name):
    """Step 3 is the stationary point of beta_i/2||V - C||^2 + linearised next constraint."""
    act, tact = ACTS[act_name]
    rng = np.random.default_rng(5 + len(act_name))
    X, Y, W, V, Lam = random_problem(rng, (2, 6, 4, 3, 1), n=30, scale=2.0)
    beta = np.array([0.7, 1.4, 1.1, 1.0])
    j = 1  # V_2 (i = 2 <= N - 2 = 2)
    Vn, c = S.lla_activation_step(V[j], V[j - 1], W[j], W[j + 1], V[j + 1], Lam[j], Lam[j + 1],
                                  beta[j], beta[j + 1], act, "theory", 2.0)
    V0t = T(V[j], True)
    A_next = torch.cat([V0t, torch.ones(1, V0t.shape[1])], 0)
    Fn = tact(T(W[j + 1]) @ A_next) - T(V[j + 1])
    true_next = (T(Lam[j + 1]) * Fn).sum() + 0.5 * beta[j + 1] * (Fn ** 2).sum()
    (gV,) = torch.autograd.grad(true_next, V0t)
    Sprev = tact(T(W[j]) @ T(S.augment(V[j - 1])))
    Wbar = T(W[j + 1][:, :-1])

    def model(Vv):
        Fi = Sprev - Vv
        D = Vv - T(V[j])
        return ((T(Lam[j]) * Fi).sum() + 0.5 * beta[j] * (Fi ** 2).sum()
                + (gV * D).sum() + 0.5 * beta[j + 1] * c * ((Wbar @ D) ** 2).sum())

    Vt = T(Vn, True)
    (g,) = torch.autograd.grad(model(Vt), Vt)
    assert rel(g.numpy(), np.linalg.norm(Vn)) < 1e-8


@pytest.mark.parametrize("act_name", list(ACTS))
@pytest.mark.parametrize("widths", [(2, 5, 1), (3, 6, 4, 2)])
def test_kkt_blocks_are_the_gradient_of_the_lagrangian(act_name, widths):
    """Paper eq. (24): the KKT blocks are d/dW_i and d/dV_i of L_0 (beta = 0)."""
    act, tact = ACTS[act_name]
    rng = np.random.default_rng(3)
    X, Y, W, V, Lam = random_problem(rng, widths, n=25)
    lam = 0.05
    N = len(W)
    Wt = [T(w, True) for w in W]
    Vt = [T(v, True) for v in V]
    L0 = torch_lagrangian(tact, T(X), T(Y), Wt, Vt, [T(x) for x in Lam], lam, np.zeros(N))
    L0.backward()
    blocks = S.kkt_residuals(W, V, Lam, X, Y, lam, act)
    ref = [w.grad.numpy() for w in Wt] + [v.grad.numpy() for v in Vt]
    for b, r in zip(blocks, ref):
        np.testing.assert_allclose(b, r, rtol=1e-10, atol=1e-12)


def test_lagrangian_parts_match_direct_definition():
    rng = np.random.default_rng(8)
    X, Y, W, V, Lam = random_problem(rng, (2, 5, 4, 1), n=20)
    beta = np.array([0.5, 2.0, 1.5])
    parts = S.augmented_lagrangian(W, V, Lam, X, Y, 0.1, beta, sigmoid)
    ref = float(torch_lagrangian(torch.sigmoid, T(X), T(Y), [T(w) for w in W], [T(v) for v in V],
                                 [T(x) for x in Lam], 0.1, beta))
    assert parts["lagrangian"] == pytest.approx(ref, rel=1e-12)
    assert parts["lagrangian"] == pytest.approx(parts["loss"] + parts["reg"] + parts["dual"] + parts["penalty"])


# ------------------------------------------------------------------- majorisation
def _g(act, u, b):
    return 0.5 * (act(u) - b) ** 2


@given(act_name=st.sampled_from(sorted(ACTS)),
       u0=st.floats(-30, 30), du=st.floats(-30, 30), b=st.floats(-5, 5))
def test_theory_curvature_majorises_the_entrywise_subproblem(act_name, u0, du, b):
    """With c = L_1^2 + L_2 (L_0 + |b|) (factor 1, the least the theory rule allows),
    g(u) <= g(u0) + g'(u0)(u - u0) + c/2 (u - u0)^2 for g = (sigma - b)^2 / 2 (docs/algorithm.md#curvature-of-the-lla-steps)."""
    act = ACTS[act_name][0]
    u0a, ua = np.array([u0]), np.array([u0 + du])
    c = S.lla_curvature(np.array([[b]]), act, "theory", 1.0)
    gp = (act(u0a) - b) * act.d1(u0a)
    upper = _g(act, u0a, b) + gp * du + 0.5 * c * du * du
    assert _g(act, ua, b)[0] <= upper[0] + 1e-12 * (1 + abs(upper[0]))


@given(seed=st.integers(0, 2 ** 16), act_name=st.sampled_from(sorted(ACTS)),
       scale=st.floats(0.1, 5.0))
def test_theory_curvature_majorises_the_weight_subproblem(seed, act_name, scale):
    """The LLA model of step 2 (rule 'theory', factor 2) lies above the true subproblem
    everywhere we look, and the LLA step decreases the true subproblem."""
    act, tact = ACTS[act_name]
    rng = np.random.default_rng(seed)
    X, Y, W, V, Lam = random_problem(rng, (2, 4, 3, 1), n=15, scale=scale)
    beta, lam = 1.0, 1e-3
    j, prev = 1, V[0]
    Wn, c = S.lla_weight_step(W[j], prev, V[j], Lam[j], beta, lam, act, "theory", 2.0)
    model, true_obj = _lla_model_W(tact, W[j], T(S.augment(prev)), T(V[j] - Lam[j] / beta), beta, lam, c)
    with torch.no_grad():
        for Wc in [Wn] + [W[j] + rng.normal(size=W[j].shape) * s for s in (0.1, 1.0, 10.0)]:
            m, t = float(model(T(Wc))), float(true_obj(T(Wc)))
            assert t <= m + 1e-10 * (1 + abs(m))
        assert float(true_obj(T(Wn))) <= float(true_obj(T(W[j]))) + 1e-12


def test_reference_curvature_is_not_a_majoriser():
    """The authors' demo rule c = ||B||_max / 2 fails to majorise when B is small:
    one entry, sigmoid, b = 0.01, u0 = 0, u = 1 (c = 0.005 < sigma'(0)^2 = 1/16)."""
    b, u0, u = 0.01, 0.0, 1.0
    c = S.lla_curvature(np.array([[b]]), sigmoid, "reference")
    assert c == pytest.approx(0.005)
    g0 = _g(sigmoid, np.array([u0]), b)[0]
    gp = ((sigmoid(np.array([u0])) - b) * sigmoid.d1(np.array([u0])))[0]
    model = g0 + gp * (u - u0) + 0.5 * c * (u - u0) ** 2
    assert _g(sigmoid, np.array([u]), b)[0] > model + 1e-3  # 0.260 > 0.245
    # and on a whole weight subproblem: the reference-rule step overshoots the true objective
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(1, 50))
    W0 = np.array([[0.0, 0.0]])
    Vt = np.full((1, 50), 0.01)
    Wn, c = S.lla_weight_step(W0, X, Vt, np.zeros_like(Vt), 1.0, 0.0, sigmoid, "reference")
    model, true_obj = _lla_model_W(torch.sigmoid, W0, T(S.augment(X)), T(Vt), 1.0, 0.0, c)
    assert float(true_obj(T(Wn))) > float(model(T(Wn)))
