"""Running a table of checks on one trace (private; exported by :mod:`verify.checks`).

:func:`run_check_table` runs the selected checks of a ``{name: check}`` table with their
keyword dicts and the keywords shared by every check that takes them (:data:`SHARED_OPTIONS`:
the conditions and the data constant of Lemma 21), refusing a misspelt name with a
suggestion; :func:`format_table` prints the results.  Every method's ``run_*_checks``
(:func:`verify.checks.run_checks`, :mod:`verify.dladmm`, :mod:`verify.lifted_bcd`) is this call.
"""

from __future__ import annotations

import difflib
import inspect
import math

import numpy as np

from solver.instance import data_norm

from ._results import Verdict
from ._trace_input import _as_trace
from .integrity import run_stopped_badly

#: keywords given once at the top level of :func:`run_checks` / :func:`assert_converges` and
#: passed to every check that takes them (a per-check dict's own value overrides them):
#: the derived conditions, and the data (``X``, or its constant ``a0 = ||[X; 1]||_2``) that
#: Lemma 21's a-posteriori ``b`` needs
SHARED_OPTIONS = ("conditions", "X", "a0")


#: relative agreement of a user's ``a0`` with the recorded ``meta['a0']``: six significant digits
_A0_PRINTED = 5e-6


def _check_shared(shared, trace):
    """Refuse a bad shared ``X`` or ``a0`` by name before any check reads it: ``a0`` (Lemma 21's
    ``||[X; 1]||_2``) a positive finite number; ``X`` a finite 2-D array whose rows are the run's
    samples when the trace records their number."""
    if "a0" in shared:
        try:
            a0 = float(shared["a0"])
        except (TypeError, ValueError):
            raise ValueError(f"a0: expected a positive number (||[X; 1]||_2), got {shared['a0']!r}") from None
        if not (math.isfinite(a0) and a0 > 0):
            raise ValueError(f"a0: expected a positive finite number (||[X; 1]||_2), got {a0!r}")
        rec = (getattr(trace, "meta", None) or {}).get("a0")
        if isinstance(rec, (int, float)) and math.isfinite(rec):
            # a0 as printed (six significant digits) is the recorded value; Lemma 21's b grows
            # with a0, so the larger of the two is used (an a0 rounded down is no upper bound)
            if not (rec * (1 - _A0_PRINTED) <= a0 <= rec * (1 + _A0_PRINTED)):
                raise ValueError(f"a0: {a0!r} contradicts the run's recorded meta['a0'] = {rec!r} "
                                 f"(||[X; 1]||_2 of its training data; agreement to {_A0_PRINTED:g} "
                                 "relative, six significant digits, is required)")
            shared["a0"] = max(a0, float(rec))
    if "X" in shared:
        try:
            X = np.asarray(shared["X"], dtype=float) if not hasattr(shared["X"], "toarray") else None
        except (TypeError, ValueError):
            X = None
        if X is None or X.ndim != 2 or X.size == 0 or not np.all(np.isfinite(X)):
            raise ValueError("X: expected the run's training inputs, a finite 2-D array (n_samples, "
                             f"n_features), got {getattr(shared['X'], 'shape', type(shared['X']).__name__)}")
        meta = getattr(trace, "meta", None) or {}
        n = meta.get("n_samples", meta.get("n"))
        if isinstance(n, (int, np.integer)) and X.shape[0] != int(n):
            raise ValueError(f"X: the run was trained on {int(n)} samples, X has {X.shape[0]} rows")
        w = meta.get("widths")
        if isinstance(w, (list, tuple)) and w and isinstance(w[0], (int, np.integer)) \
                and X.shape[1] != int(w[0]):
            raise ValueError(f"X: the run's inputs have {int(w[0])} features, X has {X.shape[1]} columns")
        mine = data_norm(X)
        if "a0" in shared and not math.isclose(mine, float(shared["a0"]), rel_tol=_A0_PRINTED):
            raise ValueError(f"X, a0: contradict each other: a0 = {float(shared['a0'])!r} but "
                             f"||[X; 1]||_2 = {mine!r}")
        rec = meta.get("a0")             # the fit records ||[X; 1]||_2 of its training data
        if isinstance(rec, (int, float)) and math.isfinite(rec) and not math.isclose(mine, rec, rel_tol=1e-9):
            raise ValueError(f"X: ||[X; 1]||_2 = {mine!r} contradicts the run's recorded meta['a0'] = "
                             f"{rec!r}: not the data the run was trained on")


def _unknown_names(kind, unknown, known):
    """``unknown keyword 'conditons'; did you mean 'conditions'?`` for each name, one message."""
    by_lower = {str(k).lower(): str(k) for k in known}
    parts = []
    for u in unknown:                     # case-insensitive: 'x' suggests 'X'
        close = [by_lower[c] for c in difflib.get_close_matches(str(u).lower(), by_lower, n=1)]
        parts.append(f"unknown {kind} {u!r}" + (f"; did you mean {close[0]!r}?" if close else ""))
    return "; ".join(parts)


def _takes(check, keyword) -> bool:
    """Whether ``check`` has a parameter named ``keyword`` (not through ``**kwargs``)."""
    p = inspect.signature(check).parameters.get(keyword)
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def check_selection(checks, table) -> list:
    """``checks`` (None: every check of ``table``) as a list, read once (a generator read twice
    would select nothing the second time); a string or a non-iterable is refused naming checks."""
    if isinstance(checks, str):
        raise ValueError(f"checks: expected a list of check names, got the string {checks!r} "
                         f"(write checks=[{checks!r}])")
    try:
        return list(table) if checks is None else list(checks)
    except TypeError:
        raise ValueError(f"checks: expected a list of check names, got {checks!r}") from None


def run_check_table(table: dict, trace, checks=None, **options):
    """Run the checks named in ``checks`` (default: all) of ``table`` (``{name: check}``) on
    ``trace``; ``options`` maps a check name to a dict of its keyword arguments, and each of
    :data:`SHARED_OPTIONS` given here goes to every selected check that takes it (unless that
    check's dict sets it).  A shared keyword that no selected check takes, and any other
    unknown keyword, is refused by name.  Every method's ``run_*_checks`` (this module,
    verify.dladmm, verify.lifted_bcd) is this call."""
    names = check_selection(checks, table)
    if not names:
        raise ValueError(f"checks: expected at least one check name among {list(table)}, got an "
                         "empty selection (nothing would be checked)")
    bad = [c for c in names if not isinstance(c, str) or c not in table]
    if bad:
        raise ValueError(f"checks: {_unknown_names('check name', bad, table)} (expected among "
                         f"{list(table)})")
    shared = {k: options.pop(k) for k in SHARED_OPTIONS if k in options}
    shared = {k: v for k, v in shared.items() if v is not None}
    unknown = [o for o in options if o not in table]
    if unknown:
        raise ValueError(f"{_unknown_names('keyword', unknown, list(table) + list(SHARED_OPTIONS))}"
                         f" (expected a check name among {list(table)} with a dict of its "
                         f"arguments, or one of {list(SHARED_OPTIONS)})")
    idle = [o for o in options if o not in names]
    if idle:                              # a check's arguments for a check that will not run
        raise ValueError(f"{idle[0]}: arguments given for a check that is not selected (checks="
                         f"{names}); they would be ignored")
    unused = [k for k in shared if not any(_takes(table[nm], k) for nm in names)]
    if unused:
        raise ValueError(f"{unused[0]}: none of the checks {names} takes it (given at the top "
                         "level, it would be ignored)")
    trace = _as_trace(trace)                      # validated once, before any check
    _check_shared(shared, trace)
    stopped = run_stopped_badly(trace)
    out = {}
    for nm in names:
        kw = options.get(nm)
        kw = {} if kw is None else kw
        if not isinstance(kw, dict):         # False, 0, [] are not "no arguments"
            raise ValueError(f"{nm}: expected a dict of keyword arguments, got {kw!r}")
        params = inspect.signature(table[nm]).parameters
        extra = getattr(table[nm], "deprecated_keywords", None)   # what **kwargs still accepts
        if extra is not None or not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            known = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)][1:]
            wrong = [k for k in kw if k not in known and k not in (extra or ())]
            if wrong:
                raise ValueError(f"{nm}: {_unknown_names('keyword', wrong, known)} (its keywords: {known})")
        kw = {**{k: v for k, v in shared.items() if _takes(table[nm], k)}, **kw}
        res = table[nm](trace, **kw)
        if stopped and res.verdict is Verdict.PASS:   # the related methods' checks too
            res["verdict"], res["reason"] = Verdict.FAIL, stopped
        out[nm] = res
    return out


def format_table(results) -> str:
    """Plain-text table of check results (one line each): verdict, figures (slack factors of
    certified bounds included), then each check's message.  A PASS whose certified bound is
    not below where the run started (``informative=False``) reads ``PASS (uninformative)``."""
    rows, uninformative = [], []
    for nm, r in results.items():
        figs = r.figures()
        keep = {k: v for k, v in figs.items() if k in _TABLE_KEYS.get(nm, ())}
        fig = ", ".join(f"{k}={_fmt(v)}" for k, v in keep.items())
        msg = r.message
        if r.get("reason") and r.verdict is not Verdict.PASS and r.reason not in msg:
            msg = f"{msg} [{r.verdict}: {r.reason}]"
        rows.append((nm, str(r.verdict), fig, msg))
        # a certified bound that holds but is no better than where the run started
        uninformative.append(r.verdict is Verdict.PASS and r.get("informative") is False)
    w0 = max(len(r[0]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    shown = [v + (" (uninformative)" if u else "") for (_, v, _, _), u in zip(rows, uninformative)]
    w1 = max([12] + [len(v) for v in shown])
    lines = [f"{'check':<{w0}}  {'verdict':<{w1}}  {'figures':<{w2}}", "-" * (w0 + w1 + w2 + 4)]
    for (nm, _, fig, _), v in zip(rows, shown):
        lines.append(f"{nm:<{w0}}  {v:<{w1}}  {fig:<{w2}}")
    counts = {v: sum(1 for r in rows if r[1] == v) for v in Verdict}
    lines.append(", ".join(f"{c} {v}" + (f" ({sum(uninformative)} uninformative)"
                                         if v is Verdict.PASS and any(uninformative) else "")
                           for v, c in counts.items()))
    lines.append("")
    lines += [f"{nm}: {msg}" for nm, _, _, msg in rows]
    return "\n".join(lines)


_TABLE_KEYS = {
    "sufficient_descent": ("a", "n_violations", "n_decided", "min_margin", "slack"),
    "descent_diagnostic": ("max_margin", "unbounded"),
    "bounded_iterates": ("growth_ratio", "rel_growth_last", "slack"),
    "dual_bounded_by_primal": ("worst_excess", "sup_ratio"),
    "feasibility_to_zero": ("final", "relative", "tail_decay"),
    "kkt_rate": ("regime", "slope", "exponent_se", "rate", "basis", "heuristic", "final_slack",
                 "informative"),
    "relative_error": ("sup_ratio", "b", "slack"),
    "rate_certificate": ("final_bound", "final_measured", "final_slack", "informative", "broken"),
    "step_sum_rate": ("a", "final_slack", "informative"),                       # verify.dladmm
}


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.3g}"
    return str(v)
