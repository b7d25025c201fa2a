"""Run under ``mpirun -n K`` (K = 1, 2, 3): every case of distributed_cases on this rank's rows.

Each rank maps the same .npy file of X and reads its rows. Rank 0 writes
``<folder>/<case>.npz`` (parameters, history, whether every rank ended with bit-identical
parameters); a checkpoint run and its resumption go to ``<case>_resumed.npz``.
"""

import sys
from pathlib import Path

import numpy as np
from distributed_cases import CASES, RESUMED

from chainrule import distributed


def local(name, X, y, options, group, folder):
    """This rank's rows; X is read from a memory-mapped .npy file that every rank maps."""
    path = folder / f"{name}_X.npy"
    if group.rank == 0:
        np.save(path, X)
    group.comm.Barrier()
    rows = distributed.shard(len(y), group)
    options = dict(options, verbose=0, group=group)
    if options.get("sample_weight") is not None:
        options["sample_weight"] = options["sample_weight"][rows]
    if "validation_data" in options:
        X_val, y_val = options["validation_data"]
        part = distributed.shard(len(y_val), group)
        options["validation_data"] = (X_val[part], y_val[part])
    return distributed.load_rows(path, group), y[rows], options


def run(name, group, folder, **extra):
    network, X, y, options = CASES[name]()
    X, y, options = local(name, X, y, options, group, folder)
    history = network.fit(X, y, **{**options, **extra})
    everyone = group.comm.gather(network.parameters.copy())
    if group.rank == 0:
        same = all(np.array_equal(everyone[0], p) for p in everyone)
        return network, history, same
    return network, history, None


def save(path, network, history, same):
    np.savez(
        path,
        parameters=network.parameters,
        same=same,
        **{f"history_{k}": np.array(v) for k, v in history.history.items()},
    )


def main(folder):
    folder = Path(folder)
    group = distributed.MPIGroup()
    for name in CASES:
        result = run(name, group, folder)
        if group.rank == 0:
            save(folder / f"{name}.npz", *result)
    checkpoint = folder / "checkpoint.npz"
    run(RESUMED, group, folder, epochs=3, checkpoint=checkpoint)
    group.comm.Barrier()  # rank 0 has written it
    result = run(RESUMED, group, folder, resume_from=checkpoint)
    if group.rank == 0:
        save(folder / f"{RESUMED}_resumed.npz", *result)


if __name__ == "__main__":
    main(sys.argv[1])
