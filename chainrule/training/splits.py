"""Which rows train and which validate, and how much each sample weighs: the validation split
(stratified by class for classification) and class weights ('balanced' as scikit-learn)."""

from __future__ import annotations

import numpy as np

from ..core.validation import check_real
from .replicas import ONE_PROCESS

__all__ = [
    "apply_class_weight",
    "class_indices",
    "class_indices_for",
    "class_weight_table",
    "split_rows",
]

Array = np.ndarray


def class_indices(network, T: Array) -> Array | None:
    """Each sample's class index for single-label classification (softmax + cross-entropy, or
    one sigmoid output), else None."""
    return class_indices_for(network.loss.name, T)


def class_indices_for(loss_name: str, T: Array) -> Array | None:
    """:func:`class_indices` for a network trained with the loss ``loss_name`` on ``T``."""
    name = loss_name
    if name == "cross_entropy":
        return T.argmax(axis=1)
    if name == "binary_cross_entropy" and T.shape[1] == 1:
        return (T[:, 0] >= 0.5).astype(np.intp)
    return None


def apply_class_weight(
    network, T: Array, weights: Array | None, class_weight, group=ONE_PROCESS
) -> Array | None:
    """Multiply each sample's weight by its class's weight (see :func:`class_weight_table`;
    'balanced' counts the classes over every process's rows)."""
    if class_weight is None:
        return weights
    classes = class_indices(network, T)
    if classes is None:
        raise ValueError(
            "'class_weight' needs a cross_entropy network or a single-output "
            f"binary_cross_entropy network, got loss {network.loss.name!r} "
            f"with {T.shape[1]} outputs"
        )
    table = class_weight_table(group.gather(classes), max(T.shape[1], 2), class_weight)
    per_sample = table[classes].astype(T.dtype)
    return per_sample if weights is None else weights * per_sample


def class_weight_table(classes: Array, n_classes: int, class_weight) -> Array:
    """The weight of each class index: from a dict ``{index: weight}`` (others 1), or for
    ``'balanced'`` ``n_samples / (n_classes * count_c)``, as scikit-learn, from the samples'
    class indices ``classes``."""
    if class_weight == "balanced":
        counts = np.bincount(classes, minlength=n_classes).astype(np.float64)
        table = np.where(counts > 0, len(classes) / (n_classes * np.maximum(counts, 1)), 0.0)
    elif isinstance(class_weight, dict):
        table = np.ones(n_classes)
        for label, value in class_weight.items():
            if not isinstance(label, (int, np.integer)) or not 0 <= label < n_classes:
                raise ValueError(
                    f"'class_weight' keys must be class indices in [0, {n_classes}), got {label!r}"
                )
            table[label] = check_real(value, f"class_weight[{label}]", low=0.0)
    else:
        raise ValueError(f"'class_weight' must be a dict or 'balanced', got {class_weight!r}")
    return table


def split_rows(
    fraction: float, rng: np.random.Generator, n_rows: int, classes=None, group=ONE_PROCESS
) -> tuple[Array, Array]:
    """Shuffled training and validation row indices, ``fraction`` of the rows for validation:
    of each class separately when ``classes`` (each row's class index) is given, so both parts
    keep the class proportions. Indices run over every process's rows (see
    :mod:`chainrule.training.replicas`); ``n_rows`` and ``classes`` are this process's.

    Raises
    ------
    ValueError
        When the fraction leaves no row for training or none for validation.
    """
    n = group.layout(n_rows)[0]
    if classes is not None:
        classes = group.gather(classes)
        validation = []
        for label in np.unique(classes):
            members = rng.permutation(np.flatnonzero(classes == label))
            validation.append(members[: int(round(fraction * members.size))])
        validation = np.sort(np.concatenate(validation))
    else:
        validation = np.sort(rng.permutation(n)[: int(round(fraction * n))])
    if validation.size == 0 or validation.size == n:
        raise ValueError(
            f"'validation_split'={fraction} leaves no samples for "
            f"{'validation' if validation.size == 0 else 'training'} with {n} rows"
        )
    train = np.ones(n, dtype=bool)
    train[validation] = False
    return np.flatnonzero(train), validation
