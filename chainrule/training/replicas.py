"""The hooks through which ``fit`` runs data-parallel: here, for one process, each is trivial.

A data-parallel group (:class:`chainrule.distributed.MPIGroup`) runs one copy of ``fit`` per
process. Each process holds a contiguous block of the rows (process 0 the first ones); the data
set is their concatenation. Every process draws the same global permutation, computes the
gradient of its rows of each global batch and sums the gradients weighted by its share of the
batch, so every process takes the same step as one process would on the whole batch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BatchRows", "ONE_PROCESS", "OneProcess"]

Array = np.ndarray


class OneProcess:
    """One process holding every row: what ``fit`` does by default."""

    rank = 0
    size = 1

    def block(self, n_rows: int) -> range:
        """This process's contiguous block of ``n_rows`` rows: process ``p`` of ``K`` gets
        ``[p n / K, (p + 1) n / K)`` (rounded down); in rank order the blocks are the rows."""
        return range(n_rows * self.rank // self.size, n_rows * (self.rank + 1) // self.size)

    def layout(self, n_local: int) -> tuple[int, int]:
        """``(rows over all processes, index of this process's first row)``."""
        return n_local, 0

    def collect(self, value) -> list:
        """Every process's ``value`` (any picklable object), in rank order."""
        return [value]

    def gather(self, values: Array) -> Array:
        """The concatenation, in rank order, of every process's ``values`` (1-D)."""
        return values

    def sum(self, values: Array) -> Array:
        """The elementwise sum over the processes of a float64 vector."""
        return values

    def max(self, values: Array) -> Array:
        """The elementwise maximum over the processes of a float64 vector."""
        return values

    def broadcast(self, parameters: Array) -> None:
        """Overwrite ``parameters`` with process 0's."""

    def reduce_step(
        self, gradients: Array, loss: float, rows: int, batch: int, interrupt=None
    ) -> float:
        """Turn this process's mean gradient and loss over its ``rows`` of a global batch of
        ``batch`` rows into the batch's: ``g = sum_p (rows_p / batch) g_p``, in place; return
        the batch's loss, ``sum_p rows_p loss_p / batch``. An ``interrupt`` (a
        :class:`~chainrule.training.interrupt.DeferredInterrupt`) becomes ``pending`` on every
        process when one has ``requested`` it."""
        return loss

    def agree(self, interrupt, network) -> None:
        """Make ``interrupt`` pending on every process when one has requested it, and stop
        every process's training when a callback stopped one's (``network.stop_training``)."""

    def check_same(self, settings: dict) -> None:
        """Refuse, on every process alike, ``settings`` (picklable values, compared with
        ``==``) that differ between the processes: each must run the same loop, or one would
        wait forever in a collective call that another never makes.

        Raises
        ------
        ValueError
            Naming the first setting that differs and each process's value.
        """
        everyone = self.collect(settings)
        for name in settings:
            values = [each.get(name) for each in everyone]
            if any(value != values[0] for value in values):
                shown = ", ".join(f"{value!r} on process {p}" for p, value in enumerate(values))
                raise ValueError(
                    f"{name!r} must be the same on every process of the group, got {shown}; "
                    "only the rows (X, T, sample_weight, validation_data) differ"
                )

    def weighted_mean(self, value: float, rows: int) -> float:
        """``sum_p rows_p value_p / sum_p rows_p`` (a process with no rows counts 0)."""
        return value

    def merge(self, metrics: list) -> None:
        """Make every metric hold the sums over all processes' samples."""


class BatchRows:
    """A generator for dropout that draws a whole global batch's numbers, as one process on
    every row would, and hands out the rows at ``positions`` (this process's samples)."""

    def __init__(self, rng: np.random.Generator, positions: Array, batch: int):
        self.rng, self.positions, self.batch = rng, positions, batch

    def random(self, shape, dtype=np.float64) -> Array:
        return self.rng.random((self.batch, *shape[1:]), dtype=dtype)[self.positions]


ONE_PROCESS = OneProcess()
