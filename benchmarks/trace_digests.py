"""sha256 digests of every method's traces on fixed runs: compare two commits bit for bit.

Run from the repository root at each commit and compare the outputs (issue 20: a redesign
must not change a number)::

    python benchmarks/trace_digests.py > after.json
    (cd OTHER_CHECKOUT && python /path/to/benchmarks/trace_digests.py) > before.json
    diff before.json after.json && echo bit-identical

The runs: the 48 fixed ADMM fits of ``tests/test_solver_golden.py`` with each exponential
provider of the sigmoid kernels (legacy, and this machine's others: ``lagrangian``,
``kkt_total``, ``train_mse``), and small fits of dlADMM (relu, sigmoid, tanh; squared and
cross-entropy losses), lifted BCD and the inexact ALM (both complementarity forms) with
every field of their traces (``time`` excluded) and the fitted weights.  The digests are
of this machine's bits: compare on one machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np

#: the checkout measured: the current directory (so one copy of this script measures any commit)
ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))

from solver import tasks  # noqa: E402
from solver.admm import kernels  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_golden_traces", ROOT / "tests" / "data" / "make_golden_traces.py")
mk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mk)


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()[:16]


def _trace_digests(m):
    out = {name: digest(getattr(m.trace_, name)) for name in m.trace_.schema.names
           if name != "time" and getattr(m.trace_, name) is not None}
    out["weights"] = digest(np.concatenate([np.concatenate([w.ravel(), b]) for w, b in m.weights_]))
    out["n_iter"] = int(m.n_iter_)
    return out


def admm_runs():
    out = {}
    for ex in [kernels.EXP_LEGACY] + mk.providers():
        label = {kernels.EXP_LEGACY: "legacy", kernels.EXP_FMA: "fma"}.get(ex, "numpy_exp_loop")
        for run in mk.RUNS:
            m = mk.fit(run, ex)
            key = "-".join(str(run[k]) for k in ("task", "depth", "activation", "curvature", "engine"))
            out[f"{label}:{key}"] = {f: digest(getattr(m.trace_, f)) for f in ("lagrangian", "kkt_total", "train_mse")}
    return out


def peer_runs():
    from solver import DLADMM, DLADMMClassifier, InexactALM, LiftedBCD

    X, y, Xt, yt = tasks.make_task("product", n=60, seed=1, n_test=20)
    labels = (y > np.median(y)).astype(int)
    out = {}
    for act in ("relu", "sigmoid", "tanh"):
        m = DLADMM(hidden_layer_sizes=(6, 5), activation=act, rho=1e-2, max_iter=6, random_state=0)
        out[f"dladmm-{act}"] = _trace_digests(m.fit(X, y, X_test=Xt, y_test=yt))
        c = DLADMMClassifier(hidden_layer_sizes=(6,), activation=act, rho=1e-2, max_iter=5, random_state=0,
                             prox_z=0.1)
        out[f"dladmm_clf-{act}"] = _trace_digests(c.fit(X, labels))
    out["lifted_bcd"] = _trace_digests(LiftedBCD(hidden_layer_sizes=(6, 5), max_iter=5, random_state=0,
                                                 theta="inverse_square", n_threads=1).fit(X, y, X_test=Xt, y_test=yt))
    for comp in ("l1", "product"):
        m = InexactALM(hidden_layer_sizes=(5,), complementarity=comp, max_iter=4, inner_max_iter=20,
                       random_state=0)
        out[f"inexact_alm-{comp}"] = _trace_digests(m.fit(X, y, X_test=Xt, y_test=yt))
    return out


def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = {"peers": peer_runs(), "admm": admm_runs()}
    print(json.dumps(res, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
