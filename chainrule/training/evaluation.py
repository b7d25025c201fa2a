"""Loss and metrics of a network over a data set, in blocks (the training loop's and
L-BFGS's per-epoch evaluation; with several processes, merged over all of them)."""

from __future__ import annotations

import numpy as np

from . import metrics as metrics_module
from .replicas import ONE_PROCESS

__all__ = ["BLOCK_VALUES", "evaluate"]

Array = np.ndarray

#: 16 MiB of float32 per evaluation block
BLOCK_VALUES = 2**22


def evaluate(
    network, X: Array, T: Array, weights, metric_names, prefix: str, rows=None, group=ONE_PROCESS
) -> dict:
    """Loss and metrics over every process's samples, on blocks of ``X`` of at most
    ``BLOCK_VALUES`` numbers (``rows``, when given, selects them: a memory-mapped ``X`` is
    never copied whole). The loss is the blocks' mean weighted by their sizes."""
    metrics = [metrics_module.get(name) for name in metric_names]
    n = T.shape[0]
    block = max(1, BLOCK_VALUES // max(1, X.shape[1]))
    total = 0.0
    for start in range(0, max(n, 1), block):
        index = slice(start, start + block)
        Xb = X[index] if rows is None else X[rows[index]]
        Tb, wb = T[index], None if weights is None else weights[index]
        Y, loss = network._outputs_and_loss(Xb, Tb, wb)
        total += loss * Tb.shape[0] if n > block else loss
        for metric in metrics:
            metric.update(Y, Tb, wb)
    group.merge(metrics)
    loss = group.weighted_mean(total / n if n > block else total, n)
    return {f"{prefix}loss": loss, **{f"{prefix}{m.name}": m.result() for m in metrics}}
