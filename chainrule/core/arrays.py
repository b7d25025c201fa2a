"""Cached constant operands for NumPy's fast paths."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["constant"]


@functools.lru_cache(maxsize=32)
def constant(value: float, shape: tuple, dtype) -> np.ndarray:
    """A cached, read-only array of ``value``: the operand NumPy's ufuncs are fastest with.

    Against a Python float a ufunc call on a small array costs about twice what it costs
    against a 0-d array of the other operand's dtype (the same arithmetic), and ``np.maximum``
    runs its SIMD loop only with two array operands: against a broadcast row of zeros it is
    about twice as fast as against the scalar 0 on a large batch.
    """
    array = np.full(shape, value, dtype)
    array.flags.writeable = False
    return array
