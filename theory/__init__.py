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
]

