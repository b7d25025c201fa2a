"""The mistakes a marker looks for, as candidate changes to the trace.

Each candidate is ``(kind, description, overrides)``: replacing the quantities in
``overrides`` and recomputing everything downstream gives the numbers a person who made that
mistake would get. :mod:`~chainrule.explain.check` tries them in the order given here:

- ``dropped_path``: a hidden-layer sum that leaves out one or more paths to the outputs;
- ``updated_weight``: an updated weight (``w+``) used where the old one belongs;
- ``softmax_diagonal``: a softmax delta that keeps only the Jacobian's diagonal term;
- ``derivative_at_net``: an activation derivative evaluated at the net input, ``z(1 - z)``
  instead of ``a(1 - a)``;
- ``inactive_unit``: relu'(z) (or leaky_relu's) taken as 1 where z <= 0;
- ``relu_for_leaky``: leaky_relu'(z) taken as relu's 0 where z <= 0 (it is the slope);
- ``missing_derivative``: an activation derivative left out of the chain;
- ``rate_forgotten``: an update without the learning rate (``w - dE/dw``);
- ``bias_correction``: Adam's bias correction left out (``m`` used for ``mhat``);
- ``momentum_sign``: the velocity's momentum term with the wrong sign (``g - mu v``);
- ``momentum_convention``: a velocity in the classic convention (``v = mu v - g`` or
  ``mu v - eta g``) where the spec's is torch's ``mu v + g``
  (:mod:`~chainrule.explain.conventions`);
- ``nesterov_convention``: Nesterov momentum in Keras's convention, by the look-ahead form of
  Sutskever et al., or as plain momentum's update ``w - eta v``;
- ``frozen_updated``: a fixed parameter (the spec's ``fixed`` or ``trained``) updated as if it
  trained (``b1+ = b1 - eta dE/db1``, or the optimizer's step at every step) where it keeps
  its value;
- ``batch_reduction``: a batch gradient or error summed where the spec says mean, or the
  reverse (a factor of n);
- ``huber_branch``: huber's error or its derivative by the other branch: the quadratic
  ``r^2/2`` where ``|r| = |y - t| > delta``, or the linear ``delta (|r| - delta/2)`` inside;
- ``factor_two``: a missing 1/2 or an extra factor 2 (or the reverse);
- ``sign``: the right size with the wrong sign (an update moving with the gradient).
"""

from __future__ import annotations

import itertools
import math

from .conventions import momentum_conventions, nesterov_conventions
from .optimizer import replayed_step

__all__ = ["FAMILIES", "candidates"]

FAMILIES = {
    "inherited": "inherited",
    "dropped_path": "dropped path",
    "updated_weight": "updated weight",
    "softmax_diagonal": "softmax diagonal",
    "derivative_at_net": "derivative at the net input",
    "inactive_unit": "inactive unit",
    "relu_for_leaky": "leaky ReLU taken as ReLU",
    "missing_derivative": "missing derivative",
    "rate_forgotten": "learning rate forgotten",
    "bias_correction": "bias correction",
    "momentum_sign": "momentum sign",
    "momentum_convention": "momentum convention",
    "nesterov_convention": "Nesterov convention",
    "frozen_updated": "fixed parameter updated",
    "batch_reduction": "batch reduction",
    "huber_branch": "huber branch",
    "factor_two": "factor two",
    "sign": "sign",
    "given": "given",
    "arithmetic": "arithmetic",
}
"""Every kind of mistake ``check`` names, with its name in docs/spec-format.md's "How claims
are judged": the families of this module, and check's own ``inherited``, ``given`` and
``arithmetic``."""

_COMPUTED_KINDS = {
    "net",
    "out",
    "error",
    "sample_total",
    "total",
    "output_grad",
    "derivative",
    "jacobian",
    "delta",
    "path_sum",
    "local",
    "sample_gradient",
    "gradient",
    "velocity",
    "moment",
    "corrected",
    "step_gradient",
}
# activations whose output is never negative: such an output "with the wrong sign" is no
# mistake a person makes (it would only relabel a sign error further down the chain)
_NONNEGATIVE = {"sigmoid", "softmax", "relu", "softplus", "exp"}


def _with(quantity, values: dict, **changes) -> float:
    """``quantity`` recomputed with some of its inputs changed (only for this quantity); NaN
    where that leaves its formula's domain (the square root of a person's negative moment), as
    :meth:`Trace.evaluate` does."""
    try:
        return quantity.compute({**values, **changes})
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan


def candidates(trace, symbol: str, values: dict, describe):
    """Every candidate mistake upstream of ``symbol`` (itself included), computed from
    ``values``; ``describe(name)`` gives a quantity's formula in words."""
    upstream = trace.ancestors(symbol) | {symbol}
    names = [s for s in trace.quantities if s in upstream]
    # a sign flipped somewhere upstream can mimic many mistakes (a relu unit taken as active
    # is also "z with the wrong sign"): the named mistakes are tried first, and an update
    # moving with the gradient is one of them (its own mistake, before a flip upstream of it)
    signs = []
    for name in names:
        for candidate in _mistakes_of(trace, trace[name], values, describe):
            if candidate[0] == "sign" and trace[name].kind != "update":
                signs.append(candidate)
            else:
                yield candidate
    yield from signs


def _mistakes_of(trace, quantity, values, describe):
    """The candidate mistakes in ``quantity`` itself: those of each family in
    :data:`_FAMILIES` that applies to its kind, in the table's order."""
    for kinds, family in _FAMILIES:
        if quantity.kind in kinds:
            yield from family(trace, quantity, values, describe)


def _dropped_paths(trace, quantity, values, describe):
    """A hidden-layer path sum over every proper, non-empty subset of its paths."""
    name, terms = quantity.symbol, quantity.meta["terms"]
    for size in range(1, len(terms)):
        for kept in itertools.combinations(terms, size):
            dropped = [t for t in terms if t not in kept]
            value = sum(values[d] * values[w] for d, w, _ in kept)
            left_out = ", ".join(f"via {target} ({w})" for _, w, target in dropped)
            yield (
                "dropped_path",
                f"{name} leaves out the path(s) {left_out}: a hidden neuron feeds every "
                f"output, so {name} = {describe(name)} sums over every path",
                {name: value},
            )


def _updated_weights(trace, quantity, values, describe):
    """A path sum through the weights after the step (``w+``) instead of before it."""
    name, terms = quantity.symbol, quantity.meta["terms"]
    if not terms or any(w + "+" not in values for _, w, _ in terms):
        return
    value = sum(values[d] * values[w + "+"] for d, w, _ in terms)
    weights = ", ".join(w for _, w, _ in terms)
    yield (
        "updated_weight",
        f"{name} uses the updated weights ({weights} after the step) where the old ones "
        "belong: every gradient is computed before any update",
        {name: value},
    )


def _softmax_diagonal(trace, quantity, values, describe):
    """A softmax delta with only the diagonal term ``g * d`` of the Jacobian."""
    name, meta = quantity.symbol, quantity.meta
    if "diagonal" not in meta:
        return
    g, d = meta["diagonal"]
    yield (
        "softmax_diagonal",
        f"{name} keeps only the diagonal term {g}*{d} of the softmax Jacobian: every output "
        f"of a softmax depends on every net input, so {name} = {describe(name)}",
        {name: values[g] * values[d]},
    )


def _derivative_at_net(trace, quantity, values, describe):
    """sigmoid' as ``z(1 - z)`` or tanh' as ``1 - z^2``: the formula at the net input."""
    name, activation = quantity.symbol, quantity.meta.get("activation")
    if activation not in ("sigmoid", "tanh"):
        return
    z_name, a = quantity.parents[0], quantity.parents[1]
    z = values[z_name]
    yield (
        "derivative_at_net",
        f"{name} is the derivative formula {describe(name)} evaluated at the net input "
        f"{z_name} instead of the activation {a}",
        {name: z * (1 - z) if activation == "sigmoid" else 1 - z * z},
    )


def _inactive_unit(trace, quantity, values, describe):
    """relu'(z) (or leaky_relu's) taken as 1 where ``z <= 0``."""
    name, activation = quantity.symbol, quantity.meta.get("activation")
    if activation not in ("relu", "leaky_relu"):
        return
    z_name = quantity.parents[0]
    if values[z_name] <= 0:
        passes = (
            "is inactive and passes no gradient back"
            if activation == "relu"
            else "passes back only the slope"
        )
        yield (
            "inactive_unit",
            f"{name} takes the unit as active, but {z_name} = {values[z_name]:.6g} <= 0: "
            f"{activation}'(z) = 1 only for z > 0, so the unit {passes}",
            {name: 1.0},
        )


def _relu_for_leaky(trace, quantity, values, describe):
    """leaky_relu'(z) taken as relu's 0 where ``z <= 0``, where it is the slope."""
    name, activation = quantity.symbol, quantity.meta.get("activation")
    if activation != "leaky_relu":
        return
    z_name = quantity.parents[0]
    slope = _with(quantity, values)  # leaky_relu'(z) at the z of values: the slope, for z <= 0
    if values[z_name] <= 0 and slope:
        yield (
            "relu_for_leaky",
            f"{name} takes leaky_relu'({z_name}) as relu's 0 for {z_name} = "
            f"{values[z_name]:.6g} <= 0: a leaky ReLU unit is never switched off, it passes "
            f"back the slope {slope:g} there (leaky_relu'(z) = 1 for z > 0, else the slope)",
            {name: 0.0},
        )


def _missing_derivative(trace, quantity, values, describe):
    """An activation derivative left out of the chain (taken as 1)."""
    name = quantity.symbol
    if values[name] == 1.0:
        return
    yield (
        "missing_derivative",
        f"the activation derivative {name} = {describe(name)} is left out of the chain",
        {name: 1.0},
    )


def _rate_forgotten(trace, quantity, values, describe):
    """An update without the learning rate: ``w - dE/dw`` (eta taken as 1)."""
    name = quantity.symbol
    yield (
        "rate_forgotten",
        f"{name} leaves out the learning rate: {name} = {describe(name)} with eta = "
        f"{values['eta']:g}",
        {name: _with(quantity, values, eta=1.0)},
    )


def _uncorrected_update(trace, quantity, values, describe):
    """An Adam update with ``m`` and ``v`` where ``mhat`` and ``vhat`` belong."""
    name, meta = quantity.symbol, quantity.meta
    if "mhat" not in meta:
        return
    # the moments behind mhat and vhat are named m and v
    raw = {meta[k]: values[meta[k].replace("hat", "", 1)] for k in ("mhat", "vhat")}
    yield (
        "bias_correction",
        f"{name} uses m and v without the bias correction: mhat = m/(1 - beta1^t), "
        "vhat = v/(1 - beta2^t)",
        {name: _with(quantity, values, **raw)},
    )


def _uncorrected_moment(trace, quantity, values, describe):
    """A bias-corrected moment (``mhat``, ``vhat``) equal to its raw moment."""
    name = quantity.symbol
    yield (
        "bias_correction",
        f"{name} leaves out the bias correction: {name} = {describe(name)}",
        {name: values[quantity.meta["moment"]]},
    )


def _momentum_sign(trace, quantity, values, describe):
    """A velocity with the momentum term subtracted: ``g - mu v``."""
    name, meta = quantity.symbol, quantity.meta
    if "previous" not in meta:
        return
    g, previous = meta["gradient"], meta["previous"]
    yield (
        "momentum_sign",
        f"{name} subtracts the momentum term ({g} - mu*{previous}) where it adds it: "
        f"{name} = {describe(name)}",
        {name: values[g] - values["mu"] * values[previous]},
    )


# the update a person applied to a fixed parameter, per optimizer, in words
_FROZEN_RULES = {
    "sgd": "{p} - eta*dE/d{p}",
    "momentum": "{p} - eta*v (the velocity v = mu*v + dE/d{p})",
    "nesterov": "{p} - eta*(dE/d{p} + mu*v) (the velocity v = mu*v + dE/d{p})",
    "adam": "{p} - eta*mhat/(sqrt(vhat) + eps) (Adam's moments of dE/d{p})",
}


def _frozen_updated(trace, quantity, values, describe):
    """A fixed parameter p updated as if it trained: from its given value, the optimizer's
    step at each step 1..k, with p's gradient at step j taken at the parameters before it
    (p itself replaced by its updated value)."""
    name, meta = quantity.symbol, quantity.meta
    parameter, optimizer = meta["parameter"], trace.spec.optimizer.name
    value, gradients, replayed = values[parameter], [], {}
    try:
        for before, gradient in meta["history"]:
            if gradients:  # the value before this step: the replay's, not the fixed one
                replayed[before] = value
            gradients.append(gradient({**values, before: value}))
            value -= replayed_step(optimizer, values, gradients)
    except (ValueError, ZeroDivisionError, OverflowError):
        return  # a person's own numbers outside a formula's domain
    every = f" at each of the {meta['step']} steps" if meta["step"] > 1 else ""
    yield (
        "frozen_updated",
        f"{parameter} is fixed (it does not train): {name} = {parameter}; you applied the "
        f"update {_FROZEN_RULES[optimizer].format(p=parameter)}{every}",
        {**replayed, name: value},
    )


def _batch_reduction(trace, quantity, values, describe):
    """A batch gradient or error summed where the spec says mean, or the reverse."""
    name, meta = quantity.symbol, quantity.meta
    if "reduction" not in meta:
        return
    n = meta["samples"]
    mean = meta["reduction"] == "mean"
    yield (
        "batch_reduction",
        f"{name} is {'the sum' if mean else 'the mean'} over the {n} samples, but the spec "
        f"says {meta['reduction']} (a factor of {n})",
        {name: values[name] * (n if mean else 1 / n)},
    )


# huber's two branches, h(r) and h'(r) for r = y - t, in words
_HUBER_BRANCHES = {
    "quadratic": "quadratic branch r^2/2 (derivative r)",
    "linear": "linear branch delta*(|r| - delta/2) (derivative delta*sign(r))",
}


def _huber_branch(trace, quantity, values, describe):
    """An output's huber error or ``dE/dy`` by the other branch, for ``r = y - t`` over K
    outputs: ``r^2/(2K)`` (``r/K``) where ``|r| > delta``, or ``delta (|r| - delta/2)/K``
    (``delta sign(r)/K``) where ``|r| <= delta``."""
    spec = trace.spec
    if spec.loss != "huber":
        return
    name, (y, t) = quantity.symbol, quantity.parents[:2]
    r, delta = values[y] - values[t], spec.huber_delta
    inside = abs(r) <= delta
    if quantity.kind == "error":
        value = delta * (abs(r) - delta / 2) if inside else r * r / 2
    else:
        value = math.copysign(delta, r) * (r != 0) if inside else r
    used, asked = ("linear", "quadratic") if inside else ("quadratic", "linear")
    yield (
        "huber_branch",
        f"{name} takes huber's {_HUBER_BRANCHES[used]}, but |r| = |{y} - {t}| = {abs(r):.6g} "
        f"is {'at most' if inside else 'above'} delta = {delta:g}, where huber takes its "
        f"{_HUBER_BRANCHES[asked]}",
        {name: value / len(spec.outputs)},
    )


_ERROR_KINDS = ("total", "sample_total", "error")


def _factor_two_hint(kind: str, factor: float, squared: bool) -> str:
    """Where a factor of ``factor`` (2 or 1/2) in a quantity of ``kind`` most likely came from
    (only the squared error has a 1/2 to lose)."""
    if factor != 2:
        return "an extra 1/2 crept in" if kind in _ERROR_KINDS else "a factor 2 is missing"
    if not squared:
        return "an extra factor 2"
    if kind in _ERROR_KINDS:
        return "the 1/2 in E = 1/2 (t - y)^2 is missing"
    return "an extra factor 2 (did (t - y)^2 lose its 1/2?)"


def _factor_two(trace, quantity, values, describe):
    """An error or gradient twice or half its value."""
    name, kind = quantity.symbol, quantity.kind
    squared = trace.spec.loss == "squared_error"
    for factor, words in ((2.0, "twice"), (0.5, "half")):
        yield (
            "factor_two",
            f"{name} is {words} its correct value: {_factor_two_hint(kind, factor, squared)}",
            {name: factor * values[name]},
        )


def _update_sign(trace, quantity, values, describe):
    """An update moving with the gradient: ``w + eta dE/dw``."""
    name = quantity.symbol
    yield (
        "sign",
        f"{name} moves with the gradient instead of against it (w + eta * dE/dw instead of "
        "w - eta * dE/dw)",
        {name: 2 * values[quantity.meta["old"]] - values[name]},
    )


def _wrong_sign(trace, quantity, values, describe):
    """A computed quantity with the right size and the wrong sign (not an output that is
    never negative)."""
    name = quantity.symbol
    impossible = quantity.kind == "out" and quantity.meta.get("activation") in _NONNEGATIVE
    if not impossible and values[name] != 0 and math.isfinite(values[name]):
        yield (
            "sign",
            f"{name} has the right size but the wrong sign (check y - t against t - y, and the "
            "minus signs in the chain)",
            {name: -values[name]},
        )


# the mistake families, in the order check tries them (that of the module docstring): the kinds
# of quantity each applies to, and (trace, quantity, values, describe) -> its candidates there
_FAMILIES = (
    (("path_sum",), _dropped_paths),
    (("path_sum",), _updated_weights),
    (("delta",), _softmax_diagonal),
    (("derivative",), _derivative_at_net),
    (("derivative",), _inactive_unit),
    (("derivative",), _relu_for_leaky),
    (("derivative",), _missing_derivative),
    (("update",), _rate_forgotten),
    (("update",), _uncorrected_update),
    (("corrected",), _uncorrected_moment),
    (("velocity",), _momentum_sign),
    (("velocity",), momentum_conventions),
    (("velocity", "update"), nesterov_conventions),
    (("frozen",), _frozen_updated),
    (("gradient", "total"), _batch_reduction),
    (("error", "output_grad"), _huber_branch),
    (("gradient", "sample_gradient", *_ERROR_KINDS, "output_grad"), _factor_two),
    (("update",), _update_sign),
    (_COMPUTED_KINDS, _wrong_sign),
)
