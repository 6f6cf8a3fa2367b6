"""``sigadmm train``: train a sigmoid net by ADMM on one of the paper's tasks.

Shows a progress bar (iteration, train error, KKT residual), prints a summary, writes the
trace (``.npz``) and a PNG of the standard panels next to it.  The output and checkpoint
paths are checked before training; Ctrl-C stops after the current iteration, writes the
partial trace (and the checkpoint), says how to resume and exits 130.  Several values are given
comma-separated (``--hidden 100,100``), by repeating the option (``--hidden 100 --hidden 100``)
or space-separated (``--hidden 100 100``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from ._common import (TASK_NAMES, FiniteFloat, SpaceSeparatedValues, inapplicable, option_error,
                      split_values)

#: library argument names -> this command's options (errors name the option)
_OPTIONS = {"hidden_layer_sizes": "--hidden", "activation": "--activation", "max_iter": "--iters",
            "n": "--n", "noise": "--noise", "seed": "--seed", "random_state": "--seed",
            "lam": "--lam", "beta": "--beta", "curvature": "--curvature",
            "curvature_factor": "--curvature-factor", "init": "--init", "init_scale": "--init-scale",
            "checkpoint": "--checkpoint", "checkpoint_every": "--checkpoint-every",
            "resume": "--resume", "out": "--out", "path": "--out"}

#: Defaults of the paper's experiments (docs/experiments.md#admm-and-baseline-settings).
DEFAULT_HIDDEN = ("100", "100")
DEFAULT_ITERS = 200
DEFAULT_N = 1000
DEFAULT_LAM = 1e-6
DEFAULT_INIT_SCALE = 8.0
DEFAULT_CHECKPOINT_EVERY = 50


def _ints(ctx, param, value):
    vals = split_values(value)
    try:
        out = tuple(int(v) for v in vals)
    except ValueError:
        raise click.BadParameter(f"expected positive integers, got {','.join(vals)}") from None
    if not out or min(out) < 1:
        raise click.BadParameter(f"expected positive integers, got {','.join(vals)}")
    return out


def _floats(ctx, param, value):
    vals = split_values(value)
    try:
        out = tuple(float(v) for v in vals)
    except ValueError:
        raise click.BadParameter(f"expected numbers, got {','.join(vals)}") from None
    if not out:
        raise click.BadParameter("expected at least one number")
    if not all(math.isfinite(v) and v > 0 for v in out):
        raise click.BadParameter(f"expected positive finite numbers, got {','.join(vals)}")
    return out[0] if len(out) == 1 else out


class _TrainCommand(SpaceSeparatedValues):
    space_separated = ("--hidden", "--beta")


@click.command("train", cls=_TrainCommand)
@click.option("--task", type=click.Choice(TASK_NAMES),
              default="square", show_default=True, help="Toy problem of the paper (solver.tasks).")
@click.option("--hidden", multiple=True, callback=_ints, default=DEFAULT_HIDDEN, metavar="W1,W2,...",
              show_default="100,100",
              help="Hidden widths, input side first: --hidden 100,100 (or --hidden 100 --hidden 100).")
@click.option("--activation", default="sigmoid", show_default=True,
              help="sigmoid, tanh, gauss_cdf or arctan.")
@click.option("--iters", type=click.IntRange(min=1), default=DEFAULT_ITERS, show_default=True)
@click.option("--n", "n", type=click.IntRange(min=1), default=DEFAULT_N, show_default=True,
              help="Training points.")
@click.option("--noise", type=FiniteFloat(nonnegative=True), default=0.0, show_default=True,
              help="Standard deviation of the training noise.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of data and initialisation.")
@click.option("--lam", type=FiniteFloat(nonnegative=True), default=DEFAULT_LAM, show_default=True,
              help="Weight decay.")
@click.option("--beta", multiple=True, callback=_floats, default=("1.0",), metavar="B or B1,B2,...",
              show_default="1.0", help="Penalty: one value, or one per layer (--beta 1,2,1).")
@click.option("--curvature", type=click.Choice(["theory", "reference"]), default="theory", show_default=True)
@click.option("--curvature-factor", type=FiniteFloat(positive=True), default=2.0, show_default=True)
@click.option("--init", "init", default="msra", show_default=True)
@click.option("--init-scale", type=FiniteFloat(positive=True), default=DEFAULT_INIT_SCALE, show_default=True,
              help="Weight scale (the authors' demos use 8).")
@click.option("--track/--no-track", default=True, show_default=True, help="Compute KKT residuals.")
@click.option("--keep-best", is_flag=True, help="Keep the iterate with the smallest train error.")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Checkpoint file (.npz), saved every --checkpoint-every iterations.")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=DEFAULT_CHECKPOINT_EVERY,
              show_default=True)
@click.option("--resume", is_flag=True, help="Continue from --checkpoint.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("run.npz"),
              show_default=True, help="Trace file; the PNG of the panels goes next to it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def train(ctx, task, hidden, activation, iters, n, noise, seed, lam, beta, curvature, curvature_factor,
          init, init_scale, track, keep_best, checkpoint, checkpoint_every, resume, out, quiet):
    """Train a sigmoid net by ADMM (paper Algorithm 1) on a toy task; write trace and plots.

    Exit status: 0 done; 2 bad input; 130 interrupted (the partial trace is written, and with
    --checkpoint the run resumes with --resume).
    """
    import numpy as np

    from sigadmm.report import deferred_interrupts
    from solver import ADMM, tasks
    from solver._validation import check_output_path

    inapplicable(ctx, [("checkpoint_every", checkpoint is None, "without --checkpoint"),
                       ("resume", checkpoint is None, "without --checkpoint (nothing to resume from)")])
    try:
        path = check_output_path(out, "out", suffix=".npz")   # before any work
        data = tasks.make_task(task, n=n, noise=noise, seed=seed)
        model = ADMM(hidden_layer_sizes=hidden, activation=activation, lam=lam, beta=beta,
                     curvature=curvature, curvature_factor=curvature_factor, init=init,
                     init_scale=init_scale, max_iter=iters, random_state=seed, track=track,
                     keep_best=keep_best, verbose=int(not quiet), checkpoint=checkpoint,
                     checkpoint_every=checkpoint_every)
        model.fit(data.X, data.y, X_test=data.X_test, y_test=data.y_test, resume=resume)
    except ValueError as exc:
        raise option_error(exc, _OPTIONS) from None
    tr = model.trace_
    png = path.with_suffix(".png")
    with deferred_interrupts():  # a Ctrl-C now waits until both files are written
        path = tr.save(path)
        if len(tr):
            tr.plot(png)
    r = model.result_
    click.echo(f"task {task}  widths {tr.meta['widths']}  activation {tr.meta['activation']}  "
               f"curvature {curvature}  lam {lam:g}  beta {tr.meta['beta']}")
    click.echo(f"status: {r.message}")
    click.echo(f"iterations {model.n_iter_}  time {tr.time[-1] if len(tr) else 0.0:.2f} s")
    if len(tr):
        if np.any(np.isfinite(tr.train_mse)):  # not recorded without tracking
            k_best = int(np.nanargmin(tr.train_mse)) + 1
            click.echo(f"train MSE: initial {model.init_train_mse_:.3e}  final {tr.train_mse[-1]:.3e}  "
                       f"best {np.nanmin(tr.train_mse):.3e} (k = {k_best})")
        if np.any(np.isfinite(tr.test_mse)):
            click.echo(f"test MSE:  final {tr.test_mse[-1]:.3e}  best {np.nanmin(tr.test_mse):.3e}")
        if track and np.any(np.isfinite(tr.kkt_total)):
            click.echo(f"KKT residual: final {tr.kkt_total[-1]:.3e}  min {np.nanmin(tr.kkt_total):.3e}")
    click.echo(f"wrote {path} and {png if len(tr) else '(no plot: empty trace)'}")
    if str(r.status) == "interrupted":
        how = (f"resume with the same options and --resume (checkpoint {checkpoint})"
               if checkpoint is not None else "rerun with --checkpoint FILE to make a run resumable")
        click.echo(f"interrupted after {model.n_iter_} iterations: the partial trace is in {path}; "
                   f"{how}", err=True)
        sys.exit(130)
