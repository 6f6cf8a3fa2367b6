"""``import solver`` loads neither python-flint nor the certifier; a fit never loads the certifier."""

import subprocess
import sys

_PROBE = r"""
import sys
import solver
print(",".join(sorted(m for m in ("flint", "sympy", "theory._certify", "theory.gates", "theory.enclosure",
                                  "theory._arb") if m in sys.modules)))
from solver import ADMM, tasks
t = tasks.square(n=30, seed=0, n_test=0)
ADMM(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(t.X, t.y)
print(",".join(sorted(m for m in ("theory._certify", "theory.gates", "theory.enclosure", "theory._arb")
                      if m in sys.modules)))
"""


def test_import_solver_loads_no_flint_no_sympy_no_certifier_and_fit_loads_no_certifier():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    at_import, after_fit = (out.stdout.splitlines() + ["", ""])[:2]
    assert at_import == "", f"import solver loaded {at_import}"
    assert after_fit == "", f"a fit loaded {after_fit}"
