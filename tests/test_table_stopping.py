"""When the table route stops (issue 28, third round): ``patience='auto'`` by default, the
patience of 20 epochs applied only once the validation loss has clearly risen; a number, None
(every epoch) or ``early_stopping=True`` instead; the same in the command line and the
estimators. Each expectation is computed from the run's own validation losses by the rule
written out here, not read from the callback."""

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.tables.model import train_table
from chainrule.tables.reading import as_table

pd = pytest.importorskip("pandas")


def noisy_frame(n=240, seed=0):
    """A target that is mostly noise: a 64-32 network over-fits it within a few epochs."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(8)})
    frame["y"] = 0.3 * frame["x0"] + rng.normal(size=n)
    return frame


def auto_stop(val_loss, patience=20, min_rise=0.3, window=5) -> int:
    """The epochs 'auto' runs, written out: the first epoch at least ``patience`` after the
    best whose last ``window`` losses have a median above ``best * (1 + min_rise)``."""
    best, best_epoch = np.inf, 0
    for epoch, loss in enumerate(val_loss, start=1):
        if loss < best:
            best, best_epoch = loss, epoch
            continue
        recent = val_loss[max(0, epoch - window) : epoch]
        if epoch - best_epoch >= patience and np.median(recent) > best + min_rise * abs(best):
            return epoch
    return len(val_loss)


def train(frame, **options):
    options = {"epochs": 200, "verbose": 0, "seed": 0, "learning_rate": 1e-2, **options}
    return train_table(as_table(frame), "y", **options)


def test_by_default_an_over_fitting_run_stops_once_its_loss_has_risen():
    run = train(noisy_frame())
    val = run.history["val_loss"]
    assert len(val) == auto_stop(val) < 200
    best = int(np.argmin(val)) + 1
    assert run.model.kept_epoch == best
    assert np.median(val[-5:]) > 1.3 * min(val)
    assert "early stopping" in run.history.stop_reason and "rose" in run.history.stop_reason


def test_the_auto_rule_keeps_the_model_a_whole_run_keeps():
    # stopping after the rise changes the time, not the model: the best epoch came before
    frame = noisy_frame()
    stopped, whole = train(frame), train(frame, patience=None)
    assert len(whole.history["val_loss"]) == 200
    assert len(stopped.history["val_loss"]) < 200
    assert stopped.model.kept_epoch == whole.model.kept_epoch
    np.testing.assert_array_equal(stopped.model.network.parameters, whole.model.network.parameters)


def test_a_loss_wandering_on_a_plateau_runs_on_where_plain_patience_stops():
    # a signal under much noise: the best epoch comes early (50 here), and the validation loss
    # then wanders within 30 % of it for the rest of the run without falling below it
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{j}": rng.normal(size=400) for j in range(4)})
    frame["y"] = frame["x0"] + 0.8 * rng.normal(size=400)
    auto = train(frame, epochs=150, learning_rate=1e-3)
    val = auto.history["val_loss"]
    best = int(np.argmin(val)) + 1
    assert len(val) == 150 == auto_stop(val) and best < 100
    windows = [np.median(val[e - 5 : e]) for e in range(best + 20, 151)]
    assert max(windows) <= 1.3 * min(val) and max(val[best:]) > min(val)
    plain = train(frame, epochs=150, learning_rate=1e-3, patience=20)
    assert len(plain.history["val_loss"]) == best + 20
    assert plain.model.kept_epoch == auto.model.kept_epoch == best


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
    assert code == 0 and "early stopping" in out and "rose" in out
    epochs = int(out.split(" epochs in ")[0].split()[-1])
    code, out, _ = run_cli(capsys, *common, "--patience", "none")
    assert code == 0 and "200 epochs in" in out and "early stopping" not in out
    code, out, _ = run_cli(capsys, *common, "--patience", "3")
    assert code == 0 and int(out.split(" epochs in ")[0].split()[-1]) < epochs


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
