"""The proof's constants for a run, and when a check may trust float64 (private).

:func:`resolve_constants` takes ``xi``, ``a`` and ``b`` from the user, the derived
:class:`verify.conditions.Conditions` or the a-posteriori certificate
(:func:`verify.conditions.a_posteriori`); :func:`_guard` turns a verdict on a block that
float64 cannot resolve (:func:`verify.conditions.numerical_validity`) into INCONCLUSIVE and a
run that stopped on a non-finite iterate into FAIL.  :mod:`verify.conditions` is loaded on
first use (:func:`_conditions`: import time of ``import verify``).
"""

from __future__ import annotations

import math

import numpy as np

from ._results import Verdict
from ._table import _check_shared
from ._trace_input import _as_trace
from .integrity import run_stopped_badly


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
