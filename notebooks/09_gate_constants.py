# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lemma 2, Lemma 6 and Theorem 3: every parameter as a function of eps
#
# The constructions of `theory` (docs/theory.md) for the sigmoid on `[-1, 1]` (`M = 1`):
# Lemma 2's square gate `N(x) = c [sigma(t0 + d x) + sigma(t0 - d x) - 2 sigma(t0)]`, Lemma 6's
# product gate (the paper's variant: three square gates), and Theorem 3's two-hidden-layer
# approximant of the ReLU (the paper's variant).  For each `eps`: the exact parameters (sympy),
# the exact proven bound of the lemma, the **certified** sup error (ball arithmetic over the
# exact weights, `theory.certify`) and, separately, the float64 sup error on a grid.
#
# **Sizes.** The published outputs are the quick mode's (`SIGADMM_QUICK=1`: 4 values of eps);
# full size (10 values, down to `eps = 1e-10`):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 09_gate_constants --out reports/notebooks
# ```

# %%
NAME = "09_gate_constants"
import os, sys
from pathlib import Path
ROOT = Path.cwd() if (Path.cwd() / "notebooks").is_dir() else Path.cwd().parent
sys.path.insert(0, str(ROOT / "notebooks"))
os.chdir(ROOT)
from nbtools import label, plt  # figure captions (measure, size, command) and the figures' data
import numpy as np
import pandas as pd
import sympy as sp
import theory
from sigadmm import reproduce as R
QUICK = R.quick_mode()
CMD = "python notebooks/publish.py 09_gate_constants"
EPS = [1e-2, 1e-3, 1e-4, 1e-6] if QUICK else [10.0 ** -k for k in range(1, 11)]
pd.set_option("display.max_colwidth", 80)
print("quick mode (reduced sizes)" if QUICK else "full size")

# %% [markdown]
# ## Lemma 2: the exact forms
#
# With `t0` the maximiser of `|sigma''|` (sigmoid: `log(2 - sqrt 3)`), the fourth-order Taylor
# bound `|x^2 - N(x)| <= L_4 d^2 M^4 / (12 |sigma''(t0)|)` gives the scale
# `d(eps) = sqrt(12 eps |sigma''(t0)| / (L_4 M^4))` (rounded *down* to 3 significant digits, so
# that the weights are short rationals and the proven bound only improves) and `c = 1/(d^2 sigma''(t0))`.
# `L_4` enters as a rational upper bound of its certified enclosure.

# %%
eps_s, M = sp.Symbol("epsilon", positive=True), 1
g0 = theory.square_gate(EPS[0], M)
s2, L4, t0 = g0.info["sigma2(t0)"], g0.info["L4"], g0.info["t0"]
d_form = sp.sqrt(12 * eps_s * abs(s2) / (L4 * M ** 4))
c_form = 1 / (sp.Symbol("d", positive=True) ** 2 * s2)
pd.DataFrame([["t0", str(t0), float(t0)], ["sigma''(t0)", str(s2), float(s2)], ["L_4 (rational upper bound)", str(L4), float(L4)],
              ["d(eps) before rounding", str(sp.simplify(d_form)), "-"], ["c(d)", str(c_form), "-"],
              ["proven bound(d)", str(sp.simplify(L4 * sp.Symbol("d") ** 2 / (12 * abs(s2)))), "-"]],
             columns=["quantity", "exact form", "float64"])

# %% [markdown]
# ## Every parameter against eps, and the three errors
#
# For each construction and `eps`: its free parameters (exact), the number of free parameters,
# the largest parameter magnitude, the proven bound (exact, evaluated), the certified sup error
# (an upper bound, ball arithmetic) and the float64 sup error (a grid of 2001 points).

# %%
builders = {"Lemma 2 (square gate)": lambda e: theory.square_gate(e, M),
            "Lemma 6 (product gate)": lambda e: theory.product_gate(e, M),
            "Theorem 3 (ReLU)": lambda e: theory.relu_net(e, M, variant="paper")}
params_rows, err_rows = [], []
for e in EPS:
    for what, make in builders.items():
        net = make(e)
        cert = theory.certify(net)
        for pname, (sym, val) in net.params.items():
            params_rows.append([what, e, pname, str(val), float(sp.N(val, 20))])
        err_rows.append([what, e, net.n_free_params, float(net.max_abs_param), float(sp.N(net.proven_bound, 20)),
                         cert.status, cert.upper_float, float(cert.float64_sup_error)])
errors = pd.DataFrame(err_rows, columns=["construction", "eps", "# free params", "max |param|", "proven bound (exact)",
                                         "certificate", "certified sup error", "float64 sup error"])
errors

# %% [markdown]
# The exact parameters, one row each (`t0_i`, `d_i`, `c_i` of the gates; Theorem 3 adds the
# identity and step pieces):

# %%
params = pd.DataFrame(params_rows, columns=["construction", "eps", "parameter", "exact value", "float64"])
params[params.eps.isin([EPS[0], EPS[-1]])]

# %% [markdown]
# ## Parameters and certified errors against eps, in one figure

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
for i, (what, sub) in enumerate(errors.groupby("construction", sort=False)):
    ax1.loglog(sub.eps, sub["certified sup error"], "o-", color=f"C{i}", label=f"{what}: certified")
    ax1.loglog(sub.eps, sub["proven bound (exact)"], "--", color=f"C{i}", lw=1, label=f"{what}: proven bound")
    ax1.loglog(sub.eps, sub["float64 sup error"], "x", color=f"C{i}", ms=8, label=f"{what}: float64")
    ax2.loglog(sub.eps, sub["max |param|"], "s-", color=f"C{i}", label=f"{what}: max |param|")
sq = params[(params.construction == "Lemma 2 (square gate)") & (params.parameter == "d")]
ax2.loglog(sq.eps, sq.float64, "^:", color="C0", label="Lemma 2: d (exact, rounded down)")
ax1.loglog(EPS, EPS, "k:", label="eps")
ax1.set(xlabel="eps (target sup error, dimensionless)", ylabel="sup error on the domain (units of the target)",
        title="errors against eps")
ax2.set(xlabel="eps (target sup error, dimensionless)", ylabel="parameter magnitude (dimensionless)",
        title="parameters against eps")
for a in (ax1, ax2):
    a.invert_xaxis(); a.legend(fontsize=6)
fig.tight_layout()
label(fig, measure="sup error over [-1, 1] (Theorem 3) or [-1, 1]^2 (Lemma 6): certified upper bound (ball "
      "arithmetic on the exact weights), the lemma's proven bound, and float64 on a grid; no training",
      size=f"{len(EPS)} values of eps, M = 1, sigmoid, 3 constructions", command=CMD)
plt.show()
