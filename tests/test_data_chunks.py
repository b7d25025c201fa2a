"""read_csv parses a file a chunk at a time: a later chunk that changes a column's type (int then
float, missing then text, numbers then text), a row or a line cut by a chunk's end, more rows
than the first chunk suggested. Chunks of a few dozen bytes make every file many chunks."""

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.tables import arrow_csv as _arrow_csv
from chainrule.tables import reading as data
from chainrule.tables.reading import DataError, read_csv

pa_csv = pytest.importorskip("pyarrow.csv")


@pytest.fixture(autouse=True)
def pyarrow_only(request, monkeypatch):
    """Every file here is read by pyarrow, chunk by chunk: the csv module is called only by
    the tests that say so in their name."""
    if "csv_module" not in request.node.name:

        def refuse(*args):
            raise AssertionError("read by the csv module")

        monkeypatch.setattr(data, "_read_with_csv_module", refuse)


def parse(path, chunk_bytes=32, block_bytes=16):
    """read_csv with small chunks (its internal parameters)."""
    header, delimiter, lines = data._header(path)
    return data._parse_csv(
        path,
        str(path),
        header,
        delimiter,
        lines,
        chunk_bytes=chunk_bytes,
        block_bytes=block_bytes,
    )


def whole_file(path):
    """The table pyarrow's whole-file reader gives (its types inferred over every row), its
    text without the spaces and tabs around each field, as both of read_csv's readers give it
    (pyarrow keeps them around text, and ignores them around a number)."""
    header, delimiter, lines = data._header(path)
    arrow = pa_csv.read_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=header, skip_rows=lines),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter),
        convert_options=pa_csv.ConvertOptions(
            null_values=data.missing_spellings(),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    table = data._from_arrow(str(path), header, arrow)
    for name, values in table.data.items():
        if values.dtype == object:
            table.data[name] = np.array(
                [v if v is None else v.strip(" \t") for v in values], dtype=object
            )
    return table


def assert_same(table, expected):
    assert table.columns == expected.columns
    for name in table.columns:
        got, want = table.data[name], expected.data[name]
        assert got.dtype == want.dtype, name
        if got.dtype == object:
            assert got.tolist() == want.tolist(), name
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


def write_rows(tmp_path, rows, name="t.csv", header=("a", "b")):
    path = tmp_path / name
    path.write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n")
    return path


# each column: 20 rows of one kind, then the value that changes its type, then more rows
CHANGES = {
    "int then float": (["1"] * 20 + ["1.5"] + ["2"] * 5, np.float64),
    "int then missing": (["1"] * 20 + ["NA"] + ["2"] * 5, np.float64),
    "missing then int": ([""] * 20 + ["3"] * 6, np.float64),
    "missing then text": ([""] * 20 + ["red"] * 6, object),
    "int then text": (["7"] * 20 + ["seven"] + ["007"] * 5, object),
    "float then text": (["1.50"] * 20 + ["x"] + ["2.0"] * 5, object),
    "text then numbers": (["x"] * 20 + ["0012"] * 6, object),
    "int then boolean": (["1"] * 20 + ["True"] + ["0"] * 5, object),
    "missing then date": (["NA"] * 20 + ["2020-01-02"] * 6, object),
    "float then int": (["0.5"] * 20 + ["3"] * 6, np.float64),
    "all int": (["-4"] * 26, np.int64),
    "all missing": (["null"] * 26, np.float64),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_later_chunk_that_changes_a_column_type(tmp_path, change):
    values, dtype = CHANGES[change]
    path = write_rows(tmp_path, [[v, str(i)] for i, v in enumerate(values)])
    table = parse(path)
    assert table.data["a"].dtype == dtype and table.data["b"].dtype == np.int64
    np.testing.assert_array_equal(table.data["b"], np.arange(len(values)))
    if dtype is object:  # text as written, None where missing
        missing = [v.lower() in data.MISSING for v in values]
        assert table.data["a"].tolist() == [
            None if m else v for v, m in zip(values, missing, strict=True)
        ]
    else:
        expected = [np.nan if v.lower() in data.MISSING else float(v) for v in values]
        np.testing.assert_array_equal(table.data["a"], expected)
    table_in_one_chunk = parse(path, chunk_bytes=1 << 20, block_bytes=1 << 20)
    assert_same(table, table_in_one_chunk)
    if change not in ("int then boolean", "missing then date"):  # pyarrow respells those
        assert_same(table, whole_file(path))


def test_booleans_and_dates_are_text_as_written_as_the_csv_module_reads_them(tmp_path):
    path = write_rows(
        tmp_path, [["True", "2020-01-01"], ["0", "12:00:00"], ["FALSE", "x"]], header="pq"
    )
    table = read_csv(path)
    assert table.data["p"].tolist() == ["True", "0", "FALSE"]
    assert table.data["q"].tolist() == ["2020-01-01", "12:00:00", "x"]
    slow = data._read_with_csv_module(path, str(path), ["p", "q"], ",", 1)
    assert_same(table, slow)


def test_more_rows_than_the_first_chunk_suggests_and_a_line_longer_than_a_chunk(tmp_path):
    long_text = "w" * 5000
    rows = [[long_text, "1.5"], *[[f"t{i}", str(i)] for i in range(3000)]]
    path = write_rows(tmp_path, rows)
    table = parse(path, chunk_bytes=4096, block_bytes=4096)  # first chunk: one row of 5000 bytes
    assert table.n_rows == 3001
    assert table.data["a"].tolist() == [long_text, *(f"t{i}" for i in range(3000))]
    np.testing.assert_array_equal(table.data["b"], [1.5, *range(3000)])
    assert_same(table, whole_file(path))


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_ends_cut_by_a_chunk_and_blank_lines_before_the_header(tmp_path, newline):
    lines = ["", " ", "a;b", *[f"{i};{i * 0.5}" for i in range(40)], "", "40;20.0"]
    path = tmp_path / "t.csv"
    path.write_bytes(newline.join(lines).encode())
    for chunk_bytes in (7, 16, 33):
        table = parse(path, chunk_bytes=chunk_bytes)
        np.testing.assert_array_equal(table.data["a"], np.arange(41))
        np.testing.assert_array_equal(table.data["b"], np.arange(41) * 0.5)
        assert table.data["a"].dtype == np.int64


def test_a_bad_row_in_a_later_chunk_is_named_by_the_csv_module(tmp_path):
    rows = [[str(i), str(i)] for i in range(50)]
    rows[40] = ["1"]
    with pytest.raises(DataError, match="row 42 has 1 fields, the header has 2"):
        parse(write_rows(tmp_path, rows))
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"a,b\n" + b"x,1\n" * 30 + b"caf\xe9,2\n")
    with pytest.raises(DataError, match=r"line 32 is not UTF-8 text \(byte 0xe9\)"):
        parse(path)


def test_a_header_without_rows_in_several_chunks(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\n" * 40 + "alpha,beta\n\n\n")
    with pytest.raises(DataError, match="a header but no data rows"):
        parse(path, chunk_bytes=8)


def test_bytes_are_parsed_as_the_file_holding_them(tmp_path):
    values = CHANGES["int then text"][0]
    path = write_rows(tmp_path, [[v, str(i)] for i, v in enumerate(values)])
    from_bytes = data._parse_csv(
        path.read_bytes(), "block of t.csv", ["a", "b"], ",", 1, chunk_bytes=32, block_bytes=16
    )
    assert from_bytes.path == "block of t.csv"
    assert_same(from_bytes, read_csv(path))
    with pytest.raises(TypeError, match="expected a path or bytes, got int"):
        data._parse_csv(3, "x", ["a"], ",", 1)


def test_a_block_of_bytes_without_a_header_line_as_pyarrow_and_the_csv_module_read_it():
    block = b"P1,1.5\nP2,NA\n\nP3,2\n"
    columns = _arrow_csv.read_columns(  # pyarrow, never the fallback
        block, ["id", "x"], ",", 0, data.missing_spellings(), chunk_bytes=8, block_bytes=8
    )
    fast = data.Table("block", ["id", "x"], columns)
    slow = data._read_with_csv_module(block, "block", ["id", "x"], ",", 0)
    assert fast.data["id"].tolist() == ["P1", "P2", "P3"]
    np.testing.assert_array_equal(fast.data["x"], [1.5, np.nan, 2.0])
    assert_same(fast, slow)
    with pytest.raises(DataError, match="block: row 3 has 1 fields, the header has 2"):
        data._parse_csv(b"P1,1\nP2\n", "block", ["id", "x"], ",", 0)


NUMBER = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
)
MISSING_CELL = st.sampled_from(["", "NA", "nan", "null", "None", "?", "N/A"])
TEXT = st.text(alphabet="abcxyz -_", min_size=1, max_size=8).filter(lambda t: t.strip())


@st.composite
def column(draw, rows):
    """A column of one kind with a few cells of another kind anywhere in it."""
    kind = draw(st.sampled_from([NUMBER, st.integers(0, 99).map(str), TEXT, MISSING_CELL]))
    values = draw(st.lists(kind, min_size=rows, max_size=rows))
    for _ in range(draw(st.integers(0, 3))):
        values[draw(st.integers(0, rows - 1))] = draw(st.one_of(NUMBER, TEXT, MISSING_CELL))
    return values


@st.composite
def table_text(draw):
    rows = draw(st.integers(1, 60))
    columns = [draw(column(rows)) for _ in range(draw(st.integers(1, 4)))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow([f"c{i}" for i in range(len(columns))])
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=table_text(), chunk_bytes=st.integers(8, 300))
def test_chunk_by_chunk_equals_the_whole_file_reader(tmp_path, text, chunk_bytes):
    path = tmp_path / "fuzz.csv"
    path.write_text(text, newline="")
    assert_same(parse(path, chunk_bytes=chunk_bytes, block_bytes=64), whole_file(path))


def read_in_fresh_process(path) -> tuple[str, bool]:
    """``read_csv(path)`` in a new interpreter: each column's dtype and values (their repr) and
    whether pandas was imported on the way."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom chainrule.tables.reading import read_csv\n"
        f"t = read_csv({str(path)!r})\n"
        "print([(str(v.dtype), v.tolist()) for v in t.data.values()])\n"
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(data.__file__).parents[1],
    )
    columns, pandas_loaded = done.stdout.splitlines()
    return columns, pandas_loaded == "True"


def test_reading_a_csv_does_not_import_pandas(tmp_path):
    """pyarrow's Array.to_numpy imports pandas (seconds, tens of megabytes): not used."""
    path = write_rows(tmp_path, [["1", "x"], ["NA", "y"], ["2.5", ""]])
    columns, pandas_loaded = read_in_fresh_process(path)
    assert not pandas_loaded
    nan = float("nan")
    assert columns == repr([("float64", [1.0, nan, 2.5]), ("object", ["x", "y", None])])


def test_reading_parquet_does_not_import_pandas_and_types_its_columns(tmp_path):
    """pyarrow's read_table and Array.to_numpy import pandas; the Parquet reader uses neither.
    int32 becomes int64, float32 float64, an integer column with a gap float64 with NaN, an
    all-null column float64 NaN, across several row groups."""

    pa = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "i": pa.array([1, 2, 3, 4, 5], pa.int32()),
            "gap": pa.array([1, None, 3, 4, 5], pa.int64()),
            "f": pa.array([0.5, 1.5, None, 2.5, 3.0], pa.float32()),
            "none": pa.array([None] * 5, pa.null()),
            "s": ["a", None, "c", "d", "e"],
        }
    )
    path = tmp_path / "t.parquet"
    parquet.write_table(table, path, row_group_size=2)
    columns, pandas_loaded = read_in_fresh_process(path)
    assert not pandas_loaded
    nan = float("nan")
    expected = [
        ("int64", [1, 2, 3, 4, 5]),
        ("float64", [1.0, nan, 3.0, 4.0, 5.0]),
        ("float64", [0.5, 1.5, nan, 2.5, 3.0]),
        ("float64", [nan] * 5),
        ("object", ["a", None, "c", "d", "e"]),
    ]
    assert columns == repr(expected)
