"""Resources checked before work, for every entry point (``sigadmm ...``, ``python -m sigadmm.results``).

A run is refused up front, with one message naming the option, the estimate and what the
machine has, when it cannot finish:

* **disk**: :func:`check_disk` compares the bytes a run will write (traces, checkpoints,
  reports; estimated from its sizes, times :data:`DISK_MARGIN` plus :data:`DISK_SLACK`)
  with the free space of each output's file system (``shutil.disk_usage``), the outputs on
  one file system added up;
* **memory**: :func:`check_memory` compares an estimate of the run's working set
  (:func:`lifted_net_bytes`: weights, the lifted variables on every sample, the data, the
  trace) with the memory available now (``psutil.virtual_memory().available``);
* **time**: :func:`check_time` refuses a single run whose estimated CPU time
  (:func:`lifted_net_seconds`: the arithmetic of :func:`lifted_net_flops` at
  :data:`FLOPS_PER_S` plus a cost per layer and iteration) exceeds :data:`MAX_HOURS`: such a
  command (``verify --width 10000 --depth 20``) looks like a hang;
* both estimates are calibrated upper bounds: measured runs
  (``benchmarks/calibrate_resources.py``, results in ``benchmarks/results/``) use at most the
  estimate and at least 1/:data:`MEM_FACTOR` (memory), 1/:data:`TIME_FACTOR` (time) of it;
* **precision knobs**: :data:`MAX_DPS`, :data:`MAX_BOXES`, :data:`MAX_ITERS`;
* **names**: :func:`solver._validation.check_output_path` (the file system's ``PC_NAME_MAX``,
  special files such as ``/dev/null``), and :func:`check_distinct` (two outputs that are one file).

Memory and time are estimates: ``--force`` skips them where a user may know better (a
machine whose swap or speed the estimate does not see).  Disk, names and knobs are not
overridable.  A failure *while* writing (the disk filled up meanwhile, an I/O error) is
:func:`write_failure`: a one-line message, exit 2; files are written to a temporary name
and renamed (:func:`solver.trace.atomic_write`), so what was saved before stays intact.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from solver._validation import _existing_ancestor

__all__ = ["ResourceError", "MAX_DPS", "MAX_BOXES", "MAX_ITERS", "MAX_HOURS", "FLOPS_PER_S",
           "fmt_bytes", "free_disk", "check_disk", "available_memory", "check_memory",
           "lifted_net_bytes", "lifted_net_flops", "lifted_net_memory", "lifted_net_seconds",
           "check_time", "MEM_FACTOR", "TIME_FACTOR", "check_net_run", "check_distinct",
           "write_failure", "WRITE_ERRNOS"]

#: Largest ``--dps`` (decimal digits of the ball arithmetic): far above what any construction
#: at a float64 ``eps`` needs (a few hundred), far below where one product takes minutes.
MAX_DPS = 5000
#: Largest ``--max-boxes`` of the branch and bound (the default is 200 000; 10^7 boxes are hours).
MAX_BOXES = 10_000_000
#: Largest ``--iters`` (the trace is allocated for every iteration up front).
MAX_ITERS = 10**8
#: A single run estimated to take longer than this is refused (``--force`` overrides).
MAX_HOURS = 24.0
#: The arithmetic speed the time estimate assumes: a slow machine's effective rate on these
#: runs (measured 0.18-2.3e9 flop/s of lifted_net_flops per CPU second on the development
#: machine; benchmarks/calibrate_resources.py), so that the estimate is an upper bound.
FLOPS_PER_S = 1.5e8
#: CPU seconds per layer and iteration besides the arithmetic (Python, kernel calls, tracking).
SECONDS_PER_LAYER_STEP = 0.02
#: Memory beside the arrays (interpreter temporaries, the trace's bookkeeping).
MEM_SLACK = 4 << 20
#: Calibration (benchmarks/calibrate_resources.py, results in benchmarks/results/): the memory
#: estimate (:func:`lifted_net_memory`) and the time estimate (:func:`lifted_net_seconds`) are
#: upper bounds of the measured peak memory and CPU time of ADMM runs within these factors
#: (measured on 7 runs of ADMM and dlADMM: memory 1.2-2.6x, time 1.3-15.3x; the effective
#: arithmetic rate grows with the matrix sizes, which the flop count does not model).  Not
#: covered: lifted BCD (many inner sweeps per iteration: measured 1.6x the memory and 12x the
#: time estimate) and the inexact ALM (not measured); their refusals are optimistic.
MEM_FACTOR = 4.0
TIME_FACTOR = 20.0
#: Disk estimates are multiplied by this and :data:`DISK_SLACK` is added.
DISK_MARGIN = 1.5
DISK_SLACK = 1 << 20

#: errno values of a failed write that the user can fix (exit 2, one line)
WRITE_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                errno.EIO: "input/output error", errno.EFBIG: "file too large for the file system",
                errno.EROFS: "read-only file system", errno.ENAMETOOLONG: "file name too long"}


class ResourceError(ValueError):
    """A run that the machine cannot hold; the message starts with the option to change."""


def fmt_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


def _existing(path) -> Path:
    return _existing_ancestor(path)


def free_disk(path) -> int:
    """Free bytes (for this user) on the file system that holds ``path`` (or its nearest
    existing ancestor)."""
    return int(shutil.disk_usage(_existing(path)).free)


def check_disk(needs) -> None:
    """``needs``: ``(path, bytes, option)`` triples.  Raises :class:`ResourceError` naming the
    option when the outputs on one file system need more than its free space (each estimate
    times :data:`DISK_MARGIN`, plus :data:`DISK_SLACK` per file system)."""
    groups = {}
    for path, nbytes, option in needs:
        anc = _existing(Path(path).parent)
        try:
            dev = os.stat(anc).st_dev
        except OSError:
            continue
        g = groups.setdefault(dev, {"dir": anc, "bytes": 0.0, "options": []})
        g["bytes"] += float(nbytes) * DISK_MARGIN
        if option not in g["options"]:
            g["options"].append(option)
    for g in groups.values():
        need = g["bytes"] + DISK_SLACK
        free = free_disk(g["dir"])
        if need > free:
            opts = ", ".join(g["options"])
            raise ResourceError(f"{g['options'][0]}: writing the output ({opts}) needs about "
                                f"{fmt_bytes(need)} (estimate with margin) on the file system of "
                                f"{str(g['dir'])!r}, which has {fmt_bytes(free)} free; free some space "
                                "or write elsewhere")


def available_memory() -> int:
    """Bytes of memory available now without swapping (``psutil.virtual_memory().available``)."""
    try:
        import psutil  # noqa: PLC0415 - psutil may be missing: the except branch reads sysconf

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - psutil missing or /proc unreadable: the physical size
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):  # pragma: no cover
            return 1 << 62


def check_memory(estimate: float, options, what: str, force: bool = False,
                 force_option: str | None = "--force") -> None:
    """Refuse (``ResourceError`` naming ``options[0]``) when ``estimate`` bytes exceed the
    available memory, unless ``force``.  The message names ``force_option`` as the way past
    the refusal; ``None`` where the command has none (a set of trials: ``sigadmm reproduce``)."""
    avail = available_memory()
    if force or estimate <= avail:
        return
    opts = list(options)
    past = "" if force_option is None else f", or pass {force_option} if you know the machine can hold it"
    raise ResourceError(f"{opts[0]}: {what} needs about {fmt_bytes(estimate)} of memory (estimate), "
                        f"{fmt_bytes(avail)} available; reduce {', '.join(opts)}{past}")


def lifted_net_bytes(widths, n: int, n_test: int = 0, iters: int = 0) -> dict:
    """Working set of a lifted method (ADMM and its peers) on ``widths = (d_0, ..., d_L)``
    and ``n`` samples, by part (bytes, float64): ``weights`` (W_i with bias, kept three times:
    iterate, best, checkpoint), ``lifted`` (V_i, U_i, multipliers and temporaries: six
    d_i x n arrays per layer, three on the test points), ``solves`` (two Gram/inverse matrices
    per layer), ``data`` and ``trace`` (about 16 + 12 L floats per iteration)."""
    d = [int(x) for x in widths]
    L = len(d) - 1
    n, n_test, iters = int(n), int(n_test), int(iters)
    w = sum(d[i] * (d[i - 1] + 1) for i in range(1, L + 1))
    act = sum(d[1:])
    return {"weights": 8.0 * 3 * w,
            "lifted": 8.0 * act * (6 * n + 3 * n_test),
            "solves": 8.0 * 2 * sum((d[i - 1] + 1) ** 2 + d[i] ** 2 for i in range(1, L + 1)),
            "data": 8.0 * (n + n_test) * (d[0] + d[-1]) * 2,
            "trace": 8.0 * iters * (16 + 12 * L)}


def lifted_net_flops(widths, n: int, iters: int) -> float:
    """Arithmetic of ``iters`` iterations of a lifted method: per layer and iteration, a dozen
    products of a d_i x d_{i-1} matrix with the n samples and two cubic solves."""
    d = [int(x) for x in widths]
    per = sum(12.0 * d[i] * (d[i - 1] + 1) * n + float(d[i - 1] + 1) ** 3 + float(d[i]) ** 3
              for i in range(1, len(d)))
    return per * int(iters)


def lifted_net_memory(widths, n: int, n_test: int = 0, iters: int = 0) -> float:
    """Peak memory of a run (bytes): the parts of :func:`lifted_net_bytes` plus
    :data:`MEM_SLACK`; an upper bound of the measured peak within :data:`MEM_FACTOR`."""
    return sum(lifted_net_bytes(widths, n, n_test, iters).values()) + MEM_SLACK


def lifted_net_seconds(widths, n: int, iters: int) -> float:
    """CPU seconds of ``iters`` iterations: :func:`lifted_net_flops` at :data:`FLOPS_PER_S`
    plus :data:`SECONDS_PER_LAYER_STEP` per layer and iteration; an upper bound of the
    measured CPU time within :data:`TIME_FACTOR`."""
    layers = len(tuple(widths)) - 1
    return lifted_net_flops(widths, n, iters) / FLOPS_PER_S + int(iters) * layers * SECONDS_PER_LAYER_STEP


def check_time(flops: float, options, what: str, force: bool = False, seconds: float | None = None) -> None:
    """Refuse a run estimated to take more than :data:`MAX_HOURS` (unless ``force``);
    ``seconds``: the estimate when known (:func:`lifted_net_seconds`), else ``flops`` at
    :data:`FLOPS_PER_S`."""
    hours = (flops / FLOPS_PER_S if seconds is None else seconds) / 3600.0
    if force or hours <= MAX_HOURS:
        return
    opts = list(options)
    raise ResourceError(f"{opts[0]}: {what} would take about {hours:,.0f} hours "
                        f"({flops:.2g} floating-point operations at {FLOPS_PER_S:.0e}/s); the limit "
                        f"is {MAX_HOURS:g} h; reduce {', '.join(opts)}, or pass --force")


def check_net_run(widths, n, n_test, iters, *, width_option, n_option="--n", iters_option="--iters",
                  force=False, what="the run", runs=1, n_test_option=None):
    """Memory and time of ``runs`` runs of a lifted net, checked before any allocation; the
    message names the option whose part of the estimate is largest first (``n_test_option``:
    the test points' option, named for the data when they outnumber the training points)."""
    parts = lifted_net_bytes(widths, n, n_test, iters)
    points = n_test_option if n_test_option is not None and int(n_test) > int(n) else n_option
    owner = {"weights": width_option, "solves": width_option, "data": points,
             "trace": iters_option,
             "lifted": points if max(int(n), int(n_test)) > max(int(w) for w in widths) else width_option}
    ranked = sorted(parts, key=parts.get, reverse=True)
    check_memory(sum(parts.values()) + MEM_SLACK, list(dict.fromkeys(owner[k] for k in ranked)),
                 what, force)
    t_opts = ([iters_option, width_option, n_option] if int(iters) >= max(int(w) for w in widths)
              else [width_option, iters_option, n_option])
    check_time(lifted_net_flops(widths, n, iters) * runs, t_opts, what, force,
               seconds=lifted_net_seconds(widths, n, iters) * runs)
    return parts


def check_distinct(paths) -> None:
    """``paths``: ``(path, option)`` pairs of files a run writes.  Two that are one file
    (the same name after resolving links and ``..``, or one inode) raise ``ResourceError``
    naming both options: the later write would silently replace the earlier."""
    seen = []
    for path, option in paths:
        if path is None:
            continue
        p = Path(path)
        real = os.path.realpath(p)
        for q, qreal, qopt in seen:
            same = real == qreal
            if not same:
                try:
                    same = os.path.samefile(p, q)
                except OSError:
                    same = False
            if same:
                raise ResourceError(f"{option}: {str(p)!r} is the same file as {qopt} {str(q)!r}; "
                                    f"the one would overwrite the other: give {option} another name")
        seen.append((p, real, option))


def write_failure(exc: OSError) -> str | None:
    """The one-line message of a write that failed for a reason the user can fix (disk full,
    quota, I/O error, read-only file system, a name too long), else ``None``."""
    why = WRITE_ERRNOS.get(getattr(exc, "errno", None))
    if why is None:
        return None
    where = exc.filename if getattr(exc, "filename", None) else "an output file"
    return (f"writing {str(where)!r} failed: {why}; the files written before are intact (each "
            f"file is written to a temporary name and renamed); fix it and run the same command "
            f"again")
