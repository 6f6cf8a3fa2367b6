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
# # Stability: six initialisations, beta and lambda (Figures 7, 9, 11, 14)
#
# ADMM-sigmoid at the paper's best structure of each task: the error under the six initialisation schemes, and over a grid of the regularisation lambda and the penalty beta.
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the paper's settings, long):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 05_stability --out reports/notebooks
# ```
#
# Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; trials are cached under `reports/notebooks/05_stability/sweeps`, so an interrupted run resumes.

# %%
NAME = "05_stability"
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
from sigadmm.sweep import summarize
cfg = (R.QUICK.replace(trials=1, n=150, n_test=150, admm_iters=8, width_cap=10)
       if QUICK else R.FULL)
tasks = ("square",) if QUICK else tuple(R.PAPER_TABLES)
inits = ["lecun_uniform", "lecun_normal", "orth_uniform", "orth_normal", "xavier", "msra"]
pts = [dict(R.experiment_settings(cfg, t, "admm_sigmoid"), init=i) for t in tasks for i in inits]
res = R.run_experiment_grid(pts, cfg.trials, OUT, scheduler=SCHED, progress=not QUICK, name="inits")
inits_summary = summarize(res.table, metrics=["train_mse", "test_mse"], by=["task", "init"])
inits_summary

# %%
lams = [1e-6, 1e-2] if QUICK else [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
betas = [0.1, 1.0] if QUICK else [1e-2, 1e-1, 1.0, 10.0, 1e2]
pts = [dict(R.experiment_settings(cfg, t, "admm_sigmoid"), lam=l, beta=b)
       for t in tasks for l in lams for b in betas]
res = R.run_experiment_grid(pts, cfg.trials, OUT, scheduler=SCHED, progress=not QUICK, name="lam_beta")
lb = summarize(res.table, metrics=["train_mse", "test_mse"], by=["task", "lam", "beta"])
fig, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.6), squeeze=False)
for ax, t in zip(axes[0], tasks):
    metric = R.PAPER_TABLES[t]["metric"] + "_mean"
    M = lb[lb.task == t].pivot(index="lam", columns="beta", values=metric)
    im = ax.imshow(np.log10(M.to_numpy()), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(M.columns)), [fmt_num(b) for b in M.columns])
    ax.set_yticks(range(len(M.index)), [fmt_num(l) for l in M.index])
    ax.set(xlabel="beta (penalty, dimensionless)", ylabel="lambda (regularisation, dimensionless)", title=f"{t}: log10 {metric}")
    cb = fig.colorbar(im, ax=ax)
    cb.ax.set(xlabel="log10", ylabel=f"log10 {metric} (MSE in units of y^2)")
fig.tight_layout()
label(fig, measure="final-iterate error, mean over trials (the task's paper metric: train or test)", size=f"{cfg.trials} trial(s) per cell, {cfg.admm_iters} ADMM iterations, n = {cfg.n}",
      command="python notebooks/publish.py 05_stability")
plt.show()
lb
