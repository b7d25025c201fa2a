"""Each process's share of the rows, and statistics combined over all processes."""

from __future__ import annotations

import numpy as np

from .._replicas import ONE_PROCESS


def shard(n_rows: int, group=None) -> slice:
    """This process's contiguous block of ``n_rows`` rows: process ``p`` of ``K`` gets
    ``[p n / K, (p + 1) n / K)`` (rounded down), so the blocks in rank order are the rows."""
    group = ONE_PROCESS if group is None else group
    return slice(n_rows * group.rank // group.size, n_rows * (group.rank + 1) // group.size)


def load_rows(path, group=None, *, mmap: bool = True) -> np.ndarray:
    """This process's rows of a ``.npy`` file, memory-mapped read-only by default: each
    process maps the same file and reads only its rows (pages are read when touched)."""
    array = np.load(path, mmap_mode="r" if mmap else None)
    return array[shard(array.shape[0], group)]


def mean_and_scale(X: np.ndarray, group=None) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation over every process's rows of ``X``, as
    :func:`chainrule._scaling.mean_and_scale` on their concatenation (to rounding): two passes,
    ``mean = sum_p sum_i x / n`` then ``var = sum_p sum_i (x - mean)^2 / n``, each column first
    divided by the power of two at or above its largest magnitude (so squares cannot overflow).
    """
    group = ONE_PROCESS if group is None else group
    largest = np.abs(X).max(axis=0) if X.shape[0] else np.zeros(X.shape[1])
    largest = group.max(largest) if group.size > 1 else largest
    _, exponent = np.frexp(largest)
    unit = np.ldexp(1.0, exponent)
    scaled = X / unit
    sums = group.sum(np.append(scaled.sum(axis=0), X.shape[0]))
    n = sums[-1]
    mean = sums[:-1] / n
    spread = np.sqrt(group.sum(((scaled - mean) ** 2).sum(axis=0)) / n)
    return mean * unit, np.where(spread > 0, spread * unit, 1.0)
