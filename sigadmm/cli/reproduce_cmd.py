"""``sigadmm reproduce``: the paper's claims against this machine, as one report.

    sigadmm reproduce --quick --out reports/quick             # make demo
    sigadmm reproduce --full --out reports/full --scheduler tcp://host:8786
    sigadmm reproduce --sweep grid.json --out runs/lam-beta   # any grid as a Dask sweep
    sigadmm reproduce --from-results docs/results/paper       # the report of a results set, no computing

The run caches every trial under ``OUT/sweeps``: run the same command again after an
interruption and only the missing trials are computed.  The report is written only when
every part has finished; Ctrl-C leaves the previous report untouched, writes
``OUT/reproduce.partial.json`` (what finished, the resume command), prints how to resume and
exits 130.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from solver._json import loads_json

from ._common import explicit, inapplicable

#: the settings an axis of a ``--sweep`` grid may name (those :func:`sigadmm.trials.experiment_trial` reads)
SWEEP_SETTINGS = ("task", "method", "depth", "width", "n", "n_test", "noise", "lam", "beta", "init",
                  "iters", "epochs", "init_scale", "target", "threads")

#: :data:`sigadmm.reproduce.PARTS`, spelled out so that ``--help`` needs no solver import
#: (tests/test_reproduce_pipeline.py keeps the two equal).
PARTS = ("certify", "tables", "frozen", "convergence", "saturation")


@click.command("reproduce")
@click.option("--quick", "mode", flag_value="quick", default=True,
              help="Reduced sizes (3 trials, short runs) [default].")
@click.option("--full", "mode", flag_value="full",
              help="The paper's sizes (20 trials, 2000 epochs / iterations): hours.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default reports/<mode>).")
@click.option("--scheduler", default=None, metavar="ADDR",
              help="Dask scheduler: 'local' (a LocalCluster, default), 'synchronous' (no Dask), "
                   "or an address such as tcp://host:8786.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Workers of the LocalCluster (default: all cores).")
@click.option("--trials", type=click.IntRange(1), default=None, help="Override trials per cell.")
@click.option("--tasks", default=None, metavar="T1,T2",
              help="Override the tasks: square, product, radial, smooth_radial.")
@click.option("--only", "parts", default=None, metavar="P1,P2",
              help=f"Run only these parts: {', '.join(PARTS)}.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "both"]), default="both",
              show_default=True, help="Report format(s).")
@click.option("--sweep", "sweep_spec", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Instead of the report: run a sweep from a JSON file "
                   '{"axes": {"task": ["square"], "method": ["admm_sigmoid"], "depth": [1, 2], ...}, '
                   '"trials": 20}; unspecified settings take the mode\'s defaults.')
@click.option("--from-results", "from_results", type=click.Path(file_okay=False), default=None,
              metavar="DIR",
              help="Instead of running: build the report of the results set DIR (written by "
                   "python -m sigadmm.results) from its tables alone, into OUT (default DIR/report).")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.pass_context
def reproduce(ctx, mode, out, scheduler, workers, trials, tasks, parts, fmt, sweep_spec, from_results,
              no_progress):
    """Reproduce the paper: certification table, Tables 3-6 (ADMM vs SGD/Adam baselines),
    convergence checks and saturation study; writes OUT/report.md and OUT/report.html.

    Exit status: 0 report written; 2 bad input; 130 interrupted (no report written, the
    previous one untouched; finished trials cached; run the same command to resume)."""
    from sigadmm import reproduce as R  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from solver._validation import check_output_path  # noqa: PLC0415 - CLI: --help loads every subcommand module

    if from_results is not None:
        why = "with --from-results (the report is built from the results set, nothing is run)"
        inapplicable(ctx, [(name, True, why) for name in ("scheduler", "workers", "trials", "tasks",
                                                           "parts", "sweep_spec")])
        if explicit(ctx, "mode") and ctx.params["mode"] == "full":  # --quick and --full share "mode"
            raise click.UsageError(f"--full: does not apply {why}")
        _from_results(Path(from_results), out, fmt)
        return
    remote = scheduler is not None and scheduler not in ("local",)
    inapplicable(ctx, [("workers", remote, f"with --scheduler {scheduler} (only to the local cluster)"),
                       ("parts", sweep_spec is not None, "with --sweep (a sweep has no parts)"),
                       ("fmt", sweep_spec is not None, "with --sweep (a sweep writes a table, no report)")])

    if scheduler is not None and scheduler not in ("local", "synchronous") and not scheduler.startswith(
            ("tcp://", "tls://", "inproc://", "ws://", "wss://")):
        raise click.BadParameter(f"expected 'local', 'synchronous' or an address such as "
                                 f"tcp://host:8786, got {scheduler!r}", param_hint="--scheduler")
    cfg = R.get_config(mode)
    if trials is not None:
        cfg = cfg.replace(trials=trials)
    if tasks is not None:
        try:
            cfg = cfg.replace(tasks=tuple(t.strip() for t in tasks.split(",") if t.strip()))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--tasks") from exc
    sel = None
    if parts is not None:
        sel = tuple(p.strip() for p in parts.split(",") if p.strip())
        bad = [p for p in sel if p not in PARTS]
        if bad or not sel:
            raise click.BadParameter(f"expected a comma-separated subset of {', '.join(PARTS)}, "
                                     f"got {parts!r}", param_hint="--only")
    out = Path(out) if out is not None else Path("reports") / mode
    try:
        # before any work, creating nothing (a later check may still refuse)
        check_output_path(out / ("summary.csv" if sweep_spec else "report.md"), "out", create=False)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    if sweep_spec is not None:
        _run_sweep_spec(ctx, R, cfg, Path(sweep_spec), out, scheduler, workers, not no_progress)
        return
    from sigadmm import _resources  # noqa: PLC0415 - CLI: --help loads every subcommand module

    # the report, its figures and the trial caches: ~0.1 MB for certify, ~1.5 MB per other part,
    # and a cache line (~3 kB) per trial of the tables
    n_parts = len([p for p in (sel or PARTS) if p != "certify"])
    table_pts = ([R.experiment_settings(cfg, t, m) for t in cfg.tasks for m in cfg.methods]
                 if "tables" in (sel or PARTS) else [])
    _check_trials(table_pts, cfg.trials, "--trials", "the tables' trials")
    _resources.check_disk([(out / "report.md", 1e5 + 1.5e6 * n_parts + 3e3 * len(table_pts) * cfg.trials,
                            "--out")])
    formats = ("md", "html") if fmt == "both" else (fmt,)
    try:
        res = R.reproduce(mode, out, config=cfg, scheduler=scheduler, n_workers=workers,
                          formats=formats, parts=sel, progress=not no_progress,
                          log=lambda m: click.echo(m, err=True), command=command_line(ctx))
    except R.ReproductionInterrupted as exc:
        click.echo(f"\n{exc}", err=True)
        sys.exit(130)
    from sigadmm.report import verdict_summary  # noqa: PLC0415 - CLI: --help loads every subcommand module

    # every verdict counted, zeros included (the report's summary line says the same)
    click.echo(f"{verdict_summary(res.claims)}; {res.seconds:.0f} s; "
               f"report: {res.paths.get('md') or res.paths.get('html')}")


def _from_results(results: Path, out, fmt):
    """``--from-results``: the report of a results set (sigadmm.results_report.build_report)."""
    from sigadmm.report import verdict_summary  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from sigadmm.results import PLAN_FILE  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from solver._validation import check_output_path  # noqa: PLC0415 - CLI: --help loads every subcommand module

    if not (results / PLAN_FILE).is_file():
        raise click.BadParameter(f"{str(results)!r} is not a results set (no {PLAN_FILE}); write one "
                                 "with python -m sigadmm.results DIR", param_hint="--from-results")
    out = Path(out) if out is not None else results / "report"
    try:
        check_output_path(out / "report.md", "out", create=False)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    from sigadmm import _resources  # noqa: PLC0415 - CLI: --help loads every subcommand module
    from sigadmm.results_report import build_report  # noqa: PLC0415 - CLI: --help loads every subcommand module

    _resources.check_disk([(out / "report.md", 2e6, "--out")])  # report, tables, figures

    formats = ("md", "html") if fmt == "both" else (fmt,)
    try:
        res = build_report(results, out, formats, log=lambda m: click.echo(m, err=True))
    except (ValueError, FileNotFoundError) as exc:
        raise click.BadParameter(" ".join(str(exc).split()), param_hint="--from-results") from None
    click.echo(f"{verdict_summary(res['claims'])}; {res['seconds']:.0f} s; "
               f"report: {res['paths'].get('md') or res['paths'].get('html')}")


def command_line(ctx) -> str:
    """The command as typed, rebuilt from the options given explicitly (for the report and
    the resume hint)."""
    words = [ctx.find_root().info_name or "sigadmm", ctx.info_name]
    seen = set()
    for p in ctx.command.params:
        if not isinstance(p, click.Option) or p.name in seen or not explicit(ctx, p.name):
            continue
        seen.add(p.name)
        val = ctx.params[p.name]
        if p.name == "mode":
            words.append(f"--{val}")  # --quick / --full
        elif p.is_flag:
            if val:
                words.append(p.opts[0])
        else:
            words += [p.opts[0], str(val)]
    if "mode" not in seen:
        words.insert(2, f"--{ctx.params['mode']}")
    return shlex.join(words)


def _run_sweep_spec(ctx, R, cfg, spec_path, out, scheduler, workers, progress):
    from sigadmm.sweep import grid, run_sweep  # noqa: PLC0415 - CLI: --help loads every subcommand module
    if not spec_path.is_file() or spec_path.stat().st_size > 10_000_000:
        raise click.BadParameter(f"{str(spec_path)!r}: expected a regular JSON file (at most 10 MB)",
                                 param_hint="--sweep")
    try:
        spec = loads_json(spec_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--sweep") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("axes"), dict) or not spec["axes"]:
        raise click.BadParameter('expected {"axes": {"name": [values], ...}, "trials": N}',
                                 param_hint="--sweep")
    axes = dict(spec["axes"])
    for req in ("task", "method"):
        if req not in axes:
            raise click.BadParameter(f"axes must include {req!r}", param_hint="--sweep")
    unknown = sorted(set(axes) - set(SWEEP_SETTINGS))
    if unknown:
        raise click.BadParameter(f"axes {unknown} are not settings of a trial; expected names "
                                 f"from {', '.join(SWEEP_SETTINGS)}", param_hint="--sweep")
    for name, known in (("task", R.PAPER_TABLES), ("method", R.METHODS)):
        vals = axes[name] if isinstance(axes[name], list) else [axes[name]]
        bad = [v for v in vals if v not in known]
        if bad or not vals:
            raise click.BadParameter(f"axis {name!r}: expected values from {', '.join(known)}, got "
                                     f"{bad or vals}", param_hint="--sweep")
    if "trials" in spec and explicit(ctx, "trials"):
        raise click.UsageError("--trials: does not apply with a --sweep file that sets \"trials\"")
    n_trials = spec.get("trials", cfg.trials)
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise click.BadParameter(f'"trials": expected a positive integer, got {n_trials!r}',
                                 param_hint="--sweep")
    try:
        pts = _sweep_points(R, cfg, grid, axes)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--sweep") from None
    from sigadmm import _resources  # noqa: PLC0415 - CLI: --help loads every subcommand module

    _check_trials(pts, n_trials, "--sweep", "the sweep")
    # a cache line (~3 kB) and a table row per trial, the summary
    _resources.check_disk([(out / "sweep.parquet", 3e3 * len(pts) * n_trials + 5e5, "--out")])
    res = run_sweep(R.experiment_trial, pts, trials=n_trials, out=out / "sweep.parquet",
                    scheduler=scheduler, n_workers=workers, progress=progress)
    counts = f"{res.n_computed} computed, {res.n_cached} cached, {res.n_failed} failed"
    if res.interrupted:
        click.echo(f"\ninterrupted: {counts}; the finished trials are cached next to {res.path}; "
                   f"resume with: {command_line(ctx)}", err=True)
        sys.exit(130)
    table = res.table
    if len(table) and not (table["status"] == "ok").any():
        first = str(table["error"].iloc[0])
        click.echo(f"Error: every one of the {len(table)} trials failed; the first with: {first}",
                   err=True)
        sys.exit(2 if first.startswith(("ValueError", "TypeError", "KeyError", "solver.params.ParameterError"))
                 else 70)
    from sigadmm.report import atomic_write_bytes  # noqa: PLC0415 - CLI: --help loads every subcommand module

    summ = res.summary(metrics=["train_mse", "test_mse", "seconds"])
    atomic_write_bytes(out / "summary.csv", summ.to_csv(index=False).encode())
    click.echo(summ.to_string(index=False))
    click.echo(f"{counts}; table: {res.path}; summary: {out / 'summary.csv'}", err=True)


#: A reproduction or sweep whose *lower* estimate exceeds this is refused before any work
#: (a single run's limit, sigadmm._resources.MAX_HOURS, is an upper estimate and does not apply
#: to a set of trials that may rightly take days).
MAX_SET_DAYS = 30.0
#: The arithmetic rate of that lower estimate (flop/s; faster than any machine we measured on
#: these runs, benchmarks/calibrate_resources.py: 0.18-2.3e9).
FAST_FLOPS_PER_S = 1e10


def _check_trials(points, n_trials, option, what):
    """Before any work (issue 25): the memory of the largest trial (ADMM points: the lifted
    net's estimate, sigadmm._resources.lifted_net_memory, on one input feature, a lower bound
    for every task) and a lower estimate of the time of all trials (the lifted flop count at
    :data:`FAST_FLOPS_PER_S`; baselines: forward and backward products per epoch), refused
    past the memory available or :data:`MAX_SET_DAYS`.  Raises ResourceError naming ``option``."""
    from sigadmm import _resources  # noqa: PLC0415 - CLI: --help loads every subcommand module

    seconds = 0.0
    for p in points:
        widths = (1,) + (int(p["width"]),) * int(p["depth"]) + (1,)
        n, n_test = int(p["n"]), int(p.get("n_test", 0))
        if "iters" in p:
            iters = int(p["iters"])
            _resources.check_memory(_resources.lifted_net_memory(widths, n, n_test, iters), [option],
                                    f"a trial of {what} ({p['method']}, widths {widths}, n = {n})",
                                    force_option=None)
            seconds += _resources.lifted_net_flops(widths, n, iters) / FAST_FLOPS_PER_S
        else:
            per_epoch = 6.0 * n * sum(a * b for a, b in zip(widths, widths[1:]))
            seconds += per_epoch * int(p.get("epochs", 1)) / FAST_FLOPS_PER_S
    days = seconds * int(n_trials) / 86400.0
    if days > MAX_SET_DAYS:
        raise _resources.ResourceError(
            f"{option}: {what} ({len(points)} settings x {int(n_trials)} trials) would take at least "
            f"{days:,.0f} days (a lower estimate, at {FAST_FLOPS_PER_S:.0e} flop/s); the limit is "
            f"{MAX_SET_DAYS:g} days: reduce {option}")


def _sweep_points(R, cfg, grid, axes):
    pts = []
    for p in grid(**axes):
        base = R.experiment_settings(cfg, p["task"], p["method"])
        base.update(p)
        pts.append(base)
    return pts
