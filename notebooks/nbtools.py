"""What every notebook imports first: quick mode, figure labels, and the figures' data.

A notebook's first code cell runs ``from nbtools import *`` after putting this folder on the
path (``notebooks/publish.py`` executes the notebooks from the repository root).

* :func:`label` writes the caption every figure must carry under its axes: the measure
  (best or final iterate, train or test), the size (trials, iterations, samples) and the
  command that made it (issue 26, item 4).  ``tests/test_notebooks.py`` refuses a published
  figure without it, or with an axis of data but no axis label.
* :func:`figure_data` is what ``publish.py --check`` compares: every displayed figure also
  carries an ``application/json`` output with its data (titles, axis labels and scales, the
  plotted lines, points and images, the caption), so the published figures are checked by
  their numbers, not their pixels.
"""

from __future__ import annotations

import math
import os
import textwrap

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

QUICK = os.environ.get("SIGADMM_QUICK", "0") not in ("", "0")
#: the mime type under which a figure's data is published beside its PNG
FIGURE_MIME = "application/json"
_SIG = 8   # significant digits kept of a plotted number


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return None if math.isnan(f) else ("inf" if f > 0 else "-inf")
    return float(f"{f:.{_SIG}g}")


def _arr(a):
    import numpy as np

    a = np.ma.filled(np.ma.asarray(a, float), np.nan)
    return [_num(v) for v in a.reshape(-1)]


def figure_data(fig: Figure) -> dict:
    """The data of ``fig`` as plain JSON: per axes the title, labels, scales, lines, scatter
    offsets, bars and images; the figure's caption (:func:`label`) and suptitle."""
    import numpy as np

    axes = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        d = {"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
             "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
             "lines": [{"label": ln.get_label(), "x": _arr(ln.get_xdata()), "y": _arr(ln.get_ydata())}
                       for ln in ax.get_lines()],
             "collections": [_arr(np.asarray(c.get_offsets())) for c in ax.collections
                             if hasattr(c, "get_offsets") and len(c.get_offsets())],
             "bars": [_arr([p.get_x(), p.get_y(), p.get_width(), p.get_height()]) for p in ax.patches
                      if type(p).__name__ == "Rectangle"],
             "images": [_arr(im.get_array()) for im in ax.get_images()],
             "texts": [t.get_text() for t in ax.texts]}
        d["has_data"] = bool(d["lines"] or d["collections"] or d["bars"] or d["images"])
        axes.append(d)
    sup = fig._suptitle.get_text() if fig._suptitle is not None else ""
    return {"suptitle": sup, "label": getattr(fig, "_sigadmm_label", None), "axes": axes}


def label(fig: Figure, measure: str, size: str, command: str, units: dict | None = None) -> Figure:
    """Write the caption under ``fig``: ``measure``, ``size``, ``command`` (all non-empty).

    ``units``: optional ``{axes index: (xlabel, ylabel)}`` to set axis labels with units on a
    figure made elsewhere (a library figure whose labels name no unit).
    """
    for name, v in (("measure", measure), ("size", size), ("command", command)):
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{name}: expected a non-empty string, got {v!r}")
    for i, (xl, yl) in (units or {}).items():
        fig.axes[i].set_xlabel(xl)
        fig.axes[i].set_ylabel(yl)
    fig._sigadmm_label = {"measure": measure, "size": size, "command": command}
    text = f"Measure: {measure}. Size: {size}. Command: {command}"
    width = max(60, int(fig.get_figwidth() * 15))
    lines = textwrap.wrap(text, width)
    h = fig.get_figheight()
    extra = 0.16 * len(lines) + 0.1
    fig.set_figheight(h + extra)
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set") and "rect" in getattr(engine, "_params", {}):
        engine.set(rect=(0, extra / (h + extra), 1, 1 - extra / (h + extra)))
    else:
        if engine is not None:
            fig.set_layout_engine("none")
        fig.subplots_adjust(bottom=(extra + 0.5) / (h + extra))
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, va="bottom", ha="left", color="0.25")
    return fig


def _register():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    # the inline backend is chosen lazily, at the first figure, and then drops every other
    # formatter of Figure (IPython's select_figure_formats): choose it now, then register, and
    # register again before each cell in case a cell switches the backend
    plt.close(plt.figure())

    def register(*_):
        ip.display_formatter.formatters[FIGURE_MIME].for_type(Figure, figure_data)

    register()
    ip.events.register("pre_run_cell", register)


matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.figsize": (6.4, 3.6),
                            "font.size": 9})
_register()

__all__ = ["QUICK", "label", "figure_data", "plt"]
