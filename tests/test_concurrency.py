"""One fit at a time: a second ``fit`` on a network, or ``fit``/``partial_fit`` on an estimator,
while one runs is refused at once with a RuntimeError, and the first run ends as if alone.

Every test holds the first fit at a known point with a callback that waits on a
``threading.Event`` (no sleeps, no timing): the second call is made while the first is certainly
inside its training loop. The lock is released on every way out: a return, an exception, a real
SIGINT (Ctrl-C), so the next fit starts.
"""

import copy
import os
import pickle
import signal
import threading

import numpy as np
import pytest

import chainrule as cr

WAIT = 30  # seconds a thread waits for an event before the test gives up (never reached)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def network():
    return cr.MLP([3, 8, 2], loss="cross_entropy", seed=0, dtype="float64")


FIT = dict(epochs=3, batch_size=16, seed=1, verbose=0)


class Held(cr.Callback):
    """Stops its fit after the first batch until the test releases it."""

    def __init__(self):
        self.inside, self.release = threading.Event(), threading.Event()

    def on_batch_end(self, batch, logs):
        if not self.inside.is_set():
            self.inside.set()
            assert self.release.wait(WAIT), "the test never released the held fit"


def in_thread(target, name="first fit"):
    """Start ``target`` in a thread; return it and the list its result or exception lands in."""
    outcome = []

    def run():
        try:
            outcome.append(target())
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, outcome


def finish(thread, outcome, hold):
    hold.release.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert not isinstance(outcome[0], BaseException), outcome[0]
    return outcome[0]


# -- Network.fit --------------------------------------------------------------------------------
def test_a_second_fit_while_one_runs_is_refused_and_the_first_ends_as_if_alone():
    X, y = data()
    net, hold = network(), Held()
    thread, outcome = in_thread(lambda: net.fit(X, y, callbacks=[hold], **FIT))
    assert hold.inside.wait(WAIT)
    during = net.parameters.copy()
    with pytest.raises(RuntimeError) as refused:
        net.fit(X, y, **{**FIT, "epochs": 1})
    assert str(refused.value) == (
        "Network.fit cannot start: Network.fit in thread 'first fit' is already training this "
        "network; two at once would interleave their steps on the same parameters. Wait for it "
        "to return, or train a copy (net.copy())."
    )
    np.testing.assert_array_equal(net.parameters, during)  # refused before touching anything
    history = finish(thread, outcome, hold)
    alone = network()
    expected = alone.fit(X, y, **FIT)
    np.testing.assert_array_equal(net.parameters, alone.parameters)  # bit for bit
    assert history.history["loss"] == expected.history["loss"]
    net.fit(X, y, **{**FIT, "epochs": 1})  # released: the next fit runs


def test_the_engine_called_directly_is_refused_too():
    """``chainrule.training.loop.fit`` (chainrule 0.1's ``chainrule.train.fit``), the engine
    Network.fit calls, holds the same lock: either way in, the second is refused."""
    from chainrule.training.loop import fit as engine

    X, y = data()
    net, hold = network(), Held()
    thread, outcome = in_thread(lambda: engine(net, X, y, callbacks=[hold], **FIT))
    assert hold.inside.wait(WAIT)
    with pytest.raises(RuntimeError, match="^Network.fit cannot start: Network.fit in thread"):
        net.fit(X, y, **FIT)
    with pytest.raises(RuntimeError, match="already training this network"):
        engine(net, X, y, **FIT)
    finish(thread, outcome, hold)
    engine(net, X, y, **FIT)


def test_copies_and_pickles_of_a_network_in_training_train_on_their_own():
    """The lock is not pickled or copied: a copy made while the original trains fits at once."""
    X, y = data()
    net, hold = network(), Held()
    thread, outcome = in_thread(lambda: net.fit(X, y, callbacks=[hold], **FIT))
    assert hold.inside.wait(WAIT)
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net), net.copy()):
        other.fit(X, y, **{**FIT, "epochs": 1})
    finish(thread, outcome, hold)


def test_a_callback_that_calls_fit_on_its_own_network_is_refused():
    X, y = data()
    net, refusals = network(), []

    def again(batch, logs):
        try:
            net.fit(X, y, **{**FIT, "epochs": 1})
        except RuntimeError as error:
            refusals.append(str(error))

    net.fit(X, y, callbacks=[cr.LambdaCallback(on_batch_end=again)], **{**FIT, "epochs": 1})
    assert len(refusals) == 4  # one per batch
    assert refusals[0].startswith("Network.fit cannot start: Network.fit in thread 'MainThread'")


def test_the_lock_is_released_when_fit_raises():
    X, y = data()
    net = network()

    def fail(batch, logs):
        raise ValueError("a callback failed")

    with pytest.raises(ValueError, match="a callback failed"):
        net.fit(X, y, callbacks=[cr.LambdaCallback(on_batch_end=fail)], **FIT)
    with pytest.raises(ValueError, match="'epochs'"):  # refused by fit's own checks
        net.fit(X, y, **{**FIT, "epochs": 0})
    net.fit(X, y, **FIT)


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals need the main thread"
)
def test_the_lock_is_released_after_a_real_ctrl_c():
    """A real SIGINT to this process mid-epoch: fit stops after that step with
    KeyboardInterrupt, and the next fit starts."""
    X, y = data()
    net = network()

    def ctrl_c(batch, logs):
        if batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, callbacks=[cr.LambdaCallback(on_batch_end=ctrl_c)], **FIT)
    assert net.history.stopped_by == "interrupted"
    history = net.fit(X, y, **FIT)
    assert len(history.epoch) == FIT["epochs"]


def _assert_threads_predict_as_one(predict):
    """Eight threads started together, each calling ``predict`` 50 times on its own inputs,
    get what one thread gets."""
    inputs = [np.random.default_rng(seed).normal(size=(257, 3)) for seed in range(8)]
    expected = [predict(X) for X in inputs]
    start, results = threading.Barrier(len(inputs)), [None] * len(inputs)

    def run(position):
        start.wait(WAIT)
        results[position] = [predict(inputs[position]) for _ in range(50)]

    threads = [threading.Thread(target=run, args=(p,)) for p in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    for got, want in zip(results, expected, strict=True):
        for each in got:
            np.testing.assert_array_equal(each, want)


def test_predict_from_many_threads_at_once_equals_predict_in_one():
    """predict only reads the parameters: documented thread-safe, checked here."""
    net = network()
    net.fit(*data(), **FIT)
    _assert_threads_predict_as_one(net.predict)


# -- the scikit-learn estimators ------------------------------------------------------------------
sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def estimator(kind="classifier", **options):
    options = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, **options}
    if kind == "classifier":
        return MLPClassifier(batch_size=16, **options)
    return MLPRegressor(batch_size=16, **options)


class HeldEpochs:
    """An estimator's end of epoch (its stopping rule, run by the training loop as a callback)
    that waits, the first time, until the test releases it."""

    def __init__(self, model):
        self.inside, self.release = threading.Event(), threading.Event()
        self.end_epoch = model._end_epoch
        model._end_epoch = self

    def __call__(self, *args):
        if not self.inside.is_set():
            self.inside.set()
            assert self.release.wait(WAIT), "the test never released the held fit"
        return self.end_epoch(*args)


def call(model, method, X, y):
    if method == "partial_fit" and isinstance(model, MLPClassifier):
        return model.partial_fit(X, y, classes=[0, 1])
    return getattr(model, method)(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize(
    "first, second",
    [
        ("fit", "fit"),
        ("fit", "partial_fit"),
        ("partial_fit", "fit"),
        ("partial_fit", "partial_fit"),
    ],
)
def test_fit_and_partial_fit_on_one_estimator_refuse_each_other(kind, first, second):
    X, y = data()
    model = estimator(kind)
    hold = HeldEpochs(model)
    thread, outcome = in_thread(lambda: call(model, first, X, y))
    assert hold.inside.wait(WAIT)
    during = [W.copy() for W in model.coefs_]
    name = type(model).__name__
    with pytest.raises(RuntimeError) as refused:
        call(model, second, X, y)
    assert str(refused.value) == (
        f"{name}.{second} cannot start: {name}.{first} in thread 'first fit' is already "
        "training this estimator; two at once would interleave their steps on the same "
        "parameters. Wait for it to return, or fit a clone (sklearn.base.clone(estimator))."
    )
    for W, before in zip(model.coefs_, during, strict=True):
        np.testing.assert_array_equal(W, before)
    assert finish(thread, outcome, hold) is model
    alone = call(estimator(kind), first, X, y)
    for W, expected in zip(model.coefs_, alone.coefs_, strict=True):
        np.testing.assert_array_equal(W, expected)  # as if alone, bit for bit
    assert model.loss_curve_ == alone.loss_curve_
    call(model, second, X, y)  # released


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_clones_and_pickles_of_an_estimator_in_training_fit_on_their_own():
    X, y = data()
    model = estimator()
    hold = HeldEpochs(model)
    thread, outcome = in_thread(lambda: model.fit(X, y))
    assert hold.inside.wait(WAIT)
    del model._end_epoch  # the copies end their epochs as usual
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model), clone(model)):
        other.fit(X, y)
    model._end_epoch = hold
    finish(thread, outcome, hold)
    del model._end_epoch
    assert "_fit_lock" in vars(model)  # pickling left it in place
    assert "_fit_lock" not in vars(pickle.loads(pickle.dumps(model)))  # never pickled


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_the_estimators_lock_is_released_when_fit_raises(solver):
    X, y = data()
    model = estimator(solver=solver)

    def fail(*args, **kwargs):
        raise ValueError("it failed")

    model._backprop = fail  # the objective of every batch (or of every L-BFGS evaluation)
    with pytest.raises(ValueError, match="it failed"):
        model.fit(X, y)
    del model._backprop
    assert model.fit(X, y) is model


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals need the main thread"
)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_the_estimators_lock_is_released_after_a_real_ctrl_c(solver):
    """A real SIGINT mid-fit: the stochastic solvers stop with scikit-learn's warning and
    return; L-BFGS (inside scipy) lets the KeyboardInterrupt through. Either way the next
    fit and partial_fit start."""
    X, y = data()
    model = estimator(solver=solver, max_iter=50)
    backprop, calls = model._backprop, []

    def ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return backprop(*args, **kwargs)

    model._backprop = ctrl_c
    if solver == "adam":
        with pytest.warns(UserWarning, match="Training interrupted by user"):
            model.fit(X, y)
    else:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    del model._backprop
    model.set_params(max_iter=3).fit(X, y)
    if solver == "adam":
        model.partial_fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_an_estimators_predict_from_many_threads_at_once_equals_predict_in_one():
    X, y = data()
    model = estimator(kind="regressor").fit(X, y.astype(float))
    _assert_threads_predict_as_one(model.predict)
