"""The worked-example spec file: one small network described the way a textbook does.

The format (TOML, read with the standard library's ``tomllib``) is documented with a complete
example in ``docs/spec-format.md``. Every problem in a file is reported as a :class:`SpecError`
naming the file, the line and the fix.
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
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
    source: str | None = None  # the spec file, for the messages of its evaluation


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


_HEADER = re.compile(r"\s*(\[\[?)([^\]]*)\]")
_KEY = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*[=.]""")
_SEGMENT = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^."'\s]+)\s*(?:\.|$)""")


def _key_text(written: str) -> str:
    """A key as TOML reads it: bare, 'literal' or "basic" (with its escapes)."""
    if written[:1] == "'":
        return written[1:-1]
    if written[:1] != '"':
        return written
    if "\\" not in written:
        return written[1:-1]
    try:
        return tomllib.loads(f"k = {written}")["k"]
    except tomllib.TOMLDecodeError:
        return written[1:-1]


class _Lines:
    """Finds the line a key or table is written on, for error messages.

    The lines are read once, into an index of every table header and every key that starts a
    line, so that each lookup costs a dictionary access and a binary search, whatever the size
    of the file (a regular expression over every line for each key made a file of 16 000 claims
    take half a minute).
    """

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.keys: dict[str, list[int]] = {}  # a key: the lines it starts, in order
        self.headers: dict[str, list[int]] = {}  # a table's first name: its [headers]' lines
        self.arrays: dict[str, list[int]] = {}  # a name: its [[name]] headers' lines
        self.header_lines: set[int] = set()
        self.first_header: int | None = None
        for number, line in enumerate(self.lines, 1):
            if "[" in line and (header := _HEADER.match(line)):
                names = [_key_text(m.group(1)) for m in _SEGMENT.finditer(header.group(2))]
                if not names:
                    continue
                self.header_lines.add(number)
                self.first_header = self.first_header or number
                self.headers.setdefault(names[0], []).append(number)
                if header.group(1) == "[[" and len(names) == 1:
                    self.arrays.setdefault(names[0], []).append(number)
                if len(names) > 1:  # [weights.w1]: the line of w1 in [weights]
                    self.keys.setdefault(names[-1], []).append(number)
            elif key := _KEY.match(line):
                self.keys.setdefault(_key_text(key.group(1)), []).append(number)

    def after(self, key: str, start: int) -> int | None:
        """The first line from ``start`` on where ``key`` is written."""
        lines = self.keys.get(key, ())
        index = bisect.bisect_left(lines, start)
        return lines[index] if index < len(lines) else None

    def of(self, key: str, after: str | None = None) -> int | None:
        """The line of ``key``: the first in the file, or the first after table ``after``."""
        start = 1 if after is None else (self.table(after) or 1)
        return self.after(key, start)

    def top(self, key: str) -> int | None:
        """The line of a top-level ``key`` (written before the first table)."""
        line = self.after(key, 1)
        if line is None or (self.first_header is not None and line >= self.first_header):
            return None
        return line

    def table(self, name: str) -> int | None:
        lines = self.headers.get(name)
        return lines[0] if lines else None

    def tables(self, name: str) -> list[int]:
        """The line of every ``[[name]]`` table, in order."""
        return list(self.arrays.get(name, ()))

    def locate(self, path: tuple) -> int | None:
        """The line of the value at ``path`` (keys and list positions from the top of the
        document): the line of its own key where there is one, else of the nearest key or
        table above it."""
        line = self.top(path[0])
        region = None  # the table header under which the next key is written
        if line is None:
            line = region = self.table(path[0])
        for depth, part in enumerate(path[1:], 1):
            if line is None:
                break
            if isinstance(part, int):
                arrays = self.arrays.get(path[0], ()) if depth == 1 and region else ()
                if part < len(arrays):
                    line = region = arrays[part]
                else:
                    region = None  # an item of an inline array: its key's line
                continue
            if region is None:
                break
            found = self.after(part, region)
            if found is None:
                break
            line = found
            region = found if found in self.header_lines else None
        return line

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


# -- the file's structure, checked before anything is read from it --------------------------------

MAX_NESTING = 16
"""The deepest nesting of arrays and inline tables a spec file may have: the format itself needs
four (``layers = [{ neurons = [{ name = "h1" }] }]``). ``tomllib`` reads nesting by recursion,
so a file of a few thousand ``[`` would end in a RecursionError; it is refused before it is
read."""

_BRACKETS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # a multi-line basic string
    r"|'''(?:[^']|'(?!''))*'''"  # a multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'  # a basic string
    r"|'[^'\n]*'"  # a literal string
    r"|#[^\n]*"  # a comment
    r"|[\[\]{}]"
)


def _too_deep(text: str) -> int | None:
    """The offset of the first bracket nested deeper than :data:`MAX_NESTING` (brackets in
    strings and comments do not count), or None. One pass over the text."""
    depth = 0
    for token in _BRACKETS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return token.start()
        elif bracket in "]}":
            depth = max(depth - 1, 0)
    return None


def _shown(value) -> str:
    """A value as a message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class _Kind:
    """A TOML type a value must have, as a message names it."""

    name: str
    test: object  # value -> bool
    fix: str | None = None  # how to write it, where "write it as <name>" says too little
    outer: type | None = None  # the TOML type alone, where ``test`` asks more of a value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_NOT_IN_NAMES = re.compile(r"[/+@]|\[\d*\]")
_STRING = _Kind("a string", lambda v: isinstance(v, str))
_NUMBER = _Kind("a number", _is_number)
_INTEGER = _Kind("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
_NAME = _Kind(
    "a name",
    lambda v: isinstance(v, str) and v != "" and not _NOT_IN_NAMES.search(v),
    "write a name that is not empty and has no / + @ and no [2] (these build the names of "
    "derived quantities: dE/dw5, w5+, E@2, z1[2])",
    str,
)


@dataclass(frozen=True)
class _List:
    """An array of values of one schema."""

    item: object
    name: str


@dataclass(frozen=True)
class _Either:
    """A value of one of two schemas (a number or a list of numbers, a name or a list...)."""

    first: object
    second: object
    name: str


@dataclass(frozen=True)
class _Table:
    """A table: either with the keys of ``fields`` (each with its schema), or with any keys,
    each value of schema ``each``."""

    name: str
    fields: dict | None = None
    each: object = None
    key: _Kind | None = None  # what each key must be, with ``each``


_NAMES = _Either(_STRING, _List(_STRING, "a list of names"), "a name or a list of names")
_SAMPLES = _Either(_NUMBER, _List(_NUMBER, "a list of numbers"), "a number or a list of numbers")
_NEURON = _Table("a neuron table", {"name": _NAME, "net": _NAME, "out": _NAME, "target": _NAME})
_LAYER = _Table(
    "a table",
    {
        "name": _STRING,
        "activation": _STRING,
        "neurons": _List(_Either(_NAME, _NEURON, "a name or a table"), "a list of neurons"),
        "slope": _NUMBER,
        "alpha": _NUMBER,
    },
)
_SCHEMA = _Table(
    "a table",
    {
        "title": _STRING,
        "loss": _STRING,
        "learning_rate": _NUMBER,
        "reduction": _STRING,
        "huber_delta": _NUMBER,
        "fixed": _List(_STRING, "a list of parameter names"),
        "trained": _List(_STRING, "a list of parameter names"),
        "inputs": _Table("a table", each=_SAMPLES, key=_NAME),
        "layers": _List(_LAYER, "an array of tables"),
        "targets": _Table("a table", each=_SAMPLES),
        "weights": _Table(
            "a table",
            each=_Table("a table", {"from": _NAMES, "to": _NAMES, "value": _NUMBER}),
            key=_NAME,
        ),
        "biases": _Table(
            "a table", each=_Table("a table", {"to": _NAMES, "value": _NUMBER}), key=_NAME
        ),
        "claims": _Table("a table", each=_Either(_STRING, _NUMBER, "a number or a string")),
        "arithmetic": _Table(
            "a table",
            each=_Table(
                "a table",
                {
                    "expression": _STRING,
                    "claimed": _Either(_STRING, _NUMBER, "a number or a string"),
                },
            ),
        ),
        "optimizer": _Table(
            "a table",
            {
                "name": _STRING,
                "steps": _INTEGER,
                "momentum": _NUMBER,
                "beta1": _NUMBER,
                "beta2": _NUMBER,
                "eps": _NUMBER,
            },
        ),
        # an exercise for a class (chainrule.teaching): explain and check leave it alone
        "exercise": _Table(
            "a table",
            {
                "ask": _List(_STRING, "a list of quantity names"),
                "digits": _INTEGER,
                "seed": _INTEGER,
                "id": _STRING,
                "name": _STRING,
                "vary": _Table(
                    "a table",
                    each=_Table("a table", {"low": _NUMBER, "high": _NUMBER, "decimals": _INTEGER}),
                ),
                "inactive": _List(_STRING, "a list of neuron names"),
                "avoid": _Table(
                    "a table",
                    {
                        "saturation": _NUMBER,
                        "inactive": _Kind("true or false", lambda v: isinstance(v, bool)),
                        "equal": _Kind("true or false", lambda v: isinstance(v, bool)),
                        "smaller_than": _NUMBER,
                    },
                ),
            },
        ),
    },
)
"""Every table and key of a spec file with the TOML type of its value (docs/spec-format.md)."""


_ENTRIES = {
    "inputs": "input",
    "targets": "target",
    "weights": "weight",
    "biases": "bias",
    "claims": "claim",
    "arithmetic": "arithmetic",
}


_NEURONS_OF = "'neurons' of "


def _label(path: tuple) -> str:
    """The value at ``path`` in words: ``input 'x1' (sample 2)``, ``'net' of neuron 1 of
    layer 2``, ``[optimizer] steps``."""
    head = path[0]
    if len(path) == 1:
        return (
            f"[{head}]"
            if head in (*_ENTRIES, "optimizer")
            else ("[[layers]]" if head == "layers" else head)
        )
    if head in _ENTRIES:
        text, rest = f"{_ENTRIES[head]} {path[1]!r}", path[2:]
    elif head == "layers" and isinstance(path[1], int):
        text, rest = f"layer {path[1] + 1}", path[2:]
    elif head == "optimizer":
        text, rest = f"[optimizer] {path[1]}", path[2:]
    else:
        text, rest = head, path[1:]
    for part in rest:
        if not isinstance(part, int):
            text = f"{part!r} of {text}"
        elif text.startswith(_NEURONS_OF):
            text = f"neuron {part + 1} of {text.removeprefix(_NEURONS_OF)}"
        elif head in ("inputs", "targets"):
            text = f"{text} (sample {part + 1})"
        else:
            text = f"item {part + 1} of {text}"
    return text


def _check_structure(value, schema, path: tuple, reader: _Reader) -> None:
    """Refuse the first value in ``value`` that does not fit ``schema``: a key the format does
    not have or a value of the wrong TOML type, naming it, its line and what was expected. The
    recursion follows the schema (four levels deep), not the document."""
    if isinstance(schema, _Kind):
        fits = schema.test(value)
    elif isinstance(schema, _Either):
        for option in (schema.first, schema.second):
            if _fits(value, option):
                _check_structure(value, option, path, reader)
                return
        fits = False
    elif isinstance(schema, _List):
        fits = isinstance(value, list)
        if fits:
            for index, item in enumerate(value):
                _check_structure(item, schema.item, (*path, index), reader)
    else:
        fits = isinstance(value, dict)
        if fits:
            for key, item in value.items():
                if schema.fields is not None and key not in schema.fields:
                    close = difflib.get_close_matches(key, schema.fields, n=1)
                    where = f"{_label(path)} has" if path else "a spec file has"
                    reader.fail(
                        f"{where} no key {key!r}",
                        f"did you mean {close[0]!r}?"
                        if close
                        else f"use only {', '.join(schema.fields)} (see docs/spec-format.md)",
                        reader.where.locate((*path, key)),
                    )
                if schema.key is not None and not schema.key.test(key):
                    reader.fail(
                        f"{_label((*path, key))} cannot be named so",
                        schema.key.fix,
                        reader.where.locate((*path, key)),
                    )
                inner = schema.each if schema.fields is None else schema.fields[key]
                _check_structure(item, inner, (*path, key), reader)
    if not fits:
        reader.fail(
            f"{_label(path)} must be {schema.name}, got {_shown(value)}",
            getattr(schema, "fix", None) or f"write it as {schema.name} (see docs/spec-format.md)",
            reader.where.locate(path),
        )


def _fits(value, schema) -> bool:
    """Whether ``value`` has the outer TOML type of ``schema`` (its items are checked after)."""
    if isinstance(schema, _Kind):
        return isinstance(value, schema.outer) if schema.outer else schema.test(value)
    if isinstance(schema, _Either):
        return _fits(value, schema.first) or _fits(value, schema.second)
    return isinstance(value, list if isinstance(schema, _List) else dict)


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
    """Every neuron has its own name, and each of its symbols (net input, output, target) is
    its own: the same symbol twice would be two quantities of one name."""
    seen: dict[str, tuple[int, str]] = {}
    placed = [(n, reader.where.of(n.name, "inputs")) for n in inputs]
    placed += [(n, layer.line) for layer in layers for n in layer.neurons]
    for index, (neuron, line) in enumerate(placed):
        symbols = [s for s in (neuron.net, neuron.out, neuron.target) if s is not None]
        if len(set(symbols)) < len(symbols):
            twice = next(s for s in symbols if symbols.count(s) > 1)
            reader.fail(
                f"neuron {neuron.name!r} uses {twice!r} for two of its symbols",
                "give its net input, output and target their own names",
                line,
            )
        for symbol in {neuron.name, *symbols}:
            if symbol in seen and seen[symbol][0] != index:
                reader.fail(
                    f"the name {symbol!r} is used twice ({seen[symbol][1]!r} and {neuron.name!r})",
                    "give every neuron and symbol its own name",
                    reader.where.of(symbol) or line,
                )
            seen[symbol] = (index, neuron.name)
    return {symbol: name for symbol, (_, name) in seen.items()}


_RESERVED = {
    "E": "the total error",
    "eta": "the learning rate",
    "ΔE": "the change of the error",
    "mu": "the momentum",
    "beta1": "Adam's beta1",
    "beta2": "Adam's beta2",
    "eps": "Adam's eps",
}


_MOMENTS = {
    "v": "velocity (or second moment)",
    "m": "first moment",
    "mhat": "bias-corrected first moment",
    "vhat": "bias-corrected second moment",
}


def _check_reserved(inputs, layers, parameters, reader) -> None:
    """No symbol of the file is one the worked example names itself (``E``, ``eta``, an
    output's error ``E_o1``, a parameter's velocity or moments ``v_w5``, ``m_w5``...)."""
    reserved = dict(_RESERVED)
    reserved |= {f"E_{n.name}": f"output {n.name!r}'s error" for n in layers[-1].neurons}
    for name in parameters:
        for prefix, meaning in _MOMENTS.items():
            reserved[f"{prefix}_{name}"] = f"{name!r}'s {meaning}"
    tables = {"weight": "weights", "bias": "biases"}
    placed = [(n.name, reader.where.of(n.name, "inputs")) for n in inputs]
    placed += [(p.name, reader.where.of(p.name, tables[p.kind])) for p in parameters.values()]
    placed += [
        (symbol, layer.line)
        for layer in layers
        for n in layer.neurons
        for symbol in (n.net, n.out, n.target)
        if symbol is not None
    ]
    for symbol, line in placed:
        if symbol in reserved:
            reader.fail(
                f"the name {symbol!r} is the worked example's own name for {reserved[symbol]}",
                "rename it",
                line,
            )


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
        names = set(names)
        for parameter in parameters.values():
            inside = parameter.name in names
            parameter.trained = inside if key == "trained" else not inside
    return loss, rate


def _claimed_number(text: str) -> float | None:
    """The number a claim writes, or None when it writes none (or nan, inf, 1e400), or writes
    its last digit beyond a float's range (``0e400``: its precision, 1e400, is no float)."""
    try:
        number, written = float(text), Decimal(text)
    except (ValueError, InvalidOperation):
        return None
    if not math.isfinite(number) or written.as_tuple().exponent > sys.float_info.max_10_exp:
        return None
    return number


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
        claim = Claim(name, text, value, line)
        result.append(Arithmetic(name, entry["expression"], claim, reader.source))
    return result


def _target_rows(layers) -> list[list[float]]:
    outputs = layers[-1].neurons
    return [list(row) for row in zip(*(n.target_values for n in outputs), strict=True)]


def _read_toml(text: str, reader: _Reader) -> dict:
    """The TOML document, or a SpecError: invalid TOML, nesting deeper than
    :data:`MAX_NESTING`, an integer longer than Python converts (4300 digits)."""
    deep = _too_deep(text)
    if deep is not None:
        reader.fail(
            f"arrays and tables are nested more than {MAX_NESTING} deep",
            "a spec file needs at most four levels (see docs/spec-format.md)",
            text.count("\n", 0, deep) + 1,
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        reader.fail(
            f"this is not valid TOML ({error})",
            "check quotes, '=' signs and brackets",
            int(match.group(1)) if match else None,
        )
    except ValueError:  # int() refuses an integer literal of over 4300 digits
        digits = re.search(r"[0-9_]{4300}", text)
        reader.fail(
            "an integer has too many digits to be read",
            "write it with fewer digits",
            text.count("\n", 0, digits.start()) + 1 if digits else None,
        )
    except RecursionError:  # nesting that the count above missed, in a string it misread
        reader.fail(
            "arrays and tables are nested too deep to be read",
            "a spec file needs at most four levels (see docs/spec-format.md)",
        )


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse and check a spec from its TOML text.

    The document's structure is checked first, against the format (every table and key, and
    the TOML type of every value), then what it describes. Both take time in proportion to the
    text's length.

    Raises
    ------
    SpecError
        With the line and a fix, for invalid TOML, nesting deeper than :data:`MAX_NESTING`, a
        key the format does not have or a value of the wrong type, unknown neurons, weights
        between non-adjacent layers, missing values, duplicated or reserved names, unsupported
        settings.
    """
    reader = _Reader(source, text)
    data = _read_toml(text, reader)
    _check_structure(data, _SCHEMA, (), reader)
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
    _check_reserved(inputs, layers, parameters, reader)
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
