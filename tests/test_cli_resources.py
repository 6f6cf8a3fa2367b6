"""Resources checked before work, every entry point under the exit-code contract (issue 25).

Classes of bad input and faults, each with the issue's cases and others of the same class:

* outputs that are one file (``--out`` and ``--checkpoint``, after the ``.npz`` rewrite, through
  ``..`` or a symbolic link) and special files (``/dev/null``, a FIFO): exit 2, nothing written;
* names over the file system's ``PC_NAME_MAX`` refused, a name at or below it accepted;
* a full disk (a private tmpfs of 64 KiB, mounted by the test where it can be: we run as
  root; skipped with the reason elsewhere): refused before any work, nothing written; a write
  that fails *during* the run (ENOSPC): exit 2, one line, the file saved before intact;
* memory and time the machine does not have (``--hidden 100000000``, ``--n 10**11``,
  ``verify --width 10000 --depth 20``): exit 2 naming the option, the estimate and what is
  available, within seconds; ``--force`` skips the estimate;
* precision knobs past their maxima (``--dps``, ``--max-boxes``, ``--iters``);
* a run that stops on a non-finite iterate: exit 1 naming the iteration;
* options validated before training (``verify --xi/--a``), empty lists (``--methods ''``),
  ``--workers 0``, messages naming the option;
* ``python -m sigadmm.results``: bad input before any write, a lock, Ctrl-C -> 130 even
  inside a trial.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sigadmm import _resources
from sigadmm.cli import EXIT_USAGE, main
from sigadmm.results import cli as results_cmd


def run(args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], **kw)


def run_results(args):
    """``python -m sigadmm.results ARGS`` in-process (``--allow-dirty``: the suite may run from a
    checkout with changes; the dirty-tree refusal is tests/test_results_set.py's)."""
    return CliRunner().invoke(results_cmd.results, [str(a) for a in args] + ["--allow-dirty"])


def one_error(r, code=EXIT_USAGE, *words):
    out = r.output
    assert r.exit_code == code, (r.exit_code, out)
    assert "Traceback" not in out, out
    err = [ln for ln in out.splitlines() if ln.startswith("Error")]
    assert len(err) == 1, out
    for w in words:
        assert w in err[0], (w, err[0])
    return err[0]


def files_under(d):
    return sorted(str(p.relative_to(d)) for p in Path(d).rglob("*"))


@pytest.fixture()
def tiny_fs(tmp_path):
    """A private 64 KiB tmpfs (needs root and mount(2); skipped with the reason otherwise)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a private tmpfs here ({r.stderr.strip() or r.returncode}): "
                    "the disk-full cases need root and mount(2)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


# ----------------------------------------------------------------- one file, special files
@pytest.mark.parametrize("out,ck", [("same.npz", "same.npz"), ("xx.txt", "xx.npz"),
                                    ("run", "run.npz"), ("d/../y.npz", "y"),
                                    ("z.npz", "./z.dat")])
def test_out_and_checkpoint_naming_one_file_are_refused(tmp_path, monkeypatch, out, ck):
    monkeypatch.chdir(tmp_path)
    r = run(["train", "--iters", 2, "--hidden", 3, "--quiet", "--out", out, "--checkpoint", ck])
    one_error(r, EXIT_USAGE, "--checkpoint", "--out")
    assert files_under(tmp_path) == [], files_under(tmp_path)


def test_out_and_checkpoint_through_a_symbolic_link_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    r = run(["train", "--iters", 2, "--hidden", 3, "--quiet", "--out", "real/a.npz",
             "--checkpoint", "link/a.npz"])
    one_error(r, EXIT_USAGE, "--checkpoint")


def test_distinct_outputs_still_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(["train", "--iters", 3, "--hidden", 3, "--quiet", "--out", "a.npz", "--checkpoint", "b.npz"])
    assert r.exit_code == 0, r.output
    assert {"a.npz", "a.png", "b.npz"} <= set(files_under(tmp_path))


@pytest.mark.parametrize("args", [
    ["train", "--out", "/dev/null"], ["train", "--out", "/dev/zero"],
    ["train", "--checkpoint", "/dev/null"], ["compare", "--out", "/dev/null"],
    ["reproduce", "--only", "certify", "--out", "/dev/null"],
])
def test_special_files_are_refused_and_nothing_is_created_beside_them(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir("/dev"))
    r = run(args + (["--iters", 2, "--quiet"] if args[0] in ("train", "compare") else []))
    one_error(r, EXIT_USAGE, "--out" if "--out" in args else "--checkpoint")
    assert set(os.listdir("/dev")) - before == set()  # no /dev/null.npz, /dev/null.png
    assert files_under(tmp_path) == []


# bad input found by the method (its parameters, the initialisation, the data, the checkpoint to
# resume from) after the command's own checks: refused before the output's folder, the
# checkpoint's folder or its lock exist (`train --out sub/x.npz --init bogus` left an empty sub/)
@pytest.mark.parametrize("args,opt", [
    (["train", "--init", "bogus"], "--init"),
    (["train", "--activation", "bogus"], "--activation"),
    (["train", "--beta", "1,2,3,4,5"], "--beta"),
    (["train", "--param", "foo=1"], "--param"),
    (["train", "--method", "dladmm", "--param", "rho=-1"], "--param"),
    (["train", "--method", "lifted_bcd", "--param", "init=nope"], "--param"),
    (["train", "--checkpoint", "ck/c.npz", "--resume"], "--checkpoint"),
    (["compare", "--methods", "admm", "--param", "admm.init=bogus"], "--param"),
    (["compare", "--methods", "admm,dladmm", "--param", "dladmm.foo=1"], "--param"),
    (["compare", "--methods", "admm,inexact_alm", "--param", "inexact_alm.max_iter=-2"], "--param"),
])
def test_bad_input_found_by_the_method_creates_nothing(tmp_path, monkeypatch, args, opt):
    monkeypatch.chdir(tmp_path)
    out = ["--out", "sub/x.npz"] if args[0] == "train" else ["--out", "sub/cmp", "--seeds", "0"]
    t0 = time.process_time()
    r = run(args + out + ["--iters", 2, "--hidden", 3, "--quiet"])
    one_error(r, EXIT_USAGE, opt)
    assert files_under(tmp_path) == [], files_under(tmp_path)
    assert time.process_time() - t0 < 20  # refused before the first method ran (not after)


@pytest.mark.parametrize("args", [["verify", "--trace", "/dev/zero"], ["reproduce", "--sweep", "/dev/zero"]])
def test_special_files_are_refused_as_inputs(args):
    t0 = time.perf_counter()
    one_error(run(args), EXIT_USAGE, args[1])
    assert time.perf_counter() - t0 < 20  # not read for ever


def test_a_fifo_is_refused_as_an_output(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    one_error(run(["train", "--iters", 2, "--hidden", 3, "--quiet", "--out", fifo]), EXIT_USAGE, "--out")
    one_error(run_results([fifo]), EXIT_USAGE, "DIR")


# ----------------------------------------------------------------- names
def _name_max(d):
    return os.pathconf(d, "PC_NAME_MAX")


@pytest.mark.parametrize("opt", ["--out", "--checkpoint"])
def test_a_name_over_the_limit_is_refused_by_train(tmp_path, opt):
    long = tmp_path / ("n" * (_name_max(tmp_path) + 1) + ".npz")
    args = ["train", "--iters", 2, "--hidden", 3, "--quiet", opt, long]
    if opt == "--checkpoint":
        args += ["--out", tmp_path / "ok.npz"]
    one_error(run(args), EXIT_USAGE, opt, "bytes")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("args", [["compare", "--iters", 1, "--hidden", 2, "--methods", "admm", "--out"],
                                  ["reproduce", "--only", "certify", "--out"]])
def test_a_folder_name_over_the_limit_is_refused(tmp_path, args):
    long = tmp_path / ("d" * (_name_max(tmp_path) + 7))
    one_error(run(args + [long]), EXIT_USAGE, "--out")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("extra", [0, 11])
def test_a_name_at_or_below_the_limit_is_accepted(tmp_path, monkeypatch, extra):
    """The probe and the temporary file must not lengthen the name: 240 bytes (the issue's
    case) and exactly PC_NAME_MAX bytes both write."""
    monkeypatch.chdir(tmp_path)
    n = _name_max(tmp_path) - extra - len(".npz")
    name = "x" * n + ".npz"
    r = run(["train", "--iters", 3, "--hidden", 3, "--quiet", "--out", name,
             "--checkpoint", "c" * n + ".npz"])
    assert r.exit_code == 0, r.output
    assert name in files_under(tmp_path)


# ----------------------------------------------------------------- a full disk
@pytest.mark.parametrize("args,opt", [
    (["train", "--iters", 5, "--hidden", 3, "--quiet", "--out", "{fs}/r.npz"], "--out"),
    (["train", "--iters", 5, "--hidden", 3, "--quiet", "--out", "{tmp}/r.npz", "--checkpoint", "{fs}/c.npz"],
     "--checkpoint"),
    (["compare", "--methods", "admm", "--iters", 2, "--hidden", 2, "--quiet", "--out", "{fs}/cmp"], "--out"),
    (["reproduce", "--only", "certify", "--no-progress", "--out", "{fs}/rep"], "--out"),
    (["reproduce", "--from-results", "{paper}", "--out", "{fs}/rep"], "--out"),
    (["reproduce", "--sweep", "{grid}", "--out", "{fs}/sw"], "--out"),
])
def test_a_full_disk_is_refused_before_any_work(tiny_fs, tmp_path, args, opt):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"axes": {"task": ["square"], "method": ["admm_sigmoid"]}, "trials": 2}))
    paper = Path(__file__).resolve().parents[1] / "docs" / "results" / "paper"
    args = [str(a).format(fs=tiny_fs, tmp=tmp_path, grid=grid, paper=paper) for a in args]
    t0 = time.perf_counter()
    line = one_error(run(args), EXIT_USAGE, opt, "free")
    assert "KiB free" in line or "B free" in line
    assert time.perf_counter() - t0 < 20  # refused up front, not after the work
    assert files_under(tiny_fs) == []


def test_results_on_a_full_disk_is_refused_before_any_write(tiny_fs):
    one_error(run_results([tiny_fs / "set"]), EXIT_USAGE, "DIR", "free")
    assert files_under(tiny_fs) == []


def test_a_write_that_fails_midway_loses_nothing_saved_before(tiny_fs, monkeypatch):
    """The disk fills up after the check (another process): ENOSPC while writing the trace
    -> exit 2 with one line; the trace saved by an earlier run is intact, no temporary left."""
    out = tiny_fs / "r.npz"
    out.write_bytes(b"previous trace, 24 bytes")
    monkeypatch.setattr(_resources, "free_disk", lambda path: 1 << 40)  # the check is fooled
    filler = tiny_fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill what is left (unbuffered)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    r = run(["train", "--iters", 30, "--hidden", 20, "--quiet", "--out", out])
    line = one_error(r, EXIT_USAGE, "no space left")
    assert "intact" in line
    assert out.read_bytes() == b"previous trace, 24 bytes"
    assert sorted(os.listdir(tiny_fs)) == ["filler", "r.npz"]


@pytest.mark.parametrize("code,exit_code", [(errno.ENOSPC, 2), (errno.EIO, 2), (errno.EDQUOT, 2),
                                            (errno.EBADF, 70)])
def test_write_errors_map_to_the_contract(tmp_path, monkeypatch, code, exit_code):
    from solver import Trace

    def boom(self, path):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(Trace, "save", boom)
    r = run(["train", "--iters", 2, "--hidden", 2, "--quiet", "--out", tmp_path / "r.npz"])
    assert r.exit_code == exit_code, r.output
    if exit_code == 2:
        one_error(r, 2, "r.npz")


# ----------------------------------------------------------------- memory, time
@pytest.mark.parametrize("args,opt", [
    (["train", "--hidden", 100000000], "--hidden"),
    (["train", "--n", 100000000000], "--n"),
    (["train", "--hidden", "50000,50000"], "--hidden"),
    (["train", "--task", "mnist", "--hidden", 3000000], "--hidden"),
    (["verify", "--n", 1000000000000], "--n"),
    (["verify", "--width", 10000, "--depth", 20], "--width"),
    (["compare", "--hidden", 100000000], "--hidden"),
    (["compare", "--n", 10**11, "--methods", "admm"], "--n"),
])
def test_runs_the_machine_cannot_hold_are_refused_up_front(tmp_path, monkeypatch, args, opt):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    line = one_error(run(args + ["--quiet"] if args[0] != "verify" else args), EXIT_USAGE, opt)
    assert time.perf_counter() - t0 < 20
    assert ("available" in line and "memory" in line) or "hours" in line, line
    assert files_under(tmp_path) == []


def test_a_run_too_long_for_the_limit_is_refused_and_force_overrides(tmp_path, monkeypatch):
    """The time estimate alone (memory patched to plenty): refused naming --force."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_resources, "available_memory", lambda: 1 << 50)
    line = one_error(run(["verify", "--width", 10000, "--depth", 20]), EXIT_USAGE, "--width", "hours")
    assert "--force" in line


def test_the_memory_estimate_refuses_and_force_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_resources, "available_memory", lambda: 1000)
    line = one_error(run(["train", "--iters", 2, "--hidden", 3, "--quiet"]), EXIT_USAGE, "--hidden")
    assert "1000 B available" in line and "--force" in line
    r = run(["train", "--iters", 2, "--hidden", 3, "--quiet", "--force"])
    assert r.exit_code == 0, r.output


def test_estimates_grow_with_every_size():
    """The working set is monotone in widths, samples and iterations (a property of the
    estimate that the refusals rest on)."""
    base = sum(_resources.lifted_net_bytes((2, 10, 10, 1), 100, 100, 100).values())
    for w, n, it in [((2, 20, 10, 1), 100, 100), ((2, 10, 10, 1), 200, 100), ((2, 10, 10, 1), 100, 200),
                     ((2, 10, 10, 10, 1), 100, 100)]:
        assert sum(_resources.lifted_net_bytes(w, n, n, it).values()) > base


def test_time_and_memory_estimates_grow_with_every_size():
    """lifted_net_seconds and lifted_net_memory (the refusals' estimates) are increasing in the
    widths, the samples, the iterations and the depth."""
    w, n, it = (2, 10, 10, 1), 100, 100
    t0, m0 = _resources.lifted_net_seconds(w, n, it), _resources.lifted_net_memory(w, n, n, it)
    for w2, n2, it2 in [((2, 20, 10, 1), n, it), (w, 2 * n, it), (w, n, 2 * it), ((2, 10, 10, 10, 1), n, it)]:
        assert _resources.lifted_net_seconds(w2, n2, it2) > t0
        assert _resources.lifted_net_memory(w2, n2, n2, it2) > m0


def test_the_estimates_bound_the_measured_runs_within_their_factors():
    """The committed calibration (benchmarks/calibrate_resources.py): for every measured run,
    measured <= estimate <= factor * measured, the estimates recomputed with the current
    formulas (lowering a formula below a measurement, or inflating it past the stated factor,
    fails here)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "calibrate_resources.json"
    rows = json.loads(path.read_text())["rows"]
    assert rows
    for r in rows:
        mem = _resources.lifted_net_memory(r["widths"], r["n"], r["n_test"], r["iters"])
        sec = _resources.lifted_net_seconds(r["widths"], r["n"], r["iters"])
        assert r["mem_measured_bytes"] <= mem <= _resources.MEM_FACTOR * r["mem_measured_bytes"], r
        assert r["cpu_s"] <= sec <= _resources.TIME_FACTOR * r["cpu_s"], r


# ----------------------------------------------------------------- knobs
@pytest.mark.parametrize("args,opt", [
    (["certify", "--dps", 100000], "--dps"), (["certify", "--dps", 5001], "--dps"),
    (["certify", "--max-boxes", 10**12], "--max-boxes"), (["certify", "--table", "--dps", 10**6], "--dps"),
    (["train", "--iters", 10**30], "--iters"), (["train", "--iters", 10**9], "--iters"),
    (["compare", "--iters", 10**30], "--iters"),
])
def test_knobs_past_their_maxima_are_refused(args, opt):
    t0 = time.perf_counter()
    one_error(run(args), EXIT_USAGE, opt)
    assert time.perf_counter() - t0 < 10


def test_the_cli_maxima_equal_the_resource_module():
    from sigadmm.cli import _common, certify_cmd

    assert (certify_cmd.MAX_DPS, certify_cmd.MAX_BOXES) == (_resources.MAX_DPS, _resources.MAX_BOXES)
    assert _common.MAX_ITERS == _resources.MAX_ITERS


# certify's automatic precision (theory/certify.py, issue 25 item 3) must not overflow for any float input
@pytest.mark.parametrize("args", [
    ["--eps", "1e-300"], ["--eps", "5e-324"], ["--M", "1e300"], ["--scale-output", "1e308"],
    pytest.param(["--table", "--eps", "1e-300", "--max-boxes", "50"], marks=pytest.mark.slow),
])
def test_certify_extreme_floats_answer_within_the_contract(args):
    r = run(["certify", "--max-boxes", "50", *args] if "--table" not in args else ["certify", *args])
    assert "Traceback" not in r.output, r.output[-2000:]
    assert r.exit_code in (0, 1, 2, 3), (r.exit_code, r.output[-2000:])
    if r.exit_code == 2:
        one_error(r, 2)


# ----------------------------------------------------------------- non-finite runs
@pytest.mark.parametrize("args", [["train", "--beta", "1e308"], ["train", "--init-scale", "1e308"],
                                  ["train", "--beta", "1e300", "--lam", "1e300"],
                                  ["verify", "--beta", "1e308", "--iters", 5]])
def test_a_run_stopped_on_non_finite_values_exits_1_naming_the_iteration(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    extra = ["--iters", 5, "--quiet"] if args[0] == "train" else []
    r = run(args + extra)
    line = one_error(r, 1, "not finite")
    assert "iteration 1" in line


def test_noise_that_overflows_names_noise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error(run(["train", "--noise", "1e308", "--iters", 2, "--quiet"]), EXIT_USAGE, "--noise")


# ----------------------------------------------------------------- options before training
@pytest.mark.parametrize("args,opt", [
    (["--a", "1"], "--a"), (["--xi", "nan"], "--xi"), (["--xi", "1", "--xi", "2"], "--xi"),
    (["--xi", "-1"], "--xi"), (["--xi", "1", "--a", "0"], "--a"), (["--xi", "1", "--a", "inf"], "--a"),
    (["--beta", "nan"], "--beta"), (["--lam", "-1"], "--lam"),
])
def test_verify_checks_its_options_before_training(monkeypatch, args, opt):
    import solver

    def no_training(*a, **k):
        raise AssertionError("trained before checking the options")

    monkeypatch.setattr(solver.ADMM, "fit", no_training)
    one_error(run(["verify", *args]), EXIT_USAGE, opt)


@pytest.mark.parametrize("args,opt", [
    (["compare", "--methods", ""], "--methods"), (["compare", "--methods", ","], "--methods"),
    (["compare", "--param", "admm.hidden_layer_sizes=5"], "--param"),
    (["compare", "--param", "dladmm.random_state=3"], "--param"),
    (["reproduce", "--workers", "0"], "--workers"),
    (["reproduce", "--from-results", "{paper}", "--full"], "--full"),
])
def test_messages_name_the_option(args, opt):
    paper = Path(__file__).resolve().parents[1] / "docs" / "results" / "paper"
    line = one_error(run([a.format(paper=paper) for a in args]), EXIT_USAGE, opt)
    if opt == "--full":
        assert "--quick" not in line


# ----------------------------------------------------------------- python -m sigadmm.results
@pytest.mark.parametrize("case", ["proc", "stage", "file", "plan", "scheduler", "tcp", "workers",
                                  "workers_neg"])
def test_results_bad_input_writes_nothing(tmp_path, case):
    d = tmp_path / "set"
    args = {"proc": ["/proc/nope"], "stage": [d, "--stage", "nope"], "file": [tmp_path / "f"],
            "plan": [d], "scheduler": [d, "--scheduler", "nowhere"],
            "tcp": [d, "--scheduler", "tcp://127.0.0.1:9"], "workers": [d, "--workers", "0"],
            "workers_neg": [d, "--workers", "-3"]}[case]
    if case == "file":
        (tmp_path / "f").write_text("x")
    if case == "plan":
        d.mkdir()
        (d / "plan.json").write_text("{not json")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    opt = {"stage": "--stage", "scheduler": "--scheduler", "tcp": "--scheduler",
           "workers": "--workers", "workers_neg": "--workers"}.get(case, "DIR")
    one_error(run_results(args), EXIT_USAGE, opt)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # no plan.json, no provenance line


def test_results_on_a_read_only_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here ({r.stderr.strip()}); as root, "
                    "permission bits alone do not make a folder read-only")
    try:
        one_error(run_results([ro]), EXIT_USAGE, "DIR")
        one_error(run(["train", "--iters", 2, "--quiet", "--out", ro / "r.npz"]), EXIT_USAGE, "--out")
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_a_second_results_runner_is_refused(tmp_path):
    d = tmp_path / "set"
    d.mkdir()
    with results_cmd.results_lock(d):
        line = one_error(run_results([d, "--stage", "tables_admm", "--scheduler", "synchronous"]),
                         EXIT_USAGE, "in use")
        assert str(os.getpid()) in line
    assert not (d / "plan.json").exists()


def test_python_m_sigadmm_results_is_the_same_command(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    p = subprocess.run([sys.executable, "-m", "sigadmm.results", str(tmp_path / "s"), "--stage", "nope"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and "--stage" in p.stderr
    assert not (tmp_path / "s").exists()


def test_ctrl_c_inside_a_trial_exits_130(tmp_path):
    """The interrupt lands inside a trial's solve (synchronous scheduler: the trial runs in
    this process): the solver tells the runner (solver.interrupts_raise), which exits 130,
    records "interrupted" and keeps no record of the cut-short trial."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    d = tmp_path / "set"
    p = subprocess.Popen([sys.executable, "-m", "sigadmm.results", str(d), "--stage", "tables_admm",
                          "--scheduler", "synchronous", "--no-progress", "--allow-dirty"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    line = p.stdout.readline()  # "[results] stage tables_admm: ..." (the trials start now)
    assert "tables_admm" in line, line
    time.sleep(2.0)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 130, out
    assert "Traceback" not in out
    prov = [json.loads(ln) for ln in (d / "provenance.jsonl").read_text().splitlines()]
    assert prov[-1]["status"] == "interrupted"
    cache = d / "sweeps" / "tables_admm.csv.cache.jsonl"
    n_done = len(cache.read_text().splitlines()) if cache.exists() else 0
    assert n_done < 2  # the first trial (2000 iterations) cannot have finished in 2 s


def test_the_solver_tells_a_caller_who_asks_about_an_interrupt(tmp_path):
    from solver import ADMM, interrupts_raise, tasks

    X, y, _, _ = tasks.make_task("square", n=30, seed=0, n_test=0)

    def ctrl_c(r):
        if r.nit == 3:
            os.kill(os.getpid(), signal.SIGINT)

    kw = dict(hidden_layer_sizes=(4,), max_iter=20, random_state=0, verbose=0, callback=ctrl_c)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        m = ADMM(**kw).fit(X, y)  # the default: the run returns, its status says so
    assert str(m.result_.status) == "interrupted" and m.n_iter_ == 3
    ck = tmp_path / "ck.npz"
    with pytest.warns(RuntimeWarning), interrupts_raise(), pytest.raises(KeyboardInterrupt,
                                                                          match="after iteration 3"):
        ADMM(**kw, checkpoint=ck).fit(X, y)
    assert ck.exists()  # the checkpoint was saved before the caller was told
