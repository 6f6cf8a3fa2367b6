"""Explicit feed-forward nets with exact (sympy) parameters (paper eq. (1)).

A :class:`Net` is ``N(x) = W_N h_{N-1} + b_N`` with ``h_i = sigma(W_i h_{i-1} + b_i)``,
``h_0 = x``: ``N - 1`` hidden layers of the activation and a linear output layer,
exactly the solver's convention (paper eq. (1)).  Weights are stored exactly
(sympy numbers) and, for the constructions of :mod:`theory.gates`, also
symbolically in terms of the construction's named free parameters.

Free-parameter counting rule
----------------------------
``n_free_params`` is the number of distinct real parameters the weights and
biases are written in when the construction is stated symbolically, as the paper
counts them: a square gate is ``c [sigma(t0 + d x) + sigma(t0 - d x) - 2 sigma(t0)]``
with parameters ``(t0, d, c)``, i.e. 3 (Lemma 2); values such as ``sigma(t0)`` or
``sigma(+-oo)`` are functions of parameters or of the activation and are not
counted, and structural constants (0, +-1, small integers) are not parameters.
For nets without a symbolic form (generic nets, the deep-ReLU nets), every
non-zero weight and bias counts, the usual count for an architecture.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from .activations import Activation, get_activation


__all__ = ["Net", "input_symbols", "Float64PrecisionWarning", "as_rational"]

_FLOAT_DIGITS = 20           # exact numbers are evaluated to this many digits, then rounded to float64
DEFAULT_EVAL_DPS = 50        # Net.evaluate's default precision, decimal digits
_EVAL_GUARD_DIGITS = 10      # Net.evaluate works at dps + this ...
_WEIGHT_GUARD_DIGITS = 15    # ... with the weights evaluated to dps + this digits
_MAX_ABS_DIGITS = 30         # max_abs_param / max_abs_weight: digits before rounding to float
_U64 = 2.0 ** -53            # unit roundoff of float64
_ACT_GRID = np.linspace(-50.0, 50.0, 1001)   # rough sizes of |sigma| and |sigma'| (estimate only)


def as_rational(value, argname: str) -> sp.Expr:
    """A finite real number as an exact sympy number, without rounding (issue 24).

    ``int``, ``Fraction``, ``Decimal``, sympy ``Rational`` and any object with an exact
    ``as_integer_ratio`` (numpy floats, ``numbers.Rational``) are taken exactly; a ``float``,
    a sympy ``Float`` and an ``mpmath.mpf`` at their exact binary value (``0.1`` is
    ``3602879701896397/36028797018963968``, the number the program computes with, not the
    decimal it prints); a string as the decimal it spells (``"1e-6"`` is ``1/10**6``); other
    finite real sympy constants (``sqrt(2)/10``) stay symbolic.  Anything else (NaN, inf,
    complex, bool, non-numbers) raises ``ValueError`` naming ``argname``.
    """
    bad = ValueError(f"{argname}: expected a finite real number (int, float, Fraction, Decimal, "
                     f"sympy number or decimal string), got {value!r}")
    if isinstance(value, bool) or isinstance(value, np.bool_):
        raise bad
    if isinstance(value, sp.Basic):
        if not value.is_number or not value.is_real or not value.is_finite:
            raise ValueError(f"{argname}: expected a finite real number, got {value}")
        return sp.Rational(value) if value.is_Float else value
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise bad
        man, exp = value.man_exp               # mpmath's mantissa is unsigned: the sign apart
        return sp.Rational(-int(man) if value < 0 else int(man)) * sp.Rational(2) ** int(exp)
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise bad from None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise bad
        q = Fraction(value)
        return sp.Rational(q.numerator, q.denominator)
    if isinstance(value, (float, np.floating)) or hasattr(value, "as_integer_ratio"):
        try:
            if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
                raise bad
            num, den = value.as_integer_ratio()
        except (TypeError, ValueError, OverflowError, AttributeError):
            raise bad from None
        return sp.Rational(int(num), int(den))
    raise bad


class Float64PrecisionWarning(UserWarning):
    """A net evaluated in float64 whose rounding error cannot resolve its accuracy ``eps``.

    Issued by :meth:`Net.__call__` when :attr:`Net.float64_error_estimate` (an a-priori
    estimate of the float64 rounding error, ``u * sum |terms|`` propagated layer by layer)
    exceeds the net's ``eps``: the float64 values are then dominated by cancellation (e.g.
    ``square_gate(1e-30, 1)(0.5)`` is 0.0, not 0.25).  Use :meth:`Net.evaluate` (mpmath) or
    :func:`theory.certify` for the exact net.
    """


def _unevaluated_activation(act, z):
    """``sigma(z)`` as a sympy tree without automatic evaluation (deep nets: no assumption
    queries on exponentially large arguments)."""
    with sp.evaluate(False):
        return act.expr.xreplace({act.symbol: z})


def input_symbols(dim: int) -> tuple:
    """The input variables of a net: ``(x,)`` in 1-D, ``(u, v)`` in 2-D, else ``x0, x1, ...``."""
    if dim == 1:
        return (sp.Symbol("x", real=True),)
    if dim == 2:
        return (sp.Symbol("u", real=True), sp.Symbol("v", real=True))
    return tuple(sp.Symbol(f"x{i}", real=True) for i in range(dim))


@dataclass(eq=False)
class Net:
    """A feed-forward net with exact weights (hidden layers: ``activation``; output: linear).

    Parameters
    ----------
    layers_exact : list of (sympy.Matrix, sympy.Matrix)
        ``[(W_1, b_1), ..., (W_N, b_N)]``; ``W_i`` is ``d_i x d_{i-1}``, ``b_i`` is ``d_i x 1``.
    activation : Activation or str
    name : str
        Which construction this is (e.g. ``"square_gate"``).
    params : dict[str, (sympy.Symbol, sympy.Expr)], optional
        The construction's free parameters: symbol and exact value.
    symbolic_layers : list of (Matrix, Matrix), optional
        The same layers written in the parameter symbols; substituting the values
        gives ``layers_exact``.
    proven_bound : sympy.Expr, optional
        Error bound the construction guarantees on its domain (exact, or a
        certified rational upper bound), ``<= eps``.
    eps, M : numbers, optional
        Requested accuracy and the half-width of the domain ``[-M, M]^dim``.
    target : sympy.Expr, optional
        The function approximated, in :func:`input_symbols` of the input dimension.
    reference : str
        Lemma / equation of the paper the construction implements.
    info : dict
        Construction-specific derived quantities (for display).
    """

    layers_exact: list
    activation: Activation
    name: str = "net"
    params: dict = field(default_factory=dict)
    symbolic_layers: list | None = None
    proven_bound: sp.Expr | None = None
    eps: sp.Expr | None = None
    M: sp.Expr | None = None
    target: sp.Expr | None = None
    reference: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.activation = get_activation(self.activation, "activation")
        layers = []
        prev = None
        for i, (W, b) in enumerate(self.layers_exact):
            # immutable: a proven bound belongs to these exact weights; changing a weight in place
            # would leave a stale bound behind (transformations build a new Net instead)
            W = sp.ImmutableMatrix(W)
            b = sp.ImmutableMatrix(b)
            if b.shape[1] != 1:
                b = b.reshape(len(b), 1)
            if W.shape[0] != b.shape[0]:
                raise ValueError(f"layers_exact: layer {i + 1} has W of shape {W.shape} "
                                 f"but b of length {b.shape[0]}")
            if prev is not None and W.shape[1] != prev:
                raise ValueError(f"layers_exact: layer {i + 1} expects input width {W.shape[1]}, "
                                 f"previous layer has width {prev}")
            prev = W.shape[0]
            layers.append((W, b))
        if not layers:
            raise ValueError("layers_exact: expected at least one (W, b) layer")
        self.layers_exact = tuple(layers)
        if self.symbolic_layers is not None:
            self.symbolic_layers = tuple((sp.ImmutableMatrix(W), sp.ImmutableMatrix(b))
                                         for W, b in self.symbolic_layers)
        self._float_cache = None
        self._f64_estimate = None

    # ------------------------------------------------------------- structure
    @property
    def input_dim(self) -> int:
        return self.layers_exact[0][0].shape[1]

    @property
    def output_dim(self) -> int:
        return self.layers_exact[-1][0].shape[0]

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.layers_exact) - 1

    @property
    def widths(self) -> list:
        """Hidden-layer widths ``[d_1, ..., d_{N-1}]``."""
        return [W.shape[0] for W, _ in self.layers_exact[:-1]]

    @property
    def n_neurons(self) -> int:
        return sum(self.widths)

    @property
    def symbols(self) -> tuple:
        return input_symbols(self.input_dim)

    @property
    def n_free_params(self) -> int:
        """Free parameters (module docstring: counting rule)."""
        if self.symbolic_layers is not None:
            syms = set()
            for W, b in self.symbolic_layers:
                syms |= W.free_symbols | b.free_symbols
            return len(syms)
        return sum(sum(1 for w in list(W) + list(b) if w != 0) for W, b in self.layers_exact)

    @property
    def n_nonzero_weights(self) -> int:
        """Non-zero entries of all ``W_i`` and ``b_i`` (the architecture's weight count; the
        paper's "free parameters" of Theorem 3 count these: docs/theory.md)."""
        return sum(sum(1 for w in list(W) + list(b) if w != 0) for W, b in self.layers_exact)

    @property
    def max_abs_param(self) -> float:
        """Largest |free parameter| (the paper's "parameters bounded by ...").

        For nets without named parameters: the largest |weight or bias|.
        """
        if self.params:
            return max(float(abs(sp.N(v, _MAX_ABS_DIGITS))) for _, v in self.params.values())
        return self.max_abs_weight

    @property
    def max_abs_weight(self) -> float:
        """Largest |entry| of any W_i or b_i (what a trainer would have to reach)."""
        return max(float(abs(sp.N(w, _MAX_ABS_DIGITS)))
                   for W, b in self.layers_exact for w in list(W) + list(b))

    # ---------------------------------------------------------- evaluation
    def layers(self) -> list:
        """Float64 ``[(W_1, b_1), ..., (W_N, b_N)]`` (``W_i``: ``(d_i, d_{i-1})``, ``b_i``: ``(d_i,)``).

        The solver's ``init_weights`` format: hidden layers apply the activation,
        the last one is linear.
        """
        if self._float_cache is None:
            out = []
            for W, b in self.layers_exact:
                Wf = np.array([[float(sp.N(w, _FLOAT_DIGITS)) for w in W.row(i)] for i in range(W.shape[0])],
                              dtype=np.float64).reshape(W.shape)
                bf = np.array([float(sp.N(v, _FLOAT_DIGITS)) for v in b], dtype=np.float64)
                out.append((Wf, bf))
            self._float_cache = out
        return [(W.copy(), b.copy()) for W, b in self._float_cache]

    def _check_x(self, x) -> tuple:
        x = np.asarray(x, dtype=np.float64)
        d = self.input_dim
        if x.ndim == 0:
            x = x.reshape(1)
        if x.ndim == 1:
            if d == 1:
                return x.reshape(-1, 1), True
            if x.shape[0] == d:
                return x.reshape(1, d), False
        if x.ndim == 2 and x.shape[1] == d:
            return x, False
        raise ValueError(f"x: expected an array of shape (n,) or (n, {d}) for a net with "
                         f"{d}-dimensional input, got shape {x.shape}")

    @property
    def float64_error_estimate(self) -> float:
        """A-priori estimate of the float64 rounding error of :meth:`__call__` on ``[-M, M]^d``.

        Cancellation estimate, not a bound: each layer's sum ``z = W h + b`` loses
        ``u * (|W| |h| + |b|)`` (``u = 2^-53``, the sum of the magnitudes of its terms) and
        passes the error of ``h`` on through ``|W|``; a hidden layer multiplies both by
        ``max |sigma'|`` (a unit with a single term and no bias rounds relatively, which moves
        ``sigma`` by at most ``u max |z sigma'(z)|``) and adds ``u max |sigma|`` (sizes of
        ``sigma``, ``sigma'`` sampled on ``[-50, 50]``; relu: ``|sigma(z)| <= |z|``).  Inputs have magnitude ``M`` (1 when the
        net has no domain).  Computed once per net from the float64 weights (cheap: no
        symbolic work).  :meth:`__call__` warns (:class:`Float64PrecisionWarning`) when it
        exceeds ``eps``.  ``theory.certify`` measures the actual float64 error on a grid.
        """
        if self._f64_estimate is None:
            self._f64_estimate = self._estimate_float64_error()
        return self._f64_estimate

    def _estimate_float64_error(self) -> float:
        layers = self.layers()
        relu = self.activation.name == "relu"
        s0 = s1 = s01 = 1.0
        if not relu:
            with np.errstate(all="ignore"):
                a0 = np.abs(self.activation(_ACT_GRID))
                a1 = np.abs(self.activation.d1(_ACT_GRID))
            ok = np.isfinite(a0) & np.isfinite(a1)
            if ok.any():
                s0 = float(a0[ok].max())                          # max |sigma|
                s1 = float(a1[ok].max())                          # max |sigma'|
                s01 = float(np.max(np.abs(_ACT_GRID[ok]) * a1[ok]))  # max |z sigma'(z)|
        try:
            m = abs(float(self.M)) if self.M is not None else 1.0
        except (TypeError, ValueError):
            m = 1.0
        mag = np.full(self.input_dim, m if math.isfinite(m) else 1.0)
        err = np.zeros(self.input_dim)
        with np.errstate(all="ignore"):
            for li, (W, b) in enumerate(layers):
                A = np.abs(W)
                zmag = A @ mag + np.abs(b)
                if li == len(layers) - 1:
                    err = _U64 * zmag + A @ err
                    break
                # rounding of z = W h + b: u * (sum of |terms|).  A row with one term and no
                # bias cannot cancel: its rounding is relative, u |z|, and moves sigma(z) by at
                # most u max |z sigma'(z)| (a wide step unit K x is harmless); a row that can
                # cancel may round by u * zmag where sigma' is largest.
                single = (np.count_nonzero(W, axis=1) + (b != 0)) <= 1
                if relu:
                    rnd = _U64 * zmag
                else:
                    rnd = np.where(single, _U64 * s01, _U64 * s1 * zmag)
                err = rnd + s1 * (A @ err) + _U64 * (zmag if relu else s0)
                mag = zmag if relu else np.full(zmag.shape, s0)
        est = float(np.max(err)) if err.size else 0.0
        return est if math.isfinite(est) else math.inf

    def _check_float64_precision(self) -> None:
        if self.eps is None:
            return
        try:
            eps = float(self.eps)
        except (TypeError, ValueError):
            return
        est = self.float64_error_estimate
        if est > eps:
            warnings.warn(
                f"float64 evaluation of {self.name!r} (eps = {eps:.3g}) has an estimated "
                f"rounding error of about {est:.2g} > eps (cancellation: unit roundoff 1.1e-16 "
                f"times the sum of the terms' magnitudes): its float64 values cannot resolve "
                f"eps. Use Net.evaluate(x, dps) (mpmath) or theory.certify(net) for the exact net.",
                Float64PrecisionWarning, stacklevel=3)

    def __call__(self, x) -> np.ndarray:
        """Float64 evaluation, vectorised; ``x`` of shape ``(n,)`` or ``(n, d)``.

        Returns shape ``(n,)`` for scalar-output nets, else ``(n, d_out)``.  Warns
        (:class:`Float64PrecisionWarning`) when the net has an ``eps`` below its
        :attr:`float64_error_estimate`: float64 cannot resolve the accuracy the net was
        built for (use :meth:`evaluate` instead).
        """
        X, _ = self._check_x(x)
        self._check_float64_precision()
        return self._forward_float64(X)

    def _forward_float64(self, X) -> np.ndarray:
        """Float64 forward pass of a checked ``(n, d)`` array (no precision warning)."""
        h = X
        layers = self.layers()
        for W, b in layers[:-1]:
            h = self.activation(h @ W.T + b)
        W, b = layers[-1]
        out = h @ W.T + b
        return out[:, 0] if out.shape[1] == 1 else out

    def _exact_points(self, x) -> list:
        """Rows of exact inputs (sympy numbers) from floats, ints, Fractions, decimal strings,
        mpf or sympy numbers, never through float64 (a string "0.1" is 1/10 exactly)."""
        arr = np.asarray(x, dtype=object)
        d = self.input_dim
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1) if d == 1 else (arr.reshape(1, d) if arr.shape[0] == d else arr)
        if arr.ndim != 2 or arr.shape[1] != d:
            raise ValueError(f"x: expected an array of shape (n,) or (n, {d}) for a net with "
                             f"{d}-dimensional input, got shape {arr.shape}")

        def exact(v):
            if isinstance(v, mpmath.mpf):
                man, exp = v.man_exp           # unsigned mantissa: the sign apart
                return sp.Integer(-int(man) if v < 0 else int(man)) * sp.Integer(2) ** int(exp)
            if isinstance(v, (float, np.floating)):
                return sp.Rational(float(v))          # the float's exact binary value
            if isinstance(v, np.integer):
                return sp.Integer(int(v))
            try:
                r = sp.Rational(v) if isinstance(v, (str, int)) else sp.sympify(v)
            except (TypeError, ValueError, sp.SympifyError):
                raise ValueError(f"x: expected real numbers, got {v!r}") from None
            if not (r.is_real and r.is_finite):
                raise ValueError(f"x: expected finite real numbers, got {v!r}")
            return r

        return [[exact(v) for v in row] for row in arr]

    def evaluate(self, x: object, dps: int = DEFAULT_EVAL_DPS) -> list:
        """Evaluate in mpmath at ``dps`` digits; returns a list of mpf (or lists for vector output).

        ``x`` is never rounded to float64: decimal strings (``"0.1"``), Fractions, sympy
        numbers and mpf are taken exactly (a float is its exact binary value).
        """
        X = self._exact_points(x)
        f = self.activation.mp(0)
        with mpmath.workdps(dps + _EVAL_GUARD_DIGITS):
            wd = dps + _WEIGHT_GUARD_DIGITS
            layers = [([[mpmath.mpf(sp.N(w, wd)) for w in W.row(i)] for i in range(W.shape[0])],
                       [mpmath.mpf(sp.N(v, wd)) for v in b]) for W, b in self.layers_exact]
            res = []
            for row in X:
                h = [mpmath.mpf(sp.N(v, wd)) for v in row]
                for li, (W, b) in enumerate(layers):
                    z = [mpmath.fsum(wi * hi for wi, hi in zip(Wr, h)) + bi for Wr, bi in zip(W, b)]
                    h = z if li == len(layers) - 1 else [f(zi) for zi in z]
                res.append(h[0] if len(h) == 1 else h)
        with mpmath.workdps(dps):
            return [+r if not isinstance(r, list) else [+v for v in r] for r in res]

    def to_sympy(self, shared: bool = False):
        """The net as sympy: one expression in :func:`input_symbols` (scalar output), or with
        ``shared=True`` the pair ``(definitions, output)``: ``definitions`` a list of
        ``(h_l_i, expression)`` for every hidden unit in order (each in the inputs and earlier
        units), ``output`` in the last layer's units.  The shared form is linear in the net's
        size (Yarotsky's depth-10 net in well under a second); substituting the definitions back
        in order gives the single expression, whose tree can grow exponentially with depth.
        The single expression is built without sympy's automatic simplification of each unit
        (``Max(0, .)`` would query assumptions on every subtree)."""
        act = self.activation
        h = list(self.symbols)
        defs = []
        for li, (W, b) in enumerate(self.layers_exact):
            with sp.evaluate(not shared and self.depth <= 3):
                z = [sp.Add(*[W[i, j] * h[j] for j in range(W.shape[1]) if W[i, j] != 0], b[i])
                     for i in range(W.shape[0])]
            if li == self.depth:
                h = z
                break
            units = [act.expr.xreplace({act.symbol: zi}) for zi in z] if self.depth <= 3 else \
                [_unevaluated_activation(act, zi) for zi in z]
            if shared:
                syms = [sp.Symbol(f"h_{li + 1}_{i}", real=True) for i in range(len(units))]
                defs += list(zip(syms, units))
                h = syms
            else:
                h = units
        out = h[0] if len(h) == 1 else sp.Matrix(h)
        return (defs, out) if shared else out

    # ---------------------------------------------------------- variations
    def with_output_scaled(self, factor: int | float | str | Decimal | Fraction | sp.Basic, include_bias: bool = True) -> "Net":
        """A copy whose output layer (``W_N`` and, by default, ``b_N``) is multiplied by ``factor``.

        Used by mutation tests: ``N -> (1 + delta) N`` must break a certificate when
        ``delta |N| > eps``.  The free-parameter count is unchanged (the factor is a number).
        The construction's ``proven_bound`` does not carry over (it is dropped: ``None``;
        :func:`theory.certify` decides the new net from scratch), and ``info`` records the
        transformation.  ``factor`` is read exactly (:func:`as_rational`): ``"1.00002"``,
        ``Decimal`` and ``Fraction`` as the rationals they spell, a float at its exact binary
        value, a sympy constant as it is.
        """
        # exact (issue 24): "1.00002", Decimal and Fraction are the numbers they spell, a float
        # its exact binary value (never a 15-digit sympy Float, never the float's repr)
        factor = as_rational(factor, "factor")

        def scale(layers):
            if layers is None:
                return None
            layers = list(layers)
            W, b = layers[-1]
            layers[-1] = (W * factor, b * factor if include_bias else b)
            return layers

        if not (factor.is_number and factor.is_finite and factor.is_real):
            raise ValueError(f"factor: expected a finite real number, got {factor}")
        return dataclasses.replace(self, layers_exact=scale(self.layers_exact),
                                   symbolic_layers=scale(self.symbolic_layers),
                                   name=self.name + f"*{factor}", proven_bound=None,
                                   info={**self.info, "transformed": f"output scaled by {factor}",
                                         "proven_bound_before": self.proven_bound})

    def summary(self) -> dict:
        return {
            "name": self.name,
            "activation": self.activation.name,
            "depth": self.depth,
            "widths": self.widths,
            "n_free_params": self.n_free_params,
            "max_abs_param": self.max_abs_param,
            "max_abs_weight": self.max_abs_weight,
            "proven_bound": (None if self.proven_bound is None
                             else float(sp.N(self.proven_bound, _FLOAT_DIGITS))),
            "eps": None if self.eps is None else float(self.eps),
            "M": None if self.M is None else float(self.M),
        }

    def __repr__(self) -> str:
        return (f"Net({self.name!r}, activation={self.activation.name!r}, depth={self.depth}, "
                f"widths={self.widths}, n_free_params={self.n_free_params})")
