"""Each process's share of the rows: a block of an array, of a memory-mapped .npy file, or of
a CSV or Parquet file."""

from __future__ import annotations

import numpy as np

from ..tables.reading import DataError, FieldCountError, Table, read_csv_block
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


def read_rows(path, group=None) -> Table:
    """This process's part of a CSV or Parquet file's rows, typed as one read of the whole file
    (:func:`chainrule.tables.reading.read_csv`) types them; ``first`` is the part's first row in
    the file.

    Process ``p`` of ``K`` reads only part ``p`` (:func:`chainrule.tables.reading.read_csv_block`: a
    CSV file cut at line ends near ``p / K`` of its bytes, a Parquet file by rows). The parts'
    row counts and column types are exchanged (one small message per process), and every
    process then types each column as the whole file's read would: integers where every part
    holds integers, float64 where one holds a fraction or a gap, text where one holds text
    (a numeric part is then read again as text, so its cells keep their spelling). Should one
    part need Python's csv module (pyarrow refused it), every part is read with it.

    Raises
    ------
    DataError
        On the first process (in rank order) whose part is bad, with the file's row number;
        the others raise :class:`ElsewhereError`, so the job reports one line.
    """
    group = ONE_PROCESS if group is None else group
    engine = None
    while True:
        block, counts = _agreed(path, group, engine)
        engines = {summary[1] for summary in counts}
        if len(engines) == 1 or engine is not None:
            break
        engine = "csv"  # pyarrow refused a part: every part as read_csv's fallback reads it
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
    return Table(table.path, table.columns, data, first)


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
        )
    except DataError as failure:
        error = failure
        rows = failure.index if isinstance(failure, FieldCountError) else 0
        summary = (rows, None, None, None, str(failure))
    counts = group.collect(summary)
    failed = [rank for rank, s in enumerate(counts) if len(s) == 5]
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
    read = [(types[c], kinds[c]) for rows, _, types, kinds in parts if rows]
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
