"""The solver's training methods, one registration each: name -> estimator, trace schema, engine.

Everything that lists the methods is derived from :data:`METHODS`: the names ``solver``
exports (``solver.DLADMM``, ...), the trace schemas :meth:`solver.Trace.load` knows in a
fresh process, the ``--method`` choices of ``sigadmm train`` and ``sigadmm compare``,
:data:`sigadmm.peers.METHODS` and :func:`verify.claims_table` (method -> its claims' checks).

A registration names *where* things are (a module and attribute names), not the objects: this
module imports nothing, so reading the registry (``sigadmm --help``) costs no scikit-learn,
numba or sympy import; the method's module is imported when its estimator, schema or engine
is first asked for.  Adding a method (docs/solver.md, "Adding a method") is its own package
(a folder built as ``solver/admm/``: estimator, engine, steps, kernels, schema, and an
``__init__`` that exports their public names) plus one :func:`register_method` call, either
in :data:`BUILTIN` below (a method of the solver) or in the method's own package (a method
outside it, as ``tests/lifted_gd/``).
"""

from __future__ import annotations

import importlib
from collections import namedtuple

__all__ = ["Method", "METHODS", "register_method", "get_method", "method_names"]


class Method(namedtuple("Method", "name module estimators schema engine exports title", defaults=((), ""))):
    """One registered method (an immutable record: a named tuple, so that reading the
    registry imports nothing, not even ``dataclasses``).

    ``name``: its id (the trace schema's name, the CLI's ``--method`` value); ``module``: the
    importable module or package that defines or exports ``estimators`` (class names; the first is the method's
    estimator, others variants such as a classifier), ``schema`` (the name of its
    :class:`solver.trace.Schema`) and ``engine`` (the name of its :class:`solver.core.Engine`
    class); ``exports``: the module's names that ``solver`` re-exports (empty: the
    estimators and the schema); ``title``: a short human name.
    """

    __slots__ = ()

    def __new__(cls, name, module, estimators, schema, engine, exports=(), title=""):
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"name: expected an identifier (the trace schema's name), got {name!r}")
        if isinstance(estimators, str) or not estimators:
            raise ValueError(f"estimators: expected a non-empty tuple of class names, got {estimators!r}")
        estimators = tuple(estimators)
        return super().__new__(cls, name, module, estimators, schema, engine,
                               tuple(exports) or estimators + (schema,), title)

    def load(self):
        """The method's module (imported on first use)."""
        return importlib.import_module(self.module)

    def estimator_class(self, which: str | None = None) -> type:
        """The estimator class (the first of ``estimators``, or the one named ``which``)."""
        name = self.estimators[0] if which is None else which
        if name not in self.estimators:
            raise ValueError(f"which: expected one of {list(self.estimators)}, got {which!r}")
        return getattr(self.load(), name)

    def trace_schema(self):
        """The method's :class:`solver.trace.Schema`."""
        return getattr(self.load(), self.schema)

    def engine_class(self) -> type:
        """The method's engine class (what :func:`solver.core.solve` drives)."""
        return getattr(self.load(), self.engine)


#: name -> :class:`Method`, in registration order (the solver's own methods first)
METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add ``method`` to :data:`METHODS`; registering the same entry again is a no-op, another
    entry under a registered name is a ``ValueError``."""
    if not isinstance(method, Method):
        raise TypeError(f"method: expected a solver.registry.Method, got {type(method).__name__}")
    old = METHODS.get(method.name)
    if old is not None and old != method:
        raise ValueError(f"method: a different method named {method.name!r} is already registered "
                         f"(module {old.module!r})")
    METHODS[method.name] = method
    return method


def get_method(name) -> Method:
    """The registered method ``name`` (a ``ValueError`` listing the names otherwise)."""
    if isinstance(name, Method):
        return name
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ValueError(f"method: unknown method {name!r}; expected one of {', '.join(METHODS)}") from None


def method_names() -> tuple:
    """The registered method names, in registration order."""
    return tuple(METHODS)


#: the solver's own methods (one line each)
BUILTIN = (
    Method("admm", "solver.admm", ("ADMM",), "ADMM_SCHEMA", "FastEngine",
           exports=("ADMM", "ADMMResult", "ENGINES", "ADMM_SCHEMA", "ADMMState"), title="sigmoid ADMM"),
    Method("dladmm", "solver.dladmm", ("DLADMM", "DLADMMClassifier"), "DLADMM_SCHEMA", "DLADMMEngine",
           title="dlADMM"),
    Method("lifted_bcd", "solver.lifted_bcd", ("LiftedBCD",), "LIFTED_BCD_SCHEMA", "LiftedBCDEngine",
           title="lifted-ReLU BCD"),
    Method("inexact_alm", "solver.inexact_alm", ("InexactALM",), "INEXACT_ALM_SCHEMA", "InexactALMEngine",
           title="inexact ALM (sparse leaky ReLU)"),
)
for _m in BUILTIN:
    register_method(_m)
del _m
