"""verify.exact: the depth-1 and depth-2 chain constants exactly (sympy), float64 apart (issue 22).

The float64 constants of ``derive`` must equal the exact expressions evaluated (to the
rounding of float64 arithmetic); a perturbed float constant must be caught.
"""

import pytest
import sympy as sp

from solver import init_weights, tasks
from verify import conditions as C, exact as E


def _derived(depth, act, sharp=True, seed=0):
    t = tasks.make_task("square", n=30, seed=seed, n_test=0)
    w0 = init_weights((t.X.shape[1],) + (3,) * depth + (1,), "lecun_normal", 1.0, seed)
    return C.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=1.0, sharp=sharp)


def test_activation_constants_are_the_closed_forms():
    assert E.activation_constants("sigmoid") == (1, sp.Rational(1, 4), sp.sqrt(3) / 18)
    L0, L1, L2 = E.activation_constants("tanh")
    assert (L0, L1) == (1, 1) and abs(sp.N(L2, 30) - sp.N(4 * sp.sqrt(3) / 9, 30)) < 1e-25


@pytest.mark.parametrize("depth,act,sharp,seed", [(1, "sigmoid", True, 0), (1, "tanh", True, 1),
                                                  (1, "sigmoid", False, 2), (2, "tanh", True, 0)])
def test_float64_constants_equal_the_exact_ones_evaluated(depth, act, sharp, seed):
    c = _derived(depth, act, sharp, seed)
    ex = E.chain_constants(c)
    assert all(isinstance(v, sp.Basic) for v in ex["xi"] + [ex["a"], ex["b"]])
    assert E.disagreement(c) < 1e-9
    # the exact a is the least exact block coefficient, and it is positive
    # (the coefficient that is the minimum is the same expression as a: its difference
    # evaluates to 0 at 30 digits up to the evaluation's own error, 0.e-172 or -0.e-251)
    a30 = sp.N(ex["a"], 30)
    assert a30 > 0 and all(sp.N(v - ex["a"], 30) >= -1e-25 * a30 for v in ex["coef"].values())
    assert any(abs(sp.N(v - ex["a"], 30)) <= 1e-25 * a30 for v in ex["coef"].values())
    # mutation: a float constant off by 1e-7 (relative) is caught
    c.margin *= 1 + 1e-7
    assert E.disagreement(c) > 1e-9


def test_table_shows_exact_and_float64_and_refuses_other_depths():
    c = _derived(1, "sigmoid")
    tab = E.table(c)
    assert "| a (" in tab and repr(c.margin) in tab and "| b |" in tab
    with pytest.raises(ValueError, match="depth"):
        E.chain_constants(C.derive(3, "sigmoid", lam=1.0, method="empirical"))
    with pytest.raises(ValueError, match="Conditions"):
        E.chain_constants({"beta": [1.0, 2.0]})
