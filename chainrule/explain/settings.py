"""The settings of a worked example beyond its network: the update rule (``[optimizer]``),
the batch reduction, huber's delta, and which loss/output pairings can be explained."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.losses import FUSED_OUTPUTS

__all__ = [
    "MAX_WRITTEN_STEPS",
    "OPTIMIZERS",
    "Optimizer",
    "REDUCTIONS",
    "parse_choice",
    "parse_huber_delta",
    "parse_optimizer",
    "unsupported",
]

REDUCTIONS = ("mean", "sum")
MAX_WRITTEN_STEPS = 20
"""The most optimizer steps a spec file's ``[optimizer] steps`` writes out quantity by quantity.
Each step adds every parameter's gradient, moments and update to the trace, and ``check``
re-evaluates the whole trace for each candidate mistake, so its time grows with the square of
the steps (a wrong claim at the last step of seed 001's 2-2-2 network under Adam: 6 s at 20
steps, 30 s at 40, minutes at 200).
A longer run is tabulated by ``explain --steps N`` instead (the error only)."""
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
_OPTIMIZER_DEFAULTS = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


@dataclass
class Optimizer:
    """The update rule of a worked example: ``sgd`` (``w+ = w - eta dE/dw``), ``momentum`` or
    ``nesterov`` (torch.optim.SGD's convention) or ``adam`` (torch.optim.Adam's), for
    ``steps`` steps."""

    name: str = "sgd"
    steps: int = 1
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


def unsupported(loss: str, output_activation: str, targets) -> tuple[str, str] | None:
    """Why a worked example with this loss, output activation and targets (one row per sample)
    cannot be explained, and what to do instead; ``None`` when it can. Spec files and networks
    from Python are refused with the same reason."""
    needed = FUSED_OUTPUTS.get(loss)
    if needed and output_activation != needed:
        other = next(name for name in FUSED_OUTPUTS if name != loss)
        return (
            f"{loss} needs {needed} outputs, but the output layer's activation is "
            f"{output_activation!r}",
            f'set activation = "{needed}" on the output layer, or use squared_error '
            f"({other} pairs with {FUSED_OUTPUTS[other]})",
        )
    if loss == "cross_entropy":
        for sample, row in enumerate(targets, 1):
            if abs(sum(row) - 1.0) > 1e-9 or min(row) < 0:
                return (
                    f"cross_entropy targets must be probabilities summing to 1, but sample "
                    f"{sample}'s sum to {sum(row):g}",
                    "use one-hot targets (one output 1, the others 0)",
                )
    return None


def parse_choice(data, key: str, choices, reader) -> str:
    value = data.get(key, choices[0])
    if value not in choices:
        reader.fail(
            f"{key!r} must be one of {', '.join(choices)}, got {value!r}",
            f'write {key} = "{choices[0]}"',
            reader.where.of(key),
        )
    return value


def parse_huber_delta(data, loss: str, reader) -> float:
    line = reader.where.of("huber_delta")
    if "huber_delta" in data and loss != "huber":
        reader.fail("'huber_delta' is set but the loss is not huber", "remove it", line)
    delta = reader.number(data.get("huber_delta", 1.0), "huber_delta", line)
    if delta <= 0:
        reader.fail(f"'huber_delta' must be > 0, got {delta!r}", "use a positive number", line)
    return delta


def parse_optimizer(data, reader) -> Optimizer:
    table = data.get("optimizer", {})
    line = reader.where.table("optimizer")
    if not isinstance(table, dict):
        reader.fail("[optimizer] must be a table", 'write [optimizer] then name = "adam"', line)
    name = parse_choice(table, "name", OPTIMIZERS, reader)
    allowed = {"name", "steps", *_OPTIMIZER_DEFAULTS[name]}
    for key in table:
        if key not in allowed:
            reader.fail(
                f"[optimizer] {name} takes no {key!r}",
                f"use only {', '.join(sorted(allowed))}",
                reader.where.of(key, "optimizer") or line,
            )
    steps = table.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_WRITTEN_STEPS:
        reader.fail(
            f"[optimizer] steps must be an integer from 1 to {MAX_WRITTEN_STEPS} (the steps "
            f"written out value by value), got {steps!r}",
            f"write steps = 2 (at most {MAX_WRITTEN_STEPS}); `chainrule explain FILE --steps N` "
            "tabulates the error over a longer run",
            reader.where.of("steps", "optimizer") or line,
        )
    values = {}
    for key, default in _OPTIMIZER_DEFAULTS[name].items():
        where = reader.where.of(key, "optimizer") or line
        values[key] = reader.number(table.get(key, default), f"[optimizer] {key}", where)
        high = 1.0 if key != "eps" else math.inf
        if not 0 <= values[key] < high or (key == "momentum" and values[key] == 0):
            reader.fail(
                f"[optimizer] {key} must be in {'(0, 1)' if key != 'eps' else '[0, inf)'}, "
                f"got {values[key]!r}",
                f"use {default}",
                where,
            )
    return Optimizer(name, steps, **values)
