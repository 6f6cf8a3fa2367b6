"""The iterate-1 lemma (docs/conditions_derivation.md, sections G.1 and K.1): a-priori bounds on
the first iterate of a run from the paper's initial point (7) with ``L_beta^0 <= E0``.

Pure functions of the penalties, ``lambda``, ``E0``, the activation constants and the curvature
factor: :mod:`verify._apriori` starts Lemma 19's induction from them, and
:meth:`verify.conditions.Conditions.covers` checks a run's recorded first iterate against them
(a module of its own so that ``_record`` does not import ``_apriori``, which imports it).
"""

from __future__ import annotations

import math

__all__ = ["_act_constants", "_iterate1_one_hidden", "_iterate1_two_hidden"]


def _iterate1_one_hidden(b1, b2, lam, E0, L, cf):
    """Iterate-1 lemma, N = 2 (docs/conditions_derivation.md, section G.1).

    From the paper's initial point (7) (feasible, ``Lam^0 = 0``) with ``||W_i^0||^2 <= 2 E0/lam``:
    ``||DW_2^1 A_1^0|| <= u2 = sqrt(E0/(2 b2))``, ``||DW_1^1 A_0|| <= u1 = sqrt(E0/(2 b1 f L1^2))``,
    ``||DV_1^1|| <= d1``, ``||T - V_2^0|| <= dT`` (``T = W_2^1 A_1^1``), and the iterate-1 values of
    ``||DV_2||``, ``||Lam_2||``, ``||R||``, ``||Lam_1||`` and ``L_beta``.
    """
    L0, L1, L2 = L
    om = math.sqrt(2 * E0 / lam)
    rho0 = math.sqrt(2 * E0)
    u2 = math.sqrt(E0 / (2 * b2))
    u1 = math.sqrt(E0 / (2 * b1 * cf * L1 ** 2))
    d1 = math.sqrt(L1 ** 2 * u1 ** 2 + b2 / b1 * u2 ** 2)
    dT = u2 + om * d1
    d2 = (rho0 + b2 * dT) / (1 + b2)
    lam2 = b2 * (rho0 + dT) / (1 + b2)
    R1 = b2 * dT
    lam1 = om * R1
    L1bound = E0 + lam1 ** 2 / b1 + lam2 ** 2 / b2
    return {"u1": u1, "u2": u2, "d1": d1, "dT": dT, "d2": d2, "lam2": lam2, "R": R1, "lam1": lam1,
            "L1": L1bound, "omega": om}


def _act_constants(act):
    """``(L0, L1, L2)`` of an Assumption-1 activation (certified upper bounds from theory)."""
    return float(act.L(0)), float(act.L(1)), float(act.L(2))


def _iterate1_two_hidden(b1, b2, b3, lam, E0, L, cf):
    """Iterate-1 lemma, N = 3 (docs/conditions_derivation.md, section G.1).

    ``Lam^0 = 0`` and the initial point (7) is feasible, so at iterate 1 the LLA gradients
    ``G`` of the ``W`` steps vanish and ``DW_i^1 = -lam W_i^0 (lam I + beta_i c A A^T)^{-1}``:
    ``||DW_i^1 A|| <= ||W_i^0|| sqrt(lam / (beta_i c)) / 2 <= sqrt(E0 / (2 beta_i c))``.  The
    V steps then move by ``d1, d2`` (first-order optimality), the output by ``d3``.
    """
    L0, L1, L2 = L
    om = math.sqrt(2 * E0 / lam)
    rho0 = math.sqrt(2 * E0)
    u3 = math.sqrt(E0 / (2 * b3))
    u2 = math.sqrt(E0 / (2 * b2 * cf * L1 ** 2))
    u1 = math.sqrt(E0 / (2 * b1 * cf * L1 ** 2))
    d1 = L1 * u1 + b2 / b1 * om * L1 ** 2 * u2
    d2 = L1 * (u2 + om * d1) + b3 / b2 * om * u3
    dT = u3 + om * d2
    d3 = (rho0 + b3 * dT) / (1 + b3)
    lam3 = b3 * (rho0 + dT) / (1 + b3)
    cmax1 = cf * (L1 ** 2 + 2 * L0 * L2)
    lam1 = b2 * om * L1 ** 2 * u2 + b2 * cmax1 * om ** 2 * d1
    return {"u1": u1, "u2": u2, "u3": u3, "d1": d1, "d2": d2, "d3": d3, "dT": dT, "lam3": lam3,
            "R3": b3 * dT, "lam1": lam1, "cmax1": cmax1, "omega": om}
