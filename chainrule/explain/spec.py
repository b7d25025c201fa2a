"""The worked-example spec file: one small network described the way a textbook does.

The format (TOML, read with the standard library's ``tomllib``) is documented with a complete
example in ``docs/spec-format.md``. Every problem in a file is reported as a :class:`SpecError`
naming the file, the line and the fix.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..core import activations, losses
from .settings import (
    REDUCTIONS,
    Optimizer,
    parse_choice,
    parse_huber_delta,
    parse_optimizer,
    unsupported,
)

__all__ = [
    "ACTIVATION_PARAMETERS",
    "Arithmetic",
    "Claim",
    "Layer",
    "Neuron",
    "Parameter",
    "SUPPORTED_LOSSES",
    "Spec",
    "SpecError",
    "load_spec",
    "parse_spec",
]

SUPPORTED_LOSSES = (
    "squared_error",
    "mse",
    "mae",
    "huber",
    "binary_cross_entropy",
    "cross_entropy",
)
# the activation hyperparameters a [[layers]] table may set
ACTIVATION_PARAMETERS = {"leaky_relu": ("slope",), "elu": ("alpha",)}


class SpecError(ValueError):
    """A problem in a spec file, with its line number and how to fix it."""


@dataclass
class Neuron:
    """A neuron with its user-facing symbols: net input ``net``, output ``out``, target."""

    name: str
    layer: int  # 0 for inputs, 1.. for the layers
    net: str | None
    out: str
    target: str | None = None
    target_value: float | None = None
    value: float | None = None  # an input's value (the first sample's in a batch)
    values: list[float] = field(default_factory=list)  # an input's value in every sample
    target_values: list[float] = field(default_factory=list)  # the target in every sample

    def __post_init__(self):
        # a neuron made with one value (one sample) has that value for its only sample
        if not self.values and self.value is not None:
            self.values = [self.value]
        if not self.target_values and self.target_value is not None:
            self.target_values = [self.target_value]


@dataclass
class Layer:
    name: str
    activation: str
    neurons: list[Neuron]
    params: dict = field(default_factory=dict)  # leaky_relu's slope, elu's alpha
    line: int | None = None


@dataclass
class Parameter:
    """A weight or bias; ``uses`` lists the ``(from neuron or None, to neuron)`` it sits on.
    One name on several connections is one shared parameter."""

    name: str
    kind: str  # 'weight' or 'bias'
    value: float
    uses: list[tuple[str | None, str]]
    trained: bool = True


@dataclass
class Claim:
    """A number the user computed, with the text it was written as (its precision)."""

    name: str
    text: str
    value: float
    line: int | None


@dataclass
class Arithmetic:
    """A claimed result of an arithmetic expression, written with numbers and quantity names."""

    name: str
    expression: str
    claim: Claim


@dataclass
class Spec:
    """A parsed, checked worked example."""

    title: str
    inputs: list[Neuron]
    layers: list[Layer]
    parameters: dict[str, Parameter]
    loss: str
    learning_rate: float
    claims: list[Claim] = field(default_factory=list)
    source: str = "<spec>"
    arithmetic: list[Arithmetic] = field(default_factory=list)
    reduction: str = "mean"  # how a batch's per-sample losses combine: mean or sum
    huber_delta: float = 1.0
    optimizer: Optimizer = field(default_factory=Optimizer)

    @property
    def n_samples(self) -> int:
        return len(self.inputs[0].values) if self.inputs[0].values else 1

    @property
    def neurons(self) -> dict[str, Neuron]:
        every = list(self.inputs) + [n for layer in self.layers for n in layer.neurons]
        return {neuron.name: neuron for neuron in every}

    @property
    def outputs(self) -> list[Neuron]:
        return self.layers[-1].neurons


class _Lines:
    """Finds the line a key or table is written on, for error messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def of(self, key: str, after: str | None = None) -> int | None:
        start = 0
        if after is not None:
            start = (self.table(after) or 1) - 1
        pattern = re.compile(rf'^\s*("{re.escape(key)}"|{re.escape(key)})\s*=')
        for number, line in enumerate(self.lines[start:], start + 1):
            if pattern.match(line):
                return number
        return None

    def table(self, name: str) -> int | None:
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?")
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                return number
        return None

    def tables(self, name: str) -> list[int]:
        """The line of every ``[[name]]`` table, in order."""
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
        return [n for n, line in enumerate(self.lines, 1) if pattern.match(line)]

    def raw_value(self, line: int | None) -> str | None:
        if line is None:
            return None
        text = self.lines[line - 1].split("=", 1)[1]
        text = text.split("#", 1)[0].strip()
        return text.strip('"').strip("'").strip()


class _Reader:
    def __init__(self, source: str, text: str):
        self.source = source
        self.where = _Lines(text)

    def fail(self, message: str, fix: str, line: int | None = None):
        place = f"{self.source}, line {line}" if line else self.source
        raise SpecError(f"{place}: {message}. Fix: {fix}")

    def number(self, value, what: str, line: int | None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{what} must be a number, got {value!r}", f"write {what} as a number", line)
        if not math.isfinite(value):
            self.fail(f"{what} must be finite, got {value!r}", "use a finite number", line)
        return float(value)


def _neuron(entry, layer_index: int, reader: _Reader, line) -> Neuron:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        reader.fail(
            f"a neuron must be a name or a table with 'name', got {entry!r}",
            'write neurons = ["h1", "h2"] or [{name = "h1", net = "z1", out = "a1"}]',
            line,
        )
    name = entry["name"]
    return Neuron(
        name,
        layer_index,
        entry.get("net", f"z_{name}"),
        entry.get("out", f"a_{name}"),
        entry.get("target"),
    )


def _sample_values(value, what: str, reader: _Reader, line) -> list[float]:
    """One number, or a list with one number per sample of a batch."""
    if isinstance(value, list):
        if not value:
            reader.fail(f"{what} is an empty list", "give one value per sample", line)
        return [reader.number(v, f"{what} (sample {i})", line) for i, v in enumerate(value, 1)]
    return [reader.number(value, what, line)]


def _parse_activation(raw: dict, index: int, reader: _Reader, line) -> tuple[str, dict]:
    name = raw.get("activation", "sigmoid")
    try:
        name = activations.get(name).name
    except ValueError as error:
        reader.fail(str(error), "use one of the known activation names", line)
    allowed = ACTIVATION_PARAMETERS.get(name, ())
    params = {}
    for key in ("slope", "alpha"):
        if key not in raw:
            continue
        if key not in allowed:
            reader.fail(
                f"layer {index} sets {key!r}, which {name} does not take",
                "set slope only for leaky_relu and alpha only for elu",
                line,
            )
        params[key] = reader.number(raw[key], f"layer {index}'s {key}", line)
    try:
        activations.get({"name": name, **params})
    except ValueError as error:
        reader.fail(str(error), "use a value in the allowed range", line)
    return name, params


def _parse_layers(data, reader) -> tuple[list[Neuron], list[Layer]]:
    inputs_line = reader.where.table("inputs")
    if not isinstance(data.get("inputs"), dict) or not data["inputs"]:
        reader.fail("the file has no [inputs] table", "add [inputs] with x1 = 0.05 ...", None)
    inputs = []
    for name, value in data["inputs"].items():
        line = reader.where.of(name, "inputs") or inputs_line
        inputs.append(Neuron(name, 0, None, name))
        inputs[-1].values = _sample_values(value, f"input {name!r}", reader, line)
        inputs[-1].value = inputs[-1].values[0]
    counts = {len(n.values) for n in inputs}
    if len(counts) > 1:
        reader.fail(
            f"the inputs give different numbers of samples ({', '.join(map(str, sorted(counts)))})",
            "give every input one value per sample",
            inputs_line,
        )
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        reader.fail(
            "the file has no [[layers]]",
            'add [[layers]] tables with activation = "sigmoid" and neurons = [...]',
            None,
        )
    lines = reader.where.tables("layers")
    layers = []
    for index, raw in enumerate(raw_layers, 1):
        line = lines[index - 1] if index <= len(lines) else reader.where.table("layers")
        activation, params = _parse_activation(raw, index, reader, line)
        neurons = [_neuron(entry, index, reader, line) for entry in raw.get("neurons", [])]
        if not neurons:
            reader.fail(f"layer {index} has no neurons", 'add neurons = ["h1", "h2"]', line)
        layers.append(Layer(raw.get("name", f"layer {index}"), activation, neurons, params, line))
    return inputs, layers


def _check_unique(inputs, layers, reader):
    seen: dict[str, str] = {}
    for neuron in inputs + [n for layer in layers for n in layer.neurons]:
        for symbol in {neuron.name, neuron.net, neuron.out, neuron.target} - {None}:
            if symbol in seen and seen[symbol] != neuron.name:
                reader.fail(
                    f"the name {symbol!r} is used twice ({seen[symbol]!r} and {neuron.name!r})",
                    "give every neuron and symbol its own name",
                    reader.where.of(symbol),
                )
            seen[symbol] = neuron.name
    return seen


def _parse_targets(data, inputs, layers, reader):
    targets = data.get("targets")
    line = reader.where.table("targets")
    if not isinstance(targets, dict):
        reader.fail(
            "the file has no [targets] table",
            "add [targets] with one value per output neuron, e.g. o1 = 0.01",
            None,
        )
    outputs = {n.name: n for n in layers[-1].neurons}
    for name, value in targets.items():
        if name not in outputs:
            reader.fail(
                f"target for {name!r}, which is not an output neuron",
                f"name one of the output neurons {', '.join(outputs)}",
                reader.where.of(name, "targets") or line,
            )
        neuron = outputs[name]
        where = reader.where.of(name, "targets") or line
        neuron.target_values = _sample_values(value, f"target {name!r}", reader, where)
        neuron.target_value = neuron.target_values[0]
        neuron.target = neuron.target or f"t_{name}"
    missing = [name for name, n in outputs.items() if n.target_value is None]
    if missing:
        reader.fail(
            f"no target for output neuron(s) {', '.join(missing)}",
            f"add {missing[0]} = <value> under [targets]",
            line,
        )
    samples = len(inputs[0].values)
    for neuron in outputs.values():
        if len(neuron.target_values) != samples:
            reader.fail(
                f"target {neuron.name!r} has {len(neuron.target_values)} value(s) but the "
                f"inputs give {samples} sample(s)",
                "give every target one value per sample",
                reader.where.of(neuron.name, "targets") or line,
            )


def _parse_parameters(data, inputs, layers, reader) -> dict[str, Parameter]:
    layer_of = {n.name: n.layer for n in inputs + [n for layer in layers for n in layer.neurons]}
    parameters: dict[str, Parameter] = {}
    for kind, table in (("weight", "weights"), ("bias", "biases")):
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            reader.fail(
                f"[{table}] must be a table",
                f"write [{table}] then name = {{...}}",
                reader.where.table(table),
            )
        for name, entry in entries.items():
            line = reader.where.of(name, table)
            if name in parameters:
                reader.fail(f"{name!r} is both a weight and a bias", "rename one of them", line)
            if not isinstance(entry, dict) or "value" not in entry:
                reader.fail(
                    f"{kind} {name!r} has no value",
                    f'write {name} = {{ from = "x1", to = "h1", value = 0.15 }}'
                    if kind == "weight"
                    else f'write {name} = {{ to = "h1", value = 0.4 }}',
                    line,
                )
            value = reader.number(entry["value"], f"{kind} {name!r}", line)
            targets = entry.get("to")
            targets = [targets] if isinstance(targets, str) else targets
            sources = entry.get("from") if kind == "weight" else None
            sources = [sources] if isinstance(sources, str) else sources
            if not targets:
                reader.fail(f"{kind} {name!r} has no 'to' neuron", 'add to = "<neuron>"', line)
            if kind == "weight" and (not sources or len(sources) != len(targets)):
                reader.fail(
                    f"weight {name!r} needs one 'from' neuron per 'to' neuron",
                    'write from = "x1", to = "h1"',
                    line,
                )
            uses = []
            for position, target in enumerate(targets):
                source = sources[position] if sources else None
                for neuron in (source, target):
                    if neuron is not None and neuron not in layer_of:
                        close = difflib.get_close_matches(neuron, layer_of, n=1)
                        reader.fail(
                            f"{kind} {name!r} names the unknown neuron {neuron!r}",
                            f"did you mean {close[0]!r}?"
                            if close
                            else f"use one of {', '.join(layer_of)}",
                            line,
                        )
                if layer_of[target] == 0:
                    reader.fail(
                        f"{kind} {name!r} points to the input {target!r}",
                        "weights and biases lead into a layer's neuron",
                        line,
                    )
                if source is not None and layer_of[target] != layer_of[source] + 1:
                    reader.fail(
                        f"weight {name!r} connects {source!r} (layer "
                        f"{layer_of[source]}) to {target!r} (layer {layer_of[target]}),"
                        " which are not adjacent layers",
                        "connect a neuron to one in the next layer",
                        line,
                    )
                uses.append((source, target))
            parameters[name] = Parameter(name, kind, value, uses)
    if not any(p.kind == "weight" for p in parameters.values()):
        reader.fail(
            "the file has no [weights]",
            'add [weights] with w1 = { from = "x1", to = "h1", value = 0.15 }',
            None,
        )
    return parameters


def _parse_training(data, parameters, reader) -> tuple[str, float]:
    loss = data.get("loss", "squared_error")
    try:
        loss = losses.get(loss).name
    except ValueError as error:
        reader.fail(
            str(error), f"use one of {', '.join(SUPPORTED_LOSSES)}", reader.where.of("loss")
        )
    if loss not in SUPPORTED_LOSSES:
        reader.fail(
            f"loss {loss!r} is not supported in worked examples",
            f"use one of {', '.join(SUPPORTED_LOSSES)}",
            reader.where.of("loss"),
        )
    rate = reader.number(
        data.get("learning_rate", 0.5), "learning_rate", reader.where.of("learning_rate")
    )
    if rate < 0:
        reader.fail(
            f"learning_rate must be >= 0, got {rate!r} (w+ = w - eta*dE/dw: a negative rate "
            "climbs the error)",
            "write a positive learning_rate, such as 0.5",
            reader.where.of("learning_rate"),
        )
    for key in ("trained", "fixed"):
        names = data.get(key)
        if names is None:
            continue
        if not isinstance(names, list):
            reader.fail(
                f"'{key}' must be a list of parameter names",
                f'write {key} = ["b1"]',
                reader.where.of(key),
            )
        for name in names:
            if name not in parameters:
                reader.fail(
                    f"'{key}' names the unknown parameter {name!r}",
                    f"use one of {', '.join(parameters)}",
                    reader.where.of(key),
                )
        for parameter in parameters.values():
            inside = parameter.name in names
            parameter.trained = inside if key == "trained" else not inside
    return loss, rate


def _claimed_number(text: str) -> float | None:
    """The number a claim writes, or None when it writes none (or nan, inf, 1e400)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_claims(data, reader) -> list[Claim]:
    claims = []
    table = data.get("claims", {})
    if not isinstance(table, dict):
        reader.fail(
            "[claims] must be a table",
            'write [claims] then "dE/dw5" = 0.0882',
            reader.where.table("claims"),
        )
    for name, value in table.items():
        line = reader.where.of(name, "claims")
        text = str(value) if not isinstance(value, str) else value
        raw = reader.where.raw_value(line) if not isinstance(value, str) else value
        number = _claimed_number(text.replace(" ", ""))
        if number is None:
            reader.fail(
                f"claim {name!r} is not a finite number: {value!r}",
                'write the number, e.g. "dE/dw1" = "0.000694690157"',
                line,
            )
        claims.append(Claim(name, (raw or text).replace(" ", ""), number, line))
    return claims


def _parse_arithmetic(data, reader) -> list[Arithmetic]:
    entries = data.get("arithmetic", {})
    result = []
    for name, entry in entries.items():
        line = reader.where.of(name, "arithmetic")
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("expression"), str)
            or "claimed" not in entry
        ):
            reader.fail(
                f"arithmetic {name!r} needs an expression and a claimed value",
                f'write "{name}" = {{ expression = "0.08 * 0.6 / 1.1", claimed = "0.0436" }}',
                line,
            )
        text = str(entry["claimed"]).replace(" ", "")
        value = _claimed_number(text)
        if value is None:
            reader.fail(
                f"arithmetic {name!r} claims {entry['claimed']!r}, not a finite number",
                "write the claimed value as a number",
                line,
            )
        result.append(Arithmetic(name, entry["expression"], Claim(name, text, value, line)))
    return result


def _target_rows(layers) -> list[list[float]]:
    outputs = layers[-1].neurons
    return [list(row) for row in zip(*(n.target_values for n in outputs), strict=True)]


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse and check a spec from its TOML text.

    Raises
    ------
    SpecError
        With the line and a fix, for invalid TOML, unknown neurons, weights between
        non-adjacent layers, missing values, duplicated names, unsupported settings.
    """
    reader = _Reader(source, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        reader.fail(
            f"this is not valid TOML ({error})",
            "check quotes, '=' signs and brackets",
            int(match.group(1)) if match else None,
        )
    inputs, layers = _parse_layers(data, reader)
    _check_unique(inputs, layers, reader)
    _parse_targets(data, inputs, layers, reader)
    parameters = _parse_parameters(data, inputs, layers, reader)
    names = _check_unique(inputs, layers, reader)
    for name in parameters:
        if name in names:
            reader.fail(
                f"the name {name!r} is used for a neuron symbol and a parameter",
                "rename one of them",
                reader.where.of(name),
            )
    loss, rate = _parse_training(data, parameters, reader)
    refusal = unsupported(loss, layers[-1].activation, _target_rows(layers))
    if refusal:
        reader.fail(*refusal, layers[-1].line)
    return Spec(
        data.get("title", Path(source).stem),
        inputs,
        layers,
        parameters,
        loss,
        rate,
        _parse_claims(data, reader),
        source,
        _parse_arithmetic(data, reader),
        parse_choice(data, "reduction", REDUCTIONS, reader),
        parse_huber_delta(data, loss, reader),
        parse_optimizer(data, reader),
    )


def load_spec(path) -> Spec:
    """Read and check the spec file at ``path`` (see :func:`parse_spec`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            f"{path}: no such file. Fix: check the path, or create one with "
            "'chainrule init-example'"
        ) from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a UTF-8 text file. Fix: save it as UTF-8") from None
    return parse_spec(text, str(path))
