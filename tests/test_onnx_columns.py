"""Table models with categorical columns in ONNX: the one-hot encoding, the stored fill values
and unseen categories, in onnxruntime against ``TabularModel.predict``."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pd = pytest.importorskip("pandas")

import onnxruntime  # noqa: E402
from onnx_helpers import assert_close  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.tables.encoding import UnseenCategoryWarning  # noqa: E402
from chainrule.tables.model import TabularModel  # noqa: E402

ROOT = Path(__file__).parent.parent


def frame_of(n=240, seed=0):
    """Two numeric columns (one with gaps), a text category (with gaps) and an integer
    column named categorical; the target depends on both categories."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 3, n),
            "colour": rng.choice(["red", "blue", "green"], n),
            "weight": rng.normal(0, 1, n),
            "grade": rng.choice([1, 2, 3], n),
        }
    )
    frame["y"] = (
        frame["size"] + 3 * (frame["colour"] == "red") - frame["grade"] + rng.normal(0, 0.1, n)
    )
    frame["kind"] = np.where(frame["y"] > frame["y"].median(), "high", "low")
    frame.loc[::9, "colour"] = None
    frame.loc[::11, "weight"] = np.nan
    return frame


def onnx_inputs(model, frame, missing=""):
    """``X`` and ``categories`` as the exported model takes them, from a DataFrame."""
    numeric = [c.name for c in model.columns if c.kind == "numeric"]
    categorical = [c.name for c in model.columns if c.kind != "numeric"]
    feeds = {}
    if numeric:
        feeds["X"] = frame[numeric].to_numpy(np.float32)
    if categorical:
        cells = [[missing if v is None else str(v) for v in frame[name]] for name in categorical]
        feeds["categories"] = np.array(cells, dtype=object).T
    return feeds


def run(onx, feeds):
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, feeds)


def predict_quietly(model, frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        return model.predict(frame)


@pytest.fixture(scope="module")
def regressor():
    frame = frame_of()
    features = frame.drop(columns="kind")
    model = TabularModel.train(
        features, target="y", impute="most_frequent", categorical=["grade"], epochs=3, seed=0
    )
    return model, frame.drop(columns=["y", "kind"])


def test_categories_fills_and_unseen_values_match_predict(regressor):
    model, test = regressor
    assert [c.kind for c in model.columns] == ["numeric", "categorical", "numeric", "categorical"]
    test = test.copy()
    test.loc[3, "colour"] = "purple"  # unseen: all zeros in both
    test.loc[4, "grade"] = 7
    onx = cr.onnx.to_onnx(model)
    assert [value.name for value in onx.graph.input] == ["X", "categories"]
    (Y,) = run(onx, onnx_inputs(model, test))
    expected = predict_quietly(model, test)["prediction"].to_numpy()
    assert_close(Y[:, 0], expected, np.float32)
    # the unseen rows really differ from what a seen category gives
    seen = test.copy()
    seen.loc[3, "colour"] = "red"
    (Y_seen,) = run(onx, onnx_inputs(model, seen))
    assert abs(Y_seen[3, 0] - Y[3, 0]) > 1e-3


@pytest.mark.parametrize("spelling", ["", "NA", "nan", "None", "null"])
def test_every_missing_spelling_takes_the_stored_fill_category(regressor, spelling):
    model, test = regressor
    assert test["colour"].isna().sum() > 0
    onx = cr.onnx.to_onnx(model)
    (Y,) = run(onx, onnx_inputs(model, test, missing=spelling))
    assert_close(Y[:, 0], model.predict(test)["prediction"].to_numpy(), np.float32)


def test_a_missing_category_without_a_fill_value_is_all_zeros_like_an_unseen_one():
    frame = frame_of().dropna()
    model = TabularModel.train(
        frame.drop(columns="kind"), target="y", impute="none", epochs=2, seed=0
    )
    colour = next(c for c in model.columns if c.name == "colour")
    assert colour.kind == "categorical" and colour.fill is None
    test = frame.drop(columns=["y", "kind"]).iloc[:2].copy()
    onx = cr.onnx.to_onnx(model)
    gap = onnx_inputs(model, test)
    unseen = onnx_inputs(model, test)
    position = [c.name for c in model.columns if c.kind != "numeric"].index("colour")
    gap["categories"][:, position] = ""
    unseen["categories"][:, position] = "no such colour"
    np.testing.assert_array_equal(run(onx, gap)[0], run(onx, unseen)[0])
    with pytest.raises(ValueError, match="missing value"):  # where predict refuses the row
        test_gap = test.copy()
        test_gap["colour"] = None
        model.predict(test_gap)


def test_text_labels_and_probabilities_of_a_classifier():
    frame = frame_of(seed=1)
    model = TabularModel.train(
        frame.drop(columns="y"), target="kind", impute="median", epochs=4, seed=0
    )
    test = frame.drop(columns=["y", "kind"])
    onx = cr.onnx.to_onnx(model)
    labels, probabilities = run(onx, onnx_inputs(model, test))
    expected = model.predict(test)
    assert labels.tolist() == expected["prediction"].tolist()
    columns = [f"p_{label}" for label in model.classes]
    assert_close(probabilities, expected[columns].to_numpy(), np.float32)
    meta = {p.key: p.value for p in onx.metadata_props}
    assert json.loads(meta["numeric_columns"]) == ["size", "weight", "grade"]
    assert json.loads(meta["categorical_columns"]) == {"colour": ["blue", "green", "red"]}


def test_a_model_of_categorical_columns_only_takes_one_input():
    frame = frame_of().dropna()[["colour", "grade", "y"]]
    model = TabularModel.train(frame, target="y", categorical=["grade"], epochs=2, seed=0)
    onx = cr.onnx.to_onnx(model, dtype="float64")
    assert [value.name for value in onx.graph.input] == ["categories"]
    test = frame[["colour", "grade"]]
    (Y,) = run(onx, onnx_inputs(model, test))
    # a float32 model computed in float64: float32 rounding apart
    np.testing.assert_allclose(Y[:, 0], model.predict(test)["prediction"], rtol=1e-5, atol=1e-5)


def test_the_command_line_exports_a_model_with_a_text_column(tmp_path):
    frame = frame_of().drop(columns="kind")
    frame.to_csv(tmp_path / "t.csv", index=False)
    env = {"PYTHONPATH": str(ROOT)}
    common = dict(cwd=tmp_path, capture_output=True, text=True, env=env)
    train = [sys.executable, "-m", "chainrule.cli", "train", "t.csv", "--target", "y"]
    done = subprocess.run(
        [*train, "--impute", "median", "--epochs", "2", "--out", "m.npz"], **common
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "export", "m.npz", "m.onnx"], **common
    )
    assert done.returncode == 0, done.stderr
    assert "input X and categories" in done.stdout
    model = TabularModel.load(tmp_path / "m.npz")
    test = pd.read_csv(tmp_path / "t.csv").drop(columns="y")
    test["colour"] = test["colour"].astype(object).where(test["colour"].notna(), None)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (Y,) = session.run(None, onnx_inputs(model, test))
    assert_close(Y[:, 0], model.predict(test)["prediction"].to_numpy(), np.float32)
