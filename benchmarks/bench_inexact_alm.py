"""One outer iteration of the inexact ALM on digits, one hidden layer of 100 (issue 23, item 4).

Fits ``InexactALM(hidden_layer_sizes=(100,))`` on the ``sigadmm compare`` split of digits
(1257 training rows) for ``--outer`` outer iterations and prints, per outer iteration, the
wall time (after a one-iteration warm-up fit on 50 rows that loads the compiled kernels), the inner sweeps (and momentum restarts), the inner residual against its
tolerance, the KKT residual, ``rho`` and the products with ``n`` columns; then the time
split of the whole fit by cProfile (products, the fused kernels, the W-block solver, the
eigenvalue bounds, the rest) in CPU seconds of the profiled run.

``--config before`` runs the inner solver as it was before issue 23 (MFISTA W steps, plain
Gauss-Seidel output block, absolute inner tolerance); the iteration's other changes
(fused kernels, reused products) stay.  To time the code before issue 23 itself, run this
script with ``PYTHONPATH`` pointing at a checkout of that commit and ``--config default``.

Run:  nice -n 10 .venv/bin/python benchmarks/bench_inexact_alm.py [--outer 4] [--config default|before]
BLAS runs on one thread (threadpoolctl).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after PYTHONPATH: a checkout given there wins

CONFIGS = {"default": {},
           "before": dict(w_solver="mfista", w_steps=10, eliminate_output=False, eps_per_sample=False)}

#: cProfile function names -> the part of the split they belong to
PARTS = {"_mm": "products (n columns)", "_joint_uv": "fused (U, V) kernel", "_np_joint_uv": "fused (U, V) kernel",
         "joint_piecewise_min": "fused (U, V) kernel", "_hidden_grads_sq": "residual kernel",
         "weight_block": "W-block solver", "eigvalsh": "eigenvalue bounds"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outer", type=int, default=4)
    ap.add_argument("--config", default="default", choices=sorted(CONFIGS))
    ap.add_argument("--top", type=int, default=12, help="functions of the 'rest' part to list by own CPU time")
    a = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    import solver
    from sigadmm.peers import load_task, make_estimator

    print(f"# bench_inexact_alm: solver from {Path(solver.__file__).parent}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, config {a.config}")
    d = load_task("digits", 0)
    kw = dict(CONFIGS[a.config])
    try:
        m = make_estimator("inexact_alm", classification=True, hidden_layer_sizes=(100,), max_iter=a.outer,
                           random_state=0, **kw)
    except TypeError as exc:        # the code before issue 23 has none of the new parameters
        raise SystemExit(f"config {a.config!r} needs the parameters of issue 23: {exc}")
    # load (or compile) the numba kernels and the lazily imported modules before timing: one outer
    # iteration on 50 rows; otherwise the first outer iteration carries them (about 10 s on a fresh checkout)
    make_estimator("inexact_alm", classification=True, hidden_layer_sizes=(100,), max_iter=1, random_state=0,
                   **kw).fit(d.X[:50], d.y[:50])
    prof = cProfile.Profile(time.process_time)   # CPU seconds: wall time on a shared machine splits by the scheduler
    with threadpool_limits(1, "blas"):
        t0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        m.fit(d.X, d.y, X_test=d.X_test, y_test=d.y_test)
        prof.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tr = m.trace_
    acc = float(np.mean(np.argmax(m.predict(d.X_test), 1) == d.labels_test))
    print(f"fit: {len(tr)} outer iterations, wall {wall:.1f} s, CPU {cpu:.1f} s, test accuracy {acc:.3f}, "
          f"load average now {os.getloadavg()[0]:.1f}")
    t = np.concatenate([[0.0], np.asarray(tr.time, float)])
    print(f"{'k':>2} {'wall s':>7} {'sweeps':>6} {'restarts':>8} {'inner_res':>10} {'eps':>9} {'kkt_total':>10} "
          f"{'rho':>5} {'products':>8}")
    for k in range(len(tr)):
        print(f"{k:>2} {t[k + 1] - t[k]:>7.2f} {int(tr.inner_iter[k]):>6} {int(tr.inner_restarts[k]):>8} "
              f"{tr.inner_res[k]:>10.4g} {tr.eps[k]:>9.4g} {tr.kkt_total[k]:>10.4g} {tr.rho[k]:>5g} "
              f"{int(tr.n_matmul[k]):>8}")
    split, rest = {}, []
    st = pstats.Stats(prof)
    total = 0.0
    for (fn, line, name), (_, _, tt, _, _) in st.stats.items():
        total += tt
        part = PARTS.get(name) or next((v for k, v in PARTS.items() if name.startswith(k)), "rest")
        split[part] = split.get(part, 0.0) + tt
        if part == "rest":
            rest.append((tt, f"{name} ({Path(fn).name}:{line})"))
    print("time split of the profiled fit (own CPU time):")
    for part, s in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f"  {part:<24} {s:8.2f} s  {100 * s / total:5.1f} %")
    print(f"the 'rest' by function (own CPU time, top {a.top}):")
    for tt, where in sorted(rest, reverse=True)[:a.top]:
        print(f"  {tt:8.2f} s  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
