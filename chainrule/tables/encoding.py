"""From a table's columns to a network's inputs: which columns, one-hot categories, filled gaps.

A :class:`Column` is one stored transformation, fitted when training and kept in the model
file, so that evaluate and predict turn a new table into inputs exactly as training did; its
statistics (fill values) come from the training rows, its set of categories from every row of
the table trained on, the held-out validation rows too (values, not statistics: nothing of the
target leaks), so that a category whose rows all fell in the validation split still has its
input:

- a numeric column is one input; a missing cell takes the column's ``fill`` (the training rows'
  median by default, or their mean or most frequent value, as ``impute`` says) or, with
  ``impute='none'``, is refused, naming row and column. Every column stores its fill value,
  whether or not its training rows had gaps, so that a trained model fills a gap wherever it
  appears (:class:`FilledGapsWarning` says how many). With ``missing_indicators`` a numeric
  column whose training rows had gaps gives a second input, ``name=missing``: 1 where the cell
  was missing, 0 elsewhere. With ``scaling='robust'`` (the table model's default, chosen by
  measurement: see benchmarks/RESULTS.md, "Tables by default") the value is then centred on
  the training rows' median, divided by their interquartile range and smoothly clipped to
  (-3, 3) (:func:`smooth_clip`), before the table model's standardisation;
- a categorical column (text, or named with ``--categorical``) is one input per category of the
  table trained on, 1 for the row's category and 0 for the others (one-hot). A category never
  seen in training is all zeros, with a warning naming the value and the column (as scikit-learn's
  ``OneHotEncoder(handle_unknown='ignore')``), or an error with ``strict``. A missing cell takes
  the training rows' most frequent category (any ``impute`` but ``'none'``), or is refused.
  With ``min_frequency``, the categories in fewer rows share one more input, the column's
  last, which a category never seen in training then takes instead (with the warning).

A column is left out as an identifier (:func:`looks_like_id`) only on strong evidence: every
value distinct, and a name such as ``id`` or ``customer_id``, or integers that increase row
after row, or text; a numeric column of distinct values (areas, prices) stays a feature.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..core.validation import Interval, check_auto
from ..training.replicas import ONE_PROCESS
from .reading import (
    DataError,
    Table,
    did_you_mean,
    is_number,
    numeric_column,
    sort_labels,
    spelled,
    spelled_choices,
)

__all__ = [
    "CLIP",
    "Column",
    "FilledGapsWarning",
    "ID_MIN_ROWS",
    "IDENTIFIER_NAME",
    "IMPUTE",
    "INFREQUENT",
    "MIN_FREQUENCY",
    "NO_INPUT",
    "MANY_CATEGORIES",
    "AUTO_MIN_FREQUENCY",
    "KINDS",
    "SCALED_BOUND",
    "SCALING",
    "UnseenCategoryWarning",
    "choose_columns",
    "encode",
    "encoded_columns",
    "filled_note",
    "fit_columns",
    "gap_counts",
    "infrequent_count",
    "is_text",
    "least_rows",
    "looks_like_id",
    "robust_scale",
    "smooth_clip",
]

IMPUTE = ("none", "median", "mean", "most_frequent")
KINDS = ("numeric", "categorical")
SCALING = ("robust", "standard")

#: Where :func:`smooth_clip` bounds the centred and scaled values, x / sqrt(1 + (x/CLIP)^2).
CLIP = 3.0
#: Centred and scaled values are first limited to +-this (their square stays finite in float32
#: too); the clipped value there is CLIP to the last bit.
SCALED_BOUND = 1e18

#: The values ``min_frequency`` takes (:func:`fit_columns`) besides ``'auto'``: None or a row
#: count >= 1.
MIN_FREQUENCY = Interval(int, 1, none=True)

#: A categorical column of more categories than this is many-valued: ``min_frequency='auto'``
#: pools its infrequent categories, and one left with more inputs than this gets a warning.
MANY_CATEGORIES = 50

#: ``min_frequency='auto'``: in a many-valued column, the categories in fewer rows than this
#: share one input; other columns keep an input per category. Chosen on real tables
#: (benchmarks/RESULTS.md, "Many-valued columns (issue 28)").
AUTO_MIN_FREQUENCY = 40

#: The position of "no input": a category unseen in training, in a column without infrequent
#: categories, is all zeros.
NO_INPUT = -1

#: The label of the input a categorical column's infrequent categories share (in its input's
#: name, ``column=(infrequent)``).
INFREQUENT = "(infrequent)"

# A column with this many rows or more whose values are all distinct integers or strings may be
# taken as an identifier, not a feature, unless named (see looks_like_id).
ID_MIN_ROWS = 20

#: A column name that says identifier, in any case: ``id``, ``uuid``, ``guid``, ``key``, or one
#: ending in ``_id``, `` id``, ``-id``, ``.id`` (``_uuid``, ``_key``...); ``PassengerId``,
#: ``customerID`` too (a capital I after a lower-case letter).
IDENTIFIER_NAME = re.compile(
    r"(?i:(?:.*[_\s.-])?(?:id|uuid|guid|key))|.*[a-z0-9](?:Id|ID)|.*[a-z0-9](?:Uuid|UUID|Key)"
)


class UnseenCategoryWarning(UserWarning):
    """A category at predict time that the model never saw in training."""


class FilledGapsWarning(UserWarning):
    """Missing cells filled with the columns' fill values: in training (the values just fitted)
    and at predict and evaluate (the values the model stores), one line naming the columns."""


@dataclass
class Column:
    """One feature column and how it becomes network inputs."""

    name: str
    kind: str = "numeric"
    categories: list[str] = field(default_factory=list)
    fill: float | str | None = None
    # Robust scaling of a numeric column (scaling='robust'): the training rows' median and
    # interquartile range (see robust_scale). Kept in the model file's metadata ("robust"),
    # not in to_dict, whose keys are the model file's column schema.
    center: float | None = None
    spread: float | None = None
    # A numeric column's missing indicator (missing_indicators=True, where its training rows
    # had gaps): a second input, 1 where the cell is missing. Kept in the model file's metadata
    # ("missing_indicators"), not in to_dict, as the robust scaling is.
    indicator: bool = False
    # A categorical column's infrequent categories (fit_columns' min_frequency): they share
    # one input, the column's last, which a category unseen in training also takes.
    infrequent: list[str] = field(default_factory=list)

    @property
    def inputs(self) -> list[str]:
        """The names of the network inputs it gives: its own (and ``name=missing``, its missing
        indicator), or ``name=category`` each (and ``name=(infrequent)``, the input its
        infrequent categories share)."""
        if self.kind == "numeric":
            return [self.name, f"{self.name}=missing"] if self.indicator else [self.name]
        pooled = [f"{self.name}={self.pooled_label}"] if self.infrequent else []
        return [f"{self.name}={c}" for c in self.categories] + pooled

    @property
    def pooled_label(self) -> str:
        """The label of the input the infrequent categories share: :data:`INFREQUENT`, in more
        parentheses while that is one of the column's categories (input names are distinct)."""
        label = INFREQUENT
        while label in self.categories:
            label = f"({label})"
        return label

    @property
    def positions(self) -> dict[str, int]:
        """Each category's input, by position: its own, or (an infrequent one) the column's
        last."""
        index = {c: i for i, c in enumerate(self.categories)}
        return index | dict.fromkeys(self.infrequent, len(self.categories))

    @property
    def unseen_position(self) -> int:
        """The input a category unseen in training takes: the infrequent categories' (the
        column's last), or -1, none (all zeros), in a column without them."""
        return len(self.categories) if self.infrequent else NO_INPUT

    def __setstate__(self, state: dict) -> None:
        # a column pickled before infrequent categories existed had none
        self.__dict__.update({"infrequent": [], **state})

    def to_dict(self) -> dict:
        """The column as the model file's column schema holds it (``infrequent`` only where
        the column has infrequent categories: a file without them reads as before them)."""
        pooled = {"infrequent": self.infrequent} if self.infrequent else {}
        return {
            "name": self.name,
            "kind": self.kind,
            "categories": self.categories,
            "fill": self.fill,
            **pooled,
        }


def _missing_hint(fitting: bool, table: Table) -> str:
    """What a user can do about a missing cell: in training (``impute='none'``), pass another
    ``impute``; for a trained model without fill values (evaluate, predict, which have no
    ``impute``), fill the cell or train again. Spelled as the caller spells options
    (:func:`~chainrule.tables.reading.spelled_choices`: ``--impute median, mean or
    most_frequent``, ``impute='median', 'mean' or 'most_frequent'``)."""
    option = spelled_choices("impute", IMPUTE[1:])
    if fitting:
        return f"fill it in, drop the row, or pass {option}"
    return (
        f"the model has no fill value (it was trained with {spelled('impute', 'none')}): fill "
        f"it in, drop the row, or train the model again with {option}"
    )


def is_text(table: Table, name: str, group=ONE_PROCESS) -> bool:
    """A column of text that is not numbers with a few typos: fewer than half its present
    values read as numbers. Numbers with typos stay numeric (and their typos are errors).
    With a ``group``, ``table`` is this process's block and the counts are summed over all."""
    values = table.data[name]
    if values.dtype != object:
        return False
    cells = Counter(values.tolist())  # each distinct cell read once: a column repeats its values
    cells.pop(None, None)
    numbers = sum(count for cell, count in cells.items() if is_number(cell))
    numbers, count = group.sum([numbers, cells.total()])
    return numbers < 0.5 * count


def looks_like_id(table: Table, name: str, group=ONE_PROCESS) -> bool:
    """An identifier on strong evidence: on at least :data:`ID_MIN_ROWS` rows, every value
    distinct and present, and the column text, or named as identifiers are
    (:data:`IDENTIFIER_NAME`), or integers that increase from each row to the next. Distinct
    numbers alone are not enough (areas, prices, measurements are often all distinct).

    With a ``group`` (``table`` this process's block), over every process's rows: a column
    distinct within each block is gathered to check that the blocks share no value, and the
    blocks' ends are compared for an increase across them."""
    values = table.data[name]
    if values.dtype.kind not in "iO":
        return False
    text = values.dtype == object
    gaps = text and any(v is None for v in values)
    rows, gaps, repeats = group.sum([len(values), gaps, len(set(values.tolist())) < len(values)])
    if rows < ID_MIN_ROWS or gaps or repeats:
        return False
    if not (text or IDENTIFIER_NAME.fullmatch(name) or _increasing(values, group)):
        return False
    if group.size == 1:
        return True
    return len(set(group.gather(values).tolist())) == rows


def _increasing(values: np.ndarray, group=ONE_PROCESS) -> bool:
    """Integers that increase from each row to the next, over every process's rows in order."""
    rising = bool(np.all(values[1:] > values[:-1]))
    ends = group.collect((rising, *(values[[0, -1]].tolist() if len(values) else ())))
    if not all(block[0] for block in ends):
        return False
    bounds = [value for block in ends if len(block) == 3 for value in block[1:]]
    return all(a < b for a, b in zip(bounds[1:-1:2], bounds[2::2], strict=True))


def choose_columns(
    table: Table, target: str, features=None, drop=(), group=ONE_PROCESS, categorical=()
) -> tuple[list[str], list[str]]:
    """The feature columns and notes for the user.

    ``features`` (names, in order) are used as given; otherwise every column but the target,
    those in ``drop`` and those that look like identifiers (:func:`looks_like_id`, one note
    each). Every column named in ``categorical`` must be one of them.

    Raises
    ------
    DataError
        For a named column the table lacks, the target named as a feature, a ``categorical``
        column that is not a feature, or no feature left.
    """
    named = (("features", features or ()), ("drop", drop), ("categorical", categorical))
    present, drop = set(table.columns), set(drop)  # sets: a file may have 100 000 columns
    for option, names in named:
        unknown = [n for n in names if n not in present]
        if unknown:
            raise DataError(
                f"{table.path}: {spelled(option)} names {unknown[0]!r}, which is not a column"
                f"{did_you_mean(unknown[0], table.columns)}; the columns are "
                f"{', '.join(table.columns)}"
            )
    notes = []
    if features:
        if target in features:
            raise DataError(
                f"{spelled('features')} names the target {target!r}; it cannot be a feature"
            )
        chosen = list(dict.fromkeys(features))
    else:
        chosen = []
        for name in table.columns:
            if name == target or name in drop:
                continue
            if looks_like_id(table, name, group):
                notes.append(
                    f"column {name!r} looks like an identifier (every value distinct): not used "
                    f"as a feature; name it in {spelled('features')} to use it"
                )
                continue
            chosen.append(name)
    if not chosen:
        raise DataError(f"{table.path}: there is no feature column besides the target {target!r}")
    kept = set(chosen)
    unused = [name for name in categorical if name not in kept]
    if unused:
        raise DataError(
            f"{table.path}: {spelled('categorical')} names {unused[0]!r}, which is not a "
            f"feature (the features are {', '.join(chosen)}); name it in {spelled('features')} "
            "to use it"
        )
    return chosen, notes


def fit_columns(
    table: Table,
    names: list[str],
    rows,
    *,
    categorical=(),
    impute: str = "none",
    group=ONE_PROCESS,
    scaling: str = "standard",
    missing_indicators: bool = False,
    min_frequency: int | str | None = None,
) -> list[Column]:
    """Each column's kind, categories and fill value: the fill values fitted on ``table``'s
    ``rows`` (the training rows), one for every column (``impute='none'``: none), the
    categories on every row of ``table`` (the set of values of the rows held out for
    validation too, none of their statistics). With ``scaling='robust'``, each numeric
    column's median and spread too (:func:`robust_scale` of its training rows, gathered from
    every process); ``'standard'`` leaves them out. With ``missing_indicators``, a numeric
    column whose training rows (on any process) have a gap gets its indicator input.

    With ``min_frequency``, the categories of a categorical column found in fewer rows of
    ``table`` (every row, as for the set of categories: how often a value occurs, nothing of
    the target) are infrequent: they share one input, the column's last, which a category
    unseen in training also takes at predict time, as scikit-learn's
    ``OneHotEncoder(min_frequency=..., handle_unknown='infrequent_if_exist')`` fitted on
    those rows encodes them (the fill value may be one of them; where every category is, the
    column is that one input). ``'auto'``: :data:`AUTO_MIN_FREQUENCY` in a column of more than
    :data:`MANY_CATEGORIES` categories, None in the others.

    With a ``group``, ``table`` is this process's block and ``rows`` its training rows; the
    fit is over every process's, with the same result as one process on all rows: the
    categories are the union of the blocks', a most frequent value comes from counts summed
    over the blocks, a mean from sums, and a median from the column's training values
    gathered from every block (the one statistic that needs them all).
    """
    if impute not in IMPUTE:
        raise ValueError(f"'impute' must be one of {', '.join(IMPUTE)}, got {impute!r}")
    if scaling not in SCALING:
        raise ValueError(f"'scaling' must be one of {', '.join(SCALING)}, got {scaling!r}")
    if not isinstance(missing_indicators, (bool, np.bool_)):
        raise TypeError(f"'missing_indicators' must be True or False, got {missing_indicators!r}")
    min_frequency = check_auto(min_frequency, "min_frequency", MIN_FREQUENCY)
    columns, categorical = [], set(categorical)
    for name in names:
        if name in categorical or is_text(table, name, group):
            columns.append(_categorical(table, name, rows, impute, group, min_frequency))
            continue
        fill = None if impute == "none" else _numeric_fill(table, name, rows, impute, group)
        center = spread = None
        if scaling == "robust":
            center, spread = robust_scale(group.gather(_numbers(table, name)[rows]))
        indicator = False
        if missing_indicators:
            indicator = bool(group.sum([np.isnan(_numbers(table, name)[rows]).sum()])[0] > 0)
        columns.append(Column(name, "numeric", [], fill, center, spread, indicator))
    return columns


def _numeric_fill(table: Table, name: str, rows, impute: str, group) -> float:
    """A numeric column's fill value: its training ``rows``' median, mean or most frequent
    value (over every process's), or a DataError when they hold no value."""
    numbers = _numbers(table, name)[rows]
    numbers = numbers[~np.isnan(numbers)]
    if impute == "median":
        numbers = group.gather(numbers)
    if group.sum([numbers.size])[0] == 0:
        raise DataError(f"{table.path}: column {name!r} has no values in training rows")
    if impute == "median":
        return float(np.median(numbers))
    if impute == "mean":
        total, count = group.sum([np.sum(numbers), numbers.size])
        return float(total / count)
    return float(_most_frequent(_counts(numbers, group)))


def robust_scale(values: np.ndarray) -> tuple[float, float]:
    """The median and the spread that :func:`smooth_clip` uses, of the values that are not
    NaN: the interquartile range (numpy's linear quantiles), else half the range (a column
    whose middle half is one value, such as a rare 0/1 flag), else 1 (a constant column, or
    none). The spread is finite, at most the largest float64."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return 0.0, 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        low, center, high = np.quantile(values, [0.25, 0.5, 0.75])
        if not np.isfinite([low, center, high]).all():  # near +-1.8e308: interpolated halves
            low, center, high = 2 * np.quantile(values / 2, [0.25, 0.5, 0.75])
        spread = high - low
        if not spread > 0:
            spread = values.max() - values.min()
            spread = spread / 2 if np.isfinite(spread) else values.max() / 2 - values.min() / 2
    spread = float(min(spread, np.finfo(np.float64).max)) if spread > 0 else 1.0
    return float(center), spread


def smooth_clip(values: np.ndarray, center: float, spread: float) -> np.ndarray:
    """``z / sqrt(1 + (z / 3)^2)`` with ``z = (values - center) / spread``: about ``z`` near the
    median, never beyond +-3 (an outlier keeps its order but not its distance; NaN stays NaN)."""
    with np.errstate(over="ignore"):
        z = np.clip((values - center) / spread, -SCALED_BOUND, SCALED_BOUND)
    return z / np.sqrt(1.0 + (z / CLIP) ** 2)


def _categorical(
    table: Table, name: str, rows, impute: str, group, min_frequency: int | str | None = None
) -> Column:
    """A categorical column: its categories from every row of ``table``, its fill value (with
    ``impute``) the most frequent category of the training ``rows``; with ``min_frequency``,
    those in fewer rows of ``table`` are infrequent (see :func:`fit_columns`)."""
    labels = np.array(_category_labels(table.data[name]), dtype=object)
    present = labels != None  # noqa: E711
    categories = _counts(labels[present].astype(str), group)
    if not categories:
        raise DataError(f"{table.path}: column {name!r} has no values")
    fill = None
    if impute != "none":
        training = labels[rows]
        counts = _counts(training[training != None].astype(str), group)  # noqa: E711
        if not counts:
            raise DataError(f"{table.path}: column {name!r} has no values in training rows")
        fill = _most_frequent(counts)
    column = Column(name, "categorical", sort_labels(categories), fill)
    least = least_rows(min_frequency, len(categories))
    if least is not None:
        kept = {c for c, n in categories.items() if n >= least}
        column.infrequent = [c for c in column.categories if c not in kept]
        column.categories = [c for c in column.categories if c in kept]
    return column


def least_rows(min_frequency, n_categories: int) -> int | None:
    """The rows a category needs for its own input in a column of ``n_categories`` (None: every
    category has one): ``min_frequency`` itself, or for ``'auto'``
    :data:`AUTO_MIN_FREQUENCY` in a column of more than :data:`MANY_CATEGORIES`."""
    if min_frequency == "auto":
        return AUTO_MIN_FREQUENCY if n_categories > MANY_CATEGORIES else None
    return min_frequency


def _category(value) -> str | None:
    """A cell as a category label: text as it is, a number as its text (``3``, ``2.5``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _labels_by_cell(values: list) -> dict:
    """Each distinct cell of ``values``, keyed by its type and value, as :func:`_category`
    makes it a label: a column of a million cells holds a few hundred distinct ones."""
    return {key: _category(key[1]) for key in {(type(v), v) for v in values}}


def _cell_list(cells) -> list:
    """A column's cells as a list of the objects :func:`_category` would be handed one by one
    (an object array's own objects; NumPy scalars, not Python numbers, for other arrays)."""
    if isinstance(cells, np.ndarray) and cells.dtype == object:
        return cells.tolist()
    return list(cells)


def _category_labels(cells) -> list:
    """Every cell of a column as :func:`_category` makes it a label."""
    values = _cell_list(cells)
    label = _labels_by_cell(values)
    return [label[type(v), v] for v in values]


def _counts(values: np.ndarray, group=ONE_PROCESS) -> dict:
    """How often each value occurs in ``values``, summed over the processes of ``group``."""
    unique, counts = np.unique(values, return_counts=True)
    total: dict = {}
    for block in group.collect(dict(zip(unique.tolist(), counts.tolist(), strict=True))):
        for value, count in block.items():
            total[value] = total.get(value, 0) + count
    return total


def _most_frequent(counts: dict):
    """The most frequent value; the smallest of those tied (as scikit-learn's SimpleImputer)."""
    largest = max(counts.values())
    return min(value for value, count in counts.items() if count == largest)


def _numbers(table: Table, name: str) -> np.ndarray:
    """A numeric column with NaN where missing (text and infinities are still errors)."""
    return numeric_column(table, name, allow_missing=True)


def encode(
    table: Table, columns: list[Column], *, strict: bool = False, fitting: bool = False
) -> np.ndarray:
    """The table's rows as network inputs (before standardisation), one block per column;
    ``fitting`` when the columns were just fitted on this table (training: a missing cell's
    message then suggests ``--impute``, not training again).

    Raises
    ------
    DataError
        For a missing column, a missing cell in a column without a fill value (naming row,
        column and ``--impute``), a value that is not a number in a numeric column, or with
        ``strict`` a category unseen in training.
    """
    _check_present(table, columns)
    blocks = list(encoded_columns(table, columns, strict=strict, fitting=fitting, checked=True))
    return np.hstack(blocks) if blocks else np.empty((table.n_rows, 0))


def _check_present(table: Table, columns: list[Column]) -> None:
    """Refuse a table that lacks any of ``columns``, naming them and the table's columns."""
    present = set(table.columns)
    absent = [c.name for c in columns if c.name not in present]
    if absent:
        raise DataError(
            f"{table.path}: the model needs the column(s) {', '.join(absent)}"
            f"{did_you_mean(absent[0], table.columns)}; the file has {', '.join(table.columns)}"
        )


def encoded_columns(
    table: Table,
    columns: list[Column],
    *,
    strict: bool = False,
    fitting: bool = False,
    checked: bool = False,
):
    """:func:`encode`'s blocks, one per column (2-D, a row per table row), one at a time: the
    caller places each where it wants it without a joined copy of all. ``checked`` when the
    columns are known present."""
    if not checked:
        _check_present(table, columns)
    for column in columns:
        if column.kind == "numeric":
            yield _encode_numeric(table, column, fitting)
        else:
            yield _encode_categorical(table, column, strict, fitting)


def _encode_numeric(table: Table, column: Column, fitting: bool) -> np.ndarray:
    """A numeric column's block: its values filled and scaled, then its indicator if it has
    one (1.0 where the cell was missing)."""
    values = _numbers(table, column.name)
    gaps = np.isnan(values)
    if gaps.any():
        if column.fill is None:
            raise DataError(
                f"{table.path}: column {column.name!r} has a missing value in "
                f"{table.row(int(np.argmax(gaps)))}; {_missing_hint(fitting, table)}"
            )
        values = np.where(gaps, column.fill, values)
    if column.spread is not None:
        values = smooth_clip(values, column.center, column.spread)
    return np.column_stack([values, gaps]) if column.indicator else values[:, None]


def gap_counts(table: Table, columns: list[Column]) -> list[int]:
    """How many missing cells ``table`` has in each of ``columns`` that has a fill value (0
    for one without: its gaps are refused, not filled), the cells :func:`encode` fills."""
    counts = []
    for column in columns:
        if column.fill is None:
            counts.append(0)
        elif column.kind == "numeric":
            counts.append(int(np.isnan(_numbers(table, column.name)).sum()))
        else:
            counts.append(_category_labels(table.data[column.name]).count(None))
    return counts


# How many columns filled_note names, with their counts, before "and N more".
_NAMED_COLUMNS = 5


def filled_note(columns: list[Column], counts, source: str) -> str | None:
    """One line saying which missing cells were filled, ``counts`` per column (of
    :func:`gap_counts`), with what (``source``); None when no cell was: ``filled 5 missing
    cells in 2 columns ('age' 4, 'town' 1) with ...``."""
    filled = [(c.name, int(n)) for c, n in zip(columns, counts, strict=True) if n]
    if not filled:
        return None
    total = sum(n for _, n in filled)
    named = ", ".join(f"{name!r} {n}" for name, n in filled[:_NAMED_COLUMNS])
    more = f" and {len(filled) - _NAMED_COLUMNS} more" if len(filled) > _NAMED_COLUMNS else ""
    cells = "cell" if total == 1 else "cells"
    where = f"{len(filled)} column{'s' if len(filled) > 1 else ''} ({named}{more})"
    return f"filled {total} missing {cells} in {where} with {source}"


def _encode_categorical(table: Table, column: Column, strict: bool, fitting: bool) -> np.ndarray:
    values = _cell_list(table.data[column.name])
    label = _labels_by_cell(values)
    if column.fill is None and None in label.values():
        r = next(r for r, v in enumerate(values) if label[type(v), v] is None)
        raise DataError(
            f"{table.path}: column {column.name!r} has a missing value in "
            f"{table.row(r)}; {_missing_hint(fitting, table)}"
        )
    index, unseen = column.positions, column.unseen_position
    code = {
        key: index.get(column.fill if got is None else got, unseen) for key, got in label.items()
    }
    codes = np.fromiter((code[type(v), v] for v in values), np.intp, len(values))
    block = np.zeros((len(values), len(column.inputs)))
    known = np.flatnonzero(codes >= 0)
    block[known, codes[known]] = 1.0
    _say_unseen(table, column, values, label, index, strict)
    return block


def infrequent_count(column: Column) -> str:
    """``1 infrequent category``, ``3 infrequent categories``: how many share the input."""
    count = len(column.infrequent)
    return f"{count} infrequent {'category' if count == 1 else 'categories'}"


def _say_unseen(table: Table, column: Column, values: list, label: dict, index: dict, strict):
    """Warn (or with ``strict`` refuse) the first category of ``values`` not seen in training,
    and how many others there are."""
    if all(got is None or got in index for got in label.values()):
        return
    unseen: dict[str, int] = {}
    for r, value in enumerate(values):
        got = label[type(value), value]
        if got is not None and got not in index:
            unseen.setdefault(got, r)
    value, r = next(iter(unseen.items()))
    more = f" (and {len(unseen) - 1} more unseen values)" if len(unseen) > 1 else ""
    known = ", ".join(column.categories)
    if column.infrequent:
        known = " and ".join(filter(None, [known, infrequent_count(column)]))
    message = (
        f"{table.path}: column {column.name!r} holds {value!r} in {table.row(r)}{more}, a "
        f"category not seen in training (it knows {known})"
    )
    if strict:
        raise DataError(message)
    encoded = "as its infrequent categories are" if column.infrequent else "as all zeros"
    warnings.warn(f"{message}; encoded {encoded}", UnseenCategoryWarning, stacklevel=4)
