"""An ONNX graph under construction: nodes, constants and unique names.

The layer code in :mod:`chainrule.onnx.ops` writes through a :class:`GraphWriter` (``constant``,
``scalar``, ``node``), which stores into a model of chainrule's own (:class:`Graph`) or into a
skl2onnx conversion (:mod:`chainrule.onnx.registration`); so a chainrule model becomes the same
nodes whether chainrule builds the whole model or skl2onnx embeds it in a pipeline.
"""

from __future__ import annotations

import numpy as np

from .._version import __version__
from ._requirements import require

__all__ = ["Graph", "GraphWriter", "MIN_OPSET", "ML_DOMAIN", "ML_OPSET"]

#: The first opset whose Softmax normalises along one axis only (``axis=-1``).
MIN_OPSET = 13

#: The domain of ONNX's traditional machine-learning operators (LabelEncoder), and the opset
#: of it that the exported models use (onnxruntime >= 1.2 runs it).
ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 2


class GraphWriter:
    """What the layer code writes through: named constants and nodes in one floating dtype.

    Parameters
    ----------
    dtype : numpy dtype
        float32 or float64: the type of every weight and computed value.
    opset : int
        The default domain's opset the nodes must be valid in.

    Subclasses store what is written: :class:`Graph` for a model of chainrule's own, the
    adapter in :mod:`chainrule.onnx.registration` inside a skl2onnx conversion.
    """

    def __init__(self, dtype, opset: int):
        self.onnx = require("onnx", "chainrule.onnx")
        self.dtype = np.dtype(dtype)
        self.opset = opset
        self._scalars: dict[tuple, str] = {}

    def unique(self, prefix: str) -> str:
        """A name not used before in this graph."""
        raise NotImplementedError

    def _store(self, name: str, array: np.ndarray) -> None:
        raise NotImplementedError

    def _append(self, op: str, inputs: list[str], output: str, attributes: dict) -> None:
        raise NotImplementedError

    def constant(self, array, prefix: str) -> str:
        """A constant holding ``array`` as it is (floats go through :meth:`cast` first)."""
        name = self.unique(prefix)
        array = np.asarray(array)
        if array.dtype.kind in "OU":  # labels: ONNX strings are bytes
            array = np.array([str(v).encode("utf-8") for v in array.ravel()], dtype=object)
        self._store(name, array)
        return name

    def cast(self, array) -> np.ndarray:
        """``array`` in the graph's floating dtype."""
        return np.asarray(array, dtype=self.dtype)

    def scalar(self, value: float) -> str:
        """A 0-d constant of the graph's dtype, shared by every node that uses the same value."""
        key = (self.dtype.str, float(value))
        if key not in self._scalars:
            self._scalars[key] = self.constant(self.cast(value), "c")
        return self._scalars[key]

    def node(self, op: str, inputs: list[str], output: str | None = None, **attributes) -> str:
        """Append an ``op`` node and return the name of its (single) output."""
        output = output or self.unique(op.lower())
        self._append(op, inputs, output, attributes)
        return output

    def element_type(self, dtype=None) -> int:
        """The ONNX element type of ``dtype`` (default: the graph's floating dtype)."""
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype or self.dtype))


class Graph(GraphWriter):
    """The nodes and initializers of a model of chainrule's own, turned into a ``ModelProto``
    by :meth:`model`."""

    def __init__(self, dtype, opset: int):
        super().__init__(dtype, opset)
        self.nodes: list = []
        self.initializers: list = []
        self._names: set[str] = set()

    def unique(self, prefix: str) -> str:
        name, count = prefix, 0
        while name in self._names:
            count += 1
            name = f"{prefix}_{count}"
        self._names.add(name)
        return name

    def reserve(self, name: str) -> str:
        """Claim ``name`` (a graph input or output) so that no node output takes it."""
        self._names.add(name)
        return name

    def _store(self, name: str, array: np.ndarray) -> None:
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))

    def _append(self, op: str, inputs: list[str], output: str, attributes: dict) -> None:
        self.nodes.append(
            self.onnx.helper.make_node(
                op, inputs, [self.reserve(output)], name=self.unique(f"n_{op}"), **attributes
            )
        )

    def model(self, inputs, outputs, *, doc: str, metadata: dict[str, str]):
        """The checked ``ModelProto`` with the given inputs and outputs.

        ``inputs`` and ``outputs`` are ``(name, element type, shape)`` triples; a shape entry
        ``None`` is the dynamic batch dimension, named ``batch``.
        """
        onnx = self.onnx
        helper = onnx.helper

        def value_info(name, element_type, shape):
            dims = ["batch" if dim is None else dim for dim in shape]
            return helper.make_tensor_value_info(name, element_type, dims)

        graph = helper.make_graph(
            self.nodes,
            "chainrule",
            [value_info(*spec) for spec in inputs],
            [value_info(*spec) for spec in outputs],
            initializer=self.initializers,
        )
        opsets = [helper.make_opsetid("", self.opset)]
        if any(node.domain == ML_DOMAIN for node in self.nodes):
            opsets.append(helper.make_opsetid(ML_DOMAIN, ML_OPSET))
        model = helper.make_model(
            graph,
            opset_imports=opsets,
            producer_name="chainrule",
            producer_version=__version__,
            doc_string=doc,
            ir_version=helper.find_min_ir_version_for(opsets),
        )
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model, full_check=True)
        return model
