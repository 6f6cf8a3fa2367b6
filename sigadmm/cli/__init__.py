"""The ``sigadmm`` command line (click).

Each subcommand lives in its own module of this package and is registered in
:data:`SUBCOMMANDS`; modules are imported lazily so ``sigadmm --help`` is fast
and one subcommand's heavy imports never slow another.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click.Command
SUBCOMMANDS = {
    "certify": "sigadmm.cli.certify_cmd:certify",
    "constants": "sigadmm.cli.certify_cmd:constants",
    "train": "sigadmm.cli.train_cmd:train",
    "verify": "sigadmm.cli.verify_cmd:verify",
    "reproduce": "sigadmm.cli.reproduce_cmd:reproduce",
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


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sigadmm")
def main():
    """sigadmm: constructive sigmoid nets, sigmoid-ADMM training and checks of its theory
    (Zeng, Lin, Yao, Zhou, JMLR 2021)."""


if __name__ == "__main__":  # pragma: no cover
    main()
