"""Loss and every gradient against PyTorch autograd on the same float64 networks (rtol 1e-10)."""

import numpy as np
import pytest
from conftest import randomize

import chainrule as cr

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "elu": F.elu,
    "softplus": F.softplus,
    "gelu": F.gelu,
    "softmax": lambda z: torch.softmax(z, dim=1),
}

# (output activation, loss, the same loss in torch from the output Y, the logits Z and targets T)
TORCH_LOSSES = [
    ("identity", "squared_error", lambda Y, Z, T: 0.5 * ((Y - T) ** 2).sum(dim=1).mean()),
    ("identity", "mse", lambda Y, Z, T: F.mse_loss(Y, T)),
    ("tanh", "mae", lambda Y, Z, T: F.l1_loss(Y, T)),
    ("identity", "huber", lambda Y, Z, T: F.huber_loss(Y, T, delta=1.0)),
    ("softmax", "mse", lambda Y, Z, T: F.mse_loss(Y, T)),
    ("sigmoid", "binary_cross_entropy", lambda Y, Z, T: F.binary_cross_entropy_with_logits(Z, T)),
    ("softmax", "cross_entropy", lambda Y, Z, T: F.cross_entropy(Z, T)),
]


def torch_loss_and_gradients(net, X, T, torch_loss):
    params = []
    A = torch.tensor(X)
    Z = None
    for layer in net.dense_layers:
        W = torch.tensor(layer.W.copy(), requires_grad=True)
        b = torch.tensor(layer.b.copy(), requires_grad=True)
        params.append((W, b))
        Z = A @ W + b
        A = TORCH_ACTIVATIONS[layer.activation.name](Z)
    value = torch_loss(A, Z, torch.tensor(T))
    value.backward()
    return value.item(), [(W.grad.numpy(), b.grad.numpy()) for W, b in params]


@pytest.mark.parametrize(
    "hidden", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "identity"]
)
@pytest.mark.parametrize("output,loss,torch_loss", TORCH_LOSSES)
@pytest.mark.parametrize("sizes", [[4, 3], [4, 6, 3], [4, 7, 5, 3]])
def test_loss_and_gradients_match_pytorch(hidden, output, loss, torch_loss, sizes):
    rng = np.random.default_rng(len(sizes))
    net = randomize(
        cr.MLP(sizes, activation=hidden, output_activation=output, loss=loss, dtype="float64"), rng
    )
    X = rng.normal(size=(8, 4))
    if loss == "cross_entropy":
        T = rng.integers(0, 3, 8)
    else:
        T = rng.uniform(size=(8, 3)) if loss == "binary_cross_entropy" else rng.normal(size=(8, 3))
    value, grads = net.loss_and_gradients(X, T)
    expected_value, expected_grads = torch_loss_and_gradients(net, X, T, torch_loss)
    assert value == pytest.approx(expected_value, rel=1e-10)
    for (dW, db), (tW, tb) in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(dW, tW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, tb, rtol=1e-10, atol=1e-14)


def _dropout_network(rate):
    rng = np.random.default_rng(3)
    layers = [cr.Dense(4, 6, "tanh"), cr.Dropout(rate), cr.Dense(6, 3, "identity")]
    return randomize(cr.Network(layers, loss="mse", dtype="float64"), rng), rng


@pytest.mark.parametrize("rate", [0.25, 0.6])
def test_dropout_forward_and_backward_match_pytorch_through_the_same_mask(rate):
    """Training through Dropout: the units kept are scaled by 1/(1 - rate), and every gradient
    is torch autograd's through ``h * keep / (1 - rate)`` with the units this pass dropped."""
    net, rng = _dropout_network(rate)
    X, T = rng.normal(size=(40, 4)), rng.normal(size=(40, 3))
    value = net.forward_backward(X, T, None, rng=np.random.default_rng(11))
    dropped = net.layers[2].cache[0]  # the dropout layer's output, as the last layer read it
    hidden, output = net.dense_layers
    H = np.tanh(X @ hidden.W + hidden.b)  # independent forward pass to the dropout layer
    keep = dropped != 0
    assert keep.any() and (~keep).any()
    np.testing.assert_allclose(dropped[keep], H[keep] / (1 - rate), rtol=1e-15)

    params = [
        (
            torch.tensor(layer.W.copy(), requires_grad=True),
            torch.tensor(layer.b.copy(), requires_grad=True),
        )
        for layer in net.dense_layers
    ]
    (W1, b1), (W2, b2) = params
    H_torch = torch.tanh(torch.tensor(X) @ W1 + b1) * torch.tensor(keep / (1 - rate))
    expected = F.mse_loss(H_torch @ W2 + b2, torch.tensor(T))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    for layer, (W, b) in zip(net.dense_layers, params, strict=True):
        np.testing.assert_allclose(layer.dW, W.grad.numpy(), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(layer.db, b.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_dropout_keeps_each_unit_with_probability_one_minus_rate_and_predicts_unmasked():
    """Over many rows about ``rate`` of the units are dropped (binomial: 6 sigma), and
    ``predict`` (no rng) passes the hidden layer through unchanged."""
    rate, n = 0.3, 4000
    net, rng = _dropout_network(rate)
    X, T = rng.normal(size=(n, 4)), rng.normal(size=(n, 3))
    net.forward_backward(X, T, None, rng=np.random.default_rng(0))
    dropped_fraction = (net.layers[2].cache[0] == 0).mean()
    assert abs(dropped_fraction - rate) < 6 * np.sqrt(rate * (1 - rate) / (n * 6))
    hidden, output = net.dense_layers
    expected = np.tanh(X @ hidden.W + hidden.b) @ output.W + output.b
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-13)


@pytest.mark.parametrize("l2,l1", [(0.3, 0.0), (0.0, 0.07), (0.2, 0.05)])
def test_the_weight_penalty_and_its_gradient_match_pytorch(l2, l1):
    """``E + l2/2 sum W^2 + l1 sum |W|`` over the weights (never the biases), against torch
    autograd; a frozen layer's weights count in the value but get no gradient."""
    rng = np.random.default_rng(5)
    layers = [
        cr.Dense(3, 5, "tanh"),
        cr.Dense(5, 4, "relu", train_weights=False),
        cr.Dense(4, 2, "identity"),
    ]
    net = randomize(cr.Network(layers, loss="mse", l2=l2, l1=l1, dtype="float64"), rng)
    X, T = rng.normal(size=(9, 3)), rng.normal(size=(9, 2))
    value, grads = net.loss_and_gradients(X, T)
    params = [
        (
            torch.tensor(layer.W.copy(), requires_grad=True),
            torch.tensor(layer.b.copy(), requires_grad=True),
        )
        for layer in net.dense_layers
    ]
    A = torch.tensor(X)
    for (W, b), activation in zip(params, (torch.tanh, F.relu, lambda z: z), strict=True):
        A = activation(A @ W + b)
    penalty = sum(l2 / 2 * (W**2).sum() + l1 * W.abs().sum() for W, _ in params)
    expected = F.mse_loss(A, torch.tensor(T)) + penalty
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    assert net.compute_loss(X, T) == pytest.approx(expected.item(), rel=1e-12)
    for position, ((dW, db), (W, b)) in enumerate(zip(grads, params, strict=True)):
        expected_dW = np.zeros_like(dW) if position == 1 else W.grad.numpy()
        np.testing.assert_allclose(dW, expected_dW, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-15)
