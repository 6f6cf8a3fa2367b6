"""Write the reproduction notebooks (without outputs) from the cell sources below.

    .venv/bin/python notebooks/build_notebooks.py

Edit the sources here rather than the .ipynb files, so the notebooks stay reviewable.
Every notebook reads ``SIGADMM_QUICK`` (set: reduced sizes, as in CI; unset or 0: the
paper's sizes) and states its full-size command in its first cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
import os, tempfile
from pathlib import Path
import numpy as np
import pandas as pd
import matplotlib
matplotlib.use("Agg" if os.environ.get("SIGADMM_QUICK") else matplotlib.get_backend())
import matplotlib.pyplot as plt
from sigadmm import reproduce as R
from sigadmm.report import fmt_num
QUICK = R.quick_mode()
# quick runs use a fresh temporary folder; full runs cache every trial (re-run to resume)
OUT = Path(tempfile.mkdtemp()) if QUICK else Path("reports/notebooks") / NAME
SCHED = "synchronous" if QUICK else os.environ.get("SIGADMM_SCHEDULER")  # None: LocalCluster
print("quick mode" if QUICK else "full size", "->", OUT)'''


def header(name, title, body):
    return new_markdown_cell(
        f"# {title}\n\n{body}\n\n"
        f"**Sizes.** With `SIGADMM_QUICK=1` (CI, `tests/test_notebooks.py`) every run is tiny and "
        f"only shows the code works. Full size (the paper's settings, long):\n\n"
        f"```\nSIGADMM_QUICK=0 .venv/bin/jupyter execute --inplace notebooks/{name}.ipynb\n```\n\n"
        f"Set `SIGADMM_SCHEDULER=tcp://host:8786` to run the sweeps on an existing Dask cluster; "
        f"trials are cached under `reports/notebooks/{name}/sweeps`, so an interrupted run resumes.")


def setup(name):
    return new_code_cell(f'NAME = "{name}"\n' + SETUP)


NOTEBOOKS = {}

# ----------------------------------------------------------------------------- 1
NOTEBOOKS["01_constants"] = [
    header("01_constants", "Constants of the constructions (paper section 2)",
           "Activation constants `L_k = sup |sigma^(k)|` exactly (sympy) or as certified enclosures; "
           "the parameters of Lemma 2 (square gate), Lemma 6 (product gate) and Theorem 3 (ReLU from a "
           "sigmoid net) as functions of eps; the float64 floor of each construction; the sigmoid-vs-ReLU "
           "table (Yarotsky depth, the ReLU lower bound). Everything from `theory`."),
    setup("01_constants"),
    new_code_cell('''\
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
pd.DataFrame(rows, columns=["activation", "k", "L_k exact", "certified enclosure", "argmax", "attained"])'''),
    new_markdown_cell("## Lemma 2, Lemma 6, Theorem 3: parameters against eps (M = 1, sigmoid)"),
    new_code_cell('''\
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
params'''),
    new_code_cell('''\
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(params.eps, params["square c"], "o-", label="square gate outer coefficient c ~ 1/eps")
ax.loglog(params.eps, params["product max|param|"], "s-", label="product gate max |param|")
ax.loglog(params.eps, params["relu-net max|param|"], "^-", label="ReLU-from-sigmoid max |param|")
ax.set(xlabel="eps", ylabel="magnitude", title="Parameter growth as the accuracy tightens")
ax.invert_xaxis(); ax.legend(fontsize=8); plt.show()'''),
    new_markdown_cell("## The float64 floor\n\nThe square gate's numerator is a second difference of O(1) "
                      "numbers that is only O(d^2): below some eps a float64 evaluation cannot reach the "
                      "proven accuracy, while the exact-arithmetic (ball-certified) error still can."),
    new_code_cell('''\
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
ax.set(xlabel="eps", ylabel="sup error on [-1, 1]", title="Exact vs float64 error")
ax.invert_xaxis(); ax.legend(fontsize=8); plt.show()
floor'''),
    new_markdown_cell("## Sigmoid against ReLU (the paper's Table 1 in spirit)"),
    new_code_cell('''\
rows = theory.compare_table(eps=1e-3 if QUICK else 1e-8)
print(theory.format_table(rows))'''),
    new_code_cell('''\
rows = []
for eps in eps_grid:
    y = theory.yarotsky_square(eps, 1)
    need = {L: theory.relu_size_needed(eps, 1, L) for L in (1, 2, 4)}
    rows.append([eps, y.depth, y.n_free_params, 1, 3] + [need[L] for L in (1, 2, 4)])
pd.DataFrame(rows, columns=["eps", "ReLU x^2 depth", "ReLU x^2 #params", "sigmoid x^2 depth",
                            "sigmoid x^2 #params", "ReLU width for sigmoid, depth 1",
                            "depth 2", "depth 4"])'''),
]

# ----------------------------------------------------------------------------- 2
NOTEBOOKS["02_gates"] = [
    header("02_gates", "Square and product gate: Tables 3 and 4, depth curves",
           "ADMM-sigmoid against SGD / SGD-momentum / Adam on ReLU nets and SGD on sigmoid nets, at the "
           "paper's best structures, with the paper's numbers beside ours (mean (std) over trials); then "
           "the error against depth (the paper's Figures 6 and 8)."),
    setup("02_gates"),
    new_code_cell('''\
cfg = (R.QUICK.replace(trials=2, n=200, n_test=200, epochs=3, admm_iters=15, width_cap=12, depth_cap=3)
       if QUICK else R.FULL.replace(tasks=("square", "product")))
tab = R.gate_experiments(cfg, OUT, scheduler=SCHED, progress=not QUICK)
header_, rows_ = tab["table"]
pd.DataFrame(rows_, columns=header_)'''),
    new_code_cell('tab["figure"]'),
    new_code_cell('''\
pd.DataFrame([c.row() for c in tab["claims"]], columns=["claim", "paper", "ours", "ratio", "verdict", "note"])'''),
    new_markdown_cell("## Error against depth (Figures 6 and 8)"),
    new_code_cell('''\
depths = ({"admm_sigmoid": [1, 2], "adam_relu": [1, 3]} if QUICK else
          {"admm_sigmoid": [1, 2, 3, 4, 5, 6], "sgd_sigmoid": [1, 2, 3, 4, 5, 6],
           "sgd_relu": [2, 6, 10, 14, 18, 20], "sgdm_relu": [2, 6, 10, 14, 18, 20],
           "adam_relu": [2, 6, 10, 14, 18, 20]})
for task in (("square",) if QUICK else ("square", "product")):
    summ, fig = R.depth_curve(cfg, task, depths, OUT, scheduler=SCHED, progress=not QUICK)
    display(summ)
    plt.show()'''),
]

# ----------------------------------------------------------------------------- 3
NOTEBOOKS["03_radial"] = [
    header("03_radial", "Radial functions: Tables 5 and 6, noise robustness",
           "Learning a piecewise radial function (our ring `max(0, 1 - 4|r - 1/2|)`; the paper's exact form "
           "is not recoverable) and the smooth Wendland radial function from noisy samples, tested on clean "
           "ones. Training noise: standard deviation 0.01 (`R.LEARNING_NOISE`; not recoverable, our choice). Then "
           "the robustness study: test error as the training noise grows (Figures 12 and 15)."),
    setup("03_radial"),
    new_code_cell('''\
cfg = (R.QUICK.replace(tasks=("radial", "smooth_radial"), trials=2, n=200, n_test=200, epochs=3,
                       admm_iters=15, width_cap=12, depth_cap=3)
       if QUICK else R.FULL.replace(tasks=("radial", "smooth_radial")))
tab = R.gate_experiments(cfg, OUT, scheduler=SCHED, progress=not QUICK)
pd.DataFrame(tab["table"][1], columns=tab["table"][0])'''),
    new_code_cell('tab["figure"]'),
    new_markdown_cell("## Robustness to the training noise"),
    new_code_cell('''\
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
    a.loglog(v, v, "k:", label="noise variance"); a.set(xlabel="noise variance", title=t); a.legend(fontsize=8)
plt.show()
summ'''),
]

# ----------------------------------------------------------------------------- 4
NOTEBOOKS["04_convergence"] = [
    header("04_convergence", "Convergence and saturation avoidance",
           "An instrumented ADMM run: the Lyapunov function of Lemma 14, the KKT residual of Theorem 4(c) with "
           "its O(1/k) fit, feasibility; then the paper's Figure 4 claim measured: per-layer update sizes of "
           "ADMM against the vanishing per-layer gradients of SGD on deep sigmoid nets."),
    setup("04_convergence"),
    new_code_cell('''\
cfg = (R.QUICK.replace(n=200, conv_width=10, conv_iters=40, sat_depths=(2, 4), sat_width=8, sat_iters=6)
       if QUICK else R.FULL)
conv = R.convergence_section(cfg)
pd.DataFrame(conv["table"][1], columns=conv["table"][0])'''),
    new_code_cell('conv["figure"]'),
    new_code_cell('''\
# Theorem 4(c): min_{j<=k} r_j decays at least like 1/k; the check states its own evidence
for regime, res in conv["results"].items():
    kr = res["kkt_rate"]
    print(f"{regime}: {kr.verdict}: {kr.message}")
pd.DataFrame([c.row() for c in conv["claims"]], columns=["claim", "paper", "ours", "ratio", "verdict", "note"])'''),
    new_markdown_cell("## Saturation avoidance (Figure 4)"),
    new_code_cell('''\
sat = R.saturation_section(cfg.replace(sat_depths=(2, 4) if QUICK else (2, 4, 6, 8, 10)))
display(pd.DataFrame(sat["table"][1], columns=sat["table"][0]))
sat["figure"]'''),
    new_code_cell('''\
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
ax.set(xlabel="record", ylabel="||dLoss/dW_i||", title=f"SGD, sigmoid net of depth {D}"); ax.legend(fontsize=7)
plt.show()'''),
]

# ----------------------------------------------------------------------------- 5
NOTEBOOKS["05_stability"] = [
    header("05_stability", "Stability: six initialisations, beta and lambda (Figures 7, 9, 11, 14)",
           "ADMM-sigmoid at the paper's best structure of each task: the error under the six initialisation "
           "schemes, and over a grid of the regularisation lambda and the penalty beta."),
    setup("05_stability"),
    new_code_cell('''\
from sigadmm.sweep import summarize
cfg = (R.QUICK.replace(trials=1, n=150, n_test=150, admm_iters=8, width_cap=10)
       if QUICK else R.FULL)
tasks = ("square",) if QUICK else tuple(R.PAPER_TABLES)
inits = ["lecun_uniform", "lecun_normal", "orth_uniform", "orth_normal", "xavier", "msra"]
pts = [dict(R.experiment_settings(cfg, t, "admm_sigmoid"), init=i) for t in tasks for i in inits]
res = R.run_experiment_grid(pts, cfg.trials, OUT, scheduler=SCHED, progress=not QUICK, name="inits")
inits_summary = summarize(res.table, metrics=["train_mse", "test_mse"], by=["task", "init"])
inits_summary'''),
    new_code_cell('''\
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
    ax.set(xlabel="beta", ylabel="lambda", title=f"{t}: log10 {metric}")
    fig.colorbar(im, ax=ax)
fig.tight_layout(); plt.show()
lb'''),
]

# ----------------------------------------------------------------------------- 6
NOTEBOOKS["06_real_data"] = [
    header("06_real_data", "Real data: ADMM-sigmoid against Adam-ReLU",
           "The paper's real data sets (earthquake intensity, Extended Yale B, PTB ECG) cannot be downloaded "
           "here. We use scikit-learn's bundled **Wisconsin breast cancer** set (569 samples, 30 features, "
           "binary), which ships with the package and works offline: standardised features, labels +-1, "
           "squared loss (as the paper trains), prediction by the sign; a fresh stratified 70/30 split per "
           "trial; test accuracy mean (std) over trials."),
    setup("06_real_data"),
    new_code_cell('''\
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
acc'''),
    new_code_cell('''\
summary = acc.drop(columns="trial").agg(["mean", "std"]).T
summary["mean (std)"] = [f"{100 * m:.2f} ({100 * s:.2f})" if "acc" in i else f"{m:.2f} ({s:.2f})"
                         for i, m, s in zip(summary.index, summary["mean"], summary["std"])]
summary[["mean (std)"]]'''),
]

# ----------------------------------------------------------------------------- 7
NOTEBOOKS["07_peers"] = [
    new_markdown_cell(
        "# The related lifted methods side by side\n\n"
        "The paper's sigmoid ADMM beside the three methods it sits among, each an instrumented "
        "`solver` estimator with its own claim checked by `verify` (docs/peers.md): **dlADMM** "
        "(Wang et al., KDD 2019), **lifted-ReLU BCD** (Zhang and Brand 2017, reconstructed) and the "
        "**inexact ALM** for sparse leaky-ReLU nets (Liu, Liu and Chen 2023, reconstructed). "
        "`sigadmm.peers.compare` runs them on one task with the same data split and seeds and "
        "measures every method the same way from its iterates: network-level errors (and accuracy "
        "by the argmax of one-hot outputs), time, per-layer relative weight steps, and each "
        "method's lift gap and claim verdicts.\n\n"
        "**Sizes.** With `SIGADMM_QUICK=1` (CI, `tests/test_notebooks.py`) every run is tiny and "
        "only shows the code works. Full size (the docs/peers.md settings, about half an hour on two "
        "cores):\n\n```\nSIGADMM_QUICK=0 .venv/bin/jupyter execute --inplace notebooks/07_peers.ipynb\n```\n\n"
        "The command line does the same: `sigadmm compare --methods admm,dladmm,lifted_bcd,inexact_alm "
        "--task square --seeds 0,1 --iters 100 --out DIR`."),
    setup("07_peers"),
    new_code_cell("""\
from sigadmm import peers
methods = peers.available_methods()
size = (dict(seeds=(0,), max_iter=6, hidden=(6, 6), n=60, n_test=60) if QUICK else
        dict(seeds=(0, 1), max_iter=100, hidden=(20, 20), n=200, n_test=200))
# an outer iteration of the inexact ALM is a whole inner solve: fewer of them
params = {"inexact_alm": {"max_iter": 3 if QUICK else 20}} if "inexact_alm" in methods else {}
sq = peers.compare(methods, "square", params=params, **size)
pd.DataFrame(sq.table)[["method", "seed", "iterations", "time_s", "train_mse", "test_mse", "lift_gap",
                        "n_pass", "n_fail", "n_inconclusive"]]"""),
    new_markdown_cell("Mean (std over seeds) of the final iterate, and every claim check per seed:"),
    new_code_cell("pd.DataFrame(sq.summary())[['method', 'seeds', 'train_mse', 'test_mse', 's_per_iter', 'claims']]"),
    new_code_cell("pd.DataFrame(sq.verdicts)[['method', 'seed', 'check', 'verdict', 'reason']]"),
    new_markdown_cell("## Error against iteration and against seconds; the lift gap; which layers learn"),
    new_code_cell("peers.plot_errors(sq)"),
    new_code_cell("peers.plot_lift_gap(sq)"),
    new_code_cell("peers.plot_layer_steps(sq)"),
    new_markdown_cell("## Real data: digits (classification by one-hot targets and the argmax)\n\n"
                      "dlADMM is fitted with its softmax cross-entropy, the others with the squared loss "
                      "on one-hot targets (the table's `loss` column)."),
    new_code_cell("""\
dsize = (dict(seeds=(0,), max_iter=4, hidden=(8,), n=100) if QUICK else
         dict(seeds=(0, 1), max_iter=100, hidden=(20, 20), n=300))
dg = peers.compare(methods, "digits", params={"inexact_alm": {"max_iter": 3 if QUICK else 10}}
                   if "inexact_alm" in methods else {}, **dsize)
pd.DataFrame(dg.table)[["method", "seed", "loss", "iterations", "time_s", "train_acc", "test_acc",
                        "test_mse", "n_pass", "n_fail", "n_inconclusive"]]"""),
    new_code_cell("peers.plot_errors(dg)"),
    new_code_cell("peers.plot_layer_steps(dg)"),
    new_markdown_cell("## dlADMM: the authors' defaults against the claim's regime\n\n"
                      "The descent claim needs `rho > 2H` (H = 1 for the squared loss), an exact `z_L` "
                      "step and the proximal hidden `z` step; at the authors' `rho = 1e-6` the check "
                      "says *not applicable* and shows what the run did."),
    new_code_cell("""\
if "dladmm" in methods:
    regimes = {"authors (rho = 1e-6)": {},
               "claim (rho = 4, prox_z = 1, no adaptive rule)": {"rho": 4.0, "prox_z": 1.0, "adapt": False}}
    rows = []
    for label, p in regimes.items():
        c = peers.compare(["dladmm"], "square", params={"dladmm": p}, **size)
        for v in c.verdicts:
            rows.append([label, v["seed"], v["check"], v["verdict"], v["reason"][:160]])
        rows.append([label, "-", "test MSE", f"{c.summary()[0]['test_mse']:.3g}", ""])
    display(pd.DataFrame(rows, columns=["regime", "seed", "check", "verdict", "reason"]))"""),
]


def build():
    for name, cells in NOTEBOOKS.items():
        for i, cell in enumerate(cells):  # stable ids: rebuilding an unchanged notebook is a no-op
            cell.id = f"{name}-{i:02d}"
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}})
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")


if __name__ == "__main__":
    build()
