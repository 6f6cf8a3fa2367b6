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

Example::

    from hypothesis import given
    from verify import strategies as vst, assert_converges

    @given(vst.runs(inside=True, max_depth=1))
    def test_descent(spec):
        model = spec.fit()
        assert sufficient_descent(model, xi=spec.conditions.xi).passed
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from theory import Activation, arctan_sigmoid, gauss_cdf, get_activation, sigmoid, tanh

from . import conditions as _cond

__all__ = [
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
    from theory.activations import Bound

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

    act._numpy_impl = (f, d1, d2)
    grid = np.arange(-60.0, 60.0, 1e-4)
    import mpmath

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
    from solver import init_weights

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
        "activation": st.just(act.name if act.kernel_id is not None else act),
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
    name = act.name if act.kernel_id is not None else act
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
        from solver import ADMM

        kw = dict(self.kwargs)
        kw["activation"] = self.activation
        kw.update(hidden_layer_sizes=self.problem.hidden_layer_sizes, max_iter=self.max_iter,
                  verbose=0, random_state=0, engine="numpy")
        kw.update(overrides)
        return ADMM(**kw)

    def fit(self, **overrides):
        """Fit the solver on the problem from the drawn initial weights; returns the model."""
        import warnings

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
    return RunSpec(problem=prob, activation=act if act.kernel_id is None else act.name,
                   init_weights=w0, kwargs=kw, conditions=c, max_iter=max_iter)
