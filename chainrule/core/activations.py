"""Activation functions, each with its derivative beside it.

An :class:`Activation` maps net inputs ``Z`` to outputs ``A = f(Z)``. Its ``derivative(Z, A)``
gives ``dA/dZ`` element by element (sigmoid reads it from ``A``, GELU from ``Z``). Softmax is the
one activation whose Jacobian is not diagonal; its ``backward`` applies the full Jacobian.

Every function is stable for large ``|z|``: sigmoid is split by sign, softplus uses
``logaddexp``, softmax is shifted by its row maximum. No overflow warnings, no NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .arrays import constant
from .registry import Registered, lookup
from .validation import check_real

__all__ = [
    "Activation",
    "NAMES",
    "elu",
    "exp",
    "gelu",
    "get",
    "identity",
    "leaky_relu",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_and_log_norm",
    "softplus",
    "tanh",
]

Array = np.ndarray


@dataclass(frozen=True, repr=False)
class Activation(Registered):
    """An activation function ``a = f(z)`` and its derivative.

    Parameters
    ----------
    name : str
        The registry name (``'sigmoid'``, ``'leaky_relu'``, ...).
    forward : callable ``(Z, out) -> A``
        ``A = f(Z)``; writes into ``out`` when given.
    derivative : callable ``(Z, A) -> dA/dZ``
        The elementwise derivative, evaluated from the net input and/or the output.
    params : dict
        Hyperparameters such as the leaky-ReLU slope; part of the activation's identity.
    needs_z : bool
        False when the derivative can be read from ``A`` alone; then ``A`` may overwrite ``Z``
        (the layer computes the activation in place, saving a buffer and a pass).
    vjp : callable ``(grad, A, out) -> dE/dZ``, optional
        A backward pass of its own: softmax's full Jacobian; ReLU's, sigmoid's, tanh's and
        ELU's, fused and written into ``out`` without temporaries. ``out`` is None or a
        buffer of its own, never ``grad`` or ``A``.
    forward_log_norm : callable ``(Z, out) -> (A, log_norm)``, optional
        Softmax's forward that also returns each row's ``log sum_k exp(z_k)``, which it
        computes on the way: the cross-entropy's value reads it rather than recomputing it.
    """

    name: str
    forward: Callable[[Array, Array | None], Array]
    derivative: Callable[[Array, Array], Array]
    params: dict = field(default_factory=dict)
    needs_z: bool = True
    vjp: Callable[[Array, Array, Array | None], Array] | None = None
    forward_log_norm: Callable[[Array, Array | None], tuple[Array, Array]] | None = None

    def __call__(self, Z: Array) -> Array:
        return self.forward(Z, None)

    def backward(self, grad: Array, Z: Array, A: Array, out: Array | None = None) -> Array:
        """Return ``dE/dZ`` from ``grad = dE/dA``: ``grad * f'(Z)`` (softmax: ``J^T grad``).

        ``Z`` may be the very buffer ``A`` is in, for activations that do not need ``Z``.
        """
        if self.vjp is not None:
            return self.vjp(grad, A, out)
        return np.multiply(grad, self.derivative(Z, A), out=out)


def _store(result: Array, out: Array | None) -> Array:
    """Return ``result``, copied into ``out`` when a buffer is given."""
    if out is None:
        return result
    np.copyto(out, result)
    return out


def _identity(Z, out):
    return _store(Z.copy() if out is None else Z, out)


def _sigmoid(Z, out):
    # exp(min(z, 0)) / (1 + exp(-|z|)): 1/(1+e^-z) for z >= 0 and e^z/(1+e^z) for z < 0, so exp
    # never sees a large positive argument. The numerator is max(e^-|z|, sign(z)): 1 for z > 0,
    # e^z for z < 0 and e^0 = 1 at 0. Z may be overwritten (out is Z): both are taken first.
    numerator = np.sign(Z)
    E = np.exp(np.copysign(Z, constant(-1.0, (), Z.dtype)))
    np.maximum(E, numerator, out=numerator)
    out = np.add(E, constant(1.0, (), Z.dtype), out=out)
    return np.divide(numerator, out, out=out)


def _sigmoid_backward(grad, A, out):
    # dE/dZ = grad * a (1 - a), written into out with no temporary
    out = np.subtract(constant(1.0, (), A.dtype), A, out=out)
    out *= A
    out *= grad
    return out


def _tanh_backward(grad, A, out):
    # dE/dZ = grad * (1 - a^2), written into out with no temporary
    out = np.multiply(A, A, out=out)
    np.subtract(constant(1.0, (), A.dtype), out, out=out)
    out *= grad
    return out


def softmax_and_log_norm(Z: Array, out: Array | None) -> tuple[Array, Array]:
    """``A = softmax(Z)`` (into ``out`` when given) and the log-normaliser of each row,
    ``log sum_k exp(z_k) = m + log sum_k exp(z_k - m)`` with ``m`` the row's maximum, of shape
    ``(n, 1)``: the cross-entropy's value is computed from it, with no second pass over ``Z``."""
    shift = Z.max(axis=1, keepdims=True)
    out = np.subtract(Z, shift, out=out)
    np.exp(out, out=out)
    sums = out.sum(axis=1, keepdims=True)
    log_norm = np.log(sums)
    log_norm += shift
    out /= sums
    return out, log_norm


def _softmax(Z, out):
    return softmax_and_log_norm(Z, out)[0]


def _softmax_backward(grad, A, out):
    # J^T g for J = diag(a) - a a^T:  dZ = a * (g - sum(g * a)).
    inner = np.einsum("ij,ij->i", grad, A)[:, None]
    out = np.subtract(grad, inner, out=out)
    out *= A
    return out


def _erf(X):
    try:
        from scipy.special import erf
    except ImportError:  # scipy is optional; math.erf is exact but runs per element
        return np.vectorize(math.erf, otypes=[X.dtype])(X)
    return erf(X)


def _gelu(Z, out):
    return np.multiply(0.5 * Z, 1.0 + _erf(Z / math.sqrt(2.0)), out=out)


def _gelu_derivative(Z, A):
    # d/dz [z * Phi(z)] = Phi(z) + z * phi(z)
    cdf = 0.5 * (1.0 + _erf(Z / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * Z * Z) / math.sqrt(2.0 * math.pi)
    return cdf + Z * pdf


def identity() -> Activation:
    """``f(z) = z``, ``f'(z) = 1``."""
    return Activation("identity", _identity, lambda Z, A: np.ones_like(Z), needs_z=False)


def sigmoid() -> Activation:
    """The logistic function ``f(z) = 1 / (1 + exp(-z))``, ``f'(z) = f(z) (1 - f(z))``."""
    return Activation(
        "sigmoid",
        _sigmoid,
        lambda Z, A: A * (1.0 - A),
        needs_z=False,
        vjp=_sigmoid_backward,
    )


def tanh() -> Activation:
    """``f(z) = tanh(z)``, ``f'(z) = 1 - f(z)^2``."""
    return Activation(
        "tanh",
        lambda Z, out: np.tanh(Z, out=out),
        lambda Z, A: 1.0 - A * A,
        needs_z=False,
        vjp=_tanh_backward,
    )


def relu() -> Activation:
    """``f(z) = max(z, 0)``, ``f'(z) = 1 if z > 0 else 0`` (0 at z = 0, as in PyTorch)."""
    return Activation(
        "relu",
        lambda Z, out: np.maximum(Z, constant(0.0, Z.shape[-1:], Z.dtype), out=out),
        lambda Z, A: (A > 0).astype(A.dtype),
        needs_z=False,
        vjp=lambda grad, A, out: np.multiply(grad, A > 0, out=out),
    )


def leaky_relu(slope: float = 0.01) -> Activation:
    """``f(z) = z if z > 0 else slope * z``, ``f'(z) = 1 if z > 0 else slope``."""
    slope = check_real(slope, "slope", low=0.0)
    return Activation(
        "leaky_relu",
        lambda Z, out: _store(np.where(Z > 0, Z, Z * Z.dtype.type(slope)), out),
        lambda Z, A: np.where(A > 0, 1.0, slope).astype(A.dtype),  # A > 0 exactly when Z > 0
        {"slope": slope},
        needs_z=False,
    )


def elu(alpha: float = 1.0) -> Activation:
    """``f(z) = z if z > 0 else alpha (exp(z) - 1)``, ``f'(z) = 1 if z > 0 else f(z) + alpha``.

    Computed as ``max(z, 0) + alpha expm1(min(z, 0))``, the formula's numbers (one of the two
    terms is 0; a zero negative part comes out +0, not -0) without a selection pass."""
    alpha = check_real(alpha, "alpha", low=0.0)

    def forward(Z, out):
        negative_part = np.expm1(np.minimum(Z, 0.0))
        if alpha != 1.0:
            negative_part *= Z.dtype.type(alpha)
        A = np.maximum(Z, 0.0, out=out)  # out may be Z itself: the negative part is kept apart
        A += negative_part
        return A

    def derivative(Z, A):  # A > 0 exactly when Z > 0
        return np.where(A > 0, 1.0, A + alpha).astype(A.dtype)

    def vjp(grad, A, out):
        slope = np.add(A, A.dtype.type(alpha), out=out)
        np.copyto(slope, 1.0, where=A > 0)
        return np.multiply(grad, slope, out=slope)

    return Activation("elu", forward, derivative, {"alpha": alpha}, needs_z=False, vjp=vjp)


def softplus() -> Activation:
    """``f(z) = log(1 + exp(z))`` (via ``logaddexp``), ``f'(z) = sigmoid(z)``."""
    return Activation(
        "softplus",
        lambda Z, out: np.logaddexp(0.0, Z, out=out),
        lambda Z, A: _sigmoid(Z, None),
    )


def softmax() -> Activation:
    """``f(z)_k = exp(z_k) / sum_j exp(z_j)`` over each row; Jacobian ``diag(a) - a a^T``."""
    # derivative() is the Jacobian's diagonal, used only to show a factor; backward uses all of J.
    return Activation(
        "softmax",
        _softmax,
        lambda Z, A: A * (1.0 - A),
        needs_z=False,
        vjp=_softmax_backward,
        forward_log_norm=softmax_and_log_norm,
    )


def exp() -> Activation:
    """``f(z) = exp(z)``, ``f'(z) = f(z)`` (the output of a Poisson regression)."""
    return Activation("exp", lambda Z, out: np.exp(Z, out=out), lambda Z, A: A, needs_z=False)


def gelu() -> Activation:
    """``f(z) = z Phi(z)`` with ``Phi`` the normal CDF (exact, erf form, as PyTorch's default)."""
    return Activation("gelu", _gelu, _gelu_derivative)


_REGISTRY: dict[str, Callable[..., Activation]] = {
    "identity": identity,
    "linear": identity,
    "sigmoid": sigmoid,
    "logistic": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
    "softmax": softmax,
    "exp": exp,
    "gelu": gelu,
}

NAMES = tuple(sorted(_REGISTRY))


def get(spec) -> Activation:
    """Return the activation named by ``spec``.

    Parameters
    ----------
    spec : str, dict or Activation
        A name such as ``'relu'``, a config such as ``{'name': 'leaky_relu', 'slope': 0.2}``,
        or an :class:`Activation`, returned as it is.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    return lookup(_REGISTRY, spec, "activation", Activation)


Activation._get = staticmethod(get)  # what a pickled Activation is rebuilt with
