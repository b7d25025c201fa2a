"""Run under ``mpirun -n 2``: rank 1 fails in the way argv[1] names, mid-training or at the start.

``raise``: an exception mid-epoch 2; ``kill``: SIGKILL mid-epoch 2; ``stop``: SIGSTOP mid-epoch
2 (it hangs without ending); ``nan``: a NaN in its rows. Rank 0 would train for a long time:
the job must end because rank 1 failed (``stop``: because mpirun's time limit is reached).
"""

import os
import signal
import sys

import numpy as np

import chainrule as cr
from chainrule import distributed


def fail(how):
    if how == "raise":
        raise RuntimeError("rank 1 lost its data")
    os.kill(os.getpid(), signal.SIGKILL if how == "kill" else signal.SIGSTOP)


def main(how):
    group = distributed.MPIGroup()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2000, 8)), rng.normal(size=2000)
    X, y = X[distributed.shard(2000, group)], y[distributed.shard(2000, group)]
    if how == "nan" and group.rank == 1:
        X[3, 2] = np.nan
    callbacks = []
    if group.rank == 1 and how != "nan":
        seen = []  # 125 batches an epoch: the 190th is in the middle of the second

        def on_batch_end(batch, logs):
            seen.append(batch)
            if len(seen) == 190:
                fail(how)

        callbacks.append(cr.LambdaCallback(on_batch_end=on_batch_end))
    net = cr.MLP([8, 32, 1], seed=0)
    net.fit(X, y, epochs=100000, batch_size=16, verbose=0, callbacks=callbacks, group=group)


if __name__ == "__main__":
    main(sys.argv[1])
