"""Where one dlADMM iteration spends its CPU time (authors' mode, MNIST 4000, widths 784-w-w-10).

The engine's step methods, its kernels (``engine.K``) and the loss helpers are wrapped with
timers of the process's CPU time (exclusive: a wrapped call's time is not counted again in
its caller).  The step methods' own time is mostly their matrix products (``weight_step``:
``G = R a^T`` and ``G a``; ``activation_step``: ``W^T R`` and ``W g``; ``_train_logits``:
the network's hidden products); the kernels are the fused elementwise passes.  The floor is
the iteration's products (:func:`solver.dladmm.gemm_shapes`) at the CPU speed of a
``w x w`` by ``w x n`` dgemm.  One BLAS thread.

Run:  nice -n 10 .venv/bin/python benchmarks/profile_dladmm.py [--width 100] [--iters 10]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[1]))

STEPS = ("bias_step", "weight_step", "activation_step", "hidden_z_step", "output_z_step", "multiplier_step",
         "lagrangian_parts", "_train_logits", "logits", "_residual", "adaptive_rule", "_accuracy")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    import bench_dladmm_authors as B
    from solver.dladmm import DLADMMEngine, gemm_shapes
    from solver.dladmm import engine as E

    XT, YT = B.mnist_subset()
    widths = (XT.shape[0], a.width, a.width, 10)
    rng = np.random.default_rng(13)
    w0 = [(rng.normal(0, 0.1, (widths[j + 1], widths[j])), rng.normal(0, 0.1, widths[j + 1])) for j in range(3)]
    eng = DLADMMEngine(XT, YT, "relu", loss="cross_entropy", output_init="authors", zl_mode="authors")
    st = eng.initial_state(w0)
    tim, cnt, stack = collections.defaultdict(float), collections.Counter(), [0.0]

    def wrap(name, f):
        def g(*args, **kw):
            stack.append(0.0)
            t = time.process_time()
            r = f(*args, **kw)
            dt = time.process_time() - t
            tim[name] += dt - stack.pop()
            cnt[name] += 1
            stack[-1] += dt
            return r
        return g

    with threadpool_limits(1, "blas"):
        eng.iterate(st, {}, track=False, train=False)          # loads the kernels
        for nm in STEPS:
            setattr(eng, nm, wrap(nm, getattr(eng, nm)))
        eng.K = {k: wrap("K." + k, v) for k, v in eng.K.items()}
        eng.act = dataclasses.replace(eng.act, f=wrap("act.f", eng.act.f))
        for nm in ("_loss", "_loss_grad"):
            setattr(E, nm, wrap(nm, getattr(E, nm)))
        t = time.process_time()
        for _ in range(a.iters):
            eng.iterate(st, {}, track=False, train=False)
        tot = (time.process_time() - t) / a.iters
        flops = sum(2.0 * m * k * n for m, k, n in gemm_shapes(widths, XT.shape[1], track=False))
        _, cpu_speed = B.dgemm_speed(a.width, XT.shape[1])
    print(f"width {a.width}: {tot * 1e3:.1f} ms CPU per iteration (mean of {a.iters}, wrapped); product floor "
          f"{flops / cpu_speed * 1e3:.1f} ms ({flops / 1e9:.2f} GFlop at {cpu_speed / 1e9:.1f} GFlop/s), "
          f"ratio {tot * cpu_speed / flops:.2f}")
    kern = sum(v for k, v in tim.items() if k.startswith("K.")) / a.iters
    for k, v in sorted(tim.items(), key=lambda x: -x[1]):
        print(f"  {k:20s} {v / a.iters * 1e3:9.2f} ms  x{cnt[k] / a.iters:.0f}")
    print(f"  kernels together {kern * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
