"""What several subcommands share: the task names and the multi-value options.

Kept free of heavy imports: ``sigadmm --help`` loads every subcommand module.
"""

from __future__ import annotations

import click

#: The toy tasks of :mod:`solver.tasks` (its ``TASKS``; a test keeps the two equal).  Spelled
#: out here so that the command line starts without importing the solver.
TASK_NAMES = ("square", "product", "radial", "smooth_radial")


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
