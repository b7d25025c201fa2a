"""The answer key recomputed independently in float64: a variant's ``<id>.toml`` is read with
``tomllib`` (no chainrule code) and each asked quantity is worked out with plain numpy through
tests/golden/handcalc.py (forward pass, backpropagation as matrix products, torch.optim's
momentum and Adam).

It covers what the starter templates ask: a neuron's net input or output (``z1``, ``y[2]`` of
sample 2, ``z1+`` after the update), the error (``E``, ``E+``), a gradient (``dE/dw5``, or a
sample's own ``dE/dw3[1]``), a neuron's delta (``dE/dz3``, one sample), an updated parameter
(``w5+``, ``w@2``), the optimizer's state (``v_w``, ``m_w@2``) and a later step's gradient
(``g_w@2``). Anything else raises KeyError, so that a test cannot pass by asking nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from golden import handcalc


def _samples(value) -> list[float]:
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]


def _names(value) -> list[str]:
    return value if isinstance(value, list) else [value]


@dataclass
class Net:
    """A variant's network in matrices, and where each named parameter sits."""

    X: np.ndarray
    T: np.ndarray
    acts: list
    sizes: list
    places: dict  # parameter name: [(layer, row or None for a bias, column)]
    start: np.ndarray  # the parameters' starting values, in the order of ``places``
    trained: np.ndarray  # 1.0 where the parameter trains
    neurons: dict  # a net or out symbol: (layer, column, 'net' or 'out')
    loss: str
    reduction: str
    lr: float
    optimizer: dict

    def matrices(self, p):
        Ws = [np.zeros((a, b)) for a, b in zip(self.sizes, self.sizes[1:], strict=False)]
        bs = [np.zeros(b) for b in self.sizes[1:]]
        for value, uses in zip(p, self.places.values(), strict=True):
            for layer, row, column in uses:
                if row is None:
                    bs[layer][column] = value
                else:
                    Ws[layer][row, column] = value
        return Ws, bs

    def flat(self, grads) -> np.ndarray:
        """Each named parameter's gradient: the sum over the connections it sits on."""
        return np.array(
            [
                sum(grads[k][1][c] if r is None else grads[k][0][r, c] for k, r, c in uses)
                for uses in self.places.values()
            ]
        )

    def error_and_gradient(self, p, rows=None, reduction=None):
        rows = slice(None) if rows is None else rows
        Ws, bs = self.matrices(p)
        E, grads = handcalc.step(
            self.X[rows], self.T[rows], Ws, bs, self.acts, self.loss, reduction or self.reduction
        )
        return E, grads

    def gradient(self, p) -> np.ndarray:
        return self.flat(self.error_and_gradient(p)[1]) * self.trained

    def forward(self, p) -> list:
        """Each layer's (Z, A), one sample a row."""
        Ws, bs = self.matrices(p)
        A, out = self.X, []
        for W, b, f in zip(Ws, bs, self.acts, strict=True):
            Z = A @ W + b
            A = handcalc.act(f, Z)
            out.append((Z, A))
        return out


def net_of(document: dict) -> Net:
    """The network of a variant (its TOML document)."""
    inputs = list(document["inputs"])
    layers = [
        [n if isinstance(n, str) else n["name"] for n in layer["neurons"]]
        for layer in document["layers"]
    ]
    where = {name: (0, i) for i, name in enumerate(inputs)}
    where |= {name: (k + 1, j) for k, layer in enumerate(layers) for j, name in enumerate(layer)}
    places = {}
    for name, weight in document.get("weights", {}).items():
        pairs = zip(_names(weight["from"]), _names(weight["to"]), strict=True)
        places[name] = [(where[b][0] - 1, where[a][1], where[b][1]) for a, b in pairs]
    for name, bias in document.get("biases", {}).items():
        places[name] = [(where[t][0] - 1, None, where[t][1]) for t in _names(bias["to"])]
    values = {**document.get("weights", {}), **document.get("biases", {})}
    fixed = set(document.get("fixed", []))
    if "trained" in document:
        fixed = set(places) - set(document["trained"])
    neurons = {}
    for k, layer in enumerate(document["layers"]):
        for j, n in enumerate(layer["neurons"]):
            neurons[n["net"]] = (k, j, "net")
            neurons[n["out"]] = (k, j, "out")
    outputs = layers[-1]
    return Net(
        X=np.array([_samples(document["inputs"][x]) for x in inputs]).T,
        T=np.array([_samples(document["targets"][o]) for o in outputs]).T,
        acts=[layer.get("activation", "sigmoid") for layer in document["layers"]],
        sizes=[len(inputs), *map(len, layers)],
        places=places,
        start=np.array([float(values[name]["value"]) for name in places]),
        trained=np.array([0.0 if name in fixed else 1.0 for name in places]),
        neurons=neurons,
        loss=document.get("loss", "squared_error"),
        reduction=document.get("reduction", "mean"),
        lr=float(document.get("learning_rate", 0.5)),
        optimizer=document.get("optimizer", {}),
    )


def history(net: Net) -> list[dict]:
    """Per step: the parameters after it, the gradient it took and the optimizer's state."""
    rule = net.optimizer.get("name", "sgd")
    steps = net.optimizer.get("steps", 1)
    p, out = net.start, []
    if rule == "momentum":
        mu = net.optimizer.get("momentum", 0.9)
        after = handcalc.momentum_steps(p, net.gradient, net.lr, mu, steps)
        starts = [p] + [a[0] for a in after[:-1]]
        return [
            {"p": a[0], "v": a[1], "g": net.gradient(s)} for a, s in zip(after, starts, strict=True)
        ]
    if rule == "adam":
        b1, b2 = net.optimizer.get("beta1", 0.9), net.optimizer.get("beta2", 0.999)
        eps = net.optimizer.get("eps", 1e-8)
        after = handcalc.adam_steps(p, net.gradient, net.lr, b1, b2, eps, steps)
        starts = [p] + [a[0] for a in after[:-1]]
        return [
            {"p": a[0], "m": a[1], "v": a[2], "g": net.gradient(s)}
            for a, s in zip(after, starts, strict=True)
        ]
    assert rule == "sgd", rule
    for _ in range(steps):
        g = net.gradient(p)
        p = p - net.lr * g
        out.append({"p": p, "g": g})
    return out


def _neuron_value(net: Net, p, symbol: str, sample: int) -> float:
    layer, column, which = net.neurons[symbol]
    Z, A = net.forward(p)[layer]
    return float((Z if which == "net" else A)[sample, column])


def _gradient_value(net: Net, name: str, sample: int | None) -> float:
    rows = None if sample is None else [sample]
    E, grads = net.error_and_gradient(net.start, rows, None if sample is None else "sum")
    if name in net.places:
        return float(net.flat(grads)[list(net.places).index(name)])
    layer, column, which = net.neurons[name]
    if which == "net" and (net.X.shape[0] == 1 or sample is not None):
        return float(grads[layer][1][column])  # db: the delta summed over the rows taken
    raise KeyError(f"dE/d{name}")


_SYMBOL = re.compile(r"(?P<core>.+?)(?P<plus>\+)?(?:\[(?P<sample>\d+)\])?(?:@(?P<step>\d+))?")


def value(net: Net, steps: list[dict], symbol: str) -> float:
    """The correct value of ``symbol`` (see the module docstring)."""
    m = _SYMBOL.fullmatch(symbol)
    core, sample = m["core"], None if m["sample"] is None else int(m["sample"]) - 1
    step = 1 if m["plus"] else int(m["step"]) if m["step"] else 0
    names = list(net.places)
    if core.startswith("dE/d") and step == 0:
        return _gradient_value(net, core[4:], sample)
    state = re.fullmatch(r"(g|v|m)_(.+)", core)
    if state and state[2] in names:
        at = steps[(step or 1) - 1]
        return float(at[state[1]][names.index(state[2])])
    p = net.start if step == 0 else steps[step - 1]["p"]
    if core in names:
        return float(p[names.index(core)])
    if core == "E":
        return float(net.error_and_gradient(p)[0])
    if core in net.neurons:
        return _neuron_value(net, p, core, sample or 0)
    raise KeyError(symbol)


def key_row(document: dict) -> dict[str, float]:
    """Every asked quantity of a variant (its TOML document), computed independently."""
    net = net_of(document)
    steps = history(net)
    return {symbol: value(net, steps, symbol) for symbol in document["exercise"]["ask"]}
