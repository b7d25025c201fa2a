"""What the training loop and L-BFGS send to the callbacks alike (see
:mod:`chainrule.training.callbacks`): the start of a run, and an epoch's logs as
``on_epoch_end`` gets them."""

from __future__ import annotations

import time

from .evaluation import evaluate
from .replicas import ONE_PROCESS

__all__ = ["begin_training", "epoch_logs"]


def begin_training(
    network, chain, *, epochs: int, batches, initial_epoch: int, samples, stop_reason=None
) -> None:
    """Start a run: set the network's stop (``stop_reason``: a resumed run that had already
    stopped) or clear an earlier one, give each callback the network, then send
    ``on_train_begin`` with the run's ``epochs``, ``batches`` per epoch (None: unknown),
    ``initial_epoch`` and ``samples`` (None: unknown)."""
    network.stop_training, network.stop_reason = stop_reason is not None, stop_reason
    for callback in chain:
        callback.set_network(network)
    begin = {
        "epochs": epochs,
        "batches": batches,
        "initial_epoch": initial_epoch,
        "samples": samples,
    }
    for callback in chain:
        callback.on_train_begin(begin)


def epoch_logs(
    network,
    logs: dict,
    *,
    validation,
    metric_names,
    learning_rate: float,
    started: float,
    val_rows=None,
    group=ONE_PROCESS,
) -> dict:
    """An epoch's logs: ``logs`` (the training loss and metrics) followed by the validation loss
    and metrics (``val_*``, when ``validation`` holds ``(X, T, weights)``; ``val_rows`` selects
    rows of its ``X``), the optimizer's ``learning_rate`` (under the key ``'lr'``, as in
    History files) and the seconds since ``started``."""
    if validation is not None:
        logs.update(evaluate(network, *validation, metric_names, "val_", val_rows, group))
    logs["lr"] = learning_rate
    logs["seconds"] = time.perf_counter() - started
    return logs
