"""The table route as scikit-learn estimators: ``TableClassifier`` and ``TableRegressor``.

They train what ``chainrule train`` trains (:func:`chainrule.tables.model.train_table`: text
columns one-hot encoded, missing cells filled as ``impute`` says (the training rows' median
by default), numbers standardised on the
training rows, a stratified validation split whose best epoch is kept) on a raw pandas
DataFrame, behind scikit-learn's interface: ``get_params`` and ``set_params``,
``fit(X, y, sample_weight=None)``, ``predict``, ``predict_proba`` (classifier, columns in the
order of ``classes_``), ``score`` (accuracy, R^2), ``clone`` and pickles; so
``cross_val_score``, ``GridSearchCV`` and pipelines take them on a DataFrame with text
categories and missing cells, with no preprocessing before them.

Their parameters are the table route's options with its defaults (read from ``train_table``,
so the two cannot drift apart), ``random_state`` standing for ``seed``. With the same rows and
an integer ``random_state`` they fit, bit for bit, the model that
``TabularModel.train(frame, target, seed=random_state, ...)`` fits; it is kept as ``model_``,
a :class:`~chainrule.tables.model.TabularModel` (``model_.save("m.npz")`` writes a file that
``chainrule evaluate`` and ``predict`` read).

A DataFrame's columns are used by name; any other 2-D input (a NumPy array, as scikit-learn's
own checks feed) as a table whose columns are named ``x0``, ``x1``, ... (an object array's
cells may be text). Every column given is a feature: choosing columns is the caller's part in
scikit-learn (a ``ColumnTransformer`` or ``frame[columns]``), so no column is guessed to be an
identifier.

Not scikit-learn's MLP: :class:`~chainrule.sklearn.MLPClassifier` and ``MLPRegressor`` are its
drop-in, on numeric arrays, with its defaults. These follow the table route instead: sample
weights count as ``sum_i w_i L_i / n`` (a weight of 2 counts a row twice), the regression
target is standardised, and so on (see :func:`~chainrule.tables.model.train_table`).

Needs scikit-learn (the ``sklearn`` extra); pandas only to pass DataFrames.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import assert_all_finite, check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_array,
    check_is_fitted,
)

from .._version import __version__
from ..core.validation import CONSTRAINTS, check_int
from ..tables.model import train_table
from ..tables.reading import MISSING, Table, from_frame
from .estimators import _one_fit_at_a_time, _restore_pickled

__all__ = ["TableClassifier", "TableRegressor"]

# The table route's defaults, which the estimators' parameters take.
_ROUTE = {name: p.default for name, p in inspect.signature(train_table).parameters.items()}

# The options checked against core.validation.CONSTRAINTS, as fit and the command line check them.
_NUMBERS = (
    "epochs", "batch_size", "learning_rate", "validation_split", "dropout", "l2", "input_scale",
    "embedding_size",
)  # fmt: skip
# The options handed to train_table as they are (the numbers after checking).
_ROUTE_OPTIONS = (
    "activation",
    "loss",
    "optimizer",
    "early_stopping",
    "patience",
    "keep",
    "impute",
    "scaling",
    "missing_indicators",
    "min_frequency",
)


def _is_frame(X) -> bool:
    """A pandas (or pandas-like) DataFrame: columns with names and dtypes."""
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _text_cells(column: np.ndarray) -> np.ndarray:
    """An object column's cells as text, None where missing (None, NaN, or text that spells a
    missing cell in a CSV file: :data:`~chainrule.tables.reading.MISSING`)."""
    cells = np.empty(len(column), dtype=object)
    for r, value in enumerate(column):
        gap = value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))
        text = None if gap else str(value)
        cells[r] = None if text is None or text.strip(" \t").lower() in MISSING else text
    return cells


def _array_table(array: np.ndarray, names: list[str]) -> Table:
    """A 2-D array as a table whose columns are ``names``: integers (and booleans) as int64,
    other numbers as float64 (NaN where missing), anything else as text."""
    data = {}
    for j, name in enumerate(names):
        column = array[:, j]
        if column.dtype.kind in "iub":
            data[name] = column.astype(np.int64)
        elif column.dtype.kind == "f":
            data[name] = column.astype(np.float64)
        else:
            data[name] = _text_cells(column)
    index = np.arange(len(array)).astype(object)  # messages name a row by its position
    return Table("X", list(names), data, index=index)


def _with_target(table: Table, target: str, values: np.ndarray) -> Table:
    """``table`` with one more column, ``target``, holding ``values``."""
    return Table(
        table.path, [*table.columns, target], {**table.data, target: values}, index=table.index
    )


def _target_name(features: list[str], y) -> str:
    """The target column's name, as messages show it: ``y``'s own (a pandas Series's) when it
    is text and no feature's, else ``y`` (then ``y_``, ...), one that no feature has."""
    name = getattr(y, "name", None)
    if isinstance(name, str) and name and name not in features:
        return name
    name = "y"
    while name in features:
        name += "_"
    return name


def _hidden(hidden) -> tuple[int, ...]:
    """``hidden`` as a tuple of layer widths: an integer (one layer) or a sequence of them."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise TypeError(
            f"'hidden' must be a sequence of layer widths, such as (64, 32), got {hidden!r}"
        )
    return tuple(check_int(width, "hidden", low=1) for width in hidden)


def _names(names, parameter: str) -> tuple[str, ...]:
    """A parameter that lists column names, as a tuple (None: none)."""
    names = () if names is None else names
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise TypeError(
            f"{parameter!r} must be a list of column names, such as ['colour'], got {names!r}"
        )
    return tuple(names)


def _seed(random_state) -> int:
    """The route's ``seed`` for ``random_state``: an integer as it is (checked >= 0), else one
    drawn from the RandomState that scikit-learn's ``check_random_state`` makes of it (None:
    NumPy's global one)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return CONSTRAINTS["seed"].check(random_state, "random_state")
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _check_labels_present(y: np.ndarray) -> None:
    """A ValueError for a missing label (NaN, None) or an infinite one, naming its position."""
    if y.dtype.kind in "fc":
        assert_all_finite(y, input_name="y")
    elif y.dtype == object:
        for r, label in enumerate(y):
            if label is None or (
                isinstance(label, (float, np.floating)) and not np.isfinite(label)
            ):
                raise ValueError(
                    f"Input y contains {label!r} at position {r}: every row needs a class "
                    "label (drop the rows without one)"
                )


class _TableEstimator(BaseEstimator):
    """What the classifier and the regressor share: from X to a table, training, pickles."""

    _TASK = ""

    # -- parameters -------------------------------------------------------------------------
    def _options(self) -> dict:
        """The table route's options for this estimator's parameters, each checked."""
        options = {name: getattr(self, name) for name in _ROUTE_OPTIONS}
        for name in _NUMBERS:
            options[name] = CONSTRAINTS[name].check(getattr(self, name), name)
        options["hidden"] = _hidden(self.hidden)
        options["categorical"] = _names(self.categorical, "categorical")
        options["seed"] = _seed(self.random_state)
        options["verbose"] = self.verbose
        return options

    # -- from X to a table ------------------------------------------------------------------
    def _column_names(self, n_columns: int) -> list[str]:
        """The columns' names: those fitted (``feature_names_in_``), else ``x0``, ``x1``..."""
        if hasattr(self, "feature_names_in_"):
            return [str(name) for name in self.feature_names_in_]
        return [f"x{j}" for j in range(n_columns)]

    def _table(self, X, *, reset: bool) -> Table:
        """X as a table of feature columns, checked as scikit-learn checks it: its column
        names (a warning or a ValueError when they differ from those fitted) and their count.
        A DataFrame lacking the fitted names is taken by position."""
        if _is_frame(X):
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            names = self._column_names(X.shape[1])
            frame = X if [str(c) for c in X.columns] == names else X.set_axis(names, axis=1)
            return from_frame(frame, "X")
        array = check_array(X, dtype=None, ensure_all_finite="allow-nan", input_name="X")
        _check_feature_names(self, array, reset=reset)
        _check_n_features(self, array, reset=reset)
        return _array_table(array, self._column_names(array.shape[1]))

    # -- training ---------------------------------------------------------------------------
    def _target(self, y) -> np.ndarray:
        """The target column's values for the table (implemented by each task)."""
        raise NotImplementedError

    def _route_extras(self) -> dict:
        """Options beyond the shared ones (the classifier's class weights)."""
        return {}

    @_one_fit_at_a_time
    def fit(self, X, y, sample_weight=None):
        """Train on the rows ``X`` with targets ``y``, as the table route trains.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            The feature columns, raw: text categories, missing cells (NaN, None, or text such
            as ``'?'`` or ``'NA'``) and numbers, each column encoded as ``chainrule train``
            encodes it.
        y : array-like of shape (n_samples,)
            The class labels (classifier) or values (regressor).
        sample_weight : array-like of shape (n_samples,), optional
            Each row's weight, a number >= 0; the loss is ``sum_i w_i L_i / n``.

        Returns
        -------
        self
        """
        options = {**self._options(), **self._route_extras()}
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        table = self._table(X, reset=True)
        values = self._target(y)
        if len(values) != table.n_rows:
            raise ValueError(
                f"X has {table.n_rows} rows and y has {len(values)} values; expected one "
                "value of y per row"
            )
        target = _target_name(table.columns, y)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, np.empty((table.n_rows, 0)))
        run = train_table(
            _with_target(table, target, values), target, task=self._TASK,
            features=list(table.columns), sample_weight=weights, **options,
        )  # fmt: skip
        self.model_ = run.model
        self.n_iter_ = len(run.history.epoch)
        return self

    def _outputs(self, X) -> np.ndarray:
        """The network's outputs for X (float64), after the stored transformations (missing
        cells filled with the stored fill values are said in one line, a
        :class:`~chainrule.tables.encoding.FilledGapsWarning`)."""
        check_is_fitted(self, "model_")
        table = self._table(X, reset=False)
        inputs = self.model_.inputs(table)
        self.model_.report_filled(table)
        return self.model_.network.predict(inputs).astype(np.float64)

    # -- pickles ----------------------------------------------------------------------------
    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_fit_lock", None)  # a lock is not pickled: the copy makes its own
        state["_chainrule_version"] = __version__
        return state

    _ADDED = {"patience": None, "min_frequency": None, "input_scale": None, "embedding_size": None}
    """Parameters added after pickles were written, with the value that gives those pickles'
    behaviour (before ``patience``, every epoch ran; before ``min_frequency``, every category
    had its input; before ``input_scale``, the inputs had no learned scale; before
    ``embedding_size``, no column was embedded)."""

    def __setstate__(self, state):
        """Restore a pickle, checked against this version (see
        :func:`~chainrule.sklearn.estimators._restore_pickled`); a parameter added since it
        was written takes the value that behaves as the pickled estimator did."""
        if isinstance(state, dict):
            state = {**self._ADDED, **state}
        _restore_pickled(self, state, super().__setstate__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.impute != "none"
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


class TableClassifier(ClassifierMixin, _TableEstimator):
    """The table route's classifier on a raw DataFrame: ``chainrule train --task
    classification`` as a scikit-learn estimator.

    Parameters
    ----------
    hidden : int or tuple of int, default=(64, 32)
        The hidden layers' widths (``--hidden``).
    activation : str, default='elu'
        The hidden layers' activation, chosen on 20 real tables (better on the four furthest
        from gradient boosting, worse than ``'relu'`` on two: benchmarks/RESULTS.md, "ELU
        hidden layers").
    loss : str, optional
        Default: ``cross_entropy``.
    optimizer : str, default='adam'
        ``'adam'``, ``'adamw'``, ``'sgd'``, ``'rmsprop'``, ``'adagrad'`` or ``'lbfgs'``.
    learning_rate : float, default=1e-3
        The optimizer's rate.
    epochs : int, default=100
        Passes over the training rows.
    batch_size : int, default=32
        Rows per step (clipped to the training rows, with a warning).
    validation_split : float in [0, 1), default=0.1
        The fraction of the rows held out, stratified by class, to choose the kept epoch.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for 5 epochs (instead of
        ``patience``).
    patience : 'auto', int >= 1 or None, default='auto'
        Stop after this many epochs without a lower validation loss (``'auto'``: 40); None:
        every epoch runs (see :func:`~chainrule.tables.model.train_table`).
    keep : {'best', 'last'}, default='best'
        With validation rows, keep the parameters of the epoch of lowest validation loss, or
        the last epoch's.
    impute : {'median', 'mean', 'most_frequent', 'none'}, default='median'
        How missing cells are filled (text columns: their most frequent category), in ``fit``
        and, with the fill values stored for every column, in ``predict``; each says in one
        line how many cells it filled (a
        :class:`~chainrule.tables.encoding.FilledGapsWarning`). 'none': a missing cell is a
        ValueError naming its row and column.
    scaling : {'robust', 'standard'}, default='robust'
        'robust': each numeric column centred on its training rows' median, divided by their
        interquartile range and smoothly clipped, before standardisation; 'standard':
        standardised alone (see :mod:`chainrule.tables.encoding`).
    missing_indicators : bool, default=False
        Give each numeric column with missing cells in the training rows a 0/1 input, 1 where
        the cell is missing. Off by default: it lost on 3 of the 10 real tables measured
        (benchmarks/RESULTS.md, "Tables by default").
    min_frequency : 'auto', int >= 1 or None, default='auto'
        A categorical column's categories found in fewer rows share one input, as one unseen
        in fit does in ``predict``; None: an input for every category; 'auto': 40, in columns
        of more than 50 categories only (see :func:`~chainrule.tables.model.train_table`).
    categorical : tuple of str, default=()
        Columns to one-hot encode besides the text ones (integer codes, say).
    dropout : float in [0, 1), default=0.1
        Dropout after every hidden layer (chosen on real tables; 0 for none).
    l2 : float >= 0, default=0
        The L2 penalty ``l2/2 sum W^2`` on the weights.
    input_scale : float in [1e-6, 1e6] or None, default=6
        A learned scale of each input before the first layer, moved by Adam about this many
        times as far as a weight (:class:`~chainrule.core.layers.Dense`; chosen on real
        tables); None for none.
    embedding_size : int in [1, 4096] or None, default=4
        A learned embedding of this width for each categorical column of more categories than
        it (:class:`~chainrule.core.layers.Embedding`; chosen on real tables); None: an input
        per category.
    class_weight : 'balanced' or dict, optional
        Weights by class label, multiplied into the sample weights.
    random_state : int, RandomState instance or None, default=0
        The route's ``seed`` (initial weights, split, shuffling, dropout); an integer fits the
        same model every time, None a new one.
    verbose : int, default=0
        1 shows the route's progress display on stderr.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted, as ``predict_proba``'s columns.
    model_ : chainrule.tables.model.TabularModel
        The trained model (its ``classes`` are the labels as text).
    n_iter_ : int
        The epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Where X was a DataFrame with text column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from chainrule.sklearn import TableClassifier
    >>> frame = pd.DataFrame({"size": [1.0, 2.0, None, 4.0] * 10,
    ...                       "colour": ["red", "blue", "red", None] * 10})
    >>> y = ["small", "small", "large", "large"] * 10
    >>> clf = TableClassifier(epochs=5, random_state=0).fit(frame, y)
    >>> clf.predict_proba(frame).shape
    (40, 2)
    """

    _TASK = "classification"

    def __init__(
        self,
        *,
        hidden=_ROUTE["hidden"],
        activation=_ROUTE["activation"],
        loss=_ROUTE["loss"],
        optimizer=_ROUTE["optimizer"],
        learning_rate=_ROUTE["learning_rate"],
        epochs=_ROUTE["epochs"],
        batch_size=_ROUTE["batch_size"],
        validation_split=_ROUTE["validation_split"],
        early_stopping=_ROUTE["early_stopping"],
        patience=_ROUTE["patience"],
        keep=_ROUTE["keep"],
        impute=_ROUTE["impute"],
        scaling=_ROUTE["scaling"],
        missing_indicators=_ROUTE["missing_indicators"],
        min_frequency=_ROUTE["min_frequency"],
        categorical=_ROUTE["categorical"],
        dropout=_ROUTE["dropout"],
        l2=_ROUTE["l2"],
        input_scale=_ROUTE["input_scale"],
        embedding_size=_ROUTE["embedding_size"],
        class_weight=_ROUTE["class_weight"],
        random_state=_ROUTE["seed"],
        verbose=0,
    ):
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.keep = keep
        self.impute = impute
        self.scaling = scaling
        self.missing_indicators = missing_indicators
        self.min_frequency = min_frequency
        self.categorical = categorical
        self.dropout = dropout
        self.l2 = l2
        self.input_scale = input_scale
        self.embedding_size = embedding_size
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose

    def _target(self, y) -> np.ndarray:
        """The labels as text, one class per distinct label (``classes_``, sorted)."""
        y = column_or_1d(y, warn=True)
        _check_labels_present(y)
        check_classification_targets(y)
        self.classes_, indices = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y holds one class, {self.classes_.tolist()[0]!r}; a classifier needs at "
                "least 2 classes"
            )
        text = [str(label) for label in self.classes_]
        if len(set(text)) < len(text):
            raise ValueError(f"the class labels must differ as text, got {text!r}")
        return np.array(text, dtype=object)[indices]

    def _route_extras(self) -> dict:
        weights = self.class_weight
        if isinstance(weights, dict):
            weights = {str(label): value for label, value in weights.items()}
        return {"class_weight": weights}

    def predict_proba(self, X) -> np.ndarray:
        """Each row's class probabilities, float64, columns in the order of ``classes_``."""
        Y = self._outputs(X)
        P = np.empty_like(Y)
        position = {str(label): j for j, label in enumerate(self.classes_)}
        P[:, [position[label] for label in self.model_.classes]] = Y
        return P / P.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """The log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Each row's most probable class (the first of those tied), a label of ``classes_``."""
        P = self.predict_proba(X)
        return self.classes_[P.argmax(axis=1)]


class TableRegressor(RegressorMixin, _TableEstimator):
    """The table route's regressor on a raw DataFrame: ``chainrule train --task regression``
    as a scikit-learn estimator; the target is standardised on the training rows, and
    predictions are in its units.

    Parameters
    ----------
    hidden, activation, loss, optimizer, learning_rate, epochs, batch_size, validation_split,
    early_stopping, patience, keep, impute, scaling, missing_indicators, min_frequency,
    categorical, dropout, l2, input_scale, embedding_size, random_state, verbose
        As :class:`TableClassifier`'s (``loss`` defaults to ``mse``; ``'mae'`` and
        ``'huber'`` too), without ``class_weight``; the validation split is not stratified.

    Attributes
    ----------
    model_ : chainrule.tables.model.TabularModel
        The trained model.
    n_iter_ : int
        The epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Where X was a DataFrame with text column names.
    """

    _TASK = "regression"

    def __init__(
        self,
        *,
        hidden=_ROUTE["hidden"],
        activation=_ROUTE["activation"],
        loss=_ROUTE["loss"],
        optimizer=_ROUTE["optimizer"],
        learning_rate=_ROUTE["learning_rate"],
        epochs=_ROUTE["epochs"],
        batch_size=_ROUTE["batch_size"],
        validation_split=_ROUTE["validation_split"],
        early_stopping=_ROUTE["early_stopping"],
        patience=_ROUTE["patience"],
        keep=_ROUTE["keep"],
        impute=_ROUTE["impute"],
        scaling=_ROUTE["scaling"],
        missing_indicators=_ROUTE["missing_indicators"],
        min_frequency=_ROUTE["min_frequency"],
        categorical=_ROUTE["categorical"],
        dropout=_ROUTE["dropout"],
        l2=_ROUTE["l2"],
        input_scale=_ROUTE["input_scale"],
        embedding_size=_ROUTE["embedding_size"],
        random_state=_ROUTE["seed"],
        verbose=0,
    ):
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.keep = keep
        self.impute = impute
        self.scaling = scaling
        self.missing_indicators = missing_indicators
        self.min_frequency = min_frequency
        self.categorical = categorical
        self.dropout = dropout
        self.l2 = l2
        self.input_scale = input_scale
        self.embedding_size = embedding_size
        self.random_state = random_state
        self.verbose = verbose

    def _target(self, y) -> np.ndarray:
        """The values as float64, each finite."""
        y = column_or_1d(y, warn=True)
        return check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")

    def predict(self, X) -> np.ndarray:
        """Each row's predicted value, in the target's units (float64)."""
        Y = self._outputs(X)  # checks that it is fitted, before model_ is read
        return self.model_.in_target_units(Y)
