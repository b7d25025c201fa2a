"""CSV files for the command line: read a table, pick the target, check every value.

Every problem is a :class:`DataError` (a ``ValueError``) that names the file, the column and the
row (counted as in a spreadsheet: the header is row 1), so the command line can print one line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MISSING = {"", "na", "nan", "null", "none", "n/a", "?"}


class DataError(ValueError):
    """A CSV file that cannot be used as it is."""


@dataclass
class Table:
    """A table's header and its columns, one array each: float64 or int64 for a column of
    numbers (NaN where a cell is missing), an object array of text otherwise (None where
    missing). Rows are counted as in a spreadsheet in every message: the header is row 1."""

    path: str
    columns: list[str]
    data: dict[str, np.ndarray]
    first: int = 0  # the file's rows before this table's first (a block of a larger table)

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
        """The table restricted to the given row indices; a ``range`` of rows (a block) keeps
        the file's row numbers in messages."""
        first = self.first + rows.start if isinstance(rows, range) and rows.step == 1 else 0
        return Table(self.path, self.columns, {k: v[rows] for k, v in self.data.items()}, first)

    @classmethod
    def from_rows(cls, path: str, columns: list[str], rows: list[list[str]]) -> Table:
        """A table from rows of text fields, each column typed as :func:`read_csv` types it."""
        return cls(path, columns, {name: _typed(col) for name, col in zip(columns, zip(*rows))})

    def is_numeric(self, name: str) -> bool:
        return self.data[name].dtype != object


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def missing_spellings() -> list[str]:
    """The missing-value spellings in lower, upper and title case, for pyarrow's exact match."""
    return sorted({v for m in MISSING for v in (m, m.upper(), m.title())})


def _header(path: Path) -> tuple[list[str], str, int]:
    """The header's column names, the delimiter (',' unless the header holds more ';' or tabs
    than commas) and the number of blank lines before it; checked as documented in
    :func:`read_csv`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            skipped, line = 0, ""
            for line in stream:
                if line.strip(" \t\r\n,;"):
                    break
                skipped += 1
            else:
                line = ""
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file (is it a CSV file?)") from None
    if not line:
        raise DataError(f"{path}: the file is empty")
    delimiter = max(",;\t", key=line.count) if line.count(",") == 0 else ","
    try:
        header = [name.strip() for name in next(csv.reader([line], delimiter=delimiter))]
    except csv.Error as error:
        raise DataError(f"{path}: not a readable CSV file ({error})") from None
    if all(is_number(name) for name in header):
        raise DataError(
            f"{path}: the first row holds numbers, not column names; add a header "
            "row naming the columns"
        )
    if any(not name for name in header):
        raise DataError(f"{path}: column {header.index('') + 1} of the header has no name")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path}: the column name {duplicated[0]!r} appears twice in the header")
    return header, delimiter, skipped


def read_csv(path) -> Table:
    """Read a CSV file with a header row (or a Parquet file, by its suffix ``.parquet``/``.pq``).

    The delimiter is a comma, or a semicolon or tab when the header holds no comma. With
    pyarrow installed (the ``tables`` extra) the file is parsed by pyarrow's multithreaded
    CSV reader a few megabytes at a time, straight into one numpy array per column (memory
    stays near the parsed data); without it, or for a file pyarrow refuses, by Python's
    ``csv`` module, which names the row at fault. A column is int64 when every field is an
    integer (written without a point or exponent), float64 (NaN where missing) when every
    present field is a number, else text as written (None where missing); a missing field is
    empty or one of ``MISSING`` (in lower, upper or title case).

    Raises
    ------
    DataError
        For a missing or unreadable file, an empty file, a file with no header (its first row
        is all numbers), duplicated or empty column names, or a row with the wrong number of
        fields.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    header, delimiter, skipped = _header(path)
    return _parse_csv(path, str(path), header, delimiter, skipped + 1)


def _parse_csv(source, name: str, header, delimiter: str, skip_rows: int, **chunking) -> Table:
    """A table from CSV text: ``source`` is a path or bytes (such as one process's byte range of
    a file, with ``skip_rows`` 0), whose first ``skip_rows`` lines (blank lines, the header) come
    before the data; ``name`` is the file named in messages, ``header`` names the fields.
    Typed as :func:`read_csv` says: by pyarrow a chunk at a time (:mod:`chainrule._arrow_csv`),
    or by the csv module without pyarrow or where pyarrow refuses the text. ``chunking`` sets
    the chunk sizes (tests)."""
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return _read_with_csv_module(source, name, header, delimiter, skip_rows)
    from . import _arrow_csv

    try:
        data = _arrow_csv.read_columns(
            source, header, delimiter, skip_rows, missing_spellings(), **chunking
        )
    except _arrow_csv.Unparsed:  # a bad row: let the csv module name it
        return _read_with_csv_module(source, name, header, delimiter, skip_rows)
    if not data:
        raise DataError(f"{name}: the file has a header but no data rows")
    return Table(name, header, data)


def as_table(data, name: str = "<DataFrame>") -> Table:
    """A :class:`Table` from a Table, a CSV or Parquet path (:func:`read_csv`) or a pandas
    DataFrame (:func:`from_frame`)."""
    if isinstance(data, Table):
        return data
    if isinstance(data, (str, Path)):
        return read_csv(data)
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        return from_frame(data, name)
    raise TypeError(
        f"expected a pandas DataFrame, a file path or a Table, got {type(data).__name__}"
    )


def from_frame(frame, name: str = "<DataFrame>") -> Table:
    """A pandas DataFrame as a table: number columns as float64 (int64 when complete integers),
    every other column as text, NaN/None/NA as missing. Row numbers in messages count the
    header as row 1, as for a CSV file."""
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise DataError(f"{name}: the DataFrame has duplicated column names")
    if len(frame) == 0:
        raise DataError(f"{name}: the DataFrame has no rows")
    data = {}
    for label, column in zip(columns, frame.columns):
        series = frame[column]
        kind = series.dtype.kind
        if kind in "iu":
            data[label] = series.to_numpy().astype(np.int64)
        elif kind == "f" or (kind in "iuf" and series.isna().any()):
            data[label] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            missing = series.isna().to_numpy()
            data[label] = np.array(
                [None if gap else str(v) for v, gap in zip(series.tolist(), missing)],
                dtype=object,
            )
    return Table(name, columns, data)


def _read_parquet(path: Path) -> Table:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise DataError(
            f"{path}: reading Parquet needs pyarrow: pip install 'chainrule[tables]'"
        ) from None
    import pyarrow as pa

    try:
        arrow = parquet.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None
    return _from_arrow(str(path), [str(name) for name in arrow.column_names], arrow)


def _from_arrow(path: str, header: list[str], arrow) -> Table:
    """Columns of an Arrow table as numpy arrays: numbers as float64 (int64 when whole and
    complete), anything else as text."""
    import pyarrow as pa

    if arrow.num_rows == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    data = {}
    for name, column in zip(header, arrow.columns):
        kind = column.type
        if pa.types.is_integer(kind) and column.null_count == 0:
            data[name] = column.to_numpy().astype(np.int64, copy=False)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
            data[name] = column.to_numpy().astype(np.float64, copy=False)
        else:
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                column = column.cast(pa.string())
            data[name] = np.array(column.to_pylist(), dtype=object)
    return Table(path, header, data)


def _text_stream(source):
    """A path or bytes opened as UTF-8 text for the csv module (a BOM skipped)."""
    if isinstance(source, (str, Path)):
        return open(source, newline="", encoding="utf-8-sig")  # noqa: SIM115 (a context)
    return io.TextIOWrapper(io.BytesIO(source), encoding="utf-8-sig", newline="")


def _read_with_csv_module(
    source, path: str, header: list[str], delimiter: str, skip_rows: int
) -> Table:
    """The table parsed by Python's csv module, after ``skip_rows`` lines (as
    :func:`_parse_csv`): slow, but it names the row at fault."""
    try:
        with _text_stream(source) as stream:
            for _ in range(skip_rows):
                stream.readline()
            rows = [
                row
                for row in csv.reader(stream, delimiter=delimiter)
                if any(field.strip() for field in row)
            ]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file (is it a CSV file?)") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a readable CSV file ({error})") from None
    body = [[field.strip() for field in row] for row in rows]
    for number, row in enumerate(body, 2):
        if len(row) != len(header):
            raise DataError(
                f"{path}: row {number} has {len(row)} fields, the header has {len(header)}"
            )
    if not body:
        raise DataError(f"{path}: the file has a header but no data rows")
    return Table.from_rows(str(path), header, body)


def _typed(fields) -> np.ndarray:
    """A column of text fields as the pyarrow reader would type it: numbers when every
    non-missing field is one (NaN for the missing), else text (None for the missing)."""
    missing = [f.lower() in MISSING for f in fields]
    present = [f for f, gap in zip(fields, missing) if not gap]
    try:
        numbers = np.array(present, dtype=np.float64)  # parsed as float() parses
    except ValueError:
        return np.array([None if gap else f for f, gap in zip(fields, missing)], dtype=object)
    if any(missing):
        values = np.full(len(fields), np.nan)
        values[~np.array(missing)] = numbers
        return values
    whole = (
        np.all(np.abs(numbers) < 2**53)  # finite, and exactly an int64
        and np.all(numbers == np.round(numbers))
        and not any("." in f or "e" in f or "E" in f for f in present)
    )
    return numbers.astype(np.int64) if whole else numbers


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
                row = table.first + r + 2
                raise DataError(
                    f"{table.path}: column {name!r} is not numeric: row {row} holds {field!r}"
                )
        values = np.array([np.nan if v is None else float(v) for v in values])
    values = values.astype(np.float64, copy=False)
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        r = table.first + int(np.argmax(bad))
        if np.isnan(values[r]):
            raise DataError(
                f"{table.path}: column {name!r} has a missing value in row {r + 2}; fill it in "
                "or drop the row"
            )
        raise DataError(
            f"{table.path}: column {name!r} holds {_text_of_infinity(values[r])!r} in row "
            f"{r + 2}; only finite numbers can be used"
        )
    return values


def _text_of_infinity(value: float) -> str:
    return "inf" if value > 0 else "-inf"


def target_column(table: Table, target: str):
    """The target column's fields, checked for presence and missing values: a float64 or
    int64 array for a column of numbers, else a list of text fields."""
    if target not in table.columns:
        raise DataError(
            f"{table.path}: no column named {target!r}; the columns are {', '.join(table.columns)}"
        )
    values = table.data[target]
    missing = np.isnan(values) if values.dtype.kind == "f" else values == None  # noqa: E711
    if np.any(missing):
        raise DataError(
            f"{table.path}: the target column {target!r} has a missing value in row "
            f"{int(np.argmax(missing)) + 2}"
        )
    return values if values.dtype != object else list(values)


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
    strays = [(row, v) for row, v in enumerate(values, 2) if not is_number(v)]
    if strays and len(strays) <= 0.1 * len(values):
        row, value = strays[0]
        more = f" (and {len(strays) - 1} more)" if len(strays) > 1 else ""
        where = f"{table.path}: the target column {target!r}" if table else "the target column"
        raise DataError(
            f"{where} holds numbers except {value!r} in row {row}{more}; fix the value, or "
            "pass --task classification to use the column as class labels"
        )
    if strays:
        return "classification"
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
