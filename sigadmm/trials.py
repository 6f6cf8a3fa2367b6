"""The experiment definitions of the reproduction: its configurations, the data and model
making, and the table experiments' trial function.

* :class:`ReproConfig` (:data:`QUICK`, :data:`FULL`): the sizes of one reproduction run;
* :func:`make_data`, :func:`admm_model`: one trial's data and the paper's ADMM-sigmoid model;
* :func:`experiment_trial` (``"experiment"`` in :data:`sigadmm.results.TRIAL_FUNCTIONS`): one
  trial of Tables 3-6, ADMM or a gradient baseline; :func:`experiment_settings` its settings;
* :func:`run_measures`, :func:`fit`, :func:`check_baseline`, :class:`limit_threads`: what every
  trial function (here and in :mod:`sigadmm.studies`) shares.

The paper's numbers are in :mod:`sigadmm.paper`; the report's sections and the driver
(``sigadmm reproduce``) in :mod:`sigadmm.reproduce`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from dataclasses import dataclass, field

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from solver import ADMM

from .baselines import PAPER_SETTINGS, train_baseline
from .data import task_data, validation_split
from .paper import DEFAULT_NOISE, METHOD_PARTS, METHODS, PAPER_EPOCHS, PAPER_TABLES, PAPER_TRIALS
from .sweep import keyed_as

__all__ = ["ReproConfig", "QUICK", "FULL", "get_config", "quick_mode", "task_noise", "make_data", "admm_model",
           "limit_threads", "fit", "check_baseline", "experiment_trial", "run_measures", "experiment_settings",
           "FROZEN_MAX_TRIALS", "CONV_DEPTH", "BASELINE_RECORDS", "BASELINE_OPTIONS",
           "baseline_settings"]

#: Trials of the frozen-features control at most (it refits ADMM per trial).
FROZEN_MAX_TRIALS = 5
#: Hidden layers of the convergence-check runs (square task).
CONV_DEPTH = 2
#: Recorded epochs per gradient-baseline trial (``record_every = epochs // this``).
BASELINE_RECORDS = 50


# ================================================================= configuration
@dataclass(frozen=True)
class ReproConfig:
    """Sizes of one reproduction run.

    Attributes
    ----------
    mode : str
        "quick" or "full" (a label; every size below can be changed with ``replace``).
    tasks : tuple of str
        Tasks of the table experiments (``square``, ``product``, ``radial``, ``smooth_radial``).
    methods : tuple of str
        Subset of :data:`METHODS`.
    trials : int
        Trials per (task, method) (paper: 20).
    n, n_test : int
        Training points (paper: 1000) and clean test points.
    noise : dict
        Standard deviation of the training noise per task; tasks not in it take
        :data:`DEFAULT_NOISE` (:meth:`task_noise`).
    epochs : int
        Epochs of the gradient baselines (paper: 2000).
    admm_iters : int
        ADMM iterations (paper: 2000).
    width_cap : int or None
        Cap on the hidden width of the paper's best structures (None: the paper's widths).
    depth_cap : int or None
        Cap on the depth of the ReLU structures (None: the paper's depths).
    lam, beta : float
        ADMM regularisation and penalty (paper: 1e-6, 1).
    init : str
        Initialisation of every method (paper: MSRA).
    admm_init_scale, baseline_init_scale : float
        Weight scale of the initialisation: 8 for ADMM (the authors' demos, inputs in
        [-1, 1]: it saturates the sigmoids on purpose and makes the random features rich),
        1 for the gradient baselines (the standard MSRA scale SGD needs).
    conv_width, conv_iters : int
        Size of the convergence-check runs (square task, 2 hidden layers).
    conv_theory_beta, conv_theory_lam : float
        The second convergence run's penalty and regularisation: larger than the paper's
        practical values, in the direction of Theorem 4's conditions (chosen: with them
        every check of :mod:`verify.checks` passed on the quick run; not derived constants).
    sat_depths, sat_width, sat_iters : tuple, int, int
        Deep sigmoid nets of the saturation study.
    certify_eps : tuple of float
        Accuracies of the certification table.
    """

    mode: str = "quick"
    tasks: tuple = ("square", "product")
    methods: tuple = METHODS
    trials: int = 3
    n: int = 1000
    n_test: int = 1000
    noise: dict = field(default_factory=lambda: dict(DEFAULT_NOISE))
    epochs: int = 30
    admm_iters: int = 200
    width_cap: int | None = None
    depth_cap: int | None = None
    lam: float = 1e-6
    beta: float = 1.0
    init: str = "msra"
    admm_init_scale: float = 8.0
    baseline_init_scale: float = 1.0
    conv_width: int = 30
    conv_iters: int = 300
    conv_theory_beta: float = 10.0
    conv_theory_lam: float = 1e-3
    sat_depths: tuple = (3, 6)
    sat_width: int = 20
    sat_iters: int = 30
    certify_eps: tuple = (1e-3, 1e-6)

    def __post_init__(self):
        for name in ("trials", "n", "n_test", "epochs", "admm_iters", "conv_width", "conv_iters",
                     "sat_width", "sat_iters"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        bad = [t for t in self.tasks if t not in PAPER_TABLES]
        if bad or not self.tasks:
            raise ValueError(f"tasks: expected a non-empty subset of {list(PAPER_TABLES)}, got {self.tasks!r}")
        bad = {t: v for t, v in self.noise.items()
               if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0)}
        if bad:
            raise ValueError(f"noise: expected finite standard deviations >= 0, got {bad}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(f"methods: expected a non-empty subset of {list(METHODS)}, got {self.methods!r}")
        for name in ("lam", "beta", "admm_init_scale", "baseline_init_scale", "conv_theory_beta",
                     "conv_theory_lam"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: expected a positive float, got {v!r}")

    def replace(self, **changes) -> "ReproConfig":
        return dataclasses.replace(self, **changes)

    def task_noise(self, task: str) -> float:
        """Training-noise standard deviation of ``task`` (:attr:`noise`, else :data:`DEFAULT_NOISE`)."""
        return float(self.noise.get(task, DEFAULT_NOISE[task]))

    def structure(self, task: str, method: str) -> tuple[int, int]:
        """(depth, width) used for ``method`` on ``task``: the paper's best, capped."""
        e = PAPER_TABLES[task]["methods"][method]
        depth, width = e.depth, e.width
        if self.width_cap is not None:
            width = min(width, self.width_cap)
        if self.depth_cap is not None and method.endswith("relu"):
            depth = min(depth, self.depth_cap)
        return depth, width


#: ``make demo``.  Paper structures with widths capped at 100,
#: 30 epochs / 200 ADMM iterations, 3 trials: the *direction* of each claim, not its size.
QUICK = ReproConfig(mode="quick", width_cap=100)
#: The paper's settings: 20 trials, 2000 epochs / iterations, all four tasks (hours).
FULL = ReproConfig(mode="full", tasks=tuple(PAPER_TABLES), trials=PAPER_TRIALS, epochs=PAPER_EPOCHS,
                   admm_iters=PAPER_EPOCHS, conv_width=100, conv_iters=2000, sat_depths=(2, 4, 6, 8, 10),
                   sat_width=50, sat_iters=100, certify_eps=(1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8))


def get_config(mode: str) -> ReproConfig:
    """QUICK or FULL by name."""
    if mode not in ("quick", "full"):
        raise ValueError(f"mode: expected 'quick' or 'full', got {mode!r}")
    return QUICK if mode == "quick" else FULL


def quick_mode() -> bool:
    """True when ``SIGADMM_QUICK`` is set to a non-empty value other than 0 (notebooks, CI)."""
    return os.environ.get("SIGADMM_QUICK", "") not in ("", "0")



# ================================================================= one trial
def task_noise(task: str, settings: dict) -> float:
    """The trial's training noise: ``settings["noise"]``, else the task's :data:`DEFAULT_NOISE`."""
    if "noise" in settings:
        return float(settings["noise"])
    return DEFAULT_NOISE.get(task, 0.0)


def make_data(task: str, n: int, n_test: int, seed: int, noise: float | None = None):
    """The task's data for trial ``seed`` (:func:`sigadmm.data.task_data`: its own random
    stream, apart from the weights'); ``noise`` defaults to the task's :data:`DEFAULT_NOISE`."""
    noise = DEFAULT_NOISE.get(task, 0.0) if noise is None else noise
    return task_data(task, n, n_test, seed, noise)


def admm_model(depth, width, *, lam=1e-6, beta=1.0, init="msra", init_scale=1.0, max_iter=200,
               seed=0, activation="sigmoid", **kw):
    """The paper's ADMM-sigmoid estimator (Algorithm 1) with the given structure."""
    return ADMM(hidden_layer_sizes=(int(width),) * int(depth), activation=activation, lam=lam,
                beta=beta, init=init, init_scale=init_scale, max_iter=int(max_iter), random_state=int(seed),
                verbose=0, **kw)


def _first_time_below(times, errs, target):
    if target is None:
        return math.nan
    errs = np.asarray(errs, float)
    hit = np.flatnonzero(np.isfinite(errs) & (errs <= target))
    return float(np.asarray(times, float)[hit[0]]) if hit.size else math.nan


class limit_threads:
    """Context manager: run with ``n`` threads in numba, BLAS (threadpoolctl) and torch.

    Sweeps run one trial per core; letting each trial also spawn a thread per core
    oversubscribes the machine (the measured slowdown is in docs/reproduce.md, "Threads").
    """

    def __init__(self, n: int = 1):
        self.n = int(n)

    def __enter__(self):
        self._undo = []
        try:
            old = numba.get_num_threads()
            numba.set_num_threads(min(self.n, numba.config.NUMBA_NUM_THREADS))
            self._undo.append(lambda: numba.set_num_threads(old))
        except Exception:  # noqa: BLE001 - numba threading layer unavailable
            pass
        try:
            ctl = threadpool_limits(limits=self.n)
            self._undo.append(ctl.restore_original_limits)
        except Exception:  # noqa: BLE001 - limiting is best effort: the run goes on unlimited
            pass
        if "torch" in sys.modules:
            torch = sys.modules["torch"]
            old_t = torch.get_num_threads()
            torch.set_num_threads(self.n)
            self._undo.append(lambda: torch.set_num_threads(old_t))
        return self

    def __exit__(self, *exc):
        for f in reversed(self._undo):
            f()
        return False


def fit(model, *args, **kw):
    """``model.fit`` that lets Ctrl-C through: the solver stops an interrupted run cleanly
    and returns it; a reproduction must not report (or cache) it as a finished one."""
    model.fit(*args, **kw)
    if str(getattr(model, "result_", {}).get("status", "")) == "interrupted":
        raise KeyboardInterrupt
    return model


def check_baseline(res):
    """The gradient baselines return an interrupted run as ``status="interrupted"``: raise."""
    if getattr(res, "status", None) == "interrupted":
        raise KeyboardInterrupt
    return res


# keyed as where it was defined when the committed results sets were recorded (their cache
# lines hash this name): the move to this module changes no key
@keyed_as("sigadmm.reproduce.experiment_trial")
def experiment_trial(settings: dict, seed: int) -> dict:
    """One trial of the table experiments (a :func:`sigadmm.sweep.run_sweep` trial function).

    ``settings``: ``task``, ``method`` (one of :data:`METHODS`), ``depth``, ``width``, ``n``,
    ``n_test``, ``epochs`` (baselines), ``iters`` (ADMM), ``lam``, ``beta``, ``init``,
    ``init_scale``; optional ``noise``, ``target`` (MSE whose first-reach time is recorded),
    ``threads`` (torch threads, default 1); baselines also ``lr``, ``momentum``, ``lr_decay``
    (:func:`baseline_settings`) and ``val_size``: that fraction of the training points is held
    out (:func:`sigadmm.studies.validation_split`), the net is trained on the rest and the
    final iterate's ``val_mse`` is returned, for choosing the learning rate without the test set.

    Returns ``train_mse``, ``test_mse`` (final iterate), ``seconds`` (training wall time),
    ``time_to_target``, ``iterations``, and ``best_train_mse`` / ``best_iteration`` (smallest
    recorded train MSE: ADMM's train error is not monotone along its iterations).
    """
    with limit_threads(int(settings.get("threads", 1))):
        return _experiment_trial(settings, seed)


def _experiment_trial(settings: dict, seed: int) -> dict:
    task, method = settings["task"], settings["method"]
    if method not in METHOD_PARTS:
        raise ValueError(f"method: expected one of {list(METHODS)}, got {method!r}")
    opt, act = METHOD_PARTS[method]
    data = make_data(task, settings["n"], settings["n_test"], seed, task_noise(task, settings))
    target = settings.get("target")
    extra = {}
    if opt == "admm":
        # keep_best: the train MSE of every iterate is computed (the best iterate is the
        # authors' measure, approx_err = min(trainerr)); track=False spares the proof's
        # diagnostics (Lagrangian, KKT residuals), about a third of an iteration's time
        model = admm_model(settings["depth"], settings["width"], lam=settings["lam"],
                           beta=settings["beta"], init=settings["init"],
                           init_scale=settings["init_scale"], max_iter=settings["iters"], seed=seed,
                           activation=act, track=False, keep_best=True)
        fit(model, data.X, data.y, X_test=data.X_test, y_test=data.y_test)
        tr = model.trace_
        n = len(tr)
        history = {"iteration": np.arange(1, n + 1), "train_mse": tr.train_mse[:n],
                   "test_mse": tr.test_mse[:n], "time": tr.time[:n]}
        run_status = str(model.result_["status"])
    else:
        X, y, val = data.X, data.y, None
        if settings.get("val_size") is not None:  # a validation part for choices (learning rate)
            X, X_val, y, y_val = validation_split(X, y, settings["val_size"], seed, False)
            val = (X_val, y_val)
        res = check_baseline(train_baseline(
            X, y, data.X_test, data.y_test, optimizer=opt, activation=act,
            depth=settings["depth"], width=settings["width"],
            settings=baseline_settings(settings), init=settings["init"],
            init_scale=settings["init_scale"], seed=seed, target_mse=None,
            record_every=max(1, int(settings["epochs"]) // BASELINE_RECORDS),
            n_threads=int(settings.get("threads", 1)), keep_model=val is not None))
        h = res.history
        m = min(len(h["epoch"]), len(h["train_mse"]), len(h["test_mse"]), len(h["time"]))
        history = {"iteration": h["epoch"][:m], "train_mse": h["train_mse"][:m],
                   "test_mse": h["test_mse"][:m], "time": h["time"][:m]}
        n = int(res.epochs_run)
        run_status = str(res.status)
        if val is not None:  # the final iterate's validation error: what a choice may read
            with np.errstate(all="ignore"):
                pred = np.asarray(res.predict(val[0]), float).reshape(np.shape(val[1]))
                extra["val_mse"] = float(np.mean((pred - np.asarray(val[1], float)) ** 2))
            if not math.isfinite(extra["val_mse"]):
                extra["val_mse"] = math.nan
    return {**run_measures(history), "seconds": float(history["time"][-1]) if len(history["time"]) else math.nan,
            "time_to_target": _first_time_below(history["time"], history["train_mse"], target),
            "iterations": n, "run_status": run_status, **extra}


#: Optional keys of a baseline's settings (:func:`experiment_trial`) and the
#: :class:`sigadmm.baselines.PaperSettings` field each one sets (``lr``: the optimiser's own).
BASELINE_OPTIONS = ("lr", "momentum", "lr_decay", "val_size")


def baseline_settings(settings: dict):
    """The :class:`sigadmm.baselines.PaperSettings` of a baseline trial: Table 2's values with
    ``epochs`` and, where given, ``lr`` (the learning rate of the trial's optimiser: SGD's,
    SGDM's or Adam's), ``momentum`` (SGDM only) and ``lr_decay`` (SGD/SGDM: the factor applied
    every ``decay_every`` epochs).  A key that does not apply to the method raises."""
    opt, _ = METHOD_PARTS[settings["method"]]
    changes = {"epochs": int(settings["epochs"])}
    if settings.get("lr") is not None:
        changes[{"sgd": "sgd_lr", "sgdm": "sgdm_lr", "adam": "adam_lr"}[opt]] = float(settings["lr"])
    if settings.get("momentum") is not None:
        if opt != "sgdm":
            raise ValueError(f"momentum: only SGD-momentum methods take one, got method "
                             f"{settings['method']!r}")
        changes["momentum"] = float(settings["momentum"])
    if settings.get("lr_decay") is not None:
        if opt == "adam":
            raise ValueError(f"lr_decay: Adam runs without a schedule, got method {settings['method']!r}")
        changes["lr_decay"] = float(settings["lr_decay"])
    return PAPER_SETTINGS.replace(**changes)


def run_measures(history: dict) -> dict:
    """The final and the best-over-the-run errors of one recorded run (docs/reproduce.md,
    "Like with like").

    ``history``: equal-length arrays ``iteration``, ``train_mse``, ``test_mse``.  Returns
    ``train_mse``/``test_mse`` (the last recorded point: the final iterate),
    ``best_train_mse``/``best_iteration`` (smallest finite train MSE: the authors' ADMM
    measure, ``approx_err = min(trainerr)``), ``test_at_best_train`` and
    ``best_test_mse``/``best_test_iteration``.  A run with no finite point (diverged at once)
    gives nan, never an error.
    """
    it = np.asarray(history["iteration"], float)
    tr = np.asarray(history["train_mse"], float)
    te = np.asarray(history["test_mse"], float)
    if not (it.shape == tr.shape == te.shape) or it.ndim != 1:
        raise ValueError(f"history: expected equal-length 1-d iteration/train_mse/test_mse, got "
                         f"shapes {it.shape}, {tr.shape}, {te.shape}")
    out = {"train_mse": math.nan, "test_mse": math.nan, "best_train_mse": math.nan,
           "best_iteration": math.nan, "test_at_best_train": math.nan, "best_test_mse": math.nan,
           "best_test_iteration": math.nan}
    if it.size == 0:
        return out
    out["train_mse"], out["test_mse"] = float(tr[-1]), float(te[-1])
    ok = np.flatnonzero(np.isfinite(tr))
    if ok.size:
        k = int(ok[np.argmin(tr[ok])])
        out.update(best_train_mse=float(tr[k]), best_iteration=float(it[k]), test_at_best_train=float(te[k]))
    ok = np.flatnonzero(np.isfinite(te))
    if ok.size:
        k = int(ok[np.argmin(te[ok])])
        out.update(best_test_mse=float(te[k]), best_test_iteration=float(it[k]))
    return out


def experiment_settings(config: ReproConfig, task: str, method: str, depth=None, width=None) -> dict:
    """The settings dict of :func:`experiment_trial` for one (task, method) under ``config``."""
    d, w = config.structure(task, method)
    s = {"task": task, "method": method, "depth": int(depth or d), "width": int(width or w),
         "n": config.n, "n_test": config.n_test, "noise": config.task_noise(task),
         "lam": config.lam, "beta": config.beta, "init": config.init}
    if method == "admm_sigmoid":
        s["iters"] = config.admm_iters
        s["init_scale"] = config.admm_init_scale
    else:
        s["epochs"] = config.epochs
        s["init_scale"] = config.baseline_init_scale
    return s
