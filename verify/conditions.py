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

The code follows the proof in three private modules, all exported here: ``verify._apriori``
(the a-priori derivations above and in docs/conditions_derivation.md, :func:`derive`,
:func:`derive_from_data`, :func:`schedule`, :func:`guaranteed`), ``verify._certificates``
(the a-posteriori certificates of one run: :func:`a_posteriori`, :func:`lemma18_steps`,
:func:`certifies`, :func:`numerical_validity`) and ``verify._record`` (:class:`Conditions`,
with :meth:`Conditions.covers`, the tie of the constants to a run, and the iterate box).
"""

from __future__ import annotations

# The a-priori derivation, the a-posteriori certificates of a run and the record that ties the
# constants to a run each live in their own module (docs/conditions_derivation.md follows the
# same order).  The private names imported here are re-exported as before the split: notebooks,
# tests and benchmarks read them from here (a test that replaces one patches its home module).
from ._apriori import (  # noqa: F401
    EMPIRICAL,
    _act_constants,
    _descent_coefficients,
    _lemma18_forms,
    _lemma18_forms_1,
    _one_hidden_weighted,
    _relative_error_G1,
    _search_one_hidden_sharp,
    _search_two_hidden,
    _w2_invariant,
    data_norm,
    derive,
    derive_from_data,
    descent_constants,
    guaranteed,
    initial_energy,
    one_hidden_box,
    relative_error_constant_1,
    relative_error_constant_2,
    schedule,
    two_hidden_box,
)
from ._certificates import (  # noqa: F401
    _ACTIVATIONS,
    LEMMA18_FLOOR_MULT,
    VALIDITY_THRESHOLD,
    _a_posteriori_b,
    _a_posteriori_deep,
    a_posteriori,
    certifies,
    lemma18_steps,
    numerical_validity,
    register_activation,
    trace_activation,
)
from ._record import Conditions, IterateBox

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
