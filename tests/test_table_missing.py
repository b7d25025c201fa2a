"""Missing values on the table route (issue 28): filled by default with the training rows'
median (numbers) or most frequent category, said in one line; a fill value stored for every
column, so that a trained model fills a gap at predict and evaluate, said too; ``impute='none'``
refusing as before, and model files from before loading and behaving as they did; missing
indicators as an option, off by default, through the model file and ONNX; ``info`` and
``--scaling``; messages spelled as each caller spells options.

Every expected number is computed here from the fixture's own numbers (``statistics``,
``collections.Counter``), not read from chainrule."""

import json
import statistics
import warnings
from collections import Counter

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.tables.encoding import FilledGapsWarning, encode, fit_columns
from chainrule.tables.model import TabularModel, train_table
from chainrule.tables.reading import DataError, Table, as_table, read_csv

pd = pytest.importorskip("pandas")

X = [3.0, 1.5, 4.0, 1.0, 5.5, 9.0, 2.5, 6.0, 5.0, 3.5, 5.0, 8.0]
X += [9.5, 7.0, 2.0, 1.0, 8.5, 2.0, 8.0, 4.5, 3.0, 6.5, 7.5, 0.25]
Z = [float((7 * i) % 11) for i in range(24)]
COLOURS = ["red", "blue", "red", "green", "red", "blue"] * 4
LABELS = ["yes" if x > 4 else "no" for x in X]
X_GAPS, COLOUR_GAPS = (2, 9), (5,)  # data rows (from 0) left empty in the gappy file
FAST = {"epochs": 3, "hidden": (4,), "validation_split": 0, "batch_size": 8, "seed": 0}


def frame(gaps: bool = True) -> "pd.DataFrame":
    """The fixture: x (numbers, with gaps), z (numbers, complete), colour (text, with a gap)."""
    data = pd.DataFrame({"x": X, "z": Z, "colour": COLOURS, "y": LABELS})
    if gaps:
        data.loc[list(X_GAPS), "x"] = np.nan
        data.loc[list(COLOUR_GAPS), "colour"] = None
    return data


def write_csv(path, gaps: bool = True):
    frame(gaps).to_csv(path, index=False)
    return path


def run(capsys, *argv):
    """The command line in this process: exit code, stdout, stderr."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def train_quietly(data, **options):
    """``TabularModel.train`` with the notes of training silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TabularModel.train(data, "y", **{**FAST, **options})


def present_x(rows=range(24)):
    return [X[r] for r in rows if r not in X_GAPS]


# -- filled by default, and said --------------------------------------------------------------
def test_python_fills_by_default_and_says_so_in_impute_spelling():
    with pytest.warns(FilledGapsWarning) as caught:
        model = TabularModel.train(frame(), "y", **FAST)
    (message,) = [str(w.message) for w in caught if w.category is FilledGapsWarning]
    assert message == (
        "filled 3 missing cells in 2 columns ('x' 2, 'colour' 1) with the training rows' "
        "median and most frequent category (impute='none' to refuse them)"
    )
    x, z, colour = model.columns
    assert x.fill == statistics.median(present_x())  # every row trains: validation_split=0
    assert z.fill == statistics.median(Z)  # a column without gaps has its fill value too
    kept = [c for r, c in enumerate(COLOURS) if r not in COLOUR_GAPS]
    assert colour.fill == Counter(kept).most_common(1)[0][0] == "red"


def test_the_command_line_fills_by_default_and_says_so(capsys, tmp_path):
    data = write_csv(tmp_path / "gaps.csv")
    out = tmp_path / "m.npz"
    code, _, err = run(
        capsys, "train", data, "--target", "y", "--epochs", "2", "--validation-split", "0",
        "--quiet", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    said = [line for line in err.splitlines() if "missing cells" in line]
    assert said == [
        "chainrule: warning: filled 3 missing cells in 2 columns ('x' 2, 'colour' 1) with the "
        "training rows' median and most frequent category (--impute none to refuse them)"
    ]  # once: the metrics on the training rows do not say it again
    columns = TabularModel.load(out).network.metadata["columns"]
    assert [c["fill"] for c in columns] == [
        statistics.median(present_x()),
        statistics.median(Z),
        "red",
    ]


def test_mean_and_most_frequent_are_named_in_the_note():
    with pytest.warns(FilledGapsWarning, match=r"\('x' 2\) with the training rows' mean \(imp"):
        TabularModel.train(frame().drop(columns="colour"), "y", impute="mean", **FAST)
    with pytest.warns(FilledGapsWarning, match="rows' most frequent value and most frequent cat"):
        TabularModel.train(frame(), "y", impute="most_frequent", **FAST)


def test_many_columns_are_named_five_then_counted():
    data = pd.DataFrame({f"c{i}": [1.0, np.nan, 3.0, 4.0] * 5 for i in range(7)})
    data["y"] = ["a", "b"] * 10
    with pytest.warns(FilledGapsWarning) as caught:
        TabularModel.train(data, "y", **FAST)
    (message,) = [str(w.message) for w in caught if w.category is FilledGapsWarning]
    named = ", ".join(f"'c{i}' 5" for i in range(5))
    assert message.startswith(f"filled 35 missing cells in 7 columns ({named} and 2 more) with")


def test_complete_data_says_nothing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = TabularModel.train(frame(gaps=False), "y", **FAST)
        model.predict(frame(gaps=False))
        model.evaluate(as_table(frame(gaps=False)))
    assert not [w for w in caught if w.category is FilledGapsWarning]


# -- impute='none' refuses, as before -----------------------------------------------------------
def test_impute_none_refuses_in_each_callers_spelling(capsys, tmp_path):
    with pytest.raises(DataError) as error:
        TabularModel.train(frame(), "y", impute="none", **FAST)
    assert "column 'x' has a missing value in the row with index 2; fill it in, drop the row, " \
        "or pass impute='median', 'mean' or 'most_frequent'" in str(error.value)  # fmt: skip
    assert "--" not in str(error.value)
    data = write_csv(tmp_path / "gaps.csv")
    code, _, err = run(
        capsys, "train", data, "--target", "y", "--impute", "none", "--quiet", "--out",
        tmp_path / "m.npz",
    )  # fmt: skip
    assert code == 2 and not (tmp_path / "m.npz").exists()
    assert err.splitlines()[-1] == (
        f"chainrule: error: {data}: column 'x' has a missing value in row 4; fill it in, drop "
        "the row, or pass --impute median, mean or most_frequent"
    )


# -- a stored fill value for every column, used at predict and evaluate -------------------------
@pytest.fixture(scope="module")
def complete_model():
    """A model trained on rows without any gap, with the default impute."""
    return train_quietly(frame(gaps=False))


def test_a_model_trained_on_complete_rows_fills_a_gap_with_the_stored_median(complete_model):
    model = complete_model
    median = statistics.median(X)  # every row trained (validation_split=0)
    assert model.columns[0].fill == median == 4.75 != statistics.mean(X)
    test = frame(gaps=False).drop(columns="y").iloc[:4].copy()
    test.loc[1, "x"] = np.nan
    test.loc[3, "colour"] = None
    with pytest.warns(FilledGapsWarning) as caught:
        predicted = model.predict(test)
    assert [str(w.message) for w in caught] == [
        "filled 2 missing cells in 2 columns ('x' 1, 'colour' 1) with the fill values stored "
        "in the model"
    ]
    by_hand = test.copy()
    by_hand.loc[1, "x"] = median
    by_hand.loc[3, "colour"] = Counter(COLOURS).most_common(1)[0][0]
    expected = model.predict(by_hand)
    for name in ("prediction", "p_no", "p_yes"):
        np.testing.assert_array_equal(predicted[name].to_numpy(), expected[name].to_numpy())


def test_evaluate_fills_and_says_it_once_over_its_blocks(complete_model, monkeypatch):
    from chainrule.tables import model as table_model

    monkeypatch.setattr(table_model, "EVALUATION_ROWS", 5)  # five blocks of rows
    with pytest.warns(FilledGapsWarning) as caught:
        result = complete_model.evaluate(as_table(frame()))
    assert [str(w.message) for w in caught] == [
        "filled 3 missing cells in 2 columns ('x' 2, 'colour' 1) with the fill values stored "
        "in the model"
    ]
    assert result["rows"] == 24


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_predict_and_evaluate_fill_a_gap_and_say_so(capsys, tmp_path, command):
    out = tmp_path / "m.npz"
    complete = write_csv(tmp_path / "complete.csv", gaps=False)
    code, _, err = run(capsys, "train", complete, "--target", "y", "--epochs", "1", "--quiet",
                       "--out", out)  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, command, out, write_csv(tmp_path / "gaps.csv"))
    assert code == 0, err
    assert err.splitlines() == [
        "chainrule: warning: filled 3 missing cells in 2 columns ('x' 2, 'colour' 1) with the "
        "fill values stored in the model"
    ]


# -- model files from before: no fill values -----------------------------------------------------
def old_model(tmp_path):
    """A model file as chainrule wrote one by default before this change: ``impute`` was
    ``'none'``, so every column's fill is null and there is no ``missing_indicators`` key."""
    model = train_quietly(frame(gaps=False), impute="none")
    path = tmp_path / "old.npz"
    model.save(path)
    meta = TabularModel.load(path).network.metadata
    assert [c["fill"] for c in meta["columns"]] == [None, None, None]
    assert "missing_indicators" not in meta
    return model, path


def test_an_old_model_file_predicts_as_before_and_refuses_a_gap(tmp_path):
    model, path = old_model(tmp_path)
    loaded = TabularModel.load(path)
    assert loaded.columns == model.columns
    complete = frame(gaps=False).drop(columns="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FilledGapsWarning)  # nothing is filled
        np.testing.assert_array_equal(
            loaded.predict(complete)["p_yes"], model.predict(complete)["p_yes"]
        )
    with pytest.raises(DataError) as error:
        loaded.predict(frame().drop(columns="y"))
    assert str(error.value).endswith(
        "column 'x' has a missing value in the row with index 2; the model has no fill value "
        "(it was trained with impute='none'): fill it in, drop the row, or train the model "
        "again with impute='median', 'mean' or 'most_frequent'"
    )


def test_an_old_model_file_refuses_a_gap_on_the_command_line(capsys, tmp_path):
    _, path = old_model(tmp_path)
    code, _, err = run(capsys, "predict", path, write_csv(tmp_path / "gaps.csv"))
    assert code == 2
    assert err.splitlines()[-1].endswith(
        "column 'x' has a missing value in row 4; the model has no fill value (it was trained "
        "with --impute none): fill it in, drop the row, or train the model again with --impute "
        "median, mean or most_frequent"
    )


def test_the_oldest_metadata_without_columns_refuses_a_gap(tmp_path):
    model = train_quietly(frame(gaps=False).drop(columns="colour"), scaling="standard")
    meta = model.metadata()
    del meta["columns"]  # the oldest files: numeric features, no fill
    cr.save(model.network, tmp_path / "oldest.npz", metadata=meta)
    loaded = TabularModel.load(tmp_path / "oldest.npz")
    assert [(c.fill, c.indicator) for c in loaded.columns] == [(None, False), (None, False)]
    with pytest.raises(DataError, match="'x' has a missing value in the row with index 2; the"):
        loaded.predict(frame().drop(columns=["y", "colour"]))


# -- missing indicators ----------------------------------------------------------------------------
def test_indicators_are_off_by_default_and_add_an_input_per_numeric_column_with_gaps():
    plain = train_quietly(frame())
    assert plain.features == ["x", "z", "colour=blue", "colour=green", "colour=red"]
    assert not any(c.indicator for c in plain.columns)
    assert "missing_indicators" not in plain.metadata()
    flagged = train_quietly(frame(), missing_indicators=True)
    # z has no gap, colour is categorical: x alone gets an indicator
    assert flagged.features == ["x", "x=missing", "z", "colour=blue", "colour=green", "colour=red"]
    assert flagged.network.sizes[0] == len(plain.features) + 1
    raw = encode(as_table(frame()), flagged.columns)
    expected = [1.0 if r in X_GAPS else 0.0 for r in range(24)]
    np.testing.assert_array_equal(raw[:, 1], expected)
    # x itself: the gaps filled with the median, then robustly scaled (numpy's linear quartiles)
    median = statistics.median(present_x())
    q1, _, q3 = statistics.quantiles(present_x(), n=4, method="inclusive")
    z = (np.array([median if r in X_GAPS else X[r] for r in range(24)]) - median) / (q3 - q1)
    np.testing.assert_allclose(raw[:, 0], z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-12)


def test_an_indicator_comes_from_gaps_in_the_training_rows_only():
    table = as_table(frame().drop(columns="colour"))
    without_gaps = [r for r in range(24) if r not in X_GAPS]
    (x,) = fit_columns(table, ["x"], np.array(without_gaps), missing_indicators=True)
    assert not x.indicator  # x's gaps are all in rows held out
    (x,) = fit_columns(table, ["x"], np.arange(24), missing_indicators=True)
    assert x.indicator and x.inputs == ["x", "x=missing"]


def test_missing_indicators_is_checked():
    with pytest.raises(TypeError, match="'missing_indicators' must be True or False, got 'yes'"):
        TabularModel.train(frame(), "y", missing_indicators="yes", **FAST)


def test_indicators_round_trip_through_the_model_file(tmp_path):
    model = train_quietly(frame(), missing_indicators=True)
    model.save(tmp_path / "m.npz")
    loaded = TabularModel.load(tmp_path / "m.npz")
    assert loaded.network.metadata["missing_indicators"] == ["x"]
    assert loaded.columns == model.columns and loaded.features == model.features
    test = frame().drop(columns="y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FilledGapsWarning)
        np.testing.assert_array_equal(loaded.predict(test)["p_yes"], model.predict(test)["p_yes"])


@pytest.mark.parametrize(
    "indicators, message",
    [
        (["colour"], "names of numeric columns"),
        (["nope"], "names of numeric columns"),
        (["x", "x"], "distinct names"),
        ("x", "a list of distinct names"),
        ([], "columns giving the features"),  # the file's features have x=missing
    ],
)
def test_a_bad_missing_indicators_entry_is_refused_naming_it(tmp_path, indicators, message):
    model = train_quietly(frame(), missing_indicators=True)
    meta = model.metadata()
    meta["missing_indicators"] = indicators
    cr.save(model.network, tmp_path / "bad.npz", metadata=meta)
    with pytest.raises(cr.ModelFileError, match=message):
        TabularModel.load(tmp_path / "bad.npz")


def test_the_command_line_option_trains_indicators(capsys, tmp_path):
    data = write_csv(tmp_path / "gaps.csv")
    for extra, expected in (((), ["x", "z"]), (("--missing-indicators",), ["x", "x=missing", "z"])):
        out = tmp_path / "m.npz"
        code, _, err = run(capsys, "train", data, "--target", "y", "--epochs", "1", "--quiet",
                           "--drop", "colour", "--out", out, *extra)  # fmt: skip
        assert code == 0, err
        assert TabularModel.load(out).features == expected


def test_boundary_and_indicators_are_refused_together_before_training(capsys, tmp_path):
    data = write_csv(tmp_path / "gaps.csv")
    code, _, err = run(capsys, "train", data, "--target", "y", "--features", "x,z",
                       "--missing-indicators", "--boundary", tmp_path / "b.png", "--out",
                       tmp_path / "m.npz")  # fmt: skip
    assert code == 2 and not (tmp_path / "m.npz").exists()
    assert err.splitlines()[-1] == (
        "chainrule: error: --boundary draws a network of exactly two inputs, and "
        "--missing-indicators adds one for each column with missing cells; leave out one of them"
    )


# -- ONNX ------------------------------------------------------------------------------------------
def onnx_feeds(model, test):
    numeric = [c.name for c in model.columns if c.kind == "numeric"]
    categorical = [c.name for c in model.columns if c.kind != "numeric"]
    cells = [["" if v is None else str(v) for v in test[c]] for c in categorical]
    return {
        "X": test[numeric].to_numpy(np.float32),
        "categories": np.array(cells, dtype=object).T,
    }


@pytest.mark.parametrize("indicators", [False, True])
def test_the_onnx_export_fills_gaps_and_builds_indicators_as_predict_does(indicators):
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from onnx_helpers import assert_close

    model = train_quietly(frame(), missing_indicators=indicators)
    test = frame().drop(columns="y")
    test.loc[[0, 7], "x"] = np.nan  # gaps in rows that had none in training too
    test.loc[11, "colour"] = None
    session = onnxruntime.InferenceSession(
        cr.onnx.to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, probabilities = session.run(None, onnx_feeds(model, test))
    with pytest.warns(
        FilledGapsWarning, match=r"filled 6 missing cells in 2 columns \('x' 4, 'colour' 2\)"
    ):
        expected = model.predict(test)
    assert labels.tolist() == expected["prediction"].tolist()
    assert_close(probabilities, expected[["p_no", "p_yes"]].to_numpy(), np.float32)


# -- info and --scaling ---------------------------------------------------------------------------
def test_info_shows_each_numeric_inputs_scaling_and_fill(capsys, tmp_path):
    data = write_csv(tmp_path / "gaps.csv")
    out = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", data, "--target", "y", "--epochs", "1", "--quiet",
                       "--validation-split", "0", "--missing-indicators", "--out", out)  # fmt: skip
    assert code == 0, err
    _, text, _ = run(capsys, "info", out)
    x = present_x()
    q1, _, q3 = statistics.quantiles(x, n=4, method="inclusive")  # numpy's linear quantiles
    median = statistics.median(x)
    assert (
        f"  column 'x': numeric; scaling robust (median {median:g}, interquartile range "
        f"{q3 - q1:g}, smoothly clipped to +-3, then standardised); missing cells filled with "
        f"{median:g}; input x=missing: 1 where missing\n"
    ) in text
    assert "  column 'z': numeric; scaling robust (median" in text
    assert f"missing cells filled with {statistics.median(Z):g}\n" in text
    assert (
        "  column 'colour': one-hot over blue, green, red; missing cells filled with 'red'" in text
    )
    _, text, _ = run(capsys, "info", out, "--format", "json")
    x_info, z_info, colour_info = json.loads(text)["columns"]
    assert x_info == {
        "name": "x", "kind": "numeric", "categories": [], "fill": median, "scaling": "robust",
        "center": median, "spread": q3 - q1, "missing_indicator": True,
    }  # fmt: skip
    assert z_info["missing_indicator"] is False and "scaling" not in colour_info


def test_train_takes_scaling_standard_and_info_says_it(capsys, tmp_path):
    data = write_csv(tmp_path / "complete.csv", gaps=False)
    out = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", data, "--target", "y", "--epochs", "1", "--quiet",
                       "--scaling", "standard", "--impute", "none", "--out", out)  # fmt: skip
    assert code == 0, err
    model = TabularModel.load(out)
    assert "robust" not in model.network.metadata
    assert all(c.spread is None for c in model.columns)
    _, text, _ = run(capsys, "info", out)
    assert (
        "  column 'x': numeric; scaling standard (standardised only); a missing cell is refused "
        "(no fill value: trained with --impute none)\n"
    ) in text
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(data), "--target", "y", "--scaling", "minmax"])
    assert exit_.value.code == 2
    assert "argument --scaling: invalid choice: 'minmax'" in capsys.readouterr().err


# -- messages as each caller spells options ------------------------------------------------------
def tiny(rows: int = 2) -> Table:
    x = np.arange(float(rows))
    y = np.array(["a", "b"] * (rows // 2), dtype=object)
    return Table("<t>", ["x", "y"], {"x": x, "y": y})


def test_python_messages_name_keywords_not_flags():
    with pytest.raises(DataError) as error:
        train_table(tiny(), "y", validation_split=0.9, verbose=0)
    assert str(error.value) == (
        "<t>: validation_split=0.9 leaves no rows for training out of 2; pass a smaller "
        "fraction (or validation_split=0 for none)"
    )
    with pytest.warns(UserWarning) as caught:
        train_table(tiny(4), "y", epochs=1, hidden=(2,), verbose=0)
    said = [str(w.message) for w in caught]
    assert "batch_size=32 is larger than the 4 training rows: each step uses all of them " \
        "(one batch)" in said  # fmt: skip
    assert "validation_split=0.1 of 4 rows holds out no row: training without validation" in said
    with pytest.raises(DataError) as error:
        train_table(tiny(4), "y", loss="mae", verbose=0)
    assert str(error.value).endswith(
        "loss='mae' does not fit: 'y' holds 2 classes, and mae is a regression loss; use "
        "loss='cross_entropy' (or task='regression')"
    )
    assert not [m for m in said if "--" in m]


def test_the_command_line_names_the_same_flags(capsys, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("x,y\n0,a\n1,b\n")
    code, _, err = run(capsys, "train", path, "--target", "y", "--validation-split", "0.9")
    assert code == 2 and err.splitlines()[-1] == (
        f"chainrule: error: {path}: --validation-split 0.9 leaves no rows for training out of "
        "2; pass a smaller fraction (or --validation-split 0 for none)"
    )
    code, _, err = run(capsys, "train", path, "--target", "y", "--loss", "mae")
    assert code == 2 and err.splitlines()[-1].endswith(
        "--loss mae does not fit: 'y' holds 2 classes, and mae is a regression loss; use --loss "
        "cross_entropy (or --task regression)"
    )


def test_a_regression_loss_advice_lists_the_choices_in_each_spelling(capsys, tmp_path):
    data = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) / 2})
    with pytest.raises(DataError, match=r"use loss='mse', 'mae' or 'huber'$"):
        TabularModel.train(data, "y", loss="cross_entropy", epochs=1)
    data.to_csv(tmp_path / "r.csv", index=False)
    code, _, err = run(capsys, "train", tmp_path / "r.csv", "--target", "y", "--loss",
                       "cross_entropy")  # fmt: skip
    assert code == 2 and err.rstrip().endswith("use --loss mse, mae or huber")


# -- the scikit-learn estimators ------------------------------------------------------------------
def test_the_estimators_fill_by_default_and_take_missing_indicators():
    pytest.importorskip("sklearn")
    from chainrule.sklearn import TableClassifier, TableRegressor

    for estimator in (TableClassifier(), TableRegressor()):
        params = estimator.get_params()
        assert params["impute"] == "median" and params["missing_indicators"] is False
    features, labels = frame().drop(columns="y"), frame()["y"]
    options = {"epochs": 2, "validation_split": 0, "hidden": (4,), "batch_size": 8}
    with pytest.warns(FilledGapsWarning, match="impute='none' to refuse them"):
        clf = TableClassifier(**options).fit(features, labels)
    assert clf.model_.features == ["x", "z", "colour=blue", "colour=green", "colour=red"]
    with pytest.warns(FilledGapsWarning, match="stored in the model"):
        assert clf.predict(features).shape == (24,)
    with pytest.warns(FilledGapsWarning):
        flagged = TableClassifier(missing_indicators=True, **options).fit(features, labels)
    assert flagged.model_.features[:2] == ["x", "x=missing"]


def test_reading_a_csv_gives_the_same_fill_as_a_dataframe(tmp_path):
    from_csv = train_quietly(read_csv(str(write_csv(tmp_path / "gaps.csv"))))
    from_frame = train_quietly(frame())
    assert from_csv.columns == from_frame.columns
