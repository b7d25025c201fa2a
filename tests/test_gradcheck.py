"""Backpropagation against finite differences: every activation x loss pairing, depth 1 to 4."""

import numpy as np
import pytest
from conftest import randomize, seed001_network
from golden import seed001

import chainrule as cr
from chainrule.core import activations

# exp is an output (Poisson regression); stacked as a hidden layer it overflows by depth 4
HIDDEN = sorted({activations.get(name).name for name in activations.NAMES} - {"softmax", "exp"})
# (output activation, loss): every pairing that makes sense.
OUTPUTS = [
    ("identity", "squared_error"),
    ("identity", "mse"),
    ("identity", "mae"),
    ("identity", "huber"),
    ("exp", "squared_error"),
    ("tanh", "mse"),
    ("sigmoid", "squared_error"),
    ("softmax", "mse"),
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
]


def targets(loss, rng, n, k):
    if loss == "cross_entropy":
        return rng.integers(0, k, n)
    if loss == "binary_cross_entropy":
        return rng.uniform(size=(n, k))
    return rng.normal(size=(n, k))


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", OUTPUTS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("batch", [1, 5])
def test_gradients_match_finite_differences(hidden, output, loss, depth, batch):
    rng = np.random.default_rng(depth * 100 + batch)
    sizes = [3] + [4] * (depth - 1) + [3]
    net = randomize(
        cr.MLP(sizes, activation=hidden, output_activation=output, loss=loss, dtype="float64"), rng
    )
    X = rng.normal(size=(batch, 3))
    # Near a kink (ReLU at 0, |y - t| at 0) the difference stencil must not straddle it.
    kinked = hidden in ("relu", "leaky_relu") or loss in ("mae", "huber")
    result = cr.gradcheck(net, X, targets(loss, rng, batch, 3), step=1e-5 if kinked else 1e-3)
    assert result.max_relative_error < 1e-7, result.where


def test_penalties_and_sample_weights_are_differentiated_too(rng):
    net = randomize(
        cr.MLP([3, 5, 2], activation="tanh", loss="mse", l2=0.3, l1=0.05, dtype="float64"), rng
    )
    X, T = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    weights = rng.uniform(0, 2, 6)
    assert cr.gradcheck(net, X, T, sample_weight=weights).max_relative_error < 1e-7


def test_gradcheck_reports_a_wrong_gradient_and_where(monkeypatch):
    net = seed001_network()
    original = cr.Dense.backward

    def dropped_path(self, grad, **kwargs):  # the seeds' mistake: keep one path per hidden unit
        dX = original(self, grad, **kwargs)
        if dX is not None:
            dX *= np.eye(2)[None, 0]
        return dX

    monkeypatch.setattr(cr.Dense, "backward", dropped_path)
    result = cr.gradcheck(net, seed001.X, seed001.T)
    assert result.max_relative_error > 0.1
    assert result.where.startswith("layer 0")


def test_gradcheck_leaves_the_network_untouched(rng):
    net = cr.MLP([2, 3, 1], seed=0)
    before = net.parameters.copy()
    cr.gradcheck(net, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))
    assert np.array_equal(before, net.parameters) and net.parameters.dtype == np.float32


def test_the_default_step_does_not_straddle_a_relu_kink_next_to_the_data():
    # the first hidden ReLU's net input on this row is 1.5e-6: the usual 1e-6 stencil
    # (p +- 2e-6 on its bias) crosses the kink and reports a wrong "mismatch"
    net = cr.Network(
        [
            cr.Dense(1, 2, "relu", W=[[1.0, -1.0]], b=[-0.5 + 1.5e-6, 0.7]),
            cr.Dense(2, 1, W=[[1.0], [1.0]], b=[0.0]),
        ],
        "mse",
    )
    X, T = np.array([[0.5]]), np.array([[0.3]])
    assert float(cr.gradcheck(net, X, T, step=1e-6)) > 1e-3  # the straddle is real
    assert float(cr.gradcheck(net, X, T)) < 1e-6
