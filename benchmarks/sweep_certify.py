"""Audit-like sweep of the certifier (issue 13): no false "NOT certified".

Every construction of the paper is proven to meet its eps (``proven_bound <= eps``), so every
case must end ``certified``: a ``refuted`` or ``inconclusive`` status is a false negative of
the certifier.  The sweep covers eps = 1e-2 ... 1e-9, M in {0.5, 1, 2, 3}, the four built-in
smooth activations and the audit's four user activations (``Activation.from_expr``: Gaussian
CDF, arctan, the algebraic sigmoid ``1/2 + t/(2 sqrt(1+t^2))``, ``1/(1+exp(-3t))``), for
``square_gate``, ``product_gate`` (both variants), ``identity_gate`` and ``relu_net`` (both
variants).  Each case also checks that the certified upper bound is >= the error sampled at
high precision (a sanity check of the bound, not a proof).

Run:  .venv/bin/python benchmarks/sweep_certify.py [--quick] [--out results.jsonl]

``--quick``: eps in {1e-2, 1e-5, 1e-9}, M in {0.5, 3}.  Prints one line per case and the
summary table (the one in docs/theory.md).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict

import sympy as sp

import theory
from theory import Activation

t = sp.Symbol("t", real=True)

USER = {
    "gauss_cdf[user]": Activation.from_expr((1 + sp.erf(t / sp.sqrt(2))) / 2, t, "gauss_cdf[user]"),
    "arctan[user]": Activation.from_expr(sp.Rational(1, 2) + sp.atan(t) / sp.pi, t, "arctan[user]"),
    "algebraic[user]": Activation.from_expr(sp.Rational(1, 2) + t / (2 * sp.sqrt(1 + t ** 2)), t,
                                            "algebraic[user]"),
    "logistic3[user]": Activation.from_expr(1 / (1 + sp.exp(-3 * t)), t, "logistic3[user]"),
}
BUILTIN = {a.name: a for a in (theory.sigmoid, theory.tanh, theory.gauss_cdf, theory.arctan_sigmoid)}

CONSTRUCTIONS = {
    "square_gate": lambda e, M, a: theory.square_gate(e, M, a),
    "product_gate[paper]": lambda e, M, a: theory.product_gate(e, M, a, "paper"),
    "product_gate[polarization]": lambda e, M, a: theory.product_gate(e, M, a, "polarization"),
    "identity_gate": lambda e, M, a: theory.identity_gate(e, M, a),
    "relu_net[polarization]": lambda e, M, a: theory.relu_net(e, M, a, "polarization"),
    "relu_net[paper]": lambda e, M, a: theory.relu_net(e, M, a, "paper"),
}

EPS_FULL = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]
M_FULL = [0.5, 1, 2, 3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None, help="write one JSON line per case here")
    args = ap.parse_args()
    eps_list = [1e-2, 1e-5, 1e-9] if args.quick else EPS_FULL
    M_list = [0.5, 3] if args.quick else M_FULL
    acts = {**BUILTIN, **USER}
    print("load average", " ".join(f"{v:.2f}" for v in os.getloadavg()), f"({os.cpu_count()} cpus)")
    out = open(args.out, "w") if args.out else None
    stats = defaultdict(lambda: {"n": 0, "certified": 0, "refuted": 0, "inconclusive": 0,
                                 "error": 0, "bad_sample": 0, "max_s": 0.0, "sum_s": 0.0,
                                 "max_boxes": 0})
    t_all = time.perf_counter()
    for aname, act in acts.items():
        for cname, build in CONSTRUCTIONS.items():
            for eps in eps_list:
                for M in M_list:
                    key = (aname, cname)
                    st = stats[key]
                    st["n"] += 1
                    t0 = time.perf_counter()
                    rec = {"activation": aname, "construction": cname, "eps": eps, "M": M}
                    try:
                        net = build(eps, M, act)
                        cert = theory.certify(net)
                        secs = time.perf_counter() - t0
                        st[cert.status] += 1
                        st["max_boxes"] = max(st["max_boxes"], cert.n_boxes)
                        if cert.sampled_sup_error > cert.upper_float:
                            st["bad_sample"] += 1
                        rec.update(status=cert.status, upper=cert.upper_float,
                                   lower=cert.lower_float, boxes=cert.n_boxes,
                                   bits=cert.prec_bits, seconds=secs, reason=cert.reason)
                    except Exception as exc:  # a crash is counted, never hidden
                        secs = time.perf_counter() - t0
                        st["error"] += 1
                        rec.update(status="error", error=f"{type(exc).__name__}: {exc}", seconds=secs)
                    st["max_s"] = max(st["max_s"], secs)
                    st["sum_s"] += secs
                    print(json.dumps(rec), flush=True)
                    if out:
                        out.write(json.dumps(rec) + "\n")
                        out.flush()
    total = time.perf_counter() - t_all
    print()
    print(f"{'activation':18s} {'construction':27s} {'cases':>5s} {'cert':>5s} {'refut':>5s} "
          f"{'incon':>5s} {'error':>5s} {'mean s':>7s} {'max s':>7s} {'max boxes':>9s}")
    tot = defaultdict(int)
    for (aname, cname), st in stats.items():
        print(f"{aname:18s} {cname:27s} {st['n']:5d} {st['certified']:5d} {st['refuted']:5d} "
              f"{st['inconclusive']:5d} {st['error']:5d} {st['sum_s'] / st['n']:7.2f} "
              f"{st['max_s']:7.2f} {st['max_boxes']:9d}")
        for k in ("n", "certified", "refuted", "inconclusive", "error", "bad_sample"):
            tot[k] += st[k]
    print(f"total: {tot['n']} cases, {tot['certified']} certified, {tot['refuted']} refuted, "
          f"{tot['inconclusive']} inconclusive, {tot['error']} errors, {tot['bad_sample']} samples "
          f"above the bound; {total:.0f} s")
    print("load average", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    if out:
        out.close()


if __name__ == "__main__":
    main()
