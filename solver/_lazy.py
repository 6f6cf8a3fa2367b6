"""Lazy package namespaces (PEP 562): a name is imported from its submodule on first access.

``solver`` and each method's package (``solver.admm``, ``solver.dladmm``, ...) export their
public names this way, so that importing one submodule (``solver.admm.steps`` from
``verify``, ``solver.admm.defaults`` from the command line's ``--help``) does not import the
estimator and with it scikit-learn and numba.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable

__all__ = ["lazy_namespace"]


def lazy_namespace(package: str, exports: dict[str, str],
                   submodules: tuple[str, ...] = ()) -> tuple[Callable, Callable]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``: ``exports`` maps a
    public name to the submodule (relative to ``package``) that defines it; ``submodules``
    are loaded as attributes on access.  A loaded name is cached in the package's namespace."""

    def __getattr__(name: str):
        if name in submodules:
            return importlib.import_module(f".{name}", package)
        if name in exports:
            value = getattr(importlib.import_module(f".{exports[name]}", package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports) | set(submodules))

    return __getattr__, __dir__
