"""Streaming metrics against scikit-learn's, and EarlyStopping's patience against Keras's."""

import csv
import json
import os

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.training import callbacks, metrics

sklearn_metrics = pytest.importorskip("sklearn.metrics")


# the tolerance is what the targets' own rounding allows: offset * eps relative to a spread of 1
@pytest.mark.parametrize("offset,tolerance", [(0.0, 1e-12), (1e8, 1e-7), (-3e12, 1e-3)])
def test_streaming_r2_is_scikit_learn_s_for_far_off_targets(offset, tolerance):
    rng = np.random.default_rng(0)
    T = offset + rng.normal(size=(500, 2)) * [1.0, 30.0]
    Y = T + 0.3 * rng.normal(size=T.shape) * [1.0, 30.0]
    weights = rng.uniform(0, 2, 500)
    for w in (None, weights):
        r2 = metrics.R2()
        for start in range(0, 500, 64):
            rows = slice(start, start + 64)
            r2.update(Y[rows], T[rows], None if w is None else w[rows])
        expected = sklearn_metrics.r2_score(T, Y, sample_weight=w)
        assert r2.result() == pytest.approx(expected, rel=tolerance)
    assert expected > 0.9


def test_cli_evaluate_reports_a_stable_r2(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (200, 2))
    y = 1e8 + 3 * X[:, 0] - X[:, 1]
    path = tmp_path / "offset.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["u", "v", "target"])
        writer.writerows(
            [[f"{a:.6f}", f"{b:.6f}", f"{t:.6f}"] for (a, b), t in zip(X, y, strict=True)]
        )
    model = tmp_path / "offset.npz"
    arguments = ["train", path, "--target", "target", "--epochs", "100", "--learning-rate", "0.01"]
    assert main([str(a) for a in [*arguments, "--out", model, "--quiet"]]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), str(path), "--format", "json"]) == 0
    reported = json.loads(capsys.readouterr().out)["r2"]
    assert main(["predict", str(model), str(path)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    predicted = np.array([float(row["prediction"]) for row in rows])
    truth = np.array([float(row["target"]) for row in rows])
    # predict writes every value exactly (repr): scikit-learn's float64 R^2 of those values is
    # the one evaluate must report, to float64 precision; 1 - R^2 (about 1e-5 here) is what
    # the targets' offset of 1e8 would ruin, and it agrees too, to the predictions' rounding
    expected = sklearn_metrics.r2_score(truth, predicted)
    assert reported == pytest.approx(expected, rel=1e-12, abs=0)
    assert 1 - reported == pytest.approx(1 - expected, rel=1e-6)
    assert 0.9 < reported < 1


class _Model:
    stop_training = False


def _stop_epoch(stopper, model, values):
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {"loss": value})
        if model.stop_training:
            return epoch
    return None


SEQUENCES = [
    [5, 4, 3, 3.5, 3.2, 3.1, 2.0, 2.5, 2.4, 2.3, 2.2],
    [1, 1, 1, 1, 1, 1],
    [3, 2, 1, 0.5, 0.25],
    list(np.random.default_rng(7).uniform(size=40)),
]


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
@pytest.mark.parametrize("min_delta", [0.0, 0.2])
@pytest.mark.parametrize("values", SEQUENCES)
def test_early_stopping_stops_where_keras_stops(patience, min_delta, values):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    theirs = keras.callbacks.EarlyStopping(monitor="loss", patience=patience, min_delta=min_delta)
    their_model = _Model()
    theirs.set_model(their_model)
    theirs.on_train_begin()
    ours = callbacks.EarlyStopping(
        monitor="loss", patience=patience, min_delta=min_delta, restore_best_weights=False
    )
    our_model = _Model()
    ours.set_network(our_model)
    ours.on_train_begin({})
    assert _stop_epoch(ours, our_model, values) == _stop_epoch(theirs, their_model, values)


def test_early_stopping_with_patience_two_stops_after_two_epochs_without_improvement():
    # Keras's documented semantics, without Keras: the best loss 3 comes at epoch 2; epochs 3
    # and 4 do not improve on it, so training stops at epoch 4
    model = _Model()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=False)
    stopper.set_network(model)
    stopper.on_train_begin({})
    assert _stop_epoch(stopper, model, [5, 4, 3, 3.5, 3.2, 3.1]) == 4
    assert stopper.best_epoch == 2
