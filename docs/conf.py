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
import re
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
# guides start at a level-1 title and may skip levels; a figure's application/json output is its
# data for `publish.py --check` (nbtools.figure_data), never meant to be rendered
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

# ---------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "show-inheritance": False}
autodoc_typehints = "none"            # the docstrings state the types (numpy style)
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = False            # numpy-style types are prose ("float in (0, 1)"), not class names
napoleon_use_keyword = False
napoleon_use_ivar = True
napoleon_preprocess_types = False
add_module_names = False

#: what the API reference documents: every name of the package's ``__all__``
API_PACKAGES = ["theory", "solver", "verify"]
API_MODULES_OF = {"sigadmm": ["paper", "trials", "reproduce", "baselines", "sweep", "report", "data", "results",
                              "results.plan", "results_report", "ledger", "studies", "peers"]}

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
# the API pages document each public name's own docstring (classes: the class docstring with its
# Parameters / Attributes sections; modules: the module docstring), not the inherited members
templates_path = ["_site/templates"]

OUR_PACKAGES = ("theory", "solver", "verify", "sigadmm")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _api_page(title: str, module: str, names: list[str], elsewhere: dict | None = None) -> str:
    """The page of ``module``: its docstring, then one autosummary entry per name of ``names``;
    ``elsewhere`` ({documented module: [names]}) lists the re-exported names as links to the
    page that documents them."""
    lines = [title, "=" * len(title), "", f".. automodule:: {module}", "   :no-members:", "",
             f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: generated", ""]
    lines += [f"   {n}" for n in names]
    for home, shared in sorted((elsewhere or {}).items()):
        links = ", ".join(f":py:obj:`~{home}.{n}`" for n in shared)
        lines += ["", f"Also exported by ``{module}`` (the same objects, documented with :mod:`{home}`): {links}."]
    return "\n".join(lines) + "\n"


def _home_module(obj) -> str | None:
    """The module that defines the function or class ``obj`` (None for data: no source tag)."""
    import inspect

    target = getattr(obj, "fget", None) or obj
    if inspect.isclass(target) or inspect.isfunction(target):
        return getattr(target, "__module__", None)
    return None


def _api_split(modules: list[str]) -> dict:
    """``{page: (names documented there, {other page: names re-exported from it})}``.

    Each function or class is documented on one page only: the page of the module that defines
    it when that module has a page, else the first page (in ``modules``' order) that exports it.
    The reason is viewcode: it keys a module's source links by the object's short name and one
    documenting module per source module, so an object documented under two modules (e.g.
    ``sigadmm.ledger.ledger_row`` and ``sigadmm.results_report.ledger_row``) gets "[docs]" links
    in the source page pointing at ids that do not exist (``check_links.py`` reports them).
    """
    alls = {m: list(importlib.import_module(m).__all__) for m in modules}
    owner = {}
    for m in modules:
        for n in alls[m]:
            home = _home_module(getattr(importlib.import_module(m), n))
            if home is not None and home not in owner:
                owner[home] = home if home in alls else m
    out = {}
    for m in modules:
        mod = importlib.import_module(m)
        keep, elsewhere = [], {}
        for n in alls[m]:
            home = _home_module(getattr(mod, n))
            page = owner.get(home, m) if home is not None else m
            if page == m:
                keep.append(n)
            else:
                elsewhere.setdefault(page, []).append(n)
        out[m] = (keep, elsewhere)
    return out


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
    pages = list(API_PACKAGES) + [f"{pkg}.{sub}" for pkg, subs in API_MODULES_OF.items() for sub in subs]
    for name, (keep, elsewhere) in _api_split(pages).items():
        _write(GEN / "api" / f"{name}.rst", _api_page(f"``{name}``", name, keep, elsewhere))
    toc = ["API reference", "=============", "",
           "Generated from the numpy-style docstrings of every name in each package's ``__all__``.",
           "", ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p}" for p in pages]
    _write(GEN / "api" / "index.rst", "\n".join(toc) + "\n")
    nbtoc = ["Examples: the notebooks", "=======================", "",
             "Each notebook is published executed (quick mode: reduced sizes, or the committed "
             "results sets); its source is the jupytext file ``notebooks/NN_name.py``.", "",
             ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p.stem}" for p in wanted]
    _write(nb_dir / "index.rst", "\n".join(nbtoc) + "\n")


def _defined_in(obj):
    """The module that defines ``obj`` (properties: their getter), or None."""
    target = getattr(obj, "fget", None) or obj
    return getattr(target, "__module__", None)


def _process_docstring(app, what, name, obj, options, lines) -> None:
    """Drop a data item's inherited type docstring (``dict()`` ...); report a missing docstring.

    A public name of ours (defined in one of :data:`OUR_PACKAGES`, not starting with ``_``)
    documented with an empty docstring is a warning, an error under ``-W``.
    """
    if what in ("data", "attribute"):
        tdoc = (type(obj).__doc__ or "").strip().splitlines()
        if tdoc and [ln.strip() for ln in lines if ln.strip()][:1] == [tdoc[0].strip()]:
            lines[:] = []
        return
    short = name.rsplit(".", 1)[-1]
    mod = _defined_in(obj) or ""
    if short.startswith("_") or not mod.split(".")[0] in OUR_PACKAGES:
        return
    if not any(line.strip() for line in lines):
        LOG.warning(f"missing docstring: {name} ({what})", type="sigadmm", subtype="docstring")


def _resolve(target: str, module: str | None, cls: str | None):
    """The object ``target`` names (as Python would find it from ``module``/``cls``), or None."""
    cands = [target]
    if module:
        cands += [f"{module}.{target}"] + ([f"{module}.{cls}.{target}"] if cls else [])
    for cand in cands:
        parts = cand.split(".")
        if parts[0] not in OUR_PACKAGES + ("numpy", "scipy", "sympy", "enum", "pathlib", "mpmath",
                                           "sklearn", "pandas", "matplotlib", "hypothesis"):
            continue
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except Exception:
                continue
            try:
                for attr in parts[i:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return obj
    return None


def _defined_names() -> set:
    """Every name defined in a loaded module of ours (functions, classes, constants)."""
    names = set()
    for modname, mod in list(sys.modules.items()):
        if mod is not None and modname.split(".")[0] in OUR_PACKAGES:
            names.update(vars(mod))
            for v in list(vars(mod).values()):
                if isinstance(v, type) and getattr(v, "__module__", "").split(".")[0] in OUR_PACKAGES:
                    names.update(vars(v))
                    names.update(getattr(v, "__dataclass_fields__", {}))
                    names.update(getattr(v, "__annotations__", {}))
    return names


def _is_instance_attribute(target: str) -> bool:
    """``Class.attr`` or ``attr`` set as ``self.attr = ...`` somewhere in our packages' classes."""
    import inspect

    attr = target.rsplit(".", 1)[-1]
    for modname, mod in list(sys.modules.items()):
        if mod is None or modname.split(".")[0] not in OUR_PACKAGES:
            continue
        try:
            src = inspect.getsource(mod)
        except (OSError, TypeError):
            continue
        if re.search(rf"self\.{re.escape(attr)}\b[\w\s.,]*[=:]", src):
            return True
    return False


def _missing_reference(app, env, node, contnode):
    """A Python reference to a name that exists but has no page of its own (a private module of
    ours, a method, a third-party class) renders as code; a name that does not exist stays a
    warning (an error under ``-W``: a misspelt reference fails the build)."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip("~.")
    if _resolve(target, node.get("py:module"), node.get("py:class")) is not None:
        return contnode
    reftype = node.get("reftype")
    if reftype == "class" and "." not in target:
        # numpy-style prose in a type slot ("float in (0, 1)", a dict key, "numpy arrays"):
        # napoleon makes it a class reference; it names no object, so it renders as text
        return contnode
    last = target.rsplit(".", 1)[-1]
    if last in _defined_names() or (reftype == "attr" and _is_instance_attribute(target)):
        return contnode                     # it exists, in a module without a page of its own
    return None


def _data_colons(app, what, name, obj, options, lines) -> None:
    """Before napoleon: a data item's ``#:`` comment is prose; napoleon would read the text before
    its first colon as a type (a cross-reference), so that colon becomes a dash."""
    if what in ("data", "attribute") and lines and ": " in lines[0] and "``" not in lines[0].split(": ")[0]:
        lines[0] = lines[0].replace(": ", " - ", 1)


def setup(app):
    app.connect("autodoc-process-docstring", _data_colons, priority=100)
    app.connect("missing-reference", _missing_reference)
    app.connect("config-inited", _generate)
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True}
