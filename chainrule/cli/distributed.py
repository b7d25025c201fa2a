"""``chainrule train --distributed``: the train command on every rank of an MPI job.

Start it with ``mpirun -n K chainrule train data.csv --target y --distributed``. Each rank
reads its own part of the file (:func:`chainrule.distributed.read_rows`), converts it and
trains on it; rank 0 prints the progress and the summary and writes the model. An error is one
line, ``chainrule: error: rank r of K: ...``, and ends every rank (exit code 2), since the
others would otherwise wait for it forever. Ctrl-C or SIGTERM on one rank stops every rank
after the same step; rank 0 says which signal it was, and the job exits 130 or 143.
"""

from __future__ import annotations

import time

from .common import CommandError, share_stops_with

__all__ = ["GRACE_SECONDS", "on_ranks"]

# An error that every rank meets (a check on the combined data) is told by rank 0; another rank
# waits this long for rank 0's report to end the job before it tells its own.
GRACE_SECONDS = 2.0


def on_ranks(handler, args) -> int:
    """Run ``handler(args)`` with ``args.distributed`` set to this job's MPIGroup."""
    from ..distributed import ElsewhereError, MPIGroup, launched_by_mpirun, mpi

    mpi()  # a missing mpi4py is reported first, by name
    if not launched_by_mpirun():
        raise CommandError(
            "--distributed runs on the ranks of an MPI job; start it with "
            "mpirun -n K chainrule train ... --distributed"
        )
    group = MPIGroup()
    share_stops_with(group)  # a SIGTERM on one rank is reported as SIGTERM by every rank
    args.distributed = group
    try:
        return handler(args)
    except ElsewhereError as error:  # the rank that failed ends the job
        time.sleep(10 * GRACE_SECONDS)
        group.abort(str(error), 2)
        raise  # not reached: abort ends the process
    except (CommandError, ValueError, TypeError, OSError, ImportError) as error:
        if args.debug:
            raise
        if group.rank:
            time.sleep(GRACE_SECONDS)
        group.abort(str(error), 2)
        raise  # not reached: abort ends the process
