"""chainrule's estimators in skl2onnx: a shape calculator and a converter for each.

After :func:`register_skl2onnx`, ``skl2onnx.to_onnx`` converts ``chainrule.sklearn``'s
``MLPClassifier`` and ``MLPRegressor``, alone or inside pipelines, with the same options as
scikit-learn's own classifiers (``zipmap``, ``nocl``, ``output_class_labels``). The converter
reads the public fitted attributes only, as skl2onnx's own MLP converter does, and writes the
same nodes as :func:`chainrule.onnx.to_onnx`.
"""

from __future__ import annotations

import numpy as np

from ._requirements import require
from .export import estimator_kind, network_nodes
from .graph import MIN_OPSET, GraphWriter
from .heads import classifier
from .imports import from_sklearn

__all__ = ["register_skl2onnx"]


def _skl2onnx(module: str = ""):
    """skl2onnx or one of its modules, or one line saying which extra to install."""
    name = f"skl2onnx.{module}" if module else "skl2onnx"
    return require(name, "chainrule.onnx.register_skl2onnx")


class _ConversionGraph(GraphWriter):
    """The layer code's graph interface over a skl2onnx conversion's scope and container."""

    def __init__(self, scope, container, dtype):
        super().__init__(dtype, container.target_opset)
        self.scope, self.container = scope, container

    def unique(self, prefix: str) -> str:
        return self.scope.get_unique_variable_name(prefix)

    def _store(self, name: str, array: np.ndarray) -> None:
        if array.dtype == object:
            self.container.add_initializer(
                name, self.onnx.TensorProto.STRING, list(array.shape), array.tolist()
            )
            return
        tensor = self.onnx.numpy_helper.from_array(array, name)
        self.container.add_initializer(name, tensor.data_type, list(array.shape), tensor)

    def _append(self, op: str, inputs: list[str], output: str, attributes: dict) -> None:
        self.container.add_node(
            op, inputs, [output], name=self.scope.get_unique_operator_name(op), **attributes
        )


def _graph(scope, operator, container) -> _ConversionGraph:
    if container.target_opset < MIN_OPSET:  # as to_onnx: Softmax over one axis, LessOrEqual
        raise ValueError(
            f"chainrule's {type(operator.raw_operator).__name__} needs skl2onnx's "
            f"'target_opset' >= {MIN_OPSET}, got {container.target_opset}"
        )
    data_types = _skl2onnx("common.data_types")
    double = isinstance(operator.inputs[0].type, data_types.DoubleTensorType)
    return _ConversionGraph(scope, container, np.float64 if double else np.float32)


def _input(graph, operator) -> str:
    """The operator's input, cast to the graph's dtype where skl2onnx feeds another type."""
    name = operator.inputs[0].full_name
    return graph.node("Cast", [name], to=graph.element_type())


def _convert_classifier(scope, operator, container) -> None:
    graph = _graph(scope, operator, container)
    estimator = operator.raw_operator
    Y = network_nodes(graph, _input(graph, operator), from_sklearn(estimator))
    label, probabilities = (variable.full_name for variable in operator.outputs[:2])
    classes = estimator.classes_
    options = scope.get_options(estimator, {"nocl": False})
    if options["nocl"]:  # skl2onnx's option: class indices instead of labels
        classes = np.arange(len(classes))
    classifier(graph, Y, classes, estimator_kind(estimator), label, probabilities)


def _convert_regressor(scope, operator, container) -> None:
    graph = _graph(scope, operator, container)
    estimator = operator.raw_operator
    Y = network_nodes(graph, _input(graph, operator), from_sklearn(estimator))
    graph.node("Identity", [Y], operator.outputs[0].full_name)


def _classifier_shape(operator) -> None:
    shapes = _skl2onnx("common.shape_calculator")
    data_types = _skl2onnx("common.data_types")
    shapes.calculate_linear_classifier_output_shapes(operator)
    estimator = operator.raw_operator
    if estimator_kind(estimator) == "multilabel":  # indicators, one column per label
        batch = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = data_types.Int64TensorType([batch, estimator.n_outputs_])


def _regressor_shape(operator) -> None:
    shapes = _skl2onnx("common.shape_calculator")
    shapes.calculate_linear_regressor_output_shapes(operator)
    n_outputs = operator.raw_operator.n_outputs_
    operator.outputs[0].type.shape = [operator.inputs[0].get_first_dimension(), n_outputs]


def register_skl2onnx() -> None:
    """Register chainrule's ``MLPClassifier`` and ``MLPRegressor`` with skl2onnx.

    Call it once in a process before ``skl2onnx.to_onnx`` (calling it again is harmless).
    skl2onnx keeps its registry in the process, so nothing is registered on import: importing
    chainrule never imports skl2onnx.

    Raises
    ------
    ImportError
        Without the ``onnx`` extra (skl2onnx) or scikit-learn.

    Examples
    --------
    >>> from chainrule.onnx import register_skl2onnx
    >>> register_skl2onnx()
    """
    skl2onnx = _skl2onnx()
    from ..sklearn import MLPClassifier, MLPRegressor  # says which extra when sklearn is missing

    skl2onnx.update_registered_converter(
        MLPClassifier,
        "ChainruleMLPClassifier",
        _classifier_shape,
        _convert_classifier,
        options={
            "zipmap": [True, False, "columns"],
            "nocl": [False, True],
            "output_class_labels": [False, True],
        },
    )
    skl2onnx.update_registered_converter(
        MLPRegressor, "ChainruleMLPRegressor", _regressor_shape, _convert_regressor
    )
