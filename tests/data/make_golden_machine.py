"""Record this machine's legacy golden digests (``tests/test_solver_golden.py``).

Run from the repository root at the commit whose numbers are the reference (e9e3a61: its
numbers equal 4a644f7's on the machine of ``golden_traces_4a644f7.json``):

    .venv/bin/python tests/data/make_golden_machine.py

It runs the 48 fixed fits of ``tests/test_solver_golden.py`` with the legacy exponential and
the 10-iteration run of its checkpoint test, and adds their digests to
``tests/data/golden_traces_4a644f7_machines.json`` under this machine's
``test_solver_golden.machine_key()`` (other machines' entries are kept).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from solver import ADMM, tasks  # noqa: E402
from solver.admm import kernels  # noqa: E402

DATA = Path(__file__).parent
OUT = DATA / "golden_traces_4a644f7_machines.json"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def record_runs():
    """The 48 legacy fits (``make_golden_traces.fit`` with the legacy exponential) and the checkpoint
    test's fresh 10-iteration run, as digests."""
    mk = _load("make_golden_traces", DATA / "make_golden_traces.py")
    runs = json.loads((DATA / "golden_traces_4a644f7.json").read_text())["runs"]
    out = []
    for run in runs:
        m = mk.fit(run, kernels.EXP_LEGACY)
        rec = {k: run[k] for k in ("task", "depth", "activation", "curvature", "engine")}
        rec.update(n_iter=m.n_iter_, **{f: mk.digest(getattr(m.trace_, f)) for f in ("lagrangian", "kkt_total", "train_mse")})
        out.append(rec)
    old, kernels.EXP = kernels.EXP, kernels.EXP_LEGACY
    try:
        X, y, Xt, yt = tasks.make_task("square", n=60, seed=1, n_test=20)
        kw = dict(hidden_layer_sizes=(5, 5), lam=1e-3, beta=2.0, init_scale=2.0, random_state=2, keep_best=True)
        fresh = ADMM(max_iter=10, **kw).fit(X, y, X_test=Xt, y_test=yt)
    finally:
        kernels.EXP = old
    return out, mk.digest(fresh.trace_.lagrangian)


def main():
    out, fresh = record_runs()
    key = _load("golden", ROOT / "tests" / "test_solver_golden.py").machine_key()
    book = json.loads(OUT.read_text()) if OUT.exists() else {}
    book[key] = {"commit": sys.argv[1] if len(sys.argv) > 1 else "?", "runs": out,
                 "checkpoint_fresh_lagrangian": fresh}
    OUT.write_text(json.dumps(book, indent=1) + "\n")
    print(f"{len(out)} runs recorded under {key!r}")


if __name__ == "__main__":
    main()
