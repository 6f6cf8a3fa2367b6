"""Input validation at the estimator boundary: clear ``ValueError`` before any work."""

from __future__ import annotations

import numbers
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as _sparse

from ._json import loads_json
from .params import ParameterError

__all__ = ["loads_json", "as_design", "check_array", "check_Xy", "check_positive_int_tuple", "check_beta", "check_init_weights",
           "check_output_path"]


def as_design(X, y):
    """``(X, Y)`` as float arrays, ``Y`` with one column per output: the data of a run written
    outside the estimators (the extended-precision engine, the initial energy of the conditions)."""
    X = np.asarray(X, float)
    Y = np.asarray(y, float)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-d array (n_samples, n_features), got shape {X.shape}")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} rows, got shape {Y.shape}")
    return X, Y


def check_array(a, name, ndim=(2,), allow_none=False):
    """Float64 C-contiguous array with finite real entries, ``a.ndim in ndim``.

    Raises ``ValueError`` naming ``name`` and the expected form (``TypeError`` for entries
    that are not numbers at all, as numpy does).
    """
    if a is None:
        if allow_none:
            return None
        raise ValueError(f"{name}: expected an array, got None")
    if _sparse.issparse(a):
        raise TypeError(f"{name}: sparse input is not supported; expected a dense array "
                        f"(convert with .toarray())")
    try:
        raw = np.asarray(a)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise type(exc)(f"{name}: expected a numeric array; {exc}") from None
    if raw.dtype.kind == "c":
        raise ValueError(f"{name}: Complex data not supported; expected real numbers")
    try:
        arr = raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: expected a numeric array; {exc}") from None
    if arr.ndim not in ndim:
        forms = " or ".join({1: "(n_samples,)", 2: "(n_samples, n_features)"}.get(d, f"{d}-d") for d in ndim)
        hint = ("; Reshape your data with .reshape(-1, 1) for a single feature or .reshape(1, -1) "
                "for a single sample") if arr.ndim == 1 and 2 in ndim else ""
        raise ValueError(f"{name}: expected an array of shape {forms}, got shape {arr.shape}{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one column; found array with 0 feature(s) "
                         f"(shape={arr.shape}) while a minimum of 1 is required.")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite values, found {bad} NaN/inf entries")
    return np.ascontiguousarray(arr)


def check_Xy(X, y, xname="X", yname="y", n_features=None, n_outputs=None):
    """Validate a data pair; returns ``(X (n, d), Y (n, m), y_was_1d)``."""
    if y is None:
        raise ValueError(f"{yname}: this estimator requires y to be passed, but the target y is None")
    X = check_array(X, xname, ndim=(2,))
    y = check_array(y, yname, ndim=(1, 2))
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{yname}: expected {X.shape[0]} samples to match {xname} "
                         f"(shape {X.shape}), got shape {y.shape}")
    was_1d = y.ndim == 1
    Y = y[:, None] if was_1d else y
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{xname}: expected {n_features} features (as in training), got shape {X.shape}")
    if n_outputs is not None and Y.shape[1] != n_outputs:
        raise ValueError(f"{yname}: expected {n_outputs} outputs (as in training), got shape {y.shape}")
    return X, np.ascontiguousarray(Y), was_1d


def check_positive_int_tuple(v, name):
    if isinstance(v, numbers.Integral):
        v = (v,)
    try:
        t = tuple(v)
    except TypeError:
        raise ParameterError(name, f"{name}: expected a sequence of positive integers, got {v!r}") from None
    if len(t) == 0 or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 1 for x in t):
        raise ParameterError(name, f"{name}: expected a non-empty sequence of positive integers, got {v!r}")
    return tuple(int(x) for x in t)


def check_beta(beta, n_layers):
    """``beta``: a positive scalar or one positive value per layer (hidden + output)."""
    b = np.asarray(beta, dtype=np.float64) if not isinstance(beta, str) else None
    if b is None or b.ndim > 1:
        raise ParameterError("beta", f"beta: expected a positive number or a sequence of {n_layers} positive numbers, got {beta!r}")
    if b.ndim == 0:
        b = np.full(n_layers, float(b))
    if b.shape != (n_layers,):
        raise ParameterError("beta", f"beta: expected a scalar or {n_layers} values (one per layer: "
                         f"hidden layers then output), got {b.size} values")
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ParameterError("beta", f"beta: expected positive finite values, got {b.tolist()}")
    return b


def check_init_weights(init_weights, widths):
    """Explicit ``[(W_i, b_i)]`` with ``W_i`` of shape ``(d_i, d_{i-1})`` and ``b_i`` of shape ``(d_i,)``."""
    N = len(widths) - 1
    expected = ", ".join(f"(W{i+1} {widths[i+1], widths[i]}, b{i+1} {(widths[i+1],)})" for i in range(N))
    msg = f"init_weights: expected a list of {N} pairs [{expected}]"
    try:
        pairs = list(init_weights)
    except TypeError:
        raise ValueError(f"{msg}, got {type(init_weights).__name__}") from None
    if len(pairs) != N:
        raise ValueError(f"{msg}, got {len(pairs)} entries")
    out = []
    for i, p in enumerate(pairs):
        try:
            W, b = p
        except (TypeError, ValueError):
            raise ValueError(f"{msg}; entry {i} is not a (W, b) pair") from None
        W = np.asarray(W, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64).reshape(-1) if np.ndim(b) <= 1 else np.asarray(b, dtype=np.float64)
        if W.shape != (widths[i + 1], widths[i]) or b.shape != (widths[i + 1],):
            raise ValueError(f"{msg}; entry {i} has W {W.shape}, b {b.shape}")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"{msg}; entry {i} has NaN/inf values")
        out.append((np.ascontiguousarray(W), np.ascontiguousarray(b)))
    return out


#: folders of pseudo file systems, where no output file is written (check_output_path)
_PSEUDO_FS = ("/dev", "/proc", "/sys")


def check_output_path(path, name, suffix=None, create=True):
    """Check, before any work, that a file can be written at ``path``; returns the ``Path``.

    ``path`` must not be a folder or a special file (``/dev/null``, a FIFO: refused before
    and after the ``suffix`` rewrite, so ``/dev/null`` never becomes ``/dev/null.npz``); its
    name must fit the file system's limit (``os.pathconf(folder, "PC_NAME_MAX")``, in bytes);
    its folder must exist or be creatable (it is created) and writable, which is tested by
    creating and removing a probe file of a short name of its own (permission bits alone say
    nothing for root, read-only mounts or ``/proc``; the probe never lengthens the name, so a
    name at the limit is accepted).  ``suffix``: the suffix the file gets when it has another
    one (``".npz"``).  ``create=False``: nothing is created; the probe goes to the nearest
    existing ancestor of the folder (a dry run, for checks that must leave nothing behind
    when a later check refuses).  Raises ``ValueError`` naming ``name``; never ``OSError``.
    """
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise ValueError(f"{name}: expected a file path, got {type(path).__name__}") from None
    if str(p) in ("", ".") or "\x00" in str(p):
        raise ValueError(f"{name}: expected a file path, got {str(path)!r}")

    def special(q):
        try:
            mode = os.stat(q).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode):
            return "a directory; expected a file path"
        if not stat.S_ISREG(mode):
            kind = ("a character device" if stat.S_ISCHR(mode) else "a block device"
                    if stat.S_ISBLK(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
                    "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            return (f"{kind}, not a regular file (special files such as /dev/null are refused: "
                    f"name a file to write)")
        return None

    for q in (p, p.with_suffix(suffix) if suffix is not None and p.suffix != suffix
              and p.name not in ("", "..") else None):
        why = special(q) if q is not None else None
        if why:
            raise ValueError(f"{name}: {str(q)!r} is {why}")
    if suffix is not None and p.suffix != suffix:
        try:
            p = p.with_suffix(suffix)
        except ValueError:
            raise ValueError(f"{name}: expected a file path, got {str(path)!r}") from None
    parent = p.parent
    # a folder of a pseudo file system (/dev/stdout redirected to a file is a regular file, but
    # its suffixed twin /dev/stdout.npz would be a new file in /dev): not a place for results
    try:
        real_parent = os.path.realpath(parent)
    except (OSError, ValueError):
        real_parent = str(parent)
    for d in _PSEUDO_FS:
        if real_parent == d or real_parent.startswith(d + "/"):
            raise ValueError(f"{name}: {str(p)!r} is in {d} (a pseudo file system of devices and "
                             f"processes, not a place for files): name a file in an ordinary folder")
    ancestor = _existing_ancestor(parent)
    try:
        path_max = os.pathconf(ancestor, "PC_PATH_MAX")
    except (OSError, ValueError):
        path_max = 4096
    n_path = len(os.fsencode(os.path.abspath(p)))
    if n_path >= path_max:
        raise ValueError(f"{name}: the path is {n_path} bytes long; the file system allows paths "
                         f"shorter than {path_max} bytes")
    try:
        limit = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in p.parts:
        n_bytes = len(os.fsencode(part))
        if n_bytes > limit:
            raise ValueError(f"{name}: the name {part[:40]!r}... is {n_bytes} bytes long; the file "
                             f"system allows at most {limit} bytes per name")
    where = parent
    if create:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            anc = _existing_ancestor(parent)
            if anc.exists() and not anc.is_dir():
                reason = f"{str(anc)!r} exists and is not a folder"
            raise ValueError(f"{name}: cannot create the folder {str(parent)!r} for {str(p)!r} "
                             f"({reason})") from None
    else:
        where = _existing_ancestor(parent)
        if not where.is_dir():
            raise ValueError(f"{name}: cannot create the folder {str(parent)!r} for {str(p)!r} "
                             f"({str(where)!r} is not a folder)")
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{name}: cannot write in the folder {str(parent)!r} for {str(p)!r} "
                         f"({exc.strerror or exc})") from None
    why = special(p)
    if why:
        raise ValueError(f"{name}: {str(p)!r} is {why}")
    return p


def _existing_ancestor(path):
    """``path`` or its nearest existing ancestor (for ``os.pathconf`` and ``disk_usage``)."""
    q = Path(os.path.abspath(path))
    while q != q.parent:
        try:
            if q.exists():
                break
        except OSError:  # a name too long, a loop of links: not a usable ancestor
            pass
        q = q.parent
    return q
