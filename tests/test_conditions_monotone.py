"""``Conditions.covers`` treats ``beta_1`` as a lower bound: tested here (issue 22, item 4).

docs/conditions_derivation.md, K.8: at fixed Lyapunov weights ``xi`` every bound of the box map
is non-increasing and every Lemma-14 coefficient non-decreasing in ``beta_1``, so the box closed
at the derived ``beta_1`` stays invariant, and ``xi``, ``a`` stay valid, for every larger
``beta_1``.  The other hidden penalties have no such property (``kappa_j = beta_{j+1} w^2 ...``
grows with ``beta_2``): there ``covers`` asks for equality, and the mutation below shows why.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import init_weights, tasks
from solver.trace import Trace
from theory import get_activation
from verify import conditions as C, deep_conditions as D

N_SAMPLES, WIDTH = 30, 3


def _derived(depth, act, general):
    t = tasks.make_task("square", n=N_SAMPLES, seed=0, n_test=0)
    w0 = init_weights((t.X.shape[1],) + (WIDTH,) * depth + (1,), "lecun_normal", 1.0, 0)
    kw = {"method": "general"} if general else {}
    return C.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=1.0, **kw)


def _box_vals(bx):
    b = bx["box"]
    return list(b["l"]) + list(b["dl"]) + [b["om"], b["rR"]]


def _check_monotone(depth, act, log_f):
    c = _derived(depth, act, general=True)
    L = C._act_constants(get_activation(act))
    args = (c.lam, c.data["E0"], c.data["y_norm"], N_SAMPLES, (WIDTH,) * depth, L)
    ref = D.deep_box(c.beta, *args)
    f = 10.0 ** log_f
    o = D.deep_box([c.beta[0] * f] + list(c.beta[1:]), *args, xi=c.xi_layers)
    assert o["holds"], o["reason"]
    assert o["margin"] >= c.margin * (1 - 1e-9)
    assert all(nv <= ov * (1 + 1e-9) for nv, ov in zip(_box_vals(o), _box_vals(ref)))


@settings(max_examples=10, deadline=None)
@given(depth=st.sampled_from([1, 2]), act=st.sampled_from(["sigmoid", "tanh"]),
       log_f=st.floats(0.0, 6.0))
def test_general_box_is_monotone_in_beta1_at_the_derived_xi(depth, act, log_f):
    """For every f >= 1: the box at (f beta_1, the derived xi) holds, lies inside the derived
    box, and its descent constant is at least the derived a."""
    _check_monotone(depth, act, log_f)


@pytest.mark.slow
@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
@pytest.mark.parametrize("log_f", [0.0, 0.2, 3.0])
def test_general_box_is_monotone_in_beta1_at_depth3(act, log_f):
    _check_monotone(3, act, log_f)


@settings(max_examples=8, deadline=None)
@given(act=st.sampled_from(["sigmoid", "tanh"]), log_f=st.floats(0.0, 6.0))
def test_sharp_depth1_box_is_monotone_in_beta1_at_the_derived_xi(act, log_f):
    c = _derived(1, act, general=False)
    L = C._act_constants(get_activation(act))
    o = C.one_hidden_box([c.beta[0] * 10.0 ** log_f, c.beta[1]], c.lam, c.data["E0"],
                         c.data["y_norm"], L, xi=c.xi)
    assert o["holds"], o["reason"]
    assert o["margin"] >= c.margin * (1 - 1e-9)
    assert o["a_star"] <= c.bounds["a_star"] * (1 + 1e-9) and o["r"] <= c.bounds["r"] * (1 + 1e-9)


@pytest.mark.parametrize("depth", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_a_larger_beta2_breaks_the_derived_constants_so_covers_asks_for_equality(depth):
    """Mutation: beta_2 x 1.5 at the derived xi is not covered by the derivation (the ascent it
    puts on ||DV_1^{k-1}||^2 exceeds xi_1); covers refuses it, and accepts beta_1 x 10."""
    c = _derived(depth, "sigmoid", general=True)
    L = C._act_constants(get_activation("sigmoid"))
    args = (c.lam, c.data["E0"], c.data["y_norm"], N_SAMPLES, (WIDTH,) * depth, L)
    up2 = list(c.beta)
    up2[1] *= 1.5
    assert not D.deep_box(up2, *args, xi=c.xi_layers)["holds"]
    N = depth + 1

    d = c.data

    def trace(beta):
        # a trace whose recorded data agree with the conditions' own (covers refuses missing meta)
        return Trace.empty(N, 1, meta={"beta": list(beta), "lam": c.lam, "activation": "sigmoid",
                                       "activation_expr": str(c.activation.expr),
                                       "curvature": "theory", "curvature_factor": 2.0,
                                       "widths": [1, *d["widths"], 1], "n_samples": int(d["n"]),
                                       "a0": float(d["a0"]), "y_norm": float(d["y_norm"]),
                                       # started at eq. (7): no multiplier, no penalty
                                       "initial": {"lagrangian": float(d["E0"]), "loss": float(d["E0"]),
                                                   "reg": 0.0, "dual": 0.0, "penalty": 0.0,
                                                   "normW": [1.0] * N, "normV": [1.0] * N,
                                                   "normLam": [0.0] * N, **d.get("initial", {})},
                                       "instance": d.get("instance")})

    assert c.covers(trace(c.beta)) is None
    big1 = [c.beta[0] * 10] + list(c.beta[1:])
    assert c.b is not None and "b grows" in c.covers(trace(big1))   # Lemma 21's b: not monotone
    c.b = None                                                          # xi, a only: Lemma M
    assert c.covers(trace(big1)) is None
    why = c.covers(trace(up2))
    assert why is not None and "beta_2" in why
    low = list(c.beta)
    low[0] /= 2
    assert "beta_1" in c.covers(trace(low))


def test_fixed_xi_below_the_required_ascent_is_refused():
    c = _derived(1, "sigmoid", general=False)
    L = C._act_constants(get_activation("sigmoid"))
    o = C.one_hidden_box(c.beta, c.lam, c.data["E0"], c.data["y_norm"], L, xi=c.xi / 2)
    assert not o["holds"] and "xi" in o["reason"]
    with pytest.raises(ValueError, match="xi"):
        D.deep_box([1e3, 2.0], 1.0, 1.0, 1.0, 10, (2,), L, xi=[1.0])
    assert math.isfinite(c.margin)
