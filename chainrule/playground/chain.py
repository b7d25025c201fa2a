"""The chain rule behind one weight, bias or neuron, and the "check my number" box.

Everything comes from :func:`chainrule.explain` on the network as it stands and one sample:
the lines shown are the lines ``chainrule explain`` prints (``symbol = formula = numbers =
value``), and a typed number gets :func:`chainrule.check`'s verdict, through a spec that
holds it as a claim. A spec file can be stepped through the same way.
"""

from __future__ import annotations

import json
import math
import re

from ..core.terminal import printable
from ..explain import check as check_spec
from ..explain import explain, parse_spec, spec_to_toml

__all__ = ["chain_rule", "check_number", "explanation_rows", "spec_steps"]

_LINE = re.compile(r"^(\S+) = ")


def explanation_rows(explanation) -> list[dict]:
    """Every quantity of ``explanation`` in the order ``chainrule explain`` prints them:
    ``symbol``, ``section``, ``kind``, ``line`` (the printed line), ``note``, ``value``."""
    # the text form shows each symbol escaped (core.terminal.printable): match it as shown
    shown = {printable(symbol): q for symbol, q in explanation.trace.quantities.items()}
    rows, last = [], None
    for line in explanation.render("text").splitlines():
        match = _LINE.match(line)
        if match and match.group(1) in shown:
            q = shown[match.group(1)]
            last = {
                "symbol": q.symbol,
                "section": q.section,
                "kind": q.kind,
                "line": line,
                "note": None,
                "value": q.value,
            }
            rows.append(last)
        elif last is not None and line.startswith("    (") and line.endswith(")"):
            last["note"] = line.strip()[1:-1]
    return rows


def _neuron(spec, layer: int, index: int):
    """The spec neuron at ``layer`` (0: the inputs) and position ``index``."""
    neurons = spec.inputs if layer == 0 else spec.layers[layer - 1].neurons
    if not 0 <= index < len(neurons):
        raise ValueError(f"layer {layer} has {len(neurons)} neurons, got neuron {index}")
    return neurons[index]


def _quantity(trace, kind: str, key: str, name: str) -> str:
    for q in trace.quantities.values():
        if q.kind == kind and q.meta.get(key) == name:
            return q.symbol
    raise ValueError(f"the trace has no {kind} for {name!r}")


def _focus(explanation, target: dict) -> tuple[str, set[str], str]:
    """The focused quantity (a gradient or a delta), the quantities to show with it, and a
    title."""
    spec, trace = explanation.spec, explanation.trace
    kind, layer = target.get("kind"), int(target.get("layer", -1))
    if not 1 <= layer <= len(spec.layers):
        raise ValueError(f"'layer' must be 1 to {len(spec.layers)}, got {layer}")
    to = _neuron(spec, layer, int(target.get("to", target.get("index", -1))))
    neurons = {to.name}
    if kind in ("weight", "bias"):
        source = None
        if kind == "weight":
            source = _neuron(spec, layer - 1, int(target.get("from", -1)))
            neurons.add(source.name)
        parameter = next(
            p for p in spec.parameters.values() if (source and source.name, to.name) in p.uses
        )
        focus = _quantity(trace, "gradient", "parameter", parameter.name)
        shown = {parameter.name, focus}
        shown.update(
            q.symbol
            for q in trace.quantities.values()
            if q.kind == "update" and q.meta.get("parameter") == parameter.name
        )
        # named by the symbols its formulas use: the output it multiplies, the net input it feeds
        where = f"from {source.out} " if source else ""
        title = f"{kind} {parameter.name} {where}into {to.net}"
    elif kind == "neuron":
        focus = _quantity(trace, "delta", "neuron", to.name)
        shown = {focus}
        title = f"neuron with net input {to.net} and output {to.out}"
    else:
        raise ValueError(f"'kind' must be 'weight', 'bias' or 'neuron', got {kind!r}")
    for q in trace.quantities.values():
        if q.section in ("forward", "error") and q.meta.get("neuron") in neurons:
            shown.add(q.symbol)
        if q.section == "error" and q.kind == "total":
            shown.add(q.symbol)
    shown |= {s for s in trace.ancestors(focus) if trace[s].section == "backward"}
    return focus, shown, title


def _computed(explanation) -> list[str]:
    """The symbols a learner can check: everything computed, not the given values."""
    return [q.symbol for q in explanation.trace.quantities.values() if q.section != "given"]


def chain_rule(network, x, t, learning_rate: float, target: dict) -> dict:
    """The chain rule of ``target`` (``{"kind": "weight", "layer": k, "from": i, "to": j}``,
    ``{"kind": "bias", "layer": k, "to": j}`` or ``{"kind": "neuron", "layer": k, "index":
    j}``; layers counted from 1) for the sample ``(x, t)``: the rows ``chainrule explain``
    prints for it (forward values, the delta, every path summed, the gradient, the update),
    every computed symbol of the trace (for the check box) and the spec file of this example."""
    explanation = explain(network, x=x, t=t, learning_rate=learning_rate)
    focus, shown, title = _focus(explanation, target)
    rows = [row for row in explanation_rows(explanation) if row["symbol"] in shown]
    return {
        "title": title,
        "focus": focus,
        "rows": rows,
        "symbols": _computed(explanation),
        "spec": spec_to_toml(explanation.spec),
    }


def check_number(spec_text: str, symbol: str, claimed: str) -> dict:
    """``chainrule check``'s verdict on the number ``claimed`` (as typed) for ``symbol`` in the
    worked example ``spec_text``: ``ok``, ``kind``, ``diagnosis``, ``correct``."""
    claimed = claimed.strip()
    try:
        number = float(claimed)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"type a number, e.g. 0.0123 or -1.5e-3; got {claimed!r}")
    claim = f"\n[claims]\n{json.dumps(symbol)} = {json.dumps(claimed)}\n"
    (result,) = check_spec(parse_spec(spec_text + claim))
    return result.to_dict()


def spec_steps(text: str, name: str = "spec.toml") -> dict:
    """A worked example from a spec file's text, every value in order for stepping through,
    and the verdicts on the claims it holds."""
    spec = parse_spec(text, name)
    explanation = explain(spec)
    return {
        "title": spec.title,
        "rows": explanation_rows(explanation),
        "symbols": _computed(explanation),
        "claims": [r.to_dict() for r in explanation.results or []],
        "spec": spec_to_toml(spec),
    }
