"""The drawing rules: what a drawn variant must not show, so that the exercise stays what the
teacher meant (``docs/tutorials/teach.md``, "What the drawing avoids").

1. **saturated**: a sigmoid or softmax output within ``saturation`` of 0 or 1, a tanh output
   within ``2*saturation`` of -1 or 1 (the same share of its range), in any pass;
2. **inactive**: a relu, leaky_relu or elu unit with z <= 0 (or z rounding to 0) in any pass,
   unless the template names it in ``inactive``; a unit it names must have z < 0 throughout;
3. **zero**: an asked value that is 0 or smaller in size than ``smaller_than`` (by default
   half a unit of the ``digits``-th decimal: it would be written 0 with ``digits`` decimals);
4. **equal**: two asked values that are the same at ``digits`` significant digits;

and any number that is not finite. Each is switched off or moved by ``[exercise.avoid]``.
"""

from __future__ import annotations

import itertools
import math

from ..explain.trace import Trace
from .template import KINKED, Template

__all__ = ["RULES", "first_problem"]

RULES = {
    "saturated": "a saturated unit",
    "inactive": "a relu unit on the wrong side of 0",
    "zero": "an asked value that rounds to 0",
    "equal": "two asked values alike",
    "overflow": "a number that is not finite",
}
"""Each rule's name, and what breaking it means, for the message when no draw meets them."""


def first_problem(template: Template, trace: Trace) -> tuple[str, str] | None:
    """``(rule, what)`` for the first rule the variant of ``trace`` breaks (a key of
    :data:`RULES`, and the quantity and value that break it), or None when it meets them all."""
    values = trace.values()
    for check in (_overflow, _saturated, _inactive, _zero, _equal):
        problem = check(template, trace, values)
        if problem is not None:
            return problem
    return None


def _overflow(template, trace, values):
    for symbol, value in values.items():
        if not math.isfinite(value):
            return "overflow", f"{symbol} = {value}"
    return None


def _band(activation: str, share: float) -> tuple[float, float] | None:
    """The outputs an activation may show without counting as saturated."""
    if activation in ("sigmoid", "softmax"):
        return share, 1.0 - share
    if activation == "tanh":
        return -1.0 + 2.0 * share, 1.0 - 2.0 * share
    return None


def _saturated(template, trace, values):
    share = template.avoid.saturation
    if share <= 0:
        return None
    for quantity in trace.quantities.values():
        band = _band(quantity.meta.get("activation", ""), share) if quantity.kind == "out" else None
        value = values[quantity.symbol]
        if band and not band[0] <= value <= band[1]:
            activation = quantity.meta["activation"]
            return "saturated", f"{quantity.symbol} = {value:.4g} ({activation})"
    return None


def _inactive(template, trace, values):
    layers = {n.name: layer.activation for layer in trace.spec.layers for n in layer.neurons}
    smallest = template.smallest
    for quantity in trace.quantities.values():
        neuron = quantity.meta.get("neuron")
        if quantity.kind != "net" or layers.get(neuron) not in KINKED:
            continue
        z = values[quantity.symbol]
        if neuron in template.inactive:
            if not (z < 0 and abs(z) >= smallest):
                return "inactive", f"{quantity.symbol} = {z:.4g}, but {neuron} is to be inactive"
        elif template.avoid.inactive and not (z > 0 and abs(z) >= smallest):
            return "inactive", f"{quantity.symbol} = {z:.4g}"
    return None


def _zero(template, trace, values):
    smallest = template.smallest
    for symbol in template.ask:
        if values[symbol] == 0 or abs(values[symbol]) < smallest:
            return "zero", f"{symbol} = {values[symbol]:.3g}"
    return None


def _equal(template, trace, values):
    if not template.avoid.equal:
        return None
    shown = {symbol: f"{values[symbol]:.{template.digits}g}" for symbol in template.ask}
    for first, second in itertools.combinations(template.ask, 2):
        if float(shown[first]) == float(shown[second]):
            return "equal", f"{first} and {second} are both {shown[first]}"
    return None
