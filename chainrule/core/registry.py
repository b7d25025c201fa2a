"""Name lookup shared by the activation and loss registries."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["lookup"]


def lookup(registry: dict[str, Callable], spec, kind: str, cls: type):
    """Build the entry ``spec`` names: a name, a ``{'name': ..., **params}`` dict, or an instance.

    Raises
    ------
    ValueError
        For an unknown name (listing the known ones) or parameters the entry does not take.
    """
    if isinstance(spec, cls):
        return spec
    params: dict = {}
    if isinstance(spec, dict):
        params = dict(spec)
        spec = params.pop("name", None)
    if not isinstance(spec, str) or spec.lower() not in registry:
        raise ValueError(f"unknown {kind} {spec!r}; known: {', '.join(sorted(registry))}")
    try:
        return registry[spec.lower()](**params)
    except TypeError as error:
        raise ValueError(f"bad parameters {params!r} for {kind} {spec!r}: {error}") from None
