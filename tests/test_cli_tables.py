"""Real tables through the command line: first tries that once failed, column choice,
categories, missing values, stored transformations (issue 15)."""

import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main

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
    assert "--val 0.1 of 4 rows holds out no row: training without validation" in result.stderr
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
        "--val",
        "0.9",
        "--quiet",
        "--out",
        tmp_path / "m.npz",
    )
    assert code == 2 and "--val 0.9 leaves no rows for training out of 2" in err
    assert "validation_split" not in err
