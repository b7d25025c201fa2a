"""What the command handlers share: the error type, argument types, atomic text output."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings

from ..core.deprecation import REMOVED_IN
from ..core.terminal import printable
from ..core.validation import CONSTRAINTS, Interval
from ..files.atomic import atomic_open, check_writable

__all__ = [
    "CommandError",
    "RenamedFlag",
    "add_renamed_flag",
    "check_output",
    "flag_type",
    "non_negative_int",
    "option_type",
    "plain_warnings",
    "plain_warning_format",
    "positive_int",
    "say",
    "share_stops_with",
    "sigterm_as_ctrl_c",
    "stopped",
    "warning_line",
    "write_text",
]


class CommandError(Exception):
    """A problem the user can fix; printed as ``chainrule: error: <message>`` with exit 2."""


def say(text: str) -> None:
    """Print ``text``, a line the program wrote around names and values read from a file, as
    one line with control characters escaped (:func:`~chainrule.core.terminal.printable`)."""
    print(printable(text))


def warning_line(message) -> str:
    """A warning as the command line shows it: ``chainrule: warning: <message>``, one line,
    control characters escaped (a message names columns and labels read from a file)."""
    one_line = " ".join(str(message).splitlines())  # \r, \x85, \u2028... too
    return f"chainrule: warning: {printable(one_line)}"


@contextlib.contextmanager
def plain_warnings():
    """Within the block, a warning is one line on stderr (:func:`warning_line`), not Python's
    format (file, line number, source line)."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(warning_line(message), file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def plain_warning_format():
    """Within the block, a warning that nothing else shows is written as :func:`warning_line`,
    not in Python's format; unlike :func:`plain_warnings` it leaves ``warnings.showwarning``
    alone, so a caller that records warnings (``pytest.warns``) still sees them."""

    def format_warning(message, category, filename, lineno, line=None):
        return warning_line(message) + "\n"

    with warnings.catch_warnings():
        warnings.formatwarning = format_warning
        yield


class RenamedFlag(argparse.Action):
    """An old spelling of a flag, kept for one release: it stores its value where the new flag
    does and prints ``chainrule: warning: --old is deprecated and will be removed in chainrule
    0.3; use --new`` on stderr. Made by :func:`add_renamed_flag`."""

    def __init__(self, option_strings, dest, new: str, **options):
        super().__init__(option_strings, dest, **options)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(
            f"chainrule: warning: {option_string} is deprecated and will be removed in "
            f"chainrule {REMOVED_IN}; use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def add_renamed_flag(parser, old: str, new: argparse.Action) -> None:
    """Declare ``old`` on ``parser`` as a deprecated spelling of the flag ``new``: the same
    type, choices and destination, hidden from ``--help``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser that declared ``new``.
    old : str
        The old flag, e.g. ``'--lr'``.
    new : argparse.Action
        What ``parser.add_argument`` returned for the new flag (``--learning-rate``).
    """
    parser.add_argument(
        old,
        action=RenamedFlag,
        new=new.option_strings[-1],
        dest=new.dest,
        type=new.type,
        choices=new.choices,
        metavar=new.metavar,
        default=argparse.SUPPRESS,  # the new flag's default stands
        help=argparse.SUPPRESS,
    )


class _Stop:
    terminated = False  # the stop was SIGTERM's, not Ctrl-C's
    group = None  # an MPI job's group, whose ranks agree on SIGTERM (share_stops_with)


def share_stops_with(group) -> None:
    """Within :func:`sigterm_as_ctrl_c`'s block, record a SIGTERM here on ``group`` (an
    :class:`~chainrule.distributed.MPIGroup`: ``group.terminated``, which its ranks agree on
    with the Ctrl-C request it causes), and let :func:`stopped` read it there: every rank of
    the job then reports SIGTERM and 143, whichever rank received it."""
    _Stop.group = group


def _terminate_as_ctrl_c(signum, frame) -> None:
    _Stop.terminated = True
    if _Stop.group is not None:
        _Stop.group.terminated = True  # before the request: both travel in the next step
    signal.raise_signal(signal.SIGINT)  # acted on where Ctrl-C would be: between two steps


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """Within the block, SIGTERM (``kill``, ``timeout``, a container being stopped) is handled
    as Ctrl-C is: training stops after the current step, outputs are left as they were and no
    temporary file is left behind; :func:`stopped` then gives exit code 143, not 130. A
    SIGTERM handler someone else installed is kept, and so is the default where Ctrl-C is
    ignored (a background job started by a shell): there SIGTERM ends the process at once."""
    _Stop.terminated, _Stop.group = False, None
    main = threading.current_thread() is threading.main_thread()
    if (
        not main
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _terminate_as_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stopped(reason: str) -> tuple[str, int]:
    """The one line saying why the command stopped (``reason`` as Ctrl-C gives it) and the exit
    code: 130 for Ctrl-C (128 + SIGINT), 143 for SIGTERM (128 + SIGTERM, here or, in an MPI
    job, on another rank), as shells give."""
    if not (_Stop.terminated or getattr(_Stop.group, "terminated", False)):
        return f"chainrule: {reason}", 130
    reason = reason.replace("interrupted (Ctrl-C)", "interrupted", 1)
    return f"chainrule: {reason.replace('interrupted', 'terminated (SIGTERM)', 1)}", 143


def flag_type(constraint: Interval):
    """An argparse ``type`` that reads a flag's text as ``constraint`` allows (one of
    :data:`chainrule.core.validation.CONSTRAINTS`, which ``fit`` checks too)."""

    def parse(text: str):
        try:
            return constraint.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


non_negative_int = flag_type(Interval(int, 0))
positive_int = flag_type(Interval(int, 1))


def option_type(name: str):
    """The argparse ``type`` of the training option ``name``, from its constraint."""
    return flag_type(CONSTRAINTS[name])


def check_output(path, option: str, inputs: dict):
    """The file an output option will write (see :func:`~chainrule.files.atomic.check_writable`),
    checked before any work, and checked to be none of the command's ``inputs`` (``{"the
    model file": path}``): ``--out data.csv`` would replace the data with a model."""
    real = check_writable(path, option)
    for what, given in inputs.items():
        if given is not None and os.path.realpath(given) == str(real):
            raise CommandError(
                f"{option} {os.fspath(path)!r} is {what} this command reads; write to another file"
            )
    return real


def write_text(text: str, path: str | None, what: str = "file") -> None:
    """Write to stdout, or to ``path`` atomically (a failed run leaves an old file intact)."""
    if path is None:
        sys.stdout.write(text)
        return
    with atomic_open(path, "w", what=what, encoding="utf-8", newline="") as stream:
        stream.write(text)
