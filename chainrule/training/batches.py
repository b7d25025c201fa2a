"""The batches of an epoch: gathered from arrays in a shuffled order into buffers allocated
once (:class:`ArrayBatches`), or read from an iterable of batches (:class:`StreamBatches`).

Each yields ``(X, T, weights, batch size over all processes, positions)``, ``positions`` being
where this process's samples sit in the global batch (None: all of them are here).
"""

from __future__ import annotations

import numpy as np

from ..core import kernels as _kernels
from ..optim import LBFGS
from .splits import apply_class_weight

__all__ = ["ArrayBatches", "StreamBatches", "clip_batch_size"]

Array = np.ndarray


def clip_batch_size(batch_size: int | None, n: int) -> int:
    """The batch size a run on ``n`` training samples uses: ``batch_size``, at most ``n``
    (None: all ``n`` in one batch)."""
    return n if batch_size is None else min(batch_size, n)


class ArrayBatches:
    """Gathers shuffled batches into buffers allocated once (views of one for smaller batches);
    the rows of a scipy sparse ``X`` are taken by indexing.

    ``rows`` (optional) maps training samples to rows of ``X``, so that a held-out part of a
    memory-mapped ``X`` is never copied. With several processes the samples are numbered over
    all of them (``n``) and this process holds ``first`` to ``first + len(T)``.
    """

    def __init__(self, X, T, weights, batch_size, rows=None, first=0, n=None):
        self.X, self.T, self.weights, self.batch_size = X, T, weights, batch_size
        self.rows, self.first = rows, first
        self.n = T.shape[0] if n is None else n
        self.shared = self.n != T.shape[0]
        self.sparse = not isinstance(X, np.ndarray)
        self._buffer = None

    def _buffers(self, size: int):
        if self._buffer is None:
            X, T, w, capacity = self.X, self.T, self.weights, self.batch_size
            self._buffer = (
                None if self.sparse else np.empty((capacity, X.shape[1]), X.dtype),
                np.empty((capacity, T.shape[1]), T.dtype),
                None if w is None else np.empty(capacity, w.dtype),
            )
        return (None if b is None else b[:size] for b in self._buffer)

    def __call__(self, order: Array | None):
        """Yield ``(X, T, weights, batch size over all processes, positions of this process's
        samples in the batch or None for all)`` in ``order`` (None: the data as it is, in one
        batch if it fits)."""
        if order is None and self.batch_size >= self.n and self.rows is None and not self.shared:
            yield self.X, self.T, self.weights, self.n, None
            return
        if order is None:
            order = np.arange(self.n)
        kernels = _kernels.current()
        for start in range(0, self.n, self.batch_size):
            index = order[start : start + self.batch_size]
            size, positions = index.size, None
            if self.shared:
                index = index - self.first
                positions = np.flatnonzero((index >= 0) & (index < self.T.shape[0]))
                index = index[positions]
            Xb, Tb, wb = self._buffers(index.size)
            # the indices come from a permutation of range(n): 'clip' skips NumPy's bounds
            # checks, a third of the gather's time
            rows = index if self.rows is None else self.rows[index]
            if self.sparse:  # a scipy sparse matrix: its rows are taken by indexing
                Xb = self.X[rows]
            else:
                kernels.take_rows(self.X, rows, Xb)
            np.take(self.T, index, axis=0, out=Tb, mode="clip")
            if wb is not None:
                np.take(self.weights, index, out=wb, mode="clip")
            yield Xb, Tb, wb, size, positions


class StreamBatches:
    """Batches from an iterable of ``(X, T)`` or ``(X, T, sample_weight)`` tuples, each checked
    and converted as it comes: data that is never in memory at once. The iterable gives the
    batches and their order (``batch_size`` and ``shuffle`` do not apply); it is iterated
    once per epoch, so for several epochs it must start over (a list, or an object whose
    ``__iter__`` does), not be a one-pass iterator."""

    def __init__(self, network, batches, epochs: int, class_weight):
        try:
            one_pass = iter(batches) is batches
        except TypeError:
            raise TypeError(
                f"'X' must be an array, or an iterable of (X, y) batches when y is None; "
                f"got {type(batches).__name__}"
            ) from None
        if one_pass and epochs > 1:
            raise ValueError(
                f"'X' is an iterator, which can be read once, but epochs={epochs}; pass an "
                "iterable that starts over on each pass (a list, or an object with __iter__)"
            )
        self.network, self.batches, self.class_weight = network, batches, class_weight
        self.n_batches = len(batches) if hasattr(batches, "__len__") else None

    def refuse(self, validation_split, sample_weight, optimizer, group) -> None:
        """What needs all the rows at once is refused with a batch stream."""
        given = {
            "validation_split": validation_split,
            "sample_weight": sample_weight is not None,
            "class_weight='balanced'": self.class_weight == "balanced",
            "optimizer=LBFGS()": isinstance(optimizer, LBFGS),
            "group": group.size > 1,
        }
        refused = [name for name, value in given.items() if value]
        if refused:
            raise ValueError(
                f"{', '.join(refused)} cannot be used with a stream of batches (y=None); give "
                "arrays (a memory-mapped X works), or weights as the batches' third element "
                "and validation_data"
            )

    def __call__(self, order):
        for number, batch in enumerate(self.batches):
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                raise ValueError(
                    f"batch {number} of 'X' must be a tuple (X, T) or (X, T, sample_weight), "
                    f"got {type(batch).__name__}"
                )
            Xb, Tb, wb = self.network.check_data(*batch[:2], batch[2] if len(batch) == 3 else None)
            wb = apply_class_weight(self.network, Tb, wb, self.class_weight)
            yield Xb, Tb, wb, Xb.shape[0], None
