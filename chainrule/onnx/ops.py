"""chainrule's layers and heads as ONNX nodes.

Each function writes through a graph (:class:`~chainrule.onnx.graph.Graph` or the skl2onnx
adapter) and returns the name of the value it computed. The nodes repeat chainrule's own
arithmetic in the same order, so that an exported model agrees with ``predict`` to rounding:

    Z = X @ W + b                 MatMul, Add
    A = f(Z)                      one node where ONNX has f with the same constants, else f's
                                  formula in elementary nodes (below)

Where onnxruntime lacks a float64 kernel (Erf; Elu, which loads only at opset 18), or its float64
kernel overflows (Softplus above 709), or an attribute would round a parameter to float32
(LeakyRelu's ``alpha``), the formula is written out instead:

    leaky_relu(z) = z if z > 0 else slope * z
    elu(z)        = z if z > 0 else alpha * (exp(min(z, 0)) - 1)
    softplus(z)   = max(z, 0) + log(1 + exp(-|z|))
    gelu(z)       = (z / 2) * (1 + erf(z / sqrt(2)))
    erf(x)        W. J. Cody's rational approximations (Math. Comp. 1969), three ranges of |x|
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["activate", "dense", "erf"]

# onnx's name for each activation that it has with chainrule's definition and no parameters
_NATIVE = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "exp": "Exp"}

# Cody's coefficients (netlib specfun CALERF): erf on |x| <= 0.46875, erfc on (0.46875, 4],
# erfc beyond 4; numerator and denominator, lowest index first as in CALERF.
_ERF_A = (
    3.1611237438705656,
    113.864154151050156,
    377.485237685302021,
    3209.37758913846947,
    0.185777706184603153,
)
_ERF_B = (23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062)
_ERFC_C = (
    0.564188496988670089,
    8.88314979438837594,
    66.1191906371416295,
    298.635138197400131,
    881.95222124176909,
    1712.04761263407058,
    2051.07837782607147,
    1230.33935479799725,
    2.15311535474403846e-8,
)
_ERFC_D = (
    15.7449261107098347,
    117.693950891312499,
    537.181101862009858,
    1621.38957456669019,
    3290.79923573345963,
    4362.61909014324716,
    3439.36767414372164,
    1230.33935480374942,
)
_ERFC_P = (
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4,
    0.0163153871373020978,
)
_ERFC_Q = (
    2.56852019228982242,
    1.87295284992346047,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185,
)


def dense(graph, X: str, W, b, activation) -> str:
    """``f(X @ W + b)`` for a Dense layer's weights ``W`` (n_in, n_out), biases ``b`` (n_out,)
    and :class:`~chainrule.core.activations.Activation` ``f``."""
    Z = graph.node("MatMul", [X, graph.constant(graph.cast(W), "W")])
    Z = graph.node("Add", [Z, graph.constant(graph.cast(b), "b")])
    return activate(graph, Z, activation)


def activate(graph, Z: str, activation) -> str:
    """``activation`` applied to ``Z`` (see the module notes for the formulas)."""
    name, params = activation.name, activation.params
    if name == "identity":
        return Z
    if name in _NATIVE:
        return graph.node(_NATIVE[name], [Z])
    if name == "softmax":
        return graph.node("Softmax", [Z], axis=-1)
    if name == "leaky_relu":
        if _exact_attribute(graph, params["slope"]):
            return graph.node("LeakyRelu", [Z], alpha=params["slope"])
        negative = graph.node("Mul", [Z, graph.scalar(params["slope"])])
        return graph.node("Where", [_positive(graph, Z), Z, negative])
    if name == "elu":
        if graph.dtype == np.float32:
            return graph.node("Elu", [Z], alpha=params["alpha"])
        shrunk = graph.node("Exp", [graph.node("Min", [Z, graph.scalar(0.0)])])
        shrunk = graph.node("Sub", [shrunk, graph.scalar(1.0)])
        negative = graph.node("Mul", [graph.scalar(params["alpha"]), shrunk])
        return graph.node("Where", [_positive(graph, Z), Z, negative])
    if name == "softplus":
        if graph.dtype == np.float32:
            return graph.node("Softplus", [Z])
        tail = graph.node("Exp", [graph.node("Neg", [graph.node("Abs", [Z])])])
        tail = graph.node("Log", [graph.node("Add", [graph.scalar(1.0), tail])])
        return graph.node("Add", [graph.node("Relu", [Z]), tail])
    if name == "gelu":
        if graph.opset >= 20 and graph.dtype == np.float32:
            return graph.node("Gelu", [Z])
        half = graph.node("Mul", [graph.scalar(0.5), Z])
        scaled = graph.node("Div", [Z, graph.scalar(math.sqrt(2.0))])
        return graph.node("Mul", [half, graph.node("Add", [graph.scalar(1.0), erf(graph, scaled)])])
    raise ValueError(f"activation {name!r} has no ONNX export")


def _exact_attribute(graph, value: float) -> bool:
    """Whether a float attribute (always float32 in ONNX) carries ``value`` exactly enough."""
    return graph.dtype == np.float32 or float(np.float32(value)) == value


def _positive(graph, Z: str) -> str:
    return graph.node("Greater", [Z, graph.scalar(0.0)])


def _horner(graph, y: str, coefficients, leading: str) -> str:
    """CALERF's loop: ``t = leading; for c in coefficients: t = (t + c) * y``."""
    for c in coefficients:
        leading = graph.node("Mul", [graph.node("Add", [leading, graph.scalar(c)]), y])
    return leading


def _ratio(graph, y: str, numerator, denominator) -> str:
    """CALERF's rational function of ``y`` for coefficient lists of lengths k+2 and k+1."""
    top = graph.node("Mul", [graph.scalar(numerator[-1]), y])
    top = _horner(graph, y, numerator[:-2], top)
    top = graph.node("Add", [top, graph.scalar(numerator[-2])])
    bottom = _horner(graph, y, denominator[:-1], y)
    bottom = graph.node("Add", [bottom, graph.scalar(denominator[-1])])
    return graph.node("Div", [top, bottom])


def erf(graph, X: str) -> str:
    """``erf(X)`` from elementary nodes (Cody's CALERF, relative error below 6e-19 in exact
    arithmetic); float32 graphs use ONNX's own Erf."""
    if graph.dtype == np.float32:
        return graph.node("Erf", [X])
    y = graph.node("Abs", [X])
    y2 = graph.node("Mul", [y, y])
    small = graph.node("Mul", [X, _ratio(graph, y2, _ERF_A, _ERF_B)])  # erf itself
    middle = _ratio(graph, y, _ERFC_C, _ERFC_D)  # erfc(y) * exp(y^2)
    inverse = graph.node("Reciprocal", [y2])
    large = graph.node("Mul", [inverse, _ratio(graph, inverse, _ERFC_P, _ERFC_Q)])
    large = graph.node("Div", [graph.node("Sub", [graph.scalar(1 / math.sqrt(math.pi)), large]), y])
    tail = graph.node("Where", [graph.node("LessOrEqual", [y, graph.scalar(4.0)]), middle, large])
    # exp(-y^2) as exp(-r^2) exp(-(y - r)(y + r)) with r = y rounded down to 1/16 (CALERF)
    r = graph.node(
        "Div",
        [graph.node("Floor", [graph.node("Mul", [y, graph.scalar(16.0)])]), graph.scalar(16.0)],
    )
    rest = graph.node("Mul", [graph.node("Sub", [y, r]), graph.node("Add", [y, r])])
    decay = graph.node(
        "Mul",
        [
            graph.node("Exp", [graph.node("Neg", [graph.node("Mul", [r, r])])]),
            graph.node("Exp", [graph.node("Neg", [rest])]),
        ],
    )
    complement = graph.node("Mul", [decay, tail])  # erfc(|x|), 0 once exp underflows
    one_minus = graph.node(
        "Add", [graph.node("Sub", [graph.scalar(0.5), complement]), graph.scalar(0.5)]
    )
    signed = graph.node("Mul", [graph.node("Sign", [X]), one_minus])
    return graph.node(
        "Where", [graph.node("LessOrEqual", [y, graph.scalar(0.46875)]), small, signed]
    )
