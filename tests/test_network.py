"""The network against seed 001's worked example and the flat-buffer contract."""

import numpy as np
import pytest
from conftest import seed001_network
from golden import seed001

import chainrule as cr

# Map the seed's names onto (layer, array, index) in chainrule's layout (W[i, j]: i -> j).
PARAMETER_PLACES = {
    "w1": (0, "W", (0, 0)),
    "w2": (0, "W", (0, 1)),
    "w3": (0, "W", (1, 0)),
    "w4": (0, "W", (1, 1)),
    "b1": (0, "b", (0,)),
    "b2": (0, "b", (1,)),
    "w5": (1, "W", (0, 0)),
    "w6": (1, "W", (0, 1)),
    "w7": (1, "W", (1, 0)),
    "w8": (1, "W", (1, 1)),
    "b3": (1, "b", (0,)),
    "b4": (1, "b", (1,)),
}


def forward_values(net):
    """z, a per neuron and E, from the network's own layers (hidden h1, h2; outputs o1, o2)."""
    x = np.array(seed001.X)
    hidden, output = net.layers
    z_hidden = x @ hidden.W + hidden.b
    a_hidden = net.layers[0].forward(x)
    z_out = a_hidden @ output.W + output.b
    y = net.predict(x)
    return {
        "z1": z_hidden[0, 0],
        "a1": a_hidden[0, 0],
        "z2": z_hidden[0, 1],
        "a2": a_hidden[0, 1],
        "z3": z_out[0, 0],
        "y1": y[0, 0],
        "z4": z_out[0, 1],
        "y2": y[0, 1],
        "E": net.compute_loss(seed001.X, seed001.T),
    }


def test_seed001_forward_pass_to_nine_significant_digits():
    values = forward_values(seed001_network())
    for name, expected in seed001.FORWARD.items():
        assert values[name] == pytest.approx(expected, rel=1e-12), name
        assert f"{values[name]:.9g}" == f"{expected:.9g}", name
    # The seed prints E_total = 0.254325322; the correct 9-digit value is 0.254325323.
    assert f"{values['E']:.9g}" == "0.254325323"


def test_seed001_gradients_use_every_path():
    net = seed001_network()
    _, grads = net.loss_and_gradients(seed001.X, seed001.T)
    for name, (layer, kind, index) in PARAMETER_PLACES.items():
        value = grads[layer][0 if kind == "W" else 1][index]
        assert value == pytest.approx(seed001.GRADIENTS[name], rel=1e-12), name
    # The seed's dE/dw1 = 0.694690157e-3 drops the path through output 2; we must not match it.
    assert grads[0][0][0, 0] != pytest.approx(0.694690157e-3, rel=1e-3)
    # The seed's dE/dw7 = 0.186047383 is an arithmetic slip; the correct value is 0.0867813460.
    assert f"{grads[1][0][1, 0]:.9g}" == "0.086781346"


def test_seed001_one_sgd_step_and_the_new_error():
    net = seed001_network()
    net.loss_and_gradients(seed001.X, seed001.T)
    net.parameters -= seed001.ETA * net.gradients
    for name, (layer, kind, index) in PARAMETER_PLACES.items():
        value = getattr(net.dense_layers[layer], kind)[index]
        assert value == pytest.approx(seed001.UPDATED[name], rel=1e-14), name
    values = forward_values(net)
    for name, expected in seed001.FORWARD_AFTER.items():
        assert values[name] == pytest.approx(expected, rel=1e-12), name


def test_bias_gradient_of_one_sample_is_its_delta_and_never_a_negative_zero():
    # Z = [3, -3]: the second ReLU is off, so its delta is dE/dA * 0 with dE/dA < 0, a -0.0
    layer = cr.Dense(2, 2, "relu", W=[[1.0, -1.0], [1.0, -1.0]], b=[0.0, 0.0])
    net = cr.Network([layer], "mse", dtype="float64")
    _, [(_, db_one)] = net.loss_and_gradients([[1.0, 2.0]], [[10.0, 5.0]])
    _, [(_, db_two)] = net.loss_and_gradients([[1.0, 2.0]] * 2, [[10.0, 5.0]] * 2)
    np.testing.assert_array_equal(db_one, [-7.0, 0.0])  # dE/dy = 2 (3 - 10) / 2
    np.testing.assert_array_equal(db_one, db_two)
    assert not np.signbit(db_one[1])


def test_mlp_with_set_parameters_matches_the_layer_by_layer_build():
    built = seed001_network()
    net = cr.MLP(
        [2, 2, 2],
        activation="sigmoid",
        output_activation="sigmoid",
        loss="squared_error",
        dtype="float64",
    )
    net.set_parameters(built.parameters)
    assert net.compute_loss(seed001.X, seed001.T) == built.compute_loss(seed001.X, seed001.T)


def test_parameters_are_views_into_one_flat_buffer():
    net = cr.MLP([3, 5, 2], seed=0)
    for layer in net.dense_layers:
        assert np.shares_memory(layer.W, net.parameters)
        assert np.shares_memory(layer.b, net.parameters)
        assert np.shares_memory(layer.dW, net.gradients)
    net.parameters[:] = 0.5
    assert (net.layers[1].b == 0.5).all()
    assert net.layers[0].W.shape == (3, 5) and net.layers[0].b.shape == (5,)


def test_frozen_biases_get_zero_gradient_and_weights_still_learn():
    net = seed001_network(train_biases=False)
    _, grads = net.loss_and_gradients(seed001.X, seed001.T)
    assert (grads[0][1] == 0).all() and (grads[1][1] == 0).all()
    assert grads[1][0][0, 0] == pytest.approx(seed001.GRADIENTS["w5"], rel=1e-12)
    assert net.frozen.sum() == 4


def test_float32_is_default_and_close_to_float64():
    net32 = cr.MLP(
        [2, 2, 2], activation="sigmoid", output_activation="sigmoid", loss="squared_error"
    )
    assert net32.parameters.dtype == np.float32
    net32.set_parameters(seed001_network().parameters)
    y = net32.predict(seed001.X)
    assert y.dtype == np.float32
    assert y[0, 0] == pytest.approx(seed001.FORWARD["y1"], rel=1e-6)


def test_same_seed_same_initial_parameters_and_different_seed_differs():
    a = cr.MLP([4, 8, 3], seed=7).parameters
    b = cr.MLP([4, 8, 3], seed=7).parameters
    c = cr.MLP([4, 8, 3], seed=8).parameters
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    "name,limit",
    [
        ("glorot_uniform", np.sqrt(6 / 300)),
        ("he_uniform", np.sqrt(6 / 200)),
        ("lecun_uniform", np.sqrt(3 / 200)),
    ],
)
def test_uniform_initializers_respect_their_limits(name, limit):
    W = cr.MLP([200, 100], weight_init=name, seed=0).layers[0].W
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.95 * limit  # 20000 draws fill the interval


def test_pytorch_linear_init_has_torch_linears_limits_for_weights_and_biases():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Linear(200, 100)  # kaiming_uniform_(a=sqrt(5)) and its bias rule
    net = cr.MLP([200, 100], weight_init="pytorch_linear", bias_init="pytorch_linear", seed=0)
    ours = net.layers[0]
    for mine, reference in ((ours.W, theirs.weight), (ours.b, theirs.bias)):
        reference = reference.detach().numpy()
        limit = 1 / np.sqrt(200)
        assert np.abs(reference).max() <= limit and np.abs(mine).max() <= limit
        # both fill the same interval (100 bias draws get within 5% of its ends)
        assert np.abs(mine).max() > 0.95 * limit and np.abs(reference).max() > 0.95 * limit
    assert ours.W.std() == pytest.approx(theirs.weight.std().item(), rel=0.03)


@pytest.mark.parametrize(
    "name,std",
    [
        ("glorot_normal", np.sqrt(2 / 300)),
        ("he_normal", np.sqrt(2 / 200)),
        ("lecun_normal", np.sqrt(1 / 200)),
    ],
)
def test_normal_initializers_have_their_scale(name, std):
    W = cr.MLP([200, 100], weight_init=name, seed=0).layers[0].W
    assert W.std() == pytest.approx(std, rel=0.03)


def test_auto_init_is_glorot_uniform_for_relu_and_tanh_alike():
    # chosen by measurement (benchmarks/RESULTS.md, "Defaults"); U(-l, l) has sd l / sqrt(3)
    limit = np.sqrt(6 / (400 + 100))
    for activation in ("relu", "tanh", "elu"):
        W = cr.MLP([400, 100, 1], activation=activation, seed=0).layers[0].W
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
        assert W.std() == pytest.approx(limit / np.sqrt(3), rel=0.03)


def test_mlp_picks_the_output_activation_its_loss_pairs_with():
    assert cr.MLP([2, 3], loss="cross_entropy").layers[-1].activation.name == "softmax"
    assert cr.MLP([2, 1], loss="binary_cross_entropy").layers[-1].activation.name == "sigmoid"
    assert cr.MLP([2, 1], loss="mse").layers[-1].activation.name == "identity"


def test_cross_entropy_accepts_labels_and_one_hot_alike(rng):
    net = cr.MLP([3, 4, 3], loss="cross_entropy", seed=0, dtype="float64")
    X = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    assert net.compute_loss(X, labels) == net.compute_loss(X, np.eye(3)[labels])


def test_sample_weight_weights_the_mean(rng):
    net = cr.MLP([3, 4, 2], loss="squared_error", seed=0, dtype="float64")
    X, T = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    w = np.array([1.0, 0.0, 2.0, 1.0])
    per_sample = [net.compute_loss(X[i : i + 1], T[i : i + 1]) for i in range(4)]
    assert net.compute_loss(X, T, sample_weight=w) == pytest.approx(
        np.dot(w, per_sample) / 4, rel=1e-13
    )


def test_summary_and_copy():
    net = cr.MLP([3, 5, 2], activation="tanh", seed=0)
    assert "tanh" in net.summary() and str(net.n_params) in net.summary()
    twin = net.copy(dtype="float64")
    assert twin.parameters.dtype == np.float64
    assert np.array_equal(twin.parameters, net.parameters.astype(np.float64))
    assert not np.shares_memory(twin.parameters, net.parameters)


def test_forward_then_backward_is_the_chain_rule_of_any_output_gradient():
    """``backward(delta)`` after ``forward(X)`` gives d(sum(Y * delta))/d(parameters): the
    vector-Jacobian product, checked against torch autograd on the same float64 network."""
    torch = pytest.importorskip("torch")
    net = cr.MLP([3, 4, 2], "tanh", "sigmoid", dtype="float64", seed=3)
    rng = np.random.default_rng(0)
    X, delta = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    Y = net.forward(X)
    net.backward(delta.copy())
    A = torch.tensor(X)
    params = []
    for layer in net.dense_layers:
        W = torch.tensor(layer.W, requires_grad=True)
        b = torch.tensor(layer.b, requires_grad=True)
        params += [W, b]
        A = A @ W + b
        A = torch.sigmoid(A) if layer is net.dense_layers[-1] else torch.tanh(A)
    np.testing.assert_allclose(Y, A.detach().numpy(), rtol=1e-14)
    (A * torch.tensor(delta)).sum().backward()
    expected = np.concatenate([p.grad.numpy().ravel() for p in params])
    np.testing.assert_allclose(net.gradients, expected, rtol=1e-12, atol=1e-15)


def test_a_prediction_between_a_training_pass_and_its_backward_pass_leaves_the_mask():
    """predict (in another thread, say) between forward and backward of a training step must
    not touch the dropout mask that backward uses."""
    net = cr.MLP([3, 8, 2], "tanh", dropout=0.5, dtype="float64", seed=0)
    X, delta = np.random.default_rng(1).normal(size=(4, 3)), np.ones((4, 2))
    gradients = []
    for predict_between in (False, True):
        net.forward(X, np.random.default_rng(2))
        if predict_between:
            net.predict(X)
        net.backward(delta.copy())
        gradients.append(net.gradients.copy())
    np.testing.assert_array_equal(gradients[1], gradients[0])
