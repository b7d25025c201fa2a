"""A table model's column transformations as ONNX nodes: filled gaps and one-hot categories.

The exported table model takes the table's columns as they are, in two inputs:

* ``X`` (batch, n_numeric), floats: the numeric feature columns, in the model's column order
  (a missing cell as NaN, filled with the stored fill value where the model has one:
  ``Where(IsNaN(x), fill, x)``, so that NaN never reaches the network);
* ``categories`` (batch, n_categorical), strings: the categorical columns' cells as text, in
  the model's column order (a number category as chainrule writes it: ``3``, ``2.5``).

Each categorical column becomes one input per category seen in training, 1 for the row's
category and 0 for the others, as :func:`chainrule.tables.encoding.encode` does:

    index = position of the cell's input (LabelEncoder; the default when unseen)
    one_hot[:, k] = (index == k)        k = 0 .. n_inputs - 1

A column trained with ``min_frequency`` has one more input, the last, shared by its infrequent
categories; the LabelEncoder's default is that input's position, so a category never seen in
training takes it too. Without it the default is -1: an unseen category is all zeros.
(chainrule's predict also warns, or refuses with ``strict``; a graph cannot.) A missing cell
(``""`` or a missing-value spelling such as ``NA``, ``nan``, ``None``) takes the column's
stored fill category; without one it is encoded as an unseen category, where predict would
refuse the row.

A numeric column with a missing indicator (``missing_indicators=True`` in training) gives a
second input beside its own, computed before the fill, as
:func:`chainrule.tables.encoding.encode` does:

    indicator = Cast(IsNaN(x))          1 where the cell is missing, 0 elsewhere

A model whose numeric columns are robustly scaled (the default, ``scaling='robust'``) has them
so in the graph too, after the fill, as :func:`chainrule.tables.encoding.smooth_clip` computes
them (in the graph's dtype):

    z = clip((x - center) / spread, -1e18, 1e18)
    x' = z / sqrt(1 + (z / 3)^2)
"""

from __future__ import annotations

import numpy as np

from ..tables.encoding import CLIP, NO_INPUT, SCALED_BOUND
from ..tables.reading import missing_spellings
from .graph import ML_DOMAIN

__all__ = ["UNSEEN", "features", "numeric_and_categorical"]

UNSEEN = NO_INPUT


def numeric_and_categorical(model) -> tuple[list, list]:
    """The model's numeric and categorical columns, each in the model's column order."""
    numeric = [column for column in model.columns if column.kind == "numeric"]
    categorical = [column for column in model.columns if column.kind != "numeric"]
    return numeric, categorical


def _index_of(column) -> tuple[list[str], list[int], int]:
    """LabelEncoder's keys, values and default: each category to its input's position (an
    infrequent one to the column's last, which it shares with any category unseen in training,
    the default; -1, no input, where the column has no infrequent categories), and every
    missing spelling that is not itself a category to the fill category's position (or,
    without a fill, to the default)."""
    positions, default = column.positions, column.unseen_position
    keys, values = list(positions), list(positions.values())
    filled = default if column.fill is None else positions[column.fill]
    for spelling in ["", *missing_spellings()]:
        if spelling not in keys:
            keys.append(spelling)
            values.append(filled)
    return keys, values, default


def _one_hot(graph, cells: str, column) -> str:
    """(batch, 1) strings to (batch, n_inputs) indicators in the graph's dtype."""
    keys, values, default = _index_of(column)
    index = graph.node(
        "LabelEncoder",
        [cells],
        domain=ML_DOMAIN,
        keys_strings=keys,
        values_int64s=values,
        default_int64=default,
    )
    positions = graph.constant(np.arange(len(column.inputs), dtype=np.int64), "positions")
    equal = graph.node("Equal", [index, positions])  # (batch, 1) against (K,): (batch, K)
    return graph.node("Cast", [equal], to=graph.element_type())


def _column(graph, source: str, position: int) -> str:
    """Column ``position`` of a (batch, n) input, as (batch, 1)."""
    index = graph.constant(np.array([position], dtype=np.int64), "column")
    return graph.node("Gather", [source, index], axis=1)


def _robust(graph, X: str, numeric: list) -> str:
    """The numeric columns robustly scaled and smoothly clipped, where the model's are (every
    numeric column of a model is, or none: its metadata's schema says so)."""
    scaled = [column.spread is not None for column in numeric]
    if not any(scaled):
        return X
    if not all(scaled):
        raise ValueError(
            "the model robustly scales some numeric columns and not others, which its file "
            "cannot hold: it was not trained by chainrule"
        )
    center = graph.constant(graph.cast([column.center for column in numeric]), "center")
    spread = graph.constant(graph.cast([column.spread for column in numeric]), "spread")
    z = graph.node("Div", [graph.node("Sub", [X, center]), spread])
    z = graph.node(
        "Clip", [z, graph.scalar(-SCALED_BOUND), graph.scalar(SCALED_BOUND)]
    )  # opset >= 11: the bounds are inputs
    ratio = graph.node("Div", [z, graph.scalar(CLIP)])
    root = graph.node(
        "Sqrt", [graph.node("Add", [graph.scalar(1.0), graph.node("Mul", [ratio, ratio])])]
    )
    return graph.node("Div", [z, root])


def features(graph, model, X: str, categories: str) -> str:
    """The (batch, n_features) network inputs before standardisation, from ``X`` (numeric
    columns, NaN filled with the stored fill values; their missing indicators) and
    ``categories`` (one-hot)."""
    numeric, categorical = numeric_and_categorical(model)
    fills = [column.fill for column in numeric]
    filled = any(fill is not None for fill in fills)
    indicated = any(column.indicator for column in numeric)
    gaps = graph.node("IsNaN", [X]) if filled or indicated else None
    indicators = graph.node("Cast", [gaps], to=graph.element_type()) if indicated else None
    if filled:
        fill = graph.constant(graph.cast([np.nan if f is None else f for f in fills]), "fill")
        X = graph.node("Where", [gaps, fill, X])
    X = _robust(graph, X, numeric)
    if not categorical and not indicated:
        return X
    numeric_position = {column.name: i for i, column in enumerate(numeric)}
    categorical_position = {column.name: i for i, column in enumerate(categorical)}
    blocks = []
    for column in model.columns:
        if column.kind != "numeric":
            cells = _column(graph, categories, categorical_position[column.name])
            blocks.append(_one_hot(graph, cells, column))
            continue
        blocks.append(_column(graph, X, numeric_position[column.name]))
        if column.indicator:
            blocks.append(_column(graph, indicators, numeric_position[column.name]))
    return graph.node("Concat", blocks, axis=1)
