"""The playground's state behind the web page: the current run, the uploaded CSV, the loaded
spec file, and one method per thing the page can ask. Every answer is JSON-ready data; every
problem the user can fix is a :class:`FieldError` naming the field the page shows it beside.
Nothing here imports the web stack.
"""

from __future__ import annotations

import threading

import numpy as np

from ..tables.reading import DataError
from .chain import chain_rule, check_number, spec_steps
from .frames import domain, frame
from .points import read_points
from .session import SPEEDS, Session, python_code
from .settings import Settings, SettingsError, parse_settings

__all__ = ["FieldError", "MAX_NAME", "MAX_UPLOAD", "Playground", "unencodable"]

MAX_UPLOAD = 2_000_000  # characters of CSV or spec text
MAX_NAME = 255  # characters of an uploaded file's name


class FieldError(ValueError):
    """Bad input for the page's fields: ``fields`` maps a field name to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def unencodable(text: str) -> str | None:
    """Why UTF-8 cannot encode ``text`` (a lone surrogate, which JSON's ``\\ud800`` makes), or
    None when it can: such text could never be sent back in an answer."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = f"U+{ord(text[error.start]):04X}"
        return f"character {error.start + 1} is {code}, half of a UTF-16 pair, not a character"
    return None


def _text(body: dict, key: str, field: str, limit: int = MAX_UPLOAD) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise FieldError({field: f"expected text in {key!r}, got {type(value).__name__}"})
    if len(value) > limit:
        raise FieldError({field: f"{key!r} is too long ({len(value)} characters, at most {limit})"})
    problem = unencodable(value)
    if problem:
        raise FieldError({field: f"{key!r} is not text: {problem}"})
    return value


def _name(body: dict, field: str, default: str) -> str:
    """The file name the page sent along (``default`` when none)."""
    if not isinstance(body.get("name"), str):
        return default
    return _text(body, "name", field, MAX_NAME)


def _index(body: dict, key: str, field: str) -> int:
    value = body.get(key) if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError({field: f"{key!r} must be a whole number, got {value!r}"})
    return value


class Playground:
    """The state one playground server holds (thread-safe: one lock around the run)."""

    def __init__(self, settings: Settings | None = None, speed: str = "normal"):
        self._lock = threading.Lock()
        self.uploaded = None
        # the run number and its session change together, in one assignment
        self._current = (0, Session(settings or Settings(), speed=speed))

    @property
    def run(self) -> int:
        return self._current[0]

    @property
    def session(self) -> Session:
        return self._current[1]

    def position(self) -> tuple[int, int]:
        """The run number and how far that run has moved (its version)."""
        run, session = self._current
        return run, session.version

    def close(self) -> None:
        self.session.close()

    # -- settings and data ----------------------------------------------------------------------
    def _restart(self, settings: Settings, uploaded=None) -> None:
        """Start a new run (paused at epoch 0) and end the old one."""
        uploaded = uploaded or self.uploaded
        run, old = self._current
        try:
            session = Session(settings, uploaded, speed=old.speed)
        except SettingsError as error:
            raise FieldError(error.fields) from None
        self._current, self.uploaded = (run + 1, session), uploaded
        old.close()

    def apply_settings(self, fields: dict) -> dict:
        """Check the fields; when all are good, start a new run with them (paused at epoch 0)."""
        with self._lock:
            try:
                settings = parse_settings(fields, self.session.settings)
                if settings.dataset == "csv" and self.uploaded is None:
                    raise SettingsError({"dataset": "upload a CSV file first"})
            except SettingsError as error:
                raise FieldError(error.fields) from None
            self._restart(settings)
        return self.state()

    def upload(self, body: dict) -> dict:
        """Read an uploaded CSV (two features, two classes) and train on it."""
        text = _text(body, "text", "csv")
        name = _name(body, "csv", "upload.csv")
        try:
            points = read_points(text, name)
        except DataError as error:
            raise FieldError({"csv": str(error)}) from None
        with self._lock:
            fields = self.session.settings.to_dict() | {"dataset": "csv"}
            self._restart(parse_settings(fields), points)
        return self.state()

    # -- training -------------------------------------------------------------------------------
    def control(self, body: dict) -> dict:
        """``{"action": "play" | "pause" | "step" | "reset"}`` or ``{"speed": name}``."""
        action = body.get("action") if isinstance(body, dict) else None
        session = self.session
        if isinstance(body, dict) and "speed" in body:
            if body["speed"] not in SPEEDS:
                raise FieldError(
                    {"speed": f"choose one of {', '.join(SPEEDS)}, got {body['speed']!r}"}
                )
            session.set_speed(body["speed"])
        elif action == "play":
            session.play()
        elif action == "pause":
            session.pause()
        elif action == "step":
            session.step()
        elif action == "reset":
            with self._lock:
                self._restart(session.settings)
        else:
            raise FieldError(
                {"control": f"'action' must be play, pause, step or reset, got {action!r}"}
            )
        return self.status()

    # -- what the page draws --------------------------------------------------------------------
    def state(self) -> dict:
        """Everything the page needs after a (re)load: settings, points, the current frame."""
        run, session = self._current
        points = session.points
        return {
            "run": run,
            "settings": session.settings.to_dict(),
            "speed": session.speed,
            "points": {
                "X": points.X.round(6).tolist(),
                "y": points.y.tolist(),
                "train": session.train_rows.tolist(),
                "test": session.test_rows.tolist(),
                "class_names": points.class_names,
                "feature_names": points.feature_names,
            },
            "csv_loaded": self.uploaded is not None,
            "domain": domain(points.X),
            **self._update(run, session, None, 0),
        }

    def status(self) -> dict:
        run, session = self._current
        snap = session.snapshot()
        return {"run": run, "epoch": snap.epoch, "playing": snap.playing}

    def update(self, run: int | None, sent: int) -> dict:
        """The frame now; the history from entry ``sent`` on when ``run`` is the current run,
        else all of it."""
        return self._update(*self._current, run, sent)

    def _update(self, current: int, session: Session, run: int | None, sent: int) -> dict:
        snap = session.snapshot()
        start = sent if run == current else 0
        network = session.network_at(snap.parameters)
        return {
            "run": current,
            "version": snap.version,
            "epoch": snap.epoch,
            "playing": snap.playing,
            "message": snap.message,
            "history_from": start,
            "history": {key: values[start:] for key, values in snap.history.items()},
            "frame": frame(network, domain(session.points.X)),
        }

    def python(self) -> dict:
        session = self.session
        return {"code": python_code(session.settings, session.snapshot().epoch, session.points)}

    # -- the chain rule -------------------------------------------------------------------------
    def explain(self, body: dict) -> dict:
        """The chain rule of a weight, bias or neuron for one sample, at the current step."""
        session = self.session
        sample = _index(body, "sample", "explain")
        n = len(session.points.y)
        if not 0 <= sample < n:
            raise FieldError({"explain": f"'sample' must be 0 to {n - 1}, got {sample}"})
        target = body.get("target")
        if not isinstance(target, dict):
            raise FieldError({"explain": f"'target' must be an object, got {target!r}"})
        snap = session.snapshot()
        network = session.network_at(snap.parameters)
        x, t = session.points.X[sample], np.array([float(session.points.y[sample])])
        try:
            result = chain_rule(network, x, t, session.settings.learning_rate, target)
        except (ValueError, TypeError) as error:
            raise FieldError({"explain": str(error)}) from None
        split = "test" if sample in set(session.test_rows.tolist()) else "train"
        result["sample"] = {"index": sample, "x": x.tolist(), "t": t.tolist(), "split": split}
        result["epoch"] = snap.epoch
        result["parameters"] = snap.parameters.tolist()
        return result

    def check(self, body: dict) -> dict:
        """``check``'s verdict on a typed number for one quantity of a worked example."""
        spec = _text(body, "spec", "check")
        symbol = _text(body, "symbol", "check")
        value = _text(body, "value", "check")
        try:
            return check_number(spec, symbol, value)
        except ValueError as error:
            raise FieldError({"check": str(error)}) from None

    def load_spec(self, body: dict) -> dict:
        """A spec file's worked example, value by value."""
        text = _text(body, "text", "spec")
        name = _name(body, "spec", "spec.toml")
        try:
            return spec_steps(text, name)
        except ValueError as error:
            raise FieldError({"spec": str(error)}) from None
