"""Run under ``mpirun -n 2``: what the processes of a group must agree on, or they would wait
for each other forever or shuffle differently. Rank 0 prints one JSON line of results.

``refused``: options that differ between the ranks (each case is caught, so the job goes on);
``stopped``: a callback on rank 1 alone stops training; ``no_seed``: neither the network nor
``fit`` has a seed, and the run must equal one process's with rank 0's entropy;
``empty_validation``: rank 1 holds none of the ``validation_data`` rows.
"""

import json
import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import distributed
from chainrule.files.checkpoint import load_checkpoint


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, (X[:, 0] > 0).astype(int)


def network(seed=0):
    return cr.MLP([3, 6, 2], loss="cross_entropy", dropout=0.2, seed=seed, dtype="float64")


def refused(group, X, y):
    """The message each mismatch raises (the same on every rank, so none waits)."""
    mismatches = {
        "epochs": {"epochs": 3 + group.rank},
        "seed": {"seed": group.rank},
        "validation_data": {"validation_data": (X[:4], y[:4]) if group.rank == 0 else None},
    }
    messages = {}
    try:  # rank 0 holds no row
        network().fit(X[: group.rank], y[: group.rank], verbose=0, group=group)
    except ValueError as error:
        messages["no_rows"] = str(error)
    for name, options in mismatches.items():
        try:
            network().fit(X, y, **{"epochs": 3, "seed": 1, "verbose": 0, **options}, group=group)
        except ValueError as error:
            messages[name] = str(error)
    return messages


def stopped(group, X, y):
    """Rank 1's callback stops after epoch 2; every rank must stop there too."""
    net = network()
    stop = cr.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(net, "stop_training", epoch == 1)
    )
    callbacks = [stop] if group.rank == 1 else []
    history = net.fit(X, y, epochs=6, seed=1, verbose=0, callbacks=callbacks, group=group)
    everyone = group.collect((len(history.epoch), net.parameters.tolist()))
    return {
        "epochs": [epochs for epochs, _ in everyone],
        "same": all(p == everyone[0][1] for _, p in everyone),
        "stopped_by": history.stopped_by,
    }


def no_seed(group, X, y, whole, folder):
    """No seed anywhere: rank 0's entropy (kept in its checkpoint) shuffles for every rank."""
    net = network(seed=None)
    group.broadcast(net.parameters)
    start = net.parameters.copy()
    path = folder / "no_seed.npz"
    net.fit(X, y, epochs=3, batch_size=4, verbose=0, checkpoint=path, group=group)
    group.comm.Barrier()
    if group.rank:
        return None
    entropy = load_checkpoint(path, network(seed=None), cr.optim.get("adam"))["entropy"]
    alone = network(seed=None)
    alone.parameters[...] = start
    alone.fit(*whole, epochs=3, batch_size=4, verbose=0, seed=entropy)
    gap = np.max(np.abs(net.parameters - alone.parameters)) / np.max(np.abs(alone.parameters))
    return float(gap)


def empty_validation(group, X, y, whole):
    """Rank 1 holds none of the validation rows (empty arrays): as one process on them all."""
    X_val, y_val = whole[0][:6], whole[1][:6]
    mine = (X_val, y_val) if group.rank == 0 else (X_val[:0], y_val[:0])
    options = dict(epochs=2, batch_size=8, seed=1, verbose=0, metrics=["accuracy"])
    net = network()
    history = net.fit(X, y, validation_data=mine, group=group, **options)
    if group.rank:
        return None
    alone = network()
    expected = alone.fit(*whole, validation_data=(X_val, y_val), **options)
    gap = np.max(np.abs(net.parameters - alone.parameters)) / np.max(np.abs(alone.parameters))
    val_loss = np.max(np.abs(np.subtract(history["val_loss"], expected["val_loss"])))
    accuracy = history["val_accuracy"] == expected["val_accuracy"]
    return {"gap": float(gap), "val_loss": float(val_loss), "val_accuracy": accuracy}


def main(folder):
    group = distributed.MPIGroup()
    X, y = data()
    rows = distributed.shard(len(y), group)
    results = {
        "refused": refused(group, X[rows], y[rows]),
        "stopped": stopped(group, X[rows], y[rows]),
        "no_seed": no_seed(group, X[rows], y[rows], (X, y), Path(folder)),
        "empty_validation": empty_validation(group, X[rows], y[rows], (X, y)),
    }
    if group.rank == 0:
        print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
