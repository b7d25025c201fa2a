"""A network with what a table needs around it: named features, standardisation fitted on the
training rows, the task, class labels, and (for regression) a standardised target.

This is the model the command line trains, saves, evaluates and predicts with; everything it
needs is kept in the model file's metadata, so a saved model predicts from a CSV on its own.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..core import losses
from ..core.deprecation import renamed_arguments, warn_renamed
from ..core.layers import Embedding
from ..core.network import MLP, Network
from ..core.validation import CONSTRAINTS, check_auto, check_int, check_real
from ..files import header as _header
from ..files import model_file as io
from ..training.batches import clip_batch_size
from ..training.loop import TrainingDivergedWarning
from ..training.replicas import ONE_PROCESS
from ..training.splits import class_indices_for, split_rows
from .encoding import (
    KINDS,
    MANY_CATEGORIES,
    MIN_FREQUENCY,
    Column,
    FilledGapsWarning,
    choose_columns,
    encode,
    encoded_columns,
    filled_note,
    fit_columns,
    gap_counts,
    least_rows,
)
from .reading import (
    DataError,
    Table,
    as_table,
    infer_task,
    numeric_matrix,
    rows_with_target,
    sort_labels,
    spelled,
    spelled_choices,
    spelled_none,
    target_column,
)
from .report import Tally
from .scaling import BLOCK_ROWS, mean_and_scale, mean_and_scale_blocks
from .weights import row_weights, without_weight_column

__all__ = [
    "KEEP",
    "LOSSES",
    "MANY_CATEGORIES",
    "TASKS",
    "TabularModel",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "TrainingRun",
    "cross_validate",
    "cross_validation_folds",
    "kept_epoch",
    "plan",
    "subset",
    "task_loss",
    "train_table",
    "whole_batch",
    "whole_target",
]

TASKS = ("classification", "regression")


@dataclass
class TabularModel:
    """A trained network plus the feature scaling, task and labels it was trained with."""

    network: Network
    features: list[str]
    target: str
    task: str
    mean: np.ndarray
    scale: np.ndarray
    classes: list[str] = field(default_factory=list)
    target_mean: float = 0.0
    target_scale: float = 1.0
    columns: list[Column] | None = None  # None: every feature a numeric column, no fill
    kept_epoch: int | None = None  # the best validation epoch whose parameters were kept

    def __post_init__(self):
        if self.columns is None:
            self.columns = [Column(name) for name in self.features]

    # -- Python API ------------------------------------------------------------------------------
    @classmethod
    def train(cls, data, target: str, **options) -> TabularModel:
        """A new model trained on a table, with the same training, stored transformations and
        options as :func:`train_table` (and the command line).

        Parameters
        ----------
        data : pandas.DataFrame, str, path-like or Table
            The rows: a DataFrame, a CSV or Parquet path, or a :class:`Table`. With ``group``
            (an MPI group), this process's block of the rows, e.g.
            ``chainrule.distributed.read_rows(path, group)``.
        target : str
            The column to predict.
        **options
            Those of :func:`train_table` (``learning_rate``, ``validation_split``,
            ``sample_weight`` (a column name or an array), ``class_weight``, ``group``,
            ``dropout``, ``l2``, ``drop_missing_target``...); ``verbose`` defaults to 0 here;
            and ``decimal`` (``','`` or ``'.'``), how a CSV path's numbers are read (see
            :func:`chainrule.tables.reading.read_csv`).

        Returns
        -------
        TabularModel
            The trained model (a classmethod: unlike ``fit`` elsewhere, it makes a new model).
        """
        options.setdefault("verbose", 0)
        table = as_table(data, decimal=options.pop("decimal", None))
        return train_table(table, target, **options).model

    @classmethod
    def fit(cls, data, target: str, **options) -> TabularModel:
        """Deprecated spelling of :meth:`train` (kept for one release, with a FutureWarning)."""
        warn_renamed("TabularModel.fit", "TabularModel.train")
        return cls.train(data, target, **options)

    # -- inputs ---------------------------------------------------------------------------------
    def inputs(self, table: Table, *, strict: bool = False) -> np.ndarray:
        """The table's feature columns, transformed as in training (the stored fill values and
        categories, see :func:`chainrule.tables.encoding.encode`) and standardised.

        Raises
        ------
        DataError
            If a feature column is missing or not numeric, a cell is missing without a stored
            fill value, or (with ``strict``) a category was not seen in training.
        """
        raw = encode(table, self.columns, strict=strict)
        return _standardise(
            table, self.features, raw, self.mean, self.scale, self.network.dtype, out=raw
        )  # raw is encode's new array: standardised in place

    def labels_to_indices(self, table: Table) -> np.ndarray:
        """The target column as class indices (classification) or scaled values."""
        target_column(table, self.target)
        if self.task == "regression":
            return (
                numeric_matrix(table, [self.target])[:, 0] - self.target_mean
            ) / self.target_scale
        index = {label: i for i, label in enumerate(self.classes)}
        values = table.column(self.target)
        for r, value in enumerate(values):
            if value not in index:
                raise DataError(
                    f"{table.path}: {table.row(r)} has the class {value!r}, which the "
                    f"model never saw; it knows {', '.join(self.classes)}"
                )
        return np.array([index[v] for v in values])

    # -- outputs --------------------------------------------------------------------------------
    def in_target_units(self, Y: np.ndarray) -> np.ndarray:
        """A regression network's outputs ``Y`` (one column) in the target's units, the
        training rows' standardisation undone: ``Y[:, 0] * target_scale + target_mean``."""
        return Y[:, 0] * self.target_scale + self.target_mean

    def predict(self, table, *, strict: bool = False):
        """``{'prediction': labels or values}`` plus ``p_<class>`` probabilities, for a
        :class:`Table` or a path; for a pandas DataFrame, a DataFrame of those columns with its
        index. The stored transformations are applied (see :meth:`inputs`); missing cells
        filled with the stored fill values are said in one line (:meth:`report_filled`)."""
        rows = as_table(table)
        X = self.inputs(rows, strict=strict)
        self._say_filled(gap_counts(rows, self.columns))
        Y = self.network.predict(X).astype(np.float64)
        if self.task == "regression":
            result = {"prediction": self.in_target_units(Y)}
        else:
            result = {"prediction": np.array(self.classes, dtype=object)[Y.argmax(axis=1)]}
            result.update({f"p_{label}": Y[:, i] for i, label in enumerate(self.classes)})
        if hasattr(table, "dtypes") and hasattr(table, "index"):
            return type(table)(result, index=table.index)
        return result

    def evaluate(self, table: Table, *, strict: bool = False, group=None, rows=None) -> dict:
        """Loss and metrics on a table that has the target column, computed as scikit-learn
        computes them on the same predictions (see :mod:`chainrule.tables.report`).

        Classification: ``accuracy``, ``balanced_accuracy``, ``precision``, ``recall`` and
        ``f1`` averaged ``_macro`` and ``_weighted`` (and, for two classes, the second class's,
        named by ``positive_class``), ``roc_auc`` (one-vs-rest macro for more than two classes;
        None where a class has no row), ``log_loss``, ``brier`` (two classes), ``per_class``
        (each label's precision, recall, f1 and support) and ``confusion`` (rows: true class,
        columns: predicted). Regression, in the target's units: ``mse``, ``rmse``, ``mae``,
        ``r2``, ``mape`` (a fraction), ``median_absolute_error``. Both: ``rows`` and ``loss``
        (the network's, on the standardised target for regression). Every row counts once
        (training weights do not apply).

        ``rows`` (indices) restricts it to those rows. With a ``group``, ``table`` is this
        process's block and the results are over every process's rows. The rows go through the
        network :data:`EVALUATION_ROWS` at a time, so that beyond the table only one block's
        encoded inputs are held, with each row's probabilities or prediction; the loss is the
        blocks' losses weighted by their sizes (the mean over every row). Missing cells filled
        with the stored fill values are said in one line, as :meth:`report_filled` says them."""
        group = ONE_PROCESS if group is None else group
        table = as_table(table)
        tally, filled = Tally(self), np.zeros(len(self.columns))
        for block in _row_blocks(table.n_rows if rows is None else np.asarray(rows)):
            part = table.take(block)
            tally.add(self.inputs(part, strict=strict), self.labels_to_indices(part), part)
            filled += gap_counts(part, self.columns)
        self._say_filled(group.sum(filled))
        return tally.result(group)

    def report_filled(self, table: Table) -> None:
        """Say in one line (a :class:`~chainrule.tables.encoding.FilledGapsWarning`) how many
        missing cells of ``table`` the stored fill values fill, naming the columns; nothing
        when none (a model without fill values refuses a gap instead: see :meth:`inputs`)."""
        self._say_filled(gap_counts(table, self.columns))

    def _say_filled(self, counts) -> None:
        """Warn the :func:`~chainrule.tables.encoding.filled_note` of ``counts`` (one count
        per column), if any cell was filled, to the caller of the method that calls this."""
        note = filled_note(self.columns, counts, "the fill values stored in the model")
        if note:
            warnings.warn(note, FilledGapsWarning, stacklevel=3)

    # -- files ----------------------------------------------------------------------------------
    def metadata(self) -> dict:
        return {
            "task": self.task,
            "features": self.features,
            "target": self.target,
            "classes": self.classes,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "target_mean": self.target_mean,
            "target_scale": self.target_scale,
            "columns": [column.to_dict() for column in self.columns],
            **({"kept_epoch": self.kept_epoch} if self.kept_epoch else {}),
            **_robust_metadata(self.columns),
            **_indicator_metadata(self.columns),
        }

    def save(self, path) -> None:
        """Write the model file atomically (see :func:`chainrule.save`)."""
        io.save(self.network, path, metadata=self.metadata())

    @classmethod
    def load(cls, path) -> TabularModel:
        """Read a model file written by :meth:`save`.

        Raises
        ------
        chainrule.ModelFileError
            For a file that is not a chainrule model, or one without table metadata.
        """
        network = io.load(path)
        if not network.metadata:
            raise io.ModelFileError(
                f"{path}: a chainrule network, but not one trained from a table (no feature "
                "scaling or labels)"
            )
        try:
            _check_metadata(network.metadata, network)
        except _header.HeaderError as error:
            raise io.ModelFileError(f"{path}: invalid table metadata: {error}") from None
        meta = network.metadata
        return cls(
            network,
            list(meta["features"]),
            meta["target"],
            meta["task"],
            np.array(meta["mean"], dtype=np.float64),
            np.array(meta["scale"], dtype=np.float64),
            list(meta["classes"]),
            float(meta["target_mean"]),
            float(meta["target_scale"]),
            _stored_columns(meta),
            meta.get("kept_epoch"),
        )


def _robust_metadata(columns: list[Column]) -> dict:
    """``{"robust": [[center, spread] or None per column]}`` for a model whose numeric columns
    are robustly scaled (see :func:`chainrule.tables.encoding.smooth_clip`); nothing for one
    without (its file as before that scaling existed)."""
    if not any(column.spread is not None for column in columns):
        return {}
    pairs = [None if c.spread is None else [c.center, c.spread] for c in columns]
    return {"robust": pairs}


def _indicator_metadata(columns: list[Column]) -> dict:
    """``{"missing_indicators": [names]}``, the numeric columns with a missing indicator
    input, for a model that has any; nothing for one without (its file as before them)."""
    names = [column.name for column in columns if column.indicator]
    return {"missing_indicators": names} if names else {}


def _stored_columns(meta: dict) -> list[Column] | None:
    """The metadata's columns (None: an old file of numeric columns without fill), each
    numeric one with its robust scaling and its missing indicator where the file has them."""
    if "columns" not in meta:
        return None
    columns = [Column(**column) for column in meta["columns"]]
    for column, pair in zip(columns, meta.get("robust") or [None] * len(columns), strict=True):
        if pair is not None:
            column.center, column.spread = float(pair[0]), float(pair[1])
    indicators = set(meta.get("missing_indicators", ()))
    for column in columns:
        column.indicator = column.name in indicators
    return columns


def _check_metadata(meta: dict, network: Network) -> None:
    """The schema of a table model's metadata, against its network's inputs and outputs."""
    keys = ("task", "features", "target", "classes", "mean", "scale", "target_mean")
    _header.check_dict(
        meta,
        "metadata",
        (*keys, "target_scale"),
        ("columns", "kept_epoch", "robust", "missing_indicators"),
    )
    expect = _header.expect
    expect(meta["task"] in TASKS, "metadata.task", meta["task"], "'classification' or 'regression'")
    n_in, n_out = network.n_inputs, network.n_outputs
    for key, length in (("features", n_in), ("mean", n_in), ("scale", n_in)):
        values = meta[key]
        expect(
            isinstance(values, list) and len(values) == length,
            f"metadata.{key}",
            values,
            f"a list of {length} entries, one per input of the network",
        )
    features = meta["features"]
    expect(
        all(isinstance(f, str) for f in features) and len(set(features)) == n_in,
        "metadata.features",
        features,
        "distinct column names",
    )
    expect(
        isinstance(meta["target"], str) and meta["target"] not in features,
        "metadata.target",
        meta["target"],
        "a column name other than the features",
    )
    finite = [*meta["mean"], *meta["scale"], meta["target_mean"], meta["target_scale"]]
    expect(
        all(_header.is_finite_number(v) for v in finite),
        "metadata",
        "mean/scale",
        "finite numbers in mean, scale, target_mean and target_scale",
    )
    expect(
        all(v > 0 for v in meta["scale"]) and meta["target_scale"] > 0,
        "metadata.scale",
        meta["scale"],
        "positive scales (target_scale too)",
    )
    if "kept_epoch" in meta:
        kept = meta["kept_epoch"]
        expect(_header.is_int(kept) and kept >= 1, "metadata.kept_epoch", kept, "an epoch >= 1")
    if "columns" in meta:
        _header.check_columns(meta["columns"], "metadata.columns", KINDS)
    if "robust" in meta:
        _check_robust(meta)
    if "missing_indicators" in meta:
        _check_indicators(meta)
    if "columns" in meta:  # the columns as loaded (indicators too) give the network's inputs
        inputs = [name for column in _stored_columns(meta) for name in column.inputs]
        expect(inputs == features, "metadata.columns", "...", "columns giving the features")
    classes = meta["classes"]
    if meta["task"] == "classification":
        expect(
            isinstance(classes, list)
            and len(classes) == n_out
            and n_out >= 2
            and all(isinstance(c, str) for c in classes)
            and len(set(classes)) == n_out,
            "metadata.classes",
            classes,
            f"{n_out} distinct labels, one per output",
        )
    else:
        expect(
            classes == [] and n_out == 1,
            "metadata.classes",
            classes,
            "an empty list, with one network output, for regression",
        )


def _check_robust(meta: dict) -> None:
    """``metadata.robust``: with the columns, one entry per column, a ``[center, spread]`` pair
    of finite numbers (the spread > 0) for each numeric column and null for each categorical
    one (every numeric column of a model is scaled so, or none)."""
    expect = _header.expect
    robust, columns = meta["robust"], meta.get("columns")
    expect(
        isinstance(columns, list) and isinstance(robust, list) and len(robust) == len(columns),
        "metadata.robust",
        robust,
        "a list with one entry per column of metadata.columns",
    )
    for i, (pair, column) in enumerate(zip(robust, columns, strict=True)):
        if column["kind"] != "numeric":
            expect(pair is None, f"metadata.robust[{i}]", pair, "null for a categorical column")
            continue
        expect(
            isinstance(pair, list)
            and len(pair) == 2
            and all(_header.is_finite_number(v) for v in pair)
            and pair[1] > 0,
            f"metadata.robust[{i}]",
            pair,
            "[center, spread] of finite numbers, the spread > 0, for a numeric column",
        )


def _check_indicators(meta: dict) -> None:
    """``metadata.missing_indicators``: with the columns, a list of distinct names of numeric
    columns (those with a missing indicator input)."""
    names, columns = meta["missing_indicators"], meta.get("columns")
    numeric = {c["name"] for c in columns or () if c["kind"] == "numeric"}
    _header.expect(
        isinstance(columns, list)
        and isinstance(names, list)
        and all(isinstance(name, str) and name in numeric for name in names)
        and len(set(names)) == len(names),
        "metadata.missing_indicators",
        names,
        "a list of distinct names of numeric columns of metadata.columns",
    )


class TrainingDivergedError(ValueError):
    """Training diverged (the loss became NaN or infinite): a failed run, with no model."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train_table`; ``run`` holds the model of the last finished step,
    for a caller that was asked to keep it."""

    def __init__(self, run: TrainingRun):
        super().__init__(getattr(run.history, "stop_reason", None) or "interrupted (Ctrl-C)")
        self.run = run


def plan(
    table: Table,
    target: str,
    task: str | None = None,
    *,
    features=None,
    drop=(),
    categorical=(),
    group=None,
) -> tuple[str, list[str]]:
    """The task (given, or inferred from the target column) and the feature columns (see
    :func:`chainrule.tables.encoding.choose_columns`; its notes are warnings), checked before any
    training: the command line validates its outputs against them. With a ``group``,
    ``table`` is this process's block of the rows (see :func:`train_table`)."""
    group = ONE_PROCESS if group is None else group
    task, names, _ = _planned(table, target, task, features, drop, categorical, group)
    return task, names


def _planned(table, target, task, features, drop, categorical, group):
    """:func:`plan`'s task and feature columns, and the target column over every process's
    rows (:func:`whole_target`), which training goes on to use."""
    whole = whole_target(table, target, group)
    task = task or infer_task(target_column(whole, target), whole, target)
    if task not in TASKS:
        raise ValueError(f"'task' must be one of {', '.join(TASKS)}, got {task!r}")
    names, notes = choose_columns(table, target, features, drop, group, categorical)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=3)  # plan's or train_table's caller
    return task, names, whole


def whole_target(table: Table, target: str, group=ONE_PROCESS) -> Table:
    """A table of the target column alone, over every process's rows (gathered: one value per
    row), checked for presence and gaps (:func:`~chainrule.tables.reading.target_column`)."""
    target_column(table, target)  # a gap is named by the process whose block holds it
    if group.size == 1:
        return Table(
            table.path, [target], {target: table.data[target]}, table.first, table.index,
            table.lines,
        )  # fmt: skip
    return Table(table.path, [target], {target: group.gather(table.data[target])})


def _statistics(table: Table, columns: list[str], X: np.ndarray, rows, group=ONE_PROCESS) -> tuple:
    """Mean and scale of ``X[rows]`` (over every process's, with a ``group``; ``X`` holds the
    rows of ``table``), or a DataError naming the value too large."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = mean_and_scale(X[rows], group=group)
    bad = ~(np.isfinite(mean) & np.isfinite(scale))
    if bad.any():
        column = int(np.flatnonzero(bad)[0])
        row = int(rows[np.argmax(np.abs(X[rows, column]))])
        raise DataError(
            f"{table.path}: column {columns[column]!r} holds {X[row, column]:g} in "
            f"{table.row(row)}, too large to standardise (its spread overflows float64); rescale "
            "the column"
        )
    return mean, scale


def _standardise(
    table: Table, columns: list[str], X: np.ndarray, mean, scale, dtype, *, out=None, rows=None
):
    """``(X - mean) / scale`` (``X`` holds the rows of ``table``, or its rows ``rows`` in that
    order), or a DataError naming the first value that lands beyond the range of the network's
    ``dtype`` (a value far outside the training rows' range). ``out=X`` standardises in place;
    either way a block of rows at a time (the temporaries one block, the numbers the same)."""
    out = np.empty(X.shape) if out is None else out
    _raise_out_of_range(table, columns, _standardise_into(X, mean, scale, dtype, out, rows), dtype)
    return out


def _standardise_into(X: np.ndarray, mean, scale, dtype, out, rows):
    """Write ``(X - mean) / scale`` into ``out`` (computed in float64, cast on writing) a block
    of rows at a time; return the first value out of ``dtype``'s range as (table row, column,
    value), the lowest row then the leftmost column, or None."""
    first = None
    for start in range(0, len(X), BLOCK_ROWS):
        block = X[start : start + BLOCK_ROWS]
        with np.errstate(over="ignore", invalid="ignore"):
            standardised = (block - mean) / scale
        bad = ~(np.abs(standardised) <= np.finfo(dtype).max)
        if bad.any():
            positions, columns_at = np.nonzero(bad)
            at = start + positions if rows is None else np.asarray(rows)[start + positions]
            k = np.lexsort((columns_at, at))[0]
            found = (int(at[k]), int(columns_at[k]), block[positions[k], columns_at[k]])
            first = found if first is None else min(first, found)
        out[start : start + len(block)] = standardised
    return first


def _raise_out_of_range(table: Table, columns: list[str], first, dtype) -> None:
    """The DataError for :func:`_standardise_into`'s first value out of range, if any."""
    if first is not None:
        row, column, value = first
        raise DataError(
            f"{table.path}: column {columns[column]!r} holds {value:g} in {table.row(row)}, far "
            f"outside the training rows' range (standardised it exceeds {np.dtype(dtype).name}); "
            "check the value or rescale the column"
        )


def _rows_in_order(train_local, validation_rows, mine: range):
    """This process's training rows (of its block), its validation rows (of the whole table;
    None without validation) and the block's rows in the order training uses them: training
    rows, then validation rows, so that each part is a slice of one matrix, not a copy."""
    if validation_rows is None:
        return train_local, None, train_local
    val_mine = validation_rows[(validation_rows >= mine.start) & (validation_rows < mine.stop)]
    return train_local, val_mine, np.concatenate([train_local, val_mine - mine.start])


def _standardised_rows(table: Table, columns: list[Column], order, n_train: int, group, dtype):
    """The rows ``order`` of ``table``, encoded and standardised with the statistics of the
    first ``n_train`` of them, in the network's ``dtype``; and those statistics (float64).

    One column's encoding at a time: its statistics and its standardised values (computed in
    float64, cast on writing) are done before the next column is encoded, so that beyond the
    returned matrix only one column is held. The statistics do not depend on the other
    columns; a value out of range is reported as :func:`_standardise` reports it (the lowest
    row, then the leftmost column), after every column's statistics."""
    features = [name for column in columns for name in column.inputs]
    Z = np.empty((len(order), len(features)), dtype=dtype)
    every = len(order) == table.n_rows and bool(np.all(order == np.arange(len(order))))
    means, scales, first, j = [], [], None, 0
    for part in encoded_columns(table, columns, fitting=True):
        part = part if every else part[order]
        names, width = features[j : j + part.shape[1]], part.shape[1]
        mean, scale = _train_statistics(table, names, part, order, n_train, group)
        found = _standardise_into(part, mean, scale, dtype, Z[:, j : j + width], order)
        if found is not None:
            found = (found[0], found[1] + j, found[2])
            first = found if first is None else min(first, found)
        means.append(mean)
        scales.append(scale)
        j += width
        del part
    _raise_out_of_range(table, features, first, dtype)
    return Z, np.concatenate(means or [[]]), np.concatenate(scales or [[]])


def _train_statistics(table: Table, columns: list[str], X, order, n_train: int, group):
    """:func:`_statistics` of the first ``n_train`` rows of ``X`` (the rows ``order`` of
    ``table``), a block of rows at a time, without copying them."""
    train = X[:n_train]
    blocks = [train[start : start + BLOCK_ROWS] for start in range(0, n_train, BLOCK_ROWS)]
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = mean_and_scale_blocks(blocks or [train], group=group, width=len(columns))
    bad = ~(np.isfinite(mean) & np.isfinite(scale))
    if bad.any():
        column = int(np.flatnonzero(bad)[0])
        position = int(np.argmax(np.abs(train[:, column])))
        raise DataError(
            f"{table.path}: column {columns[column]!r} holds {train[position, column]:g} in "
            f"{table.row(int(order[position]))}, too large to standardise (its spread overflows "
            "float64); rescale the column"
        )
    return mean, scale


LOSSES = {
    "classification": ("cross_entropy", "categorical_cross_entropy"),
    "regression": (
        "mse",
        "mean_squared_error",
        "squared_error",
        "mae",
        "mean_absolute_error",
        "huber",
    ),
}


def task_loss(loss: str | None, task: str, target: str, n_classes: int) -> str:
    """The loss for the task: the default (cross_entropy for classes, mse for values), the one
    asked for when it fits the task, binary cross-entropy on two classes as the softmax
    cross-entropy over two outputs (the same loss: softmax of two net inputs is the sigmoid of
    their difference), anything else a DataError in the command line's words."""
    if loss is None:
        return LOSSES[task][0]
    if loss in LOSSES[task]:
        return loss
    if task == "classification" and loss in ("binary_cross_entropy", "bce") and n_classes == 2:
        warnings.warn(
            f"{spelled('loss', loss)} on the two classes of {target!r}: trained as "
            "cross_entropy over two softmax outputs, which is the same loss",
            UserWarning,
            stacklevel=2,
        )
        return "cross_entropy"
    if loss in ("binary_cross_entropy", "bce") and task == "classification":
        detail = f"binary cross-entropy needs two classes, {target!r} has {n_classes}"
    elif task == "classification":
        detail = f"{target!r} holds {n_classes} classes, and {loss} is a regression loss"
    else:
        detail = f"{target!r} holds values (regression), and {loss} is a loss for classes"
    fits = (
        f"{spelled('loss', 'cross_entropy')} (or {spelled('task', 'regression')})"
        if task == "classification"
        else spelled_choices("loss", ("mse", "mae", "huber"))
    )
    raise DataError(f"{spelled('loss', loss)} does not fit: {detail}; use {fits}")


def _held_out(labels, validation_split: float, rows: int) -> int:
    """How many rows a validation fraction holds out (per class, as the stratified split)."""
    if labels is None:
        return int(round(validation_split * rows))
    counts = np.unique(labels, return_counts=True)[1]
    return int(sum(round(validation_split * count) for count in counts))


def _check_every_class_trains(
    path: str, classes: list[str], T, train_rows, validation_split: float
) -> None:
    """A DataError when the validation split holds out every row of a class: the network
    could never learn it (scikit-learn's stratified split refuses such a class too)."""
    absent = np.setdiff1d(np.arange(len(classes)), T[train_rows])
    if absent.size:
        missing = int(absent[0])
        label, count = classes[missing], int(np.bincount(T, minlength=len(classes))[missing])
        raise DataError(
            f"{path}: {spelled('validation_split', validation_split)} holds out every row of "
            f"the class {label!r} ({count} of {len(T)} rows), leaving none to train on; pass a "
            "smaller fraction, or add rows of that class"
        )


KEEP = ("best", "last")

AUTO_PATIENCE = 40
"""``patience='auto'``: the epochs without a lower validation loss that stop training (chosen
on real tables with the default dropout: benchmarks/RESULTS.md, "When to stop (issue 28,
third round)")."""


def _stopping(early_stopping, keep: str, validation, epochs: int, patience):
    """What to pass as ``early_stopping``: with validation rows and ``keep='best'``, an
    :class:`~chainrule.training.callbacks.EarlyStopping` that puts back the best validation
    epoch's parameters and stops as ``patience`` says (``'auto'``: after
    :data:`AUTO_PATIENCE` epochs without improvement; None: never early)."""
    if early_stopping or keep == "last" or validation is None:
        _say_patience_unused(patience, early_stopping, keep)
        return early_stopping
    from ..training.callbacks import EarlyStopping

    if patience == "auto":
        patience = AUTO_PATIENCE
    return EarlyStopping(patience=epochs if patience is None else patience)


def _say_patience_unused(patience, early_stopping, keep: str) -> None:
    """Warn that a patience given as a number does nothing, and why ('auto', the default,
    says nothing)."""
    if not isinstance(patience, int):
        return
    why = (
        f"{spelled('early_stopping', True)} stops after 5 epochs"
        if early_stopping
        else f"{spelled('keep', 'last')} runs every epoch"
        if keep == "last"
        else "there are no validation rows to watch"
    )
    warnings.warn(f"{spelled('patience', patience)} does nothing: {why}", UserWarning, stacklevel=3)


def kept_epoch(history) -> int | None:
    """The epoch (from 1) whose parameters a best-keeping run kept, or None."""
    losses = getattr(history, "history", {}).get("val_loss")
    return int(np.argmin(losses)) + 1 if losses else None


def whole_batch(batch_size: int, rows: int) -> int:
    """The batch size, clipped to the training rows (as scikit-learn clips to n_samples) with a
    note when it is larger."""
    clipped = clip_batch_size(batch_size, rows)
    if clipped < batch_size:
        warnings.warn(
            f"{spelled('batch_size', batch_size)} is larger than the {rows} training rows: "
            "each step uses all of them (one batch)",
            UserWarning,
            stacklevel=2,
        )
    return clipped


# Regression metrics square the errors in float64: a target beyond this would overflow them.
_LARGEST_TARGET = 1e100


@dataclass
class TrainingRun:
    """What :func:`train_table` returns: the model, its history and the row split."""

    model: TabularModel
    history: object
    train_rows: np.ndarray
    validation_rows: np.ndarray | None
    seconds: float


@renamed_arguments(lr="learning_rate", val="validation_split", distributed="group")
def train_table(
    table: Table,
    target: str,
    *,
    task: str | None = None,
    hidden=(64, 32),
    activation: str = "elu",
    loss: str | None = None,
    optimizer="adam",
    learning_rate: float = 1e-3,
    epochs: int = 100,
    batch_size: int = 32,
    validation_split: float = 0.1,
    early_stopping: bool = False,
    seed: int = 0,
    verbose: int = 1,
    callbacks=None,
    features=None,
    drop=(),
    categorical=(),
    impute: str = "median",
    keep: str = "best",
    sample_weight=None,
    class_weight=None,
    group=None,
    dropout: float = 0.1,
    l2: float = 0.0,
    input_scale: float | None = 6.0,
    drop_missing_target: bool = False,
    scaling: str = "robust",
    missing_indicators: bool = False,
    patience="auto",
    min_frequency="auto",
    embedding_size: int | None = 4,
) -> TrainingRun:
    """Train a network on a table: infer (or take) the task, encode the labels, hold out a
    shuffled (stratified) validation fraction, fit the column transformations (one-hot
    categories, fill values: see :mod:`chainrule.tables.encoding`) and the standardisation on the
    training rows, fit the network.

    Parameters
    ----------
    table : Table
        The rows; with ``group``, this process's block of them (see below).
    target : str
        The column to predict.
    task : {'classification', 'regression'}, optional
        Default: inferred from the target column.
    hidden, activation, loss
        The hidden layer widths, their activation (``'elu'`` by default: chosen on 20 real
        tables, better on the four furthest from gradient boosting, worse than ``'relu'`` on
        two, cells and diamonds: benchmarks/RESULTS.md, "ELU hidden layers") and the loss
        (default: ``cross_entropy``
        for classes, ``mse`` for values).
    optimizer : str, default='adam'
        An optimizer name of :mod:`chainrule.optim` (``'lbfgs'`` takes no rate).
    learning_rate : float, default=1e-3
        The optimizer's learning rate (formerly ``lr``, deprecated).
    epochs, batch_size, early_stopping, seed, verbose, callbacks
        As in :meth:`chainrule.Network.fit` (``early_stopping=True``: patience 5, replacing
        ``patience``).
    validation_split : float in [0, 1), default=0.1
        The fraction of rows held out for validation, stratified by class (0 for none; formerly
        ``val``, deprecated).
    features, drop, categorical
        ``features`` names the feature columns (default: all but the target, those in
        ``drop`` and identifier-like columns); ``categorical`` names columns to one-hot
        besides the text ones.
    impute : {'median', 'mean', 'most_frequent', 'none'}, default='median'
        How missing cells are filled: numeric columns with their training rows' median, mean
        or most frequent value, categorical columns with their most frequent category. Every
        column's fill value is stored in the model, so that evaluate and predict fill a gap
        in any column, saying so in one line; training says how many cells it filled.
        ``'none'``: a missing cell is an error naming its row and column, in training and
        after. The default was chosen on real tables: benchmarks/RESULTS.md, "Tables by
        default (issue 28)".
    keep : {'best', 'last'}, default='best'
        With validation rows, keep the parameters of the epoch with the lowest validation
        loss, or those of the last epoch (then every epoch runs).
    patience : 'auto', int >= 1 or None, default='auto'
        With validation rows and ``keep='best'``, stop after this many epochs without a lower
        validation loss (``'auto'``: 40); None: every epoch runs. The best epoch is kept
        either way. With the default dropout, 40 kept the whole run's model on 188 of 190 real
        runs and ran half the epochs on tables that over-fit early: benchmarks/RESULTS.md,
        "When to stop (issue 28, third round)".
    sample_weight : str or array-like of shape (n_rows,), optional
        Each row's weight: a numeric column of the table (not used as a feature) or an array,
        every value a finite number >= 0. ``fit`` minimises ``sum_i w_i L_i / n``, so a weight
        of 2 counts a row twice (see :mod:`chainrule.tables.weights`).
    class_weight : 'balanced' or dict, optional
        Weights by class label, multiplied into the sample weights: ``{label: weight}`` (other
        classes 1) or ``'balanced'``, ``n / (n_classes * count_c)`` over every row. The
        validation rows keep their weights, so the validation loss is weighted too.
    group : chainrule.distributed.MPIGroup, optional
        Train data-parallel on the processes of an MPI job (formerly ``distributed``,
        deprecated); see below.
    dropout : float in [0, 1), default=0.1
        A dropout of this rate after every hidden layer (``MLP(..., dropout=)``). The default
        was chosen on real tables (R² +0.02 to +0.03 on the two widest, the others within
        their noise): benchmarks/RESULTS.md, "When to stop (issue 28, third round)"; 0 trains
        without.
    l2 : float >= 0, default=0
        The L2 penalty ``l2/2 sum W^2`` on the weights (``MLP(..., l2=)``).
    input_scale : float in [1e-6, 1e6] or None, default=6
        A learned scale of each network input before the first layer, ``Z = (X * s) @ W + b``
        (``MLP(..., input_scale=)``, :class:`~chainrule.core.layers.Dense`), stored as
        ``s / input_scale`` so that Adam moves it about this many times as far as a weight
        (RealMLP's scaling layer and factor); None: none. The default was chosen on real
        tables (benchmarks/RESULTS.md, "A learned scale of each input"): better beyond the
        noise on five of eighteen (loans R² +0.018; four of eight held-out tables +0.007 to
        +0.012), lower within the noise on four and beyond it on one (diamonds, -0.0005 R²);
        on the housing table one split of ten lost 0.04 R² (its best epoch fell to the 4th).
    embedding_size : int in [1, 4096] or None, default=4
        A learned embedding of this width for each categorical column of more categories
        (inputs, the pooled infrequent ones counting as one) than it: a first
        :class:`~chainrule.core.layers.Embedding` layer maps the column's standardised one-hot
        inputs ``X_g`` to ``X_g @ E_g``, ``embedding_size`` numbers, before
        the first Dense layer, as RealMLP embeds its many-valued columns; the other columns'
        inputs pass through. None: every category feeds the first layer as an input of its
        own. The default was chosen on real tables (benchmarks/RESULTS.md, "Learned
        embeddings of many-valued columns"): better on every split of three (loans R²
        +0.012, with its job titles +0.018, a churn table's ROC AUC +0.025), within the
        noise on the others (the housing table's R² -0.005).
    drop_missing_target : bool, default=False
        Leave out the rows whose target cell is missing, with a warning saying how many;
        by default such a row is an error naming it.
    scaling : {'robust', 'standard'}, default='robust'
        How numeric columns are scaled. ``'robust'``: centred on the training rows' median,
        divided by their interquartile range and smoothly clipped to (-3, 3),
        ``z / sqrt(1 + (z/3)^2)`` (:func:`chainrule.tables.encoding.smooth_clip`), then
        standardised; stored in the model file, so evaluate, predict and the ONNX export apply
        it. ``'standard'``: standardised only (as models were trained before). The default was
        chosen on real tables: benchmarks/RESULTS.md, "Tables by default (issue 28)".
    missing_indicators : bool, default=False
        Give each numeric column whose training rows have a missing cell a second input,
        ``name=missing``: 1 where the cell is missing, 0 elsewhere (stored in the model, so
        evaluate, predict and the ONNX export build it too). Off by default: on the real
        tables measured it lost on 3 of 10 (benchmarks/RESULTS.md, "Tables by default").
    min_frequency : 'auto', int >= 1 or None, default='auto'
        The categories of a categorical column found in fewer rows are infrequent: they share
        one input, ``name=(infrequent)`` (more parentheses where a category is so named),
        which a category unseen in training also takes at predict time (with a warning), as
        scikit-learn's ``OneHotEncoder(min_frequency=..., handle_unknown='infrequent_if_exist')``
        fitted on the rows (every row, as for the set of categories). None: an input for every
        category. ``'auto'``: 40, in columns of more than 50 categories only (a job title, a
        name): on the two real tables that have one it raised R² from 0.29 to 0.40 and from
        0.58 to 0.89 and cut the time 9-fold on the first, where pooling the rare categories of
        smaller columns lost a little on the others (benchmarks/RESULTS.md, "Many-valued
        columns (issue 28)").

    Returns
    -------
    TrainingRun
        The model, its history and the row split.

    Raises
    ------
    DataError
        For a table that cannot be used as it is (see :mod:`chainrule.tables.reading`).
    TrainingDivergedError
        If the loss became NaN or infinite: no model is returned.
    TrainingInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``), holding the model of the last finished step.

    Notes
    -----
    With a ``group`` (a :class:`chainrule.distributed.MPIGroup`) ``table`` is this
    process's block of the rows (process 0 the first ones, as
    :func:`chainrule.distributed.read_rows` reads them). Everything fitted on the whole table
    is combined from the blocks, so every process fits the same: the target column is gathered
    (one value per row) for the task, the classes and the stratified validation split; the
    column transformations (:func:`chainrule.tables.encoding.fit_columns`), identifier detection and
    feature statistics are combined from per-block counts and sums. Each process trains on its
    own rows, and the model equals the one-process model on the whole table to float rounding.
    """
    dropout, l2, input_scale, patience, min_frequency, embedding_size = _checked_options(
        validation_split, dropout, l2, input_scale, keep, patience, min_frequency, embedding_size
    )
    group = ONE_PROCESS if group is None else group
    table = rows_with_target(table, target, drop=drop_missing_target, group=group)[0]
    drop = without_weight_column(table, target, features, drop, sample_weight)
    task, names, whole = _planned(table, target, task, features, drop, categorical, group)
    classes, T = _labels(table, target, task, whole)
    weights = row_weights(table, target, classes, T, sample_weight, class_weight, group)
    loss = task_loss(loss, task, target, len(classes))
    train_rows, validation_rows = _validation_rows(
        table.path, T, classes, loss, validation_split, seed
    )
    batch_size = whole_batch(batch_size, len(train_rows))
    train_mine, train_local, val_mine, order = _my_rows(table, group, train_rows, validation_rows)
    columns = _fitted_columns(
        table, names, train_local, categorical, impute, group,
        {"scaling": scaling, "missing_indicators": missing_indicators,
         "min_frequency": min_frequency},
    )  # fmt: skip
    features = [name for column in columns for name in column.inputs]
    network = _network(
        columns, [*hidden, len(classes) or 1], embedding_size, activation=activation,
        loss=loss, seed=seed, dropout=dropout, l2=l2, input_scale=input_scale,
    )  # fmt: skip
    n_train = len(train_local)
    X, mean, scale = _standardised_rows(table, columns, order, n_train, group, network.dtype)
    T, target_mean, target_scale = _standardised_target(whole, target, T, train_rows, network, task)
    X_train, X_val = X[:n_train], X[n_train:]  # views: the rows are in this order
    validation = None if val_mine is None else (X_val, T[val_mine], _part(weights, val_mine))
    model = TabularModel(network, features, target, task, mean, scale, classes, target_mean,
                         target_scale, columns)  # fmt: skip
    options = {
        "optimizer": _optimizer(optimizer, learning_rate), "epochs": epochs, "seed": seed,
        "batch_size": batch_size, "validation_data": validation, "verbose": verbose,
        "early_stopping": _stopping(early_stopping, keep, validation, epochs, patience),
        "group": group, "sample_weight": _part(weights, train_mine), "callbacks": callbacks,
        "metrics": ["accuracy"] if classes else ["r2"],
    }  # fmt: skip
    started = time.perf_counter()
    rows = (train_rows, validation_rows)
    history = _fit(model, X_train, T[train_mine], options, rows, started)
    if keep == "best" or early_stopping:
        model.kept_epoch = kept_epoch(history)
    return TrainingRun(model, history, *rows, time.perf_counter() - started)


def embedded_groups(columns: list[Column], width: int | None) -> list[tuple[int, int]]:
    """The inputs ``(start, stop)`` of each categorical column of more inputs than ``width``
    (None: no column)."""
    groups, start = [], 0
    for column in columns:
        stop = start + len(column.inputs)
        if width is not None and column.kind == "categorical" and stop - start > width:
            groups.append((start, stop))
        start = stop
    return groups


def _network(columns: list[Column], sizes: list[int], embedding_size, **options) -> Network:
    """The table's network: an MLP of hidden and output ``sizes`` over the inputs, after an
    :class:`~chainrule.core.layers.Embedding` of the columns of more than ``embedding_size``
    categories where there are any."""
    n_inputs = sum(len(column.inputs) for column in columns)
    groups = embedded_groups(columns, embedding_size)
    if not groups:
        return MLP([n_inputs, *sizes], **options)
    embedding = Embedding(n_inputs, groups, embedding_size)
    mlp = MLP([embedding.n_out, *sizes], **options)
    return Network([embedding, *mlp.layers], options["loss"], l2=mlp.l2, seed=options["seed"])


def _my_rows(table: Table, group, train_rows, validation_rows) -> tuple:
    """This process's training rows (numbered in the whole table), the same numbered in its
    block, its validation rows, and the order of its block's rows (:func:`_rows_in_order`);
    with one process, every row."""
    _, start = group.layout(table.n_rows)
    mine = range(start, start + table.n_rows)
    train_mine = train_rows[(train_rows >= mine.start) & (train_rows < mine.stop)]
    return train_mine, *_rows_in_order(train_mine - mine.start, validation_rows, mine)


def _checked_options(
    validation_split, dropout, l2, input_scale, keep, patience, min_frequency, embedding_size
) -> tuple:
    """:func:`train_table`'s options checked before any work (a ValueError or TypeError naming
    the first bad one); returns ``dropout``, ``l2``, ``input_scale``, ``patience``,
    ``min_frequency`` and ``embedding_size`` as checked."""
    min_frequency = check_auto(min_frequency, "min_frequency", MIN_FREQUENCY)
    check_real(validation_split, "validation_split", low=0.0, high=1.0, high_open=True)
    dropout = CONSTRAINTS["dropout"].check(dropout, "dropout")
    l2 = CONSTRAINTS["l2"].check(l2, "l2")
    input_scale = CONSTRAINTS["input_scale"].check(input_scale, "input_scale")
    if keep not in KEEP:
        raise ValueError(f"'keep' must be one of {', '.join(KEEP)}, got {keep!r}")
    patience = check_auto(patience, "patience", CONSTRAINTS["patience"])
    embedding_size = CONSTRAINTS["embedding_size"].check(embedding_size, "embedding_size")
    return dropout, l2, input_scale, patience, min_frequency, embedding_size


def _part(weights, rows):
    """The weights of the given rows (indices over every process's rows), or None."""
    return None if weights is None else weights[rows]


def _optimizer(name, learning_rate: float):
    """The optimizer named on the command line, at ``learning_rate`` (L-BFGS takes none)."""
    from .. import optim

    return optim.LBFGS() if name == "lbfgs" else optim.get(name, learning_rate=learning_rate)


def _labels(table: Table, target: str, task: str, whole: Table) -> tuple[list[str], np.ndarray]:
    """The sorted class labels (none for regression) and the targets: class indices, or the
    target column's values."""
    if task != "classification":
        return [], numeric_matrix(whole, [target])[:, 0]
    values = whole.column(target)
    classes = sort_labels(values)
    if len(classes) < 2:
        raise DataError(
            f"{table.path}: the target column {target!r} holds a single class "
            f"{classes[0]!r}; classification needs at least two"
        )
    if len(classes) > max(MANY_CATEGORIES, len(values) // 2):
        warnings.warn(
            f"the target {target!r} holds {len(classes)} classes in {len(values)} rows, "
            "one network output each: if it is a number to predict, pass "
            f"{spelled('task', 'regression')}",
            UserWarning,
            stacklevel=3,
        )
    index = {label: i for i, label in enumerate(classes)}
    return classes, np.array([index[v] for v in values])


def _validation_rows(path: str, T, classes, loss, validation_split: float, seed: int):
    """Training and validation row indices (validation None without ``validation_split``):
    that fraction of the rows held out, shuffled by ``seed``, stratified by class when the
    loss has classes."""
    rows = len(T)
    train_rows, validation_rows = np.arange(rows), None
    fraction = validation_split
    if fraction and _held_out(T if classes else None, fraction, rows) == 0:
        warnings.warn(
            f"{spelled('validation_split', fraction)} of {rows} rows holds out no row: training "
            "without validation",
            UserWarning,
            stacklevel=3,
        )
    elif fraction:
        one_hot = np.eye(len(classes))[T] if classes else T[:, None]
        stratified = class_indices_for(losses.get(loss).name, one_hot)
        try:
            train_rows, validation_rows = split_rows(
                fraction, np.random.default_rng(seed), rows, stratified
            )
        except ValueError:
            raise DataError(
                f"{path}: {spelled('validation_split', fraction)} leaves no rows for training "
                f"out of {rows}; pass a smaller fraction (or {spelled('validation_split', 0)} "
                "for none)"
            ) from None
    if classes:
        _check_every_class_trains(path, classes, T, train_rows, fraction)
    return train_rows, validation_rows


def _fitted_columns(
    table: Table, names, train_rows, categorical, impute, group, transforms: dict
) -> list[Column]:
    """The column transformations fitted on the training rows (``transforms``: the scaling,
    missing indicators and min_frequency of :func:`fit_columns`), with a warning for a column
    one-hot encoded into many inputs, and one line saying which missing cells are filled
    (:func:`_filled_in_training`)."""
    columns = fit_columns(
        table, names, train_rows, categorical=categorical, impute=impute, group=group,
        **transforms,
    )  # fmt: skip
    _check_distinct_inputs(table, columns)
    _filled_in_training(table, columns, impute, group)
    for column in columns:
        _say_categories(column, transforms["min_frequency"])
    return columns


def _check_distinct_inputs(table: Table, columns: list[Column]) -> None:
    """Refuse columns whose inputs share a name (a column named ``colour=red`` beside a
    column ``colour`` holding ``red``), which the model file could not tell apart."""
    owner: dict[str, str] = {}
    for column in columns:
        for name in column.inputs:
            if owner.setdefault(name, column.name) != column.name:
                raise DataError(
                    f"{table.path}: the columns {owner[name]!r} and {column.name!r} both give "
                    f"the input {name!r}; rename one of them, or leave one out with "
                    f"{spelled('drop', [column.name])}"
                )


def _say_categories(column: Column, min_frequency) -> None:
    """Warn of a categorical column whose infrequent categories share an input, saying how
    many and how to change it, or of one one-hot encoded into many inputs, saying how to drop
    it (one line a column)."""
    pooled, inputs = len(column.infrequent), len(column.inputs)
    many = f"one-hot encoded into {inputs} inputs"
    drop = f"{spelled('drop', [column.name])} leaves it out"
    if pooled:
        rows = least_rows(min_frequency, pooled + len(column.categories))
        still = f"; still {many}, {drop}" if inputs > MANY_CATEGORIES else ""
        verbs = ("is", "takes") if pooled == 1 else ("are", "share")
        message = (
            f"column {column.name!r}: {pooled} of its {pooled + len(column.categories)} "
            f"categories {verbs[0]} in fewer than {rows} rows each and {verbs[1]} one input, "
            f"{column.inputs[-1]} (set by {spelled('min_frequency', min_frequency)}; "
            f"{spelled_none('min_frequency')} gives every category its own){still}"
        )
    elif inputs > MANY_CATEGORIES:
        message = (
            f"column {column.name!r} is {many}, one per category (a category not seen in "
            f"training will be all zeros); {drop}"
        )
    else:
        return
    warnings.warn(message, UserWarning, stacklevel=4)


#: What a fill value is, by ``impute``, as the training note says it.
_STATISTIC = {"median": "median", "mean": "mean", "most_frequent": "most frequent value"}


def _filled_in_training(table: Table, columns: list[Column], impute: str, group) -> None:
    """Say in one line (a FilledGapsWarning) how many missing cells of every process's rows
    the fill values just fitted fill, naming the columns, and how to refuse them instead."""
    counts = group.sum(gap_counts(table, columns))
    kinds = {c.kind for c, n in zip(columns, counts, strict=True) if n}
    statistics = [_STATISTIC[impute]] if "numeric" in kinds else []
    statistics += ["most frequent category"] if "categorical" in kinds else []
    source = f"the training rows' {' and '.join(statistics)}"
    note = filled_note(columns, counts, source)
    if note:
        warnings.warn(
            f"{note} ({spelled('impute', 'none')} to refuse them)", FilledGapsWarning, stacklevel=5
        )


def _standardised_target(whole: Table, target: str, T, train_rows, network, task: str):
    """A regression target standardised with its training rows' mean and scale, and those;
    class indices as they are, with mean 0 and scale 1."""
    if task != "regression":
        return T, 0.0, 1.0
    too_large = np.flatnonzero(~(np.abs(T) <= _LARGEST_TARGET))
    if too_large.size:
        raise DataError(
            f"{whole.path}: the target column {target!r} holds {T[too_large[0]]:g} in "
            f"{whole.row(too_large[0])}; regression errors are squared, which overflows beyond "
            f"+-{_LARGEST_TARGET:g}: rescale the column"
        )
    mean, scale = (float(v[0]) for v in _statistics(whole, [target], T[:, None], train_rows))
    T = _standardise(whole, [target], T[:, None], mean, scale, network.dtype)
    return T[:, 0], mean, scale


def _fit(model: TabularModel, X, T, options: dict, rows, started: float):
    """Train the model's network; divergence is a TrainingDivergedError, Ctrl-C a
    TrainingInterrupted holding the model of the last finished step."""
    network = model.network
    with warnings.catch_warnings():  # divergence is an error here, raised below
        warnings.simplefilter("ignore", TrainingDivergedWarning)
        try:
            history = network.fit(X, T, **options)
        except KeyboardInterrupt:
            seconds = time.perf_counter() - started
            raise TrainingInterrupted(TrainingRun(model, network.history, *rows, seconds)) from None
    if history.stopped_by == "diverged":
        raise TrainingDivergedError(history.stop_reason)
    return history


def subset(table: Table, rows) -> Table:
    """The table restricted to the given row indices (:meth:`Table.take`)."""
    return table.take(rows)


#: The rows :meth:`TabularModel.evaluate` puts through the network at once: the blocks of
#: standardisation (each block's copy, encoding and float32 cast are about 1.4 MB for 20
#: columns; a block this size keeps the matrix products efficient).
EVALUATION_ROWS = BLOCK_ROWS


def _row_blocks(rows):
    """Blocks of at most :data:`EVALUATION_ROWS` rows: ``range`` objects over a table of
    ``rows`` rows (so that messages keep the file's row numbers), or slices of an index array;
    one empty block when there are none."""
    if isinstance(rows, (int, np.integer)):
        starts = range(0, max(int(rows), 1), EVALUATION_ROWS)
        return [range(s, min(s + EVALUATION_ROWS, int(rows))) for s in starts]
    starts = range(0, max(len(rows), 1), EVALUATION_ROWS)
    return [rows[s : s + EVALUATION_ROWS] for s in starts]


# -- cross-validation ----------------------------------------------------------------------------


def cross_validation_folds(n_rows: int, cv: int, seed: int, labels=None) -> list[np.ndarray]:
    """The rows each of ``cv`` folds holds out (sorted indices; together every row once): the
    rows shuffled by ``seed`` and dealt to the folds in turn, one class after another when
    ``labels`` (each row's class index) are given, so that each fold holds about ``1/cv`` of
    every class (stratified, as scikit-learn's ``StratifiedKFold(shuffle=True)``). The folds'
    sizes differ by one row at most, and so do their counts of any one class."""
    rng = np.random.default_rng(seed)
    if labels is None:
        order = rng.permutation(n_rows)
    else:
        labels = np.asarray(labels)
        members = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
        order = np.concatenate(members)
    return [np.sort(order[k::cv]) for k in range(cv)]


def _check_folds(path: str, cv: int, labels, names) -> None:
    """A DataError when ``cv`` folds cannot each hold out rows (of every class, for labels):
    more folds than rows, or than the rows of the smallest class."""
    n = len(names)
    if cv > n:
        raise DataError(
            f"{path}: {spelled('cv', cv)} needs at least {cv} rows, one per fold, and the "
            f"table has {n}; pass at most {spelled('cv', n)}"
        )
    if labels is None:
        return
    counts = np.bincount(labels)
    smallest = int(np.argmin(counts))
    count, label = int(counts[smallest]), names[int(np.argmax(labels == smallest))]
    if count >= cv:
        return
    advice = (
        f"pass at most {spelled('cv', count)}"
        if count >= 2
        else "cross-validation needs 2 rows of every class; add rows of it or leave it out"
    )
    raise DataError(
        f"{path}: {spelled('cv', cv)} holds out rows of every class in each of its {cv} "
        f"folds, and the class {label!r} has {count} row{'s' if count > 1 else ''}; {advice}"
    )


def cross_validate(table: Table, target: str, cv: int = 5, **options) -> list[dict]:
    """Train and evaluate the table route ``cv`` times, each time holding out one fold of the
    rows (:func:`cross_validation_folds`, stratified by class for classification, shuffled by
    ``seed``) and training on the others as :func:`train_table` trains.

    Parameters
    ----------
    table : Table
        The rows (one process's: ``group`` is refused).
    target : str
        The column to predict.
    cv : int >= 2, default=5
        The number of folds.
    **options
        Those of :func:`train_table`, for every fold (the same ``seed`` too); a
        ``sample_weight`` array holds one weight per row of ``table``.

    Returns
    -------
    list of dict
        One per fold, in order: :meth:`TabularModel.evaluate`'s result on the rows it held out
        (``rows``, ``loss`` and every metric), with ``fold`` (from 1) and ``epochs`` (run).

    Raises
    ------
    DataError
        For more folds than rows, or (classification) than the rows of the smallest class.
    TrainingDivergedError
        When a fold's training diverged, naming the fold.
    """
    cv = check_int(cv, "cv", low=2)
    if options.get("group") is not None:
        raise ValueError(
            "'group' must be None: cross_validate trains its folds one after another on one "
            f"process, got {options['group']!r}"
        )
    table = rows_with_target(table, target, drop=options.pop("drop_missing_target", False))[0]
    whole = whole_target(table, target)
    task = options.pop("task", None) or infer_task(target_column(whole, target), whole, target)
    names = whole.column(target)
    labels = np.unique(names, return_inverse=True)[1] if task == "classification" else None
    _check_folds(table.path, cv, labels, names)
    seed, weights = options.pop("seed", 0), options.pop("sample_weight", None)
    results = []
    for k, held_out in enumerate(cross_validation_folds(table.n_rows, cv, seed, labels)):
        kept = np.setdiff1d(np.arange(table.n_rows), held_out)
        mine = weights if weights is None or isinstance(weights, str) else np.asarray(weights)[kept]
        try:
            run = train_table(
                table.take(kept), target, task=task, seed=seed, sample_weight=mine, **options
            )
        except TrainingDivergedError as error:
            raise TrainingDivergedError(f"fold {k + 1} of {cv}: {error}") from None
        with warnings.catch_warnings():  # the fold's training said what it fills
            warnings.simplefilter("ignore", FilledGapsWarning)
            scores = run.model.evaluate(table, rows=held_out)
        results.append({"fold": k + 1, "epochs": len(run.history.epoch), **scores})
    return results
