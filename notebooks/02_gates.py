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
# # Square and product gate: Tables 3 and 4, depth curves
#
# ADMM-sigmoid against SGD / SGD-momentum / Adam on ReLU nets and SGD on sigmoid nets, at the paper's best structures, with the paper's numbers beside ours (mean (std) over trials); then the error against depth (the paper's Figures 6 and 8).
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the paper's settings, long):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 02_gates --out reports/notebooks
# ```
#
# Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; trials are cached under `reports/notebooks/02_gates/sweeps`, so an interrupted run resumes.

# %%
NAME = "02_gates"
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
cfg = (R.QUICK.replace(trials=2, n=200, n_test=200, epochs=3, admm_iters=15, width_cap=12, depth_cap=3)
       if QUICK else R.FULL.replace(tasks=("square", "product")))
tab = R.gate_experiments(cfg, OUT, scheduler=SCHED, progress=not QUICK)
label(tab["figure"], measure="training MSE of each trial: best iterate (circles) and final iterate (squares); the paper's mean and std (stars)",
      size=f"{cfg.trials} trials per method, {cfg.admm_iters} ADMM iterations, {cfg.epochs} epochs per baseline, n = {cfg.n}",
      command="python notebooks/publish.py 02_gates")
header_, rows_ = tab["table"]
table = pd.DataFrame(rows_, columns=header_)
table.drop(columns=["ours s"])

# %% [markdown]
# Seconds per trial (the paper's and ours on the machine that published this notebook; ours is not
# compared by `publish.py --check`):

# %% tags=["volatile"]
table[["task", "method", "paper s", "ours s"]]


# %%
pd.DataFrame([c.row() for c in tab["claims"]], columns=["claim", "paper", "ours", "ratio", "verdict", "note"])

# %% [markdown]
# ## Error against depth (Figures 6 and 8)

# %%
depths = ({"admm_sigmoid": [1, 2], "adam_relu": [1, 3]} if QUICK else
          {"admm_sigmoid": [1, 2, 3, 4, 5, 6], "sgd_sigmoid": [1, 2, 3, 4, 5, 6],
           "sgd_relu": [2, 6, 10, 14, 18, 20], "sgdm_relu": [2, 6, 10, 14, 18, 20],
           "adam_relu": [2, 6, 10, 14, 18, 20]})
for task in (("square",) if QUICK else ("square", "product")):
    summ, fig = R.depth_curve(cfg, task, depths, OUT, scheduler=SCHED, progress=not QUICK)
    label(fig, measure="final-iterate test MSE, mean over trials", size=f"{cfg.trials} trials per point, {cfg.admm_iters} ADMM iterations, {cfg.epochs} epochs, n = {cfg.n}",
          command="python notebooks/publish.py 02_gates")
    display(summ)
    plt.show()
