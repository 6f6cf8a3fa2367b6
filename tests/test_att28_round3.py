"""Issue 28, third independent attack: what it broke, by class (each test failed before the fix).

1. A user-given ``_numpy_impl`` was accepted whenever the name and expression read as
   ``leaky_relu``'s (a tanh kernel under ``Max(t, t/2)``): no constructor argument may set it now;
   ``leaky_relu(alpha)`` sets its own kernels after construction.
2. A subclass of ``Activation`` could override ``__call__``/``d1``/``d2`` (ADMM trained tanh while
   the trace recorded the logistic) or skip ``__post_init__``: ``Activation`` cannot be subclassed.
3. ``assert_converges(checks=<generator>)`` read the generator before ``run_checks`` did, so no
   check ran and a failing run returned ``{}``; ``checks=[]`` ran nothing without complaint.
4. Conditions given per check (``sufficient_descent={"conditions": c}``) were not held to
   ``covers`` by ``assert_converges``: with ``allow_inconclusive=True`` conditions of another
   instance returned normally.
5. ``conditions=`` of the wrong type (a string, a dict, a number) given to a check directly was
   read as "nothing given" and the check answered with a-posteriori constants.
6. A per-check value ``False``/``0``/``[]`` was read as ``{}``; arguments for a check not selected
   were ignored; ``allow_inconclusive="no"`` meant True.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import ADMM, init_weights, tasks
from theory import Activation, leaky_relu
from theory.activations import _t as t
from verify import assert_converges, conditions, run_checks
from verify.checks import (CHECKS, ConvergenceError, bounded_iterates, kkt_rate, relative_error,
                           sufficient_descent)

_TASK = tasks.make_task("square", n=30, seed=0, n_test=0)
_W0 = init_weights((_TASK.X.shape[1], 4, 1), "lecun_normal", 1.0, 0)
_W1 = init_weights((_TASK.X.shape[1], 4, 1), "lecun_normal", 1.0, 1)


def _derive(w0):
    return conditions.derive_from_data(1, "tanh", X=_TASK.X, y=_TASK.y, init_weights=w0, lam=1.0)


@pytest.fixture(scope="module")
def derived():
    c = _derive(_W0)
    model = ADMM(hidden_layer_sizes=(4,), max_iter=20, engine="numpy", **c.kwargs).fit(
        _TASK.X, _TASK.y, init_weights=_W0)
    return c, _derive(_W1), model


@pytest.fixture(scope="module")
def failing_run():
    """A run on which Lemma 14 with an impossible descent constant (a = 1e6) FAILs."""
    m = ADMM(hidden_layer_sizes=(4,), max_iter=20, engine="numpy", beta=[500.0, 2.0], lam=1.0,
             activation="tanh").fit(_TASK.X, _TASK.y, init_weights=_W0)
    return m, {"xi": [0.0, 0.1], "a": 1e6}


# --- 1, 2: the activation object -------------------------------------------------------------
@given(alpha=st.floats(0.01, 0.99))
@settings(max_examples=10, deadline=None)
def test_no_constructor_argument_sets_the_float64_kernels(alpha):
    a = leaky_relu(alpha)
    fake = (np.tanh, np.tanh, np.tanh)
    with pytest.raises(ValueError, match="_numpy_impl"):
        Activation(name=a.name, expr=a.expr, symbol=t, _numpy_impl=fake)
    # the factory's own kernels compute its expression
    x = np.linspace(-3, 3, 13)
    assert np.array_equal(a(x), np.maximum(x, float(sp.Rational(repr(float(alpha)))) * x))


@pytest.mark.parametrize("override", ["__call__", "d1", "d2", "__post_init__"])
def test_activation_cannot_be_subclassed(override):
    with pytest.raises(TypeError, match="cannot be subclassed"):
        type("Evil", (Activation,), {override: lambda self, *a: np.tanh(*a) if a else None})


# --- 3, 6: the selection and the per-check arguments -------------------------------------------
@pytest.mark.parametrize("make", [list, tuple, iter, lambda xs: (x for x in xs)])
def test_any_iterable_of_checks_runs_them_all(failing_run, make):
    m, bad = failing_run
    with pytest.raises(ConvergenceError, match="sufficient_descent"):
        assert_converges(m, checks=make(["sufficient_descent"]), sufficient_descent=bad)


@pytest.mark.parametrize("call", [assert_converges, run_checks])
@pytest.mark.parametrize("checks", [[], (), iter([])])
def test_an_empty_selection_is_refused(failing_run, call, checks):
    with pytest.raises(ValueError, match="checks"):
        call(failing_run[0], checks=checks)


@pytest.mark.parametrize("value", [False, 0, [], "", ()])
def test_a_per_check_value_must_be_a_dict(failing_run, value):
    with pytest.raises(ValueError, match="sufficient_descent"):
        run_checks(failing_run[0], checks=["sufficient_descent"], sufficient_descent=value)


@pytest.mark.parametrize("other", sorted(set(CHECKS) - {"sufficient_descent"}))
def test_arguments_for_a_check_not_selected_are_refused(failing_run, other):
    with pytest.raises(ValueError, match=other):
        run_checks(failing_run[0], checks=["sufficient_descent"], **{other: {"conditons": 1}})


@pytest.mark.parametrize("value", ["no", 0, 1, None, "False"])
def test_allow_inconclusive_must_be_a_bool(failing_run, value):
    with pytest.raises(ValueError, match="allow_inconclusive"):
        assert_converges(failing_run[0], checks=["bounded_iterates"], allow_inconclusive=value)


# --- 4, 5: conditions, wherever they are given ------------------------------------------------
@pytest.mark.parametrize("where", ["per_check", "override"])
def test_conditions_of_another_instance_raise_wherever_given(derived, where):
    c, c_other, m = derived
    F = ["sufficient_descent", "bounded_iterates"]
    kw = ({"sufficient_descent": {"conditions": c_other}, "bounded_iterates": {"conditions": c_other}}
          if where == "per_check" else {"conditions": c, "bounded_iterates": {"conditions": c_other}})
    with pytest.raises(ConvergenceError, match="do not cover"):
        assert_converges(m, checks=F, allow_inconclusive=True, **kw)


def test_the_covering_conditions_pass_and_an_override_to_none_is_not_held_to_them(derived):
    c, c_other, m = derived
    assert_converges(m, checks=["bounded_iterates"], conditions=c, allow_inconclusive=True)
    # the top-level conditions reach no check: they are not held against the run
    assert_converges(m, checks=["bounded_iterates"], conditions=c_other,
                     bounded_iterates={"conditions": None}, allow_inconclusive=True)


@pytest.mark.parametrize("check", [sufficient_descent, bounded_iterates, kkt_rate, relative_error])
@pytest.mark.parametrize("bad", ["c", {"beta": [1, 2]}, 42, [0.5, 1.0], 3.5])
def test_conditions_of_the_wrong_type_are_refused_by_every_check(derived, check, bad):
    with pytest.raises(TypeError, match="conditions"):
        check(derived[2], conditions=bad)
