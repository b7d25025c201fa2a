"""Callbacks: objects the training loop sends events to, as in Keras.

Events, each with a ``logs`` dict: ``on_train_begin``, ``on_epoch_begin(epoch)``,
``on_batch_end(batch)`` (logs: ``size``, ``loss``), ``on_epoch_end(epoch)`` (logs: ``loss``,
metrics, ``val_*``, ``lr``, ``seconds``) and ``on_train_end``. A callback sees the network as
``self.network`` and stops training by setting ``self.network.stop_training = True``.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.history import Callback, History
from ..core.validation import check_int, check_real


class EarlyStopping(Callback):
    """Stop once ``monitor`` has gone ``patience`` epochs in a row without improving by more
    than ``min_delta`` (as Keras's ``EarlyStopping``: with patience 2, losses 3, 3.5, 3.2 stop
    after the 3.2); optionally put back the parameters of the best epoch. Messages count
    epochs from 1, as the progress display and ``chainrule info`` do.

    Parameters
    ----------
    monitor : str, default='val_loss'
        Any recorded key; ``'val_loss'`` falls back to ``'loss'`` when there is no validation.
    min_delta : float, default=0
    patience : int, default=5
    mode : {'auto', 'min', 'max'}
        'auto' maximises accuracy and r2 and minimises everything else.
    restore_best_weights : bool, default=True
        (Keras's defaults to False.) The best epoch's parameters are put back when training
        ends, whether or not it stopped early, as in Keras.
    min_rise : float >= 0, optional
        (Not in Keras.) Stop only once the monitored value has clearly turned: after
        ``patience`` epochs without improvement, training stops at the first epoch where the
        median of the last :attr:`RISE_WINDOW` values (the score, lower is better) exceeds
        ``best + min_rise * |best|``. A validation loss wandering on a plateau keeps training;
        one climbing as the network over-fits stops it. None (the default): patience alone,
        as in Keras. Without dropout, patience 20 with ``min_rise=0.3`` kept the whole run's
        model on 380 runs over ten real tables where every plain patience up to 50 cut some
        (benchmarks/RESULTS.md, "When to stop").
    """

    RISE_WINDOW = 5
    """The last values whose median ``min_rise`` compares with the best."""

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 5,
        mode: str = "auto",
        restore_best_weights: bool = True,
        min_rise: float | None = None,
    ):
        self.monitor = monitor
        self.min_delta = check_real(min_delta, "min_delta", low=0.0)
        self.patience = check_int(patience, "patience", low=0)
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"'mode' must be 'auto', 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.min_rise = None if min_rise is None else check_real(min_rise, "min_rise", low=0.0)
        self._reset()

    def _reset(self):
        self.best = math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_parameters: np.ndarray | None = None
        self.stopped_epoch: int | None = None
        self.maximise = False
        self.recent: list[float] = []  # the last RISE_WINDOW scores
        self._resumed = False

    def on_train_begin(self, logs):
        # every fit starts afresh (one instance may serve several fits, as Keras 3 allows;
        # its reset keeps the last fit's best value, this one does not), but a resumed run
        # keeps the state its checkpoint restored
        if not self._resumed:
            self._reset()
        self._resumed = False

    def _score(self, logs) -> float | None:
        key = self.monitor
        if key not in logs and key.startswith("val_") and key[4:] in logs:
            key = key[4:]
        if key not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which is not recorded; "
                f"recorded: {', '.join(sorted(logs))}"
            )
        self.maximise = self.mode == "max" or (
            self.mode == "auto" and key.split("_")[-1] in ("accuracy", "r2")
        )
        return -logs[key] if self.maximise else logs[key]

    def on_epoch_end(self, epoch, logs):
        score = self._score(logs)
        self.recent = [*self.recent, score][-self.RISE_WINDOW :]
        if score < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = score, epoch, 0
            if self.restore_best_weights:
                self.best_parameters = self.network.parameters.copy()
            return
        self.wait += 1
        if self.wait >= self.patience and self._risen():
            self.stopped_epoch = epoch
            self.network.stop_training = True
            self.network.stop_reason = (
                f"early stopping: {self.monitor} did not improve for "
                f"{self.wait} epochs after epoch {self.best_epoch + 1}{self._rise_said()}"
            )

    def _risen(self) -> bool:
        """True without ``min_rise``; with it, whether the recent median is above the bar (a
        NaN among the recent values counts as risen: it is no better than the best)."""
        if self.min_rise is None:
            return True
        return not float(np.median(self.recent)) <= self.best + self.min_rise * abs(self.best)

    def _rise_said(self) -> str:
        """How far the recent median has moved from the best, in the monitored value's terms."""
        if self.min_rise is None:
            return ""
        moved = float(np.median(self.recent)) - self.best
        way = "fell" if self.maximise else "rose"
        side = "below" if self.maximise else "above"
        size = f"{moved / abs(self.best):.0%}" if self.best else f"{moved:.3g}"
        last = len(self.recent)
        return f", and the median of its last {last} values {way} {size} {side} the best"

    def on_train_end(self, logs):
        if self.restore_best_weights and self.best_parameters is not None:
            self.network.parameters[...] = self.best_parameters

    def state_dict(self):
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_parameters": self.best_parameters,
            "recent": list(self.recent),
        }

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_parameters = state["best_parameters"]
        self.recent = list(state.get("recent", []))  # checkpoints written before min_rise
        self._resumed = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **events):
        for name, function in events.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"unknown callback event {name!r}")
            setattr(self, name, function)


__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback"]
