"""scikit-learn's MLP objective and stochastic solvers, over chainrule's flat parameter buffer.

The estimators in :mod:`chainrule.sklearn.estimators` are a drop-in for ``sklearn.neural_network``,
so they follow its definitions exactly (``sklearn/neural_network/_base.py`` and
``_stochastic_optimizers.py``), which differ from chainrule's own losses and optimizers:

* the loss is a weighted *average* over the samples, ``sum_i w_i L_i / sum_i w_i``, plus
  ``alpha/2 * sum(W**2) / sum_i w_i``; ``L_i`` is ``1/2 * mean over outputs (y - t)^2`` for
  the squared error, ``-sum over classes t log y`` for softmax outputs, the *sum* over labels
  of the binary log-loss for logistic outputs, and the half Poisson deviance summed over
  outputs (``t log(t/y) - t + y``);
* every output pairs with its canonical loss, so the output delta is ``(y - t) w_i / sum w``
  whatever the number of outputs (scikit-learn's gradient of the squared error is that of the
  sum over outputs, not of the mean it reports);
* SGD keeps a velocity ``v = momentum v - lr g`` and steps ``p += v`` (Nesterov:
  ``p += momentum v - lr g``), so a rate that changes between epochs acts on the new
  gradients only; Adam steps ``p -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + eps)``
  (epsilon added to the uncorrected ``sqrt(v)``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

__all__ = [
    "Adam",
    "ChainruleSolver",
    "LOSSES",
    "SGD",
    "Schedule",
    "binary_log_loss",
    "log_loss",
    "poisson_loss",
    "squared_loss",
]

Array = np.ndarray


def _average(A: Array, weights: Array | None) -> Array:
    """The (weighted) mean over samples of each column, as ``np.average(A, axis=0)``
    computes it, without its argument handling (it runs once per batch), and with its error
    for weights that sum to zero (scikit-learn's for a batch whose weights are all zero)."""
    if weights is None:
        return A.mean(axis=0)
    total = weights.sum()
    if total == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return np.multiply(A, weights[:, None]).sum(axis=0) / total


def squared_loss(T: Array, Y: Array, weights: Array | None) -> float:
    """``1/2`` of the weighted mean over samples of ``(y - t)^2``, averaged over outputs."""
    return 0.5 * _average((T - Y) ** 2, weights).mean()


def poisson_loss(T: Array, Y: Array, weights: Array | None) -> float:
    """Half the Poisson deviance ``t log(t / y) - t + y``: weighted mean over samples, summed
    over outputs."""
    return _average(xlogy(T, T / Y) - T + Y, weights).sum()


# scikit-learn's classifier targets are booleans, and xlogy of a boolean and a float32 array
# runs in float64: the log-losses take the targets as booleans to round as scikit-learn does.


def log_loss(T: Array, Y: Array, weights: Array | None) -> float:
    """``-sum over classes t log y`` (``y`` clipped to [eps, 1 - eps]), weighted mean over
    samples; ``T`` holds 0 and 1."""
    eps = np.finfo(Y.dtype).eps
    Y = np.clip(Y, eps, 1 - eps)
    return -_average(xlogy(T.astype(bool), Y), weights).sum()


def binary_log_loss(T: Array, Y: Array, weights: Array | None) -> float:
    """``-(t log y + (1 - t) log(1 - y))`` summed over labels, weighted mean over samples;
    ``T`` holds 0 and 1."""
    eps = np.finfo(Y.dtype).eps
    Y = np.clip(Y, eps, 1 - eps)
    T = T.astype(bool)
    return -_average(xlogy(T, Y) + xlogy(1 - T, 1 - Y), weights).sum()


LOSSES = {
    "identity": squared_loss,
    "exp": poisson_loss,
    "softmax": log_loss,
    "logistic": binary_log_loss,
}
"""scikit-learn's loss for each output activation (``out_activation_``)."""


class Schedule:
    """scikit-learn's rate bookkeeping: 'constant', 'invscaling' (``lr0 / (t + 1)^power_t``
    after each epoch, ``t`` the samples seen) and 'adaptive' (divided by 5 when the stopping
    rule fires, until it is at most 1e-6)."""

    def __init__(self, learning_rate_init: float, schedule: str = "constant", power_t=0.5):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.schedule = schedule
        self.power_t = power_t

    def iteration_ends(self, samples_seen: int) -> None:
        if self.schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (samples_seen + 1) ** self.power_t

    def trigger_stopping(self, message: str, verbose) -> bool:
        """True to stop; for 'adaptive', divide the rate by 5 and go on while it is > 1e-6."""
        if self.schedule != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"{message} Setting learning rate to {self.learning_rate:f}")
        return False

    def update(self, params: Array, grads: Array) -> None:
        raise NotImplementedError

    _scratch: tuple[str, ...] = ()  # buffers for temporaries: not pickled, made again on load
    _wide: tuple[str, ...] = ()  # those of them that are float64 whatever the parameters' dtype

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items() if key not in self._scratch}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if not self._scratch:  # chainrule's optimizers keep no scratch here
            return
        size = next(v for v in state.values() if isinstance(v, np.ndarray))
        for name in self._scratch:
            dtype = np.float64 if name in self._wide else size.dtype
            setattr(self, name, np.empty(size.shape, dtype))


class SGD(Schedule):
    """``v = momentum v - lr g``; ``p += v``, or ``p += momentum v - lr g`` with Nesterov.
    One scratch buffer, allocated once, holds the temporaries."""

    def __init__(self, size, dtype, learning_rate_init, schedule, momentum, nesterov, power_t):
        super().__init__(learning_rate_init, schedule, power_t)
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity = np.zeros(size, dtype)
        self._step = np.empty(size, dtype)

    _scratch = ("_step",)

    def update(self, params, grads):
        step = np.multiply(grads, self.learning_rate, out=self._step)
        self.velocity *= self.momentum
        self.velocity -= step
        if self.nesterov:
            params += np.subtract(self.momentum * self.velocity, step, out=step)
        else:
            params += self.velocity


class Adam(Schedule):
    """``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
    ``p -= lr0 sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``, in the order of
    scikit-learn's operations and in their precision (so with the same rounding), through two
    scratch buffers allocated once. The step is a float64 array whatever the parameters' dtype,
    as there: scikit-learn's rate is a float64 scalar, so ``-lr * m / (sqrt(v) + eps)`` is
    computed in float64 and rounded once, when added to float32 parameters."""

    def __init__(self, size, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        super().__init__(learning_rate_init)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self._numerator = np.empty(size, np.float64)
        self._denominator = np.empty(size, dtype)

    _wide = ("_numerator",)

    def update(self, params, grads):
        self.t += 1
        scratch = np.multiply(grads, 1 - self.beta_1, out=self._denominator)
        self.m *= self.beta_1
        self.m += scratch
        scratch = np.multiply(grads, grads, out=self._denominator)
        scratch *= 1 - self.beta_2
        self.v *= self.beta_2
        self.v += scratch
        self.learning_rate = (
            self.learning_rate_init * np.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        )
        numerator = np.multiply(self.m, -self.learning_rate, out=self._numerator)
        denominator = np.sqrt(self.v, out=self._denominator)
        denominator += self.epsilon
        numerator /= denominator
        params += numerator

    _scratch = ("_numerator", "_denominator")


class ChainruleSolver(Schedule):
    """One of chainrule's optimizers (AdamW, RMSprop, AdaGrad) at a constant rate."""

    def __init__(self, optimizer):
        super().__init__(optimizer.lr)
        self.optimizer = optimizer

    def update(self, params, grads):
        self.optimizer.step(params, grads)
