"""How a message names an optional extra: one spelling, for every extra, everywhere.

chainrule's optional features come with extras (``plot``, ``tables``, ``sklearn``, ...: the
``[project.optional-dependencies]`` of pyproject.toml). A message about a missing package names
the extra in two forms, since ``pip install "chainrule[plot]"`` works only where chainrule is
published, and a clone installs itself with ``pip install ".[plot]"``. Every such message in the
package is built here (tests/test_docs.py checks that no other module spells one out, and that
every extra named exists in pyproject.toml).
"""

from __future__ import annotations

__all__ = ["install_hint"]


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, for a published install and for a source checkout.

    Examples
    --------
    >>> install_hint("plot")
    'pip install "chainrule[plot]" (from a source checkout: pip install ".[plot]")'
    """
    return f'pip install "chainrule[{extra}]" (from a source checkout: pip install ".[{extra}]")'
