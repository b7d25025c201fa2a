"""CSV files for the command line: read a table, pick the target, check every value.

Every problem is a :class:`DataError` (a ``ValueError``) that names the file, the column and the
row (counted as in a spreadsheet: the header is row 1; for a pandas DataFrame, the row's index
label), so the command line can print one line. A message that names an option spells it as
the caller does (:func:`spelled`): ``--features`` on the command line (within
:func:`command_line_spelling`), ``features=`` in Python; one that names a column the table
lacks suggests the closest it has (:func:`close_match`).

Files as people have them: a compressed CSV (gzip, bz2, xz, zstd: by its first bytes) is read
as it is decompressed; numbers written with a decimal comma (``5,1``) in a ``;`` or tab
separated file are read as numbers, with a warning saying so (``decimal``); a missing cell is
spelled alike in a file and in a DataFrame's text (:data:`MISSING`).
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import difflib
import io
import itertools
import mmap
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.extras import install_hint
from ..core.validation import not_a_file
from ..training.replicas import ONE_PROCESS
from . import arrow_csv as _arrow_csv

__all__ = [
    "Block",
    "DECIMAL_COMMA",
    "DataError",
    "FieldCountError",
    "MISSING",
    "Table",
    "as_table",
    "close_match",
    "command_line_spelling",
    "dataset_table",
    "did_you_mean",
    "from_frame",
    "infer_task",
    "is_number",
    "missing_spellings",
    "numeric_column",
    "numeric_matrix",
    "read_as_text",
    "read_csv",
    "read_csv_block",
    "rows_with_target",
    "sort_labels",
    "spelled",
    "spelled_choices",
    "spelled_none",
    "target_column",
    "with_decimal_commas",
]

MISSING = {"", "na", "nan", "null", "none", "n/a", "?"}

#: A number written with a decimal comma (``5,1``, ``-0,25``, ``,5``, ``1,5e3``; an integer
#: too), as a spreadsheet set to a European language writes it in a ``;``-separated file.
DECIMAL_COMMA = re.compile(r"[+-]?(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?")

_COMMAND_LINE = contextvars.ContextVar("chainrule_command_line", default=False)


@contextlib.contextmanager
def command_line_spelling():
    """Within the block, messages name options as the command line spells them
    (``--features``, ``--decimal ,``); outside it, as Python's keywords (``features=``,
    ``decimal=','``). The command line runs every command within it."""
    token = _COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


def spelled(name: str, value=None) -> str:
    """The option ``name`` (a Python keyword, ``drop_missing_target``), with ``value`` if
    given, as the caller spells it: ``--drop-missing-target`` (a value of True left out),
    ``--task classification`` on the command line; ``drop_missing_target=True``,
    ``task='classification'``, or ``features=`` without a value, in Python. A list of names
    is ``--drop a,b`` on the command line, ``drop=['a', 'b']`` in Python."""
    if _COMMAND_LINE.get():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        return flag if value is None or value is True else f"{flag} {value}"
    return f"{name}=" if value is None else f"{name}={value!r}"


def spelled_none(name: str) -> str:
    """The option ``name`` set to nothing, as the caller spells it: ``--min-frequency none``
    on the command line, ``min_frequency=None`` in Python."""
    return f"--{name.replace('_', '-')} none" if _COMMAND_LINE.get() else f"{name}=None"


def spelled_choices(name: str, values) -> str:
    """The option ``name`` with one of ``values``, as the caller spells it:
    ``--impute median, mean or most_frequent`` on the command line, ``impute='median', 'mean'
    or 'most_frequent'`` in Python (see :func:`spelled`)."""
    values = list(values)
    first = spelled(name, values[0])
    shown = [str(v) if _COMMAND_LINE.get() else repr(v) for v in values[1:]]
    if not shown:
        return first
    return f"{', '.join([first, *shown[:-1]])} or {shown[-1]}"


def close_match(name: str, names) -> str | None:
    """The one of ``names`` that ``name`` most likely meant: the same name in another case
    (``Species`` for ``species``), else the closest by :mod:`difflib` (a ratio of at least 0.6),
    else None."""
    names = list(names)
    folded = [n for n in names if n.casefold() == name.casefold()]
    if folded:
        return folded[0]
    close = difflib.get_close_matches(name, names, n=1)
    return close[0] if close else None


def did_you_mean(name: str, names) -> str:
    """`` (did you mean 'species'?)`` for :func:`close_match`'s column, or nothing."""
    match = close_match(name, names)
    return f" (did you mean {match!r}?)" if match is not None else ""


class DataError(ValueError):
    """A CSV file that cannot be used as it is."""


class FieldCountError(DataError):
    """A row with the wrong number of fields; ``index`` counts the data rows before it in the
    block read, ``first`` the file's data rows before the block."""

    def __init__(self, path, index: int, found: int, expected: int, first: int = 0):
        super().__init__(
            f"{path}: row {first + index + 2} has {found} fields, the header has {expected}"
        )
        self.path, self.index, self.found, self.expected = path, index, found, expected


@dataclass
class Table:
    """A table's header and its columns, one array each: float64 or int64 for a column of
    numbers (NaN where a cell is missing), an object array of text otherwise (None where
    missing). Messages name a row as :meth:`row` says: counted as in a spreadsheet (the header
    is row 1) for a file, by its index label for a DataFrame."""

    path: str
    columns: list[str]
    data: dict[str, np.ndarray]
    first: int = 0  # the file's rows before this table's first (a block of a larger table)
    index: np.ndarray | None = None  # a DataFrame's index labels, one per row
    lines: np.ndarray | None = None  # each row's number in the file, where rows were left out

    def row(self, r: int) -> str:
        """Row ``r`` (from 0, of this table) as a message names it: ``'row 5'`` for a file (the
        header is row 1, as in a spreadsheet or an editor's line numbers; for a table of some
        of a file's rows, the row's own number in the file), ``"the row with index 'b'"`` for a
        DataFrame, whose users look rows up by label (``frame.loc``)."""
        if self.index is not None:
            return f"the row with index {self.index[r]!r}"
        if self.lines is not None:
            return f"row {self.lines[r]}"
        return f"row {self.first + r + 2}"

    @property
    def n_rows(self) -> int:
        return len(self.data[self.columns[0]])

    def column(self, name: str) -> list[str]:
        """A column as text (a missing cell as ``""``), as a CSV file would hold it."""
        values = self.data[name]
        if values.dtype.kind == "i":
            return values.astype(str).tolist()
        if values.dtype.kind == "f":
            return [repr(v) if v == v else "" for v in values.tolist()]
        return ["" if v is None else v for v in values]

    def take(self, rows) -> Table:
        """The table restricted to the given row indices, each row keeping its number in the
        file for messages (a ``range`` of rows, a block, as its ``first``)."""
        block = isinstance(rows, range) and rows.step == 1
        first = self.first + rows.start if block else 0
        data = {k: v[rows] for k, v in self.data.items()}
        index = None if self.index is None else self.index[rows]
        lines = None if self.lines is None else self.lines[rows]
        if lines is None and index is None and not block:
            lines = self.first + 2 + _positions(rows, self.n_rows)
        return Table(self.path, self.columns, data, first, index, lines)

    @classmethod
    def from_rows(cls, path: str, columns: list[str], rows: list[list[str]]) -> Table:
        """A table from rows of text fields, each column typed as :func:`read_csv` types it."""
        return cls(
            path,
            columns,
            {name: _typed(col) for name, col in zip(columns, zip(*rows, strict=True), strict=True)},
        )

    def is_numeric(self, name: str) -> bool:
        return self.data[name].dtype != object


def _positions(rows, n_rows: int) -> np.ndarray:
    """The positions (from 0) that ``rows`` (indices, a mask or a slice) selects of ``n_rows``."""
    if isinstance(rows, slice):
        return np.arange(n_rows)[rows]
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def missing_spellings() -> list[str]:
    """The missing-value spellings in every mix of cases (``nAn``, ``N/a``), for pyarrow's exact
    match: the csv module's reader compares a field's lower case with :data:`MISSING`."""
    return sorted(
        {
            "".join(letters)
            for spelling in MISSING
            for letters in itertools.product(*({c.lower(), c.upper()} for c in spelling))
        }
    )


def _header(path: Path) -> tuple[list[str], str, int]:
    """The header's column names, the delimiter (',' unless the header's first line holds more
    ';' or tabs than commas) and the number of lines before the data (blank lines, then the
    header's own: a quoted name may hold a line break); checked as documented in
    :func:`read_csv`."""
    try:
        with _arrow_csv.open_text(path) as stream:
            skipped, line = 0, ""
            for line in stream:
                if line.strip(" \t\r\n,;"):
                    break
                skipped += 1
            else:
                line = ""
            if not line:
                raise DataError(f"{path}: the file is empty")
            delimiter = max(",;\t", key=line.count) if line.count(",") == 0 else ","
            reader = csv.reader(itertools.chain([line], stream), delimiter=delimiter)
            header = [name.strip() for name in next(reader)]
            lines = skipped + reader.line_num
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except csv.Error as error:
        raise DataError(f"{path}: not a readable CSV file ({error})") from None
    if all(is_number(name) for name in header):
        raise DataError(
            f"{path}: the first row holds numbers, not column names; add a header "
            "row naming the columns"
        )
    _check_names(path, header, "the header")
    return header, delimiter, lines


def _check_names(path, names: list[str], where: str) -> None:
    """A DataError for a column without a name or a name given twice (in time linear in the
    number of columns: a file may have a hundred thousand)."""
    if not all(names):
        raise DataError(f"{path}: column {names.index('') + 1} of {where} has no name")
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise DataError(f"{path}: the column name {duplicated[0]!r} appears twice in {where}")


# what a file that is not UTF-8 text most likely is, by its first bytes (once decompressed)
_SIGNATURES = {
    b"PK\x03\x04": "a zip archive (an Excel workbook?): export the sheet as CSV",
    b"\xff\xfe": "UTF-16 text: save it as UTF-8",
    b"\xfe\xff": "UTF-16 text: save it as UTF-8",
}


def _not_utf8(path) -> DataError:
    """The error for a file that is not UTF-8: what it is by its first bytes (zip, UTF-16),
    else the line and byte where UTF-8 decoding fails (scanned a megabyte at a time); a
    compressed file's text is what is looked at."""
    with _arrow_csv.open_binary(path) as (stream, _):
        start = stream.read(4)
        for signature, what in _SIGNATURES.items():
            if start.startswith(signature):
                return DataError(f"{path}: not a CSV text file: it is {what}")
    with _arrow_csv.open_binary(path) as (stream, _):
        decoder, line = codecs.getincrementaldecoder("utf-8")(), 1
        while chunk := stream.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:  # error.object: bytes held back, then chunk
                line += error.object[: error.start].count(b"\n")
                return DataError(
                    f"{path}: line {line} is not UTF-8 text (byte 0x{error.object[error.start]:02x}"
                    "); save the file as UTF-8 (it may be Latin-1 or Windows-1252)"
                )
            line += chunk.count(b"\n")
    return DataError(f"{path}: not a UTF-8 text file (is it a CSV file?)")


def read_csv(path, *, decimal: str | None = None) -> Table:
    """Read a CSV file with a header row (or a Parquet file, by its suffix ``.parquet``/``.pq``).

    The delimiter is a comma, or a semicolon or tab when the header holds no comma. With
    pyarrow installed (the ``tables`` extra) the file is parsed by pyarrow's multithreaded
    CSV reader a few megabytes at a time, straight into one numpy array per column (memory
    stays near the parsed data); without it, or for a file pyarrow refuses, by Python's
    ``csv`` module, which names the row at fault (reading through the file without keeping
    it). Both give the same table, value for value. A quoted field may hold line breaks and
    delimiters. Every field loses the spaces and tabs around it. A column is int64 when every
    field is an integer within int64 (digits and a minus sign at most: not ``+1``, ``1.0``,
    ``1e3`` or ``0x1F``), float64 (NaN where missing) when every present field is a number
    (``1.5``, ``-2e3``, ``+1``, ``inf``, or an integer beyond int64), else text as written
    (None where missing); a missing field is empty or one of ``MISSING``, in any case.

    A file compressed with gzip, bz2, xz or zstd (known by its first bytes, whatever its name)
    is read as it is decompressed, a chunk at a time as a plain file is (zstd needs Python
    3.14, the ``zstandard`` module or pyarrow).

    ``decimal`` is the decimal mark of the file's numbers: with ``','`` every text column whose
    fields are all numbers written with a decimal comma (:data:`DECIMAL_COMMA`: ``5,1``) is
    read as numbers; with ``'.'`` such columns stay text. By default a ``;`` or tab separated
    file's such columns are read as numbers, with a warning naming them (never silently
    categories).

    Raises
    ------
    DataError
        For a missing or unreadable file, an empty file, a file with no header (its first row
        is all numbers), duplicated or empty column names (in a Parquet file too), a row with
        the wrong number of fields, a Parquet column of integers that int64 (or, with missing
        cells, float64) cannot hold exactly, or a compressed file that is damaged, cut short
        or (zstd) without a decompressor.
    """
    path = Path(path)
    _check_input(path)
    _check_decimal(decimal)
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    with _readable_compression():
        header, delimiter, lines = _header(path)
        table = _parse_csv(path, str(path), header, delimiter, lines)
    return with_decimal_commas(table, decimal, delimiter)


@contextlib.contextmanager
def _readable_compression():
    """A compressed file that cannot be read (damaged, cut short, zstd without a
    decompressor: :class:`~chainrule.tables.arrow_csv.CompressionError`) as a DataError."""
    try:
        yield
    except _arrow_csv.CompressionError as error:
        raise DataError(str(error)) from None


DECIMALS = (".", ",")


def _check_decimal(decimal) -> None:
    """A ValueError naming ``decimal`` unless it is None, ``'.'`` or ``','``."""
    if decimal is not None and decimal not in DECIMALS:
        raise ValueError(f"'decimal' must be '.' or ',', got {decimal!r}")


def with_decimal_commas(table: Table, decimal: str | None, delimiter: str, group=None) -> Table:
    """``table`` (read from a file separated by ``delimiter``) with its columns of numbers
    written with a decimal comma (:func:`_decimal_comma_columns`) read as float64: with
    ``decimal=','`` silently, with ``None`` in a ``;`` or tab separated file with a warning
    naming them and the option, never with ``'.'``. With a ``group``, ``table`` is this
    process's block, and a column is read so where it is so over every process's rows."""
    _check_decimal(decimal)
    if decimal == "." or (decimal is None and delimiter == ","):
        return table
    found = _decimal_comma_columns(table, ONE_PROCESS if group is None else group)
    for name in found:
        table.data[name] = np.array(
            [np.nan if v is None else float(v.replace(",", ".")) for v in table.data[name]]
        )
    if found and decimal is None:
        warnings.warn(
            f"{table.path}: read {_named(found)} as numbers written with a decimal comma (5,1 "
            f"as 5.1); pass {spelled('decimal', ',')} to say so, or {spelled('decimal', '.')} "
            "to read them as text",
            UserWarning,
            stacklevel=3,
        )
    return table


def _named(names: list[str], most: int = 5) -> str:
    """``the column 'a'``, ``the columns 'a', 'b'``, or the first ``most`` and a count."""
    shown = ", ".join(map(repr, names[:most]))
    if len(names) > most:
        shown += f" and {len(names) - most} more"
    return f"the column {shown}" if len(names) == 1 else f"the columns {shown}"


def _decimal_comma_columns(table: Table, group) -> list[str]:
    """The text columns whose present fields are all :data:`DECIMAL_COMMA` numbers, one at
    least with a comma (a column of numbers without one is numbers already), counted over
    every process's rows of ``group`` (a text column is text in every process's block)."""
    names = [name for name in table.columns if table.data[name].dtype == object]
    if not names:
        return []
    counts = []  # per column: whether a field is no such number, whether one has a comma
    for name in names:
        values = table.data[name]
        other = any(v is not None and not DECIMAL_COMMA.fullmatch(v) for v in values)
        counts += [other, not other and any(v is not None and "," in v for v in values)]
    totals = np.asarray(group.sum(np.array(counts, dtype=np.float64)))
    return [
        name
        for name, others, commas in zip(names, totals[0::2], totals[1::2], strict=True)
        if others == 0 and commas > 0
    ]


def read_as_text(path, columns) -> Table:
    """The named columns of a CSV or Parquet file as text, each field as the file holds it:
    for a CSV file the text written there (less the spaces and tabs around it, as
    :func:`read_csv` reads every field), a missing cell included (``''``, ``NA``), never
    typed (``02134`` stays ``02134``, ``1e3`` stays ``1e3``, a 20-digit number keeps its
    digits); for a Parquet file each value as text (``''`` where missing). What ``predict``
    writes back of its input. The rows are those of :func:`read_csv`.

    Raises
    ------
    DataError
        As :func:`read_csv`, and for a name that is not a column of the file.
    """
    path = Path(path)
    _check_input(path)
    columns = list(columns)
    if path.suffix.lower() in (".parquet", ".pq"):
        return _parquet_as_text(path, columns)
    with _readable_compression():
        return _csv_as_text(path, columns)


def _csv_as_text(path: Path, columns: list[str]) -> Table:
    """:func:`read_as_text` for a CSV file."""
    header, delimiter, lines = _header(path)
    position = {name: i for i, name in enumerate(header)}
    absent = [name for name in columns if name not in position]
    if absent:
        raise DataError(
            f"{path}: no column named {absent[0]!r}{did_you_mean(absent[0], header)}; the "
            f"columns are {', '.join(header)}"
        )
    data = None
    try:
        import pyarrow.csv  # noqa: F401

        data = _arrow_csv.read_columns(
            path, header, delimiter, lines, [], text=columns, columns=columns
        )
    except ImportError:
        pass
    except _arrow_csv.Unparsed:
        data = None
    if data is None:
        _check_with_csv_module(path, str(path), header, delimiter, lines)
        where = [position[name] for name in columns]
        fields: list[list[str]] = [[] for _ in columns]
        for row in _csv_module_records(path, str(path), header, delimiter, lines):
            for values, at in zip(fields, where, strict=True):
                values.append(row[at])
        data = {name: np.array(v, dtype=object) for name, v in zip(columns, fields, strict=True)}
    if not data or not len(data[columns[0]]):
        raise DataError(f"{path}: the file has a header but no data rows")
    return Table(str(path), columns, data)


def _parquet_as_text(path: Path, columns: list[str]) -> Table:
    """:func:`read_as_text` for a Parquet file: each value cast to text by pyarrow."""
    parquet = _parquet_module(path)
    import pyarrow as pa

    try:
        with parquet.ParquetFile(path) as file:
            names = _parquet_names(path, file.schema_arrow.names)
            present = set(names)
            absent = [name for name in columns if name not in present]
            if absent:
                raise DataError(
                    f"{path}: no column named {absent[0]!r}; the columns are {', '.join(names)}"
                )
            arrow = file.read(columns=columns)
        data = {}
        for name in columns:
            column = arrow.column(name)
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                column = column.cast(pa.string())
            values = ["" if v is None else v for v in column.to_pylist()]
            data[name] = np.array(values, dtype=object)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None
    return Table(str(path), columns, data)


def _check_input(path: Path) -> None:
    """A DataError unless ``path`` is a regular file this user can read."""
    problem = not_a_file(path)
    if problem == "missing":
        raise DataError(f"{path}: no such file")
    if problem:
        raise DataError(f"{path}: cannot read it: it is {problem}")


def _parse_csv(source, name: str, header, delimiter: str, skip_rows: int, **chunking) -> Table:
    """A table from CSV text: ``source`` is a path or bytes (such as one process's byte range of
    a file, with ``skip_rows`` 0), whose first ``skip_rows`` lines (blank lines, the header) come
    before the data; ``name`` is the file named in messages, ``header`` names the fields.
    Typed as :func:`read_csv` says: by pyarrow a chunk at a time
    (:mod:`chainrule.tables.arrow_csv`),
    or by the csv module without pyarrow or where pyarrow refuses the text. ``chunking`` sets
    the chunk sizes (tests)."""
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return _read_with_csv_module(source, name, header, delimiter, skip_rows)
    try:
        data = _arrow_csv.read_columns(
            source, header, delimiter, skip_rows, missing_spellings(), **chunking
        )
    except _arrow_csv.Unparsed:
        data = None  # leaving the handler frees the columns read so far
    if data is None:  # a bad row: the csv module names it, reading through the file first
        _check_with_csv_module(source, name, header, delimiter, skip_rows)
        return _read_with_csv_module(source, name, header, delimiter, skip_rows)
    if not data:
        raise DataError(f"{name}: the file has a header but no data rows")
    return Table(name, header, data)


def as_table(data, name: str = "<DataFrame>", *, decimal: str | None = None) -> Table:
    """A :class:`Table` from a Table, a CSV or Parquet path (:func:`read_csv`) or a pandas
    DataFrame (:func:`from_frame`); ``decimal`` as :func:`read_csv` takes it (for a DataFrame,
    ``','`` reads its text columns of decimal-comma numbers as numbers)."""
    _check_decimal(decimal)
    if isinstance(data, Table):
        return data
    if isinstance(data, (str, Path)):
        return read_csv(data, decimal=decimal)
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        table = from_frame(data, name)
        return table if decimal is None else with_decimal_commas(table, decimal, ";")
    raise TypeError(
        f"expected a pandas DataFrame, a file path or a Table, got {type(data).__name__}"
    )


def from_frame(frame, name: str = "<DataFrame>") -> Table:
    """A pandas DataFrame as a table: number columns as float64 (int64 when complete integers),
    every other column as text, NaN/None/NA as missing, and so is text that a CSV file would
    hold for a missing cell (one of :data:`MISSING` in any case, ``?``, ``NA``, ``''``, with the
    spaces around it). Messages name a row by its index label (``the row with index 'b'``), as
    ``frame.loc`` finds it."""
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise DataError(f"{name}: the DataFrame has duplicated column names")
    if len(frame) == 0:
        raise DataError(f"{name}: the DataFrame has no rows")
    data = {}
    for label, column in zip(columns, frame.columns, strict=True):
        series = frame[column]
        kind = series.dtype.kind
        missing = series.isna().to_numpy()
        if kind in "iu" and not missing.any():
            data[label] = series.to_numpy().astype(np.int64)
        elif kind in "iuf":  # pandas' nullable Int64 holds NA: float64 with NaN, as a CSV gap
            data[label] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            data[label] = _frame_text(series.tolist(), missing)
    index = np.empty(len(frame), dtype=object)
    index[:] = frame.index.tolist()  # labels as Python values (a tuple for a MultiIndex)
    return Table(name, columns, data, index=index)


def _frame_text(values: list, missing: np.ndarray) -> np.ndarray:
    """A DataFrame column's cells as text (None where missing: a gap, or text that spells a
    missing cell as a CSV file does)."""
    text = [None if gap else str(v) for v, gap in zip(values, missing, strict=True)]
    return np.array(
        [None if v is None or v.strip(_arrow_csv.SPACE).lower() in MISSING else v for v in text],
        dtype=object,
    )


def _parquet_module(path: Path):
    """``pyarrow.parquet``, or a DataError naming the extra that brings it."""
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise DataError(
            f"{path}: reading Parquet needs pyarrow: {install_hint('tables')}"
        ) from None
    return parquet


def _read_parquet(path: Path) -> Table:
    parquet = _parquet_module(path)
    import pyarrow as pa

    try:
        with parquet.ParquetFile(path) as file:  # read_table would import pandas
            arrow = file.read()
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None
    return _from_arrow(str(path), _parquet_names(path, arrow.column_names), arrow)


def _parquet_names(path, names) -> list[str]:
    """A Parquet file's column names, checked as a CSV header's are (:func:`_check_names`):
    two columns of one name would be read as one."""
    names = [str(name) for name in names]
    _check_names(path, names, "the file's columns")
    return names


def _from_arrow(path: str, header: list[str], arrow) -> Table:
    """Columns of an Arrow table as numpy arrays: numbers as float64 (int64 when whole and
    complete), anything else as text."""
    import pyarrow as pa

    if arrow.num_rows == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    data = {}
    for name, column in zip(header, arrow.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) and column.null_count == 0:
            data[name] = _arrow_numbers(column, "int", path, name)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
            data[name] = _arrow_numbers(column, "float", path, name)
        else:
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                try:
                    column = column.cast(pa.string())
                except pa.ArrowException as error:  # a nested type, bytes that are not UTF-8
                    raise DataError(
                        f"{path}: column {name!r} holds {kind} values, which cannot be read as "
                        f"numbers or text ({error}); remove the column from the file"
                    ) from None
            data[name] = np.array(column.to_pylist(), dtype=object)
    return Table(path, header, data)


def _arrow_numbers(column, kind: str, path: str, name: str) -> np.ndarray:
    """A numeric Arrow column as int64 (``kind='int'``) or float64 (NaN where missing), read
    from its buffers chunk by chunk (``to_numpy`` would import pandas); a DataError naming the
    file and the column for an integer that the type cannot hold exactly."""
    import pyarrow as pa

    target = pa.int64() if kind == "int" else pa.float64()
    try:
        pieces = [_arrow_csv.numeric_values(chunk.cast(target), kind) for chunk in column.chunks]
    except pa.ArrowInvalid as error:  # uint64 beyond int64, an integer beyond 2**53 with gaps
        found = re.search(r"value (-?\d+)", str(error))
        value = found.group(1) if found else "an integer"
        within = (
            "int64 holds integers up to 2**63 - 1"
            if kind == "int"
            else "with missing cells the column is float64, exact for integers up to 2**53"
        )
        raise DataError(
            f"{path}: column {name!r} holds {value}, which cannot be read as a number exactly "
            f"({within}); store the column as text (string), or remove it from the file"
        ) from None
    return np.concatenate(pieces) if pieces else np.empty(0, np.int64 if kind == "int" else float)


def _text_stream(source):
    """A path (a compressed file decompressed) or bytes opened as UTF-8 text for the csv
    module (a BOM skipped)."""
    if isinstance(source, (str, Path)):
        return _arrow_csv.open_text(source)
    return io.TextIOWrapper(io.BytesIO(source), encoding="utf-8-sig", newline="")


def _csv_module_records(
    source, path: str, header: list[str], delimiter: str, skip_rows: int, first: int = 0
):
    """The rows after ``skip_rows`` lines, one at a time, parsed by Python's csv module, each
    field without the spaces and tabs around it; an empty line is skipped, and so is a line
    of spaces alone in a file of several columns (pyarrow refuses such a line: read_csv then
    reads the file with this reader).
    Slow, but it names the row at fault (a :class:`FieldCountError` numbered from ``first``,
    the file's data rows before this text) as it reaches it."""
    wide = len(header) > 1
    try:
        with _text_stream(source) as stream:
            for _ in range(skip_rows):
                stream.readline()
            index = 0
            for row in csv.reader(stream, delimiter=delimiter):
                if not row or (wide and len(row) == 1 and not row[0].strip(_arrow_csv.SPACE)):
                    continue
                if len(row) != len(header):
                    raise FieldCountError(path, index, len(row), len(header), first)
                yield [field.strip(_arrow_csv.SPACE) for field in row]
                index += 1
    except UnicodeDecodeError:
        if isinstance(source, (str, Path)):
            raise _not_utf8(source) from None
        raise DataError(f"{path}: not a UTF-8 text file (is it a CSV file?)") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a readable CSV file ({error})") from None


def _csv_module_rows(
    source, path: str, header: list[str], delimiter: str, skip_rows: int, first: int = 0
) -> list[list[str]]:
    """Every row of :func:`_csv_module_records`, as a list."""
    return list(_csv_module_records(source, path, header, delimiter, skip_rows, first))


def _check_with_csv_module(
    source, path: str, header: list[str], delimiter: str, skip_rows: int
) -> None:
    """The first problem the csv module finds (:func:`_csv_module_records`) as a DataError,
    read through the file keeping one row at a time."""
    for _ in _csv_module_records(source, path, header, delimiter, skip_rows):
        pass


def _read_with_csv_module(
    source, path: str, header: list[str], delimiter: str, skip_rows: int
) -> Table:
    """The table parsed by Python's csv module (:func:`_csv_module_records`) after
    ``skip_rows`` lines (as :func:`_parse_csv`), gathered column by column."""
    columns: list[list[str]] = [[] for _ in header]
    records = _csv_module_records(source, path, header, delimiter, skip_rows)
    while batch := list(itertools.islice(records, 1 << 14)):
        for values, fields in zip(columns, zip(*batch, strict=True), strict=True):
            values.extend(fields)
    if not columns[0]:
        raise DataError(f"{path}: the file has a header but no data rows")
    return Table(
        str(path), header, {name: _typed(v) for name, v in zip(header, columns, strict=True)}
    )


def _typed(fields) -> np.ndarray:
    """A column of text fields (without the spaces around them) typed as the pyarrow reader
    types it (:mod:`chainrule.tables.arrow_csv`): int64 when every field is an
    :data:`~chainrule.tables.arrow_csv.INTEGER` within int64, float64 (NaN for the missing)
    when every present field is a :data:`~chainrule.tables.arrow_csv.NUMBER`, else text (None
    for the missing)."""
    missing = [f.lower() in MISSING for f in fields]
    present = [f for f, gap in zip(fields, missing, strict=True) if not gap]
    if not any(missing) and all(_arrow_csv.INTEGER.fullmatch(f) for f in present):
        try:
            return np.array([int(f) for f in present], dtype=np.int64)
        except OverflowError:  # beyond int64: floats, as pyarrow reads them
            pass
    if all(_arrow_csv.NUMBER.fullmatch(f) for f in present):
        values = np.full(len(fields), np.nan)
        values[~np.array(missing, dtype=bool)] = [float(f) for f in present]
        return values
    return np.array(
        [None if gap else f for f, gap in zip(fields, missing, strict=True)], dtype=object
    )


def numeric_matrix(table: Table, columns: list[str]) -> np.ndarray:
    """The given columns as a float64 matrix; every field must be a finite number.

    Raises
    ------
    DataError
        Naming the column and row of the first missing value, NaN, infinity or text.
    """
    X = np.empty((table.n_rows, len(columns)))
    for c, name in enumerate(columns):
        X[:, c] = numeric_column(table, name)
    return X


def numeric_column(table: Table, name: str, *, allow_missing: bool = False) -> np.ndarray:
    """One column as float64, as :func:`numeric_matrix`; with ``allow_missing`` a missing cell
    is NaN instead of an error."""
    values = table.data[name]
    if values.dtype == object:
        for r, field in enumerate(values):
            if field is not None and not is_number(field):
                raise DataError(
                    f"{table.path}: column {name!r} is not numeric: {table.row(r)} holds {field!r}"
                )
        values = np.array([np.nan if v is None else float(v) for v in values])
    values = values.astype(np.float64, copy=False)
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        r = int(np.argmax(bad))
        if np.isnan(values[r]):
            raise DataError(
                f"{table.path}: column {name!r} has a missing value in {table.row(r)}; fill it "
                "in or drop the row"
            )
        sign = "" if values[r] > 0 else "-"
        raise DataError(
            f"{table.path}: column {name!r} holds {sign}inf (written as such, or a number "
            f"beyond float64's range, such as {sign}1e400) in {table.row(r)}; only finite "
            "numbers can be used"
        )
    return values


def _check_column(table: Table, name: str) -> None:
    """A DataError naming the closest column when ``table`` has no column ``name``."""
    if name not in table.data:
        raise DataError(
            f"{table.path}: no column named {name!r}{did_you_mean(name, table.columns)}; the "
            f"columns are {', '.join(table.columns)}"
        )


def _missing(values: np.ndarray) -> np.ndarray:
    """Where a column's cells are missing: NaN in numbers, None in text."""
    return np.isnan(values) if values.dtype.kind == "f" else values == None  # noqa: E711


def target_column(table: Table, target: str):
    """The target column's fields, checked for presence and missing values: a float64 or
    int64 array for a column of numbers, else a list of text fields."""
    _check_column(table, target)
    values = table.data[target]
    missing = _missing(values)
    if np.any(missing):
        raise DataError(
            f"{table.path}: the target column {target!r} has a missing value in "
            f"{table.row(int(np.argmax(missing)))}"
        )
    return values if values.dtype != object else list(values)


def rows_with_target(
    table: Table, target: str, *, drop: bool = False, group=None
) -> tuple[Table, int]:
    """The table's rows that have a target, and how many were left out for lacking one.

    With ``drop``, a row whose target cell is missing is left out, with a warning saying how
    many (over every process's rows with a ``group``, ``table`` being this process's block:
    the blocks' rows stay in order, each keeping its row number in the file for messages).
    Without it such a row is a DataError naming the row and the option that leaves it out.
    """
    _check_column(table, target)
    missing = _missing(table.data[target])
    if not drop:
        if missing.any():
            raise DataError(
                f"{table.path}: the target column {target!r} has a missing value in "
                f"{table.row(int(np.argmax(missing)))}; fill it in, or pass "
                f"{spelled('drop_missing_target', True)} to leave out the rows without a target"
            )
        return table, 0
    group = ONE_PROCESS if group is None else group
    rows = int(group.sum([float(missing.sum())])[0])
    if rows == 0:
        return table, 0
    if rows == group.sum([float(len(missing))])[0]:
        raise DataError(f"{table.path}: the target column {target!r} is missing in every row")
    kept = table.take(np.flatnonzero(~missing))
    kept.first = group.layout(kept.n_rows)[1]  # the position among every process's rows
    warnings.warn(
        f"{table.path}: left out {rows} row{'s' if rows > 1 else ''} without a value of the "
        f"target {target!r} ({spelled('drop_missing_target', True)})",
        UserWarning,
        stacklevel=2,
    )
    return kept, rows


def infer_task(values: list[str], table: Table | None = None, target: str = "") -> str:
    """'classification' for text labels or at most 20 distinct whole numbers, else
    'regression'.

    Raises
    ------
    DataError
        For a column of numbers with a few fields that are not (at least 90% numbers): most
        likely typos in a regression target. The message names the row and the value; pass
        the task explicitly (``--task classification``) to use such a column as labels.
    """
    if isinstance(values, np.ndarray) and values.dtype != object:
        return _task_of_numbers(values.astype(np.float64))
    first, strays = None, 0  # counted, not listed: a column of labels is all strays
    for r, v in enumerate(values):
        if not is_number(v):
            first, strays = first or (r, v), strays + 1
            if strays > 0.1 * len(values):
                return "classification"
    if strays:
        r, value = first
        more = f" (and {strays - 1} more)" if strays > 1 else ""
        where = f"{table.path}: the target column {target!r}" if table else "the target column"
        row = table.row(r) if table else f"row {r + 2}"
        raise DataError(
            f"{where} holds numbers except {value!r} in {row}{more}; fix the value, or "
            f"pass {spelled('task', 'classification')} to use the column as class labels"
        )
    return _task_of_numbers(np.array([float(v) for v in values]))


def _task_of_numbers(numbers: np.ndarray) -> str:
    if np.all(numbers == np.round(numbers)) and len(np.unique(numbers)) <= 20:
        return "classification"
    return "regression"


def sort_labels(labels) -> list[str]:
    """Class labels in a natural order: numerically when all are numbers, else as text."""
    unique = set(labels)
    if all(is_number(v) for v in unique):
        return sorted(unique, key=float)
    return sorted(unique)


def dataset_table(dataset) -> Table:
    """A built-in :class:`~chainrule.datasets.Dataset` as a table, its labels as class names."""
    columns = [*dataset.feature_names, dataset.target_name]
    data = {
        name: np.asarray(dataset.X[:, i], dtype=np.float64) for i, name in enumerate(columns[:-1])
    }
    data[dataset.target_name] = np.array(dataset.class_names, dtype=object)[dataset.y.astype(int)]
    return Table(f"<{dataset.name}>", columns, data)


# -- one part of a file, for the ranks of a data-parallel job ----------------------------------


@dataclass
class Block:
    """One part of a file's rows as read on its own: the table (``first`` its first data row's
    position in the file when given, else 0), each column's type as the reader inferred it from
    this part alone (``'null'`` where no value is present, ``'int64'``, ``'double'``,
    ``'string'``, or another Arrow type), the reader used (``'pyarrow'`` or ``'csv'``) and the
    file's delimiter (``','`` for Parquet)."""

    table: Table
    types: list[str]
    engine: str
    delimiter: str = ","


def _line_start(stream, offset: int, body: int, size: int) -> int:
    """The first line start at or after byte ``offset`` (``body``: the first byte after the
    header; ``size``: the file's length): a boundary that falls inside a line moves to the
    start of the next one, as Dask's ``read_csv`` moves its block boundaries."""
    if offset <= body:
        return body
    if offset >= size:
        return size
    stream.seek(offset - 1)
    position = offset - 1
    while chunk := stream.read(1 << 16):
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)
    return size


def _body_offset(stream, lines: int) -> int:
    """The byte offset of the first line after the header (a BOM and the ``lines`` before the
    data, blank ones and the header's, are passed over)."""
    stream.seek(0)
    offset = 3 if stream.read(3) == b"\xef\xbb\xbf" else 0
    stream.seek(offset)
    for _ in range(lines):
        offset += len(stream.readline())
    return offset


def read_csv_block(
    path, part: int = 0, parts: int = 1, *, first: int = 0, engine: str | None = None, text=()
) -> Block:
    """Part ``part`` (from 0) of ``parts`` of a CSV or Parquet file's rows, read on its own.

    A CSV file's body (the bytes after the header line) is cut at bytes ``[p S / K,
    (p + 1) S / K)`` (``S`` its length, ``K = parts``), each cut moved to the start of the next
    line, and the part is parsed with the header's column names by the reader and typing of
    :func:`read_csv` (``engine``: ``'pyarrow'`` when installed, else ``'csv'``; columns in
    ``text`` are read as text). In order, the parts hold every row once; with blank lines
    skipped, a part may hold none. A Parquet file is cut into the row blocks
    ``[p n / K, (p + 1) n / K)``, reading only the row groups that hold them.

    Each part's column types come from its own rows (:class:`Block` names them): the caller
    reconciles them as one read of the whole file would (see
    :func:`chainrule.distributed.read_rows`). A quoted field holding a line break must not
    cross a cut: a part with an odd number of quote characters is refused.

    Raises
    ------
    DataError
        As :func:`read_csv`; a row with the wrong number of fields is a
        :class:`FieldCountError` numbered from ``first``; a compressed file, whose bytes cannot
        be cut into parts read apart.
    """
    path = Path(path)
    _check_input(path)
    if not 0 <= part < parts:
        raise ValueError(f"'part' must be in [0, {parts}), got {part}")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _parquet_block(path, part, parts, first)
    _check_not_compressed(path)
    header, delimiter, lines = _header(path)
    with path.open("rb") as stream:
        body = _body_offset(stream, lines)
        size = stream.seek(0, 2)
        length = size - body
        start = _line_start(stream, body + length * part // parts, body, size)
        stop = _line_start(stream, body + length * (part + 1) // parts, body, size)
        # the part's bytes, mapped (file-backed pages, not a copy) where the OS can map them
        data = memoryview(mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) if size else b"")
        data = data[start:stop]
    step = 1 << 24  # quotes counted 16 MiB at a time
    quotes = sum(data[i : i + step].tobytes().count(b'"') for i in range(0, len(data), step))
    if parts > 1 and quotes % 2:
        raise DataError(
            f"{path}: bytes {start} to {stop} (part {part + 1} of {parts}) hold an odd number "
            "of quote characters: a quoted field holding a line break crosses the cut between "
            "two parts, which reading in parts cannot handle; remove the line breaks inside "
            "quoted fields or read the file in one process"
        )
    if engine is None:
        try:
            import pyarrow.csv  # noqa: F401

            engine = "pyarrow"
        except ImportError:
            engine = "csv"
    block = None
    if engine == "pyarrow" and (len(data) > 4096 or data.tobytes().strip()):
        block = _arrow_block(str(path), header, delimiter, data, first, text)
    if block is None:
        block = _csv_module_block(str(path), header, delimiter, data, first, text)
    block.delimiter = delimiter
    return block


def _check_not_compressed(path: Path) -> None:
    """A DataError for a compressed file, whose bytes cannot be cut into parts read apart."""
    compression = _arrow_csv.compression_of(path)
    if compression is not None:
        tool = _arrow_csv.COMPRESSIONS[compression][1]
        raise DataError(
            f"{path}: it is {compression}-compressed, and a compressed file cannot be cut into "
            f"parts for the processes of a distributed job; decompress it first ({tool} "
            f"{path}) or train in one process"
        )


def _arrow_block(path: str, header, delimiter, data, first: int, text) -> Block | None:
    """The part parsed by pyarrow a chunk at a time and typed as :func:`read_csv` types a whole
    file (:mod:`chainrule.tables.arrow_csv`), or None where pyarrow refuses it (the csv module names
    the bad row, as :func:`read_csv` falls back)."""
    try:
        columns = _arrow_csv.read_columns(
            data, header, delimiter, 0, missing_spellings(), text=set(text)
        )
    except _arrow_csv.Unparsed:
        return None
    if not columns:
        return Block(_no_rows(path, header, first), ["null"] * len(header), "pyarrow")
    table = Table(path, header, columns, first)
    return Block(table, [_type_name(table.data[name]) for name in header], "pyarrow")


def _arrow_rows(path: str, header, arrow, first: int, engine: str) -> Block:
    types = [str(column.type) for column in arrow.columns]
    if arrow.num_rows == 0:
        return Block(_no_rows(path, header, first), types, engine)
    table = _from_arrow(path, header, arrow)
    table.first = first
    return Block(table, types, engine)


def _no_rows(path: str, header, first: int) -> Table:
    return Table(path, header, {name: np.empty(0) for name in header}, first)


def _csv_module_block(path: str, header, delimiter, data, first: int, text) -> Block:
    rows = _csv_module_rows(data, path, header, delimiter, 0, first)
    if not rows:
        return Block(_no_rows(path, header, first), ["null"] * len(header), "csv")
    columns, types = {}, []
    for name, fields in zip(header, zip(*rows, strict=True), strict=True):
        if name in text:
            column = np.array([None if f.lower() in MISSING else f for f in fields], dtype=object)
        else:
            column = _typed(fields)
        columns[name] = column
        types.append(_type_name(column))
    return Block(Table(path, header, columns, first), types, "csv")


def _type_name(column: np.ndarray) -> str:
    """The Arrow name of the type the csv module's typing gave a column."""
    if column.dtype == object:
        return "string"
    if column.dtype.kind == "i":
        return "int64"
    return "null" if np.isnan(column).all() else "double"


def _parquet_block(path: Path, part: int, parts: int, first: int) -> Block:
    parquet = _parquet_module(path)
    import pyarrow as pa

    try:
        file = parquet.ParquetFile(path)
        sizes = [file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)]
        n = sum(sizes)
        start, stop = n * part // parts, n * (part + 1) // parts
        ends = np.cumsum(sizes)
        groups = [g for g in range(len(sizes)) if ends[g] > start and ends[g] - sizes[g] < stop]
        arrow = file.read_row_groups(groups) if groups else file.schema_arrow.empty_table()
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None
    skip = start - (int(ends[groups[0]] - sizes[groups[0]]) if groups else 0)
    arrow = arrow.slice(skip, stop - start)
    return _arrow_rows(str(path), _parquet_names(path, arrow.column_names), arrow, first, "pyarrow")
