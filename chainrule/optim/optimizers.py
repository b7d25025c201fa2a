"""Optimizers that update the flat parameter buffer in place, one vectorised pass per step.

The update rules follow ``torch.optim`` step for step (the momentum buffer starts at the first
gradient and the learning rate stays outside it). Keras and scikit-learn fold the rate into the
velocity (``v = momentum v - lr g``); with a constant rate both give the same trajectory.

State arrays as long as the parameter vector are allocated on the first step.
``state_dict()``/``load_state_dict()`` use plain arrays and numbers, so a resumed run is
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from ..core import kernels as _kernels
from ..core.kernels import scalars
from ..core.registry import lookup
from ..core.validation import check_int, check_real

__all__ = ["AdaGrad", "Adam", "AdamW", "LBFGS", "Optimizer", "RMSprop", "SGD", "get"]

Array = np.ndarray


class Optimizer:
    """Base class: holds ``lr``, the step count and named state arrays.

    Subclasses implement ``_update(params, grads)``, writing into ``params`` in place.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, lr: float):
        self.lr = check_real(lr, "lr", low=0.0)
        self.steps = 0
        self.state: dict[str, Array] = {}
        self._cast = None

    def step(self, params: Array, grads: Array) -> None:
        """Apply one update to ``params`` (1-D) from ``grads`` (same shape), in place."""
        if not self.state and self._state_names:
            for name in self._state_names:
                self.state[name] = np.zeros_like(params)
            self._initialise_state()
        self.steps += 1
        self._update(params, grads)

    def _initialise_state(self) -> None:
        """Hook for state that does not start at zero (AdaGrad's accumulator)."""

    def _update(self, params: Array, grads: Array) -> None:
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        """The constructor arguments (each kept as an attribute of the same name), for
        ``repr`` and configs."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def state_dict(self) -> dict:
        """Step count, learning rate and state arrays (copies)."""
        return {
            "steps": self.steps,
            "lr": self.lr,
            "state": {name: array.copy() for name, array in self.state.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.steps = int(state["steps"])
        self.lr = float(state["lr"])
        self.state = {name: np.array(array) for name, array in state["state"].items()}

    def config(self) -> dict:
        return {"name": type(self).__name__, **self.hyperparameters()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


def _with_weight_decay(params: Array, grads: Array, weight_decay: float, scratch: Array) -> Array:
    """``g + weight_decay * p`` into ``scratch`` (or ``grads`` itself when there is no decay)."""
    if not weight_decay:
        return grads
    np.multiply(params, weight_decay, out=scratch)
    scratch += grads
    return scratch


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum.

    Notes
    -----
    With ``g = grad + weight_decay * p`` (torch.optim.SGD)::

        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g (later steps)
        g   = g + momentum * buf   if nesterov else buf
        p   = p - lr * g

    Without momentum this is ``p = p - lr * g``: the seeds' ``w+ = w - eta * dE/dw``.
    """

    _state_names = ("momentum_buffer", "scratch")

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        *,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(lr)
        self.momentum = check_real(momentum, "momentum", low=0.0, high=1.0)
        self.dampening = check_real(dampening, "dampening", low=0.0, high=1.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"nesterov momentum needs 'momentum' > 0 and 'dampening' = 0, got "
                f"momentum={self.momentum}, dampening={self.dampening}"
            )

    def _update(self, params, grads):
        key = (params.dtype, self.lr)
        if self._cast is None or self._cast[0] != key:  # cast once, not at every step
            self._cast = (
                key,
                scalars(params.dtype, self.lr, self.momentum, self.dampening, self.weight_decay),
            )
        _kernels.sgd_update(
            params,
            grads,
            self.state["momentum_buffer"],
            self.state["scratch"],
            *self._cast[1],
            self.nesterov,
            self.steps == 1,
        )


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional L2 ``weight_decay`` added to the gradient.

    Notes
    -----
    With ``g = grad + weight_decay * p`` and step count ``t`` (torch.optim.Adam)::

        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _state_names = ("m", "v", "scratch")
    _decoupled = False

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(lr)
        self.beta1 = check_real(beta1, "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = check_real(beta2, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = check_real(eps, "eps", low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)

    def _update(self, params, grads):
        scale1 = self.lr / (1.0 - self.beta1**self.steps)
        scale2 = 1.0 / math.sqrt(1.0 - self.beta2**self.steps)
        _kernels.adam_update(
            params,
            grads,
            self.state["m"],
            self.state["v"],
            self.state["scratch"],
            *scalars(params.dtype, self.lr, self.beta1, self.beta2, self.eps, self.weight_decay),
            self._decoupled,
            *scalars(params.dtype, scale1, scale2),
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW.

    Notes
    -----
    ``p = p (1 - lr * weight_decay)``, then the Adam update with the plain gradient.
    """

    _decoupled = True

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        super().__init__(lr, beta1, beta2, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centred and with momentum, as torch.optim.RMSprop.

    Notes
    -----
    ::

        s = rho s + (1 - rho) g^2
        d = sqrt(s - gbar^2) + eps  (centred, with gbar = rho gbar + (1 - rho) g)
        d = sqrt(s) + eps           (otherwise)
        buf = momentum buf + g / d;  p = p - lr buf   (momentum > 0)
        p = p - lr g / d                             (otherwise)
    """

    _state_names = ("square_avg", "grad_avg", "momentum_buffer", "scratch")

    def __init__(
        self,
        lr: float = 0.01,
        rho: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(lr)
        self.rho = check_real(rho, "rho", low=0.0, high=1.0)
        self.eps = check_real(eps, "eps", low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.momentum = check_real(momentum, "momentum", low=0.0, high=1.0)
        self.centered = bool(centered)

    def _update(self, params, grads):
        square_avg, scratch = self.state["square_avg"], self.state["scratch"]
        g = _with_weight_decay(params, grads, self.weight_decay, scratch)
        square_avg *= self.rho
        square_avg += (1.0 - self.rho) * g * g
        if self.centered:
            grad_avg = self.state["grad_avg"]
            grad_avg *= self.rho
            grad_avg += (1.0 - self.rho) * g
            denominator = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = np.sqrt(square_avg)
        denominator += self.eps
        if self.momentum:
            buf = self.state["momentum_buffer"]
            buf *= self.momentum
            buf += g / denominator
            params -= self.lr * buf
        else:
            params -= self.lr * (g / denominator)


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al.), as torch.optim.Adagrad.

    Notes
    -----
    ::

        lr_t = lr / (1 + (t - 1) lr_decay)
        s = s + g^2
        p = p - lr_t g / (sqrt(s) + eps)
    """

    _state_names = ("sum",)

    def __init__(
        self,
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        super().__init__(lr)
        self.lr_decay = check_real(lr_decay, "lr_decay", low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.initial_accumulator_value = check_real(
            initial_accumulator_value, "initial_accumulator_value", low=0.0
        )
        self.eps = check_real(eps, "eps", low=0.0)

    def _initialise_state(self) -> None:
        self.state["sum"] += self.initial_accumulator_value

    def _update(self, params, grads):
        g = grads + self.weight_decay * params if self.weight_decay else grads
        total = self.state["sum"]
        total += g * g
        rate = self.lr / (1.0 + (self.steps - 1) * self.lr_decay)
        params -= rate * (g / (np.sqrt(total) + self.eps))


class LBFGS:
    """Limited-memory BFGS on the full batch, through ``scipy.optimize.minimize``.

    For small full-batch problems (scikit-learn's ``solver='lbfgs'``). :meth:`Network.fit`
    runs at most ``epochs`` iterations and ``max_fun`` loss evaluations. Needs scipy:
    ``pip install "chainrule[lbfgs]"``.

    Parameters
    ----------
    max_fun : int, default=15000
    tol : float, default=1e-7
        scipy's ``gtol``: stop when the largest gradient entry falls below it.
    memory : int, default=10
        Number of corrections kept (scipy's ``maxcor``).
    """

    def __init__(self, max_fun: int = 15000, tol: float = 1e-7, memory: int = 10):
        self.max_fun = check_int(max_fun, "max_fun", low=1)
        self.tol = check_real(tol, "tol", low=0.0)
        self.memory = check_int(memory, "memory", low=1)
        self.lr = 1.0  # reported in the history; L-BFGS chooses its own steps

    def config(self) -> dict:
        return {"name": "LBFGS", "max_fun": self.max_fun, "tol": self.tol, "memory": self.memory}

    def __repr__(self) -> str:
        return f"LBFGS(max_fun={self.max_fun}, tol={self.tol}, memory={self.memory})"


_REGISTRY = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": AdaGrad,
    "lbfgs": LBFGS,
}


def get(spec, **options):
    """Return an optimizer: an instance as it is, or one built from a name and options.

    >>> get("sgd", lr=0.1, momentum=0.9)
    SGD(lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0)
    """
    named = {"name": spec, **options} if isinstance(spec, str) and options else spec
    return lookup(_REGISTRY, named, "optimizer", (Optimizer, LBFGS))
