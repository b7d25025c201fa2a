"""A class's answer sheets with mistakes planted, computed independently in float64 (no
chainrule code: the variant is read from its TOML text with ``tomllib``, the numbers come from
tests/golden/planted.py, which carries a planted mistake forward to every later number).

The variants are spec files of a one-sample network whose names follow planted.py's layout
(hidden neuron k: ``h<k>``, ``z<k>``, ``a<k>``; output j: ``o<j>``, ``z<H + j>``, ``y<j>``;
weights ``w1..`` layer by layer, from-neuron outer; biases ``b1..`` neuron by neuron). A
:class:`Mistake` is what one student does: a planted mistake, the quantity it is made at and
the kind ``check`` names for it, or blanks. :func:`sheet` writes the asked numbers as a student
writes them, to ``digits`` significant digits; :func:`expected` says which asked quantity is
``ok``, ``wrong`` (and of which kind), ``inherited`` or ``missing``.
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from golden import planted
from golden.planted import Exercise, Plant


@dataclass(frozen=True)
class Mistake:
    """``plant`` (planted.py's), made at the asked quantity ``at``, which ``check`` names
    ``kind``; ``blank``: asked quantities the student leaves empty."""

    label: str
    plant: Plant = planted.NONE
    at: str | None = None
    kind: str | None = None
    blank: tuple = ()


# the 2-2-2 network of the tests: h1, h2 (neurons 1, 2), o1, o2 (neurons 3, 4)
MISTAKES = [
    Mistake("none"),
    Mistake("dropped path", Plant("dropped_path", at=1, dropped=(4,)), "dE/da1", "dropped_path"),
    Mistake("learning rate forgotten", Plant("rate_forgotten", at="w5"), "w5+", "rate_forgotten"),
    Mistake("sign of dE/dy1", Plant("sign", at=3), "dE/dy1", "sign"),
    Mistake("factor two", Plant("factor_two", at="w5"), "dE/dw5", "factor_two"),
    Mistake("inherited error", Plant("derivative_at_net", at=3), "dE/dz3", "derivative_at_net"),
    Mistake("update with the gradient", Plant("sign", at="w1"), "w1+", "sign"),
    Mistake("blanks", blank=("dE/da1", "w1+")),
]


def exercise_of(document: dict) -> Exercise:
    """The variant's network (a TOML document read with tomllib) in planted.py's terms,
    checked to be named as planted.py's layout names it."""
    layers = document["layers"]
    assert len(layers) == 2 and document.get("loss") == "squared_error"
    inputs = list(document["inputs"])
    hidden = [n["name"] for n in layers[0]["neurons"]]
    outputs = [n["name"] for n in layers[1]["neurons"]]
    index = {name: i for group in (inputs, hidden, outputs) for i, name in enumerate(group)}
    Ws = [np.zeros((len(inputs), len(hidden))), np.zeros((len(hidden), len(outputs)))]
    bs = [np.zeros(len(hidden)), np.zeros(len(outputs))]
    for weight in document["weights"].values():
        Ws[weight["to"] in outputs][index[weight["from"]], index[weight["to"]]] = weight["value"]
    for bias in document["biases"].values():
        bs[bias["to"] in outputs][index[bias["to"]]] = bias["value"]
    ex = Exercise(
        X=np.array([[float(document["inputs"][x]) for x in inputs]]),
        T=np.array([[float(document["targets"][o]) for o in outputs]]),
        Ws=Ws,
        bs=bs,
        acts=[layer["activation"] for layer in layers],
        lr=float(document["learning_rate"]),
    )
    _check_names(ex, document)
    return ex


def _check_names(ex: Exercise, document: dict) -> None:
    """Every weight and bias where planted.layout puts its name."""
    for name, place in planted.layout(ex).params.items():
        table = document["weights" if name.startswith("w") else "biases"]
        assert table[name]["value"] == planted.initial_value(ex, place), name


def written(value: float, digits: int) -> str:
    """``value`` as a student writes it: ``digits`` significant digits, trailing zeros kept."""
    text = f"{value:#.{digits}g}"
    return text.rstrip(".") if "e" not in text else text


def sheet(ex: Exercise, mistake: Mistake, ask: list, digits: int) -> dict:
    """The asked numbers as the student writes them (a blank is '')."""
    numbers = planted.worked(ex, mistake.plant)
    return {s: "" if s in mistake.blank else written(numbers[s], digits) for s in ask}


def expected(ex: Exercise, mistake: Mistake, ask: list, digits: int) -> dict:
    """Per asked quantity: ``ok``, ``missing``, ``(wrong, kind)`` where the mistake is made,
    ``inherited`` where a number follows from it (and differs from the right one as written)."""
    right = planted.worked(ex)
    theirs = sheet(ex, mistake, ask, digits)
    verdicts = {}
    for s in ask:
        if theirs[s] == "":
            verdicts[s] = "missing"
        elif holds(theirs[s], right[s]):
            verdicts[s] = "ok"
        elif s == mistake.at:
            verdicts[s] = ("wrong", mistake.kind)
        else:
            verdicts[s] = "inherited"
    return verdicts


def holds(text: str, value: float) -> bool:
    """docs/spec-format.md's rule: the correct value rounded or truncated to the written
    number's last digit gives it."""
    claimed, unit = float(text), 10.0 ** Decimal(text).as_tuple().exponent
    if abs(claimed - value) <= unit / 2 * (1 + 1e-9):
        return True
    same_side = (claimed > 0) == (value > 0)
    return same_side and abs(claimed) * (1 - 1e-12) <= abs(value) < abs(claimed) + unit


def correct_values(ex: Exercise, ask: list) -> dict:
    """The asked quantities' correct values, full precision."""
    numbers = planted.worked(ex)
    return {s: numbers[s] for s in ask}
