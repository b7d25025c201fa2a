"""Model files: round trip, atomic writes, and every kind of bad file."""

import json
import warnings
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets


@pytest.fixture
def trained(tmp_path):
    net = cr.MLP([2, 5, 2], activation="tanh", loss="cross_entropy", dropout=0.1, seed=0)
    net.fit(datasets.moons().X, datasets.moons().y, epochs=2, verbose=0, metrics=["accuracy"])
    return net


def test_round_trip_keeps_everything(trained, tmp_path):
    path = tmp_path / "model.npz"
    cr.save(trained, path, metadata={"classes": ["a", "b"]})
    loaded = cr.load(path)
    assert np.array_equal(loaded.parameters, trained.parameters)
    assert loaded.config() == trained.config()
    assert loaded.history["accuracy"] == trained.history["accuracy"]
    assert loaded.metadata == {"classes": ["a", "b"]}
    X = datasets.moons().X
    assert np.array_equal(loaded.predict(X), trained.predict(X))


def test_no_pickle_and_a_json_header(trained, tmp_path):
    path = tmp_path / "model.npz"
    cr.save(trained, path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["__header__"].tobytes())
    assert header["format"] == "chainrule-model" and header["format_version"] == 1
    assert header["chainrule_version"] == cr.__version__


def test_a_failed_save_leaves_the_old_file_intact(trained, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    cr.save(trained, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        cr.save(trained, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left behind


def _rewrite_header(path, change):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    change(header)
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "not a chainrule model file"),
        (lambda p: p.write_text("hello"), r"not an \.npz archive"),
        (lambda p: p.write_bytes(p.read_bytes()[:-40]), "not a"),
        (
            lambda p: _rewrite_header(p, lambda h: h.update(format_version=99)),
            "format version 99.*upgrade chainrule",
        ),
        (
            lambda p: _rewrite_header(p, lambda h: h.update(format="something")),
            "holds 'something', expected a 'chainrule-model'",
        ),
        (
            lambda p: _rewrite_header(p, lambda h: h["config"]["layers"][0].update(n_out=7)),
            r"has shape \(27,\), the header declares \(33,\)",
        ),
        (lambda p: np.savez(p, weights=np.zeros(3)), "no header"),
    ],
)
def test_bad_files_raise_model_file_error(trained, tmp_path, damage, message):
    path = tmp_path / "model.npz"
    cr.save(trained, path)
    damage(path)
    with pytest.raises(cr.ModelFileError, match=message):
        cr.load(path)


def test_a_model_file_with_the_old_alpha_key_loads_without_a_warning(tmp_path):
    """Files written before the L2 penalty was renamed hold it as ``config.alpha``."""
    net = cr.MLP([2, 3, 1], l2=0.25, seed=0)
    path = tmp_path / "old.npz"
    cr.save(net, path)
    _rewrite_header(path, lambda h: h["config"].update(alpha=h["config"].pop("l2")))
    with np.load(path, allow_pickle=False) as archive:
        config = json.loads(archive["__header__"].tobytes())["config"]
    assert config["alpha"] == 0.25 and "l2" not in config
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = cr.load(path)
    assert loaded.l2 == 0.25 and loaded.config() == net.config()
    assert np.array_equal(loaded.parameters, net.parameters)


def test_a_model_file_with_both_l2_and_alpha_is_refused(tmp_path):
    path = tmp_path / "both.npz"
    cr.save(cr.MLP([2, 3, 1], l2=0.25, seed=0), path)
    _rewrite_header(path, lambda h: h["config"].update(alpha=0.5))
    with pytest.raises(cr.ModelFileError, match=r"config\.alpha must be absent when l2 is given"):
        cr.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(cr.ModelFileError, match="does not exist"):
        cr.load(tmp_path / "nothing.npz")


class _Tripwire(float):
    """A float that, when unpickled, leaves a file behind: proof that a pickle was run."""

    def __reduce__(self):
        return _tripped, (self.marker, float(self))


def _tripped(marker, value):
    with open(marker, "a") as stream:
        stream.write("unpickled\n")
    return value


@pytest.mark.parametrize("member", ["__header__", "parameters"])
def test_pickled_objects_are_refused(trained, tmp_path, member):
    """A valid model file with one member rewritten as a pickled object array holding the
    very same values: the only difference is the pickle, and that alone is refused, by name,
    before anything is unpickled."""
    valid, evil = tmp_path / "valid.npz", tmp_path / "evil.npz"
    cr.save(trained, valid)
    with np.load(valid, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    marker = tmp_path / "unpickled"
    objects = np.empty(arrays[member].shape, dtype=object)
    for index, value in enumerate(arrays[member].tolist()):
        objects[index] = _Tripwire(value)
        objects[index].marker = str(marker)
    np.savez(evil, **{**arrays, member: objects})
    # the control: the same arrays without the pickle load, and the pickle holds the same values
    np.savez(valid, **arrays)
    assert np.array_equal(cr.load(valid).parameters, trained.parameters)
    with np.load(evil, allow_pickle=True) as archive:
        assert np.array_equal(archive[member].astype(arrays[member].dtype), arrays[member])
    assert marker.exists()  # loading the pickle runs code
    marker.unlink()
    with pytest.raises(
        cr.ModelFileError, match=rf"array '{member}' has the unexpected dtype object"
    ):
        cr.load(evil)
    assert not marker.exists()
    assert zipfile.is_zipfile(evil)
