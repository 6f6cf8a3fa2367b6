"""Calibrate ``sigadmm._resources``' memory and time estimates against measured runs (issue 25).

For each case (a method, widths, samples, iterations) one fresh Python process runs
``ADMM``/a peer's ``fit`` on the ``square`` task after a warm-up fit of the same method on
a tiny net (imports, JIT compilation and BLAS threads are then part of the baseline), and
reports

* ``mem``: the peak resident set of the process during the fit minus its resident set just
  before (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, Linux KiB), against
  ``lifted_net_memory(widths, n, n_test, iters)``;
* ``cpu``: the CPU seconds of the fit (``time.process_time``: every thread of the process, so
  the load of other processes does not inflate it much), against
  ``lifted_net_seconds(widths, n, iters)``.

The estimate is meant to be an **upper bound within a stated factor** of the measurement:
``_resources.MEM_FACTOR`` (memory) and ``_resources.TIME_FACTOR`` (time) are the factors the
module states; the script prints ``estimate / measured`` per case and exits 1 when a ratio is
below 1 (an estimate under the measurement) or above the stated factor.

Run:  PYTHONPATH=. python benchmarks/calibrate_resources.py [--quick] [--out FILE.json]

The committed results (``benchmarks/results/calibrate_resources.json``, with the command, the
load average before and after, and the machine) are read by nothing at run time: the tests
check the formulas' direction (tests/test_cli_resources.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CASES = [  # (method, hidden widths, n (train = test), iterations)
    ("admm", (20, 20), 500, 20),
    ("admm", (100, 100), 1000, 10),
    ("admm", (300, 300), 2000, 5),
    ("admm", (1000,), 4000, 3),
    ("admm", (50, 50, 50, 50), 3000, 5),
    ("admm", (10,), 50000, 5),
    ("dladmm", (100, 100), 1000, 10),
    ("lifted_bcd", (100, 100), 1000, 10),
    ("inexact_alm", (100, 100), 1000, 3),
]
QUICK = [CASES[0], CASES[1], CASES[6]]

_CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
method, hidden, n, iters = json.loads(sys.argv[1])
from solver import tasks
from sigadmm import peers
def model(h, it):
    return peers.make_estimator(method, hidden_layer_sizes=tuple(h), max_iter=it, random_state=0)
t = tasks.make_task("square", n=n, seed=0)
w = tasks.make_task("square", n=20, seed=0)
model((3,), 2).fit(w.X, w.y, X_test=w.X_test, y_test=w.y_test)     # warm-up: imports, JIT
def rss_kib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() // 1024
before = rss_kib()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0, w0 = time.process_time(), time.perf_counter()
m = model(hidden, iters)
m.fit(t.X, t.y, X_test=t.X_test, y_test=t.y_test)
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_before_kib": before, "peak_before_kib": peak_before, "peak_kib": peak,
                  "cpu_s": cpu, "wall_s": wall, "iterations": int(m.n_iter_),
                  "n_features": int(t.X.shape[1])}))
"""


def measure(case):
    method, hidden, n, iters = case
    p = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([method, list(hidden), n, iters])],
                       capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise RuntimeError(f"{case}: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    from sigadmm import _resources as R

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    rows, bad = [], []
    print(f"load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, {os.cpu_count()} cpus; "
          f"stated factors: memory {R.MEM_FACTOR:g}, time {R.TIME_FACTOR:g}")
    print(f"{'method':12s} {'widths':22s} {'n':>6s} {'it':>3s} {'mem est':>10s} {'mem meas':>10s} "
          f"{'ratio':>6s} {'t est s':>8s} {'cpu s':>8s} {'ratio':>6s}")
    for case in (QUICK if args.quick else CASES):
        method, hidden, n, iters = case
        m = measure(case)
        widths = (m["n_features"], *hidden, 1)
        est_mem = R.lifted_net_memory(widths, n, n, iters)
        # the run's own peak: above the process's earlier peak (warm-up, imports) only when higher
        meas_mem = max(m["peak_kib"] - m["rss_before_kib"], 1) * 1024.0
        est_t = R.lifted_net_seconds(widths, n, iters)
        r_mem, r_t = est_mem / meas_mem, est_t / max(m["cpu_s"], 1e-9)
        row = {"method": method, "widths": list(widths), "n": n, "n_test": n, "iters": iters,
               "mem_estimate_bytes": est_mem, "mem_measured_bytes": meas_mem, "mem_ratio": r_mem,
               "time_estimate_s": est_t, "cpu_s": m["cpu_s"], "wall_s": m["wall_s"], "time_ratio": r_t,
               "peak_before_kib": m["peak_before_kib"], "rss_before_kib": m["rss_before_kib"],
               "peak_kib": m["peak_kib"]}
        rows.append(row)
        if not (1.0 <= r_mem <= R.MEM_FACTOR) or not (1.0 <= r_t <= R.TIME_FACTOR):
            bad.append(row)
        print(f"{method:12s} {str(widths):22s} {n:6d} {iters:3d} {R.fmt_bytes(est_mem):>10s} "
              f"{R.fmt_bytes(meas_mem):>10s} {r_mem:6.2f} {est_t:8.3f} {m['cpu_s']:8.3f} {r_t:6.2f}",
              flush=True)
    load1 = os.getloadavg()
    print(f"load average {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"command": "PYTHONPATH=. python benchmarks/calibrate_resources.py"
                                  + (" --quick" if args.quick else "") + f" --out {args.out}",
                       "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "machine": f"{platform.machine()} {platform.processor()} {os.cpu_count()} cpus",
                       "load_before": load0, "load_after": load1,
                       "mem_factor": R.MEM_FACTOR, "time_factor": R.TIME_FACTOR,
                       "flops_per_s": R.FLOPS_PER_S, "rows": rows}, fh, indent=1)
    for row in bad:
        print(f"OUT OF RANGE: {row['method']} {row['widths']} n={row['n']}: memory ratio "
              f"{row['mem_ratio']:.2f}, time ratio {row['time_ratio']:.2f}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
