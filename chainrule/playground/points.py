"""The playground's 2-D points: the built-in datasets, an uploaded CSV, the train/test split.

Every random choice comes from the run's seed, so :func:`make_points` and :func:`split`
give the same points and the same split each time (the page's "Python" box writes the
same steps out as plain chainrule code).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from .. import datasets
from ..tables.reading import DataError, Table, numeric_matrix, sort_labels, target_column
from .settings import Settings

__all__ = ["MAX_COORDINATE", "MAX_FIELD", "Points", "make_points", "read_points", "split"]

MAX_FIELD = 1_000  # characters in one field of an uploaded CSV: a name, a number or a label
MAX_COORDINATE = 1e6  # the largest |x1| or |x2| of an uploaded point


@dataclass(frozen=True)
class Points:
    """Features ``X`` of shape (n, 2) and labels ``y`` (0 or 1), with the class names and, for
    an uploaded CSV, the name of its file (``""`` for a built-in dataset)."""

    X: np.ndarray
    y: np.ndarray
    class_names: list[str]
    feature_names: list[str]
    source: str = ""


def make_points(settings: Settings, uploaded: Points | None = None) -> Points:
    """The points of ``settings.dataset``: a generated dataset (``samples`` points, ``noise``,
    ``seed``) or, for ``'csv'``, the uploaded table."""
    name, n, noise, seed = settings.dataset, settings.samples, settings.noise, settings.seed
    if name == "csv":
        if uploaded is None:
            raise DataError("upload a CSV file first (two feature columns and a label column)")
        return uploaded
    if name == "xor":
        # the four corners of the XOR truth table, drawn n times with Gaussian jitter
        corners = datasets.xor()
        rng = np.random.default_rng(seed)
        pick = rng.integers(0, 4, n)
        X = corners.X[pick] + rng.normal(0.0, noise, (n, 2))
        return Points(X, corners.y[pick], corners.class_names, corners.feature_names)
    data = datasets.LOADERS[name](n_samples=n, noise=noise, seed=seed)
    return Points(data.X, data.y, data.class_names, data.feature_names)


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices: a permutation from ``default_rng(seed + 1)``, its first
    ``round(test_fraction * n)`` rows held out for testing."""
    order = np.random.default_rng(seed + 1).permutation(n)
    n_test = int(round(test_fraction * n))
    return order[n_test:], order[:n_test]


def read_points(text: str, name: str = "upload.csv") -> Points:
    """Points from CSV text: a header row, two numeric feature columns, then a label column
    with exactly two distinct labels (numbers or words). Lines may end in ``\\n``, ``\\r\\n``
    or ``\\r`` alone; a field holds at most :data:`MAX_FIELD` characters and a coordinate lies
    within ``±MAX_COORDINATE``, so that every answer about the points is plain JSON.

    Raises
    ------
    DataError
        Naming the row (or line) and column of the first bad field.
    """
    _check_encodable(text, name)
    rows = [row for row in _csv_rows(text, name) if any(f.strip() for f in row)]
    if len(rows) < 2:
        raise DataError(f"{name}: needs a header row and at least one data row")
    header, body = [h.strip() for h in rows[0]], [[f.strip() for f in row] for row in rows[1:]]
    if len(header) != 3:
        raise DataError(
            f"{name}: needs 3 columns (x1, x2, label), the header has {len(header)}: "
            f"{', '.join(header)}"
        )
    for number, row in enumerate(body, 2):
        if len(row) != 3:
            raise DataError(f"{name}: row {number} has {len(row)} fields, the header has 3")
    table = Table.from_rows(name, header, body)
    X = numeric_matrix(table, header[:2])
    far = np.abs(X) > MAX_COORDINATE
    if far.any():
        r, c = (int(i) for i in np.argwhere(far)[0])
        raise DataError(
            f"{name}: column {header[c]!r} holds {body[r][c]!r} in {table.row(r)}; coordinates "
            f"must lie within ±{MAX_COORDINATE:,.0f} (scale the data down)"
        )
    target_column(table, header[2])  # present, nothing missing
    labels = table.column(header[2])
    classes = sort_labels(set(labels))
    if len(classes) != 2:
        raise DataError(
            f"{name}: the label column {header[2]!r} must hold exactly 2 classes, "
            f"got {len(classes)}: {', '.join(classes[:5])}"
        )
    y = np.array([classes.index(label) for label in labels])
    return Points(X, y, classes, header[:2], name)


def _check_encodable(text: str, name: str) -> None:
    """Refuse text that UTF-8 cannot encode (a lone surrogate, from a JSON ``\\ud800``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        head = text[: error.start]
        line = head.count("\n") + head.count("\r") - head.count("\r\n") + 1
        code = f"U+{ord(text[error.start]):04X}"
        raise DataError(
            f"{name}: line {line} holds {code}, half of a UTF-16 pair, which is no character; "
            "save the file as UTF-8"
        ) from None


def _csv_rows(text: str, name: str) -> list[list[str]]:
    """The rows of ``text``: ``\\r`` alone ends a line too, and no field is longer than
    :data:`MAX_FIELD` characters."""
    too_long = f"a field may hold at most {MAX_FIELD} characters (a name, a number or a label)"
    reader = csv.reader(io.StringIO(text, newline=""))  # \r, \n or \r\n ends a line
    rows = []
    try:
        for row in reader:
            for column, field in enumerate(row, 1):
                if len(field) > MAX_FIELD:
                    raise DataError(
                        f"{name}: line {reader.line_num}, field {column} holds {len(field)} "
                        f"characters; {too_long}"
                    )
            rows.append(row)
    except csv.Error as error:  # a field beyond csv's own limit, a quote left open, ...
        if "field larger than field limit" in str(error):
            raise DataError(
                f"{name}: line {reader.line_num} holds a field of more than "
                f"{csv.field_size_limit()} characters; {too_long}"
            ) from None
        raise DataError(f"{name}: line {reader.line_num}: {error}") from None
    return rows
