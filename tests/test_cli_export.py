"""``chainrule export``: CLI-trained models (text class labels, a regressor) in onnxruntime
against ``chainrule predict``; one line on success, one line and exit 2 on bad input."""

import csv
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
from onnx_helpers import assert_close, run  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.cli import main  # noqa: E402
from chainrule.tables.model import TabularModel  # noqa: E402
from chainrule.tables.reading import numeric_matrix, read_csv  # noqa: E402

ROOT = Path(__file__).parent.parent


def write_csv(path, header, rows):
    with open(path, "w", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A classifier of text labels and a regressor, trained by ``chainrule train`` on 1000
    rows whose features are far from unit scale (so the standardisation matters)."""
    folder = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (1000, 3)) * [100, 0.01, 5] + [1000, 0, -3]
    names = np.array(["setosa", "versi color", "virginica"])
    labels = names[(X[:, 0] > 1000).astype(int) + (X[:, 1] > 0.005)]
    values = 0.02 * X[:, 0] + 300 * X[:, 1] - X[:, 2] ** 2
    header = ["a", "b", "c"]
    classes = write_csv(
        folder / "classes.csv",
        [*header, "kind"],
        [[*map(repr, x.tolist()), label] for x, label in zip(X, labels, strict=True)],
    )
    values_csv = write_csv(
        folder / "values.csv",
        [*header, "y"],
        [[*map(repr, x.tolist()), repr(float(v))] for x, v in zip(X, values, strict=True)],
    )
    for csv_path, target, out in ((classes, "kind", "c.npz"), (values_csv, "y", "r.npz")):
        code = main(
            [
                "train",
                str(csv_path),
                "--target",
                target,
                "--epochs",
                "5",
                "--hidden",
                "16,8",
                "--quiet",
                "--out",
                str(folder / out),
            ]
        )
        assert code == 0
    return {
        "classification": (folder / "c.npz", read_csv(classes)),
        "regression": (folder / "r.npz", read_csv(values_csv)),
    }


def export(capsys, *argv):
    code = main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_exported_table_models_predict_as_chainrule(trained, task, dtype, tmp_path, capsys):
    model_path, table = trained[task]
    out = tmp_path / "model.onnx"
    code, printed, err = export(capsys, model_path, out, "--dtype", np.dtype(dtype).name)
    assert (code, err) == (0, "")
    assert printed.count("\n") == 1 and printed.startswith(f"wrote {out}: {task} of ")
    model = TabularModel.load(model_path)
    # the float64 export is compared with the same model computing in float64
    reference = dataclasses.replace(model, network=model.network.copy(dtype=np.dtype(dtype)))
    expected = reference.predict(table)
    X = numeric_matrix(table, model.features).astype(dtype)
    for rows in (slice(0, 1), slice(0, 1000)):
        outputs = run(str(out), X[rows])
        if task == "regression":
            assert_close(outputs[0], expected["prediction"][rows, None], dtype)
            continue
        labels, probabilities = outputs
        np.testing.assert_array_equal(labels, expected["prediction"][rows])
        columns = np.column_stack([expected[f"p_{c}"] for c in model.classes])
        assert_close(probabilities, columns[rows], dtype)
    if task == "classification":
        assert set(expected["prediction"]) == {"setosa", "versi color", "virginica"}
        meta = {p.key: p.value for p in onnx.load(out).metadata_props}
        assert meta["features"] == '["a", "b", "c"]'
        assert meta["classes"] == '["setosa", "versi color", "virginica"]'


def test_a_plain_network_file_exports(tmp_path, capsys):
    net = cr.MLP([3, 5, 2], activation="tanh", seed=0)
    cr.save(net, tmp_path / "net.npz")
    code, printed, err = export(capsys, tmp_path / "net.npz", tmp_path / "net.onnx", "--opset", 20)
    assert code == 0 and printed == (
        f"wrote {tmp_path / 'net.onnx'}: network 3 -> 2, input X, opset 20, float32\n"
    )
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    assert_close(run(str(tmp_path / "net.onnx"), X)[0], net.predict(X), np.float32)


@pytest.mark.parametrize(
    ("make", "argv", "message"),
    [
        (None, ["missing.npz", "out.onnx"], "model file 'missing.npz' does not exist"),
        ("text", ["bad.npz", "out.onnx"], "is not a chainrule model file"),
        ("model", ["m.npz", "no/such/folder/out.onnx"], "folder 'no/such/folder' does not exist"),
        ("model", ["m.npz", "out.onnx", "--opset", "7"], "'opset' must be between 13 and"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(make, argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if make == "text":
        Path("bad.npz").write_text("not a model")
    elif make == "model":
        cr.save(cr.MLP([2, 1], seed=0), "m.npz")
    code, printed, err = export(capsys, *argv)
    assert code == 2 and printed == ""
    assert err.startswith("chainrule: error: ") and err.count("\n") == 1
    assert message in err
    assert not Path("out.onnx").exists()


def test_bad_option_is_argparse_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["export", "m.npz", "out.onnx", "--dtype", "float16"])
    assert stop.value.code == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_subprocess(tmp_path):
    cr.save(cr.MLP([2, 3, 1], seed=0), tmp_path / "m.npz")
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "export", "m.npz", "m.onnx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote m.onnx: network 2 -> 1")
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)


def test_an_imputed_table_model_fills_missing_values_as_predict_does():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(0, 3, (120, 3)), columns=["a", "b", "c"])
    frame["y"] = frame["a"] - 2 * frame["b"] + rng.normal(0, 0.1, 120)
    frame.loc[::7, "a"] = np.nan
    frame.loc[::5, "c"] = np.nan
    model = TabularModel.train(frame, target="y", impute="median", epochs=3, seed=0)
    fills = {column.name: column.fill for column in model.columns}
    assert all(isinstance(fills[name], float) for name in "abc")  # medians of training rows
    X = frame[["a", "b", "c"]].to_numpy()
    assert np.isnan(X).sum() == 18 + 24
    (Y,) = run(cr.onnx.to_onnx(model), X.astype(np.float32))  # the model's own float32
    predicted = model.predict(frame[["a", "b", "c"]])["prediction"].to_numpy()
    assert_close(Y[:, 0], predicted, np.float32)
