"""theory's import graph: no cycles, and ``import theory.activations`` stays light.

The modules of ``theory`` form a chain; each imports only modules before it, at module
level or (lazily, for start-up time) inside a function:

    _budget <- _arb, enclosure <- activations <- net <- _args <- gates <- relu_side <- certify <- compare
"""

import ast
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import theory

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["verdicts", "_budget", "_arb", "enclosure", "activations", "net", "_args", "gates", "relu_side",
         "_certify", "compare"]


def _run(code: str, **env) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; it prints one JSON value."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _theory_imports(path: Path):
    """``(module, line, in_function)`` for every import of a theory module in ``path``."""
    tree = ast.parse(path.read_text())
    in_fn = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_fn |= {id(n) for n in ast.walk(node) if n is not node}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.module and node.module.startswith("theory."):
                names = [node.module.split(".")[1]]
            elif node.module == "theory":
                names = [a.name for a in node.names]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("theory.")]
        else:
            continue
        for name in names:
            yield name, node.lineno, id(node) in in_fn


def test_every_module_is_in_the_declared_order():
    found = {p.stem for p in (ROOT / "theory").glob("*.py")} - {"__init__"}
    assert found == set(ORDER)


@pytest.mark.parametrize("module", ORDER)
def test_imports_only_go_down_the_chain(module):
    """No upward import, not even inside a function (that would hide a cycle)."""
    rank = ORDER.index(module)
    for name, line, in_fn in _theory_imports(ROOT / "theory" / f"{module}.py"):
        assert name in ORDER, f"theory/{module}.py:{line} imports theory.{name}, not in the chain"
        assert ORDER.index(name) < rank, (
            f"theory/{module}.py:{line} imports theory.{name}"
            f"{' inside a function' if in_fn else ''}: an upward import")


def test_each_module_imports_first_in_reverse_dependency_order():
    """Each module, imported first (theory.* cleared from sys.modules), loads without a cycle."""
    code = f"""
import importlib, json, sys
ok = []
for name in {list(reversed(ORDER))!r}:
    for key in [k for k in sys.modules if k == "theory" or k.startswith("theory.")]:
        del sys.modules[key]
    importlib.import_module("theory." + name)
    ok.append(name)
print(json.dumps(ok))
"""
    assert _run(code) == list(reversed(ORDER))


_LIGHT = """
import json, sys
import theory.activations
from theory.activations import sigmoid
sigmoid(0.5), sigmoid.d1(0.5), sigmoid.d2(0.5), sigmoid.L(2)
heavy = ["flint", "theory._certify", "theory.gates", "theory.enclosure", "theory._arb",
         "theory.net", "theory.relu_side", "theory.compare"]
from sympy.external.gmpy import GROUND_TYPES
print(json.dumps({"loaded": [m for m in heavy if m in sys.modules], "ground": GROUND_TYPES}))
"""


def test_import_activations_loads_no_certifier():
    """The solver's import: no certifier, no constructions, no ball arithmetic.

    SymPy >= 1.13 itself imports python-flint when it is installed (its "flint" ground
    types), so ``flint`` is checked with SymPy's pure-Python ground types: then nothing
    loads it unless theory does.
    """
    res = _run(_LIGHT, SYMPY_GROUND_TYPES="python")
    assert res == {"loaded": [], "ground": "python"}
    res = _run(_LIGHT)
    assert [m for m in res["loaded"] if m != "flint"] == []
    assert "flint" not in res["loaded"] or res["ground"] == "flint"


def test_scipy_special_loads_with_the_first_float64_value_not_at_import():
    """The float64 functions import scipy.special (slow to import) when first called, and exact
    constants need none of it: ``import theory.activations`` stays light for sympy-only users."""
    code = """
import json, sys
import theory.activations as A
A.sigmoid.L(2), A.gauss_cdf.L(1)
before = "scipy.special" in sys.modules
A.sigmoid(0.5)
print(json.dumps([before, "scipy.special" in sys.modules]))
"""
    assert _run(code) == [False, True]


def test_every_import_left_in_a_function_states_its_reason():
    """ruff's PLC0415 covers theory (pyproject.toml): an import kept in a function carries
    ``# noqa: PLC0415 - <reason>``; a bare noqa is refused."""
    bare = [f"theory/{p.name}:{i}" for p in sorted((ROOT / "theory").glob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(r"#\s*noqa:\s*PLC0415(?!\s*-\s*\S.{8,})", line)]
    assert bare == [], f"noqa: PLC0415 without a reason: {bare}"


def test_bound_without_closed_form_loads_the_enclosure_engine_lazily():
    code = """
import json, sys
import theory.activations as A
before = "theory.enclosure" in sys.modules
A.sigmoid.bound(4)
print(json.dumps([before, "theory.enclosure" in sys.modules, "theory._certify" in sys.modules]))
"""
    assert _run(code) == [False, True, False]


def test_lazy_namespace():
    code = """
import json, sys, types
import theory
first = sorted(k for k in sys.modules if k.startswith("theory."))
import theory.compare  # imports the submodule theory._certify
res = {
    "first": first,
    "certify_is_function": isinstance(theory.certify, types.FunctionType),
    "all_resolve": all(getattr(theory, n) is not None for n in theory.__all__),
    "dir_has_all": set(theory.__all__) <= set(dir(theory)),
    "gates_attr": isinstance(theory.gates, types.ModuleType),
    "reexport": theory.gates.check_eps is theory._args.check_eps,
    "sup_abs": theory.certified_sup_abs is theory.enclosure.certified_sup_abs,
}
try:
    theory.no_such_name
    res["attr_error"] = False
except AttributeError:
    res["attr_error"] = True
print(json.dumps(res))
"""
    res = _run(code)
    assert res.pop("first") == []
    assert all(res.values()), res


def test_reexports_are_the_same_objects():
    import theory.compare as _compare  # noqa: F401 - imports the private module theory._certify
    from theory import _args, enclosure, gates
    from theory import certify as certify_fn

    # the package attribute is the function: no module of that name to shadow it (issue 20)
    assert theory.certify is certify_fn and isinstance(certify_fn, types.FunctionType)
    assert "theory.certify" not in sys.modules
    assert sys.modules["theory._certify"].certified_sup_abs is enclosure.certified_sup_abs
    assert theory.certified_inf_abs is enclosure.certified_inf_abs
    assert gates.check_eps is _args.check_eps and gates.check_M is _args.check_M
