"""Inputs as a user meets them: paths that are not regular files, CSV files exported by other
tools (a BOM, CRLF, quoted line breaks, Latin-1, gzip), numbers beyond float64. Each is read
right or refused with one line, ``chainrule: error: ...``, exit code 2."""

import io
import os
import struct

import pytest
from test_cli_tabular import run

from chainrule.tables.model import TabularModel

ROWS = "".join(f"{i % 7},{(i * 3) % 5},{'a' if i % 2 else 'b'}\n" for i in range(40))


@pytest.fixture
def model(tmp_path, capsys):
    data = tmp_path / "train.csv"
    data.write_text("x,y,t\n" + ROWS)
    path = tmp_path / "m.npz"
    argv = ("train", data, "--target", "t", "--epochs", "1", "--quiet", "--hidden", "4")
    assert run(capsys, *argv, "--out", path)[0] == 0
    return path, data


def _not_a_file(tmp_path, kind):
    path = tmp_path / f"{kind}.csv"
    if kind == "folder":
        path.mkdir()
    elif kind == "pipe":
        os.mkfifo(path)  # reading it would block: it must be refused before it is opened
    elif kind == "loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to("gone.csv")
    return path


WHAT = {
    "folder": "a folder, not a file",
    "pipe": "a pipe, not a regular file",
    "loop": "a symbolic link that loops back on itself",
    "dangling": "a symbolic link to a file that does not exist",
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX paths")
@pytest.mark.parametrize("kind", sorted(WHAT))
def test_a_path_that_is_not_a_regular_file_is_named_for_what_it_is(capsys, tmp_path, model, kind):
    path = _not_a_file(tmp_path, kind)
    for argv, said in [
        (("train", path, "--target", "t"), f"{path}: cannot read it: it is {WHAT[kind]}"),
        (("predict", model[0], path), f"{path}: cannot read it: it is {WHAT[kind]}"),
        (("info", path), f"model file '{path}' is {WHAT[kind]}"),
        (("evaluate", path, model[1]), f"model file '{path}' is {WHAT[kind]}"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 2 and err.startswith(f"chainrule: error: {said}") and err.count("\n") == 1


def test_a_split_that_leaves_a_class_no_training_row_is_refused(capsys, tmp_path):
    path = tmp_path / "rare.csv"
    path.write_text("x,t\n" + "".join(f"{i / 10},a\n" for i in range(10)) + "5,b\n")
    argv = ("train", path, "--target", "t", "--epochs", "1", "--quiet", "--out", tmp_path / "m")
    code, _, err = run(capsys, *argv, "--validation-split", "0.9")
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "m").exists()
    assert "--validation-split 0.9 holds out every row of the class 'b' (1 of 11 rows)" in err
    assert run(capsys, *argv, "--validation-split", "0.5")[0] == 0  # 'b' is kept for training


@pytest.mark.parametrize(
    "content,said",
    [
        ("x,y,t\n" + ROWS.replace("a\n", "caf\xe9\n", 1), "line 3 is not UTF-8 text (byte 0xe9)"),
        ("x,\xe9,t\n" + ROWS, "line 1 is not UTF-8 text (byte 0xe9); save the file as UTF-8"),
        (b"\x1f\x8b" + b"\x08" * 40, "not a CSV text file: it is gzip-compressed"),
        ("x,y,t\n" + ROWS, "not a CSV text file: it is UTF-16 text: save it as UTF-8"),
    ],
    ids=["latin-1 row", "latin-1 header", "gzip", "utf-16"],
)
def test_a_file_that_is_not_utf8_says_what_it_is_or_where(capsys, tmp_path, content, said):
    path = tmp_path / "export.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-16" if "UTF-16" in said else "latin-1"))
    code, _, err = run(capsys, "train", path, "--target", "t", "--epochs", "1", "--quiet")
    assert code == 2 and err.startswith(f"chainrule: error: {path}: {said}")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "transform",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode(),  # Excel's UTF-8 with a BOM
        lambda text: text.replace("\n", "\r\n").encode(),  # Windows line ends
        lambda text: text.replace("\n", "\r").encode(),  # classic Mac line ends
    ],
    ids=["bom", "crlf", "cr"],
)
def test_files_from_other_tools_read_as_the_plain_file_does(capsys, tmp_path, transform):
    from chainrule.tables.reading import read_csv

    text = "x,note,t\n" + "".join(
        f'{i % 7},"a, ""b""\nc",{"a" if i % 2 else "b"}\n' for i in range(40)
    )
    plain, other = tmp_path / "plain.csv", tmp_path / "other.csv"
    plain.write_bytes(text.encode())
    other.write_bytes(transform(text))
    expected, found = read_csv(plain), read_csv(other)
    assert found.columns == expected.columns == ["x", "note", "t"]
    assert found.column("x") == expected.column("x") and found.column("t") == expected.column("t")
    notes = found.column("note")
    assert len(set(notes)) == 1 and notes[0].startswith('a, "b"')  # one field, line break kept


@pytest.mark.parametrize(
    "values,kind",
    [([[1, 2]] * 30, "list<element: int64>"), ([b"a", b"\xff"] * 15, "binary")],
    ids=["nested", "not utf-8"],
)
def test_a_parquet_column_that_is_neither_numbers_nor_text_is_named(capsys, tmp_path, values, kind):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"x": [0.5] * 30, "odd": values, "t": ["a", "b"] * 15}), path)
    code, _, err = run(capsys, "train", path, "--target", "t", "--epochs", "1", "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"chainrule: error: {path}: column 'odd' holds {kind} values, which")


def test_a_header_name_with_a_quoted_line_break_or_delimiter(capsys, tmp_path):
    """A spreadsheet's wrapped column title ("length\\n(cm)") is one header field."""
    from chainrule.tables.reading import read_csv

    path = tmp_path / "wrapped.csv"
    path.write_text('"length\n(cm)","width, cm",t\n' + ROWS)
    table = read_csv(path)
    assert table.columns == ["length\n(cm)", "width, cm", "t"] and table.n_rows == 40
    assert table.column("length\n(cm)")[:3] == ["0", "1", "2"]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('"length\n(cm)",w,t\n' + ROWS + "1,2\n")
    code, _, err = run(capsys, "train", ragged, "--target", "t", "--quiet", "--epochs", "1")
    assert (
        code == 2 and err == f"chainrule: error: {ragged}: row 42 has 2 fields, the header has 3\n"
    )


def test_a_model_file_cut_short_or_bit_flipped_anywhere_is_one_line(capsys, tmp_path, model):
    """The real damage of a copy cut short or a bad sector, through the command line: every
    150th cut and 100 single-bit flips. A flip in bytes nothing reads may leave a usable model."""
    import numpy as np

    whole = model[0].read_bytes()
    damaged = [whole[:cut] for cut in range(0, len(whole), len(whole) // 150)]
    rng = np.random.default_rng(0)
    for position in rng.integers(len(whole), size=100):
        flipped = bytearray(whole)
        flipped[position] ^= 1 << int(rng.integers(8))
        damaged.append(bytes(flipped))
    path = tmp_path / "damaged.npz"
    original = _predictions_and_numbers(capsys, model)
    accepted = 0
    for content in damaged:
        path.write_bytes(content)
        code, out, err = run(capsys, "predict", path, model[1])
        assert code == 0 or (code == 2 and err.startswith("chainrule: error: ")), err
        assert err.count("\n") == (code == 2) and "Traceback" not in err
        if code == 0:  # the damage missed every byte that is read: the same model
            accepted += 1
            assert (out, *_numbers(path)) == original
    assert 0 < accepted < len(damaged) // 2  # some flips miss what is read, most do not


def _numbers(path):
    """What a model file holds: its parameters (as bytes) and metadata."""
    loaded = TabularModel.load(path)
    return loaded.network.parameters.tobytes(), loaded.metadata()


def _predictions_and_numbers(capsys, model):
    code, out, _ = run(capsys, "predict", model[0], model[1])
    assert code == 0
    return (out, *_numbers(model[0]))


def _member_data(whole: bytes) -> dict[str, range]:
    """Where each member's bytes lie in an uncompressed .zip, from its local file header
    (30 bytes, then the name and the extra field, whose lengths are at offsets 26 and 28)."""
    import zipfile

    spans = {}
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            at = info.header_offset
            name, extra = struct.unpack("<HH", whole[at + 26 : at + 30])
            start = at + 30 + name + extra
            spans[info.filename] = range(start, start + info.compress_size)
    return spans


def _npy_parts(whole: bytes, span: range) -> tuple[range, range]:
    """A version 1.0 .npy image's preamble (magic, version, length, dict) and its data."""
    assert whole[span.start : span.start + 8] == b"\x93NUMPY\x01\x00"
    data = span.start + 10 + int.from_bytes(whole[span.start + 8 : span.start + 10], "little")
    return range(span.start, data), range(data, span.stop)


def test_a_bit_flip_in_the_numbers_or_the_header_is_refused(capsys, tmp_path, model):
    """Each member is checked against its CRC-32, which catches every single-bit error: a flip
    in any byte of the parameters' numbers, of the header's JSON text (every 7th byte) or of
    their .npy preambles (every 5th byte) is refused in one line, never read as another
    model."""
    whole = model[0].read_bytes()
    spans = _member_data(whole)
    assert sorted(spans) == ["__header__.npy", "parameters.npy"]
    text, numbers = (_npy_parts(whole, spans[name]) for name in sorted(spans))
    assert len(numbers[1]) == TabularModel.load(model[0]).network.parameters.nbytes
    positions = [*numbers[1], *text[1][::7], *numbers[0][::5], *text[0][::5]]
    path = tmp_path / "flipped.npz"
    for count, position in enumerate(positions):
        flipped = bytearray(whole)
        flipped[position] ^= 1 << (count % 8)
        path.write_bytes(bytes(flipped))
        code, out, err = run(capsys, "predict", path, model[1])
        assert code == 2 and out == "", (position, out)
        assert err.startswith("chainrule: error: ") and err.count("\n") == 1, (position, err)


@pytest.mark.parametrize(
    "argv,said",
    [
        (("train", "{csv}", "--target", "t", "--out", "{csv}"), "--out '{csv}' is the CSV file"),
        (("train", "{csv}", "--target", "t", "--plot", "{csv}"), "--plot '{csv}' is the CSV file"),
        (("predict", "{model}", "{csv}", "-o", "{csv}"), "--output '{csv}' is the CSV file"),
        (("predict", "{model}", "{csv}", "-o", "{model}"), "--output '{model}' is the model file"),
        (
            ("evaluate", "{model}", "{csv}", "--plot", "{model}"),
            "--plot '{model}' is the model file",
        ),
        (("export", "{model}", "{model}"), "output '{model}' is the model file"),
    ],
)
def test_an_output_that_is_an_input_of_the_command_is_refused(capsys, model, argv, said):
    """`--out data.csv` would replace the data with a model: refused before any work."""
    names = {"model": model[0], "csv": model[1]}
    before = {path: path.read_bytes() for path in names.values()}
    code, _, err = run(capsys, *(a.format(**names) for a in argv))
    assert code == 2 and err.startswith(f"chainrule: error: {said.format(**names)} this command")
    assert {path: path.read_bytes() for path in names.values()} == before
