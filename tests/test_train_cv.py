"""``chainrule train --cv K`` and :func:`chainrule.tables.model.cross_validate`: K models, each
trained on all the rows but one fold (stratified by class, drawn by the seed) and scored on that
fold with ``evaluate``'s metrics; each fold's line, their mean and standard deviation; no model
unless --out, which trains the final model as without --cv; and the errors."""

import csv
import shutil

import numpy as np
import pytest

from chainrule import datasets
from chainrule.cli import main
from chainrule.tables.model import (
    TabularModel,
    cross_validate,
    cross_validation_folds,
    train_table,
)
from chainrule.tables.reading import DataError, read_csv


def run(capsys, *argv):
    """The exit code, stdout and stderr of ``chainrule ARGV`` (argparse's errors exit)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def iris(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where train would write model.npz
    path = tmp_path / "iris.csv"
    shutil.copy(datasets.iris_csv_path(), path)
    return path


def _table_rows(out: str) -> dict[str, list[str]]:
    """The --cv table's rows by their first cell (a fold's number, mean, std)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["fold", "rows"])
    rows = {}
    for line in lines[start:]:
        cells = line.split()
        if not cells or not (cells[0].isdigit() or cells[0] in ("fold", "mean", "std")):
            break
        rows[cells[0]] = cells
    return rows


# -- the folds -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cv", [2, 3, 7])
def test_the_folds_partition_the_rows_and_each_class_evenly(cv):
    labels = np.repeat([0, 1, 2], [23, 9, 40])
    folds = cross_validation_folds(len(labels), cv, 5, labels)
    assert len(folds) == cv
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(len(labels)))
    sizes = [len(fold) for fold in folds]
    assert max(sizes) - min(sizes) <= 1
    for c in range(3):
        counts = [int(np.sum(labels[fold] == c)) for fold in folds]
        assert max(counts) - min(counts) <= 1, (c, counts)


def test_the_seed_draws_the_folds():
    first, again = cross_validation_folds(50, 5, 3), cross_validation_folds(50, 5, 3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(cross_validation_folds(50, 5, 4)[0], first[0])


def test_each_fold_is_the_route_trained_on_the_other_rows_and_scored_on_its_own():
    table = read_csv(datasets.iris_csv_path())
    results = cross_validate(table, "species", 3, epochs=5, seed=2, verbose=0)
    labels = np.unique(table.column("species"), return_inverse=True)[1]
    folds = cross_validation_folds(table.n_rows, 3, 2, labels)
    for result, held_out in zip(results, folds, strict=True):
        kept = np.setdiff1d(np.arange(table.n_rows), held_out)
        model = train_table(table.take(kept), "species", epochs=5, seed=2, verbose=0).model
        assert result == {
            "fold": result["fold"],
            "epochs": 5,
            **model.evaluate(table, rows=held_out),
        }
    assert [r["fold"] for r in results] == [1, 2, 3] and sum(r["rows"] for r in results) == 150


# -- the command ---------------------------------------------------------------------------------


def test_cv_prints_each_fold_the_mean_and_std_and_writes_nothing(capsys, iris):
    code, out, _ = run(
        capsys, "train", iris, "--target", "species", "--cv", "3", "--epochs", "20", "--quiet"
    )
    assert code == 0, out
    assert out.startswith("3-fold cross-validation of 'species' (classification; shuffled folds ")
    rows = _table_rows(out)
    header = "fold rows accuracy balanced_accuracy f1_macro roc_auc log_loss"
    assert " ".join(rows["fold"]) == header
    folds = np.array([[float(v) for v in rows[k][2:]] for k in ("1", "2", "3")])
    assert [rows[k][1] for k in ("1", "2", "3")] == ["50", "50", "50"]
    np.testing.assert_allclose([float(v) for v in rows["mean"][1:]], folds.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose([float(v) for v in rows["std"][1:]], folds.std(axis=0), atol=1e-4)
    assert "no model written" in out and not (iris.parent / "model.npz").exists()


def test_cv_with_out_trains_the_final_model_as_without_cv(capsys, iris, tmp_path):
    options = ("--target", "species", "--epochs", "20", "--quiet", "--seed", "3")
    code, out, _ = run(capsys, "train", iris, *options, "--cv", "2", "--out", tmp_path / "a.npz")
    assert code == 0 and "the final model, trained on all 150 rows as without --cv:" in out
    assert out.rstrip().endswith(f"model written to {tmp_path / 'a.npz'}")
    assert run(capsys, "train", iris, *options, "--out", tmp_path / "b.npz")[0] == 0
    a, b = (TabularModel.load(tmp_path / name) for name in ("a.npz", "b.npz"))
    assert np.array_equal(a.network.parameters, b.network.parameters)


def test_cv_on_a_regression_target_shows_evaluates_regression_metrics(capsys, regression_csv):
    argv = ("train", regression_csv, "--target", "target", "--cv", 4, "--epochs", 5, "--quiet")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "(regression; shuffled folds, --seed 0)" in out
    rows = _table_rows(out)
    assert rows["fold"] == ["fold", "rows", "loss", "rmse", "mae", "r2"]
    assert [rows[k][1] for k in ("1", "2", "3", "4")] == ["75"] * 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cv", "1"], "argument --cv: expected a whole number >= 2, got '1'"),
        (["--cv", "x"], "argument --cv: expected a whole number >= 2, got 'x'"),
        (
            ["--cv", "51"],
            "--cv 51 holds out rows of every class in each of its 51 folds, and the class "
            "'setosa' has 50 rows; pass at most --cv 50",
        ),
        (
            ["--cv", "3", "--distributed"],
            "--cv 3 trains its 3 models one after another in one process; it cannot run "
            "with --distributed",
        ),
        (
            ["--cv", "3", "--plot", "p.png"],
            "--plot is for the final model, which --cv trains only with --out FILE",
        ),
        (["--cv", "3", "--boundary", "b.png"], "--boundary is for the final model"),
    ],
)
def test_cv_errors_are_one_line_and_exit_2(capsys, iris, argv, message):
    code, out, err = run(capsys, "train", iris, "--target", "species", "--quiet", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert out == "" and not any(iris.parent.glob("*.npz")) and not any(iris.parent.glob("*.png"))


def _small_csv(path, labels):
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["x", "label"])
        writer.writerows([i * 0.5, label] for i, label in enumerate(labels))
    return path


def test_more_folds_than_rows_or_a_class_of_one_row(capsys, tmp_path):
    values = _small_csv(tmp_path / "values.csv", [f"{v:.3f}" for v in np.linspace(0, 1, 6)])
    code, _, err = run(
        capsys, "train", values, "--target", "label", "--task", "regression", "--cv", "7"
    )
    expected = "values.csv: --cv 7 needs at least 7 rows, one per fold, and the table has 6"
    assert code == 2 and f"{expected}; pass at most --cv 6" in err
    single = _small_csv(tmp_path / "single.csv", ["a"] * 5 + ["b"] * 5 + ["c"])
    code, _, err = run(capsys, "train", single, "--target", "label", "--cv", "2")
    assert (
        code == 2 and "the class 'c' has 1 row; cross-validation needs 2 rows of every class" in err
    )


def test_a_fold_that_diverges_exits_1_naming_it(capsys, regression_csv, tmp_path):
    code, out, err = run(
        capsys, "train", regression_csv, "--target", "target", "--cv", "2", "--quiet",
        "--optimizer", "sgd", "--learning-rate", "1e6", "--out", tmp_path / "m.npz",
    )  # fmt: skip
    assert (
        code == 1
        and err.startswith("chainrule: error: fold 1 of 2: ")
        and "Nothing was written" in err
    )
    assert not (tmp_path / "m.npz").exists()


def test_cross_validate_checks_its_arguments():
    table = read_csv(datasets.iris_csv_path())
    with pytest.raises(ValueError, match="'cv' must be an integer >= 2, got 1"):
        cross_validate(table, "species", 1)
    with pytest.raises(DataError, match="cv=60 holds out rows of every class"):
        cross_validate(table, "species", 60)
    with pytest.raises(ValueError, match="'group' must be None"):
        cross_validate(table, "species", 3, group=object())


def test_without_quiet_each_folds_progress_is_headed_by_its_number(capsys, iris):
    code, _, err = run(capsys, "train", iris, "--target", "species", "--cv", "2", "--epochs", "2")
    assert code == 0 and err.index("fold 1 of 2") < err.index("fold 2 of 2")
