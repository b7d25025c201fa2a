"""Weight initialisation, driven by a seeded ``numpy.random.Generator``.

(Named ``initializers`` rather than ``init`` so that it does not read like the package's
``__init__``; see ``docs/architecture.md``.)

Each initializer fills an array of shape ``(n_in, n_out)`` given ``fan_in = n_in`` and
``fan_out = n_out``:

==================  =====================================================
glorot_uniform      ``U(-l, l)``, ``l = sqrt(6 / (fan_in + fan_out))`` (Xavier)
glorot_normal       ``N(0, s^2)``, ``s = sqrt(2 / (fan_in + fan_out))``
he_uniform          ``U(-l, l)``, ``l = sqrt(6 / fan_in)``
he_normal           ``N(0, s^2)``, ``s = sqrt(2 / fan_in)``
lecun_uniform       ``U(-l, l)``, ``l = sqrt(3 / fan_in)``
lecun_normal        ``N(0, s^2)``, ``s = sqrt(1 / fan_in)``
pytorch_linear      ``U(-l, l)``, ``l = 1 / sqrt(fan_in)``: ``torch.nn.Linear``'s default for
                    weights (``kaiming_uniform_(a=sqrt(5))``) and for biases
zeros, ones         constants (``zeros`` is the default for biases)
==================  =====================================================

``'auto'`` (the default) picks ``glorot_uniform`` for every activation, as Keras's ``Dense`` and
close to scikit-learn's MLP; it was ``he_normal`` for the ReLU family until measured: over the
time-to-accuracy cases of benchmarks/time_to_accuracy.py (a tabular 20-64-64-7 network, digits,
Friedman #1, the MNIST-shaped network) ReLU networks started with ``glorot_uniform`` reached the
validation target in as many epochs or fewer (benchmarks/RESULTS.md, "Defaults").
"""

from __future__ import annotations

import numpy as np

__all__ = ["NAMES", "check_name", "initialize"]


def _uniform(limit):
    return lambda rng, shape, fan_in, fan_out: rng.uniform(
        -limit(fan_in, fan_out), limit(fan_in, fan_out), shape
    )


def _normal(scale):
    return lambda rng, shape, fan_in, fan_out: rng.normal(0.0, scale(fan_in, fan_out), shape)


_REGISTRY = {
    "glorot_uniform": _uniform(lambda i, o: np.sqrt(6.0 / (i + o))),
    "xavier_uniform": _uniform(lambda i, o: np.sqrt(6.0 / (i + o))),
    "glorot_normal": _normal(lambda i, o: np.sqrt(2.0 / (i + o))),
    "xavier_normal": _normal(lambda i, o: np.sqrt(2.0 / (i + o))),
    "he_uniform": _uniform(lambda i, o: np.sqrt(6.0 / i)),
    "he_normal": _normal(lambda i, o: np.sqrt(2.0 / i)),
    "lecun_uniform": _uniform(lambda i, o: np.sqrt(3.0 / i)),
    "lecun_normal": _normal(lambda i, o: np.sqrt(1.0 / i)),
    "pytorch_linear": _uniform(lambda i, o: 1.0 / np.sqrt(i)),
    "zeros": lambda rng, shape, fan_in, fan_out: np.zeros(shape),
    "ones": lambda rng, shape, fan_in, fan_out: np.ones(shape),
}

NAMES = tuple(sorted(_REGISTRY)) + ("auto",)


def check_name(name: str, argument: str) -> str:
    """Return ``name`` if it is a known initializer, else raise ``ValueError`` listing them."""
    if not isinstance(name, str) or name not in NAMES:
        raise ValueError(f"{argument!r} must be one of {', '.join(NAMES)}; got {name!r}")
    return name


def initialize(
    name: str,
    rng: np.random.Generator,
    shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
) -> np.ndarray:
    """Draw an array of ``shape`` with the initializer ``name`` (float64; the caller casts).

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    rng : numpy.random.Generator
        The only source of randomness.
    shape : tuple of int
    fan_in, fan_out : int
        The layer's number of inputs and outputs.
    """
    if name == "auto":
        name = "glorot_uniform"
    return np.asarray(_REGISTRY[name](rng, shape, fan_in, fan_out), dtype=np.float64)
