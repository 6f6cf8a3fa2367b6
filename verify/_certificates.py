"""A-posteriori certificates of one recorded run (private; exported by :mod:`verify.conditions`).

The a-priori inequalities with the iterate bounds measured on the run in place of the
a-priori box: :func:`a_posteriori` (sufficient descent, Lemma 14, with an explicit ``xi``, and
Lemma 21's ``b``), :func:`lemma18_steps` (Lemma 18 step by step), :func:`certifies` (a given
``xi``, ``a`` on the run) and :func:`numerical_validity` (the blocks float64 cannot resolve);
user activations known by name to them (:func:`register_activation`,
:func:`trace_activation`).
"""

from __future__ import annotations

import math

import numpy as np

from theory import Activation, get_activation
from theory.activations import activation_from_record, check_record

from . import deep_conditions as D
from ._apriori import (
    _act_constants,
    _check_pos,
    _descent_coefficients,
    _lemma18_forms,
    _lemma18_forms_1,
    _one_hidden_weighted,
    _relative_error_G1,
    data_norm,
    descent_constants,
    relative_error_constant_2,
)
from ._trace_input import _as_trace, _need

#: user activations known by name to :func:`a_posteriori` (see :func:`register_activation`)
_ACTIVATIONS: dict[str, Activation] = {}


def register_activation(act):
    """Make a user :class:`theory.Activation` known by its name to the a-posteriori certificate.

    A trace stores only the activation's name and expression; an activation whose bounds
    ``theory`` cannot certify from the expression (e.g. a numerically bounded one,
    :func:`verify.strategies.bump_sigmoid`) is found here instead."""
    act = get_activation(act, "act")
    old = _ACTIVATIONS.get(act.name)
    if old is not None and old is not act and old.expr != act.expr:
        raise ValueError(f"act: {act.name!r} is already registered as {old.expr}, not {act.expr}")
    _ACTIVATIONS[act.name] = act
    return act


def trace_activation(tr, activation=None):
    """The run's activation, from the pair ``(meta["activation"], meta["activation_expr"])``
    checked against each other (:func:`theory.activations.activation_from_record`): the name
    resolves to a built-in or a registered activation whose expression must be the stored one,
    else the activation is rebuilt from the stored expression.  ``activation`` (an object or a
    built-in name) is used when given, after the same check against the stored pair (when the
    trace has one).  A mismatch, or a name without its stored expression, is refused with a
    ``ValueError``: a name never swaps in another function."""
    meta = tr.meta or {}
    name, expr = meta.get("activation"), meta.get("activation_expr")
    if activation is not None:
        act = get_activation(activation)
        if name is not None:
            check_record(act, name, expr, "trace")
        return act
    if name is None:
        raise ValueError("trace: meta has no activation; pass activation=")
    if expr is None:       # a name alone never stands for the function (a relabelled trace)
        raise ValueError(f"trace: meta['activation_expr'] is not recorded, and the name {name!r} "
                         "alone does not say which function the run used; pass activation= (the "
                         "activation the run was trained with)")
    return activation_from_record(name, expr, argname="trace", known=_ACTIVATIONS)


def _a_posteriori_b(tr, n, beta, out, L, cf, a0):
    """Lemma 21's ``b`` with the run's measured bounds in place of the a-priori box (depth 1, 2):
    the maxima over the run of ``||Lam_i||``, ``||[V_i; 1]||_2 <= sqrt(||V_i||^2 + n)``, the
    ``a_posteriori`` constants (``w``, ``r`` / ``w2, w3, r3, q, a1, kappa, cmax``) and the
    recorded ``W_i`` LLA curvatures (else the theory rule's value)."""
    ns = int((tr.meta or {})["n_samples"])
    nL = np.asarray(tr.normLam[:n], float)
    nV = np.asarray(tr.normV[:n], float)
    cw = getattr(tr, "curvature", None)

    def cmeas(i, fallback):
        if cw is not None and np.all(np.isfinite(np.asarray(cw)[:n, i])):
            return float(np.max(np.asarray(cw)[:n, i]))
        return fallback

    L0, L1, L2 = L
    l = [float(np.max(nL[:, i])) for i in range(nL.shape[1])]
    if len(beta) >= 4:                           # section K.5 with the measured maxima
        N = len(beta)
        cW = [cmeas(j, cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l[j] / beta[j]))) for j in range(N - 1)]
        bx = {"beta": list(beta), "box": {"l": l}, "w": out["w"], "a": out["a"], "cW": cW,
              "cmax": out["cmax"], "forms": out["forms"]}
        return D.relative_error_constant(bx, L, a0)
    if len(beta) == 2:
        b1, b2 = beta
        a1 = float(np.max(np.sqrt(nV[:, 0] ** 2 + ns)))
        cW1 = cmeas(0, cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l[0] / b1)))
        return _relative_error_G1(b1, b2, L, a0, a1, out["w"], out["r"], l[0], l[1], cW1)
    b1, b2, b3 = beta
    a2 = float(np.max(np.sqrt(nV[:, 1] ** 2 + ns)))
    bx = {"box": {"l1": l[0], "l2": l[1], "l3": l[2]}, "w2": out["w2"], "w3": out["w3"],
          "a1": out["a1"], "a2": a2, "r3": out["r3"], "q": out["q"], "kappa": out["kappa"],
          "cmax": out["cmax"], "cW1": cmeas(0, cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l[0] / b1))),
          "cW2": cmeas(1, out["cmax"])}
    return relative_error_constant_2(bx, beta, out["lam"], L, a0)


def a_posteriori(trace, sharp=True, activation=None, a0=None, X=None):
    """Certify sufficient descent of one recorded run (any depth) with its measured bounds.

    The a-priori derivation bounds the iterates by a box closed by induction (Lemma 19);
    here the box is replaced by the maxima **measured on this run**, and the remaining
    steps of the derivation (Lemma 18's linear forms, Lemma 14's coefficients) are applied
    unchanged.  The certificate holds for the recorded run from ``k = 2`` on: at every
    such step ``Lhat^{k-1} - Lhat^k >= a sum_i (||DW_i^k||^2 + ||DV_i^k||^2)`` with the
    returned ``xi`` and ``a``, *provided* the recorded quantities are exact (see
    :func:`numerical_validity` for when float64 cannot resolve them).

    Depth 1 (``n_layers = 2``): ``w = max ||W_2^k||_F >= ||Wbar_2^k||_2``,
    ``r = max (||Lam_2^k|| + beta_2 ||DV_2^k||) >= ||R^k||``; conditions (D1), (D2) with the
    weighted Cauchy-Schwarz (``sharp=True``) or the factor 3 of the original derivation.

    Depth 2 (``n_layers = 3``): ``w2, w3`` the maxima of ``||W_2||_F, ||W_3||_F``,
    ``r3 = max (||Lam_3|| + beta_3 ||DV_3||)``, ``q = max (||Lam_2|| + beta_2 ||DV_2|| +
    beta_2 L_1 w2 ||DV_1||)``, ``a1 = max sqrt(||V_1||^2 + n) >= ||[V_1; 1]||_2``, the largest
    recorded ``V_1`` LLA curvature; then the Lemma-18 forms and Lemma-14 coefficients of
    docs/conditions_derivation.md, sections B-C.

    Depth >= 3 (``n_layers >= 4``): the per-step constants of docs/conditions_derivation.md,
    K.2 step 12 (``w_i``, ``r_N``, ``q_j``, ``a_j``, ``kappa_j``, the largest recorded ``V_j``
    curvatures), each replaced by its maximum over the run, in the recursion of
    :func:`verify.deep_conditions.lemma18_forms` and the coefficients of
    :func:`verify.deep_conditions.descent_coefficients` (K.3); ``b`` from
    :func:`verify.deep_conditions.relative_error_constant` (K.5) with the same maxima.  If
    ``holds`` then at every ``k >= 2`` of the run ``Lhat^{k-1} - Lhat^k >= a P_k`` with the
    returned ``xi``, provided the recorded quantities are exact (:func:`numerical_validity`).

    Returns a dict: ``holds`` (bool: ``a > 0``), ``xi`` (array of length N, per-layer
    Lyapunov weights on ``||DV_i||^2``; None when ``beta_N <= 1``), ``margin`` (``a``, or
    None), ``reason``, the measured bounds, and ``coef`` (per-block net coefficients).
    Raises ``ValueError`` for ``n_layers < 2``.

    **Lemma 21's b, a posteriori** (``a0 = ||[X; 1]||_2`` given, or ``X``, or ``meta['a0']``):
    ``b`` from the same linear forms as the derived :func:`relative_error_constant_1` /
    :func:`relative_error_constant_2` (docs/conditions_derivation.md, section E), with the run's
    measured maxima in place of the a-priori box: ``||Lam_i||``, ``||[V_i; 1]||_2 <=
    sqrt(||V_i||^2 + n)``, the constants above and the recorded ``W_i`` LLA curvatures.  Then
    ``r_k <= b sqrt(P_k + P_{k-1})`` for every ``k >= 3`` of the run, by the derivation (not a
    fit).  Returned as ``b`` (None without ``a0``, or when the activation is unknown) with
    ``b_reason``; ``b`` does not depend on ``holds``.
    """
    res = _a_posteriori_descent(trace, sharp, activation)
    if X is not None and a0 is None:
        a0 = data_norm(X)
    tr = _as_trace_(trace)
    if a0 is None:
        a0 = (tr.meta or {}).get("a0")
    res["b"], res["a0"] = None, a0
    if a0 is None:
        res["b_reason"] = "b needs the data constant a0 = ||[X; 1]||_2 (pass a0= or X=)"
        return res
    a0 = _check_pos("a0", a0)
    if (tr.meta or {}).get("n_samples") is None:
        res["b_reason"] = "b needs meta['n_samples']"
        return res
    try:
        L = _act_constants(trace_activation(tr, activation))
    except (ValueError, TypeError) as exc:
        res["b_reason"] = f"b needs the activation's L_0, L_1, L_2 ({exc})"
        return res
    n = len(tr)
    cf = float((tr.meta or {}).get("curvature_factor", 2.0))
    res["b"], res["b_terms"] = _a_posteriori_b(tr, n, res["beta"], res, L, cf, a0)
    res["b_reason"] = "Lemma 21's forms with the run's measured bounds"
    return res


def _as_trace_(trace):
    return _as_trace(trace)


def _a_posteriori_descent(trace, sharp, activation):
    """The descent part of :func:`a_posteriori` (Lemma 18 forms, Lemma 14 coefficients)."""

    tr = _as_trace(trace)
    if tr.n_layers < 2:
        raise ValueError(f"trace: a_posteriori needs at least one hidden layer (n_layers >= 2), "
                         f"got n_layers = {tr.n_layers}")
    meta = tr.meta or {}
    if "beta" not in meta or "lam" not in meta:
        raise ValueError("trace: a_posteriori needs meta['beta'] and meta['lam'] (the run's settings)")
    N = tr.n_layers
    beta = [float(v) for v in np.broadcast_to(np.asarray(meta["beta"], float), (N,))]
    lam = float(meta["lam"])
    if N >= 4:
        return _a_posteriori_deep(tr, beta, lam, sharp, activation)
    if N == 2:
        n = _need(tr, ("normW", "normLam", "dV2"), "a_posteriori", min_len=2)
        beta1, beta2 = beta
        w = float(np.max(tr.normW[:n, 1]))
        r = float(np.max(tr.normLam[:n, 1] + beta2 * np.sqrt(tr.dV2[:n, 1])))
        out = {"w": w, "r": r, "beta": beta, "lam": lam, "sharp": bool(sharp)}
        if beta2 <= 1:
            return {**out, "holds": False, "xi": None, "margin": None,
                    "reason": f"beta_2 = {beta2:g} <= 1 violates (D2)"}
        if sharp:
            xi, a, t, _ = _one_hidden_weighted(beta1, beta2, lam, w, r)
            out["theta_e"] = t
        else:
            xi, a = descent_constants(beta1, beta2, lam, w, r)
        return {**out, "holds": bool(a > 0), "xi": np.array([0.0, xi]), "margin": float(a),
                "reason": "D1, D2 hold with the measured bounds" if a > 0 else
                "D1 or D2 fails with the measured bounds"}
    # N = 3
    n = _need(tr, ("normW", "normV", "normLam", "dV2"), "a_posteriori", min_len=2)
    b1, b2, b3 = beta
    act = trace_activation(tr, activation)
    L = _act_constants(act)
    L0, L1, L2 = L
    ns = meta.get("n_samples")
    if ns is None:
        raise ValueError("trace: a_posteriori at depth 2 needs meta['n_samples']")
    cf = float(meta.get("curvature_factor", 2.0))
    d = np.sqrt(np.asarray(tr.dV2[:n], float))
    w2 = float(np.max(tr.normW[:n, 1]))
    w3 = float(np.max(tr.normW[:n, 2]))
    r3 = float(np.max(tr.normLam[:n, 2] + b3 * d[:, 2]))
    q = float(np.max(tr.normLam[:n, 1] + b2 * d[:, 1] + b2 * L1 * w2 * d[:, 0]))
    a1 = float(np.max(np.sqrt(np.asarray(tr.normV[:n, 0], float) ** 2 + int(ns))))
    cmax = _v1_curvature_max(tr, n, b2, L, cf)
    if meta.get("curvature", "theory") != "theory":
        cmax = max(cmax, 0.0)
    kap = b2 * w2 ** 2 * (L1 ** 2 + cmax)
    out = {"w2": w2, "w3": w3, "r3": r3, "q": q, "a1": a1, "cmax": cmax, "kappa": kap,
           "beta": beta, "lam": lam, "activation": act.name, "sharp": bool(sharp)}
    if b3 <= 1:
        return {**out, "holds": False, "xi": None, "margin": None,
                "reason": f"beta_3 = {b3:g} <= 1 (the energy bound needs beta_N > 1)"}
    c1, c2 = _lemma18_forms(b2, b3, w2, w3, r3, q, a1, kap, L)
    _, xi, coef = _descent_coefficients(b1, b2, b3, lam, c1, c2)
    blocks = ("W1", "W2", "W3", "V1", "V2", "V3")
    a = min(coef[k_] for k_ in blocks)
    bad = [k_ for k_ in blocks if coef[k_] <= 0]
    return {**out, "holds": bool(a > 0), "xi": np.asarray(xi, float), "margin": float(a),
            "coef": {k_: coef[k_] for k_ in blocks},
            "reason": ("Lemma 18 forms and Lemma 14 coefficients positive with the measured "
                       "bounds" if a > 0 else
                       f"descent coefficient(s) {bad} <= 0 with the measured bounds")}


def _a_posteriori_deep(tr, beta, lam, sharp, activation):
    """:func:`a_posteriori` for ``N >= 4`` layers (docs/conditions_derivation.md, K.2-K.3 and
    section E'): the per-step constants of K.2 step 12 (:func:`_deep_step_constants`), each
    replaced by its maximum over the run (the Lemma-18 coefficients are increasing in every
    constant, so the forms with the maxima bound ``||DLam_j^k||`` at every ``k >= 2``), then
    :func:`verify.deep_conditions.lemma18_forms` and :func:`verify.deep_conditions.descent_coefficients`
    (weighted Cauchy-Schwarz; ``sharp`` is accepted for the common signature)."""
    N = tr.n_layers
    n = _need(tr, ("normW", "normV", "normLam", "dV2"), "a_posteriori", min_len=2)
    b = np.asarray(beta, float)
    d = np.sqrt(np.maximum(np.asarray(tr.dV2[:n], float), 0.0))
    nW = np.asarray(tr.normW[:n], float)
    nV = np.asarray(tr.normV[:n], float)
    nL = np.asarray(tr.normLam[:n], float)
    cur = lambda x: x                                  # noqa: E731  (maxima include every iterate)
    w, rN, q, a, kap, cmax, L = _deep_step_constants(tr, n, b, d, nW, nV, nL, cur, activation)
    mx = lambda x: None if x is None else float(np.max(x))   # noqa: E731
    w, rN, q, a, kap = ([mx(v) for v in w], mx(rN), [mx(v) for v in q], [mx(v) for v in a],
                        [mx(v) for v in kap])
    forms = D.lemma18_forms(list(b), w, rN, q, a, kap, L)
    out = {"w": w, "rN": rN, "q": q, "a": a, "kappa": kap, "cmax": list(cmax), "beta": list(beta),
           "lam": lam, "activation": trace_activation(tr, activation).name, "sharp": bool(sharp),
           "forms": forms}
    if b[-1] <= 1:
        return {**out, "holds": False, "xi": None, "margin": None,
                "reason": f"beta_{N} = {b[-1]:g} <= 1 (the energy bound needs beta_N > 1)"}
    _, xi, coef = D.descent_coefficients(list(b), lam, forms)
    blocks = D.BLOCKS(N)
    a_ = min(coef[k_] for k_ in blocks)
    bad = [k_ for k_ in blocks if coef[k_] <= 0]
    return {**out, "holds": bool(a_ > 0), "xi": np.asarray(xi, float), "margin": float(a_),
            "coef": {k_: coef[k_] for k_ in blocks},
            "reason": ("Lemma 18 forms and Lemma 14 coefficients positive with the measured "
                       "bounds" if a_ > 0 else
                       f"descent coefficient(s) {bad} <= 0 with the measured bounds")}


def _v1_curvature_max(tr, n, b2, L, cf):
    """Largest ``V_1`` LLA curvature of a depth-2 run: the recorded one, else the theory rule's
    value at the largest possible ``||B'||_max <= ||V_2|| + ||Lam_2|| / beta_2``."""
    L0, L1, L2 = L
    cv = getattr(tr, "curvature_V", None)
    if cv is not None and np.all(np.isfinite(np.asarray(cv)[:n, 0])):
        return float(np.max(np.asarray(cv)[:n, 0]))
    bp = float(np.max(tr.normV[:n, 1] + tr.normLam[:n, 1] / b2))
    return cf * (L1 ** 2 + L2 * (L0 + bp))


#: rounding-floor multiple of :func:`lemma18_steps` (the checks' ``FLOOR_MULT``)
LEMMA18_FLOOR_MULT = 1024


def lemma18_steps(trace, activation=None, floor_mult=LEMMA18_FLOOR_MULT):
    """Lemma 18 step by step on a run: ``||DLam_i^k||`` against its linear form in the primal steps.

    The single implementation of the per-step check (``verify.checks.dual_bounded_by_primal``
    calls it).  For every ``k >= 2`` and layer ``i``, ``||DLam_i^k|| <= sum_j c_j s_j`` with
    ``s`` the step norms ``e_i = ||DW_i^k||``, ``d_i = ||DV_i^k||``, ``d_i' = ||DV_i^{k-1}||``
    and coefficients ``c`` (:func:`_lemma18_forms_1`, :func:`_lemma18_forms`; derivation in
    docs/conditions_derivation.md, section B) evaluated with the constants **of the same step**
    (an inequality of the algorithm at every k, not an estimate):

    * output layer: ``||DLam_N^k|| = ||DV_N^k||`` (``Lam_N = V_N - Y``);
    * depth 1: ``w = ||W_2^k||_F >= ||Wbar_2^k||_2``, ``r = ||Lam_2^{k-1}|| + beta_2 ||DV_2^{k-1}||
      >= ||R^{k-1}||``;
    * depth 2: ``w_i = max(||W_i^k||_F, ||W_i^{k-1}||_F)``, ``r3 = ||Lam_3^{k-1}|| + beta_3 d_3'``,
      ``q = ||Lam_2^{k-1}|| + beta_2 d_2' + beta_2 L_1 w_2 d_1'``, ``a1 = sqrt(||V_1^{k-1}||^2 + n)``,
      ``kappa = beta_2 w_2^2 (L_1^2 + c_max)`` with ``c_max`` the largest recorded ``V_1``
      curvature; ``L_0, L_1, L_2`` of the run's activation (:func:`trace_activation`: built-in,
      registered or a user expression).

    * depth >= 3: the recursion of :func:`verify.deep_conditions.lemma18_forms`
      (docs/conditions_derivation.md, K.2) with the same per-step constants for every layer
      (``w_i``, ``r_N``, ``q_j``, ``a_j``, ``kappa_j`` with the largest recorded ``V_j`` curvature).

    A step violates its form when ``||DLam_i^k|| > form + floor``, with the rounding floor
    ``floor_mult eps (beta_i (2 ||V_i^k|| + 1) + ||Lam_i^k|| + ||Lam_i^{k-1}|| + 4 form)`` of the
    recorded dual step (``DLam_i = beta_i F_i``, ``F_i`` carries ``eps ||V_i||``).

    Returns a dict: ``lhs``, ``rhs``, ``floor`` (arrays ``(K, N)``, row ``k-1`` for iteration
    ``k``, row 0 NaN), ``ratio`` (``{layer (1-based): lhs/rhs over k >= 2}``), ``max_ratio``,
    ``n_violations`` (per layer), ``violations`` (boolean ``(K, N)``), ``holds``.  Raises
    ``ValueError`` for ``n_layers < 2`` and when ``meta`` lacks ``beta`` (or, at depth >= 2,
    ``n_samples``) or the activation cannot be found.  The floor's arithmetic part uses the
    trace's ``meta["eps"]`` (extended-precision runs, :mod:`solver.admm.extprec`), its storage part
    float64's ``eps`` (every recorded value is a float64).
    """
    tr = _as_trace(trace)
    N = tr.n_layers
    if N < 2:
        raise ValueError(f"trace: Lemma 18 needs at least one hidden layer (n_layers >= 2), "
                         f"got n_layers = {N}")
    n = _need(tr, ("dLam2", "dW2", "dV2", "normW", "normV", "normLam"), "lemma18_steps", min_len=2)
    meta = tr.meta or {}
    if meta.get("beta") is None:
        raise ValueError("trace: lemma18_steps needs meta['beta'] (the run's penalties)")
    b = np.broadcast_to(np.asarray(meta["beta"], float), (N,)).copy()
    e = np.sqrt(np.maximum(np.asarray(tr.dW2[:n], float), 0.0))
    d = np.sqrt(np.maximum(np.asarray(tr.dV2[:n], float), 0.0))
    lhs = np.sqrt(np.maximum(np.asarray(tr.dLam2[:n], float), 0.0) * b[None, :])
    nW = np.asarray(tr.normW[:n], float)
    nV = np.asarray(tr.normV[:n], float)
    nL = np.asarray(tr.normLam[:n], float)

    def prev(x):
        return np.concatenate([x[:1] * np.nan, x[:-1]])

    s = {"e2": e[:, 1], "d2": d[:, 1], "d2p": prev(d[:, 1])}
    if N == 2:
        forms = {1: _lemma18_forms_1(b[1], nW[:, 1], prev(nL[:, 1] + b[1] * d[:, 1]))}
    elif N >= 4:
        forms, s = _lemma18_steps_deep(tr, n, b, d, e, nW, nV, nL, prev, activation)
    else:
        ns = meta.get("n_samples")
        if ns is None:
            raise ValueError("trace: lemma18_steps at depth 2 needs meta['n_samples']")
        L = _act_constants(trace_activation(tr, activation))
        b2, b3 = b[1], b[2]
        cmax = _v1_curvature_max(tr, n, b2, L, float(meta.get("curvature_factor", 2.0)))
        w2 = np.maximum(nW[:, 1], prev(nW[:, 1]))
        w3 = np.maximum(nW[:, 2], prev(nW[:, 2]))
        r3 = prev(nL[:, 2] + b3 * d[:, 2])
        q = prev(nL[:, 1] + b2 * d[:, 1]) + b2 * L[1] * w2 * prev(d[:, 0])
        a1 = np.sqrt(prev(nV[:, 0]) ** 2 + float(ns))
        kap = b2 * w2 ** 2 * (L[1] ** 2 + cmax)
        s.update({"e3": e[:, 2], "d1": d[:, 0], "d1p": prev(d[:, 0]), "d3": d[:, 2],
                  "d3p": prev(d[:, 2])})
        c1, c2 = _lemma18_forms(b2, b3, w2, w3, r3, q, a1, kap, L)
        forms = {1: c1, 2: c2}
    rhs = np.full((n, N), np.nan)
    rhs[:, N - 1] = d[:, N - 1]
    for layer, c in forms.items():
        rhs[:, layer - 1] = sum(v * s[j] for j, v in c.items())
    rhs[0] = np.nan
    eps = float(np.finfo(float).eps)
    eps_c = float(meta.get("eps") or eps)          # the arithmetic that ran the iteration
    floor = floor_mult * (eps_c * (b[None, :] * (2 * nV + 1.0) + nL + prev(nL))
                          + eps * 4 * np.nan_to_num(rhs)
                          + (eps * (nL + prev(nL)) if eps_c < eps else 0.0))
    floor[0] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        q_ = np.where(rhs > 0, lhs / np.where(rhs > 0, rhs, 1.0), np.where(lhs > 0, np.inf, 0.0))
    viol = np.zeros((n, N), bool)
    viol[1:] = lhs[1:] > rhs[1:] + floor[1:]
    ratio = {i + 1: q_[1:, i] for i in range(N)}
    mx = {i: float(np.max(v)) if v.size else 0.0 for i, v in ratio.items()}
    nviol = {i + 1: int(viol[:, i].sum()) for i in range(N)}
    return {"lhs": lhs, "rhs": rhs, "floor": floor, "ratio": ratio, "max_ratio": mx,
            "n_violations": nviol, "violations": viol, "holds": not viol.any()}


def _lemma18_steps_deep(tr, n, b, d, e, nW, nV, nL, prev, activation):
    """Per-step Lemma-18 forms for ``N >= 4`` layers (:func:`lemma18_steps`): the constants of
    each step ``k`` (``w_i = max(||W_i^k||, ||W_i^{k-1}||)``, ``r_N = ||Lam_N^{k-1}|| + b_N d_N'``,
    ``q_j = ||Lam_j^{k-1}|| + b_j d_j' + b_j L1 w_j d_{j-1}'``, ``a_j = sqrt(||V_j^{k-1}||^2 + n)``,
    ``kappa_j = b_{j+1} w_{j+1}^2 (L1^2 + cmax_j)``) in :func:`verify.deep_conditions.lemma18_forms`."""
    N = tr.n_layers
    w, rN, q, a, kap, cmax, L = _deep_step_constants(tr, n, b, d, nW, nV, nL, prev, activation)
    forms = D.lemma18_forms(list(b), w, rN, q, a, kap, L)
    s = {}
    for i in range(N):
        s[f"e{i + 1}"] = e[:, i]
        s[f"d{i + 1}"] = d[:, i]
        s[f"d{i + 1}p"] = prev(d[:, i])
    return forms, s


def _deep_step_constants(tr, n, b, d, nW, nV, nL, prev, activation):
    """The constants of each step ``k`` of a run with ``N >= 4`` layers (docs/conditions_derivation.md,
    K.2 step 12), arrays over ``k`` (row 0 NaN where the step needs iterate ``k-1``):
    ``(w, rN, q, a, kappa, cmax, L)`` as :func:`verify.deep_conditions.lemma18_forms` takes them
    (``cmax`` floats: the largest recorded ``V_j`` curvature, else the theory rule's value)."""
    N = tr.n_layers
    meta = tr.meta or {}
    ns = meta.get("n_samples")
    if ns is None:
        raise ValueError("trace: lemma18_steps at depth >= 2 needs meta['n_samples']")
    L = _act_constants(trace_activation(tr, activation))
    L0, L1, L2 = L
    cf = float(meta.get("curvature_factor", 2.0))
    cv = getattr(tr, "curvature_V", None)
    cmax = []
    for j in range(N - 2):                       # V_{j+1} LLA, B' = V_{j+2} - Lam_{j+2}/b_{j+2}
        col = None if cv is None else np.asarray(cv)[:n, j]
        if col is not None and np.all(np.isfinite(col)):
            cmax.append(float(np.max(col)))
        else:
            bp = float(np.max(nV[:, j + 1] + nL[:, j + 1] / b[j + 1]))
            cmax.append(cf * (L1 ** 2 + L2 * (L0 + bp)))
    w = [np.maximum(nW[:, i], prev(nW[:, i])) for i in range(N)]
    rN = prev(nL[:, N - 1] + b[N - 1] * d[:, N - 1])
    q = [None] + [prev(nL[:, j] + b[j] * d[:, j]) + b[j] * L1 * w[j] * prev(d[:, j - 1])
                  for j in range(1, N - 1)]
    a = [None] + [np.sqrt(prev(nV[:, j - 1]) ** 2 + float(ns)) for j in range(1, N)]
    kap = [b[j + 1] * w[j + 1] ** 2 * (L1 ** 2 + cmax[j]) for j in range(N - 2)]
    return w, rN, q, a, kap, cmax, L


def certifies(trace, xi, a, activation=None):
    """Whether given constants ``(xi, a)`` are valid for a run by the derivation's inequalities.

    The Lemma-18 forms and Lemma-14 coefficients are evaluated with the run's measured norms
    (as in :func:`a_posteriori`), but with ``xi`` and ``a`` *given* (e.g. the a-priori
    :class:`Conditions`): depth 1 asks for a Cauchy-Schwarz split ``theta`` with
    ``c_p^2 / (theta_p beta_1) <= xi_2`` and every coefficient ``>= a``; depth 2 for
    ``xi_i >=`` the ascent on ``||DV_i^{k-1}||^2`` and every block coefficient ``>= a``.
    ``a <= 0`` never certifies.  Returns ``{"holds", "reason", "slack"}``.
    """
    tr = _as_trace(trace)
    ap = a_posteriori(tr, activation=activation)
    N = tr.n_layers
    xi = np.broadcast_to(np.asarray(xi, float), (N,))
    a = float(a)
    if not a > 0:
        return {"holds": False, "reason": f"descent constant a = {a:g} is not positive", "slack": -np.inf}
    if ap["xi"] is None:
        return {"holds": False, "reason": ap["reason"], "slack": -np.inf}
    b = ap["beta"]
    lam = ap["lam"]
    if N == 2:
        b1, b2 = b
        c = _lemma18_forms_1(b2, ap["w"], ap["r"])
        cd, cp, ce = c.get("d2", 0.0), c.get("d2p", 0.0), c.get("e2", 0.0)
        if cp > 0 and xi[1] <= 0:
            return {"holds": False, "reason": "xi_2 = 0 cannot pay the ascent on ||DV_2^{k-1}||^2",
                    "slack": -np.inf}
        tp = cp ** 2 / (xi[1] * b1) if cp > 0 else 0.0
        if tp >= 1:
            return {"holds": False, "reason": f"xi_2 = {xi[1]:.3g} too small for the measured "
                    f"ascent (needs theta_p = {tp:.3g} < 1)", "slack": -np.inf}
        te = np.linspace(0, 1 - tp, 402)[1:-1]
        td = 1 - tp - te
        gap2 = (1 + b2) / 2 - 1 / b2
        with np.errstate(divide="ignore"):
            coefs = np.minimum(lam / 2 - ce ** 2 / (te * b1), gap2 - cd ** 2 / (td * b1) - xi[1])
        slack = float(min(np.max(coefs), lam / 2, b1 / 2) - a)
    else:
        b1, b2, b3 = b
        L = _act_constants(trace_activation(tr, activation))
        c1, c2 = _lemma18_forms(b2, b3, ap["w2"], ap["w3"], ap["r3"], ap["q"], ap["a1"],
                                ap["kappa"], L)
        _, _, coef = _descent_coefficients(b1, b2, b3, lam, c1, c2, list(xi))
        slack = float(min(min(coef[k] for k in ("W1", "W2", "W3", "V1", "V2", "V3")) - a,
                          min(coef[k] for k in ("V1p", "V2p", "V3p"))))
    ok = slack >= 0
    return {"holds": bool(ok), "slack": slack,
            "reason": "the constants are valid with the measured norms" if ok else
            f"the constants fail with the measured norms (slack {slack:.3g})"}


#: Default threshold of :func:`numerical_validity` (see its docstring).
VALIDITY_THRESHOLD = 1e-5


def numerical_validity(trace=None, *, conditions=None, scale=None,
                       threshold=VALIDITY_THRESHOLD, eps=None):
    """Which layers' blocks float64 cannot resolve: ``beta_i eps ||sigma(W_i A)||`` against ``||Lam_i||``.

    Why this ratio.  The multiplier update ``Lam_i + beta_i F_i`` and the LLA target
    ``B = V_i - Lam_i / beta_i`` both form ``sigma(W_i A_{i-1}) - V_i`` (or ``V_i - ...``) in
    float64, with an absolute rounding error of about ``eps ||sigma(W_i A)||`` (``eps`` =
    2.2e-16); multiplied by ``beta_i`` it lands in ``Lam_i`` and in ``beta_i G``, the
    quantity the ``W_i`` step follows.  So

        ratio_i = beta_i * eps * ||V_i|| / ||Lam_i||

    is the relative rounding error put into ``Lam_i`` (and into the ``W_i`` step's
    gradient) **per iteration**; it accumulates over the run.  ``||V_i||`` stands for
    ``||sigma(W_i A)||`` (they agree up to the feasibility residual).  A layer is
    **flagged** when ``ratio_i > threshold``; checks on its blocks (its KKT blocks, its
    multiplier, its dual steps, the descent of ``L_beta`` they enter) are then decided on
    rounding noise and must be INCONCLUSIVE, not PASS.

    The default ``threshold = 1e-5`` is calibrated with the high-precision cross-check
    (:mod:`verify.highprec`; table in docs/conditions_derivation.md, section H): over the
    first five iterations of a depth-2 run the float64 ``||Lam_1||`` is off by about
    ``0.1-1 x ratio`` relative, ``dLam2_1`` by up to ``40 x ratio`` and, for tanh,
    ``dW2_1`` by up to ``300 x ratio``; at ``ratio = 1e-5`` every recorded quantity of the
    layer keeps about three correct digits, at ``ratio >= 1`` (the depth-2 schedules
    derived before the sharpening) none.  ``L_beta`` itself is resolved to ~1e-14 in
    every case: it cannot reveal the problem.

    Two uses:

    * ``numerical_validity(trace)``: on a recorded run; ``||V_i||`` = the largest
      ``normV[:, i]``, ``||Lam_i||`` = the median of ``normLam[:, i]`` over the second half
      of the run (a multiplier that is still zero counts as unresolved).
    * ``numerical_validity(conditions=c, scale=...)``: on a derived schedule before any run.
      ``||V_i||`` is bounded by ``L_0 sqrt(d_i n)`` (hidden) or ``||Y|| + sqrt(2 E0)`` (output);
      ``||Lam_i||`` is ``scale`` (a float or one value per layer): the expected size of the
      multipliers, by default ``sqrt(2 E0)`` (the initial residual ``||V_N^0 - Y||``, the
      size of ``Lam_N = V_N - Y``; the hidden multipliers are its back-propagated adjoints).

    ``eps``: the unit of the arithmetic that ran the iteration.  None: ``meta["eps"]`` of the
    trace (the extended-precision engine :mod:`solver.admm.extprec` records ``2^(1 - prec)``), else
    float64's ``2.2e-16``.  The threshold is on the ratio, so the resolvable ``beta_i`` scales
    with ``1/eps``: at 256 bits a layer passes up to ``beta_i ~ 1e56`` times the float64 limit.

    Returns a dict: ``flagged`` (0-based layer indices), ``ratio`` (array, one per layer),
    ``threshold``, ``v_norm``, ``lam_norm``, ``eps``, ``reason``.
    """
    threshold = _check_pos("threshold", threshold)
    eps = None if eps is None else _check_pos("eps", eps)
    if (trace is None) == (conditions is None):
        raise ValueError("trace, conditions: expected exactly one of them")
    if trace is not None:
        tr = _as_trace(trace)
        n = _need(tr, ("normV", "normLam"), "numerical_validity", min_len=1)
        meta = tr.meta or {}
        if "beta" not in meta:
            raise ValueError("trace: numerical_validity needs meta['beta']")
        if eps is None and meta.get("eps") is not None:
            eps = _check_pos("meta['eps']", meta["eps"])
        N = tr.n_layers
        beta = np.broadcast_to(np.asarray(meta["beta"], float), (N,))
        v = np.max(np.asarray(tr.normV[:n], float), axis=0)
        lam_n = np.median(np.asarray(tr.normLam[n // 2:n], float), axis=0)
        source = "measured on the run"
    else:
        c = conditions
        beta = np.asarray(c.beta, float)
        N = beta.size
        dat = getattr(c, "data", None) or {}
        E0, yn, ns, widths = (dat.get(k) for k in ("E0", "y_norm", "n", "widths"))
        if ns is None or widths is None or E0 is None or yn is None:
            raise ValueError("conditions: numerical_validity needs the data scale (E0, y_norm, n, "
                             "widths) in conditions.data; derive with derive_from_data or pass "
                             "them to derive")
        act = get_activation(c.activation)
        L0 = float(act.L(0))
        widths = tuple(int(x) for x in widths)
        if len(widths) != N - 1:
            raise ValueError(f"conditions: expected {N - 1} hidden widths, got {widths!r}")
        v = np.array([L0 * math.sqrt(d * ns) for d in widths] + [yn + math.sqrt(2 * E0)])
        if scale is None:
            lam_n = np.full(N, math.sqrt(2 * E0))
        else:
            lam_n = np.broadcast_to(np.asarray(scale, float), (N,)).copy()
            if np.any(~np.isfinite(lam_n)) or np.any(lam_n <= 0):
                raise ValueError(f"scale: expected positive multiplier sizes, got {scale!r}")
        source = "a priori (schedule)"
    if eps is None:
        eps = float(np.finfo(float).eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lam_n > 0, beta * eps * v / np.where(lam_n > 0, lam_n, 1.0), np.inf)
    flagged = [int(i) for i in np.flatnonzero(~(ratio <= threshold))]
    if flagged:
        arith = "float64" if eps == float(np.finfo(float).eps) else f"the arithmetic used (eps = {eps:.3g})"
        reason = (f"layer(s) {[i + 1 for i in flagged]} (1-based) unresolved in {arith} ({source}): "
                  f"beta_i eps ||sigma(W_i A)|| / ||Lam_i|| = "
                  f"{', '.join(f'{ratio[i]:.3g}' for i in flagged)} > {threshold:g}")
    else:
        reason = (f"every layer resolved ({source}): largest beta_i eps ||sigma(W_i A)|| / ||Lam_i|| "
                  f"= {float(np.max(ratio)):.3g} <= {threshold:g}")
    return {"flagged": flagged, "ratio": ratio, "threshold": threshold, "v_norm": v,
            "lam_norm": lam_n, "eps": eps, "reason": reason}
