"""The imports sigadmm keeps inside functions, and why (issue 20, item 1).

ruff's PLC0415 (pyproject.toml) puts every import of ``sigadmm`` at its module's top; an
import left in a function carries ``# noqa: PLC0415 - <reason>``.  The reasons are of three
kinds, each checked here by what it claims:

* heavy or optional third-party packages (matplotlib, pandas, torch, dask, tqdm, ...): a
  library module of sigadmm imports without loading them;
* the command line: ``sigadmm --help`` loads every subcommand module (``sigadmm.cli``), and
  none of them loads ``verify``, sympy, python-flint or a plotting library before its command runs;
* a module that may be missing (``fcntl``, ``psutil``): its ``except ImportError`` branch.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: third-party packages a sigadmm library module may import only inside the function that needs it
LAZY_PACKAGES = ("matplotlib", "torch", "distributed", "dask", "tqdm", "mlxtend")
#: sigadmm's library modules (not the command line)
LIBRARY = ("sigadmm.paper", "sigadmm.trials", "sigadmm.reproduce", "sigadmm.studies", "sigadmm.results",
           "sigadmm.results.plan", "sigadmm.results.cli", "sigadmm.results_report", "sigadmm.ledger",
           "sigadmm.peers", "sigadmm.sweep", "sigadmm.data", "sigadmm.baselines", "sigadmm.report")

NOQA = re.compile(r"#\s*noqa:\s*PLC0415(.*)$")


def _loaded(code):
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.split()


def test_every_import_left_in_a_function_states_its_reason():
    """The cheapest way round the rule is a bare ``# noqa: PLC0415``: refused."""
    bare = []
    for path in sorted((ROOT / "sigadmm").rglob("*.py")):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            m = NOQA.search(line)
            if m and not re.match(r"\s*-\s*\S.{8,}", m.group(1)):
                bare.append(f"{path.relative_to(ROOT)}:{i}")
    assert bare == [], f"noqa: PLC0415 without a reason: {bare}"


def test_the_library_modules_load_no_heavy_optional_package():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in LIBRARY)
            + f"print(*[p for p in {LAZY_PACKAGES!r} if p in sys.modules])")
    assert _loaded(code) == []


def test_the_library_modules_import_without_the_sweep_extra():
    """pandas is the optional ``sweep`` extra (pyproject.toml): imported inside the functions that
    need it, so every library module imports where it is absent (``sys.modules['pandas'] = None``
    makes ``import pandas`` raise ImportError)."""
    code = ("import sys\nsys.modules['pandas'] = None\n" + "".join(f"import {m}\n" for m in LIBRARY)
            + "print('imported')")
    assert _loaded(code) == ["imported"]


def test_sigadmm_data_loads_scikit_learn_only_for_a_real_data_set():
    code = "import sys\nimport sigadmm.data\nprint('sklearn' in sys.modules)"
    assert _loaded(code) == ["False"]


def test_the_modules_that_may_be_missing_have_their_branch(tmp_path):
    """psutil and fcntl are imported where their ImportError branch runs: with them absent the
    available memory is still read (sysconf) and a results set is still worked on (no lock)."""
    code = ("import sys\nsys.modules['psutil'] = None\nsys.modules['fcntl'] = None\n"
            "from pathlib import Path\nfrom sigadmm import _resources\nfrom sigadmm.results.cli import results_lock\n"
            f"with results_lock(Path({str(tmp_path)!r})):\n    held = True\n"
            "print(_resources.available_memory() > 0, held)")
    assert _loaded(code) == ["True", "True"]


def test_sigadmm_help_loads_no_verify_sympy_or_plotting():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom sigadmm.cli import main\n"
            "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "print(*[p for p in ('verify', 'sympy', 'flint', 'matplotlib', 'pandas', 'torch') if p in sys.modules])")
    assert _loaded(code) == []


def test_the_probe_would_see_a_heavy_import():
    """The check can fail: a module that imports matplotlib at its top is seen."""
    assert _loaded("import sys\nimport matplotlib\nprint('matplotlib' in sys.modules)") == ["True"]
