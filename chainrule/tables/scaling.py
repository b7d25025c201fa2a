"""Standardisation statistics that hold for any finite data."""

from __future__ import annotations

import numpy as np

from ..training.replicas import ONE_PROCESS

__all__ = ["BLOCK_ROWS", "mean_and_scale", "mean_and_scale_blocks"]


def mean_and_scale(X: np.ndarray, weights=None, group=ONE_PROCESS) -> tuple[np.ndarray, np.ndarray]:
    """Each column's (weighted) mean and standard deviation, 1 for a constant column (and for
    one whose deviation is below float64's smallest positive number, such as ``[0, 5e-324]``).

    Squaring deviations near 1e154 would overflow, so each column is first divided by the power
    of two at or above its largest magnitude. Dividing by a power of two is exact, so the
    results are those of ``np.average`` and of ``X.std(axis=0)`` wherever these do not
    overflow.

    With a data-parallel ``group`` (see :mod:`chainrule.training.replicas`) ``X`` is this process's
    rows and the statistics are those of every process's rows, in two passes:
    ``mean = sum_p sum_i w x / sum_p sum_i w``, then the same average of ``(x - mean)^2``.
    """
    return mean_and_scale_blocks(_row_blocks(X), weights, group, width=X.shape[1])


#: Rows per block: the temporaries of :func:`mean_and_scale_blocks` are one block, not a copy
#: of the data (three copies at once, before: ``X / unit``, its deviations and their squares).
BLOCK_ROWS = 1 << 13


def _row_blocks(X: np.ndarray) -> list[np.ndarray]:
    return [X[start : start + BLOCK_ROWS] for start in range(0, len(X), BLOCK_ROWS)] or [X]


def mean_and_scale_blocks(blocks, weights=None, group=ONE_PROCESS, *, width: int):
    """:func:`mean_and_scale` of the rows of ``blocks`` (2-D arrays of ``width`` columns, read
    in order, not changed), with temporaries of one block.

    The results are bit for bit those of the whole array: a column sum over the rows of a
    matrix of two or more columns adds row after row, so it is carried from block to block as
    the first row of the next one. A single column is summed pairwise (numpy's sum of
    contiguous values), so its blocks are joined first (one column: a small copy).
    """
    blocks = [np.asarray(block) for block in blocks]
    if width < 2 and len(blocks) > 1:
        blocks = [np.concatenate(blocks)]
    largest = np.zeros(width)
    for block in blocks:  # max(X.max(), -X.min()) is max(|X|), without a copy of |X|
        np.maximum(largest, block.max(axis=0, initial=0.0), out=largest)
        np.maximum(largest, -block.min(axis=0, initial=0.0), out=largest)
    _, exponent = np.frexp(group.max(largest))
    unit = np.ldexp(1.0, exponent)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[:, None]
    starts = np.cumsum([0, *(len(block) for block in blocks)])

    def average(values):
        total = None
        for k, block in enumerate(blocks):
            part = values(block)
            if w is not None:
                part = np.multiply(part, w[starts[k] : starts[k + 1]])
            if total is not None:  # the sum so far as the first row: the same additions
                part = np.concatenate([total[None], part])
            total = part.sum(axis=0)
        count = starts[-1] if w is None else w.sum()
        sums = group.sum(np.append(total, count))
        return sums[:-1] / sums[-1]

    mean = average(lambda block: block / unit)
    spread = np.sqrt(average(lambda block: (block / unit - mean) ** 2)) * unit
    return mean * unit, np.where(spread > 0, spread, 1.0)  # 0 also when it underflows
