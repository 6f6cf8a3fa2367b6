"""The like-with-like verdict of a table cell (sigadmm.report.cell_verdict, CELL_RULE;
docs/reproduce.md, "Like with like"): each branch, its boundaries, and its properties."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm.report import (CELL_FACTOR, CELL_MIN_TRIALS, CELL_RULE, VERDICT_RULE, VERDICTS, Claim,
                            Measured, Report, TableCell, cell_verdict, measures_verdict)

RANK = {"better than the paper": 0, "reproduced": 1, "not reproduced": 2}
pos = st.floats(min_value=1e-12, max_value=1e3, allow_nan=False, allow_infinity=False)
# 0 or normal floats: an exact power-of-two rescaling of a subnormal would lose bits
nonneg = st.one_of(st.just(0.0), st.floats(min_value=1e-30, max_value=1e3, allow_nan=False,
                                           allow_infinity=False))


# ---------------------------------------------------------------- each branch
def test_branches():
    p = 1e-8
    # within the factor, stds negligible
    assert cell_verdict(p, 0.0, 1.5 * p, 0.0, 20) == "reproduced"
    assert cell_verdict(p, 0.0, 0.6 * p, 0.0, 20) == "reproduced"
    # outside the factor but within the stds (the paper's std alone, both)
    assert cell_verdict(p, 3 * p, 3.5 * p, 0.0, 20) == "reproduced"
    assert cell_verdict(p, 1.5 * p, 3.5 * p, 1.5 * p, 20) == "reproduced"
    # ... but a spread as large as our mean does not make a far-off mean "reproduced": our std
    # counts up to half our mean (two trials 1.5e-4 and 1.2e-3 against the paper's 2.53e-9)
    two = Measured.of([1.5e-4, 1.2e-3])
    assert two.std > two.mean - 2.53e-9  # the plain |o - p| <= sp + so would have said reproduced
    assert cell_verdict(2.53e-9, 1.18e-9, two.mean, two.std, 2) == "not reproduced"
    assert cell_verdict(p, 0.0, 3.5 * p, 3 * p, 20) == "not reproduced"
    # far below / far above, outside the stds
    assert cell_verdict(p, 0.1 * p, 0.01 * p, 0.001 * p, 20) == "better than the paper"
    assert cell_verdict(p, 0.1 * p, 115 * p, 10 * p, 3) == "not reproduced"
    # too few trials or a missing number
    assert cell_verdict(p, 0.1 * p, p, 0.0, 1) == "inconclusive"
    assert cell_verdict(p, 0.1 * p, p, 0.0, 0) == "inconclusive"
    for bad in (math.nan, None):
        assert cell_verdict(p, 0.1 * p, bad, 0.0, 5) == "inconclusive"
        assert cell_verdict(p, 0.1 * p, p, bad, 5) == "inconclusive"
        assert cell_verdict(bad, 0.1 * p, p, 0.0, 5) == "inconclusive"
    assert cell_verdict(p, 0.1 * p, math.inf, 0.0, 5) == "inconclusive"  # a diverged mean


def test_boundaries():
    p = 1.0
    assert cell_verdict(p, 0.0, p / CELL_FACTOR, 0.0, 5) == "reproduced"
    assert cell_verdict(p, 0.0, CELL_FACTOR * p, 0.0, 5) == "reproduced"
    assert cell_verdict(p, 0.0, np.nextafter(p / CELL_FACTOR, 0), 0.0, 5) == "better than the paper"
    assert cell_verdict(p, 0.0, np.nextafter(CELL_FACTOR * p, np.inf), 0.0, 5) == "not reproduced"
    # |o - p| == sp + so exactly (3 - 1 == 1.5 + 0.5 in floating point) is within
    assert cell_verdict(p, 1.5, 3.0, 0.5, 5) == "reproduced"
    assert cell_verdict(p, 1.5, np.nextafter(3.0, np.inf), 0.5, 5) == "not reproduced"
    # our std capped at half our mean: o = 4, so = 10 counts as 2; |4 - 1| == 1 + 2
    assert cell_verdict(p, 1.0, 4.0, 10.0, 5) == "reproduced"
    assert cell_verdict(p, 1.0, np.nextafter(4.0, np.inf), 10.0, 5) == "not reproduced"
    # the fewest trials that decide
    assert CELL_MIN_TRIALS == 2
    assert cell_verdict(p, 0.0, 5.0, 0.0, CELL_MIN_TRIALS) == "not reproduced"
    assert cell_verdict(p, 0.0, 5.0, 0.0, CELL_MIN_TRIALS - 1) == "inconclusive"


@pytest.mark.parametrize("kw,name", [(dict(paper_std=-1.0), "paper_std"), (dict(ours=-1e-9), "ours"),
                                     (dict(paper=0.0), "paper"), (dict(trials=-1), "trials"),
                                     (dict(trials=2.5), "trials"), (dict(ours="small"), "ours"),
                                     (dict(trials=True), "trials")])
def test_bad_input_names_the_argument(kw, name):
    args = dict(paper=1.0, paper_std=0.1, ours=1.0, ours_std=0.1, trials=5)
    args.update(kw)
    with pytest.raises(ValueError, match=name):
        cell_verdict(**args)


# ---------------------------------------------------------------- properties
@given(p=pos, sp=nonneg, so=nonneg, o1=nonneg, o2=nonneg, n=st.integers(CELL_MIN_TRIALS, 40))
def test_monotone_in_ours(p, sp, so, o1, o2, n):
    """A larger error never gets a better verdict: better < reproduced < not reproduced."""
    lo, hi = sorted((o1, o2))
    assert RANK[cell_verdict(p, sp, lo, so, n)] <= RANK[cell_verdict(p, sp, hi, so, n)]


@given(p=pos, sp=nonneg, so=nonneg, n=st.integers(CELL_MIN_TRIALS, 40))
def test_the_papers_own_number_is_reproduced(p, sp, so, n):
    assert cell_verdict(p, sp, p, so, n) == "reproduced"


@given(p=pos, sp=nonneg, o=nonneg, so=nonneg, n=st.integers(CELL_MIN_TRIALS, 40),
       e=st.integers(-20, 20))
def test_unit_free(p, sp, o, so, n, e):
    """Measuring in other units (an exact power-of-two scale) changes no verdict."""
    c = 2.0 ** e
    assert cell_verdict(p, sp, o, so, n) == cell_verdict(c * p, c * sp, c * o, c * so, n)


@given(p=pos, sp=nonneg, o=nonneg, so1=nonneg, so2=nonneg, n=st.integers(CELL_MIN_TRIALS, 40))
def test_larger_spread_only_widens_reproduced(p, sp, o, so1, so2, n):
    """More spread in our trials can turn a verdict into 'reproduced', never away from it."""
    lo, hi = sorted((so1, so2))
    v_lo, v_hi = cell_verdict(p, sp, o, lo, n), cell_verdict(p, sp, o, hi, n)
    assert v_hi == v_lo or v_hi == "reproduced"


meas = st.tuples(nonneg, nonneg, st.integers(0, 30))


@given(p=pos, sp=nonneg, a=meas, b=meas)
def test_unknown_measure_is_symmetric_and_agrees_with_both(p, sp, a, b):
    v = measures_verdict(p, sp, {"best": a, "final": b}, "unknown")
    assert v == measures_verdict(p, sp, {"best": b, "final": a}, "unknown")  # symmetric
    va, vb = cell_verdict(p, sp, *a), cell_verdict(p, sp, *b)
    assert v == (va if va == vb else "inconclusive")


@given(p=pos, sp=nonneg, a=meas, b=meas, c=meas)
def test_known_measure_ignores_the_other(p, sp, a, b, c):
    assert (measures_verdict(p, sp, {"best": a, "final": b}, "best")
            == measures_verdict(p, sp, {"best": a, "final": c}, "best") == cell_verdict(p, sp, *a))
    assert measures_verdict(p, sp, {"best": b, "final": a}, "final") == cell_verdict(p, sp, *a)


def test_measures_verdict_rejects_bad_input():
    m = {"best": (1.0, 0.1, 5), "final": (1.0, 0.1, 5)}
    with pytest.raises(ValueError, match="paper_measure"):
        measures_verdict(1.0, 0.1, m, "median")
    with pytest.raises(ValueError, match="measures"):
        measures_verdict(1.0, 0.1, {"best": (1.0, 0.1, 5)}, "best")


# ---------------------------------------------------------------- in the report vocabulary
def test_a_cell_claim_takes_the_cell_rule():
    """Table 3's ADMM cell as in the issue: the best iterate at the paper's level, the final
    iterate 115 times it: reproduced on the paper's measure (best), whatever the final says."""
    best, final = Measured.of([2.0e-9, 2.3e-9, 2.4e-9]), Measured.of([1e-7, 3e-7, 6e-7])
    c = Claim("Table 3 square: ADMM", paper=2.53e-9, cell=TableCell(1.18e-9, best, final, "best"))
    assert c.verdict == "reproduced" and c.ours == best.mean and c.spread == best.std
    assert c.ratio == pytest.approx(best.mean / 2.53e-9)
    # the same numbers with the paper's measure unknown: the two measures disagree
    u = Claim("baseline", paper=2.53e-9, cell=TableCell(1.18e-9, best, final, "unknown"))
    assert u.verdict == "inconclusive" and u.ours is None
    row = u.row()
    assert "best: reproduced, final: not reproduced" in row[-1] and "best" in row[2] and "final" in row[2]
    assert u.verdict in VERDICTS
    with pytest.raises(ValueError, match="cell"):
        Claim("x", paper=1.0, holds=True, cell=TableCell(0.1, best, final, "best"))
    with pytest.raises(ValueError, match="paper_measure"):
        TableCell(0.1, best, final, "median")


def test_measured_of_leaves_out_unfinished_trials():
    m = Measured.of([1.0, math.nan, 3.0])
    assert m.trials == 2 and m.mean == 2.0 and m.std == pytest.approx(math.sqrt(2))
    assert Measured.of([1.0]).trials == 1 and math.isnan(Measured.of([1.0]).std)
    assert cell_verdict(1.0, 0.1, *(lambda x: (x.mean, x.std, x.trials))(Measured.of([1.0]))) == "inconclusive"


def test_the_rule_is_stated_once_with_its_constants():
    assert CELL_RULE in VERDICT_RULE and f"{CELL_FACTOR:g}p" in CELL_RULE
    rep = Report("R")
    c = Claim("cell", paper=1.0, cell=TableCell(0.1, Measured(1.0, 0.1, 3), Measured(1.0, 0.1, 3), "best"))
    rep.add_claims([c])
    rep.add_claims([c], title="again")
    assert rep.to_markdown().count(CELL_RULE) == 1
