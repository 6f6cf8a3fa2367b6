"""Per-kernel timings of the fused elementwise kernels on the CPU at hand (issue 15).

For each kernel of :data:`solver.admm.kernels.NUMBA_KERNELS` on a product-gate block
(``d x n = 300 x 1000``, sigmoid), the best of ``--repeat`` calls, in ms:

* ``before``: the kernels of another ``solver`` package (``--before DIR``, a folder that
  holds an older ``solver/``; e.g. ``git archive <commit> solver | tar -x -C DIR``);
* ``legacy``, ``fma``, ``numpy-exp``: this tree's kernels with each exponential provider
  (:data:`solver.admm.kernels.EXP_LEGACY`, ``EXP_FMA``, numpy's own SIMD loop), the default
  marked ``*``;
* ``numpy twin``: the kernel's numpy reference (:data:`solver.admm.kernels.NUMPY_KERNELS`);
* ``np.exp``: ``np.exp(Z, out=)`` on the same block, the floor of one SIMD exp pass.

Run:  .venv/bin/python benchmarks/bench_kernels.py [--before DIR] [--repeat 200] [--markdown]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from solver.admm import kernels as K  # noqa: E402
from theory import sigmoid  # noqa: E402


def best(fn, repeat):
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts) * 1e3


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    import platform
    return platform.processor() or platform.machine()


def calls(mod, a, d=300, n=1000, seed=0):
    """``{kernel: zero-argument call}`` on fixed data (state-changing kernels get copies
    that are refreshed outside the timing: Lam grows by a negligible beta)."""
    rng = np.random.default_rng(seed)
    P = 4 * rng.normal(size=(d, n))
    V, L, R = rng.random((d, n)), rng.normal(size=(d, n)), rng.normal(size=(d, n))
    b = rng.normal(size=d)
    o, Q, q = np.empty((d, n)), np.empty((d, n)), np.empty(d)
    Z = P.copy()
    W, PP = rng.normal(size=(d, d + 1)), rng.normal(size=(d, d))
    A, Bm = rng.normal(size=(1, d)), rng.normal(size=(1, n))
    Wo, bo, Y = rng.normal(size=(1, d)), np.zeros(1), rng.normal(size=(1, n))
    m = 256
    return {
        "bmax": lambda: mod.bmax(V, L, 0.7),
        "lla_rhs": lambda: mod.lla_rhs(a, P, b, V, L, 0.7, 1.3, False, o),
        "activation_rhs": lambda: mod.activation_rhs(a, Z, b * 0, L, 1.7, R, -0.3, o),
        "multiplier_update": lambda: mod.multiplier_update(a, P, V, L, 1e-12),
        "multiplier_update_q": lambda: mod.multiplier_update_q(a, P, V, L, 1e-12, Q, q),
        "activate": lambda: mod.activate(a, P, 0, b, o),
        "sq_diff": lambda: mod.sq_diff(P, R, 0),
        "kkt_w_sq": lambda: mod.kkt_w_sq(1e-3, W, PP, q),
        "sq_diff_lowrank": lambda: mod.sq_diff_lowrank(A, Bm, R),
        "output_sq_err (d x 256)": lambda: mod.output_sq_err(a, P, 0, m, b, Wo, bo, Y, 0),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", help="folder holding an older solver/ package to compare with")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args(argv)

    cols = {}
    if args.before:
        # a private copy, imported under another name (its numba cache stays in the copy:
        # cache entries name their module, so the original folder's cache is not touched)
        import shutil
        import tempfile

        tmp = tempfile.mkdtemp(prefix="bench_kernels_")
        shutil.copytree(os.path.join(args.before, "solver"), os.path.join(tmp, "solver_before"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        sys.path.insert(0, tmp)
        old = importlib.import_module("solver_before.kernels")
        old_a = old.act_key(0) if hasattr(old, "act_key") else 0
        cols["before"] = calls(old, old_a)
    provs = [("legacy", K.EXP_LEGACY), ("fma", K.EXP_FMA)]
    if K.NUMPY_EXP_LOOP:
        provs.append(("numpy-exp", K.NUMPY_EXP_LOOP))
    for label, ex in provs:
        cols[label + ("*" if ex == K.EXP else "")] = calls(K, K.act_key(K.SIGMOID, ex))
    class _Twins:  # the numpy twins by attribute
        def __getattr__(self, k):
            return K.NUMPY_KERNELS[k]

    cols["numpy twin"] = calls(_Twins(), sigmoid)
    rng = np.random.default_rng(0)
    Z, out = 4 * rng.normal(size=(300, 1000)), np.empty((300, 1000))
    t_exp = best(lambda: np.exp(Z, out=out), args.repeat)

    print(f"# CPU: {cpu_model()}; default exponential: {K.EXP_NAME}; block 300 x 1000 (sigmoid); "
          f"best of {args.repeat}, ms; np.exp(out=) on the block: {t_exp:.3f} ms")
    try:
        print(f"# load average: {os.getloadavg()[0]:.2f}")
    except OSError:  # pragma: no cover
        pass
    names = list(next(iter(cols.values())))
    res = {c: {k: best(f, args.repeat) for k, f in cols[c].items()} for c in cols}
    if args.markdown:
        print("| kernel | " + " | ".join(cols) + " | np.exp(out=) |")
        print("|---" * (len(cols) + 2) + "|")
        for k in names:
            print(f"| {k} | " + " | ".join(f"{res[c][k]:.3f}" for c in cols) + f" | {t_exp:.3f} |")
    else:
        print(f"{'kernel':<26}" + "".join(f"{c:>13}" for c in cols))
        for k in names:
            print(f"{k:<26}" + "".join(f"{res[c][k]:>13.3f}" for c in cols))


if __name__ == "__main__":
    main()
