"""Constructive sigmoid nets: Lemma 2, Lemma 6 and Theorem 3 of the paper (Appendix A; docs/theory.md).

Every construction returns a :class:`theory.net.Net` whose weights are exact sympy
numbers, written symbolically in the construction's free parameters, together
with the error bound the lemma guarantees (``proven_bound <= eps``).

* :func:`square_gate`  -- Lemma 2, ``x^2`` on ``[-M, M]``, one hidden layer, 3 parameters;
* :func:`product_gate` -- Lemma 6, ``u v`` on ``[-M, M]^2``, one hidden layer
  (paper variant: 3 square gates, 9 parameters; polarisation: 2 square gates sharing
  3 parameters, 4 neurons);
* :func:`identity_gate`, :func:`step_gate` -- the two first-layer pieces of Theorem 3;
* :func:`relu_net` -- Theorem 3, ``relu`` on ``[-M, M]``, two hidden layers, <= 27 parameters.

The scale ``d`` of each gate is rounded *down* to 3 significant digits, so the
parameters are short exact rationals and the proven bound only improves.

The argument validators live in :mod:`theory._args`; :func:`check_eps` and :func:`check_M`
are re-exported here.
"""

from __future__ import annotations

import functools
import math

import mpmath
import sympy as sp

from . import _budget
from ._args import ActivationLike, RealLike, check_eps, check_M, check_step_const, gate_args
from .activations import Activation, _closed_form, get_activation, sigmoid
from .enclosure import certified_sup_half_line
from .net import Net, input_symbols

__all__ = [
    "square_gate",
    "product_gate",
    "identity_gate",
    "step_gate",
    "relu_net",
    "step_constant",
    "check_eps",
    "check_M",
]


# Exact parameters: each gate's scale keeps _SCALE_DIGITS significant digits (rounded down),
# evaluated at _PARAM_DPS digits and shaved by 10^-_ROUND_GUARD_DIGITS before the floor.
_SCALE_DIGITS = 3
_PARAM_DPS = 40
_ROUND_GUARD_DIGITS = 30
# Exact comparisons a <= b of constants are decided at _COMPARE_DPS digits with a relative
# safety gap of 10^-_COMPARE_GAP_DIGITS.
_COMPARE_DPS = 60
_COMPARE_GAP_DIGITS = 50
# A bound without closed form enters the proven bound as a rational upper end with this
# denominator (15 decimals).
_UPPER_DENOMINATOR = 10 ** 15
# |sigma''(t0)| below this is treated as zero (no square gate at t0).
_TINY_CURVATURE = 1e-300
# An argmax given as a float is rationalised to this tolerance.
_POINT_TOLERANCE = 1e-12
# Theorem 3's step scale K = C_sigma / eps (evaluated at _K_DPS digits) is rounded up to a
# multiple of 1/_K_DENOMINATOR.
_K_DPS = 30
_K_DENOMINATOR = 1000
# Cached sigma^(k)(point) values (sympy simplification is slow).
_DERIVATIVE_CACHE_SIZE = 256


# ------------------------------------------------------------------ helpers
def _mpf_to_rational(x) -> sp.Rational:
    x = mpmath.mpf(x)
    man, exp = x.man_exp                   # mpmath's mantissa is unsigned: the sign apart
    return sp.Rational(-int(man) if x < 0 else int(man)) * sp.Rational(2) ** int(exp)


def _upper_rational(bound) -> sp.Expr:
    """Exact closed form of a bound, or a short rational >= its certified upper end."""
    if bound.exact is not None:
        return bound.exact
    hi = _mpf_to_rational(bound.enclosure[1])
    return sp.Rational(math.ceil(hi * _UPPER_DENOMINATOR), _UPPER_DENOMINATOR)


def _round_down(value, ok=None, digits: int = _SCALE_DIGITS) -> sp.Rational:
    """Largest rational with ``digits`` significant decimal digits that is <= ``value`` (> 0).

    ``value`` is evaluated numerically (mpmath, ``_PARAM_DPS`` digits); ``ok(r)``, when given, is an
    exact check the result must pass (e.g. "the proven bound with this d is <= eps"), and
    the rational is decreased until it does.
    """
    with mpmath.workdps(_PARAM_DPS):
        v = mpmath.mpf(sp.N(value, _PARAM_DPS)) if isinstance(value, sp.Basic) else mpmath.mpf(value)
        if v <= 0:
            raise ValueError("internal: expected a positive scale")
        k = int(mpmath.floor(mpmath.log10(v))) - (digits - 1)
        q = sp.Rational(10) ** k
        n = int(mpmath.floor(v / mpmath.mpf(sp.N(q, _PARAM_DPS))
                             * (1 - mpmath.mpf(10) ** -_ROUND_GUARD_DIGITS)))
    r = n * q
    while ok is not None and not ok(r):
        n -= 1
        r = n * q
    return r


def _le(a: sp.Expr, b: sp.Expr) -> bool:
    """``a <= b`` for exact constants, decided numerically (``_COMPARE_DPS`` digits) with a
    relative safety gap (``10^-_COMPARE_GAP_DIGITS``): True only when ``a`` is clearly below."""
    va, vb = sp.N(a, _COMPARE_DPS), sp.N(b, _COMPARE_DPS)
    return bool(va <= vb * (1 - sp.Rational(1, 10 ** _COMPARE_GAP_DIGITS)))


def _point(bound, activation: Activation, argname: str) -> sp.Expr:
    """An exact point where |sigma^(k)| is largest (first finite argmax), rationalised if needed."""
    for p in bound.argmax:
        p = sp.sympify(p)
        if p.is_finite:
            if isinstance(p, sp.Float) or not p.is_number:
                p = sp.nsimplify(p, rational=True, tolerance=_POINT_TOLERANCE)
            if p.is_Float:
                p = sp.nsimplify(p, rational=True)
            return p
    raise ValueError(f"{argname}: the activation {activation.name!r} has no finite point where "
                     "this derivative bound is attained; pass the point explicitly")


def _require_bounded(act: Activation, orders, what: str) -> None:
    """ValueError naming ``activation`` unless ``L_k < oo`` for every ``k`` in ``orders`` (the
    lemmas' Taylor bounds need them; a polynomial of degree >= 3 or ``exp`` has none)."""
    for k in orders:
        if act.bound(k).exact is sp.oo:
            raise ValueError(
                f"activation: {what} needs a bounded derivative of order {k} (L_{k} < oo, "
                f"Assumption 1), but sup |sigma^({k})| = oo for {act.name!r} ({act.expr}); "
                "use a sigmoid-type activation with bounded derivatives")


def _sigma_at(act: Activation, z):
    return act.expr.subs(act.symbol, z)


@functools.lru_cache(maxsize=_DERIVATIVE_CACHE_SIZE)
def _derivative_at(act: Activation, k: int, point: sp.Expr) -> sp.Expr:
    """``sigma^(k)(point)`` in a short closed form (cached: sympy simplification is slow)."""
    v = sp.simplify(act.derivative(k).subs(act.symbol, point))
    return _closed_form(v)


class _SquareGateParams:
    """Parameters of one Lemma 2 square gate for ``w^2``, ``|w| <= R``, accuracy ``eps``."""

    def __init__(self, eps, R, act: Activation, tag: str = "", t0=None):
        _require_bounded(act, (2, 4), "Lemma 2")
        if t0 is None:
            t0 = _point(act.bound(2), act, "activation")
        self.t0 = sp.sympify(t0)
        s2 = _derivative_at(act, 2, self.t0)
        if s2 == 0 or abs(float(sp.N(s2))) < _TINY_CURVATURE:
            raise ValueError(f"t0: expected a point with sigma''(t0) != 0, got {t0}")
        self.s2 = s2
        self.L4 = _upper_rational(act.bound(4))
        if self.L4 == 0:
            # no fourth derivative (a quadratic sigma): the second difference is exact for every d
            self.d = sp.Integer(1)
        else:
            with mpmath.workdps(_PARAM_DPS):
                d_formula = mpmath.sqrt(12 * mpmath.mpf(sp.N(eps * abs(s2) / (self.L4 * R ** 4),
                                                             _PARAM_DPS)))
            self.d = _round_down(d_formula,
                                 lambda d: _le(self.L4 * d ** 2 * R ** 4 / (12 * abs(s2)), eps))
        self.c = sp.radsimp(1 / (self.d ** 2 * s2))
        self.R = R
        self.bound = self.L4 * self.d ** 2 * R ** 4 / (12 * abs(s2))
        self.T0, self.D, self.C = sp.symbols(f"t0{tag} d{tag} c{tag}", real=True)
        self.sigma_t0_sym = _sigma_at(act, self.T0)

    def params(self) -> dict:
        tag = str(self.T0)[2:]
        return {f"t0{tag}": (self.T0, self.t0), f"d{tag}": (self.D, self.d), f"c{tag}": (self.C, self.c)}


def _finish(layers_sym, params: dict, act, **kw) -> Net:
    subs = {sym: val for sym, val in params.values()}
    exact = [(W.subs(subs), b.subs(subs)) for W, b in layers_sym]
    return Net(layers_exact=exact, activation=act, params=params, symbolic_layers=layers_sym, **kw)


# ------------------------------------------------------------------ input rescaling
def _rescaled(build_unit, eps, M, power: int, name: str) -> Net:
    """The variant that rescales the input (not the paper's construction): for a target
    homogeneous of degree ``power`` (``x^2``, ``u v``: 2; ``relu``: 1),
    ``f(x) = M^power f(x / M)``, so the net built on ``[-1, 1]`` to accuracy ``eps / M^power``
    with its first layer divided by ``M`` and its output layer multiplied by ``M^power`` meets
    ``eps`` on ``[-M, M]``.  Its parameters grow like ``M^power / eps`` instead of the direct
    construction's ``(M + 1)^4 / eps`` (relu_net) or ``M^4 / eps`` (square gate); the proven
    bound is ``M^power`` times the unit net's (exact).  Used for ``M > 1`` only."""
    unit = build_unit(eps / M ** power)

    def scale(layers):
        if layers is None:
            return None
        layers = list(layers)
        W, b = layers[0]
        layers[0] = (W / M, b)
        W, b = layers[-1]
        layers[-1] = (W * M ** power, b * M ** power)
        return layers

    return Net(layers_exact=scale(unit.layers_exact), activation=unit.activation, name=name,
               params=unit.params, symbolic_layers=scale(unit.symbolic_layers),
               proven_bound=M ** power * unit.proven_bound, eps=eps, M=M, target=unit.target,
               reference=unit.reference + f"; input rescaled x -> x/M, output x M^{power}",
               info={**unit.info, "input_scaling": True, "unit_eps": eps / M ** power})


# ------------------------------------------------------------------ Lemma 2
def square_gate(eps: RealLike, M: RealLike, activation: ActivationLike = sigmoid, t0: RealLike | None = None, input_scaling: bool = False) -> Net:
    """Lemma 2: a one-hidden-layer net with 3 free parameters approximating ``x^2`` on ``[-M, M]``.

    ``N(x) = c [sigma(t0 + d x) + sigma(t0 - d x) - 2 sigma(t0)]``, ``c = 1/(d^2 sigma''(t0))``
    (paper Lemma 2).  Fourth-order Taylor expansion gives
    ``|x^2 - N(x)| <= L_4 d^2 M^4 / (12 |sigma''(t0)|) <= eps`` with
    ``d = sqrt(12 eps |sigma''(t0)| / (L_4 M^4))`` (rounded down).

    Parameters
    ----------
    eps : float in (0, 1)
    M : float > 0
    activation : Activation or name, smooth and nonlinear
    t0 : sympy number, optional
        Expansion point; default the maximiser of ``|sigma''|`` (sigmoid: ``-ln(2+sqrt 3)``).
    """
    eps, M, act = gate_args(eps, M, activation)
    if input_scaling and M > 1:
        return _rescaled(lambda e: square_gate(e, 1, act, t0), eps, M, 2, "square_gate[scaled]")
    g = _SquareGateParams(eps, M, act, t0=t0)
    W1 = sp.Matrix([[g.D], [-g.D]])
    b1 = sp.Matrix([g.T0, g.T0])
    W2 = sp.Matrix([[g.C, g.C]])
    b2 = sp.Matrix([-2 * g.C * g.sigma_t0_sym])
    (x,) = input_symbols(1)
    return _finish(
        [(W1, b1), (W2, b2)], g.params(), act, name="square_gate", proven_bound=g.bound,
        eps=eps, M=M, target=x ** 2, reference="Lemma 2",
        info={"t0": g.t0, "d": g.d, "c": g.c, "sigma2(t0)": g.s2, "L4": g.L4},
    )


# ------------------------------------------------------------------ Lemma 6
def _square_of_linear(g: _SquareGateParams, coeffs, const=0):
    """Hidden rows/bias for sigma(t0 +- d (coeffs . h + const)) and the output weights (+c, +c)."""
    coeffs = sp.Matrix([coeffs])
    rows = [g.D * coeffs, -g.D * coeffs]
    bias = [g.T0 + g.D * const, g.T0 - g.D * const]
    return rows, bias


def _product_gate_layer(eps, Mu, Mv, act, variant, u_lin, v_lin):
    """Lemma 6 on two affine inputs ``u = u_vec . h + u_const``, ``v = v_vec . h + v_const``.

    ``variant="paper"``: ``uv = ((u+v)^2 - u^2 - v^2)/2``, three Lemma 2 gates on
    ``[-(Mu+Mv), Mu+Mv]``, ``[-Mu, Mu]``, ``[-Mv, Mv]``, each to ``2 eps/3``;
    ``"polarization"``: ``uv = ((u+v)^2 - (u-v)^2)/4``, one shared gate on
    ``[-(Mu+Mv), Mu+Mv]`` to ``2 eps``.  Returns ``(gates, signs, W, b, W_out, b_out)``:
    the hidden layer acting on ``h`` and the linear output layer.
    """
    if variant == "paper":
        gs = [_SquareGateParams(2 * eps / 3, Mu + Mv, act, "_1"),
              _SquareGateParams(2 * eps / 3, Mu, act, "_2"),
              _SquareGateParams(2 * eps / 3, Mv, act, "_3")]
        forms = [(1, 1), (1, 0), (0, 1)]
        signs = [sp.Rational(1, 2), -sp.Rational(1, 2), -sp.Rational(1, 2)]
    else:
        g = _SquareGateParams(2 * eps, Mu + Mv, act, "")
        gs = [g, g]
        forms = [(1, 1), (1, -1)]
        signs = [sp.Rational(1, 4), -sp.Rational(1, 4)]
    (u_vec, u_const), (v_vec, v_const) = u_lin, v_lin
    rows, bias, out, out_b = [], [], [], 0
    for g, (sa, sb), sgn in zip(gs, forms, signs):
        coeffs = [sa * ui + sb * vi for ui, vi in zip(u_vec, v_vec)]
        r, bb = _square_of_linear(g, coeffs, sa * u_const + sb * v_const)
        rows += r
        bias += bb
        out += [sgn * g.C, sgn * g.C]
        out_b += -2 * sgn * g.C * g.sigma_t0_sym
    W = sp.Matrix.vstack(*rows)
    b = sp.Matrix(bias)
    return gs, signs, W, b, sp.Matrix([out]), sp.Matrix([sp.simplify(out_b)])


def product_gate(eps: RealLike, M: RealLike, activation: ActivationLike = sigmoid, variant: str = "paper",
                 input_scaling: bool = False) -> Net:
    """Lemma 6: a one-hidden-layer net approximating ``u v`` on ``[-M, M]^2``.

    ``variant="paper"``: ``uv = ((u+v)^2 - u^2 - v^2)/2`` with three Lemma 2 gates, on
    ``[-2M, 2M]``, ``[-M, M]``, ``[-M, M]``, each to accuracy ``2 eps/3``: 6 neurons,
    9 free parameters (each gate its own ``t0, d, c``), error ``<= (e1 + e2 + e3)/2``.
    ``variant="polarization"``: ``uv = ((u+v)^2 - (u-v)^2)/4``, two gates on ``[-2M, 2M]``
    sharing ``t0, d, c`` (the ``sigma(t0)`` terms cancel): 4 neurons, 3 free parameters,
    error ``<= (e1 + e2)/4``, each gate to accuracy ``2 eps``.
    """
    eps, M, act = gate_args(eps, M, activation, variant)
    if input_scaling and M > 1:
        return _rescaled(lambda e: product_gate(e, 1, act, variant), eps, M, 2,
                         f"product_gate[{variant},scaled]")
    u, v = input_symbols(2)
    gs, signs, W1, b1, W2, b2 = _product_gate_layer(eps, M, M, act, variant,
                                                    ([1, 0], 0), ([0, 1], 0))
    params = {}
    for g in gs:
        params.update(g.params())
    bound = sum(abs(s) * g.bound for s, g in zip(signs, gs))
    return _finish(
        [(W1, b1), (W2, b2)], params, act, name=f"product_gate[{variant}]", proven_bound=bound,
        eps=eps, M=M, target=u * v, reference="Lemma 6",
        info={"variant": variant, "gates": [(g.t0, g.d, g.c, g.R) for g in gs]},
    )


# ------------------------------------------------------------------ Theorem 3 pieces
class _IdentityParams:
    """``a(t) = c1 [sigma(t1 + d1 t) - sigma(t1 - d1 t)]``, ``c1 = 1/(2 d1 sigma'(t1))``."""

    def __init__(self, eps, M, act: Activation):
        _require_bounded(act, (1, 3), "Theorem 3's identity gate")
        self.t1 = _point(act.bound(1), act, "activation")
        s1 = _derivative_at(act, 1, self.t1)
        if s1 == 0:
            raise ValueError("activation: expected sigma'(t1) != 0 at the maximiser of |sigma'|")
        self.s1 = s1
        self.L3 = _upper_rational(act.bound(3))
        if self.L3 == 0:
            # no third derivative: the odd difference is exact for every d
            self.d = sp.Integer(1)
        else:
            with mpmath.workdps(_PARAM_DPS):
                d_formula = mpmath.sqrt(6 * mpmath.mpf(sp.N(eps * abs(s1) / (self.L3 * M ** 3),
                                                            _PARAM_DPS)))
            self.d = _round_down(d_formula,
                                 lambda d: _le(self.L3 * d ** 2 * M ** 3 / (6 * abs(s1)), eps))
        self.c = sp.radsimp(1 / (2 * self.d * s1))
        self.bound = self.L3 * self.d ** 2 * M ** 3 / (6 * abs(s1))
        self.T1, self.D1, self.C1 = sp.symbols("t1 d1 c1", real=True)

    def params(self):
        return {"t1": (self.T1, self.t1), "d1": (self.D1, self.d), "c1": (self.C1, self.c)}


def identity_gate(eps: RealLike, M: RealLike, activation: ActivationLike = sigmoid) -> Net:
    """Theorem 3, first layer: ``a(t) = [sigma(t1+d1 t) - sigma(t1-d1 t)]/(2 d1 sigma'(t1)) ~ t``.

    ``|a(t) - t| <= L_3 d1^2 M^3 / (6 |sigma'(t1)|) <= eps`` on ``[-M, M]`` (third-order Taylor,
    even terms cancel; paper, proof of Theorem 3, eq. (30)).  3 free parameters.
    """
    eps, M, act = gate_args(eps, M, activation)
    g = _IdentityParams(eps, M, act)
    W1 = sp.Matrix([[g.D1], [-g.D1]])
    b1 = sp.Matrix([g.T1, g.T1])
    W2 = sp.Matrix([[g.C1, -g.C1]])
    b2 = sp.Matrix([0])
    (x,) = input_symbols(1)
    return _finish([(W1, b1), (W2, b2)], g.params(), act, name="identity_gate",
                   proven_bound=g.bound, eps=eps, M=M, target=x,
                   reference="Theorem 3 proof, eq. (30)",
                   info={"t1": g.t1, "d1": g.d, "c1": g.c, "L3": g.L3})


_STEP_CONSTANTS = {
    # C_sigma >= sup_{v > 0} v * max(1 - b(v), b(-v)), b the normalised activation
    "sigmoid": (sp.exp(-1), "v/(1+e^v) <= v e^-v <= 1/e"),
    "tanh": (sp.exp(-1) / 2, "b(v) = s(2v): v/(1+e^{2v}) <= 1/(2e)"),
    "gauss_cdf": (1 / sp.sqrt(2 * sp.pi), "Mills: v Phi(-v) <= phi(v) <= 1/sqrt(2 pi)"),
    "arctan": (1 / sp.pi, "1/2 - atan(v)/pi = atan(1/v)/pi <= 1/(pi v)"),
}


# Automatic step constants are rounded up to a multiple of 1/_STEP_CONST_DENOMINATOR.
_STEP_CONST_DENOMINATOR = 10 ** 6


def step_constant(activation: ActivationLike) -> sp.Expr:
    """``C_sigma`` with ``|t| |b(t) - H(t)| <= C_sigma / K`` for the normalised ``b(t) = sigma(K t)``.

    ``b = (sigma(K t) - sigma(-oo)) / (sigma(oo) - sigma(-oo))``; closed-form bounds
    for the built-ins (paper eq. (31) for the sigmoid: ``1/e``; docs/theory.md for the others),
    also for a user activation whose expression is identical to a built-in's; for any other
    activation with finite distinct limits, a certified upper bound of
    ``sup_(v>0) v max(1 - b(v), b(-v))`` (:func:`theory.enclosure.certified_sup_half_line`:
    branch and bound on ``[0, T]`` plus a certified tail), rounded up to 6 decimals.
    """
    act = get_activation(activation)
    if act.name in _STEP_CONSTANTS and act == get_activation(act.name):
        return _STEP_CONSTANTS[act.name][0]
    for name, (C, _) in _STEP_CONSTANTS.items():
        if _same_function(act.expr, get_activation(name).expr, act.symbol):
            return C
    return _certified_step_constant(act)


#: CPU seconds sympy may spend proving two activations identical (``sigma(10^6 t)`` against the
#: logistic function sent ``simplify`` into a degree-10^6 polynomial factorisation for minutes)
_SAME_FUNCTION_CPU_SECONDS = 2.0
#: points where two activations must agree (30 digits) before sympy is asked to prove it
_SAME_FUNCTION_PROBES = tuple(sp.Rational(p) for p in ("-37/10", "-9/10", "0", "9/20", "13/10", "51/10"))


def _same_function(a, b, t) -> bool:
    """True when sympy proves ``a == b`` identically (erfc rewritten as erf first).  Two
    functions that differ at one of :data:`_SAME_FUNCTION_PROBES` are different at once; the proof
    gets :data:`_SAME_FUNCTION_CPU_SECONDS` of CPU time (past it: not proven, False, and the
    caller certifies the constant instead)."""
    try:
        for p in _SAME_FUNCTION_PROBES:
            va, vb = sp.N(a.subs(t, p), 30), sp.N(b.subs(t, p), 30)
            if not (va.is_finite and vb.is_finite) or abs(va - vb) > sp.Float("1e-20", 30):
                return False
        with _budget.guard(None, _budget.cpu_deadline_after(_SAME_FUNCTION_CPU_SECONDS)):
            d = sp.simplify((a - b).rewrite(sp.erf))
    except _budget.BudgetExpired:
        return False
    except Exception:  # noqa: BLE001 - sympy internals: not proven, the constant is certified
        return False
    return d == 0


@functools.lru_cache(maxsize=32)
def _certified_step_constant(act: Activation) -> sp.Rational:
    lo, hi = _limits(act)
    v = sp.Symbol("v", positive=True)
    up = (hi - act.expr.subs(act.symbol, v)) / (hi - lo)      # 1 - b(v)
    down = (act.expr.subs(act.symbol, -v) - lo) / (hi - lo)   # b(-v)
    try:
        c = max(certified_sup_half_line(up, v), certified_sup_half_line(down, v))
    except ValueError as exc:
        raise ValueError(
            f"activation: no certified step constant for {act.name!r} ({exc}); pass "
            "step_const=C with C >= sup_(v>0) v max(1 - b(v), b(-v)) for the normalised "
            "activation b") from None
    q = _mpf_to_rational(c)
    return sp.Rational(math.ceil(q * _STEP_CONST_DENOMINATOR), _STEP_CONST_DENOMINATOR)


def _limits(act: Activation):
    lo, hi = act.limits
    if not (lo.is_finite and hi.is_finite) or lo == hi:
        raise ValueError(f"activation: Theorem 3's step needs finite distinct limits sigma(+-oo), "
                         f"got {lo}, {hi} for {act.name!r}")
    return lo, hi


def step_gate(eps: RealLike, M: RealLike, activation: ActivationLike = sigmoid,
              step_const: RealLike | None = None) -> Net:
    """Theorem 3, first layer: ``b(t) = (sigma(K t) - sigma(-oo)) / (sigma(oo) - sigma(-oo)) ~ H(t)``.

    ``K = C_sigma / eps`` gives the weighted bound ``sup_{|t|<=M} |t| |b(t) - H(t)| <= eps``
    (paper eq. (31)); ``proven_bound`` refers to this weighted error (the plain sup error
    is 1/2 at ``t = 0``).  1 free parameter, ``K``.
    """
    eps, M, act = gate_args(eps, M, activation)
    lo, hi = _limits(act)
    C = check_step_const(step_const) if step_const is not None else step_constant(act)
    K = _step_K(C / eps)
    Ks = sp.Symbol("K", positive=True)
    beta = 1 / (hi - lo)
    W1 = sp.Matrix([[Ks]])
    b1 = sp.Matrix([0])
    W2 = sp.Matrix([[beta]])
    b2 = sp.Matrix([-beta * lo])
    (x,) = input_symbols(1)
    return _finish([(W1, b1), (W2, b2)], {"K": (Ks, K)}, act, name="step_gate",
                   proven_bound=C / K, eps=eps, M=M, target=sp.Heaviside(x),
                   reference="Theorem 3 proof, eq. (31)",
                   info={"K": K, "C_sigma": C, "weighted": True})


def _step_K(ratio) -> sp.Rational:
    """The step gate's ``K``: the least multiple of ``1/_K_DENOMINATOR`` at or above ``ratio``
    (= ``C_sigma / eps``, so that ``C_sigma / K <= eps``; paper eq. (31)).

    While ``ratio * _K_DENOMINATOR`` is below 2^52 a float64 ceiling of its 30-digit value is
    exact (the values every earlier release produced); beyond, float64 either overflows
    (``eps = 1e-320``: ``ratio`` ~ 1e320) or its spacing exceeds 1 and the ceiling could fall
    below ``ratio``: there the ceiling is taken in sympy with enough digits for the integer part.
    """
    approx = float(sp.N(ratio, _K_DPS))
    if math.isfinite(approx) and approx * _K_DENOMINATOR < 2.0 ** 52:
        return sp.Rational(math.ceil(approx * _K_DENOMINATOR), _K_DENOMINATOR)
    scaled = ratio * _K_DENOMINATOR
    digits = _K_DPS + len(str(sp.floor(sp.N(scaled, 15))))
    return sp.Rational(int(sp.ceiling(sp.N(scaled, digits))), _K_DENOMINATOR)


def relu_net(eps: RealLike, M: RealLike, activation: ActivationLike = sigmoid, variant: str = "polarization",
             step_const: RealLike | None = None,
             input_scaling: bool = False) -> Net:
    """Theorem 3: two hidden layers approximating ``relu`` on ``[-M, M]`` to accuracy ``eps``.

    Layer 1 computes the identity gate ``a(t) ~ t`` (2 neurons) and the step
    ``b(t) ~ H(t)`` (1 neuron); layer 2 is a product gate (Lemma 6) applied to the
    affine forms ``a, b`` of layer-1 outputs, on the box ``|a| <= M + eps/3``,
    ``|b| <= 1``.  ``|relu(t) - P(a, b)| <= C/K + err_a + err_P``, each ``<= eps/3``
    (paper, proof of Theorem 3, eq. (32)).  ``variant="polarization"``: 7 free
    parameters (``t1, d1, c1, K, t0, d, c``); ``"paper"``: 13; both ``<= 27``.
    """
    eps, M, act = gate_args(eps, M, activation, variant)
    if input_scaling and M > 1:
        return _rescaled(lambda e: relu_net(e, 1, act, variant, step_const), eps, M, 1,
                         f"relu_net[{variant},scaled]")
    lo, hi = _limits(act)
    third = eps / 3
    C = check_step_const(step_const) if step_const is not None else step_constant(act)
    K = _step_K(C / third)
    ida = _IdentityParams(third, M, act)
    Ks = sp.Symbol("K", positive=True)
    beta = 1 / (hi - lo)
    # layer 1: h = [sigma(t1 + d1 t), sigma(t1 - d1 t), sigma(K t)]
    W1 = sp.Matrix([[ida.D1], [-ida.D1], [Ks]])
    b1 = sp.Matrix([ida.T1, ida.T1, 0])
    # a = c1 (h1 - h2),  b = beta (h3 - lo): coefficient vectors over h and constants
    a_vec, a_const = [ida.C1, -ida.C1, 0], 0
    b_vec, b_const = [0, 0, beta], -beta * lo
    Ma = M + third
    Mb = sp.Integer(1)
    gs, signs, W2, b2, W3, b3 = _product_gate_layer(third, Ma, Mb, act, variant,
                                                    (a_vec, a_const), (b_vec, b_const))
    params = {"K": (Ks, K)}
    params.update(ida.params())
    for g in gs:
        params.update(g.params())
    err_step = C / K
    err_P = sum(abs(s) * g.bound for s, g in zip(signs, gs))
    bound = err_step + ida.bound + err_P
    (x,) = input_symbols(1)
    return _finish(
        [(W1, b1), (W2, b2), (W3, b3)], params, act, name=f"relu_net[{variant}]",
        proven_bound=bound, eps=eps, M=M, target=sp.Max(0, x),
        reference="Theorem 3 (paper eqs. (30)-(32))",
        info={"variant": variant, "K": K, "C_sigma": C, "err_step": err_step,
              "err_identity": ida.bound, "err_product": err_P,
              "identity": (ida.t1, ida.d, ida.c), "gates": [(g.t0, g.d, g.c, g.R) for g in gs]},
    )
