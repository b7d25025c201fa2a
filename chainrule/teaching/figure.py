"""The network of a sheet, drawn with its given numbers only: where each neuron, edge and label
goes (in centimetres, y downwards), for the Typst and the LaTeX (TikZ) sheets to draw alike.

Neurons sit in a column per layer (inputs first), each showing its name, with its net input
and output symbols under it; an input's value is written left of it, an output's target right
of it, a bias above its neuron, each weight's name and value on its edge, at the first point
along the edge where the label overlaps no other label and no neuron. Nothing computed is
shown: the sheet asks for it. In a batch the inputs and targets are in the sheet's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..explain.spec import Spec

__all__ = ["RADIUS", "Figure", "Label", "Node", "given_text", "network_figure"]

DX, DY, RADIUS = 4.8, 2.1, 0.42  # column and row spacing, neuron radius (cm)
WIDTH = 17.0  # the widest drawing (an A4 page's text width): more layers sit closer
CHAR, LINE = 0.15, 0.42  # estimated width of a character and height of a label (cm)
_FRACTIONS = (0.5, 0.38, 0.62, 0.3, 0.7, 0.24, 0.76)
_MARGIN = (2.3, 1.1, 2.3, 0.2)  # left, top, right, bottom (cm)


def given_text(value: float) -> str:
    """A given number as the sheet writes it: as short as it was written (``0.15``, ``-2``)."""
    return f"{value + 0.0:.10g}"


@dataclass
class Label:
    """A text centred at ``(x, y)``: ``name = value``, or only ``name`` when value is None."""

    x: float
    y: float
    name: str
    value: str | None = None
    size: str = "small"  # small (labels) or tiny (symbols under a neuron)
    align: str = "center"  # center, left (starts at x) or right (ends at x)

    @property
    def text(self) -> str:
        return self.name if self.value is None else f"{self.name} = {self.value}"

    def box(self) -> tuple[float, float, float, float]:
        width = len(self.text) * CHAR * (0.8 if self.size == "tiny" else 1.0) + 0.15
        left = {"center": self.x - width / 2, "left": self.x, "right": self.x - width}[self.align]
        return (left, self.y - LINE / 2, left + width, self.y + LINE / 2)


@dataclass
class Node:
    name: str
    x: float
    y: float


@dataclass
class Figure:
    """A drawn network: its size, neurons, edges ``(from, to)`` with their labels, and the
    other labels (values, biases, symbols, headings)."""

    width: float
    height: float
    dx: float = DX  # the distance between two columns
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[Node, Node, Label]] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


def _overlaps(box, boxes) -> float:
    """The area ``box`` shares with ``boxes``."""
    x0, y0, x1, y1 = box
    return sum(
        max(0.0, min(x1, b[2]) - max(x0, b[0])) * max(0.0, min(y1, b[3]) - max(y0, b[1]))
        for b in boxes
    )


def _crossings(box, segments) -> int:
    """How many of ``segments`` (other edges) pass through ``box``: a label there would read
    as theirs."""
    x0, y0, x1, y1 = box
    steps = [k / 24 for k in range(25)]
    return sum(
        any(x0 <= ax + f * (bx - ax) <= x1 and y0 <= ay + f * (by - ay) <= y1 for f in steps)
        for ax, ay, bx, by in segments
    )


def _cost(label: Label, taken, segments) -> float:
    box = label.box()
    return _overlaps(box, taken) + 0.1 * _crossings(box, segments)


def _columns(spec: Spec) -> list[list]:
    return [spec.inputs, *(layer.neurons for layer in spec.layers)]


def _place_nodes(spec: Spec, figure: Figure) -> None:
    columns = _columns(spec)
    tallest = max(len(column) for column in columns)
    for c, column in enumerate(columns):
        for i, neuron in enumerate(column):
            y = _MARGIN[1] + 0.5 + ((tallest - len(column)) / 2 + i) * DY + RADIUS
            figure.nodes[neuron.name] = Node(neuron.name, _MARGIN[0] + c * figure.dx, y)


def _node_labels(spec: Spec, figure: Figure) -> None:
    batch = spec.n_samples > 1
    for neuron in spec.inputs:
        node = figure.nodes[neuron.name]
        value = None if batch else given_text(neuron.value)
        figure.labels.append(Label(node.x - RADIUS - 0.1, node.y, neuron.out, value, align="right"))
    for layer in spec.layers:
        for neuron in layer.neurons:
            node = figure.nodes[neuron.name]
            symbols = f"{neuron.net} → {neuron.out}"
            figure.labels.append(Label(node.x, node.y + RADIUS + 0.25, symbols, size="tiny"))
    for neuron in spec.outputs:
        node = figure.nodes[neuron.name]
        value = None if batch else given_text(neuron.target_value)
        figure.labels.append(
            Label(node.x + RADIUS + 0.1, node.y, neuron.target, value, align="left")
        )
    for parameter in spec.parameters.values():
        if parameter.kind == "bias":
            for _, target in parameter.uses:
                node = figure.nodes[target]
                label = Label(
                    node.x, node.y - RADIUS - 0.25, parameter.name, given_text(parameter.value)
                )
                figure.labels.append(label)


def _headings(spec: Spec, figure: Figure) -> None:
    y = _MARGIN[1] - 0.3
    figure.labels.append(Label(_MARGIN[0], y, "inputs"))
    for c, layer in enumerate(spec.layers, 1):
        heading = f"{layer.name} ({layer.activation})"
        figure.labels.append(Label(_MARGIN[0] + c * figure.dx, y, heading))


def _edge_labels(spec: Spec, figure: Figure) -> None:
    taken = [label.box() for label in figure.labels]
    taken += [
        (n.x - RADIUS, n.y - RADIUS, n.x + RADIUS, n.y + RADIUS) for n in figure.nodes.values()
    ]
    weights = [
        (p, figure.nodes[source], figure.nodes[target])
        for p in spec.parameters.values() if p.kind == "weight" for source, target in p.uses
    ]  # fmt: skip
    for parameter, a, b in weights:
        others = [(c.x, c.y, d.x, d.y) for _, c, d in weights if (c, d) != (a, b)]
        candidates = [
            Label(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y), parameter.name,
                  given_text(parameter.value))
            for f in _FRACTIONS
        ]  # fmt: skip
        best = min(candidates, key=lambda label: _cost(label, taken, others))
        taken.append(best.box())
        figure.edges.append((a, b, best))


def network_figure(spec: Spec) -> Figure:
    """Where everything of ``spec``'s drawing goes (see the module docstring)."""
    columns = _columns(spec)
    tallest = max(len(column) for column in columns)
    dx = min(DX, (WIDTH - _MARGIN[0] - _MARGIN[2]) / (len(columns) - 1))
    width = _MARGIN[0] + (len(columns) - 1) * dx + _MARGIN[2]
    height = _MARGIN[1] + 0.5 + (tallest - 1) * DY + 2 * RADIUS + 0.6 + _MARGIN[3]
    figure = Figure(width, height, dx)
    _place_nodes(spec, figure)
    _node_labels(spec, figure)
    _headings(spec, figure)
    _edge_labels(spec, figure)
    return figure
