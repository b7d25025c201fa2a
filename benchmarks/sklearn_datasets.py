"""chainrule's scikit-learn estimators against scikit-learn's MLP on its bundled datasets.

Both with default settings behind a StandardScaler, 5-fold cross-validated for random_state
0..4 (the score is the mean over the five; small datasets make one seed's score noisy); the
timing is the median seconds of one cross-validation, both measured in one process.
Run: python benchmarks/sklearn_datasets.py  (prints a Markdown table)
"""

from __future__ import annotations

import statistics
import time
import warnings

from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import MLPClassifier, MLPRegressor

DATASETS = [
    ("digits", load_digits, "classifier"),
    ("breast cancer", load_breast_cancer, "classifier"),
    ("wine", load_wine, "classifier"),
    ("iris", load_iris, "classifier"),
    ("diabetes", load_diabetes, "regressor"),
]


SEEDS = range(5)


def measure(make, X, y, repeats):
    """Mean 5-fold score over five random_states; median seconds of one cross-validation."""
    seconds, scores = [], []
    for _ in range(repeats):
        for seed in SEEDS:
            started = time.perf_counter()
            scores.append(
                cross_val_score(make_pipeline(StandardScaler(), make(seed)), X, y, cv=5).mean()
            )
            seconds.append(time.perf_counter() - started)
    return statistics.fmean(scores), statistics.stdev(scores), statistics.median(seconds)


def main(repeats: int = 1) -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        "| dataset | metric | chainrule score ± seed sd | scikit-learn score ± seed sd | "
        "chainrule s | scikit-learn s | time ratio |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, loader, kind in DATASETS:
        X, y = loader(return_X_y=True)
        ours = MLPClassifier if kind == "classifier" else MLPRegressor
        theirs = SkClassifier if kind == "classifier" else SkRegressor
        measure(lambda seed, make=ours: make(random_state=seed), X, y, 1)  # warm-up
        ours_score, ours_sd, ours_time = measure(
            lambda seed, make=ours: make(random_state=seed), X, y, repeats
        )
        theirs_score, theirs_sd, theirs_time = measure(
            lambda seed, make=theirs: make(random_state=seed), X, y, repeats
        )
        metric = "accuracy" if kind == "classifier" else "R²"
        print(
            f"| {name} | {metric} | {ours_score:.4f} ± {ours_sd:.4f} | {theirs_score:.4f} ± "
            f"{theirs_sd:.4f} | {ours_time:.2f} | {theirs_time:.2f} | "
            f"{ours_time / theirs_time:.2f} |"
        )


if __name__ == "__main__":
    main()
