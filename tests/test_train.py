"""The fit loop: learning, reproducibility, resume, early stopping, divergence, weights."""

import numpy as np
import pytest
from conftest import seed001_network
from golden import seed001

import chainrule as cr
from chainrule import datasets, optim
from chainrule.training.splits import class_indices, split_rows


def standardize(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


class Recorder(cr.Callback):
    """Keeps a copy of the parameters and logs at the end of every epoch."""

    def __init__(self):
        self.parameters, self.logs = [], []

    def on_epoch_end(self, epoch, logs):
        self.parameters.append(self.network.parameters.copy())
        self.logs.append(dict(logs))


def test_learns_xor_with_a_2_2_1_sigmoid_network():
    data = datasets.xor()
    net = cr.MLP(
        [2, 2, 1],
        activation="sigmoid",
        output_activation="sigmoid",
        loss="squared_error",
        seed=3,
        dtype="float64",
    )
    history = net.fit(
        data.X,
        data.y,
        optimizer=optim.SGD(learning_rate=2.0, momentum=0.9),
        epochs=2000,
        batch_size=4,
        verbose=0,
        metrics=["accuracy"],
    )
    assert history["accuracy"][-1] == 1.0
    np.testing.assert_allclose(net.predict(data.X)[:, 0], data.y, atol=0.05)


def test_learns_two_spirals():
    data = datasets.spirals()
    net = cr.MLP([2, 64, 64, 2], activation="tanh", loss="cross_entropy", seed=0)
    net.fit(
        standardize(data.X),
        data.y,
        optimizer=optim.Adam(learning_rate=0.01),
        epochs=300,
        batch_size=32,
        verbose=0,
    )
    assert (net.predict(standardize(data.X)).argmax(axis=1) == data.y).mean() >= 0.98


def test_learns_sin():
    x = np.linspace(-3, 3, 200)[:, None]
    net = cr.MLP([1, 32, 32, 1], activation="tanh", loss="mse", seed=0)
    net.fit(x, np.sin(x), optimizer=optim.Adam(learning_rate=0.01), epochs=800, verbose=0)
    assert np.mean((net.predict(x) - np.sin(x)) ** 2) < 1e-3


def test_digits_held_out_accuracy_at_least_97_percent():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.model_selection import train_test_split

    digits = sklearn_datasets.load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    net = cr.MLP([64, 128, 10], loss="cross_entropy", seed=0)
    net.fit(X_train, y_train, optimizer=optim.Adam(learning_rate=0.003), epochs=60, verbose=0)
    assert (net.predict(X_test).argmax(axis=1) == y_test).mean() >= 0.97


def test_batch_size_one_is_the_seeds_per_sample_learning():
    X = np.array([[0.05, 0.10], [0.30, -0.20]])
    T = np.array([[0.01, 0.99], [0.50, 0.10]])
    net = seed001_network()
    net.fit(
        X,
        T,
        optimizer=optim.SGD(learning_rate=0.5),
        epochs=2,
        batch_size=1,
        shuffle=False,
        verbose=0,
    )
    manual = seed001_network()
    for _ in range(2):
        for i in range(2):
            manual.loss_and_gradients(X[i : i + 1], T[i : i + 1])
            manual.parameters -= 0.5 * manual.gradients
    np.testing.assert_array_equal(net.parameters, manual.parameters)


def test_one_full_batch_sgd_epoch_is_seed001_update():
    net = seed001_network()
    net.fit(
        seed001.X,
        seed001.T,
        optimizer=optim.SGD(learning_rate=seed001.ETA),
        epochs=1,
        batch_size=None,
        verbose=0,
    )
    assert net.layers[1].W[1, 0] == pytest.approx(seed001.UPDATED["w7"], rel=1e-15)
    assert net.compute_loss(seed001.X, seed001.T) == pytest.approx(
        seed001.FORWARD_AFTER["E"], rel=1e-13
    )


def _train(seed, **options):
    data = datasets.moons()
    net = cr.MLP([2, 16, 16, 2], loss="cross_entropy", dropout=0.2, seed=seed)
    defaults = dict(
        optimizer=optim.Adam(learning_rate=0.01),
        epochs=6,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
    )
    history = net.fit(data.X, data.y, **{**defaults, **options})
    return net, history


def test_same_seed_gives_identical_parameters_bit_for_bit():
    a, _ = _train(1)
    b, _ = _train(1)
    c, _ = _train(2)
    assert np.array_equal(a.parameters, b.parameters)
    assert not np.array_equal(a.parameters, c.parameters)


def test_resume_equals_uninterrupted(tmp_path):
    path = tmp_path / "state.npz"
    whole, whole_history = _train(5, epochs=6, early_stopping=cr.EarlyStopping(patience=50))
    _train(5, epochs=3, checkpoint=path, early_stopping=cr.EarlyStopping(patience=50))
    resumed_net = cr.MLP([2, 16, 16, 2], loss="cross_entropy", dropout=0.2, seed=99)
    data = datasets.moons()
    history = resumed_net.fit(
        data.X,
        data.y,
        optimizer=optim.Adam(learning_rate=0.01),
        epochs=6,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        resume_from=path,
        early_stopping=cr.EarlyStopping(patience=50),
    )
    assert np.array_equal(resumed_net.parameters, whole.parameters)
    assert history["loss"] == whole_history["loss"] and len(history["loss"]) == 6


@pytest.mark.parametrize(
    "optimizer,schedule",
    [
        (
            lambda: optim.SGD(learning_rate=0.2, momentum=0.9, nesterov=True),
            lambda: cr.optim.schedules.ReduceOnPlateau(monitor="val_loss", patience=1, factor=0.5),
        ),
        (lambda: optim.RMSprop(learning_rate=0.01, momentum=0.5, centered=True), lambda: "cosine"),
    ],
)
def test_resume_equals_uninterrupted_with_schedules_weights_and_a_later_early_stop(
    tmp_path, optimizer, schedule
):
    data = datasets.moons()
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(data.y))

    def run(epochs, **options):
        net = cr.MLP([2, 12, 12, 2], loss="cross_entropy", dropout=0.3, seed=7)
        named = schedule()
        history = net.fit(
            data.X,
            data.y,
            optimizer=optimizer(),
            epochs=epochs,
            batch_size=17,
            validation_split=0.2,
            sample_weight=weights,
            class_weight="balanced",
            metrics=["accuracy"],
            schedule=cr.optim.schedules.Cosine(epochs=30) if named == "cosine" else named,
            early_stopping=cr.EarlyStopping(patience=3, min_delta=0.01),
            verbose=0,
            **options,
        )
        return net, history

    whole, expected = run(30)
    assert expected.stopped_by == "early_stopping" and len(expected.epoch) > 4
    run(len(expected.epoch) - 3, checkpoint=tmp_path / "state.npz")  # stops before the stop
    resumed, history = run(30, resume_from=tmp_path / "state.npz")
    assert np.array_equal(resumed.parameters, whole.parameters)
    assert history.stopped_by == "early_stopping" and history.epoch == expected.epoch
    for key in ("loss", "val_loss", "accuracy", "lr"):
        assert history[key] == expected[key]


def test_a_resumed_run_keeps_the_recent_losses_that_min_rise_reads(tmp_path):
    # random labels: the validation loss climbs within a few epochs
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 4)), rng.integers(0, 2, 200)

    def run(epochs, **options):
        net = cr.MLP([4, 64, 64, 2], loss="cross_entropy", seed=3)
        stopper = cr.EarlyStopping(patience=2, min_rise=0.05)
        history = net.fit(
            X, y, optimizer=optim.Adam(learning_rate=0.01), epochs=epochs, batch_size=16,
            validation_split=0.25, early_stopping=stopper, verbose=0, **options,
        )  # fmt: skip
        return net, history, stopper

    whole, expected, stopper = run(60)
    assert expected.stopped_by == "early_stopping" and len(expected.epoch) > 5
    run(len(expected.epoch) - 2, checkpoint=tmp_path / "state.npz")
    resumed, history, again = run(60, resume_from=tmp_path / "state.npz")
    assert again.recent == stopper.recent and len(again.recent) == 5
    assert history.epoch == expected.epoch
    assert np.array_equal(resumed.parameters, whole.parameters)


def test_resume_refuses_another_architecture(tmp_path):
    path = tmp_path / "state.npz"
    _train(5, epochs=1, checkpoint=path)
    other = cr.MLP([2, 8, 2], loss="cross_entropy")
    with pytest.raises(cr.ModelFileError, match="another architecture"):
        other.fit(datasets.moons().X, datasets.moons().y, epochs=2, verbose=0, resume_from=path)


def test_early_stopping_restores_the_best_epoch():
    recorder = Recorder()
    data = datasets.moons(n_samples=200)
    net = cr.MLP([2, 64, 64, 2], loss="cross_entropy", seed=0)
    history = net.fit(
        data.X,
        data.y,
        optimizer=optim.Adam(learning_rate=0.05),
        epochs=200,
        validation_split=0.3,
        early_stopping=cr.EarlyStopping(patience=3),
        callbacks=[recorder],
        verbose=0,
    )
    val = history["val_loss"]
    assert len(val) < 200 and "early stopping" in history.stop_reason
    best = int(np.argmin(val))
    assert len(val) == best + 4  # patience 3: stops on the 3rd epoch without improvement
    assert np.array_equal(net.parameters, recorder.parameters[best])


def _stop_after(losses, stopper) -> int:
    """The epochs ``stopper`` lets run on these validation losses (a network stand-in)."""

    class Stand:
        parameters = np.zeros(1)
        stop_training = False

    stand = Stand()
    stopper.set_network(stand)
    stopper.on_train_begin({})
    for epoch, loss in enumerate(losses):
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if stand.stop_training:
            return epoch + 1
    return len(losses)


def _falls_then(best: int, after) -> list:
    """Validation losses falling to 0.5 at epoch ``best`` (from 1), then ``after``."""
    return [0.5 + 1.0 / e - 1.0 / best for e in range(1, best + 1)] + list(after)


# the median of the last five losses against best + min_rise * |best| = 0.5 * 1.3 = 0.65
@pytest.mark.parametrize(
    "after, runs",
    [
        ([0.9] * 300, 4 + 20),  # risen at once: stops when the patience of 20 runs out
        ([0.6] * 300, 304),  # a plateau 20% above the best: never stops
        ([0.6] * 30 + [0.7] * 270, 4 + 33),  # 0.7 is above the bar: 3 of the 5 by epoch 33
        ([0.66, 0.6] * 150, 4 + 21),  # alternating: 3 of the 5 last above the bar at 25
        ([0.66, 0.6, 0.6] * 100, 304),  # never more than 2 of 5 above: the median is 0.6
        ([0.6] * 15 + [0.9] * 285, 4 + 20),  # risen before the patience ran out
    ],
)
def test_min_rise_stops_only_once_the_loss_has_clearly_risen(after, runs):
    stopper = cr.EarlyStopping(patience=20, min_rise=0.3)
    assert _stop_after(_falls_then(4, after), stopper) == runs
    assert stopper.best_epoch + 1 == 4


def test_without_min_rise_the_patience_alone_stops_as_in_keras():
    stopper = cr.EarlyStopping(patience=20)
    assert _stop_after(_falls_then(4, [0.6] * 300), stopper) == 24


def test_min_rise_measures_from_the_best_values_size():
    # a best value of -2 (a maximised metric, stored negated, or a negative loss): the bar is
    # -2 + 0.5 * 2 = -1, so -1.5 is within it and -0.5 above it
    stopper = cr.EarlyStopping(patience=1, min_rise=0.5)
    assert _stop_after([-2.0] + [-1.5] * 10, stopper) == 11
    # before five epochs the median is over those run: (-2, -0.5, -0.5) at epoch 3
    assert _stop_after([-2.0] + [-0.5] * 10, stopper) == 3


def _stop_message(values, monitor="val_loss", **options) -> str:
    class Stand:
        parameters = np.zeros(1)
        stop_training = False
        stop_reason = None

    stand, stopper = Stand(), cr.EarlyStopping(monitor=monitor, **options)
    stopper.set_network(stand)
    stopper.on_train_begin({})
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {monitor: value})
        if stand.stop_training:
            return stand.stop_reason
    return ""


def test_min_rise_on_a_maximised_metric_says_it_fell():
    # accuracy 0.9 at best, then 0.5: the score (negated) rose from -0.9 to -0.5, 44 % of 0.9
    said = _stop_message([0.5, 0.9] + [0.5] * 10, "val_accuracy", patience=2, min_rise=0.3)
    expected = "after epoch 2, and the median of its last 4 values fell 44% below the best"
    assert said.endswith(expected)


def test_min_rise_from_a_best_of_zero_says_how_far_not_a_percentage():
    said = _stop_message([0.5, 0.0] + [0.25] * 10, patience=2, min_rise=0.3)
    assert said.endswith("values rose 0.25 above the best")


def test_a_nan_among_the_recent_losses_counts_as_risen():
    stopper = cr.EarlyStopping(patience=2, min_rise=0.3)
    assert _stop_after([1.0, 0.5] + [float("nan")] * 20, stopper) == 4


def test_a_checkpoint_from_before_min_rise_restores_with_no_recent_losses():
    stopper = cr.EarlyStopping(patience=3, min_rise=0.3)
    stopper.load_state_dict({"best": 0.5, "best_epoch": 4, "wait": 1, "best_parameters": None})
    assert stopper.recent == [] and stopper.best == 0.5 and stopper.wait == 1


def test_a_negative_min_rise_is_refused():
    with pytest.raises(ValueError, match="min_rise"):
        cr.EarlyStopping(min_rise=-0.5)


def test_early_stopping_can_monitor_a_metric():
    stopper = cr.EarlyStopping(monitor="val_accuracy", patience=1)
    net = cr.MLP([2, 8, 2], loss="cross_entropy", seed=0)
    history = net.fit(
        datasets.moons().X,
        datasets.moons().y,
        epochs=50,
        validation_split=0.2,
        metrics=["accuracy"],
        early_stopping=stopper,
        verbose=0,
    )
    accuracy = history["val_accuracy"]
    assert stopper.best == -max(accuracy)  # 'auto' maximises accuracy (stored negated)
    assert len(accuracy) < 50 and accuracy[-1] <= max(accuracy[:-1])


def test_one_early_stopping_serves_several_fits_each_from_scratch():
    # on_train_begin resets the best value, the wait and the best weights, so a second
    # network neither stops at once nor receives the first network's parameters
    data = datasets.moons(n_samples=200)
    stopper = cr.EarlyStopping(patience=3)
    options = dict(epochs=40, validation_split=0.2, verbose=0, early_stopping=stopper)
    first = cr.MLP([2, 8, 2], loss="cross_entropy", seed=0)
    first.fit(data.X, data.y, optimizer=optim.Adam(learning_rate=0.05), **options)
    assert stopper.best_epoch is not None
    fits = []
    for early_stopping in (stopper, cr.EarlyStopping(patience=3)):
        net = cr.MLP([2, 8, 2], loss="cross_entropy", seed=1)
        history = net.fit(
            data.X,
            data.y,
            optimizer=optim.Adam(learning_rate=0.001),
            **{**options, "early_stopping": early_stopping},
        )
        fits.append((net.parameters.copy(), history["val_loss"]))
    assert len(fits[1][1]) == 40  # a slow learner that never stops early
    assert np.array_equal(fits[0][0], fits[1][0]) and fits[0][1] == fits[1][1]


def test_a_callback_can_stop_training():
    def stop(epoch, logs):
        if epoch == 2:
            stopper.network.stop_training = True

    stopper = cr.LambdaCallback(on_epoch_end=stop)
    history = cr.MLP([2, 4, 2], loss="cross_entropy").fit(
        datasets.moons().X, datasets.moons().y, epochs=10, callbacks=[stopper], verbose=0
    )
    assert history.epoch == [0, 1, 2]


def test_validation_split_is_shuffled_and_stratified():
    net = cr.MLP([2, 3], loss="cross_entropy")
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    classes = class_indices(net, np.eye(3)[labels])
    train, validation = split_rows(0.2, np.random.default_rng(0), 100, classes)
    assert np.bincount(labels[validation]).tolist() == [10, 6, 4]
    assert len(np.intersect1d(train, validation)) == 0 and len(train) + len(validation) == 100
    assert not np.array_equal(validation, np.arange(80, 100))  # not simply the last rows


def test_class_weight_equals_the_matching_sample_weight():
    data = datasets.moons()
    options = {"epochs": 3, "verbose": 0, "seed": 0}
    a = cr.MLP([2, 4, 2], loss="cross_entropy", seed=0, dtype="float64")
    a.fit(
        data.X,
        data.y,
        class_weight={0: 3.0, 1: 1.0},
        optimizer=optim.SGD(learning_rate=0.1),
        **options,
    )
    b = cr.MLP([2, 4, 2], loss="cross_entropy", seed=0, dtype="float64")
    b.fit(
        data.X,
        data.y,
        sample_weight=np.where(data.y == 0, 3.0, 1.0),
        optimizer=optim.SGD(learning_rate=0.1),
        **options,
    )
    np.testing.assert_array_equal(a.parameters, b.parameters)


def test_balanced_class_weight_evens_out_classes():
    from chainrule.training.splits import apply_class_weight

    net = cr.MLP([2, 2], loss="cross_entropy")
    T = np.eye(2)[[0, 0, 0, 1]]
    np.testing.assert_allclose(
        apply_class_weight(net, T, None, "balanced"), [4 / 6, 4 / 6, 4 / 6, 2.0]
    )


def test_frozen_parameters_never_move():
    net = seed001_network(train_biases=False)
    biases = [layer.b.copy() for layer in net.dense_layers]
    net.fit(
        seed001.X,
        seed001.T,
        optimizer=optim.AdamW(learning_rate=0.1, weight_decay=0.5),
        epochs=5,
        verbose=0,
    )
    for layer, before in zip(net.dense_layers, biases, strict=True):
        assert np.array_equal(layer.b, before)
    assert net.layers[0].W[0, 0] != 0.15


def test_dropout_is_off_at_predict_time_and_scales_when_training():
    layer = cr.Dropout(0.5)
    X = np.ones((1000, 10))
    assert layer.forward(X) is X
    dropped = layer.forward(X, keep=True, rng=np.random.default_rng(0))
    assert set(np.unique(dropped)) == {0.0, 2.0}
    assert dropped.mean() == pytest.approx(1.0, abs=0.03)


def test_history_records_metrics_validation_lr_and_time():
    history = cr.MLP([2, 8, 2], loss="cross_entropy", seed=0).fit(
        datasets.moons().X,
        datasets.moons().y,
        epochs=3,
        validation_split=0.2,
        metrics=["accuracy"],
        schedule=cr.optim.schedules.StepDecay(step_size=1, gamma=0.5),
        optimizer=optim.SGD(learning_rate=0.2),
        verbose=0,
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert history["lr"] == [0.2, 0.1, 0.05]


def test_validation_metrics_match_an_independent_computation():
    data = datasets.moons()
    recorder = Recorder()
    net = cr.MLP([2, 8, 2], loss="cross_entropy", seed=0, dtype="float64")
    X_val, y_val = data.X[:50], data.y[:50]
    net.fit(
        data.X[50:],
        data.y[50:],
        epochs=2,
        validation_data=(X_val, y_val),
        metrics=["accuracy"],
        callbacks=[recorder],
        verbose=0,
    )
    Y = net.predict(X_val)
    assert recorder.logs[-1]["val_accuracy"] == np.mean(Y.argmax(axis=1) == y_val)
    assert recorder.logs[-1]["val_loss"] == pytest.approx(
        -np.mean(np.log(Y[np.arange(50), y_val])), rel=1e-12
    )


def test_verbose_two_prints_every_n_epochs(capsys):
    cr.MLP([2, 4, 2], loss="cross_entropy").fit(
        datasets.moons().X, datasets.moons().y, epochs=6, verbose=2, log_every=3
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["3/6", "6/6"]


def test_verbose_one_draws_a_progress_display_on_a_terminal(monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    cr.MLP([2, 4, 2], loss="cross_entropy").fit(
        datasets.moons().X, datasets.moons().y, epochs=2, verbose=1
    )
    assert "epochs" in screen.getvalue() and "samples/s" in screen.getvalue()


def test_the_live_display_redraws_at_most_five_times_a_second_however_short_the_epochs(
    monkeypatch,
):
    import io
    import time

    from rich.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    redraws = []
    original = Progress.refresh
    monkeypatch.setattr(Progress, "refresh", lambda self: (redraws.append(1), original(self)))
    monkeypatch.setattr("sys.stderr", Terminal())
    started = time.perf_counter()
    cr.MLP([2, 3, 2], loss="cross_entropy").fit(
        datasets.xor().X, datasets.xor().y, epochs=400, batch_size=2, verbose=1
    )
    seconds = time.perf_counter() - started
    # five a second, plus the first, the two tasks' creation and the final one at stop
    assert len(redraws) <= 5 * seconds + 5


def test_verbose_one_writes_about_ten_lines_to_a_log(capsys):
    cr.MLP([2, 4, 2], loss="cross_entropy").fit(
        datasets.moons().X, datasets.moons().y, epochs=30, verbose=1
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[1] for line in lines] == [f"{e}/30" for e in range(3, 31, 3)]


def test_lbfgs_minimises_the_full_batch_loss():
    pytest.importorskip("scipy")
    x = np.linspace(-2, 2, 50)[:, None]
    net = cr.MLP([1, 10, 1], activation="tanh", loss="mse", seed=0, dtype="float64")
    history = net.fit(x, x**2, optimizer=optim.LBFGS(), epochs=300, verbose=0)
    assert history["loss"][-1] < 1e-3 < history["loss"][0]
    assert net.compute_loss(x, x**2) == pytest.approx(history["loss"][-1], rel=1e-6)


def test_bad_fit_arguments():
    net = cr.MLP([2, 2], loss="cross_entropy")
    X, y = datasets.moons().X, datasets.moons().y
    with pytest.raises(ValueError, match="'epochs' must be an integer >= 1, got 0"):
        net.fit(X, y, epochs=0)
    with pytest.raises(ValueError, match="'verbose' must be 0, 1 or 2, got 5"):
        net.fit(X, y, epochs=1, verbose=5)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        net.fit(X, y, metrics=["f1"])
    with pytest.raises(ValueError, match="L-BFGS runs in one call to scipy"):
        net.fit(X, y, optimizer=optim.LBFGS(), checkpoint="state.npz")


def test_lbfgs_is_scipys_l_bfgs_b_on_the_same_objective():
    optimize = pytest.importorskip("scipy.optimize")
    x = np.linspace(-2, 2, 40)[:, None]
    net = cr.MLP([1, 6, 1], activation="tanh", loss="mse", seed=3, dtype="float64")
    reference = net.copy()
    start = reference.parameters.copy()
    X, T, _ = reference.check_data(x, np.sin(x), None)

    def objective(flat):
        reference.parameters[...] = flat
        return reference.forward_backward(X, T, None), reference.gradients.copy()

    expected = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 50, "maxfun": 15000, "gtol": 1e-7, "maxcor": 10},
    ).x
    net.fit(x, np.sin(x), optimizer=optim.LBFGS(), epochs=50, verbose=0)
    np.testing.assert_array_equal(net.parameters, expected)


def test_epoch_lines_label_every_column_and_time_in_a_unit_that_fits():
    import io

    from chainrule.training.progress import EpochLogger

    stream = io.StringIO()
    net = cr.MLP([2, 3, 1], loss="squared_error", seed=0)
    X = np.zeros((4, 2), dtype=np.float32)
    net.fit(X, X[:, :1], epochs=2, verbose=0, callbacks=[EpochLogger(stream=stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    for line in lines:
        fields = line.split("  ")
        assert fields[0].startswith("epoch ") and all(" " in field for field in fields), line
        assert fields[-1].startswith("time ") and fields[-1].endswith((" ms", " s"))
