"""The training hot path compiled with numba: fused, multi-threaded elementwise kernels.

Each kernel does in one pass over memory what the NumPy reference (:mod:`.kernels`) does in
several, and splits its rows or elements over numba's threads when the array is large enough
for the threads to pay (:data:`PARALLEL_MIN` elements; below it a serial build of the same
code runs). The arithmetic is the reference's, every scalar cast to the arrays' dtype, with no
fast-math (no fused multiply-adds, no reassociation), so the optimizers' updates and ReLU's
derivative give the reference's results bit for bit. Where a kernel computes a function
(``exp``, ``tanh``) or a sum in another order (a softmax row, a bias gradient), it differs from
NumPy's in the last bits only. A sum is never split by thread: the bias gradient adds fixed
blocks of rows, then the blocks in order, so the same inputs give the same bits whatever the
number of threads.

Imported only when the numba kernels are chosen: importing numba and loading the cached
kernels costs about 0.5 s and 125 MiB (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

__all__ = ["BACKWARD", "KERNELS", "PARALLEL_MIN", "build"]

PARALLEL_MIN = 1 << 15
"""Elements from which a kernel splits its work over threads, where more than one is asked for
(:func:`chainrule.set_kernels`); below it the serial build runs."""

ROWS_PER_BLOCK = 64
"""Rows a bias gradient sums before its blocks are added together, in order."""

BACKWARD = {"relu": "relu_backward", "sigmoid": "sigmoid_backward", "tanh": "tanh_backward"}
"""The activations whose backward pass is compiled (sigmoid's and tanh's forward passes stay
NumPy's: its SIMD ``exp`` and ``tanh`` are faster than the C library's that numba calls)."""


def sgd(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first):
    if momentum and not (first or dampening or weight_decay or nesterov):
        for i in prange(p.size):  # the common case, in a loop the compiler vectorises
            b = buf[i] * momentum + g[i]
            buf[i] = b
            p[i] = p[i] - b * lr
        return
    one = p.dtype.type(1)
    for i in prange(p.size):
        gi = g[i]
        if weight_decay:
            gi = p[i] * weight_decay + gi
        if momentum:
            if first:
                b = gi
            elif dampening:
                b = buf[i] * momentum + gi * (one - dampening)
            else:
                b = buf[i] * momentum + gi
            buf[i] = b
            gi = b * momentum + gi if nesterov else b
        p[i] = p[i] - gi * lr


def adam(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, scale1, scale2):
    one = p.dtype.type(1)
    shrink = one - lr * weight_decay
    for i in prange(p.size):
        gi = g[i]
        if decoupled:
            p[i] = p[i] * shrink
        elif weight_decay:
            gi = p[i] * weight_decay + gi
        mi = m[i] * beta1 + gi * (one - beta1)
        vi = v[i] * beta2 + (gi * gi) * (one - beta2)
        m[i] = mi
        v[i] = vi
        p[i] = p[i] - mi / (np.sqrt(vi) * scale2 + eps) * scale1


def rmsprop(p, g, square_avg, grad_avg, buf, lr, rho, eps, weight_decay, momentum, centered):
    one = p.dtype.type(1)
    for i in prange(p.size):
        gi = g[i] + weight_decay * p[i] if weight_decay else g[i]
        s = square_avg[i] * rho + (one - rho) * gi * gi
        square_avg[i] = s
        if centered:
            a = grad_avg[i] * rho + (one - rho) * gi
            grad_avg[i] = a
            s = s - a * a
        step = gi / (np.sqrt(s) + eps)
        if momentum:
            step = buf[i] * momentum + step
            buf[i] = step
        p[i] = p[i] - lr * step


def adagrad(p, g, total, rate, weight_decay, eps):
    for i in prange(p.size):
        gi = g[i] + weight_decay * p[i] if weight_decay else g[i]
        s = total[i] + gi * gi
        total[i] = s
        p[i] = p[i] - rate * (gi / (np.sqrt(s) + eps))


def take_rows(X, rows, out):
    for i in prange(rows.size):
        row = rows[i]
        for j in range(X.shape[1]):
            out[i, j] = X[row, j]


def bias_add(Z, b):
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] += b[j]


def bias_relu(Z, b, out):
    # max(z, 0) as NumPy's maximum: NaN stays NaN (the loop stops a diverging run on it)
    zero = Z.dtype.type(0)
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            out[i, j] = zero if z <= zero else z


def bias_relu_in_place(Z, b):
    zero = Z.dtype.type(0)
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[j]
            Z[i, j] = zero if z <= zero else z


def relu_backward(grad, A, out):
    one, zero = A.dtype.type(1), A.dtype.type(0)
    for i in prange(A.shape[0]):
        for j in range(A.shape[1]):
            out[i, j] = grad[i, j] * (one if A[i, j] > zero else zero)


def sigmoid_backward(grad, A, out):
    one = A.dtype.type(1)
    for i in prange(A.shape[0]):
        for j in range(A.shape[1]):
            a = A[i, j]
            out[i, j] = (one - a) * a * grad[i, j]


def tanh_backward(grad, A, out):
    one = A.dtype.type(1)
    for i in prange(A.shape[0]):
        for j in range(A.shape[1]):
            a = A[i, j]
            out[i, j] = (one - a * a) * grad[i, j]


def bias_softmax(Z, b, out, log_norm):
    for i in prange(Z.shape[0]):
        shift = Z[i, 0] + b[0]
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            shift = max(shift, z)
        total = Z.dtype.type(0)
        for j in range(Z.shape[1]):
            e = np.exp(Z[i, j] - shift)
            out[i, j] = e
            total += e
        for j in range(Z.shape[1]):
            out[i, j] = out[i, j] / total
        log_norm[i, 0] = np.log(total) + shift


def column_sums(delta, out, partial):
    n, width = delta.shape
    for block in prange(partial.shape[0]):
        for j in range(width):
            partial[block, j] = delta[block * ROWS_PER_BLOCK, j]
        for i in range(block * ROWS_PER_BLOCK + 1, min(n, (block + 1) * ROWS_PER_BLOCK)):
            for j in range(width):
                partial[block, j] += delta[i, j]
    for j in prange(width):
        total = partial[0, j]
        for block in range(1, partial.shape[0]):
            total += partial[block, j]
        out[j] = total


def scaled_difference(Y, T, scale, out):
    for i in prange(Y.shape[0]):
        for j in range(Y.shape[1]):
            out[i, j] = (Y[i, j] - T[i, j]) * scale


KERNELS = (
    sgd, adam, rmsprop, adagrad, take_rows, bias_add, bias_relu, bias_relu_in_place,
    relu_backward, sigmoid_backward, tanh_backward, bias_softmax, column_sums, scaled_difference,
)  # fmt: skip


def _jitted(function, parallel: bool):
    """``function`` compiled serial or multi-threaded. Each build is cached under its own name:
    numba's cache tells functions apart by qualified name, not by their options."""
    suffix = "_parallel" if parallel else "_serial"
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__ + suffix)
    copy.__qualname__ = function.__qualname__ + suffix
    return njit(cache=True, nogil=True, parallel=parallel)(copy)


def build() -> dict:
    """Both builds of every kernel: ``{name: (serial, parallel)}`` (compiled at first call)."""
    return {f.__name__: (_jitted(f, False), _jitted(f, True)) for f in KERNELS}
