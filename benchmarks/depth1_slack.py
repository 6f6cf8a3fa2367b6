"""Where the depth-1 derived beta_1 loses against the observed boundary (issue 22, item 5).

Square task, ``n = 40``, width 4, ``lambda = 1``, ``beta_2 = 2`` (the phase table's setting,
docs/conditions_derivation.md, J), lecun_normal scale 1; seeds 0-4, sigmoid and tanh.  Per case:

* three least ``beta_1``: **derived** (the sharp a-priori conditions, ``derive_from_data(1, ...,
  beta_out=2)``, before the safety factor), **a-posteriori** (the chain of G.2 with the box
  replaced by the run's own maxima, :func:`verify.conditions.a_posteriori`) and **observed**
  (:func:`verify.phase.observed_descent`), the last two as the least value of the grid
  ``10^(i/4)``, ``i = -4 .. 16``, from which every larger grid value holds (200 float64 iterations
  each).  derived / a-posteriori is what the a-priori box loses; a-posteriori / observed is what
  the chain itself (Lemmas 18 and 14 with exact bounds) loses;
* at the derived ``beta``, each a-priori quantity against the run's largest value: the iterate-1
  lemma (G.1: ``||DV_1^1||``, ``||DV_2^1||``, ``||Lam_2^1||``, ``||Lam_1^1||``, ``L^1``), the box
  (``w >= ||W_2^k||``, ``r >= ||R^k||``, ``a* >= ||Lam_2^k||``), Lemma 18 (largest per-step
  lhs/rhs) and Lemma 14 (derived ``a`` against the smallest measured margin).

Output: ``benchmarks/results/extprec/depth1_slack.json`` (rewritten after every case, with
``complete: false`` until the last).  The committed file holds the one case that finished before
the run was stopped at load 27 (sigmoid, seed 0; derived value before Lemma W, G.2);
``depth1_slack_v1.json`` is the earlier version's output (docs/conditions_derivation.md, J.3).

    nice -n 5 python benchmarks/depth1_slack.py
"""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "extprec"
GRID = [10.0 ** (i / 4) for i in range(-4, 17)]
N_SAMPLES, WIDTH, LAM, BETA2, ITERS = 40, 4, 1.0, 2.0, 200


def _fit(X, y, w0, beta, act):
    from solver import ADMM

    m = ADMM(hidden_layer_sizes=(WIDTH,), activation=act, lam=LAM, beta=list(beta),
             max_iter=ITERS, verbose=0, engine="numpy", curvature="theory")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X, y, init_weights=w0)
    return m.trace_


def _least(flags):
    """Least grid value from which every larger grid value holds (inf if the top fails)."""
    least = math.inf
    for b, ok in zip(reversed(GRID), reversed(flags)):
        if not ok:
            break
        least = b
    return least


def case(act, seed):
    from solver import init_weights, tasks
    from theory import get_activation
    from verify import conditions as C, sufficient_descent
    from verify.phase import observed_descent

    t = tasks.make_task("square", n=N_SAMPLES, seed=seed, n_test=0)
    w0 = init_weights((t.X.shape[1], WIDTH, 1), "lecun_normal", 1.0, seed)
    c = C.derive_from_data(1, act, X=t.X, y=t.y, init_weights=w0, lam=LAM, beta_out=BETA2)
    obs, ap = [], []
    for b1 in GRID:
        tr = _fit(t.X, t.y, w0, (b1, BETA2), act)
        obs.append(observed_descent(tr))
        ap.append(bool(C.a_posteriori(tr)["holds"]))
    tr = _fit(t.X, t.y, w0, c.beta, act)
    n = len(tr)
    b2 = c.beta[1]
    d = np.sqrt(np.asarray(tr.dV2[:n], float))
    R = tr.normLam[:n, 1] + b2 * d[:, 1]                      # >= ||R^k|| (triangle)
    sd = sufficient_descent(tr, conditions=c)
    l18 = C.lemma18_steps(tr)
    L = C._act_constants(get_activation(act))
    it1 = C.one_hidden_box(c.beta, LAM, c.data["E0"], c.data["y_norm"], L)["iter1"]
    pair = lambda bound, meas: [float(bound), float(meas)]   # noqa: E731
    return {"activation": act, "seed": seed, "beta": c.beta,
            "derived": c.requirements["least beta_1 (box closes, a > 0)"],
            "a_posteriori": _least(ap), "observed": _least(obs),
            "iter1": {"dV1": pair(it1["d1"], d[0, 0]), "dV2": pair(it1["d2"], d[0, 1]),
                      "Lam2": pair(it1["lam2"], tr.normLam[0, 1]),
                      "Lam1": pair(it1["lam1"], tr.normLam[0, 0]),
                      "L1": pair(it1["L1"], tr.lagrangian[0])},
            "box": {"w": pair(c.bounds["w"], np.max(tr.normW[:n, 1])),
                    "r": pair(c.bounds["r"], np.max(R)),
                    "a_star": pair(c.bounds["a_star"], np.max(tr.normLam[:n, 1]))},
            "lemma18_max_ratio": float(l18["max_ratio"][1]),
            "a": pair(c.margin, sd.min_margin)}


def _write(rows, seconds, complete, acts, seeds):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "depth1_slack.json").write_text(json.dumps(
        {"settings": {"task": "square", "n": N_SAMPLES, "width": WIDTH, "lam": LAM, "beta_2": BETA2,
                      "iters": ITERS, "grid": "10^(i/4), i = -4..16", "activations": list(acts),
                      "seeds": list(seeds)},
         "complete": complete, "seconds": round(seconds, 1), "rows": rows}, indent=1) + "\n")


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--activations", nargs="+", default=["sigmoid", "tanh"])
    p.add_argument("--seeds", nargs="+", type=int, default=list(range(5)))
    a = p.parse_args(argv)
    rows = []
    t0 = time.time()
    for act in a.activations:
        for seed in a.seeds:
            row = case(act, seed)
            rows.append(row)
            print(json.dumps(row), flush=True)
            _write(rows, time.time() - t0, False, a.activations, a.seeds)   # checkpoint per case
    _write(rows, time.time() - t0, True, a.activations, a.seeds)


if __name__ == "__main__":
    main()
