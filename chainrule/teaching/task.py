"""What a sheet says, whatever its format: the task in words, the given numbers, the asked
quantities, the student, and the drawing. The renderers (:mod:`~chainrule.teaching.sheets`,
:mod:`~chainrule.teaching.plain`) only typeset it, each escaping every name for its format."""

from __future__ import annotations

from dataclasses import dataclass

from ..explain.spec import Spec
from .figure import Figure, given_text, network_figure
from .roster import Student
from .template import Template
from .variants import Variant

__all__ = ["Sheet", "sheet_of"]

_LOSSES = {
    "squared_error": "E = ½ Σ (t − y)², summed over the outputs",
    "mse": "E = (1/K) Σ (t − y)², the mean over the K outputs",
    "mae": "E = (1/K) Σ |t − y|, the mean over the K outputs",
    "huber": "E = (1/K) Σ h(y − t), the mean over the K outputs of the Huber loss "
    "h(r) = r²/2 for |r| ≤ δ, else δ(|r| − δ/2), with δ = {delta}",
    "binary_cross_entropy": "E = −(1/K) Σ [t log y + (1 − t) log(1 − y)], the mean over the K "
    "outputs (natural logarithm)",
    "cross_entropy": "E = −Σ t log y, summed over the classes (natural logarithm)",
}
_RULES = {
    "sgd": "gradient descent: every parameter moves to w+ = w − η·dE/dw",
    "momentum": "SGD with momentum (as torch.optim.SGD): v = dE/dw at the first step, then "
    "v = μ·v + dE/dw, and w+ = w − η·v",
    "nesterov": "SGD with Nesterov momentum (as torch.optim.SGD): v as for momentum, and "
    "w+ = w − η·(dE/dw + μ·v)",
    "adam": "Adam (as torch.optim.Adam): m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², both "
    "from 0, mhat = m/(1 − β1^t), vhat = v/(1 − β2^t), w+ = w − η·mhat/(√vhat + ε)",
}


@dataclass
class Sheet:
    """One student's sheet, before typesetting."""

    title: str
    student: Student
    task: list[str]
    givens: list[tuple[str, str, str]]  # (symbol, where it sits, value)
    samples: list[list[str]] | None  # a batch's inputs and targets: header row, then a row each
    ask: list[str]
    digits: int
    figure: Figure


def _task(spec: Spec, digits: int) -> list[str]:
    rule = spec.optimizer
    steps = "one step" if rule.steps == 1 else f"{rule.steps} steps"
    words = [
        f"Work {steps} of backpropagation on the network below, by hand. Each neuron computes "
        "its net input z = Σ w·x + b and its output a = f(z), with the activation f named at "
        "the top of its layer.",
        f"The error is {_LOSSES[spec.loss].format(delta=given_text(spec.huber_delta))}.",
    ]
    if spec.n_samples > 1:
        net = spec.layers[0].neurons[0].net
        words.append(
            f"The batch has {spec.n_samples} samples (their inputs and targets are in the table "
            f"below); E and each dE/dw are the {spec.reduction} over the samples, and a "
            f"quantity of one sample carries its number: {net}[2] is {net} of sample 2."
        )
    update = f"The update is {_RULES[rule.name]}."
    fixed = [p.name for p in spec.parameters.values() if not p.trained]
    if fixed:
        update += f" These parameters do not train (they keep their values): {', '.join(fixed)}."
    if rule.steps > 1:
        first = next(iter(spec.parameters))
        update += (
            f" The parameters after step 1 are written {first}+, after step 2 {first}@2; the "
            f"gradient at step 2 is g_{first}@2."
        )
    words.append(update)
    words.append(
        f"Write each quantity of the last table to {digits} significant digits, in the names "
        "the sheet uses."
    )
    return words


def _givens(spec: Spec) -> list[tuple[str, str, str]]:
    rows = []
    if spec.n_samples == 1:
        rows += [(n.out, "input", given_text(n.value)) for n in spec.inputs]
        rows += [
            (n.target, f"target of {n.name}", given_text(n.target_value)) for n in spec.outputs
        ]
    for p in spec.parameters.values():
        where = ", ".join(f"{s} → {t}" if s else f"bias of {t}" for s, t in p.uses)
        rows.append((p.name, where, given_text(p.value)))
    rows.append(("eta", "learning rate", given_text(spec.learning_rate)))
    rule = spec.optimizer
    settings = {"momentum": ["mu"], "nesterov": ["mu"], "adam": ["beta1", "beta2", "eps"]}
    values = {"mu": rule.momentum, "beta1": rule.beta1, "beta2": rule.beta2, "eps": rule.eps}
    rows += [(name, rule.name, given_text(values[name])) for name in settings.get(rule.name, [])]
    return rows


def _samples(spec: Spec) -> list[list[str]] | None:
    if spec.n_samples == 1:
        return None
    header = ["sample", *(n.out for n in spec.inputs), *(n.target for n in spec.outputs)]
    rows = [
        [str(s + 1), *(given_text(n.values[s]) for n in spec.inputs),
         *(given_text(n.target_values[s]) for n in spec.outputs)]
        for s in range(spec.n_samples)
    ]  # fmt: skip
    return [header, *rows]


def sheet_of(template: Template, variant: Variant) -> Sheet:
    """What ``variant``'s sheet shows."""
    spec = variant.spec
    return Sheet(
        spec.title,
        variant.student,
        _task(spec, template.digits),
        _givens(spec),
        _samples(spec),
        list(template.ask),
        template.digits,
        network_figure(spec),
    )
