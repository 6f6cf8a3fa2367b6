"""Sphinx configuration of the documentation site (``make docs``; issue 26).

Sources: the README as the landing page (``index.md`` includes it), ``docs/*.md`` as the
guides, the published notebooks ``notebooks/*.ipynb`` (executed, with their outputs; copied
into ``_generated/notebooks`` at build time, never executed here: ``notebooks/publish.py
--check`` checks they are current) as the examples, and an API reference generated from the
``__all__`` of ``theory``, ``solver``, ``verify`` and each public ``sigadmm`` module
(autosummary + napoleon, numpy-style docstrings).  ``make docs`` builds with ``-W``
(warnings are errors) and ``nitpicky``; a public name without a docstring is reported as a
warning, so it fails the build too.  The generated folders and the HTML are not committed.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

from sphinx.util import logging

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
GEN = HERE / "_generated"
LOG = logging.getLogger("sigadmm.docs")

project = "sigadmm"
author = "the sigadmm developers"
copyright = "2026, the sigadmm developers"
release = version = "0.1.0"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
root_doc = "index"
exclude_patterns = ["_build", "_site", "results/**/sweeps/**", "examples/**", "**/.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}  # .rst first: autosummary writes its stubs with the first suffix

# ---------------------------------------------------------------- MyST and notebooks
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 4
myst_fence_as_directive = ["math"]   # GitHub-style ```math fences (docs/algorithm.md)
nb_execution_mode = "off"             # the published outputs are shown; publish.py --check executes
nb_output_stderr = "remove"           # kernel warnings and progress bars are not content
nb_mime_priority_overrides = [("html", "application/json", None)]   # figure data: for the check only
suppress_warnings = ["myst.header"]   # guides start at a level-1 title and may skip levels

# ---------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "show-inheritance": False}
autodoc_typehints = "none"            # the docstrings state the types (numpy style)
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_preprocess_types = False
add_module_names = False

#: what the API reference documents: every name of the package's ``__all__``
API_PACKAGES = ["theory", "solver", "verify"]
API_MODULES_OF = {"sigadmm": ["reproduce", "baselines", "sweep", "report", "data", "results",
                              "results_report", "ledger", "studies", "peers"]}

nitpicky = True
# Cross-references that cannot resolve, by class (each documented):
nitpick_ignore_regex = [
    # docstrings' plain type words (numpy style: "float", "array of shape (n,)", "optional", ...)
    ("py:class", r"(optional|array.*|ndarray|array-like|callable|sequence.*|iterable|scalar|path-like)"),
    # third-party classes without an intersphinx inventory (no network in CI)
    ("py:class", r"(numpy|np|scipy|sklearn|pandas|pd|sympy|sp|matplotlib|dask|torch|hypothesis|flint)\..*"),
    ("py:.*", r"(numpy|np|scipy|sklearn|pandas|pd|sympy|sp|matplotlib|dask|torch|hypothesis|flint)\..*"),
    # private helpers named in public docstrings (one place per lemma: the docs point at them)
    ("py:.*", r".*\._[a-z].*"),
    ("py:.*", r"_[a-z].*"),
]

# ---------------------------------------------------------------- theme
html_theme = "pydata_sphinx_theme"
html_title = "sigadmm"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2, "secondary_sidebar_items": ["page-toc"]}
html_static_path: list[str] = []


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _api_page(title: str, module: str, names: list[str]) -> str:
    lines = [title, "=" * len(title), "", f".. automodule:: {module}", "   :no-members:", "",
             f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: generated", ""]
    lines += [f"   {n}" for n in names]
    return "\n".join(lines) + "\n"


def _generate(app, config) -> None:
    """Copy the published notebooks and write the API pages from the packages' ``__all__``."""
    nb_dir = GEN / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    wanted = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for old in nb_dir.glob("*.ipynb"):
        if old.name not in {p.name for p in wanted}:
            old.unlink()
    for p in wanted:
        dst = nb_dir / p.name
        if not dst.exists() or dst.read_bytes() != p.read_bytes():
            shutil.copyfile(p, dst)
    pages = []
    for pkg in API_PACKAGES:
        mod = importlib.import_module(pkg)
        _write(GEN / "api" / f"{pkg}.rst", _api_page(f"``{pkg}``", pkg, list(mod.__all__)))
        pages.append(pkg)
    for pkg, subs in API_MODULES_OF.items():
        for sub in subs:
            name = f"{pkg}.{sub}"
            mod = importlib.import_module(name)
            _write(GEN / "api" / f"{name}.rst", _api_page(f"``{name}``", name, list(mod.__all__)))
            pages.append(name)
    toc = ["API reference", "=============", "",
           "Generated from the numpy-style docstrings of every name in each package's ``__all__``.",
           "", ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p}" for p in pages]
    _write(GEN / "api" / "index.rst", "\n".join(toc) + "\n")
    nbtoc = ["Examples: the notebooks", "=======================", "",
             "Each notebook is published executed (quick mode: reduced sizes, or the committed "
             "results sets); its source is the jupytext file ``notebooks/NN_name.py``.", "",
             ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p.stem}" for p in wanted]
    _write(nb_dir / "index.rst", "\n".join(nbtoc) + "\n")


def _missing_docstring(app, what, name, obj, options, lines) -> None:
    """A public name documented without a docstring is a warning (an error under ``-W``)."""
    short = name.rsplit(".", 1)[-1]
    if short.startswith("_") or what in ("attribute", "data"):
        return
    if not any(line.strip() for line in lines):
        LOG.warning(f"missing docstring: {name} ({what})", type="sigadmm", subtype="docstring")


def setup(app):
    app.connect("config-inited", _generate)
    app.connect("autodoc-process-docstring", _missing_docstring)
    return {"parallel_read_safe": True}
