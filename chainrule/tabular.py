"""A network with what a table needs around it: named features, standardisation fitted on the
training rows, the task, class labels, and (for regression) a standardised target.

This is the model the command line trains, saves, evaluates and predicts with; everything it
needs is kept in the model file's metadata, so a saved model predicts from a CSV on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import io, metrics
from ._scaling import mean_and_scale
from ._validation import check_real
from .data import DataError, Table, infer_task, numeric_matrix, sort_labels, target_column
from .network import MLP, Network
from .train import _split

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

    # -- inputs ---------------------------------------------------------------------------------
    def inputs(self, table: Table) -> np.ndarray:
        """The table's feature columns, standardised as in training.

        Raises
        ------
        DataError
            If a feature column is missing or not numeric.
        """
        missing = [name for name in self.features if name not in table.columns]
        if missing:
            raise DataError(
                f"{table.path}: the model needs the column(s) {', '.join(missing)}; "
                f"the file has {', '.join(table.columns)}"
            )
        return (numeric_matrix(table, self.features) - self.mean) / self.scale

    def labels_to_indices(self, table: Table) -> np.ndarray:
        """The target column as class indices (classification) or scaled values."""
        values = target_column(table, self.target)
        if self.task == "regression":
            return (
                numeric_matrix(table, [self.target])[:, 0] - self.target_mean
            ) / self.target_scale
        index = {label: i for i, label in enumerate(self.classes)}
        for number, value in enumerate(values, 2):
            if value not in index:
                raise DataError(
                    f"{table.path}: row {number} has the class {value!r}, which the "
                    f"model never saw; it knows {', '.join(self.classes)}"
                )
        return np.array([index[v] for v in values])

    # -- outputs --------------------------------------------------------------------------------
    def predict(self, table: Table) -> dict[str, np.ndarray]:
        """``{'prediction': labels or values}`` plus ``p_<class>`` probabilities."""
        Y = self.network.predict(self.inputs(table)).astype(np.float64)
        if self.task == "regression":
            return {"prediction": Y[:, 0] * self.target_scale + self.target_mean}
        result = {"prediction": np.array(self.classes, dtype=object)[Y.argmax(axis=1)]}
        result.update({f"p_{label}": Y[:, i] for i, label in enumerate(self.classes)})
        return result

    def evaluate(self, table: Table) -> dict:
        """Loss and metrics on a table that has the target column; a confusion matrix (rows:
        true class, columns: predicted) for classification."""
        X, T = self.inputs(table), self.labels_to_indices(table)
        Y = self.network.predict(X).astype(np.float64)
        result = {"rows": len(T), "loss": self.network.loss(X, T)}
        if self.task == "classification":
            predicted = Y.argmax(axis=1)
            k = len(self.classes)
            confusion = np.zeros((k, k), dtype=int)
            np.add.at(confusion, (T, predicted), 1)
            result.update(accuracy=float(np.mean(predicted == T)), confusion=confusion.tolist())
            return result
        values = Y[:, 0] * self.target_scale + self.target_mean
        truth = T * self.target_scale + self.target_mean
        r2 = metrics.R2()
        r2.update(values[:, None], truth[:, None])
        result.update(
            mse=float(np.mean((values - truth) ** 2)),
            mae=float(np.mean(np.abs(values - truth))),
            r2=r2.result(),
        )
        result["rmse"] = float(np.sqrt(result["mse"]))
        return result

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
        meta = network.metadata
        try:
            model = cls(
                network,
                list(meta["features"]),
                meta["target"],
                meta["task"],
                np.array(meta["mean"], dtype=np.float64),
                np.array(meta["scale"], dtype=np.float64),
                list(meta["classes"]),
                float(meta["target_mean"]),
                float(meta["target_scale"]),
            )
        except (KeyError, TypeError, ValueError):
            raise io.ModelFileError(
                f"{path}: a chainrule network, but not one trained from a "
                "table (no feature scaling or labels)"
            ) from None
        if model.mean.shape != (network.n_inputs,) or model.task not in TASKS:
            raise io.ModelFileError(f"{path}: its table metadata does not fit its network")
        return model


@dataclass
class TrainingRun:
    """What :func:`train_table` returns: the model, its history and the row split."""

    model: TabularModel
    history: object
    train_rows: np.ndarray
    validation_rows: np.ndarray | None
    seconds: float


def train_table(
    table: Table,
    target: str,
    *,
    task: str | None = None,
    hidden=(64, 32),
    activation: str = "relu",
    loss: str | None = None,
    optimizer="adam",
    lr: float = 1e-3,
    epochs: int = 100,
    batch_size: int = 32,
    val: float = 0.1,
    early_stopping: bool = False,
    seed: int = 0,
    verbose: int = 1,
    callbacks=None,
) -> TrainingRun:
    """Train a network on a table: infer (or take) the task, encode the labels, hold out a
    shuffled (stratified) validation fraction, standardise on the training rows, fit."""
    from . import optim

    check_real(val, "val", low=0.0, high=1.0, high_open=True)
    values = target_column(table, target)
    task = task or infer_task(values)
    if task not in TASKS:
        raise ValueError(f"'task' must be one of {', '.join(TASKS)}, got {task!r}")
    features = [name for name in table.columns if name != target]
    if not features:
        raise DataError(f"{table.path}: there is no feature column besides the target {target!r}")
    X = numeric_matrix(table, features)
    classes: list[str] = []
    if task == "classification":
        classes = sort_labels(values)
        if len(classes) < 2:
            raise DataError(
                f"{table.path}: the target column {target!r} holds a single class "
                f"{classes[0]!r}; classification needs at least two"
            )
        index = {label: i for i, label in enumerate(classes)}
        T = np.array([index[v] for v in values])
        loss = loss or "cross_entropy"
    else:
        T = numeric_matrix(table, [target])[:, 0]
        loss = loss or "mse"
    rows = len(T)
    if batch_size > rows:
        raise DataError(
            f"{table.path}: the data has {rows} rows, fewer than the batch size "
            f"{batch_size}; pass a smaller --batch-size"
        )
    sizes = [len(features), *hidden, len(classes) if classes else 1]
    network = MLP(sizes, activation=activation, loss=loss, seed=seed)
    train_rows, validation_rows = np.arange(rows), None
    if val:
        one_hot = np.eye(len(classes))[T] if classes else T[:, None]
        train_rows, validation_rows = _split(network, one_hot, val, np.random.default_rng(seed))
    mean, scale = mean_and_scale(X[train_rows])
    target_mean = target_scale = None
    if task == "regression":
        target_mean, target_scale = (float(v[0]) for v in mean_and_scale(T[train_rows, None]))
        T = (T - target_mean) / target_scale
    Xs = (X - mean) / scale
    validation = None if validation_rows is None else (Xs[validation_rows], T[validation_rows])
    started = time.perf_counter()
    history = network.fit(
        Xs[train_rows],
        T[train_rows],
        optimizer=optim.LBFGS() if optimizer == "lbfgs" else optim.get(optimizer, lr=lr),
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation,
        early_stopping=early_stopping,
        metrics=["accuracy"] if classes else ["r2"],
        verbose=verbose,
        seed=seed,
        callbacks=callbacks,
    )
    model = TabularModel(
        network,
        features,
        target,
        task,
        mean,
        scale,
        classes,
        target_mean or 0.0,
        target_scale or 1.0,
    )
    return TrainingRun(model, history, train_rows, validation_rows, time.perf_counter() - started)


def subset(table: Table, rows) -> Table:
    """The table restricted to the given row indices."""
    return Table(table.path, table.columns, [table.rows[i] for i in rows])
