"""The published notebooks: in sync with their sources, executed, every figure labelled.

The sources are jupytext percent files ``notebooks/NN_name.py``; ``notebooks/publish.py``
executes them in quick mode and writes ``notebooks/NN_name.ipynb`` with their outputs.  These
tests are fast (no kernel): they read the committed files.  Executing every source and
checking that the published outputs are current (by their data, not their pixels) is
``python notebooks/publish.py --check``, which ``make docs`` runs as CI's docs step (about 30-90 s a
notebook; kept out of ``make test``'s time budget).  The checker itself is tested here: it must
report a changed number, a changed text and a changed figure, and nothing for an equal one.
"""

import copy
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
SOURCES = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))
PUBLISHED = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))


def _publish():
    spec = importlib.util.spec_from_file_location("nb_publish", NB_DIR / "publish.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


P = _publish()


def test_every_source_is_published_and_nothing_else():
    names = [p.stem for p in SOURCES]
    assert names == [p.stem for p in PUBLISHED]
    assert {"08_proof_constants", "09_gate_constants"} <= set(names)
    assert not (NB_DIR / "build_notebooks.py").exists()


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_published_cells_are_the_source(src):
    nb = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    fresh = P.read_source(src)
    key = lambda c: (c.cell_type, c.source, c.metadata.get("tags", []))
    assert [key(c) for c in nb.cells] == [key(c) for c in fresh.cells], \
        f"{src.stem}: run `python notebooks/publish.py {src.stem}`"
    assert "SIGADMM_QUICK=0" in nb.cells[0].source        # the full-size command is stated


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_published_notebook_is_executed_without_errors(src):
    nb = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{src.stem}: not executed"
    assert not P.errors(nb)
    first_out = "".join(o.get("text", "") for o in code[0].outputs)
    assert "quick mode" in first_out, f"{src.stem}: publish in quick mode (SIGADMM_QUICK=1)"
    shown = [o for c in code for o in c.outputs if o.get("output_type") in ("execute_result", "display_data")]
    assert shown, f"{src.stem}: no table or figure published"


def _figures(nb):
    for i, c in enumerate(nb.cells):
        for o in c.get("outputs", []):
            if "image/png" in o.get("data", {}):
                yield i, o


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_every_published_figure_is_labelled(src):
    """Item 4: each figure carries its data, a caption (measure, size, command) and axis labels."""
    nb = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    for i, o in _figures(nb):
        data = o["data"].get("application/json")
        assert data is not None, f"{src.stem} cell {i}: a figure without its data (import nbtools first)"
        if isinstance(data, str):
            data = json.loads(data)
        lab = data.get("label") or {}
        for k in ("measure", "size", "command"):
            assert str(lab.get(k, "")).strip(), f"{src.stem} cell {i}: figure caption lacks the {k}"
        for ax in data["axes"]:
            if ax["has_data"]:
                assert ax["xlabel"].strip() and ax["ylabel"].strip(), \
                    f"{src.stem} cell {i}: axes {ax['title']!r} without an x or y label"


def test_proof_constants_notebook_shows_every_constant_of_both_chains():
    nb = nbformat.read(NB_DIR / "08_proof_constants.ipynb", as_version=4)
    text = "\n".join(o.get("data", {}).get("text/plain", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)
    for needle in ("Lemma 15", "Lemma 18", "Lemma 14", "Lemma 19", "Lemma 21", "rate constant",
                   "xi_2", "xi_3", "kappa"):
        assert needle in text, needle
    assert len(list(_figures(nb))) >= 3       # the per-step slack of depth 1 and 2, the boundary


# ---------------------------------------------------------------- the checker can fail
def _nb_with(outputs, tags=()):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x", outputs=outputs)
    cell.metadata["tags"] = list(tags)
    nb.cells = [cell]
    return nb


def _table(text):
    return nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=1)


def _figure(y):
    return nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "application/json": {
        "axes": [{"lines": [{"x": [1.0, 2.0], "y": y}], "xlabel": "k", "ylabel": "r"}], "label": None}})


def test_compare_reports_a_changed_number_text_or_figure():
    base = _nb_with([_table("a    1.2345e-03\nb    7"), _figure([1.0, 0.5])])
    same = copy.deepcopy(base)
    assert P.compare(base, same) == []
    within = _nb_with([_table("a    1.2345000001e-03\nb    7"), _figure([1.0, 0.5 * (1 + 1e-9)])])
    assert P.compare(base, within) == []
    for changed in (_nb_with([_table("a    1.2346e-03\nb    7"), _figure([1.0, 0.5])]),
                    _nb_with([_table("a    1.2345e-03\nc    7"), _figure([1.0, 0.5])]),
                    _nb_with([_table("a    1.2345e-03\nb    7"), _figure([1.0, 0.51])]),
                    _nb_with([_table("a    1.2345e-03\nb    7")]),
                    _nb_with([_table("a    1.2345e-03\nb    7 8"), _figure([1.0, 0.5])])):
        assert P.compare(base, changed), changed


def test_compare_volatile_cells_by_kind_only_and_sources_exactly():
    a = _nb_with([_table("0.51 s")], tags=["volatile"])
    assert P.compare(a, _nb_with([_table("9.99 s")], tags=["volatile"])) == []
    assert P.compare(a, _nb_with([], tags=["volatile"]))
    b = copy.deepcopy(a)
    b.cells[0].source = "y"
    assert P.compare(a, b) == ["the cells differ from the source (run notebooks/publish.py)"]


def test_publish_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown name"):
        P.sources(["no_such_notebook"])


@pytest.mark.skipif(not P.pinned_environment(), reason="the pinning applies to x86-64 only")
def test_pinned_environment_takes_effect_in_a_fresh_process():
    """A kernel started with ``pinned_environment()`` runs numpy without its AVX-512 loops and
    OpenBLAS with its Zen kernels: a renamed variable (numpy's or OpenBLAS's) would leave the
    published outputs machine-dependent again, and this test would see it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, **P.pinned_environment()}
    code = (
        "import json, numpy\n"
        "try:\n"
        "    from numpy._core._multiarray_umath import __cpu_features__ as f\n"
        "except ImportError:\n"
        "    from numpy.core._multiarray_umath import __cpu_features__ as f\n"
        "from threadpoolctl import threadpool_info\n"
        "arch = [i.get('architecture') for i in threadpool_info() if i.get('internal_api') == 'openblas']\n"
        "print(json.dumps({'wide': sorted(k for k, v in f.items()"
        " if v and k.startswith(('AVX512', 'X86_V4'))), 'arch': arch}))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    disabled = set(P.pinned_environment().get("NPY_DISABLE_CPU_FEATURES", "").split())
    assert not disabled & set(got["wide"]), got           # every pinned-off target is off
    assert got["arch"] and all(a.lower() in ("zen", "haswell") for a in got["arch"]), got
