"""The conditions record and what ties it to a run (private; exported by :mod:`verify.conditions`).

:class:`Conditions` holds the constants of one derivation (``beta``, ``lam``, ``xi``, the
descent constant ``a`` of Lemma 14, Lemma 21's ``b``) with the data and initial point they were
derived for; :meth:`Conditions.covers` says whether they apply to a recorded run (depth,
activation and its expression, penalties, ``lambda``, curvature rule, data scale, instance and
its initial point of paper eq. (7)), and :meth:`Conditions.box` gives the a-priori iterate box
of Lemma 19 (:class:`IterateBox`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory import Activation, get_activation
from theory.activations import check_record

from ._iterate1 import _act_constants, _iterate1_one_hidden, _iterate1_two_hidden
from .deep_conditions import iterate1 as deep_iterate1
from .integrity import data_norm_violation


def _number(key, value):
    """``value`` as a finite float, else the reason it cannot be compared."""
    if value is None:
        return f"cannot check {key}: not recorded in the trace (meta)"
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return f"cannot check {key}: recorded as {value!r}, not a number"
    if not np.isfinite(float(value)):
        return f"cannot check {key}: recorded as {value!r}"
    return float(value)


@dataclass(frozen=True)
class IterateBox:
    """The derived a-priori box of Lemma 19: upper bounds on the iterate norms of every run
    under the conditions, for ``k >= k_from`` (:meth:`Conditions.box`).

    ``W``, ``V``, ``Lam``: one entry per layer ``i = 1..N`` (input to output), an upper bound on
    ``||W_i^k||_F``, ``||V_i^k||_F``, ``||Lam_i^k||_F``, or None where the derivation bounds
    nothing directly.  Depth 1: ``Lam_2 <= a*`` and ``W_2 <= w`` (the exact ``W_2`` step,
    ``||W_2^k||_F <= ||beta_2 V_2^{k-1} - Lam_2^{k-1}|| / (2 sqrt(lam beta_2))``, and ``Lam_1 <=
    w (1 + 2 beta_2) a*`` from Lemma 8, ``Lam_1 = Wbar_2^T (Lam_2 + beta_2 DV_2)``); depth 2:
    ``Lam_i <= l_i`` and ``W_2 <= om2`` (docs/conditions_derivation.md, section D); section
    K.4 (``method="general"``, every depth): ``Lam_i <= l_i``, ``W_i <= om``; the output
    ``V_N <= y_norm + (the bound on Lam_N)`` where the data's ``y_norm`` is known (Lemma 8).
    """

    W: tuple
    V: tuple
    Lam: tuple
    k_from: int = 2

    def fields(self) -> dict:
        """``{"normW": W, "normV": V, "normLam": Lam}`` (the trace's field names)."""
        return {"normW": self.W, "normV": self.V, "normLam": self.Lam}


@dataclass
class Conditions:
    """Sufficient parameter conditions for one architecture (see module docstring).

    Attributes
    ----------
    depth : int            number of hidden layers (N = depth + 1 layers)
    activation : theory.Activation  the object itself (a built-in's name given here is resolved),
                           so a user activation travels to ``ADMM(**c.kwargs)`` unchanged
    beta : list of float   per layer, i = 1..N (input to output)
    lam : float
    xi : float, list or None  Lyapunov weight(s): depth 1 a float on ``||V_N^k - V_N^{k-1}||^2``;
                           depth 2 one value per layer ``[xi_1, xi_2, xi_3]`` (derived only)
    xi_layers : list or None  the per-layer weights in both cases (``[0, xi]`` for depth 1)
    b : float or None      relative-error constant of Lemma 21, ``r_k <= b sqrt(P_k + P_{k-1})``
                           (derived when ``n``, ``widths``, ``a0`` are known)
    margin : float or None descent constant ``a`` of Lemma 14 (derived only)
    bounds : dict          a-priori bounds used (``w``, ``r``, ``a_star``, ``E1``; depth 2: ``box``, ...);
                           read the iterate box through :meth:`box`, not these keys
    requirements : dict    each condition's required value (D1..D4 for beta_1)
    status : dict          constant name -> "derived" | "empirical"
    curvature, curvature_factor : the LLA curvature rule the derivation needs
    """

    depth: int
    activation: Activation
    beta: list
    lam: float
    xi: float | None = None
    margin: float | None = None
    bounds: dict = field(default_factory=dict)
    requirements: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)
    curvature: str = "theory"
    curvature_factor: float = 2.0
    xi_layers: list | None = None
    b: float | None = None
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        self.activation = get_activation(self.activation, "activation")

    @property
    def activation_name(self) -> str:
        """The activation's name (``activation`` is the :class:`theory.Activation` itself)."""
        return self.activation.name

    @property
    def a(self) -> float | None:
        """The descent constant ``a`` of Lemma 14 (same as :attr:`margin`)."""
        return self.margin

    def covers(self, trace) -> str | None:
        """``None`` when these conditions cover the run of ``trace``, else why not.

        What the constants were derived for: the depth, the activation, ``beta_1`` (a lower
        bound when :attr:`b` is None: a larger ``beta_1`` keeps ``xi`` and ``a`` valid,
        docs/conditions_derivation.md K.8; equal when ``b`` is set, since Lemma 21's ``b`` grows
        with ``beta_1``), the other hidden ``beta_i`` (equal to 1e-9 relative: a larger
        ``beta_2`` can break the box), the output ``beta_N`` and ``lambda``
        (equal to 1e-9 relative: ``xi``, ``a``, ``b`` are functions of them), the
        LLA curvature rule and factor, and the data quantities of :attr:`data` (the hidden
        ``widths`` equal; ``E0 >=`` the run's initial ``L_beta``, ``meta['initial']``; ``a0 >=``
        the run's ``meta['a0']`` and ``y_norm >=`` its ``meta['y_norm']``, recorded at fit time;
        ``n`` = the run's ``n_samples``).  A field the comparison needs that the trace does not
        record, or records as NaN/not a number, gives "cannot check <field>: ..." (never
        agreement).  A check given conditions that
        do not cover its run does not credit them (INCONCLUSIVE, with this reason).
        """
        meta = getattr(trace, "meta", None) or {}
        N = int(trace.n_layers)
        if N != int(self.depth) + 1:
            return f"depth {N - 1} != {self.depth} (the conditions' depth)"
        for step in (self._covers_activation, self._covers_penalties, self._covers_lam_and_curvature,
                     self._covers_widths, self._covers_initial_point,
                     self._covers_data_scale, self._covers_instance):
            why = step(meta, N)
            if why is not None:
                return why
        return self._covers_first_iterate(trace, meta, N)

    def _iterate1_bounds(self, beta, N):
        """The iterate-1 lemma's a-priori bounds for a run from the initial point (7) with
        ``L_beta^0 <= E0`` (docs/conditions_derivation.md G.1 / K.1), for the penalties
        ``beta`` the run used: ``{"d": [||DV_i^1||], "lam": [||Lam_i^1||], "L1": L_beta^1,
        "omega": ||W_i^0||, ||W_i^1||}``, or None (no ``E0``)."""
        d = self.data or {}
        if d.get("E0") is None:
            return None
        E0, lam, cf = float(d["E0"]), float(self.lam), float(self.curvature_factor)
        L = _act_constants(self.activation)
        b = [float(v) for v in beta]
        if N == 2 and not d.get("general"):
            it = _iterate1_one_hidden(b[0], b[1], lam, E0, L, cf)
            dd, ll = [it["d1"], it["d2"]], [it["lam1"], it["lam2"]]
        elif N == 3 and not d.get("general"):
            it = _iterate1_two_hidden(b[0], b[1], b[2], lam, E0, L, cf)
            dd = [it["d1"], it["d2"], it["d3"]]
            ll = [it["lam1"], it["omega"] * it["R3"], it["lam3"]]    # ||Lam_2^1|| <= om ||R_3^1||
        else:
            it = deep_iterate1(b, lam, E0, L, cf)
            dd, ll = list(it["d"]), list(it["lam"])
        L1 = E0 + sum(x ** 2 / bi for x, bi in zip(ll, b))
        return {"d": dd, "lam": ll, "L1": L1, "omega": float(it["omega"])}

    def _covers_first_iterate(self, trace, meta, N) -> str | None:
        """The recorded first iterate (row 1) against what every covered run satisfies.

        ``meta['initial']`` and ``meta['instance']`` are copyable strings and numbers; the
        recorded rows are what the checks read.  A run covered by these conditions starts at the
        initial point (7) with ``L_beta^0 <= E0`` (:meth:`_covers_initial_point`), so its first
        iterate obeys the iterate-1 lemma (docs/conditions_derivation.md G.1, K.1), on which the
        derivation's induction starts: ``||DV_i^1|| <= d_i``, ``||Lam_i^1|| <= l_i``, ``||W_i^1||
        <= ||W_i^0|| <= omega = sqrt(2 E0/lam)`` and ``||DW_i^1|| <= ||W_i^0||`` (at iterate 1 every
        LLA gradient vanishes: ``W_i^1 = W_i^0 beta_i c A A^T (lam I + beta_i c A A^T)^-1``),
        and ``L_beta^1 <= E0 + sum_i ||Lam_i^1||^2 / beta_i`` (the primal steps do not raise
        ``L_beta``, the dual step adds ``||Lam_i^1||^2/beta_i``; item 6 of K.1, with the recorded
        multipliers and with the lemma's bounds on them).  A row 1 that breaks one of them is not
        the first iterate of a covered run: the conditions are not credited.  The tolerance
        (1e-6 relative) covers float64 rounding of the recorded norms.  The integrity identities
        bound row 1's steps from below against ``meta['initial']`` (a copied record needs steps
        at least the distance to the copied norms); these bound them from above.  Necessary, not
        sufficient: a foreign initial point whose row 1 lands inside every bound is credited
        (docs/verify.md, round 4); ``||R_N^1||`` of the induction's start is not recorded."""
        d = self.data or {}
        if d.get("E0") is None:
            return None
        beta = np.broadcast_to(np.asarray(meta.get("beta"), float).reshape(-1), (N,))
        try:
            bd = self._iterate1_bounds(beta, N)
        except (ValueError, ArithmeticError, TypeError) as exc:
            return f"cannot check the first iterate: {exc}"
        if bd is None:
            return None
        tol = lambda v: v * (1 + 1e-6) + 1e-12    # noqa: E731

        def row1(name):
            v = getattr(trace, name, None)
            if v is None:
                return None
            a = np.asarray(v, float)
            if a.ndim == 0 or a.shape[0] < 1:
                return None
            return a[0]

        L1, lam_r, dV2, dW2, W1 = (row1(k) for k in ("lagrangian", "normLam", "dV2", "dW2", "normW"))
        # a column the trace does not record (or records no row of) contradicts nothing; the
        # checks that read it refuse its absence themselves
        nan = np.full(N, np.nan)
        lam_r, W1, dV2, dW2 = (nan if a is None else np.reshape(a, -1) for a in (lam_r, W1, dV2, dW2))
        if any(a.size != N for a in (lam_r, W1, dV2, dW2)):
            return "cannot check the first iterate: row 1 does not hold one value per layer"
        bad = [a for a in (lam_r, W1, dV2, dW2) if np.any(np.isinf(a))] + \
            ([] if L1 is None or not np.isinf(L1) else [L1])
        if bad:
            return "cannot check the first iterate: row 1 is not finite"
        L1 = np.nan if L1 is None else float(L1)
        sV, sW = np.sqrt(np.maximum(dV2, 0.0)), np.sqrt(np.maximum(dW2, 0.0))   # NaN: not recorded
        why = "the recorded first iterate contradicts the initial point the conditions cover: "
        for i in range(N):
            if lam_r[i] > tol(bd["lam"][i]):
                return why + (f"||Lam_{i + 1}^1|| = {lam_r[i]:.6g} > {bd['lam'][i]:.6g} (the "
                              "iterate-1 bound from E0)")
            if sV[i] > tol(bd["d"][i]):
                return why + (f"||V_{i + 1}^1 - V_{i + 1}^0|| = {sV[i]:.6g} > {bd['d'][i]:.6g} (the "
                              "iterate-1 bound from E0)")
            if W1[i] > tol(bd["omega"]):
                return why + (f"||W_{i + 1}^1|| = {W1[i]:.6g} > sqrt(2 E0/lam) = {bd['omega']:.6g}")
            if sW[i] > tol(bd["omega"]):
                return why + (f"||W_{i + 1}^1 - W_{i + 1}^0|| = {sW[i]:.6g} > sqrt(2 E0/lam) = "
                              f"{bd['omega']:.6g}")
        initial = meta.get("initial") if isinstance(meta.get("initial"), dict) else {}
        try:
            W0 = np.asarray(initial.get("normW"), float).reshape(-1)
        except (TypeError, ValueError):
            W0 = None
        if W0 is not None and W0.size == N and np.all(np.isfinite(W0)):
            for i in range(N):
                if W1[i] > tol(W0[i]):
                    return why + (f"||W_{i + 1}^1|| = {W1[i]:.6g} > ||W_{i + 1}^0|| = {W0[i]:.6g} "
                                  "(meta['initial']; the first W step shrinks every layer)")
                if sW[i] > tol(W0[i]):
                    return why + (f"||W_{i + 1}^1 - W_{i + 1}^0|| = {sW[i]:.6g} > ||W_{i + 1}^0|| = "
                                  f"{W0[i]:.6g} (meta['initial'])")
        rec = float(d["E0"]) + float(np.sum(lam_r ** 2 / beta))
        for bound, what in ((rec, "E0 + sum_i ||Lam_i^1||^2/beta_i (recorded multipliers)"),
                            (bd["L1"], "the iterate-1 bound E0 + sum_i l_i^2/beta_i")):
            if L1 > tol(bound):
                return why + f"L_beta^1 = {float(L1):.6g} > {bound:.6g} = {what}"
        return None

    def _covers_activation(self, meta, N) -> str | None:
        """The activation: its name and, for every activation, its stored expression."""
        # missing metadata never reads as agreement: a field the comparison needs is required
        act = meta.get("activation")
        mine = getattr(self.activation, "name", self.activation)
        if act is None:
            return "cannot check activation: not recorded in the trace (meta['activation'])"
        if str(act) != str(mine):
            return f"activation {act!r} != {mine!r}"
        # the name alone never reads as the function: a trace relabelled with a built-in's name
        # (a steep logistic recorded as "sigmoid", its expression dropped) must not be credited,
        # so the stored expression is required for built-ins too (every engine records it)
        if hasattr(self.activation, "expr"):
            stored = meta.get("activation_expr")
            if stored is None:
                return ("cannot check activation_expr: not recorded in the trace (meta['activation_expr']); "
                        "the name alone does not say which function the run used")
            try:   # the same name must also be the same function
                check_record(self.activation, act, stored, argname="trace")
            except ValueError as exc:
                return f"activation: {exc}"
        return None

    def _covers_penalties(self, meta, N) -> str | None:
        """The penalties ``beta_i``: ``beta_1`` a lower bound (equal when :attr:`b` is set), the others equal."""
        beta = meta.get("beta")
        if beta is None:
            return "cannot check beta: not recorded in the trace (meta['beta'])"
        try:
            rb = np.asarray(beta, float).reshape(-1)
        except (TypeError, ValueError):
            return f"cannot check beta: recorded as {beta!r}"
        if rb.size not in (1, N) or not np.all(np.isfinite(rb)):
            return f"cannot check beta: recorded as {beta!r} (expected {N} finite values)"
        rb = np.broadcast_to(rb, (N,))
        cb = np.asarray(self.beta, float).reshape(-1)
        if rb[0] < cb[0] * (1 - 1e-9):              # beta_1: a lower bound for xi, a (K.8)
            return f"beta_1 = {rb[0]:.6g} < {cb[0]:.6g} (the conditions' lower bound)"
        if self.b is not None and not np.isclose(rb[0], cb[0], rtol=1e-9, atol=0.0):
            return (f"beta_1 = {rb[0]:.6g} != {cb[0]:.6g}: Lemma 21's b grows with beta_1, so "
                    f"conditions carrying b cover only their own beta_1 (derive again for "
                    f"beta_1 = {rb[0]:.6g}, or use conditions without b for xi and a)")
        for i in range(1, N - 1):                  # beta_2 .. beta_{N-1}: not monotone (K.8)
            if not np.isclose(rb[i], cb[i], rtol=1e-9, atol=0.0):
                return (f"beta_{i + 1} = {rb[i]:.6g} != {cb[i]:.6g} (the constants are derived for "
                        f"this hidden penalty; only beta_1 may be larger)")
        if not np.isclose(rb[N - 1], cb[N - 1], rtol=1e-9, atol=0.0):
            return (f"beta_{N} = {rb[N - 1]:.6g} != {cb[N - 1]:.6g} (the output penalty the "
                    f"constants were derived for)")
        return None

    def _covers_lam_and_curvature(self, meta, N) -> str | None:
        """``lambda`` and the LLA curvature rule and factor the derivation needs."""
        lam = _number("lam", meta.get("lam"))
        if isinstance(lam, str):
            return lam
        if not np.isclose(lam, float(self.lam), rtol=1e-9, atol=0.0):
            return f"lambda = {lam!r} != {self.lam:.6g} (the conditions' value)"
        if self.curvature is not None:
            v = meta.get("curvature")
            if v is None:
                return "cannot check curvature: not recorded in the trace (meta['curvature'])"
            if str(v) != str(self.curvature):
                return f"curvature = {v!r} != {self.curvature!r} (the rule the derivation needs)"
        if self.curvature_factor is not None:
            v = _number("curvature_factor", meta.get("curvature_factor"))
            if isinstance(v, str):
                return v
            if not np.isclose(v, float(self.curvature_factor)):
                return (f"curvature_factor = {v!r} != {self.curvature_factor!r} (the rule the "
                        "derivation needs)")
        return None

    def _covers_widths(self, meta, N) -> str | None:
        """The hidden widths (Lemma 21's ``b`` grows with them)."""
        d = self.data or {}
        if d.get("widths") is not None:            # b grows with the hidden widths (Lemma 21)
            w = meta.get("widths")
            if w is None:
                return "cannot check widths: not recorded in the trace (meta['widths'])"
            # the run's widths (d_0, ..., d_N): N + 1 positive integers, not strings or fractions
            if not isinstance(w, (list, tuple)) or len(w) != N + 1 or not all(
                    isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 1 for x in w):
                return f"cannot check widths: recorded as {w!r} (expected {N + 1} positive integers)"
            run = [int(x) for x in w]
            mine_w = [int(x) for x in np.asarray(d["widths"]).reshape(-1)]
            if len(mine_w) != len(run):            # the conditions record the hidden widths
                run = run[1:-1]
            if run != mine_w:
                return f"hidden widths {run} != {mine_w} (the conditions' data)"
        return None

    def _covers_initial_point(self, meta, N) -> str | None:
        """The start at the initial point of paper eq. (7), with ``L_beta^0 <= E0``."""
        d = self.data or {}
        if d.get("E0") is not None:
            initial = meta.get("initial")
            # E0 is L_beta at the initial point of paper eq. (7): Lam^0 = 0 and every constraint
            # met, so the run must start there (no multiplier, no penalty, no dual term)
            if isinstance(initial, dict):
                nl = initial.get("normLam")
                try:
                    nl_ok = nl is not None and np.all(np.asarray(nl, float) == 0.0)
                except (TypeError, ValueError):
                    nl_ok = False
                pen, L0 = initial.get("penalty"), initial.get("lagrangian")
                # F^0 is zero up to the rounding of two evaluations of sigma (the forward pass
                # and the residual): penalty^0 ~ beta (eps ||V||)^2, far below 1e-12 L_beta^0
                pen_ok = isinstance(pen, (int, float)) and isinstance(L0, (int, float)) \
                    and 0.0 <= pen <= 1e-12 * abs(L0) + 1e-300
                if not nl_ok or not pen_ok or initial.get("dual") != 0.0:
                    return ("initial: the run did not start at the initial point of paper eq. (7) "
                            f"(||Lam^0|| = {nl!r}, penalty {initial.get('penalty')!r}, dual "
                            f"{initial.get('dual')!r}; all zero there), for which E0 is derived")
            init = _number("initial lagrangian",
                           initial.get("lagrangian") if isinstance(initial, dict) else None)
            if isinstance(init, str):
                return init + " (meta['initial'])"
            if init > float(d["E0"]) * (1 + 1e-9) + 1e-12:
                return f"initial L_beta = {init:.6g} > E0 = {float(d['E0']):.6g} (the conditions' data)"
        return None

    def _covers_data_scale(self, meta, N) -> str | None:
        """The data scale ``a0``, ``y_norm`` and the number of samples ``n``."""
        d = self.data or {}
        for key in ("a0", "y_norm"):               # data scale: the bounds grow with both
            if d.get(key) is not None:
                v = _number(key, meta.get(key))
                if isinstance(v, str):
                    return v
                why = data_norm_violation(meta) if key == "a0" else (
                    None if v >= 0 else f"meta['y_norm'] = {v!r}: impossible for a norm")
                if why is not None:
                    return f"cannot check {key}: {why}"
                if v > float(d[key]) * (1 + 1e-9):
                    return f"{key} = {v:.6g} > {float(d[key]):.6g} (the conditions' data)"
        if d.get("n") is not None:
            n = meta.get("n_samples")
            if n is None or isinstance(n, (bool, str)) or not isinstance(n, (int, np.integer)):
                return (f"cannot check n: n_samples recorded as {n!r}" if n is not None
                        else "cannot check n: not recorded in the trace (meta['n_samples'])")
            if int(n) != int(d["n"]):
                return f"n = {n} != {d['n']} (the conditions' data)"
        return None

    def _covers_instance(self, meta, N) -> str | None:
        """The instance (data and initial weights) the conditions were derived from."""
        d = self.data or {}
        if d.get("instance") is not None:          # conditions derived for one instance
            inst = meta.get("instance")
            if inst is None:
                return ("cannot check instance: not recorded in the trace (meta['instance']); the "
                        "conditions were derived for one data set and initial point")
            if inst != d["instance"]:
                return ("instance: the run's data or initial weights are not those the conditions "
                        "were derived from (meta['instance'] differs)")
            mine_i: dict = d.get("initial") or {}
            run_i: dict = meta["initial"] if isinstance(meta.get("initial"), dict) else {}
            for key in ("normW", "normV", "loss", "reg"):
                if key not in mine_i:
                    continue
                try:
                    a_, b_ = np.asarray(run_i.get(key), float).reshape(-1), np.asarray(mine_i[key], float).reshape(-1)
                    same = a_.shape == b_.shape and bool(np.allclose(a_, b_, rtol=1e-9, atol=1e-300))
                except (TypeError, ValueError):
                    same = False
                if not same:
                    return (f"initial {key} = {run_i.get(key)!r} != {mine_i[key]!r}: not the initial "
                            "point of the instance the conditions were derived for (paper eq. 7)")
            init = run_i.get("lagrangian")
            if d.get("E0") is not None and not (isinstance(init, (int, float)) and np.isclose(
                    float(init), float(d["E0"]), rtol=1e-9, atol=1e-300)):
                return (f"initial L_beta = {init!r} != E0 = {float(d['E0'])!r}: the same instance "
                        "starts at the same point (paper eq. 7; meta['initial'] edited?)")
        return None

    def box(self, lemma8: bool = False) -> IterateBox | None:
        """The derived a-priori iterate box (:class:`IterateBox`), or None (no box derived).
        The stable accessor for :attr:`bounds`' box entries (``a_star``, ``w`` at depth 1;
        ``box = {l1, l2, l3, om2, ...}`` at depth 2; section K.4's ``box = {l, om, ...}`` of
        ``method="general"`` at every depth).  ``lemma8=True`` (what :func:`bounded_iterates`
        reads) adds what Lemma 8 derives from the box: ``||V_N|| <= y_norm + (the box on
        ||Lam_N||)`` where the conditions record the data's ``y_norm`` (``Lam_N^k = V_N^k -
        Y``), and at depth 1 ``||Lam_1|| <= w (1 + 2 beta_2) a*``."""
        b = self.bounds or {}
        N = len(self.beta)
        W: list[float | None] = [None] * N
        V: list[float | None] = [None] * N
        Lam: list[float | None] = [None] * N
        general = isinstance(b.get("box"), dict) and "l" in b["box"] and "om" in b["box"]
        if self.depth == 1 and b.get("a_star") is not None and not general:
            Lam[1] = float(b["a_star"])
            if b.get("w") is not None:
                W[1] = float(b["w"])
                if lemma8:
                    # Lemma 8 (V_1 exact): Lam_1^k = Wbar_2^kT (Lam_2^k + beta_2 DV_2^k), DV_2 =
                    # DLam_2 (Lam_2 = V_2 - Y): ||Lam_1^k|| <= w (1 + 2 beta_2) a*
                    Lam[0] = float(b["w"]) * (1.0 + 2.0 * float(self.beta[1])) * float(b["a_star"])
        elif self.depth == 2 and isinstance(b.get("box"), dict) and not general:
            bx = b["box"]
            for i, key in enumerate(("l1", "l2", "l3")):
                if bx.get(key) is not None:
                    Lam[i] = float(bx[key])
            if bx.get("om2") is not None:
                W[1] = float(bx["om2"])
        elif general:       # section K.4 (every depth with method="general"): ||Lam_j^k|| <= l_j
            Lam = [float(v) for v in b["box"]["l"]]
            W = [float(b["box"]["om"])] * N                   # every ||W_i^k||_F <= om
        else:
            return None
        y_norm, lam_N = (self.data or {}).get("y_norm"), Lam[N - 1]
        if lemma8 and y_norm is not None and lam_N is not None:
            # Lemma 8 (output): Lam_N^k = V_N^k - Y for k >= 1 (optimality of the V_N step), so
            # ||V_N^k|| <= ||Y|| + ||Lam_N^k|| <= y_norm + (the box on Lam_N)
            V[N - 1] = float(y_norm) + float(lam_N)
        return IterateBox(W=tuple(W), V=tuple(V), Lam=tuple(Lam), k_from=2)

    @property
    def derived(self) -> bool:
        """True when every constant is derived (no empirical choice involved)."""
        return all(v.startswith("derived") for v in self.status.values())

    @property
    def kwargs(self) -> dict:
        """Keyword arguments for ``solver.ADMM`` (the activation as the object, not its name)."""
        return {"beta": [float(b) for b in self.beta], "lam": float(self.lam),
                "curvature": self.curvature, "curvature_factor": float(self.curvature_factor),
                "activation": self.activation}

    def __str__(self):
        lines = [f"Conditions(depth={self.depth}, activation={self.activation.name!r}"
                 + ("" if self.activation.builtin else f" = {self.activation.expr}")
                 + ")",
                 f"  beta (input -> output) = {[f'{b:.4g}' for b in self.beta]}",
                 f"  lam = {self.lam:.4g}, curvature = {self.curvature} x {self.curvature_factor}"]
        if self.xi_layers is not None:
            lines.append(f"  xi (per layer) = {[f'{v:.4g}' for v in self.xi_layers]}, "
                         f"descent constant a = {self.margin:.4g}"
                         + (f", relative-error constant b = {self.b:.4g}" if self.b else ""))
        for k, v in self.status.items():
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)
