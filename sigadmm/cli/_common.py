"""What several subcommands share: the task names and the multi-value options.

Kept free of heavy imports: ``sigadmm --help`` loads every subcommand module.
"""

from __future__ import annotations

import math

import click

from solver.registry import method_names

#: The toy tasks of :mod:`solver.tasks` (its ``TASKS``; a test keeps the two equal).  Spelled
#: out here so that the command line starts without importing the solver.
TASK_NAMES = ("square", "product", "radial", "smooth_radial")

#: :data:`sigadmm._resources.MAX_ITERS` (spelled out: ``--help`` imports nothing heavy; a
#: test keeps the two equal)
MAX_ITERS = 10**8

class RegisteredMethod(click.Choice):
    """``--method``'s values: the methods of :data:`solver.registry.METHODS` when the option is
    read, not when this module was imported, so a method registered later (a user's module,
    ``tests/lifted_gd/``) is offered too; reading the registry imports no method module."""

    name = "method"

    def __init__(self):
        super().__init__(())

    @property
    def choices(self):
        return method_names()

    @choices.setter
    def choices(self, value):  # click.Choice.__init__ assigns it; the registry decides
        pass


#: ``--force``: the memory and time estimates (sigadmm._resources) are skipped
force_option = click.option(
    "--force", is_flag=True,
    help="Run even when the memory or time estimate says this machine cannot (disk, names "
         "and precision limits still apply).")


def split_values(value) -> list[str]:
    """``("100,100",)``, ``("100", "100")`` or ``"100"`` -> ``["100", "100"]`` / ``["100"]``."""
    vals = value if isinstance(value, (tuple, list)) else (value,)
    return [v.strip() for item in vals for v in str(item).split(",") if v.strip()]


class SpaceSeparatedValues(click.Command):
    """A command whose ``multiple=True`` options also take the space-separated form.

    ``--hidden 100 100`` is rewritten to ``--hidden 100 --hidden 100`` before click parses
    the arguments (through :meth:`click.Command.parse_args`, public API).  Only for commands
    without positional arguments: there a bare token after such an option's value can only
    be another value of it.
    """

    #: option names (long form) that accept the space-separated form
    space_separated: tuple = ()

    def parse_args(self, ctx, args):
        if any(p.param_type_name == "argument" for p in self.params):
            raise TypeError(f"{type(self).__name__}: only for commands without arguments")
        out, i = [], 0
        while i < len(args):
            tok = args[i]
            out.append(tok)
            i += 1
            if tok in self.space_separated and i < len(args):
                out.append(args[i])
                i += 1
                while i < len(args) and not args[i].startswith("-"):
                    out += [tok, args[i]]
                    i += 1
        return super().parse_args(ctx, out)


class FiniteFloat(click.ParamType):
    """A finite float (``nan``/``inf`` refused), optionally ``> 0`` or ``>= 0``."""

    name = "float"

    def __init__(self, positive=False, nonnegative=False):
        self.positive, self.nonnegative = positive, nonnegative

    def convert(self, value, param, ctx):
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number, got {value!r}", param, ctx)
        if not math.isfinite(v):
            self.fail(f"expected a finite number, got {value!r}", param, ctx)
        if self.positive and not v > 0:
            self.fail(f"expected a number > 0, got {value!r}", param, ctx)
        if self.nonnegative and not v >= 0:
            self.fail(f"expected a number >= 0, got {value!r}", param, ctx)
        return v


def option_error(exc, options, default=None):
    """A ``click.BadParameter`` for a library ``ValueError`` whose message starts ``name:``.

    ``options`` maps the library's argument names to the command's options
    (``{"random_state": "--seed"}``); the message keeps the library's text.
    """
    msg = " ".join(str(exc).split())
    head = (msg.split(":", 1)[0].split() or [""])[0]  # "name: ..." or "checkpoint file '...': ..."
    return click.BadParameter(msg, param_hint=options.get(head, default))


def explicit(ctx, name) -> bool:
    """True when the option ``name`` was given on the command line (not its default)."""
    src = ctx.get_parameter_source(name)
    return src is not None and src.name not in ("DEFAULT", "DEFAULT_MAP")


def inapplicable(ctx, pairs):
    """Refuse options that do not apply: ``pairs`` of ``(option name, condition, why)``."""
    for name, given_when_it_does_not_apply, why in pairs:
        if given_when_it_does_not_apply and explicit(ctx, name):
            flag = next((p.opts[0] for p in ctx.command.params if p.name == name),
                        "--" + name.replace("_", "-"))
            raise click.UsageError(f"{flag}: does not apply {why}")
