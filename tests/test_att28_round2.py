"""Issue 28, second independent attack: what it broke, by class.

1. A user ``Activation`` carried module caches from its constructor: ``_numpy_impl`` (a tanh kernel
   under sigmoid's name and formula trained a tanh net recorded as sigmoid), ``_bounds`` (``L(1)``
   0.01 for a function whose true value is 1), ``ball_form``; and a non-built-in could carry a
   built-in's name with its formula.  Refused.
2. ``cbrt(t)`` (sympy: the principal, complex root for t < 0; numpy: nan) passed the continuity
   test.  Refused as not real-valued on R, with other real-exponent powers of a sign-changing base.
3. A trace from another initial point (or another activation) whose record was edited so that its
   L_beta^0 equals the conditions' E0, with the conditions' instance digest copied on: credited.
   Conditions derived for an instance now record its initial point (norms of W^0, V^0, loss, reg)
   and cover only a run that starts there.
"""
import numpy as np
import pytest
import sympy as sp

from solver import ADMM, Trace, init_weights, tasks
from theory import BUILTINS, Activation
from theory.activations import _t as t
from verify import conditions


@pytest.mark.parametrize("field,value", [("_numpy_impl", (np.tanh, np.tanh, np.tanh)),
                                         ("_bounds", {1: None}), ("ball_form", "sigmoid")])
@pytest.mark.parametrize("expr", [1 / (1 + sp.exp(-4 * t)), sp.tanh(2 * t), sp.atan(t) / sp.pi])
def test_module_caches_cannot_come_from_the_constructor(field, value, expr):
    with pytest.raises(ValueError, match=field.lstrip("_")[:6]):
        Activation(name="mine", expr=expr, **{field: value})


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_a_builtins_name_with_its_own_formula_is_the_builtin_not_a_copy(name):
    with pytest.raises(ValueError, match="name"):
        Activation(name=name, expr=BUILTINS[name].expr)
    assert Activation.from_expr(BUILTINS[name].expr, t, name) is BUILTINS[name]


@pytest.mark.parametrize("expr", [sp.cbrt(t), t ** sp.Rational(3, 5), sp.tanh(t) + t ** sp.Rational(1, 5) / 10,
                                  sp.Rational(1, 2) + sp.cbrt(sp.tanh(t)) / 2])
def test_a_power_that_is_not_real_on_the_negative_axis_is_refused(expr):
    with pytest.raises(ValueError, match="expr"):
        Activation.from_expr(expr, t, "rootish")


def _run(act, w0, task, c):
    kw = {k: v for k, v in c.kwargs.items() if k != "activation"}
    return ADMM(hidden_layer_sizes=(3,), max_iter=20, random_state=0, engine="numpy", activation=act,
                **kw).fit(task.X, task.y, init_weights=w0).trace_


def _forge(tr, c):
    """Claim the conditions' instance and move the loss so that L_beta^0 = E0 (eq. 6's sum kept)."""
    t2 = Trace.from_dict(tr.to_dict())
    ini = t2.meta["initial"]
    dL = float(c.data["E0"]) - ini["lagrangian"]
    ini["loss"] += dL
    ini["lagrangian"] = float(c.data["E0"])
    t2.meta["instance"] = c.data["instance"]
    return t2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_another_initial_point_with_the_digest_copied_is_not_covered(seed):
    task = tasks.make_task("square", n=30, seed=0, n_test=0)
    w0 = init_weights((1, 3, 1), "lecun_normal", 1.0, 0)
    wb = init_weights((1, 3, 1), "lecun_normal", 1.0, seed)
    c = conditions.derive_from_data(1, "sigmoid", X=task.X, y=task.y, init_weights=w0, lam=1.0)
    assert c.covers(_run("sigmoid", w0, task, c)) is None
    assert "initial" in (c.covers(_forge(_run("sigmoid", wb, task, c), c)) or "")


@pytest.mark.parametrize("k", [2, 3, 0.5])
def test_another_activation_relabelled_is_not_covered(k):
    task = tasks.make_task("square", n=30, seed=0, n_test=0)
    w0 = init_weights((1, 3, 1), "lecun_normal", 1.0, 0)
    steep = Activation.from_expr(1 / (1 + sp.exp(-k * t)), t, f"steep_{str(k).replace('.', '_')}")
    c = conditions.derive_from_data(1, steep, X=task.X, y=task.y, init_weights=w0, lam=1.0)
    tr = _forge(_run("sigmoid", w0, task, c), c)
    tr.meta["activation"], tr.meta["activation_expr"] = steep.name, str(steep.expr)
    assert "initial" in (c.covers(tr) or "")
