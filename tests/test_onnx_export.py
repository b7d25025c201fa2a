"""chainrule.onnx.to_onnx on networks: every activation, both dtypes, batches of 1 and 1000,
checked against ``predict`` in onnxruntime."""

import math

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
from onnx_helpers import assert_close, run  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.onnx import DEFAULT_OPSET, to_onnx  # noqa: E402
from chainrule.onnx.graph import Graph  # noqa: E402
from chainrule.onnx.ops import erf  # noqa: E402

ACTIVATIONS = [
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    {"name": "leaky_relu", "slope": 0.2},
    "elu",
    {"name": "elu", "alpha": 0.3},
    "softplus",
    "gelu",
    "softmax",
]


def test_every_registered_activation_is_exported():
    names = {a if isinstance(a, str) else a["name"] for a in ACTIVATIONS} | {"exp"}
    canonical = {cr.activations.get(name).name for name in cr.activations.NAMES}
    assert names == canonical


def random_network(activation, dtype, seed=0):
    """A 5-16-12-3 network with ``activation`` in every layer, the output included, a
    Dropout layer, and random weights and biases of scale 0.7."""
    net = cr.Network(
        [
            cr.Dense(5, 16, activation),
            cr.Dropout(0.5),
            cr.Dense(16, 12, activation),
            cr.Dense(12, 3, activation),
        ],
        dtype=dtype,
    )
    net.set_parameters(np.random.default_rng(seed).normal(0, 0.7, net.n_params))
    return net


def inputs(n, dtype, scale=3.0, seed=1):
    return np.random.default_rng(seed).normal(0, scale, (n, 5)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_onnxruntime_matches_predict(activation, dtype):
    net = random_network(activation, dtype)
    model = to_onnx(net, dtype=dtype)
    for n in (1, 1000):
        X = inputs(n, dtype)
        (Y,) = run(model, X)
        assert_close(Y, net.predict(X), np.dtype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_exp_output_matches_predict(dtype):
    # exp is the output of a Poisson regression (stacked in every layer it overflows)
    net = cr.Network([cr.Dense(5, 16, "relu"), cr.Dense(16, 3, "exp")], dtype=dtype)
    net.set_parameters(np.random.default_rng(0).normal(0, 0.3, net.n_params))
    X = inputs(1000, dtype)
    (Y,) = run(to_onnx(net, dtype=dtype), X)
    assert_close(Y, net.predict(X), np.dtype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus", "gelu", "elu", "softmax"])
def test_large_net_inputs_stay_finite_and_agree(activation, dtype):
    # net inputs up to about +-1000: no overflow to inf or NaN where chainrule has none
    net = cr.Network(
        [cr.Dense(5, 4, activation, W=np.full((5, 4), 70.0) * [1, -1, 0.5, -0.2])], dtype=dtype
    )
    X = inputs(200, dtype)
    (Y,) = run(to_onnx(net, dtype=dtype), X)
    assert np.isfinite(Y).all()
    assert_close(Y, net.predict(X), np.dtype(dtype))


@pytest.mark.parametrize("opset", [13, 20, onnx.defs.onnx_opset_version()])
def test_gelu_at_every_opset(opset):
    # from opset 20 on, float32 uses ONNX's own Gelu; before, 0.5 z (1 + Erf(z / sqrt 2))
    net = random_network("gelu", "float32")
    model = to_onnx(net, opset=opset)
    ops = {node.op_type for node in model.graph.node}
    assert ("Gelu" in ops) == (opset >= 20)
    assert model.opset_import[0].version == opset
    X = inputs(1000, "float32")
    assert_close(run(model, X)[0], net.predict(X), np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opset", range(13, onnx.defs.onnx_opset_version() + 1))
def test_every_activation_runs_at_every_opset(opset, dtype):
    # onnxruntime's kernels depend on the opset: it has no float64 Elu (it loads one only at
    # opset 18, where Elu is expanded into other nodes), so float64 ELU is written out
    for activation in ACTIVATIONS:
        net = random_network(activation, dtype)
        X = inputs(20, dtype)
        assert_close(
            run(to_onnx(net, opset=opset, dtype=dtype), X)[0], net.predict(X), np.dtype(dtype)
        )


def test_float64_erf_is_cody_to_rounding():
    # onnxruntime has no float64 Erf: the export writes Cody's approximation out; here it is
    # compared with the C library's erf (math.erf), across its three ranges and their seams
    graph = Graph(np.float64, DEFAULT_OPSET)
    graph.reserve("X")
    graph.node("Identity", [erf(graph, "X")], "Y")
    model = graph.model(
        [("X", graph.element_type(), [None])],
        [("Y", graph.element_type(), [None])],
        doc="erf",
        metadata={},
    )
    x = np.concatenate(
        [np.linspace(-7, 7, 20001), [0.0, 1e-300, -1e-20, 0.46875, 0.46876, 4.0, 4.0001, 27.0]]
    )
    (y,) = run(model, x)
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(y, expected, rtol=1e-15, atol=1e-300)


def test_dropout_is_removed_and_the_graph_is_plain():
    net = cr.MLP([4, 8, 8, 2], dropout=0.5, loss="cross_entropy", seed=0)
    model = to_onnx(net)
    ops = [node.op_type for node in model.graph.node]
    assert "Dropout" not in ops
    assert ops == ["MatMul", "Add", "Relu"] * 2 + ["MatMul", "Add", "Softmax", "Identity"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inputs_are_named_with_a_dynamic_batch(dtype):
    net = cr.MLP([4, 8, 3], loss="cross_entropy", seed=0)
    model = to_onnx(net, dtype=dtype)
    (given,) = model.graph.input
    (output,) = model.graph.output
    element = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    for value, width in ((given, 4), (output, 3)):
        assert value.type.tensor_type.elem_type == element
        batch, columns = value.type.tensor_type.shape.dim
        assert batch.dim_param == "batch" and not batch.HasField("dim_value")
        assert columns.dim_value == width
    assert (given.name, output.name) == ("X", "Y")
    assert {p.key: p.value for p in model.metadata_props}["model"] == "Network"
    assert model.opset_import[0].version == DEFAULT_OPSET
    onnx.checker.check_model(model, full_check=True)


def test_float32_is_the_default_and_weights_are_cast():
    net = cr.MLP([3, 2], seed=0, dtype="float64")
    model = to_onnx(net)
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert weights["W"].dtype == np.float32
    np.testing.assert_array_equal(weights["W"], net.layers[0].W.astype(np.float32))


def test_path_is_written_and_loads(tmp_path):
    net = cr.MLP([3, 4, 2], seed=0)
    path = tmp_path / "net.onnx"
    model = to_onnx(net, path)
    assert onnx.load(path) == model
    X = inputs(7, "float32")[:, :3]
    assert_close(run(str(path), X)[0], net.predict(X), np.float32)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"dtype": "float16"}, ValueError, "'dtype' must be 'float32' or 'float64', got 'float16'"),
        ({"opset": 12}, ValueError, "'opset' must be between 13 and .*, got 12"),
        ({"opset": 999}, ValueError, "got 999"),
        ({"opset": "18"}, TypeError, "'opset' must be an integer, got '18'"),
    ],
)
def test_bad_arguments_are_named(options, error, match):
    with pytest.raises(error, match=match):
        to_onnx(cr.MLP([2, 1], seed=0), **options)


def test_other_models_are_refused_by_type():
    with pytest.raises(TypeError, match="'model' must be a chainrule Network.*got dict"):
        to_onnx({"layers": []})
