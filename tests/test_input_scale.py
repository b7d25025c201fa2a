"""A learned scale of each input before the first layer (``Dense(input_scale=c)``, RealMLP's
scaling layer): the forward pass and the gradients against the formula written out here and
against PyTorch, Adam's step on it, frozen weights, sparse input, the config, model files
(their hostile forms are in test_io_hostile.py), the ONNX export, the table route, its
command line and its estimators.

Expected values come from NumPy written out in the tests (float64) or from PyTorch, never from
chainrule's own forward pass."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.core.layers import Dense
from chainrule.optim.optimizers import Adam
from chainrule.tables.model import TabularModel

C = 6.0


def two_layers(dtype="float64", input_scale=C, seed=0):
    """A 4-5-1 tanh network with an input scale; its u set away from 1/c so s varies."""
    net = cr.Network(
        [Dense(4, 5, "tanh", input_scale=input_scale), Dense(5, 1)], seed=seed, dtype=dtype
    )
    if input_scale is not None:
        net.layers[0].u[...] = np.random.default_rng(seed + 1).uniform(0.5, 2.0, 4) / C
    return net


def data(n=7, seed=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.normal(size=(n, 1))


def formula_loss(parameters, X, T):
    """The mse of ``tanh((X * c u) @ W1 + b1) @ W2 + b2``, reading the flat parameters in
    the layout the docstring states: W1, b1, u, then W2, b2."""
    W1 = parameters[:20].reshape(4, 5)
    b1, u = parameters[20:25], parameters[25:29]
    W2, b2 = parameters[29:34].reshape(5, 1), parameters[34:35]
    Y = np.tanh((X * (C * u)) @ W1 + b1) @ W2 + b2
    return float(np.mean((Y - T) ** 2))


def test_the_layout_is_w_b_then_one_scale_per_input():
    net = two_layers()
    first = net.layers[0]
    assert first.n_params == 4 * 5 + 5 + 4 and net.n_params == 35
    assert np.shares_memory(first.u, net.parameters[25:29])
    assert np.shares_memory(first.du, net.gradients[25:29])
    np.testing.assert_array_equal(first.scales, C * net.parameters[25:29])


def test_a_new_scale_is_one():
    net = cr.MLP([3, 4, 1], input_scale=C, seed=0, dtype="float64")
    np.testing.assert_allclose(net.layers[0].scales, 1.0, rtol=1e-15)
    plain = cr.MLP([3, 4, 1], seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(net.predict(X), plain.predict(X), rtol=1e-13)


def test_the_forward_pass_is_the_formula():
    net = two_layers()
    X, T = data()
    W1, b1 = net.layers[0].W, net.layers[0].b
    W2, b2 = net.layers[1].W, net.layers[1].b
    expected = np.tanh((X * (C * net.layers[0].u)) @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-13)
    assert net.compute_loss(X, T) == pytest.approx(formula_loss(net.parameters, X, T), rel=1e-13)
    np.testing.assert_allclose(net.layers[0].effective_W, W1 * (C * net.layers[0].u)[:, None])


def test_every_gradient_is_the_formulas_central_difference():
    net = two_layers()
    X, T = data()
    net.forward_backward(*net.check_data(X, T))
    parameters = net.parameters.copy()
    numeric = np.empty_like(parameters)
    for i in range(parameters.size):
        up, down = parameters.copy(), parameters.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        numeric[i] = (formula_loss(up, X, T) - formula_loss(down, X, T)) / 2e-6
    np.testing.assert_allclose(net.gradients, numeric, rtol=1e-6, atol=1e-9)
    assert np.abs(net.gradients[25:29]).min() > 1e-6  # the scales' gradients were tested


def test_the_input_gradient_goes_through_the_scale():
    """A scaled layer that is not the first hands dE/dX = delta (diag(s) W)^T back."""
    net = cr.Network(
        [Dense(4, 3, "tanh"), Dense(3, 2, "tanh", input_scale=2.5), Dense(2, 1)],
        seed=0,
        dtype="float64",
    )
    net.layers[1].u[...] = [0.3, 0.9, -0.5]
    assert cr.gradcheck(net, *data()).max_relative_error < 1e-6


def test_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    net = two_layers()
    X, T = data()
    net.forward_backward(*net.check_data(X, T))
    first, second = net.layers
    t = {
        name: torch.tensor(np.array(value), requires_grad=True)
        for name, value in {
            "W1": first.W, "b1": first.b, "u": first.u, "W2": second.W, "b2": second.b,
        }.items()
    }  # fmt: skip
    scale = C * t["u"]
    hidden = torch.tanh((torch.tensor(X) * scale) @ t["W1"] + t["b1"])
    loss = torch.nn.functional.mse_loss(hidden @ t["W2"] + t["b2"], torch.tensor(T))
    loss.backward()
    for name, ours in {"W1": first.dW, "b1": first.db, "u": first.du, "W2": second.dW}.items():
        np.testing.assert_allclose(ours, t[name].grad.numpy(), rtol=1e-10, atol=1e-14)


def test_an_adam_step_moves_a_scale_c_times_as_far_as_a_weight():
    """Adam's first step is ``lr m / (sqrt(v) + eps) = lr g / (|g| + eps)``: about ``lr`` for
    every parameter with a gradient, so ``s = c u`` moves ``c lr``."""
    net = two_layers()
    X, T = data()
    net.forward_backward(*net.check_data(X, T))
    before_s, before_W = net.layers[0].scales, net.layers[0].W.copy()
    Adam(learning_rate=1e-3).step(net.parameters, net.gradients)
    np.testing.assert_allclose(np.abs(net.layers[0].scales - before_s), C * 1e-3, rtol=1e-4)
    np.testing.assert_allclose(np.abs(net.layers[0].W - before_W), 1e-3, rtol=1e-4)


@pytest.mark.parametrize("frozen", ["train_weights", "train_biases"])
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_frozen_weights_or_biases_keep_a_learned_scale(frozen, optimizer):
    layer = Dense(4, 5, "tanh", input_scale=C, **{frozen: False})
    net = cr.Network([layer, Dense(5, 1)], seed=0, dtype="float64")
    before = {"W": layer.W.copy(), "b": layer.b.copy(), "s": layer.scales}
    net.fit(*data(), epochs=3, batch_size=7, optimizer=optimizer, verbose=0)
    held = "W" if frozen == "train_weights" else "b"
    np.testing.assert_array_equal(getattr(layer, held), before[held])
    assert np.abs(layer.scales - before["s"]).min() > 1e-4
    assert cr.gradcheck(net, *data()).max_relative_error < 1e-6


def test_sparse_input_gives_the_dense_inputs_gradients():
    sparse = pytest.importorskip("scipy.sparse")
    X, T = data()
    X[X < 0.3] = 0.0
    dense, thin = two_layers(), two_layers()
    dense.forward_backward(*dense.check_data(X, T))
    thin.forward_backward(sparse.csr_matrix(X), T)  # as the estimators' sparse path hands it
    np.testing.assert_allclose(thin.gradients, dense.gradients, rtol=1e-12, atol=1e-15)


def test_without_a_scale_nothing_changes():
    layer = Dense(4, 5)
    assert layer.input_scale is None and layer.scales is None
    assert layer.n_params == 25 and "input_scale" not in layer.config()
    net = cr.Network([layer, Dense(5, 1)], seed=0)
    assert not hasattr(net.layers[0], "u")
    assert net.layers[0].effective_W is net.layers[0].W


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), (1e7, ValueError),
     (1e-39, ValueError), (True, TypeError), ("6", TypeError)],
)  # fmt: skip
def test_a_bad_scale_is_refused_naming_it(value, error):
    with pytest.raises(error, match="input_scale"):
        Dense(4, 5, input_scale=value)


def test_config_copy_and_pickle_keep_the_scale():
    import pickle

    net = two_layers(dtype="float32")
    X, _ = data()
    assert net.config()["layers"][0]["input_scale"] == C
    for other in (net.copy(), pickle.loads(pickle.dumps(net)), cr.Network.from_config(
            json.loads(json.dumps(net.config())), net.parameters)):  # fmt: skip
        np.testing.assert_array_equal(other.layers[0].u, net.layers[0].u)
        np.testing.assert_array_equal(other.predict(X), net.predict(X))


# -- the table route --------------------------------------------------------------------------
pd = pytest.importorskip("pandas")
FAST = {"epochs": 3, "hidden": (6,), "seed": 0, "verbose": 0}


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    x, noise = rng.normal(size=(2, 120))
    colour = rng.choice(["red", "green", "blue"], 120)
    return pd.DataFrame({"x": x, "noise": noise, "colour": colour, "y": 3 * x + (colour == "red")})


@pytest.fixture(scope="module")
def scaled(frame):
    return TabularModel.train(frame, "y", input_scale=C, **FAST)


def test_the_table_route_trains_the_scale_and_saves_it(scaled, frame, tmp_path):
    first = scaled.network.layers[0]
    assert first.input_scale == C and not np.allclose(first.scales, 1.0)
    scaled.save(tmp_path / "m.npz")
    loaded = TabularModel.load(tmp_path / "m.npz")
    assert loaded.network.config() == scaled.network.config()
    pd.testing.assert_frame_equal(loaded.predict(frame), scaled.predict(frame))


def test_the_onnx_export_applies_the_scale(scaled, frame):
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(
        cr.onnx.to_onnx(scaled).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feeds = {
        "X": frame[["x", "noise"]].to_numpy(np.float32),
        "categories": frame[["colour"]].to_numpy(object),
    }
    (Y,) = session.run(None, feeds)
    np.testing.assert_allclose(Y.ravel(), scaled.predict(frame)["prediction"], rtol=1e-5, atol=1e-5)


def test_the_command_line_takes_input_scale(frame, tmp_path):
    frame.to_csv(tmp_path / "d.csv", index=False)
    base = ["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "2", "--quiet"]
    assert main([*base, "--input-scale", "3", "--out", str(tmp_path / "a.npz")]) == 0
    assert main([*base, "--input-scale", "none", "--out", str(tmp_path / "b.npz")]) == 0
    assert TabularModel.load(tmp_path / "a.npz").network.layers[0].input_scale == 3.0
    assert TabularModel.load(tmp_path / "b.npz").network.layers[0].input_scale is None


def test_the_command_line_refuses_a_bad_scale(frame, tmp_path, capsys):
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(tmp_path / "d.csv"), "--target", "y", "--input-scale", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--input-scale: expected a number >= 1e-06 and <= 1e+06, got '0'" in err


def test_info_says_the_scale(scaled, tmp_path, capsys):
    scaled.save(tmp_path / "m.npz")
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    assert "input scale: learned, one per input, stored as s / 6" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "m.npz"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["input_scale"] == C


def test_the_table_route_learns_a_scale_by_default(frame, tmp_path):
    """RealMLP's factor, chosen on real tables (benchmarks/RESULTS.md): Python, the command line
    and the estimators alike; the scikit-learn MLP estimators keep scikit-learn's network."""
    from chainrule.sklearn import MLPRegressor, TableClassifier, TableRegressor

    assert TabularModel.train(frame, "y", **FAST).network.layers[0].input_scale == C
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = str(tmp_path / "m.npz")
    assert main(["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "2",
                 "--quiet", "--out", out]) == 0  # fmt: skip
    assert TabularModel.load(out).network.layers[0].input_scale == C
    assert TableClassifier().input_scale == TableRegressor().input_scale == C
    fitted = MLPRegressor(max_iter=5).fit(frame[["x", "noise"]], frame["y"])
    assert all(layer.input_scale is None for layer in fitted.network_.dense_layers)
