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
  (epsilon added to the uncorrected ``sqrt(v)``). These are the ``form='scikit-learn'`` of
  :class:`chainrule.optim.SGD` and :class:`chainrule.optim.Adam`, which repeat scikit-learn's
  operations one for one; :class:`Schedule` adds scikit-learn's rate bookkeeping around them.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

__all__ = [
    "LOSSES",
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
    """scikit-learn's rate bookkeeping around one of chainrule's optimizers, which makes the
    steps (``optimizer.step``) at the rate ``learning_rate`` (its own).

    ``schedule`` is scikit-learn's ``learning_rate``: 'constant'; 'invscaling'
    (``lr0 / (t + 1)^power_t`` after each epoch, ``t`` the samples seen); 'adaptive' (divided
    by 5 when the stopping rule fires, until it is at most 1e-6). scikit-learn's estimators
    schedule SGD only: Adam, and chainrule's other optimizers, keep 'constant'.
    """

    def __init__(self, optimizer, schedule: str = "constant", power_t=0.5):
        self.optimizer = optimizer
        self.learning_rate_init = optimizer.learning_rate
        self.schedule = schedule
        self.power_t = power_t

    @property
    def learning_rate(self) -> float:
        """The rate of the next steps: the optimizer's ``learning_rate``."""
        return self.optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.optimizer.learning_rate = value

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
