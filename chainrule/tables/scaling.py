"""Standardisation statistics that hold for any finite data."""

from __future__ import annotations

import numpy as np

from ..training.replicas import ONE_PROCESS

__all__ = ["mean_and_scale"]


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
    largest = np.abs(X).max(axis=0, initial=0.0)
    _, exponent = np.frexp(group.max(largest))
    unit = np.ldexp(1.0, exponent)
    scaled = X / unit
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[:, None]

    def average(values):
        total = values.sum(axis=0) if w is None else np.multiply(values, w).sum(axis=0)
        count = values.shape[0] if w is None else w.sum()
        sums = group.sum(np.append(total, count))
        return sums[:-1] / sums[-1]

    mean = average(scaled)
    spread = np.sqrt(average((scaled - mean) ** 2)) * unit
    return mean * unit, np.where(spread > 0, spread, 1.0)  # 0 also when it underflows
