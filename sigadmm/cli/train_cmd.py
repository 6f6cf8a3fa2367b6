"""``sigadmm train``: train a sigmoid net by ADMM on one of the paper's tasks.

Shows a progress bar (iteration, train error, KKT residual), prints a summary, writes the
trace (``.npz``) and a PNG of the standard panels next to it.
"""

from __future__ import annotations

from pathlib import Path

import click


class _GreedyOption(click.Option):
    """An option taking one or more values: ``--hidden 100 100``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._previous_process = None

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        our = None
        for name in self.opts:
            our = parser._long_opt.get(name) or parser._short_opt.get(name)
            if our:
                break
        if our is None:  # pragma: no cover - click internals changed
            return
        prev = our.process
        prefixes = getattr(parser, "_opt_prefixes", {"-", "--"})

        def process(value, state):
            vals = [value]
            while state.rargs and not any(state.rargs[0].startswith(p) for p in prefixes):
                vals.append(state.rargs.pop(0))
            prev(tuple(vals), state)

        our.process = process


def _flat(value):
    vals = value if isinstance(value, (tuple, list)) else (value,)
    while len(vals) == 1 and isinstance(vals[0], (tuple, list)):
        vals = tuple(vals[0])
    return vals


def _ints(ctx, param, value):
    if value is None:
        return None
    vals = _flat(value)
    try:
        out = tuple(int(v) for v in vals)
    except ValueError:
        raise click.BadParameter(f"expected positive integers, got {' '.join(map(str, vals))}") from None
    if not out or min(out) < 1:
        raise click.BadParameter(f"expected positive integers, got {' '.join(map(str, vals))}")
    return out


def _floats(ctx, param, value):
    if value is None:
        return None
    vals = _flat(value)
    try:
        out = tuple(float(v) for v in vals)
    except ValueError:
        raise click.BadParameter(f"expected numbers, got {' '.join(map(str, vals))}") from None
    return out[0] if len(out) == 1 else out


@click.command("train")
@click.option("--task", type=click.Choice(["square", "product", "radial", "smooth_radial"]),
              default="square", show_default=True, help="Toy problem of the paper (solver.tasks).")
@click.option("--hidden", cls=_GreedyOption, type=click.UNPROCESSED, callback=_ints, default=("100", "100"),
              show_default="100 100", help="Hidden widths, e.g. --hidden 100 100.")
@click.option("--activation", default="sigmoid", show_default=True,
              help="sigmoid, tanh, gauss_cdf or arctan.")
@click.option("--iters", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--n", "n", type=click.IntRange(min=1), default=1000, show_default=True, help="Training points.")
@click.option("--noise", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Standard deviation of the training noise.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of data and initialisation.")
@click.option("--lam", type=float, default=1e-6, show_default=True)
@click.option("--beta", cls=_GreedyOption, type=click.UNPROCESSED, callback=_floats, default=("1.0",), show_default="1.0",
              help="Penalty: one value or one per layer.")
@click.option("--curvature", type=click.Choice(["theory", "reference"]), default="theory", show_default=True)
@click.option("--curvature-factor", type=float, default=2.0, show_default=True)
@click.option("--init", "init", default="msra", show_default=True)
@click.option("--init-scale", type=float, default=8.0, show_default=True,
              help="Weight scale (the authors' demos use 8).")
@click.option("--track/--no-track", default=True, show_default=True, help="Compute KKT residuals.")
@click.option("--keep-best", is_flag=True, help="Keep the iterate with the smallest train error.")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Checkpoint file (.npz), saved every --checkpoint-every iterations.")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from --checkpoint.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("run.npz"),
              show_default=True, help="Trace file; the PNG of the panels goes next to it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(task, hidden, activation, iters, n, noise, seed, lam, beta, curvature, curvature_factor,
          init, init_scale, track, keep_best, checkpoint, checkpoint_every, resume, out, quiet):
    """Train a sigmoid net by ADMM (paper Algorithm 1) on a toy task; write trace and plots."""
    import numpy as np

    from solver import ADMM, tasks

    data = tasks.make_task(task, n=n, noise=noise, seed=seed)
    model = ADMM(hidden_layer_sizes=hidden, activation=activation, lam=lam, beta=beta,
                 curvature=curvature, curvature_factor=curvature_factor, init=init,
                 init_scale=init_scale, max_iter=iters, random_state=seed, track=track, keep_best=keep_best,
                 verbose=int(not quiet), checkpoint=checkpoint, checkpoint_every=checkpoint_every)
    try:
        model.fit(data.X, data.y, X_test=data.X_test, y_test=data.y_test, resume=resume)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    tr = model.trace_
    path = tr.save(out)
    png = path.with_suffix(".png")
    if len(tr):
        tr.plot(png)
    r = model.result_
    k_best = int(np.nanargmin(tr.train_mse)) + 1 if len(tr) and np.any(np.isfinite(tr.train_mse)) else 0
    click.echo(f"task {task}  widths {tr.meta['widths']}  activation {tr.meta['activation']}  "
               f"curvature {curvature}  lam {lam:g}  beta {tr.meta['beta']}")
    click.echo(f"status: {r.message}")
    click.echo(f"iterations {model.n_iter_}  time {tr.time[-1] if len(tr) else 0.0:.2f} s")
    if len(tr):
        click.echo(f"train MSE: initial {model.init_train_mse_:.3e}  final {tr.train_mse[-1]:.3e}  "
                   f"best {np.nanmin(tr.train_mse):.3e} (k = {k_best})")
        click.echo(f"test MSE:  final {tr.test_mse[-1]:.3e}  best {np.nanmin(tr.test_mse):.3e}")
        if track:
            click.echo(f"KKT residual: final {tr.kkt_total[-1]:.3e}  min {np.nanmin(tr.kkt_total):.3e}")
    click.echo(f"wrote {path} and {png if len(tr) else '(no plot: empty trace)'}")
