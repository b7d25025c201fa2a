"""``MPIGroup``: the processes of an MPI job training one network together (mpi4py).

Synchronous data parallelism as in Horovod and PyTorch's DistributedDataParallel: every
process holds the same parameters (process 0's, broadcast when ``fit`` starts), computes the
gradient of its own rows of each global batch, and one ``Allreduce`` of the flat gradient buffer
per step, each process's gradient weighted by its share of the batch, gives every process the
gradient of the whole batch::

    g = sum_p (n_p / n) g_p        (n_p: process p's rows of the batch, n = sum_p n_p)

The batch's loss travels in the same buffer (one more entry), so a step costs one collective;
so do a Ctrl-C request and whether it came from SIGTERM (two more), so that every process stops
after the same step and reports the same signal.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from ..core.extras import install_hint
from ..training.replicas import OneProcess

__all__ = [
    "LAUNCHER_VARIABLES",
    "MPIGroup",
    "abort",
    "abort_on_uncaught_exception",
    "launched_by_mpirun",
    "mpi",
]

Array = np.ndarray

# set by mpirun/mpiexec (Open MPI, PMIx, MPICH/Hydra) in every process it starts
LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE")


def mpi():
    """The ``mpi4py.MPI`` module, or an ImportError naming the extra to install."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(
            "distributed training needs mpi4py and an MPI library: " + install_hint("distributed")
        ) from None
    return MPI


def launched_by_mpirun() -> bool:
    """True when this process was started by ``mpirun`` (or another MPI launcher)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def abort_on_uncaught_exception(comm) -> None:
    """Make an exception that ends this process end the whole job (``MPI_Abort``).

    Without it, the other processes would wait forever in their next collective call for a
    process that is gone. The traceback is printed first, then one line naming the rank.
    """
    if getattr(sys.excepthook, "_chainrule_aborts", False):
        return
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        abort(comm, f"{kind.__name__}: {value}", 1)

    hook._chainrule_aborts = True
    sys.excepthook = hook


def abort(comm, reason: str, code: int) -> None:
    """Print why, on one line, and end every process of the job with exit code ``code``."""
    reason = reason.replace("\n", " ")
    print(
        f"chainrule: error: rank {comm.Get_rank()} of {comm.Get_size()}: {reason}; "
        "ending all ranks",
        file=sys.stderr,
        flush=True,
    )
    time.sleep(0.25)  # for mpirun to forward the line before it ends the processes
    comm.Abort(code)


class MPIGroup(OneProcess):
    """The processes of an MPI job (default ``MPI.COMM_WORLD``), for ``fit(group=...)``.

    Each process passes ``fit`` its own contiguous block of the rows (process 0 the first ones,
    see :func:`chainrule.distributed.shard`); the data set is their concatenation, and the
    result equals one process's ``fit`` on all of it with the same seed and ``batch_size`` (the
    global batch), to float rounding.

    Parameters
    ----------
    comm : mpi4py communicator, optional
    abort_on_error : bool, default=True
        With more than one process, install :func:`abort_on_uncaught_exception`, so that one
        failing process ends the job instead of leaving the others waiting.

    Attributes
    ----------
    terminated : bool
        This process was asked to end by SIGTERM, which its handler (the command line's) turns
        into a Ctrl-C request and records here; the processes agree on it with the request
        (one that received SIGTERM makes it True on every process), so that every process, and
        the one that reports, says SIGTERM (exit code 143), not Ctrl-C (130).
    """

    def __init__(self, comm=None, *, abort_on_error: bool = True):
        self.MPI = mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.terminated = False
        self._step_buffer: Array | None = None
        if abort_on_error and self.size > 1:
            abort_on_uncaught_exception(self.comm)

    def layout(self, n_local):
        counts = self.comm.allgather(int(n_local))
        return sum(counts), sum(counts[: self.rank])

    def collect(self, value):
        return self.comm.allgather(value)

    def gather(self, values):
        return np.concatenate(self.comm.allgather(np.ascontiguousarray(values)))

    def sum(self, values):
        total = np.array(values, dtype=np.float64)
        self.comm.Allreduce(self.MPI.IN_PLACE, total, op=self.MPI.SUM)
        return total

    def max(self, values) -> Array:
        """The elementwise maximum over the processes of a float64 vector."""
        largest = np.array(values, dtype=np.float64)
        self.comm.Allreduce(self.MPI.IN_PLACE, largest, op=self.MPI.MAX)
        return largest

    def broadcast(self, parameters):
        self.comm.Bcast(parameters, root=0)

    def reduce_step(self, gradients, loss, rows, batch, interrupt=None):
        # [gradient, loss, Ctrl-C requested, by SIGTERM]: one collective a step
        buffer = self._step_buffer
        if buffer is None or buffer.size != gradients.size + 3 or buffer.dtype != gradients.dtype:
            buffer = self._step_buffer = np.empty(gradients.size + 3, gradients.dtype)
        np.multiply(gradients, gradients.dtype.type(rows / batch), out=buffer[:-3])
        buffer[-3] = loss * rows if rows else 0.0  # no rows: a NaN loss of nothing, weight 0
        buffer[-2] = bool(interrupt and interrupt.requested)
        buffer[-1] = self.terminated  # set before the request it causes: it travels first
        self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
        gradients[...] = buffer[:-3]
        if buffer[-2]:
            interrupt.pending = True
        if buffer[-1]:
            self.terminated = True
        return float(buffer[-3]) / batch

    def agree(self, interrupt, network):
        requested, stopped, terminated = self.max(
            [interrupt.requested, network.stop_training, self.terminated]
        )
        if terminated:  # never reset: a SIGTERM here during the collective may have set it
            self.terminated = True
        if requested and not stopped:  # a stop ends training anyway, on every process
            interrupt.pending = True
        if stopped and not network.stop_training:
            network.stop_training = True
            network.stop_reason = "a callback on another process stopped training"

    def weighted_mean(self, value, rows):
        total, count = self.sum([value * rows if rows else 0.0, rows])
        return float(total / count)

    def merge(self, metrics):
        # every rank folds every rank's state in rank order, so all end with the same numbers
        states = self.comm.allgather([metric.state() for metric in metrics])
        for position, metric in enumerate(metrics):
            metric.reset()
            for rank_states in states:
                metric.merge(rank_states[position])

    def abort(self, reason: str, code: int = 1) -> None:
        """End every process of the job (see :func:`abort`)."""
        abort(self.comm, reason, code)

    def __repr__(self) -> str:
        return f"MPIGroup(rank={self.rank}, size={self.size})"
