"""CSV text to numpy columns with pyarrow, a few megabytes at a time.

pyarrow's whole-file reader keeps the file's blocks and the Arrow table, and converting that
table to numpy copies it once more: about five times the parsed data at its peak. Here the text
is cut at the ends of records into chunks of about :data:`CHUNK_BYTES`; each chunk is parsed by
``pyarrow.csv.read_csv`` (multithreaded within the chunk) and its columns are copied straight
into numpy columns allocated once for the whole file, so memory stays near the parsed data.

Each chunk's column types are inferred anew, and combined as the whole-file reader combines
them: int64 while every value is an integer and none is missing, float64 (NaN for the
missing) once a fraction or a missing value appears, text once any value is not a number. Text
keeps every field as written, so a column that turns out to be text after numbers were read is
read again from the start as text (numbers cannot be turned back into their spelling); a column
that was all missing until then just starts being text. Booleans, dates and times are read as
text too, as written (pyarrow would respell ``True``, ``1`` or ``2020-01-01``).

A cut between two chunks falls only between two records: a line end inside a quoted field (a
note written with a line break in it) is part of the field, as the csv module reads it.

Both readers type a field alike, value for value: the csv module's
(:func:`chainrule.tables.reading.read_csv` without pyarrow) follows :data:`INTEGER` and
:data:`NUMBER`, pyarrow's own grammar, and this module adjusts pyarrow where it differs from
them. Every field loses the spaces and tabs around it (pyarrow keeps them around text); a
missing spelling is recognised in any case and with spaces around it (pyarrow matches it
exactly), so a column of numbers with a cell ``' NA'`` is still numbers; a hexadecimal
``0x1F`` is text (pyarrow reads it as a number, ``0xFFFFFFFFFFFFFFFF`` as -1).

A compressed file (gzip, bz2, xz, zstd), recognised by its first bytes (:func:`compression_of`,
whatever its name), is read through a decompressing stream (:func:`open_binary`): the chunks
come from it as they come from a plain file, so memory stays as bounded as for the plain text.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import re
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "BLOCK_BYTES",
    "CHUNK_BYTES",
    "COMPRESSIONS",
    "CompressionError",
    "INTEGER",
    "NUMBER",
    "SPACE",
    "Unparsed",
    "compression_of",
    "numeric_values",
    "open_binary",
    "open_text",
    "read_columns",
]

CHUNK_BYTES = 4 << 20  # text parsed per read_csv call: bounds the memory beyond the columns
BLOCK_BYTES = 512 << 10  # pyarrow's block within a chunk: the unit its threads share

#: The characters removed around every field, as pyarrow ignores them around a number.
SPACE = " \t"
#: A field read as an integer (int64 when it fits, else float64): decimal digits, a minus sign
#: at most (pyarrow reads ``+1`` as a float).
INTEGER = re.compile(r"-?[0-9]+")
#: A field read as a number (float64 unless :data:`INTEGER`), as pyarrow parses doubles.
NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
)  # letters spelled out: no case folding beyond ASCII (re.I matches 'ı' to 'i'), here or in RE2

_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")
_THREADED_BYTES = 1024  # a chunk's bytes per column from which pyarrow converts in threads


class Unparsed(Exception):
    """pyarrow refused the text (a malformed row, invalid UTF-8): let the csv module name why."""


class _ReadAsText(Exception):
    """A column held numbers, then text: read everything again with it as text."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


#: The compressions read directly, by a file's first bytes (its name plays no part), each with
#: the command that decompresses such a file by hand.
COMPRESSIONS = {
    "gzip": (b"\x1f\x8b", "gunzip"),
    "bz2": (b"BZh", "bunzip2"),
    "xz": (b"\xfd7zXZ\x00", "unxz"),
    "zstd": (b"\x28\xb5\x2f\xfd", "unzstd"),
}
# a bz2 stream: "BZh", the block size, then a block's magic (or the end of an empty stream's)
_BZ2_START = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")


class CompressionError(ValueError):
    """A compressed file that cannot be read (damaged, cut short, or zstd without a zstd
    decompressor installed); the message names the file."""


def compression_of(path) -> str | None:
    """The compression of the file at ``path`` by its first bytes (a key of
    :data:`COMPRESSIONS`), or None for a file that is not compressed."""
    with open(path, "rb") as stream:
        start = stream.read(10)
    for name, (magic, _) in COMPRESSIONS.items():
        if start.startswith(magic) and (name != "bz2" or _BZ2_START.match(start)):
            return name
    return None


@contextlib.contextmanager
def open_binary(path):
    """The file at ``path`` as a binary stream of its text, decompressed as it is read where
    the file is compressed (:func:`compression_of`), with the text's size in bytes (for a
    compressed file an estimate, :func:`_size_estimate`)."""
    compression = compression_of(path)
    if compression is None:
        with open(path, "rb") as stream:
            yield stream, os.fstat(stream.fileno()).st_size
        return
    with io.BufferedReader(_Decompressing(path, compression), 1 << 16) as stream:
        yield stream, _size_estimate(path, compression)


def open_text(path):
    """The file at ``path`` as UTF-8 text for the csv module (a BOM skipped, line ends kept),
    decompressed as it is read where the file is compressed."""
    compression = compression_of(path)
    if compression is None:
        return open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (a context)
    raw = io.BufferedReader(_Decompressing(path, compression), 1 << 16)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


class _Decompressing(io.RawIOBase):
    """A compressed file's text as a raw stream; a decompressor's failure (damaged data, a file
    cut short) is a :class:`CompressionError` naming the file."""

    def __init__(self, path, compression: str):
        super().__init__()
        self.path, self.compression = path, compression
        self.inner, self.errors = _decompressor(path, compression)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            return self.inner.readinto(buffer)
        except self.errors as error:
            raise CompressionError(
                f"{self.path}: not a CSV text file: it is {self.compression}-compressed, and "
                f"the compressed data is damaged or cut short ({error})"
            ) from None

    def close(self) -> None:
        if not self.closed:
            self.inner.close()
        super().close()


# what a decompressor raises on damaged data, besides its own error class
_DAMAGED = (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)


def _decompressor(path, compression: str):
    """A binary stream of the decompressed file, and the errors it raises on damaged data."""
    if compression == "gzip":
        return gzip.open(path, "rb"), _DAMAGED
    if compression == "bz2":
        return bz2.open(path, "rb"), _DAMAGED
    if compression == "xz":
        return lzma.open(path, "rb"), _DAMAGED
    return _zstd_reader(path)


def _zstd_reader(path):
    """A zstd-compressed file's decompressed stream, by Python's ``compression.zstd`` (3.14),
    the ``zstandard`` module or pyarrow's zstd codec, the first there; a
    :class:`CompressionError` naming what to install where none is."""
    try:
        from compression import zstd

        return zstd.open(path, "rb"), (*_DAMAGED, zstd.ZstdError)
    except ImportError:
        pass
    try:
        import zstandard

        stream = open(path, "rb")  # noqa: SIM115 (closed with the reader)
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        return reader, (*_DAMAGED, zstandard.ZstdError)
    except ImportError:
        pass
    try:
        import pyarrow as pa

        if pa.Codec.is_available("zstd"):
            stream = pa.CompressedInputStream(pa.OSFile(os.fspath(path)), "zstd")
            return stream, (*_DAMAGED, pa.ArrowException)
    except ImportError:
        pass
    raise CompressionError(
        f"{path}: it is zstd-compressed, and reading zstd needs the zstandard module: pip "
        f"install zstandard (or Python 3.14 or pyarrow); or decompress it first: unzstd {path}"
    )


def _size_estimate(path, compression: str) -> int:
    """The size of a compressed file's text, which the columns are first allocated for (they
    grow where it is short): gzip records it (modulo 2**32) in its last four bytes; for the
    others, or where that is below the compressed size (beyond 4 GiB, or several members),
    four times the compressed size, a usual ratio for CSV text."""
    size = os.path.getsize(path)
    if compression == "gzip" and size >= 4:
        with open(path, "rb") as stream:
            stream.seek(-4, os.SEEK_END)
            recorded = int.from_bytes(stream.read(4), "little")
        if recorded >= size:
            return recorded
    return 4 * size


def read_columns(
    source,
    header: list[str],
    delimiter: str,
    skip_rows: int,
    null_values: list[str],
    *,
    text=(),
    columns=None,
    chunk_bytes: int | None = None,
    block_bytes: int | None = None,
) -> dict[str, np.ndarray]:
    """The columns of CSV text as numpy arrays: int64, float64 or object (str, None if missing).

    ``source`` is a path or a bytes-like object; ``skip_rows`` lines (blank lines, the header)
    come before the data, whose fields are named by ``header``; a field equal to one of
    ``null_values`` once the spaces and tabs around it are removed is missing; the columns
    named in ``text`` are read as text whatever they hold; ``columns`` names the columns
    returned (default: all). ``chunk_bytes`` and ``block_bytes`` default to
    :data:`CHUNK_BYTES` and :data:`BLOCK_BYTES`, read at each call.

    Raises
    ------
    Unparsed
        Where pyarrow refuses the text.
    """
    text = set(text)
    wanted = list(header if columns is None else columns)
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    while True:
        try:
            return _read(
                source, header, delimiter, skip_rows, null_values, text, wanted, chunk_bytes,
                block_bytes,
            )  # fmt: skip
        except _ReadAsText as found:
            text.add(found.name)


def _read(
    source, header, delimiter, skip_rows, null_values, text, wanted, chunk_bytes, block_bytes
):
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    # pyarrow matches each column's fields against its null values one by one: the usual
    # spellings here (nan, NaN, NAN), any other (nAn) once the column is text (_cleaned)
    usual = [v for v in null_values if v in (v.lower(), v.upper(), v.title())]

    def parse(chunk, block_size: int, quoted: bool):
        return arrow_csv.read_csv(
            pa.py_buffer(chunk),
            read_options=arrow_csv.ReadOptions(
                column_names=header,
                block_size=block_size,
                # threads that convert a few fields each cost more than they save
                use_threads=len(chunk) >= _THREADED_BYTES * len(header),
            ),
            # a line end inside a quoted field: pyarrow's blocks must not cut there either
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, newlines_in_values=quoted),
            convert_options=arrow_csv.ConvertOptions(
                include_columns=[] if wanted == header else wanted,  # []: all
                null_values=usual,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                column_types={name: pa.string() for name in columns.text | columns.typed_here},
            ),
            memory_pool=pa.system_memory_pool(),  # freed memory back to malloc, not kept
        )

    with _opened(source) as (stream, size):
        columns = _Columns(wanted, text, size, null_values)
        for chunk, quoted, hexadecimal in _record_chunks(
            stream, chunk_bytes, skip_rows, ord(delimiter)
        ):
            columns.start_chunk(hexadecimal=hexadecimal)
            arrow = None  # parsed again while a column is newly found to be text
            while arrow is None or not columns.add(arrow, len(chunk)):
                try:  # pyarrow's blocks cut quoted fields badly (the \n of a quoted \r\n at a
                    # block's end is lost): a chunk with quotes is one block
                    arrow = parse(chunk, len(chunk) + 1 if quoted else block_bytes, quoted)
                except pa.ArrowInvalid:  # a row longer than a block? the chunk as one block
                    try:
                        arrow = parse(chunk, len(chunk) + 1, quoted)
                    except pa.ArrowInvalid as error:
                        raise Unparsed(str(error)) from None
    return columns.trimmed()


@contextlib.contextmanager
def _opened(source):
    """A path (decompressed where the file is compressed: :func:`open_binary`) or bytes as a
    binary stream, with its size in bytes."""
    if isinstance(source, (str, Path)):
        with open_binary(source) as (stream, size):
            yield stream, size
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


def _record_chunks(stream, size: int, skip_lines: int, delimiter: int):
    """The stream's bytes after its first ``skip_lines`` lines, as consecutive views of about
    ``size`` bytes (more for a longer record), each ending at the end of a record (a line end,
    ``\\n``, ``\\r\\n`` or ``\\r``, outside quotes: :func:`_record_end`), the last at the
    stream's end; each with its :func:`_marks`. A view is valid until the next one is taken:
    one buffer is reused throughout."""
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
                yield view[start:end], *_marks(data, start, end)
            return
        cut = 0 if skip_lines else _record_end(data, start, end, delimiter)
        if not cut:
            cut = start  # no whole record after the skipped lines yet: keep the rest for later
        else:
            yield view[start:cut], *_marks(data, start, cut)
        data[: end - cut] = data[cut:end]
        kept = end - cut
        if kept == len(data):  # a record longer than the buffer: a longer buffer
            data = data + bytes(len(data))
            view = memoryview(data)


def _marks(data, start: int, end: int) -> tuple[bool, bool]:
    """Whether ``data[start:end]`` holds a quote, and whether it holds ``0x`` or ``0X`` (pyarrow
    reads 0x1F as an integer: the integer columns of such a chunk are typed here)."""
    hexadecimal = any(  # memchr for the letter first: far faster than a search for "0x"
        data.find(x, start, end) >= 0 and data.find(b"0" + x, start, end) >= 0 for x in (b"x", b"X")
    )
    return data.find(b'"', start, end) >= 0, hexadecimal


def _record_end(data, start: int, end: int, delimiter: int) -> int:
    """Where the last whole record of ``data[start:end]`` ends (after its line end), or 0 where
    none does. ``start`` is a record's start. A line end inside a quoted field belongs to the
    field: a quote opens a field only at the field's start, and inside it ``""`` is a quote."""
    if data.find(b'"', start, end) < 0:  # no quotes: every line end ends a record
        return (data.rfind(b"\n", start, end) + 1) or (data.rfind(b"\r", start, end) + 1)
    toggles = _quote_toggles(np.frombuffer(data, np.uint8, end - start, start), delimiter)
    for line_end in (b"\n", b"\r"):
        position = data.rfind(line_end, start, end)
        while position >= 0:
            before = int(np.searchsorted(toggles, position - start))  # quotes that toggle
            if before % 2 == 0:
                return position + 1
            opened = start + int(toggles[before - 1])  # the field holding it: look before it
            position = data.rfind(line_end, start, opened)
    return 0


def _quote_toggles(text: np.ndarray, delimiter: int) -> np.ndarray:
    """The positions in ``text`` (which starts a record) of the quotes that open or close a
    quoted field, in order: a line end is outside every quoted field where an even number of
    them come before it. In a file whose quotes all open a field, close it or come in pairs
    inside it (``""``), every quote counts, found at once; where some quote is part of an
    unquoted field (``5'11"``), the quotes are followed one by one, as the csv module and
    pyarrow read them."""
    quotes = np.flatnonzero(text == _QUOTE)
    before = text[np.maximum(quotes - 1, 0)]
    opens = (before == delimiter) | (before == _LF) | (before == _CR) | (quotes == 0)
    follows = np.zeros(len(quotes), dtype=bool)
    follows[1:] = quotes[1:] - 1 == quotes[:-1]  # right after the quote before it
    if np.all((opens | follows)[0::2]):  # each quote that would open a field can open it
        return quotes
    toggles, inside, k = [], False, 0
    positions, opens = quotes.tolist(), opens.tolist()
    while k < len(positions):
        if not inside:  # a quote within an unquoted field is a character of it
            if opens[k]:
                toggles.append(positions[k])
                inside = True
        elif k + 1 < len(positions) and positions[k + 1] == positions[k] + 1:
            k += 1  # "" inside a quoted field: one quote character
        else:
            toggles.append(positions[k])
            inside = False
        k += 1
    return np.array(toggles, dtype=np.int64)


class _Columns:
    """Numpy columns filled chunk after chunk, their types widened as the chunks require."""

    def __init__(self, header: list[str], text: set[str], size: int, null_values: list[str]):
        self.header = header
        self.size = size  # of the text, in bytes
        self.text = set(text)  # columns parsed as text
        self.typed_here: set[str] = set()  # parsed as text in this chunk, typed by _retyped
        self.hexadecimal = False  # this chunk holds "0x": its integer columns are checked
        self.null_values = null_values
        self.arrays: dict[str, np.ndarray] = {}
        self.present: dict[str, bool] = dict.fromkeys(header, False)  # any value so far
        self.rows = 0

    def start_chunk(self, *, hexadecimal: bool) -> None:
        """A new chunk, holding ``0x`` somewhere or not."""
        self.typed_here = set()
        self.hexadecimal = hexadecimal

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
        if self.hexadecimal:  # pyarrow reads 0x1F as 31: such columns are typed here instead
            suspects = [n for n in self.header if kinds[n] == "int" and n not in self.typed_here]
            if suspects:
                self.typed_here.update(suspects)
                return False
        values = {}
        for name in self.header:
            values[name] = arrow.column(name)
            if kinds[name] == "text":
                values[name] = _cleaned(values[name], self.null_values)
                if name not in self.text:  # text to pyarrow, maybe numbers once cleaned
                    kinds[name], values[name] = _retyped(values[name])
        newly_text = [n for n, k in kinds.items() if k in ("text", "other") and n not in self.text]
        for name in newly_text:
            if self.present[name]:
                raise _ReadAsText(name)
            self.text.add(name)
        if any(kinds[name] == "other" for name in newly_text):
            return False  # booleans, dates...: parse the chunk again to have them as written
        if not self.arrays:
            # rows estimated from the first chunk, 5% more; the columns grow if that is short
            self._allocate(values, kinds, int(1.05 * len(arrow) * self.size / chunk_bytes) + 1024)
        stop = self.rows + arrow.num_rows
        capacity = len(self.arrays[self.header[0]])
        if stop > capacity:
            self._grow(max(stop, 2 * capacity))
        for name in self.header:
            self._put(name, kinds[name], values[name])
        self.rows = stop
        return True

    def _allocate(self, values, kinds, size: int):
        for name in self.header:
            if name in self.text:
                self.arrays[name] = np.full(size, None, dtype=object)
            elif kinds[name] == "int" and values[name].null_count == 0:
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


_INTEGER_FIELD = f"^(?:{INTEGER.pattern})$"  # the patterns for pyarrow's regular expressions
_NUMBER_FIELD = f"^(?:{NUMBER.pattern})$"


def _cleaned(column, null_values: list[str]):
    """A column of text without the spaces and tabs around each field (:data:`SPACE`), a field
    that is then one of ``null_values`` missing. (``pa.array`` and ``pa.scalar`` import pandas,
    seconds and tens of megabytes: the Arrow values are built from buffers.)"""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pc.utf8_trim(column, characters=SPACE)
    if not null_values:
        return column
    encoded = [value.encode() for value in null_values]
    offsets = np.cumsum([0, *map(len, encoded)], dtype=np.int32)
    spellings = pa.StringArray.from_buffers(
        len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))
    )
    missing = pc.is_in(column, value_set=spellings)
    return pc.if_else(missing, pa.nulls(len(column), column.type), column)


def _retyped(column) -> tuple[str, object]:
    """The kind of a cleaned column of text (:func:`_cleaned`) and the column as that kind, as
    the csv module's reader types it: 'int' where every present field is an
    :data:`INTEGER` within int64, 'float' where each is a :data:`NUMBER`, 'null' where none is
    present, else 'text'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count == len(column):
        return "null", column
    if pc.all(pc.match_substring_regex(column, pattern=_INTEGER_FIELD)).as_py():
        try:
            return "int", column.cast(pa.int64())
        except pa.ArrowInvalid:  # beyond int64: a float, as pyarrow reads such a number
            pass
    if pc.all(pc.match_substring_regex(column, pattern=_NUMBER_FIELD)).as_py():
        return "float", column.cast(pa.float64())
    return "text", column
