"""Between worked examples and the engine: a spec as a :class:`Network` (to train it for many
steps), and a network with one sample as a spec (to explain it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers import Dense
from ..network import Network
from .spec import Layer, Neuron, Parameter, Spec


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
        Dense(widths[k], widths[k + 1], spec.layers[k].activation, weight_init="zeros")
        for k in range(len(spec.layers))
    ]
    network = Network(layers, spec.loss, dtype="float64")
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
    X = np.array([[n.value for n in spec.inputs]])
    T = np.array([[n.target_value for n in spec.outputs]])
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


def train_steps(spec: Spec, steps: int) -> StepTable:
    """Plain gradient descent on the spec's one sample for ``steps`` steps (shared parameters
    move by the sum of their gradients; fixed ones never move)."""
    bridge = spec_network(spec)
    network, params = bridge.network, bridge.network.parameters
    values = np.array([p.value for p in spec.parameters.values()])
    rate = spec.learning_rate * bridge.trained
    record = _recorded_steps(steps)
    rows = []
    for step in range(steps + 1):
        error = network._forward_backward(bridge.X, bridge.T, None)
        if step in record:
            rows.append((step, error))
        if step == steps:
            break
        gradient = np.bincount(
            bridge.owners, weights=network.gradients[bridge.positions], minlength=len(values)
        )
        values -= rate * gradient
        params[bridge.positions] = values[bridge.owners]
    outputs = network.predict(bridge.X)[0]
    return StepTable(steps, rows, {n.out: float(v) for n, v in zip(spec.outputs, outputs)})


def spec_from_network(
    network: Network, x, t, learning_rate: float = 0.5, title: str = "A network from Python"
) -> Spec:
    """Describe ``network`` and one sample ``(x, t)`` as a spec, with the default names:
    inputs ``x1..``, hidden neurons ``h1..`` (``h<layer>_<j>`` with several hidden layers),
    outputs ``o1..``; net inputs ``z1..`` and outputs ``a1..`` (hidden) / ``y1..`` (output)
    numbered across the network; targets ``t1..``; weights ``w1..`` numbered row by row through
    each layer's ``W`` (from-neuron outer, to-neuron inner) and biases ``b1..`` per neuron."""
    layers = network.dense_layers
    if len(layers) != len(network.layers):
        raise ValueError("explain takes networks of Dense layers only (no Dropout)")
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    if x.shape != (network.n_inputs,) or t.shape != (network.n_outputs,):
        raise ValueError(
            f"'x' must have {network.n_inputs} values and 't' {network.n_outputs}, "
            f"got {x.size} and {t.size}"
        )
    inputs = [Neuron(f"x{i + 1}", 0, None, f"x{i + 1}", value=float(v)) for i, v in enumerate(x)]
    spec_layers, z = [], 0
    for k, layer in enumerate(layers, 1):
        last = k == len(layers)
        neurons = []
        for j in range(layer.n_out):
            z += 1
            if last:
                neurons.append(
                    Neuron(f"o{j + 1}", k, f"z{z}", f"y{j + 1}", f"t{j + 1}", float(t[j]))
                )
            else:
                name = f"h{j + 1}" if len(layers) == 2 else f"h{k}_{j + 1}"
                neurons.append(Neuron(name, k, f"z{z}", f"a{z}"))
        hidden_name = "hidden" if len(layers) == 2 else f"hidden {k}"
        spec_layers.append(Layer("output" if last else hidden_name, layer.activation.name, neurons))
    parameters, previous = {}, inputs
    weight_number = bias_number = 0
    for layer, spec_layer in zip(layers, spec_layers):
        for i, source in enumerate(previous):
            for j, target in enumerate(spec_layer.neurons):
                weight_number += 1
                name = f"w{weight_number}"
                parameters[name] = Parameter(
                    name,
                    "weight",
                    float(layer.W[i, j]),
                    [(source.name, target.name)],
                    layer.train_weights,
                )
        for j, target in enumerate(spec_layer.neurons):
            bias_number += 1
            name = f"b{bias_number}"
            parameters[name] = Parameter(
                name, "bias", float(layer.b[j]), [(None, target.name)], layer.train_biases
            )
        previous = spec_layer.neurons
    return Spec(
        title, inputs, spec_layers, parameters, network.loss_function.name, float(learning_rate)
    )


def spec_to_toml(spec: Spec) -> str:
    """The spec as a TOML file that :func:`~chainrule.explain.load_spec` reads back."""
    fixed = [p.name for p in spec.parameters.values() if not p.trained]
    out = [
        f"title = {spec.title!r}".replace("'", '"'),
        f'loss = "{spec.loss}"',
        f"learning_rate = {spec.learning_rate!r}",
    ]
    out += [f"fixed = {fixed!r}".replace("'", '"')] if fixed else []
    out += ["", "[inputs]"]
    out += [f"{n.name} = {n.value!r}" for n in spec.inputs]
    for layer in spec.layers:
        neurons = ", ".join(
            f'{{ name = "{n.name}", net = "{n.net}", out = "{n.out}"'
            + (f', target = "{n.target}"' if n.target else "")
            + " }"
            for n in layer.neurons
        )
        out += [
            "",
            "[[layers]]",
            f'name = "{layer.name}"',
            f'activation = "{layer.activation}"',
            f"neurons = [{neurons}]",
        ]
    out += ["", "[targets]"] + [f"{n.name} = {n.target_value!r}" for n in spec.outputs]
    for kind, table in (("weight", "weights"), ("bias", "biases")):
        out += ["", f"[{table}]"]
        for p in spec.parameters.values():
            if p.kind != kind:
                continue
            sources = [s for s, _ in p.uses]
            targets = [t for _, t in p.uses]
            where = (
                f'from = "{sources[0]}", to = "{targets[0]}"'
                if kind == "weight" and len(p.uses) == 1
                else f"to = {targets!r}".replace("'", '"')
                if kind == "bias" and len(p.uses) > 1
                else f'to = "{targets[0]}"'
                if kind == "bias"
                else f"from = {sources!r}, to = {targets!r}".replace("'", '"')
            )
            out.append(f"{p.name} = {{ {where}, value = {p.value!r} }}")
    return "\n".join(out) + "\n"
