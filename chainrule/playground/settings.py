"""The playground's settings: what the page sends, checked field by field.

The page sends every field as it was typed (text). :func:`parse_settings` turns them into a
:class:`Settings` or raises :class:`SettingsError`, whose ``fields`` maps each bad field to a
message the page shows beside it. Nothing here imports the web stack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from ..core.validation import CONSTRAINTS, Interval

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "MAX_LAYERS",
    "MAX_NEURONS",
    "OPTIMIZERS",
    "Settings",
    "SettingsError",
    "parse_settings",
]

DATASETS = ("xor", "spirals", "moons", "circles", "csv")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad")
MAX_LAYERS = 6
MAX_NEURONS = 8


class SettingsError(ValueError):
    """Some fields are invalid; ``fields`` maps each field name to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class Settings:
    """One playground run. Defaults follow TensorFlow Playground's first screen."""

    dataset: str = "circles"
    samples: int = 200
    noise: float = 0.1
    test_fraction: float = 0.5
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    batch_size: int = 10
    optimizer: str = "sgd"
    l2: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hidden"] = list(self.hidden)
        return data


@dataclass
class _Fields:
    raw: dict
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, default) -> str:
        value = self.raw.get(name, default)
        return str(value).strip() if not isinstance(value, str) else value.strip()

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            self.errors[name] = f"choose one of {', '.join(choices)}; got {value!r}"
        return value

    def number(self, name: str, default, label: str, constraint: Interval):
        """The field as the number ``constraint`` allows, else ``default`` and a message."""
        text = self.text(name, default)
        try:
            return constraint.parse(text)
        except ValueError:
            self.errors[name] = f"{label} must be {constraint}, got {text!r}"
            return default

    def layers(self, name: str, default) -> tuple[int, ...]:
        value = self.raw.get(name, default)
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
        elif isinstance(value, (list, tuple)):
            parts = list(value)
        else:
            parts = [value]
        if not parts:
            self.errors[name] = "give at least one hidden layer, e.g. 4, 2"
            return tuple(default)
        if len(parts) > MAX_LAYERS:
            self.errors[name] = f"at most {MAX_LAYERS} hidden layers, got {len(parts)}"
            return tuple(default)
        sizes = []
        for part in parts:
            try:
                size = int(str(part))
            except ValueError:
                size = 0
            if not 1 <= size <= MAX_NEURONS:
                self.errors[name] = (
                    f"each layer needs 1 to {MAX_NEURONS} neurons, got {str(part)!r}"
                )
                return tuple(default)
            sizes.append(size)
        return tuple(sizes)


def _limited(name: str, high) -> Interval:
    """The training option ``name``'s constraint (:data:`chainrule.core.validation.CONSTRAINTS`)
    within the page's upper limit ``high``, which keeps one run small."""
    return replace(CONSTRAINTS[name], high=high, none=False)


def parse_settings(raw: dict, base: Settings | None = None) -> Settings:
    """Check the fields in ``raw`` (missing ones keep ``base``'s values).

    Raises
    ------
    SettingsError
        Naming each bad field, the value received and what is expected.
    """
    if not isinstance(raw, dict):
        raise SettingsError({"settings": f"expected an object of fields, got {raw!r}"})
    base = base or Settings()
    f = _Fields(raw)
    settings = Settings(
        dataset=f.choice("dataset", base.dataset, DATASETS),
        samples=f.number("samples", base.samples, "samples", Interval(int, 10, 2000)),
        noise=f.number("noise", base.noise, "noise", Interval(float, 0.0, 1.0)),
        test_fraction=f.number(
            "test_fraction", base.test_fraction, "test fraction", Interval(float, 0.0, 0.9)
        ),
        hidden=f.layers("hidden", base.hidden),
        activation=f.choice("activation", base.activation, ACTIVATIONS),
        learning_rate=f.number(
            "learning_rate", base.learning_rate, "learning rate", _limited("learning_rate", 10.0)
        ),
        batch_size=f.number(
            "batch_size", base.batch_size, "batch size", _limited("batch_size", 2000)
        ),
        optimizer=f.choice("optimizer", base.optimizer, OPTIMIZERS),
        l2=f.number("l2", base.l2, "L2", _limited("l2", 10.0)),
        seed=f.number("seed", base.seed, "seed", _limited("seed", 2**32 - 1)),
    )
    if f.errors:
        raise SettingsError(f.errors)
    return settings
