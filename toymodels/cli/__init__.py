"""`lora-sweep`: the command line of the toy models.

Every subcommand lives in its own module, listed once in :data:`SUBCOMMAND_MODULES`. A module
exposes

- ``add_parser(subparsers)``: adds one or more parsers with ``subparsers.add_parser(name, ...)``;
- ``run(args) -> int``: runs the parsed command and returns the exit code.

Adding a subcommand is one line here. Modules are imported when the CLI starts, so keep heavy
imports (JAX, xarray) inside ``run``: ``lora-sweep --help`` and argument errors stay fast.

Bad input anywhere (a :class:`~toymodels.core._errors.UsageError`, or a malformed exponent from
``theory.parse_exponent``) prints one line ``lora-sweep: error: ...`` on stderr and exits 2.

>>> main(["--help"])  # doctest: +ELLIPSIS
usage: lora-sweep ...
0
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from theory import ExponentError
from toymodels import _signals
from toymodels.core import UsageError

PROG = "lora-sweep"

#: The modules that add subcommands, in the order `lora-sweep --help` lists them.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "toymodels.cli._sweeps",  # run, figure2, figure3, heatmap, summary
    "toymodels.cli._gamma",  # coordcheck
    "toymodels.cli._rank",  # rank
    "toymodels.cli._transfer",  # transfer, exponents
    "toymodels.cli._figures",  # figures
    "toymodels.cli._verify",  # verify
    "toymodels.cli._horizon",  # horizon
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (`lora-sweep: error: ...`), exit code 2."""

    def error(self, message: str):
        # argparse quotes the user's text as given: a newline in an argument would break the line.
        raise UsageError(message.replace("\r", "\\r").replace("\n", "\\n"))


#: Bad user input: printed as one line, exit code 2 (theory.ExponentError: a malformed exponent).
BAD_INPUT: tuple[type[BaseException], ...] = (UsageError, ExponentError)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    """The top-level parser and a map from each subcommand name to the module that runs it."""
    parser = _Parser(
        prog=PROG,
        description="Width sweeps of the LoRA toy models (LoRA+ and Init[A]/Init[B] papers).",
        epilog="example: lora-sweep figure2 --preset quick; lora-sweep COMMAND --help for more",
    )
    from toymodels import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    owners: dict[str, object] = {}
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(name)
        before = set(subparsers.choices)
        module.add_parser(subparsers)
        for command in set(subparsers.choices) - before:
            owners[command] = module
    return parser, owners


def main(argv: list[str] | None = None) -> int:
    """Run `lora-sweep` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    SIGINT and SIGTERM are handled by ``_signals``: never a traceback, and never exit code 0 after
    one (130).
    """
    # Files only: the figures go to disk. The one place that picks matplotlib's backend (a library
    # import must not switch a notebook's); an MPLBACKEND the user set still wins.
    os.environ.setdefault("MPLBACKEND", "Agg")
    with _signals.guarded(lambda: f"{PROG}: interrupted; nothing was written"):
        code = _main(argv)
        if _signals.interrupted() and code == 0:
            print(f"{PROG}: interrupted after the work was done", file=sys.stderr)
            return 130
        return code


def _main(argv: list[str] | None) -> int:
    try:
        parser, owners = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # --help and --version exit through argparse
            return int(exit_.code or 0)
        if args.command is None:
            parser.print_help()
            return 2
        return int(owners[args.command].run(args))
    except BAD_INPUT as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lora-sweep ... | head` closed the pipe: results are saved already
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
