"""``kill -9`` and Ctrl-C at random points never leave a corrupt file, a published partial
report, or lost finished work (issue 14).  Real subprocesses, a few and short:

* ``fit`` with a checkpoint, killed with SIGKILL at random moments (during or between
  checkpoint writes): the checkpoint is always a valid file, a second fit is not locked
  out, and resuming it gives the uninterrupted run bit for bit;
* ``sigadmm train``: Ctrl-C writes the partial trace and PNG, says how to resume, exits 130;
  the resume finishes the run; ``kill -9`` leaves a loadable checkpoint;
* ``sigadmm reproduce``: Ctrl-C (sent to the process group, as a terminal does) or
  ``kill -9`` at a random moment leaves the previous report untouched and the trial cache
  valid; an interrupted run exits 130 and writes its partial state; no Dask or worker
  traceback is printed.

The moments are drawn from a seeded generator (reproducible), within the run's duration.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

from solver import ADMM, Trace, tasks

CLI = [sys.executable, "-c", "from sigadmm.cli import main; main()"]
RNG = random.Random(14)
KW = dict(hidden_layer_sizes=(4, 4), lam=1e-3, beta=2.0, init_scale=2.0, random_state=3, verbose=0)
N_ITER = 40


def _data():
    return tasks.make_task("square", n=40, seed=2, n_test=10)


FIT_CHILD = textwrap.dedent(f"""
    import sys, time
    from solver import ADMM, tasks
    X, y, Xt, yt = tasks.make_task("square", n=40, seed=2, n_test=10)
    slow = lambda r: time.sleep(0.03)   # stretch the run; the numbers are untouched
    print("started", flush=True)
    ADMM(**{KW!r}, max_iter={N_ITER}, checkpoint=sys.argv[1], checkpoint_every=1,
         callback=slow).fit(X, y, X_test=Xt, y_test=yt, resume=len(sys.argv) > 2)
""")


def _start(args, **kw):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return p


def _wait_started(p):
    line = p.stdout.readline()
    assert "started" in line, line + p.stderr.read()


def _valid_checkpoint(ck):
    from solver.npz import read_npz

    z = read_npz(ck, "solver.checkpoint", "checkpoint", legacy_ok=lambda f: False)  # checksum verified
    assert int(z["state_k"]) == len(z["trace_train_mse"]) >= 1
    return int(z["state_k"])


def test_fit_with_checkpoint_survives_kill_9_at_random_moments(tmp_path):
    X, y, Xt, yt = _data()
    fresh = ADMM(**KW, max_iter=N_ITER).fit(X, y, X_test=Xt, y_test=yt)
    ck = tmp_path / "ck.npz"
    done = []
    for attempt in range(3):  # each attempt resumes what the killed one left
        p = _start([sys.executable, "-c", FIT_CHILD, str(ck)] + (["resume"] if ck.exists() else []))
        _wait_started(p)
        time.sleep(RNG.uniform(0.05, 0.6))
        p.kill()
        p.wait(timeout=30)
        if ck.exists():
            done.append(_valid_checkpoint(ck))
    assert done == sorted(done), "finished work was lost between kills"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = ADMM(**KW, max_iter=N_ITER, checkpoint=ck).fit(X, y, X_test=Xt, y_test=yt,
                                                                 resume=ck.exists())
    assert np.array_equal(resumed.trace_.lagrangian, fresh.trace_.lagrangian)
    for (w1, b1), (w2, b2) in zip(resumed.weights_, fresh.weights_):
        assert np.array_equal(w1, w2) and np.array_equal(b1, b2)


def test_two_fits_on_one_checkpoint_path_the_second_is_refused(tmp_path):
    from solver.core import CheckpointInUseError

    ck = tmp_path / "ck.npz"
    p = _start([sys.executable, "-c", FIT_CHILD.replace(f"max_iter={N_ITER}", "max_iter=400"), str(ck)])
    try:
        _wait_started(p)
        deadline = time.time() + 60
        while not ck.exists() and time.time() < deadline:  # the child holds the lock now
            time.sleep(0.02)
        X, y, Xt, yt = _data()
        with pytest.raises(CheckpointInUseError, match=f"in use by another run \\(process {p.pid}"):
            ADMM(**KW, max_iter=5, checkpoint=ck).fit(X, y)
    finally:
        p.kill()
        p.wait(timeout=30)
    ADMM(**KW, max_iter=2, checkpoint=ck).fit(X, y)  # the lock went with the killed process


TRAIN = ["train", "--task", "square", "--n", "60", "--hidden", "6", "--checkpoint-every", "3"]


def test_train_ctrl_c_saves_the_partial_trace_and_resumes(tmp_path):
    out, ck = tmp_path / "run.npz", tmp_path / "ck.npz"
    p = _start(CLI + TRAIN + ["--iters", "200000", "--out", str(out), "--checkpoint", str(ck)],
               start_new_session=True)
    deadline = time.time() + 60
    while not ck.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(RNG.uniform(0.1, 0.6))
    os.killpg(p.pid, signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "resume" in stderr
    tr = Trace.load(out)
    assert len(tr) >= 3 and (tmp_path / "run.png").stat().st_size > 1000
    k = len(tr)
    r = subprocess.run(CLI + TRAIN + ["--iters", str(k + 2), "--out", str(out), "--checkpoint", str(ck),
                                      "--resume", "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(Trace.load(out)) == k + 2


def test_train_kill_9_leaves_a_valid_checkpoint(tmp_path):
    out, ck = tmp_path / "run.npz", tmp_path / "ck.npz"
    p = _start(CLI + TRAIN + ["--iters", "200000", "--out", str(out), "--checkpoint", str(ck),
                              "--checkpoint-every", "1", "--quiet"])
    deadline = time.time() + 60
    while not ck.exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(RNG.uniform(0.05, 0.5))
    p.kill()
    p.wait(timeout=30)
    _valid_checkpoint(ck)
    assert not out.exists()  # nothing half-written where the trace goes


REPRO = ["reproduce", "--quick", "--only", "tables", "--tasks", "square", "--trials", "1",
         "--scheduler", "synchronous", "--no-progress"]


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_reproduce_interrupted_keeps_the_previous_report_and_the_cache(tmp_path, how):
    from sigadmm.sweep import load_cache

    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.md").write_text("previous complete report\n")
    p = _start(CLI + REPRO + ["--out", str(out)], start_new_session=True)
    # interrupt while the sweep runs, not during the imports before it (a fixed 4-9 s sleep
    # landed there on a loaded machine: plain "Interrupted.", nothing to resume yet)
    deadline = time.monotonic() + 240
    while not (out / "sweeps").exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(RNG.uniform(0.2, 3.0))
    os.killpg(p.pid, getattr(signal, how))
    stdout, stderr = p.communicate(timeout=180)
    if p.returncode == 0:  # it finished first: a complete report replaced the old one
        assert "Claims" in (out / "report.md").read_text()
        return
    assert (out / "report.md").read_text() == "previous complete report\n"
    assert not (out / "report.html").exists()
    cache = out / "sweeps" / "tables.parquet.cache.jsonl"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        records = load_cache(cache)
    assert not [x for x in w if "checksum" in str(x.message) and "0 record(s) failed" not in str(x.message)]
    assert all(r["status"] == "ok" for r in records.values())  # no interrupted trial cached as done
    if how == "SIGINT":
        assert p.returncode == 130, stdout + stderr
        assert "Traceback" not in stderr and "resume with" in stderr
        assert (out / "reproduce.partial.json").exists()
