"""Each optimizer step for step against torch.optim (float64, rtol 1e-10), state and errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

CASES = [
    (optim.SGD, torch.optim.SGD, {"learning_rate": 0.1}, {"lr": 0.1}),
    (
        optim.SGD,
        torch.optim.SGD,
        {"learning_rate": 0.1, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.9},
    ),
    (
        optim.SGD,
        torch.optim.SGD,
        {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    ),
    (
        optim.SGD,
        torch.optim.SGD,
        {"learning_rate": 0.05, "momentum": 0.5, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.3},
    ),
    (optim.Adam, torch.optim.Adam, {"learning_rate": 0.01}, {"lr": 0.01}),
    (
        optim.Adam,
        torch.optim.Adam,
        {
            "learning_rate": 0.02,
            "beta_1": 0.8,
            "beta_2": 0.99,
            "epsilon": 1e-6,
            "weight_decay": 0.1,
        },
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
    (
        optim.AdamW,
        torch.optim.AdamW,
        {"learning_rate": 0.01, "weight_decay": 0.05},
        {"lr": 0.01, "weight_decay": 0.05},
    ),
    (optim.RMSprop, torch.optim.RMSprop, {"learning_rate": 0.01}, {"lr": 0.01}),
    (
        optim.RMSprop,
        torch.optim.RMSprop,
        {
            "learning_rate": 0.01,
            "rho": 0.9,
            "momentum": 0.5,
            "centered": True,
            "weight_decay": 0.01,
        },
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    ),
    (optim.AdaGrad, torch.optim.Adagrad, {"learning_rate": 0.1}, {"lr": 0.1}),
    (
        optim.AdaGrad,
        torch.optim.Adagrad,
        {
            "learning_rate": 0.1,
            "learning_rate_decay": 0.01,
            "initial_accumulator_value": 0.1,
            "weight_decay": 0.02,
        },
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.02},
    ),
]


@pytest.mark.parametrize("ours,theirs,our_options,their_options", CASES)
def test_first_steps_equal_pytorch(ours, theirs, our_options, their_options):
    rng = np.random.default_rng(0)
    net = cr.MLP([3, 5, 2], activation="tanh", loss="mse", seed=1, dtype="float64")
    X, T = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    torch_params = []
    for layer in net.dense_layers:
        torch_params += [
            torch.tensor(layer.W.copy(), requires_grad=True),
            torch.tensor(layer.b.copy(), requires_grad=True),
        ]
    torch_optimizer = theirs(torch_params, **their_options)
    optimizer = ours(**our_options)
    for _ in range(6):
        net.forward_backward(*net.check_data(X, T, None))
        optimizer.step(net.parameters, net.gradients)
        torch_optimizer.zero_grad()
        A = torch.tensor(X)
        for i in range(0, len(torch_params), 2):
            A = A @ torch_params[i] + torch_params[i + 1]
            A = torch.tanh(A) if i == 0 else A
        torch.nn.functional.mse_loss(A, torch.tensor(T)).backward()
        torch_optimizer.step()
    expected = np.concatenate([p.detach().numpy().ravel() for p in torch_params])
    np.testing.assert_allclose(net.parameters, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("ours,theirs,our_options,their_options", CASES)
def test_a_rate_changed_between_steps_acts_as_in_pytorch(ours, theirs, our_options, their_options):
    # schedules set optimizer.learning_rate every epoch; torch reads param_groups' lr at every step
    rng = np.random.default_rng(2)
    start, targets = rng.normal(size=9), rng.normal(size=(12, 9))
    params, torch_params = start.copy(), torch.tensor(start.copy(), requires_grad=True)
    optimizer, torch_optimizer = ours(**our_options), theirs([torch_params], **their_options)
    for step, target in enumerate(targets):
        rate = our_options["learning_rate"] * (1.0, 0.3, 2.0)[step // 4]
        optimizer.learning_rate = rate
        torch_optimizer.param_groups[0]["lr"] = rate
        optimizer.step(params, (params - target) * (1 + np.arange(9)))  # a quadratic's gradient
        torch_params.grad = (torch_params.detach() - torch.tensor(target)) * torch.arange(1, 10)
        torch_optimizer.step()
    np.testing.assert_allclose(params, torch_params.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_plain_sgd_is_the_textbook_update():
    params, grads = np.array([0.40, 0.45]), np.array([0.0882, -0.0239])
    optim.SGD(learning_rate=0.01).step(params, grads)
    np.testing.assert_allclose(params, [0.40 - 0.01 * 0.0882, 0.45 + 0.01 * 0.0239], rtol=1e-15)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_state_round_trip_continues_identically(name):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=7) for _ in range(6)]
    a, b = np.ones(7), np.ones(7)
    first = optim.get(name, learning_rate=0.05)
    for g in grads[:3]:
        first.step(a, g)
    second = optim.get(name, learning_rate=0.05)
    second.load_state_dict(first.state_dict())
    b[...] = a
    for g in grads[3:]:
        first.step(a, g)
        second.step(b, g)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "options,message",
    [
        ({"learning_rate": -0.1}, r"'learning_rate' must be a float in \(0.0, inf\], got -0.1"),
        ({"momentum": 1.5}, r"'momentum' must be a float in \[0.0, 1.0\], got 1.5"),
        ({"nesterov": True}, r"nesterov momentum needs 'momentum' > 0"),
    ],
)
def test_bad_hyperparameters_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD(**options)


def test_momentum_zero_is_accepted_as_int():
    assert optim.SGD(learning_rate=1, momentum=0).momentum == 0.0


def test_unknown_optimizer_lists_known():
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'; known: adagrad, adam"):
        optim.get("adamax")


@pytest.mark.parametrize(
    "optimizer",
    [
        optim.SGD(learning_rate=0.2, momentum=0.5, nesterov=True),
        optim.Adam(learning_rate=0.02, beta_2=0.9),
        optim.AdamW(epsilon=1e-6),
        optim.RMSprop(centered=True),
        optim.AdaGrad(learning_rate_decay=0.1),
        optim.SGD(learning_rate=0.2, momentum=0.5, nesterov=True, form="scikit-learn"),
        optim.Adam(learning_rate=0.02, beta_2=0.9, form="scikit-learn"),
    ],
)
def test_config_rebuilds_an_equal_optimizer(optimizer):
    config = optimizer.config()
    rebuilt = optim.get(config.pop("name").lower(), **config)
    assert repr(rebuilt) == repr(optimizer) and type(rebuilt) is type(optimizer)


# -- form="scikit-learn": scikit-learn's own SGDOptimizer and AdamOptimizer, bit for bit -------
def _scikit_learn_optimizers():
    return pytest.importorskip("sklearn.neural_network._stochastic_optimizers")


def _gradients(dtype, steps=8, size=11):
    rng = np.random.default_rng(3)
    start = rng.normal(size=size).astype(dtype)
    return start, [
        (rng.normal(size=size) * 10.0 ** rng.integers(-3, 2)).astype(dtype) for _ in range(steps)
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_scikit_learn_form_of_sgd_is_scikit_learn_s_sgd_optimizer(momentum, nesterov, dtype):
    """The same operations in the same order: equal bits, through a rate that changes between
    steps (as scikit-learn's 'invscaling' and 'adaptive' change it between epochs)."""
    stochastic = _scikit_learn_optimizers()
    start, grads = _gradients(dtype)
    ours_p, their_p = start.copy(), start.copy()
    optimizer = optim.SGD(0.1, momentum, nesterov=nesterov, form="scikit-learn")
    theirs = stochastic.SGDOptimizer([their_p], 0.1, momentum=momentum, nesterov=nesterov)
    for step, g in enumerate(grads):
        if step in (3, 6):
            optimizer.learning_rate = theirs.learning_rate = 0.1 / (step + 1) ** 0.7
        optimizer.step(ours_p, g.copy())
        theirs.update_params([their_p], [g.copy()])
        assert ours_p.dtype == their_p.dtype == dtype
        np.testing.assert_array_equal(ours_p, their_p)
        np.testing.assert_array_equal(optimizer.state["velocity"], theirs.velocities[0])
    assert not np.array_equal(ours_p, start)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"beta_1": 0.6, "beta_2": 0.95, "epsilon": 1e-2},
        {"beta_1": 0.0, "beta_2": 0.5, "epsilon": 1e-5},
    ],
    ids=["defaults", "betas-eps", "no-momentum"],
)
def test_scikit_learn_form_of_adam_is_scikit_learn_s_adam_optimizer(options, dtype):
    """scikit-learn's operations in its order and precision (a float64 step rounded once into
    float32 parameters): equal bits, step for step."""
    stochastic = _scikit_learn_optimizers()
    start, grads = _gradients(dtype)
    ours_p, their_p = start.copy(), start.copy()
    optimizer = optim.Adam(0.05, **options, form="scikit-learn")
    theirs = stochastic.AdamOptimizer([their_p], 0.05, **options)  # the same names
    for g in grads:
        optimizer.step(ours_p, g.copy())
        theirs.update_params([their_p], [g.copy()])
        assert ours_p.dtype == their_p.dtype == dtype
        np.testing.assert_array_equal(ours_p, their_p)
        np.testing.assert_array_equal(optimizer.state["m"], theirs.ms[0])
        np.testing.assert_array_equal(optimizer.state["v"], theirs.vs[0])
    assert optimizer.steps == theirs.t == len(grads)


def test_the_forms_differ_where_documented():
    """SGD: the same trajectory while the rate is constant (to rounding). Adam: scikit-learn
    adds epsilon to the uncorrected sqrt(v), so a large epsilon moves the two forms apart."""
    start, grads = _gradients(np.float64)
    for options in ({"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}):
        torch_form, sklearn_form = start.copy(), start.copy()
        a, b = optim.SGD(0.05, **options), optim.SGD(0.05, **options, form="scikit-learn")
        for g in grads:
            a.step(torch_form, g)
            b.step(sklearn_form, g)
        np.testing.assert_allclose(sklearn_form, torch_form, rtol=1e-12, atol=1e-14)
    torch_form, sklearn_form = start.copy(), start.copy()
    a, b = optim.Adam(0.05, epsilon=0.1), optim.Adam(0.05, epsilon=0.1, form="scikit-learn")
    for g in grads:
        a.step(torch_form, g)
        b.step(sklearn_form, g)
    assert not np.allclose(sklearn_form, torch_form, rtol=1e-3)


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: optim.SGD(0.05, 0.9, nesterov=True, form="scikit-learn", **kw),
        lambda **kw: optim.Adam(0.05, 0.6, 0.95, 1e-3, form="scikit-learn", **kw),
    ],
    ids=["sgd", "adam"],
)
def test_scikit_learn_forms_take_l2_weight_decay_on_the_gradient(make):
    start, grads = _gradients(np.float64)
    decayed, by_hand = start.copy(), start.copy()
    a, b = make(weight_decay=0.3), make()
    for g in grads:
        a.step(decayed, g)
        b.step(by_hand, g + 0.3 * by_hand)
    np.testing.assert_array_equal(decayed, by_hand)


@pytest.mark.parametrize(
    "optimizer",
    [
        optim.SGD(0.05, 0.9, form="scikit-learn"),
        optim.SGD(0.05, 0.5, nesterov=True, form="scikit-learn"),
        optim.Adam(0.05, 0.6, 0.95, 1e-3, form="scikit-learn"),
    ],
    ids=["sgd", "nesterov", "adam"],
)
def test_scikit_learn_forms_resume_identically_and_pickle_no_temporaries(optimizer):
    import pickle

    start, grads = _gradients(np.float32, size=1000)
    a = start.copy()
    for g in grads[:4]:
        optimizer.step(a, g)
    blob = pickle.dumps(optimizer)
    kept = sum(array.nbytes for array in optimizer.state.values())  # velocity, or m and v
    assert len(blob) < kept + 1000  # and none of the step's temporaries
    resumed, restored = pickle.loads(blob), type(optimizer)(**optimizer.hyperparameters())
    restored.load_state_dict(optimizer.state_dict())
    b, c = a.copy(), a.copy()
    for g in grads[4:]:
        optimizer.step(a, g)
        resumed.step(b, g)
        restored.step(c, g)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_scikit_learn_sgd_takes_nesterov_without_momentum_as_scikit_learn_does():
    stochastic = _scikit_learn_optimizers()
    start, grads = _gradients(np.float64)
    ours_p, their_p = start.copy(), start.copy()
    optimizer = optim.SGD(0.1, 0.0, nesterov=True, form="scikit-learn")
    theirs = stochastic.SGDOptimizer([their_p], 0.1, momentum=0.0, nesterov=True)
    for g in grads:
        optimizer.step(ours_p, g)
        theirs.update_params([their_p], [g.copy()])
    np.testing.assert_array_equal(ours_p, their_p)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: optim.SGD(form="keras"), r"'form' must be 'torch' or 'scikit-learn', got 'keras'"),
        (lambda: optim.Adam(form="sklearn"), r"'form' must be .*, got 'sklearn'"),
        (lambda: optim.Adam(form=None), r"'form' must be 'torch' or 'scikit-learn', got None"),
        (
            lambda: optim.SGD(momentum=0.9, dampening=0.5, form="scikit-learn"),
            r"form='scikit-learn' has no dampening .*, got dampening=0.5",
        ),
    ],
)
def test_bad_forms_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_get_builds_a_scikit_learn_form():
    sgd = optim.get("sgd", learning_rate=0.1, momentum=0.9, form="scikit-learn")
    assert repr(sgd) == (
        "SGD(learning_rate=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0, "
        "form='scikit-learn')"
    )
    assert optim.get("adam").form == "torch" and "form" not in optim.AdamW().config()
