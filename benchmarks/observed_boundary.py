"""Observed descent boundaries at depth 2 and 3 beside the derived least beta_1 (issue 22, item 5).

For each depth and choice of the other penalties (``rest``: all 2, as the depth-1 phase table,
or the derived ``beta_2..beta_N`` of seed 0), :func:`verify.phase.phase_plane` runs the grid
``beta_1 in 10^(-1 .. 6)`` (half-decade steps) for seeds 0-2, 200 iterations (float64, numpy
engine, theory curvature), square task, ``n = 40``, widths 4, ``lambda = 1``; the observed
boundary is the least grid ``beta_1`` from which every seed shows descent
(:func:`verify.phase.observed_descent`) at it and every larger grid value.  Results:
``benchmarks/results/extprec/observed_boundary.json``.

    nice -n 5 python benchmarks/observed_boundary.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "extprec"


def least_observed(pp):
    ok = pp.observed[0] >= 1 - 1e-9
    for j in range(ok.size):
        if ok[j:].all():
            return float(pp.beta1s[j])
    return None


def main():
    from solver import init_weights, tasks
    from verify import conditions as C
    from verify.phase import phase_plane

    rows = []
    for depth in (2, 3):
        t = tasks.make_task("square", n=40, seed=0, n_test=0)
        w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", 1.0, 0)
        c = C.derive_from_data(depth, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
        for label, rest in (("rest = 2", (2.0,) * depth), ("rest = derived", tuple(c.beta[1:]))):
            pp = phase_plane("square", lams=(1.0,), beta_rest=rest, depth=depth, seeds=(0, 1, 2),
                             n=40, width=4, iters=200)
            row = {"depth": depth, "rest_label": label, "rest": list(rest),
                   "beta1s": pp.beta1s.tolist(), "observed_fraction": pp.observed[0].tolist(),
                   "least_observed": least_observed(pp),
                   "derived_least_beta1": c.requirements["least beta_1 (box closes, a > 0)"],
                   "derived_beta": list(c.beta)}
            rows.append(row)
            print(json.dumps({k: row[k] for k in ("depth", "rest_label", "least_observed",
                                                   "derived_least_beta1")}), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "observed_boundary.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
