"""Scan of unbounded growth laws against bounded_iterates' trend test (issue 19, class 3).

Every law ``c + f(1 + k - k0)`` (f = log, log log, sqrt, t^0.1, t^0.02, t; ``k0`` from 0 to
0.6 K; ``c`` = 0, 1, 1000), alone, beside a saturating transient ``B (1 - 0.97^k)`` or under an
early bump ``B (k/kb) e^(1 - k/kb)`` (``kb = K/16``), ``B`` from 0.5 to 100 times the law's own
growth, plus iid uniform noise of 2 % or 10 % of it, or a decaying oscillation ``B
exp(-k/(0.3 K)) cos(k/3)`` of 0.5 or 1 times it (round 5), K = 80, 150, 300, 1000, 3000, is judged by ``verify._boundedness._growth_trend``;
printed: per law, the count of PASS verdicts and the smallest values of the two
statistics the fast and decelerating rules read (the largest tail-window ratio, and the larger
of the two doubling ratios), against ``RHO_FAST`` and ``DOUBLING_DECEL``.  Exit status 1 when
a law PASSes alone, under a bump at most its own size (``verify.strategies.growth_laws``
draws those), under the noise or beside the oscillation; beside a saturating transient of its own size on a short run (K = 80, 150), or
under a larger bump, a law can PASS (its growth over ``[K/2, K]`` is a few percent of the
transient's: no finite run tells it from a saturation), and the counts are printed.

    PYTHONPATH=. python benchmarks/bounded_law_scan.py
"""

import math

import numpy as np

from verify._boundedness import DOUBLING_DECEL, RHO_FAST, _growth_trend
from verify._floors import FLOOR_MULT

#: what sits beside the law: nothing, a saturating transient or an early bump, of B times
#: the law's own growth over the run
MIXES = [("transient", 0.0), ("transient", 1.0), ("transient", 10.0), ("bump", 0.5),
         ("bump", 1.0), ("bump", 2.0), ("bump", 10.0), ("bump", 100.0),
         # round 5: iid uniform noise of B times the law's growth (the attack's 2 % and 10 %),
         # and a decaying oscillation B exp(-k/(0.3 K)) cos(k/3) of B times it
         ("noise", 0.02), ("noise", 0.1), ("oscillation", 0.5), ("oscillation", 1.0)]

#: the families that must not PASS (exit status 1 if one does)
MUST_NOT_PASS = [m for m in MIXES if m[1] == 0.0 or (m[0] == "bump" and m[1] <= 1.0)
                 or m[0] in ("noise", "oscillation")]

LAWS = {"log": np.log1p, "loglog": lambda t: np.log(np.log(math.e + t)), "sqrt": np.sqrt,
        "t^0.1": lambda t: t ** 0.1, "t^0.02": lambda t: t ** 0.02, "t": lambda t: t}


def _doubling(x):
    K = x.size
    M = np.maximum.accumulate(x)
    q0, q1, q2 = max(1, K // 8), max(1, K // 4), max(2, K // 2)
    g0, g1, g2 = M[q1 - 1] - M[q0 - 1], M[q2 - 1] - M[q1 - 1], M[-1] - M[q2 - 1]
    r1 = g1 / g0 if g0 > 0 else math.inf
    r2 = g2 / g1 if g1 > 0 else math.inf
    return max(r1, r2)


def main():
    rows, by_mix, by_law_mix = {}, {}, {}
    rng = np.random.default_rng(0)              # the noise family's draws, in loop order
    for K in (80, 150, 300, 1000, 3000):
        k = np.arange(1, K + 1, dtype=float)
        for name, f in LAWS.items():
            for k0f in np.linspace(0, 0.6, 61):
                for c in (0.0, 1.0, 1000.0):
                    for mix in MIXES:
                        law = f(np.maximum(k - k0f * K, 0.0))
                        size = max(float(law[-1] - law[0]), 1e-12)
                        if mix[0] == "transient":      # a saturation B (1 - 0.97^k) beside it
                            x = c + law + mix[1] * size * (1 - 0.97 ** k)
                        elif mix[0] == "noise":        # iid uniform noise in +-B size
                            x = c + law + mix[1] * size * rng.uniform(-1.0, 1.0, K)
                        elif mix[0] == "oscillation":  # B size exp(-k/(0.3 K)) cos(k/3)
                            x = c + law + mix[1] * size * np.exp(-k / (0.3 * K)) * np.cos(k / 3.0)
                        else:                          # an early bump B (k/kb) e^(1 - k/kb), kb = K/16
                            kb = K / 16
                            x = c + law + mix[1] * size * (k / kb) * np.exp(1 - k / kb)
                        sev, info = _growth_trend(x, FLOOR_MULT, 0.9, 0.75, 0.75)
                        r = rows.setdefault(name, {"n": 0, "pass": 0, "tail": math.inf,
                                                   "dbl": math.inf, "ex": None})
                        r["n"] += 1
                        if sev == 0:
                            r["pass"] += 1
                            by_mix[mix] = by_mix.get(mix, 0) + 1
                            by_law_mix[(name, mix)] = by_law_mix.get((name, mix), 0) + 1
                            r["ex"] = (K, round(float(k0f), 2), c, mix, info["how"])
                        rr = info.get("tail_ratios")
                        if rr is not None and info.get("ratio_into_tail", math.inf) <= 1.0:
                            r["tail"] = min(r["tail"], max(rr))
                            r["dbl"] = min(r["dbl"], _doubling(x))
    print(f"RHO_FAST = {RHO_FAST}, DOUBLING_DECEL = {DOUBLING_DECEL}")
    print("law      series  PASS  min largest tail ratio  min larger doubling ratio")
    bad = 0
    for name, r in rows.items():
        print(f"{name:8s} {r['n']:6d} {r['pass']:5d}  {r['tail']:22.3f}  {r['dbl']:25.3f}"
              + (f"   e.g. {r['ex']}" if r["ex"] else ""))
        bad += r["pass"]
    print("PASS by what sits beside the law (kind, B):",
          {f"{m[0]} {m[1]:g}": by_mix.get(m, 0) for m in MIXES})
    for m in MIXES:
        laws = {nm: c for (nm, mm), c in by_law_mix.items() if mm == m}
        if laws:
            print(f"  {m[0]} {m[1]:g}: {laws}")
    print("no unbounded law PASSes" if bad == 0 else f"{bad} unbounded series PASS")
    return sum(by_mix.get(m, 0) for m in MUST_NOT_PASS)


if __name__ == "__main__":
    raise SystemExit(1 if main() else 0)
