"""Text from a file, made safe to show on a terminal.

A spec file's title and symbol names, a CSV file's column names and labels, a model file's
classes: any of them can hold an escape sequence (``\\x1b[2K``, which erases the line), a
carriage return, a backspace, or a Unicode bidi control (``\\u202e`` shows what follows right
to left), and a terminal acts on them: a wrong claim could show as correct, a line could vanish.
:func:`printable` writes each such character as a visible escape instead, the way ``repr``
does (``\\x1b``, ``\\r``, ``\\u202e``), and leaves every other character as it is (accents, CJK,
emoji). Whatever the command line or a text renderer shows from a file goes through it; JSON
output goes through :func:`printable_json`, which writes the same characters as JSON escapes.
"""

from __future__ import annotations

import re

__all__ = ["CONTROLS", "printable", "printable_json", "printable_lines"]

CONTROLS = re.compile(
    "["
    "\x00-\x1f"  # C0: ESC, BEL, backspace, carriage return, line feed, tab...
    "\x7f"  # DEL
    "\x80-\x9f"  # C1: CSI (\x9b) and OSC (\x9d) start sequences too; NEL (\x85) ends a line
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi controls: marks, embeddings, isolates
    "\u2028\u2029"  # line and paragraph separators
    "]"
)
"""The characters :func:`printable` escapes."""


def _escape(match: re.Match) -> str:
    return repr(match.group())[1:-1]  # '\x1b', '\r', '\u202e': what repr writes


def printable(text: str) -> str:
    """``text`` with every character in :data:`CONTROLS` written as a visible escape, as
    ``repr`` writes it (``'a\\x1b[2Kb'`` shows as ``a\\x1b[2Kb``), a line break too: the result
    is one line, and safe to print. Anything else is kept, a backslash included."""
    return CONTROLS.sub(_escape, text)


def printable_lines(text: str) -> str:
    """:func:`printable` on each line of ``text``, keeping its ``\\n`` line breaks: for a
    multi-line text the program wrote itself around names from a file."""
    return "\n".join(printable(line) for line in text.split("\n"))


_JSON_RAW = re.compile(CONTROLS.pattern.replace("\x00-\x1f", "", 1))
"""What ``json.dumps(..., ensure_ascii=False)`` leaves raw of :data:`CONTROLS`: it escapes C0
characters itself, and its own line breaks (``indent``) must stay."""


def printable_json(document: str) -> str:
    """A JSON text (from ``json.dumps``) with every character of :data:`CONTROLS` that it holds
    raw written as a ``\\uXXXX`` escape: the same JSON value, safe to print. Outside its
    strings JSON holds only ASCII punctuation, digits, letters and whitespace, so every
    character replaced is inside a string."""
    return _JSON_RAW.sub(lambda match: f"\\u{ord(match.group()):04x}", document)
