"""Stored column transformations: applied to the training rows they give exactly the inputs the
network was trained on (a property test), and they survive the model file."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.core.network import Network
from chainrule.tables.encoding import FilledGapsWarning, UnseenCategoryWarning
from chainrule.tables.model import TabularModel, train_table
from chainrule.tables.reading import DataError, Table, as_table

CATEGORY = st.sampled_from(["a", "b", "c", None])
NUMBER = st.one_of(st.integers(-4000, 4000).map(lambda i: i / 4), st.just(float("nan")))
ROW = st.tuples(CATEGORY, NUMBER, st.integers(0, 2))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, min_size=6, max_size=30),
    impute=st.sampled_from(["median", "mean", "most_frequent"]),
    val=st.sampled_from([0.0, 0.3]),
)
def test_stored_transformations_reproduce_the_training_inputs(
    tmp_path, monkeypatch, rows, impute, val
):
    colours = np.array([r[0] for r in rows], dtype=object)
    numbers = np.array([r[1] for r in rows])
    labels = np.array([str(r[2] % 2) if i > 1 else str(i) for i, r in enumerate(rows)], object)
    if all(c is None for c in colours) or np.isnan(numbers).all():
        return
    table = Table("<rows>", ["colour", "x", "y"], {"colour": colours, "x": numbers, "y": labels})
    seen = {}
    fit = Network.fit

    def recording_fit(self, X, T, **options):
        seen["X"] = np.array(X)
        return fit(self, X, T, **options)

    monkeypatch.setattr(Network, "fit", recording_fit)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = train_table(
                table,
                "y",
                impute=impute,
                validation_split=val,
                epochs=1,
                verbose=0,
                hidden=(3,),
                batch_size=4,
            )
    except ValueError as error:  # a fill or category absent from the training rows
        assert "no values in training rows" in str(error) or "validation_split=" in str(error)
        return
    # expected only with a validation split: a held-out row may hold a category that no
    # training row has (it is encoded as all zeros); the filled gaps are said; nothing else
    # may warn
    expected = (FilledGapsWarning, UnseenCategoryWarning) if val else FilledGapsWarning
    assert [str(w.message) for w in caught if not issubclass(w.category, expected)] == []
    path = tmp_path / "m.npz"
    run.model.save(path)
    model = TabularModel.load(path)
    again = model.inputs(table.take(run.train_rows))  # float64; fit is given its float32 cast
    assert seen["X"].dtype == model.network.dtype
    np.testing.assert_array_equal(again.astype(model.network.dtype), seen["X"])
    assert model.columns == run.model.columns


def test_fill_values_are_the_training_rows_statistics():
    x = np.array([1.0, np.nan, 3.0, 10.0, np.nan, 2.0])
    colour = np.array(["b", "a", None, "b", "a", "b"], dtype=object)
    y = np.array(["0", "1", "0", "1", "0", "1"], dtype=object)
    table = Table("<t>", ["x", "colour", "y"], {"x": x, "colour": colour, "y": y})
    for impute, expected in (("median", 2.5), ("mean", 4.0), ("most_frequent", 1.0)):
        # the default batch of 32 is larger than the 6 rows: expected, and said
        with pytest.warns(UserWarning, match="larger than the 6 training rows"):
            run = train_table(
                table, "y", impute=impute, validation_split=0, epochs=1, verbose=0, hidden=(2,)
            )
        numeric, category = run.model.columns
        assert numeric.fill == pytest.approx(expected)  # np.nanmedian etc. by hand: 1,3,10,2
        assert category.fill == "b" and category.categories == ["a", "b"]


def test_dataframe_and_csv_give_the_same_model(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], 80),
            "x": rng.normal(size=80).round(3),
            "y": rng.choice(["no", "yes"], 80),
        }
    )
    frame.loc[[4, 9], "x"] = np.nan
    frame.loc[7, "colour"] = None
    path = tmp_path / "frame.csv"
    frame.to_csv(path, index=False)
    options = dict(target="y", impute="median", epochs=3, hidden=(4,))
    from_frame = TabularModel.train(frame, **options)
    from_file = TabularModel.train(path, **options)
    assert from_frame.columns == from_file.columns
    predicted = from_frame.predict(frame.drop(columns="y"))
    assert list(predicted.columns) == ["prediction", "p_no", "p_yes"]
    assert (predicted.index == frame.index).all()
    np.testing.assert_allclose(
        predicted["p_yes"].to_numpy(), from_file.predict(path)["p_yes"], rtol=1e-6
    )


def test_a_nullable_integer_column_keeps_its_gaps():
    """pandas' Int64 (convert_dtypes, dtype_backend="numpy_nullable") holds pd.NA: a gap, as
    an empty CSV cell is, not the int64 that NaN casts to (-9223372036854775808)."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"age": [30, None, 50, 41], "n": [1, 2, 3, 4], "y": [1.0, 2, 3, 4]})
    table = as_table(frame.convert_dtypes())
    np.testing.assert_array_equal(table.data["age"], [30.0, np.nan, 50.0, 41.0])
    assert table.data["n"].dtype == np.int64
    with pytest.raises(DataError, match="column 'age' has a missing value in the row with index 1"):
        train_table(
            table, "y", impute="none", validation_split=0, epochs=1, batch_size=4, verbose=0,
            hidden=(2,),
        )  # fmt: skip


def test_a_model_file_from_before_stored_transformations_still_loads(tmp_path):
    from chainrule.files import model_file as io

    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    table = Table("<t>", ["x", "y"], {"x": x, "y": np.array(list("ababab"), dtype=object)})
    model = train_table(
        table,
        "y",
        validation_split=0,
        epochs=1,
        verbose=0,
        hidden=(2,),
        batch_size=2,
        scaling="standard",  # as models were scaled then
    ).model
    old = {k: v for k, v in model.metadata().items() if k not in ("columns", "kept_epoch")}
    io.save(model.network, tmp_path / "old.npz", metadata=old)  # as issue 13's files were
    loaded = TabularModel.load(tmp_path / "old.npz")
    assert [(c.name, c.kind, c.fill) for c in loaded.columns] == [("x", "numeric", None)]
    np.testing.assert_array_equal(loaded.inputs(table), model.inputs(table))
    bad = dict(
        model.metadata(), columns=[{"name": "x", "kind": "text", "categories": [], "fill": None}]
    )
    io.save(model.network, tmp_path / "bad.npz", metadata=bad)
    with pytest.raises(io.ModelFileError, match=r"metadata.columns\[0\].kind must be one of"):
        TabularModel.load(tmp_path / "bad.npz")


def test_messages_about_a_dataframe_name_the_index_label_not_a_file_row():
    """A DataFrame's rows are found by label (``frame.loc``), not by a line of a file: a
    message names the label, here of a frame whose index is neither 0, 1, ... nor sorted."""
    pd = pytest.importorskip("pandas")

    labels = [f"p{i}" for i in range(30, 0, -1)]
    frame = pd.DataFrame(
        {"x": np.linspace(0, 1, 30), "c": ["u", "v"] * 15, "y": ["a", "b", "c"] * 10},
        index=labels,
    )
    options = {"epochs": 1, "validation_split": 0, "hidden": (2,), "batch_size": 8}
    gap = frame.copy()
    gap.loc["p21", "x"] = np.nan
    with pytest.raises(
        DataError, match=r"the row with index 'p21'; .* or pass impute='median', 'mean' or 'mos"
    ):
        TabularModel.train(gap, "y", impute="none", **options)
    model = TabularModel.train(frame, "y", **options)
    unseen = frame.copy()
    unseen.loc["p7", "c"] = "w"
    with pytest.raises(DataError, match=r"column 'c' holds 'w' in the row with index 'p7', a cat"):
        model.predict(unseen.iloc[10:], strict=True)
    other = frame.assign(y=["a", "b", "z"] * 10).iloc[3:]
    with pytest.raises(DataError, match=r"the row with index 'p25' has the class 'z', which"):
        model.evaluate(other)
    dated = frame.set_axis(pd.date_range("2020-01-01", periods=30)).assign(y=1.5)
    dated.iloc[3, 0] = np.inf
    with pytest.raises(
        DataError, match=r"holds inf .* in the row with index Timestamp\('2020-01-04"
    ):
        TabularModel.train(dated, "y", **options)


def test_messages_about_a_file_still_count_rows_as_a_spreadsheet_does(tmp_path):

    path = tmp_path / "data.csv"
    path.write_text("x,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(9)) + ",a\n")
    with pytest.raises(DataError, match=r"column 'x' has a missing value in row 11;"):
        TabularModel.train(
            path, "y", impute="none", epochs=1, validation_split=0, hidden=(2,), batch_size=4
        )


def test_feature_statistics_are_the_training_rows_alone():
    """The stored mean and scale are numpy's mean and standard deviation of the training rows
    (a numeric column, a one-hot categorical one), however far the held-out rows lie."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=40)
    colour = np.array(["red", "blue", "green", "red"] * 10, dtype=object)
    labels = np.array(["a", "b"] * 20, dtype=object)
    table = Table("<rows>", ["x", "colour", "y"], {"x": x, "colour": colour, "y": labels})
    options = {"validation_split": 0.25, "epochs": 1, "verbose": 0, "hidden": (2,), "batch_size": 8}
    options["scaling"] = "standard"  # the robust scaling's statistics: test_table_defaults.py
    run = train_table(table, "y", **options)
    train = run.train_rows
    x_far = x.copy()
    x_far[run.validation_rows] = 1e6  # held-out rows far away: the statistics must not move
    far = Table("<rows>", ["x", "colour", "y"], {"x": x_far, "colour": colour, "y": labels})
    again = train_table(far, "y", **options)
    model = run.model
    onehot = np.stack([colour[train] == c for c in ("blue", "green", "red")], axis=1)
    expected = np.column_stack([x[train], onehot.astype(float)])
    assert model.features[0] == "x" and len(model.features) == 4  # x, then the three colours
    np.testing.assert_allclose(model.mean, expected.mean(axis=0), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(model.scale, expected.std(axis=0), rtol=1e-14)
    np.testing.assert_array_equal(again.model.mean, model.mean)
    np.testing.assert_array_equal(again.model.scale, model.scale)


def test_each_cell_becomes_the_label_it_would_become_alone():
    # the column's cells are converted once per distinct (type, value): True and 1, 1 and 1.0
    # are equal in Python but not as labels of the same kind, and every NaN is missing
    from chainrule.tables.encoding import _category, _category_labels

    cells = np.array(
        [True, 1, 1.0, "1", np.float64(2.0), 2.5, float("nan"), None, np.nan, "a", True, 1],
        dtype=object,
    )
    expected = [_category(v) for v in cells]
    assert _category_labels(cells) == expected
    assert expected[:4] == ["True", "1", "1", "1"] and expected[6:9] == [None, None, None]
    floats = np.array([3.0, np.nan, 2.5])
    assert _category_labels(floats) == ["3", None, "2.5"]
    for other in (np.array([0.1, np.nan, 2.0], dtype=np.float32), np.arange(3)):
        assert _category_labels(other) == [_category(v) for v in other]


def test_without_a_fill_the_first_missing_category_is_the_one_named(tmp_path):
    from chainrule.tables.model import train_table
    from chainrule.tables.reading import DataError, as_table

    path = tmp_path / "gaps.csv"
    rows = [f"{i},{'' if i in (3, 6) else 'ab'[i % 2]},{i % 2}" for i in range(12)]
    path.write_text("x,c,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="column 'c' has a missing value in row 5;"):
        train_table(as_table(path), "y", impute="none", epochs=1, verbose=0, batch_size=8)
