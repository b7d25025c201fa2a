"""Loss functions: per-sample value and its gradient, side by side.

A network's loss is the mean over the samples of a per-sample loss ``L_i`` (weighted by
``sample_weight`` when given: ``E = sum_i w_i L_i / n``). The per-sample losses are

=======================  ===============================================  ====================
name                     ``L_i``                                          ``dL_i/dy_k``
=======================  ===============================================  ====================
squared_error            ``1/2 sum_k (t_k - y_k)^2`` (the seeds' E_total)   ``y_k - t_k``
mse                      ``mean_k (t_k - y_k)^2``                           ``2 (y_k - t_k) / K``
mae                      ``mean_k |t_k - y_k|``                             ``sign(y_k - t_k) / K``
huber                    ``mean_k h(y_k - t_k)``                            ``clip(r, -d, d) / K``
binary_cross_entropy     ``mean_k -(t log y + (1 - t) log(1 - y))``         (fused with sigmoid)
cross_entropy            ``-sum_k t_k log y_k``                             (fused with softmax)
=======================  ===============================================  ====================

with ``K`` the number of outputs and ``h(r) = r^2/2`` for ``|r| <= d``, ``d (|r| - d/2)`` beyond.

The two cross-entropies are only defined here with the output activation they pair with
(sigmoid and softmax). For those pairs the output delta ``dL_i/dz`` is ``(y - t) / K`` and
``y - t``, and the value is computed from the net inputs ``z`` through log-sum-exp, so neither
ever takes the log of a rounded-off 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .activations import softmax_and_log_norm
from .registry import Registered, lookup
from .validation import check_finite, check_real

__all__ = [
    "FUSED_OUTPUTS",
    "Loss",
    "NAMES",
    "binary_cross_entropy",
    "cross_entropy",
    "get",
    "huber",
    "loss_for_output",
    "mae",
    "mse",
    "output_activation_for",
    "prepare_targets",
    "squared_error",
]

Array = np.ndarray


@dataclass(frozen=True, repr=False)
class Loss(Registered):
    """A per-sample loss and its derivative.

    Parameters
    ----------
    name : str
        The registry name.
    value : callable ``(Y, T, Z) -> ndarray of shape (n_samples,)``
        Per-sample losses. ``Z`` (the output net input) is used by the fused losses.
    gradient : callable ``(Y, T) -> ndarray of shape Y.shape``
        ``dL_i/dY``. For a fused loss this is already ``dL_i/dZ`` of its paired activation.
    pairs_with : str or None
        The output activation a fused loss requires (``'sigmoid'``, ``'softmax'``).
    params : dict
        Hyperparameters (Huber's ``delta``).
    value_from_log_norm : callable ``(T, Z, log_norm) -> ndarray of shape (n_samples,)``, optional
        The same per-sample losses from each row's ``log sum_k exp(z_k)`` as the softmax output
        computed it in the forward pass (cross-entropy): no second pass over ``Z``.
    """

    name: str
    value: Callable[[Array, Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    pairs_with: str | None = None
    params: dict = field(default_factory=dict)
    value_from_log_norm: Callable[[Array, Array, Array], Array] | None = None

    @property
    def fused(self) -> bool:
        """True when ``gradient`` returns the output delta ``dL/dZ`` directly."""
        return self.pairs_with is not None


def _half_row_sum_of_squares(D: Array) -> Array:
    return 0.5 * np.einsum("ij,ij->i", D, D)


def squared_error() -> Loss:
    """``L = 1/2 sum_k (t_k - y_k)^2``; ``dL/dy_k = y_k - t_k``."""
    return Loss(
        "squared_error",
        lambda Y, T, Z: _half_row_sum_of_squares(Y - T),
        lambda Y, T: Y - T,
    )


def mse() -> Loss:
    """``L = mean_k (t_k - y_k)^2``; ``dL/dy_k = 2 (y_k - t_k) / K``."""
    return Loss(
        "mse",
        lambda Y, T, Z: np.mean((Y - T) ** 2, axis=1),
        lambda Y, T: (Y - T) * (2.0 / Y.shape[1]),
    )


def mae() -> Loss:
    """``L = mean_k |t_k - y_k|``; ``dL/dy_k = sign(y_k - t_k) / K`` (0 where they are equal)."""
    return Loss(
        "mae",
        lambda Y, T, Z: np.mean(np.abs(Y - T), axis=1),
        lambda Y, T: np.sign(Y - T) / Y.shape[1],
    )


def huber(delta: float = 1.0) -> Loss:
    """``L = mean_k h(y_k - t_k)`` with ``h(r) = r^2/2`` if ``|r| <= delta`` else
    ``delta (|r| - delta/2)``; ``dL/dy_k = clip(y_k - t_k, -delta, delta) / K``.
    Matches ``torch.nn.HuberLoss``."""
    delta = check_real(delta, "delta", low=0.0, low_open=True)

    def value(Y, T, Z):
        R = np.abs(Y - T)
        return np.mean(np.where(delta >= R, 0.5 * R * R, delta * (R - 0.5 * delta)), axis=1)

    return Loss(
        "huber",
        value,
        lambda Y, T: np.clip(Y - T, -delta, delta) / Y.shape[1],
        params={"delta": delta},
    )


def _softplus(Z: Array) -> Array:
    return np.logaddexp(0.0, Z)


def binary_cross_entropy() -> Loss:
    """Mean over outputs of ``-(t log y + (1 - t) log(1 - y))`` with ``y = sigmoid(z)``.

    Computed as ``softplus(z) - t z``; the output delta is ``dL/dz = (y - t) / K``.
    """
    return Loss(
        "binary_cross_entropy",
        lambda Y, T, Z: np.mean(_softplus(Z) - T * Z, axis=1),
        lambda Y, T: (Y - T) / Y.shape[1],
        pairs_with="sigmoid",
    )


def cross_entropy() -> Loss:
    """``-sum_k t_k log y_k`` with ``y = softmax(z)``, targets one-hot or class probabilities.

    Computed as ``sum_k t_k (logsumexp(z) - z_k)``; the output delta is ``dL/dz = y - t``
    (rows of ``t`` sum to 1). Integer class labels are turned into one-hot rows by the network.
    """

    return Loss(
        "cross_entropy",
        lambda Y, T, Z: _cross_entropy(T, Z, softmax_and_log_norm(Z, None)[1]),
        lambda Y, T: Y - T,
        pairs_with="softmax",
        value_from_log_norm=_cross_entropy,
    )


def _cross_entropy(T: Array, Z: Array, log_norm: Array) -> Array:
    """``sum_k t_k (log_norm - z_k)`` per row, ``log_norm = log sum_j exp(z_j)`` of shape (n, 1)."""
    return np.einsum("ij,ij->i", T, log_norm - Z)


_REGISTRY: dict[str, Callable[..., Loss]] = {
    "squared_error": squared_error,
    "mse": mse,
    "mean_squared_error": mse,
    "mae": mae,
    "mean_absolute_error": mae,
    "huber": huber,
    "binary_cross_entropy": binary_cross_entropy,
    "bce": binary_cross_entropy,
    "cross_entropy": cross_entropy,
    "categorical_cross_entropy": cross_entropy,
}

NAMES = tuple(sorted(_REGISTRY))

#: Each fused loss and the output activation it requires (its ``pairs_with``):
#: ``{'binary_cross_entropy': 'sigmoid', 'cross_entropy': 'softmax'}``. The one place that
#: says which loss goes with which output; everything else reads it from here.
FUSED_OUTPUTS = {
    loss.name: loss.pairs_with
    for loss in (make() for make in dict.fromkeys(_REGISTRY.values()))
    if loss.fused
}


def get(spec) -> Loss:
    """Return the loss named by ``spec`` (a name, a config dict or a :class:`Loss`).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    return lookup(_REGISTRY, spec, "loss", Loss)


def output_activation_for(spec) -> str:
    """The output activation a network with the loss ``spec`` gets when none is asked for: the
    one a fused loss requires (softmax for ``cross_entropy``, sigmoid for
    ``binary_cross_entropy``), ``'identity'`` for the others.

    Raises
    ------
    ValueError
        For an unknown loss, as :func:`get`.
    """
    return get(spec).pairs_with or "identity"


def loss_for_output(activation: str) -> str | None:
    """The fused loss that requires the output ``activation`` (``'cross_entropy'`` for
    ``'softmax'``, ``'binary_cross_entropy'`` for ``'sigmoid'``); None for any other."""
    return next((name for name, output in FUSED_OUTPUTS.items() if output == activation), None)


def prepare_targets(loss: Loss, T, n_samples: int, n_outputs: int, dtype) -> Array:
    """Check targets against a loss and return them with the outputs' shape ``(n, K)``.

    A 1-D ``T`` is accepted for one output (values) and for ``cross_entropy`` (integer class
    labels ``0..K-1``, turned into one-hot rows). Nothing else is reshaped or broadcast.

    Raises
    ------
    ValueError
        For a shape that does not fit, non-finite values, labels out of range, binary
        cross-entropy targets outside [0, 1] or cross-entropy rows that do not sum to 1.
    """
    try:
        array = np.asarray(T)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"dtype {array.dtype}")
    except (TypeError, ValueError) as error:
        raise ValueError(f"'T' must be a numeric array, got {type(T).__name__}: {error}") from None
    if array.shape[:1] != (n_samples,):
        raise ValueError(
            f"'T' must have {n_samples} rows (one per sample of 'X'), got shape {array.shape}"
        )
    if array.ndim == 1 and loss.name == "cross_entropy":
        return _one_hot(array, n_outputs, dtype)
    if array.ndim == 1 and n_outputs == 1:
        array = array[:, None]
    if array.shape != (n_samples, n_outputs):
        raise ValueError(
            f"'T' must have shape ({n_samples}, {n_outputs}) to match the network's outputs, "
            f"got shape {array.shape}"
        )
    array = np.asarray(array, dtype=dtype)
    check_finite(array, "T")
    if loss.name in ("binary_cross_entropy", "cross_entropy") and (
        (array < 0).any() or (array > 1).any()
    ):
        bad = array[(array < 0) | (array > 1)][0]
        raise ValueError(f"'T' for {loss.name} must lie in [0, 1], got {bad}")
    if loss.name == "cross_entropy":
        sums = array.sum(axis=1)
        tolerance = 1e-5 if array.dtype == np.float32 else 1e-9
        if np.abs(sums - 1.0).max() > tolerance:
            row = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(
                f"'T' rows for cross_entropy must be one-hot or probabilities summing to 1, "
                f"got a row summing to {sums[row]} at row {row}"
            )
    return array


def _one_hot(labels: Array, n_classes: int, dtype) -> Array:
    not_integer = ~np.isfinite(labels) | (labels != np.round(labels))
    if labels.dtype.kind == "f" and not_integer.any():
        raise ValueError(f"'T' class labels must be integers, got {labels[not_integer][0]}")
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise ValueError(
            f"'T' holds class label {labels[bad][0]}, but the network has {n_classes} outputs "
            f"(labels must be integers in [0, {n_classes}))"
        )
    one_hot = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    one_hot[np.arange(labels.shape[0]), labels.astype(np.intp)] = 1.0
    return one_hot


Loss._get = staticmethod(get)  # what a pickled Loss is rebuilt with
