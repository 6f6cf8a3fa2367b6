"""Issue 19, class 3 held-out attack on bounded_iterates: growth laws that start late, drifts
below an early peak, and the false FAIL of two derived depth-1 runs (a slow, small drift after
an early transient)."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from solver import Trace
from verify import Verdict, bounded_iterates
from verify import strategies as S

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def real():
    S.load_real_traces(DATA / "adversarial_real_traces.npz")
    return S._REAL_TRACES


def _grow(tr, f, col, x):
    """``tr`` with the norm ``f[:, col]`` replaced by ``x`` and its recorded steps raised so
    that the norm's increments stay within them."""
    t = S._copy_trace(tr)
    getattr(t, f)[:, col] = x
    inc = np.concatenate([[0.0], np.diff(x)]) ** 2 * (1 + 1e-9)
    if f == "normW":
        t.dW2[:, col] = np.maximum(t.dW2[:, col], inc)
        reg = 0.5 * float(t.meta["lam"]) * np.sum(np.asarray(t.normW, float) ** 2, axis=1)
        t.lagrangian = t.lagrangian - t.reg + reg
        t.reg = reg
    else:
        t.dV2[:, col] = np.maximum(t.dV2[:, col], inc)
    return t


@pytest.mark.parametrize("label", ["sigmoid d1", "tanh d2"])
def test_a_law_starting_late_is_never_a_geometric_approach(real, label):
    """(a) ``log(1 + k - k0)`` and ``(k - k0)^p`` from ``k0 = 0.5 .. 0.65 K`` on the output
    weights of a real run set new maxima to the end with window ratios that RISE (0.31, 0.48,
    0.70 for log from 0.55 K): no PASS, whatever the amplitude."""
    tr = real[label]
    K, N = len(tr), tr.n_layers
    k = np.arange(1, K + 1, dtype=float)
    x0 = np.asarray(tr.normW[:, N - 1], float)
    span = float(x0.max() - x0.min())
    for f0 in (0.5, 0.52, 0.55, 0.6, 0.65):
        u = np.maximum(0.0, k - f0 * K)
        for name, g in (("log", np.log1p(u)), ("k^0.15", u ** 0.15), ("k^0.4", u ** 0.4)):
            for amp in (1.0, 2.0, 7.0):
                x = x0 + amp * span * g / g[-1]
                r = bounded_iterates(_grow(tr, "normW", N - 1, x))
                assert r.verdict != Verdict.PASS, (label, f0, name, amp, r.message)


def test_a_drift_below_an_early_peak_is_not_no_growth(real):
    """(b) a steady drift that ends below an early peak: the running sup is flat, the tail is
    not.  It is not PASS, even with room for K more rows at its rate below the peak (round 4);
    a drift negligible against the series' range (TAIL_SHARE), or a tail that falls, PASSes."""
    tr = real["sigmoid d1"]
    K, N = len(tr), tr.n_layers
    k = np.arange(1, K + 1, dtype=float)
    x0 = np.asarray(tr.normW[:, N - 1], float)
    h = K // 8
    for name, g in (("linear", k), ("sqrt", np.sqrt(k)), ("late log", np.log1p(np.maximum(0.0, k - 0.4 * K))),
                    ("late linear", np.maximum(0.0, k - 0.4 * K))):
        g = (g - g[0]) / (g[-1] - g[0])
        A = float(x0.max() - x0[-1])              # it ends at the run's own early maximum ...
        x = x0 + A * g
        peak = float(x[-1] + 0.2 * A)        # ... raised by a first-rows transient: 1/5 of its rise below
        x[:h] = np.maximum(x[:h], peak * np.sin(np.pi * np.arange(h) / h) ** 2)
        assert x[K // 2:].max() < x.max()
        r = bounded_iterates(_grow(tr, "normW", N - 1, x))
        assert r.verdict != Verdict.PASS, (name, r.message)
        # round 4: room for another K rows at its fastest rate is no longer PASS (a law does not
        # stop at a horizon: c + log k under a bump half its size PASSed that way) ...
        x[:h] = np.maximum(x[:h], (x[-1] + 20 * A) * np.sin(np.pi * np.arange(h) / h) ** 2)
        r = bounded_iterates(_grow(tr, "normW", N - 1, x))
        assert r.verdict != Verdict.PASS, (name, r.message)
        # ... a drift negligible against the range (at most TAIL_SHARE = 1e-3 of it) is
        x[:h] = np.maximum(x[:h], (x[-1] + 1e4 * A) * np.sin(np.pi * np.arange(h) / h) ** 2)
        r = bounded_iterates(_grow(tr, "normW", N - 1, x))
        assert r.verdict == Verdict.PASS, (name, r.message)
        assert r.trend[f"normW[layer {N}]"]["how"].startswith("tail growth negligible"), name


@pytest.mark.parametrize("name", ["bound_derived_sigmoid_d1", "bound_derived_arctan_d1"])
def test_a_slow_small_drift_after_a_transient_is_not_fail(name):
    """(c) derived depth-1 sigmoid/arctan runs (square task n = 40, lecun-normal seed 1, 300
    iterations; traces copied into tests/data, 62 KB each): ||W_2|| jumps over the first rows,
    then drifts linearly by 0.38 % / 0.25 % (0.10-0.11 of its range, a linear law from k = 1
    gives 0.49): INCONCLUSIVE, not FAIL; the laws from k = 1 on the same rows still FAIL."""
    tr = Trace.load(DATA / f"{name}.npz")
    r = bounded_iterates(tr)
    assert r.verdict == Verdict.INCONCLUSIVE, r.message
    t = r.trend["normW[layer 2]"]
    assert t["verdict"] == "INCONCLUSIVE" and t["share"] < 0.5 * t["law_share"]
    K = len(tr)
    k = np.arange(1, K + 1, dtype=float)
    x0 = np.asarray(tr.normW[:, 1], float)
    for amp in (1e-3, 0.01, 1.0, 100.0):              # c = x_1 (the recorded initial point)
        for g in (np.sqrt(k), np.log(k), k / K):
            x = x0[0] + amp * (g - g[0])
            assert bounded_iterates(_grow(tr, "normW", 1, x)).verdict == Verdict.FAIL, (amp, g[:3])


# (round 3 kept it xfail: 'below a peak: normW[0] + 2 range log from k0 = 0.56 K' PASSed by the
# horizon rule; round 4's rule 3 refuses it)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S.late_growth_laws(bases=S.synthetic_cases()))
def test_no_late_or_below_peak_growth_passes(case):
    """Property of class e's extension: a law started at 0.3-0.7 K, or a drift ending below an
    early peak without room for K more rows, never PASSes bounded_iterates."""
    v = case.verdicts(("bounded_iterates",))
    assert v["bounded_iterates"] in ("FAIL", "INCONCLUSIVE"), (case.kind, v)   # judged, not refused
