"""``Conditions.covers`` compares what the constants were derived for and never reads missing or
garbled metadata as agreement (issue 28, second review).

Covered runs: only the derivation's own hidden widths and data scale (``a0 = ||[X;1]||_2`` and
``||Y||_F``, recorded in the trace meta at fit time); a trace that lacks, or records as NaN / not
a number, a field the comparison needs gives "cannot check <field>", never None.
"""

from __future__ import annotations

import numpy as np
import pytest

from solver import ADMM, Trace, init_weights, tasks
from verify import conditions


@pytest.fixture(scope="module")
def setup():
    task = tasks.make_task("square", n=30, seed=0, n_test=0)
    w0 = init_weights((task.X.shape[1], 4, 1), "lecun_normal", 1.0, 0)
    c = conditions.derive_from_data(1, "sigmoid", X=task.X, y=task.y, init_weights=w0, lam=1.0)
    m = ADMM(hidden_layer_sizes=(4,), max_iter=20, random_state=0, engine="numpy", **c.kwargs)
    m.fit(task.X, task.y, init_weights=w0)
    return task, w0, c, m.trace_


def test_the_fit_records_the_data_quantities_and_its_own_run_is_covered(setup):
    task, _, c, tr = setup
    assert tr.meta["a0"] == pytest.approx(conditions.data_norm(task.X), rel=1e-12)
    assert tr.meta["y_norm"] == pytest.approx(np.linalg.norm(task.y), rel=1e-12)
    assert c.covers(tr) is None


@pytest.mark.parametrize("scale", [3.0, 50.0])
def test_other_data_scale_with_the_same_initial_energy_is_not_covered(setup, scale):
    task, w0, c, _ = setup
    ws = [(W / scale if j == 0 else W, b) for j, (W, b) in enumerate(w0)]   # same net, same E0
    m = ADMM(hidden_layer_sizes=(4,), max_iter=5, random_state=0, engine="numpy", **c.kwargs)
    m.fit(task.X * scale, task.y, init_weights=ws)
    assert "a0" in (c.covers(m.trace_) or "")


@pytest.mark.parametrize("width", [5, 40])
def test_another_hidden_width_is_not_covered_even_with_the_same_net(setup, width):
    task, w0, c, _ = setup
    (W1, b1), (W2, b2) = w0                     # zero-padded units: same output, same E0
    W1p = np.zeros((width, W1.shape[1])); W1p[:4] = W1
    b1p = np.zeros(width); b1p[:4] = b1
    W2p = np.zeros((W2.shape[0], width)); W2p[:, :4] = W2
    m = ADMM(hidden_layer_sizes=(width,), max_iter=5, random_state=0, engine="numpy", **c.kwargs)
    m.fit(task.X, task.y, init_weights=[(W1p, b1p), (W2p, b2)])
    assert "widths" in (c.covers(m.trace_) or "")


def _edit(meta, path, value):
    d = meta
    for k in path[:-1]:
        d = d[k]
    if value is KeyError:
        d.pop(path[-1])
    else:
        d[path[-1]] = value


@pytest.mark.parametrize("path", [("activation",), ("activation_expr",), ("initial",),
                                  ("initial", "lagrangian"), ("n_samples",), ("a0",), ("y_norm",),
                                  ("curvature",), ("curvature_factor",), ("lam",), ("widths",),
                                  ("beta",)])
@pytest.mark.parametrize("value", [KeyError, float("nan"), "1.0", None])
def test_missing_or_garbled_metadata_never_reads_as_agreement(setup, path, value):
    _, _, c, tr0 = setup
    tr = Trace.from_dict(tr0.to_dict())
    _edit(tr.meta, path, value)
    reason = c.covers(tr)
    assert reason is not None, (path, value)
    assert path[-1].replace("lagrangian", "initial").split("_")[0] in reason or "activation" in reason \
        or "n" in reason, (path, reason)


def test_a_name_never_stands_for_the_stored_expression(setup):
    """A name says nothing by itself: a trace relabelled ``sigmoid`` whose expression was dropped
    (or replaced) is not covered by sigmoid conditions, and a user activation's trace without its
    stored expression (or with another one) is not covered by the user's conditions."""
    import sympy as sp

    from theory import Activation

    task, w0, c, tr0 = setup
    bare = Trace.from_dict(tr0.to_dict())
    bare.meta.pop("activation_expr")
    assert "activation_expr" in (c.covers(bare) or "")
    relabelled = Trace.from_dict(tr0.to_dict())       # a steep logistic's run named "sigmoid"
    relabelled.meta["activation_expr"] = "1/(1 + exp(-4*t))"
    assert "activation" in (c.covers(relabelled) or "")
    t = sp.Symbol("t", real=True)
    mine = Activation.from_expr(1 / (1 + sp.exp(-2 * t)), t, "steep_logistic")
    cu = conditions.derive_from_data(1, mine, X=task.X, y=task.y, init_weights=w0, lam=1.0)
    m = ADMM(hidden_layer_sizes=(4,), max_iter=5, random_state=0, engine="numpy", **cu.kwargs)
    tr = m.fit(task.X, task.y, init_weights=w0).trace_
    assert cu.covers(tr) is None
    for edit in (KeyError, None, "1/(1 + exp(-3*t))"):
        t2 = Trace.from_dict(tr.to_dict())
        _edit(t2.meta, ("activation_expr",), edit)
        assert "activation" in (cu.covers(t2) or ""), edit
