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

__all__ = ["Points", "make_points", "read_points", "split"]


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
    with exactly two distinct labels (numbers or words).

    Raises
    ------
    DataError
        Naming the row and column of the first bad field.
    """
    rows = [row for row in csv.reader(io.StringIO(text)) if any(f.strip() for f in row)]
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
