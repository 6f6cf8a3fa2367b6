"""The ``sigadmm`` command line (click).

Each subcommand lives in its own module of this package and is registered in
:data:`SUBCOMMANDS`; modules are imported lazily so ``sigadmm --help`` is fast
and one subcommand's heavy imports never slow another.

Exit status, the same for every subcommand (:data:`EXIT_CODES`, README "Exit status"):
0 success / every check passed / certified; 1 a check failed or a certificate was refuted;
2 bad usage or bad input (one ``Error:`` line naming the option, no traceback); 3 undecided
(inconclusive check or certificate); 130 interrupted (what was finished is saved, and the
message says where); 70 an internal error, a bug (with its traceback).  The group's
:meth:`_LazyGroup.main` enforces the contract: click's usage errors and the
``ValueError``/``TypeError``/``FileNotFoundError``/``PermissionError`` of bad input become
2, ``KeyboardInterrupt`` becomes 130, a write that failed for a reason the user can fix
(disk full, quota, I/O error, read-only file system: :func:`sigadmm._resources.write_failure`)
2 with one line, anything else 70.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNDECIDED, EXIT_INTERRUPTED, EXIT_BUG = 0, 1, 2, 3, 130, 70
#: the exit status contract (shown by ``sigadmm --help``)
EXIT_CODES = {
    EXIT_OK: "success: done, every check passed, or certified",
    EXIT_FAILED: "a check failed or a certificate was refuted",
    EXIT_USAGE: "bad usage or bad input (the message names the option)",
    EXIT_UNDECIDED: "undecided: a check or a certificate is inconclusive",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); partial results are saved where the message says",
    EXIT_BUG: "internal error: a bug (please report it with the traceback)",
}
#: exceptions that mean the input was bad (exit 2, one line, no traceback)
BAD_INPUT = (ValueError, TypeError, FileNotFoundError, PermissionError, IsADirectoryError,
             NotADirectoryError)

# name -> "module:attribute" of a click.Command
SUBCOMMANDS = {
    "certify": "sigadmm.cli.certify_cmd:certify",
    "constants": "sigadmm.cli.certify_cmd:constants",
    "train": "sigadmm.cli.train_cmd:train",
    "verify": "sigadmm.cli.verify_cmd:verify",
    "reproduce": "sigadmm.cli.reproduce_cmd:reproduce",
    "compare": "sigadmm.cli.compare_cmd:compare",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(n for n in SUBCOMMANDS if self._load(n) is not None)

    def get_command(self, ctx, name):
        return self._load(name)

    @staticmethod
    def _load(name):
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        mod, attr = target.split(":")
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:  # subcommand not written yet
                return None
            raise
        return getattr(module, attr)


    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's ``main`` with the exit status contract (module docstring) enforced."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        run_command(super().main, self, args, prog_name, complete_var, **extra)


def run_command(click_main, cmd, args=None, prog_name=None, complete_var=None, **extra):
    """Run ``click_main`` (a command's or the group's ``click.BaseCommand.main``) under the exit
    status contract and ``sys.exit`` with its code: the one place that maps outcomes to codes,
    for ``sigadmm`` and ``python -m sigadmm.results`` alike.  ``cmd``: the group, or the
    standalone command (whose options the ``"name: ..."`` messages are matched against)."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        rv = click_main(argv, prog_name, complete_var, standalone_mode=False, **extra)
    except click.exceptions.Exit as e:  # pragma: no cover - click returns these
        sys.exit(e.exit_code)
    except click.UsageError as e:
        if isinstance(e, click.BadParameter) and e.param is None and e.param_hint is None:
            opt = _option_for(cmd, argv, e.message)
            if opt is not None:
                e.param_hint = f"'{opt}'"
        e.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as e:  # FileError and others: bad input
        e.show()
        sys.exit(EXIT_USAGE)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BAD_INPUT as e:
        click.echo(f"Error: {_one_line(_name_option(cmd, argv, e))}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as e:  # a write that failed for a reason the user can fix (disk full)
        from sigadmm._resources import write_failure  # noqa: PLC0415 - CLI: --help loads every subcommand module

        msg = write_failure(e)
        if msg is None:
            _bug()
        click.echo(f"Error: {_one_line(msg)}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception:  # noqa: BLE001 - the contract: anything else is a bug
        _bug()
    sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else EXIT_OK)


def _bug():
    traceback.print_exc()
    click.echo(f"Internal error (a bug, exit {EXIT_BUG}): please report it with the "
               f"traceback above.", err=True)
    sys.exit(EXIT_BUG)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _name_option(group, argv, exc) -> str:
    """``"name: ..."`` messages of the library name their argument; say which option that is.

    The subcommand's option whose parameter name (or long flag) is ``name`` is prefixed, as
    click does: ``Invalid value for '--init': init: expected one of ...``.
    """
    msg = str(exc) or type(exc).__name__
    opt = _option_for(group, argv, exc)
    return msg if opt is None else f"Invalid value for '{opt}': {msg}"


def _option_for(group, argv, msg):
    """The subcommand's option named by the error: its ``param`` (a
    :class:`solver.ParameterError`), else the ``name`` of a ``"name: ..."`` message; or None."""
    head = getattr(msg, "param", None) or (str(msg).split(":", 1)[0].split() or [""])[0]
    if isinstance(group, _LazyGroup):
        sub = next((a for a in argv if not a.startswith("-")), None)
        cmd = group._load(sub) if sub in SUBCOMMANDS else None
    else:  # a standalone command (python -m sigadmm.results)
        cmd = group
    if cmd is None or not head.isidentifier():
        return None
    for p in cmd.params:
        if isinstance(p, click.Option) and (p.name == head or f"--{head.replace('_', '-')}" in p.opts):
            return p.opts[0]
    return None


def _epilog():
    return "\b\nExit status (every subcommand):\n" + "\n".join(
        f"  {code:>3}  {what}" for code, what in EXIT_CODES.items())


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=_epilog())
@click.version_option(package_name="sigadmm")
def main():
    """sigadmm: constructive sigmoid nets, sigmoid-ADMM training and checks of its theory
    (Zeng, Lin, Yao, Zhou, JMLR 2021)."""


if __name__ == "__main__":  # pragma: no cover
    main()
