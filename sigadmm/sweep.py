"""Parameter sweeps on Dask with a settings-keyed cache (resumable, failures recorded).

A sweep runs ``trial(settings, seed) -> dict of scalars`` for every point of a grid and
every trial index ``t = 0..trials-1`` (seed ``seed0 + t``: the same seeds for every grid
point, so that settings are compared on common random numbers).  Each finished trial is
appended at once, as one JSON line, to ``<out>.cache.jsonl`` next to the result table;
the cache key is a hash of the trial function's name, the settings and the trial index.
Run the same sweep again and it computes only what is missing: an interrupted sweep
resumes where it stopped.  A trial that raises is recorded with ``status="failed"`` and
its error message; the sweep goes on (``retry_failed=True`` recomputes such trials).

Every cache line carries a format version (``_v``) and a checksum (``_sha256``: sha256 of
the record's canonical JSON without it): a line edited or damaged after it was written
fails the check and its trial is computed again (:class:`CacheWarning`); a line cut by a
kill is skipped, and the next append starts on a fresh line so that it never swallows the
next record.  Lines written before checksums existed are trusted, with a note.  A trial
lost with its worker (the worker died, the cluster went away) is reported as failed but
not cached: the next run computes it again.

Execution backends (``scheduler``):

* ``None`` / ``"local"``: a ``dask.distributed.LocalCluster`` (processes, one thread
  each) started for the sweep and closed after it;
* ``"tcp://host:port"``: an existing Dask cluster;
* a ``distributed.Client``: used as is;
* ``"synchronous"``: in this process, no Dask at all (debugging, tiny sweeps, tests).

Example
-------
>>> from sigadmm.sweep import grid, run_sweep
>>> pts = grid(task="square", depth=[1, 2, 3], lam=[1e-6, 1e-3])
>>> res = run_sweep(my_trial, pts, trials=20, out="runs/square.parquet")  # doctest: +SKIP
>>> res.table.groupby(["depth", "lam"]).train_mse.agg(["mean", "std"])   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import math
import os
import signal
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solver import interrupts_raise
from solver._validation import check_output_path, loads_json

__all__ = ["grid", "settings_key", "run_sweep", "SweepResult", "load_cache", "summarize",
           "CacheWarning", "CACHE_VERSION", "trial_name", "keyed_as", "run_one", "cache_line",
           "end_with_newline", "trial_table"]

#: Hex digits of a trial's cache key (80 bits of its sha256).
KEY_HEX_DIGITS = 20
#: A failed trial keeps the last this many characters of its traceback in the table.
MAX_ERROR_CHARS = 2000
#: Characters of the last failure shown beside the progress bar.
PROGRESS_ERROR_CHARS = 60

#: Format version of a cache line (``_v``); lines without one were written before checksums.
CACHE_VERSION = 2
#: Seconds to wait for a Dask scheduler given by address before giving up.
CONNECT_TIMEOUT_S = 10

_FORMAT_KEYS = ("_v", "_sha256")
_RESERVED = ("key", "trial", "seed", "status", "error", "wall_s", "trial_fn") + _FORMAT_KEYS


class CacheWarning(UserWarning):
    """Some cache lines were damaged, edited or written before checksums (see the module docstring)."""


def grid(**axes) -> list[dict]:
    """Cartesian product of the axes: ``grid(depth=[1, 2], lam=1e-6)`` -> 2 settings dicts.

    A scalar (or string) value is an axis of length one; lists and tuples are axes.
    Axis order is kept; the last axis varies fastest.
    """
    if not axes:
        raise ValueError("axes: expected at least one keyword axis, e.g. grid(depth=[1, 2])")
    names, values = [], []
    for name, v in axes.items():
        if name in _RESERVED:
            raise ValueError(f"{name}: is a reserved column of the sweep table; rename the axis")
        vals = list(v) if isinstance(v, (list, tuple, range, np.ndarray)) else [v]
        if not vals:
            raise ValueError(f"{name}: expected a non-empty list of values, got {v!r}")
        names.append(name)
        values.append([_plain(x) for x in vals])
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def settings_key(settings: dict, trial: int = 0, trial_fn: str = "") -> str:
    """Stable hash of (trial function name, settings, trial index): the cache key.

    Key order does not matter; ``1`` and ``1.0`` hash alike (JSON canonical form).
    """
    if not isinstance(settings, dict):
        raise ValueError(f"settings: expected a dict, got {type(settings).__name__}")
    canon = json.dumps({"fn": trial_fn, "trial": int(trial),
                        "settings": {k: _canon(v) for k, v in settings.items()}},
                       sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:KEY_HEX_DIGITS]


@dataclass
class SweepResult:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy table, one row per (settings, trial): the settings columns, ``trial``, ``seed``,
        ``status`` ("ok" / "failed"), ``error``, ``wall_s``, then the trial's metrics.
    path : pathlib.Path or None
        Where the table was written (Parquet or CSV by suffix).
    n_computed, n_cached, n_failed : int
        Trials computed in this call, taken from the cache, and failed (in the table).
    interrupted : bool
        True when Ctrl-C stopped the sweep (what finished is in the cache and the table).
    """

    table: object
    path: Path | None
    n_computed: int
    n_cached: int
    n_failed: int
    interrupted: bool = False

    def summary(self, metrics=None, by=None):
        """Mean, std and count of ``metrics`` over trials per settings (see :func:`summarize`)."""
        return summarize(self.table, metrics=metrics, by=by)


def trial_name(fn) -> str:
    """The name a trial function's cached trials are keyed by (:func:`settings_key`): the
    name it was given with :func:`keyed_as`, else ``module.qualname``."""
    given = getattr(fn, "trial_key_name", None)
    if given is not None:
        return given
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def keyed_as(name: str):
    """Decorator: key the cached trials of a trial function by ``name`` (``"module.function"``)
    instead of where it is defined now, so that moving the function to another module keeps
    the caches written before the move (their keys hash the name: :func:`settings_key`)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: expected a non-empty string, got {name!r}")

    def mark(fn):
        fn.trial_key_name = name
        return fn
    return mark


def run_one(trial_fn, settings: dict, trial: int, seed: int, key: str, fn_name: str) -> dict:
    """Run one trial; never raises (the error is the record)."""
    t0 = time.perf_counter()
    rec = {"key": key, "trial_fn": fn_name, **settings, "trial": trial, "seed": seed}
    try:
        out = trial_fn(dict(settings), seed)
        if out is None:
            out = {}
        if not isinstance(out, dict):
            raise TypeError(f"trial function returned {type(out).__name__}, expected a dict")
        for k, v in out.items():
            if k in _RESERVED or k in settings:
                raise ValueError(f"trial function returned reserved/settings column {k!r}")
            rec[k] = _plain(v)
        rec["status"] = "ok"
        rec["error"] = ""
    except Exception as exc:  # noqa: BLE001 - a failed trial is data, not a crash
        rec["status"] = "failed"
        tb = traceback.format_exception_only(type(exc), exc)
        rec["error"] = "".join(tb).strip()[-MAX_ERROR_CHARS:]
    rec["wall_s"] = time.perf_counter() - t0
    return rec


def load_cache(path) -> dict:
    """Records of a cache file (``key -> record``); later lines win.

    Lines torn by a kill are skipped; lines whose checksum fails (edited or damaged) are
    dropped, so their trials are computed again; both with a :class:`CacheWarning` naming
    the file.  Lines written before checksums are kept, with a note.  The records returned
    have no format fields.  A cache path that is a folder or not UTF-8 text raises
    ``ValueError`` naming the path.
    """
    path = Path(path)
    out = {}
    if not path.exists():
        return out
    if path.is_dir():
        raise ValueError(f"cache: {str(path)!r} is a directory; expected a JSON-lines file")
    torn = bad = legacy = 0
    with open(path, "rb") as fh:
        raw_lines = fh.read().split(b"\n")
    for raw in raw_lines:
        raw = raw.strip()
        if not raw:
            continue
        try:
            rec = loads_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):  # a line torn by a kill mid-write
            torn += 1
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("key"), str):
            torn += 1
            continue
        if "_sha256" in rec or "_v" in rec:
            if rec.get("_v") != CACHE_VERSION or rec.get("_sha256") != _record_digest(rec):
                bad += 1
                continue
        else:
            legacy += 1
        out[rec["key"]] = {k: v for k, v in rec.items() if k not in _FORMAT_KEYS}
    if torn or bad:
        warnings.warn(f"cache {str(path)!r}: {bad} record(s) failed their checksum (edited or "
                      f"damaged) and {torn} line(s) were unreadable (torn by a kill); those "
                      f"trials are computed again", CacheWarning, stacklevel=2)
    if legacy:
        warnings.warn(f"cache {str(path)!r}: {legacy} record(s) were written before checksums; "
                      f"used without the check", CacheWarning, stacklevel=2)
    return out


def run_sweep(trial, settings_list, trials: int = 20, out=None, *, scheduler=None,
              n_workers: int | None = None, seed0: int = 0, retry_failed: bool = False,
              progress: bool = True, cache=None) -> SweepResult:
    """Run ``trial(settings, seed)`` for every settings dict and trial index, via Dask.

    Parameters
    ----------
    trial : callable
        ``trial(settings: dict, seed: int) -> dict`` of scalar metrics; module-level (or
        otherwise picklable) so Dask workers can run it.
    settings_list : list of dict
        Grid points, e.g. from :func:`grid`.  Values must be JSON scalars.
    trials : int
        Trials per grid point (the paper: 20).
    out : path, optional
        Result table, ``.parquet`` or ``.csv``.  The cache is ``<out>.cache.jsonl`` unless
        ``cache`` is given.  Without both, nothing is written and nothing is resumed.
    scheduler : None, "local", "synchronous", "tcp://host:port" or a distributed.Client
    n_workers : int, optional
        Workers of the LocalCluster (default: the number of CPU cores).
    seed0 : int
        Trial ``t`` gets seed ``seed0 + t``.
    retry_failed : bool
        Recompute trials recorded as failed (default: keep the failure record).
    progress : bool
        Show a tqdm progress bar.
    cache : path, optional
        Cache file (JSON lines); defaults to ``<out>.cache.jsonl``.

    Returns
    -------
    SweepResult
    """
    if not callable(trial):
        raise ValueError(f"trial: expected a callable trial(settings, seed), got {trial!r}")
    if isinstance(settings_list, dict):
        settings_list = [settings_list]
    settings_list = list(settings_list)
    if not settings_list or not all(isinstance(s, dict) for s in settings_list):
        raise ValueError("settings_list: expected a non-empty list of dicts (see grid())")
    for s in settings_list:
        bad = [k for k in s if k in _RESERVED]
        if bad:
            raise ValueError(f"settings_list: {bad} are reserved column names")
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"trials: expected a positive integer, got {trials!r}")
    out = Path(out) if out is not None else None
    if out is not None and out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"out: expected a path ending in .parquet or .csv, got {str(out)!r}")
    cache_path = Path(cache) if cache is not None else (
        out.with_name(out.name + ".cache.jsonl") if out is not None else None)

    fn_name = trial_name(trial)
    jobs = []  # (key, settings, t, seed)
    for s in settings_list:
        s = {k: _plain(v) for k, v in s.items()}
        for t in range(int(trials)):
            jobs.append((settings_key(s, t, fn_name), s, t, seed0 + t))
    cached = load_cache(cache_path) if cache_path is not None else {}
    todo = [j for j in jobs if j[0] not in cached
            or (retry_failed and cached[j[0]].get("status") != "ok")]
    n_cached = len(jobs) - len(todo)
    records = {k: v for k, v in cached.items()}
    interrupted = False
    n_done = 0
    if cache_path is not None:
        _check_writable(cache_path, "cache")
        end_with_newline(cache_path)
    if out is not None:
        _check_writable(out, "out")

    def keep(rec, transient=False):
        nonlocal n_done
        records[rec["key"]] = rec
        n_done += 1
        if cache_path is not None and not transient:
            line = cache_line(rec)
            with open(cache_path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    bar = _bar(len(jobs), n_cached, progress)
    try:
        if todo:
            if scheduler == "synchronous":
                for key, s, t, seed in todo:
                    # a Ctrl-C inside a trial's solve stops the sweep (the trial is not recorded)
                    with interrupts_raise():
                        rec = run_one(trial, s, t, seed, key, fn_name)
                    keep(rec)
                    _tick(bar, records[key])
            else:
                interrupted = _run_dask(trial, todo, fn_name, scheduler, n_workers, keep, bar)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()

    table = trial_table([records[j[0]] for j in jobs if j[0] in records], settings_list)
    if out is not None:
        _write_table(table, out)
    n_failed = int((table["status"] == "failed").sum()) if len(table) else 0
    return SweepResult(table=table, path=out, n_computed=n_done, n_cached=n_cached,
                       n_failed=n_failed, interrupted=interrupted)


def _run_dask(trial, todo, fn_name, scheduler, n_workers, keep, bar) -> bool:
    try:
        from distributed import Client, LocalCluster, as_completed  # noqa: PLC0415 - dask.distributed: the optional sweep extra
    except ImportError as exc:  # pragma: no cover - needs the sweep extra missing
        raise ImportError("sweeps need dask.distributed: pip install -e '.[sweep]' "
                          "(or pass scheduler='synchronous')") from exc
    own_cluster = None
    if scheduler is None or scheduler == "local":
        nw = int(n_workers) if n_workers else (os.cpu_count() or 1)
        with _workers_ignore_sigint():  # Ctrl-C stops the sweep here, not inside the workers
            # silence_logs applies in the worker processes too: at ERROR a worker whose heartbeat
            # meets the scheduler already closed logged a traceback to stderr at shutdown (seen
            # once in the derandomised pass of 2026-12-08 under load, docs/reproduce.md's quick
            # reproduction); a worker's real errors reach us through its futures (recorded as
            # "worker error") and CRITICAL ones are still printed
            own_cluster = LocalCluster(n_workers=nw, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.CRITICAL)
        client = Client(own_cluster)
    elif isinstance(scheduler, str):
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
            raise ValueError(f"scheduler: expected None, 'local', 'synchronous', a Client or an "
                             f"address such as 'tcp://host:8786', got {scheduler!r}")
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler: no Dask scheduler answered at {scheduler!r} within "
                             f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__}); start one there or "
                             f"use 'local'") from None
    elif hasattr(scheduler, "submit"):
        client = scheduler
    else:
        raise ValueError(f"scheduler: expected None, 'local', 'synchronous', a Client or an "
                         f"address such as 'tcp://host:8786', got {scheduler!r}")
    futures = {}
    interrupted = False
    try:
        for key, s, t, seed in todo:
            fut = client.submit(run_one, trial, s, t, seed, key, fn_name, pure=False, key=f"trial-{key}")
            futures[fut] = (key, s, t, seed)
        for fut in as_completed(list(futures)):
            key, s, t, seed = futures[fut]
            try:
                rec = fut.result()
                transient = False
            except Exception as exc:  # noqa: BLE001 - e.g. the worker died: not the trial's fault
                rec = {"key": key, "trial_fn": fn_name, **s, "trial": t, "seed": seed,
                       "status": "failed", "error": f"worker error: {exc!r}"[-MAX_ERROR_CHARS:],
                       "wall_s": math.nan}
                transient = True
            keep(rec, transient=transient)
            _tick(bar, rec)
    except KeyboardInterrupt:
        interrupted = True
        for fut in futures:
            fut.cancel()
    finally:
        if own_cluster is not None:
            with _quiet_logs():
                client.close()
                own_cluster.close()
    return interrupted


@contextlib.contextmanager
def _workers_ignore_sigint():
    """Start worker processes with SIGINT ignored (an ignored signal stays ignored across
    fork and exec): a Ctrl-C in the terminal reaches the whole process group, and the
    workers would otherwise die printing tracebacks while this process stops the sweep."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _quiet_logs():
    """Silence distributed's shutdown chatter (cancelled futures, closed comms)."""
    names = ("distributed", "tornado", "asyncio")
    old = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for n, lvl in old.items():
            logging.getLogger(n).setLevel(lvl)


def _bar(total, initial, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415 - tqdm: import time, only when a bar is shown
    return tqdm(total=total, initial=initial, desc="sweep", unit="trial", leave=True)


def _tick(bar, rec):
    if bar is not None:
        bar.update(1)
        if rec.get("status") == "failed":
            bar.set_postfix_str("last failure: " + rec.get("error", "")[:PROGRESS_ERROR_CHARS])


def trial_table(records, settings_list):
    """One row per trial record as a pandas DataFrame: the settings' columns (in the order they
    first appear in ``settings_list``), then ``trial``, ``seed``, ``status``, ``error``,
    ``wall_s``, the trial's metrics and the cache ``key``; an empty frame with the leading
    columns when there is no record."""
    import pandas as pd  # noqa: PLC0415 - pandas: the optional sweep extra, import time

    setting_cols = []
    for s in settings_list:
        for k in s:
            if k not in setting_cols:
                setting_cols.append(k)
    lead = setting_cols + ["trial", "seed", "status", "error", "wall_s"]
    df = pd.DataFrame.from_records(records)
    if df.empty:
        return pd.DataFrame(columns=lead)
    metrics = [c for c in df.columns if c not in lead and c not in ("key", "trial_fn")]
    cols = [c for c in lead if c in df.columns] + metrics + ["key"]
    return df[cols].reset_index(drop=True)


def _write_table(table, out: Path):
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix == ".parquet":
        try:
            table.to_parquet(tmp, index=False)
        except ImportError:  # pragma: no cover - pyarrow missing
            out = out.with_suffix(".csv")
            tmp = out.with_name(out.name + ".tmp")
            table.to_csv(tmp, index=False)
    else:
        table.to_csv(tmp, index=False)
    tmp.replace(out)


def summarize(table, metrics=None, by=None):
    """Mean, std (ddof=1, as the paper's "mean (std)") and count of ``metrics`` per settings.

    ``by`` defaults to the settings columns (those before ``trial``); ``metrics`` to every
    other numeric column.  Failed trials are left out of the statistics and counted in ``n_failed``.
    """
    import pandas as pd  # noqa: PLC0415 - pandas: the optional sweep extra, import time

    if by is None:  # the settings columns: those before "trial" in a sweep table
        cols = list(table.columns)
        if "trial" not in cols:
            raise ValueError("table: expected a sweep table with a 'trial' column, or pass by=")
        by = cols[:cols.index("trial")]
    by = list(by)
    if not by:
        raise ValueError("by: expected at least one settings column to group by")
    if metrics is None:
        metrics = [c for c in table.columns if c not in by and c not in
                   ("trial", "seed", "status", "error", "key", "wall_s")
                   and pd.api.types.is_numeric_dtype(table[c])]
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        failed = table[table["status"] == "failed"] if "status" in table else table.iloc[:0]
        why = (f"; every trial failed, the first with: {failed['error'].iloc[0]}"
               if len(failed) == len(table) and len(failed) else "")
        raise ValueError(f"metrics: {missing} are not columns of the sweep table{why}")
    ok = table[table["status"] == "ok"]
    g = ok.groupby(by, dropna=False)[list(metrics)].agg(["mean", "std", "count"])
    g.columns = [f"{m}_{s}" for m, s in g.columns]
    nf = table.groupby(by, dropna=False)["status"].apply(lambda s: int((s == "failed").sum()))
    return g.join(nf.rename("n_failed"), how="outer").reset_index()


def cache_line(rec) -> str:
    """One cache line: the record with its format version and checksum, newline-terminated."""
    body = json.loads(json.dumps({k: v for k, v in rec.items() if k not in _FORMAT_KEYS},
                                 default=_plain))
    body["_v"] = CACHE_VERSION
    body["_sha256"] = _record_digest(body)
    return json.dumps(body) + "\n"


def _record_digest(rec) -> str:
    canon = json.dumps({k: v for k, v in rec.items() if k != "_sha256"}, sort_keys=True,
                       separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def end_with_newline(path: Path) -> None:
    """Close a line torn by a kill, so that the next record starts on a line of its own."""
    try:
        with open(path, "rb+") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")
                fh.flush()
                os.fsync(fh.fileno())
    except FileNotFoundError:
        return


def _check_writable(path: Path, name: str) -> None:
    """``ValueError`` naming ``name`` unless a file can be written at ``path`` (before any work)."""
    check_output_path(path, name)


def _plain(v):
    """numpy scalars -> Python scalars (JSON-able)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _canon(v):
    v = _plain(v)
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        f = float(v)
        if math.isnan(f):
            return "nan"
        return repr(f)
    if isinstance(v, list):
        return [_canon(x) for x in v]
    raise ValueError(f"settings: expected JSON scalar values (int, float, str, bool, None), "
                     f"got {type(v).__name__} ({v!r})")
