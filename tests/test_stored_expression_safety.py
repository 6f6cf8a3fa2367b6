"""A stored activation expression is data from a file: it is never evaluated as Python.

``sympy.sympify`` evaluates its input with ``eval``; a trace or checkpoint whose
``meta["activation_expr"]`` held ``__import__('os').system(...)`` ran that command when the trace
was checked (found by an independent review of issue 28).  ``theory.activations._parse_expr``
now admits numbers, arithmetic and a fixed list of sympy names only.
"""

import pytest

from theory.activations import BUILTINS, _parse_expr, activation_from_record, leaky_relu


@pytest.mark.parametrize("payload", [
    "__import__('os').system('touch {marker}') + tanh(t)",
    "t.__class__.__mro__",
    "exp(t)[0]",
    "eval('1') + t",
    "(lambda: 1)() * t",
    "t; import os",
    "getattr(t, 'func')",
    "open('{marker}', 'w') and t",
])
def test_code_in_a_stored_expression_is_refused_and_never_runs(tmp_path, payload):
    marker = tmp_path / "ran"
    with pytest.raises(ValueError, match="activation"):
        activation_from_record("mine", payload.format(marker=marker))
    assert not marker.exists()


@pytest.mark.parametrize("act", list(BUILTINS.values()) + [leaky_relu(0.1)], ids=lambda a: a.name)
def test_every_builtin_expression_still_reads_back(act):
    assert _parse_expr(str(act.expr)) == act.expr


def test_a_user_expression_reads_back():
    a = activation_from_record("steep", "1/(1 + exp(-4*t))")
    assert str(a.expr) == "1/(1 + exp(-4*t))"
