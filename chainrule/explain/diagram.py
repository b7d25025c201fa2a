"""Draw a worked example like a textbook figure: neurons in layers with their names and values,
edges labelled with weight names and values, optionally coloured by gradient (matplotlib)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, pairwise

from ..files.figures import pyplot, save_figure
from .trace import Trace

__all__ = ["draw"]

_FONT = 7  # points
# points along an edge where its label may go, tried from the middle outwards
_FRACTIONS = sorted((0.12 + 0.04 * k for k in range(20)), key=lambda f: abs(f - 0.5))


def _overlaps(box, boxes) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _overlap_area(box, boxes) -> float:
    x0, y0, x1, y1 = box
    return sum(
        max(0.0, min(x1, b[2]) - max(x0, b[0])) * max(0.0, min(y1, b[3]) - max(y0, b[1]))
        for b in boxes
    )


def _label_box(x, y, lines: list[str], units_per_point: float):
    """An estimate of a centred label's extent in data units (with the box's padding)."""
    width = (max(map(len, lines)) * 0.62 + 1.6) * _FONT * units_per_point
    height = (len(lines) * 1.25 + 0.6) * _FONT * units_per_point
    return (x - width / 2, y - height / 2, x + width / 2, y + height / 2)


def _label_edges(axes, pending, obstacles, gradients: bool, digits: int) -> list:
    """Label each edge at the first point along it (of ``_FRACTIONS``) where its label overlaps
    no other label, neuron or bias note, measured in the final layout's data units."""
    axes.apply_aspect()  # the equal aspect is otherwise applied only when drawing
    x0, x1 = axes.transData.transform([(0, 0), (1, 0)])[:, 0]
    units_per_point = axes.figure.dpi / 72 / (x1 - x0)
    placed = []
    for item in obstacles:
        if item[0] == "notes":
            _, x, y, notes = item
            box = _label_box(x, y, notes, units_per_point)
            height = box[3] - box[1]
            placed.append((box[0], y - height, box[2], y))
        else:
            placed.append(item)
    labels = []
    for parameter, (ax, ay, bx, by), colour in pending:
        lines = [f"{parameter.name} = {parameter.value:.{digits}g}"]
        if gradients:
            grad = axes.figure.gradients[parameter.name]
            lines.append(f"dE/d{parameter.name} = {grad:.{digits}g}")
        candidates = [(ax + f * (bx - ax), ay + f * (by - ay)) for f in _FRACTIONS]
        boxes = [_label_box(x, y, lines, units_per_point) for x, y in candidates]
        free = [i for i, box in enumerate(boxes) if not _overlaps(box, placed)]
        best = (
            free[0]
            if free
            else min(range(len(boxes)), key=lambda i: _overlap_area(boxes[i], placed))
        )
        placed.append(boxes[best])
        labels.append(
            axes.text(
                *candidates[best],
                "\n".join(lines),
                fontsize=_FONT,
                ha="center",
                va="center",
                zorder=3,
                color="0.1",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "lw": 0.6},
            )
        )
    return labels


def draw(trace: Trace, path=None, *, gradients: bool = True, digits: int = 4):
    """Draw the network of ``trace``; save it to ``path`` when given, in the image format its
    suffix names (any that matplotlib writes, see :func:`~chainrule.files.figures.check_format`; png
    without a suffix).

    Neurons show their name, net input and output (the first sample's, in a batch); each edge
    shows its weight's name and value and, with ``gradients``, dE/dw, and is coloured by dE/dw
    (red positive, blue negative: the weight moves against its colour) with a width that
    grows with |dE/dw|; a legend says so. Biases and their gradients are written under their
    neuron. Each label goes to the first point along its edge where it overlaps no other
    label and no neuron, so crossing edges stay readable. Returns the figure; its edge labels
    are ``figure.edge_labels``.
    """
    plt = pyplot()
    spec, values = trace.spec, trace.values()
    layout = _layout(spec)
    figure, axes = plt.subplots(figsize=_figure_size(layout))
    grads = {p: values.get(f"dE/d{p}", 0.0) for p in spec.parameters}
    colormap = plt.get_cmap("coolwarm")
    figure.gradients = grads
    pending = _draw_edges(axes, spec, layout.position, grads, colormap, gradients)
    obstacles = _draw_neurons(axes, trace, values, layout, grads, gradients, digits)
    _draw_headings(axes, spec, layout)
    if gradients:
        _draw_legend(axes, colormap)
    _frame(axes, trace, values["E"], layout, digits)
    figure.tight_layout()
    figure.edge_labels = _label_edges(axes, pending, obstacles, gradients, digits)
    if path is not None:
        save_figure(figure, path)
    return figure


@dataclass(frozen=True)
class _Layout:
    """Where each neuron sits, in data units: a column per layer (inputs first), each centred
    vertically, ``dx`` apart, its neurons ``dy`` apart."""

    columns: list
    position: dict[str, tuple[float, float]]
    dx: float
    dy: float
    tallest: int  # neurons in the fullest column

    @property
    def top(self) -> float:
        """The y of the highest neuron."""
        return (self.tallest - 1) / 2 * self.dy

    @property
    def width(self) -> float:
        """The x of the last column (the first is at 0)."""
        return self.dx * (len(self.columns) - 1)


def _layout(spec) -> _Layout:
    """The grid of neurons, spaced for the labels of the most edges between two layers."""
    columns = [spec.inputs] + [layer.neurons for layer in spec.layers]
    widest = max(len(a) * len(b) for a, b in pairwise(columns))
    dx = 5.5 + 1.0 * max(0, widest - 4) + 0.8 * (widest > 4)
    dy = 2.4 + 0.25 * max(0, widest - 4)
    position = {
        neuron.name: (x * dx, ((len(column) - 1) / 2 - j) * dy)
        for x, column in enumerate(columns)
        for j, neuron in enumerate(column)
    }
    return _Layout(columns, position, dx, dy, max(len(column) for column in columns))


def _figure_size(layout: _Layout) -> tuple[float, float]:
    """The figure's size in inches: the grid at a fixed scale, with a margin for the notes,
    the layer names and the legend."""
    inches_per_unit = 2.8 / 5.5
    return (
        inches_per_unit * (layout.width + 2.4) + 0.6,
        inches_per_unit * ((layout.tallest - 1) * layout.dy + 3.8) + 0.9,
    )


def _draw_edges(axes, spec, position, grads, colormap, gradients: bool) -> list:
    """Draw an edge per weight use, coloured and widened by its dE/dw with ``gradients``;
    returns ``(parameter, end points, colour)`` per edge, labelled once the layout is final."""
    scale = max((abs(g) for g in grads.values()), default=0.0) or 1.0
    pending = []
    for parameter in spec.parameters.values():
        grad = grads[parameter.name]
        for source, target in parameter.uses:
            if source is None:
                continue
            (x0, y0), (x1, y1) = position[source], position[target]
            colour = colormap(0.5 + 0.5 * grad / scale) if gradients else "0.4"
            width = 1.0 + 3.0 * gradients * abs(grad) / scale
            axes.plot([x0, x1], [y0, y1], color=colour, linewidth=width, zorder=1)
            pending.append((parameter, (x0, y0, x1, y1), colour))
    return pending


def _neuron_lines(trace, values, neuron, digits: int) -> list[str]:
    """What a neuron's circle says: its name and output (an input) or net input and output
    (the first sample's, in a batch)."""

    def shown(symbol):
        """The symbol's value (its first sample's, in a batch) as written in the circle."""
        value = values[symbol] if symbol in values else values[trace.tag(symbol, 1)]
        return f"{value:.{digits}g}"

    if neuron.layer == 0:
        return [neuron.name, shown(neuron.out)]
    return [
        neuron.name,
        f"{neuron.net} = {shown(neuron.net)}",
        f"{neuron.out} = {shown(neuron.out)}",
    ]


def _neuron_notes(spec, neuron, grads, gradients: bool, digits: int) -> list[str]:
    """The lines under a neuron: its biases (with dE/db under ``gradients``) and its target."""
    notes = []
    for p in spec.parameters.values():
        if any(source is None and t == neuron.name for source, t in p.uses):
            note = f"{p.name} = {p.value:.{digits}g}"
            if gradients:
                note += f", dE/d{p.name} = {grads[p.name]:.{digits}g}"
            notes.append(note)
    if neuron.target is not None:
        notes.append(f"{neuron.target} = {neuron.target_value:.{digits}g}")
    return notes


def _draw_neurons(axes, trace, values, layout: _Layout, grads, gradients: bool, digits: int):
    """Draw each neuron with its values and the notes under it; returns what an edge label
    must not cover: a box per neuron and ``("notes", x, y, lines)`` per block of notes."""
    from matplotlib.patches import Circle

    position = layout.position
    obstacles = [(x - 0.75, y - 0.75, x + 0.75, y + 0.75) for x, y in position.values()]
    for neuron in chain.from_iterable(layout.columns):
        x, y = position[neuron.name]
        axes.add_patch(Circle((x, y), 0.7, fc="#f5f5f5", ec="0.2", zorder=2))
        text = "\n".join(_neuron_lines(trace, values, neuron, digits))
        axes.text(x, y, text, fontsize=_FONT, ha="center", va="center", zorder=4)
        notes = _neuron_notes(trace.spec, neuron, grads, gradients, digits)
        if notes:
            text = "\n".join(notes)
            axes.text(x, y - 0.8, text, fontsize=_FONT, ha="center", va="top", color="0.25")
            obstacles.append(("notes", x, y - 0.8, notes))
    return obstacles


def _draw_headings(axes, spec, layout: _Layout) -> None:
    """Each column's layer name above it."""
    names = ["input"] + [layer.name for layer in spec.layers]
    for x, name in enumerate(names):
        axes.text(x * layout.dx, layout.top + 1.0, name, ha="center", fontsize=9, weight="bold")


def _draw_legend(axes, colormap) -> None:
    """A legend for the edges' colour (the sign of dE/dw) and width (its size)."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colormap(1.0), lw=3, label="dE/dw > 0: the weight decreases"),
        Line2D([], [], color=colormap(0.0), lw=3, label="dE/dw < 0: the weight increases"),
        Line2D([], [], color="0.5", lw=1, label="line width grows with |dE/dw|"),
    ]
    axes.legend(
        handles=handles, loc="lower center", ncol=3, fontsize=_FONT, frameon=False,
        bbox_to_anchor=(0.5, -0.02),
    )  # fmt: skip


def _frame(axes, trace, error: float, layout: _Layout, digits: int) -> None:
    """The title (with the total error ``error``) and the axes' extent, equal aspect and no
    frame."""
    batch = " (sample 1 shown)" if trace.batch else ""
    axes.set_title(f"{trace.spec.title}\nE = {error:.{digits + 2}g}{batch}", fontsize=10)
    axes.set_xlim(-1.2, layout.width + 1.2)
    axes.set_ylim(-layout.top - 2.4, layout.top + 1.4)
    axes.set_aspect("equal")
    axes.axis("off")
