"""The initial record ``meta['initial']`` is tied to row 1 and to itself (issue 28, attack E).

``Conditions.covers`` compares the run's ``L_beta^0`` (``meta['initial']['lagrangian']``) with the
conditions' ``E0``.  An edit that lowers the initial loss and the initial Lagrangian together keeps
paper eq. (6)'s sum intact, so the sum alone cannot catch it.  What ties the initial loss to the
run is the triangle inequality ``| ||V_N^1 - Y|| - ||V_N^0 - Y|| | <= ||V_N^1 - V_N^0||``
(``sqrt(2 loss)`` against ``sqrt(dV2_N)`` at row 1), and the initial regulariser to the initial
weights' norms (``reg^0 = lambda/2 sum ||W_i^0||^2``); a zero initial multiplier makes the initial
dual term zero.  Properties: a real run satisfies all three (no false refusal); every edit beyond
the inequality's slack (by a factor hypothesis draws) is refused with a message naming the field.
"""
import math

import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from solver import ADMM, Trace, tasks
from theory import Activation
from verify import TraceIntegrityError, validate_trace

_t = sp.Symbol("t", real=True)
_ACTS = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "user": Activation.from_expr(sp.Rational(1, 2) + _t / (2 * sp.sqrt(4 + _t ** 2)), _t, "isru_half"),
}
_RUNS: dict = {}


def _run(act, seed):
    key = (act, seed)
    if key not in _RUNS:
        task = tasks.make_task("square", n=30, seed=seed, n_test=0)
        m = ADMM(hidden_layer_sizes=(3,), beta=[20.0, 2.0], lam=0.5, activation=_ACTS[act],
                 max_iter=6, random_state=seed, engine="numpy")
        _RUNS[key] = m.fit(task.X, task.y).trace_
    return Trace.from_dict(_RUNS[key].to_dict())


@pytest.mark.parametrize("act", sorted(_ACTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_real_runs_satisfy_the_initial_ties(act, seed):
    tr = _run(act, seed)
    validate_trace(tr)
    init = tr.meta["initial"]
    # the ties themselves, recomputed here from their definitions
    e1, e0 = math.sqrt(2 * tr.loss[0]), math.sqrt(2 * init["loss"])
    assert abs(e1 - e0) <= math.sqrt(tr.dV2[0, -1]) * (1 + 1e-12) + 1e-12
    assert init["reg"] == pytest.approx(0.5 * tr.meta["lam"] * sum(w * w for w in init["normW"]), rel=1e-12)
    assert all(v == 0 for v in init["normLam"]) and init["dual"] == 0


@settings(max_examples=25, deadline=None)
@given(act=st.sampled_from(sorted(_ACTS)), seed=st.sampled_from([0, 1]),
       beyond=st.floats(1.01, 50.0), up=st.booleans())
def test_an_initial_loss_edited_beyond_the_triangle_slack_is_refused(act, seed, beyond, up):
    """Lower (or raise) the initial loss so that ``|sqrt(2 loss^0) - sqrt(2 loss^1)|`` is
    ``beyond`` times the row-1 step ``sqrt(dV2_N)``, with the Lagrangian moved by the same amount
    (eq. 6's sum intact): refused, naming the loss."""
    tr = _run(act, seed)
    init = tr.meta["initial"]
    e1, dv = math.sqrt(2 * tr.loss[0]), math.sqrt(tr.dV2[0, -1])
    e0 = e1 + beyond * dv if up else e1 - beyond * dv
    if e0 < 0:                                  # cannot lower below zero: the edit is impossible
        e0 = e1 + beyond * dv
    new_loss = 0.5 * e0 ** 2
    init["lagrangian"] += new_loss - init["loss"]
    init["loss"] = new_loss
    with pytest.raises(TraceIntegrityError, match="loss"):
        validate_trace(tr)


@pytest.mark.parametrize("act", sorted(_ACTS))
@pytest.mark.parametrize("factor", [0.5, 0.999, 1.001, 3.0])
def test_an_initial_reg_that_is_not_its_norms_is_refused(act, factor):
    tr = _run(act, 0)
    init = tr.meta["initial"]
    d = init["reg"] * (factor - 1)
    init["reg"] += d
    init["lagrangian"] += d                     # eq. (6)'s sum intact
    with pytest.raises(TraceIntegrityError, match="reg"):
        validate_trace(tr)


@pytest.mark.parametrize("dual", [1e-9, -0.3, 5.0])
def test_a_nonzero_initial_dual_with_zero_multipliers_is_refused(dual):
    tr = _run("tanh", 1)
    init = tr.meta["initial"]
    init["dual"] = dual
    init["lagrangian"] += dual
    with pytest.raises(TraceIntegrityError, match="dual"):
        validate_trace(tr)


def test_garbled_initial_norms_are_refused_by_name():
    tr = _run("sigmoid", 0)
    tr.meta["initial"]["normW"] = ["a", "b"]
    with pytest.raises(TraceIntegrityError, match="normW"):
        validate_trace(tr)
    tr = _run("sigmoid", 0)
    tr.meta["initial"]["normLam"] = [0.0]
    with pytest.raises(TraceIntegrityError, match="normLam"):
        validate_trace(tr)
