"""Calibration of the step replay (verify.replay): its largest differences on unmutated runs.

    PYTHONPATH=. python benchmarks/calibrate_replay.py [--engines numba numpy reference]

The seven test problems of benchmarks/mutation_score.py (depth 1-2, sigmoid and tanh; beta 100,
derived, (3000, 2)), replayed at k = 1 (from the initial point), K/2 and K: the largest step
difference and the largest record difference per engine, against REPLAY_RTOL and
REPLAY_RECORD_RTOL.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutation_score import PROBLEMS  # noqa: E402

from solver import ADMM, init_weights, tasks  # noqa: E402
from verify import conditions as COND  # noqa: E402
from verify.replay import REPLAY_RECORD_RTOL, REPLAY_RTOL, replay_fit  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", nargs="+", default=["numba", "numpy", "reference"],
                    choices=["numba", "numpy", "reference"])
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    worst = {"step": 0.0, "record": 0.0}
    print("| problem | engine | max step diff | max record diff | holds |\n|---|---|---|---|---|")
    for name, act, depth, beta, iters, consts in PROBLEMS:
        t = tasks.make_task("square", n=40, seed=0, n_test=0)
        w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", 1.0, 0)
        if consts == "derived":
            c = COND.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=1.0)
            kw = {k: v for k, v in c.kwargs.items() if k != "activation"}
        else:
            kw = {"beta": list(beta) if isinstance(beta, tuple) else beta, "lam": 1.0}
        for engine in a.engines:
            m = ADMM(hidden_layer_sizes=(4,) * depth, max_iter=iters, verbose=0, engine=engine,
                     activation=act, random_state=0, **kw)
            r = replay_fit(m, t.X, t.y, init_weights=w0, at=(1, iters // 2, -1))
            worst["step"] = max(worst["step"], r["max_step"])
            worst["record"] = max(worst["record"], r["max_record"])
            print(f"| {name} | {engine} | {r['max_step']:.2g} | {r['max_record']:.2g} | "
                  f"{r['holds']} |", flush=True)
    print(f"\nlargest: step {worst['step']:.2g} (tolerance {REPLAY_RTOL:g}), record "
          f"{worst['record']:.2g} (tolerance {REPLAY_RECORD_RTOL:g}); {time.strftime('%H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
