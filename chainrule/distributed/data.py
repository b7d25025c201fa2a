"""Each process's share of the rows: a block of an array, or of a memory-mapped .npy file."""

from __future__ import annotations

import numpy as np

from .._replicas import ONE_PROCESS


def shard(n_rows: int, group=None) -> slice:
    """This process's contiguous block of ``n_rows`` rows, as a slice: process ``p`` of ``K``
    gets ``[p n / K, (p + 1) n / K)`` (rounded down), so the blocks in rank order are the rows."""
    rows = (ONE_PROCESS if group is None else group).block(n_rows)
    return slice(rows.start, rows.stop)


def load_rows(path, group=None, *, mmap: bool = True) -> np.ndarray:
    """This process's rows of a ``.npy`` file, memory-mapped read-only by default: each
    process maps the same file and reads only its rows (pages are read when touched)."""
    array = np.load(path, mmap_mode="r" if mmap else None)
    return array[shard(array.shape[0], group)]
