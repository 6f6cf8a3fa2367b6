"""Square task at the paper settings: final and best train MSE at k = 50 under the three engines.

Shows that the drift after the minimum (issue 3, final MSE of seeds 0 and 4) is not a rounding
effect: numba, numpy and reference engines agree to about 3 significant digits.
Run:  .venv/bin/python benchmarks/study_square_engines.py   (about 2 minutes)
"""
import sys; sys.path.insert(0, __import__('os').path.join(__import__('os').path.dirname(__file__), '..'))
import numpy as np
from solver import ADMM, tasks
PAPER = dict(lam=1e-6, beta=1.0, init="msra", init_scale=8.0, max_iter=50, curvature="theory")
for seed in range(5):
    t = tasks.make_task("square", n=1000, seed=seed)
    row = []
    for eng in ("numba", "numpy", "reference"):
        m = ADMM(hidden_layer_sizes=(100, 100), random_state=seed, engine=eng, **PAPER).fit(t.X, t.y)
        tr = m.trace_.train_mse
        row.append(f"{eng}: best {tr.min():.3g} final {tr[-1]:.3g}")
    print(seed, " | ".join(row), flush=True)
