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
    for (dW, db), (tW, tb) in zip(grads, expected_grads):
        np.testing.assert_allclose(dW, tW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, tb, rtol=1e-10, atol=1e-14)
