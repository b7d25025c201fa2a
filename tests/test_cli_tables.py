"""Real tables through the command line: first tries that once failed, column choice,
categories, missing values, stored transformations (issue 15)."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.tables.model import TabularModel

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv, cwd=None):
    """The command line in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_xor_as_typed_trains_with_notes(tmp_path):
    result = cli("train", "--data", "xor", "--epochs", "3", "--out", tmp_path / "x.npz")
    assert result.returncode == 0, result.stderr
    assert "--batch-size 32 is larger than the 4 training rows" in result.stderr
    assert (
        "--validation-split 0.1 of 4 rows holds out no row: training without validation"
        in result.stderr
    )
    assert (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    "data,loss,message",
    [
        (
            "iris",
            "mse",
            "--loss mse does not fit: 'species' holds 3 classes, and mse is a "
            "regression loss; use --loss cross_entropy (or --task regression)",
        ),
        ("iris", "bce", "binary cross-entropy needs two classes, 'species' has 3"),
    ],
)
def test_a_loss_that_does_not_fit_the_task_is_refused_in_cli_words(capsys, data, loss, message):
    code, _, err = run(capsys, "train", "--data", data, "--loss", loss, "--quiet")
    assert code == 2 and message in err and "'T'" not in err


def test_cross_entropy_on_values_is_refused(capsys, tmp_path, regression_csv):
    code, _, err = run(
        capsys,
        "train",
        regression_csv,
        "--target",
        "target",
        "--loss",
        "cross_entropy",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
    )
    assert code == 2
    assert "'target' holds values (regression), and cross_entropy is a loss for classes" in err


def test_binary_cross_entropy_on_two_classes_is_the_softmax_cross_entropy(capsys, tmp_path):
    out = tmp_path / "m.npz"
    code, _, err = run(
        capsys,
        "train",
        "--data",
        "moons",
        "--loss",
        "binary_cross_entropy",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0 and "trained as cross_entropy over two softmax outputs" in err
    code, text, _ = run(capsys, "info", out)
    assert code == 0


def test_val_errors_name_the_flag(capsys, tmp_path):
    (tmp_path / "two.csv").write_text("a,y\n1,0\n2,1\n")
    code, _, err = run(
        capsys,
        "train",
        tmp_path / "two.csv",
        "--target",
        "y",
        "--validation-split",
        "0.9",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
    )
    assert code == 2 and "--validation-split 0.9 leaves no rows for training out of 2" in err
    assert "validation_split" not in err


def people_csv(path, rows=60, seed=0, colours=("red", "green", "blue"), gaps=True):
    """An ID column, a text category, a numeric column with empty cells, a class target."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lines = ["person,colour,age,height,label"]
    for i in range(rows):
        colour = colours[i % len(colours)]
        age = "" if gaps and i % 7 == 3 else f"{rng.uniform(20, 60):.1f}"
        height = f"{rng.normal(170, 10):.1f}"
        label = "yes" if colour == "red" or (age and float(age) > 45) else "no"
        lines.append(f"P{1000 + i},{colour},{age},{height},{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_categories_gaps_an_id_and_unseen_categories_end_to_end(tmp_path):
    train = people_csv(tmp_path / "people.csv")
    model = tmp_path / "m.npz"
    refused = cli(
        "train", train, "--target", "label", "--impute", "none", "--quiet", "--out", model
    )
    assert refused.returncode == 2 and not model.exists()
    assert (
        "column 'age' has a missing value in row 5; fill it in, drop the row, or pass "
        "--impute median, mean or most_frequent" in refused.stderr
    )

    trained = cli("train", train, "--target", "label", "--epochs", "30", "--quiet", "--out", model)
    assert trained.returncode == 0, trained.stderr  # missing cells filled by default
    assert "chainrule: warning: filled 9 missing cells in 1 column ('age' 9) with the training " \
        "rows' median (--impute none to refuse them)" in trained.stderr  # fmt: skip
    assert "column 'person' looks like an identifier (every value distinct): not used" in (
        trained.stderr
    )
    info = cli("info", model, "--format", "json")
    summary = __import__("json").loads(info.stdout)
    assert summary["features"] == ["colour=blue", "colour=green", "colour=red", "age", "height"]
    colour, age = summary["columns"][0], summary["columns"][1]
    assert colour["kind"] == "categorical" and colour["categories"] == ["blue", "green", "red"]
    import numpy as np

    ages = [
        float(line.split(",")[2])
        for line in train.read_text().splitlines()[1:]
        if line.split(",")[2]
    ]
    # the median of the training rows only (the validation rows are held out first)
    assert min(ages) <= age["fill"] <= max(ages) and age["kind"] == "numeric"
    text = cli("info", model).stdout
    assert "column 'colour': one-hot over blue, green, red" in text

    new = people_csv(tmp_path / "new.csv", rows=8, seed=1, colours=("red", "purple"))
    predicted = cli("predict", model, new, "--id", "person", "-o", tmp_path / "p.csv")
    assert predicted.returncode == 0, predicted.stderr
    assert (
        "column 'colour' holds 'purple' in row 3, a category not seen in training"
        in (predicted.stderr)
        and "encoded as all zeros" in predicted.stderr
    )
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "person,prediction,p_no,p_yes" and lines[1].startswith("P1000,")
    assert len(lines) == 9
    probabilities = [float(p) for p in lines[1].split(",")[2:]]
    assert abs(sum(probabilities) - 1) < 1e-5 and all(len(p) <= 12 for p in lines[1].split(","))

    strict = cli("predict", model, new, "--strict")
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1
    assert (
        "holds 'purple' in row 3, a category not seen in training (it knows blue, green, "
        "red)" in strict.stderr
    )

    evaluated = cli("evaluate", model, train, "--format", "json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert __import__("json").loads(evaluated.stdout)["rows"] == 60
    assert np.isfinite(__import__("json").loads(evaluated.stdout)["loss"])


def test_feature_choice_and_typos_stay_errors(capsys, tmp_path):
    train = people_csv(tmp_path / "people.csv", gaps=False)
    out = tmp_path / "m.npz"
    code, _, err = run(
        capsys,
        "train",
        train,
        "--target",
        "label",
        "--features",
        "height,age",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0 and "identifier" not in err
    _, text, _ = run(capsys, "info", out, "--format", "json")
    assert __import__("json").loads(text)["features"] == ["height", "age"]
    code, _, err = run(
        capsys,
        "train",
        train,
        "--target",
        "label",
        "--drop",
        "colour,nope",
        "--quiet",
        "--out",
        out,
    )
    assert code == 2 and "--drop names 'nope', which is not a column" in err
    code, _, err = run(
        capsys,
        "train",
        train,
        "--target",
        "label",
        "--drop",
        "colour",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out,
    )
    _, text, _ = run(capsys, "info", out, "--format", "json")
    assert code == 0 and __import__("json").loads(text)["features"] == ["age", "height"]
    typo = train.read_text().replace(",25.", ",2x5.", 1)
    if typo == train.read_text():  # make sure there is a typo to find
        lines = train.read_text().splitlines()
        parts = lines[4].split(",")
        parts[2] = "4o"
        lines[4] = ",".join(parts)
        typo = "\n".join(lines) + "\n"
    (tmp_path / "typo.csv").write_text(typo)
    code, _, err = run(
        capsys, "train", tmp_path / "typo.csv", "--target", "label", "--quiet", "--out", out
    )
    assert code == 2 and "column 'age' is not numeric: row" in err


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        ("nope", "--categorical names 'nope', which is not a column"),
        ("person", "--categorical names 'person', which is not a feature"),  # identifier-like
    ],
)
def test_categorical_naming_no_feature_is_refused(capsys, tmp_path, named, expected):
    train = people_csv(tmp_path / "people.csv", gaps=False)
    out = tmp_path / "m.npz"
    code, _, err = run(
        capsys, "train", train, "--target", "label", "--categorical", named, "--out", out
    )
    assert code == 2 and expected in err and not out.exists()


@pytest.mark.parametrize("command", ["train", "demo"])
@pytest.mark.parametrize("lr", ["-1", "0", "inf", "nan"])
def test_a_bad_learning_rate_names_the_flag(capsys, command, lr):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--data", "xor", "--learning-rate", lr])
    _, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert f"argument --learning-rate: expected a number > 0, got '{lr}'" in err
    assert "'lr'" not in err and "'learning_rate'" not in err


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_gap_for_a_model_without_impute_says_to_train_with_it(capsys, tmp_path, command):
    out = tmp_path / "m.npz"
    complete = people_csv(tmp_path / "complete.csv", gaps=False)
    code, _, err = run(
        capsys, "train", complete, "--target", "label", "--impute", "none", "--epochs", "1",
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, command, out, people_csv(tmp_path / "gaps.csv"))
    assert code == 2 and "column 'age' has a missing value in row 5" in err
    # predict and evaluate have no --impute: the fill value comes from training
    assert "or pass --impute" not in err
    assert "train the model again with --impute median, mean or most_frequent" in err


def test_info_shows_a_fill_value_without_float_noise(capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,c,y\n0.1,a,1\n0.2,b,2\n,,3\n0.2,a,4\n0.1,b,5\n")
    out = tmp_path / "m.npz"
    code, _, err = run(
        capsys,
        "train",
        data,
        "--target",
        "y",
        "--impute",
        "median",
        "--validation-split",
        "0",
        "--epochs",
        "1",
        "--out",
        out,
    )
    assert code == 0, err
    _, text, _ = run(capsys, "info", out)
    assert (0.1 + 0.2) / 2 == 0.15000000000000002  # the median of 0.1, 0.1, 0.2, 0.2
    assert (
        "column 'x': numeric; scaling robust (median 0.15, interquartile range 0.1, smoothly "
        "clipped to +-3, then standardised); missing cells filled with 0.15\n"
    ) in text
    assert "column 'c': one-hot over a, b; missing cells filled with 'a'" in text
    _, text, _ = run(capsys, "info", out, "--format", "json")
    assert __import__("json").loads(text)["columns"][0]["fill"] == 0.15000000000000002


def test_semicolon_file_is_read(capsys, tmp_path):
    lines = ["a;b;y"] + [f"{i};{i % 3};{i % 2}" for i in range(30)]
    (tmp_path / "semi.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run(
        capsys,
        "train",
        tmp_path / "semi.csv",
        "--target",
        "y",
        "--features",
        "a,b",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
    )
    assert code == 0, err


def test_the_best_validation_epoch_is_kept_by_default(capsys, tmp_path):
    import json

    best, last = tmp_path / "best.npz", tmp_path / "last.npz"
    common = [
        "--data",
        "moons",
        "--epochs",
        "12",
        "--learning-rate",
        "0.05",
        "--quiet",
        "--seed",
        "3",
    ]
    code, out, _ = run(capsys, "train", *common, "--out", best)
    assert code == 0
    _, text, _ = run(capsys, "info", best, "--format", "json")
    summary = json.loads(text)

    model = TabularModel.load(best)
    history = model.network.history.history["val_loss"]
    kept = int(min(range(len(history)), key=history.__getitem__)) + 1
    assert summary["kept_epoch"] == kept == model.kept_epoch
    assert f"kept the parameters of epoch {kept}, the lowest validation loss" in out
    code, _, _ = run(capsys, "train", *common, "--keep", "last", "--out", last)
    assert code == 0 and TabularModel.load(last).kept_epoch is None
    _, text, _ = run(capsys, "info", last)
    assert "parameters kept: the last epoch" in text


def test_early_stopping_and_info_count_epochs_the_same_way(capsys, tmp_path):
    out = tmp_path / "m.npz"
    code, text, _ = run(
        capsys,
        "train",
        "--data",
        "iris",
        "--epochs",
        "200",
        "--learning-rate",
        "0.3",
        "--early-stopping",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0
    _, info, _ = run(capsys, "info", out)
    import re

    stopped = re.search(r"after epoch (\d+)", text)
    best = re.search(r"best validation loss at epoch (\d+)", info)
    assert stopped and best and stopped.group(1) == best.group(1)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "info", "gradcheck", "export"])
def test_help_shows_defaults_choices_and_an_example(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"examples: chainrule {command}" in text
    if command == "train":
        for shown in (
            "(default: 0.1)",
            "(default: 32)",
            "(default: 0)",
            "{best,last}",
            "{none,median,mean,most_frequent}",
            "(default: elu)",
            "an error naming the row and column, then and after (default: median)",
            "{robust,standard}",
            "it lost on 3 of the 10 real tables measured",
        ):
            assert shown in text
    if command == "export":
        assert (
            "{float32,float64} the ONNX model's input, weight and output type (default: float32)"
            in text
        )


def test_regression_output_is_labelled_and_plotted(capsys, tmp_path, regression_csv):
    pytest.importorskip("matplotlib")
    out = tmp_path / "m.npz"
    code, text, _ = run(
        capsys,
        "train",
        regression_csv,
        "--target",
        "target",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0 and "loss (standardised)" in text
    assert "mse, rmse and mae in the units of 'target'" in text
    figure = tmp_path / "pva.png"
    code, text, err = run(capsys, "evaluate", out, regression_csv, "--plot", figure)
    assert code == 0 and "predicted against actual values written to" in err
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert "loss: " in text and "(on the standardised target)" in text
    assert "(in units of 'target')" in text


def test_demo_states_the_whole_architecture_and_learning_rates(capsys):
    code, out, _ = run(capsys, "demo", "--steps", "1", "--epochs", "2", "--quiet")
    assert code == 0 and "2-2-2 sigmoid network" in out and "learning rate 0.5" in out
    assert (
        "2-64-64-2 network (ReLU hidden layers, softmax output, cross-entropy loss; Adam, "
        "learning rate 0.01, batches of 32)" in out
    )


def test_the_demo_trains_the_network_it_describes_for_every_epoch(capsys):
    # no dropout (it says none) and no early stop: the table route's defaults are not its own
    code, out, _ = run(capsys, "demo", "--steps", "1", "--quiet")
    assert code == 0 and "(300 epochs, " in out


def test_a_column_of_many_categories_gets_one_note_and_few_get_none(tmp_path):
    """A date column read as text has one category per distinct date: by default its dates in
    fewer than 40 rows share an input, said once; with --min-frequency none it is one input
    per date, said once, with how to drop it; a column of three colours says nothing."""
    rng = np.random.default_rng(0)
    days = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(400)]
    lines = ["day,colour,x,y"] + [
        f"{day},{rng.choice(['red', 'blue', 'green'])},{rng.normal():.4f},{rng.normal():.4f}"
        for day in days
    ]
    path = tmp_path / "days.csv"
    path.write_text("\n".join(lines) + "\n")
    counts = Counter(days)
    assert len(counts) == 84 and max(counts.values()) < 40
    common = ["train", path, "--target", "y", "--epochs", "1", "--quiet", "--validation-split"]
    trained = cli(*common, "0", "--out", tmp_path / "m.npz")
    assert trained.returncode == 0, trained.stderr
    notes = [line for line in trained.stderr.splitlines() if "column 'day'" in line]
    assert len(notes) == 1 and "colour" not in trained.stderr
    assert (
        "column 'day': 84 of its 84 categories are in fewer than 40 rows each and share one "
        "input, day=(infrequent) (set by --min-frequency auto; --min-frequency none gives every "
        "category its own)"
    ) in notes[0]
    model = TabularModel.load(tmp_path / "m.npz")
    most = min(day for day, n in counts.items() if n == max(counts.values()))
    assert model.columns[0].categories == [] and model.columns[0].fill == most
    assert model.features == ["day=(infrequent)", "colour=blue", "colour=green", "colour=red", "x"]
    shown = cli("info", tmp_path / "m.npz")
    assert (
        f"  column 'day': one-hot over (infrequent) (84 infrequent categories); missing cells "
        f"filled with {most!r}"
    ) in shown.stdout
    trained = cli(*common, "0", "--min-frequency", "none", "--out", tmp_path / "m.npz")
    assert trained.returncode == 0, trained.stderr
    notes = [line for line in trained.stderr.splitlines() if "one-hot encoded into" in line]
    assert len(notes) == 1 and "column 'day' is one-hot encoded into 84 inputs" in notes[0]
    assert "--drop day leaves it out" in notes[0] and "colour" not in trained.stderr


def test_classification_forced_on_a_continuous_target_says_it_may_be_regression(tmp_path):
    rng = np.random.default_rng(1)
    lines = ["x,spend"] + [f"{x:.4f},{50 + 10 * x:.3f}" for x in rng.normal(size=300)]
    path = tmp_path / "spend.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "m.npz"
    forced = cli(
        "train",
        path,
        "--target",
        "spend",
        "--task",
        "classification",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        out,
    )
    assert forced.returncode == 0, forced.stderr
    assert (
        "the target 'spend' holds 300 classes in 300 rows, one network output each: if it is "
        "a number to predict, pass --task regression" in forced.stderr
    )
    inferred = cli("train", path, "--target", "spend", "--epochs", "1", "--quiet", "--out", out)
    assert inferred.returncode == 0 and "--task regression" not in inferred.stderr


def test_predict_writes_values_exactly_and_probabilities_to_six_digits(capsys, tmp_path):
    """As the README says: a regression value keeps every digit (a large offset needs them),
    a probability has the 6 significant digits a float32 output holds."""
    import csv as csv_module

    from chainrule import datasets
    from chainrule.tables.reading import read_csv

    iris = datasets.iris_csv_path()
    rows = [["u", "target"]] + [[str(i / 7), str(1e6 + i / 3)] for i in range(60)]
    values = tmp_path / "values.csv"
    with values.open("w", newline="") as stream:
        csv_module.writer(stream).writerows(rows)
    for data, target in ((values, "target"), (iris, "species")):
        model = tmp_path / f"{target}.npz"
        argv = ("train", data, "--target", target, "--epochs", "2", "--quiet", "--out", model)
        assert main([str(a) for a in argv]) == 0
        assert main(["predict", str(model), str(data), "-o", str(tmp_path / "p.csv")]) == 0
        with (tmp_path / "p.csv").open() as stream:
            written = list(csv_module.DictReader(stream))
        expected = TabularModel.load(model).predict(read_csv(data))
        if target == "target":
            assert [float(r["prediction"]) for r in written] == expected["prediction"].tolist()
        else:
            fields = [r[name] for r in written for name in r if name.startswith("p_")]
            digits = [len(f.lstrip("0.").replace(".", "").split("e")[0]) for f in fields]
            assert max(digits) == 6
            np.testing.assert_allclose(
                [float(f) for f in fields],
                np.column_stack([expected[k] for k in expected if k.startswith("p_")]).ravel(),
                rtol=5e-6,
            )
    capsys.readouterr()


def test_a_hidden_width_beyond_what_a_model_file_holds_is_refused(capsys, regression_csv):
    argv = [
        "train",
        str(regression_csv),
        "--target",
        "target",
        "--hidden",
        "8,99999999999999999999",
    ]
    assert main(argv) == 2
    said = "--hidden widths must be at most 2147483647, got '8,99999999999999999999'"
    assert capsys.readouterr().err == f"chainrule: error: {said}\n"
