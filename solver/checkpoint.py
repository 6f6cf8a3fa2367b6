"""Checkpoint files of the run loop (:func:`solver.core.solve`): format, lock, save and load.

A checkpoint is a checked ``.npz`` file (:mod:`solver.npz`, kind ``"solver.checkpoint"``)
holding the engine's state, the trace so far, the best iterate, the elapsed time and the
run's fingerprint (data, initial weights and settings: :func:`solver.core.fingerprint`); a
resume refuses another run's checkpoint.  While a run writes it, an advisory lock
(``<checkpoint>.lock``, POSIX ``flock``) keeps a second run from using the same file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from .npz import _scalar, _tmp_name, read_npz, write_npz
from .trace import Trace

__all__ = ["CHECKPOINT_FORMAT", "CheckpointInUseError", "checkpoint_path", "checkpoint_lock"]


# ------------------------------------------------------------- checkpoints
#: ``format_kind`` of a checkpoint file (traces: :data:`solver.trace.TRACE_FORMAT`)
CHECKPOINT_FORMAT = "solver.checkpoint"


class CheckpointInUseError(ValueError):
    """Another run (another process, or another fit in this one) holds the checkpoint's lock."""


def checkpoint_path(checkpoint) -> Path:
    """The ``.npz`` path a checkpoint setting refers to."""
    path = Path(checkpoint)
    return path if path.suffix == ".npz" else path.with_suffix(".npz")


#: lock files held by this process (flock locks are per open file: a second fit in the same
#: process would get its own lock, so the process also remembers what it holds)
_HELD_LOCKS: set = set()


@contextlib.contextmanager
def checkpoint_lock(checkpoint):
    """Check the checkpoint's path and hold ``<path>.lock`` for the run (``None``: nothing).

    Before any work: the path must not be a folder and its folder must exist or be
    creatable and writable (``ValueError`` naming ``checkpoint`` otherwise).  Then an
    exclusive ``fcntl.flock`` on ``<path>.lock``: a second run on the same path, in this
    process or another, is refused with :class:`CheckpointInUseError` instead of both
    writing one file.  The lock goes with the process (``kill -9`` included); the lock
    file stays (removing it would race with a run that has it open).
    """
    if checkpoint is None:
        yield None
        return
    from ._validation import check_output_path  # noqa: PLC0415 - import time: it loads scikit-learn

    path = check_output_path(checkpoint, "checkpoint", suffix=".npz")  # == checkpoint_path(checkpoint)
    lock = path.with_name(path.name + ".lock")
    if len(os.fsencode(lock.name)) > 255:  # a name at the file system's limit: a short lock name
        lock = path.with_name(_tmp_name(path.name, ".lock"))
    key = str(lock.resolve())
    try:
        import fcntl  # noqa: PLC0415 - POSIX only (the lock is skipped elsewhere)
    except ImportError:  # pragma: no cover - no flock on this platform: no lock
        yield path
        return
    if key in _HELD_LOCKS:
        raise CheckpointInUseError(f"checkpoint: {str(path)!r} is in use by another run in this "
                                   f"process; use another checkpoint path")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise CheckpointInUseError(
                f"checkpoint: {str(path)!r} is in use by another run (process {holder} holds "
                f"{str(lock)!r}); wait for it to finish or use another checkpoint path") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD_LOCKS.add(key)
        try:
            yield path
        finally:
            _HELD_LOCKS.discard(key)
    finally:
        os.close(fd)  # releases the flock


def _save_checkpoint(checkpoint, st, trace, best, elapsed, fp):
    """Write state, trace and best iterate atomically (a unique temporary, fsync, rename).

    The archive carries ``format_kind``, ``format_version`` and a sha256 ``checksum`` of its
    contents (:func:`solver.npz.write_npz`), verified by :func:`_load_checkpoint`.
    """
    path = checkpoint_path(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = st.arrays("state_")
    for key, val in trace.to_dict().items():
        data["trace_" + key] = val
    data["fingerprint"] = np.asarray(fp)
    data["elapsed"] = np.asarray(float(elapsed))
    data["best_mse"] = np.asarray(float(best[0]))
    data["best_iter"] = np.asarray(int(best[1]))
    if best[2] is not None:
        for j, w in enumerate(best[2]):
            data[f"best_W{j}"] = w
    write_npz(path, data, CHECKPOINT_FORMAT)


def _looks_like_legacy_checkpoint(files):
    return "fingerprint" in files and "state_k" in files


def _check_checkpoint_activation(ck_meta, meta, checkpoint):
    """Refuse a checkpoint whose stored ``(activation, activation_expr)`` is not this run's.

    The pair is compared as stored (both written by the estimator's ``_settings`` from the
    resolved :class:`theory.Activation`): a checkpoint that names this run's activation but
    carries another expression (or the reverse) would resume with a function the run was not
    given."""
    keys = [k for k in ("activation", "activation_expr") if k in meta]
    if keys and any(ck_meta.get(k) != meta[k] for k in keys):
        raise ValueError(
            f"checkpoint: {str(checkpoint_path(checkpoint))!r} was written with activation "
            f"{ck_meta.get('activation')!r} = {ck_meta.get('activation_expr')}, but this run's is "
            f"{meta.get('activation')!r} = {meta.get('activation_expr')}; refusing to resume")


def _load_checkpoint(checkpoint, fp, engine, w0=None):
    """State, trace, best iterate and elapsed time of a checkpoint, every part checked.

    One ``ValueError`` naming the path for any problem: unreadable, corrupt or edited
    archive (:func:`solver.npz.read_npz`), another kind of file, another run's
    checkpoint (fingerprint), missing or unexpected members, shapes that do not chain
    with the data, or an iteration counter that disagrees with the trace.
    """
    path = checkpoint_path(checkpoint)
    where = f"checkpoint file {str(path)!r}"
    if not path.exists():
        raise ValueError(f"checkpoint: no checkpoint file at {str(path)!r} to resume from")
    z = read_npz(path, CHECKPOINT_FORMAT, what="checkpoint", legacy_ok=_looks_like_legacy_checkpoint)
    required = ("fingerprint", "elapsed", "best_mse", "best_iter", "state_k", "trace_n_layers",
                "trace_meta_json")
    missing = [m for m in required if m not in z]
    if missing:
        raise ValueError(f"{where}: missing members {missing}")
    try:
        got_fp = _scalar(z, "fingerprint", str)
        elapsed = _scalar(z, "elapsed", float)
        best_mse = _scalar(z, "best_mse", float)
        best_iter = _scalar(z, "best_iter", int)
        k = _scalar(z, "state_k", int)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if got_fp != fp:
        raise ValueError(f"checkpoint: {str(path)!r} was written for other data or settings "
                         "(fingerprint mismatch); refusing to resume")
    try:
        st = engine.state_from_arrays(z, "state_")
    except KeyError as exc:
        raise ValueError(f"{where}: missing member {exc} of the {engine.name} state") from None
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"{where}: the {engine.name} state cannot be rebuilt ({exc})") from None
    state_keys = {key for key in z if key.startswith("state_")}
    rebuilt = set(st.arrays("state_"))
    if state_keys != rebuilt:
        raise ValueError(f"{where}: state members {sorted(state_keys ^ rebuilt)} do not belong to "
                         f"a {len(st.W)}-layer {engine.name} state")
    bad = [key for key in z if key.startswith(("state_", "best_W")) and np.asarray(z[key]).dtype.kind not in "biuf"]
    if bad:
        raise ValueError(f"{where}: members {sorted(bad)} hold no numbers")
    if w0 is not None:  # every state array shaped as the engine's own initial state
        ref = engine.initial_state(w0).arrays("state_")
        if set(ref) != state_keys:
            raise ValueError(f"{where}: state members {sorted(state_keys ^ set(ref))} do not match "
                             f"the network's {len(w0)} layers")
        wrong = {key: np.shape(z[key]) for key in ref if np.shape(z[key]) != np.shape(ref[key])}
        if wrong:
            raise ValueError(f"{where}: state members of the wrong shape {wrong}; expected "
                             f"{ {key: np.shape(ref[key]) for key in wrong} }")
    tz = {key[len("trace_"):]: z[key] for key in z if key.startswith("trace_")}
    tr = Trace.from_dict(tz, source=where)
    N = len(st.W)
    d_in, d_out = engine.X.shape[0], engine.Y.shape[0]
    shapes = [np.shape(w) for w in st.W]
    chain_ok = (N >= 1 and all(len(s_) == 2 for s_ in shapes) and shapes[0][1] == d_in + 1
                and shapes[-1][0] == d_out and all(shapes[j][1] == shapes[j - 1][0] + 1 for j in range(1, N)))
    if not chain_ok:
        raise ValueError(f"{where}: weight shapes {shapes} do not form a network from {d_in} inputs "
                         f"to {d_out} outputs")
    if tr.n_layers != N:
        raise ValueError(f"{where}: the trace has {tr.n_layers} layers, the state {N}")
    if k < 0 or k != len(tr):
        raise ValueError(f"{where}: iteration counter state_k = {k} disagrees with the trace's "
                         f"{len(tr)} recorded iterations")
    if not 0 <= best_iter <= k or not (np.isfinite(elapsed) and elapsed >= 0):
        raise ValueError(f"{where}: best_iter = {best_iter} (expected 0..{k}) or elapsed = "
                         f"{elapsed} (expected >= 0) is out of range")
    best_keys = sorted((key for key in z if key.startswith("best_W")), key=lambda s_: s_[6:])
    bw = None
    if best_keys:
        if set(best_keys) != {f"best_W{j}" for j in range(N)}:
            raise ValueError(f"{where}: best-iterate members {best_keys} do not match {N} layers")
        bw = [np.array(z[f"best_W{j}"], dtype=float) for j in range(N)]
        if [w.shape for w in bw] != shapes:
            raise ValueError(f"{where}: best-iterate shapes {[w.shape for w in bw]} differ from "
                             f"the state's {shapes}")
    known = set(required) | state_keys | {f"trace_{key}" for key in tz} | set(best_keys) | {
        "format_kind", "format_version", "checksum"}
    extra = sorted(set(z) - known)
    if extra:
        raise ValueError(f"{where}: unexpected members {extra}")
    return st, tr, (best_mse, best_iter, bw), elapsed
