"""Mutation tests: the end-to-end property check must FAIL on mutated conditions code.

:func:`derived_run_failures` is the body of the end-to-end property tests
(tests/test_verify_properties.py, tests/test_verify_derivation.py): it fits a run under
derived conditions and lists every property of the derivation the run contradicts:

* P0 the run's recorded (beta, lambda) satisfy the derived a-priori conditions, recomputed
  from the trace's meta and the data (``conditions.guaranteed``);
* P1 Lemma 14 with the derived xi and a: ``sufficient_descent(..., conditions=c)`` PASSes
  and ``a > 0`` (not only ``min_margin >= a``);
* P2 Lemma 18 step by step with the run's measured norms (``conditions.lemma18_steps``);
* P3 the derived (xi, a) are valid with the run's measured norms (``conditions.certifies``).

Each mutation below is applied with the ``patch_conditions`` fixture (tests/conftest.py: in
verify.conditions and in the module that calls the name); the unmutated code passes the same runs.
"""

import warnings

import pytest

import verify.conditions as VC
from solver import ADMM, init_weights, tasks
from verify import sufficient_descent
from verify.checks import Verdict

PROBLEMS = [  # (depth, activation, lam, init scale)
    (1, "sigmoid", 1.0, 1.0),
    (1, "tanh", 1e-2, 1.0),
    (2, "sigmoid", 1.0, 1.0),
]


def derived_run_failures(depth, act, lam, scale, iters=120):
    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", scale, 0)
    c = VC.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=lam)
    m = ADMM(hidden_layer_sizes=(4,) * depth, max_iter=iters, verbose=0, engine="numpy", **c.kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    tr = m.trace_
    fails = []
    d = c.data
    g = VC.guaranteed(depth, act, tr.meta["beta"], tr.meta["lam"], E0=d["E0"], y_norm=d["y_norm"],
                      n=d["n"], widths=d["widths"])
    if not g:
        fails.append("P0: the run's (beta, lam) are outside the derived conditions")
    if not (c.a is not None and c.a > 0):
        fails.append(f"P1: derived a = {c.a} is not positive")
    sd = sufficient_descent(m, conditions=c)
    if sd.verdict != Verdict.PASS:
        fails.append(f"P1: sufficient_descent {sd.verdict.name}: {sd.message}")
    l18 = VC.lemma18_steps(tr)
    if not l18["holds"]:
        fails.append(f"P2: Lemma 18 violated, max ratio {l18['max_ratio']}")
    cr = VC.certifies(tr, c.xi_layers, c.a)
    if not cr["holds"]:
        fails.append(f"P3: {cr['reason']}")
    return fails


@pytest.fixture(autouse=True)
def _fresh_caches():
    VC._search_two_hidden.cache_clear()
    VC._search_one_hidden_sharp.cache_clear()
    yield
    VC._search_two_hidden.cache_clear()
    VC._search_one_hidden_sharp.cache_clear()


@pytest.mark.parametrize("problem", PROBLEMS)
def test_unmutated_conditions_pass_every_property(problem):
    assert derived_run_failures(*problem) == []


def _wrap_derive(patch_conditions, edit):
    orig = VC.derive

    def mutated(*a, **k):
        c = orig(*a, **k)
        edit(c)
        return c

    patch_conditions("derive", mutated)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_mutation_beta1_divided_by_1000_fails(patch_conditions, problem):
    def edit(c):
        c.beta[0] /= 1000
    _wrap_derive(patch_conditions, edit)
    assert derived_run_failures(*problem) != []


@pytest.mark.parametrize("problem", PROBLEMS)
def test_mutation_xi_zero_fails(patch_conditions, problem):
    def edit(c):
        c.xi_layers = [0.0] * len(c.xi_layers)
        c.xi = 0.0 if c.depth == 1 else list(c.xi_layers)
    _wrap_derive(patch_conditions, edit)
    fails = derived_run_failures(*problem)
    assert any(f.startswith("P3") for f in fails), fails


@pytest.mark.parametrize("problem", PROBLEMS)
def test_mutation_dropping_a_lemma18_term_fails(patch_conditions, problem):
    """Drop the ||DW_{i+1}|| term (the weight step of the next layer) of a Lemma-18 form."""
    o1, o2 = VC._lemma18_forms_1, VC._lemma18_forms

    def f1(*a, **k):
        c = dict(o1(*a, **k))
        c.pop("e2")
        return c

    def f2(*a, **k):
        c1, c2 = o2(*a, **k)
        c2 = dict(c2)
        c2.pop("e3")
        return c1, c2

    patch_conditions("_lemma18_forms_1", f1)
    patch_conditions("_lemma18_forms", f2)
    fails = derived_run_failures(*problem)
    assert any(f.startswith("P2") for f in fails), fails
