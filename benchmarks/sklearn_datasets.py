"""chainrule's scikit-learn estimators against scikit-learn's MLP: bundled datasets, sparse input.

Bundled datasets: default settings (diabetes with max_iter=2000) behind a StandardScaler,
5-fold cross-validated for random_state 0..4 (the score is the mean over the 25 folds). The
two libraries run alternately, one cross-validation each in turn, in one process; the time
ratio is the median of the per-seed ratios, which is robust to the load of a shared machine.

Sparse input: a 3000 x 100000 CSR matrix with 60000 non-zeros and binary labels,
``MLPClassifier(random_state=0, max_iter=SPARSE_EPOCHS)``; seconds (alternating runs) and the
peak of memory allocated during ``fit`` (tracemalloc, in a separate run of each).

Run: python benchmarks/sklearn_datasets.py [datasets|sparse]  (prints Markdown tables)
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import MLPClassifier, MLPRegressor

DATASETS = [
    ("digits", load_digits, "classifier", {}),
    ("breast cancer", load_breast_cancer, "classifier", {}),
    ("wine", load_wine, "classifier", {}),
    ("iris", load_iris, "classifier", {}),
    ("diabetes", load_diabetes, "regressor", {"max_iter": 2000}),
]
SEEDS = range(5)
SPARSE_EPOCHS = 10
SPARSE_ROUNDS = 3


def _cross_validate(make, X, y) -> tuple[float, float]:
    started = time.perf_counter()
    score = cross_val_score(make_pipeline(StandardScaler(), make()), X, y, cv=5).mean()
    return score, time.perf_counter() - started


def datasets() -> None:
    print(
        "| dataset | metric | chainrule score ± seed sd | scikit-learn score ± seed sd | "
        "chainrule s | scikit-learn s | time ratio (median) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, loader, kind, params in DATASETS:
        X, y = loader(return_X_y=True)
        ours = MLPClassifier if kind == "classifier" else MLPRegressor
        theirs = SkClassifier if kind == "classifier" else SkRegressor
        results = {"chainrule": [], "scikit-learn": []}
        ratios = []
        for seed in SEEDS:
            for label, cls in (("chainrule", ours), ("scikit-learn", theirs)):
                results[label].append(
                    _cross_validate(lambda c=cls, s=seed, p=params: c(random_state=s, **p), X, y)
                )
            ratios.append(results["chainrule"][-1][1] / results["scikit-learn"][-1][1])
        cells = []
        for label in results:
            scores = [score for score, _ in results[label]]
            cells.append(f"{statistics.fmean(scores):.4f} ± {statistics.stdev(scores):.4f}")
        seconds = [statistics.median(s for _, s in results[label]) for label in results]
        metric = "accuracy" if kind == "classifier" else "R²"
        print(
            f"| {name} | {metric} | {cells[0]} | {cells[1]} | {seconds[0]:.2f} | "
            f"{seconds[1]:.2f} | {statistics.median(ratios):.2f} |"
        )


def _sparse_data():
    X = scipy.sparse.random(3000, 100_000, density=60_000 / 3e8, format="csr", random_state=0)
    y = np.random.default_rng(0).integers(0, 2, 3000)
    return X, y


def _fit(cls, X, y, trace: bool):
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    model = cls(random_state=0, max_iter=SPARSE_EPOCHS).fit(X, y)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return model.loss_, seconds, peak / 2**20


def sparse() -> None:
    X, y = _sparse_data()
    rows = {"chainrule": MLPClassifier, "scikit-learn": SkClassifier}
    seconds = {label: [] for label in rows}
    for _ in range(SPARSE_ROUNDS):
        for label, cls in rows.items():
            seconds[label].append(_fit(cls, X, y, trace=False)[1])
    ratios = [a / b for a, b in zip(seconds["chainrule"], seconds["scikit-learn"], strict=True)]
    print(
        f"\nSparse input: {X.shape[0]} x {X.shape[1]} CSR, {X.nnz} non-zeros, "
        f"{SPARSE_EPOCHS} epochs\n"
    )
    print("| library | final loss_ | seconds (median of 3) | peak MiB allocated in fit |")
    print("|---|---:|---:|---:|")
    for label, cls in rows.items():
        loss, _, peak = _fit(cls, X, y, trace=True)
        print(f"| {label} | {loss:.10f} | {statistics.median(seconds[label]):.2f} | {peak:.0f} |")
    print(
        f"\ntime ratio chainrule / scikit-learn, median of per-round ratios: "
        f"{statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    warnings.simplefilter("ignore", ConvergenceWarning)
    which = sys.argv[1:] or ["datasets", "sparse"]
    if "datasets" in which:
        datasets()
    if "sparse" in which:
        sparse()
