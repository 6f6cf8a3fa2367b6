"""The architecture table of issue 20: how the four packages tie together, measured.

Run from the repository root (the same command gives the "before" and the "after")::

    python benchmarks/architecture_metrics.py            # everything (mypy takes ~1-2 min)
    python benchmarks/architecture_metrics.py --fast     # without mypy and import times

It prints, per package (``theory``, ``solver``, ``verify``, ``sigadmm``):

* files and lines (``.py`` files, physical lines);
* imports placed inside functions (``import``/``from`` statements under a ``def``), in all and
  per 1000 lines;
* public names: the sum of ``len(module.__all__)`` over the package's modules (each module
  imported in a subprocess);
* import circles: the strongly connected components of the module import graph (every
  ``import`` of a project module, at module level or inside a function; a package's
  ``__init__`` counts as the package), and of the module-level graph alone;
* ruff findings with ruff's default rules (``--isolated``: the project's configuration
  ignored) and how many are pyflakes (``F``) findings, and the findings of the project's own
  rule set (``[tool.ruff]`` in pyproject.toml);
* mypy errors in its default mode on the four packages, and on the configured public API
  (``[tool.mypy]`` in pyproject.toml) when that exists;
* the import time of ``solver``, ``verify``, ``sigadmm`` (median wall time of 5 fresh
  ``python -c "import X"`` processes, and of ``python -c pass`` for the interpreter alone);

and the 15 longest functions (lines from ``def`` to the last line of the body).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("theory", "solver", "verify", "sigadmm")


def _modules(pkg, root=ROOT):
    """``{dotted module name: path}`` of every ``.py`` file of ``pkg``."""
    out = {}
    for p in sorted((root / pkg).rglob("*.py")):
        rel = p.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _all_modules(root=ROOT, packages=PACKAGES):
    mods = {}
    for pkg in packages:
        mods.update(_modules(pkg, root))
    return mods


class _Walker(ast.NodeVisitor):
    """Collects imports (with whether they sit inside a function) and function lengths."""

    def __init__(self):
        self.depth = 0
        self.imports = []            # (node, inside_function)
        self.functions = []          # (qualname, lineno, length)
        self.stack = []

    def _func(self, node):
        self.functions.append((".".join(self.stack + [node.name]), node.lineno,
                               node.end_lineno - node.lineno + 1))
        self.stack.append(node.name)
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        self.stack.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _func

    def visit_ClassDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    def visit_Import(self, node):
        self.imports.append((node, self.depth > 0))

    def visit_ImportFrom(self, node):
        self.imports.append((node, self.depth > 0))


def _parse(path):
    tree = ast.parse(path.read_text(), str(path))
    w = _Walker()
    w.visit(tree)
    return w


def _targets(mod, path, node, known):
    """The project modules an import statement of module ``mod`` refers to."""
    is_pkg = path.name == "__init__.py"
    out = set()
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = mod.split(".") if is_pkg else mod.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        # ``from pkg import mod`` is an edge to ``pkg.mod``; ``from pkg import name`` (not a
        # module) to ``pkg``: the longest known prefix below
        names = [f"{prefix}.{a.name}" for a in node.names]
    for n in names:
        # the longest known module that is a prefix of the imported name
        parts = n.split(".")
        for k in range(len(parts), 0, -1):
            cand = ".".join(parts[:k])
            if cand in known:
                out.add(cand)
                break
    out.discard(mod)
    return out


def import_graph(*, module_level_only=False, root=ROOT, packages=PACKAGES):
    """``{module: set of project modules it imports}`` over ``packages`` (the four packages).

    An import of ``pkg.mod`` (or ``from pkg import mod``) is an edge to ``pkg.mod``; an
    import of a name that is not a module (``from pkg.mod import f``) is an edge to the
    longest module prefix (``pkg.mod``), and ``from pkg import name`` to ``pkg`` (its
    ``__init__``).  ``module_level_only``: skip the imports inside functions.
    """
    mods = _all_modules(root, packages)
    graph = {}
    for mod, path in mods.items():
        w = _parse(path)
        edges = set()
        for node, inside in w.imports:
            if module_level_only and inside:
                continue
            edges |= _targets(mod, path, node, mods)
        graph[mod] = edges
    return graph


def import_cycles(graph):
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _python():
    return sys.executable


def _public_names():
    """``{package: sum of len(__all__)}``, each module imported in one subprocess."""
    code = ("import importlib, json, sys, warnings\nwarnings.simplefilter('ignore')\nout = {}\n"
            "for m in sys.argv[1:]:\n"
            "    try:\n        mod = importlib.import_module(m)\n"
            "    except Exception as exc:\n        out[m] = None; continue\n"
            "    out[m] = len(getattr(mod, '__all__', []) or [])\n"
            "print(json.dumps(out))\n")
    mods = [m for m in _all_modules() if not m.endswith("__main__")]
    r = subprocess.run([_python(), "-c", code, *mods], cwd=ROOT, capture_output=True, text=True,
                       env=_env())
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    counts = json.loads(r.stdout.strip().splitlines()[-1])
    per = {p: 0 for p in PACKAGES}
    failed = [m for m, n in counts.items() if n is None]
    for m, n in counts.items():
        per[m.split(".")[0]] += n or 0
    return per, failed


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _tool(name):
    exe = Path(sys.executable).parent / name
    return str(exe) if exe.exists() else shutil.which(name)


def _ruff(isolated):
    ruff = _tool("ruff")
    if ruff is None:
        return None
    args = [ruff, "check", "--output-format", "json", "--exit-zero"]
    if isolated:
        args.append("--isolated")
    r = subprocess.run(args + list(PACKAGES), cwd=ROOT, capture_output=True, text=True)
    found = json.loads(r.stdout or "[]")
    total = len(found)
    pyflakes = sum(1 for f in found if re.fullmatch(r"F\d+", f.get("code") or ""))
    return total, pyflakes


def _has_section(name):
    return f"[tool.{name}]" in (ROOT / "pyproject.toml").read_text()


def _mypy(configured):
    mypy = _tool("mypy")
    if mypy is None:
        return None
    if configured:
        args = [mypy]                        # files and options from [tool.mypy]
    else:
        args = [mypy, "--config-file", "/dev/null", "--ignore-missing-imports", *PACKAGES]
    r = subprocess.run(args + ["--no-incremental", "--cache-dir", "/dev/null"], cwd=ROOT,
                       capture_output=True, text=True, env=_env())
    m = re.search(r"Found (\d+) errors?", r.stdout)
    if m:
        return int(m.group(1))
    if "Success" in r.stdout:
        return 0
    raise RuntimeError(r.stdout[-2000:] + r.stderr[-2000:])


def _import_time(stmt, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([_python(), "-c", stmt], cwd=ROOT, check=True, env=_env(),
                       capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(fast=False):
    mods = _all_modules()
    rows = {}
    funcs = []
    for pkg in PACKAGES:
        files = lines = inner = 0
        for mod, path in mods.items():
            if mod.split(".")[0] != pkg:
                continue
            files += 1
            lines += len(path.read_text().splitlines())
            w = _parse(path)
            inner += sum(1 for _, inside in w.imports if inside)
            funcs += [(n, f"{path.relative_to(ROOT)}:{ln}", length) for n, ln, length in w.functions]
        rows[pkg] = {"files": files, "lines": lines, "inner_imports": inner,
                     "inner_per_kloc": round(1000 * inner / max(lines, 1), 1)}
    out = {"packages": rows,
           "longest_functions": sorted(funcs, key=lambda f: (-f[2], f[1]))[:15],
           "cycles_all_imports": import_cycles(import_graph()),
           "cycles_module_level": import_cycles(import_graph(module_level_only=True))}
    out["public_names"], out["public_names_unimportable"] = _public_names()
    out["ruff_default"] = _ruff(isolated=True)
    out["ruff_project"] = _ruff(isolated=False) if _has_section("ruff") else None
    if not fast:
        out["mypy_default"] = _mypy(configured=False)
        out["mypy_project"] = _mypy(configured=True) if _has_section("mypy") else None
        base = _import_time("pass")
        out["import_time_s"] = {"python -c pass": round(base, 3)}
        for pkg in ("theory", "solver", "verify", "sigadmm"):
            out["import_time_s"][pkg] = round(_import_time(f"import {pkg}"), 3)
    return out


def render(m):
    lines = []
    head = f"{'package':10s} {'files':>5s} {'lines':>6s} {'in-fn imports':>13s} {'/1000 lines':>11s} {'public names':>12s}"
    lines += [head, "-" * len(head)]
    for pkg, r in m["packages"].items():
        lines.append(f"{pkg:10s} {r['files']:5d} {r['lines']:6d} {r['inner_imports']:13d} "
                     f"{r['inner_per_kloc']:11.1f} {m['public_names'][pkg]:12d}")
    tot_lines = sum(r["lines"] for r in m["packages"].values())
    tot_inner = sum(r["inner_imports"] for r in m["packages"].values())
    lines.append(f"{'total':10s} {sum(r['files'] for r in m['packages'].values()):5d} {tot_lines:6d} "
                 f"{tot_inner:13d} {1000 * tot_inner / tot_lines:11.1f} {sum(m['public_names'].values()):12d}")
    if m["public_names_unimportable"]:
        lines.append(f"(modules that did not import, counted 0: {m['public_names_unimportable']})")
    lines.append("")
    for key, what in (("cycles_all_imports", "import circles (every import, in functions too)"),
                      ("cycles_module_level", "import circles (module-level imports only)")):
        cyc = m[key]
        lines.append(f"{what}: {len(cyc)}")
        lines += [f"  {' <-> '.join(c)}" for c in cyc]
    lines.append("")
    rd = m["ruff_default"]
    lines.append("ruff, default rules (--isolated): " + ("not installed" if rd is None else
                 f"{rd[0]} findings, {rd[1]} pyflakes (F)"))
    rp = m.get("ruff_project")
    if rp is not None:
        lines.append(f"ruff, the project's rule set ([tool.ruff]): {rp[0]} findings")
    if "mypy_default" in m:
        lines.append(f"mypy, default mode on {', '.join(PACKAGES)}: {m['mypy_default']} errors")
        if m.get("mypy_project") is not None:
            lines.append(f"mypy, the project's configuration ([tool.mypy]): {m['mypy_project']} errors")
        lines.append("import time, median of 5 fresh processes (s): "
                     + ", ".join(f"{k} {v:.3f}" for k, v in m["import_time_s"].items()))
    lines += ["", "the 15 longest functions (lines):"]
    lines += [f"  {n:4d}  {q}  ({where})" for q, where, n in m["longest_functions"]]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true", help="skip mypy and the import times")
    ap.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = ap.parse_args(argv)
    m = measure(fast=args.fast)
    print(json.dumps(m, indent=1) if args.json else render(m))


if __name__ == "__main__":
    main()
