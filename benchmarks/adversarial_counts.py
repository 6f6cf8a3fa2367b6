"""Counts of the adversarial generator (issue 19, item 6): per class, how many drawn traces
got PASS from their targeted check, from any check, and from every check.

    PYTHONPATH=. python benchmarks/adversarial_counts.py --n 500 [--classes a,b] [--seed 0]

Draws ``n`` examples of every bad class of :mod:`verify.strategies` (and of the good
traces, synthetic and real) with hypothesis (generate phase only, derandomized with
``--seed``), runs the five checks of ``sigadmm verify`` on each, and prints a table:
class, examples, targeted PASS, any PASS, all PASS (exit 0 of ``sigadmm verify``),
REFUSED (a check raised ValueError / TraceIntegrityError); for the good traces, FAIL
counts.  ``--show K`` prints up to K passing bad instances per class.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import warnings

from hypothesis import HealthCheck, Phase, given, settings, seed as hseed

from verify import strategies as S


def count(strategy, n, seed, show=0):
    stats = collections.Counter()
    examples = []

    @hseed(seed)
    @settings(max_examples=n, phases=[Phase.generate], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = case.verdicts()
        stats["examples"] += 1
        tgt = S.targeted(case) if case.cls != "good" else list(S.CHECK_NAMES)
        if any(v[t] == "PASS" for t in tgt):
            stats["targeted PASS"] += 1
            if len(examples) < show:
                examples.append((case.kind, case.base, v))
        stats["any PASS"] += any(x == "PASS" for x in v.values())
        stats["all PASS"] += all(x == "PASS" for x in v.values())
        stats["REFUSED"] += any(x == "REFUSED" for x in v.values())
        stats["any FAIL"] += any(x == "FAIL" for x in v.values())

    run()
    return stats, examples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="examples per class")
    ap.add_argument("--classes", default=",".join(S.BAD_STRATEGIES) + ",good")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=0, help="passing instances to print per class")
    a = ap.parse_args(argv)
    from pathlib import Path

    real = Path(__file__).resolve().parents[1] / "tests" / "data" / "adversarial_real_traces.npz"
    if real.exists():                  # the real runs' traces, as the tests use them (no refit)
        S.load_real_traces(real)
    rows = []
    for cls in a.classes.split(","):
        t0 = time.time()
        strat = S.good_cases() if cls == "good" else S.BAD_STRATEGIES[cls]()
        stats, ex = count(strat, a.n, a.seed, a.show)
        rows.append((cls, stats, time.time() - t0))
        tgt = "every" if cls == "good" else S.BAD_CLASSES[cls]
        print(f"{cls:>4}  {tgt:<20} examples {stats['examples']:>5}  targeted PASS "
              f"{stats['targeted PASS']:>5}  any PASS {stats['any PASS']:>5}  all PASS "
              f"{stats['all PASS']:>5}  REFUSED {stats['REFUSED']:>5}  any FAIL {stats['any FAIL']:>5}"
              f"  ({time.time() - t0:.0f} s)", flush=True)
        for kind, base, v in ex:
            print(f"        PASS: {kind} [{base}] {v}")
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
