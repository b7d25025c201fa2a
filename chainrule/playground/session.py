"""A playground run: the points, the network, and ``net.fit`` running in a thread of its own.

The training is chainrule's own ``Network.fit``, unchanged: a callback pauses it between
epochs (play, pause, one step) and copies the parameters after each epoch, so a run is exactly
the curve ``net.fit`` draws in Python with the same settings and seed (:func:`python_code`
writes that program out). The page only draws what :meth:`Session.snapshot` returns.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np

from .. import optim
from ..core import kernels
from ..core.history import Callback
from ..core.network import MLP, Network
from .points import Points, make_points, split
from .settings import DATASETS, Settings, SettingsError

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
            with kernels.pinned(kernels.NUMPY):  # as the page's Python program pins them
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
    columns as numbers, the third as labels in the page's class order.

    At epoch 0 nothing has been trained yet (and ``fit`` refuses ``epochs=0``): the program
    builds the network, whose initial weights are the page's, and has no ``fit`` call.

    Every name, label and setting enters the program as a Python literal (:func:`_literal`),
    never as pasted text, so a CSV header or a label cannot add a statement to it.

    Raises
    ------
    ValueError
        For a dataset other than the playground's, a negative ``epochs``, or a CSV run
        without its ``points``.
    TypeError
        For a setting that is not a number, a text or a list of them.
    """
    s = settings
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"'epochs' must be a whole number >= 0, got {epochs!r}")
    if s.dataset not in DATASETS:
        raise ValueError(f"'dataset' must be one of {', '.join(DATASETS)}, got {s.dataset!r}")
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
    else:  # a generated dataset: its name is this module's own constant, not the page's text
        name = DATASETS[DATASETS.index(s.dataset)]
        data = [f"data = datasets.{name}(n_samples=samples, noise=noise, seed=seed)"]
        data += ["X, y = data.X, data.y"]
    sizes = ", ".join(_literal(size) for size in (2, *s.hidden, 1))
    lines = [
        *(["import csv"] if s.dataset == "csv" else []),
        "import numpy as np",
        "import chainrule as cr",
        *([] if s.dataset == "csv" else ["from chainrule import datasets"]),
        "",
        'cr.set_kernels("numpy")  # the page\'s kernels: its curve, bit for bit, at any length',
        f"seed = {_literal(s.seed)}"
        if s.dataset == "csv"
        else f"seed, samples, noise = {_literal(s.seed)}, {_literal(s.samples)}, "
        f"{_literal(s.noise)}",
        *data,
        "order = np.random.default_rng(seed + 1).permutation(len(y))",
        f"n_test = int(round({_literal(s.test_fraction)} * len(y)))",
        "train, test = order[n_test:], order[:n_test]",
        "T = y[:, None].astype(np.float64)",
        f"net = cr.MLP([{sizes}], activation={_literal(s.activation)}, "
        'loss="binary_cross_entropy",',
        f'             l2={_literal(s.l2)}, seed=seed, dtype="float64")',
    ]
    if epochs == 0:
        lines += [
            "# Epoch 0: the page has trained nothing yet, so net holds the initial weights it",
            "# draws; the fit call appears here once an epoch has run (fit needs epochs >= 1).",
        ]
    else:
        lines += [
            f"history = net.fit(X[train], T[train], epochs={_literal(epochs)}, "
            f"optimizer=cr.optim.get({_literal(s.optimizer)}, "
            f"learning_rate={_literal(s.learning_rate)}),",
            f"                  batch_size={_literal(s.batch_size)}, "
            + "validation_data=(X[test], T[test]) if n_test else None,",
            '                  metrics=["accuracy"], verbose=0, seed=seed)',
        ]
    return "\n".join(lines) + "\n"


def _literal(value) -> str:
    """``value`` as Python source that evaluates to it: a number, a text, ``None`` or a list of
    them. Text goes through ``str.__repr__``, which writes every line break, quote, backslash
    and unprintable character as an escape, so the literal is one line that only a matching
    quote ends; ``nan`` and the infinities, which have no literal, as ``float("nan")``."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return int.__repr__(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return float.__repr__(value) if math.isfinite(value) else f'float("{value}")'
    if isinstance(value, str):
        return str.__repr__(value)  # not a subclass's own __repr__
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    raise TypeError(
        f"the playground's program holds numbers, texts and lists, got {type(value).__name__}"
    )


def _file_name(source: str) -> str:
    """The bare name of the uploaded file (the browser sends no folder), or ``upload.csv``
    where there is none that ``open`` could take."""
    name = PurePath(source).name if source else ""
    return name if name not in ("", ".", "..") and "\x00" not in name else "upload.csv"


def _csv_lines(points: Points) -> list[str]:
    """Read the uploaded CSV as the page did: blank rows skipped, fields stripped, a header."""
    return [
        f'with open({_literal(_file_name(points.source))}, newline="", encoding="utf-8") as file:',
        "    rows = [[f.strip() for f in row] for row in csv.reader(file)]  # the CSV you uploaded",
        "rows = [row for row in rows if any(row)]  # blank rows skipped",
        "header, rows = rows[0], rows[1:]  # two feature columns, then the label column",
        f"features = {_literal(list(points.feature_names))}  # the header's first two fields",
        "X = np.array([[float(row[0]), float(row[1])] for row in rows])",
        f"classes = {_literal(list(points.class_names))}"
        "  # label 0 and label 1, in the page's order",
        "y = np.array([classes.index(row[2]) for row in rows])",
    ]
