"""What a user's suite gets wrong is named (issue 28, re-attack): a string for ``checks``, a
misspelt argument of ``assert_converges`` itself or of one check's dict, and conditions that do
not cover the run (which ``allow_inconclusive=True`` must not wave through)."""
import warnings

import pytest

from solver import ADMM, tasks
from verify import ConvergenceError, assert_converges, conditions, run_checks


@pytest.fixture(scope="module")
def run():
    task = tasks.make_task("square", n=30, seed=3, n_test=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ADMM(hidden_layer_sizes=(3,), max_iter=30, verbose=0, random_state=0, engine="numpy",
                 activation="sigmoid", beta=50.0, lam=0.5).fit(task.X, task.y)
    return m


@pytest.mark.parametrize("name", ["kkt_rate", "sufficient_descent"])
def test_a_string_for_checks_is_refused_not_split(run, name):
    with pytest.raises(ValueError, match=r"^checks: expected a list of check names, got the string"):
        run_checks(run, checks=name)
    with pytest.raises(ValueError, match=r"^checks: expected a list"):
        assert_converges(run, checks=name)


@pytest.mark.parametrize("wrong,right", [("allow_inconclusve", "allow_inconclusive"),
                                         ("allow_inconclusiv", "allow_inconclusive"),
                                         ("condition", "conditions"), ("chekcs", "checks")])
def test_a_misspelt_argument_of_assert_converges_suggests_it(run, wrong, right):
    with pytest.raises(ValueError, match=f"unknown keyword '{wrong}'; did you mean '{right}'"):
        assert_converges(run, **{wrong: True})


@pytest.mark.parametrize("check,wrong,right", [("kkt_rate", "conditons", "conditions"),
                                               ("sufficient_descent", "xii", "xi"),
                                               ("bounded_iterates", "conditionz", "conditions")])
def test_a_misspelt_keyword_inside_a_check_dict_is_named(run, check, wrong, right):
    with pytest.raises(ValueError, match=f"^{check}: unknown keyword '{wrong}'; did you mean '{right}'"):
        run_checks(run, **{check: {wrong: None}})


@pytest.mark.parametrize("act,lam", [("tanh", 0.5), ("sigmoid", 1.0)])
def test_conditions_that_do_not_cover_the_run_fail_even_with_allow_inconclusive(run, act, lam):
    c = conditions.derive(1, act, lam=lam, E0=1.0, y_norm=1.0)
    assert c.covers(run.trace_) is not None
    with pytest.raises(ConvergenceError, match="conditions: they do not cover this run"):
        assert_converges(run, conditions=c, allow_inconclusive=True)
