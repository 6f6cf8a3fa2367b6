"""Issue 25, the reviewer's held-out run (fourth round): what it broke, by class.

1. JSON nested too deeply for the parser (``'[' * 200000``) raised ``RecursionError`` from every
   reader of a file we did not write (a results set's ``plan.json`` -> exit 70; a ``--sweep`` file,
   a trace's ``meta_json``, provenance and cache lines): now a malformed document like any other.
2. ``certify --M 1.7976931348623157e308``: the float64 diagnostic grid ``linspace(-M, M)``
   overflowed (inf, nan) -> ``OverflowError`` and exit 70.
3. ``reproduce --trials 10**9`` ran (no estimate grew with the trials); a ``--sweep`` whose width
   cannot fit ran, wrote its cache and failed at exit 70: both refused before any work now.
4. ``--out /dev/stdout`` (stdout redirected to a file) wrote ``/dev/stdout.npz``; a path past
   ``PC_PATH_MAX`` failed after the work naming no option; ``compare --n-test`` huge blamed ``--n``.
"""
from __future__ import annotations

import json
import math
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sigadmm.cli import main
from sigadmm.cli.reproduce_cmd import MAX_SET_DAYS, _check_trials
from sigadmm.results import cli as results_cmd
from sigadmm import trials as R
from sigadmm._resources import ResourceError
from solver import Trace
from solver._validation import check_output_path, loads_json
from theory._certify import _grid


def run(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _deep(depth, kind):
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


# --- 1: nesting -------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [10**4, 10**5, 2 * 10**5])
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_json_nested_too_deep_is_a_decode_error(depth, kind):
    text = _deep(depth, kind)
    try:
        json.loads(text)
    except RecursionError:
        pass                      # what the parser does at this depth: loads_json must not
    else:
        return                    # shallow enough for this interpreter: nothing to refuse
    with pytest.raises(json.JSONDecodeError):
        loads_json(text)


def test_a_results_set_with_a_deep_plan_is_bad_input(tmp_path):
    (tmp_path / "plan.json").write_text(_deep(200_000, "list"))
    r = CliRunner().invoke(results_cmd.results, [str(tmp_path), "--allow-dirty"])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "plan" in r.output


def test_a_deep_sweep_file_is_bad_input(tmp_path):
    spec = tmp_path / "s.json"
    spec.write_text(_deep(200_000, "dict"))
    r = run(["reproduce", "--sweep", spec, "--out", tmp_path / "o", "--scheduler", "synchronous"])
    assert r.exit_code == 2 and "--sweep" in r.output, r.output
    assert not (tmp_path / "o").exists()


def test_a_trace_with_deep_meta_is_refused_as_a_bad_file(tmp_path):
    np.savez(tmp_path / "t.npz", n_layers=np.array(1), meta_json=np.array(_deep(200_000, "list")))
    with pytest.raises(ValueError):
        Trace.load(tmp_path / "t.npz")


# --- 2: the float64 grid ------------------------------------------------------------------------
@given(M=st.floats(1e-300, 1.7976931348623157e308), n=st.integers(2, 50))
@settings(max_examples=50, deadline=None)
def test_the_diagnostic_grid_is_finite_and_spans_the_domain(M, n):
    g = _grid(M, n)
    assert g.shape == (n,) and np.all(np.isfinite(g))
    assert g[0] == -M and g[-1] == M and np.all(np.diff(g) >= 0)


def test_certify_at_the_largest_float():
    r = run(["certify", "-a", "arctan", "--M", "1.7976931348623157e308", "--max-boxes", "2000"])
    assert r.exit_code in (0, 3), r.output
    assert "Traceback" not in r.output


# --- 3: sets of trials -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["quick", "full"])
def test_the_configured_reproductions_pass_the_estimate(mode):
    cfg = R.get_config(mode)
    pts = [R.experiment_settings(cfg, t, m) for t in cfg.tasks for m in cfg.methods]
    _check_trials(pts, cfg.trials, "--trials", "the tables' trials")        # must not raise


@given(trials=st.integers(10**7, 10**12))
@settings(max_examples=10, deadline=None)
def test_trials_that_would_take_past_the_limit_are_refused(trials):
    cfg = R.get_config("full")
    pts = [R.experiment_settings(cfg, t, m) for t in cfg.tasks for m in cfg.methods]
    with pytest.raises(ResourceError, match=r"^--trials: .* days"):
        _check_trials(pts, trials, "--trials", "the tables' trials")
    assert MAX_SET_DAYS > 0


def test_a_trial_past_the_memory_is_refused_in_check_memorys_words(monkeypatch):
    """The trials' memory refusal is sigadmm._resources.check_memory's message (one wording),
    without its "pass --force" tail: sigadmm reproduce has no --force."""
    from sigadmm import _resources

    monkeypatch.setattr(_resources, "available_memory", lambda: 1000)
    cfg = R.get_config("quick")
    pts = [R.experiment_settings(cfg, t, m) for t in cfg.tasks for m in cfg.methods]
    with pytest.raises(ResourceError) as err:
        _check_trials(pts, 1, "--trials", "the tables' trials")
    assert re.fullmatch(r"--trials: a trial of the tables' trials \(\w+, widths \(1, \d+(, \d+)*, 1\), "
                        r"n = \d+\) needs about \S+ \S+ of memory \(estimate\), 1000 B available; "
                        r"reduce --trials", str(err.value)), str(err.value)
    with pytest.raises(ResourceError, match=r"available; reduce --n, or pass --force if you know"):
        _resources.check_memory(2000, ["--n"], "the run")


def test_reproduce_with_a_billion_trials_is_refused_before_work(tmp_path):
    r = run(["reproduce", "--trials", 10**9, "--only", "tables", "--no-progress", "--out", tmp_path / "o",
             "--scheduler", "synchronous"])
    assert r.exit_code == 2 and "--trials" in r.output, r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("width", [200_000, 10**6])
def test_a_sweep_whose_trial_cannot_fit_is_refused_before_work(tmp_path, width):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"axes": {"task": ["square"], "method": ["admm_sigmoid"],
                                         "width": [width]}, "trials": 1}))
    r = run(["reproduce", "--sweep", spec, "--scheduler", "synchronous", "--no-progress",
             "--out", tmp_path / "o"])
    assert r.exit_code == 2 and "--sweep" in r.output and "memory" in r.output, r.output
    assert not (tmp_path / "o").exists()


# --- 4: paths ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/dev/shm/../x",
                                  "/proc/x.npz", "/sys/x"])
def test_no_output_into_a_pseudo_file_system(path):
    with pytest.raises(ValueError, match="^out: "):
        check_output_path(path, "out", suffix=".npz", create=False)


def test_an_ordinary_path_is_still_accepted(tmp_path):
    assert check_output_path(tmp_path / "a" / "x", "out", suffix=".npz").name == "x.npz"


def test_a_path_past_path_max_is_refused_naming_the_option(tmp_path):
    limit = os.pathconf(tmp_path, "PC_PATH_MAX")
    deep = tmp_path.joinpath(*["d" * 200] * (limit // 200 + 1), "x.npz")
    with pytest.raises(ValueError, match="^out: the path is"):
        check_output_path(deep, "out", create=False)
    r = run(["compare", "--methods", "admm", "--n", 20, "--iters", 2, "--hidden", 3, "--quiet",
             "--out", deep])
    assert r.exit_code == 2 and "--out" in r.output, r.output
    assert math.isfinite(limit)


def test_compare_names_n_test_when_the_test_points_are_the_cost(tmp_path):
    r = run(["compare", "--methods", "admm", "--n", 20, "--n-test", 10**11, "--iters", 2, "--hidden", 3,
             "--quiet", "--out", tmp_path / "o"])
    assert r.exit_code == 2 and r.output.strip().splitlines()[-1].startswith("Error: --n-test:"), r.output
