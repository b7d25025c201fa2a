"""The CSV loader: every documented refusal, and a fuzz test that it never fails otherwise."""

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chainrule import datasets
from chainrule.tables.reading import (
    DataError,
    dataset_table,
    infer_task,
    numeric_matrix,
    read_csv,
    sort_labels,
    target_column,
)


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("1,2,3\n4,5,6\n", "the first row holds numbers, not column names"),
        ("a,b,a\n1,2,3\n", "the column name 'a' appears twice"),
        ("a,,c\n1,2,3\n", "column 2 of the header has no name"),
        ("a,b\n1,2\n3\n", "row 3 has 1 fields, the header has 2"),
        ("a,b\n", "a header but no data rows"),
    ],
)
def test_unusable_files(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_csv(write(tmp_path, text))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_csv(tmp_path / "nothing.csv")
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="not a CSV text file: it is UTF-16 text"):
        read_csv(path)


@pytest.mark.parametrize(
    "field,message",
    [
        ("abc", r"column 'b' is not numeric: row 3 holds 'abc'"),
        ("", r"column 'b' has a missing value in row 3"),
        ("NA", r"column 'b' has a missing value in row 3"),
        ("nan", r"column 'b' has a missing value in row 3"),
        ("inf", r"column 'b' holds inf \(written as such, or a number beyond float64's range"),
        ("1e400", r"column 'b' holds inf \(written .* such as 1e400\) in row 3; only finite"),
        ("-1e999", r"column 'b' holds -inf \(written .* such as -1e400\) in row 3; only finite"),
    ],
)
def test_bad_fields_name_column_and_row(tmp_path, field, message):
    table = read_csv(write(tmp_path, f"a,b\n1,2\n3,{field}\n"))
    with pytest.raises(DataError, match=message):
        numeric_matrix(table, ["a", "b"])


def test_target_column_checks(tmp_path):
    table = read_csv(write(tmp_path, "a,y\n1,\n2,b\n"))
    with pytest.raises(DataError, match="no column named 'z'; the columns are a, y"):
        target_column(table, "z")
    with pytest.raises(DataError, match="target column 'y' has a missing value in row 2"):
        target_column(table, "y")


def test_numbers_are_read_exactly_and_a_bom_is_ignored(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffx,y\n0.1,1e-3\n-2,3\n".encode())
    table = read_csv(path)
    assert table.columns == ["x", "y"]
    np.testing.assert_array_equal(numeric_matrix(table, ["x", "y"]), [[0.1, 1e-3], [-2, 3]])


def test_task_inference_and_label_order():
    assert infer_task(["a", "b"]) == "classification"
    assert infer_task(["0", "1", "2"]) == "classification"
    assert infer_task(["0.5", "1.25"]) == "regression"
    assert infer_task([str(i) for i in range(25)]) == "regression"
    assert sort_labels(["10", "9", "2"]) == ["2", "9", "10"]
    assert sort_labels(["b", "a"]) == ["a", "b"]


def test_builtin_dataset_as_table():
    table = dataset_table(datasets.iris())
    assert table.columns[-1] == "species" and table.n_rows == 150
    assert set(table.column("species")) == {"setosa", "versicolor", "virginica"}


FIELD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
    st.sampled_from(["", "NA", "nan", " 1 ", "1e400", "-0", "0x10"]),
)


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    header=st.lists(st.text(min_size=0, max_size=5), min_size=1, max_size=4),
    rows=st.lists(st.lists(FIELD, min_size=0, max_size=5), max_size=6),
)
def test_fuzzed_csv_is_read_or_refused_with_a_data_error(tmp_path, header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    try:
        table = read_csv(path)
    except DataError:
        return
    try:
        X = numeric_matrix(table, table.columns)
    except DataError as error:
        assert "column" in str(error) or "row" in str(error)
        return
    assert np.isfinite(X).all() and X.shape == (table.n_rows, len(table.columns))


NUMBER = st.floats(-1e6, 1e6, allow_nan=False).map(repr)
FEATURE = st.one_of(*[NUMBER] * 19, FIELD)  # mostly usable, sometimes not
LABEL = st.one_of(*[st.sampled_from(["0", "1", "2", "cat", "dog"])] * 8, NUMBER, FIELD)
ROW = st.tuples(FEATURE, FEATURE, LABEL).map(list)


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    rows=st.lists(ROW, min_size=0, max_size=12),
    batch=st.integers(1, 4),
    val=st.sampled_from(["0", "0.1", "0.5"]),
)
# values found by this test that once escaped as overflow warnings: beyond float32's range, an
# outlier in the validation rows only, a column whose squared deviations overflow float64
@example(
    rows=[
        ["0.0", "3.4028235677973366e+38", "0"],
        *[["0.0", "0.0", "0"]] * 2,
        ["0.0", "0.0", "0.0"],
    ],
    batch=1,
    val="0.5",
)
@example(
    rows=[["0.0", "1.2802552557944908e+38", "0"], *[["0.0", "0.0", "0"]] * 2, ["0.0", "0.0", "1"]],
    batch=1,
    val="0.5",
)
@example(rows=[["0.0", "0.0", "0"], ["0.0", "2.6815615859885194e+154", "1"]], batch=1, val="0")
@example(rows=[["0.0", "0.0", "0.5"], ["0.0", "1e300", "1.5"]], batch=1, val="0")
# a category seen only in the validation rows: its warning once escaped in Python's format,
# and a category holding U+0085, a line break to str.splitlines, once split the warning line
@example(rows=[["0.0", "0.0", "0.5"], [":", "0.0", "0"], [":", "0.0", "0"]], batch=1, val="0.5")
@example(
    rows=[["0.0", "0.0", "1"], [":", "0.0", "0"], [":", "0.0", "1"], ["\x85", "0.0", "0"]],
    batch=1,
    val="0.5",
)
def test_fuzzed_csv_through_the_train_command_is_trained_or_refused(tmp_path, rows, batch, val):
    """Whatever the file holds, `chainrule train` ends with 0 or with one error line and 2."""
    import contextlib

    from chainrule.cli import main

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["a", "b", "y"])
    writer.writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(
            [
                "train",
                str(path),
                "--target",
                "y",
                "--epochs",
                "1",
                "--validation-split",
                val,
                "--batch-size",
                str(batch),
                "--quiet",
                "--out",
                str(tmp_path / "m.npz"),
            ]
        )
    assert code in (0, 2)
    lines = err.getvalue().splitlines()  # notes (warnings) first, then at most one error
    assert all(line.startswith("chainrule: warning: ") for line in lines[: -1 if code else None])
    if code == 2:
        assert lines[-1].startswith("chainrule: error: ")


TYPED = "id,colour,x,n,y\nP1,red,1.5,3,a\nP2,,NA,4,b\nP3,blue, 2 ,5,a\n"


def test_without_pyarrow_the_csv_module_gives_the_same_table(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    path = write(tmp_path, TYPED)
    fast = read_csv(path)
    monkeypatch.setitem(__import__("sys").modules, "pyarrow.csv", None)  # import fails
    slow = read_csv(path)
    assert fast.columns == slow.columns == ["id", "colour", "x", "n", "y"]
    for name in fast.columns:
        assert fast.data[name].dtype == slow.data[name].dtype, name
        assert fast.column(name) == slow.column(name), name
    assert fast.column("colour") == ["red", "", "blue"] and fast.data["n"].dtype == np.int64
    np.testing.assert_array_equal(fast.data["x"], [1.5, np.nan, 2.0])


def test_parquet_files_are_read_like_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(io.StringIO(TYPED), keep_default_na=True)
    frame.to_parquet(tmp_path / "t.parquet")
    table = read_csv(tmp_path / "t.parquet")
    assert table.columns == ["id", "colour", "x", "n", "y"]
    assert table.column("colour") == ["red", "", "blue"]
    np.testing.assert_array_equal(table.data["n"], [3, 4, 5])
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_csv(tmp_path / "bad.parquet")


def test_a_semicolon_file_is_read_with_its_delimiter(tmp_path):
    table = read_csv(write(tmp_path, "a;b\n1;2\n3;4\n"))
    assert table.columns == ["a", "b"]
    np.testing.assert_array_equal(numeric_matrix(table, ["a", "b"]), [[1, 2], [3, 4]])
