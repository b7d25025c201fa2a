"""The numba kernels against the NumPy reference: the same results within float rounding (bit for
bit where the arithmetic is the same), the same bits run after run, and the choice between them
(set_kernels, the environment, 'auto', the scikit-learn estimators' reference)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import activations, kernels, losses
from chainrule.core.layers import Dense

pytest.importorskip("numba")
from chainrule.core import compiled  # noqa: E402  (imports numba)

NUMPY = kernels.NUMPY
SERIAL = kernels.numba_kernels(1)
THREADED = kernels.numba_kernels(2)  # arrays from compiled.PARALLEL_MIN elements on 2 threads
COMPILED = [SERIAL, THREADED]
# float rounding: 16 units in the last place of each dtype on values of order 1, far below any
# real error (a missing term, a wrong constant, a dropped row changes results in the first digits)
TOLERANCE = {
    dtype: dict(rtol=16 * np.finfo(dtype).eps, atol=16 * np.finfo(dtype).eps)
    for dtype in (np.float32, np.float64)
}
DTYPES = [np.float32, np.float64]
BIG = compiled.PARALLEL_MIN + 1001  # large enough for the threaded build, not a multiple of 64


@pytest.fixture(autouse=True)
def _kernels_restored():
    before = kernels.get_kernels()
    yield
    cr.set_kernels(before[0], threads=before[1])


def _updates(kernel_set, name, dtype, size, hyper, steps=5):
    """The parameters and state after ``steps`` updates of ``kernel_set``'s ``name`` kernel."""
    rng = np.random.default_rng(7)
    p = rng.normal(size=size).astype(dtype)
    state = [np.zeros(size, dtype) for _ in range(4)]
    for step in range(1, steps + 1):
        g = rng.normal(size=size).astype(dtype)
        getattr(kernel_set, name)(p, g, *state[: STATE_SIZES[name]], *hyper(dtype, step))
    return [p, *state[: KEPT_STATE[name]]]  # the parameters and the state, not the scratch


STATE_SIZES = {"sgd_update": 2, "adam_update": 3, "rmsprop_update": 4, "adagrad_update": 1}
KEPT_STATE = {"sgd_update": 1, "adam_update": 2, "rmsprop_update": 3, "adagrad_update": 1}


def _sgd(momentum, dampening, weight_decay, nesterov):
    def hyper(dtype, step):
        rates = kernels.scalars(dtype, 0.05, momentum, dampening, weight_decay)
        return (*rates, nesterov, step == 1)

    return hyper


def _adam(weight_decay, decoupled):
    def hyper(dtype, step):
        scale1, scale2 = 0.01 / (1 - 0.9**step), 1 / np.sqrt(1 - 0.999**step)
        rates = kernels.scalars(dtype, 0.01, 0.9, 0.999, 1e-8, weight_decay)
        return (*rates, decoupled, *kernels.scalars(dtype, scale1, scale2))

    return hyper


def _rmsprop(weight_decay, momentum, centered):
    return lambda dtype, step: (0.01, 0.9, 1e-8, weight_decay, momentum, centered)


def _adagrad(weight_decay, decay):
    return lambda dtype, step: (0.1 / (1 + (step - 1) * decay), weight_decay, 1e-10)


EXACT_UPDATES = [  # the same arithmetic in the same order: bit for bit
    ("sgd_update", _sgd(0.0, 0.0, 0.0, False)),
    ("sgd_update", _sgd(0.9, 0.0, 0.0, False)),
    ("sgd_update", _sgd(0.9, 0.0, 0.01, True)),
    ("sgd_update", _sgd(0.5, 0.3, 0.02, False)),
    ("adam_update", _adam(0.0, False)),
    ("adam_update", _adam(0.1, False)),
    ("adam_update", _adam(0.1, True)),
]
CLOSE_UPDATES = [  # NumPy's Python-float constants against numba's cast ones: float rounding
    ("rmsprop_update", _rmsprop(0.0, 0.0, False)),
    ("rmsprop_update", _rmsprop(0.1, 0.5, False)),
    ("rmsprop_update", _rmsprop(0.1, 0.5, True)),
    ("adagrad_update", _adagrad(0.0, 0.0)),
    ("adagrad_update", _adagrad(0.2, 0.3)),
]


@pytest.mark.parametrize("fast", COMPILED, ids=["serial", "threaded"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1001, BIG])
@pytest.mark.parametrize("name,hyper", EXACT_UPDATES)
def test_sgd_and_adam_kernels_give_the_reference_bit_for_bit(fast, dtype, size, name, hyper):
    for ours, reference in zip(
        _updates(fast, name, dtype, size, hyper), _updates(NUMPY, name, dtype, size, hyper),
        strict=True,
    ):  # fmt: skip
        assert np.array_equal(ours, reference)


@pytest.mark.parametrize("fast", COMPILED, ids=["serial", "threaded"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1001, BIG])
@pytest.mark.parametrize("name,hyper", CLOSE_UPDATES)
def test_rmsprop_and_adagrad_kernels_agree_within_rounding(fast, dtype, size, name, hyper):
    ours, reference = (
        _updates(fast, name, dtype, size, hyper),
        _updates(NUMPY, name, dtype, size, hyper),
    )
    assert not np.allclose(reference[0], _updates(NUMPY, name, dtype, size, hyper, steps=0)[0])
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype])


def _layer_arrays(dtype, rows, width=67, seed=3):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(rows, width)).astype(dtype)
    b = rng.normal(size=width).astype(dtype)
    grad = rng.normal(size=(rows, width)).astype(dtype)
    return Z, b, grad


ROWS = [1, 63, 64, 65, 700]  # around a block of the bias gradient; 700 x 67 is threaded


@pytest.mark.parametrize("fast", COMPILED, ids=["serial", "threaded"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("name", activations.NAMES)
def test_every_activation_forward_and_backward_agrees_with_the_reference(fast, dtype, rows, name):
    activation = activations.get(name)
    Z, b, grad = _layer_arrays(dtype, rows)
    results = []
    for kernel_set in (fast, NUMPY):
        z = Z.copy()
        if name == "softmax":
            A, log_norm = kernel_set.bias_softmax(z, b, activation, np.empty_like(z))
        else:
            A, log_norm = kernel_set.bias_activation(z, b, activation, np.empty_like(z)), None
        dZ = kernel_set.activation_backward(grad, z, A, activation, np.empty_like(z))
        results.append((z, A, dZ, log_norm))
    (z, A, dZ, log_norm), (z0, A0, dZ0, log_norm0) = results
    assert np.array_equal(z, z0)  # Z + b, one addition either way
    np.testing.assert_allclose(A, A0, **TOLERANCE[dtype])
    np.testing.assert_allclose(dZ, dZ0, **TOLERANCE[dtype])
    if name == "softmax":
        np.testing.assert_allclose(log_norm, log_norm0, **TOLERANCE[dtype])
    if name in ("relu", "identity"):  # no function evaluated: the reference's bits
        assert np.array_equal(A, A0) and np.array_equal(dZ, dZ0)
        in_place = Z.copy()  # the layer's buffer when the activation overwrites Z
        assert fast.bias_activation(in_place, b, activation, in_place) is in_place
        assert np.array_equal(in_place, A0)


@pytest.mark.parametrize("fast", COMPILED, ids=["serial", "threaded"])
def test_relu_in_place_keeps_nan_and_the_sign_of_zero_gradients(fast):
    Z = np.array([[np.nan, -1.0, 0.0, 2.0]])
    A = fast.bias_activation(Z, np.zeros(4), activations.get("relu"), Z)
    assert A is Z and np.isnan(A[0, 0]) and A[0, 1:].tolist() == [0.0, 0.0, 2.0]
    grad = np.array([[1.0, -3.0, -2.0, 5.0]])
    dZ = fast.activation_backward(grad, A, A, activations.get("relu"), np.empty_like(A))
    reference = NUMPY.activation_backward(grad, A, A, activations.get("relu"), np.empty_like(A))
    assert np.array_equal(np.signbit(dZ), np.signbit(reference))


@pytest.mark.parametrize("fast", COMPILED, ids=["serial", "threaded"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", ROWS)
def test_bias_gradient_output_delta_and_gather_agree(fast, dtype, rows):
    Z, _, grad = _layer_arrays(dtype, rows)
    sums = fast.column_sums(grad, np.empty(grad.shape[1], dtype))
    exact = grad.astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(sums, exact, rtol=50 * np.finfo(dtype).eps, atol=1e-5)
    loss = losses.get("cross_entropy")
    Y, T = np.abs(Z), np.abs(grad)
    np.testing.assert_allclose(
        fast.output_delta(loss, Y, T, None, rows),
        NUMPY.output_delta(loss, Y, T, None, rows),
        **TOLERANCE[dtype],
    )
    X, order = np.random.default_rng(4).normal(size=(900, 59)).astype(dtype), np.arange(900)[::-1]
    np.random.default_rng(5).shuffle(order)
    assert np.array_equal(
        fast.take_rows(X, order[:rows], np.empty((rows, 59), dtype)), X[order[:rows]]
    )


def test_the_reference_takes_what_the_compiled_kernels_do_not():
    """Strided arrays, integer data, a missing buffer: each compiled kernel hands them over."""
    relu = activations.get("relu")
    Z, b, grad = _layer_arrays(np.float64, 30)
    for kernel_set in COMPILED:
        strided = kernel_set.activation_backward(grad.T, None, Z.T, relu, None)
        assert np.array_equal(strided, NUMPY.activation_backward(grad.T, None, Z.T, relu, None))
        X = np.arange(40).reshape(8, 5)
        assert np.array_equal(
            kernel_set.take_rows(X, np.array([3, 1]), np.empty((2, 5), int)), X[[3, 1]]
        )


def _fit(optimizer, threads=1, dtype="float32"):
    cr.set_kernels("numba" if threads else "numpy", threads=max(threads, 1))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12)).astype(dtype)
    net = cr.MLP([12, 300, 150, 4], loss="cross_entropy", seed=1, dtype=dtype)
    net.fit(X, rng.integers(0, 4, 300), epochs=3, batch_size=150, optimizer=optimizer, verbose=0)
    return net.parameters.copy()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_training_on_numba_stays_within_rounding_of_numpy_and_repeats_its_bits(threads, optimizer):
    reference = _fit(optimizer, threads=0)
    first, second = _fit(optimizer, threads=threads), _fit(optimizer, threads=threads)
    assert np.array_equal(first, second)  # same configuration: same bits
    start = cr.MLP([12, 300, 150, 4], activation="relu", seed=1, dtype="float32").parameters
    moved = np.abs(reference - start).max()
    assert moved > 1e-3 and np.abs(first - reference).max() < 1e-4 * moved


def test_the_bias_gradient_does_not_depend_on_the_number_of_threads():
    grad = np.random.default_rng(6).normal(size=(4000, 33))
    one = SERIAL.column_sums(grad, np.empty(33))
    two = THREADED.column_sums(grad, np.empty(33))
    assert np.array_equal(one, two)


# -- the choice ----------------------------------------------------------------------------------
def test_set_kernels_refuses_what_it_does_not_know():
    with pytest.raises(ValueError, match=r"one of 'auto', 'numpy', 'numba', got 'cuda'"):
        cr.set_kernels("cuda")
    with pytest.raises(ValueError, match="threads must be a whole number of at least 1, got 0"):
        cr.set_kernels("numba", threads=0)
    assert cr.get_kernels() == ("auto", 1)  # unchanged by the refusals


def test_without_numba_forcing_it_says_which_extra_to_install(monkeypatch):
    def missing(threads=1):
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(kernels, "numba_kernels", missing)
    with pytest.raises(ImportError, match=r"the numba kernels need numba: .*chainrule\[fast\]"):
        cr.set_kernels("numba")
    monkeypatch.setattr(kernels.importlib.util, "find_spec", lambda name: None)
    assert not kernels.worth_compiling(1e15)  # 'auto' falls back to NumPy


def _kernels_during_fit(net, X, y, **options):
    seen = []

    class Record(cr.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(kernels.current().name)

    net.fit(X, y, verbose=0, callbacks=[Record()], **options)
    return seen


def test_auto_compiles_a_long_fit_and_leaves_a_short_one_to_numpy(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 784)).astype(np.float32), rng.integers(0, 10, 200)
    big = cr.MLP([784, 256, 128, 10], loss="cross_entropy", seed=0, dtype="float32")
    small = cr.MLP([784, 8, 10], loss="cross_entropy", seed=0, dtype="float32")
    # one epoch of 200 rows in batches of 32: 7 steps, each 1e6 + parameters x 32
    one_epoch = 7 * (1e6 + 235_146 * 32)
    monkeypatch.setattr(kernels, "MIN_WORK", one_epoch)
    assert _kernels_during_fit(big, X, y, epochs=1) == ["numba"]
    assert _kernels_during_fit(small, X, y, epochs=1) == ["numpy"]  # less work
    monkeypatch.setattr(kernels, "MIN_WORK", one_epoch + 1)
    assert _kernels_during_fit(big, X, y, epochs=1) == ["numpy"]
    assert _kernels_during_fit(big, X, y, epochs=2) == ["numba"] * 2  # twice the work
    assert kernels.current() is NUMPY  # outside fit, 'auto' is the reference
    cr.set_kernels("numpy")
    assert _kernels_during_fit(big, X, y, epochs=3) == ["numpy"] * 3
    cr.set_kernels("numba")
    assert _kernels_during_fit(small, X, y, epochs=1) == ["numba"] and cr.using_numba()
    with kernels.pinned(NUMPY):  # the playground's pin beats the choice
        assert _kernels_during_fit(small, X, y, epochs=1) == ["numpy"]
    cr.set_kernels("numpy")
    with kernels.pinned(SERIAL):
        assert _kernels_during_fit(small, X, y, epochs=1) == ["numba"]


def test_the_default_threshold_is_about_five_seconds_of_training():
    """The constants RESULTS.md measured: 1e11 parameter-samples. Ten epochs of the MNIST-shaped
    case at batch 128 (about 5 s) compile; one (0.5 s) does not; a small table network's
    hundred epochs over 20 000 rows (about 4 s) does not; a long run of tiny steps does."""
    mnist_epoch = kernels.fit_work(469, 235_146, 128)
    assert not kernels.worth_compiling(mnist_epoch)
    assert kernels.worth_compiling(10 * mnist_epoch)
    assert not kernels.worth_compiling(kernels.fit_work(625 * 100, 3490, 32))
    # a million one-sample steps of the seeds' 2-2-2 network: about 50 s of per-step overhead
    assert kernels.worth_compiling(kernels.fit_work(10**6, 12, 1))


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer", "ignore:lbfgs failed")
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_the_scikit_learn_estimators_step_on_the_reference(monkeypatch, solver):
    sklearn_mlp = pytest.importorskip("chainrule.sklearn")
    seen = []
    forward = Dense.forward

    def spy(self, X, **kwargs):
        seen.append(kernels.current().name)
        return forward(self, X, **kwargs)

    monkeypatch.setattr(Dense, "forward", spy)
    cr.set_kernels("numba")
    X = np.random.default_rng(0).normal(size=(40, 3))
    sklearn_mlp.MLPRegressor(hidden_layer_sizes=(5,), max_iter=2, solver=solver).fit(X, X[:, 0])
    assert seen and set(seen) == {"numpy"}


@pytest.mark.parametrize(
    "environment,expected",
    [
        ({"CHAINRULE_KERNELS": "numpy"}, "('numpy', 1)"),
        ({"CHAINRULE_KERNELS": "NUMBA", "CHAINRULE_KERNEL_THREADS": "2"}, "('numba', 2)"),
        ({"CHAINRULE_NUMBA": "1"}, "('numba', 1)"),
        ({"CHAINRULE_NUMBA": "0"}, "('auto', 1)"),
        ({}, "('auto', 1)"),
    ],
)
def test_the_environment_chooses_at_import(environment, expected):
    code = "import chainrule; print(chainrule.get_kernels())"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHAINRULE_")}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **environment}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


@pytest.mark.parametrize(
    "environment,warning",
    [
        ({"CHAINRULE_KERNELS": "gpu"}, "CHAINRULE_KERNELS='gpu' is not one of auto, numpy, numba"),
        ({"CHAINRULE_KERNEL_THREADS": "-2"}, "CHAINRULE_KERNEL_THREADS='-2' is not a whole"),
        ({"CHAINRULE_KERNEL_THREADS": "²"}, "CHAINRULE_KERNEL_THREADS='²' is not a whole"),
    ],
)
def test_a_bad_environment_value_warns_and_keeps_the_default(environment, warning):
    code = "import chainrule; print(chainrule.get_kernels())"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHAINRULE_")}
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], env={**clean, **environment},
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.stdout.strip() == "('auto', 1)" and warning in done.stderr


def test_importing_chainrule_does_not_import_numba():
    code = "import sys, chainrule; chainrule.MLP([2, 2]); print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_a_run_interrupted_and_resumed_chooses_as_the_whole_run(monkeypatch, tmp_path):
    """'auto' weighs every configured epoch, not those left: the resumed part of a run that
    compiles compiles too, and ends on the uninterrupted run's bits."""
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(64, 30)).astype(np.float32), rng.integers(0, 3, 64)

    def network():
        return cr.MLP([30, 40, 3], loss="cross_entropy", seed=0, dtype="float32")

    monkeypatch.setattr(kernels, "MIN_WORK", kernels.fit_work(2 * 3.5, network().n_params, 32))
    whole = network()
    assert _kernels_during_fit(whole, X, y, epochs=4, batch_size=32, seed=0) == ["numba"] * 4

    class Interrupt(cr.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        network().fit(X, y, epochs=4, batch_size=32, seed=0, verbose=0, checkpoint=path,
                      callbacks=[Interrupt()])  # fmt: skip
    resumed = network()
    seen = _kernels_during_fit(resumed, X, y, epochs=4, batch_size=32, seed=0, resume_from=path)
    assert seen == ["numba"] * len(seen) and seen
    assert np.array_equal(resumed.parameters, whole.parameters)


@pytest.mark.parametrize("fast", COMPILED, ids=["serial", "threaded"])
def test_the_compiled_updates_refuse_what_numpy_refuses_and_take_what_it_takes(fast):
    """A matrix of parameters is updated as NumPy updates it; gradients of another shape are
    an error, never a read past the end of an array."""
    for name, hyper in [
        *EXACT_UPDATES[1:2],
        *EXACT_UPDATES[4:5],
        *CLOSE_UPDATES[1:2],
        *CLOSE_UPDATES[4:],
    ]:
        results = []
        for kernel_set in (fast, NUMPY):
            p, g = np.ones((3, 4)), np.full((3, 4), 0.5)
            state = [np.zeros((3, 4)) for _ in range(STATE_SIZES[name])]
            getattr(kernel_set, name)(p, g, *state, *hyper(np.float64, 2))
            results.append(p)
        np.testing.assert_allclose(results[0], results[1], **TOLERANCE[np.float64])
        with pytest.raises(ValueError):
            state = [np.zeros(10) for _ in range(STATE_SIZES[name])]
            getattr(fast, name)(np.ones(10), np.ones(3), *state, *hyper(np.float64, 2))


def test_processes_that_would_run_other_kernels_are_refused():
    from chainrule.training.options import FitOptions, check_same_on_every_process

    class TwoProcesses:
        size = 2

        def check_same(self, settings):
            self.settings = settings

    group = TwoProcesses()
    net = cr.MLP([2, 3, 1])
    cr.set_kernels("numpy")
    options = FitOptions(
        streamed=False, epochs=1, batch_size=32, shuffle=True, validation_split=0.0,
        validation_data=None, sample_weight=None, class_weight=None, metrics=None,
        callbacks=None, early_stopping=False, verbose=0, log_every=1, checkpoint=None,
        checkpoint_every=1, resume_from=None, seed=0,
    )  # fmt: skip
    check_same_on_every_process(group, net, cr.optim.SGD(), None, [], options)
    assert group.settings["kernels"] == "numpy" and group.settings["kernel threads"] == 1
    assert group.settings["numba installed"] is True
