"""Learning-rate schedules, evaluated at the start of every epoch.

A schedule maps ``(epoch, lr0, context)`` to the epoch's learning rate (the value the loop
gives the optimizer's ``learning_rate``), where ``lr0`` is that attribute's value at the start
of the run and ``context`` carries ``samples_seen`` and the per-epoch ``history``
(a dict of lists, as :class:`chainrule.History`). Every schedule is a pure function of these, so
a resumed run gets exactly the rates an uninterrupted one would.
"""

from __future__ import annotations

import math

from ..core.registry import lookup
from ..core.validation import check_int, check_real

__all__ = [
    "Constant",
    "Cosine",
    "ExponentialDecay",
    "InverseScaling",
    "ReduceOnPlateau",
    "Schedule",
    "StepDecay",
    "get",
]


class Schedule:
    """Base class; subclasses implement :meth:`__call__`."""

    def __call__(self, epoch: int, lr0: float, context: dict) -> float:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": type(self).__name__, **vars(self)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """``lr = lr0``."""

    def __call__(self, epoch, lr0, context):
        return lr0


class InverseScaling(Schedule):
    """``lr = lr0 / (t + 1)^power_t`` with ``t`` the samples seen so far (scikit-learn's
    ``'invscaling'``, updated once per epoch as scikit-learn does)."""

    def __init__(self, power_t: float = 0.5):
        self.power_t = check_real(power_t, "power_t", low=0.0)

    def __call__(self, epoch, lr0, context):
        return lr0 / (context.get("samples_seen", 0) + 1) ** self.power_t


class StepDecay(Schedule):
    """``lr = lr0 * gamma^floor(epoch / step_size)``."""

    def __init__(self, step_size: int = 10, gamma: float = 0.1):
        self.step_size = check_int(step_size, "step_size", low=1)
        self.gamma = check_real(gamma, "gamma", low=0.0)

    def __call__(self, epoch, lr0, context):
        return lr0 * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """``lr = lr0 * gamma^epoch``."""

    def __init__(self, gamma: float = 0.95):
        self.gamma = check_real(gamma, "gamma", low=0.0)

    def __call__(self, epoch, lr0, context):
        return lr0 * self.gamma**epoch


class Cosine(Schedule):
    """Cosine annealing from ``lr0`` to ``min_lr`` over ``epochs``, after an optional linear
    warm-up.

    ``lr = lr0 (epoch + 1) / warmup`` during the first ``warmup`` epochs, then
    ``lr = min_lr + (lr0 - min_lr) (1 + cos(pi (epoch - warmup) / (epochs - warmup))) / 2``.
    """

    def __init__(self, epochs: int, min_lr: float = 0.0, warmup: int = 0):
        self.epochs = check_int(epochs, "epochs", low=1)
        self.min_lr = check_real(min_lr, "min_lr", low=0.0)
        self.warmup = check_int(warmup, "warmup", low=0)
        if self.warmup >= self.epochs:
            raise ValueError(f"'warmup' must be < epochs={self.epochs}, got {self.warmup}")

    def __call__(self, epoch, lr0, context):
        if epoch < self.warmup:
            return lr0 * (epoch + 1) / self.warmup
        progress = min(1.0, (epoch - self.warmup) / (self.epochs - self.warmup))
        return self.min_lr + (lr0 - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class ReduceOnPlateau(Schedule):
    """Divide the rate by ``1/factor`` each time ``monitor`` fails to improve by ``tol`` for
    ``patience`` epochs in a row. scikit-learn's ``learning_rate='adaptive'`` is
    ``factor=0.2, patience=n_iter_no_change + 1`` (11 with its defaults, not the 2 its
    documentation says) and the same ``tol``, except that it stops training once the rate
    is at most 1e-6.

    ``monitor`` is a history key; ``mode`` says whether lower (``'min'``, losses) or higher
    (``'max'``, scores) is better. The rate never goes below ``min_lr``.
    """

    def __init__(
        self,
        monitor: str = "loss",
        factor: float = 0.2,
        patience: int = 2,
        tol: float = 1e-4,
        mode: str = "min",
        min_lr: float = 0.0,
    ):
        self.monitor = monitor
        self.factor = check_real(factor, "factor", low=0.0, high=1.0, low_open=True, high_open=True)
        self.patience = check_int(patience, "patience", low=1)
        self.tol = check_real(tol, "tol", low=0.0)
        if mode not in ("min", "max"):
            raise ValueError(f"'mode' must be 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.min_lr = check_real(min_lr, "min_lr", low=0.0)

    def __call__(self, epoch, lr0, context):
        values = context.get("history", {}).get(self.monitor, [])
        lr, best, waited = lr0, None, 0
        for value in values:
            score = value if self.mode == "min" else -value
            waited = waited + 1 if best is not None and score > best - self.tol else 0
            best = score if best is None else min(best, score)
            if waited >= self.patience:
                lr, waited = max(self.min_lr, lr * self.factor), 0
        return lr


_REGISTRY = {
    "constant": Constant,
    "invscaling": InverseScaling,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "cosine": Cosine,
    "plateau": ReduceOnPlateau,
    "adaptive": ReduceOnPlateau,
}


def get(spec, **options) -> Schedule:
    """Return a schedule: an instance as it is, ``None`` as :class:`Constant`, or one built from
    a name (``'constant'``, ``'invscaling'``, ``'step'``, ``'exponential'``, ``'cosine'``,
    ``'plateau'``/``'adaptive'``) and options."""
    if spec is None:
        return Constant()
    named = {"name": spec, **options} if isinstance(spec, str) and options else spec
    return lookup(_REGISTRY, named, "schedule", Schedule)
