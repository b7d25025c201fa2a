"""Between worked examples and the engine: a spec as a :class:`Network` (to train it for many
steps), and a network with one sample as a spec (to explain it)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..core.layers import Dense
from ..core.network import Network
from ..core.validation import CONSTRAINTS, check_finite
from .settings import unsupported
from .spec import Layer, Neuron, Parameter, Spec, SpecError

__all__ = [
    "SpecNetwork",
    "StepTable",
    "spec_from_network",
    "toml_string",
    "spec_network",
    "spec_to_toml",
    "train_steps",
]


@dataclass
class SpecNetwork:
    """A float64 network holding a spec's values, and where each spec parameter lives in its
    flat buffer (a shared parameter lives in several places)."""

    network: Network
    X: np.ndarray
    T: np.ndarray
    names: list[str]
    positions: np.ndarray  # flat index of every use
    owners: np.ndarray  # which spec parameter each use belongs to
    trained: np.ndarray  # per spec parameter


def spec_network(spec: Spec) -> SpecNetwork:
    """Build the engine's network for ``spec``; absent connections are zeros that never move."""
    widths = [len(spec.inputs)] + [len(layer.neurons) for layer in spec.layers]
    index = {n.name: i for i, n in enumerate(spec.inputs)}
    for layer in spec.layers:
        index.update({n.name: i for i, n in enumerate(layer.neurons)})
    layer_of = {n.name: n.layer for n in spec.neurons.values()}
    layers = [
        Dense(
            widths[k],
            widths[k + 1],
            {"name": spec.layers[k].activation, **spec.layers[k].params},
            weight_init="zeros",
        )
        for k in range(len(spec.layers))
    ]
    loss = {"name": "huber", "delta": spec.huber_delta} if spec.loss == "huber" else spec.loss
    network = Network(layers, loss, dtype="float64")
    offsets = np.cumsum([0] + [layer.n_params for layer in layers])
    names, positions, owners = list(spec.parameters), [], []
    for owner, parameter in enumerate(spec.parameters.values()):
        for source, target in parameter.uses:
            k = layer_of[target] - 1
            if source is None:
                flat = offsets[k] + widths[k] * widths[k + 1] + index[target]
            else:
                flat = offsets[k] + index[source] * widths[k + 1] + index[target]
            positions.append(flat)
            owners.append(owner)
            network.parameters[flat] = parameter.value
    X = np.array([n.values for n in spec.inputs]).T
    T = np.array([n.target_values for n in spec.outputs]).T
    trained = np.array([p.trained for p in spec.parameters.values()])
    return SpecNetwork(network, X, T, names, np.array(positions), np.array(owners), trained)


@dataclass
class StepTable:
    """The total error after each recorded step, and the outputs after the last one."""

    total: int
    rows: list[tuple[int, float]]
    outputs: dict[str, float]


def _recorded_steps(total: int, rows: int = 20) -> set[int]:
    if total <= rows:
        return set(range(total + 1))
    marks = np.unique(np.round(np.geomspace(1, total, rows - 1)).astype(int))
    return {0, total, *marks.tolist()}


def _engine_optimizer(spec: Spec):
    """The engine's optimizer for the spec's update rule (the same convention the trace writes
    out)."""
    rule = spec.optimizer
    if rule.name == "adam":
        return optim.Adam(spec.learning_rate, rule.beta1, rule.beta2, rule.eps)
    if rule.name in ("momentum", "nesterov"):
        return optim.SGD(spec.learning_rate, rule.momentum, nesterov=rule.name == "nesterov")
    return optim.SGD(spec.learning_rate)


def train_steps(spec: Spec, steps: int) -> StepTable:
    """``steps`` steps of the spec's optimizer on its samples (shared parameters move by the
    sum of their gradients; fixed ones never move; a sum reduction scales loss and gradient by
    the number of samples)."""
    bridge = spec_network(spec)
    network, params = bridge.network, bridge.network.parameters
    values = np.array([p.value for p in spec.parameters.values()])
    trained = bridge.trained
    moving = values[trained].copy()
    optimizer = _engine_optimizer(spec)
    scale = spec.n_samples if spec.reduction == "sum" else 1.0
    record = _recorded_steps(steps)
    rows = []
    for step in range(steps + 1):
        error = network.forward_backward(bridge.X, bridge.T, None) * scale
        if step in record:
            rows.append((step, error))
        if step == steps:
            break
        gradient = np.bincount(
            bridge.owners, weights=network.gradients[bridge.positions], minlength=len(values)
        )
        optimizer.step(moving, gradient[trained] * scale)
        values[trained] = moving
        params[bridge.positions] = values[bridge.owners]
    outputs = network.predict(bridge.X)
    named = {}
    for s, row in enumerate(outputs, 1):
        for neuron, value in zip(spec.outputs, row, strict=True):
            named[f"{neuron.out}[{s}]" if spec.n_samples > 1 else neuron.out] = float(value)
    return StepTable(steps, rows, named)


def spec_from_network(
    network: Network, x, t, learning_rate: float = 0.5, title: str = "A network from Python"
) -> Spec:
    """Describe ``network`` and a sample ``(x, t)`` as a spec (or a batch: ``x`` of shape
    ``(n_samples, n_inputs)`` and ``t`` of shape ``(n_samples, n_outputs)``, whose error is the
    mean over the samples, as the engine's), with the default names:
    inputs ``x1..``, hidden neurons ``h1..`` (``h<layer>_<j>`` with several hidden layers),
    outputs ``o1..``; net inputs ``z1..`` and outputs ``a1..`` (hidden) / ``y1..`` (output)
    numbered across the network; targets ``t1..``; weights ``w1..`` numbered row by row through
    each layer's ``W`` (from-neuron outer, to-neuron inner) and biases ``b1..`` per neuron."""
    _check_explainable(network)
    learning_rate = CONSTRAINTS["learning_rate"].check(learning_rate, "learning_rate")
    X, T = _sample_arrays(network, x, t)
    _check_output_layer(network, T)
    inputs = [
        Neuron(f"x{i + 1}", 0, None, f"x{i + 1}", value=float(X[0, i]), values=X[:, i].tolist())
        for i in range(X.shape[1])
    ]
    layers = network.dense_layers
    spec_layers = _spec_layers(layers, T)
    columns = [inputs] + [layer.neurons for layer in spec_layers]
    loss = network.loss
    return Spec(
        title,
        inputs,
        spec_layers,
        _spec_parameters(layers, columns),
        loss.name,
        float(learning_rate),
        huber_delta=float(loss.params.get("delta", 1.0)),
    )


def _check_explainable(network: Network) -> None:
    """Refuse a network with what a worked example cannot show: dropout, a weight penalty, a
    learned input scale, embeddings."""
    if network.embedding is not None:
        raise SpecError(
            "the network begins with an Embedding of its categorical inputs, which a worked "
            "example does not show. Fix: explain a network without one (embedding_size=None; "
            "chainrule train --embedding-size none)"
        )
    if len(network.dense_layers) != len(network.layers):
        raise SpecError(
            "the network has Dropout layers, which a worked example cannot show. Fix: "
            "explain a copy without them (dropout is random and off at prediction)"
        )
    if network.l2 or network.l1:
        raise SpecError(
            f"the network has a weight penalty (l2={network.l2}, l1={network.l1}), which "
            "a worked example does not show. Fix: explain it with l2=0 and l1=0"
        )
    if any(layer.input_scale is not None for layer in network.dense_layers):
        raise SpecError(
            "the network has a learned input scale (Dense(input_scale=...)), which a worked "
            "example does not show. Fix: explain a network built without one (input_scale=None; "
            "chainrule train --input-scale none)"
        )


def _sample_arrays(network: Network, x, t) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``t`` as float64 arrays with a row per sample, checked against the network."""
    X = np.asarray(x, dtype=np.float64)
    T = np.asarray(t, dtype=np.float64)
    check_finite(X, "x")
    check_finite(T, "t")
    X = X.reshape(1, -1) if X.ndim < 2 else X
    T = T.reshape(len(X), -1) if T.ndim < 2 else T
    if X.ndim != 2 or X.shape[1] != network.n_inputs or T.shape != (len(X), network.n_outputs):
        raise ValueError(
            f"'x' must have {network.n_inputs} values (a row per sample) and 't' "
            f"{network.n_outputs} per sample, got shapes {X.shape} and {T.shape}"
        )
    return X, T


def _check_output_layer(network: Network, T: np.ndarray) -> None:
    """Refuse an output activation, loss and targets that a worked example does not support."""
    layers = network.dense_layers
    refusal = unsupported(network.loss.name, layers[-1].activation.name, T.tolist())
    if refusal:
        raise SpecError(
            f"the network's output layer (layer {len(layers)}): {refusal[0]}. Fix: {refusal[1]}"
        )


def _spec_layers(layers: list[Dense], T: np.ndarray) -> list[Layer]:
    """The dense layers as spec layers, named ``hidden`` (``hidden <k>`` with several hidden
    layers) and ``output``, their net inputs ``z1..`` numbered across the network."""
    spec_layers, first = [], 1
    for k, layer in enumerate(layers, 1):
        last = k == len(layers)
        neurons = _layer_neurons(k, len(layers), layer.n_out, first, T)
        first += layer.n_out
        hidden_name = "hidden" if len(layers) == 2 else f"hidden {k}"
        spec_layers.append(
            Layer(
                "output" if last else hidden_name,
                layer.activation.name,
                neurons,
                dict(layer.activation.params),
            )
        )
    return spec_layers


def _layer_neurons(k: int, n_layers: int, n_out: int, first: int, T: np.ndarray) -> list[Neuron]:
    """Layer ``k``'s neurons, their net inputs numbered from ``z<first>``: outputs ``o<j>``
    with ``y<j>`` and target ``t<j>``, hidden neurons ``h<j>`` (``h<k>_<j>`` with several
    hidden layers) with ``a`` numbered as ``z``."""
    if k == n_layers:
        return [
            Neuron(
                f"o{j + 1}",
                k,
                f"z{first + j}",
                f"y{j + 1}",
                f"t{j + 1}",
                float(T[0, j]),
                target_values=T[:, j].tolist(),
            )
            for j in range(n_out)
        ]
    return [
        Neuron(
            f"h{j + 1}" if n_layers == 2 else f"h{k}_{j + 1}", k, f"z{first + j}", f"a{first + j}"
        )
        for j in range(n_out)
    ]


def _spec_parameters(layers: list[Dense], columns: list[list[Neuron]]) -> dict[str, Parameter]:
    """Each layer's weights, numbered ``w1..`` row by row through its ``W`` (from-neuron outer,
    to-neuron inner), then its biases, numbered ``b1..`` per neuron; ``columns`` holds the
    neurons of the inputs and of each layer."""
    parameters = {}
    weights, biases = itertools.count(1), itertools.count(1)
    for layer, (sources, targets) in zip(layers, itertools.pairwise(columns), strict=True):
        for (i, source), (j, target) in itertools.product(enumerate(sources), enumerate(targets)):
            name = f"w{next(weights)}"
            use = (source.name, target.name)
            parameters[name] = Parameter(
                name, "weight", float(layer.W[i, j]), [use], layer.train_weights
            )
        for j, target in enumerate(targets):
            name = f"b{next(biases)}"
            use = (None, target.name)
            parameters[name] = Parameter(name, "bias", float(layer.b[j]), [use], layer.train_biases)
    return parameters


def toml_string(text) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and every unprintable character (line
    breaks, NUL, U+2028) escaped, so a title or a name cannot end its string or its line."""
    escaped = (
        "\\" + c
        if c in '"\\'
        else c
        if c.isprintable()
        else f"\\u{ord(c):04x}"
        if ord(c) < 0x10000
        else f"\\U{ord(c):08x}"
        for c in str(text)
    )
    return '"' + "".join(escaped) + '"'


def _toml_key(name) -> str:
    """A name as a TOML key: bare where TOML allows it (``x1``), else quoted."""
    name = str(name)
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else toml_string(name)


def _toml_list(names) -> str:
    return "[" + ", ".join(toml_string(name) for name in names) + "]"


def spec_to_toml(spec: Spec) -> str:
    """The spec as a TOML file that :func:`~chainrule.explain.load_spec` reads back. Every
    title and name is written as a TOML string (or key), never pasted."""
    fixed = [p.name for p in spec.parameters.values() if not p.trained]
    out = [
        f"title = {toml_string(spec.title)}",
        f"loss = {toml_string(spec.loss)}",
        f"learning_rate = {spec.learning_rate!r}",
    ]
    out += [f"fixed = {_toml_list(fixed)}"] if fixed else []
    out += [f"huber_delta = {spec.huber_delta!r}"] if spec.loss == "huber" else []
    out += [f"reduction = {toml_string(spec.reduction)}"] if spec.n_samples > 1 else []

    def samples(values):
        return repr(values[0]) if len(values) == 1 else repr(list(values))

    out += ["", "[inputs]"]
    out += [f"{_toml_key(n.name)} = {samples(n.values)}" for n in spec.inputs]
    for layer in spec.layers:
        neurons = ", ".join(
            f"{{ name = {toml_string(n.name)}, net = {toml_string(n.net)}, "
            f"out = {toml_string(n.out)}"
            + (f", target = {toml_string(n.target)}" if n.target else "")
            + " }"
            for n in layer.neurons
        )
        out += [
            "",
            "[[layers]]",
            f"name = {toml_string(layer.name)}",
            f"activation = {toml_string(layer.activation)}",
            *[f"{key} = {value!r}" for key, value in layer.params.items()],
            f"neurons = [{neurons}]",
        ]
    out += ["", "[targets]"]
    out += [f"{_toml_key(n.name)} = {samples(n.target_values)}" for n in spec.outputs]
    for kind, table in (("weight", "weights"), ("bias", "biases")):
        out += ["", f"[{table}]"]
        for p in spec.parameters.values():
            if p.kind != kind:
                continue
            sources = [s for s, _ in p.uses]
            targets = [t for _, t in p.uses]
            where = (
                f"from = {toml_string(sources[0])}, to = {toml_string(targets[0])}"
                if kind == "weight" and len(p.uses) == 1
                else f"to = {_toml_list(targets)}"
                if kind == "bias" and len(p.uses) > 1
                else f"to = {toml_string(targets[0])}"
                if kind == "bias"
                else f"from = {_toml_list(sources)}, to = {_toml_list(targets)}"
            )
            out.append(f"{_toml_key(p.name)} = {{ {where}, value = {p.value!r} }}")
    rule = spec.optimizer
    if rule.name != "sgd" or rule.steps != 1:
        out += ["", "[optimizer]", f"name = {toml_string(rule.name)}", f"steps = {rule.steps}"]
        if rule.name in ("momentum", "nesterov"):
            out.append(f"momentum = {rule.momentum!r}")
        if rule.name == "adam":
            out += [f"beta1 = {rule.beta1!r}", f"beta2 = {rule.beta2!r}", f"eps = {rule.eps!r}"]
    return "\n".join(out) + "\n"
