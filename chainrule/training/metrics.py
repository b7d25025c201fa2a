"""Metrics accumulated batch by batch: ``accuracy``, ``mse``, ``mae``, ``r2``.

Each metric is updated with ``(Y, T, weights)`` for one batch and reports the value over every
sample seen since :meth:`Metric.reset`, weighted by the sample weights when given. Targets have
the outputs' shape (class labels already turned into one-hot rows).
"""

from __future__ import annotations

import numpy as np

from ..core.registry import lookup

__all__ = ["Accuracy", "MeanAbsoluteError", "MeanSquaredError", "Metric", "R2", "get"]

Array = np.ndarray


class Metric:
    """Base class: subclasses accumulate sums in :meth:`update` and combine them in
    :meth:`result`."""

    name = ""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self._sums: dict[str, Array | float] = {}

    def _add(self, **terms) -> None:
        for key, value in terms.items():
            self._sums[key] = self._sums.get(key, 0.0) + value

    def update(self, Y: Array, T: Array, weights: Array | None = None) -> None:
        raise NotImplementedError

    def state(self) -> dict:
        """What the metric has accumulated (for :meth:`merge` into another instance)."""
        return dict(self._sums)

    def merge(self, state: dict) -> None:
        """Fold in another instance's :meth:`state`, as if this one had seen its samples too
        (data-parallel training merges the processes' metrics this way)."""
        self._add(**state)

    def result(self) -> float:
        raise NotImplementedError


def _weights(weights, n):
    return np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)


class Accuracy(Metric):
    """The fraction of samples whose predicted class equals the target class: the arg-max over
    outputs, or ``y >= 0.5`` for a single (sigmoid) output."""

    name = "accuracy"

    def update(self, Y, T, weights=None):
        if Y.shape[1] == 1:
            correct = (Y[:, 0] >= 0.5) == (T[:, 0] >= 0.5)
        else:
            correct = Y.argmax(axis=1) == T.argmax(axis=1)
        w = _weights(weights, Y.shape[0])
        self._add(correct=float(np.dot(w, correct)), total=float(w.sum()))

    def result(self):
        return self._sums["correct"] / self._sums["total"]


class _MeanOverOutputs(Metric):
    """``mean over samples and outputs of error(y - t)``, weighted by sample."""

    @staticmethod
    def error(residual: Array) -> Array:
        raise NotImplementedError

    def update(self, Y, T, weights=None):
        w = _weights(weights, Y.shape[0])
        per_sample = np.mean(self.error(Y.astype(np.float64) - T), axis=1)
        self._add(total=float(np.dot(w, per_sample)), count=float(w.sum()))

    def result(self):
        return self._sums["total"] / self._sums["count"]


class MeanSquaredError(_MeanOverOutputs):
    """``mean (y - t)^2`` over samples and outputs."""

    name = "mse"
    error = staticmethod(np.square)


class MeanAbsoluteError(_MeanOverOutputs):
    """``mean |y - t|`` over samples and outputs."""

    name = "mae"
    error = staticmethod(np.abs)


class R2(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` per output, averaged over the
    outputs (scikit-learn's ``r2_score`` with ``'uniform_average'``).

    ``SS_tot`` is accumulated without cancellation, however far the targets sit from zero:
    each batch contributes its weighted mean and its sum of squared deviations from that mean,
    merged into the running ones (Chan, Golub and LeVeque's pairwise update)::

        delta = mean_b - mean,  W' = W + W_b
        mean += delta * W_b / W',  M2 += M2_b + delta^2 * W W_b / W'
    """

    name = "r2"

    def update(self, Y, T, weights=None):
        w = _weights(weights, Y.shape[0])[:, None]
        T = T.astype(np.float64)
        batch_weight = float(w.sum())
        if batch_weight == 0:
            return
        batch_mean = (w * T).sum(axis=0) / batch_weight
        batch_m2 = (w * (T - batch_mean) ** 2).sum(axis=0)
        residual = (w * (Y - T) ** 2).sum(axis=0)
        self.merge(
            {"residual": residual, "mean": batch_mean, "m2": batch_m2, "count": batch_weight}
        )

    def merge(self, state):
        if not state:
            return
        s = self._sums
        if not s:
            s.update(state)
            return
        total = s["count"] + state["count"]
        delta = state["mean"] - s["mean"]
        s["mean"] = s["mean"] + delta * (state["count"] / total)
        s["m2"] = s["m2"] + state["m2"] + delta**2 * (s["count"] * state["count"] / total)
        s["residual"] = s["residual"] + state["residual"]
        s["count"] = total

    def result(self):
        s = self._sums
        total = s["m2"]
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(
                total > 0,
                1.0 - s["residual"] / np.where(total > 0, total, 1.0),
                np.where(s["residual"] > 0, 0.0, 1.0),
            )
        return float(scores.mean())


_REGISTRY = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "r2": R2,
}


def get(name) -> Metric:
    """A fresh metric by name (``'accuracy'``, ``'mse'``, ``'mae'``, ``'r2'``) or instance."""
    return lookup(_REGISTRY, name, "metric", Metric)
