"""explain's Python path against the engine: every activation and loss pairing, a batch, the
update rules over several steps (and torch.optim), and the networks it refuses."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import activations, losses
from chainrule.explain import SpecError, Trace, parse_spec, spec_from_network, spec_to_toml
from chainrule.explain.spec import SUPPORTED_LOSSES

ACTIVATIONS = sorted({activations.get(name).name for name in activations.NAMES})
LOSSES = sorted({losses.get(name).name for name in losses.NAMES})
PAIRS = {"binary_cross_entropy": "sigmoid", "cross_entropy": "softmax"}
CASES = [
    (hidden, output, loss)
    for loss in LOSSES
    for output in ACTIVATIONS
    if PAIRS.get(loss, output) == output
    for hidden in ACTIVATIONS
]


def engine_gradients_in_spec_order(net, grads):
    """The engine's gradients in the default names' order: w1.. row by row, then b1.., per
    layer (see spec_from_network)."""
    weights, biases = [], []
    for dW, db in grads:
        weights += list(dW.ravel())
        biases += list(db)
    return weights, biases


def random_case(hidden, output, loss, seed):
    rng = np.random.default_rng(seed)
    if hidden == "leaky_relu":
        hidden = {"name": "leaky_relu", "slope": 0.2}
    net = cr.MLP([3, 3, 2], activation=hidden, output_activation=output, loss=loss, dtype="float64")
    net.set_parameters(rng.normal(0, 0.8, net.n_params))
    x = rng.uniform(-1, 1, 3)
    t = np.array([0.0, 1.0]) if loss == "cross_entropy" else rng.uniform(0.1, 0.9, 2)
    return net, x, t


def test_every_activation_and_loss_pairing_is_covered():
    assert {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu"} <= set(
        ACTIVATIONS
    )
    assert set(LOSSES) == set(SUPPORTED_LOSSES)  # every loss the library has
    assert len(CASES) == 4 * 10 * 10 + 10 + 10


@pytest.mark.parametrize("hidden,output,loss", CASES)
def test_explain_agrees_with_the_engine(hidden, output, loss):
    net, x, t = random_case(hidden, output, loss, len(hidden) * 31 + len(output) * 7 + len(loss))
    trace = Trace(spec_from_network(net, x, t))
    error, grads = net.loss_and_gradients(x[None], t[None])
    assert trace["E"].value == pytest.approx(error, rel=1e-12, abs=1e-15)
    Y = net.predict(x[None])[0]
    assert [trace["y1"].value, trace["y2"].value] == pytest.approx(Y, rel=1e-13, abs=1e-15)
    weights, biases = engine_gradients_in_spec_order(net, grads)
    ours_w = [trace[f"dE/dw{k}"].value for k in range(1, len(weights) + 1)]
    ours_b = [trace[f"dE/db{k}"].value for k in range(1, len(biases) + 1)]
    np.testing.assert_allclose(ours_w, weights, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(ours_b, biases, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("delta", [0.3, 2.5])
def test_explain_huber_with_its_delta_matches_torch(delta):
    """A worked example with Huber's delta away from 1 and residuals on both sides of it: E and
    every gradient as torch autograd computes them (independent of the engine)."""
    torch = pytest.importorskip("torch")
    net = cr.MLP([2, 3, 3], activation="tanh", loss={"name": "huber", "delta": delta}, seed=4,
                 dtype="float64")  # fmt: skip
    x = np.array([0.4, -0.7])
    y = np.tanh(x @ net.layers[0].W + net.layers[0].b) @ net.layers[1].W + net.layers[1].b
    t = y + np.array([0.5, -0.1, 4.0]) * delta  # residuals on both sides of delta
    trace = Trace(spec_from_network(net, x, t))
    (W1, b1), (W2, b2) = [
        (
            torch.tensor(layer.W.copy(), requires_grad=True),
            torch.tensor(layer.b, requires_grad=True),
        )
        for layer in net.dense_layers
    ]
    Y = torch.tanh(torch.tensor(x[None]) @ W1 + b1) @ W2 + b2
    residuals = np.abs(Y.detach().numpy()[0] - t)
    assert (residuals < delta).any() and (residuals > delta).any()
    E = torch.nn.functional.huber_loss(Y, torch.tensor(t[None]), delta=delta)
    E.backward()
    assert trace["E"].value == pytest.approx(E.item(), rel=1e-12)
    weights = np.concatenate([W1.grad.numpy().ravel(), W2.grad.numpy().ravel()])
    biases = np.concatenate([b1.grad.numpy(), b2.grad.numpy()])
    ours_w = [trace[f"dE/dw{k}"].value for k in range(1, len(weights) + 1)]
    ours_b = [trace[f"dE/db{k}"].value for k in range(1, len(biases) + 1)]
    np.testing.assert_allclose(ours_w, weights, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(ours_b, biases, rtol=1e-11, atol=1e-14)


def test_the_issue_example_tanh_softmax_squared_error():
    rng = np.random.default_rng(7)
    net = cr.MLP(
        [2, 3, 2],
        activation="tanh",
        output_activation="softmax",
        loss="squared_error",
        dtype="float64",
    )
    net.set_parameters(rng.normal(0, 0.5, net.n_params))
    x, t = np.array([0.3, -0.6]), np.array([1.0, 0.0])
    explanation = cr.explain.explain(net, x=x, t=t)
    Y = net.predict(x[None])[0]
    # independent float64: softmax of the engine's own net inputs, 1/2 sum (t - y)^2
    W1, b1 = net.layers[0].W, net.layers[0].b
    W2, b2 = net.layers[1].W, net.layers[1].b
    z = np.tanh(x @ W1 + b1) @ W2 + b2
    y = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert y == pytest.approx(Y, rel=1e-14)
    trace = explanation.trace
    assert trace["y1"].value == pytest.approx(y[0], rel=1e-14)
    assert trace["E"].value == pytest.approx(0.5 * ((t - y) ** 2).sum(), rel=1e-14)
    text = explanation.render("text")
    assert "y1 = exp(z4)/(exp(z4) + exp(z5))" in text
    assert "dE/dz4 = dE/dy1*dy1/dz4 + dE/dy2*dy2/dz4" in text


def test_cross_entropy_targets_that_do_not_sum_to_one_are_refused_like_a_spec_file():
    net = cr.MLP([2, 2], output_activation="softmax", loss="cross_entropy", dtype="float64", seed=0)
    with pytest.raises(SpecError) as from_python:
        cr.explain.explain(net, x=[0.1, 0.2], t=[0.5, 0.8])
    spec = spec_from_network(
        cr.MLP([2, 2], output_activation="softmax", loss="squared_error", dtype="float64", seed=0),
        [0.1, 0.2],
        [0.5, 0.8],
    )
    text = spec_to_toml(spec).replace('loss = "squared_error"', 'loss = "cross_entropy"')
    with pytest.raises(SpecError) as from_file:
        parse_spec(text, "spec.toml")
    reason = "cross_entropy targets must be probabilities summing to 1, but sample 1's sum to 1.3"
    assert reason in str(from_python.value) and reason in str(from_file.value)
    output_line = text.splitlines().index("[[layers]]") + 1
    assert str(from_file.value).startswith(f"spec.toml, line {output_line}: ")
    assert "output layer (layer 1)" in str(from_python.value)


def test_dropout_and_penalties_are_refused_with_the_alternative():
    net = cr.Network([cr.Dense(2, 2, "relu"), cr.Dropout(0.5), cr.Dense(2, 1)], "mse")
    with pytest.raises(SpecError, match="Dropout.*Fix: explain a copy without them"):
        cr.explain.explain(net, x=[0.1, 0.2], t=[0.3])
    net = cr.MLP([2, 1], loss="mse", l2=0.1, seed=0)
    with pytest.raises(SpecError, match=r"weight penalty \(l2=0.1.*Fix: explain it with l2=0"):
        cr.explain.explain(net, x=[0.1, 0.2], t=[0.3])
    net = cr.MLP([2, 2, 1], loss="mse", input_scale=6.0, seed=0)
    with pytest.raises(SpecError, match=r"learned input scale.*Fix: explain a network built"):
        cr.explain.explain(net, x=[0.1, 0.2], t=[0.3])


@pytest.mark.parametrize(
    "output,loss", [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy")]
)
def test_saturated_outputs_agree_with_the_engine(output, loss):
    # z of about +-60: sigmoid and softmax round to exactly 0 and 1 in float64
    net = cr.MLP([2, 2], output_activation=output, loss=loss, dtype="float64")
    net.set_parameters([30.0, -30.0, 30.0, -30.0, 30.0, -30.0])
    x, t = np.array([0.5, 0.5]), np.array([0.0, 1.0])
    assert 1.0 in set(net.predict(x[None])[0])  # so 1 - y is exactly 0
    trace = Trace(spec_from_network(net, x, t))
    error, grads = net.loss_and_gradients(x[None], t[None])
    assert np.isfinite(error) and trace["E"].value == pytest.approx(error, rel=1e-12)
    weights, biases = engine_gradients_in_spec_order(net, grads)
    np.testing.assert_allclose([trace[f"dE/dw{k}"].value for k in range(1, 5)], weights)
    np.testing.assert_allclose([trace[f"dE/db{k}"].value for k in range(1, 3)], biases)


@pytest.mark.parametrize("t", [0.0, 1.0])
def test_a_saturated_sigmoid_shows_finite_factors_whose_product_is_the_delta(t):
    """sigmoid(50) rounds to 1: the chain's dE/dy and dy/dz are worked from 1 - y =
    1/(1 + e^50) (by hand below), never nan, and their product is y - t."""
    net = cr.MLP([1, 1], output_activation="sigmoid", loss="binary_cross_entropy", dtype="float64")
    net.set_parameters([10.0, 0.0])
    trace = Trace(spec_from_network(net, np.array([5.0]), np.array([t])))
    complement = 1.0 / (1.0 + math.exp(50.0))  # 1 - sigmoid(50)
    y = 1.0 / (1.0 + math.exp(-50.0))
    hand_gradient = -t / y + (1 - t) / complement  # dE/dy of -(t log y + (1-t) log(1-y))
    hand_derivative = y * complement
    assert trace["dE/dy1"].value == pytest.approx(hand_gradient, rel=1e-12)
    assert trace["dy1/dz1"].value == pytest.approx(hand_derivative, rel=1e-12)
    assert trace["dE/dz1"].value == pytest.approx(hand_gradient * hand_derivative, rel=1e-12)
    assert "1 - a is taken as sigmoid(-z)" in trace["dy1/dz1"].note
    _, grads = net.loss_and_gradients(np.array([[5.0]]), np.array([[t]]))
    assert trace["dE/dw1"].value == pytest.approx(grads[0][0][0, 0], rel=1e-12, abs=1e-20)


@pytest.mark.parametrize("hidden,output,loss", CASES[::17])
def test_a_batch_from_python_agrees_with_the_engine(hidden, output, loss):
    net, _, _ = random_case(hidden, output, loss, 3)
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (3, 3))
    T = np.eye(2)[[0, 1, 1]] if loss == "cross_entropy" else rng.uniform(0.1, 0.9, (3, 2))
    trace = Trace(spec_from_network(net, X, T))
    error, grads = net.loss_and_gradients(X, T)
    assert trace["E"].value == pytest.approx(error, rel=1e-12, abs=1e-15)
    weights, biases = engine_gradients_in_spec_order(net, grads)
    ours = [trace[f"dE/dw{k}"].value for k in range(1, len(weights) + 1)]
    np.testing.assert_allclose(ours, weights, rtol=1e-11, atol=1e-14)
    ours = [trace[f"dE/db{k}"].value for k in range(1, len(biases) + 1)]
    np.testing.assert_allclose(ours, biases, rtol=1e-11, atol=1e-14)
    assert trace["z1[3]"].value == pytest.approx(X[2] @ net.layers[0].W[:, 0] + net.layers[0].b[0])


def test_a_batch_with_an_optimizer_and_activation_parameters_round_trips_through_toml():
    net = cr.MLP([2, 2, 1], activation={"name": "elu", "alpha": 0.5}, loss={"name": "huber",
                 "delta": 0.3}, dtype="float64", seed=2)  # fmt: skip
    spec = spec_from_network(net, [[0.1, 0.2], [0.3, -0.4]], [[0.5], [-0.5]])
    spec.optimizer.name, spec.optimizer.momentum, spec.optimizer.steps = "nesterov", 0.7, 2
    spec.reduction = "sum"
    again = parse_spec(spec_to_toml(spec))
    assert again.layers[0].params == {"alpha": 0.5} and again.huber_delta == 0.3
    assert again.n_samples == 2 and again.reduction == "sum"
    assert (again.optimizer.name, again.optimizer.momentum, again.optimizer.steps) == (
        "nesterov",
        0.7,
        2,
    )
    assert Trace(again).values() == Trace(spec).values()
