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
# # Convergence and saturation avoidance
#
# An instrumented ADMM run: the Lyapunov function of Lemma 14, the KKT residual of Theorem 4(c) with its O(1/k) fit, feasibility; then the paper's Figure 4 claim measured: per-layer update sizes of ADMM against the vanishing per-layer gradients of SGD on deep sigmoid nets.
#
# **Sizes.** The outputs below are the quick mode's (`SIGADMM_QUICK=1`, what `python notebooks/publish.py` publishes and CI re-executes): every run is small and only shows the code works. Full size (the paper's settings, long):
#
# ```
# SIGADMM_QUICK=0 .venv/bin/python notebooks/publish.py 04_convergence --out reports/notebooks
# ```
#
# Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; trials are cached under `reports/notebooks/04_convergence/sweeps`, so an interrupted run resumes.

# %%
NAME = "04_convergence"
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
cfg = (R.QUICK.replace(n=200, conv_width=10, conv_iters=40, sat_depths=(2, 4), sat_width=8, sat_iters=6)
       if QUICK else R.FULL)
conv = R.convergence_section(cfg)
label(conv["figure"], measure="every iterate of one ADMM run per regime (train set)", size=f"1 run per regime, {cfg.conv_iters} iterations, width {cfg.conv_width}, n = {cfg.n}",
      command="python notebooks/publish.py 04_convergence")
pd.DataFrame(conv["table"][1], columns=conv["table"][0])


# %%
# Theorem 4(c): min_{j<=k} r_j decays at least like 1/k; the check states its own evidence
for regime, res in conv["results"].items():
    kr = res["kkt_rate"]
    print(f"{regime}: {kr.verdict}: {kr.message}")
pd.DataFrame([c.row() for c in conv["claims"]], columns=["claim", "paper", "ours", "ratio", "verdict", "note"])

# %% [markdown]
# ## Saturation avoidance (Figure 4)

# %%
sat = R.saturation_section(cfg.replace(sat_depths=(2, 4) if QUICK else (2, 4, 6, 8, 10)))
label(sat["figure"], measure="per-layer relative update sizes over the run (train set)", size=f"1 run per depth, {cfg.sat_iters} iterations, width {cfg.sat_width}, n = {cfg.n}",
      command="python notebooks/publish.py 04_convergence")
pd.DataFrame(sat["table"][1], columns=sat["table"][0])

# %%
# SGD on a deep sigmoid net over training: gradient norms per layer stay tiny in the first layers
from sigadmm.baselines import train_baseline, PAPER_SETTINGS
d = R.make_data("square", cfg.n, cfg.n_test, 0)
D = 4 if QUICK else 8
r = train_baseline(d.X, d.y, optimizer="sgd", activation="sigmoid", depth=D, width=cfg.sat_width,
                   settings=PAPER_SETTINGS.replace(epochs=4 if QUICK else 200), init_scale=cfg.admm_init_scale,
                   grad_every=1 if QUICK else 20, keep_model=False, n_threads=1)
g = r.grad_norms
fig, ax = plt.subplots(figsize=(6, 3.5))
for i in range(g.shape[1]):
    ax.semilogy(g[:, i], label=f"layer {i + 1}")
ax.set(xlabel="record (one per epoch)", ylabel="||dLoss/dW_i|| (Frobenius, loss units per weight)", title=f"SGD, sigmoid net of depth {D}"); ax.legend(fontsize=7)
label(fig, measure="gradient norm per layer during training (train loss)", size=f"1 run, {4 if QUICK else 200} epochs, depth {D}, width {cfg.sat_width}, n = {cfg.n}",
      command="python notebooks/publish.py 04_convergence")
plt.show()
