"""Lemma 14 decided on ball enclosures (issue 22, item 4): one derived depth-2 run in python-flint
ball arithmetic (``solver.admm.extprec.run(..., ball=True)``), saved with its enclosures.

    nice -n 5 python benchmarks/extprec_ball.py --iters 150 --prec 3072

Ball arithmetic loses about 18 bits per iteration on this problem (the enclosures' relative
radius, ``meta['enclosures']['max_rel_rad']``), so ``prec`` must exceed ``18 iters + 100``.
The decision is :func:`verify.enclosed.enclosed_descent` with the derived ``xi``, ``a``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "extprec"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=150)
    p.add_argument("--prec", type=int, default=3072)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--activation", default="sigmoid")
    p.add_argument("--task", default="square")
    a = p.parse_args(argv)
    from solver import init_weights, tasks
    from solver.admm import extprec
    from verify import conditions as C
    from verify.enclosed import enclosed_descent

    t = tasks.make_task(a.task, n=60, seed=0, n_test=0)
    w0 = init_weights((t.X.shape[1],) + (4,) * a.depth + (1,), "lecun_normal", 1.0, 0)
    c = C.derive_from_data(a.depth, a.activation, X=t.X, y=t.y, init_weights=w0, lam=1.0)
    OUT.mkdir(parents=True, exist_ok=True)
    key = f"ball-d{a.depth}-{a.activation}-{a.task}-k{a.iters}-p{a.prec}"
    t0 = time.perf_counter()
    tr = extprec.run(t.X, t.y, w0, iters=a.iters, prec=a.prec, ball=True, **c.kwargs)
    wall = time.perf_counter() - t0
    tr.save(OUT / f"{key}.npz")
    res = enclosed_descent(tr, xi=c.xi_layers, a=c.margin)
    row = {"key": key, "wall_s": wall, "beta": list(c.beta), "xi": list(c.xi_layers),
           "a": c.margin, "iterations": len(tr), "status": tr.meta.get("status", "completed"),
           **{k: v for k, v in res.items() if k != "slack"},
           "max_rel_rad_final": tr.meta["enclosures"]["max_rel_rad"][-1]}
    (OUT / f"{key}.json").write_text(json.dumps(row, indent=1) + "\n")
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
