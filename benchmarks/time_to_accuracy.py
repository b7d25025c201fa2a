"""Time to a validation target: chainrule, PyTorch and scikit-learn trained until they are good.

One epoch's speed is not what a user waits for; the time until the model reaches a given
quality is (MLPerf's rule). Every case trains each library epoch by epoch on the same data with
the same architecture and optimizer, scores the held-out rows after each epoch (outside the
clock) and stops at the first epoch whose score reaches the case's fixed target. Seeds
alternate the libraries within a round (the order rotates from round to round); a round's
ratios share that moment's load, so ratios are medians of per-round ratios.

    python benchmarks/time_to_accuracy.py              # all cases, 3 seeds, Markdown
    python benchmarks/time_to_accuracy.py --quick      # one seed
    python benchmarks/time_to_accuracy.py --inits      # chainrule's initializers compared
    python benchmarks/time_to_accuracy.py --calibrate  # final scores after max_epochs

Cases:
- tabular: 200 000 + 20 000 synthetic rows x 20 features (make_classification), 7 classes,
  20-64-64-7 ReLU/softmax, Adam lr 1e-3, batch 64, shuffled.
- mnist: case 1's MNIST-shaped data (60 000 rows, 10 000 more held out), 784-256-128-10,
  SGD lr 0.01 momentum 0.9, batch 128.
- digits: scikit-learn's digits / 16, a stratified quarter held out, 64-100-10, Adam 1e-3,
  batch 200 (scikit-learn's default min(200, n)).
- friedman: scikit-learn's make_friedman1 (10 000 + 2 000 rows, 10 features, noise 1), the
  target standardised, 10-100-1 ReLU/identity, squared error, Adam 1e-3, batch 200; the score
  is R^2.

Targets are 97-99% of the lowest of the three libraries' best scores in a calibration run
(``--calibrate``, recorded in benchmarks/RESULTS.md), so that every library can reach them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

if __package__ in (None, ""):  # this checkout's chainrule, not an installed copy
    sys.path[:0] = [__file__.rsplit("/", 1)[0], __file__.rsplit("/", 2)[0] or "."]
import run as bench  # noqa: E402  (benchmarks/run.py: the MNIST-shaped data, _settle)

import chainrule as cr  # noqa: E402


@dataclass
class Case:
    name: str
    sizes: list[int]
    classification: bool
    optimizer: str  # "adam" or "sgd" (momentum 0.9)
    lr: float
    batch_size: int
    target: float
    max_epochs: int
    data: object  # () -> (X_train, y_train, X_val, y_val), float32 X


def tabular_data():
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=220_000,
        n_features=20,
        n_informative=12,
        n_redundant=4,
        n_classes=7,
        n_clusters_per_class=2,
        class_sep=1.5,
        random_state=0,
    )
    X = X.astype(np.float32)
    return X[:200_000], y[:200_000], X[200_000:], y[200_000:]


def mnist_data():
    X, y = bench.mnist_shaped(seed=0)
    Xv, yv = bench.mnist_shaped(seed=1, n=10_000, centres_seed=0)
    return X, y, Xv, yv


def digits_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(
        (X / 16).astype(np.float32), y, test_size=0.25, random_state=0, stratify=y
    )
    return X_train, y_train, X_val, y_val


def friedman_data():
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=12_000, n_features=10, noise=1.0, random_state=0)
    mean, sd = y[:10_000].mean(), y[:10_000].std()
    X, y = X.astype(np.float32), ((y - mean) / sd).astype(np.float32)
    return X[:10_000], y[:10_000], X[10_000:], y[10_000:]


CASES = {
    "tabular": Case("tabular", [20, 64, 64, 7], True, "adam", 1e-3, 64, 0.0, 8, tabular_data),
    "mnist": Case("mnist", bench.SIZES, True, "sgd", 0.01, 128, 0.0, 5, mnist_data),
    "digits": Case("digits", [64, 100, 10], True, "adam", 1e-3, 200, 0.0, 200, digits_data),
    "friedman": Case("friedman", [10, 100, 1], False, "adam", 1e-3, 200, 0.0, 60, friedman_data),
}
# from calibration runs (RESULTS.md): about 97-99% of the lowest best score of the three
TARGETS = {"tabular": 0.95, "mnist": 0.99, "digits": 0.95, "friedman": 0.85}


def score(case: Case, predicted: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the arg-max for classification, R^2 for regression."""
    if case.classification:
        return float(np.mean(np.argmax(predicted, axis=1) == y))
    predicted = predicted.reshape(-1)
    return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))


@dataclass
class Result:
    seconds: float  # training time to the target (or to max_epochs), evaluation excluded
    epochs: int
    scores: list[float]  # validation score after each epoch
    reached: bool
    epoch_seconds: list[float]  # each epoch's training time, evaluation excluded

    @property
    def per_epoch(self) -> float:
        return self.seconds / self.epochs


class _Clock:
    """Training time with the validation scoring after each epoch taken out."""

    def __init__(self, case, X_val, y_val, target, stop):
        self.case, self.X_val, self.y_val, self.target, self.stop = case, X_val, y_val, target, stop
        self.scores: list[float] = []
        self.started = self.resumed = time.perf_counter()
        self.excluded = 0.0
        self.epoch_seconds: list[float] = []

    def epoch_done(self, predict) -> bool:
        """Score the epoch; True when training should stop."""
        paused = time.perf_counter()
        self.epoch_seconds.append(paused - self.resumed)
        self.scores.append(score(self.case, predict(self.X_val), self.y_val))
        self.resumed = time.perf_counter()
        self.excluded += self.resumed - paused
        return self.stop and self.scores[-1] >= self.target

    def result(self) -> Result:
        seconds = time.perf_counter() - self.started - self.excluded
        reached = bool(self.scores) and max(self.scores) >= self.target
        return Result(seconds, len(self.scores), self.scores, reached, self.epoch_seconds)


def run_chainrule(
    case, data, seed, target, stop=True, weight_init="auto", bias_init="zeros", optimizer=None
):
    """``optimizer`` (an instance) replaces the case's own."""
    X, y, X_val, y_val = data
    loss = "cross_entropy" if case.classification else "mse"
    net = cr.MLP(case.sizes, loss=loss, seed=seed, weight_init=weight_init, bias_init=bias_init)
    if optimizer is None:
        optimizer = (
            cr.optim.Adam(learning_rate=case.lr)
            if case.optimizer == "adam"
            else cr.optim.SGD(learning_rate=case.lr, momentum=0.9)
        )
    T = y if case.classification else y.reshape(-1, 1)

    class Stop(cr.Callback):
        def on_epoch_end(self, epoch, logs):
            if clock.epoch_done(net.predict):
                self.network.stop_training = True

    clock = _Clock(case, X_val, y_val, target, stop)
    net.fit(
        X,
        T,
        optimizer=optimizer,
        epochs=case.max_epochs,
        batch_size=case.batch_size,
        callbacks=[Stop()],
        verbose=0,
        seed=seed,
    )
    return clock.result()


def run_torch(case, data, seed, target, stop=True):
    import torch

    X, y, X_val, y_val = data
    torch.manual_seed(seed)
    layers = []
    for position, (n_in, n_out) in enumerate(pairwise(case.sizes)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if position < len(case.sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = (
        torch.optim.Adam(model.parameters(), lr=case.lr)
        if case.optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=case.lr, momentum=0.9)
    )
    criterion = torch.nn.CrossEntropyLoss() if case.classification else torch.nn.MSELoss()
    inputs = torch.from_numpy(X)
    targets = torch.from_numpy(y) if case.classification else torch.from_numpy(y).reshape(-1, 1)
    validation = torch.from_numpy(X_val)

    def predict(_):
        with torch.no_grad():
            return model(validation).numpy()

    clock = _Clock(case, X_val, y_val, target, stop)
    for _ in range(case.max_epochs):
        order = torch.randperm(inputs.shape[0])
        for start in range(0, inputs.shape[0], case.batch_size):
            index = order[start : start + case.batch_size]
            optimizer.zero_grad()
            criterion(model(inputs[index]), targets[index]).backward()
            optimizer.step()
        if clock.epoch_done(predict):
            break
    return clock.result()


def run_sklearn(case, data, seed, target, stop=True):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    X, y, X_val, y_val = data
    estimator = MLPClassifier if case.classification else MLPRegressor
    model = estimator(
        hidden_layer_sizes=tuple(case.sizes[1:-1]),
        solver=case.optimizer,
        learning_rate_init=case.lr,
        momentum=0.9,
        nesterovs_momentum=False,
        batch_size=case.batch_size,
        alpha=0.0,
        random_state=seed,
    )
    classes = np.unique(y) if case.classification else None

    def predict(X_):
        return model.predict_proba(X_) if case.classification else model.predict(X_)

    clock = _Clock(case, X_val, y_val, target, stop)
    for _ in range(case.max_epochs):
        if case.classification:
            model.partial_fit(X, y, classes=classes)
        else:
            model.partial_fit(X, y)
        if clock.epoch_done(predict):
            break
    return clock.result()


LIBRARIES = {"chainrule": run_chainrule, "PyTorch": run_torch, "scikit-learn": run_sklearn}


def rounds(case, data, seeds, contenders, stop=True):
    """``{name: [Result per seed]}``, the contenders alternating within each seed's round and
    their order rotating from one round to the next."""
    results = {name: [] for name in contenders}
    names = list(contenders)
    for i, seed in enumerate(seeds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            bench._settle()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results[name].append(contenders[name](case, data, seed, case.target, stop))
    return results


def _spread(values, digits=2) -> str:
    values = list(values)
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.{digits}f}"
    return f"{middle:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def table(case: Case, results: dict) -> list[str]:
    metric = "accuracy" if case.classification else "R²"
    rows = [
        f"Target: validation {metric} >= {case.target}, at most {case.max_epochs} epochs; "
        f"seeds {len(next(iter(results.values())))}.",
        "",
        "| library | time to target s, median (range) | epochs to target | s per epoch | "
        f"best {metric} | reached |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        epochs = ", ".join(str(r.epochs) for r in runs)
        rows.append(
            f"| {name} | {_spread([r.seconds for r in runs])} | {epochs} | "
            f"{_spread([r.per_epoch for r in runs], 3)} | "
            f"{_spread([max(r.scores) for r in runs], 4)} | "
            f"{sum(r.reached for r in runs)}/{len(runs)} |"
        )
    rows += ["", "| ratio | per-round median (range) | ratio of the medians |", "|---|---:|---:|"]
    ours = results["chainrule"]
    for name, runs in results.items():
        if name == "chainrule":
            continue
        for what, value in (("time to target", "seconds"), ("per epoch", "per_epoch")):
            per_round = [
                getattr(a, value) / getattr(b, value) for a, b in zip(ours, runs, strict=True)
            ]
            of_medians = statistics.median(getattr(a, value) for a in ours) / statistics.median(
                getattr(b, value) for b in runs
            )
            rows.append(f"| chainrule / {name}, {what} | {_spread(per_round)} | {of_medians:.2f} |")
    return rows


INITS = {
    "he_normal": {"weight_init": "he_normal"},
    "he_uniform": {"weight_init": "he_uniform"},
    "glorot_uniform": {"weight_init": "glorot_uniform"},
    "pytorch_linear": {"weight_init": "pytorch_linear"},
    "pytorch_linear, biases too": {"weight_init": "pytorch_linear", "bias_init": "pytorch_linear"},
}


def init_table(case: Case, data, seeds) -> list[str]:
    """chainrule alone with each initializer (hidden layers and output alike), to the target."""
    contenders = {
        name: (lambda c, d, s, t, stop, o=options: run_chainrule(c, d, s, t, stop, **o))
        for name, options in INITS.items()
    }
    results = rounds(case, data, seeds, contenders)
    rows = [
        "| initializer | epochs to target, per seed | median epochs | time to target s, "
        "median (range) | score after epoch 1, median | reached |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        rows.append(
            f"| {name} | {', '.join(str(r.epochs) for r in runs)} | "
            f"{statistics.median(r.epochs for r in runs):g} | "
            f"{_spread([r.seconds for r in runs])} | "
            f"{statistics.median(r.scores[0] for r in runs):.4f} | "
            f"{sum(r.reached for r in runs)}/{len(runs)} |"
        )
    return rows


def calibrate(case: Case, data, seed) -> list[str]:
    rows = [f"| {case.name} | library | best score | epoch of best | final score |"]
    for name, run in LIBRARIES.items():
        result = run(case, data, seed, np.inf, stop=False)
        best = int(np.argmax(result.scores))
        rows.append(
            f"| | {name} | {result.scores[best]:.4f} | {best + 1} | {result.scores[-1]:.4f} |"
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=list(CASES), action="append")
    parser.add_argument("--quick", action="store_true", help="one seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--inits", action="store_true", help="compare chainrule's initializers")
    parser.add_argument("--calibrate", action="store_true", help="scores after max_epochs")
    args = parser.parse_args(argv)
    seeds = range(1 if args.quick else args.seeds)
    for name in args.case or list(CASES):
        case = CASES[name]
        case.target = TARGETS[name]
        data = case.data()
        if args.calibrate:
            print("\n".join(calibrate(case, data, 0)))
            continue
        print(f"\n#### {name}\n")
        if args.inits:
            print("\n".join(init_table(case, data, seeds)))
        else:
            print("\n".join(table(case, rounds(case, data, seeds, LIBRARIES))))


if __name__ == "__main__":
    main()
