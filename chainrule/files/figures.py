"""Figures (matplotlib, the ``plot`` extra): training curves, a 2-D decision boundary, a
confusion matrix. Each is written atomically: a failed save leaves an existing file intact."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.extras import install_hint
from .atomic import atomic_open

__all__ = [
    "check_format",
    "confusion_matrix",
    "curves",
    "decision_boundary",
    "predicted_vs_actual",
    "pyplot",
    "save_figure",
]


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend, or an ImportError naming the
    extra to install."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"figures need matplotlib: {install_hint('plot')}") from None
    return plt


def check_format(path, what: str = "figure") -> str:
    """The image format ``path``'s extension names (``png`` when it has none), or a ValueError
    naming ``what``, the path and the formats matplotlib writes."""
    pyplot()  # a missing matplotlib is reported as the extra to install
    from matplotlib.backend_bases import FigureCanvasBase

    image_format = Path(path).suffix.lstrip(".").lower() or "png"
    known = FigureCanvasBase.get_supported_filetypes()
    if image_format not in known:
        raise ValueError(
            f"{what} {str(path)!r}: unknown image format {image_format!r}; use one of "
            + ", ".join(sorted(known))
        )
    return image_format


def save_figure(figure, path, name=None) -> None:
    """Save ``figure`` to ``path`` through a temporary file and ``os.replace``; or, when
    ``path`` is a binary stream, into it, in the format ``name``'s extension gives."""
    try:
        image_format = check_format(name if name is not None else path)
        if hasattr(path, "write"):
            figure.savefig(path, format=image_format, dpi=120)
            return
        with atomic_open(path) as stream:
            figure.savefig(stream, format=image_format, dpi=120)
    finally:
        pyplot().close(figure)


def curves(history, path, name=None) -> None:
    """Loss (and each recorded metric) per epoch, training and validation side by side
    (``path`` and ``name`` as in :func:`save_figure`)."""
    plt = pyplot()
    keys = [k for k in history.history if not k.startswith("val_") and k not in ("lr", "seconds")]
    figure, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    epochs = np.array(history.epoch) + 1
    for axis, key in zip(axes[0], keys, strict=True):
        axis.plot(epochs, history.history[key], label=f"training {key}")
        if f"val_{key}" in history.history:
            axis.plot(epochs, history.history[f"val_{key}"], label=f"validation {key}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(key)
        axis.set_title(key)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    save_figure(figure, path, name)


def decision_boundary(model, X: np.ndarray, labels: np.ndarray, path, name=None) -> None:
    """For a classifier on two features: the predicted class over the plane, with the data."""
    plt = pyplot()
    if X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2 features, got {X.shape[1]}")
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 300), np.linspace(low[1], high[1], 300))
    grid = (np.column_stack([gx.ravel(), gy.ravel()]) - model.mean) / model.scale
    predicted = model.network.predict(grid).argmax(axis=1).reshape(gx.shape)
    figure, axis = plt.subplots(figsize=(5.5, 5))
    k = len(model.classes)
    colours = plt.get_cmap("tab10")
    axis.contourf(
        gx,
        gy,
        predicted,
        levels=np.arange(k + 1) - 0.5,
        colors=[colours(i) for i in range(k)],
        alpha=0.25,
    )
    for i, label in enumerate(model.classes):
        chosen = labels == i
        axis.scatter(
            X[chosen, 0],
            X[chosen, 1],
            s=12,
            color=colours(i),
            label=label,
            edgecolor="white",
            linewidth=0.3,
        )
    axis.set_xlabel(model.features[0])
    axis.set_ylabel(model.features[1])
    axis.set_title("decision boundary")
    axis.legend(title=model.target)
    figure.tight_layout()
    save_figure(figure, path, name)


def confusion_matrix(confusion, classes: list[str], path, name=None) -> None:
    """A confusion matrix (rows: true class, columns: predicted) with counts in the cells
    (``path`` and ``name`` as in :func:`save_figure`)."""
    plt = pyplot()
    matrix = np.asarray(confusion)
    figure, axis = plt.subplots(figsize=(1.2 * len(classes) + 2.5, 1.2 * len(classes) + 2))
    axis.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        axis.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            color="white" if count > matrix.max() / 2 else "black",
        )
    axis.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axis.set_yticks(range(len(classes)), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title("confusion matrix")
    figure.tight_layout()
    save_figure(figure, path, name)


def predicted_vs_actual(actual, predicted, target: str, path, name=None) -> None:
    """Predicted against actual values of a regression target, with the line y = x (``path``
    and ``name`` as in :func:`save_figure`)."""
    plt = pyplot()
    actual, predicted = np.asarray(actual), np.asarray(predicted)
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.scatter(actual, predicted, s=8, alpha=0.6)
    low, high = min(actual.min(), predicted.min()), max(actual.max(), predicted.max())
    axis.plot([low, high], [low, high], color="black", linewidth=1, label="predicted = actual")
    axis.set_xlabel(f"actual {target}")
    axis.set_ylabel(f"predicted {target}")
    axis.set_title("predicted against actual")
    axis.legend(loc="upper left")
    figure.tight_layout()
    save_figure(figure, path, name)
