"""CSV text to numpy columns with pyarrow, a few megabytes at a time.

pyarrow's whole-file reader keeps the file's blocks and the Arrow table, and converting that
table to numpy copies it once more: about five times the parsed data at its peak. Here the text
is cut at line ends into chunks of about :data:`CHUNK_BYTES`; each chunk is parsed by
``pyarrow.csv.read_csv`` (multithreaded within the chunk) and its columns are copied straight
into numpy columns allocated once for the whole file, so memory stays near the parsed data.

Each chunk's column types are inferred anew, and combined as the whole-file reader combines
them: int64 while every value is an integer and none is missing, float64 (NaN for the
missing) once a fraction or a missing value appears, text once any value is not a number. Text
keeps every field as written, so a column that turns out to be text after numbers were read is
read again from the start as text (numbers cannot be turned back into their spelling); a column
that was all missing until then just starts being text. Booleans, dates and times are read as
text too, as written (pyarrow would respell ``True``, ``1`` or ``2020-01-01``).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import numpy as np

__all__ = ["BLOCK_BYTES", "CHUNK_BYTES", "Unparsed", "numeric_values", "read_columns"]

CHUNK_BYTES = 4 << 20  # text parsed per read_csv call: bounds the memory beyond the columns
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
    text=(),
    chunk_bytes: int = CHUNK_BYTES,
    block_bytes: int = BLOCK_BYTES,
) -> dict[str, np.ndarray]:
    """The columns of CSV text as numpy arrays: int64, float64 or object (str, None if missing).

    ``source`` is a path or a bytes-like object; ``skip_rows`` lines (blank lines, the header)
    come before the data, whose fields are named by ``header``; the columns named in ``text``
    are read as text whatever they hold.

    Raises
    ------
    Unparsed
        Where pyarrow refuses the text.
    """
    text = set(text)
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

    def parse(chunk, block_size: int):
        return arrow_csv.read_csv(
            pa.py_buffer(chunk),
            read_options=arrow_csv.ReadOptions(column_names=header, block_size=block_size),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter),
            convert_options=arrow_csv.ConvertOptions(
                null_values=null_values,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                column_types={name: pa.string() for name in columns.text},
            ),
            memory_pool=pa.system_memory_pool(),  # freed memory back to malloc, not kept
        )

    with _opened(source) as (stream, size):
        columns = _Columns(header, text, size)
        for chunk in _line_chunks(stream, chunk_bytes, skip_rows):
            arrow = None  # parsed again while a column is newly found to be text
            while arrow is None or not columns.add(arrow, len(chunk)):
                try:
                    arrow = parse(chunk, block_bytes)
                except pa.ArrowInvalid:  # a row longer than a block? the chunk as one block
                    try:
                        arrow = parse(chunk, len(chunk) + 1)
                    except pa.ArrowInvalid as error:
                        raise Unparsed(str(error)) from None
    return columns.trimmed()


@contextlib.contextmanager
def _opened(source):
    """A path or bytes as a binary stream, with its size in bytes."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as stream:
            yield stream, os.fstat(stream.fileno()).st_size
    elif isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        yield _ViewReader(view), view.nbytes
    else:
        raise TypeError(f"expected a path or bytes, got {type(source).__name__}")


class _ViewReader:
    """A bytes-like object read as a binary stream without copying it (``io.BytesIO`` copies a
    memoryview, such as one process's mapped part of a file, whole)."""

    def __init__(self, view: memoryview):
        self.view, self.position = view, 0

    def readinto(self, buffer) -> int:
        count = min(len(buffer), len(self.view) - self.position)
        buffer[:count] = self.view[self.position : self.position + count]
        self.position += count
        return count


_LINE_END = re.compile(rb"\r\n?|\n")


def _line_chunks(stream, size: int, skip_lines: int):
    """The stream's bytes after its first ``skip_lines`` lines, as consecutive views of about
    ``size`` bytes (more for a longer line), each ending at a line end (``\\n``, ``\\r\\n`` or
    ``\\r``, as the csv module counts lines), the last at the stream's end. A view is valid until
    the next one is taken: one buffer is reused throughout."""
    data = bytearray(size)
    view = memoryview(data)
    kept = 0  # bytes not yet given out, moved to the front before the next read
    at_end = False
    while not at_end:
        end = kept + stream.readinto(view[kept:])
        at_end = end == kept
        start = 0
        while skip_lines:
            line_end = _LINE_END.search(data, start, end)
            if line_end is None or (
                not at_end and line_end.end() == end and data[end - 1 : end] == b"\r"
            ):
                break  # no line end yet, or a \r that a \n may follow
            start, skip_lines = line_end.end(), skip_lines - 1
        if at_end:
            if end > start and not skip_lines:
                yield view[start:end]
            return
        cut = (data.rfind(b"\n", start, end) + 1) or (data.rfind(b"\r", start, end) + 1)
        if skip_lines or not cut:
            cut = start  # no line end after the skipped lines yet: keep the rest for later
        else:
            yield view[start:cut]
        data[: end - cut] = data[cut:end]
        kept = end - cut
        if kept == len(data):  # a line longer than the buffer: a longer buffer
            data = data + bytes(len(data))
            view = memoryview(data)


class _Columns:
    """Numpy columns filled chunk after chunk, their types widened as the chunks require."""

    def __init__(self, header: list[str], text: set[str], size: int):
        self.header = header
        self.size = size  # of the text, in bytes
        self.text = set(text)  # columns parsed as text
        self.arrays: dict[str, np.ndarray] = {}
        self.present: dict[str, bool] = dict.fromkeys(header, False)  # any value so far
        self.rows = 0

    def add(self, arrow, chunk_bytes: int) -> bool:
        """Append the Arrow table of a chunk of ``chunk_bytes`` bytes; False when a column must be
        parsed as text first.

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
            # rows estimated from the first chunk, 5% more; the columns grow if that is short
            self._allocate(arrow, kinds, int(1.05 * len(arrow) * self.size / chunk_bytes) + 1024)
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
            out[start:stop] = piece.to_pylist() if kind == "text" else numeric_values(piece, kind)
            start = stop
        self.present[name] = self.present[name] or column.null_count < len(column)

    def trimmed(self) -> dict[str, np.ndarray]:
        """The columns, as long as the rows read."""
        for values in self.arrays.values():
            values.resize(self.rows, refcheck=False)
        return self.arrays


def numeric_values(piece, kind: str) -> np.ndarray:
    """An int64 or float64 Arrow array as numpy (float64, NaN where missing, if any is), read
    from its buffers: ``Array.to_numpy`` would import pandas (seconds, tens of megabytes)."""
    dtype = np.int64 if kind == "int" else np.float64
    values = np.frombuffer(piece.buffers()[1], dtype, count=len(piece), offset=8 * piece.offset)
    if not piece.null_count:
        return values
    bits = np.frombuffer(piece.buffers()[0], np.uint8)
    valid = np.unpackbits(bits, count=piece.offset + len(piece), bitorder="little")
    return np.where(valid[piece.offset :].view(bool), values, np.nan)


def _kind(arrow_type) -> str:
    """'int', 'float', 'null' (all missing), 'text' or 'other' (booleans, dates, times)."""
    import pyarrow as pa

    if pa.types.is_int64(arrow_type):  # the CSV reader's only integer type
        return "int"
    if pa.types.is_float64(arrow_type):  # and its only floating-point one
        return "float"
    if pa.types.is_null(arrow_type):
        return "null"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        raise Unparsed("not UTF-8 text")
    return "other"
