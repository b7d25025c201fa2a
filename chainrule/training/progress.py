"""Training progress on the terminal (stderr), as callbacks: a live bar or one line per epoch.

The live bar is redrawn by the training thread itself, at most five times a second over the
whole fit, epochs included (rich's own refresh thread would compete with the loop for the
interpreter lock, and a redraw costs about a millisecond); between redraws a batch costs the
display one clock reading.
"""

from __future__ import annotations

import sys
import time

from ..core.history import Callback

__all__ = ["EpochLogger", "ProgressBar", "format_logs"]


def format_logs(logs: dict, keys=None) -> str:
    """``'loss 0.1234  val_loss 0.2345  accuracy 0.9800'`` from an epoch's logs."""
    shown = [k for k in logs if k not in ("seconds", "lr", "size")] if keys is None else keys
    return "  ".join(f"{key} {logs[key]:.4g}" for key in shown if key in logs)


def _duration(seconds: float) -> str:
    """``'2.31 ms'``, ``'1.25 s'``: three significant digits in a unit that fits."""
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


class EpochLogger(Callback):
    """One line per epoch (or every ``every`` epochs, and the last): epoch, metrics, time."""

    def __init__(self, every: int = 1, stream=None):
        self.every = max(1, int(every))
        self.stream = stream

    def on_train_begin(self, logs):
        self.epochs = logs.get("epochs")

    def on_epoch_end(self, epoch, logs):
        last = self.epochs is not None and epoch + 1 == self.epochs
        if (epoch + 1) % self.every and not last and not self.network.stop_training:
            return
        stream = self.stream or sys.stderr
        print(
            f"epoch {epoch + 1}/{self.epochs}  {format_logs(logs)}  "
            f"lr {logs.get('lr', 0):.3g}  time {_duration(logs.get('seconds', 0))}",
            file=stream,
        )


class ProgressBar(Callback):
    """A live display: an epoch bar and a batch bar with loss, validation metrics, samples per
    second and the time left (rich)."""

    def __init__(self, stream=None):
        self.stream = stream
        self._progress = None

    def on_train_begin(self, logs):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        console = Console(file=self.stream or sys.stderr)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            auto_refresh=False,
            transient=False,
        )
        self._progress.start()
        first = logs.get("initial_epoch", 0)
        self._epochs = self._progress.add_task(
            "epochs", total=logs["epochs"], completed=first, info=""
        )
        self._batches = self._progress.add_task("batches", total=logs["batches"], info="")
        self._batch_total = logs["batches"]
        self._seen, self._loss_sum, self._start, self._shown = 0, 0.0, time.perf_counter(), 0.0
        self._new_epoch = False

    def _redraw_due(self) -> bool:
        now = time.perf_counter()
        if now - self._shown < 0.2:
            return False
        self._shown = now
        return True

    def on_epoch_begin(self, epoch, logs):
        # the batch bar is reset at the next redraw: rich's reset redraws the display itself
        self._seen, self._loss_sum, self._start = 0, 0.0, time.perf_counter()
        self._new_epoch = True

    def on_batch_end(self, batch, logs):
        self._seen += logs["size"]
        self._loss_sum += logs["loss"] * logs["size"]
        if not self._redraw_due():
            return
        info = self._batch_info()
        if self._new_epoch:
            self._new_epoch = False
            self._progress.reset(
                self._batches, total=self._batch_total, completed=batch + 1, info=info
            )
        else:
            self._progress.update(self._batches, completed=batch + 1, info=info)
            self._progress.refresh()

    def _batch_info(self) -> str:
        """The epoch's running loss and speed so far."""
        rate = self._seen / max(time.perf_counter() - self._start, 1e-9)
        return f"loss {self._loss_sum / max(self._seen, 1):.4g}  {rate:,.0f} samples/s"

    def on_epoch_end(self, epoch, logs):
        self._progress.update(self._batches, completed=self._batch_total, info=self._batch_info())
        self._progress.update(self._epochs, completed=epoch + 1, info=format_logs(logs))
        if self._redraw_due():
            self._progress.refresh()

    def on_train_end(self, logs):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
