"""The ``chainrule`` command: argparse subcommands, one small handler each.

Results go to stdout, progress to stderr. A problem the user can fix is one line on stderr,
``chainrule: error: <message>``, with exit code 2 (``--debug`` shows the traceback instead);
so is running out of memory, naming the allocation that failed.
``check`` exits 1 when a claim is wrong, ``gradcheck`` when backpropagation disagrees with
finite differences. Ctrl-C exits 130 and SIGTERM 143 (handled as Ctrl-C is), with one line.
A warning is one line too, ``chainrule: warning: <message>``. Errors and warnings name files,
columns and labels, so they are printed with control characters escaped
(:func:`~chainrule.core.terminal.printable`), as is everything a command shows from a file.
A misspelt command, option or choice is answered with the closest one (``chainrule trian``:
did you mean train?), and messages name options as flags (``--features``), not as Python's
keywords (:func:`~chainrule.tables.reading.command_line_spelling`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from .._version import __version__
from ..core.terminal import printable
from ..tables.reading import close_match, command_line_spelling
from . import export, playground, tabular, teaching, worked
from .common import CommandError, plain_warning_format, sigterm_as_ctrl_c, stopped


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line, as every other error: ``chainrule: error:
    argument --learning-rate: ... (see chainrule train --help)``, exit code 2 (argparse prints
    the whole usage first); a value that is not one of the choices (a subcommand too) names the
    closest. Subcommands' parsers are of this class too."""

    def error(self, message: str):
        self.exit(2, f"chainrule: error: {printable(message)} (see {self.prog} --help)\n")

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise argparse.ArgumentError(
                action, f"invalid choice: {value!r}{_suggestion(value, action.choices)} (choose "
                f"from {choices})"
            )  # fmt: skip


def _suggestion(given: str, names) -> str:
    """``; did you mean train?`` for the closest of ``names`` (strings), or nothing."""
    match = close_match(str(given), [str(name) for name in names])
    return f"; did you mean {match}?" if match is not None else ""


def _unrecognized(parser: argparse.ArgumentParser, args, extras: list[str]) -> None:
    """Report arguments no parser took as the subcommand's usage error, with the closest of its
    options for a misspelt one (``--hiden 8``: did you mean --hidden?)."""
    command = parser.commands.choices.get(getattr(args, "command", None), parser)
    # compared without their dashes, which every long option shares
    options = [flag[2:] for action in command._actions for flag in action.option_strings]
    hints = []
    for extra in extras:
        if extra.startswith("--"):
            match = close_match(extra[2:].split("=", 1)[0], [o for o in options if o])
            if match is not None:
                hints.append(f"did you mean --{match}?")
    said = f" ({'; '.join(dict.fromkeys(hints))})" if hints else ""
    command.error(f"unrecognized arguments: {' '.join(extras)}{said}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule",
        description="Backpropagation for multilayer perceptrons: explain, check, train.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = commands  # the subcommands' parsers, for _unrecognized
    worked.add_commands(commands)
    tabular.add_commands(commands)
    export.add_commands(commands)
    playground.add_commands(commands)
    teaching.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 a failed check, 2 an error,
    130 Ctrl-C, 143 SIGTERM)."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        _unrecognized(parser, args, extras)
    try:
        with sigterm_as_ctrl_c(), plain_warning_format():
            return _handled(args)
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


def _handled(args) -> int:
    """The command's handler, its messages naming options as flags (``--features``)."""
    with command_line_spelling():
        return args.handler(args)


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
