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
# # The related lifted methods side by side
#
# The paper's sigmoid ADMM beside the three methods it sits among, each an instrumented `solver` estimator with its own claim checked by `verify` (docs/peers.md): **dlADMM** (Wang et al., KDD 2019), **lifted-ReLU BCD** (Zhang and Brand 2017, reconstructed) and the **inexact ALM** for sparse leaky-ReLU nets (Liu, Liu and Chen 2023, reconstructed). `sigadmm.peers.compare` runs them on one task with the same data split and seeds and measures every method the same way from its iterates: network-level errors (and accuracy by the argmax of one-hot outputs), time, per-layer relative weight steps, and each method's lift gap and claim verdicts.
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the docs/peers.md settings, about half an hour on two cores):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 07_peers --out reports/notebooks
# ```
#
# The command line does the same: `sigadmm compare --methods admm,dladmm,lifted_bcd,inexact_alm --task square --seeds 0,1 --iters 100 --out DIR`.

# %%
NAME = "07_peers"
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
from sigadmm import peers
methods = peers.available_methods()
size = (dict(seeds=(0,), max_iter=6, hidden=(6, 6), n=60, n_test=60) if QUICK else
        dict(seeds=(0, 1), max_iter=100, hidden=(20, 20), n=200, n_test=200))
# an outer iteration of the inexact ALM is a whole inner solve: fewer of them
params = {"inexact_alm": {"max_iter": 3 if QUICK else 20}} if "inexact_alm" in methods else {}
sq = peers.compare(methods, "square", params=params, **size)
pd.DataFrame(sq.table)[["method", "seed", "iterations", "train_mse", "test_mse", "lift_gap",
                        "n_pass", "n_fail", "n_inconclusive"]]

# %% [markdown]
# Mean (std over seeds) of the final iterate, and every claim check per seed:

# %%
pd.DataFrame(sq.summary())[['method', 'seeds', 'train_mse', 'test_mse', 'claims']]

# %% [markdown]
# Time (seconds on the machine that published this notebook; not compared by `publish.py --check`):

# %% tags=["volatile"]
display(pd.DataFrame(sq.table)[["method", "seed", "iterations", "time_s"]])
pd.DataFrame(sq.summary())[["method", "s_per_iter"]]

# %%
pd.DataFrame(sq.verdicts)[['method', 'seed', 'check', 'verdict', 'reason']]

# %% [markdown]
# ## Error against iteration and against seconds; the lift gap; which layers learn
#
# The error figures have a time axis: `publish.py --check` compares them by kind only (tag `volatile`).

# %% tags=["volatile"]
label(peers.plot_errors(sq), measure="final-iterate train and test error of each method against iteration and seconds",
      size=f"{len(size['seeds'])} seed(s), {size['max_iter']} iterations (inexact ALM: {params.get('inexact_alm', {}).get('max_iter', size['max_iter'])} outer), hidden {size['hidden']}, n = {size['n']}", command="python notebooks/publish.py 07_peers")

# %%
label(peers.plot_lift_gap(sq), measure="lift gap of each method's iterates (train set)",
      size=f"{len(size['seeds'])} seed(s), {size['max_iter']} iterations (inexact ALM: {params.get('inexact_alm', {}).get('max_iter', size['max_iter'])} outer), hidden {size['hidden']}, n = {size['n']}", command="python notebooks/publish.py 07_peers")

# %%
fig_ = peers.plot_layer_steps(sq)
label(fig_, units={j: ("iteration k", "relative step ||dW_i|| / ||W_i|| (dimensionless)") for j in range(len(fig_.axes))},
      measure="per-layer relative weight steps over the run (train set)",
      size=f"{len(size['seeds'])} seed(s), {size['max_iter']} iterations (inexact ALM: {params.get('inexact_alm', {}).get('max_iter', size['max_iter'])} outer), hidden {size['hidden']}, n = {size['n']}", command="python notebooks/publish.py 07_peers")

# %% [markdown]
# ## Real data: digits (classification by one-hot targets and the argmax)
#
# dlADMM is fitted with its softmax cross-entropy, the others with the squared loss on one-hot targets (the table's `loss` column).

# %%
dsize = (dict(seeds=(0,), max_iter=4, hidden=(8,), n=100) if QUICK else
         dict(seeds=(0, 1), max_iter=100, hidden=(20, 20), n=300))
dg = peers.compare(methods, "digits", params={"inexact_alm": {"max_iter": 3 if QUICK else 10}}
                   if "inexact_alm" in methods else {}, **dsize)
pd.DataFrame(dg.table)[["method", "seed", "loss", "iterations", "train_acc", "test_acc",
                        "test_mse", "n_pass", "n_fail", "n_inconclusive"]]

# %% tags=["volatile"]
label(peers.plot_errors(dg), measure="final-iterate train and test error against iteration and seconds",
      size=f"{len(dsize['seeds'])} seed(s), {dsize['max_iter']} iterations, hidden {dsize['hidden']}, n = {dsize['n']}", command="python notebooks/publish.py 07_peers")

# %%
fig_ = peers.plot_layer_steps(dg)
label(fig_, units={j: ("iteration k", "relative step ||dW_i|| / ||W_i|| (dimensionless)") for j in range(len(fig_.axes))},
      measure="per-layer relative weight steps over the run (train set)",
      size=f"{len(dsize['seeds'])} seed(s), {dsize['max_iter']} iterations, hidden {dsize['hidden']}, n = {dsize['n']}", command="python notebooks/publish.py 07_peers")

# %% [markdown]
# ## dlADMM: the authors' defaults against the claim's regime
#
# The descent claim needs `rho > 2H` (H = 1 for the squared loss), an exact `z_L` step and the proximal hidden `z` step; at the authors' `rho = 1e-6` the check says *not applicable* and shows what the run did.

# %%
if "dladmm" in methods:
    regimes = {"authors (rho = 1e-6)": {},
               "claim (rho = 4, prox_z = 1, no adaptive rule)": {"rho": 4.0, "prox_z": 1.0, "adapt": False}}
    rows = []
    for label, p in regimes.items():
        c = peers.compare(["dladmm"], "square", params={"dladmm": p}, **size)
        for v in c.verdicts:
            rows.append([label, v["seed"], v["check"], v["verdict"], v["reason"][:160]])
        rows.append([label, "-", "test MSE", f"{c.summary()[0]['test_mse']:.3g}", ""])
    display(pd.DataFrame(rows, columns=["regime", "seed", "check", "verdict", "reason"]))
