"""What the students wrote: an answers table, or a folder of filled-in spec files.

An answers table (``ANSWERS.csv``) has an ``id`` column and one column per asked quantity,
holding each answer as the student typed it: ``0.0436``, ``-0,12`` (a decimal comma), empty
when unanswered; as spreadsheets, forms and learning platforms export it: UTF-8 with or without
a byte-order mark (UTF-16 with one; Windows-1252 when it is not UTF-8), ``,``, ``;`` or tab
separators, CRLF line ends. A folder holds one spec file per student, ``<id>.toml``, its
``[claims]`` table filled in (as ``check`` reads one).

Every problem is one line naming the file, the row and the column (or the file and the claim),
and the rest is read: a column that names no asked quantity, a row without an id, a cell that is
no number (graded as unanswered). What is read is bounded: :data:`MAX_BYTES` of a table,
:data:`MAX_FILE_BYTES` of a spec file, :data:`MAX_FILES` files, :data:`MAX_NUMBER` characters
of a number.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..explain.spec import SpecError, parse_spec
from .problems import Problems, quoted

__all__ = [
    "MAX_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_NUMBER",
    "Answer",
    "Sheet",
    "number_text",
    "read_answers",
    "read_bounded",
]

MAX_BYTES = 16 * 2**20
"""The most bytes of an answers table read (a class of 1000 with 20 answers is about 200 kB)."""
MAX_FILE_BYTES = 2**20
"""The most bytes of one spec file read (a variant with its claims is a few kB)."""
MAX_FILES = 10_000
"""The most spec files of a folder read."""
MAX_NUMBER = 64
"""The most characters of an answer read as a number."""

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SPACE = re.compile(r"\s+")  # spaces, tabs, no-break and thin spaces (1 234,5)
_DELIMITERS = (",", ";", "\t")
_UNREADABLE = "unreadable number"


@dataclass(frozen=True)
class Answer:
    """One answer: the ``text`` as written, the ``number`` it writes (normalised: a decimal
    point, no spaces; None when it writes none) and ``where`` it was read."""

    text: str
    number: str | None
    where: str


@dataclass
class Sheet:
    """One student's answers, by quantity, read from ``where`` (a row or a file)."""

    id: str
    where: str
    answers: dict[str, Answer] = field(default_factory=dict)


def number_text(text: str) -> str | None:
    """The number ``text`` writes, as ``check`` reads a claim (``'-0,12'`` -> ``'-0.12'``,
    ``' 1 234.5 '`` -> ``'1234.5'``, ``'−3e-2'`` -> ``'-3e-2'``), its written digits kept;
    None when it writes no finite number (or more than :data:`MAX_NUMBER` characters)."""
    if len(text) > MAX_NUMBER:
        return None
    written = _SPACE.sub("", text).replace("\u2212", "-")  # the typographic minus
    if "," in written:
        if "." in written or written.count(",") > 1:
            return None  # 1,234.5 or 1,2,3: no decimal comma alone
        written = written.replace(",", ".")
    if not _NUMBER.fullmatch(written):
        return None
    try:
        number, decimal = float(written), Decimal(written)
    except (ValueError, InvalidOperation):  # pragma: no cover - the pattern admits neither
        return None
    exponent = decimal.as_tuple().exponent
    if not math.isfinite(number) or (number == 0) != decimal.is_zero():
        return None  # 1e400, 1e-400
    if exponent > sys.float_info.max_10_exp:
        return None  # 0e400: its last digit lies beyond a float
    return written


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, or a ValueError when it holds more than ``limit``."""
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(
            f"{path}: {what} larger than {limit // 2**20} MB; expected a class's answers "
            "(a few kB per student)"
        )
    return data


def read_answers(path, symbols: set[str], problems: Problems) -> list[Sheet]:
    """The sheets of an answers table or of a folder of spec files, in the order read; the
    columns or claims that name none of ``symbols`` are reported and left out."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, symbols, problems)
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder; expected ANSWERS.csv or a folder")
    return _read_table(path, symbols, problems)


# -- a table ------------------------------------------------------------------------------------


def _decoded(path: Path, data: bytes, problems: Problems) -> str:
    """The text of a table: UTF-16 or UTF-8 by its byte-order mark, else UTF-8, else (with a
    warning) Windows-1252, which Excel writes on Windows."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(
            "encoding",
            f"{path}: not UTF-8 (byte {error.start + 1}); read as Windows-1252. Fix: save it "
            "as CSV UTF-8",
        )
        return data.decode("cp1252", errors="replace")


def _delimiter(path: Path, first_line: str) -> str:
    """The separator the header row uses: the one of ``,``, ``;`` and tab that makes an
    ``id`` column of it."""
    for delimiter in sorted(_DELIMITERS, key=first_line.count, reverse=True):
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        if any(cell.strip().lower() == "id" for cell in cells):
            return delimiter
    raise ValueError(
        f"{path} row 1: no 'id' column in the header {quoted(first_line, 80)}; expected the "
        "columns id, then one per asked quantity (as key.csv has them)"
    )


@contextlib.contextmanager
def _field_limit(limit: int):
    """Within the block, csv reads a field of up to ``limit`` characters (one cell may hold
    the whole bounded file; csv's default stops at 128 kB with an exception)."""
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_table(path: Path, symbols: set[str], problems: Problems) -> list[Sheet]:
    text = _decoded(path, read_bounded(path, MAX_BYTES, "an answers file"), problems)
    first_line = next(iter(text.splitlines()), "")
    delimiter = _delimiter(path, first_line)
    with _field_limit(MAX_BYTES):
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        columns = _columns(path, next(rows, []), symbols, problems)
        sheets = []
        for number, row in enumerate(rows, start=2):  # as a spreadsheet numbers its rows
            sheet = _row_sheet(path, number, row, columns, problems)
            if sheet is not None:
                sheets.append(sheet)
    return sheets


def _columns(path: Path, header: list[str], symbols: set[str], problems) -> dict[int, str]:
    """The header's columns that are read, by index: ``id`` and each asked quantity (the
    first of a repeated one); the others are reported (``name`` is expected and not)."""
    columns, seen = {}, set()
    for index, cell in enumerate(header):
        name = cell.strip()
        where = f"{path} row 1, column {index + 1} ({quoted(name)})"
        if name.lower() == "id" and "id" not in seen:
            columns[index], name = "id", "id"
        elif name in seen:
            problems.add("repeated column", f"{where}: a second column of that name; not read")
        elif name in symbols:
            columns[index] = name
        elif name and name.lower() != "name":
            close = difflib.get_close_matches(name, sorted(symbols), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.add(
                "column not asked",
                f"{where}: no asked quantity; {hint}its answers are not graded (the "
                f"exercise asks {', '.join(sorted(symbols))})",
            )
        seen.add(name)
    return columns


def _row_sheet(path: Path, number: int, row: list[str], columns: dict, problems):
    """The sheet of one row, or None for an empty row or one without an id."""
    if not any(cell.strip() for cell in row):
        return None
    cells = {columns[i]: cell.strip() for i, cell in enumerate(row) if i in columns}
    where = f"{path} row {number}"
    if not cells.get("id"):
        problems.add("row without id", f"{where}: no id; the row is not graded")
        return None
    sheet = Sheet(cells.pop("id"), where)
    for symbol, text in cells.items():
        if text:
            sheet.answers[symbol] = _answer(text, f"{where}, column {quoted(symbol)}", problems)
    return sheet


def _answer(text: str, where: str, problems: Problems) -> Answer:
    number = number_text(text)
    if number is None:
        problems.add(
            _UNREADABLE,
            f"{where}: {quoted(text)} is not a number; expected a decimal number as typed "
            "(0.0436, -0,12, 4.36e-2); graded as unanswered",
        )
    return Answer(text, number, where)


# -- a folder of spec files ---------------------------------------------------------------------


def _read_folder(folder: Path, symbols: set[str], problems: Problems) -> list[Sheet]:
    paths = sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())
    if len(paths) > MAX_FILES:
        raise ValueError(
            f"{folder}: {len(paths)} spec files, more than the {MAX_FILES} read; expected one "
            "per student"
        )
    sheets = []
    for path in paths:
        sheet = _read_submission(path, symbols, problems)
        if sheet is not None:
            sheets.append(sheet)
    return sheets


def _read_submission(path: Path, symbols: set[str], problems: Problems) -> Sheet | None:
    """A student's spec file: their id (the ``[exercise]`` table's, else the file's name) and
    the asked quantities of its ``[claims]``."""
    try:
        text = read_bounded(path, MAX_FILE_BYTES, "a spec file").decode("utf-8-sig")
        document = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, UnicodeDecodeError
        problems.add("unreadable file", f"{path}: not a readable spec file ({error}); not graded")
        return None
    exercise = document.get("exercise")
    given = exercise.get("id") if isinstance(exercise, dict) else None
    sheet = Sheet(given if isinstance(given, str) and given.strip() else path.stem, str(path))
    for name, written in _claims(path, text, document, problems):
        where = f"{path}, claim {quoted(name)}"
        if name in symbols:
            sheet.answers[name] = _answer(written, where, problems)
        else:
            problems.add("claim not asked", f"{where}: no asked quantity; not graded")
    return sheet


def _claims(path: Path, text: str, document: dict, problems: Problems) -> list[tuple[str, str]]:
    """``(name, text as written)`` of each claim: as ``check`` reads them when the file is a
    valid spec (a bare number keeps its written digits: ``0.40``), else from the TOML alone."""
    try:
        return [(claim.name, claim.text) for claim in parse_spec(text, str(path)).claims]
    except SpecError as error:
        problems.add("invalid spec", f"{error}; its [claims] are read alone")
    table = document.get("claims")
    if not isinstance(table, dict):
        return []
    return [(str(name), str(value)) for name, value in table.items() if not isinstance(value, dict)]
