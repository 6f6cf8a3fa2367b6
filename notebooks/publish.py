"""Execute the notebook sources and publish them with their outputs, or check the published ones.

The sources are the jupytext percent files ``notebooks/NN_name.py`` (plain Python that diffs
well); the published ``notebooks/NN_name.ipynb`` are those sources executed in quick mode
(``SIGADMM_QUICK=1``: reduced sizes, or the committed results sets), so that a reader sees
every table and figure without running anything::

    python notebooks/publish.py                 # execute every source, write the .ipynb files
    python notebooks/publish.py 08_proof_constants   # one notebook (a name, with or without .py)
    python notebooks/publish.py --check         # execute every source; exit 1 unless each
                                                # published .ipynb is current (CI: make docs)

``--check`` writes nothing.  It refuses a published notebook whose cells differ from its
source, and one whose outputs differ from a fresh execution by their data (:func:`compare`):
stdout and ``text/plain`` outputs token by token (numbers to a relative tolerance), every
figure by its ``application/json`` data (``nbtools.figure_data``: lines, points, images, labels,
caption), never by its pixels.  Cells tagged ``volatile`` (timings) are compared by the kind of
their outputs only.  Every kernel runs with :func:`pinned_environment` (OpenBLAS's Zen kernels,
numpy without its AVX-512 loops), so that an Intel and an AMD machine publish the same numbers.
Full size: ``SIGADMM_QUICK=0 python notebooks/publish.py NAME --out DIR``
(writes ``DIR/NAME.ipynb``; the published files stay the quick ones).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: relative tolerance of a number in a compared output (quick runs are deterministic, and
#: :func:`pinned_environment` fixes the BLAS and numpy code paths across x86-64 machines; this
#: absorbs what remains, e.g. libm's last bits, not a change of the results)
RTOL = 1e-6
ATOL = 1e-12
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def sources(names=None) -> list[Path]:
    """The notebook sources ``notebooks/NN_*.py``, or those named (``ValueError`` for an unknown name)."""
    allp = sorted(HERE.glob("[0-9][0-9]_*.py"))
    if not names:
        return allp
    by = {p.stem: p for p in allp}
    out = []
    for n in names:
        stem = Path(n).stem
        if stem not in by:
            raise ValueError(f"notebook: unknown name {n!r}; expected one of {sorted(by)}")
        out.append(by[stem])
    return out


def read_source(path: Path) -> nbformat.NotebookNode:
    """The source as a notebook, with stable cell ids (``NAME-00``, ``NAME-01``, ...)."""
    nb = jupytext.read(path, fmt="py:percent")
    for i, c in enumerate(nb.cells):
        c.id = f"{path.stem}-{i:02d}"
        c.metadata.pop("lines_to_next_cell", None)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3",
                                          "language": "python"})
    return nb


def pinned_environment() -> dict[str, str]:
    """The variables that fix the kernel's floating-point code paths to one x86-64 class.

    The published outputs include rounding-level quantities (ratios of rounding errors in
    notebook 08, argmax positions over near-ties, 200-iteration trajectories in notebook 04) that
    change in their third digit between CPUs when each library picks its own code for the host:
    measured 2026-12-08, a notebook published on an AMD Zen 3 machine (AVX2) and re-executed on an
    Intel Xeon (AVX-512) differed in 78 (04) and 609 (08) numbers, the largest 8e-4 relative.  Two
    choices caused all of it (each removed alone brought the differences back):

    * ``OPENBLAS_CORETYPE=Zen``: OpenBLAS's Zen kernels and blocking on every x86-64 machine
      (native on AMD; on Intel they replace the SkylakeX kernels, whose dgemm sums in another order);
    * ``NPY_DISABLE_CPU_FEATURES``: numpy's AVX-512 loops (``X86_V4`` and the ``AVX512*`` targets of
      this numpy's ``__cpu_dispatch__``) switched off, so that ``exp``, ``log``, ``tanh`` and the
      reductions run numpy's AVX2 code (a no-op where the CPU has no AVX-512).

    With both set, notebooks published on the AMD machine check clean on the Intel one.  Numba's
    code generation needed no pinning (every notebook checked clean without it).  Only x86-64 is
    pinned; elsewhere this returns ``{}`` and the published outputs are those of that machine.
    """
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return {}
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:                                     # numpy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__
    wide = [f for f in __cpu_dispatch__ if f.startswith(("AVX512", "X86_V4"))]
    env = {"OPENBLAS_CORETYPE": "Zen"}
    if wide:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(wide)
    return env


def execute(path: Path, quick: bool = True, timeout: int = 900) -> nbformat.NotebookNode:
    """Execute the source ``path`` from the repository root; return the executed notebook.

    The kernel runs with :func:`pinned_environment` (so that a notebook published on one machine
    checks clean on another) and ``SIGADMM_QUICK`` set by ``quick``.
    """
    from nbclient import NotebookClient

    nb = read_source(path)
    env = {**os.environ, "SIGADMM_QUICK": "1" if quick else "0", **pinned_environment()}
    env.pop("MPLBACKEND", None)                 # the kernel's inline backend draws the figures
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(ROOT)}}).execute(env=env)
    for c in nb.cells:
        c.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


def _tokens(text: str):
    out, pos = [], 0
    for m in _NUM.finditer(text):
        out.append(text[pos:m.start()])
        out.append(float(m.group()))
        pos = m.end()
    out.append(text[pos:])
    return out


def _same(a, b, where, diffs):
    if isinstance(a, float) and isinstance(b, float) or (
            isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not isinstance(a, bool) and not isinstance(b, bool)):
        if abs(a - b) > ATOL + RTOL * max(abs(a), abs(b)):
            diffs.append(f"{where}: {a!r} != {b!r}")
        return
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            diffs.append(f"{where}: keys {sorted(a)} != {sorted(b)}")
            return
        for k in a:
            _same(a[k], b[k], f"{where}.{k}", diffs)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append(f"{where}: length {len(a)} != {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]", diffs)
        return
    if isinstance(a, str) and isinstance(b, str):
        ta, tb = _tokens(a), _tokens(b)
        if len(ta) != len(tb):
            diffs.append(f"{where}: text differs: {a[:200]!r} != {b[:200]!r}")
            return
        for x, y in zip(ta, tb):
            if isinstance(x, str) != isinstance(y, str) or (isinstance(x, str) and x != y):
                diffs.append(f"{where}: text differs: {a[:200]!r} != {b[:200]!r}")
                return
            if isinstance(x, float):
                _same(x, y, where, diffs)
        return
    if a != b:
        diffs.append(f"{where}: {a!r} != {b!r}")


def _data(output) -> dict:
    """What of one output is compared: stdout text, ``text/plain`` and the figure data."""
    t = output.get("output_type")
    if t == "stream":
        return {"stdout": output.get("text", "")} if output.get("name") == "stdout" else {}
    if t == "error":
        return {"error": output.get("ename", "")}
    data = output.get("data", {})
    out = {}
    if "application/json" in data:
        out["figure"] = data["application/json"]
    elif "text/plain" in data and "image/png" not in data:
        out["text"] = data["text/plain"]
    return out


def compare(published, fresh) -> list[str]:
    """Differences between a published notebook and a fresh execution of its source (empty: current)."""
    diffs = []
    pc, fc = published.cells, fresh.cells
    if [(c.cell_type, c.source) for c in pc] != [(c.cell_type, c.source) for c in fc]:
        return ["the cells differ from the source (run notebooks/publish.py)"]
    for i, (a, b) in enumerate(zip(pc, fc)):
        if a.cell_type != "code":
            continue
        oa = [d for d in (_data(o) for o in a.get("outputs", [])) if d]
        ob = [d for d in (_data(o) for o in b.get("outputs", [])) if d]
        where = f"cell {i}"
        if "volatile" in a.metadata.get("tags", []):
            if [sorted(d) for d in oa] != [sorted(d) for d in ob]:
                diffs.append(f"{where} (volatile): output kinds differ")
            continue
        _same(oa, ob, where, diffs)
    return diffs


def errors(nb) -> list[str]:
    """The error outputs of an executed notebook, one line each."""
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb.cells)
            if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _one(path: Path, check: bool, quick: bool, out: Path | None):
    t0 = time.perf_counter()
    nb = execute(path, quick=quick)
    dt = time.perf_counter() - t0
    problems = errors(nb)
    target = (out or HERE) / f"{path.stem}.ipynb"
    if check:
        if not target.exists():
            problems.append(f"{target.name} is missing (run notebooks/publish.py)")
        else:
            problems += compare(nbformat.read(target, as_version=4), nb)
    elif not problems:
        nbformat.validate(nb)
        nbformat.write(nb, target)
    return path.stem, dt, problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebook names (default: all)")
    ap.add_argument("--check", action="store_true", help="compare with the published files; write nothing")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks executed at once (default 1)")
    ap.add_argument("--out", type=Path, default=None, help="folder for the executed files "
                    "(default: notebooks/; required with SIGADMM_QUICK=0)")
    args = ap.parse_args(argv)
    quick = os.environ.get("SIGADMM_QUICK", "1") not in ("", "0")
    if not quick and args.out is None and not args.check:
        ap.error("--out: full-size runs are written elsewhere (the published notebooks are the quick ones)")
    try:
        paths = sources(args.names)
    except ValueError as exc:
        ap.error(str(exc))
    if args.jobs < 1:
        ap.error(f"--jobs: expected a positive integer, got {args.jobs}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    bad = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for stem, dt, problems in ex.map(lambda p: _one(p, args.check, quick, args.out), paths):
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            print(f"{stem}: {status} ({dt:.1f} s)", flush=True)
            for line in problems[:20]:
                print("   ", line)
            bad += bool(problems)
    if bad:
        print(f"{bad} notebook(s) not current: run `python notebooks/publish.py` and commit", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
