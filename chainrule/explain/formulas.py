"""The formulas a worked example writes out: each loss's error and output gradient, each
activation's value and derivative, as display tokens beside the function that computes them.

Tokens: ``("s", symbol)``, ``("n", number)``, ``("o", operator or text)``. Every compute
function reads the values of the symbols it names from a dict, so that a checker can rerun it
on a person's own numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import activations
from ..core.losses import FUSED_OUTPUTS

__all__ = [
    "LOSS_NOTES",
    "N",
    "O",
    "S",
    "activation_derivative",
    "activation_value",
    "derivative_note",
    "derivative_tokens",
    "error_formula",
    "jacobian_entry",
    "joined",
    "one_minus_sigmoid",
    "output_gradient",
    "simplified_delta",
    "softmax_tokens",
    "softmax_value",
]


def S(symbol: str) -> tuple:
    return ("s", symbol)


def N(value: float) -> tuple:
    return ("n", value)


def O(text: str) -> tuple:  # noqa: E743 - a token constructor, named like its siblings
    return ("o", text)


def joined(items: list[list], separator: str = "+") -> list:
    """Token lists joined by an operator: ``a + b + c``."""
    out: list = []
    for item in items:
        out += [O(separator)] * bool(out) + item
    return out


# -- activations -----------------------------------------------------------------------------


def activation_value(name: str, params: dict, z: float) -> float:
    return float(activations.get({"name": name, **params})(np.array([[z]]))[0, 0])


def one_minus_sigmoid(a: float, z: float) -> float:
    """``1 - a`` for ``a = sigmoid(z)``; where ``a`` has rounded to exactly 1 (z above about
    36.7 in float64), ``sigmoid(-z)``, which keeps the digits ``1 - a`` lost (the registry's
    sigmoid, stable for any z)."""
    return 1.0 - a if a != 1.0 else activation_value("sigmoid", {}, -z)


def activation_derivative(name: str, params: dict, z: float, a: float) -> float:
    if name == "sigmoid" and a == 1.0:  # a*(1 - a) with the 1 - a that rounding lost
        return one_minus_sigmoid(a, z)
    function = activations.get({"name": name, **params})
    return float(function.derivative(np.array([z]), np.array([a]))[0])


def derivative_tokens(name: str, params: dict, z: str, a: str) -> list:
    """``da/dz`` in symbols: ``a*(1 - a)`` for sigmoid, ``1 - a^2`` for tanh, ..."""
    if name == "sigmoid":
        return [S(a), O("*(1 - "), S(a), O(")")]
    if name == "tanh":
        return [O("1 - "), S(a), O("^2")]
    if name == "identity":
        return [N(1.0)]
    return [O(f"{name}'("), S(z), O(")")]


def derivative_note(name: str, params: dict, z_value: float) -> str:
    """The convention a derivative follows, where one applies."""
    if name == "relu":
        note = "relu'(z) = 1 for z > 0, else 0 (relu'(0) = 0, as in PyTorch)"
        return note + ("; an inactive unit passes no gradient back" if z_value <= 0 else "")
    if name == "leaky_relu":
        slope = params.get("slope", 0.01)
        return f"leaky_relu'(z) = 1 for z > 0, else the slope {slope:g} (also at z = 0)"
    if name == "elu":
        alpha = params.get("alpha", 1.0)
        return f"elu'(z) = 1 for z > 0, else elu(z) + {alpha:g} (also at z = 0)"
    if name == "sigmoid" and z_value > 36.7 and activation_value(name, params, z_value) == 1.0:
        return (
            f"a rounds to 1 in float64: 1 - a is taken as sigmoid(-z) = 1/(1 + exp(z)) = "
            f"{one_minus_sigmoid(1.0, z_value):.9g}"
        )
    if name == "softplus":
        return "softplus'(z) = sigmoid(z)"
    if name == "gelu":
        return "gelu'(z) = Phi(z) + z phi(z), the exact (erf) form, as in PyTorch"
    return ""


def softmax_tokens(z: str, layer_nets: list[str]) -> list:
    """``exp(z3)/(exp(z3) + exp(z4))``."""
    return (
        [O("exp("), S(z), O(")/(")]
        + joined([[O("exp("), S(other), O(")")] for other in layer_nets])
        + [O(")")]
    )


def softmax_value(z: str, layer_nets: tuple[str, ...]):
    def compute(v):
        shift = max(v[other] for other in layer_nets)
        return math.exp(v[z] - shift) / sum(math.exp(v[other] - shift) for other in layer_nets)

    return compute


def jacobian_entry(y_i: str, y_j: str):
    """``dy_i/dz_j = y_i (delta_ij - y_j)``: tokens and compute."""
    if y_i == y_j:
        return [S(y_i), O("*(1 - "), S(y_i), O(")")], lambda v: v[y_i] * (1.0 - v[y_i])
    return [O("-"), S(y_i), O("*"), S(y_j)], lambda v: -v[y_i] * v[y_j]


# -- losses ----------------------------------------------------------------------------------

LOSS_NOTES = {
    "mse": "mse: E = mean over the outputs of (t - y)^2",
    "mae": "mae: E = mean over the outputs of |t - y|",
    "huber": "huber: E = mean over the outputs of h(y - t), h(r) = r^2/2 for |r| <= delta, "
    "else delta*(|r| - delta/2) (as torch.nn.HuberLoss)",
    "binary_cross_entropy": "binary cross-entropy: E = the mean over the outputs of "
    "-(t log y + (1 - t) log(1 - y)) (as PyTorch and Keras)",
    "cross_entropy": "cross-entropy: E = -sum over classes t log y (targets sum to 1)",
}


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(x - top) for x in values))


def error_formula(loss: str, y: str, t: str, K: int, delta: float, z: str, nets: tuple):
    """One output's share of a sample's error: tokens and compute. Where the output has
    rounded to exactly 0 or 1, the cross-entropies are computed from the net inputs (``z`` and
    the layer's ``nets``), as the engine computes them, so that no log of 0 appears."""
    scale = [] if K == 1 else [O(f"(1/{K})*")]
    if loss == "squared_error":
        return [O("1/2*("), S(t), O("-"), S(y), O(")^2")], lambda v: 0.5 * (v[t] - v[y]) ** 2
    if loss == "mse":
        return scale + [O("("), S(t), O("-"), S(y), O(")^2")], lambda v: (v[t] - v[y]) ** 2 / K
    if loss == "mae":
        return scale + [O("|"), S(t), O("-"), S(y), O("|")], lambda v: abs(v[t] - v[y]) / K
    if loss == "huber":

        def huber(v):
            r = abs(v[y] - v[t])
            return (0.5 * r * r if r <= delta else delta * (r - 0.5 * delta)) / K

        return scale + [O(f"huber_{delta:g}("), S(y), O("-"), S(t), O(")")], huber
    if loss == "cross_entropy":

        def cross_entropy(v):
            if not v[t]:
                return 0.0
            if v[y] > 0:
                return -v[t] * math.log(v[y])
            return -v[t] * (v[z] - _logsumexp([v[n] for n in nets]))

        return [O("-"), S(t), O("*log("), S(y), O(")")], cross_entropy

    def bce(v):
        if not 0 < v[y] < 1:  # softplus(z) - t z, the engine's form
            return (max(v[z], 0.0) + math.log1p(math.exp(-abs(v[z]))) - v[t] * v[z]) / K
        first = v[t] * _log(v[y]) if v[t] else 0.0
        second = (1 - v[t]) * _log(1 - v[y]) if v[t] != 1 else 0.0
        return -(first + second) / K

    mean = O("-(") if K == 1 else O(f"-(1/{K})*(")  # the mean over the K outputs
    return (
        [mean, S(t), O("*log("), S(y), O(") + (1 - "), S(t), O(")*log(1 - "), S(y), O("))")],
        bce,
    )


def output_gradient(loss: str, y: str, t: str, K: int, delta: float, z: str, activation: str):
    """``dE/dy`` of one output of a sample: tokens and compute. For binary cross-entropy over
    a sigmoid output rounded to exactly 1, ``1 - y`` comes from the net input ``z`` (see
    :func:`one_minus_sigmoid`), so that ``dE/dy`` and ``dy/dz`` stay finite and their product
    is the engine's ``y - t``."""
    scale = [] if K == 1 else [O(f"(1/{K})*")]
    if loss == "squared_error":
        return [S(y), O("-"), S(t)], lambda v: v[y] - v[t]
    if loss == "mse":
        return (
            [O(f"(2/{K})*(") if K > 1 else O("2*("), S(y), O("-"), S(t), O(")")],
            lambda v: 2 * (v[y] - v[t]) / K,
        )
    if loss == "mae":
        return (
            scale + [O("sign("), S(y), O("-"), S(t), O(")")],
            lambda v: math.copysign(1.0, v[y] - v[t]) * (v[y] != v[t]) / K,
        )
    if loss == "huber":
        return (
            scale + [O("clip("), S(y), O("-"), S(t), O(f", -{delta:g}, {delta:g})")],
            lambda v: min(max(v[y] - v[t], -delta), delta) / K,
        )
    if loss == "cross_entropy":
        return [O("-"), S(t), O("/"), S(y)], lambda v: -v[t] / v[y] if v[t] else 0.0

    def bce_gradient(v):
        if activation != "sigmoid" or v[y] != 1.0:
            return (v[y] - v[t]) / (v[y] * (1 - v[y])) / K
        complement = one_minus_sigmoid(v[y], v[z])  # y - t = (1 - t) - (1 - y)
        return ((1 - v[t]) - complement) / (v[y] * complement) / K

    return (
        scale + [O("("), S(y), O("-"), S(t), O(")/("), S(y), O("*(1 - "), S(y), O("))")],
        bce_gradient,
    )


def simplified_delta(loss: str, activation: str, y: str, t: str, K: int):
    """The textbook shortcut for the output delta, where the loss pairs with the activation:
    ``dE/dz = y - t`` (softmax with cross-entropy; sigmoid with binary cross-entropy, over K
    outputs ``(y - t)/K``): tokens, a note and the compute. ``None`` elsewhere."""
    if loss not in FUSED_OUTPUTS or activation != FUSED_OUTPUTS[loss]:
        return None
    if loss == "cross_entropy":
        return (
            [S(y), O("-"), S(t)],
            "softmax with cross-entropy: the Jacobian sum simplifies",
            lambda v: v[y] - v[t],
        )
    scale = [] if K == 1 else [O(f"(1/{K})*(")]
    tokens = scale + [S(y), O("-"), S(t)] + ([O(")")] if K > 1 else [])
    return (
        tokens,
        "sigmoid with binary cross-entropy: y*(1 - y) cancels",
        lambda v: (v[y] - v[t]) / K,
    )
