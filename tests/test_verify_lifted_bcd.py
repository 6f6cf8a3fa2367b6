"""verify.lifted_bcd: the checks of the lifted-BCD claims pass runs that show them, never pass
doctored traces that contradict them, and never pass a plateau of the stationarity residual."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from solver import Trace, tasks
from solver.lifted_bcd import LiftedBCD
from verify import Verdict
from verify.lifted_bcd import (LIFTED_BCD_CHECKS, doctored_traces, monotone_decrease, r_linear_rate,
                               run_lifted_bcd_checks, stationarity_to_zero, synthetic_run)


@pytest.fixture(scope="module")
def data():
    t = tasks.square(n=60, seed=0, n_test=0)
    return t.X, t.y


@pytest.fixture(scope="module")
def runs(data):
    """Three real runs: the summable 1/t^2 schedule (the default before issue 23), plain BCD
    (the default now) in a contractive regime (lam=3), and the geometric schedule."""
    X, y = data
    kw = dict(hidden_layer_sizes=(6,), random_state=0, inner_tol=1e-10)
    return {
        "inverse_square": LiftedBCD(**kw, lam=1e-2, theta="inverse_square", max_iter=60).fit(X, y).trace_,
        "constant": LiftedBCD(**kw, lam=3.0, theta="constant", max_iter=200).fit(X, y).trace_,
        "geometric": LiftedBCD(**kw, lam=1e-2, theta="geometric", max_iter=60).fit(X, y).trace_,
    }


def test_synthetic_run_passes_every_check():
    res = run_lifted_bcd_checks(synthetic_run())
    assert {k: r.verdict for k, r in res.items()} == {k: Verdict.PASS for k in LIFTED_BCD_CHECKS}


def test_plain_bcd_in_a_contractive_regime_shows_every_claim(runs):
    res = run_lifted_bcd_checks(runs["constant"])
    assert {k: r.verdict for k, r in res.items()} == {k: Verdict.PASS for k in LIFTED_BCD_CHECKS}, \
        {k: r.reason for k, r in res.items()}


@pytest.mark.parametrize("schedule", ["inverse_square", "geometric"])
def test_summable_theta_plateaus_and_fails_stationarity(runs, schedule):
    """With sum theta_t < inf the iterates freeze short of stationarity: the check says where the
    residual plateaus and FAILs; the rate check FAILs with it; the decrease still holds."""
    tr = runs[schedule]
    s = stationarity_to_zero(tr)
    assert s.verdict is Verdict.FAIL and s.plateau and "plateaus" in s.reason and "theta" in s.reason
    assert s.frozen_by_schedule and "frozen by the schedule" in s.reason
    assert s.schedule_tail * s.r_last > s.threshold
    assert s.plateau_from is not None and s.plateau_from < len(tr) // 2
    assert s.plateau_level > 1e-3 * s.r_max
    assert r_linear_rate(tr).verdict is Verdict.FAIL
    assert monotone_decrease(tr).verdict is Verdict.PASS


@pytest.mark.parametrize("source", ["synthetic", "constant"])
def test_no_doctored_trace_passes_the_checks_it_contradicts(runs, source):
    tr = synthetic_run() if source == "synthetic" else runs["constant"]
    cat = doctored_traces(tr)
    assert set(cat) == {"rise_u", "rise_w", "chain", "plateau", "power_law", "plateau_theta1"}
    from verify import TraceIntegrityError
    for name, (bad, checks) in cat.items():
        for c in checks:
            try:
                r = LIFTED_BCD_CHECKS[c](bad)
            except TraceIntegrityError:
                continue                          # refused before any check: not a PASS
            assert r.verdict is not Verdict.PASS, (name, c, r.message)
            assert r.reason, (name, c)
    for check, name in ((stationarity_to_zero, "plateau"), (monotone_decrease, "rise_u")):
        try:
            assert check(cat[name][0]).verdict is Verdict.FAIL
        except TraceIntegrityError:
            pass


def test_converged_is_told_from_frozen_by_the_schedule(runs):
    """The converged run (plain BCD: no cap, schedule_tail 0) PASSes without the frozen flag;
    the same plateau read under a doctored theta that no longer matches meta's rule is not
    believed to be the schedule's (schedule_tail None) and falls back to the moves rule."""
    ok = stationarity_to_zero(runs["constant"])
    assert ok.verdict is Verdict.PASS and ok.schedule_tail == 0.0 and not ok.frozen_by_schedule
    frozen = stationarity_to_zero(runs["inverse_square"])
    assert frozen.schedule_tail == pytest.approx(60 / 61) and frozen.frozen_by_schedule
    odd = Trace.from_dict(runs["inverse_square"].to_dict())
    odd.theta[-1] *= 1.5                                  # meta says 1/t^2, the column says otherwise
    s = stationarity_to_zero(odd)
    assert s.schedule_tail is None and not s.frozen_by_schedule and "frozen by the schedule" not in (s.reason or "")


def test_a_plateau_under_plain_bcd_is_not_frozen_by_the_schedule():
    """The cheapest input that would satisfy "frozen" without the claim: a plateau while
    theta = 1 (meta 'constant'): steps are left, so it is INCONCLUSIVE, never the schedule's FAIL."""
    tr = synthetic_run(K=60, q=0.9)
    tr.meta.update(theta="constant", theta_rate=0.5)
    r = tr.stationarity
    r[20:] = r[20]
    L = tr.n_layers
    tr.pg_U[:, :L - 1] = (r / np.sqrt(2 * L - 1))[:, None]
    tr.grad_W[:] = (r / np.sqrt(2 * L - 1))[:, None]
    tr.natural_residual[:] = r
    tr.comp_U[:] = tr.pg_U
    s = stationarity_to_zero(tr)
    assert s.plateau and s.schedule_tail == 0.0 and not s.frozen_by_schedule
    assert s.verdict is Verdict.INCONCLUSIVE


def test_monotone_decrease_respects_the_rounding_floor():
    tr = synthetic_run(K=40)
    j = 20
    tiny = Trace.from_dict(tr.to_dict())
    tiny.objective_u[j] = tiny.objective_start[j] * (1 + 1e-15)        # far below 1024 eps
    assert monotone_decrease(tiny).verdict is Verdict.PASS
    big = Trace.from_dict(tr.to_dict())
    big.objective_u[j] = big.objective_start[j] * (1 + 1e-9)           # far above it
    r = monotone_decrease(big)
    assert r.verdict is Verdict.FAIL and r.rises == [(j + 1, "U")]


def test_flat_objective_is_inconclusive_not_pass():
    tr = synthetic_run(K=30)
    for f in ("objective_start", "objective_u", "objective"):
        getattr(tr, f)[:] = 2.0
    tr.loss[:] = 2.0 - tr.coupling - tr.reg                # objective = loss + coupling + reg
    assert monotone_decrease(tr).verdict is Verdict.INCONCLUSIVE


def test_short_runs_and_untracked_runs_are_inconclusive(data):
    X, y = data
    short = synthetic_run(K=10, q=0.99)
    assert stationarity_to_zero(short).verdict is Verdict.INCONCLUSIVE
    assert r_linear_rate(short).verdict is Verdict.INCONCLUSIVE
    untracked = LiftedBCD(hidden_layer_sizes=(4,), track=False, max_iter=20, random_state=0).fit(X, y).trace_
    r = stationarity_to_zero(untracked)
    assert r.verdict is Verdict.INCONCLUSIVE and "track=False" in r.reason


@settings(max_examples=40, deadline=None)
@given(K=st.integers(20, 150), frac=st.floats(0.05, 0.75), drop=st.floats(0.3, 1.0),
       theta=st.sampled_from(["inverse_square", "constant"]), wiggle=st.floats(0.0, 0.04), seed=st.integers(0, 99),
       moves_stop=st.booleans())
def test_a_plateau_is_never_a_pass(K, frac, drop, theta, wiggle, seed, moves_stop):
    """Property: a residual that stops falling from iteration j on (j anywhere from 5% to 75% of
    the run; its level a fraction ``drop`` of r_j, with oscillations of +-wiggle; either
    schedule) is never PASS, whether the moves stop or not."""
    tr = synthetic_run(K=K, q=0.9, seed=seed)
    j = int(frac * K)
    r = tr.stationarity
    rng = np.random.default_rng(seed)
    r[j:] = drop * r[j] * (1 + wiggle * rng.uniform(-1, 1, K - j))
    L = tr.n_layers                                    # the blocks follow (stationarity^2 = sum)
    tr.pg_U[:, :L - 1] = (r / np.sqrt(2 * L - 1))[:, None]
    tr.grad_W[:] = (r / np.sqrt(2 * L - 1))[:, None]
    tr.natural_residual[:] = r
    tr.comp_U[:] = tr.pg_U
    if moves_stop:
        tr.move_U[j:] = tr.move_U[j]
        tr.move_W[j:] = tr.move_W[j]
    if theta == "inverse_square":
        tr.theta[:] = 1.0 / np.arange(1, K + 1) ** 2
    for check in (stationarity_to_zero, r_linear_rate):
        assert check(tr).verdict is not Verdict.PASS


@settings(max_examples=25, deadline=None)
@given(q=st.floats(0.5, 0.95), K=st.integers(120, 250), seed=st.integers(0, 99))
def test_geometric_decay_passes_the_rate_check(q, K, seed):
    """Property: residuals and steps falling as q^t (q < 0.95, noise +-10%) over a run long
    enough to fall by 1e3 are R-linear."""
    tr = synthetic_run(K=K, q=q, seed=seed)
    assert r_linear_rate(tr).verdict is Verdict.PASS


def test_power_law_is_not_r_linear():
    tr = synthetic_run(K=200)
    t = np.arange(1, 201)
    tr.stationarity[:] = 1.0 / t ** 2
    L = tr.n_layers
    tr.pg_U[:, :L - 1] = (tr.stationarity / np.sqrt(2 * L - 1))[:, None]
    tr.grad_W[:] = (tr.stationarity / np.sqrt(2 * L - 1))[:, None]
    tr.natural_residual[:] = tr.stationarity
    tr.comp_U[:] = tr.pg_U
    tr.move_W[:] = 1.0 / t[:, None] ** 2
    tr.move_U[:, 0] = 1.0 / t ** 2
    r = r_linear_rate(tr)
    assert r.verdict is Verdict.INCONCLUSIVE and r.regime == "power law"


def test_wrong_schema_and_unknown_check_raise(tmp_path):
    from solver.admm.schema import ADMM_SCHEMA

    admm = Trace.empty(2, 3, schema=ADMM_SCHEMA)
    admm.set_row(0, {"lagrangian": 1.0})
    with pytest.raises(ValueError, match="lifted_bcd"):
        monotone_decrease(admm)
    with pytest.raises(ValueError, match="checks: unknown"):
        run_lifted_bcd_checks(synthetic_run(K=20), checks=["kkt_rate"])
    p = synthetic_run(K=30).save(tmp_path / "bcd.npz")
    assert run_lifted_bcd_checks(p)["monotone_decrease"].verdict is Verdict.PASS
