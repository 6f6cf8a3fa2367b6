"""eps near float64's smallest numbers (issue 27's thorough run: ``sigadmm constants --eps
1e-320`` crashed with exit 70, the step gate's K = C/eps overflowing float64)."""

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import example, given, settings, strategies as st

from sigadmm.cli import main
from theory.gates import _K_DENOMINATOR, _step_K


@settings(max_examples=60, deadline=None)
@given(mant=st.integers(1, 10 ** 6), exp10=st.integers(-20, 400))
@example(mant=sp.sqrt(2) / (2 * sp.sqrt(sp.pi)) * 3, exp10=320)
def test_step_K_is_the_least_multiple_of_its_grid_above_the_ratio(mant, exp10):
    """K >= C/eps (so C/K <= eps, eq. (31)) and K - 1/den < C/eps: the least grid point, for
    ratios far beyond float64's range as well as inside it."""
    ratio = sp.nsimplify(mant) * sp.Integer(10) ** exp10
    K = _step_K(ratio)
    assert K.q <= _K_DENOMINATOR and _K_DENOMINATOR % K.q == 0
    digits = 60 + max(exp10, 0)  # enough to resolve 1/den beside a number of 10^exp10
    assert sp.N(K - ratio, digits) >= 0
    assert sp.N(K - sp.Rational(1, _K_DENOMINATOR) - ratio, digits) < 0


@pytest.mark.parametrize("args", [["constants", "-a", "sigmoid", "--max-order", "1"],
                                  ["certify", "--construction", "step", "--max-boxes", "20"]])
@pytest.mark.parametrize("eps", ["1e-320", "5e-324", "2.2e-308"])
def test_subnormal_eps_keeps_the_cli_contract(args, eps, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, [*args, "--eps", eps])
    assert r.exit_code in (0, 1, 2, 3), r.output[-3000:]
    assert "Traceback" not in r.output, r.output[-3000:]
