r"""The chain constants of depth 1 and 2 as exact sympy expressions, float64 shown apart.

:func:`verify.conditions.derive` computes the constants of Theorem 4 in float64.  The last
steps of the chain are closed forms in the penalties ``beta_i``, ``lambda``, the activation
constants ``L0, L1, L2`` and the a-priori box (docs/conditions_derivation.md): Lemma 18's
coefficients (sections B, G.2), the Lemma-14 ascent, ``xi_i``, the block coefficients and
``a`` (C, G.2), Lemma 21's ``b`` (E).  :func:`chain_constants` evaluates them **exactly**:

* every float input (``beta``, ``lambda``, the box values ``w, r, a*`` / ``w2, w3, r3, q, a1,
  a2, cmax, cW1, l_i`` that the derivation returns, ``a0``) is the exact binary number it denotes
  (``sympy.Rational(float)``), so nothing is rounded on the way in;
* ``L0, L1, L2`` are the activation's closed forms (``theory.Activation.bound(k).exact``, e.g.
  sigmoid ``L2 = sqrt(3)/18``), or the exact value of the certified float upper bound when no
  closed form exists;
* the arithmetic of the chain is sympy's (``sqrt`` stays symbolic; the weighted Cauchy-Schwarz
  share ``t`` of G.2 is the exact root of its quadratic).

The box values are inputs, not recomputed: they come from a monotone fixed-point iteration
closed to 1e-12 relative (sections D, G, K.4), which has no finite closed form.  What is exact is
the map from them to ``(xi, a, b)``.  :func:`table` prints each constant exactly beside the
float64 value of the :class:`~verify.conditions.Conditions`; ``tests/test_verify_exact.py``
checks that the two agree.
"""

from __future__ import annotations

import sympy as sp

from theory import get_activation

from . import conditions as C

__all__ = ["exact", "activation_constants", "chain_constants", "float64_values", "disagreement", "table"]


def exact(x):
    """The exact value of a float (or int) as a sympy Rational (a float is a binary fraction)."""
    if isinstance(x, sp.Basic):
        return x
    return sp.Rational(float(x))


def activation_constants(act):
    """``(L0, L1, L2)`` exactly: the closed forms of ``theory`` where it has them, else the exact
    value of the certified float upper bound (``Activation.L``)."""
    act = get_activation(act)
    out = []
    for k in range(3):
        ex = getattr(act.bound(k), "exact", None)
        out.append(sp.nsimplify(ex) if ex is not None and ex != sp.oo else exact(act.L(k)))
    return tuple(out)


def _smallest(named):
    """``(name, expr)`` of the smallest exact expression (compared at 50 digits)."""
    return min(named.items(), key=lambda kv: sp.N(kv[1], 50))


def _depth1(c, L):
    """Depth 1: Lemma 18 (``_lemma18_forms_1``), Lemma 14 with the weighted (sharp) or factor-3
    Cauchy-Schwarz, Lemma 21 (``relative_error_constant_1``)."""
    b1, b2 = (exact(v) for v in c.beta)
    lam = exact(c.lam)
    w, r = exact(c.bounds["w"]), exact(c.bounds["r"])
    forms = {1: C._lemma18_forms_1(b2, w, r)}
    gap2 = (1 + b2) / 2 - 1 / b2
    cd, cp, ce = forms[1]["d2"], forms[1]["d2p"], forms[1]["e2"]
    if (c.data or {}).get("sharp"):
        S, e2 = cd + cp, ce ** 2
        D = (lam / 2 - gap2) * b1
        if D == 0:
            t = e2 / (e2 + S ** 2)
        else:       # the root in (0, 1) of D t^2 - (D + e2 + S^2) t + e2 = 0 (G.2)
            B = D + e2 + S ** 2
            roots = [(B - sp.sqrt(B ** 2 - 4 * D * e2)) / (2 * D),
                     (B + sp.sqrt(B ** 2 - 4 * D * e2)) / (2 * D)]
            t = next(x for x in roots if 0 < sp.N(x, 50) < 1)
        u = 1 - t
        coef = {"W1": lam / 2, "W2": lam / 2 - e2 / (t * b1), "V1": b1 / 2,
                "V2": gap2 - S ** 2 / (u * b1)}
        xi = cp * S / (u * b1)
        extra = {"theta_e": t}
    else:
        xi = 3 * w ** 2 * b2 ** 2 / b1
        coef = {"W1": lam / 2, "W2": lam / 2 - 3 * r ** 2 / b1, "V1": b1 / 2,
                "V2": gap2 - 3 * w ** 2 * ((1 + b2) ** 2 + b2 ** 2) / b1}
        extra = {}
    out = {"forms": forms, "xi": [sp.Integer(0), xi], "coef": coef, **extra}
    out["a_block"], out["a"] = _smallest(coef)
    d = c.data or {}
    if c.b is not None and None not in (d.get("a0"), d.get("n"), d.get("widths")):
        n, d1w = sp.Integer(int(d["n"])), sp.Integer(int(d["widths"][0]))
        a0, a_star = exact(d["a0"]), exact(c.bounds["a_star"])
        L0, L1, L2 = L
        cf = exact(c.curvature_factor)
        l1 = w * r
        nu1 = L0 * sp.sqrt(d1w * n) + 2 * l1 / b1
        a1 = sp.sqrt(nu1 ** 2 + n)
        cW1 = cf * (L1 ** 2 + L2 * (2 * L0 + 3 * l1 / b1))
        _, G = C._relative_error_G1(b1, b2, L, a0, a1, w, r, l1, a_star, cW1)
        out["G"], out["b"] = G, sp.sqrt(sum(v ** 2 for v in G.values()))
    return out


def _depth2(c, L):
    """Depth 2: Lemma 18 (``_lemma18_forms``), Lemma 14 (``_descent_coefficients``), Lemma 21
    (``relative_error_constant_2``) with the box values of ``two_hidden_box``."""
    b1, b2, b3 = (exact(v) for v in c.beta)
    lam = exact(c.lam)
    bx = c.bounds
    L0, L1, L2 = L
    w2, w3, r3, q, a1 = (exact(bx[k]) for k in ("w2", "w3", "r3", "q", "a1"))
    cmax = exact(bx["cmax"])
    kap = b2 * w2 ** 2 * (L1 ** 2 + cmax)
    c1, c2 = C._lemma18_forms(b2, b3, w2, w3, r3, q, a1, kap, L)
    _, xi, coef = C._descent_coefficients(b1, b2, b3, lam, c1, c2)
    blocks = ("W1", "W2", "W3", "V1", "V2", "V3")
    out = {"forms": {1: c1, 2: c2}, "xi": list(xi), "coef": {k: coef[k] for k in blocks},
           "kappa": kap}
    out["a_block"], out["a"] = _smallest(out["coef"])
    d = c.data or {}
    if c.b is not None and d.get("a0") is not None:
        ex = {k: exact(bx[k]) for k in ("a2", "cW1", "cW2")}
        box = {k: exact(v) for k, v in bx["box"].items() if k in ("l1", "l2", "l3")}
        ebx = {"box": box, "w2": w2, "w3": w3, "a1": a1, "r3": r3, "q": q, "kappa": kap,
               "cmax": cmax, **ex}
        _, G = C.relative_error_constant_2(ebx, (b1, b2, b3), lam, L, exact(d["a0"]))
        out["G"], out["b"] = G, sp.sqrt(sum(v ** 2 for v in G.values()))
    return out


def chain_constants(c):
    """Exact ``forms``, ``xi`` (per layer), ``coef`` (per block), ``a`` (with ``a_block``, the block
    attaining it) and, when ``c.b`` is set, ``G`` and ``b`` for derived conditions ``c`` of depth 1
    or 2 (the specialised derivations; not ``method="general"``).  Raises ``ValueError`` otherwise."""
    if not isinstance(c, C.Conditions) or not c.derived:
        raise ValueError(f"c: expected derived verify.conditions.Conditions, got {c!r}")
    if c.depth not in (1, 2) or (c.data or {}).get("general"):
        raise ValueError(f"c: exact chain constants are implemented for the depth-1 and depth-2 "
                         f"derivations (sections G.2, G.3), got depth {c.depth}"
                         + (" (method='general')" if (c.data or {}).get("general") else ""))
    L = activation_constants(c.activation)
    out = _depth1(c, L) if c.depth == 1 else _depth2(c, L)
    out["L"] = L
    return out


def float64_values(c):
    """The float64 constants of ``c`` in the keys of :func:`chain_constants`."""
    xi = c.xi_layers if c.depth == 2 else [0.0, c.xi]
    return {"xi": list(xi), "a": c.margin, "b": c.b}


def disagreement(c):
    """Largest relative difference between the float64 constants of ``c`` and the exact ones
    (evaluated at 50 digits): ``xi_i``, ``a``, ``b``."""
    ex, fl = chain_constants(c), float64_values(c)
    pairs = list(zip(ex["xi"], fl["xi"])) + [(ex["a"], fl["a"])]
    if "b" in ex and fl["b"] is not None:
        pairs.append((ex["b"], fl["b"]))
    worst = 0.0
    for e, f in pairs:
        v = sp.N(e, 50)
        worst = max(worst, float(abs(v - sp.Rational(float(f))) / max(abs(v), sp.Rational(1, 10 ** 300))))
    return worst


def table(c, digits=20):
    """Markdown table: each constant exactly (expression, value to ``digits``) beside float64."""
    ex = chain_constants(c)
    fl = float64_values(c)
    rows = ["| constant | exact expression | exact value | float64 |", "|---|---|---|---|"]
    for i, (e, f) in enumerate(zip(ex["xi"], fl["xi"])):
        rows.append(f"| xi_{i + 1} | `{sp.sstr(e)[:120]}` | {sp.N(e, digits)} | {f!r} |")
    rows.append(f"| a ({ex['a_block']}) | `{sp.sstr(ex['a'])[:120]}` | {sp.N(ex['a'], digits)} "
                f"| {fl['a']!r} |")
    if "b" in ex:
        rows.append(f"| b | `{sp.sstr(ex['b'])[:120]}` | {sp.N(ex['b'], digits)} | {fl['b']!r} |")
    return "\n".join(rows)
