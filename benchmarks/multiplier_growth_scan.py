"""Scan of a growing hidden multiplier under dips or noise against sufficient_descent's
multiplier rule (round 5, att21 H2; ``verify._descent._accelerating_multiplier``).

1. Traces: on each real good base of ``verify.strategies.DIPPED_GROWTH_BASES`` (300 rows, user
   or derived constants), every hidden ``||Lam_i||`` from ``k0 = 0.25, 0.5, 0.7 K`` grows
   geometrically (``g^(K/8) = 1.3, 2``) or as ``1 + c u^2.5`` (``c = 1, 3``), clean or under one
   of seven dips / noises (``verify.strategies.dipped_growth_case``: the trace stays consistent,
   ``L_beta`` the base's); printed: the descent verdicts, by perturbation.
2. Series (``--series``): the detector alone on a settling series with a geometric growth of
   ``g^(K/8) = 1.3, 1.4, 1.5`` from 0.5 K or 0.7 K under 1 % or 2 % noise (Gaussian, Student-t
   3, Laplace, uniform; 100 draws each), K = 300 and 1000: draws the rule misses.
3. Good runs (``--good``): real runs (beta = 100, lambda = 1, width 4, K = 300 and 1000): the
   rule's verdict and each series' last-eighth rise over its last value.

``--old COMMIT`` reads the multiplier rule (constants and ``_accelerating_multiplier``) of that
commit (``git show``) in place of this tree's: the verdicts before a change.

    PYTHONPATH=. python benchmarks/multiplier_growth_scan.py [--series] [--good] [--old 1be9d83]
"""

import argparse
import itertools
import math
import subprocess
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import verify._descent as D
from verify import strategies as S
from verify import validate_trace
from verify.checks import sufficient_descent

GROWTHS = [{"shape": "geo", "rate": 1.3 ** (1 / 37)}, {"shape": "geo", "rate": 2.0 ** (1 / 37)},
           {"shape": "power", "rate": 1.0}, {"shape": "power", "rate": 3.0}]
PERTURB = {
    "none": {},
    "1-row dip 3%/7": dict(period=7, length=1, depth=0.03),
    "2-row dip 10%/8": dict(period=8, length=2, depth=0.10),
    "3-row dip 40%/9": dict(period=9, length=3, depth=0.40),
    "1-row dip 50%/5": dict(period=5, length=1, depth=0.50),
    "gauss 1%": dict(noise="gauss", sigma=0.01, seed=1),
    "t3 2%": dict(noise="t3", sigma=0.02, seed=2),
    "uniform 2% + 2-row dip 5%/6": dict(noise="uniform", sigma=0.02, seed=3, period=6, length=2,
                                        depth=0.05),
}


def use_old(commit):
    src = subprocess.run(["git", "show", f"{commit}:verify/_descent.py"], capture_output=True,
                         text=True, check=True).stdout
    a = src.index("#: a hidden multiplier whose last eighth")
    b = src.index("def _multiplier_reference(")
    ns = dict(np=np, math=math, warnings=warnings, _EPS=D._EPS, FLOOR_MULT=D.FLOOR_MULT)
    exec(src[a:b], ns)
    D._accelerating_multiplier = ns["_accelerating_multiplier"]


def traces():
    S.load_real_traces(Path(__file__).resolve().parents[1] / "tests" / "data"
                       / "adversarial_real_traces.npz")
    cnt = Counter()
    for label, gr, k0f, (pn, pp) in itertools.product(S.DIPPED_GROWTH_BASES, GROWTHS,
                                                      (0.25, 0.5, 0.7), PERTURB.items()):
        base = S.real_case(label)
        for layer in range(base.trace.n_layers - 1):
            case = S.dipped_growth_case(base, layer, int(k0f * len(base.trace)), **gr, **pp)
            validate_trace(case.trace)
            r = sufficient_descent(case.trace, **case.options.get("sufficient_descent", {}))
            v = str(r.verdict)
            cnt[("clean" if pn == "none" else "perturbed (all seven)", v)] += 1
            if pn != "none":
                cnt[(pn, v)] += 1
            if v == "PASS" and pn != "none":
                print(f"  PASS: {label} layer {layer + 1} {gr} k0 = {k0f} K, {pn}")
    for k in sorted(cnt):
        print(f"{k[0]:30s} {k[1]:13s} {cnt[k]}")


def series():
    for K in (300, 1000):
        base = 1.0 + 0.5 * np.exp(-np.arange(K) / (K / 10))
        for ge, sig, k0f in itertools.product((1.3, 1.4, 1.5), (0.01, 0.02), (0.5, 0.7)):
            miss = 0
            for seed in range(100):
                nk = ["gauss", "t3", "laplace", "uniform"][seed % 4]
                y = S.dipped_growth_series(base, int(k0f * K), "geo", ge ** (1 / (K // 8)),
                                           noise=nk, sigma=sig, seed=seed)
                miss += D._accelerating_multiplier(y[:, None], None, 0.0) is None
            print(f"K = {K}, g^(K/8) = {ge}, noise {sig:.0%}, from {k0f} K: missed {miss} of 100")


def good():
    from solver import ADMM, tasks
    runs = [(d, act, seed) for d in (1, 2) for act in ("sigmoid", "tanh", "arctan", "gauss_cdf")
            for seed in (2, 3)]
    for (depth, act, seed), K in itertools.product(runs, (300, 1000)):
        t = tasks.make_task("square", n=40, seed=seed, n_test=0)
        m = ADMM(hidden_layer_sizes=(4,) * depth, beta=100.0, lam=1.0, activation=act,
                 max_iter=K, verbose=0, engine="numpy", random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(t.X, t.y)
        lam = np.asarray(m.trace_.normLam, float)[:, :depth]
        e = K // 8
        w = 2 * max(4, K // D.LAM_SMOOTH) + 1
        rises = []
        for i in range(depth):
            ys = (lam[:, i],) + D._smoothings(lam[:, i], w)
            rises.append(max((y[-1] - y[-1 - e]) / y[-1] for y in ys))
        hit = D._accelerating_multiplier(lam, None, 0.0)
        print(f"d{depth} {act} seed {seed} K = {K}: rule {'flags' if hit else 'silent'}; "
              f"largest last-eighth rise / value {max(rises):.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", action="store_true")
    ap.add_argument("--good", action="store_true")
    ap.add_argument("--old", default=None)
    a = ap.parse_args()
    if a.old:
        use_old(a.old)
    traces()
    if a.series:
        series()
    if a.good:
        good()


if __name__ == "__main__":
    main()
