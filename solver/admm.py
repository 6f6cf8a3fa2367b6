"""The sigmoid-ADMM estimator (paper Algorithm 1, MATH.md section 2), scikit-learn style.

>>> from solver import ADMM, tasks
>>> X, y, Xt, yt = tasks.square(n=1000, seed=0)
>>> model = ADMM(hidden_layer_sizes=(100, 100), init_scale=8, max_iter=50, seed=0,
...              progress=False).fit(X, y, X_test=Xt, y_test=yt)
>>> model.trace_.train_mse.min() < 1e-7
True
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.activations import get_activation

from . import _validation as _v
from .engine import ADMMState, FastEngine, ReferenceEngine
from .init import INITS, init_weights as _init_weights
from .trace import Trace

__all__ = ["ADMM", "ADMMResult", "ADMMState", "NonFiniteWarning"]

_ENGINES = ("numba", "numpy", "reference")
_CURVATURES = ("theory", "reference")


class NonFiniteWarning(RuntimeWarning):
    """An ADMM iterate became NaN/inf; the run stopped at the last finite iterate."""


@dataclass
class ADMMResult:
    """Outcome of :meth:`ADMM.fit` (``scipy.optimize.OptimizeResult`` style).

    Attributes
    ----------
    success : bool
        The stopping criterion ``kkt_total <= tol`` was met.
    status : int
        0 converged, 1 ``max_iter`` reached, 2 interrupted (Ctrl-C or callback),
        3 stopped on a non-finite iterate.
    message : str
    nit : int
        Iterations completed (including those of a resumed run).
    best_iter : int
        Iteration with the smallest train MSE (1-based, 0 if none recorded).
    best_train_mse, final_train_mse, kkt_total : float
    """

    success: bool
    status: int
    message: str
    nit: int
    best_iter: int = 0
    best_train_mse: float = float("nan")
    final_train_mse: float = float("nan")
    kkt_total: float = float("nan")
    extra: dict = field(default_factory=dict, repr=False)


class ADMM(_v.ParamsMixin):
    """Deep sigmoid nets trained by the paper's ADMM, every quantity of its proof tracked.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers (depth = its length >= 1); the output layer is linear.
    activation : str or theory.Activation
        Any smooth activation (Assumption 1): "sigmoid", "tanh", "gauss_cdf", "arctan", or
        an :class:`theory.Activation` (compiled kernels for the built-ins).
    lam : float
        Weight decay ``lambda >= 0`` (MATH.md section 2).
    beta : float or sequence of float
        Penalty ``beta_i > 0``, one value or one per layer (hidden layers then output).
    curvature : {"theory", "reference"}
        LLA curvature rule: ``curvature_factor * (L_1^2 + L_2 (L_0 + ||B||_max))`` (a
        majoriser; the paper's eq. 18 uses factor 2) or the authors' demo ``||B||_max / 2``.
    curvature_factor : float
        Factor of the theory rule (>= 1 keeps the majorisation).
    init : str
        One of the paper's six schemes (:data:`solver.init.INITS`); ignored when
        ``init_weights`` is passed to :meth:`fit`.
    init_scale : float
        Multiplies the initial weights (the authors use 8 for inputs in [-1, 1]).
    max_iter : int
    tol : float
        Stop when ``kkt_total <= tol`` (with ``track=False``: when
        ``sqrt(sum ||F_i||^2 + sum ||V_i^k - V_i^{k-1}||^2) <= tol``); 0 runs all iterations.
    seed : int or None
        Seed of the random initialisation (the same seed gives the same trace).
    track : bool
        Compute the KKT residuals (paper eq. 24) every iteration.  The Lagrangian parts,
        steps, feasibility and norms are always recorded (they come for free).
    keep_best : bool
        Set ``weights_`` to the iterate with the smallest train MSE (the train error is not
        monotone along ADMM iterations) instead of the last one.
    callback : callable or None
        ``callback(k, state, trace)`` after every iteration; returning True stops the run.
    progress : bool
        Show a tqdm progress bar (iteration, train error, KKT residual).
    checkpoint : str, Path or None
        File (``.npz``) where the state and trace are saved every ``checkpoint_every``
        iterations and at the end; ``fit(..., resume=True)`` continues from it, giving the
        same iterates bit for bit as an uninterrupted run.
    checkpoint_every : int
    n_threads : int or None
        Threads of the numba kernels (None: one thread, the robust choice: the kernels run
        between BLAS calls whose threads busy-wait, and competing with them made parallel
        kernels 15-40x slower on 2 cores).  More than one compiles the ``parallel=True``
        kernel twins on first use.  BLAS threads are left to the BLAS.
    engine : {"numba", "numpy", "reference"}
        "numba": compiled kernels (numpy kernels for a user activation without a
        ``kernel_id``); "numpy": the same algorithm with numpy elementwise kernels;
        "reference": the plain transcription in :mod:`solver.steps`.

    Attributes
    ----------
    weights_ : list of (W_i, b_i)
        ``W_i`` of shape ``(d_i, d_{i-1})`` (output x input), ``b_i`` of shape ``(d_i,)``.
    state_ : ADMMState
        Final ``W, V, Lam`` blocks (and cached pre-activations) for inspection; a run is
        resumed from its ``checkpoint`` file (``fit(..., resume=True)``).
    trace_ : Trace
    n_iter_ : int
    converged_ : bool
    result_ : ADMMResult
    """

    def __init__(self, hidden_layer_sizes=(100, 100), activation="sigmoid", lam=1e-6, beta=1.0,
                 curvature="theory", curvature_factor=2.0, init="msra", init_scale=1.0,
                 max_iter=500, tol=0.0, seed=None, track=True, keep_best=False, callback=None,
                 progress=True, checkpoint=None, checkpoint_every=50, engine="numba",
                 n_threads=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.lam = lam
        self.beta = beta
        self.curvature = curvature
        self.curvature_factor = curvature_factor
        self.init = init
        self.init_scale = init_scale
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.track = track
        self.keep_best = keep_best
        self.callback = callback
        self.progress = progress
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.engine = engine
        self.n_threads = n_threads

    # get_params / set_params: _validation.ParamsMixin (names from __init__'s signature)
    def _validate_params(self, n_layers):
        hidden = _v.check_positive_int_tuple(self.hidden_layer_sizes, "hidden_layer_sizes")
        act = get_activation(self.activation, "activation")
        if not act.is_smooth or act.is_linear:
            act.require_smooth("activation")
        lam = self.lam
        if not isinstance(lam, (int, float, np.floating, np.integer)) or isinstance(lam, bool) \
                or not np.isfinite(lam) or lam < 0:
            raise ValueError(f"lam: expected a finite number >= 0, got {lam!r}")
        beta = _v.check_beta(self.beta, len(hidden) + 1)
        if self.curvature not in _CURVATURES:
            raise ValueError(f"curvature: expected one of {_CURVATURES}, got {self.curvature!r}")
        cf = self.curvature_factor
        if not isinstance(cf, (int, float, np.floating, np.integer)) or not np.isfinite(cf) or cf <= 0:
            raise ValueError(f"curvature_factor: expected a positive finite number, got {cf!r}")
        if self.init not in INITS:
            raise ValueError(f"init: expected one of {sorted(INITS)}, got {self.init!r}")
        s = self.init_scale
        if not isinstance(s, (int, float, np.floating, np.integer)) or not np.isfinite(s) or s <= 0:
            raise ValueError(f"init_scale: expected a positive finite number, got {s!r}")
        for name in ("max_iter", "checkpoint_every"):
            val = getattr(self, name)
            if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < 1:
                raise ValueError(f"{name}: expected a positive integer, got {val!r}")
        if not isinstance(self.tol, (int, float, np.floating, np.integer)) or not self.tol >= 0:
            raise ValueError(f"tol: expected a number >= 0, got {self.tol!r}")
        if self.seed is not None and not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed: expected an integer or None, got {self.seed!r}")
        if self.callback is not None and not callable(self.callback):
            raise ValueError(f"callback: expected a callable callback(k, state, trace) or None, got {self.callback!r}")
        if self.engine not in _ENGINES:
            raise ValueError(f"engine: expected one of {_ENGINES}, got {self.engine!r}")
        if self.n_threads is not None and (not isinstance(self.n_threads, (int, np.integer))
                                           or isinstance(self.n_threads, bool) or self.n_threads < 1):
            raise ValueError(f"n_threads: expected a positive integer or None, got {self.n_threads!r}")
        return hidden, act, float(lam), beta

    # ------------------------------------------------------------------- fit
    def fit(self, X, y, X_test=None, y_test=None, init_weights=None, resume=False):
        """Run Algorithm 1 from the paper's initial point (eq. 7).

        Parameters
        ----------
        X : array (n_samples, n_features)
        y : array (n_samples,) or (n_samples, n_outputs)
        X_test, y_test : optional test data; its MSE is recorded every iteration.
        init_weights : list of (W_i, b_i), optional
            Explicit initial weights, ``W_i`` of shape ``(d_i, d_{i-1})``, ``b_i`` ``(d_i,)``.
        resume : bool
            Continue from ``checkpoint`` (which must exist and match the data and settings).

        Returns
        -------
        self
        """
        hidden, act, lam, beta = self._validate_params(None)
        X, Y, y1d = _v.check_Xy(X, y, "X", "y")
        if (X_test is None) != (y_test is None):
            raise ValueError("X_test, y_test: expected both or neither")
        if X_test is not None:
            Xt, Yt, _ = _v.check_Xy(X_test, y_test, "X_test", "y_test", X.shape[1], Y.shape[1])
        widths = (X.shape[1],) + hidden + (Y.shape[1],)
        N = len(widths) - 1
        explicit = init_weights is not None
        if explicit:
            w0 = _v.check_init_weights(init_weights, widths)
        else:
            w0 = _init_weights(widths, self.init, self.init_scale, self.seed)
        if resume and self.checkpoint is None:
            raise ValueError("resume: expected a checkpoint path to be set (ADMM(checkpoint=...))")

        self._y1d, self.n_features_in_, self.n_outputs_ = y1d, X.shape[1], Y.shape[1]
        self.activation_ = act
        meta = {
            "activation": act.name, "activation_expr": str(act.expr), "widths": list(widths),
            "hidden_layer_sizes": list(hidden), "n_layers": N, "beta": beta.tolist(), "lam": lam,
            "curvature": self.curvature, "curvature_factor": float(self.curvature_factor),
            "init": "explicit" if explicit else self.init, "init_scale": float(self.init_scale),
            "seed": self.seed, "n_samples": int(X.shape[0]), "n_test": 0 if X_test is None else int(Xt.shape[0]),
            "max_iter": int(self.max_iter), "tol": float(self.tol), "track": bool(self.track),
            "keep_best": bool(self.keep_best), "engine": self.engine,
        }
        fp = _fingerprint(X, Y, w0, {k: v for k, v in meta.items() if k not in ("max_iter", "tol")})
        meta["fingerprint"] = fp

        if self.engine == "reference":
            eng = ReferenceEngine(act, X, Y, lam, beta, self.curvature, self.curvature_factor)
        else:
            eng = FastEngine(act, X, Y, lam, beta, self.curvature, self.curvature_factor,
                             use_numba=self.engine == "numba", threads=self.n_threads)
        meta["engine_used"] = eng.name
        Xt_T = None if X_test is None else np.ascontiguousarray(Xt.T)
        Yt_T = None if X_test is None else np.ascontiguousarray(Yt.T)

        trace = Trace.empty(N, int(self.max_iter), meta)
        t_offset = 0.0
        best = (np.inf, 0, None)
        if resume:
            st, trace_ck, best, t_offset = self._load_checkpoint(fp, N)
            for j in range(len(trace_ck)):
                trace.set_row(j, trace_ck.row(j))
        else:
            st = eng.initial_state(w0)
        W0 = [np.hstack([w, b[:, None]]) for w, b in w0]
        self.init_train_mse_ = float(np.mean((eng.forward(W0, eng.X) - eng.Y) ** 2))
        trace.meta["init_train_mse"] = self.init_train_mse_

        status, message = 1, f"maximum number of iterations ({self.max_iter}) reached"
        last_W = list(st.W)
        need_train = bool(self.track or self.keep_best)
        stop = _StopFlag()
        t0 = time.perf_counter() - t_offset
        bar = _progress_bar(self.progress, int(self.max_iter), st.k)
        try:
            with stop.installed():
                while st.k < self.max_iter:
                    try:
                        row = eng.iterate(st, track=bool(self.track), train=need_train)
                    except np.linalg.LinAlgError:  # a system lost positive definiteness: inf/nan entries
                        st.k += 1
                        row = {"lagrangian": np.nan}
                    k = st.k
                    if Xt_T is not None:
                        row["test_mse"] = float(np.mean((eng.forward(st.W, Xt_T) - Yt_T) ** 2))
                    row["time"] = time.perf_counter() - t0
                    if not _row_finite(row):
                        st.k -= 1
                        status = 3
                        message = (f"non-finite iterate at iteration {k} (beta, lam, the data or "
                                   f"the initial scale may be too extreme); stopped, keeping the "
                                   f"{k - 1} finite iterations in trace_ and weights_ "
                                   f"(state_ holds the non-finite iterate)")
                        warnings.warn(message, NonFiniteWarning, stacklevel=2)
                        break
                    trace.set_row(k - 1, row)
                    last_W = list(st.W)
                    if row.get("train_mse", np.inf) < best[0]:
                        best = (row["train_mse"], k, list(st.W))
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(train=f"{row.get('train_mse', np.nan):.3g}",
                                        kkt=f"{row.get('kkt_total', np.nan):.3g}", refresh=False)
                    crit = row["kkt_total"] if self.track else float(
                        np.sqrt(np.sum(row["feas"] ** 2) + np.sum(row["dV2"])))
                    done = self.tol > 0 and crit <= self.tol
                    if self.checkpoint is not None and (k % self.checkpoint_every == 0 or done
                                                        or k == self.max_iter):
                        self._save_checkpoint(st, trace, best, row["time"], fp)
                    if done:
                        status, message = 0, f"converged: criterion {crit:.3g} <= tol {self.tol:g}"
                        break
                    if self.callback is not None and self.callback(k, st, trace):
                        status, message = 2, f"stopped by callback at iteration {k}"
                        break
                    if stop.requested:
                        status, message = 2, f"interrupted (Ctrl-C) after iteration {k}"
                        break
        except KeyboardInterrupt:
            status = 2
            message = f"interrupted (KeyboardInterrupt) after iteration {len(trace)}"
            if st.k != len(trace):
                st.k = len(trace)
                message += "; state_ holds a partially updated iteration (weights_ are complete)"
        finally:
            if bar is not None:
                bar.close()
        if status == 2:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            if self.checkpoint is not None and st.k == len(trace) and "partially" not in message:
                self._save_checkpoint(st, trace, best, trace.time[len(trace) - 1] if len(trace) else 0.0, fp)

        trace.truncate()
        trace.meta.update({"status": status, "message": message, "n_iter": len(trace),
                           "best_iter": int(best[1])})
        self.trace_ = trace
        self.state_ = st
        self.n_iter_ = len(trace)
        self.converged_ = status == 0
        W_final = best[2] if (self.keep_best and best[2] is not None) else last_W
        self.weights_ = [(np.ascontiguousarray(w[:, :-1]), w[:, -1].copy()) for w in W_final]
        self.best_iter_, self.best_train_mse_ = int(best[1]), float(best[0])
        n = len(trace)
        self.result_ = ADMMResult(
            success=status == 0, status=status, message=message, nit=n, best_iter=int(best[1]),
            best_train_mse=float(best[0]),
            final_train_mse=float(trace.train_mse[-1]) if n else float("nan"),
            kkt_total=float(trace.kkt_total[-1]) if n else float("nan"))
        return self

    # -------------------------------------------------------------- predict
    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise ValueError("model: not fitted yet; call fit(X, y) first")

    def predict(self, X):
        """Network output ``W_N [sigma(... sigma(W_1 x + b_1) ...); 1]`` for rows of ``X``."""
        self._check_fitted()
        X = _v.check_array(X, "X", ndim=(2,))
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X: expected {self.n_features_in_} features (as in training), got shape {X.shape}")
        H = X
        N = len(self.weights_)
        for j, (W, b) in enumerate(self.weights_):
            Z = H @ W.T + b
            H = self.activation_(Z) if j < N - 1 else Z
        return H[:, 0] if self._y1d else H

    def score(self, X, y):
        """Coefficient of determination R^2 (scikit-learn's regressor convention)."""
        self._check_fitted()
        X, Y, _ = _v.check_Xy(X, y, "X", "y", self.n_features_in_, self.n_outputs_)
        P = self.predict(X).reshape(Y.shape)
        ss_res = np.sum((Y - P) ** 2, axis=0)
        ss_tot = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
        return float(np.mean(r2))

    def mse(self, X, y):
        """Mean squared error of :meth:`predict` (the paper's measure)."""
        self._check_fitted()
        X, Y, _ = _v.check_Xy(X, y, "X", "y", self.n_features_in_, self.n_outputs_)
        return float(np.mean((self.predict(X).reshape(Y.shape) - Y) ** 2))

    # ----------------------------------------------------------- checkpoint
    def _save_checkpoint(self, st, trace, best, elapsed, fp):
        path = Path(self.checkpoint)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        data = st.arrays("state_")
        for key, val in trace.to_dict().items():
            data["trace_" + key] = val
        data["fingerprint"] = np.asarray(fp)
        data["elapsed"] = np.asarray(float(elapsed))
        data["best_mse"] = np.asarray(float(best[0]))
        data["best_iter"] = np.asarray(int(best[1]))
        if best[2] is not None:
            for j, w in enumerate(best[2]):
                data[f"best_W{j}"] = w
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **data)
        tmp.replace(path)

    def _load_checkpoint(self, fp, N):
        path = Path(self.checkpoint)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        if not path.exists():
            raise ValueError(f"checkpoint: no checkpoint file at {str(path)!r} to resume from")
        with np.load(path, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fp:
                raise ValueError(f"checkpoint: {str(path)!r} was written for other data or settings "
                                 "(fingerprint mismatch); refusing to resume")
            st = ADMMState.from_arrays(z, N, "state_")
            tz = {k[len("trace_"):]: z[k] for k in z.files if k.startswith("trace_")}
            tr = Trace(n_layers=int(tz["n_layers"]), meta=json.loads(str(tz["meta_json"])))
            for name, val in tz.items():
                if name not in ("n_layers", "meta_json"):
                    setattr(tr, name, np.array(val))
            tr._len = len(tr.lagrangian)
            bw = [np.array(z[f"best_W{j}"]) for j in range(N)] if "best_W0" in z.files else None
            best = (float(z["best_mse"]), int(z["best_iter"]), bw)
            elapsed = float(z["elapsed"])
        return st, tr, best, elapsed


# ------------------------------------------------------------------ helpers
def _fingerprint(X, Y, w0, settings):
    h = hashlib.sha256()
    for a in [X, Y] + [x for pair in w0 for x in pair]:
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _row_finite(row):
    for key in ("lagrangian", "train_mse"):
        if key in row and not np.isfinite(row[key]):
            return False
    for key in ("feas", "normV", "normLam", "normW", "dV2"):
        if key in row and not np.all(np.isfinite(row[key])):
            return False
    return True


def _progress_bar(show, total, initial):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="ADMM", unit="it", mininterval=0.2)


class _StopFlag:
    """First Ctrl-C: finish the current iteration and stop cleanly; second: raise."""

    def __init__(self):
        self.requested = False

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def installed(self):
        flag = self

        class _Ctx:
            def __enter__(self):
                self.old = None
                if threading.current_thread() is threading.main_thread():
                    try:
                        self.old = signal.signal(signal.SIGINT, flag._handler)
                    except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                        self.old = None
                return flag

            def __exit__(self, *exc):
                if self.old is not None:
                    signal.signal(signal.SIGINT, self.old)
                return False

        return _Ctx()
