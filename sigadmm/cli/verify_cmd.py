"""``sigadmm verify``: train one run (or load a saved trace) and print the convergence checks."""

from __future__ import annotations

import sys
import warnings

import click

from solver.admm.defaults import ADMM_DEFAULTS

from ._common import TASK_NAMES, FiniteFloat, force_option

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
    from sigadmm.cli._common import inapplicable  # noqa: PLC0415 - CLI: --help loads every subcommand module

    from verify.checks import format_table, run_checks  # noqa: PLC0415 - CLI: --help loads every subcommand module

    c = None
    # every option before any work: --a belongs to --xi (or --schedule's constants), and --xi
    # has one value or one per layer (depth hidden layers + the output layer)
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
    if trace_path is None:
        from sigadmm import _resources as R  # noqa: PLC0415 - CLI: --help loads every subcommand module
        from solver import tasks as _tasks  # noqa: PLC0415 - CLI: --help loads every subcommand module

        d_in = _tasks._DEFS[task][1]
        R.check_net_run((d_in, *(width,) * depth, 1), n, 0, iters, width_option="--width",
                        force=force, what=f"a run of depth {depth}, width {width} on {n} points "
                                          f"for {iters} iterations")
    if trace_path is not None:
        from pathlib import Path  # noqa: PLC0415 - CLI: --help loads every subcommand module

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
        header = f"trace {trace_path}: {len(tr)} iterations, settings {tr.meta.get('activation')}"
    else:
        from solver import ADMM, init_weights, tasks  # noqa: PLC0415 - CLI: --help loads every subcommand module

        from verify import conditions  # noqa: PLC0415 - CLI: --help loads every subcommand module

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
    click.echo(header)
    from verify.integrity import validate_trace  # noqa: PLC0415 - CLI: --help loads every subcommand module

    validate_trace(tr)   # TraceIntegrityError is a ValueError: one "Error:" line, exit 2 (cli)
    try:
        xi_opt = (xi[0] if len(xi) == 1 else list(xi)) if xi else None
        # the conditions and the data constant go once to every check that takes them
        shared = ({"conditions": c, "X": t.X} if trace_path is None else {}) | {"a0": a0}
        res = run_checks(tr, sufficient_descent={"xi": xi_opt, "a": a}, **shared)
        if c is not None and c.b is not None and c.margin is not None:
            from verify.checks import rate_certificate  # noqa: PLC0415 - CLI: --help loads every subcommand module

            # the proof's chain with the derived constants: its slack says how much it says
            res["rate_certificate"] = rate_certificate(tr, conditions=c)
    except ValueError as exc:
        if trace_path is None and str(m.result_.status) == "interrupted":
            # Ctrl-C before the checks had enough iterations (e.g. in the first one): still 130,
            # not a usage error (issue 27: the thorough fuzz found exit 2 here)
            click.echo(f"Interrupted: {m.result_.message}; the {len(tr)} iteration(s) before it "
                       f"cannot be checked ({' '.join(str(exc).split())})", err=True)
            sys.exit(130)
        raise click.UsageError(" ".join(str(exc).split())) from None
    click.echo(format_table(res))
    if trace_path is None and str(m.result_.status) == "interrupted":
        # the exit status contract: 130 for Ctrl-C, whatever the partial run's checks say (they
        # judge only the iterations before it; issue 27's fuzzing found exit 1 here)
        click.echo(f"Interrupted: {m.result_.message}; the checks above judge the "
                   f"{len(tr)} iterations before it", err=True)
        sys.exit(130)  # EXIT_INTERRUPTED of sigadmm.cli (as train_cmd)
    from theory.verdicts import EXIT_CODE, worst  # noqa: PLC0415 - CLI: --help loads every subcommand module

    sys.exit(EXIT_CODE[worst(r.verdict for r in res.values())])
