"""A template: an ordinary spec file with an ``[exercise]`` table saying what the students
compute (``ask``), what varies and how (``[exercise.vary]``), the precision answers are expected
to (``digits``), the seed, and what the drawing avoids (``[exercise.avoid]``, ``inactive``).

Every problem is a :class:`~chainrule.explain.SpecError` naming the file, the line, the value
and the fix, as the spec file's own problems are.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..explain import SpecError, parse_spec
from ..explain.spec import Spec
from ..explain.trace import Trace

__all__ = [
    "DEFAULT_DIGITS",
    "DEFAULT_SATURATION",
    "GROUPS",
    "KINKED",
    "MAX_TEMPLATE_BYTES",
    "Avoid",
    "Range",
    "Template",
    "load_template",
    "parse_template",
]

MAX_TEMPLATE_BYTES = 1_000_000
"""The largest template read (a template is a small spec file: a few kilobytes)."""

DEFAULT_DIGITS = 3
"""Significant digits answers are expected to, when the template does not say."""

DEFAULT_SATURATION = 0.05
"""The share of an activation's range, at each end, where a unit counts as saturated."""

GROUPS = {"weights": "weight", "biases": "bias", "inputs": "input", "targets": "target"}
"""The group words of ``[exercise.vary]``: every weight, bias, input or target at once."""

KINKED = ("relu", "leaky_relu", "elu")
"""Activations with an inactive side (z <= 0) that the drawing keeps units off."""

_MAX_DECIMALS = 6
_GIVEN_KINDS = ("input", "target", "parameter", "rate")


@dataclass(frozen=True)
class Range:
    """Where one varied number is drawn: uniformly among the numbers of ``decimals`` decimals
    from ``low`` to ``high`` (both included)."""

    low: float
    high: float
    decimals: int

    def steps(self) -> tuple[int, int]:
        """The range in units of the last decimal: ``(first, last)`` integers."""
        scale = 10**self.decimals
        return math.ceil(self.low * scale - 1e-9), math.floor(self.high * scale + 1e-9)


@dataclass(frozen=True)
class Avoid:
    """What a drawn variant must not show (see ``docs/tutorials/teach.md``)."""

    saturation: float = DEFAULT_SATURATION  # 0: any output of sigmoid, tanh, softmax
    inactive: bool = True  # relu/leaky_relu/elu units stay active (z > 0) unless named
    equal: bool = True  # no two asked values alike at `digits` significant digits
    smaller_than: float | None = None  # |asked value| below this: refused (default 0.5e-digits)


@dataclass
class Template:
    """A parsed, checked template."""

    spec: Spec
    source: str
    ask: list[str]
    digits: int = DEFAULT_DIGITS
    seed: int = 0
    vary: dict[str, Range] = field(default_factory=dict)
    inactive: list[str] = field(default_factory=list)
    avoid: Avoid = field(default_factory=Avoid)

    @property
    def smallest(self) -> float:
        """The smallest size an asked value may have (rounding to 0 at ``digits`` decimals)."""
        given = self.avoid.smaller_than
        return 0.5 * 10.0**-self.digits if given is None else given


class _Where:
    """Finds the line of a key within a table of the template, for messages."""

    def __init__(self, source: str, text: str):
        self.source, self.lines = source, text.splitlines()

    def line(self, key: str | None, table: str = "exercise") -> int | None:
        header = re.compile(rf"\s*\[\s*{re.escape(table)}\s*\]")
        start = next((i for i, t in enumerate(self.lines) if header.match(t)), None)
        if start is None:
            return None
        if key is None:
            return start + 1
        written = re.compile(rf"""\s*(["']?){re.escape(key)}\1\s*=""")
        for number in range(start + 1, len(self.lines)):
            if self.lines[number].lstrip().startswith("["):
                break
            if written.match(self.lines[number]):
                return number + 1
        return start + 1

    def fail(self, message: str, fix: str, line: int | None = None):
        place = f"{self.source}, line {line}" if line else self.source
        raise SpecError(f"{place}: {message}. Fix: {fix}")


def load_template(path) -> Template:
    """Read and check the template at ``path`` (see :func:`parse_template`)."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_TEMPLATE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(
            f"{path}: no such file. Fix: check the path, or write one with "
            "'chainrule init-example FILE --kind basic --exercise'"
        ) from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise SpecError(
            f"{path}: the file is over {MAX_TEMPLATE_BYTES} bytes, too large for a template. "
            "Fix: a template is a small spec file; check the path"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a UTF-8 text file. Fix: save it as UTF-8") from None
    return parse_template(text, str(path))


def parse_template(text: str, source: str = "<template>") -> Template:
    """Parse and check a template: the spec, then its ``[exercise]`` table.

    Raises
    ------
    SpecError
        For any problem of the spec, a missing ``[exercise]`` table or ``ask``, an asked name
        that is no quantity (with the closest), a varied name that is no parameter, input or
        target, an empty or inverted range, an avoided setting out of range.
    """
    spec = parse_spec(text, source)
    where = _Where(source, text)
    table = tomllib.loads(text).get("exercise")
    if table is None:
        where.fail(
            "the file has no [exercise] table, so it is no template",
            'add [exercise] with ask = ["z1", "dE/dw5"] (see docs/tutorials/teach.md)',
        )
    trace = Trace(spec)
    digits = _digits(table, where)
    template = Template(
        spec,
        source,
        _ask(table, trace, where),
        digits,
        table.get("seed", 0),
        _vary(table.get("vary", {}), spec, where),
        _inactive(table.get("inactive", []), spec, where),
        _avoid(table.get("avoid", {}), where),
    )
    return template


def _digits(table: dict, where: _Where) -> int:
    digits = table.get("digits", DEFAULT_DIGITS)
    if not 1 <= digits <= 15:
        where.fail(
            f"[exercise] digits must be from 1 to 15 (significant digits), got {digits}",
            "write digits = 3",
            where.line("digits"),
        )
    return digits


def _ask(table: dict, trace: Trace, where: _Where) -> list[str]:
    ask = table.get("ask")
    line = where.line("ask")
    if not ask:
        where.fail(
            "[exercise] asks for nothing",
            'write ask = ["z1", "E", "dE/dw5"], the quantities the students compute',
            line,
        )
    for name in ask:
        if name not in trace:
            close = difflib.get_close_matches(name, list(trace.quantities), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "ask for a quantity explain names"
            where.fail(
                f"[exercise] ask names {name!r}, which is no quantity of the file", hint, line
            )
        if trace[name].kind in _GIVEN_KINDS:
            where.fail(
                f"[exercise] ask names {name!r}, which the file gives ({trace[name].kind})",
                "ask only for computed quantities; a given number is printed on the sheet",
                line,
            )
    if len(set(ask)) < len(ask):
        twice = next(name for name in ask if ask.count(name) > 1)
        where.fail(f"[exercise] ask names {twice!r} twice", "name each quantity once", line)
    return list(ask)


def _varied_names(spec: Spec) -> dict[str, str]:
    """Every name ``[exercise.vary]`` may use, with what it is."""
    names = {p.name: p.kind for p in spec.parameters.values()}
    names |= {n.name: "input" for n in spec.inputs}
    for neuron in spec.outputs:
        names[neuron.name] = names[neuron.target] = "target"
    return names


def _vary(entries: dict, spec: Spec, where: _Where) -> dict[str, Range]:
    known = _varied_names(spec)
    ranges = {}
    for key, entry in entries.items():
        line = where.line(key, "exercise.vary")
        if key not in known and key not in GROUPS:
            close = difflib.get_close_matches(key, [*GROUPS, *known], n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(GROUPS)}"
            where.fail(f"[exercise.vary] names {key!r}, no parameter, input or target", hint, line)
        if spec.loss == "cross_entropy" and (key == "targets" or known.get(key) == "target"):
            where.fail(
                f"[exercise.vary] varies {key!r}, but cross_entropy targets must sum to 1",
                f"leave {key!r} out of [exercise.vary]",
                line,
            )
        ranges[key] = _range(key, entry, where, line)
    return ranges


def _range(key: str, entry: dict, where: _Where, line) -> Range:
    missing = [k for k in ("low", "high") if k not in entry]
    if missing:
        where.fail(
            f"[exercise.vary] {key!r} has no {missing[0]!r}",
            f"write {key} = {{ low = -0.5, high = 0.5, decimals = 2 }}",
            line,
        )
    low, high, decimals = entry["low"], entry["high"], entry.get("decimals", 2)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        where.fail(
            f"[exercise.vary] {key!r} runs from {low!r} to {high!r}",
            "write finite numbers with low <= high",
            line,
        )
    if not 0 <= decimals <= _MAX_DECIMALS:
        where.fail(
            f"[exercise.vary] {key!r} has decimals = {decimals}",
            f"write decimals from 0 to {_MAX_DECIMALS} (numbers a class works by hand)",
            line,
        )
    drawn = Range(float(low), float(high), decimals)
    first, last = drawn.steps()
    if first > last:
        where.fail(
            f"[exercise.vary] {key!r}: no number of {decimals} decimals lies from {low!r} "
            f"to {high!r}",
            "widen the range or allow more decimals",
            line,
        )
    return drawn


def _inactive(names: list, spec: Spec, where: _Where) -> list[str]:
    kinked = {n.name for layer in spec.layers if layer.activation in KINKED for n in layer.neurons}
    for name in names:
        if name not in kinked:
            where.fail(
                f"[exercise] inactive names {name!r}, which is no relu, leaky_relu or elu neuron",
                f"name one of {', '.join(sorted(kinked)) or '(none: the file has no such unit)'}",
                where.line("inactive"),
            )
    return list(names)


def _avoid(table: dict, where: _Where) -> Avoid:
    saturation = table.get("saturation", DEFAULT_SATURATION)
    if not 0 <= saturation < 0.5:
        where.fail(
            f"[exercise.avoid] saturation must be from 0 to below 0.5 (a share of the "
            f"activation's range at each end), got {saturation!r}",
            f"write saturation = {DEFAULT_SATURATION}, or 0 to allow any output",
            where.line("saturation", "exercise.avoid"),
        )
    smaller_than = table.get("smaller_than")
    if smaller_than is not None and not 0 <= smaller_than < math.inf:
        where.fail(
            f"[exercise.avoid] smaller_than must be a size >= 0, got {smaller_than!r}",
            "write smaller_than = 0.0005, or 0 to refuse only an exact 0",
            where.line("smaller_than", "exercise.avoid"),
        )
    return Avoid(
        float(saturation),
        table.get("inactive", True),
        table.get("equal", True),
        None if smaller_than is None else float(smaller_than),
    )
