"""Files as people have them, and the command line's manners (issue 28): compressed CSVs,
decimal commas, rows without a target, the same missing-value words in Python and on the
command line, close-match suggestions, --dropout and --l2, the identifier guess on strong
evidence only, and categories learned from every row of the training file."""

import argparse
import bz2
import gzip
import json
import lzma
import os
import shutil
import subprocess
import sys
import warnings
from importlib.util import find_spec

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import build_parser, main
from chainrule.core.validation import CONSTRAINTS
from chainrule.datasets import iris_csv_path
from chainrule.distributed import read_rows
from chainrule.tables import arrow_csv
from chainrule.tables.encoding import UnseenCategoryWarning, fit_columns, looks_like_id
from chainrule.tables.model import TabularModel, train_table
from chainrule.tables.reading import DataError, Table, read_as_text, read_csv, read_csv_block

FAST = ("--epochs", "2", "--hidden", "4", "--quiet")


def run(capsys, *argv):
    """The command line in this process: exit code, stdout, stderr."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_same(table, expected):
    """Two tables equal column by column: names, dtypes and values (NaN equal to NaN)."""
    assert table.columns == expected.columns
    for name in table.columns:
        got, want = table.data[name], expected.data[name]
        assert got.dtype == want.dtype, name
        if got.dtype == object:
            assert got.tolist() == want.tolist(), name
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.fixture
def no_pyarrow_csv(monkeypatch):
    """Read with Python's csv module: pyarrow's CSV reader cannot be imported."""
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)


# -- compressed files -----------------------------------------------------------------------------


def _zstd(data: bytes) -> bytes:
    pa = pytest.importorskip("pyarrow")
    if not pa.Codec.is_available("zstd"):
        pytest.skip("pyarrow without zstd")
    return pa.Codec("zstd").compress(data, asbytes=True)


COMPRESS = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "zstd": _zstd}
IRIS = iris_csv_path().read_bytes()
# a file both readers type alike, with gaps, text and a quoted line break
MIXED = b'id,colour,x,n,note,y\nP1,red,1.5,3,"a\nb",a\nP2,,NA,4,?,b\nP3,blue, 2 ,5,c,a\n'


@pytest.mark.parametrize("kind", COMPRESS)
@pytest.mark.parametrize("engine", ["pyarrow", "csv"])
def test_a_compressed_file_reads_as_its_text_by_its_first_bytes(
    tmp_path, monkeypatch, kind, engine
):
    """Named without a suffix (the bytes decide, not the name), by either reader, a chunk at a
    time through a decompressing stream."""
    if engine == "csv":
        monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    monkeypatch.setattr(arrow_csv, "CHUNK_BYTES", 64)  # many chunks, each cut at a record's end
    for text in (IRIS, MIXED):
        plain, packed = tmp_path / "plain.csv", tmp_path / "export"
        plain.write_bytes(text)
        packed.write_bytes(COMPRESS[kind](text))
        assert arrow_csv.compression_of(packed) == kind and arrow_csv.compression_of(plain) is None
        assert_same(read_csv(packed), read_csv(plain))
        names = read_csv(plain).columns
        assert_same(read_as_text(packed, names), read_as_text(plain, names))


def test_decompression_streams_in_bounded_reads(tmp_path, monkeypatch):
    """Memory stays bounded as for a plain file: the decompressed text arrives in reads of at
    most the stream's buffer, never decompressed whole."""
    text = b"x,y\n" + b"".join(b"%d.5,%d\n" % (i, i % 3) for i in range(200_000))
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(text))
    sizes = []
    readinto = arrow_csv._Decompressing.readinto

    def spy(self, buffer):
        count = readinto(self, buffer)
        sizes.append(count)
        return count

    monkeypatch.setattr(arrow_csv._Decompressing, "readinto", spy)
    monkeypatch.setattr(arrow_csv, "CHUNK_BYTES", 1 << 16)
    table = read_csv(path)
    assert table.n_rows == 200_000 and table.data["y"].dtype == np.int64
    assert max(sizes) <= 1 << 16 and len(sizes) > len(text) >> 16  # the header's read too


def test_every_command_reads_a_compressed_csv(capsys, tmp_path):
    """train, evaluate, predict and gradcheck on gzip, bz2 and xz files named as the user likes;
    predict writes the cells as the plain file holds them."""
    plain = tmp_path / "iris.csv"
    plain.write_bytes(IRIS)
    for kind, suffix in (("gzip", ".csv.gz"), ("bz2", ".bz2"), ("xz", ".data")):
        (tmp_path / f"iris{suffix}").write_bytes(COMPRESS[kind](IRIS))
    model = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", tmp_path / "iris.csv.gz", "--target", "species",
                       *FAST, "--out", model)  # fmt: skip
    assert code == 0, err
    assert run(capsys, "evaluate", model, tmp_path / "iris.bz2")[0] == 0
    code, compressed, _ = run(capsys, "predict", model, tmp_path / "iris.data")
    assert code == 0 and compressed == run(capsys, "predict", model, plain)[1]
    assert compressed.splitlines()[1].startswith("5.1,3.5,1.4,0.2,setosa,")
    code, out, _ = run(capsys, "gradcheck", model, tmp_path / "iris.bz2", "--rows", "4")
    assert code == 0 and out.startswith("ok:")
    from_python = TabularModel.train(tmp_path / "iris.data", "species", epochs=1, hidden=(4,))
    assert from_python.features == TabularModel.load(model).features


def test_a_damaged_compressed_file_is_one_line(capsys, tmp_path):
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(IRIS)[:500])  # cut short
    with pytest.raises(DataError, match="gzip-compressed, and the compressed data is damaged"):
        read_csv(path)
    code, _, err = run(capsys, "train", path, "--target", "species", *FAST)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"chainrule: error: {path}: not a CSV text file: it is gzip-compressed")


def test_zstd_without_a_decompressor_names_what_to_install(capsys, tmp_path, monkeypatch):
    path = tmp_path / "iris.csv.zst"
    path.write_bytes(_zstd(IRIS))
    for module in ("compression", "compression.zstd", "zstandard", "pyarrow"):
        monkeypatch.setitem(sys.modules, module, None)  # none importable
    code, _, err = run(capsys, "train", path, "--target", "species", *FAST)
    assert code == 2 and err.count("\n") == 1
    assert f"{path}: it is zstd-compressed, and reading zstd needs the zstandard module: pip" in err


def test_the_distributed_reader_refuses_a_compressed_file(tmp_path):
    """Byte ranges of compressed data cannot be parsed apart: one line saying so."""
    path = tmp_path / "iris.csv.gz"
    path.write_bytes(gzip.compress(IRIS))
    said = r"it is gzip-compressed, and a compressed file cannot be cut into parts .* \(gunzip"
    for read in (lambda: read_csv_block(path, 0, 2), lambda: read_rows(path)):
        with pytest.raises(DataError, match=said) as error:
            read()
        assert "\n" not in str(error.value)


# -- decimal commas -------------------------------------------------------------------------------


def european_iris(path, delimiter=";"):
    """Iris as a spreadsheet in a European language saves it: ';' between fields, 5,1."""
    lines = [line.split(",") for line in IRIS.decode().splitlines()]
    rows = [delimiter.join(field.replace(".", ",") for field in line) for line in lines]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_decimal_commas_are_read_as_numbers_and_said(capsys, tmp_path, delimiter):
    """Never 122 one-hot inputs for iris: the four columns are numbers, said in one line."""
    path = european_iris(tmp_path / "iris_eu.csv", delimiter)
    model = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", path, "--target", "species", *FAST, "--out", model)
    assert code == 0, err
    assert (
        err.count("chainrule: warning:") == 1
        and (
            f"{path}: read the columns 'sepal_length', 'sepal_width', 'petal_length', "
            "'petal_width' as numbers written with a decimal comma (5,1 as 5.1); pass --decimal , "
            "to say so, or --decimal . to read them as text"
        )
        in err
    )
    assert TabularModel.load(model).features == [
        "sepal_length", "sepal_width", "petal_length", "petal_width"
    ]  # fmt: skip
    code, _, err = run(capsys, "train", path, "--target", "species", *FAST, "--out", model,
                       "--decimal", ",")  # fmt: skip
    assert code == 0 and "warning" not in err and len(TabularModel.load(model).features) == 4
    code, _, err = run(capsys, "evaluate", model, path, "--decimal", ",")
    assert code == 0 and "warning" not in err
    code, out, _ = run(capsys, "predict", model, path, "--decimal", ",")
    assert code == 0 and out.splitlines()[1].startswith('"5,1","3,5","1,4","0,2",setosa,')


def test_decimal_option_in_python_and_both_readers(tmp_path, monkeypatch):
    path = european_iris(tmp_path / "iris_eu.csv")
    expected = read_csv(iris_csv_path())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # decimal="," said: nothing to warn about
        fast = read_csv(path, decimal=",")
    numbers = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    for name in numbers:
        np.testing.assert_array_equal(fast.data[name], expected.data[name].astype(float))
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    assert_same(read_csv(path, decimal=","), fast)
    with pytest.warns(UserWarning, match=r"pass decimal=',' to say so, or decimal='\.' to read"):
        assert_same(read_csv(path), fast)
    kept = read_csv(path, decimal=".")
    assert all(kept.data[name].dtype == object for name in numbers)
    model = TabularModel.train(path, "species", decimal=",", epochs=1, hidden=(4,))
    assert model.features == numbers
    with pytest.raises(ValueError, match="'decimal' must be '.' or ',', got ';'"):
        read_csv(path, decimal=";")


def test_a_comma_separated_file_keeps_quoted_commas_unless_told(tmp_path):
    """Detection is for ';' and tab separated files; in a comma separated one a quoted 1,5 is
    text unless decimal=',' says otherwise. A column with other text stays text."""
    path = tmp_path / "quoted.csv"
    path.write_text('a,b,y\n"1,5",x,0\n"2,25",y,1\n"3",z,0\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_csv(path).data["a"].dtype == object
    assert read_csv(path, decimal=",").data["a"].tolist() == [1.5, 2.25, 3.0]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("a;b;y\n1,5;x;0\nabc;y;1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_csv(mixed).data["a"].tolist() == ["1,5", "abc"]


# -- rows without a target ------------------------------------------------------------------------


def gappy_target(path):
    """40 rows; the target is missing in rows 4 and 9 (as a spreadsheet counts them), and
    the feature x is missing in row 12, after them."""
    lines = ["x,z,y"]
    for i in range(40):
        x = "" if i == 10 else f"{(i * 7) % 11 / 3:.3f}"
        y = "" if i in (2, 7) else ("NA" if i == 30 else "ab"[i % 2])
        lines.append(f"{x},{(i * 5) % 13},{y}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rows_without_a_target_are_refused_or_left_out_with_a_note(capsys, tmp_path):
    path = gappy_target(tmp_path / "gaps.csv")
    out = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", path, "--target", "y", *FAST, "--out", out)
    assert code == 2 and err.count("\n") == 1 and not out.exists()
    assert (
        f"{path}: the target column 'y' has a missing value in row 4; fill it in, or pass "
        "--drop-missing-target to leave out the rows without a target"
    ) in err
    argv = ("train", path, "--target", "y", *FAST, "--out", out, "--drop-missing-target")
    code, _, err = run(capsys, *argv, "--impute", "none")
    assert (
        code == 2
        and (
            f"chainrule: warning: {path}: left out 3 rows without a value of the target 'y' "
            "(--drop-missing-target)"
        )
        in err
    )
    # the rows keep their numbers in the file: x's gap is in row 12, not row 10
    assert "column 'x' has a missing value in row 12;" in err.splitlines()[-1]
    code, _, err = run(capsys, *argv, "--impute", "median")
    assert code == 0, err
    assert run(capsys, "evaluate", out, path)[0] == 2  # evaluate needs every target


def test_drop_missing_target_in_python(tmp_path):
    path = gappy_target(tmp_path / "gaps.csv")
    with pytest.raises(DataError, match="row 4; fill it in, or pass drop_missing_target=True"):
        TabularModel.train(path, "y", impute="median", epochs=1)
    with pytest.warns(UserWarning, match=r"left out 3 rows .* \(drop_missing_target=True\)"):
        model = TabularModel.train(
            path, "y", impute="median", epochs=1, drop_missing_target=True, hidden=(4,)
        )
    assert model.classes == ["a", "b"]
    table = Table("<t>", ["x", "y"], {"x": np.arange(3.0), "y": np.full(3, np.nan)})
    with pytest.raises(DataError, match="the target column 'y' is missing in every row"):
        train_table(table, "y", drop_missing_target=True, epochs=1)


# -- one vocabulary of missing values, and of options ---------------------------------------------


def test_a_dataframe_holds_missing_cells_as_a_csv_file_does(tmp_path):
    """'?', 'NA', ' n/a ' in an object column are missing, in Python as on the command line;
    the messages name Python's keywords, not flags."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": [str(v) for v in rng.normal(size=30).round(2)],
            "colour": rng.choice(["red", "blue"], 30).astype(object),
            "y": rng.choice(["no", "yes"], 30),
        }
    )
    frame.loc[[3, 8], "x"] = ["?", " NA "]
    frame.loc[5, "colour"] = "n/a"
    with pytest.raises(DataError) as error:
        TabularModel.train(frame, "y", impute="none", epochs=1)
    message = str(error.value)
    assert "column 'x' has a missing value in the row with index 3" in message
    assert "impute='median'" in message and "--" not in message
    model = TabularModel.train(frame, "y", impute="most_frequent", epochs=1, hidden=(4,))
    assert [c.kind for c in model.columns] == ["numeric", "categorical"]
    assert model.columns[1].categories == ["blue", "red"]  # 'n/a' is no category
    path = tmp_path / "same.csv"
    frame.to_csv(path, index=False)
    assert TabularModel.train(path, "y", impute="most_frequent", epochs=1).columns == (
        model.columns
    )
    for option in ("features", "drop", "categorical"):
        with pytest.raises(DataError) as error:
            TabularModel.train(frame, "y", epochs=1, **{option: ["colr"]})
        assert f"{option}= names 'colr', which is not a column (did you mean 'colour'?)" in str(
            error.value
        ) and "--" not in str(error.value)


def test_the_command_line_names_its_flags(capsys, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,colour,y\n1,red,a\n2,?,b\n3,blue,a\n4,red,b\n")
    for option in ("--features", "--drop", "--categorical"):
        code, _, err = run(capsys, "train", path, "--target", "y", option, "colr", *FAST)
        assert code == 2 and (
            f"{option} names 'colr', which is not a column (did you mean 'colour'?)" in err
        )
    code, _, err = run(capsys, "train", path, "--target", "y", "--impute", "none", *FAST)
    assert code == 2 and "row 3; fill it in, drop the row, or pass --impute median" in err


# -- close-match suggestions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,said",
    [
        (["trian"], "invalid choice: 'trian'; did you mean train? (choose from "),
        (["train", "x.csv", "--hiden", "8"], "unrecognized arguments: --hiden 8 (did you mean "
         "--hidden?) (see chainrule train --help)"),
        (["evaluate", "m.npz", "x.csv", "--metircs=f1"], "(did you mean --metrics?)"),
        (["train", "x.csv", "--optimizer", "adamm"], "invalid choice: 'adamm'; did you mean adam?"),
        (["train", "x.csv", "--bogus"], "unrecognized arguments: --bogus (see chainrule train"),
    ],
)  # fmt: skip
def test_a_misspelt_command_option_or_choice_names_the_closest(capsys, argv, said):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and said in err


def test_a_misspelt_column_names_the_closest(capsys, tmp_path):
    path = tmp_path / "iris.csv"
    path.write_bytes(IRIS)
    code, _, err = run(capsys, "train", path, "--target", "Species", *FAST)
    assert code == 2 and "no column named 'Species' (did you mean 'species'?); the columns" in err
    code, _, err = run(capsys, "train", path, "--target", "species", "--drop", "petal_widht",
                       *FAST)  # fmt: skip
    assert code == 2 and "--drop names 'petal_widht', which is not a column (did you mean " \
        "'petal_width'?)" in err  # fmt: skip
    code, _, err = run(capsys, "train", path, "--target", "species", "--sample-weight",
                       "sepal_lenght", *FAST)  # fmt: skip
    assert code == 2 and "(did you mean 'sepal_length'?)" in err
    model = tmp_path / "m.npz"
    assert run(capsys, "train", path, "--target", "species", *FAST, "--out", model)[0] == 0
    code, _, err = run(capsys, "predict", model, path, "--id", "Species")
    assert code == 2 and "--id 'Species' is not a column of" in err and "'species'?" in err
    code, _, err = run(capsys, "train", path, "--target", "zzz", *FAST)
    assert code == 2 and "did you mean" not in err


# -- regularisation options -----------------------------------------------------------------------


def test_dropout_and_l2_reach_the_network_and_the_model_file(capsys, tmp_path):
    path = tmp_path / "iris.csv"
    path.write_bytes(IRIS)
    out = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", path, "--target", "species", *FAST, "--out", out,
                       "--dropout", "0.25", "--l2", "0.001")  # fmt: skip
    assert code == 0, err
    network = TabularModel.load(out).network
    rates = [layer.rate for layer in network.layers if isinstance(layer, cr.Dropout)]
    assert rates == [0.25] and network.l2 == 0.001
    code, text, _ = run(capsys, "info", out)
    assert code == 0 and "regularisation: dropout 0.25, l2 0.001" in text
    summary = json.loads(run(capsys, "info", out, "--format", "json")[1])
    assert summary["dropout"] == 0.25 and summary["l2"] == 0.001
    model = TabularModel.train(path, "species", epochs=1, hidden=(4, 3), dropout=0.5, l2=0.01)
    assert [getattr(layer, "rate", None) for layer in model.network.layers] == [
        None, 0.5, None, 0.5, None
    ]  # fmt: skip
    assert model.network.l2 == 0.01


@pytest.mark.parametrize("flag,name", [("--dropout", "dropout"), ("--l2", "l2")])
def test_dropout_and_l2_flags_accept_what_the_constraint_accepts(flag, name):
    """The flag, train_table and the table of constraints accept and refuse the same values."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parse = next(a for a in commands.choices["train"]._actions if flag in a.option_strings).type
    table = Table("<t>", ["x", "y"], {"x": np.arange(8.0), "y": np.arange(8.0) % 2})
    for text in ("-1", "0", "0.5", "1", "2", "nan", "inf"):
        accepted = CONSTRAINTS[name].holds(float(text))
        try:
            parse(text)
        except argparse.ArgumentTypeError as error:
            assert not accepted and str(error) == f"expected {CONSTRAINTS[name]}, got {text!r}"
        else:
            assert accepted, text
        if not accepted:
            with pytest.raises(ValueError, match=f"'{name}' must be"):
                train_table(table, "y", epochs=1, verbose=0, **{name: float(text)})


# -- the identifier guess -------------------------------------------------------------------------


def houses(rows=40, seed=0):
    """A small housing extract: an Id, distinct areas, a running row number, a text code and a
    repeated store key, and a price."""
    rng = np.random.default_rng(seed)
    area = rng.permutation(np.arange(5000, 5000 + 37 * rows, 37))
    living = rng.permutation(np.arange(800, 800 + 11 * rows, 11))
    data = {
        "Id": rng.permutation(rows) + 1,
        "Lot_Area": area,
        "Gr_Liv_Area": living,
        "row": np.arange(rows) * 2 + 5,
        "code": np.array([f"H{i:03d}" for i in rng.permutation(rows)], dtype=object),
        "store_id": rng.integers(0, 4, rows),
        "Price": area * 3.0 + living * 50 + rng.normal(0, 100, rows),
    }
    return Table("<houses>", list(data), data)


def test_only_strong_evidence_makes_an_identifier():
    table = houses()
    found = {name: looks_like_id(table, name) for name in table.columns}
    assert found == {"Id": True, "Lot_Area": False, "Gr_Liv_Area": False, "row": True,
                     "code": True, "store_id": False, "Price": False}  # fmt: skip
    for name in ("id", "UUID", "customer_id", "PassengerId", "order key", "user.ID"):
        renamed = Table("<t>", [name], {name: table.data["Lot_Area"]})
        assert looks_like_id(renamed, name), name
    for name in ("paid", "valid", "monkey", "Acid", "Lot_Area"):
        renamed = Table("<t>", [name], {name: table.data["Lot_Area"]})
        assert not looks_like_id(renamed, name), name


def test_the_identifier_note_says_how_to_keep_the_column(capsys, tmp_path):
    with pytest.warns(UserWarning) as caught:
        run_ = train_table(houses(), "Price", epochs=1, verbose=0, hidden=(4,))
    assert run_.model.features == ["Lot_Area", "Gr_Liv_Area", "store_id"]
    notes = [str(w.message) for w in caught if "identifier" in str(w.message)]
    assert notes == [
        f"column {name!r} looks like an identifier (every value distinct): not used as a "
        "feature; name it in features= to use it"
        for name in ("Id", "row", "code")
    ]
    table = houses()
    path = tmp_path / "houses.csv"
    path.write_text(
        ",".join(table.columns) + "\n"
        + "".join(",".join(str(table.data[c][r]) for c in table.columns) + "\n" for r in range(40))
    )  # fmt: skip
    code, _, err = run(capsys, "train", path, "--target", "Price", *FAST, "--out",
                       tmp_path / "m.npz")  # fmt: skip
    assert code == 0 and err.count("looks like an identifier") == 3
    assert "column 'Id' looks like an identifier (every value distinct): not used as a feature; " \
        "name it in --features to use it" in err  # fmt: skip


# -- categories from every training row -----------------------------------------------------------


def rare_category_table(rows=40):
    """A category 'violet' in two rows only; with the split below both are held out."""
    colour = np.array(["red", "blue"] * (rows // 2), dtype=object)
    y = np.array(["a", "b", "b", "a"] * (rows // 4), dtype=object)
    colour[[5, 6]] = "violet"
    colour[[0, 2, 4]] = None
    return Table("<rare>", ["colour", "y"], {"colour": colour, "y": y})


def test_a_category_only_in_validation_rows_still_has_its_input():
    table = rare_category_table()
    for seed in range(50):  # a seed whose validation rows hold every 'violet' row
        run_ = train_table(table, "y", epochs=1, verbose=0, hidden=(2,), seed=seed,
                           validation_split=0.25, impute="most_frequent")  # fmt: skip
        if {5, 6} <= set(run_.validation_rows.tolist()):
            break
    else:
        pytest.fail("no seed held out both 'violet' rows")
    column = run_.model.columns[0]
    assert column.categories == ["blue", "red", "violet"]
    assert "colour=violet" in run_.model.features
    # the fill value is a statistic: the training rows' most frequent category alone
    training = [v for v in table.data["colour"][run_.train_rows] if v is not None]
    values, counts = np.unique(training, return_counts=True)
    assert column.fill == min(values[counts == counts.max()].tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnseenCategoryWarning)
        run_.model.evaluate(table)  # the same file: no category "not seen in training"


def test_categories_from_every_row_statistics_from_the_training_rows():
    """fit_columns: the category set over every row given, the fill value (a statistic) over the
    training rows alone, for numbers too."""
    colour = np.array(["red", "red", "blue", "blue", "blue", "green", None], dtype=object)
    x = np.array([1.0, 2.0, 30.0, 40.0, 50.0, np.nan, 3.0])
    table = Table("<t>", ["colour", "x"], {"colour": colour, "x": x})
    train = np.array([0, 1, 2, 6])  # red twice, blue once; x 1, 2, 30, 3
    category, number = fit_columns(table, ["colour", "x"], train, impute="most_frequent")
    assert category.categories == ["blue", "green", "red"] and category.fill == "red"
    assert number.fill == 1.0  # the smallest of the training rows' values, each seen once
    assert fit_columns(table, ["x"], train, impute="median")[0].fill == 2.5


def test_the_distributed_reader_reads_decimal_commas_as_one_read_does(tmp_path):
    path = european_iris(tmp_path / "iris_eu.csv")
    with pytest.warns(UserWarning, match="as numbers written with a decimal comma"):
        parts = read_rows(path)
    assert_same(parts, read_csv(path, decimal=","))
    assert read_rows(path, decimal=".").data["sepal_length"].dtype == object


MPIRUN = shutil.which("mpirun")


@pytest.mark.skipif(MPIRUN is None or find_spec("mpi4py") is None, reason="needs mpirun, mpi4py")
def test_ranks_agree_on_decimal_commas_and_rows_without_a_target(tmp_path):
    """Two ranks: the decimal commas found over both parts, the rows without a target left out
    of each part and counted over both, each said once; the model is the one-process one."""
    path = european_iris(tmp_path / "iris_eu.csv")
    lines = path.read_text().splitlines()
    lines[11] = lines[11].rsplit(";", 1)[0] + ";"  # row 12: in rank 0's part
    lines[121] = lines[121].rsplit(";", 1)[0] + ";NA"  # row 122: in rank 1's
    path.write_text("\n".join(lines) + "\n")
    common = ["train", str(path), "--target", "species", *FAST, "--drop-missing-target"]
    job = subprocess.run(
        [MPIRUN, "-n", "2", "--allow-run-as-root", "--oversubscribe", sys.executable, "-m",
         "chainrule.cli", *common, "--distributed", "--out", str(tmp_path / "two.npz")],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, MPIEXEC_TIMEOUT="115"),
    )  # fmt: skip
    assert job.returncode == 0, job.stderr
    assert job.stderr.count("read the columns 'sepal_length', 'sepal_width'") == 1
    assert job.stderr.count("left out 2 rows without a value of the target 'species'") == 1
    assert main([*common, "--out", str(tmp_path / "one.npz")]) == 0
    two, one = (TabularModel.load(tmp_path / f"{name}.npz") for name in ("two", "one"))
    assert two.features == one.features and two.classes == one.classes
    np.testing.assert_allclose(two.mean, one.mean, rtol=1e-12)
