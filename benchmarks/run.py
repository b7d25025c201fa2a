"""chainrule against PyTorch and scikit-learn on the same work, side by side.

Each case runs the contenders in one process, alternating, after a warm-up; it reports each
contender's median time and, for ratios, the median over rounds of the ratio within a round
(these machines are shared and their load drifts; ratios are what count).

    python benchmarks/run.py              # every case (7 min quiet, ~20 loaded)
    python benchmarks/run.py --quick      # fewer repeats
    python benchmarks/run.py --case 1     # one case

Cases (see benchmarks/RESULTS.md):
1. MNIST-shaped: 60000 x 784 float32, 10 learnable classes, 784-256-128-10 ReLU, softmax +
   cross-entropy, SGD lr 0.01 momentum 0.9, shuffled; one epoch at batch 32, 128 and 512.
2. The GEMM floor of case 1: the epoch's matrix products alone into preallocated outputs.
3. The textbook 2-2-2 sigmoid network, one sample, 10000 SGD steps through fit(batch_size=1).
4. scikit-learn's digits to convergence with the default estimators.
5. Peak memory (RSS) while training case 1, against the dataset's size.
6. The live progress display's cost on a fit of many small batches.
7. Time to a validation target on four cases (benchmarks/time_to_accuracy.py): the small
   tabular network, the MNIST-shaped one, digits and a regression set, for each library.

--quick: 2 rounds instead of 7, case 1 without scikit-learn, case 7 with one seed instead of
three (under 3 minutes on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np

# the checkout's chainrule, not a copy installed earlier: `python benchmarks/run.py` puts only
# benchmarks/ on the path, and an installed chainrule would then be the one measured
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import chainrule as cr  # noqa: E402

N, FEATURES, CLASSES, SIZES = 60000, 784, 10, [784, 256, 128, 10]


def mnist_shaped(seed: int = 0, n: int = N, centres_seed: int | None = None):
    """``n`` x 784 float32 rows around 10 class centres: learnable, MNIST's shape. The centres
    come from ``centres_seed`` where given (held-out rows around the same centres), else from
    the same stream as the rows."""
    rng = np.random.default_rng(seed)
    centres_rng = rng if centres_seed is None else np.random.default_rng(centres_seed)
    centres = centres_rng.normal(0, 1, (CLASSES, FEATURES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, n)
    X = rng.standard_normal((n, FEATURES), dtype=np.float32)  # float32 from the start, and
    X *= 3.0  # no full-size temporary
    for start in range(0, n, 5000):
        X[start : start + 5000] += centres[labels[start : start + 5000]]
    return X, labels


def chainrule_epoch(X, y, batch_size):
    net = cr.MLP(SIZES, activation="relu", loss="cross_entropy", seed=0)
    started = time.perf_counter()
    net.fit(
        X,
        y,
        optimizer=cr.optim.SGD(learning_rate=0.01, momentum=0.9),
        epochs=1,
        batch_size=batch_size,
        verbose=0,
        seed=0,
    )
    return time.perf_counter() - started


def torch_epoch(X, y, batch_size):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    started = time.perf_counter()
    order = torch.randperm(inputs.shape[0])
    for start in range(0, inputs.shape[0], batch_size):
        index = order[start : start + batch_size]
        optimizer.zero_grad()
        loss = criterion(model(inputs[index]), targets[index])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def sklearn_epoch(X, y, batch_size, dtype):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(256, 128),
        solver="sgd",
        learning_rate_init=0.01,
        momentum=0.9,
        nesterovs_momentum=False,
        batch_size=batch_size,
        max_iter=1,
        alpha=0.0,
        random_state=0,
    )
    data = X.astype(dtype)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data, y)
    return time.perf_counter() - started


def gemm_floor(X, batch_size):
    """The epoch's matrix products alone: forward, dW, and dX except for the first layer."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(a, b)).astype(np.float32) for a, b in pairwise(SIZES)]
    grads = [np.empty_like(W) for W in weights]
    acts = [np.empty((batch_size, s), np.float32) for s in SIZES]
    deltas = [np.empty((batch_size, s), np.float32) for s in SIZES]
    started = time.perf_counter()
    for start in range(0, X.shape[0] - batch_size + 1, batch_size):
        acts[0] = X[start : start + batch_size]
        for i, W in enumerate(weights):
            np.matmul(acts[i], W, out=acts[i + 1])
        for i in range(len(weights) - 1, -1, -1):
            np.matmul(acts[i].T, acts[i + 1], out=grads[i])
            if i > 0:
                np.matmul(acts[i + 1], weights[i].T, out=deltas[i])
    return time.perf_counter() - started


def _settle() -> None:
    """Let thread pools go idle: PyTorch's OpenMP threads spin for up to 200 ms after a
    parallel region and would take the two cores from whichever contender runs next."""
    time.sleep(0.4)


class Timings:
    """Seconds per contender and round. ``t[name]`` is the median; ``t.ratio(a, b)`` is the
    median over rounds of ``a / b`` within each round, so that the machine's load, which drifts
    from one round to the next, cancels out of the ratio."""

    def __init__(self, rounds: dict[str, list[float]]):
        self.rounds = rounds

    def __getitem__(self, name: str) -> float:
        return statistics.median(self.rounds[name])

    def ratio(self, a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(self.rounds[a], self.rounds[b], strict=True))


def median_times(contenders: dict, repeats: int) -> Timings:
    """Run every contender once (warm-up), then ``repeats`` rounds, alternating."""
    for run in contenders.values():
        _settle()
        run()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            _settle()
            times[name].append(run())
    return Timings(times)


def numba_available() -> bool:
    try:
        cr.set_kernels("numba")
    except ImportError:
        return False
    finally:
        cr.set_kernels("auto")
    return True


def with_kernels(choice: str, run):
    """``run`` on the kernels ``choice`` forces (``cr.set_kernels``), then back to 'auto'."""

    def timed():
        cr.set_kernels(choice)
        try:
            return run()
        finally:
            cr.set_kernels("auto")

    return timed


def case1_and_2(repeats: int, with_sklearn: bool) -> list[str]:
    X, y = mnist_shaped()
    numba = numba_available()
    rows = [
        "| batch | chainrule NumPy s | PyTorch s | GEMM floor s | NumPy / PyTorch | "
        "NumPy / floor |"
        + (" numba s | numba / PyTorch | numba / floor | numba / NumPy |" if numba else "")
        + (
            " scikit-learn f32 s | sklearn f64 s | chainrule / sklearn f32 |"
            if with_sklearn
            else ""
        ),
        "|---:|---:|---:|---:|---:|---:|"
        + ("---:|---:|---:|---:|" if numba else "")
        + ("---:|---:|---:|" if with_sklearn else ""),
    ]
    for batch in (32, 128, 512):
        contenders = {
            "chainrule": with_kernels("numpy", lambda b=batch: chainrule_epoch(X, y, b)),
            "torch": lambda b=batch: torch_epoch(X, y, b),
            "floor": lambda b=batch: gemm_floor(X, b),
        }
        if numba:
            contenders["numba"] = with_kernels("numba", lambda b=batch: chainrule_epoch(X, y, b))
        if with_sklearn:
            contenders["sk32"] = lambda b=batch: sklearn_epoch(X, y, b, np.float32)
            contenders["sk64"] = lambda b=batch: sklearn_epoch(X, y, b, np.float64)
        t = median_times(contenders, repeats)
        row = (
            f"| {batch} | {t['chainrule']:.3f} | {t['torch']:.3f} | {t['floor']:.3f} | "
            f"{t.ratio('chainrule', 'torch'):.2f} | {t.ratio('chainrule', 'floor'):.2f} |"
        )
        if numba:
            row += (
                f" {t['numba']:.3f} | {t.ratio('numba', 'torch'):.2f} | "
                f"{t.ratio('numba', 'floor'):.2f} | {t.ratio('numba', 'chainrule'):.2f} |"
            )
        if with_sklearn:
            row += f" {t['sk32']:.3f} | {t['sk64']:.3f} | {t.ratio('chainrule', 'sk32'):.2f} |"
        rows.append(row)
    return rows


def case3(repeats: int, steps: int = 10000) -> list[str]:
    import torch

    X, T = np.array([[0.05, 0.10]], np.float32), np.array([[0.01, 0.99]], np.float32)

    final = []

    def ours():
        net = cr.Network(
            [
                cr.Dense(2, 2, "sigmoid", W=[[0.15, 0.2], [0.25, 0.3]], b=[0.4, 0.35]),
                cr.Dense(2, 2, "sigmoid", W=[[0.4, 0.45], [0.5, 0.55]], b=[0.25, 0.6]),
            ],
            "squared_error",
        )
        started = time.perf_counter()
        net.fit(
            X,
            T,
            optimizer=cr.optim.SGD(learning_rate=0.5),
            epochs=steps,
            batch_size=1,
            shuffle=False,
            verbose=0,
        )
        seconds = (time.perf_counter() - started) / steps
        final.append(net.parameters)
        return seconds

    def theirs():
        model = torch.nn.Sequential(
            torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 2), torch.nn.Sigmoid()
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        inputs, targets = torch.from_numpy(X), torch.from_numpy(T)
        started = time.perf_counter()
        for _ in range(steps):
            optimizer.zero_grad()
            loss = 0.5 * ((model(inputs) - targets) ** 2).sum()
            loss.backward()
            optimizer.step()
        return (time.perf_counter() - started) / steps

    t = median_times(
        {"chainrule": ours, "torch": theirs, "numpy": lambda: bare_numpy_steps(X, T, steps, final)},
        repeats,
    )
    # the bare loop does the very same arithmetic: it must end with the same parameters
    assert all(np.array_equal(final[0], params) for params in final), "case 3 references differ"
    return [
        "| chainrule µs/step | PyTorch µs/step | bare NumPy µs/step | PyTorch / chainrule | "
        "chainrule / bare NumPy |",
        "|---:|---:|---:|---:|---:|",
        f"| {t['chainrule'] * 1e6:.1f} | {t['torch'] * 1e6:.1f} | {t['numpy'] * 1e6:.1f} | "
        f"{t.ratio('torch', 'chainrule'):.1f} | {t.ratio('chainrule', 'numpy'):.2f} |",
    ]


def bare_numpy_steps(X, T, steps: int, final: list | None = None) -> float:
    """Case 3's steps written out in NumPy with nothing around them: preallocated buffers,
    one call per operation, constants as 0-d arrays (NumPy's cheapest operands), the loss
    value computed as fit reports it. This is the floor for a NumPy implementation of the
    step; what chainrule adds to it is its layers and fit loop. The parameters it ends with are
    appended to ``final``."""
    params = np.array([0.15, 0.2, 0.25, 0.3, 0.4, 0.35, 0.4, 0.45, 0.5, 0.55, 0.25, 0.6])
    params = params.astype(np.float32)
    grads, scratch = np.zeros_like(params), np.empty_like(params)
    W1, b1, W2, b2 = params[:4].reshape(2, 2), params[4:6], params[6:10].reshape(2, 2), params[10:]
    dW1, db1, dW2, db2 = grads[:4].reshape(2, 2), grads[4:6], grads[6:10].reshape(2, 2), grads[10:]
    A1, A2, D, delta1, delta2, back = (np.empty((1, 2), np.float32) for _ in range(6))
    lr, one, minus_one, zero = (np.array(v, np.float32) for v in (0.5, 1.0, -1.0, 0.0))

    def sigmoid(Z, out):  # the same stable form as chainrule's
        numerator = np.sign(Z)
        E = np.exp(np.copysign(Z, minus_one))
        np.maximum(E, numerator, out=numerator)
        np.add(E, one, out=out)
        return np.divide(numerator, out, out=out)

    started = time.perf_counter()
    for _ in range(steps):
        sigmoid(np.add(np.dot(X, W1, out=A1), b1, out=A1), A1)
        sigmoid(np.add(np.dot(A1, W2, out=A2), b2, out=A2), A2)
        np.subtract(A2, T, out=D)
        float(np.add.reduce(0.5 * np.einsum("ij,ij->i", D, D), dtype=np.float64))
        np.multiply(np.subtract(one, A2, out=delta2), A2, out=delta2)
        delta2 *= D
        np.dot(A1.T, delta2, out=dW2)
        np.add(delta2[0], zero, out=db2)  # the sum over the one sample
        np.dot(delta2, W2.T, out=back)
        np.multiply(np.subtract(one, A1, out=delta1), A1, out=delta1)
        delta1 *= back
        np.dot(X.T, delta1, out=dW1)
        np.add(delta1[0], zero, out=db1)
        params -= np.multiply(grads, lr, out=scratch)
    seconds = (time.perf_counter() - started) / steps
    if final is not None:
        final.append(params)
    return seconds


def case4(repeats: int) -> list[str]:
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkClassifier

    from chainrule.sklearn import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.25, random_state=0, stratify=y
    )
    scores = {}

    def run(name, make):
        def timed():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = make()
                started = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - started
            scores[name] = (model.score(X_test, y_test), model.n_iter_)
            return seconds

        return timed

    t = median_times(
        {
            "chainrule": run("chainrule", lambda: MLPClassifier(random_state=0)),
            "sklearn": run("sklearn", lambda: SkClassifier(random_state=0)),
        },
        repeats,
    )
    return [
        "| | seconds | epochs | held-out accuracy |",
        "|---|---:|---:|---:|",
        f"| chainrule | {t['chainrule']:.2f} | {scores['chainrule'][1]} | "
        f"{scores['chainrule'][0]:.4f} |",
        f"| scikit-learn | {t['sklearn']:.2f} | {scores['sklearn'][1]} | "
        f"{scores['sklearn'][0]:.4f} |",
        f"| ratio | {t.ratio('chainrule', 'sklearn'):.2f} | | |",
    ]


_MEMORY_PROBE = """
import sys, numpy as np
def high_water():  # VmHWM starts afresh at exec, unlike ru_maxrss, which a child inherits
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
baseline = high_water()
sys.path.insert(0, {path!r})
import run as bench
import chainrule as cr
X, y = bench.mnist_shaped()
net = cr.MLP(bench.SIZES, loss="cross_entropy", seed=0)
net.fit(X, y, optimizer=cr.optim.SGD(learning_rate=0.01, momentum=0.9), epochs=2, batch_size=128,
        verbose=0)
print(baseline, high_water(), X.nbytes + y.nbytes)
"""


def case5() -> list[str]:
    """Peak RSS in a fresh interpreter: after NumPy, after the data, after two epochs; once
    with NumPy's kernels and, where numba is installed, once with numba's."""
    folder = os.path.dirname(os.path.abspath(__file__))
    rows = [
        "| kernels | interpreter + NumPy MiB | dataset MiB | peak MiB | "
        "peak above interpreter MiB | target (dataset + 100 MiB) | met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kernels in ("NumPy", "numba") if numba_available() else ("NumPy",):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CHAINRULE_")}
        environment["CHAINRULE_KERNELS"] = kernels.lower()
        result = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE.format(path=folder)],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        )
        baseline, peak, dataset = (int(v) for v in result.stdout.split())
        mib = 1024.0  # /proc reports KiB
        above = (peak - baseline) / mib
        allowed = dataset / 2**20 + 100
        rows.append(
            f"| {kernels} | {baseline / mib:.0f} | {dataset / 2**20:.0f} | {peak / mib:.0f} | "
            f"{above:.0f} | {allowed:.0f} | {'yes' if above <= allowed else 'no'} |"
        )
    return rows


def case6(repeats: int) -> list[str]:
    """The live progress display's cost: the same fit silent and with the display drawn."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20000, 20)).astype(np.float32), rng.integers(0, 3, 20000)

    def fit(verbose):
        net = cr.MLP([20, 32, 3], loss="cross_entropy", seed=0)
        screen, sys.stderr = sys.stderr, Terminal()
        try:
            started = time.perf_counter()
            net.fit(X, y, epochs=10, batch_size=16, verbose=verbose)
            return time.perf_counter() - started
        finally:
            sys.stderr = screen

    t = median_times({"silent": lambda: fit(0), "display": lambda: fit(1)}, repeats)
    return [
        "| silent s | with the live display s | ratio |",
        "|---:|---:|---:|",
        f"| {t['silent']:.3f} | {t['display']:.3f} | {t.ratio('display', 'silent'):.3f} |",
    ]


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> list[str]:
    """The host beside every figure: CPU, versions, and each thread pool with its BLAS
    architecture as threadpoolctl reports it."""
    import threadpoolctl

    lines = [
        f"- {cpu_model()}, {os.cpu_count()} CPUs ({platform.machine()})",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, chainrule "
        f"{cr.__version__}, kernels {cr.get_kernels()}",
    ]
    for name in ("torch", "sklearn", "numba"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        threads = f", {module.get_num_threads()} threads" if name == "torch" else ""
        lines.append(f"- {name} {module.__version__}{threads}")
    for pool in threadpoolctl.threadpool_info():
        architecture = pool.get("architecture")
        lines.append(
            f"- {pool['internal_api']} {pool.get('version')}"
            + (f" ({architecture})" if architecture else "")
            + f": {pool['num_threads']} threads"
        )
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=int, choices=[1, 2, 3, 4, 5, 6, 7])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and seeds, no scikit-learn in case 1"
    )
    parser.add_argument(
        "--no-sklearn", action="store_true", help="skip scikit-learn in case 1 (it takes minutes)"
    )
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 7
    chosen = [args.case] if args.case else [1, 3, 4, 5, 6, 7]
    started = time.perf_counter()
    print("\n".join(environment()))
    if 1 in chosen or 2 in chosen:
        print("\n### Cases 1 and 2: one epoch, MNIST-shaped, 784-256-128-10\n")
        print("\n".join(case1_and_2(repeats, not (args.no_sklearn or args.quick))))
    if 3 in chosen:
        print("\n### Case 3: 2-2-2 sigmoid network, one sample, 10000 steps\n")
        print("\n".join(case3(repeats)))
    if 4 in chosen:
        print("\n### Case 4: digits to convergence, default estimators\n")
        print("\n".join(case4(max(1, repeats // 2))))
    if 5 in chosen:
        print("\n### Case 5: peak memory while training case 1\n")
        print("\n".join(case5()))
    if 6 in chosen:
        print("\n### Case 6: the progress display's cost (37 500 batches of 16)\n")
        print("\n".join(case6(repeats)))
    if 7 in chosen:
        import time_to_accuracy

        print("\n### Case 7: time to a validation target\n")
        time_to_accuracy.main(["--quick"] if args.quick else [])
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
