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
# # Real data: ADMM-sigmoid against Adam-ReLU
#
# The paper's real data sets (earthquake intensity, Extended Yale B, PTB ECG) cannot be downloaded here. We use scikit-learn's bundled **Wisconsin breast cancer** set (569 samples, 30 features, binary), which ships with the package and works offline: standardised features, labels +-1, squared loss (as the paper trains), prediction by the sign; a fresh stratified 70/30 split per trial; test accuracy mean (std) over trials.
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the paper's settings, long):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 06_real_data --out reports/notebooks
# ```
#
# Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; trials are cached under `reports/notebooks/06_real_data/sweeps`, so an interrupted run resumes.

# %%
NAME = "06_real_data"
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
from sigadmm.baselines import train_baseline, PAPER_SETTINGS
from sigadmm.data import breast_cancer_split
trials = 2 if QUICK else 20
admm_iters, epochs = (15, 5) if QUICK else (500, 300)
rows = []
for t in range(trials):
    Xtr, Xte, ytr, yte = breast_cancer_split(t)  # stratified 70/30 split, standardised, labels +-1
    m = R.admm_model(1, 20 if QUICK else 80, lam=1e-3, beta=1.0, init_scale=1.0, max_iter=admm_iters, seed=t)
    m.fit(Xtr, ytr)
    acc_admm = float(np.mean(np.sign(m.predict(Xte)) == yte))
    b = train_baseline(Xtr, ytr, Xte, yte, optimizer="adam", activation="relu", depth=2,
                       width=20 if QUICK else 80, settings=PAPER_SETTINGS.replace(epochs=epochs),
                       seed=t, n_threads=1)
    acc_adam = float(np.mean(np.sign(b.predict(Xte)[:, 0]) == yte))
    rows.append([t, acc_admm, acc_adam, m.trace_.time[-1], b.wall_time])
acc = pd.DataFrame(rows, columns=["trial", "ADMM-sigmoid acc", "Adam-ReLU acc", "ADMM s", "Adam s"])
acc[["trial", "ADMM-sigmoid acc", "Adam-ReLU acc"]]

# %% [markdown]
# Wall time of each fit (seconds on the machine that published this notebook; not compared
# by `publish.py --check`):

# %% tags=["volatile"]
acc[["trial", "ADMM s", "Adam s"]]

# %%
summary = acc.drop(columns="trial").agg(["mean", "std"]).T
summary["mean (std)"] = [f"{100 * m:.2f} ({100 * s:.2f})" if "acc" in i else f"{m:.2f} ({s:.2f})"
                         for i, m, s in zip(summary.index, summary["mean"], summary["std"])]
summary.loc[["ADMM-sigmoid acc", "Adam-ReLU acc"], ["mean (std)"]]
