"""train, evaluate, predict, info, gradcheck, datasets: end to end on real files, in-process
and through the installed ``chainrule`` command; every bad input is one line and exit 2."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule import TabularModel, datasets
from chainrule.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def iris(tmp_path):
    path = tmp_path / "iris.csv"
    shutil.copy(datasets.iris_csv_path(), path)
    return path


def test_train_evaluate_predict_info_gradcheck_on_iris(capsys, tmp_path, iris):
    model = tmp_path / "iris.npz"
    code, out, _ = run(
        capsys,
        "train",
        iris,
        "--target",
        "species",
        "--epochs",
        "80",
        "--out",
        model,
        "--quiet",
        "--plot",
        tmp_path / "curves.png",
    )
    assert code == 0 and "validation (15 rows)" in out and model.exists()
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"

    code, out, _ = run(capsys, "evaluate", model, iris, "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["accuracy"] > 0.9 and result["rows"] == 150
    assert np.array(result["confusion"]).sum() == 150 and result["classes"][0] == "setosa"

    predictions = tmp_path / "pred.csv"
    assert run(capsys, "predict", model, iris, "-o", predictions)[0] == 0
    with predictions.open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 150 and rows[0]["prediction"] in {"setosa", "versicolor", "virginica"}
    probabilities = [float(rows[0][f"p_{c}"]) for c in ("setosa", "versicolor", "virginica")]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    agreement = np.mean([r["prediction"] == r["species"] for r in rows])
    assert agreement == pytest.approx(result["accuracy"])

    code, out, _ = run(capsys, "info", model, "--format", "json")
    info = json.loads(out)
    assert info["sizes"] == [4, 64, 32, 3] and info["epochs"] == 80
    assert info["classes"] == ["setosa", "versicolor", "virginica"]

    code, out, _ = run(capsys, "gradcheck", model, iris)
    assert code == 0 and out.startswith("ok: worst relative error")


def test_regression_task_is_inferred_and_values_come_back_in_their_units(
    capsys, tmp_path, regression_csv
):
    model = tmp_path / "reg.npz"
    code, out, _ = run(
        capsys,
        "train",
        regression_csv,
        "--target",
        "target",
        "--epochs",
        "150",
        "--learning-rate",
        "0.01",
        "--out",
        model,
        "--quiet",
    )
    assert code == 0 and "regression of 'target'" in out
    code, out, _ = run(capsys, "evaluate", model, regression_csv, "--format", "json")
    assert json.loads(out)["r2"] > 0.98
    code, out, _ = run(capsys, "predict", model, regression_csv)
    rows = list(csv.DictReader(out.splitlines()))
    errors = [abs(float(r["prediction"]) - float(r["target"])) for r in rows]
    assert np.median(errors) < 0.3  # the target spans about 10 units: predictions are unscaled


def test_builtin_data_and_decision_boundary(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "train",
        "--data",
        "moons",
        "--epochs",
        "30",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
        "--boundary",
        tmp_path / "b.png",
    )
    assert code == 0 and (tmp_path / "b.png").stat().st_size > 1000
    code, out, _ = run(capsys, "datasets")
    assert [line.split()[0] for line in out.splitlines()] == [
        "xor",
        "spirals",
        "moons",
        "circles",
        "iris",
    ]


def test_evaluate_draws_a_confusion_matrix(capsys, tmp_path, iris):
    run(
        capsys,
        "train",
        iris,
        "--target",
        "species",
        "--epochs",
        "5",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
    )
    code, out, _ = run(capsys, "evaluate", tmp_path / "m.npz", iris, "--plot", tmp_path / "c.png")
    assert code == 0 and "confusion matrix (rows: true class" in out
    assert (tmp_path / "c.png").exists()


BAD_CSV = {
    "empty.csv": ("", "the file is empty"),
    "nohead.csv": ("1,2\n3,4\n", "holds numbers, not column names"),
    "text.csv": ("a,y\n1,0\nx,1\n", "column 'a' is not numeric: row 3 holds 'x'"),
    "missing.csv": ("a,y\n1,0\n,1\n", "column 'a' has a missing value in row 3"),
    "nan.csv": ("a,y\n1,0\nnan,1\n", "missing value in row 3"),
    "single.csv": ("a,y\n1,k\n2,k\n", "holds a single class 'k'"),
}


@pytest.mark.parametrize("name", sorted(BAD_CSV))
def test_bad_training_data_is_one_line_and_exit_two(capsys, tmp_path, name):
    text, message = BAD_CSV[name]
    (tmp_path / name).write_text(text)
    argv = ["train", tmp_path / name, "--target", "y", "--quiet", "--out", tmp_path / "m.npz"]
    code, out, err = run(capsys, *argv, "--impute", "none")  # a missing cell refused, not filled
    lines = err.splitlines()  # notes on tiny data (one batch, no validation) come first
    assert code == 2 and message in lines[-1] and lines[-1].startswith("chainrule: error: ")
    assert all(line.startswith("chainrule: warning: ") for line in lines[:-1])
    assert not (tmp_path / "m.npz").exists()


def test_bad_arguments(capsys, tmp_path, iris):
    with pytest.raises(SystemExit):
        run(capsys, "train", iris, "--target", "species", "--validation-split", "1.5")
    assert (
        "argument --validation-split: expected a number >= 0 and < 1, got '1.5'"
        in capsys.readouterr().err
    )
    assert "no column named 'kind'" in run(capsys, "train", iris, "--target", "kind")[2]
    assert (
        "pass --target COLUMN to name the column to predict, e.g. --target species"
        in (run(capsys, "train", iris)[2])
    )
    assert "no such file" in run(capsys, "train", tmp_path / "x.csv", "--target", "y")[2]


def test_train_replaces_model_npz_only_when_out_names_it(capsys, monkeypatch, tmp_path, iris):
    """``--out`` defaults to model.npz, but a model.npz already in the folder (a clone's, an
    earlier run's) is replaced only when ``--out`` names it: without ``--out`` the run refuses
    before any work, in one line, exit 2, and leaves the file as it was."""
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "model.npz"
    old.write_bytes(b"the old model")
    train = ("train", iris, "--target", "species", "--epochs", "1", "--quiet")
    refusal = (
        "chainrule: error: model.npz exists; pass --out model.npz to replace it, or another --out\n"
    )
    assert run(capsys, *train) == (2, "", refusal)
    assert run(capsys, "train", tmp_path / "missing.csv", "--target", "y") == (2, "", refusal)
    assert old.read_bytes() == b"the old model" and sorted(p.name for p in tmp_path.iterdir()) == [
        "iris.csv",
        "model.npz",
    ]
    code, out, _ = run(capsys, *train, "--out", "model.npz")  # named: replaced, as before
    assert code == 0 and "model written to model.npz" in out
    assert TabularModel.load(old).target == "species"
    old.unlink()
    code, out, _ = run(capsys, *train)  # none there: the default is written
    assert code == 0 and "model written to model.npz" in out and old.exists()
    with pytest.raises(SystemExit):
        run(capsys, "train", "--help")
    assert "(default: model.npz" in " ".join(capsys.readouterr().out.split())


@pytest.fixture
def model(capsys, tmp_path, iris):
    path = tmp_path / "model.npz"
    run(capsys, "train", iris, "--target", "species", "--epochs", "3", "--quiet", "--out", path)
    return path


def test_predict_with_the_wrong_columns(capsys, tmp_path, model):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    code, _, err = run(capsys, "predict", model, tmp_path / "other.csv")
    assert code == 2 and "the model needs the column(s) sepal_length" in err


def test_evaluate_with_an_unseen_class(capsys, tmp_path, model, iris):
    text = iris.read_text().replace("setosa", "rosa", 1)
    (tmp_path / "new.csv").write_text(text)
    code, _, err = run(capsys, "evaluate", model, tmp_path / "new.csv")
    assert code == 2 and "class 'rosa', which the model never saw" in err


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda b: b[:300], "not a chainrule model file"),
        (lambda b: b"not a model at all", "not an .npz archive"),
    ],
)
def test_broken_model_files(capsys, tmp_path, model, iris, damage, message):
    model.write_bytes(damage(model.read_bytes()))
    for command in (["info", model], ["predict", model, iris], ["evaluate", model, iris]):
        code, _, err = run(capsys, *command)
        assert code == 2 and message in err and "Traceback" not in err


def test_a_newer_model_format_asks_for_an_upgrade(capsys, tmp_path, model):
    with np.load(model, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    header["format_version"] = 7
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(model, **arrays)
    code, _, err = run(capsys, "info", model)
    assert code == 2 and "format version 7" in err and "upgrade chainrule" in err


def test_a_plain_network_file_is_not_a_table_model(capsys, tmp_path):
    import chainrule as cr

    path = tmp_path / "net.npz"
    cr.save(cr.MLP([2, 2]), path)
    code, _, err = run(capsys, "info", path)
    assert code == 2 and "not one trained from a table" in err


def test_a_run_refused_for_its_input_leaves_the_old_output_intact(capsys, tmp_path, model):
    """Refused before any work (a failure after the output was written is in test_atomic)."""
    before = model.read_bytes()
    (tmp_path / "bad.csv").write_text("a,y\n1,0\nx,1\n")
    code, _, err = run(capsys, "train", tmp_path / "bad.csv", "--target", "y", "--out", model)
    assert code == 2 and "column 'a' is not numeric" in err, err
    assert model.read_bytes() == before
    predictions = tmp_path / "p.csv"
    predictions.write_text("old")
    (tmp_path / "wrong.csv").write_text("q\n1\n")
    code, _, err = run(capsys, "predict", model, tmp_path / "wrong.csv", "-o", predictions)
    assert code == 2 and "the model needs the column(s) sepal_length" in err, err
    assert predictions.read_text() == "old"


def test_installed_command_end_to_end(tmp_path, iris):
    """The real console script, in a subprocess, on real files."""
    # pip puts the script next to the interpreter, whose folder need not be on PATH
    command = shutil.which("chainrule", path=str(Path(sys.executable).parent))
    command = command or shutil.which("chainrule")
    if command is None:
        pytest.skip(f"no chainrule console script beside {sys.executable} or on PATH")

    def call(*argv):
        return subprocess.run(
            [command, *map(str, argv)], capture_output=True, text=True, cwd=tmp_path, check=False
        )

    trained = call("train", iris, "--target", "species", "--epochs", "40", "--out", "m.npz")
    assert trained.returncode == 0 and "model written to m.npz" in trained.stdout
    assert "epoch 40/40" in trained.stderr  # progress goes to stderr
    evaluated = call("evaluate", "m.npz", iris)
    assert evaluated.returncode == 0 and "accuracy" in evaluated.stdout
    predicted = call("predict", "m.npz", iris, "-o", "p.csv")
    assert predicted.returncode == 0 and (tmp_path / "p.csv").read_text().count("\n") == 151
    assert call("info", "m.npz").returncode == 0
    broken = call("info", "missing.npz")
    assert broken.returncode == 2 and broken.stderr.startswith("chainrule: error:")
    demo = call("demo", "--epochs", "20", "--steps", "50")
    assert demo.returncode == 0 and "accuracy" in demo.stdout


def test_module_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "datasets"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "iris" in result.stdout


def test_a_missing_plotting_extra_is_reported_before_training(capsys, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    code, out, err = run(
        capsys,
        "train",
        "--data",
        "moons",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
        "--plot",
        tmp_path / "c.png",
    )
    assert code == 2
    assert 'pip install "chainrule[plot]" (from a source checkout: pip install ".[plot]")' in err
    assert out == "" and not (tmp_path / "m.npz").exists()


def test_a_deviation_below_the_smallest_float_scales_by_one(tmp_path):
    """[0, 5e-324]: its deviation (2^-1075) underflows to 0; the scale is then 1, as for a
    constant column, not 0 (which divided by zero: found by the fuzz test below)."""
    from chainrule.tables.scaling import mean_and_scale

    mean, scale = mean_and_scale(np.array([[0.0, 1.0], [5e-324, 3.0]]))
    np.testing.assert_array_equal(scale, [1.0, 1.0])
    assert np.all(np.isfinite(mean))
    path = tmp_path / "tiny.csv"
    path.write_text("x,y\n" + "".join(f"{v},{i}\n" for i, v in enumerate(["0", "5e-324"] * 15)))
    assert (
        main(
            ["train", str(path), "--target", "y", "--epochs", "1", "--out", str(tmp_path / "m.npz")]
        )
        == 0
    )


def test_standardisation_takes_any_finite_column_and_matches_numpy_elsewhere():
    from chainrule.tables.scaling import mean_and_scale

    # two rows 0 and a: mean a/2 and standard deviation a/2, exactly; a^2 overflows float64
    a = 2.6815615859885194e154
    mean, scale = mean_and_scale(np.array([[0.0, 0.0, 7.0], [a, 3.0, 7.0]]))
    np.testing.assert_array_equal(mean, [a / 2, 1.5, 7.0])
    np.testing.assert_array_equal(scale, [a / 2, 1.5, 1.0])  # a constant column scales by 1
    X = np.random.default_rng(0).normal(size=(50, 4)) * [1e-3, 1.0, 1e5, 1e150]
    mean, scale = mean_and_scale(X)
    np.testing.assert_array_equal(mean, X.mean(axis=0))
    np.testing.assert_array_equal(scale, X.std(axis=0))
    w = np.random.default_rng(1).uniform(0, 2, 50)
    mean, scale = mean_and_scale(X, w)
    expected_mean = (w[:, None] * X).sum(axis=0) / w.sum()
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-13)
    expected_var = (w[:, None] * (X - expected_mean) ** 2).sum(axis=0) / w.sum()
    np.testing.assert_allclose(scale, np.sqrt(expected_var), rtol=1e-13)
