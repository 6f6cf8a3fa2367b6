"""Checked ``.npz`` files: the one file format of traces and checkpoints.

Every file is written atomically (:func:`atomic_write`) with three members besides its
data: ``format_kind`` (``"solver.trace"``, ``"solver.checkpoint"``), ``format_version``
(:data:`FORMAT_VERSION`) and ``checksum`` (:func:`content_digest`, sha256 of every other
member); :func:`read_npz` refuses, with one ``ValueError`` naming the path, anything else:
a folder, an empty, truncated or corrupt archive, another kind of file, a newer version, a
checksum mismatch.  No member is ever unpickled.  :class:`solver.Trace` and the run loop's
checkpoints (:mod:`solver.core`) use it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT_VERSION", "FORMAT_MEMBERS", "LegacyFileWarning", "content_digest", "atomic_write",
           "write_npz", "read_npz"]

#: the file format version written now.  Version 2 added ``format_kind``, ``format_version``
#: and ``checksum`` (sha256 of every other member); files without them (written before)
#: load without the checksum check, with a :class:`LegacyFileWarning`.
FORMAT_VERSION = 2
#: the members every versioned file carries besides its data
FORMAT_MEMBERS = ("format_kind", "format_version", "checksum")


class LegacyFileWarning(UserWarning):
    """A file written before format versions and checksums: loaded without the checksum check."""


# ------------------------------------------------------------------ checked .npz files
def _scalar(z, name, kind):
    """A 0-d member of ``z`` as ``kind`` (``int``, ``float`` or ``str``), else ``ValueError``."""
    a = np.asarray(z[name])
    if a.ndim != 0:
        raise ValueError(f"{name}: expected a scalar entry, got shape {a.shape}")
    if kind is str:
        if a.dtype.kind not in "US":
            raise ValueError(f"{name}: expected a string entry, got {a.dtype}")
        return str(a)
    if kind is int:
        if a.dtype.kind not in "iu":
            raise ValueError(f"{name}: expected an integer entry, got {a.dtype}")
        return int(a)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected a number, got {a.dtype}")
    return float(a)


def content_digest(members) -> str:
    """sha256 of an archive's members (every one but ``checksum``): name, dtype, shape, bytes."""
    h = hashlib.sha256()
    for name in sorted(members):
        if name == "checksum":
            continue
        a = np.asarray(members[name])
        h.update(name.encode("utf-8") + b"\0" + a.dtype.str.encode() + b"\0" + repr(a.shape).encode() + b"\0")
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def atomic_write(path, write) -> Path:
    """Call ``write(fh)`` on a temporary name unique to this process and thread, flush it
    to disk, then rename it over ``path``: a reader sees the old file or the new one,
    never a half-written one (the temporary is removed if ``write`` fails)."""
    path = Path(path)
    tmp = path.with_name(_tmp_name(path.name, f".{os.getpid()}.{threading.get_ident()}.tmp"))
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _tmp_name(name: str, tail: str) -> str:
    """``.NAME<tail>``, or a short digest of NAME in its place when that would pass the
    file-name limit (255 bytes on common file systems): a name at the limit stays writable."""
    full = f".{name}{tail}"
    if len(os.fsencode(full)) <= 255:
        return full
    return f".{hashlib.sha256(os.fsencode(name)).hexdigest()[:16]}{tail}"


def write_npz(path: Path, members: dict, kind: str, compressed=False) -> None:
    """Write ``members`` plus kind, version and checksum to ``path`` (:func:`atomic_write`)."""
    data: dict[str, Any] = {k: np.asarray(v) for k, v in members.items()}
    data["format_kind"] = np.asarray(kind)
    data["format_version"] = np.asarray(FORMAT_VERSION)
    data["checksum"] = np.asarray(content_digest(data))
    atomic_write(path, lambda fh: (np.savez_compressed if compressed else np.savez)(fh, **data))


def _looks_like_legacy_trace(files):
    return "n_layers" in files and "meta_json" in files and not any(f.startswith("state_") for f in files)


def read_npz(path: Path, kind: str, what: str, legacy_ok) -> dict:
    """The members of the ``.npz`` file ``path`` of kind ``kind``, checked.

    Raises ``FileNotFoundError`` for a missing file and one ``ValueError`` naming the path
    for everything else: a folder, an empty, truncated or corrupt archive, another kind of
    file, a newer format version, a checksum mismatch (the file was edited or damaged
    after it was written).  A file without a format version is accepted when
    ``legacy_ok(member_names)`` says it has the old layout, with a :class:`LegacyFileWarning`.
    """
    where = f"{what} file {str(path)!r}"
    if not path.exists():
        raise FileNotFoundError(f"{what}: no {what} file at {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"{where}: is a directory; expected a .npz file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise ValueError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise ValueError(f"{where}: is empty (0 bytes); expected a .npz archive")
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{where}: is a single .npy array, not a .npz archive")
    if not head.startswith(b"PK"):
        raise ValueError(f"{where}: is not a .npz archive (it starts with {head!r}); "
                         f"expected a file written by this toolkit")
    try:
        with np.load(path, allow_pickle=False) as z:
            members = {name: z[name] for name in z.files}
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{where}: is truncated or corrupt ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - any failure to parse the archive is a damaged file
        raise ValueError(f"{where}: is corrupt: cannot read its arrays "
                         f"({type(exc).__name__}: {exc})") from None
    files = list(members)
    if "format_kind" in members or "format_version" in members or "checksum" in members:
        missing = [m for m in FORMAT_MEMBERS if m not in members]
        if missing:
            raise ValueError(f"{where}: missing format entries {missing}")
        try:
            got_kind = _scalar(members, "format_kind", str)
            version = _scalar(members, "format_version", int)
            checksum = _scalar(members, "checksum", str)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if got_kind != kind:
            raise ValueError(f"{where}: is a {got_kind!r} file, not a {kind!r} file")
        if version != FORMAT_VERSION:
            raise ValueError(f"{where}: format version {version} is not supported (this toolkit "
                             f"reads version {FORMAT_VERSION} and the unversioned files written before)")
        if content_digest(members) != checksum:
            raise ValueError(f"{where}: checksum mismatch: the contents were changed or damaged "
                             f"after the file was written; refusing to use it")
        return members
    if not legacy_ok(files):
        other = ("a checkpoint" if "fingerprint" in files else
                 "a trace" if _looks_like_legacy_trace(files) else "an unknown kind of archive")
        raise ValueError(f"{where}: is {other} (entries {sorted(files)[:8]}"
                         f"{'...' if len(files) > 8 else ''}), not a {what} file")
    warnings.warn(f"{where}: written before format versions (no checksum); loaded without "
                  f"the checksum check", LegacyFileWarning, stacklevel=3)
    return members
