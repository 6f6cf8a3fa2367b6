"""``sigadmm reproduce``: the paper's claims against this machine, as one report.

    sigadmm reproduce --quick --out reports/quick             # make demo
    sigadmm reproduce --full --out reports/full --scheduler tcp://host:8786
    sigadmm reproduce --sweep grid.json --out runs/lam-beta   # any grid as a Dask sweep

The run caches every trial under ``OUT/sweeps``: run the same command again after an
interruption and only the missing trials are computed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

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
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def reproduce(mode, out, scheduler, workers, trials, tasks, parts, fmt, sweep_spec, no_progress):
    """Reproduce the paper: certification table, Tables 3-6 (ADMM vs SGD/Adam baselines),
    convergence checks and saturation study; writes OUT/report.md and OUT/report.html."""
    from sigadmm import reproduce as R

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
    if sweep_spec is not None:
        _run_sweep_spec(R, cfg, Path(sweep_spec), out, scheduler, workers, not no_progress)
        return
    formats = ("md", "html") if fmt == "both" else (fmt,)
    res = R.reproduce(mode, out, config=cfg, scheduler=scheduler, n_workers=workers,
                      formats=formats, parts=sel, progress=not no_progress,
                      log=lambda m: click.echo(m, err=True))
    worse = sum(c.verdict == "worse" for c in res.claims)
    click.echo(f"{len(res.claims)} claims ({worse} worse than the paper) in {res.seconds:.0f} s; "
               f"report: {res.paths.get('md') or res.paths.get('html')}")


def _run_sweep_spec(R, cfg, spec_path, out, scheduler, workers, progress):
    from sigadmm.sweep import grid, run_sweep

    try:
        spec = json.loads(spec_path.read_text())
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--sweep") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("axes"), dict) or not spec["axes"]:
        raise click.BadParameter('expected {"axes": {"name": [values], ...}, "trials": N}',
                                 param_hint="--sweep")
    axes = dict(spec["axes"])
    for req in ("task", "method"):
        if req not in axes:
            raise click.BadParameter(f"axes must include {req!r}", param_hint="--sweep")
    pts = []
    for p in grid(**axes):
        base = R.experiment_settings(cfg, p["task"], p["method"])
        base.update(p)
        pts.append(base)
    n_trials = int(spec.get("trials", cfg.trials))
    res = run_sweep(R.experiment_trial, pts, trials=n_trials, out=out / "sweep.parquet",
                    scheduler=scheduler, n_workers=workers, progress=progress)
    summ = res.summary(metrics=["train_mse", "test_mse", "seconds"])
    summ.to_csv(out / "summary.csv", index=False)
    click.echo(summ.to_string(index=False))
    click.echo(f"{res.n_computed} computed, {res.n_cached} cached, {res.n_failed} failed; "
               f"table: {res.path}; summary: {out / 'summary.csv'}", err=True)
    if res.interrupted:
        sys.exit(130)
