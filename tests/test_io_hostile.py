"""Hostile and damaged model files: every one is a ModelFileError (one line and exit 2 in the
command line), never another exception, and memory stays a small multiple of the file's size."""

import contextlib
import io
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import datasets
from chainrule.cli import main
from chainrule.tables.model import TabularModel
from chainrule.tables.reading import read_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A table model trained on iris: its path, bytes and loaded form."""
    folder = tmp_path_factory.mktemp("valid")
    shutil.copy(datasets.iris_csv_path(), folder / "iris.csv")
    path = folder / "model.npz"
    code = main(
        [
            "train",
            str(folder / "iris.csv"),
            "--target",
            "species",
            "--hidden",
            "6",
            "--epochs",
            "3",
            "--quiet",
            "--out",
            str(path),
        ]
    )
    assert code == 0
    return path, path.read_bytes(), TabularModel.load(path)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _header_of(data: bytes) -> dict:
    header = np.load(io.BytesIO(_members(data)["__header__.npy"]), allow_pickle=False)
    return json.loads(header.tobytes())


def _npy(array) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array, allow_pickle=False)
    return stream.getvalue()


def _archive(path, members: dict[str, bytes], compress=()):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            kind = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            archive.writestr(name, data, compress_type=kind)


def _with_header(data: bytes, header) -> dict[str, bytes]:
    members = _members(data)
    text = header if isinstance(header, str) else json.dumps(header)
    members["__header__.npy"] = _npy(np.frombuffer(text.encode(), dtype=np.uint8))
    return members


def _load_measured(path):
    """Load ``path``; return (the model or the ModelFileError, peak traced bytes)."""
    tracemalloc.start()
    try:
        try:
            result = TabularModel.load(path)
        except cr.ModelFileError as error:
            result = error
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def _cli_info(path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["info", str(path)])
    return code, err.getvalue()


def _tamper(header, change):
    header = json.loads(json.dumps(header))
    change(header)
    return header


def _set(keys, value):
    def change(header):
        target = header
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


TAMPERED = {
    "history is a list": (_set(["history"], []), "history must be an object"),
    "history.history is text": (_set(["history", "history"], "x"), "history.history must be"),
    "history too short": (_set(["history", "epoch"], [0]), "a list of 1 numbers"),
    "layers not a list": (_set(["config", "layers"], {"a": 1}), "config.layers must be a list"),
    "layer of unknown type": (
        _set(["config", "layers", 0, "type"], "Conv"),
        "'Dense', 'Dropout' or 'Embedding'",
    ),
    "n_in is text": (_set(["config", "layers", 0, "n_in"], "4"), "n_in must be an integer"),
    "40000x30000 layer": (
        lambda h: h["config"]["layers"][0].update(n_in=40000, n_out=30000),
        "declares",
    ),
    "1e13 parameters": (
        lambda h: h["config"]["layers"][0].update(n_in=2**31 - 1, n_out=5000),
        "declares",
    ),
    "classes shorter than outputs": (
        _set(["metadata", "classes"], ["setosa", "versicolor"]),
        "metadata.classes must be 3 distinct labels",
    ),
    "features shortened": (_set(["metadata", "features"], ["a", "b"]), "metadata.features"),
    "zero scale": (_set(["metadata", "scale"], [0.0, 1.0, 1.0, 1.0]), "positive scales"),
    "NaN mean": (_set(["metadata", "mean"], [float("nan"), 1.0, 1.0, 1.0]), "finite numbers"),
    "format_version '1'": (_set(["format_version"], "1"), r"format version '1', expected"),
    "format_version null": (_set(["format_version"], None), "format version None, expected"),
    "format_version 1.5": (_set(["format_version"], 1.5), "format version 1.5, expected"),
    "format_version true": (_set(["format_version"], True), "format version True, expected"),
    "format_version 2": (_set(["format_version"], 2), "format version 2;.*upgrade chainrule"),
    "input_scale true": (_set(["config", "layers", 0, "input_scale"], True), "input_scale must"),
    "input_scale 0": (_set(["config", "layers", 0, "input_scale"], 0), "input_scale must"),
    "input_scale NaN": (
        _set(["config", "layers", 0, "input_scale"], float("nan")),
        "input_scale must",
    ),
    "input_scale 1e7": (_set(["config", "layers", 0, "input_scale"], 1e7), "input_scale must"),
    "input_scale 1e-39": (_set(["config", "layers", 0, "input_scale"], 1e-39), "input_scale must"),
    "input_scale 10**400": (
        _set(["config", "layers", 0, "input_scale"], 10**400),
        "input_scale must",
    ),
    "activation parameter 10**400": (
        _set(["config", "layers", 0, "activation"], {"name": "leaky_relu", "alpha": 10**400}),
        "activation.alpha must be a finite number",
    ),
    "input_scale left out, its parameters kept": (
        lambda h: h["config"]["layers"][0].pop("input_scale"),
        "parameters",
    ),
    "input_scale added without its parameters": (
        lambda h: h["config"]["layers"][-1].update(input_scale=6.0),
        "parameters",
    ),
    "unknown activation": (
        _set(["config", "layers", 0, "activation"], {"name": "relux"}),
        "unknown activation",
    ),
    "activation parameter is text": (
        _set(["config", "layers", 0, "activation"], {"name": "leaky_relu", "alpha": "x"}),
        "activation.alpha must be a finite number",
    ),
    "metadata nested deeply": (
        _set(
            ["metadata", "deep"],
            [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
        ),
        "nested",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_headers_are_model_file_errors(valid, tmp_path, case):
    change, message = TAMPERED[case]
    path = tmp_path / "tampered.npz"
    _archive(path, _with_header(valid[1], _tamper(_header_of(valid[1]), change)))
    result, peak = _load_measured(path)
    assert isinstance(result, cr.ModelFileError), result
    assert re.search(message, str(result)), str(result)
    assert peak < 4 * path.stat().st_size + 2**20
    code, err = _cli_info(path)
    assert code == 2 and err.count("\n") == 1 and err.startswith("chainrule: error: ")


def test_100000_nested_brackets(valid, tmp_path):
    header = json.dumps(_header_of(valid[1]))[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "nested.npz"
    _archive(path, _with_header(valid[1], header))
    result, _ = _load_measured(path)
    assert isinstance(result, cr.ModelFileError) and "nested" in str(result)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters_are_refused(valid, tmp_path, value):
    members = _members(valid[1])
    parameters = np.load(io.BytesIO(members["parameters.npy"]))
    parameters[5] = value
    members["parameters.npy"] = _npy(parameters)
    path = tmp_path / "nan.npz"
    _archive(path, members)
    with pytest.raises(cr.ModelFileError, match=r"must hold only finite values.*index \(5,\)"):
        TabularModel.load(path)


def test_an_npy_header_declaring_a_huge_shape_is_refused_before_allocating(valid, tmp_path):
    members = _members(valid[1])
    parameters = np.load(io.BytesIO(members["parameters.npy"]))
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": "<f4", "fortran_order": False, "shape": (10**13,)}
    )
    members["parameters.npy"] = stream.getvalue() + parameters.astype("<f4").tobytes()
    path = tmp_path / "shape.npz"
    _archive(path, members)
    result, peak = _load_measured(path)
    assert isinstance(result, cr.ModelFileError) and "(10000000000000,)" in str(result)
    assert peak < 2**21


def _with_preamble(npy: bytes, text: str) -> bytes:
    """A version 1.0 ``.npy`` image whose preamble (the dict numpy parses) is ``text``, padded
    to the original length so every other byte stays where it was."""
    assert npy[6:8] == b"\x01\x00"
    length = int.from_bytes(npy[8:10], "little")
    assert len(text) < length
    return npy[:10] + text.ljust(length - 1).encode("latin-1") + b"\n" + npy[10 + length :]


@pytest.mark.parametrize(
    "preamble",
    [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (84,)(",  # a TokenError in numpy
        "{'descr': '<f4', 'fortran_order': False, 'shape': [84,",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (84,), 'x': '",
        "{'descr': '<f4', 'shape': " + "(" * 30 + ")" * 30 + "}",
        "{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': ()}",
        "{'descr': '\xff\xfe', 'fortran_order': False, 'shape': (84,)}",
    ],
)
@pytest.mark.parametrize("member", ["parameters.npy", "__header__.npy"])
def test_a_damaged_npy_preamble_with_a_valid_checksum_is_one_line(
    valid, tmp_path, member, preamble
):
    """Damage inside a member that the archive's CRC-32 vouches for (written anew, as an
    attacker would): numpy's preamble parser raises tokenize's TokenError for an unclosed
    bracket, which is not a ValueError; every case is a ModelFileError naming the member."""
    members = _members(valid[1])
    members[member] = _with_preamble(members[member], preamble)
    path = tmp_path / "preamble.npz"
    _archive(path, members)
    with pytest.raises(cr.ModelFileError, match=re.escape(member.removesuffix(".npy"))):
        TabularModel.load(path)
    code, err = _cli_info(path)
    assert code == 2 and err.count("\n") == 1 and err.startswith("chainrule: error: "), err


def test_an_extra_member_is_never_read(valid, tmp_path):
    """A 256 MiB zero-filled member, deflated to a fraction of a MiB: the model loads equal,
    using no more memory than the file without it."""
    path = tmp_path / "extra.npz"
    path.write_bytes(valid[1])
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("bomb.npy", "w", force_zip64=True) as member,
    ):
        for _ in range(16):
            member.write(bytes(2**24))
    result, peak = _load_measured(path)
    assert isinstance(result, TabularModel)
    assert np.array_equal(result.network.parameters, valid[2].network.parameters)
    assert peak < 4 * len(valid[1]) + 2**20


def test_a_compressed_parameters_bomb_is_refused(valid, tmp_path):
    header = _tamper(
        _header_of(valid[1]),
        lambda h: h["config"]["layers"].__setitem__(
            slice(None),
            [
                {"type": "Dense", "n_in": 4, "n_out": 4_000_000, "activation": "relu"},
                {"type": "Dense", "n_in": 4_000_000, "n_out": 3, "activation": "softmax"},
            ],
        ),
    )
    members = _with_header(valid[1], header)
    members["parameters.npy"] = _npy(np.zeros(4 * 4_000_000 + 4_000_000 * 4 + 3, np.float32))
    path = tmp_path / "bomb.npz"
    _archive(path, members, compress={"parameters.npy"})
    result, peak = _load_measured(path)
    assert isinstance(result, cr.ModelFileError) and "decompression bomb" in str(result)
    assert peak < 4 * path.stat().st_size + 2**20


def test_the_command_line_stays_within_a_memory_limit(valid, tmp_path):
    """Under a 1 GiB address-space limit, `chainrule info` on a 40000x30000 header (4.8 GB
    if allocated) is one line and exit 2, not a MemoryError."""
    header = _tamper(_header_of(valid[1]), TAMPERED["40000x30000 layer"][0])
    path = tmp_path / "big.npz"
    _archive(path, _with_header(valid[1], header))
    limit = 2**30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "info", str(path)],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=cap,
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "declares" in done.stderr


def _check_outcome(valid, path):
    """Equal to the original, or a ModelFileError; CLI exit 0 or 2 with one line."""
    result, peak = _load_measured(path)
    assert peak < 4 * max(path.stat().st_size, 1) + 2**20
    if isinstance(result, TabularModel):
        return result
    code, err = _cli_info(path)
    assert code == 2 and err.count("\n") == 1 and err.startswith("chainrule: error: ")
    return None


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_bytes_give_an_equal_model_or_a_model_file_error(valid, tmp_path, data):
    original = bytearray(valid[1])
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
    at = data.draw(st.integers(0, len(original) - 1))
    if kind == "flip":
        original[at] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        del original[at:]
    elif kind == "insert":
        original[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    else:
        chunk = data.draw(st.binary(min_size=1, max_size=64))
        original[at : at + len(chunk)] = chunk
    path = tmp_path / "mutated.npz"
    path.write_bytes(bytes(original))
    model = _check_outcome(valid, path)
    if model is not None:
        assert np.array_equal(model.network.parameters, valid[2].network.parameters)
        assert model.metadata() == valid[2].metadata()
        assert model.network.config() == valid[2].network.config()


@pytest.mark.parametrize("declared", [2**24, 2**28])
def test_a_damaged_compressed_size_is_read_within_the_memory_bound(valid, tmp_path, declared):
    """A central directory that declares a large compressed size for the (stored) header:
    reading it in one call of the whole limit made Python reserve that much (64 MiB for a 2 KB
    file; hypothesis found a 1 MiB case)."""
    original = bytearray(valid[1])
    entry = original.index(b"PK\x01\x02")  # the header's central directory entry
    original[entry + 20 : entry + 24] = declared.to_bytes(4, "little")  # its compressed size
    path = tmp_path / "declared.npz"
    path.write_bytes(bytes(original))
    with zipfile.ZipFile(path) as archive:  # the damage is where the test means it to be
        assert archive.infolist()[0].compress_size == declared
    _check_outcome(valid, path)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:6]):
            yield from _paths(item, (*prefix, index))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_header_fields_give_a_usable_model_or_a_model_file_error(valid, tmp_path, data):
    header = _header_of(valid[1])
    where = data.draw(st.sampled_from([p for p in _paths(header) if p]))
    value = data.draw(JSON_VALUES | st.just("__delete__"))
    target = header
    for key in where[:-1]:
        target = target[key]
    if value == "__delete__":
        del target[where[-1]]
    else:
        target[where[-1]] = value
    path = tmp_path / "field.npz"
    _archive(path, _with_header(valid[1], header))
    model = _check_outcome(valid, path)
    if model is not None:  # a valid variant: it must work end to end
        table = read_csv(datasets.iris_csv_path())
        try:
            model.predict(table)
        except ValueError as error:  # a table the variant cannot use: a one-line DataError
            assert "\n" not in str(error)
        assert _cli_info(path)[0] == 0
        assert math.isfinite(model.network.parameters.sum())


@pytest.mark.parametrize("method", [8, 12, 14, 99])
@pytest.mark.parametrize("member", [0, 1])
def test_a_member_relabelled_as_compressed_is_a_model_file_error(valid, tmp_path, member, method):
    """The central directory claims deflate, bzip2, LZMA or an unknown method for stored data."""
    data = bytearray(valid[1])
    starts = [m.start() for m in re.finditer(re.escape(b"PK\x01\x02"), bytes(data))]
    data[starts[member] + 10 : starts[member] + 12] = method.to_bytes(2, "little")
    path = tmp_path / "relabelled.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(cr.ModelFileError):
        TabularModel.load(path)
