"""``sigadmm compare``: several lifted methods on one task, same data and seeds, side by side.

Runs :func:`sigadmm.peers.compare` and writes into ``--out``: ``table.csv`` (one row per
method and seed: network-level train/test MSE, accuracy for classification, time,
iterations, each method's claim verdicts), ``table.md`` (mean (std) over seeds),
``verdicts.csv`` (every check of every run, with its reason), ``histories.csv`` (per
iteration), ``settings.json`` and the plots ``errors.png`` (error against iteration and
seconds), ``lift_gap.png`` and ``layer_steps.png`` (per-layer relative weight steps).
The verdicts are findings, not the command's outcome: the exit status is 0 when the table
was written (docs/peers.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ._common import (MAX_ITERS, TASK_NAMES, SpaceSeparatedValues, force_option, inapplicable, option_error,
                      split_values)
from solver.registry import method_names

from .train_cmd import DATA_NAMES, _task_shape, parse_param

_OPTIONS = {"seeds": "--seeds", "max_iter": "--iters", "hidden": "--hidden", "n": "--n",
            "n_test": "--n-test", "test_size": "--test-size", "methods": "--methods",
            "params": "--param", "path": "--data-path", "task": "--task"}


def _methods(ctx, param, value):
    names = method_names()  # now: a method registered after this module loaded is one
    if value and not split_values(value):
        raise click.BadParameter("expected at least one method name (leave --methods out for all "
                                 f"of {', '.join(names)}), got an empty list")
    vals = split_values(value) or list(names)
    bad = [v for v in vals if v not in names]
    if bad:
        raise click.BadParameter(f"unknown method(s) {', '.join(map(repr, bad))}; expected among "
                                 f"{', '.join(names)}")
    if len(set(vals)) != len(vals):
        raise click.BadParameter(f"a method is named twice: {','.join(vals)}")
    return tuple(vals)


def _ints(what, allow_zero):
    def cb(ctx, param, value):
        vals = split_values(value)
        try:
            out = tuple(int(v) for v in vals)
        except ValueError:
            raise click.BadParameter(f"expected {what}, got {','.join(vals)}") from None
        if not out or min(out) < (0 if allow_zero else 1):
            raise click.BadParameter(f"expected {what}, got {','.join(vals)}")
        return out
    return cb


#: estimator parameters that compare's own options set for every method (refused in --param)
_SET_BY_OPTIONS = {"hidden_layer_sizes": "--hidden", "random_state": "--seeds",
                   "verbose": "--quiet", "classification": "--task"}


def _params(ctx, param, value):
    out = {}
    for item in value or ():
        head, sep, rest = str(item).partition(".")
        if not sep or head not in method_names():
            raise click.BadParameter(f"expected METHOD.NAME=VALUE with METHOD among "
                                     f"{', '.join(method_names())} (e.g. dladmm.rho=1e-3), got {item!r}")
        k, v = parse_param(rest)
        if k in _SET_BY_OPTIONS:
            raise click.BadParameter(f"{head}.{k} is set by {_SET_BY_OPTIONS[k]} for every method; "
                                     f"give that option instead")
        if k in out.setdefault(head, {}):
            raise click.BadParameter(f"{head}.{k} given twice")
        out[head][k] = v
    return out


class _CompareCommand(SpaceSeparatedValues):
    space_separated = ("--methods", "--seeds", "--hidden")


@click.command("compare", cls=_CompareCommand)
@click.option("--methods", multiple=True, callback=_methods, metavar="M1,M2,...",
              show_default="every registered method",
              help="Methods to compare, among the solver's registered methods (those of "
                   "'sigadmm train --method'; a bad name gets the list).")
@click.option("--task", type=click.Choice(TASK_NAMES + DATA_NAMES), default="square", show_default=True,
              help="A toy task (solver.tasks) or a data set (sigadmm.data).")
@click.option("--seeds", multiple=True, callback=_ints("non-negative integers", True), default=("0",),
              metavar="S1,S2,...", show_default="0",
              help="Seeds: seed s draws the data and split and every method's initialisation.")
@click.option("--iters", type=click.IntRange(1, MAX_ITERS), default=100, show_default=True,
              help="Iterations of every method.")
@click.option("--hidden", multiple=True, callback=_ints("positive integers", False), default=("20", "20"),
              metavar="W1,W2,...", show_default="20,20", help="Hidden widths, the same for every method.")
@click.option("--n", "n", type=click.IntRange(min=1), default=None,
              show_default="1000 (toy tasks), all (data sets)",
              help="Training points of a toy task; rows of a data set (a seeded subset).")
@click.option("--n-test", type=click.IntRange(min=1), default=None, show_default="--n",
              help="Test points of a toy task.")
@click.option("--test-size", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.3,
              show_default=True, help="Held-out fraction of a data set.")
@click.option("--param", "params", multiple=True, callback=_params, metavar="METHOD.NAME=VALUE",
              help="A parameter of one method (repeatable): --param dladmm.rho=1e-3.")
@click.option("--data-path", type=click.Path(path_type=Path), default=None,
              help="Where a data set's files are (mnist, fashion_mnist).")
@click.option("--checks/--no-checks", default=True, show_default=True,
              help="Run each method's claim checks (verify).")
@click.option("--plots/--no-plots", default=True, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("compare"),
              show_default=True, help="Output directory (created).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@force_option
@click.pass_context
def compare(ctx, methods, task, seeds, iters, hidden, n, n_test, test_size, params, data_path, checks,
            plots, out, quiet, force):
    """Run several methods on one task with the same data split and seeds; write the table
    (CSV + Markdown), the claim verdicts, the histories and the plots.

    Exit status: 0 done (the table is written; a FAIL verdict is a finding, not an error);
    2 bad input, a comparison this machine cannot hold (memory, time, disk: checked before
    any work; --force skips the memory and time estimates) or a write that failed (disk
    full); 130 interrupted (the runs finished so far are written).
    """
    is_data = task in DATA_NAMES
    inapplicable(ctx, [("n_test", is_data, f"to the data set {task!r} (see --test-size)"),
                       ("test_size", not is_data, f"to the toy task {task!r} (see --n-test)"),
                       ("data_path", not is_data, f"to the toy task {task!r}")])
    bad = [m for m in params if m not in methods]
    if bad:
        raise click.BadParameter(f"given for {', '.join(bad)}, which is not compared "
                                 f"(--methods {','.join(methods)})", param_hint="'--param'")
    from solver._validation import check_output_path  # noqa: PLC0415 - CLI: --help loads every subcommand module

    try:  # names, special files, a writable place: before anything is created
        check_output_path(out / "table.csv", "out", create=False)
    except ValueError as exc:
        raise click.BadParameter(" ".join(str(exc).split()), param_hint="'--out'") from None
    _check_resources(task, methods, seeds, iters, hidden, n, n_test, test_size, out, force)
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{str(out)!r} exists and is not a directory", param_hint="'--out'")
    from sigadmm import peers  # noqa: PLC0415 - CLI: --help loads every subcommand module

    say = None if quiet else (lambda msg: click.echo(f"... {msg}", err=True))
    try:
        cmp = peers.compare(methods, task, seeds=seeds, max_iter=iters, hidden=hidden, n=n,
                            n_test=n_test, test_size=test_size, path=data_path, params=params,
                            checks=checks, progress=say)
    except peers.ComparisonInterrupted as exc:
        if exc.partial.table:
            out = _check_out_dir(out)
            paths = exc.partial.save(out, figures=False)
            click.echo(f"interrupted: the {len(exc.partial.table)} runs finished so far are in "
                       f"{paths['table.csv']}", err=True)
        else:
            click.echo("interrupted before any run finished; nothing written", err=True)
        sys.exit(130)
    except ValueError as exc:
        msg = " ".join(str(exc).split())
        head = msg.split(":", 1)[0]
        if any(head in p for p in params.values()):
            raise click.BadParameter(msg, param_hint="'--param'") from None
        raise option_error(exc, _OPTIONS) from None
    out = _check_out_dir(out)  # created only now: bad input (a method's --param) leaves nothing
    paths = cmp.save(out, figures=plots)
    click.echo(cmp.markdown())
    click.echo("")
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


def _check_out_dir(out: Path) -> Path:
    """``--out`` must be a directory we can create or write in (its place was checked before
    any work, with nothing created: ``check_output_path(..., create=False)``)."""
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{str(out)!r} exists and is not a directory", param_hint="'--out'")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create directory {str(out)!r}: {exc.strerror}",
                                 param_hint="'--out'") from None
    if not os.access(out, os.W_OK):
        raise click.BadParameter(f"directory {str(out)!r} is not writable", param_hint="'--out'")
    return out


def _check_resources(task, methods, seeds, iters, hidden, n, n_test, test_size, out, force):
    """Memory and time of the runs (sigadmm._resources; one run at a time, so the memory of
    one and the time of all), and the disk for the tables, histories and plots."""
    from sigadmm import _resources as R  # noqa: PLC0415 - CLI: --help loads every subcommand module

    d_in, d_out, rows = _task_shape(task)
    if task in DATA_NAMES:
        n_tr = min(int(n), rows) if n is not None else rows
        n_te = int(n_tr * test_size) + 1
    else:
        n_tr = int(n) if n is not None else rows
        n_te = int(n_test) if n_test is not None else n_tr
    widths = (d_in, *hidden, d_out)
    runs = len(methods) * len(seeds)
    R.check_net_run(widths, n_tr, n_te, iters, width_option="--hidden", force=force, runs=runs, n_test_option="--n-test",
                    what=f"{runs} runs of widths {widths} on {n_tr} points for {iters} iterations")
    # histories.csv: about 30 characters per field and iteration; plots and tables ~1 MB
    rows_hist = runs * iters * (6 + 3 * len(widths))
    R.check_disk([(out / "table.csv", 30.0 * rows_hist + 1.5e6, "--out")])
