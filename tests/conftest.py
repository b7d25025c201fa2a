"""Shared fixtures: the seed 001 network, random networks for gradient checks, a regression CSV."""

import csv

import numpy as np
import pytest
from golden import seed001

import chainrule as cr


def seed001_network(dtype="float64", **dense_options):
    """The 2-2-2 sigmoid network of seed 001, built layer by layer with its given values."""
    return cr.Network(
        [
            cr.Dense(2, 2, "sigmoid", W=seed001.W_HIDDEN, b=seed001.B_HIDDEN, **dense_options),
            cr.Dense(2, 2, "sigmoid", W=seed001.W_OUTPUT, b=seed001.B_OUTPUT, **dense_options),
        ],
        loss="squared_error",
        dtype=dtype,
    )


def randomize(network, rng, scale=0.5):
    """Give every weight and bias a random value (non-zero biases keep ReLU off its kink)."""
    network.set_parameters(rng.normal(0.0, scale, network.n_params))
    return network


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def regression_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (300, 2))
    y = 3 * X[:, 0] - X[:, 1] ** 2 + 10
    path = tmp_path / "reg.csv"
    rows = [["u", "v", "target"]] + [
        [f"{a:.6f}", f"{b:.6f}", f"{t:.6f}"] for (a, b), t in zip(X, y, strict=True)
    ]
    with path.open("w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path
