"""``import solver`` with a read-only package folder and a read-only HOME (issue 14, item 5).

What this proves, and how: the suite runs as root, and root ignores permission bits, so a
``chmod`` would prove nothing.  The test makes the folders *really* read-only instead: in a
private mount namespace (``unshare -m``; invisible to every other process) it bind-mounts
the ``solver`` package folder and an empty HOME read-only over themselves.  A read-only
mount refuses writes with EROFS even to root, which is exactly what numba's cache locators
test (they create the folder and a temporary file in it).  Then, in that namespace:

1. with :mod:`solver._numba_cache` stubbed out, ``import solver`` fails with numba's "no
   locator available": the setup reproduces the reported failure (no in-tree ``__pycache__``,
   no user cache folder);
2. the real ``import solver`` succeeds, ``numba.config.CACHE_DIR`` is the private folder
   under ``TMPDIR``, and a kernel compiled there is cached there (index files written).

Skipped where mount namespaces are not available (``unshare`` missing or not permitted).
The fallback's choice itself (package folder, then user folder, then temporary) is also
tested in-process on paths that cannot hold a file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import solver
from solver import _numba_cache

PKG = Path(solver.__file__).parent


def _unshare_works():
    if shutil.which("unshare") is None:
        return False
    d = Path(__file__).parent
    r = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind '{d}' '{d}' && mount -o remount,bind,ro '{d}'"],
                       capture_output=True, timeout=30)
    return r.returncode == 0


STUB = ("import sys, types; sys.modules['solver._numba_cache'] = types.ModuleType('solver._numba_cache'); "
        "import solver; from solver import ADMM")  # the namespace is lazy: ADMM loads the kernels
REAL = ("import numba, solver; from solver import ADMM; from solver import activation_kernels as a; a.sigmoid_f(0.5); "
        "print('CACHE_DIR=' + numba.config.CACHE_DIR); print('PATH=' + a.sigmoid_f._cache._cache_path)")


@pytest.mark.skipif(not _unshare_works(), reason="needs mount namespaces (unshare -m)")
def test_import_solver_with_read_only_package_and_home(tmp_path):
    home, tmpdir = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmpdir.mkdir()
    py = sys.executable
    script = f"""
set -e
mount --bind '{PKG}' '{PKG}'
mount -o remount,bind,ro '{PKG}'
mount --bind '{home}' '{home}'
mount -o remount,bind,ro '{home}'
cd '{home}'
if touch '{PKG}/__pycache__/probe' 2>/dev/null || touch '{home}/probe' 2>/dev/null; then
  echo NOT-READ-ONLY; exit 9; fi
export HOME='{home}' TMPDIR='{tmpdir}' PYTHONDONTWRITEBYTECODE=1
unset XDG_CACHE_HOME NUMBA_CACHE_DIR
echo '--- stub'
'{py}' -c "{STUB}" 2>&1 | tail -1 || true
echo '--- real'
'{py}' -c "{REAL}"
"""
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    stub, real = r.stdout.split("--- real")
    assert "no locator available" in stub, stub  # the setup reproduces the reported failure
    cache_dir = next(ln for ln in real.splitlines() if ln.startswith("CACHE_DIR="))[len("CACHE_DIR="):]
    assert cache_dir.startswith(str(tmpdir)), real
    assert any(Path(cache_dir).rglob("*.nbi")), "the kernel was compiled and cached in the fallback"


def test_fallback_order(tmp_path, monkeypatch):
    import numba

    blocker = tmp_path / "a_file"
    blocker.write_text("x")  # a folder cannot be made under a file, even by root
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    # the package's own __pycache__ writable: nothing changes
    assert _numba_cache.ensure_cache_dir(tmp_path / "pkg", blocker / "user") is None
    assert numba.config.CACHE_DIR == ""
    # only the user folder writable: nothing changes (numba uses it)
    assert _numba_cache.ensure_cache_dir(blocker / "pkg", tmp_path / "user") is None
    # neither: a private folder under TMPDIR
    got = _numba_cache.ensure_cache_dir(blocker / "pkg", blocker / "user")
    assert got is not None and got.startswith(str(tmp_path / "tmp")) and numba.config.CACHE_DIR == got
    assert (Path(got).stat().st_mode & 0o077) == 0
    # a user's own NUMBA_CACHE_DIR is left alone
    monkeypatch.setattr(numba.config, "CACHE_DIR", "/chosen")
    assert _numba_cache.ensure_cache_dir(blocker / "pkg", blocker / "user") is None


def test_a_method_package_without_a_writable_cache_folder_takes_the_fallback(tmp_path, monkeypatch):
    """numba caches a kernel next to its module: the methods' kernels live in ``solver/admm/``,
    ``solver/dladmm/``, ``solver/inexact_alm/``, so one of those folders without a writable
    ``__pycache__`` (here: a file in its place) needs the fallback even when ``solver/``'s is fine."""
    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    pkg = tmp_path / "pkg"
    for sub in _numba_cache.KERNEL_DIRS:
        (pkg / sub).mkdir(parents=True)
    assert _numba_cache.ensure_cache_dir(pkg, blocker / "user") is None  # every folder writable
    cache = pkg / _numba_cache.KERNEL_DIRS[-1] / "__pycache__"
    cache.rmdir()
    cache.write_text("not a folder")
    got = _numba_cache.ensure_cache_dir(pkg, blocker / "user")
    assert got is not None and got.startswith(str(tmp_path / "tmp")) and numba.config.CACHE_DIR == got
