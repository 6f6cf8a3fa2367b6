"""Study: the square task's train error drifts upward after iteration 2 (issue 3 targets).

Paper settings (n = 1000, two hidden layers of width 100, lambda 1e-6, beta 1, MSRA x 8).
For seeds 0 and 4 it prints, under three curvature rules, the best train MSE and where
it is reached, the MSE at iterations 50 and ``--iters``, and the per-layer feasibility at
iteration 50.  It shows the drift is the algorithm's (the same under every rule), not an
artefact of our curvature choice.

Run:  .venv/bin/python benchmarks/study_square_drift.py [--iters 200] [--seeds 0 4]
"""

from __future__ import annotations

import argparse

import numpy as np

from solver import ADMM, tasks

RULES = [("theory", 2.0), ("theory", 1.0), ("reference", 1.0)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 4])
    args = ap.parse_args(argv)
    if args.iters < 50:
        ap.error("--iters: expected at least 50")
    print("seed  curvature  factor  best MSE (k)        MSE k=50   MSE k=last  ||F_i|| at k=50")
    for seed in args.seeds:
        t = tasks.make_task("square", n=1000, seed=seed)
        for rule, factor in RULES:
            m = ADMM(hidden_layer_sizes=(100, 100), random_state=seed, lam=1e-6, beta=1.0, init="msra",
                     init_scale=8.0, max_iter=args.iters, curvature=rule,
                     curvature_factor=factor).fit(t.X, t.y)
            e, f = m.trace_.train_mse, m.trace_.feas
            print(f"{seed:>4}  {rule:<9}  {factor:>6}  {e.min():.2e} ({e.argmin() + 1:>3})    "
                  f"{e[49]:.2e}   {e[-1]:.2e}    {np.array2string(f[49], precision=5)}")


if __name__ == "__main__":
    main()
