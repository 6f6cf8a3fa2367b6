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
# # Radial functions: Tables 5 and 6, noise robustness
#
# Learning a piecewise radial function (our ring `max(0, 1 - 4|r - 1/2|)`; the paper's exact form is not recoverable) and the smooth Wendland radial function from noisy samples, tested on clean ones. Training noise: standard deviation 0.01 (`R.LEARNING_NOISE`; not recoverable, our choice). Then the robustness study: test error as the training noise grows (Figures 12 and 15).
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the paper's settings, long):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 03_radial --out reports/notebooks
# ```
#
# Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; trials are cached under `reports/notebooks/03_radial/sweeps`, so an interrupted run resumes.

# %%
NAME = "03_radial"
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
cfg = (R.QUICK.replace(tasks=("radial", "smooth_radial"), trials=2, n=200, n_test=200, epochs=3,
                       admm_iters=15, width_cap=12, depth_cap=3)
       if QUICK else R.FULL.replace(tasks=("radial", "smooth_radial")))
tab = R.gate_experiments(cfg, OUT, scheduler=SCHED, progress=not QUICK)
label(tab["figure"], measure="test MSE on clean samples of each trial: best iterate (circles) and final iterate (squares); the paper's mean and std (stars)",
      size=f"{cfg.trials} trials per method, {cfg.admm_iters} ADMM iterations, {cfg.epochs} epochs per baseline, n = {cfg.n}",
      command="python notebooks/publish.py 03_radial")
table = pd.DataFrame(tab["table"][1], columns=tab["table"][0])
table.drop(columns=["ours s"])

# %% [markdown]
# Seconds per trial (the paper's and ours on the machine that published this notebook; ours is not
# compared by `publish.py --check`):

# %% tags=["volatile"]
table[["task", "method", "paper s", "ours s"]]


# %% [markdown]
# ## Robustness to the training noise

# %%
from sigadmm.sweep import grid, summarize
noise_sd = [0.0, 0.05] if QUICK else [0.0, 0.003, 0.01, 0.03, 0.1, 0.3]
pts = []
for task in cfg.tasks:
    base = R.experiment_settings(cfg, task, "admm_sigmoid")
    pts += [dict(base, noise=s) for s in noise_sd]
res = R.run_experiment_grid(pts, cfg.trials, OUT, scheduler=SCHED, progress=not QUICK, name="noise")
summ = summarize(res.table, metrics=["train_mse", "test_mse"], by=["task", "noise"])
summ["noise variance"] = summ.noise ** 2
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
for task, sub in summ.groupby("task"):
    ax[0].loglog(sub["noise variance"].clip(lower=1e-8), sub.train_mse_mean, "o-", label=task)
    ax[1].loglog(sub["noise variance"].clip(lower=1e-8), sub.test_mse_mean, "o-", label=task)
for a, t in zip(ax, ["training error (Fig. 12a/15a)", "clean test error (Fig. 12b/15b)"]):
    v = np.array([1e-8] + [s * s for s in noise_sd if s > 0])
    a.loglog(v, v, "k:", label="noise variance"); a.set(xlabel="training noise variance (units of y^2)", ylabel="MSE (units of y^2)", title=t); a.legend(fontsize=8)
label(fig, measure="final-iterate training MSE (left) and clean test MSE (right), mean over trials",
      size=f"{cfg.trials} trials per point, {cfg.admm_iters} ADMM iterations, n = {cfg.n}", command="python notebooks/publish.py 03_radial")
plt.show()
summ
