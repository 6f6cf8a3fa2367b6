"""Rounding sensitivity of a beta = 1 run: compiled vs reference engine, same data and start.

Prints, at a few iterations k, the relative gap of the augmented Lagrangian L_beta between
the two engines and the constraint violation ||F|| of each.

Run:  python -m sigadmm.experiments.studies.chaos
"""

from __future__ import annotations

import numpy as np

from solver import ADMM, tasks
from solver.init import init_weights

N_SAMPLES = 200
HIDDEN = (10, 10, 10)
N_ITER = 300
SEED = 0
ENGINES = ("numba", "reference")
REPORT_AT = (1, 10, 50, 100, 150, 200, 299)


def main() -> None:
    t = tasks.make_task("square", n=N_SAMPLES, seed=SEED, n_test=0)
    w0 = init_weights((1, *HIDDEN, 1), "msra", 1.0, SEED)
    out = {}
    for eng in ENGINES:
        m = ADMM(hidden_layer_sizes=HIDDEN, activation="tanh", beta=1.0, lam=1e-6, max_iter=N_ITER,
                 random_state=SEED, engine=eng)
        m.fit(t.X, t.y, init_weights=w0)
        out[eng] = m.trace_
    a, b = (out[e] for e in ENGINES)
    fa, fb = np.sqrt((a.feas ** 2).sum(1)), np.sqrt((b.feas ** 2).sum(1))
    rel = np.abs(a.lagrangian - b.lagrangian) / np.abs(b.lagrangian)
    print("k  |L_numba - L_ref| / |L_ref|  ||F|| numba  ||F|| reference")
    for k in REPORT_AT:
        print(k, f"{rel[k - 1]:.1e}", f"{fa[k - 1]:.4g} {fb[k - 1]:.4g}")


if __name__ == "__main__":
    main()
