"""Record the golden trace digests of the issue-15 kernels on this machine.

Run from the repository root:

    .venv/bin/python tests/data/make_golden_traces.py

It runs the 48 fixed fits of ``tests/test_solver_golden.py`` (square and product tasks,
depth 1-3, sigmoid and tanh, both curvature rules, numba and numpy engines) once per
exponential provider of the sigmoid kernels available here (``solver.admm.kernels.EXP_FMA``
and, where numpy dispatches its float64 ``exp`` to AVX-512, numpy's own loop) and writes
the sha256 digests of ``lagrangian``, ``kkt_total`` and ``train_mse`` to
``tests/data/golden_traces_exp.json``, keyed by :func:`provider_key` (the provider with
the versions and CPU its bits depend on).  Existing entries of other keys are kept, so the
file can collect the digests of several machines.  ``tests/test_solver_golden_exp.py``
checks the entries whose key matches the machine it runs on.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from solver import ADMM, tasks  # noqa: E402
from solver.admm import kernels  # noqa: E402

OUT = Path(__file__).parent / "golden_traces_exp.json"
RUNS = [dict(task=t, depth=d, activation=a, curvature=c, engine=e)
        for t in ("square", "product") for d in (1, 2, 3) for a in ("sigmoid", "tanh")
        for c in ("theory", "reference") for e in ("numba", "numpy")]


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


def provider_key(ex):
    """What the bits of a numba sigmoid run depend on, for the provider ``ex``."""
    import llvmlite.binding as llb
    import numba

    if ex == kernels.EXP_FMA:
        return f"fma numba {numba.__version__} cpu {llb.get_host_cpu_name()}"
    return f"numpy-exp {np.__version__} {kernels.NUMPY_EXP_TARGET}"


def providers():
    """The providers this machine has, other than the legacy one."""
    return [kernels.EXP_FMA] + ([kernels.NUMPY_EXP_LOOP] if kernels.NUMPY_EXP_LOOP else [])


def fit(run, ex):
    old = kernels.EXP
    kernels.EXP = ex
    try:
        X, y, Xt, yt = tasks.make_task(run["task"], n=120, seed=3, n_test=50)
        m = ADMM(hidden_layer_sizes=(7,) * run["depth"], activation=run["activation"], lam=1e-3, beta=2.0,
                 curvature=run["curvature"], init="msra", init_scale=2.0, max_iter=12, random_state=5,
                 engine=run["engine"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X, y, X_test=Xt, y_test=yt)
    finally:
        kernels.EXP = old
    return m


def record(ex):
    out = []
    for run in RUNS:
        m = fit(run, ex)
        out.append(dict(run, n_iter=int(m.n_iter_),
                        **{f: digest(getattr(m.trace_, f)) for f in ("lagrangian", "kkt_total", "train_mse")}))
    return out


def main():
    data = json.loads(OUT.read_text()) if OUT.exists() else {"providers": {}}
    for ex in providers():
        data["providers"][provider_key(ex)] = record(ex)
        print("recorded", provider_key(ex))
    OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
