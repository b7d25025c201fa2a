"""CSV files for the command line: read a table, pick the target, check every value.

Every problem is a :class:`DataError` (a ``ValueError``) that names the file, the column and the
row (counted as in a spreadsheet: the header is row 1), so the command line can print one line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MISSING = {"", "na", "nan", "null", "none", "n/a", "?"}


class DataError(ValueError):
    """A CSV file that cannot be used as it is."""


@dataclass
class Table:
    """A CSV file's header and its rows of text fields."""

    path: str
    columns: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(path) -> Table:
    """Read a CSV file with a header row.

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
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            rows = [row for row in csv.reader(stream) if any(field.strip() for field in row)]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file (is it a CSV file?)") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a readable CSV file ({error})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    header = [name.strip() for name in rows[0]]
    if all(_is_number(name) for name in header):
        raise DataError(
            f"{path}: the first row holds numbers, not column names; add a header "
            "row naming the columns"
        )
    if any(not name for name in header):
        raise DataError(f"{path}: column {header.index('') + 1} of the header has no name")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path}: the column name {duplicated[0]!r} appears twice in the header")
    body = [[field.strip() for field in row] for row in rows[1:]]
    for number, row in enumerate(body, 2):
        if len(row) != len(header):
            raise DataError(
                f"{path}: row {number} has {len(row)} fields, the header has {len(header)}"
            )
    if not body:
        raise DataError(f"{path}: the file has a header but no data rows")
    return Table(str(path), header, body)


def numeric_matrix(table: Table, columns: list[str], rows=None) -> np.ndarray:
    """The given columns as a float64 matrix; every field must be a finite number.

    ``rows`` (a range or list of row indices) converts only those rows; messages still count
    the file's rows.

    Raises
    ------
    DataError
        Naming the column and row of the first missing value, NaN, infinity or text.
    """
    index = [table.columns.index(name) for name in columns]
    rows = range(len(table.rows)) if rows is None else rows
    X = np.empty((len(rows), len(columns)))
    for out, r in enumerate(rows):
        row = table.rows[r]
        for c, i in enumerate(index):
            field = row[i]
            if field.lower() in MISSING:
                raise DataError(
                    f"{table.path}: column {columns[c]!r} has a missing value in row "
                    f"{r + 2}; fill it in or drop the row"
                )
            try:
                value = float(field)
            except ValueError:
                raise DataError(
                    f"{table.path}: column {columns[c]!r} is not numeric: row {r + 2}"
                    f" holds {field!r}"
                ) from None
            if not math.isfinite(value):
                raise DataError(
                    f"{table.path}: column {columns[c]!r} holds {field!r} in row "
                    f"{r + 2}; only finite numbers can be used"
                )
            X[out, c] = value
    return X


def target_column(table: Table, target: str) -> list[str]:
    """The target column's fields, checked for presence and missing values."""
    if target not in table.columns:
        raise DataError(
            f"{table.path}: no column named {target!r}; the columns are {', '.join(table.columns)}"
        )
    values = table.column(target)
    for number, value in enumerate(values, 2):
        if value.lower() in MISSING:
            raise DataError(
                f"{table.path}: the target column {target!r} has a missing value in row {number}"
            )
    return values


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
    strays = [(row, v) for row, v in enumerate(values, 2) if not _is_number(v)]
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
    numbers = np.array([float(v) for v in values])
    if np.all(numbers == np.round(numbers)) and len(np.unique(numbers)) <= 20:
        return "classification"
    return "regression"


def sort_labels(labels) -> list[str]:
    """Class labels in a natural order: numerically when all are numbers, else as text."""
    unique = set(labels)
    if all(_is_number(v) for v in unique):
        return sorted(unique, key=float)
    return sorted(unique)


def dataset_table(dataset) -> Table:
    """A built-in :class:`~chainrule.datasets.Dataset` as a table, its labels as class names."""
    columns = [*dataset.feature_names, dataset.target_name]
    rows = [
        [repr(float(v)) for v in x] + [dataset.class_names[int(y)]]
        for x, y in zip(dataset.X, dataset.y)
    ]
    return Table(f"<{dataset.name}>", columns, rows)
