"""The fit loop under faults: Ctrl-C, divergence, early stopping and resume, bad arguments."""

import json
import os
import re
import signal
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets, optim


class Recorder(cr.Callback):
    """Keeps a copy of the parameters at the end of every epoch."""

    def __init__(self):
        self.parameters = []

    def on_epoch_end(self, epoch, logs):
        self.parameters.append(self.network.parameters.copy())


def _diverging_fit(batch_size):
    recorder = Recorder()
    x = np.linspace(-1, 1, 64)[:, None]
    net = cr.MLP([1, 1], loss="mse", seed=0, dtype="float64")
    with pytest.warns(cr.TrainingDivergedWarning, match=r"epoch \d+.*smaller learning rate"):
        history = net.fit(
            x,
            1e3 * x,
            optimizer=optim.SGD(learning_rate=5.0),
            epochs=1000,
            batch_size=batch_size,
            callbacks=[recorder],
            verbose=0,
        )
    return net, history, recorder, x


@pytest.mark.parametrize("batch_size", [8, None])
def test_divergence_keeps_parameters_whose_loss_is_finite(batch_size):
    net, history, recorder, x = _diverging_fit(batch_size)
    assert history.stopped_by == "diverged" and len(recorder.parameters) > 3
    kept = int(re.search(r"from the end of epoch (\d+)", history.stop_reason).group(1))
    assert np.array_equal(net.parameters, recorder.parameters[kept - 1])
    if batch_size is None:  # one step per epoch: the loss of the kept parameters was measured
        assert np.isfinite(net.compute_loss(x, 1e3 * x))
        assert kept == len(recorder.parameters) - 1


def test_ctrl_c_in_a_callback_keeps_that_step_records_it_and_re_raises():
    seen = {}

    def interrupt(batch, logs):
        if batch == 3:
            seen["parameters"] = net.parameters.copy()
            raise KeyboardInterrupt

    net = cr.MLP([2, 8, 2], loss="cross_entropy", seed=0)
    with pytest.raises(KeyboardInterrupt):
        net.fit(
            datasets.moons().X,
            datasets.moons().y,
            epochs=5,
            verbose=0,
            callbacks=[cr.LambdaCallback(on_batch_end=interrupt)],
            early_stopping=True,
        )
    assert np.array_equal(net.parameters, seen["parameters"])
    assert net.history.stopped_by == "interrupted"
    assert "epoch 1 after 4 of" in net.history.stop_reason


def _adamw_fit(callbacks):
    data = datasets.moons()
    net = cr.MLP([2, 32, 32, 2], loss="cross_entropy", seed=1)
    optimizer = optim.AdamW(learning_rate=0.01, weight_decay=0.1)
    try:
        net.fit(
            data.X,
            data.y,
            optimizer=optimizer,
            epochs=400,
            batch_size=4,
            verbose=0,
            callbacks=callbacks,
        )
    except KeyboardInterrupt:
        return net, optimizer
    raise AssertionError("training was not interrupted")


@pytest.mark.parametrize("delay", [0.05, 0.13, 0.21, 0.34, 0.55])
def test_a_real_sigint_never_leaves_the_optimizer_half_stepped(delay):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))

    def start_timer(batch, logs):  # once training runs, a SIGINT at a random moment
        if batch == 0 and not timer.is_alive() and not timer.finished.is_set():
            timer.start()

    net, optimizer = _adamw_fit([cr.LambdaCallback(on_batch_end=start_timer)])
    timer.join()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    steps = optimizer.steps
    assert steps > 0 and net.history.stopped_by == "interrupted"

    def stop_after(batch, logs):  # the same run, stopped exactly after that many steps
        if replay_optimizer.steps == steps:
            raise KeyboardInterrupt

    replay_net, replay_optimizer = None, None
    holder = cr.LambdaCallback(on_batch_end=stop_after)  # fires after the step it counts

    class Grab(cr.Callback):
        def set_network(self, network):
            nonlocal replay_net
            replay_net = network

    original = optim.AdamW

    def capture(*args, **kwargs):
        nonlocal replay_optimizer
        replay_optimizer = original(*args, **kwargs)
        return replay_optimizer

    optim.AdamW, saved = capture, optim.AdamW
    try:
        _adamw_fit([holder, Grab()])
    finally:
        optim.AdamW = saved
    assert np.array_equal(net.parameters, replay_net.parameters)
    for name in ("m", "v"):
        assert np.array_equal(optimizer.state[name], replay_optimizer.state[name])


def _early_stopped(tmp_path, restore, resume=False, epochs=200):
    data = datasets.moons()
    net = cr.MLP([2, 16, 2], loss="cross_entropy", seed=4)
    history = net.fit(
        data.X,
        data.y,
        optimizer=optim.Adam(learning_rate=0.05),
        epochs=epochs,
        batch_size=32,
        validation_split=0.3,
        verbose=0,
        checkpoint=tmp_path / "state.npz",
        checkpoint_every=7,
        resume_from=tmp_path / "state.npz" if resume else None,
        early_stopping=cr.EarlyStopping(patience=2, restore_best_weights=restore),
    )
    return net, history


@pytest.mark.parametrize("restore", [True, False])
def test_resuming_an_early_stopped_run_trains_no_more(tmp_path, restore):
    net, history = _early_stopped(tmp_path, restore)
    assert history.stopped_by == "early_stopping" and len(history.epoch) < 200
    with np.load(tmp_path / "state.npz", allow_pickle=False) as archive:
        header = json.loads(archive["__header__"].tobytes())
    assert header["epoch"] == history.epoch[-1]  # written at the stop, not at a multiple of 7
    assert header["stopped"] == {"by": "early_stopping", "reason": history.stop_reason}
    resumed, again = _early_stopped(tmp_path, restore, resume=True)
    assert again.epoch == history.epoch and again.stopped_by == "early_stopping"
    assert again.stop_reason == history.stop_reason
    assert np.array_equal(resumed.parameters, net.parameters)


@pytest.mark.parametrize(
    "options,error,message",
    [
        ({"checkpoint_every": 0}, ValueError, r"'checkpoint_every' must be an integer >= 1, got 0"),
        ({"checkpoint_every": 1.5}, TypeError, r"'checkpoint_every' must be an integer, got 1.5"),
        ({"seed": "abc"}, TypeError, r"'seed' must be an integer, got 'abc'"),
        ({"seed": -1}, ValueError, r"'seed' must be an integer >= 0, got -1"),
        ({"validation_data": ([[0.0, 0.0]],)}, ValueError, r"'validation_data' must be a tuple"),
        (
            {"validation_data": (np.zeros((3, 3)), np.zeros(3, int))},
            ValueError,
            r"'validation_data': 'X' must have 2 columns",
        ),
        (
            {"sample_weight": ["1"] * 200},
            ValueError,
            r"'sample_weight' must be a numeric array, got an array of text",
        ),
        ({"metrics": "accuracy"}, TypeError, r"'metrics' must be a list of names.*'accuracy'"),
        ({"batch_size": 0}, ValueError, r"'batch_size' must be an integer >= 1, got 0"),
        ({"shuffle": "yes"}, TypeError, r"'shuffle' must be True or False, got 'yes'"),
        ({"verbose": 3}, ValueError, r"'verbose' must be 0, 1 or 2, got 3"),
        ({"log_every": 0}, ValueError, r"'log_every' must be an integer >= 1"),
        ({"validation_split": 1.0}, ValueError, r"'validation_split' must be a float in \[0.0"),
        ({"callbacks": [print]}, TypeError, r"'callbacks' must be a list of Callback"),
        ({"early_stopping": "yes"}, TypeError, r"'early_stopping' must be True, False"),
        (
            {"checkpoint": "missing/state.npz"},
            FileNotFoundError,
            r"checkpoint 'missing/s.*'missing'",
        ),
        ({"checkpoint": 3}, TypeError, r"'checkpoint' must be a file path, got 3"),
    ],
)
def test_every_argument_is_checked_before_training(options, error, message):
    data = datasets.moons()
    net = cr.MLP([2, 4, 2], loss="cross_entropy", seed=0)
    before = net.parameters.copy()
    with pytest.raises(error, match=message):
        net.fit(data.X, data.y, epochs=2, **{"verbose": 0, **options})
    assert np.array_equal(net.parameters, before) and net.history is None


def test_masked_and_complex_inputs_are_refused():
    data = datasets.moons()
    net = cr.MLP([2, 4, 2], loss="cross_entropy", seed=0)
    masked = np.ma.masked_array(data.X, mask=np.zeros_like(data.X, bool))
    with pytest.raises(TypeError, match=r"'X' is a masked array"):
        net.fit(masked, data.y, verbose=0)
    with pytest.raises(TypeError, match=r"'X' holds complex numbers"):
        net.predict(data.X + 1j)
    with pytest.raises(TypeError, match=r"'T' is a masked array"):
        net.fit(data.X, np.ma.masked_array(data.y), verbose=0)
    with pytest.raises(TypeError, match=r"'sample_weight' holds complex"):
        net.fit(data.X, data.y, sample_weight=np.ones(len(data.y)) * 1j, verbose=0)


def test_a_real_sigint_during_lbfgs_keeps_the_last_iteration():
    pytest.importorskip("scipy")
    timers = []

    class SignalSoon(Recorder):
        def on_epoch_end(self, epoch, logs):
            super().on_epoch_end(epoch, logs)
            if epoch == 2:  # a SIGINT a moment later, wherever scipy then is
                timers.append(threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGINT)))
                timers[0].start()

    recorder = SignalSoon()
    data = datasets.moons()
    net = cr.MLP([2, 256, 256, 2], loss="cross_entropy", seed=0, dtype="float64")
    with pytest.raises(KeyboardInterrupt):
        net.fit(
            data.X,
            data.y,
            optimizer=optim.LBFGS(tol=0),
            epochs=100000,
            verbose=0,
            callbacks=[recorder],
        )
    timers[0].join()
    assert net.history.stopped_by == "interrupted" and "L-BFGS iteration" in net.history.stop_reason
    assert len(recorder.parameters) >= 3
    assert np.array_equal(net.parameters, recorder.parameters[-1])


def _rewrite_checkpoint(path, change):
    import io
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(np.load(io.BytesIO(members["__header__.npy"])).tobytes())
    change(header, members)
    stream = io.BytesIO()
    np.save(stream, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
    members["__header__.npy"] = stream.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _reference(header):
    return header["optimizer"]["state"]["m"]


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda h, m: h.update(epoch="3"), "epoch must be an integer >= 0"),
        (lambda h, m: h.update(rng_state={"bit_generator": "PCG64"}), "unusable state"),
        (lambda h, m: _reference(h).update(shape=[3]), r"has shape \(\d+,\), the header"),
        (lambda h, m: _reference(h).update(__array__="parameters"), "an array name must be"),
        (lambda h, m: _reference(h).pop("shape"), "an array reference must be"),
        (lambda h, m: h.update(stopped={"by": 1, "reason": "x"}), "two strings"),
        (lambda h, m: m.pop("optimizer/state/v.npy"), "no 'optimizer/state/v' array"),
        (lambda h, m: h["optimizer"]["config"].update(name="SGD"), "optimizer SGD, not Adam"),
    ],
)
def test_a_tampered_checkpoint_is_refused_and_changes_nothing(tmp_path, change, message):
    data = datasets.moons()
    path = tmp_path / "state.npz"
    cr.MLP([2, 4, 2], loss="cross_entropy", seed=0).fit(
        data.X, data.y, epochs=2, verbose=0, checkpoint=path
    )
    _rewrite_checkpoint(path, change)
    net = cr.MLP([2, 4, 2], loss="cross_entropy", seed=0)
    optimizer = optim.Adam()
    before = net.parameters.copy()
    with pytest.raises(cr.ModelFileError, match=message):
        net.fit(data.X, data.y, epochs=4, verbose=0, optimizer=optimizer, resume_from=path)
    assert np.array_equal(net.parameters, before) and optimizer.steps == 0
