"""bounded_iterates against growth laws from any offset and against saturations (issue 19,
item 3; docs/verify.md, "What a PASS implies").

    PYTHONPATH=. python benchmarks/growth_laws.py

Growth: a consistent synthetic depth-2 run (``verify.strategies.consistent_synthetic_run``,
seed 1) with one norm (``||W_1||``, ``||Lam_1||`` or ``||V_3||``) replaced by ``c + amp law(k)``
and its recorded steps raised to cover the increments; laws sqrt, log, k, k^0.2, k^1.5 (and
log log, slower than every law the claim names); c in {0, 1, 35, 100, 1e3, 1e4, 1e6}, amp in
{1e-4, 1e-2, 1, 10}, K in {80, 150, 300, 400}.  Prints the verdict counts per (law, K) and the
number of named-law cases neither FAIL nor refused by the integrity check (expected 0).
Saturation: ``_growth_trend`` on ``5 - 3 rho^k``.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np

from verify import checks as C
from verify import strategies as S


def main():
    warnings.simplefilter("ignore")
    res, bad = collections.Counter(), []
    for K in (80, 150, 300, 400):
        base, _ = S.consistent_synthetic_run(K=K, depth=2, seed=1)
        k = np.arange(1, K + 1)
        laws = {"sqrt": np.sqrt(k), "log": np.log(k), "k": k * 1.0, "k^0.2": k ** 0.2,
                "k^1.5": k ** 1.5, "loglog": np.log(np.log(k + 1) + 1)}
        for ln, g in laws.items():
            for c in (0, 1, 35, 100, 1e3, 1e4, 1e6):
                for amp in (1e-4, 1e-2, 1, 10):
                    for f, col in (("normW", 0), ("normLam", 0), ("normV", 2)):
                        tr = S._copy_trace(base)
                        x = c + amp * g
                        getattr(tr, f)[:, col] = x
                        inc = np.concatenate([[0.0], np.diff(x)]) ** 2
                        if f == "normW":
                            tr.dW2[:, col] = np.maximum(tr.dW2[:, col], inc)
                        elif f == "normV":
                            tr.dV2[:, col] = np.maximum(tr.dV2[:, col], inc)
                        else:
                            tr.dLam2[:, col] = np.maximum(tr.dLam2[:, col], inc / tr.meta["beta"][col])
                        try:
                            v = str(C.bounded_iterates(tr).verdict)
                        except ValueError:
                            v = "REFUSED"
                        res[(ln, K, v)] += 1
                        if v not in ("FAIL", "REFUSED") and ln != "loglog":
                            bad.append((ln, K, c, amp, f, v))
    for key, v in sorted(res.items()):
        print(*key, v)
    print("named laws neither FAIL nor refused:", len(bad), bad[:10])
    for K in (80, 150, 300, 400):
        k = np.arange(1, K + 1)
        out = []
        for rho in (0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.9998):
            sev, info = C._growth_trend(5 - 3 * rho ** k, C.FLOOR_MULT, 0.9, 0.75, 0.75)
            out.append(f"{rho}: {('PASS', 'INCONCLUSIVE', 'FAIL')[sev]}")
        print(f"5 - 3 rho^k, K = {K}:", ", ".join(out))


if __name__ == "__main__":
    main()
