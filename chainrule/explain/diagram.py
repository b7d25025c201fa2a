"""Draw a worked example like a textbook figure: neurons in layers with their names and values,
edges labelled with weight names and values, optionally coloured by gradient (matplotlib)."""

from __future__ import annotations

from ..plots import pyplot, save_figure
from .trace import Trace


def draw(trace: Trace, path=None, *, gradients: bool = True, digits: int = 4):
    """Draw the network of ``trace``; save it to ``path`` (.png or .svg) when given.

    Neurons show their name, net input and output; each edge shows its weight's name and value
    and, with ``gradients``, is coloured by dE/dw (red positive, blue negative; the weight
    moves against its colour). Biases are written under their neuron. Returns the figure.
    """
    plt = pyplot()
    spec, values = trace.spec, trace.values()
    columns = [spec.inputs] + [layer.neurons for layer in spec.layers]
    tallest = max(len(column) for column in columns)
    dx, dy = 5.5, 2.2
    # With many edges between two layers, labels shrink to one short line near the source.
    dense = any(len(a) * len(b) > 8 for a, b in zip(columns, columns[1:]))
    position, row = {}, {}
    for x, column in enumerate(columns):
        for j, neuron in enumerate(column):  # each column centred vertically
            position[neuron.name] = (x * dx, ((len(column) - 1) / 2 - j) * dy)
            row[neuron.name] = (j, len(column))
    top = (tallest - 1) / 2 * dy
    figure, axes = plt.subplots(figsize=(2.6 * len(columns) + 1, 1.25 * tallest + 1.6))
    grads = {p: values.get(f"dE/d{p}", 0.0) for p in spec.parameters}
    scale = max((abs(g) for g in grads.values()), default=0.0) or 1.0
    colormap = plt.get_cmap("coolwarm")
    for parameter in spec.parameters.values():
        for source, target in parameter.uses:
            if source is None:
                continue
            (x0, y0), (x1, y1) = position[source], position[target]
            colour = colormap(0.5 + 0.5 * grads[parameter.name] / scale) if gradients else "0.4"
            axes.plot(
                [x0, x1],
                [y0, y1],
                color=colour,
                linewidth=1.2 + 2.5 * gradients * abs(grads[parameter.name]) / scale,
                zorder=1,
            )
            # Labels of crossing edges go to opposite ends: falling edges near their source,
            # rising ones near their target, level ones in the middle.
            j, _ = row[target]
            if dense:
                fraction = 0.22 + 0.14 * (j % 2)
            else:
                fraction = 0.5 if abs(y1 - y0) < 1e-9 else (0.28 if y1 < y0 else 0.72)
            lx, ly = x0 + fraction * (x1 - x0), y0 + fraction * (y1 - y0)
            label = f"{parameter.name} = {parameter.value:.{digits}g}"
            if gradients and not dense:
                label += f"\ndE/d{parameter.name} = {grads[parameter.name]:.{digits}g}"
            axes.text(
                lx,
                ly,
                label,
                fontsize=6 if dense else 7,
                ha="center",
                va="center",
                zorder=3,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            )
    for column in columns:
        for neuron in column:
            x, y = position[neuron.name]
            axes.add_patch(plt.Circle((x, y), 0.7, fc="#f5f5f5", ec="0.2", zorder=2))
            lines = [neuron.name]
            if neuron.layer == 0:
                lines.append(f"{values[neuron.out]:.{digits}g}")
            else:
                lines.append(f"{neuron.net} = {values[neuron.net]:.{digits}g}")
                lines.append(f"{neuron.out} = {values[neuron.out]:.{digits}g}")
            axes.text(x, y, "\n".join(lines), fontsize=7, ha="center", va="center", zorder=4)
            notes = [
                f"{p.name} = {p.value:.{digits}g}"
                for p in spec.parameters.values()
                for source, target in p.uses
                if source is None and target == neuron.name
            ]
            if neuron.target is not None:
                notes.append(f"{neuron.target} = {neuron.target_value:.{digits}g}")
            if notes:
                axes.text(
                    x, y - 0.78, "\n".join(notes), fontsize=7, ha="center", va="top", color="0.25"
                )
    names = ["input"] + [layer.name for layer in spec.layers]
    for x, name in enumerate(names):
        axes.text(x * dx, top + 1.0, name, ha="center", fontsize=9, weight="bold")
    axes.set_title(f"{spec.title}\nE = {values['E']:.{digits + 2}g}", fontsize=10)
    axes.set_xlim(-1, dx * (len(columns) - 1) + 1)
    axes.set_ylim(-top - 1.6, top + 1.4)
    axes.set_aspect("equal")
    axes.axis("off")
    figure.tight_layout()
    if path is not None:
        save_figure(figure, path)
    return figure
