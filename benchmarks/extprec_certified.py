"""Theorem 4 certified at depth 2 and 3: derived constants, runs in extended precision.

For each (depth, activation, task): the general-depth derived conditions at ``lam``
(``verify.conditions.derive_from_data``; depth 2: the sharp two-hidden-layer derivation,
depth >= 3: docs/conditions_derivation.md, section K), a run of ``--iters`` iterations with
:mod:`solver.admm.extprec` at ``--prec`` bits from the paper's initial point, and the checks
``sufficient_descent``, ``rate_certificate``, ``relative_error``, ``bounded_iterates`` with
the DERIVED constants (``conditions=``).  One JSON line per combination in
``benchmarks/results/extprec/results.jsonl`` (resumable: a combination already there is
skipped); ``--timing`` measures the per-iteration cost against the float64 reference steps.

    nice -n 5 python benchmarks/extprec_certified.py --iters 400
    python benchmarks/extprec_certified.py --timing
    python benchmarks/extprec_certified.py --constants
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "extprec"


def combo_key(depth, act, task, lam, seed, iters, prec, n=60, width=4):
    extra = "" if (n, width) == (60, 4) else f"-n{n}-w{width}"
    return f"d{depth}-{act}-{task}-lam{lam:g}-s{seed}-k{iters}-p{prec}{extra}"


def run_one(depth, act, task, lam, seed, iters, prec, n=60, width=4):
    from solver import init_weights, tasks
    from solver.admm import extprec
    from verify import (bounded_iterates, conditions, rate_certificate, relative_error,
                        sufficient_descent)

    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    w0 = init_weights((t.X.shape[1],) + (width,) * depth + (1,), "lecun_normal", 1.0, seed)
    c = conditions.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=lam)
    t0 = time.perf_counter()
    tr = extprec.run(t.X, t.y, w0, iters=iters, prec=prec, **c.kwargs)
    wall = time.perf_counter() - t0
    nv = conditions.numerical_validity(tr)
    nv64 = conditions.numerical_validity(tr, eps=2.0 ** -52)
    res = {}
    for f in (sufficient_descent, rate_certificate, bounded_iterates):
        r = f(tr, conditions=c)
        res[r.name] = {"verdict": str(r.verdict.value if hasattr(r.verdict, "value") else r.verdict),
                       "message": r.message}
    r = relative_error(tr, b=c.b)
    res["relative_error"] = {"verdict": str(r.verdict.value if hasattr(r.verdict, "value") else r.verdict),
                             "message": r.message}
    sd = sufficient_descent(tr, conditions=c)
    rc = rate_certificate(tr, conditions=c)
    key = combo_key(depth, act, task, lam, seed, iters, prec, n, width)
    tr.save(OUT / f"{key}.npz")
    return {"key": key, "depth": depth, "activation": act, "task": task, "lam": lam, "seed": seed,
            "n": n, "width": width, "iters": iters, "prec": prec, "beta": list(c.beta),
            "xi": list(c.xi_layers), "a": c.margin, "b": c.b, "status": c.status,
            "wall_s": wall, "validity_ratio_max": float(max(nv["ratio"])),
            "float64_ratio_max": float(max(nv64["ratio"])), "flagged_float64": nv64["flagged"],
            "min_margin": sd.min_margin, "n_decided": sd.n_decided,
            "rate_final_slack": rc.get("final_slack"), "checks": res}


def timing(iters=40, prec=256):
    """Per-iteration cost: extprec (midpoint, ball) against the float64 reference steps."""
    from solver import init_weights, tasks
    from solver.admm import extprec
    from verify import highprec

    t = tasks.make_task("square", n=60, seed=0, n_test=0)
    w0 = init_weights((1, 4, 4, 4, 1), "lecun_normal", 1.0, 0)
    kw = dict(beta=[1e6, 1e4, 1e2, 2.0], lam=1.0, activation="sigmoid")
    extprec.run(t.X, t.y, w0, iters=1, **kw)                 # warm the activation's constants
    out = {}
    for name, f in (("float64 reference (solver.admm.steps)", lambda: highprec.run_float64(t.X, t.y, w0, iters=iters, **kw)),
                    (f"extprec {prec} bits midpoint", lambda: extprec.run(t.X, t.y, w0, iters=iters, prec=prec, **kw)),
                    ("extprec 1024 bits ball (enclosures lose ~18 bits per iteration)",
                     lambda: extprec.run(t.X, t.y, w0, iters=iters, prec=1024, ball=True, **kw)),
                    ("extprec 128 bits midpoint", lambda: extprec.run(t.X, t.y, w0, iters=iters, prec=128, **kw))):
        t0 = time.perf_counter()
        f()
        out[name] = (time.perf_counter() - t0) / iters
    out["load"] = os.getloadavg()
    return out


def constants_table():
    """The constants table of docs/conditions_derivation.md, K.7: the general derivation
    (``derive(..., method="general")``), square task, ``n = 60``, widths 4, lecun_normal scale 1,
    seed 0, at each (depth, activation, lambda)."""
    from solver import init_weights, tasks
    from verify import conditions as C

    rows = [(1, "sigmoid", 1.0), (2, "sigmoid", 1.0), (3, "sigmoid", 1.0), (3, "tanh", 1.0),
            (4, "sigmoid", 1.0), (4, "sigmoid", 10.0), (4, "tanh", 10.0), (4, "tanh", 1.0)]
    t = tasks.make_task("square", n=60, seed=0, n_test=0)
    print("| depth | activation | lambda | beta (input -> output) | a | b |")
    print("|---|---|---|---|---|---|")
    for depth, act, lam in rows:
        w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", 1.0, 0)
        try:
            c = C.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=lam,
                                   method="general")
            print(f"| {depth} | {act} | {lam:g} | {', '.join(f'{v:.3g}' for v in c.beta)} | "
                  f"{c.margin:.2g} | {c.b:.2g} |")
        except ValueError as exc:
            print(f"| {depth} | {act} | {lam:g} | none ({str(exc)[:60]}...) | - | - |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=400)
    p.add_argument("--prec", type=int, default=256)
    p.add_argument("--lam", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--depths", default="2,3")
    p.add_argument("--activations", default="sigmoid,tanh")
    p.add_argument("--tasks", default="square,product")
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--width", type=int, default=4)
    p.add_argument("--timing", action="store_true")
    p.add_argument("--constants", action="store_true", help="print the derived constants table")
    a = p.parse_args(argv)
    if a.constants:
        constants_table()
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if a.timing:
        res = timing()
        print(json.dumps(res, indent=1))
        (OUT / "timing.json").write_text(json.dumps(res, indent=1) + "\n")
        return
    path = OUT / "results.jsonl"
    done = set()
    if path.exists():
        done = {json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()}
    for depth in (int(v) for v in a.depths.split(",")):
        for act in a.activations.split(","):
            for task in a.tasks.split(","):
                key = combo_key(depth, act, task, a.lam, a.seed, a.iters, a.prec, a.n, a.width)
                if key in done:
                    continue
                row = run_one(depth, act, task, a.lam, a.seed, a.iters, a.prec, a.n, a.width)
                with path.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(key, {k: v["verdict"] for k, v in row["checks"].items()},
                      f"{row['wall_s']:.0f}s", flush=True)


if __name__ == "__main__":
    main()
