"""Old spellings kept for one release: each use says, with a ``FutureWarning``, what replaces it.

Two kinds: a module moved into a subpackage (:class:`MovedModules`, an import hook, so that
``import chainrule.io`` and old pickles still work), and any other value under an old name
(:func:`warn_renamed`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MovedModules", "REMOVED_IN", "warn_renamed"]

REMOVED_IN = "0.3"


def warn_renamed(old: str, new: str, stacklevel: int = 3) -> None:
    """Say that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in chainrule {REMOVED_IN}; use {new}",
        FutureWarning,
        stacklevel=stacklevel,
    )


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
