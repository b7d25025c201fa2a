"""Model files: ``.npz`` archives with a JSON header, read with ``allow_pickle=False`` and written
atomically (a temporary file in the same folder, then ``os.replace``), so a crash never leaves a
half-written model and a failed save leaves the old file intact.

The header records the format and its version, the chainrule version, the architecture, the
training history and free-form metadata (feature scaling, class labels, ...).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ._atomic import atomic_open
from .network import Network

MODEL_FORMAT = "chainrule-model"
FORMAT_VERSION = 1
_HEADER = "__header__"


class ModelFileError(ValueError):
    """A file that is not a readable chainrule archive: missing, truncated, tampered, newer."""


def write_archive(path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and the JSON ``header`` to ``path`` atomically."""
    from . import __version__

    path = Path(path)
    header = {**header, "format_version": FORMAT_VERSION, "chainrule_version": __version__}
    encoded = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with atomic_open(path) as stream:
        np.savez(stream, **{_HEADER: encoded}, **arrays)


def read_archive(path, expected_format: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Read what :func:`write_archive` wrote, checking the format and its version.

    Raises
    ------
    ModelFileError
        For a missing file, a file that is not an archive, a truncated or tampered one, another
        format, or a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{str(path)!r} is not a chainrule model file (not an .npz archive, or a truncated one)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as error:
        raise ModelFileError(
            f"{str(path)!r} is not a readable chainrule model file ({error})"
        ) from None
    if _HEADER not in arrays:
        raise ModelFileError(f"{str(path)!r} is not a chainrule model file (no header)")
    try:
        header = json.loads(arrays.pop(_HEADER).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{str(path)!r} has a damaged header ({error})") from None
    if not isinstance(header, dict) or header.get("format") != expected_format:
        found = header.get("format") if isinstance(header, dict) else None
        raise ModelFileError(f"{str(path)!r} holds {found!r}, expected a {expected_format!r} file")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} has format version {version!r}; this chainrule reads versions up "
            f"to {FORMAT_VERSION}: upgrade chainrule"
        )
    return header, arrays


def save(network: Network, path, *, metadata: dict | None = None) -> None:
    """Save ``network`` (architecture, parameters, history, ``metadata``) to ``path``.

    Parameters
    ----------
    network : Network
    path : str or os.PathLike
        Conventionally ending in ``.npz``.
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
        If the file is missing, damaged, of another format or of a newer version.
    """
    from .callbacks import History

    header, arrays = read_archive(path, MODEL_FORMAT)
    try:
        network = Network.from_config(header["config"], arrays["parameters"])
    except (KeyError, TypeError, ValueError) as error:
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
