"""An independent float64 computation of one step of backpropagation, written out by hand for
the test suite (it shares no code with chainrule): explicit activation derivatives, the
softmax Jacobian as a matrix, every loss's derivative, and the update rules of momentum,
Nesterov momentum and Adam as torch.optim states them.

Shapes: ``X`` is (n_samples, n_in); ``Ws[k]`` is (n_in, n_out) and ``bs[k]`` (n_out,).
"""

import numpy as np


def act(name, z):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "identity":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise KeyError(name)


def act_grad(name, z, a, grad):
    """dE/dz from dE/da, one sample a row."""
    if name == "sigmoid":
        return grad * a * (1 - a)
    if name == "tanh":
        return grad * (1 - a**2)
    if name == "relu":
        return grad * (z > 0)
    if name == "identity":
        return grad
    if name == "softmax":  # J[i, j] = a_i (delta_ij - a_j), dE/dz_j = sum_i dE/da_i J[i, j]
        out = np.empty_like(grad)
        for s in range(len(a)):
            J = np.diag(a[s]) - np.outer(a[s], a[s])
            out[s] = grad[s] @ J
        return out
    raise KeyError(name)


def loss(name, Y, T):
    """Per-sample losses and dL/dY."""
    K = Y.shape[1]
    if name == "squared_error":
        return 0.5 * ((T - Y) ** 2).sum(1), Y - T
    if name == "mse":
        return ((T - Y) ** 2).mean(1), 2 * (Y - T) / K
    if name == "binary_cross_entropy":
        per = -(T * np.log(Y) + (1 - T) * np.log(1 - Y)).mean(1)
        return per, (Y - T) / (Y * (1 - Y)) / K
    if name == "cross_entropy":
        return -(T * np.log(Y)).sum(1), -T / Y
    raise KeyError(name)


def step(X, T, Ws, bs, acts, loss_name, reduction="mean"):
    """The error and the gradients ``[(dW, db)]`` of the batch."""
    A, Zs, As = X, [], [X]
    for W, b, f in zip(Ws, bs, acts, strict=True):
        Z = A @ W + b
        A = act(f, Z)
        Zs.append(Z)
        As.append(A)
    per, grad = loss(loss_name, A, T)
    n = len(X)
    scale = 1 / n if reduction == "mean" else 1.0
    E = per.sum() * scale
    grad = grad * scale
    grads = []
    for k in range(len(Ws) - 1, -1, -1):
        delta = act_grad(acts[k], Zs[k], As[k + 1], grad)
        grads.insert(0, (As[k].T @ delta, delta.sum(0)))
        grad = delta @ Ws[k].T
    return E, grads


def momentum_steps(p, gradient, lr, mu, steps, nesterov=False):
    """torch.optim.SGD: buf = g, then buf = mu buf + g; p -= lr (g + mu buf if nesterov else
    buf). Returns the parameters and buffers after each step."""
    history, buf = [], None
    for _ in range(steps):
        g = gradient(p)
        buf = g.copy() if buf is None else mu * buf + g
        p = p - lr * ((g + mu * buf) if nesterov else buf)
        history.append((p.copy(), buf.copy()))
    return history


def adam_steps(p, gradient, lr, b1, b2, eps, steps):
    """torch.optim.Adam, written out: m, v, mhat, vhat and the parameters after each step."""
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    history = []
    for t in range(1, steps + 1):
        g = gradient(p)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
        history.append((p.copy(), m.copy(), v.copy(), mhat.copy(), vhat.copy()))
    return history
