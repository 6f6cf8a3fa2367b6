"""A-priori conditions of Theorem 4 / 7: explicit sufficient constants from the proof (private).

Exported by :mod:`verify.conditions`, whose docstring carries the derivation for one hidden
layer; docs/conditions_derivation.md has the rest.  In the order of the proof: the N = 2
derivation (conditions (D1)-(D4), the iterate-1 lemma, Lemma 18's forms and the weighted
descent constants, the invariant box :func:`one_hidden_box`), the N = 3 derivation (Lemma 18's
forms, Lemma 14's coefficients, the invariant box :func:`two_hidden_box`), Lemma 21's ``b``
(:func:`relative_error_constant_1`, :func:`relative_error_constant_2`), and the entry points
:func:`derive`, :func:`derive_from_data`, :func:`schedule` and :func:`guaranteed` (depth >= 3
through :mod:`verify.deep_conditions`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from solver._validation import as_design
from solver.admm.problem import data_meta
from solver.instance import data_norm as _solver_data_norm
from solver.instance import instance_digest
from theory import get_activation

from . import deep_conditions as D
from ._iterate1 import _act_constants, _iterate1_one_hidden, _iterate1_two_hidden  # noqa: F401
from ._record import Conditions

#: Empirical (not derived) constants of the schedule for two or more hidden layers:
#: ``beta_i = beta_out * ratio^(N - i)``, ``lam = lam_base * lam_growth^(depth - 1)``.
EMPIRICAL = {"beta_out": 2.0, "ratio": 10.0, "lam_base": 1e-2, "lam_growth": 10.0}


def _check_pos(name, v, strict=True):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive number, got {v!r}") from None
    if not math.isfinite(f) or (f <= 0 if strict else f < 0):
        raise ValueError(f"{name}: expected a {'positive' if strict else 'non-negative'} "
                         f"finite number, got {v!r}")
    return f


def _depth(depth):
    if not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth: expected a positive integer (number of hidden layers), got {depth!r}")
    return int(depth)


# ------------------------------------------------------------ N = 2 derivation
def _one_hidden_requirements(beta2, lam, E0, y_norm):
    """(D1)-(D4) for N = 2: the a-priori bounds and the beta_1 each condition requires."""
    kappa = (1 - 1 / beta2) / 4
    b = beta2 ** 2 / (1 + beta2) ** 2
    E1 = E0 * (2 + 2 / beta2 + 6 * beta2 * (beta2 - 1) / (1 + beta2) ** 2)
    a_star = math.sqrt(E1 / (kappa * (1 - b)))
    w = max((beta2 - 1) * a_star + beta2 * y_norm,
            beta2 * (y_norm + math.sqrt(2 * E0))) / (2 * math.sqrt(lam * beta2))
    r = (1 + 2 * beta2) * a_star
    gap2 = (1 + beta2) / 2 - 1 / beta2
    req = {
        "D1": 6 * r ** 2 / lam,
        "D2": 3 * w ** 2 * ((1 + beta2) ** 2 + beta2 ** 2) / gap2,
        "D3": 4 * w ** 2 * (1 + beta2) ** 2 * beta2 / (beta2 - 1),
        "D4": 4 * E0 * (1 + 2 * beta2) ** 2 / lam,
    }
    return req, {"w": w, "r": r, "a_star": a_star, "E1": E1}


def descent_constants(beta1, beta2, lam, w, r):
    """``xi`` and the descent constant ``a`` of the N = 2 derivation for given bounds ``w, r``.

    Returns ``(xi, a)``; ``a <= 0`` means (D1) or (D2) fails for these bounds.
    """
    xi = 3 * w ** 2 * beta2 ** 2 / beta1
    coefs = (lam / 2, lam / 2 - 3 * r ** 2 / beta1, beta1 / 2,
             (1 + beta2) / 2 - 1 / beta2 - 3 * w ** 2 * ((1 + beta2) ** 2 + beta2 ** 2) / beta1)
    return xi, min(coefs)




def _quad_sup(Q, v):
    """``sup v.(x, y)`` over ``q(x, y) = (x, y) Q (x, y)^T <= 1`` (vector x, y): ``sqrt(v Q^-1 v)``."""
    (a, b), (_, c) = Q
    det = a * c - b * b
    if a <= 0 or det <= 0:
        return math.inf
    return math.sqrt((c * v[0] ** 2 - 2 * b * v[0] * v[1] + a * v[1] ** 2) / det)


def _w2_invariant(b2, lam, y_norm, aL):
    """Lemma W (docs/conditions_derivation.md, G.2): an invariant bound on ``||W_2^k||`` (depth 1).

    With ``T = A^T (mu I + A A^T)^-1`` (``A = [V_1^k; 1]``, ``mu = lam/b2``, ``||T||_2 <= K =
    sqrt(b2/lam)/2``) the exact steps give ``W_2^{k+1} = C T``, ``C = V_2^k - Lam_2^k/b2``, and
    with ``Lam_2^k = V_2^k - Y``, ``V_2^k = (Y + Lam_2^{k-1} + b2 W_2^k A)/(1+b2)``:
    ``C = 2/(1+b2) Y + (b2-1)/(b2 (1+b2)) Lam_2^{k-1} + (b2-1)/(1+b2) W_2^k A``, and
    ``||W_2^k A T|| <= ||W_2^k||`` (``A A^T (mu + A A^T)^-1`` has norm < 1).  So
    ``||W_2^{k+1}|| <= K (2 ||Y|| + (b2-1)/b2 a_L)/(1+b2) + rho ||W_2^k||``, ``rho = (b2-1)/(b2+1)``,
    and ``w = c / (1 - rho) = K (||Y|| + (b2-1)/(2 b2) a_L)`` (or any larger value) is invariant.
    The former bound ``K (||Y|| + (b2-1)/b2 a_L)`` (the same step with ``||C|| <= ||Y|| +
    (1-1/b2) a_L``) counted the ``W_2^k A`` part of ``C`` at the worst case of ``T``.
    """
    K = math.sqrt(b2 / lam) / 2
    return K * (y_norm + (b2 - 1) / (2 * b2) * aL)


def one_hidden_box(beta, lam, E0, y_norm, L, curvature_factor=2.0, max_rounds=500, xi=None):
    """Sharp a-priori conditions for one hidden layer (N = 2): docs/conditions_derivation.md, G.

    Three changes against the original derivation (:func:`_one_hidden_requirements`, kept
    for comparison as ``derive(..., sharp=False)``): the iterate-1 lemma (the first steps
    from the paper's initial point are ``O(sqrt(E0/beta))``, not bounded by the energy
    alone), the exact output-layer identity ``F_2^k = DV_2^k / beta_2`` in the energy
    lower bound (with the ``V_2`` descent coefficient), and the weighted Cauchy-Schwarz.
    The box ``(a_L, r)`` bounds ``||Lam_2^k||`` and ``||R^k|| = ||Lam_2^k + beta_2 DV_2^k||``
    for all ``k >= 1``; it is closed by a monotone iteration.  Returns a dict with ``holds``,
    ``reason``, and when closed ``w, r, a_star, xi, margin, E1, theta_e, iter1``.
    ``xi`` given: the box and ``a`` for this Lyapunov weight instead of the least one (fails when
    it is below the ascent on ``||DV_2^{k-1}||^2``); the monotonicity in ``beta_1`` that
    :meth:`Conditions.covers` relies on (docs/conditions_derivation.md, K.8).
    """
    b1, b2 = (float(v) for v in beta)
    lam, E0, y = float(lam), float(E0), float(y_norm)
    cf = float(curvature_factor)
    xi_fixed = None if xi is None else float(xi)
    if b2 <= 1:
        return {"holds": False, "reason": f"beta_2 = {b2:g} <= 1 (the energy bound needs beta_N > 1)"}
    it1 = _iterate1_one_hidden(b1, b2, lam, E0, L, cf)
    aL, r = it1["lam2"], it1["R"]
    for _ in range(max_rounds):
        # ||W_2^k||: k = 1 from W_2^1 = W_2^0 (I - lam M^-1) or the same step with V_2^0,
        # Lam_2^0 = 0; k >= 2 by Lemma W (G.2): ||W_2^{k+1}|| <= c + rho ||W_2^k||
        w1 = min(it1["omega"], b2 * (y + math.sqrt(2 * E0)) / (2 * math.sqrt(lam * b2)))
        w = max(_w2_invariant(b2, lam, y, aL), w1)
        xi, a, t, cV2 = _one_hidden_weighted(b1, b2, lam, w, r)
        if xi_fixed is not None:                   # a larger weight: V_2 pays the difference
            if xi_fixed < xi * (1 - 1e-12):
                return {"holds": False, "reason": f"xi = {xi_fixed:.6g} below the required "
                        f"ascent {xi:.6g}", "w": w, "r": r}
            a = min(a, cV2 + xi - xi_fixed)
            cV2, xi = cV2 + xi - xi_fixed, xi_fixed
        if a <= 0:
            return {"holds": False, "reason": f"descent constant a = {a:.3g} <= 0 with the box "
                    f"(w, r) = ({w:.3g}, {r:.3g})", "w": w, "r": r}
        E1 = it1["L1"] + xi * it1["d2"] ** 2
        g = 1 / (2 * b2) + xi + cV2
        Q = ((0.5, 1 / (2 * b2)), (1 / (2 * b2), g))
        rhoR = _quad_sup(Q, (1.0, b2)) ** 2
        rhoL = _quad_sup(Q, (1.0, 0.0)) ** 2
        den = 1 - rhoR * w ** 2 / (2 * b1)
        if den <= 0:
            return {"holds": False, "reason": f"energy closure fails: rho_R w^2 / (2 beta_1) = "
                    f"{1 - den:.3g} >= 1", "w": w, "r": r}
        R2 = rhoR * E1 / den
        M = E1 + w ** 2 * R2 / (2 * b1)
        new = (max(aL, math.sqrt(rhoL * M)), max(r, math.sqrt(R2)))
        if not all(math.isfinite(v) and v < 1e150 for v in new):
            return {"holds": False, "reason": "the box grows without bound"}
        if new[0] <= aL * (1 + 1e-12) and new[1] <= r * (1 + 1e-12):
            return {"holds": True, "reason": "the box is invariant and a > 0", "w": w, "r": r,
                    "a_star": aL, "xi": xi, "margin": a, "E1": E1, "theta_e": t, "iter1": it1}
        aL, r = new
    return {"holds": False, "reason": f"box not closed after {max_rounds} rounds"}


@lru_cache(maxsize=256)
def _search_one_hidden_sharp(lam, E0, y_norm, L, cf, safety, beta_out):
    """Least ``beta_1`` (bisection in log) over a grid of ``beta_2`` for :func:`one_hidden_box`."""
    b2s = np.exp(np.linspace(np.log(1.1), np.log(50.0), 25)) if beta_out is None else [beta_out]
    best = None
    for b2 in b2s:
        b2 = float(b2)
        hi = math.log(1e40)
        if not one_hidden_box((math.exp(hi), b2), lam, E0, y_norm, L, cf)["holds"]:
            continue
        lo = math.log(1e-8)
        if best is not None:
            if not one_hidden_box((best[0], b2), lam, E0, y_norm, L, cf)["holds"]:
                continue
            hi = math.log(best[0])
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if one_hidden_box((math.exp(mid), b2), lam, E0, y_norm, L, cf)["holds"]:
                hi = mid
            else:
                lo = mid
        if best is None or math.exp(hi) < best[0]:
            best = (math.exp(hi), b2)
    if best is None:
        raise ValueError(f"lam: no (beta_1, beta_2) up to 1e40 closes the one-hidden-layer box "
                         f"for lam = {lam:g}, E0 = {E0:g}")
    beta = (safety * best[0], best[1])
    for _ in range(20):
        bx = one_hidden_box(beta, lam, E0, y_norm, L, cf)
        if bx["holds"]:
            return beta, bx, best[0]
        beta = (beta[0] * 2, beta[1])
    raise ValueError("safety: the conditions fail at safety * beta_1 (non-monotone case)")


# ------------------------------------------------------------ N = 3 derivation


def _lemma18_forms(b2, b3, w2, w3, r3, q, a1, kap, L):
    """Lemma 18 for N = 3: ``||DLam_1|| <= sum c1_j s_j``, ``||DLam_2|| <= sum c2_j s_j``.

    ``s``: step norms ``e_i = ||DW_i^k||``, ``d_i = ||DV_i^k||``, ``d_ip = ||DV_i^{k-1}||``;
    ``w2, w3`` bound ``||Wbar_i||_2`` at k and k-1, ``r3 >= ||R_3^{k-1}||``,
    ``q >= ||Q^{k-1}||``, ``a1 >= ||A_1^{k-1}||_2``, ``kap = b2 w2^2 (L1^2 + c_max)``.
    """
    L0, L1, L2 = L
    c1 = {"e2": L1 * q + w2 * q * L2 * a1, "e3": w2 * L1 * r3, "d1": kap,
          "d1p": kap + w2 ** 2 * q * L2, "d2": w2 * L1 * b2, "d2p": w2 * L1 * b2,
          "d3": w2 * L1 * w3 * (1 + b3), "d3p": w2 * L1 * w3 * b3}
    c2 = {"e3": r3, "d3": w3 * (1 + b3), "d3p": w3 * b3}
    return c1, c2


def _descent_coefficients(b1, b2, b3, lam, c1, c2, xi=None):
    """Lemma 14 for N = 3: ascent per step (weighted Cauchy-Schwarz), ``xi`` and the coefficients.

    ``||DLam||^2 <= (sum_j c_j)(sum_j c_j s_j^2)``; the ascent ``||DLam_i||^2 / beta_i`` on
    ``d_ip^2`` (previous V step) is paid by ``xi_i`` (Lyapunov weights); returns
    ``(asc, xi, coef)`` with ``coef`` the net coefficient of each current step and, under
    ``"<d>p"`` keys, ``xi_i - asc_ip`` (>= 0 when ``xi`` is the derived one).
    """
    S1, S2 = sum(c1.values()), sum(c2.values())
    keys = ("e2", "e3", "d1", "d1p", "d2", "d2p", "d3", "d3p")
    asc = {k: S1 * c1.get(k, 0.0) / b1 + S2 * c2.get(k, 0.0) / b2 for k in keys}
    if xi is None:
        xi = [asc["d1p"], asc["d2p"], asc["d3p"]]
    coef = {"W1": lam / 2, "W2": lam / 2 - asc["e2"], "W3": lam / 2 - asc["e3"],
            "V1": b1 / 2 - asc["d1"] - xi[0], "V2": b2 / 2 - asc["d2"] - xi[1],
            "V3": (1 + b3) / 2 - 1 / b3 - asc["d3"] - xi[2],
            "V1p": xi[0] - asc["d1p"], "V2p": xi[1] - asc["d2p"], "V3p": xi[2] - asc["d3p"]}
    return asc, list(xi), coef


def two_hidden_box(beta, lam, E0, y_norm, n, widths, L, curvature_factor=2.0, max_rounds=2000,
                   sharp=False):
    """A-priori iterate box, ``xi`` and descent constant ``a`` for two hidden layers (N = 3).

    Implements docs/conditions_derivation.md, sections B-D: Lemma 18 (dual by primal) with
    the box, Lemma 14 (``xi_i``, ``a``), and the induction of Lemma 19 (box closure) that
    makes the box hold at every iterate ``k >= 2``.

    Parameters
    ----------
    beta : (beta_1, beta_2, beta_3)
    lam, E0, y_norm : regularisation, initial Lagrangian ``L_beta^0``, ``||Y||_F``
    n : number of samples;  widths : ``(d_1, d_2)`` hidden widths
    L : ``(L_0, L_1, L_2)`` activation bounds;  curvature_factor : ``"theory"`` rule factor

    Returns
    -------
    dict with ``holds`` (bool), ``reason``; when the box closes: ``box`` (l1, l2, l3, om2,
    d1, d2), the derived bounds (``w2, w3, r3, q, a1, a2, cmax, cW1, kappa``), ``xi``
    (3 values), ``coef`` (net descent coefficients for steps k >= 3), ``margin`` (``a``,
    the minimum over the six blocks), ``E1`` / ``E2`` (bounds on ``Lhat^1`` / ``Lhat^2``).

    ``sharp=True`` (docs/conditions_derivation.md, section G.3): the iterate-1 lemma
    (:func:`_iterate1_two_hidden`) replaces the crude first steps ``2 L0 sqrt(d_i n)``, and
    the closure uses the exact output-layer identity ``F_3^k = DV_3^k / beta_3`` with a box
    variable ``rR3 >= ||R_3^k||`` instead of ``||Lam_3|| + 2 beta_3 ||Lam_3||``.
    """
    b1, b2, b3 = (float(v) for v in beta)
    lam, E0, y = float(lam), float(E0), float(y_norm)
    L0, L1, L2 = L
    cf = float(curvature_factor)
    d1w, d2w = widths
    if b3 <= 1:
        return {"holds": False, "reason": f"beta_3 = {b3:g} <= 1 (the energy bound needs beta_N > 1)"}
    s1, s2 = L0 * math.sqrt(d1w * n), L0 * math.sqrt(d2w * n)
    e0 = math.sqrt(2 * E0)
    cmin = cf * L1 ** 2
    # iterate 1 (crude: L(W^1, V^1, 0) <= E0 since Lam^0 = 0), see section C of the derivation
    cmax1 = cf * (L1 ** 2 + L2 * (2 * L0 + 2 * math.sqrt(2 * E0 / b2)))
    dd1 = [2 * s1 + math.sqrt(2 * E0 / b1), 2 * s2 + math.sqrt(2 * E0 / b2), 2 * e0]  # ||DV_i^1||
    r3_1 = e0 * (1 + 2 * b3)
    l1 = l2 = 0.0
    l3, om2 = e0, math.sqrt(2 * E0 / lam)
    dl1 = dl2 = 0.0
    it1 = None
    rR3 = 0.0
    if sharp:
        it1 = _iterate1_two_hidden(b1, b2, b3, lam, E0, L, cf)
        cmax1 = it1["cmax1"]
        dd1 = [it1["d1"], it1["d2"], it1["d3"]]
        r3_1 = rR3 = it1["R3"]
        l3 = max(it1["lam3"], 0.0)
    for _ in range(max_rounds):
        w3 = max((b3 - 1) * l3 + b3 * y, b3 * (y + e0)) / (2 * math.sqrt(lam * b3))
        if sharp:
            lam2_1 = min(it1["omega"], w3) * r3_1
        else:
            lam2_1 = min(math.sqrt(2 * b2 * E0), w3 * r3_1)
        l2 = max(l2, lam2_1)
        cmax = max(cmax1, cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l2 / b2)))
        cW1 = cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l1 / b1))
        w2 = om2 + 3 * L1 * l2 / (2 * math.sqrt(lam * b2 * cmin))
        kap = b2 * w2 ** 2 * (L1 ** 2 + cmax)
        nu1, nu2 = s1 + 2 * l1 / b1, s2 + 2 * l2 / b2
        a1, a2 = math.sqrt(nu1 ** 2 + n), math.sqrt(nu2 ** 2 + n)
        # steps k >= 3: "old" iterate k-1 >= 2 lies in the box
        r3 = max(rR3, r3_1) if sharp else l3 + b3 * 2 * l3
        q = l2 + b2 * dl2 + b2 * L1 * w2 * dl1
        c1, c2 = _lemma18_forms(b2, b3, w2, w3, r3, q, a1, kap, L)
        asc, xi, coef = _descent_coefficients(b1, b2, b3, lam, c1, c2)
        # step 2: "old" iterate 1, crude bounds
        q1 = lam2_1 + b2 * dd1[1] + b2 * L1 * w2 * dd1[0]
        a1_1 = math.sqrt((s1 + (dd1[0] if sharp else math.sqrt(2 * E0 / b1))) ** 2 + n)
        c1b, c2b = _lemma18_forms(b2, b3, w2, w3, r3_1, q1, a1_1, kap, L)
        _, _, coef2 = _descent_coefficients(b1, b2, b3, lam, c1b, c2b, xi)
        if sharp:   # L^1 <= E0 + sum ||Lam_i^1||^2 / beta_i (the dual ascent from Lam^0 = 0)
            Lb1 = E0 + it1["lam1"] ** 2 / b1 + lam2_1 ** 2 / b2 + it1["lam3"] ** 2 / b3
        else:
            Lb1 = 3 * E0
        E1 = Lb1 + sum(x_ * d_ ** 2 for x_, d_ in zip(xi, dd1))
        crude2 = {"W2": 2 * w2, "W3": 2 * w3, "V1": 2 * s1 + (l1 + 2 * math.sqrt(2 * b1 * E0)) / b1,
                  "V2": 2 * s2 + (l2 + 2 * lam2_1) / b2, "V3": 2 * l3,
                  "V1p": dd1[0], "V2p": dd1[1], "V3p": dd1[2]}
        E2 = E1 + sum(max(0.0, -coef2[k_]) * v ** 2 for k_, v in crude2.items())
        cV1, cV2 = min(coef["V1"], coef2["V1"]), min(coef["V2"], coef2["V2"])
        if sharp:
            cV3 = min(coef["V3"], coef2["V3"])
            pi = 1 / (2 * b2) + 3 * (w2 * L1) ** 2 / (2 * b1)
            au = cV2 - 3 * (w2 * L1 * b2) ** 2 / (2 * b1)
            az = cV1 - 3 * kap ** 2 / (2 * b1)
            pw = pi * w3 ** 2
            Q3 = ((0.5 - pw, 1 / (2 * b3) - pw * b3),
                  (1 / (2 * b3) - pw * b3, 1 / (2 * b3) + cV3 + xi[2] - pw * b3 ** 2))
            sR, sx = _quad_sup(Q3, (1.0, b3)), _quad_sup(Q3, (1.0, 0.0))
            if min(au, az) <= 0 or not math.isfinite(sR):
                return {"holds": False, "reason": f"(C2) fails: energy form not positive definite "
                        f"(u, z coefficients {au:.3g}, {az:.3g}; output-layer form)"}
            M = E2
            R3n = math.sqrt(M) * sR
            xmax, umax, zmax = max(it1["lam3"], math.sqrt(M) * sx), math.sqrt(M / au), math.sqrt(M / az)
            p = w3 * R3n
        else:
            # closure (Lemma 19) at iterate k+1 >= 2; x = ||Lam_3^{k+1}||
            P1, P0 = w3 * (1 + b3), w3 * b3 * l3
            pi = 1 / (2 * b2) + 3 * (w2 * L1) ** 2 / (2 * b1)
            ax = (1 - 1 / b3) / 2 - 2 * P1 ** 2 * pi
            au = cV2 - 3 * (w2 * L1 * b2) ** 2 / (2 * b1)
            az = cV1 - 3 * kap ** 2 / (2 * b1)
            if min(ax, au, az) <= 0:
                return {"holds": False, "reason": f"(C2) fails: energy coefficients (x, u, z) = "
                        f"({ax:.3g}, {au:.3g}, {az:.3g}) not all positive"}
            M = E2 + 2 * P0 ** 2 * pi
            xmax, umax, zmax = max(e0, math.sqrt(M / ax)), math.sqrt(M / au), math.sqrt(M / az)
            p = P1 * xmax + P0
            R3n = rR3
        yv = w2 * L1 * p + w2 * L1 * b2 * umax + kap * zmax
        new = (max(l1, yv), max(l2, p), max(l3, xmax),
               max(om2, math.sqrt(2 * (E2 + p ** 2 / (2 * b2) + yv ** 2 / (2 * b1)) / lam)),
               max(dl1, zmax), max(dl2, umax), max(rR3, R3n))
        old = (l1, l2, l3, om2, dl1, dl2, rR3)
        if not all(math.isfinite(v) and v < 1e150 for v in new):
            return {"holds": False, "reason": "(C3) fails: the box grows without bound"}
        if all(nv <= ov * (1 + 1e-12) for nv, ov in zip(new, old)):
            break
        l1, l2, l3, om2, dl1, dl2, rR3 = new
    else:
        return {"holds": False, "reason": f"(C3) fails: box not closed after {max_rounds} rounds"}
    blocks = ("W1", "W2", "W3", "V1", "V2", "V3")
    a = min(coef[k_] for k_ in blocks)
    ok = a > 0 and min(cV1, cV2) > 0
    return {"holds": bool(ok),
            "reason": "(C1)-(C4) hold: the box is invariant and a > 0" if ok else
            f"(C4) fails: descent constant a = {a:.3g} <= 0",
            "box": {"l1": l1, "l2": l2, "l3": l3, "om2": om2, "d1": dl1, "d2": dl2},
            "w2": w2, "w3": w3, "r3": r3, "q": q, "a1": a1, "a2": a2, "cmax": cmax, "cW1": cW1,
            "cW2": cmax, "kappa": kap, "xi": xi, "coef": {k_: coef[k_] for k_ in blocks},
            "margin": a, "E1": E1, "E2": E2, "sharp": bool(sharp),
            **({"iter1": it1, "rR3": rR3} if sharp else {})}




def relative_error_constant_2(bx, beta, lam, L, a0):
    """Lemma 21 for N = 3: ``r_k <= b sqrt(P_k + P_{k-1})`` with the box of :func:`two_hidden_box`.

    ``a0 >= ||[X; 1]||_2``.  Each KKT block of paper eq. (24) and each feasibility
    ``||F_i|| = ||DLam_i|| / beta_i`` is bounded by a linear form ``sum_j g_j s_j`` in the
    step norms ``s`` of iterations k and k-1 (docs/conditions_derivation.md, section E);
    by Cauchy-Schwarz ``r_k <= sum_j G_j s_j <= ||G||_2 sqrt(P_k + P_{k-1})``.
    """
    b1, b2, b3 = beta
    L0, L1, L2 = L
    l1, l2, l3 = bx["box"]["l1"], bx["box"]["l2"], bx["box"]["l3"]
    w2, w3, a1, a2 = bx["w2"], bx["w3"], bx["a1"], bx["a2"]
    G = {}

    def add(key, v):
        G[key] = G.get(key, 0.0) + v

    # rW3 = Lam3 DA2^T + b3 (Wbar3 DV2 - DV3) A2^T
    add("d2", l3 + b3 * a2 * w3); add("d3", b3 * a2)
    # rW2 (LLA optimality): Lam2 (s'(U)-s'(U0)) A^T + (Lam2 s'(U0)) DA^T - [b2 (s(U0)-s(U)) + b2 DV2] s'(U0) A^T - b2 c DW2 A A^T
    add("e2", l2 * L2 * a1 * a1 + b2 * L1 * L1 * a1 * a1 + b2 * bx["cW2"] * a1 * a1)
    add("d1", l2 * L2 * w2 * a1 + l2 * L1 + b2 * L1 * L1 * w2 * a1)
    add("d2", b2 * L1 * a1)
    # rW1 (X fixed: no DV0 term)
    add("e1", l1 * L2 * a0 * a0 + b1 * L1 * L1 * a0 * a0 + b1 * bx["cW1"] * a0 * a0)
    add("d1", b1 * L1 * a0)
    # rV1 = Wbar2^T(Lam2 (s'(U)-s'(U0))) - Wbar2^T((b2 (s(U0)-s(U)) + b2 DV2) s'(U0)) - b2 c Wbar2^T Wbar2 DV1
    add("d1", w2 * w2 * l2 * L2 + b2 * L1 * L1 * w2 * w2 + b2 * bx["cmax"] * w2 * w2)
    add("d2", w2 * L1 * b2)
    # rV2 = -b3 Wbar3^T DV3;  rV3 = 0
    add("d3", b3 * w3)
    # feasibility ||F_i|| = ||DLam_i||/beta_i (Lemma 18 forms, steps of k and k-1)
    c1 = {"e2": L1 * bx["q"] + w2 * bx["q"] * L2 * a1, "e3": w2 * L1 * bx["r3"], "d1": bx["kappa"],
          "d1p": bx["kappa"] + w2 ** 2 * bx["q"] * L2, "d2": w2 * L1 * b2, "d2p": w2 * L1 * b2,
          "d3": w2 * L1 * w3 * (1 + b3), "d3p": w2 * L1 * w3 * b3}
    for k_, v in c1.items():
        add(k_, v / b1)
    for k_, v in {"e3": bx["r3"], "d3": w3 * (1 + b3), "d3p": w3 * b3}.items():
        add(k_, v / b2)
    add("d3", 1 / b3); add("d3p", 1 / b3)                   # F_3 = DV_3 / beta_3
    return float(math.sqrt(sum(v * v for v in G.values()))), G


def _relative_error_G1(b1, b2, L, a0, a1, w, r, l1, l2, cW1):
    """Lemma 21 for N = 2 from bounds on the run: ``||[X;1]||_2 <= a0``, ``||[V_1;1]||_2 <= a1``,
    ``||Wbar_2||_2 <= w``, ``||R|| <= r``, ``||Lam_1|| <= l1``, ``||Lam_2|| <= l2``, the ``W_1`` LLA
    curvature ``<= cW1``.  Returns ``(b, G)``, ``r_k <= b sqrt(P_k + P_{k-1})`` (k >= 3)."""
    L0, L1, L2 = L
    G = {"d1": l2 + b2 * a1 * w + b1 * L1 * a0, "d2": b2 * a1 + b2 * w,
         "e1": l1 * L2 * a0 * a0 + b1 * L1 * L1 * a0 * a0 + b1 * cW1 * a0 * a0}
    # feasibility: F_2 = DV_2/b2, F_1 = DLam_1/b1 <= (w(1+b2) d2 + w b2 d2' + r e2)/b1
    G["d2"] += 1 / b2 + w * (1 + b2) / b1
    G["d2p"] = w * b2 / b1
    G["e2"] = r / b1
    return float(math.sqrt(sum(v * v for v in G.values()))), G


def relative_error_constant_1(beta, lam, L, a0, n, d1w, w, r, a_star, curvature_factor=2.0):
    """Lemma 21 for N = 2 with the a-priori bounds of the depth-1 derivation (module docstring)."""
    b1, b2 = beta
    L0, L1, L2 = L
    l1 = w * r                                             # Lam_1 = Wbar_2^T R, ||R|| <= r
    nu1 = L0 * math.sqrt(d1w * n) + 2 * l1 / b1
    a1 = math.sqrt(nu1 ** 2 + n)
    cW1 = curvature_factor * (L1 ** 2 + L2 * (2 * L0 + 3 * l1 / b1))
    return _relative_error_G1(b1, b2, L, a0, a1, w, r, l1, a_star, cW1)


def data_norm(X):
    """``a0 = ||[X; 1]||_2`` (samples in rows), the data constant of Lemma 21's ``b``
    (:func:`solver.instance.data_norm` after checking ``X``)."""
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] < 1 or not np.all(np.isfinite(X)):
        raise ValueError(f"X: expected a finite 2-D array (samples in rows), got shape {X.shape}")
    return _solver_data_norm(X)


def _lemma18_forms_1(b2, w, r):
    """Lemma 18 for N = 2: ``||DLam_1^k|| <= sum_j c_j s_j`` on ``(d2, d2p, e2)`` (k >= 2)."""
    return {"d2": w * (1 + b2), "d2p": w * b2, "e2": r}


def _one_hidden_weighted(beta1, beta2, lam, w, r):
    """Depth-1 descent constants with the **weighted** Cauchy-Schwarz (docs/conditions_derivation.md, G.2).

    ``||DLam_1||^2 <= sum_j c_j^2 s_j^2 / theta_j`` for any ``theta`` on the simplex, with
    ``c = (w (1+b2), w b2, r)`` on ``(d2, d2', e2)``.  The split between ``d2`` and ``d2'`` is
    the optimal ``theta_d : theta_p = (1+b2) : b2``; the share ``t`` of ``e2`` maximises the
    descent constant ``a(t) = min(lam/2, b1/2, f_e(t), f_d(t))`` exactly:
    ``f_e(t) = lam/2 - c_e^2/(t b1)`` increases and ``f_d(t) = gap_2 - S^2/((1-t) b1)``
    (``S = c_d + c_p``; the ``d2`` term plus ``xi``) decreases in ``t``, so the maximiser is
    their crossing, the root in (0, 1) of ``D t^2 - (D + c_e^2 + S^2) t + c_e^2 = 0`` with
    ``D = (lam/2 - gap_2) b1`` (``t = 0`` when ``c_e = 0``, ``t = 1`` when ``S = 0``).
    Returns ``(xi, a, t, c_V2)`` with ``c_V2 = f_d(t)``, the ``V_2`` coefficient of the box.

    Issue 27: a 400-point grid of ``t`` made the box of :func:`one_hidden_box` non-monotone in
    ``beta_1`` (the grid's argmax jumps), so the feasible set of ``beta_1`` had holes just
    above its least value and the bisection of :func:`_search_one_hidden_sharp` could stop at
    a hole's edge, up to 0.13 % above the least value.
    """
    gap2 = (1 + beta2) / 2 - 1 / beta2
    c = _lemma18_forms_1(beta2, w, r)
    cd, cp, ce = c.get("d2", 0.0), c.get("d2p", 0.0), c.get("e2", 0.0)
    S, e2 = cd + cp, ce ** 2
    if e2 == 0.0:
        t, u = 0.0, 1.0
    elif S == 0.0:
        t, u = 1.0, 0.0
    else:
        D = (lam / 2 - gap2) * beta1
        if D == 0.0:
            t, u = e2 / (e2 + S ** 2), S ** 2 / (e2 + S ** 2)
        else:
            # t and u = 1 - t each from its own quadratic, by the cancellation-free pair of roots
            # (t near 1 leaves 1 - t with few digits): D t^2 - (D + e2 + S^2) t + e2 = 0 and
            # D u^2 + (e2 + S^2 - D) u - S^2 = 0; exactly one root of each lies in (0, 1).
            B = D + e2 + S ** 2
            q = 0.5 * (B + math.copysign(math.sqrt(max(B * B - 4 * D * e2, 0.0)), B))
            t = next((x for x in (q / D, e2 / q) if 0.0 < x < 1.0), e2 / (e2 + S ** 2))
            Bu = e2 + S ** 2 - D
            qu = -0.5 * (Bu + math.copysign(math.sqrt(max(Bu * Bu + 4 * D * S ** 2, 0.0)), Bu))
            u = next((x for x in (qu / D, -S ** 2 / qu) if 0.0 < x < 1.0), 1.0 - t)
    f_e = lam / 2 - (e2 / (t * beta1) if e2 > 0 else 0.0)
    f_d = gap2 - (S ** 2 / (u * beta1) if S > 0 else 0.0)     # = the V_2 coefficient c_V2
    xi = cp * S / (u * beta1) if cp > 0 else 0.0
    return float(xi), float(min(lam / 2, beta1 / 2, f_e, f_d)), float(t), float(f_d)


def derive(depth, activation="sigmoid", lam=1.0, E0=None, y_norm=None, beta_out=None,
           safety=2.0, curvature_factor=2.0, n=None, widths=None, a0=None, sharp=True,
           method=None):
    """Sufficient conditions for ``depth`` hidden layers (module docstring).

    Parameters
    ----------
    depth : int
        Number of hidden layers (every depth derived; depth >= 3 see ``method``).
    activation : str or theory.Activation
        Must satisfy Assumption 1 (smooth, nonlinear); ReLU is rejected.
    lam : float
        Regularisation ``lambda > 0`` (the derivation needs ``lam > 0``).
    E0 : float
        Initial Lagrangian ``1/2||V_N^0 - Y||^2 + lam/2 ||W^0||^2`` (see
        :func:`initial_energy`); required for depth 1.
    y_norm : float
        Frobenius norm of the targets ``||Y||`` (all samples); required for depth 1.
    beta_out : float or None
        ``beta_N`` (> 1).  None: the value minimising the required ``beta_1``.
    safety : float
        ``beta_1 = safety * max(D1..D4)`` (> 1 leaves a positive descent constant).
    curvature_factor : float
        Factor of the ``"theory"`` curvature rule (>= 1/2 keeps the LLA a majoriser).
    n, widths, a0 : int, tuple of int, float
        Number of samples, hidden widths and ``a0 >= ||[X; 1]||_2`` (spectral norm of
        the bias-augmented inputs, features x samples).  Required for depth 2 (the
        a-priori bound ``||V_i||_F <= L_0 sqrt(d_i n)`` enters); for depth 1 they only
        enable the relative-error constant ``b``.
    sharp : bool
        True (default): the sharpened derivation (iterate-1 lemma, exact output-layer
        identity, weighted Cauchy-Schwarz; docs/conditions_derivation.md, section G).
        False: the original derivation (module docstring; sections A-D), kept for comparison.

    method : None, "derived" or "empirical"
        Depth >= 3 only.  ``"derived"``: the general-depth derivation
        (:mod:`verify.deep_conditions`, docs/conditions_derivation.md, section K; needs ``lam``,
        ``E0``, ``y_norm``, ``n``, ``widths``, ``a0``); ``"empirical"``: the EMPIRICAL schedule
        below (ratios chosen, not derived; labelled so in ``status``).  None: ``"derived"`` when
        all of these are given (``lam`` not None), else ``"empirical"``.  ``"general"`` (any
        depth): the general-depth derivation also at depth 1 and 2 (a cross-check of the
        specialised, sharper ones).

    The EMPIRICAL schedule needs ``lam >= lam_base lam_growth^(depth-1)``
    (:data:`EMPIRICAL`); a smaller ``lam`` raises ``ValueError`` naming the value it needs
    (the user's ``lam`` is never replaced silently); ``lam=None`` takes that value.
    """
    depth = _depth(depth)
    act = get_activation(activation)
    act.require_smooth("activation")
    if method not in (None, "derived", "empirical", "general"):
        raise ValueError(f"method: expected None, 'derived', 'general' or 'empirical', got {method!r}")
    if method == "general":
        return _derive_deep(depth, act, lam, E0, y_norm, n, widths, a0, beta_out, safety,
                            curvature_factor)
    if depth >= 3 and method is None:
        have = lam is not None and None not in (E0, y_norm, n, widths, a0)
        method = "derived" if have else "empirical"
    if depth >= 3 and method == "derived":
        return _derive_deep(depth, act, lam, E0, y_norm, n, widths, a0, beta_out, safety,
                            curvature_factor)
    if depth >= 3:
        e = EMPIRICAL
        need = e["lam_base"] * e["lam_growth"] ** (depth - 1)
        if lam is None:
            lam = need
        elif _check_pos("lam", lam) < need:
            raise ValueError(f"lam: the EMPIRICAL schedule for depth {depth} needs lam >= {need:g} "
                             f"(lam_base * lam_growth^(depth - 1), verify.conditions.EMPIRICAL), got "
                             f"lam = {lam:g}; pass lam={need:g} or larger explicitly (or lam=None)")
    lam = _check_pos("lam", lam)
    safety = _check_pos("safety", safety)
    if safety <= 1:
        raise ValueError(f"safety: expected a factor > 1, got {safety!r}")
    curvature_factor = _check_pos("curvature_factor", curvature_factor)
    if curvature_factor < 0.5:
        raise ValueError("curvature_factor: expected >= 0.5 (below it the LLA model is not a "
                         f"majoriser and the derivation does not apply), got {curvature_factor!r}")
    if depth == 1:
        if E0 is None or y_norm is None:
            raise ValueError("E0, y_norm: depth 1 conditions need the initial Lagrangian E0 and "
                             "the target norm y_norm (see verify.conditions.initial_energy)")
        E0 = _check_pos("E0", E0)
        y_norm = _check_pos("y_norm", y_norm, strict=False)
        if beta_out is not None:
            _b = _check_pos("beta_out", beta_out)
            if _b <= 1:
                raise ValueError(f"beta_out: the derivation needs beta_N > 1 (D2), got {beta_out!r}")
        if sharp:
            L = _act_constants(act)
            beta, bx, least = _search_one_hidden_sharp(lam, E0, y_norm, L, curvature_factor, safety,
                                                       None if beta_out is None else float(beta_out))
            b = None
            if n is not None and widths is not None and a0 is not None:
                b, _ = relative_error_constant_1(beta, lam, L, float(a0), int(n), int(widths[0]),
                                                 bx["w"], bx["r"], bx["a_star"], curvature_factor)
            return Conditions(depth=1, activation=act, beta=list(beta), lam=lam, xi=bx["xi"],
                              margin=bx["margin"],
                              bounds={k: bx[k] for k in ("w", "r", "a_star", "E1", "theta_e")},
                              requirements={"least beta_1 (box closes, a > 0)": least},
                              status={"beta_1": "derived (sharp)", "beta_2": "derived",
                                      "lam": "derived (any lam > 0)", "xi": "derived",
                                      **({"b": "derived"} if b is not None else {})},
                              curvature="theory", curvature_factor=curvature_factor,
                              xi_layers=[0.0, bx["xi"]], b=b,
                              data={"E0": E0, "y_norm": y_norm, "n": n, "a0": a0,
                                    "widths": None if widths is None else tuple(widths),
                                    "sharp": True})
        if beta_out is None:
            grid = np.exp(np.linspace(np.log(1.05), np.log(100.0), 400))
            need = [max(_one_hidden_requirements(b, lam, E0, y_norm)[0].values()) for b in grid]
            beta2 = float(grid[int(np.argmin(need))])
        else:
            beta2 = _check_pos("beta_out", beta_out)
            if beta2 <= 1:
                raise ValueError(f"beta_out: the derivation needs beta_N > 1 (D2), got {beta_out!r}")
        req, bounds = _one_hidden_requirements(beta2, lam, E0, y_norm)
        beta1 = safety * max(req.values())
        xi, a = descent_constants(beta1, beta2, lam, bounds["w"], bounds["r"])
        b = None
        if n is not None and widths is not None and a0 is not None:
            b, _ = relative_error_constant_1((beta1, beta2), lam, _act_constants(act), float(a0),
                                             int(n), int(widths[0]), bounds["w"], bounds["r"],
                                             bounds["a_star"], curvature_factor)
        return Conditions(depth=1, activation=act, beta=[beta1, beta2], lam=lam, xi=xi,
                          margin=a, bounds=bounds, requirements=req,
                          status={"beta_1": "derived", "beta_2": "derived",
                                  "lam": "derived (any lam > 0)", "xi": "derived",
                                  **({"b": "derived"} if b is not None else {})},
                          curvature="theory", curvature_factor=curvature_factor,
                          xi_layers=[0.0, xi], b=b,
                          data={"E0": E0, "y_norm": y_norm, "n": n, "a0": a0,
                                "widths": None if widths is None else tuple(widths)})
    if depth == 2:
        missing = [nm for nm, v in (("E0", E0), ("y_norm", y_norm), ("n", n), ("widths", widths),
                                    ("a0", a0)) if v is None]
        if missing:
            raise ValueError(f"{', '.join(missing)}: depth 2 conditions need E0, y_norm, n, widths "
                             "(the two hidden widths) and a0 = ||[X; 1]||_2 (see derive_from_data)")
        E0 = _check_pos("E0", E0)
        y_norm = _check_pos("y_norm", y_norm, strict=False)
        widths = tuple(int(v) for v in widths)
        if len(widths) != 2 or min(widths) < 1:
            raise ValueError(f"widths: expected two positive hidden widths, got {widths!r}")
        beta, bx = _search_two_hidden(lam, E0, y_norm, int(n), widths, _act_constants(act),
                                      curvature_factor, safety,
                                      None if beta_out is None else float(beta_out), bool(sharp))
        b, _ = relative_error_constant_2(bx, beta, lam, _act_constants(act), float(a0))
        return Conditions(depth=2, activation=act, beta=list(beta), lam=lam, xi=list(bx["xi"]),
                          margin=bx["margin"], bounds={k: v for k, v in bx.items()
                                                       if k not in ("holds", "reason")},
                          requirements={"C1-C4": bx["reason"],
                                        "least beta_1 (box closes, a > 0)": bx["least_beta1"]},
                          status={"beta_1": "derived" + (" (sharp)" if sharp else ""),
                                  "beta_2": "derived", "beta_3": "derived",
                                  "lam": "derived (any lam > 0)", "xi": "derived", "b": "derived"},
                          curvature="theory", curvature_factor=curvature_factor,
                          xi_layers=list(bx["xi"]), b=b,
                          data={"E0": E0, "y_norm": y_norm, "n": int(n), "a0": float(a0),
                                "widths": widths, "sharp": bool(sharp)})
    # depth >= 3: the theorem's structure with empirical ratios
    e = EMPIRICAL
    N = depth + 1
    b_out = e["beta_out"] if beta_out is None else _check_pos("beta_out", beta_out)
    beta = [b_out * e["ratio"] ** (N - i) for i in range(1, N + 1)]
    return Conditions(depth=depth, activation=act, beta=beta, lam=lam,
                      status={"beta ratio": "empirical", "beta_N": "empirical",
                              "lam growth": "empirical"},
                      curvature="theory", curvature_factor=curvature_factor)


def _derive_deep(depth, act, lam, E0, y_norm, n, widths, a0, beta_out, safety, cf):
    """``derive(depth >= 3, method="derived")``: docs/conditions_derivation.md, section K."""
    missing = [nm for nm, v in (("lam", lam), ("E0", E0), ("y_norm", y_norm), ("n", n),
                                ("widths", widths), ("a0", a0)) if v is None]
    if missing:
        raise ValueError(f"{', '.join(missing)}: the derived depth-{depth} conditions need lam, E0, "
                         "y_norm, n, widths (the hidden widths) and a0 = ||[X; 1]||_2 "
                         "(see derive_from_data), or method='empirical'")
    lam = _check_pos("lam", lam)
    E0 = _check_pos("E0", E0)
    y_norm = _check_pos("y_norm", y_norm, strict=False)
    safety = _check_pos("safety", safety)
    if safety <= 1:
        raise ValueError(f"safety: expected a factor > 1, got {safety!r}")
    cf = _check_pos("curvature_factor", cf)
    if cf < 0.5:
        raise ValueError(f"curvature_factor: expected >= 0.5, got {cf!r}")
    widths = tuple(int(v) for v in widths)
    if len(widths) != depth or min(widths) < 1:
        raise ValueError(f"widths: expected {depth} positive hidden widths, got {widths!r}")
    if depth < 1:
        raise ValueError(f"depth: expected >= 1, got {depth!r}")
    if beta_out is not None and _check_pos("beta_out", beta_out) <= 1:
        raise ValueError(f"beta_out: the derivation needs beta_N > 1, got {beta_out!r}")
    L = _act_constants(act)
    beta, bx, least = D.search(depth + 1, lam, E0, y_norm, int(n), widths, L, cf, safety,
                               None if beta_out is None else float(beta_out))
    b, _ = D.relative_error_constant(bx, L, float(a0))
    st = {f"beta_{i}": "derived" for i in range(1, depth + 2)}
    return Conditions(depth=depth, activation=act, beta=list(beta), lam=lam, xi=list(bx["xi"]),
                      margin=bx["margin"], bounds={k: v for k, v in bx.items()
                                                   if k not in ("holds", "reason", "forms")},
                      requirements={"C1-C4": bx["reason"], "least beta_1 (box closes, a > 0)": least},
                      status={**st, "lam": "derived (any lam > 0 the search closes)",
                              "xi": "derived", "b": "derived"},
                      curvature="theory", curvature_factor=cf, xi_layers=list(bx["xi"]), b=b,
                      data={"E0": E0, "y_norm": y_norm, "n": int(n), "a0": float(a0),
                            "widths": widths, "general": True})


@lru_cache(maxsize=256)
def _search_two_hidden(lam, E0, y_norm, n, widths, L, cf, safety, beta_out, sharp=False):
    """Smallest-``beta_1`` schedule on a grid of ``(beta_2, beta_3)`` closing the N = 3 box.

    For each grid point the least ``beta_1`` with :func:`two_hidden_box` ``holds`` is found by
    bisection in ``log beta_1``; the point with the least ``beta_1`` wins; then ``beta_1`` is
    multiplied by ``safety`` and the conditions are re-checked at the final values.
    """
    b3s = (1.5, 2.0, 3.0) if beta_out is None else (float(beta_out),)
    best = None
    box = lambda bt, **kw: two_hidden_box(bt, lam, E0, y_norm, n, widths, L, cf, sharp=sharp, **kw)
    b2grid = (np.exp(np.linspace(np.log(2.0), np.log(1e7), 22)) if sharp else
              np.exp(np.linspace(np.log(10.0), np.log(1e7), 13)))
    for b3 in b3s:
        if b3 <= 1:
            raise ValueError(f"beta_out: the derivation needs beta_N > 1, got {beta_out!r}")
        for b2 in b2grid:
            hi = math.log(1e40)
            if not box((math.exp(hi), b2, b3), max_rounds=300)["holds"]:
                continue
            lo = math.log(b2)
            if best is not None:
                if not box((best[0], b2, b3), max_rounds=300)["holds"]:
                    continue
                hi = math.log(best[0])
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                if box((math.exp(mid), b2, b3), max_rounds=300)["holds"]:
                    hi = mid
                else:
                    lo = mid
            if best is None or math.exp(hi) < best[0]:
                best = (math.exp(hi), float(b2), float(b3))
    if best is None:
        raise ValueError("lam: no (beta_1, beta_2, beta_3) up to 1e40 closes the two-hidden-layer "
                         f"box for lam = {lam:g}, E0 = {E0:g}; try a larger lam")
    beta = (safety * best[0], best[1], best[2])
    for _ in range(20):
        bx = box(beta)
        if bx["holds"]:
            bx["least_beta1"] = best[0]
            return beta, bx
        beta = (beta[0] * 2, beta[1], beta[2])
    raise ValueError("safety: the conditions fail at safety * beta_1 (non-monotone case)")


def schedule(depth, activation="sigmoid", **data_scale):
    """Keyword arguments for ``solver.ADMM`` satisfying :func:`derive`'s conditions.

    ``data_scale``: ``lam``, ``E0``, ``y_norm`` (depth 1), ``beta_out``, ``safety``,
    ``curvature_factor``; or ``X, y, init_weights`` from which ``E0`` and
    ``y_norm`` are computed (:func:`initial_energy`).  Example::

        kw = conditions.schedule(1, "tanh", X=X, y=y, init_weights=w0, lam=1.0)
        ADMM(hidden_layer_sizes=(5,), **kw).fit(X, y, init_weights=w0)
    """
    return derive_from_data(depth, activation, **data_scale).kwargs


def derive_from_data(depth, activation="sigmoid", X=None, y=None, init_weights=None,
                     lam=1.0, **kw):
    """:func:`derive` with ``E0, y_norm`` computed from data and initial weights."""
    if X is not None or y is not None or init_weights is not None:
        if X is None or y is None or init_weights is None:
            raise ValueError("X, y, init_weights: expected all three (to compute E0) or none")
        E0, y_norm = initial_energy(X, y, init_weights, activation, 0.0 if lam is None else lam)
        kw.setdefault("E0", E0)
        kw.setdefault("y_norm", y_norm)
        Xa = np.vstack([np.asarray(X, float).T, np.ones((1, np.asarray(X).shape[0]))])
        kw.setdefault("n", Xa.shape[1])
        kw.setdefault("widths", tuple(int(np.asarray(W).shape[0]) for W, _ in list(init_weights)[:-1]))
        kw.setdefault("a0", float(np.linalg.norm(Xa, 2)))
    if depth != 2 and kw.get("widths") is not None and len(kw["widths"]) != 2:
        kw["widths"] = tuple(kw["widths"])
    c = derive(depth, activation, lam=lam, **kw)
    if init_weights is not None and c.data is not None and c.data.get("E0") == E0:
        # derived for this instance (its own E0): covers runs on this instance only, and a run
        # on it must start from this very initial point (Conditions.covers)
        w0 = list(init_weights)
        c.data = {**c.data, "instance": instance_digest(X, y, w0)}
        # the initial point itself (paper eq. 7), as the fit records it: its norms and parts,
        # which Conditions.covers compares with meta['initial'] (a digest copied onto another
        # run's trace, or an activation relabelled, then contradicts the record)
        Y = np.asarray(y, float)
        ini = data_meta(get_activation(activation), np.asarray(X, float), Y[:, None] if Y.ndim == 1 else Y,
                        w0, 0.0 if lam is None else lam, c.beta)["initial"]
        c.data["initial"] = {k: ini[k] for k in ("normW", "normV", "loss", "reg")}
    return c


def initial_energy(X, y, init_weights, activation, lam):
    """``(E0, ||Y||)``: the Lagrangian at the initial point of paper eq. (7), and the target norm.

    ``X`` (n, d), ``y`` (n,) or (n, m), ``init_weights`` ``[(W_i, b_i)]`` with ``W_i``
    of shape (d_i, d_{i-1}) (the solver's orientation).  At that point every
    constraint holds and ``Lam = 0``, so ``E0 = 1/2||net(X) - Y||^2 + lam/2 sum_i ||[W_i b_i]||^2``.
    """
    act = get_activation(activation)
    X, Y = as_design(X, y)
    V = X.T
    reg = 0.0
    layers = list(init_weights)
    for j, (W, b) in enumerate(layers):
        W = np.asarray(W, float)
        b = np.asarray(b, float).reshape(-1)
        if W.ndim != 2 or W.shape[1] != V.shape[0] or b.shape[0] != W.shape[0]:
            raise ValueError(f"init_weights: layer {j + 1} expected W of shape (d_i, {V.shape[0]}) "
                             f"and b of shape (d_i,), got {W.shape} and {b.shape}")
        U = W @ V + b[:, None]
        V = U if j == len(layers) - 1 else act(U)
        reg += float((W ** 2).sum() + (b ** 2).sum())
    if V.shape[0] != Y.shape[1]:
        raise ValueError(f"init_weights: output layer has {V.shape[0]} units, y has {Y.shape[1]}")
    E0 = 0.5 * float(((V - Y.T) ** 2).sum()) + 0.5 * float(lam) * reg
    return E0, float(np.sqrt((Y ** 2).sum()))


def guaranteed(depth, activation, beta, lam, E0=None, y_norm=None, n=None, widths=None,
               curvature_factor=2.0, sharp=True):
    """Whether ``(beta, lam)`` satisfy the derived a-priori conditions (depth 1 and 2).

    ``beta``: scalar (every layer) or one value per layer.  Returns ``True`` / ``False``
    at depth 1 (``None`` when ``E0`` or ``y_norm`` is missing and ``beta_2 > 1``) and at
    depth 2 (``None`` unless ``E0``, ``y_norm``, ``n`` and ``widths`` are all given: the
    two-hidden-layer box needs them); ``None`` for depth >= 3, where no a-priori condition
    was derived.
    """
    depth = _depth(depth)
    if depth == 2:
        if None in (E0, y_norm, n, widths):
            return None
        lam = _check_pos("lam", lam)
        b = np.broadcast_to(np.asarray(beta, float), (3,))
        act = get_activation(activation)
        return bool(two_hidden_box(tuple(float(v) for v in b), lam, float(E0), float(y_norm), int(n),
                                   tuple(widths), _act_constants(act), curvature_factor,
                                   sharp=sharp)["holds"])
    if depth != 1:
        return None
    lam = _check_pos("lam", lam)
    b = np.broadcast_to(np.asarray(beta, float), (2,))
    beta1, beta2 = float(b[0]), float(b[1])
    if beta2 <= 1 or E0 is None or y_norm is None:
        return False if beta2 <= 1 else None
    if sharp:
        act = get_activation(activation)
        return bool(one_hidden_box((beta1, beta2), lam, float(E0), float(y_norm), _act_constants(act),
                                   curvature_factor)["holds"])
    req, bounds = _one_hidden_requirements(beta2, lam, float(E0), float(y_norm))
    if beta1 < max(req.values()):
        return False
    _, a = descent_constants(beta1, beta2, lam, bounds["w"], bounds["r"])
    return bool(a > 0)
