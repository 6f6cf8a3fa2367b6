"""Results sets: the paper-size runs, written once, resumed, extended and read back.

A results set is a directory (docs/reproduce.md, "Results sets")::

    plan.json            the stages: name, trial function, trials, settings, note
    provenance.jsonl     one line per invocation of the runner: commit, command, machine, date
    sweeps/<stage>.csv.cache.jsonl   one checksummed line per finished trial (sigadmm.sweep)
    sweeps/<stage>.csv           the stage's tidy table (written after each stage)

:func:`run_results` runs the plan's stages in order through :func:`sigadmm.sweep.run_sweep`;
every finished trial is appended to its cache at once, so an interrupted run (Ctrl-C, a kill,
a lost machine) resumes without recomputing anything, and a later, larger run (more trials,
a Dask cluster through ``scheduler``) extends the same set: a stage's trials may grow and
stages may be added, but a stage's settings never change under the same name (the cache
keys would no longer describe the plan).  :func:`load_results` reads a set back without
running anything: ``sigadmm reproduce --from-results DIR`` builds its report from it.

Trial functions are named in the plan and looked up in :data:`TRIAL_FUNCTIONS`
(:func:`register_trial`), never unpickled.  The paper's plan is :func:`sigadmm.results.plan.paper_plan`;
``python -m sigadmm.results DIR`` (:mod:`sigadmm.results.__main__`) runs it through the command
line of :mod:`sigadmm.results.cli`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy
import scipy

from solver.trace import atomic_write
from solver._json import loads_json

from ..sweep import cache_line, end_with_newline, load_cache, run_one, run_sweep, settings_key, trial_name, trial_table

__all__ = ["Stage", "ResultsSet", "TRIAL_FUNCTIONS", "register_trial", "write_plan", "read_plan",
           "run_results", "load_results", "provenance_record", "code_version", "PLAN_FORMAT", "PLAN_FILE",
           "PROVENANCE_FILE", "UNFINISHED_TAIL", "unfinished", "extension_settings", "DirtyTree", "REDUCED_TRIALS"]

#: Format version of ``plan.json``.
PLAN_FORMAT = 1
PLAN_FILE = "plan.json"
PROVENANCE_FILE = "provenance.jsonl"
SWEEPS_DIR = "sweeps"

#: Trial functions a plan may name: ``{name: "module:function"}``, imported when run.
TRIAL_FUNCTIONS: dict[str, str] = {"experiment": "sigadmm.trials:experiment_trial",
                                   "saturation": "sigadmm.studies:saturation_trial",
                                   "frozen": "sigadmm.studies:frozen_features_trial",
                                   "real_data": "sigadmm.studies:real_data_trial"}


def register_trial(name: str, target: str) -> None:
    """Make the trial function ``target`` ("module:function") available to plans as ``name``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected an identifier, got {name!r}")
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"target: expected 'module:function', got {target!r}")
    TRIAL_FUNCTIONS[name] = target


def _trial_function(name: str):
    if name not in TRIAL_FUNCTIONS:
        raise ValueError(f"trial_fn: expected one of {sorted(TRIAL_FUNCTIONS)}, got {name!r}")
    mod, fn = TRIAL_FUNCTIONS[name].split(":")
    return getattr(importlib.import_module(mod), fn)


#: A run is *unfinished* when its best iterate lies in the last ``UNFINISHED_TAIL`` of its
#: iterations (docs/reproduce.md, "Unfinished runs"): it was still improving when it stopped.
UNFINISHED_TAIL = 0.10
#: Run statuses of a run stopped by its iteration/epoch budget (ADMM: "max_iter"; the
#: gradient baselines: "completed").  A diverged run is over, not unfinished.
BUDGET_STATUSES = ("max_iter", "completed")


def unfinished(rec) -> bool:
    """True when the trial record ``rec`` is an unfinished run: it ran its whole budget
    (``run_status`` in :data:`BUDGET_STATUSES`) and its best iterate ``best_iteration`` is in
    the last :data:`UNFINISHED_TAIL` of its ``iterations``, i.e. ``best_iteration > (1 -
    UNFINISHED_TAIL) * iterations``.  Records without these fields (studies that record no
    best iterate) are never unfinished; a failed trial is not unfinished (it is failed)."""
    if rec.get("status", "ok") != "ok" or rec.get("run_status") not in BUDGET_STATUSES:
        return False
    bi, it = rec.get("best_iteration"), rec.get("iterations")
    try:
        bi, it = float(bi), float(it)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(bi) and math.isfinite(it)) or it <= 0:
        return False
    return bi > (1.0 - UNFINISHED_TAIL) * it


def extension_settings(settings: dict, extend: dict, length) -> dict:
    """The settings of an unfinished run rerun with ``extend["param"] = length`` (the same
    seed, so the same data and initial weights: the rerun's first iterations are the run's)."""
    return {**settings, extend["param"]: length}


def _check_extend(extend, name):
    if extend is None:
        return
    if not isinstance(extend, dict) or set(extend) != {"param", "lengths"}:
        raise ValueError(f"extend: expected {{'param': str, 'lengths': [int, ...]}} or None "
                         f"(stage {name!r}), got {extend!r}")
    L = extend["lengths"]
    if (not isinstance(extend["param"], str) or not isinstance(L, list) or not L
            or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in L)
            or sorted(set(L)) != L):
        raise ValueError(f"extend: expected a parameter name and increasing positive integer "
                         f"lengths (stage {name!r}), got {extend!r}")


@dataclass(frozen=True)
class Stage:
    """One stage of a plan: ``trials`` trials (seeds 0..trials-1) of each settings dict.

    ``extend`` (optional): ``{"param": "iters", "lengths": [2000, ...]}``: a trial (of the
    settings that have ``param``; the others are never rerun) whose run
    is :func:`unfinished` is rerun with ``param`` set to the next of ``lengths`` (above the
    settings' own value), until it is finished or the lengths are used up; the stage's table
    then holds the longest run (column ``extended_to``) and ``unfinished`` says whether that
    run is still unfinished (docs/reproduce.md, "Unfinished runs")."""

    name: str
    trial_fn: str
    trials: int
    settings: list = field(default_factory=list)
    note: str = ""
    extend: dict | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.replace("_", "").isalnum():
            raise ValueError(f"name: expected letters, digits and underscores, got {self.name!r}")
        if self.trial_fn not in TRIAL_FUNCTIONS:
            raise ValueError(f"trial_fn: expected one of {sorted(TRIAL_FUNCTIONS)}, got {self.trial_fn!r}")
        if isinstance(self.trials, bool) or not isinstance(self.trials, int) or self.trials < 1:
            raise ValueError(f"trials: expected a positive integer, got {self.trials!r}")
        if not self.settings or not all(isinstance(s, dict) for s in self.settings):
            raise ValueError(f"settings: expected a non-empty list of dicts (stage {self.name!r})")
        _check_extend(self.extend, self.name)
        if self.extend is not None and not any(self.extend["param"] in s for s in self.settings):
            raise ValueError(f"extend: parameter {self.extend['param']!r} is in no settings "
                             f"dict of stage {self.name!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "Stage":
        unknown = set(d) - {"name", "trial_fn", "trials", "settings", "note", "extend"}
        if unknown:
            raise ValueError(f"stage: unknown field(s) {sorted(unknown)}")
        return cls(**d)


# ================================================================= plan
def write_plan(out_dir, stages, name: str) -> Path:
    """Write (or extend) ``plan.json``.  An existing plan may gain stages and trials; a
    stage whose settings differ from the recorded ones under the same name raises."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stages = [s if isinstance(s, Stage) else Stage.from_dict(s) for s in stages]
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ValueError(f"stages: duplicate stage names in {names}")
    merged = {}
    if (out / PLAN_FILE).exists():
        old = read_plan(out)
        merged = {s.name: s for s in old["stages"]}
    for s in stages:
        if s.name in merged:
            o = merged[s.name]
            if _canon(o.settings) != _canon(s.settings) or o.trial_fn != s.trial_fn:
                raise ValueError(f"stages: stage {s.name!r} exists in {out / PLAN_FILE} with other "
                                 "settings; give the changed stage a new name")
            ext = s.extend
            if o.extend is not None:  # lengths may grow, the parameter may not change
                if ext is None or ext["param"] != o.extend["param"] or not set(o.extend["lengths"]) <= set(ext["lengths"]):
                    raise ValueError(f"stages: stage {s.name!r} in {out / PLAN_FILE} extends "
                                     f"{o.extend}; a plan may add lengths, not drop them ({ext})")
            s = Stage(s.name, s.trial_fn, max(s.trials, o.trials), s.settings, s.note or o.note, ext)
        merged[s.name] = s
    doc = {"format": PLAN_FORMAT, "name": name, "stages": [asdict(s) for s in merged.values()]}
    data = json.dumps(doc, indent=1).encode()
    atomic_write(out / PLAN_FILE, lambda fh: fh.write(data))
    return out / PLAN_FILE


def read_plan(out_dir) -> dict:
    """``plan.json`` of a results set, with :class:`Stage` objects under ``stages``."""
    p = Path(out_dir) / PLAN_FILE
    if not p.is_file():
        raise FileNotFoundError(f"results: no {PLAN_FILE} in {Path(out_dir)} (not a results set)")
    doc = loads_json(p.read_text())
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise ValueError(f"{p}: expected a plan of format {PLAN_FORMAT}, got format "
                         f"{doc.get('format') if isinstance(doc, dict) else type(doc).__name__!r}")
    doc["stages"] = [Stage.from_dict(s) for s in doc["stages"]]
    return doc


def _canon(x) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


# ================================================================= provenance
class DirtyTree(RuntimeError):
    """The code to run has uncommitted changes and ``allow_dirty`` was not given."""


def code_version(exclude=None) -> dict:
    """``{"commit": ..., "dirty": ..., "diff_sha256": ...}`` of the checkout this package runs
    from (empty commit outside git); taken when a run starts, so that the line names the code
    that ran.  ``diff_sha256`` is the SHA-256 of ``git diff HEAD`` (tracked files) when the
    tree is dirty, else ``""``: with the commit it identifies the code that ran.  ``exclude``:
    a folder (the results set being written) whose changes are data, not code: a committed
    results set that the runner extends in place does not make the checkout dirty."""
    def git(*args, strip=True):
        try:
            out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=30,
                                 cwd=Path(__file__).resolve().parent).stdout
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.strip() if strip else out

    spec: list[str] = []
    if exclude is not None:
        root = git("rev-parse", "--show-toplevel")
        try:
            rel = Path(exclude).resolve().relative_to(Path(root).resolve()) if root else None
        except ValueError:
            rel = None                      # outside the checkout: nothing to exclude
        if rel is not None and str(rel) != ".":
            spec = ["--", ".", f":(exclude){rel.as_posix()}"]
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", *spec))
    diff = git("diff", "HEAD", "--no-color", "--no-ext-diff", *spec, strip=False) if dirty else ""
    return {"commit": git("rev-parse", "HEAD"), "dirty": dirty,
            "diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if dirty else ""}


def require_clean(version: dict, allow_dirty: bool) -> None:
    """Raise :class:`DirtyTree` when ``version`` (:func:`code_version`) is dirty and
    ``allow_dirty`` is false: results come from committed code (docs/reproduce.md)."""
    if version.get("dirty") and not allow_dirty:
        raise DirtyTree("the checkout has uncommitted changes to tracked files: commit them, or "
                        "pass --allow-dirty (the provenance line then records the diff's SHA-256)")


def provenance_record(command: str, stages, status: str, started: str, version: dict | None = None) -> dict:
    """Commit, command, machine and versions of one invocation (a line of provenance.jsonl)."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__}
    torch = sys.modules.get("torch")
    if torch is not None:
        versions["torch"] = torch.__version__
    try:
        blas = [f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')}"
                for d in __import__("threadpoolctl").threadpool_info() if d.get("user_api") == "blas"]
    except Exception:  # noqa: BLE001 - threadpoolctl missing
        blas = []
    return {"started": started, "finished": _now(), "status": status, "command": command,
            **(version if version is not None else code_version()),
            "machine": {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
                        "blas": blas},
            "versions": versions, "stages": list(stages)}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _append_provenance(out: Path, rec: dict) -> None:
    with open(out / PROVENANCE_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


# ================================================================= run
def run_results(out_dir, stages=None, *, scheduler=None, n_workers=None, progress=True,
                command: str | None = None, log=print, allow_dirty: bool = False,
                max_trials: int | None = None) -> dict:
    """Run the plan's stages (all, or the names in ``stages``) in plan order.

    Returns ``{stage: SweepResult}``.  Ctrl-C stops after the trials in flight; what was
    finished is in the caches and the provenance line says ``interrupted``.  A stage with
    ``extend`` then reruns its unfinished trials longer (:func:`extend_unfinished`).  Raises
    :class:`DirtyTree` before running anything when the code has uncommitted changes and
    ``allow_dirty`` is false.  ``max_trials``: run (and extend) only seeds ``0..max_trials-1``
    of each stage this time (an order for scarce compute: the few seeds of every setting,
    extended, before the rest); a later call without it runs the rest.
    """
    out = Path(out_dir)
    plan = read_plan(out)
    todo = [s for s in plan["stages"] if stages is None or s.name in stages]
    if max_trials is not None:
        if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
            raise ValueError(f"max_trials: expected a positive integer or None, got {max_trials!r}")
        todo = [Stage(s.name, s.trial_fn, min(s.trials, max_trials), s.settings, s.note, s.extend)
                for s in todo]
    if stages is not None:
        missing = sorted(set(stages) - {s.name for s in plan["stages"]})
        if missing:
            raise ValueError(f"stages: {missing} not in the plan ({[s.name for s in plan['stages']]})")
    started, status, results, version = _now(), "completed", {}, code_version(exclude=out_dir)
    require_clean(version, allow_dirty)
    command = command or " ".join(sys.argv)
    try:
        for s in todo:
            log(f"[results] stage {s.name}: {len(s.settings)} settings x {s.trials} trials")
            res = run_sweep(_trial_function(s.trial_fn), s.settings, trials=s.trials,
                            out=out / SWEEPS_DIR / f"{s.name}.csv", scheduler=scheduler,
                            n_workers=n_workers, progress=progress)
            results[s.name] = res
            if res.interrupted:
                status = "interrupted"
                break
            if s.extend is not None:
                extend_unfinished(out, s, log=log)
    except KeyboardInterrupt:
        status = "interrupted"
    except BaseException:
        status = "failed"
        raise
    finally:
        _append_provenance(out, provenance_record(command, [s.name for s in todo], status, started, version))
    return results


def _cache_path(out: Path, s: Stage) -> Path:
    return out / SWEEPS_DIR / f"{s.name}.csv.cache.jsonl"


def _longest_run(cache: dict, s: Stage, settings: dict, t: int, fn_name: str):
    """``(record, length)`` of the longest run of trial ``t`` of ``settings`` in ``cache``
    along the stage's extension lengths (``length`` None: the plan's own run), or ``(None,
    None)``.  The chain is followed only while a run is unfinished."""
    rec = cache.get(settings_key(settings, t, fn_name))
    length = None
    if rec is None or s.extend is None or s.extend["param"] not in settings:
        return rec, length
    own = settings[s.extend["param"]]
    for L in s.extend["lengths"]:
        if L <= own or not unfinished(rec):
            continue
        nxt = cache.get(settings_key(extension_settings(settings, s.extend, L), t, fn_name))
        if nxt is None:
            break
        rec, length = nxt, L
    return rec, length


def extend_unfinished(out_dir, s: Stage, *, log=print) -> int:
    """Rerun the unfinished trials of stage ``s`` with the next of ``s.extend["lengths"]``
    (same seed: same data and initial weights), one at a time, each appended to the stage's
    cache at once (resumable), until every trial is finished or at its longest length.
    Returns the number of runs made.  Ctrl-C propagates (KeyboardInterrupt) after the run in
    flight is dropped."""
    out = Path(out_dir)
    fn = _trial_function(s.trial_fn)
    fn_name = trial_name(fn)
    path = _cache_path(out, s)
    n_runs = 0
    for L in s.extend["lengths"]:  # length by length: every trial gets L before any gets more
        cache = load_cache(path) if path.exists() else {}
        jobs = []
        for st in s.settings:
            if s.extend["param"] not in st or L <= st[s.extend["param"]]:
                continue
            for t in range(s.trials):
                rec, length = _longest_run(cache, s, st, t, fn_name)
                if rec is None or not unfinished(rec) or (length is not None and length >= L):
                    continue
                jobs.append((st, t))
        if jobs:
            log(f"[results] stage {s.name}: {len(jobs)} unfinished runs rerun at "
                f"{s.extend['param']} = {L}")
        end_with_newline(path)
        for st, t in jobs:
            ext = extension_settings(st, s.extend, L)
            key = settings_key(ext, t, fn_name)
            rec = run_one(fn, ext, t, t, key, fn_name)  # seed = trial index, as run_sweep's seed0 = 0
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(cache_line(rec))
                fh.flush()
                os.fsync(fh.fileno())
            n_runs += 1
    return n_runs


# ================================================================= read
@dataclass
class ResultsSet:
    """A results set read back: its plan, provenance lines and one table per stage."""

    path: Path
    plan: dict
    provenance: list
    tables: dict

    def stage(self, name: str):
        """The table of stage ``name`` (a DataFrame; empty when nothing has run yet)."""
        if name not in self.tables:
            raise KeyError(f"stage: expected one of {sorted(self.tables)}, got {name!r}")
        return self.tables[name]

    def stage_info(self, name: str) -> Stage:
        for s in self.plan["stages"]:
            if s.name == name:
                return s
        raise KeyError(f"stage: expected one of {[s.name for s in self.plan['stages']]}, got {name!r}")


def load_results(out_dir) -> ResultsSet:
    """Read a results set without computing anything: the plan, the provenance and, per
    stage, the table rebuilt from its cache lines (only the plan's trials and settings).

    Every table has a column ``unfinished`` (:func:`unfinished` of the row's run); a stage
    with ``extend`` holds, per trial, its longest run along the extension lengths, with the
    plan's settings and ``extended_to`` (the length it was rerun at; nan: not rerun).
    A cache line whose settings contradict its key or whose fields contradict each other
    (``best_iteration`` beyond ``iterations``) is refused with a message."""
    import pandas as pd  # noqa: PLC0415 - pandas: the optional sweep extra, import time

    out = Path(out_dir)
    plan = read_plan(out)
    prov = []
    if (out / PROVENANCE_FILE).is_file():
        for line in (out / PROVENANCE_FILE).read_text().splitlines():
            if line.strip():
                try:
                    prov.append(loads_json(line))
                except json.JSONDecodeError:  # a line cut by a kill
                    continue
    tables = {}
    for s in plan["stages"]:
        cache_path = _cache_path(out, s)
        cache = load_cache(cache_path) if cache_path.exists() else {}
        fn_name = trial_name(_trial_function(s.trial_fn))
        recs = []
        for st in s.settings:
            for t in range(s.trials):
                rec, length = _longest_run(cache, s, st, t, fn_name)
                if rec is None:
                    continue
                _check_record(rec, st if length is None else extension_settings(st, s.extend, length),
                              t, s.name)
                rec = {**rec, **st, "unfinished": unfinished(rec),
                       "extended_to": math.nan if length is None else float(length)}
                recs.append(rec)
        tables[s.name] = trial_table(recs, s.settings) if recs else pd.DataFrame()
    return ResultsSet(out, plan, prov, tables)


def _check_record(rec: dict, settings: dict, t: int, stage: str) -> None:
    """Refuse a cache line whose fields contradict its key or each other."""
    for k, v in settings.items():
        if _canon(rec.get(k)) != _canon(v) and not (isinstance(v, (int, float)) and isinstance(rec.get(k), (int, float))
                                                   and float(rec.get(k)) == float(v)):
            raise ValueError(f"results: stage {stage!r}, trial {t}: cache line {rec.get('key')} has "
                             f"{k} = {rec.get(k)!r}, its key says {v!r}")
    if rec.get("trial") != t:
        raise ValueError(f"results: stage {stage!r}: cache line {rec.get('key')} has trial "
                         f"{rec.get('trial')!r}, its key says {t}")
    bi, it = rec.get("best_iteration"), rec.get("iterations")
    if isinstance(bi, (int, float)) and isinstance(it, (int, float)) and math.isfinite(bi) \
            and math.isfinite(it) and bi > it:
        raise ValueError(f"results: stage {stage!r}, trial {t}: cache line {rec.get('key')} has "
                         f"best_iteration {bi} > iterations {it}")


#: Trials of the reduced cells (baselines, studies).
REDUCED_TRIALS = 3
