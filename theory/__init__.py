"""Constructive sigmoid nets with certified error bounds (paper section 2, Appendix A).

``theory`` knows nothing of training: it builds activations and explicit nets
(Lemma 2 square gate, Lemma 6 product gate, Theorem 3 ReLU-from-sigmoid net, and
the deep-ReLU constructions they are compared with) and certifies their error.
"""

from .activations import (
    BUILTINS,
    Activation,
    Bound,
    arctan_sigmoid,
    gauss_cdf,
    get_activation,
    relu,
    sigmoid,
    tanh,
)
from .certify import Certificate, certified_inf_abs, certified_sup_abs, certify
from .compare import CompareRow, compare_table, format_table
from .gates import identity_gate, product_gate, relu_net, square_gate, step_constant, step_gate
from .net import Net, input_symbols
from .relu_side import LowerBound, relu_lower_bound, relu_size_needed, yarotsky_square

__all__ = [
    "Activation",
    "Bound",
    "BUILTINS",
    "get_activation",
    "sigmoid",
    "tanh",
    "gauss_cdf",
    "arctan_sigmoid",
    "relu",
    "Net",
    "input_symbols",
    "square_gate",
    "product_gate",
    "identity_gate",
    "step_gate",
    "step_constant",
    "relu_net",
    "yarotsky_square",
    "relu_lower_bound",
    "relu_size_needed",
    "LowerBound",
    "certify",
    "Certificate",
    "certified_sup_abs",
    "certified_inf_abs",
    "compare_table",
    "format_table",
    "CompareRow",
]
