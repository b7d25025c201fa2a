"""What the activation and loss registries share: looking an entry up by name, and an entry's
config, pickling by name and repr."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Registered", "lookup"]


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


class Registered:
    """An entry of a registry, rebuilt from its name and ``params`` by the registry's ``get``
    (the subclass's ``_get``): its config, its pickle (by name: the functions are rebuilt, not
    serialised) and its repr all come from them."""

    name: str
    params: dict

    def config(self) -> dict:
        """A JSON-ready description that the registry's ``get`` turns back into this entry."""
        return {"name": self.name, **self.params}

    def __reduce__(self):
        return type(self)._get, (self.config(),)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({self.name!r}{', ' + args if args else ''})"
