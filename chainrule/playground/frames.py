"""What the page draws, computed from a parameter snapshot: the decision boundary over a grid,
each neuron's own output over a coarser grid, and the weights.

Maps travel as bytes (base64): the boundary as the output probability ``round(255 p)``, a
neuron's map as ``round(127.5 (1 + a / scale))`` with ``scale`` its largest ``|a|`` on the grid
(at least 1, so tanh and sigmoid keep their own range); the output neuron's map, like the
boundary, is its probability ``round(255 p)``.
"""

from __future__ import annotations

import base64

import numpy as np

from ..core.network import Network

__all__ = ["BOUNDARY_GRID", "NEURON_GRID", "activations_on", "domain", "frame", "grid"]

BOUNDARY_GRID = 64
NEURON_GRID = 24


def domain(X: np.ndarray) -> list[float]:
    """A square ``[x_min, x_max, y_min, y_max]`` around the points, with a 10% margin."""
    low, high = X.min(axis=0), X.max(axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 0.5) * 1.1
    return [centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half]


def grid(box: list[float], size: int) -> np.ndarray:
    """``size * size`` points, row by row from the top (largest x2) to the bottom."""
    xs = np.linspace(box[0], box[1], size)
    ys = np.linspace(box[3], box[2], size)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _bytes(values: np.ndarray) -> str:
    return base64.b64encode(np.round(values).astype(np.uint8).tobytes()).decode("ascii")


def activations_on(network: Network, X: np.ndarray) -> list[np.ndarray]:
    """Each Dense layer's output ``A = f(A_prev @ W + b)`` for the rows of ``X``."""
    outputs, A = [], X
    for layer in network.dense_layers:
        A = layer.activation(A @ layer.W + layer.b)
        outputs.append(A)
    return outputs


def frame(network: Network, box: list[float]) -> dict:
    """The drawing data for ``network``'s current parameters over ``box``."""
    boundary = activations_on(network, grid(box, BOUNDARY_GRID))[-1][:, 0]
    outputs = activations_on(network, grid(box, NEURON_GRID))
    neurons = []
    for A in outputs[:-1]:
        layer = []
        for column in A.T:
            scale = max(float(np.abs(column).max()), 1.0)
            layer.append({"map": _bytes(127.5 * (1 + column / scale)), "scale": scale})
        neurons.append(layer)
    # the output neuron is the probability of class 1, drawn as the boundary is
    neurons.append([{"map": _bytes(255 * p), "probability": True} for p in outputs[-1].T])
    layers = [
        {"W": layer.W.tolist(), "b": layer.b.tolist(), "activation": layer.activation.name}
        for layer in network.dense_layers
    ]
    return {
        "boundary": _bytes(255 * boundary),
        "boundary_grid": BOUNDARY_GRID,
        "neuron_grid": NEURON_GRID,
        "neurons": neurons,
        "layers": layers,
    }
