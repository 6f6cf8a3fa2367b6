"""Independent attack on issue 28 (branch s5-att28): held-out inputs the claimed fixes let through.

Each test states what must be refused and FAILS on the code it was written against (839c7f2):
they are regression tests for the fixes, not for the current behaviour.  Cheap (n = 30,
6-20 iterations)."""

import copy
import dataclasses
import warnings

import numpy as np
import pytest
import sympy as sp

from solver import ADMM, Trace, init_weights, tasks
from theory.activations import Activation, sigmoid
from verify import TraceIntegrityError, validate_trace
from verify import conditions as C

t = sp.Symbol("t", real=True)
STEEP = 1 / (1 + sp.exp(-4 * t))          # a steep logistic: not the built-in sigmoid


# --- 1. a built-in's name for another function --------------------------------------------
def test_builtin_flag_does_not_bypass_the_name_and_continuity_checks():
    # builtin=True skipped every check: the steep logistic named "sigmoid" then took the
    # sigmoid's Riccati closed forms (L_1 = 1/4 instead of 1; derive's b 16x too small)
    with pytest.raises(ValueError):
        Activation(name="sigmoid", expr=STEEP, builtin=True)
    with pytest.raises(ValueError):
        Activation(name="mystep", expr=sp.sign(t), builtin=True)
    with pytest.raises(ValueError):
        dataclasses.replace(sigmoid, expr=STEEP)


@pytest.mark.parametrize("name", ["sigmo1d", "ReIU", "Iogistic", "logistlc", "slgm0id",
                                  "sigmoid(t)", "tanh(x)", "gauss_cdf(t)", "sigmoid*1"])
def test_names_that_read_as_a_builtin_are_refused(name):
    # I/l/1/i confusables, and the built-in's name applied to its argument
    with pytest.raises(ValueError, match="name"):
        Activation.from_expr(STEEP, t, name)


def _run(w_scale=1.0):
    task = tasks.make_task("square", n=30, seed=2, n_test=0)
    w0 = init_weights((1, 3, 1), "xavier", 1.0, 3)
    c = C.derive_from_data(1, "tanh", X=task.X, y=task.y, init_weights=w0, lam=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ADMM(hidden_layer_sizes=(3,), max_iter=20, verbose=0, random_state=0, engine="numpy",
                 **c.kwargs).fit(task.X, task.y,
                                 init_weights=[(w_scale * W, w_scale * b) for W, b in w0])
    return c, m.trace_


def _edited(tr, edit):
    t2 = Trace.from_dict(copy.deepcopy(tr.to_dict()))
    ini = copy.deepcopy(dict(t2.meta["initial"]))
    edit(ini)
    t2.meta["initial"] = ini
    return t2


def _drop_loss(ini):
    ini.pop("loss")
    ini["lagrangian"] = 0.5 * ini["lagrangian"]


def _negative_dual(ini):
    ini["normLam"] = [1e-12] * len(ini["normLam"])
    ini["dual"] = -0.5 * ini["lagrangian"]
    ini["lagrangian"] = ini["loss"] + ini["reg"] + ini["dual"] + ini["penalty"]


@pytest.mark.parametrize("edit", [_drop_loss, _negative_dual])
def test_a_lowered_initial_lagrangian_is_refused(edit):
    _, tr = _run()
    with pytest.raises(TraceIntegrityError):
        validate_trace(_edited(tr, edit))


def test_a_name_without_its_expression_does_not_resolve_to_the_builtin():
    # a tanh run's meta relabelled "sigmoid" with activation_expr dropped: trace_activation (and
    # so a_posteriori's b, kkt_rate, the CLI's verify --trace) took the built-in sigmoid
    _, tr = _run()
    t2 = Trace.from_dict(copy.deepcopy(tr.to_dict()))
    t2.meta["activation"] = "sigmoid"
    t2.meta.pop("activation_expr")
    with pytest.raises(ValueError):
        C.trace_activation(t2)


def test_initial_record_cannot_be_lowered_within_the_row1_slack_by_most_of_itself():
    # every key kept, every implemented tie met: loss^0 at the triangle's lower end, ||W_i^0|| at
    # ||W_i^1|| - sqrt(dW2_i^1), reg from them; the real L_beta^0 drops by 78-98 % (tanh/sigmoid)
    c, tr = _run()
    ini = tr.meta["initial"]
    l1, dv = float(tr.loss[0]), float(np.sqrt(tr.dV2[0, -1]))
    nW = np.maximum(np.asarray(tr.normW[0]) - np.sqrt(np.asarray(tr.dW2[0])), 0) * (1 + 1e-12)

    def edit(n):
        n["loss"] = max(0.0, np.sqrt(2 * l1) - dv) ** 2 / 2 * (1 + 1e-9)
        n["normW"] = [float(x) for x in nW]
        n["reg"] = 0.5 * float(tr.meta["lam"]) * float((nW ** 2).sum())
        n["normV"] = [float(x) for x in np.maximum(np.asarray(tr.normV[0])
                                                    - np.sqrt(np.asarray(tr.dV2[0])), 0) * (1 + 1e-12)]
        n["lagrangian"] = n["loss"] + n["reg"] + n["dual"] + n["penalty"]

    t2 = _edited(tr, edit)
    lowered = 1 - t2.meta["initial"]["lagrangian"] / ini["lagrangian"]
    if lowered > 0.5:
        # nothing on the record contradicts this edit (it stays inside the first step's slack),
        # so it is the conditions that refuse: derived for this instance (data and initial
        # weights, meta['instance']), they know its L_beta^0 and cover no other starting value
        try:
            validate_trace(t2)
        except TraceIntegrityError:
            return
        assert c.covers(t2) is not None
