"""Where case 1's epoch goes: fit's inner loop with a timer around each part.

    OPENBLAS_NUM_THREADS=1 python benchmarks/epoch_parts.py --batch 512 --epochs 3
    python benchmarks/epoch_parts.py --batch 512 --wall      # a quiet host, the default threads
    python benchmarks/epoch_parts.py --batch 128 --wall --kernels numba   # numba's kernels

The loop is the one `fit` runs (the network's layers, buffers, loss and optimizer, in the same
order), on the same data as case 1; each part is timed by the main thread's CPU time, which a
loaded host does not inflate as it does wall time, and the minimum over the epochs is printed,
in milliseconds, beside the GEMM floor timed the same way. With one BLAS thread all the work
runs on the timed thread; with more, the matrix products' other threads are not counted.
`--wall` times every part by wall clock instead: on a quiet host, with the default BLAS threads,
it shows what the parts cost in the configuration users run.
"""

from __future__ import annotations

import argparse
import collections
import time

import numpy as np
import run as bench  # benchmarks/run.py: the data, the GEMM floor; puts the checkout on the path

cr = bench.cr
clock = time.thread_time  # --wall: time.perf_counter


def epoch_parts(X, labels, batch_size: int, kernels) -> dict[str, float]:
    """Seconds per part of one shuffled epoch of case 1's network on ``kernels`` (the
    :class:`chainrule.core.kernels.Kernels` that ``cr.set_kernels`` forced)."""
    from chainrule.training.batches import ArrayBatches

    net = cr.MLP(bench.SIZES, activation="relu", loss="cross_entropy", seed=0)
    optimizer = cr.optim.SGD(learning_rate=0.01, momentum=0.9)
    parts = collections.defaultdict(float)
    started = clock()
    X, T, _ = net.check_data(X, labels, None)
    parts["fit's checks of the data, one-hot labels"] = clock() - started
    order = np.random.default_rng(0).permutation(X.shape[0])
    batches = iter(ArrayBatches(X, T, None, batch_size)(order))
    while True:
        started = clock()
        batch = next(batches, None)
        parts["shuffled gather"] += clock() - started
        if batch is None:
            return parts
        _step(net, optimizer, batch, kernels, parts)


def _step(net, optimizer, batch, kernels, parts) -> None:
    """One step of fit's loop, each part timed into ``parts``."""
    A, layers = batch[0], net.layers
    for layer in layers:
        buffers = layer._buffers(A.shape[0], layer.W.dtype)
        t0 = clock()
        Z = np.dot(A, layer.W, out=buffers["Z"])
        t1 = clock()
        if layer.activation.forward_log_norm is not None:
            out, log_norm = kernels.bias_softmax(Z, layer.b, layer.activation, buffers["A"])
        else:
            out = kernels.bias_activation(Z, layer.b, layer.activation, buffers["A"])
        parts["matrix products"] += t1 - t0
        parts[f"bias and {layer.activation.name} forward"] += clock() - t1
        layer._cache, A = (A, Z, out), out
    t0 = clock()
    net._data_loss(out, batch[1], Z, None, log_norm)
    t1 = clock()
    grad = kernels.output_delta(net.loss, out, batch[1], None, A.shape[0])
    parts["loss value"] += t1 - t0
    parts["loss gradient"] += clock() - t1
    last = len(layers) - 1
    for position in range(last, -1, -1):
        layer = layers[position]
        inputs, Z, out = layer._cache
        buffers = layer._buffers(inputs.shape[0], layer.W.dtype)
        t0 = clock()
        if position != last:
            grad = kernels.activation_backward(grad, Z, out, layer.activation, buffers["dZ"])
        t1 = clock()
        np.dot(inputs.T, grad, out=layer.dW)
        t2 = clock()
        kernels.column_sums(grad, layer.db)
        t3 = clock()
        if position > 0:
            if "dX" not in buffers:
                buffers["dX"] = np.empty((inputs.shape[0], layer.n_in), layer.W.dtype)
            grad = np.dot(grad, layer.W.T, out=buffers["dX"])
        parts["relu backward"] += t1 - t0
        parts["matrix products"] += (t2 - t1) + (clock() - t3)
        parts["bias gradients"] += t3 - t2
    t0 = clock()
    optimizer.step(net.parameters, net.gradients)
    parts["optimizer"] += clock() - t0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--wall", action="store_true", help="time by wall clock, not CPU time")
    parser.add_argument("--kernels", choices=["numpy", "numba"], default="numpy")
    parser.add_argument("--threads", type=int, default=1, help="numba's threads")
    args = parser.parse_args(argv)
    cr.set_kernels(args.kernels, threads=args.threads)  # forced: outside fit too
    kernels = cr.core.kernels.current()
    if args.wall:
        global clock
        clock = time.perf_counter
    X, labels = bench.mnist_shaped()
    best: dict[str, float] = {}
    for _ in range(args.epochs):
        for name, seconds in epoch_parts(X, labels, args.batch, kernels).items():
            best[name] = min(best.get(name, np.inf), seconds)
        started = clock()
        bench.gemm_floor(X, args.batch)
        best["GEMM floor"] = min(best.get("GEMM floor", np.inf), clock() - started)
    rest = sum(v for k, v in best.items() if k not in ("matrix products", "GEMM floor"))
    for name, seconds in best.items():
        print(f"{name:45s} {seconds * 1000:8.1f} ms")
    print(f"{'all but the matrix products':45s} {rest * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
