"""Data-parallel and out-of-core training: the numbers behind benchmarks/RESULTS.md.

    python benchmarks/distributed.py              # everything, prints Markdown (a few minutes)
    python benchmarks/distributed.py --gib 1      # a smaller memory-mapped file
    python benchmarks/distributed.py reading      # part 4 alone

1. One epoch of the MNIST-shaped case (60000 x 784, 784-256-128-10 ReLU, SGD momentum 0.9) in
   one process with 2 BLAS threads, then on 2 MPI ranks with 1 BLAS thread each, at global
   batch 32 and 512, alternating for ``--rounds`` rounds (medians), with the time each rank
   spends in the step's Allreduce (which includes waiting for the other rank).
2. The Allreduce of the flat gradient buffer (235146 float32 + the loss and the Ctrl-C flag)
   alone, 2 ranks.
3. Epochs over a memory-mapped float32 .npy of ``--gib`` GiB (written, then deleted) at batch
   512: two while RssAnon is sampled every 10 ms (the first reads the file, the second finds
   it in the page cache), then alternating twice with the same epoch on the array loaded
   into memory, in one fresh interpreter.

4. Reading a 200 000 x 21 CSV (benchmarks/tables.py's file; ``--rows``): one process reads it whole
   (``read_csv``), then each of 2 ranks reads its part (``distributed.read_rows``), in fresh
   interpreters, alternating for ``--rounds`` rounds: seconds, and the growth over the reading
   of peak resident memory (VmHWM, file-backed pages included) and of RssAnon (sampled every
   10 ms), per process.

Parts 1, 2 and 4 need mpirun and mpi4py (the ``distributed`` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import run as bench  # noqa: E402  (benchmarks/run.py: the MNIST-shaped data and network)

import chainrule as cr  # noqa: E402


def sgd():
    return cr.optim.SGD(learning_rate=0.01, momentum=0.9)


# -- 1 and 2: run inside each process ------------------------------------------------------------
def epoch(batch_size: int, distributed: bool) -> None:
    """Time one epoch; with ``distributed``, on this rank's rows, timing the Allreduces."""
    X, y = bench.mnist_shaped()
    group = None
    if distributed:
        from chainrule.distributed import MPIGroup, shard

        group = MPIGroup()
        rows = shard(len(y), group)
        X, y = X[rows], y[rows]
        allreduce = group.comm.Allreduce
        spent = [0.0, 0]

        def timed(*args, **kwargs):
            started = time.perf_counter()
            allreduce(*args, **kwargs)
            spent[0] += time.perf_counter() - started
            spent[1] += 1

        group.comm = _Timed(group.comm, timed)
    warm = cr.MLP(bench.SIZES, loss="cross_entropy", seed=0)
    warm.fit(X[:2048], y[:2048], optimizer=sgd(), epochs=1, batch_size=batch_size, verbose=0)
    net = cr.MLP(bench.SIZES, loss="cross_entropy", seed=0)
    if group is not None:
        group.comm.Barrier()
        spent[:] = [0.0, 0]
    started = time.perf_counter()
    net.fit(X, y, optimizer=sgd(), epochs=1, batch_size=batch_size, verbose=0, seed=0, group=group)
    seconds = time.perf_counter() - started
    result = {"seconds": seconds}
    if group is not None:
        every = group.comm.gather({"seconds": seconds, "allreduce": spent[0], "calls": spent[1]})
        if group.rank != 0:
            return
        result = {"ranks": every}
    print(json.dumps(result))


class _Timed:
    """A communicator whose Allreduce is timed; everything else is the communicator's."""

    def __init__(self, comm, allreduce):
        self._comm, self.Allreduce = comm, allreduce

    def __getattr__(self, name):
        return getattr(self._comm, name)


def allreduce_alone(repeats: int = 300) -> None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    n_params = cr.MLP(bench.SIZES, loss="cross_entropy").n_params
    buffer = np.ones(n_params + 2, np.float32)  # the step's: gradients, loss, Ctrl-C flag
    times = []
    for i in range(repeats + 20):
        comm.Barrier()
        started = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        if i >= 20:
            times.append(time.perf_counter() - started)
    every = comm.gather(float(np.median(times)))
    if comm.Get_rank() == 0:
        print(json.dumps({"median": max(every), "bytes": buffer.nbytes, "n_params": n_params}))


# -- 3: out of core ------------------------------------------------------------------------------
class RssAnonPeak(threading.Thread):
    """Samples this process's RssAnon (anonymous resident memory) every 10 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = 0, True

    @staticmethod
    def now() -> int:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("RssAnon"))
        return int(line.split()[1]) * 1024

    def run(self):
        while self.running:
            self.peak = max(self.peak, self.now())
            time.sleep(0.01)


def write_mapped(path: Path, gib: float) -> int:
    """An MNIST-shaped float32 .npy of ``gib`` GiB written in chunks (never whole in memory),
    and its labels next to it; returns the number of rows."""
    rows = int(gib * 2**30) // (bench.FEATURES * 4)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (bench.CLASSES, bench.FEATURES)).astype(np.float32)
    labels = rng.integers(0, bench.CLASSES, rows)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, bench.FEATURES))
    for start in range(0, rows, 20000):
        chunk = rng.standard_normal((min(20000, rows - start), bench.FEATURES), np.float32)
        chunk *= 3.0
        chunk += centres[labels[start : start + 20000]]
        X[start : start + len(chunk)] = chunk
    X.flush()
    del X
    np.save(path.with_suffix(".labels.npy"), labels)
    return rows


def out_of_core_epochs(path: str, batch_size: int) -> None:
    """In a fresh interpreter: two epochs over the memory-mapped file (the first reads it, the
    second finds it in the page cache) with RssAnon sampled throughout; then the array loaded
    into memory, and epochs alternating in memory / mapped / in memory."""

    def one_epoch(X, y):
        net = cr.MLP(bench.SIZES, loss="cross_entropy", seed=0)
        started = time.perf_counter()
        net.fit(X, y, optimizer=sgd(), epochs=1, batch_size=batch_size, verbose=0, seed=0)
        return time.perf_counter() - started

    sampler = RssAnonPeak()
    baseline = RssAnonPeak.now()
    sampler.start()
    mapped = np.load(path, mmap_mode="r")
    y = np.load(Path(path).with_suffix(".labels.npy"))
    mapped_times = [one_epoch(mapped, y), one_epoch(mapped, y)]
    sampler.running = False
    sampler.join()
    peak = sampler.peak
    loaded = np.load(path)
    memory_times = []
    for _ in range(2):  # alternating, as the load drifts
        memory_times.append(one_epoch(loaded, y))
        mapped_times.append(one_epoch(mapped, y))
    print(
        json.dumps(
            {
                "mapped": mapped_times,
                "memory": memory_times,
                "baseline": baseline,
                "peak": peak,
                "loaded": RssAnonPeak.now(),
                "data": loaded.nbytes,
                "rows": len(y),
                "batch": batch_size,
            }
        )
    )


# -- 4: run inside each process --------------------------------------------------------------------
def peak_resident() -> int:
    """VmHWM, the process's peak resident memory in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def read(path: str, distributed: bool) -> None:
    """Read the CSV whole, or this rank's part of it; print seconds, rows and peak growth."""
    import pyarrow.csv  # noqa: F401  (imports before the baseline)

    from chainrule.tables.reading import read_csv

    group = None
    if distributed:
        from chainrule.distributed import MPIGroup, read_rows

        group = MPIGroup()
        group.comm.Barrier()
    before, anonymous = peak_resident(), RssAnonPeak.now()
    sampler = RssAnonPeak()
    sampler.start()
    started = time.perf_counter()
    table = read_rows(path, group) if group else read_csv(path)
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    result = {
        "seconds": seconds,
        "rows": table.n_rows,
        "peak": peak_resident() - before,
        "anonymous": sampler.peak - anonymous,
    }
    if group is not None:
        every = group.comm.gather(result)
        if group.rank != 0:
            return
        result = {"ranks": every}
    print(json.dumps(result))


def report_reading(rounds: int, rows: int = 200_000) -> None:
    import tables

    folder = Path(tempfile.mkdtemp(dir=ROOT / "benchmarks"))
    try:
        path = folder / "t.csv"
        tables.make_csv(path, rows)
        size = path.stat().st_size
        whole, parts = [], []
        for _ in range(rounds):
            whole.append(python("read", str(path)))
            parts.append(python("read", str(path), "--distributed", mpi=2)["ranks"])
    finally:
        shutil.rmtree(folder)
    mib = 2**20
    print(f"\nReading a {rows} x 21 CSV ({size / mib:.1f} MiB), {rounds} alternating rounds:\n")
    print("| | rows | seconds | peak resident growth MiB | peak RssAnon growth MiB |")
    print("|---|---:|---:|---:|---:|")
    rows = [("1 process, whole file", whole)]
    rows += [(f"rank {rank} of 2, its part", [p[rank] for p in parts]) for rank in range(2)]
    for label, runs in rows:
        seconds = " / ".join(format(r["seconds"], ".2f") for r in runs)
        peaks = " / ".join(format(r["peak"] / mib, ".0f") for r in runs)
        anonymous = " / ".join(format(r["anonymous"] / mib, ".0f") for r in runs)
        print(f"| {label} | {runs[0]['rows']} | {seconds} | {peaks} | {anonymous} |")


# -- the driver ----------------------------------------------------------------------------------
def python(*arguments, env=None, mpi=0):
    command = [sys.executable, __file__, *arguments]
    if mpi:
        command = [
            shutil.which("mpirun") or str(Path(sys.executable).parent / "mpirun"),
            "-n",
            str(mpi),
            "--allow-run-as-root",
            "--oversubscribe",
            *command,
        ]
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def threads(n):
    return {name: str(n) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def report(gib: float, rounds: int, batch_sizes=(32, 512)) -> None:
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    print(
        "| global batch | 1 process x 2 threads s | 2 ranks x 1 thread s | speed-up | "
        "in Allreduce, rank 0 / 1 s | calls | compute per step ms | Allreduce per step ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for batch in batch_sizes:
        ones, twos, runs = [], [], []
        for _ in range(rounds):  # alternating, as the load drifts
            ones.append(python("epoch", str(batch), env=threads(2))["seconds"])
            ranks = python("epoch", str(batch), "--distributed", env=threads(1), mpi=2)["ranks"]
            twos.append(max(r["seconds"] for r in ranks))
            runs.append(ranks)
        ranks = runs[twos.index(statistics.median(twos))] if rounds % 2 else runs[0]
        one, two = statistics.median(ones), statistics.median(twos)
        calls = ranks[0]["calls"]
        compute = max(r["seconds"] - r["allreduce"] for r in ranks) / calls
        waiting = min(r["allreduce"] for r in ranks) / calls
        print(
            f"| {batch} | {one:.3f} ({' '.join(f'{t:.2f}' for t in ones)}) | {two:.3f} "
            f"({' '.join(f'{t:.2f}' for t in twos)}) | {one / two:.2f} | "
            f"{' / '.join(format(r['allreduce'], '.3f') for r in ranks)} | {calls} | "
            f"{compute * 1e3:.2f} | {waiting * 1e3:.2f} |"
        )
    alone = python("allreduce", env=threads(1), mpi=2)
    print(
        f"\nAllreduce alone (2 ranks, {alone['bytes']} bytes): median "
        f"{alone['median'] * 1e6:.0f} us\n"
    )
    folder = Path(tempfile.mkdtemp(dir=ROOT / "benchmarks"))
    try:
        free = shutil.disk_usage(folder).free / 2**30
        if free < gib + 2:
            print(f"out of core: skipped, {free:.1f} GiB free for a {gib} GiB file")
            return
        path = folder / "X.npy"
        write_mapped(path, gib)
        result = python("mmap", str(path), env=threads(2))
    finally:
        shutil.rmtree(folder)
    mib = 2**20
    cached = statistics.median(result["mapped"][1:])
    memory = statistics.median(result["memory"])
    print(
        f"{result['data'] / 2**30:.2f} GiB float32, {result['rows']} rows, batch "
        f"{result['batch']}; RssAnon {result['baseline'] / mib:.0f} MiB before, peak "
        f"{result['peak'] / mib:.0f} MiB over the two mapped epochs, "
        f"{result['loaded'] / mib:.0f} MiB with the array loaded\n"
    )
    print("| epoch | memory-mapped s | in memory s |")
    print("|---|---:|---:|")
    print(f"| first (reads the file) | {result['mapped'][0]:.2f} | |")
    print(
        f"| cached, alternating | {' / '.join(f'{t:.2f}' for t in result['mapped'][1:])} | "
        f"{' / '.join(f'{t:.2f}' for t in result['memory'])} |"
    )
    print(f"\nmapped (cached) / in memory, medians: {cached / memory:.2f}")
    report_reading(rounds)
    print(f"\nload average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "part",
        nargs="?",
        default="report",
        choices=["report", "epoch", "allreduce", "mmap", "read", "reading"],
    )
    parser.add_argument("value", nargs="?")
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000, help="of the CSV (part 4)")
    args = parser.parse_args(argv)
    if args.part == "epoch":
        epoch(int(args.value), args.distributed)
    elif args.part == "allreduce":
        allreduce_alone()
    elif args.part == "mmap":
        out_of_core_epochs(args.value, args.batch)
    elif args.part == "read":
        read(args.value, args.distributed)
    elif args.part == "reading":
        report_reading(args.rounds, args.rows)
    else:
        report(args.gib, args.rounds)


if __name__ == "__main__":
    main()
