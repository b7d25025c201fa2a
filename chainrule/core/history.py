"""The record of a network's training, ``net.history``, and the event interface it is filled
through: :class:`Callback`, whose events the training loop sends (see
:mod:`chainrule.training.callbacks`). Both live in the core because a network and its model file
keep the History whatever trained it.
"""

from __future__ import annotations

__all__ = ["Callback", "History"]


class Callback:
    """Base class: every event does nothing."""

    network = None

    def set_network(self, network) -> None:
        self.network = network

    def on_train_begin(self, logs: dict) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict) -> None: ...

    def on_batch_end(self, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, logs: dict) -> None: ...

    def state_dict(self) -> dict:
        """What a checkpoint must keep for a resumed run to continue identically."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""


class History(Callback):
    """Per-epoch records: ``history.history['loss']``, ``['val_loss']``, ``['accuracy']``,
    ``['lr']``, ``['seconds']``...; ``history.epoch`` lists the epoch numbers,
    ``history.stop_reason`` says why training ended early (or is None) and
    ``history.stopped_by`` what ended it: ``'early_stopping'``, ``'callback'``,
    ``'diverged'``, ``'interrupted'`` (Ctrl-C) or None."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None
        self.stopped_by: str | None = None

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def to_dict(self) -> dict:
        return {
            "history": self.history,
            "epoch": self.epoch,
            "stop_reason": self.stop_reason,
            "stopped_by": self.stopped_by,
        }

    @classmethod
    def from_dict(cls, data: dict) -> History:
        history = cls()
        history.history = {k: [float(v) for v in values] for k, values in data["history"].items()}
        history.epoch = [int(e) for e in data["epoch"]]
        history.stop_reason = data.get("stop_reason")
        history.stopped_by = data.get("stopped_by")
        return history

    state_dict = to_dict

    def load_state_dict(self, state):
        restored = History.from_dict(state)
        self.history, self.epoch = restored.history, restored.epoch
        self.stop_reason, self.stopped_by = restored.stop_reason, restored.stopped_by

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
