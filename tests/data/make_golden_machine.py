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

import hashlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from solver import ADMM, kernels, tasks  # noqa: E402

DATA = Path(__file__).parent
OUT = DATA / "golden_traces_4a644f7_machines.json"


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


def main():
    spec = importlib.util.spec_from_file_location("golden", ROOT / "tests" / "test_solver_golden.py")
    kernels.EXP = kernels.EXP_LEGACY
    runs = json.loads((DATA / "golden_traces_4a644f7.json").read_text())["runs"]
    out = []
    for run in runs:
        X, y, Xt, yt = tasks.make_task(run["task"], n=120, seed=3, n_test=50)
        m = ADMM(hidden_layer_sizes=(7,) * run["depth"], activation=run["activation"], lam=1e-3, beta=2.0,
                 curvature=run["curvature"], init="msra", init_scale=2.0, max_iter=12, random_state=5,
                 engine=run["engine"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X, y, X_test=Xt, y_test=yt)
        rec = {k: run[k] for k in ("task", "depth", "activation", "curvature", "engine")}
        rec.update(n_iter=m.n_iter_, **{f: digest(getattr(m.trace_, f)) for f in ("lagrangian", "kkt_total", "train_mse")})
        out.append(rec)
    X, y, Xt, yt = tasks.make_task("square", n=60, seed=1, n_test=20)
    kw = dict(hidden_layer_sizes=(5, 5), lam=1e-3, beta=2.0, init_scale=2.0, random_state=2, keep_best=True)
    fresh = ADMM(max_iter=10, **kw).fit(X, y, X_test=Xt, y_test=yt)
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    key = golden.machine_key()
    book = json.loads(OUT.read_text()) if OUT.exists() else {}
    book[key] = {"commit": sys.argv[1] if len(sys.argv) > 1 else "?", "runs": out,
                 "checkpoint_fresh_lagrangian": digest(fresh.trace_.lagrangian)}
    OUT.write_text(json.dumps(book, indent=1) + "\n")
    print(f"{len(out)} runs recorded under {key!r}")


if __name__ == "__main__":
    main()
