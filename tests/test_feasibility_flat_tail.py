"""feasibility_to_zero: no layer's violation that ends the run flat or rising over half a window
or more, at any level above that layer's rounding floor, ever PASSes (issue 19, class 4: a
hidden layer of a real run held at 1e-9 ||V_1|| over its last 30 of 300 rows PASSed, the window
maxima of the last window being set by its earlier, higher rows).  A plateau is FAIL or
INCONCLUSIVE by the rule's own semantics (below rtol: INCONCLUSIVE), never PASS; the real runs
whose violations converge still PASS."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from verify import Verdict, feasibility_to_zero
from verify import strategies as S

DATA = Path(__file__).parent / "data" / "adversarial_real_traces.npz"
S.load_real_traces(DATA)
#: real runs (user constants) whose feasibility PASSes undoctored: the bases
BASES = ["sigmoid d1", "tanh d1", "arctan d1", "sigmoid d2", "tanh d2", "tanh d2 seed 1"]
EPS = float(np.finfo(float).eps)


def _wlen(K, n_win=4):
    return max(2, (K - K // 2) // n_win)


def _flat_tail(tr, layer, level, m, relative=True, last=None):
    """``tr`` with hidden layer ``layer`` held at ``level ||V||`` over the last ``m`` rows
    (relative to each row's ``||V||`` or to the first tail row's), every identity carried;
    ``last``: the last row's violation set to ``last x`` the plateau (one low row)."""
    K = len(tr)
    V = np.asarray(tr.normV[:K, layer], float)
    f = np.asarray(tr.feas[:K, layer], float).copy()
    f[K - m:] = level * (V[K - m:] if relative else V[K - m])
    if last is not None:
        f[-1] = last * f[-1]
    return S.with_layer_violation(tr, layer, f)


@pytest.mark.parametrize("label", BASES)
def test_the_real_bases_pass_undoctored(label):
    """The regression cases below start from runs that PASS (so a non-PASS is the tail's)."""
    assert feasibility_to_zero(S.real_case(label).trace).verdict is Verdict.PASS


@pytest.mark.parametrize("label", BASES)
@pytest.mark.parametrize("level", [1e-5, 1e-7, 1e-9, 1e-11])
@pytest.mark.parametrize("rows", ["half window", 30, 75])
def test_a_real_layer_flat_at_the_end_never_passes(label, level, rows):
    """The attacker's instances (30 and 75 rows at 1e-5..1e-11 ||V_i||, above the floor
    1024 eps = 2.3e-13) and the shortest tail the rule covers (ceil(wlen/2) rows), every hidden
    layer of every base, relative and absolute flatness, and with one low last row."""
    tr0 = S.real_case(label).trace
    K = len(tr0)
    m = -(-_wlen(K) // 2) if rows == "half window" else rows
    for layer in range(tr0.n_layers - 1):
        for relative, last in ((True, None), (False, 0.0)):
            tr = _flat_tail(tr0, layer, level, m, relative, last)
            r = feasibility_to_zero(tr)         # validates: a consistent record, not refused
            assert r.verdict is not Verdict.PASS, (label, layer, level, m, relative, last, r.message)


@pytest.mark.parametrize("label", ["sigmoid d1", "tanh d2"])
def test_a_rising_end_never_passes(label):
    tr0 = S.real_case(label).trace
    K = len(tr0)
    m = -(-_wlen(K) // 2)
    V = np.asarray(tr0.normV[:K, 0], float)
    f = np.asarray(tr0.feas[:K, 0], float).copy()
    f[K - m:] = 1e-8 * V[K - m:] * 1.001 ** np.arange(m)
    assert feasibility_to_zero(S.with_layer_violation(tr0, 0, f)).verdict is not Verdict.PASS


@pytest.mark.parametrize("label", ["sigmoid d1", "tanh d2"])
def test_a_layer_that_reaches_its_floor_still_passes(label):
    """The end test exempts a tail at the floor: the base's violation falling geometrically
    into rounding (half the floor over the last quarter-window) still PASSes."""
    tr0 = S.real_case(label).trace
    K = len(tr0)
    q = -(-_wlen(K) // 2) // 2
    V = np.asarray(tr0.normV[:K, 0], float)
    f = np.asarray(tr0.feas[:K, 0], float).copy()
    f[K - q:] = 0.5 * 1024 * EPS * V[K - q:].min()
    assert f[K - q - 1] > f[K - q]              # it falls into the floor
    r = feasibility_to_zero(S.with_layer_violation(tr0, 0, f))
    assert r.verdict is Verdict.PASS, r.message


def test_the_synthetic_flat_tail_is_not_pass_and_says_why():
    tr0, _ = S.consistent_synthetic_run(K=300, depth=1, q=0.95, seed=3)
    assert feasibility_to_zero(tr0).verdict is Verdict.PASS
    tr = _flat_tail(tr0, 0, 1e-9, 30)
    r = feasibility_to_zero(tr)
    assert r.verdict is Verdict.INCONCLUSIVE            # below rtol: a plateau proves no limit
    assert "last half-window" in r.message
    assert r.per_layer[0]["state"] == "flat below"


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=S.flat_layer_tails())
def test_no_layer_flat_at_the_end_passes(case):
    """The class: one hidden layer flat, rising or noisy-flat over the last m >= wlen/2 rows
    at any level between its floor and rtol (verify.strategies.flat_layer_tails)."""
    tr = case.trace
    K = len(tr)
    assert "over the last" in case.kind
    m = int(case.kind.split("over the last ")[1].split()[0])
    assert m >= math.ceil(_wlen(K) / 2)
    r = feasibility_to_zero(tr)
    assert r.verdict is not Verdict.PASS, (case.kind, case.base, r.message)
