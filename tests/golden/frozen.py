"""An independent float64 computation of a learner who updates a parameter that does not train
(issue 26): every number of the worked example after each optimizer step, by the spec's
quantity names, with a chosen set of parameters moving and the others kept as they are. It
shares no code with chainrule: the forward pass, the gradients and the update rules are
``handcalc``'s, the loss is the squared error E = 1/2 sum_o (t_o - y_o)^2 of one sample.

A learner who updates a fixed parameter p moves it at every step like a trained one, and
carries it forward: the second forward pass, each later gradient (taken at their own
parameters), the later parameters and errors all follow from their p+. Run with the trained
parameters alone moving, the same function gives the correct numbers.
"""

from dataclasses import dataclass

import numpy as np

from . import handcalc

ADAM = (0.9, 0.999, 1e-8)  # beta1, beta2, eps: torch.optim.Adam's defaults


@dataclass
class Net:
    """A network as ``handcalc`` takes it (``W[i, j]`` from neuron i to neuron j, one sample a
    row), with the spec's names: ``names`` maps each parameter to its place, ``(layer, i, j)``
    in a ``W`` or ``(layer, j)`` in a ``b``; ``symbols`` holds each layer's net-input and
    output symbols, ``errors`` each output's share of the error (``E_o1``)."""

    X: np.ndarray
    T: np.ndarray
    Ws: list
    bs: list
    acts: list
    names: dict
    symbols: list
    errors: list


def start(net: Net) -> np.ndarray:
    """The given parameters, one entry per name, in the order of ``net.names``."""
    return np.array([_at(net.Ws, net.bs, where) for where in net.names.values()])


def _at(Ws, bs, where) -> float:
    return Ws[where[0]][where[1], where[2]] if len(where) == 3 else bs[where[0]][where[1]]


def placed(net: Net, flat) -> tuple[list, list]:
    """``net``'s matrices with the named parameters set to ``flat``."""
    Ws, bs = [W.copy() for W in net.Ws], [b.copy() for b in net.bs]
    for value, where in zip(flat, net.names.values(), strict=True):
        if len(where) == 3:
            Ws[where[0]][where[1], where[2]] = value
        else:
            bs[where[0]][where[1]] = value
    return Ws, bs


def gradient(net: Net, flat) -> np.ndarray:
    """dE/dp for every named parameter at the parameters ``flat`` (backpropagation by hand)."""
    _, grads = handcalc.step(net.X, net.T, *placed(net, flat), net.acts, "squared_error")
    dWs, dbs = zip(*grads, strict=True)
    return np.array([_at(dWs, dbs, where) for where in net.names.values()])


def forward(net: Net, flat, suffix: str = "") -> dict:
    """Every net input, output and error at the parameters ``flat``, named with ``suffix``
    (``z1+``, ``y2+``, ``E_o1+``, ``E+``)."""
    A, numbers = net.X, {}
    Ws, bs = placed(net, flat)
    for W, b, f, (nets, outs) in zip(Ws, bs, net.acts, net.symbols, strict=True):
        Z = A @ W + b
        A = handcalc.act(f, Z)
        numbers |= {s + suffix: v for s, v in zip(nets, Z[0], strict=True)}
        numbers |= {s + suffix: v for s, v in zip(outs, A[0], strict=True)}
    shares = 0.5 * (net.T[0] - A[0]) ** 2
    numbers |= {e + suffix: v for e, v in zip(net.errors, shares, strict=True)}
    numbers["E" + suffix] = shares.sum()
    return numbers


def learner(net: Net, moving, optimizer: str, steps: int, lr: float, mu=0.9, adam=ADAM) -> dict:
    """The numbers of ``steps`` steps of ``optimizer`` (sgd, momentum, nesterov or adam) by a
    learner who updates the parameters named in ``moving`` and keeps the others: the first
    pass and its gradients ``dE/dp``, then per step k the parameters (``p+``, ``p@k``), the
    optimizer's buffers of the moving ones (``v_p``, ``m_p@k``, ...), the gradients at the
    parameters before the step (``g_p@k``), the second forward pass and the error ``E@k``."""
    names = list(net.names)
    mask = np.array([name in moving for name in names], dtype=float)
    seen = []  # the full gradient before each step, moving or not

    def masked(flat):
        seen.append(gradient(net, flat))
        return seen[-1] * mask  # a parameter kept as it is gets no step

    history = _history(start(net), masked, optimizer, steps, lr, mu, adam)
    numbers = forward(net, start(net)) | _named(names, seen[0], "dE/d{}")
    numbers |= forward(net, history[0][0], "+")
    for k, (flat, buffers) in enumerate(history, 1):
        at = "" if k == 1 else f"@{k}"
        numbers |= _named(names, flat, "{}+" if k == 1 else "{}" + at)
        for prefix, values in buffers.items():
            numbers |= _named(names, values, prefix + "{}" + at, moving)
        if k > 1:
            numbers |= _named(names, seen[k - 1], "g_{}" + at)
            numbers["E" + at] = forward(net, flat)["E"]
    return numbers


def _history(p, gradient, optimizer, steps, lr, mu, adam) -> list:
    """``(parameters, {buffer prefix: values})`` after each step, by handcalc's rules."""
    if optimizer == "adam":
        return [
            (p, {"m_": m, "v_": v, "mhat_": mhat, "vhat_": vhat})
            for p, m, v, mhat, vhat in handcalc.adam_steps(p, gradient, lr, *adam, steps)
        ]
    rate = 0.0 if optimizer == "sgd" else mu  # plain descent: the buffer is the gradient
    runs = handcalc.momentum_steps(p, gradient, lr, rate, steps, optimizer == "nesterov")
    return [(p, {} if optimizer == "sgd" else {"v_": buf}) for p, buf in runs]


def _named(names, values, pattern: str, only=None) -> dict:
    """``{pattern.format(name): value}`` for each name (those in ``only``, when given)."""
    return {
        pattern.format(name): float(value)
        for name, value in zip(names, values, strict=True)
        if only is None or name in only
    }
