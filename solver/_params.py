"""Declared estimator parameters, validated in one place (scikit-learn's mechanism)."""

from __future__ import annotations

__all__ = ["ParameterError"]


class ParameterError(ValueError):
    """A bad estimator parameter: ``param`` names it (the CLI maps it to its option), the
    message says ``"param: expected ..., got ..."``."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
