"""Constructive sigmoid nets with certified error bounds (paper section 2, Appendix A).

``theory`` knows nothing of training: it builds activations and explicit nets
(Lemma 2 square gate, Lemma 6 product gate, Theorem 3 ReLU-from-sigmoid net, and
the deep-ReLU constructions they are compared with) and certifies their error.

The package namespace is lazy (PEP 562): ``theory.certify`` or ``from theory import
square_gate`` imports the defining module on first access, so ``import theory.activations``
(what the solver needs) loads neither python-flint nor the certifier.

Modules, in dependency order (each imports only modules before it)::

    verdicts          Verdict: the verdict vocabulary of theory, verify and the reports
    _budget           time budgets (time_limit, deadline guard)
    _arb, enclosure   ball arithmetic; Taylor boxes, branch and bound, sup |f| / inf |f|
    activations       Activation, exact constants L_k (enclosure imported lazily)
    net               Net: exact weights, float64 / mpmath evaluation
    _args             argument validators (check_eps, check_M, ...)
    gates             Lemma 2, Lemma 6, Theorem 3 constructions
    relu_side         Lemma 1 (deep ReLU square), converse of Theorem 3
    _certify          certify(net) -> Certificate (private module: the public names are
                      theory.certify and theory.Certificate, as scipy's _minimize defines minimize)
    compare           compare_table, format_table
"""

from __future__ import annotations

import importlib

# public name -> defining submodule
_EXPORTS = {
    "Activation": "activations",
    "Bound": "activations",
    "BUILTINS": "activations",
    "get_activation": "activations",
    "sigmoid": "activations",
    "tanh": "activations",
    "gauss_cdf": "activations",
    "arctan_sigmoid": "activations",
    "relu": "activations", "leaky_relu": "activations",
    "Net": "net",
    "input_symbols": "net",
    "Float64PrecisionWarning": "net",
    "square_gate": "gates",
    "product_gate": "gates",
    "identity_gate": "gates",
    "step_gate": "gates",
    "step_constant": "gates",
    "relu_net": "gates",
    "yarotsky_square": "relu_side",
    "relu_lower_bound": "relu_side",
    "relu_size_needed": "relu_side",
    "LowerBound": "relu_side",
    "certify": "_certify",
    "Certificate": "_certify",
    "certified_sup_abs": "enclosure",
    "certified_inf_abs": "enclosure",
    "compare_table": "compare",
    "format_table": "compare",
    "CompareRow": "compare",
    "Verdict": "verdicts",
}

# submodules reachable as attributes (``theory.gates``) without importing them first
_SUBMODULES = ("_budget", "_arb", "enclosure", "activations", "net", "_args", "gates", "relu_side",
               "_certify", "compare", "verdicts")

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        if name in _SUBMODULES:
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
