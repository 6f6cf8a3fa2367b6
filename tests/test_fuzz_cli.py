"""Fuzz the entry points, not only the API (issue 25): hypothesis draws an option of a
subcommand of ``sigadmm`` (or of ``python -m sigadmm.results``) and a value from the classes
that broke it before (huge, tiny, negative, nan, inf, empty, long names, special files, text
where a number goes) and asserts the exit status contract:

* the status is one of 0, 1, 2, 3 (never 70, a bug, never a traceback);
* exit 2 prints exactly one ``Error:`` line and writes nothing (the scratch folder stays
  empty, nothing appears in /dev);
* it answers: every case is sized so that a valid draw is a tiny run (two iterations, width
  2), so a hang is a refusal that did not happen - except where the fuzzed option is itself a
  size (``--iters 39916799`` is valid and runs for hours: issue 27's thorough run drew it).
  Each call gets ``BUDGET_S`` seconds of CPU time (the process's user + system time: a
  shared or loaded machine must not turn a tiny run into a "hang"; the thorough profile's
  first ``train`` call, imports and compilation included, took 6 CPU s but 55 s of wall time on
  a machine at load 9), and ``WALL_BACKSTOP_S`` of wall time for a call that waits without
  computing; then a signal raises ``KeyboardInterrupt`` inside it,
  and the run must end as an interrupted one (exit 130, one line), which is accepted only
  when the fuzzed option is one of ``SIZE_OPTIONS`` with a value that parses as a number:
  anything else still running after the budget is a hang and fails.

In-process through click's ``CliRunner``.  The work a valid ``reproduce`` or ``results``
would start (minutes) is replaced by a stub that exits 0: what is fuzzed is the layer before
it.  The default profile draws a few examples per subcommand; ``HYPOTHESIS_PROFILE=thorough``
draws 100 (``N_EXAMPLES``: each example is a whole CLI call).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sigadmm.cli import main
from sigadmm.results import cli as results_cmd

#: examples per subcommand: 6 in the default profiles; in the thorough ones (300 a property) 100,
#: because each example is a whole CLI call -- a valid draw trains, verifies or certifies for real
#: (about 1 CPU s), and a large valid size runs until the BUDGET_S cut (20 CPU s) -- so that at 300
#: the seven fuzz tests cost about 5-6 CPU minutes per thorough pass (train alone over 2; issue 27,
#: 2026-12-07), a third of CI's thorough budget; at 100 each fuzzed option of a subcommand is still
#: drawn 6 times (train's 17 options) to 33 times (constants' 3) on average
N_EXAMPLES = min(settings.default.max_examples, 100) if settings.default.max_examples >= 100 else 6

#: the classes of values (strings, as typed on a command line)
_SPECIAL = ["", " ", ",", "0", "-0", "-1", "-1e308", "nan", "-nan", "inf", "-inf", "1e308",
            "1e-320", "5e-324", "1" + "0" * 30, "-" + "9" * 25, "0.5", "2", "3", "abc", "1,2",
            ",1", "x" * 300, "/dev/null", "/dev/zero", "/proc/nope/x", "/", ".", "..", "\u00e9",
            "1e", "--", "0x10", "1_000"]
VALUES = st.one_of(
    st.sampled_from(_SPECIAL),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=12),
)

# subcommand -> (fixed arguments that keep a valid run tiny, the options fuzzed)
CASES = {
    "train": (["--iters", "2", "--hidden", "2", "--n", "20", "--quiet", "--out", "r.npz"],
              ["--iters", "--hidden", "--n", "--noise", "--seed", "--lam", "--beta", "--curvature-factor",
               "--init", "--init-scale", "--out", "--checkpoint", "--checkpoint-every", "--param",
               "--activation", "--task", "--method"]),
    "verify": (["--iters", "2", "--width", "2", "--n", "20"],
               ["--iters", "--width", "--depth", "--n", "--beta", "--lam", "--xi", "--a", "--seed",
                "--init", "--trace", "--activation"]),
    "compare": (["--methods", "admm", "--iters", "1", "--hidden", "2", "--n", "20", "--no-checks",
                 "--no-plots", "--quiet", "--out", "cmp"],
                ["--methods", "--seeds", "--iters", "--hidden", "--n", "--n-test", "--param", "--out",
                 "--task"]),
    "certify": (["--eps", "1e-3", "--max-boxes", "20"],
                ["--dps", "--max-boxes", "--construction", "--variant", "--activation"]),
    "constants": (["-a", "sigmoid", "--max-order", "1"], ["--eps", "--M", "--max-order"]),
    "reproduce": (["--no-progress", "--out", "rep"],
                  ["--out", "--scheduler", "--workers", "--trials", "--tasks", "--only", "--format",
                   "--sweep", "--from-results"]),
}


#: CPU seconds one fuzzed call may use before it is interrupted (see the module docstring)
BUDGET_S = 20
#: wall seconds, for a call that blocks without computing (CPU time would never run out)
WALL_BACKSTOP_S = 300
#: options whose valid values set the size of the work (a large one is a long, valid run)
SIZE_OPTIONS = {"--iters", "--n", "--n-test", "--width", "--hidden", "--depth", "--max-order",
                "--dps", "--max-boxes", "--seeds", "--trials", "--checkpoint-every", "--workers"}


class _Budget:
    fired = False


@contextmanager
def _budget(seconds=BUDGET_S, wall=WALL_BACKSTOP_S):
    """``KeyboardInterrupt`` in the call, as a Ctrl-C would be, after ``seconds`` of this
    process's CPU time (SIGPROF, ``ITIMER_PROF``) or ``wall`` seconds (SIGALRM), whichever
    comes first."""
    state = _Budget()

    def handler(signum, frame):
        if state.fired:            # the other timer, while the first interrupt unwinds
            return
        state.fired = True
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, wall)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, h in old.items():
            signal.signal(sig, h)


def _is_number(value):
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def _invoke(args, opt, value):
    """Run ``main`` with ``args`` under the budget; a run cut by it must be a valid size."""
    with _budget(BUDGET_S) as b:
        r = CliRunner().invoke(main, args)
    if b.fired:
        assert opt in SIZE_OPTIONS and _is_number(value), (
            f"{opt} {value!r} still ran after {BUDGET_S} CPU s (or {WALL_BACKSTOP_S} s of wall "
            "time): a hang, not a large valid size")
        assert r.exit_code == 130, (r.exit_code, r.output[-3000:])
    return r, b.fired


def _listing(d):
    return sorted(str(p.relative_to(d)) for p in Path(d).rglob("*"))


def _check(r, cwd, dev_before):
    out = r.output
    assert r.exit_code in (0, 1, 2, 3), (r.exit_code, out[-3000:])
    assert "Traceback" not in out, out[-3000:]
    if r.exit_code == 2:
        errors = [ln for ln in out.splitlines() if ln.startswith("Error")]
        assert len(errors) == 1, out[-3000:]
        assert _listing(cwd) == [], _listing(cwd)
    assert set(os.listdir("/dev")) <= dev_before | {"shm"}


@pytest.fixture()
def stubs(monkeypatch):
    """The work behind a valid reproduce / results call, replaced by an exit 0."""
    import sigadmm.reproduce as R
    from sigadmm import results as RS

    def done(*a, **k):
        sys.exit(0)

    monkeypatch.setattr(R, "reproduce", done)
    monkeypatch.setattr(RS, "run_results", done)
    monkeypatch.setattr("sigadmm.sweep.run_sweep", done)
    monkeypatch.setattr("sigadmm.results_report.build_report", done)


@pytest.mark.parametrize("sub", sorted(CASES))
def test_every_subcommand_keeps_the_contract(sub, stubs):
    fixed, options = CASES[sub]

    @settings(max_examples=N_EXAMPLES, deadline=None)
    @given(opt=st.sampled_from(options), value=VALUES)
    def one(opt, value):
        dev_before = set(os.listdir("/dev"))
        with tempfile.TemporaryDirectory() as d:
            cwd = os.getcwd()
            os.chdir(d)
            try:
                r, cut = _invoke([sub, *fixed, opt, value], opt, value)
                if not cut:
                    _check(r, d, dev_before)
            finally:
                os.chdir(cwd)

    one()


def test_python_m_sigadmm_results_keeps_the_contract(stubs):
    @settings(max_examples=N_EXAMPLES, deadline=None)
    @given(opt=st.sampled_from(["DIR", "--stage", "--workers", "--scheduler"]), value=VALUES)
    def one(opt, value):
        dev_before = set(os.listdir("/dev"))
        with tempfile.TemporaryDirectory() as d:
            cwd = os.getcwd()
            os.chdir(d)
            try:
                args = ([value] if opt == "DIR" else ["set", opt, value]) + ["--allow-dirty"]
                r = CliRunner().invoke(results_cmd.results, args)
                _check(r, d, dev_before)
            finally:
                os.chdir(cwd)

    one()


@pytest.mark.parametrize("args", [["train", "--out", "/dev/null"], ["train", "--hidden", "100000000"],
                                  ["verify", "--width", "10000", "--depth", "20"],
                                  ["certify", "--dps", "100000"], ["compare", "--methods", ""]])
def test_the_listed_cases_are_in_the_fuzzed_classes(args):
    """The issue's own cases, through the same check as the fuzzed ones."""
    with tempfile.TemporaryDirectory() as d:
        cwd = os.getcwd()
        os.chdir(d)
        try:
            r = CliRunner().invoke(main, args + (["--quiet"] if args[0] in ("train", "compare") else []))
            assert r.exit_code == 2, r.output
            _check(r, d, set(os.listdir("/dev")))
        finally:
            os.chdir(cwd)


def test_a_large_valid_size_is_cut_by_the_budget_not_counted_as_a_hang(tmp_path, monkeypatch):
    """The budget itself (issue 27): a valid 39916799-iteration run is interrupted and ends as
    exit 130 (1000000 iterations: within the memory and time checks, about an hour of work); a run cut by the budget while the fuzzed option is not a size is a hang."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "BUDGET_S", 3)
    args = ["verify", "--width", "2", "--n", "20", "--iters", "1000000"]
    r, cut = _invoke(args, "--iters", "1000000")
    assert cut and r.exit_code == 130
    with pytest.raises(AssertionError, match="a hang"):
        _invoke(args, "--seed", "7")


def test_the_budget_counts_cpu_time_and_the_backstop_wall_time():
    """Issue 27: the budget is CPU time, so waiting (a loaded machine's run queue, here a
    sleep) does not spend it; a call that only waits is still cut by the wall backstop."""
    import time

    with _budget(seconds=0.5, wall=30) as b:
        time.sleep(1.0)                            # no CPU: the 0.5 s budget is not spent
    assert not b.fired
    with pytest.raises(KeyboardInterrupt), _budget(seconds=30, wall=0.3) as b:
        time.sleep(5.0)                            # waits past the wall backstop
    assert b.fired
    with pytest.raises(KeyboardInterrupt), _budget(seconds=0.3, wall=30) as b:
        while True:                                # computes past the CPU budget
            pass
    assert b.fired


def test_verify_interrupted_in_its_first_iteration_exits_130(tmp_path, monkeypatch):
    """Issue 27, the thorough fuzz (``verify --width 1267``, cut by the budget in iteration 1):
    Ctrl-C before the run has the 2 iterations the checks need exited 2 ("sufficient_descent
    needs at least 2 recorded iterations"), a usage error for an interrupted run.  The contract:
    an interrupted run exits 130, whatever its partial trace allows."""
    import solver

    class InterruptedInIterationOne(solver.ADMM):
        def fit(self, *a, **k):
            def ctrl_c(r):
                if r.nit == 1:
                    os.kill(os.getpid(), signal.SIGINT)
            self.callback = ctrl_c
            return super().fit(*a, **k)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(solver, "ADMM", InterruptedInIterationOne)
    r = CliRunner().invoke(main, ["verify", "--width", "2", "--n", "20", "--iters", "50"])
    assert r.exit_code == 130, r.output[-2000:]
    assert "Traceback" not in r.output and "Interrupted" in r.output
