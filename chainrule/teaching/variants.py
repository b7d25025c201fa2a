"""One variant per student: the template's numbers drawn again from ``[exercise.vary]``,
reproducibly from the template's seed and the student's id, until the drawing rules hold.

The random numbers of a student come from ``numpy.random.SeedSequence([seed, h])``, ``h`` the
first 128 bits of the SHA-256 of the id: the same template, seed and id give the same variant
on any machine and in any order of the class, and another id gives other numbers. Each draw
takes, in the file's order, every input (one number per sample), every target, then every
weight and bias that ``[exercise.vary]`` covers (by its own name first, else by its group),
uniformly among the numbers of the range's decimals; a draw that breaks a rule
(:mod:`~chainrule.teaching.rules`) is followed by the next draw of the same sequence.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..explain import SpecError, parse_spec
from ..explain.bridge import spec_to_toml, toml_string
from ..explain.spec import Spec
from ..explain.trace import Trace
from .roster import Student
from .rules import RULES, first_problem
from .template import Range, Template

__all__ = ["MAX_DRAWS", "Variant", "draw_variant", "student_rng"]

MAX_DRAWS = 2000
"""The most draws tried for one student before the template is reported as too tight."""


@dataclass
class Variant:
    """A student's exercise: the spec (numbers drawn), its TOML text as written to
    ``<id>.toml``, its trace and the correct value of each asked quantity."""

    student: Student
    spec: Spec
    text: str
    trace: Trace
    values: dict[str, float]
    draws: int = 1

    @property
    def id(self) -> str:
        return self.student.id

    @property
    def name(self) -> str:
        return self.student.name


def student_rng(seed: int, student_id: str) -> np.random.Generator:
    """The random numbers of one student's variant (see the module docstring)."""
    digest = hashlib.sha256(student_id.encode("utf-8")).digest()
    entropy = [seed % 2**64, int.from_bytes(digest[:16], "big")]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def _range_of(template: Template, names: tuple[str, ...], group: str) -> Range | None:
    for name in names:
        if name in template.vary:
            return template.vary[name]
    return template.vary.get(group)


def _number(drawn: Range, rng: np.random.Generator) -> float:
    first, last = drawn.steps()
    return round(int(rng.integers(first, last + 1)) / 10**drawn.decimals, drawn.decimals) + 0.0


def _drawn(template: Template, rng: np.random.Generator) -> Spec:
    """A copy of the template's spec with every varied number drawn."""
    spec = copy.deepcopy(template.spec)
    spec.claims, spec.arithmetic = [], []
    samples = range(spec.n_samples)
    for neuron in spec.inputs:
        drawn = _range_of(template, (neuron.name,), "inputs")
        if drawn:
            neuron.values = [_number(drawn, rng) for _ in samples]
            neuron.value = neuron.values[0]
    for neuron in spec.outputs:
        drawn = _range_of(template, (neuron.name, neuron.target), "targets")
        if drawn:
            neuron.target_values = [_number(drawn, rng) for _ in samples]
            neuron.target_value = neuron.target_values[0]
    for parameter in spec.parameters.values():
        group = "weights" if parameter.kind == "weight" else "biases"
        drawn = _range_of(template, (parameter.name,), group)
        if drawn:
            parameter.value = _number(drawn, rng)
    return spec


def draw_variant(template: Template, student: Student) -> Variant:
    """The variant of ``student``: the first draw of their sequence that meets the rules.

    Raises
    ------
    SpecError
        When none of :data:`MAX_DRAWS` draws does, naming the rules broken and how often.
    """
    rng = student_rng(template.seed, student.id)
    broken: Counter = Counter()
    examples: dict[str, str] = {}
    for draw in range(1, MAX_DRAWS + 1):
        spec = _drawn(template, rng)
        problem = first_problem(template, Trace(spec))
        if problem is None:
            return _written(template, student, spec, draw)
        broken[problem[0]] += 1
        examples.setdefault(problem[0], problem[1])
    reasons = "; ".join(
        f"{count} had {RULES[rule]} (such as {examples[rule]})"
        for rule, count in broken.most_common()
    )
    raise SpecError(
        f"{template.source}: no variant for student {student.id!r} meets the drawing rules in "
        f"{MAX_DRAWS} draws: {reasons}. Fix: change the ranges of [exercise.vary], or relax "
        "[exercise.avoid] (see 'What the drawing avoids' in docs/tutorials/teach.md)"
    )


def _written(template: Template, student: Student, spec: Spec, draws: int) -> Variant:
    """The variant as its file holds it: written, read back, and worked from what was read."""
    text = spec_to_toml(spec) + _exercise_table(template, student)
    spec = parse_spec(text, f"{student.id}.toml")
    trace = Trace(spec)
    values = {symbol: float(trace[symbol].value) for symbol in template.ask}
    if not all(math.isfinite(v) for v in values.values()):  # the rules checked the same numbers
        raise SpecError(f"{template.source}: student {student.id!r}'s variant does not compute")
    return Variant(student, spec, text, trace, values, draws)


def _exercise_table(template: Template, student: Student) -> str:
    lines = [
        "",
        "[exercise]",
        f"ask = [{', '.join(toml_string(s) for s in template.ask)}]",
        f"digits = {template.digits}",
        f"id = {toml_string(student.id)}",
    ]
    lines += [f"name = {toml_string(student.name)}"] if student.name else []
    lines.append(f"seed = {template.seed}")
    return "\n".join(lines) + "\n"
