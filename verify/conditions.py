r"""Parameter conditions of Theorem 4 / 7: explicit sufficient constants where derived.

Our copy of the paper lost every formula of its conditions (23), (39)-(44); what
survives is their *structure*: ``beta_i`` grows geometrically from the output
layer towards the input and ``lambda`` grows with depth.  This module

* derives, for **one hidden layer** (N = 2 layers), a complete set of explicit,
  a-priori sufficient conditions and the resulting ``xi`` and descent constant
  (below: "Derivation, N = 2"); they hold for *every* activation satisfying
  Assumption 1 (sigmoid, tanh, Gaussian CDF, arctan, user activations), because
  with one hidden layer the activation enters only through the ``W_1`` LLA step,
  which the ``curvature="theory"`` rule (factor >= 1/2) makes a majoriser;
* gives the same inequalities **a posteriori** (:func:`a_posteriori`): with the
  iterate bounds measured on a recorded run in place of the a-priori bounds, they
  certify sufficient descent with an explicit ``xi`` for that run;
* derives, for **two hidden layers** (N = 3), a-priori sufficient conditions for every
  Assumption-1 activation (through ``L_0, L_1, L_2``): :func:`two_hidden_box` closes the
  Lemma-19 induction (a box of iterate bounds invariant under the iteration), gives the
  per-layer Lyapunov weights ``xi_i`` and the descent constant ``a`` (Lemmas 14, 15, 18),
  and :func:`relative_error_constant_2` the Lemma-21 constant ``b``; the derivation is
  written out in docs/conditions_derivation.md (sections A-F);
* sharpens both (``derive(..., sharp=True)``, the default; docs/conditions_derivation.md,
  section G): an iterate-1 lemma for the paper's initial point, the exact output-layer
  identity ``F_N^k = DV_N^k / beta_N`` in the energy bound and a weighted Cauchy-Schwarz;
  ``sharp=False`` keeps the original derivation below for comparison;
* certifies a recorded run at depth 1 and 2 (:func:`a_posteriori`, :func:`certifies`,
  :func:`lemma18_steps`) and flags what float64 cannot resolve (:func:`numerical_validity`);
* for three or more hidden layers derives them too (:mod:`verify.deep_conditions`, the chain
  carried through any number of layers: docs/conditions_derivation.md, section K) when the
  data scale is given; the schedule with the theorem's structure whose ratios are
  **empirical** (chosen, not derived; see :data:`EMPIRICAL`) stays available as
  ``method="empirical"`` (and without data); its ``lam`` below the schedule's raises (never
  replaced silently).

Every :class:`Conditions` result lists, per constant, whether it is ``"derived"``
or ``"empirical"``.

Derivation, N = 2 (one hidden layer)
------------------------------------
Notation of docs/algorithm.md#notation; norms are Frobenius, ``||.||_2`` spectral;
``DX^k = X^k - X^{k-1}``; ``E0 = L_beta^0 = 1/2||V_2^0 - Y||^2 + lam/2 ||W^0||^2``
(the initial point (7) is feasible and ``Lam^0 = 0``).

*One-step progress (Lemma 15).*  Each primal block is the exact minimiser of a
strongly convex function, or (``W_1``) of a majorising quadratic model:

* ``W_2`` exact, modulus >= lam: decrease >= lam/2 ||DW_2||^2;
* ``W_1`` LLA with ``c >= l/2`` where ``l = L_1^2 + L_2 (L_0 + ||B||_max)`` bounds
  ``g''`` (docs/algorithm.md#curvature-of-the-lla-steps): decrease >= lam/2 ||DW_1||^2 + beta_1 (2c - l)/2 ||DW_1 A||^2
  >= lam/2 ||DW_1||^2;
* ``V_1`` exact (step 4), modulus >= beta_1: decrease >= beta_1/2 ||DV_1||^2;
* ``V_2`` exact, modulus 1 + beta_2: decrease >= (1+beta_2)/2 ||DV_2||^2;
* multipliers: ``L(W^k,V^k,Lam^k) - L(W^k,V^k,Lam^{k-1}) = sum_i ||DLam_i||^2/beta_i``.

*Dual expressed by primal (Lemma 8 / 18).*  From the optimality of ``V_2`` and
``V_1`` (k >= 1):  ``Lam_2^k = V_2^k - Y`` and ``Lam_1^k = Wbar_2^{kT} R^k`` with
``R^k = Lam_2^k + beta_2 DV_2^k``.  Hence for k >= 2, ``DLam_2^k = DV_2^k`` and

    ||DLam_1^k|| <= w ((1+beta_2)||DV_2^k|| + beta_2 ||DV_2^{k-1}||) + r ||DW_2^k||,

``w >= ||Wbar_2^k||_2``, ``r >= ||R^{k-1}||``; by Cauchy-Schwarz
``||DLam_1^k||^2 <= 3 (w^2 (1+beta_2)^2 ||DV_2^k||^2 + w^2 beta_2^2 ||DV_2^{k-1}||^2 + r^2 ||DW_2^k||^2)``.

*Sufficient descent (Lemma 14).*  With ``Lhat^k = L^k + xi ||DV_2^k||^2`` and
``xi = 3 w^2 beta_2^2 / beta_1``:

    Lhat^{k-1} - Lhat^k >= lam/2 ||DW_1||^2 + (lam/2 - 3 r^2/beta_1) ||DW_2||^2 + beta_1/2 ||DV_1||^2
                           + ((1+beta_2)/2 - 1/beta_2 - 3 w^2 ((1+beta_2)^2 + beta_2^2)/beta_1) ||DV_2||^2,

so descent with constant ``a = min`` of these four coefficients holds when

* (D1) ``beta_1 > 6 r^2 / lam``;
* (D2) ``beta_2 > 1`` and ``beta_1 > 3 w^2 ((1+beta_2)^2 + beta_2^2) / ((1+beta_2)/2 - 1/beta_2)``.

*Bounded iterates (Lemma 19), a priori.*  Iteration 1: the primal steps do not
increase ``L`` at ``Lam^0 = 0``, so ``||V_2^1 - Y||^2 <= 2 E0``, ``||W^1||^2 <= 2 E0/lam``,
``||DV_2^1|| <= 2 sqrt(2 E0)``, ``||Lam_1^1|| <= 2 E0 (1 + 2 beta_2)/sqrt(lam)`` and

    Lhat^1 <= E1 := E0 (1 + 2/beta_2 + 1 + 6 beta_2 (beta_2 - 1)/(1 + beta_2)^2)

under (D3), (D4) below.  Induction for k >= 2, assuming ``Lhat^j <= E1`` and
``||Lam_2^j|| <= a*`` for ``j < k``: the exact ``W_2`` step gives
``||W_2^k|| <= ||beta_2 V_2^{k-1} - Lam_2^{k-1}|| / (2 sqrt(lam beta_2))`` (since
``max_s s/(lam + beta s^2) = 1/(2 sqrt(lam beta))``), and
``beta_2 V_2 - Lam_2 = (beta_2 - 1) Lam_2 + beta_2 Y``, so

    w = max((beta_2 - 1) a* + beta_2 ||Y||, beta_2 (||Y|| + sqrt(2 E0))) / (2 sqrt(lam beta_2)),
    r = (1 + 2 beta_2) a*.

Descent at step k then gives ``Lhat^k <= E1``, and the lower bound
``L^k >= (1 - 1/beta_2)/2 ||Lam_2^k||^2 - ||Lam_1^k||^2/(2 beta_1)`` (using
``<Lam, F> + beta/2 ||F||^2 >= -||Lam||^2/(2 beta)``) with
``||Lam_1^k|| <= w ((1+beta_2)||Lam_2^k|| + beta_2 a*)`` closes the induction with

    a*^2 = E1 / (kappa (1 - b)),  kappa = (1 - 1/beta_2)/4,  b = beta_2^2/(1+beta_2)^2,

under

* (D3) ``beta_1 >= 4 w^2 (1+beta_2)^2 beta_2 / (beta_2 - 1)``;
* (D4) ``beta_1 >= 4 E0 (1 + 2 beta_2)^2 / lam`` (bounds the first dual ascent).

All four are of the form ``beta_1 >= C(beta_2, E0, ||Y||) / lam``: the input
layer's penalty must exceed the output layer's by a factor that grows as lam
shrinks, the structure of (23).  :func:`derive` picks ``beta_2`` minimising the
required ``beta_1`` and multiplies the bound by ``safety``.

These bounds were checked numerically: runs under :func:`schedule` satisfy
sufficient descent with the derived ``xi`` and at least the derived constant
(tests/test_verify_properties.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from theory import Activation, get_activation
from theory.activations import activation_from_record, check_record

from solver._validation import as_design
from solver.admm.problem import data_meta
from solver.instance import data_norm as _solver_data_norm, instance_digest

from . import deep_conditions as D
from ._trace_input import _as_trace, _need
from .integrity import data_norm_violation

__all__ = [
    "Conditions",
    "IterateBox",
    "derive",
    "schedule",
    "guaranteed",
    "a_posteriori",
    "numerical_validity",
    "VALIDITY_THRESHOLD",
    "lemma18_steps",
    "certifies",
    "register_activation",
    "trace_activation",
    "one_hidden_box",
    "two_hidden_box",
    "initial_energy",
    "data_norm",
    "EMPIRICAL",
]

#: Empirical (not derived) constants of the schedule for two or more hidden layers:
#: ``beta_i = beta_out * ratio^(N - i)``, ``lam = lam_base * lam_growth^(depth - 1)``.
EMPIRICAL = {"beta_out": 2.0, "ratio": 10.0, "lam_base": 1e-2, "lam_growth": 10.0}


@dataclass(frozen=True)
class IterateBox:
    """The derived a-priori box of Lemma 19: upper bounds on the iterate norms of every run
    under the conditions, for ``k >= k_from`` (:meth:`Conditions.box`).

    ``W``, ``V``, ``Lam``: one entry per layer ``i = 1..N`` (input to output), an upper bound on
    ``||W_i^k||_F``, ``||V_i^k||_F``, ``||Lam_i^k||_F``, or None where the derivation bounds
    nothing directly.  Depth 1: ``Lam_2 <= a*`` and ``W_2 <= w`` (the exact ``W_2`` step,
    ``||W_2^k||_F <= ||beta_2 V_2^{k-1} - Lam_2^{k-1}|| / (2 sqrt(lam beta_2))``); depth 2:
    ``Lam_i <= l_i`` and ``W_2 <= om2`` (docs/conditions_derivation.md, section D).
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

        def number(key, value):
            """``value`` as a finite float, else the reason it cannot be compared."""
            if value is None:
                return f"cannot check {key}: not recorded in the trace (meta)"
            if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
                return f"cannot check {key}: recorded as {value!r}, not a number"
            if not np.isfinite(float(value)):
                return f"cannot check {key}: recorded as {value!r}"
            return float(value)

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
        lam = number("lam", meta.get("lam"))
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
            v = number("curvature_factor", meta.get("curvature_factor"))
            if isinstance(v, str):
                return v
            if not np.isclose(v, float(self.curvature_factor)):
                return (f"curvature_factor = {v!r} != {self.curvature_factor!r} (the rule the "
                        "derivation needs)")
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
            init = number("initial lagrangian",
                          initial.get("lagrangian") if isinstance(initial, dict) else None)
            if isinstance(init, str):
                return init + " (meta['initial'])"
            if init > float(d["E0"]) * (1 + 1e-9) + 1e-12:
                return f"initial L_beta = {init:.6g} > E0 = {float(d['E0']):.6g} (the conditions' data)"

        for key in ("a0", "y_norm"):               # data scale: the bounds grow with both
            if d.get(key) is not None:
                v = number(key, meta.get(key))
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

    def box(self) -> IterateBox | None:
        """The derived a-priori iterate box (:class:`IterateBox`), or None (depth >= 3, or no
        box derived).  The stable accessor for :attr:`bounds`' box entries (``a_star``, ``w``
        at depth 1; ``box = {l1, l2, l3, om2, ...}`` at depth 2)."""
        b = self.bounds or {}
        N = len(self.beta)
        W: list[float | None] = [None] * N
        V: list[float | None] = [None] * N
        Lam: list[float | None] = [None] * N
        if self.depth == 1 and b.get("a_star") is not None:
            Lam[1] = float(b["a_star"])
            if b.get("w") is not None:
                W[1] = float(b["w"])
        elif self.depth == 2 and isinstance(b.get("box"), dict):
            bx = b["box"]
            for i, key in enumerate(("l1", "l2", "l3")):
                if bx.get(key) is not None:
                    Lam[i] = float(bx[key])
            if bx.get("om2") is not None:
                W[1] = float(bx["om2"])
        elif self.depth >= 3 and isinstance(b.get("box"), dict) and "l" in b["box"]:
            Lam = [float(v) for v in b["box"]["l"]]          # section K.4: ||Lam_j^k|| <= l_j, k >= 1
            W = [float(b["box"]["om"])] * N                   # every ||W_i^k||_F <= om
        else:
            return None
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
def _act_constants(act):
    """``(L0, L1, L2)`` of an Assumption-1 activation (certified upper bounds from theory)."""
    return float(act.L(0)), float(act.L(1)), float(act.L(2))


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
