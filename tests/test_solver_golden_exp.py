"""The same seed gives the same trace, bit for bit, with the kernels of issue 15.

``tests/data/golden_traces_exp.json`` holds the digests of the 48 fixed runs of
``tests/test_solver_golden.py`` recorded with the sigmoid kernels' exponential providers
(``solver.admm.kernels.EXP_FMA``, numpy's own SIMD ``exp`` loop), keyed by the provider and
what its bits depend on (numpy's version and dispatch target, or numba's version and the
host CPU).  Entries recorded on another kind of machine are skipped; regenerate with
``.venv/bin/python tests/data/make_golden_traces.py`` (see its docstring).  The kernels
before issue 15 are still checked by ``tests/test_solver_golden.py`` (legacy provider).
"""

import importlib.util
import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_golden_traces", DATA / "make_golden_traces.py")
mk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mk)

RECORDED = json.loads((DATA / "golden_traces_exp.json").read_text())["providers"]
HERE = {mk.provider_key(ex): ex for ex in mk.providers()}
CASES = [(key, run) for key, runs in RECORDED.items() for run in runs
         if run["engine"] == "numba" and run["activation"] == "sigmoid"]


@pytest.mark.parametrize("key,run", CASES, ids=lambda v: v if isinstance(v, str) else "-".join(
    str(v[k]) for k in ("task", "depth", "curvature")))
def test_trace_is_bit_identical_to_the_recorded_one(key, run):
    if key not in HERE:
        pytest.skip(f"recorded for {key!r}; this machine has {sorted(HERE)}")
    m = mk.fit(run, HERE[key])
    assert m.n_iter_ == run["n_iter"]
    for field in ("lagrangian", "kkt_total", "train_mse"):
        assert mk.digest(getattr(m.trace_, field)) == run[field], field


def test_the_default_provider_of_this_machine_is_recorded():
    """Where a recorded provider is this machine's default, the default is what was recorded."""
    from solver.admm import kernels

    keys = [k for k, ex in HERE.items() if ex == kernels.EXP]
    if not keys or keys[0] not in RECORDED:
        pytest.skip(f"no recording for this machine's default provider ({kernels.EXP_NAME})")
    assert any(r["engine"] == "numba" and r["activation"] == "sigmoid" for r in RECORDED[keys[0]])
