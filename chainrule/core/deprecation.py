"""Old spellings kept for one release: each use says, with a ``FutureWarning``, what replaces it.

Three kinds: a module moved into a subpackage (:class:`MovedModules`, an import hook, so that
``import chainrule.io`` and old pickles still work), a keyword argument under its old name
(:func:`renamed_arguments`), and any other value under an old name (:func:`warn_renamed`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import inspect
import sys
import warnings
from collections.abc import Callable

__all__ = ["MovedModules", "REMOVED_IN", "renamed_arguments", "warn_renamed"]

REMOVED_IN = "0.3"


def warn_renamed(old: str, new: str, stacklevel: int = 3) -> None:
    """Say that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in chainrule {REMOVED_IN}; use {new}",
        FutureWarning,
        stacklevel=stacklevel,
    )


def renamed_arguments(**old_to_new: str) -> Callable[[Callable], Callable]:
    """A decorator that still accepts each old keyword argument, as its new name, with a warning.

    Parameters
    ----------
    **old_to_new : str
        Each old keyword's new name, a parameter of the decorated function:
        ``@renamed_arguments(T="y")`` lets ``f(X, T=targets)`` call ``f(X, y=targets)`` after a
        ``FutureWarning``.

    Returns
    -------
    callable
        The decorator. The function it returns has the decorated one's name, docstring and
        signature (``inspect.signature`` shows only the new names) and raises ``TypeError``
        when a call gives an argument under both spellings.

    Raises
    ------
    TypeError
        At decoration, if a new name is not a parameter of the function.
    """

    def decorate(function: Callable) -> Callable:
        positions = _parameter_positions(function, old_to_new)
        shown = function.__qualname__.removesuffix(".__init__")

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if kwargs and not old_to_new.keys().isdisjoint(kwargs):
                _translate(shown, old_to_new, positions, args, kwargs)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def _parameter_positions(function: Callable, old_to_new: dict[str, str]) -> dict[str, int | None]:
    """Each new name's position among the positional parameters (None: keyword-only)."""
    parameters = inspect.signature(function).parameters
    positional = [
        name
        for name, parameter in parameters.items()
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]
    for old, new in old_to_new.items():
        if new not in parameters:
            raise TypeError(
                f"{function.__qualname__} has no parameter {new!r} to rename {old!r} to; "
                f"its parameters are {', '.join(parameters)}"
            )
    return {
        new: positional.index(new) if new in positional else None for new in old_to_new.values()
    }


def _translate(shown: str, old_to_new: dict, positions: dict, args: tuple, kwargs: dict) -> None:
    """Move each old keyword in ``kwargs`` to its new name, with a warning to the caller."""
    for old, new in old_to_new.items():
        if old not in kwargs:
            continue
        position = positions[new]
        if new in kwargs or (position is not None and len(args) > position):
            raise TypeError(
                f"{shown}() got both {old!r} and {new!r}; pass only {new!r} ({old!r} is its "
                "deprecated name)"
            )
        # the caller of the decorated function: warn_renamed, _translate, wrapper, caller
        warn_renamed(f"{shown}({old}=...)", f"{new}=...", stacklevel=4)
        kwargs[new] = kwargs.pop(old)


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``chainrule.<old>`` as the module it moved to, with a ``FutureWarning``."""

    def __init__(self, package: str, moved: dict[str, str]):
        self.package = package
        self.moved = moved
        self._specs = {}  # the moved modules' own specs

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.rpartition(".")
        if prefix != self.package or name not in self.moved:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = f"{self.package}.{self.moved[spec.name.rpartition('.')[2]]}"
        warn_renamed(f"the module {spec.name}", new, stacklevel=2)
        module = importlib.import_module(new)
        self._specs[new] = module.__spec__
        return module

    def exec_module(self, module):
        """The module it moved to is already executed; importlib gave it the old name's spec,
        which is put back (so pickles and reloads see where it lives now)."""
        module.__spec__ = self._specs[module.__name__]

    def install(self) -> None:
        if not any(isinstance(f, MovedModules) for f in sys.meta_path):
            sys.meta_path.append(self)
