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
- ``missing_derivative``: an activation derivative left out of the chain;
- ``rate_forgotten``: an update without the learning rate (``w - dE/dw``);
- ``bias_correction``: Adam's bias correction left out (``m`` used for ``mhat``);
- ``momentum_sign``: the velocity's momentum term with the wrong sign (``g - mu v``);
- ``batch_reduction``: a batch gradient or error summed where the spec says mean, or the
  reverse (a factor of n);
- ``factor_two``: a missing 1/2 or an extra factor 2 (or the reverse);
- ``sign``: the right size with the wrong sign (an update moving with the gradient).
"""

from __future__ import annotations

import itertools
import math

__all__ = ["candidates"]

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
    """``quantity`` recomputed with some of its inputs changed (only for this quantity)."""
    return quantity.compute({**values, **changes})


def candidates(trace, symbol: str, values: dict, describe):
    """Every candidate mistake upstream of ``symbol`` (itself included), computed from
    ``values``; ``describe(name)`` gives a quantity's formula in words."""
    upstream = trace.ancestors(symbol) | {symbol}
    names = [s for s in trace.quantities if s in upstream]
    # a sign flipped somewhere upstream can mimic many mistakes (a relu unit taken as active
    # is also "z with the wrong sign"): the named mistakes are tried first
    signs = []
    for name in names:
        for candidate in _mistakes_of(trace, trace[name], values, describe):
            if candidate[0] == "sign":
                signs.append(candidate)
            else:
                yield candidate
    yield from signs


def _mistakes_of(trace, quantity, values, describe):
    name, kind, meta = quantity.symbol, quantity.kind, quantity.meta
    if kind == "path_sum" and len(meta["terms"]) > 1:
        terms = meta["terms"]
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
    if kind == "path_sum" and meta["terms"]:
        terms = meta["terms"]
        if all(w + "+" in values for _, w, _ in terms):
            value = sum(values[d] * values[w + "+"] for d, w, _ in terms)
            weights = ", ".join(w for _, w, _ in terms)
            yield (
                "updated_weight",
                f"{name} uses the updated weights ({weights} after the step) where the old ones "
                "belong: every gradient is computed before any update",
                {name: value},
            )
    if kind == "delta" and "diagonal" in meta:
        g, d = meta["diagonal"]
        yield (
            "softmax_diagonal",
            f"{name} keeps only the diagonal term {g}*{d} of the softmax Jacobian: every output "
            f"of a softmax depends on every net input, so {name} = {describe(name)}",
            {name: values[g] * values[d]},
        )
    if kind == "derivative" and meta.get("activation") in ("sigmoid", "tanh"):
        z = values[quantity.parents[0]]
        at_net = z * (1 - z) if meta["activation"] == "sigmoid" else 1 - z * z
        a, z_name = quantity.parents[1], quantity.parents[0]
        yield (
            "derivative_at_net",
            f"{name} is the derivative formula {describe(name)} evaluated at the net input "
            f"{z_name} instead of the activation {a}",
            {name: at_net},
        )
    if kind == "derivative" and meta.get("activation") in ("relu", "leaky_relu"):
        z_name = quantity.parents[0]
        if values[z_name] <= 0:
            yield (
                "inactive_unit",
                f"{name} takes the unit as active, but {z_name} = {values[z_name]:.6g} <= 0: "
                f"{meta['activation']}'(z) = 1 only for z > 0, so the unit "
                + (
                    "is inactive and passes no gradient back"
                    if meta["activation"] == "relu"
                    else "passes back only the slope"
                ),
                {name: 1.0},
            )
    if kind == "derivative" and values[name] != 1.0:
        yield (
            "missing_derivative",
            f"the activation derivative {name} = {describe(name)} is left out of the chain",
            {name: 1.0},
        )
    if kind == "update":
        yield (
            "rate_forgotten",
            f"{name} leaves out the learning rate: {name} = {describe(name)} with eta = "
            f"{values['eta']:g}",
            {name: _with(quantity, values, eta=1.0)},
        )
        if "mhat" in meta:
            yield (
                "bias_correction",
                f"{name} uses m and v without the bias correction: mhat = m/(1 - beta1^t), "
                "vhat = v/(1 - beta2^t)",
                {
                    name: _with(
                        quantity,
                        values,
                        **{
                            meta["mhat"]: values[meta["mhat"].replace("hat", "", 1)],
                            meta["vhat"]: values[meta["vhat"].replace("hat", "", 1)],
                        },
                    )
                },
            )
    if kind == "corrected":
        yield (
            "bias_correction",
            f"{name} leaves out the bias correction: {name} = {describe(name)}",
            {name: values[meta["moment"]]},
        )
    if kind == "velocity" and "previous" in meta:
        g, previous = meta["gradient"], meta["previous"]
        yield (
            "momentum_sign",
            f"{name} subtracts the momentum term ({g} - mu*{previous}) where it adds it: "
            f"{name} = {describe(name)}",
            {name: values[g] - values["mu"] * values[previous]},
        )
    if kind in ("gradient", "total") and "reduction" in meta:
        n = meta["samples"]
        mean = meta["reduction"] == "mean"
        yield (
            "batch_reduction",
            f"{name} is {'the sum' if mean else 'the mean'} over the {n} samples, but the spec "
            f"says {meta['reduction']} (a factor of {n})",
            {name: values[name] * (n if mean else 1 / n)},
        )
    if kind in ("gradient", "sample_gradient", "total", "sample_total", "error", "output_grad"):
        squared = trace.spec.loss == "squared_error"  # the only loss with a 1/2 to lose
        for factor, words in ((2.0, "twice"), (0.5, "half")):
            if kind in ("total", "sample_total", "error"):
                hint = (
                    ("the 1/2 in E = 1/2 (t - y)^2 is missing" if squared else "an extra factor 2")
                    if factor == 2
                    else "an extra 1/2 crept in"
                )
            else:
                hint = (
                    (
                        "an extra factor 2 (did (t - y)^2 lose its 1/2?)"
                        if squared
                        else "an extra factor 2"
                    )
                    if factor == 2
                    else "a factor 2 is missing"
                )
            yield (
                "factor_two",
                f"{name} is {words} its correct value: {hint}",
                {name: factor * values[name]},
            )
    if kind == "update":
        yield (
            "sign",
            f"{name} moves with the gradient instead of against it (w + eta * dE/dw instead of "
            "w - eta * dE/dw)",
            {name: 2 * values[meta["old"]] - values[name]},
        )
    impossible = kind == "out" and meta.get("activation") in _NONNEGATIVE
    if (
        kind in _COMPUTED_KINDS
        and values[name] != 0
        and math.isfinite(values[name])
        and not (impossible)
    ):
        yield (
            "sign",
            f"{name} has the right size but the wrong sign (check y - t against t - y, and the "
            "minus signs in the chain)",
            {name: -values[name]},
        )
