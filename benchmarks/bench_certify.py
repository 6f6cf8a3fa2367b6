"""Benchmark: rigorous certification times, sigmoid ``relu_net(eps, 1)`` for eps = 1e-3 ... 1e-15.

Targets (issue 13): ``relu_net(1e-12, 1)`` certified within 10 s, ``relu_net(1e-15, 1)`` at
all; (issue 2) ``square_gate(1e-6, 1)`` < 1 s and ``relu_net(1e-6, 1)`` < 10 s.

Run:  .venv/bin/python benchmarks/bench_certify.py [--repeat 3] [--quick]

For each case: construction time (first build of an activation includes its constants),
certification time (median of ``--repeat`` runs after one warm-up), boxes, working precision,
status and the certified bound (rounded up).  The machine's load average is printed before
and after (the development machine has 2 cores shared with other jobs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import theory
from theory._arb import str_up

EPS_SWEEP = [1e-3, 1e-6, 1e-9, 1e-12, 1e-15]

OTHER_CASES = [
    ("square_gate(1e-6, 1)", lambda: theory.square_gate(1e-6, 1), 1.0),
    ("square_gate(1e-20, 1)", lambda: theory.square_gate(1e-20, 1), None),
    ("relu_net(1e-6, 1, paper)", lambda: theory.relu_net(1e-6, 1, variant="paper"), 10.0),
    ("product_gate(1e-6, 1)", lambda: theory.product_gate(1e-6, 1), None),
    ("square_gate(1e-8, 10, tanh)", lambda: theory.square_gate(1e-8, 10, theory.tanh), None),
    ("relu_net(1e-8, 10, gauss_cdf)", lambda: theory.relu_net(1e-8, 10, theory.gauss_cdf), None),
    ("yarotsky_square(1e-6, 1)", lambda: theory.yarotsky_square(1e-6, 1), None),
]


def _load() -> str:
    try:
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + \
            f" (1/5/15 min), {os.cpu_count()} cpus"
    except OSError:  # pragma: no cover
        return "load average unavailable"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="the eps sweep only")
    args = ap.parse_args()
    print(_load())
    t0 = time.perf_counter()
    theory.sigmoid.bound(4), theory.tanh.bound(4)
    print(f"activation constants (sigmoid and tanh L4 enclosures, sympy attempts): "
          f"{time.perf_counter() - t0:.2f} s, once per process")
    cases = [(f"relu_net({e:g}, 1)", (lambda e=e: theory.relu_net(e, 1)),
              10.0 if e == 1e-12 else None) for e in EPS_SWEEP]
    if not args.quick:
        cases += OTHER_CASES
    print(f"{'case':32s} {'build s':>8s} {'certify s':>10s} {'min s':>7s} {'max s':>7s} "
          f"{'boxes':>6s} {'bits':>5s} {'status':>10s} {'rigorous err':>13s} {'target s':>9s}")
    for name, build, target in cases:
        t = time.perf_counter()
        net = build()
        t_build = time.perf_counter() - t
        theory.certify(net)  # warm-up
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            cert = theory.certify(net)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        tgt = f"{target:9.1f}" if target else "        -"
        print(f"{name:32s} {t_build:8.2f} {med:10.3f} {min(times):7.3f} {max(times):7.3f} "
              f"{cert.n_boxes:6d} {cert.prec_bits:5d} {cert.status:>10s} "
              f"{str_up(cert.rigorous_sup_error, 5):>13s} {tgt}", flush=True)
        assert cert.holds, name
        if target:
            assert med < target, (name, med)
    print(_load())


if __name__ == "__main__":
    main()
