"""The CLI's exit status contract (issue 14): every subcommand, bad input -> 2, no traceback.

0 success / passed / certified; 1 a check failed or a certificate was refuted; 2 bad usage or
bad input (one ``Error:`` line naming the option); 3 undecided; 130 interrupted; 70 a bug.
The cases are the issue's own (``certify --scale-output nan``, ``train --noise nan``,
``train --seed -1``, ``verify --init nope``, corrupt trace files, an unknown task or method
in a sweep, a scheduler nobody listens at, ...) plus one per option kind of each subcommand.
All run in-process through click's ``CliRunner`` and stop before any real work.
"""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

import sigadmm.cli as cli
from sigadmm.cli import EXIT_BUG, EXIT_CODES, EXIT_INTERRUPTED, EXIT_USAGE, main

DATA = __import__("pathlib").Path(__file__).parent / "data"


def run(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_bad_input(r, *names):
    out = r.output
    assert r.exit_code == EXIT_USAGE, (r.exit_code, out)
    assert "Traceback" not in out, out
    err = [ln for ln in out.splitlines() if ln.startswith("Error")]
    assert len(err) == 1, out  # one message line
    for n in names:
        assert n in err[0], (n, err[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    good = (DATA / "legacy_trace.npz").read_bytes()
    (d / "truncated.npz").write_bytes(good[: len(good) // 2])
    (d / "empty.npz").write_bytes(b"")
    (d / "text.npz").write_text("iteration,loss\n1,0.5\n")
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0xFF
    (d / "flipped.npz").write_bytes(bytes(flipped))
    (d / "checkpoint.npz").write_bytes((DATA / "legacy_checkpoint.npz").read_bytes())
    (d / "unknown_task.json").write_text(json.dumps({"axes": {"task": ["cube"], "method": ["admm_sigmoid"]}}))
    (d / "unknown_method.json").write_text(json.dumps({"axes": {"task": ["square"], "method": ["lbfgs"]}}))
    (d / "unknown_axis.json").write_text(json.dumps({"axes": {"task": ["square"], "method": ["admm_sigmoid"],
                                                              "learning_rate": [0.1]}}))
    (d / "not_json.json").write_text("{axes: square")
    (d / "bad_trials.json").write_text(json.dumps({"axes": {"task": "square", "method": "admm_sigmoid"},
                                                   "trials": -3}))
    (d / "a_file").write_text("x")
    return d


# (subcommand args, words the error line must contain)
CASES = [
    # train
    (["train", "--noise", "nan"], ["--noise"]),
    (["train", "--seed", "-1"], ["--seed"]),
    (["train", "--iters", "0"], ["--iters"]),
    (["train", "--n", "-5"], ["--n"]),
    (["train", "--lam", "inf"], ["--lam"]),
    (["train", "--beta", "1,-2"], ["--beta"]),
    (["train", "--hidden", "0"], ["--hidden"]),
    (["train", "--hidden", "a,b"], ["--hidden"]),
    (["train", "--init", "nope"], ["--init"]),
    (["train", "--init-scale", "0"], ["--init-scale"]),
    (["train", "--curvature-factor", "nan"], ["--curvature-factor"]),
    (["train", "--activation", "relu"], ["--activation", "Assumption 1"]),
    (["train", "--activation", "nope"], ["--activation"]),
    (["train", "--task", "cube"], ["--task"]),
    (["train", "--resume"], ["--resume"]),
    (["train", "--checkpoint-every", "5"], ["--checkpoint-every"]),
    (["train", "--out", "/proc/nope/run.npz"], ["--out"]),
    (["train", "--out", "{files}/a_file/run.npz"], ["--out"]),
    (["train", "--checkpoint", "/proc/nope/ck.npz", "--iters", "1"], ["--checkpoint"]),
    (["train", "--checkpoint", "{files}/empty.npz", "--resume", "--iters", "1", "--n", "5"],
     ["--checkpoint", "empty"]),
    (["train", "--checkpoint", "{files}/checkpoint.npz", "--resume", "--iters", "1", "--n", "5"],
     ["--checkpoint", "fingerprint"]),
    (["train", "--bogus"], ["--bogus"]),
    (["train", "--method", "sgd"], ["--method", "sgd"]),
    (["train", "--method", "dladmm", "--beta", "2"], ["--beta", "dladmm"]),
    # compare
    (["compare", "--methods", "admm,sgd"], ["--methods", "sgd"]),
    (["compare", "--seeds", "-1"], ["--seeds"]),
    (["compare", "--task", "cube"], ["--task"]),
    (["compare", "--out", "/proc/nope/x"], ["--out"]),
    (["compare", "--out", "{files}/a_file"], ["--out"]),
    # verify
    (["verify", "--trace", "{files}/truncated.npz"], ["truncated.npz", "truncated or corrupt"]),
    (["verify", "--trace", "{files}/empty.npz"], ["empty"]),
    (["verify", "--trace", "{files}/text.npz"], ["not a .npz archive"]),
    (["verify", "--trace", "{files}/flipped.npz"], ["flipped.npz"]),
    (["verify", "--trace", "{files}/checkpoint.npz"], ["checkpoint"]),
    (["verify", "--trace", "{files}/missing.npz"], ["--trace"]),
    (["verify", "--init", "nope", "--iters", "2"], ["--init"]),
    (["verify", "--beta", "nan", "--iters", "2"], ["--beta"]),
    (["verify", "--activation", "relu", "--iters", "2"], ["Assumption 1"]),
    (["verify", "--depth", "0"], ["--depth"]),
    (["verify", "--iters", "1"], ["--iters"]),
    (["verify", "--task", "cube"], ["--task"]),
    (["verify", "--seed", "-1", "--iters", "2"], ["--seed"]),
    # certify / constants
    (["certify", "--scale-output", "nan"], ["--scale-output"]),
    (["certify", "--eps", "2"], ["eps"]),
    (["certify", "--eps", "nan"], ["--eps"]),
    (["certify", "--M", "-1"], ["M"]),
    (["certify", "--max-boxes", "-1"], ["--max-boxes"]),
    (["certify", "--dps", "3"], ["--dps"]),
    (["certify", "--activation", "nope"], ["activation"]),
    (["certify", "--construction", "cube"], ["--construction"]),
    (["certify", "--table", "--variant", "paper"], ["--variant"]),
    (["constants", "--activation", "nope"], ["activation"]),
    # reproduce
    (["reproduce", "--trials", "0"], ["--trials"]),
    (["reproduce", "--tasks", "cube"], ["--tasks"]),
    (["reproduce", "--only", "nope"], ["--only"]),
    (["reproduce", "--format", "pdf"], ["--format"]),
    (["reproduce", "--scheduler", "nowhere"], ["--scheduler"]),
    (["reproduce", "--workers", "2", "--scheduler", "synchronous"], ["--workers"]),
    (["reproduce", "--out", "/proc/nope"], ["--out"]),
    (["reproduce", "--out", "{files}/a_file"], ["--out"]),
    (["reproduce", "--sweep", "{files}/unknown_task.json"], ["--sweep", "cube"]),
    (["reproduce", "--sweep", "{files}/unknown_method.json"], ["--sweep", "lbfgs"]),
    (["reproduce", "--sweep", "{files}/unknown_axis.json"], ["--sweep", "learning_rate"]),
    (["reproduce", "--sweep", "{files}/not_json.json"], ["--sweep", "JSON"]),
    (["reproduce", "--sweep", "{files}/bad_trials.json"], ["--sweep", "trials"]),
    (["reproduce", "--sweep", "{files}/unknown_task.json", "--only", "tables"], ["--only"]),
    (["reproduce", "--sweep", "{files}/missing.json"], ["--sweep"]),
    # the group
    (["nosuchcommand"], ["nosuchcommand"]),
]


@pytest.mark.parametrize("args,names", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_exits_2_with_one_line_naming_the_option(files, args, names):
    r = run([a.format(files=files) for a in args])
    assert_bad_input(r, *names)


def test_every_subcommand_is_covered():
    covered = {c[0][0] for c in CASES}
    assert set(cli.SUBCOMMANDS) <= covered


def test_scheduler_nobody_listens_at_is_bad_input_quickly(tmp_path):
    import time

    t0 = time.perf_counter()
    r = run(["reproduce", "--only", "tables", "--tasks", "square", "--trials", "1",
             "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path, "--no-progress"])
    assert_bad_input(r, "--scheduler", "tcp://127.0.0.1:9")
    assert time.perf_counter() - t0 < 60
    assert not (tmp_path / "report.md").exists()


def test_a_sweep_whose_every_trial_fails_names_the_cause(tmp_path):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"axes": {"task": "square", "method": "admm_sigmoid", "depth": -1,
                                         "n": 10, "n_test": 5, "iters": 2}, "trials": 1}))
    r = run(["reproduce", "--sweep", spec, "--scheduler", "synchronous", "--out", tmp_path / "o",
             "--no-progress"])
    assert_bad_input(r, "every one of the 1 trials failed", "hidden_layer_sizes")


def test_help_states_the_contract():
    r = run(["--help"])
    assert r.exit_code == 0
    for code in EXIT_CODES:
        assert f" {code} " in r.output.replace("\n", " ")
    for sub in ("train", "reproduce", "certify", "verify"):
        assert "Exit status" in run([sub, "--help"]).output, sub


def _install(monkeypatch, exc):
    @click.command("boom")
    def boom():
        raise exc

    monkeypatch.setitem(cli.SUBCOMMANDS, "boom", "tests.test_cli_exit_codes:_BOOM")
    monkeypatch.setattr(cli._LazyGroup, "_load", staticmethod(lambda name: boom if name == "boom" else None))


def test_keyboard_interrupt_exits_130(monkeypatch):
    _install(monkeypatch, KeyboardInterrupt())
    r = run(["boom"])
    assert r.exit_code == EXIT_INTERRUPTED and "Traceback" not in r.output


def test_an_internal_error_is_a_bug_exit_70_with_its_traceback(monkeypatch):
    _install(monkeypatch, RuntimeError("kaboom"))
    r = run(["boom"])
    assert r.exit_code == EXIT_BUG and "Traceback" in r.output and "kaboom" in r.output


def test_value_error_of_bad_input_exits_2_in_one_line(monkeypatch):
    _install(monkeypatch, ValueError("x: expected\na positive number"))
    r = run(["boom"])
    assert_bad_input(r, "x: expected a positive number")


@pytest.mark.parametrize("args", [["constants", "--max-order", "-1", "-a", "sigmoid"],
                                  ["constants", "--eps", "0", "-a", "sigmoid"]])
def test_constants_bad_input_exits_2(args):
    assert_bad_input(run(args))
