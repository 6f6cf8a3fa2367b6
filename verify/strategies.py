"""Hypothesis strategies for property tests of the ADMM's convergence theory.

Small composable pieces, in the style of ``hypothesis.strategies``:

* :func:`activations`: the smooth built-ins of :mod:`theory` (sigmoid, tanh, the
  Gaussian CDF "erf" one, the arctan one), an example user :class:`theory.Activation`
  (``1/2 + t / (2 sqrt(1 + t^2))``) and any user activations passed in;
* :func:`problems`: small regression problems (n, d, depth 1-4, widths) as :class:`Problem`;
* :func:`initialisations`: explicit initial weights ``[(W_i, b_i)]`` for a problem;
* :func:`inside_conditions` / :func:`outside_conditions`: solver keyword arguments
  inside the conditions of :mod:`verify.conditions` (derived for depth 1) or
  clearly outside them (tiny beta, the authors' reference curvature);
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
    return Activation.from_expr(sp.Rational(1, 2) + t / (2 * sp.sqrt(1 + t ** 2)), t, "algebraic")


def activations(include_user=True, extra=()):
    """Smooth activations (Assumption 1): the four built-ins, optionally a user one, plus ``extra``."""
    base = [sigmoid, tanh, gauss_cdf, arctan_sigmoid]
    if include_user:
        base.append(algebraic_sigmoid())
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
                                            "orth_uniform", "msra"), scales=(0.5, 1.0, 2.0)):
    """Explicit initial weights ``[(W_i, b_i)]`` for ``problem`` (solver orientation)."""
    from solver import init_weights

    scheme = draw(st.sampled_from(list(schemes)))
    scale = draw(st.sampled_from(list(scales)))
    seed = draw(st.integers(0, 2 ** 16))
    return init_weights(problem.widths, scheme, scale, seed)


def inside_conditions(problem, activation, init_weights, lam=st.sampled_from([0.1, 1.0, 10.0])):
    """Solver kwargs satisfying :func:`verify.conditions.derive` (derived for depth 1).

    Draws ``lam`` and returns ``(kwargs, Conditions)``.
    """
    lam_st = lam if isinstance(lam, st.SearchStrategy) else st.just(float(lam))

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
                  progress=False, seed=0, engine="numpy")
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
