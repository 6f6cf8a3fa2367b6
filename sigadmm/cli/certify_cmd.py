"""``sigadmm certify`` and ``sigadmm constants``: the theory side on the command line.

``sigadmm certify --construction square --eps 1e-6 --M 1 --activation sigmoid`` builds the
construction (Lemma 2 / Lemma 6 / Theorem 3), certifies its sup error with ball arithmetic
and prints bound, rigorous / sampled / float64 sup errors, free parameters and the largest
parameter.  ``--table`` prints the sigmoid-vs-ReLU comparison (:func:`theory.compare_table`)
instead.

Exit status (the CLI's contract, issue 14): 0 certified; 1 refuted (a point where the error
exceeds eps, found and verified in ball arithmetic); 2 bad usage or bad input (one message
naming the option); 3 inconclusive (the reason and the knob to turn, ``--dps`` or
``--max-boxes``, are printed).
"""

from __future__ import annotations

import json
import math
import sys

import click

import theory
from theory.verdicts import EXIT_CODE, Verdict, status_verdict, worst


EXIT_USAGE = 2


def _status_exit(status: str) -> int:
    """A certificate's exit status (theory.verdicts.EXIT_CODE); ``bounded`` (no eps asked) is 3."""
    return EXIT_CODE[status_verdict(status) or Verdict.INCONCLUSIVE]


def _finite(ctx, param, value):
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"expected a finite number, got {value!r}")
    return value

#: :data:`sigadmm._resources.MAX_DPS` and ``MAX_BOXES`` (spelled out so that ``--help``
#: imports nothing; tests/test_cli_resources.py keeps them equal): beyond these a run does
#: not finish in any reasonable time (``--dps 100000`` used to look like a hang)
MAX_DPS, MAX_BOXES = 5000, 10_000_000

_CONSTRUCTIONS = ("square", "product", "relu", "identity", "yarotsky")


def _build(construction, eps, M, activation, variant):
    if construction == "square":
        return theory.square_gate(eps, M, activation)
    if construction == "product":
        return theory.product_gate(eps, M, activation, variant or "paper")
    if construction == "relu":
        return theory.relu_net(eps, M, activation, variant or "polarization")
    if construction == "identity":
        return theory.identity_gate(eps, M, activation)
    return theory.yarotsky_square(eps, M)


@click.command("certify")
@click.option("--construction", "-c", type=click.Choice(_CONSTRUCTIONS), default="square",
              show_default=True, help="square: Lemma 2; product: Lemma 6; relu: Theorem 3; "
              "identity: Theorem 3's first gate; yarotsky: deep-ReLU square (Lemma 1).")
@click.option("--eps", type=float, default=1e-6, show_default=True, callback=_finite,
              help="accuracy in (0, 1)")
@click.option("--M", "M", type=float, default=1.0, show_default=True, callback=_finite,
              help="domain [-M, M]")
@click.option("--activation", "-a", default="sigmoid", show_default=True,
              help="sigmoid | tanh | gauss_cdf | arctan")
@click.option("--variant", type=click.Choice(["paper", "polarization"]), default=None,
              help="product gate variant (default: paper for product, polarization for relu)")
@click.option("--dps", type=click.IntRange(15, MAX_DPS), default=None,
              help="starting ball-arithmetic precision in decimal digits (default: automatic, "
              "from eps, M and the weights; raised automatically when it stalls)")
@click.option("--max-boxes", type=click.IntRange(1, MAX_BOXES), default=200_000, show_default=True,
              help="box budget of the branch and bound (raise it on an inconclusive result)")
@click.option("--scale-output", type=float, default=None, callback=_finite,
              help="multiply the output weights by this factor first (mutation check)")
@click.option("--table", is_flag=True, help="print the sigmoid-vs-ReLU comparison table instead")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def certify(construction, eps, M, activation, variant, dps, max_boxes, scale_output, table, as_json):
    """Build a constructive net and certify its sup error.

    Exit status: 0 certified, 1 refuted (verified counterexample point), 2 bad usage or
    input, 3 inconclusive (raise --dps or --max-boxes as the message says).
    """
    if table and (scale_output is not None or variant is not None or construction != "square"):
        raise click.UsageError("--table: builds every construction itself; --construction, "
                               "--variant and --scale-output do not apply")
    if variant is not None and construction not in ("product", "relu") and not table:
        raise click.UsageError(f"--variant: applies to --construction product or relu, not "
                               f"{construction}")
    ctx = click.get_current_context()
    explicit_act = ctx.get_parameter_source("activation") == click.core.ParameterSource.COMMANDLINE
    if construction == "yarotsky" and explicit_act and not table:
        raise click.UsageError("--activation: the yarotsky construction is a ReLU net; "
                               "--activation does not apply")
    try:
        if table:
            rows = theory.compare_table(eps, M, activation, dps=dps, max_boxes=max_boxes)
            if as_json:
                click.echo(json.dumps([r.as_dict() for r in rows], indent=1))
            else:
                click.echo(f"Sigmoid vs ReLU constructions, eps = {eps:g}, M = {M:g} "
                           "(errors certified by ball arithmetic)")
                click.echo(theory.format_table(rows))
            # a bounded row (no eps) decides nothing and is left out, as before
            verdicts = [status_verdict(r.status) for r in rows if r.status]
            sys.exit(EXIT_CODE[worst(v for v in verdicts if v is not None)])
        net = _build(construction, eps, M, activation, variant)
        if scale_output is not None:
            net = net.with_output_scaled(scale_output)
        cert = theory.certify(net, dps=dps, max_boxes=max_boxes)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        d = cert.as_dict()
        d.update(n_free_params=net.n_free_params, max_abs_param=net.max_abs_param,
                 depth=net.depth, widths=net.widths, message=cert.message)
        click.echo(json.dumps(d, indent=1))
    else:
        click.echo(f"{net.name} ({net.reference}), activation {net.activation.name}")
        click.echo(f"depth {net.depth}, widths {net.widths}, free parameters {net.n_free_params}, "
                   f"largest |parameter| {net.max_abs_param:.4g}, largest |weight| "
                   f"{net.max_abs_weight:.4g}")
        click.echo(str(cert))
    sys.exit(_status_exit(cert.status))


@click.command("constants")
@click.option("--activation", "-a", multiple=True,
              help="activation(s) to list (default: sigmoid tanh gauss_cdf arctan)")
@click.option("--eps", type=float, default=1e-6, show_default=True, callback=_finite,
              help="accuracy in (0, 1) of the constructions' parameter values")
@click.option("--M", "M", type=float, default=1.0, show_default=True, callback=_finite,
              help="domain [-M, M], M > 0")
@click.option("--max-order", type=click.IntRange(0, 12), default=4, show_default=True,
              help="largest derivative order k of L_k listed (0 to 12)")
def constants(activation, eps, M, max_order):
    """Activation constants L_k = sup|sigma^(k)| (exact and float) and the constructions'
    parameter values at the given eps and M."""
    import sympy as sp  # noqa: PLC0415 - CLI: --help loads every subcommand module

    names = activation or ("sigmoid", "tanh", "gauss_cdf", "arctan")
    if not 0 < eps < 1:
        raise click.BadParameter(f"expected an accuracy in the open interval (0, 1), got {eps!r}",
                                 param_hint="'--eps'")
    if not M > 0:
        raise click.BadParameter(f"expected a positive half-width, got {M!r}", param_hint="'--M'")
    try:
        acts = [theory.get_activation(n) for n in names]
        for act in acts:
            act.require_smooth("activation")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for act in acts:
        lo, hi = act.limits
        click.echo(f"== {act.name}: sigma(t) = {act.expr};  sigma(-oo) = {lo}, sigma(+oo) = {hi}")
        for k in range(max_order + 1):
            b = act.bound(k)
            exact = str(b.exact) if b.exact is not None else "(no closed form; certified enclosure)"
            where = ", ".join(str(p) for p in b.argmax) or "-"
            click.echo(f"  L{k} = {exact}")
            click.echo(f"       in [{sp.Float(b.enclosure[0], 17)}, {sp.Float(b.enclosure[1], 17)}]"
                       f"  {'attained at' if b.attained else 'approached as t ->'} {where}")
        try:
            sq = theory.square_gate(eps, M, act)
            ida = theory.identity_gate(eps, M, act)
            rn = theory.relu_net(eps, M, act)
        except ValueError as exc:
            click.echo(f"  (constructions unavailable: {exc})")
            continue
        click.echo(f"  Lemma 2 square gate, eps={eps:g}, M={M:g}: t0 = {sq.info['t0']} "
                   f"= {float(sp.N(sq.info['t0'])):.10g}, d = {sq.info['d']} , "
                   f"c = 1/(d^2 sigma''(t0)) = {float(sp.N(sq.info['c'])):.10g}, "
                   f"bound = {float(sp.N(sq.proven_bound)):.6g}")
        click.echo(f"  Theorem 3 identity gate: t1 = {ida.info['t1']}, d1 = {ida.info['d1']}, "
                   f"c1 = {float(sp.N(ida.info['c1'])):.10g}, bound = {float(sp.N(ida.proven_bound)):.6g}")
        click.echo(f"  Theorem 3 relu net: K = {float(rn.info['K']):.10g} (C_sigma = {rn.info['C_sigma']}), "
                   f"err_step = {float(sp.N(rn.info['err_step'])):.4g}, "
                   f"err_identity = {float(sp.N(rn.info['err_identity'])):.4g}, "
                   f"err_product = {float(sp.N(rn.info['err_product'])):.4g}, "
                   f"total = {float(sp.N(rn.proven_bound)):.6g}")
