"""Training checkpoints: everything a resumed ``fit`` needs to continue bit for bit.

A checkpoint holds the parameters, the optimizer's state, the shuffling generator's state, the
seed's entropy, the last finished epoch, and each callback's state (History, EarlyStopping),
in the same atomic ``.npz`` + JSON archive as model files.
"""

from __future__ import annotations

import numpy as np

from .io import ModelFileError, read_archive, write_archive

CHECKPOINT_FORMAT = "chainrule-checkpoint"


def _split_arrays(prefix: str, state: dict, arrays: dict) -> dict:
    """Move the arrays of ``state`` into ``arrays`` (under ``prefix/key``); return the rest."""
    plain = {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}/{key}"] = value
            plain[key] = {"__array__": f"{prefix}/{key}"}
        elif isinstance(value, dict):
            plain[key] = _split_arrays(f"{prefix}/{key}", value, arrays)
        else:
            plain[key] = value
    return plain


def _join_arrays(state, arrays: dict):
    if isinstance(state, dict) and set(state) == {"__array__"}:
        return arrays[state["__array__"]]
    if isinstance(state, dict):
        return {key: _join_arrays(value, arrays) for key, value in state.items()}
    return state


def save_checkpoint(
    path, network, optimizer, lr0: float, epoch: int, rng, entropy, callbacks
) -> None:
    """Write the state after ``epoch`` (0-based) to ``path`` atomically."""
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
    }
    write_archive(path, header, arrays)


def load_checkpoint(path, network, optimizer) -> dict:
    """Load a checkpoint into ``network`` and ``optimizer``; return the loop's state.

    Raises
    ------
    ModelFileError
        If the file is not a checkpoint, or was written for another architecture or optimizer.
    """
    header, arrays = read_archive(path, CHECKPOINT_FORMAT)
    if header["config"]["layers"] != network.config()["layers"]:
        raise ModelFileError(f"checkpoint {str(path)!r} was written for another architecture")
    saved = _join_arrays(header["optimizer"], arrays)
    if saved["config"]["name"] != type(optimizer).__name__:
        raise ModelFileError(
            f"checkpoint {str(path)!r} was written with optimizer "
            f"{saved['config']['name']}, not {type(optimizer).__name__}"
        )
    network.set_parameters(arrays["parameters"])
    optimizer.load_state_dict(saved)
    return {
        "epoch": header["epoch"],
        "lr0": header["lr0"],
        "entropy": header["entropy"],
        "rng_state": header["rng_state"],
        "callbacks": _join_arrays(header["callbacks"], arrays),
    }
