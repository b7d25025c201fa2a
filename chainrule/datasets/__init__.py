"""Built-in datasets: four generated 2-D problems and Fisher's iris (shipped as a CSV).

Each loader returns a :class:`Dataset` whose ``X`` is float64 of shape (n_samples, n_features)
and whose ``y`` holds integer class labels; the generators take a ``seed``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..core.deprecation import warn_renamed

__all__ = [
    "Dataset",
    "LOADERS",
    "circles",
    "iris",
    "iris_csv_path",
    "load",
    "load_dataset",
    "moons",
    "spirals",
    "xor",
]


@dataclass(frozen=True)
class Dataset:
    """Features, labels and names of a built-in dataset."""

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    class_names: list[str]
    description: str


def xor() -> Dataset:
    """The four points of XOR: ``y = x1 xor x2``, the classic problem no single layer solves."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return Dataset(
        "xor",
        X,
        np.array([0, 1, 1, 0]),
        ["x1", "x2"],
        "y",
        ["0", "1"],
        "XOR truth table, 4 samples",
    )


def spirals(n_samples: int = 400, noise: float = 0.1, turns: float = 1.5, seed: int = 0) -> Dataset:
    """Two interleaved spirals (Lang & Witbrock), ``n_samples`` split between the two arms."""
    rng = np.random.default_rng(seed)
    half = n_samples // 2
    angle = np.sqrt(rng.uniform(0, 1, half)) * turns * 2 * np.pi
    arm = np.column_stack([angle * np.cos(angle), angle * np.sin(angle)]) / (turns * 2 * np.pi)
    X = np.vstack([arm, -arm]) + rng.normal(0, noise / (turns * 2 * np.pi) * 3, (2 * half, 2))
    y = np.repeat([0, 1], half)
    return Dataset(
        "spirals",
        X,
        y,
        ["x1", "x2"],
        "arm",
        ["0", "1"],
        f"two spirals, {2 * half} samples, {turns} turns",
    )


def moons(n_samples: int = 400, noise: float = 0.15, seed: int = 0) -> Dataset:
    """Two interleaving half circles."""
    rng = np.random.default_rng(seed)
    half = n_samples // 2
    t = rng.uniform(0, np.pi, half)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])
    X = np.vstack([upper, lower]) + rng.normal(0, noise, (2 * half, 2))
    return Dataset(
        "moons",
        X,
        np.repeat([0, 1], half),
        ["x1", "x2"],
        "moon",
        ["0", "1"],
        f"two moons, {2 * half} samples",
    )


def circles(
    n_samples: int = 400, noise: float = 0.08, factor: float = 0.5, seed: int = 0
) -> Dataset:
    """A small circle inside a large one (radii ``factor`` and 1)."""
    rng = np.random.default_rng(seed)
    half = n_samples // 2
    t = rng.uniform(0, 2 * np.pi, 2 * half)
    radius = np.repeat([1.0, factor], half)
    X = np.column_stack([radius * np.cos(t), radius * np.sin(t)])
    X += rng.normal(0, noise, X.shape)
    return Dataset(
        "circles",
        X,
        np.repeat([0, 1], half),
        ["x1", "x2"],
        "circle",
        ["outer", "inner"],
        f"two concentric circles, {2 * half} samples",
    )


def iris() -> Dataset:
    """Fisher's iris: 150 flowers, 4 measurements (cm), 3 species."""
    with resources.files(__package__).joinpath("iris.csv").open() as stream:
        rows = list(csv.reader(stream))
    header, body = rows[0], rows[1:]
    species = sorted({row[-1] for row in body})
    X = np.array([[float(v) for v in row[:-1]] for row in body])
    y = np.array([species.index(row[-1]) for row in body])
    return Dataset(
        "iris",
        X,
        y,
        header[:-1],
        header[-1],
        species,
        "Fisher's iris, 150 samples, 4 features, 3 classes",
    )


LOADERS = {"xor": xor, "spirals": spirals, "moons": moons, "circles": circles, "iris": iris}


def load_dataset(name: str) -> Dataset:
    """Load a built-in dataset by name, with its loader's default arguments.

    Parameters
    ----------
    name : str
        One of ``'xor'``, ``'spirals'``, ``'moons'``, ``'circles'``, ``'iris'`` (the keys of
        :data:`LOADERS`).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For a name that is not a built-in dataset, naming the known ones.
    """
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(LOADERS)}")
    return LOADERS[name]()


def load(name: str) -> Dataset:
    """Deprecated spelling of :func:`load_dataset` (kept for one release, with a
    FutureWarning): :func:`chainrule.load` reads model files, this loads a built-in dataset."""
    warn_renamed("chainrule.datasets.load", "chainrule.datasets.load_dataset")
    return load_dataset(name)


def iris_csv_path():
    """The shipped iris CSV, as a path-like resource (for the command line's examples)."""
    return resources.files(__package__).joinpath("iris.csv")
