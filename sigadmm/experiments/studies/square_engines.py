"""Square task at the paper settings: final and best train MSE at k = 50 under the three engines.

Shows that the drift after the minimum (final MSE of seeds 0 and 4) is not a rounding
effect: the numba, numpy and reference engines agree to about 3 significant digits
(docs/experiments.md#toy-tasks; the measured figures are in docs/solver.md).

Run:  python -m sigadmm.experiments.studies.square_engines
"""

from __future__ import annotations

from solver import ADMM, tasks

#: The paper's settings for the square task (Table 3, docs/experiments.md#common-settings).
PAPER = dict(lam=1e-6, beta=1.0, init="msra", init_scale=8.0, max_iter=50, curvature="theory")
HIDDEN = (100, 100)
N_SAMPLES = 1000
SEEDS = range(5)
ENGINES = ("numba", "numpy", "reference")


def main() -> None:
    for seed in SEEDS:
        t = tasks.make_task("square", n=N_SAMPLES, seed=seed)
        row = []
        for eng in ENGINES:
            m = ADMM(hidden_layer_sizes=HIDDEN, random_state=seed, engine=eng, **PAPER).fit(t.X, t.y)
            tr = m.trace_.train_mse
            row.append(f"{eng}: best {tr.min():.3g} final {tr[-1]:.3g}")
        print(seed, " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
