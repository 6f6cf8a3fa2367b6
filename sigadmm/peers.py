"""The lifted training methods side by side (issue 11, "Side by side"; docs/peers.md).

Four methods train the same nets on lifted variables, each with its own convergence claim:

=================  ======================  ================================================
name               estimator               claim checked (``verify``)
=================  ======================  ================================================
``admm``           :class:`solver.ADMM`    the paper's sigmoid ADMM (Zeng et al. 2021):
                                           Theorem 4 (:func:`verify.run_checks`)
``dladmm``         ``solver.dladmm.        dlADMM (Wang et al., KDD 2019): sufficient
                   DLADMM``                descent for rho > 2H, o(1/k) steps
                                           (``verify.dladmm``)
``lifted_bcd``     ``solver.lifted_bcd.    lifted-ReLU BCD (Zhang and Brand 2017): monotone
                   LiftedBCD``             f, stationarity (``verify.lifted_bcd``)
``inexact_alm``    ``solver.inexact_alm.   inexact ALM for sparse leaky-ReLU nets (Liu, Liu,
                   InexactALM``            Chen 2023): KKT residual to 0 with bounded
                                           multipliers (``verify.inexact_alm``)
=================  ======================  ================================================

:data:`METHODS` holds what a comparison shows of each method of the solver's registry
(:data:`solver.registry.METHODS`, where the estimator is found; :func:`verify.claims_table`
gives the claim checks): the defaults used in a comparison and the lift-gap field.
:data:`TASKS` holds the tasks: the four approximation tasks of :mod:`solver.tasks` (drawn by
:func:`sigadmm.data.task_data`) and the real data sets of :func:`sigadmm.data.load_dataset`.

**Classification.** Every method here is a regressor on lifted variables; a classification
set is fitted to one-hot targets (one output per class, also for the two classes of breast
cancer) and predicted by the argmax of the network output.  dlADMM alone has a classification
loss of its own: it is fitted with its softmax cross-entropy (``loss="cross_entropy"``, the
authors' form) on the same one-hot targets; the table's ``loss`` column says which.

:func:`compare` runs several methods on one task with the same data split and the same seeds
(the data of seed ``s`` are drawn from seed ``s``; every method starts from its own
initialisation with ``random_state=s``) and returns a :class:`Comparison`: the tidy table, the
claim verdicts and the per-iteration histories, measured the same way for every method from
the iterates (network-level errors and accuracy of the plain forward pass, per-layer relative
weight steps).  The plotting functions draw the histories; :func:`peers_section` gives the
reproduction report's claims, table and figures.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sigadmm import data as D
from sigadmm.data import DATASETS
from sigadmm.report import Claim, fmt_num, markdown_table
from solver import _validation as _v
from solver._validation import check_positive_int_tuple
from solver.core import network_forward
from solver.registry import METHODS as SOLVER_METHODS
from solver.registry import get_method as solver_method
from verify import CheckResult, Verdict, claims_table

__all__ = ["METHODS", "METHOD_NAMES", "MethodSpec", "TASKS", "TASK_NAMES", "TaskSpec", "TaskData",
           "get_method", "get_task", "load_task", "make_estimator", "SHARED", "run_checks", "compare",
           "Comparison", "ComparisonInterrupted", "TABLE_COLUMNS", "HISTORY_COLUMNS", "plot_errors", "plot_lift_gap",
           "plot_layer_steps", "plot_comparison", "plot_trace", "peers_section", "available_methods"]


# --------------------------------------------------------------------------- methods

def _gap_norm(*fields):
    """A lift-gap reader: ``sqrt(sum over layers of the squared fields)`` (NaN columns skipped)."""
    def read(trace):
        n = len(trace)
        total = np.zeros(n)
        found = False
        for f in fields:
            arr = getattr(trace, f, None) if f in trace.schema else None
            if arr is None:
                continue
            a = np.asarray(arr[:n], float).reshape(n, -1)
            total += np.nansum(a * a, axis=1)
            found = True
        return np.sqrt(total) if found else np.full(n, np.nan)
    return read


@dataclass(frozen=True)
class MethodSpec:
    """What a comparison needs of one method besides its solver registration.

    ``name``: a method of :data:`solver.registry.METHODS`, where its estimator is found;
    its claim checks are :func:`verify.claims_table` of it.  ``defaults``: the parameters a
    comparison sets besides the shared ones (widths, iterations, seed); those the estimator
    does not take are dropped; ``classification``: extra parameters on a classification task;
    ``gap``: the trace fields of the lift gap (the distance between the lifted variables and a
    real forward pass, as the method records it) and ``gap_label`` what they are.
    """

    name: str
    title: str
    paper: str = ""
    doc: str = ""
    activation: str = ""
    defaults: dict = field(default_factory=dict)
    classification: dict = field(default_factory=dict)
    gap: tuple = ()
    gap_label: str = ""
    claim: str = ""

    @property
    def method(self):
        """The method's :class:`solver.registry.Method` (``ValueError`` if not registered)."""
        return solver_method(self.name)

    @property
    def module(self) -> str:
        """The module of the method's estimator (from its solver registration)."""
        return self.method.module

    def estimator_class(self):
        """The estimator class (imported on first use; ``ImportError`` if the module is absent)."""
        return self.method.estimator_class()

    @property
    def available(self) -> bool:
        """Whether the method's module can be imported here."""
        try:
            self.estimator_class()
        except (ImportError, AttributeError, ValueError):
            return False
        return True

    def lift_gap(self, trace) -> np.ndarray:
        """The lift gap per iteration from the method's trace (NaN when not recorded)."""
        return _gap_norm(*self.gap)(trace)


#: What a comparison shows of each of the solver's methods (:data:`solver.registry.METHODS`,
#: the same names in the same order: tests/test_peers.py).  ``defaults`` are each method's
#: own defaults (the authors' where there are public ones), so that a comparison shows the
#: methods as they are meant to be run; the shared settings come from :func:`compare`.
METHODS: dict[str, MethodSpec] = {
    "admm": MethodSpec(
        "admm", "sigmoid ADMM",
        "Zeng, Lin, Yao, Zhou, JMLR 22(199), 2021 (this paper)", "docs/algorithm.md", "sigmoid",
        defaults={"activation": "sigmoid", "beta": 1.0, "init": "msra", "init_scale": 1.0},
        gap=("feas",),
        gap_label="||F|| = (sum_i ||V_i - sigma(W_i [V_{i-1}; 1])||^2)^(1/2)",
        claim="Theorem 4: sufficient descent, bounded iterates, feasibility to 0, KKT O(1/k)"),
    "dladmm": MethodSpec(
        "dladmm", "dlADMM",
        "Wang, Yu, Chen, Zhao, KDD 2019 (arXiv 2112.11619)", "docs/methods/dladmm.md", "relu",
        defaults={"activation": "relu", "loss": "squared", "rho": 1e-6, "tau": 1.0, "theta": 1.0},
        classification={"loss": "cross_entropy"},
        gap=("res_lin", "res_act"),
        gap_label="(sum_l ||z_l - W_l a_{l-1} - b_l||^2 + ||a_l - f(z_l)||^2)^(1/2)",
        claim="rho > 2H: sufficient descent of the Lagrangian, running min of the steps o(1/k)"),
    "lifted_bcd": MethodSpec(
        "lifted_bcd", "lifted-ReLU BCD",
        "Zhang and Brand, NeurIPS 2017 (arXiv 1711.07354); reconstructed", "docs/methods/lifted_bcd.md",
        "relu", defaults={}, gap=("lift_gap",),
        gap_label="(sum_n ||U_n - H_n||^2)^(1/2), H the ReLU forward pass",
        claim="monotone f, stationary limit, R-linear rate"),
    "inexact_alm": MethodSpec(
        "inexact_alm", "inexact ALM (sparse leaky ReLU)",
        "Liu, Liu, Chen, JMLR 24(212), 2023 (arXiv 2205.05428); reconstructed",
        "docs/methods/inexact_alm.md", "leaky_relu", defaults={},
        gap=("lift_gap",), gap_label="(sum_l ||V_l - sigma(U_l)||^2)^(1/2)",
        claim="KKT residual to 0 with bounded multipliers; MFCQ"),
}
#: the method names, in the registry's order (``sigadmm.cli.train_cmd`` reads the solver's)
METHOD_NAMES = tuple(METHODS)


def get_method(name) -> MethodSpec:
    """The :class:`MethodSpec` named ``name``: an entry of :data:`METHODS`, or for a method
    registered in the solver without one (:func:`solver.registry.register_method`) a plain
    spec with its title; a ``ValueError`` listing the names otherwise."""
    if isinstance(name, MethodSpec):
        return name
    if name in METHODS:
        return METHODS[name]

    if isinstance(name, str) and name in SOLVER_METHODS:
        return MethodSpec(name, SOLVER_METHODS[name].title or name)
    raise ValueError(f"method: unknown method {name!r}; expected one of "
                     f"{', '.join(dict.fromkeys([*METHODS, *SOLVER_METHODS]))}")


def available_methods() -> tuple:
    """The registered methods whose module imports here."""
    return tuple(n for n, s in METHODS.items() if s.available)


#: the settings a comparison shares (:func:`make_estimator`'s defaults for them)
SHARED = {"hidden_layer_sizes": (20, 20), "max_iter": 100, "random_state": 0, "tol": 0.0,
          "keep_best": False, "verbose": 0}


def make_estimator(method, *, classification=False, **params):
    """An unfitted estimator of ``method`` with the comparison's settings.

    The shared settings (:data:`SHARED`: widths, ``max_iter``, ``random_state``; ``tol=0``,
    ``keep_best=False``, ``verbose=0``) override the method's :attr:`MethodSpec.defaults`
    (and :attr:`MethodSpec.classification` when ``classification``); ``params`` override
    both (``max_iter`` too: an outer iteration of one method may be worth many of another's).
    A parameter the estimator does not have is a ``ValueError`` naming it.
    """
    spec = get_method(method)
    cls = spec.estimator_class()
    known = set(cls().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"params: {spec.name} has no parameter(s) {unknown}; its parameters are "
                         f"{sorted(known)}")
    kw = dict(spec.defaults)
    if classification:
        kw.update(spec.classification)
    kw.update(SHARED)
    kw.update(params)
    if "hidden_layer_sizes" in kw:
        kw["hidden_layer_sizes"] = tuple(kw["hidden_layer_sizes"])
    return cls(**{k: v for k, v in kw.items() if k in known})


def _not_run(name, exc):
    msg = " ".join(str(exc).split())
    return CheckResult(name=name, verdict=Verdict.INCONCLUSIVE, reason=f"not run: {msg}",
                       message=f"{name} could not run on this trace: {msg}")


def _verify_table(spec):
    """The method's ``{check name: function}`` table (:func:`verify.claims_table`), or None
    when it has no claims module."""
    return claims_table(spec.name)


def run_checks(method, trace, **options) -> dict:
    """The method's claim checks on ``trace``: ``{check name: verify.CheckResult}``.

    The table of :func:`verify.claims_table`: ``admm``: :data:`verify.CHECKS` (Theorem 4);
    the other methods: the table of their ``verify.<name>`` module.  Each check runs on its own: one that refuses the
    trace (too short, a field missing: ``ValueError``) is INCONCLUSIVE with the reason
    "not run: ...".  ``options``: ``{check name: {keyword: value}}``.  A method whose checks
    cannot be imported gives ``{}``.
    """
    spec = get_method(method)
    table = _verify_table(spec)
    if table is None:
        return {}
    unknown = sorted(set(options) - set(table))
    if unknown:
        raise ValueError(f"options: unknown check names {unknown} for {spec.name}; expected among "
                         f"{list(table)}")
    out = {}
    for nm, fn in table.items():
        try:
            r = fn(trace, **(options.get(nm) or {}))
        except ValueError as exc:
            r = _not_run(nm, exc)
        out[nm] = r
    return out


# --------------------------------------------------------------------------- tasks

@dataclass
class TaskData:
    """One seed's data of a task: arrays ``(n_samples, n_features)``, targets as fitted.

    ``y``/``y_test`` are what the estimators fit (regression targets, or one-hot rows for
    classification); ``labels``/``labels_test`` the class labels (None for regression).
    """

    name: str
    kind: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    labels: np.ndarray | None
    labels_test: np.ndarray | None
    n_classes: int | None
    source: str

    @property
    def encoding(self) -> str:
        return "one-hot, argmax" if self.kind == "classification" else "real targets"


@dataclass(frozen=True)
class TaskSpec:
    """A task of the comparison: a toy task of :mod:`solver.tasks` or a real data set."""

    name: str
    kind: str          #: "regression" or "classification"
    family: str        #: "toy" or "data"
    default_n: int | None
    doc: str

    def load(self, seed=0, *, n=None, n_test=None, test_size=0.3, path=None) -> TaskData:
        return load_task(self.name, seed=seed, n=n, n_test=n_test, test_size=test_size, path=path)


def _task_table():
    toy = {"square": "x^2 on [-1, 1] (Table 3)", "product": "x_1 x_2 (Table 4)",
           "radial": "piecewise-linear ring (Table 5)", "smooth_radial": "Wendland function (Table 6)"}
    out = {nm: TaskSpec(nm, "regression", "toy", 1000, doc) for nm, doc in toy.items()}
    data_kind = {"digits": "classification", "breast_cancer": "classification", "diabetes": "regression",
                 "mnist": "classification", "fashion_mnist": "classification"}
    for nm in DATASETS:
        out[nm] = TaskSpec(nm, data_kind.get(nm, "classification"), "data", None,
                           f"sigadmm.data.load_dataset({nm!r})")
    return out


#: name -> :class:`TaskSpec`: the toy tasks, then the real data sets
TASKS: dict[str, TaskSpec] = _task_table()
TASK_NAMES = tuple(TASKS)


def get_task(name) -> TaskSpec:
    """The :class:`TaskSpec` of :data:`TASKS` named ``name`` (``ValueError`` naming the known tasks)."""
    if name not in TASKS:
        raise ValueError(f"task: unknown task {name!r}; expected one of {', '.join(TASKS)}")
    return TASKS[name]


def load_task(name, seed=0, *, n=None, n_test=None, test_size=0.3, path=None) -> TaskData:
    """Seed ``seed``'s data of task ``name``.

    Toy task: ``n`` training points (default 1000) and ``n_test`` clean test points (default
    ``n``) from :func:`sigadmm.data.task_data`.  Data set: ``n`` rows (default all) chosen by
    :func:`sigadmm.data.load_dataset` with ``seed``, split by :meth:`Dataset.split`
    (``test_size``, ``seed``); classification targets one-hot.  ``DatasetUnavailable`` (a
    ``FileNotFoundError``) when the data set's package or files are absent.
    """
    spec = get_task(name)
    if spec.family == "toy":
        if path is not None:
            raise ValueError(f"path: not used by the toy task {name!r}")
        n = 1000 if n is None else n
        t = D.task_data(name, int(n), int(n if n_test is None else n_test), int(seed))
        return TaskData(name, "regression", t.X, t.y, t.X_test, t.y_test, None, None, None,
                        f"solver.tasks {name} via sigadmm.data.task_data (n={n}, seed={seed})")
    if n_test is not None:
        raise ValueError(f"n_test: not used by the data set {name!r} (its test part is test_size={test_size})")
    ds = D.load_dataset(name, path=path, n=n, seed=int(seed))
    Xtr, Xte, ytr, yte = ds.split(test_size, int(seed))
    src = f"{ds.source}; split test_size={test_size} seed={seed}"
    if ds.task == "classification":
        k = int(ds.n_classes)
        return TaskData(name, "classification", Xtr, D.one_hot(ytr, k), Xte, D.one_hot(yte, k),
                        ytr, yte, k, src)
    return TaskData(name, "regression", Xtr, ytr, Xte, yte, None, None, None, src)


# --------------------------------------------------------------------------- one run

#: columns of :attr:`Comparison.table` (one row per method and seed)
TABLE_COLUMNS = (
    "task", "kind", "method", "seed", "loss", "encoding", "n_train", "n_test", "widths",
    "iterations", "status", "time_s", "s_per_iter",
    "train_mse", "test_mse", "train_acc", "test_acc", "best_train_mse", "best_test_mse",
    "best_test_acc", "lift_gap", "checks", "n_pass", "n_fail", "n_inconclusive",
    "returned_iter", "last_test_mse", "last_test_acc",
)
#: columns of a history (one row per iteration k = 0..K, k = 0 the initial point, where the
#: steps and the lift gap are NaN); ``step_W<i>`` one per layer
HISTORY_COLUMNS = ("k", "time", "train_mse", "test_mse", "train_acc", "test_acc", "lift_gap")


class _Recorder:
    """The callback that measures every method the same way, from the iterates ``W^k``.

    Per iteration: network-level MSE (and accuracy, for classification) of the plain forward
    pass on the train and test data, and ``||W_i^k - W_i^{k-1}||_F / ||W_i^{k-1}||_F`` per
    layer.  Its own time is subtracted from the trace's clock (:attr:`overhead`).
    """

    def __init__(self, model, data: TaskData, w0):
        self.model, self.data = model, data
        self.XT = np.ascontiguousarray(data.X.T)
        self.XtT = np.ascontiguousarray(data.X_test.T)
        self.Y = data.y.reshape(len(data.y), -1)
        self.Yt = data.y_test.reshape(len(data.y_test), -1)
        self.prev = [np.hstack([w, b[:, None]]) for w, b in w0]
        self.rows, self.steps, self.overhead = [], [], []
        self.act = None
        self._spent = 0.0

    def _measure(self, W):
        out = network_forward(W, self.XT, self.act).T
        outt = network_forward(W, self.XtT, self.act).T
        r = [float(np.mean((out - self.Y) ** 2)), float(np.mean((outt - self.Yt) ** 2))]
        if self.data.kind == "classification":
            r += [float(np.mean(out.argmax(1) == self.data.labels)),
                  float(np.mean(outt.argmax(1) == self.data.labels_test))]
        else:
            r += [math.nan, math.nan]
        return r

    def __call__(self, intermediate_result):
        t = time.perf_counter()
        W = [np.asarray(w) for w in intermediate_result.state.W]
        self.rows.append(self._measure(W))
        self.steps.append([float(np.linalg.norm(w - p) / max(np.linalg.norm(p), 1e-300))
                           for w, p in zip(W, self.prev)])
        self.prev = [w.copy() for w in W]
        self._spent += time.perf_counter() - t
        self.overhead.append(self._spent)
        return False


@dataclass
class RunResult:
    """One method on one seed: its table row, its history and the fitted estimator."""

    row: dict
    history: dict
    checks: dict
    model: object = field(repr=False, default=None)


def _returned_iter(model, K) -> int:
    """The iteration whose weights ``model.weights_`` are (0: the initial point)."""
    if getattr(model, "best_validation_iter_", None) is not None:
        return int(model.best_validation_iter_)
    if getattr(model, "keep_best", False):
        return int(model.best_iter_)
    return int(K)


def _fmt_checks(results) -> str:
    return "; ".join(f"{nm}={r.verdict}" for nm, r in results.items()) or "(no checks)"


def run_one(method, data: TaskData, seed, *, hidden=(20, 20), max_iter=100, params=None,
            checks=True, keep_model=False) -> RunResult:
    """Fit ``method`` on ``data`` with ``random_state=seed``; measure it (see :class:`_Recorder`)."""
    spec = get_method(method)
    clf = data.kind == "classification"
    kw = {"hidden_layer_sizes": tuple(hidden), "max_iter": int(max_iter), "random_state": seed}
    kw.update(params or {})
    model = make_estimator(spec, classification=clf, **kw)
    widths = ((data.X.shape[1],) + tuple(model.hidden_layer_sizes)
              + (data.y.reshape(len(data.y), -1).shape[1],))
    # the initial weights the estimator would draw, passed explicitly so the recorder knows W^0

    w0 = _v.check_init_weights(model._initial_weights(widths, None), widths)
    rec = _Recorder(model, data, w0)
    rec.act = model._network_activation()
    start = rec._measure(rec.prev)             # k = 0: the common starting point
    model.set_params(callback=rec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # non-finite stops are in the status
        model.fit(data.X, data.y, X_test=data.X_test, y_test=data.y_test, init_weights=w0)
    model.set_params(callback=None)
    tr = model.trace_
    K = len(tr)
    rows = np.array(rec.rows[:K], float).reshape(K, 4)
    over = np.array(rec.overhead[:K], float)
    t = np.asarray(tr.time[:K], float) - np.concatenate([[0.0], over[:-1]]) if K else np.zeros(0)
    gap = spec.lift_gap(tr) if K else np.zeros(0)
    rows = np.vstack([np.array(start, float)[None, :], rows])
    hist = {"k": np.arange(0, K + 1), "time": np.concatenate([[0.0], t]), "train_mse": rows[:, 0],
            "test_mse": rows[:, 1], "train_acc": rows[:, 2], "test_acc": rows[:, 3],
            "lift_gap": np.concatenate([[math.nan], gap])}
    steps = np.array(rec.steps[:K], float).reshape(K, len(widths) - 1)
    for i in range(steps.shape[1]):
        hist[f"step_W{i + 1}"] = np.concatenate([[math.nan], steps[:, i]])
    # the estimator's own predict must agree with the recorder's forward pass
    final = rec._measure([np.hstack([w, b[:, None]]) for w, b in model.weights_]) if K else [math.nan] * 4
    if K:
        pred = np.asarray(model.predict(data.X_test)).reshape(len(data.X_test), -1)
        mse_pred = float(np.mean((pred - data.y_test.reshape(len(data.y_test), -1)) ** 2))
        if not math.isclose(mse_pred, final[1], rel_tol=1e-9, abs_tol=1e-12):
            raise RuntimeError(f"{spec.name}: predict() disagrees with the network forward pass "
                               f"of weights_ (test MSE {mse_pred} vs {final[1]})")
    res = run_checks(spec, tr) if (checks and K) else {}
    verdicts = [str(r.verdict) for r in res.values()]
    best = lambda a, f: float(f(a)) if K and np.any(np.isfinite(a)) else math.nan  # noqa: E731
    row = {
        "task": data.name, "kind": data.kind, "method": spec.name, "seed": int(seed),
        "loss": str(model.get_params().get("loss", "squared")),
        "encoding": data.encoding, "n_train": int(data.X.shape[0]), "n_test": int(data.X_test.shape[0]),
        "widths": "-".join(str(w) for w in widths), "iterations": int(K),
        "status": str(model.result_.status), "time_s": float(t[-1]) if K else 0.0,
        "s_per_iter": float(t[-1] / K) if K else math.nan,
        "train_mse": final[0], "test_mse": final[1], "train_acc": final[2], "test_acc": final[3],
        "best_train_mse": best(hist["train_mse"], np.nanmin), "best_test_mse": best(hist["test_mse"], np.nanmin),
        "best_test_acc": best(hist["test_acc"], np.nanmax),
        "lift_gap": float(gap[-1]) if K else math.nan, "checks": _fmt_checks(res),
        "n_pass": verdicts.count("PASS"), "n_fail": verdicts.count("FAIL"),
        "n_inconclusive": verdicts.count("INCONCLUSIVE"),
        # the net the row's train/test columns measure is the estimator's weights_: the
        # early-stopped one with early_stopping=True (--param M.early_stopping=true), the best
        # train iterate with keep_best; the last iterate's test numbers beside it
        "returned_iter": _returned_iter(model, K),
        "last_test_mse": float(hist["test_mse"][-1]) if K else math.nan,
        "last_test_acc": float(hist["test_acc"][-1]) if K else math.nan,
    }
    return RunResult(row, hist, res, model if keep_model else None)


# --------------------------------------------------------------------------- compare

@dataclass
class Comparison:
    """What :func:`compare` returns.

    ``table``: list of dicts, one per (method, seed), keys :data:`TABLE_COLUMNS`;
    ``verdicts``: list of dicts ``method, seed, check, verdict, reason, message``;
    ``histories``: ``{(method, seed): {column: array}}`` (:data:`HISTORY_COLUMNS` plus
    ``step_W1..N``); ``settings``: the call's arguments; ``specs``: the methods' specs.
    """

    table: list
    verdicts: list
    histories: dict
    settings: dict
    models: dict = field(default_factory=dict, repr=False)

    @property
    def methods(self):
        return list(dict.fromkeys(r["method"] for r in self.table))

    def frame(self):
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # noqa: PLC0415 - pandas: the optional sweep extra, import time

        return pd.DataFrame(self.table, columns=list(TABLE_COLUMNS))

    def summary(self) -> list:
        """One row per method: mean (and std over seeds) of the numeric columns, the verdicts."""
        out = []
        for m in self.methods:
            rows = [r for r in self.table if r["method"] == m]
            s = {"method": m, "seeds": len(rows)}
            for c in ("train_mse", "test_mse", "train_acc", "test_acc", "time_s", "s_per_iter",
                      "iterations", "lift_gap", "returned_iter", "last_test_mse", "last_test_acc"):
                v = np.array([r[c] for r in rows], float)
                fin = v[np.isfinite(v)]
                s[c] = float(fin.mean()) if fin.size else math.nan
                s[c + "_std"] = float(fin.std(ddof=1)) if fin.size > 1 else math.nan
            checks = {}
            for r in self.verdicts:
                if r["method"] == m:
                    checks.setdefault(r["check"], []).append(r["verdict"])
            s["claims"] = "; ".join(f"{c}: " + "/".join(v) for c, v in checks.items()) or "(no checks)"
            out.append(s)
        return out

    def markdown(self, digits=3) -> str:
        """The summary as a Markdown table (mean (std) over seeds), then the verdicts per check."""
        clf = any(r["kind"] == "classification" for r in self.table)
        # a run that returns another iterate than its last (early stopping, keep_best): both nets
        both = any(r["returned_iter"] != r["iterations"] for r in self.table)
        last = (["returned iteration", "last iterate's test " + ("acc" if clf else "MSE")] if both else [])
        head = ["method", "seeds", "train MSE", "test MSE"] + (["train acc", "test acc"] if clf else []) \
            + last + ["s/iter", "iterations", "lift gap", "claim checks (per seed)"]
        rows = []
        for s in self.summary():
            ms = lambda c: (fmt_num(s[c], digits) + ("" if math.isnan(s[c + "_std"])  # noqa: E731
                                                      else f" ({fmt_num(s[c + '_std'], 2)})"))
            rows.append([s["method"], s["seeds"], ms("train_mse"), ms("test_mse")]
                        + ([ms("train_acc"), ms("test_acc")] if clf else [])
                        + ([ms("returned_iter"), ms("last_test_acc" if clf else "last_test_mse")] if both else [])
                        + [ms("s_per_iter"), fmt_num(s["iterations"]), ms("lift_gap"), s["claims"]])
        return markdown_table(head, rows)

    def save(self, out, *, figures=True, formats=("png",)) -> dict:
        """Write ``table.csv``, ``table.md``, ``verdicts.csv``, ``histories.csv``,
        ``settings.json`` and (``figures``) the plots into directory ``out``; returns the paths."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {}
        paths["table.csv"] = _write_csv(out / "table.csv", list(TABLE_COLUMNS), self.table)
        paths["verdicts.csv"] = _write_csv(out / "verdicts.csv",
                                           ["method", "seed", "check", "verdict", "reason", "message"],
                                           self.verdicts)
        hist_rows, cols = [], ["method", "seed"]
        for (m, sd), h in self.histories.items():
            for c in h:
                if c not in cols:
                    cols.append(c)
            K = len(h["k"])  # noqa: N806
            hist_rows += [dict({"method": m, "seed": sd}, **{c: h[c][j] for c in h}) for j in range(K)]
        paths["histories.csv"] = _write_csv(out / "histories.csv", cols, hist_rows)
        md = (f"# Side by side: task {self.settings['task']}\n\n{self.markdown()}\n\n"
              f"Mean (std over seeds) of the final iterate; lift gap: each method's own measure "
              f"(docs/peers.md). Settings: `{json.dumps(self.settings)}`\n")
        (out / "table.md").write_text(md)
        paths["table.md"] = out / "table.md"
        (out / "settings.json").write_text(json.dumps(self.settings, indent=1, default=str))
        paths["settings.json"] = out / "settings.json"
        if figures:
            for name, fig in plot_comparison(self).items():
                for fmt in formats:
                    p = out / f"{name}.{fmt}"
                    fig.savefig(p, dpi=110)
                    paths[p.name] = p
        return paths


def _write_csv(path, columns, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()})
    Path(path).write_text(buf.getvalue())
    return Path(path)


class ComparisonInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`compare`: ``partial`` holds the runs finished before it (the
    interrupted run's row included, its status ``interrupted``)."""

    def __init__(self, partial):
        super().__init__("comparison interrupted")
        self.partial = partial


def _check_seeds(seeds):
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = (int(seeds),)
    try:
        seeds = tuple(seeds)
    except TypeError:
        raise ValueError(f"seeds: expected non-negative integers, got {seeds!r}") from None
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise ValueError(f"seeds: expected one or more non-negative integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct seeds, got {seeds!r}")
    return tuple(int(s) for s in seeds)


def compare(methods=("admm", "dladmm", "lifted_bcd", "inexact_alm"), task="square", *, seeds=(0,),
            max_iter=100, hidden=(20, 20), n=None, n_test=None, test_size=0.3, path=None,
            params=None, checks=True, keep_models=False, progress=None) -> Comparison:
    """Run ``methods`` on ``task`` with the same data and seeds; see the module docstring.

    Parameters
    ----------
    methods : names of :data:`METHODS` (distinct)
    task : a name of :data:`TASKS`
    seeds : non-negative ints; seed ``s`` draws the data (and the split) and every method's
        initialisation (``random_state=s``)
    max_iter : iterations of every method (``tol=0``: all of them run unless a non-finite stop)
    hidden : hidden widths, the same for every method
    n, n_test, test_size, path : passed to :func:`load_task`
    params : ``{method: {parameter: value}}`` overriding that method's defaults
    checks : run each method's claim checks (:func:`run_checks`)
    progress : callable ``progress(message)`` called before each run, or None
    """
    names = [get_method(m).name for m in ([methods] if isinstance(methods, str) else methods)]
    if not names:
        raise ValueError("methods: expected at least one method name")
    if len(set(names)) != len(names):
        raise ValueError(f"methods: expected distinct names, got {names}")
    get_task(task)
    seeds = _check_seeds(seeds)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")

    hidden = check_positive_int_tuple(hidden, "hidden")
    params = dict(params or {})
    bad = [m for m in params if m not in names]
    if bad:
        raise ValueError(f"params: given for methods not compared: {bad}; compared: {names}")
    table, verdicts, histories, models = [], [], {}, {}
    settings = {"methods": names, "task": task, "seeds": list(seeds), "max_iter": int(max_iter),
                "hidden": list(hidden), "n": n, "n_test": n_test, "test_size": test_size,
                "params": {m: {k: v for k, v in p.items()} for m, p in params.items()}}
    try:
        for i, s in enumerate(seeds):
            data = load_task(task, s, n=n, n_test=n_test, test_size=test_size, path=path)
            if i == 0:  # every method's parameters, before the first run (not after the others ran)
                for m in names:
                    kw = {"hidden_layer_sizes": tuple(hidden), "max_iter": int(max_iter), "random_state": s}
                    kw.update(params.get(m) or {})
                    est = make_estimator(m, classification=data.kind == "classification", **kw)
                    est.check_params(data.X.shape[1], data.y.reshape(len(data.y), -1).shape[1])
            for m in names:
                if progress is not None:
                    progress(f"{m} on {task}, seed {s}")
                r = run_one(m, data, s, hidden=hidden, max_iter=int(max_iter), params=params.get(m),
                            checks=checks, keep_model=keep_models)
                table.append(r.row)
                histories[(m, s)] = r.history
                if keep_models:
                    models[(m, s)] = r.model
                for cname, c in r.checks.items():
                    verdicts.append({"method": m, "seed": s, "check": cname, "verdict": str(c.verdict),
                                     "reason": str(c.get("reason") or ""),
                                     "message": " ".join(str(c.get("message", "")).split())})
                if r.row["status"] == "interrupted":  # the loop caught Ctrl-C and stopped this run
                    raise ComparisonInterrupted(Comparison(table, verdicts, histories, settings, models))
    except ComparisonInterrupted:
        raise
    except KeyboardInterrupt:
        raise ComparisonInterrupted(Comparison(table, verdicts, histories, settings, models)) from None
    return Comparison(table, verdicts, histories, settings, models)


# --------------------------------------------------------------------------- plots

_COLORS = {"admm": "C0", "dladmm": "C1", "lifted_bcd": "C2", "inexact_alm": "C3"}


def _color(m):
    return _COLORS.get(m, f"C{4 + list(METHODS).index(m) % 6}" if m in METHODS else "C9")


def _figure(nrows, ncols, size):
    from matplotlib.figure import Figure  # no pyplot: headless, never changes the backend  # noqa: PLC0415 - matplotlib: import time; the caller picks the backend

    fig = Figure(figsize=size, layout="constrained")
    return fig, np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False))


def plot_errors(cmp: Comparison, *, fig=None):
    """Test error against iteration and against seconds (one line per method and seed);
    for classification a second row with the test accuracy."""
    clf = any(r["kind"] == "classification" for r in cmp.table)
    fig, ax = _figure(2 if clf else 1, 2, (11, 6.5 if clf else 3.6)) if fig is None else (fig, fig.axes)
    ax = np.asarray(ax).reshape(-1, 2)
    seen = set()
    for (m, s), h in cmp.histories.items():
        lab = m if m not in seen else None
        seen.add(m)
        for j, x in enumerate(("k", "time")):
            ax[0, j].semilogy(h[x], h["test_mse"], color=_color(m), lw=1, label=lab)
            ax[0, j].semilogy(h[x], h["train_mse"], color=_color(m), lw=0.6, ls=":")
            if clf:
                ax[1, j].plot(h[x], h["test_acc"], color=_color(m), lw=1, label=lab)
    for j, xl in enumerate(("iteration k", "seconds (measurement excluded)")):
        ax[0, j].set(xlabel=xl, ylabel="MSE of the network output (log)",
                     title=f"test MSE (solid), train MSE (dotted) against {xl.split()[0]}")
        if clf:
            ax[1, j].set(xlabel=xl, ylabel="test accuracy", title="test accuracy (argmax)")
    ax[0, 0].legend(fontsize=8)
    return fig


def plot_lift_gap(cmp: Comparison, *, fig=None):
    """Each method's lift gap (its own measure, :attr:`MethodSpec.gap_label`) against k."""
    fig, ax = _figure(1, 1, (6.5, 3.8)) if fig is None else (fig, np.array([[fig.axes[0]]]))
    a = ax[0, 0]
    seen = set()
    for (m, s), h in cmp.histories.items():
        g = np.asarray(h["lift_gap"], float)
        if not np.any(np.isfinite(g) & (g > 0)):
            continue
        a.semilogy(h["k"], g, color=_color(m), lw=1, label=None if m in seen else m)
        seen.add(m)
    a.set(xlabel="iteration k", ylabel="lift gap (Frobenius norm, log)",
          title="lifted variables against a real forward pass")
    if seen:
        a.legend(fontsize=8)
    return fig


def plot_layer_steps(cmp: Comparison, *, seed=None, fig=None):
    """``||W_i^k - W_i^{k-1}|| / ||W_i^{k-1}||`` per layer, one panel per method (first seed
    unless ``seed``): a layer whose steps are tiny does not learn."""
    ms = cmp.methods
    seed = cmp.settings["seeds"][0] if seed is None else seed
    fig, ax = _figure(1, len(ms), (3.6 * len(ms) + 0.5, 3.4)) if fig is None else (fig, np.array([fig.axes]))
    for j, m in enumerate(ms):
        a = ax[0, j]
        h = cmp.histories[(m, seed)]
        layers = sorted((c for c in h if c.startswith("step_W")), key=lambda c: int(c[6:]))
        for i, c in enumerate(layers):
            v = np.asarray(h[c], float)
            v = np.where(v > 0, v, np.nan)
            a.semilogy(h["k"], v, lw=1, label=f"layer {i + 1}" + (" (output)" if i == len(layers) - 1 else ""))
        a.set(xlabel="iteration k", title=f"{m} (seed {seed})")
        if j == 0:
            a.set_ylabel("relative step ||dW_i|| / ||W_i||")
        a.legend(fontsize=7)
    return fig


def plot_trace(method, trace, *, fig=None):
    """Panels of one run of any method (``sigadmm train --method``): its objective (the first
    guarded field of its schema), train/test MSE (with early stopping also the validation
    score and the returned iteration), its lift gap, and its KKT or stationarity residual
    when recorded."""
    spec = get_method(method)
    n = len(trace)
    k = np.arange(1, n + 1)
    fig, ax = _figure(2, 2, (11, 7)) if fig is None else (fig, np.asarray(fig.axes).reshape(2, 2))
    obj = next((f.name for f in trace.schema.fields if f.guard and f.shape == "run"
                and f.name not in ("train_mse",)), None)
    a = ax[0, 0]
    if obj is not None:
        v = np.asarray(getattr(trace, obj)[:n], float)
        a.plot(k, v)
        fin = np.abs(v[np.isfinite(v) & (v != 0)])
        a.set_yscale("symlog", linthresh=float(fin.min()) if fin.size else 1.0)
        a.set(title=f"{obj} ({trace.schema[obj].doc})"[:70], xlabel="iteration k", ylabel=obj)
    a = ax[0, 1]
    a.semilogy(k, trace.train_mse[:n], label="train")
    if np.any(np.isfinite(trace.test_mse[:n])):
        a.semilogy(k, trace.test_mse[:n], label="test")
    a.set(title="MSE of the network output", xlabel="iteration k", ylabel="MSE (log)")
    a.legend(loc="upper left")
    if "val_score" in trace.schema and np.any(np.isfinite(trace.val_score[:n])):   # early stopping
        b = a.twinx()
        b.plot(k, trace.val_score[:n], color="tab:green", label="validation score")
        if "best_validation_iter" in trace.meta:
            b.axvline(trace.meta["best_validation_iter"], color="tab:green", ls=":", label="best (returned)")
        b.set_ylabel("validation score")
        b.legend(loc="upper right", fontsize="small")
    a = ax[1, 0]
    g = spec.lift_gap(trace)
    if np.any(np.isfinite(g) & (g > 0)):
        a.semilogy(k, g)
    a.set(title="lift gap", xlabel="iteration k", ylabel=spec.gap_label[:60])
    a = ax[1, 1]
    res = next((f for f in ("kkt_total", "stationarity", "natural_residual") if f in trace.schema), None)
    if res is not None and np.any(np.isfinite(trace.__getattr__(res)[:n])):
        r = np.asarray(getattr(trace, res)[:n], float)
        a.loglog(k, r, lw=0.8, label=res)
        a.loglog(k, np.fmin.accumulate(np.where(np.isfinite(r), r, np.inf)), label="min over first k")
        a.legend()
    a.set(title="residual" if res is None else f"{res}", xlabel="iteration k")
    fig.suptitle(f"{spec.title}: {n} iterations")
    return fig


def plot_comparison(cmp: Comparison) -> dict:
    """``{"errors": ..., "lift_gap": ..., "layer_steps": ...}`` figures of a comparison."""
    return {"errors": plot_errors(cmp), "lift_gap": plot_lift_gap(cmp),
            "layer_steps": plot_layer_steps(cmp)}


# --------------------------------------------------------------------------- report section

def peers_section(task="square", *, methods=None, seeds=(0, 1), max_iter=50, hidden=(20, 20), n=200,
                  n_test=None, params=None, comparison: Comparison | None = None, progress=None) -> dict:
    """The reproduction report's "related methods" section.

    Returns ``{"claims": [report.Claim], "table": (header, rows), "figures": {name: Figure},
    "figure": the errors figure, "comparison": Comparison, "text": str}``: one claim per
    method and check, its verdict the check's (no paper numbers: the related papers' own
    claims, checked on our runs), with the settings in the note.  ``methods=None``: every
    registered method whose module imports here.  Pass ``comparison`` to reuse a run.
    """
    if comparison is None:
        methods = available_methods() if methods is None else methods
        if TASKS[task].family == "data":
            n_test = None
        comparison = compare(methods, task, seeds=seeds, max_iter=max_iter, hidden=hidden, n=n,
                             n_test=n_test, params=params, progress=progress)
    cmp = comparison
    claims = []
    st = cmp.settings
    for m in cmp.methods:
        spec = METHODS[m]
        checks = {}
        for v in cmp.verdicts:
            if v["method"] == m:
                checks.setdefault(v["check"], []).append(v)
        for cname, vs in checks.items():
            verdict = _combine([v["verdict"] for v in vs])
            why = next((v["reason"] or v["message"] for v in vs if v["verdict"] == verdict), "")
            claims.append(Claim(
                f"{spec.title}: {cname} ({spec.claim})", paper=None, ours=None, better=None,
                check=verdict,
                note=(f"{st['task']}, widths {st['hidden']}, {st['max_iter']} it., seeds "
                      f"{st['seeds']}: " + "/".join(v["verdict"] for v in vs) + f"; {why}")[:400]))
    header = ["method", "seeds", "train MSE", "test MSE", "train acc", "test acc", "s/iter", "checks"]
    rows = [[s["method"], s["seeds"], s["train_mse"], s["test_mse"], s["train_acc"], s["test_acc"],
             s["s_per_iter"], s["claims"]] for s in cmp.summary()]
    figs = plot_comparison(cmp)
    text = (f"Every method on task `{st['task']}` with the same data and seeds {st['seeds']}, hidden "
            f"widths {st['hidden']}, {st['max_iter']} iterations (sigadmm.peers.compare; docs/peers.md).")
    return {"claims": claims, "table": (header, rows), "figures": figs, "figure": figs["errors"],
            "comparison": cmp, "text": text}


def _combine(vs):
    """One verdict over seeds: FAIL if any seed fails, PASS if every seed passes, else INCONCLUSIVE."""
    if "FAIL" in vs:
        return "FAIL"
    if vs and all(v == "PASS" for v in vs):
        return "PASS"
    return "INCONCLUSIVE"
