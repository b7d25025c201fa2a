"""The class: a roster CSV (an ``id`` column, optionally ``name``), ids 1..N, or a list.

A student's id names their files (``<id>.toml``, ``<id>.pdf``), so it is refused unless it is
a plain file name: letters, digits, ``-``, ``_`` and ``.``, starting with a letter or a digit,
not ending with a dot, at most 64 characters, none of the folder's own files (``key``) and
none of the names Windows reserves (``con``, ``nul``, ...). No two ids may differ only in
case (they would be one file on macOS and Windows). A name may hold anything printable: it is
escaped wherever it is written (Typst, LaTeX, Markdown, HTML, XML).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.terminal import CONTROLS

__all__ = [
    "MAX_NAME",
    "MAX_ROSTER_BYTES",
    "MAX_STUDENTS",
    "RosterError",
    "Student",
    "count_roster",
    "given_roster",
    "read_roster",
]

MAX_ROSTER_BYTES = 5_000_000
"""The largest roster read: a class list of thousands of rows is a few hundred kilobytes."""

MAX_STUDENTS = 5000
"""The most students of one run."""

MAX_NAME = 200
"""The longest name (characters)."""

_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?")
_RESERVED = {"key", "con", "prn", "aux", "nul"} | {
    f"{p}{d}" for p in ("com", "lpt") for d in range(10)
}


class RosterError(ValueError):
    """A roster that cannot be used, naming the file, the row and the column."""


@dataclass(frozen=True)
class Student:
    """One student: the id that names their files, and their name (possibly empty)."""

    id: str
    name: str = ""


def _id_problem(given: str) -> str | None:
    """Why ``given`` cannot be an id, or None."""
    if not given:
        return "the id is empty"
    if not _ID.fullmatch(given):
        return (
            f"the id {given!r} is not a plain file name (letters, digits, - _ . only, starting "
            "with a letter or digit, not ending with a dot, at most 64 characters)"
        )
    if given.lower().split(".")[0] in _RESERVED:
        return f"the id {given!r} is reserved (it names the key, or a device on Windows)"
    return None


def _name_problem(name: str) -> str | None:
    if CONTROLS.search(name):
        return (
            f"the name {name!r} holds a control character (a line break, a tab, a bidi control...)"
        )
    if len(name) > MAX_NAME:
        return f"the name is {len(name)} characters long (at most {MAX_NAME})"
    return None


def _checked(students: list[tuple[str, Student]], source: str) -> list[Student]:
    """The students, each id and name checked and no id twice; each entry's label (``line 3``)
    and ``source`` (the file, or ``roster``) name it."""
    if not students:
        raise RosterError(f"{source}: the roster lists no student")
    if len(students) > MAX_STUDENTS:
        raise RosterError(
            f"{source}: the roster lists {len(students)} students (at most {MAX_STUDENTS})"
        )
    seen: dict[str, tuple[str, str]] = {}
    for label, student in students:
        id_problem, name_problem = _id_problem(student.id), _name_problem(student.name)
        if id_problem or name_problem:
            column = "id" if id_problem else "name"
            raise RosterError(f"{source}, {label}, column {column!r}: {id_problem or name_problem}")
        folded = student.id.casefold()
        if folded in seen:
            first, given = seen[folded]
            raise RosterError(
                f"{source}, {label}, column 'id': the id {student.id!r} is already {first}'s "
                f"({given!r}); every student needs their own id, and ids name files, so they "
                "must differ in more than case"
            )
        seen[folded] = (label, student.id)
    return [student for _, student in students]


def count_roster(count: int) -> list[Student]:
    """Students with the ids ``1`` to ``count`` and no names."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_STUDENTS:
        raise RosterError(f"the count must be an integer from 1 to {MAX_STUDENTS}, got {count!r}")
    return [Student(str(k)) for k in range(1, count + 1)]


def given_roster(entries) -> list[Student]:
    """Students from Python: ids, ``(id, name)`` pairs or :class:`Student` objects."""
    students = []
    for index, entry in enumerate(entries, 1):
        if isinstance(entry, Student):
            student = entry
        elif isinstance(entry, str):
            student = Student(entry)
        elif (
            isinstance(entry, tuple) and len(entry) == 2 and all(isinstance(e, str) for e in entry)
        ):
            student = Student(*entry)
        else:
            raise RosterError(
                f"roster, entry {index}: expected an id, an (id, name) pair or a Student, got "
                f"{type(entry).__name__}"
            )
        students.append((f"entry {index}", student))
    return _checked(students, "roster")


def read_roster(path) -> list[Student]:
    """The students of a roster CSV: a header row with an ``id`` column and optionally a
    ``name`` column (other columns are ignored), then one row per student.

    Raises
    ------
    RosterError
        Naming the file, the row (its line) and the column: no ``id`` column, a row of another
        number of fields, an empty, unusable or duplicate id, a name with a control character.
    """
    path = Path(path)
    text = _roster_text(path)
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip().casefold() for cell in next(rows, [])]
        columns = _columns(header, path)
        students = []
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if len(row) != len(header):
                raise RosterError(
                    f"{path}, line {line}: the row has {len(row)} fields, the header {len(header)}"
                )
            student = Student(*(row[i].strip() if i is not None else "" for i in columns))
            students.append((f"line {line}", student))
    except csv.Error as error:
        raise RosterError(
            f"{path}, line {rows.line_num}: not a readable CSV row ({error})"
        ) from None
    return _checked(students, str(path))


def _roster_text(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_ROSTER_BYTES + 1)
    except FileNotFoundError:
        raise RosterError(f"{path}: no such file") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"{path}: the roster is over {MAX_ROSTER_BYTES} bytes; check the path")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterError(
            f"{path}: not UTF-8 text (byte {error.start}); save the roster as CSV UTF-8"
        ) from None


def _columns(header: list[str], path: Path) -> tuple[int, int | None]:
    """The positions of the ``id`` and ``name`` columns."""
    if "id" not in header:
        shown = ", ".join(repr(h) for h in header[:8]) or "nothing"
        raise RosterError(f"{path}, line 1: the header has no 'id' column (it has {shown})")
    for column in ("id", "name"):
        if header.count(column) > 1:
            raise RosterError(f"{path}, line 1: the header has two {column!r} columns")
    return header.index("id"), header.index("name") if "name" in header else None
