"""bounded_iterates, round 5 (hole H1 of the independent attack): unbounded laws must not PASS
the trend test because of iid noise, a saturating transient or a decaying oscillation beside
them.

The attack made ``c + log k`` (log log, ``k^0.3``, sqrt, with time offsets) PASS as a "geometric
approach" or "tail stopped rising": (a) iid noise of 2-20 % of the law's growth (an early noise
peak takes the tail envelope's first-window increment, so the later window ratios fall below
``rho_geo``), (b) a saturating transient of the law's own size ``A (1 - exp(-k/(0.3 K)))`` (tail
ratios 0.71, 0.73, 0.748), (c) a decaying oscillation ``A exp(-k/(0.3 K)) cos(k/3)`` (its early
crests make the running max flat).  A PASS now needs the isotonic trend of the tail to agree with
its envelope, its window increments widened by the noise's resolution (``NOISE_Z``).  Class (b)
is not separable over the tail windows for ``tau`` = 0.1-0.4 K on the benchmark's grid, up to
0.5 K for a late-start slow law at K of a few hundred (the real runs' slow approaches have the
same slowly rising ratios): the strategy draws ``tau`` outside (0.08 K, 0.6 K), and the
attack's instances are kept as a strict xfail that records the limit
(``benchmarks/bounded_transient_boundary.py`` measures it).  Class (c) is drawn with periods
up to 0.15 K and ``tau >= 0.2 K``: a period of 0.5-1 K leaves the tail one turning point (the
measured limit), one of 0.15-0.5 K rarely modulates a nearly monotone tail (2 of 4215 random
draws), a faster decay leaves a monotone tail.

Each property reads "no unbounded law of class X PASSes unless the law alone already does": a
late-start law alone at ``K`` of a few hundred can read as a geometric approach (12 of 20000
drawn laws, ``K`` = 163-372, ``k0`` = 0.30-0.375 K; docs/verify.md, Round 5), a limit of the
noise-free rule that is not this class.
"""

import numpy as np
import pytest
from hypothesis import assume, example, given, settings

from verify import strategies as S
from verify._boundedness import _growth_trend
from verify._floors import FLOOR_MULT

_LAWS = {"log": np.log1p, "sqrt": np.sqrt, "k^0.3": lambda t: t ** 0.3,
         "loglog": lambda t: np.log1p(np.log1p(t)), "lin": lambda t: t}


def _trend(x):
    return _growth_trend(np.asarray(x, float), FLOOR_MULT, 0.9, 0.75, 0.75)


def _attack(K, law, k0f, kind="none", amp=1.0, pos=0.3, noise=0.0, seed=0, level=5.0):
    """The attack's series (att21 b1/b2/b5): ``level + law(max(k - int(k0f K), 0)) + transient
    + noise`` with the transient and the noise sized by the law's growth over the run; returns
    ``(x, what, bare)`` as the round-5 strategies do."""
    k = np.arange(1, K + 1.0)
    law_v = _LAWS[law](np.maximum(k - int(k0f * K), 0.0))
    g = law_v[-1] - law_v[0]
    tr = {"none": 0.0 * k, "sat": amp * g * (1 - np.exp(-k / (pos * K))),
          "decay_osc": amp * g * np.exp(-k / (pos * K)) * np.cos(k / 3)}[kind]
    nz = noise * g * np.random.default_rng(seed).uniform(-1, 1, K) if noise else 0.0
    what = f"attack: {law} from {k0f} K, K={K}, {kind} {amp} {pos}, noise {noise} seed {seed}"
    return level + law_v + tr + nz, what, level + law_v


def _not_pass_unless_bare(case):
    x, what, bare = case
    # the law alone reading as a geometric approach is the noise-free rule's own short-run
    # limit (docs/verify.md), not what the perturbation did
    assume(_trend(bare)[0] != 0)
    sev, info = _trend(x)
    assert sev != 0, (what, info["how"], info.get("tail_ratios"), info.get("robust_ratios"),
                      info.get("noise"), info.get("turns"))


# ------------------------------------------------------------------ class a: noisy laws
@settings(max_examples=150, deadline=None)
@given(S.noisy_growth_laws())
# the attack's noisy laws alone (b2_traces cases 8, 9, 11-15; seeds from b5_noise)
@example(_attack(300, "log", 0.0, noise=0.05, seed=39, level=10.0))
@example(_attack(1000, "log", 0.25, noise=0.05, seed=16, level=10.0))
@example(_attack(300, "sqrt", 0.25, noise=0.2, seed=39, level=10.0))
@example(_attack(300, "k^0.3", 0.0, noise=0.1, seed=39, level=10.0))
@example(_attack(3000, "log", 0.4, noise=0.02, seed=28, level=10.0))
@example(_attack(300, "loglog", 0.4, noise=0.02, seed=6))
@example(_attack(80, "log", 0.25, noise=0.1, seed=4))
@example(_attack(150, "loglog", 0.0, noise=0.2, seed=21, level=10.0))
@example(_attack(1000, "loglog", 0.0, noise=0.2, seed=0, level=10.0))
def test_no_noisy_law_passes(case):
    """Class a: no unbounded law plus iid noise of 0.5-20 % of its growth PASSes."""
    _not_pass_unless_bare(case)


def test_the_b5_noise_scan_instances_are_not_pass():
    """The first PASS of every (law, K) cell of the attack's b5 scan (K = 80-1000)."""
    cells = [(80, "k^0.3", 0.25, 0.05, 4), (150, "k^0.3", 0.4, 0.02, 15), (300, "k^0.3", 0, 0.1, 39),
             (1000, "k^0.3", 0.4, 0.1, 35), (150, "log", 0, 0.2, 36), (300, "log", 0, 0.05, 39),
             (1000, "log", 0.25, 0.05, 16), (3000, "log", 0.4, 0.02, 28), (80, "loglog", 0.1, 0.02, 4),
             (300, "loglog", 0, 0.02, 39), (3000, "loglog", 0.4, 0.02, 28), (80, "sqrt", 0.4, 0.1, 4),
             (150, "sqrt", 0.4, 0.2, 11), (300, "sqrt", 0.25, 0.2, 39)]
    for K, law, k0f, s, seed in cells:
        x, what, _ = _attack(K, law, k0f, noise=s, seed=seed, level=10.0)
        assert _trend(x)[0] != 0, what


# ------------------------------------------------------------------ class b: saturating transients
@settings(max_examples=100, deadline=None)
@given(S.laws_with_saturating_transient())
@example(_attack(300, "log", 0.4, "sat", 1.0, 0.3, noise=0.02, seed=6))   # b2 case 10
@example(_attack(300, "log", 0.4, "sat", 1.0, 0.3, noise=0.02, seed=7))
def test_no_law_beside_a_transient_outside_the_boundary_passes(case):
    """Class b: no unbounded law plus a transient ``A g (1 - exp(-k/tau))``, ``A <= 1`` times
    its growth, ``tau`` below 0.08 K or above 0.6 K (optionally noisy) PASSes; the band between
    is the measured limit (below)."""
    _not_pass_unless_bare(case)


@pytest.mark.xfail(strict=True, reason="the measured limit of class b (docs/verify.md, Round 5): "
                   "a law beside its own-size transient with tau = 0.1-0.4 K reads as a slow "
                   "geometric approach over [K/2, K]; strict: a fix must update the docs")
@pytest.mark.parametrize("K,k0f", [(3000, 0.0), (3000, 0.25), (1000, 0.4)])
def test_the_attack_own_size_transients_are_the_documented_limit(K, k0f):
    """b2 cases 0-2 (noise-free, tau = 0.3 K, A = 1): still PASS."""
    x, what, _ = _attack(K, "log", k0f, "sat", 1.0, 0.3)
    assert _trend(x)[0] != 0, what


# ------------------------------------------------------------------ class c: decaying oscillations
@settings(max_examples=150, deadline=None)
@given(S.laws_with_decaying_oscillation())
@example(_attack(300, "log", 0.0, "decay_osc", 1.0, 0.3))     # b2 case 3
@example(_attack(3000, "log", 0.0, "decay_osc", 1.0, 0.3))    # b2 case 4
@example(_attack(3000, "loglog", 0.0, "decay_osc", 0.5, 0.3, noise=0.02, seed=1))
@example(_attack(3000, "loglog", 0.4, "decay_osc", 1.0, 0.3, noise=0.1, seed=2))
def test_no_law_beside_a_decaying_oscillation_passes(case):
    """Class c: no unbounded law plus ``A g exp(-k/tau) cos(2 pi k/P + phi)`` (``A`` = 0.1-2,
    ``tau`` = 0.2-0.6 K, period 3 rows to 0.15 K, any phase, optionally noisy) PASSes."""
    _not_pass_unless_bare(case)


# ------------------------------------------------------------------ good series keep PASS
def test_bounded_tails_with_dips_jitter_or_a_stop_still_pass():
    """What the robust trend must not take away (each PASSed before round 5): geometric
    approaches, one dip and its recovery below the value at ``K/2`` (one turning point: the
    envelope alone decides, as before; its isotonic trend rises by 0.11), a tail stopped after
    an approach, and a stopped tail with jitter at 1e-9 of its range (294 turning points; its
    isotonic trend does not rise)."""
    K = 1000
    k = np.arange(1, K + 1.0)
    for q in (0.99, 0.997):
        assert _trend(5 - 3 * q ** k)[0] == 0, q
    dip = 5 + 2 * np.exp(-k / 80) - 0.2 * np.exp(-((k - 700) / 100) ** 2)
    sev, info = _trend(dip)
    assert sev == 0 and info["turns"] == 1 and info["robust_rise"] > 0.1, info["how"]
    stop = np.minimum(5 - 3 * 0.99 ** k, 5 - 3 * 0.99 ** 600)
    assert _trend(stop)[0] == 0
    jit = 5 - 3 * 0.97 ** k + 1e-9 * 3 * np.random.default_rng(0).uniform(-1, 1, K)
    sev, info = _trend(jit)
    assert sev == 0 and info["turns"] > 1, info["how"]
