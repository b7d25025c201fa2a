"""Each process's share of the rows: a block of an array, of a memory-mapped .npy file, or of
a CSV or Parquet file."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import numpy as np

from ..tables.reading import (
    DataError,
    FieldCountError,
    Table,
    read_csv_block,
    with_decimal_commas,
)
from ..training.replicas import ONE_PROCESS

__all__ = ["ElsewhereError", "NUMERIC_TYPES", "TEXT_TYPES", "load_rows", "read_rows", "shard"]

NUMERIC_TYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
NUMERIC_TYPES += ("halffloat", "float", "double")
TEXT_TYPES = ("string", "large_string")


class ElsewhereError(RuntimeError):
    """Another process failed and reports why; this one waits to be ended with the job."""


def shard(n_rows: int, group=None) -> slice:
    """This process's contiguous block of ``n_rows`` rows, as a slice: process ``p`` of ``K``
    gets ``[p n / K, (p + 1) n / K)`` (rounded down), so the blocks in rank order are the rows."""
    rows = (ONE_PROCESS if group is None else group).block(n_rows)
    return slice(rows.start, rows.stop)


def load_rows(path, group=None, *, mmap: bool = True) -> np.ndarray:
    """This process's rows of a ``.npy`` file, memory-mapped read-only by default: each
    process maps the same file and reads only its rows (pages are read when touched)."""
    array = np.load(path, mmap_mode="r" if mmap else None)
    return array[shard(array.shape[0], group)]


def read_rows(path, group=None, *, decimal: str | None = None) -> Table:
    """This process's part of a CSV or Parquet file's rows, typed as one read of the whole file
    (:func:`chainrule.tables.reading.read_csv`) types them; ``first`` is the part's first row in
    the file.

    Process ``p`` of ``K`` reads only part ``p`` (:func:`chainrule.tables.reading.read_csv_block`: a
    CSV file cut at line ends near ``p / K`` of its bytes, a Parquet file by rows). The parts'
    row counts, headers and column types are exchanged (one small message per process). Every
    process must read the same file: a process whose copy's header differs from process 0's
    (other columns, the same ones in another order, a name in another Unicode encoding, for
    Parquet another column type) or whose copy has another size (another row count for
    Parquet) is refused on every process, as its columns would be matched by position or its
    part of the rows cut elsewhere. Every process then types each column as the whole file's
    read would: integers where every part
    holds integers, float64 where one holds a fraction or a gap, text where one holds text
    (a numeric part is then read again as text, so its cells keep their spelling). Should one
    part need Python's csv module (pyarrow refused it), every part is read with it.
    Numbers written with a decimal comma are read as :func:`~chainrule.tables.reading.read_csv`
    reads them (``decimal``), a column being such numbers where it is in every part.

    A compressed file is refused: its bytes cannot be cut into parts that are read apart
    (decompress it first, or read it in one process with ``read_csv``).

    Raises
    ------
    DataError
        On the first process (in rank order) whose part is bad, with the file's row number,
        or whose copy of the file differs from process 0's, naming the difference; the others
        raise :class:`ElsewhereError`, so the job reports one line. Every process refuses a
        compressed file alike; process 0 raises the DataError.
    """
    group = ONE_PROCESS if group is None else group
    engine = None
    while True:
        block, counts = _agreed(path, group, engine)
        engines = {summary[1] for summary in counts}
        if len(engines) == 1 or engine is not None:
            break
        engine = "csv"  # pyarrow refused a part: every part as read_csv's fallback reads it
    _check_same_copies(path, counts, group)
    first = sum(summary[0] for summary in counts[: group.rank])
    n_rows = sum(summary[0] for summary in counts)
    if n_rows == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    if any(summary[0] == 0 for summary in counts):
        raise DataError(
            f"{path}: {n_rows} data rows are too few to give each of {group.size} processes "
            "one; start fewer processes"
        )
    table = block.table
    text = [
        name
        for c, name in enumerate(table.columns)
        if _kind(counts, c) == "text" and block.types[c] not in (*TEXT_TYPES, "null")
    ]
    if text:  # read as text here, as the whole file's read does
        table = read_csv_block(path, group.rank, group.size, engine=block.engine, text=text).table
    data = {}
    for c, name in enumerate(table.columns):
        data[name] = _as_kind(table.data[name], _kind(counts, c))
    return with_decimal_commas(
        Table(table.path, table.columns, data, first), decimal, block.delimiter, group
    )


def _agreed(path, group, engine):
    """This process's part (:func:`~chainrule.tables.reading.read_csv_block`) and every process's
    ``(rows, engine, types, dtype kinds)``; a failure is raised by the first process that
    failed, numbered in the file."""
    block = error = None
    try:
        block = read_csv_block(path, group.rank, group.size, engine=engine)
        summary = (
            block.table.n_rows,
            block.engine,
            block.types,
            [block.table.data[name].dtype.kind for name in block.table.columns],
            (block.table.columns, _size(path)),
        )
    except DataError as failure:
        error = failure
        rows = failure.index if isinstance(failure, FieldCountError) else 0
        summary = (rows, None, None, None, str(failure))
    counts = group.collect(summary)
    failed = [rank for rank, s in enumerate(counts) if s[1] is None]
    if not failed:
        return block, counts
    if failed[0] != group.rank:
        raise ElsewhereError(f"process {failed[0]} failed reading {error or 'its part'}")
    if isinstance(error, FieldCountError):
        first = sum(s[0] for s in counts[: group.rank])
        raise FieldCountError(error.path, error.index, error.found, error.expected, first)
    raise error


def _kind(parts: list[tuple], c: int) -> str:
    """Column ``c``'s type in the whole file, from its parts' summaries (``_agreed``):
    ``'int'``, ``'float'``, ``'text'`` or ``'keep'`` (each part's text as it is)."""
    read = [(types[c], kinds[c]) for rows, _, types, kinds, _ in parts if rows]
    present = {t for t, _ in read if t != "null"}
    if present <= set(NUMERIC_TYPES):  # all-missing parts make it float, as gaps do
        return "int" if present and all(kind == "i" for _, kind in read) else "float"
    return "keep" if len(present) == 1 else "text"


def _as_kind(values: np.ndarray, kind: str) -> np.ndarray:
    if kind == "int":
        return values.astype(np.int64, copy=False)
    if kind == "float":
        return values.astype(np.float64, copy=False)
    if values.dtype != object:  # no value in this part, text in another's
        return np.full(len(values), None, dtype=object)
    return values


def _is_parquet(path) -> bool:
    return Path(path).suffix.lower() in (".parquet", ".pq")


def _size(path) -> int:
    """What two copies of one file share: a CSV file's length in bytes (its parts are cut at
    fractions of it), a Parquet file's row count (its parts are cut by rows)."""
    if not _is_parquet(path):
        return os.stat(path).st_size
    import pyarrow.parquet  # read_csv_block has just read the file with it

    with pyarrow.parquet.ParquetFile(path) as file:
        return file.metadata.num_rows


def _check_same_copies(path, parts: list[tuple], group) -> None:
    """Refuse, on every process, copies of the file that differ from process 0's (each
    process may read its own copy, on its own host): its header's names and their order, for
    Parquet the columns' types, and its size. The first process that differs raises the
    DataError naming the difference; the others an :class:`ElsewhereError`."""
    columns, size = parts[0][4]
    for rank, (_, _, types, _, (names, length)) in enumerate(parts[1:], start=1):
        difference = _header_difference(names, columns)
        if difference is None and _is_parquet(path) and types != parts[0][2]:
            c = next(c for c, (a, b) in enumerate(zip(types, parts[0][2], strict=True)) if a != b)
            difference = f"its column {names[c]!r} is {types[c]}, rank 0's is {parts[0][2][c]}"
        if difference is None and length != size:
            unit = "rows" if _is_parquet(path) else "bytes"
            difference = f"it holds {length} {unit}, rank 0's {size}"
        if difference is None:
            continue
        if rank != group.rank:
            raise ElsewhereError(f"rank {rank}'s copy of {path} differs from rank 0's")
        raise DataError(
            f"{path}: rank {rank}'s copy of the file differs from rank 0's: {difference}; every "
            "rank must read the same file"
        )


def _header_difference(names: list[str], reference: list[str]) -> str | None:
    """How a header differs from ``reference`` (rank 0's), in words; None when it does not."""
    if names == reference:
        return None
    extra = [name for name in names if name not in reference]
    lacking = [name for name in reference if name not in names]
    if not extra and not lacking:
        c = next(c for c, (a, b) in enumerate(zip(names, reference, strict=True)) if a != b)
        return (
            f"its header lists the same columns in another order: column {c + 1} is "
            f"{names[c]!r} in it, {reference[c]!r} in rank 0's"
        )
    said = []
    if extra:
        said.append(f"its header has {_listed(extra)} that rank 0's lacks")
    if lacking:
        said.append(f"{'it' if extra else 'its header'} lacks {_listed(lacking)} of rank 0's")
    encodings = [
        f"{ascii(a)} and {ascii(b)} are one name in two Unicode encodings"
        for a in extra
        for b in lacking
        if unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)
    ]
    return " and ".join(said) + (f" ({'; '.join(encodings[:3])})" if encodings else "")


def _listed(names: list[str], most: int = 5) -> str:
    """``the column 'a'``, ``the columns 'a', 'b'``, or the first ``most`` and a count."""
    shown = ", ".join(map(repr, names[:most]))
    if len(names) > most:
        shown += f" and {len(names) - most} more"
    return f"the column {shown}" if len(names) == 1 else f"the columns {shown}"
