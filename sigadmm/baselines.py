"""Gradient baselines of the paper's experiments: SGD, SGD-momentum and Adam on ReLU nets,
SGD on sigmoid nets (paper section 5.1, Table 2; docs/experiments.md#common-settings and
docs/experiments.md#admm-and-baseline-settings).

PyTorch (CPU) is an optional extra (``pip install -e .[baselines]``) and is imported
lazily: this module imports without it, and everything torch-free lives here too —
the paper's settings (:class:`PaperSettings`, :data:`PAPER_SETTINGS`), the learning-rate
schedule (:func:`lr_at_epoch`), the six initialisations (:func:`init_weights`) and the
result object (:class:`BaselineResult`).

Settings (Table 2 of the paper, with what our copy lost filled in and said so):

* SGD and SGD-momentum: geometric ("step exponential") decay of the learning rate every
  10 epochs by the factor 0.5; momentum 0.9.  The initial learning rates are **not
  recoverable** from our copy; we use 0.01 for SGD and 0.001 for SGD-momentum, i.e. the
  same effective step ``lr / (1 - momentum)`` (both are parameters; the choice is discussed
  in docs/experiments.md#unknown-values-and-our-choices).
* Adam: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no schedule ("default settings").
* Batch size 50, 2000 epochs, mean-squared-error loss.
* Weights initialised by one of the six schemes of section 5.1 (MSRA by default, biases 0).

Example
-------
>>> from sigadmm.baselines import train_baseline, PAPER_SETTINGS
>>> res = train_baseline(X, y, optimizer="adam", activation="relu", depth=15, width=80,
...                      settings=PAPER_SETTINGS.replace(epochs=200), seed=0)   # doctest: +SKIP
>>> res.train_mse, res.time_to_target                                           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from solver import _validation as _v
from solver.init import init_weights as _solver_init

__all__ = [
    "PaperSettings",
    "PAPER_SETTINGS",
    "OPTIMIZERS",
    "ACTIVATIONS",
    "INITS",
    "lr_at_epoch",
    "init_weights",
    "BaselineResult",
    "train_baseline",
    "BaselineRegressor",
    "torch_available",
]

OPTIMIZERS = ("sgd", "sgdm", "adam")
ACTIVATIONS = ("relu", "sigmoid", "tanh")
INITS = ("msra", "lecun_uniform", "lecun_normal", "orth_uniform", "orth_normal", "xavier")
_INIT_ALIASES = {"lecun_unif": "lecun_uniform", "lecun_gauss": "lecun_normal",
                 "orth_unif": "orth_uniform", "orth_gauss": "orth_normal"}



# ----------------------------------------------------------------- validation helpers
def _check_choice(name, value, choices):
    v = str(value).lower().replace("-", "_") if isinstance(value, str) else value
    if v not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
    return v


def _check_int(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {value!r}")


def _check_hidden(value):
    try:
        hidden = tuple(value)
    except TypeError:
        hidden = (value,)
    if not hidden or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1
                         for h in hidden):
        raise ValueError(f"hidden_layer_sizes: expected a non-empty sequence of positive integers, "
                         f"got {value!r}")
    return tuple(int(h) for h in hidden)


def _as_2d(name, a, column=False):  # noqa: ARG001 - column kept for readability at call sites
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a numeric array, got {type(a).__name__}") from exc
    if arr.ndim == 1:
        arr = arr[:, None]  # one feature (X) or one output (y)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array (n_samples, n_features), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return arr


@dataclass(frozen=True)
class PaperSettings:
    """Optimiser settings of the paper's Table 2 (see the module docstring for sources).

    Attributes
    ----------
    epochs : int
        Passes over the training set (paper: 2000).
    batch_size : int
        Mini-batch size (paper: 50 for the approximation and learning tasks).
    sgd_lr : float
        Initial learning rate of plain SGD (not recoverable; our choice 0.01).
    sgdm_lr : float
        Initial learning rate of SGD-momentum (not recoverable; our choice 0.001, the same
        effective step ``lr / (1 - momentum)`` as plain SGD).
    lr_decay, decay_every : float, int
        ``lr = sgd_lr * lr_decay ** (epoch // decay_every)`` (paper: 0.5 every 10 epochs).
    momentum : float
        SGD-momentum coefficient (paper: 0.9).
    adam_lr, adam_betas, adam_eps
        Adam's defaults (paper: 1e-3, (0.9, 0.999), 1e-8); no schedule.
    """

    epochs: int = 2000
    batch_size: int = 50
    sgd_lr: float = 0.01
    sgdm_lr: float = 0.001
    lr_decay: float = 0.5
    decay_every: int = 10
    momentum: float = 0.9
    adam_lr: float = 1e-3
    adam_betas: tuple = (0.9, 0.999)
    adam_eps: float = 1e-8

    def __post_init__(self):
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("decay_every", self.decay_every, 1)
        for name in ("sgd_lr", "sgdm_lr", "adam_lr", "adam_eps"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: expected a positive finite float, got {v!r}")
        if not (0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay: expected a float in (0, 1], got {self.lr_decay!r}")
        if not (0 <= self.momentum < 1):
            raise ValueError(f"momentum: expected a float in [0, 1), got {self.momentum!r}")
        b = tuple(self.adam_betas)
        if len(b) != 2 or not all(0 <= x < 1 for x in b):
            raise ValueError(f"adam_betas: expected two floats in [0, 1), got {self.adam_betas!r}")

    def replace(self, **changes) -> "PaperSettings":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d


PAPER_SETTINGS = PaperSettings()


def lr_at_epoch(optimizer: str, epoch: int, settings: PaperSettings = PAPER_SETTINGS) -> float:
    """Learning rate used during ``epoch`` (0-based) by ``optimizer`` (paper Table 2).

    SGD: ``sgd_lr * lr_decay ** (epoch // decay_every)``; SGD-momentum the same with
    ``sgdm_lr``; Adam: ``adam_lr`` (no schedule).
    """
    optimizer = _check_choice("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "adam":
        return float(settings.adam_lr)
    _check_int("epoch", epoch, 0)
    lr0 = settings.sgd_lr if optimizer == "sgd" else settings.sgdm_lr
    return float(lr0 * settings.lr_decay ** (int(epoch) // settings.decay_every))


# ----------------------------------------------------------------- initialisation
def init_weights(sizes, init: str = "msra", seed=0, scale: float = 1.0):
    """Weights and biases for a fully connected net with layer sizes ``sizes`` (paper 5.1).

    The same generator as the ADMM solver (:func:`solver.init.init_weights`), so that a
    baseline and an ADMM run with the same seed start from the same weights.

    Parameters
    ----------
    sizes : sequence of int
        ``[d_0, d_1, ..., d_N]``: input dimension, hidden widths, output dimension.
    init : str
        One of :data:`INITS` (LeCun-Unif ``U(+-sqrt(3/d_in))``, LeCun-Gauss ``N(0, 1/d_in)``,
        Orth-Unif / Orth-Gauss, Xavier ``U(+-sqrt(6/(d_in+d_out)))``, MSRA ``N(0, 2/d_out)``
        on hidden layers and ``N(0, 1/d_out)`` on the output layer); the paper's short names
        ``lecun_unif``, ``lecun_gauss``, ``orth_unif``, ``orth_gauss`` are accepted too.
    seed : int or numpy Generator
    scale : float
        Multiplies every weight (the authors' demos use 8 to saturate the sigmoids).

    Returns
    -------
    list of (W, b)
        ``W`` has shape ``(d_out, d_in)``, ``b`` is zero of shape ``(d_out,)``.
    """
    try:
        sizes = [int(s) for s in sizes]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sizes: expected a sequence of positive integers, got {sizes!r}") from exc
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes: expected at least two positive layer sizes, got {sizes!r}")
    init = _INIT_ALIASES.get(init, init)
    init = _check_choice("init", init, INITS)
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale: expected a positive finite float, got {scale!r}")
    return _solver_init(sizes, scheme=init, scale=float(scale), seed=seed)


# ----------------------------------------------------------------- result object
@dataclass
class BaselineResult:
    """Outcome of one gradient-baseline run (scipy.optimize style result object).

    Attributes
    ----------
    optimizer, activation : str
    depth, width : int
        Number of hidden layers and their largest width.
    hidden_layer_sizes : tuple of int
        The hidden widths, input side first.
    train_mse, test_mse : float
        Final mean squared errors (``test_mse`` is nan without test data).
    best_test_mse : float
        Smallest test error over the recorded epochs (nan without test data).
    epochs_run : int
    wall_time : float
        Seconds of training (evaluation of the recorded errors included).
    time_to_target : float
        Seconds until the train MSE first fell to ``target_mse`` (nan if never / no target).
    status : {"completed", "target_reached", "time_limit", "diverged", "interrupted"}
    history : dict of numpy arrays
        Per recorded epoch: ``epoch``, ``lr``, ``train_mse``, ``test_mse``, ``time``.
    grad_norms : ndarray, shape (n_recorded, depth + 1)
        Frobenius norm of the full-batch loss gradient w.r.t. each layer's weight matrix at
        the recorded epochs (input layer first): the vanishing-gradient measurement of the
        saturation study (paper Figure 4,
        docs/experiments.md#stability-robustness-depth-and-saturation-claims).
    settings : dict
        The :class:`PaperSettings` used, plus init, seed, dtype.
    layer_steps, layer_norms : ndarray, shape (epochs_run, depth + 1), or None
        With ``record_steps=True``: per epoch ``e``, each layer's step
        ``||[W_l b_l]^e - [W_l b_l]^(e-1)||_F`` over the epoch and the norm
        ``||[W_l b_l]^(e-1)||_F`` at the epoch's start (input layer first; the saturation
        study, docs/studies.md); None otherwise.
    """

    optimizer: str
    activation: str
    depth: int
    width: int
    train_mse: float
    test_mse: float
    best_test_mse: float
    epochs_run: int
    wall_time: float
    time_to_target: float
    status: str
    history: dict = field(default_factory=dict)
    grad_norms: np.ndarray = None
    settings: dict = field(default_factory=dict)
    model: object = field(default=None, repr=False)
    hidden_layer_sizes: tuple = ()
    layer_steps: np.ndarray = field(default=None, repr=False)
    layer_norms: np.ndarray = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.status in ("completed", "target_reached")

    def summary(self) -> dict:
        """Flat dict of scalars (one row of a sweep table)."""
        return {
            "optimizer": self.optimizer, "activation": self.activation, "depth": self.depth,
            "width": self.width, "train_mse": self.train_mse, "test_mse": self.test_mse,
            "best_test_mse": self.best_test_mse, "epochs_run": self.epochs_run,
            "wall_time": self.wall_time, "time_to_target": self.time_to_target,
            "status": self.status,
        }

    def predict(self, X) -> np.ndarray:
        """Outputs of the trained net on ``X`` (n_samples, n_features); needs torch."""
        if self.model is None:
            raise ValueError("model: this result carries no trained model (keep_model=False)")
        torch = _torch()
        X = _as_2d("X", X)
        p = next(self.model.parameters())
        with torch.no_grad():
            out = self.model(torch.as_tensor(X, dtype=p.dtype)).numpy()
        return out


# ----------------------------------------------------------------- training
def torch_available() -> bool:
    """True when PyTorch can be imported (the baselines' optional extra)."""
    try:
        _torch()
    except ImportError:
        return False
    return True


def _torch():
    try:
        import torch  # noqa: PLC0415 - torch: the optional baselines extra
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(
            "the gradient baselines need PyTorch (CPU): pip install -e '.[baselines]' "
            "or see the README / Makefile for the CPU wheel") from exc
    return torch


def _build_net(torch, sizes, activation, weights, dtype):
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[activation]
    layers = []
    linears = []
    for i, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W, dtype=dtype))
            lin.bias.copy_(torch.as_tensor(b, dtype=dtype))
        layers.append(lin)
        linears.append(lin)
        if i < len(weights) - 1:
            layers.append(act())
    return torch.nn.Sequential(*layers), linears


@contextlib.contextmanager
def _num_threads(torch, n_threads):
    """``torch.set_num_threads(n_threads)`` inside the block, the old count restored after
    (None: unchanged)."""
    old_threads = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        if n_threads is not None:
            torch.set_num_threads(old_threads)


def _hidden_widths(depth, width, hidden_layer_sizes):
    """The hidden widths ``(d_1, ..., d_{N-1})``: ``hidden_layer_sizes`` when given, else
    ``depth`` layers of ``width`` neurons."""
    if hidden_layer_sizes is None:
        _check_int("depth", depth, 1)
        _check_int("width", width, 1)
        return (int(width),) * int(depth)
    return _check_hidden(hidden_layer_sizes)


def _check_run_options(record_every, grad_every, settings, dtype, target_mse, time_limit):
    """Refuse a malformed recording cadence, settings object, dtype or stopping rule."""
    _check_int("record_every", record_every, 1)
    if grad_every is not None:
        _check_int("grad_every", grad_every, 1)
    if not isinstance(settings, PaperSettings):
        raise ValueError(f"settings: expected a PaperSettings, got {type(settings).__name__}")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype: expected 'float64' or 'float32', got {dtype!r}")
    if target_mse is not None and not (math.isfinite(target_mse) and target_mse > 0):
        raise ValueError(f"target_mse: expected a positive float, got {target_mse!r}")
    if time_limit is not None and not (time_limit > 0):
        raise ValueError(f"time_limit: expected a positive number of seconds, got {time_limit!r}")


def _check_train_data(X, y, X_test, y_test):
    """``(X, Y, test)``: the training data as 2-D float arrays and the held-out pair
    ``(X_test, Y_test)`` (None without test data), with matching shapes."""
    X = _as_2d("X", X)
    Y = _as_2d("y", y, column=True)
    if len(X) != len(Y):
        raise ValueError(f"y: expected {len(X)} rows like X, got {len(Y)}")
    if X_test is None:
        return X, Y, None
    if y_test is None:
        raise ValueError("y_test: expected targets for X_test, got None")
    Xt = _as_2d("X_test", X_test)
    Yt = _as_2d("y_test", y_test, column=True)
    if Xt.shape[1] != X.shape[1] or Yt.shape[1] != Y.shape[1] or len(Xt) != len(Yt):
        raise ValueError(f"X_test, y_test: expected shapes (m, {X.shape[1]}) and "
                         f"(m, {Y.shape[1]}), got {Xt.shape} and {Yt.shape}")
    return X, Y, (Xt, Yt)


class _MiniBatchRun:
    """One net, its optimiser and data as torch tensors: the pieces of paper section 5.1's
    gradient baselines (mini-batch steps on the mean-squared-error loss)."""

    def __init__(self, torch, sizes, activation, weights, tdt, X, Y, test, optimizer,
                 settings, rng):
        self.torch = torch
        self.net, self.linears = _build_net(torch, sizes, activation, weights, tdt)
        self.gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.Xtr = torch.as_tensor(X, dtype=tdt)
        self.Ytr = torch.as_tensor(Y, dtype=tdt)
        self.has_test = test is not None
        self.Xte = torch.as_tensor(test[0], dtype=tdt) if self.has_test else None
        self.Yte = torch.as_tensor(test[1], dtype=tdt) if self.has_test else None
        self.opt = _make_optimizer(torch, self.net, optimizer, settings)
        self.mse = torch.nn.functional.mse_loss

    def layer_params(self):
        """Each layer's ``[W_l b_l]`` (a copy)."""
        torch = self.torch
        with torch.no_grad():
            return [torch.cat([lin.weight, lin.bias[:, None]], dim=1).clone()
                    for lin in self.linears]

    def full_mse(self, A, B):
        """The full-batch MSE of the net on ``(A, B)``."""
        with self.torch.no_grad():
            return float(self.mse(self.net(A), B))

    def errors(self):
        """``(train MSE, test MSE)`` on the full sets (test nan without test data)."""
        tr = self.full_mse(self.Xtr, self.Ytr)
        te = self.full_mse(self.Xte, self.Yte) if self.has_test else math.nan
        return tr, te

    def grad_norms(self):
        """``||d loss / d W_l||_F`` of the full-batch loss, input layer first (Figure 4)."""
        net = self.net
        net.zero_grad(set_to_none=True)
        self.mse(net(self.Xtr), self.Ytr).backward()
        g = [float(self.torch.linalg.norm(lin.weight.grad)) for lin in self.linears]
        net.zero_grad(set_to_none=True)
        return g

    def epoch(self, lr, batch_size):
        """One pass over a fresh permutation of the training set in mini-batches, each an
        optimiser step at learning rate ``lr``."""
        for g in self.opt.param_groups:
            g["lr"] = lr
        n = len(self.Xtr)
        perm = self.torch.randperm(n, generator=self.gen)
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            self.opt.zero_grad(set_to_none=True)
            loss = self.mse(self.net(self.Xtr[idx]), self.Ytr[idx])
            loss.backward()
            self.opt.step()


def _make_optimizer(torch, net, optimizer, settings):
    """Adam with the paper's defaults, or SGD (momentum 0 for "sgd") (Table 2)."""
    if optimizer == "adam":
        return torch.optim.Adam(net.parameters(), lr=settings.adam_lr,
                                betas=tuple(settings.adam_betas), eps=settings.adam_eps)
    return torch.optim.SGD(net.parameters(), lr=settings.sgd_lr,
                           momentum=settings.momentum if optimizer == "sgdm" else 0.0)


@dataclass
class _TrainingLog:
    """What the epoch loop records: the history, gradient norms, per-layer steps and norms,
    how the loop ended and the last epoch run (0-based, -1 before the first)."""

    hist: dict = field(default_factory=lambda: {
        "epoch": [], "lr": [], "train_mse": [], "test_mse": [], "time": []})
    grads: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    norms: list = field(default_factory=list)
    status: str = "completed"
    t_target: float = math.nan
    epoch: int = -1

    def record(self, epoch, lr, tr, te, now):
        for key, value in zip(("epoch", "lr", "train_mse", "test_mse", "time"),
                              (epoch, lr, tr, te, now)):
            self.hist[key].append(value)


def _run_epochs(run, log, t0, *, optimizer, settings, record_every, grad_every, target_mse,
                time_limit, callback, record_steps):
    """The epoch loop: schedule the learning rate (:func:`lr_at_epoch`), take the epoch's
    mini-batch steps, record, and stop on divergence, the target, the callback or the time
    limit (the statuses of :class:`BaselineResult`)."""
    bs = min(settings.batch_size, len(run.Xtr))
    for epoch in range(settings.epochs):
        log.epoch = epoch
        lr = lr_at_epoch(optimizer, epoch, settings)
        before = run.layer_params() if record_steps else None
        run.epoch(lr, bs)
        if record_steps:
            after = run.layer_params()
            log.steps.append([float(run.torch.linalg.norm(a - b)) for a, b in zip(after, before)])
            log.norms.append([float(run.torch.linalg.norm(b)) for b in before])
        last = epoch == settings.epochs - 1
        if grad_every is not None and (epoch + 1) % grad_every == 0 and not last:
            log.grads.append(run.grad_norms())
        if (epoch + 1) % record_every == 0 or last or target_mse is not None:
            tr, te = run.errors()
            now = time.perf_counter() - t0
            if (epoch + 1) % record_every == 0 or last:
                log.record(epoch + 1, lr, tr, te, now)
            if not math.isfinite(tr):
                log.status = "diverged"
                return
            if target_mse is not None and tr <= target_mse:
                log.t_target = now
                log.status = "target_reached"
                return
            if callback is not None and callback(epoch + 1, tr):
                return
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            log.status = "time_limit"
            return


def _baseline_result(run, log, wall, *, optimizer, activation, hidden, settings, init,
                     init_scale, seed, dtype, keep_model, record_steps):
    """The :class:`BaselineResult`: final errors, the history closed at the last epoch run,
    the best recorded test error."""
    train_final, test_final = run.errors()
    hist, epoch = log.hist, log.epoch
    if not hist["epoch"] or hist["epoch"][-1] != epoch + 1:
        log.record(epoch + 1, lr_at_epoch(optimizer, max(epoch, 0), settings),
                   train_final, test_final, wall)
    history = {k: np.asarray(v, dtype=float) for k, v in hist.items()}
    te_hist = history["test_mse"]
    best = (float(np.nanmin(te_hist)) if run.has_test and np.isfinite(te_hist).any()
            else math.nan)
    n_layers = len(run.linears)
    return BaselineResult(
        optimizer=optimizer, activation=activation, depth=len(hidden), width=max(hidden),
        hidden_layer_sizes=hidden,
        train_mse=train_final, test_mse=test_final, best_test_mse=best,
        epochs_run=epoch + 1, wall_time=wall, time_to_target=log.t_target, status=log.status,
        history=history, grad_norms=np.asarray(log.grads, dtype=float),
        settings={**settings.to_dict(), "init": init, "init_scale": init_scale,
                  "seed": seed, "dtype": dtype},
        model=run.net if keep_model else None,
        layer_steps=np.asarray(log.steps, dtype=float).reshape(-1, n_layers) if record_steps else None,
        layer_norms=np.asarray(log.norms, dtype=float).reshape(-1, n_layers) if record_steps else None)


def train_baseline(X, y, X_test=None, y_test=None, *, optimizer: str = "adam",
                   activation: str = "relu", depth: int = 2, width: int = 100,
                   hidden_layer_sizes=None,
                   settings: PaperSettings = PAPER_SETTINGS, init: str = "msra",
                   init_scale: float = 1.0, seed: int = 0, dtype: str = "float64",
                   target_mse: float | None = None, time_limit: float | None = None,
                   record_every: int = 1, grad_every: int | None = None,
                   n_threads: int | None = None, keep_model: bool = True,
                   callback=None, record_steps: bool = False) -> BaselineResult:
    """Train a fully connected net by mini-batch SGD / SGD-momentum / Adam (paper section 5.1).

    Parameters
    ----------
    X, y : array-like, shapes (n_samples, n_features) and (n_samples,) or (n_samples, n_outputs)
    X_test, y_test : array-like, optional
        Held-out data; its MSE is recorded every ``record_every`` epochs.
    optimizer : {"sgd", "sgdm", "adam"}
    activation : {"relu", "sigmoid", "tanh"}
    depth, width : int
        Number of hidden layers and neurons per hidden layer.
    hidden_layer_sizes : sequence of int, optional
        The hidden widths, input side first; when given, it replaces ``depth`` and ``width``
        (layers of different widths).
    settings : PaperSettings
        Epochs, batch size, learning-rate schedule (paper Table 2).
    init, init_scale : str, float
        See :func:`init_weights`.
    seed : int
        Seeds the initial weights and the mini-batch order: the same seed gives the same run.
    dtype : {"float64", "float32"}
        float64 by default, like the paper's Matlab and our ADMM.
    target_mse : float, optional
        Stop as soon as the training MSE (checked at recorded epochs) is ``<= target_mse``;
        the elapsed time is ``time_to_target``.
    time_limit : float, optional
        Stop after this many seconds (status "time_limit").
    record_every : int
        Record train/test MSE every so many epochs (and at the last one).
    grad_every : int, optional
        Record the per-layer full-batch gradient norms every so many epochs (default: at the
        first and last epoch only).
    n_threads : int, optional
        ``torch.set_num_threads`` for this run (use 1 inside parallel sweeps).
    keep_model : bool
        Keep the trained torch module on the result (``result.predict``).
    callback : callable, optional
        ``callback(epoch, train_mse)`` after each recorded epoch; returning True stops.
    record_steps : bool
        Record each layer's step per epoch and its weight norm at the epoch's start
        (``layer_steps``, ``layer_norms`` of the result; weights and biases together).

    Returns
    -------
    BaselineResult

    Notes
    -----
    Ctrl-C stops training and returns what was computed (status "interrupted").
    """
    torch = _torch()
    optimizer = _check_choice("optimizer", optimizer, OPTIMIZERS)
    activation = _check_choice("activation", activation, ACTIVATIONS)
    hidden = _hidden_widths(depth, width, hidden_layer_sizes)
    _check_run_options(record_every, grad_every, settings, dtype, target_mse, time_limit)
    X, Y, test = _check_train_data(X, y, X_test, y_test)

    tdt = torch.float64 if dtype == "float64" else torch.float32
    with _num_threads(torch, n_threads):
        sizes = [X.shape[1], *hidden, Y.shape[1]]
        rng = np.random.default_rng(seed)
        weights = init_weights(sizes, init=init, seed=rng, scale=init_scale)
        run = _MiniBatchRun(torch, sizes, activation, weights, tdt, X, Y, test, optimizer,
                            settings, rng)
        log = _TrainingLog()
        t0 = time.perf_counter()
        log.grads.append(run.grad_norms())  # at initialisation
        try:
            _run_epochs(run, log, t0, optimizer=optimizer, settings=settings,
                        record_every=record_every, grad_every=grad_every,
                        target_mse=target_mse, time_limit=time_limit, callback=callback,
                        record_steps=record_steps)
        except KeyboardInterrupt:
            log.status = "interrupted"
        wall = time.perf_counter() - t0
        log.grads.append(run.grad_norms())
        return _baseline_result(run, log, wall, optimizer=optimizer, activation=activation,
                                hidden=hidden, settings=settings, init=init,
                                init_scale=init_scale, seed=seed, dtype=dtype,
                                keep_model=keep_model, record_steps=record_steps)


class BaselineRegressor(RegressorMixin, BaseEstimator):
    """scikit-learn estimator around :func:`train_baseline` (``fit`` / ``predict`` / ``score``).

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (100, 100)
        The hidden widths, input side first (as in :class:`solver.ADMM`).
    settings : PaperSettings or None, default None
        Epochs, batch size, learning-rate schedule; None means :data:`PAPER_SETTINGS`
        (paper Table 2).
    optimizer, activation, init, init_scale, dtype, target_mse, time_limit, \
record_every, n_threads
        As in :func:`train_baseline`.
    random_state : int, numpy Generator or None, default 0
        Seeds the initial weights and the mini-batch order (``seed`` of :func:`train_baseline`);
        None draws fresh entropy.
    verbose : int, default 0
        0: silent; 1 or more: one line per recorded epoch (epoch, train MSE).

    Attributes
    ----------
    result_ : BaselineResult
        The run (history, gradient norms, the torch module).
    n_features_in_, n_outputs_ : int
    n_iter_ : int
        Epochs run.
    """

    def __init__(self, *, hidden_layer_sizes=(100, 100), optimizer="adam", activation="relu",
                 settings=None, init="msra", init_scale=1.0, random_state=0,
                 dtype="float64", target_mse=None, time_limit=None, record_every=1,
                 n_threads=None, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.activation = activation
        self.settings = settings
        self.init = init
        self.init_scale = init_scale
        self.random_state = random_state
        self.dtype = dtype
        self.target_mse = target_mse
        self.time_limit = time_limit
        self.record_every = record_every
        self.n_threads = n_threads
        self.verbose = verbose

    def fit(self, X, y, *, X_test=None, y_test=None):
        """Train on ``X`` (n_samples, n_features), ``y`` (n_samples,) or (n_samples, n_outputs);
        ``X_test``, ``y_test`` (optional) are evaluated at the recorded epochs."""
        X, Y, y1d = _v.check_Xy(X, y, "X", "y")       # errors that name the argument
        validate_data(self, X, Y[:, 0] if y1d else Y, multi_output=True, y_numeric=True)
        if self.settings is not None and not isinstance(self.settings, PaperSettings):
            raise ValueError(f"settings: expected a PaperSettings or None, got {type(self.settings).__name__}")
        params = self.get_params()
        params["settings"] = PAPER_SETTINGS if self.settings is None else self.settings
        params["seed"] = params.pop("random_state")
        verbose = int(params.pop("verbose"))
        callback = None
        if verbose > 0:
            def callback(epoch, train_mse):
                print(f"{type(self).__name__}: epoch {epoch}  train MSE {train_mse:.3e}", flush=True)
        result = train_baseline(X, Y[:, 0] if y1d else Y, X_test, y_test, callback=callback, **params)
        self.result_ = result
        self.n_outputs_ = Y.shape[1]
        self._y1d = y1d
        self.n_iter_ = result.epochs_run
        return self

    def predict(self, X):
        """Outputs of the trained net: shape (n_samples,) when fitted on a 1-D ``y``."""
        check_is_fitted(self, "result_")
        X = _v.check_array(X, "X", ndim=(2,))
        validate_data(self, X, reset=False)  # "X has d features, but ... is expecting d'"
        out = self.result_.predict(X)
        return out.ravel() if self._y1d and out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True      # one output unit per column of y
        tags.non_deterministic = False            # the same random_state gives the same run
        # The paper's schedule halves the learning rate every 10 epochs (Table 2): a short run
        # underfits scikit-learn's 10-feature check data, so R^2 > 0.5 is not a property of
        # the method at the sizes a check can afford.
        tags.regressor_tags.poor_score = True
        return tags

    # score: RegressorMixin's R^2, the same as every estimator of the toolkit
