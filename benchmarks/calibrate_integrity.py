"""Calibration of verify.integrity's tolerance (docs/verify.md, "Trace integrity").

    PYTHONPATH=. python benchmarks/calibrate_integrity.py [--iters 150] [--seeds 0 1 2]

Real runs: every built-in activation (sigmoid, tanh, arctan, gauss_cdf), depth 1-3, the given
seeds, beta = 100 and a sharp-looking (3000, ..., 2) schedule, lambda = 1, numpy engine.  For
each identity of verify.integrity the largest violation over all rows and runs, in units of
eps x the size of its terms.  Doctored classes (the audit's): a spiked ||Lam|| row, loss[150]
= 1e10, parts that cancel, L_beta spliced from another seed and from a beta_1 = 3000 run into a
beta_1 = 1e4 run, a spiked ||V|| row: the smallest violation each produces (same units).
"""

from __future__ import annotations

import argparse
import warnings


from solver import ADMM, Trace, tasks
from verify.integrity import INTEGRITY_MULT, TraceIntegrityError, integrity_report

ACTS = ("sigmoid", "tanh", "arctan", "gauss_cdf")


def fit(act, depth, beta, seed, iters, n=60, width=4):
    t = tasks.make_task("square", n=n, seed=seed, n_test=0)
    m = ADMM(hidden_layer_sizes=(width,) * depth, beta=beta, lam=1.0, activation=act,
             max_iter=iters, random_state=seed, verbose=0, engine="numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y)
    return m.trace_


def copy(tr):
    return Trace.from_dict(tr.to_dict())


def worst_violation(tr):
    """Largest violation (eps x size) over every identity; inf for a refusal without a size."""
    try:
        rep = integrity_report(tr)
    except TraceIntegrityError:
        return float("inf"), "non-finite/meta"
    name = max(rep, key=lambda k: rep[k][0])
    return rep[name][0], name


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=150)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = ap.parse_args(argv)
    worst, nruns = {}, 0
    runs = {}
    for act in ACTS:
        for depth in (1, 2, 3):
            for seed in a.seeds:
                for beta in (100.0, [3000.0] * depth + [2.0]):
                    tr = fit(act, depth, beta, seed, a.iters)
                    nruns += 1
                    runs[(act, depth, seed, str(beta))] = tr
                    for k, (v, _) in integrity_report(tr).items():
                        worst[k] = max(worst.get(k, 0.0), v)
    print(f"real runs: {nruns} (activations {ACTS}, depth 1-3, seeds {a.seeds}, beta 100 and "
          f"(3000, .., 2), lambda 1, {a.iters} iterations)")
    print(f"{'identity':<20} largest violation (eps x size)")
    for k, v in sorted(worst.items()):
        print(f"{k:<20} {v:.3g}")
    base = runs[("sigmoid", 1, a.seeds[0], "100.0")]
    other = runs[("sigmoid", 1, a.seeds[1], "100.0")]
    b3000 = fit("sigmoid", 1, [3000.0, 2.0], a.seeds[0], a.iters)
    b1e4 = fit("sigmoid", 1, [1e4, 2.0], a.seeds[0], a.iters)
    cls = {}
    t = copy(base); t.normLam[50, 1] = 1e16; cls["spiked ||Lam|| row (1e16)"] = t
    t = copy(base); t.normLam[50, 0] *= 1 + 1e-6; cls["||Lam_1|| row x (1 + 1e-6)"] = t
    t = copy(base); t.loss[-1] = 1e10; cls["loss[K] = 1e10"] = t
    t = copy(base); t.loss[60] += 1e-3; t.reg[60] -= 1e-3; cls["parts that cancel (1e-3)"] = t
    t = copy(base); t.lagrangian[60] += 100; t.loss[60] += 100; cls["L_beta and loss up 100"] = t
    t = copy(base); t.lagrangian[:] = other.lagrangian; cls["L_beta of another seed"] = t
    t = copy(b1e4); t.lagrangian[:] = b3000.lagrangian; cls["L_beta of beta_1=3000 into 1e4"] = t
    t = copy(base); t.normV[70, 0] *= 1.001; cls["||V_1|| row x 1.001"] = t
    t = copy(base); t.dV2[70, 1] *= 0.5; cls["dV2 row halved"] = t
    print(f"\ndoctored classes (tolerance INTEGRITY_MULT = {INTEGRITY_MULT:g} eps x size)")
    for name, tr in cls.items():
        v, ident = worst_violation(tr)
        print(f"{name:<34} {v:.3g}  ({ident})")


if __name__ == "__main__":
    main()
