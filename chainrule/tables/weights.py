"""How much each row of a table weighs in training: a column (or array) of sample weights, and
class weights (``'balanced'``, or one per label), multiplied into one weight per row.

:func:`~chainrule.tables.model.train_table` hands the weights to ``fit``, whose objective is
``E = sum_i w_i L_i / n`` (Keras's convention: ``n`` rows, not ``sum_i w_i``), so a weight of 2
counts a row twice, and weights that are all 2 double the loss and its gradient. The rows held
out for validation keep their weights, so the validation loss that picks the kept epoch is
weighted as the training loss is, as ``fit(validation_split=...)`` weighs them; ``'balanced'``
counts the classes over every row, training and validation alike, as ``fit`` does before it
holds rows out.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..training.splits import class_weight_table
from .reading import DataError, Table, did_you_mean, numeric_column

__all__ = ["class_weight_from_text", "row_weights", "without_weight_column"]

Array = np.ndarray


def without_weight_column(table: Table, target: str, features, drop, sample_weight) -> tuple:
    """``drop`` with the sample-weight column added (a weight is not a feature), after checking
    that the column exists and is neither the target nor one of ``features``.

    Raises
    ------
    DataError
        Naming the column and what it is instead.
    """
    if not isinstance(sample_weight, str):
        return tuple(drop)
    name = sample_weight
    if name not in table.columns:
        raise DataError(
            f"{table.path}: the sample-weight column {name!r} is not a column"
            f"{did_you_mean(name, table.columns)}; the columns are {', '.join(table.columns)}"
        )
    if name == target:
        raise DataError(f"the sample-weight column {name!r} is the target; name another column")
    if features and name in features:
        raise DataError(
            f"the sample-weight column {name!r} is named as a feature too; a column weighs "
            "the rows or is an input, not both"
        )
    return (*drop, name)


def _sample_weights(table: Table, sample_weight) -> Array | None:
    """This table's rows' sample weights (float64), from a column name or an array of one
    weight per row, each checked: a number, present, finite and >= 0."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, str):
        where = f"{table.path}: the sample-weight column {sample_weight!r}"
        weights = numeric_column(table, sample_weight, allow_missing=True)
    else:
        where = "'sample_weight'"
        weights = _weight_array(sample_weight, table.n_rows)
    bad = ~(weights >= 0) | np.isinf(weights)  # NaN (missing), negative, infinite
    if bad.any():
        r = int(np.argmax(bad))
        if np.isnan(weights[r]):
            raise DataError(
                f"{where} has a missing value in {table.row(r)}; every row needs a weight >= 0 "
                "(0 leaves the row out)"
            )
        raise DataError(
            f"{where} holds {weights[r]:g} in {table.row(r)}; a weight must be a finite number >= 0"
        )
    return weights


def _weight_array(sample_weight, n_rows: int) -> Array:
    """``sample_weight`` as a float64 vector of ``n_rows`` values, or a ValueError saying what
    was expected."""
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "'sample_weight' must be a column name or an array of numbers >= 0, one per row, "
            f"got {type(sample_weight).__name__}"
        ) from None
    if weights.shape != (n_rows,):
        raise ValueError(
            f"'sample_weight' must hold one weight per row, shape ({n_rows},), got shape "
            f"{weights.shape}"
        )
    return weights


def _class_weights(class_weight, classes: list[str], T: Array, target: str) -> Array | None:
    """The weight of each class index: ``'balanced'``, ``n / (k count_c)`` over the rows'
    class indices ``T`` (as scikit-learn), or a dict ``{label: weight}`` (other classes 1)."""
    if class_weight is None:
        return None
    if not classes:
        raise DataError(
            f"class weights are for classification, and {target!r} is a regression target "
            "(sample weights weigh its rows)"
        )
    if isinstance(class_weight, str) and class_weight == "balanced":
        return class_weight_table(T, len(classes), "balanced")
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"'class_weight' must be 'balanced' or a dict {{label: weight}}, got {class_weight!r}"
        )
    index = {label: i for i, label in enumerate(classes)}
    table = np.ones(len(classes))
    for label, value in class_weight.items():
        key = str(label) if isinstance(label, (int, np.integer)) else label
        if isinstance(label, bool) or key not in index:
            raise DataError(
                f"the class weights name {label!r}, which is not a class of {target!r}"
                f"{did_you_mean(str(label), classes)}; its classes are {', '.join(classes)}"
            )
        table[index[key]] = _class_weight_value(label, value)
    return table


def _class_weight_value(label, value) -> float:
    """One class's weight: a finite number >= 0."""
    number = isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, bool) or not number or not math.isfinite(value) or value < 0:
        raise ValueError(f"the class weight of {label!r} must be a number >= 0, got {value!r}")
    return float(value)


def row_weights(
    table: Table, target: str, classes: list[str], T: Array, sample_weight, class_weight, group
) -> Array | None:
    """Each row's weight over every process's rows (this process's block of ``table`` is
    gathered with the others'), ``w_i = s_i c_{y_i}``: its sample weight (1 without
    ``sample_weight``) times its class's weight (1 without ``class_weight``); None when neither
    is given. ``T`` holds every row's class index (or value, for regression).

    Raises
    ------
    DataError or ValueError
        For a weight that is missing, negative or not a number (naming the row), a class weight
        for a label the target does not hold, or class weights on a regression target.
    """
    per_class = _class_weights(class_weight, classes, T, target)
    local = _sample_weights(table, sample_weight)
    if local is None and per_class is None:
        return None
    weights = np.ones(len(T)) if local is None else group.gather(local)
    return weights if per_class is None else weights * per_class[T]


def class_weight_from_text(text: str):
    """``--class-weight``'s value: ``'balanced'``, or a JSON object of label weights such as
    ``{"a": 2, "b": 1}`` (checked against the classes when training starts)."""
    if text.strip() == "balanced":
        return "balanced"
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValueError(
            f"expected balanced or a JSON object of weights by label, such as "
            f'\'{{"a": 2, "b": 1}}\', got {text!r}'
        )
    return value
