"""Learned embeddings of one-hot column groups (``Embedding``, the table route's
``embedding_size``): the forward pass and the gradients against the formula written out here and
against PyTorch, the layout, the checks, the config, model files (hostile headers included), the
ONNX export, explain and gradcheck, the table route, its command line and its estimators.

Expected values come from NumPy written out in the tests (float64) or from PyTorch, never from
chainrule's own forward pass."""

import json
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.core import layers
from chainrule.core.layers import Dense, Embedding
from chainrule.files import header
from chainrule.tables.model import TabularModel, embedded_groups

# inputs: x0, x1, a 4-category group, x6, a 3-category group
GROUPS = [(2, 6), (7, 10)]


def one_hot_data(n=9, seed=2):
    rng = np.random.default_rng(seed)
    X = np.c_[
        rng.normal(size=(n, 2)),
        np.eye(4)[rng.integers(0, 4, n)],
        rng.normal(size=(n, 1)),
        np.eye(3)[rng.integers(0, 3, n)],
    ]
    return X, rng.normal(size=(n, 1))


def embedded(dtype="float64", seed=0):
    """Embedding(10 -> 3 + 2 x 2) then a 7-5-1 tanh network."""
    layers = [Embedding(10, GROUPS, 2), Dense(7, 5, "tanh"), Dense(5, 1)]
    return cr.Network(layers, seed=seed, dtype=dtype)


@pytest.fixture(params=["one product", "a product per group"], autouse=True)
def path(request, monkeypatch):
    """Every test runs on both of the layer's ways of computing (see Embedding's Notes): small
    layers form every group in one product, large ones a product per group."""
    if request.param == "a product per group":
        monkeypatch.setattr(layers, "ONE_PRODUCT_INPUTS", 0)
    return request.param


def formula_loss(parameters, X, T):
    """The mse of the network, reading the flat parameters in the layout the docstring
    states: E0 (4 x 2), E1 (3 x 2), then W1, b1, W2, b2."""
    E0, E1 = parameters[:8].reshape(4, 2), parameters[8:14].reshape(3, 2)
    W1, b1 = parameters[14:49].reshape(7, 5), parameters[49:54]
    W2, b2 = parameters[54:59].reshape(5, 1), parameters[59:60]
    inputs = np.c_[X[:, [0, 1, 6]], X[:, 2:6] @ E0, X[:, 7:10] @ E1]
    Y = np.tanh(inputs @ W1 + b1) @ W2 + b2
    return float(np.mean((Y - T) ** 2))


def test_the_outputs_are_the_passed_inputs_then_each_groups_lookup():
    layer = embedded().layers[0]
    assert (layer.n_out, layer.n_params) == (7, 14)
    X, _ = one_hot_data()
    rows = np.argmax(X[:, 2:6], axis=1), np.argmax(X[:, 7:10], axis=1)
    expected = np.c_[X[:, [0, 1, 6]], layer.E[0][rows[0]], layer.E[1][rows[1]]]
    np.testing.assert_array_equal(layer.forward(X), expected)
    np.testing.assert_array_equal(layer.forward(X, keep=True), expected)


def test_the_layout_is_each_groups_table_in_order():
    net = embedded()
    layer = net.layers[0]
    assert np.shares_memory(layer.E[0], net.parameters[:8])
    np.testing.assert_array_equal(layer.E[1].ravel(), net.parameters[8:14])
    assert net.n_params == 60


def test_a_new_table_has_variance_one_over_its_rows():
    """``N(0, 1/k)`` per group of ``k`` inputs, so a standardised one-hot group gives numbers
    of about unit variance."""
    net = cr.Network([Embedding(400, [(0, 100), (100, 400)], 500), Dense(1000, 1)], seed=0)
    first, second = net.layers[0].E
    assert np.var(first) == pytest.approx(1 / 100, rel=0.05)
    assert np.var(second) == pytest.approx(1 / 300, rel=0.05)


def test_every_gradient_is_the_formulas_central_difference():
    net = embedded()
    X, T = one_hot_data()
    net.forward_backward(*net.check_data(X, T))
    numeric = np.empty(net.n_params)
    for i in range(net.n_params):
        up, down = net.parameters.copy(), net.parameters.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        numeric[i] = (formula_loss(up, X, T) - formula_loss(down, X, T)) / 2e-6
    np.testing.assert_allclose(net.gradients, numeric, rtol=1e-6, atol=1e-9)


def test_the_input_gradient_is_delta_times_each_table_transposed():
    layer = embedded().layers[0]
    X, _ = one_hot_data()
    delta = np.random.default_rng(5).normal(size=(len(X), 7))
    layer.forward(X, keep=True)
    dX = layer.backward(delta)
    np.testing.assert_allclose(dX[:, [0, 1, 6]], delta[:, :3])
    np.testing.assert_allclose(dX[:, 2:6], delta[:, 3:5] @ layer.E[0].T)
    np.testing.assert_allclose(dX[:, 7:10], delta[:, 5:7] @ layer.E[1].T)
    assert layer.backward(delta, need_input_grad=False) is None


def test_gradients_match_pytorch_embedding_lookup():
    """PyTorch's ``nn.functional.embedding`` looks up each category's row by its index."""
    torch = pytest.importorskip("torch")
    net = embedded()
    X, T = one_hot_data()
    net.forward_backward(*net.check_data(X, T))
    first, hidden, output = net.layers
    t = {
        name: torch.tensor(np.array(value), requires_grad=True)
        for name, value in {
            "E0": first.E[0], "E1": first.E[1], "W1": hidden.W, "b1": hidden.b,
            "W2": output.W, "b2": output.b,
        }.items()
    }  # fmt: skip
    index = [torch.tensor(np.argmax(X[:, a:b], axis=1)) for a, b in GROUPS]
    inputs = torch.cat(
        [
            torch.tensor(X[:, [0, 1, 6]]),
            torch.nn.functional.embedding(index[0], t["E0"]),
            torch.nn.functional.embedding(index[1], t["E1"]),
        ],
        dim=1,
    )
    Y = torch.tanh(inputs @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    torch.nn.functional.mse_loss(Y, torch.tensor(T)).backward()
    ours = {"E0": first.dE[0], "E1": first.dE[1], "W1": hidden.dW, "b1": hidden.db}
    for name, gradient in ours.items():
        np.testing.assert_allclose(gradient, t[name].grad.numpy(), rtol=1e-10, atol=1e-14)


def test_training_moves_the_tables_and_lowers_the_loss():
    net = embedded(dtype="float32")
    X, T = one_hot_data(n=64)
    before = net.layers[0].E[0].copy()
    history = net.fit(X, T, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    layer = net.layers[0]
    assert not np.allclose(layer.E[0], before)
    # a training pass applies the tables as the optimizer last wrote them
    rows = np.argmax(X[:, 2:6], axis=1), np.argmax(X[:, 7:10], axis=1)
    expected = np.c_[X[:, [0, 1, 6]], layer.E[0][rows[0]], layer.E[1][rows[1]]]
    np.testing.assert_allclose(layer.forward(X.astype(np.float32), keep=True), expected, rtol=1e-6)


def test_with_an_input_scale_after_it_gradcheck_passes_and_names_the_tables():
    net = cr.Network(
        [Embedding(10, GROUPS, 2), Dense(7, 5, "tanh", input_scale=3.0), Dense(5, 1)],
        seed=0,
        dtype="float64",
    )
    result = cr.gradcheck(net, *one_hot_data())
    assert result.max_relative_error < 1e-6
    from chainrule.core.gradcheck import _describe

    names = [_describe(net, i) for i in (0, 7, 8, 13, 14)]
    assert names == ["layer 0 E0[0, 0]", "layer 0 E0[3, 1]", "layer 0 E1[0, 0]",
                     "layer 0 E1[2, 1]", "layer 1 W[0, 0]"]  # fmt: skip


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([(2, 6), (5, 8)], r"groups\[1\] = \(5, 8\) overlaps or precedes"),
        ([(3, 3)], r"'groups\[0\] stop' must be an integer >= 4"),
        ([(0, 11)], r"'groups\[0\] stop' must be an integer <= 10"),
        ([(1,)], r"groups\[0\] must be a \(start, stop\) pair"),
        ([(-1, 2)], r"'groups\[0\] start' must be an integer >= 0"),
    ],
)
def test_bad_groups_are_refused_naming_them(groups, message):
    with pytest.raises(ValueError, match=message):
        Embedding(10, groups, 2)


def test_an_embedding_only_comes_first():
    with pytest.raises(ValueError, match="layer 1 is an Embedding: only the first layer"):
        cr.Network([Dense(3, 3), Embedding(3, [(0, 3)], 3), Dense(3, 1)])
    with pytest.raises(ValueError, match="n_in=8 but the layer before it has n_out=7"):
        cr.Network([Embedding(10, GROUPS, 2), Dense(8, 1)])


def test_config_copy_pickle_and_model_file_keep_it(tmp_path):
    import pickle

    net = embedded(dtype="float32")
    X, _ = one_hot_data()
    assert net.config()["layers"][0] == {
        "type": "Embedding", "n_in": 10, "groups": [[2, 6], [7, 10]], "width": 2,
    }  # fmt: skip
    expected = net.predict(X)
    for other in (net.copy(), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(other.predict(X), expected)
    cr.save(net, tmp_path / "m.npz")
    np.testing.assert_array_equal(cr.load(tmp_path / "m.npz").predict(X), expected)
    assert "Embedding 10 -> 7" in net.summary()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"n_in": 2**31 - 1}, "config.layers[1].n_in"),  # a width the file does not pay for
        ({"groups": [[2, 6], [5, 7]]}, "config.layers[0].groups[1]"),
        ({"groups": [[2, 11]]}, "config.layers[0].groups[0]"),
        ({"groups": "all"}, "config.layers[0].groups"),
        ({"groups": [[2, 6.5]]}, "config.layers[0].groups[0]"),
        ({"width": 0}, "config.layers[0].width"),
        ({"extra": 1}, "config.layers[0]"),
    ],
)
def test_a_tampered_header_is_refused_before_anything_is_built(change, where):
    config = embedded().config()
    config["layers"][0] |= change
    with pytest.raises(header.HeaderError, match=rf"^{where.replace('[', '.').replace(']', '.')}"):
        header.check_config(config)


def test_an_embedding_after_the_first_layer_is_refused_in_a_header():
    config = embedded().config()
    config["layers"] = [{"type": "Dropout", "rate": 0.1}, *config["layers"]]
    with pytest.raises(header.HeaderError, match=r"config.layers.1..type"):
        header.check_config(config)


def test_explain_refuses_it_saying_why():
    from chainrule.explain import SpecError
    from chainrule.explain.bridge import spec_from_network

    with pytest.raises(SpecError, match="begins with an Embedding"):
        spec_from_network(embedded(), [0.0] * 10, [0.0])


# -- the table route --------------------------------------------------------------------------
pd = pytest.importorskip("pandas")
FAST = {"epochs": 3, "hidden": (6,), "seed": 0, "verbose": 0}


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    x = rng.normal(size=160)
    city = rng.choice([f"c{i}" for i in range(12)], 160)
    colour = rng.choice(["red", "green"], 160)
    effect = {f"c{i}": v for i, v in enumerate(rng.normal(size=12))}
    y = 2 * x + np.array([effect[c] for c in city]) + (colour == "red")
    return pd.DataFrame({"x": x, "city": city, "colour": colour, "y": y})


@pytest.fixture(scope="module")
def with_embeddings(frame):
    return TabularModel.train(frame, "y", embedding_size=4, **FAST)


def test_the_columns_of_more_categories_than_the_width_are_embedded(with_embeddings):
    model = with_embeddings
    layer = model.network.embedding
    assert layer.groups == [(1, 13)] and layer.width == 4  # city's 12 inputs, not colour's 2
    assert model.features[1:13] == [f"city=c{i}" for i in sorted(range(12), key=str)]
    columns = model.columns
    assert embedded_groups(columns, 2) == [(1, 13)]
    assert embedded_groups(columns, 1) == [(1, 13), (13, 15)]
    assert embedded_groups(columns, 12) == embedded_groups(columns, None) == []


def test_the_table_route_saves_and_exports_it(with_embeddings, frame, tmp_path):
    with_embeddings.save(tmp_path / "m.npz")
    loaded = TabularModel.load(tmp_path / "m.npz")
    assert loaded.network.config() == with_embeddings.network.config()
    pd.testing.assert_frame_equal(loaded.predict(frame), with_embeddings.predict(frame))
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(
        cr.onnx.to_onnx(with_embeddings).SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    feeds = {
        "X": frame[["x"]].to_numpy(np.float32),
        "categories": frame[["city", "colour"]].to_numpy(object),
    }
    (Y,) = session.run(None, feeds)
    expected = with_embeddings.predict(frame)["prediction"]
    np.testing.assert_allclose(Y.ravel(), expected, rtol=1e-5, atol=1e-5)


def test_the_command_line_takes_embedding_size(frame, tmp_path, capsys):
    frame.to_csv(tmp_path / "d.csv", index=False)
    base = ["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "2", "--quiet"]
    assert main([*base, "--embedding-size", "3", "--out", str(tmp_path / "a.npz")]) == 0
    assert main([*base, "--embedding-size", "none", "--out", str(tmp_path / "b.npz")]) == 0
    assert TabularModel.load(tmp_path / "a.npz").network.embedding.width == 3
    assert TabularModel.load(tmp_path / "b.npz").network.embedding is None
    capsys.readouterr()
    assert main(["info", str(tmp_path / "a.npz")]) == 0
    out = capsys.readouterr().out
    assert "embedded (3 numbers each): city\n" in out
    assert "input scale: learned, one per input of the first Dense layer, stored as s / 6" in out
    assert main(["info", str(tmp_path / "a.npz"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["embedded"] == ["city"]
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--embedding-size", "0"])
    assert exit_.value.code == 2
    assert "--embedding-size: expected a whole number >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "applied"),
    [
        ("embedding_size", 5, lambda network: network.embedding.width),
        ("input_scale", 2.0, lambda network: network.dense_layers[0].input_scale),
    ],
)
def test_the_estimators_take_the_first_layers_options(frame, name, value, applied):
    from sklearn.base import clone

    from chainrule.sklearn import TableRegressor

    regressor = TableRegressor(epochs=2, hidden=(4,), **{name: value})
    assert clone(regressor).get_params()[name] == value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fitted = regressor.fit(frame.drop(columns="y"), frame["y"])
    assert applied(fitted.model_.network) == value
    with pytest.raises(ValueError, match=name):
        TableRegressor(**{name: -1}).fit(frame.drop(columns="y"), frame["y"])


def test_a_bad_size_is_refused_by_the_python_route(frame):
    with pytest.raises(ValueError, match="'embedding_size' must be"):
        TabularModel.train(frame, "y", embedding_size=0, **FAST)
    with pytest.raises(TypeError, match="'embedding_size' must be"):
        TabularModel.train(frame, "y", embedding_size=2.5, **FAST)


def test_the_table_route_embeds_columns_of_more_than_four_categories_by_default(frame, tmp_path):
    """Chosen on real tables (benchmarks/RESULTS.md): Python, the command line and the
    estimators alike; the scikit-learn MLP estimators keep scikit-learn's network."""
    from chainrule.sklearn import MLPRegressor, TableClassifier, TableRegressor

    network = TabularModel.train(frame, "y", **FAST).network
    assert network.embedding.width == 4 and network.embedding.groups == [(1, 13)]
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = str(tmp_path / "m.npz")
    assert main(["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "2",
                 "--quiet", "--out", out]) == 0  # fmt: skip
    assert TabularModel.load(out).network.embedding.width == 4
    assert TableClassifier().embedding_size == TableRegressor().embedding_size == 4
    fitted = MLPRegressor(max_iter=5).fit(np.eye(12)[np.arange(40) % 12], frame["y"][:40])
    assert fitted.network_.embedding is None


def test_a_header_with_an_embedding_and_no_dense_layer_is_refused():
    config = embedded().config()
    config["layers"] = config["layers"][:1]
    with pytest.raises(header.HeaderError, match="config.layers must be a Dense layer after the"):
        header.check_config(config)


def test_the_two_ways_of_computing_agree(path, monkeypatch):
    X, _ = one_hot_data()
    delta = np.random.default_rng(7).normal(size=(len(X), 7))
    results = []
    for inputs in (512, 0):
        monkeypatch.setattr(layers, "ONE_PRODUCT_INPUTS", inputs)
        layer = cr.Network([Embedding(10, GROUPS, 2), Dense(7, 1)], seed=0).layers[0]
        Y = layer.forward(X.astype(np.float32), keep=True)
        dX = layer.backward(delta.astype(np.float32))
        results.append((Y, dX, layer._dE.copy(), layer._one_product))
    (Y1, dX1, dE1, one), (Y2, dX2, dE2, other) = results
    assert one and not other
    for a, b in ((Y1, Y2), (dX1, dX2), (dE1, dE2)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("n_in", "groups"),
    [(200_000, [(0, 1)]), (512, [(i, i + 1) for i in range(128)])],
    ids=["many inputs", "many groups"],
)
def test_a_file_declaring_a_huge_embedding_loads_within_little_memory(path, tmp_path, n_in, groups):
    """Model files of 1-5 MB whose Embedding at width 4096 takes 200 000 inputs, or 512 in 128
    groups: one tables matrix would hold 8e8 or 2.7e8 numbers (3.2 or 1.1 GB); the layer forms
    a product per group instead, so loading and predicting stay within a few MB."""
    import tracemalloc

    n_out = n_in - len(groups) + len(groups) * 4096
    net = cr.Network([Embedding(n_in, groups, 4096), Dense(n_out, 1)])
    cr.save(net, tmp_path / "big.npz")
    tracemalloc.start()
    loaded = cr.load(tmp_path / "big.npz")
    loaded.predict(np.zeros((2, n_in)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not loaded.embedding._one_product
    assert peak < 64 * 2**20, peak


def test_the_width_is_at_most_4096():
    with pytest.raises(ValueError, match="'width' must be an integer <= 4096"):
        Embedding(10, GROUPS, 4097)
    config = embedded().config()
    config["layers"][0]["width"] = 4097
    with pytest.raises(header.HeaderError, match=r"config.layers.0..width must be an integer in"):
        header.check_config(config)


def test_groups_may_be_array_rows():
    assert Embedding(10, np.array(GROUPS), 2).groups == GROUPS
