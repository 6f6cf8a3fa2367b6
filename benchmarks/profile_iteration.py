"""Where one compiled ADMM iteration spends its time, by category (product gate, n = 1000, width 300).

Wraps ``np.matmul`` (as seen by solver.admm.engine), every kernel and the solve helpers with timers
and prints per-call totals plus four exclusive categories: matrix products, elementwise
kernels, Cholesky work, and the rest (small numpy ops, Python, the timers themselves, about
0.05 ms per wrapped call).  Run:  .venv/bin/python benchmarks/profile_iteration.py [notrack]
"""
import sys, time, types, collections
import numpy as np
import bench_admm as B  # the script's own folder is on sys.path: run it as a script
from solver.admm import engine as E
tim = collections.defaultdict(float); cnt = collections.Counter()
def wrap(name, f):
    def g(*a, **k):
        t = time.perf_counter(); r = f(*a, **k); tim[name] += time.perf_counter() - t; cnt[name] += 1; return r
    return g
eng, st, w0 = B.setup(1000, 300)
import solver.admm.kernels as KK; KK.NUMBA_KERNELS.update({k: wrap("K." + k, v) for k, v in KK.NUMBA_KERNELS.items()}); eng.K = KK.NUMBA_KERNELS
class NP(types.ModuleType):
    def __getattr__(self, n): return getattr(np, n)
fake = NP("np"); fake.matmul = wrap("matmul", np.matmul)
E.np = fake
for nm in ("_solve_right", "_chol_solve", "_last_hidden_solve", "_gram_aug", "_times_aug_T", "_sq_diff_product", "_train_mse", "_spd_inverse"):
    f = getattr(E.FastEngine, nm)
    setattr(E.FastEngine, nm, staticmethod(wrap(nm, f)) if isinstance(E.FastEngine.__dict__[nm], staticmethod) else wrap(nm, f))
import numba; numba.set_num_threads(1)
track = len(sys.argv) < 2
for _ in range(3): B.step(eng, st, track)
tim.clear(); cnt.clear()
R = 20
t = time.perf_counter()
rows = [B._row(st) for _ in range(R)]
for r in rows: eng.iterate(st, r, track=track, train=track)
tot = (time.perf_counter() - t) / R
print(f"total {tot*1e3:.2f} ms")
for k, v in sorted(tim.items(), key=lambda x: -x[1]):
    print(f"{k:25s} {v/R*1e3:8.2f} ms  x{cnt[k]/R:.0f}")
rng = np.random.default_rng(0)
A, Bm, C = rng.normal(size=(300, 300)), rng.normal(size=(300, 1000)), np.empty((300, 1000))
t = time.perf_counter()
for _ in range(50): np.matmul(A, Bm, out=C)
print("dgemm", (time.perf_counter()-t)/50*1e3)
mm = tim["matmul"]/R*1e3; kk = sum(v for k, v in tim.items() if k.startswith("K."))/R*1e3
sv = (tim["_solve_right"] + tim["_spd_inverse"] + tim["_last_hidden_solve"])/R*1e3
print(f"CATEGORIES total {tot*1e3:.2f}  matmul {mm:.2f}  kernels {kk:.2f}  solves {sv:.2f}  rest {tot*1e3-mm-kk-sv:.2f}")
