"""CSV text to numpy columns with pyarrow, a few megabytes at a time.

pyarrow's whole-file reader keeps the file's blocks and the Arrow table, and converting that
table to numpy copies it once more: about five times the parsed data at its peak. Here the text
is cut at line ends into chunks of about :data:`CHUNK_BYTES`; each chunk is parsed by
``pyarrow.csv.read_csv`` (multithreaded within the chunk) and its columns are copied straight
into numpy columns allocated once for the whole file, so memory stays near the parsed data.

Each chunk's column types are inferred anew, and combined as the whole-file reader combines
them: int64 while every value is a whole number and none is missing, float64 (NaN for the
missing) once a fraction or a missing value appears, text once any value is not a number. Text
keeps every field as written, so a column that turns out to be text after numbers were read is
read again from the start as text (numbers cannot be turned back into their spelling); a column
that was all missing until then just starts being text. Booleans, dates and times are read as
text too, as written (pyarrow would respell ``True``, ``1`` or ``2020-01-01``).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

CHUNK_BYTES = 2 << 20  # text parsed per read_csv call: bounds the memory beyond the columns
BLOCK_BYTES = 512 << 10  # pyarrow's block within a chunk: the unit its threads share


class Unparsed(Exception):
    """pyarrow refused the text (a malformed row, invalid UTF-8): let the csv module name why."""


class _ReadAsText(Exception):
    """A column held numbers, then text: read everything again with it as text."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def read_columns(
    source,
    header: list[str],
    delimiter: str,
    skip_rows: int,
    null_values: list[str],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    block_bytes: int = BLOCK_BYTES,
) -> dict[str, np.ndarray]:
    """The columns of CSV text as numpy arrays: int64, float64 or object (str, None if missing).

    ``source`` is a path or a bytes-like object; ``skip_rows`` lines (blank lines, the header)
    come before the data, whose fields are named by ``header``.

    Raises
    ------
    Unparsed
        Where pyarrow refuses the text.
    """
    text: set[str] = set()
    while True:
        try:
            return _read(
                source, header, delimiter, skip_rows, null_values, text, chunk_bytes, block_bytes
            )
        except _ReadAsText as found:
            text.add(found.name)


def _read(source, header, delimiter, skip_rows, null_values, text, chunk_bytes, block_bytes):
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    read_options = dict(column_names=header, block_size=block_bytes)
    parse_options = arrow_csv.ParseOptions(delimiter=delimiter)
    pool = pa.system_memory_pool()  # freed chunks go back to malloc, not into a retained arena
    columns = _Columns(header, text)
    with _binary(source) as (stream, size):
        for number, chunk in enumerate(_line_chunks(stream, chunk_bytes)):
            while True:
                convert_options = arrow_csv.ConvertOptions(
                    null_values=null_values,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    column_types={name: pa.string() for name in columns.text},
                )
                try:
                    arrow = arrow_csv.read_csv(
                        pa.py_buffer(chunk),
                        read_options=arrow_csv.ReadOptions(
                            skip_rows=skip_rows if number == 0 else 0, **read_options
                        ),
                        parse_options=parse_options,
                        convert_options=convert_options,
                        memory_pool=pool,
                    )
                except pa.ArrowInvalid as error:
                    raise Unparsed(str(error)) from None
                if columns.add(arrow, estimate=_estimate(arrow.num_rows, len(chunk), size)):
                    break  # else a column newly read as text: parse this chunk again
    return columns.trimmed()


def _estimate(rows: int, chunk_bytes: int, size: int) -> int:
    """The file's rows, estimated from its first chunk (the columns grow if it is short)."""
    return int(1.05 * rows * size / chunk_bytes) + 1024


class _binary:
    """A path or bytes opened for reading, with its size in bytes."""

    def __init__(self, source):
        self.source = source
        self.opened = None

    def __enter__(self):
        source = self.source
        if isinstance(source, (str, Path)):
            self.opened = open(source, "rb")  # noqa: SIM115 (closed in __exit__)
            return self.opened, os.fstat(self.opened.fileno()).st_size
        if isinstance(source, (bytes, bytearray, memoryview)):
            return io.BytesIO(source), memoryview(source).nbytes
        raise TypeError(f"expected a path or bytes, got {type(source).__name__}")

    def __exit__(self, *exc):
        if self.opened is not None:
            self.opened.close()


def _line_chunks(stream, size: int):
    """The stream's bytes as consecutive views of at most about ``size`` bytes (more for a
    longer line), each ending at a line end, the last at the stream's end. A view is valid
    until the next one is taken: one buffer is reused throughout."""
    data = bytearray(size)
    view = memoryview(data)
    kept = 0  # bytes after the last line end, moved to the front for the next chunk
    while True:
        read = stream.readinto(view[kept:])
        end = kept + read
        if not read:
            if kept:
                yield view[:kept]
            return
        cut = max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end)) + 1
        if cut == 0:  # no line end yet: a longer buffer
            data = data + bytes(len(data))
            view = memoryview(data)
            kept = end
            continue
        yield view[:cut]
        data[: end - cut] = data[cut:end]
        kept = end - cut


class _Columns:
    """Numpy columns filled chunk after chunk, their types widened as the chunks require."""

    def __init__(self, header: list[str], text: set[str]):
        self.header = header
        self.text = set(text)  # columns parsed as text
        self.arrays: dict[str, np.ndarray] = {}
        self.present: dict[str, bool] = dict.fromkeys(header, False)  # any value so far
        self.rows = 0

    def add(self, arrow, estimate: int) -> bool:
        """Append a chunk's Arrow table; False when a column must be parsed as text first.

        Raises
        ------
        _ReadAsText
            For a column that held values in earlier chunks and holds text in this one.
        Unparsed
            For a column pyarrow read as binary (not UTF-8).
        """
        if arrow.num_rows == 0:
            return True
        kinds = {name: _kind(arrow.column(name).type) for name in self.header}
        newly_text = [n for n, k in kinds.items() if k in ("text", "other") and n not in self.text]
        for name in newly_text:
            if self.present[name]:
                raise _ReadAsText(name)
            self.text.add(name)
        if any(kinds[name] == "other" for name in newly_text):
            return False  # booleans, dates...: parse the chunk again to have them as written
        if not self.arrays:
            self._allocate(arrow, kinds, max(estimate, arrow.num_rows))
        stop = self.rows + arrow.num_rows
        capacity = len(self.arrays[self.header[0]])
        if stop > capacity:
            self._grow(max(stop, 2 * capacity))
        for name in self.header:
            self._put(name, kinds[name], arrow.column(name))
        self.rows = stop
        return True

    def _allocate(self, arrow, kinds, size: int):
        for name in self.header:
            if name in self.text:
                self.arrays[name] = np.full(size, None, dtype=object)
            elif kinds[name] == "int" and arrow.column(name).null_count == 0:
                self.arrays[name] = np.empty(size, dtype=np.int64)
            else:
                self.arrays[name] = np.empty(size, dtype=np.float64)

    def _grow(self, size: int):
        for values in self.arrays.values():
            old = len(values)
            values.resize(size, refcheck=False)  # realloc: in place where it can be
            if values.dtype == object:
                values[old:] = None

    def _put(self, name: str, kind: str, column):
        start, out = self.rows, self.arrays[name]
        if name in self.text and out.dtype != object:  # all missing so far: now text
            out = self.arrays[name] = np.full(len(out), None, dtype=object)
        elif out.dtype == np.int64 and (kind != "int" or column.null_count):
            wider = np.empty(len(out), dtype=np.float64)  # a fraction or a gap: float64
            wider[:start] = out[:start]
            out = self.arrays[name] = wider
        if kind == "null":
            out[start : start + len(column)] = None if out.dtype == object else np.nan
            return
        for piece in column.chunks:
            stop = start + len(piece)
            out[start:stop] = piece.to_numpy(zero_copy_only=False)
            start = stop
        self.present[name] = self.present[name] or column.null_count < len(column)

    def trimmed(self) -> dict[str, np.ndarray]:
        """The columns, as long as the rows read."""
        for values in self.arrays.values():
            values.resize(self.rows, refcheck=False)
        return self.arrays


def _kind(arrow_type) -> str:
    """'int', 'float', 'null' (all missing), 'text' or 'other' (booleans, dates, times)."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_null(arrow_type):
        return "null"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        raise Unparsed("not UTF-8 text")
    return "other"
