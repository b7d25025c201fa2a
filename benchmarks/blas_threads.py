"""Case 1's epoch and its GEMM floor with one BLAS thread against the default, per batch size.

    python benchmarks/blas_threads.py                       # batch 32, 64, 128, 256, 512
    python benchmarks/blas_threads.py --batches 32,512 --rounds 5

Whether limiting BLAS to one thread for small batches would pay (issue 30): the step's matrix
products wake BLAS's other threads for each product, and between products the elementwise work
runs on one. Each round times the four contenders (epoch and floor, one thread and the default)
one after the other in this process, the thread count set through threadpoolctl; after a
warm-up round, the medians over ``--rounds`` rounds are printed, with the ratios of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

import run as bench  # benchmarks/run.py: the data, the epoch, the GEMM floor
from threadpoolctl import threadpool_limits

CONTENDERS = {
    "epoch, 1 thread": (bench.chainrule_epoch, 1),
    "epoch, default threads": (bench.chainrule_epoch, None),
    "floor, 1 thread": (lambda X, y, batch: bench.gemm_floor(X, batch), 1),
    "floor, default threads": (lambda X, y, batch: bench.gemm_floor(X, batch), None),
}


def medians(X, y, batch_size: int, rounds: int) -> dict[str, float]:
    """The median seconds of each contender over ``rounds`` rounds after a warm-up round."""
    times = {name: [] for name in CONTENDERS}
    for round_ in range(rounds + 1):
        for name, (run, threads) in CONTENDERS.items():
            with threadpool_limits(limits=threads, user_api="blas"):
                time.sleep(0.3)  # let the pools go idle
                seconds = run(X, y, batch_size)
            if round_:
                times[name].append(seconds)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="32,64,128,256,512")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    print("\n".join(bench.environment()))
    X, y = bench.mnist_shaped()
    print("| batch | epoch 1 thread s | epoch default s | floor 1 thread s | floor default s |"
          " epoch 1 / default | epoch default / floor default |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for batch_size in map(int, options.batches.split(",")):
        t = list(medians(X, y, batch_size, options.rounds).values())
        print(f"| {batch_size} | " + " | ".join(f"{s:.3f}" for s in t)
              + f" | {t[0] / t[1]:.2f} | {t[1] / t[3]:.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
