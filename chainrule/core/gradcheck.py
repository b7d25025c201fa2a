"""Finite-difference gradient check, in float64, over every parameter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .deprecation import renamed_arguments
from .layers import Embedding
from .validation import check_real

__all__ = ["GradcheckResult", "gradcheck"]

# functions whose derivative jumps somewhere (ELU's at 0 unless alpha = 1, its second
# derivative always): a difference stencil across the jump is off by O(h), not O(h^4)
_KINKED = {"relu", "leaky_relu", "elu", "mae", "huber"}


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck`.

    Attributes
    ----------
    max_relative_error : float
        ``max_i |analytic_i - numeric_i| / max(|analytic_i|, |numeric_i|, floor)``.
    where : str
        The parameter with the worst error, as ``'layer 1 W[0, 2]'`` or ``'layer 0 b[1]'``.
    index : int
        Its position in the flat parameter vector.
    analytic, numeric : ndarray of shape (n_params,)
        Both gradients, flat.
    """

    max_relative_error: float
    where: str
    index: int
    analytic: np.ndarray
    numeric: np.ndarray

    def __float__(self) -> float:
        return self.max_relative_error


def _describe(network, index: int) -> str:
    start = 0
    for position, layer in enumerate(network.layers):
        if start <= index < start + layer.n_params:
            offset = index - start
            if isinstance(layer, Embedding):
                return f"layer {position} {_embedding_parameter(layer, offset)}"
            split = layer.n_in * layer.n_out
            if offset < split:
                return f"layer {position} W[{offset // layer.n_out}, {offset % layer.n_out}]"
            if offset < split + layer.n_out:
                return f"layer {position} b[{offset - split}]"
            return f"layer {position} u[{offset - split - layer.n_out}]"
        start += layer.n_params
    raise IndexError(index)


def _embedding_parameter(layer: Embedding, offset: int) -> str:
    """``E<group>[i, j]``: the Embedding parameter at ``offset`` in the layer's slice."""
    for group, (start, stop) in enumerate(layer.groups):
        size = (stop - start) * layer.width
        if offset < size:
            return f"E{group}[{offset // layer.width}, {offset % layer.width}]"
        offset -= size
    raise IndexError(offset)


def _inside_the_kinks(net, X, step: float) -> float:
    """``step``, or a quarter of the smallest ``|Z|`` of a kinked layer on ``X`` if smaller
    (not below 1e-9, where rounding in the loss differences would dominate)."""
    A, margin = X, np.inf
    for layer in net.layers:
        if getattr(layer, "activation", None) is not None and layer.activation.name in _KINKED:
            margin = min(margin, float(np.abs(A @ layer.effective_W + layer.b).min()))
        A = layer.forward(A)
    return float(np.clip(margin / 4.0, 1e-9, step))


@renamed_arguments(T="y")
def gradcheck(
    network, X, y, sample_weight=None, *, step: float | None = None, floor: float | None = None
) -> GradcheckResult:
    """Compare backpropagation's gradient with central finite differences, in float64.

    Each parameter ``p`` is moved in a float64 copy of ``network`` and the fourth-order
    central difference ``(-E(p+2h) + 8 E(p+h) - 8 E(p-h) + E(p-2h)) / (12 h)`` (error
    ``O(h^4)``) is compared with ``dE/dp`` from :meth:`Network.loss_and_gradients`. Frozen
    parameters are compared against 0.

    Parameters
    ----------
    network : Network
        Left unchanged.
    X, y, sample_weight
        The inputs, targets and sample weights, as in :meth:`Network.compute_loss` (``y`` was
        ``T``, still accepted with a ``FutureWarning``).
    step : float, optional
        The difference step ``h``. By default 1e-3, or 1e-6 where an activation or the loss
        has a kink (ReLU, leaky ReLU, ELU, MAE, Huber), so that the stencil rarely straddles
        one; smaller still (down to 1e-9) where such an activation's net input on these rows
        lies within ``4 h`` of its kink, so that the stencil ``p +- 2h`` does not cross it.
    floor : float, optional
        The smallest denominator of the relative error. By default
        ``1e-8 * max(1, |E|) / step``: float64 rounding in the differences of ``E`` leaves an
        absolute noise of about ``1e-16 |E| / step``, so smaller gradients cannot be resolved
        and two tiny gradients must not count as far apart.

    Returns
    -------
    GradcheckResult
        ``float(result)`` is the worst relative error.
    """
    net = network.copy(dtype="float64")
    chosen_step = step is None
    if step is None:
        kinked = {
            layer.activation.name for layer in net.dense_layers
        } & _KINKED or net.loss.name in _KINKED
        step = 1e-6 if kinked else 1e-3
    step = check_real(step, "step", low=0.0, low_open=True)
    X, T, weights = net.check_data(X, y, sample_weight)
    if chosen_step:
        step = _inside_the_kinks(net, X, step)
    value = net.forward_backward(X, T, weights)
    if floor is None:
        floor = 1e-8 * max(1.0, abs(value)) / step
    floor = check_real(floor, "floor", low=0.0, low_open=True)
    analytic = net.gradients.copy()
    frozen = net.frozen
    numeric = np.empty_like(analytic)
    for index in range(net.n_params):
        if frozen is not None and frozen[index]:
            numeric[index] = 0.0
            continue
        original = net.parameters[index]
        values = []
        for shift in (2.0, 1.0, -1.0, -2.0):
            net.parameters[index] = original + shift * step
            values.append(net.compute_loss(X, T, weights))
        net.parameters[index] = original
        numeric[index] = (-values[0] + 8.0 * values[1] - 8.0 * values[2] + values[3]) / (
            12.0 * step
        )
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    errors = np.abs(analytic - numeric) / scale
    worst = int(np.argmax(errors))
    return GradcheckResult(float(errors[worst]), _describe(net, worst), worst, analytic, numeric)
