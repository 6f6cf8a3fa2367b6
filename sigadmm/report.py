"""The reproduction report: Markdown and/or HTML with PNG figures.

The central table of a report reads ``claim | paper | ours | ratio`` (ratio = ours / paper),
one :class:`Claim` per row.  Everything else is a sequence of blocks (headings, text,
tables, figures) written in order.  The writer knows nothing of how the numbers were made:
:mod:`sigadmm.reproduce` fills it.

Example
-------
>>> from sigadmm.report import Report, Claim
>>> rep = Report("Square gate")
>>> c = Claim("ADMM-sigmoid MSE, x^2 (Table 3)", paper=2.53e-9, ours=3.1e-9, tolerance=1.18e-9)
>>> c.verdict                                     # within the paper's std: see VERDICT_RULE
'reproduced'
>>> rep = rep.add_claims([c])                     # summary line, table, the rule (once)
>>> paths = rep.write("reports/demo")            # doctest: +SKIP
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from solver.npz import atomic_write
from theory.verdicts import REPORT_LABEL, Verdict

__all__ = ["Claim", "Report", "VERDICTS", "VERDICT_RULE", "CELL_RULE", "MEASURE_RULE", "Measured",
           "TableCell", "cell_verdict", "measures_verdict", "verdict_counts", "verdict_summary",
           "fmt_num", "markdown_table", "deferred_interrupts", "atomic_write_bytes"]

#: Resolution of the PNG figures of a report.
FIGURE_DPI = 110
#: :func:`fmt_num` writes magnitudes in [FIXED_LOW, FIXED_HIGH) in fixed notation, integers
#: below INTEGER_HIGH without a decimal point, and everything else in exponent notation.
FIXED_LOW, FIXED_HIGH, INTEGER_HIGH = 1e-3, 1e4, 1e6


def fmt_num(x, digits: int = 3) -> str:
    """Short human form of a number: ``3.33e-8``, ``0.125``, ``17``; strings pass through."""
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return str(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return "–"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if float(f).is_integer() and abs(f) < INTEGER_HIGH:
        return str(int(f))
    a = abs(f)
    if FIXED_LOW <= a < FIXED_HIGH:
        if a >= 10 ** digits:  # 7538.2 -> "7540", not "7.54e+03"
            return str(int(round(f, digits - 1 - int(math.floor(math.log10(a))))))
        return f"{f:.{digits}g}"
    m, e = f"{f:.{digits - 1}e}".split("e")
    m = m.rstrip("0").rstrip(".") if "." in m else m
    return f"{m}e{int(e)}"


#: Every verdict a claim can get, in the order the summaries count them.  Table cells
#: (:class:`TableCell`) get one of the first three or *inconclusive* (:data:`CELL_RULE`).
VERDICTS = ("better than the paper", "reproduced", "not reproduced", "worse than the paper",
            "failed check", "contradicted", "inconclusive", "no paper number")

# ----------------------------------------------------------------- like with like
#: A table cell is *reproduced* when ours is within this factor of the paper's mean (either way).
CELL_FACTOR = 2.0
#: Fewest finished trials that give a table cell a verdict (a standard deviation needs two).
CELL_MIN_TRIALS = 2
#: Fewest trials per group that a significance test (Welch, bootstrap) may decide on.
SIG_MIN_TRIALS = 10
#: Significance level of the one-sided tests (Welch's t on log10 errors, bootstrap intervals).
SIG_ALPHA = 0.05
#: Which error of a run a table figure is: ``best`` (smallest over the run) or ``final``.
MEASURES = ("best", "final")
#: What the paper's figure of a cell is: one of :data:`MEASURES`, or ``unknown``.
PAPER_MEASURES = MEASURES + ("unknown",)

#: Which of our numbers a table cell compares (docs/reproduce.md, "Like with like").
MEASURE_RULE = (
    "**Like with like.** Every cell gives our error both ways: *best* (the smallest over the "
    "run: for Tables 3-4 the best train MSE over iterations/epochs; for Tables 5-6 the test MSE "
    "of the iterate with the best train MSE, selected without looking at the test set) and "
    "*final* (the last iterate). The paper's figure is *best* for ADMM in Tables 3-4 (the "
    "authors' released `ADMM_DNN.m` returns `approx_err = min(trainerr)`, over iterates "
    "0..niter-1; ours covers 1..niter) and *unknown* elsewhere (the released code has only the "
    "ADMM approximation demos; the paper does not say which epoch the baselines report).")

#: The verdict of a table cell, stated once (under the first claims table and in docs/reproduce.md).
CELL_RULE = (
    "**Table cells.** With the paper's mean p (standard deviation sp, 20 trials) and ours o "
    f"(standard deviation so, n finished trials) on the paper's measure: fewer than {CELL_MIN_TRIALS} "
    "finished trials or a missing number is *inconclusive*; *reproduced* when "
    f"p/{CELL_FACTOR:g} <= o <= {CELL_FACTOR:g}p or |o - p| <= sp + min(so, o/2) (our spread counts "
    "up to half our mean: an MSE is never negative, and a spread as large as the mean says the mean "
    "is uncertain, not that it is near the paper's); otherwise *better than the "
    f"paper* when o < p/{CELL_FACTOR:g} and *not reproduced* when o > {CELL_FACTOR:g}p. Where the "
    "paper's measure is unknown the rule is applied on both measures: the same verdict on both is "
    "the cell's verdict, different verdicts make it *inconclusive* (the note names both).")


def _finite(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) \
        and math.isfinite(float(x))


def cell_verdict(paper, paper_std, ours, ours_std, trials) -> str:
    """The verdict of one table cell on one measure, by :data:`CELL_RULE`.

    ``paper``/``paper_std``: the paper's mean and standard deviation (over its 20 trials);
    ``ours``/``ours_std``: ours over ``trials`` finished trials.  Returns ``"reproduced"``,
    ``"better than the paper"``, ``"not reproduced"`` or ``"inconclusive"``.  A pure function:
    *reproduced* is ``p/2 <= o <= 2p`` or ``|o - p| <= sp + min(so, o/2)``: the second set is an
    interval around p too (``|o - p| - min(so, o/2)`` falls towards p and rises away from it), so
    the verdict is monotone in o: below the interval *better*, above it *not reproduced*.
    """
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 0:
        raise ValueError(f"trials: expected an integer >= 0, got {trials!r}")
    for name, v in (("paper", paper), ("paper_std", paper_std), ("ours", ours), ("ours_std", ours_std)):
        if v is not None and not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
            raise ValueError(f"{name}: expected a number or None, got {v!r}")
        if _finite(v) and float(v) < 0:
            raise ValueError(f"{name}: expected a mean squared error or its std (>= 0), got {v!r}")
    if _finite(paper) and float(paper) == 0:
        raise ValueError("paper: expected a positive mean (a ratio to it is taken), got 0")
    if trials < CELL_MIN_TRIALS or not all(_finite(v) for v in (paper, paper_std, ours, ours_std)):
        return "inconclusive"
    p, sp, o, so = float(paper), float(paper_std), float(ours), float(ours_std)
    if p / CELL_FACTOR <= o <= CELL_FACTOR * p or abs(o - p) <= sp + min(so, o / 2):
        return "reproduced"
    return "better than the paper" if o < p else "not reproduced"


def measures_verdict(paper, paper_std, measures: dict, paper_measure: str) -> str:
    """The verdict of a table cell (:data:`CELL_RULE`): on the paper's measure, or, where it is
    ``"unknown"``, the common verdict of both measures (else *inconclusive*).

    ``measures``: ``{"best": (mean, std, trials), "final": (mean, std, trials)}``.
    """
    if paper_measure not in PAPER_MEASURES:
        raise ValueError(f"paper_measure: expected one of {PAPER_MEASURES}, got {paper_measure!r}")
    if not isinstance(measures, dict) or set(measures) != set(MEASURES):
        raise ValueError(f"measures: expected a dict with keys {MEASURES} of (mean, std, trials), "
                         f"got {measures!r}")
    v = {m: cell_verdict(paper, paper_std, *measures[m]) for m in MEASURES}
    if paper_measure != "unknown":
        return v[paper_measure]
    return v["best"] if v["best"] == v["final"] else "inconclusive"


def welch_less(a, b, alpha: float = SIG_ALPHA, min_trials: int = SIG_MIN_TRIALS):
    """One-sided Welch test that the values ``a`` are smaller than ``b``, on log10 (errors
    span decades; a ratio is what the paper compares).  Returns ``(decision, t, p)``:
    decision True when ``p < alpha`` (a below b), False when the opposite one-sided test has
    ``p < alpha`` (a above b), None when neither or when a group has fewer than
    ``min_trials`` finite positive values (then t and p are nan)."""
    la = np.log10(np.asarray([x for x in a if _finite(x) and x > 0], float))
    lb = np.log10(np.asarray([x for x in b if _finite(x) and x > 0], float))
    if la.size < min_trials or lb.size < min_trials:
        return None, math.nan, math.nan
    if np.ptp(la) == 0 and np.ptp(lb) == 0:
        return (None if la[0] == lb[0] else bool(la[0] < lb[0])), math.nan, 0.0
    t, p_two = stats.ttest_ind(la, lb, equal_var=False)
    p_less = p_two / 2 if t < 0 else 1 - p_two / 2
    if p_less < alpha:
        return True, float(t), float(p_less)
    if 1 - p_less < alpha:
        return False, float(t), float(1 - p_less)
    return None, float(t), float(p_less)


@dataclass(frozen=True)
class Measured:
    """Our number on one measure: mean and standard deviation (ddof=1) over ``trials`` trials."""

    mean: float
    std: float
    trials: int

    @classmethod
    def of(cls, values) -> "Measured":
        """From the trials' values (nan values are unfinished runs: left out of the count)."""
        v = np.asarray(list(values), float)
        v = v[np.isfinite(v)]
        return cls(float(v.mean()) if v.size else math.nan,
                   float(v.std(ddof=1)) if v.size > 1 else math.nan, int(v.size))

    def text(self) -> str:
        return f"{fmt_num(self.mean)} ({fmt_num(self.std)})"


@dataclass(frozen=True)
class TableCell:
    """A cell of Tables 3-6 measured both ways (:data:`MEASURE_RULE`), for :class:`Claim` ``cell``.

    ``paper_measure``: which of :data:`MEASURES` the paper's figure is, or ``"unknown"``.
    """

    paper_std: float
    best: Measured
    final: Measured
    paper_measure: str = "unknown"

    def __post_init__(self):
        if self.paper_measure not in PAPER_MEASURES:
            raise ValueError(f"paper_measure: expected one of {PAPER_MEASURES}, got {self.paper_measure!r}")
        for m in MEASURES:
            if not isinstance(getattr(self, m), Measured):
                raise ValueError(f"{m}: expected a Measured(mean, std, trials), got {getattr(self, m)!r}")

    def measures(self) -> dict:
        return {m: (getattr(self, m).mean, getattr(self, m).std, getattr(self, m).trials) for m in MEASURES}

    def verdicts(self, paper) -> dict:
        """``{"best": verdict, "final": verdict}`` (:func:`cell_verdict` on each measure)."""
        return {m: cell_verdict(paper, self.paper_std, *self.measures()[m]) for m in MEASURES}

    def verdict(self, paper) -> str:
        return measures_verdict(paper, self.paper_std, self.measures(), self.paper_measure)

#: Relative tolerance under which two numbers count as equal ("reproduced").
EQUAL_RTOL = 1e-9

#: What must hold besides the numbers before a claim may be *reproduced* (issue 21; the
#: per-claim substance is in docs/reproduce.md, "What each claim needs").
SUBSTANCE_RULE = (
    "**Substance before numbers.** A relative rule (a ratio, a spread, an ordering) is one part "
    "of a claim's test, never all of it. A claim is *inconclusive* with its reason, whatever "
    "the numbers, when: a run it uses is *unfinished* (its best iterate lies in the last 10 % "
    "of its iterations: it was still improving; such runs are rerun longer from the same seed "
    "where the plan says so); it compares ADMM with a baseline that ran *below the paper's "
    "settings* (fewer epochs, a learning rate or momentum not the paper's, fewer than "
    f"{SIG_MIN_TRIALS} trials; the paper's own baseline figure is given beside); it is a "
    f"comparison the paper makes (best depth, lambda against beta) and a group has fewer than "
    f"{SIG_MIN_TRIALS} trials (Welch's t on log10 errors, one-sided, alpha = {SIG_ALPHA:g}, or a "
    "bootstrap interval decides it); or every case fails the error level the claim is about "
    "(uniform failure: 'stable across initialisations' means every initialisation reaches the "
    "table's error level). No hyper-parameter is chosen on test data: a choice is made on a "
    "validation part of the training data or fixed at the paper's value.")

#: How a claim gets its verdict, stated once under the claims table of a report.
VERDICT_RULE = (
    "**Verdicts.** A claim decided by a check of `verify.checks` takes the check's verdict: "
    "PASS is *reproduced*, FAIL is *failed check*, INCONCLUSIVE is *inconclusive* (the check's "
    "reason is in the note). A property the paper states in words is *reproduced* when this run "
    "shows it and *contradicted* when it shows the opposite. A bound the paper proves (an error "
    "<= eps) is *reproduced* when ours is within it and *contradicted* when not. A number beside "
    "the paper's number is *reproduced* when equal (or within the paper's standard deviation, "
    "where it gives one), else *better than the paper* or *worse than the paper* by the "
    "claim's direction (lower MSE is better). A claim whose number this run did not measure is "
    "*inconclusive*; a row with no paper number (our own control) is *no paper number*. "
    + MEASURE_RULE + " " + CELL_RULE + " " + SUBSTANCE_RULE)


def _check_label(check) -> str | None:
    """The verdict name of a check (``verify.Verdict`` or its string), upper case; None stays."""
    if check is None:
        return None
    name = str(getattr(check, "value", check)).upper()
    if name not in Verdict.__members__:
        raise ValueError(f"check: expected a verify verdict PASS, FAIL or INCONCLUSIVE, got {check!r}")
    return name


def _number(x) -> float:
    """``x`` as a float, nan for None, words and non-numbers."""
    if x is None or isinstance(x, (str, bool)):
        return math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


@dataclass
class Claim:
    """One row of the central table: a claim of the paper, its number and ours.

    The verdict (:attr:`verdict`, one of :data:`VERDICTS`) follows :data:`VERDICT_RULE`, in
    this order: ``check`` (a check's three-valued verdict), then ``holds`` (a property in
    words), then ``bound``, then the numbers with ``better`` and ``tolerance``.

    Parameters
    ----------
    claim : str
        What is claimed (with the paper's table / figure).
    paper : float or str or None
        The paper's number (its tables, docs/experiments.md#results-tables-3-to-6), or a word
        ("decreasing") when not a number; None when the paper gives none (our own control).
    ours : float or str or None
        Our measured number (None or nan when not measured in this run).
    better : {"lower", "higher", None}
        Which direction is better, for the verdict of a number.
    spread : float, optional
        Our standard deviation over trials, shown as ``mean (std)``.
    note : str
        Setting differences, the command, caveats.
    check : verify.Verdict or {"PASS", "FAIL", "INCONCLUSIVE"}, optional
        The verdict of the check of :mod:`verify.checks` that decides this claim.
    holds : bool, optional
        For a property the paper states (``paper`` a word or a number with its meaning in the
        claim): whether this run shows it (None: undecided, *inconclusive*).
    bound : bool
        ``paper`` is a bound the paper proves (``ours`` <= it for ``better="lower"``, >= for
        "higher"): beyond it is *contradicted*, not merely worse.
    tolerance : float
        Absolute distance from the paper's number within which ours counts as *reproduced*
        (the paper's standard deviation for its table means); 0: equal to ``EQUAL_RTOL``.
    cell : TableCell, optional
        A cell of Tables 3-6 measured both ways: the verdict is :data:`CELL_RULE`'s on the
        paper's measure (``paper`` is the paper's mean); ``ours`` defaults to our mean on that
        measure (None where the paper's measure is unknown: the row shows both).
    undecided : str
        Why the evidence cannot decide the claim whatever the numbers say (``"unfinished"``,
        ``"baseline below the paper's settings"``, ``"fewer than 10 trials"``, ...): the
        verdict is *inconclusive* and :attr:`verdict_text` says ``inconclusive: <why>``
        (:data:`SUBSTANCE_RULE`).  Empty: the other fields decide.
    """

    claim: str
    paper: object = None
    ours: object = None
    better: str | None = "lower"
    spread: float | None = None
    note: str = ""
    check: object = None
    holds: bool | None = None
    bound: bool = False
    tolerance: float = 0.0
    cell: TableCell | None = None
    undecided: str = ""

    def __post_init__(self):
        if not isinstance(self.undecided, str):
            raise ValueError(f"undecided: expected a reason (str, empty: decided), got {self.undecided!r}")
        if not isinstance(self.claim, str) or not self.claim:
            raise ValueError(f"claim: expected a non-empty string, got {self.claim!r}")
        if self.better not in ("lower", "higher", None):
            raise ValueError(f"better: expected 'lower', 'higher' or None, got {self.better!r}")
        self.check = _check_label(self.check)
        if self.holds is not None and not isinstance(self.holds, (bool, np.bool_)):
            raise ValueError(f"holds: expected True, False or None, got {self.holds!r}")
        if self.holds is not None:
            self.holds = bool(self.holds)
        if not (isinstance(self.tolerance, (int, float)) and math.isfinite(self.tolerance)
                and self.tolerance >= 0):
            raise ValueError(f"tolerance: expected a finite number >= 0, got {self.tolerance!r}")
        if self.bound and self.better is None:
            raise ValueError("bound: a bound needs its direction, better='lower' or 'higher'")
        if self.cell is not None:
            if not isinstance(self.cell, TableCell):
                raise ValueError(f"cell: expected a TableCell, got {type(self.cell).__name__}")
            if self.check is not None or self.holds is not None or self.bound:
                raise ValueError("cell: a table cell takes its verdict from CELL_RULE; "
                                 "do not give check, holds or bound with it")
            if self.ours is None and self.cell.paper_measure != "unknown":
                self.ours = getattr(self.cell, self.cell.paper_measure).mean
            if self.spread is None and self.cell.paper_measure != "unknown":
                self.spread = getattr(self.cell, self.cell.paper_measure).std

    @property
    def ratio(self) -> float:
        """``ours / paper`` when both are numbers and ``paper != 0``, else nan."""
        p, o = _number(self.paper), _number(self.ours)
        if p == 0 or math.isnan(p) or math.isnan(o):
            return math.nan
        return o / p

    def ratios(self) -> dict:
        """For a table cell: ``{"best": ours/paper, "final": ours/paper}`` (nan where undefined)."""
        if self.cell is None:
            return {}
        p = _number(self.paper)
        return {m: (getattr(self.cell, m).mean / p if p and math.isfinite(p) else math.nan)
                for m in MEASURES}

    @property
    def verdict_text(self) -> str:
        """The verdict with its reason where undecided: ``inconclusive: unfinished``."""
        return f"inconclusive: {self.undecided}" if self.undecided else self.verdict

    @property
    def decided_verdict(self) -> str:
        """The verdict the numbers alone would give (:attr:`verdict` without ``undecided``)."""
        return Claim(**{**self.__dict__, "undecided": ""}).verdict

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`, by :data:`VERDICT_RULE`; *inconclusive* whenever
        ``undecided`` gives a reason (the evidence cannot decide)."""
        if self.undecided:
            return "inconclusive"
        if self.cell is not None:
            return self.cell.verdict(self.paper)
        if self.check is not None:
            return REPORT_LABEL[Verdict(self.check)]  # the mapping of theory.verdicts
        if self.holds is not None:
            return "reproduced" if self.holds else "contradicted"
        if self.paper is None:
            return "no paper number"
        p, o = _number(self.paper), _number(self.ours)
        if math.isnan(p) or math.isnan(o) or self.better is None:
            # a word without ``holds``, a number not measured, or no direction: undecided
            return "inconclusive"
        if self.bound:
            within = o <= p if self.better == "lower" else o >= p
            return "reproduced" if within else "contradicted"
        if abs(o - p) <= max(self.tolerance, EQUAL_RTOL * max(abs(o), abs(p))):
            return "reproduced"
        good = o < p if self.better == "lower" else o > p
        return "better than the paper" if good else "worse than the paper"

    def row(self) -> list[str]:
        if self.cell is not None:
            c, r = self.cell, self.ratios()
            paper = f"{fmt_num(self.paper)} ({fmt_num(c.paper_std)}), {c.paper_measure}"
            ours = (f"best {c.best.text()}; final {c.final.text()}; "
                    f"{min(c.best.trials, c.final.trials)} trials")
            ratio = (fmt_num(r[c.paper_measure]) if c.paper_measure != "unknown"
                     else f"best {fmt_num(r['best'])}; final {fmt_num(r['final'])}")
            note = self.note
            if c.paper_measure == "unknown":
                v = c.verdicts(self.paper)
                note = (f"best: {v['best']}, final: {v['final']}" + (f"; {note}" if note else ""))
            return [self.claim, paper, ours, ratio, self.verdict_text, note]
        ours = fmt_num(self.ours)
        if self.spread is not None and not (isinstance(self.spread, float) and math.isnan(self.spread)):
            ours = f"{ours} ({fmt_num(self.spread)})"
        return [self.claim, fmt_num(self.paper), ours, fmt_num(self.ratio), self.verdict_text, self.note]


CLAIM_HEADER = ["claim", "paper", "ours", "ratio", "verdict", "note"]


def verdict_counts(claims) -> dict:
    """``{verdict: count}`` over every label of :data:`VERDICTS` (zeros included), in order."""
    counts = dict.fromkeys(VERDICTS, 0)
    for c in claims:
        counts[c.verdict] += 1
    return counts


def verdict_summary(claims) -> str:
    """``"18 claims: 2 better than the paper, 6 reproduced, ..., 0 no paper number"``: every
    verdict counted (the report's summary line and the CLI's)."""
    claims = list(claims)
    counts = verdict_counts(claims)
    return (f"{len(claims)} claim{'s' if len(claims) != 1 else ''}: "
            + ", ".join(f"{n} {v}" for v, n in counts.items()))


def markdown_table(header, rows) -> str:
    """A GitHub-flavoured Markdown table (cells formatted with :func:`fmt_num`)."""
    header = [str(h) for h in header]
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        cells = [fmt_num(c) for c in r]
        if len(cells) != len(header):
            raise ValueError(f"rows: expected {len(header)} cells per row, got {len(cells)}")
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _md_cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _table_rows(table):
    """(header, rows) from a pandas DataFrame or a (header, rows) pair."""
    if hasattr(table, "columns") and hasattr(table, "itertuples"):
        return [str(c) for c in table.columns], [list(r) for r in table.itertuples(index=False)]
    header, rows = table
    return list(header), [list(r) for r in rows]


class Report:
    """An ordered list of blocks written to ``report.md`` and/or ``report.html``.

    Figures are rendered to PNG when added (``figures/<name>.png``), so no matplotlib
    figure has to stay open.
    """

    def __init__(self, title: str, subtitle: str = ""):
        if not title:
            raise ValueError("title: expected a non-empty string")
        self.title = title
        self.subtitle = subtitle
        self.blocks: list[tuple] = []
        self.figures: dict[str, bytes] = {}
        self.claims: list[Claim] = []
        self._rule_stated = False  # VERDICT_RULE is written once, under the first claims table

    # ------------------------------------------------------------ building
    def add_heading(self, text: str, level: int = 2) -> "Report":
        if level not in (2, 3, 4):
            raise ValueError(f"level: expected 2, 3 or 4, got {level!r}")
        self.blocks.append(("heading", text, level))
        return self

    def add_text(self, text: str) -> "Report":
        """A paragraph (Markdown inline code with backticks is kept; a line starting with
        ``    `` or a fenced block becomes a code block)."""
        self.blocks.append(("text", str(text)))
        return self

    def add_code(self, text: str) -> "Report":
        self.blocks.append(("code", str(text)))
        return self

    def add_claims(self, claims, title: str | None = "Claims: paper against this run") -> "Report":
        """The central ``claim | paper | ours | ratio`` table (plus verdict and note), with a
        summary line counting every verdict above it and :data:`VERDICT_RULE` under the first
        claims table of the report."""
        claims = list(claims)
        for c in claims:
            if not isinstance(c, Claim):
                raise ValueError(f"claims: expected Claim objects, got {type(c).__name__}")
        self.claims.extend(claims)
        if title:
            self.add_heading(title)
        self.add_text(f"**Summary.** {verdict_summary(claims)}.")
        self.blocks.append(("table", CLAIM_HEADER, [c.row() for c in claims], ""))
        if not self._rule_stated:
            self.add_text(VERDICT_RULE)
            self._rule_stated = True
        return self

    def add_table(self, table, caption: str = "") -> "Report":
        """A pandas DataFrame or ``(header, rows)``."""
        header, rows = _table_rows(table)
        self.blocks.append(("table", header, rows, caption))
        return self

    def add_figure(self, fig, name: str, caption: str = "", dpi: int = FIGURE_DPI) -> "Report":
        """Render a matplotlib figure to ``figures/<name>.png`` (closed afterwards)."""
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", name or ""):
            raise ValueError(f"name: expected letters, digits, '_' or '-', got {name!r}")
        if name in self.figures:
            raise ValueError(f"name: a figure called {name!r} is already in the report")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        try:
            import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib: import time; the caller picks the backend
            plt.close(fig)
        except Exception:  # noqa: BLE001 - closing is a courtesy
            pass
        self.figures[name] = buf.getvalue()
        self.blocks.append(("figure", name, caption))
        return self

    # ------------------------------------------------------------ output
    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        if self.subtitle:
            out += [self.subtitle, ""]
        for b in self.blocks:
            kind = b[0]
            if kind == "heading":
                out += ["#" * b[2] + " " + b[1], ""]
            elif kind == "text":
                out += [b[1], ""]
            elif kind == "code":
                out += ["```", b[1].rstrip("\n"), "```", ""]
            elif kind == "table":
                if b[3]:
                    out += [f"*{b[3]}*", ""]
                out += [markdown_table(b[1], b[2]), ""]
            elif kind == "figure":
                out += [f"![{b[2] or b[1]}](figures/{b[1]}.png)", ""]
                if b[2]:
                    out += [f"*{b[2]}*", ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self, embed: bool = True) -> str:
        """The HTML page; ``embed``: the figures inline as base64 PNG (one self-contained
        file), else linked as ``figures/<name>.png``."""
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        if self.subtitle:
            body.append(f"<p>{_inline(self.subtitle)}</p>")
        for b in self.blocks:
            kind = b[0]
            if kind == "heading":
                body.append(f"<h{b[2]}>{e(b[1])}</h{b[2]}>")
            elif kind == "text":
                for para in b[1].split("\n\n"):
                    body.append(f"<p>{_inline(para)}</p>")
            elif kind == "code":
                body.append(f"<pre><code>{e(b[1])}</code></pre>")
            elif kind == "table":
                rows = ["<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in b[1]) + "</tr>"]
                for r in b[2]:
                    rows.append("<tr>" + "".join(f"<td>{_inline(fmt_num(c))}</td>" for c in r) + "</tr>")
                cap = f"<caption>{_inline(b[3])}</caption>" if b[3] else ""
                body.append(f"<table>{cap}{''.join(rows)}</table>")
            elif kind == "figure":
                src = (f"data:image/png;base64,{base64.b64encode(self.figures[b[1]]).decode()}"
                       if embed else f"figures/{e(b[1])}.png")
                body.append(f'<figure><img src="{src}" alt="{e(b[2] or b[1])}">'
                            + (f"<figcaption>{_inline(b[2])}</figcaption>" if b[2] else "")
                            + "</figure>")
        style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
                 "padding:.25em .6em;text-align:left}th{background:#eee}img{max-width:100%}"
                 "caption{caption-side:top;font-style:italic;text-align:left}"
                 "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}")
        return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
                f"<title>{e(self.title)}</title><style>{style}</style></head><body>\n"
                + "\n".join(body) + "\n</body></html>\n")

    def write(self, out_dir, formats=("md", "html")) -> dict:
        """Write ``report.md`` / ``report.html`` and ``figures/*.png`` under ``out_dir``.

        Every file is written to a temporary name and renamed into place (a reader never
        sees half a file), figures first, the report pages last; Ctrl-C during the writing
        is held back until every file is in place (:func:`deferred_interrupts`).
        Returns ``{"md": path, "html": path, "figures": [paths]}`` for the formats written.
        """
        if isinstance(formats, str):
            formats = ("md", "html") if formats == "both" else (formats,)
        bad = [f for f in formats if f not in ("md", "html")]
        if bad or not formats:
            raise ValueError(f"formats: expected 'md', 'html' or both, got {formats!r}")
        out = Path(out_dir)
        pages = {}
        if "md" in formats:
            pages["md"] = self.to_markdown()
        if "html" in formats:
            pages["html"] = self.to_html()
        (out / "figures").mkdir(parents=True, exist_ok=True)
        paths = {"figures": []}
        with deferred_interrupts():
            for name, png in self.figures.items():
                p = out / "figures" / f"{name}.png"
                atomic_write_bytes(p, png)
                paths["figures"].append(p)
            for fmt, text in pages.items():
                paths[fmt] = out / f"report.{fmt}"
                atomic_write_bytes(paths[fmt], text.encode("utf-8"))
        return paths


def _inline(text: str) -> str:
    """Escape HTML, then render Markdown inline code and bold."""
    s = html.escape(str(text))
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    s = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", s)
    return s


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`solver.npz.atomic_write`)."""
    return atomic_write(path, lambda fh: fh.write(data))


def _atomic_write(path: Path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def deferred_interrupts():
    """Hold Ctrl-C (SIGINT) back while the block runs, then raise ``KeyboardInterrupt``.

    For the short steps that publish results (renaming finished files into place): an
    interruption there would leave some files new and some old.  Outside the main thread
    (where signal handlers cannot be set) the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got = []
    try:
        old = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    except (ValueError, OSError):  # pragma: no cover - embedded interpreters
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if got:
        raise KeyboardInterrupt
