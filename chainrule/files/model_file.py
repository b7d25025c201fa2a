"""Model files: ``.npz`` archives with a JSON header, read with ``allow_pickle=False`` and written
atomically (a temporary file in the same folder, then ``os.replace``), so a crash never leaves a
half-written model and a failed save leaves the old file intact.

The header records the format and its version, the chainrule version, the architecture, the
training history and free-form metadata (feature scaling, class labels, ...).
"""

from __future__ import annotations

import io as bytes_io
import json
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from tokenize import TokenError

import numpy as np

from .._version import __version__
from ..core.history import History
from ..core.network import Network
from ..core.validation import check_finite, not_a_file
from . import header as _header
from .atomic import atomic_open

__all__ = [
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "MODEL_FORMAT",
    "ModelFileError",
    "load",
    "read_archive",
    "save",
    "write_archive",
]

try:  # zipfile reads LZMA members when Python has lzma; their damage raises LZMAError
    from lzma import LZMAError

    _LZMA_ERRORS: tuple = (LZMAError,)
except ImportError:
    _LZMA_ERRORS = ()

MODEL_FORMAT = "chainrule-model"
FORMAT_VERSION = 1
_HEADER = "__header__"
MAX_HEADER_BYTES = 64 * 2**20
_MAX_NPY_PREAMBLE = 65536  # the .npy magic, version and header dict before the data
_MAX_RATIO = 8  # float parameters never compress that well; a bomb does
_READ_PIECE = 65536  # bytes of a member read at a time


class ModelFileError(ValueError):
    """A file that is not a readable chainrule archive: missing, truncated, tampered, newer."""


def write_archive(path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and the JSON ``header`` atomically to ``path`` (a file name, written
    through a temporary file and ``os.replace``, or a binary stream)."""
    header = {**header, "format_version": FORMAT_VERSION, "chainrule_version": __version__}
    encoded = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **{_HEADER: encoded}, **arrays)
        return
    with atomic_open(path) as stream:
        np.savez(stream, **{_HEADER: encoded}, **arrays)


def _member_bytes(archive: zipfile.ZipFile, name: str, limit: int, where: str) -> bytes:
    """The bytes of ``name.npy``, refused before reading if the archive declares more than
    ``limit``; decompression never goes past the declared size."""
    try:
        info = archive.getinfo(f"{name}.npy")
    except KeyError:
        what = "header" if name == _HEADER else f"{name!r} array"
        raise ModelFileError(f"{where} is not a chainrule model file (no {what})") from None
    if info.file_size > limit:
        raise ModelFileError(
            f"{where} declares {info.file_size} bytes for {name!r}, more than the "
            f"{limit} its header allows"
        )
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > _MAX_RATIO * max(
        info.compress_size, 4096
    ):
        raise ModelFileError(
            f"{where}: member {name!r} would expand {info.compress_size} bytes to "
            f"{info.file_size}, more than {_MAX_RATIO} times; refused as a decompression bomb"
        )
    # read a piece at a time, never more than one piece past the declared size: one read of
    # the whole limit would allocate it at once wherever a damaged entry declares a large
    # compressed size (a 2 KB file made Python reserve the 64 MiB limit)
    pieces, size = [], 0
    with archive.open(info) as member:
        while size <= info.file_size and (piece := member.read(_READ_PIECE)):
            pieces.append(piece)
            size += len(piece)
    data = b"".join(pieces)
    if len(data) != info.file_size:
        raise ModelFileError(f"{where} has a damaged {name!r} array (wrong length)")
    return data


def _parse_npy(data: bytes, name: str, where: str, shape: tuple | None, kinds: str) -> np.ndarray:
    """A ``.npy`` image as an array, after checking its dtype (no objects) and its shape
    against what the header declares, and its length against both."""
    stream = bytes_io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            found, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            found, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, SyntaxError, TypeError, TokenError, RecursionError) as error:
        # numpy parses the preamble with tokenize and ast: an unclosed bracket is a TokenError
        reason = error.args[0] if isinstance(error, TokenError) else error
        raise ModelFileError(f"{where} has a damaged {name!r} array ({reason})") from None
    if dtype.kind not in kinds or dtype.hasobject or dtype.itemsize not in (1, 4, 8):
        raise ModelFileError(f"{where}: array {name!r} has the unexpected dtype {dtype}")
    if shape is not None and tuple(found) != shape:
        raise ModelFileError(
            f"{where}: array {name!r} has shape {tuple(found)}, the header declares {shape}"
        )
    count = math.prod(found)
    if count * dtype.itemsize != len(data) - stream.tell():
        raise ModelFileError(f"{where}: array {name!r} is truncated or padded")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return array.reshape(found, order="F" if fortran else "C")


def _decode_header(data: bytes, where: str) -> dict:
    header_array = _parse_npy(data, _HEADER, where, None, "u")
    if header_array.ndim != 1:
        raise ModelFileError(f"{where} has a damaged header (not a byte string)")
    try:
        header = json.loads(header_array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        message = "nested too deeply" if isinstance(error, RecursionError) else error
        raise ModelFileError(f"{where} has a damaged header ({message})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{where} has a damaged header (not a JSON object)")
    return header


def _check_format(header: dict, expected_format: str, where: str) -> None:
    found = header.get("format")
    if found != expected_format:
        raise ModelFileError(f"{where} holds {found!r}, expected a {expected_format!r} file")
    version = header.get("format_version")
    if _header.is_int(version) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where} has format version {version}; this chainrule reads version "
            f"{FORMAT_VERSION}: upgrade chainrule"
        )
    if not _header.is_int(version) or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{where} has format version {version!r}, expected the integer {FORMAT_VERSION}"
        )
    if not isinstance(header.get("chainrule_version"), str):
        raise ModelFileError(f"{where} has no chainrule_version string in its header")


def read_archive(
    path, expected_format: str, arrays_of: Callable[[dict], dict[str, tuple]]
) -> tuple[dict, dict[str, np.ndarray]]:
    """Read what :func:`write_archive` wrote, trusting nothing in the file.

    The header is read first (at most :data:`MAX_HEADER_BYTES`) and checked: the format, the
    exact format version, then ``arrays_of(header)``, which validates the rest of the header
    and returns the arrays the format defines with their shapes. Each array member is refused
    before it is read if the archive declares more bytes than that shape needs; members the
    format does not define are never read, and a compressed member may expand at most
    eight times (chainrule writes members uncompressed). Arrays must be finite floats, so
    memory stays within a small multiple of the file's size.

    Raises
    ------
    ModelFileError
        For a missing file, a file that is not an archive, a truncated or tampered one, another
        format, another format version, or a header that does not fit the schema.
    """
    where = repr(os.fspath(path))
    problem = not_a_file(path)
    if problem:
        kind = expected_format.removeprefix("chainrule-")
        found = "does not exist" if problem == "missing" else f"is {problem}"
        raise ModelFileError(f"{kind} file {where} {found}")
    try:
        with zipfile.ZipFile(path) as archive:
            header = _decode_header(_member_bytes(archive, _HEADER, MAX_HEADER_BYTES, where), where)
            _check_format(header, expected_format, where)
            try:
                wanted = arrays_of(header)
            except _header.HeaderError as error:
                raise ModelFileError(f"{where} has an invalid header: {error}") from None
            arrays = {}
            for name, shape in wanted.items():
                limit = _MAX_NPY_PREAMBLE + 8 * math.prod(shape)
                data = _member_bytes(archive, name, limit, where)
                arrays[name] = _parse_npy(data, name, where, shape, "f")
                try:
                    check_finite(arrays[name], name)
                except ValueError as error:
                    raise ModelFileError(f"{where} holds unusable values: {error}") from None
    except ModelFileError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,  # bzip2's errors too
        ValueError,
        OverflowError,
        struct.error,
        zlib.error,
        *_LZMA_ERRORS,
    ) as error:
        raise ModelFileError(
            f"{where} is not a chainrule model file (not an .npz archive, or a damaged one: "
            f"{error})"
        ) from None
    except (NotImplementedError, RuntimeError) as error:  # an unsupported or encrypted member
        raise ModelFileError(f"{where} is not a readable chainrule model file ({error})") from None
    return header, arrays


def _model_arrays(header: dict) -> dict[str, tuple]:
    """The model header's schema: what :func:`save` writes."""
    _header.check_dict(
        header,
        "header",
        ("format", "format_version", "chainrule_version", "config", "history", "metadata"),
    )
    n_params = _header.check_config(header["config"])
    _header.check_history(header["history"])
    metadata = header["metadata"]
    _header.expect(isinstance(metadata, dict), "metadata", metadata, "an object")
    _header.check_depth(metadata, "metadata")
    return {"parameters": (n_params,)}


def save(network: Network, path, *, metadata: dict | None = None) -> None:
    """Save ``network`` (architecture, parameters, history, ``metadata``) to ``path``.

    Parameters
    ----------
    network : Network
    path : str, os.PathLike or binary stream
        Conventionally ending in ``.npz``. A path is written atomically: a temporary file in
        the same folder, then ``os.replace`` (a symbolic link is written through; a new file
        gets the umask's permissions, a replaced one keeps its mode).
    metadata : dict, optional
        JSON-ready extras stored in the header (the command line keeps its feature scaling
        and class labels here).
    """
    history = getattr(network, "history", None)
    header = {
        "format": MODEL_FORMAT,
        "config": network.config(),
        "history": None if history is None else history.to_dict(),
        "metadata": metadata or getattr(network, "metadata", None) or {},
    }
    write_archive(path, header, {"parameters": network.parameters})


def load(path) -> Network:
    """Load a network saved by :func:`save`; its ``history`` and ``metadata`` come back too.

    Raises
    ------
    ModelFileError
        If the file is missing, damaged, of another format or version, has a header that does
        not fit the schema, or holds NaN or infinite parameters. Nothing is allocated from
        the header's declared sizes before they are checked against the archive.
    """
    header, arrays = read_archive(path, MODEL_FORMAT, _model_arrays)
    try:
        network = Network.from_config(header["config"], arrays["parameters"])
        network.predict(np.zeros((1, network.n_inputs)))  # activations' parameters work
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise ModelFileError(f"{str(path)!r} has an inconsistent model ({error})") from None
    network.history = (
        None if header.get("history") is None else History.from_dict(header["history"])
    )
    network.metadata = header.get("metadata") or {}
    network.file_info = {
        "chainrule_version": header.get("chainrule_version"),
        "format_version": header.get("format_version"),
    }
    return network
