"""Where the depth-1 derived beta_1 loses against the observed boundary (issue 22, item 5).

Square task, ``n = 40``, width 4, sigmoid, ``lambda = 1``, seeds 0-2: the sharp a-priori
derivation (``derive_from_data(1, ...)``, docs/conditions_derivation.md, G.2) and a 200-iteration
float64 run at its ``beta``; per seed, each a-priori quantity of the chain against the value the
run measures (box: ``w >= ||W_2^k||``, ``r >= ||R^k||``, ``a* >= ||Lam_2^k||``, iterate 1: ``L^1``;
Lemma 18: the largest per-step lhs/rhs; Lemma 14: the derived ``a`` against the smallest measured
margin).  Output: ``benchmarks/results/extprec/depth1_slack.json``.

    nice -n 5 python benchmarks/depth1_slack.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "extprec"


def main():
    from solver import ADMM, init_weights, tasks
    from verify import conditions as C, sufficient_descent

    rows = []
    for seed in (0, 1, 2):
        t = tasks.make_task("square", n=40, seed=seed, n_test=0)
        w0 = init_weights((1, 4, 1), "lecun_normal", 1.0, seed)
        c = C.derive_from_data(1, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
        m = ADMM(hidden_layer_sizes=(4,), max_iter=200, verbose=0, engine="numpy", **c.kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(t.X, t.y, init_weights=w0)
        tr = m.trace_
        n = len(tr)
        b2 = c.beta[1]
        R = tr.normLam[:n, 1] + b2 * np.sqrt(tr.dV2[:n, 1])          # >= ||R^k|| (triangle)
        sd = sufficient_descent(tr, conditions=c)
        l18 = C.lemma18_steps(tr)
        it1 = C.one_hidden_box(c.beta, 1.0, c.data["E0"], c.data["y_norm"],
                               C._act_constants(C.get_activation("sigmoid")))["iter1"]
        row = {"seed": seed, "beta": c.beta, "least_beta1": c.requirements[
                   "least beta_1 (box closes, a > 0)"],
               "w": [c.bounds["w"], float(np.max(tr.normW[:n, 1]))],
               "r": [c.bounds["r"], float(np.max(R))],
               "a_star": [c.bounds["a_star"], float(np.max(tr.normLam[:n, 1]))],
               "L1": [it1["L1"], float(tr.lagrangian[0])],
               "lemma18_max_ratio": l18["max_ratio"][1],
               "a": [c.margin, sd.min_margin]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "depth1_slack.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
