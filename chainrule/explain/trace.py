"""The trace of a worked example: every quantity, its formula, its parents and its value.

A :class:`Trace` is a small graph of named quantities in the order a textbook computes them:
given values, the forward pass (net input, activation per neuron), the errors, the backward pass
(each output's error derivative, each activation derivative, each neuron's delta, each hidden
neuron's sum over every path to the outputs, each parameter's chain-rule gradient), the updates,
and the forward pass and error again with the updated parameters (symbols ending in ``+``).

Each quantity computes its value from its parents, so the whole trace can be evaluated again
with some values replaced (:meth:`Trace.evaluate`): that is how claims are checked against the
user's own earlier numbers and how mistakes are recognised. Everything is float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import activations
from .spec import Neuron, Spec

# Formula tokens: ("s", symbol), ("n", number), ("o", operator or text).


def S(symbol: str) -> tuple:
    return ("s", symbol)


def N(value: float) -> tuple:
    return ("n", value)


def O(text: str) -> tuple:  # noqa: E743 - a token constructor, named like its siblings
    return ("o", text)


@dataclass
class Quantity:
    """One named number of the worked example."""

    symbol: str
    section: str  # given, forward, error, backward, update, forward+, error+
    kind: str  # input, target, parameter, rate, net, out, error, total, output_grad,
    #            derivative, delta, path_sum, local, gradient, update, change
    formula: list = field(default_factory=list)  # tokens of the right-hand side
    parents: tuple[str, ...] = ()
    compute: Callable[[dict], float] | None = None
    note: str = ""
    meta: dict = field(default_factory=dict)
    value: float = math.nan


def _activation_value(name: str, z: float) -> float:
    return float(activations.get(name)(np.array([[z]]))[0, 0])


def _activation_derivative(name: str, z: float, a: float) -> float:
    return float(activations.get(name).derivative(np.array([z]), np.array([a]))[0])


_DERIVATIVE_TOKENS = {
    "sigmoid": lambda z, a: [S(a), O("*(1 - "), S(a), O(")")],
    "tanh": lambda z, a: [O("1 - "), S(a), O("^2")],
    "identity": lambda z, a: [N(1.0)],
}


class Trace:
    """The ordered quantities of a worked example (see the module docstring)."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.quantities: dict[str, Quantity] = {}
        self._build()
        values = self.evaluate()
        for symbol, quantity in self.quantities.items():
            quantity.value = values[symbol]

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, overrides: dict[str, float] | None = None) -> dict[str, float]:
        """Every quantity's value, with ``overrides`` replacing the named ones (and everything
        computed from them following)."""
        overrides = overrides or {}
        values: dict[str, float] = {}
        for symbol, quantity in self.quantities.items():
            values[symbol] = overrides[symbol] if symbol in overrides else quantity.compute(values)
        return values

    def ancestors(self, symbol: str) -> set[str]:
        """Every quantity ``symbol`` is computed from, directly or not."""
        seen: set[str] = set()
        stack = list(self.quantities[symbol].parents)
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(self.quantities[parent].parents)
        return seen

    def __getitem__(self, symbol: str) -> Quantity:
        return self.quantities[symbol]

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.quantities

    def values(self) -> dict[str, float]:
        return {symbol: q.value for symbol, q in self.quantities.items()}

    def section(self, name: str) -> list[Quantity]:
        return [q for q in self.quantities.values() if q.section == name]

    # -- construction ---------------------------------------------------------------------------
    def _add(
        self, symbol, section, kind, formula=(), parents=(), compute=None, note="", **meta
    ) -> None:
        if symbol in self.quantities:
            raise ValueError(f"the symbol {symbol!r} names two quantities; rename one")
        self.quantities[symbol] = Quantity(
            symbol, section, kind, list(formula), tuple(parents), compute, note, meta
        )

    def _given(self, symbol, value, kind):
        self._add(symbol, "given", kind, compute=lambda values, v=value: v)

    def _build(self) -> None:
        spec = self.spec
        for neuron in spec.inputs:
            self._given(neuron.out, neuron.value, "input")
        for neuron in spec.outputs:
            self._given(neuron.target, neuron.target_value, "target")
        for parameter in spec.parameters.values():
            self._given(parameter.name, parameter.value, "parameter")
        self._given("eta", spec.learning_rate, "rate")
        self._forward("")
        self._errors("")
        self._backward()
        self._updates()
        self._forward("+")
        self._errors("+")
        self._add(
            "ΔE",
            "error+",
            "change",
            [S("E+"), O("-"), S("E")],
            ("E+", "E"),
            lambda v: v["E+"] - v["E"],
        )

    def _symbol(self, neuron: Neuron, which: str, suffix: str) -> str:
        if neuron.layer == 0:
            return neuron.out
        return (neuron.net if which == "net" else neuron.out) + suffix

    def _parameter(self, name: str, suffix: str) -> str:
        return name + suffix if suffix and self.spec.parameters[name].trained else name

    def _incoming(self, neuron: Neuron):
        """``(parameter, source neuron or None)`` for every weight and bias into ``neuron``."""
        neurons = self.spec.neurons
        for parameter in self.spec.parameters.values():
            for source, target in parameter.uses:
                if target == neuron.name:
                    yield parameter, None if source is None else neurons[source]

    def _outgoing(self, neuron: Neuron):
        """``(parameter, target neuron)`` for every weight leaving ``neuron``."""
        neurons = self.spec.neurons
        for parameter in self.spec.parameters.values():
            for source, target in parameter.uses:
                if source == neuron.name:
                    yield parameter, neurons[target]

    def _forward(self, suffix: str) -> None:
        section = "forward" + suffix
        for layer in self.spec.layers:
            for neuron in layer.neurons:
                weights, biases, tokens, parents = [], [], [], []
                for parameter, source in self._incoming(neuron):
                    p = self._parameter(parameter.name, suffix)
                    if source is None:
                        biases.append(p)
                        tokens += [O("+")] * bool(tokens) + [N(1.0), O("*"), S(p)]
                        parents.append(p)
                    else:
                        x = self._symbol(source, "out", suffix)
                        weights.append((x, p))
                        tokens += [O("+")] * bool(tokens) + [S(x), O("*"), S(p)]
                        parents += [x, p]
                net = self._symbol(neuron, "net", suffix)
                self._add(
                    net,
                    section,
                    "net",
                    tokens or [N(0.0)],
                    parents,
                    lambda v, w=tuple(weights), b=tuple(biases): (
                        sum(v[x] * v[p] for x, p in w) + sum(v[p] for p in b)
                    ),
                    neuron=neuron.name,
                )
                out = self._symbol(neuron, "out", suffix)
                self._add(
                    out,
                    section,
                    "out",
                    [O(f"{layer.activation}("), S(net), O(")")],
                    (net,),
                    lambda v, z=net, f=layer.activation: _activation_value(f, v[z]),
                    neuron=neuron.name,
                    activation=layer.activation,
                )

    def _errors(self, suffix: str) -> None:
        section = "error" + suffix
        K = len(self.spec.outputs)
        total, parents = [], []
        for neuron in self.spec.outputs:
            y, t = self._symbol(neuron, "out", suffix), neuron.target
            symbol = f"E_{neuron.name}{suffix}"
            tokens, compute = _error_formula(self.spec.loss, y, t, K)
            self._add(symbol, section, "error", tokens, (y, t), compute, neuron=neuron.name)
            total += [O("+")] * bool(total) + [S(symbol)]
            parents.append(symbol)
        self._add(
            "E" + suffix,
            section,
            "total",
            total,
            parents,
            lambda v, p=tuple(parents): sum(v[s] for s in p),
        )

    def _backward(self) -> None:
        K = len(self.spec.outputs)
        for layer_index in range(len(self.spec.layers) - 1, -1, -1):
            layer = self.spec.layers[layer_index]
            for neuron in layer.neurons:
                y, z = neuron.out, neuron.net
                grad = f"dE/d{y}"
                if layer_index == len(self.spec.layers) - 1:
                    tokens, compute = _output_gradient(self.spec.loss, y, neuron.target, K)
                    self._add(
                        grad,
                        "backward",
                        "output_grad",
                        tokens,
                        (y, neuron.target),
                        compute,
                        neuron=neuron.name,
                    )
                else:
                    self._path_sum(neuron, grad)
                local = f"d{y}/d{z}"
                tokens = _DERIVATIVE_TOKENS.get(
                    layer.activation,
                    lambda z_, a_, f=layer.activation: [O(f"{f}'("), S(z_), O(")")],
                )(z, y)
                self._add(
                    local,
                    "backward",
                    "derivative",
                    tokens,
                    (z, y),
                    lambda v, z=z, y=y, f=layer.activation: _activation_derivative(f, v[z], v[y]),
                    neuron=neuron.name,
                )
                self._add(
                    f"dE/d{z}",
                    "backward",
                    "delta",
                    [S(grad), O("*"), S(local)],
                    (grad, local),
                    lambda v, g=grad, d=local: v[g] * v[d],
                    neuron=neuron.name,
                )
        for parameter in self.spec.parameters.values():
            self._gradient(parameter)

    def _path_sum(self, neuron: Neuron, symbol: str) -> None:
        """dE/da_h = sum over the next layer's neurons j of dE/dz_j * w_hj: every path."""
        terms = [
            (f"dE/d{target.net}", parameter.name, target.name)
            for parameter, target in self._outgoing(neuron)
        ]
        tokens, parents = [], []
        for delta, weight, _ in terms:
            tokens += [O("+")] * bool(tokens) + [S(delta), O("*"), S(weight)]
            parents += [delta, weight]
        paths = ", ".join(f"via {target} ({weight})" for _, weight, target in terms)
        self._add(
            symbol,
            "backward",
            "path_sum",
            tokens or [N(0.0)],
            parents,
            lambda v, t=tuple(terms): sum(v[d] * v[w] for d, w, _ in t),
            note=f"sum over every path to the outputs: {paths}"
            if terms
            else "no path to the outputs",
            neuron=neuron.name,
            terms=terms,
        )

    def _gradient(self, parameter) -> None:
        """dE/dp = sum over the neurons p feeds of dE/da * da/dz * dz/dp, where dz/dp sums the
        outputs p multiplies into that neuron (a weight shared within one neuron counts each)."""
        neurons = self.spec.neurons
        sources: dict[str, list] = {}
        for source, target_name in parameter.uses:
            sources.setdefault(target_name, []).append(source)
        tokens, parents, chains = [], [], []
        for target_name, feeding in sources.items():
            target = neurons[target_name]
            local = f"d{target.net}/d{parameter.name}"
            inputs = [neurons[s].out for s in feeding if s is not None]
            ones = sum(s is None for s in feeding)
            formula = []
            for x in inputs:
                formula += [O("+")] * bool(formula) + [S(x)]
            if ones or not formula:
                formula += [O("+")] * bool(formula) + [N(float(ones))]
            self._add(
                local,
                "backward",
                "local",
                formula,
                tuple(inputs),
                lambda v, xs=tuple(inputs), c=float(ones): sum(v[x] for x in xs) + c,
                parameter=parameter.name,
            )
            chain = (f"dE/d{target.out}", f"d{target.out}/d{target.net}", local)
            chains.append(chain)
            tokens += [O("+")] * bool(tokens) + [
                S(chain[0]),
                O("*"),
                S(chain[1]),
                O("*"),
                S(chain[2]),
            ]
            parents += list(chain)
        self._add(
            f"dE/d{parameter.name}",
            "backward",
            "gradient",
            tokens,
            parents,
            lambda v, c=tuple(chains): sum(v[a] * v[b] * v[d] for a, b, d in c),
            parameter=parameter.name,
            shared=len(chains) > 1,
        )

    def _updates(self) -> None:
        for parameter in self.spec.parameters.values():
            if not parameter.trained:
                continue
            name, grad = parameter.name, f"dE/d{parameter.name}"
            self._add(
                name + "+",
                "update",
                "update",
                [S(name), O("-"), S("eta"), O("*"), S(grad)],
                (name, "eta", grad),
                lambda v, p=name, g=grad: v[p] - v["eta"] * v[g],
                parameter=name,
            )


def _error_formula(loss: str, y: str, t: str, K: int):
    scale = [] if K == 1 else [O(f"(1/{K})*")]
    if loss == "squared_error":
        return ([O("1/2*("), S(t), O("-"), S(y), O(")^2")], lambda v: 0.5 * (v[t] - v[y]) ** 2)
    if loss == "mse":
        return (scale + [O("("), S(t), O("-"), S(y), O(")^2")], lambda v: (v[t] - v[y]) ** 2 / K)
    if loss == "mae":
        return scale + [O("|"), S(t), O("-"), S(y), O("|")], lambda v: abs(v[t] - v[y]) / K
    return (
        scale
        + [O("-("), S(t), O("*log("), S(y), O(") + (1 - "), S(t), O(")*log(1 - "), S(y), O("))")],
        lambda v: -(v[t] * math.log(v[y]) + (1 - v[t]) * math.log(1 - v[y])) / K,
    )


def _output_gradient(loss: str, y: str, t: str, K: int):
    scale = [] if K == 1 else [O(f"(1/{K})*")]
    if loss == "squared_error":
        return [S(y), O("-"), S(t)], lambda v: v[y] - v[t]
    if loss == "mse":
        return (
            [O(f"({2}/{K})*(") if K > 1 else O("2*("), S(y), O("-"), S(t), O(")")],
            lambda v: 2 * (v[y] - v[t]) / K,
        )
    if loss == "mae":
        return (
            scale + [O("sign("), S(y), O("-"), S(t), O(")")],
            lambda v: math.copysign(1.0, v[y] - v[t]) * (v[y] != v[t]) / K,
        )
    return (
        scale + [O("("), S(y), O("-"), S(t), O(")/("), S(y), O("*(1 - "), S(y), O("))")],
        lambda v: (v[y] - v[t]) / (v[y] * (1 - v[y])) / K,
    )
