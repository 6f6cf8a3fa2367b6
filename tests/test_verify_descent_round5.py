"""sufficient_descent, round 5 (att21 H2): a growing hidden multiplier under dips or noise.

Held-out attack (att21, H2; its scripts d1_lam.py, d3_lam_derived.py, outside the repository): ``||Lam_1||``
grown geometrically (x1.003-x1.02 per row) from K/2, 3K/4 or K/4 with a one-row dip of 1-5 %
every 6-8 rows, or 1 % Gaussian noise, PASSed descent: only 84-88 % of the rows rose, below
``LAM_ROWS = 0.9``, so the acceleration rule never fired (5 of 5 with user constants; 4 of 4
with derived constants, where the same growth without dips was INCONCLUSIVE).  The class, not
the instances: geometric or power growth from any start in ``[0.15 K, 0.7 K]``, dips of any
depth (0.5-50 %), length and spacing (dips on fewer than half of the rows), noise of four kinds
(0.1-2 %), or both.  The rule now also reads the running median, upper quartile and max of
``||Lam_i||`` over ``w = 2 max(4, K // 64) + 1`` rows, rows rising at the lag ``w``.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings

from verify import strategies as S
from verify import validate_trace
from verify._descent import _accelerating_multiplier

S.load_real_traces(Path(__file__).parent / "data" / "adversarial_real_traces.npz")
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
N = {"thorough": 150, "thorough-ci": 150}.get(PROFILE, 30)


def _descent(case):
    from verify.checks import sufficient_descent
    validate_trace(case.trace)
    return sufficient_descent(case.trace, **case.options.get("sufficient_descent", {}))


def _case(label, layer, k0, p):
    return S.dipped_growth_case(S.real_case(label), layer, k0, **p)


def _clean(p):
    return {k: p[k] for k in ("shape", "rate")}


def _geo_dips(g, period, depth, phase=0):
    return {"shape": "geo", "rate": g, "period": period, "length": 1, "depth": depth, "phase": phase}


# the attack's instances on the real sigmoid d1 run (K = 300, user constants)
ATTACK = (
    ("sigmoid d1", 0, 150, _geo_dips(1.01, 7, 0.03)),                  # x1.01 from K/2, 3 %/7
    ("sigmoid d1", 0, 75, _geo_dips(1.004, 7, 0.01)),                  # x1.004 from K/4, 1 %/7
    ("sigmoid d1", 0, 225, _geo_dips(1.02, 6, 0.05)),                  # x1.02 from 3K/4, 5 %/6
    ("sigmoid d1", 0, 150, {"shape": "geo", "rate": 1.01, "noise": "gauss", "sigma": 0.01,
                            "seed": 0}),                               # x1.01, 1 % noise
    ("sigmoid d1 derived", 0, 150, _geo_dips(1.0044, 7, 0.01)),        # d3: to 1.9 M, 1 %/7
    ("tanh d1 derived", 0, 150, _geo_dips(1.0044, 7, 0.01)),
)


@pytest.mark.parametrize("label,layer,k0,p", ATTACK)
def test_the_attack_instances_do_not_pass(label, layer, k0, p):
    case = _case(label, layer, k0, p)
    r = _descent(case)
    assert str(r.verdict) == "INCONCLUSIVE", (label, p, r.reason)
    assert "multiplier" in r.reason, r.reason


def test_the_k1000_instance_does_not_pass():
    """x1.003 per row from K/2 with a 1 % dip every 8 rows, K = 1000 (a synthetic base)."""
    tr, c = S.consistent_synthetic_run(K=1000, depth=1, seed=0)
    base = S.TraceCase("good", "synthetic K=1000", tr, "*",
                       {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}}, base="s1000")
    assert str(_descent(base).verdict) == "PASS"
    case = S.dipped_growth_case(base, 0, 500, **_geo_dips(1.003, 8, 0.01))
    r = _descent(case)
    assert str(r.verdict) == "INCONCLUSIVE" and "multiplier" in r.reason, r.reason


@settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S.dipped_growing_multipliers())
@example(_case(*ATTACK[0]))
@example(_case(*ATTACK[3]))
def test_no_multiplier_growing_under_dips_or_noise_passes_descent(case):
    """No hidden multiplier growing by the class (geometric or power growth from any start,
    dips of any depth, length and spacing on fewer than half of the rows, noise of four kinds)
    PASSes descent; L_beta is the good base's (the dual cancels the penalty the steps add), so
    the verdict is the multiplier rule's."""
    r = _descent(case)
    assert str(r.verdict) == "INCONCLUSIVE", (case.kind, r.verdict, r.reason)
    assert "multiplier" in r.reason, (case.kind, r.reason)


@settings(max_examples=4 * N, deadline=None)
@given(S.dipped_growth_params(K=300))
def test_the_rule_reads_the_growth_through_dips_and_noise(kp):
    """The detector itself on a settling series: the clean growth is read, and so is the same
    growth with its dips or noise (no trace, any K from the class's 300 rows)."""
    k0, p = kp
    K = 300
    x = 1.0 + 0.5 * np.exp(-np.arange(K) / 30.0)
    clean = S.dipped_growth_series(x, k0, **_clean(p))
    assert _accelerating_multiplier(clean[:, None], None, 0.0) is not None, (k0, p)
    y = S.dipped_growth_series(x, k0, **p)
    assert _accelerating_multiplier(y[:, None], None, 0.0) is not None, (k0, p)
