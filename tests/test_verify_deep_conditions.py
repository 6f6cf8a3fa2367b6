"""The general-depth derivation (docs/conditions_derivation.md, section K), step by step on runs.

Every step of the chain is checked on recorded runs at depth 1, 2, 3 and 4 with the constants of
the general derivation (``derive(..., method="general")``), run in extended precision
(:mod:`solver.admm.extprec`) because the derived ``beta_1`` leaves float64 at depth >= 2; each check
has a mutation (a broken constant) that makes it fail.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import init_weights, tasks
from solver.admm import extprec, steps as S
from theory import get_activation
from verify import (Verdict, bounded_iterates, conditions as C, deep_conditions as D,
                    rate_certificate, relative_error, sufficient_descent)

pos = st.floats(0.01, 100.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(pos, min_size=12, max_size=12))
def test_general_forms_coincide_with_the_depth1_and_depth2_forms(v):
    """K.2's recursion at N = 2 and N = 3 equals the separately written forms of sections B/G."""
    b1, b2, b3, w1, w2, w3, r, q, a1, kap, l1, l2 = v
    L = (1.0, 0.25, 0.1)
    f2 = D.lemma18_forms([b1, b2], [w1, w2], r, [None, None], [None, a1], [], L)
    assert f2[1] == pytest.approx(C._lemma18_forms_1(b2, w2, r))
    f3 = D.lemma18_forms([b1, b2, b3], [w1, w2, w3], r, [None, q, None], [None, a1, None], [kap], L)
    o1, o2 = C._lemma18_forms(b2, b3, w2, w3, r, q, a1, kap, L)
    assert f3[1] == pytest.approx(o1) and f3[2] == pytest.approx(o2)


def _data(depth, n=30, width=3, task="square", seed=0):
    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    w0 = init_weights((t.X.shape[1],) + (width,) * depth + (1,), "lecun_normal", 1.0, seed)
    return t, w0


@pytest.mark.parametrize("depth,lam", [(1, 1.0), (2, 1.0), (3, 1.0), (4, 10.0)])
def test_general_derivation_is_derived_at_every_depth(depth, lam):
    t, w0 = _data(depth)
    c = C.derive_from_data(depth, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=lam,
                           method="general")
    assert c.derived and c.depth == depth and len(c.xi_layers) == depth + 1
    assert all(x > y for x, y in zip(c.beta, c.beta[1:])) and c.beta[-1] > 1   # (23)'s structure
    assert c.margin > 0 and c.b > 0
    bx = D.deep_box(c.beta, lam, c.data["E0"], c.data["y_norm"], 30, (3,) * depth,
                    C._act_constants(get_activation("sigmoid")))
    assert bx["holds"] and bx["margin"] == pytest.approx(c.margin)
    # a tenth of the least beta_1 does not close the box
    least = c.requirements["least beta_1 (box closes, a > 0)"]
    assert not D.deep_box((least / 10,) + tuple(c.beta[1:]), lam, c.data["E0"], c.data["y_norm"],
                          30, (3,) * depth, C._act_constants(get_activation("sigmoid")))["holds"]


def test_depth3_default_is_derived_and_the_empirical_schedule_stays_labelled():
    t, w0 = _data(3)
    c = C.derive_from_data(3, "tanh", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    assert c.derived and all(v.startswith("derived") for v in c.status.values())
    e = C.derive_from_data(3, "tanh", X=t.X, y=t.y, init_weights=w0, lam=1.0, method="empirical")
    assert not e.derived and e.status["beta ratio"] == "empirical"
    assert not C.derive(3, "sigmoid", lam=1.0).derived          # no data scale: empirical
    with pytest.raises(ValueError, match="method"):
        C.derive(3, "sigmoid", lam=1.0, method="exact")
    with pytest.raises(ValueError, match="a0"):
        C.derive(3, "sigmoid", lam=1.0, E0=1.0, y_norm=1.0, n=10, widths=(2, 2, 2),
                 method="derived")


# ------------------------------------------------------------------ runs under the constants
@pytest.fixture(scope="module", params=[1, 2, 3, 4])
def run(request):
    depth = request.param
    t, w0 = _data(depth)
    c = C.derive_from_data(depth, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0,
                           method="general")
    tr = extprec.run(t.X, t.y, w0, iters=40 if depth < 4 else 25, prec=192 if depth < 4 else 256,
                     **c.kwargs)
    return depth, c, tr


def _iterate1_violations(tr, c, scale=1.0):
    it = c.bounds["iter1"]
    N = tr.n_layers
    d1 = np.sqrt(tr.dV2[0])
    bad = [j for j in range(N) if d1[j] > scale * it["d"][j] * (1 + 1e-9)]
    bad += [N + j for j in range(N) if tr.normLam[0, j] > scale * it["lam"][j] * (1 + 1e-9)]
    if tr.lagrangian[0] > scale * it["L1"] * (1 + 1e-9):
        bad.append(2 * N)
    return bad


def test_iterate1_lemma_on_runs(run):
    depth, c, tr = run
    assert _iterate1_violations(tr, c) == []
    assert _iterate1_violations(tr, c, scale=0.01)             # mutation: bounds / 100


def test_lemma18_per_step_on_runs(run, monkeypatch, patch_conditions):
    depth, c, tr = run
    assert C.numerical_validity(tr)["flagged"] == []
    l18 = C.lemma18_steps(tr)
    assert l18["holds"]
    # mutation: every form times half the largest measured lhs/rhs of the hidden layers
    f = 0.5 * max(l18["max_ratio"][j] for j in range(1, depth + 1))
    name = {1: "_lemma18_forms_1", 2: "_lemma18_forms"}.get(depth)     # depth >= 3: section K.2
    if name is None:
        orig = D.lemma18_forms
        monkeypatch.setattr(D, "lemma18_forms", lambda *a: {j: {k: f * v for k, v in c.items()}
                                                            for j, c in orig(*a).items()})
    else:
        orig = getattr(C, name)
        patch_conditions(name, (lambda *a: {k: f * v for k, v in orig(*a).items()})
                            if depth == 1 else
                            (lambda *a: tuple({k: f * v for k, v in c.items()} for c in orig(*a))))
    assert not C.lemma18_steps(tr)["holds"]


def test_lemma14_descent_on_runs(run):
    depth, c, tr = run
    sd = sufficient_descent(tr, conditions=c)
    assert sd.verdict == Verdict.PASS, sd.message
    assert sd.min_margin >= c.margin
    bad = sufficient_descent(tr, xi=c.xi_layers, a=2 * sd.min_margin)   # mutation: a too large
    assert bad.verdict == Verdict.FAIL


def test_lemma19_box_on_runs(run):
    depth, c, tr = run
    bx = c.bounds["box"]
    N = tr.n_layers
    assert np.all(tr.normLam <= np.asarray(bx["l"])[None, :] * (1 + 1e-9))
    assert np.all(tr.normW <= bx["om"] * (1 + 1e-9))
    assert np.all(np.sqrt(tr.dV2[1:, :N - 1]) <= np.asarray(bx["dl"][:N - 1])[None, :] * (1 + 1e-9))
    assert bounded_iterates(tr, conditions=c).verdict == Verdict.PASS
    small = np.asarray(bx["l"]) * 1e-3                        # mutation: the box / 1000
    assert np.any(tr.normLam > small[None, :])


def test_lemma21_and_the_rate_chain_on_runs(run):
    depth, c, tr = run
    re = relative_error(tr, b=c.b)
    assert re.verdict == Verdict.PASS, re.message
    rc = rate_certificate(tr, conditions=c)
    assert rc.verdict == Verdict.PASS, rc.message
    worst = float(np.max(tr.kkt_total[2:] / np.sqrt(
        tr.dW2[2:].sum(1) + tr.dV2[2:].sum(1) + tr.dW2[1:-1].sum(1) + tr.dV2[1:-1].sum(1))))
    assert relative_error(tr, b=worst / 2).verdict == Verdict.FAIL          # mutation: b too small
    first = float(tr.kkt_total[2] / np.sqrt(tr.dW2[1:3].sum() + tr.dV2[1:3].sum()))   # K = 3
    bad = rate_certificate(tr, a=c.margin, b=first / 2, xi=c.xi_layers)
    assert bad.verdict == Verdict.FAIL and bad.broken == "lemma21"


def _steps(tr):
    N = tr.n_layers
    e = np.sqrt(np.maximum(tr.dW2, 0.0))
    d = np.sqrt(np.maximum(tr.dV2, 0.0))
    s = {}
    for i in range(N):
        s[f"e{i + 1}"], s[f"d{i + 1}"] = e[1:, i], d[1:, i]
        s[f"d{i + 1}p"] = d[:-1, i]
    return s


def test_a_posteriori_at_depth3_and_4_on_runs(run):
    """a_posteriori at depth >= 3 (K.2-K.3 with the run's maxima): its Lemma-18 forms bound every
    dual step of the run, its (xi, a) pass Lemma 14 on the run, its b passes Lemma 21."""
    depth, c, tr = run
    if depth < 3:
        pytest.skip("depth >= 3 only (depth 1, 2: tests/test_verify_conditions.py)")
    ap = C.a_posteriori(tr, a0=c.data["a0"])
    assert ap["holds"] and ap["margin"] > 0 and len(ap["xi"]) == depth + 1, ap["reason"]
    b = np.asarray(tr.meta["beta"], float)
    lhs = np.sqrt(np.maximum(tr.dLam2[1:], 0.0) * b[None, :])
    s = _steps(tr)
    rhs = {j: sum(v * s[k_] for k_, v in form.items()) for j, form in ap["forms"].items()}
    worst = max(float(np.max(lhs[:, j - 1] / rhs[j])) for j in rhs)
    assert worst <= 1.0 + 1e-9
    sd = sufficient_descent(tr, xi=list(ap["xi"]), a=ap["margin"])
    assert sd.verdict == Verdict.PASS, sd.message
    auto = sufficient_descent(tr)                       # no constants: the a-posteriori ones
    assert auto.verdict == Verdict.PASS and "a-posteriori" in auto.message
    assert relative_error(tr, b=ap["b"]).verdict == Verdict.PASS
    # mutation: a margin twice the measured one fails Lemma 14 (the check can fail)
    assert sufficient_descent(tr, xi=list(ap["xi"]), a=2 * sd.min_margin).verdict == Verdict.FAIL


def test_a_posteriori_deep_equals_the_depth2_certificate_at_three_layers():
    """The general a-posteriori path at N = 3 gives the specialised depth-2 certificate."""
    t, w0 = _data(2, n=20)
    c = C.derive_from_data(2, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    from solver import ADMM
    m = ADMM(hidden_layer_sizes=(3, 3), max_iter=15, verbose=0, engine="numpy", **c.kwargs)
    m.fit(t.X, t.y, init_weights=w0)
    a2 = C.a_posteriori(m.trace_)
    ad = C._a_posteriori_deep(m.trace_, a2["beta"], a2["lam"], True, None)
    assert ad["margin"] >= a2["margin"] - 1e-12
    assert np.all(ad["xi"] <= a2["xi"] * (1 + 1e-9))
    assert ad["margin"] == pytest.approx(a2["margin"], rel=0.05)


def test_a_posteriori_deep_refuses_to_certify_a_run_below_the_conditions():
    """Negative control: small penalties at depth 3 (float64 run): no certificate, the descent
    check without constants is INCONCLUSIVE (never PASS on constants that do not hold)."""
    t, w0 = _data(3, n=20)
    from solver import ADMM
    m = ADMM(hidden_layer_sizes=(3, 3, 3), beta=[10.0, 10.0, 10.0, 2.0], lam=1.0, max_iter=15,
             verbose=0, engine="numpy", curvature="theory")
    m.fit(t.X, t.y, init_weights=w0)
    ap = C.a_posteriori(m.trace_, X=t.X)
    assert not ap["holds"] and ap["margin"] <= 0 and ap["b"] is not None
    assert sufficient_descent(m.trace_).verdict == Verdict.INCONCLUSIVE
    with pytest.raises(ValueError, match="n_layers"):
        C.a_posteriori(type(m.trace_)(n_layers=1, meta={"beta": [1.0], "lam": 1.0}))


def test_float64_cannot_resolve_the_depth3_constants_and_the_guard_reads_the_precision(run):
    depth, c, tr = run
    if depth < 3:
        pytest.skip("depth >= 3 only")
    assert C.numerical_validity(tr)["flagged"] == []
    assert 0 in C.numerical_validity(tr, eps=2.0 ** -52)["flagged"]     # float64's unit


# ------------------------------------------------------------------ Lemma 15, block by block
def _blocks_with_decrease(W, V, Lam, X, Y, lam, beta, act):
    """Algorithm 1 block by block (solver.admm.steps), yielding (block, decrease of L_beta, step^2)."""
    N = len(W)
    W, V = list(W), list(V)
    Lf = lambda: S.augmented_lagrangian(W, V, Lam, X, Y, lam, beta, act)["lagrangian"]  # noqa: E731
    Vold = list(V)
    Vin = [X] + Vold[:-1]
    out = []
    L0 = Lf()
    new = S.output_weight_step(Vin[N - 1], Vold[N - 1], Lam[N - 1], beta[N - 1], lam)
    d, W[N - 1] = float(np.sum((new - W[N - 1]) ** 2)), new
    L1 = Lf(); out.append((f"W{N}", L0 - L1, d)); L0 = L1
    for j in range(N - 2, -1, -1):
        new, _ = S.lla_weight_step(W[j], Vin[j], Vold[j], Lam[j], beta[j], lam, act)
        d, W[j] = float(np.sum((new - W[j]) ** 2)), new
        L1 = Lf(); out.append((f"W{j + 1}", L0 - L1, d)); L0 = L1
    for j in range(0, N - 2):
        prev = X if j == 0 else V[j - 1]
        new, _ = S.lla_activation_step(Vold[j], prev, W[j], W[j + 1], Vold[j + 1], Lam[j],
                                       Lam[j + 1], beta[j], beta[j + 1], act)
        d, V[j] = float(np.sum((new - V[j]) ** 2)), new
        L1 = Lf(); out.append((f"V{j + 1}", L0 - L1, d)); L0 = L1
    prev = X if N == 2 else V[N - 3]
    new = S.last_hidden_activation_step(prev, W[N - 2], W[N - 1], Vold[N - 1], Lam[N - 2],
                                        Lam[N - 1], beta[N - 2], beta[N - 1], act)
    d, V[N - 2] = float(np.sum((new - V[N - 2]) ** 2)), new
    L1 = Lf(); out.append((f"V{N - 1}", L0 - L1, d)); L0 = L1
    new = S.output_activation_step(V[N - 2], W[N - 1], Y, Lam[N - 1], beta[N - 1])
    d, V[N - 1] = float(np.sum((new - V[N - 1]) ** 2)), new
    L1 = Lf(); out.append((f"V{N}", L0 - L1, d))
    Lam = S.multiplier_step(Lam, S.constraint_residuals(W, V, X, act), beta)
    return out, W, V, Lam


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_lemma15_block_decrease(depth):
    """Lemma 15 (K.3): each primal block decreases L_beta by at least its modulus / 2 times its
    step squared (lam/2 for W blocks, beta_j/2 for V_j, (1+beta_N)/2 for V_N)."""
    t, w0 = _data(depth, n=20)
    act = get_activation("tanh")
    X, Y = t.X.T, t.y.reshape(1, -1)
    W = [np.hstack([w, b[:, None]]) for w, b in w0]
    V, Lam = S.initial_point(W, X, act)
    N = depth + 1
    beta = [40.0 * 4 ** (N - 1 - i) for i in range(N - 1)] + [2.0]
    lam = 0.5
    modulus = {**{f"W{i}": lam for i in range(1, N + 1)},
               **{f"V{j}": beta[j - 1] for j in range(1, N)}, f"V{N}": 1 + beta[-1]}
    worst, worst_mut = math.inf, math.inf
    for _ in range(8):
        out, W, V, Lam = _blocks_with_decrease(W, V, Lam, X, Y, lam, beta, act)
        for blk, dec, d2 in out:
            if d2 > 1e-20:
                worst = min(worst, dec - modulus[blk] / 2 * d2 + 1e-10 * (1 + abs(dec)))
                worst_mut = min(worst_mut, dec - 1e4 * modulus[blk] / 2 * d2)
    assert worst >= 0
    assert worst_mut < 0                                       # mutation: modulus x 1e4
