"""What comes after the network in an exported model: class labels, probabilities, scaled values.

The outputs follow skl2onnx's conventions (with its ``zipmap=False`` option), so code that
serves a scikit-learn model serves a chainrule model unchanged:

* a classifier has a label output, shape (batch,) of int64 or strings, and a probability output,
  shape (batch, n_classes); a multi-label one has int64 indicators of shape (batch, n_labels);
* a regressor has one value output, shape (batch, n_outputs).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["classifier", "label_array", "rescaled"]


def label_array(classes) -> np.ndarray:
    """``classes`` as ONNX can hold them: int64 for integers (and whole floats, booleans),
    an object array of ``str`` for text labels.

    Raises
    ------
    TypeError
        For labels that are neither all integers nor all strings (as skl2onnx).
    """
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f" and np.all(np.isfinite(classes) & (classes == np.round(classes))):
        return classes.astype(np.int64)
    values = classes.tolist()
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=object)
    if all(isinstance(v, numbers.Integral) for v in values):
        return np.array(values, dtype=np.int64)
    raise TypeError(
        f"class labels must be all integers or all strings to be exported, got {values[:5]!r}"
    )


def _indicators(graph, Y: str, output: str | None = None) -> str:
    """``Y > 0.5`` as int64: the estimators' decision rule for sigmoid outputs (scikit-learn's
    ``LabelBinarizer.inverse_transform``, so a probability of exactly 0.5 is the first class)."""
    onnx = graph.onnx
    above = graph.node("Greater", [Y, graph.scalar(0.5)])
    return graph.node("Cast", [above], output, to=onnx.TensorProto.INT64)


def classifier(graph, Y: str, classes, kind: str, label: str, probabilities: str) -> None:
    """Write the label and probability outputs for network outputs ``Y``.

    Parameters
    ----------
    kind : {'multiclass', 'binary', 'multilabel'}
        'multiclass': ``Y`` holds one probability per class and the label is the first
        largest (as ``argmax``); 'binary': ``Y`` is the positive class's probability ``p``, the
        probabilities are ``[1 - p, p]`` and the label is ``classes[p > 0.5]``; 'multilabel':
        one sigmoid per label, the label output is the indicator matrix ``Y > 0.5``.
    """
    if kind == "multilabel":
        graph.node("Identity", [Y], probabilities)
        _indicators(graph, Y, label)
        return
    if kind == "binary":
        negative = graph.node("Sub", [graph.scalar(1.0), Y])
        graph.node("Concat", [negative, Y], probabilities, axis=1)
        flat = graph.constant(np.array([-1], dtype=np.int64), "flat")
        index = graph.node("Reshape", [_indicators(graph, Y), flat])
    else:
        graph.node("Identity", [Y], probabilities)
        index = graph.node("ArgMax", [probabilities], axis=1, keepdims=0)
    graph.node("Gather", [graph.constant(label_array(classes), "classes"), index], label, axis=0)


def rescaled(graph, Y: str, scale, mean, output: str) -> str:
    """``Y * scale + mean``: a standardised target back in its own units."""
    values = graph.node("Mul", [Y, graph.constant(graph.cast(scale), "target_scale")])
    return graph.node("Add", [values, graph.constant(graph.cast(mean), "target_mean")], output)
