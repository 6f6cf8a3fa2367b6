"""Which rule of ``bounded_iterates``' trend test PASSes each series of real good runs.

    PYTHONPATH=. python benchmarks/bounded_branch_use.py

Fits 32 ADMM runs (square task n = 40, widths 4, depth 1-2; sigmoid, tanh, arctan, gauss_cdf;
seeds 4, 5; K = 300, 1000; beta = 100, lambda = 1; numpy engine) and, for every series the trend
test PASSes, prints the rule: ``no growth``, rule 2 ``fast`` (every tail ratio <= RHO_FAST),
``decel`` (the running sup's doubling growth shrinking), ``PLAIN`` (every ratio <= rho_geo, not
rising, neither fast nor decelerating: the branch a law beside a saturating transient also meets;
docs/verify.md, "Round 5 (bounded_iterates)"), or rule 3's negligible tail.
"""
import warnings; warnings.simplefilter("ignore")
import numpy as np
from solver import ADMM, tasks
from verify import bounded_iterates
from verify import _boundedness as B


def main():
    cnt = {}
    for depth in (1, 2):
        for act in ("sigmoid", "tanh", "arctan", "gauss_cdf"):
            for K in (300, 1000):
                for seed in (4, 5):
                    t = tasks.make_task("square", n=40, seed=seed, n_test=0)
                    m = ADMM(hidden_layer_sizes=(4,) * depth, beta=100.0, lam=1.0, activation=act,
                             max_iter=K, verbose=0, engine="numpy", random_state=seed).fit(t.X, t.y)
                    tr = m.trace_
                    r = bounded_iterates(tr)
                    n = len(tr.normW)
                    for name, info in r.trend.items():
                        if info["verdict"] != "PASS":
                            continue
                        how = info["how"]
                        f, layer = name.split("[layer ")
                        i = int(layer[:-1]) - 1
                        x = np.asarray(getattr(tr, f)[:n], float)[:, i]
                        if "activation box" in how:
                            x = np.asarray(tr.feas[:n], float)[:, i]
                        Kx = x.size
                        M = np.maximum.accumulate(x)
                        q0, q1, q2 = max(1, Kx // 8), max(1, Kx // 4), max(2, Kx // 2)
                        g0 = M[q1 - 1] - M[q0 - 1]; g1 = M[q2 - 1] - M[q1 - 1]; g2 = M[-1] - M[q2 - 1]
                        rho = info.get("tail_ratio", float("nan"))
                        if "geometric approach" in how or "stopped rising" in how:
                            if rho <= B.RHO_FAST:
                                br = "fast"
                            elif B._decelerating(g0, g1, g2):
                                br = "decel"
                            else:
                                br = "PLAIN"
                        else:
                            br = how.split("trend: ")[-1][:40]
                        cnt[br] = cnt.get(br, 0) + 1
                        if br == "PLAIN":
                            print(f"PLAIN d{depth} {act} K={K} s{seed} {name} ratios={np.round(info.get('tail_ratios',[]),3)} g={g0:.3g},{g1:.3g},{g2:.3g}", flush=True)
    print(cnt)


if __name__ == "__main__":
    main()
