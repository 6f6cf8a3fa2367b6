"""Where an unbounded law beside a saturating transient of its own order still PASSes
bounded_iterates' trend test (round 5, class b: the boundary, measured).

Every law ``3 + f(1 + k - k0) + A g (1 - exp(-k/tau))`` (``g`` the law's own growth over the
run; f = log, log log, ``t^0.02``, ``t^0.1``, ``t^0.3``, sqrt, t; ``k0/K`` = 0, 0.2, 0.4; K =
150, 300, 1000, 3000), noise-free, with the transient's size ``A`` from 0.1 to 5 times ``g`` and
its time constant ``tau`` from 0.02 K to K, is judged by ``verify._boundedness._growth_trend``.
Printed: the PASS count per (A, tau/K) cell (out of 84 series each), per law, and the tail
window ratios of the PASSes.  Over ``[K/2, K]`` the sum of a law and such a transient has
slowly rising window ratios in the band of the real runs' slow approaches (0.67-0.73 at K = 300:
``good_runs`` of the round-5 attack), so the trend test cannot tell them apart; this script
states for which transients that happens, and likewise for a decaying oscillation ``A g
exp(-k/(0.3 K)) cos(2 pi k/(r K))`` by its period ``r K``, and how many of the round-5
strategies' laws alone (20000 drawn) PASS.

    PYTHONPATH=. python benchmarks/bounded_transient_boundary.py
"""

import itertools

import numpy as np

from verify._boundedness import _growth_trend
from verify._floors import FLOOR_MULT
from verify.strategies import _R5_LAWS

LAWS = {"log": np.log1p, "loglog": lambda t: np.log1p(np.log1p(t)), "t^0.02": lambda t: t ** 0.02,
        "t^0.1": lambda t: t ** 0.1, "t^0.3": lambda t: t ** 0.3, "sqrt": np.sqrt, "t": lambda t: t}
AMPS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
TAUS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1.0)
OSC_AMPS = (0.25, 1.0, 2.0)
PERIODS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5)


def main():
    cell, by_law, ratios, n = {}, {}, [], 0
    for K, (name, f), k0f, A, tf in itertools.product((150, 300, 1000, 3000), LAWS.items(),
                                                       (0.0, 0.2, 0.4), AMPS, TAUS):
        k = np.arange(1, K + 1, dtype=float)
        law = f(np.maximum(k - int(k0f * K), 0.0))
        g = float(law[-1] - law[0])
        x = 3.0 + law + A * g * (1.0 - np.exp(-k / (tf * K)))
        sev, info = _growth_trend(x, FLOOR_MULT, 0.9, 0.75, 0.75)
        n += 1
        if sev == 0:
            cell[(A, tf)] = cell.get((A, tf), 0) + 1
            by_law[name] = by_law.get(name, 0) + 1
            if info.get("tail_ratios"):
                ratios.append(max(info["tail_ratios"]))
    print(f"{n} series, {sum(cell.values())} PASS")
    print("PASS per cell (rows A = transient size / law growth, columns tau/K):")
    print("   A  " + "".join(f"{t:7g}" for t in TAUS))
    for A in AMPS:
        print(f"{A:5g} " + "".join(f"{cell.get((A, t), 0):7d}" for t in TAUS))
    print("PASS per law:", by_law)
    if ratios:
        print(f"largest tail window ratio of the PASSes: {min(ratios):.3f} - {max(ratios):.3f}")
    # the same laws beside a decaying oscillation A g exp(-k/(0.3 K)) cos(2 pi k / (r K)):
    # a period r K long against the tail [K/2, K] leaves it one turning point or none
    cell, n = {}, 0
    for K, (name, f), k0f, A, r in itertools.product((150, 300, 1000, 3000), LAWS.items(),
                                                      (0.0, 0.2, 0.4), OSC_AMPS, PERIODS):
        k = np.arange(1, K + 1, dtype=float)
        law = f(np.maximum(k - int(k0f * K), 0.0))
        g = float(law[-1] - law[0])
        x = 3.0 + law + A * g * np.exp(-k / (0.3 * K)) * np.cos(2 * np.pi * k / (r * K))
        n += 1
        if _growth_trend(x, FLOOR_MULT, 0.9, 0.75, 0.75)[0] == 0:
            cell[(A, r)] = cell.get((A, r), 0) + 1
    print(f"decaying oscillation: {n} series, {sum(cell.values())} PASS; per cell (rows A, "
          "columns period/K):")
    print("   A  " + "".join(f"{r:7g}" for r in PERIODS))
    for A in OSC_AMPS:
        print(f"{A:5g} " + "".join(f"{cell.get((A, r), 0):7d}" for r in PERIODS))
    # the laws of verify.strategies' round-5 section alone, noise-free, at drawn K, k0 and p:
    # a late-start slow law on a run of a few hundred rows ends its tail ratios within a few
    # hundredths of rho_geo = 0.75 (the short-run limit the round-5 properties assume away)
    rng = np.random.default_rng(1)
    hits, n = [], 20000
    for _ in range(n):
        K = int(rng.integers(150, 3001))
        name = str(rng.choice(sorted(_R5_LAWS)))
        p, k0 = rng.uniform(0.02, 0.7), rng.uniform(0.0, 0.45) * K
        k = np.arange(1, K + 1, dtype=float)
        x = _R5_LAWS[name](np.maximum(k - k0, 0.0), p)
        if _growth_trend(x, FLOOR_MULT, 0.9, 0.75, 0.75)[0] == 0:
            hits.append((name, K, round(k0 / K, 3)))
    print(f"laws alone (drawn: K 150-3000, k0 <= 0.45 K): {len(hits)} of {n} PASS", sorted(hits))


if __name__ == "__main__":
    main()
