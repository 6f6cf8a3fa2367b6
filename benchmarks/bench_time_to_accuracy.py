"""Time to accuracy: the four lifted methods against Adam (scikit-learn's MLP and a PyTorch MLP), issue 23 item 2.

Data sets (``sigadmm.peers.load_task``, the ``sigadmm compare`` split, seed 0): digits,
MNIST (5000 images), Fashion-MNIST (10000 training images; skipped with a message when its
files are absent) and diabetes (regression).  Every method trains one hidden layer of
``--hidden`` units (default 100) on the same rows, with early stopping on held-out rows of
the training part where the method has it (the lifted methods: ``early_stopping=True``;
Adam: the same 10 % held out, patience 10 epochs), for at most ``--budget`` seconds of the
``--clock`` (``cpu``, the default: this process's CPU seconds, which a loaded machine does not
inflate; or ``wall``).  Before the timed runs every lifted method is fitted for two
iterations on 50 rows of the same data, so that loading the compiled (numba) kernels from
their cache, or compiling them, is not charged to the method's first iteration.

After every iteration (epoch, for Adam) the test score of the current weights is recorded
(accuracy; R^2 for regression) with the CPU and wall seconds spent so far (the scoring's
own time is subtracted).  Each finished run is appended to ``--out``/time_to_accuracy_runs.json
(keyed by data set, method, hidden size, budget and clock), so an interrupted benchmark
resumes where it stopped (``--fresh`` ignores the stored runs).  The script prints, per data set and method, the wall and CPU
seconds to reach 90 %, 99 % and 100 % of the best test score that any method reached
("-" = never), the iterations (epochs) run, the best test score along the run, the last one,
and the test score of the net the method returns (early stopping: the weights of the best
validation score); it plots score against wall seconds
(``--out``/time_to_accuracy_<data>.png) and writes the tables to ``--out``/time_to_accuracy.md.

Run:  nice -n 15 .venv/bin/python benchmarks/bench_time_to_accuracy.py [--data digits,mnist,fashion_mnist,diabetes]
      [--budget 60] [--clock cpu|wall] [--fresh] [--out docs/figures/time_to_accuracy]
BLAS and torch run on one thread each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))

LIFTED = ("admm", "dladmm", "lifted_bcd", "inexact_alm")
ADAM = ("sklearn_adam", "torch_adam")
SIZES = {"mnist": 5000, "fashion_mnist": 14286}   # 14286 x 0.7 = 10000 training images


class _Clock:
    """Wall and CPU seconds of training only (scoring time subtracted).

    ``over(budget)``: whether the budget is spent on the clock chosen by ``--clock``.
    """

    kind = "cpu"

    def __init__(self):
        self.w0, self.c0, self.skip_w, self.skip_c = time.perf_counter(), time.process_time(), 0.0, 0.0

    def now(self):
        return time.perf_counter() - self.w0 - self.skip_w, time.process_time() - self.c0 - self.skip_c

    def over(self, budget):
        w, c = self.now()
        return (c if self.kind == "cpu" else w) > budget

    def pause(self):
        return time.perf_counter(), time.process_time()

    def resume(self, mark):
        self.skip_w += time.perf_counter() - mark[0]
        self.skip_c += time.process_time() - mark[1]


def _score(out, data):
    if data.kind == "classification":
        return float(np.mean(np.argmax(out, 1) == data.labels_test))
    y = data.y_test.reshape(len(data.y_test), -1)
    return float(1.0 - np.sum((out - y) ** 2) / np.sum((y - y.mean(0)) ** 2))


def warm_up(method, data, hidden):
    """Two iterations on 50 rows: load (or compile) the method's numba kernels before timing."""
    from sigadmm.peers import make_estimator

    clf = data.kind == "classification"
    model = make_estimator(method, classification=clf, hidden_layer_sizes=(hidden,), max_iter=2,
                           random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data.X[:50], data.y[:50])


def run_lifted(method, data, hidden, budget, seed=0):
    from sigadmm.peers import make_estimator
    from solver.core import network_forward

    clf = data.kind == "classification"
    kw = dict(hidden_layer_sizes=(hidden,), max_iter=100000, random_state=seed, early_stopping=True,
              n_iter_no_change=10)
    if method == "inexact_alm":
        kw["n_iter_no_change"] = 3
    model = make_estimator(method, classification=clf, **kw)
    act = model._network_activation()
    XtT = np.ascontiguousarray(data.X_test.T)
    hist = []
    clock = _Clock()

    def cb(res):
        w, c = clock.now()
        mark = clock.pause()
        out = network_forward([np.asarray(x) for x in res.state.W], XtT, act).T
        hist.append((w, c, _score(out, data)))
        clock.resume(mark)
        return clock.over(budget)

    model.set_params(callback=cb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data.X, data.y)
    # the net fit returns: early stopping restored the weights of the best validation score
    W = [np.hstack([w, b[:, None]]) for w, b in model.weights_]
    return hist, _score(network_forward(W, XtT, act).T, data)


def run_sklearn(data, hidden, budget, seed=0):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.model_selection import train_test_split

    clf = data.kind == "classification"
    y = data.labels if clf else data.y
    Xa, Xv, ya, yv = train_test_split(data.X, y, test_size=0.1, random_state=seed,
                                      stratify=y if clf else None)
    Est = MLPClassifier if clf else MLPRegressor
    m = Est(hidden_layer_sizes=(hidden,), solver="adam", random_state=seed)
    hist, best, bad, returned = [], -np.inf, 0, None
    clock = _Clock()
    classes = np.unique(y) if clf else None
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.partial_fit(Xa, ya, classes=classes) if clf else m.partial_fit(Xa, ya)
        w, c = clock.now()
        mark = clock.pause()
        out = m.predict_proba(data.X_test) if clf else m.predict(data.X_test).reshape(len(data.X_test), -1)
        hist.append((w, c, _score(out, data)))
        v = m.score(Xv, yv)
        clock.resume(mark)
        if v > best:      # the net early stopping keeps: the best validation score's
            returned = hist[-1][2]
        best, bad = (v, 0) if v > best + 1e-4 else (max(best, v), bad + 1)
        if bad >= 10 or clock.over(budget):
            return hist, returned


def run_torch(data, hidden, budget, seed=0, batch=200, lr=1e-3):
    import torch
    from sklearn.model_selection import train_test_split

    torch.manual_seed(seed)
    clf = data.kind == "classification"
    y = data.labels if clf else data.y.reshape(len(data.y), -1)
    Xa, Xv, ya, yv = train_test_split(data.X, y, test_size=0.1, random_state=seed,
                                      stratify=y if clf else None)
    T = lambda a, dt=torch.float32: torch.as_tensor(np.asarray(a), dtype=dt)  # noqa: E731
    Xa, Xv, Xt = T(Xa), T(Xv), T(data.X_test)
    ya, yv = (T(ya, torch.long), T(yv, torch.long)) if clf else (T(ya), T(yv))
    k = int(data.n_classes) if clf else ya.shape[1]
    net = torch.nn.Sequential(torch.nn.Linear(Xa.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, k))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    lossf = torch.nn.CrossEntropyLoss() if clf else torch.nn.MSELoss()
    gen = torch.Generator().manual_seed(seed)
    hist, best, bad, returned = [], -np.inf, 0, None
    clock = _Clock()
    while True:
        perm = torch.randperm(len(Xa), generator=gen)
        for i in range(0, len(Xa), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            lossf(net(Xa[idx]), ya[idx]).backward()
            opt.step()
        w, c = clock.now()
        mark = clock.pause()
        with torch.no_grad():
            out = net(Xt).numpy().astype(float)
            pv = net(Xv)
            v = float((pv.argmax(1) == yv).float().mean()) if clf else -float(lossf(pv, yv))
        hist.append((w, c, _score(out, data)))
        clock.resume(mark)
        if v > best:
            returned = hist[-1][2]
        best, bad = (v, 0) if v > best + 1e-4 else (max(best, v), bad + 1)
        if bad >= 10 or clock.over(budget):
            return hist, returned


def _load_runs(path):
    """The stored runs: a JSON object key -> {"hist": [[wall, cpu, score], ...], "load": str}, checked."""
    runs = json.loads(path.read_text())
    if not isinstance(runs, dict):
        raise SystemExit(f"{path}: expected a JSON object of runs; rerun with --fresh")
    for key, r in runs.items():
        h = r.get("hist") if isinstance(r, dict) else None
        ok = (isinstance(h, list) and len(h) > 0 and all(
            isinstance(x, list) and len(x) == 3 and all(isinstance(v, (int, float)) and np.isfinite(v) for v in x)
            for x in h))
        ok = ok and all(h[i][0] <= h[i + 1][0] and h[i][1] <= h[i + 1][1] for i in range(len(h) - 1))
        ok = ok and isinstance(r.get("returned"), (int, float)) and np.isfinite(r["returned"])
        if not ok or not isinstance(r.get("load"), str):
            raise SystemExit(f"{path}: run {key!r} is not {{hist: [[wall, cpu, score], ...] with "
                             "non-decreasing seconds, returned: score, load: str}}; rerun with --fresh")
    return runs


def _save_runs(path, runs):
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(runs))
    os.replace(tmp, path)


def first_reach(hist, level):
    for w, c, s in hist:
        if s >= level:
            return w, c
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="digits,mnist,fashion_mnist,diabetes")
    ap.add_argument("--methods", default=",".join(LIFTED + ADAM))
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per method and data set (see --clock)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="what --budget counts: this process's CPU seconds (default) or wall seconds")
    ap.add_argument("--fresh", action="store_true", help="ignore the runs stored in --out")
    ap.add_argument("--out", default="docs/figures/time_to_accuracy")
    a = ap.parse_args(argv)
    if not a.budget > 0:
        ap.error(f"--budget: expected a positive number of seconds, got {a.budget}")
    _Clock.kind = a.clock
    from threadpoolctl import threadpool_limits

    from sigadmm.data import DatasetUnavailable
    from sigadmm.peers import load_task

    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = [m for m in a.methods.split(",") if m]
    unknown = sorted(set(methods) - set(LIFTED + ADAM))
    if unknown:
        ap.error(f"--methods: unknown {unknown}; expected names from {list(LIFTED + ADAM)}")
    store = out / "time_to_accuracy_runs.json"
    runs = {} if a.fresh or not store.exists() else _load_runs(store)
    head = (f"# bench_time_to_accuracy: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, "
            f"hidden {a.hidden}, budget {a.budget:g} {a.clock} s per run, one BLAS/torch thread")
    print(head)
    md = [head, ""]
    for name in [d for d in a.data.split(",") if d]:
        try:
            data = load_task(name, 0, n=SIZES.get(name))
        except DatasetUnavailable as exc:
            print(f"\n## {name}: skipped ({' '.join(str(exc).split())[:100]})")
            md += [f"## {name}: skipped (data set not installed)", ""]
            continue
        hists, returned = {}, {}
        with threadpool_limits(1, "blas"):
            for m in methods:
                if m == "torch_adam" and torch is None:
                    print(f"{m}: skipped (torch not installed)")
                    continue
                key = f"{name}|{m}|{a.hidden}|{a.budget:g}|{a.clock}"
                if key in runs:
                    h, ret = runs[key]["hist"], runs[key]["returned"]
                    print(f"  {name} {m}: stored run ({runs[key]['load']})", flush=True)
                else:
                    if m in LIFTED:
                        warm_up(m, data, a.hidden)
                    load0 = os.getloadavg()[0]
                    h, ret = (run_lifted(m, data, a.hidden, a.budget) if m in LIFTED else
                              run_sklearn(data, a.hidden, a.budget) if m == "sklearn_adam" else
                              run_torch(data, a.hidden, a.budget))
                    runs[key] = {"hist": [list(map(float, r)) for r in h], "returned": float(ret),
                                 "load": f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}"}
                    _save_runs(store, runs)
                hists[m] = h
                returned[m] = ret
                print(f"  {name} {m}: {len(h)} iterations, best {max(s for _, _, s in h):.4f}, "
                      f"{h[-1][0]:.1f} s wall, {h[-1][1]:.1f} s CPU", flush=True)
        best = max(s for h in hists.values() for _, _, s in h)
        metric = "accuracy" if data.kind == "classification" else "R^2"
        lines = [f"## {name} ({len(data.X)} train / {len(data.X_test)} test rows; test {metric}; best of all "
                 f"methods {best:.4f}; load average {os.getloadavg()[0]:.1f} at the end)", "",
                 "| method | iterations | best | last | returned | wall s to 90 % | 99 % | 100 % | CPU s to 90 % | 99 % | 100 % |",
                 "|---|---|---|---|---|---|---|---|---|---|---|"]
        for m, h in hists.items():
            reach = [first_reach(h, f * best) for f in (0.9, 0.99, 1.0)]
            fmt = lambda r, i: "-" if r is None else f"{r[i]:.2f}"  # noqa: E731
            lines.append(f"| {m} | {len(h)} | {max(s for _, _, s in h):.4f} | {h[-1][2]:.4f} | {returned[m]:.4f} | "
                         + " | ".join(fmt(r, 0) for r in reach) + " | " + " | ".join(fmt(r, 1) for r in reach) + " |")
        print("\n" + "\n".join(lines))
        md += lines + [""]
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6, 4))
            for m, h in hists.items():
                t = [c if a.clock == "cpu" else w for w, c, _ in h]
                ax.plot(t, [max(s, -1.0) for _, _, s in h], label=m, marker=".", ms=3)
            ax.set_xscale("symlog", linthresh=0.1)
            ax.set_xlabel(f"{a.clock} seconds (training only)")
            ax.set_ylabel(f"test {metric}")
            ax.set_title(f"{name}: one hidden layer of {a.hidden}")
            ax.legend(fontsize=7)
            fig.tight_layout()
            fig.savefig(out / f"time_to_accuracy_{name}.png", dpi=90)
            plt.close(fig)
        except ImportError:
            pass
    (out / "time_to_accuracy.md").write_text("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
