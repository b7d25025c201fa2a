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
        optimizer=optim.Adam(learning_rate=1e-3),
        epochs=1,
        batch_size=256,
        validation_split=0.1,
        metrics=["accuracy"],
        verbose=0,
        seed=0,
    )


def test_an_epoch_over_a_map_copies_nothing_and_equals_the_in_memory_run(mapped, monkeypatch):
    from chainrule.training import evaluation

    monkeypatch.setattr(evaluation, "BLOCK_VALUES", 2**16)  # validation blocks of 160 rows
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


def batches_of(X, y, size, weights=None):
    return [
        (X[i : i + size], y[i : i + size], *([] if weights is None else [weights[i : i + size]]))
        for i in range(0, len(y), size)
    ]


def test_a_stream_of_batches_equals_the_same_batches_from_arrays():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(90, 5)), rng.integers(0, 3, 90)
    weights = rng.uniform(0.5, 2.0, 90)
    common = dict(
        epochs=3, verbose=0, seed=1, metrics=["accuracy"], validation_data=(X[:20], y[:20])
    )
    arrays = cr.MLP([5, 8, 3], loss="cross_entropy", dropout=0.2, seed=0, dtype="float64")
    expected = arrays.fit(
        X,
        y,
        batch_size=16,
        shuffle=False,
        sample_weight=weights,
        optimizer=optim.SGD(learning_rate=0.1, momentum=0.9),
        **common,
    )
    streamed = cr.MLP([5, 8, 3], loss="cross_entropy", dropout=0.2, seed=0, dtype="float64")
    history = streamed.fit(
        batches_of(X, y, 16, weights),
        optimizer=optim.SGD(learning_rate=0.1, momentum=0.9),
        **common,
    )
    np.testing.assert_array_equal(streamed.parameters, arrays.parameters)
    assert history.history["val_accuracy"] == expected.history["val_accuracy"]
    assert history.history["loss"] == expected.history["loss"]


def test_a_stream_shows_progress_without_knowing_its_length(capsys):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    net = cr.MLP([2, 4, 1], seed=0)
    net.fit(iter(batches_of(X, y, 8)), epochs=1, verbose=2)
    assert "epoch 1/1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "batches, options, message",
    [
        (iter([]), {"epochs": 2}, "'X' is an iterator, which can be read once, but epochs=2"),
        ([], {"validation_split": 0.2}, "validation_split cannot be used with a stream"),
        ([], {"class_weight": "balanced"}, "class_weight='balanced' cannot be used"),
        ([np.zeros((2, 2))], {}, "batch 0 of 'X' must be a tuple (X, T) or (X, T, sample_weight)"),
    ],
)
def test_a_stream_refuses_what_needs_all_rows(batches, options, message):
    net = cr.MLP([2, 4, 1], seed=0)
    with pytest.raises(ValueError) as error:
        net.fit(batches, verbose=0, **options)
    assert message in str(error.value)
