"""The ``chainrule`` command: argparse subcommands, one small handler each.

Results go to stdout, progress to stderr. A problem the user can fix is one line on stderr,
``chainrule: error: <message>``, with exit code 2 (``--debug`` shows the traceback instead);
so is running out of memory, naming the allocation that failed.
``check`` exits 1 when a claim is wrong, ``gradcheck`` when backpropagation disagrees with
finite differences. Ctrl-C exits 130 and SIGTERM 143 (handled as Ctrl-C is), with one line.
A warning is one line too, ``chainrule: warning: <message>``. Errors and warnings name files,
columns and labels, so they are printed with control characters escaped
(:func:`~chainrule.core.terminal.printable`), as is everything a command shows from a file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .._version import __version__
from ..core.terminal import printable
from . import export, playground, tabular, worked
from .common import CommandError, plain_warning_format, sigterm_as_ctrl_c, stopped


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line, as every other error: ``chainrule: error:
    argument --learning-rate: ... (see chainrule train --help)``, exit code 2 (argparse prints
    the whole usage first). Subcommands' parsers are of this class too."""

    def error(self, message: str):
        self.exit(2, f"chainrule: error: {printable(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    """Run the command line; return the exit code (0 success, 1 a failed check, 2 an error,
    130 Ctrl-C, 143 SIGTERM)."""
    args = build_parser().parse_args(argv)
    try:
        with sigterm_as_ctrl_c(), plain_warning_format():
            return args.handler(args)
    except (CommandError, ValueError, TypeError, OSError, ImportError) as error:
        if args.debug:
            raise
        message = printable(str(error).replace("\n", " "))  # it names files, columns, labels
        print(f"chainrule: error: {message}", file=sys.stderr)
        return 2
    except MemoryError as error:  # numpy names the allocation: "Unable to allocate 149. GiB ..."
        if args.debug:
            raise
        reason = str(error) or "an allocation failed"
        print(f"chainrule: error: not enough memory: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        line, code = stopped("interrupted")
        print(line, file=sys.stderr)
        return code


def run() -> None:
    """The ``chainrule`` program: :func:`main`, then the process ends with its exit code.

    Once pyarrow has read a file, the interpreter's own shutdown can abort in pyarrow's thread
    pool ("terminate called without an active exception", exit code 134 instead of the
    command's: apache/arrow#34314, about 1 run in 60 of an error exit here). Nothing of the
    command is left to do by then, so with pyarrow loaded the process flushes its output,
    finalizes MPI if it runs under it, and ends at once (``os._exit``), skipping that shutdown.
    """
    code = main()
    if "pyarrow" not in sys.modules:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    MPI = sys.modules.get("mpi4py.MPI")
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.Finalize()
    os._exit(code)


__all__ = ["CommandError", "build_parser", "main", "run"]
