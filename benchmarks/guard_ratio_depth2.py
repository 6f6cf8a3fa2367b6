"""The numerical-validity guard ratio against k on the sharp depth-2 sigmoid schedule
(lambda = 1; docs/verify.md, "Numerical-validity guard").

    PYTHONPATH=. python benchmarks/guard_ratio_depth2.py [--iters 300] [--n 100 --width 10]

The CLI's setting (square, n = 100, width 10, lecun_normal, seed 0; beta from
verify.conditions.derive_from_data).  Prints ratio_i = beta_i eps ||V_i^k|| / ||Lam_i^k|| of the
hidden layers at chosen k and the first k where it exceeds the threshold 1e-5.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from solver import ADMM, init_weights, tasks
from verify import conditions


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--n", type=int, default=100, help="samples (the real run of verify.strategies: 40)")
    ap.add_argument("--width", type=int, default=10, help="hidden width (verify.strategies: 4)")
    a = ap.parse_args(argv)
    t = tasks.make_task("square", n=a.n, seed=0, n_test=0)
    w0 = init_weights((1, a.width, a.width, 1), "lecun_normal", 1.0, 0)
    c = conditions.derive_from_data(2, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    m = ADMM(hidden_layer_sizes=(a.width, a.width), max_iter=a.iters, random_state=0, verbose=0,
             engine="numpy", **c.kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    tr = m.trace_
    beta = np.asarray(tr.meta["beta"], float)
    eps = np.finfo(float).eps
    ratio = beta[None, :] * eps * tr.normV / tr.normLam
    print(f"beta = {[f'{b:.4g}' for b in beta]}, {len(tr)} iterations")
    print("k      " + "  ".join(f"layer {i + 1:<5}" for i in range(tr.n_layers - 1)))
    for k in (1, 10, 50, 100, 150, 200, 225, 250, 275, 300):
        if k <= len(tr):
            print(f"{k:<6} " + "  ".join(f"{ratio[k - 1, i]:<11.3g}" for i in range(tr.n_layers - 1)))
    over = np.flatnonzero((ratio[:, :-1] > 1e-5).any(axis=1))
    print("first k above 1e-5:", int(over[0]) + 1 if over.size else None)


if __name__ == "__main__":
    main()
