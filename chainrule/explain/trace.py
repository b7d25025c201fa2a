"""The trace of a worked example: every named number of one step of backpropagation, in order,
with the formula that gives it and the quantities it is computed from.

Sections: ``given`` (inputs, targets, parameters, rates), ``forward``, ``error``, ``backward``,
``update``, ``forward+`` and ``error+`` (the pass with the updated parameters), and ``steps``
(further optimizer steps). Each quantity's ``compute`` reads its parents' values, so
:meth:`Trace.evaluate` reruns the whole example from any replaced numbers: the checker uses
that to follow a person's own earlier numbers and to try candidate mistakes.

In a batch (a spec with several samples) every per-sample quantity carries the sample's
number, ``z1[2]``, ``dE/dw1[2]`` (the gradient of sample 2's error ``E[2]``), and
``E`` and each ``dE/dw`` combine the samples by the spec's ``reduction`` (mean or sum).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import formulas, rounding
from .formulas import N, O, S, joined
from .optimizer import add_updates
from .spec import Neuron, Spec

__all__ = ["N", "O", "Quantity", "S", "Trace"]

KINKED = ("relu", "leaky_relu", "elu")
"""Activations whose derivative jumps at z = 0."""


@dataclass
class Quantity:
    """One named number of the worked example."""

    symbol: str
    section: str  # given, forward, error, backward, update, forward+, error+, steps
    kind: str  # input, target, parameter, rate, net, out, error, total, output_grad,
    #            derivative, delta, path_sum, local, sample_gradient, gradient, update, change,
    #            state (optimizer buffers), step_gradient, frozen (a fixed parameter's p+)
    formula: list = field(default_factory=list)  # tokens of the right-hand side
    parents: tuple[str, ...] = ()
    compute: Callable[[dict], float] | None = None
    note: str = ""
    meta: dict = field(default_factory=dict)
    value: float = math.nan
    simplified: list = field(default_factory=list)  # a textbook shortcut giving the same value


class Trace:
    """The ordered quantities of a worked example (see the module docstring)."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.quantities: dict[str, Quantity] = {}
        self._build()
        values = self.evaluate()
        for symbol, quantity in self.quantities.items():
            quantity.value = values[symbol]
        for quantity in self.quantities.values():
            if quantity.kind == "derivative" and not quantity.note:
                layer = self.spec.layers[self.spec.neurons[quantity.meta["neuron"]].layer - 1]
                z = values[quantity.parents[0]]
                quantity.note = formulas.derivative_note(layer.activation, layer.params, z)
                if layer.activation in KINKED:
                    quantity.note += self._kink_note(quantity.parents[0], layer.activation)
            elif quantity.kind == "update" and "mhat" in quantity.meta:
                quantity.note = self._adam_noise_note(quantity)

    def _kink_note(self, z: str, activation: str) -> str:
        """Where a net input shown as 0 (zero within rounding) is not 0 in float64, its sign
        still decides a derivative that jumps at 0: say so, since ``f'(0)`` then reads wrong."""
        value = self[z].value
        # |z| < 1e-6 first: measuring the rounding reruns the example, and noise is far smaller
        if value == 0 or abs(value) >= 1e-6 or abs(value) > self.rounding_tolerances[z]:
            return ""
        side = "positive" if value > 0 else "negative"
        return (
            f"; {z} is 0 within rounding but {value:.9g} in float64, and {activation}' takes "
            f"it as {side}, as the engine and PyTorch compute it"
        )

    def _adam_noise_note(self, update: Quantity) -> str:
        """Where Adam's mhat is 0 within rounding but not 0 in float64 (a gradient that is 0 for
        any givens), Adam divides that noise by its own size and still moves the parameter by
        up to eta: say so, since ``w - eta*0/(sqrt(0) + eps)`` then reads wrong."""
        mhat = update.meta["mhat"]
        value = self[mhat].value
        # |mhat| < 1e-6 first: measuring the rounding reruns the example
        if value == 0 or abs(value) >= 1e-6 or abs(value) > self.rounding_tolerances[mhat]:
            return ""
        step = update.value - self[update.meta["old"]].value
        return (
            f"{mhat} is 0 within rounding but {value:.9g} in float64, and Adam divides it by "
            f"its own size: this float noise moves the parameter by {step:.3g}"
        )

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, overrides: dict[str, float] | None = None) -> dict[str, float]:
        """Every quantity's value, with ``overrides`` replacing the named ones (and everything
        computed from them following)."""
        overrides = overrides or {}
        values: dict[str, float] = {}
        for symbol, quantity in self.quantities.items():
            if symbol in overrides:
                values[symbol] = overrides[symbol]
                continue
            try:
                with np.errstate(all="ignore"):  # a person's 1e300 gives inf, not a warning
                    values[symbol] = quantity.compute(values)
            except (ValueError, ZeroDivisionError, OverflowError):
                # a person's numbers (or a candidate mistake) outside a formula's domain,
                # such as the log of a negative output: nothing follows from them
                values[symbol] = math.nan
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

    @cached_property
    def rounding_tolerances(self) -> dict[str, float]:
        """Per quantity, the largest value that is zero within rounding (see
        :mod:`~chainrule.explain.rounding`)."""
        return rounding.rounding_tolerances(self)

    def shown_values(self) -> dict[str, float]:
        """The values as shown: a cancellation's rounding noise (``5.55e-17`` from
        ``0.1*3 - 0.3``) is 0 (see :mod:`~chainrule.explain.rounding`)."""
        return rounding.shown_values(self)

    def section(self, name: str) -> list[Quantity]:
        return [q for q in self.quantities.values() if q.section == name]

    @property
    def batch(self) -> bool:
        return self.spec.n_samples > 1

    def tag(self, symbol: str, sample: int) -> str:
        """``symbol`` for one sample: itself with one sample, ``z1[2]`` in a batch."""
        return f"{symbol}[{sample}]" if self.batch else symbol

    # -- construction ---------------------------------------------------------------------------
    def add(
        self, symbol, section, kind, formula=(), parents=(), compute=None, note="", **meta
    ) -> None:
        if symbol in self.quantities:
            raise ValueError(f"the symbol {symbol!r} names two quantities; rename one")
        self.quantities[symbol] = Quantity(
            symbol, section, kind, list(formula), tuple(parents), compute, note, meta
        )

    def given(self, symbol, value, kind):
        self.add(symbol, "given", kind, compute=lambda values, v=value: v)

    def _build(self) -> None:
        spec = self.spec
        samples = range(1, spec.n_samples + 1)
        for s in samples:
            for neuron in spec.inputs:
                self.given(self.tag(neuron.out, s), neuron.values[s - 1], "input")
            for neuron in spec.outputs:
                self.given(self.tag(neuron.target, s), neuron.target_values[s - 1], "target")
        for parameter in spec.parameters.values():
            self.given(parameter.name, parameter.value, "parameter")
        self.given("eta", spec.learning_rate, "rate")
        for s in samples:
            self._forward("", s)
        self._errors("")
        for s in samples:
            self._backward(s)
        for parameter in spec.parameters.values():
            self._gradient(parameter)
        add_updates(self)
        for s in samples:
            self._forward("+", s)
        self._errors("+")
        self.add(
            "ΔE",
            "error+",
            "change",
            [S("E+"), O("-"), S("E")],
            ("E+", "E"),
            lambda v: v["E+"] - v["E"],
        )

    def _symbol(self, neuron: Neuron, which: str, suffix: str, sample: int) -> str:
        if neuron.layer == 0:
            return self.tag(neuron.out, sample)
        return self.tag((neuron.net if which == "net" else neuron.out) + suffix, sample)

    def incoming(self, neuron: Neuron):
        """``(parameter, source neuron or None)`` for every weight and bias into ``neuron``."""
        neurons = self.spec.neurons
        for parameter in self.spec.parameters.values():
            for source, target in parameter.uses:
                if target == neuron.name:
                    yield parameter, None if source is None else neurons[source]

    def outgoing(self, neuron: Neuron):
        """``(parameter, target neuron)`` for every weight leaving ``neuron``."""
        neurons = self.spec.neurons
        for parameter in self.spec.parameters.values():
            for source, target in parameter.uses:
                if source == neuron.name:
                    yield parameter, neurons[target]

    def _forward(self, suffix: str, sample: int) -> None:
        """Each neuron's net input then output; a softmax layer's outputs come after all of its
        net inputs, since each output depends on all of them."""
        for layer in self.spec.layers:
            nets = [self._symbol(n, "net", suffix, sample) for n in layer.neurons]
            if layer.activation == "softmax":
                for neuron in layer.neurons:
                    self._net(neuron, suffix, sample)
                for neuron in layer.neurons:
                    self._out(layer, neuron, nets, suffix, sample)
            else:
                for neuron in layer.neurons:
                    self._net(neuron, suffix, sample)
                    self._out(layer, neuron, nets, suffix, sample)

    def _net(self, neuron: Neuron, suffix: str, sample: int) -> None:
        weights, biases, tokens, parents = [], [], [], []
        for parameter, source in self.incoming(neuron):
            p = parameter.name + suffix  # w1+ (a fixed parameter's w1+ is w1 unchanged)
            if source is None:
                biases.append(p)
                tokens += [O("+")] * bool(tokens) + [N(1.0), O("*"), S(p)]
                parents.append(p)
            else:
                x = self._symbol(source, "out", suffix, sample)
                weights.append((x, p))
                tokens += [O("+")] * bool(tokens) + [S(x), O("*"), S(p)]
                parents += [x, p]
        self.add(
            self._symbol(neuron, "net", suffix, sample),
            "forward" + suffix,
            "net",
            tokens or [N(0.0)],
            parents,
            lambda v, w=tuple(weights), b=tuple(biases): (
                sum(v[x] * v[p] for x, p in w) + sum(v[p] for p in b)
            ),
            neuron=neuron.name,
            sample=sample,
        )

    def _out(self, layer, neuron: Neuron, nets: list[str], suffix: str, sample: int) -> None:
        net = self._symbol(neuron, "net", suffix, sample)
        if layer.activation == "softmax":
            tokens, parents = formulas.softmax_tokens(net, nets), tuple(nets)
            compute = formulas.softmax_value(net, tuple(nets))
        else:
            tokens, parents = [O(f"{layer.activation}("), S(net), O(")")], (net,)

            def compute(v, z=net, f=layer.activation, p=layer.params):
                return formulas.activation_value(f, p, v[z])

        self.add(
            self._symbol(neuron, "out", suffix, sample),
            "forward" + suffix,
            "out",
            tokens,
            parents,
            compute,
            neuron=neuron.name,
            activation=layer.activation,
            sample=sample,
        )

    def _errors(self, suffix: str) -> None:
        section = "error" + suffix
        spec = self.spec
        K, n = len(spec.outputs), spec.n_samples
        sample_totals = []
        for s in range(1, n + 1):
            total, parents = [], []
            for neuron in spec.outputs:
                y = self._symbol(neuron, "out", suffix, s)
                t = self.tag(neuron.target, s)
                symbol = self.tag(f"E_{neuron.name}{suffix}", s)
                z = self._symbol(neuron, "net", suffix, s)
                nets = tuple(self._symbol(n, "net", suffix, s) for n in spec.outputs)
                tokens, compute = formulas.error_formula(
                    spec.loss, y, t, K, spec.huber_delta, z, nets
                )
                note = ""
                if not parents and not suffix and s == 1:
                    note = formulas.LOSS_NOTES.get(spec.loss, "")
                self.add(
                    symbol, section, "error", tokens, (y, t, *nets), compute, note,
                    neuron=neuron.name,
                )  # fmt: skip
                total += [O("+")] * bool(total) + [S(symbol)]
                parents.append(symbol)
            symbol = self.tag("E" + suffix, s)
            kind = "sample_total" if self.batch else "total"
            self.add(
                symbol,
                section,
                kind,
                total,
                parents,
                lambda v, p=tuple(parents): sum(v[x] for x in p),
            )
            sample_totals.append(symbol)
        if self.batch:
            self.add_combination("E" + suffix, section, "total", sample_totals)

    def add_combination(self, symbol: str, section: str, kind: str, terms: list[str], **meta):
        """``symbol`` = the mean (or sum, by the spec's reduction) of the per-sample ``terms``."""
        n, mean = len(terms), self.spec.reduction == "mean"
        tokens = [O(f"(1/{n})*(")] * mean + joined([[S(t)] for t in terms]) + [O(")")] * mean
        self.add(
            symbol,
            section,
            kind,
            tokens,
            terms,
            lambda v, p=tuple(terms), scale=1.0 / n if mean else 1.0: scale * sum(v[x] for x in p),
            f"the {self.spec.reduction} over the {n} samples",
            reduction=self.spec.reduction,
            samples=n,
            **meta,
        )

    def _backward(self, s: int) -> None:
        last = len(self.spec.layers) - 1
        for layer_index in range(last, -1, -1):
            layer = self.spec.layers[layer_index]
            if layer.activation == "softmax":
                for neuron in layer.neurons:
                    self._output_side(neuron, s, layer_index == last)
                self._softmax_deltas(layer, s, layer_index == last)
                continue
            for neuron in layer.neurons:
                self._output_side(neuron, s, layer_index == last)
                y, z = self.tag(neuron.out, s), self.tag(neuron.net, s)
                grad = self.tag(f"dE/d{neuron.out}", s)
                local = self.tag(f"d{neuron.out}/d{neuron.net}", s)
                self.add(
                    local,
                    "backward",
                    "derivative",
                    formulas.derivative_tokens(layer.activation, layer.params, z, y),
                    (z, y),
                    lambda v, z=z, y=y, f=layer.activation, p=layer.params: (
                        formulas.activation_derivative(f, p, v[z], v[y])
                    ),
                    neuron=neuron.name,
                    activation=layer.activation,
                )
                self.add(
                    self.tag(f"dE/d{neuron.net}", s),
                    "backward",
                    "delta",
                    [S(grad), O("*"), S(local)],
                    (grad, local),
                    lambda v, g=grad, d=local: v[g] * v[d],
                    neuron=neuron.name,
                )
                if layer_index == last:
                    self._simplify(neuron, layer.activation, s)

    def _output_side(self, neuron: Neuron, s: int, is_output: bool) -> None:
        """dE/d(out): from the loss for an output neuron, else the sum over every path."""
        grad = self.tag(f"dE/d{neuron.out}", s)
        if not is_output:
            self._path_sum(neuron, grad, s)
            return
        spec = self.spec
        y, t = self.tag(neuron.out, s), self.tag(neuron.target, s)
        z = self.tag(neuron.net, s)
        activation = spec.layers[spec.neurons[neuron.name].layer - 1].activation
        tokens, compute = formulas.output_gradient(
            spec.loss, y, t, len(spec.outputs), spec.huber_delta, z, activation
        )
        self.add(grad, "backward", "output_grad", tokens, (y, t), compute, neuron=neuron.name)

    def _softmax_deltas(self, layer, s: int, is_output: bool) -> None:
        """dE/dz_j = sum_i dE/dy_i * dy_i/dz_j, with the Jacobian dy_i/dz_j = y_i (d_ij - y_j)."""
        outs = [self.tag(n.out, s) for n in layer.neurons]
        for i, neuron_i in enumerate(layer.neurons):
            for j, neuron_j in enumerate(layer.neurons):
                tokens, compute = formulas.jacobian_entry(outs[i], outs[j])
                self.add(
                    self.tag(f"d{neuron_i.out}/d{neuron_j.net}", s),
                    "backward",
                    "jacobian",
                    tokens,
                    (outs[i], outs[j]) if i != j else (outs[i],),
                    compute,
                    "the softmax Jacobian: dy_i/dz_j = y_i (delta_ij - y_j)" if i == j == 0 else "",
                    neuron=neuron_j.name,
                    row=neuron_i.name,
                    diagonal=i == j,
                )
        for j, neuron_j in enumerate(layer.neurons):
            terms = [
                (self.tag(f"dE/d{n.out}", s), self.tag(f"d{n.out}/d{neuron_j.net}", s))
                for n in layer.neurons
            ]
            self.add(
                self.tag(f"dE/d{neuron_j.net}", s),
                "backward",
                "delta",
                joined([[S(g), O("*"), S(d)] for g, d in terms]),
                [x for pair in terms for x in pair],
                lambda v, t=tuple(terms): sum(v[g] * v[d] for g, d in t),
                "every output depends on every net input of a softmax layer",
                neuron=neuron_j.name,
                terms=terms,
                diagonal=terms[j],
            )
            if is_output:
                self._simplify(neuron_j, "softmax", s)

    def _simplify(self, neuron: Neuron, activation: str, s: int) -> None:
        shortcut = formulas.simplified_delta(
            self.spec.loss,
            activation,
            self.tag(neuron.out, s),
            self.tag(neuron.target, s),
            len(self.spec.outputs),
        )
        if shortcut:
            quantity = self.quantities[self.tag(f"dE/d{neuron.net}", s)]
            quantity.simplified = shortcut[0]
            quantity.meta["simplified_note"], quantity.meta["shortcut"] = shortcut[1:]

            def saturated(v, chain=quantity.compute, short=shortcut[2]):
                # an output rounded to exactly 0 or 1 makes the chain 0 * inf; the
                # shortcut (the engine's fused delta) is the limit
                value = chain(v)
                return value if math.isfinite(value) else short(v)

            quantity.compute = saturated

    def _path_sum(self, neuron: Neuron, symbol: str, s: int) -> None:
        """dE/da_h = sum over the next layer's neurons j of dE/dz_j * w_hj: every path."""
        terms = [
            (self.tag(f"dE/d{target.net}", s), parameter.name, target.name)
            for parameter, target in self.outgoing(neuron)
        ]
        tokens, parents = [], []
        for delta, weight, _ in terms:
            tokens += [O("+")] * bool(tokens) + [S(delta), O("*"), S(weight)]
            parents += [delta, weight]
        paths = ", ".join(f"via {target} ({weight})" for _, weight, target in terms)
        self.add(
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
        """dE/dp = sum over the neurons p feeds of dE/dz * dz/dp (shown as dE/da * da/dz * dz/dp
        for elementwise activations), where dz/dp sums the outputs p multiplies into that
        neuron (a weight shared within one neuron counts each). In a batch, the per-sample
        gradients are combined by the reduction."""
        per_sample = [
            self._sample_gradient(parameter, s) for s in range(1, self.spec.n_samples + 1)
        ]
        if self.batch:
            self.add_combination(
                f"dE/d{parameter.name}",
                "backward",
                "gradient",
                per_sample,
                parameter=parameter.name,
            )

    def _sample_gradient(self, parameter, s: int) -> str:
        neurons = self.spec.neurons
        sources: dict[str, list] = {}
        for source, target_name in parameter.uses:
            sources.setdefault(target_name, []).append(source)
        tokens, parents, chains = [], [], []
        for target_name, feeding in sources.items():
            target = neurons[target_name]
            local = self.tag(f"d{target.net}/d{parameter.name}", s)
            inputs = [self.tag(neurons[x].out, s) for x in feeding if x is not None]
            ones = sum(x is None for x in feeding)
            formula = joined([[S(x)] for x in inputs])
            if ones or not formula:
                formula += [O("+")] * bool(formula) + [N(float(ones))]
            self.add(
                local,
                "backward",
                "local",
                formula,
                tuple(inputs),
                lambda v, xs=tuple(inputs), c=float(ones): sum(v[x] for x in xs) + c,
                parameter=parameter.name,
            )
            delta = self.tag(f"dE/d{target.net}", s)
            softmax = self.spec.layers[target.layer - 1].activation == "softmax"
            if softmax:
                shown = [S(delta), O("*"), S(local)]
            else:
                shown = [
                    S(self.tag(f"dE/d{target.out}", s)),
                    O("*"),
                    S(self.tag(f"d{target.out}/d{target.net}", s)),
                    O("*"),
                    S(local),
                ]
            chains.append((delta, local))
            tokens += [O("+")] * bool(tokens) + shown
            parents += [delta, local]
        symbol = self.tag(f"dE/d{parameter.name}", s)
        self.add(
            symbol,
            "backward",
            "sample_gradient" if self.batch else "gradient",
            tokens,
            parents,
            lambda v, c=tuple(chains): sum(v[d] * v[x] for d, x in c),
            parameter=parameter.name,
            shared=len(chains) > 1,
            chains=chains,
        )
        return symbol
