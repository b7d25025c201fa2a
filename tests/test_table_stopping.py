"""When the table route stops and how it regularises (issue 28, third round): ``patience='auto'``
(40 epochs without a lower validation loss) and a dropout of 0.1 by default; a number, None
(every epoch) or ``early_stopping=True`` instead; the same in the command line and the
estimators. Each expectation is computed from the run's own validation losses, not read from
the callback."""

import warnings

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.core.layers import Dropout
from chainrule.tables.model import train_table
from chainrule.tables.reading import as_table

pd = pytest.importorskip("pandas")


def noisy_frame(n=240, seed=0):
    """A target that is mostly noise: a 64-32 network over-fits it within a few epochs."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(8)})
    frame["y"] = 0.3 * frame["x0"] + rng.normal(size=n)
    return frame


def train(frame, **options):
    options = {"epochs": 200, "verbose": 0, "seed": 0, "learning_rate": 1e-2, **options}
    return train_table(as_table(frame), "y", **options)


def test_by_default_a_run_stops_40_epochs_after_its_best_and_keeps_the_best():
    run = train(noisy_frame())
    val = run.history["val_loss"]
    best = int(np.argmin(val)) + 1
    assert len(val) == best + 40 < 200
    assert run.model.kept_epoch == best
    assert "did not improve for 40 epochs" in run.history.stop_reason


def test_auto_is_patience_40_and_keeps_the_model_a_whole_run_keeps():
    frame = noisy_frame()
    auto, forty, whole = train(frame), train(frame, patience=40), train(frame, patience=None)
    assert auto.history["val_loss"] == forty.history["val_loss"]
    assert len(whole.history["val_loss"]) == 200 > len(auto.history["val_loss"])
    assert auto.model.kept_epoch == whole.model.kept_epoch
    np.testing.assert_array_equal(auto.model.network.parameters, whole.model.network.parameters)


def test_the_default_dropout_is_a_tenth_after_every_hidden_layer_and_zero_turns_it_off():
    def rates(network):
        return [layer.rate for layer in network.layers if isinstance(layer, Dropout)]

    frame = noisy_frame(80)
    assert rates(train(frame, epochs=2).model.network) == [0.1, 0.1]
    assert rates(train(frame, epochs=2, dropout=0.0).model.network) == []


def test_a_number_is_plain_patience_and_none_runs_every_epoch():
    frame = noisy_frame()
    run = train(frame, patience=3)
    val = run.history["val_loss"]
    assert len(val) == int(np.argmin(val)) + 1 + 3
    assert len(train(frame, patience=None).history["val_loss"]) == 200


def test_early_stopping_true_is_patience_five():
    val = train(noisy_frame(), early_stopping=True, patience=None).history["val_loss"]
    assert len(val) == int(np.argmin(val)) + 1 + 5


def test_keep_last_and_no_validation_rows_run_every_epoch():
    frame = noisy_frame()
    assert len(train(frame, keep="last").history["val_loss"]) == 200
    assert len(train(frame, validation_split=0.0, epochs=40).history["loss"]) == 40


@pytest.mark.parametrize(
    "options, why",
    [
        ({"keep": "last"}, "keep='last' runs every epoch"),
        ({"validation_split": 0.0}, "there are no validation rows to watch"),
        ({"early_stopping": True}, "early_stopping=True stops after 5 epochs"),
    ],
)
def test_a_patience_that_does_nothing_says_why(options, why):
    with pytest.warns(UserWarning, match=f"patience=7 does nothing: {why}"):
        train(noisy_frame(80), epochs=3, patience=7, **options)


def test_the_default_patience_says_nothing_where_it_does_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(noisy_frame(80), epochs=3, keep="last", batch_size=16)


@pytest.mark.parametrize(
    "patience, error, match",
    [
        (0, ValueError, "patience"),
        ("soon", ValueError, "'auto', None"),
        (2.5, TypeError, "patience"),
    ],
)
def test_a_bad_patience_is_named(patience, error, match):
    with pytest.raises(error, match=match):
        train(noisy_frame(), patience=patience)


# -- the command line and the estimators --------------------------------------------------------
def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_takes_auto_none_and_a_number(capsys, tmp_path):
    path = tmp_path / "noisy.csv"
    noisy_frame().to_csv(path, index=False)
    common = [
        "train", str(path), "--target", "y", "--epochs", "200", "--lr", "0.01",
        "--out", str(tmp_path / "m.npz"), "--quiet",
    ]  # fmt: skip
    code, out, _ = run_cli(capsys, *common)
    assert code == 0 and "did not improve for 40 epochs" in out
    epochs = int(out.split(" epochs in ")[0].split()[-1])
    code, out, _ = run_cli(capsys, *common, "--patience", "none")
    assert code == 0 and "200 epochs in" in out and "early stopping" not in out
    code, out, _ = run_cli(capsys, *common, "--patience", "3")
    assert code == 0 and int(out.split(" epochs in ")[0].split()[-1]) < epochs


def test_the_command_line_trains_with_the_default_dropout(capsys, tmp_path):
    path, out = tmp_path / "noisy.csv", tmp_path / "m.npz"
    noisy_frame(60).to_csv(path, index=False)
    code, _, _ = run_cli(capsys, "train", str(path), "--target", "y", "--epochs", "2",
                         "--out", str(out), "--quiet")  # fmt: skip
    assert code == 0
    code, text, _ = run_cli(capsys, "info", str(out))
    assert code == 0 and "regularisation: dropout 0.1" in text


@pytest.mark.parametrize("value", ["0", "-2", "soon", "1.5"])
def test_the_command_line_refuses_a_bad_patience(capsys, tmp_path, value):
    path = tmp_path / "noisy.csv"
    noisy_frame(40).to_csv(path, index=False)
    with pytest.raises(SystemExit) as stopped:
        main(["train", str(path), "--target", "y", "--patience", value])
    assert stopped.value.code == 2
    expected = f"argument --patience: expected auto, none or a whole number >= 1, got {value!r}"
    assert expected in capsys.readouterr().err


def test_the_estimators_take_patience_as_a_parameter():
    from sklearn.base import clone

    from chainrule.sklearn import TableRegressor

    frame = noisy_frame()
    X, y = frame.drop(columns="y"), frame["y"]
    options = {"epochs": 200, "learning_rate": 1e-2, "random_state": 0}
    auto = TableRegressor(**options).fit(X, y)
    assert auto.get_params()["patience"] == "auto"
    assert auto.n_iter_ < 200
    every = clone(auto).set_params(patience=None).fit(X, y)
    assert every.n_iter_ == 200
    np.testing.assert_array_equal(auto.predict(X), every.predict(X))
