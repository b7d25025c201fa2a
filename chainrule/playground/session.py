"""A playground run: the points, the network, and ``net.fit`` running in a thread of its own.

The training is chainrule's own ``Network.fit``, unchanged: a callback pauses it between
epochs (play, pause, one step) and copies the parameters after each epoch, so a run is exactly
the curve ``net.fit`` draws in Python with the same settings and seed (:func:`python_code`
writes that program out). The page only draws what :meth:`Session.snapshot` returns.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np

from .. import optim
from ..core.history import Callback
from ..core.network import MLP, Network
from .points import Points, make_points, split
from .settings import Settings, SettingsError

__all__ = [
    "MAX_EPOCHS",
    "SPEEDS",
    "Session",
    "Snapshot",
    "build_network",
    "fit_options",
    "python_code",
]

MAX_EPOCHS = 1_000_000
SPEEDS = {"slow": 5.0, "normal": 30.0, "fast": None}  # epochs per second; None: no pause


def build_network(settings: Settings) -> Network:
    """The run's network: 2 inputs, the hidden layers, one sigmoid output for the two
    classes, binary cross-entropy, L2 penalty ``l2``, float64, seeded."""
    return MLP(
        [2, *settings.hidden, 1],
        activation=settings.activation,
        loss="binary_cross_entropy",
        l2=settings.l2,
        seed=settings.seed,
        dtype="float64",
    )


def fit_options(settings: Settings) -> dict:
    """The keyword arguments of the run's ``net.fit`` (besides the data and callbacks)."""
    return {
        "optimizer": optim.get(settings.optimizer, learning_rate=settings.learning_rate),
        "batch_size": settings.batch_size,
        "metrics": ["accuracy"],
        "verbose": 0,
        "seed": settings.seed,
    }


class _Stopped(Exception):
    """Raised inside the fit loop to end a run that was reset or closed."""


@dataclass
class Snapshot:
    """The state after ``epoch`` finished epochs (0: the initial parameters)."""

    epoch: int
    parameters: np.ndarray
    history: dict[str, list[float]]
    playing: bool
    message: str | None
    version: int


@dataclass
class _State:
    playing: bool = False
    permits: int = 0  # epochs allowed to start while paused (one per "step")
    stopped: bool = False
    finished: bool = False
    in_epoch: bool = False  # the training thread is inside an epoch
    message: str | None = None
    epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    version: int = 0


class Session:
    """One run of the playground (see the module docstring). Thread-safe."""

    def __init__(self, settings: Settings, uploaded: Points | None = None, speed: str = "normal"):
        self.settings = settings
        self.points = make_points(settings, uploaded)
        self.train_rows, self.test_rows = split(
            len(self.points.y), settings.test_fraction, settings.seed
        )
        if self.train_rows.size == 0:
            raise SettingsError(
                {
                    "test_fraction": f"test fraction {settings.test_fraction:g} of "
                    f"{len(self.points.y)} points leaves none for training"
                }
            )
        self.network = build_network(settings)
        self.speed = speed
        self._condition = threading.Condition()
        self._state = _State()
        self._parameters = self.network.parameters.copy()
        self._thread: threading.Thread | None = None
        self._last_epoch_time = 0.0

    # -- data -----------------------------------------------------------------------------------
    def arrays(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``X`` and the (n, 1) targets of the given rows."""
        return self.points.X[rows], self.points.y[rows, None].astype(np.float64)

    # -- control --------------------------------------------------------------------------------
    def play(self) -> None:
        with self._condition:
            self._state.playing = True
            self._start()
            self._changed()

    def pause(self) -> None:
        with self._condition:
            self._state.playing = False
            self._state.permits = 0
            self._changed()

    def step(self) -> None:
        """Train one more epoch, then pause."""
        with self._condition:
            self._state.playing = False
            self._state.permits += 1
            self._start()
            self._changed()

    def set_speed(self, speed: str) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"'speed' must be one of {', '.join(SPEEDS)}, got {speed!r}")
        with self._condition:
            self.speed = speed
            self._condition.notify_all()

    def close(self) -> None:
        """End the training thread (the run cannot continue after this)."""
        with self._condition:
            self._state.stopped = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait(self, epoch: int, timeout: float = 30.0) -> bool:
        """Block until ``epoch`` epochs have finished (or the run ended); for tests."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._state.epoch < epoch and not self._state.finished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
            return self._state.epoch >= epoch

    def wait_paused(self, timeout: float = 30.0) -> bool:
        """Block until no epoch is running and none may start (paused, no step pending), or
        the run ended; False if that did not happen within ``timeout`` seconds. For tests."""
        with self._condition:
            return self._condition.wait_for(
                lambda: (
                    self._state.finished
                    or not (self._state.in_epoch or self._state.playing or self._state.permits)
                ),
                timeout,
            )

    def snapshot(self) -> Snapshot:
        with self._condition:
            s = self._state
            history = {key: list(values) for key, values in s.history.items()}
            return Snapshot(
                s.epoch,
                self._parameters.copy(),
                history,
                s.playing and not s.finished,
                s.message,
                s.version,
            )

    @property
    def version(self) -> int:
        return self._state.version

    def network_at(self, parameters: np.ndarray) -> Network:
        """An independent copy of the run's network holding ``parameters``."""
        network = self.network.copy(dtype="float64")
        network.set_parameters(parameters)
        return network

    # -- the training thread --------------------------------------------------------------------
    def _changed(self) -> None:
        self._state.version += 1
        self._condition.notify_all()

    def _start(self) -> None:
        if self._thread is None and not self._state.finished:
            self._thread = threading.Thread(target=self._run, name="playground-fit", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        X, T = self.arrays(self.train_rows)
        validation = self.arrays(self.test_rows) if self.test_rows.size else None
        message = None
        try:
            self.network.fit(
                X,
                T,
                epochs=MAX_EPOCHS,
                validation_data=validation,
                callbacks=[_Controller(self)],
                **fit_options(self.settings),
            )
            message = self.network.stop_reason
        except _Stopped:
            pass
        except Exception as error:  # shown on the page; the server and the page go on
            message = f"training stopped: {type(error).__name__}: {error}"
        with self._condition:
            self._state.finished = True
            self._state.message = message or self._state.message
            self._changed()

    def _before_epoch(self) -> None:
        """Wait until this epoch may start: playing (at the chosen speed) or a step permit."""
        with self._condition:
            last = self._last_epoch_time
            while True:
                s = self._state
                if s.stopped:
                    raise _Stopped
                if s.permits > 0:
                    s.permits -= 1
                    break
                rate = SPEEDS[self.speed]
                if s.playing and rate is None:
                    break
                if s.playing:
                    due = last + 1.0 / rate - time.monotonic()
                    if due <= 0:
                        break
                    self._condition.wait(due)
                else:
                    self._condition.wait()
            self._last_epoch_time = time.monotonic()
            s.in_epoch = True

    def _after_epoch(self, epoch: int, logs: dict) -> None:
        with self._condition:
            s = self._state
            s.epoch = epoch + 1
            s.in_epoch = False
            for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
                if key in logs:
                    s.history.setdefault(key, []).append(float(logs[key]))
            self._parameters[...] = self.network.parameters
            self._changed()


class _Controller(Callback):
    """The callback through which the session steers ``fit``."""

    def __init__(self, session: Session):
        self.session = session

    def on_epoch_begin(self, epoch, logs):
        self.session._before_epoch()

    def on_epoch_end(self, epoch, logs):
        self.session._after_epoch(epoch, logs)


def python_code(settings: Settings, epochs: int, points: Points | None = None) -> str:
    """A plain chainrule program that trains the same network on the same points, with the
    same split and seed, for ``epochs`` epochs (its ``history`` is the page's curve). For an
    uploaded CSV (``points``, as :func:`~chainrule.playground.points.read_points` read it) the
    program reads the file by the name it was uploaded with, as the page did: the first two
    columns as numbers, the third as labels in the page's class order."""
    s = settings
    if s.dataset == "xor":
        data = [
            "rng = np.random.default_rng(seed)",
            "corners = datasets.xor()",
            "pick = rng.integers(0, 4, samples)",
            "X = corners.X[pick] + rng.normal(0.0, noise, (samples, 2))",
            "y = corners.y[pick]",
        ]
    elif s.dataset == "csv":
        if points is None:
            raise ValueError("the Python code of a CSV run needs its points: pass points=...")
        data = _csv_lines(points)
    else:
        data = [f"data = datasets.{s.dataset}(n_samples=samples, noise=noise, seed=seed)"]
        data += ["X, y = data.X, data.y"]
    lines = [
        *(["import csv"] if s.dataset == "csv" else []),
        "import numpy as np",
        "import chainrule as cr",
        *([] if s.dataset == "csv" else ["from chainrule import datasets"]),
        "",
        f"seed = {s.seed}"
        if s.dataset == "csv"
        else f"seed, samples, noise = {s.seed}, {s.samples}, {s.noise!r}",
        *data,
        "order = np.random.default_rng(seed + 1).permutation(len(y))",
        f"n_test = int(round({s.test_fraction!r} * len(y)))",
        "train, test = order[n_test:], order[:n_test]",
        "T = y[:, None].astype(np.float64)",
        f"net = cr.MLP([2, {', '.join(map(str, s.hidden))}, 1], "
        f'activation="{s.activation}", loss="binary_cross_entropy",',
        f'             l2={s.l2!r}, seed=seed, dtype="float64")',
        f"history = net.fit(X[train], T[train], epochs={epochs}, "
        f'optimizer=cr.optim.get("{s.optimizer}", learning_rate={s.learning_rate!r}),',
        f"                  batch_size={s.batch_size}, "
        + "validation_data=(X[test], T[test]) if n_test else None,",
        '                  metrics=["accuracy"], verbose=0, seed=seed)',
    ]
    return "\n".join(lines) + "\n"


def _csv_lines(points: Points) -> list[str]:
    """Read the uploaded CSV as the page did: blank rows skipped, fields stripped, a header."""
    path = PurePath(points.source or "upload.csv").name  # the browser sends the bare name
    return [
        f'with open({path!r}, newline="", encoding="utf-8") as file:  # the CSV you uploaded',
        "    rows = [[f.strip() for f in row] for row in csv.reader(file)]",
        "rows = [row for row in rows if any(row)]  # blank rows skipped",
        f"header, rows = rows[0], rows[1:]  # {', '.join(points.feature_names)}, then the label",
        "X = np.array([[float(row[0]), float(row[1])] for row in rows])",
        f"classes = {list(points.class_names)!r}  # label 0 and label 1, in the page's order",
        "y = np.array([classes.index(row[2]) for row in rows])",
    ]
