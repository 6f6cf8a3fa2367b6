"""Rounding sensitivity of a beta = 1 run: compiled vs reference engine, same data and start.

Run:  .venv/bin/python benchmarks/study_chaos.py   (prints k, relative L_beta gap, ||F|| of both)
"""
import sys; sys.path.insert(0, __import__('os').path.join(__import__('os').path.dirname(__file__), '..'))
import numpy as np, warnings
from solver import ADMM, tasks
from solver.init import init_weights
t = tasks.make_task("square", n=200, seed=0, n_test=0)
w0 = init_weights((1, 10, 10, 10, 1), "msra", 1.0, 0)
out = {}
for eng in ("numba", "reference"):
    m = ADMM(hidden_layer_sizes=(10,)*3, activation="tanh", beta=1.0, lam=1e-6, max_iter=300, random_state=0, engine=eng)
    m.fit(t.X, t.y, init_weights=w0)
    out[eng] = m.trace_
a, b = out["numba"], out["reference"]
fa, fb = np.sqrt((a.feas**2).sum(1)), np.sqrt((b.feas**2).sum(1))
rel = np.abs(a.lagrangian - b.lagrangian) / np.abs(b.lagrangian)
for k in (1, 10, 50, 100, 150, 200, 299):
    print(k, f"{rel[k-1]:.1e}", f"{fa[k-1]:.4g} {fb[k-1]:.4g}")
