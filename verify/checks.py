"""Checks of the convergence claims of Theorem 4 / 7 on one recorded run.

Each check reads a :class:`solver.Trace` (only the fields it needs; see ``solver/trace.py``)
and returns a :class:`CheckResult` (a ``scipy.optimize.OptimizeResult``) with ``name``,
``verdict`` (:class:`Verdict`: PASS, FAIL or INCONCLUSIVE), ``reason`` (why it is not a
PASS), ``message`` and the measured figures.  Nothing passes for lack of evidence: a run too
short, a quantity below its rounding floor, constants that are not known, or a block that
float64 cannot resolve (``verify.conditions.numerical_validity``) give INCONCLUSIVE.
Nothing here trains; :func:`assert_converges` trains only when given an unfitted estimator.

=========================  ====================================================
check                      statement on the run (docs/algorithm.md, docs/verify.md)
=========================  ====================================================
sufficient_descent         Lemma 14 with FIXED ``xi`` and ``a`` (user, ``conditions=``, or the
                           a-posteriori certificate): ``(Lhat^{k-1} - Lhat^k)/P_k >= a > 0``
descent_diagnostic         (diagnostic, never PASS) the per-layer ``xi`` a linear program finds
bounded_iterates           Lemma 19: inside the derived/given box, or no growth trend of the sup
dual_bounded_by_primal     Lemma 18's per-step linear forms with the measured norms
feasibility_to_zero        Theorem 4(b): ``||F|| / ||V||`` small and still falling
kkt_rate                   Theorem 4(c) on ``sum_j r_j^2`` (the proof's chain, derived or
                           out-of-sample constants) plus the regime of ``min_j r_j``
relative_error             Lemma 21 with a derived ``b`` (INCONCLUSIVE without one)
rate_certificate           the proof's chain link by link, with derived ``a, b, xi``
=========================  ====================================================

A finite run cannot prove a limit: each check states its finite-run criterion in its
docstring, and verdicts that rest on a fitted regime or on constants estimated from the run
itself carry ``heuristic=True``.
"""

from __future__ import annotations

import difflib
import enum
import inspect
import math
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import OptimizeResult, linprog

from solver.instance import data_norm

from ._trace_input import _as_trace, _need
from .integrity import _SUP_ACT, TraceIntegrityError, run_stopped_badly, validate_trace

__all__ = [
    "Verdict",
    "CheckResult",
    "sufficient_descent",
    "descent_diagnostic",
    "resolve_constants",
    "FLOOR_MULT",
    "bounded_iterates",
    "dual_bounded_by_primal",
    "feasibility_to_zero",
    "kkt_rate",
    "relative_error",
    "rate_certificate",
    "run_checks",
    "assert_converges",
    "ConvergenceError",
    "CHECKS",
    "TraceIntegrityError",
    "validate_trace",
]


class ConvergenceError(AssertionError):
    """Raised by :func:`assert_converges`; ``.results`` holds every check's result."""

    def __init__(self, message, results):
        super().__init__(message)
        self.results = results


class Verdict(enum.StrEnum):
    """The outcome of one check.

    ``PASS``: the run shows the claim with the stated finite-run criterion.  ``FAIL``: the
    run contradicts it.  ``INCONCLUSIVE``: the run cannot decide it (too short, below the
    rounding floor, constants unknown, a block that float64 cannot resolve); ``reason``
    says which.  Nothing passes for lack of evidence.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"

    @classmethod
    def of(cls, ok: bool) -> "Verdict":
        return cls.PASS if ok else cls.FAIL


_META_KEYS = ("name", "verdict", "reason", "message")


class CheckResult(OptimizeResult):
    """Outcome of one check (a ``scipy.optimize.OptimizeResult``: a dict with attribute access).

    Keys (also attributes): ``name``, ``verdict`` (:class:`Verdict`), ``reason`` (why the
    verdict is FAIL or INCONCLUSIVE; ``None`` on PASS), ``message`` (one sentence) and
    check-specific figures.  ``passed`` is a read-only property, ``verdict == PASS``.  A
    misspelt key raises ``AttributeError``; ``bool(result)`` raises ``TypeError`` on purpose
    so that ``assert result`` cannot pass by accident (use ``result.passed`` or
    ``result.verdict``).
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if "passed" in self:
            raise TypeError("CheckResult: 'passed' is derived from 'verdict'; give verdict=")
        v = self.get("verdict")
        if not isinstance(v, Verdict):
            try:
                dict.__setitem__(self, "verdict", Verdict(v))
            except ValueError:
                raise ValueError(f"verdict: expected one of {[x.value for x in Verdict]}, "
                                 f"got {v!r}") from None
        self.setdefault("reason", None)

    @property
    def passed(self) -> bool:
        """``verdict == PASS`` (read-only)."""
        return self["verdict"] is Verdict.PASS

    @property
    def inconclusive(self) -> bool:
        return self["verdict"] is Verdict.INCONCLUSIVE

    @property
    def failed(self) -> bool:
        return self["verdict"] is Verdict.FAIL

    def __setattr__(self, name, value):
        if name in ("passed", "inconclusive", "failed"):
            raise AttributeError(f"CheckResult.{name} is read-only (derived from verdict)")
        self[name] = value

    def __setitem__(self, key, value):
        if key in ("passed", "inconclusive", "failed"):
            raise KeyError(f"CheckResult: {key!r} is derived from 'verdict'")
        if key == "verdict":
            value = Verdict(value)
        dict.__setitem__(self, key, value)

    def __bool__(self):
        raise TypeError("CheckResult: use `.passed` or `.verdict` (truth value is ambiguous "
                        "on purpose)")

    def __repr__(self):
        keys = [k for k in self if k not in _META_KEYS]
        body = ", ".join(f"{k}={_short(self[k])}" for k in keys)
        return (f"CheckResult({self.get('name')!r}, verdict={str(self.get('verdict'))}"
                + (f", reason={self.get('reason')!r}" if self.get("reason") else "")
                + (f", {body}" if body else "") + ")")

    def figures(self) -> dict:
        """Scalar figures only (for tables)."""
        return {k: v for k, v in self.items()
                if k not in _META_KEYS and np.ndim(v) == 0 and v is not None}


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array(shape={v.shape})"
    if isinstance(v, float):
        return f"{v:.4g}"
    return repr(v)


# --------------------------------------------------------------------- input
def _iters_list(mask, offset=1, limit=50):
    idx = np.flatnonzero(mask) + offset
    return [int(i) for i in idx[:limit]]


# ------------------------------------------------------------ shared: floors, constants, guard
#: The rounding floor of a recorded quantity is ``FLOOR_MULT * eps`` times its size (absolute
#: and scale-based: never relative to the largest value of the run).
FLOOR_MULT = 1024.0
_EPS = float(np.finfo(float).eps)
#: fewest decided steps a check needs before it can PASS
MIN_STEPS = 3


def _lagrangian_size(tr, n):
    """Size of the Lagrangian's parts at each k: what rounding of ``L_beta`` is relative to.

    ``|loss| + |reg| + |dual| + |penalty|`` plus ``sum_i ||Lam_i|| ||V_i||`` (the rounding of
    ``<Lam_i, F_i>`` when ``F_i`` is computed from ``sigma(W_i A)`` and ``V_i`` of that size).
    """
    size = (np.abs(tr.loss[:n]) + np.abs(tr.reg[:n]) + np.abs(tr.dual[:n])
            + np.abs(tr.penalty[:n]))
    size = np.maximum(size, np.abs(tr.lagrangian[:n]))
    if tr.normLam is not None and tr.normV is not None:
        lv = np.asarray(tr.normLam[:n], float) * np.asarray(tr.normV[:n], float)
        size = size + np.where(np.isfinite(lv), lv, 0.0).sum(axis=1)
    return size


def _residual_floor(tr, n, floor_mult):
    """Rounding floor of the KKT residual ``r_k`` (absolute, from the iterates' sizes)."""
    parts = np.zeros(n)
    for f in ("normW", "normV", "normLam"):
        a = getattr(tr, f, None)
        if a is not None:
            a = np.asarray(a[:n], float)
            parts = parts + np.where(np.isfinite(a), a, 0.0).sum(axis=1)
    lam_v = 0.0
    if tr.normLam is not None and tr.normV is not None:
        lam_v = (np.asarray(tr.normLam[:n], float)
                 * (1.0 + np.asarray(tr.normV[:n], float).max(axis=1, keepdims=True)
                    + np.asarray(tr.normW[:n], float).max(axis=1, keepdims=True)
                    if tr.normW is not None else 1.0)).sum(axis=1)
    return floor_mult * _EPS * (parts + lam_v + 1e-300)


def _robust_rows(x, w=4):
    """Running median of ``x`` over the rows ``k-w .. k+w`` (mirrored at the ends, the end row
    itself not repeated): a scale that no ``w`` rows can inflate (issue 19, item 2)."""
    x = np.asarray(x, float)
    if x.size <= 2 * w + 1:
        return np.full(x.size, float(np.median(x))) if x.size else x

    return np.median(sliding_window_view(np.pad(x, w, mode="reflect"), 2 * w + 1), axis=1)


def _conditions():
    """:mod:`verify.conditions`, loaded on first use: it imports ``theory`` (sympy) and
    scikit-learn (through ``solver._validation``), which made ``import verify``, and so every
    pytest session through the plugin (:mod:`verify.pytest_plugin`), about four times slower
    (tests/test_verify_imports.py).  No circle: ``conditions`` does not import ``checks``."""
    from . import conditions  # noqa: PLC0415 - import time, see the docstring

    return conditions


def _a_posteriori(tr, raw=False, **data):
    """``(ap_dict or None, reason)``: the a-posteriori certificate, defensively.

    A certificate that refuses the run (``ValueError``: unsupported depth, a synthetic trace
    without ``meta['beta']``; ``TypeError``: a garbled meta value; ``ArithmeticError``: measured
    norms whose constants overflow) or does not hold gives ``None`` and the reason: the
    constants are unknown.  Any other exception is a bug and propagates.  ``raw=True``: the
    dict even when the descent certificate does not hold (its ``b`` does not depend on it).
    ``data``: ``a0=`` / ``X=`` for ``b``.
    """
    data = {k: v for k, v in data.items() if v is not None}
    try:
        ap = _conditions().a_posteriori(tr, **data)
    except (ValueError, TypeError, ArithmeticError) as exc:    # the refusals above
        return None, f"no a-posteriori certificate for this run ({exc})"
    if raw:
        return ap, None
    if not ap or not ap.get("holds"):
        return None, ("the a-posteriori certificate does not hold with this run's measured norms"
                      + (f" ({ap.get('reason')})" if ap and ap.get("reason") else ""))
    return ap, None


def _validity(tr):
    """``(flagged layer indices (0-based), info)`` from ``conditions.numerical_validity``.

    A run the assessment refuses (``ValueError``: no ``meta['beta']``, unknown activation;
    ``TypeError``: a garbled meta value; ``ArithmeticError``: overflowing sizes): nothing
    flagged, ``info`` says it was not assessed.  Any other exception is a bug and propagates.
    """
    stopped = run_stopped_badly(tr)
    try:
        nv = _conditions().numerical_validity(tr)
    except (ValueError, TypeError, ArithmeticError) as exc:    # the refusals above
        return [], {"assessed": False, "reason": str(exc), "stopped": stopped}
    flagged = sorted(int(i) for i in (nv.get("flagged") or []))
    if stopped:
        nv = {**nv, "stopped": stopped}
    return flagged, nv


def _guard(verdict, reason, flagged, nv, layers=None):
    """Checks on blocks that float64 cannot resolve are INCONCLUSIVE (never PASS, never FAIL);
    a run that stopped on a non-finite iterate (or whose meta says it diverged) FAILs every
    check: its iterates left every bound, which contradicts Lemma 19 and Theorem 4."""
    stopped = nv.get("stopped") if isinstance(nv, dict) else None
    if stopped:
        return Verdict.FAIL, stopped + (f"; the check alone would say {verdict}"
                                        + (f": {reason}" if reason else "") if verdict else "")
    hit = [i for i in flagged if layers is None or i in layers]
    if not hit:
        return verdict, reason
    why = (f"numerical validity: the blocks of layer(s) {[i + 1 for i in hit]} are below float64 "
           f"resolution (beta_i eps ||sigma(W_i A)|| large against ||Lam_i||"
           + (f"; {nv.get('reason')}" if isinstance(nv, dict) and nv.get("reason") else "") + ")")
    if verdict is not Verdict.PASS and reason:
        why += f"; the check would otherwise say {verdict}: {reason}"
    return Verdict.INCONCLUSIVE, why


def _xi_vector(xi, N, origin):
    """Per-layer Lyapunov weights from a scalar or a sequence.

    A scalar from the user (or a ``Conditions.xi`` without ``xi_layers``) weighs every layer;
    a scalar from the depth-1 a-posteriori certificate weighs ``||DV_N||^2`` only (its
    derivation: ``xi = 3 w^2 beta_2^2 / beta_1`` on the output layer's V step).
    """
    if xi is None:
        return None
    if np.ndim(xi) == 0:
        v = float(xi)
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"xi: expected a finite number >= 0 or None, got {xi!r}")
        if origin == "a-posteriori":
            out = np.zeros(N)
            out[-1] = v
            return out
        return np.full(N, v)
    out = np.asarray(xi, float).reshape(-1)
    if out.shape[0] != N or not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ValueError(f"xi: expected a number >= 0 or {N} finite values >= 0 (one per layer), "
                         f"got {xi!r}")
    return out


def resolve_constants(trace, xi=None, a=None, b=None, conditions=None, use_a_posteriori=True,
                      a0=None, X=None):
    """The proof's constants for a run, each from (in order) the user, ``conditions``, or the
    a-posteriori certificate (:func:`verify.conditions.a_posteriori`).  The a-posteriori ``b``
    (Lemma 21 with the run's measured norms) needs the data constant ``a0 = ||[X; 1]||_2``
    (``a0=``, ``X=`` or ``meta['a0']``); it is used whenever ``b`` is not given otherwise.

    Returns a dict ``xi`` (per-layer array or None), ``a``, ``b`` (float or None),
    ``source`` (per constant: ``"user"``, ``"conditions"``, ``"a-posteriori"`` or None) and
    ``unknown_reason`` (why a constant is missing).  Values from the user override those of
    ``conditions`` one by one; the a-posteriori certificate is used only when neither gives
    ``xi``/``a`` (its ``xi`` and ``a`` belong together).
    """
    tr = _as_trace(trace)
    # the same validation as the top level's, for per-check and direct X= / a0= (issue 28)
    sh = {k: v for k, v in (("a0", a0), ("X", X)) if v is not None}
    _check_shared(sh, tr)
    a0 = sh.get("a0", a0)                         # the recorded value where a0 was printed
    N = tr.n_layers
    src = {"xi": None, "a": None, "b": None}
    foreign = _not_covered(conditions, tr)
    if foreign is not None:                       # never credit constants of another run
        conditions, use_a_posteriori = None, False
    out = {"xi": None, "a": None, "b": None}
    if xi is not None:
        out["xi"], src["xi"] = _xi_vector(xi, N, "user"), "user"
    if a is not None:
        out["a"], src["a"] = float(a), "user"
        if not math.isfinite(out["a"]) or out["a"] <= 0:
            raise ValueError(f"a: expected a positive finite descent constant, got {a!r}")
    if b is not None:
        out["b"], src["b"] = float(b), "user"
        if not math.isfinite(out["b"]) or out["b"] <= 0:
            raise ValueError(f"b: expected a positive finite relative-error constant, got {b!r}")
    if conditions is not None:
        cx = getattr(conditions, "xi_layers", None)
        if cx is None:
            cx = getattr(conditions, "xi", None)
        if out["xi"] is None and cx is not None:
            out["xi"], src["xi"] = _xi_vector(cx, N, "conditions"), "conditions"
        ca = getattr(conditions, "margin", None)
        if ca is None:
            ca = getattr(conditions, "a", None)
        if out["a"] is None and ca is not None:
            out["a"], src["a"] = float(ca), "conditions"
        cb = getattr(conditions, "b", None)
        if out["b"] is None and cb is not None:
            out["b"], src["b"] = float(cb), "conditions"
    reason, b_reason = None, None
    need_descent = out["xi"] is None and out["a"] is None
    want_b = out["b"] is None and (a0 is not None or X is not None
                                   or (tr.meta or {}).get("a0") is not None)
    if use_a_posteriori and (need_descent or want_b):
        raw, reason = _a_posteriori(tr, raw=True, a0=a0, X=X)
        if raw is not None:
            if need_descent and raw.get("holds") and raw.get("xi") is not None \
                    and raw.get("margin") is not None:
                out["xi"], src["xi"] = _xi_vector(raw["xi"], N, "a-posteriori"), "a-posteriori"
                out["a"], src["a"] = float(raw["margin"]), "a-posteriori"
            elif need_descent:
                reason = ("the a-posteriori certificate does not hold with this run's measured norms"
                          + (f" ({raw.get('reason')})" if raw.get("reason") else ""))
            if out["b"] is None and raw.get("b") is not None:
                out["b"], src["b"] = float(raw["b"]), "a-posteriori"
            elif out["b"] is None:
                b_reason = raw.get("b_reason")
    missing = [k for k in ("xi", "a") if out[k] is None]
    if missing and foreign is not None:
        reason = foreign
    if missing and reason is None:
        reason = (f"{', '.join(missing)} not given (pass conditions=, or {'/'.join(missing)}=)")
    if not missing:
        reason = None
    return {**out, "source": src, "unknown_reason": reason, "b_reason": b_reason,
            "not_covered": foreign}


#: the attributes a conditions object may carry (verify.conditions.Conditions has them all)
_CONDITION_FIELDS = ("xi", "xi_layers", "a", "margin", "b", "box", "covers")


def _not_covered(conditions, tr):
    """``"conditions do not cover this run: ..."`` or None (:meth:`Conditions.covers`); an
    object without ``covers`` (a user's own box) is taken as given."""
    if conditions is None:
        return None
    # every check reads its conditions through here: an object carrying none of the proof's
    # constants (a string, a dict, a number) would be read as "nothing given" and the check
    # would fall back to the a-posteriori constants under the caller's conditions= (issue 28)
    if not any(hasattr(conditions, k) for k in _CONDITION_FIELDS):
        raise TypeError(f"conditions: expected a verify.conditions.Conditions (or an object with "
                        f"some of {list(_CONDITION_FIELDS)}), got {type(conditions).__name__} "
                        f"{repr(conditions)[:60]}")
    f = getattr(conditions, "covers", None)
    if not callable(f):
        return None
    why = f(tr)
    return None if why is None else f"conditions do not cover this run: {why}"


# ------------------------------------------------------------ Lemma 14
def sufficient_descent(trace, xi=None, a=None, conditions=None, *, start=2,
                       floor_mult=FLOOR_MULT, min_steps=MIN_STEPS):
    """Lemma 14 on a run, as the lemma states it: fixed ``xi``, a descent constant ``a > 0``.

    ``Lhat^k = L_beta^k + sum_i xi_i ||V_i^k - V_i^{k-1}||^2`` (paper eq. 29) and, for every
    ``k >= start``,

        ``margin_k = (Lhat^{k-1} - Lhat^k) / P_k >= a > 0``,  ``P_k = sum_i (||dW_i^k||^2 + ||dV_i^k||^2)``.

    ``xi`` and ``a`` come from (in order) the user, ``conditions=`` (a
    :class:`verify.conditions.Conditions`: ``xi_layers``/``xi`` and ``margin``), or the
    a-posteriori certificate :func:`verify.conditions.a_posteriori` (the run's measured norms
    in the derived inequalities).  There is no free constant: with no source the verdict is
    INCONCLUSIVE ("constants unknown"), and :func:`descent_diagnostic` (a linear program over
    per-layer ``xi``) reports what the run would allow, without ever passing.

    Rounding floor: ``floor_k = floor_mult * eps * size_k``, ``size_k`` the size of the
    Lagrangian's parts at ``k`` and ``k-1`` (:func:`_lagrangian_size`).  A step is *decided*
    when ``a P_k > floor_k``; a step violates Lemma 14 when
    ``Lhat^{k-1} - Lhat^k < a P_k - floor_k`` (on an undecided step that is a rise of
    ``Lhat`` above the floor).  ``start = 2``: the identity ``Lam_N^k = V_N^k - Y`` behind
    Lemma 18 holds from ``k = 1`` on only (``Lam^0 = 0``).

    Also (issue 19): the inequality summed over every window ``k0 < K``, ``Lhat^{k0} - Lhat^K
    >= a sum_{k0<k<=K} P_k - floor_{k0} - floor_K`` (rises under the per-step floor cannot
    add up); ``L_beta^k >= reg^k - sum_{i<N} sup_j ||Lam_i^j||^2 / (2 beta_i)`` (the proof's
    lower bound, ``beta_N >= 1``); the first step from the recorded initial point
    (``meta['initial']``, theory curvature): ``L^1 - sum_i dLam2_i^1 <= L^0``.

    *If PASS then* for every ``k0 < K`` in ``[start-1, K]``: ``Lhat^{k0} - Lhat^K >= a
    sum_{k0<k<=K} P_k - (floor_{k0} + floor_K)`` and for every ``k >= start``
    ``Lhat^{k-1} - Lhat^k >= a P_k - floor_k`` with ``a > 0`` from a derivation, the
    a-posteriori certificate or the user, at least ``min_steps`` steps decided above the floor.

    Verdicts: PASS when ``a > 0`` is known, at least ``min_steps`` steps are decided and none
    violates; FAIL on a violation (with ``xi`` known and ``a`` unknown: on a rise of ``Lhat``
    above the floor); INCONCLUSIVE otherwise (constants unknown, too few decided steps, or a
    layer the numerical-validity guard flags).

    Returns ``xi`` (list), ``a``, ``source``, ``n_steps``, ``n_decided``, ``n_violations``,
    ``violations`` (k), ``max_shortfall`` (largest ``a P_k - floor_k - drop_k``), ``margin``
    (array), ``min_margin``, ``median_margin`` (over decided steps).
    """
    tr = _as_trace(trace)
    fields = ("lagrangian", "dV2", "dW2", "loss", "reg", "dual", "penalty")
    start = int(start)
    if start < 2:
        raise ValueError(f"start: expected an integer >= 2 (first k compared with k-1), got {start}")
    n = _need(tr, fields, "sufficient_descent", min_len=start)
    cst = resolve_constants(tr, xi=xi, a=a, conditions=conditions)
    xi_v, a_v = cst["xi"], cst["a"]
    L = np.asarray(tr.lagrangian[:n], float)
    dV = np.asarray(tr.dV2[:n], float)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + dV.sum(axis=1)
    size = _lagrangian_size(tr, n)
    sl, pr = slice(start - 1, n), slice(start - 2, n - 1)
    floor = floor_mult * _EPS * np.maximum(size[sl], size[pr])
    Pk = P[sl]
    ks = np.arange(start, n + 1)
    diag = None
    if xi_v is None:
        diag = descent_diagnostic(tr, start=start, floor_mult=floor_mult)
        reason = f"constants unknown: {cst['unknown_reason']}"
        msg = (f"No fixed xi and descent constant a for this run ({cst['unknown_reason']}); "
               f"diagnostic only: {diag.message}")
        return CheckResult(name="sufficient_descent", verdict=Verdict.INCONCLUSIVE, reason=reason,
                           message=msg, xi=None, a=None, source=cst["source"], n_steps=int(Pk.size),
                           n_decided=0, n_violations=None, violations=[],
                           diagnostic_xi=diag.get("xi"), diagnostic_margin=diag.get("max_margin"),
                           margin=np.full(Pk.size, np.nan), min_margin=float("nan"),
                           median_margin=float("nan"))
    Lhat = L + dV @ xi_v
    drop = Lhat[pr] - Lhat[sl]
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(Pk > 0, drop / Pk, np.nan)
    a_eff = a_v if a_v is not None else 0.0
    # Lemma 14 summed over every window k0 < K: Lhat^{k0} - Lhat^K >= a sum_{k0<k<=K} P_k minus
    # the rounding of the two end values only (sub-floor rises cannot accumulate)
    fl_row = floor_mult * _EPS * size
    cumP = np.concatenate([[0.0], np.cumsum(P[start - 1:])])          # rows start-2 .. n-1
    D = Lhat[start - 2:] + a_eff * cumP
    hi = np.minimum.accumulate(D + fl_row[start - 2:])
    sum_viol = (D[1:] - fl_row[start - 1:]) > hi[:-1]
    # the proof's lower bound (beta_N >= 1, Lam_N = V_N - Y): L_beta^k >= reg^k -
    # sum_{i<N} sup_j ||Lam_i^j||^2 / (2 beta_i)
    low_viol = np.zeros(n, bool)
    beta_m = (tr.meta or {}).get("beta")
    if beta_m is not None and tr.normLam is not None:
        bb = np.broadcast_to(np.asarray(beta_m, float).reshape(-1), (tr.n_layers,))
        if bb[-1] >= 1:
            lsup = np.asarray(tr.normLam[:n], float).max(axis=0)
            lowb = np.asarray(tr.reg[:n], float) - float(np.sum(lsup[:-1] ** 2 / (2 * bb[:-1])))
            low_viol = L < lowb - fl_row
    # the first step from the recorded initial point (LLA steps majorise with the theory
    # curvature, so steps 1-5 do not raise L_beta; step 6 adds sum_i dLam2_i exactly)
    first_viol = False
    init = ((tr.meta or {}).get("initial") or {}).get("lagrangian")
    if init is not None and (tr.meta or {}).get("curvature", "theory") == "theory":
        L0 = float(init)
        first_viol = bool(L[0] - float(np.sum(tr.dLam2[0])) > L0 + floor_mult * _EPS * (abs(L0) + size[0]))
    if a_v is not None and a_v <= 0:
        verdict = Verdict.INCONCLUSIVE
        reason = (f"the {cst['source']['a']} descent constant a = {a_v:.3g} is not positive: the "
                  "constants certify nothing")
        decided = np.zeros(Pk.size, bool)
        viol = drop < -floor
    else:
        decided = a_eff * Pk > floor if a_v is not None else Pk * 0 > 1
        viol = drop < a_eff * Pk - floor
        nd = int(decided.sum())
        if first_viol:
            verdict = Verdict.FAIL
            reason = (f"the first step raises L_beta: L^1 - sum_i dLam2_i^1 = "
                      f"{L[0] - float(np.sum(tr.dLam2[0])):.6g} > L^0 = {float(init):.6g} (the "
                      "primal steps from the recorded initial point must not raise it)")
        elif low_viol.any():
            verdict = Verdict.FAIL
            k0 = int(np.argmax(low_viol)) + 1
            reason = (f"L_beta falls below the proof's lower bound reg - sum_(i<N) sup||Lam_i||^2 "
                      f"/ (2 beta_i) at k = {k0}")
        elif viol.any():
            verdict = Verdict.FAIL
            k0 = int(ks[viol][0])
            reason = (f"Lhat^(k-1) - Lhat^k < a P_k at {int(viol.sum())} of {Pk.size} steps "
                      f"(first k = {k0}: drop {drop[viol][0]:.3g}, a P_k = {a_eff * Pk[viol][0]:.3g})"
                      if a_v is not None else
                      f"Lhat rises above the rounding floor at {int(viol.sum())} of {Pk.size} steps "
                      f"(first k = {k0}, rise {-drop[viol][0]:.3g})")
        elif sum_viol.any():
            verdict = Verdict.FAIL
            K0 = int(np.argmax(sum_viol)) + start
            reason = (f"Lemma 14 summed fails: rises below the per-step floor add up; "
                      f"Lhat^k0 - Lhat^K < a sum P_k - floor for K = {K0} and some k0 < K")
        elif a_v is None:
            verdict = Verdict.INCONCLUSIVE
            reason = (f"constants unknown: xi given ({cst['source']['xi']}) but no descent constant "
                      "a (pass a= or conditions=); a positive measured margin alone proves nothing")
        elif nd < min_steps:
            verdict = Verdict.INCONCLUSIVE
            reason = (f"below the rounding floor: only {nd} of {Pk.size} steps have a P_k above the "
                      f"floor (need {min_steps})" if Pk.size >= min_steps else
                      f"run too short: {Pk.size} steps (need {min_steps})")
        else:
            verdict, reason = Verdict.PASS, None
    mm = margin[decided] if decided.any() else margin[np.isfinite(margin) & (Pk > 0)]
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    src = cst["source"]
    xi_txt = "[" + ", ".join(f"{v:.3g}" for v in xi_v) + "]"
    if verdict is Verdict.PASS:
        msg = (f"Lemma 14 holds at all {int(decided.sum())} decided steps of {Pk.size} with xi = "
               f"{xi_txt} ({src['xi']}) and a = {a_v:.3g} ({src['a']}): measured margin >= "
               f"{float(np.min(mm)):.3g} (slack factor {float(np.min(mm)) / a_v:.3g}).")
    else:
        msg = f"With xi = {xi_txt} ({src['xi']}): {reason}."
    short = a_eff * Pk - floor - drop
    return CheckResult(
        name="sufficient_descent", verdict=verdict, reason=reason, message=msg,
        xi=xi_v.tolist(), a=a_v, source=src, n_steps=int(Pk.size), n_decided=int(decided.sum()),
        n_violations=int(viol.sum()), violations=_iters_list(viol, start),
        max_shortfall=float(np.max(short)) if short.size else float("nan"),
        margin=margin, min_margin=float(np.min(mm)) if mm.size else float("nan"),
        median_margin=float(np.median(mm)) if mm.size else float("nan"),
        flagged_layers=flagged,
        # how far the measured descent is from the certified one (>= 1 when it holds)
        slack=float(np.min(mm)) / a_v if mm.size and a_v is not None and a_v > 0 else None,
    )


def descent_diagnostic(trace, start=2, xi_cap=None, floor_mult=FLOOR_MULT, k_range=None):
    """Diagnostic (never PASS): the per-layer ``xi >= 0`` that maximises the descent margin.

    A linear program (``scipy.optimize.linprog``, HiGHS) over ``xi_1..xi_N >= 0`` and ``t``:
    maximise ``t`` subject to ``(Lhat_xi^{k-1} - Lhat_xi^k) + floor_k >= t P_k`` on every step
    with ``P_k`` above the floor, and ``Lhat_xi^{k-1} - Lhat_xi^k + floor_k >= 0`` on the
    others.  ``xi`` is capped by ``xi_cap`` (a number or one per layer), by default the
    a-posteriori certificate's ``xi`` when it holds.  Without a cap the program is often
    unbounded (when every ``||dV_i||^2`` falls, any rise of ``L_beta`` is absorbed by a large
    enough ``xi``): that is reported (``unbounded=True``) and solved with a cap of 1e12, which
    is why a free ``xi`` certifies nothing.

    Verdict: FAIL when even the best ``xi`` within the cap leaves a negative margin (no such
    ``xi`` makes ``Lhat`` non-increasing), otherwise INCONCLUSIVE with the ``xi`` and
    ``max_margin`` found.  ``k_range``: ``(k_first, k_last)`` to restrict the steps.
    """
    tr = _as_trace(trace)
    fields = ("lagrangian", "dV2", "dW2", "loss", "reg", "dual", "penalty")
    n = _need(tr, fields, "descent_diagnostic", min_len=max(int(start), 2))
    N = tr.n_layers
    L = np.asarray(tr.lagrangian[:n], float)
    dV = np.asarray(tr.dV2[:n], float)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + dV.sum(axis=1)
    size = _lagrangian_size(tr, n)
    ks = np.arange(start, n + 1)
    sl, pr = slice(start - 1, n), slice(start - 2, n - 1)
    dL = L[pr] - L[sl]
    dD = dV[pr] - dV[sl]                        # (steps, N): D_i^{k-1} - D_i^k
    floor = floor_mult * _EPS * np.maximum(size[sl], size[pr])
    Pk = P[sl]
    if k_range is not None:
        sel = (ks >= k_range[0]) & (ks <= k_range[1])
        ks, dL, dD, floor, Pk = ks[sel], dL[sel], dD[sel], floor[sel], Pk[sel]
    cap_src = "user"
    if xi_cap is None:
        ap, _ = _a_posteriori(tr)
        if ap is not None and ap.get("xi") is not None:
            xi_cap, cap_src = _xi_vector(ap["xi"], N, "a-posteriori"), "a-posteriori"
    cap = None if xi_cap is None else np.broadcast_to(np.asarray(xi_cap, float), (N,))
    big = Pk > floor
    # variables: xi_1..xi_N, t ; minimise -t
    c = np.zeros(N + 1)
    c[-1] = -1.0
    rows, rhs = [], []
    for j in range(dL.size):
        sc = Pk[j] if big[j] else max(floor[j], 1e-300)
        row = np.concatenate([-dD[j] / sc, [1.0 if big[j] else 0.0]])
        rows.append(row)
        rhs.append((dL[j] + floor[j]) / sc)
    if not rows:
        raise ValueError(f"trace: descent_diagnostic needs steps k >= {start}, got none")
    A, bvec = np.asarray(rows), np.asarray(rhs)
    t_bound = (None, None) if big.any() else (0.0, 0.0)

    def solve(cp):
        bounds = [(0.0, None if cp is None else float(cp[i])) for i in range(N)] + [t_bound]
        return linprog(c, A_ub=A, b_ub=bvec, bounds=bounds, method="highs")

    unbounded = False
    res = solve(cap)
    if res.status == 3:                          # unbounded: xi free absorbs everything
        unbounded = True
        cap, cap_src = np.full(N, 1e12), "none (1e12 used, the program is unbounded)"
        res = solve(cap)
    if res.status not in (0, 2, 3):              # HiGHS gave up (status unknown): interior point
        bounds = [(0.0, None if cap is None else float(cap[i])) for i in range(N)] + [t_bound]
        res = linprog(c, A_ub=A, b_ub=bvec, bounds=bounds, method="highs-ipm")
    if res.status == 2:                          # infeasible: some step rises for every xi
        xi_found, t = None, -math.inf
    elif res.status != 0:
        msg = f"the linear program could not be solved ({res.message})"
        return CheckResult(name="descent_diagnostic", verdict=Verdict.INCONCLUSIVE,
                           reason=f"diagnostic only: {msg}", message=msg + ".", xi=None,
                           max_margin=float("nan"), cap=None if cap is None else cap.tolist(),
                           cap_source=cap_src, unbounded=unbounded, n_steps=int(dL.size),
                           n_decided=int(big.sum()))
    else:
        xi_found, t = res.x[:N], float(res.x[-1]) if big.any() else 0.0
    verdict = Verdict.FAIL if (xi_found is None or t < 0) else Verdict.INCONCLUSIVE
    if xi_found is None:
        msg = (f"no xi >= 0 within the cap ({cap_src}) keeps Lhat from rising on every step "
               "(the linear program is infeasible)")
    else:
        msg = (f"the best per-layer xi within the cap ({cap_src}) is "
               f"[{', '.join(f'{v:.3g}' for v in xi_found)}] with descent margin {t:.3g}"
               + ("; unbounded without a cap (a free xi absorbs any rise)" if unbounded else "")
               + (" (a diagnostic: it never passes on its own)"))
    return CheckResult(name="descent_diagnostic", verdict=verdict,
                       reason=("diagnostic only: xi chosen after the run certifies nothing"
                               if verdict is Verdict.INCONCLUSIVE else msg),
                       message=msg + ".", xi=None if xi_found is None else xi_found.tolist(),
                       max_margin=t, cap=None if cap is None else cap.tolist(), cap_source=cap_src,
                       unbounded=unbounded, n_steps=int(dL.size), n_decided=int(big.sum()))


# ------------------------------------------------------------ Lemma 19
def _box_from_conditions(conditions, N):
    """Per-field, per-layer upper bounds from ``conditions.box()`` (None where none), and the
    first iteration they hold from."""
    get = getattr(conditions, "box", None)
    if not callable(get):
        raise TypeError("conditions: expected a verify.conditions.Conditions (an object with a "
                        f"box() method), got {type(conditions).__name__}")
    bx = get()
    if bx is None:
        return None, 2
    box = {f: [None if v is None else float(v) for v in vals] for f, vals in bx.fields().items()}
    for f, vals in box.items():
        if len(vals) != N:
            raise ValueError(f"conditions: the derived box has {len(vals)} layers, the trace {N}")
    return box, int(bx.k_from)


def _growth_trend(x, rel_growth, ratio_fail, ratio_pass, rho_geo, n_win=4, share_fail=0.05,
                  decel=0.8):
    """Trend of one iterate-norm series ``x`` (length ``K >= 4``) for :func:`bounded_iterates`.

    Returns ``(severity, info)``: severity 0 PASS, 1 INCONCLUSIVE, 2 FAIL; ``info`` has
    ``rel`` (``g_2 / M_K``), ``ratio`` (``g_2 / g_1``), ``tail_ratio`` (largest successive
    ratio of the tail envelope's window increments), ``limit`` (extrapolated bound of a
    geometric approach, else None) and ``how`` (which rule decided).
    """
    K = x.size
    M = np.maximum.accumulate(x)
    q1, q2 = max(1, K // 4), max(2, K // 2)
    mk = float(M[-1])
    g1 = float(M[q2 - 1] - M[q1 - 1])
    g2 = float(M[-1] - M[q2 - 1])
    rel = g2 / mk if mk > 0 else 0.0
    ratio = g2 / g1 if g1 > 0 else (math.inf if g2 > 0 else 0.0)
    info = {"rel": rel, "ratio": ratio, "tail_ratio": float("nan"), "limit": None, "how": "no growth"}
    # no growth: the running sup rose by no more than rounding over the last doubling of k
    # (judged on the increment itself, never relative to the level: c + log k grows for every c)
    if not g2 > rel_growth * _EPS * max(mk, 1e-300):
        return 0, info
    # geometric approach in the tail: the envelope of the last half, E_k = max_{K/2 <= j <= k} x_j,
    # over n_win equal windows; increments shrinking by <= rho_geo per window (log k: 0.82-0.87,
    # sqrt k: 0.91-0.93, any k^p, p > 0, more; 0.99^k over 300 iterations: 0.69)
    E = np.maximum.accumulate(x[q2 - 1:])
    edges = np.linspace(0, E.size - 1, n_win + 1).round().astype(int)
    d = np.diff(E[edges])
    if edges.size == n_win + 1 and np.unique(edges).size == n_win + 1 and d[-1] > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = np.where(d[:-1] > 0, d[1:] / np.where(d[:-1] > 0, d[:-1], 1.0),
                          np.where(d[1:] > 0, np.inf, 0.0))
        rho = float(np.max(rr))
        info["tail_ratio"] = rho
        if rho <= rho_geo:
            info["limit"] = float(max(mk, E[-1] + d[-1] * rho / (1 - rho)))
            info["how"] = "geometric approach"
            return 0, info
    if g1 > 0:
        info["how"] = "doubling"
        q0 = max(1, K // 8)
        g0 = float(M[q1 - 1] - M[q0 - 1])
        ratio0 = g1 / g0 if g0 > 0 else math.inf
        info["ratio_before"] = ratio0
        # the growth of the last doubling against the series' whole movement over the run
        # (max - min: offset-free and scale-free): a growth law from any offset has g_2 >= 11 %
        # of it at K <= 400 (log k 0.12, k^p more), real runs drift 1.6e-5 to 2e-3 of it
        span = float(np.max(x) - np.min(x))
        info["share"] = share = g2 / span if span > 0 else 0.0
        # a growth law k^p or log k has equal ratios over successive doublings (2^p, 1); a
        # saturation c - C rho^k has falling ones (rho^(K/4)(1 + rho^(K/4)) after
        # rho^(K/8)(1 + rho^(K/8))); a sup flat over [K/8, K/4] is a late transient, not a law
        steady = math.isfinite(ratio0) and ratio >= decel * ratio0
        info["steady"] = steady
        if ratio >= ratio_fail and ratio0 >= ratio_fail and share >= share_fail and steady:
            return 2, info                                 # a growth law over three doublings
        if ratio >= ratio_fail:                            # growing, but not yet steadily
            return 1, info
        return (1, info) if ratio > ratio_pass else (0, info)
    # the running sup was flat over [K/4, K/2] (e.g. a dip and a recovery to a new maximum):
    # compare the tail envelope's growth over the two halves of the last doubling instead
    h = max(1, min(E.size - 1, (3 * K) // 4 - q2))
    h1, h2 = float(E[h] - E[0]), float(E[-1] - E[h])
    info["how"] = "late new maximum"
    info["ratio"] = ratio = h2 / h1 if h1 > 0 else (math.inf if h2 > 0 else 0.0)
    if h1 > 0 and ratio >= ratio_fail:
        return 2, info
    return 1, info


def bounded_iterates(trace, bound=None, conditions=None, *, ratio_fail=0.9, ratio_pass=0.75,
                     rel_growth=FLOOR_MULT, rho_geo=0.75, min_len=16, head=None, growth_tol=None):
    """Lemma 19 on a run: ``||W_i^k||, ||V_i^k||, ||Lam_i^k||`` stay bounded.

    With a known box (``bound=``: a number or ``{"W": .., "V": .., "Lam": ..}``; or
    ``conditions=``: the derived a-priori box :meth:`verify.conditions.Conditions.box`, ``a*``
    on ``||Lam_2||`` and ``w`` on ``||W_2||`` at depth 1, ``l_i`` on ``||Lam_i||`` and ``om2`` on
    ``||W_2||`` at depth 2), every value must lie in it (from ``k = box.k_from = 2`` for the
    derived box): PASS or FAIL.

    Without a box, a trend test on every series ``x_k`` (:func:`_growth_trend`), with the
    running sup ``M_k = max_{j<=k} x_j``, ``g_1 = M_{K/2} - M_{K/4}`` and ``g_2 = M_K - M_{K/2}``
    (the growth over the last two doublings of k):

    1. no growth beyond rounding over the last doubling (``g_2 <= rel_growth eps M_K``,
       ``rel_growth = FLOOR_MULT``): PASS.  Growth is judged on the increments ``g_1, g_2``
       and on the tail envelope's window increments, never relative to the level, so ``c +
       sqrt k``, ``c + log k`` and ``c + k`` are judged alike for every offset ``c``;
    2. a geometric approach in the tail: the envelope of the last half, ``E_k = max_{K/2<=j<=k}
       x_j``, cut into 4 equal windows, has increments shrinking by at most ``rho_geo = 0.75``
       per window: PASS, with the extrapolated bound ``E_K + d_4 rho/(1 - rho)`` reported
       (``limit``).  Growth laws give more: ``log k`` 0.82-0.87, ``sqrt k`` 0.91-0.93, any
       ``k^p`` more; an approach ``c - C 0.99^k`` over 300 iterations gives 0.69;
    3. otherwise, the doubling ratio ``g_2 / g_1``: FAIL when ``g_2/g_1 >= ratio_fail`` and
       ``g_1/g_0 >= ratio_fail`` (``g_0 = M_{K/4} - M_{K/8} > 0``: growth over three
       doublings), steady (``g_2/g_1 >= 0.8 g_1/g_0``: a law ``k^p`` or ``log k`` has equal
       ratios ``2^p`` or 1, a saturation ``c - C rho^k`` falling ones) and ``g_2 >= 5 %`` of
       the series' range ``max x - min x`` over the run (offset- and scale-free: ``log k`` gives
       12-16 % at ``K = 80..400``, ``k^p`` more; the late drifts of real runs' sups 1.6e-5 to 2e-3).
       So ``c + sqrt k``, ``c + log k``, ``c + k`` and ``c + k^p`` FAIL for every ``c``, and
       so does a saturation too slow to show in the run (``rho^(K/4) > 0.6``: indistinguishable
       from ``c + k`` over it).  ``>= ratio_fail`` on the last doubling only, or decelerating,
       or a small share: INCONCLUSIVE (still growing); ``ratio_pass .. ratio_fail``
       INCONCLUSIVE (decelerating, not yet shown bounded: ``c - k^-0.3`` gives 0.81), below
       ``ratio_pass`` PASS (``c - k^-0.5``: 0.71);
    4. ``g_1 = 0`` (the running sup flat over ``[K/4, K/2]``, then a new maximum: a dip and a
       recovery): the growth of ``E`` over the two halves of the last doubling, FAIL when the
       later half grows at least ``ratio_fail`` times the earlier (steady late growth), else
       INCONCLUSIVE.

    A hidden ``||V_i||`` (``i < N``) of a built-in bounded activation is bounded by Lemma 19's
    own argument: ``||V_i^k|| <= ||F_i^k|| + sup|sigma| sqrt(n d_i)`` at every ``k``
    (``V_i = sigma(W_i A) - F_i``, an identity :func:`verify.validate_trace` checks), so the
    trend test runs on ``||F_i^k||`` for it (``trend[...]['act_box']``).

    A finite run cannot prove boundedness; this criterion refuses the growth laws a bounded
    sequence cannot have over the run.  *If PASS then* (with a box) for every ``k >= k_from``
    every norm lies in the box; (without one) for every series either its running sup rose by
    at most rounding over ``[K/2, K]``, or its tail envelope's increments shrank by at least
    ``rho_geo`` per window over ``[K/2, K]`` (so the sup stays below the reported
    geometric extrapolation ``limit`` if the shrinking continues), or the last doubling's
    increment was below ``ratio_pass`` times the one before; a hidden ``||V_i||`` stays below
    ``sup|sigma| sqrt(n d_i) + ||F_i^k||`` at every ``k`` and ``||F_i||`` passed the same test.

    Returns ``sup`` (per-field per-layer maxima), ``worst`` (series), ``growth_ratio``
    (``g_2/g_1`` of the worst series), ``rel_growth_last`` (``g_2 / M_K``), ``tail_ratio``,
    ``limit`` (extrapolated bound where a geometric approach decided), ``trend`` (per series),
    ``exceeded``.
    """
    tr = _as_trace(trace)
    fields = ("normW", "normV", "normLam")
    n = _need(tr, fields, "bounded_iterates", min_len=4)
    N = tr.n_layers
    if head is not None or growth_tol is not None:
        warnings.warn("bounded_iterates: head= and growth_tol= are gone (the tail/head max ratio "
                      "passed sqrt(k) growth); the trend test uses ratio_fail/ratio_pass/rel_growth",
                      DeprecationWarning, stacklevel=2)
    if not 0 < rho_geo < 1:
        raise ValueError(f"rho_geo: expected a ratio in (0, 1), got {rho_geo!r}")
    bounds = _bound_dict(bound)
    foreign = _not_covered(conditions, tr)
    box, k_from = (_box_from_conditions(conditions, N) if conditions is not None and foreign is None
                   else (None, 2))
    sup, exceed, box_slack = {}, [], []
    for f, key in zip(fields, ("W", "V", "Lam")):
        arr = np.asarray(getattr(tr, f)[:n], float)
        sup[key] = arr.max(axis=0)
        for i in range(N):
            if bounds.get(key) is not None and float(arr[:, i].max()) > bounds[key]:
                exceed.append(f"{f}[layer {i + 1}] = {float(arr[:, i].max()):.3g} > {bounds[key]:.3g}")
            if box is not None and box[f][i] is not None and n >= k_from:
                top = float(arr[k_from - 1:, i].max())
                box_slack.append(box[f][i] / top if top > 0 else math.inf)
                if top > box[f][i]:
                    exceed.append(f"{f}[layer {i + 1}] = {top:.3g} > derived box {box[f][i]:.3g}")
    have_box = bool(bounds) or (box is not None and any(v is not None for b in box.values() for v in b))
    act_box = _activation_box(tr, n)
    worst, worst_key = None, (-1, -math.inf)
    trend = {}
    for f in fields:
        arr = np.asarray(getattr(tr, f)[:n], float)
        for i in range(N):
            series, via_f = arr[:, i], f == "normV" and act_box is not None and i < N - 1
            if via_f:
                # Lemma 19 for a hidden V_i: ||V_i|| <= ||F_i|| + sup|sigma| sqrt(n d_i) at every
                # k (validated by verify.integrity), so only ||F_i|| can grow: judge its trend
                series = np.asarray(tr.feas[:n, i], float)
            sev, info = _growth_trend(series, rel_growth, ratio_fail, ratio_pass, rho_geo)
            name = f"{f}[layer {i + 1}]"
            if via_f:
                info = {**info, "how": f"activation box {act_box[i]:.3g} + ||F_{i + 1}||, whose "
                        f"trend: {info['how']}", "act_box": float(act_box[i])}
            trend[name] = {"verdict": ("PASS", "INCONCLUSIVE", "FAIL")[sev], **info}
            key = (sev, info["rel"])
            if key > worst_key:
                worst, worst_key = name, key
    wt = trend.get(worst, {"rel": 0.0, "ratio": 0.0, "tail_ratio": float("nan"), "limit": None,
                           "how": "no growth"})
    rel, ratio, sev = wt["rel"], wt["ratio"], worst_key[0]
    if foreign is not None and not bounds:
        verdict, reason = Verdict.INCONCLUSIVE, foreign
    elif exceed:
        verdict, reason = Verdict.FAIL, f"iterates leave the given/derived bound: {exceed[0]}"
    elif n < min_len and not have_box:
        verdict, reason = Verdict.INCONCLUSIVE, f"run too short: {n} iterations (need {min_len})"
    elif have_box and not exceed:
        verdict, reason = Verdict.PASS, None
    elif sev == 2 and wt["how"] == "doubling":
        verdict, reason = (Verdict.FAIL, f"{worst} keeps growing: its running sup grew by "
                           f"{rel:.3g} of its size over the last doubling of k, with increments "
                           f"not shrinking (ratio {ratio:.3g} >= {ratio_fail})")
    elif sev == 2:
        verdict, reason = (Verdict.FAIL, f"{worst} keeps growing: after a flat stretch its running "
                           f"sup grew by {rel:.3g} of its size over the last doubling of k, as much "
                           f"in its last quarter as in the one before (ratio {ratio:.3g})")
    elif sev == 1:
        verdict, reason = (Verdict.INCONCLUSIVE, f"run too short: {worst} still grows ({rel:.3g} of "
                           f"its size over the last doubling, increment ratio {ratio:.3g}, tail "
                           f"window ratio {wt['tail_ratio']:.3g}): not yet shown bounded")
    else:
        verdict, reason = Verdict.PASS, None
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    if verdict is Verdict.PASS:
        how = ("within the given/derived box" if have_box else "trend test on the running sup")
        late = (f"; {worst} approaches its bound geometrically (tail window ratio "
                f"{wt['tail_ratio']:.3g}, extrapolated sup {wt['limit']:.3g})"
                if not have_box and wt["how"] == "geometric approach" else
                f"; largest late growth {rel:.3g} ({worst})")
        msg = (f"Iterate norms stay bounded ({how}): sup ||W||, ||V||, ||Lam|| = "
               f"{sup['W'].max():.3g}, {sup['V'].max():.3g}, {sup['Lam'].max():.3g}{late}"
               + (f"; slack factor of the derived box over the measured sup {min(box_slack):.3g}"
                  if box_slack else "") + ".")
    else:
        msg = f"bounded_iterates {verdict}: {reason}."
    return CheckResult(name="bounded_iterates", verdict=verdict, reason=reason, message=msg,
                       sup=sup, worst=worst, growth_ratio=float(ratio), rel_growth_last=float(rel),
                       tail_ratio=float(wt["tail_ratio"]), limit=wt["limit"], trend=trend,
                       exceeded=exceed, box=box, flagged_layers=flagged,
                       slack=min(box_slack) if box_slack else None)


def _activation_box(tr, n):
    """``sup|sigma| sqrt(n d_i)`` for the hidden layers ``i < N`` of a built-in bounded
    activation (the meta records the activation, ``widths`` and ``n_samples``), else None."""
    meta = tr.meta or {}
    sup = _SUP_ACT.get(str(meta.get("activation")))
    widths, n_s = meta.get("widths"), meta.get("n_samples")
    N = tr.n_layers
    if sup is None or widths is None or n_s is None or len(widths) != N + 1 or N < 2 \
            or tr.feas is None:
        return None
    return sup * np.sqrt(float(n_s) * np.asarray(widths[1:N], float))


def _bound_dict(bound):
    if bound is None:
        return {}
    if isinstance(bound, dict):
        bad = set(bound) - {"W", "V", "Lam"}
        if bad:
            raise ValueError(f"bound: expected keys among 'W', 'V', 'Lam', got {sorted(bad)}")
        return {k: float(v) for k, v in bound.items()}
    b = float(bound)
    if not (b > 0):
        raise ValueError(f"bound: expected a positive number or a dict, got {bound!r}")
    return {"W": b, "V": b, "Lam": b}


# ------------------------------------------------------------ Lemma 18
def dual_bounded_by_primal(trace, bound=None, *, start=2, floor_mult=FLOOR_MULT,
                           min_steps=MIN_STEPS, head=None, growth_tol=None, floor=None):
    """Lemma 18 on a run: each dual step is bounded by a linear form in the primal steps.

    The per-step forms of :func:`verify.conditions.lemma18_steps` (depth 1 and 2; the one
    implementation of the maths) with their constants taken from the measured norms of the
    same step (``||W_i^k||``, ``||Lam_i^{k-1}||``, ``||V_i^{k-1}||``, the recorded curvature;
    the activation's ``L_0, L_1, L_2`` from :func:`verify.conditions.trace_activation`, so user
    activations work): ``||Lam_i^k - Lam_i^{k-1}|| <= sum_j c_j s_j`` with ``s`` the primal step
    norms of iterations ``k`` and ``k-1``, for ``k >= start`` (Lemma 8's identities hold from
    ``k = 1``; the first difference is at ``k = 2``).  These are inequalities of the
    algorithm, not estimates: a step that breaks one by more than its rounding floor is a
    FAIL.  Deeper nets (no derived form), a trace without ``meta['beta']`` (or, at depth 2,
    ``n_samples``) are INCONCLUSIVE ("constants unknown"); the aggregate ratio ``sum_i dLam2 /
    (P_k + P_{k-1})`` is reported as a figure (``sup_ratio``), and with ``bound=`` it is also
    required to stay below that constant.

    *If PASS then* for every ``k >= start`` and every layer ``i``: ``||Lam_i^k - Lam_i^{k-1}||
    <= sum_j c_j s_j + floor_k`` with Lemma 18's constants from the validated norms of that
    step, and at least ``min_steps`` steps were decided above their rounding floor.

    Returns ``lhs``/``rhs`` arrays ``(K, N)``, ``worst_excess`` (largest ``lhs / rhs``
    over decided steps), ``violations`` (k), ``ratio``, ``sup_ratio``.
    """
    tr = _as_trace(trace)
    n = _need(tr, ("dLam2", "dW2", "dV2", "normW", "normV", "normLam"), "dual_bounded_by_primal",
              min_len=max(int(start), 2))
    N = tr.n_layers
    dual = np.asarray(tr.dLam2[:n], float).sum(axis=1)
    P = np.asarray(tr.dW2[:n], float).sum(axis=1) + np.asarray(tr.dV2[:n], float).sum(axis=1)
    den = P + np.concatenate([[0.0], P[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.arange(n) >= 1, dual / den, np.nan)
    fin = ratio[np.isfinite(ratio)]
    sup = float(np.max(fin)) if fin.size else float("nan")
    forms, why_not = None, None
    try:
        forms = _conditions().lemma18_steps(tr, floor_mult=floor_mult)
    except (ValueError, TypeError, KeyError) as exc:
        why_not = str(exc)
    viol_k, excess = [], float("nan")
    lhs = rhs = None
    if forms is None:
        verdict = Verdict.INCONCLUSIVE
        reason = f"constants unknown: no Lemma-18 form for this run ({why_not})"
    else:
        lhs, rhs, tol = forms["lhs"], forms["rhs"], np.nan_to_num(forms["floor"], nan=np.inf)
        rows = np.arange(n) >= int(start) - 1
        dec = rows[:, None] & (np.nan_to_num(rhs) > tol)
        bad = rows[:, None] & (lhs > np.nan_to_num(rhs, nan=np.inf) + tol)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(dec, lhs / rhs, np.nan)
        excess = float(np.nanmax(q)) if np.any(dec) else float("nan")
        viol_k = _iters_list(bad.any(axis=1))
        if bad.any():
            i0 = int(np.argwhere(bad)[0][1])
            verdict = Verdict.FAIL
            reason = (f"||DLam_{i0 + 1}^k|| exceeds its Lemma-18 bound at {int(bad.any(axis=1).sum())} "
                      f"steps (first k = {viol_k[0]}; largest ratio {excess:.3g})")
        elif int(dec.any(axis=1).sum()) < min_steps:
            verdict = Verdict.INCONCLUSIVE
            reason = "below the rounding floor: too few steps with dual and primal steps above it"
        else:
            verdict, reason = Verdict.PASS, None
    if bound is not None and fin.size and sup > float(bound):
        verdict, reason = Verdict.FAIL, f"the dual/primal ratio reaches {sup:.3g} > bound {float(bound):.3g}"
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    msg = (f"Every dual step is within its Lemma-18 bound from the measured norms (largest "
           f"lhs/rhs {excess:.3g}; aggregate dual/primal ratio <= {sup:.3g})."
           if verdict is Verdict.PASS else f"dual_bounded_by_primal {verdict}: {reason}.")
    return CheckResult(name="dual_bounded_by_primal", verdict=verdict, reason=reason, message=msg,
                       lhs=lhs, rhs=rhs, worst_excess=excess, violations=viol_k, ratio=ratio,
                       sup_ratio=sup, flagged_layers=flagged)


# ------------------------------------------------------------ Theorem 4(b)
def _window_maxima(x, n_win):
    """Maxima of ``x`` over ``n_win`` equal consecutive windows of its last half."""
    h = x[len(x) // 2:]
    edges = np.linspace(0, h.size, n_win + 1).round().astype(int)
    return np.array([float(h[a:b].max()) for a, b in zip(edges[:-1], edges[1:]) if b > a])


def _feasibility_series(f, s, rtol, decay, floor_mult, n_win, flat, layer=False):
    """The tail-window judgement of :func:`feasibility_to_zero` on one violation series ``f``
    against its scale ``s`` (both ``(K,)``).  Returns a dict: ``state`` (``"floor"``, ``"falling"``
    (PASS), ``"plateau"`` (FAIL), ``"flat below"``, ``"above"`` (INCONCLUSIVE)), ``final``
    (``f_T``), ``scale`` (``s_T``), ``relative``, ``tail`` (largest window ratio), ``m`` (window
    maxima), ``wlen``."""
    n = f.size
    m = _window_maxima(f, n_win) if n >= 2 * n_win else np.array([float(f[n // 2:].max())])
    wlen = max(2, (n - n // 2) // n_win)
    final, scale = float(f[-wlen:].max()), float(s[-wlen:].min())
    rel = final / scale if scale > 0 else (0.0 if final == 0 else math.inf)
    fl = floor_mult * _EPS * max(scale, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(m[:-1] > 0, m[1:] / np.where(m[:-1] > 0, m[:-1], 1.0),
                          np.where(m[1:] > 0, np.inf, 0.0))
    last = f[-wlen:]
    h1, h2 = float(last[: wlen // 2].max()), float(last[wlen // 2:].max())
    half = h2 / h1 if h1 > 0 else (0.0 if h2 == 0 else math.inf)  # the last window's own halves
    tail = float(max(ratios.max(), half ** 2)) if ratios.size else float("nan")
    falling = (ratios.size >= n_win - 1 and bool(np.all(ratios <= math.sqrt(decay)))
               and half <= decay ** 0.25)
    # a plateau (FAIL): no net fall over the last half (the last window's maximum at least the
    # first window's: flat, rising or fluctuating).  A violation that falls, however slowly, is no
    # plateau: derived-condition runs whose output-layer violation fell 1-5 % over the last
    # quarter of 100 iterations fell 100x by iteration 4000 (Theorem 4(b) is a limit); they read
    # "above" (INCONCLUSIVE), never FAIL.
    plateau = bool(m.size >= 4 and m[-1] >= m[0])
    # not rising in any window and fallen over the last quarter (a layer whose violation falls
    # slower than the whole run's, under the tolerance)
    receding = (ratios.size >= n_win - 1 and bool(np.all(ratios <= 1.0)) and half <= 1.0
                and m.size >= 4 and m[-1] < flat * m[m.size // 2 - 1])
    if final <= fl:
        state = "floor"
    elif plateau and rel > rtol:
        state = "plateau"
    elif not falling and rel <= rtol:
        state = "receding" if receding else "flat below"
    elif rel > rtol:
        state = "above"
    else:
        state = "falling"
    return {"state": state, "final": final, "scale": scale, "relative": rel, "tail": tail, "m": m,
            "wlen": wlen}


def feasibility_to_zero(trace, rtol=1e-4, *, decay=0.7, floor_mult=FLOOR_MULT, min_len=16,
                        atol=None, n_win=4, flat=0.95):
    """Theorem 4(b) on a run: the constraint violation ``||F(W^k, V^k)||`` tends to 0.

    Judged layer by layer: ``f_i = ||F_i^k||`` against the size of what that constraint
    equates, ``s_i = ||V_i^k||`` (``sigma(W_i A) ~ V_i``; ``W_N V_{N-1} ~ V_N``), never against
    another layer, the first iterate or the peak: the rounding of ``F_i`` is relative to layer
    ``i``'s own terms, so a large ``||V_N||`` cannot set the floor of a hidden layer (issue 19:
    ``||V_N|| ~ 1e18`` hid hidden-layer plateaus).  Each series is judged on a tail window, never
    on one row: the last half of the run is cut into ``n_win`` equal windows with maxima
    ``m_1..m_n``; the last window ``T`` (at least 2 rows) has ``f_T = max_T f`` and ``s_T =
    min_T s`` (one row can neither lower ``f_T`` nor raise ``s_T``).  A series is

    * *at its floor* when ``f_T <= floor_mult eps s_T`` (the whole last window at the rounding
      floor of that layer's terms);
    * *falling* when ``f_T <= rtol s_T``, the maxima fall in every window, ``m_{j+1} <=
      sqrt(decay) m_j`` for ``j = 1..n_win-1``, and within ``T`` the maximum of its second half
      is ``<= decay^(1/4)`` times that of its first half;
    * *receding* when ``f_T <= rtol s_T``, no window maximum rises (``m_{j+1} <= m_j``, the
      halves of ``T`` too) and ``m_n < flat m_{n/2}`` (fallen over the last quarter);
    * on a *plateau* when ``f_T > rtol s_T`` and there is no net fall over the last half:
      ``m_n >= m_1`` (a violation that falls, however slowly, is "above": INCONCLUSIVE).

    PASS when every layer is at its floor, falling or receding, and the violation of the layers
    not at their floor taken together, ``sqrt(sum_i f_i^2)`` against ``sqrt(sum_i s_i^2)``, is
    falling; FAIL when a layer (or that sum) is on a plateau; INCONCLUSIVE otherwise (run too
    short, ``K < min_len``; still above ``rtol``; below ``rtol`` but not falling: a plateau
    proves no limit).

    *If FAIL then* some layer (or the layers not at their floor together) ends the run with a
    violation above ``rtol`` of its scale that did not decrease over the last half of the run
    (the maximum over its last window is at least that over the first): the run shows no approach to
    feasibility, though a longer run may still reach it (the theorem's claim is a limit).

    *If PASS then* for every layer ``i`` and every ``k`` in the last window ``T``:
    ``||F_i^k|| <= max(rtol, floor_mult eps) min_T ||V_i||``; for every layer not at its floor
    the windowed maxima of ``||F_i||`` never rose over the last half and fell over its last
    quarter, and their sum fell geometrically (by ``sqrt(decay)`` per window) over the whole
    last half, up to the last half-window: no plateau of half a window or more ends the run in
    any layer.  The scales are validated (``verify.integrity``: hidden ``V_i = sigma(W_i A) -
    F_i`` bounds ``||V_i||`` by ``sup|sigma| sqrt(n d_i) + ||F_i||``; ``||V_N|| <= ||Y|| +
    ||Lam_N||``), so no scale is set by a row that contradicts the others.

    Returns ``final`` (``max_T ||F||``, all layers), ``scale`` (``min_T ||V||``), ``relative``
    (largest ``f_T / s_T`` over the layers), ``tail_decay`` (largest window ratio over the
    layers not at their floor), ``window_max`` (of ``||F||``), ``final_per_layer``,
    ``per_layer`` (each layer's state and figures).
    """
    tr = _as_trace(trace)
    n = _need(tr, ("feas", "normV"), "feasibility_to_zero", min_len=2)
    F = np.asarray(tr.feas[:n], float)
    Vn = np.asarray(tr.normV[:n], float)
    f = np.sqrt((F ** 2).sum(axis=1))
    sV = np.sqrt((Vn ** 2).sum(axis=1))
    n_win = int(n_win)
    if n_win < 2:
        raise ValueError(f"n_win: expected an integer >= 2, got {n_win!r}")
    layers = [_feasibility_series(F[:, i], Vn[:, i], rtol, decay, floor_mult, n_win, flat,
                                  layer=True) for i in range(F.shape[1])]
    states = [L["state"] for L in layers]
    # the whole violation over the layers not at their own floor must fall in every window
    mov = np.array([st_ != "floor" for st_ in states])
    # (never "at the floor" itself: each layer's floor is its own, and a large ||V_N|| must not
    # lend the sum a floor that the hidden layers' violations sit under)
    whole = _feasibility_series(np.sqrt((F[:, mov] ** 2).sum(axis=1)) if mov.any() else f,
                                np.sqrt((Vn[:, mov] ** 2).sum(axis=1)) if mov.any() else sV,
                                rtol, decay, 0.0, n_win, flat)
    if not mov.any():
        whole["state"] = "floor"
    if whole["state"] == "receding":          # the sum must fall in every window, not recede
        whole["state"] = "flat below"
    if whole["state"] in ("plateau", "flat below", "above"):   # judged as one more series
        layers.append({**whole, "name": "the layers not at their floor together"})
        states.append(whole["state"])
    wlen = whole["wlen"]
    rel = max(L["relative"] for L in layers)
    moving = [L["tail"] for L in layers if L["state"] != "floor" and math.isfinite(L["tail"])]
    tail = max(moving) if moving else float("nan")

    def first(state):
        i = states.index(state)
        return (layers[i].get("name") or f"layer {i + 1}"), layers[i]

    if n < min_len:
        verdict, reason = Verdict.INCONCLUSIVE, f"run too short: {n} iterations (need {min_len})"
    elif "plateau" in states:
        i, L = first("plateau")
        m = L["m"]
        verdict, reason = (Verdict.FAIL, f"plateau ({i}): max ||F|| over the last window = "
                           f"{L['final']:.3g} ({L['relative']:.3g} of ||V||) does not fall over "
                           f"the last quarter (window maxima {m[m.size // 2 - 1]:.3g} -> {m[-1]:.3g})")
    elif "flat below" in states:
        i, L = first("flat below")
        verdict, reason = (Verdict.INCONCLUSIVE, f"below tolerance ({i}: {L['relative']:.3g} of "
                           f"||V||) but ||F|| is not falling in every window of the last half "
                           f"(largest window ratio {L['tail']:.3g} > {math.sqrt(decay):.3g}): a "
                           "plateau shows no limit")
    elif "above" in states:
        i, L = first("above")
        verdict, reason = (Verdict.INCONCLUSIVE, f"run too short ({i}): max ||F|| over the last "
                           f"window is still {L['relative']:.3g} of ||V|| > rtol = {rtol:g} "
                           f"(largest window ratio {L['tail']:.3g})")
    else:
        verdict, reason = Verdict.PASS, None
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    msg = (f"Constraint violation <= {whole['final']:.3g} (every layer <= {rel:.3g} x its min "
           f"||V_i||) over the last {wlen} iterations; every layer at its rounding floor or "
           f"falling in every window of the last half (largest ratio {tail:.3g})."
           if verdict is Verdict.PASS else f"feasibility_to_zero {verdict}: {reason}.")
    return CheckResult(name="feasibility_to_zero", verdict=verdict, reason=reason, message=msg,
                       final=whole["final"], scale=whole["scale"], relative=rel,
                       threshold=rtol * whole["scale"], tail_decay=tail, window_max=whole["m"],
                       final_per_layer=F[-1].copy(), flagged_layers=flagged,
                       per_layer=[{"state": L["state"], "final": L["final"], "scale": L["scale"],
                                   "relative": L["relative"], "tail": L["tail"]}
                                  for L in layers[:F.shape[1]]])


# ------------------------------------------------------------ Theorem 4(c)
def _regime(s, k, r_floor, n_int=20, flat_frac=0.25, stall_ratio=0.9):
    """Heuristic regime of the running minimum ``s`` over the second half of ``k``.

    The tail ``[m/2, m]`` is cut into ``n_int`` equal intervals; each gives a local
    exponent ``dlog s / dlog k`` and a local rate ``dlog s / dk``.  Intervals where ``s``
    falls by less than a fifth of the average share are *flat*.  The staircase of a running
    minimum is fitted honestly: every interval counts, so a trace that is flat for most of the
    tail and then drops is "irregular", not a steep power law.  Returns a dict ``regime``
    (``"floor"``, ``"stalled"``, ``"irregular"``, ``"geometric"``, ``"power law"``),
    ``exponent`` and ``exponent_se`` (mean and standard error of the local exponents),
    ``rate`` (per-iteration factor) and ``rate_se``, ``flat_fraction``, ``tail_drop``.
    """
    m = len(s)
    out = {"regime": None, "exponent": float("nan"), "exponent_se": float("nan"),
           "rate": float("nan"), "rate_se": float("nan"), "flat_fraction": float("nan"),
           "tail_drop": float("nan"), "k_floor": None}
    at = s <= r_floor
    if at.any():
        out["k_floor"] = int(k[np.argmax(at)])
        out["regime"] = "floor"
        return out
    h = m // 2
    edges = np.unique(np.linspace(h, m - 1, n_int + 1).round().astype(int))
    if edges.size < 4:
        out["regime"] = "too short"
        return out
    ls, lk = np.log(s[edges]), np.log(k[edges].astype(float))
    dls, dlk, dk = np.diff(ls), np.diff(lk), np.diff(k[edges].astype(float))
    total = float(ls[-1] - ls[0])
    out["tail_drop"] = float(math.exp(total))
    if math.exp(total) > stall_ratio:
        out["regime"] = "stalled"
        return out
    share = total / dls.size
    flat = dls > 0.2 * share                    # share < 0: a flat interval falls by less
    out["flat_fraction"] = float(flat.mean())
    pe, ge = dls / dlk, dls / dk
    out["exponent"] = float(pe.mean())
    out["exponent_se"] = float(pe.std(ddof=1) / math.sqrt(pe.size))
    out["rate"] = float(math.exp(ge.mean()))
    out["rate_se"] = float(ge.std(ddof=1) / math.sqrt(ge.size))
    if flat.mean() > flat_frac:
        out["regime"] = "irregular"
        return out
    # a positive limit: the tail's window decrements shrink geometrically to a level well
    # above 0 (1e-3 + 0.98^k, 0.05 + 0.99^k): the remaining fall cannot reach 0
    L4 = (m - 1 - h) // 4
    w = h + L4 * np.arange(5) if L4 >= 2 else np.array([h])       # four equal windows
    dec = -np.diff(s[w])
    if dec.size == 4 and np.all(dec > 0):
        rr = dec[1:] / dec[:-1]
        rho = float(np.max(rr))
        # geometric decrements (equal ratios; a power law's ratios creep towards 1)
        ld = -np.diff(np.log(s[w]))
        flattening = bool(ld[-1] < ld[0])                                # log-decrements shrink
        if rho < 1 and float(np.max(rr) / np.min(rr)) < 1.05 and flattening:
            r1, r2 = float(rr[0]), float(rr[-1])
            lim_a = float(s[w[3]] - dec[2] * r1 / (1 - r1)) if r1 < 1 else -math.inf
            limit = float(s[w[4]] - dec[3] * r2 / (1 - r2)) if r2 < 1 else -math.inf
            out["limit"] = limit
            # the same positive limit extrapolated from the earlier and the later windows (a
            # slowing geometric decay to 0 gives estimates that drift down), visible in the
            # run (>= 10 % of min r; a real geometric decay extrapolated to 5 %) and above the
            # rounding floor at the end: only a limit under the floor is what rounding explains
            # (issue 19: 1.6e-10 + 0.9062^k)
            fl_end = float(r_floor[-1]) if np.ndim(r_floor) else float(r_floor)
            if (limit > max(0.1 * float(s[-1]), fl_end)
                    and abs(lim_a - limit) <= 0.1 * limit):
                out["regime"] = "stalled"
                out["stall"] = "positive limit"
                return out
    cv_p = float(pe.std(ddof=1) / abs(pe.mean())) if pe.mean() != 0 else math.inf
    cv_g = float(ge.std(ddof=1) / abs(ge.mean())) if ge.mean() != 0 else math.inf
    out["regime"] = "geometric" if cv_g <= cv_p else "power law"
    return out


def _kl_exponent(r, Lhat, floor_L, k_stop):
    """Heuristic KL exponent: slope of ``log r_k`` on ``log(Lhat^k - Lhat^K)`` (KL:
    ``(Lhat - Lhat*)^theta <= c ||grad||``), over the iterations where the gap is well above
    the rounding floor.  ``theta = 1/2`` is linear convergence."""
    n = min(len(r), k_stop)
    gap = Lhat[:n] - Lhat[n - 1]
    ok = (gap > 100 * floor_L[:n]) & (r[:n] > 0)
    ok[: max(1, n // 10)] = False
    idx = np.flatnonzero(ok)
    if idx.size < 8:
        return float("nan")
    idx = idx[idx < idx[0] + int(0.8 * (idx[-1] - idx[0] + 1))]
    if idx.size < 8:
        return float("nan")
    x, y = np.log(gap[idx]), np.log(r[idx])
    sl = np.polyfit(y, x, 1)[0]                  # log gap = (1/theta) log r + c
    return float(1.0 / sl) if sl != 0 else float("nan")


def kkt_rate(trace, conditions=None, a=None, b=None, xi=None, *, a0=None, X=None, window=2,
             start=3, split=0.5, oos_slack=4.0, floor_mult=FLOOR_MULT, min_len=40, squared=None,
             mode=None, **deprecated):
    """Theorem 4(c) on a run, on the proof's own object ``sum_{j<=K} r_j^2``.

    What the proof shows (docs/algorithm.md, "The rate chain"): Lemma 14 summed, Lemma 21 and
    the re-indexing give ``S_K = sum_{j in J_K} r_j^2 <= window b^2 (Lhat^{start-2} - Lhat^K)/a``,
    hence ``min_{j<=K} r_j^2 <= C/K``; with the Kurdyka-Lojasiewicz finite-length property the
    steps, hence ``r_j``, are summable, hence ``min_{j<=K} r_j = O(1/K)``.

    What a finite run can show: an inequality with explicit constants, true or false at every
    K of the run; it cannot show a limit or the constant of ``O(1/K)``.  This check therefore

    1. tests the chain with the constants ``a, b, xi`` from the user, ``conditions=`` or the
       a-posteriori certificate (basis ``"derived"``, or ``"a-posteriori"`` when a constant
       comes from :func:`verify.conditions.a_posteriori`: its ``xi, a`` when the descent
       certificate holds, its ``b`` when the data constant ``a0 = ||[X; 1]||_2`` is given as
       ``a0=`` or ``X=``; ``certified=True`` when no constant is the user's; a failure is a
       FAIL of the theorem's instance); constants that are not known are **estimated on the first part** of the run
       (``split``: ``b`` = max of ``r_j/sqrt(Pi_j)``, ``xi`` from :func:`descent_diagnostic`,
       ``a`` = least margin with that ``xi``) and the chain is tested **out of sample** on the
       rest, with the slack ``oos_slack`` on ``b`` (basis ``"out-of-sample"``: heuristic);
    2. classifies the regime of ``s_K = min_{j<=K} r_j`` (heuristic, :func:`_regime`):
       ``floor`` (reached the rounding floor), ``geometric``, ``power law`` (exponent with a
       standard error), ``stalled``, ``irregular``, and reports a KL exponent where it
       converged.

    Floors are absolute and scale-based: ``r`` against ``floor_mult eps`` times the iterates'
    sizes (squared in the sum), ``Lhat`` against ``floor_mult eps`` times the Lagrangian's
    parts; never relative to ``max r``.

    Verdict: FAIL when the chain fails (either basis) or when ``r`` diverges.  A running minimum
    that follows a power law confidently slower than ``1/K`` (exponent minus two standard
    errors above -1) is INCONCLUSIVE with a heuristic reason: without explicit constants a
    finite run cannot refute an asymptotic rate (its tail may be pre-asymptotic).  PASS when the chain
    holds and the regime is ``floor``, ``geometric`` or a power law confidently at least as
    fast as ``1/K``.  INCONCLUSIVE otherwise (stalled or irregular: the run is too short to
    show the rate; too short; constants not estimable; a flagged block).  ``heuristic`` is
    True when the verdict rests on estimated constants or on the regime fit.

    "Reached the rounding floor" is judged on the running median of the per-row floor over 9
    rows (no single row, e.g. a spiked norm, sets it); a positive limit extrapolated from the
    tail's geometric window decrements is ``stalled`` (INCONCLUSIVE) unless it is below that
    floor at the end (issue 19: ``1.6e-10 + 0.9062^k``).

    *If PASS then* for every ``K`` from ``j0 + 1`` to the run's end: ``sum_{j0 < j <= K} (r_j^2
    - floor_j^2)_+ <= window b^2 (Lhat^{j0-2} - Lhat^K + floors) / a`` with the reported
    constants (``heuristic=True`` when any is estimated or the user's), and ``min_{j<=k} r_j``
    over the run's second half reached the robust rounding floor, or fell geometrically or as
    a power law confidently at least as fast as ``1/k``, with no positive limit above the
    floor extrapolated from its last windows.

    Returns ``regime``, ``slope`` (= ``exponent``), ``exponent_se``, ``rate``, ``kl_theta``,
    ``basis``, ``constants`` (a, b, xi used), ``chain_slack`` (min rhs/lhs of the tested
    chain), ``final_bound`` (what the chain gives for ``min_{j<=K} r_j^2`` at the end:
    ``rhs_K / m_K`` plus the squared floor), ``final_slack`` (``final_bound`` / measured),
    ``informative`` (whether ``final_bound`` is below
    ``r_start^2``, see :func:`rate_certificate`, whoever gave the constants; None without a bound), ``k_floor``,
    ``final``, ``sum_r2``.
    """
    if mode == "proof":
        warnings.warn("kkt_rate(mode='proof') is deprecated: call rate_certificate", DeprecationWarning,
                      stacklevel=2)
        return rate_certificate(trace, conditions=conditions, a=a, b=b, xi=xi, **deprecated)
    if mode not in (None, "fit"):
        raise ValueError(f"mode: expected None, got {mode!r}")
    old = set(deprecated) - set(_KKT_RATE_DEPRECATED)
    if old:
        raise TypeError(f"kkt_rate: unexpected keyword arguments {sorted(old)}")
    if squared or deprecated or mode == "fit":
        warnings.warn("kkt_rate: squared=, mode= and the slope-fit options are gone (the log-log "
                      "slope of min r passed diverging residuals); the check now tests the proof's "
                      "sum of r_k^2 and classifies the regime", DeprecationWarning, stacklevel=2)
    tr = _as_trace(trace)
    if window not in (1, 2):
        raise ValueError(f"window: expected 1 or 2, got {window!r}")
    if not 0.2 <= split <= 0.8:
        raise ValueError(f"split: expected a fraction in [0.2, 0.8], got {split!r}")
    fields = ("kkt_total", "dW2", "dV2", "lagrangian", "loss", "reg", "dual", "penalty")
    n = _need(tr, fields, "kkt_rate", min_len=max(int(start) + 1, 2))
    r = np.asarray(tr.kkt_total[:n], float)
    k = np.arange(1, n + 1)
    P = _primal_steps(tr, n)
    Pi = P + (np.concatenate([[0.0], P[:-1]]) if window == 2 else 0.0)
    rfl = _residual_floor(tr, n, floor_mult)
    Lsize = _lagrangian_size(tr, n)
    Lfl = floor_mult * _EPS * Lsize
    s = np.minimum.accumulate(r)
    # "reached the rounding floor" on a robust scale: the running median over 9 rows, so that
    # no single row (a spiked norm) sets the floor the residual is said to have reached
    reg = _regime(s, k, _robust_rows(rfl))
    diverging = n >= 8 and float(r[-(n // 4):].min()) > 2.0 * float(r[: max(1, n // 4)].max())
    cst = resolve_constants(tr, xi=xi, a=a, b=b, conditions=conditions, a0=a0, X=X)
    h = max(int(start) + 2, int(round(split * n)))
    basis, est = None, {}
    xi_v, a_v, b_v = cst["xi"], cst["a"], cst["b"]
    chain_slack, chain_fail, chain_why, oos_rel = float("nan"), None, None, None
    final_bound = final_slack = r2_start = None      # no chain tested (no constants)
    if xi_v is not None and a_v is not None and b_v is not None and a_v > 0:
        basis = ("a-posteriori" if "a-posteriori" in cst["source"].values() else "derived")
        j0 = int(start) - 1
    elif n >= min_len and h < n - 2:
        basis, j0 = "out-of-sample", h
        Pk = P[: h]
        if xi_v is None or a_v is None:
            try:
                d = descent_diagnostic(tr, start=2, floor_mult=floor_mult, k_range=(2, h))
                if d.get("xi") is not None and d["max_margin"] > 0:
                    xi_v = np.asarray(d["xi"], float)
                    Lh = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_v
                    drop = Lh[:h - 1] - Lh[1:h]
                    big = Pk[1:] > Lfl[1:h]
                    a_v = float(np.min(drop[big] / Pk[1:][big])) if big.any() else None
                    est["xi"], est["a"] = "first part", "first part"
            except (ValueError, RuntimeError):
                pass
        if b_v is None:
            sel = (k >= start) & (k <= h) & (Pi > 0) & (r > rfl)
            if sel.any():
                b_v = float(np.max(r[sel] / np.sqrt(Pi[sel]))) * oos_slack
                est["b"] = f"first part x {oos_slack:g}"
        if xi_v is None or a_v is None or b_v is None or a_v <= 0:
            basis = None
    if basis is not None:
        Lhat = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_v
        Ks = np.arange(j0 + 1, n + 1)
        r2 = r[j0:] ** 2
        S = np.cumsum(np.maximum(r2 - rfl[j0:] ** 2, 0.0))
        ref = Lhat[j0 - 2]
        drop = ref - Lhat[j0:]
        rhs = window * b_v ** 2 * (drop + Lfl[j0:] + Lfl[j0 - 2]) / a_v
        ok = S <= rhs
        with np.errstate(divide="ignore", invalid="ignore"):
            sl_ = np.where(S > 0, rhs / S, np.inf)
        chain_slack = float(np.min(sl_))
        # what the chain says about min_{j<=K} r_j^2 at the end: S_K / m_K + floor^2
        final_bound = float(rhs[-1] / Ks.size + np.max(rfl[j0:]) ** 2)
        r2_start = float(r2[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            final_slack = float(final_bound / np.min(r2)) if np.min(r2) > 0 else math.inf
        # the Lemma-21 link per step: r_j <= b sqrt(Pi_j) (above the residual floor)
        rel_bad = (r[j0:] > b_v * np.sqrt(Pi[j0:]) + rfl[j0:])
        if rel_bad.any() and ok.all() and basis == "out-of-sample":
            jb = int(Ks[rel_bad][0])
            oos_rel = (f"heuristic: the relative-error constant estimated on the first part "
                       f"(b = {b_v:.3g}) is exceeded first at k = {jb}; the summed chain holds")
        elif rel_bad.any() and ok.all():
            jb = int(Ks[rel_bad][0])
            chain_fail = jb
            chain_why = (f"the Lemma-21 link r_j <= b sqrt(P_j + P_(j-1)) of the chain breaks first "
                         f"at k = {jb} ({basis} b = {b_v:.3g}; r/sqrt(Pi) = "
                         f"{float(r[jb - 1] / math.sqrt(Pi[jb - 1])):.3g})")
        if not ok.all():
            chain_fail = int(Ks[~ok][0])
            chain_why = (f"the proof's chain sum r_j^2 <= {window} b^2 (Lhat^{j0 - 1} - Lhat^K)/a "
                         f"breaks first at K = {chain_fail} ({basis} constants a = {a_v:.3g}, "
                         f"b = {b_v:.3g})")
    # heuristic unless every constant comes from a derivation (conditions) or the a-posteriori
    # certificate: user-supplied constants carry no derivation
    heuristic = basis not in ("derived", "a-posteriori") or any(
        cst["source"][c] == "user" for c in ("xi", "a", "b"))
    informative = None if basis is None or final_bound is None else bool(final_bound < r2_start)
    certified = (not heuristic and basis is not None
                 and all(cst["source"][c] in ("conditions", "a-posteriori") for c in ("xi", "a", "b")))
    p, pse = reg["exponent"], reg["exponent_se"]
    slow = (reg["regime"] in ("geometric", "power law") and math.isfinite(reg["tail_drop"])
            and reg["tail_drop"] > 0.5 * (1 + 1e-9))
    if cst.get("not_covered") is not None:
        verdict, reason = Verdict.INCONCLUSIVE, cst["not_covered"]
    elif chain_fail is not None:
        verdict, reason = Verdict.FAIL, chain_why
    elif diverging:
        verdict, reason = (Verdict.FAIL, f"the KKT residual diverges (last-quarter min {r[-(n // 4):].min():.3g} "
                           f"> 2 x first-quarter max {r[: max(1, n // 4)].max():.3g})")
        heuristic = False
    elif oos_rel is not None:
        verdict, reason, heuristic = Verdict.INCONCLUSIVE, oos_rel, True
    elif reg["regime"] == "power law" and math.isfinite(p) and p - 2 * pse > -1:
        verdict, reason = (Verdict.INCONCLUSIVE, f"heuristic: min_(j<=k) r_j follows k^({p:.3g} +- "
                           f"{pse:.2g}) over this run, slower than the 1/k that finite length (KL) "
                           "gives; without explicit constants a finite run cannot refute an "
                           "asymptotic rate, so this is not a PASS and not a FAIL")
        heuristic = True
    elif basis is None and reg["regime"] != "floor":
        verdict = Verdict.INCONCLUSIVE
        reason = (f"run too short: {n} iterations (need {min_len}) to estimate the chain's constants "
                  "out of sample" if n < min_len else
                  "constants unknown and not estimable on the first part of the run "
                  f"({cst['unknown_reason']})")
    elif slow:
        verdict = Verdict.INCONCLUSIVE
        reason = (f"the running minimum of r fell by a factor {reg['tail_drop']:.3g} over the "
                  "second half, less than the 1/2 of 1/k: slower than the O(1/k) claim over this run")
        heuristic = True
    elif reg["regime"] in ("stalled", "irregular", "too short"):
        verdict = Verdict.INCONCLUSIVE
        reason = (f"stalled: the running minimum of r tends to a positive limit (about "
                  f"{reg.get('limit', float('nan')):.3g}; it fell by {reg['tail_drop']:.3g} over the "
                  "second half)" if reg.get("stall") == "positive limit" else
                  f"run too short: the running minimum of r is {reg['regime']} over the second half "
                  f"(fell by a factor {reg['tail_drop']:.3g}; flat fraction {reg['flat_fraction']:.2g}): "
                  "the O(1/k) constant is not observable")
    elif reg["regime"] == "power law" and not (p + 2 * pse <= -1):
        verdict = Verdict.INCONCLUSIVE
        reason = f"power law k^({p:.3g} +- {pse:.2g}) not confidently at least 1/k"
    else:
        verdict, reason = Verdict.PASS, None
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    theta = float("nan")
    if reg["regime"] in ("geometric", "floor") and xi_v is not None:
        Lhat = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_v
        theta = _kl_exponent(r, Lhat, Lfl, reg["k_floor"] or n)
    elif reg["regime"] in ("geometric", "floor"):
        theta = _kl_exponent(r, np.asarray(tr.lagrangian[:n], float), Lfl, reg["k_floor"] or n)
    desc = {"floor": f"reached the rounding floor at k = {reg['k_floor']}",
            "geometric": f"geometric, factor {reg['rate']:.5g} per iteration",
            "power law": f"power law k^({p:.3g} +- {pse:.2g})"}.get(reg["regime"], reg["regime"])
    if verdict is Verdict.PASS:
        msg = (f"sum r_j^2 stays within the proof's chain ({basis} constants"
               + (", certified" if certified else "") + f"; slack {chain_slack:.3g})"
               f" and min r_j is {desc}" + (" [heuristic]" if heuristic else "")
               + (f"; KL exponent ~ {theta:.2f}" if math.isfinite(theta) else "") + ".")
    else:
        msg = f"kkt_rate {verdict}: {reason} (regime: {desc})."
    if informative is not None and chain_fail is None:
        msg += " " + _certified_bound_note(final_bound, float(np.min(r[j0:] ** 2)), r2_start, j0 + 1)
    return CheckResult(name="kkt_rate", verdict=verdict, reason=reason, message=msg,
                       heuristic=bool(heuristic), regime=reg["regime"], slope=p, exponent=p,
                       exponent_se=pse, rate=reg["rate"], flat_fraction=reg["flat_fraction"],
                       kl_theta=theta, basis=basis, certified=bool(certified),
                       chain_slack=chain_slack, final_bound=final_bound, final_slack=final_slack,
                       informative=informative,
                       constants={"a": a_v, "b": b_v,
                                  "xi": None if xi_v is None else np.asarray(xi_v).tolist(),
                                  "source": cst["source"], "estimated": est},
                       k_floor=reg["k_floor"], final=float(r[-1]), min_r=float(s[-1]),
                       sum_r2=float(np.sum(r ** 2)), flagged_layers=flagged)


# ------------------------------------------------------------ Lemma 21
def _primal_steps(tr, n):
    return np.asarray(tr.dW2[:n], float).sum(axis=1) + np.asarray(tr.dV2[:n], float).sum(axis=1)
def relative_error(trace, b=None, window=2, start=3, floor=1e-24, conditions=None, *, a0=None,
                   X=None):
    """Lemma 21 on a run: ``b_k = r_k / sqrt(Pi_k)``, KKT residual relative to the primal steps.

    ``r_k`` = ``trace.kkt_total`` (paper eq. 24 with feasibility), ``P_k = sum_i
    (||dW_i^k||^2 + ||dV_i^k||^2)`` and ``Pi_k = P_k`` (``window=1``, the form in the issue) or
    ``Pi_k = P_k + P_{k-1}`` (``window=2``, the default: what Lemma 21 actually bounds, since
    the dual steps inside ``r_k`` involve the previous iteration, Lemma 18).  Compared from
    ``k = start`` (the derived constants hold for ``k >= 3``).  Steps with ``Pi_k <= floor``
    and ``r_k <= sqrt(floor)`` (converged) are skipped.

    ``b``: the derived constant (:attr:`verify.conditions.Conditions.b`), or, with ``a0=`` /
    ``X=`` (the data constant ``||[X; 1]||_2``), the a-posteriori one
    (:func:`verify.conditions.a_posteriori`: Lemma 21's forms with the run's measured norms);
    passed when every ``b_k <= b``.  Without ``b`` the check only reports the figures and passes when every
    ``b_k`` is finite (a residual with no primal step has no relative-error constant).

    *If PASS then* (``b`` given or derived) for every ``k >= start`` not skipped as converged:
    ``r_k <= b sqrt(Pi_k)``.

    Returns ``ratio`` (array ``b_k``, nan where skipped), ``sup_ratio``, ``b``, ``slack``
    (``b / sup_ratio``), ``first_violation``.
    """
    tr = _as_trace(trace)
    if _not_covered(conditions, tr) is not None:
        conditions = None                          # not credited (the verdict says why)
    if b is None and conditions is not None:
        b = getattr(conditions, "b", None)
    if a0 is not None or X is not None:      # validated even when b is given (never ignored silently)
        sh = {k: v for k, v in (("a0", a0), ("X", X)) if v is not None}
        _check_shared(sh, _as_trace(trace))
        a0 = sh.get("a0", a0)
    if b is None and (a0 is not None or X is not None):
        ap, _ = _a_posteriori(_as_trace(trace), raw=True, a0=a0, X=X)
        b = None if ap is None else ap.get("b")
    n = _need(tr, ("kkt_total", "dW2", "dV2"), "relative_error", min_len=max(int(start), 2))
    if window not in (1, 2):
        raise ValueError(f"window: expected 1 (P_k) or 2 (P_k + P_(k-1)), got {window!r}")
    r = np.asarray(tr.kkt_total[:n], float)
    P = _primal_steps(tr, n)
    Pi = P + (np.concatenate([[0.0], P[:-1]]) if window == 2 else 0.0)
    k = np.arange(1, n + 1)
    valid = (k >= start) & ~((Pi <= floor) & (r * r <= floor))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, r / np.sqrt(Pi), np.nan)
    v = ratio[valid]
    if v.size == 0:
        raise ValueError(f"trace: relative_error needs iterations k >= {start} above the rounding "
                         f"floor, got none of {n}")
    sup = float(np.max(v))
    finite = bool(np.all(np.isfinite(v)))
    if b is not None:
        b = float(b)
        if not (b > 0 and math.isfinite(b)):
            raise ValueError(f"b: expected a positive finite constant, got {b!r}")
        bad = valid & ~(ratio <= b)
        passed = finite and not bad.any()
        first = int(k[bad][0]) if bad.any() else None
        msg = (f"r_k <= b sqrt(Pi_k) holds at all {v.size} iterations with b = {b:.3g} "
               f"(largest measured ratio {sup:.3g}, slack factor {b / sup:.3g})." if passed else
               f"r_k / sqrt(Pi_k) exceeds b = {b:.3g} first at k = {first} (sup {sup:.3g}).")
    else:
        first = None
        bad = valid & ~np.isfinite(ratio)
        passed = finite
        msg = (f"Measured relative-error ratio r_k / sqrt(Pi_k) <= {sup:.3g} over {v.size} "
               "iterations (no derived b given)." if passed else
               "A KKT residual occurs with no primal step: no relative-error constant exists.")
    verdict = Verdict.of(bool(passed))
    reason = None if passed else msg
    if b is None and passed:
        verdict, reason = Verdict.INCONCLUSIVE, "constants unknown: no relative-error constant b given"
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    return CheckResult(name="relative_error", verdict=verdict, reason=reason, message=msg, ratio=ratio,
                       sup_ratio=sup, median_ratio=float(np.median(v)), b=b,
                       slack=(b / sup if b is not None and sup > 0 else None),
                       first_violation=first, window=int(window))


# ------------------------------------------------------------ Theorem 4(c), the proof's chain
def rate_certificate(trace, a=None, b=None, xi=None, conditions=None, window=2, start=3,
                     rtol=FLOOR_MULT * _EPS):
    """Theorem 4(c) in the proof's own form, with DERIVED constants ``a, b, xi``.

    For ``K >= start`` and ``J_K = {start..K}`` (``m_K = |J_K|``) the proof chains

    (1) ``min_{j in J_K} r_j^2 <= (1/m_K) sum_{j in J_K} r_j^2``                  (min <= mean)
    (2) ``sum_{J_K} r_j^2 <= b^2 sum_{J_K} Pi_j``                                  (Lemma 21)
    (3) ``sum_{J_K} Pi_j <= window * sum_{j=start-1}^{K} P_j``                     (re-indexing)
    (4) ``a sum_{j=start-1}^{K} P_j <= Lhat^{start-2} - Lhat^K``                  (Lemma 14, summed)

    so ``min_{j<=K} r_j^2 <= window b^2 (Lhat^{start-2} - Lhat^K) / (a m_K)``: O(1/K) because
    ``Lhat`` is bounded below.  Each link is checked at every ``K`` on the recorded run
    (``Lhat`` with the per-layer ``xi``); the result names the first link and ``K`` that
    break.  ``a, b, xi`` must come from a derivation (``conditions=`` a
    :class:`verify.conditions.Conditions`, or explicit values), never from the same run.

    *If PASS then* for every ``K`` of the run every link holds, so ``min_{j<=K} r_j^2 <= bound_K`` with
    the derived constants; it says *how much* through ``final_slack = bound_K / measured`` and
    ``informative``: False when ``bound_K >= r_start^2`` (the residual where the certificate
    starts), a bound every run meets trivially (``min_{j<=K} r_j^2 <= r_start^2``): true, and
    empty.  The message and :func:`format_table` show both (``PASS (uninformative)``).

    Returns ``links`` (dict: link -> min slack ``rhs / lhs`` over K, >= 1 when it holds),
    ``broken`` (first broken link or None), ``k_broken``, ``bound`` (array of the final
    bound on ``min r_j^2``), ``measured`` (array ``min_{j<=K} r_j^2``), ``final_slack``,
    ``informative``, ``start_measured`` (``r_start^2``).
    """
    tr = _as_trace(trace)
    foreign = _not_covered(conditions, tr)
    if foreign is not None:
        raise ValueError(f"conditions: {foreign}")
    if conditions is not None:
        a = conditions.margin if a is None else a
        b = conditions.b if b is None else b
        xi = (conditions.xi_layers if conditions.xi_layers is not None else conditions.xi) \
            if xi is None else xi
    if a is None or b is None or xi is None:
        raise ValueError("a, b, xi: rate_certificate needs the derived descent constant a, "
                         "relative-error constant b and Lyapunov weights xi (pass conditions= "
                         "a verify.conditions.Conditions with b computed)")
    a, b = float(a), float(b)
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"a, b: expected positive finite constants, got a={a!r}, b={b!r}")
    if window not in (1, 2):
        raise ValueError(f"window: expected 1 or 2, got {window!r}")
    start = int(start)
    if start < 3:
        raise ValueError(f"start: expected an integer >= 3, got {start}")
    fields = ("kkt_total", "dW2", "dV2", "lagrangian", "loss", "reg", "dual", "penalty")
    n = _need(tr, fields, "rate_certificate", min_len=start + 1)
    xi_arr = np.broadcast_to(np.asarray(xi, float), (tr.n_layers,))
    if np.any(~np.isfinite(xi_arr)) or np.any(xi_arr < 0):
        raise ValueError(f"xi: expected finite values >= 0, got {xi!r}")
    r2 = np.asarray(tr.kkt_total[:n], float) ** 2
    P = _primal_steps(tr, n)
    Lhat = np.asarray(tr.lagrangian[:n], float) + np.asarray(tr.dV2[:n], float) @ xi_arr
    scale = _lagrangian_size(tr, n)
    j0 = start - 1                                        # row of k = start
    K = np.arange(start, n + 1)
    m = K - start + 1
    Pi = P + (np.concatenate([[0.0], P[:-1]]) if window == 2 else 0.0)
    sum_r2 = np.cumsum(r2[j0:])
    sum_Pi = np.cumsum(Pi[j0:])
    sum_P = np.cumsum(P[j0 - 1:])[1:]                     # sum_{j=start-1}^{K} P_j
    drop = Lhat[j0 - 2] - Lhat[j0:]                       # Lhat^{start-2} - Lhat^K
    tol = rtol * scale[j0:]
    min_r2 = np.minimum.accumulate(r2[j0:])
    links = [
        ("min<=mean", min_r2 * m, sum_r2, 0.0),
        ("lemma21", sum_r2, b * b * sum_Pi, 0.0),
        ("reindex", sum_Pi, window * sum_P * (1 + 1e-12), 0.0),
        ("lemma14", a * sum_P, drop, tol),
    ]
    # a link carries content when it is not an identity of the algebra (min <= mean and the
    # re-indexing hold for every trace) and its left side rose above the rounding floor
    structural = {"min<=mean": True, "lemma21": False, "reindex": True, "lemma14": False}
    r2_floor = float(np.max(_residual_floor(tr, n, FLOOR_MULT)) ** 2)
    content = {}
    for name, lhs, rhs, t in links:
        above = bool(np.any(lhs > (np.maximum(t, r2_floor * m) if name == "lemma21" else t + 0.0)))
        content[name] = (not structural[name]) and above
    slack, broken, k_broken = {}, None, None
    for name, lhs, rhs, t in links:
        ok = lhs <= rhs + t
        with np.errstate(divide="ignore", invalid="ignore"):
            sl = np.where(lhs > 0, (rhs + t) / lhs, np.inf)
        slack[name] = float(np.min(sl))
        if not ok.all() and broken is None:
            broken, k_broken = name, int(K[~ok][0])
    bound = window * b * b * np.maximum(drop, 0.0) / (a * m)
    with np.errstate(divide="ignore", invalid="ignore"):
        fs = np.where(min_r2 > 0, bound / min_r2, np.inf)
    passed = broken is None
    r2_start = float(r2[j0])                              # r_start^2: where the run started
    informative = bool(bound[-1] < r2_start)
    if broken is not None:
        verdict, reason = Verdict.FAIL, f"link {broken!r} breaks first at K = {k_broken}"
    elif not any(content.values()):
        verdict, reason = (Verdict.INCONCLUSIVE, "no link carries content: the Lemma-21 and "
                           "Lemma-14 links were never above the rounding floor")
    else:
        verdict, reason = Verdict.PASS, None
    flagged, nv = _validity(tr)
    verdict, reason = _guard(verdict, reason, flagged, nv)
    if passed:
        msg = (_certified_bound_note(float(bound[-1]), float(min_r2[-1]), r2_start, start)
               + f" The proof's chain holds at every K in [{start}, {n}]: min r_j^2 <= "
               f"{window} b^2 (Lhat^{start - 2} - Lhat^K) / (a m_K); link slacks " +
               ", ".join(f"{k_}={v:.3g}" for k_, v in slack.items()) + ".")
    else:
        msg = (f"The proof's chain breaks at link '{broken}' (first at K = {k_broken}); link "
               "slacks " + ", ".join(f"{k_}={v:.3g}" for k_, v in slack.items()) + ".")
    msg += (" Links with content: " + ", ".join(k_ for k_, v in content.items() if v)
            + "; identities: " + ", ".join(k_ for k_, v in content.items() if not v) + ".")
    return CheckResult(name="rate_certificate", verdict=verdict, reason=reason, message=msg,
                       links=slack, content=content, flagged_layers=flagged,
                       broken=broken, k_broken=k_broken, bound=bound, measured=min_r2,
                       final_bound=float(bound[-1]), final_measured=float(min_r2[-1]),
                       final_slack=float(fs[-1]), informative=informative, start_measured=r2_start,
                       a=a, b=b, xi=xi_arr.tolist())


#: the slope-fit options kkt_rate still accepts through ``**deprecated`` (with a warning); the
#: check table reads them from the function (``deprecated_keywords``) to name a misspelt keyword
_KKT_RATE_DEPRECATED = ("slope_tol", "floor_rtol", "floor_atol", "tail", "min_points")
setattr(kkt_rate, "deprecated_keywords", _KKT_RATE_DEPRECATED)


def _certified_bound_note(bound, measured, start_value, k_start):
    """One sentence: a certified bound on ``min_{j<=K} r_j^2`` beside what it bounds.

    ``slack = bound / measured``.  The bound is *uninformative* when it is not below
    ``r_{k_start}^2``, the residual the run started the certificate from: ``min_{j<=K} r_j^2
    <= r_{k_start}^2`` holds for every run, so such a bound, though true, says nothing the
    run's first residual did not."""
    sl = bound / measured if measured > 0 else math.inf
    txt = (f"Certified min r_j^2 <= {bound:.3g}, measured {measured:.3g}: slack factor {sl:.3g}")
    if bound < start_value:
        return txt + f" (informative: below r_{k_start}^2 = {start_value:.3g})."
    return (txt + f"; holds but uninformative: the bound is not below r_{k_start}^2 = "
            f"{start_value:.3g}, where the run started, and min r_j^2 <= r_{k_start}^2 holds for "
            "every run.")


# ------------------------------------------------------------ all together
CHECKS = {
    "sufficient_descent": sufficient_descent,
    "bounded_iterates": bounded_iterates,
    "dual_bounded_by_primal": dual_bounded_by_primal,
    "feasibility_to_zero": feasibility_to_zero,
    "kkt_rate": kkt_rate,
}


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


def run_checks(trace, checks=None, **options):
    """Run several checks; returns ``{name: CheckResult}``.

    ``options``: a check name mapped to a dict of its keyword arguments, e.g.
    ``run_checks(tr, sufficient_descent={"xi": 0.5})``, and the :data:`SHARED_OPTIONS`
    (``conditions=``, ``X=``, ``a0=``) given once for every check that takes them, e.g.
    ``run_checks(tr, conditions=c, kkt_rate={"conditions": None})`` (kkt_rate without them).
    """
    return run_check_table(CHECKS, _as_trace(trace), checks, **options)


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


def run_check_table(table: dict, trace, checks=None, **options):
    """Run the checks named in ``checks`` (default: all) of ``table`` (``{name: check}``) on
    ``trace``; ``options`` maps a check name to a dict of its keyword arguments, and each of
    :data:`SHARED_OPTIONS` given here goes to every selected check that takes it (unless that
    check's dict sets it).  A shared keyword that no selected check takes, and any other
    unknown keyword, is refused by name.  Every method's ``run_*_checks`` (this module,
    verify.dladmm, verify.lifted_bcd) is this call."""
    if isinstance(checks, str):
        raise ValueError(f"checks: expected a list of check names, got the string {checks!r} "
                         f"(write checks=[{checks!r}])")
    try:
        names = list(table) if checks is None else list(checks)
    except TypeError:
        raise ValueError(f"checks: expected a list of check names, got {checks!r}") from None
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


def assert_converges(model_or_trace, X=None, y=None, checks=None, allow_inconclusive=False, *,
                     conditions=None, a0=None, **options):
    """Assert that a run satisfies the convergence claims (for users' pytest suites).

    Parameters
    ----------
    model_or_trace : Trace, fitted ADMM, unfitted ADMM (then ``X, y`` are
        required and it is fitted here) or a path to a saved trace.
    X, y : training data.  With both, an unfitted estimator is fitted here.  ``X`` (with or
        without ``y``) also goes to every check that takes it: the data constant of Lemma 21's
        a-posteriori ``b`` (``a0=`` gives that constant directly).
    checks : iterable of check names (default: all of :data:`CHECKS`).
    allow_inconclusive : bool
        ``False`` (default): an INCONCLUSIVE check fails the assertion like a FAIL (nothing
        passes for lack of evidence).  ``True``: only FAIL verdicts raise.
    conditions : :class:`verify.conditions.Conditions` or None
        Given once, it goes to every check that takes it (sufficient_descent,
        bounded_iterates, kkt_rate); a per-check dict overrides it.  Conditions that do not
        cover the run (:meth:`Conditions.covers`) raise :class:`ConvergenceError` naming why,
        even with ``allow_inconclusive=True``: they are the caller's mistake, not a lack of
        evidence.
    **options : per-check keyword arguments, e.g. ``sufficient_descent={"xi": [0, 0.5]}``.
        A misspelt keyword is refused by name (``unknown keyword 'conditons'; did you mean
        'conditions'?``).

    Returns the dict of :class:`CheckResult` when no check fails; otherwise raises
    :class:`ConvergenceError` (an ``AssertionError``) whose message is the table
    of every check with its verdict and reason, so pytest shows what failed and why.
    """
    own = ("X", "y", "checks", "allow_inconclusive", "conditions", "a0")
    names_known = list(CHECKS) + list(SHARED_OPTIONS) + list(own)
    stray = [k for k in options if k not in CHECKS and k not in SHARED_OPTIONS]
    if stray:                                  # 'allow_inconclusve' suggests its own argument
        raise ValueError(f"{_unknown_names('keyword', stray, names_known)} (assert_converges takes "
                         f"{list(own)}, a check name with a dict of its arguments, or one of "
                         f"{list(SHARED_OPTIONS)})")
    return _assert_converges(model_or_trace, X, y, checks, allow_inconclusive,
                             conditions=conditions, a0=a0, **options)


def _assert_converges(model_or_trace, X=None, y=None, checks=None, allow_inconclusive=False, *,
                      conditions=None, a0=None, **options):
    """:func:`assert_converges` after its keywords are checked."""
    obj = model_or_trace
    if y is not None:
        if X is None:
            raise ValueError("X, y: expected both training arrays (y was given without X)")
        if not hasattr(obj, "fit"):
            raise ValueError("model_or_trace: X and y were given, so expected an estimator with fit()")
        obj.fit(X, y)
    elif hasattr(obj, "fit") and getattr(obj, "trace_", None) is None:
        raise ValueError("model_or_trace: the estimator is not fitted; pass X and y to fit it here")
    if not isinstance(allow_inconclusive, (bool, np.bool_)):
        raise ValueError(f"allow_inconclusive: expected True or False, got {allow_inconclusive!r}")
    if isinstance(checks, str):
        raise ValueError(f"checks: expected a list of check names, got the string {checks!r} "
                         f"(write checks=[{checks!r}])")
    try:                  # once: a generator read here would reach run_checks empty
        names = list(CHECKS) if checks is None else list(checks)
    except TypeError:
        raise ValueError(f"checks: expected a list of check names, got {checks!r}") from None
    if X is not None and not any(_takes(CHECKS[nm], "X") for nm in names if nm in CHECKS):
        X = None        # the training data only: no selected check uses the data constant
    results = run_checks(obj, checks=names, conditions=conditions, X=X, a0=a0, **options)
    # conditions that do not cover the run are the caller's mistake, not a lack of evidence:
    # allow_inconclusive must not let them pass unnoticed, whether given once or per check
    given, top_used = [], False
    for nm in names:
        kw = options.get(nm)
        if isinstance(kw, dict) and "conditions" in kw:
            if kw["conditions"] is not None:
                given.append((f"{nm}={{'conditions': ...}}", kw["conditions"]))
        elif _takes(CHECKS[nm], "conditions"):
            top_used = True               # this check receives the top-level conditions
    if conditions is not None and top_used:
        given.insert(0, ("conditions", conditions))
    tr = _as_trace(obj)
    for where, c in given:
        why = c.covers(tr) if callable(getattr(c, "covers", None)) else None
        if why is not None:
            raise ConvergenceError(f"conditions: they do not cover this run ({why}; given as "
                                   f"{where})\n" + format_table(results), results)
    failed = [nm for nm, r in results.items() if r.verdict is Verdict.FAIL]
    undecided = [nm for nm, r in results.items() if r.verdict is Verdict.INCONCLUSIVE]
    if failed or (undecided and not allow_inconclusive):
        head = []
        if failed:
            head.append(f"convergence checks failed: {failed}")
        if undecided and not allow_inconclusive:
            head.append(f"inconclusive (allow_inconclusive=False): {undecided}")
        raise ConvergenceError("; ".join(head) + "\n" + format_table(results), results)
    return results
