"""Benchmark: rigorous certification times against the issue's targets.

Targets (issue 2): certifying ``relu_net(1e-6, 1)`` rigorously in < 10 s and
``square_gate(1e-6, 1)`` in < 1 s on the development machine (2 cores).

Run:  .venv/bin/python benchmarks/bench_certify.py [--repeat 3]

Prints, for each construction, the construction time, the certification time (median of
``--repeat`` runs, after one warm-up that also computes the activation constants), the
number of boxes, the certified error and the ratio target / measured (> 1 means the
target is met with that margin).
"""

from __future__ import annotations

import argparse
import statistics
import time

import theory

CASES = [
    ("square_gate(1e-6, 1)", lambda: theory.square_gate(1e-6, 1), 1.0),
    ("relu_net(1e-6, 1)", lambda: theory.relu_net(1e-6, 1), 10.0),
    ("relu_net(1e-6, 1, paper)", lambda: theory.relu_net(1e-6, 1, variant="paper"), 10.0),
    ("product_gate(1e-6, 1)", lambda: theory.product_gate(1e-6, 1), None),
    ("square_gate(1e-8, 10, tanh)", lambda: theory.square_gate(1e-8, 10, theory.tanh), None),
    ("relu_net(1e-8, 10, gauss_cdf)", lambda: theory.relu_net(1e-8, 10, theory.gauss_cdf), None),
    ("yarotsky_square(1e-6, 1)", lambda: theory.yarotsky_square(1e-6, 1), None),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    theory.sigmoid.bound(4), theory.tanh.bound(4)
    print(f"activation constants (sigmoid and tanh L4 enclosures, sympy attempts): "
          f"{time.perf_counter() - t0:.2f} s, once per process")
    print(f"{'case':32s} {'build s':>8s} {'certify s':>10s} {'boxes':>6s} "
          f"{'rigorous err':>13s} {'float64 err':>12s} {'target s':>9s} {'ratio':>7s}")
    for name, build, target in CASES:
        t = time.perf_counter()
        net = build()
        t_build = time.perf_counter() - t
        theory.certify(net)  # warm-up (compiles the arb evaluator paths, sympy caches)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            cert = theory.certify(net)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        ratio = f"{target / med:7.1f}" if target else "      -"
        tgt = f"{target:9.1f}" if target else "        -"
        print(f"{name:32s} {t_build:8.2f} {med:10.3f} {cert.n_boxes:6d} "
              f"{float(cert.rigorous_sup_error):13.4e} {cert.float64_sup_error:12.4e} {tgt} {ratio}")
        assert cert.holds, name


if __name__ == "__main__":
    main()
