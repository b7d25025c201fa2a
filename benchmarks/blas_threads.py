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

import run as bench  # benchmarks/run.py: the data, the epoch, the GEMM floor
from threadpoolctl import threadpool_limits


def floor(X, y, batch_size: int) -> float:
    """Case 1's GEMM floor, called as the epoch is (the labels unused)."""
    return bench.gemm_floor(X, batch_size)


#: name: (what is timed, BLAS threads: 1 or None for BLAS's default)
CONTENDERS = {
    "epoch 1 thread": (bench.chainrule_epoch, 1),
    "epoch default": (bench.chainrule_epoch, None),
    "floor 1 thread": (floor, 1),
    "floor default": (floor, None),
}


def medians(X, y, batch_size: int, rounds: int) -> dict[str, float]:
    """The median seconds of each contender over ``rounds`` rounds after a warm-up round."""
    times = {name: [] for name in CONTENDERS}
    for round_ in range(rounds + 1):
        for name, (run, threads) in CONTENDERS.items():
            with threadpool_limits(limits=threads, user_api="blas"):
                bench._settle()
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
    print("| batch | " + " | ".join(f"{name} s" for name in CONTENDERS)
          + " | epoch 1 / default | epoch default / floor default |")  # fmt: skip
    print("|---:" * (len(CONTENDERS) + 3) + "|")
    for batch_size in map(int, options.batches.split(",")):
        t = medians(X, y, batch_size, options.rounds)
        one_thread = t["epoch 1 thread"] / t["epoch default"]
        over_floor = t["epoch default"] / t["floor default"]
        print(f"| {batch_size} | " + " | ".join(f"{s:.3f}" for s in t.values())
              + f" | {one_thread:.2f} | {over_floor:.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
