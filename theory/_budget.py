"""Time budgets for long symbolic and certification work (issue 14: always interruptible).

Long work in :mod:`theory` (sympy simplification and solving, the enclosure engine) runs in
pure Python between short C calls, so Ctrl-C (``KeyboardInterrupt``) is delivered within a
fraction of a second.  A *time limit* needs more: a single sympy call (``solveset``,
``simplify``) may run for minutes without returning to our code.  :func:`guard` makes the
Python-level work inside a block stop at a deadline: a global trace function (installed
only while a deadline is set and no debugger or coverage tool has one installed) checks the
clock on Python function calls and raises :class:`BudgetExpired`, a ``BaseException``, so
that sympy's many ``except Exception`` handlers do not swallow it.  Callers catch it at
their boundary and either fall back to cheaper work or raise a ``TimeoutError`` that names
the ``time_limit`` argument (:func:`timeout_error`).

This module imports nothing from :mod:`theory` and nothing heavy.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from contextlib import contextmanager

__all__ = ["BudgetExpired", "check_time_limit", "deadline_after", "cpu_deadline_after", "expired",
           "check", "guard", "timeout_error"]

_CHECK_EVERY = 64   # the trace function reads the clock on every 64th Python call
# frames where raising would only print "Exception ignored in ..." (finalizers, gc callbacks)
_NO_RAISE = frozenset({"__del__", "_remove", "remove", "callback", "_cb"})
# generator frames: one may be resumed by close() while a collected generator is finalized,
# where an exception is only printed ("Exception ignored in <generator ...>", issue 24)
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


class BudgetExpired(BaseException):
    """Internal: the deadline of a :func:`guard` block passed (converted at the public boundary)."""


def check_time_limit(time_limit, argname: str = "time_limit"):
    """``None`` or a positive finite number of seconds (as float); ``ValueError`` naming ``argname``."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) and \
            not hasattr(time_limit, "__float__"):
        raise ValueError(f"{argname}: expected a positive finite number of seconds or None, "
                         f"got {time_limit!r}")
    try:
        v = float(time_limit)
    except (TypeError, ValueError):
        raise ValueError(f"{argname}: expected a positive finite number of seconds or None, "
                         f"got {time_limit!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{argname}: expected a positive finite number of seconds or None, "
                         f"got {time_limit!r}")
    return v


def deadline_after(time_limit):
    """``time.perf_counter()`` value ``time_limit`` seconds from now (None: no deadline)."""
    return None if time_limit is None else time.perf_counter() + time_limit


def expired(deadline) -> bool:
    return deadline is not None and time.perf_counter() > deadline


def check(deadline) -> None:
    """Raise :class:`BudgetExpired` when ``deadline`` has passed (a step boundary)."""
    if expired(deadline):
        raise BudgetExpired


def cpu_deadline_after(seconds):
    """``time.process_time()`` value ``seconds`` of this process's CPU time from now: a budget
    that does not depend on the load of the machine (other processes), so the same call does
    the same work on a busy and an idle machine."""
    return None if seconds is None else time.process_time() + seconds


@contextmanager
def guard(deadline, cpu_deadline=None):
    """Stop the Python-level work inside the block at ``deadline`` (raises :class:`BudgetExpired`).

    No deadline: no cost.  When a trace function is already installed (a debugger, coverage),
    it is left alone and only the explicit :func:`check` calls of the block enforce the
    deadline.  A trace function that raises is removed by the interpreter, so the handlers
    that unwind the block run untraced.  ``cpu_deadline`` (a ``time.process_time()`` value,
    :func:`cpu_deadline_after`) is a second, load-independent deadline.

    Finalizers (``__del__``), generator frames and garbage-collector callbacks are never
    interrupted: an exception there may not propagate (Python prints "Exception ignored in ..." on stderr and
    the block would go on without its deadline); the next ordinary call raises instead.
    """
    check(deadline)
    if cpu_deadline is not None and time.process_time() > cpu_deadline:
        raise BudgetExpired
    if (deadline is None and cpu_deadline is None) or sys.gettrace() is not None:
        yield
        return
    count = 0
    wall = deadline if deadline is not None else math.inf
    cpu = cpu_deadline if cpu_deadline is not None else math.inf

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        if count % _CHECK_EVERY == 0 and (time.perf_counter() > wall or time.process_time() > cpu):
            code = frame.f_code
            if (code.co_flags & _GENERATOR_FLAGS or code.co_name in _NO_RAISE
                    or (frame.f_back is not None and frame.f_back.f_code.co_name in _NO_RAISE)):
                count -= 1   # try again on the next call
                return None
            raise BudgetExpired
        return None          # no line tracing: only calls are seen

    sys.settrace(tracer)
    try:
        yield
    finally:
        if sys.gettrace() is tracer:
            sys.settrace(None)


def timeout_error(what: str, time_limit: float, detail: str = "") -> TimeoutError:
    """A ``TimeoutError`` naming the ``time_limit`` argument and the knob to turn."""
    msg = f"time_limit: {what} did not finish within time_limit = {time_limit:g} s"
    if detail:
        msg += f" ({detail})"
    msg += f"; raise time_limit (e.g. time_limit={max(2 * time_limit, 1.0):g}) or pass None for no limit"
    return TimeoutError(msg)
