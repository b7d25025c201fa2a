"""Training checkpoints: everything a resumed ``fit`` needs to continue bit for bit.

A checkpoint holds the parameters, the optimizer's state, the shuffling generator's state, the
seed's entropy, the last finished epoch, each callback's state (History, EarlyStopping) and,
when training ended early, what stopped it (``stopped``: ``{'by': ..., 'reason': ...}``), in
the same atomic ``.npz`` + JSON archive as model files, checked as strictly on load.
"""

from __future__ import annotations

import numpy as np

from ..optim.optimizers import renamed_keys
from . import header as _header
from .model_file import ModelFileError, read_archive, write_archive

__all__ = ["CHECKPOINT_FORMAT", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "chainrule-checkpoint"


def _split_arrays(prefix: str, state: dict, arrays: dict) -> dict:
    """Move the arrays of ``state`` into ``arrays`` (under ``prefix/key``); return the rest."""
    plain = {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}/{key}"] = value
            plain[key] = {"__array__": f"{prefix}/{key}", "shape": list(value.shape)}
        elif isinstance(value, dict):
            plain[key] = _split_arrays(f"{prefix}/{key}", value, arrays)
        else:
            plain[key] = value
    return plain


def _is_reference(state) -> bool:
    return isinstance(state, dict) and set(state) == {"__array__", "shape"}


def _join_arrays(state, arrays: dict):
    if _is_reference(state):
        return arrays[state["__array__"]]
    if isinstance(state, dict):
        return {key: _join_arrays(value, arrays) for key, value in state.items()}
    return state


def _renamed_optimizer_keys(saved):
    """The optimizer part of a checkpoint, with the keys of chainrule 0.1 (``'lr'`` in it,
    ``'lr'``, ``'beta1'``, ``'eps'``... in its ``'config'``) under their new names, silently:
    its checkpoints still load. Anything but a dict is left for the schema to refuse."""
    if not isinstance(saved, dict):
        return saved
    saved = renamed_keys(saved)
    if isinstance(saved.get("config"), dict):
        saved["config"] = renamed_keys(saved["config"])
    return saved


def _checkpoint_arrays(header: dict) -> dict[str, tuple]:
    """The checkpoint header's schema (its optimizer part read under the new names, see
    :func:`_renamed_optimizer_keys`); the arrays it refers to, with their declared shapes."""
    _header.check_dict(
        header,
        "header",
        (
            "format",
            "format_version",
            "chainrule_version",
            "config",
            "epoch",
            "lr0",
            "entropy",
            "rng_state",
            "optimizer",
            "callbacks",
        ),
        ("stopped",),
    )
    n_params = _header.check_config(header["config"])
    _header.expect(
        _header.is_int(header["epoch"]) and header["epoch"] >= 0,
        "epoch",
        header["epoch"],
        "an integer >= 0",
    )
    _header.expect(_header.is_number(header["lr0"]), "lr0", header["lr0"], "a number")
    _header.expect(
        _header.is_int(header["entropy"]) and header["entropy"] >= 0,
        "entropy",
        header["entropy"],
        "an integer >= 0",
    )
    stopped = header.get("stopped")
    if stopped is not None:
        _header.check_dict(stopped, "stopped", ("by", "reason"))
        _header.expect(
            all(isinstance(stopped[key], str) for key in ("by", "reason")),
            "stopped",
            stopped,
            "two strings, 'by' and 'reason'",
        )
    header["optimizer"] = _renamed_optimizer_keys(header["optimizer"])
    _header.check_dict(
        header["optimizer"], "optimizer", ("config", "steps", "learning_rate", "state")
    )
    wanted = {"parameters": (n_params,)}
    for part in ("rng_state", "optimizer", "callbacks"):
        _header.expect(isinstance(header[part], dict), part, header[part], "an object")
        _header.check_depth(header[part], part)
        pending = [header[part]]
        while pending:
            item = pending.pop()
            if isinstance(item, dict) and "__array__" in item and not _is_reference(item):
                raise _header.HeaderError(
                    f"{part}: an array reference must be {{'__array__': name, 'shape': [...]}}, "
                    f"got {sorted(item)}"
                )
            if _is_reference(item):
                name, shape = item["__array__"], item["shape"]
                _header.expect(
                    isinstance(name, str) and name.startswith(f"{part}/"),
                    f"{part}: an array name",
                    name,
                    f"a string starting with '{part}/'",
                )
                _header.expect(
                    isinstance(shape, list) and all(_header.is_int(n) and n >= 0 for n in shape),
                    f"{part}: the shape of {name!r}",
                    shape,
                    "a list of integers >= 0",
                )
                wanted[name] = tuple(shape)
            elif isinstance(item, dict):
                pending.extend(item.values())
    return wanted


def save_checkpoint(
    path,
    network,
    optimizer,
    *,
    lr0: float,
    epoch: int,
    rng,
    entropy,
    callbacks,
    stopped=None,
) -> None:
    """Write the state after ``epoch`` (0-based) to ``path`` atomically: the parameters of
    ``network``, the state of ``optimizer``, the run's initial rate ``lr0``, the shuffling
    generator ``rng``, the seed's ``entropy`` and the ``callbacks``' states; ``stopped`` records
    why training ended early (``{'by': ..., 'reason': ...}``), if it did."""
    arrays = {"parameters": network.parameters}
    states = {type(c).__name__: c.state_dict() for c in callbacks if c.state_dict()}
    header = {
        "format": CHECKPOINT_FORMAT,
        "config": network.config(),
        "epoch": epoch,
        "lr0": lr0,
        "entropy": int(entropy),
        "rng_state": rng.bit_generator.state,
        "optimizer": _split_arrays(
            "optimizer", {"config": optimizer.config(), **optimizer.state_dict()}, arrays
        ),
        "callbacks": _split_arrays("callbacks", states, arrays),
        "stopped": stopped,
    }
    write_archive(path, header, arrays)


def load_checkpoint(path, network, optimizer) -> dict:
    """Load a checkpoint into ``network`` and ``optimizer``; return the loop's state.

    Raises
    ------
    ModelFileError
        If the file is not a valid checkpoint, or was written for another architecture or
        optimizer. The network and optimizer are changed only when the whole file is usable.
    """
    header, arrays = read_archive(path, CHECKPOINT_FORMAT, _checkpoint_arrays)
    if header["config"]["layers"] != network.config()["layers"]:
        raise ModelFileError(f"checkpoint {str(path)!r} was written for another architecture")
    saved = _join_arrays(header["optimizer"], arrays)
    name = saved["config"].get("name") if isinstance(saved["config"], dict) else None
    if name != type(optimizer).__name__:
        raise ModelFileError(
            f"checkpoint {str(path)!r} was written with optimizer {name}, "
            f"not {type(optimizer).__name__}"
        )
    restored = type(optimizer)(**optimizer.hyperparameters())
    try:
        restored.load_state_dict(saved)
        np.random.default_rng(0).bit_generator.state = header["rng_state"]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(f"checkpoint {str(path)!r} has an unusable state ({error})") from None
    network.set_parameters(arrays["parameters"])
    optimizer.load_state_dict(saved)
    return {
        "epoch": header["epoch"],
        "lr0": header["lr0"],
        "entropy": header["entropy"],
        "rng_state": header["rng_state"],
        "callbacks": _join_arrays(header["callbacks"], arrays),
        "stopped": header.get("stopped"),
    }
