"""Ctrl-C acted on at safe points: between two training steps, never inside one."""

from __future__ import annotations

import signal
import threading

__all__ = ["DeferredInterrupt"]


class DeferredInterrupt:
    """Ctrl-C acted on between training steps, never inside one.

    While active (in the main thread, when SIGINT has Python's default handler), SIGINT only
    sets :attr:`pending`; the loop raises ``KeyboardInterrupt`` itself once the current step,
    the optimizer's update included, is complete. A signal still pending on exit is raised then.

    With ``agreed`` (the processes of a data-parallel group), SIGINT sets :attr:`requested`
    instead, and the group sets :attr:`pending` on every process at once when any process has
    requested it (a flag carried in the step's Allreduce), so all stop after the same step.
    """

    def __init__(self, agreed: bool = False):
        self.pending = self.requested = False
        self.agreed = agreed
        self._previous = None

    def _handler(self, signum, frame) -> None:
        if self.agreed:
            self.requested = True
        else:
            self.pending = True

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.pending and kind is None:
            raise KeyboardInterrupt
