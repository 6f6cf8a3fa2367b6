r"""Theorem 4's sufficient conditions for any number of layers ``N >= 2`` (any depth >= 1).

The chain of docs/conditions_derivation.md, section K, one function per lemma:

* :func:`iterate1`                Lemma I1 (iterate 1 from the paper's initial point (7)), K.1;
* :func:`lemma18_forms`           Lemma 8 / 18 (dual expressed, then bounded, by primal), K.2;
* :func:`descent_coefficients`    Lemma 15 (one-step progress) + Lemma 14 (``xi_i``, ``a``), K.3;
* :func:`multiplier_forms`        ``||Lam_j^k||`` linear in ``||R_N^k||`` and the V steps, K.4;
* :func:`deep_box`                Lemma 19: the a-priori box closed by induction, K.4;
* :func:`relative_error_constant` Lemma 21 (``b``), K.5;
* :func:`search`                  the least ``beta_1`` over a grid of the other penalties.

Layers are 1-based in the keys (``"e3"`` = ``||DW_3^k||``, ``"d2"`` = ``||DV_2^k||``, ``"d2p"`` =
``||DV_2^{k-1}||``), 0-based in python lists (``b[0] = beta_1``).  Only ``L0, L1, L2`` of the
activation enter, so every result holds for any Assumption-1 activation, the ``"theory"``
curvature rule with factor ``f >= 1/2``, and the paper's initial point.  At ``N = 3`` the forms
coincide with :func:`verify.conditions._lemma18_forms` (tested), at ``N = 2`` with
:func:`verify.conditions._lemma18_forms_1`.  Pure arithmetic on floats: no solver import.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["iterate1", "lemma18_forms", "descent_coefficients", "multiplier_forms", "deep_box",
           "relative_error_constant", "search", "BLOCKS"]


def BLOCKS(N):
    """The primal blocks of Algorithm 1 (``W1..WN, V1..VN``)."""
    return tuple(f"W{i}" for i in range(1, N + 1)) + tuple(f"V{i}" for i in range(1, N + 1))


def _quad_sup(Q, v):
    """``sup v.(x, y)`` over ``(x, y) Q (x, y)^T <= 1`` (vectors x, y): ``sqrt(v Q^-1 v)`` (Lemma Q)."""
    (a, b), (_, c) = Q
    det = a * c - b * b
    if a <= 0 or det <= 0:
        return math.inf
    return math.sqrt((c * v[0] ** 2 - 2 * b * v[0] * v[1] + a * v[1] ** 2) / det)


# ------------------------------------------------------------------ K.1 iterate 1
def iterate1(b, lam, E0, L, cf):
    """Lemma I1 for ``N = len(b)`` layers (docs/conditions_derivation.md, K.1).

    From (7): ``Lam^0 = 0`` and every constraint holds, so every hidden LLA gradient vanishes at
    iterate 1 and ``||DW_i^1 A_{i-1}^0|| <= u_i`` (``u_N = sqrt(E0/(2 b_N))``, hidden
    ``u_i = sqrt(E0/(2 b_i f L1^2))``).  Then, forward (``d_0 = 0``):

    * hidden ``j <= N-2`` (LLA): ``d_j = L1 (u_j + om d_{j-1}) + (b_{j+1}/b_j) om L1^2 u_{j+1}``;
    * ``j = N-1`` (exact): ``d_{N-1} = L1 (u_{N-1} + om d_{N-2}) + (b_N/b_{N-1}) om u_N``;
    * output: ``dT = u_N + om d_{N-1}``, ``d_N = (rho0 + b_N dT)/(1+b_N)``,
      ``||Lam_N^1|| <= b_N (rho0 + dT)/(1+b_N)``, ``||R_N^1|| <= b_N dT``;
    * ``||Lam_{N-1}^1|| <= om ||R_N^1||``; ``j <= N-2``:
      ``||Lam_j^1|| <= b_{j+1} om L1^2 u_{j+1} + b_{j+1} c1 om^2 d_j``, ``c1 = f (L1^2 + 2 L0 L2)``;
    * ``L^1 <= E0 + sum_i ||Lam_i^1||^2 / b_i``.

    ``om = sqrt(2 E0/lam)`` bounds every ``||W_i^0||`` and ``||W_i^1||``.  Returns a dict with
    lists ``u, d, lam`` (0-based layers), ``R``, ``L1`` (bound on ``L_beta^1``), ``cmax1``, ``omega``.
    """
    L0, L1, L2 = L
    N = len(b)
    om = math.sqrt(2 * E0 / lam)
    rho0 = math.sqrt(2 * E0)
    u = [math.sqrt(E0 / (2 * b[i] * cf * L1 ** 2)) for i in range(N - 1)] + [math.sqrt(E0 / (2 * b[-1]))]
    d = [0.0] * N
    prev = 0.0
    for j in range(N - 1):
        nxt = (b[j + 1] / b[j]) * om * (L1 ** 2 * u[j + 1] if j < N - 2 else u[j + 1])
        d[j] = L1 * (u[j] + om * prev) + nxt
        prev = d[j]
    dT = u[-1] + om * d[N - 2]
    d[-1] = (rho0 + b[-1] * dT) / (1 + b[-1])
    lam1 = [0.0] * N
    lam1[-1] = b[-1] * (rho0 + dT) / (1 + b[-1])
    R = b[-1] * dT
    lam1[N - 2] = om * R
    cmax1 = cf * (L1 ** 2 + 2 * L0 * L2)
    for j in range(N - 2):
        lam1[j] = b[j + 1] * om * L1 ** 2 * u[j + 1] + b[j + 1] * cmax1 * om ** 2 * d[j]
    Lb1 = E0 + sum(lam1[i] ** 2 / b[i] for i in range(N))
    return {"u": u, "d": d, "lam": lam1, "R": R, "dT": dT, "L1": Lb1, "cmax1": cmax1, "omega": om}


# ------------------------------------------------------------------ K.2 Lemma 18
def lemma18_forms(b, w, rN, q, a, kap, L):
    """Lemma 18 for ``N = len(b)`` layers: ``||DLam_j^k|| <= sum_s c_j[s] s`` for ``j = 1..N-1``.

    ``w[i]`` bounds ``||Wbar_{i+1}||_2`` at ``k`` and ``k-1``; ``rN >= ||R_N^{k-1}||``;
    ``q[i] >= ||Q_{i+1}^{k-1}||`` (hidden ``i+1 >= 2``); ``a[i] >= ||[V_i^{k-1}; 1]||_2``;
    ``kap[i] = b_{i+2} w_{i+2}^2 (L1^2 + cmax_{i+1})`` (layer ``i+1 <= N-2``).  Recursion (K.2):

    * ``c_{N-1} = {dN: w_N (1+b_N), dNp: w_N b_N, eN: rN}`` (``Lam_{N-1} = Wbar_N^T R_N``);
    * ``c_j = w_{j+1} L1 c_{j+1} + {e_{j+1}: L1 q_{j+1} + w_{j+1} q_{j+1} L2 a_j,
      d_{j+1}: w_{j+1} L1 b_{j+1}, d_{j+1}p: w_{j+1} L1 b_{j+1}, d_j: kap_j,
      d_jp: kap_j + w_{j+1}^2 q_{j+1} L2}`` (``Lam_j = Wbar_{j+1}^T (Q_{j+1} o sigma') +
      b_{j+1} c Wbar^T Wbar DV_j``, differenced).

    Returns ``{layer (1-based): {key: coefficient}}`` for layers ``1..N-1``.
    """
    L0, L1, L2 = L
    N = len(b)
    forms = {N - 1: {f"d{N}": w[N - 1] * (1 + b[N - 1]), f"d{N}p": w[N - 1] * b[N - 1],
                     f"e{N}": rN}}
    for j in range(N - 2, 0, -1):              # layer j (1-based), next layer j+1 at index j
        wn, qn, bn = w[j], q[j], b[j]
        c = {k_: wn * L1 * v for k_, v in forms[j + 1].items()}

        def add(k_, v):
            c[k_] = c.get(k_, 0.0) + v

        add(f"e{j + 1}", L1 * qn + wn * qn * L2 * a[j])
        add(f"d{j + 1}", wn * L1 * bn)
        add(f"d{j + 1}p", wn * L1 * bn)
        add(f"d{j}", kap[j - 1])
        add(f"d{j}p", kap[j - 1] + wn ** 2 * qn * L2)
        forms[j] = c
    return forms


# ------------------------------------------------------------------ K.3 Lemmas 15 and 14
def descent_coefficients(b, lam, forms, xi=None):
    """Lemma 15 (each block's decrease) and Lemma 14 (``xi``, net coefficients), ``N = len(b)``.

    Decreases (Lemma 15): ``lam/2 e_i^2`` (every W block), ``b_j/2 d_j^2`` (``V_j``, ``j < N``),
    ``(1+b_N)/2 d_N^2`` (``V_N``).  Ascent: ``sum_{j<N} ||DLam_j||^2 / b_j + d_N^2 / b_N`` with
    ``||DLam_j||^2 <= S_j sum_s c_j[s] s^2`` (weighted Cauchy-Schwarz, ``S_j = sum_s c_j[s]``).
    ``xi_j`` = the ascent on ``d_jp^2``.  Returns ``(asc, xi, coef)``; ``coef[block]`` is the
    net coefficient of each current step, ``coef["V{j}p"] = xi_j - asc[d_jp]`` (0 for the derived
    ``xi``).
    """
    N = len(b)
    asc = {}
    for j, c in forms.items():
        S = sum(c.values())
        for k_, v in c.items():
            asc[k_] = asc.get(k_, 0.0) + S * v / b[j - 1]
    if xi is None:
        xi = [asc.get(f"d{i}p", 0.0) for i in range(1, N + 1)]
    coef = {}
    for i in range(1, N + 1):
        coef[f"W{i}"] = lam / 2 - asc.get(f"e{i}", 0.0)
    for i in range(1, N):
        coef[f"V{i}"] = b[i - 1] / 2 - asc.get(f"d{i}", 0.0) - xi[i - 1]
    coef[f"V{N}"] = (1 + b[-1]) / 2 - 1 / b[-1] - asc.get(f"d{N}", 0.0) - xi[-1]
    for i in range(1, N + 1):
        coef[f"V{i}p"] = xi[i - 1] - asc.get(f"d{i}p", 0.0)
    return asc, list(xi), coef


# ------------------------------------------------------------------ K.4 the multipliers, Lemma 19
def multiplier_forms(b, w, kap, L):
    """``||Lam_j^k|| <= sum_t g_j[t] t`` in ``t = (R = ||R_N^k||, u_i = ||DV_i^k||)`` (K.4).

    ``g_{N-1} = {R: w_N}``; ``g_j = w_{j+1} L1 g_{j+1} + {u_{j+1}: w_{j+1} L1 b_{j+1}, u_j: kap_j}``.
    """
    L1 = L[1]
    N = len(b)
    g = {N - 1: {"R": w[N - 1]}}
    for j in range(N - 2, 0, -1):
        c = {k_: w[j] * L1 * v for k_, v in g[j + 1].items()}
        c[f"u{j + 1}"] = c.get(f"u{j + 1}", 0.0) + w[j] * L1 * b[j]
        c[f"u{j}"] = c.get(f"u{j}", 0.0) + kap[j - 1]
        g[j] = c
    return g


def deep_box(beta, lam, E0, y_norm, n, widths, L, curvature_factor=2.0, max_rounds=2000, xi=None):
    """Lemma 19 for ``N = len(beta)`` layers: the a-priori box, ``xi`` and ``a`` (K.4).

    Box variables (monotone, started at the iterate-1 values): ``l_j >= ||Lam_j^k||`` (k >= 1),
    ``om >= ||W_i^k||_F`` (all i, k), ``dl_j >= ||DV_j^k||`` (k >= 2), ``rR >= ||R_N^k||``.
    Each round: the step-ahead weight bounds ``w_i``, the curvature bounds, the Lemma-18 forms for
    steps ``k >= 3`` (old iterate in the box) and for step 2 (old iterate 1), the Lemma-14
    coefficients, ``E1 >= Lhat^1``, ``E2 >= Lhat^2``, and the energy closure at ``k+1``:
    ``Q_N(||Lam_N||, ||DV_N||) + sum_{j<N} alpha_j u_j^2 <= E2`` (``alpha_j = cV_j + xi_j -
    pi_{u_j}``), which bounds ``R``, ``||Lam_N||`` (Lemma Q) and the ``u_j``, hence the ``l_j``
    (:func:`multiplier_forms`) and ``om``.  Closed when no value grows by more than 1e-12
    relative; the conditions are (C1) ``b_N > 1``, (C2) ``Q_N`` positive definite and
    ``alpha_j > 0``, (C3) closure, (C4) ``a = min`` over blocks of the step-2 and steady
    coefficients ``> 0``.

    ``xi`` given (a list of ``N`` weights): the box and coefficients for these Lyapunov weights
    instead of the least ones (the box fails when a given ``xi_i`` is below the ascent on
    ``||DV_i^{k-1}||^2`` it must pay); used to check the monotonicity in ``beta_1`` that
    :meth:`verify.conditions.Conditions.covers` relies on (K.8).

    Returns ``holds``, ``reason`` and, when closed: ``box`` (lists ``l``, ``dl``, ``om``, ``rR``),
    ``w``, ``a`` (``||[V_i;1]||_2`` bounds, ``a[0]`` unset), ``q``, ``rN``, ``cmax``, ``cW``,
    ``kappa``, ``xi``, ``coef``, ``coef2``, ``margin``, ``E1``, ``E2``, ``iter1``.
    """
    b = [float(v) for v in beta]
    N = len(b)
    if N < 2:
        raise ValueError(f"beta: expected at least two layers, got {beta!r}")
    lam, E0, y = float(lam), float(E0), float(y_norm)
    L0, L1, L2 = L
    cf = float(curvature_factor)
    widths = tuple(int(v) for v in widths)
    if len(widths) != N - 1:
        raise ValueError(f"widths: expected {N - 1} hidden widths, got {widths!r}")
    if b[-1] <= 1:
        return {"holds": False, "reason": f"(C1) fails: beta_N = {b[-1]:g} <= 1"}
    if min(b) <= 0:
        return {"holds": False, "reason": f"beta: expected positive penalties, got {beta!r}"}
    xi_given = None if xi is None else [float(v) for v in xi]
    if xi_given is not None and len(xi_given) != N:
        raise ValueError(f"xi: expected {N} weights, got {xi!r}")
    e0 = math.sqrt(2 * E0)
    s = [L0 * math.sqrt(dw * n) for dw in widths]                     # ||sigma(W_j A)||_F <= s_j
    it1 = iterate1(b, lam, E0, L, cf)
    dd1 = it1["d"]
    l = list(it1["lam"])
    om = it1["omega"]
    dl = [0.0] * N
    rR = it1["R"]
    cmin = cf * L1 ** 2
    for _ in range(max_rounds):
        # step-ahead bounds on ||W_i^{k+1}|| from the iterate k in the box
        wN = max((b[-1] - 1) * l[-1] + b[-1] * y, b[-1] * (y + e0)) / (2 * math.sqrt(lam * b[-1]))
        w = [om + 3 * L1 * l[i] / (2 * math.sqrt(lam * b[i] * cmin)) for i in range(N - 1)] + [wN]
        cmax = [cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l[j + 1] / b[j + 1])) for j in range(N - 1)]
        cmax = [max(c, it1["cmax1"]) for c in cmax]
        cW = [cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l[j] / b[j])) for j in range(N - 1)]
        kap = [b[j + 1] * w[j + 1] ** 2 * (L1 ** 2 + cmax[j]) for j in range(N - 2)]
        a = [None] + [math.sqrt((s[j - 1] + 2 * l[j - 1] / b[j - 1]) ** 2 + n) for j in range(1, N)]
        # steps k >= 3 (old iterate k-1 >= 2 in the box) and step 2 (old iterate 1)
        rN = max(rR, it1["R"])
        q = [None] + [l[j] + b[j] * dl[j] + b[j] * L1 * w[j] * dl[j - 1] for j in range(1, N - 1)]
        q1 = [None] + [l[j] + b[j] * dd1[j] + b[j] * L1 * w[j] * dd1[j - 1] for j in range(1, N - 1)]
        forms = lemma18_forms(b, w, rN, q, a, kap, L)
        forms2 = lemma18_forms(b, w, it1["R"], q1, a, kap, L)
        asc, xi_r, coef = descent_coefficients(b, lam, forms)
        xi_r = [max(x1, x2) for x1, x2 in zip(xi_r, descent_coefficients(b, lam, forms2)[1])]
        if xi_given is None:
            xi = xi_r
        elif any(g_ < r_ * (1 - 1e-12) for g_, r_ in zip(xi_given, xi_r)):
            return {"holds": False, "reason": f"xi = {xi_given} below the required ascent "
                    f"{[f'{v:.6g}' for v in xi_r]}"}
        else:
            xi = xi_given
        _, _, coef = descent_coefficients(b, lam, forms, xi)
        _, _, coef2 = descent_coefficients(b, lam, forms2, xi)
        E1 = it1["L1"] + sum(x_ * d_ ** 2 for x_, d_ in zip(xi, dd1))
        crude2 = {**{f"W{i + 1}": 2 * w[i] for i in range(N)},
                  **{f"V{j + 1}": 2 * s[j] + (l[j] + 2 * it1["lam"][j]) / b[j] for j in range(N - 1)},
                  f"V{N}": 2 * l[-1]}
        E2 = E1 + sum(max(0.0, -coef2[k_]) * v ** 2 for k_, v in crude2.items())
        cV = [min(coef[f"V{j}"], coef2[f"V{j}"]) for j in range(1, N + 1)]
        # energy closure at k+1 >= 2
        g = multiplier_forms(b, w, kap, L)
        pi = {}
        for j, c in g.items():
            for k_, v in c.items():
                pi[k_] = pi.get(k_, 0.0) + len(c) * v ** 2 / (2 * b[j - 1])
        alpha = [cV[j] + xi[j] - pi.get(f"u{j + 1}", 0.0) for j in range(N - 1)]
        pR, bN = pi.get("R", 0.0), b[-1]
        QN = ((0.5 - pR, 1 / (2 * bN) - pR * bN),
              (1 / (2 * bN) - pR * bN, 1 / (2 * bN) + cV[-1] + xi[-1] - pR * bN ** 2))
        sR, sx = _quad_sup(QN, (1.0, bN)), _quad_sup(QN, (1.0, 0.0))
        if min(alpha) <= 0 or not math.isfinite(sR):
            return {"holds": False, "reason": f"(C2) fails: energy form not positive definite "
                    f"(alpha = {[f'{v:.3g}' for v in alpha]}, output form finite: "
                    f"{math.isfinite(sR)})"}
        M = E2
        t = {"R": math.sqrt(M) * sR}
        for j in range(N - 1):
            t[f"u{j + 1}"] = math.sqrt(M / alpha[j])
        x = max(it1["lam"][-1], math.sqrt(M) * sx)
        lnew = [sum(v * t[k_] for k_, v in g[j + 1].items()) for j in range(N - 1)] + [x]
        lnew = [max(o, v) for o, v in zip(l, lnew)]
        omn = max(om, math.sqrt(2 * (M + sum(lnew[j] ** 2 / (2 * b[j]) for j in range(N - 1))) / lam))
        dln = [max(dl[j], t[f"u{j + 1}"]) for j in range(N - 1)] + [0.0]
        rRn = max(rR, t["R"])
        new = lnew + dln + [omn, rRn]
        old = l + dl + [om, rR]
        if not all(math.isfinite(v) and v < 1e150 for v in new):
            return {"holds": False, "reason": "(C3) fails: the box grows without bound"}
        done = all(nv <= ov * (1 + 1e-12) for nv, ov in zip(new, old))
        l, dl, om, rR = lnew, dln, omn, rRn
        if done:
            break
    else:
        return {"holds": False, "reason": f"(C3) fails: box not closed after {max_rounds} rounds"}
    blocks = BLOCKS(N)
    a_desc = min(min(coef[k_], coef2[k_]) for k_ in blocks)
    ok = a_desc > 0
    return {"holds": bool(ok),
            "reason": "(C1)-(C4) hold: the box is invariant and a > 0" if ok else
            f"(C4) fails: descent constant a = {a_desc:.3g} <= 0",
            "box": {"l": list(l), "dl": list(dl), "om": om, "rR": rR},
            "w": w, "a": a, "q": q, "rN": rN, "cmax": cmax, "cW": cW, "kappa": kap,
            "xi": list(xi), "coef": {k_: coef[k_] for k_ in blocks},
            "coef2": {k_: coef2[k_] for k_ in blocks}, "margin": a_desc, "E1": E1, "E2": E2,
            "iter1": it1, "forms": forms, "beta": b, "lam": lam}


# ------------------------------------------------------------------ K.5 Lemma 21
def relative_error_constant(bx, L, a0):
    """Lemma 21 for ``N`` layers with the box of :func:`deep_box`: ``r_k <= b sqrt(P_k + P_{k-1})``.

    ``a0 >= ||[X; 1]||_2``.  Every KKT block of eq. (24) and every feasibility ``||F_i|| =
    ||DLam_i|| / b_i`` is a linear form in the step norms of iterations k and k-1 (K.5):

    * ``rW_N = Lam_N DA_{N-1}^T + b_N (Wbar_N DV_{N-1} - DV_N) A_{N-1}^T``;
    * hidden ``rW_j``: ``e_j (l_j L2 + b_j L1^2 + b_j cW_j) a_{j-1}^2``, ``d_{j-1} (l_j L2 w_j a_{j-1}
      + l_j L1 + b_j L1^2 w_j a_{j-1})`` (``j >= 2``), ``d_j b_j L1 a_{j-1}``;
    * ``rV_j`` (``j <= N-2``): ``d_j w_{j+1}^2 (l_{j+1} L2 + b_{j+1} L1^2 + b_{j+1} cmax_j)``,
      ``d_{j+1} w_{j+1} L1 b_{j+1}``; ``rV_{N-1} = -b_N Wbar_N^T DV_N``; ``rV_N = 0``;
    * ``F_j``: the Lemma-18 form over ``b_j``; ``F_N = DV_N / b_N``.

    Returns ``(b, G)``: ``b = ||G||_2``.
    """
    L0, L1, L2 = L
    b = bx["beta"]
    N = len(b)
    l, w, a, cW, cmax = bx["box"]["l"], bx["w"], list(bx["a"]), bx["cW"], bx["cmax"]
    a[0] = float(a0)
    G = {}

    def add(k_, v):
        G[k_] = G.get(k_, 0.0) + v

    add(f"d{N - 1}", l[-1] + b[-1] * a[N - 1] * w[-1])
    add(f"d{N}", b[-1] * a[N - 1])
    for j in range(1, N):                          # hidden W_j (LLA), 1-based j
        i = j - 1
        add(f"e{j}", (l[i] * L2 + b[i] * L1 ** 2 + b[i] * cW[i]) * a[i] ** 2)
        if j >= 2:
            add(f"d{j - 1}", l[i] * L2 * w[i] * a[i] + l[i] * L1 + b[i] * L1 ** 2 * w[i] * a[i])
        add(f"d{j}", b[i] * L1 * a[i])
    for j in range(1, N - 1):                      # rV_j, j <= N-2
        add(f"d{j}", w[j] ** 2 * (l[j] * L2 + b[j] * L1 ** 2 + b[j] * cmax[j - 1]))
        add(f"d{j + 1}", w[j] * L1 * b[j])
    add(f"d{N}", b[-1] * w[-1])                    # rV_{N-1}
    for j, c in bx["forms"].items():               # feasibility
        for k_, v in c.items():
            add(k_, v / b[j - 1])
    add(f"d{N}", 1 / b[-1])
    return float(math.sqrt(sum(v * v for v in G.values()))), G


# ------------------------------------------------------------------ the search
@lru_cache(maxsize=128)
def search(N, lam, E0, y_norm, n, widths, L, cf, safety, beta_out=None):
    """Least ``beta_1`` (bisection in ``log``) closing :func:`deep_box`, over a grid.

    The penalties below the input layer follow the theorem's structure
    ``beta_j = beta_{N-1} rho^(N-1-j)`` (``j = 2..N-1``); the grid is over ``beta_N`` (1.5, 2, 3 or
    ``beta_out``), ``beta_{N-1}`` and ``rho``; ``beta_1`` is bisected, multiplied by ``safety``
    and the box re-checked (doubling ``beta_1`` until it holds).  Returns ``(beta, box, least)``.
    """
    bNs = (1.5, 2.0, 3.0) if beta_out is None else (float(beta_out),)
    bmids = np.exp(np.linspace(np.log(2.0), np.log(1e8), 16))
    rhos = (1.0,) if N <= 3 else tuple(np.exp(np.linspace(0.0, np.log(1e14), 29)))
    best = None

    def holds(bt):
        return deep_box(bt, lam, E0, y_norm, n, widths, L, cf, max_rounds=400)["holds"]

    for bN in bNs:
        for bm in bmids:
            for rho in rhos:
                mid = [float(bm) * float(rho) ** (N - 2 - j) for j in range(1, N - 1)]
                rest = tuple(mid) + (bN,)
                hi = math.log(1e120)
                if best is not None:
                    hi = math.log(best[0])
                if not holds((math.exp(hi),) + rest):
                    continue
                lo = math.log(max(rest[0], 1.0))
                for _ in range(36):
                    m_ = 0.5 * (lo + hi)
                    if holds((math.exp(m_),) + rest):
                        hi = m_
                    else:
                        lo = m_
                if best is None or math.exp(hi) < best[0]:
                    best = (math.exp(hi),) + rest
    if best is None:
        raise ValueError(f"lam: no penalties up to beta_1 = 1e120 close the {N}-layer box for "
                         f"lam = {lam:g}, E0 = {E0:g}; try a larger lam")
    beta = (safety * best[0],) + best[1:]
    for _ in range(20):
        bx = deep_box(beta, lam, E0, y_norm, n, widths, L, cf)
        if bx["holds"]:
            return beta, bx, best[0]
        beta = (beta[0] * 2,) + beta[1:]
    raise ValueError("safety: the conditions fail at safety * beta_1 (non-monotone case)")

