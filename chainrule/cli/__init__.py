"""The ``chainrule`` command: argparse subcommands, one small handler each.

Results go to stdout, progress to stderr. A problem the user can fix is one line on stderr,
``chainrule: error: <message>``, with exit code 2 (``--debug`` shows the traceback instead).
``check`` exits 1 when a claim is wrong, ``gradcheck`` when backpropagation disagrees with
finite differences.
"""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from . import export, playground, tabular, worked
from .common import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Backpropagation for multilayer perceptrons: explain, check, train.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worked.add_commands(commands)
    tabular.add_commands(commands)
    export.add_commands(commands)
    playground.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 a failed check, 2 an error)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, ValueError, TypeError, OSError, ImportError) as error:
        if args.debug:
            raise
        message = str(error).replace("\n", " ")
        print(f"chainrule: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


__all__ = ["CommandError", "build_parser", "main"]
