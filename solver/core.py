"""The run loop that every training method shares.

A method is three things (docs/solver.md, "Adding a method"):

* an **engine** (:class:`Engine`): builds the initial state from weights, performs one
  iteration in place on the state while filling a trace :class:`~solver.trace.Row`,
  evaluates the network, and says what its stopping criterion is;
* a **schema** (:class:`~solver.trace.Schema`): the fields its trace records;
* an **estimator** (:class:`solver.base.LiftedRegressor` subclass): its parameters and the
  engine it builds.

:func:`solve` is the loop (like scikit-learn's ``enet_path`` under ``ElasticNet``): the
initial point (or a checkpoint to resume from), the test error, the non-finite stop, the
best iterate, the stopping rule, checkpoints, the callback, Ctrl-C and the progress bar.
It returns a :class:`SolverResult` (a ``scipy.optimize.OptimizeResult``).
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import hashlib
import inspect
import json
import signal
import threading
import time
import warnings
from typing import Callable, NamedTuple, Protocol, runtime_checkable

import numpy as np
from scipy.optimize import OptimizeResult

from .checkpoint import (CheckpointInUseError, _check_checkpoint_activation, _load_checkpoint,
                         _save_checkpoint, checkpoint_lock, checkpoint_path)

__all__ = ["Engine", "State", "Status", "SolverResult", "Validation", "NonFiniteWarning", "solve",
           "fingerprint", "network_forward", "CheckpointInUseError", "checkpoint_path",
           "checkpoint_lock", "interrupts_raise"]

#: set by :func:`interrupts_raise`: a solve stopped by Ctrl-C raises instead of returning
_RAISE_ON_INTERRUPT = contextvars.ContextVar("solver_raise_on_interrupt", default=False)


@contextlib.contextmanager
def interrupts_raise():
    """Within this block a run stopped by Ctrl-C tells its caller: after it has finished the
    current iteration and saved its checkpoint (as always), :func:`solve` raises
    ``KeyboardInterrupt`` (carrying the status message, e.g. "interrupted (Ctrl-C) after
    iteration 350") instead of returning a result whose ``status`` is ``"interrupted"``.

    Outside it (the default, ``sigadmm train``, a notebook) the run returns normally and
    ``result.status`` / ``trace.meta["status"]`` say ``"interrupted"``.  For callers that run
    many solves and must stop as a whole: a sweep of trials (:func:`sigadmm.sweep.run_sweep`),
    whose runner would otherwise record the cut-short trial as finished and go on.
    """
    token = _RAISE_ON_INTERRUPT.set(True)
    try:
        yield
    finally:
        _RAISE_ON_INTERRUPT.reset(token)


class NonFiniteWarning(RuntimeWarning):
    """An iterate became NaN/inf; the run stopped at the last finite iterate."""


class Status(enum.StrEnum):
    """How a run ended (one spelling for every method's result)."""

    CONVERGED = "converged"          #: the stopping criterion fell to ``tol``
    EARLY_STOPPED = "early_stopped"  #: the validation score stopped rising (``Validation``)
    MAX_ITER = "max_iter"            #: ``max_iter`` iterations done
    CALLBACK = "callback"            #: the callback asked to stop
    INTERRUPTED = "interrupted"      #: Ctrl-C (SIGINT) or KeyboardInterrupt
    NON_FINITE = "non_finite"        #: an iterate became NaN/inf


class Validation(NamedTuple):
    """Early stopping on held-out data (scikit-learn's MLP rule; :func:`solve`).

    ``X``, ``Y``: the held-out rows (features x samples); ``score(out, Y)``: the score of the
    network output ``out`` (larger is better); the run stops once the score has not exceeded
    the best so far plus ``tol`` for more than ``n_iter_no_change`` iterations in a row.
    """

    X: np.ndarray
    Y: np.ndarray
    score: Callable
    n_iter_no_change: int
    tol: float


class SolverResult(OptimizeResult):
    """Outcome of a run (``scipy.optimize.OptimizeResult``: a dict with attribute access).

    Keys: ``success`` (bool, the criterion met ``tol``), ``status`` (:class:`Status`),
    ``message``, ``nit`` (iterations recorded, a resumed run's included), ``best_iter``
    (iteration of the smallest train MSE; 0 is the starting point), ``best_train_mse``,
    ``final_train_mse``, ``init_train_mse`` (at the initial point), ``x`` (the returned
    weights, bias in the last column: the best iterate with ``keep_best``, else the last),
    ``state`` (the engine's final state), ``trace`` (:class:`~solver.trace.Trace`), for
    traces that have one, ``kkt_total`` (final KKT residual), and with a :class:`Validation`
    ``best_validation_score`` and ``best_validation_iter`` (whose weights ``x`` then are).
    """


@runtime_checkable
class State(Protocol):
    """What the loop needs of an engine's iterate."""

    k: int                      #: iterations completed
    W: list                     #: the network weights ``W_i`` (bias in the last column)

    def arrays(self, prefix: str = "") -> dict:
        """All arrays of the state (and ``k``) for a checkpoint, keys prefixed."""


@runtime_checkable
class Engine(Protocol):
    """One training method's iteration (see the module docstring).

    ``X`` and ``Y`` are the training data in the features x samples layout.
    """

    name: str
    X: np.ndarray
    Y: np.ndarray

    def initial_state(self, weights) -> State:
        """The method's initial point from ``[(W_i, b_i)]`` (``W_i`` of shape ``(d_i, d_{i-1})``)."""

    def iterate(self, state: State, row, *, track: bool, train: bool) -> None:
        """One iteration on ``state`` in place (``state.k += 1``), filling ``row``.

        ``train``: fill ``row["train_mse"]``; ``track``: the expensive diagnostics.
        """

    def forward(self, W: list, X: np.ndarray) -> np.ndarray:
        """Network output for inputs ``X`` (features x samples) with weights ``W``."""

    def criterion(self, row, track: bool) -> float:
        """The stopping criterion of this iteration (stop when ``<= tol``)."""

    def state_from_arrays(self, z, prefix: str) -> State:
        """Inverse of ``State.arrays`` (checkpoint loading)."""


def network_layers(W, X, act):
    """Every layer of the float64 forward pass: ``[(Z_1, H_1), ..., (Z_N, H_N)]``.

    ``Z_i = W_i [H_{i-1}; 1]`` (bias kept apart: ``Wbar_i H_{i-1} + b_i``), ``H_i = sigma(Z_i)``
    for hidden layers and ``H_N = Z_N`` for the linear output; ``H_0 = X`` (features x samples).
    ``W_i`` has shape ``(d_i, d_{i-1} + 1)``, bias in the last column.  The solver's one
    forward pass: :func:`network_forward`, the initial point of paper eq. (7), ``predict``
    and the test error all use it.
    """
    out, H, N = [], X, len(W)
    for j in range(N):
        Z = W[j][:, :-1] @ H
        Z += W[j][:, -1:]
        H = act(Z) if j < N - 1 else Z
        out.append((Z, H))
    return out


def network_forward(W, X, act):
    """Network output ``W_N [A_{N-1}; 1]``, ``A_i = sigma(W_i [A_{i-1}; 1])``, ``A_0 = X`` (:func:`network_layers`)."""
    return network_layers(W, X, act)[-1][1]


def fingerprint(arrays, settings) -> str:
    """sha256 of the data, the initial weights and the settings: a checkpoint's identity."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


# ------------------------------------------------------------------ the loop
def solve(engine, w0, trace, *, max_iter, tol=0.0, track=True, keep_best=False, callback=None,
          verbose=0, checkpoint=None, checkpoint_every=50, resume=False, fingerprint=None,
          X_test=None, Y_test=None, desc=None, validation=None) -> SolverResult:
    """Run ``engine`` from ``w0`` (or from ``checkpoint`` with ``resume``) for ``max_iter`` iterations.

    Parameters
    ----------
    engine : Engine
    w0 : list of (W_i, b_i)
        The initial weights (validated by the caller).
    trace : Trace
        An empty trace of the engine's schema (its ``meta`` is the run's settings).
    max_iter : int
        Total iterations (a resumed run's included).
    tol : float
        Stop once ``engine.criterion(row, track) <= tol`` (0: never).
    track, keep_best : bool
        Passed to the engine; ``keep_best`` returns the iterate of smallest train MSE.
    callback : callable or None
        SciPy's convention: ``callback(intermediate_result)`` receives an
        ``OptimizeResult`` with ``nit``, ``fun`` (the row's Lagrangian or objective),
        ``row``, ``state`` and ``trace``; returning ``True`` or raising ``StopIteration``
        stops the run.  (A callback taking ``(k, state, trace)`` still works, with a
        ``DeprecationWarning``.)
    verbose : int
        ``>= 1``: a progress bar (iteration, train error, criterion).
    checkpoint : str, Path or None
        ``.npz`` file with the state, trace and best iterate, written every
        ``checkpoint_every`` iterations, at the end and on interruption.
    resume : bool
        Continue from ``checkpoint``; its ``fingerprint`` must match.
    X_test, Y_test : arrays (features x samples) or None
        Test data; its MSE is recorded every iteration.
    validation : Validation or None
        Early stopping: the held-out score of every iteration goes to the trace field
        ``val_score``; the run stops (status ``early_stopped``) once it has not exceeded
        its best by ``validation.tol`` for more than ``validation.n_iter_no_change``
        iterations in a row, and returns the weights of the best score (over iterations
        ``1..K``, as scikit-learn's MLP), whatever ``keep_best`` says.  Not resumable.
    """
    with checkpoint_lock(checkpoint):
        return _solve(engine, w0, trace, max_iter=max_iter, tol=tol, track=track,
                      keep_best=keep_best, cb=_wrap_callback(callback), verbose=verbose,
                      checkpoint=checkpoint, checkpoint_every=checkpoint_every, resume=resume,
                      fingerprint=fingerprint, X_test=X_test, Y_test=Y_test, desc=desc,
                      validation=validation)


def _solve(engine, w0, trace, *, max_iter, tol, track, keep_best, cb, verbose, checkpoint,
           checkpoint_every, resume, fingerprint, X_test, Y_test, desc, validation=None):
    """:func:`solve`'s body under the checkpoint lock: the starting point, the loop, how it
    stopped, the result."""
    init_mse, st, best, t_offset = _starting_point(engine, w0, trace, max_iter=max_iter,
                                                   resume=resume, checkpoint=checkpoint,
                                                   fingerprint=fingerprint)
    if validation is not None and resume:
        raise ValueError("resume: early stopping keeps its best validated weights in memory only; "
                         "expected resume=False")
    loop = _Loop(engine, trace, st, best, max_iter=max_iter, tol=tol, track=track,
                 need_train=bool(track or keep_best), cb=cb, checkpoint=checkpoint,
                 checkpoint_every=checkpoint_every, fingerprint=fingerprint, X_test=X_test,
                 Y_test=Y_test, validation=validation)
    stop = _StopFlag()
    loop.t0 = time.perf_counter() - t_offset
    bar = _progress_bar(verbose, int(max_iter), st.k, desc or engine.name)
    try:
        with stop.installed():
            while st.k < max_iter:
                if loop.iteration(bar, stop):
                    break
            if loop.status == Status.NON_FINITE:
                warnings.warn(loop.message, NonFiniteWarning, stacklevel=4)
    except KeyboardInterrupt:
        loop.status = Status.INTERRUPTED
        loop.message = f"interrupted (KeyboardInterrupt) after iteration {len(trace)}"
        if st.k != len(trace):
            st.k = len(trace)
            loop.message += "; state_ holds a partially updated iteration (weights_ are complete)"
    finally:
        if bar is not None:
            bar.close()
    if loop.status in (Status.INTERRUPTED, Status.CALLBACK):
        warnings.warn(loop.message, RuntimeWarning, stacklevel=4)
        loop.save_stopped_run()
        if loop.status == Status.INTERRUPTED and _RAISE_ON_INTERRUPT.get():
            raise KeyboardInterrupt(loop.message)  # the caller asked to be told (interrupts_raise)
    return loop.result(init_mse, keep_best)


def _starting_point(engine, w0, trace, *, max_iter, resume, checkpoint, fingerprint):
    """``(init_mse, state, best, t_offset)``: the engine's initial state at ``w0`` (paper
    eq. (7)'s initialisation), or the checkpoint's state, trace rows, best iterate and elapsed
    time with ``resume``.  ``best = (train MSE, iteration, weights)``; without resume the
    starting point competes as iteration 0."""
    W0 = [np.hstack([w, b[:, None]]) for w, b in w0]
    init_mse = float(np.mean((engine.forward(W0, engine.X) - engine.Y) ** 2))
    trace.meta["init_train_mse"] = init_mse
    st0 = engine.initial_state(w0)
    if hasattr(engine, "initial_record"):   # the first step is checked from it (verify); a
        # resumed run records it too (w0 is the checkpoint's own initial point: fingerprinted)
        trace.meta["initial"] = engine.initial_record(st0)
    if not resume:
        # the starting point competes for the best iterate (iteration 0): a run seeded with
        # good weights never returns worse ones under keep_best
        best = (init_mse, 0, [np.array(w) for w in W0]) if np.isfinite(init_mse) else (np.inf, 0, None)
        return init_mse, st0, best, 0.0
    st, trace_ck, best, t_offset = _load_checkpoint(checkpoint, fingerprint, engine, w0)
    _check_checkpoint_activation(trace_ck.meta or {}, trace.meta, checkpoint)
    if st.k > max_iter:
        raise ValueError(f"max_iter: the checkpoint {str(checkpoint_path(checkpoint))!r} already "
                         f"holds {st.k} iterations; expected max_iter >= {st.k} to resume it")
    for j in range(len(trace_ck)):
        trace.set_row(j, trace_ck.row(j))
    return init_mse, st, best, t_offset


class _Loop:
    """The run loop's state between iterations: how it stands (``status``, ``message``), the
    best train-MSE iterate ``best = (mse, k, W)``, the last finite weights, and the early
    stopping record ``val_best = (score, k, W)`` with its count of iterations without
    improvement."""

    def __init__(self, engine, trace, st, best, *, max_iter, tol, track, need_train, cb,
                 checkpoint, checkpoint_every, fingerprint, X_test, Y_test, validation):
        self.engine, self.trace, self.st, self.best = engine, trace, st, best
        self.max_iter, self.tol, self.track, self.need_train = max_iter, tol, track, need_train
        self.cb, self.checkpoint, self.checkpoint_every = cb, checkpoint, checkpoint_every
        self.fingerprint, self.X_test, self.Y_test = fingerprint, X_test, Y_test
        self.validation = validation
        self.guard = trace.schema
        self.status = Status.MAX_ITER
        self.message = f"maximum number of iterations ({max_iter}) reached"
        self.last_W = list(st.W)
        self.val_best, self.val_stale = (-np.inf, 0, None), 0
        self.t0 = 0.0

    def iteration(self, bar, stop) -> bool:
        """One iteration ``k -> k + 1``: the engine's step, its scores, the row kept (or the
        run stopped on a non-finite iterate), the best iterates, the checkpoint, and the
        stopping rules.  True when the run stops."""
        st = self.st
        row = self._engine_step()
        k = st.k
        self._record_scores(row)
        bad = row.non_finite()
        if bad:
            st.k -= 1
            self.status = Status.NON_FINITE
            self.message = (f"non-finite iterate at iteration {k} ({', '.join(bad)}; the penalty, "
                            f"the weight decay, the data or the initial scale may be too extreme); "
                            f"stopped, keeping the {k - 1} finite iterations in trace_ and weights_ "
                            f"(state_ holds the non-finite iterate)")
            return True
        self.trace.set_row(k - 1, row)
        self.last_W = list(st.W)
        self._update_best(row, k)
        crit = self.engine.criterion(row, bool(self.track))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(train=f"{row['train_mse']:.3g}", crit=f"{crit:.3g}", refresh=False)
        done = self.tol > 0 and crit <= self.tol
        if self.checkpoint is not None and (k % self.checkpoint_every == 0 or done
                                            or k == self.max_iter):
            _save_checkpoint(self.checkpoint, st, self.trace, self.best, row["time"],
                             self.fingerprint)
        return self._stopping_rule(done, crit, k, row, stop)

    def _engine_step(self):
        """The engine's update of every block; a linear system that lost positive
        definiteness (``LinAlgError``) counts as an iteration whose guard field is NaN."""
        st = self.st
        row = self.trace.new_row()
        try:
            self.engine.iterate(st, row, track=bool(self.track), train=self.need_train)
        except np.linalg.LinAlgError:  # a system lost positive definiteness: inf/nan entries
            st.k += 1
            row = self.trace.new_row()
            row[next(f.name for f in self.guard.fields if f.guard)] = np.nan
        return row

    def _record_scores(self, row):
        """The row's test MSE, validation score and elapsed time."""
        st, engine = self.st, self.engine
        if self.X_test is not None:
            row["test_mse"] = float(np.mean((engine.forward(st.W, self.X_test) - self.Y_test) ** 2))
        if self.validation is not None:
            v = self.validation
            row["val_score"] = float(v.score(engine.forward(st.W, v.X), v.Y))
        row["time"] = time.perf_counter() - self.t0

    def _update_best(self, row, k):
        """The smallest train MSE so far, and the early-stopping record (scikit-learn's MLP
        rule, ``_update_no_improvement_count``)."""
        if row["train_mse"] < self.best[0]:
            self.best = (row["train_mse"], k, list(self.st.W))
        if self.validation is not None:
            score = row["val_score"]
            self.val_stale = self.val_stale + 1 if score < self.val_best[0] + self.validation.tol else 0
            if score > self.val_best[0]:
                self.val_best = (score, k, [np.array(w) for w in self.st.W])

    def _stopping_rule(self, done, crit, k, row, stop) -> bool:
        """The stopping rules in order: the criterion at ``tol``, early stopping, the
        callback, Ctrl-C.  True (and the status set) when one fires."""
        if done:
            self.status = Status.CONVERGED
            self.message = f"converged: criterion {crit:.3g} <= tol {self.tol:g}"
            return True
        v = self.validation
        if v is not None and self.val_stale > v.n_iter_no_change:
            self.status = Status.EARLY_STOPPED
            self.message = (f"early stopping: the validation score did not rise by validation_tol "
                            f"{v.tol:g} for {self.val_stale} iterations; weights of iteration "
                            f"{self.val_best[1]} (score {self.val_best[0]:.6g})")
            return True
        if self.cb is not None and self.cb(k, self.st, self.trace, row):
            self.status = Status.CALLBACK
            self.message = f"stopped by callback at iteration {k}"
            return True
        if stop.requested:
            self.status = Status.INTERRUPTED
            self.message = f"interrupted (Ctrl-C) after iteration {k}"
            return True
        return False

    def save_stopped_run(self):
        """The checkpoint of a run stopped by the callback or Ctrl-C, unless its state holds a
        partially updated iteration."""
        st, trace = self.st, self.trace
        if self.checkpoint is not None and st.k == len(trace) and "partially" not in self.message:
            _save_checkpoint(self.checkpoint, st, trace, self.best,
                             trace.time[len(trace) - 1] if len(trace) else 0.0, self.fingerprint)

    def result(self, init_mse, keep_best) -> SolverResult:
        """The trace closed with the status, and the returned weights: the best early-stopping
        iterate with a validation set, else the best train-MSE one with ``keep_best``, else
        the last."""
        trace, best, val_best = self.trace, self.best, self.val_best
        trace.truncate()
        trace.meta.update({"status": str(self.status), "message": self.message,
                           "n_iter": len(trace), "best_iter": int(best[1])})
        n = len(trace)
        W_final = best[2] if (keep_best and best[2] is not None) else self.last_W
        if self.validation is not None and val_best[2] is not None:
            W_final = val_best[2]
            trace.meta.update({"best_validation_iter": int(val_best[1]),
                               "best_validation_score": float(val_best[0])})
        res = SolverResult(
            success=self.status == Status.CONVERGED, status=self.status, message=self.message,
            nit=n, best_iter=int(best[1]), best_train_mse=float(best[0]),
            final_train_mse=float(trace.train_mse[-1]) if n else float("nan"),
            init_train_mse=init_mse, x=[np.array(w) for w in W_final], state=self.st,
            trace=trace)
        if self.validation is not None:
            res.best_validation_score, res.best_validation_iter = float(val_best[0]), int(val_best[1])
        if "kkt_total" in trace.schema:
            res.kkt_total = float(trace.kkt_total[-1]) if n else float("nan")
        return res


def _wrap_callback(callback):
    """``cb(k, state, trace, row) -> stop?`` from a user callback (SciPy or legacy form)."""
    if callback is None:
        return None
    try:
        params = list(inspect.signature(callback).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    legacy = len(positional) == 3 and not (params and params[0].name == "intermediate_result")
    if legacy:
        warnings.warn("callback(k, state, trace) is deprecated; use SciPy's "
                      "callback(intermediate_result) (fields nit, fun, row, state, trace)",
                      DeprecationWarning, stacklevel=4)

    def cb(k, st, trace, row):
        try:
            if legacy:
                return bool(callback(k, st, trace))
            fun = next((row[f.name] for f in trace.schema.fields if f.shape == "run"), np.nan)
            return bool(callback(OptimizeResult(nit=k, fun=fun, row=row, state=st, trace=trace)))
        except StopIteration:
            return True

    return cb


def _progress_bar(verbose, total, initial, desc):
    if not verbose:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415 - import time: only a verbose run shows a bar

    return tqdm(total=total, initial=initial, desc=desc, unit="it", mininterval=0.2)


class _StopFlag:
    """First Ctrl-C: finish the current iteration and stop cleanly; second: raise."""

    def __init__(self):
        self.requested = False

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @contextlib.contextmanager
    def installed(self):
        old = None
        if threading.current_thread() is threading.main_thread():
            try:
                old = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                old = None
        try:
            yield self
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
