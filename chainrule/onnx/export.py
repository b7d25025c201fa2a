"""``to_onnx``: a chainrule model as an ONNX model that runs without Python or chainrule."""

from __future__ import annotations

import json
import numbers

import numpy as np

from ..core.network import Network
from ..core.validation import as_dtype
from ..files.atomic import atomic_open
from . import columns, heads, ops
from ._requirements import require
from .graph import MIN_OPSET, Graph

#: The opset :func:`to_onnx` writes unless told otherwise (onnxruntime >= 1.14 runs it).
DEFAULT_OPSET = 18


def network_nodes(graph, X: str, network: Network) -> str:
    """The network's forward pass on ``X``; Dropout is the identity at inference. The weights
    are the network's in the graph's dtype (an input scale applied in it, as the network copied
    to that dtype applies it); an Embedding is folded into the first of them (``M @ V``, exact
    but for rounding: the two are linear, and dropout is off at inference)."""
    A, copy = X, network.copy(dtype=graph.dtype)
    for position, layer in enumerate(copy.dense_layers):
        W = layer.effective_W
        if position == 0 and copy.embedding is not None:
            W = copy.embedding.folded(W)
        A = ops.dense(graph, A, W, layer.b, layer.activation)
    return A


def estimator_kind(estimator) -> str:
    """'regressor', or the classifier's kind for :func:`heads.classifier`, read from the
    public fitted attributes ``out_activation_`` and ``n_outputs_``."""
    if estimator.out_activation_ == "softmax":
        return "multiclass"
    if estimator.out_activation_ == "logistic":
        return "binary" if estimator.n_outputs_ == 1 else "multilabel"
    return "regressor"


def _check_opset(opset, onnx) -> int:
    if opset is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, numbers.Integral):
        raise TypeError(f"'opset' must be an integer, got {opset!r}")
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"'opset' must be between {MIN_OPSET} and {newest} (this onnx's newest), got {opset}"
        )
    return int(opset)


def _tabular(graph, model, X: str):
    """A table model: its column transformations (:mod:`chainrule.onnx.columns`: fill values,
    one-hot categories), the standardisation, the network, then labels and probabilities or
    values. Returns the inputs besides ``X``, the outputs and the metadata."""
    numeric, categorical = columns.numeric_and_categorical(model)
    categories = graph.reserve("categories")
    raw = columns.features(graph, model, X, categories)
    mean = graph.constant(graph.cast(model.mean), "mean")
    scale = graph.constant(graph.cast(model.scale), "scale")
    standardised = graph.node("Div", [graph.node("Sub", [raw, mean]), scale])
    Y = network_nodes(graph, standardised, model.network)
    metadata = {
        "features": json.dumps(model.features),
        "target": model.target,
        "numeric_columns": json.dumps([column.name for column in numeric]),
    }
    inputs = [("X", graph.element_type(), [None, len(numeric)])] if numeric else []
    if categorical:
        inputs.append(("categories", graph.onnx.TensorProto.STRING, [None, len(categorical)]))
        metadata["categorical_columns"] = json.dumps(
            {column.name: column.categories for column in categorical}
        )
        pooled = {column.name: column.infrequent for column in categorical if column.infrequent}
        if pooled:  # the categories that share each column's last input
            metadata["infrequent_categories"] = json.dumps(pooled)
    if model.task == "regression":
        heads.rescaled(graph, Y, [model.target_scale], [model.target_mean], "variable")
        return inputs, [("variable", graph.element_type(), [None, 1])], metadata
    labels = heads.label_array(model.classes)
    heads.classifier(graph, Y, labels, "multiclass", "output_label", "output_probability")
    metadata["classes"] = json.dumps(model.classes)
    return inputs, _classifier_outputs(graph, labels, len(model.classes)), metadata


def _classifier_outputs(graph, labels: np.ndarray, n_columns: int, *, multilabel=False):
    """The label and probability outputs' names, element types and shapes."""
    onnx = graph.onnx
    text = labels.dtype == object and not multilabel
    return [
        (
            "output_label",
            onnx.TensorProto.STRING if text else onnx.TensorProto.INT64,
            [None, n_columns] if multilabel else [None],
        ),
        ("output_probability", graph.element_type(), [None, n_columns]),
    ]


def _estimator(graph, estimator, X: str):
    """An MLPClassifier or MLPRegressor, from its public fitted attributes."""
    from .imports import from_sklearn

    # The loss plays no part in inference; naming one lets a Poisson regressor through.
    Y = network_nodes(graph, X, from_sklearn(estimator, loss="squared_error"))
    kind = estimator_kind(estimator)
    if kind == "regressor":
        graph.node("Identity", [Y], "variable")
        return [("variable", graph.element_type(), [None, estimator.n_outputs_])], {}
    labels = heads.label_array(estimator.classes_)
    heads.classifier(graph, Y, labels, kind, "output_label", "output_probability")
    outputs = _classifier_outputs(graph, labels, len(labels), multilabel=kind == "multilabel")
    return outputs, {"classes": json.dumps(labels.tolist())}


def to_onnx(model, path=None, *, opset: int | None = None, dtype="float32"):
    """Export a chainrule model to ONNX.

    Parameters
    ----------
    model : Network, TabularModel, MLPClassifier or MLPRegressor
        A :class:`~chainrule.Network` (Dropout layers are dropped: they are the identity at
        inference); the command line's table model (:class:`chainrule.tables.model.TabularModel`,
        with its feature standardisation, class labels or target scaling); or a fitted
        ``chainrule.sklearn`` estimator (scikit-learn's own ``MLPClassifier`` and
        ``MLPRegressor`` work too), read from its public fitted attributes.
    path : str or os.PathLike, optional
        Where to write the model (atomically).
    opset : int, optional
        The ONNX opset, from 13 to the installed onnx's newest (default
        :data:`DEFAULT_OPSET`, 18). From 20 on, float32 GELU layers use ONNX's ``Gelu``.
    dtype : {'float32', 'float64'}, default='float32'
        The type of the input, the weights and every output value.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker.check_model(full_check=True)``. One input ``X`` of shape
        (batch, n_features), batch dynamic; a table model with categorical columns takes
        ``X`` for its numeric columns and ``categories`` (batch, n_categorical) of strings for
        the others (see :mod:`chainrule.onnx.columns`). Outputs: ``Y`` (batch, n_outputs) for
        a network; for classifiers ``output_label`` (batch,) of int64 or strings, and
        ``output_probability`` (batch, n_classes), as skl2onnx names them; for regressors
        ``variable`` (batch, n_outputs). The model's metadata records the feature names and
        class labels where there are any.

    Raises
    ------
    ImportError
        Without the ``onnx`` extra (the message says how to install it).
    TypeError
        For a model of another kind.

    Examples
    --------
    >>> import chainrule as cr
    >>> from chainrule.onnx import to_onnx
    >>> model = to_onnx(cr.MLP([4, 8, 3], loss="cross_entropy", seed=0))
    >>> [o.name for o in model.graph.output]
    ['Y']
    """
    onnx = require("onnx", "chainrule.onnx.to_onnx")
    dtype = as_dtype(dtype)
    graph = Graph(dtype, _check_opset(opset, onnx))
    kind, inputs, outputs, metadata = _model_nodes(graph, model, graph.reserve("X"))
    described = ", ".join(f"{name} of shape (batch, {shape[1]})" for name, _, shape in inputs)
    result = graph.model(
        inputs,
        outputs,
        doc=f"chainrule {kind}: input {described}, {dtype.name}",
        metadata={"model": kind, **metadata},
    )
    if path is not None:
        with atomic_open(path) as stream:
            stream.write(result.SerializeToString())
    return result


def _model_nodes(graph, model, X: str):
    """The model's nodes on ``X``; returns its kind, its inputs, outputs and metadata."""
    if isinstance(model, Network):
        return (type(model).__name__, *_network(graph, model, X))
    if _is_tabular(model):
        return (f"TabularModel ({model.task})", *_tabular(graph, model, X))
    if hasattr(model, "get_params") and hasattr(type(model), "predict"):
        outputs, metadata = _estimator(graph, model, X)
        inputs = [("X", graph.element_type(), [None, model.coefs_[0].shape[0]])]
        return type(model).__name__, inputs, outputs, metadata
    raise TypeError(
        "'model' must be a chainrule Network, TabularModel, MLPClassifier or "
        f"MLPRegressor, got {type(model).__name__}"
    )


def _network(graph, network: Network, X: str):
    """A Network's forward pass as output ``Y``; returns the inputs, outputs and metadata."""
    graph.node("Identity", [network_nodes(graph, X, network)], "Y")
    inputs = [("X", graph.element_type(), [None, network.n_inputs])]
    return inputs, [("Y", graph.element_type(), [None, network.n_outputs])], {}


def _is_tabular(model) -> bool:
    from ..tables.model import TabularModel

    return isinstance(model, TabularModel)


__all__ = ["DEFAULT_OPSET", "to_onnx"]
