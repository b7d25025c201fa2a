"""The options of :func:`chainrule.training.loop.fit`: each checked before any work is done, and,
with several processes, checked to be the same on every one (a process that runs more epochs or
batches, or a validation pass the others skip, would wait forever for them)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..core import kernels
from ..core.history import Callback
from ..core.validation import CONSTRAINTS
from ..files.atomic import check_writable
from .callbacks import EarlyStopping

__all__ = [
    "FitOptions",
    "check_each_process_holds_rows",
    "check_options",
    "check_same_on_every_process",
]


@dataclass(frozen=True)
class FitOptions:
    """The options of one :func:`fit` call, as the caller gave them (only ``epochs`` is checked
    already): all but the network, the data and what is resolved before the checks (optimizer,
    schedule, distributed group). The types are those :func:`check_options` makes sure of."""

    streamed: bool  # T is None: X is an iterable of batches
    epochs: int
    batch_size: int | None
    shuffle: bool
    validation_split: float
    validation_data: tuple | None
    sample_weight: object
    class_weight: object
    metrics: list | None
    callbacks: list | None
    early_stopping: object
    verbose: int | None
    log_every: int
    checkpoint: object
    checkpoint_every: int
    resume_from: object
    seed: int | None


def check_options(options: FitOptions) -> None:
    """Validate every option of :func:`fit` before any work is done: the numbers against
    :data:`chainrule.core.validation.CONSTRAINTS`, the others here."""
    for name in _NUMBERS:
        CONSTRAINTS[name].check(getattr(options, name), name)
    if not isinstance(options.shuffle, (bool, np.bool_)):
        raise TypeError(f"'shuffle' must be True or False, got {options.shuffle!r}")
    validation_data = options.validation_data
    if validation_data is not None and (
        not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3)
    ):
        raise ValueError(
            "'validation_data' must be a tuple (X_val, T_val) or (X_val, T_val, "
            f"sample_weight_val), got {_short(validation_data)}"
        )
    metrics = options.metrics
    if metrics is not None and (
        not isinstance(metrics, (list, tuple)) or not all(isinstance(m, str) for m in metrics)
    ):
        raise TypeError(f"'metrics' must be a list of names like ['accuracy'], got {metrics!r}")
    callbacks = options.callbacks
    if callbacks is not None and (
        not isinstance(callbacks, (list, tuple))
        or not all(isinstance(c, Callback) for c in callbacks)
    ):
        raise TypeError(f"'callbacks' must be a list of Callback objects, got {callbacks!r}")
    if not isinstance(options.early_stopping, (bool, EarlyStopping)):
        raise TypeError(
            "'early_stopping' must be True, False or an EarlyStopping, got "
            f"{options.early_stopping!r}"
        )
    if options.verbose not in (0, 1, 2, None) or isinstance(options.verbose, float):
        raise ValueError(f"'verbose' must be 0, 1 or 2, got {options.verbose!r}")
    for name, value in (("checkpoint", options.checkpoint), ("resume_from", options.resume_from)):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name!r} must be a file path, got {value!r}")
    if options.checkpoint is not None:
        check_writable(options.checkpoint, "checkpoint")


_NUMBERS = ("epochs", "batch_size", "validation_split", "log_every", "checkpoint_every", "seed")


def check_same_on_every_process(
    group, network, optimizer, schedule, metric_names, options: FitOptions
) -> None:
    """With several processes, refuse on every one the options that differ between them (see
    :meth:`chainrule.training.replicas.OneProcess.check_same`): a process running more epochs or
    batches, or a validation pass the others skip, would wait forever for them, and another
    seed would shuffle the rows differently."""
    if group.size == 1:
        return
    stopper = options.early_stopping
    if isinstance(stopper, EarlyStopping):
        stopper = {k: v for k, v in vars(stopper).items() if k in _EARLY_STOPPING_OPTIONS}
    group.check_same(
        {
            "layers": network.config()["layers"],
            "dtype": str(network.dtype),
            "y is None (a stream of batches)": options.streamed,
            "epochs": options.epochs,
            "batch_size": options.batch_size,
            "shuffle": bool(options.shuffle),
            "validation_split": options.validation_split,
            "validation_data given": options.validation_data is not None,
            "sample_weight given": options.sample_weight is not None,
            "class_weight": options.class_weight,
            "metrics": metric_names,
            "early_stopping": stopper,
            "seed": options.seed if options.seed is not None else network.seed,
            "resume_from given": options.resume_from is not None,
            "optimizer": repr(optimizer),
            "schedule": type(schedule).__name__,
            **kernels.configuration(),
        }
    )


def check_each_process_holds_rows(group, n_local: int) -> None:
    """Refuse, on every process alike, a group in which a process holds no training row."""
    if group.size == 1:
        return  # one process: the arrays' own checks say what is wrong
    counts = group.collect(n_local)
    if min(counts) == 0:
        raise ValueError(
            f"{_rows(sum(counts))} too few to give each of {group.size} processes one "
            f"(rows per process: {counts}); start fewer processes"
        )


def _rows(n: int) -> str:
    """'1 row is' or 'n rows are'."""
    return "1 row is" if n == 1 else f"{n} rows are"


_EARLY_STOPPING_OPTIONS = ("monitor", "min_delta", "patience", "mode", "restore_best_weights")


def _short(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else f"a {type(value).__name__} of length {len(value)}"
