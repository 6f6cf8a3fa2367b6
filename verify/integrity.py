"""Trace integrity: a trace is checked before any check believes it.

Every check of :mod:`verify.checks` (and of the related methods' modules) and ``sigadmm
verify`` run :func:`validate_trace` first.  It states the identities that the recorded fields
of a schema satisfy by their definitions (``solver/trace.py``) and by the algorithm's own
steps, and refuses a trace that breaks one with a :class:`TraceIntegrityError` naming the
field, the iteration and the size of the violation.

The identities of the sigmoid-ADMM trace (``N`` layers, ``beta_i``, ``lambda`` from ``meta``):

=================  ==============================================================  =========
identity           statement at every recorded iteration ``k``                     kind
=================  ==============================================================  =========
lagrangian_parts   ``L_beta = loss + reg + dual + penalty``                        definition
reg_norms          ``reg = lambda/2 sum_i ||W_i||^2``                              definition
penalty_feas       ``penalty = sum_i beta_i/2 ||F_i||^2``                          definition
dual_cauchy        ``|dual| <= sum_i ||Lam_i|| ||F_i||``                           Cauchy-Schwarz
dual_step          ``dLam2_i = beta_i ||F_i||^2`` (``Lam^k - Lam^{k-1} = beta F^k``)  step 6
kkt_total_blocks   ``kkt_total^2 = sum kkt^2 + sum_i ||F_i||^2``                   definition
output_multiplier  ``| ||Lam_N|| - sqrt(2 loss) | <= kkt[V_N]`` (= ||V_N - Y - Lam_N||)  triangle
step_W / V / Lam   ``| ||X^k|| - ||X^{k-1}|| | <= ||X^k - X^{k-1}||`` for X = W_i, V_i,
                   Lam_i (``||DLam_i|| = sqrt(beta_i dLam2_i)``); at ``k = 1`` from   triangle
                   the initial point ``meta['initial']`` when the trace records it
hidden_bounded     ``||V_i|| <= ||F_i|| + sup|sigma| sqrt(n d_i)``, i < N         bounded act.
nonnegative        norms, squared norms, loss, reg, penalty, MSE are ``>= 0``        definition
time_order         ``time`` does not decrease                                       definition
finite             no inf anywhere; a column is either recorded (finite) at every   --
                   row or not recorded (NaN at every row)
y_norm_triangle    ``| ||V_N|| - meta['y_norm'] | <= sqrt(2 loss)``                  triangle
columns            the schema's :data:`REQUIRED_COLUMNS` recorded (not absent/all-NaN) --
meta               every key a check reads: type, finiteness, range, consistency with  --
                   the arrays (:func:`_meta_fields`); ``eps`` the engine's unit; the
                   keys the solver always writes present in a solver trace
=================  ==============================================================  =========

If a trace passes :func:`validate_trace`, then every required column is recorded at every row
(no identity is switched off by dropping one), every ``meta`` value a check reads has its type
and range and agrees with the arrays where an identity ties them, and ``meta['eps']`` is the
machine epsilon of the arithmetic the engine names (the numerical-validity guard cannot be
switched off by meta).  Not implied: meta that no array ties (``status`` among the valid
names, ``y_norm`` inside its triangle interval, ``curvature`` relabelled ``"reference"``), or a
hand-built trace without the solver's marks (``fingerprint``, ``engine_used``, ``instance``).

Tolerance.  An equality ``x = y`` holds to ``|x - y| <= INTEGRITY_MULT * eps * size`` and an
inequality ``x <= y`` to ``x <= y + INTEGRITY_MULT * eps * size``, ``size`` the sum of the
absolute values of the terms (``eps`` = float64 machine epsilon).  ``INTEGRITY_MULT`` is
calibrated (docs/verify.md, "Trace integrity"; ``benchmarks/calibrate_integrity.py``): the
largest violation over real runs of every activation, depth 1-3 and several seeds is a few
``eps`` times the size, the smallest violation of any doctored class is orders of magnitude
above ``INTEGRITY_MULT`` eps.

A run that stopped on a non-finite iterate is not a corrupt trace: the solver keeps the last
finite iterate and records ``meta['status'] = 'non_finite'``; the checks then refuse to PASS
(:func:`run_stopped_badly`).  A trace holding NaN or inf values in recorded columns is corrupt.
"""

from __future__ import annotations

import math

import numpy as np

from solver.admm.steps import CURVATURE_RULES
from solver.core import Status
from solver.trace import Trace

__all__ = ["TraceIntegrityError", "validate_trace", "integrity_report", "INTEGRITY_MULT",
           "run_stopped_badly", "IDENTITIES"]

#: tolerance of every identity, in units of ``eps`` times the size of its terms (calibrated:
#: real runs stay below ~10, the doctored classes violate by >= 1e6; docs/verify.md)
INTEGRITY_MULT = 256.0
_EPS = float(np.finfo(float).eps)
_TINY = 1e-300


class TraceIntegrityError(ValueError):
    """A trace whose recorded fields contradict each other (or are not finite).

    Attributes: ``field`` (the field, or ``"meta"``), ``row`` (the iteration ``k``, 1-based,
    where the first violation is; ``None`` when it is not one row's), ``violation`` (its size,
    in the field's units; ``inf`` for a non-finite value), ``identity`` (the name of the
    broken identity), ``tolerance`` (what was allowed at that row).
    """

    def __init__(self, field, row, violation, message, identity=None, tolerance=None):
        self.field = field
        self.row = row
        self.violation = float(violation)
        self.identity = identity
        self.tolerance = None if tolerance is None else float(tolerance)
        where = f"field {field!r}" + (f" at iteration k={row}" if row is not None else "")
        super().__init__(f"trace integrity: {where}: {message}")


# ------------------------------------------------------------------ schema facts
#: fields that are norms, squared norms or halves of squared norms (>= 0), per schema
_NONNEG = {
    "admm": ("loss", "reg", "penalty", "kkt_total", "dW2", "dV2", "dLam2", "feas", "normW",
             "normV", "normLam", "kkt", "train_mse", "test_mse"),
    "dladmm": ("penalty_out", "penalty_hidden", "du2", "res_out", "res_lin", "res_act", "normu",
               "step_sum", "dW2_bwd", "dW2_fwd", "db2_bwd", "db2_fwd", "dz2_bwd", "dz2_fwd",
               "da2_bwd", "da2_fwd", "train_mse", "test_mse"),
    "lifted_bcd": ("loss", "coupling", "reg", "stationarity", "natural_residual", "move_U",
                   "move_W", "pg_U", "comp_U", "grad_W", "lift_gap", "relu_gap", "norm_U",
                   "norm_W", "train_mse", "test_mse"),
    "inexact_alm": ("loss", "group", "comp_pen", "rho", "kkt_stat", "kkt_viol", "kkt_comp",
                    "kkt_total", "viol_eq", "normW", "train_mse", "test_mse"),
}
#: fields whose documented meaning allows NaN at some rows only (not "not recorded")
_PARTIAL_NAN = {"dladmm": ("dual_opt",), "lifted_bcd": ("inner_mu",)}

#: the identities each schema states (name -> short statement), for reports and docs
IDENTITIES = {
    "admm": {
        "lagrangian_parts": "lagrangian = loss + reg + dual + penalty",
        "reg_norms": "reg = lam/2 sum_i normW_i^2",
        "penalty_feas": "penalty = sum_i beta_i/2 feas_i^2",
        "dual_cauchy": "|dual| <= sum_i normLam_i feas_i",
        "dual_step": "dLam2_i = beta_i feas_i^2",
        "kkt_total_blocks": "kkt_total^2 = sum kkt^2 + sum feas^2",
        "output_multiplier": "| normLam_N - sqrt(2 loss) | <= kkt[V_N]",
        "hidden_bounded": "normV_i <= feas_i + sup|sigma| sqrt(n d_i), i < N",
        "step_W": "| normW^k - normW^(k-1) | <= sqrt(dW2^k)",
        "step_V": "| normV^k - normV^(k-1) | <= sqrt(dV2^k)",
        "step_Lam": "| normLam^k - normLam^(k-1) | <= sqrt(beta dLam2^k)",
    },
    "dladmm": {
        "lagrangian_parts": "lagrangian = loss + dual + penalty_out + penalty_hidden",
        "lagrangian_bwd_parts": "lagrangian_bwd = loss_bwd + dual_bwd + penalty_out_bwd + penalty_hidden_bwd",
        "penalty_out_res": "penalty_out = rho/2 res_out^2",
        "dual_cauchy": "|dual| <= normu res_out",
        "step_sum_parts": "step_sum = sum of the recorded half-steps",
        "res_out_column": "res_lin[:, L] = res_out",
    },
    "lifted_bcd": {
        "objective_parts": "objective = loss + coupling + reg",
        "objective_chain": "objective_start^k = objective^(k-1)",
        "stationarity_blocks": "stationarity^2 = sum pg_U^2 + sum grad_W^2",
        "natural_residual_blocks": "natural_residual^2 = sum comp_U^2 + sum grad_W^2",
    },
    "inexact_alm": {
        "objective_parts": "objective = loss + group + comp_pen",
        "kkt_total_blocks": "kkt_total^2 = kkt_stat^2 + kkt_viol^2 + kkt_comp^2",
    },
}


def _arr(tr, name, n):
    a = getattr(tr, name, None) if name in tr.schema else None
    if a is None:
        return None
    a = np.asarray(a, float)[:n]
    if a.size and np.all(np.isnan(a)):
        return None                               # not recorded
    return a


def _meta_beta(tr):
    beta = (tr.meta or {}).get("beta")
    if beta is None:
        return None
    b = np.asarray(beta, float).reshape(-1)
    N = tr.n_layers
    if b.size == 1:
        b = np.full(N, float(b[0]))
    if b.size != N or not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise TraceIntegrityError("meta", None, math.inf,
                                  f"meta['beta'] = {beta!r}: expected {N} positive finite "
                                  f"penalties (one per layer)", identity="meta")
    return b


def _meta_lam(tr):
    lam = (tr.meta or {}).get("lam")
    if lam is None:
        return None
    try:
        v = float(lam)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v >= 0):
        raise TraceIntegrityError("meta", None, math.inf,
                                  f"meta['lam'] = {lam!r}: expected a finite number >= 0",
                                  identity="meta")
    return v


# ------------------------------------------------------------------ identities
class _Report:
    """Collects, per identity, the largest violation in units of eps x size."""

    def __init__(self, mult):
        self.mult = mult
        self.worst = {}
        self.first = None                         # the first identity broken beyond mult

    def _note(self, name, field, viol, size, what):
        viol = np.asarray(viol, float)
        size = np.maximum(np.asarray(size, float), _TINY)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            units = np.where(viol > 0, viol / (_EPS * size), 0.0)
        units = np.where(np.isnan(units), np.inf, units)
        flat = units.reshape(units.shape[0], -1).max(axis=1) if units.ndim > 1 else units
        if flat.size == 0:
            return
        j = int(np.argmax(flat))
        worst = float(flat[j])
        prev = self.worst.get(name)
        if prev is None or worst > prev[0]:
            self.worst[name] = (worst, j + 1)
        bad = flat > self.mult
        if bad.any() and self.first is None:
            jb = int(np.argmax(bad))
            vb = viol.reshape(viol.shape[0], -1)[jb] if viol.ndim > 1 else viol[jb:jb + 1]
            sb = size.reshape(size.shape[0], -1)[jb] if size.ndim > 1 else size[jb:jb + 1]
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                col = int(np.argmax(np.where(vb > 0, vb / sb, 0)))
            self.first = TraceIntegrityError(
                field, jb + 1, float(vb[col]),
                f"{what} is broken by {float(vb[col]):.3g} = {float(flat[jb]):.3g} eps x the size "
                f"of its terms ({float(sb[col]):.3g}); tolerance {self.mult:g} eps x size"
                + (f" (layer/block {col + 1})" if viol.ndim > 1 else "")
                + (f"; {int(bad.sum())} rows break it" if bad.sum() > 1 else ""),
                identity=name, tolerance=self.mult * _EPS * float(sb[col]))

    def eq(self, name, field, x, y, size, what):
        self._note(name, field, np.abs(np.asarray(x) - np.asarray(y)), size, what)

    def le(self, name, field, x, y, size, what):
        self._note(name, field, np.asarray(x) - np.asarray(y), size, what)


def _finite(tr, n):
    """No inf; per column, every row recorded (finite) or none (NaN)."""
    partial = _PARTIAL_NAN.get(tr.schema.name, ())
    for f in tr.schema.fields:
        a = getattr(tr, f.name, None)
        if a is None:
            continue
        a = np.asarray(a, float)[:n]
        if a.shape[0] < n:
            raise TraceIntegrityError(f.name, None, math.inf,
                                      f"has {a.shape[0]} rows, expected {n}", identity="finite")
        inf = np.isinf(a)
        if inf.any():
            j = int(np.argwhere(inf)[0][0])
            raise TraceIntegrityError(f.name, j + 1, math.inf,
                                      "is not finite (inf); a trace holds finite values or NaN "
                                      "for 'not recorded'", identity="finite")
        if f.name in partial or a.size == 0:
            continue
        nan = np.isnan(a).reshape(n, -1)
        mixed = nan.any(axis=0) & ~nan.all(axis=0)
        if mixed.any():
            c = int(np.argmax(mixed))
            j = int(np.argmax(nan[:, c]))
            raise TraceIntegrityError(
                f.name, j + 1, math.inf,
                "is not finite (NaN) at some rows only: a recorded column must be finite at "
                "every iteration (the solver stops at the last finite iterate: a run that "
                "diverged ends there, with meta['status'] = 'non_finite')", identity="finite")


def _nonneg(rep, tr, n):
    for name in _NONNEG.get(tr.schema.name, ()):
        a = _arr(tr, name, n)
        if a is None:
            continue
        neg = np.where(np.isnan(a), 0.0, -a)
        rep.le("nonnegative", name, neg, 0.0, np.zeros_like(a) + _TINY,
               f"{name} >= 0 (a norm or squared norm)")
    t = _arr(tr, "time", n)
    if t is not None and n > 1:
        rep.le("time_order", "time", t[:-1] - t[1:], 0.0, np.abs(t[1:]) + np.abs(t[:-1]),
               "time does not decrease")


def _admm(rep, tr, n):
    N = tr.n_layers
    beta, lam = _meta_beta(tr), _meta_lam(tr)
    g = {f: _arr(tr, f, n) for f in ("lagrangian", "loss", "reg", "dual", "penalty", "kkt_total",
                                     "dW2", "dV2", "dLam2", "feas", "normW", "normV", "normLam",
                                     "kkt")}
    L, loss, reg, dual, pen = (g[f] for f in ("lagrangian", "loss", "reg", "dual", "penalty"))
    if all(v is not None for v in (L, loss, reg, dual, pen)):
        rep.eq("lagrangian_parts", "lagrangian", L, loss + reg + dual + pen,
               np.abs(loss) + np.abs(reg) + np.abs(dual) + np.abs(pen) + np.abs(L),
               "L_beta = loss + reg + dual + penalty")
    nW, nV, nL, F = g["normW"], g["normV"], g["normLam"], g["feas"]
    if reg is not None and nW is not None and lam is not None:
        r2 = 0.5 * lam * (nW ** 2).sum(axis=1)
        rep.eq("reg_norms", "reg", reg, r2, np.abs(reg) + r2, "reg = lambda/2 sum_i ||W_i||^2")
    if pen is not None and F is not None and beta is not None:
        p2 = 0.5 * (beta * F ** 2).sum(axis=1)
        rep.eq("penalty_feas", "penalty", pen, p2, np.abs(pen) + p2,
               "penalty = sum_i beta_i/2 ||F_i||^2")
    if dual is not None and nL is not None and F is not None:
        cs = (nL * F).sum(axis=1)
        rep.le("dual_cauchy", "dual", np.abs(dual), cs, np.abs(dual) + cs,
               "|<Lam, F>| <= sum_i ||Lam_i|| ||F_i|| (Cauchy-Schwarz)")
    if g["dLam2"] is not None and F is not None and beta is not None:
        bf = beta * F ** 2
        size = np.abs(g["dLam2"]) + bf
        if nL is not None:
            # float64 forms Lam^k - Lam^(k-1) from the two multipliers, each entry to eps times
            # their size, so dLam2 = ||DLam||^2 / beta_i carries 2 ||DLam|| (||Lam^k|| +
            # ||Lam^(k-1)||) eps / beta_i: the reference engine's derived runs (beta_1 ~ 500,
            # ||Lam|| >> ||DLam||) reach 356 eps x (|dLam2| + beta F^2) on good runs
            nL0 = ((tr.meta or {}).get("initial") or {}).get("normLam")
            first = np.asarray(nL0, float).reshape(1, -1) if nL0 is not None and \
                np.size(nL0) == N else nL[:1]
            nLp = np.vstack([first, nL[:-1]])
            size = size + 2 * np.sqrt(np.abs(g["dLam2"]) / beta) * (nL + nLp)
        rep.eq("dual_step", "dLam2", g["dLam2"], bf, size,
               "dLam2_i = ||Lam_i^k - Lam_i^(k-1)||^2 / beta_i = beta_i ||F_i^k||^2 (step 6)")
    kt, kb = g["kkt_total"], g["kkt"]
    if kt is not None and kb is not None and F is not None:
        s2 = (kb ** 2).sum(axis=1) + (F ** 2).sum(axis=1)
        rep.eq("kkt_total_blocks", "kkt_total", kt ** 2, s2, kt ** 2 + s2,
               "kkt_total^2 = sum kkt^2 + sum ||F_i||^2")
    if kb is not None and nL is not None and loss is not None and kb.shape[1] == 2 * N:
        e = np.sqrt(np.maximum(2.0 * loss, 0.0))
        size = nL[:, -1] + 2 * e + (2 * nV[:, -1] if nV is not None else 0.0)
        rep.le("output_multiplier", "normLam", np.abs(nL[:, -1] - e), kb[:, 2 * N - 1], size,
               "| ||Lam_N|| - ||V_N - Y|| | <= ||V_N - Y - Lam_N|| (triangle inequality, "
               "kkt[V_N] against sqrt(2 loss))")
    yn = (tr.meta or {}).get("y_norm")
    if yn is not None and nV is not None and loss is not None:
        # | ||V_N|| - ||Y|| | <= ||V_N - Y|| = sqrt(2 loss) (triangle inequality): meta['y_norm']
        # is the data's ||Y||_F, tied to every row (an edited y_norm, which Conditions.covers
        # compares, shows)
        e = np.sqrt(np.maximum(2.0 * loss, 0.0))
        rep.le("y_norm_triangle", "normV", np.abs(nV[:, -1] - float(yn)), e,
               nV[:, -1] + float(yn) + e,
               "| ||V_N|| - ||Y|| | <= ||V_N - Y|| = sqrt(2 loss) (meta['y_norm'] against normV_N "
               "and loss)")
    # a bounded activation bounds what a hidden V_i equals up to F_i:
    # ||V_i|| <= ||F_i|| + ||sigma(W_i A)|| <= ||F_i|| + sup|sigma| sqrt(n d_i)
    meta = tr.meta or {}
    sup = _SUP_ACT.get(str(meta.get("activation")))
    widths, n_s = meta.get("widths"), meta.get("n_samples")
    if sup is not None and nV is not None and F is not None and widths is not None \
            and n_s is not None and len(widths) == N + 1 and N > 1:
        S = sup * np.sqrt(float(n_s) * np.asarray(widths[1:N], float))
        rep.le("hidden_bounded", "normV", nV[:, :N - 1], F[:, :N - 1] + S[None, :],
               nV[:, :N - 1] + F[:, :N - 1] + S[None, :],
               "||V_i|| <= ||F_i|| + sup|sigma| sqrt(n d_i) (V_i = sigma(W_i A) - F_i, a "
               "bounded activation)")
    init = meta.get("initial") or {}
    _check_initial_parts(init)
    _check_initial_point(init, lam, N, beta)
    _check_data_norm(meta)
    # _check_initial_parts has refused an incomplete record or a non-finite part, so a recorded
    # initial loss is a finite number here
    if loss is not None and len(loss) and g["dV2"] is not None and isinstance(init, dict) and "loss" in init:
        # | ||V_N^1 - Y|| - ||V_N^0 - Y|| | <= ||V_N^1 - V_N^0|| (triangle inequality): row 1's loss
        # ties the initial record's, so an edited initial loss (a smaller L_beta^0 for
        # Conditions.covers' E0) shows
        e1, e0 = math.sqrt(max(2.0 * float(loss[0]), 0.0)), math.sqrt(max(2.0 * float(init["loss"]), 0.0))
        dv = math.sqrt(max(float(g["dV2"][0, -1]), 0.0))
        rep.le("loss_step", "loss", np.array([abs(e1 - e0) - dv] + [0.0] * (len(loss) - 1)), 0.0,
               np.full(len(loss), e1 + e0 + dv),
               "| ||V_N^1 - Y|| - ||V_N^0 - Y|| | <= ||V_N^1 - V_N^0|| (sqrt(2 loss) at row 1 "
               "against the recorded initial point's, and sqrt(dV2_N))")
    steps = [("step_W", "normW", nW, g["dW2"], None), ("step_V", "normV", nV, g["dV2"], None)]
    if beta is not None and g["dLam2"] is not None:
        steps.append(("step_Lam", "normLam", nL, g["dLam2"], beta))
    for name, field, x, d2, b in steps:
        if x is None or d2 is None:
            continue
        step = np.sqrt(np.maximum(d2 * (1.0 if b is None else b), 0.0))
        x0 = init.get(field)
        if x0 is not None:
            x0 = np.asarray(x0, float).reshape(-1)
            if x0.size != N or not np.all(np.isfinite(x0)):
                raise TraceIntegrityError("meta", None, math.inf,
                                          f"meta['initial'][{field!r}]: expected {N} finite norms",
                                          identity="meta")
            prev = np.vstack([x0[None, :], x[:-1]])
            lo = 0
        else:
            prev = np.vstack([x[:1], x[:-1]])
            lo = 1                                 # row 1 has no recorded predecessor
        viol = np.abs(x - prev) - step
        viol[:lo] = 0.0
        rep.le(name, field, viol, 0.0, x + prev + step,
               f"| ||X^k|| - ||X^(k-1)|| | <= ||X^k - X^(k-1)|| ({field} against "
               f"{'sqrt(beta dLam2)' if b is not None else 'sqrt(' + ('dW2' if field == 'normW' else 'dV2') + ')'})"
               + (" from the recorded initial point" if x0 is not None else ""))


def data_norm_violation(meta) -> str | None:
    """Why ``meta['a0']`` cannot be ``||[X; 1]||_2`` of the training data, or None (also when it
    is not recorded).  It must be a finite number ``>= sqrt(n)`` (the ones column alone has that
    norm; ``n = meta['n_samples']``, taken as 1 when garbled, so ``a0 >= 1`` in any case).
    :func:`validate_trace` raises with it (kkt_rate builds its a-posteriori ``b`` from ``a0``);
    ``verify.Conditions.covers`` answers "cannot check a0" with it."""
    a0, n = meta.get("a0"), meta.get("n_samples")
    if a0 is None:
        return None
    if not isinstance(a0, (int, float, np.integer, np.floating)) or isinstance(a0, bool) \
            or not math.isfinite(float(a0)):
        return f"meta['a0'] = {a0!r}: expected ||[X; 1]||_2 of the training data, a finite number"
    n = int(n) if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 else 1
    if float(a0) < math.sqrt(n) * (1 - 1e-12):
        return (f"meta['a0'] = {a0!r} < sqrt(n_samples) = {math.sqrt(n):.6g}: impossible for "
                "||[X; 1]||_2 (the ones column alone has norm sqrt(n))")
    return None


def _check_data_norm(meta):
    """:func:`data_norm_violation` as a :class:`TraceIntegrityError`."""
    why = data_norm_violation(meta)
    if why is not None:
        raise TraceIntegrityError("meta", None, math.inf, why, identity="meta")


#: what an engine records at the initial point (solver.admm.problem.ADMMProblem.initial_record)
INITIAL_FIELDS = ("loss", "reg", "dual", "penalty", "lagrangian", "normW", "normV", "normLam")


def _check_initial_parts(init):
    """``meta['initial']``: ``L_beta^0 = loss + reg + dual + penalty`` (paper eq. 6) where the
    record has the parts, each of loss, reg, penalty >= 0 (to 1e-12 of their sum of sizes);
    ``Conditions.covers`` compares ``L_beta^0`` with the conditions' ``E0``, so an edited value
    would credit (or blame) conditions on a run they were not derived for."""
    if not isinstance(init, dict) or not init:
        return
    missing = [k for k in INITIAL_FIELDS if k not in init]
    if missing:           # a dropped part would switch off the ties below (and eq. 6's sum)
        raise TraceIntegrityError("meta", None, math.inf,
                                  f"meta['initial'] lacks {missing}: the initial record is "
                                  f"complete ({list(INITIAL_FIELDS)}) or absent", identity="meta")
    parts = [init.get(k) for k in ("loss", "reg", "dual", "penalty")]
    try:
        L0, parts = float(init["lagrangian"]), [float(p) for p in parts]
    except (TypeError, ValueError):
        raise TraceIntegrityError("meta", None, math.inf, "meta['initial']: expected numbers, got "
                                  f"{init!r}", identity="meta") from None
    size = sum(abs(p) for p in parts) + abs(L0)
    if not all(math.isfinite(v) for v in parts + [L0]) or min(parts[0], parts[1], parts[3]) < -1e-12 * size \
            or abs(L0 - sum(parts)) > 1e-12 * size + 1e-300:
        raise TraceIntegrityError("meta", None, math.inf,
                                  f"meta['initial']: lagrangian {L0!r} != loss + reg + dual + penalty "
                                  f"= {sum(parts)!r} (or a negative loss, reg or penalty): the initial "
                                  "record contradicts itself (paper eq. 6)", identity="meta")


def _check_initial_point(init, lam, N, beta=None):
    """``meta['initial']`` against itself where paper eq. (6) ties its parts to its norms:
    ``reg^0 = lambda/2 sum_i ||W_i^0||^2``, and ``dual^0 = <Lam^0, F^0> = 0`` when every
    ``||Lam_i^0|| = 0`` (eq. 7 starts there).  Each to 1e-12 of the size of its terms."""
    if not isinstance(init, dict):
        return

    def norms(key):
        v = init.get(key)
        if v is None:
            return None
        try:
            a = np.asarray(v, float).reshape(-1)
        except (TypeError, ValueError):
            raise TraceIntegrityError("meta", None, math.inf, f"meta['initial'][{key!r}]: expected "
                                      f"{N} finite norms, got {v!r}", identity="meta") from None
        if a.size != N or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise TraceIntegrityError("meta", None, math.inf, f"meta['initial'][{key!r}]: expected "
                                      f"{N} finite norms, got {v!r}", identity="meta")
        return a

    def number(key):
        v = init.get(key)
        return float(v) if isinstance(v, (int, float, np.integer, np.floating)) \
            and not isinstance(v, bool) else None

    nW, nL = norms("normW"), norms("normLam")
    reg, dual, pen = number("reg"), number("dual"), number("penalty")
    if dual is not None and pen is not None and nL is not None and beta is not None:
        # |<Lam, F>| <= sum ||Lam_i|| ||F_i|| <= sqrt(sum ||Lam_i||^2 / beta_i) sqrt(2 penalty)
        # (Cauchy-Schwarz twice; penalty = sum beta_i/2 ||F_i||^2)
        cs = math.sqrt(max(float((nL ** 2 / np.asarray(beta, float)).sum()), 0.0) * max(2.0 * pen, 0.0))
        if abs(dual) > cs * (1 + 1e-12) + 1e-300:
            raise TraceIntegrityError("meta", None, math.inf,
                                      f"meta['initial']: |dual| = {abs(dual)!r} > sqrt(sum ||Lam_i^0||^2 "
                                      f"/ beta_i) sqrt(2 penalty) = {cs!r} (Cauchy-Schwarz): the "
                                      "initial record contradicts itself", identity="meta")
    if reg is not None and nW is not None and lam is not None:
        r2 = 0.5 * float(lam) * float((nW ** 2).sum())
        if abs(reg - r2) > 1e-12 * (abs(reg) + r2) + 1e-300:
            raise TraceIntegrityError("meta", None, math.inf,
                                      f"meta['initial']: reg {reg!r} != lambda/2 sum ||W_i^0||^2 = "
                                      f"{r2!r} (paper eq. 6): the initial record contradicts itself",
                                      identity="meta")
    if dual is not None and nL is not None and not np.any(nL > 0) and dual != 0.0:
        raise TraceIntegrityError("meta", None, math.inf,
                                  f"meta['initial']: dual {dual!r} != 0 while every ||Lam_i^0|| = 0 "
                                  "(<Lam^0, F^0> = 0): the initial record contradicts itself",
                                  identity="meta")


#: sup |sigma| of the built-in bounded activations (hidden_bounded)
_SUP_ACT = {"sigmoid": 1.0, "tanh": 1.0, "arctan": math.pi / 2, "gauss_cdf": 1.0}


def _dladmm(rep, tr, n):
    g = {f: _arr(tr, f, n) for f in tr.schema.names}
    for name, tot, parts in (("lagrangian_parts", "lagrangian",
                              ("loss", "dual", "penalty_out", "penalty_hidden")),
                             ("lagrangian_bwd_parts", "lagrangian_bwd",
                              ("loss_bwd", "dual_bwd", "penalty_out_bwd", "penalty_hidden_bwd"))):
        if g[tot] is None or any(g[p] is None for p in parts):
            continue
        s = sum(g[p] for p in parts)
        size = np.abs(g[tot]) + sum(np.abs(g[p]) for p in parts)
        rep.eq(name, tot, g[tot], s, size, f"{tot} = {' + '.join(parts)}")
    if g["penalty_out"] is not None and g["rho"] is not None and g["res_out"] is not None:
        p = 0.5 * g["rho"] * g["res_out"] ** 2
        rep.eq("penalty_out_res", "penalty_out", g["penalty_out"], p, np.abs(g["penalty_out"]) + p,
               "penalty_out = rho/2 ||r_L||^2")
    if g["dual"] is not None and g["normu"] is not None and g["res_out"] is not None:
        cs = g["normu"] * g["res_out"]
        rep.le("dual_cauchy", "dual", np.abs(g["dual"]), cs, np.abs(g["dual"]) + cs,
               "|<u, r_L>| <= ||u|| ||r_L|| (Cauchy-Schwarz)")
    parts = ("dW2_bwd", "dW2_fwd", "db2_bwd", "db2_fwd", "dz2_bwd", "dz2_fwd", "da2_bwd", "da2_fwd")
    if g["step_sum"] is not None and all(g[p] is not None for p in parts):
        s = sum(np.nansum(g[p], axis=1) for p in parts)
        rep.eq("step_sum_parts", "step_sum", g["step_sum"], s, np.abs(g["step_sum"]) + s,
               "step_sum = the sum of every recorded squared half-step")
    if g["res_lin"] is not None and g["res_out"] is not None:
        rl = g["res_lin"][:, -1]
        rep.eq("res_out_column", "res_lin", rl, g["res_out"], np.abs(rl) + g["res_out"],
               "res_lin[:, L] = res_out")


def _lifted_bcd(rep, tr, n):
    g = {f: _arr(tr, f, n) for f in tr.schema.names}
    if all(g[f] is not None for f in ("objective", "loss", "coupling", "reg")):
        s = g["loss"] + g["coupling"] + g["reg"]
        rep.eq("objective_parts", "objective", g["objective"], s, np.abs(g["objective"]) + np.abs(s),
               "objective = loss + coupling + reg")
    if g["objective"] is not None and g["objective_start"] is not None and n > 1:
        a, b = g["objective_start"][1:], g["objective"][:-1]
        v = np.concatenate([[0.0], np.abs(a - b)])
        rep.le("objective_chain", "objective_start", v, 0.0,
               np.concatenate([[1.0], np.abs(a) + np.abs(b)]),
               "objective_start^k = objective^(k-1) (each iteration starts where the last ended)")
    for name, tot, blk in (("stationarity_blocks", "stationarity", "pg_U"),
                           ("natural_residual_blocks", "natural_residual", "comp_U")):
        if g[tot] is None or g[blk] is None or g["grad_W"] is None:
            continue
        s = np.nansum(g[blk] ** 2, axis=1) + np.nansum(g["grad_W"] ** 2, axis=1)
        rep.eq(name, tot, g[tot] ** 2, s, g[tot] ** 2 + s, f"{tot}^2 = sum {blk}^2 + sum grad_W^2")


def _inexact_alm(rep, tr, n):
    g = {f: _arr(tr, f, n) for f in tr.schema.names}
    if all(g[f] is not None for f in ("objective", "loss", "group", "comp_pen")):
        s = g["loss"] + g["group"] + g["comp_pen"]
        rep.eq("objective_parts", "objective", g["objective"], s,
               np.abs(g["objective"]) + np.abs(g["loss"]) + np.abs(g["group"]) + np.abs(g["comp_pen"]),
               "objective = loss + group + comp_pen")
    if all(g[f] is not None for f in ("kkt_total", "kkt_stat", "kkt_viol", "kkt_comp")):
        s = g["kkt_stat"] ** 2 + g["kkt_viol"] ** 2 + g["kkt_comp"] ** 2
        rep.eq("kkt_total_blocks", "kkt_total", g["kkt_total"] ** 2, s, g["kkt_total"] ** 2 + s,
               "kkt_total^2 = kkt_stat^2 + kkt_viol^2 + kkt_comp^2")


_SCHEMA_RULES = {"admm": _admm, "dladmm": _dladmm, "lifted_bcd": _lifted_bcd,
                 "inexact_alm": _inexact_alm}


def _meta(tr, n):
    meta = tr.meta or {}
    if "n_iter" in meta:
        try:
            ni = int(meta["n_iter"])
        except (TypeError, ValueError):
            ni = -1
        if ni != n:
            raise TraceIntegrityError("meta", None, abs(ni - n),
                                      f"meta['n_iter'] = {meta['n_iter']!r} but the trace has "
                                      f"{n} rows (a cut or spliced trace)", identity="meta")



# ------------------------------------------------------------------ meta and columns (class 2)
#: the ``admm`` columns every engine of the sigmoid ADMM records at every iteration (the
#: float64 engines, :mod:`solver.admm.extprec`, ``verify.highprec``); absent or all-NaN ("not
#: recorded") they would switch their identities off, so a trace without one is refused.  The
#: optional ones: ``curvature_V`` (NaN for exact V steps, depth 1), the loop's ``train_mse``,
#: ``test_mse`` (NaN without test data), ``time``, ``val_score`` (NaN without early stopping)
#: and ``curvature`` (NaN for exact W steps).
REQUIRED_COLUMNS = {
    "admm": ("lagrangian", "loss", "reg", "dual", "penalty", "kkt_total", "dW2", "dV2", "dLam2",
             "feas", "normW", "normV", "normLam", "kkt"),
}

#: ``meta['status']`` values the engines write: :class:`solver.core.Status` names, the
#: extended-precision engine's ``"enclosure_lost"``, and ``"diverged"`` (refused by every check)
def _status_names():
    return tuple(s.value for s in Status) + ("enclosure_lost", "diverged")


#: the keys of ``meta`` that mark a trace written by one of the solver's engines (the float64
#: estimator writes all of them; extprec and highprec ``engine_used``), against hand-built or
#: synthetic traces (``verify.strategies.consistent_synthetic_run``, ``verify.doctored``)
_ENGINE_MARKS = ("fingerprint", "engine_used", "instance")
#: what the float64 estimator (solver.base fit + solver.core.solve) always writes and a check
#: reads; a trace of the estimator's format lacking one is refused naming it
ESTIMATOR_KEYS = ("activation", "activation_expr", "beta", "lam", "curvature", "curvature_factor",
                  "widths", "n_samples", "n_layers", "a0", "y_norm", "initial", "status",
                  "n_iter", "engine_used")
#: what the extended-precision engine (solver.admm.extprec.run) always writes
EXTPREC_KEYS = ("activation", "activation_expr", "beta", "lam", "curvature", "widths",
                "n_samples", "n_layers", "a0", "y_norm", "initial", "precision_bits", "eps")


def _refuse(msg, field="meta", identity="meta"):
    raise TraceIntegrityError(field, None, math.inf, msg, identity=identity)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _columns(tr, n):
    """Every column of :data:`REQUIRED_COLUMNS` is recorded (present, not all-NaN)."""
    for name in REQUIRED_COLUMNS.get(tr.schema.name, ()):
        a = getattr(tr, name, None)
        if a is None or (n and np.all(np.isnan(np.asarray(a, float)[:n]))):
            _refuse(f"is {'absent' if a is None else 'not recorded (NaN at every row)'}: every "
                    f"engine of the {tr.schema.name!r} schema records it at every iteration, and "
                    "the identities and checks that read it cannot be switched off (required "
                    f"columns: {list(REQUIRED_COLUMNS[tr.schema.name])})", field=name,
                    identity="columns")


def _extprec(meta):
    return str(meta.get("engine_used", "")).startswith("extprec")


def _meta_eps(meta):
    """``meta['eps']``, the unit of the arithmetic that ran the iteration (the numerical-validity
    guard and Lemma 18's floor read it): float64's ``2^-52``, or ``2^(1 - precision_bits)``
    when the trace says it came from the extended-precision engine (``engine_used``
    ``"extprec ..."`` with ``precision_bits >= 53``, and none of the float64 estimator's keys)."""
    if "eps" not in meta:
        return
    eps = meta["eps"]
    if not _is_real(eps) or not math.isfinite(float(eps)):
        _refuse(f"meta['eps'] = {eps!r}: expected the machine epsilon of the run's arithmetic, a "
                "finite number")
    if _extprec(meta):
        bits = meta.get("precision_bits")
        if not _is_int(bits) or bits < 53:
            _refuse(f"meta['precision_bits'] = {bits!r}: an extended-precision trace records an "
                    "integer number of bits >= 53")
        if "fingerprint" in meta or "engine" in meta:
            _refuse("meta says engine_used = "
                    f"{meta.get('engine_used')!r} but carries the float64 estimator's keys "
                    "('fingerprint'/'engine'): the trace contradicts its engine")
        want = 2.0 ** (1 - int(bits))
        what = f"2^(1 - precision_bits) = 2^{1 - int(bits)} (the extended-precision engine)"
    else:
        want, what = _EPS, "2^-52 (float64, the arithmetic of this trace's engine)"
    if float(eps) != want:
        _refuse(f"meta['eps'] = {eps!r}, expected {what}: the working precision is the engine's, "
                "not a setting (a smaller eps would switch the numerical-validity guard off)")


def _known_activation(name, expr):
    """A built-in name with its stored expression checked (``theory.activations.check_record``);
    ``None`` for a user activation (the name is then only the expression's label)."""
    # lazily: theory.activations loads sympy and flint, which ``import verify`` must not
    # (tests/test_verify_imports.py); only a trace naming its activation needs them
    from theory.activations import check_record, get_activation  # noqa: PLC0415
    try:
        act = get_activation(name)
    except ValueError:
        return None
    try:
        check_record(act, name, expr, "meta['activation']")
    except ValueError as exc:
        _refuse(f"meta['activation'] = {name!r} with meta['activation_expr'] = {expr!r}: {exc}")
    return act


_ACT_CACHE: dict[tuple, bool] = {}


def _meta_activation(meta):
    name, expr = meta.get("activation"), meta.get("activation_expr")
    if name is None:
        return
    if not isinstance(name, str) or not name:
        _refuse(f"meta['activation'] = {name!r}: expected an activation name")
    if expr is not None and not isinstance(expr, str):
        _refuse(f"meta['activation_expr'] = {expr!r}: expected the activation's expression (a string)")
    key = (name, expr)
    if key not in _ACT_CACHE:
        _known_activation(name, expr)
        _ACT_CACHE[key] = True


def _meta_fields(tr, n):
    """The value of every ``meta`` key a check reads: type, finiteness, range and consistency with
    the arrays (module docstring, "meta")."""
    meta = tr.meta or {}
    if not isinstance(meta, dict):
        _refuse(f"meta: expected a dict, got {type(meta).__name__}")
    N = tr.n_layers
    if tr.schema.name != "admm":          # the related methods' meta has its own meanings
        return                             # (lifted_bcd: lam per layer; checked by their modules)
    if any(k in meta for k in _ENGINE_MARKS):
        keys = EXTPREC_KEYS if _extprec(meta) else ESTIMATOR_KEYS
        if "engine_used" in meta and not _extprec(meta) and "fingerprint" not in meta:
            keys = ("activation", "activation_expr", "beta", "lam", "widths", "n_samples",
                    "n_layers")                         # verify.highprec (mpmath / float64 steps)
        missing = [k for k in keys if meta.get(k) is None]   # None is not a record
        if missing:
            _refuse(f"meta lacks {missing}: a trace written by the solver's engines always "
                    f"records them ({list(keys)}) and the checks read them; a trace of "
                    "an older format cannot be checked (re-run it)")
    if "n_layers" in meta and (not _is_int(meta["n_layers"]) or int(meta["n_layers"]) != N):
        _refuse(f"meta['n_layers'] = {meta['n_layers']!r} but the trace's per-layer columns have "
                f"{N} columns")
    if "widths" in meta:
        w = meta["widths"]
        if not isinstance(w, (list, tuple)) or len(w) != N + 1 or not all(_is_int(x) and x > 0 for x in w):
            _refuse(f"meta['widths'] = {w!r}: expected {N + 1} positive integers (input, "
                    f"{N - 1} hidden, output widths) for the trace's {N} layers")
        hl = meta.get("hidden_layer_sizes")
        if hl is not None and (not isinstance(hl, (list, tuple)) or list(hl) != list(w[1:N])):
            _refuse(f"meta['hidden_layer_sizes'] = {hl!r} contradicts meta['widths'] = {w!r}")
    if "n_samples" in meta and not (_is_int(meta["n_samples"]) and meta["n_samples"] >= 1):
        _refuse(f"meta['n_samples'] = {meta['n_samples']!r}: expected a positive integer")
    if "y_norm" in meta:
        y = meta["y_norm"]
        if not _is_real(y) or not math.isfinite(float(y)) or float(y) < 0:
            _refuse(f"meta['y_norm'] = {y!r}: expected ||Y||_F, a finite number >= 0")
    if "beta" in meta:
        b = meta["beta"]
        if isinstance(b, np.ndarray) and b.ndim == 1 and b.dtype.kind in "fiu":
            b = b.tolist()
        ok = (isinstance(b, (list, tuple)) and len(b) == N and all(_is_real(x) for x in b)) or \
            (_is_real(b) and "fingerprint" not in meta)
        if not ok:
            _refuse(f"meta['beta'] = {b!r}: expected a list of {N} positive finite penalties "
                    "(one per layer)")
    if "lam" in meta and not _is_real(meta["lam"]):
        _refuse(f"meta['lam'] = {meta['lam']!r}: expected a finite number >= 0")
    if "curvature_factor" in meta:
        cf = meta["curvature_factor"]
        if not _is_real(cf) or not (math.isfinite(float(cf)) and float(cf) > 0):
            _refuse(f"meta['curvature_factor'] = {cf!r}: expected a finite positive number")
    if "status" in meta:
        st = meta["status"]
        names = _status_names()
        if not isinstance(st, str) or st not in names:
            _refuse(f"meta['status'] = {st!r}: expected one of the solver's status names {list(names)}")
    if "n_iter" in meta and not _is_int(meta["n_iter"]):
        _refuse(f"meta['n_iter'] = {meta['n_iter']!r}: expected the number of recorded iterations, "
                f"an integer ({n})")
    if "curvature" in meta:
        if meta["curvature"] not in CURVATURE_RULES:
            _refuse(f"meta['curvature'] = {meta['curvature']!r}: expected one of the solver's "
                    f"curvature rules {list(CURVATURE_RULES)}")
    _meta_eps(meta)
    _meta_activation(meta)
    _meta_curvature(tr, meta, n)


def _meta_curvature(tr, meta, n):
    """``curvature = 'theory'`` records ``c = factor (L_1^2 + L_2 (L_0 + ||B||_max)) >= factor
    L_1^2`` (``solver.admm.steps.curvature_from_bmax``): a recorded ``c`` below it (to 1e-9) was
    not made by that rule (a ``'reference'`` run, ``c = ||B||_max / 2``, relabelled)."""
    c = getattr(tr, "curvature", None) if tr.schema.name == "admm" else None
    if meta.get("curvature") != "theory" or c is None or not isinstance(meta.get("activation"), str):
        return
    from theory.activations import get_activation  # noqa: PLC0415  (lazy: _known_activation)
    try:
        act = get_activation(meta["activation"])
        lo = float(meta.get("curvature_factor", 2.0)) * float(act.L(1)) ** 2
    except (ValueError, TypeError):
        return
    c = np.asarray(c, float)[:n]
    bad = np.isfinite(c) & (c < lo * (1 - 1e-9))
    if bad.any():
        j = int(np.argwhere(bad)[0][0])
        raise TraceIntegrityError("curvature", j + 1, float(lo - c[bad][0]),
                                  f"{float(c[bad][0]):.6g} < curvature_factor L_1^2 = {lo:.6g}: "
                                  "not made by the 'theory' rule that meta['curvature'] names "
                                  "(c = factor (L_1^2 + L_2 (L_0 + ||B||_max)))", identity="meta")


def _run(trace, mult):
    if not isinstance(trace, Trace):
        raise TypeError(f"trace: expected a solver.Trace, got {type(trace).__name__}")
    n = len(trace)
    rep = _Report(mult)
    if n == 0:
        return rep
    _finite(trace, n)
    _columns(trace, n)
    _meta_fields(trace, n)
    _meta(trace, n)
    _nonneg(rep, trace, n)
    rule = _SCHEMA_RULES.get(trace.schema.name)
    if rule is not None:
        rule(rep, trace, n)
    return rep


def integrity_report(trace, mult=INTEGRITY_MULT) -> dict:
    """``{identity: (largest violation in eps x size, iteration k)}`` over the trace.

    For calibration (``benchmarks/calibrate_integrity.py``): a value below ``mult`` holds.
    Non-finite values and meta contradictions raise (they have no size).
    """
    return dict(_run(trace, mult).worst)


def validate_trace(trace, mult=INTEGRITY_MULT):
    """Check a trace's identities (module docstring); returns the trace, or raises
    :class:`TraceIntegrityError` (a ``ValueError``) at the first broken one, naming the
    field, the iteration and the size of the violation."""
    rep = _run(trace, float(mult))
    if rep.first is not None:
        raise rep.first
    return trace


#: ``meta['status']`` values of a run that did not end on a finite iterate of its own accord
_BAD_STATUS = ("non_finite", "diverged")


def run_stopped_badly(trace):
    """The reason a run cannot PASS any check (it stopped on a non-finite iterate, or its meta
    says it diverged), or ``None``."""
    meta = getattr(trace, "meta", None) or {}
    st = str(meta.get("status", ""))
    if st in _BAD_STATUS:
        return (f"the run stopped on a non-finite iterate (meta status {st!r}: "
                f"{meta.get('message', 'no message')}); a diverged run shows none of the claims")
    if meta.get("diverged"):
        return "the run's meta says it diverged; a diverged run shows none of the claims"
    return None
