"""Fused elementwise kernels for the training hot path: numba when installed, NumPy otherwise.

Each kernel exists twice with the same arithmetic in the same order, every scalar first cast
to the arrays' dtype, so both give identical results bit for bit (IEEE operations are exactly
rounded, and numba is not allowed to contract ``a * b + c`` into a fused multiply-add). The
NumPy versions make several passes over memory; the numba ones make one, which matters for
the optimizer: its update runs over every parameter at every step.

``pip install "chainrule[fast]"`` installs numba; ``CHAINRULE_NO_NUMBA=1`` turns it off.
"""

from __future__ import annotations

import os

import numpy as np

Array = np.ndarray

try:
    if os.environ.get("CHAINRULE_NO_NUMBA"):
        raise ImportError
    from numba import njit
except ImportError:
    njit = None


# -- NumPy versions ------------------------------------------------------------------------------
def _sgd_numpy(p, g, buf, scratch, lr, momentum, dampening, weight_decay, nesterov, first):
    if weight_decay:
        np.multiply(p, weight_decay, out=scratch)
        scratch += g
        g = scratch.copy() if momentum else scratch
    if momentum:
        if first:
            np.copyto(buf, g)
        else:
            buf *= momentum
            if dampening:
                np.multiply(g, 1 - dampening, out=scratch)
                buf += scratch
            else:
                buf += g
        if nesterov:
            np.multiply(buf, momentum, out=scratch)
            scratch += g
            g = scratch
        else:
            g = buf
    np.multiply(g, lr, out=scratch)
    p -= scratch


def _adam_numpy(p, g, m, v, scratch, lr, beta1, beta2, eps, weight_decay, decoupled,
                scale1, scale2):
    if decoupled:
        p *= 1 - lr * weight_decay
    elif weight_decay:
        np.multiply(p, weight_decay, out=scratch)
        scratch += g
        g = scratch.copy()
    m *= beta1
    np.multiply(g, 1 - beta1, out=scratch)
    m += scratch
    v *= beta2
    np.multiply(g, g, out=scratch)
    scratch *= 1 - beta2
    v += scratch
    np.sqrt(v, out=scratch)
    scratch *= scale2
    scratch += eps
    np.divide(m, scratch, out=scratch)
    scratch *= scale1
    p -= scratch


def _relu_backward_numpy(grad, A, out):
    return np.multiply(grad, A > 0, out=out)


# -- numba versions (the same operations, one pass) ---------------------------------------------
if njit is not None:

    @njit(cache=True, nogil=True)
    def _sgd_numba(p, g, buf, scratch, lr, momentum, dampening, weight_decay, nesterov, first):
        one = p.dtype.type(1)
        for i in range(p.size):
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

    @njit(cache=True, nogil=True)
    def _adam_numba(p, g, m, v, scratch, lr, beta1, beta2, eps, weight_decay, decoupled,
                    scale1, scale2):
        one = p.dtype.type(1)
        shrink = one - lr * weight_decay
        for i in range(p.size):
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

    @njit(cache=True, nogil=True)
    def _relu_backward_loop(grad, A, out):
        one, zero = A.dtype.type(1), A.dtype.type(0)
        for i in range(A.size):
            out[i] = grad[i] * (one if A[i] > 0 else zero)

    def _relu_backward_numba(grad, A, out):
        if out is None:
            out = np.empty_like(A)
        if grad.flags.c_contiguous and A.flags.c_contiguous and out.flags.c_contiguous:
            _relu_backward_loop(grad.reshape(-1), A.reshape(-1), out.reshape(-1))
            return out
        return _relu_backward_numpy(grad, A, out)

    sgd_update, adam_update = _sgd_numba, _adam_numba
    relu_backward = _relu_backward_numba
else:
    sgd_update, adam_update = _sgd_numpy, _adam_numpy
    relu_backward = _relu_backward_numpy

ACCELERATED = njit is not None


def scalars(dtype, *values):
    """Each value as a scalar of ``dtype``, so that NumPy and numba round alike."""
    kind = np.dtype(dtype).type
    return tuple(kind(value) for value in values)
