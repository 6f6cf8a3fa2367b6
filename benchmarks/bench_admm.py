"""Performance of the compiled ADMM iteration, as ratios measured in one run.

Configuration of the issue: product gate, n = 1000, d = 2, two hidden layers of width 300.
One tracked iteration's matrix work, with every product shared between steps computed once,
is about twelve 300 x 300 x 1000 dgemm's (2.2 GFLOP); this script times this machine's own
dgemm of that shape in the same run and prints

* time per iteration / (12 x dgemm time): tracked, untracked, and for a straightforward
  numpy transcription of Algorithm 1 (docs/algorithm.md#update-order-of-algorithm-1;
  ``solver.admm.steps.admm_iteration``, no tracking);
* the overhead of tracking (``track=True`` over ``track=False``);
* peak memory during an iteration over the bytes of the iterate arrays (W, V, Lam);
* first-call compilation time (fresh numba cache, in a subprocess) and the cached start;
* time per iteration for n = 10,000 and width 1,000, and the growth exponents of the
  time per iteration in n and in the width.

Run:  .venv/bin/python benchmarks/bench_admm.py [--quick] [--no-large]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

from solver.admm import steps
from solver._blas_threads import scipy_blas_one_thread as _scipy_blas_one_thread
from solver.admm.engine import FastEngine
from solver.init import init_weights
from solver.tasks import make_task
from solver.admm.schema import ADMM_SCHEMA
from solver.trace import Trace
from theory import sigmoid


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    import platform
    return platform.processor() or platform.machine()


def print_machine():
    """The CPU, the BLAS kernel and the SIMD levels found (issue 15: figures with their CPU)."""
    import llvmlite.binding as llb
    import numba
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__

    from solver.admm import kernels
    from solver._blas_threads import numpy_blas_info

    b = numpy_blas_info()
    blas = (f"{b.get('internal_api')} {b.get('version')}, kernel {b.get('architecture')}, {b.get('num_threads')} threads"
            if b else "?")
    found = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    try:
        from numpy.lib.introspect import opt_func_info
        exp_t = opt_func_info(func_name="^exp$", signature="float64")["exp"]["dd"]["current"]
    except Exception:  # pragma: no cover - numpy < 2
        exp_t = "?"
    feats = llb.get_host_cpu_features()
    simd = [f for f in ("avx512f", "avx2", "fma", "sse4.2") if feats.get(f)]
    try:
        load = "%.2f" % os.getloadavg()[0]
    except OSError:  # pragma: no cover
        load = "?"
    fam = ""
    try:
        info = dict(line.split(":", 1) for line in open("/proc/cpuinfo").read().split("\n\n")[0].splitlines()
                    if ":" in line)
        fam = f", family {info['cpu family'].strip()} model {info['model'].strip()}"
    except (OSError, KeyError):  # pragma: no cover
        pass
    print(f"# CPU: {cpu_model()}{fam} ({os.cpu_count()} cores); load average {load}")
    print(f"# BLAS (numpy): {blas}")
    print(f"# numpy {np.__version__} SIMD: baseline {' '.join(__cpu_baseline__)}, dispatch found "
          f"{' '.join(found) or 'none'}; float64 exp loop: {exp_t}")
    print(f"# numba {numba.__version__} (llvmlite {llb.llvm_version_info}): host CPU {llb.get_host_cpu_name()} "
          f"({', '.join(simd)}), {numba.config.NUMBA_NUM_THREADS} threads; "
          f"sigmoid kernels' exp: {kernels.EXP_NAME}")


def median_time(fn, repeat, inner=1):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        ts.append((time.perf_counter() - t) / inner)
    return float(np.median(ts))


def dgemm_time(d, n, repeat=15):
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(d, d)), rng.normal(size=(d, n))
    C = np.empty((d, n))
    for _ in range(3):
        np.matmul(A, B, out=C)
    return median_time(lambda: np.matmul(A, B, out=C), repeat, inner=5)


def setup(n, width, seed=0, depth=2):
    t = make_task("product", n=n, seed=seed, n_test=0)
    widths = (2,) + (width,) * depth + (1,)
    w0 = init_weights(widths, "msra", 8.0, seed)
    eng = FastEngine(sigmoid, t.X, t.y[:, None], 1e-6, np.ones(depth + 1), "theory", 2.0)
    return eng, eng.initial_state(w0), w0


def _row(st):
    return Trace.empty(st.n_layers, 0, schema=ADMM_SCHEMA).new_row()


def step(eng, st, track=True, train=None):
    """One iteration into a fresh trace row (``train`` defaults to ``track``, as in ``fit``)."""
    eng.iterate(st, _row(st), track=track, train=track if train is None else train)


def time_iterations(eng, st, k, track):
    step(eng, st, track)  # warm-up (compilation, buffer pool)
    return median_time(lambda: step(eng, st, track), k)


def naive_time(eng, w0, k, one_thread_scipy=True):
    """``steps.admm_iteration`` (no tracking), with scipy's BLAS held to one thread as in the
    engines (``one_thread_scipy=False``: the two bundled OpenBLAS pools left to fight)."""
    st = eng.initial_state(w0)
    X, Y = eng.X, eng.Y
    state = [st.W, st.V, st.Lam]

    def one():
        with _scipy_blas_one_thread() if one_thread_scipy else contextlib.nullcontext():
            W, V, L, _, _ = steps.admm_iteration(*state, X, Y, 1e-6, np.ones(len(state[0])), sigmoid)
        state[:] = [W, V, L]

    one()
    return median_time(one, k)


def threads_section(n, width, w0, k):
    """Tracked iterations with ``n_threads = 1`` (BLAS and kernels on one thread) and
    ``n_threads = 2`` (BLAS on two, the kernels' parallel twins on two numba threads),
    interleaved in one run."""
    engs = {}
    for t in (1, 2):
        e, _, _ = setup(n, width)
        e.threads = t
        engs[t] = (e, e.initial_state(w0))
    for _ in range(2):
        for e, s in engs.values():
            step(e, s, True)
    ts = {1: [], 2: []}
    for _ in range(k):
        for t, (e, s) in engs.items():
            t0 = time.perf_counter()
            step(e, s, True)
            ts[t].append(time.perf_counter() - t0)
    import numba
    print(f"\n## threads (n = {n}, width {width}, track=True; {k} interleaved repetitions; numba threading layer "
          f"{numba.threading_layer() if numba.config.NUMBA_NUM_THREADS > 1 else '-'})")
    print(f"n_threads=1: best {min(ts[1]) * 1e3:.2f} ms, median {np.median(ts[1]) * 1e3:.2f} ms; "
          f"n_threads=2: best {min(ts[2]) * 1e3:.2f} ms, median {np.median(ts[2]) * 1e3:.2f} ms; "
          f"speed-up best/best {min(ts[1]) / min(ts[2]):.2f}x, median/median {np.median(ts[1]) / np.median(ts[2]):.2f}x")


def memory_ratio(n, width):
    eng, st, _ = setup(n, width)
    step(eng, st)
    step(eng, st)
    iterate_bytes = sum(a.nbytes for L in (st.W, st.V, st.Lam) for a in L)
    held = (sum(a.nbytes for a in st.Z) + sum(a.nbytes for lst in eng.pool.free.values() for a in lst)
            + sum(a.nbytes for a in eng._work) + eng.gramX.nbytes + eng.X.nbytes + eng.Y.nbytes)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step(eng, st)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return iterate_bytes, held, peak


_COMPILE_SNIPPET = r"""
import time, numpy as np
t0 = time.perf_counter()
import solver
from solver import ADMM, tasks
t = tasks.product(n=200, seed=0)
t1 = time.perf_counter()
ADMM(hidden_layer_sizes=(20, 20), max_iter=2, random_state=0).fit(t.X, t.y)
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def compile_times():
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", _COMPILE_SNIPPET], env=env, capture_output=True,
                               text=True, cwd=os.path.join(os.path.dirname(__file__), ".."), check=True)
            out.append([float(x) for x in r.stdout.split()[-2:]])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller scaling grid")
    ap.add_argument("--no-large", action="store_true", help="skip n = 10,000, width 1,000")
    ap.add_argument("--no-compile", action="store_true", help="skip the compilation subprocesses")
    args = ap.parse_args(argv)
    k = 8 if args.quick else 25

    print_machine()

    n, width = 1000, 300
    eng, st, w0 = setup(n, width)
    rng = np.random.default_rng(0)
    A, B, C = rng.normal(size=(width, width)), rng.normal(size=(width, n)), np.empty((width, n))

    def twelve_gemms():
        for _ in range(12):
            np.matmul(A, B, out=C)

    # paired, interleaved measurements: each iteration is timed next to 12 dgemm's, so a
    # machine whose speed drifts (other jobs) affects both sides of each ratio alike
    st2, st3 = eng.initial_state(w0), eng.initial_state(w0)
    for _ in range(2):
        twelve_gemms()
        step(eng, st, True)
        step(eng, st2, False, False)
        step(eng, st3, False, True)
    pairs = {"track": [], "notrack": [], "train": []}
    blas_times = []
    for _ in range(k):
        t = time.perf_counter(); twelve_gemms(); g = time.perf_counter() - t  # noqa: E702
        t = time.perf_counter(); step(eng, st, True); a = time.perf_counter() - t  # noqa: E702
        t = time.perf_counter(); step(eng, st2, False, False); b = time.perf_counter() - t  # noqa: E702
        t = time.perf_counter(); step(eng, st3, False, True); c = time.perf_counter() - t  # noqa: E702
        blas_times.append(g)
        pairs["track"].append((a, g))
        pairs["notrack"].append((b, g))
        pairs["train"].append((c, g))
    t_naive = naive_time(eng, w0, max(3, k // 3))
    t_naive_fight = naive_time(eng, w0, max(3, k // 3), one_thread_scipy=False)
    g_min = min(blas_times)
    t_gemm = g_min / 12
    print(f"\n## product gate: n = {n}, d = 2, hidden ({width}, {width}); {k} paired repetitions")
    print(f"dgemm {width}x{width}x{n}: best {t_gemm * 1e3:.3f} ms ({2 * width * width * n / t_gemm / 1e9:.1f} GFLOP/s), "
          f"median {np.median(blas_times) / 12 * 1e3:.3f} ms; 12 x dgemm (best) = {g_min * 1e3:.2f} ms")
    print(f"{'variant':<34}{'ms/it (best)':>14}{'best/best':>11}{'median of paired ratios':>26}")
    for name, key in (("compiled, track=True", "track"), ("compiled, track=False", "notrack"),
                      ("  (track=False + train error)", "train")):
        ts = np.array(pairs[key])
        print(f"{name:<34}{ts[:, 0].min() * 1e3:>14.2f}{ts[:, 0].min() / g_min:>11.2f}"
              f"{np.median(ts[:, 0] / ts[:, 1]):>26.2f}")
    print(f"{'numpy transcription (steps.py)':<34}{t_naive * 1e3:>14.2f}{t_naive / g_min:>11.2f}{'(median time)':>26}")
    print(f"{'  (same, BLAS pools fighting)':<34}{t_naive_fight * 1e3:>14.2f}{t_naive_fight / g_min:>11.2f}"
          f"{'(median time)':>26}")
    t_track = np.array(pairs["track"])[:, 0]
    t_notrack = np.array(pairs["notrack"])[:, 0]
    t_train = np.array(pairs["train"])[:, 0]
    print(f"tracking overhead (track=True over track=False): best {100 * (t_track.min() / t_notrack.min() - 1):.1f} %, "
          f"median {100 * (np.median(t_track / t_notrack) - 1):.1f} %; "
          f"= {(t_track.min() - t_notrack.min()) / t_gemm:.1f} dgemm times, of which 3 are the extra "
          f"products (KKT of W_i and V_(i-1), train forward pass)")
    print(f"  of which the KKT residuals (over track=False + train error): best "
          f"{100 * (t_track.min() / t_train.min() - 1):.1f} %, median {100 * (np.median(t_track / t_train) - 1):.1f} %")

    threads_section(n, width, w0, max(4, k // 2))

    it_b, held, peak = memory_ratio(n, width)
    print(f"\n## memory (n = {n}, width {width})")
    print(f"iterate arrays W, V, Lam: {it_b / 2**20:.2f} MiB; held by the engine (Z cache, "
          f"work buffers, X, Y, X X^T): {held / 2**20:.2f} MiB; transient peak inside one iteration: "
          f"{peak / 2**20:.2f} MiB")
    print(f"peak memory / iterate arrays: {(it_b + held + peak) / it_b:.2f}  "
          f"(solver's own memory beyond the iterates: {(held + peak) / it_b:.2f})")

    if not args.no_compile:
        (imp1, run1), (imp2, run2) = compile_times()
        print("\n## compilation (fresh NUMBA_CACHE_DIR, subprocess; 2-iteration fit of a small net)")
        print(f"first call: import {imp1:.2f} s, fit {run1:.2f} s;  cached: import {imp2:.2f} s, fit {run2:.2f} s")

    print("\n## scaling (compiled, track=True)")
    grid_n = [1000, 2000, 4000] if args.quick else [1000, 2000, 4000, 8000]
    grid_w = [100, 200, 400] if args.quick else [100, 200, 400, 800]
    tn = []
    for nn in grid_n:
        e, s, _ = setup(nn, 300)
        tn.append(time_iterations(e, s, max(3, k // 3), True))
        print(f"n = {nn:>6}, width 300: {tn[-1] * 1e3:8.2f} ms / iteration")
    tw = []
    for ww in grid_w:
        e, s, _ = setup(1000, ww)
        tw.append(time_iterations(e, s, max(3, k // 3), True))
        print(f"n =   1000, width {ww:>4}: {tw[-1] * 1e3:8.2f} ms / iteration")
    sn = np.polyfit(np.log(grid_n), np.log(tn), 1)[0]
    sw = np.polyfit(np.log(grid_w), np.log(tw), 1)[0]
    print(f"time per iteration ~ n^{sn:.2f} (width 300) and ~ width^{sw:.2f} (n = 1000); "
          "the flop count is linear in n and quadratic in the width")
    if not args.no_large:
        large_section(2 if args.quick else 3)


def large_section(k):
    """n = 10,000, width 1,000: each iteration paired with twelve 1000x1000x10000 dgemm's."""
    e, s, _ = setup(10_000, 1000)
    rng = np.random.default_rng(0)
    A, B, C = rng.normal(size=(1000, 1000)), rng.normal(size=(1000, 10_000)), np.empty((1000, 10_000))
    step(e, s, True)
    np.matmul(A, B, out=C)
    its, gs = [], []
    for _ in range(k):
        t = time.perf_counter()
        for _ in range(12):
            np.matmul(A, B, out=C)
        gs.append(time.perf_counter() - t)
        t = time.perf_counter()
        step(e, s, True)
        its.append(time.perf_counter() - t)
    its, gs = np.array(its), np.array(gs)
    print(f"n = 10000, width 1000: {its.min():.3f} s / iteration (best of {k}); twelve 1000x1000x10000 dgemm's "
          f"{gs.min():.3f} s; best/best {its.min() / gs.min():.2f}, median of paired ratios {np.median(its / gs):.2f}")


if __name__ == "__main__":
    main()
