"""The table model's default numeric scaling (issue 28): robust scaling with a smooth clip,
fitted on the training rows, stored in the model file and applied by predict, evaluate and the
ONNX export; models without it (``scaling='standard'``, and files written before it) load and
predict as before."""

import json
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.tables.encoding import Column, robust_scale, smooth_clip
from chainrule.tables.model import TabularModel, train_table
from chainrule.tables.reading import as_table

pd = pytest.importorskip("pandas")


def expected_clip(x, center, spread):
    """The transform written out in numpy: median-centred, IQR-scaled, x / sqrt(1 + (x/3)^2)."""
    z = (np.asarray(x, dtype=np.float64) - center) / spread
    return z / np.sqrt(1 + (z / 3) ** 2)


def frame_of(n=200, seed=0):
    """A skewed numeric column with an outlier, a plain one with gaps, a 0/1 flag that is
    mostly 0 (its interquartile range is 0), a text category; a value to predict."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(10, 1, n),
            "age": rng.normal(40, 12, n).round(),
            "flag": (rng.random(n) < 0.1).astype(int),
            "town": rng.choice(["north", "south", "east"], n),
        }
    )
    frame.loc[7, "income"] = 1e9
    frame["y"] = np.log(frame["income"]) + 0.05 * frame["age"] + rng.normal(0, 0.1, n)
    frame.loc[::13, "age"] = np.nan
    return frame


# -- the transform's numbers ------------------------------------------------------------------
def test_robust_scale_is_the_median_and_the_interquartile_range():
    values = np.array([5.0, 1.0, np.nan, 2.0, 9.0, 4.0, 100.0])
    present = values[~np.isnan(values)]
    center, spread = robust_scale(values)
    assert center == np.median(present)
    q25, q75 = np.percentile(present, [25, 75])
    assert spread == q75 - q25


def test_robust_scale_falls_back_to_half_the_range_then_to_one():
    flag = np.array([0.0] * 9 + [1.0])  # the middle half is one value
    assert robust_scale(flag) == (0.0, 0.5)
    assert robust_scale(np.full(5, 7.0)) == (7.0, 1.0)
    assert robust_scale(np.array([np.nan, np.nan])) == (0.0, 1.0)


def test_robust_scale_of_values_near_the_largest_float_is_finite():
    values = np.array([-1.7e308, -1e308, 1e308, 1.7e308])
    center, spread = robust_scale(values)
    assert np.isfinite(center) and np.isfinite(spread) and spread > 0


def test_smooth_clip_matches_the_formula_and_stays_within_three():
    x = np.array([-1e300, -50.0, -3.0, 0.0, 0.5, 2.0, 7.0, 1e12, 1.7e308, np.nan])
    got = smooth_clip(x, 2.0, 4.0)
    finite = np.abs(x) < 1e100
    np.testing.assert_allclose(got[finite], expected_clip(x[finite], 2.0, 4.0), rtol=1e-15)
    assert got[0] == -3.0 and got[-2] == 3.0  # the limit, without overflow
    assert np.isnan(got[-1])
    assert np.all(np.abs(got[:-1]) <= 3.0)
    assert smooth_clip(np.array([2.0]), 2.0, 4.0)[0] == 0.0


# -- in a trained model -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    frame = frame_of()
    run = train_table(as_table(frame), "y", impute="median", epochs=3, verbose=0, seed=0)
    return frame, run


def test_every_numeric_column_is_fitted_on_the_training_rows(trained):
    frame, run = trained
    model = run.model
    numeric = [c for c in model.columns if c.kind == "numeric"]
    assert [c.name for c in numeric] == ["income", "age", "flag"]
    for column in numeric:
        values = frame[column.name].to_numpy(dtype=float)[run.train_rows]
        assert (column.center, column.spread) == robust_scale(values)
    town = next(c for c in model.columns if c.kind == "categorical")
    assert town.center is None and town.spread is None


def test_held_out_rows_far_away_move_no_statistic(trained):
    frame, run = trained
    far = frame.copy()
    far.loc[run.validation_rows, "income"] = 1e6 * far["income"].max()
    again = train_table(as_table(far), "y", impute="median", epochs=3, verbose=0, seed=0)
    assert [(c.center, c.spread, c.fill) for c in again.model.columns] == [
        (c.center, c.spread, c.fill) for c in run.model.columns
    ]
    np.testing.assert_array_equal(again.model.mean, run.model.mean)
    np.testing.assert_array_equal(again.model.scale, run.model.scale)


def test_inputs_are_the_clipped_values_standardised(trained):
    frame, run = trained
    model = run.model
    table = as_table(frame)
    inputs = model.inputs(table)
    for column in model.columns:
        if column.kind != "numeric":
            continue
        j = model.features.index(column.name)
        raw = frame[column.name].to_numpy(dtype=float)
        raw = np.where(np.isnan(raw), column.fill, raw)
        clipped = expected_clip(raw, column.center, column.spread)
        expected = (clipped - model.mean[j]) / model.scale[j]
        np.testing.assert_allclose(inputs[:, j], expected.astype(np.float32), rtol=1e-6)
        # the standardisation's statistics are those of the clipped training values
        train = clipped[run.train_rows]
        np.testing.assert_allclose(model.mean[j], train.mean(), rtol=1e-12)
        np.testing.assert_allclose(model.scale[j], train.std(), rtol=1e-12)
    assert np.abs(inputs).max() < 50  # the outlier income of 1e9 is no longer hundreds of sds


def test_an_outlier_at_predict_is_clipped_not_refused(trained):
    frame, run = trained
    model = run.model
    test = frame.drop(columns="y").iloc[[1, 1, 1]].copy()  # one row, three incomes
    test["income"] = [1e300, 1e30, np.median(frame["income"])]
    prediction = model.predict(test)["prediction"].to_numpy()
    assert np.all(np.isfinite(prediction))
    assert prediction[0] == prediction[1]  # both at the clip's limit, 3
    assert prediction[0] != prediction[2]


def test_the_scaling_is_stored_and_applied_after_loading(trained, tmp_path):
    frame, run = trained
    model = run.model
    model.save(tmp_path / "m.npz")
    loaded = TabularModel.load(tmp_path / "m.npz")
    meta = loaded.network.metadata
    assert meta["robust"] == [
        None if c.spread is None else [c.center, c.spread] for c in model.columns
    ]
    assert [(c.center, c.spread) for c in loaded.columns] == [
        (c.center, c.spread) for c in model.columns
    ]
    test = frame.drop(columns="y")
    np.testing.assert_array_equal(
        loaded.predict(test)["prediction"], model.predict(test)["prediction"]
    )
    assert loaded.evaluate(as_table(frame))["r2"] == model.evaluate(as_table(frame))["r2"]


def test_standard_scaling_stores_nothing_new_and_standardises_only(tmp_path):
    frame = frame_of().dropna()
    model = TabularModel.train(frame, "y", scaling="standard", epochs=2, seed=0)
    assert all(c.center is None and c.spread is None for c in model.columns)
    assert "robust" not in model.metadata()
    j = model.features.index("income")
    raw = frame["income"].to_numpy(dtype=float)
    np.testing.assert_allclose(
        model.inputs(as_table(frame))[:, j],
        ((raw - model.mean[j]) / model.scale[j]).astype(np.float32),
        rtol=1e-6,
    )


def test_a_huge_value_is_clipped_by_default_and_refused_by_standard_scaling():
    frame = frame_of().dropna()
    frame.loc[frame.index[3], "income"] = 2.0**1023
    model = TabularModel.train(frame, "y", epochs=1, seed=0)
    assert np.all(np.abs(model.inputs(as_table(frame))) < 50)
    with pytest.raises(
        ValueError, match=r"column 'income' holds 8.98847e\+307 in the row with index 4, too large"
    ):
        TabularModel.train(frame, "y", scaling="standard", epochs=1, seed=0)


def test_scaling_is_checked():
    with pytest.raises(ValueError, match="'scaling' must be one of robust, standard"):
        TabularModel.train(frame_of().dropna(), "y", scaling="minmax", epochs=1)


# -- old files ----------------------------------------------------------------------------------
def old_file(tmp_path, frame):
    """A model file as chainrule wrote it before robust scaling: no "robust" key."""
    model = TabularModel.train(frame, "y", scaling="standard", impute="median", epochs=2, seed=1)
    path = tmp_path / "old.npz"
    model.save(path)
    return model, path


def test_an_old_model_file_loads_and_predicts_as_before(tmp_path):
    frame = frame_of()
    model, path = old_file(tmp_path, frame)
    loaded = TabularModel.load(path)
    assert "robust" not in loaded.network.metadata
    assert all(c.spread is None for c in loaded.columns)
    test = frame.drop(columns="y")
    before = model.predict(test)["prediction"]
    np.testing.assert_array_equal(loaded.predict(test)["prediction"], before)
    # a value far outside the training range is refused as before, not clipped
    test = test.iloc[:1].copy()
    test["income"] = 1e300
    with pytest.raises(ValueError, match="far outside the training rows' range"):
        loaded.predict(test)


def test_an_old_file_without_columns_still_loads(tmp_path):
    frame = frame_of().dropna()[["income", "age", "flag", "y"]]
    model = TabularModel.train(frame, "y", scaling="standard", epochs=1, seed=0)
    meta = model.metadata()
    del meta["columns"]  # the oldest files: numeric features, no fill
    cr.save(model.network, tmp_path / "oldest.npz", metadata=meta)
    loaded = TabularModel.load(tmp_path / "oldest.npz")
    assert [c.spread for c in loaded.columns] == [None, None, None]
    np.testing.assert_array_equal(
        loaded.predict(frame)["prediction"], model.predict(frame)["prediction"]
    )


@pytest.mark.parametrize(
    "robust, message",
    [
        ([[0.0, 1.0]], "one entry per column"),
        ([[0.0, 1.0], [0.0, 1.0], [0.0, 0.0], None, None], "one entry per column"),
        ([[0.0, 1.0], [0.0, 1.0], [0.0, 0.0], None], "the spread > 0"),
        ([[0.0, 1.0], [0.0, 1.0], None, None], r"\[center, spread\]"),
        ([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], "null for a categorical column"),
        ([[0.0, 1.0], [float("nan"), 1.0], [0.0, 1.0], None], "finite numbers"),
    ],
)
def test_a_bad_robust_entry_is_refused_naming_it(trained, tmp_path, robust, message):
    _, run = trained
    model = run.model
    meta = model.metadata()
    meta["robust"] = robust
    cr.save(model.network, tmp_path / "bad.npz", metadata=meta)
    with pytest.raises(cr.ModelFileError, match=message):
        TabularModel.load(tmp_path / "bad.npz")


def test_robust_without_columns_is_refused(tmp_path):
    frame = frame_of().dropna()[["income", "age", "y"]]
    model = TabularModel.train(frame, "y", epochs=1, seed=0)
    meta = model.metadata()
    del meta["columns"]
    cr.save(model.network, tmp_path / "bad.npz", metadata=meta)
    with pytest.raises(cr.ModelFileError, match="metadata.robust"):
        TabularModel.load(tmp_path / "bad.npz")


def test_column_dicts_keep_the_file_schema():
    column = Column("x", "numeric", [], 1.0, 0.5, 2.0)
    assert column.to_dict() == {"name": "x", "kind": "numeric", "categories": [], "fill": 1.0}


# -- the command line and ONNX ------------------------------------------------------------------
def test_the_command_line_trains_with_robust_scaling(tmp_path):
    frame = frame_of()
    frame.to_csv(tmp_path / "t.csv", index=False)
    code = main(
        ["train", str(tmp_path / "t.csv"), "--target", "y", "--impute", "median", "--epochs",
         "2", "--out", str(tmp_path / "m.npz"), "--quiet"]
    )  # fmt: skip
    assert code == 0
    meta = TabularModel.load(tmp_path / "m.npz").network.metadata
    assert meta["robust"][0][0] == pytest.approx(np.median(frame["income"]), rel=0.5)
    assert json.dumps(meta["robust"])  # plain JSON numbers


def test_the_onnx_export_applies_the_scaling(trained):
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from onnx_helpers import assert_close

    frame, run = trained
    model = run.model
    test = frame.drop(columns="y").copy()
    test.loc[0, "income"] = 1e30  # clipped in both
    onx = cr.onnx.to_onnx(model)
    numeric = [c.name for c in model.columns if c.kind == "numeric"]
    categorical = [c.name for c in model.columns if c.kind != "numeric"]
    feeds = {
        "X": test[numeric].to_numpy(np.float32),
        "categories": np.array([[str(v) for v in test[c]] for c in categorical], dtype=object).T,
    }
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (Y,) = session.run(None, feeds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = model.predict(test)["prediction"].to_numpy()
    assert_close(Y[:, 0], expected, np.float32)


def test_the_table_route_uses_elu_hidden_layers_by_default(tmp_path):
    """Chosen on real tables (benchmarks/RESULTS.md, "ELU hidden layers"): Python, the command
    line and the estimators alike; the demo's worked network keeps the ReLU it describes."""
    from chainrule.sklearn import TableClassifier, TableRegressor

    frame = frame_of()
    network = TabularModel.train(frame, "y", epochs=2, hidden=(6,), verbose=0).network
    assert [layer.activation.name for layer in network.dense_layers] == ["elu", "identity"]
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = str(tmp_path / "m.npz")
    assert main(["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "2",
                 "--quiet", "--out", out]) == 0  # fmt: skip
    assert TabularModel.load(out).network.dense_layers[0].activation.name == "elu"
    assert TableClassifier().activation == TableRegressor().activation == "elu"
