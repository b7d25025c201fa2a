"""Networks made elsewhere, as chainrule networks: :func:`from_sklearn` and :func:`from_torch`.

The result predicts what the original predicts (to rounding), and is an ordinary
:class:`~chainrule.Network`: it can be explained, gradient-checked, saved, trained further or
exported. scikit-learn and PyTorch are imported only inside these functions.
"""

from __future__ import annotations

import numpy as np

from ..core import activations, losses
from ..core.layers import Dense, Dropout
from ..core.network import Network
from ._requirements import require

__all__ = ["from_sklearn", "from_torch"]


def _default_loss(output: str) -> str | None:
    """The loss an imported network with this output activation gets when none is given: the
    fused loss a softmax or sigmoid output needs (:func:`chainrule.core.losses.loss_for_output`),
    squared_error for an identity output, None for any other."""
    return "squared_error" if output == "identity" else losses.loss_for_output(output)


def _float_dtype(dtype) -> str:
    return "float64" if np.dtype(dtype) == np.float64 else "float32"


def from_sklearn(estimator, *, dtype=None, loss=None) -> Network:
    """A :class:`~chainrule.Network` with the weights of a fitted multilayer perceptron.

    Parameters
    ----------
    estimator : fitted MLPClassifier or MLPRegressor
        scikit-learn's (``sklearn.neural_network``) or chainrule's (``chainrule.sklearn``).
        Only the public fitted attributes are read: ``coefs_``, ``intercepts_``,
        ``activation`` and ``out_activation_``.
    dtype : {'float32', 'float64'}, optional
        Default: that of ``coefs_`` (float64 for scikit-learn's estimators).
    loss : str, optional
        Default: the loss the estimator trains with (``cross_entropy`` for a softmax output,
        ``binary_cross_entropy`` for a logistic one, ``squared_error`` for an identity one;
        a Poisson regressor's exponential output has no default: name a loss). The L2
        penalty is not carried over (scikit-learn scales ``alpha`` by the batch size).

    Returns
    -------
    Network
        ``predict`` gives ``predict_proba``'s last column for a binary classifier,
        ``predict_proba`` for other classifiers and ``predict`` (as a column) for regressors.

    Raises
    ------
    TypeError
        If ``estimator`` is not a multilayer perceptron.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        If no ``loss`` is given for an output that has no default loss (Poisson's ``exp``),
        or if its predictions are not those of ``coefs_`` and ``intercepts_`` (checked on a
        probe batch): a step outside them, such as a target scaling, would be lost.
    """
    validation = require("sklearn.utils.validation", "chainrule.from_sklearn")
    if not all(hasattr(type(estimator), name) for name in ("fit", "predict", "get_params")) or (
        "activation" not in estimator.get_params()
    ):
        raise TypeError(
            "'estimator' must be a scikit-learn MLPClassifier or MLPRegressor, "
            f"got {type(estimator).__name__}"
        )
    validation.check_is_fitted(estimator, "out_activation_")
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    hidden = estimator.activation
    output = estimator.out_activation_
    last = len(coefs) - 1
    layers = [
        Dense(*W.shape, output if position == last else hidden, W=W, b=b)
        for position, (W, b) in enumerate(zip(coefs, intercepts, strict=True))
    ]
    output_name = layers[-1].activation.name
    if loss is None and _default_loss(output_name) is None:
        raise ValueError(
            f"the estimator's loss ({getattr(estimator, 'loss', output_name)!r}, "
            f"an {output_name!r} output) has no chainrule loss: pass 'loss' "
            "(for example loss='squared_error') to import it"
        )
    network = Network(
        layers,
        loss or _default_loss(output_name),
        dtype=dtype or _float_dtype(coefs[0].dtype),
    )
    _check_same_predictions(estimator, network)
    return network


def _check_same_predictions(estimator, network: Network) -> None:
    """Refuse an estimator whose predictions are not those of its ``coefs_`` and
    ``intercepts_`` (a target scaling kept outside them would be silently lost), judged on a
    fixed probe batch to float32 rounding; a classifier's ``predict`` must also give the labels
    of its ``predict_proba`` (:func:`_labels_of`), which is all an export can compute."""
    probe = np.random.default_rng(0).normal(size=(8, network.n_inputs))
    classifier = hasattr(estimator, "classes_")
    expected = estimator.predict_proba(probe) if classifier else estimator.predict(probe)
    expected = np.asarray(expected, dtype=np.float64).reshape(len(probe), -1)
    got = np.asarray(network.predict(probe), dtype=np.float64)
    labels_differ = classifier and not np.array_equal(
        np.asarray(estimator.predict(probe)), _labels_of(estimator, expected)
    )
    if classifier and expected.shape[1] == 2 and got.shape[1] == 1:
        expected = expected[:, 1:]  # a binary classifier's one logistic output
    difference = np.abs(got - expected).max()
    if labels_differ or difference > 1e-4 * (1.0 + np.abs(expected).max()):
        what = (
            "labels are not those of its predict_proba"
            if labels_differ
            else f"predictions are not those of its coefs_ and intercepts_ (they differ by up "
            f"to {difference:.3g} on a probe batch)"
        )
        raise ValueError(
            f"{type(estimator).__name__}'s {what}, so they cannot be carried over: a step "
            "outside them (a target scaling, a post-processing in predict) would be lost"
        )


def _labels_of(estimator, P: np.ndarray) -> np.ndarray:
    """The labels of probabilities ``P`` (n, n_classes), as scikit-learn's MLPClassifier
    gives them: the first most probable class after a softmax, ``classes_[p > 0.5]`` for
    one logistic output, indicators ``P > 0.5`` for several (multi-label)."""
    if estimator.out_activation_ == "softmax":
        return estimator.classes_[P.argmax(axis=1)]
    if estimator.n_outputs_ == 1:
        return estimator.classes_[(P[:, 1] > 0.5).astype(int)]
    return (P > 0.5).astype(int)


def _is(module, cls) -> bool:
    """Whether ``module`` computes what ``cls`` computes: an instance whose class does not
    override ``forward`` (a subclass that does is another layer)."""
    return isinstance(module, cls) and type(module).forward is cls.forward


def _torch_activation(module, nn):
    """chainrule's activation for a torch activation module, or None when it is not one."""
    if _is(module, nn.ReLU):
        return "relu"
    if _is(module, nn.Sigmoid):
        return "sigmoid"
    if _is(module, nn.Tanh):
        return "tanh"
    if _is(module, nn.LeakyReLU):
        return {"name": "leaky_relu", "slope": module.negative_slope}
    if _is(module, nn.ELU):
        return {"name": "elu", "alpha": module.alpha}
    if _is(module, nn.Softplus):
        if module.beta != 1:
            raise ValueError("only beta=1 is supported (chainrule's softplus)")
        if module.threshold < _SOFTPLUS_THRESHOLD:
            raise ValueError(
                f"only threshold >= {_SOFTPLUS_THRESHOLD:g} is supported (above its "
                "threshold torch's Softplus returns x, chainrule's log(1 + exp(x)))"
            )
        return "softplus"
    if _is(module, nn.GELU):
        if module.approximate != "none":
            raise ValueError("only approximate='none' is supported (chainrule's exact gelu)")
        return "gelu"
    if _is(module, nn.Softmax):
        if module.dim not in (-1, 1):
            raise ValueError("only dim=1 or dim=-1 (over the features) is supported")
        return "softmax"
    return None


# torch's default: above it Softplus(x) = x, within exp(-20) = 2e-9 of log(1 + exp(x))
_SOFTPLUS_THRESHOLD = 20.0

_SUPPORTED = (
    "Linear, ReLU, Sigmoid, Tanh, LeakyReLU, ELU, Softplus, GELU, Softmax, Identity, Dropout"
)


def _flatten(module, nn, prefix=""):
    """The layers of a Sequential, nested ones flattened, each with its name in torch
    (``"2"``, or ``"1.0"`` for the first layer of a nested Sequential at position 1)."""
    for name, child in module.named_children():
        if _is(child, nn.Sequential):
            yield from _flatten(child, nn, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", child


def from_torch(model, *, dtype=None, loss=None) -> Network:
    """A :class:`~chainrule.Network` with the weights of a ``torch.nn.Sequential``.

    Parameters
    ----------
    model : torch.nn.Sequential
        Linear layers, each followed by at most one activation (``ReLU``, ``Sigmoid``,
        ``Tanh``, ``LeakyReLU`` and ``ELU`` with a parameter >= 0, ``Softplus`` with ``beta=1``
        and ``threshold >= 20``, ``GELU`` with ``approximate='none'``, ``Softmax`` over the
        features), ``Identity`` anywhere, ``Dropout`` between a layer's activation and the
        next Linear layer; nested ``Sequential`` containers are flattened. Only these classes
        themselves, or subclasses that keep their ``forward``. A Linear layer without a bias
        gets a zero bias held fixed.
    dtype : {'float32', 'float64'}, optional
        Default: that of the first Linear layer's weight (float32 unless it is float64).
    loss : str, optional
        Default: ``cross_entropy`` after a final Softmax, ``binary_cross_entropy`` after a final
        Sigmoid, ``squared_error`` otherwise.

    Notes
    -----
    torch's ``Linear`` computes ``x @ weight.T + bias``; the Dense layer gets ``W = weight.T``.
    torch's ``Softplus`` returns ``x`` itself above ``threshold`` (20), where chainrule's
    returns ``log(1 + exp(x))``: the two differ there by less than ``exp(-20)`` = 2e-9
    (a relative 1e-10 at 20, more than float64 rounding; a lower threshold is refused).

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Sequential``.
    ValueError
        For a layer that has no chainrule counterpart, naming it and its position as torch
        names it (``layer 1.0`` for the first layer of a nested Sequential at position 1).
    """
    torch = require("torch", "chainrule.from_torch")
    if not _is(model, torch.nn.Sequential):
        raise TypeError(f"'model' must be a torch.nn.Sequential, got {type(model).__name__}")
    layers, dtype = _torch_layers(model, torch, dtype)
    _check_torch_layers(layers)
    output = layers[-1].activation.name if isinstance(layers[-1], Dense) else "identity"
    return Network(layers, loss or _default_loss(output) or "squared_error", dtype=dtype)


def _torch_layers(model, torch, dtype):
    """A Sequential's Dense and Dropout layers, and ``dtype`` or the first Linear layer's."""
    nn = torch.nn
    layers: list = []
    pending: dict | None = None  # the Linear layer waiting for its activation
    for position, module in _flatten(model, nn):
        if _is(module, nn.Identity):
            continue
        if _is(module, nn.Linear):
            _close(layers, pending)
            dtype = dtype or _float_dtype(
                np.float64 if module.weight.dtype == torch.float64 else np.float32
            )
            pending = _linear(module)
        elif _is(module, nn.Dropout):
            _close(layers, pending)
            pending = None
            layers.append(Dropout(module.p))
        else:
            activation = _torch_layer_activation(module, position, nn)
            if pending is None or pending.get("activation") is not None:
                raise ValueError(
                    f"from_torch: layer {position} ({module!r}) must follow a Linear layer "
                    "(chainrule's Dense layer has one activation)"
                )
            pending["activation"] = activation
    _close(layers, pending)
    return layers, dtype


def _close(layers: list, pending: dict | None) -> None:
    """Append the Dense layer of a Linear layer's ``pending`` arguments, if any."""
    if pending is not None:
        layers.append(Dense(**pending))


def _linear(module) -> dict:
    """A torch Linear layer as Dense layer arguments: ``W = weight.T``, no bias a fixed zero."""
    weight = module.weight.detach().cpu().double().numpy()
    bias = module.bias
    return {
        "n_in": module.in_features,
        "n_out": module.out_features,
        "W": weight.T,
        "b": np.zeros(module.out_features)
        if bias is None
        else bias.detach().cpu().double().numpy(),
        "train_biases": bias is not None,
    }


def _torch_layer_activation(module, position: str, nn):
    """chainrule's activation for the torch layer at ``position``, or a ValueError naming it."""
    try:
        activation = _torch_activation(module, nn)
        if activation is not None:
            activation = activations.get(activation)  # checks its parameters
    except ValueError as error:
        raise ValueError(f"from_torch: layer {position} {module!r}: {error}") from None
    if activation is None:
        raise ValueError(
            f"from_torch: layer {position} ({module!r}) is not supported; supported: {_SUPPORTED}"
        )
    return activation


def _check_torch_layers(layers: list) -> None:
    """Refuse a model without a Linear layer, or one that ends with a Dropout."""
    if not any(isinstance(layer, Dense) for layer in layers):
        raise ValueError("from_torch: the model has no Linear layer")
    if isinstance(layers[-1], Dropout):
        raise ValueError(
            "from_torch: a Dropout after the last Linear layer is not supported (a chainrule "
            "network ends with a Dense layer); remove it, it is the identity at inference"
        )
