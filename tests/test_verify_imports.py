"""``import verify`` (and so the pytest plugin, which every pytest session loads through the
``pytest11`` entry point) loads neither ``verify.conditions`` nor what it needs (theory's
sympy, scikit-learn, python-flint); a check that needs the a-posteriori certificate loads it."""

import subprocess
import sys

_HEAVY = ("verify.conditions", "theory", "sympy", "sklearn", "flint")

_PROBE = rf"""
import sys
import verify, verify.pytest_plugin
print(",".join(m for m in {_HEAVY!r} if m in sys.modules))
from solver import ADMM, tasks
t = tasks.square(n=30, seed=0, n_test=0)
tr = ADMM(hidden_layer_sizes=(3,), max_iter=4, random_state=0).fit(t.X, t.y).trace_
verify.sufficient_descent(tr)
print("verify.conditions" in sys.modules)
"""


def test_import_verify_loads_no_conditions_and_a_check_loads_them():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    at_import, after_check = (out.stdout.splitlines() + ["", ""])[:2]
    assert at_import == "", f"import verify loaded {at_import}"
    assert after_check == "True", "sufficient_descent did not consult verify.conditions (the a-posteriori certificate)"
