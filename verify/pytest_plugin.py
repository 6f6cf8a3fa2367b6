"""pytest plugin (entry point ``sigadmm``): fixtures for checking convergence in user suites.

Installed with the package; in a test::

    def test_my_run(assert_converges):
        model = ADMM(hidden_layer_sizes=(5,), beta=100.0, lam=1.0).fit(X, y)
        # raises on FAIL and (by default) on INCONCLUSIVE, with a table of every verdict;
        # sufficient_descent needs fixed constants: conditions=, or xi= and a= (no free xi)
        assert_converges(model, sufficient_descent={"xi": 0.0, "a": 0.5})

    def test_descent_only(convergence_checks):
        res = convergence_checks(model, checks=["sufficient_descent"])
        assert res["sufficient_descent"].verdict == "INCONCLUSIVE"   # no constants given
"""

import pytest


@pytest.fixture
def assert_converges():
    """:func:`verify.assert_converges` (raises ``ConvergenceError`` listing every check's verdict;
    ``allow_inconclusive=True`` lets INCONCLUSIVE through)."""
    from verify.checks import assert_converges as _ac

    return _ac


@pytest.fixture
def convergence_checks():
    """:func:`verify.run_checks`: ``{name: CheckResult}`` without asserting."""
    from verify.checks import run_checks

    return run_checks
