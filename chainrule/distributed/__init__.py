"""Data-parallel training on MPI (mpi4py + Open MPI: the ``distributed`` extra).

Start one process per rank with ``mpirun -n K python train.py``; in ``train.py`` each process
passes ``fit`` **its own block of the rows** (the local shard) and an :class:`MPIGroup`::

    import chainrule as cr
    from chainrule import distributed

    group = distributed.MPIGroup()
    X = distributed.load_rows("X.npy", group)          # this rank's rows, memory-mapped
    T = distributed.load_rows("T.npy", group)
    net = cr.MLP([784, 128, 10], loss="cross_entropy", seed=0)
    net.fit(X, T, batch_size=256, seed=0, group=group)   # batch_size: the global batch

Every rank ends with the same parameters: those one process would reach on all the rows with
the same seed and global batch size, to float rounding. Ranks may hold different numbers of
rows; every rank must hold at least one. Every rank passes ``fit`` the same options (only the
rows differ); options that differ are refused on every rank with one ``ValueError``. Ranks that
read their own copies of a CSV or Parquet file (:func:`read_rows`) must hold the same file: a
copy whose header (columns, their order) or size differs from rank 0's is refused on every rank:
a ``DataError`` naming the rank and the difference on the first that differs, an
``ElsewhereError`` on the others. SIGTERM on one rank, where the command line handles it, stops
every rank after the same step as Ctrl-C does, and is reported as SIGTERM on every rank
(``MPIGroup.terminated``).
"""

from .data import ElsewhereError, load_rows, read_rows, shard
from .mpi import MPIGroup, abort_on_uncaught_exception, launched_by_mpirun, mpi

__all__ = [
    "MPIGroup",
    "ElsewhereError",
    "abort_on_uncaught_exception",
    "launched_by_mpirun",
    "load_rows",
    "mpi",
    "read_rows",
    "shard",
]
