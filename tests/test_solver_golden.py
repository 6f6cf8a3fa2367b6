"""The same seed gives the same trace, bit for bit, as before the solver-core redesign.

``tests/data/golden_traces_4a644f7.json`` holds sha256 digests of the ``lagrangian``,
``kkt_total`` and ``train_mse`` arrays of 48 fixed runs recorded at commit 4a644f7 (before
the loop moved into :func:`solver.core.solve`): square and product tasks, depth 1-3,
sigmoid and tanh, both curvature rules, the numba and numpy engines.  A change of
summation order anywhere in the iteration changes a digest.

Valid for the sigmoid kernels as they were up to issue 15: since then the numba kernels
take their exponential from a per-machine provider (``solver.admm.kernels.EXP``: numpy's SIMD
``exp`` loop on AVX-512 machines, an FMA polynomial elsewhere), which changes the last
bits of the numba sigmoid runs.  The old kernels stay selectable (``EXP_LEGACY``,
``SOLVER_EXP=legacy``) and this module runs against them (the autouse fixture below), so
it still guards every other part of the iteration bit for bit.  The traces of the new
kernels are guarded by ``tests/test_solver_golden_exp.py``.
"""

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from solver import ADMM, Trace, tasks
from solver.admm import kernels


@pytest.fixture(autouse=True)
def _legacy_exp(monkeypatch):
    """The kernels of 4a644f7: the sigmoid's exponential is the legacy ``exp_vec`` (issue 15)."""
    monkeypatch.setattr(kernels, "EXP", kernels.EXP_LEGACY)

def machine_key():
    """What the legacy runs' bits depend on besides the code: the BLAS kernel (numpy engine and
    the products of both), numpy's version and SIMD target, numba's version and the host CPU."""
    import llvmlite.binding as llvm
    import numba
    from threadpoolctl import threadpool_info

    blas = sorted(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                  for i in threadpool_info()
                  if i.get("user_api") == "blas" and "numpy" in str(i.get("filepath", "")))
    return (f"blas {'; '.join(blas)} | numpy {np.__version__} | numba {numba.__version__} "
            f"cpu {llvm.get_host_cpu_name()}")


# The digests recorded at 4a644f7 on the machine of that session (Xeon, OpenBLAS SkylakeX kernels).
# The BLAS kernel and the CPU decide the last bits, so another kind of machine has its own
# recording in golden_traces_4a644f7_machines.json, made there with the code of e9e3a61 (equal to
# 4a644f7's on the first machine: the test passed in CI at e9e3a61) by
# tests/data/make_golden_machine.py; a machine with neither is checked against the first.
_MACHINES = json.loads((Path(__file__).parent / "data" / "golden_traces_4a644f7_machines.json").read_text())
_HERE = _MACHINES.get(machine_key())
GOLDEN = (_HERE or json.loads((Path(__file__).parent / "data" / "golden_traces_4a644f7.json").read_text()))["runs"]
FRESH_LAGRANGIAN = (_HERE or {}).get("checkpoint_fresh_lagrangian",
                                     "0d6b6bff5f4fee961f20293cf52a19d8ea01b8acbd2dfdd15290e4385f9c19fb")


def _digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


@pytest.mark.parametrize("run", GOLDEN, ids=lambda r: "-".join(str(r[k]) for k in
                                                                 ("task", "depth", "activation", "curvature", "engine")))
def test_trace_is_bit_identical_to_the_recorded_one(run):
    X, y, Xt, yt = tasks.make_task(run["task"], n=120, seed=3, n_test=50)
    m = ADMM(hidden_layer_sizes=(7,) * run["depth"], activation=run["activation"], lam=1e-3, beta=2.0,
             curvature=run["curvature"], init="msra", init_scale=2.0, max_iter=12, random_state=5,
             engine=run["engine"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X, y, X_test=Xt, y_test=yt)
    assert m.n_iter_ == run["n_iter"]
    for field in ("lagrangian", "kkt_total", "train_mse"):
        assert _digest(getattr(m.trace_, field)) == run[field], field


DATA = Path(__file__).parent / "data"


def test_trace_file_written_before_the_redesign_loads():
    tr = Trace.load(DATA / "legacy_trace.npz")
    assert len(tr) == 6 and tr.n_layers == 3 and tr.schema.name == "admm"
    assert tr.meta["seed"] == 2 and np.all(np.isfinite(tr.lagrangian))


def test_checkpoint_written_before_the_redesign_resumes_to_the_uninterrupted_run(tmp_path):
    """A 6-iteration checkpoint from 4a644f7, resumed to 10, equals a fresh 10-iteration run."""
    ck = tmp_path / "ck.npz"
    ck.write_bytes((DATA / "legacy_checkpoint.npz").read_bytes())
    X, y, Xt, yt = tasks.make_task("square", n=60, seed=1, n_test=20)
    kw = dict(hidden_layer_sizes=(5, 5), lam=1e-3, beta=2.0, init_scale=2.0, random_state=2, keep_best=True)
    resumed = ADMM(max_iter=10, checkpoint=ck, checkpoint_every=3, **kw).fit(X, y, X_test=Xt, y_test=yt,
                                                                            resume=True)
    fresh = ADMM(max_iter=10, **kw).fit(X, y, X_test=Xt, y_test=yt)
    assert resumed.n_iter_ == 10
    assert _digest(fresh.trace_.lagrangian) == FRESH_LAGRANGIAN
    if _HERE is None:   # the machine that wrote the checkpoint: resuming it is bit-identical
        assert np.array_equal(resumed.trace_.lagrangian, fresh.trace_.lagrangian)
        for (w1, b1), (w2, b2) in zip(resumed.weights_, fresh.weights_):
            assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
    else:   # its first 6 iterations come from another BLAS/CPU: equal up to their last bits
        np.testing.assert_allclose(resumed.trace_.lagrangian, fresh.trace_.lagrangian, rtol=1e-10)
        for (w1, b1), (w2, b2) in zip(resumed.weights_, fresh.weights_):
            np.testing.assert_allclose(w1, w2, rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(b1, b2, rtol=1e-6, atol=1e-9)
