"""Optimizers that update the flat parameter buffer in place, one vectorised pass per step.

The update rules follow ``torch.optim`` step for step (the momentum buffer starts at the first
gradient and the learning rate stays outside it). Keras and scikit-learn fold the rate into the
velocity (``v = momentum v - lr g``); with a constant rate both give the same trajectory, and
``SGD(form="scikit-learn")`` is that velocity form. ``Adam(form="scikit-learn")`` is
scikit-learn's Adam, with its epsilon and its rounding. Both scikit-learn forms repeat the
operations of ``sklearn.neural_network._stochastic_optimizers`` one for one, so they give its
numbers bit for bit (the scikit-learn estimators of :mod:`chainrule.sklearn` step with them);
they run on NumPy whether or not the numba kernels are switched on.

State arrays as long as the parameter vector are allocated on the first step.
``state_dict()``/``load_state_dict()`` use plain arrays and numbers, so a resumed run is
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from ..core import kernels as _kernels
from ..core.deprecation import renamed_arguments, warn_renamed
from ..core.kernels import scalars, with_weight_decay
from ..core.registry import lookup
from ..core.validation import CONSTRAINTS, check_int, check_real

__all__ = [
    "AdaGrad",
    "Adam",
    "AdamW",
    "LBFGS",
    "Optimizer",
    "RENAMED",
    "RMSprop",
    "SGD",
    "get",
    "renamed_keys",
]

Array = np.ndarray

FORMS = ("torch", "scikit-learn")
"""The values of ``form`` for :class:`SGD` and :class:`Adam`."""

RENAMED = {
    "lr": "learning_rate",
    "lr_decay": "learning_rate_decay",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "eps": "epsilon",
}
"""chainrule 0.1's names of the optimizers' arguments, attributes and saved keys, and their
names now (Keras's and scikit-learn's)."""

_ADAM_RENAMED = {old: RENAMED[old] for old in ("lr", "beta1", "beta2", "eps")}


def renamed_keys(saved: dict) -> dict:
    """``saved`` (an optimizer's config, ``state_dict()`` or pickled attributes) with chainrule
    0.1's keys under their new names, silently: what that version wrote still loads. A key
    saved under both names keeps its new one."""
    return {
        RENAMED.get(key, key): value
        for key, value in saved.items()
        if key not in RENAMED or RENAMED[key] not in saved
    }


def _renamed_attribute(old: str, new: str) -> property:
    """A property ``old`` that reads and writes the attribute ``new``, with a FutureWarning."""

    def read(self):
        warn_renamed(f"{type(self).__name__}.{old}", f"{type(self).__name__}.{new}")
        return getattr(self, new)

    def write(self, value):
        warn_renamed(f"{type(self).__name__}.{old}", f"{type(self).__name__}.{new}")
        setattr(self, new, value)

    return property(read, write, doc=f"Deprecated: ``{new}``.")


def _check_form(form) -> str:
    if not isinstance(form, str) or form not in FORMS:
        raise ValueError(f"'form' must be 'torch' or 'scikit-learn', got {form!r}")
    return form


class Optimizer:
    """Base class: holds ``learning_rate``, the step count and named state arrays.

    Subclasses implement ``_update(params, grads)``, writing into ``params`` in place.

    Parameters
    ----------
    learning_rate : float
        The step size, >= 0 (a schedule may change it between epochs).
    """

    _state_names: tuple[str, ...] = ()
    lr = _renamed_attribute("lr", "learning_rate")

    @renamed_arguments(lr="learning_rate")  # for subclasses written for chainrule 0.1
    def __init__(self, learning_rate: float):
        self.learning_rate = CONSTRAINTS["learning_rate"].check(learning_rate, "learning_rate")
        self.steps = 0
        self.state: dict[str, Array] = {}
        self._cast = None
        self._buffers: dict[str, Array] = {}

    def _buffer(self, name: str, like: Array, dtype=None) -> Array:
        """A buffer for temporaries, shaped as ``like`` (of ``dtype``, default its own): made
        once and reused at every step, never saved (``state_dict``) nor pickled."""
        dtype = like.dtype if dtype is None else np.dtype(dtype)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != like.shape or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(like.shape, dtype)
        return buffer

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_buffers"] = {}  # temporaries, made again at the next step
        return state

    def __setstate__(self, state):
        self.__dict__.update(renamed_keys(state))  # pickled by chainrule 0.1: silently
        self.__dict__.setdefault("_buffers", {})

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
            "learning_rate": self.learning_rate,
            "state": {name: array.copy() for name, array in self.state.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (chainrule 0.1's ``'lr'`` is read as
        ``'learning_rate'``, silently)."""
        state = renamed_keys(state)
        self.steps = int(state["steps"])
        self.learning_rate = float(state["learning_rate"])
        self.state = {name: np.array(array) for name, array in state["state"].items()}

    def config(self) -> dict:
        return {"name": type(self).__name__, **self.hyperparameters()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum.

    Parameters
    ----------
    learning_rate : float, default=0.01
        The step size (torch.optim.SGD's ``lr``; ``lr`` here is deprecated).
    momentum, dampening, nesterov, weight_decay
        As torch.optim.SGD's.
    form : {'torch', 'scikit-learn'}, default='torch'
        Where the rate goes: outside the momentum buffer (torch.optim.SGD) or inside a
        velocity (scikit-learn's ``SGDOptimizer``, as Keras). The two agree while the rate is
        constant; when it changes (a schedule), the velocity form applies the new rate to new
        gradients only. The scikit-learn form has no ``dampening``, and its Nesterov step
        needs no momentum (with ``momentum=0`` both of its steps are ``-lr g``).

    Notes
    -----
    With ``lr`` the ``learning_rate`` and ``g = grad + weight_decay * p``, ``form='torch'``
    (torch.optim.SGD)::

        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g (later steps)
        g   = g + momentum * buf   if nesterov else buf
        p   = p - lr * g

    Without momentum this is ``p = p - lr * g``: the seeds' ``w+ = w - eta * dE/dw``.

    ``form='scikit-learn'``, with the same ``g``
    (``sklearn.neural_network._stochastic_optimizers.SGDOptimizer``, in its order of
    operations, so bit for bit)::

        v = momentum * v - lr * g                 (v starts at 0)
        p = p + momentum * v - lr * g   if nesterov
        p = p + v                       otherwise
    """

    _FORM_STATE = {"torch": ("momentum_buffer", "scratch"), "scikit-learn": ("velocity",)}
    form = "torch"  # for instances pickled before there was a choice

    @renamed_arguments(lr="learning_rate")
    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        *,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        form: str = "torch",
    ):
        super().__init__(learning_rate)
        self.momentum = check_real(momentum, "momentum", low=0.0, high=1.0)
        self.dampening = check_real(dampening, "dampening", low=0.0, high=1.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.nesterov = bool(nesterov)
        self.form = _check_form(form)
        if self.form == "scikit-learn" and self.dampening != 0:
            raise ValueError(
                f"form='scikit-learn' has no dampening (its velocity holds the rate times the "
                f"gradients), got dampening={self.dampening}"
            )
        if self.form == "torch" and self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"nesterov momentum needs 'momentum' > 0 and 'dampening' = 0, got "
                f"momentum={self.momentum}, dampening={self.dampening}"
            )

    @property
    def _state_names(self) -> tuple[str, ...]:
        return self._FORM_STATE[self.form]

    def _update(self, params, grads):
        if self.form == "scikit-learn":
            self._velocity_update(params, grads)
            return
        key = (params.dtype, self.learning_rate)
        if self._cast is None or self._cast[0] != key:  # cast once, not at every step
            rates = (self.learning_rate, self.momentum, self.dampening, self.weight_decay)
            self._cast = (key, scalars(params.dtype, *rates))
        _kernels.current().sgd_update(
            params,
            grads,
            self.state["momentum_buffer"],
            self.state["scratch"],
            *self._cast[1],
            self.nesterov,
            self.steps == 1,
        )

    def _velocity_update(self, params, grads):
        """scikit-learn's step: ``momentum * v - lr * g`` rounded as there (``lr * g`` first,
        then ``momentum * v``, then the difference), in the parameters' dtype."""
        step = self._buffer("step", params)
        g = with_weight_decay(params, grads, self.weight_decay, step)
        step = np.multiply(g, self.learning_rate, out=step)
        velocity = self.state["velocity"]
        velocity *= self.momentum
        velocity -= step
        if self.nesterov:
            params += np.subtract(self.momentum * velocity, step, out=step)
        else:
            params += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional L2 ``weight_decay`` added to the gradient.

    Parameters
    ----------
    learning_rate : float, default=0.001
        The step size (torch.optim.Adam's ``lr``).
    beta_1, beta_2 : float, default=0.9, 0.999
        The decay rates of the moments, in [0, 1) (torch.optim.Adam's ``betas``).
    epsilon : float, default=1e-8
        Added to the denominator (torch.optim.Adam's ``eps``).
    weight_decay : float, default=0.0
        L2 penalty added to the gradient, as torch.optim.Adam's.
    form : {'torch', 'scikit-learn'}, default='torch'
        Where ``epsilon`` goes: beside the bias-corrected ``sqrt(v)`` (torch.optim.Adam) or
        beside the uncorrected one (scikit-learn's ``AdamOptimizer``), which makes ``epsilon``
        weigh ``1 / sqrt(1 - beta_2^t)`` times more, most in the first steps.

    Notes
    -----
    The names of chainrule 0.1, ``lr``, ``beta1``, ``beta2`` and ``eps``, are deprecated.

    With ``lr``, ``beta1``, ``beta2``, ``eps`` the ``learning_rate``, ``beta_1``, ``beta_2``,
    ``epsilon``, ``g = grad + weight_decay * p`` and step count ``t``, ``form='torch'``
    (torch.optim.Adam)::

        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    ``form='scikit-learn'`` (``sklearn.neural_network._stochastic_optimizers.AdamOptimizer``),
    the same ``g``, ``m`` and ``v``, then::

        lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        p = p - lr_t * m / (sqrt(v) + eps)

    in scikit-learn's order of operations and precision, so bit for bit: ``m``, ``v`` and
    ``sqrt(v) + eps`` are in the parameters' dtype, but ``lr_t`` is a float64 scalar, so
    ``-lr_t * m / (sqrt(v) + eps)`` is computed in float64 whatever that dtype, and rounded
    once, when added to the parameters. (``-lr_t * m`` first, then the division: ``eps``
    weighs ``1 / sqrt(1 - beta2^t)`` times more than in the torch form.)
    """

    _FORM_STATE = {"torch": ("m", "v", "scratch"), "scikit-learn": ("m", "v")}
    form = "torch"  # for instances pickled before there was a choice
    _decoupled = False
    beta1 = _renamed_attribute("beta1", "beta_1")
    beta2 = _renamed_attribute("beta2", "beta_2")
    eps = _renamed_attribute("eps", "epsilon")

    @renamed_arguments(**_ADAM_RENAMED)
    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        form: str = "torch",
    ):
        super().__init__(learning_rate)
        self.beta_1 = check_real(beta_1, "beta_1", low=0.0, high=1.0, high_open=True)
        self.beta_2 = check_real(beta_2, "beta_2", low=0.0, high=1.0, high_open=True)
        self.epsilon = check_real(epsilon, "epsilon", low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.form = _check_form(form)

    @property
    def _state_names(self) -> tuple[str, ...]:
        return self._FORM_STATE[self.form]

    def _update(self, params, grads):
        if self.form == "scikit-learn":
            self._scikit_learn_update(params, grads)
            return
        scale1 = self.learning_rate / (1.0 - self.beta_1**self.steps)
        scale2 = 1.0 / math.sqrt(1.0 - self.beta_2**self.steps)
        rates = (self.learning_rate, self.beta_1, self.beta_2, self.epsilon, self.weight_decay)
        _kernels.current().adam_update(
            params,
            grads,
            self.state["m"],
            self.state["v"],
            self.state["scratch"],
            *scalars(params.dtype, *rates),
            self._decoupled,
            *scalars(params.dtype, scale1, scale2),
        )

    def _scikit_learn_update(self, params, grads):
        """scikit-learn's step, operation for operation; ``scratch`` holds ``(1 - beta_1) g``,
        then ``(1 - beta_2) g^2``, then ``sqrt(v) + epsilon``; ``step`` is float64."""
        if self.weight_decay:
            grads = with_weight_decay(params, grads, self.weight_decay, self._buffer("g", params))
        m, v = self.state["m"], self.state["v"]
        scratch = np.multiply(grads, 1 - self.beta_1, out=self._buffer("scratch", params))
        m *= self.beta_1
        m += scratch
        scratch = np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta_2
        v *= self.beta_2
        v += scratch
        rate = self.learning_rate * np.sqrt(1 - self.beta_2**self.steps)
        rate /= 1 - self.beta_1**self.steps  # after the product, as scikit-learn rounds
        step = np.multiply(m, -rate, out=self._buffer("step", params, np.float64))
        root = np.sqrt(v, out=scratch)
        root += self.epsilon
        step /= root
        params += step


def _variant(init, qualname: str, *, without: str, **defaults):
    """A subclass's ``__init__``: ``init`` under its own signature, less the argument
    ``without`` (left at its default) and with other ``defaults``, so that the arguments and
    their defaults are written once, in ``init``."""
    signature = inspect.signature(init)
    signature = signature.replace(
        parameters=[
            parameter.replace(default=defaults.get(name, parameter.default))
            for name, parameter in signature.parameters.items()
            if name != without
        ]
    )

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as error:  # inspect names no function
            raise TypeError(f"{qualname.removesuffix('.__init__')}() {error}") from None
        bound.apply_defaults()
        init(*bound.args, **bound.kwargs)

    __init__.__signature__ = signature
    __init__.__qualname__ = qualname
    __init__.__doc__ = init.__doc__
    return __init__


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW.

    Parameters
    ----------
    learning_rate, beta_1, beta_2, epsilon
        As :class:`Adam`'s (``lr``, ``beta1``, ``beta2``, ``eps`` are deprecated).
    weight_decay : float, default=0.01
        The decoupled decay, as torch.optim.AdamW's.

    Notes
    -----
    ``p = p (1 - learning_rate * weight_decay)``, then the Adam update with the plain gradient
    (torch's form only).
    """

    _decoupled = True
    __init__ = renamed_arguments(**_ADAM_RENAMED)(
        _variant(Adam.__init__, "AdamW.__init__", without="form", weight_decay=0.01)
    )


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centred and with momentum, as torch.optim.RMSprop.

    Parameters
    ----------
    learning_rate : float, default=0.01
        The step size (torch.optim.RMSprop's ``lr``; ``lr`` here is deprecated).
    rho : float, default=0.99
        The decay of the squared gradients' average (torch.optim.RMSprop's ``alpha``).
    epsilon : float, default=1e-8
        Added to the denominator (torch.optim.RMSprop's ``eps``; ``eps`` is deprecated).
    weight_decay, momentum, centered
        As torch.optim.RMSprop's.

    Notes
    -----
    With ``lr`` the ``learning_rate`` and ``eps`` the ``epsilon``::

        s = rho s + (1 - rho) g^2
        d = sqrt(s - gbar^2) + eps  (centred, with gbar = rho gbar + (1 - rho) g)
        d = sqrt(s) + eps           (otherwise)
        buf = momentum buf + g / d;  p = p - lr buf   (momentum > 0)
        p = p - lr g / d                             (otherwise)
    """

    _state_names = ("square_avg", "grad_avg", "momentum_buffer", "scratch")
    eps = _renamed_attribute("eps", "epsilon")

    @renamed_arguments(lr="learning_rate", eps="epsilon")
    def __init__(
        self,
        learning_rate: float = 0.01,
        rho: float = 0.99,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(learning_rate)
        self.rho = check_real(rho, "rho", low=0.0, high=1.0)
        self.epsilon = check_real(epsilon, "epsilon", low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.momentum = check_real(momentum, "momentum", low=0.0, high=1.0)
        self.centered = bool(centered)

    def _update(self, params, grads):
        state = self.state
        _kernels.current().rmsprop_update(
            params, grads, state["square_avg"], state["grad_avg"], state["momentum_buffer"],
            state["scratch"], self.learning_rate, self.rho, self.epsilon, self.weight_decay,
            self.momentum, self.centered,
        )  # fmt: skip


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al.), as torch.optim.Adagrad.

    Parameters
    ----------
    learning_rate : float, default=0.01
        The initial step size (torch.optim.Adagrad's ``lr``).
    learning_rate_decay : float, default=0.0
        How fast the step size decays (torch.optim.Adagrad's ``lr_decay``).
    weight_decay, initial_accumulator_value
        As torch.optim.Adagrad's.
    epsilon : float, default=1e-10
        Added to the denominator (torch.optim.Adagrad's ``eps``).

    Notes
    -----
    The names of chainrule 0.1, ``lr``, ``lr_decay`` and ``eps``, are deprecated.

    With ``lr``, ``lr_decay``, ``eps`` the ``learning_rate``, ``learning_rate_decay``,
    ``epsilon``::

        lr_t = lr / (1 + (t - 1) lr_decay)
        s = s + g^2
        p = p - lr_t g / (sqrt(s) + eps)
    """

    _state_names = ("sum",)
    lr_decay = _renamed_attribute("lr_decay", "learning_rate_decay")
    eps = _renamed_attribute("eps", "epsilon")

    @renamed_arguments(lr="learning_rate", lr_decay="learning_rate_decay", eps="epsilon")
    def __init__(
        self,
        learning_rate: float = 0.01,
        learning_rate_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        epsilon: float = 1e-10,
    ):
        super().__init__(learning_rate)
        self.learning_rate_decay = check_real(learning_rate_decay, "learning_rate_decay", low=0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.initial_accumulator_value = check_real(
            initial_accumulator_value, "initial_accumulator_value", low=0.0
        )
        self.epsilon = check_real(epsilon, "epsilon", low=0.0)

    def _initialise_state(self) -> None:
        self.state["sum"] += self.initial_accumulator_value

    def _update(self, params, grads):
        rate = self.learning_rate / (1.0 + (self.steps - 1) * self.learning_rate_decay)
        _kernels.current().adagrad_update(
            params, grads, self.state["sum"], rate, self.weight_decay, self.epsilon
        )


class LBFGS:
    """Limited-memory BFGS on the full batch, through ``scipy.optimize.minimize``.

    For small full-batch problems (scikit-learn's ``solver='lbfgs'``). :meth:`Network.fit`
    runs at most ``epochs`` iterations and ``max_fun`` loss evaluations. Needs scipy (the
    ``lbfgs`` extra).

    Parameters
    ----------
    max_fun : int, default=15000
    tol : float, default=1e-7
        scipy's ``gtol``: stop when the largest gradient entry falls below it.
    memory : int, default=10
        Number of corrections kept (scipy's ``maxcor``).
    """

    lr = _renamed_attribute("lr", "learning_rate")

    def __init__(self, max_fun: int = 15000, tol: float = 1e-7, memory: int = 10):
        self.max_fun = check_int(max_fun, "max_fun", low=1)
        self.tol = check_real(tol, "tol", low=0.0)
        self.memory = check_int(memory, "memory", low=1)
        self.learning_rate = 1.0  # reported in the history; L-BFGS chooses its own steps

    def __setstate__(self, state):
        self.__dict__.update(renamed_keys(state))  # pickled by chainrule 0.1: silently

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


def _renamed_options(options: dict) -> dict:
    """``get``'s ``options`` under the new names, with a warning for each old one."""
    for old in sorted(RENAMED.keys() & options.keys()):
        new = RENAMED[old]
        if new in options:
            raise TypeError(
                f"get() got both {old!r} and {new!r}; pass only {new!r} ({old!r} is its "
                "deprecated name)"
            )
        # the caller of get: warn_renamed, _renamed_options, get, caller
        warn_renamed(f"optim.get({old}=...)", f"{new}=...", stacklevel=4)
    return renamed_keys(options)


def get(spec, **options):
    """Return an optimizer: an instance as it is, or one built from a name and ``options``,
    or from a config (``{'name': ..., **options}``, as :meth:`Optimizer.config` writes it).

    A config written by chainrule 0.1 (``'lr'``, ``'beta1'``, ``'eps'``...) is read under the
    new names silently; those names as ``options`` are deprecated.

    >>> sgd = get("sgd", learning_rate=0.1, momentum=0.9)
    >>> sgd.learning_rate, sgd.momentum
    (0.1, 0.9)
    >>> get({"name": "SGD", "lr": 0.1}).learning_rate  # a config written by chainrule 0.1
    0.1
    """
    if isinstance(spec, str) and options:
        spec = {"name": spec, **_renamed_options(options)}
    elif isinstance(spec, dict):
        spec = renamed_keys(spec)
    return lookup(_REGISTRY, spec, "optimizer", (Optimizer, LBFGS))
