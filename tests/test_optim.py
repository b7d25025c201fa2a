"""Each optimizer step for step against torch.optim (float64, rtol 1e-10), state and errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

CASES = [
    (optim.SGD, torch.optim.SGD, {"lr": 0.1}, {"lr": 0.1}),
    (optim.SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9}),
    (
        optim.SGD,
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    ),
    (
        optim.SGD,
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.3},
    ),
    (optim.Adam, torch.optim.Adam, {"lr": 0.01}, {"lr": 0.01}),
    (
        optim.Adam,
        torch.optim.Adam,
        {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
    (
        optim.AdamW,
        torch.optim.AdamW,
        {"lr": 0.01, "weight_decay": 0.05},
        {"lr": 0.01, "weight_decay": 0.05},
    ),
    (optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01}, {"lr": 0.01}),
    (
        optim.RMSprop,
        torch.optim.RMSprop,
        {"lr": 0.01, "rho": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    ),
    (optim.AdaGrad, torch.optim.Adagrad, {"lr": 0.1}, {"lr": 0.1}),
    (
        optim.AdaGrad,
        torch.optim.Adagrad,
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.02},
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
    # schedules set optimizer.lr every epoch; torch reads param_groups' lr at every step
    rng = np.random.default_rng(2)
    start, targets = rng.normal(size=9), rng.normal(size=(12, 9))
    params, torch_params = start.copy(), torch.tensor(start.copy(), requires_grad=True)
    optimizer, torch_optimizer = ours(**our_options), theirs([torch_params], **their_options)
    for step, target in enumerate(targets):
        rate = our_options["lr"] * (1.0, 0.3, 2.0)[step // 4]
        optimizer.lr = rate
        torch_optimizer.param_groups[0]["lr"] = rate
        optimizer.step(params, (params - target) * (1 + np.arange(9)))  # a quadratic's gradient
        torch_params.grad = (torch_params.detach() - torch.tensor(target)) * torch.arange(1, 10)
        torch_optimizer.step()
    np.testing.assert_allclose(params, torch_params.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_plain_sgd_is_the_textbook_update():
    params, grads = np.array([0.40, 0.45]), np.array([0.0882, -0.0239])
    optim.SGD(lr=0.01).step(params, grads)
    np.testing.assert_allclose(params, [0.40 - 0.01 * 0.0882, 0.45 + 0.01 * 0.0239], rtol=1e-15)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_state_round_trip_continues_identically(name):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=7) for _ in range(6)]
    a, b = np.ones(7), np.ones(7)
    first = optim.get(name, lr=0.05)
    for g in grads[:3]:
        first.step(a, g)
    second = optim.get(name, lr=0.05)
    second.load_state_dict(first.state_dict())
    b[...] = a
    for g in grads[3:]:
        first.step(a, g)
        second.step(b, g)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "options,message",
    [
        ({"lr": -0.1}, r"'lr' must be a float in \[0.0, inf\], got -0.1"),
        ({"momentum": 1.5}, r"'momentum' must be a float in \[0.0, 1.0\], got 1.5"),
        ({"nesterov": True}, r"nesterov momentum needs 'momentum' > 0"),
    ],
)
def test_bad_hyperparameters_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD(**options)


def test_momentum_zero_is_accepted_as_int():
    assert optim.SGD(lr=1, momentum=0).momentum == 0.0


def test_unknown_optimizer_lists_known():
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'; known: adagrad, adam"):
        optim.get("adamax")


@pytest.mark.parametrize(
    "optimizer",
    [
        optim.SGD(lr=0.2, momentum=0.5, nesterov=True),
        optim.Adam(lr=0.02, beta2=0.9),
        optim.AdamW(eps=1e-6),
        optim.RMSprop(centered=True),
        optim.AdaGrad(lr_decay=0.1),
    ],
)
def test_config_rebuilds_an_equal_optimizer(optimizer):
    config = optimizer.config()
    rebuilt = optim.get(config.pop("name").lower(), **config)
    assert repr(rebuilt) == repr(optimizer) and type(rebuilt) is type(optimizer)
