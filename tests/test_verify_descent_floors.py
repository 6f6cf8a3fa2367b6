"""sufficient_descent: floors no row can set, and a lower bound the run cannot move (issue 19,
classes 1 and 8 of the held-out attack).

Regressions are built from the real traces of tests/data/adversarial_real_traces.npz (user
constants xi = 0, a = lambda/2), doctored consistently (verify.validate_trace accepts them):

* a multiplier excursion ``||Lam_1|| x 1e8`` that falls back over ~20 rows (the penalty its
  steps need cancelled by the dual) with a real rise of ``L_beta`` at a row of it;
* a jump of ``||Lam_1||`` on the last row only, with a rise at k = K;
* ``||Lam_1||`` growing geometrically over the second half while ``L_beta`` falls.

Before the fix each got PASS (the floor came from the row's own ``||Lam|| ||V||``, the lower
bound from the run's own sup ``||Lam||``).
"""

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import verify
from verify import strategies as S
from verify._floors import _EPS, FLOOR_MULT, ROBUST_ROWS, _scale_before
from verify.doctored import reconcile

DATA = Path(__file__).parent / "data" / "adversarial_real_traces.npz"
S.load_real_traces(DATA)
SD = {"xi": 0.0, "a": 0.5}


def _base(label):
    return S._copy_trace(S.real_case(label).trace)


def _honest_floor(tr, j, w=ROBUST_ROWS + 1):
    """The largest undoctored floor over the rows any robust scale of row ``j`` reads."""
    size = S._lagrangian_scale(tr)
    return FLOOR_MULT * _EPS * float(np.max(size[max(0, j - w):max(j + 1, w + 1)]))


def _excursion(tr, s, factor, rho=2.5, layer=0):
    """||Lam_layer|| jumps by ``factor`` at row ``s`` and falls back by ``rho`` per row; the
    constraint violation covers every multiplier step and the dual cancels the penalty added."""
    K, N = len(tr), tr.n_layers
    beta = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
    old = tr.normLam[:, layer].copy()
    extra = np.zeros(K)
    extra[s] = factor * max(old[s], 1e-3)
    r = s
    while r + 1 < K and extra[r] > 2 * old[r + 1] * 0.999:
        extra[r + 1] = extra[r] / rho
        r += 1
    new = old + extra
    for row in range(s, min(r + 2, K)):
        tr.feas[row, layer] = (abs(new[row] - new[row - 1]) + beta[layer] * tr.feas[row, layer]) \
            / beta[layer] * (1 + 1e-9)
    pen_old = tr.penalty.copy()
    tr.normLam[:, layer] = new
    tr.penalty[:] = 0.5 * (beta * tr.feas ** 2).sum(axis=1)
    tr.dual[:] -= tr.penalty - pen_old
    return r + 1 - s


def _rise_at(tr, j, rise):
    """``L_beta^(j+1) = L_beta^j + rise`` (row j, 0-based), carried by the dual of that row."""
    L = tr.loss + tr.reg + tr.dual + tr.penalty
    tr.dual[j] += L[j - 1] - L[j] + rise
    tr.lagrangian[:] = tr.loss + tr.reg + tr.dual + tr.penalty
    reconcile(tr, min_loss=0.0)


def test_good_real_runs_keep_pass():
    for label in ("sigmoid d1", "tanh d1", "arctan d1", "tanh d2", "algebraic d2"):
        r = verify.sufficient_descent(S.real_case(label).trace, **SD)
        assert str(r.verdict) == "PASS", (label, r.reason)


def test_a_consistent_multiplier_excursion_cannot_hide_a_rise():
    base = _base("tanh d2")
    for s, factor, lag in ((150, 1e8, 3), (211, 1e4, 0), (60, 1e10, 7)):
        tr = S._copy_trace(base)
        m = _excursion(tr, s, factor)
        rise = 1e3 * 4 * _honest_floor(base, s + lag)     # 1000 x twice the robust floor
        _rise_at(tr, s + lag, rise)
        verify.validate_trace(tr)                      # every identity holds
        r = verify.sufficient_descent(tr, **SD)
        assert str(r.verdict) != "PASS", (s, factor, m)
        if str(r.verdict) == "INCONCLUSIVE":
            assert "set by a jump" in r.reason, r.reason


def test_a_last_row_jump_cannot_hide_a_rise_at_K():
    for label in ("sigmoid d1", "tanh d1", "arctan d2"):
        base = _base(label)
        K = len(base)
        tr = S._copy_trace(base)
        N = tr.n_layers
        beta = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
        J = 1e8 * max(tr.normLam[-1, 0], 1e-3)
        tr.feas[-1, 0] = (J + beta[0] * tr.feas[-1, 0]) / beta[0] * (1 + 1e-9)
        pen_old = tr.penalty.copy()
        tr.normLam[-1, 0] += J
        tr.penalty[:] = 0.5 * (beta * tr.feas ** 2).sum(axis=1)
        tr.dual[:] -= tr.penalty - pen_old
        # 1e9 honest floors: float64 resolves the sum of parts (~1e12 here) only to ~1e-4
        _rise_at(tr, K - 1, 1e9 * _honest_floor(base, K - 1))
        assert tr.lagrangian[-1] - tr.lagrangian[-2] > 1e8 * _honest_floor(base, K - 1)
        verify.validate_trace(tr)
        r = verify.sufficient_descent(tr, **SD)
        assert str(r.verdict) == "INCONCLUSIVE" and "set by a jump" in r.reason, (label, r.reason)


def test_a_rise_beyond_the_own_floor_without_a_jump_stays_fail():
    base = _base("sigmoid d1")
    tr = S._copy_trace(base)
    _rise_at(tr, 200, 1e6 * _honest_floor(base, 200))
    verify.validate_trace(tr)
    r = verify.sufficient_descent(tr, **SD)
    assert str(r.verdict) == "FAIL", r.reason


def test_a_multiplier_growing_geometrically_while_L_falls_cannot_pass():
    for label, g, frac in (("sigmoid d1", 1.05, 0.5), ("tanh d2", 1.02, 0.33),
                           ("arctan d1", 1.2, 0.87)):
        tr = _base(label)
        K, N = len(tr), tr.n_layers
        beta = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
        s = int(frac * K)
        for r in range(s, K):
            tr.normLam[r, 0] = tr.normLam[r - 1, 0] * g
            tr.feas[r, 0] = max(tr.feas[r, 0], tr.normLam[r, 0] / beta[0],
                                (tr.normLam[r, 0] - tr.normLam[r - 1, 0]) / beta[0] * (1 + 1e-9))
        tr.penalty[:] = 0.5 * (beta * tr.feas ** 2).sum(axis=1)
        tr.dual[s:] = -(tr.normLam * tr.feas).sum(axis=1)[s:] * (1 - 1e-9)
        tr.lagrangian[:] = tr.loss + tr.reg + tr.dual + tr.penalty
        reconcile(tr, min_loss=0.0)
        verify.validate_trace(tr)
        assert np.all(np.diff(tr.lagrangian[s:]) < 0)          # L falls over the growth
        r = verify.sufficient_descent(tr, **SD)
        assert str(r.verdict) != "PASS", (label, g)
        if str(r.verdict) == "INCONCLUSIVE":
            assert "first half" in r.reason, r.reason


@settings(max_examples=60)
@given(st.integers(ROBUST_ROWS + 2, 400), st.data())
def test_no_short_excursion_inflates_the_robust_scale(n, data):
    """For any series and any excursion of at most ROBUST_ROWS // 2 rows (anywhere, the last
    rows included) inflated by any factor, the scale of every row stays below the largest
    value of the series before the excursion."""
    x = np.exp(np.asarray(data.draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n))))
    m = data.draw(st.integers(1, ROBUST_ROWS // 2))
    s = data.draw(st.integers(0, n - m))
    y = x.copy()
    y[s:s + m] *= 10.0 ** data.draw(st.floats(1, 300))
    assert np.all(_scale_before(y) <= x.max())
