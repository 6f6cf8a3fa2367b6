"""Sigmoid versus ReLU constructions side by side, in the spirit of the paper's Table 1.

:func:`compare_table` builds every construction of :mod:`theory.gates` and
:mod:`theory.relu_side` at one accuracy, certifies each (:func:`theory.certify`), and
returns one row per construction: depth, neurons, free parameters, largest |parameter|,
certified error.  The last rows state the converse of Theorem 3: the width a ReLU net of a
given depth needs (at least) to approximate the sigmoid itself to ``eps``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ._arb import float_up, str_up
from ._args import ActivationLike, RealLike, check_eps, check_M
from .activations import get_activation, sigmoid
from ._certify import certify
from .gates import product_gate, relu_net, square_gate
from .relu_side import relu_lower_bound, relu_size_needed, yarotsky_square

__all__ = ["compare_table", "CompareRow", "format_table"]

_FLOAT_DIGITS = 20  # the proven bound is evaluated to this many digits, then rounded to float


@dataclass
class CompareRow:
    """One row of :func:`compare_table` (``None`` where a column does not apply)."""

    task: str
    construction: str
    activation: str
    depth: int | None
    neurons: int | None
    free_params: int | None
    max_abs_param: float | None
    proven_bound: float | None
    certified_error: float | None
    float64_error: float | None
    holds: bool | None
    note: str = ""
    nonzero_weights: int | None = None
    status: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _row(task, net, cert, note=""):
    # bounds leave Arb rounded up (an upper bound stays one as a float)
    return CompareRow(task, net.name, net.activation.name, net.depth, net.n_neurons,
                      net.n_free_params, net.max_abs_param,
                      None if net.proven_bound is None else float_up(net.proven_bound),
                      cert.upper_float, cert.float64_sup_error, cert.holds, note,
                      nonzero_weights=net.n_nonzero_weights, status=cert.status)


def compare_table(eps: RealLike = 1e-6, M: RealLike = 1, activation: ActivationLike = sigmoid,
                  relu_depths: tuple = (1, 2, 4), dps: int | None = None,
                  max_boxes: int | None = None) -> list:
    """Rows comparing sigmoid and ReLU constructions at accuracy ``eps`` on ``[-M, M]``.

    Every error in the table is certified (ball arithmetic); the last rows are certified
    *lower* bounds (:func:`theory.relu_lower_bound`): no ReLU net of that depth and a
    smaller width reaches ``eps`` on the sigmoid.
    """
    eps_r = check_eps(eps)
    M_r = check_M(M)
    act = get_activation(activation)
    rows = []
    for task, net in (
        ("x^2", square_gate(eps_r, M_r, act)),
        ("x^2", yarotsky_square(eps_r, M_r)),
        ("u*v", product_gate(eps_r, M_r, act, "paper")),
        ("u*v", product_gate(eps_r, M_r, act, "polarization")),
        ("relu(x)", relu_net(eps_r, M_r, act, "polarization")),
        ("relu(x)", relu_net(eps_r, M_r, act, "paper")),
    ):
        kw = {} if max_boxes is None else {"max_boxes": max_boxes}
        rows.append(_row(task, net, certify(net, dps=dps, **kw)))
    rows.append(CompareRow("relu(x)", "relu itself", "relu", 1, 1, 2, 1.0, 0.0, 0.0, 0.0, True,
                           "exact", nonzero_weights=1, status="certified"))
    rows.append(CompareRow(f"{act.name}(x)", f"{act.name} itself", act.name, 1, 1, 2, 1.0, 0.0, 0.0,
                           0.0, True, "exact; Theorem 3's converse below", nonzero_weights=1,
                           status="certified"))
    for L in relu_depths:
        W = relu_size_needed(eps_r, M_r, L, act)
        lb = relu_lower_bound(M_r, L, max(W - 1, 1), act, n_candidates=8)
        note = (f"width >= {W} needed: width {max(W - 1, 1)} errs >= {float(lb.value):.2e}"
                if W > 1 else "lower bound <= eps already at width 1")
        rows.append(CompareRow(f"{act.name}(x)", "any ReLU net", "relu", L, L * W, None, None, None,
                               None, None, None, note))
    return rows


def _up2(v: float) -> str:
    """``v`` with 3 significant digits, rounded up (printed bounds stay bounds)."""
    return str_up(v, 3)


def format_table(rows: list) -> str:
    """Plain-text table of :func:`compare_table` rows.

    Two parameter counts: ``free`` = symbolic free parameters (the construction written in its
    named parameters, ``Net.n_free_params``; for nets without a symbolic form, non-zero
    weights) and ``nonzero`` = non-zero weights and biases (``Net.n_nonzero_weights``, what an
    architecture count gives).  Bounds are rounded up ("%.2e" of the float above the bound,
    itself rounded up by :func:`_up2`)."""
    head = ["task", "construction", "act", "depth", "neurons", "free", "nonzero", "max|param|",
            "proven", "certified", "float64", "note"]

    def f(v, fmt="{:.2e}"):
        return "-" if v is None else (_up2(v) if isinstance(v, float) else str(v))

    body = [[r.task, r.construction, r.activation, f(r.depth), f(r.neurons), f(r.free_params),
             f(r.nonzero_weights), f(r.max_abs_param), f(r.proven_bound), f(r.certified_error), f(r.float64_error),
             r.note] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in body]
    return "\n".join(lines)
