"""Import layers: ``sigadmm -> verify -> solver -> theory``; imports only go downward.

The contract lives in ``pyproject.toml`` (``[tool.importlinter]``) and is checked here with
import-linter's ``lint-imports`` (the ``test`` extra), so a wrong arrow fails the suite.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["sigadmm", "verify", "solver", "theory"]  # top to bottom


def _lint_imports():
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.fail("lint-imports not found: pip install -e '.[test]' (import-linter)")
        exe = Path(found)
    return str(exe)


def _run(cwd, env_path=None):
    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = str(env_path)
    return subprocess.run([_lint_imports(), "--no-cache", "--no-logo"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_contract_lists_the_four_packages_in_order():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(cfg["root_packages"]) == sorted(LAYERS)
    layers = [c for c in cfg["contracts"] if c["type"] == "layers"]
    assert len(layers) == 1
    assert layers[0]["layers"] == LAYERS


def test_imports_only_go_downward():
    r = _run(ROOT)
    assert r.returncode == 0, f"import-linter contract broken:\n{r.stdout}\n{r.stderr}"
    assert "1 kept, 0 broken" in r.stdout


@pytest.mark.parametrize("where,code,arrow", [
    ("verify", "import sigadmm.report\n", "verify is not allowed to import sigadmm"),
    ("theory", "def f():\n    from solver import tasks\n", "theory is not allowed to import solver"),
])
def test_a_wrong_arrow_breaks_the_contract(tmp_path, where, code, arrow):
    """The contract is not vacuous: an upward import (even inside a function) fails it."""
    for pkg in LAYERS:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / where / "_wrong_arrow.py").write_text(code)
    r = _run(tmp_path, env_path=tmp_path)
    assert r.returncode != 0, r.stdout
    assert arrow in r.stdout and f"{where}._wrong_arrow" in r.stdout
