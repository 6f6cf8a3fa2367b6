"""``python -m sigadmm.results DIR``: write (or extend) the paper plan in DIR and run it.

The command line of :mod:`sigadmm.results` (whose runner it calls), under the same contract
as ``sigadmm`` (:func:`sigadmm.cli.run_command`): exit 0 every stage asked for has finished;
2 bad input (one ``Error:`` line naming the argument; nothing is written: every argument,
an existing ``plan.json`` and the disk space are checked before the plan or a provenance
line is written), a results set in use by another runner (the lock ``DIR/.results.lock``),
or a write that failed (disk full); 130 interrupted (Ctrl-C or SIGTERM, also when it lands
inside a trial: the finished trials are cached, the provenance line says "interrupted", and
the same command resumes); 70 a bug.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

import sigadmm.results as RS
from sigadmm import _resources
from sigadmm.cli import run_command
from solver._validation import check_output_path

from .plan import paper_plan

#: the lock a runner holds on its results set (a second runner on the same DIR is refused)
LOCK_FILE = ".results.lock"
#: seconds to wait for a remote scheduler's port before refusing --scheduler
CONNECT_TIMEOUT_S = 5.0
_REMOTE = ("tcp://", "tls://", "ws://", "wss://")


class ResultsSetInUse(ValueError):
    """Another runner holds the results set's lock."""


def _workers(ctx, param, value):
    if value is None:
        return None
    if value < 1:
        raise click.BadParameter(f"expected a positive number of local Dask workers, got {value} "
                                 "(leave --workers out for one per core)")
    return value


def _scheduler(ctx, param, value):
    if value is None or value in ("local", "synchronous"):
        return value
    if not value.startswith(_REMOTE):
        raise click.BadParameter(f"expected 'local', 'synchronous' or an address such as "
                                 f"tcp://host:8786, got {value!r}")
    return value


class _ContractCommand(click.Command):
    """A standalone command whose ``main`` enforces the exit status contract
    (:func:`sigadmm.cli.run_command`), as the ``sigadmm`` group's does."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        run_command(super().main, self, args, prog_name or "python -m sigadmm.results",
                    complete_var, **extra)


@click.command("results", cls=_ContractCommand,
               context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("out", type=click.Path(path_type=Path), metavar="DIR")
@click.option("--stage", "stages", multiple=True, metavar="NAME",
              help="Run only this stage of the plan (repeatable); default: every stage.")
@click.option("--workers", type=int, default=None, callback=_workers,
              help="Local Dask workers (default: one per core).")
@click.option("--scheduler", default=None, callback=_scheduler, metavar="ADDR",
              help="'local' (a LocalCluster, default), 'synchronous' (no Dask, one trial at a "
                   "time in this process) or a scheduler address such as tcp://host:8786.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.option("--max-trials", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run only seeds 0..N-1 of each stage this time (the rest later).")
@click.option("--allow-dirty", is_flag=True,
              help="Run from a checkout with uncommitted changes (the diff's SHA-256 is recorded).")
def results(out, stages, workers, scheduler, no_progress, max_trials, allow_dirty):
    """Write (or extend) the paper plan in DIR and run what is missing; rerun to resume.

    Exit status: 0 done; 2 bad input, DIR in use by another runner, or a full disk; 130
    interrupted (finished trials are kept; the same command resumes)."""
    # ---- every argument before anything is written
    try:
        check_output_path(out / RS.PLAN_FILE, "DIR", create=False)
    except ValueError as exc:
        raise click.BadParameter(" ".join(str(exc).split()), param_hint="'DIR'") from None
    old = []
    if (out / RS.PLAN_FILE).exists():
        try:
            old = RS.read_plan(out)["stages"]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{str(out / RS.PLAN_FILE)!r} is not a plan of a results set "
                                     f"({' '.join(str(exc).split())}); move it away or name another "
                                     "DIR", param_hint="'DIR'") from None
    plan = paper_plan()
    known = list(dict.fromkeys([s.name for s in old] + [s.name for s in plan]))
    bad = [s for s in stages if s not in known]
    if bad:
        raise click.BadParameter(f"unknown stage(s) {', '.join(map(repr, bad))}; the plan's stages "
                                 f"are {', '.join(known)}", param_hint="'--stage'")
    if scheduler is not None and scheduler.startswith(_REMOTE):
        _reachable(scheduler)
    try:
        RS.require_clean(RS.code_version(exclude=out), allow_dirty)
    except RS.DirtyTree as exc:
        raise click.UsageError(f"--allow-dirty: {exc}") from None
    todo = [s for s in plan if not stages or s.name in stages]
    n_trials = sum(len(s.settings) * min(s.trials, max_trials or s.trials) for s in todo)
    # a checksummed cache line and a table row per trial (~3 kB), the plan and provenance
    _resources.check_disk([(out / RS.PLAN_FILE, 3e3 * n_trials + 2e5, "DIR")])

    # a run started in the background (``cmd &``) inherits SIGINT ignored, and ``kill`` sends
    # SIGTERM: both stop it like Ctrl-C, so that its provenance line says "interrupted"
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    out.mkdir(parents=True, exist_ok=True)
    with results_lock(out):
        RS.write_plan(out, plan, name="paper")
        done = RS.run_results(out, list(stages) or None, scheduler=scheduler, n_workers=workers,
                              progress=not no_progress, allow_dirty=allow_dirty,
                              max_trials=max_trials,
                              command="python -m sigadmm.results " + " ".join(sys.argv[1:]))
    cut = [name for name, r in done.items() if getattr(r, "interrupted", False)]
    if cut or len(done) < len(todo):
        where = cut[0] if cut else "before a stage started"
        click.echo(f"interrupted (stage {where}): the finished trials are cached in "
                   f"{out / RS.SWEEPS_DIR}; run the same command to resume", err=True)
        sys.exit(130)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _reachable(address):
    """Refuse a remote scheduler nobody listens at, before anything is written."""
    try:
        u = urlsplit(address)
        host, port = u.hostname, u.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise click.BadParameter(f"expected an address such as tcp://host:8786, got {address!r}",
                                 param_hint="'--scheduler'")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise click.BadParameter(f"no Dask scheduler answered at {address!r} within "
                                 f"{CONNECT_TIMEOUT_S:g} s ({exc.strerror or type(exc).__name__}); "
                                 "start one there or leave --scheduler out", param_hint="'--scheduler'") \
            from None


@contextlib.contextmanager
def results_lock(out: Path):
    """Hold ``out/.results.lock`` (an exclusive ``flock``) while a runner works on ``out``: a
    second runner, in this process or another, is refused with :class:`ResultsSetInUse`
    (exit 2) instead of computing the same trials twice.  The lock goes with the process
    (``kill -9`` included); the file stays."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only: the ImportError branch runs without a lock
    except ImportError:  # pragma: no cover - no flock on this platform
        yield
        return
    lock = Path(out) / LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise ResultsSetInUse(f"DIR: the results set {str(out)!r} is in use by another runner "
                                  f"(process {holder} holds {str(lock)!r}); wait for it to finish "
                                  "(then run the same command to pick up what it left)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def main(argv=None) -> int:
    """``python -m sigadmm.results ...``: the exit code of :func:`results` under the contract."""
    try:
        results.main(argv, prog_name="python -m sigadmm.results")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0  # pragma: no cover - run_command always exits
