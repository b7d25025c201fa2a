"""fit on a memory-mapped .npy: batches are gathered from the map, nothing copies the data.

tracemalloc sees NumPy's allocations (not the file's pages), so a full copy of the 32 MB map,
or of its training part, would show as a peak of tens of MB.
"""

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mmap")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 400)).astype(np.float32)  # 32 MB
    y = (X[:, :3].sum(axis=1) > 0).astype(np.float32)
    np.save(folder / "X.npy", X)
    return np.load(folder / "X.npy", mmap_mode="r"), y, X


def options():
    return dict(
        optimizer=optim.Adam(lr=1e-3),
        epochs=1,
        batch_size=256,
        validation_split=0.1,
        metrics=["accuracy"],
        verbose=0,
        seed=0,
    )


def test_an_epoch_over_a_map_copies_nothing_and_equals_the_in_memory_run(mapped, monkeypatch):
    from chainrule import train

    monkeypatch.setattr(train, "_BLOCK_VALUES", 2**16)  # validation blocks of 160 rows
    X_map, y, X = mapped
    net = cr.MLP([400, 16, 1], loss="binary_cross_entropy", seed=0)
    tracemalloc.start()
    history = net.fit(X_map, y, **options())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < X.nbytes / 8, f"peak {peak / 2**20:.1f} MiB of NumPy memory for a 32 MB map"
    reference = cr.MLP([400, 16, 1], loss="binary_cross_entropy", seed=0)
    expected = reference.fit(X, y, **options())
    np.testing.assert_array_equal(net.parameters, reference.parameters)
    assert history.history["val_loss"] == expected.history["val_loss"]
