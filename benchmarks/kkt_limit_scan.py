"""Scan of positive limits approached along completely monotone decays against kkt_rate (round 5).

att21 H3: ``r = c + f(k)`` over the second half of a run (``c = cf r_K``) with ``f`` a
stretched exponential, a power times an exponential, an exponential over a log, ... PASSed
kkt_rate as "power law" or "geometric".  Two scans:

* ``--series``: :func:`verify._rate._positive_limit_cm` on the window-centre tail (rows 5..K-4,
  as kkt_rate reads it) of ``c + f`` for the families below (cf = 0.15, 0.2, 0.3, 0.5; K = 120,
  300, 1000, 3000; only tails falling by at least 1/2, the ones the shape rules could PASS)
  and of pure laws ``k^-p`` (p 1-12), ``rho^k`` (K = 40-3000): misses, the smallest ratio of
  the fit errors and ``c^ / s_K`` over detected cases, the largest over pure laws;
* default: kkt_rate on consistent synthetic traces (first half ``1/k``, second half the law;
  :func:`verify.strategies.consistent_synthetic_run`), out of sample and with the builder's
  constants, for ``K`` and ``cf`` from the command line (cf = 0: the pure decay, limit 0);
  printed per case and counted as (positive limit?, verdict).

    PYTHONPATH=. python benchmarks/kkt_limit_scan.py --series
    PYTHONPATH=. python benchmarks/kkt_limit_scan.py 300,1000 0,0.15,0.2,0.3
"""

import collections
import itertools
import sys
import warnings

import numpy as np

import verify._rate as R
from verify import strategies as S
from verify.checks import kkt_rate


def families():
    """The completely monotone decays ``f(k, K)`` of the scan (23 + 8 random mixtures)."""
    fams = {}
    for b in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        for sc in (3, 10, 30):
            fams[f"strexp b={b} s=K/{sc}"] = (lambda b, sc: lambda k, K: np.exp(-(k / (K / sc)) ** b))(b, sc)
    for q in (0.5, 1, 2, 3):
        for sc in (0.3, 1, 3):
            fams[f"k^-{q} e^-k/({sc}K)"] = (lambda q, sc: lambda k, K: k ** -q * np.exp(-k / (sc * K)))(q, sc)
    for sc in (2, 5, 10):
        fams[f"e^-k/(K/{sc})/log k"] = (lambda sc: lambda k, K: np.exp(-k / (K / sc)) / np.log(k + 1))(sc)
        fams[f"e^-k/(K/{sc})/log^2 k"] = (lambda sc: lambda k, K: np.exp(-k / (K / sc)) / np.log(k + 1) ** 2)(sc)
    for q in (1, 2, 4):
        fams[f"(1+k/(K/20))^-{q}"] = (lambda q: lambda k, K: (1 + k / (K / 20)) ** -q)(q)
    fams["1/(k log k)"] = lambda k, K: 1 / (k * np.log(k + 1))
    fams["k^-1+k^-3"] = lambda k, K: 1 / k + (K / 4) ** 2 / k ** 3
    rng = np.random.default_rng(5)
    for i in range(8):
        t = np.sort(rng.uniform(1, 20, 3))
        w = rng.uniform(0.05, 1, 3)
        fams[f"mix3 #{i}"] = (lambda t, w: lambda k, K: sum(wi * np.exp(-ti * k / K) for ti, wi in zip(t, w)))(t, w)
    return fams


def _tail(law, K):
    k = np.arange(1, K + 1, dtype=float)
    s, kc = law[4:K - 4], k[4:K - 4]
    h = s.size // 2
    out = {}
    hit = R._positive_limit_cm(s, kc, h, 0.0, out)
    e0, ec = out.get("limit_cm_fit", (np.nan, np.nan))
    return hit, e0 / max(ec, R.CM_NOISE), out.get("limit_cm", np.nan) / s[-1], s[-1] / s[h], e0


def series_scan():
    pos, miss = [], []
    for K in (120, 300, 1000, 3000):
        k = np.arange(1, K + 1, dtype=float)
        for nm, f in families().items():
            for cf in (0.15, 0.2, 0.3, 0.5):
                fk = f(k, K)
                hit, ratio, c, drop, _ = _tail(cf / (1 - cf) * fk[-1] + fk, K)
                if drop > 0.5:
                    continue
                pos.append((ratio, c, K, nm, cf, hit))
                if not hit:
                    miss.append((K, nm, cf, f"{ratio:.3g}", f"{c:.3f}"))
    neg = []
    for K in (40, 80, 120, 300, 1000, 3000):
        k = np.arange(1, K + 1, dtype=float)
        laws = {f"k^-{p:.2f}": k ** -p for p in np.linspace(1.0, 12, 45)}
        laws.update({f"rho={q:.4f}": q ** k for q in 1 - np.geomspace(1e-3, 0.5, 40)})
        for nm, law in laws.items():
            if np.all(law > 1e-300):
                hit, ratio, c, drop, e0 = _tail(law, K)
                if drop <= 0.5:
                    neg.append((ratio, c, e0, K, nm, hit))
    det = [p for p in pos if p[5]]
    print(f"class cases (tail falls by >= 1/2): {len(pos)}, missed by the detector: {len(miss)}")
    print(f"  detected: min error ratio {min(p[0] for p in det):.3g}, min c^/s_K {min(p[1] for p in det):.3g}")
    for m in miss:
        print("  miss", m)
    print(f"pure laws: {len(neg)}, read as a positive limit: {sum(n[5] for n in neg)}; max error ratio "
          f"{max(n[0] for n in neg):.3g}, max c^/s_K {max(n[1] for n in neg):.3g}, max error {max(n[2] for n in neg):.3g}")
    return 1 if any(n[5] for n in neg) else 0


def kkt_scan(Ks, cfs):
    cnt = collections.Counter()
    for K, (nm, f), cf in itertools.product(Ks, families().items(), cfs):
        k = np.arange(1, K + 1, dtype=float)
        h = K // 2
        fk = f(k, K)
        law = cf / (1 - cf) * fk[-1] + fk
        if not law[h - 1] > law[-1] * (1 + 1e-6):
            continue
        r = np.where(k < h, (k / h) ** -1.0 * law[h - 1], law)
        r = 1e-2 * r / r[h - 1]
        tr, cc = S.consistent_synthetic_run(K=K, depth=1, seed=K, r_law=r)
        if float(np.max(np.abs(tr.kkt_total - r) / r)) > 1e-6:
            continue
        vs = [str(kkt_rate(tr, **kw).verdict)[:4] for kw in ({}, {"xi": cc["xi"], "a": cc["a"], "b": cc["b"]})]
        v = "PASS" if "PASS" in vs else vs[0]
        cnt[(cf > 0, v)] += 1
        print(f"K={K} cf={cf} {nm:24s} tail fall {law[-1] / law[h - 1]:.3g} {vs}", flush=True)
    print("COUNTS (positive limit?, verdict):", sorted(cnt.items()))
    return 0


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    if "--series" in sys.argv:
        sys.exit(series_scan())
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    Ks = [int(x) for x in args[0].split(",")] if args else [300, 1000]
    cfs = [float(x) for x in args[1].split(",")] if len(args) > 1 else [0.0, 0.15, 0.2, 0.3]
    sys.exit(kkt_scan(Ks, cfs))
