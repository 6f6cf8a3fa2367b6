"""Lemma W (docs/conditions_derivation.md, G.2): the depth-1 bound on ||W_2^k|| by recursion.

Per step on recorded runs under the derived depth-1 conditions (sigmoid and tanh, two seeds):
``||W_2^{k+1}|| <= K (2 ||Y|| + (b2-1)/b2 ||Lam_2^{k-1}||)/(1+b2) + rho ||W_2^k||`` with
``K = sqrt(b2/lam)/2``, ``rho = (b2-1)/(b2+1)``, and the invariant ``w`` bounds every ``||W_2^k||``.
Mutation: the recursion without its data term (``||W_2^{k+1}|| <= rho ||W_2^k||``) fails on the
same runs, so the per-step check can fail.
"""

import math
import warnings

import numpy as np
import pytest

from solver import ADMM, init_weights, tasks
from verify import bounded_iterates, conditions as C, Verdict


def _run(act, seed, n=40):
    t = tasks.make_task("square", n=n, seed=seed, n_test=0)
    w0 = init_weights((t.X.shape[1], 4, 1), "lecun_normal", 1.0, seed)
    c = C.derive_from_data(1, act, X=t.X, y=t.y, init_weights=w0, lam=1.0, beta_out=2.0)
    m = ADMM(hidden_layer_sizes=(4,), max_iter=150, verbose=0, engine="numpy", **c.kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    return c, m.trace_, float(np.linalg.norm(t.y))


def _recursion(tr, b2, lam, y, data_term=True):
    """(lhs, rhs) of Lemma W at trace rows j >= 1 (row j = iteration j + 1; Lam_2^0 = 0)."""
    K, rho = math.sqrt(b2 / lam) / 2, (b2 - 1) / (b2 + 1)
    nW, nL = tr.normW[:, 1], tr.normLam[:, 1]
    lam_prev = np.concatenate([[0.0], nL[:-2]])          # ||Lam_2^{k-1}|| for iteration k+1 = j+1
    c = K * (2 * y + (b2 - 1) / b2 * lam_prev) / (1 + b2) if data_term else 0.0
    return nW[1:], c + rho * nW[:-1]


@pytest.mark.parametrize("act,seed", [("sigmoid", 0), ("tanh", 1), ("sigmoid", 3)])
def test_lemma_w_per_step_and_the_invariant_bound(act, seed):
    c, tr, y = _run(act, seed)
    b2, lam = c.beta[1], c.lam
    lhs, rhs = _recursion(tr, b2, lam, y)
    assert np.all(lhs <= rhs * (1 + 1e-9) + 1e-12), float(np.max(lhs / rhs))
    assert np.all(tr.normW[:, 1] <= c.bounds["w"] * (1 + 1e-9))
    assert c.box().W[1] == c.bounds["w"]
    assert bounded_iterates(tr, conditions=c).verdict == Verdict.PASS
    # mutation: without its data term the recursion is violated on the run
    lhs0, rhs0 = _recursion(tr, b2, lam, y, data_term=False)
    assert np.any(lhs0 > rhs0 * (1 + 1e-6))


def test_lemma_w_is_tighter_than_the_former_step_bound_and_still_closes():
    c, tr, y = _run("sigmoid", 0)
    b2, lam, aL = c.beta[1], c.lam, c.bounds["a_star"]
    former = ((b2 - 1) * aL + b2 * y) / (2 * math.sqrt(lam * b2))
    assert C._w2_invariant(b2, lam, y, aL) < former
    assert c.requirements["least beta_1 (box closes, a > 0)"] < 400      # 480 with the former bound
