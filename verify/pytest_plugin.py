"""pytest plugin (entry point ``sigadmm``): fixtures for checking convergence in user suites.

A complete test file: docs/checking_your_own.md (docs/examples/test_my_activation.py).

Installed with the package; in a test::

    def test_my_run(assert_converges):
        c = conditions.derive_from_data(1, "tanh", X=X, y=y, init_weights=w0, lam=1.0)
        model = ADMM(hidden_layer_sizes=(5,), **c.kwargs).fit(X, y, init_weights=w0)
        # raises on FAIL and (by default) on INCONCLUSIVE, with a table of every verdict;
        # conditions= goes to every check that takes it (per-check dicts override it)
        assert_converges(model, conditions=c)

    def test_descent_only(convergence_checks):
        res = convergence_checks(model, checks=["sufficient_descent"])
        assert res["sufficient_descent"].verdict == "INCONCLUSIVE"   # no constants given
"""

import pytest

from verify.checks import assert_converges as _assert_converges
from verify.checks import run_checks as _run_checks


@pytest.fixture
def assert_converges():
    """:func:`verify.assert_converges` (raises ``ConvergenceError`` listing every check's verdict;
    ``allow_inconclusive=True`` lets INCONCLUSIVE through)."""
    return _assert_converges


@pytest.fixture
def convergence_checks():
    """:func:`verify.run_checks`: ``{name: CheckResult}`` without asserting."""
    return _run_checks
