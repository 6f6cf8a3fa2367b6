"""``Conditions.covers`` compares the activation as a function, not only by name.

A user activation may take any name of its own, so two different functions can share one; the
conditions derived for one must not be credited to a run of the other (independent review of
issue 28: ``covers`` compared names only)."""

import warnings

import sympy as sp

from solver import ADMM, init_weights, tasks
from theory import Activation
from verify import conditions

t = sp.Symbol("t")


def test_same_name_other_function_is_not_covered():
    A = Activation.from_expr((1 + t / sp.sqrt(1 + t ** 2)) / 2, t, "mine")
    B = Activation.from_expr((1 + sp.tanh(t)) / 2, t, "mine")
    task = tasks.make_task("square", n=30, seed=1, n_test=0)
    w0 = init_weights((1, 3, 1), "xavier", 1.0, 1)
    c = conditions.derive_from_data(1, A, X=task.X, y=task.y, init_weights=w0, lam=1.0)
    fit = dict(hidden_layer_sizes=(3,), max_iter=20, verbose=0, random_state=0, engine="numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = ADMM(**fit, **{**c.kwargs, "activation": B}).fit(task.X, task.y, init_weights=w0)
        own = ADMM(**fit, **c.kwargs).fit(task.X, task.y, init_weights=w0)
    assert "mismatch" in c.covers(other.trace_)
    assert c.covers(own.trace_) is None
