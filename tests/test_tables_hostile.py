"""Hostile tables (issue 25): a quoted line break at a chunk's end, identifiers that look like
numbers, files the two CSV readers once read differently, Parquet with two columns of one name or
integers beyond int64, a header of 100 000 columns, a bad row at the end of a large file."""

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.cli import main
from chainrule.tables import arrow_csv
from chainrule.tables import reading as data
from chainrule.tables.reading import DataError, read_as_text, read_csv

pa = pytest.importorskip("pyarrow")
parquet = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[1]
READ_WITH_CSV_MODULE = data._read_with_csv_module  # kept from the no_fallback fixture


def cli(*argv, cwd=None, timeout=None):
    """The command line in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=timeout,
    )


def csv_module_table(path):
    """The reference: the file as Python's csv module reads it, each field without the spaces
    and tabs around it, typed by read_csv's rules (the fallback reader, called directly)."""
    header, delimiter, lines = data._header(Path(path))
    return READ_WITH_CSV_MODULE(path, str(path), header, delimiter, lines)


def pyarrow_table(path, **chunking):
    """The file as pyarrow reads it chunk by chunk, never the csv module's fallback."""
    header, delimiter, lines = data._header(Path(path))
    columns = arrow_csv.read_columns(
        path, header, delimiter, lines, data.missing_spellings(), **chunking
    )
    return data.Table(str(path), header, columns)


def assert_same(table, expected):
    assert table.columns == expected.columns
    for name in table.columns:
        got, want = table.data[name], expected.data[name]
        assert got.dtype == want.dtype, (name, got, want)
        if got.dtype == object:
            assert got.tolist() == want.tolist(), name
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.fixture
def no_fallback(monkeypatch):
    """read_csv must read with pyarrow: the csv module's fallback is an error."""

    def refuse(*args):
        raise AssertionError("pyarrow refused the text: read by the csv module")

    monkeypatch.setattr(data, "_read_with_csv_module", refuse)
    monkeypatch.setattr(data, "_check_with_csv_module", refuse)


# -- a record cut by a chunk's end --------------------------------------------------------------


def notes_file(tmp_path, rows=60, name="notes.csv"):
    """A valid file written by the csv module: class labels, then notes some of which hold a
    line break followed by ', phone' (so that a cut at that line break gives two fields)."""
    path = tmp_path / name
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["label", "note", "x"])
        for i in range(rows):
            note = f"call back\nlater, phone {i}" if i % 5 == 3 else f"n{i}"
            if i % 7 == 2:
                note = f'said "hi"\r\nthen, phone\n{i}'
            writer.writerow(["home" if i % 2 else "work", note, str(i)])
    return path


def test_a_quoted_line_break_at_a_chunks_end_stays_in_its_field(tmp_path, monkeypatch, no_fallback):
    path = notes_file(tmp_path)
    expected = csv_module_table(path)
    assert expected.n_rows == 60 and sorted(set(expected.column("label"))) == ["home", "work"]
    for chunk_bytes in (16, 23, 40, 64, 97, 256, 1 << 20):  # cuts at every kind of place
        for block_bytes in (16, 64, 1 << 20):
            table = pyarrow_table(path, chunk_bytes=chunk_bytes, block_bytes=block_bytes)
            assert_same(table, expected)
    # through the public reader and the command line, with its chunk sizes lowered
    monkeypatch.setattr(arrow_csv, "CHUNK_BYTES", 50)
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 32)
    assert_same(read_csv(path), expected)
    out = tmp_path / "m.npz"
    code = main([
        "train", str(path), "--target", "label", "--features", "x", "--epochs", "1",
        "--quiet", "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    from chainrule.tables.model import TabularModel

    assert TabularModel.load(out).classes == ["home", "work"]


def test_quotes_inside_unquoted_fields_do_not_hide_a_record_end(tmp_path, no_fallback):
    """A quote within an unquoted field (5'11") is a character of it, as the csv module and
    pyarrow read it: counting quotes alone would take the next line end for one inside
    quotes, or the other way round."""
    path = tmp_path / "heights.csv"
    lines = ["height,note"]
    for i in range(40):
        note = f'"a ""quoted""\nnote, {i}"' if i % 3 == 0 else f"plain {i}"
        lines.append(f"5'{i % 12}\",{note}")
    path.write_bytes(("\n".join(lines) + "\n").encode())
    expected = csv_module_table(path)
    assert expected.n_rows == 40 and expected.data["height"][1] == "5'1\""
    for chunk_bytes in (16, 30, 51, 77, 128):
        assert_same(pyarrow_table(path, chunk_bytes=chunk_bytes, block_bytes=16), expected)


def test_a_quoted_crlf_at_the_end_of_a_pyarrow_block_keeps_its_line_feed(tmp_path, no_fallback):
    """pyarrow's own blocks within a chunk drop the \\n of a quoted \\r\\n that a block's end
    cuts (newlines_in_values or not): a chunk with quotes is parsed as one block."""
    path = tmp_path / "notes.csv"
    rows = [f'{i},"line {i}\r\nnext, {i}"' for i in range(30)]
    path.write_bytes(("id,note\r" + "\r".join(rows) + "\r").encode())
    expected = csv_module_table(path)
    assert expected.data["note"][3] == "line 3\r\nnext, 3"
    for block_bytes in range(8, 80):
        assert_same(pyarrow_table(path, block_bytes=block_bytes), expected)


# -- predict writes its input's columns as written -----------------------------------------------

IDS = [
    "12345678901234567890",
    "12345678901234567891",
    "12345678901234567892",
    "12345678901234567893",
    "12345678901234567894",
    "02134",
    "1e3",
    "NA",
    "-0",
    "0x1F",
]


def test_predict_writes_identifiers_exactly_as_read(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=len(IDS) * 4).tolist()
    ids = [f"{i}{k}" if k else i for k in range(4) for i in IDS]  # distinct, as written
    rows = [f"{i},{v!r},{'a' if v > 0 else 'b'}" for i, v in zip(ids, x, strict=True)]
    rows[3] = f"{ids[3]}, 1.5e0 ,a"  # the features too: written back as read
    path = tmp_path / "accounts.csv"
    path.write_text("account,x,y\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m.npz"
    trained = cli("train", path, "--target", "y", "--drop", "account", "--epochs", "2",
                  "--quiet", "--out", model)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    by_id = cli("predict", model, path, "--id", "account")
    assert by_id.returncode == 0, by_id.stderr
    written = list(csv.reader(io.StringIO(by_id.stdout)))
    assert written[0] == ["account", "prediction", "p_a", "p_b"]
    assert [row[0] for row in written[1:]] == ids
    every = cli("predict", model, path, "-o", tmp_path / "p.csv")
    assert every.returncode == 0, every.stderr
    with (tmp_path / "p.csv").open(newline="") as stream:
        written = list(csv.reader(stream))
    assert written[0][:3] == ["account", "x", "y"]
    assert [row[:3] for row in written[1:]] == [
        [field.strip() for field in line.split(",")] for line in rows
    ]


def test_predict_writes_a_parquet_identifier_with_all_its_digits(tmp_path):
    ids = [2**53 - 100 + i for i in range(30)]
    ids[4] = None  # an integer column with a gap is float64 for the model, not for predict
    x = np.linspace(-1, 1, 30)
    table = pa.table({"account": pa.array(ids, pa.int64()), "x": x, "y": np.where(x > 0, "a", "b")})
    path = tmp_path / "accounts.parquet"
    parquet.write_table(table, path)
    model = tmp_path / "m.npz"
    trained = cli("train", path, "--target", "y", "--drop", "account", "--epochs", "1",
                  "--quiet", "--out", model)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    predicted = cli("predict", model, path, "--id", "account")
    assert predicted.returncode == 0, predicted.stderr
    written = list(csv.reader(io.StringIO(predicted.stdout)))
    assert [row[0] for row in written[1:]] == ["" if i is None else str(i) for i in ids]


def test_read_as_text_keeps_every_spelling_with_either_reader(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("id,x\n007 ,1\n, 2\nnan,3\n1e3,4\n")
    expected = ["007", "", "nan", "1e3"]
    assert read_as_text(path, ["id"]).column("id") == expected
    monkeypatch.setattr(arrow_csv, "read_columns", _refused)  # the csv module's way
    assert read_as_text(path, ["id"]).column("id") == expected
    with pytest.raises(DataError, match="no column named 'z'"):
        read_as_text(path, ["z"])


def _refused(*args, **options):
    raise arrow_csv.Unparsed("refused by the test")


# -- the two readers agree, value for value ------------------------------------------------------

HOSTILE = {
    "a space after each comma": "a, b\n1, x\n2, y\n",
    "spaces and tabs around numbers and text": "a,b\n 1 ,\t x \n2\t, y\n",
    "cells of spaces in a column of numbers": "a,b\n1,  \n2,3\n \t,4\n",
    "missing spellings with spaces and in any case": "a,b\n1, NA\nnUll,2\nN/a,nAn\n3,NaN\n",
    "nan-like text in a text column": "a,b\nx,NaN\ny,nAn\nz,-nan\nw,NULL\n",
    "signed nan and infinities": "a,b\n-nan,inf\n+nan,-Infinity\n1,+inf\n",
    "empty and quoted empty fields": 'a,b,c\n,"",1\n"",,2\n3,4,\n',
    "a row of empty fields": "a,b\n,\n1,2\n",
    "quotes": 'a,b\n"q""q",1\n"x\ny",2\n"a"b,3\nc"d,4\n',
    "byte order mark and CRLF": "\ufeffa,b\r\n1,x\r\n2,y\r\n",
    "CR line ends": "a,b\r1,2\r3,4\r",
    "quoted CRLF in a file of CR line ends": 'a,b\r-nan,"line\r\nbreak"\r1,"x\r\n\r\ny"\r',
    "huge integers": (
        "a,b,c,d\n12345678901234567890,9007199254740993,9223372036854775807,-9223372036854775808\n"
        "1,2,3,4\n"
    ),
    "beyond int64": "a,b\n9223372036854775808,-9223372036854775809\n1,2\n",
    "plus signs, points and exponents": "a,b,c,d\n+1,1.,.5,1e3\n2,2,2,2\n",
    "hexadecimal": "a,b\n0x10,1\n0xFFFFFFFFFFFFFFFF,2\n",
    "numbers a csv reader might take": "a,b,c,d\n1_000,\u0661,1 2,1e\n1,2,3,4\n",
    "booleans and dates": "a,b\ntrue,2020-01-01\nFalse,12:00\n",
    "semicolons": "a;b\n1,5;x\n2;y\n",
}


@pytest.mark.parametrize("case", HOSTILE)
def test_the_two_readers_agree_value_for_value(tmp_path, case, no_fallback):
    path = tmp_path / "hostile.csv"
    path.write_bytes(HOSTILE[case].encode())
    expected = csv_module_table(path)
    # decimal=".": the readers' own typing ("semicolons": 1,5 stays text, not read as 1.5)
    assert_same(read_csv(path, decimal="."), expected)
    for chunk_bytes in (8, 19, 1 << 20):
        assert_same(pyarrow_table(path, chunk_bytes=chunk_bytes, block_bytes=8), expected)


def test_what_the_readers_agree_on(tmp_path):
    """The agreed values, spelled out: fields stripped, missing in any case and with spaces,
    integers exactly within int64, 0x1F text."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,d,e\n x , NA ,9007199254740993,0x10,+1\ny,nUll ,-5,7,2\nz,  ,6,8,3\n")
    for table in (read_csv(path), csv_module_table(path)):
        assert table.data["a"].tolist() == ["x", "y", "z"]
        assert table.data["b"].dtype == np.float64 and np.isnan(table.data["b"]).all()
        assert table.data["c"].tolist() == [9007199254740993, -5, 6]
        assert table.data["c"].dtype == np.int64
        assert table.data["d"].tolist() == ["0x10", "7", "8"]
        assert table.data["e"].dtype == np.float64 and table.data["e"].tolist() == [1, 2, 3]


PIECES = [
    "", " ", "\t", "1", "-2", "+3", "007", "1.5", " 2.5 ", "1e3", "-.5", "inf", "-Infinity",
    "nan", "NaN", "nAn", "-nan", "NA", " na ", "N/a", "null", "NULL", "None", "?", "n/a",
    "9007199254740993", "9223372036854775808", "12345678901234567890", "0x1F", "x", " x ",
    "a b", "q\"q", "line\nbreak", "line\r\nbreak", "c,d", "true", "2020-01-01", "1_0", "\u0661",
]  # fmt: skip


@st.composite
def hostile_text(draw):
    """A file the csv module writes (it quotes a field holding a line end only when the line
    end is in its ``lineterminator``: no bare \\n with \\r line ends)."""
    n_columns = draw(st.integers(1, 4))
    rows = draw(st.integers(1, 25))
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    pieces = [p for p in PIECES if line_end != "\r" or p != "line\nbreak"]
    kinds = [draw(st.sampled_from(["numbers", "any"])) for _ in range(n_columns)]
    numbers = [p for p in PIECES if p.strip() in ("", "1", "-2", "007", "1.5", "2.5", "NA", "na")]
    columns = [
        draw(st.lists(st.sampled_from(numbers if kind == "numbers" else pieces),
                      min_size=rows, max_size=rows))
        for kind in kinds
    ]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow([f"c{i}" for i in range(n_columns)])
    writer.writerows(zip(*columns, strict=True))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + buffer.getvalue()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile_text(), chunk_bytes=st.integers(8, 200))
def test_the_two_readers_agree_on_any_file_the_csv_module_writes(tmp_path, text, chunk_bytes):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode())
    expected = csv_module_table(path)
    try:
        fast = pyarrow_table(path, chunk_bytes=chunk_bytes, block_bytes=16)
    except arrow_csv.Unparsed:  # pyarrow refuses a line of spaces: read_csv falls back
        fast = read_csv(path)
    assert_same(fast, expected)


# -- Parquet --------------------------------------------------------------------------------------


def duplicated_parquet(tmp_path):
    x = np.linspace(-1, 1, 40)
    table = pa.Table.from_arrays(
        [pa.array(x), pa.array(-x), pa.array(np.where(x > 0, "a", "b"))], names=["x", "x", "y"]
    )
    path = tmp_path / "twice.parquet"
    parquet.write_table(table, path)
    return path


def good_model(tmp_path):
    path = tmp_path / "good.npz"
    assert cli("train", "--data", "xor", "--epochs", "1", "--quiet", "--out", path).returncode == 0
    return path, path.read_bytes()


def test_parquet_with_two_columns_of_one_name_is_refused_and_out_kept(tmp_path):
    path = duplicated_parquet(tmp_path)
    with pytest.raises(DataError, match="the column name 'x' appears twice in the file's columns"):
        read_csv(path)
    with pytest.raises(DataError, match="appears twice"):
        data.read_csv_block(path, 0, 2)
    out, before = good_model(tmp_path)
    trained = cli("train", path, "--target", "y", "--epochs", "1", "--quiet", "--out", out)
    assert trained.returncode == 2
    assert trained.stderr.strip().splitlines()[-1] == (
        f"chainrule: error: {path}: the column name 'x' appears twice in the file's columns"
    )
    assert out.read_bytes() == before


def test_train_reads_its_model_back_before_replacing_out(tmp_path, monkeypatch, capsys):
    """The model that info and predict refuse (features of one name, from the duplicated
    Parquet file with its refusal taken away) is never written over --out."""
    path = duplicated_parquet(tmp_path)
    monkeypatch.setattr(data, "_check_names", lambda *args: None)
    out, before = good_model(tmp_path)
    code = main(
        ["train", str(path), "--target", "y", "--epochs", "1", "--quiet", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "chainrule: error: the trained model cannot be read back (" in err
    assert "invalid table metadata: metadata.features" in err and ".tmp" not in err
    assert f"{out} was left as it was" in err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz", "twice.parquet"]


@pytest.mark.parametrize(
    "values,kind,message",
    [
        ([2**64 - 1, 5], pa.uint64(), "holds 18446744073709551615, .*int64 holds integers up to"),
        ([2**53 + 1, None], pa.int64(), "holds 9007199254740993, .*float64, exact for integers"),
    ],
)
def test_parquet_integers_beyond_what_a_column_holds_name_file_and_column(
    tmp_path, values, kind, message
):
    path = tmp_path / "ids.parquet"
    parquet.write_table(pa.table({"x": [1.0, 2.0], "account": pa.array(values, kind)}), path)
    with pytest.raises(DataError, match=f"^{path}: column 'account' {message}"):
        read_csv(path)
    trained = cli("train", path, "--target", "x", "--quiet", "--out", tmp_path / "m.npz")
    assert trained.returncode == 2
    assert f"chainrule: error: {path}: column 'account' holds" in trained.stderr


# -- wide files ----------------------------------------------------------------------------------


def test_a_header_of_100000_columns_is_read_in_linear_time(tmp_path):
    columns = 100_000
    path = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(columns)]
    path.write_text(",".join([*names, "y"]) + "\n" + ",".join(["1"] * columns + ["a"]) + "\n")
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom chainrule.tables import reading\n"
        "start = time.perf_counter()\n"
        f"header, _, _ = reading._header(Path({str(path)!r}))\n"
        "print(len(header), time.perf_counter() - start)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=12
    )
    assert done.returncode == 0, done.stderr
    count, seconds = done.stdout.split()
    assert int(count) == columns + 1
    assert float(seconds) < 10  # quadratic, it took minutes
    path.write_text(",".join([*names, "c7"]) + "\n" + ",".join(["1"] * (columns + 1)) + "\n")
    start = time.perf_counter()
    with pytest.raises(DataError, match="the column name 'c7' appears twice in the header"):
        read_csv(path)
    assert time.perf_counter() - start < 10


def test_train_on_100000_columns_finishes(tmp_path):
    """Reading, choosing and encoding the columns are linear in their number too."""
    columns = 100_000
    path = tmp_path / "wide.csv"
    rows = [",".join([*(str((r * 7 + c) % 5) for c in range(8)), *["1"] * (columns - 8), y])
            for r, y in enumerate("abab")]  # fmt: skip
    path.write_text(",".join([*(f"c{i}" for i in range(columns)), "y"]) + "\n" + "\n".join(rows))
    trained = cli(
        "train", path, "--target", "y", "--epochs", "1", "--hidden", "2", "--quiet",
        "--validation-split", "0", "--out", tmp_path / "m.npz", timeout=120,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr


# -- the error path ------------------------------------------------------------------------------

PEAK = """
import sys
from chainrule.tables import reading
import pyarrow.csv

def peak():  # kB; this process's own (ru_maxrss would start at the forking parent's peak)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

before = peak()
try:
    reading.read_csv(sys.argv[1])
except reading.DataError as error:
    print(error)
print(peak() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory from /proc")
def test_a_bad_row_near_the_end_of_a_large_file_is_found_without_keeping_the_file(tmp_path):
    path = tmp_path / "large.csv"
    line = b"123456789.125,987654321.25\n"
    rows = 1_500_000
    with path.open("wb") as stream:
        stream.write(b"a,b\n")
        for _ in range(rows // 10_000):
            stream.write(line * 10_000)
        stream.write(b"1\n" + line * 10)
    size = os.path.getsize(path)
    assert size > 35 << 20
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    message, grown = done.stdout.splitlines()
    assert message == f"{path}: row {rows + 2} has 1 fields, the header has 2"
    # the columns read before pyarrow refused the row are about 0.6 times the file; the
    # file as the csv module's rows of strings was about 9 times
    assert int(grown) * 1024 < 2 * size
