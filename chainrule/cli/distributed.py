"""``chainrule train --distributed``: the train command on every rank of an MPI job.

Start it with ``mpirun -n K chainrule train data.csv --target y --distributed``. Each rank
converts and trains on its own block of the rows; rank 0 prints the progress and the summary
and writes the model. An error on any rank is one line, ``chainrule: error: rank r of K: ...``,
and ends every rank (exit code 2), since the others would otherwise wait for it forever.
"""

from __future__ import annotations

from .common import CommandError


def on_ranks(handler, args) -> int:
    """Run ``handler(args)`` with ``args.distributed`` set to this job's MPIGroup."""
    from ..distributed import MPIGroup, launched_by_mpirun, mpi

    mpi()  # a missing mpi4py is reported first, by name
    if not launched_by_mpirun():
        raise CommandError(
            "--distributed runs on the ranks of an MPI job; start it with "
            "mpirun -n K chainrule train ... --distributed"
        )
    group = MPIGroup()
    args.distributed = group
    try:
        return handler(args)
    except (CommandError, ValueError, TypeError, OSError, ImportError) as error:
        if args.debug:
            raise
        group.abort(str(error), 2)
        raise  # not reached: abort ends the process
