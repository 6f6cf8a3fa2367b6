"""kkt_rate, issue 19 round 4: power-law approaches to a positive limit and short dips.

Held-out attack (att20, H2 and H3): (H2) the second half of a real run's ``kkt_total``
replaced by ``c + A k^-p`` (p = 2, 3, 4) with ``c`` 50-70 % of the final value PASSed as a
"power law": the positive-limit test only recognised geometric approaches; (H3) a residual
flat over the second half with dips of 2-3 adjacent rows every 4-7 rows, the dips' depth
following ``k^-2``, PASSed as "power law k^-2.01": the despiking removed only isolated single
rows.  The classes, not the instances: any ``p``, any ``c >= 0.15 s_K`` (``LIMIT_FRACTION =
0.1`` of the running minimum's last value, with room for the grid of the profile fit), dips
of 1..``DIP_ROWS`` = 4 adjacent rows at any period (gaps of one row included) and any depth.
Good cases keep their PASS: pure power laws ``k^-p`` (p >= 1.1) and geometric decays.
"""

import math
import os

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from verify import strategies as S
from verify import validate_trace
from verify._rate import DIP_ROWS, LIMIT_FRACTION, _positive_limit_power, _supported_min
from verify.checks import kkt_rate

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
N = {"thorough": 100, "thorough-ci": 100}.get(PROFILE, 20)


def _run(r, depth=1, seed=0, strict=False):
    K = r.size
    tr, c = S.consistent_synthetic_run(K=K, depth=depth, seed=seed, r_law=r)
    is_law = float(np.max(np.abs(tr.kkt_total - r) / r)) < 1e-6       # the residual is the law
    if strict:
        assert is_law
    else:
        assume(is_law)
    validate_trace(tr)
    return tr, c


def _limit_law(K, p, frac, scale=1e-2):
    """First half ``1/k`` down to ``r_h``; second half ``c + A (k/h)^-p`` with ``c = frac r_K``,
    continuous at ``h``."""
    k = np.arange(1, K + 1, dtype=float)
    h = K // 2
    g = (k / h) ** -p
    gK = (K / h) ** -p
    c = frac / (1 - frac) * gK                       # c / (c + gK) = frac
    law = c + g
    r = np.where(k < h, (k / h) ** -1.0 * law[h - 1], law)
    return scale * r / r[h - 1]


# ----------------------------------------------------------------- H2: positive limits
@settings(max_examples=N, deadline=None)
@given(p=st.floats(0.3, 10.0), frac=st.floats(0.15, 0.99), K=st.integers(120, 400),
       depth=st.sampled_from([1, 2]), seed=st.integers(0, 2 ** 16))
@example(p=2.0, frac=0.5, K=300, depth=1, seed=0)       # att20 H2
@example(p=3.0, frac=0.7, K=300, depth=1, seed=0)
@example(p=4.0, frac=0.7, K=300, depth=1, seed=0)
def test_a_power_law_approach_to_a_positive_limit_never_passes(p, frac, K, depth, seed):
    """``r = c + A k^-p`` over the second half with ``c >= 0.15 r_K`` tends to a positive
    limit: never PASS, with out-of-sample constants or the builder's valid constants."""
    tr, c = _run(_limit_law(K, p, frac), depth, seed)
    for kw in ({}, {"xi": c["xi"], "a": c["a"], "b": c["b"]}):
        r = kkt_rate(tr, **kw)
        assert r.verdict != "PASS", (p, frac, K, kw, r.regime, r.message)


@settings(max_examples=4 * N, deadline=None)
@given(p=st.floats(0.3, 12.0), frac=st.floats(0.15, 0.999), K=st.integers(40, 2000),
       A=st.floats(1e-8, 1e8))
def test_the_power_limit_detector_finds_the_limit(p, frac, K, A):
    """The detector itself, on the series it reads: ``s = c + A k^-p`` on ``[h, K]`` with
    ``c >= 0.15 s_K`` is a positive limit, for any ``p`` and scale."""
    k = np.arange(1, K + 1, dtype=float)
    h = K // 2
    c = frac / (1 - frac) * A * K ** -p
    s = c + A * k ** -p
    assume(s[h] > s[-1] * (1 + 1e-6))                  # the tail moves in float64
    out = {}
    assert _positive_limit_power(s, k, h, 0.0, out), (p, frac, K, out)
    assert out["limit"] >= LIMIT_FRACTION * s[-1]


@settings(max_examples=4 * N, deadline=None)
@given(p=st.floats(0.3, 12.0), K=st.integers(40, 2000), A=st.floats(1e-8, 1e8),
       rho=st.floats(0.5, 0.999))
def test_the_power_limit_detector_leaves_pure_laws(p, K, A, rho):
    """A pure power law (limit 0) and a geometric decay are never read as a positive limit."""
    k = np.arange(1, K + 1, dtype=float)
    h = K // 2
    for s in (A * k ** -p, A * rho ** k):
        if not (np.all(s[h:] > 1e-300) and s[h] > s[-1] * (1 + 1e-6)):
            continue
        assert not _positive_limit_power(s, k, h, 0.0, {}), (p, K, rho)


# ----------------------------------------------------------------- H3: short dips
def _dipped(K, level_q, width, period, phase, depth_p, depth_f, scale=1e-2):
    """A residual ``1/k`` to ``r_h``, then ``r_h (k/h)^-level_q`` (flat or slower than 1/k)
    with dips of ``width`` adjacent rows every ``period`` rows to ``depth_f r_h (k/h)^-depth_p``."""
    k = np.arange(1, K + 1, dtype=float)
    h = K // 2
    r = np.where(k < h, (k / h) ** -1.0, (k / h) ** -level_q)
    dip = depth_f * (k / h) ** -depth_p
    for c0 in range(h + phase, K, period):
        sl = slice(c0, min(c0 + width, K))
        r[sl] = np.minimum(r[sl], dip[sl])
    return scale * r


@settings(max_examples=N, deadline=None)
@given(level_q=st.floats(0.0, 0.5), width=st.integers(1, DIP_ROWS), gap=st.integers(1, 10),
       phase=st.integers(0, 12), depth_p=st.floats(1.0, 8.0), depth_f=st.floats(1e-3, 0.9),
       K=st.integers(120, 400), depth=st.sampled_from([1, 2]), seed=st.integers(0, 2 ** 16))
@example(level_q=0.0, width=2, gap=5, phase=3, depth_p=2.0, depth_f=1.0 - 1e-9, K=300, depth=1,
         seed=0)                                       # att20 H3 (period 7, 2-row dips)
@example(level_q=0.0, width=3, gap=4, phase=3, depth_p=2.0, depth_f=1.0 - 1e-9, K=300, depth=1,
         seed=0)
@example(level_q=0.0, width=2, gap=2, phase=3, depth_p=2.0, depth_f=1.0 - 1e-9, K=300, depth=1,
         seed=0)                                       # period 4
@example(level_q=0.0, width=4, gap=1, phase=0, depth_p=6.0, depth_f=0.5, K=300, depth=1,
         seed=0)                                       # gap of one row: 80 % of the rows low
def test_short_dips_in_a_stalled_residual_never_pass(level_q, width, gap, phase, depth_p,
                                                     depth_f, K, depth, seed):
    """A residual flat (or slower than ``1/k``) over the second half, with dips of at most
    ``DIP_ROWS`` adjacent rows at any period and depth: the law is judged on the level that
    ``DIP_ROWS + 1`` consecutive rows reached, so the dips never make it a PASS."""
    r = _dipped(K, level_q, width, width + gap, phase, depth_p, depth_f)
    tr, c = _run(r, depth, seed)
    for kw in ({}, {"xi": c["xi"], "a": c["a"], "b": c["b"]}):
        res = kkt_rate(tr, **kw)
        assert res.verdict != "PASS", (width, gap, kw, res.regime, res.message)


@settings(max_examples=4 * N, deadline=None)
@given(r=st.lists(st.floats(1e-6, 1e6), min_size=6, max_size=60), width=st.integers(1, DIP_ROWS),
       data=st.data())
def test_the_supported_minimum_ignores_runs_of_at_most_dip_rows(r, width, data):
    """``_supported_min`` is an upper bound of the running minimum, and lowering any rows that
    leave no ``DIP_ROWS + 1`` consecutive lowered rows never lowers it."""
    r = np.asarray(r)
    e = _supported_min(r)
    n = r.size
    ok = np.isfinite(e)
    assert np.all(e[ok] >= np.minimum.accumulate(r)[ok])
    # lower runs of at most `width` rows by 1e9, separated by at least one untouched row
    low, touched = r.copy(), np.zeros(n, bool)
    i = data.draw(st.integers(0, width))
    while i < n:
        low[i:i + width] *= 1e-9
        touched[i:i + width] = True
        i += width + data.draw(st.integers(1, 6))
    win = np.lib.stride_tricks.sliding_window_view(np.where(touched, 0.0, r), DIP_ROWS + 1)
    wu = np.max(win, axis=1)                 # every window keeps an untouched row
    assert np.all(wu > 0)
    assert np.all(_supported_min(low)[:wu.size] >= np.minimum.accumulate(wu))


# ----------------------------------------------------------------- good cases keep PASS
@settings(max_examples=N, deadline=None)
@given(p=st.floats(1.2, 4.0), K=st.integers(80, 400), depth=st.sampled_from([1, 2]),
       seed=st.integers(0, 2 ** 16))
def test_a_pure_power_law_still_passes(p, K, depth, seed):
    """``k^-p``, ``p >= 1.2`` (as tests/test_verify_checks.py draws it: over a tail shorter than
    a doubling of ``k`` a law just above ``1/k`` may fall by less than 1/2, INCONCLUSIVE by the
    unchanged second-half rule): PASS as a power law (or at the floor)."""
    k = np.arange(1, K + 1, dtype=float)
    tr, _ = _run(k ** -p, depth, seed)
    r = kkt_rate(tr)
    assert r.verdict == "PASS" and r.regime in ("power law", "floor"), (p, K, r.regime, r.message)
    if r.regime == "power law":
        assert abs(r.slope + p) < 1e-6


@settings(max_examples=N, deadline=None)
@given(rho=st.floats(0.9, 0.99), K=st.integers(120, 400), depth=st.sampled_from([1, 2]),
       seed=st.integers(0, 2 ** 16))
def test_a_geometric_decay_still_passes(rho, K, depth, seed):
    k = np.arange(1, K + 1, dtype=float)
    assume(rho ** (K / 2) < 0.45)                      # falls by the 1/2 of 1/k over the half
    tr, _ = _run(1e-2 * rho ** k, depth, seed)
    r = kkt_rate(tr)
    assert r.verdict == "PASS" and r.regime in ("geometric", "floor"), (rho, K, r.regime,
                                                                      r.message)


@pytest.mark.parametrize("width", range(1, DIP_ROWS + 1))
def test_a_power_law_with_short_up_spikes_still_passes(width):
    """The supported level only waits for rows raised above the law (at most DIP_ROWS + 1
    rows each time): a k^-2 law with a few raised runs still PASSes."""
    K = 300
    k = np.arange(1, K + 1, dtype=float)
    r = k ** -2.0
    for c0 in (170, 215, 260):
        r[c0:c0 + width] *= 3.0
    tr, _ = _run(r, strict=True)
    res = kkt_rate(tr)
    assert res.verdict == "PASS", res.message
    assert math.isclose(res.slope, -2.0, abs_tol=0.2)
