"""Many-valued categorical columns on the table route (issue 28): categories in fewer than
``min_frequency`` rows share one input, as scikit-learn's ``OneHotEncoder(min_frequency=...,
handle_unknown='infrequent_if_exist')`` encodes them, compared with it on the same cells;
``'auto'`` pools only columns of more than 50 categories; unseen categories at predict time
take the shared input with a warning (or are refused with ``strict``); the model file, its
schema checks, the ONNX export, the command line and the estimators carry it.

Expected encodings come from scikit-learn or from ``collections.Counter`` over the fixture's
own cells, never from chainrule."""

import copy
import json
import pickle
import warnings
from collections import Counter

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.tables.encoding import (
    AUTO_MIN_FREQUENCY,
    MANY_CATEGORIES,
    UnseenCategoryWarning,
    encode,
    fit_columns,
)
from chainrule.tables.model import TabularModel, train_table
from chainrule.tables.reading import DataError, as_table

pd = pytest.importorskip("pandas")

# a long tail: "a" 30 rows, "b" 12, "c" 6, "d" 3, then 9 labels of one row each (60 rows)
WORDS = ["a"] * 30 + ["b"] * 12 + ["c"] * 6 + ["d"] * 3 + [f"t{i}" for i in range(9)]
FAST = {"epochs": 2, "hidden": (4,), "validation_split": 0, "batch_size": 16, "seed": 0}


def frame(words=WORDS) -> "pd.DataFrame":
    rng = np.random.default_rng(0)
    order = rng.permutation(len(words))
    x = rng.normal(size=len(words))
    return pd.DataFrame({"word": np.array(words, dtype=object)[order], "x": x, "y": 2 * x})


def train_quietly(data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TabularModel.train(data, "y", **{**FAST, **options})


# -- the encoding, against scikit-learn ----------------------------------------------------------
@pytest.mark.parametrize("k", [1, 4, 7, 13, 31, 100])  # 31 and up: every category
def test_the_encoding_is_scikit_learns_one_hot_with_min_frequency(k):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    data = frame()
    (column,) = fit_columns(as_table(data), ["word"], np.arange(60), min_frequency=k)
    reference = preprocessing.OneHotEncoder(
        min_frequency=k, handle_unknown="infrequent_if_exist", sparse_output=False
    ).fit(data[["word"]])
    counts = Counter(WORDS)
    assert column.categories == sorted(c for c in counts if counts[c] >= k)
    assert column.infrequent == sorted(c for c in counts if counts[c] < k)
    new = pd.DataFrame({"word": ["a", "d", "t3", "never seen", "b", "c"], "x": 0.0, "y": 0.0})
    for cells in (data, new):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnseenCategoryWarning)
            got = encode(as_table(cells), [column])
        np.testing.assert_array_equal(got, reference.transform(cells[["word"]]))


def test_without_min_frequency_every_category_has_its_input():
    (column,) = fit_columns(as_table(frame()), ["word"], np.arange(60))
    assert column.infrequent == [] and column.categories == sorted(set(WORDS))
    assert "infrequent" not in column.to_dict()  # its file as before the option


def test_a_fill_value_among_the_infrequent_categories_fills_with_their_input():
    # the training rows (those without "a" or "b") make "c" the fill, 6 rows of the table
    data = frame()
    rows = np.flatnonzero(~data["word"].isin(["a", "b"]).to_numpy())
    (column,) = fit_columns(as_table(data), ["word"], rows, impute="median", min_frequency=10)
    assert column.categories == ["a", "b"] and column.fill == "c"
    assert column.inputs == ["word=a", "word=b", "word=(infrequent)"]
    gap = pd.DataFrame({"word": [None, "b"], "x": 0.0, "y": 0.0})
    np.testing.assert_array_equal(encode(as_table(gap), [column]), [[0, 0, 1], [0, 1, 0]])


def test_every_category_infrequent_leaves_the_shared_input_alone(tmp_path):
    model = train_quietly(frame(), min_frequency=100, impute="median")
    assert model.columns[0].categories == [] and model.columns[0].fill == "a"
    assert model.features == ["word=(infrequent)", "x"]
    model.save(tmp_path / "m.npz")
    assert TabularModel.load(tmp_path / "m.npz").columns == model.columns


def test_a_category_spelled_as_the_shared_input_does_not_collide(tmp_path):
    words = ["(infrequent)"] * 20 + ["((infrequent))"] * 20 + ["a"] * 20 + ["r1", "r2"]
    model = train_quietly(frame(words), min_frequency=5)
    assert model.features == [
        "word=((infrequent))", "word=(infrequent)", "word=a", "word=(((infrequent)))", "x",
    ]  # fmt: skip
    model.save(tmp_path / "m.npz")
    assert TabularModel.load(tmp_path / "m.npz").features == model.features


def test_auto_pools_only_columns_of_many_categories():
    assert (AUTO_MIN_FREQUENCY, MANY_CATEGORIES) == (40, 50)
    few = frame()  # 13 categories: kept whole, even the one-row ones
    (column,) = fit_columns(as_table(few), ["word"], np.arange(60), min_frequency="auto")
    assert column.infrequent == []
    words = ["common"] * 40 + ["other"] * 39 + [f"w{i:02d}" for i in range(48)]  # 50 categories
    (column,) = fit_columns(as_table(frame(words)), ["word"], np.arange(127), min_frequency="auto")
    assert column.infrequent == []  # 50 categories is not many
    words.append("w48")  # 51
    (column,) = fit_columns(as_table(frame(words)), ["word"], np.arange(128), min_frequency="auto")
    assert column.categories == ["common"]  # 40 rows; "other" has 39, one short
    assert column.infrequent == ["other", *[f"w{i:02d}" for i in range(49)]]


@pytest.mark.parametrize(
    "value, error, message",
    [
        (0, ValueError, "'min_frequency' must be 'auto', None or a whole number >= 1, got 0"),
        (True, TypeError, "'min_frequency' must be 'auto', None or a whole number >= 1, got True"),
        (2.5, TypeError, "'min_frequency' must be 'auto', None or a whole number >= 1, got 2.5"),
        ("often", ValueError, "'min_frequency' must be 'auto', None or a whole number >= 1, got"),
    ],
)
def test_a_bad_min_frequency_is_refused_naming_it(value, error, message):
    with pytest.raises(error, match=message):
        TabularModel.train(frame(), "y", min_frequency=value, **FAST)
    with pytest.raises(error, match=message):
        fit_columns(as_table(frame()), ["word"], np.arange(60), min_frequency=value)
    with pytest.raises(error, match=message):  # before the rows are looked at
        train_table(as_table(frame()), "no such target", min_frequency=value)


def test_training_says_how_many_categories_share_an_input_as_python_spells_it():
    words = WORDS + [f"u{i:02d}" for i in range(60) for _ in range(2)]  # 73 categories
    with pytest.warns(UserWarning) as caught:
        TabularModel.train(frame(words), "y", min_frequency=2, **FAST)
    (line,) = [str(w.message) for w in caught if "column 'word'" in str(w.message)]
    assert line == (
        "column 'word': 9 of its 73 categories are in fewer than 2 rows each and share one "
        "input, word=(infrequent) (set by min_frequency=2; min_frequency=None gives every "
        "category its own); still one-hot encoded into 65 inputs, drop=['word'] leaves it out"
    )


# -- predict ---------------------------------------------------------------------------------------
def test_an_unseen_category_takes_the_shared_input_with_a_warning_or_is_refused():
    model = train_quietly(frame(), min_frequency=5)
    rows = pd.DataFrame({"word": ["d", "zebra", "t1"], "x": [0.5, 0.5, 0.5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an infrequent category seen in training says nothing
        known = model.predict(rows.iloc[[0, 2]])
    with pytest.warns(UnseenCategoryWarning) as caught:
        unseen = model.predict(rows)
    (warning,) = caught
    assert (
        "column 'word' holds 'zebra' in the row with index 1, a category not seen in training "
        "(it knows a, b, c and 10 infrequent categories); encoded as its infrequent categories are"
    ) in str(warning.message)
    # "d", "zebra" and "t1" are the same input: the same prediction, to float32 rounding (the
    # matrix products may add a row's terms in another order by its place in the batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        inputs = model.inputs(as_table(rows))
    assert (inputs == inputs[0]).all()
    predictions = np.array([*unseen["prediction"], known["prediction"].iloc[0]])
    outputs = (predictions - model.target_mean) / model.target_scale  # the network's, about 1
    np.testing.assert_allclose(outputs, outputs[0], rtol=0, atol=1e-6)  # a few float32 ulps
    with pytest.raises(
        DataError, match="'zebra' in the row with index 1, a category not seen in training"
    ):
        model.predict(rows, strict=True)


def test_the_unseen_message_counts_the_infrequent_categories_when_none_is_frequent(capsys):
    model = train_quietly(frame(), min_frequency=100)
    rows = pd.DataFrame({"word": ["zebra"], "x": [0.0]})
    with pytest.raises(
        DataError, match=r"not seen in training \(it knows 13 infrequent categories\)$"
    ):
        model.predict(rows, strict=True)
    one = train_quietly(frame(["a"] * 20 + ["b"]), min_frequency=5)
    with pytest.raises(DataError, match=r"\(it knows a and 1 infrequent category\)$"):
        one.predict(rows, strict=True)


def test_columns_giving_the_same_input_name_are_refused_in_training():
    x = np.arange(40.0)
    clash = pd.DataFrame({"w": ["a"] * 30 + [f"r{i}" for i in range(10)], "w=(infrequent)": x})
    clash["y"] = x
    with pytest.raises(
        DataError,
        match=r"the columns 'w' and 'w=\(infrequent\)' both give the input 'w=\(infrequent\)'; "
        r"rename one of them, or leave one out with drop=\['w=\(infrequent\)'\]",
    ):
        TabularModel.train(clash, "y", min_frequency=5, **FAST)
    plain = pd.DataFrame({"w": ["a", "b"] * 20, "w=a": x, "y": x})  # without pooling too
    with pytest.raises(DataError, match="both give the input 'w=a'"):
        TabularModel.train(plain, "y", **FAST)


# -- the model file -------------------------------------------------------------------------------
def test_infrequent_categories_round_trip_through_the_model_file(tmp_path):
    model = train_quietly(frame(), min_frequency=5)
    model.save(tmp_path / "m.npz")
    loaded = TabularModel.load(tmp_path / "m.npz")
    assert loaded.columns == model.columns
    assert loaded.columns[0].infrequent == ["d", *[f"t{i}" for i in range(9)]]
    test = frame().drop(columns="y")
    np.testing.assert_array_equal(
        loaded.predict(test)["prediction"], model.predict(test)["prediction"]
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c[0].update(infrequent=["a"]), r"categories.*none of them infrequent"),
        (lambda c: c[0].update(infrequent=["d", "d"]), r"infrequent must be distinct text"),
        (lambda c: c[0].update(infrequent="d"), r"infrequent must be distinct text"),
        (lambda c: c[0].update(infrequent=[]), r"infrequent must be distinct text"),
        (lambda c: c[0].update(infrequent=[None]), r"infrequent must be distinct text"),
        (lambda c: c[1].update(infrequent=["d"]), r"infrequent must be absent \(numeric\)"),
        (lambda c: c[0].update(fill="zebra"), r"fill must be null or a category"),
        (
            lambda c: c[0].update(categories=[], infrequent=None) or c[0].pop("infrequent"),
            r"categories must be distinct text labels \(at least one\)",
        ),  # fmt: skip
        (lambda c: c[0].pop("infrequent"), "columns giving the features"),  # one input too many
    ],
)
def test_a_bad_infrequent_entry_is_refused_naming_it(tmp_path, edit, message):
    model = train_quietly(frame(), min_frequency=5)
    meta = model.metadata()
    edit(meta["columns"])
    cr.save(model.network, tmp_path / "bad.npz", metadata=meta)
    with pytest.raises(cr.ModelFileError, match=message):
        TabularModel.load(tmp_path / "bad.npz")


# -- ONNX ------------------------------------------------------------------------------------------
def test_the_onnx_export_pools_infrequent_and_unseen_categories_as_predict_does():
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from onnx_helpers import assert_close

    model = train_quietly(frame(), min_frequency=5, impute="median")
    words = ["a", "b", "c", "d", "t4", "zebra", None, "t8"]
    test = pd.DataFrame({"word": words, "x": np.linspace(-1, 1, len(words))})
    session = onnxruntime.InferenceSession(
        cr.onnx.to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feeds = {
        "X": test[["x"]].to_numpy(np.float32),
        "categories": np.array([["" if w is None else w] for w in words], dtype=object),
    }
    (values,) = session.run(None, feeds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = model.predict(test)["prediction"].to_numpy()
    assert_close(values.ravel(), expected, np.float32)
    assert json.loads(session.get_modelmeta().custom_metadata_map["infrequent_categories"]) == {
        "word": ["d", *[f"t{i}" for i in range(9)]]
    }


def test_in_onnx_a_missing_cell_without_fill_takes_the_shared_input():
    # predict refuses the cell (impute='none'); the graph cannot, and encodes it as unseen
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    model = train_quietly(frame(), min_frequency=5, impute="none")
    session = onnxruntime.InferenceSession(
        cr.onnx.to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    cells = np.array([[""], ["NA"], ["zebra"], ["t3"], ["a"]], dtype=object)
    (values,) = session.run(None, {"X": np.zeros((5, 1), np.float32), "categories": cells})
    assert values[0] == values[1] == values[2] == values[3] != values[4]


# -- the command line and the estimators ---------------------------------------------------------
def test_the_command_line_takes_auto_none_and_a_count(capsys, tmp_path):
    path = tmp_path / "words.csv"
    frame().to_csv(path, index=False)
    common = ["train", str(path), "--target", "y", "--epochs", "1", "--quiet", "--out"]
    for flag, infrequent in ((None, 0), ("auto", 0), ("none", 0), ("5", 10), ("13", 12)):
        out = tmp_path / "m.npz"
        extra = [] if flag is None else ["--min-frequency", flag]
        assert main([*common, str(out), *extra]) == 0, capsys.readouterr().err
        assert len(TabularModel.load(out).columns[0].infrequent) == infrequent
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main([*common, str(tmp_path / "m.npz"), "--min-frequency", "0"])
    assert stopped.value.code == 2
    assert (
        "argument --min-frequency: expected auto, none or a whole number >= 1, got '0'"
        in capsys.readouterr().err
    )


def test_the_estimators_take_min_frequency_and_old_pickles_restore_without_it():
    pytest.importorskip("sklearn")
    from chainrule.sklearn import TableRegressor

    data = frame()
    assert TableRegressor().get_params()["min_frequency"] == "auto"
    X = data[["word", "x"]]
    reg = TableRegressor(epochs=2, min_frequency=5).fit(X, data["y"])
    assert reg.model_.columns[0].infrequent == ["d", *[f"t{i}" for i in range(9)]]
    # a pickle from before the parameter: an estimator without it, whose columns lacked the
    # attribute too (it trained an input per category, as min_frequency=None does)
    old = TableRegressor(epochs=2, min_frequency=None).fit(X, data["y"])
    state = copy.deepcopy(old.__getstate__())
    del state["min_frequency"]
    for column in state["model_"].columns:
        del column.__dict__["infrequent"]
    state = pickle.loads(pickle.dumps(state))
    restored = TableRegressor.__new__(TableRegressor)
    restored.__setstate__(state)
    assert restored.get_params()["min_frequency"] is None
    assert [c.infrequent for c in restored.model_.columns] == [[], []]
    np.testing.assert_array_equal(restored.predict(X), old.predict(X))


def test_info_names_the_shared_input_as_the_model_does(capsys, tmp_path):
    words = ["(infrequent)"] * 20 + ["a"] * 20 + ["r1"]
    model = train_quietly(frame(words), min_frequency=5, impute="median")
    model.save(tmp_path / "m.npz")
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    assert (
        "  column 'word': one-hot over (infrequent), a, ((infrequent)) (1 infrequent category); "
        "missing cells filled with '(infrequent)'"
    ) in capsys.readouterr().out
