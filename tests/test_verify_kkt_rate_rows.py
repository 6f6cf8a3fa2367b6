"""kkt_rate: one row, or the end rows, never decide a law or a floor (issue 19, round 3).

Held-out attack on main at 212ba50: (a) a residual tending to a positive limit (``0.05 +
0.99^k``, ``1e-3 + 0.98^k``) with ONE row multiplied by 3..1e3 at or next to ``k = K/2`` read
as "power law k^-1.48" and PASSed (the stall test compared single rows of the running
minimum); (b) a stalled residual (a plateau, ``k^-0.4``, ``1/log k``, a positive limit, flat)
PASSed "reached the rounding floor" when a hidden ``||Lam_1||`` jumped x1e14 consistently over
the last 3..12 rows (the running median of the floor was padded by reflection at the end);
(c) with user-supplied ``xi, a, b`` the result said "derived constants".  Every instance here
is built from :func:`verify.strategies.consistent_synthetic_run` and accepted by
:func:`verify.validate_trace`; the property searches the class
(:func:`verify.strategies.stalled_law_row_attacks`).
"""

import math
import os

import numpy as np
import pytest
from hypothesis import given, settings

from verify import strategies as S
from verify import validate_trace
from verify._rate import _regime_of_run
from verify.checks import FLOOR_MULT, _residual_floor, kkt_rate

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
N = {"thorough": 300, "thorough-ci": 300}.get(PROFILE, 30)

LIMIT_LAWS = {"0.05 + 0.99^k": lambda k: 0.05 + 0.99 ** k,
              "1e-3 + 0.98^k": lambda k: 1e-3 + 0.98 ** k}
STALLED_LAWS = {"plateau 1e-3": lambda k: np.maximum(k ** -1.5, 1e-3),
                "k^-0.4": lambda k: k ** -0.4, "1/log k": lambda k: 1 / np.log(k + 1),
                "0.05 + 0.99^k": lambda k: 0.05 + 0.99 ** k, "flat": lambda k: np.ones_like(k)}


def _run(law, K=300, depth=1, seed=0, scale=1e-2):
    k = np.arange(1, K + 1, dtype=float)
    r = scale * law(k)
    tr, c = S.consistent_synthetic_run(K=K, depth=depth, seed=seed, r_law=r)
    assert np.allclose(tr.kkt_total, r, rtol=1e-9)          # the residual is the law
    return tr, c


def _with_row(tr, j, f):
    t = S._copy_trace(tr)
    t.kkt[j] *= f
    t.kkt_total[j] = math.sqrt(float(np.sum(t.kkt[j] ** 2) + np.sum(t.feas[j] ** 2)))
    return t


@pytest.mark.parametrize("law", sorted(LIMIT_LAWS))
@pytest.mark.parametrize("depth", [1, 2])
def test_one_row_near_half_does_not_turn_a_positive_limit_into_a_pass(law, depth):
    """(a): one row x3..x1e3 (and /1e3) at ``K/2 - 1 .. K/2 + 3``: the law tends to a positive
    limit far above the floor; no verdict is PASS, with or without the constants."""
    K = 300
    tr, c = _run(LIMIT_LAWS[law], K=K, depth=depth)
    assert kkt_rate(tr).verdict != "PASS"                     # the law itself is not a PASS
    for j in (K // 2 - 1, K // 2, K // 2 + 1, K // 2 + 3):
        for f in (3.0, 10.0, 30.0, 1e3, 1e-3):
            t = _with_row(tr, j, f)
            validate_trace(t)
            for kw in ({}, {"xi": c["xi"], "a": c["a"], "b": 1e6}):
                r = kkt_rate(t, **kw)
                assert r.verdict != "PASS", (law, j, f, kw, r.regime, r.message)


def test_one_row_does_not_move_the_robust_statistics_of_the_regime():
    """The regime's statistics are window statistics: one row changed by any factor moves the
    second-half fall and the fitted exponent by less than 2 % (they moved the regime from
    "stalled" to "power law k^-1.48" on main)."""
    tr, c = _run(LIMIT_LAWS["0.05 + 0.99^k"])
    r0 = kkt_rate(tr, xi=c["xi"], a=c["a"], b=1e6)
    assert r0.regime == "stalled"
    for j in (10, 149, 150, 151, 200, 296, 299):
        for f in (1e-12, 1e-3, 3.0, 1e12):
            r1 = kkt_rate(_with_row(tr, j, f), xi=c["xi"], a=c["a"], b=1e6)
            assert r1.regime == "stalled", (j, f, r1.regime, r1.message)


def _end_jump(tr, m, factor=1e14, layer=0):
    t = S._copy_trace(tr)
    J = factor * max(float(t.normLam[-1, layer]), 1e-3)
    S._end_multiplier_jump(t, m, J, layer)
    validate_trace(t)                                          # every identity still holds
    return t


@pytest.mark.parametrize("law", sorted(STALLED_LAWS))
def test_end_rows_of_the_multipliers_do_not_set_the_floor(law):
    """(b): ``||Lam_1||`` jumps x1e14 (consistently) over the last 1..18 rows of a stalled
    residual: never PASS; once the jump fills a window's median (m >= 5) the residual sits at
    a floor that is a jump of the run's scale: INCONCLUSIVE, "the floor rose"."""
    tr, c = _run(STALLED_LAWS[law])
    for m in (1, 3, 5, 8, 12, 18):
        t = _end_jump(tr, m)
        for kw in ({}, {"xi": c["xi"], "a": c["a"], "b": 1e6}):
            r = kkt_rate(t, **kw)
            assert r.verdict != "PASS", (law, m, kw, r.regime, r.message)
        r = kkt_rate(t)
        if r.verdict == "INCONCLUSIVE" and r.regime == "floor undecidable":
            assert "floor rose" in r.reason


def test_a_floor_jump_at_the_end_is_named():
    """The plateau at 1e-3 with ``||Lam_1||`` x1e14 over the last 12 rows: the residual sits at
    the window floor of the last windows, a jump of the run's scale: "floor undecidable" (the
    jump row's own residual, ``beta ||F||`` of the jump, may break the chain: FAIL, not PASS);
    with the chain holding, INCONCLUSIVE naming the floor that rose."""
    tr, _ = _run(STALLED_LAWS["plateau 1e-3"])
    t = _end_jump(tr, 12)
    r = kkt_rate(t)
    assert r.regime == "floor undecidable" and r.verdict != "PASS", r.message
    K = len(t)
    reg = _regime_of_run(np.asarray(t.kkt_total, float), _residual_floor(t, K, FLOOR_MULT),
                         np.arange(1, K + 1))
    assert reg["regime"] == "floor undecidable" and reg["floor_jump"] > 1e10
    assert reg["k_floor"] >= K - 12                               # found in the jumped rows


def test_a_run_that_reaches_the_floor_still_passes():
    """The robust floor keeps the good side: a geometric run that reaches its floor PASSes
    "floor" (its floor scale never jumps), and one row changed by any factor moves neither the
    regime nor the row where the floor is reached."""
    tr, _ = S.consistent_synthetic_run(K=300, q=0.8, seed=3)
    r = kkt_rate(tr)
    assert r.verdict == "PASS" and r.regime == "floor", r.message
    for j, f in ((150, 1e6), (299, 1e-6), (0, 1e-9)):
        r = kkt_rate(_with_row(tr, j, f))             # (a spike may break the chain: not PASS)
        assert r.regime == "floor" and r.k_floor == kkt_rate(tr).k_floor, (j, f, r.message)


def test_user_constants_are_named_user_supplied():
    """(c): ``xi, a, b`` given by the user carry no derivation: basis ``"user"``, heuristic,
    and the message says so (it said "derived constants")."""
    tr, c = S.consistent_synthetic_run(K=200, seed=1)
    r = kkt_rate(tr, xi=c["xi"], a=c["a"], b=c["b"])
    assert r.verdict == "PASS" and r.basis == "user" and r.heuristic and not r.certified
    assert "user-supplied" in r.message and "derived" not in r.message
    r = kkt_rate(tr, xi=c["xi"], a=c["a"], b=1e-3 * c["b"])         # the chain breaks
    assert r.verdict == "FAIL" and "user constants" in r.reason


@settings(max_examples=N, deadline=None)
@given(case=S.stalled_law_row_attacks())
def test_no_stalled_law_passes_with_one_row_or_end_rows_changed(case):
    """The class: a stalled law (positive limit above the floor, plateau, ``k^-p`` with ``p <=
    0.9``, ``1/log k``, flat), one row multiplied by any factor at any row, or the multipliers
    jumping by orders of magnitude over the last 1..18 rows: kkt_rate never PASSes."""
    v = case.verdicts(["kkt_rate"])["kkt_rate"]
    assert v != "PASS", (case.kind, kkt_rate(case.trace, **case.options.get("kkt_rate", {})).message)
