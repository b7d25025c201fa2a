"""A learner's numbers for momentum and Nesterov momentum written in other conventions, and for
plain gradient descent with planted mistakes, computed independently in float64 (it shares no
code with chainrule; it builds on tests/golden/handcalc.py's activations).

A :class:`Net` has one hidden layer and squared error, E = 1/2 sum_o (t_o - y_o)^2, one
sample. Its parameters are one vector in the order of ``names``: the weights ``w1..`` input by
input (from-neuron outer, to-neuron inner), then hidden neuron by hidden neuron, then the biases
``b1..`` of the hidden neurons and of the outputs (only those listed in ``biases``).

The optimizer rules, each ``rule(p, v, gradient, lr, mu) -> (g, v, p)`` for one step (``v`` is
``None`` before the first)::

    torch_momentum   v = g, then mu v + g          p - lr v        (torch.optim.SGD)
    torch_nesterov   v as torch_momentum           p - lr (g + mu v)
    classic          v = -g, then mu v - g         p + lr v
    classic_rate     v = -lr g, then mu v - lr g   p + v
    classic_mixed    v as classic                  p - lr v        (torch's update on it)
    keras            v = mu v - lr g from 0        p + mu v - lr g
    keras_mixed      v as keras                    p - lr (g + mu v)  (torch's update on it)
    lookahead        v = mu v - lr grad(p + mu v)  p + v           (Sutskever et al.)

``sgd_sheet`` works plain gradient descent with the mistakes of issue 26 planted: a dropped
path in a hidden neuron's dE/da, a forgotten rate or an update moving with the gradient.
"""

from dataclasses import dataclass

import numpy as np

from golden import handcalc


@dataclass(frozen=True)
class Net:
    x: tuple  # the inputs
    t: tuple  # the targets
    W1: tuple  # W1[i][j]: input i -> hidden j
    W2: tuple  # W2[j][k]: hidden j -> output k
    b1: tuple
    b2: tuple
    hidden: str
    output: str

    @property
    def shapes(self):
        return np.shape(self.W1), np.shape(self.W2)

    @property
    def names(self) -> list:
        (n_in, n_hidden), (_, n_out) = self.shapes
        n_w = n_in * n_hidden + n_hidden * n_out
        return [f"w{i}" for i in range(1, n_w + 1)] + [
            f"b{j}" for j in range(1, n_hidden + n_out + 1)
        ]

    @property
    def start(self) -> np.ndarray:
        return np.concatenate([np.ravel(self.W1), np.ravel(self.W2), self.b1, self.b2])

    def unpack(self, p):
        (n_in, n_hidden), (_, n_out) = self.shapes
        sizes = np.cumsum([n_in * n_hidden, n_hidden * n_out, n_hidden])
        W1, W2, b1, b2 = np.split(np.asarray(p, dtype=float), sizes)
        return W1.reshape(n_in, n_hidden), W2.reshape(n_hidden, n_out), b1, b2


def backprop(net: Net, p, drop=None) -> dict:
    """Every named number of one forward and backward pass at the parameters ``p``, with the
    path from hidden neuron j via output k left out of dE/da_j where ``drop = (j, k)``
    (1-based), and everything after it following: ``E``, ``y<k>``, ``dE/dy<k>``, ``dE/da<j>``,
    and the gradients by parameter name."""
    W1, W2, b1, b2 = net.unpack(p)
    x, t = np.asarray(net.x, dtype=float), np.asarray(net.t, dtype=float)
    z1 = x @ W1 + b1
    a1 = handcalc.act(net.hidden, z1[None])[0]
    z2 = a1 @ W2 + b2
    y = handcalc.act(net.output, z2[None])[0]
    dE_dy = y - t
    delta2 = handcalc.act_grad(net.output, z2[None], y[None], dE_dy[None])[0]
    terms = W2 * delta2  # terms[j, k]: the path from hidden j via output k
    if drop:
        terms[drop[0] - 1, drop[1] - 1] = 0.0
    dE_da1 = terms.sum(axis=1)
    delta1 = handcalc.act_grad(net.hidden, z1[None], a1[None], dE_da1[None])[0]
    gradient = np.concatenate([np.outer(x, delta1).ravel(), np.outer(a1, delta2).ravel()])
    gradient = np.concatenate([gradient, delta1, delta2])
    numbers = {"E": 0.5 * ((t - y) ** 2).sum()}
    numbers.update({f"y{k}": v for k, v in enumerate(y, 1)})
    numbers.update({f"dE/dy{k}": v for k, v in enumerate(dE_dy, 1)})
    numbers.update({f"dE/da{j}": v for j, v in enumerate(dE_da1, 1)})
    numbers.update({f"dE/d{n}": v for n, v in zip(net.names, gradient, strict=True)})
    numbers["gradient"] = gradient
    return numbers


def gradient_of(net: Net, drop=None):
    """p -> dE/dp, the vector in ``net.names``' order."""
    return lambda p: backprop(net, p, drop)["gradient"]


# -- momentum and Nesterov momentum in each convention ---------------------------------------


def torch_momentum(p, v, gradient, lr, mu):
    g = gradient(p)
    v = g.copy() if v is None else mu * v + g
    return g, v, p - lr * v


def torch_nesterov(p, v, gradient, lr, mu):
    g = gradient(p)
    v = g.copy() if v is None else mu * v + g
    return g, v, p - lr * (g + mu * v)


def classic(p, v, gradient, lr, mu):
    g = gradient(p)
    v = -g if v is None else mu * v - g
    return g, v, p + lr * v


def classic_rate(p, v, gradient, lr, mu):
    g = gradient(p)
    v = -lr * g if v is None else mu * v - lr * g
    return g, v, p + v


def classic_mixed(p, v, gradient, lr, mu):
    g, v, _ = classic(p, v, gradient, lr, mu)
    return g, v, p - lr * v


def keras(p, v, gradient, lr, mu):
    g = gradient(p)
    v = mu * (0.0 if v is None else v) - lr * g
    return g, v, p + mu * v - lr * g


def keras_mixed(p, v, gradient, lr, mu):
    g, v, _ = keras(p, v, gradient, lr, mu)
    return g, v, p - lr * (g + mu * v)


def lookahead(p, v, gradient, lr, mu):
    v = np.zeros_like(p) if v is None else v
    g = gradient(p + mu * v)
    v = mu * v - lr * g
    return g, v, p + v


def run(rule, p, gradient, lr, mu, steps):
    """``steps`` steps of ``rule`` from ``p``: per step a dict of its gradient ``g``, velocity
    ``v`` and parameters ``p`` after it."""
    v, history = None, []
    for _ in range(steps):
        g, v, p = rule(p, v, gradient, lr, mu)
        history.append({"g": g, "v": v, "p": p})
    return history


# -- plain gradient descent with planted mistakes --------------------------------------------


def sgd_sheet(net: Net, lr, steps, drop=None, plants=()):
    """Plain gradient descent for ``steps`` steps, the learner dropping the path ``drop`` at
    step 1 (see :func:`backprop`) and making each ``(step, name, mistake)`` of ``plants`` in
    that parameter's update: ``"rate"`` (w - g) or ``"sign"`` (w + lr g). Each later step starts
    from the learner's own parameters. Returns per step ``(numbers of the pass, p after)``."""
    p, sheet = net.start, []
    for step in range(1, steps + 1):
        numbers = backprop(net, p, drop if step == 1 else None)
        g = numbers["gradient"]
        rates = np.full(len(p), -lr)
        for at, name, mistake in plants:
            if at == step:
                rates[net.names.index(name)] = -1.0 if mistake == "rate" else lr
        p = p + rates * g
        sheet.append((numbers, p))
    return sheet
