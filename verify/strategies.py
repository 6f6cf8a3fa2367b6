"""Hypothesis strategies for property tests of the ADMM's convergence theory.

Small composable pieces, in the style of ``hypothesis.strategies``:

* :func:`activations`: the smooth built-ins of :mod:`theory` (sigmoid, tanh, the
  Gaussian CDF "erf" one, the arctan one), an example user :class:`theory.Activation`
  (``1/2 + t / (2 sqrt(1 + t^2))``), optionally a smooth but **non-analytic** one
  (:func:`bump_sigmoid`, outside Assumption 1's analyticity) and any user activations;
* :func:`problems`: small regression problems (n, d, depth 1-4, widths) as :class:`Problem`;
* :func:`initialisations`: explicit initial weights ``[(W_i, b_i)]`` for a problem;
* :func:`inside_conditions` / :func:`outside_conditions`: solver keyword arguments
  inside the conditions of :mod:`verify.conditions` (derived for depth 1 and 2; lambda
  drawn down to 1e-4 at depth 1) or clearly outside them (tiny beta, the authors'
  reference curvature);
* :func:`near_boundary`: negative controls close to the boundary (beta_1 at 0.1 x the
  empirically observed descent boundary ``10 / lambda``, ``beta_N < 1``, curvature factor
  below 1/2);
* :func:`runs`: everything above combined into a :class:`RunSpec` ready to fit.

Example (it runs as written: tests/test_verify_user_suite.py executes it)::

    from hypothesis import given, settings
    from verify import strategies as vst, sufficient_descent

    @settings(max_examples=3, deadline=None)
    @given(vst.runs(inside=True, max_depth=1, max_n=40, max_iter=60))
    def test_descent(spec):
        model = spec.fit()
        # never a FAIL inside the conditions (INCONCLUSIVE where float64 cannot decide)
        assert not sufficient_descent(model, conditions=spec.conditions).failed

    test_descent()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import json
import math
import warnings
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp
from hypothesis import assume
from hypothesis import strategies as st

from solver import ADMM, init_weights, tasks
from solver.trace import Trace, read_npz, write_npz
from theory import Activation, arctan_sigmoid, gauss_cdf, get_activation, sigmoid, tanh
from theory.activations import Bound

from . import checks as _checks
from . import conditions as _cond
from ._rate import FLOOR_JUMP
from .doctored import reconcile as _reconcile
from .checks import FLOOR_MULT, _activation_box, _residual_floor, _robust_rows

__all__ = [
    "dlam_splice_resolution",
    "Problem",
    "RunSpec",
    "activations",
    "algebraic_sigmoid",
    "bump_sigmoid",
    "near_boundary",
    "LAMS_DEPTH1",
    "LAMS_DEPTH2",
    "INIT_SCALES",
    "problems",
    "initialisations",
    "inside_conditions",
    "outside_conditions",
    "runs",
    "TASK_FUNCTIONS",
    # adversarial traces (issue 19)
    "TraceCase",
    "CHECK_NAMES",
    "BAD_CLASSES",
    "BAD_STRATEGIES",
    "REAL_SPECS",
    "DONOR_SPECS",
    "consistent_synthetic_run",
    "identity_violations",
    "real_case",
    "real_cases",
    "save_real_traces",
    "load_real_traces",
    "synthetic_cases",
    "good_cases",
    "hidden_rises",
    "cancelling_parts",
    "non_finite",
    "splices",
    "growth_laws",
    "feasibility_plateaus",
    "slow_residual_laws",
    "accumulating_rises",
    "diverged_runs",
    "foreign_conditions",
    "bad_cases",
    "targeted",
]


@lru_cache(maxsize=1)
def algebraic_sigmoid() -> Activation:
    """A user-defined activation satisfying Assumption 1: ``1/2 + t / (2 sqrt(1 + t^2))``."""
    t = sp.Symbol("t", real=True)
    return _cond.register_activation(
        Activation.from_expr(sp.Rational(1, 2) + t / (2 * sp.sqrt(1 + t ** 2)), t, "algebraic"))


@lru_cache(maxsize=1)
def bump_sigmoid() -> Activation:
    """A C-infinity but not analytic activation: ``s(t) + exp(-1/t^2) / 4`` (``s`` the sigmoid).

    ``exp(-1/t^2)`` (extended by 0 at ``t = 0``) has every derivative 0 at 0 without being 0:
    smooth, bounded, with bounded derivatives, but not real analytic at 0, so outside
    Assumption 1 (the Kurdyka-Lojasiewicz argument of Lemma 13 needs analyticity); the
    descent lemmas need only ``L_0, L_1, L_2``.  ``theory`` cannot certify its bounds (the
    enclosure engine refuses the essential singularity of the expression at 0), so
    ``L_0, L_1, L_2`` are computed numerically on a fine grid (|t| <= 60, step 1e-4, then
    +1 % and rounded up): **not certified**.  The float64 kernels are guarded at ``t = 0``.
    """
    t = sp.Symbol("t", real=True)
    act = Activation.from_expr(1 / (1 + sp.exp(-t)) + sp.exp(-1 / t ** 2) / 4, t, "bump_sigmoid")

    def _g(x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            z = np.where(x == 0, 1.0, x)
            g = np.where(x == 0, 0.0, np.exp(-1.0 / z ** 2))
        return z, g

    def f(x):
        _, g = _g(x)
        return 0.5 * (1 + np.tanh(np.asarray(x, float) / 2)) + g / 4

    def d1(x):
        z, g = _g(x)
        s_ = 0.5 * (1 + np.tanh(np.asarray(x, float) / 2))
        return s_ * (1 - s_) + np.where(np.asarray(x) == 0, 0.0, g * 2 / z ** 3) / 4

    def d2(x):
        z, g = _g(x)
        s_ = 0.5 * (1 + np.tanh(np.asarray(x, float) / 2))
        return (s_ * (1 - s_) * (1 - 2 * s_)
                + np.where(np.asarray(x) == 0, 0.0, g * (4 / z ** 6 - 6 / z ** 4)) / 4)

    object.__setattr__(act, "_numpy_impl", (f, d1, d2))   # Activation is frozen; this is its float64 cache
    grid = np.arange(-60.0, 60.0, 1e-4)

    for k, fn in enumerate((f, d1, d2)):
        v = float(np.max(np.abs(fn(grid)))) * 1.01
        act._bounds[k] = Bound(k, None, (mpmath.mpf(v / 1.01), mpmath.mpf(v)), (), True)
    return _cond.register_activation(act)


def activations(include_user=True, extra=(), include_nonanalytic=False):
    """Smooth activations (Assumption 1): the four built-ins, optionally a user one, plus ``extra``.

    ``include_nonanalytic=True`` adds :func:`bump_sigmoid` (smooth, not analytic)."""
    base = [sigmoid, tanh, gauss_cdf, arctan_sigmoid]
    if include_user:
        base.append(algebraic_sigmoid())
    if include_nonanalytic:
        base.append(bump_sigmoid())
    for a in extra:
        act = get_activation(a, "extra")
        act.require_smooth("extra")
        base.append(act)
    return st.sampled_from(base)


#: Target functions of the problems (the paper's toy tasks, evaluated on [-1, 1]^d).
TASK_FUNCTIONS = {
    "square": lambda X: (X ** 2).sum(axis=1),
    "product": lambda X: np.prod(X, axis=1),
    "smooth_radial": lambda X: (np.clip(1 - np.linalg.norm(X, axis=1), 0, None) ** 4
                                * (4 * np.linalg.norm(X, axis=1) + 1)),
    "random_net": None,  # targets from a random smooth net (drawn per problem)
}


@dataclass
class Problem:
    """A small regression problem: ``X`` (n, d), ``y`` (n,), the hidden widths, its name."""

    X: np.ndarray
    y: np.ndarray
    hidden_layer_sizes: tuple
    task: str
    seed: int

    @property
    def depth(self) -> int:
        return len(self.hidden_layer_sizes)

    @property
    def widths(self) -> tuple:
        return (self.X.shape[1], *self.hidden_layer_sizes, 1)

    def __repr__(self):
        return (f"Problem(task={self.task!r}, n={self.X.shape[0]}, d={self.X.shape[1]}, "
                f"hidden={self.hidden_layer_sizes}, seed={self.seed})")


@st.composite
def problems(draw, min_depth=1, max_depth=4, max_width=10, min_n=10, max_n=100, max_d=3,
             tasks=tuple(TASK_FUNCTIONS), target_scale=(0.1, 1.0)):
    """Small problems: ``n`` in [min_n, max_n], ``d`` in [1, max_d], depth and widths drawn."""
    if not (1 <= min_depth <= max_depth):
        raise ValueError(f"min_depth, max_depth: expected 1 <= min_depth <= max_depth, got "
                         f"{min_depth}, {max_depth}")
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, max_d))
    depth = draw(st.integers(min_depth, max_depth))
    hidden = tuple(draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth)))
    task = draw(st.sampled_from(list(tasks)))
    scale = draw(st.sampled_from(list(target_scale)))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    f = TASK_FUNCTIONS[task]
    if f is None:
        Wr = rng.normal(size=(d, 3))
        y = np.tanh(X @ Wr) @ rng.normal(size=3) / 3
    else:
        y = f(X)
    return Problem(X=X, y=scale * np.asarray(y, float), hidden_layer_sizes=hidden, task=task,
                   seed=seed)


@st.composite
def initialisations(draw, problem, schemes=("lecun_normal", "lecun_uniform", "xavier", "orth_normal",
                                            "orth_uniform", "msra"), scales=None):
    """Explicit initial weights ``[(W_i, b_i)]`` for ``problem`` (solver orientation)."""
    scheme = draw(st.sampled_from(list(schemes)))
    scale = draw(st.sampled_from(list(INIT_SCALES if scales is None else scales)))
    seed = draw(st.integers(0, 2 ** 16))
    return init_weights(problem.widths, scheme, scale, seed)


#: lambda values drawn inside the derived conditions: depth 1 down to 1e-4; depth 2 from
#: 0.1 (below it the derived depth-2 beta_1 leaves float64: the validity guard flags it and
#: the checks are INCONCLUSIVE, see docs/conditions_derivation.md, section H)
LAMS_DEPTH1 = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)
LAMS_DEPTH2 = (0.1, 1.0, 10.0)
#: initial weight scales; 8 is the paper's (and the authors' code's) for inputs in [-1, 1]
INIT_SCALES = (0.5, 1.0, 2.0, 8.0)


def inside_conditions(problem, activation, init_weights, lam=None):
    """Solver kwargs satisfying :func:`verify.conditions.derive` (derived for depth 1 and 2).

    Draws ``lam`` (default: :data:`LAMS_DEPTH1` / :data:`LAMS_DEPTH2`; depth >= 3 takes the
    EMPIRICAL schedule's lambda) and returns ``(kwargs, Conditions)``.
    """
    if lam is None:
        lam = (st.sampled_from(LAMS_DEPTH1) if problem.depth == 1 else
               st.sampled_from(LAMS_DEPTH2) if problem.depth == 2 else st.just(None))
    lam_st = lam if isinstance(lam, st.SearchStrategy) else st.just(lam if lam is None else float(lam))

    def build(lm):
        c = _cond.derive_from_data(problem.depth, activation, X=problem.X, y=problem.y,
                                   init_weights=init_weights, lam=lm)
        return c.kwargs, c

    return lam_st.map(build)


def outside_conditions(problem, activation):
    """Solver kwargs clearly outside the conditions, where descent is expected to break.

    A tiny penalty (``beta <= 1e-2``, below the ``beta_N > 1`` of (D2)) with the
    authors' ``"reference"`` curvature rule, which is not a majoriser.
    """
    act = get_activation(activation)
    return st.fixed_dictionaries({
        "beta": st.sampled_from([1e-3, 3e-3, 1e-2]),
        "lam": st.sampled_from([1e-6, 1e-4]),
        "curvature": st.just("reference"),
        "curvature_factor": st.just(1.0),
        "activation": st.just(act.name if act.builtin else act),
    })


#: the observed descent boundary at depth 1 (docs/verify.md, "Phase diagram"): beta_1 ~ 10 / lambda
EMPIRICAL_BOUNDARY_C = 10.0


def near_boundary(problem, activation, kinds=("beta1_tenth", "beta_out_below_1", "curvature_below_half")):
    """Negative controls near the boundary, as ``(kind, kwargs)``; ``lam`` drawn in ``{1e-2, 0.1, 1}``.

    * ``"beta1_tenth"``: ``beta_1 = 0.1 x 10/lambda`` (a tenth of the observed descent
      boundary), ``beta_N = 2``, theory curvature;
    * ``"beta_out_below_1"``: ``beta_N`` in ``{0.3, 0.5}`` (the output layer's dual ascent
      ``||DV_N||^2 / beta_N`` exceeds its descent ``(1 + beta_N)/2 ||DV_N||^2``), ``beta_1`` large;
    * ``"curvature_below_half"``: curvature factor in ``{0.1, 0.25}`` (the LLA model no longer
      majorises: ``2c - l < 0``), with ``beta`` large.
    The derived conditions never hold there; a convergence check must not PASS.
    """
    act = get_activation(activation)
    name = act.name if act.builtin else act
    N = problem.depth + 1

    def build(kind, lam, v):
        if kind == "beta1_tenth":
            b1 = 0.1 * EMPIRICAL_BOUNDARY_C / lam
            beta = [b1] + [2.0] * (N - 1)
            return kind, {"beta": beta, "lam": lam, "curvature": "theory",
                          "curvature_factor": 2.0, "activation": name}
        if kind == "beta_out_below_1":
            beta = [1e2 * EMPIRICAL_BOUNDARY_C / lam] * (N - 1) + [v]
            return kind, {"beta": beta, "lam": lam, "curvature": "theory",
                          "curvature_factor": 2.0, "activation": name}
        beta = [1e2 * EMPIRICAL_BOUNDARY_C / lam] * (N - 1) + [2.0]
        return kind, {"beta": beta, "lam": lam, "curvature": "theory",
                      "curvature_factor": {0.3: 0.1, 0.5: 0.25}[v], "activation": name}

    return st.builds(build, st.sampled_from(list(kinds)), st.sampled_from([1e-2, 0.1, 1.0]),
                     st.sampled_from([0.3, 0.5]))


@dataclass
class RunSpec:
    """A drawn run: problem, activation, initial weights, solver kwargs, conditions (if inside)."""

    problem: Problem
    activation: object
    init_weights: list = field(repr=False)
    kwargs: dict
    conditions: object = None
    max_iter: int = 300

    def model(self, **overrides):
        kw = dict(self.kwargs)
        kw["activation"] = self.activation
        kw.update(hidden_layer_sizes=self.problem.hidden_layer_sizes, max_iter=self.max_iter,
                  verbose=0, random_state=0, engine="numpy")
        kw.update(overrides)
        return ADMM(**kw)

    def fit(self, **overrides):
        """Fit the solver on the problem from the drawn initial weights; returns the model."""
        m = self.model(**overrides)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m.fit(self.problem.X, self.problem.y, init_weights=self.init_weights)


@st.composite
def runs(draw, inside=True, activation=None, max_iter=300, **problem_kw):
    """A :class:`RunSpec`; ``inside=True``: parameters from :func:`inside_conditions`."""
    prob = draw(problems(**problem_kw))
    act = draw(activations()) if activation is None else get_activation(activation)
    w0 = draw(initialisations(prob))
    if inside:
        kw, c = draw(inside_conditions(prob, act, w0))
    else:
        kw, c = draw(outside_conditions(prob, act)), None
    kw = dict(kw)
    kw.pop("activation", None)
    return RunSpec(problem=prob, activation=act.name if act.builtin else act,
                   init_weights=w0, kwargs=kw, conditions=c, max_iter=max_iter)


# =====================================================================================
# Adversarial traces (issue 19): bad traces by class, good traces synthetic and real
# =====================================================================================
#
# A :class:`TraceCase` is one trace with the options every check is run with (the constants
# known by construction, so that a check is decided on the doctoring, not on missing
# constants), the check it targets and whether *every* check must refuse it.  The bad
# strategies start from good traces (:func:`consistent_synthetic_run`, :func:`real_cases`)
# and break one claim in a drawn way; the classes:
#
# ====  =========================================================  ====================
# cls   what is drawn                                              targeted check
# ====  =========================================================  ====================
# a     a rise of L_beta of any size at any row, under a scale      sufficient_descent
#       manipulation of that row (normLam/normV/normW spike, parts
#       inflated) that inflates the per-row floor
# b     the same rise hidden by two parts inflated oppositely       sufficient_descent
# c     a non-finite value (nan, +-inf) in any field, row, column  every check
# d     a field spliced in from another run (other seed / beta)    every check
# e     growth of an iterate norm: sqrt, log, linear, power, any   bounded_iterates
#       offset and amplitude (norm only, or the steps raised to
#       cover it)
# f     feasibility plateau ending in a few low rows, alternation  feasibility_to_zero
#       between a plateau and low rows, very short traces
# g     KKT residual laws slower than the claimed regime (k^-p,    kkt_rate
#       p < 1; 1/log k; positive limit + decaying term; periodic),
#       with or without single-row floor-inflating spikes
# h     rises below the per-step floor that accumulate             sufficient_descent
# i     runs that diverged (meta status non_finite, a non-finite   every check
#       last row)
# j     conditions of another run (beta, lambda, depth or          the checks taking
#       activation outside what the conditions were derived for)   conditions=
# ====  =========================================================  ====================
#
# The properties (tests/test_verify_adversarial.py): no bad trace PASSes its targeted check
# (an error raised on the trace counts as a refusal), no bad trace gets PASS from every
# check (what ``sigadmm verify`` exit 0 needs), classes c, d and i get no PASS from any
# check; no good trace FAILs a check.  ``benchmarks/adversarial_counts.py`` prints the
# counts per class.

_EPS = float(np.finfo(float).eps)

#: the checks a case is run against (the CLI's table, :data:`verify.checks.CHECKS`)
CHECK_NAMES = ("sufficient_descent", "bounded_iterates", "dual_bounded_by_primal",
               "feasibility_to_zero", "kkt_rate")

#: classes whose every check must refuse (the trace itself is not a valid record)
REFUSE_ALL = frozenset("cdi")

#: the bad classes and their targeted checks
BAD_CLASSES = {
    "a": "sufficient_descent", "b": "sufficient_descent", "c": "*", "d": "*",
    "e": "bounded_iterates", "f": "feasibility_to_zero", "g": "kkt_rate",
    "h": "sufficient_descent", "i": "*", "j": "conditions",
}


@dataclass
class TraceCase:
    """One trace to check: ``cls`` (a bad class letter of the table above, or ``"good"``),
    ``kind`` (what was drawn, one line), the ``trace``, the ``check`` it targets (``"*"``: every
    check), ``options`` (``{check name: keyword arguments}``), ``base`` (the good case it was
    made from, a label) and ``refuse_all`` (no check may PASS)."""

    cls: str
    kind: str
    trace: object = field(repr=False)
    check: str = "*"
    options: dict = field(default_factory=dict, repr=False)
    base: str = ""
    refuse_all: bool = False

    def verdicts(self, names=CHECK_NAMES):
        """``{check: "PASS" | "FAIL" | "INCONCLUSIVE" | "REFUSED"}``; REFUSED: the check raised
        ``ValueError`` (a ``TraceIntegrityError`` is one) on the trace: it was not believed."""
        table = dict(_checks.CHECKS)
        table.setdefault("rate_certificate", _checks.rate_certificate)
        out = {}
        for nm in names:
            try:
                r = table[nm](self.trace, **self.options.get(nm, {}))
                out[nm] = str(r.verdict)
            except ValueError:
                out[nm] = "REFUSED"
        return out


def _copy_trace(tr):
    out = Trace.from_dict(tr.to_dict())
    out.meta = json_clone(tr.meta)
    return out


def json_clone(d):
    return json.loads(json.dumps(d, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


# ------------------------------------------------------------------ the consistent builder
def consistent_synthetic_run(K=300, depth=1, q=0.95, P0=1e-3, seed=0, beta=None, lam=0.1,
                             r_law=None, b_true=1.0, a_true=1.0, xi_out=0.3, n_samples=50,
                             feas_override=None):
    """A synthetic good trace consistent with every identity the ADMM trace records.

    Built from the definitions, not from the solver: primal steps ``P_k = P0 q^(2k)`` (or,
    with ``r_law``, ``P_k = (r_k / b_true)^2``) split over the layers (Dirichlet), iterate
    norms that move by at most half the recorded step, hidden-layer constraint violations at
    half their Lemma-18 bound (:func:`verify.conditions.lemma18_steps` evaluated on the
    trace), and then every recorded identity made exact:

    * ``dLam2_i = beta_i feas_i^2`` (``Lam_i^k - Lam_i^(k-1) = beta_i F_i^k``) and, for the
      output layer, ``beta_N feas_N = ||DV_N||`` (``Lam_N = V_N - Y``);
    * ``penalty = sum_i beta_i/2 feas_i^2``, ``reg = lambda/2 sum_i normW_i^2``,
      ``|dual| <= sum_i normLam_i feas_i``, ``loss = normLam_N^2 / 2``,
      ``lagrangian = loss + reg + dual + penalty``;
    * ``kkt_total^2 = sum kkt^2 + sum feas^2`` (the ``V_N`` block ``V_N - Y - Lam_N`` is 0);
    * ``| ||X^k|| - ||X^(k-1)|| | <= ||X^k - X^(k-1)||`` for W, V, Lam;

    with ``Lhat^k = L^k + xi_N ||DV_N^k||^2`` falling by exactly ``a_true P_k`` (so ``a =
    a_true / 2`` and ``xi = (0, .., xi_out)`` are valid descent constants) and
    ``r_k <= b_true sqrt(P_k + P_(k-1))`` (``b = 2 b_true`` valid).  ``feas_override``: a
    ``(K,)`` law of the total constraint violation (class f), spread over the layers; the
    dual steps and the penalty follow it (the identities still hold).

    Returns ``(trace, constants)`` with ``constants = {"xi", "a", "b"}``.
    """
    rng = np.random.default_rng(seed)
    N = int(depth) + 1
    if N not in (2, 3):
        raise ValueError(f"depth: expected 1 or 2, got {depth!r}")
    if beta is None:
        beta = (100.0, 10.0) if N == 2 else (1e3, 100.0, 10.0)
    beta = np.asarray(beta, float)
    if beta.shape != (N,):
        raise ValueError(f"beta: expected {N} values, got {beta!r}")
    k = np.arange(1, K + 1, dtype=float)
    if r_law is None:
        P = P0 * q ** (2 * k)
    else:
        r_law = np.asarray(r_law, float)
        P = (r_law / b_true) ** 2
    split = rng.dirichlet(4.0 * np.ones(2 * N), size=K)
    dW2 = split[:, :N] * P[:, None]
    dV2 = split[:, N:] * P[:, None]
    sW, sV = np.sqrt(dW2), np.sqrt(dV2)
    normW = rng.uniform(0.5, 2.0, N) + 0.1 * np.cumsum(sW, axis=0)
    normV = np.empty((K, N))
    # hidden ||V_i|| <= 8 < sup|sigma| sqrt(n d_i) (V_i = sigma(W_i A) - F_i), moving by at most
    # half the step
    normV[:, :N - 1] = rng.uniform(1.0, 3.0, N - 1) + 5.0 * np.tanh(
        0.1 * np.cumsum(sV[:, :N - 1], axis=0))
    meta = {"synthetic": True, "activation": "sigmoid", "activation_expr": "1/(1 + exp(-t))",
            "beta": beta.tolist(), "lam": float(lam),
            "n_layers": N, "n_samples": int(n_samples), "widths": [1] + [4] * (N - 1) + [1],
            "curvature": "theory", "curvature_factor": 2.0, "status": "max_iter",
            "n_iter": int(K), "seed": int(seed)}
    tr = Trace.empty(N, K, meta=meta)
    feas = np.zeros((K, N))
    feas[:, N - 1] = sV[:, N - 1] / beta[N - 1]
    lam0 = rng.uniform(0.5, 2.0, N - 1)
    normLam = np.empty((K, N))
    normLam[:, :N - 1] = lam0
    # provisional output norms for the Lemma-18 forms (the final ones are larger: the forms
    # grow with the norms, so half the provisional bound stays below the final one)
    normLam[:, N - 1] = 5.0
    normV[:, N - 1] = 5.0
    tr.dW2[:], tr.dV2[:], tr.normW[:], tr.normV[:] = dW2, dV2, normW, normV
    tr.normLam[:] = normLam
    tr.curvature[:] = np.nan
    tr.curvature[:, :N - 1] = 1.0
    tr.curvature_V[:] = np.nan
    if N == 3:
        tr.curvature_V[:, 0] = 1.0
    # the provisional trace is itself consistent (no dual steps, no violation), so that a
    # validating lemma18_steps accepts it
    tr.dLam2[:] = 0.0
    tr.feas[:] = 0.0
    tr.penalty[:] = 0.0
    tr.dual[:] = 0.0
    tr.reg[:] = 0.5 * lam * (normW ** 2).sum(axis=1)
    tr.loss[:] = 12.5
    tr.lagrangian[:] = tr.loss + tr.reg
    tr.kkt[:] = 0.0
    tr.kkt_total[:] = 0.0
    tr.train_mse[:] = 0.1
    tr.test_mse[:] = np.nan
    tr.time[:] = 1e-3 * k
    tr.set_length(K)
    if feas_override is None:
        rhs = _cond.lemma18_steps(tr)["rhs"]
        rhs[0] = rhs[1]
        feas[:, :N - 1] = 0.5 * rhs[:, :N - 1] / beta[:N - 1]
    else:
        f = np.asarray(feas_override, float)
        feas[:, :N - 1] = (f / np.sqrt(N - 1))[:, None]
        feas[:, N - 1] = np.minimum(feas[:, N - 1], f)
    # multipliers: hidden norms move by half their step
    normLam[:, :N - 1] = lam0 + 0.5 * np.cumsum(beta[:N - 1] * feas[:, :N - 1], axis=0)
    dLam2 = beta * feas ** 2
    penalty = (0.5 * beta * feas ** 2).sum(axis=1)
    reg = 0.5 * lam * (normW ** 2).sum(axis=1)
    sign = rng.choice([-1.0, 1.0])
    dual = sign * 0.2 * (normLam[:, :N - 1] * feas[:, :N - 1]).sum(axis=1)
    xi = np.zeros(N)
    xi[-1] = xi_out
    Lhat_drop = a_true * np.cumsum(P)
    other = reg + dual + penalty + dV2 @ xi
    # loss = C - a_true cumsum(P) - other, C chosen so that ||Lam_N|| = sqrt(2 loss) >= l_min,
    # l_min large enough that ||Lam_N|| (and ||V_N||) move by at most a quarter of ||DV_N||
    dloss = np.abs(np.diff(Lhat_drop + other))
    l_min = max(5.0, 4.0 * float(np.max(dloss / np.maximum(sV[1:, N - 1], 1e-300))))
    Cst = 0.5 * l_min ** 2 + float(np.max(Lhat_drop + other))
    loss = Cst - Lhat_drop - other
    normLam[:, N - 1] = np.sqrt(2.0 * loss)
    lag = loss + reg + dual + penalty
    ynorm = 2.0
    normV[:, N - 1] = ynorm + 0.3 * normLam[:, N - 1]
    Pprev = np.concatenate([[P[0]], P[:-1]])
    if r_law is None:
        r = b_true * np.sqrt(P + Pprev)
    else:
        r = np.asarray(r_law, float).copy()
    fsq = (feas ** 2).sum(axis=1)
    r = np.maximum(r, np.sqrt(fsq) * (1 + 1e-9))
    rest = np.sqrt(np.maximum(r ** 2 - fsq, 0.0))
    kkt = np.zeros((K, 2 * N))
    kkt[:, :2 * N - 1] = (rest / np.sqrt(2 * N - 1))[:, None]
    kkt_total = np.sqrt((kkt ** 2).sum(axis=1) + fsq)
    tr.lagrangian[:], tr.loss[:], tr.reg[:], tr.dual[:], tr.penalty[:] = lag, loss, reg, dual, penalty
    tr.feas[:], tr.dLam2[:], tr.normLam[:], tr.normV[:] = feas, dLam2, normLam, normV
    tr.kkt[:], tr.kkt_total[:] = kkt, kkt_total
    tr.train_mse[:] = 2.0 * loss / n_samples
    tr.test_mse[:] = np.nan
    tr.time[:] = 1e-3 * k
    tr.meta["y_norm"] = ynorm
    b_meas = float(np.max(kkt_total[1:] / np.sqrt(P[1:] + P[:-1])))
    return tr, {"xi": xi.tolist(), "a": 0.5 * a_true, "b": 2.0 * max(b_meas, b_true)}


def identity_violations(trace):
    """The largest relative violation of each identity :func:`consistent_synthetic_run`
    makes exact (a dict name -> float; 0 = exact).  A reference for the generator's own
    tests, not a trace validator (that is :func:`verify.validate_trace`)."""
    tr = trace
    n = len(tr)
    b = np.broadcast_to(np.asarray(tr.meta["beta"], float), (tr.n_layers,))
    lam = float(tr.meta["lam"])
    N = tr.n_layers

    def rel(x, y):
        s = np.maximum(np.abs(x) + np.abs(y), 1e-300)
        return float(np.max(np.abs(x - y) / s))

    out = {
        "lagrangian = sum of parts": rel(tr.lagrangian, tr.loss + tr.reg + tr.dual + tr.penalty),
        "reg = lam/2 sum normW^2": rel(tr.reg, 0.5 * lam * (tr.normW ** 2).sum(axis=1)),
        "penalty = sum beta/2 feas^2": rel(tr.penalty, (0.5 * b * tr.feas ** 2).sum(axis=1)),
        "dLam2 = beta feas^2": rel(tr.dLam2, b * tr.feas ** 2),
        "loss = normLam_N^2 / 2": rel(tr.loss, 0.5 * tr.normLam[:, N - 1] ** 2),
        "kkt_total^2 = sum kkt^2 + sum feas^2": rel(tr.kkt_total ** 2, (tr.kkt ** 2).sum(axis=1)
                                                    + (tr.feas ** 2).sum(axis=1)),
        "dLam2_N = dV2_N / beta_N^2 ... (k >= 2)": rel(tr.dLam2[1:, N - 1] * b[N - 1],
                                                       tr.dV2[1:, N - 1]),
    }
    cs = np.abs(tr.dual) - (tr.normLam * tr.feas).sum(axis=1)
    out["|dual| <= sum normLam feas"] = float(max(0.0, np.max(cs / np.maximum(np.abs(tr.dual), 1e-300))))
    for f, step in (("normW", tr.dW2), ("normV", tr.dV2), ("normLam", tr.dLam2 * b)):
        x = getattr(tr, f)[:n]
        exc = np.abs(np.diff(x, axis=0)) - np.sqrt(step[1:n])
        out[f"|d {f}| <= step"] = float(max(0.0, np.max(exc / x[1:])))
    return out


# ------------------------------------------------------------------ good cases
#: the real runs behind :func:`real_cases`: ``(label, activation, depth, beta, lam, seed,
#: constants)``; constants ``"user"``: ``xi = 0, a = lambda/2`` given to sufficient_descent
#: (beta = 100, lambda = 1: every check PASSes there at 300 iterations, docs/verify.md);
#: ``"derived"``: :func:`verify.conditions.derive_from_data`; ``"a-posteriori"``: none given.
#: An 8th entry overrides the 300 iterations (the depth-2 derived run leaves the float64
#: guard between 200 and 250 iterations: every check is INCONCLUSIVE after)
REAL_SPECS = (
    ("sigmoid d1", "sigmoid", 1, 100.0, 1.0, 0, "user"),
    ("tanh d1", "tanh", 1, 100.0, 1.0, 0, "user"),
    ("arctan d1", "arctan", 1, 100.0, 1.0, 0, "user"),
    ("algebraic d1", "algebraic", 1, 100.0, 1.0, 0, "user"),
    ("sigmoid d2", "sigmoid", 2, 100.0, 1.0, 0, "user"),
    ("tanh d2", "tanh", 2, 100.0, 1.0, 0, "user"),
    ("arctan d2", "arctan", 2, 100.0, 1.0, 0, "user"),
    ("algebraic d2", "algebraic", 2, 100.0, 1.0, 0, "user"),
    ("sigmoid d1 derived", "sigmoid", 1, None, 1.0, 0, "derived"),
    ("tanh d1 derived", "tanh", 1, None, 1.0, 0, "derived"),
    ("sigmoid d2 derived", "sigmoid", 2, None, 1.0, 0, "derived", 200),
    ("sigmoid d1 a-posteriori", "sigmoid", 1, (3000.0, 2.0), 1.0, 0, "a-posteriori"),
    ("tanh d1 a-posteriori", "tanh", 1, (3000.0, 2.0), 1.0, 0, "a-posteriori"),
)
#: donors of the splices (class d): other seeds and other penalties of the same shapes
DONOR_SPECS = (
    ("sigmoid d1 seed 1", "sigmoid", 1, 100.0, 1.0, 1, "user"),
    ("sigmoid d1 beta 300", "sigmoid", 1, 300.0, 1.0, 0, "user"),
    ("sigmoid d1 beta (1e4, 2)", "sigmoid", 1, (1e4, 2.0), 1.0, 0, "a-posteriori"),
    ("tanh d2 seed 1", "tanh", 2, 100.0, 1.0, 1, "user"),
    ("tanh d2 beta 300", "tanh", 2, 300.0, 1.0, 0, "user"),
)
REAL_ITERS = 300
_REAL_N, _REAL_WIDTH = 40, 4


def _act_of(name):
    return algebraic_sigmoid() if name == "algebraic" else name


@lru_cache(maxsize=None)
def real_case(label):
    """The good :class:`TraceCase` of a small real run named in :data:`REAL_SPECS` or
    :data:`DONOR_SPECS` (computed once per process): square task, ``n = 40``, width 4,
    300 iterations (unless the spec says otherwise), lecun-normal initial weights (seed),
    numpy engine."""
    spec = {s[0]: s for s in REAL_SPECS + DONOR_SPECS}.get(label)
    if spec is None:
        raise ValueError(f"label: expected one of {[s[0] for s in REAL_SPECS + DONOR_SPECS]}, "
                         f"got {label!r}")
    _, act, depth, beta, lam, seed, consts = spec[:7]
    iters = spec[7] if len(spec) > 7 else REAL_ITERS
    t = tasks.make_task("square", n=_REAL_N, seed=seed, n_test=0)
    w0 = init_weights((1,) + (_REAL_WIDTH,) * depth + (1,), "lecun_normal", 1.0, seed)
    options, cond = {}, None
    if consts == "derived":
        cond = _derived(depth, act, lam)
        kw = {k: v for k, v in cond.kwargs.items() if k != "activation"}
        options = {nm: {"conditions": cond} for nm in ("sufficient_descent", "bounded_iterates",
                                                       "kkt_rate")}
    else:
        kw = {"beta": list(beta) if isinstance(beta, tuple) else float(beta), "lam": lam}
        if consts == "user":
            options = {"sufficient_descent": {"xi": 0.0, "a": 0.5 * lam}}
    tr = _REAL_TRACES.get(label)
    if tr is None:
        m = ADMM(hidden_layer_sizes=(_REAL_WIDTH,) * depth, max_iter=iters, verbose=0,
                 engine="numpy", activation=_act_of(act), random_state=seed, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(t.X, t.y, init_weights=w0)
        tr = _REAL_TRACES[label] = m.trace_
    case = TraceCase("good", f"real {label}", tr, "*", options, base=f"real {label}")
    case.conditions = cond
    return case


#: traces of the real runs, by label (filled by :func:`real_case` or :func:`load_real_traces`)
_REAL_TRACES: dict[str, Trace] = {}
#: ``format_kind`` of the file :func:`save_real_traces` writes
REAL_TRACES_FORMAT = "verify.real_traces"


def _real_fingerprint():
    # "meta": the data fields Conditions.covers compares (a file from before they were recorded
    # is refused, not judged with conditions that cannot be checked against it)
    return json.dumps({"specs": [list(map(str, s)) for s in REAL_SPECS + DONOR_SPECS],
                       "iters": REAL_ITERS, "n": _REAL_N, "width": _REAL_WIDTH,
                       "meta": ["a0", "y_norm", "initial"]})


def save_real_traces(path):
    """Write the traces of every real run (:data:`REAL_SPECS`, :data:`DONOR_SPECS`) to one
    versioned, checksummed ``.npz`` (fits those not yet fitted)."""
    members = {"fingerprint": np.asarray(_real_fingerprint())}
    for i, spec in enumerate(REAL_SPECS + DONOR_SPECS):
        tr = real_case(spec[0]).trace
        for key, val in tr.to_dict().items():
            members[f"t{i}__{key}"] = val
    write_npz(Path(path), members, REAL_TRACES_FORMAT, compressed=True)
    return Path(path)


def load_real_traces(path):
    """Fill the real-run cache from a file of :func:`save_real_traces` (no fitting); a file
    written for other specs (another fingerprint) raises ``ValueError``.  Returns the labels."""
    z = read_npz(Path(path), REAL_TRACES_FORMAT, "real traces", lambda files: False)
    if str(z["fingerprint"]) != _real_fingerprint():
        raise ValueError(f"path: {str(path)!r} holds real traces of other specs (regenerate it with "
                         "verify.strategies.save_real_traces)")
    labels = []
    for i, spec in enumerate(REAL_SPECS + DONOR_SPECS):
        pre = f"t{i}__"
        d = {key[len(pre):]: z[key] for key in z if key.startswith(pre)}
        _REAL_TRACES[spec[0]] = Trace.from_dict(d, source=f"{path} [{spec[0]}]")
        labels.append(spec[0])
    real_case.cache_clear()
    return labels


def real_cases(labels=None):
    """Good cases from small real runs (:data:`REAL_SPECS`; each fitted once per process)."""
    labels = [s[0] for s in REAL_SPECS] if labels is None else list(labels)
    return st.sampled_from(labels).map(real_case)


@st.composite
def synthetic_cases(draw, depths=(1, 2), min_K=80, max_K=400, r_law=None):
    """Good cases from :func:`consistent_synthetic_run`: depth, length, decay factor ``q``
    (fast enough that the constraint violation reaches 1e-7 of its start), seed, penalties
    and ``lambda`` drawn; every check gets the constants known by construction."""
    depth = draw(st.sampled_from(list(depths)))
    K = draw(st.integers(min_K, max_K))
    q_max = min(0.97, float(1e-7 ** (1.0 / K)))
    q = draw(st.floats(min(0.85, q_max - 0.02), q_max))
    seed = draw(st.integers(0, 2 ** 16))
    lam = draw(st.sampled_from([1e-2, 0.1, 1.0]))
    b1 = draw(st.sampled_from([30.0, 100.0, 1e3, 1e4]))
    beta = (b1, 10.0) if depth == 1 else (b1, 100.0, 10.0)
    tr, c = consistent_synthetic_run(K=K, depth=depth, q=q, seed=seed, beta=beta, lam=lam,
                                     r_law=r_law)
    with_consts = draw(st.booleans())
    options = {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}}
    if with_consts:
        options["kkt_rate"] = {"xi": c["xi"], "a": c["a"], "b": c["b"]}
    case = TraceCase("good", f"synthetic depth {depth}, K={K}, q={q:.4g}, beta_1={b1:g}, "
                     f"lam={lam:g}, seed={seed}", tr, "*", options,
                     base=f"synthetic d{depth} K{K} q{q:.3g} s{seed}")
    case.constants = c
    return case


def good_cases(real=True, synthetic=True):
    """Good traces: :func:`synthetic_cases` and/or :func:`real_cases`."""
    parts = ([synthetic_cases()] if synthetic else []) + ([real_cases()] if real else [])
    if not parts:
        raise ValueError("real, synthetic: expected at least one of them True")
    return st.one_of(parts)


# ------------------------------------------------------------------ bad cases
def _bad(base, cls, kind, tr, check, options=None):
    return TraceCase(cls, kind, tr, check, base.options if options is None else options,
                     base=base.base, refuse_all=cls in REFUSE_ALL)


def _floor_rows(tr, n=None):
    """The current per-row rounding floor of L_beta: 1024 eps (|parts| + sum ||Lam|| ||V||)."""
    n = len(tr) if n is None else n
    size = (np.abs(tr.loss[:n]) + np.abs(tr.reg[:n]) + np.abs(tr.dual[:n]) + np.abs(tr.penalty[:n])
            + (tr.normLam[:n] * tr.normV[:n]).sum(axis=1))
    return 1024.0 * _EPS * size


def _rise(tr, j, delta, part):
    """``L_beta`` rises by ``delta`` at row ``j`` (the later steps keep their descent); the
    same amount goes to ``part`` (``"none"``: L alone, breaking L = sum of parts)."""
    tr.lagrangian[j:] += tr.lagrangian[j - 1] - tr.lagrangian[j] + delta
    if part != "none":
        getattr(tr, part)[j:] += tr.lagrangian[j] - (tr.loss[j] + tr.reg[j] + tr.dual[j]
                                                     + tr.penalty[j])


_SPIKES = ("normLam", "normV", "normW", "parts", "none")


def _spike(tr, j, how, mag, rng):
    """Inflate the scale of row ``j`` by ``10^mag``: a norm (one column), or two parts."""
    N = tr.n_layers
    if how in ("normLam", "normV", "normW"):
        col = int(rng.integers(N))
        getattr(tr, how)[j, col] *= 10.0 ** mag
    elif how == "parts":
        s = 10.0 ** mag * max(1.0, abs(float(tr.lagrangian[j])))
        p1, p2 = rng.choice(["loss", "reg", "dual", "penalty"], size=2, replace=False)
        getattr(tr, str(p1))[j] += s
        getattr(tr, str(p2))[j] -= s


@st.composite
def hidden_rises(draw, bases=None):
    """Class a: ``L_beta`` rises by any amount (1e-12 .. 1e3, relative or absolute) at any
    row, while that row's scale is inflated (a norm spiked by 10^1..10^17, or two parts
    inflated oppositely, or nothing), the rise carried by any part or by ``L_beta`` alone."""
    base = draw(good_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    K = len(tr)
    j = draw(st.integers(1, K - 1))
    size = 10.0 ** draw(st.floats(-12, 3))
    relative = draw(st.booleans())
    delta = size * (abs(float(tr.lagrangian[j - 1])) if relative else 1.0)
    part = draw(st.sampled_from(["loss", "reg", "dual", "penalty", "none"]))
    how = draw(st.sampled_from(_SPIKES))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    _rise(tr, j, delta, part)
    if draw(st.booleans()):
        mag = draw(st.floats(1, 17))
        aim = ""
    else:
        # aimed: the smallest spike whose per-row floor (1024 eps x the row's scale) covers
        # the rise, times 2 .. 100
        fl = float(_floor_rows(tr)[j])
        mag = float(np.clip(math.log10(max(delta / fl, 1.0)) + draw(st.floats(0.3, 2)), 1, 17))
        aim = " (aimed)"
    _spike(tr, j, how, mag, rng)
    return _bad(base, "a", f"rise {delta:.3g} at k={j + 1} via {part}, {how} x1e{mag:.1f}{aim}",
                tr, "sufficient_descent")


@st.composite
def cancelling_parts(draw, bases=None):
    """Class b: a rise of any size hidden by two parts inflated oppositely (L unchanged by
    them) at the row of the rise, or on every row."""
    base = draw(good_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    K = len(tr)
    j = draw(st.integers(1, K - 1))
    delta = 10.0 ** draw(st.floats(-10, 2)) * max(1.0, abs(float(tr.lagrangian[j - 1])))
    _rise(tr, j, delta, draw(st.sampled_from(["loss", "reg", "dual", "penalty"])))
    p1, p2 = draw(st.lists(st.sampled_from(["loss", "reg", "dual", "penalty"]), min_size=2,
                           max_size=2, unique=True))
    s = 10.0 ** draw(st.floats(0, 18)) * max(1.0, abs(float(tr.lagrangian[j])))
    rows = slice(j, j + 1) if draw(st.booleans()) else slice(None)
    getattr(tr, p1)[rows] += s
    getattr(tr, p2)[rows] -= s
    return _bad(base, "b", f"rise {delta:.3g} at k={j + 1}; {p1} +{s:.3g}, {p2} -{s:.3g} "
                f"({'that row' if rows.stop else 'every row'})", tr, "sufficient_descent")


#: fields a non-finite value can go into (test_mse and the curvatures hold NaN legitimately)
NONFINITE_FIELDS = ("lagrangian", "loss", "reg", "dual", "penalty", "dW2", "dV2", "dLam2", "feas",
                    "kkt", "kkt_total", "normW", "normV", "normLam", "train_mse", "time")


@st.composite
def non_finite(draw, bases=None, fields=NONFINITE_FIELDS):
    """Class c: nan, inf or -inf in any field, row and column."""
    base = draw(good_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    f = draw(st.sampled_from(list(fields)))
    arr = getattr(tr, f)
    j = draw(st.integers(0, len(tr) - 1))
    v = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if arr.ndim == 2:
        c = draw(st.integers(0, arr.shape[1] - 1))
        arr[j, c] = v
        where = f"{f}[k={j + 1}, {c}]"
    else:
        arr[j] = v
        where = f"{f}[k={j + 1}]"
    return _bad(base, "c", f"{where} = {v}", tr, "*")


def dlam_splice_resolution(tr, new, j):
    """How far a splice of ``dLam2`` from row ``j`` on (0-based) moves the multiplier steps, in
    units of what float64 can resolve: ``max_k |D_new - D_old| / (1e3 eps (||Lam_i^k|| +
    ||Lam_i^(k-1)||))`` with ``D = sqrt(beta_i dLam2_i) = ||Lam_i^k - Lam_i^(k-1)||``.

    float64 forms ``Lam^k - Lam^(k-1)`` entrywise to eps times the multipliers' size, so a
    recorded ``||DLam_i||`` is known only to about ``eps (||Lam_i^k|| + ||Lam_i^(k-1)||)``: a
    splice that moves it by less (the tail of a converged run, where ``dLam2 ~ 1e-45`` beside
    ``||Lam|| ~ 1``) gives the same run at float64's resolution, on which every claim still
    holds; class d draws only splices above 1 (1000 times that resolution).
    """
    n = len(new) + j
    b = np.asarray(tr.meta["beta"], float)
    nL = np.asarray(tr.normLam[:n], float)
    nLp = np.vstack([nL[:1], nL[:-1]])
    d_old = np.sqrt(b * np.abs(np.asarray(tr.dLam2[j:n], float)))
    d_new = np.sqrt(b * np.abs(np.asarray(new, float)))
    return float(np.max(np.abs(d_new - d_old) / (1e3 * _EPS * (nL[j:n] + nLp[j:n]))))


#: fields a splice can take from another run: those in an equality of the trace's identities
SPLICE_FIELDS = ("lagrangian", "loss", "reg", "dual", "penalty", "feas", "kkt", "kkt_total",
                 "dLam2", "normLam", "normW")


@st.composite
def splices(draw, fields=SPLICE_FIELDS):
    """Class d: a field (all rows from a drawn row on) taken from another run of the same
    shape: another seed or another penalty (synthetic), or a real donor run
    (:data:`DONOR_SPECS`, other seed / beta) into a real run of the same depth."""
    f = draw(st.sampled_from(list(fields)))
    if draw(st.booleans()):
        base = draw(synthetic_cases())
        K, N = len(base.trace), base.trace.n_layers
        other = draw(st.sampled_from(["seed", "beta"]))
        meta = base.trace.meta
        beta = list(meta["beta"])
        if other == "beta":
            beta[0] *= draw(st.sampled_from([0.1, 0.3, 3.0, 10.0]))
        donor, _ = consistent_synthetic_run(
            K=K, depth=N - 1, q=draw(st.floats(0.85, 0.97)),
            seed=meta["seed"] + 1 if other == "seed" else meta["seed"], beta=tuple(beta),
            lam=meta["lam"])
        dlabel = f"synthetic ({other})"
    else:
        base = real_case(draw(st.sampled_from([s[0] for s in REAL_SPECS[:8]])))
        depth = base.trace.n_layers - 1
        dlabel = draw(st.sampled_from([s[0] for s in DONOR_SPECS if s[2] == depth]
                                      + [s[0] for s in REAL_SPECS[:8]
                                         if s[2] == depth and f"real {s[0]}" != base.base]))
        donor = real_case(dlabel).trace
    tr = _copy_trace(base.trace)
    n = min(len(tr), len(donor))
    tr.truncate(n)
    tr.meta["n_iter"] = n
    j = draw(st.integers(0, n - 2))
    old, new = getattr(tr, f)[j:n], getattr(donor, f)[j:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.nanmax(np.abs(new - old) / np.maximum(np.abs(new) + np.abs(old), 1e-300))
    # the splice changes the field, by more than rounding of the identities it enters
    # (1e-9 of the Lagrangian's parts for them, 1e-6 of the field's own size otherwise)
    parts = (np.abs(tr.loss) + np.abs(tr.reg) + np.abs(tr.dual) + np.abs(tr.penalty))[j:n]
    if f in ("lagrangian", "loss", "reg", "dual", "penalty"):
        assume(float(np.max(np.abs(new - old) / parts)) > 1e-9)
    assume(change > 1e-6)
    if f == "dLam2":
        assume(dlam_splice_resolution(tr, new, j) > 1.0)
    getattr(tr, f)[j:n] = new
    return _bad(base, "d", f"{f} from k={j + 1} on spliced from {dlabel}", tr, "*")


_LAWS = {
    "sqrt": lambda k: np.sqrt(k),
    "log": lambda k: np.log(k),
    "linear": lambda k: k.astype(float),
}


@st.composite
def growth_laws(draw, bases=None):
    """Class e: an iterate norm grows by ``amp * law(k)`` from any offset ``c`` (0 .. 1e4):
    sqrt, log, linear or a power ``k^p`` (0.2 <= p <= 1.5), started at any time ``k0 <= 0.6
    K`` and under an early bump up to the law's own growth (``benchmarks/bounded_law_scan.py``);
    either the norm alone or with the recorded steps raised so that the norm's increments
    stay within them."""
    base = draw(good_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    K, N = len(tr), tr.n_layers
    f = draw(st.sampled_from(["normW", "normV", "normLam"]))
    col = draw(st.integers(0, N - 1))

    if f == "normV" and col < N - 1 and _activation_box(tr, K) is not None:
        # a hidden ||V_i|| of a bounded activation cannot grow: ||V_i|| <= ||F_i|| + sup|sigma|
        # sqrt(n d_i) is an identity of the run (verify.integrity refuses a trace beyond it,
        # bounded_iterates judges ||F_i|| within it, Lemma 19's own argument); grow V_N instead
        col = N - 1
    law = draw(st.sampled_from(["sqrt", "log", "linear", "power"]))
    k = np.arange(1, K + 1)
    if law == "power":
        p = draw(st.floats(0.2, 1.5))
        g, lname = k ** p, f"k^{p:.2f}"
    else:
        g, lname = _LAWS[law](k), law
    # issue 19 round 4: a law started at any time k0 <= 0.6 K (flat before), under an early
    # bump B (k/kb) e^(1 - k/kb) (kb = K/16) of up to the law's own growth over the run
    k0 = int(draw(st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.4, 0.5, 0.6])) * K)
    if k0 > 0:
        g = np.concatenate([np.full(k0, g[0]), g[:K - k0]])
        lname += f" from k={k0 + 1}"
    bump = draw(st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0]))
    if bump > 0:
        kb = K / 16
        g = g + bump * float(g[-1] - g[0]) * (k / kb) * np.exp(1 - k / kb)
        lname += f" under a bump {bump:g} x its growth"
    c = draw(st.sampled_from([0.0, 1.0, 35.0, 100.0, 1000.0, 1e4]))
    amp = 10.0 ** draw(st.floats(-2, 1))
    x = c + amp * g
    getattr(tr, f)[:, col] = x
    raise_steps = draw(st.booleans())
    if raise_steps:
        inc = np.concatenate([[0.0], np.diff(x)]) ** 2
        if f == "normW":
            tr.dW2[:, col] = np.maximum(tr.dW2[:, col], inc)
        elif f == "normV":
            tr.dV2[:, col] = np.maximum(tr.dV2[:, col], inc)
        else:
            b = float(np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))[col])
            tr.dLam2[:, col] = np.maximum(tr.dLam2[:, col], inc / b)
    return _bad(base, "e", f"{f}[{col}] = {c:g} + {amp:.3g} {lname}"
                + (" (steps raised)" if raise_steps else ""), tr, "bounded_iterates")


@st.composite
def feasibility_plateaus(draw):
    """Class f: the constraint violation plateaus at ``level x ||V||`` (1e-8 .. 1e-1) from a
    drawn row, then ends in 1-5 low rows (0, 1e-20, 1e-14, 1e-3 of the plateau), or
    alternates between the plateau and low rows, or the whole trace is 2-15 rows long with
    a low last row.  Built consistently (:func:`consistent_synthetic_run` with the law)."""
    kind = draw(st.sampled_from(["tail", "alternating", "short", "flat end"]))
    if kind == "flat end":      # issue 19: a layer flat or rising over the last m >= wlen/2 rows
        return draw(flat_layer_tails())
    depth = draw(st.sampled_from([1, 2]))
    K = draw(st.integers(2, 15)) if kind == "short" else draw(st.integers(60, 400))
    level = 10.0 ** draw(st.floats(-8, -1))
    sV = 2.5 * math.sqrt(depth + 1)
    plateau = level * sV
    low = plateau * draw(st.sampled_from([0.0, 1e-20, 1e-14, 1e-3]))
    law = np.full(K, plateau)
    if kind == "short":
        start = 0
        law[-1] = low
        desc = f"{K}-row trace, ||F|| = {level:.2g} ||V|| then {low:.2g}"
    else:
        start = int(draw(st.floats(0.1, 0.8)) * K)
        law[:start] = plateau * (1 + 10 * np.linspace(1, 0, start))
        if kind == "tail":
            m = draw(st.integers(1, 5))
            law[-m:] = low
            desc = f"plateau {level:.2g} ||V|| from k={start + 1}, last {m} rows {low:.2g}"
        else:
            period = draw(st.integers(2, 4))
            idx = np.arange(K)
            law[(idx >= start) & ((idx - start) % period == period - 1)] = low
            law[-1] = low
            desc = f"plateau {level:.2g} ||V|| alternating with {low:.2g} every {period} rows"
    seed = draw(st.integers(0, 2 ** 16))
    tr, c = consistent_synthetic_run(K=K, depth=depth, q=0.9, seed=seed, feas_override=law)
    base = TraceCase("good", "synthetic", tr, "*", {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}},
                     base=f"synthetic d{depth} K{K} s{seed} (feas law)")
    return _bad(base, "f", desc, tr, "feasibility_to_zero")


@st.composite
def slow_residual_laws(draw):
    """Class g: KKT residual laws slower than the regime a PASS claims: ``k^-p`` (0.05 <= p
    <= 0.95), ``1/log(k+1)``, a positive limit plus a decaying term ``c + C rho^k``, a
    periodic law, each with or without single-row spikes of a norm (10^2..10^17) that
    inflate that row's floor; the run is built consistently with the law (steps
    ``P_k = r_k^2``) and checked with or without the constants known by construction."""
    if draw(st.integers(0, 2)) == 0:            # one row or the end rows of a stalled law
        return draw(stalled_law_row_attacks())
    K = draw(st.integers(60, 400))
    k = np.arange(1, K + 1, dtype=float)
    law = draw(st.sampled_from(["power", "log", "limit", "periodic"]))
    s0 = 10.0 ** draw(st.floats(-4, 0))
    if law == "power":
        p = draw(st.floats(0.05, 0.95))
        r, desc = s0 * k ** -p, f"{s0:.2g} k^-{p:.3f}"
    elif law == "log":
        r, desc = s0 / np.log(k + 1), f"{s0:.2g}/log(k+1)"
    elif law == "limit":
        # the limit must be visible in the run: c >= a quarter of the decaying term at K
        # (1e-3 + 0.98^k and 0.05 + 0.99^k at 300 rows: 0.43 and 1)
        rho = draw(st.floats(0.9, 0.999))
        lim = s0 * rho ** K * 10.0 ** draw(st.floats(-0.6, 2))
        r, desc = lim + s0 * rho ** k, f"{lim:.2g} + {s0:.2g} {rho:.4f}^k"
    else:
        T = draw(st.integers(5, 60))
        r, desc = s0 * (1.5 + np.sin(2 * np.pi * k / T)), f"{s0:.2g}(1.5 + sin(2 pi k/{T}))"
    depth = draw(st.sampled_from([1, 2]))
    seed = draw(st.integers(0, 2 ** 16))
    tr, c = consistent_synthetic_run(K=K, depth=depth, seed=seed, r_law=r)
    if law == "limit":
        # the limit must be a limit of r, not of rounding: above the trace's residual floor
        # (the running median of 1024 eps x the iterates' sizes, verify.checks) at the end,
        # with a margin; a limit under the floor is a run that reached it (issue 19: the
        # thorough profile drew 1.6e-10 + 0.9062^k, K = 229, with a floor of 4e-9)
        fl = float(_robust_rows(_residual_floor(tr, K, FLOOR_MULT))[-1])
        if lim < 4.0 * fl:
            c2 = 4.0 * fl * 10.0 ** draw(st.floats(0, 2))
            # a floor near the law's own scale (iterates ~1e9 in the builder) leaves no room
            # for a visible limit above it: not an instance (and r^2 of it overflows the builder)
            assume(c2 <= s0)
            r, desc = c2 + s0 * rho ** k, f"{c2:.2g} + {s0:.2g} {rho:.4f}^k"
            tr, c = consistent_synthetic_run(K=K, depth=depth, seed=seed, r_law=r)
            fl = float(_robust_rows(_residual_floor(tr, K, FLOOR_MULT))[-1])
            assume(c2 > 2.0 * fl)
    # every law of the class is a law of r above rounding: the running minimum ends above 4
    # robust floors (a periodic O(1) law made norms ~1e9 in the builder, a floor of 2e3 above
    # r ~ 0.5: that run's r is rounding, not a slow law)
    fl_tail = float(np.max(_robust_rows(_residual_floor(tr, K, FLOOR_MULT))[K // 2:]))
    assume(float(np.min(tr.kkt_total)) > 4.0 * fl_tail)
    n_sp = draw(st.integers(0, 3))
    rng = np.random.default_rng(seed)
    for _ in range(n_sp):
        j = draw(st.integers(K // 2, K - 1))
        _spike(tr, j, draw(st.sampled_from(["normLam", "normV", "normW"])), draw(st.floats(2, 17)), rng)
    opts = {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}}
    if draw(st.booleans()):
        opts["kkt_rate"] = {"xi": c["xi"], "a": c["a"], "b": c["b"]}
    base = TraceCase("good", "synthetic", tr, "*", opts, base=f"synthetic d{depth} K{K} s{seed} (r law)")
    return _bad(base, "g", f"r_k = {desc}" + (f", {n_sp} spiked rows" if n_sp else "")
                + (", constants given" if "kkt_rate" in opts else ""), tr, "kkt_rate")


@st.composite
def accumulating_rises(draw):
    """Class h: ``Lhat`` rises by ``theta`` floors (0.2 <= theta < 1, the per-row floor
    1024 eps |parts|) at every step of a window of undecided steps (``a P_k`` below the
    floor), or falls by ``theta`` floors less than ``a P_k`` at every decided step; the
    total shortfall is at least 10 floors.  The loss carries the change, ``||Lam_N||``
    follows it (every identity still holds)."""
    depth = draw(st.sampled_from([1, 2]))
    K = draw(st.integers(150, 400))
    q = draw(st.floats(0.8, 0.9))
    seed = draw(st.integers(0, 2 ** 16))
    tr, c = consistent_synthetic_run(K=K, depth=depth, q=q, seed=seed)
    a, xi = c["a"], np.asarray(c["xi"])
    P = tr.dW2.sum(axis=1) + tr.dV2.sum(axis=1)
    fl = _floor_rows(tr)
    theta = draw(st.floats(0.2, 0.99))
    mode = draw(st.sampled_from(["undecided rises", "decided shortfalls"]))
    Lhat = tr.lagrangian + tr.dV2 @ xi
    drop = np.concatenate([[0.0], Lhat[:-1] - Lhat[1:]])
    if mode == "undecided rises":
        rows = np.flatnonzero((a * P < 0.5 * (1 - theta) * fl) & (np.arange(K) >= 1))
        new_drop = -theta * fl
    else:
        rows = np.flatnonzero((a * P > fl) & (np.arange(K) >= 1))
        new_drop = a * P - theta * fl
    need = int(math.ceil(10.0 / theta))
    if rows.size < need:
        rows = np.arange(max(1, K - need), K)
        mode += " (forced window)"
        new_drop = -theta * fl
    d = drop.copy()
    d[rows] = new_drop[rows]
    d[0] = 0.0
    Lhat_new = Lhat[0] - np.cumsum(d)
    delta = Lhat_new - Lhat
    tr.lagrangian[:] += delta
    tr.loss[:] += delta
    tr.normLam[:, -1] = np.sqrt(2.0 * tr.loss)
    base = TraceCase("good", "synthetic", tr, "*", {"sufficient_descent": {"xi": c["xi"], "a": a}},
                     base=f"synthetic d{depth} K{K} s{seed}")
    return _bad(base, "h", f"{mode}: theta = {theta:.2f} floors at {rows.size} steps "
                f"(total {theta * rows.size:.3g} floors)", tr, "sufficient_descent")


@st.composite
def diverged_runs(draw, bases=None):
    """Class i: a run that diverged: its meta says ``status = non_finite`` (the solver's stop
    on a non-finite iterate; trace cut at the last finite row), or its last rows are
    non-finite, or both; ``L_beta`` may fall without bound before the stop."""
    base = draw(good_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    K = len(tr)
    cut = draw(st.integers(max(20, K // 4), K))
    tr.truncate(cut)
    tr.meta["n_iter"] = cut
    how = draw(st.sampled_from(["meta", "last rows", "both", "falling L + meta"]))
    if how in ("meta", "both", "falling L + meta"):
        tr.meta["status"] = "non_finite"
        tr.meta["message"] = f"non-finite iterate at iteration {cut + 1}; stopped"
        tr.meta["n_iter"] = cut
    if how in ("last rows", "both"):
        m = draw(st.integers(1, 3))
        for f in draw(st.lists(st.sampled_from(list(NONFINITE_FIELDS)), min_size=1, max_size=3)):
            getattr(tr, f)[cut - m:] = draw(st.sampled_from([np.nan, np.inf]))
    if how == "falling L + meta":
        kk = np.arange(cut, dtype=float)
        fall = 10.0 ** (kk / max(1, cut) * draw(st.floats(1, 12)))
        tr.lagrangian[:] -= fall
        tr.dual[:] -= fall
    return _bad(base, "i", f"diverged ({how}) after {cut} rows", tr, "*")


@lru_cache(maxsize=None)
def _derived(depth, act, lam):
    """Conditions derived for the real-run problem (square task, n = 40, width 4, seed 0)."""
    t = tasks.make_task("square", n=_REAL_N, seed=0, n_test=0)
    w0 = init_weights((1,) + (_REAL_WIDTH,) * depth + (1,), "lecun_normal", 1.0, 0)
    return _cond.derive_from_data(depth, _act_of(act), X=t.X, y=t.y, init_weights=w0, lam=lam)


@st.composite
def foreign_conditions(draw):
    """Class j: conditions derived for one run given with another: the trace's ``beta_i`` below
    the conditions' (any layer, factor 1e-3 .. 0.9), another ``lambda``, another depth or
    activation; a real run (beta = 100) or a synthetic one with the conditions' settings
    changed.  Targeted: every check that takes ``conditions=``."""
    depth = draw(st.sampled_from([1, 2]))
    act = draw(st.sampled_from(["sigmoid", "tanh"])) if depth == 1 else "sigmoid"
    cond = _derived(depth, act, 1.0)
    what = draw(st.sampled_from(["beta", "lambda", "real run", "activation"]))
    if what == "real run":
        labels = [s[0] for s in REAL_SPECS if s[2] == depth and s[6] == "user"]
        base = real_case(draw(st.sampled_from(labels)))
        tr = _copy_trace(base.trace)
        desc = f"conditions of {act} d{depth} (beta {np.round(cond.beta, 3).tolist()}) on {base.base}"
    else:
        K = draw(st.integers(100, 300))
        seed = draw(st.integers(0, 2 ** 16))
        beta = np.asarray(cond.beta, float).copy()
        lam = 1.0
        meta_act = act
        if what == "beta":
            i = draw(st.integers(0, depth))
            beta[i] *= 10.0 ** draw(st.floats(-3, math.log10(0.9)))
            desc = f"beta_{i + 1} x {beta[i] / cond.beta[i]:.3g} of the conditions'"
        elif what == "lambda":
            lam = draw(st.sampled_from([0.05, 0.2, 5.0]))
            desc = f"lambda = {lam:g} (conditions at 1)"
        else:
            meta_act = "tanh" if act == "sigmoid" else "sigmoid"
            desc = f"activation {meta_act} (conditions for {act})"
        tr, _ = consistent_synthetic_run(K=K, depth=depth, q=0.93, seed=seed, beta=tuple(beta),
                                         lam=lam)
        tr.meta["activation"] = meta_act
        tr.meta["activation_expr"] = str(get_activation(meta_act).expr)
        base = TraceCase("good", "synthetic", tr, "*", {}, base=f"synthetic d{depth} K{K} s{seed}")
    opts = {nm: {"conditions": cond} for nm in ("sufficient_descent", "bounded_iterates", "kkt_rate")}
    case = _bad(base, "j", desc, tr, "conditions", opts)
    case.conditions = cond
    return case


#: the strategy of each bad class
BAD_STRATEGIES = {
    "a": hidden_rises, "b": cancelling_parts, "c": non_finite, "d": splices, "e": growth_laws,
    "f": feasibility_plateaus, "g": slow_residual_laws, "h": accumulating_rises,
    "i": diverged_runs, "j": foreign_conditions,
}


def bad_cases(classes=tuple(BAD_STRATEGIES)):
    """Bad traces of the given classes (letters of the table above)."""
    unknown = [c for c in classes if c not in BAD_STRATEGIES]
    if unknown:
        raise ValueError(f"classes: unknown {unknown}; expected among {list(BAD_STRATEGIES)}")
    return st.one_of([BAD_STRATEGIES[c]() for c in classes])


def targeted(case):
    """The check names a case targets (``"*"``: every check; ``"conditions"``: those given
    ``conditions=``)."""
    if case.check == "*":
        return list(CHECK_NAMES)
    if case.check == "conditions":
        return [nm for nm in CHECK_NAMES if "conditions" in case.options.get(nm, {})]
    return [case.check]


# ------------------------------------------------------------------ class g: one row, end rows
def _end_multiplier_jump(tr, m, J, layer):
    """A hidden ``||Lam_layer||`` jumps by ``J`` at row ``K - m`` and stays up to the end,
    consistently: the jump row's dual step ``beta F`` carries it (``||F||`` and ``dLam2`` of that
    row grow), its penalty is cancelled by the dual term (``L_beta`` unchanged), ``kkt_total``
    follows ``||F||``: every identity :func:`verify.validate_trace` checks still holds."""
    K = len(tr)
    r0 = K - m
    b = np.asarray(tr.meta["beta"], float)
    pen_old = tr.penalty.copy()
    tr.normLam[r0:, layer] += J
    tr.feas[r0, layer] = (J + b[layer] * tr.feas[r0, layer]) / b[layer] * (1 + 1e-9)
    tr.dLam2[r0] = b * tr.feas[r0] ** 2
    tr.penalty[:] = (0.5 * b * tr.feas ** 2).sum(axis=1)
    tr.dual[:] -= tr.penalty - pen_old
    tr.kkt_total[:] = np.sqrt((tr.kkt ** 2).sum(axis=1) + (tr.feas ** 2).sum(axis=1))
    tr.lagrangian[:] = tr.loss + tr.reg + tr.dual + tr.penalty


@st.composite
def stalled_law_row_attacks(draw):
    """Class g, one row and end rows: a residual law that stalls over the run (a positive limit
    ``c + C rho^k`` with ``c`` above 4 floors and visible, a plateau, ``k^-p`` with ``p <= 0.9``,
    ``1/log(k+1)``, flat), built consistently (:func:`consistent_synthetic_run`), then either
    one row of ``r`` (its KKT blocks) multiplied by any factor ``10^[-8, 8]`` at any row, or a
    consistent jump of a hidden ``||Lam_i||`` over the last ``m = 1 .. 18`` rows (up to two
    9-row windows) by orders of magnitude (the jumped rows' floor more than ``FLOOR_JUMP`` times
    the run's median floor).  Targeted: kkt_rate; with or without the constants known by
    construction."""
    K = draw(st.integers(60, 400))
    k = np.arange(1, K + 1, dtype=float)
    s0 = 10.0 ** draw(st.floats(-4, 0))
    law = draw(st.sampled_from(["limit", "plateau", "power", "log", "flat"]))
    depth = draw(st.sampled_from([1, 2]))
    seed = draw(st.integers(0, 2 ** 16))
    if law == "limit":
        rho = draw(st.floats(0.9, 0.999))
        tr0, _ = consistent_synthetic_run(K=K, depth=depth, seed=seed, r_law=s0 * rho ** k)
        fl = float(np.median(_residual_floor(tr0, K, FLOOR_MULT)))
        c = max(s0 * rho ** K * 10.0 ** draw(st.floats(-0.6, 2)), 4.0 * fl * 10.0 ** draw(st.floats(0, 2)))
        assume(c <= s0)
        r, desc = c + s0 * rho ** k, f"{c:.2g} + {s0:.2g} {rho:.4f}^k"
    elif law == "plateau":
        # the plateau covers the second half and more: it starts by k = K/4
        level = s0 * (K / 4.0) ** -1.5 * 10.0 ** draw(st.floats(0, 2))
        r, desc = np.maximum(s0 * k ** -1.5, level), f"max({s0:.2g} k^-1.5, {level:.2g})"
    elif law == "power":
        p = draw(st.floats(0.05, 0.9))
        r, desc = s0 * k ** -p, f"{s0:.2g} k^-{p:.3f}"
    elif law == "log":
        r, desc = s0 / np.log(k + 1), f"{s0:.2g}/log(k+1)"
    else:
        r, desc = np.full(K, s0), f"flat {s0:.2g}"
    tr, cst = consistent_synthetic_run(K=K, depth=depth, seed=seed, r_law=r)
    rfl = _residual_floor(tr, K, FLOOR_MULT)
    # a law of r above rounding, and r is the law (the builder keeps r >= ||F||)
    assume(float(np.min(tr.kkt_total)) > 4.0 * float(np.max(rfl)))
    assume(float(np.max(np.abs(tr.kkt_total - r) / r)) < 1e-6)
    how = draw(st.sampled_from(["one row", "end rows"]))
    if how == "one row":
        j = draw(st.integers(0, K - 1))
        f = 10.0 ** draw(st.floats(-8, 8))
        tr.kkt[j] *= f
        tr.kkt_total[j] = math.sqrt(float(np.sum(tr.kkt[j] ** 2) + np.sum(tr.feas[j] ** 2)))
        desc += f", row {j} x {f:.3g}"
    else:
        m = draw(st.integers(1, 18))
        layer = draw(st.integers(0, depth - 1))
        x = 10.0 ** draw(st.floats(2.5, 16))
        J = x * float(np.median(rfl)) / (1024.0 * _EPS)
        _end_multiplier_jump(tr, m, J, layer)
        rfl2 = _residual_floor(tr, K, FLOOR_MULT)
        assume(float(np.min(rfl2[K - m:])) > FLOOR_JUMP * float(np.median(rfl)))
        desc += f", ||Lam_{layer + 1}|| + {J:.3g} over the last {m} rows"
    opts = {"sufficient_descent": {"xi": cst["xi"], "a": cst["a"]}}
    if draw(st.booleans()):
        opts["kkt_rate"] = {"xi": cst["xi"], "a": cst["a"], "b": cst["b"]}
    base = TraceCase("good", "synthetic", tr, "*", opts, base=f"synthetic d{depth} K{K} s{seed} (r law)")
    return _bad(base, "g", f"r_k = {desc}" + (", constants given" if "kkt_rate" in opts else ""),
                tr, "kkt_rate")


# ------------------------------------------------------------------ classes a and i, extended
# (issue 19 round 3, classes 1 and 8 of the held-out attack): a CONSISTENT multiplier excursion
# that sets its own floor, and a multiplier growing geometrically while L_beta falls; every
# identity of verify.validate_trace holds on the doctored trace (verify.doctored.reconcile)
def _descent_bases(draw):
    """A good base with descent constants known: a real run with user constants or a synthetic
    one with the constants of its construction."""
    if draw(st.booleans()):
        labels = [s[0] for s in REAL_SPECS if s[6] == "user"]
        return real_case(draw(st.sampled_from(labels)))
    return draw(synthetic_cases())


def _lagrangian_scale(tr):
    return (np.abs(tr.loss) + np.abs(tr.reg) + np.abs(tr.dual) + np.abs(tr.penalty)
            + (tr.normLam * tr.normV).sum(axis=1))


@st.composite
def multiplier_excursions(draw):
    """Class a, consistent: a hidden ``||Lam_i||`` jumps by a factor ``f = 10^2 .. 10^10`` at
    any row, holds 0-3 rows and falls back by ``rho <= 2.8`` per row (the constraint violation
    covers every multiplier step, the dual cancels the penalty the steps add: 1 .. 30 rows), or
    stays up to the last row (any length 1 .. 20 rows ending at ``K``); ``L_beta`` rises at a
    row of the excursion by ``theta = 10^0.5 .. 10^9`` times ``2 SCALE_JUMP`` floors of the
    undoctored run's largest scale over the rows a robust scale of that row reads (a real
    rise beyond any floor such a scale allows), for one row or for good."""
    base = _descent_bases(draw)
    tr = _copy_trace(base.trace)
    K, N = len(tr), tr.n_layers
    size0 = _lagrangian_scale(tr)
    layer = draw(st.integers(0, N - 2))
    b = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))[layer]
    f = 10.0 ** draw(st.floats(2, 10))
    at_end = draw(st.booleans())
    old = tr.normLam[:, layer].copy()
    extra = np.zeros(K)
    if at_end:
        m = draw(st.integers(1, 20))
        s = K - m
        hold = draw(st.integers(0, m - 1))
    else:
        hold = draw(st.integers(0, 3))
        rho_min = max(1.5, (f / 2.0) ** (1.0 / max(1, 27 - hold)))
        assume(rho_min <= 2.8)
        s = draw(st.integers(2, K - 40))
    rho = draw(st.floats(min(2.8, max(1.5, (f / 2.0) ** (1.0 / 27))), 2.8))
    extra[s] = f * max(float(old[s]), 1e-3)
    r = s
    while r + 1 < K and (r - s < hold or extra[r] > 2.0 * old[r + 1] * 0.999):
        extra[r + 1] = extra[r] if r - s < hold else extra[r] / rho
        r += 1
    end = r + 1                                        # first row back (K: never back)
    new = old + extra
    feas = tr.feas.copy()
    for row in range(s, min(end + 1, K)):
        step = abs(new[row] - new[row - 1])
        feas[row, layer] = (step + b * feas[row, layer]) / b * (1 + 1e-9)
    pen_old = tr.penalty.copy()
    tr.normLam[:, layer] = new
    tr.feas[:] = feas
    tr.penalty[:] = 0.5 * (np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
                           * tr.feas ** 2).sum(axis=1)
    tr.dual[:] = tr.dual - (tr.penalty - pen_old)
    j = draw(st.integers(max(s, 1), min(end, K) - 1))
    lo, hi = max(0, j - 66), max(j + 1, 67)
    theta = 10.0 ** draw(st.floats(0.5, 9))
    rise = theta * 2 * 2.0 * FLOOR_MULT * _EPS * float(np.max(size0[lo:hi]))
    permanent = draw(st.booleans())
    L = tr.loss + tr.reg + tr.dual + tr.penalty
    shift = L[j - 1] - L[j] + rise
    rows = slice(j, None) if permanent else slice(j, j + 1)
    tr.dual[rows] += shift
    tr.lagrangian[:] = tr.loss + tr.reg + tr.dual + tr.penalty
    _reconcile(tr, min_loss=0.0)
    where = "to the end" if end >= K else f"{end - s} rows"
    return _bad(base, "a", f"consistent excursion ||Lam_{layer + 1}|| x{f:.2g} at k={s + 1} "
                f"({where}, hold {hold}, back /{rho:.2f} per row); L rises {theta:.3g} robust "
                f"floors at k={j + 1} ({'for good' if permanent else 'one row'})", tr,
                "sufficient_descent")


@st.composite
def growing_multipliers(draw):
    """Class i, consistent: a hidden ``||Lam_i||`` grows by ``g = 1.01 .. 1.2`` per step from
    any row to the end of the run (by at least x1.4 in all) while ``L_beta`` falls: the dual
    cancels ``||Lam_i|| ||F_i||`` (``L`` falls with ``-||Lam_i||^2 / (2 beta_i)``) or only the
    penalty the growth adds.  Targeted: sufficient_descent (the other checks may PASS what they
    claim: a growing hidden multiplier with a falling KKT residual)."""
    base = _descent_bases(draw)
    tr = _copy_trace(base.trace)
    K, N = len(tr), tr.n_layers
    layer = draw(st.integers(0, N - 2))
    beta = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
    b = beta[layer]
    g = draw(st.floats(1.01, 1.2))
    # by x1.4 in all at least (round 4: x1.5 over the last 40 rows, below the first half's sup,
    # PASSed descent; was x10)
    m_min = int(math.ceil(math.log(1.4) / math.log(g)))
    assume(m_min + 2 <= K - 2)
    s = draw(st.integers(2, K - m_min))
    Lm, F = tr.normLam.copy(), tr.feas.copy()
    for r in range(s, K):
        Lm[r, layer] = Lm[r - 1, layer] * g
        F[r, layer] = max(F[r, layer], Lm[r, layer] / b,
                          (Lm[r, layer] - Lm[r - 1, layer]) / b * (1 + 1e-9))
    pen_old = tr.penalty.copy()
    tr.normLam[:], tr.feas[:] = Lm, F
    tr.penalty[:] = 0.5 * (beta * F ** 2).sum(axis=1)
    how = draw(st.sampled_from(["L falls with -||Lam||^2/(2 beta)", "dual cancels the penalty"]))
    if how.startswith("L falls"):
        tr.dual[s:] = -(Lm * F).sum(axis=1)[s:] * (1 - 1e-9)
    else:
        tr.dual[:] = tr.dual - (tr.penalty - pen_old)
    tr.lagrangian[:] = tr.loss + tr.reg + tr.dual + tr.penalty
    _reconcile(tr, min_loss=0.0)
    return TraceCase("i", f"||Lam_{layer + 1}|| x{g:.3f} per step from k={s + 1} (x"
                     f"{g ** (K - s):.3g} at K={K}); {how}", tr, "sufficient_descent",
                     base.options, base=base.base, refuse_all=False)


def _also(cls, strategy):
    prev = BAD_STRATEGIES[cls]
    BAD_STRATEGIES[cls] = lambda: st.one_of(prev(), strategy())


_also("a", multiplier_excursions)
_also("i", growing_multipliers)


# ------------------------------------------------------------------ class f: flat layer tails
def with_layer_violation(trace, layer, feas):
    """A copy of ``trace`` whose hidden layer ``layer`` (0-based, ``< n_layers - 1``) has the
    constraint violation ``feas`` (``(K,)``), every identity carried: that layer's multiplier
    norm moves by at most ``beta_i ||F_i^k||`` (its recorded steps, clipped), ``dLam2 = beta
    feas^2``, the penalty, ``|dual| <= sum_i ||Lam_i|| ||F_i||`` (clipped), ``kkt_total`` and
    ``L = loss + reg + dual + penalty``.  The output layer and the primal records are
    untouched (``beta_N ||F_N|| = ||DV_N||``, ``loss = ||Lam_N||^2 / 2`` keep holding)."""
    tr = _copy_trace(trace)
    N, n = tr.n_layers, len(tr)
    if not (0 <= int(layer) < N - 1):
        raise ValueError(f"layer: expected a hidden layer 0..{N - 2}, got {layer!r}")
    feas = np.asarray(feas, float)
    if feas.shape != (n,) or not np.all(np.isfinite(feas)) or np.any(feas < 0):
        raise ValueError(f"feas: expected {n} finite non-negative values, got shape {feas.shape}")
    i = int(layer)
    b = float(np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))[i])
    lam_old = np.asarray(tr.normLam[:n, i], float).copy()
    lam_new = lam_old.copy()
    for r in range(1, n):
        lim = b * feas[r] * (1 - 1e-9)
        lam_new[r] = max(0.0, lam_new[r - 1] + float(np.clip(lam_old[r] - lam_old[r - 1], -lim, lim)))
    tr.feas[:n, i] = feas
    tr.normLam[:n, i] = lam_new
    bvec = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
    tr.dLam2[:n, i] = b * feas ** 2
    tr.penalty[:n] = (0.5 * bvec * tr.feas[:n] ** 2).sum(axis=1)
    bound = (tr.normLam[:n] * tr.feas[:n]).sum(axis=1)
    tr.dual[:n] = np.sign(tr.dual[:n]) * np.minimum(np.abs(tr.dual[:n]), bound * (1 - 1e-12))
    tr.kkt_total[:n] = np.sqrt((tr.kkt[:n] ** 2).sum(axis=1) + (tr.feas[:n] ** 2).sum(axis=1))
    tr.lagrangian[:n] = tr.loss[:n] + tr.reg[:n] + tr.dual[:n] + tr.penalty[:n]
    return tr


@st.composite
def flat_layer_tails(draw):
    """Class f (issue 19): one hidden layer's constraint violation ends the run flat, rising
    or flat up to +-0.2 % noise over the last ``m`` rows, ``m`` from half of
    :func:`verify.feasibility_to_zero`'s window (``ceil(wlen/2)``, ``wlen = (K - K//2) // 4``)
    up to half the run, at a level ``10^-11.5 .. 10^-4`` of that layer's ``||V_i||`` (above its
    floor ``1024 eps``, at or below ``rtol``), flat relative to ``||V_i||`` or absolutely.
    Before the tail the violation is the good synthetic run's (falling), so only the tail is
    bad; the other layers converge.  Built from :func:`consistent_synthetic_run` with
    :func:`with_layer_violation` (every identity carried)."""
    depth = draw(st.sampled_from([1, 2]))
    K = draw(st.integers(60, 400))
    q = draw(st.floats(0.85, 0.97))
    seed = draw(st.integers(0, 2 ** 16))
    layer = draw(st.integers(0, depth - 1))
    wlen = max(2, (K - K // 2) // 4)
    m = draw(st.integers(-(-wlen // 2), K // 2))
    level = 10.0 ** draw(st.floats(-11.5, -4.0))
    shape = draw(st.sampled_from(["flat", "rising", "noisy"]))
    relative = draw(st.booleans())
    good, c = consistent_synthetic_run(K=K, depth=depth, q=q, seed=seed)
    V = np.asarray(good.normV[:, layer], float)
    law = np.asarray(good.feas[:, layer], float).copy()
    tail = level * (V[K - m:] if relative else np.full(m, V[K - m]))
    if shape == "rising":
        tail = tail * (1.0 + 10.0 ** draw(st.floats(-5, -2))) ** np.arange(m, dtype=float)
    elif shape == "noisy":
        tail = tail * (1.0 + 0.002 * np.random.default_rng(seed).uniform(-1, 1, m))
    law[K - m:] = tail
    tr = with_layer_violation(good, layer, law)
    base = TraceCase("good", "synthetic", good, "*", {"sufficient_descent": {"xi": c["xi"], "a": c["a"]}},
                     base=f"synthetic d{depth} K{K} s{seed} q{q:.3g}")
    desc = (f"||F_{layer + 1}|| {shape} at {level:.2g} ||V_{layer + 1}|| "
            f"({'relative' if relative else 'absolute'}) over the last {m} rows (wlen {wlen})")
    return _bad(base, "f", desc, tr, "feasibility_to_zero")


# ------------------------------------------------------------------ meta doctoring (issue 19, class 2)
#: the ``admm`` columns a doctoring may drop (absent or all-NaN): ``verify.integrity.REQUIRED_COLUMNS``
DROPPABLE_COLUMNS = ("lagrangian", "loss", "reg", "dual", "penalty", "kkt_total", "dW2", "dV2",
                     "dLam2", "feas", "normW", "normV", "normLam", "kkt")
#: the meta keys every solver-written trace records (``verify.integrity.ESTIMATOR_KEYS``)
ESTIMATOR_META_KEYS = ("activation", "activation_expr", "beta", "lam", "curvature",
                       "curvature_factor", "widths", "n_samples", "n_layers", "a0", "y_norm",
                       "initial", "status", "n_iter", "engine_used")


def _meta_edit(draw, tr):
    """One drawn edit of a real trace's ``meta`` (in place) that contradicts its arrays or the
    solver's format; returns its description."""
    m, N, K = tr.meta, tr.n_layers, len(tr)
    kind = draw(st.sampled_from(["delete", "y_norm", "n_layers", "n_samples", "widths", "beta",
                                 "lam", "status", "n_iter", "curvature", "activation", "eps"]))
    if kind == "delete":
        key = draw(st.sampled_from(ESTIMATOR_META_KEYS))
        del m[key]
        return f"meta without {key!r}"
    if kind == "y_norm":
        # outside what | ||V_N^k|| - ||Y|| | <= sqrt(2 loss^k) leaves at every row (inside it an
        # edit is another data set's ||Y||, which the arrays cannot tell apart)
        e = np.sqrt(2.0 * np.maximum(tr.loss, 0.0))
        lo, hi = float(np.max(tr.normV[:, -1] - e)), float(np.min(tr.normV[:, -1] + e))
        v = draw(st.sampled_from([math.inf, -math.inf, math.nan, -1.0, "1.0", True]) |
                 st.floats(1.01, 1e6).map(lambda f: hi * f + 1e-9) |
                 st.floats(0.0, 0.99).map(lambda f: max(lo, 0.0) * f).filter(lambda y: y < lo))
    elif kind == "n_layers":
        v = draw(st.sampled_from([True, float(N), str(N)]) | st.integers(1, 12).filter(lambda x: x != N))
    elif kind == "n_samples":
        v = draw(st.sampled_from([0, -3, True, 1e9, float(m["n_samples"]), str(m["n_samples"])]) |
                 st.integers(10 ** 4, 10 ** 12))
    elif kind == "widths":
        w = list(m["widths"])
        how = draw(st.sampled_from(["length", "zero", "hidden", "float"]))
        if how == "length":
            v = w + [1] if draw(st.booleans()) else w[:-1]
        elif how == "zero":
            w[draw(st.integers(0, N))] = 0
            v = w
        elif how == "hidden" and N > 1:
            w[draw(st.integers(1, N - 1))] += draw(st.integers(1, 500))
            v = w
        else:
            v = [float(x) for x in w]
    elif kind == "beta":
        v = draw(st.sampled_from(["100", [True] * N, [100.0] * (N + 1), [math.nan] * N,
                                  [100.0] * (N - 1) + [-1.0], [str(b) for b in m["beta"]]]))
    elif kind == "lam":
        v = draw(st.sampled_from([True, False, "0.5", math.inf, math.nan, -1.0, None, [m["lam"]]]))
    elif kind == "status":
        v = draw(st.sampled_from([1, 3, True, "ok", "Converged", "max-iter", None]))
    elif kind == "n_iter":
        v = draw(st.sampled_from([str(K), float(K), True]) | st.integers(0, 3 * K).filter(lambda x: x != K))
    elif kind == "curvature":
        v = draw(st.sampled_from(["exact", "Theory", 2.0, None, "lla"]))
    elif kind == "activation":
        name = m["activation"]
        other = draw(st.sampled_from([a for a in ("sigmoid", "tanh", "arctan", "gauss_cdf")
                                      if a != name] or ["tanh"]))
        v = other
        builtin = name in ("sigmoid", "tanh", "arctan", "gauss_cdf")
        if builtin and draw(st.booleans()):   # the expression relabelled instead of the name
            kind, v = "activation_expr", str(get_activation(other).expr)
    else:
        v = draw(st.sampled_from([0.0, 1e-30, 2.0 ** -60, 2.0 ** -40, 1e-3, math.nan, -_EPS, True,
                                  "2.2e-16"]) | st.floats(1e-300, 1e-17))
    m[kind] = v
    return f"meta[{kind!r}] = {v!r}"


@st.composite
def meta_doctoring(draw, bases=None):
    """Class c (a trace not to be believed): a real solver trace whose ``meta`` contradicts its
    arrays or the solver's format (a value of the wrong type, non-finite, out of range or
    inconsistent: ``y_norm``, ``n_layers``, ``n_samples``, ``widths``, ``beta``, ``lam``,
    ``status``, ``n_iter``, ``curvature``, the activation's name against its expression, the
    working precision ``eps``; a key the solver always writes deleted), or whose required
    column (``verify.integrity.REQUIRED_COLUMNS``) is dropped (absent or NaN at every row),
    optionally with a raw spike in another column.  Every check must refuse it."""
    base = draw(real_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    if draw(st.booleans()):
        what = _meta_edit(draw, tr)
    else:
        f = draw(st.sampled_from(DROPPABLE_COLUMNS))
        how = draw(st.sampled_from(["absent", "nan"]))
        setattr(tr, f, None if how == "absent" else np.full_like(getattr(base.trace, f), np.nan))
        what = f"column {f} {how}"
        if draw(st.booleans()):
            g = draw(st.sampled_from([c for c in ("normLam", "normV", "normW") if c != f]))
            a = getattr(tr, g).copy()
            a[draw(st.integers(1, len(tr) - 1)), 0] *= draw(st.sampled_from([1e3, 1e8, 1e16]))
            setattr(tr, g, a)
            what += f", {g} spiked"
        if draw(st.booleans()) and "initial" in tr.meta:
            del tr.meta["initial"]
            what += ", meta['initial'] deleted"
    return _bad(base, "c", what, tr, "*")


_also("c", meta_doctoring)


# ------------------------------------------------ class e, continued: late starts, drifts below a peak
#: growth laws of the late-start / below-peak extension, of ``u = k - k0 >= 0``
_LATE_LAWS = {
    "log": lambda u, p: np.log1p(u),
    "power": lambda u, p: u ** p,
    "linear": lambda u, p: u,
}


@st.composite
def late_growth_laws(draw, bases=None):
    """Class e, late: an unbounded law ``log(1 + k - k0)``, ``(k - k0)^p`` (``0.1 <= p <= 1``)
    or ``k - k0`` starting at ``k0 = 0.5 .. 0.7 K`` on an iterate norm of a good run, either
    (``late``) with an amplitude of 2-20 times the series' range, or (``below a peak``) scaled
    so that it ends 30-70 % of its own rise below the series' earlier peak (the peak raised to
    at least the series' range above its tail when the run has none: a consistent first-rows
    transient).  The recorded steps are raised so that the norm's increments stay within
    them.  Targeted check: bounded_iterates (growth that does not stop is never PASS)."""
    base = draw(good_cases() if bases is None else bases)
    tr = _copy_trace(base.trace)
    K, N = len(tr), tr.n_layers
    # ||W_i|| (reg and L_beta recomputed) or the output ||V_N|| (a hidden ||V_i|| of a bounded
    # activation cannot grow; ||Lam_i|| is tied to the recorded violation: class e proper)
    f = draw(st.sampled_from(["normW", "normV"]))
    col = draw(st.integers(0, N - 1)) if f == "normW" else N - 1
    law = draw(st.sampled_from(sorted(_LATE_LAWS)))
    p = draw(st.floats(0.1, 1.0))
    k0 = draw(st.floats(0.5, 0.7)) * K
    k = np.arange(1, K + 1, dtype=float)
    g = _LATE_LAWS[law](np.maximum(0.0, k - k0), p)
    g = g / g[-1]
    x = np.asarray(getattr(tr, f)[:, col], float).copy()
    span = float(x.max() - x.min()) or 1e-3 * max(float(np.abs(x).max()), 1.0)
    below = draw(st.booleans())
    if below:
        A = max(draw(st.floats(2.0, 20.0)) * span, float(x.max() - x[-1]))
        gap = draw(st.floats(0.3, 0.7)) * A
        h = max(2, K // 8)
        peak = float(x[-1] + A + gap)
        # a first-rows transient up to the peak and back (consistent: the steps are raised)
        x[:h] = np.maximum(x[:h], peak * np.sin(np.pi * np.arange(h) / h) ** 2)
        kind = f"below a peak: {f}[{col}] + {A / span:.3g} range {law} from k0 = {k0 / K:.2f} K"
    else:
        A = draw(st.floats(2.0, 20.0)) * span
        kind = f"late: {f}[{col}] + {A / span:.3g} range {law} from k0 = {k0 / K:.2f} K"
    x = x + A * g
    if law == "power":
        kind += f" (p = {p:.2f})"
    getattr(tr, f)[:, col] = x
    inc = np.concatenate([[0.0], np.diff(x)]) ** 2 * (1 + 1e-9)
    if f == "normW":
        tr.dW2[:, col] = np.maximum(tr.dW2[:, col], inc)
        reg = 0.5 * float(tr.meta["lam"]) * np.sum(np.asarray(tr.normW, float) ** 2, axis=1)
        tr.lagrangian = tr.lagrangian - tr.reg + reg
        tr.reg = reg
    else:
        tr.dV2[:, col] = np.maximum(tr.dV2[:, col], inc)
    case = _bad(base, "e", kind, tr, "bounded_iterates")
    # the trend test is the target: a derived box covers ||W_N||, ||Lam_N|| only (and PASSes
    # every series inside it; the other norms are judged by the trend test without it)
    case.options = {**case.options, "bounded_iterates": {}}
    return case


# ------------------------------------------------ round 5 (bounded_iterates): noise, transients, oscillations
# Series-level strategies for the trend test of bounded_iterates (verify._boundedness._growth_trend):
# an unbounded law c + amp (f(1 + k - k0) + perturbation), the perturbation sized by the law's own
# growth g = f(K - k0) - f(0) over the run.  Each returns (x, what, bare): the series, a description
# and the law alone at the same level and scale (a test can tell what the perturbation did: a
# late-start law alone at K of a few hundred can read as a geometric approach, docs/verify.md).

#: unbounded laws of u = k - k0 >= 0 (p: the power of "power")
_R5_LAWS = {
    "log": lambda u, p: np.log1p(u),
    "loglog": lambda u, p: np.log1p(np.log1p(u)),
    "sqrt-log": lambda u, p: np.sqrt(np.log1p(u)),
    "power": lambda u, p: u ** p,
    "sqrt": lambda u, p: np.sqrt(u),
    "linear": lambda u, p: u,
}


def _r5_law(draw, min_K, max_K):
    """``(k, K, law values, g, label)`` of a drawn unbounded law started at ``k0 <= 0.45 K``."""
    K = draw(st.integers(min_K, max_K))
    name = draw(st.sampled_from(sorted(_R5_LAWS)))
    p = draw(st.floats(0.02, 0.7))
    k0 = draw(st.floats(0.0, 0.45)) * K
    k = np.arange(1, K + 1, dtype=float)
    law = _R5_LAWS[name](np.maximum(k - k0, 0.0), p)
    g = float(law[-1] - law[0])
    label = (f"{name}" + (f" p={p:.3g}" if name == "power" else "") + f" from k0={k0 / K:.2f} K, K={K}")
    return k, K, law, g, label


def _r5_scale(draw, x, law):
    """The series and the law alone at any level and scale: ``c + amp x``, ``c + amp law``
    (``c`` 0 .. 1e3, ``amp`` 1e-2 .. 1e2)."""
    c = draw(st.sampled_from([0.0, 1.0, 35.0, 1000.0]))
    amp = 10.0 ** draw(st.floats(-2.0, 2.0))
    return c + amp * x, c + amp * law


def _r5_noise(draw, K):
    """iid noise of unit scale: uniform on [-1, 1], normal or Laplace (a drawn seed)."""
    kind = draw(st.sampled_from(["uniform", "normal", "laplace"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    e = {"uniform": lambda: rng.uniform(-1.0, 1.0, K), "normal": lambda: rng.normal(size=K),
         "laplace": lambda: rng.laplace(size=K)}[kind]()
    return e, kind


def _r5_optional_noise(draw, x, g, K, what):
    """Maybe (a drawn boolean) add iid noise of 0.5-10 % of the law's growth ``g`` to ``x``;
    returns the series and its description."""
    if draw(st.booleans()):
        s = draw(st.floats(0.005, 0.1))
        e, kind = _r5_noise(draw, K)
        x = x + s * g * e
        what += f" + {kind} noise {s:.3g} g"
    return x, what


@st.composite
def noisy_growth_laws(draw, min_K=150, max_K=3000, min_noise=0.005, max_noise=0.2):
    """Class a: an unbounded law plus iid noise (uniform, normal or Laplace) of ``s`` =
    ``min_noise`` .. ``max_noise`` times the law's growth over the run (the attack: 0.5-20 %),
    no transient.  Targeted: ``_growth_trend`` (no such series PASSes)."""
    k, K, law, g, label = _r5_law(draw, min_K, max_K)
    s = draw(st.floats(min_noise, max_noise))
    e, kind = _r5_noise(draw, K)
    x, bare = _r5_scale(draw, law + s * g * e, law)
    return x, f"{label} + {kind} noise {s:.3g} g", bare


@st.composite
def laws_with_saturating_transient(draw, min_K=150, max_K=3000, max_amp=1.0,
                                   tau_ranges=((0.005, 0.08), (0.6, 3.0)), noise=True):
    """Class b: an unbounded law plus a saturating transient ``A g (1 - exp(-k/tau))`` of ``A``
    = 0.05 .. ``max_amp`` times the law's growth, ``tau/K`` drawn from one of ``tau_ranges``,
    optionally with iid noise up to 10 % of ``g``.  The default ranges leave out ``tau`` in
    (0.08 K, 0.6 K), where over ``[K/2, K]`` such a sum has the slowly rising window ratios of a
    real slow approach (``benchmarks/bounded_transient_boundary.py``: PASS for ``tau/K`` in
    0.1 .. 0.4 on its grid; a late-start slow law at K of a few hundred up to 0.5): pass
    ``tau_ranges=((0.08, 0.6),)`` to draw from the boundary itself."""
    k, K, law, g, label = _r5_law(draw, min_K, max_K)
    A = draw(st.floats(0.05, max_amp))
    lo, hi = draw(st.sampled_from(list(tau_ranges)))
    tau = draw(st.floats(lo, hi)) * K
    x = law + A * g * (1.0 - np.exp(-k / tau))
    what = f"{label} + {A:.3g} g (1 - exp(-k/({tau / K:.3g} K)))"
    if noise:
        x, what = _r5_optional_noise(draw, x, g, K, what)
    x, bare = _r5_scale(draw, x, law)
    return x, what, bare


@st.composite
def laws_with_decaying_oscillation(draw, min_K=150, max_K=3000, max_amp=2.0, max_period=0.15,
                                   min_tau=0.2, noise=True):
    """Class c: an unbounded law plus a decaying oscillation ``A g exp(-k/tau) cos(2 pi k/P +
    phi)``: ``A`` = 0.1 .. ``max_amp`` times the law's growth, ``tau`` = ``min_tau`` .. 0.6 K
    (0.2 K: at ``K/2`` the oscillation keeps ``e^-2.5`` = 8 % of its size; a faster decay leaves
    a monotone tail, a law with a smooth perturbation of its increments), period
    ``P`` = 3 rows .. ``max_period K`` (a period of 0.5 K or more leaves the tail ``[K/2, K]``
    one turning point or none: a bump or a dip, ``benchmarks/bounded_transient_boundary.py``;
    at 0.15-0.5 K the oscillation can modulate a nearly monotone tail's window increments: 2
    of 4215 random draws PASS, docs/verify.md), any phase; optionally with iid noise up to
    10 % of ``g``."""
    k, K, law, g, label = _r5_law(draw, min_K, max_K)
    A = draw(st.floats(0.1, max_amp))
    tau = draw(st.floats(min_tau, 0.6)) * K
    P = draw(st.floats(3.0, max(3.0, max_period * K)))
    phi = draw(st.floats(0.0, 2 * math.pi))
    x = law + A * g * np.exp(-k / tau) * np.cos(2 * math.pi * k / P + phi)
    what = f"{label} + {A:.3g} g exp(-k/({tau / K:.3g} K)) cos(2 pi k/{P:.3g} + {phi:.2f})"
    if noise:
        x, what = _r5_optional_noise(draw, x, g, K, what)
    x, bare = _r5_scale(draw, x, law)
    return x, what, bare


# ------------------------------------------------ class i, round 5: growth under dips or noise
# (att21 H2): a hidden ||Lam_i|| grows (geometrically or as a power of k - k0) from any start to
# the end of the run while short dips (any depth, length, spacing with dips on fewer than half
# of the rows) or noise (Gaussian, uniform, Laplace, Student-t 3) break its row-by-row rises;
# L_beta as in the good base (the dual cancels the penalty the multiplier's steps add), every
# identity of verify.validate_trace holding.  sufficient_descent must not PASS: the growth
# alone is INCONCLUSIVE (verify._descent._accelerating_multiplier), and the dips or noise must
# not change that (tests/test_verify_descent_round5.py)
#: the good bases of the class: real runs with user or derived constants (300 rows)
DIPPED_GROWTH_BASES = ("sigmoid d1", "tanh d1", "arctan d1", "algebraic d1", "sigmoid d2",
                       "tanh d2", "arctan d2", "sigmoid d1 derived", "tanh d1 derived")
#: noise kinds, unit variance
_NOISES = {
    "gauss": lambda rng, n: rng.standard_normal(n),
    "uniform": lambda rng, n: rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), n),
    "laplace": lambda rng, n: rng.laplace(size=n) / math.sqrt(2.0),
    "t3": lambda rng, n: rng.standard_t(3, n) / math.sqrt(3.0),
}


def dipped_growth_series(x, k0, shape, rate, period=0, length=1, depth=0.0, phase=0,
                         noise="none", sigma=0.0, seed=0):
    """``x`` up to row ``k0`` (0-based), then ``x[k0 - 1]`` times a growth of ``u = k - k0 + 1``:
    ``shape = "geo"``: ``rate^u``; ``"power"``: ``1 + rate (u / (K - k0))^2.5``; rows with
    ``(k + phase) % period < length`` (``period > 0``) after ``k0`` scaled by ``1 - depth``; the
    growth multiplied by ``1 + sigma z`` (``z`` of the noise kind, seeded).  Positive."""
    x = np.asarray(x, float).copy()
    K = x.size
    u = np.arange(1, K - k0 + 1, dtype=float)
    if shape == "geo":
        grow = rate ** u
    elif shape == "power":
        grow = 1.0 + rate * (u / (K - k0)) ** 2.5
    else:
        raise ValueError(f"shape: expected 'geo' or 'power', got {shape!r}")
    y = float(x[k0 - 1]) * grow
    if period > 0:
        k = np.arange(k0, K)
        y = np.where((k + phase) % period < length, y * (1.0 - depth), y)
    if noise != "none":
        y = y * np.maximum(0.05, 1.0 + sigma * _NOISES[noise](np.random.default_rng(seed), y.size))
    x[k0:] = y
    return x


def dipped_growth_case(base, layer, k0, **series):
    """The :class:`TraceCase` of ``base`` (a good case with descent constants) whose hidden
    ``||Lam_layer||`` follows :func:`dipped_growth_series` from row ``k0``, made consistent:
    the constraint violation covers every multiplier step (up or down) and is at least
    ``||Lam|| / beta``, the penalty follows it and the dual cancels what the penalty gained
    (``L_beta`` as in the base)."""
    tr = _copy_trace(base.trace)
    K, N = len(tr), tr.n_layers
    beta = np.broadcast_to(np.asarray(tr.meta["beta"], float), (N,))
    b = beta[layer]
    new = dipped_growth_series(tr.normLam[:, layer], k0, **series)
    F = tr.feas.copy()
    for r in range(k0, K):
        F[r, layer] = max(F[r, layer], new[r] / b, abs(new[r] - new[r - 1]) / b * (1 + 1e-9))
    pen_old = tr.penalty.copy()
    tr.normLam[:, layer] = new
    tr.feas[:] = F
    tr.penalty[:] = 0.5 * (beta * F ** 2).sum(axis=1)
    tr.dual[:] = tr.dual - (tr.penalty - pen_old)
    tr.lagrangian[:] = tr.loss + tr.reg + tr.dual + tr.penalty
    _reconcile(tr, min_loss=0.0)
    desc = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in series.items())
    return TraceCase("i", f"||Lam_{layer + 1}|| from k={k0 + 1}: {desc}", tr,
                     "sufficient_descent", base.options, base=base.base, refuse_all=False)


@st.composite
def dipped_growth_params(draw, K=REAL_ITERS):
    """Parameters of :func:`dipped_growth_series` on a run of ``K`` rows: a growth that the
    rule reads without dips (geometric ``g^(K/8) = 1.4 .. 4``, 12 % or more above
    ``LAM_ACCEL = 1.25``: noise moves a smoothing's ratio by a few %; or a power ``u^2.5`` of
    amplitude 1 .. 5 times its start) from ``k0 = 0.15 .. 0.7 K``, with dips (period 3 .. 12,
    1 .. (period - 1) / 2 rows, depth 0.5 .. 50 %), noise (sigma 0.1 .. 2 %, four kinds) or
    both."""
    e = K // 8
    shape = draw(st.sampled_from(["geo", "power"]))
    if shape == "geo":
        rate = float(draw(st.floats(1.4, 4.0)) ** (1.0 / e))
    else:
        # amplitude 1 or more: from 0.15 K the power's eighths and windows grow by 1.2-1.3 only,
        # and 2 % noise on an amplitude of 0.5 moves them below LAM_ACCEL / LAM_TAIL (a draw of
        # 3000: rate 0.5 from k = 47 under 2 % Laplace noise PASSed)
        rate = draw(st.floats(1.0, 5.0))
    k0 = int(draw(st.floats(0.15, 0.7)) * K)
    kind = draw(st.sampled_from(["dips", "noise", "both"]))
    p = {"shape": shape, "rate": rate}
    if kind in ("dips", "both"):
        period = draw(st.integers(3, 12))
        p.update(period=period, length=draw(st.integers(1, max(1, (period - 1) // 2))),
                 depth=draw(st.floats(0.005, 0.5)), phase=draw(st.integers(0, period - 1)))
    if kind in ("noise", "both"):
        p.update(noise=draw(st.sampled_from(sorted(_NOISES))), sigma=draw(st.floats(0.001, 0.02)),
                 seed=draw(st.integers(0, 2 ** 16)))
    return k0, p


@st.composite
def dipped_growing_multipliers(draw, bases=DIPPED_GROWTH_BASES):
    """Class i, round 5: :func:`dipped_growth_case` on a real good run (user or derived
    constants), any hidden layer, parameters from :func:`dipped_growth_params`."""
    base = real_case(draw(st.sampled_from(list(bases))))
    layer = draw(st.integers(0, base.trace.n_layers - 2))
    k0, p = draw(dipped_growth_params(len(base.trace)))
    return dipped_growth_case(base, layer, k0, **p)


# ============================================================================================
# Round 5 (kkt_rate): residuals tending to a positive limit along completely monotone decays
# ============================================================================================
#: completely monotone decays ``f(k; K, a, b)`` (every one a non-negative mixture of
#: ``exp(-t k)``): the round-5 class of approaches ``c + f(k)`` to a positive limit ``c``
#: (att21 H3: ``c + exp(-sqrt(k/s))``, ``c + k^-2 e^(-k/s)``, ``c + e^(-k/s)/log k`` with ``c``
#: 15-40 % of ``r_K`` PASSed kkt_rate as power laws or geometric).  ``a`` sets the scale as a
#: fraction of ``K``, ``b`` the family's shape parameter, drawn from the family's own range
#: (the second element of each entry).
CM_DECAYS = {
    # exp(-(k/s)^b), 0 < b <= 1: a stretched exponential (completely monotone for b <= 1)
    "stretched": (lambda k, K, a, b: np.exp(-(k / (a * K)) ** b), (0.3, 1.0), (0.003, 0.5)),
    # k^-b exp(-k/s): a power times an exponential (a product of completely monotone functions)
    "power_exp": (lambda k, K, a, b: k ** -b * np.exp(-k / (a * K)), (0.5, 3.0), (0.3, 3.0)),
    # exp(-k/s) / log(k + 1)^b
    "exp_log": (lambda k, K, a, b: np.exp(-k / (a * K)) / np.log(k + 1.0) ** b, (1.0, 2.0),
                (0.1, 0.5)),
    # (1 + k/s)^-b: a generalised Cauchy (a gamma mixture of exponentials)
    "cauchy": (lambda k, K, a, b: (1.0 + k / (a * K)) ** -b, (1.0, 4.0), (0.01, 0.2)),
    # k^-b: a power law
    "power": (lambda k, K, a, b: k ** -b, (0.5, 4.0), (1.0, 1.0)),
    # exp(-k/s) + b exp(-3 k/s): a two-term exponential mixture
    "mixture": (lambda k, K, a, b: np.exp(-k / (a * K)) + b * np.exp(-3.0 * k / (a * K)),
                (0.0, 10.0), (0.05, 0.5)),
}


def cm_limit_law(K, family, a, b, frac, scale=1e-2):
    """The residual of the round-5 class: ``1/k`` to ``r_h`` over the first half, then ``c +
    f(k)`` (``f`` = ``CM_DECAYS[family]`` with scale ``a K`` and shape ``b``) with ``c = frac
    r_K`` (``frac = 0``: the pure decay), continuous at ``h = K // 2``; scaled to ``r_h =
    scale``.  Returns ``(r, law)`` with ``law`` the second-half law on every row."""
    k = np.arange(1, K + 1, dtype=float)
    h = K // 2
    f = CM_DECAYS[family][0](k, K, a, b)
    c = frac / (1.0 - frac) * f[-1]                  # c / (c + f_K) = frac
    law = c + f
    r = np.where(k < h, (k / h) ** -1.0 * law[h - 1], law)
    return scale * r / r[h - 1], law / law[h - 1]


@st.composite
def cm_positive_limits(draw, min_K=80, max_K=1200, min_frac=0.15, max_frac=0.9, families=None,
                       f_fall=0.25):
    """``(r, info)``: a residual of :func:`cm_limit_law` tending to a positive limit ``c =
    frac r_K`` (``frac`` in ``[min_frac, max_frac]``) along a completely monotone decay drawn
    from ``CM_DECAYS`` (family, scale, shape), over ``K`` rows, the decay itself falling by
    at least the factor ``1 / f_fall`` over the second half (``f_K <= f_fall f_h``; 0.25:
    twice the fall of ``1/k``; a decay barely faster than ``1/k`` lets a fit put part of ``c``
    into decays of that speed, docs/verify.md, Round 5).  Only laws that move in float64 over
    the second half (``r_h > r_K (1 + 1e-6)``) and stay above 1e-300 are drawn."""
    fam = draw(st.sampled_from(sorted(families or CM_DECAYS)))
    _, (b0, b1), (a0, a1) = CM_DECAYS[fam]
    K = draw(st.integers(min_K, max_K))
    b = draw(st.floats(b0, b1))
    a = draw(st.floats(a0, a1)) if a1 > a0 else a0
    frac = draw(st.floats(min_frac, max_frac))
    r, law = cm_limit_law(K, fam, a, b, frac)
    f = CM_DECAYS[fam][0](np.array([K // 2, K], dtype=float), K, a, b)
    assume(np.all(np.isfinite(r)) and np.all(r > 1e-300) and law[K // 2 - 1] > law[-1] * (1 + 1e-6)
           and f[1] <= f_fall * f[0])
    return r, {"family": fam, "K": K, "a": a, "b": b, "frac": frac}
