"""Each rank's part of a CSV or Parquet file (chainrule.distributed.read_rows), without MPI:
the ranks are threads exchanging their summaries through a fake group, so every K can be tried.
In rank order the parts must be exactly the one-process read_csv table: the same rows, values,
column types and row numbers."""

import threading

import numpy as np
import pytest

from chainrule.distributed import ElsewhereError, read_rows
from chainrule.tables.reading import DataError, FieldCountError, read_csv, read_csv_block
from chainrule.training.replicas import OneProcess


class ThreadRanks(OneProcess):
    """Rank ``rank`` of ``size`` threads; ``collect`` is an allgather through a shared board."""

    def __init__(self, rank, size, board, barrier):
        self.rank, self.size, self.board, self.barrier = rank, size, board, barrier

    def collect(self, value):
        self.board[self.rank] = value
        self.barrier.wait()
        everyone = list(self.board)
        self.barrier.wait()
        return everyone


def parts(path, size, **options):
    """read_rows on ``size`` thread ranks: each rank's Table, or the exception it raised."""
    board, barrier = [None] * size, threading.Barrier(size, timeout=20)
    results = [None] * size

    def rank(r):
        try:
            results[r] = read_rows(path, ThreadRanks(r, size, board, barrier), **options)
        except Exception as error:  # noqa: BLE001 - handed to the test
            results[r] = error

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_same_table(blocks, whole):
    first = 0
    for block in blocks:
        assert not isinstance(block, Exception), block
        assert block.columns == whole.columns and block.first == first
        first += block.n_rows
    assert first == whole.n_rows
    for name in whole.columns:
        joined = np.concatenate([block.data[name] for block in blocks])
        expected = whole.data[name]
        assert joined.dtype == expected.dtype, name
        if expected.dtype == object:
            assert joined.tolist() == expected.tolist(), name
        else:
            np.testing.assert_array_equal(joined, expected)


ROWS = [
    "id,x,n,label,grade",
    "1,0.5,3,cat,1",
    "2,,4,dog,2",
    "",
    "3,2.25,5,,3",
    '4,3,6,"bird, small",4',
    "5,4,7,cat,05",
    "6,5e-1,8,dog,A",
    "7,6,9,cat,B",
    "8,7,10,dog,C",
    "9,8,11.5,cat,D",
]


def files(tmp_path):
    """The same rows with LF, CRLF, no final line end, a BOM, blank lines around the header
    and at the end; columns that are integers in some parts only, text in some parts only."""
    body = "\n".join(ROWS)
    variants = {
        "lf.csv": body + "\n",
        "crlf.csv": body.replace("\n", "\r\n") + "\r\n",
        "no_final_newline.csv": body,
        "bom_blank_lines.csv": "\ufeff\n\n" + body + "\n\n\n",
        "semicolons.csv": body.replace(",", ";").replace('"bird; small"', "bird") + "\n",
    }
    for name, text in variants.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    return [tmp_path / name for name in variants]


@pytest.mark.parametrize("engine", ["pyarrow", "csv"])
def test_parts_in_rank_order_are_the_whole_file_table(tmp_path, monkeypatch, engine):
    if engine == "pyarrow":
        pytest.importorskip("pyarrow")
    else:  # without pyarrow both readers fall back to the csv module
        import builtins

        real_import = builtins.__import__

        def no_pyarrow(name, *args, **kwargs):
            if name.startswith("pyarrow"):
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    for path in files(tmp_path):
        whole = read_csv(path)
        for size in (1, 2, 3, 4):
            assert_same_table(parts(path, size), whole)


def test_a_part_with_a_fraction_makes_the_column_float_and_with_text_text(tmp_path):
    """Part 0 reads 'n' as integers and 'grade' as integers (01 becomes 1 on its own); the
    whole file holds 11.5 and letters, so every part ends as float64 and as the cells' text."""
    path = files(tmp_path)[0]
    alone = read_csv_block(path, 0, 2)
    assert alone.table.data["n"].dtype.kind == "i" and alone.table.data["grade"].dtype.kind == "i"
    first, second = parts(path, 2)
    assert first.data["n"].dtype == np.float64
    assert first.data["grade"].tolist() == ["1", "2", "3", "4", "05"]
    assert second.data["grade"].tolist() == ["A", "B", "C", "D"]


def test_parquet_parts_by_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    table = pa.table({"a": [1, 2, None, 4, 5, 6, 7], "b": ["x", "y", "z", None, "w", "v", "u"]})
    path = tmp_path / "t.parquet"
    parquet.write_table(table, path, row_group_size=3)
    whole = read_csv(path)
    for size in (1, 2, 3, 4):
        assert_same_table(parts(path, size), whole)


def test_a_bad_row_is_raised_once_by_its_part_with_the_files_row_number(tmp_path):
    lines = ["a,b"] + [f"{i},{i % 3}" for i in range(40)]
    lines[31] = "30,1,extra"  # file row 32, in the second of two parts
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    first, second = parts(path, 2)
    assert isinstance(first, ElsewhereError)
    assert isinstance(second, FieldCountError)
    assert str(second) == f"{path}: row 32 has 3 fields, the header has 2"


def test_a_quoted_line_break_across_a_cut_is_refused(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,"one\ntwo\nthree\nfour"\n2,x\n')
    assert read_csv(path).n_rows == 2  # one process reads it
    results = parts(path, 2)
    errors = [r for r in results if isinstance(r, DataError)]
    assert len(errors) == 1 and "quoted field holding a line break" in str(errors[0])


def test_too_few_rows_for_the_ranks(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,b\n1,2\n")
    results = parts(path, 2)
    assert all(isinstance(r, DataError) and "too few" in str(r) for r in results)


def test_booleans_and_dates_are_text_as_written_in_every_part(tmp_path):
    """pyarrow alone would respell 'True', '1' or a date; the parts keep them as the whole-file
    read does (text as written), whichever part holds which spelling."""
    pytest.importorskip("pyarrow")
    rows = ["flag,day,y"] + [
        f"{flag},{day},{i}"
        for i, (flag, day) in enumerate(
            zip(
                ["True", "false", "TRUE", "0", "1", "False"] * 3,
                [f"2020-01-0{d}" for d in range(1, 10)] * 2,
                strict=True,
            )
        )
    ]
    path = tmp_path / "flags.csv"
    path.write_text("\n".join(rows) + "\n")
    whole = read_csv(path)
    assert whole.data["flag"].tolist()[:4] == ["True", "false", "TRUE", "0"]
    assert whole.data["day"].tolist()[0] == "2020-01-01"
    for size in (1, 2, 3):
        assert_same_table(parts(path, size), whole)
