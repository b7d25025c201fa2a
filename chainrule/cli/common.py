"""What the command handlers share: the error type, argument types, atomic text output."""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings

from .._atomic import atomic_open


class CommandError(Exception):
    """A problem the user can fix; printed as ``chainrule: error: <message>`` with exit 2."""


@contextlib.contextmanager
def plain_warnings():
    """Within the block, a warning is one line on stderr, ``chainrule: warning: <message>``,
    not Python's format (file, line number, source line)."""

    def show(message, category, filename, lineno, file=None, line=None):
        one_line = " ".join(str(message).splitlines())  # \r, \x85, \u2028... too
        print(f"chainrule: warning: {one_line}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return value


def _float(text: str, example: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}") from None


def positive_float(text: str) -> float:
    """A finite number > 0, such as a learning rate."""
    value = _float(text, "a number such as 0.01")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1), such as a validation fraction."""
    value = _float(text, "a fraction such as 0.1")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def write_text(text: str, path: str | None, what: str = "file") -> None:
    """Write to stdout, or to ``path`` atomically (a failed run leaves an old file intact)."""
    if path is None:
        sys.stdout.write(text)
        return
    with atomic_open(path, "w", what=what, encoding="utf-8", newline="") as stream:
        stream.write(text)
