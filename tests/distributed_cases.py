"""Training runs compared between ``mpirun -n K`` (tests/mpi_worker.py) and one process.

Each case builds its data and network the same way in every process; ``fit_options`` may hold a
callable that the runner calls with the checkpoint folder.
"""

import numpy as np

import chainrule as cr
from chainrule import optim
from chainrule.optim import schedules


def _classes(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    labels = (X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.4).astype(int) + (X[:, 2] > 1.0)
    return X.astype(dtype), labels


def _values(n, dtype, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] * X[:, 2] + 0.05 * rng.normal(size=n)
    return X.astype(dtype), y.astype(dtype)


def sgd_dropout_weights():
    """float64 SGD with momentum, a step schedule, dropout, sample weights, a stratified
    validation split, training and validation accuracy; 101 rows (shards of 50 and 51)."""
    X, y = _classes(101, "float64")
    weights = np.random.default_rng(5).uniform(0.2, 2.0, len(y))
    net = cr.MLP(
        [4, 12, 8, 3],
        activation="tanh",
        loss="cross_entropy",
        dropout=0.3,
        l2=1e-3,
        seed=3,
        dtype="float64",
    )
    options = dict(
        optimizer=optim.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        schedule=schedules.StepDecay(step_size=2, gamma=0.5),
        epochs=5,
        batch_size=8,
        validation_split=0.2,
        sample_weight=weights,
        metrics=["accuracy"],
        seed=11,
    )
    return net, X, y, options


def adam_class_weight_early_stopping():
    """float64 Adam, balanced class weights counted over all ranks, early stopping that fires
    (the same epoch on every rank), best parameters restored."""
    X, y = _classes(90, "float64", seed=2)
    net = cr.MLP([4, 16, 3], loss="cross_entropy", seed=4, dtype="float64")
    options = dict(
        optimizer=optim.Adam(learning_rate=0.05),
        epochs=40,
        batch_size=16,
        validation_split=0.3,
        class_weight="balanced",
        early_stopping=cr.EarlyStopping(patience=1),
        seed=7,
    )
    return net, X, y, options


def float32_regression():
    """float32 Adam with weight decay on a regression, a learned input scale, validation_data
    (each rank its own rows), r2 and mae; batches of 5 (often all from one rank: the other has
    an empty one)."""
    X, y = _values(64, "float32")
    net = cr.MLP([3, 10, 1], activation="relu", input_scale=6.0, seed=5, dtype="float32")
    options = dict(
        optimizer=optim.AdamW(learning_rate=0.01),
        epochs=5,
        batch_size=5,
        validation_data=(X[48:], y[48:]),
        metrics=["r2", "mae"],
        seed=2,
    )
    X, y = X[:48], y[:48]
    return net, X, y, options


def unshuffled_regression_split():
    """float64 RMSprop without shuffling, a random (unstratified) validation split of a
    regression and batches of 7 (not a multiple of the ranks); 61 rows."""
    X, y = _values(61, "float64", seed=4)
    net = cr.MLP([3, 8, 1], activation="tanh", seed=6, dtype="float64")
    options = dict(
        optimizer=optim.RMSprop(learning_rate=0.01),
        epochs=4,
        batch_size=7,
        shuffle=False,
        validation_split=0.25,
        metrics=["mse"],
        seed=9,
    )
    return net, X, y, options


CASES = {
    "sgd_dropout_weights": sgd_dropout_weights,
    "adam_class_weight_early_stopping": adam_class_weight_early_stopping,
    "float32_regression": float32_regression,
    "unshuffled_regression_split": unshuffled_regression_split,
}

# Interrupted and resumed under MPI: 3 epochs with a checkpoint, then resumed to 5.
RESUMED = "sgd_dropout_weights"
