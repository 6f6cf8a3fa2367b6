"""``sigadmm verify``: train one run (or load a saved trace) and print the convergence checks."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import NamedTuple

import click

from solver.admm.defaults import ADMM_DEFAULTS
from theory.verdicts import EXIT_CODE, worst

from ._common import TASK_NAMES, FiniteFloat, force_option, inapplicable

#: Defaults of a checked run: small enough to finish in seconds.
DEFAULT_DEPTH, DEFAULT_WIDTH, DEFAULT_N, DEFAULT_ITERS = 2, 10, 100, 300


@click.command("verify")
@click.option("--trace", "trace_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Check a saved trace (.npz) instead of training.")
@click.option("--task", default="square", show_default=True,
              type=click.Choice(TASK_NAMES))
@click.option("--activation", default="sigmoid", show_default=True)
@click.option("--depth", default=DEFAULT_DEPTH, show_default=True, type=click.IntRange(1, 20),
              help="Number of hidden layers.")
@click.option("--width", default=DEFAULT_WIDTH, show_default=True, type=click.IntRange(1, 10000))
@click.option("--n", "n", default=DEFAULT_N, show_default=True, type=click.IntRange(1))
@click.option("--beta", default=1.0, show_default=True, type=FiniteFloat(positive=True),
              help="Penalty on every layer (ignored with --schedule).")
@click.option("--lam", default=ADMM_DEFAULTS["lam"], show_default=True, type=FiniteFloat(nonnegative=True))
@click.option("--schedule", is_flag=True,
              help="Use verify.conditions' schedule (derived for depth 1 and 2) instead of --beta.")
@click.option("--curvature", default="theory", show_default=True,
              type=click.Choice(["theory", "reference"]))
@click.option("--init", default="lecun_normal", show_default=True)
@click.option("--iters", default=DEFAULT_ITERS, show_default=True, type=click.IntRange(2))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--squared", is_flag=True, hidden=True,
              help="Deprecated (kkt_rate now always tests the proof's sum of r_k^2).")
@click.option("--xi", "xi", type=FiniteFloat(nonnegative=True), multiple=True,
              help="Lyapunov weight(s) for sufficient_descent: one value (every layer) or one per "
                   "layer (repeat the option). Without it the constants come from --schedule or "
                   "the a-posteriori certificate, else the check is INCONCLUSIVE.")
@click.option("--a", "a", type=FiniteFloat(positive=True), default=None,
              help="Descent constant a > 0 that sufficient_descent requires (with --xi).")
@click.option("--a0", "a0", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Data constant ||[X; 1]||_2 of the run (Lemma 21's a-posteriori b) for a saved "
                   "--trace; a trained run uses its own data.")
@click.option("--engine", default="numpy", show_default=True,
              type=click.Choice(["numba", "numpy", "reference"]))
@force_option
@click.pass_context
def verify(ctx, trace_path, task, activation, depth, width, n, beta, lam, schedule, curvature, init,
           iters, seed, squared, xi, a, a0, engine, force):
    """Run the checks of Theorem 4 on one ADMM run.

    Exit status: 0 every check PASS on a validated trace, 1 a check FAILs (or the run stopped
    on a non-finite iterate: the check "the run is finite" failed), 2 bad input, a bad trace (a
    file that cannot be read, or fields that contradict each other: verify.validate_trace) or a
    run this machine cannot hold (memory, time: --force skips the estimates), 3 no FAIL but a
    check is
    INCONCLUSIVE (its reason is printed: run too short, constants unknown, below the rounding
    floor, or a block float64 cannot resolve)."""
    from verify.checks import format_table  # noqa: PLC0415 - CLI: --help loads every subcommand module

    _check_options(ctx, trace_path, xi, schedule, depth)
    if trace_path is None:
        _check_resources(task, depth, width, n, iters, force)
        run = _train(task, activation, depth, width, n, beta, lam, schedule, curvature, init,
                     iters, seed, engine)
    else:
        run = _load(trace_path, activation, xi)
    click.echo(run.header)
    from verify.integrity import validate_trace  # noqa: PLC0415 - CLI: --help loads every subcommand module

    validate_trace(run.trace)   # TraceIntegrityError is a ValueError: one "Error:" line, exit 2 (cli)
    res = _checks(run, xi, a, a0)
    click.echo(format_table(res))
    _exit(run, res)


class _CheckedRun(NamedTuple):
    """The trace to check and what the checks take from its run: the header line, the derived
    conditions (``--schedule``), the training data, the fit's result (None for ``--trace``)."""

    trace: object
    header: str
    conditions: object = None
    X: object = None
    result: object = None

    @property
    def interrupted(self) -> bool:
        return self.result is not None and str(self.result.status) == "interrupted"


def _check_options(ctx, trace_path, xi, schedule, depth):
    """Every option before any work: ``--a`` belongs to ``--xi`` (or ``--schedule``'s
    constants), a saved trace takes none of the training options, and ``--xi`` has one value
    or one per layer (depth hidden layers + the output layer)."""
    inapplicable(ctx, [("a", not xi and not schedule,
                        "without --xi (or --schedule): the descent constant goes with fixed xi")])
    # a saved trace is checked as recorded: the options of the training run would be ignored
    inapplicable(ctx, [(name, trace_path is not None, "with --trace (they set up a training run; "
                        "the trace records its own settings)")
                       for name in ("task", "depth", "width", "n", "beta", "lam", "schedule",
                                    "curvature", "init", "iters", "seed", "engine", "force")])
    if trace_path is None and len(xi) not in (0, 1, depth + 1):
        raise click.BadParameter(f"expected one value or {depth + 1} (one per layer: --depth "
                                 f"{depth} hidden layers and the output), got {len(xi)}",
                                 param_hint="'--xi'")


def _check_resources(task, depth, width, n, iters, force):
    """Refuse a training run this machine cannot hold (memory, time; ``--force`` skips it)."""
    from sigadmm import _resources as R  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from solver import tasks as _tasks  # noqa: PLC0415 - CLI: --help loads every subcommand module

    d_in = _tasks._DEFS[task][1]
    R.check_net_run((d_in, *(width,) * depth, 1), n, 0, iters, width_option="--width",
                    force=force, what=f"a run of depth {depth}, width {width} on {n} points "
                                      f"for {iters} iterations")


def _load(trace_path, activation, xi) -> _CheckedRun:
    """A saved trace, checked as recorded: a regular file, its stored activation agreeing with
    ``--activation`` when given, ``--xi`` one value or one per layer of the trace."""
    from solver import Trace  # noqa: PLC0415 - CLI: --help loads every subcommand module

    if not Path(trace_path).is_file():  # /dev/zero would be read for ever
        raise click.BadParameter(f"{trace_path!r} is not a regular file", param_hint="'--trace'")
    tr = Trace.load(trace_path)   # a bad file: ValueError -> one "Error:" line, exit 2 (cli)
    given = click.get_current_context().get_parameter_source("activation").name != "DEFAULT"
    if given or "activation" in (tr.meta or {}):
        from verify.conditions import trace_activation  # noqa: PLC0415 - CLI: --help loads every subcommand module

        try:   # the stored (name, expression) pair, and --activation when given, must agree
            trace_activation(tr, activation if given else None)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--activation" if given else "--trace") from exc
    if len(xi) not in (0, 1, tr.n_layers):
        raise click.BadParameter(f"expected one value or {tr.n_layers} (one per layer of the "
                                 f"trace), got {len(xi)}", param_hint="'--xi'")
    return _CheckedRun(tr, f"trace {trace_path}: {len(tr)} iterations, settings "
                           f"{tr.meta.get('activation')}")


def _train(task, activation, depth, width, n, beta, lam, schedule, curvature, init, iters,
           seed, engine) -> _CheckedRun:
    """Train the run to check: ADMM on the task with ``--beta`` on every layer, or with the
    schedule derived from the data (``--schedule``, verify.conditions); a non-finite run exits
    1 (the check "the run is finite" failed)."""
    from solver import ADMM, init_weights, tasks  # noqa: PLC0415 - CLI: --help loads every subcommand module

    from verify import conditions  # noqa: PLC0415 - CLI: --help loads every subcommand module

    c = None
    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    widths = (t.X.shape[1],) + (width,) * depth + (1,)
    w0 = init_weights(widths, init, 1.0, seed)
    kw = {"beta": beta, "lam": lam, "curvature": curvature, "activation": activation}
    if schedule:
        c = conditions.derive_from_data(depth, activation, X=t.X, y=t.y, init_weights=w0,
                                        lam=lam if lam > 0 else 1.0)
        kw = c.kwargs
        click.echo(str(c))
    try:
        m = ADMM(hidden_layer_sizes=(width,) * depth, max_iter=iters, random_state=seed,
                 verbose=0, engine=engine, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(t.X, t.y, init_weights=w0)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    tr = m.trace_
    if str(m.result_.status) == "non_finite":
        click.echo(f"Error: the run is not finite: {m.result_.message}", err=True)
        sys.exit(1)
    header = (f"{task}, n={n}, activation={getattr(kw['activation'], 'name', kw['activation'])}, depth={depth}, width={width}, "
              f"beta={kw['beta']}, lam={kw['lam']:g}, curvature={kw['curvature']}, "
              f"{len(tr)} iterations ({tr.meta.get('status', '?')})")
    return _CheckedRun(tr, header, c, t.X, m.result_)


def _checks(run: _CheckedRun, xi, a, a0):
    """The checks of Theorem 4 (verify.run_checks), the derived conditions and the data
    constant given once to every check that takes them; with derived constants, the rate
    certificate too.  A run too short to check is a usage error (exit 2), or 130 when Ctrl-C
    cut it short."""
    from verify.checks import run_checks  # noqa: PLC0415 - CLI: --help loads every subcommand module

    c, tr = run.conditions, run.trace
    try:
        xi_opt = (xi[0] if len(xi) == 1 else list(xi)) if xi else None
        # the conditions and the data constant go once to every check that takes them
        shared = ({"conditions": c, "X": run.X} if run.result is not None else {}) | {"a0": a0}
        res = run_checks(tr, sufficient_descent={"xi": xi_opt, "a": a}, **shared)
        if c is not None and c.b is not None and c.margin is not None:
            from verify.checks import rate_certificate  # noqa: PLC0415 - CLI: --help loads every subcommand module

            # the proof's chain with the derived constants: its slack says how much it says
            res["rate_certificate"] = rate_certificate(tr, conditions=c)
    except ValueError as exc:
        if run.interrupted:
            # Ctrl-C before the checks had enough iterations (e.g. in the first one): still 130,
            # not a usage error (issue 27: the thorough fuzz found exit 2 here)
            click.echo(f"Interrupted: {run.result.message}; the {len(tr)} iteration(s) before it "
                       f"cannot be checked ({' '.join(str(exc).split())})", err=True)
            sys.exit(130)
        raise click.UsageError(" ".join(str(exc).split())) from None
    return res


def _exit(run: _CheckedRun, res):
    """The exit status: 130 for a run cut by Ctrl-C (whatever its partial checks say), else
    the worst verdict's code (theory.verdicts.EXIT_CODE)."""
    if run.interrupted:
        # the exit status contract: 130 for Ctrl-C, whatever the partial run's checks say (they
        # judge only the iterations before it; issue 27's fuzzing found exit 1 here)
        click.echo(f"Interrupted: {run.result.message}; the checks above judge the "
                   f"{len(run.trace)} iterations before it", err=True)
        sys.exit(130)  # EXIT_INTERRUPTED of sigadmm.cli (as train_cmd)
    sys.exit(EXIT_CODE[worst(r.verdict for r in res.values())])
