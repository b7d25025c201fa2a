"""Standardisation statistics that hold for any finite data."""

from __future__ import annotations

import numpy as np


def mean_and_scale(X: np.ndarray, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Each column's (weighted) mean and standard deviation, 1 for a constant column.

    Squaring deviations near 1e154 would overflow, so each column is first divided by the power
    of two at or above its largest magnitude. Dividing by a power of two is exact, so the
    results are those of ``np.average`` and of ``X.std(axis=0)`` wherever these do not
    overflow.
    """
    _, exponent = np.frexp(np.abs(X).max(axis=0))
    unit = np.ldexp(1.0, exponent)
    scaled = X / unit
    mean = np.average(scaled, axis=0, weights=weights)
    spread = np.sqrt(np.average((scaled - mean) ** 2, axis=0, weights=weights))
    return mean * unit, np.where(spread > 0, spread * unit, 1.0)
