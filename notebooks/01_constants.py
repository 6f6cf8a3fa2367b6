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
# # Constants of the constructions (paper section 2)
#
# Activation constants `L_k = sup |sigma^(k)|` exactly (sympy) or as certified enclosures; the parameters of Lemma 2 (square gate), Lemma 6 (product gate) and Theorem 3 (ReLU from a sigmoid net) as functions of eps; the float64 floor of each construction; the sigmoid-vs-ReLU table (Yarotsky depth, the ReLU lower bound). Everything from `theory`.
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the paper's settings, long):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 01_constants --out reports/notebooks
# ```
#
# Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; trials are cached under `reports/notebooks/01_constants/sweeps`, so an interrupted run resumes.

# %%
NAME = "01_constants"
import os, sys, tempfile
from pathlib import Path
ROOT = Path.cwd() if (Path.cwd() / "notebooks").is_dir() else Path.cwd().parent
sys.path.insert(0, str(ROOT / "notebooks"))
os.chdir(ROOT)
from nbtools import label, plt  # figure captions (measure, size, command) and the figures' data
import numpy as np
import pandas as pd
from sigadmm import reproduce as R
from sigadmm.report import fmt_num
QUICK = R.quick_mode()
# quick runs use a fresh temporary folder; full runs cache every trial (re-run to resume)
OUT = Path(tempfile.mkdtemp()) if QUICK else Path("reports/notebooks") / NAME
SCHED = "synchronous" if QUICK else os.environ.get("SIGADMM_SCHEDULER")  # None: LocalCluster
print("quick mode (reduced sizes)" if QUICK else f"full size -> {OUT}")

# %%
import sympy as sp
import theory
acts = [theory.sigmoid, theory.tanh] + ([] if QUICK else [theory.gauss_cdf, theory.arctan_sigmoid])
rows = []
for act in acts:
    for k in range(3 if QUICK else 5):
        b = act.bound(k)
        lo, hi = b.enclosure
        rows.append([act.name, k, str(b.exact) if b.exact is not None else "(no closed form)",
                     f"[{float(lo):.10g}, {float(hi):.10g}]", b.argmax, b.attained])
pd.DataFrame(rows, columns=["activation", "k", "L_k exact", "certified enclosure", "argmax", "attained"])

# %% [markdown]
# ## Lemma 2, Lemma 6, Theorem 3: parameters against eps (M = 1, sigmoid)

# %%
eps_grid = [1e-3, 1e-6] if QUICK else [10.0 ** -k for k in range(1, 11)]
rows = []
for eps in eps_grid:
    sq = theory.square_gate(eps, 1)
    pg = theory.product_gate(eps, 1)
    rn = theory.relu_net(eps, 1, variant="paper")
    info = sq.info
    rows.append([eps, float(info["d"]), float(info["c"]), sq.n_free_params, pg.n_free_params,
                 pg.max_abs_param, rn.depth, rn.n_free_params, rn.max_abs_param])
params = pd.DataFrame(rows, columns=["eps", "square d", "square c", "square #params", "product #params",
                                     "product max|param|", "relu-net depth", "relu-net #params",
                                     "relu-net max|param|"])
params

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(params.eps, params["square c"], "o-", label="square gate outer coefficient c ~ 1/eps")
ax.loglog(params.eps, params["product max|param|"], "s-", label="product gate max |param|")
ax.loglog(params.eps, params["relu-net max|param|"], "^-", label="ReLU-from-sigmoid max |param|")
ax.set(xlabel="eps (target sup error on [-1, 1], dimensionless)", ylabel="magnitude (dimensionless)",
       title="Parameter growth as the accuracy tightens")
ax.invert_xaxis(); ax.legend(fontsize=8)
label(fig, measure="exact parameters of each construction (no training)", size=f"{len(eps_grid)} values of eps, M = 1, sigmoid",
      command="python notebooks/publish.py 01_constants")
plt.show()

# %% [markdown]
# ## The float64 floor
#
# The square gate's numerator is a second difference of O(1) numbers that is only O(d^2): below some eps a float64 evaluation cannot reach the proven accuracy, while the exact-arithmetic (ball-certified) error still can.

# %%
floor_eps = [1e-4, 1e-9] if QUICK else [10.0 ** -k for k in range(2, 13)]
gates = {"square": theory.square_gate} if QUICK else {"square": theory.square_gate, "product": theory.product_gate}
rows = []
for eps in floor_eps:
    for name, make in gates.items():
        net = make(eps, 1)
        c = theory.certify(net, grid=2001 if QUICK else 200001)
        rows.append([name, eps, float(c.rigorous_sup_error), float(c.float64_sup_error), c.holds, c.float64_holds])
floor = pd.DataFrame(rows, columns=["gate", "eps", "certified (exact arithmetic)", "float64", "holds", "float64 holds"])
fig, ax = plt.subplots(figsize=(6, 3.5))
for g, sub in floor.groupby("gate"):
    ax.loglog(sub.eps, sub["certified (exact arithmetic)"], "o-", label=f"{g}: certified")
    ax.loglog(sub.eps, sub["float64"], "x--", label=f"{g}: float64")
ax.loglog(floor_eps, floor_eps, "k:", label="eps")
ax.set(xlabel="eps (target sup error, dimensionless)", ylabel="sup error on [-1, 1] (units of x^2)", title="Exact vs float64 error")
ax.invert_xaxis(); ax.legend(fontsize=8)
label(fig, measure="sup error over [-1, 1]: certified upper bound (ball arithmetic, exact weights) and float64 on a grid",
      size=f"{len(floor_eps)} values of eps, grid of {2001 if QUICK else 200001} points, M = 1", command="python notebooks/publish.py 01_constants")
plt.show()
floor

# %% [markdown]
# ## Sigmoid against ReLU (the paper's Table 1 in spirit)

# %%
rows = theory.compare_table(eps=1e-3 if QUICK else 1e-8)
print(theory.format_table(rows))

# %%
rows = []
for eps in eps_grid:
    y = theory.yarotsky_square(eps, 1)
    need = {L: theory.relu_size_needed(eps, 1, L) for L in (1, 2, 4)}
    rows.append([eps, y.depth, y.n_free_params, 1, 3] + [need[L] for L in (1, 2, 4)])
pd.DataFrame(rows, columns=["eps", "ReLU x^2 depth", "ReLU x^2 #params", "sigmoid x^2 depth",
                            "sigmoid x^2 #params", "ReLU width for sigmoid, depth 1",
                            "depth 2", "depth 4"])
