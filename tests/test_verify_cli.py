"""`sigadmm verify`, the pytest plugin fixtures, the phase diagram and the strategies' contracts."""

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given

from sigadmm.cli import main
from verify import phase_diagram
from verify import strategies as vst

CHECKS = ("sufficient_descent", "bounded_iterates", "dual_bounded_by_primal", "feasibility_to_zero",
          "kkt_rate")


def test_cli_fails_on_paper_settings_and_passes_in_observed_region():
    r = CliRunner().invoke(main, ["verify", "--activation", "tanh", "--depth", "3", "--beta", "1",
                                  "--lam", "1e-6", "--iters", "120", "--n", "40", "--width", "4"])
    assert r.exit_code == 1, r.output
    assert "sufficient_descent" in r.output and "FAIL" in r.output
    args = ["verify", "--activation", "sigmoid", "--depth", "1", "--beta", "100",
            "--lam", "1", "--iters", "300", "--n", "40", "--width", "5"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 3 and "INCONCLUSIVE" in r.output, r.output   # no xi, a: constants unknown
    r = CliRunner().invoke(main, args + ["--xi", "0", "--a", "0.5"])
    assert r.exit_code == 0, r.output
    verdicts = [line.split()[1] for line in r.output.splitlines()
                if line.split()[:1] and line.split()[0] in CHECKS and len(line.split()) > 1]
    assert verdicts == ["PASS"] * 5, r.output


def test_cli_saved_trace_and_bad_trace(tmp_path):
    from solver import Trace

    r = CliRunner().invoke(main, ["verify", "--depth", "1", "--schedule", "--lam", "1", "--iters", "30",
                                  "--n", "20", "--width", "3"])
    assert "beta_1: derived" in r.output
    empty = Trace.empty(2, 5)
    empty.truncate(0)
    p = empty.save(tmp_path / "empty.npz")
    r = CliRunner().invoke(main, ["verify", "--trace", str(p)])
    assert r.exit_code == 2 and "empty trace" in r.output


def test_plugin_fixtures(assert_converges, convergence_checks):
    from tests.test_verify_checks import make_trace
    res = convergence_checks(make_trace(K=60, q=0.8), checks=["kkt_rate"])
    assert res["kkt_rate"].passed
    with pytest.raises(AssertionError):
        assert_converges(make_trace(K=60, kkt_power=0.4))


def test_phase_diagram_small(tmp_path):
    pd = phase_diagram("square", lams=[1.0], betas=[1e-3, 100.0], activations=["sigmoid"],
                       seeds=[0], depth=1, width=4, n=30, iters=200)
    assert pd.descent.shape == (1, 1, 2)
    assert pd.descent[0, 0, 1] == 1.0 and pd.rate[0, 0, 1] == 1.0     # observed region
    assert pd.descent[0, 0, 0] == 0.0                                  # beta far too small
    assert pd.guaranteed[0, 0, 0] == 0.0                               # beta_N <= 1: not covered
    assert len(pd.records) == 2 and "beta" in pd.table()
    pd.plot(tmp_path / "phase.png")
    assert (tmp_path / "phase.png").stat().st_size > 0
    with pytest.raises(ValueError, match="betas"):
        phase_diagram("square", lams=[1.0], betas=[-1.0])


@given(vst.problems(max_depth=4, max_width=10))
def test_problem_strategy_respects_its_bounds(p):
    assert 10 <= p.X.shape[0] <= 100 and 1 <= p.depth <= 4
    assert all(1 <= w <= 10 for w in p.hidden_layer_sizes)
    assert np.all(np.isfinite(p.y)) and p.y.shape == (p.X.shape[0],)


@given(vst.activations())
def test_activation_strategy_draws_only_assumption1_activations(act):
    act.require_smooth()
    assert act.L(0) < np.inf and act.L(2) < np.inf
