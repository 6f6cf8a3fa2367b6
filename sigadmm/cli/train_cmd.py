"""``sigadmm train``: train a net by one of the lifted methods on a task of the paper or a data set.

``--method`` picks the method of :data:`solver.registry.METHODS` (default ``admm``, the paper's
sigmoid ADMM; ``dladmm``, ``lifted_bcd``, ``inexact_alm``: the related methods, docs/peers.md).
The ADMM options (``--beta``, ``--lam``, ``--curvature``, ...) apply to ``admm`` only; any
method's own parameters are given as ``--param NAME=VALUE`` (repeatable).  ``--task`` is a toy
task of :mod:`solver.tasks` or a data set of :func:`sigadmm.data.load_dataset` (classification
sets are fitted to one-hot targets, dlADMM with its cross-entropy, and scored by the argmax).

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

from solver.admm.defaults import ADMM_DEFAULTS

from ._common import (MAX_ITERS, TASK_NAMES, FiniteFloat, RegisteredMethod, SpaceSeparatedValues, explicit,
                      force_option, inapplicable, option_error, split_values)

#: the real data sets of :data:`sigadmm.data.DATASETS` (same reason, same test)
DATA_NAMES = ("digits", "breast_cancer", "diabetes", "mnist", "fashion_mnist")
#: the options of ADMM alone (refused with another --method)
ADMM_ONLY = ("lam", "beta", "curvature", "curvature_factor", "init", "init_scale", "activation")

#: library argument names -> this command's options (errors name the option)
_OPTIONS = {"hidden_layer_sizes": "--hidden", "activation": "--activation", "max_iter": "--iters",
            "n": "--n", "noise": "--noise", "seed": "--seed", "random_state": "--seed",
            "lam": "--lam", "beta": "--beta", "curvature": "--curvature",
            "curvature_factor": "--curvature-factor", "init": "--init", "init_scale": "--init-scale",
            "checkpoint": "--checkpoint", "checkpoint_every": "--checkpoint-every",
            "resume": "--resume", "out": "--out", "path": "--out", "y": "--noise"}

#: Defaults of the paper's experiments (docs/experiments.md#admm-and-baseline-settings).
DEFAULT_HIDDEN = ("100", "100")
DEFAULT_ITERS = 200
DEFAULT_N = 1000
DEFAULT_LAM = ADMM_DEFAULTS["lam"]
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


def parse_param(text):
    """``"NAME=VALUE"`` -> ``(NAME, value)``: ints, floats, true/false, none, comma lists, else text."""
    name, sep, raw = str(text).partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise click.BadParameter(f"expected NAME=VALUE (e.g. rho=1e-3), got {text!r}", param_hint="'--param'")

    def one(v):
        v = v.strip()
        low = v.lower()
        if low in ("true", "false"):
            return low == "true"
        if low in ("none", "null"):
            return None
        for conv in (int, float):
            try:
                return conv(v)
            except ValueError:
                pass
        return v

    vals = [one(v) for v in raw.split(",")] if "," in raw else [one(raw)]
    return name, (tuple(vals) if len(vals) > 1 else vals[0])


def _params(ctx, param, value):
    out = {}
    for item in value or ():
        k, v = parse_param(item)
        if k in out:
            raise click.BadParameter(f"{k} given twice", param_hint="'--param'")
        out[k] = v
    return out


@click.command("train", cls=_TrainCommand)
@click.option("--method", type=RegisteredMethod(), default="admm", show_default=True,
              help="Training method (docs/peers.md): the paper's sigmoid ADMM or a related method.")
@click.option("--task", type=click.Choice(TASK_NAMES + DATA_NAMES),
              default="square", show_default=True,
              help="Toy problem of the paper (solver.tasks) or a data set (sigadmm.data).")
@click.option("--hidden", multiple=True, callback=_ints, default=DEFAULT_HIDDEN, metavar="W1,W2,...",
              show_default="100,100",
              help="Hidden widths, input side first: --hidden 100,100 (or --hidden 100 --hidden 100).")
@click.option("--activation", default="sigmoid", show_default=True,
              help="sigmoid, tanh, gauss_cdf or arctan.")
@click.option("--iters", type=click.IntRange(1, MAX_ITERS), default=DEFAULT_ITERS, show_default=True)
@click.option("--n", "n", type=click.IntRange(min=1), default=DEFAULT_N,
              show_default=f"{DEFAULT_N} (toy tasks), all (data sets)",
              help="Training points of a toy task; rows of a data set (a seeded subset, 30% held out).")
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
@click.option("--param", "params", multiple=True, callback=_params, metavar="NAME=VALUE",
              help="A parameter of the method's estimator (repeatable): --param rho=1e-3 "
                   "--param hidden_layer_sizes=... is refused (use --hidden).")
@click.option("--data-path", type=click.Path(path_type=Path), default=None,
              help="Where a data set's files are (mnist: mnist_5k.csv.gz; fashion_mnist: the idx folder).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@force_option
@click.pass_context
def train(ctx, method, task, hidden, activation, iters, n, noise, seed, lam, beta, curvature,
          curvature_factor, init, init_scale, track, keep_best, checkpoint, checkpoint_every, resume,
          out, params, data_path, quiet, force):
    """Train a net by --method (default: the paper's sigmoid ADMM, Algorithm 1) on --task; write
    the trace and its plots.

    Exit status: 0 done; 1 the run stopped on a non-finite iterate (the message names the
    iteration; the finite iterations are written); 2 bad input, or a run this machine cannot
    hold (memory, time, disk: checked before any work; --force skips the memory and time
    estimates) or a write that failed (disk full); 130 interrupted (the partial trace is
    written, and with --checkpoint the run resumes with --resume).
    """
    import numpy as np  # noqa: PLC0415 - CLI: --help loads every subcommand module

    from sigadmm.report import deferred_interrupts  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from solver._validation import check_output_path  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from solver.checkpoint import checkpoint_path as checkpoint_path_of  # noqa: PLC0415 - CLI: --help loads every subcommand module

    is_data = task in DATA_NAMES
    inapplicable(ctx, [("checkpoint_every", checkpoint is None, "without --checkpoint"),
                       ("resume", checkpoint is None, "without --checkpoint (nothing to resume from)"),
                       ("noise", is_data, f"to the data set {task!r}"),
                       ("data_path", not is_data, f"to the toy task {task!r}")]
                 + [(o, method != "admm", f"to --method {method} (ADMM only; give the method's own "
                                          f"parameters as --param NAME=VALUE)") for o in ADMM_ONLY])
    shared = {"hidden_layer_sizes": "--hidden", "max_iter": "--iters", "random_state": "--seed",
              "verbose": "--quiet", "checkpoint": "--checkpoint", "checkpoint_every": "--checkpoint-every",
              "keep_best": "--keep-best", "track": "--track", "callback": "(none)"}
    clash = sorted(k for k in params if k in shared)
    if clash:
        raise click.BadParameter(f"{clash[0]} is set by {shared[clash[0]]}", param_hint="'--param'")
    try:
        # before any work, and before anything is created: names, resources, then the folders
        path = check_output_path(out, "out", suffix=".npz", create=False)
        _check_resources(method, task, hidden, iters, n if (not is_data or explicit(ctx, "n")) else None,
                         path, checkpoint, force)
        model, data = _model_and_data(method, task, hidden=hidden, activation=activation, iters=iters,
                                      n=(n if (not is_data or explicit(ctx, "n")) else None),
                                      noise=noise, seed=seed, lam=lam, beta=beta, curvature=curvature,
                                      curvature_factor=curvature_factor, init=init,
                                      init_scale=init_scale, track=track, keep_best=keep_best,
                                      quiet=quiet, checkpoint=checkpoint,
                                      checkpoint_every=checkpoint_every, params=params,
                                      data_path=data_path)
        # every parameter as fit checks it (the init scheme included) and the checkpoint to
        # resume from, before the output's folder or the checkpoint's lock is created
        model.check_params(data.X.shape[1], 1 if data.y.ndim == 1 else data.y.shape[1])
        if resume and not checkpoint_path_of(checkpoint).is_file():
            raise ValueError(f"checkpoint: no checkpoint file at {str(checkpoint_path_of(checkpoint))!r} "
                             "to resume from")
        path = check_output_path(out, "out", suffix=".npz")
        model.fit(data.X, data.y, X_test=data.X_test, y_test=data.y_test, resume=resume)
    except ValueError as exc:
        from sigadmm._resources import ResourceError  # noqa: PLC0415 - CLI: --help loads every subcommand module

        if isinstance(exc, ResourceError):  # its message starts with the option
            raise
        msg = str(exc)
        if msg.startswith("params:") or msg.split(":", 1)[0] in params:
            raise click.BadParameter(" ".join(msg.split()), param_hint="'--param'") from None
        raise option_error(exc, _OPTIONS) from None
    tr = model.trace_
    png = path.with_suffix(".png")
    with deferred_interrupts():  # a Ctrl-C now waits until both files are written
        path = tr.save(path)
        if len(tr):
            if method == "admm":
                tr.plot(png)
            else:
                from sigadmm.peers import plot_trace  # noqa: PLC0415 - CLI: --help loads every subcommand module

                plot_trace(method, tr).savefig(png, dpi=110)
    r = model.result_
    if method == "admm":
        click.echo(f"task {task}  widths {tr.meta['widths']}  activation {tr.meta['activation']}  "
                   f"curvature {curvature}  lam {lam:g}  beta {tr.meta['beta']}")
    else:
        own = {k: v for k, v in model.get_params().items()
               if k not in shared and k not in ("init", "init_scale")}
        click.echo(f"method {method}  task {task}  widths {tr.meta['widths']}  "
                   + "  ".join(f"{k} {v}" for k, v in sorted(own.items())))
    click.echo(f"status: {r.message}")
    click.echo(f"iterations {model.n_iter_}  time {tr.time[-1] if len(tr) else 0.0:.2f} s")
    if len(tr):
        if np.any(np.isfinite(tr.train_mse)):  # not recorded without tracking
            k_best = int(np.nanargmin(tr.train_mse)) + 1
            click.echo(f"train MSE: initial {model.init_train_mse_:.3e}  final {tr.train_mse[-1]:.3e}  "
                       f"best {np.nanmin(tr.train_mse):.3e} (k = {k_best})")
        if np.any(np.isfinite(tr.test_mse)):
            click.echo(f"test MSE:  final {tr.test_mse[-1]:.3e}  best {np.nanmin(tr.test_mse):.3e}")
        kkt = getattr(tr, "kkt_total", None) if "kkt_total" in tr.schema else None
        if track and kkt is not None and np.any(np.isfinite(kkt)):
            click.echo(f"KKT residual: final {kkt[-1]:.3e}  min {np.nanmin(kkt):.3e}")
        if data.kind == "classification":
            acc = [float(np.mean(np.argmax(model.predict(Xs), axis=1) == lab))
                   for Xs, lab in ((data.X, data.labels), (data.X_test, data.labels_test))]
            click.echo(f"accuracy (argmax of the output): train {acc[0]:.4f}  test {acc[1]:.4f}")
    click.echo(f"wrote {path} and {png if len(tr) else '(no plot: empty trace)'}")
    if str(r.status) == "non_finite":
        click.echo(f"Error: the run is not finite: {r.message}; the finite iterations are in "
                   f"{path}", err=True)
        sys.exit(1)
    if str(r.status) == "interrupted":
        how = (f"resume with the same options and --resume (checkpoint {checkpoint})"
               if checkpoint is not None else "rerun with --checkpoint FILE to make a run resumable")
        click.echo(f"interrupted after {model.n_iter_} iterations: the partial trace is in {path}; "
                   f"{how}", err=True)
        sys.exit(130)


def _check_resources(method, task, hidden, iters, n, path, checkpoint, force):
    """Before any work (sigadmm._resources): the output and checkpoint are distinct files,
    memory and time fit, and the disk holds the trace, its PNG and the checkpoint."""
    from sigadmm import _resources as R  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from solver._validation import check_output_path  # noqa: PLC0415 - CLI: --help loads every subcommand module

    ck = None
    if checkpoint is not None:
        try:
            ck = check_output_path(checkpoint, "checkpoint", suffix=".npz", create=False)
        except ValueError as exc:
            raise click.BadParameter(" ".join(str(exc).split()), param_hint="'--checkpoint'") from None
    R.check_distinct([(path, "--out"), (path.with_suffix(".png"), "--out (its PNG)"),
                      (ck, "--checkpoint")])
    d_in, d_out, rows = _task_shape(task)
    n_train = int(n) if n is not None else rows
    if task in DATA_NAMES:
        n_train, n_test = min(n_train, rows), 0
    else:
        n_test = n_train
    widths = (d_in, *hidden, d_out)
    parts = R.check_net_run(widths, n_train, n_test, iters, width_option="--hidden",
                            force=force, what=f"training widths {widths} on {n_train} points for "
                                              f"{iters} iterations")
    trace = parts["trace"]
    needs = [(path, trace + 400_000, "--out")]  # the compressed trace (at most) and the PNG
    if ck is not None:
        needs.append((ck, parts["weights"] + parts["lifted"] / 2 + trace, "--checkpoint"))
    R.check_disk(needs)


def _task_shape(task):
    """(input dimension, output dimension, rows) of a toy task or a data set (an upper bound
    on the rows of a data set; a toy task's rows are --n)."""
    if task in DATA_NAMES:
        return {"digits": (64, 10, 1797), "breast_cancer": (30, 2, 569), "diabetes": (10, 1, 442),
                "mnist": (784, 10, 5000), "fashion_mnist": (784, 10, 70000)}[task]
    from solver import tasks  # noqa: PLC0415 - CLI: --help loads every subcommand module

    return tasks._DEFS[task][1], 1, DEFAULT_N


def _model_and_data(method, task, *, hidden, activation, iters, n, noise, seed, lam, beta, curvature,
                    curvature_factor, init, init_scale, track, keep_best, quiet, checkpoint,
                    checkpoint_every, params, data_path):
    """The unfitted estimator and the data (:class:`sigadmm.peers.TaskData`) of a train run."""
    from sigadmm import peers  # noqa: PLC0415 - CLI: --help loads every subcommand module

    if task in DATA_NAMES:
        data = peers.load_task(task, seed, n=n, path=data_path)
    else:
        from solver import tasks  # noqa: PLC0415 - CLI: --help loads every subcommand module

        t = tasks.make_task(task, n=n, noise=noise, seed=seed)
        data = peers.TaskData(task, "regression", t.X, t.y, t.X_test, t.y_test, None, None, None,
                              f"solver.tasks.make_task({task!r}, n={n}, noise={noise}, seed={seed})")
    if method == "admm":
        from solver import ADMM  # noqa: PLC0415 - CLI: --help loads every subcommand module

        model = ADMM(hidden_layer_sizes=hidden, activation=activation, lam=lam, beta=beta,
                     curvature=curvature, curvature_factor=curvature_factor, init=init,
                     init_scale=init_scale, max_iter=iters, random_state=seed, track=track,
                     keep_best=keep_best, verbose=int(not quiet), checkpoint=checkpoint,
                     checkpoint_every=checkpoint_every)
        if params:
            unknown = sorted(set(params) - set(model.get_params()))
            if unknown:
                raise ValueError(f"params: admm has no parameter(s) {unknown}; its parameters are "
                                 f"{sorted(model.get_params())}")
            model.set_params(**params)
        return model, data
    model = peers.make_estimator(method, hidden_layer_sizes=hidden, max_iter=iters, random_state=seed,
                                 classification=data.kind == "classification", **params)
    extra = {"verbose": int(not quiet), "keep_best": keep_best, "checkpoint": checkpoint,
             "checkpoint_every": checkpoint_every, "track": track}
    model.set_params(**{k: v for k, v in extra.items() if k in model.get_params()})
    return model, data
