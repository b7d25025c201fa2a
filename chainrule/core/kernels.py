"""Fused elementwise kernels for the training hot path: numba when installed, NumPy otherwise.

Each kernel exists twice with the same arithmetic in the same order, every scalar first cast
to the arrays' dtype, so both give identical results bit for bit (IEEE operations are exactly
rounded, and numba is not allowed to contract ``a * b + c`` into a fused multiply-add). The
NumPy versions make several passes over memory; the numba ones make one, which matters for
the optimizer: its update runs over every parameter at every step.

numba is opt-in: install the ``fast`` extra, then ``chainrule.use_numba()`` or the
environment variable ``CHAINRULE_NUMBA=1``. It is not the default because importing it and
loading the compiled kernels costs about 0.2 s and 130 MB of memory, more than the kernels save
on most networks (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .extras import install_hint

__all__ = ["numba_kernels", "scalars", "use_numba", "using_numba"]

Array = np.ndarray


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


def _adam_numpy(
    p, g, m, v, scratch, lr, beta1, beta2, eps, weight_decay, decoupled, scale1, scale2
):
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
@functools.cache
def numba_kernels() -> dict:
    """Compile (or load from numba's cache) the numba kernels; ImportError without numba."""
    from numba import njit

    @njit(cache=True, nogil=True)
    def sgd(p, g, buf, scratch, lr, momentum, dampening, weight_decay, nesterov, first):
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
    def adam(p, g, m, v, scratch, lr, beta1, beta2, eps, weight_decay, decoupled, scale1, scale2):
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
    def relu_loop(grad, A, out):
        one, zero = A.dtype.type(1), A.dtype.type(0)
        for i in range(A.size):
            out[i] = grad[i] * (one if A[i] > 0 else zero)

    def relu(grad, A, out):
        if out is None:
            out = np.empty_like(A)
        if grad.flags.c_contiguous and A.flags.c_contiguous and out.flags.c_contiguous:
            relu_loop(grad.reshape(-1), A.reshape(-1), out.reshape(-1))
            return out
        return _relu_backward_numpy(grad, A, out)

    return {"sgd_update": sgd, "adam_update": adam, "relu_backward": relu}


_NUMPY = {
    "sgd_update": _sgd_numpy,
    "adam_update": _adam_numpy,
    "relu_backward": _relu_backward_numpy,
}
sgd_update, adam_update, relu_backward = _sgd_numpy, _adam_numpy, _relu_backward_numpy


def use_numba(enabled: bool = True) -> None:
    """Run the optimizers' and ReLU's kernels with numba (True) or NumPy (False); results are
    identical either way.

    Raises
    ------
    ImportError
        If numba is not installed (the ``fast`` extra).
    """
    try:
        chosen = numba_kernels() if enabled else _NUMPY
    except ImportError:
        raise ImportError(f"use_numba needs numba: {install_hint('fast')}") from None
    globals().update(chosen)


def using_numba() -> bool:
    """True while the numba kernels are in use."""
    return sgd_update is not _sgd_numpy


def scalars(dtype, *values):
    """Each value as a scalar of ``dtype``, so that NumPy and numba round alike."""
    kind = np.dtype(dtype).type
    return tuple(kind(value) for value in values)


if os.environ.get("CHAINRULE_NUMBA"):
    use_numba()
