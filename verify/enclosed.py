"""Lemma 14 decided on enclosures: a computer-assisted proof of sufficient descent for one run.

A run of :func:`solver.admm.extprec.run` with ``ball=True`` records, per iteration ``k``, float64
numbers ``L_lo^k <= L_beta^k <= L_hi^k``, ``dV2_lo^k <= ||DV_i^k||^2 <= dV2_hi^k`` and
``P_hi^k >= P_k`` (``meta["enclosures"]``; outward-rounded from the arb balls) that enclose
the values of the **exact** Algorithm 1 started from the float64 data and initial weights
(every operation, the activation, the LLA curvature's max and the linear solves are
rigorous arb enclosures).  :func:`enclosed_descent` decides Lemma 14 on them in exact
rational arithmetic: no rounding caveat, no floor.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["enclosed_descent"]


def enclosed_descent(trace, xi, a, start=2):
    """Whether ``lower(Lhat^{k-1} - Lhat^k) >= a * upper(P_k)`` at every ``k`` in ``[start, K]``.

    ``Lhat^k = L_beta^k + sum_i xi_i ||DV_i^k||^2``; lower bound ``L_lo^{k-1} + xi.dV2_lo^{k-1}
    - L_hi^k - xi.dV2_hi^k``, computed exactly (``fractions.Fraction`` of the float64
    endpoints).  **If** ``holds`` **then** for every such ``k`` the exact iterates of Algorithm
    1 from the run's data satisfy ``Lhat^{k-1} - Lhat^k >= a P_k``: a proof, for this run, of
    the descent inequality of Lemma 14 with these ``xi`` and ``a``.  A failing step is either a
    real violation or an enclosure too wide to decide (``undecided`` counts steps whose
    interval contains the threshold: more precision decides them).

    Returns a dict: ``holds``, ``n_steps``, ``first_failure`` (k or None), ``undecided``,
    ``min_slack`` (smallest ``lower(drop) - a upper(P)`` as a float), ``slack`` (per step).
    Raises ``ValueError`` when the trace has no enclosures (not a ball run) or ``a <= 0``.
    """
    meta = getattr(trace, "meta", None) or {}
    enc = meta.get("enclosures")
    if not enc or not meta.get("ball"):
        raise ValueError("trace: enclosed_descent needs a ball-arithmetic run "
                         "(solver.admm.extprec.run(..., ball=True)) with meta['enclosures']")
    a = Fraction(float(a))
    if a <= 0:
        raise ValueError(f"a: expected a positive descent constant, got {float(a)!r}")
    xi = [Fraction(float(v)) for v in np.broadcast_to(np.asarray(xi, float), (trace.n_layers,))]
    if any(v < 0 for v in xi):
        raise ValueError(f"xi: expected values >= 0, got {[float(v) for v in xi]!r}")
    start = int(start)
    if start < 2:
        raise ValueError(f"start: expected an integer >= 2, got {start}")
    K = len(enc["lagrangian_lo"])
    F = Fraction

    def lhat(L, dv):
        return F(L) + sum(x * F(v) for x, v in zip(xi, dv))

    slack, first, undecided = [], None, 0
    for k in range(start, K + 1):
        lo_prev = lhat(enc["lagrangian_lo"][k - 2], enc["dV2_lo"][k - 2])
        hi_prev = lhat(enc["lagrangian_hi"][k - 2], enc["dV2_hi"][k - 2])
        lo_cur = lhat(enc["lagrangian_lo"][k - 1], enc["dV2_lo"][k - 1])
        hi_cur = lhat(enc["lagrangian_hi"][k - 1], enc["dV2_hi"][k - 1])
        s_lo = lo_prev - hi_cur - a * F(enc["P_hi"][k - 1])
        s_hi = hi_prev - lo_cur - a * F(enc["P_lo"][k - 1])
        slack.append(float(s_lo))
        if s_lo < 0:
            first = k if first is None else first
            if s_hi >= 0:
                undecided += 1
    return {"holds": first is None and len(slack) > 0, "n_steps": len(slack),
            "first_failure": first, "undecided": undecided,
            "min_slack": min(slack) if slack else float("nan"), "slack": slack}
