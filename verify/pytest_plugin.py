"""pytest plugin (entry point ``sigadmm``): fixtures for checking convergence in user suites.

Installed with the package; in a test::

    def test_my_run(assert_converges):
        model = ADMM(hidden_layer_sizes=(5,), beta=100.0, lam=1.0).fit(X, y)
        assert_converges(model)                       # raises with a table of the checks

    def test_descent_only(convergence_checks):
        res = convergence_checks(model, checks=["sufficient_descent"])
        assert res["sufficient_descent"].passed
"""

import pytest


@pytest.fixture
def assert_converges():
    """:func:`verify.assert_converges` (raises ``ConvergenceError`` listing every check)."""
    from verify.checks import assert_converges as _ac

    return _ac


@pytest.fixture
def convergence_checks():
    """:func:`verify.run_checks`: ``{name: CheckResult}`` without asserting."""
    from verify.checks import run_checks

    return run_checks
