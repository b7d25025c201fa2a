"""Weights on the table route (issue 28): ``train --sample-weight COL`` and ``--class-weight``,
``TabularModel.train(sample_weight=..., class_weight=...)``: what they do to the model, the
validation loss and the messages; and fit's convention, ``sum_i w_i L_i / n``, which makes
weights that are all 2 a doubled loss, not the same model."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.tables.model import train_table
from chainrule.tables.reading import DataError, as_table


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def imbalanced(n=600, seed=0):
    """Two overlapping classes, 'rare' about 11% of the rows, and a weight column of 2s."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = np.where(x[:, 0] + 0.5 * rng.normal(size=n) > 1.3, "rare", "common")
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "w": 2.0, "y": y})


def write_csv(path, frame):
    frame.to_csv(path, index=False)
    return path


def minority_recall(model, frame):
    return model.evaluate(frame)["per_class"]["rare"]["recall"]


def test_balanced_class_weights_raise_the_minority_class_s_recall():
    frame = imbalanced()
    options = {"epochs": 30, "seed": 0, "drop": ["w"]}
    plain = cr.TabularModel.train(frame, "y", **options)
    balanced = cr.TabularModel.train(frame, "y", class_weight="balanced", **options)
    assert minority_recall(balanced, frame) > minority_recall(plain, frame) + 0.15
    by_label = cr.TabularModel.train(frame, "y", class_weight={"rare": 8.0}, **options)
    assert minority_recall(by_label, frame) > minority_recall(plain, frame) + 0.15


def test_class_weight_on_the_command_line_balanced_or_json(capsys, tmp_path):
    data = write_csv(tmp_path / "d.csv", imbalanced().drop(columns="w"))
    recalls = {}
    for name, extra in (
        ("plain", []),
        ("balanced", ["--class-weight", "balanced"]),
        ("json", ["--class-weight", '{"rare": 8, "common": 1}']),
    ):
        model = tmp_path / f"{name}.npz"
        argv = ["train", data, "--target", "y", "--epochs", "30", "--out", model, "--quiet"]
        assert run(capsys, *argv, *extra)[0] == 0
        code, out, _ = run(capsys, "evaluate", model, data, "--format", "json")
        recalls[name] = json.loads(out)["per_class"]["rare"]["recall"]
    assert recalls["balanced"] > recalls["plain"] + 0.15
    assert recalls["json"] > recalls["plain"] + 0.15


def sgd_run(table, **options):
    return train_table(table, "y", epochs=4, seed=0, verbose=0, optimizer="sgd", **options)


def test_weights_of_two_double_the_loss_as_twice_the_learning_rate_does_with_sgd():
    """fit minimises sum_i w_i L_i / n: weights of 2 double every loss and gradient, so plain
    SGD takes the steps of twice the rate, bit for bit; the kept epoch is the same."""
    table = as_table(imbalanced(200))
    doubled = sgd_run(table, sample_weight="w", learning_rate=0.01)
    plain = sgd_run(table, drop=["w"], learning_rate=0.02)
    assert np.array_equal(doubled.model.network.parameters, plain.model.network.parameters)
    for key in ("loss", "val_loss"):
        assert doubled.history[key] == [2 * v for v in plain.history[key]]
    assert doubled.model.kept_epoch == plain.model.kept_epoch
    same_rate = sgd_run(table, drop=["w"], learning_rate=0.01)
    assert not np.array_equal(doubled.model.network.parameters, same_rate.model.network.parameters)


def test_weights_of_two_give_adam_nearly_the_same_model_on_the_command_line(capsys, tmp_path):
    """Adam's step m / (sqrt(v) + epsilon) does not depend on the gradient's scale but for its
    epsilon: weights of 2 give the model of no weights to about 1e-4, not bit for bit."""
    data = write_csv(tmp_path / "d.csv", imbalanced(300))
    models = {}
    for name, extra in (("none", ["--drop", "w"]), ("two", ["--sample-weight", "w"])):
        models[name] = tmp_path / f"{name}.npz"
        argv = ["train", data, "--target", "y", "--epochs", "5", "--quiet", "--out", models[name]]
        assert run(capsys, *argv, *extra)[0] == 0
    none, two = (cr.TabularModel.load(models[k]) for k in ("none", "two"))
    assert none.features == two.features == ["a", "b"]
    difference = np.abs(none.network.parameters - two.network.parameters).max()
    assert 0 < difference < 1e-3
    assert two.network.history["loss"][0] == pytest.approx(2 * none.network.history["loss"][0])


def test_the_validation_rows_keep_their_weights_class_weights_included():
    """With keep='last' the model is the last epoch's: its validation loss, recomputed on the
    held-out rows with their weights (sample weight times the balanced class weight counted
    over every row), is the last val_loss of the history."""
    frame = imbalanced(300)
    frame["w"] = np.random.default_rng(5).uniform(0.5, 3.0, 300)
    run = train_table(
        as_table(frame), "y", epochs=3, seed=0, verbose=0, keep="last",
        sample_weight="w", class_weight="balanced",
    )  # fmt: skip
    labels = frame["y"].to_numpy()
    counts = {label: np.sum(labels == label) for label in ("common", "rare")}
    balanced = np.array([300 / (2 * counts[label]) for label in labels])
    rows = run.validation_rows
    model = run.model
    X = model.inputs(as_table(frame.iloc[rows]))
    T = model.labels_to_indices(as_table(frame.iloc[rows]))
    weights = frame["w"].to_numpy()[rows] * balanced[rows]
    expected = model.network.compute_loss(X, T, sample_weight=weights)
    assert run.history["val_loss"][-1] == pytest.approx(expected, rel=1e-6)
    unweighted = model.network.compute_loss(X, T)
    assert abs(expected - unweighted) > 1e-3 * unweighted


def test_a_weight_array_equals_the_weight_column():
    frame = imbalanced(200)
    frame["w"] = np.random.default_rng(1).uniform(0, 2, 200)
    by_name = cr.TabularModel.train(frame, "y", sample_weight="w", epochs=3, seed=0)
    by_array = cr.TabularModel.train(
        frame.drop(columns="w"), "y", sample_weight=frame["w"].to_numpy(), epochs=3, seed=0
    )
    assert np.array_equal(by_name.network.parameters, by_array.network.parameters)


@pytest.mark.parametrize(
    "value,message",
    [
        ("", "the sample-weight column 'w' has a missing value in row 5; every row needs a"),
        ("-1", "the sample-weight column 'w' holds -1 in row 5; a weight must be a finite"),
        ("inf", "column 'w' holds inf (written as such"),
        ("heavy", "column 'w' is not numeric: row 5 holds 'heavy'"),
    ],
)
def test_a_bad_weight_is_one_line_naming_the_row(capsys, tmp_path, value, message):
    rows = [["a", "w", "y"]] + [[str(i % 5), "1", "xy"[i % 2]] for i in range(20)]
    rows[4][1] = value  # the file's row 5
    path = tmp_path / "w.csv"
    with path.open("w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    argv = ["train", path, "--target", "y", "--sample-weight", "w", "--epochs", "1"]
    code, out, err = run(capsys, *argv, "--out", tmp_path / "m.npz")
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "m.npz").exists()


def test_a_weight_column_that_is_not_one_is_named(capsys, tmp_path):
    path = write_csv(tmp_path / "d.csv", imbalanced(40).rename(columns={"w": "weight"}))
    argv = ["train", path, "--target", "y", "--epochs", "1", "--out", tmp_path / "m.npz"]
    code, _, err = run(capsys, *argv, "--sample-weight", "wieght")
    assert code == 2 and err == (
        f"chainrule: error: {path}: the sample-weight column 'wieght' is not a column "
        "(did you mean 'weight'?); the columns are a, b, weight, y\n"
    )
    code, _, err = run(capsys, *argv, "--sample-weight", "y")
    assert code == 2 and "the sample-weight column 'y' is the target" in err
    code, _, err = run(capsys, *argv, "--sample-weight", "weight", "--features", "a,weight")
    assert code == 2 and "'weight' is named as a feature too" in err


def test_class_weights_name_an_unknown_class_or_a_bad_weight(capsys, tmp_path):
    path = write_csv(tmp_path / "d.csv", imbalanced(40))
    argv = ["train", path, "--target", "y", "--epochs", "1", "--out", tmp_path / "m.npz"]
    code, _, err = run(capsys, *argv, "--class-weight", '{"rar": 3}')
    assert code == 2 and err == (
        "chainrule: error: the class weights name 'rar', which is not a class of 'y' (did you "
        "mean 'rare'?); its classes are common, rare\n"
    )
    code, _, err = run(capsys, *argv, "--class-weight", '{"rare": -2}')
    assert code == 2 and "the class weight of 'rare' must be a number >= 0, got -2" in err
    with pytest.raises(SystemExit) as raised:  # a usage error: argparse's exit
        run(capsys, *argv, "--class-weight", "balance")
    err = capsys.readouterr().err
    assert raised.value.code == 2 and err.startswith(
        "chainrule: error: argument --class-weight: expected balanced or a JSON object of "
        "weights by label, such as '{\"a\": 2, \"b\": 1}', got 'balance'"
    )
    assert not (tmp_path / "m.npz").exists()


def test_class_weights_on_a_regression_target_are_refused(regression_csv):
    table = as_table(pd.read_csv(regression_csv))
    with pytest.raises(DataError, match="class weights are for classification, and 'target'"):
        train_table(table, "target", class_weight="balanced", epochs=1, verbose=0)


def test_a_weight_array_of_the_wrong_length_or_kind_is_refused():
    frame = imbalanced(40)
    with pytest.raises(ValueError, match=r"one weight per row, shape \(40,\), got shape \(39,\)"):
        cr.TabularModel.train(frame, "y", sample_weight=np.ones(39), epochs=1)
    with pytest.raises(ValueError, match="a column name or an array of numbers >= 0"):
        cr.TabularModel.train(frame, "y", sample_weight=[{}] * 40, epochs=1)
    weights = np.ones(40)
    weights[7] = np.nan
    with pytest.raises(DataError, match="'sample_weight' has a missing value in the row with"):
        cr.TabularModel.train(frame, "y", sample_weight=weights, epochs=1)


def test_weights_under_mpirun_on_two_ranks_equal_one_process(tmp_path):
    """Each rank reads its part of the file, weight column included; the weights gathered over
    the ranks (and the balanced class weights, counted over every row) give the one-process
    model and validation losses."""
    pytest.importorskip("mpi4py")
    mpirun = shutil.which("mpirun") or shutil.which("mpirun", path=str(Path(sys.executable).parent))
    if mpirun is None:
        pytest.skip("mpirun (Open MPI) is not installed")
    frame = imbalanced(120)
    frame["w"] = np.random.default_rng(2).uniform(0.2, 3.0, 120).round(3)
    path = write_csv(tmp_path / "d.csv", frame)
    common = ["train", str(path), "--target", "y", "--sample-weight", "w", "--epochs", "4"]
    common += ["--class-weight", "balanced", "--hidden", "8", "--quiet"]
    root = Path(__file__).resolve().parents[1]
    job = subprocess.run(
        [mpirun, "-n", "2", "--allow-run-as-root", "--oversubscribe", sys.executable, "-m"]
        + ["chainrule.cli", *common, "--distributed", "--out", str(tmp_path / "two.npz")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "MPIEXEC_TIMEOUT": "110"},
    )
    assert job.returncode == 0, job.stderr
    assert main([*common, "--out", str(tmp_path / "one.npz")]) == 0
    two, one = (cr.TabularModel.load(tmp_path / f"{name}.npz") for name in ("two", "one"))
    gap = np.abs(two.network.parameters - one.network.parameters).max()
    assert gap < 1e-5 * np.abs(one.network.parameters).max()  # float32 sums in another order
    assert two.network.history["val_loss"] == pytest.approx(
        one.network.history["val_loss"], rel=1e-5
    )
