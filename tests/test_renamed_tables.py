"""One name per concept in the table pipeline, the command line, the playground and the datasets:
each old spelling still works for one release, with a FutureWarning (Python) or one warning line
on stderr (command line) naming the new one; the new names are silent."""

import inspect
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets
from chainrule.cli import build_parser, main
from chainrule.playground.settings import Settings, parse_settings
from chainrule.tables.model import TabularModel, train_table
from chainrule.tables.reading import dataset_table

OPTIONS = {"epochs": 2, "hidden": (3,), "batch_size": 16, "verbose": 0, "seed": 1}


@pytest.fixture(scope="module")
def iris():
    return dataset_table(datasets.load_dataset("iris"))


def _silently(function, *args, **kwargs):
    """Call ``function``, failing on any FutureWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        return function(*args, **kwargs)


def _same_model(a: TabularModel, b: TabularModel) -> None:
    np.testing.assert_array_equal(a.network.parameters, b.network.parameters)
    first, second = a.network.history.history, b.network.history.history
    assert first.keys() == second.keys()
    for key in first.keys() - {"seconds"}:  # the wall-clock time differs
        assert first[key] == second[key], key


# -- train_table's keywords ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "old, new, value",
    [
        ("lr", "learning_rate", 0.05),
        ("val", "validation_split", 0.2),
        ("distributed", "group", None),
    ],
)
def test_train_table_old_keyword_warns_and_trains_as_the_new_one(iris, old, new, value):
    with pytest.warns(FutureWarning, match=rf"train_table\({old}=\.\.\.\) is deprecated and will "):
        before = train_table(iris, "species", **{old: value}, **OPTIONS)
    now = _silently(train_table, iris, "species", **{new: value}, **OPTIONS)
    _same_model(before.model, now.model)
    np.testing.assert_array_equal(before.train_rows, now.train_rows)


def test_train_table_warning_names_the_new_keyword_and_the_release(iris):
    with pytest.warns(FutureWarning) as caught:
        train_table(iris, "species", lr=0.01, **OPTIONS)
    message = str(caught[0].message)
    assert message == (
        "train_table(lr=...) is deprecated and will be removed in chainrule 0.3; "
        "use learning_rate=..."
    )
    assert caught[0].filename == __file__  # the caller's line, not the package's


@pytest.mark.parametrize("old, new", [("lr", "learning_rate"), ("val", "validation_split")])
def test_train_table_refuses_both_spellings(iris, old, new):
    with pytest.raises(TypeError, match=rf"got both '{old}' and '{new}'"):
        train_table(iris, "species", **{old: 0.1, new: 0.1}, **OPTIONS)


def test_train_table_shows_only_the_new_names():
    parameters = inspect.signature(train_table).parameters
    assert {"learning_rate", "validation_split", "group"} <= set(parameters)
    assert not {"lr", "val", "distributed"} & set(parameters)
    assert parameters["learning_rate"].default == 1e-3
    assert parameters["validation_split"].default == 0.1


def test_a_bad_validation_split_names_the_new_keyword(iris):
    with pytest.raises(ValueError, match="validation_split"):
        train_table(iris, "species", validation_split=1.5, **OPTIONS)


# -- TabularModel.train ---------------------------------------------------------------------------
def test_tabular_model_fit_is_train_with_a_warning(iris):
    new = _silently(TabularModel.train, iris, "species", **OPTIONS)
    assert isinstance(new, TabularModel)
    with pytest.warns(FutureWarning, match=r"TabularModel\.fit is deprecated.*TabularModel\.train"):
        old = TabularModel.fit(iris, "species", **OPTIONS)
    assert isinstance(old, TabularModel) and old is not new
    _same_model(old, new)


def test_tabular_model_train_takes_the_new_keywords_silently(iris):
    model = _silently(
        TabularModel.train, iris, "species", learning_rate=0.02, validation_split=0, **OPTIONS
    )
    assert model.kept_epoch is None  # no validation rows: nothing to keep the best of
    assert "val_loss" not in model.network.history.history


def test_tabular_model_train_passes_old_keywords_on_with_their_warning(iris):
    with pytest.warns(FutureWarning, match=r"train_table\(val=\.\.\.\)"):
        model = TabularModel.train(iris, "species", val=0, **OPTIONS)
    assert "val_loss" not in model.network.history.history


# -- datasets.load_dataset ------------------------------------------------------------------------
def test_datasets_load_is_load_dataset_with_a_warning():
    new = _silently(datasets.load_dataset, "moons")
    with pytest.warns(
        FutureWarning,
        match=r"chainrule\.datasets\.load is deprecated and will be removed in chainrule 0\.3; "
        r"use chainrule\.datasets\.load_dataset",
    ):
        old = datasets.load("moons")
    np.testing.assert_array_equal(old.X, new.X)
    np.testing.assert_array_equal(old.y, new.y)
    assert old.name == new.name == "moons"


def test_load_dataset_names_the_known_datasets():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'; known: xor, spirals"):
        datasets.load_dataset("mnist")
    assert "load_dataset" in datasets.__all__
    assert cr.load is not datasets.load_dataset  # model files, not datasets


# -- the command line ---------------------------------------------------------------------------
def _warning(old: str, new: str) -> str:
    return (
        f"chainrule: warning: {old} is deprecated and will be removed in chainrule 0.3; use {new}"
    )


@pytest.mark.parametrize(
    "argv, dest, value",
    [
        (["train", "--data", "xor", "--lr", "0.25"], "learning_rate", 0.25),
        (["train", "--data", "xor", "--val", "0.3"], "validation_split", 0.3),
        (["demo", "--lr", "0.125"], "learning_rate", 0.125),
    ],
)
def test_an_old_flag_stores_into_the_new_one_with_one_warning_line(capsys, argv, dest, value):
    old = argv[-2]
    new = {"--lr": "--learning-rate", "--val": "--validation-split"}[old]
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    assert not hasattr(args, old[2:])
    assert capsys.readouterr().err == _warning(old, new) + "\n"
    args = build_parser().parse_args([*argv[:-2], new, argv[-1]])
    assert getattr(args, dest) == value
    assert capsys.readouterr().err == ""


def test_the_new_flags_keep_their_defaults_when_not_given():
    args = build_parser().parse_args(["train", "--data", "xor"])
    assert args.learning_rate == 1e-3 and args.validation_split == 0.1
    assert build_parser().parse_args(["demo"]).learning_rate == 0.5


def test_train_with_the_old_flags_trains_as_with_the_new_ones(capsys, tmp_path):
    common = ["train", "--data", "moons", "--epochs", "3", "--seed", "2", "--quiet"]
    old, new = tmp_path / "old.npz", tmp_path / "new.npz"
    assert main([*common, "--lr", "0.02", "--val", "0.25", "--out", str(old)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        _warning("--lr", "--learning-rate"),
        _warning("--val", "--validation-split"),
    ]
    argv = [*common, "--learning-rate", "0.02", "--validation-split", "0.25", "--out", str(new)]
    assert main(argv) == 0
    assert "deprecated" not in capsys.readouterr().err
    _same_model(TabularModel.load(old), TabularModel.load(new))


def test_a_bad_value_for_an_old_flag_names_the_flag_typed(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--data", "xor", "--val", "1.5"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "argument --val: expected a number >= 0 and < 1, got '1.5'" in err
    assert "deprecated" not in err  # the value is refused first


@pytest.mark.parametrize("command", ["train", "demo"])
def test_help_shows_only_the_new_flags(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = capsys.readouterr().out
    assert "--learning-rate" in shown and "--lr" not in shown
    if command == "train":
        assert "--validation-split" in shown and "--val " not in shown and "--val]" not in shown


# -- the playground -------------------------------------------------------------------------------
def test_the_playground_field_is_learning_rate():
    assert Settings().learning_rate == 0.03 and not hasattr(Settings(), "lr")
    settings = parse_settings({"learning_rate": "0.5"})
    assert settings.learning_rate == 0.5
    assert "learning_rate" in settings.to_dict() and "lr" not in settings.to_dict()
