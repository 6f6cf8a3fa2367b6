"""A writable cache folder for numba's ``cache=True`` kernels, whatever the install.

numba caches a compiled function next to its source (the ``__pycache__`` of the folder that
holds it: ``solver/`` for the activation kernels, ``solver/admm/``, ``solver/dladmm/`` and
``solver/inexact_alm/`` for the methods' kernels, :data:`KERNEL_DIRS`) or, when one of them is
not writable, in the user's cache folder (``~/.cache/numba``); when neither is
(a package installed into a read-only system location, a read-only or missing HOME),
decorating the function raises "cannot cache function ...: no locator available", and
``import solver`` fails.  :func:`ensure_cache_dir` runs before the kernels are defined
(:mod:`solver.admm.kernels` and :mod:`solver.activation_kernels` import this module first): in
that case only, it points ``numba.config.CACHE_DIR`` at a private folder under the
temporary directory, so the kernels compile and cache there.

Writability is tested as numba tests it, by creating the folder and a temporary file in
it (permission bits say nothing for root, read-only mounts or a full disk).  A folder set
by the user (``NUMBA_CACHE_DIR``) is left alone.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import numba
from numba.misc.appdirs import AppDirs

__all__ = ["ensure_cache_dir", "writable_dir", "FALLBACK_PREFIX", "KERNEL_DIRS"]

#: the method packages (subfolders of this package) whose modules define ``cache=True`` kernels,
#: besides this package's own :mod:`solver.activation_kernels`
KERNEL_DIRS = ("admm", "dladmm", "inexact_alm")

#: name of the fallback folder under the temporary directory (the user id is appended)
FALLBACK_PREFIX = "sigadmm-numba-cache"


def writable_dir(path) -> bool:
    """True when ``path`` exists or can be created and a file can be written in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except (OSError, ValueError):
        return False


def _user_cache_dir() -> str:
    return AppDirs(appname="numba", appauthor=False).user_cache_dir


def _private_tmp_dir() -> str | None:
    """``<tmp>/sigadmm-numba-cache-<uid>``, owned by this user and not shared, else a fresh one."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"{FALLBACK_PREFIX}-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(path)
        ours = stat.S_ISDIR(st.st_mode) and (not hasattr(os, "getuid") or st.st_uid == uid)
        if ours and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and writable_dir(path):
            return str(path)
    except OSError:
        pass
    try:  # somebody else's folder (or a link) under that name: a fresh private one
        return tempfile.mkdtemp(prefix=f"{FALLBACK_PREFIX}-")
    except OSError:
        return None


def ensure_cache_dir(package_dir=None, user_dir=None) -> str | None:
    """Set ``numba.config.CACHE_DIR`` to a private temporary folder when numba has no
    writable place of its own for this package's kernels; returns the folder set (or None).

    Numba's own place is writable when the ``__pycache__`` of the package and of each folder of
    :data:`KERNEL_DIRS` is.  ``package_dir`` (default: this package) and ``user_dir`` (default:
    numba's user cache folder) are parameters for the tests.
    """
    if numba.config.CACHE_DIR:  # the user chose one (NUMBA_CACHE_DIR)
        return None
    package_dir = Path(__file__).parent if package_dir is None else Path(package_dir)
    folders = [package_dir] + [package_dir / sub for sub in KERNEL_DIRS if (package_dir / sub).is_dir()]
    if all(writable_dir(folder / "__pycache__") for folder in folders):
        return None
    if writable_dir(_user_cache_dir() if user_dir is None else user_dir):
        return None
    folder = _private_tmp_dir()
    if folder is not None:
        numba.config.CACHE_DIR = folder
    return folder


ensure_cache_dir()
